"""The cfDNA report section: VAF over time, molecular response, emergence."""

from __future__ import annotations

from trkres.genomics.cfdna import CfdnaResult
from trkres.genomics.cfdna_options import CfdnaOptions
from trkres.genomics.cfdna_run import run_cfdna
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

__all__ = ["cfdna_section"]


def figures(result: CfdnaResult) -> list[Figure]:
    """The section's figure (none without measurements)."""
    from trkres.pl.monitoring import cfdna_figure

    fig = cfdna_figure(result.measurements, result.timeline)
    return [fig] if fig is not None else []


@register("cfdna", "cfDNA monitoring", requires={InputKind.cfdna}, options=CfdnaOptions, order=350)
def cfdna_section(ctx: AnalysisContext) -> Section:
    """Per patient: VAF over time, molecular response and emerging resistance alterations."""
    opts = ctx.options if isinstance(ctx.options, CfdnaOptions) else CfdnaOptions()
    ddpcr = ctx.previous.get("ddpcr")
    wells = None
    if ddpcr is not None:
        wells = next((t.frame for t in ddpcr.tables if t.name == "ddpcr_wells"), None)
    timelines = ctx.paths(InputKind.treatment_timeline)
    result = run_cfdna(
        ctx.paths(InputKind.cfdna),
        opts,
        knowledge=ctx.knowledge,
        timeline=timelines[0] if timelines else None,
        ddpcr_wells=wells,
    )
    flags = [Flag("warning", str(i)) for i in result.issues[:20]]
    emerged = result.emergence[result.emergence["status"].str.startswith("emerged")]
    for r in emerged.itertuples():
        flags.append(Flag("info", f"{r.patient_id}: {r.gene} {r.alteration} emerged on day {r.first_detected_day:g} "
                          f"({r.alteration_class or 'unclassified'}; {r.therapy_strategies or 'no strategy'})"))  # fmt: skip
    return Section(
        name="cfdna",
        title="cfDNA monitoring",
        summary=(
            f"{result.measurements['patient_id'].nunique()} patient(s), {result.measurements['sample_id'].nunique()} "
            f"samples; VAF unit as given: {opts.vaf_unit}. Molecular response: the {opts.response_metric} VAF of the alterations detected at baseline "
            f"falls by ≥ {opts.response_fall:.0%}. Emergence: not detected in an earlier sample, detected later."
        ),
        tables=[
            Table(
                "cfdna_emergence",
                result.emergence,
                "Emerging alterations (classified as in tissue)",
            ),
            Table("cfdna_response", result.response, "Molecular response by timepoint"),
            Table("cfdna_measurements", result.measurements, "All measurements"),
        ],
        figures=figures(result),
        flags=flags,
        facts_used={
            f"therapy_strategies:{s}"
            for v in result.emergence.get("therapy_strategies", [])
            for s in str(v).split(";")
            if s
        },
    )
