"""The FastAPI application: the REST API (``/api``, documented at ``/docs``) and the pages.

Routes fixed by the app's contract (JSON unless said)::

    GET  /api/health
    POST /api/projects                 {"name": …} → {"id": …}
    GET  /api/projects
    POST /api/projects/{id}/files      multipart file + form field kind → {"id": …} | 422
    POST /api/projects/{id}/study      multipart file: a zip of a study folder
    POST /api/projects/{id}/runs       → {"id": …}
    GET  /api/runs/{id}                → {"status", "progress", "error", …}
    POST /api/runs/{id}/cancel
    GET  /api/runs/{id}/report         the HTML report
    GET  /api/runs/{id}/tables/{name}  TSV (``?format=json`` for a sorted, filtered page)

The pages (``/``, ``/projects/{id}``, ``/runs/{id}``, …) are server-rendered and use
the same API from ``static/app.js``.
"""

import asyncio
import contextlib
import json
import re
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from trkres import __version__
from trkres.app import studies
from trkres.app.security import (
    MIN_TOKEN,
    REPORT_CSP,
    SESSION_COOKIE,
    SESSION_SECONDS,
    BodyTooLarge,
    Guard,
    is_loopback,
    new_session,
)
from trkres.app.service import AppConfig, Service, TooLarge, error_body
from trkres.app.store import ID_PATTERN, Conflict, NotFound, StoreError
from trkres.errors import InputError, TrkresError
from trkres.study.manifest import KIND_FORMATS

_ID = re.compile(ID_PATTERN)

#: Largest row offset of a table page: the database counts rows in 64-bit integers (a
#: larger offset was a 500 from the database, not an answer).
MAX_OFFSET = 10**15


class BigFileResponse(FileResponse):
    """A file sent in 1 MiB pieces (Starlette's default is 64 KiB: each piece is a thread
    hop and a pass through the middleware; a report is ~5 MB, 80 pieces at the default)."""

    chunk_size = 1 << 20


def _id() -> Any:
    """A path parameter holding an id. Each route parameter gets its own object: FastAPI
    writes a parameter's alias into it, so one object shared by routes would clash."""
    return PathParam(pattern=ID_PATTERN, description="an id (16 hex characters)")


def _name() -> Any:
    """A path parameter holding a table or input name."""
    return PathParam(pattern=r"^[A-Za-z0-9_.\-]{1,120}$")


