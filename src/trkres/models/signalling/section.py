"""The signalling report section: runs when study.yaml gives ``options: {signalling: …}``.

No input file: the genotypes and treatments come from the options. The section shows what
the model predicts and what the prediction rests on (potencies and parameters with sources).
"""

from __future__ import annotations

from trkres.models.signalling.options import SignalOptions
from trkres.models.signalling.run import SUMMARY, TABLE_TITLES, run_signal
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
    result = run_signal(opts, knowledge=ctx.knowledge, progress=ctx.progress)
    tables = [
        Table(f"signal_{name}", frame, TABLE_TITLES.get(name, name),
              in_report=name not in _NOT_IN_REPORT and len(frame) > 0)
        for name, frame in result.items()
    ]  # fmt: skip
    flags = [Flag("warning", text) for text in result.warnings]
    flags += [Flag("info", text) for text in result.notes]
    facts = {a.fact for g in result.genotypes for a in g.alterations if a.fact}
    facts |= {
        part.removeprefix("fact:")
        for source in result["potencies"]["source"]
        for part in str(source).split()
        if part.startswith("fact:")
    }
    return Section(name="signalling", title="Signalling model: predicted response by genotype",
                   summary=SUMMARY, tables=tables, figures=signal_figures(result), flags=flags,
                   facts_used=facts)  # fmt: skip
