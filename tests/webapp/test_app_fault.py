"""A server killed (SIGKILL) during a run: the store stays intact and the run is reported
honestly after a restart."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import httpx

from webapp.helpers import VIABILITY, Server, free_port, wait_for


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_during_a_run_then_restart(tmp_path: Path, example_zip: Path) -> None:
    server = Server(tmp_path / "data")
    server.start()
    try:
        client = httpx.Client(base_url=server.url, timeout=300)
        pid = client.post("/api/projects", json={"name": "example"}).json()["id"]
        with example_zip.open("rb") as fh:
            imported = client.post(f"/api/projects/{pid}/study", files={"file": ("ex.zip", fh)})
        assert imported.status_code == 200, imported.text
        files_before = client.get(f"/api/projects/{pid}").json()["files"]
        rid = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
        deadline = time.monotonic() + 300  # a worker started on a loaded machine
        while True:  # until the run is under way in a worker
            run = client.get(f"/api/runs/{rid}").json()
            if run["status"] == "running" and run["progress"] > 0:
                break
            assert run["status"] != "done", "the run finished before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert server.process is not None
        workers = _descendants(server.process.pid)
        assert workers, "the run should be executing in worker processes"
        server.kill()  # SIGKILL: no clean-up code runs
        # A worker notices within 0.5 s, once it gets the GIL back from a compiled step.
        deadline = time.monotonic() + 60
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers), "workers outlived the server"

        server.start()  # the same data folder
        client = httpx.Client(base_url=server.url, timeout=300)
        run = client.get(f"/api/runs/{rid}").json()
        assert run["status"] == "failed"
        assert "interrupted" in str(run["error"])
        assert "tables" not in run
        assert client.get(f"/api/runs/{rid}/report").status_code == 404
        assert client.get(f"/api/runs/{rid}/tables/inputs").status_code == 404
        # Nothing half-written is left of it on disk either.
        run_dir = tmp_path / "data" / "runs" / rid
        assert {p.name for p in run_dir.iterdir()} <= {"error.txt", "names.json", "study"}
        # The files are intact: same list, blobs still hash to their names.
        project = client.get(f"/api/projects/{pid}").json()
        assert project["files"] == files_before
        for file in project["files"]:
            blob = tmp_path / "data" / "blobs" / file["sha256"][:2] / file["sha256"]
            assert hashlib.sha256(blob.read_bytes()).hexdigest() == file["sha256"]
        # And the store works: a new run in a new project completes.
        quick = client.post("/api/projects", json={"name": "after restart"}).json()["id"]
        upload = client.post(f"/api/projects/{quick}/files",
                             files={"file": ("v.tsv", VIABILITY.read_bytes())},
                             data={"kind": "dose_response"})  # fmt: skip
        assert upload.status_code == 200, upload.text
        again = client.post(f"/api/projects/{quick}/runs", json={}).json()["id"]
        assert wait_for(client, again)["status"] == "done"
    finally:
        server.stop()


def test_second_server_on_the_same_data_is_refused(server: Server) -> None:
    import subprocess
    import sys

    # A free port: port 1 is refused to a user who is not root ('cannot listen', checked
    # before the data folder), as on most CI machines.
    other = subprocess.run(
        [sys.executable, "-m", "trkres", "serve", "--port", str(free_port()), "--data", str(server.data)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert other.returncode == 1
    assert "in use" in other.stderr and "Traceback" not in other.stderr
    assert httpx.get(f"{server.url}/api/health", timeout=60).status_code == 200  # still up


def test_sigterm_says_the_data_folder_is_kept(tmp_path: Path) -> None:
    """A batch command stopped by SIGTERM says 'nothing was written' (its staged outputs are
    removed); the server said so too, wrongly: it keeps its data folder (new-user walk)."""
    srv = Server(tmp_path / "data")
    srv.start()
    assert srv.process is not None
    srv.process.terminate()
    out, _ = srv.process.communicate(timeout=30)
    text = " ".join(out.decode().split())  # rich wraps at 80 columns
    assert "nothing was written" not in text and "data folder" in text and "is kept" in text
    assert "Traceback" not in text


def test_warming_after_shutdown_stops_quietly(tmp_path: Path) -> None:
    """The server stopped while its warm-up thread was still submitting (CI, stop 29): the
    thread raised 'cannot schedule new futures after shutdown' into the terminal."""
    from trkres.app.runs import RunPool
    from trkres.app.store import Store

    store = Store(tmp_path / "data")
    pool = RunPool(store, workers=1)
    errors: list[BaseException] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)  # type: ignore[assignment,misc]
    try:
        pool._pool.shutdown(wait=True)  # the state the warm thread met: pool shut, not closing
        pool.warm()
        for thread in threading.enumerate():
            if thread.name == "trkres-warm":
                thread.join(timeout=30)
    finally:
        threading.excepthook = old_hook
        pool.shutdown()
        store.close()
    assert errors == []
