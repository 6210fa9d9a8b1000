"""The classify command: resistance mechanism and next therapy per sample and patient."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from trkres.cli._app import OUT_HELP, KnowledgeOption, _progress, app, err_console, log, state
from trkres.errors import TrkresError

if TYPE_CHECKING:  # outputs imports pandas: not at start-up, --help stays fast
    from trkres.outputs import TableFormat


@app.command()
def classify(
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    maf: Annotated[
        list[Path] | None,
        typer.Option("--maf", help="MAF or cBioPortal data_mutations file (repeatable)."),
    ] = None,
    vcf: Annotated[
        list[Path] | None,
        typer.Option("--vcf", help="VCF/BCF annotated by VEP (CSQ) or SnpEff (ANN) (repeatable)."),
    ] = None,
    sv: Annotated[
        list[Path] | None,
        typer.Option(
            "--sv",
            help="Fusion/SV table: cBioPortal data_sv/data_fusions, STAR-Fusion, Arriba, PCGR (repeatable).",
        ),
    ] = None,
    cna: Annotated[
        list[Path] | None,
        typer.Option(
            "--cna", help="Copy number: cBioPortal GISTIC matrix or long table (repeatable)."
        ),
    ] = None,
    clinical: Annotated[
        Path | None,
        typer.Option(
            "--clinical", help="Clinical sample file: sample, patient, sample type, collection day."
        ),
    ] = None,
    timeline: Annotated[
        Path | None,
        typer.Option("--timeline", help="cBioPortal treatment timeline (days, agents, responses)."),
    ] = None,
    subclonal_ratio: Annotated[
        float,
        typer.Option(
            help="VAF / reference allele fraction below which an alteration is subclonal."
        ),
    ] = 0.5,
    table_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="Table format: tsv, or parquet (typed columns, about 6x smaller for large cohorts).",
        ),
    ] = "tsv",
    assume_trk_fusion: Annotated[
        bool,
        typer.Option(
            "--assume-trk-fusion",
            help="Take every patient without fusion data (no --sv row, no clinical FUSION value) "
            "to carry a TRK fusion: on-target classes count in any NTRK gene, strategies are "
            "suggested, and the output says 'assumed'. Default: such patients are "
            "fusion_unknown, with no therapy strategy.",
        ),
    ] = False,
    include_unverified: Annotated[
        bool,
        typer.Option(
            "--include-unverified",
            help="Let needs_review knowledge facts and rules set mechanism and therapy_strategies "
            "(flagged). Default: they only fill the unverified_* columns and review flags.",
        ),
    ] = False,
    genome_build: Annotated[
        str | None,
        typer.Option(
            "--genome-build",
            help="GRCh37 or GRCh38: the build of MAF coordinates, for MAFs without an "
            "NCBI_Build column. Used only to name hotspot changes of rows without a protein "
            "change (minimal MAFs); never assumed.",
        ),
    ] = None,
    knowledge: KnowledgeOption = None,
) -> None:
    """Classify TRK-inhibitor resistance from sequencing files and suggest next therapies.

    Writes OUT/alterations.tsv (every alteration, annotated), OUT/samples.tsv (one row
    per sample: fusion, mechanism, on/off-target alterations, therapy strategies with
    evidence, review flags), OUT/patients.tsv (across timepoints), OUT/mechanisms.tsv and
    OUT/classes.tsv (cohort frequencies with Wilson 95% CIs), OUT/annotated/*.tsv (each
    input's rows with trkres columns appended) and OUT/issues.tsv (rows with problems).
    With --format parquet the same tables are written as .parquet files.

    Patients whose samples no fusion data cover (no --sv row, no clinical FUSION value) are
    fusion_unknown: alterations listed and classed, no therapy strategy. Only verified
    knowledge facts set mechanism and therapy_strategies; needs_review ones go to the
    unverified_mechanism / unverified_alterations / unverified_strategies columns.

    Example:  trkres classify --maf data_mutations.txt --sv data_sv.txt
              --cna data_cna.txt --clinical data_clinical_sample.txt
              --timeline data_timeline_treatment.txt -o out
    """
    from trkres.genomics.options import GenomicsOptions
    from trkres.genomics.run import ClassifyInputs, run_classify
    from trkres.knowledge import load_knowledge
    from trkres.options import validate_options

    if table_format not in ("tsv", "parquet"):
        raise TrkresError("unknown table format", expected="tsv or parquet", found=table_format)
    options = validate_options(
        GenomicsOptions,
        {
            "subclonal_ratio": subclonal_ratio,
            "assume_trk_fusion": assume_trk_fusion,
            "include_unverified": include_unverified,
            "genome_build": genome_build,
        },
        source="cli",
    )
    inputs = ClassifyInputs(
        maf=maf or [], vcf=vcf or [], sv=sv or [], cna=cna or [],
        clinical=clinical, timeline=timeline,
    )  # fmt: skip
    inputs.check()  # before loading knowledge: a quick answer
    kb = load_knowledge(knowledge or ())
    for notice in kb.notices:
        log.warning("knowledge: %s", notice)
    with _progress("classifying") as progress:
        result = run_classify(inputs, options, knowledge=kb, progress=progress)
        progress(2, 3, "writing")
        result.write(out, table_format=cast("TableFormat", table_format))
    for issue in result.row_issues[:20]:
        log.warning(str(issue))
    if len(result.issues) > 20:
        log.warning(
            "... %d more row issues in %s", len(result.issues) - 20, out / f"issues.{table_format}"
        )
    if not state.quiet:
        counts = result.samples["mechanism"].value_counts().to_dict()
        err_console.print(
            f"Classified {len(result.alterations)} alterations in {len(result.samples)} samples "
            f"({', '.join(f'{k}: {v}' for k, v in counts.items())})"
        )
        for line in result.statements:
            err_console.print(line)
        err_console.print(f"Tables written to [bold]{out}[/bold]")
