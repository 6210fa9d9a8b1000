"""The genomics report section: classification of a study's sequencing inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from trkres.genomics.export import ALTERATION_OUTPUT
from trkres.genomics.io.cna import CopyNumberThresholds
from trkres.genomics.pipeline import (
    class_frequencies,
    classify_inputs,
    mechanism_frequencies,
    read_genomic_inputs,
)
from trkres.pl.genomics import mechanism_figure, oncoprint_figure, timeline_figure
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register


class GenomicsOptions(BaseModel):
    """Options of the genomics analysis (``options: {genomics: {...}}`` in study.yaml)."""

    model_config = ConfigDict(extra="forbid")

    subclonal_ratio: float = Field(
        0.5, gt=0, le=1, description="VAF / reference AF below which subclonal"
    )
    amp_copies: float = Field(
        6.0, gt=0, description="absolute copies calling amplification (long tables)"
    )
    amp_log2: float = Field(1.0, description="log2 ratio calling amplification (long tables)")
    del_copies: float = Field(0.5, ge=0, description="absolute copies calling deletion")
    del_log2: float = Field(-1.0, description="log2 ratio calling deletion")
    assume_trk_fusion: bool = Field(
        False,
        description="take patients without fusion data to carry a TRK fusion "
        "(default: fusion_unknown, no therapy strategy)",
    )
    include_unverified: bool = Field(
        False,
        description="let needs_review facts set mechanism and therapy strategies "
        "(default: unverified_* columns only)",
    )
    genome_build: Literal["GRCh37", "GRCh38"] | None = Field(
        None,
        description="genome build of MAF coordinates when a MAF has no NCBI_Build column "
        "(used only for rows without a protein change; never assumed)",
    )


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
    names = {study.path_of(i): i.name for i in study.manifest.inputs}
    clinical = study.inputs_of(InputKind.clinical_samples)
    timeline = study.inputs_of(InputKind.treatment_timeline)
    ctx.progress(0, 3, "reading sequencing inputs")
    inputs = read_genomic_inputs(
        ctx.knowledge,
        mafs=[study.path_of(i) for i in mutations if i.resolved_format() == "maf"],
        vcfs=[study.path_of(i) for i in mutations if i.resolved_format() == "vcf"],
        svs=ctx.paths(InputKind.structural_variants),
        cnas=ctx.paths(InputKind.copy_number),
        clinical=study.path_of(clinical[0]) if clinical else None,
        timeline=study.path_of(timeline[0]) if timeline else None,
        names=names,
        genome_build=opts.genome_build,
        thresholds=CopyNumberThresholds(
            opts.amp_copies, opts.del_copies, opts.amp_log2, opts.del_log2
        ),
    )
    ctx.progress(1, 3, "classifying")
    result = classify_inputs(
        inputs,
        ctx.knowledge,
        subclonal_ratio=opts.subclonal_ratio,
        assume_trk_fusion=opts.assume_trk_fusion,
        include_unverified=opts.include_unverified,
    )
    mechanisms = mechanism_frequencies(result.patients)
    classes = class_frequencies(result.alterations, result.patients)
    figures: list[Figure] = [mechanism_figure(mechanisms)]
    for fig in (
        oncoprint_figure(result.alterations, result.samples),
        timeline_figure(inputs.timeline, result.samples, result.alterations),
    ):
        if fig is not None:
            figures.append(fig)
    flags = [Flag("warning", line) for line in result.statements()]
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
    issues = result.issues_frame()
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
    counted = result.alterations[ALTERATION_OUTPUT]
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
            Table("genomics_mechanisms", mechanisms, "Mechanism frequencies (Wilson 95% CI)"),
            Table(
                "genomics_classes", classes, "Patients with each resistance class (Wilson 95% CI)"
            ),
            Table("genomics_alterations", counted, "All alterations, annotated"),
            Table("genomics_issues", issues, "Input rows with problems"),
        ],
        figures=figures,
        flags=flags,
        facts_used=result.caller.facts_used_,
    )
