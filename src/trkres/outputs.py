"""Atomic and safe writing of every output trkres produces.

A file is written to a temporary sibling and renamed into place, so a reader
never sees half a file. A whole output folder is built in a temporary sibling
folder and swapped in only when every part of it is complete: an interrupted
or failed run leaves either the previous complete output or nothing.

An existing output folder is replaced only when it is provably an earlier
trkres output: it holds trkres' marker file (:data:`MARKER`), which lists every
file trkres wrote there, and nothing else. Anything else -- a folder of the
user's, the working directory, a folder holding an input, a mount point -- is
refused and left untouched. Staging folders carry a lock held for their whole
life, so those left behind by a killed run are recognised and removed by the
next run writing beside them.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from trkres import __version__
from trkres.errors import Location, OutputError
from trkres.runinputs import current_inputs


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
        # Categoricals become plain text (the writer is slower on dictionaries); booleans
        # are written True/False, as pandas writes them in smaller tables (not true/false).
        columns = [
            c.cast(c.type.value_type)
            if pa.types.is_dictionary(c.type)
            else pc.if_else(c, "True", "False")
            if pa.types.is_boolean(c.type)
            else c
            for c in part.columns
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
    """True when arrow's writer gives the table as pandas' would (but for float text:
    ``83`` for ``83.0``, ``1e-9`` for ``1e-09``; the same numbers read back): no text cell
    or column name holds a tab, a line end (unquoted TSV would not be exact) or a quote
    (arrow's unquoted writer refuses one), no date or duration column (pandas writes
    ``2024-01-01``, arrow ``2024-01-01 00:00:00.000000``), and more than one column (a
    missing cell alone on its line is a blank line, which readers skip)."""
    if frame.shape[1] < 2 or any(dtype.kind in "Mm" for dtype in frame.dtypes):
        return False
    special = ("\t", "\n", "\r", '"')
    if any(c in str(name) for name in frame.columns for c in special):
        return False
    return not _any_text_holds(frame, tuple(c.encode() for c in special))


def _any_text_holds(frame: pd.DataFrame, chars: tuple[bytes, ...]) -> bool:
    """Whether any text cell contains one of ``chars``; categoricals are checked
    through their categories, arrow text through its character buffers."""
    for i, dtype in enumerate(frame.dtypes):  # by position: column names may repeat
        if dtype.kind in "biufM":
            continue
        col = frame.iloc[:, i]
        if isinstance(col.dtype, pd.CategoricalDtype):
            values = pa.array([str(c) for c in col.cat.categories], pa.string())
        elif hasattr(col.array, "__arrow_array__"):
            values = pa.array(col.array)
        else:  # objects are written as str(value); missing ones as empty cells
            present = col.dropna()
            if pd.api.types.infer_dtype(present, skipna=True) == "string":  # all str: in C
                values = pa.array(present, type=pa.string(), from_pandas=True)
            else:
                values = pa.array([str(v) for v in present.tolist()], pa.string())
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
        try:
            with atomic_file(path) as tmp, tmp.open("wb") as fh:
                _write_tsv_arrow(frame, fh)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError):
            # A column arrow cannot type (ints and text mixed in one object column) or
            # repeated column names:
            # the pandas writer renders each cell as str (nothing was put in place).
            atomic_write_text(path, table_to_tsv(frame))
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
    out_dir: Path,
    tables: dict[str, pd.DataFrame],
    *,
    table_format: TableFormat = "tsv",
    inputs: Iterable[Path] = (),
) -> list[Path]:
    """Write ``{name: frame}`` as ``out_dir/name.tsv`` (or ``.parquet``) in one atomic
    folder swap; returns the paths written.

    A name may contain a sub-folder (``annotated/maf``). ``inputs`` are the
    files the tables were computed from: an output folder that equals or holds
    one is refused (see :func:`atomic_directory`).
    """
    with atomic_directory(out_dir, inputs=inputs) as tmp:
        for name, frame in tables.items():
            write_table(frame, tmp / f"{name}.{table_format}")
    return [out_dir / f"{name}.{table_format}" for name in tables]


#: The file in every output folder trkres writes: what wrote it and every file
#: it holds (relative path and size in bytes).
MARKER = ".trkres-output.json"

#: Inside a staging folder while it is being built: locked for the builder's life.
STAGING_LOCK = ".trkres-staging.lock"

#: Put in an earlier output just before it is moved aside to ``.NAME.*.old`` for
#: deletion: only folders holding it are ever cleaned up as leftovers.
REPLACED = ".trkres-replaced"


def _refuse(target: Path, message: str, found: str, hint: str | None = None) -> OutputError:
    return OutputError(
        message,
        location=Location(file=target),
        expected="a new folder, an empty folder, or an earlier trkres output left as trkres wrote it",
        found=found,
        hint=hint or "choose another output folder (-o); nothing was changed",
    )


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_not_input(target: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output folder that equals or holds an input (or the working directory)."""
    cwd = Path.cwd().resolve()
    if _within(cwd, target):
        raise _refuse(
            target,
            "output folder is (or holds) the current working directory",
            found=str(cwd),
            hint="write to a new sub-folder, e.g. -o results",
        )
    for given in inputs:
        try:
            path = Path(given).expanduser().resolve()
        except (OSError, RuntimeError, ValueError):
            continue
        if _within(path, target):
            raise _refuse(
                target,
                "output folder equals or holds an input of this run",
                found=f"input {given}",
                hint="write the output to a folder of its own, outside the inputs",
            )


