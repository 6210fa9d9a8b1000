"""MAF reader: GDC MAF and cBioPortal ``data_mutations*.txt``.

The protein change is taken from the first non-empty of ``HGVSp_Short``,
``HGVSp``, ``Protein_Change`` and ``Amino_Acid_Change`` (one- or three-letter
notation); allele fraction from ``t_alt_count``/``t_ref_count`` or ``t_AF``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trkres.errors import InputError, Location
from trkres.genomics.coordinates import normalise_build, resolve_hotspots
from trkres.genomics.io.tables import RowIssue, TableRead, read_delimited, resolve_columns
from trkres.genomics.model import ParsedInput, conform, text
from trkres.genomics.normalise import coerce_numeric, finish_mutations
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
    "depth": ["t_depth"],
    "vaf": ["t_AF", "t_vaf", "tumor_vaf"],
    "transcript": ["Transcript_ID", "RefSeq", "Feature"],
    # Genomic coordinates: used where a row has no protein change (minimal MAFs).
    "build": ["NCBI_Build"],
    "chromosome": ["Chromosome"],
    "start": ["Start_Position", "Start_position"],
    "end": ["End_Position", "End_position"],
    "ref_allele": ["Reference_Allele"],
    "alt_allele": ["Tumor_Seq_Allele2"],
    "alt_allele1": ["Tumor_Seq_Allele1"],
    # The caller's filter verdict (GDC MAFs, vcf2maf output): PASS, '.' or empty are calls.
    "filter": ["FILTER"],
}
COORDINATE_COLUMNS = ("chromosome", "start", "ref_allele", "alt_allele")
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


def read_maf(
    path: Path,
    knowledge: KnowledgeBase,
    *,
    name: str | None = None,
    genome_build: str | None = None,
) -> ParsedInput:
    """Read a MAF into the canonical alteration table (see :mod:`trkres.genomics.model`).

    ``genome_build`` (GRCh37/GRCh38, hg19/hg38) places the coordinates of a
    MAF that has no ``NCBI_Build`` column; it is never assumed otherwise.
    """
    read = read_delimited(path, what="MAF")
    cols = resolve_columns(
        read,
        MAF_COLUMNS,
        what="MAF",
        required=["sample_id", "gene", "HGVSp_Short|HGVSp|Protein_Change|Amino_Acid_Change|start"],
    )
    frame = read.frame
    n = len(frame)
    issues = list(read.issues)

    def col(key: str) -> pd.Series:
        c = cols.get(key)
        return frame[c] if c else pd.Series([None] * n, index=frame.index, dtype=object)

    # The first non-empty protein column, row by row (one arrow pass).
    present = [read.arrow.column(c) for k in PROTEIN_COLUMNS if (c := cols.get(k))]
    if present:
        protein = (present[0] if len(present) == 1 else pc.coalesce(*present)).to_pandas()
        protein.index = frame.index
    else:
        missing = [MAF_COLUMNS[k][0] for k in COORDINATE_COLUMNS if not cols.get(k)]
        if missing:
            raise InputError(
                "MAF file has neither a protein-change column nor genomic coordinates",
                location=Location(file=path, line=read.header_line),
                expected="HGVSp_Short/HGVSp/Protein_Change/Amino_Acid_Change, or "
                + ", ".join(MAF_COLUMNS[k][0] for k in COORDINATE_COLUMNS)
                + " and NCBI_Build",
                found=", ".join(read.columns[:12]) + (" …" if len(read.columns) > 12 else ""),
            )
        protein = pd.Series([None] * n, index=frame.index, dtype=object)
    coordinate_note = pd.Series([""] * n, index=frame.index, dtype=object)
    if all(cols.get(k) for k in COORDINATE_COLUMNS):
        protein, coordinate_note = _from_coordinates(
            read, cols, protein, knowledge, issues,
            has_protein_column=bool(present), genome_build=genome_build,
        )  # fmt: skip
    alt = coerce_numeric(read, cols.get("alt_count"), issues, "read count")
    ref = coerce_numeric(read, cols.get("ref_count"), issues, "read count")
    depth = coerce_numeric(read, cols.get("depth"), issues, "read depth")
    vaf = coerce_numeric(read, cols.get("vaf"), issues, "allele fraction", upper=1.0)
    over = np.flatnonzero((alt > depth).to_numpy())  # NaN compares False
    for row in over:  # only impossible rows are visited
        issues.append(
            RowIssue(str(path), read.line_of(int(row)), cols.get("alt_count"),
                     f"ALT reads ≤ {cols.get('depth')}", f"{alt.iloc[row]:g} > {depth.iloc[row]:g}",
                     "kept, allele fraction missing")
        )  # fmt: skip
    with np.errstate(invalid="ignore", divide="ignore"):
        total = (alt + ref).where((alt + ref).notna(), depth)
        from_reads = alt / total.where(total > 0)
        if len(over):
            from_reads.iloc[over] = np.nan
        vaf = vaf.where(vaf.notna(), from_reads)
    # Whitespace around a sample id is never part of it (clinical files strip it too).
    sample_ids = col("sample_id").str.strip()
    out = pd.DataFrame(
        {
            "sample_id": sample_ids,
            "gene": col("gene"),
            "protein_raw": protein,
            "variant_classification": text(col("variant_classification")),
            "alt_count": alt,
            "ref_count": ref,
            "vaf": vaf,
            "transcript": col("transcript"),
            "source_row": np.arange(n, dtype=np.int64),
            "coordinate_note": coordinate_note,
        }
    )
    out["input"] = name or path.stem
    out = _drop_duplicates(out, read, cols, issues)
    out = _drop_filtered(out, read, cols.get("filter"), issues)
    alterations = finish_mutations(out, knowledge, read, cols, issues, TRUNCATING, SILENT)
    return ParsedInput(
        name=name or path.stem,
        path=path,
        format="maf",
        table=read.arrow,
        alterations=conform(alterations),
        issues=issues,
        rows_in=read.rows_in,
        sample_cells=sample_ids,
        sample_column=cols.get("sample_id"),
        line_of=read.line_of,
    )


def _from_coordinates(
    read: TableRead,
    cols: dict[str, str | None],
    protein: pd.Series,
    knowledge: KnowledgeBase,
    issues: list[RowIssue],
    *,
    has_protein_column: bool,
    genome_build: str | None = None,
) -> tuple[pd.Series, pd.Series]:
    """Fill empty protein changes at the knowledge base's hotspot codons from coordinates.

    Returns the protein column and a note per row. Rows whose coordinates
    cannot be translated (wrong reference base, indel inside a codon) are
    reported and kept unclassified; a MAF without any protein-change column
    gets one summary issue saying how many rows were named this way.
    """
    frame = read.frame
    n = len(frame)
    note = pd.Series([""] * n, index=frame.index, dtype=object)
    todo = np.flatnonzero(protein.isna().to_numpy())
    path = str(read.path)
    build_col = cols.get("build")
    if not len(todo):
        return protein, note
    if genome_build is not None and normalise_build(pd.Series([genome_build])).iloc[0] is None:
        raise InputError(
            f"unknown genome build '{genome_build}'",
            expected="GRCh37 (hg19, 37) or GRCh38 (hg38, 38)",
            found=genome_build,
        )
    if build_col is None and genome_build is None:
        if not has_protein_column:
            issues.append(
                RowIssue(path, read.header_line, "NCBI_Build",
                         "an NCBI_Build column (GRCh37 or GRCh38) to place the coordinates",
                         f"none: no protein-change column either, so {n} rows are kept "
                         "without a protein change and are not classified", "kept, not classified")
            )  # fmt: skip
        return protein, note

    def sub(key: str) -> pd.Series:
        if key == "build" and build_col is None:  # given by the caller, stated in the notes
            return pd.Series([genome_build] * len(todo), index=frame.index[todo], dtype=object)
        c = cols.get(key)
        values = frame[c] if c else pd.Series([None] * n, index=frame.index, dtype=object)
        return values.iloc[todo]

    ref, alt = sub("ref_allele"), sub("alt_allele")
    if cols.get("alt_allele1"):  # some MAFs repeat the reference in Allele2
        alt = alt.where(
            alt.astype("string").ne(ref.astype("string")).fillna(True), sub("alt_allele1")
        )
    found = resolve_hotspots(
        sub("build"), sub("chromosome"), pd.to_numeric(sub("start"), errors="coerce"),
        pd.to_numeric(sub("end"), errors="coerce"), ref, alt, knowledge,
    )  # fmt: skip
    resolved = found.protein.notna().to_numpy()
    values = protein.to_numpy(dtype=object).copy()
    notes = note.to_numpy(dtype=object).copy()
    values[todo[resolved]] = found.protein.to_numpy(dtype=object)[resolved]
    notes[todo[resolved]] = found.note.to_numpy(dtype=object)[resolved]
    protein = pd.Series(values, index=frame.index, dtype=object)
    note = pd.Series(notes, index=frame.index, dtype=object)
    for position, expected, got in found.problems:
        issues.append(
            RowIssue(path, read.line_of(int(todo[position])), cols.get("ref_allele"),
                     expected, got, "kept, not classified")
        )  # fmt: skip
    if not has_protein_column:
        builds = sorted(set(sub("build").dropna().astype(str)))
        where = (
            f"NCBI_Build {', '.join(builds) or 'empty'}" if build_col
            else f"build {genome_build} as given; the file has no NCBI_Build column"
        )  # fmt: skip
        issues.append(
            RowIssue(path, read.header_line, "protein change",
                     "a protein-change column (HGVSp_Short, HGVSp, Protein_Change, Amino_Acid_Change)",
                     f"none: {int(resolved.sum())} of {n} rows named from genomic coordinates "
                     f"({where}) at the knowledge base's hotspot "
                     "codons; the other rows are kept without a protein change, not classified",
                     "kept")
        )  # fmt: skip
    return protein, note


#: FILTER values of an unfiltered call (VCF and MAF): anything else is a filtered call.
PASSING = ("PASS", ".")


def _drop_filtered(
    out: pd.DataFrame, read: TableRead, column: str | None, issues: list[RowIssue]
) -> pd.DataFrame:
    """Drop (and report, row by row) calls the caller filtered, as the VCF reader does.

    A row whose ``FILTER`` is neither ``PASS`` nor ``.`` nor empty (``panel_of_normals``,
    ``common_in_exac``, ``weak_evidence``...) is not a somatic call and never decides a
    class. Rows are matched by their ``source_row``.
    """
    if column is None:
        return out
    values = pc.utf8_trim_whitespace(read.arrow.column(column))
    passing = pc.or_kleene(pc.is_null(values), pc.is_in(values, pa.array(PASSING)))
    passing = pc.or_kleene(passing, pc.equal(values, ""))
    failed = ~np.asarray(passing.to_numpy(zero_copy_only=False), dtype=bool)
    if not failed.any():
        return out
    rows = out["source_row"].to_numpy()
    drop = failed[rows]
    dropped = rows[drop]
    found = values.take(pa.array(dropped)).to_pylist()
    lines = read.lines()[dropped].tolist()
    path = str(read.path)
    issues.extend(
        RowIssue(path, line, column, "PASS or '.' (an unfiltered call)", str(cell),
                 "dropped (filtered call)")
        for line, cell in zip(lines, found, strict=True)
    )  # fmt: skip
    kept: pd.DataFrame = out.loc[~drop].reset_index(drop=True)
    return kept


def _drop_duplicates(
    out: pd.DataFrame, read: TableRead, cols: dict[str, str | None], issues: list[RowIssue]
) -> pd.DataFrame:
    """Count a variant once per sample: later copies are dropped and reported.

    A row whose every cell equals an earlier row's is an exact duplicate. A row
    naming the same sample, gene, protein change (and coordinates, where the
    file has them) as an earlier row but differing elsewhere conflicts with
    it: the first row is kept and the issue names the first differing column.
    Rows without a protein change in a file without coordinates are not
    compared at all (intronic rows of one gene are not duplicates of each
    other, and telling them apart would cost a whole-row comparison).
    """
    frame = read.frame
    coords = [c for k in COORDINATE_COLUMNS if (c := cols.get(k))]
    # Cheap screen on one column first (the start position, else the protein change):
    # only rows repeating it can be duplicates, and only those build a key frame.
    candidate: np.ndarray | None = None
    if cols.get("start"):
        try:
            starts = pc.cast(read.arrow.column(cols["start"]), pa.float64())
            candidate = _repeated(np.asarray(starts.to_numpy(zero_copy_only=False), np.float64))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            candidate = None
    if candidate is None:
        candidate = out["protein_raw"].duplicated(keep=False).to_numpy()
    if not candidate.any():
        return out
    at = np.flatnonzero(candidate)
    key = out[["sample_id", "gene", "protein_raw"]].iloc[at].astype(object)
    for c in coords:
        key[c] = frame[c].iloc[at].to_numpy(dtype=object)
    comparable = out["protein_raw"].notna().to_numpy()[at] | bool(coords)
    repeated = key.duplicated(keep=False).to_numpy() & comparable
    if not repeated.any():
        return out
    rows = at[repeated]
    key = key.iloc[np.flatnonzero(repeated)]
    group = key.groupby(list(key.columns), dropna=False, sort=False).ngroup().to_numpy()
    first_of: dict[int, int] = {}
    drop: list[int] = []
    path = str(read.path)
    full = frame.iloc[rows]
    for g, row, values in zip(group, rows, full.itertuples(index=False), strict=True):
        # Only repeated rows are visited (a handful in a real MAF), never the whole file.
        if g not in first_of:
            first_of[int(g)] = int(row)
            continue
        first = first_of[int(g)]
        first_line, line = read.line_of(first), read.line_of(int(row))
        earlier = frame.iloc[first]
        differs = [
            (name, earlier[name], value)
            for name, value in zip(frame.columns, values, strict=True)
            if not (pd.isna(earlier[name]) and pd.isna(value)) and earlier[name] != value
        ]
        if not differs:
            issues.append(
                RowIssue(path, line, None, "each variant once per sample",
                         f"an exact duplicate of line {first_line} (counted once)", "dropped")
            )  # fmt: skip
        else:
            name, a, b = differs[0]
            issues.append(
                RowIssue(path, line, name, f"one record per variant and sample (line {first_line})",
                         f"the same variant again with {name} {_cell(b)} instead of {_cell(a)}"
                         f" (line {first_line} kept)", "dropped")
            )  # fmt: skip
        drop.append(int(row))
    keep = np.ones(len(out), dtype=bool)
    keep[drop] = False
    return out.loc[keep].reset_index(drop=True)


def _repeated(values: np.ndarray) -> np.ndarray:
    """Rows whose value occurs more than once (missing values count as repeated): one
    hash pass (a third cheaper than sorting a million positions)."""
    out: np.ndarray = pd.Series(values).duplicated(keep=False).to_numpy() | np.isnan(values)
    return out


def _cell(value: object) -> str:
    return (
        "(empty)"
        if value is None or (isinstance(value, float) and np.isnan(value))
        else repr(str(value))
    )
