"""Helpers of the web app's tests: a real ``trkres serve`` process, polling runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from support import EXAMPLE
from trkres.app.server import guarded
from trkres.app.service import AppConfig, Service

BASE = "http://127.0.0.1:8000"
VIABILITY = EXAMPLE / "lab" / "viability_entrectinib.tsv"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """An app service on a fresh data folder (one worker, started on first use)."""
    svc = Service(AppConfig(data=tmp_path / "data", workers=1), start_workers=False)
    yield svc
    svc.close()


@pytest.fixture
def client(service: Service) -> TestClient:
    """A TestClient of the guarded app (host, token and CSRF checks as served)."""
    return TestClient(guarded(service), base_url=BASE)


def wait_for(
    client: TestClient | httpx.Client, rid: str, timeout: float = 300.0
) -> dict[str, object]:
    """Poll a run until it is done or failed (a TestClient or an httpx client). The limit
    is only for a run that never ends: on a loaded 2-core machine (pytest -n) a worker's
    first run, queued behind two others, took 106 s of the former 120."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{rid}").json()
        if run["status"] in ("done", "failed"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {rid} still {run['status']} after {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortTaken(AssertionError):
    """``trkres serve`` refused its port: another process took it since it was free."""


class Server:
    """A ``trkres serve`` process on a free loopback port."""

    def __init__(self, data: Path, *extra: str) -> None:
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> float:
        """Start and wait until /api/health answers; seconds it took. A port taken since
        it was found free (another test's server or connection, under pytest -n) is
        replaced by another free one."""
        for _ in range(3):
            try:
                return self._start(timeout)
            except PortTaken:
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
        return self._start(timeout)

    def _start(self, timeout: float) -> float:
        import httpx

        cmd = [sys.executable, "-m", "trkres", "serve", "--port", str(self.port),
               "--data", str(self.data), *self.extra]  # fmt: skip
        t0 = time.perf_counter()
        self.process = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ}
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out = self.process.stdout.read().decode() if self.process.stdout else ""
                if "cannot listen on" in out:
                    raise PortTaken(out)
                raise AssertionError(f"trkres serve exited {self.process.returncode}: {out}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code in (200, 401):
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError("trkres serve did not answer")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
