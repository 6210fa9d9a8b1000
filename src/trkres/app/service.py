"""What the app does, apart from HTTP: projects, uploads, studies and runs.

Both the REST API and the pages call this; it calls the store, the same readers
as the command line (:func:`trkres.study.validate.check_input`) and the run pool.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from trkres.app import studies, worker
from trkres.app.runs import RunPool
from trkres.app.store import ID_PATTERN, NotFound, Store
from trkres.errors import InputError, Location, TrkresError

#: Largest upload accepted (bytes) unless ``--max-upload-mb`` says otherwise.
DEFAULT_MAX_UPLOAD = 512 * 1024**2

_RUN_DIR = re.compile(ID_PATTERN)


@dataclass
class AppConfig:
    """How ``trkres serve`` was started."""

    data: Path
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    max_upload: int = DEFAULT_MAX_UPLOAD
    workers: int = field(default_factory=lambda: max(1, min(8, os.cpu_count() or 1)))


class TooLarge(InputError):
    """An upload larger than the server's limit."""


class Service:
    """The app's state: one store, one pool of run workers."""

    def __init__(
        self, config: AppConfig, *, start_workers: bool = True, defer: bool = False
    ) -> None:
        self.config = config
        #: Sessions given by /login: random id → expiry (monotonic seconds); lost when the
        #: server stops.
        self.sessions: dict[str, float] = {}
        self.store = Store(config.data)
        self.recovered = self.store.recover()
        self._clean_leftovers()
        self._clean_run_folders()
        self.pool = RunPool(self.store, config.workers)
        #: Set once the readers and analyses are imported. Requests that need them wait
        #: for it: two threads importing the same package at once can see it half
        #: initialised (importlib breaks the import cycle for one of them).
        self._imported = threading.Event()
        self._background = threading.Lock()
        self._started = False
        #: Set when the server begins to stop; then each of ``stop_listeners`` is called
        #: (requests waiting for a run's end answer at once instead of being cancelled).
        self.stopping = threading.Event()
        self.stop_listeners: list[Callable[[], None]] = []
        if not start_workers:
            self._import()
        elif not defer:
            self.start_background()

    def start_background(self) -> None:
        """Start the run workers and import the readers and analyses, in the background;
        once. ``trkres serve`` calls it when the server listens (``defer=True``): on two
        cores the imports otherwise compete with the server's own start (2.0-2.7 s to the
        first answer on the development machine, 1.2-1.6 s deferred)."""
        with self._background:
            if self._started:
                return
            self._started = True
        self.pool.warm()
        threading.Thread(target=self._import, name="trkres-imports", daemon=True).start()

    def _import(self) -> None:
        try:
            _import_readers()
            # The modules' objects live as long as the server: out of the collector's
            # sight, a collection no longer walks the hundreds of thousands of them.
            gc.freeze()
        finally:
            self._imported.set()

    def ready(self) -> None:
        """Wait until the readers and analyses are imported (a second or two after start)."""
        if not self._imported.is_set():
            self.start_background()  # needed before the server listens (--example)
        self._imported.wait(timeout=120)

    def begin_stop(self) -> None:
        """The server is stopping: wake what waits for a run's end (called by ``trkres
        serve`` when the server stops, before it waits for the requests under way)."""
        self.stopping.set()
        for listener in self.stop_listeners:
            listener()

    def close(self) -> None:
        if not self.stopping.is_set():
            self.begin_stop()
        self.pool.shutdown()
        self.store.close()

    def _clean_leftovers(self) -> None:
        """Remove what a server killed mid-request left: partial uploads and downloads in
        ``blobs/`` (never under a hash name) and unpacked study zips in ``tmp/``."""
        for pattern in (".upload-*", ".download-*"):
            for path in (self.store.folder / "blobs").glob(pattern):
                path.unlink(missing_ok=True)
        shutil.rmtree(self.store.folder / "tmp", ignore_errors=True)

    def _clean_run_folders(self) -> None:
        """Remove what runs that never finished left on disk (all of it trkres' own)."""
        known = {r["id"]: r["status"] for r in self.store._rows("SELECT id, status FROM runs")}
        for folder in (self.store.folder / "runs").iterdir():
            if not _RUN_DIR.match(folder.name) or not folder.is_dir():
                continue
            if folder.name not in known:
                shutil.rmtree(folder, ignore_errors=True)  # created, never recorded
            elif known[folder.name] == "failed":
                for part in folder.iterdir():
                    if part.name not in ("study", "error.txt"):
                        shutil.rmtree(part, ignore_errors=True)
                        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                            part.unlink()

    # -- uploads -----------------------------------------------------------------------

    def receive(self, stream: BinaryIO, name: str) -> Path:
        """Copy an upload into a temporary file in the data folder, enforcing the size limit."""
        tmp = self.store.temp_upload()
        size = 0
        try:
            with tmp.open("wb") as out:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    size += len(block)
                    if size > self.config.max_upload:
                        raise TooLarge(
                            "the file is larger than this server accepts",
                            location=Location(file=studies.display_name(name)),
                            expected=f"at most {self.config.max_upload / 1024**2:.0f} MB",
                            found=f"more than that ({size / 1024**2:.0f} MB read so far)",
                            hint="start the server with a larger --max-upload-mb",
                        )
                    out.write(block)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp

    def add_file(self, pid: str, stream: BinaryIO, name: str, kind: str) -> dict[str, Any]:
        """Store an uploaded file after reading it with its kind's reader.

        Raises the reader's :class:`TrkresError` (located in the user's file name) and
        keeps nothing when the file is not valid. A file of an input kind becomes an
        input of the project's study; an ``attachment`` waits to be linked to one.
        """
        self.ready()
        self.store.project(pid)
        shown = studies.display_name(name)
        if kind != studies.ATTACHMENT and kind not in studies.INPUT_KINDS:
            raise InputError(
                "unknown file kind",
                location=Location(file=shown),
                expected="one of: " + ", ".join((*studies.INPUT_KINDS, studies.ATTACHMENT)),
                found=kind[:80],
            )
        tmp = self.receive(stream, name)

        def add_input(study: dict[str, Any], fid: str) -> dict[str, Any]:
            taken = {i["id"] for i in study["inputs"]}
            study["inputs"].append(
                {"id": studies.input_id(shown, taken), "kind": kind, "file": fid}
            )
            return study

        try:
            check = studies.check_upload(tmp, kind, shown)
            fid, sha, size = self.store.keep(
                tmp, pid, shown, kind, check.format, check.rows, check.summary, check.notes,
                change=None if kind == studies.ATTACHMENT else add_input,
            )  # fmt: skip
        finally:
            tmp.unlink(missing_ok=True)
        return {
            "id": fid,
            "name": shown,
            "kind": kind,
            "format": check.format,
            "rows": check.rows,
            "summary": check.summary,
            "notes": check.notes,
            "sha256": sha,
            "bytes": size,
        }

    def import_study(self, pid: str, stream: BinaryIO, name: str) -> dict[str, Any]:
        """Import a zipped study folder: every file it names, its inputs and options."""
        self.ready()
        self.store.project(pid)
        tmp = self.receive(stream, name)
        try:
            folder, study = studies.read_study_zip(
                tmp, name, self.store.folder / "tmp", self.config.max_upload
            )
        finally:
            tmp.unlink(missing_ok=True)
        try:
            name = studies.project_name(
                study.manifest.name,
                Location(file=f"{studies.display_name(name)}: study.yaml", column="name"),
            )
            paths: dict[str, str] = {}
            for item in study.manifest.inputs:
                paths[item.path] = studies.current_kind(item.kind.value)
                for attr in studies.FILE_FIELDS:
                    rel = getattr(item, attr)
                    if rel:
                        paths.setdefault(rel, studies.ATTACHMENT)
            try:
                checked = {
                    rel: studies.check_upload(folder / rel, kind, rel)
                    for rel, kind in paths.items()
                }
            except TrkresError as exc:
                studies.hide_folder(exc, folder, "the zip")
                raise
            file_ids: dict[str, str] = {}
            for rel, kind in paths.items():
                copy_path = self.store.temp_upload()
                shutil.copyfile(folder / rel, copy_path)
                check = checked[rel]
                file_ids[rel], _, _ = self.store.keep(
                    copy_path, pid, rel, kind, check.format, check.rows, check.summary, check.notes
                )
            definition = studies.study_inputs_from(study, file_ids)
            self.store.set_study(pid, definition)
            self.store.rename_project(pid, name)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return {
            "id": pid,
            "name": name,
            "files": len(file_ids),
            "inputs": len(definition["inputs"]),
        }

    def save_plate_map(self, pid: str, body: Any) -> dict[str, Any]:
        """Store a plate map made in the editor (checked by the plate map reader) as an
        attachment of the project."""
        self.ready()
        from trkres.app.platemaps import plate_map_yaml
        from trkres.assays.plates.wells import read_plate_map
        from trkres.study.validate import read_named

        self.store.project(pid)
        name, text = plate_map_yaml(body)
        tmp = self.store.temp_upload()
        try:
            tmp.write_text(text, encoding="utf-8")
            frame = read_named(tmp, name, read_plate_map)
            roles = frame["role"].value_counts()
            summary = f"plate map, {len(frame)} wells: " + ", ".join(
                f"{n} {role}" for role, n in roles.items()
            )
            fid, _, _ = self.store.keep(
                tmp, pid, name, studies.ATTACHMENT, "yaml", len(frame), summary, []
            )
        finally:
            tmp.unlink(missing_ok=True)
        return {"id": fid, "name": name, "rows": len(frame), "summary": summary}

    def plate_map(self, fid: str, pid: str | None = None) -> dict[str, Any]:
        self.ready()
        from trkres.app.platemaps import plate_map_json

        file = self.store.file(fid)
        if pid is not None and file.project_id != pid:
            raise NotFound("file of this project", fid)
        return plate_map_json(self.store.blob_path(file.sha256), file.name)

    # -- deleting ------------------------------------------------------------------------

    def delete_run(self, rid: str) -> None:
        self.store.delete_run(rid)
        shutil.rmtree(self.pool.run_dir(rid), ignore_errors=True)

    def delete_file(self, pid: str, fid: str) -> None:
        self.store.delete_file(pid, fid)

    def delete_project(self, pid: str) -> None:
        for rid in self.store.delete_project(pid):
            shutil.rmtree(self.pool.run_dir(rid), ignore_errors=True)

    # -- western ROI editor ---------------------------------------------------------------

    def _done_study(self, rid: str) -> Path:
        if self.store.run(rid)["status"] != "done":
            raise NotFound("finished run", rid)
        return self.pool.run_dir(rid) / "study"

    def western_view(self, rid: str, name: str) -> dict[str, Any]:
        """The band boxes (with volumes) and quantified lanes of a western input of a run."""
        self.ready()
        self._done_study(rid)
        bands = self.store.result_rows(rid, "western_bands", {"input": name, "role": "target"})
        if not bands:
            raise NotFound("western input of this run", name)
        keep = ("lane", "band", "x0", "x1", "y0", "y1", "volume", "saturated")
        quantified = self.store.result_rows(rid, "western_quantified", {"input": name})
        cols = ("lane", "sample", "treatment", "dose", "dose_unit", "target_signal",
                "loading_signal", "ratio", "fold_change")  # fmt: skip
        return {
            "input": name,
            "bands": [{k: b[k] for k in keep} for b in bands],
            "quantified": [{k: q.get(k) for k in cols if k in q} for q in quantified],
        }

    def western_png(self, rid: str, name: str) -> bytes:
        self.ready()
        answer = self.pool.call(worker.blot_preview, str(self._done_study(rid)), name)
        if "error" in answer:
            raise InputError(answer["error"])
        return bytes(answer["png"])

    def western_requantify(self, rid: str, name: str, rois: Any) -> dict[str, Any]:
        """Measure a western input of a run again with edited band boxes (nothing is kept)."""
        self.ready()
        study = self._done_study(rid)
        text = studies.rois_tsv(rois)  # checks each box's shape
        studies.check_overlaps(rois)
        fd, tmp = tempfile.mkstemp(suffix=".tsv", prefix=".rois-", dir=study.parent)
        os.close(fd)
        try:
            Path(tmp).write_text(text, encoding="utf-8")
            answer = self.pool.call(worker.requantify_blot, str(study), name, tmp)
        finally:
            Path(tmp).unlink(missing_ok=True)
        if "error" in answer:
            raise InputError(answer["error"])
        return answer

    def western_save_rois(self, rid: str, name: str, rois: Any) -> dict[str, Any]:
        """Keep edited band boxes as an attachment and link them to the project's western
        input of that name: the next run measures those boxes."""
        self.ready()
        from trkres.assays.western.bands import read_rois
        from trkres.study.validate import read_named

        run = self.store.run(rid)
        pid = run["project_id"]
        shown = studies.display_name(f"{name}_rois.tsv")
        tmp = self.store.temp_upload()
        try:
            tmp.write_text(studies.rois_tsv(rois), encoding="utf-8")
            boxes = read_named(tmp, shown, read_rois)
            studies.check_overlaps(boxes)
            fid, _, _ = self.store.keep(
                tmp, pid, shown, studies.ATTACHMENT, "tsv", len(boxes),
                f"band boxes of {name}: {len(boxes)} boxes", [],
            )  # fmt: skip
        finally:
            tmp.unlink(missing_ok=True)
        linked = []

        def link(study: dict[str, Any]) -> dict[str, Any]:
            for item in study["inputs"]:
                if item["id"] == name and item["kind"] in ("western", "western_blot"):
                    item["rois"] = fid
                    linked.append(item["id"])
            return study

        self.store.modify_study(pid, link)
        return {"id": fid, "name": shown, "linked": bool(linked)}

    def update_study(self, pid: str, definition: dict[str, Any]) -> dict[str, Any]:
        """Replace a project's study (inputs, links, options) after checking its shape.
        With ``"version"`` (the version the page loaded), a study changed since is refused."""
        self.ready()
        self.store.project(pid)
        version = definition.pop("version", None) if isinstance(definition, dict) else None
        if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
            raise InputError("'version' is a whole number", found=repr(version)[:40])
        clean = studies.check_definition(definition, {f.id for f in self.store.files(pid)})
        clean = studies.check_links(self.store, clean)
        study, new_version = self.store.modify_study(pid, lambda _old: clean, version)
        return {**study, "version": new_version}

    # -- runs --------------------------------------------------------------------------

    def start_run(
        self,
        pid: str,
        options: dict[str, Any] | None = None,
        figures: bool = False,
        from_run: str | None = None,
    ) -> str:
        """Lay out the study, validate it as ``trkres analyze`` would, queue the run.
        ``from_run``: run that run's inputs again (with ``options`` if given), not the
        project's current ones."""
        self.ready()
        project = self.store.project(pid)
        study = copy.deepcopy(project["study"])
        if from_run is not None:
            base = self.store.run(from_run)
            if base["project_id"] != pid:
                raise NotFound("run of this project", from_run)
            study = copy.deepcopy(base["definition"])
        if options is not None:
            if not isinstance(options, dict):
                raise InputError(
                    "options are a mapping of analysis → its options",
                    expected="a JSON object",
                    found=type(options).__name__,
                )
            studies.check_nesting(options, "the options")
            study["options"] = options
        if not study["inputs"] and not study.get("options"):
            raise InputError(
                "this project has no inputs yet",
                expected="at least one uploaded file (or model options)",
                found="none",
            )
        rid = self.store.new_run_id()
        run_dir = self.pool.run_dir(rid)
        try:
            text = studies.materialise(self.store, project["name"], study, run_dir / "study")
            names = {
                studies.run_path(f): f.name
                for f in self.store.files_by_ids(studies.used_ids(study))
            }
            (run_dir / worker.NAMES_FILE).write_text(json.dumps(names), encoding="utf-8")
            studies.validate_folder(run_dir / "study")
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        self.store.create_run(rid, pid, text, study, figures)
        self.pool.submit(rid, figures)
        return rid

    def cancel_run(self, rid: str) -> str:
        self.store.run(rid)
        return self.pool.cancel(rid)

    def report_path(self, rid: str) -> Path:
        run = self.store.run(rid)
        if run["status"] != "done":
            raise NotFound("report of a finished run", rid)
        return self.pool.run_dir(rid) / "report" / "index.html"

    def table_path(self, rid: str, name: str) -> Path:
        run = self.store.run(rid)
        if run["status"] != "done":
            raise NotFound("table of a finished run", rid)
        names = {t["name"] for t in self.store.run_tables(rid)}
        if name not in names:
            raise NotFound("table", name)
        return self.pool.run_dir(rid) / "report" / "tables" / f"{name}.tsv"

    def _definition(self, pid: str | None, rid: str | None) -> tuple[str, dict[str, Any]]:
        """(name, study definition) of a project now, or of the study a run ran."""
        if rid is not None:
            run = self.store.run(rid)
            return self.store.project(run["project_id"])["name"], run["definition"]
        assert pid is not None
        project = self.store.project(pid)
        return project["name"], project["study"]

    def study_yaml(self, pid: str | None = None, rid: str | None = None) -> str:
        """The study.yaml (the users' file names) of a project, or of a run's study."""
        name, definition = self._definition(pid, rid)
        files = self.store.files_by_ids(studies.used_ids(definition))
        names = studies.download_names(files)
        doc = studies.manifest(name, definition, {f.id: f for f in files}, lambda f: names[f.id])
        return studies.to_yaml(doc)

    def study_zip(self, pid: str | None = None, rid: str | None = None) -> Path:
        """A zip of the study folder (study.yaml and its files) of a project or a run."""
        name, definition = self._definition(pid, rid)
        fd, path = tempfile.mkstemp(
            suffix=".zip", dir=self.store.folder / "blobs", prefix=".download-"
        )
        os.close(fd)
        try:
            studies.study_zip(self.store, name, definition, Path(path))
        except BaseException:
            Path(path).unlink(missing_ok=True)
            raise
        return Path(path)


def _import_readers() -> None:
    """Import the readers uploads go through and the analyses' options models, in the
    background (the first upload and run then answer at once)."""
    from trkres.study.registry import analyses
    from trkres.study.validate import import_readers

    import_readers()
    analyses()  # the options models, for checking a study's options before a run


def error_body(exc: TrkresError) -> dict[str, Any]:
    """A :class:`TrkresError` as JSON: message, where, expected, found, hint, and the text."""
    loc = exc.location
    return {
        "error": {
            "type": type(exc).__name__,
            "message": exc.message,
            "location": None
            if loc is None
            else {
                "file": None if loc.file is None else str(loc.file),
                "line": loc.line,
                "row": loc.row,
                "column": None if loc.column is None else str(loc.column),
            },
            "expected": exc.expected,
            "found": exc.found,
            "hint": exc.hint,
            "text": str(exc),
        }
    }
