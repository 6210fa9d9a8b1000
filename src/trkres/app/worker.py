"""Runs a study in a worker process, as ``trkres analyze`` does, and reports progress.

The server hands each run to a pool of worker processes (so a long analysis never
blocks a page). A worker runs the study in memory, writes the report folder with the
CLI's atomic writer, writes each result table as Parquet for the database, and
returns what the server needs to commit the run. Messages to the server go through
one queue: ``("start", run_id)``, ``("progress", run_id, fraction, label)``.

A worker stops itself when the server process is gone (``kill -9`` included), so
no orphan writes results for a server that will never commit them.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from multiprocessing.queues import Queue
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trkres.errors import TrkresError

if TYPE_CHECKING:
    import pandas as pd

_queue: Queue[tuple[Any, ...]] | None = None

#: Name of the file whose presence asks a running run to stop (inside its run folder).
CANCEL_FLAG = "cancel"


class RunCancelled(Exception):
    """The user cancelled the run; raised from the progress callback."""


def init_worker(queue: Queue[tuple[Any, ...]], server_pid: int) -> None:
    """Pool initialiser: remember the message queue; exit when the server dies."""
    global _queue
    _queue = queue

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # pragma: no cover - pid reused by another user
                os._exit(1)

    threading.Thread(target=watch, name="trkres-server-watch", daemon=True).start()


def warm() -> int:
    """Import the analyses once, so the first run does not pay for it."""
    from trkres.study.registry import analyses

    return len(analyses())


def _send(*message: Any) -> None:
    if _queue is not None:
        _queue.put(message)


def execute(run_id: str, run_dir: str, figures: bool) -> dict[str, Any]:
    """Run ``run_dir/study`` into ``run_dir/report`` (and ``run_dir/data/*.parquet``).

    Returns ``{"tables": [...], "summary": {...}}`` on success, ``{"error": text}`` for
    a problem with the study (a :class:`TrkresError`, shown to the user as it is),
    ``{"cancelled": True}`` when the user cancelled, ``{"error": ..., "internal": True}``
    for a bug (the traceback is kept in ``run_dir/error.txt``).
    """
    from trkres.outputs import atomic_directory
    from trkres.study.runner import run

    folder = Path(run_dir)
    flag = folder / CANCEL_FLAG
    _send("start", run_id)

    def progress(done: int, total: int, label: str) -> None:
        if flag.exists():
            raise RunCancelled
        _send("progress", run_id, (done / total) if total else 0.0, label)

    try:
        result = run(folder / "study", progress=progress)
        try:
            if flag.exists():
                raise RunCancelled
            _send("progress", run_id, 0.97, "writing report")
            result.write(folder / "report", figures=figures)
            tables: list[dict[str, Any]] = []
            with atomic_directory(folder / "data") as tmp:
                for section in result.sections:
                    for table in section.tables:
                        _to_parquet(table.frame, tmp / f"{table.name}.parquet")
                        tables.append(
                            {
                                "name": table.name,
                                "section": section.name,
                                "title": table.title,
                                "rows": len(table.frame),
                                "columns": [str(c) for c in table.frame.columns],
                                "parquet": str(folder / "data" / f"{table.name}.parquet"),
                            }
                        )
            summary = {
                "sections": [
                    {
                        "name": s.name,
                        "title": s.title,
                        "summary": s.summary,
                        "tables": [t.name for t in s.tables],
                        "flags": [{"level": f.level, "message": f.message} for f in s.flags],
                    }
                    for s in result.sections
                ],
                "timings_s": result.info.get("timings_s", {}),
                "trkres_version": result.info.get("trkres_version"),
            }
        finally:
            result.close()
    except RunCancelled:
        return {"cancelled": True}
    except TrkresError as exc:
        return {"error": users_words(str(exc), folder)}
    except Exception as exc:  # a bug: say so, keep the traceback for a report
        (folder / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        return {
            "error": f"internal error ({type(exc).__name__}: {exc}); the traceback is kept "
            f"in the run folder's error.txt — please report it",
            "internal": True,
        }
    return {"tables": tables, "summary": summary}


#: File in a run folder mapping the study's file paths to the names users gave them.
NAMES_FILE = "names.json"


def users_words(text: str, folder: Path) -> str:
    """An error message with the run's server paths replaced by the users' file names."""
    import json

    study = folder / "study"
    try:
        names: dict[str, str] = json.loads((folder / NAMES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        names = {}
    names = {**names, "study.yaml": "study.yaml (of this run)"}
    for rel, shown in sorted(names.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(str(study / rel), shown).replace(str(study.resolve() / rel), shown)
    return text.replace(str(study.resolve()), "the run's study folder").replace(
        str(study), "the run's study folder"
    )


def _to_parquet(frame: pd.DataFrame, path: Path) -> None:
    """A result table as Parquet; columns of mixed Python objects are stored as text."""
    try:
        frame.to_parquet(path, index=False)
    except (TypeError, ValueError):  # pyarrow's ArrowTypeError / ArrowInvalid
        fixed = frame.copy()
        for column in fixed.columns:
            if fixed[column].dtype == object:
                fixed[column] = fixed[column].map(_text)
        fixed.columns = [str(c) for c in fixed.columns]
        fixed.to_parquet(path, index=False)


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)
