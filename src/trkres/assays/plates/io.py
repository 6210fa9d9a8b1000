"""Plate-reader exports in: generic grids and the BioTek Gen5, SoftMax Pro and EnVision text exports.

Every reader returns one long table -- ``plate`` (1-based, in file order),
``read`` (the measurement's label), ``well`` (``A01``), ``row``, ``column``
(1-based), ``value`` (float; NaN where the reader printed a flag) and ``flag``
(the reader's text for non-numeric cells: ``OVRFLW``, ``MISSED``, ``NaN``…;
empty otherwise). Nothing non-numeric is dropped or guessed: it stays a
labelled NaN. Plate sizes: 96 (8 × 12), 384 (16 × 24), 1536 (32 × 48).

Why hand-written: Benchling's ``allotropy`` parses these vendors' files but
pins an older pandas than trkres uses; each format here is a header plus a
tab/comma grid, read with the standard library and NumPy.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location
from trkres.textio import MAX_LINE_CHARS, check_unique_header, read_text

PlateFormat = Literal["grid", "gen5", "softmax", "envision"]
#: (rows, columns) of each plate size.
SIZES = {96: (8, 12), 384: (16, 24), 1536: (32, 48)}
_ROW_LETTERS = [chr(65 + i) for i in range(26)] + [
    f"A{chr(65 + i)}" for i in range(6)
]  # A..Z, AA..AF
COLUMNS = ["plate", "read", "well", "row", "column", "value", "flag"]


def well_name(row: int, column: int) -> str:
    """1-based row and column → ``A01`` (rows beyond Z are AA…AF, as on 1536-well plates)."""
    return f"{_ROW_LETTERS[row - 1]}{column:02d}"


def parse_well(text: str) -> tuple[int, int] | None:
    """``A1``, ``A01``, ``AF48`` → (row, column), 1-based; None if not a well name."""
    m = re.fullmatch(r"\s*([A-Za-z]{1,2})0*(\d{1,2})\s*", text)
    if not m:
        return None
    letters = m.group(1).upper()
    if letters not in _ROW_LETTERS or int(m.group(2)) == 0:  # columns count from 1
        return None
    return _ROW_LETTERS.index(letters) + 1, int(m.group(2))


def plate_size(rows: int, columns: int) -> int | None:
    """The smallest standard plate holding ``rows`` × ``columns``; None if none does."""
    for size, (r, c) in SIZES.items():
        if rows <= r and columns <= c:
            return size
    return None


def read_text_file(path: Path, what: str, *, latin1_fallback: bool = False) -> str:
    """A text input as one string with ``\\n`` line ends, or an :class:`InputError` saying why
    not (see :func:`trkres.textio.read_text`); lines longer than :data:`MAX_LINE_CHARS` are
    refused."""
    return read_text(path, what, latin1_fallback=latin1_fallback, max_line_chars=MAX_LINE_CHARS)


def show_cell(value: object) -> str:
    """A cell as the user wrote it: numbers plainly (``inf``, ``1e+308``), text quoted, blanks named."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "empty"
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return "empty"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):g}"
    return repr(str(value))


