"""Adversarial, round 3: the web app's HTTP surface (zip import, uploads, CSRF, tables,
compare, plate maps). Each test failed before the fix it names."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the app extra is not installed")

from fastapi.testclient import TestClient

from trkres.app.server import guarded
from trkres.app.service import AppConfig, Service
from webapp import helpers
from webapp.helpers import BASE, VIABILITY, wait_for

service = helpers.service  # the web app tests' fixtures
client = helpers.client

MANIFEST = b"name: s\ninputs:\n  - {kind: dose_response, path: v.tsv}\n"


def _zip(entries: list[tuple[str, bytes]], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buffer.getvalue()


def _project(client: TestClient) -> str:
    return str(client.post("/api/projects", json={"name": "p"}).json()["id"])


def _import(client: TestClient, pid: str, archive: bytes) -> dict:  # type: ignore[type-arg]
    response = client.post(f"/api/projects/{pid}/study", files={"file": ("s.zip", archive)})
    return {"status": response.status_code, **response.json()}


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_zip_with_two_members_of_one_name_is_refused(client: TestClient) -> None:
    """Was: the last of two 'v.tsv' members (or 'v.tsv' and '../v.tsv', one name once
    '..' is dropped) was imported silently; unzip tools disagree on which one is meant."""
    pid = _project(client)
    good = VIABILITY.read_bytes()
    bad = good.replace(b"parental", b"PARENTAL")
    for entries in (
        [("study.yaml", MANIFEST), ("v.tsv", good), ("v.tsv", bad)],
        [("study.yaml", MANIFEST), ("v.tsv", good), ("../v.tsv", bad)],
    ):
        answer = _import(client, pid, _zip(entries))
        assert answer["status"] == 422, answer
        assert "same name" in answer["error"]["message"]
    assert client.get(f"/api/projects/{pid}").json()["files"] == []
    # Duplicates the study does not use are no reason to refuse it.
    answer = _import(client, pid, _zip([("study.yaml", MANIFEST), ("v.tsv", good),
                                        ("notes.txt", b"a"), ("notes.txt", b"b")]))  # fmt: skip
    assert answer["status"] == 200, answer


def test_zip_with_two_studies_side_by_side_is_refused(client: TestClient) -> None:
    """Was: a/study.yaml was imported and b/study.yaml ignored, by the zip's order."""
    pid = _project(client)
    archive = _zip([("a/study.yaml", MANIFEST), ("a/v.tsv", VIABILITY.read_bytes()),
                    ("b/study.yaml", b"name: b\ninputs: []\n")])  # fmt: skip
    answer = _import(client, pid, archive)
    assert answer["status"] == 422, answer
    assert "more than one study" in answer["error"]["message"]


def test_zip_import_errors_do_not_show_server_paths(client: TestClient, service: Service) -> None:
    """Was: 'expected: an existing file at /home/…/data/tmp/import-…/missing.tsv'."""
    pid = _project(client)
    manifest = b"name: s\ninputs:\n  - {kind: dose_response, path: missing.tsv}\n"
    answer = _import(client, pid, _zip([("study.yaml", manifest)]))
    assert answer["status"] == 422
    text = str(answer["error"])
    assert "missing.tsv" in text
    assert str(service.store.folder) not in text and "import-" not in text