def _owned_files(folder: Path) -> tuple[list[str], list[str]]:
    """Files under ``folder`` (relative paths), split into those its marker lists
    as trkres left them (same size and modification time) and everything else:
    unlisted, changed, links, and folders holding no listed file."""
    try:
        listed = json.loads((folder / MARKER).read_text(encoding="utf-8"))["files"]
        stamps = {str(k): (int(v[0]), int(v[1])) for k, v in dict(listed).items()}
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return [], ["(no valid trkres marker)"]
    own_dirs = {p.rsplit("/", 1)[0] for p in stamps if "/" in p}
    own_dirs |= {d.rsplit("/", i)[0] for d in list(own_dirs) for i in range(1, d.count("/") + 1)}
    owned: list[str] = []
    other: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in dirs:
            rel = (base / name).relative_to(folder).as_posix()
            if (base / name).is_symlink() or rel not in own_dirs:
                other.append(rel + "/")
        dirs[:] = [d for d in dirs if not (base / d).is_symlink()]
        for name in files:
            rel = (base / name).relative_to(folder).as_posix()
            if rel in (MARKER, STAGING_LOCK, REPLACED):
                continue
            entry = base / name
            if entry.is_symlink() or not entry.is_file():
                other.append(rel)
                continue
            st = entry.stat()
            if stamps.get(rel) == (st.st_size, st.st_mtime_ns):
                owned.append(rel)
            else:
                other.append(rel + (" (changed since trkres wrote it)" if rel in stamps else ""))
    return owned, other


