"""The app's store: one DuckDB database plus content-addressed files beside it.

Layout of the data folder (``trkres serve --data DIR``)::

    DIR/trkres.duckdb        projects, files, runs, their parameters, result tables
    DIR/blobs/ab/abcdef…     every uploaded file, named by its SHA-256, read-only
    DIR/runs/<run id>/       study/ (the run's inputs, linked from blobs), report/
                             (index.html, tables/, figures/, run.json: the CLI's layout)

Only the server process opens the database (DuckDB allows one writing process);
inside it, one connection guarded by a lock serialises every statement, so
concurrent requests never interleave a transaction. Uploaded files are written
to a temporary file and renamed to their hash: a crash leaves no half file under
a hash name. File names given by users are kept as text only, never used as paths.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from trkres.errors import InputError, TrkresError

if TYPE_CHECKING:
    import pandas as pd

DB_NAME = "trkres.duckdb"

#: Schema version written to ``meta``; bump with a migration when tables change.
SCHEMA_VERSION = 1

_SCHEMA = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS projects (
        id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, created TIMESTAMPTZ NOT NULL,
        study JSON NOT NULL, study_version BIGINT NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS files (
        id VARCHAR PRIMARY KEY, project_id VARCHAR NOT NULL, sha256 VARCHAR NOT NULL,
        name VARCHAR NOT NULL, kind VARCHAR NOT NULL, format VARCHAR, bytes BIGINT NOT NULL,
        rows BIGINT, summary VARCHAR, notes JSON, created TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS runs (
        id VARCHAR PRIMARY KEY, project_id VARCHAR NOT NULL, status VARCHAR NOT NULL,
        progress DOUBLE NOT NULL, label VARCHAR, error VARCHAR, manifest VARCHAR NOT NULL,
        options JSON NOT NULL, figures BOOLEAN NOT NULL, definition JSON NOT NULL,
        created TIMESTAMPTZ NOT NULL,
        started TIMESTAMPTZ, finished TIMESTAMPTZ, summary JSON)""",
    """CREATE TABLE IF NOT EXISTS run_tables (
        run_id VARCHAR NOT NULL, name VARCHAR NOT NULL, section VARCHAR NOT NULL,
        title VARCHAR, rows BIGINT NOT NULL, columns JSON NOT NULL, db_table VARCHAR NOT NULL,
        PRIMARY KEY (run_id, name))""",
]

RUN_STATUSES = ("queued", "running", "done", "failed")


class StoreError(TrkresError):
    """The app's data folder cannot be used (locked by another server, unreadable)."""


#: What every project, file and run id looks like (see :func:`new_id`).
ID_PATTERN = r"^[0-9a-f]{16}$"


def new_id() -> str:
    """A random, URL-safe, unguessable id (16 hex characters)."""
    return secrets.token_hex(8)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoredFile:
    """A file uploaded to a project (its bytes live under ``blobs/`` by hash)."""

    id: str
    project_id: str
    sha256: str
    name: str
    kind: str
    format: str | None
    bytes: int
    rows: int | None
    summary: str | None
    notes: list[str]
    created: datetime