def test_zip_bomb_refused_before_it_is_written(tmp_path: Path) -> None:
    """Was: a member announcing more than the limit was decompressed onto disk up to the
    limit (512 MB by default) before being refused."""
    svc = Service(AppConfig(data=tmp_path / "data", max_upload=1 << 20, workers=1),
                  start_workers=False)  # fmt: skip
    try:
        client = TestClient(guarded(svc), base_url=BASE)
        pid = _project(client)
        unpacked: list[int] = []
        real_read = zipfile.ZipExtFile.read

        def counting(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
            data = real_read(self, n)
            unpacked.append(len(data))
            return data

        archive = _zip([("study.yaml", MANIFEST), ("v.tsv", b"a" * (4 << 20))],
                       zipfile.ZIP_DEFLATED)  # fmt: skip
        assert len(archive) < 1 << 20  # the zip itself is within the limit
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(zipfile.ZipExtFile, "read", counting)
            answer = _import(client, pid, archive)
        assert answer["status"] == 422, answer
        assert "larger than this server accepts" in answer["error"]["message"]
        assert sum(unpacked) < 1 << 16, sum(unpacked)  # study.yaml only, not the bomb
    finally:
        svc.close()


def test_project_names_without_control_characters(client: TestClient) -> None:
    """Was: names holding NUL, line breaks or a right-to-left override were kept."""
    for name in ("a\x00b", "two\nlines", "\u202eevil.exe", "x" * 201, "   ", 5):
        response = client.post("/api/projects", json={"name": name})
        assert response.status_code == 422, name
    assert client.post("/api/projects", json={"name": "  PDX-12 ünï  "}).status_code == 201
    names = [p["name"] for p in client.get("/api/projects").json()]
    assert names == ["PDX-12 ünï"]
    # A study zip renames its project: the same rule.
    pid = _project(client)
    manifest = b'name: "a\\u202eb"\ninputs:\n  - {kind: dose_response, path: v.tsv}\n'
    answer = _import(
        client, pid, _zip([("study.yaml", manifest), ("v.tsv", VIABILITY.read_bytes())])
    )
    assert answer["status"] == 422, answer
    assert "study.yaml" in answer["error"]["location"]["file"]


def test_csrf_exemption_needs_the_right_bearer_token(tmp_path: Path) -> None:
    """Was: any 'Authorization: Bearer …' header skipped the CSRF check, so a browser
    signed in by its session cookie passed it with a wrong bearer token."""
    token = "t" * 24
    svc = Service(AppConfig(data=tmp_path / "data", host="0.0.0.0", token=token, workers=1),
                  start_workers=False)  # fmt: skip
    try:
        client = TestClient(guarded(svc), base_url="http://192.0.2.1:8000")
        assert (
            client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
        )
        evil = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
        wrong = client.post("/api/projects", json={"name": "x"},
                            headers={**evil, "Authorization": "Bearer wrong"})  # fmt: skip
        assert wrong.status_code == 403
        right = client.post("/api/projects", json={"name": "x"},
                            headers={**evil, "Authorization": f"Bearer {token}"})  # fmt: skip
        assert right.status_code == 201
        # Paths that only start like the open ones need the token too.
        client.cookies.clear()
        assert client.get("/loginx", follow_redirects=False).status_code == 303
        assert client.get("/logout-now", follow_redirects=False).status_code == 303
    finally:
        svc.close()
    # A loopback server without a token: a bearer header is no CSRF exemption either.
    svc = Service(AppConfig(data=tmp_path / "data2", workers=1), start_workers=False)
    try:
        client = TestClient(guarded(svc), base_url=BASE)
        response = client.post("/api/projects", json={"name": "x"},
                               headers={"Origin": "http://evil.example", "Authorization": "Bearer x"})  # fmt: skip
        assert response.status_code == 403
    finally:
        svc.close()


def test_plate_map_named_only_yaml(client: TestClient) -> None:
    """Was: a map named '.yaml' was stored as the hidden, suffix-less '.yaml' and refused
    by the plate map reader as a table without a 'well' column."""
    pid = _project(client)
    well = {"well": "A1", "role": "sample", "cell_line": "L", "drug1": "d", "conc1": 10}
    body = {"name": ".yaml", "plate_size": 96, "unit": "nM", "wells": [well]}
    response = client.post(f"/api/projects/{pid}/platemaps", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "plate_map.yaml"


def test_table_offsets_and_compare_with_an_unfinished_run(
    client: TestClient, service: Service
) -> None:
    """Was: offset=10**20 gave a 500 (the database's 64-bit conversion error); comparing
    with a run that has not finished said every table was 'only in run A'."""
    pid = _project(client)
    upload = client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                         data={"kind": "dose_response"})  # fmt: skip
    assert upload.status_code == 200, upload.text
    rid = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    assert wait_for(client, rid)["status"] == "done"
    url = f"/api/runs/{rid}/tables/dose_response_fits?format=json"
    assert client.get(f"{url}&offset={10**20}").status_code == 422
    page = client.get(f"{url}&offset={10**15}")
    assert page.status_code == 200 and page.json()["rows"] == []
    # A run recorded but not started (queued): nothing to compare yet, and the page says so.
    queued = service.store.new_run_id()
    project = service.store.project(pid)
    service.store.create_run(queued, pid, "name: p\n", project["study"], False)
    html = client.get(f"/compare?a={rid}&b={queued}").text
    assert "only in run A" not in html
    assert "run B is queued" in html


def test_study_input_ids_checked_when_saved(client: TestClient) -> None:
    """Was: an input saved without an id made study.yaml and every run a 500 (KeyError);
    one with an id study.yaml refuses ('a/b c'), or two inputs of one id, saved and only
    failed at the next run."""
    pid = _project(client)
    upload = client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                         data={"kind": "dose_response"})  # fmt: skip
    fid = upload.json()["id"]
    before = client.get(f"/api/projects/{pid}").json()["study"]
    for inputs in (
        [{"kind": "dose_response", "file": fid}],
        [{"id": "a/b c", "kind": "dose_response", "file": fid}],
        [{"id": "a", "kind": "dose_response", "file": fid}] * 2,
    ):
        response = client.put(f"/api/projects/{pid}/study", json={"inputs": inputs})
        assert response.status_code == 422, (inputs, response.text)
        assert "'id'" in response.text or "two inputs" in response.text
    assert client.get(f"/api/projects/{pid}").json()["study"] == before
    assert client.get(f"/api/projects/{pid}/study.yaml").status_code == 200


