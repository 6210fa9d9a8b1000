"""The evolution report section: one block of tables and figures per scenario input."""

from __future__ import annotations

import pandas as pd

from trkres.errors import InputError
from trkres.models.evolution.options import EvolutionOptions
from trkres.models.evolution.run import TABLE_TITLES, EvolutionResult, run_evolution
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

SUMMARY = (
    "Virtual patients of a multi-type birth–death model (Bozic et al., eLife 2013): the tumour "
    "grows from sensitive cells to the detection size, mutants arise at divisions, and each "
    "regimen's steps raise the death rate of cells exposed to a drug they do not resist. "
    "Progression: total above progression_size and ≥ 1.2 × the lowest total of the step. "
    "P(cure): 0 cells before the horizon, Clopper–Pearson 95% CIs; median time to progression "
    "among patients who progressed, with an order-statistic 95% CI."
)

#: Tables written to TSV but too long for the HTML page.
_NOT_IN_REPORT = {"patients", "km"}


def flags(result: EvolutionResult, label: str = "") -> list[Flag]:
    """The run's notes (engine, approximations) and warnings."""
    where = f"{label}: " if label else ""
    out = [Flag("warning", where + text) for text in result.warnings]
    out += [Flag("info", where + note) for note in result.notes]
    return out


@register(
    "evolution",
    "Tumour evolution under regimens",
    requires={InputKind.evolution_scenario},
    options=EvolutionOptions,
    order=900,
)
def evolution_section(ctx: AnalysisContext) -> Section:
    """Every scenario of the study, each simulated with the study's evolution options."""
    from trkres.pl.evolution import evolution_figures

    opts = ctx.options if isinstance(ctx.options, EvolutionOptions) else EvolutionOptions()
    inputs = ctx.study.inputs_of(InputKind.evolution_scenario)
    frames: dict[str, list[pd.DataFrame]] = {}
    figures: list[Figure] = []
    found: list[Flag] = []
    for i, item in enumerate(inputs):
        ctx.progress(i, len(inputs), f"evolution: {item.name}")
        try:
            result = run_evolution(ctx.study.path_of(item), opts)
        except InputError as exc:
            if exc.location is None and len(inputs) > 1:
                exc.message = f"scenario {item.name!r} ({item.path}): {exc.message}"
            raise
        label = item.name if len(inputs) > 1 else ""
        for name, frame in result.items():
            frames.setdefault(name, []).append(frame.assign(scenario=label) if label else frame)
        figures.extend(
            evolution_figures(result, prefix=f"evolution_{label}" if label else "evolution")
        )
        found.extend(flags(result, label))
    tables = [
        Table(f"evolution_{name}", pd.concat(parts, ignore_index=True), TABLE_TITLES.get(name, name),
              in_report=name not in _NOT_IN_REPORT)
        for name, parts in frames.items()
    ]  # fmt: skip
    return Section(name="evolution", title="Tumour evolution under regimens", summary=SUMMARY,
                   tables=tables, figures=figures, flags=found)  # fmt: skip