_env = Environment(
    loader=PackageLoader("trkres.app", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _page(template: str, **context: Any) -> HTMLResponse:
    return HTMLResponse(_env.get_template(template).render(version=__version__, **context))


async def one_file(request: Request) -> None:
    """Refuse a multipart request with several ``file`` parts: the route would keep one
    and drop the others silently. (The form is parsed once: Starlette keeps it.)"""
    form = await request.form()
    parts = form.getlist("file")
    if len(parts) > 1:
        names = ", ".join(str(getattr(p, "filename", None) or "(unnamed)") for p in parts)
        raise InputError(
            "one file per upload",
            expected="one 'file' part (send files one request each)",
            found=f"{len(parts)} 'file' parts: {names}"[:300],
        )


def create_app(service: Service) -> FastAPI:
    """The app over ``service`` (its store and run pool)."""
    config = service.config

    def page(template: str, **context: Any) -> HTMLResponse:
        return _page(template, token_required=config.token is not None, **context)

    app = FastAPI(
        title="trkres",
        version=__version__,
        description="Local web app of trkres: projects, uploads validated by trkres' readers, "
        "runs of every analysis, reports and result tables.",
        docs_url=None,  # served below from the installed swagger-ui-bundle: no CDN, no network
        redoc_url=None,
    )
    app.state.service = service

    @app.exception_handler(TrkresError)
    async def trkres_error(request: Request, exc: TrkresError) -> JSONResponse:
        status = 422
        if isinstance(exc, NotFound):
            status = 404
        elif isinstance(exc, TooLarge):
            status = 413
        elif isinstance(exc, StoreError):
            status = 503
        elif isinstance(exc, Conflict):
            status = 409
        return JSONResponse(error_body(exc), status_code=status)

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> JSONResponse:
        return JSONResponse(
            error_body(
                TooLarge(
                    "the request is larger than this server accepts",
                    expected=f"at most {config.max_upload / 1024**2:.0f} MB",
                )
            ),
            status_code=413,
        )

    # -- REST API ----------------------------------------------------------------------

    @app.get("/api/health", tags=["app"])
    def health() -> dict[str, Any]:
        """Alive, with the version and the number of runs queued or running."""
        return {
            "status": "ok",
            "version": __version__,
            "pending_runs": service.pool.pending(),
            "workers": service.pool.workers,
        }

    @app.post("/api/projects", status_code=201, tags=["projects"])
    def create_project(
        body: Annotated[dict[str, Any], Body(examples=[{"name": "PDX-12"}])],
    ) -> dict[str, str]:
        """Create a project: ``{"name": …}`` → ``{"id": …}``."""
        return {"id": service.store.create_project(studies.project_name(body.get("name")))}

    @app.get("/api/projects", tags=["projects"])
    def list_projects() -> list[dict[str, Any]]:
        return service.store.projects()

    @app.get("/api/projects/{pid}", tags=["projects"])
    def get_project(pid: Annotated[str, _id()]) -> dict[str, Any]:
        """A project: its study definition, files and runs."""
        project = service.store.project(pid)
        project["files"] = [_file_json(f) for f in service.store.files(pid)]
        project["runs"] = service.store.runs(pid)
        return project

    @app.post("/api/projects/{pid}/files", tags=["projects"], dependencies=[Depends(one_file)])
    def upload_file(
        pid: Annotated[str, _id()],
        file: Annotated[UploadFile, File()],
        kind: Annotated[str, Form()],
    ) -> dict[str, Any]:
        """Upload one file of a kind (``mutations``, ``dose_response``, …, or
        ``attachment`` for plate maps, lane layouts, loading controls, Sanger controls
        and references). It is read by trkres' reader for that kind first; a file the
        reader refuses gives 422 with the reader's error and is not kept."""
        return service.add_file(pid, file.file, file.filename or "upload", kind)

    @app.post("/api/projects/{pid}/study", tags=["projects"], dependencies=[Depends(one_file)])
    def import_study(
        pid: Annotated[str, _id()], file: Annotated[UploadFile, File()]
    ) -> dict[str, Any]:
        """Import a zip of a study folder (``study.yaml`` and the files it names)."""
        return service.import_study(pid, file.file, file.filename or "study.zip")

    @app.put("/api/projects/{pid}/study", tags=["projects"])
    def put_study(
        pid: Annotated[str, _id()], definition: Annotated[dict[str, Any], Body()]
    ) -> dict[str, Any]:
        """Replace the study definition (inputs, their links to files, options)."""
        return service.update_study(pid, definition)

    @app.delete("/api/projects/{pid}", tags=["projects"])
    def delete_project(pid: Annotated[str, _id()]) -> dict[str, str]:
        """Delete a project, its files and runs (refused while a run is queued or running)."""
        service.delete_project(pid)
        return {"deleted": pid}

    @app.delete("/api/projects/{pid}/files/{fid}", tags=["projects"])
    def delete_file(pid: Annotated[str, _id()], fid: Annotated[str, _id()]) -> dict[str, str]:
        """Delete a file no input of the study and no run uses (409 otherwise)."""
        service.delete_file(pid, fid)
        return {"deleted": fid}

    @app.post("/api/projects/{pid}/platemaps", tags=["projects"])
    def save_plate_map(
        pid: Annotated[str, _id()], body: Annotated[dict[str, Any], Body()]
    ) -> dict[str, Any]:
        """Save a plate map from the layout editor: ``{"name", "plate_size": 96|384,
        "unit": "nM", "wells": [{"well": "A1", "role": "sample", "cell_line", "drug1",
        "conc1", "replicate"}, …]}``. It is read back by the plate map reader and kept
        as an attachment (link it to a plate input as its layout)."""
        return service.save_plate_map(pid, body)

    @app.get("/api/files/{fid}/platemap", tags=["projects"])
    def get_plate_map(fid: Annotated[str, _id()]) -> dict[str, Any]:
        """A stored plate map as the editor shows it (doses in molar)."""
        return service.plate_map(fid)

    @app.get("/api/projects/{pid}/study.yaml", tags=["projects"])
    def get_study_yaml(pid: Annotated[str, _id()]) -> Response:
        """The study.yaml that reproduces the project's runs with ``trkres analyze``."""
        return Response(
            service.study_yaml(pid=pid),
            media_type="application/yaml",
            headers=_download("study.yaml"),
        )

    @app.get("/api/projects/{pid}/study.zip", tags=["projects"])
    def get_study_zip(pid: Annotated[str, _id()]) -> BigFileResponse:
        """The study folder (study.yaml and every file, under the users' names) as a zip."""
        path = service.study_zip(pid=pid)
        return BigFileResponse(
            path,
            media_type="application/zip",
            filename="study.zip",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )

    @app.post("/api/projects/{pid}/runs", tags=["runs"])
    def start_run(
        pid: Annotated[str, _id()], body: Annotated[dict[str, Any] | None, Body()] = None
    ) -> dict[str, str]:
        """Run every analysis the project's study allows → ``{"id": …}``. Optional body:
        ``{"options": {...}}`` (replaces the study's options for this run) and
        ``{"figures": true}`` (also write SVG/PNG figure files; slower), ``{"from_run":
        id}`` (that run's inputs again instead of the project's current ones)."""
        body = body or {}
        figures = body.get("figures", False)
        if not isinstance(figures, bool):
            raise InputError("'figures' is true or false", found=repr(figures)[:40])
        from_run = body.get("from_run")
        if from_run is not None and not (isinstance(from_run, str) and _ID.fullmatch(from_run)):
            raise InputError("'from_run' is a run id", found=repr(from_run)[:40])
        return {"id": service.start_run(pid, body.get("options"), figures, from_run)}

    @app.get("/api/projects/{pid}/runs", tags=["runs"])
    def list_runs(pid: Annotated[str, _id()]) -> list[dict[str, Any]]:
        service.store.project(pid)
        return service.store.runs(pid)

    #: Requests waiting for a run to end: (their event loop, their event), per run.
    waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
    waiters_lock = threading.Lock()

    def run_ended(rid: str) -> None:  # from a pool thread
        with waiters_lock:
            waiting = waiters.pop(rid, [])
        for loop, event in waiting:
            with contextlib.suppress(RuntimeError):  # that request's loop has closed
                loop.call_soon_threadsafe(event.set)

    service.pool.listeners.append(run_ended)

    def stopping() -> None:  # the server stops: every waiting request answers now
        with waiters_lock:
            waiting = [entry for entries in waiters.values() for entry in entries]
            waiters.clear()
        for loop, event in waiting:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    service.stop_listeners.append(stopping)

    def run_json(rid: str) -> dict[str, Any]:
        run = service.store.run(rid)
        keys = ("id", "project_id", "status", "progress", "label", "error", "created", "started",
                "finished", "options", "figures")  # fmt: skip
        out = {k: run[k] for k in keys}
        live = service.pool.live.get(rid)
        if live is not None and run["status"] == "running":
            out["progress"], out["label"] = live
        if run["status"] == "done":
            out["tables"] = [{k: t[k] for k in ("name", "section", "title", "rows", "columns")}
                             for t in service.store.run_tables(rid)]  # fmt: skip
            out["summary"] = run["summary"]
        return out

    @app.get("/api/runs/{rid}", tags=["runs"])
    async def get_run(
        rid: Annotated[str, _id()], wait: Annotated[float, Query(ge=0, le=60)] = 0
    ) -> dict[str, Any]:
        """``status`` (queued, running, done, failed), ``progress`` (0–1), ``error``; for a
        finished run its tables and sections. ``wait=S`` answers as soon as the run ends,
        or after S seconds (at most 60): no need to poll."""
        out = await run_in_threadpool(run_json, rid)
        if wait <= 0 or out["status"] in ("done", "failed") or service.stopping.is_set():
            return out
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with waiters_lock:
            waiters.setdefault(rid, []).append(entry)
        try:
            out = await run_in_threadpool(run_json, rid)  # it may have ended meanwhile
            if out["status"] in ("done", "failed") or service.stopping.is_set():
                return out
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), wait)
        finally:
            with waiters_lock:
                if entry in waiters.get(rid, []):
                    waiters[rid].remove(entry)
        return await run_in_threadpool(run_json, rid)

    @app.delete("/api/runs/{rid}", tags=["runs"])
    def delete_run(rid: Annotated[str, _id()]) -> dict[str, str]:
        """Delete a finished run: its report, tables and folder."""
        service.delete_run(rid)
        return {"deleted": rid}

    @app.post("/api/runs/{rid}/cancel", tags=["runs"])
    def cancel_run(rid: Annotated[str, _id()]) -> dict[str, str]:
        return {"result": service.cancel_run(rid)}

    # HEAD (a download's size) answers as GET does, outside the OpenAPI schema: one
    # route with both methods gave two operations one id ("Duplicate Operation ID").
    @app.head("/api/runs/{rid}/report", include_in_schema=False)
    @app.get("/api/runs/{rid}/report", tags=["runs"], response_class=HTMLResponse)
    def get_report(rid: Annotated[str, _id()], download: bool = False) -> BigFileResponse:
        """The run's self-contained HTML report (served sandboxed)."""
        headers = {"content-security-policy": REPORT_CSP}
        if download:
            headers.update(_download(f"trkres-report-{rid}.html"))
        return BigFileResponse(service.report_path(rid), media_type="text/html", headers=headers)

    @app.get("/api/runs/{rid}/study.yaml", tags=["runs"])
    def get_run_study_yaml(rid: Annotated[str, _id()]) -> Response:
        """The study.yaml that reproduces this run from the command line."""
        return Response(
            service.study_yaml(rid=rid),
            media_type="application/yaml",
            headers=_download("study.yaml"),
        )

    @app.get("/api/runs/{rid}/study.zip", tags=["runs"])
    def get_run_study_zip(rid: Annotated[str, _id()]) -> BigFileResponse:
        """The study folder of this run as a zip: unzip, then ``trkres analyze FOLDER``."""
        path = service.study_zip(rid=rid)
        return BigFileResponse(
            path,
            media_type="application/zip",
            filename=f"study-{rid}.zip",
            background=BackgroundTask(path.unlink, missing_ok=True),
        )

    @app.get("/api/runs/{rid}/western/{name}", tags=["western"])
    def western_view(rid: Annotated[str, _id()], name: Annotated[str, _name()]) -> dict[str, Any]:
        """A western input of a finished run: its band boxes with volumes, quantified lanes."""
        return service.western_view(rid, name)

    @app.get("/api/runs/{rid}/western/{name}/image.png", tags=["western"])
    def western_image(rid: Annotated[str, _id()], name: Annotated[str, _name()]) -> Response:
        """The target image, contrast-stretched to 8 bits (for drawing boxes on)."""
        return Response(service.western_png(rid, name), media_type="image/png")

    @app.post("/api/runs/{rid}/western/{name}/quantify", tags=["western"])
    def western_quantify(rid: Annotated[str, _id()], name: Annotated[str, _name()],
                         body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:  # fmt: skip
        """Measure again with edited boxes ``{"rois": [{"lane", "band", "x0", "x1", "y0",
        "y1"}, …]}`` (pixels, 0-based, x1/y1 exclusive): bands with volumes, quantified
        lanes. Nothing is kept."""
        return service.western_requantify(rid, name, body.get("rois"))

    @app.post("/api/runs/{rid}/western/{name}/rois", tags=["western"])
    def western_save(rid: Annotated[str, _id()], name: Annotated[str, _name()],
                     body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:  # fmt: skip
        """Keep edited boxes as the input's ROI file (``rois:`` in study.yaml): the
        project's next run measures them."""
        return service.western_save_rois(rid, name, body.get("rois"))

    @app.get("/api/runs/{rid}/manifest", tags=["runs"])
    def get_run_manifest(rid: Annotated[str, _id()]) -> Response:
        """The study.yaml this run used (file paths as laid out for the run)."""
        return Response(service.store.run(rid)["manifest"], media_type="text/plain")

    @app.head("/api/runs/{rid}/tables/{name}", include_in_schema=False, response_model=None)
    @app.get("/api/runs/{rid}/tables/{name}", tags=["runs"], response_model=None)
    def get_table(
        rid: Annotated[str, _id()],
        name: Annotated[str, _name()],
        format: Annotated[str, Query(pattern="^(tsv|json)$")] = "tsv",
        sort: str | None = None,
        desc: bool = False,
        q: str = "",
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    ) -> Response | dict[str, Any]:
        """A result table: the TSV the report folder holds, or with ``format=json`` one
        page of it, sorted by ``sort`` and filtered by ``q`` (any cell, case-insensitive)."""
        path = service.table_path(rid, name)
        if format == "json":
            return service.store.query_table(
                rid, name, sort=sort, descending=desc, search=q, offset=offset, limit=limit
            )
        return BigFileResponse(
            path, media_type="text/tab-separated-values", headers=_download(f"{name}.tsv")
        )

    # -- pages -------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def projects_page() -> HTMLResponse:
        return page("projects.html", projects=service.store.projects())

    @app.get("/projects/{pid}", response_class=HTMLResponse, include_in_schema=False)
    def project_page(pid: Annotated[str, _id()]) -> HTMLResponse:
        project = service.store.project(pid)
        files = service.store.files(pid)
        return page(
            "project.html",
            project=project,
            files=files,
            runs=service.store.runs(pid),
            kinds=studies.INPUT_KINDS,
            attachment=studies.ATTACHMENT,
            file_fields=studies.FILE_FIELDS,
            options_json=json.dumps(project["study"].get("options", {}), indent=2),
            files_brief=[{"id": f.id, "name": f.name, "kind": f.kind} for f in files],
            formats={k.value: list(v) for k, v in KIND_FORMATS.items()},
        )

    @app.get("/projects/{pid}/platemap", response_class=HTMLResponse, include_in_schema=False)
    def plate_map_page(
        pid: Annotated[str, _id()],
        file: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    ) -> HTMLResponse:
        from trkres.app.platemaps import ROLES, UNITS

        project = service.store.project(pid)
        start = service.plate_map(file, pid) if file else None
        return page("platemap.html", project=project, roles=ROLES, units=UNITS, start=start)

    @app.get("/runs/{rid}", response_class=HTMLResponse, include_in_schema=False)
    def run_page(rid: Annotated[str, _id()]) -> HTMLResponse:
        run = service.store.run(rid)
        project = service.store.project(run["project_id"])
        tables = service.store.run_tables(rid) if run["status"] == "done" else []
        blots = sorted({str(r["input"]) for r in service.store.result_rows(rid, "western_rois", {})
                        if r.get("input")})  # fmt: skip
        others = [
            r
            for r in service.store.runs(run["project_id"])
            if r["id"] != rid and r["status"] == "done"
        ]
        return page(
            "run.html",
            run=run,
            project=project,
            tables=tables,
            others=others,
            options_json=json.dumps(run["options"], indent=2),
            blots=blots,
        )

    @app.get("/runs/{rid}/western/{name}", response_class=HTMLResponse, include_in_schema=False)
    def western_page(rid: Annotated[str, _id()], name: Annotated[str, _name()]) -> HTMLResponse:
        run = service.store.run(rid)
        view = service.western_view(rid, name)
        return page("western.html", run=run, name=name, view=view)

    @app.get("/runs/{rid}/tables/{name}", response_class=HTMLResponse, include_in_schema=False)
    def table_page(rid: Annotated[str, _id()], name: Annotated[str, _name()]) -> HTMLResponse:
        run = service.store.run(rid)
        meta = next((t for t in service.store.run_tables(rid) if t["name"] == name), None)
        if meta is None:
            raise NotFound("table", name)
        return page("table.html", run=run, table=meta)

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(
        a: Annotated[str, Query(pattern=ID_PATTERN)],
        b: Annotated[str, Query(pattern=ID_PATTERN)],
    ) -> HTMLResponse:
        from trkres.app.compare import compare_runs

        return page("compare.html", **compare_runs(service.store, a, b))

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page() -> HTMLResponse:
        return page("login.html", error=None)

    @app.post("/login", include_in_schema=False, response_model=None)
    def login(token: Annotated[str, Form()]) -> Response:
        guard_token = config.token
        if guard_token is not None and not _same(token, guard_token):
            return page("login.html", error="That is not the token this server printed.")
        response = RedirectResponse("/", status_code=303)
        if guard_token is not None:
            session = new_session()  # a random id, not the token (cookies are not per port)
            now = time.monotonic()
            for old, expiry in list(service.sessions.items()):  # forget expired ones
                if expiry <= now:
                    service.sessions.pop(old, None)
            service.sessions[session] = now + SESSION_SECONDS
            response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="strict",
                                max_age=SESSION_SECONDS)  # fmt: skip
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        """Sign this browser out: its session ends on the server, its cookie is cleared."""
        service.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return page("docs.html", swagger=_swagger_folder() is not None, routes=_routes(app))

    @app.get("/docs/openapi.json", include_in_schema=False)
    def docs_openapi() -> dict[str, Any]:
        """The API description labelled 3.0 for the bundled Swagger UI 4, which does not
        read 3.1 (what FastAPI writes; /openapi.json stays the true one)."""
        return {**app.openapi(), "openapi": "3.0.3"}

    @app.get("/docs/{asset}", include_in_schema=False)
    def docs_asset(
        asset: Annotated[str, PathParam(pattern=r"^swagger-ui(-bundle\.js|\.css)$")],
    ) -> Response:
        folder = _swagger_folder()
        if folder is None:
            raise NotFound("API docs asset", asset)
        media = "text/css" if asset.endswith(".css") else "text/javascript"
        return Response((folder / asset).read_bytes(), media_type=media,
                        headers={"cache-control": "max-age=86400"})  # fmt: skip

    @app.get("/static/{name}", include_in_schema=False)
    def static(
        name: Annotated[str, PathParam(pattern=r"^[a-z0-9_\-]+\.(js|css|svg)$")],
    ) -> Response:
        resource = resources.files("trkres.app").joinpath("static", name)
        if not resource.is_file():
            raise NotFound("static file", name)
        media = {"js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
        return Response(
            resource.read_bytes(),
            media_type=media[name.rsplit(".", 1)[1]],
            headers={"cache-control": "no-cache"},
        )

    return app


def _swagger_folder() -> Path | None:
    """The Swagger UI files of the installed ``swagger-ui-bundle`` package (or None)."""
    try:
        import swagger_ui_bundle  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


def _routes(app: FastAPI) -> list[dict[str, str]]:
    """The API's routes for the plain docs page (method, path, summary)."""
    schema = app.openapi()
    out = []
    for path, methods in schema.get("paths", {}).items():
        for method, spec in methods.items():
            text = (spec.get("description") or spec.get("summary") or "").strip()
            out.append({"method": method.upper(), "path": path, "text": text.split("\n\n")[0]})
    return out


def guarded(service: Service) -> Guard:
    """The app behind its :class:`Guard` (token, hosts, CSRF, body size, headers)."""
    config = service.config
    return Guard(
        create_app(service),
        token=config.token,
        bind_host=config.host,
        max_body=config.max_upload + 1024**2,
        upload_limit=config.max_upload,
        sessions=service.sessions,
    )


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def _download(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"'}


def _file_json(f: Any) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": f.name,
        "kind": f.kind,
        "format": f.format,
        "bytes": f.bytes,
        "rows": f.rows,
        "summary": f.summary,
        "notes": f.notes,
        "sha256": f.sha256,
        "created": f.created,
    }


def default_data_dir() -> Path:
    """The user's data directory for trkres (XDG on Linux, the platform's elsewhere)."""
    import os
    import sys

    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "trkres" / "app"


def check_bind(config: AppConfig) -> str | None:
    """A token is required off loopback: generate one when none was given. Returns the
    token generated (to print), or None."""
    from trkres.app.security import new_token

    if config.token is not None and len(config.token.strip()) < MIN_TOKEN:
        raise InputError(
            "the token is too short", expected=f"at least {MIN_TOKEN} characters",
            found=f"{len(config.token.strip())}",
            hint="leave --token out on a network address: one is generated and printed",
        )  # fmt: skip
    if config.token is not None and config.token != config.token.strip(" \t\r\n"):
        # Such a token could never be sent: the bearer header is read without its blanks.
        raise InputError(
            "the token starts or ends with a blank or a line break",
            expected="a token without blanks at its ends",
            found=f"{len(config.token)} characters, {len(config.token.strip())} without them",
            hint="a token read from a file keeps its final line break: strip it",
        )  # fmt: skip
    if config.token is None and not is_loopback(config.host):
        config.token = new_token()
        return config.token
    return None
