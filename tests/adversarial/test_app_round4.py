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


def test_study_inputs_differing_only_in_case_are_refused(client: TestClient) -> None:
    """The study builder accepted inputs 'v' and 'V' (their output files are one file on
    macOS and Windows); study.yaml refuses them too now."""
    pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
    data = VIABILITY.read_bytes()
    fids = [
        client.post(
            f"/api/projects/{pid}/files",
            files={"file": (name, data + extra)},
            data={"kind": "dose_response"},
        ).json()["id"]
        for name, extra in (("v.tsv", b""), ("w.tsv", b"\n"))
    ]
    study = client.get(f"/api/projects/{pid}").json()["study"]
    inputs = [{**i, "id": ident} for i, ident in zip(study["inputs"], ("v", "V"), strict=True)]
    assert {i["file"] for i in inputs} == set(fids)
    answer = client.put(f"/api/projects/{pid}/study", json={**study, "inputs": inputs})
    assert answer.status_code == 422, answer.text
    assert "two inputs are named 'V'" in answer.json()["error"]["message"]
