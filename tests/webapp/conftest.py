"""Fixtures of the web app's tests (helpers in webapp/helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the app extra is not installed")

from fastapi.testclient import TestClient

from support import EXAMPLE
from trkres.app.examples import zip_folder
from trkres.app.server import guarded
from trkres.app.service import AppConfig, Service
from webapp.helpers import BASE, Server


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = Service(AppConfig(data=tmp_path / "data", workers=1), start_workers=False)
    yield svc
    svc.close()


@pytest.fixture
def client(service: Service) -> TestClient:
    return TestClient(guarded(service), base_url=BASE)


@pytest.fixture(scope="session")
def example_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("example") / "ntrk_resistance.zip"
    zip_folder(EXAMPLE, path)
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data")
    srv.start()
    yield srv
    srv.stop()
