"""The pool of worker processes that execute runs, and the bookkeeping around it.

State of a run lives in the database (:mod:`trkres.app.store`): ``queued`` when
created, ``running`` when a worker picks it up, then ``done`` (its tables loaded and
the status set in one transaction) or ``failed`` (with the error shown to the user).
A server killed mid-run leaves it ``queued``/``running``; the next start marks it
failed (:meth:`Store.recover`), so no run is left pretending to progress.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue as queue_module
import shutil
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from trkres.app import worker
from trkres.app.store import Store

log = logging.getLogger("trkres.app")


class RunPool:
    """Worker processes (forked from a server-side template that has trkres imported)."""

    def __init__(self, store: Store, workers: int) -> None:
        self.store = store
        self.workers = max(1, workers)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["trkres.app.preload"])
        self._messages: Any = self._context.Queue()
        self._futures: dict[str, Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._pool = self._new_pool()
        self._closing = threading.Event()  # set by shutdown
        #: Set once the workers' template (the forkserver) has imported every analysis.
        self._template = threading.Event()
        self._template_lock = threading.Lock()
        #: Called with a run's id when it ends (done or failed), from a pool thread.
        self.listeners: list[Callable[[str], None]] = []
        #: Progress of running runs (fraction, label), kept in memory: a run reports it
        #: many times, and only its start and end are worth a database write.
        self.live: dict[str, tuple[float, str]] = {}
        self._reader = threading.Thread(
            target=self._read_messages, name="trkres-progress", daemon=True
        )
        self._reader.start()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._context,
            initializer=worker.init_worker,
            initargs=(self._messages, os.getpid(), max(1, (os.cpu_count() or 1) // self.workers)),
        )

    def _start_template(self) -> None:
        """Start the workers' template and wait until it has imported every analysis
        (10-15 s on a loaded machine), outside the executor: the executor starts its first
        worker holding its own lock, which its shutdown needs; and a worker forked once the
        server has exited would die reading the server's message queue, with a traceback
        in the terminal."""
        if self._template.is_set():
            return
        with self._template_lock:
            if self._template.is_set() or self._closing.is_set():
                return
            probe = self._context.Process(target=worker.nothing, name="trkres-template", daemon=True)  # fmt: skip
            try:
                probe.start()
                probe.join()
            except (OSError, EOFError):  # the template stopped by shutdown
                if self._closing.is_set():
                    return
                raise
            self._template.set()

    def _stop_template(self) -> None:
        """Stop the workers' template if it is still importing: it holds the server's
        terminal (its output) and would go on importing for seconds after the server
        stopped. A template that is ready is left alone: it stops when the server exits."""
        from multiprocessing import forkserver

        pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
        if pid is not None and not self._template.is_set():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)

    def warm(self) -> None:
        """Start every worker and import the analyses in it, in the background (the
        server answers meanwhile; a run submitted early waits for its worker)."""

        def start() -> None:
            self._start_template()
            if self._closing.is_set():
                return
            pool = self._pool  # submit is thread-safe; holding the lock would stall requests
            for _ in range(self.workers):
                if self._closing.is_set():
                    return
                try:
                    pool.submit(worker.warm)
                except (RuntimeError, BrokenProcessPool):
                    # The server was stopped (or the pool broke) while warming: warming is
                    # only a head start, and a run submitted later starts its own worker.
                    return

        threading.Thread(target=start, name="trkres-warm", daemon=True).start()

    def run_dir(self, rid: str) -> Path:
        return self.store.folder / "runs" / rid

    def submit(self, rid: str, figures: bool) -> None:
        self._start_template()
        with self._lock:
            try:
                future = self._pool.submit(worker.execute, rid, str(self.run_dir(rid)), figures)
            except BrokenProcessPool:
                self._pool = self._new_pool()
                future = self._pool.submit(worker.execute, rid, str(self.run_dir(rid)), figures)
            self._futures[rid] = future
        future.add_done_callback(lambda f: self._finished(rid, f))

    def call(self, function: Callable[..., dict[str, Any]], *args: Any,
             timeout: float = 300) -> dict[str, Any]:  # fmt: skip
        """Run ``function(*args)`` in a worker (queued behind runs) and wait for its answer."""
        self._start_template()
        with self._lock:
            pool = self._pool
        return pool.submit(function, *args).result(timeout=timeout)

    def cancel(self, rid: str) -> str:
        """Cancel a queued or running run; what happened, in words."""
        with self._lock:
            future = self._futures.get(rid)
        if future is not None and future.cancel():
            self.store.fail_run(rid, "cancelled before it started")
            self._tell(rid)
            return "cancelled"
        run = self.store.run(rid)
        if run["status"] in ("done", "failed"):
            return f"already {run['status']}"
        flag = self.run_dir(rid) / worker.CANCEL_FLAG
        flag.touch()
        if run["status"] == "queued":
            # Handed to the pool's call queue (the next runs in line are), so the future
            # cannot be cancelled, but not started: it stayed 'queued' until every run
            # ahead of it ended. The worker that takes it meets the flag at its first step.
            self.store.fail_run(rid, "cancelled before it started")
            self._tell(rid)
            return "cancelled"
        return "cancelling: the run stops at its next step"

    def _finished(self, rid: str, future: Future[dict[str, Any]]) -> None:
        if self._closing.is_set():  # shutdown has recorded this run; the store may be closed
            self.live.pop(rid, None)
            return
        try:
            self._record(rid, future)
        except Exception:
            if not self._closing.is_set():
                raise
            # The server stopped while this run's end was recorded and closed the store:
            # nothing of it was committed, and the next start marks it interrupted.
            log.debug("run %s ended as the server stopped", rid, exc_info=True)
        finally:
            self.live.pop(rid, None)
            self._tell(rid)

    def _tell(self, rid: str) -> None:
        for listener in self.listeners:
            try:
                listener(rid)
            except Exception:  # a listener's failure must not lose the run's state
                log.exception("run listener failed")

    def _record(self, rid: str, future: Future[dict[str, Any]]) -> None:
        with self._lock:
            self._futures.pop(rid, None)
        if future.cancelled():
            return
        try:
            outcome = future.result()
        except BrokenProcessPool:
            self.store.fail_run(
                rid,
                "the worker process running it stopped (the server was being stopped, or the "
                "worker was killed or ran out of memory); start the run again",
            )
            with self._lock:
                if not self._closing.is_set():
                    self._pool = self._new_pool()
            return
        except Exception as exc:  # pickling or pool failure: a bug, said as one
            self.store.fail_run(rid, f"internal error ({type(exc).__name__}: {exc})")
            return
        if outcome.get("cancelled"):
            self.store.fail_run(rid, "cancelled by the user")
            self._discard_outputs(rid)
        elif "error" in outcome:
            self.store.fail_run(rid, outcome["error"])
        else:
            try:
                # The worker's 'start' message comes through another pipe than its result,
                # read by another thread: under load it is read after the result. Mark the
                # run running here (a no-op once it is), or finish_run finds it 'queued',
                # keeps nothing, and the late 'start' leaves it 'running' for ever.
                self.store.set_running(rid)
                self.store.finish_run(rid, outcome["tables"], outcome["summary"])
            except Exception as exc:
                if self._closing.is_set():
                    raise
                log.exception("committing run %s failed", rid)
                self.store.fail_run(rid, f"its results could not be stored ({exc})")

    def _discard_outputs(self, rid: str) -> None:
        for part in ("report", "data"):
            shutil.rmtree(self.run_dir(rid) / part, ignore_errors=True)

    def _read_messages(self) -> None:
        while True:
            try:
                message = self._messages.get(timeout=0.5)
            except queue_module.Empty:
                if self._closing.is_set():
                    return
                continue
            except (EOFError, OSError):
                return
            try:
                if message[0] == "start":
                    self.store.set_running(message[1])
                elif message[0] == "progress":
                    with self._lock:  # a message read after its run ended is dropped
                        if message[1] in self._futures:
                            self.live[message[1]] = (float(message[2]), str(message[3]))
            except Exception:  # a closed store at shutdown
                log.debug("progress message dropped", exc_info=True)

    def pending(self) -> int:
        with self._lock:
            return len(self._futures)

    def shutdown(self) -> None:
        """Stop now: queued runs never start, running ones are told to stop and marked
        failed (their workers stop with the server); nothing waits for a long run."""
        self._closing.set()
        with self._lock:
            futures = list(self._futures.items())
        for rid, future in futures:
            if future.cancel():
                self.store.fail_run(rid, "the server stopped before this run started")
            else:
                (self.run_dir(rid) / worker.CANCEL_FLAG).touch()
                self.store.fail_run(rid, "the server was stopped during this run; start it again")
        # The executor's shutdown waits for its lock, which a submit holds while it starts
        # a worker, and the first start waits for the workers' template to import every
        # analysis (10-15 s on a loaded machine): a server stopped in its first seconds
        # took that long to stop. Asked from a thread of its own, waited for only briefly:
        # a worker started meanwhile stops itself when the server is gone.
        stopper = threading.Thread(
            target=self._pool.shutdown, kwargs={"wait": False, "cancel_futures": True},
            name="trkres-pool-stop", daemon=True,
        )  # fmt: skip
        stopper.start()
        stopper.join(timeout=1.0)
        self._stop_template()
