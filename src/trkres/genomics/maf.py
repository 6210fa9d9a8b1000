"""MAF reader: GDC MAF and cBioPortal ``data_mutations*.txt``.

The protein change is taken from the first non-empty of ``HGVSp_Short``,
``HGVSp``, ``Protein_Change`` and ``Amino_Acid_Change`` (one- or three-letter
notation); allele fraction from ``t_alt_count``/``t_ref_count`` or ``t_AF``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from trkres.genomics.model import ParsedInput, conform, text
from trkres.genomics.normalise import coerce_numeric, finish_mutations
from trkres.genomics.tables import read_delimited, resolve_columns
from trkres.knowledge.store import KnowledgeBase

MAF_COLUMNS = {
    "sample_id": ["Tumor_Sample_Barcode", "SAMPLE_ID", "Sample_Id", "sample"],
    "gene": ["Hugo_Symbol", "Gene", "SYMBOL"],
    "HGVSp_Short": ["HGVSp_Short"],
    "HGVSp": ["HGVSp"],
    "Protein_Change": ["Protein_Change"],
    "Amino_Acid_Change": ["Amino_Acid_Change", "AAChange"],
    "variant_classification": ["Variant_Classification"],
    "alt_count": ["t_alt_count"],
    "ref_count": ["t_ref_count"],
    "vaf": ["t_AF", "t_vaf", "tumor_vaf"],
    "transcript": ["Transcript_ID", "RefSeq", "Feature"],
}
PROTEIN_COLUMNS = ("HGVSp_Short", "HGVSp", "Protein_Change", "Amino_Acid_Change")

#: Variant classifications that truncate the protein (MAF specification).
TRUNCATING = frozenset(
    {
        "Nonsense_Mutation",
        "Frame_Shift_Del",
        "Frame_Shift_Ins",
        "Splice_Site",
        "Translation_Start_Site",
        "Nonstop_Mutation",
    }
)
#: Variant classifications that do not change the protein (kept, never classified).
SILENT = frozenset({"Silent", "Intron", "3'UTR", "5'UTR", "3'Flank", "5'Flank", "IGR", "RNA"})


def read_maf(path: Path, knowledge: KnowledgeBase, *, name: str | None = None) -> ParsedInput:
    """Read a MAF into the canonical alteration table (see :mod:`trkres.genomics.model`)."""
    read = read_delimited(path, what="MAF")
    cols = resolve_columns(
        read,
        MAF_COLUMNS,
        what="MAF",
        required=["sample_id", "gene", "HGVSp_Short|HGVSp|Protein_Change|Amino_Acid_Change"],
    )
    frame = read.frame
    n = len(frame)
    issues = list(read.issues)

    def col(key: str) -> pd.Series:
        c = cols.get(key)
        return frame[c] if c else pd.Series([None] * n, index=frame.index, dtype=object)

    # The first non-empty protein column, row by row (one arrow pass).
    present = [read.arrow.column(c) for k in PROTEIN_COLUMNS if (c := cols.get(k))]
    protein = (present[0] if len(present) == 1 else pc.coalesce(*present)).to_pandas()
    protein.index = frame.index
    alt = coerce_numeric(read, cols.get("alt_count"), issues, "a read count")
    ref = coerce_numeric(read, cols.get("ref_count"), issues, "a read count")
    vaf = coerce_numeric(read, cols.get("vaf"), issues, "an allele fraction (0-1)")
    with np.errstate(invalid="ignore", divide="ignore"):
        depth = alt + ref
        vaf = vaf.where(vaf.notna(), alt / depth.where(depth > 0))
    out = pd.DataFrame(
        {
            "sample_id": col("sample_id"),
            "gene": col("gene"),
            "protein_raw": protein,
            "variant_classification": text(col("variant_classification")),
            "alt_count": alt,
            "ref_count": ref,
            "vaf": vaf,
            "transcript": col("transcript"),
            "source_row": np.arange(n, dtype=np.int64),
        }
    )
    out["input"] = name or path.stem
    alterations = finish_mutations(out, knowledge, read, cols, issues, TRUNCATING, SILENT)
    return ParsedInput(
        name=name or path.stem,
        path=path,
        format="maf",
        table=read.arrow,
        alterations=conform(alterations),
        issues=issues,
        rows_in=read.rows_in,
    )
