"""The western report section: each blot measured, then replicate blots combined."""

from __future__ import annotations

import pandas as pd

from trkres.assays.western.options import BlotOptions
from trkres.assays.western.run import TABLE_TITLES, BlotResult, run_blot
from trkres.errors import InputError
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

SUMMARY = (
    "Each blot image is inverted when it is a dark-on-light scan (said per image), lanes are "
    "found from the column profile after ImageJ's rolling ball, bands as peaks of each lane's "
    "profile (or the ROIs given), and each band's volume is its integrated signal above the "
    "chosen background; a band with a pixel at the detector maximum flags its lane and never "
    "enters a ratio. Targets are divided by the loading control of the same lane, fold changes "
    "taken against the blot's control lanes, and replicate blots combined on the log2 scale "
    "(t-based 95% CI; paired t-tests where every blot has both conditions, Welch otherwise; Holm)."
)

#: Long per-band tables: written to TSV, not shown in the HTML page.
_NOT_IN_REPORT = {"bands", "lanes", "rois", "signals"}


def flags(result: BlotResult, label: str) -> list[Flag]:
    """Warnings (saturated lanes, lossy images) and the decisions taken, per blot."""
    out = [Flag("warning", f"{label}: {w}") for w in result.warnings]
    out += [Flag("info", f"{label}: {n}") for n in result.notes]
    cv = result.tables.get("loading_cv")
    if cv is not None and "flag" in cv and cv["flag"].astype(bool).any():
        out.append(
            Flag("warning", f"{label}: loading control CV above the threshold (uneven loading)")
        )
    return out


@register(
    "western",
    "Western blots",
    any_of={InputKind.western, InputKind.western_blot},
    options=BlotOptions,
    order=330,
)
def western_section(ctx: AnalysisContext) -> Section:
    """Every western input (target image, loading control, lane layout), then the replicates."""
    from trkres.assays.western.quantify import (
        compare_conditions,
        distinct_blots,
        replicate_summary,
    )
    from trkres.pl.western import western_figures

    opts = ctx.options if isinstance(ctx.options, BlotOptions) else BlotOptions()
    inputs = ctx.study.inputs_of(InputKind.western) + ctx.study.inputs_of(InputKind.western_blot)
    frames: dict[str, list[pd.DataFrame]] = {}
    figures: list[Figure] = []
    found: list[Flag] = []
    for i, item in enumerate(inputs):
        ctx.progress(i, len(inputs), f"western: {item.name}")
        folder = ctx.study.folder
        options = opts.model_copy(update={"target": item.target}) if item.target else opts
        try:
            result = run_blot(
                ctx.study.path_of(item), options,
                loading=folder / item.loading_control if item.loading_control else None,
                layout=folder / item.layout if item.layout else None,
                rois=folder / item.rois if item.rois else None,
                blot=item.blot or item.name,
            )  # fmt: skip
        except InputError as exc:
            if exc.location is None:
                exc.message = f"western input {item.name!r} ({item.path}): {exc.message}"
            raise
        for name, frame in result.items():
            frames.setdefault(name, []).append(frame.assign(input=item.name))
        figures.extend(western_figures(result, prefix=f"western_{item.name}"))
        found.extend(flags(result, item.name))
    tables = [
        Table(
            f"western_{name}",
            pd.concat(parts, ignore_index=True),
            TABLE_TITLES.get(name, name),
            in_report=name not in _NOT_IN_REPORT,
        )
        for name, parts in frames.items()
    ]
    quantified = frames.get("quantified")
    if quantified:
        fc = pd.concat(quantified, ignore_index=True)
        if "fold_change" in fc:
            names = [f"western input {t['input'].iloc[0]!r}" if len(t) else "a western input"
                     for t in quantified]  # fmt: skip
            distinct_blots(quantified, names, "blot: in study.yaml")
            tables.append(Table("western_replicates", replicate_summary(fc),
                                "Replicate blots combined: geometric mean fold change with 95% CI"))  # fmt: skip
            tables.append(Table("western_tests", compare_conditions(fc),
                                "Conditions compared (t-tests on log2 fold change, Holm-adjusted)"))  # fmt: skip
    return Section(name="western", title="Western blots", summary=SUMMARY, tables=tables,
                   figures=figures, flags=found)  # fmt: skip
