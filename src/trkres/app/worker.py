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

import hashlib
import os
import signal
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


def init_worker(queue: Queue[tuple[Any, ...]], server_pid: int, threads: int = 1) -> None:
    """Pool initialiser: remember the message queue; exit when the server dies; use
    ``threads`` threads in compiled kernels (the pool already runs one run per core: more
    threads per worker oversubscribe the cores, and every parallel region then waits for
    descheduled threads, 10-20 ms each, seen in the load benchmark)."""
    global _queue
    _queue = queue
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
    # Ctrl-C in the server's terminal reaches every process of its group: the server
    # stops the runs itself (cancel flags; workers exit when it is gone).
    signal.signal(signal.SIGINT, signal.SIG_IGN)

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


def nothing() -> None:
    """Nothing: a process started only to wait until the workers' template is ready."""


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
                        parquet = tmp / f"{table.name}.parquet"
                        _to_parquet(table.frame, parquet)
                        tables.append(
                            {
                                "name": table.name,
                                "section": section.name,
                                "title": table.title,
                                "rows": len(table.frame),
                                "columns": [str(c) for c in table.frame.columns],
                                "parquet": str(folder / "data" / f"{table.name}.parquet"),
                                # Equal tables (the knowledge base's, in every run) are
                                # stored once: the store keys them by this digest.
                                "sha256": hashlib.sha256(parquet.read_bytes()).hexdigest(),
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


# -- the western ROI editor ------------------------------------------------------------


def _western_input(study_dir: Path, input_name: str) -> tuple[Any, Any, Any]:
    """(study, its western input named ``input_name``, the run's western options)."""
    from trkres.assays.western.options import BlotOptions
    from trkres.errors import InputError
    from trkres.study.manifest import InputKind, load_study

    study = load_study(study_dir)
    kinds = (InputKind.western, InputKind.western_blot)
    item = next(
        (i for i in study.manifest.inputs if i.name == input_name and i.kind in kinds), None
    )
    if item is None:
        raise InputError(f"no western input '{input_name[:80]}' in this run")
    options = BlotOptions.model_validate(study.manifest.options.get("western", {}))
    if item.target:
        options = options.model_copy(update={"target": item.target})
    return study, item, options


def blot_preview(study_dir: str, input_name: str) -> dict[str, Any]:
    """The target image of a western input as an 8-bit PNG for the ROI editor (contrast
    stretched between the 0.5th and 99.5th percentiles, as the scanner showed it)."""
    import io

    import numpy as np
    from matplotlib.image import imsave

    from trkres.assays.western.io import read_blot

    try:
        study, item, options = _western_input(Path(study_dir), input_name)
        image = read_blot(study.path_of(item), invert=options.invert)[0]
    except TrkresError as exc:
        return {"error": users_words(str(exc), Path(study_dir).parent)}
    raw = np.asarray(image.raw, dtype=np.float64)
    low, high = np.percentile(raw, [0.5, 99.5])
    scaled = np.clip((raw - low) / max(high - low, 1e-12), 0, 1)
    buffer = io.BytesIO()
    imsave(buffer, scaled, cmap="gray", vmin=0, vmax=1, format="png")
    return {"png": buffer.getvalue(), "width": int(raw.shape[1]), "height": int(raw.shape[0])}


def requantify_blot(study_dir: str, input_name: str, rois_tsv: str) -> dict[str, Any]:
    """Measure a western input again with the band boxes in ``rois_tsv`` (checked by the
    ROI reader ``trkres blot --rois`` uses): the target's bands and the quantified lanes."""
    from trkres.assays.western.bands import read_rois
    from trkres.assays.western.run import run_blot

    folder = Path(study_dir)
    try:
        study, item, options = _western_input(folder, input_name)
        rois = read_rois(Path(rois_tsv))
        result = run_blot(
            study.path_of(item),
            options,
            loading=study.folder / item.loading_control if item.loading_control else None,
            layout=study.folder / item.layout if item.layout else None,
            rois=rois,
            blot=item.blot or item.name,
        )
    except TrkresError as exc:
        text = str(exc).replace(rois_tsv, "the band boxes")
        return {"error": users_words(text, folder.parent)}
    bands = result.tables["bands"]
    bands = bands[bands["role"] == "target"]
    keep = ["lane", "band", "x0", "x1", "y0", "y1", "volume", "saturated"]
    out: dict[str, Any] = {"bands": _records(bands[keep])}
    quantified = result.tables.get("quantified")
    if quantified is not None:
        cols = [c for c in ("lane", "sample", "treatment", "dose", "dose_unit", "target_signal",
                            "loading_signal", "ratio", "fold_change") if c in quantified]  # fmt: skip
        out["quantified"] = _records(quantified[cols])
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import json

    return list(json.loads(frame.to_json(orient="records")))
