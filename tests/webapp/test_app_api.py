"""The REST API: projects, uploads read by trkres' readers, study import, runs, tables."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trkres.app.service import Service
from webapp.helpers import VIABILITY, wait_for


def project(client: TestClient, name: str = "PDX") -> str:
    response = client.post("/api/projects", json={"name": name})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def upload(client: TestClient, pid: str, name: str, data: bytes, kind: str):  # type: ignore[no-untyped-def]
    return client.post(f"/api/projects/{pid}/files", files={"file": (name, data)},
                       data={"kind": kind})  # fmt: skip


def test_health_and_projects(client: TestClient) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    pid = project(client, "LOXO-195 resistant line")
    listed = client.get("/api/projects").json()
    assert [(p["id"], p["name"], p["files"]) for p in listed] == [
        (pid, "LOXO-195 resistant line", 0)
    ]
    assert client.post("/api/projects", json={"name": "  "}).status_code == 422
    assert client.get("/api/projects/0123456789abcdef").status_code == 404


def test_upload_valid_file_becomes_an_input(client: TestClient, service: Service) -> None:
    pid = project(client)
    response = upload(client, pid, "viability.tsv", VIABILITY.read_bytes(), "dose_response")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["rows"] == 60 and body["kind"] == "dose_response"
    stored = service.store.file(body["id"])
    # Content-addressed: the blob is named by the file's SHA-256 and holds the original bytes.
    assert service.store.blob_path(stored.sha256).read_bytes() == VIABILITY.read_bytes()
    study = client.get(f"/api/projects/{pid}").json()["study"]
    assert study["inputs"] == [{"id": "viability", "kind": "dose_response", "file": body["id"]}]


def test_bad_file_gives_the_readers_error_and_is_not_kept(client: TestClient) -> None:
    pid = project(client)
    response = upload(client, pid, "plate1.tsv", b"drug\tdose\nA\tx\n", "dose_response")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["location"]["file"] == "plate1.tsv"  # the user's name, not the server path
    assert error["expected"] and error["found"]
    assert "/blobs/" not in error["text"] and ".upload-" not in error["text"]
    assert client.get(f"/api/projects/{pid}").json()["files"] == []


def test_unknown_kind_and_binary_file_refused(client: TestClient) -> None:
    pid = project(client)
    assert upload(client, pid, "x.tsv", b"a\tb\n", "plasmid").status_code == 422
    response = upload(client, pid, "x.maf", b"\x00\x01\x02binary" * 100, "mutations")
    assert response.status_code == 422
    assert "x.maf" in response.json()["error"]["text"]


def test_import_example_study_run_it_and_read_results(
    client: TestClient, example_zip: Path
) -> None:
    pid = project(client, "example")
    with example_zip.open("rb") as fh:
        response = client.post(f"/api/projects/{pid}/study", files={"file": ("ex.zip", fh)})
    assert response.status_code == 200, response.text
    assert response.json()["inputs"] == 13
    # Only the dose-response input and its options: a quick run.
    definition = client.get(f"/api/projects/{pid}").json()["study"]
    definition["inputs"] = [i for i in definition["inputs"] if i["kind"] == "dose_response"]
    definition["options"] = {"dose_response": definition["options"]["dose_response"]}
    assert client.put(f"/api/projects/{pid}/study", json=definition).status_code == 200
    rid = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    run = wait_for(client, rid)
    assert run["status"] == "done", run["error"]
    names = {t["name"] for t in run["tables"]}
    assert {"inputs", "dose_response_fits", "dose_response_resistance"} <= names
    report = client.get(f"/api/runs/{rid}/report")
    assert report.status_code == 200 and "Dose-response" in report.text
    assert "sandbox" in report.headers["content-security-policy"]
    tsv = client.get(f"/api/runs/{rid}/tables/dose_response_fits")
    assert tsv.status_code == 200 and tsv.text.startswith("curve_id\t")
    # A sorted, filtered page comes from the database copy of the same table.
    page = client.get(
        f"/api/runs/{rid}/tables/dose_response_fits",
        params={"format": "json", "q": "G623R", "sort": "ic50", "desc": True},
    ).json()
    assert page["total"] >= 1
    column = page["columns"].index("curve_id")
    assert all("g623r" in str(row[column]).lower() for row in page["rows"])
    ic50 = [row[page["columns"].index("ic50")] for row in page["rows"]]
    assert ic50 == sorted(ic50, reverse=True)
    bad_sort = client.get(
        f"/api/runs/{rid}/tables/dose_response_fits",
        params={"format": "json", "sort": "ic50; DROP TABLE runs"},
    )
    assert bad_sort.status_code == 422
    assert client.get(f"/api/runs/{rid}/tables/nope").status_code == 404
    # The study folder of the run reproduces it from the command line.
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/runs/{rid}/study.zip").content))
    assert archive.namelist() == ["study.yaml", "lab/viability_entrectinib.tsv"]
    assert b"kind: dose_response" in archive.read("study.yaml")


def test_run_of_a_study_that_does_not_validate_is_refused(client: TestClient) -> None:
    pid = project(client)
    assert client.post(f"/api/projects/{pid}/runs", json={}).status_code == 422  # no inputs
    response = upload(client, pid, "viability.tsv", VIABILITY.read_bytes(), "dose_response")
    assert response.status_code == 200
    bad = client.post(
        f"/api/projects/{pid}/runs", json={"options": {"dose_response": {"modle": "4pl"}}}
    )
    # Bad options are refused before a run is queued (the same check as trkres analyze).
    assert bad.status_code == 422
    text = bad.json()["error"]["text"]
    assert "modle" in text and "line" in text and "/runs/" not in text
    assert client.get(f"/api/projects/{pid}/runs").json() == []


def test_study_definition_checked(client: TestClient) -> None:
    pid = project(client)
    fid = upload(client, pid, "viability.tsv", VIABILITY.read_bytes(), "dose_response").json()["id"]
    ok = {"inputs": [{"id": "v", "kind": "dose_response", "file": fid}], "options": {}}
    assert client.put(f"/api/projects/{pid}/study", json=ok).status_code == 200
    for bad in (
        {"inputs": [{"id": "v", "kind": "dose_response", "file": "../../etc/passwd"}]},
        {"inputs": [{"id": "v", "kind": "nonsense", "file": fid}]},
        {"inputs": [{"id": "v", "kind": "dose_response", "file": fid, "path": "/etc/passwd"}]},
        {"steps": []},
    ):
        assert client.put(f"/api/projects/{pid}/study", json=bad).status_code == 422, bad


def test_cancel_queued_run(client: TestClient, service: Service) -> None:
    pid = project(client)
    upload(client, pid, "viability.tsv", VIABILITY.read_bytes(), "dose_response")
    ids = [client.post(f"/api/projects/{pid}/runs", json={}).json()["id"] for _ in range(3)]
    answer = client.post(f"/api/runs/{ids[-1]}/cancel").json()["result"]
    last = wait_for(client, ids[-1])
    assert last["status"] in ("failed", "done")
    if answer == "cancelled" or answer.startswith("cancelling"):
        assert last["status"] == "failed" and "cancel" in str(last["error"])
    for rid in ids[:-1]:
        assert wait_for(client, rid)["status"] == "done"
    assert client.get(f"/api/runs/{ids[-1]}/report").status_code in (200, 404)


def test_compare_two_runs(client: TestClient) -> None:
    pid = project(client)
    upload(client, pid, "viability.tsv", VIABILITY.read_bytes(), "dose_response")
    a = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    b = client.post(
        f"/api/projects/{pid}/runs", json={"options": {"dose_response": {"model": "3pl"}}}
    ).json()["id"]
    assert wait_for(client, a)["status"] == "done"
    run_b = wait_for(client, b)
    assert run_b["status"] == "done", run_b["error"]
    page = client.get("/compare", params={"a": a, "b": b})
    assert page.status_code == 200
    assert "dose_response.model" in page.text
    assert "cell(s) differ" in page.text  # the 3PL fits differ from the 4PL ones
    assert "identical" in page.text  # the inputs table does not


def test_plate_map_from_the_editor(client: TestClient) -> None:
    pid = project(client)
    wells = [{"well": f"A{c}", "role": "sample", "cell_line": "KM12", "drug1": "larotrectinib",
              "conc1": 1000 / 3**(c - 1), "replicate": 1} for c in range(1, 11)]  # fmt: skip
    wells += [{"well": "A11", "role": "vehicle", "cell_line": "KM12"},
              {"well": "A12", "role": "blank"}]  # fmt: skip
    body = {"name": "laro plate", "plate_size": 96, "unit": "nM", "wells": wells}
    saved = client.post(f"/api/projects/{pid}/platemaps", json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["name"] == "laro plate.yaml"
    assert saved.json()["summary"] == "plate map, 12 wells: 10 sample, 1 vehicle, 1 blank"
    back = client.get(f"/api/files/{saved.json()['id']}/platemap").json()
    assert back["plate_size"] == 96 and len(back["wells"]) == 12
    a1 = next(w for w in back["wells"] if w["well"] == "A1")
    assert back["unit"] == "nM"  # doses in the map's own unit
    assert a1["conc1"] == pytest.approx(1000) and a1["drug1"] == "larotrectinib"
    # The plate map reader checks what the editor sends.
    bad = {**body, "wells": [*wells, {"well": "Z99", "role": "sample"}]}
    refused = client.post(f"/api/projects/{pid}/platemaps", json=bad)
    assert refused.status_code == 422 and "Z99" in refused.json()["error"]["text"]
    wrong_role = {**body, "wells": [{"well": "A1", "role": "control"}]}
    assert client.post(f"/api/projects/{pid}/platemaps", json=wrong_role).status_code == 422
    assert (
        client.post(f"/api/projects/{pid}/platemaps", json={**body, "plate_size": 1536}).status_code
        == 422
    )
    files = client.get(f"/api/projects/{pid}").json()["files"]
    assert [f["name"] for f in files] == ["laro plate.yaml"]
    # The name is the user's text only: no folders, no control characters, bounded.
    odd = {**body, "name": "../../x\n" + "y" * 500}
    saved = client.post(f"/api/projects/{pid}/platemaps", json=odd).json()
    assert saved["name"].startswith("x") and "/" not in saved["name"] and len(saved["name"]) <= 125


def _western_project(client: TestClient, example_zip: Path) -> str:
    pid = project(client, "western")
    with example_zip.open("rb") as fh:
        assert (
            client.post(f"/api/projects/{pid}/study", files={"file": ("ex.zip", fh)}).status_code
            == 200
        )
    definition = client.get(f"/api/projects/{pid}").json()["study"]
    definition["inputs"] = [i for i in definition["inputs"] if i["kind"] == "western"]
    definition["options"] = {"western": definition["options"]["western"]}
    assert client.put(f"/api/projects/{pid}/study", json=definition).status_code == 200
    return pid


def test_western_band_boxes_edited_measured_and_saved(
    client: TestClient, example_zip: Path
) -> None:
    pid = _western_project(client, example_zip)
    rid = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert wait_for(client, rid)["status"] == "done"
    view = client.get(f"/api/runs/{rid}/western/perk_blot").json()
    assert len(view["bands"]) >= 8 and len(view["quantified"]) == 8
    png = client.get(f"/api/runs/{rid}/western/perk_blot/image.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    boxes = [{k: b[k] for k in ("lane", "band", "x0", "x1", "y0", "y1")} for b in view["bands"]]
    # The same boxes measure the same volumes as the run.
    same = client.post(f"/api/runs/{rid}/western/perk_blot/quantify", json={"rois": boxes}).json()
    run_volumes = {(b["lane"], b["band"]): b["volume"] for b in view["bands"]}
    for b in same["bands"]:
        assert b["volume"] == pytest.approx(run_volumes[(b["lane"], b["band"])], rel=1e-9)
    # Moving lane 1's first box off its band (30 px up, into empty membrane) lowers its volume.
    moved = [dict(b) for b in boxes]
    first = next(b for b in moved if b["lane"] == 1 and b["band"] == 1)
    first["y0"] -= 30
    first["y1"] -= 30
    again = client.post(f"/api/runs/{rid}/western/perk_blot/quantify", json={"rois": moved}).json()
    new = next(b for b in again["bands"] if b["lane"] == 1 and b["band"] == 1)
    assert new["volume"] < 0.5 * run_volumes[(1, 1)]
    # A box the ROI reader refuses: 422 with its message, no server path.
    bad = [dict(b) for b in boxes]
    bad[0]["x1"] = bad[0]["x0"]
    refused = client.post(f"/api/runs/{rid}/western/perk_blot/quantify", json={"rois": bad})
    assert refused.status_code == 422 and "x1" in refused.json()["error"]["text"]
    assert "/runs/" not in refused.json()["error"]["text"]
    assert (
        client.post(
            f"/api/runs/{rid}/western/perk_blot/quantify", json={"rois": [{"lane": "one"}]}
        ).status_code
        == 422
    )
    assert client.get(f"/api/runs/{rid}/western/nope").status_code == 404
    # Boxes of one lane that share pixels would count them twice: refused.
    overlap = [dict(b) for b in boxes]
    second = next(b for b in overlap if b["lane"] == 1 and b["band"] == 2)
    second["y0"] = next(b for b in overlap if b["lane"] == 1 and b["band"] == 1)["y1"] - 2
    for route in ("quantify", "rois"):
        refused = client.post(f"/api/runs/{rid}/western/perk_blot/{route}", json={"rois": overlap})
        assert refused.status_code == 422 and "overlap" in refused.json()["error"]["text"]
    # Saved: linked to the input, and the next run measures those boxes.
    saved = client.post(f"/api/runs/{rid}/western/perk_blot/rois", json={"rois": moved}).json()
    assert saved["linked"] is True
    study = client.get(f"/api/projects/{pid}").json()["study"]
    assert study["inputs"][0]["rois"] == saved["id"]
    rerun = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert wait_for(client, rerun)["status"] == "done"
    after = client.get(f"/api/runs/{rerun}/western/perk_blot").json()
    lane1 = next(b for b in after["bands"] if b["lane"] == 1 and b["band"] == 1)
    assert (lane1["y0"], lane1["volume"]) == (first["y0"], pytest.approx(new["volume"], rel=1e-9))
    assert b"rois: perk_blot_rois.tsv" in client.get(f"/api/runs/{rerun}/study.yaml").content


def test_waiting_for_runs_to_end(client: TestClient) -> None:
    """``?wait=`` answers when the run ends, request after request (each TestClient request
    runs on an event loop of its own, as several server loops would)."""
    pid = project(client)
    upload(client, pid, "viability.tsv", VIABILITY.read_bytes(), "dose_response")
    first = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert wait_for(client, first)["status"] == "done"  # the worker started, at any speed
    for _ in range(2):
        rid = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
        t0 = time.monotonic()
        run = client.get(f"/api/runs/{rid}", params={"wait": 60}).json()
        assert run["status"] == "done"
        assert time.monotonic() - t0 < 60  # answered when it ended, before the full wait
    assert client.get(f"/api/runs/{rid}", params={"wait": 61}).status_code == 422
