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
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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


def _write_tsv_arrow(frame: pd.DataFrame, handle: BinaryIO) -> None:
    """Fast TSV for large tables: pyarrow's multi-threaded CSV writer (no quoting).

    Missing values are empty cells, as with :func:`table_to_tsv`; floats use
    their shortest round-trip form.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        columns.append(column)
        del name
    table = pa.Table.from_arrays(columns, names=table.column_names)
    handle.write(("\t".join(table.column_names) + "\n").encode("utf-8"))
    pacsv.write_csv(
        table,
        handle,
        pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none"),
    )


#: Tables with more rows than this are written by pyarrow's CSV writer.
ARROW_TSV_ROWS = 200_000


def table_to_tsv(frame: pd.DataFrame) -> str:
    """Render a table as tidy TSV text (no index, empty cells for missing).

    Floats are written in their shortest round-trip form, so a TSV reads back
    to the same numbers (molar doses of 1e-9 included).
    """
    return frame.to_csv(sep="\t", index=False, na_rep="")


def _plain_text(frame: pd.DataFrame) -> bool:
    """True when no text cell holds a tab or newline (so unquoted TSV is exact).

    Categoricals are checked through their categories; text columns with
    arrow's substring kernels.
    """
    for name in frame.columns:
        col = frame[name]
        if col.dtype.kind in "biufM":
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            values = pa.array([str(c) for c in col.cat.categories], pa.string())
        elif hasattr(col.array, "__arrow_array__"):
            values = pa.array(col.array)
        else:
            values = pa.array(col.astype(str).tolist(), pa.string())
        if (pa.types.is_large_string(values.type) or pa.types.is_string(values.type)) and pc.any(
            pc.match_substring_regex(values, "[\t\n\r]")
        ).as_py():
            return False
    return True


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


def write_tables(out_dir: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Write ``{name: frame}`` as ``out_dir/name.tsv`` in one atomic folder swap.

    A name may contain a sub-folder (``annotated/maf``).
    """
    with atomic_directory(out_dir) as tmp:
        for name, frame in tables.items():
            write_table(frame, tmp / f"{name}.tsv")


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
