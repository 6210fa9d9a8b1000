"""Delimited text tables (MAF, cBioPortal, fusion tables) read fast and strictly.

pyarrow parses the file (multi-threaded, every column as text). Rows whose
column count does not match the header are never silently dropped: each one
becomes a :class:`RowIssue` with its line number, and ``rows_in == rows_out +
len(issues)`` always holds. Line numbers of kept rows are computed only when
an error needs one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from trkres.errors import InputError, Location
from trkres.textio import check_utf8, read_text_bytes


@dataclass(frozen=True)
class RowIssue:
    """A row that could not be used as it is, and what was done with it."""

    file: str
    line: int | None
    column: str | None
    expected: str
    found: str
    action: str  # "dropped" or "kept"

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        col = f", column {self.column}" if self.column else ""
        return f"{where}{col}: expected {self.expected}, found {self.found} ({self.action})"


@dataclass
class TableRead:
    """A parsed table: text columns, where each row came from, and row issues."""

    path: Path
    #: The table as pyarrow read it (every column text), for column-wise kernels.
    arrow: pa.Table
    header_line: int  # 1-based line of the header
    issues: list[RowIssue] = field(default_factory=list)
    _lines: np.ndarray | None = None
    _raw: bytes | None = None
    _frame: pd.DataFrame | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """The same table in pandas (converted on first use: a wide copy-number
        matrix, thousands of columns, never needs it)."""
        if self._frame is None:
            self._frame = self.arrow.to_pandas()
        return self._frame

    @property
    def columns(self) -> list[str]:
        """Column names, in file order."""
        return list(self.arrow.column_names)

    @property
    def rows_in(self) -> int:
        """Data rows in the file (kept + dropped)."""
        return int(self.arrow.num_rows) + sum(1 for i in self.issues if i.action == "dropped")

    def lines(self) -> np.ndarray:
        """1-based file line of every kept row (computed on first use)."""
        if self._lines is None:
            self._lines = _line_numbers(self._raw or b"", self.header_line, self.arrow.num_rows)
        return self._lines

    def line_of(self, row: int) -> int:
        return int(self.lines()[row])


def _line_numbers(raw: bytes, header_line: int, n_rows: int) -> np.ndarray:
    """Lines of data rows: non-blank lines after the header with the header's field count."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10)
    if len(buf) and buf[-1] != 10:
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    has_cr = (lengths > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
    blank = (lengths - has_cr) <= 0
    tabs = np.add.reduceat((buf == 9).astype(np.int64), starts) if len(starts) else np.array([])
    tabs = np.where(lengths > 0, tabs, 0)
    header_index = header_line - 1
    want = tabs[header_index] if header_index < len(tabs) else 0
    line_no = np.arange(1, len(starts) + 1)
    ok = (line_no > header_line) & ~blank & (tabs == want)
    lines = np.asarray(line_no[ok], dtype=np.int64)
    return lines[:n_rows]


def _header_line(
    raw: bytes, comment: str | None, known: frozenset[str] = frozenset(), delimiter: str = "\t"
) -> int:
    """1-based line of the header.

    Normally the first line that is neither blank nor a comment. Some tools
    write their header as a comment (STAR-Fusion ``#FusionName``, Arriba
    ``#gene1``): when the first non-comment line names no known column but the
    last comment line before it does, that comment line is the header.
    """
    line = 0
    pos = 0
    last_comment = (0, b"")
    while pos < len(raw):
        end = raw.find(b"\n", pos)
        end = len(raw) if end < 0 else end
        text = raw[pos:end].rstrip(b"\r")
        line += 1
        if text.strip() and not (comment and text.startswith(comment.encode())):
            header_is_comment = (
                known
                and last_comment[0]
                and not _names_known(text, known, delimiter)
                and _names_known(last_comment[1], known, delimiter)
            )
            if header_is_comment:
                return last_comment[0]
            return line
        if text.strip():
            last_comment = (line, text)
        pos = end + 1
    return last_comment[0] if known and _names_known(last_comment[1], known, delimiter) else 0


def _names_known(text: bytes, known: frozenset[str], delimiter: str) -> bool:
    names = text.decode("utf-8", errors="replace").split(delimiter)
    return any(n.strip().lstrip("#").lower() in known for n in names)


_NON_BLANK = re.compile(rb"\S")


def read_delimited(
    path: Path,
    *,
    what: str,
    delimiter: str = "\t",
    comment: str | None = "#",
    known_columns: frozenset[str] = frozenset(),
    numeric: Callable[[list[str]], Collection[str]] | None = None,
) -> TableRead:
    """Read a delimited text file with a header into text columns.

    Leading comment lines (``#version``, cBioPortal's four ``#`` lines) are
    skipped. Raises :class:`InputError` for an empty file or a header with
    empty or duplicate names; malformed rows are dropped and reported.
    ``numeric`` names, from the header's names, columns to parse as float64 directly
    (a copy-number matrix's samples: no text per cell); when any of their cells is not
    a number, the whole file is read as text instead.
    """
    raw = read_text_bytes(path, what=what)
    known = frozenset(c.lstrip("#").lower() for c in known_columns)
    header_line = _header_line(raw, comment, known, delimiter)
    if header_line == 0:
        raise InputError(
            f"empty {what} file",
            location=Location(file=path),
            expected="a header line",
            found="none",
        )
    header_start = 0
    for _ in range(header_line - 1):
        header_start = raw.index(b"\n", header_start) + 1
    header_end = raw.find(b"\n", header_start)
    header_text = raw[header_start : header_end if header_end >= 0 else len(raw)]
    check_utf8(header_text, path, what=what, line0=header_line - 1)
    names = header_text.decode("utf-8").rstrip("\r").split(delimiter)
    # Some exporters quote header names ("Hugo_Symbol"); the quotes are not part of the name.
    names = [n.strip() for n in names]
    names = [n[1:-1] if len(n) > 1 and n[0] == n[-1] == '"' else n for n in names]
    seen: set[str] = set()
    for i, name in enumerate(names, start=1):
        if not name:
            raise InputError(
                f"empty column name in the {what} header",
                location=Location(file=path, line=header_line, column=i),
                expected="a name for every column",
                found="an empty name",
            )
        if name in seen:
            raise InputError(
                f"duplicate column '{name}' in the {what} header",
                location=Location(file=path, line=header_line, column=i),
                expected="unique column names",
                found=f"'{name}' twice",
            )
        seen.add(name)
    invalid: list[tuple[str, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append((row.text, row.actual_columns))
        return "skip"

    # A view, not a copy: the body of a large file is hundreds of MB.
    body = memoryview(raw)[header_end + 1 :] if header_end >= 0 else memoryview(b"")
    if _NON_BLANK.search(body) is None:  # a header and no data rows: an empty table
        empty = pa.table({n: pa.array([], pa.large_string()) for n in names})
        return TableRead(path=path, arrow=empty, header_line=header_line, _raw=raw)

    def parse(types: dict[str, pa.DataType]) -> pa.Table:
        invalid.clear()
        return pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char=False, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=True, null_values=[""]
            ),
        )

    text_types = dict.fromkeys(names, pa.large_string())
    try:
        table = None
        floats = set(numeric(names)) & set(names) if numeric is not None else set()
        if floats:
            with contextlib.suppress(pa.ArrowInvalid, UnicodeDecodeError):
                table = parse({**text_types, **dict.fromkeys(floats, pa.float64())})
        if table is None:
            table = parse(text_types)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        # Only now pay for a full decode: it finds the line and column of bad bytes.
        check_utf8(body, path, what=what, line0=header_line)
        raise InputError(
            f"cannot parse {what} file",
            location=Location(file=path),
            expected=f"{what} text",
            found=str(exc).encode("ascii", "backslashreplace").decode("ascii")[:200],
        ) from None
    result = TableRead(path=path, arrow=table, header_line=header_line, _raw=raw)
    if invalid:
        result.issues.extend(_locate_invalid(raw, header_line, invalid, len(names), path))
    return result


def _locate_invalid(
    raw: bytes, header_line: int, invalid: list[tuple[str, int]], n_cols: int, path: Path
) -> list[RowIssue]:
    lines = raw.decode("utf-8", errors="replace").split("\n")
    bad_texts: dict[str, list[int]] = {}
    for no, text in enumerate(lines[header_line:], start=header_line + 1):
        text = text.rstrip("\r")
        if text and text.count("\t") + 1 != n_cols:
            bad_texts.setdefault(text, []).append(no)
    issues = []
    for text, actual in invalid:
        nos = bad_texts.get(text.rstrip("\r"), [])
        line = nos.pop(0) if nos else None
        issues.append(
            RowIssue(
                file=str(path),
                line=line,
                column=None,
                expected=f"{n_cols} tab-separated fields",
                found=f"{actual}",
                action="dropped",
            )
        )
    return issues


def resolve_columns(
    read: TableRead,
    spec: Mapping[str, Sequence[str]],
    *,
    what: str,
    required: Sequence[str] = (),
) -> dict[str, str | None]:
    """Map canonical names to the file's columns (first alias present, case-insensitive).

    Raises :class:`InputError` naming the header line when a required
    canonical column has none of its aliases.
    """
    lower = {c.lower(): c for c in read.columns}
    out: dict[str, str | None] = {}
    for canon, aliases in spec.items():
        out[canon] = next((lower[a.lower()] for a in aliases if a.lower() in lower), None)
    for group in required:
        options = [g.strip() for g in group.split("|")]
        if not any(out.get(o) for o in options):
            wanted = " or ".join(
                "/".join(spec[o]) if len(spec[o]) < 4 else f"{'/'.join(spec[o][:3])}/…"
                for o in options
            )
            raise InputError(
                f"{what} file lacks a required column",
                location=Location(file=read.path, line=read.header_line),
                expected=f"a column {wanted}",
                found=", ".join(read.columns[:12]) + (" …" if len(read.columns) > 12 else ""),
            )
    return out
