"""Fixes from the adversarial review of the app: concurrent study edits, tokens and
sessions, zip imports, leftovers, docs offline, monotonic progress, checked links."""

from __future__ import annotations

import io
import threading
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from support import EXAMPLE
from trkres.app.server import check_bind, guarded
from trkres.app.service import AppConfig, Service
from trkres.errors import InputError
from webapp.helpers import BASE, VIABILITY, wait_for


def _project(client: TestClient) -> str:
    return str(client.post("/api/projects", json={"name": "p"}).json()["id"])


def test_concurrent_uploads_keep_every_input(service: Service) -> None:
    app = guarded(service)  # one app, as one server has; a client per thread (tab)
    pid = _project(TestClient(app, base_url=BASE))
    data = VIABILITY.read_bytes()
    codes: list[int] = []

    def upload(i: int) -> None:
        client = TestClient(app, base_url=BASE)
        response = client.post(f"/api/projects/{pid}/files", files={"file": (f"v{i}.tsv", data)},
                               data={"kind": "dose_response"})  # fmt: skip
        codes.append(response.status_code)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 6
    study = service.store.project(pid)["study"]
    assert sorted(i["id"] for i in study["inputs"]) == [f"v{i}" for i in range(6)]


def test_a_stale_save_is_refused(client: TestClient) -> None:
    pid = _project(client)
    page = client.get(f"/api/projects/{pid}").json()  # tab A loads the study
    client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                data={"kind": "dose_response"})  # tab B uploads  # fmt: skip
    stale = {**page["study"], "version": page["study_version"]}
    response = client.put(f"/api/projects/{pid}/study", json=stale)
    assert response.status_code == 409
    assert len(client.get(f"/api/projects/{pid}").json()["study"]["inputs"]) == 1
    fresh = client.get(f"/api/projects/{pid}").json()
    ok = client.put(
        f"/api/projects/{pid}/study", json={**fresh["study"], "version": fresh["study_version"]}
    )
    assert ok.status_code == 200 and ok.json()["version"] == fresh["study_version"] + 1


def test_short_tokens_refused_and_tokens_compared_exactly(tmp_path: Path) -> None:
    for token in ("", "   ", "short"):
        with pytest.raises(InputError, match="too short"):
            check_bind(AppConfig(data=tmp_path, host="0.0.0.0", token=token))
    config = AppConfig(
        data=tmp_path / "d", host="0.0.0.0", token="a-long-enough-token-123", workers=1
    )
    check_bind(config)
    svc = Service(config, start_workers=False)
    try:
        client = TestClient(guarded(svc), base_url="http://192.0.2.1:8000")
        for header in (
            b"Bearer \xa0",
            b"Bearer \x85",
            b"Bearer  ",
            b"Bearer a-long-enough-token-12",
        ):
            response = client.get("/api/projects", headers={"Authorization": header})
            assert response.status_code == 401, header
        assert (
            client.get(
                "/api/projects", headers={"Authorization": "Bearer a-long-enough-token-123"}
            ).status_code
            == 200
        )
        # The session cookie is a random id, never the token itself.
        client.post("/login", data={"token": "a-long-enough-token-123"}, follow_redirects=False)
        session = client.cookies.get("trkres_session")
        assert session and "a-long-enough-token-123" not in session
        assert client.get("/api/projects").status_code == 200
    finally:
        svc.close()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_zip_import_unpacks_only_what_study_yaml_names(tmp_path: Path) -> None:
    svc = Service(AppConfig(data=tmp_path / "data", max_upload=2 * 1024**2, workers=1),
                  start_workers=False)  # fmt: skip
    try:
        client = TestClient(guarded(svc), base_url=BASE)
        pid = _project(client)
        manifest = b"name: s\ninputs:\n  - {kind: dose_response, path: lab/v.tsv}\n"
        bomb = b"\0" * (50 * 1024**2)  # 50 MB of zeros: ~50 kB compressed, never named
        archive = _zip({"s/study.yaml": manifest, "s/lab/v.tsv": VIABILITY.read_bytes(),
                        "s/junk.bin": bomb})  # fmt: skip
        response = client.post(f"/api/projects/{pid}/study", files={"file": ("s.zip", archive)})
        assert response.status_code == 200, response.text
        assert [f["name"] for f in client.get(f"/api/projects/{pid}").json()["files"]] == [
            "lab/v.tsv"
        ]
        # A named file larger than the limit once unpacked: refused while unpacking.
        big = _zip({"study.yaml": manifest, "lab/v.tsv": bomb})
        response = client.post(f"/api/projects/{pid}/study", files={"file": ("b.zip", big)})
        assert response.status_code == 422
        assert "larger than this server accepts" in response.json()["error"]["text"]
        leftovers = (
            list((svc.store.folder / "tmp").glob("*"))
            if (svc.store.folder / "tmp").exists()
            else []
        )
        assert leftovers == []
    finally:
        svc.close()