def test_imported_input_named_by_an_awkward_file_name_runs(client: TestClient) -> None:
    """Was: an input without an id whose file is 'my data (1).tsv' (valid for `trkres
    analyze`, which names it by the stem) imported, then every run was refused: the app
    wrote 'id: my data (1)', which study.yaml does not allow."""
    pid = _project(client)
    manifest = b"name: s\ninputs:\n  - {kind: dose_response, path: 'my data (1).tsv'}\n"
    answer = _import(client, pid, _zip([("study.yaml", manifest),
                                        ("my data (1).tsv", VIABILITY.read_bytes())]))  # fmt: skip
    assert answer["status"] == 200, answer
    study = client.get(f"/api/projects/{pid}").json()["study"]
    assert [i["id"] for i in study["inputs"]] == ["my_data_1"]
    run = client.post(f"/api/projects/{pid}/runs", json={})
    assert run.status_code == 200, run.text
    assert wait_for(client, run.json()["id"])["status"] == "done"


def test_band_box_overlap_check_is_fast_and_unchanged() -> None:
    """Was: 10,000 boxes side by side in one lane (the editor's limit) took 33 s of the
    server's CPU, pair by pair. The same pairs are still found, first one first."""
    import random
    import time

    from trkres.app.studies import check_overlaps
    from trkres.errors import InputError

    many = [{"lane": 1, "band": i + 1, "x0": 2 * i, "x1": 2 * i + 1, "y0": 0, "y1": 5}
            for i in range(10_000)]  # fmt: skip
    started = time.process_time()  # this process' CPU time: other processes' load aside
    check_overlaps(many)
    assert time.process_time() - started < 5.0

    def pairwise(boxes: list[dict[str, int]]) -> tuple[int, int] | None:
        for lane in sorted({b["lane"] for b in boxes}):
            items = sorted(
                (b for b in boxes if b["lane"] == lane), key=lambda b: (b["y0"], b["band"])
            )
            for i, a in enumerate(items):
                for b in items[i + 1 :]:
                    if b["y0"] >= a["y1"]:
                        break
                    if a["x0"] < b["x1"] and b["x0"] < a["x1"]:
                        return a["band"], b["band"]
        return None

    rng = random.Random(7)
    for _ in range(300):
        boxes = []
        for band in range(1, rng.randint(2, 12)):
            x0, y0 = rng.randint(0, 40), rng.randint(0, 40)
            boxes.append({"lane": 1, "band": band, "x0": x0, "x1": x0 + rng.randint(1, 12),
                          "y0": y0, "y1": y0 + rng.randint(1, 12)})  # fmt: skip
        expected = pairwise(boxes)
        try:
            check_overlaps(boxes)
            found = None
        except InputError as exc:
            found = tuple(
                int(n) for n in exc.message.split("boxes ")[1].split(" overlap")[0].split(" and ")
            )
        assert found == expected, boxes


