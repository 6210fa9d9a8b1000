"""The drug-combination report section: synergy scores, surfaces and re-sensitisation.

Thin: :func:`~trkres.assays.synergy.run.run_synergy` computes, :mod:`trkres.pl.synergy`
draws; this module gathers the study's inputs and words the tables and summary.
"""

from __future__ import annotations

from trkres.assays.synergy.combination_index import CI_UNBOUNDED
from trkres.assays.synergy.io import Combinations, from_frame
from trkres.assays.synergy.options import SynergyOptions
from trkres.assays.synergy.run import SynergyResult, run_synergy
from trkres.report.model import Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

__all__ = ["SynergyOptions", "study_inputs", "synergy_analysis", "synergy_section"]

_TITLE = "Drug combinations: synergy and re-sensitisation"


def synergy_section(result: SynergyResult, source: str = "") -> Section:
    """The report section of a scored result (tables, figures, flags). Pure: no files."""
    from trkres.pl.synergy import synergy_figures

    opts = result.options
    titles = {
        "synergy_summary": Table("synergy_summary", result.summary, "Synergy per block",
              caption="Scores in percentage points of inhibition (observed − expected; > 0 synergy); "
                      "CSS in % inhibition; status labels degenerate blocks; loewe_basis says whether the "
                      "Loewe score rests on Loewe's equation or mostly on its fallback; ci_note says why a CI "
                      "is missing."),
        "synergy_matrix": Table("synergy_matrix", result.matrix, "Synergy per dose pair", in_report=False),
        "synergy_single_drugs": Table("synergy_single_drugs", result.singles, "Single-drug fits (IC50 in molar)"),
        "synergy_musyc": Table("synergy_musyc", result.musyc, "MuSyC: potency (α) and efficacy (β) synergy",
                               caption="log10 α > 0: potency synergy; β > 0: efficacy synergy; asymptotic 95% CIs."),
        "synergy_combination_index": Table("synergy_combination_index", result.combination_index,
                                           "Chou–Talalay combination index (fixed-ratio rays)",
                                           caption=f"CI < 1 is synergy; inf = unbounded (above {CI_UNBOUNDED:g})."),
        "synergy_proliferation": Table("synergy_proliferation", result.proliferation,
                                       "Combination vs single agents (% viability)", max_rows=200),
    }  # fmt: skip
    if result.resensitisation is not None:
        titles["synergy_resensitisation"] = Table("synergy_resensitisation", result.resensitisation,
                                                  f"Re-sensitisation: each line vs '{opts.reference}'",
                                                  caption="Differences are line − reference (percentage points); percentile bootstrap CIs.")  # fmt: skip
    summary = result.summary
    return Section(
        name="synergy",
        title=_TITLE,
        summary=(
            f"{len(summary)} block(s) of {result.n_drugs}-drug combinations{source}. Scores follow "
            "SynergyFinder 3's definitions (% inhibition, observed − expected, > 0 synergy): Bliss and HSA on "
            "the observed single agents, Loewe and ZIP on fitted four-parameter single-drug curves; summary = mean "
            f"over the cells where every drug is present. {summary['ci_method'].iloc[0] if len(summary) else ''}."
        ),
        tables=[titles[name] for name in result.tables()],
        figures=synergy_figures(result),
        flags=list(result.flags),
    )


def study_inputs(ctx: AnalysisContext, opts: SynergyOptions) -> list[Combinations]:
    """Every combination input of the study, then every multi-drug plate (as % viability)."""
    from trkres.assays.plates.run import study_plates
    from trkres.assays.plates.wells import drug_count, to_combinations
    from trkres.assays.synergy.io import read_combinations

    parts = [read_combinations(p, response=opts.response, conc_unit=opts.conc_unit)
             for p in ctx.paths(InputKind.combination)]  # fmt: skip
    for name, wells in study_plates(ctx):
        if drug_count(wells) >= 2:
            parts.append(from_frame(to_combinations(wells), response="viability", path=name))
    return parts


@register("synergy", _TITLE, any_of={InputKind.combination, InputKind.plate},
          options=SynergyOptions, order=250)  # fmt: skip
def synergy_analysis(ctx: AnalysisContext) -> Section:
    """Read every combination input (and every multi-drug plate) of the study and score it."""
    opts = ctx.options if isinstance(ctx.options, SynergyOptions) else SynergyOptions()
    parts = study_inputs(ctx, opts)
    if not parts:
        return Section(name="synergy", title=_TITLE,
                       summary="No combination data: the study's plates hold single drugs only.")  # fmt: skip
    # A study without the reference line is labelled (no_reference_block), not failed.
    return synergy_section(run_synergy(parts, opts, strict_reference=False))
