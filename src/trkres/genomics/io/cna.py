"""Copy-number readers: cBioPortal discrete (GISTIC −2..2) matrices and long tables.

Only amplifications and (deep) deletions become alterations; other cells are
counted as read but carry no alteration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trkres.genomics.io.tables import RowIssue, TableRead, read_delimited, resolve_columns
from trkres.genomics.model import ParsedInput, conform
from trkres.genomics.normalise import normalise_genes
from trkres.knowledge.store import KnowledgeBase

_GENE_COLUMNS = ["Hugo_Symbol", "Gene Symbol", "Gene", "gene", "hugo_symbol"]
_ANNOTATION_COLUMNS = {"entrez_gene_id", "locus id", "cytoband", "gene id"}

LONG_COLUMNS = {
    "gene": _GENE_COLUMNS,
    "sample_id": ["Tumor_Sample_Barcode", "sample_id", "SAMPLE_ID", "sample", "Sample"],
    "discrete": ["Copy_Number_Alteration", "cna", "CNA", "discrete"],
    "copy_number": ["copy_number", "CN", "total_cn", "copies"],
    "log2": ["log2", "log2_ratio", "log2ratio", "seg.mean", "log2R"],
}


@dataclass(frozen=True)
class CopyNumberThresholds:
    """When a long-table value calls amplification or deletion.

    Defaults are common conventions, not facts: absolute copies ≥ 6 or
    log2 ratio ≥ 1.0 call amplification; copies ≤ 0.5 or log2 ≤ -1.0 deletion.
    """

    amp_copies: float = 6.0
    del_copies: float = 0.5
    amp_log2: float = 1.0
    del_log2: float = -1.0


_DISCRETE_WORDS = {"amplification": 2.0, "amp": 2.0, "gain": 1.0, "deletion": -2.0,
                   "homdel": -2.0, "deep deletion": -2.0, "loss": -1.0, "hetloss": -1.0}  # fmt: skip


def _discrete_values(text: pd.Series) -> pd.Series:
    lowered = text.astype("string").str.strip().str.lower()
    words = lowered.map(_DISCRETE_WORDS)
    return pd.to_numeric(lowered, errors="coerce").astype("float64").fillna(words.astype("float64"))


def _column_values(column: pa.ChunkedArray, text: pd.Series) -> np.ndarray:
    """Discrete copy-number values of one text column: arrow's cast when clean, else word-aware.

    Anything but an integer level in -2..2 is not a GISTIC value: it becomes
    NaN (and is reported by the caller).
    """
    try:
        values = np.asarray(pc.cast(column, pa.float64()).to_numpy(), dtype=np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = _discrete_values(text).to_numpy(dtype=np.float64)
    valid = np.isin(values, [-2.0, -1.0, 0.0, 1.0, 2.0])
    return np.where(valid, values, np.nan)


def _matrix_calls(read: TableRead, gene_col: str, sample_cols: list[str]) -> pd.DataFrame:
    """Cells of a genes × samples GISTIC matrix that call a change, or that fail to parse.

    Works column by column on the arrow table, then finds the cells with numpy:
    no reshaping of the whole matrix into a long table.
    """
    table = read.arrow
    sub = table.select(sample_cols)
    try:  # the common case: every cell numeric or empty, cast in one call
        # Every sample column end to end, cast at once: a cast per column costs more
        # in call overhead than in work for a 10,000-sample matrix.
        types = set(sub.schema.types)
        if len(types) == 1:
            flat = pa.chunked_array([k for c in sub.columns for k in c.chunks], types.pop())
            stacked = np.asarray(pc.cast(flat, pa.float64()).to_numpy(), dtype=np.float64)
            values = stacked.reshape(len(sample_cols), table.num_rows).T
        else:
            numeric = sub.cast(pa.schema([(c, pa.float64()) for c in sample_cols]))
            values = np.empty((table.num_rows, len(sample_cols)), dtype=np.float64)
            for j, column in enumerate(numeric.columns):
                values[:, j] = column.to_numpy()
        values = np.where(
            np.isin(values, [-2.0, -1.0, 0.0, 1.0, 2.0]) | np.isnan(values), values, np.nan
        )
        # Out-of-range levels become NaN above; they must still be reported.
        fast = True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = np.column_stack(
            [_column_values(table.column(c), read.frame[c]) for c in sample_cols]
        )
        fast = False
    if fast and not np.isnan(values).any():
        raw_missing = np.zeros(values.shape, dtype=bool)
    else:
        raw_missing = np.column_stack(
            [table.column(c).is_null().to_numpy(zero_copy_only=False) for c in sample_cols]
        )
    called = (values >= 2) | (values <= -2)
    unparsed = np.isnan(values) & ~raw_missing
    # Every cell of a gene listed on several rows is kept, so conflicts can be found.
    genes = pd.Series(table.column(gene_col).to_numpy(zero_copy_only=False))
    repeated = genes.notna().to_numpy() & genes.duplicated(keep=False).to_numpy()
    listed = called | unparsed | (repeated[:, None] & ~np.isnan(values))
    rows, cols_ = np.nonzero(listed)
    samples = np.asarray(sample_cols, dtype=object)
    raw = (
        [
            _cell_text(table.column(sample_cols[c])[int(r)].as_py()) if unparsed[r, c] else ""
            for r, c in zip(rows, cols_, strict=True)
        ]
        if unparsed.any()
        else [""] * len(rows)
    )
    long = pd.DataFrame(
        {
            "gene": table.column(gene_col).to_numpy(zero_copy_only=False)[rows],
            "source_row": rows.astype(np.int64),
            "sample_id": samples[cols_],
            "raw": pd.Series(raw, dtype=object).where(pd.Series(unparsed[rows, cols_]), None),
            "copy_number": values[rows, cols_],
        }
    )
    long["amp"] = long["copy_number"] >= 2
    long["del"] = long["copy_number"] <= -2
    return long


def _cell_text(value: object) -> object:
    """A cell as the file shows it: columns read as numbers give ``3``, not ``3.0``."""
    return _num(value) if isinstance(value, float) else value


def _matrix_samples(names: list[str]) -> list[str]:
    """The columns of a genes × samples matrix that hold samples (read as numbers);
    none for a long table (a sample column and a value column)."""
    lower = {n.lower() for n in names}

    def has(key: str) -> bool:
        return any(a.lower() in lower for a in LONG_COLUMNS[key])

    if has("sample_id") and (has("discrete") or has("copy_number") or has("log2")):
        return []
    genes = {g.lower() for g in _GENE_COLUMNS}
    return [n for n in names if n.lower() not in genes and n.lower() not in _ANNOTATION_COLUMNS]


def _conflicts(
    long: pd.DataFrame,
    missing_gene: np.ndarray,
    read: TableRead,
    column_of: pd.Series,
    issues: list[RowIssue],
) -> np.ndarray:
    """Which rows may give a call: one gene and sample listed twice must agree.

    Values of one gene in one sample that call different things (+2 and -2,
    or +2 and 0) are each reported and give no call; the same call listed
    twice is counted once (the repeat reported). Returns a mask over ``long``.
    """
    keep = np.ones(len(long), dtype=bool)
    valid = long["copy_number"].notna().to_numpy() & ~missing_gene
    state = np.where(long["amp"], 1, np.where(long["del"], -1, 0))
    key = pd.DataFrame({"sample": long["sample_id"].astype(str), "gene": long["gene"].astype(str)})
    repeated = valid & key.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return keep
    rows = np.flatnonzero(repeated)
    sub = key.iloc[rows].assign(state=state[rows], row=rows)
    n_states = sub.groupby(["sample", "gene"], sort=False)["state"].transform("nunique").to_numpy()
    first = ~sub.duplicated(["sample", "gene", "state"]).to_numpy()
    path = str(read.path)
    lines = {int(r): read.line_of(int(long["source_row"].iloc[r])) for r in rows}
    for (sample, gene), group in sub.groupby(["sample", "gene"], sort=False):
        at = group["row"].to_numpy()
        where = ", ".join(f"{_num(long['copy_number'].iloc[r])} (line {lines[int(r)]})" for r in at)
        conflicting = n_states[np.searchsorted(rows, at[0])] > 1
        for r in at:
            if conflicting:
                issues.append(
                    RowIssue(path, lines[int(r)], str(column_of.iloc[r]),
                             f"one copy-number level for {gene} in sample {sample}",
                             f"conflicting values {where}", "kept, no call")
                )  # fmt: skip
                keep[r] = False
            elif not first[np.searchsorted(rows, r)] and (state[r] != 0):
                issues.append(
                    RowIssue(path, lines[int(r)], str(column_of.iloc[r]),
                             f"{gene} listed once per sample ({sample})",
                             f"the same call again: {where}", "counted once")
                )  # fmt: skip
                keep[r] = False
    return keep


def _num(value: float) -> str:
    return f"{value:g}"


def read_copy_number(
    path: Path,
    knowledge: KnowledgeBase,
    *,
    name: str | None = None,
    thresholds: CopyNumberThresholds | None = None,
) -> ParsedInput:
    """Read a GISTIC matrix (genes × samples) or a long table into alterations."""
    label = name or path.stem
    th = thresholds or CopyNumberThresholds()
    read = read_delimited(path, what="copy-number", numeric=_matrix_samples)
    cols = resolve_columns(read, LONG_COLUMNS, what="copy-number", required=["gene"])
    issues: list[RowIssue] = list(read.issues)
    gene_col = cols["gene"]
    assert gene_col is not None
    is_long = cols["sample_id"] is not None and any(
        cols[k] for k in ("discrete", "copy_number", "log2")
    )
    value_col: str | None
    if is_long:
        frame = read.frame
        sample = frame[cols["sample_id"]].str.strip()
        if cols["discrete"]:
            value_col = cols["discrete"]
            values = _discrete_values(frame[value_col])
            values = values.where(values.isin([-2.0, -1.0, 0.0, 1.0, 2.0]))
            amp, dele = values >= 2, values <= -2
        elif cols["copy_number"]:
            value_col = cols["copy_number"]
            values = pd.to_numeric(frame[value_col], errors="coerce").astype("float64")
            # Infinite or negative copies are impossible: reported below, never called.
            values = values.where(np.isfinite(values) & (values >= 0))
            amp, dele = values >= th.amp_copies, values <= th.del_copies
        else:
            value_col = cols["log2"]
            values = pd.to_numeric(frame[value_col], errors="coerce").astype("float64")
            values = values.where(np.isfinite(values))  # ±inf reported below, never called
            amp, dele = values >= th.amp_log2, values <= th.del_log2
        assert value_col is not None
        long = pd.DataFrame(
            {"sample_id": sample, "gene": frame[gene_col], "copy_number": values,
             "raw": frame[value_col], "source_row": np.arange(len(frame), dtype=np.int64),
             "amp": amp, "del": dele}
        )  # fmt: skip
        column_of = pd.Series(value_col, index=long.index)
    else:
        sample_cols = [
            c for c in read.columns if c != gene_col and c.lower() not in _ANNOTATION_COLUMNS
        ]
        if not sample_cols:
            from trkres.errors import InputError, Location

            raise InputError(
                "copy-number matrix has no sample columns",
                location=Location(file=path, line=read.header_line),
                expected="Hugo_Symbol followed by one column per sample",
                found=", ".join(read.columns),
            )
        long = _matrix_calls(read, gene_col, sample_cols)
        column_of = long["sample_id"]
    bad = long["copy_number"].isna() & long["raw"].notna()
    bad &= ~long["raw"].astype("string").str.strip().str.upper().isin(["NA", "NAN", ""])
    for i in np.flatnonzero(bad.to_numpy()):
        issues.append(
            RowIssue(str(path), read.line_of(int(long["source_row"].iloc[i])), str(column_of.iloc[i]),
                     "a copy-number value (GISTIC level -2..2, copies or log2)",
                     repr(long["raw"].iloc[i]), "kept, no call")
        )  # fmt: skip
    missing_gene = long["gene"].isna()
    for i in np.flatnonzero((missing_gene & (long["amp"] | long["del"])).to_numpy()):
        issues.append(
            RowIssue(str(path), read.line_of(int(long["source_row"].iloc[i])), gene_col,
                     "a gene symbol", "an empty cell", "dropped")
        )  # fmt: skip
    long["gene"] = normalise_genes(long["gene"], knowledge)
    keep = _conflicts(long, missing_gene.to_numpy(), read, column_of, issues)
    calls = long.loc[
        (long["amp"] | long["del"]).to_numpy() & ~missing_gene.to_numpy() & keep
    ].copy()
    calls["alteration_type"] = np.where(calls["amp"], "amplification", "deletion")
    calls["input"] = label
    alterations = conform(calls.drop(columns=["amp", "del", "raw"]))
    parsed = ParsedInput(
        name=label, path=path, format="copy_number", table=read.arrow, alterations=alterations,
        issues=issues, rows_in=read.rows_in,
    )  # fmt: skip
    if is_long:
        parsed.sample_cells, parsed.sample_column = sample, cols["sample_id"]
        parsed.line_of = read.line_of
    else:
        parsed.header_samples = {c: (read.header_line, c) for c in sample_cols}
    return parsed
