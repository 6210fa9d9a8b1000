"""Adversarial, round 4: the web app's uploads. Each test failed before the fix it names."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the app extra is not installed")

from fastapi.testclient import TestClient

from webapp import helpers
from webapp.helpers import VIABILITY

service = helpers.service  # the web app tests' fixtures
client = helpers.client


def test_two_file_parts_in_one_upload_are_refused(client: TestClient) -> None:
    """Was: an upload with two 'file' parts kept the last and dropped the first
    silently (200, one file stored)."""
    pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
    data = VIABILITY.read_bytes()
    response = client.post(
        f"/api/projects/{pid}/files",
        files=[("file", ("a.tsv", data)), ("file", ("b.tsv", data))],
        data={"kind": "dose_response"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"] == "one file per upload"
    assert "a.tsv" in error["found"] and "b.tsv" in error["found"]
    assert client.get(f"/api/projects/{pid}").json()["files"] == []
    # one part is still an upload
    one = client.post(f"/api/projects/{pid}/files", files={"file": ("a.tsv", data)},
                      data={"kind": "dose_response"})  # fmt: skip
    assert one.status_code == 200, one.text
