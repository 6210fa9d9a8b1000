"""The signalling report section: runs when study.yaml gives ``options: {signalling: …}``.

No input file: the genotypes and treatments come from the options. The section shows what
the model predicts and what the prediction rests on (potencies and parameters with sources).
"""

from __future__ import annotations

import re

from trkres.errors import InputError
from trkres.models.signalling.options import SignalOptions
from trkres.models.signalling.run import SUMMARY, TABLE_TITLES, facts_used, run_signal
from trkres.report.model import Flag, Section, Table
from trkres.study.registry import AnalysisContext, register

#: Tables written to TSV but too long to be useful in the HTML page.
_NOT_IN_REPORT = {"levels", "dose_response", "parameters"}


@register(
    "signalling",
    "Signalling model: predicted response by genotype",
    options=SignalOptions,
    order=700,
    on_options=True,
)
def signalling_section(ctx: AnalysisContext) -> Section:
    """The study's genotypes × treatments through the TRK signalling model."""
    from trkres.pl.signalling import signal_figures

    opts = ctx.options if isinstance(ctx.options, SignalOptions) else SignalOptions()
    try:
        result = run_signal(opts, knowledge=ctx.knowledge, progress=ctx.progress)
    except InputError as exc:
        # "genotype 2: …" → the line of study.yaml that holds that genotype
        which = re.match(r"(genotype|treatment) (\d+):", exc.message)
        if which and exc.location is None:
            exc.location = ctx.study.document.locate(
                ("options", "signalling", f"{which[1]}s", int(which[2]) - 1)
            )
        raise
    tables = [
        Table(f"signalling_{name}", frame, TABLE_TITLES.get(name, name),
              in_report=name not in _NOT_IN_REPORT and len(frame) > 0)
        for name, frame in result.items()
    ]  # fmt: skip
    flags = [Flag("warning", text) for text in result.warnings]
    flags += [Flag("info", text) for text in result.notes]
    facts = facts_used(result)
    return Section(name="signalling", title="Signalling model: predicted response by genotype",
                   summary=SUMMARY, tables=tables, figures=signal_figures(result, prefix="signalling"), flags=flags,
                   facts_used=facts)  # fmt: skip
