"""The in vivo report section: one block of tables and figures per tumour-volume input."""

from __future__ import annotations

import pandas as pd

from trkres.assays.invivo.options import InvivoOptions
from trkres.assays.invivo.run import TABLE_TITLES, InvivoResult, run_invivo
from trkres.errors import InputError
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

SUMMARY = (
    "Tumour volumes per mouse (mm³; caliper volume = length · width² / 2). mRECIST as Gao et al. "
    "2015 (ΔVol from each mouse's first day; best response and best average response over "
    "t ≥ 10 days). T/C and TGI as NCI (Δ of arm means from the start). Growth model: "
    "log(V_t/V_0) ~ 0 + time:arm with a random slope per mouse, REML, as SynergyLMM; "
    "synergy over time by Bliss, HSA and response additivity (Demidenko & Miller 2019). "
    "Kaplan–Meier to the endpoint, log-rank and Cox hazard ratios against the control."
)


def flags(result: InvivoResult, label: str = "") -> list[Flag]:
    """What a reader should notice: unused rows, a model that did not converge, the decisions."""
    where = f"{label}: " if label else ""
    out = [Flag("warning", where + text) for text in result.warnings]
    out += [Flag("info", where + note) for note in result.notes]
    issues = result.tables.get("issues")
    if issues is not None and len(issues):
        out.append(Flag("warning", f"{where}{len(issues)} of {result.rows_in} row(s) not used "
                        "(see the table of rows not used): "
                        + ", ".join(sorted(set(issues["action"].astype(str))))[:300]))  # fmt: skip
    said = f"growth model: {result.fit.message}" if result.fit is not None else ""
    if result.fit is not None and not result.fit.converged and said not in result.warnings:
        out.append(Flag("warning", where + said))
    return out


#: Tables written to TSV but too long to be useful in the HTML page.
_NOT_IN_REPORT = {"residuals", "km", "model_excluded"}


@register(
    "invivo",
    "In vivo tumour growth",
    any_of={InputKind.tumour_volumes, InputKind.xenograft},
    options=InvivoOptions,
    order=320,
)
def invivo_section(ctx: AnalysisContext) -> Section:
    """Every tumour-volume input of the study, each analysed as its own experiment."""
    from trkres.pl.invivo import invivo_figures

    opts = ctx.options if isinstance(ctx.options, InvivoOptions) else InvivoOptions()
    inputs = ctx.study.inputs_of(InputKind.tumour_volumes) + ctx.study.inputs_of(
        InputKind.xenograft
    )
    frames: dict[str, list[pd.DataFrame]] = {}
    figures: list[Figure] = []
    found: list[Flag] = []
    for i, item in enumerate(inputs):
        path = ctx.study.path_of(item)
        ctx.progress(i, len(inputs), f"in vivo: {item.name}")
        try:
            result = run_invivo(path, opts)
        except InputError as exc:
            if exc.location is None and len(inputs) > 1:  # say which experiment it was
                exc.message = f"in vivo input {item.name!r} ({item.path}): {exc.message}"
            raise
        label = item.name if len(inputs) > 1 else ""
        for name, frame in result.items():
            frames.setdefault(name, []).append(frame.assign(experiment=label) if label else frame)
        figures.extend(invivo_figures(result, prefix=f"invivo_{label}" if label else "invivo"))
        found.extend(flags(result, label))
    tables = [
        Table(
            f"invivo_{name}",
            pd.concat(parts, ignore_index=True),
            TABLE_TITLES.get(name, name),
            in_report=name not in _NOT_IN_REPORT,
        )
        for name, parts in frames.items()
    ]
    return Section(name="invivo", title="In vivo tumour growth", summary=SUMMARY,
                   tables=tables, figures=figures, flags=found)  # fmt: skip
