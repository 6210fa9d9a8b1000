"""Atomic writing of every output trkres produces.

A file is written to a temporary sibling and renamed into place, so a reader
never sees half a file. A whole output folder is built in a temporary sibling
folder and swapped in only when every part of it is complete: an interrupted
or failed run leaves either the previous complete output or nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from trkres.errors import Location, OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: Path, mode: int) -> None:
    """Give a temporary file or folder the permissions a plain create would."""
    tmp.chmod(mode & ~_umask())


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; rename it over ``path`` on success.

    On any error (or interruption) the temporary file is removed and ``path``
    keeps its previous content.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _publish(tmp, 0o666)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    with atomic_file(path) as tmp, tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


#: Rows rendered per task by :func:`_write_tsv_arrow`: small enough that each
#: task's text fits in memory the allocator has already touched.
TSV_CHUNK_ROWS = 65_536


def _write_tsv_arrow(frame: pd.DataFrame, handle: BinaryIO) -> None:
    """Fast TSV for large tables: pyarrow's CSV writer (no quoting) on every core.

    Missing values are empty cells, as with :func:`table_to_tsv`; floats use
    their shortest round-trip form. The rows are rendered in slices of
    :data:`TSV_CHUNK_ROWS` on a thread pool (arrow releases the GIL; its CSV
    writer is single-threaded) and written in order. Categorical columns are
    decoded per slice, so the whole table never exists as text at once: fresh
    memory is what costs most on large tables (page faults), not formatting.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    names = table.column_names
    options = pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")

    def rendered(part: pa.Table) -> pa.Buffer:
        # Categoricals become plain text (the writer is slower on dictionaries).
        columns = [
            c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in part.columns
        ]
        sink = pa.BufferOutputStream()
        pacsv.write_csv(pa.Table.from_arrays(columns, names=names), sink, options)
        return sink.getvalue()

    handle.write(("\t".join(names) + "\n").encode("utf-8"))
    parts = [
        table.slice(start, TSV_CHUNK_ROWS) for start in range(0, table.num_rows, TSV_CHUNK_ROWS)
    ]
    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # At most two slices per core in flight: memory stays bounded however
        # fast rendering runs ahead of the disk.
        pending: deque[Future[pa.Buffer]] = deque()
        for part in parts:
            pending.append(pool.submit(rendered, part))
            if len(pending) > 2 * workers:
                handle.write(pending.popleft().result())
        while pending:
            handle.write(pending.popleft().result())


#: Tables with more rows than this are written by pyarrow's CSV writer.
ARROW_TSV_ROWS = 200_000


def table_to_tsv(frame: pd.DataFrame) -> str:
    """Render a table as tidy TSV text (no index, empty cells for missing).

    Floats are written in their shortest round-trip form, so a TSV reads back
    to the same numbers (molar doses of 1e-9 included).
    """
    # The csv module quotes cells holding the delimiter or "\n" but not a lone
    # "\r", which readers take as a line end: quote every text cell then.
    quoting: Literal[0, 2] = (
        2 if _any_text_holds(frame, (b"\r",)) else 0
    )  # csv.QUOTE_NONNUMERIC / QUOTE_MINIMAL
    text: str = frame.to_csv(sep="\t", index=False, na_rep="", quoting=quoting)
    return text


def _plain_text(frame: pd.DataFrame) -> bool:
    """True when no text cell holds a tab or newline (so unquoted TSV is exact)."""
    return not _any_text_holds(frame, (b"\t", b"\n", b"\r"))


def _any_text_holds(frame: pd.DataFrame, chars: tuple[bytes, ...]) -> bool:
    """Whether any text cell contains one of ``chars``; categoricals are checked
    through their categories, arrow text through its character buffers."""
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind in "biufM":
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            values = pa.array([str(c) for c in col.cat.categories], pa.string())
        elif hasattr(col.array, "__arrow_array__"):
            values = pa.array(col.array)
        else:  # objects are written as str(value); missing ones as empty cells
            values = pa.array([str(v) for v in col.dropna().tolist()], pa.string())
        if _has_separator(values, chars):
            return True
    return False


def _has_separator(values: pa.Array | pa.ChunkedArray, chars: tuple[bytes, ...]) -> bool:
    """Whether any string holds one of ``chars``.

    Scans each chunk's character buffer at memchr speed (bytes outside the
    chunk's slice can only make the answer more cautious).
    """
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            continue
        data = chunk.buffers()[2]
        if data is None:
            continue
        raw = memoryview(data).cast("B").tobytes()
        if any(c in raw for c in chars):
            return True
    return False


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a table atomically as TSV (``.tsv``/``.txt``) or Parquet (``.parquet``)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        with atomic_file(path) as tmp:
            frame.to_parquet(tmp, index=False)
    elif suffix in {".tsv", ".txt"} and len(frame) > ARROW_TSV_ROWS and _plain_text(frame):
        with atomic_file(path) as tmp, tmp.open("wb") as fh:
            _write_tsv_arrow(frame, fh)
    elif suffix in {".tsv", ".txt"}:
        atomic_write_text(path, table_to_tsv(frame))
    else:
        raise OutputError(
            "unsupported table format",
            location=Location(file=path),
            expected="a path ending in .tsv, .txt or .parquet",
            found=suffix or "(no suffix)",
        )


#: Table formats an output folder can be written in (the file suffix).
TableFormat = Literal["tsv", "parquet"]


def write_tables(
    out_dir: Path, tables: dict[str, pd.DataFrame], *, table_format: TableFormat = "tsv"
) -> list[Path]:
    """Write ``{name: frame}`` as ``out_dir/name.tsv`` (or ``.parquet``) in one atomic
    folder swap; returns the paths written.

    A name may contain a sub-folder (``annotated/maf``).
    """
    with atomic_directory(out_dir) as tmp:
        for name, frame in tables.items():
            write_table(frame, tmp / f"{name}.{table_format}")
    return [out_dir / f"{name}.{table_format}" for name in tables]


@contextlib.contextmanager
def atomic_directory(target: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Build an output folder in a temporary sibling and swap it in on success.

    Yields the temporary folder to write into. If the block raises (or the
    process is interrupted), the temporary folder is removed and ``target`` is
    left as it was. With ``overwrite=False`` an existing ``target`` is an error.
    """
    target = target.resolve()
    if target.exists() and not target.is_dir():
        raise OutputError(
            "output path exists and is not a folder",
            location=Location(file=target),
            expected="a folder path (new or an earlier trkres output)",
            found="a file",
        )
    if target.exists() and not overwrite:
        raise OutputError(
            "output folder already exists",
            location=Location(file=target),
            hint="choose another folder or pass --force",
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        )
    except OSError as exc:
        raise OutputError(
            f"cannot create output folder: {exc.strerror}", location=Location(file=target)
        ) from None
    try:
        _publish(staging, 0o777)
        yield staging
        if target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            old.rmdir()
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
