"""Tables in: CSV / TSV (by suffix, ``.gz`` allowed), Parquet and Excel, every cell as text.

One reader for the long tables of every domain (dose-response, in vivo volumes ...): its
errors name the file and line, and data row ``i`` (0-based) is on line ``i + 2``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trkres.errors import InputError, Location
from trkres.textio import check_unique_header, read_text

__all__ = [
    "EXCEL_SUFFIXES",
    "ISSUE_COLUMNS",
    "MISSING_CELLS",
    "blank_cells",
    "parse_numbers",
    "read_table",
]

_SEP_NAMES = {",": "comma", "\t": "tab", ";": "semicolon"}

#: Spreadsheet suffixes read with openpyxl (first sheet unless one is named).
EXCEL_SUFFIXES = (".xlsx", ".xlsm")

#: Cells read as a missing value (the row is reported, not used).
MISSING_CELLS = {"", "na", "nan", "n/a", "null", "none"}
#: Columns of the issues table: one row per input row that was not used.
ISSUE_COLUMNS = ["file", "line", "row", "column", "expected", "found", "action"]


def read_table(path: Path, *, typed: bool = False) -> pd.DataFrame:
    """A CSV/TSV (by suffix; ``.gz`` allowed), Parquet or Excel table with every cell as text.

    Errors name the file and line: empty file, header only, ragged rows (a row with fewer
    fields than the header, e.g. ``M1,A`` under four columns, is refused like one with more:
    a cut-off or mis-separated line is not a row of empty cells), binary
    or non-UTF-8 content. Line endings may be LF, CRLF or old-Mac CR. Data row
    ``i`` (0-based index) is on line ``i + 2``; blank lines are kept as empty rows
    so that holds (callers drop them). With ``typed``, a Parquet table keeps its column
    types (numbers stay numbers: the long reader checks them without going through text).
    A ``.csv`` whose header holds semicolons and no comma is read with ``;``
    (spreadsheets in decimal-comma locales write those).
    """
    import io

    if path.suffix.lower() in (*EXCEL_SUFFIXES, ".xls"):
        return _read_excel(path)
    if path.suffix.lower() == ".parquet":
        try:
            parquet = pd.read_parquet(path)
            if not typed:
                parquet = parquet.astype(object)
        except (OSError, ValueError) as exc:
            raise InputError("cannot read Parquet file", location=Location(file=path),
                             expected="a Parquet table", found=str(exc).splitlines()[0][:200]) from None  # fmt: skip
        check_unique_header(list(parquet.columns), path, what="table")
        return parquet
    text = read_text(path, "table")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError("empty file", location=Location(file=path, line=1),
                         expected="a header line and data rows", found="no text")  # fmt: skip
    name = path.name.lower().removesuffix(".gz")
    sep = "," if name.endswith(".csv") else "\t"
    first = text.split("\n", 1)[0]
    if sep == "," and ";" in first and "," not in first:
        sep = ";"  # a "CSV" from a spreadsheet set to a decimal-comma locale
    import csv

    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0]), delimiter=sep), [])
    check_unique_header(header, path, what="table")
    _check_widths(text, path, sep)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine="c")  # fmt: skip
    except pd.errors.ParserError as exc:
        import re

        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            raise InputError("row has more fields than the header", location=Location(file=path, line=int(m[2])),
                             expected=f"{m[1]} fields (separator {_SEP_NAMES[sep]})",
                             found=f"{m[3]} fields") from None  # fmt: skip
        raise InputError("cannot parse table", location=Location(file=path),
                         expected="a CSV/TSV table", found=str(exc).strip()[:200]) from None  # fmt: skip
    except pd.errors.EmptyDataError:
        raise InputError("empty file", location=Location(file=path, line=1),
                         expected="a header line and data rows", found="no columns") from None  # fmt: skip
    if len(frame.columns):  # Parquet keeps duplicate names as they are
        check_unique_header(list(frame.columns), path, what="table")
    if _no_data(text, sep, frame):
        raise InputError("no data rows", location=Location(file=path, line=2),
                         expected="at least one data row below the header", found="header only")  # fmt: skip
    return frame


def _no_data(text: str, sep: str, frame: pd.DataFrame) -> bool:
    """Whether every cell below the header is empty. Fast on the text: a body with any
    character besides separators, line ends and quotes has a non-empty cell; only
    otherwise (empty or quoted-empty cells) are the parsed cells checked."""
    body = text.split("\n", 1)[1] if "\n" in text else ""
    if body.translate(str.maketrans("", "", f'{sep}\n"')):
        return False
    blank = frame.isna().all(axis=1) | (frame.fillna("") == "").all(axis=1)
    return not bool((~blank).any())


def blank_cells(cells: pd.Series) -> np.ndarray:
    """Cells that are missing, empty or only whitespace (``str(cell).strip() == ""``);
    pyarrow's kernels on arrow-backed text (a few C calls instead of four pandas passes)."""
    if cells.dtype.kind in "biufcmM":
        return np.asarray(cells.isna().to_numpy(), dtype=bool)
    if isinstance(cells.dtype, pd.StringDtype) and cells.dtype.storage == "pyarrow":
        arrow = pa.array(cells.array)
        empty = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(arrow), ""), True)
        return np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray((cells.fillna("").astype(str).str.strip() == "").to_numpy(), dtype=bool)


