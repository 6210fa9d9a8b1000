"""Security of the app: token off loopback, host names, CSRF, uploads, paths, escaping."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from trkres.app.server import check_bind, guarded
from trkres.app.service import AppConfig, Service
from webapp.helpers import BASE, VIABILITY, wait_for


@pytest.fixture
def open_service(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A server configured to listen on every address (so a token is required)."""
    config = AppConfig(data=tmp_path / "data", host="0.0.0.0", workers=1)
    token = check_bind(config)
    svc = Service(config, start_workers=False)
    yield svc, token
    svc.close()


def test_non_loopback_needs_a_token(open_service) -> None:  # type: ignore[no-untyped-def]
    svc, token = open_service
    assert token and len(token) >= 24  # generated, since none was given
    client = TestClient(guarded(svc), base_url="http://192.0.2.10:8000")
    for method, path in [
        ("GET", "/api/health"),
        ("GET", "/api/projects"),
        ("POST", "/api/projects"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
    ]:
        response = client.request(method, path, json={"name": "x"}, follow_redirects=False)
        assert response.status_code in (401, 303), (method, path, response.status_code)
        if path.startswith("/api/"):
            assert response.status_code == 401
    assert client.get("/api/projects", headers={"Authorization": "Bearer wrong"}).status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/health", headers=auth).status_code == 200
    assert client.post("/api/projects", json={"name": "x"}, headers=auth).status_code == 201
    # A browser signs in once; the session cookie then carries the token.
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login"
    assert "wrong" not in client.post("/login", data={"token": "nope"}).url.path
    signed = client.post("/login", data={"token": token}, follow_redirects=False)
    assert signed.status_code == 303
    assert client.get("/").status_code == 200


def test_loopback_server_answers_only_loopback_names(client: TestClient) -> None:
    assert client.get("/api/health").status_code == 200
    rebound = client.get("/api/health", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 421


def test_csrf(client: TestClient) -> None:
    # A browser on another site: refused whatever it sends.
    cross = client.post(
        "/api/projects",
        json={"name": "x"},
        headers={"Origin": "http://attacker.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    # A browser on this origin without the token: refused.
    same = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}
    assert client.post("/api/projects", json={"name": "x"}, headers=same).status_code == 403
    # With the double-submit token from the cookie: accepted.
    client.get("/")
    csrf = client.cookies.get("trkres_csrf")
    assert csrf
    ok = client.post("/api/projects", json={"name": "x"}, headers={**same, "X-CSRF-Token": csrf})
    assert ok.status_code == 201
    wrong = client.post(
        "/api/projects", json={"name": "x"}, headers={**same, "X-CSRF-Token": "x" + csrf}
    )
    assert wrong.status_code == 403


def test_oversized_upload_refused(tmp_path: Path) -> None:
    svc = Service(
        AppConfig(data=tmp_path / "data", max_upload=4096, workers=1), start_workers=False
    )
    try:
        client = TestClient(guarded(svc), base_url=BASE)
        pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
        big = b"drug\tline\treplicate\tdose\tunit\tresponse\n" + b"a\tb\t1\t1\tnM\t0.5\n" * 100_000
        # Announced length over the limit (plus the form overhead allowance): refused at once.
        response = client.post(
            f"/api/projects/{pid}/files",
            files={"file": ("big.tsv", big)},
            data={"kind": "dose_response"},
        )
        assert response.status_code == 413
        # Under the body allowance but over the file limit: refused while reading it.
        mid = big[:100_000]
        response = client.post(
            f"/api/projects/{pid}/files",
            files={"file": ("mid.tsv", mid)},
            data={"kind": "dose_response"},
        )
        assert response.status_code == 413, response.text

        # Streamed without a length: cut off while reading.
        def chunks():  # type: ignore[no-untyped-def]
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="s.zip"\r\n\r\n'
            for _ in range(2000):
                yield b"x" * 4096

        response = client.post(
            f"/api/projects/{pid}/study",
            content=chunks(),
            headers={"content-type": "multipart/form-data; boundary=b"},
        )
        assert response.status_code == 413
        assert client.get(f"/api/projects/{pid}").json()["files"] == []
        leftovers = [p for p in (svc.store.folder / "blobs").rglob("*") if p.is_file()]
        assert leftovers == []
    finally:
        svc.close()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_path_traversal_refused(client: TestClient, tmp_path: Path) -> None:
    pid = client.post("/api/projects", json={"name": "p"}).json()["id"]
    outside = tmp_path / "outside.txt"
    manifest = b"name: evil\ninputs:\n  - {kind: dose_response, path: ../outside.txt}\n"
    archive = _zip({"study.yaml": manifest, "../outside.txt": b"pwned", "/etc/evil": b"pwned"})
    response = client.post(f"/api/projects/{pid}/study", files={"file": ("s.zip", archive)})
    assert response.status_code == 422
    assert "leave the study folder" in response.json()["error"]["text"]
    assert not outside.exists()
    # File names never become paths: a name full of '../' is kept as text only.
    response = client.post(
        f"/api/projects/{pid}/files",
        files={"file": ("../../../../tmp/x.tsv", VIABILITY.read_bytes())},
        data={"kind": "dose_response"},
    )
    assert response.status_code == 200
    assert response.json()["name"] == "x.tsv"
    # Ids and names in routes are checked before anything is looked up.
    for path in (
        "/api/runs/..%2F..%2Fetc%2Fpasswd",
        "/api/runs/0123456789abcdef/tables/..%2F..%2Fstudy",
        "/static/..%2Fserver.py",
        "/api/projects/..%2F/study.yaml",
        "/static/app.py",
    ):
        assert client.get(path).status_code in (404, 422), path


def test_script_in_a_sample_name_renders_as_text(client: TestClient) -> None:
    pid = client.post("/api/projects", json={"name": "<script>alert('p')</script>"}).json()["id"]
    text = VIABILITY.read_text().replace("parental", "<script>alert(1)</script>")
    response = client.post(
        f"/api/projects/{pid}/files",
        files={"file": ("<img src=x onerror=alert(2)>.tsv", text.encode())},
        data={"kind": "dose_response"},
    )
    assert response.status_code == 200, response.text
    page = client.get(f"/projects/{pid}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;p&#39;)&lt;/script&gt;" in page
    assert client.get("/").text.count("&lt;script&gt;") == 1
    rid = client.post(f"/api/projects/{pid}/runs", json={}).json()["id"]
    run = wait_for(client, rid)
    assert run["status"] == "done", run["error"]
    report = client.get(f"/api/runs/{rid}/report").text
    assert "<script>alert(1)" not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    run_page = client.get(f"/runs/{rid}").text
    assert "<script>alert" not in run_page