class _Reader:
    """A thread's read connection (see :meth:`Store._reader`); closed when the thread's
    local storage lets go of it."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn


def _close_quietly(conn: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):
        conn.close()


class Store:
    """Projects, files, runs and result tables of one data folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.expanduser().resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "blobs").mkdir(exist_ok=True)
        (self.folder / "runs").mkdir(exist_ok=True)
        self._lock = threading.RLock()
        self._local = threading.local()
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._closed = False
        try:
            self._db = duckdb.connect(str(self.folder / DB_NAME))
        except duckdb.IOException as exc:
            raise StoreError(
                "the app's database is in use or unreadable",
                expected=f"a data folder no other trkres serve is using: {self.folder}",
                found=str(exc).splitlines()[0],
                hint="stop the other server, or start this one with --data OTHER_DIR",
            ) from None
        with self._lock:
            # Point lookups and small commits, one at a time under the lock: DuckDB's
            # parallel scheduling costs more CPU than it saves here (1.45 → 0.95 ms per
            # project lookup), and the run workers need the other cores.
            self._db.execute("SET threads = 1")
            for statement in _SCHEMA:
                self._db.execute(statement)
            self._db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )

    def close(self) -> None:
        """Close the database: reads still running are interrupted, later ones refused."""
        with self._lock:
            self._closed = True
            try:
                for reader in list(self._readers):
                    with contextlib.suppress(duckdb.Error):
                        reader.conn.interrupt()
                        reader.conn.close()
            finally:
                self._db.close()

    def _reader(self) -> duckdb.DuckDBPyConnection:
        """This thread's read connection to the database. Reads go through these, outside
        the store's lock: a read sees the last commit and never waits for a writer's
        commit (under load, the requests' reads queued behind every commit's WAL sync).
        A connection lives as long as its thread (the server's request threads come and
        go: each one's connection is closed when it ends)."""
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is None:
            with self._lock:
                if self._closed:
                    raise StoreError("the app's database is closed (the server is stopping)")
                reader = _Reader(self._db.cursor())
                weakref.finalize(reader, _close_quietly, reader.conn)
                self._readers.add(reader)
            self._local.reader = reader
        return reader.conn

    # -- low level ---------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction under the store's lock: all of it lands, or none."""
        with self._lock:
            self._db.execute("BEGIN TRANSACTION")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """The rows of a read-only query, as dicts (through this thread's reader)."""
        cursor = self._reader().execute(sql, params or [])
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _execute(self, sql: str, params: list[Any] | None = None) -> None:
        with self._lock:
            self._db.execute(sql, params or [])

    # -- blobs -------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InputError("not a SHA-256 hex digest", found=sha256[:80])
        return self.folder / "blobs" / sha256[:2] / sha256

    def keep(self, source: Path, pid: str, name: str, kind: str, fmt: str | None,
             rows: int | None, summary: str | None, notes: list[str],
             change: Callable[[dict[str, Any], str], dict[str, Any]] | None = None,
             ) -> tuple[str, str, int]:  # fmt: skip
        """Keep the temporary file ``source`` as a file of a project: its bytes under their
        SHA-256 (once, however many files have them) and its record. Returns (file id,
        sha256, size). The blob is placed and the record inserted under the store's lock,
        so a deletion can never remove a blob between the two. ``change(study, file id)``
        changes the project's study in the same transaction as the record (one commit:
        commits are what the database lock waits on)."""
        digest = hashlib.sha256()
        size = 0
        with source.open("rb") as fh:  # hashed outside the lock: large files take seconds
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
        sha = digest.hexdigest()
        target = self.blob_path(sha)
        with self._lock:
            target.parent.mkdir(exist_ok=True)
            if target.exists():
                source.unlink()
            else:
                source.chmod(0o444)
                source.replace(target)  # atomic: a crash leaves no half file under the hash
            fid = new_id()
            try:
                with self.transaction() as db:
                    db.execute(
                        "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [fid, pid, sha, name, kind, fmt, size, rows, summary,
                         json.dumps(notes), now()],
                    )  # fmt: skip
                    if change is not None:
                        _change_study(db, pid, lambda study: change(study, fid))
            except BaseException:
                self._drop_blob_if_unused(sha)  # the record was never made
                raise
        return fid, sha, size

    def _drop_blob_if_unused(self, sha: str) -> None:
        """Remove a blob no file refers to (caller holds the lock, after its commit)."""
        row = self._db.execute("SELECT count(*) FROM files WHERE sha256 = ?", [sha]).fetchone()
        if row is not None and row[0] == 0:
            self.blob_path(sha).unlink(missing_ok=True)

    def temp_upload(self) -> Path:
        """A new temporary file inside the data folder (same filesystem as the blobs)."""
        fd, name = tempfile.mkstemp(prefix=".upload-", dir=self.folder / "blobs")
        os.close(fd)
        return Path(name)

    # -- projects ----------------------------------------------------------------------

    def create_project(self, name: str, study: dict[str, Any] | None = None) -> str:
        pid = new_id()
        body = study or {"description": "", "inputs": [], "options": {}}
        self._execute(
            "INSERT INTO projects VALUES (?, ?, ?, ?, 0)", [pid, name, now(), json.dumps(body)]
        )
        return pid

    def projects(self) -> list[dict[str, Any]]:
        return self._rows(
            """SELECT p.id, p.name, p.created,
                 (SELECT count(*) FROM files f WHERE f.project_id = p.id) AS files,
                 (SELECT count(*) FROM runs r WHERE r.project_id = p.id) AS runs
               FROM projects p ORDER BY p.created DESC"""
        )

    def project(self, pid: str) -> dict[str, Any]:
        rows = self._rows(
            "SELECT id, name, created, study, study_version FROM projects WHERE id = ?", [pid]
        )
        if not rows:
            raise NotFound("project", pid)
        row = rows[0]
        row["study"] = json.loads(row["study"])
        return row

    def rename_project(self, pid: str, name: str) -> None:
        self._execute("UPDATE projects SET name = ? WHERE id = ?", [name, pid])

    def modify_study(
        self,
        pid: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        expect_version: int | None = None,
    ) -> tuple[dict[str, Any], int]:
        """Read, change and write a project's study in one transaction (concurrent uploads
        never lose each other's inputs); with ``expect_version``, a study changed since
        that version is refused (:class:`StudyChanged`) instead of overwritten.
        Returns the new study and its version."""
        with self.transaction() as db:
            return _change_study(db, pid, change, expect_version)

    def set_study(self, pid: str, study: dict[str, Any]) -> None:
        self.modify_study(pid, lambda _old: study)

    # -- files -------------------------------------------------------------------------

    def files(self, pid: str) -> list[StoredFile]:
        rows = self._rows("SELECT * FROM files WHERE project_id = ? ORDER BY created, name", [pid])
        return [_file(r) for r in rows]

    def files_by_ids(self, ids: list[str]) -> list[StoredFile]:
        """The files with these ids, in the order given; an unknown id is an error."""
        if not ids:
            return []
        rows = self._rows(
            f"SELECT * FROM files WHERE id IN ({', '.join('?' for _ in ids)})", list(ids)
        )
        by_id = {r["id"]: _file(r) for r in rows}
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise NotFound("file", missing[0])
        return [by_id[i] for i in ids]

    def file(self, fid: str) -> StoredFile:
        rows = self._rows("SELECT * FROM files WHERE id = ?", [fid])
        if not rows:
            raise NotFound("file", fid)
        return _file(rows[0])

    # -- runs --------------------------------------------------------------------------

    def new_run_id(self) -> str:
        return new_id()

    def create_run(
        self, rid: str, pid: str, manifest: str, definition: dict[str, Any], figures: bool
    ) -> str:
        """Record a queued run: the study.yaml it runs and the study definition (with the
        options) it was made from."""
        self._execute(
            "INSERT INTO runs (id, project_id, status, progress, manifest, options, figures, "
            "definition, created) VALUES (?, ?, 'queued', 0, ?, ?, ?, ?, ?)",
            [
                rid,
                pid,
                manifest,
                json.dumps(definition.get("options", {})),
                figures,
                json.dumps(definition),
                now(),
            ],
        )
        return rid

    def run(self, rid: str) -> dict[str, Any]:
        rows = self._rows("SELECT * FROM runs WHERE id = ?", [rid])
        if not rows:
            raise NotFound("run", rid)
        row = rows[0]
        row["options"] = json.loads(row["options"])
        row["definition"] = json.loads(row["definition"])
        row["summary"] = json.loads(row["summary"]) if row["summary"] else None
        return row

    def runs(self, pid: str) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT id, status, progress, label, error, created, finished FROM runs "
            "WHERE project_id = ? ORDER BY created DESC",
            [pid],
        )

    def set_running(self, rid: str) -> bool:
        """Mark a queued run running; False when it is no longer queued (cancelled)."""
        with self._lock:
            row = self._db.execute(
                "UPDATE runs SET status = 'running', started = ? WHERE id = ? "
                "AND status = 'queued' RETURNING id",
                [now(), rid],
            ).fetchall()
        return bool(row)

    def fail_run(self, rid: str, error: str) -> None:
        self._execute(
            "UPDATE runs SET status = 'failed', error = ?, finished = ? "
            "WHERE id = ? AND status IN ('queued', 'running')",
            [error, now(), rid],
        )

    def finish_run(self, rid: str, tables: list[dict[str, Any]], summary: dict[str, Any]) -> None:
        """Load the run's result tables and mark it done, in one transaction.

        ``tables``: name, section, title, parquet (path), rows, columns and, optionally,
        sha256 (of the Parquet file). Tables with a digest are stored once under it
        however many runs have them (every run has the knowledge base's tables);
        :func:`_drop_results` drops one when no run refers to it any more. A crash
        before the commit leaves neither the tables nor the 'done' visible.
        """
        with self.transaction() as db:
            status = db.execute("SELECT status FROM runs WHERE id = ?", [rid]).fetchone()
            if status is None or status[0] != "running":
                return  # cancelled or failed meanwhile: it stays as it is
            rows: list[list[Any]] = []
            made: set[str] = set()  # equal tables within this run are made once too
            for i, table in enumerate(tables):
                digest = table.get("sha256")
                db_table = f"result_{digest[:32]}" if digest else f"result_{rid}_{i}"
                shared = db_table in made or bool(
                    digest
                    and db.execute(
                        "SELECT 1 FROM run_tables WHERE db_table = ? LIMIT 1", [db_table]
                    ).fetchone()
                )
                made.add(db_table)
                if not shared:
                    db.execute(
                        f"CREATE TABLE {_quote(db_table)} AS SELECT * FROM read_parquet(?)",
                        [str(table["parquet"])],
                    )
                rows.append([rid, table["name"], table["section"], table["title"],
                             table["rows"], json.dumps(table["columns"]), db_table])  # fmt: skip
            if rows:
                db.executemany("INSERT INTO run_tables VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute(
                "UPDATE runs SET status = 'done', progress = 1, label = 'done', finished = ?, "
                "summary = ? WHERE id = ?",
                [now(), json.dumps(summary), rid],
            )

    def run_tables(self, rid: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT name, section, title, rows, columns, db_table FROM run_tables "
            "WHERE run_id = ? ORDER BY section, name",
            [rid],
        )
        for row in rows:
            row["columns"] = json.loads(row["columns"])
        return rows

    def query_table(
        self,
        rid: str,
        name: str,
        *,
        sort: str | None = None,
        descending: bool = False,
        search: str = "",
        offset: int = 0,
        limit: int = 100,
    ) -> dict[str, Any]:
        """A page of a result table: rows matching ``search`` (any cell, case-insensitive),
        sorted by the column ``sort``. Column names are checked against the table's own,
        never pasted into SQL unchecked."""
        meta = next((t for t in self.run_tables(rid) if t["name"] == name), None)
        if meta is None:
            raise NotFound("table", name)
        columns: list[str] = meta["columns"]
        if sort is not None and sort not in columns:
            raise InputError("no such column to sort by", expected=", ".join(columns), found=sort)
        quoted = [_quote(c) for c in columns]
        where, params = "", []
        if search:
            where = "WHERE " + " OR ".join(
                f"contains(lower(CAST({q} AS VARCHAR)), ?)" for q in quoted
            )
            params = [search.lower()] * len(quoted)
        order = (
            f"ORDER BY {_quote(sort)} {'DESC' if descending else 'ASC'} NULLS LAST" if sort else ""
        )
        table = _quote(meta["db_table"])
        reader = self._reader()
        try:
            total = reader.execute(f"SELECT count(*) FROM {table} {where}", params).fetchone()
            frame = reader.execute(
                f"SELECT * FROM {table} {where} {order} LIMIT ? OFFSET ?",
                [*params, int(limit), int(offset)],
            ).df()
        except duckdb.CatalogException:  # the run was deleted since its catalogue was read
            raise NotFound("table", name) from None
        records = json.loads(frame.to_json(orient="values", date_format="iso"))
        return {
            "columns": columns,
            "rows": records,
            "total": int(total[0] if total else 0),
            "offset": offset,
            "limit": limit,
        }

    def result_rows(self, rid: str, name: str, where: dict[str, Any]) -> list[dict[str, Any]]:
        """Rows of a run's result table matching ``where`` (column → value; columns the
        table lacks match nothing). Empty when the table does not exist."""
        meta = next((t for t in self.run_tables(rid) if t["name"] == name), None)
        if meta is None or any(c not in meta["columns"] for c in where):
            return []
        clause = " AND ".join(f"{_quote(c)} = ?" for c in where) or "TRUE"
        try:
            return self._rows(
                f"SELECT * FROM {_quote(meta['db_table'])} WHERE {clause}", list(where.values())
            )
        except duckdb.CatalogException:  # the run was deleted since its catalogue was read
            return []

    def frame(self, db_table: str) -> pd.DataFrame:
        """A whole result table (by its database name, as :meth:`run_tables` gives it)."""
        try:
            return self._reader().execute(f"SELECT * FROM {_quote(db_table)}").df()
        except duckdb.CatalogException:  # the run was deleted since its catalogue was read
            raise NotFound("table", db_table) from None

    # -- deleting ------------------------------------------------------------------------

    def delete_run(self, rid: str) -> None:
        """A finished run's record and result tables, in one transaction (its folder is
        the caller's to remove)."""
        with self.transaction() as db:
            row = db.execute("SELECT status FROM runs WHERE id = ?", [rid]).fetchone()
            if row is None:
                raise NotFound("run", rid)
            if row[0] not in ("done", "failed"):
                raise Conflict("a run that is queued or running cannot be deleted",
                               hint="cancel it first")  # fmt: skip
            _drop_results(db, rid)
            db.execute("DELETE FROM runs WHERE id = ?", [rid])

    def delete_file(self, pid: str, fid: str) -> None:
        """A file of a project no study or run of it uses, and its blob when no other file
        has the same bytes (all under the store's lock: see :meth:`keep`)."""
        with self._lock:
            with self.transaction() as db:
                row = db.execute(
                    "SELECT sha256 FROM files WHERE id = ? AND project_id = ?", [fid, pid]
                ).fetchone()
                if row is None:
                    raise NotFound("file of this project", fid)
                study = db.execute("SELECT study FROM projects WHERE id = ?", [pid]).fetchone()
                if study is not None and fid in json.dumps(json.loads(study[0])):
                    raise Conflict(
                        "the study uses this file", hint="remove it from the study first"
                    )
                for run_id, definition in db.execute(
                    "SELECT id, definition FROM runs WHERE project_id = ?", [pid]
                ).fetchall():
                    if fid in definition:
                        raise Conflict(
                            f"run {run_id} used this file",
                            hint="delete that run first (its study keeps the file)",
                        )
                db.execute("DELETE FROM files WHERE id = ?", [fid])
            self._drop_blob_if_unused(str(row[0]))

    def delete_project(self, pid: str) -> list[str]:
        """A project with its runs and files, in one transaction, and the blobs no other
        file has. Returns the run ids, whose folders the caller removes."""
        with self._lock:  # the blobs below go under the same lock as keep() adds them
            with self.transaction() as db:
                if db.execute("SELECT 1 FROM projects WHERE id = ?", [pid]).fetchone() is None:
                    raise NotFound("project", pid)
                busy = db.execute(
                    "SELECT count(*) FROM runs WHERE project_id = ? AND status IN ('queued', 'running')",
                    [pid],
                ).fetchone()
                if busy is not None and busy[0]:
                    raise Conflict(
                        "the project has runs queued or running", hint="cancel them first"
                    )
                runs = [
                    r[0]
                    for r in db.execute(
                        "SELECT id FROM runs WHERE project_id = ?", [pid]
                    ).fetchall()
                ]
                for rid in runs:
                    _drop_results(db, rid)
                db.execute("DELETE FROM runs WHERE project_id = ?", [pid])
                hashes = [r[0] for r in db.execute(
                    "SELECT DISTINCT sha256 FROM files WHERE project_id = ?", [pid]).fetchall()]  # fmt: skip
                db.execute("DELETE FROM files WHERE project_id = ?", [pid])
                db.execute("DELETE FROM projects WHERE id = ?", [pid])
            for sha in hashes:
                self._drop_blob_if_unused(sha)
        return runs

    def recover(self) -> list[str]:
        """At start-up: runs left queued or running by a server that stopped are marked
        failed (their results were never committed, so none are visible)."""
        with self._lock:
            rows = self._db.execute(
                "UPDATE runs SET status = 'failed', finished = ?, error = ? "
                "WHERE status IN ('queued', 'running') RETURNING id",
                [
                    now(),
                    "interrupted: the server stopped during this run; nothing of it was "
                    "kept. Start the run again.",
                ],
            ).fetchall()
        return [r[0] for r in rows]


