"""Reading text inputs that users hand over: whatever arrives, text or a clear error.

Every reader of delimited text goes through here. gzip is unpacked, a UTF-8
byte-order mark dropped, UTF-16 with its mark transcoded, old-Mac bare-CR line
ends turned into LF; binary content (a workbook, a PDF, NUL or control bytes),
text that is not UTF-8 and overlong lines are :class:`~trkres.errors.InputError`
with the file, the 1-based line and column, what was expected and what was found
-- never the bytes themselves.

:func:`read_text_bytes` keeps bytes for the fast columnar readers (a 1M-row MAF
is never decoded into Python strings); :func:`read_text` gives a ``str`` for
small tables (plates, maps, dose-response and combination tables).
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from trkres.errors import InputError, Location


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
    except ValueError as exc:  # a path the system cannot take (an embedded NUL byte)
        raise InputError("not a usable file path", location=Location(file=repr(str(path))[:200]),
                         expected="a file path", found=str(exc)) from None  # fmt: skip
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
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an OLE2 file (an Excel .xls workbook?)"),
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
                expected=f"a delimited {what} text file",
                found=kind,
                hint="save or export it as delimited text (TSV or CSV)",
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
            expected=f"a delimited {what} text file",
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


#: Longest line :func:`read_text` accepts (characters): far beyond any table a lab
#: writes, and below the csv module's field limit (131,072), which would fail later.
MAX_LINE_CHARS = 100_000

#: Control bytes that never occur in a text table (tab, LF, CR, FF, ESC excepted).
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def read_text(
    path: Path, what: str, *, latin1_fallback: bool = False, max_line_chars: int = MAX_LINE_CHARS
) -> str:
    """A text input as one string with ``\\n`` line ends, or an :class:`InputError` saying why not.

    As :func:`read_text_bytes`, and also refused with file, line and column:
    any control byte (binary data), text that is not UTF-8 (unless
    ``latin1_fallback``: then it is read as Latin-1, the usual encoding of
    Windows plate-reader software) and lines longer than ``max_line_chars``.
    """
    raw = read_text_bytes(path, what=what)
    bad = _CONTROL.search(raw)
    if bad is not None:
        line, column = _line_column(raw, bad.start())
        raise InputError(
            f"{what} file is binary, not text",
            location=Location(file=path, line=line, column=column),
            expected=f"a {what} text file (UTF-8, or UTF-16 with its byte-order mark)",
            found=f"control byte 0x{raw[bad.start()]:02x}",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        if not latin1_fallback:
            check_utf8(raw, path, what=what)
        text = raw.decode("latin-1")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > max_line_chars:
        lengths = np.fromiter((len(line) for line in text.split("\n")), dtype=np.int64)
        if lengths.max() > max_line_chars:
            k = int(np.argmax(lengths))
            raise InputError(
                f"line too long in {what}",
                location=Location(file=path, line=k + 1),
                expected=f"at most {max_line_chars:,} characters per line",
                found=f"{int(lengths[k]):,} characters",
            )
    return text


def check_unique_header(names: Sequence[object], path: Path, *, what: str, line: int = 1) -> None:
    """Refuse a header that names one column twice (:class:`InputError` at its line and column).

    Names are compared trimmed and case-folded (``Response`` and ``response `` are the same
    column to readers that look columns up case-insensitively); empty names are not compared.
    Pandas would otherwise rename the second to ``name.1`` and the first would be used silently.
    """
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        key = str(name).strip().strip('"').casefold()
        if not key:
            continue
        if key in seen:
            raise InputError(
                f"duplicate column name in {what}",
                location=Location(file=path, line=line, column=i + 1),
                expected="each column named once",
                found=f"{str(name).strip()!r} twice: columns {seen[key] + 1} and {i + 1}",
            )
        seen[key] = i