def text_suffix(path: Path) -> str:
    """The suffix that says a file's format, looking through ``.gz`` (``map.csv.gz`` → ``.csv``)."""
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def check_not_semicolons(text: str, path: Path, what: str, seps: str) -> None:
    """Refuse a semicolon-separated file (a spreadsheet saved as "CSV" where the comma is
    the decimal mark) read with ``seps``: its first non-blank line holds ``;`` and none of
    ``seps``, so it would be one column (or no grid) and fail later with a puzzling error."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    if ";" in first and not any(c in first for c in seps):
        shown = " or ".join(repr(c) for c in seps)
        raise InputError(f"{what} is separated by semicolons", location=Location(file=path, line=1),
                         expected=f"fields separated by {shown}", found=f"';' in {first[:60]!r}",
                         hint="save the sheet as tab-separated text (or CSV with commas and a "
                         "decimal point)")  # fmt: skip


def read_delimited_text(path: Path, what: str, sep: str, **kwargs: object) -> pd.DataFrame:
    """A delimited table with a header, via :func:`read_text_file`; every line must have the header's
    number of fields (a ragged line is an error naming it, never padded or dropped)."""
    text = read_text_file(path, what)
    if not text.strip():
        raise InputError(f"empty {what}", location=Location(file=path, line=1),
                         expected="a header line and data rows", found="an empty file")  # fmt: skip
    check_not_semicolons(text, path, what, sep)
    try:
        reader = csv.reader(io.StringIO(text), delimiter=sep)
        width = None
        for fields in reader:
            if not fields or not any(f.strip() for f in fields):
                continue
            if width is None:
                width = len(fields)
                check_unique_header(fields, path, what=what, line=reader.line_num)
            elif len(fields) != width:
                raise InputError(f"ragged row in {what}", location=Location(file=path, line=reader.line_num),
                                 expected=f"{width} fields, as in the header (separator {sep!r})",
                                 found=f"{len(fields)} fields")  # fmt: skip
        frame = pd.read_csv(io.StringIO(text), sep=sep, **kwargs)  # type: ignore[call-overload]
    except (csv.Error, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read {what}: {exc}", location=Location(file=path),
                         expected=f"delimited text (separator {sep!r}) with a header") from None  # fmt: skip
    return frame  # type: ignore[no-any-return]


def _read_text(path: Path) -> str:
    return read_text_file(path, "plate export", latin1_fallback=True)


def _cells(
    values: list[str], path: Path, line: int, first_col: int
) -> tuple[list[float], list[str]]:
    nums, flags = [], []
    for k, v in enumerate(values):
        v = v.strip()
        try:
            nums.append(float(v))
            flags.append("" if np.isfinite(float(v)) else v)
        except ValueError:
            if v == "":
                raise InputError("empty cell in a plate grid", location=Location(file=path, line=line, column=first_col + k),
                                 expected="a number or the reader's flag (e.g. OVRFLW)", found="nothing") from None  # fmt: skip
            nums.append(np.nan)
            flags.append(v)
    return nums, flags


def _row(
    plate: int, read: str, row: int, values: list[float], flags: list[str]
) -> list[tuple[int, str, int, int, float, str]]:
    """One grid row as records (plate, read, row, column, value, flag)."""
    return [
        (plate, read, row, c, v, f)
        for c, (v, f) in enumerate(zip(values, flags, strict=True), start=1)
    ]


def _frame(records: list[tuple[int, str, int, int, float, str]], path: Path, missing: str,
           expected: str) -> pd.DataFrame:  # fmt: skip
    """The long table of a reader's records; none at all is an error saying what was looked for."""
    if not records:
        raise InputError(missing, location=Location(file=path), expected=expected, found="none")
    plate, read, row, col, value, flag = zip(*records, strict=True)
    out = pd.DataFrame(
        {"plate": plate, "read": read, "row": row, "column": col, "value": value, "flag": flag}
    )
    out.insert(2, "well", [well_name(r, c) for r, c in zip(out["row"], out["column"], strict=True)])
    return out[COLUMNS]


def _check_shape(path: Path, line: int, rows: int, columns: int) -> None:
    if plate_size(rows, columns) is None:
        raise InputError("grid does not fit a 96-, 384- or 1536-well plate", location=Location(file=path, line=line),
                         expected="at most 32 rows × 48 columns", found=f"{rows} × {columns}")  # fmt: skip