class Conflict(TrkresError):
    """A change refused because of the state something is in (HTTP 409)."""


class StudyChanged(Conflict):
    """A study saved from a page that loaded an older version of it (HTTP 409)."""


class NotFound(TrkresError):
    """A project, file, run or table id that does not exist."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__(f"no {what} '{ident[:80]}'")


def _drop_results(db: duckdb.DuckDBPyConnection, rid: str) -> None:
    """A run's catalogue rows and the result tables no other run refers to (inside the
    caller's transaction)."""
    tables = [r[0] for r in db.execute(
        "SELECT DISTINCT db_table FROM run_tables WHERE run_id = ?", [rid]).fetchall()]  # fmt: skip
    db.execute("DELETE FROM run_tables WHERE run_id = ?", [rid])
    for table in tables:
        if db.execute("SELECT 1 FROM run_tables WHERE db_table = ? LIMIT 1", [table]).fetchone():
            continue  # another run has the same table
        db.execute(f"DROP TABLE IF EXISTS {_quote(table)}")


def _change_study(
    db: duckdb.DuckDBPyConnection,
    pid: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    expect_version: int | None = None,
) -> tuple[dict[str, Any], int]:
    """:meth:`Store.modify_study` inside the caller's transaction."""
    row = db.execute("SELECT study, study_version FROM projects WHERE id = ?", [pid]).fetchone()
    if row is None:
        raise NotFound("project", pid)
    version = int(row[1])
    if expect_version is not None and expect_version != version:
        raise StudyChanged(
            "the study was changed elsewhere since this page loaded it",
            expected=f"version {expect_version}", found=f"version {version}",
            hint="reload the page (your edits are not saved) and make them again",
        )  # fmt: skip
    study = change(json.loads(row[0]))
    db.execute(
        "UPDATE projects SET study = ?, study_version = ? WHERE id = ?",
        [json.dumps(study), version + 1, pid],
    )
    return study, version + 1


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _file(row: dict[str, Any]) -> StoredFile:
    return StoredFile(
        id=row["id"],
        project_id=row["project_id"],
        sha256=row["sha256"],
        name=row["name"],
        kind=row["kind"],
        format=row["format"],
        bytes=row["bytes"],
        rows=row["rows"],
        summary=row["summary"],
        notes=json.loads(row["notes"] or "[]"),
        created=row["created"],
    )
