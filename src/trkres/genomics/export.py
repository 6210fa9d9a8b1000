"""Write a classification to a folder (the I/O edge of ``trkres classify``)."""

from __future__ import annotations

from pathlib import Path

from trkres.genomics.pipeline import GenomicResult, class_frequencies, mechanism_frequencies
from trkres.outputs import TableFormat, write_tables

#: Columns of OUT/alterations.tsv (the canonical table plus annotation).
ALTERATION_OUTPUT = [
    "sample_id", "patient_id", "sample_type", "collection_day", "timepoint", "gene",
    "alteration_type", "protein_change", "partner_gene", "fusion", "copy_number", "alt_count",
    "ref_count", "vaf", "reference_af", "reference_af_source", "vaf_ratio", "clonality",
    "alteration_class", "counts_as", "class_fact", "known_fact", "fact_status",
    "paralog_equivalents", "timing", "therapy_strategies", "unverified_strategies",
    "therapy_rules", "ch_flag",
    "annotation_note", "target_note", "normalisation", "transcript", "input", "source_row",
]  # fmt: skip


def write_classification(
    result: GenomicResult, out_dir: Path, *, table_format: TableFormat = "tsv"
) -> list[Path]:
    """Write alterations, samples, patients, cohort tables, annotated inputs and issues.

    As TSV, or as Parquet (typed columns, categories kept; about six times
    smaller for cohorts of millions of rows). The folder is built
    aside and swapped in whole (see :mod:`trkres.outputs`).
    """
    tables = {
        "alterations": result.alterations[ALTERATION_OUTPUT],
        "samples": result.samples,
        "patients": result.patients,
        "mechanisms": mechanism_frequencies(result.patients),
        "classes": class_frequencies(result.alterations, result.patients),
        "issues": result.issues_frame(),
    }
    tables |= {f"annotated/{name}": frame for name, frame in result.annotated_inputs().items()}
    return write_tables(out_dir, tables, table_format=table_format)