def test_leftovers_of_a_killed_server_are_removed_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Service(AppConfig(data=data, workers=1), start_workers=False).close()
    (data / "blobs" / ".upload-abc").write_bytes(b"x" * 100)
    (data / "tmp" / "import-xyz").mkdir(parents=True)
    (data / "tmp" / "import-xyz" / "big").write_bytes(b"x" * 100)
    svc = Service(AppConfig(data=data, workers=1), start_workers=False)
    try:
        assert not (data / "blobs" / ".upload-abc").exists()
        assert not (data / "tmp").exists()
    finally:
        svc.close()


def test_api_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    asset = client.get("/docs/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert client.get("/docs/openapi.json").json()["openapi"] == "3.0.3"
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert client.get("/docs/..%2Fserver.py").status_code in (404, 422)


def test_a_server_bound_to_another_loopback_address_answers_to_it(tmp_path: Path) -> None:
    svc = Service(AppConfig(data=tmp_path / "d", host="127.0.0.2", workers=1), start_workers=False)
    try:
        client = TestClient(guarded(svc), base_url="http://127.0.0.2:8000")
        assert client.get("/api/health").status_code == 200
        other = client.get("/api/health", headers={"Host": "attacker.example"})
        assert other.status_code == 421
    finally:
        svc.close()


def test_study_progress_never_goes_back() -> None:
    from trkres.study.runner import run

    seen: list[float] = []
    run(EXAMPLE, only=["dose_response", "western"],
        progress=lambda done, total, label: seen.append(done / total))  # fmt: skip
    assert len(seen) > 4 and seen == sorted(seen) and seen[-1] == 1.0


def test_study_definition_limits_and_linked_files_read(client: TestClient) -> None:
    pid = _project(client)
    fid = client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                      data={"kind": "dose_response"}).json()["id"]  # fmt: skip
    deep: dict[str, object] = {}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]  # type: ignore[assignment]
    nested = {"inputs": [{"id": "v", "kind": "dose_response", "file": fid}], "options": deep}
    assert client.put(f"/api/projects/{pid}/study", json=nested).status_code == 422
    assert client.get(f"/api/projects/{pid}").status_code == 200
    # A bad plate map linked to a plate is refused when the study is saved.
    bad_map = client.post(f"/api/projects/{pid}/files",
                          files={"file": ("map.yaml", b"wells:\n  - {wells: A1:B2, role: sample}\n")},
                          data={"kind": "attachment"}).json()["id"]  # fmt: skip
    plate = {"inputs": [{"id": "v", "kind": "plate", "file": fid, "layout": bad_map}]}
    response = client.put(f"/api/projects/{pid}/study", json=plate)
    assert response.status_code == 422
    text = response.json()["error"]["text"]
    assert "plate map" in text and "map.yaml" in text and "/blobs/" not in text


def test_run_again_uses_that_runs_inputs_and_compare_shows_inputs(client: TestClient) -> None:
    pid = _project(client)
    client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                data={"kind": "dose_response"})  # fmt: skip
    first = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert wait_for(client, first)["status"] == "done"
    changed = VIABILITY.read_text().replace("0.9061", "0.8061").encode()
    client.post(f"/api/projects/{pid}/files", files={"file": ("w.tsv", changed)},
                data={"kind": "dose_response"})  # fmt: skip
    study = client.get(f"/api/projects/{pid}").json()
    study["study"]["inputs"] = study["study"]["inputs"][1:]  # the project now has w.tsv only
    client.put(f"/api/projects/{pid}/study", json=study["study"])
    again = client.post(
        f"/api/projects/{pid}/runs",
        json={"from_run": first, "options": {"dose_response": {"model": "3pl"}}},
    )
    run = wait_for(client, again.json()["id"])
    assert run["status"] == "done", run["error"]
    assert b"path: v.tsv" in client.get(f"/api/runs/{run['id']}/study.yaml").content
    latest = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert wait_for(client, latest)["status"] == "done"
    page = client.get("/compare", params={"a": first, "b": latest}).text
    assert "v.tsv" in page and "w.tsv" in page  # the inputs differ, and the page says how


