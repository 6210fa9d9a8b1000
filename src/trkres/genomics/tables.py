"""Delimited text tables (MAF, cBioPortal, fusion tables) read fast and strictly.

pyarrow parses the file (multi-threaded, every column as text). Rows whose
column count does not match the header are never silently dropped: each one
becomes a :class:`RowIssue` with its line number, and ``rows_in == rows_out +
len(issues)`` always holds. Line numbers of kept rows are computed only when
an error needs one.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from trkres.errors import InputError, Location


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


def read_bytes(path: Path) -> bytes:
    """File content, gunzipped when it is gzip; clear errors for missing files."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", location=Location(file=path)) from None
    except OSError as exc:
        raise InputError(
            f"cannot read file: {exc.strerror}", location=Location(file=path)
        ) from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(
                f"broken gzip file: {exc}",
                location=Location(file=path),
                expected="a complete gzip file",
                found="a truncated or corrupt gzip stream",
            ) from None
    return raw


#: File signatures of binary formats people hand over instead of text.
_SIGNATURES = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an OLE2 file (an .xls workbook?)"),
    (b"%PDF", "a PDF document"),
    (b"BZh", "a bzip2 file"),
    (b"\xfd7zXZ", "an xz file"),
    (b"PAR1", "a Parquet file"),
    (b"BCF", "a BCF file (give it as a VCF input)"),
)


def read_text_bytes(path: Path, *, what: str) -> bytes:
    """File content as UTF-8 text bytes with LF (or CRLF) line ends.

    Gunzips; strips a UTF-8 byte-order mark; transcodes UTF-16 that starts with
    a byte-order mark; turns bare-CR (old Mac, as maftools distributes some
    MAFs) line ends into LF. Binary content (a NUL byte, an .xlsx, a PDF) is an
    :class:`InputError` that names the kind of file, never its bytes.
    """
    raw = read_bytes(path)
    if raw[:3] == b"\xef\xbb\xbf":
        raw = raw[3:]
    elif raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16-le" if raw[:2] == b"\xff\xfe" else "utf-16-be"
        try:
            raw = raw[2:].decode(encoding).encode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{what} file starts as UTF-16 but is not valid UTF-16",
                location=Location(file=path),
                expected="UTF-8 (or UTF-16 throughout) text",
                found=f"an invalid UTF-16 sequence at byte {exc.start + 3}",
            ) from None
    for magic, kind in _SIGNATURES:
        if raw.startswith(magic):
            raise InputError(
                f"{what} file is not text",
                location=Location(file=path, line=1, column=1),
                expected=f"a tab-separated {what} text file",
                found=kind,
                hint="export it as tab-separated text (TSV)",
            )
    # Binary (or UTF-16 without a byte-order mark): NUL bytes on the first line, or
    # many of them. A stray NUL inside one data cell is left to the row checks.
    first_end = raw.find(b"\n", 0, 4096)
    head = raw[: first_end if first_end >= 0 else 4096]
    sample = raw[: 1 << 16]
    nul = raw.find(b"\x00", 0, 1 << 16)
    if nul >= 0 and (b"\x00" in head or sample.count(b"\x00") * 10 > len(sample)):
        line, column = _line_column(raw, nul)
        raise InputError(
            f"{what} file is binary, not text",
            location=Location(file=path, line=line, column=column),
            expected=f"a tab-separated {what} text file",
            found="a NUL byte (binary data, or UTF-16 without a byte-order mark)",
        )
    # Bare-CR line ends (old Mac): the first line ends in a CR that no LF follows.
    # Checked on the first line only, so an ordinary LF file is not scanned.
    first_lf = raw.find(b"\n")
    first_cr = raw.find(b"\r", 0, first_lf if first_lf >= 0 else len(raw))
    if first_cr >= 0 and raw[first_cr + 1 : first_cr + 2] != b"\n":
        raw = re.sub(rb"\r\n?", b"\n", raw)
    return raw


def _line_column(raw: bytes | memoryview, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters, UTF-8 decoded leniently) of a byte offset."""
    data = bytes(raw[: offset + 1])
    start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, column


def check_utf8(raw: bytes | memoryview, path: Path, *, what: str, line0: int = 0) -> None:
    """Raise :class:`InputError` at the first byte that is not UTF-8 (1-based line, column).

    ``line0`` is the number of file lines before ``raw``, so a slice reports file lines.
    """
    try:
        bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_column(raw, exc.start)
        byte = bytes(raw[exc.start : exc.start + 1])
        raise InputError(
            f"{what} file is not UTF-8 text",
            location=Location(file=path, line=line0 + line, column=column),
            expected="UTF-8 text",
            found=f"byte 0x{byte.hex().upper()} (latin-1 or another 8-bit encoding?)",
            hint="re-save the file as UTF-8",
        ) from None


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
) -> TableRead:
    """Read a delimited text file with a header into text columns.

    Leading comment lines (``#version``, cBioPortal's four ``#`` lines) are
    skipped. Raises :class:`InputError` for an empty file or a header with
    empty or duplicate names; malformed rows are dropped and reported.
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
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, quote_char=False, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
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
