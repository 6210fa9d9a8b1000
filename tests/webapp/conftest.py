"""Fixtures of the web app's tests (helpers in webapp/helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the app extra is not installed")

from support import EXAMPLE
from trkres.app.examples import zip_folder
from webapp import helpers
from webapp.helpers import Server

service = helpers.service  # the app-service and client fixtures, shared with other folders
client = helpers.client


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