def _check_widths(text: str, path: Path, sep: str) -> None:
    """Refuse the first ragged line of a delimited ``text``: a row with more or fewer fields
    than its header.

    Pandas pads a short row with empty cells (indistinguishable from cells written empty)
    and reads a long first data row as an index column; a line of only separators and
    blanks is a blank row (kept empty, for the callers to drop) and is not checked."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text), delimiter=sep)
    width = len(next(reader, []))
    for fields in reader:
        if len(fields) == width or not any(f.strip() for f in fields):
            continue
        if len(fields) < width:
            raise InputError("row has fewer fields than the header", location=Location(file=path, line=reader.line_num, column=len(fields) + 1),
                             expected=f"{width} fields (separator {_SEP_NAMES[sep]})",
                             found=f"{len(fields)} fields")  # fmt: skip
        raise InputError("row has more fields than the header", location=Location(file=path, line=reader.line_num, column=width + 1),
                         expected=f"{width} fields (separator {_SEP_NAMES[sep]})",
                         found=f"{len(fields)} fields")  # fmt: skip


def _read_excel(path: Path) -> pd.DataFrame:
    """The first sheet of an ``.xlsx`` workbook as text cells; row ``i`` is on sheet row ``i + 2``."""
    if path.suffix.lower() == ".xls":
        raise InputError("old Excel (.xls) workbooks cannot be read", location=Location(file=path),
                         expected="an .xlsx workbook, or the sheet saved as CSV", found=".xls")  # fmt: skip
    try:
        frame = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False,
                              header=0, engine="openpyxl")  # fmt: skip
    except FileNotFoundError:
        raise InputError("file not found", location=Location(file=path),
                         expected="an existing .xlsx file", found="nothing there") from None  # fmt: skip
    except Exception as exc:
        raise InputError("cannot read Excel workbook", location=Location(file=path),
                         expected="an .xlsx workbook", found=f"{type(exc).__name__}: {exc}"[:200]) from None  # fmt: skip
    names = [str(c) for c in frame.columns]
    check_unique_header(names, path, what="table")
    frame = frame.fillna("")
    if not len(frame) or (frame == "").all(axis=None):
        raise InputError("no data rows", location=Location(file=path, line=2),
                         expected="at least one data row below the header", found="header only")  # fmt: skip
    return frame


_DECIMAL_COMMA = r"^[+-]?\d+,\d+$"
#: A number with thousands separators that cannot be a decimal comma: groups of three
#: digits and a decimal point (``1,234.5``), or two or more groups (``1,234,567``).
_THOUSANDS = r"^[+-]?[1-9]\d{0,2}(?:(?:,\d{3})+\.\d+|(?:,\d{3}){2,})$"
#: Digits in groups of three (``1,100``): thousands where the column's decimal mark is '.'.
_GROUPED = r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+$"


def parse_numbers(
    cells: pd.Series, notes: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values (NaN where missing), the missing mask, and the mask of cells that are not numbers.

    Typed number columns (Parquet, DataFrames) pass as they are; text cells are parsed, with
    :data:`MISSING_CELLS` read as missing. With ``notes``, a column whose every non-number cell is a decimal-comma number (``12,5``) and which
    has no decimal point elsewhere is read with the comma as the decimal mark; cells with
    thousands separators that cannot be decimal commas (``1,234.5``, ``1,234,567``, or
    ``1,100`` in a column whose decimal mark is ``.``: a spreadsheet's number format) are
    read without them. Either is said in ``notes``."""
    if cells.dtype.kind in "iuf":
        values = cells.to_numpy(dtype=float, na_value=np.nan)
        return values, np.isnan(values), np.zeros(len(values), dtype=bool)
    text = cells.astype(str).str.strip()
    missing = text.str.lower().isin(MISSING_CELLS).to_numpy() | cells.isna().to_numpy()
    values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & ~missing
    if bad.any() and notes is not None:
        comma = text.str.fullmatch(_DECIMAL_COMMA).to_numpy()
        if comma[bad].all() and not text[~missing].str.contains(".", regex=False).any():
            values = pd.to_numeric(text.str.replace(",", ".", regex=False).where(~missing),
                                   errors="coerce").to_numpy(dtype=float)  # fmt: skip
            notes.append(f"column {cells.name!r} uses a decimal comma (e.g. {text[bad].iloc[0]!r}): "
                         "read as a decimal mark")  # fmt: skip
            bad = np.isnan(values) & ~missing
    if bad.any() and notes is not None:
        grouped = bad & text.str.fullmatch(_THOUSANDS).to_numpy()
        if text[~missing].str.contains(".", regex=False).any():  # '.' is the decimal mark
            grouped |= bad & text.str.fullmatch(_GROUPED).to_numpy()
        if grouped.any():
            plain = text[grouped].str.replace(",", "", regex=False)
            values = values.copy()
            values[grouped] = pd.to_numeric(plain, errors="coerce").to_numpy(dtype=float)
            notes.append(f"column {cells.name!r}: {int(grouped.sum())} cell(s) with thousands "
                         f"separators (e.g. {text[grouped].iloc[0]!r}) read without them")  # fmt: skip
            bad = np.isnan(values) & ~missing
    return values, missing, bad