def test_downloaded_study_never_holds_a_second_study_yaml_by_case() -> None:
    """Was: an attachment named 'Study.yaml' was zipped beside 'study.yaml': unzipped on
    macOS or Windows, one replaced the other and `trkres analyze` read the plate map."""
    from datetime import datetime

    from trkres.app.store import StoredFile
    from trkres.app.studies import download_names

    def stored(fid: str, name: str) -> StoredFile:
        return StoredFile(fid, "p", "0" * 64, name, "attachment", None, 1, None, None, [],
                          datetime(2026, 1, 1))  # fmt: skip

    names = download_names([stored("a", "Study.yaml"), stored("b", "STUDY.YAML"),
                            stored("c", "map.yaml"), stored("d", "MAP.yaml")])  # fmt: skip
    lowered = [n.lower() for n in names.values()]
    assert "study.yaml" not in lowered
    assert len(set(lowered)) == 4, names


def test_run_options_nested_too_deeply_refused(client: TestClient) -> None:
    """Was: options nested 900 levels deep overflowed the stack while the run was laid
    out (RecursionError, a 500); the study builder's save already refused them."""
    pid = _project(client)
    client.post(f"/api/projects/{pid}/files", files={"file": ("v.tsv", VIABILITY.read_bytes())},
                data={"kind": "dose_response"})  # fmt: skip
    depth = 900
    body = '{"options": {"dose_response": ' + '{"a": ' * depth + "1" + "}" * depth + "}}"
    response = client.post(f"/api/projects/{pid}/runs", content=body,
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 422, response.text
    assert "nested too deeply" in response.json()["error"]["message"]


def test_token_with_blanks_at_its_ends_refused_at_start(tmp_path: Path) -> None:
    """Was: a token ending in a line break (read from a file) was accepted, and no client
    could ever send it: the bearer header is compared without its blanks (always 401)."""
    from trkres.app.server import check_bind
    from trkres.errors import InputError

    config = AppConfig(data=tmp_path / "data", host="0.0.0.0", token="t" * 24 + "\n")
    with pytest.raises(InputError, match="blank or a line break"):
        check_bind(config)
    assert check_bind(AppConfig(data=tmp_path / "d", host="0.0.0.0", token="t" * 24)) is None


def test_imported_study_with_an_earlier_kind_name_saves_again(client: TestClient) -> None:
    """Was: a study.yaml with 'kind: xenograft' (still read by `trkres analyze`) imported
    as is, and the study builder could then never save it ('input 1: unknown kind')."""
    from support import EXAMPLE

    pid = _project(client)
    volumes = (EXAMPLE / "lab" / "xenograft_larotrectinib_trametinib.csv").read_bytes()
    manifest = b"name: s\ninputs:\n  - {kind: xenograft, path: x.csv}\n"
    answer = _import(client, pid, _zip([("study.yaml", manifest), ("x.csv", volumes)]))
    assert answer["status"] == 200, answer
    project = client.get(f"/api/projects/{pid}").json()
    assert [i["kind"] for i in project["study"]["inputs"]] == ["tumour_volumes"]
    assert [f["kind"] for f in project["files"]] == ["tumour_volumes"]
    again = client.put(f"/api/projects/{pid}/study", json=project["study"])
    assert again.status_code == 200, again.text


def test_zip_with_too_many_members_refused_before_its_directory_is_read(
    client: TestClient, service: Service
) -> None:
    """Was: zipfile built an object per entry before the count was checked: 300,000 empty
    entries (a 26 MB zip) took 6 s and 156 MB; an upload-sized zip, gigabytes."""
    from trkres.app.studies import ZIP_MAX_MEMBERS

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("study.yaml", MANIFEST)
        for i in range(ZIP_MAX_MEMBERS + 1):
            zf.writestr(zipfile.ZipInfo(f"{i}"), b"")
    pid = _project(client)

    def no_directory_walk(self: zipfile.ZipFile) -> None:
        raise AssertionError("the whole directory was read")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zipfile.ZipFile, "_RealGetContents", no_directory_walk)
        answer = _import(client, pid, buffer.getvalue())
    assert answer["status"] == 422, answer
    assert "too many files" in answer["error"]["message"]
    # A zip64 archive and one with data before it (a self-extractor) still count right.
    from trkres.app.studies import count_zip_members

    path = service.store.folder / "z.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a", b"1")
        with zf.open("b", "w", force_zip64=True) as fh:
            fh.write(b"2")
        zf.comment = b"c" * 1000
    assert count_zip_members(path, 10) == 2
    path.write_bytes(b"#!/bin/sh\n" * 50 + path.read_bytes())
    assert count_zip_members(path, 10) == 2


