"""The genomics report section: classification of a study's sequencing inputs."""

from __future__ import annotations

from pathlib import Path

from trkres.genomics.options import GenomicsOptions
from trkres.genomics.run import ClassifyInputs, run_classify
from trkres.pl.genomics import mechanism_figure, oncoprint_figure, timeline_figure
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

__all__ = ["GenomicsOptions", "genomics_section"]


@register(
    "genomics",
    "Resistance mechanisms (sequencing)",
    any_of={InputKind.mutations, InputKind.structural_variants, InputKind.copy_number},
    options=GenomicsOptions,
    order=100,
)
def genomics_section(ctx: AnalysisContext) -> Section:
    """Classify on-/off-target resistance per sample and patient, with therapies and evidence."""
    opts = ctx.options if isinstance(ctx.options, GenomicsOptions) else GenomicsOptions()
    study = ctx.study
    mutations = study.inputs_of(InputKind.mutations)
    clinical = study.inputs_of(InputKind.clinical_samples)
    timeline = study.inputs_of(InputKind.treatment_timeline)
    inputs = ClassifyInputs(
        maf=[study.path_of(i) for i in mutations if i.resolved_format() == "maf"],
        vcf=[study.path_of(i) for i in mutations if i.resolved_format() == "vcf"],
        sv=ctx.paths(InputKind.structural_variants),
        cna=ctx.paths(InputKind.copy_number),
        clinical=study.path_of(clinical[0]) if clinical else None,
        timeline=study.path_of(timeline[0]) if timeline else None,
        names={study.path_of(i): i.name for i in study.manifest.inputs},
    )
    result = run_classify(inputs, opts, knowledge=ctx.knowledge, progress=ctx.progress)
    figures: list[Figure] = [mechanism_figure(result.mechanisms)]
    for fig in (
        oncoprint_figure(result.alterations, result.samples),
        timeline_figure(result.timeline, result.samples, result.alterations),
    ):
        if fig is not None:
            figures.append(fig)
    flags = [Flag("warning", line) for line in result.statements]
    for row in result.patients.itertuples():
        if row.unverified_alterations:
            would = (
                f" (would make it {row.unverified_mechanism})" if row.unverified_mechanism else ""
            )
            also = (
                f"; unverified strategies: {row.unverified_strategies}"
                if row.unverified_strategies
                else ""
            )
            flags.append(
                Flag(
                    "review",
                    f"{row.patient_id}: not in the call, needs review: "
                    f"{row.unverified_alterations}{would}{also}",
                )
            )
        if row.review_flags:
            flags.append(Flag("review", f"{row.patient_id}: {row.review_flags}"))
    issues = result.issues
    if len(issues):
        flags.append(
            Flag("warning", f"{len(issues)} input row(s) had problems; see the issues table.")
        )
    for extra in set(clinical[1:]) | set(timeline[1:]):
        flags.append(
            Flag(
                "warning",
                f"only the first {extra.kind.value} input is used; {Path(extra.path).name} was ignored",
            )
        )
    n_pat = len(result.patients)
    summary = (
        f"{len(result.alterations)} alterations in {len(result.samples)} samples of {n_pat} "
        f"patients. On-target resistance counts only in the NTRK gene fused in that patient; "
        f"'acquired' means absent before the first TRK inhibitor and present after it. "
        f"Patients without fusion data are fusion_unknown (no strategy)"
        f"{' unless assumed (assume_trk_fusion)' if opts.assume_trk_fusion else ''}. "
        f"Therapy strategies come from the knowledge base's rules, with their evidence; "
        + (
            "needs_review facts and rules are INCLUDED (include_unverified)."
            if opts.include_unverified
            else "only verified facts and rules set mechanism and strategies "
            "(needs_review ones: unverified_* columns)."
        )
    )
    return Section(
        name="genomics",
        title="Resistance mechanisms (sequencing)",
        summary=summary,
        tables=[
            Table(
                "genomics_patients",
                result.patients,
                "Patients: mechanism and next therapy",
                "Mechanism from alterations found after a TRK inhibitor and absent before it.",
            ),
            Table("genomics_samples", result.samples, "Samples"),
            Table(
                "genomics_mechanisms", result.mechanisms, "Mechanism frequencies (Wilson 95% CI)"
            ),
            Table(
                "genomics_classes",
                result.classes,
                "Patients with each resistance class (Wilson 95% CI)",
            ),
            Table("genomics_alterations", result.alterations, "All alterations, annotated"),
            Table("genomics_issues", issues, "Input rows with problems"),
        ],
        figures=figures,
        flags=flags,
        facts_used=result.facts_used,
    )
