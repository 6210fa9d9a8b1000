"""The canonical long table of alterations every reader produces.

One row per alteration per sample, whatever file it came from. Readers fill
what their format carries; classification appends its columns.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from trkres.genomics.io.tables import RowIssue

#: Columns of the canonical alteration table, in order.
ALTERATION_COLUMNS: dict[str, str] = {
    "sample_id": "str",
    "gene": "str",  # official symbol (3' gene for fusions)
    "alteration_type": "str",  # mutation | truncating | amplification | deletion | fusion
    "protein_change": "str",  # normalised, e.g. G595R ('' for non-mutations)
    "aa_ref": "str",
    "aa_pos": "int64",  # -1 when none
    "aa_alt": "str",
    "change_type": "str",  # missense, nonsense, frameshift, ... ('' for non-mutations)
    "partner_gene": "str",  # 5' partner of a fusion
    "fusion": "str",  # PARTNER::KINASE
    "copy_number": "float64",  # GISTIC level or absolute copies / log2 as read
    "alt_count": "float64",
    "ref_count": "float64",
    "vaf": "float64",  # variant allele fraction, 0..1
    "transcript": "str",
    "normalisation": "str",  # what normalisation changed (renumbering, ...)
    "input": "str",  # the study input (or file) name
    "source_row": "int64",  # row of the input's table (0-based, header excluded)
}

ALTERATION_TYPES = ("mutation", "truncating", "silent", "amplification", "deletion", "fusion")


def from_codes(codes: np.ndarray, labels: Sequence[str]) -> pd.Categorical:
    """A categorical from integer codes into ``labels`` (labels may repeat).

    The categories are the distinct labels, sorted. Codes are mapped straight
    into the smallest integer type pandas keeps for that many categories, and
    not validated again (every ``labels`` index is a valid code): a third of
    the cost per million rows.
    """
    uniq, inverse = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
    small = inverse.astype(_code_dtype(len(uniq)))
    maker: Any = pd.Categorical.from_codes
    result: pd.Categorical = maker(
        small[np.asarray(codes)], dtype=pd.CategoricalDtype(pd.Index(uniq)), validate=False
    )
    return result


def _code_dtype(n_categories: int) -> type[np.signedinteger[Any]]:
    """The code type pandas uses for ``n_categories`` categories."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_categories < np.iinfo(dtype).max:
            return dtype
    return np.int64


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain text (for small frames headed to figures and text ops)."""
    cats = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    return frame.astype(dict.fromkeys(cats, "str")) if cats else frame


def text(values: pd.Series) -> pd.Series:
    """A column as text (pandas ``str``) with missing values as '' (any input dtype)."""
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("") if values.hasnans else values
    if values.dtype.kind in "fiub" and values.isna().all():
        return pd.Series("", index=values.index, dtype="str")
    return values.astype(object).where(values.notna(), "").astype("str")


def empty_alterations() -> pd.DataFrame:
    """An empty canonical table with the right dtypes."""
    return conform(pd.DataFrame({c: [] for c in ALTERATION_COLUMNS}))


#: Text columns with many distinct values (kept as plain text, not categorical).
HIGH_CARDINALITY = frozenset({"protein_change"})


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Add missing canonical columns (empty) and order and type them.

    Text columns are categoricals (dictionary-encoded once, here, with
    categories sorted), except the few with near-unique values
    (:data:`HIGH_CARDINALITY`), which stay plain text. Missing text is ''.
    """
    out = {}
    n = len(frame)
    for col, dtype in ALTERATION_COLUMNS.items():
        if col in frame.columns:
            values = frame[col]
        elif dtype == "str":
            values = pd.Series(from_codes(np.zeros(n, dtype=np.int64), [""]), index=frame.index)
        elif dtype == "int64":
            values = pd.Series(np.full(n, -1, dtype=np.int64), index=frame.index)
        else:
            values = pd.Series(np.full(n, np.nan), index=frame.index)
        if dtype != "str":
            values = values.astype(np.dtype(dtype))
        elif col in HIGH_CARDINALITY:
            values = text(values)
        else:
            values = pd.Series(categorical_text(values), index=values.index)
        out[col] = values
    return pd.DataFrame(out).reset_index(drop=True)


def categorical_text(values: pd.Series) -> pd.Categorical:
    """Text as a categorical with sorted categories and '' for missing.

    Arrow-backed text is dictionary-encoded by pyarrow (one hash pass);
    a categorical keeps its codes.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = values.cat.categories.astype(str)
        codes = values.cat.codes.to_numpy().astype(np.int64)
    else:
        arr = pa.array(text(values).array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        encoded = pc.dictionary_encode(arr)
        cats = pd.Index(encoded.dictionary.to_pylist(), dtype=object)
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    labels = [*map(str, cats.tolist()), ""]  # tolist: iterating arrow text costs 5 µs a value
    codes = np.where(codes < 0, len(labels) - 1, codes)
    return from_codes(codes, labels)


def concat_alterations(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Stack canonical tables, keeping text columns categorical (categories united)."""
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    out = {}
    for col in frames[0].columns:
        parts = [f[col] for f in frames]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            out[col] = pd.Series(union_categoricals(parts, sort_categories=True))
        else:
            out[col] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(out)


@dataclass
class ParsedInput:
    """What a reader made of one file.

    ``table`` holds the input rows as read (arrow, text columns), so outputs can append
    annotation columns to them; ``alterations.source_row`` points into it.
    ``rows_in`` counts data rows in the file; every row is either in
    ``table`` or reported in ``issues`` (action ``dropped``).
    """

    name: str
    path: Path
    format: str
    table: pa.Table
    alterations: pd.DataFrame
    issues: list[RowIssue] = field(default_factory=list)
    rows_in: int = 0
    #: The sample id of every ``table`` row (stripped), where samples are cells.
    sample_cells: pd.Series | None = None
    #: The column ``sample_cells`` came from.
    sample_column: str | None = None
    #: 1-based file line of a ``table`` row.
    line_of: Callable[[int], int] | None = None
    #: Samples named in a header (copy-number matrix, VCF): name → (line, column label).
    header_samples: dict[str, tuple[int | None, str]] = field(default_factory=dict)

    def listed_samples(
        self, locate: Container[str] | None = None
    ) -> dict[str, tuple[int | None, str | None]]:
        """Every sample the file names → where it first appears (line, column).

        With ``locate``, file lines are looked up only for those samples (the
        others get ``None``): numbering the lines of a large file costs a pass
        over all of its bytes, and is paid only when an issue needs a line.
        """
        out: dict[str, tuple[int | None, str | None]] = dict(self.header_samples)
        if self.sample_cells is not None:
            cells = self.sample_cells.dropna()
            first = cells[~cells.duplicated().to_numpy()]
            for row, sid in zip(first.index.tolist(), first.astype(str).tolist(), strict=True):
                if sid in out:
                    continue
                wanted = self.line_of is not None and (locate is None or sid in locate)
                line = self.line_of(int(row)) if wanted and self.line_of is not None else None
                out[sid] = (line, self.sample_column)
        if not out and len(self.alterations):
            out = {str(s): (None, None) for s in pd.unique(self.alterations["sample_id"])}
        return out

    def sample_names(self) -> set[str]:
        """The samples the file names (the keys of :meth:`listed_samples`, no lines)."""
        out = set(self.header_samples)
        if self.sample_cells is not None:
            out.update(map(str, self.sample_cells.dropna().unique().tolist()))
        if not out and len(self.alterations):
            out = {str(s) for s in pd.unique(self.alterations["sample_id"])}
        return out
