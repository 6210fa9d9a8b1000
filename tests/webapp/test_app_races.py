"""Starts and stops at unlucky moments (review round 5, flaky tests and races): each test
forces one interleaving of the app's threads and processes deterministically."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from trkres.app.server import guarded
from trkres.app.service import AppConfig, Service
from webapp.helpers import BASE, VIABILITY, Server


def _quick_project(client: TestClient) -> str:
    pid = str(client.post("/api/projects", json={"name": "p"}).json()["id"])
    upload = client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                         data={"kind": "dose_response"})  # fmt: skip
    assert upload.status_code == 200, upload.text
    return pid


def test_a_run_whose_start_message_comes_after_its_result_is_done(
    client: TestClient, service: Service
) -> None:
    """The worker's 'start' message (a queue read by one thread) and its result (the pool's
    own pipe, read by another) race; on a loaded machine the result was recorded first:
    the run, still 'queued', was not marked done, then 'start' made it 'running' forever."""
    pid = _quick_project(client)
    recorded = threading.Event()
    started = threading.Event()
    set_running = service.store.set_running

    def late_set_running(rid: str) -> bool:
        if threading.current_thread().name == "trkres-progress":
            recorded.wait(120)  # the 'start' message is read after the result
            try:
                return set_running(rid)
            finally:
                started.set()
        return set_running(rid)

    service.store.set_running = late_set_running  # type: ignore[method-assign]
    service.pool.listeners.append(lambda rid: recorded.set())
    rid = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert started.wait(120)
    run = client.get(f"/api/runs/{rid}").json()
    assert run["status"] == "done", run
    assert client.get(f"/api/runs/{rid}/report").status_code == 200


def test_stopping_while_the_first_worker_starts_does_not_wait_for_it(tmp_path: Path) -> None:
    """The executor's shutdown waited for its lock, held by the warm-up's submit while the
    workers' template imported every analysis: a server stopped in its first seconds took
    10-15 s to stop on a loaded machine (the tests' 15 s stop, then a kill)."""
    from trkres.app.runs import RunPool
    from trkres.app.store import Store

    store = Store(tmp_path / "data")
    pool = RunPool(store, workers=1)
    executor = pool._pool
    starting = executor._shutdown_lock  # type: ignore[attr-defined]
    starting.acquire()  # a submit starting the first worker, for as long as this test
    stopped = threading.Event()

    def stop() -> None:
        pool.shutdown()
        stopped.set()

    try:
        threading.Thread(target=stop, daemon=True).start()
        assert stopped.wait(30), "shutdown waited for the worker's start"
    finally:
        starting.release()
        store.close()
    assert executor._shutdown_thread  # type: ignore[attr-defined]  # asked once it could be


def test_a_run_ending_while_the_server_stops_is_recorded_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A run's result recorded just as the server stopped: the store closed under it, and
    the pool's thread logged two tracebacks ('committing run … failed', 'exception calling
    callback') into the terminal. The next start marks the run interrupted, as a kill does."""
    service = Service(AppConfig(data=tmp_path / "data", workers=1), start_workers=False)
    client = TestClient(guarded(service), base_url=BASE)
    pid = _quick_project(client)
    finish_run = service.store.finish_run

    def finish_after_stop(*args: Any) -> None:
        stopper = threading.Thread(target=service.close)
        stopper.start()  # the server stops between the result and its commit
        stopper.join(60)
        finish_run(*args)

    recorded = threading.Event()
    record = service.pool._finished

    def record_then_say(*args: Any) -> None:
        try:
            record(*args)
        finally:
            recorded.set()

    service.store.finish_run = finish_after_stop  # type: ignore[method-assign]
    service.pool._finished = record_then_say  # type: ignore[method-assign]
    caplog.set_level(logging.ERROR)
    client.post(f"/api/projects/{pid}/runs", json={})
    assert recorded.wait(120)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    again = Service(AppConfig(data=tmp_path / "data", workers=1), start_workers=False)
    try:
        assert len(again.recovered) == 1
    finally:
        again.close()


def test_a_request_waiting_for_a_run_answers_when_the_server_stops(
    client: TestClient, service: Service
) -> None:
    """``?wait=`` open as the server stopped: uvicorn waited its 5 s grace, then cancelled
    the request: a 500 and a CancelledError traceback in the terminal. It answers at once."""
    pid = _quick_project(client)
    project = service.store.project(pid)
    rid = service.store.new_run_id()  # a run that stays queued: never handed to a worker
    service.store.create_run(rid, pid, "", project["study"], False)
    reads: list[str] = []
    read_run = service.store.run

    def counted(run_id: str) -> dict[str, Any]:
        reads.append(run_id)
        return read_run(run_id)

    service.store.run = counted  # type: ignore[method-assign]
    answers: list[int] = []
    waiting = threading.Thread(
        target=lambda: answers.append(
            client.get(f"/api/runs/{rid}", params={"wait": 60}).status_code
        )
    )
    waiting.start()
    while len(reads) < 2 and waiting.is_alive():  # read again once it waits for the end
        waiting.join(0.01)
    service.begin_stop()
    waiting.join(30)
    assert answers == [200], "the waiting request did not answer when the server stopped"
    assert client.get(f"/api/runs/{rid}", params={"wait": 60}).status_code == 200  # at once


def test_a_test_server_whose_port_was_taken_meanwhile_moves_to_another(tmp_path: Path) -> None:
    """The helper found a port free, then another test's server or connection took it
    before ``trkres serve`` listened (pytest -n): the start failed. It moves on."""
    import socket

    import httpx

    srv = Server(tmp_path / "data")
    with socket.socket() as other:
        other.bind(("127.0.0.1", srv.port))
        other.listen()
        srv.start()
        try:
            assert srv.port != other.getsockname()[1]
            assert httpx.get(f"{srv.url}/api/health", timeout=30).status_code == 200
        finally:
            srv.stop()


def test_a_queued_run_already_handed_to_the_pool_is_cancelled_at_once(tmp_path: Path) -> None:
    """The next runs in line sit in the pool's call queue, where their futures count as
    running and cannot be cancelled: 'cancel' answered 'cancelling' and the run stayed
    'queued' until every run ahead of it ended (test_cancel_queued_run: 120 s, failed)."""
    from concurrent.futures import Future

    service = Service(AppConfig(data=tmp_path / "data", workers=1), start_workers=False)
    try:
        pid = service.store.create_project("p")
        rid = service.store.new_run_id()
        service.pool.run_dir(rid).mkdir(parents=True)
        service.store.create_run(rid, pid, "", service.store.project(pid)["study"], False)
        handed: Future[dict[str, Any]] = Future()
        assert handed.set_running_or_notify_cancel()  # what the pool does on handing it over
        service.pool._futures[rid] = handed
        assert service.pool.cancel(rid) == "cancelled"
        run = service.store.run(rid)
        assert run["status"] == "failed" and "cancelled" in run["error"]
        assert (service.pool.run_dir(rid) / "cancel").exists()  # the worker skips it
        service.pool._futures.pop(rid)
    finally:
        service.close()


def test_a_stop_while_the_server_opens_its_data_says_the_folder_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM while ``trkres serve`` opened its data folder (recovering the last stop's
    runs) said 'nothing was written', a batch command's words."""
    import signal
    import sys

    from trkres.app import service as service_module
    from trkres.cli import _app, main
    from webapp.helpers import free_port

    def terminated(*args: Any, **kwargs: Any) -> None:
        raise _app.Terminated

    monkeypatch.setattr(service_module, "Service", terminated)
    monkeypatch.setattr(_app.state, "stopped_message", _app.state.stopped_message)
    data = tmp_path / "data"
    argv = ["trkres", "serve", "--port", str(free_port()), "--data", str(data)]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(_app, "reuse_freed_memory", lambda: False)  # this process' allocator
    handler = signal.getsignal(signal.SIGTERM)  # main() installs its own
    try:
        with pytest.raises(SystemExit) as stop:
            main()
    finally:
        signal.signal(signal.SIGTERM, handler)
    assert stop.value.code == 143
    said = " ".join(capsys.readouterr().err.split())
    assert "nothing was written" not in said and "is kept" in said