def _every_route(service: Service) -> list[tuple[str, str]]:
    """(method, path) of every route of the app, path parameters filled in."""
    from fastapi.routing import APIRoute

    from trkres.app.server import create_app

    fill = {"pid": "0123456789abcdef", "rid": "0123456789abcdef", "fid": "0123456789abcdef",
            "name": "x", "asset": "swagger-ui.css"}  # fmt: skip
    out = []
    for route in create_app(service).routes:
        path = getattr(route, "path", "")
        for key, value in fill.items():
            path = path.replace("{" + key + "}", value)
        methods = route.methods if isinstance(route, APIRoute) else {"GET"}
        out.extend((m, path) for m in sorted(methods or {"GET"}))
    return out


def test_every_route_needs_the_token_and_every_change_the_csrf_token(tmp_path: Path) -> None:
    """Held: checked route by route (not only a sample) on a network bind."""
    token = "t" * 24
    svc = Service(AppConfig(data=tmp_path / "data", host="0.0.0.0", token=token, workers=1),
                  start_workers=False)  # fmt: skip
    try:
        client = TestClient(guarded(svc), base_url="http://192.0.2.1:8000")
        routes = _every_route(svc)
        assert len(routes) > 30
        for method, path in routes:
            response = client.request(method, path, follow_redirects=False)
            if path in ("/login", "/logout") or path.startswith("/static/"):
                continue
            assert response.status_code in (401, 303), (method, path, response.status_code)
            if response.status_code == 303:
                assert method == "GET" and not path.startswith("/api/"), (method, path)
        signed = client.post("/login", data={"token": token}, follow_redirects=False)
        assert signed.status_code == 303
        client.get("/")
        for method, path in routes:
            if method in ("GET", "HEAD") or path in ("/login", "/logout"):
                continue
            for headers in (
                {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
                {"Origin": "http://192.0.2.1:8000", "Sec-Fetch-Site": "same-origin"},
            ):
                response = client.request(method, path, headers=headers,
                                          files={"file": ("a.tsv", b"x")}, data={"kind": "x"})  # fmt: skip
                assert response.status_code == 403, (method, path, headers)
    finally:
        svc.close()


def _set_header(
    archive: bytes, name: bytes, local: int, central: int, value: int, *, bits: bool
) -> bytes:
    """Set a 2-byte field of ``name``'s local and central headers (or OR bits into it)."""
    data = bytearray(archive)
    for signature, offset, name_at, start in (
        (b"PK\x03\x04", local, 26, 30),
        (b"PK\x01\x02", central, 28, 46),
    ):
        i = 0
        while (i := data.find(signature, i)) >= 0:
            length = int.from_bytes(data[i + name_at : i + name_at + 2], "little")
            if data[i + start : i + start + length] == name:
                old = int.from_bytes(data[i + offset : i + offset + 2], "little")
                data[i + offset : i + offset + 2] = ((old | value) if bits else value).to_bytes(
                    2, "little"
                )
            i += 4
    return bytes(data)


def test_unreadable_zip_members_are_a_clear_error(client: TestClient) -> None:
    """Was: a password-protected member, an unknown compression method or damaged deflate
    data raised RuntimeError, NotImplementedError or zlib.error: a 500 with a traceback."""
    pid = _project(client)
    plain = _zip(
        [("study.yaml", MANIFEST), ("v.tsv", VIABILITY.read_bytes())], zipfile.ZIP_DEFLATED
    )
    stored = _zip([("study.yaml", MANIFEST), ("v.tsv", VIABILITY.read_bytes())])
    for archive in (
        _set_header(plain, b"v.tsv", 6, 8, 1, bits=True),  # the 'encrypted' flag
        _set_header(plain, b"v.tsv", 8, 10, 99, bits=False),  # AES (method 99)
        _set_header(stored, b"v.tsv", 8, 10, 8, bits=False),  # text 'deflated': damaged data
    ):
        answer = _import(client, pid, archive)
        assert answer["status"] == 422, answer
        assert answer["error"]["message"] == "a file in the zip cannot be unpacked"
        assert answer["error"]["found"].startswith("v.tsv: ")
    assert client.get(f"/api/projects/{pid}").json()["files"] == []


def test_from_run_with_a_trailing_line_break_is_not_an_id(client: TestClient) -> None:
    """Was: '0123456789abcdef\\n' passed the id check ('$' matches before a final line
    break) and was looked up (404 'no run …'); it is refused as not an id (422)."""
    pid = _project(client)
    response = client.post(f"/api/projects/{pid}/runs", json={"from_run": "0123456789abcdef\n"})
    assert response.status_code == 422
    assert "'from_run' is a run id" in response.json()["error"]["message"]


def test_zip_names_the_disk_refuses_are_a_clear_error(client: TestClient) -> None:
    """Was: a 300-character file name, a file inside 'study.yaml/' or one named like a
    folder the study also uses ('a.tsv' and 'a.tsv/b.tsv') answered 500 (OSError, with
    the server's temporary path in it); also when the long-named file is missing."""
    pid = _project(client)
    via = VIABILITY.read_bytes()
    long = "a" * 300 + ".tsv"

    def manifest(*paths: str) -> bytes:
        lines = [f"  - {{kind: dose_response, path: '{p}', id: i{n}}}" for n, p in enumerate(paths)]
        return ("name: s\ninputs:\n" + "\n".join(lines) + "\n").encode()

    for entries in (
        [("study.yaml", manifest(long)), (long, via)],
        [("study.yaml", manifest(long))],
        [("study.yaml", manifest("study.yaml/v.tsv")), ("study.yaml/v.tsv", via)],
        [("study.yaml", manifest("a.tsv", "a.tsv/b.tsv")), ("a.tsv", via), ("a.tsv/b.tsv", via)],
    ):
        answer = _import(client, pid, _zip(entries))
        assert answer["status"] == 422, answer
        # The study manifest refuses a name the file system does not accept itself now.
        message = answer["error"]["message"]
        assert "cannot be" in message or "not a usable file name" in message, message
        assert "import-" not in str(answer["error"])