def test_deleting_runs_files_and_projects(client: TestClient, service: Service) -> None:
    pid = _project(client)
    fid = client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                      data={"kind": "dose_response"}).json()["id"]  # fmt: skip
    rid = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert wait_for(client, rid)["status"] == "done"
    tables = [t["db_table"] for t in service.store.run_tables(rid)]
    assert client.delete(f"/api/projects/{pid}/files/{fid}").status_code == 409  # in the study
    client.put(f"/api/projects/{pid}/study", json={"inputs": [], "options": {}})
    refused = client.delete(f"/api/projects/{pid}/files/{fid}")
    assert refused.status_code == 409 and rid in refused.json()["error"]["text"]  # a run used it
    assert client.delete(f"/api/runs/{rid}").status_code == 200
    assert client.get(f"/api/runs/{rid}").status_code == 404
    assert not (service.store.folder / "runs" / rid).exists()
    left = service.store._rows("SELECT table_name FROM information_schema.tables")
    assert not {r["table_name"] for r in left} & set(tables)
    sha = service.store.file(fid).sha256
    assert client.delete(f"/api/projects/{pid}/files/{fid}").status_code == 200
    assert not service.store.blob_path(sha).exists()
    # A whole project, with its runs and files.
    other = _project(client)
    client.post(f"/api/projects/{other}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                data={"kind": "dose_response"})  # fmt: skip
    run2 = client.post(f"/api/projects/{other}/runs", json={}).json()["id"]
    assert wait_for(client, run2)["status"] == "done"
    assert client.delete(f"/api/projects/{other}").status_code == 200
    assert client.get(f"/api/projects/{other}").status_code == 404
    assert client.get(f"/api/runs/{run2}").status_code == 404
    assert list((service.store.folder / "blobs").rglob("*.tsv")) == []
    assert [p for p in (service.store.folder / "blobs").rglob("*") if p.is_file()] == []


def test_same_bytes_kept_and_deleted_concurrently_never_lose_a_blob(client: TestClient) -> None:
    """Saving identical content while deleting an earlier copy: the new file's blob stays
    (a deletion once removed it between the blob's placement and the new record)."""
    pid = _project(client)
    body = {"name": "same", "plate_size": 96, "unit": "nM",
            "wells": [{"well": "A1", "role": "vehicle"}, {"well": "A2", "role": "blank"}]}  # fmt: skip
    failures: list[str] = []
    previous = [client.post(f"/api/projects/{pid}/platemaps", json=body).json()["id"]]

    def delete(fid: str) -> None:
        client.delete(f"/api/projects/{pid}/files/{fid}")

    for _ in range(25):
        deleter = threading.Thread(target=delete, args=(previous[-1],))
        deleter.start()
        saved = client.post(f"/api/projects/{pid}/platemaps", json=body)
        deleter.join()
        if saved.status_code != 200:
            failures.append(saved.text[:200])
            continue
        previous.append(saved.json()["id"])
        back = client.get(f"/api/files/{previous[-1]}/platemap")
        if back.status_code != 200:
            failures.append(back.text[:200])
    assert failures == []


def test_plate_map_reopens_in_its_own_unit(client: TestClient) -> None:
    pid = _project(client)
    body = {"name": "m", "plate_size": 96, "unit": "nM",
            "wells": [{"well": "A1", "role": "sample", "drug1": "laro", "conc1": 1000},
                      {"well": "A2", "role": "vehicle"}]}  # fmt: skip
    fid = client.post(f"/api/projects/{pid}/platemaps", json=body).json()["id"]
    back = client.get(f"/api/files/{fid}/platemap").json()
    assert back["unit"] == "nM"
    assert next(w for w in back["wells"] if w["well"] == "A1")["conc1"] == 1000
    # Another project's file does not open in this project's editor.
    other = _project(client)
    assert client.get(f"/projects/{other}/platemap", params={"file": fid}).status_code == 404


def test_sessions_expire_and_sign_out_ends_them(tmp_path: Path) -> None:
    config = AppConfig(
        data=tmp_path / "d", host="0.0.0.0", token="a-long-enough-token-123", workers=1
    )
    check_bind(config)
    svc = Service(config, start_workers=False)
    try:
        client = TestClient(guarded(svc), base_url="http://192.0.2.1:8000")
        client.post("/login", data={"token": "a-long-enough-token-123"}, follow_redirects=False)
        assert client.get("/api/projects").status_code == 200
        assert "sign out" in client.get("/").text
        session = client.cookies.get("trkres_session")
        svc.sessions[session] = 0.0  # as if 12 hours had passed
        assert client.get("/api/projects").status_code == 401
        client.post("/login", data={"token": "a-long-enough-token-123"}, follow_redirects=False)
        assert client.get("/api/projects").status_code == 200
        client.post("/logout", follow_redirects=False)
        assert client.get("/api/projects").status_code == 401
        assert list(svc.sessions.values()) == [] or all(v == 0.0 for v in svc.sessions.values())
    finally:
        svc.close()
    # Without a token there is nothing to sign out of.
    plain = Service(AppConfig(data=tmp_path / "e", workers=1), start_workers=False)
    try:
        assert "sign out" not in TestClient(guarded(plain), base_url=BASE).get("/").text
    finally:
        plain.close()


def test_equal_result_tables_are_stored_once_and_dropped_with_their_last_run(
    client: TestClient, service: Service
) -> None:
    """Every run has the knowledge base's tables: they are one database table for all
    runs, which outlives a deleted run while another run still has it."""
    pid = _project(client)
    client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                data={"kind": "dose_response"})  # fmt: skip
    first = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert wait_for(client, first)["status"] == "done"
    second = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert wait_for(client, second)["status"] == "done"
    a = {t["name"]: t["db_table"] for t in service.store.run_tables(first)}
    b = {t["name"]: t["db_table"] for t in service.store.run_tables(second)}
    assert a == b  # the same inputs and options: every table is equal, so shared
    assert a["knowledge_facts"] != a["dose_response_fits"]

    def existing() -> set[str]:
        rows = service.store._rows("SELECT table_name FROM information_schema.tables")
        return {r["table_name"] for r in rows}

    facts = client.get(f"/api/runs/{second}/tables/knowledge_facts").text
    assert client.delete(f"/api/runs/{first}").status_code == 200
    assert set(b.values()) <= existing()  # still the second run's
    assert client.get(f"/api/runs/{second}/tables/knowledge_facts").text == facts
    page = client.get(
        f"/api/runs/{second}/tables/knowledge_facts", params={"format": "json"}
    ).json()
    assert page["total"] == len(facts.splitlines()) - 1
    assert client.delete(f"/api/runs/{second}").status_code == 200
    assert not set(b.values()) & existing()