@contextlib.contextmanager
def _parent_locked(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``target``'s parent folder (when it exists): runs
    writing beside each other check and swap their outputs one at a time."""
    try:
        fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield
        return
    try:
        _lock(fd, wait=True)
        yield
    finally:
        os.close(fd)


def _check_replaceable(target: Path) -> None:
    """Refuse to replace ``target`` unless it is empty or an untouched trkres output."""
    with _parent_locked(target):
        _check_replaceable_locked(target)


def _check_replaceable_locked(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise _refuse(target, "output path exists and is not a folder", found="a file")
    if os.path.ismount(target):
        raise _refuse(
            target,
            "output folder is a mount point",
            found="a mount point (trkres replaces an output folder as a whole)",
            hint="write to a sub-folder of it, e.g. -o MOUNT/results",
        )
    try:
        empty = not any(target.iterdir())
    except OSError as exc:
        raise _refuse(
            target, f"cannot read output folder: {exc.strerror}", found="unreadable"
        ) from None
    if empty:
        return
    if not (target / MARKER).is_file():
        raise _refuse(
            target,
            "output folder exists and is not a trkres output",
            found="a folder with other content (no trkres marker file)",
        )
    _, other = _owned_files(target)
    if other:
        shown = ", ".join(other[:5]) + (f" and {len(other) - 5} more" if len(other) > 5 else "")
        raise _refuse(
            target,
            "output folder holds files trkres did not write",
            found=shown,
            hint="move those files out, or choose another output folder; nothing was changed",
        )


def _write_marker(folder: Path) -> None:
    files: dict[str, tuple[int, int]] = {}
    for root, _dirs, names in os.walk(folder):
        base = Path(root)
        for name in names:
            rel = (base / name).relative_to(folder).as_posix()
            if rel not in (MARKER, STAGING_LOCK):
                st = (base / name).stat()
                files[rel] = (st.st_size, st.st_mtime_ns)
    info = {
        "written_by": f"trkres {__version__}",
        "note": "trkres replaces this folder only while it holds exactly these files, "
        "unchanged: [size in bytes, modification time in ns]",
        "files": dict(sorted(files.items())),
    }
    atomic_write_text(folder / MARKER, json.dumps(info, indent=1) + "\n")


def _lock(fd: int, *, wait: bool) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _clean_stale_staging(target: Path) -> None:
    """Remove staging folders of ``target`` left by killed runs.

    Only folders named as trkres names them are candidates: a staging folder
    (``.tmp``) holding trkres' lock file that no live process holds, or a
    replaced output (``.old``) that trkres itself moved aside (it holds
    :data:`REPLACED`) and only files its marker lists.
    """
    pattern = f".{glob.escape(target.name)}.*"
    for path in target.parent.glob(pattern):
        if not path.is_dir() or path.is_symlink():
            continue
        if path.name.endswith(".old") and (path / REPLACED).is_file():
            if not _owned_files(path)[1]:
                shutil.rmtree(path, ignore_errors=True)
            continue
        if not path.name.endswith(".tmp"):
            continue
        lock = path / STAGING_LOCK
        try:
            fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            if _lock(fd, wait=False):
                shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)


def check_output_folder(target: Path, *, inputs: Iterable[Path] = ()) -> Path:
    """Refuse ``target`` now, before any work, if :func:`atomic_directory` would
    refuse to replace it; returns the resolved path."""
    try:
        resolved = target.expanduser().resolve()
        _check_not_input(resolved, [*inputs, *current_inputs()])
        _check_parents_are_folders(resolved)
        _check_replaceable(resolved)
    except OSError as exc:
        raise _unusable(target, exc) from None
    return resolved


def _check_parents_are_folders(target: Path) -> None:
    """Refuse a ``target`` under a file (``notes.txt/out``): the folder could never be made,
    and the run would fail only at the write, after all its work."""
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise _refuse(target, "a parent of the output folder is a file, not a folder",
                              found=f"{parent} (a file)")  # fmt: skip
            return


def _unusable(target: Path, exc: OSError) -> OutputError:
    return OutputError(
        f"cannot use this output path: {exc.strerror or exc}",
        location=Location(file=target),
        expected="a folder path the system accepts (each name at most 255 bytes)",
        hint="choose a shorter or another output folder; nothing was changed",
    )


@contextlib.contextmanager
def atomic_directory(
    target: Path, *, overwrite: bool = True, inputs: Iterable[Path] = ()
) -> Iterator[Path]:
    """Build an output folder in a temporary sibling and swap it in on success.

    Yields the temporary folder to write into. If the block raises (or the
    process is interrupted), the temporary folder is removed and ``target`` is
    left as it was. An existing ``target`` is replaced only when it is empty or
    an earlier trkres output holding nothing trkres did not write; any other
    folder, a folder that equals or holds one of ``inputs`` (or an input
    declared with :func:`trkres.runinputs.declared_inputs`), the working directory or a mount
    point is refused with an :class:`OutputError` before anything is written.
    With ``overwrite=False`` any existing ``target`` is an error.

    Two runs writing the same ``target`` are serialised at the swap (a lock
    on the parent folder): each finds either nothing or a complete output.
    """
    try:
        target = target.expanduser().resolve()
        _check_not_input(target, [*inputs, *current_inputs()])
        _check_parents_are_folders(target)
        if target.exists() and not overwrite:
            raise OutputError(
                "output folder already exists",
                location=Location(file=target),
                hint="choose another folder or pass --force",
            )
        _check_replaceable(target)
    except OSError as exc:
        raise _unusable(target, exc) from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _clean_stale_staging(target)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        )
    except OSError as exc:
        raise OutputError(
            f"cannot create output folder: {exc.strerror}", location=Location(file=target)
        ) from None
    # The lock file gets its name only once locked: a run cleaning stale staging
    # beside this one never finds it unlocked.
    lock_fd = os.open(staging / (STAGING_LOCK + ".new"), os.O_CREAT | os.O_RDWR, 0o600)
    _lock(lock_fd, wait=True)
    (staging / (STAGING_LOCK + ".new")).rename(staging / STAGING_LOCK)
    try:
        _publish(staging, 0o777)
        try:
            yield staging
            _write_marker(staging)
            _swap_in(staging, target, overwrite=overwrite)
            with contextlib.suppress(FileNotFoundError):
                (target / STAGING_LOCK).unlink()
        except OSError as exc:
            raise OutputError(
                f"cannot write output: {exc.strerror or exc}",
                location=Location(file=exc.filename or target),
                hint="check free disk space and permissions; nothing was changed",
            ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        os.close(lock_fd)


def _swap_in(staging: Path, target: Path, *, overwrite: bool) -> None:
    """Rename ``staging`` to ``target`` under a lock on the parent folder, after
    checking again (another run may have written ``target`` meanwhile)."""
    with _parent_locked(target):
        if target.exists() and not overwrite:
            raise OutputError("output folder already exists", location=Location(file=target))
        _check_replaceable_locked(target)
        if not target.exists():
            staging.rename(target)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        old.rmdir()
        (target / REPLACED).touch()
        try:
            target.rename(old)
        except BaseException:
            (target / REPLACED).unlink(missing_ok=True)
            raise
        try:
            staging.rename(target)
        except BaseException:
            old.rename(target)
            (target / REPLACED).unlink(missing_ok=True)
            raise
    shutil.rmtree(old, ignore_errors=True)  # outside the lock: may take a while