def read_grid(path: Path) -> pd.DataFrame:
    """Generic grids (CSV, TSV or Excel): a header row of column numbers 1..N, then rows labelled A, B, …

    Several grids in one file (or in an Excel workbook's sheets, in order) are
    several plates (or reads: a text label in the cell after the last column
    names the read, the same on every row of the grid). A blank or text line ends a grid;
    other lines (titles, notes) are not read, and nothing is dropped unsaid: the table's
    ``attrs["grids"]`` holds (header line, rows, columns) of each grid read and
    ``attrs["skipped_lines"]`` every other non-blank line (a header with no rows too).
    A row label out of order (``Q`` after ``C``, a second ``A``), a value beyond the
    header's last column and cells after the read label are errors at their line and
    column; empty cells after the last column are padding. Excel cells are read with
    openpyxl (an .xlsx is recognised by its bytes too, whatever its name); an Excel
    file's lines are its sheets' rows in order, one blank line after each sheet.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
    if (
        path.suffix.lower() in (".xlsx", ".xlsm") or head == b"PK\x03\x04"
    ):  # a workbook by name or bytes
        if head != b"PK\x03\x04":  # an .xlsx is a ZIP archive; anything else is misnamed
            raise InputError("not an Excel workbook", location=Location(file=path, line=1, column=1),
                             expected="an .xlsx file (a ZIP archive starting with PK)",
                             found=f"bytes {head.hex(' ') or 'none'}")  # fmt: skip
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds on damaged workbooks
            raise InputError(f"cannot read Excel workbook: {type(exc).__name__}: {exc}",
                             location=Location(file=path), expected="a valid .xlsx workbook") from None  # fmt: skip
        lines = [["" if pd.isna(v) else re.sub(r"^(\d+)\.0$", r"\1", str(v)) for v in row] for sheet in sheets.values()
                 for row in [*sheet.itertuples(index=False, name=None), ()]]  # fmt: skip
    else:
        text = _read_text(path)
        delim = "\t" if text.count("\t") > text.count(",") else ","
        lines = list(csv.reader(io.StringIO(text), delimiter=delim))
    records: list[tuple[int, str, int, int, float, str]] = []
    grids: list[tuple[int, int, int]] = []  # (header line, rows, columns)
    skipped: list[int] = []
    i = 0
    while i < len(lines):
        cells = [c.strip() for c in lines[i]]
        width = _grid_width(cells)
        if not width:
            if any(cells):
                skipped.append(i + 1)
            i += 1
            continue
        rows, label = 0, ""
        j = i + 1
        while j < len(lines):
            letter = lines[j][0].strip() if lines[j] else ""
            if letter.upper() not in _ROW_LETTERS:
                break  # a blank or text line ends the grid
            if rows == len(_ROW_LETTERS) or letter.upper() != _ROW_LETTERS[rows]:
                want = (
                    f"row {_ROW_LETTERS[rows]}" if rows < len(_ROW_LETTERS) else "no row after AF"
                )
                raise InputError("row label out of sequence in a plate grid", location=Location(file=path, line=j + 1, column=1),
                                 expected=f"{want} (rows A, B, … in order; a blank or text line ends the grid)",
                                 found=f"row {letter}")  # fmt: skip
            values, flags = _cells(lines[j][1 : 1 + width], path, j + 1, 2)
            if len(values) < width:
                raise InputError("short row in a plate grid", location=Location(file=path, line=j + 1, column=len(lines[j]) + 1),
                                 expected=f"{width} values", found=f"{len(values)}")  # fmt: skip
            row_label = _read_label(lines[j][1 + width :], path, j + 1, width)
            if rows == 0:
                label = row_label
            elif row_label != label:
                first = f"{label!r}" if label else "no label"
                raise InputError("read label differs between rows of one plate grid", location=Location(file=path, line=j + 1, column=width + 2),
                                 expected=f"{first}, as on row A (line {i + 2}): one grid is one read",
                                 found=repr(row_label) if row_label else "no label")  # fmt: skip
            rows += 1
            records.extend(_row(len(grids) + 1, label or "value", rows, values, flags))
            j += 1
        if rows:
            _check_shape(path, i + 1, rows, width)
            grids.append((i + 1, rows, width))
            _check_no_gap(lines, j, rows, path)
        else:  # a header with no rows under it is no plate
            skipped.append(i + 1)
        i = j
    if not records and not grids:  # nothing read: say so if the fields were ';'-separated
        semicolons = [";".join(line) for line in lines if any(";" in c for c in line)]
        if semicolons:
            check_not_semicolons(semicolons[0], path, "plate grid", "\t")
    out = _frame(
        records, path, "no plate grid found", "a header row 1, 2, … then rows A, B, … of values"
    )
    out.attrs["grids"] = tuple(grids)
    out.attrs["skipped_lines"] = tuple(skipped)
    return out


def _check_no_gap(lines: list[list[str]], end: int, rows: int, path: Path) -> None:
    """A grid that stops at a blank line, then goes on with its next row (a spreadsheet's
    empty row inside the plate), is an error: the rows after the gap would not be read."""
    k = end
    while k < len(lines) and not any(c.strip() for c in lines[k]):
        k += 1
    if k == end or k >= len(lines) or rows >= len(_ROW_LETTERS):
        return
    cells = [c.strip() for c in lines[k]]
    if cells[0].upper() == _ROW_LETTERS[rows] and any(_is_number(c) for c in cells[1:]):
        raise InputError("blank line inside a plate grid", location=Location(file=path, line=end + 1),
                         expected=f"row {_ROW_LETTERS[rows]} right after row {_ROW_LETTERS[rows - 1]} "
                         f"(line {end}); a blank line ends the grid",
                         found=f"a blank line, then row {cells[0]} on line {k + 1}")  # fmt: skip


def _grid_width(cells: list[str]) -> int:
    """N if ``cells`` (stripped) are a grid header -- any first cell, then 1, 2, …, N (N ≥ 2) -- else 0."""
    nums = [c for c in cells[1:] if c]
    if (
        len(nums) >= 2
        and all(c.isascii() and c.isdigit() for c in nums)
        and [int(c) for c in nums] == list(range(1, len(nums) + 1))
    ):
        return len(nums)
    return 0


def _read_label(extra: list[str], path: Path, line: int, width: int) -> str:
    """The read label in the cells after a grid row's last column: one text cell, or none.

    Empty cells at the end are padding (spreadsheets write them); a number there is one
    value more than the header has columns, and anything after the label is an error."""
    cells = [c.strip() for c in extra]
    while cells and not cells[-1]:
        cells.pop()
    if not cells:
        return ""
    column = width + 2  # the label column, 1-based: row label, then ``width`` values
    if _is_number(cells[0]):
        raise InputError("row has more values than the header has columns", location=Location(file=path, line=line, column=column),
                         expected=f"{width} values (columns 1..{width}), then at most a read label (text)",
                         found=f"{width + sum(_is_number(c) for c in cells)} values: {cells[0]!r} in column {column}")  # fmt: skip
    if len(cells) > 1:
        at = next(k for k in range(1, len(cells)) if cells[k])
        after = repr(cells[0]) if cells[0] else "an empty label cell"
        raise InputError("cell after the read label of a plate grid row", location=Location(file=path, line=line, column=column + at),
                         expected=f"the {width} values, then at most one read label (text)",
                         found=f"{cells[at]!r} after {after}")  # fmt: skip
    return cells[0]


def read_gen5(path: Path) -> pd.DataFrame:
    """BioTek Gen5 text export: the grids under ``Results`` (one per read; continuation lines
    holding further reads of the same wells); the ``Layout`` grid is skipped."""
    lines = _read_text(path).split("\n")
    records: list[tuple[int, str, int, int, float, str]] = []
    plate = 0
    section = ""
    i = 0
    while i < len(lines):
        parts = lines[i].split("\t")
        head = parts[0].strip()
        if head == "Plate Number":
            plate += 1
        if head and len(parts) == 1:
            section = head
        header = [p.strip() for p in parts[1:] if p.strip()]
        if (
            head == ""
            and len(header) >= 2
            and header == [str(k) for k in range(1, len(header) + 1)]
        ):
            width = len(header)
            j = i + 1
            row = 0
            cells_per_row = 0  # the grid's first row's, trailing empty cells left out
            while j < len(lines) and lines[j].strip():
                cells = _trimmed(lines[j].split("\t"))
                letter = cells[0]
                n_cells = len(cells)
                if not cells_per_row:
                    cells_per_row = n_cells
                if n_cells != cells_per_row or n_cells not in (1 + width, 2 + width):
                    # a short row would read its read label as a value, shifted out of its read
                    raise InputError("row of a Gen5 grid has the wrong number of cells",
                                     location=Location(file=path, line=j + 1),
                                     expected=f"a row label, {width} values and the read label, as on line {i + 2}"
                                     f" ({cells_per_row} cells)", found=f"{n_cells} cells")  # fmt: skip
                if letter:
                    row += 1
                    if row > len(_ROW_LETTERS) or letter.upper() != _ROW_LETTERS[row - 1]:
                        raise InputError("unexpected row label in a Gen5 grid", location=Location(file=path, line=j + 1, column=1),
                                         expected=_ROW_LETTERS[row - 1] if row <= len(_ROW_LETTERS) else "no row after AF",
                                         found=letter)  # fmt: skip
                elif not row:
                    raise InputError("Gen5 grid starts with a continuation line", location=Location(file=path, line=j + 1, column=1),
                                     expected="row A's label before its further reads", found="no row label")  # fmt: skip
                label = cells[1 + width] if len(cells) > 1 + width else "value"
                if section.lower() != "layout" and label != "Well ID":
                    values, flags = _cells(cells[1 : 1 + width], path, j + 1, 2)
                    records.extend(_row(max(plate, 1), label, row, values, flags))  # fmt: skip
                j += 1
            _check_shape(path, i + 1, row, width)
            i = j
            continue
        i += 1
    return _frame(
        records,
        path,
        "no Results grid in the Gen5 export",
        "a 'Results' section with a 1..N header and rows A, B, …",
    )


def read_softmax(path: Path) -> pd.DataFrame:
    """SoftMax Pro plate-format text export (often UTF-16): the first grid of each ``Plate:`` block.

    The block header gives the read (e.g. ``450``); each grid row starts with a
    tab and the temperature (on the first row only).
    """
    lines = _read_text(path).split("\n")
    records: list[tuple[int, str, int, int, float, str]] = []
    plate = 0
    i = 0
    while i < len(lines):
        parts = lines[i].split("\t")
        if parts[0].strip() == "Plate:":
            plate += 1
            if "PlateFormat" not in parts:
                raise InputError("SoftMax Pro block is not in plate format", location=Location(file=path, line=i + 1),
                                 expected="PlateFormat", found=", ".join(parts[:6]))  # fmt: skip
            read = next((p.strip() for p in parts[15:17] if p.strip()), "value")
            header = lines[i + 1].split("\t") if i + 1 < len(lines) else []
            numbers = [h.strip() for h in header[2:] if h.strip()]
            width = len(numbers)
            if numbers != [str(k) for k in range(1, width + 1)]:
                raise InputError("SoftMax Pro grid header not found", location=Location(file=path, line=i + 2),
                                 expected="tab, Temperature, 1, 2, …", found=lines[i + 1][:60] if i + 1 < len(lines) else "end of file")  # fmt: skip
            j = i + 2
            row = 0
            while j < len(lines) and lines[j].startswith("\t") and lines[j].strip():
                cells = _trimmed(lines[j].split("\t"))
                row += 1
                if len(cells) != 2 + width:  # a short row would shift no well, but lose one
                    raise InputError("row of a SoftMax Pro grid has the wrong number of values",
                                     location=Location(file=path, line=j + 1),
                                     expected=f"{width} values (columns 1..{width}, line {i + 2})",
                                     found=f"{len(cells) - 2} values")  # fmt: skip
                values, flags = _cells(cells[2:], path, j + 1, 3)
                records.extend(_row(plate, read, row, values, flags))
                j += 1
            _check_shape(path, i + 2, row, width)
            i = j
            continue
        i += 1
    return _frame(
        records, path, "no plate block in the SoftMax Pro export", "'Plate:' blocks in PlateFormat"
    )


def read_envision(path: Path) -> pd.DataFrame:
    """PerkinElmer EnVision CSV export: per ``Plate information`` block, the unlabelled grid that
    follows ``Background information``; the read is the block's ``Label`` (or ``Group``).

    A grid is the first non-blank line after those blocks (if mostly numbers), or any line
    of numbers, and the non-blank lines under it; each keeps its cells in place: a reader
    flag (``OVRFLW``) is a labelled NaN at its well, an empty cell inside a row and a row of
    another width are errors at their line, never shifted or dropped."""
    lines = list(csv.reader(io.StringIO(_read_text(path))))
    records: list[tuple[int, str, int, int, float, str]] = []
    plate = 0
    read = "value"
    expect_grid = False  # after a block header: the next non-blank line is the grid
    i = 0
    while i < len(lines):
        cells = _trimmed(lines[i])
        if cells and cells[0] == "Plate information" and i + 2 < len(lines):
            header, data = lines[i + 1], lines[i + 2]
            fields = dict(zip((h.strip() for h in header), (d.strip() for d in data), strict=False))
            plate = int(fields["Plate"]) if fields.get("Plate", "").isdigit() else plate + 1
            read = (
                fields.get("Label")
                or fields.get("Formula", "").split(" = ")[0]
                or fields.get("Group")
                or "value"
            )
            i += 3
            expect_grid = True
            continue
        if cells and cells[0] == "Background information":
            i += 1
            while i < len(lines) and _trimmed(lines[i]):
                i += 1  # its header and data lines, up to the blank line before the grid
            expect_grid = True
            continue
        starts = (
            plate
            and len(cells) >= 2
            and cells[0]
            and (
                all(_is_number(c) for c in cells if c)
                or (expect_grid and 2 * sum(_is_number(c) for c in cells) > len(cells))
            )
        )
        if cells:
            expect_grid = False
        if starts:
            j = i
            row = 0
            width = len(cells)
            while j < len(lines):
                row_cells = _trimmed(lines[j])
                if not row_cells or not any(_is_number(c) for c in row_cells):
                    break  # a blank or text line ends the grid
                if len(row_cells) != width:
                    raise InputError("ragged row in an EnVision grid", location=Location(file=path, line=j + 1),
                                     expected=f"{width} cells, as in the grid's first row (line {i + 1})",
                                     found=f"{len(row_cells)} cells")  # fmt: skip
                row += 1
                _check_shape(path, i + 1, row, width)
                values, flags = _cells(row_cells, path, j + 1, 1)
                records.extend(_row(plate, read, row, values, flags))
                j += 1
            _check_shape(path, i + 1, row, width)
            i = j
            continue
        i += 1
    return _frame(
        records,
        path,
        "no plate grid in the EnVision export",
        "'Plate information' blocks followed by a grid of numbers",
    )


def _trimmed(fields: list[str]) -> list[str]:
    """A CSV line's cells, stripped, without the empty cells at its end (EnVision ends each row
    with a comma)."""
    cells = [c.strip() for c in fields]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


READERS = {"grid": read_grid, "gen5": read_gen5, "softmax": read_softmax, "envision": read_envision}


def read_plate_values(path: Path, fmt: PlateFormat = "grid") -> pd.DataFrame:
    """Read an export in ``fmt`` (grid, gen5, softmax, envision) into the long table above."""
    try:
        reader = READERS[fmt]
    except KeyError:
        raise InputError("unknown plate format", location=Location(file=path),
                         expected=", ".join(READERS), found=fmt) from None  # fmt: skip
    try:
        return reader(path)
    except OSError as exc:
        raise InputError(
            f"cannot read plate file: {exc.strerror}", location=Location(file=path)
        ) from None
    except csv.Error as exc:
        raise InputError(f"malformed delimited text: {exc}", location=Location(file=path),
                         expected="CSV or tab-separated text") from None  # fmt: skip