# -- second review (2026-12-07): reads outside the lock, their connections, HEAD ---------


def _finished_run(client: TestClient) -> str:
    """The id of a finished run of the example's dose-response plate in a new project."""
    pid = _project(client)
    client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                data={"kind": "dose_response"})  # fmt: skip
    rid = str(client.post(f"/api/projects/{pid}/runs", json={}).json()["id"])
    assert wait_for(client, rid)["status"] == "done"
    return rid


def test_reading_a_run_whose_tables_were_just_dropped(client: TestClient, service: Service) -> None:
    """A run deleted between reading its catalogue and its table: compare and the run
    page's rows get 'not found' / nothing, not a DuckDB CatalogException (a 500)."""
    from trkres.app.store import NotFound

    rid = _finished_run(client)
    fits = next(t for t in service.store.run_tables(rid) if t["name"] == "dose_response_fits")
    assert len(service.store.result_rows(rid, "dose_response_fits", {}))
    service.store._execute(f'DROP TABLE "{fits["db_table"]}"')  # the delete's drop, early
    with pytest.raises(NotFound):
        service.store.frame(fits["db_table"])
    assert service.store.result_rows(rid, "dose_response_fits", {}) == []


def test_each_threads_read_connection_ends_with_it(service: Service) -> None:
    import gc

    def read() -> None:
        service.store.projects()

    for _ in range(3):
        threads = [threading.Thread(target=read) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    gc.collect()
    assert len(service.store._readers) <= 1  # was one per thread ever seen (15 here)


def test_a_closed_store_refuses_reads_and_closes_with_reads_open(tmp_path: Path) -> None:
    from trkres.app.store import Store, StoreError

    store = Store(tmp_path / "data")
    store.projects()  # this thread's reader is open
    store.close()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            store.projects()
        except BaseException as exc:  # the test looks at its class
            errors.append(exc)

    t = threading.Thread(target=read)
    t.start()
    t.join()
    assert len(errors) == 1 and isinstance(errors[0], StoreError)


def test_head_on_downloads(client: TestClient) -> None:
    rid = _finished_run(client)
    for path in (f"/api/runs/{rid}/report", f"/api/runs/{rid}/tables/dose_response_fits"):
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(got.content))


def test_openapi_has_one_operation_per_id(client: TestClient) -> None:
    """GET and HEAD on one route shared an operation id: /docs printed 'Duplicate
    Operation ID' warnings (new-user walk); HEAD is outside the schema now."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*Duplicate Operation ID.*")
        spec = client.get("/openapi.json").json()
    ids = [op["operationId"] for route in spec["paths"].values() for op in route.values()]
    assert len(ids) == len(set(ids))
