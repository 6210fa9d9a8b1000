"""A project's study: its inputs (stored files with their kinds) and options.

A project holds a study definition as JSON::

    {"description": "...",
     "inputs": [{"id": "viability", "kind": "dose_response", "file": "<file id>",
                 "format": null, "layout": "<file id>" | null, ...}],
     "options": {"dose_response": {...}}}

It becomes a ``study.yaml`` two ways: for a run, with each file linked in under a
name trkres chooses (``inputs/<file id><suffix>``: users' file names never become
server paths); for download, with the users' own file names, so the study runs
again from the command line (``trkres analyze``) exactly as in the app.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from trkres.app.store import Store, StoredFile
from trkres.errors import InputError, Location, ManifestError, TrkresError
from trkres.study.manifest import MANIFEST_NAME, InputKind, load_study

#: Kind of an uploaded file that is not an input of its own but belongs to one: a plate
#: map, a western lane layout or loading-control image, a Sanger control or reference.
ATTACHMENT = "attachment"

#: Fields of an input that name another file of the project.
FILE_FIELDS = ("layout", "loading_control", "rois", "control", "reference")
#: Text fields of an input copied into study.yaml as they are.
TEXT_FIELDS = ("format", "target", "blot", "expect", "provenance", "source", "description")

#: What reading a damaged or unusual zip raises (``zipfile`` has no error of its own for
#: most of them): a password, an unknown compression method, corrupt deflate data.
UNREADABLE: tuple[type[Exception], ...] = (
    zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, lzma.LZMAError,
    EOFError, ValueError, OverflowError,
)  # fmt: skip
NOT_A_ZIP: tuple[type[Exception], ...] = (OSError, *UNREADABLE)

#: Most members a study zip may hold (its unpacked size is bounded by the upload limit).
ZIP_MAX_MEMBERS = 10_000

_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")
#: An input id, as study.yaml allows it (``StudyInput.id``).
_INPUT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*\Z")
_ID = re.compile(r"[^A-Za-z0-9_.\-]+")


def safe_suffix(name: str) -> str:
    """The last one or two suffixes of a user's file name, when they are plain
    (``.maf.gz``, ``.tif``): readers infer formats from them. Anything else is dropped."""
    suffixes = PurePosixPath(name.replace("\\", "/")).suffixes[-2:]
    kept = [s for s in suffixes if _SUFFIX.match(s)]
    return "".join(kept) if len(kept) == len(suffixes) else ""


def display_name(name: str) -> str:
    """A user's file name as shown and downloaded: the last path part, no control
    characters, at most 200 characters (never used as a server path)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if ord(c) >= 32 and ord(c) != 127).strip()
    return (base or "file")[:200]


#: Bidirectional embeddings, overrides and isolates: they reorder the text shown after them.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def project_name(name: Any, location: Location | None = None) -> str:
    """A project's name checked: text of 1 to 200 characters without control characters
    (a NUL, a line break or a bidirectional override inside a name garbles every page,
    download and study.yaml that shows it). Leading and trailing blanks are dropped."""
    text = name.strip() if isinstance(name, str) else ""
    bad = next((c for c in text if unicodedata.category(c) == "Cc" or c in _BIDI), None)
    if not text or len(text) > 200 or bad is not None:
        raise InputError(
            "a project needs a name",
            location=location,
            expected="text of 1 to 200 characters, without control characters",
            found=f"U+{ord(bad):04X} in it" if bad is not None and len(text) <= 200
            else repr(name)[:80],
        )  # fmt: skip
    return text


def input_id(name: str, taken: set[str]) -> str:
    """An input id for study.yaml from a file name, unique among ``taken``."""
    stem = display_name(name)
    for suffix in reversed(PurePosixPath(stem).suffixes):
        stem = stem.removesuffix(suffix)
    base = _ID.sub("_", stem).strip("_.-") or "input"
    if not base[0].isalnum():
        base = "x" + base
    candidate, n = base, 2
    folded = {t.casefold() for t in taken}  # 'A' and 'a' would be one output file on macOS
    while candidate.casefold() in folded:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def run_path(file: StoredFile) -> str:
    """Where a file sits inside a run's study folder (chosen by trkres, not the user)."""
    return f"inputs/{file.id}{safe_suffix(file.name)}"


def manifest(
    name: str,
    study: dict[str, Any],
    files: dict[str, StoredFile],
    path_of: Callable[[StoredFile], str],
) -> dict[str, Any]:
    """The ``study.yaml`` content of a project's study, files placed by ``path_of``."""
    inputs = []
    for item in study.get("inputs", []):
        entry: dict[str, Any] = {"id": item["id"], "kind": item["kind"]}
        entry["path"] = path_of(_file(files, item["file"], item["id"], "file"))
        for field in FILE_FIELDS:
            if item.get(field):
                entry[field] = path_of(_file(files, item[field], item["id"], field))
        for field in TEXT_FIELDS:
            if item.get(field):
                entry[field] = item[field]
        inputs.append(entry)
    doc: dict[str, Any] = {"name": name}
    if study.get("description"):
        doc["description"] = study["description"]
    doc["inputs"] = inputs
    if study.get("options"):
        doc["options"] = study["options"]
    return doc


def _file(files: dict[str, StoredFile], fid: str, input_name: str, field: str) -> StoredFile:
    if fid not in files:
        raise InputError(
            f"input '{input_name}' names a file that is not in this project",
            location=Location(column=field),
            found=str(fid)[:80],
        )
    return files[fid]


def download_names(files: list[StoredFile]) -> dict[str, str]:
    """File id → a unique relative path for the downloadable study (the user's names;
    an imported study's sub-folders kept; clashes numbered). Names are unique ignoring
    case, and never ``study.yaml`` in any case: unzipped on a case-insensitive disk
    (macOS, Windows), ``Study.yaml`` would replace the study's own."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for file in files:
        rel = (
            "/".join(
                display_name(part)
                for part in file.name.replace("\\", "/").split("/")
                if part not in ("", ".", "..")
            )
            or "file"
        )
        candidate, n = rel, 2
        while candidate.lower() in used or candidate.lower() == MANIFEST_NAME:
            stem, dot, ext = rel.partition(".")
            candidate, n = f"{stem}-{n}{dot}{ext}", n + 1
        used.add(candidate.lower())
        names[file.id] = candidate
    return names


def to_yaml(doc: dict[str, Any]) -> str:
    header = "# Written by trkres serve: run it with `trkres analyze FOLDER -o OUT`.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def materialise(store: Store, name: str, study: dict[str, Any], folder: Path) -> str:
    """Lay out a run's study folder: the project's files hard-linked (or copied) from the
    blob store, and its study.yaml. Returns the study.yaml text."""
    files = {f.id: f for f in store.files_by_ids(used_ids(study))}
    doc = manifest(name, study, files, run_path)
    folder.mkdir(parents=True, exist_ok=False)
    for fid in used_ids(study):
        file = files[fid]
        target = folder / run_path(file)
        target.parent.mkdir(exist_ok=True)
        source = store.blob_path(file.sha256)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
    text = to_yaml(doc)
    (folder / MANIFEST_NAME).write_text(text, encoding="utf-8")
    return text


def used_ids(study: dict[str, Any]) -> list[str]:
    """Ids of every file a study definition names, each once, in order."""
    ids: list[str] = []
    for item in study.get("inputs", []):
        for field in ("file", *FILE_FIELDS):
            fid = item.get(field)
            if fid and fid not in ids:
                ids.append(str(fid))
    return ids


def study_zip(store: Store, name: str, study: dict[str, Any], target: Path) -> None:
    """A zip of the study folder with the users' file names: unzip and ``trkres analyze``."""
    files = store.files_by_ids(used_ids(study))
    names = download_names(files)
    by_id = {f.id: f for f in files}
    doc = manifest(name, study, by_id, lambda f: names[f.id])
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST_NAME, to_yaml(doc))
        for file in files:
            zf.write(store.blob_path(file.sha256), names[file.id])


def read_study_zip(archive: Path, upload_name: str, workdir: Path,
                   max_bytes: int) -> tuple[Path, Any]:  # fmt: skip
    """Unpack a study zip into a new folder under ``workdir`` and validate it as ``trkres
    analyze`` would. Returns (folder, Study); the caller removes the folder.

    Only ``study.yaml`` and the files it names are unpacked (nothing else in the zip is
    ever written), at most ``max_bytes`` in all, counted as they are decompressed (a zip
    may lie about its sizes). Member names are made relative and plain, and every target
    is checked to stay inside the folder.
    """
    from pydantic import ValidationError

    from trkres.study.manifest import Manifest
    from trkres.yamlio import read_yaml, validation_error

    shown = display_name(upload_name)
    declared = count_zip_members(archive, ZIP_MAX_MEMBERS)
    if declared is not None and declared > ZIP_MAX_MEMBERS:
        raise InputError("the zip holds too many files", location=Location(file=shown),
                         expected=f"at most {ZIP_MAX_MEMBERS}", found="more than that")  # fmt: skip
    try:
        zf = zipfile.ZipFile(archive)
    except NOT_A_ZIP as exc:
        raise InputError("not a zip archive", location=Location(file=shown),
                         expected="a .zip of a study folder holding study.yaml",
                         found=str(exc)[:120]) from None  # fmt: skip
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > ZIP_MAX_MEMBERS:
            raise InputError("the zip holds too many files", location=Location(file=shown),
                             expected=f"at most {ZIP_MAX_MEMBERS}", found=f"{len(members)}")  # fmt: skip
        names: dict[str, zipfile.ZipInfo] = {}
        twice: set[str] = set()  # names two members share: which one is meant is unknowable
        for m in members:
            plain = _member_name(m.filename)
            if plain in names:
                twice.add(plain)
            names[plain] = m
        manifests = sorted((n for n in names if PurePosixPath(n).name == MANIFEST_NAME),
                           key=lambda n: n.count("/"))  # fmt: skip
        if not manifests:
            raise InputError("no study.yaml in the zip", location=Location(file=shown),
                             expected="study.yaml at the top or in one top folder",
                             found=", ".join(sorted(names)[:5]) or "an empty zip")  # fmt: skip
        top = [n for n in manifests if n.count("/") == manifests[0].count("/")]
        if len(top) > 1:
            raise InputError("the zip holds more than one study", location=Location(file=shown),
                             expected="one study.yaml at the top or in one top folder",
                             found=", ".join(top[:5]))  # fmt: skip
        root = PurePosixPath(manifests[0]).parent
        workdir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix="import-", dir=workdir))
        budget = [max_bytes]

        def unpack(rel: str) -> None:
            key = str(root / rel) if root != PurePosixPath(".") else rel
            member = names.get(key)
            target = (folder / rel).resolve()
            if member is None or not target.is_relative_to(folder.resolve()):
                return  # missing: load_study says so, at its line in study.yaml
            if key in twice:
                raise InputError(
                    "two files in the zip have the same name", location=Location(file=shown),
                    expected="each file once", found=f"{key} twice (after dropping '..' and "
                    "leading '/' from the names)",
                )  # fmt: skip
            if member.file_size > budget[0]:  # refused before anything is written
                raise too_large(rel)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, target.open("wb") as dst:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        budget[0] -= len(block)
                        if budget[0] < 0:
                            raise too_large(rel)
                        dst.write(block)
            except UNREADABLE as exc:  # encrypted, an unknown method, damaged data, bad CRC
                raise InputError(
                    "a file in the zip cannot be unpacked", location=Location(file=shown),
                    expected="files stored or deflated (bzip2, lzma), without a password",
                    found=f"{key}: {str(exc)[:160]}",
                    hint="zip the study folder again without encryption",
                ) from None  # fmt: skip
            except OSError as exc:  # a name too long, or a file where a folder must be
                raise InputError(
                    "a file the study names cannot be unpacked", location=Location(file=shown),
                    expected="names of at most 255 characters a part (4,096 in all), no file named like a "
                    "folder the study uses", found=f"{key[:160]}: {exc.strerror or exc}",
                ) from None  # fmt: skip

        def too_large(rel: str) -> InputError:
            return InputError(
                "the study in the zip is larger than this server accepts",
                location=Location(file=shown),
                expected=f"at most {max_bytes / 1024**2:.0f} MB unpacked",
                found=f"more ({rel} and the files before it)",
                hint="start the server with a larger --max-upload-mb",
            )

        try:
            unpack(MANIFEST_NAME)
            doc = read_yaml(folder / MANIFEST_NAME, ManifestError)
            try:
                manifest = Manifest.model_validate(doc.data)
            except ValidationError as exc:
                raise validation_error(exc, doc, ManifestError, "study manifest") from None
            wanted: list[str] = []
            for item in manifest.inputs:
                for rel in (item.path, *(getattr(item, f) for f in FILE_FIELDS)):
                    if rel and rel not in wanted:
                        wanted.append(rel)
            for rel in wanted:
                clean = "/".join(p for p in rel.replace("\\", "/").split("/") if p not in ("", "."))
                if ".." not in clean.split("/"):
                    unpack(clean)
            try:
                study = load_study(folder)
            except OSError as exc:  # a name the file system refuses (too long)
                name = os.path.relpath(exc.filename, folder) if exc.filename else "a file"
                raise InputError(
                    "a file the study names cannot be looked for", location=Location(file=shown),
                    expected="names of at most 255 characters a part, 4,096 in all",
                    found=f"{name[:160]}: {exc.strerror or exc}",
                ) from None  # fmt: skip
            return folder, study
        except ManifestError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            if exc.location is not None:
                exc.location.file = f"{shown}: study.yaml"
            hide_folder(exc, folder, "the zip")
            raise
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise


def count_zip_members(archive: Path, limit: int) -> int | None:
    """Entries in a zip's central directory, counted record by record (as ``zipfile``
    walks them) and no further than ``limit + 1``; None where the end records cannot be
    read (``zipfile`` then says what is wrong).

    ``zipfile.ZipFile`` builds an object per entry before anyone can count them: a 26 MB
    zip of 300,000 empty entries took 6 s and 156 MB; an upload-sized one (512 MB, ~6
    million entries) would take the server's memory.
    """
    with archive.open("rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        tail_start = fh.seek(max(0, size - (0xFFFF + 22)))
        tail = fh.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        end = tail_start + at  # the directory ends where its end record starts
        size_cd = int.from_bytes(tail[at + 12 : at + 16], "little")
        if end >= 20 + 56:  # a zip64 locator just before: the zip64 end record holds the size
            fh.seek(end - 20)
            if fh.read(4) == b"PK\x06\x07":
                fh.seek(end - 20 - 56)
                record = fh.read(56)
                if record[:4] != b"PK\x06\x06":
                    return None
                size_cd = int.from_bytes(record[40:48], "little")
                end -= 20 + 56
        position = end - size_cd
        if position < 0:
            return None
        count = 0
        while position < end and count <= limit:
            fh.seek(position)
            head = fh.read(46)
            if len(head) < 46 or head[:4] != b"PK\x01\x02":
                return None
            name, extra, comment = (int.from_bytes(head[i : i + 2], "little") for i in (28, 30, 32))
            position += 46 + name + extra + comment
            count += 1
        return count


def hide_folder(exc: TrkresError, folder: Path, shown: str) -> None:
    """Replace the server folder ``folder`` by ``shown`` in an error's text: the reader
    names files by their full path, which would tell the client where the server keeps
    its data (``expected: an existing file at /home/…/trkres/app/tmp/import-…/x.tsv``)."""
    for path in {str(folder.resolve()), str(folder)}:
        for attr in ("message", "expected", "found", "hint"):
            value = getattr(exc, attr, None)
            if isinstance(value, str) and path in value:
                setattr(exc, attr, value.replace(path, shown))


def _member_name(name: str) -> str:
    """A zip member name made relative and plain ('..', absolute parts and drive letters
    dropped); the unpacking also checks that every target stays inside its folder."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if parts and len(parts[0]) == 2 and parts[0][1] == ":":
        parts = parts[1:]
    return "/".join(parts)


def study_inputs_from(study: Any, file_ids: dict[str, str]) -> dict[str, Any]:
    """A project study definition from a validated :class:`Study` whose files were stored
    (relative path → file id)."""
    inputs = []
    # An input without an id is named by its file's stem ('my data (1)'), which study.yaml
    # refuses as an id: the app always writes ids, so such a name is made one (as uploads'
    # names are); otherwise the imported study could never run.
    given = {item.id for item in study.manifest.inputs if item.id}
    taken: set[str] = set(given)
    for item in study.manifest.inputs:
        ident = item.name
        if not item.id:
            ident = (
                ident if _INPUT_ID.match(ident) and ident not in taken else input_id(ident, taken)
            )
            taken.add(ident)
        entry: dict[str, Any] = {
            "id": ident,
            "kind": current_kind(item.kind.value),
            "file": file_ids[item.path],
        }
        for field in FILE_FIELDS:
            value = getattr(item, field)
            if value:
                entry[field] = file_ids[value]
        for field in TEXT_FIELDS:
            value = getattr(item, field)
            if value:
                entry[field] = value
        inputs.append(entry)
    return {
        "description": study.manifest.description or "",
        "inputs": inputs,
        "options": dict(study.manifest.options),
    }


INPUT_KINDS = tuple(
    k.value for k in InputKind if k not in (InputKind.western_blot, InputKind.xenograft)
)

#: Earlier kind names study.yaml still reads → the names the app offers (and the sections
#: read both alike). An imported study is stored with the current names: with the earlier
#: ones the study builder could not save it again ("unknown kind").
_EARLIER_KINDS = {InputKind.western_blot.value: InputKind.western.value,
                  InputKind.xenograft.value: InputKind.tumour_volumes.value}  # fmt: skip


def current_kind(kind: str) -> str:
    """An input kind under the name the app offers (``xenograft`` → ``tumour_volumes``)."""
    return _EARLIER_KINDS.get(kind, kind)


@dataclass(frozen=True)
class UploadCheck:
    """What reading an uploaded file found (see :func:`trkres.study.validate.check_input`)."""

    format: str | None
    rows: int | None
    summary: str
    notes: list[str]


#: Suffixes an attachment may have: plate maps, lane layouts, images, traces, references.
ATTACHMENT_SUFFIXES = (
    ".yaml",
    ".yml",
    ".tsv",
    ".csv",
    ".txt",
    ".tif",
    ".tiff",
    ".png",
    ".jpg",
    ".jpeg",
    ".ab1",
    ".abi",
    ".scf",
    ".fa",
    ".fasta",
    ".fna",
    ".gb",
    ".gbk",
    ".genbank",
)


def check_upload(path: Path, kind: str, shown: str) -> UploadCheck:
    """Read an uploaded file as its kind's reader does; errors name ``shown``, never ``path``."""
    if kind == ATTACHMENT:
        suffix = PurePosixPath(shown.lower()).suffix
        if suffix not in ATTACHMENT_SUFFIXES:
            raise InputError(
                "not a file type a study input can refer to",
                location=Location(file=shown),
                expected="a plate map or lane layout (.yaml/.tsv/.csv), an image (.tif/.png/"
                ".jpg), a Sanger trace (.ab1/.scf) or a reference (.fasta/.gb)",
                found=suffix or "no suffix",
            )
        size = path.stat().st_size
        if size == 0:
            raise InputError(
                "the file is empty",
                location=Location(file=shown),
                expected="a non-empty file",
                found="0 bytes",
            )
        return UploadCheck(None, None, f"{size:,} bytes; link it to an input in the study", [])
    from trkres.study.validate import check_input, sniff_ok

    with path.open("rb") as fh:
        head = fh.read(8192)
    problem = sniff_ok(head, kind)
    if problem is not None:
        raise InputError(problem, location=Location(file=shown), found=f"kind {kind}")
    check = check_input(path, kind, display_name=shown)
    return UploadCheck(check.format, check.rows, check.summary, list(check.notes))


def check_definition(definition: Any, file_ids: set[str]) -> dict[str, Any]:
    """A project's study definition sent by the study builder, checked field by field."""
    if not isinstance(definition, dict):
        raise InputError("a study definition is a JSON object", found=type(definition).__name__)
    unknown = set(definition) - {"description", "inputs", "options"}
    if unknown:
        raise InputError(
            "unknown study field",
            expected="description, inputs, options",
            found=", ".join(sorted(unknown)),
        )
    check_nesting(definition, "the study")
    inputs = definition.get("inputs", [])
    options = definition.get("options", {}) or {}
    if not isinstance(inputs, list) or not isinstance(options, dict):
        raise InputError(
            "inputs are a list and options a mapping",
            found=f"{type(inputs).__name__}, {type(options).__name__}",
        )
    allowed = {"id", "kind", "file", *FILE_FIELDS, *TEXT_FIELDS}
    clean: list[dict[str, Any]] = []
    for n, item in enumerate(inputs, start=1):
        if not isinstance(item, dict):
            raise InputError(f"input {n} is not an object", found=type(item).__name__)
        extra = set(item) - allowed
        if extra:
            raise InputError(
                f"input {n}: unknown field",
                expected=", ".join(sorted(allowed)),
                found=", ".join(sorted(extra)),
            )
        if item.get("kind") not in INPUT_KINDS:
            raise InputError(
                f"input {n}: unknown kind",
                expected=", ".join(INPUT_KINDS),
                found=str(item.get("kind"))[:80],
            )
        for name in ("file", *FILE_FIELDS):
            value = item.get(name)
            if value in (None, "") and name != "file":
                continue
            if value not in file_ids:
                raise InputError(
                    f"input {n}: '{name}' is not a file of this project", found=str(value)[:80]
                )
        entry = {k: v for k, v in item.items() if v not in (None, "")}
        for name in ("id", *TEXT_FIELDS):
            if name in entry and not isinstance(entry[name], str):
                raise InputError(f"input {n}: '{name}' is text", found=type(entry[name]).__name__)
        # Checked here as study.yaml checks it: a study saved without an id, or with an id
        # study.yaml refuses, could be neither downloaded nor run (a KeyError, a 500).
        ident = entry.get("id")
        if not isinstance(ident, str) or not _INPUT_ID.match(ident):
            raise InputError(
                f"input {n}: 'id' names the input",
                expected="letters, digits, '_', '.' or '-', starting with a letter "
                "or digit", found=repr(ident)[:80],
            )  # fmt: skip
        if any(other["id"].casefold() == ident.casefold() for other in clean):
            raise InputError(f"input {n}: two inputs are named '{ident}'",
                             expected="a different id for each input (not only in case: "
                             "'A' and 'a' would be one output file on macOS and Windows)",
                             found=ident)  # fmt: skip
        clean.append(entry)
    description = definition.get("description") or ""
    if not isinstance(description, str):
        raise InputError("the description is text", found=type(description).__name__)
    return {"description": description, "inputs": clean, "options": options}


#: Deepest nesting of a study definition (options are a few levels deep at most).
MAX_DEPTH = 12


def check_nesting(value: Any, what: str) -> None:
    """Refuse JSON nested deeper than :data:`MAX_DEPTH` (options are a few levels deep):
    laying out a run from options nested ~900 deep overflowed Python's stack (a 500)."""
    if _depth(value) > MAX_DEPTH:
        raise InputError(f"{what} is nested too deeply", expected=f"at most {MAX_DEPTH} levels",
                         found="more")  # fmt: skip


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def validate_folder(folder: Path) -> None:
    """Validate a laid-out study as ``trkres analyze`` does (manifest, kinds, files, and
    every analysis' options), before a run is queued."""
    from trkres.study.runner import check_options

    try:
        check_options(load_study(folder))
    except ManifestError as exc:
        if exc.location is not None:
            exc.location.file = "this project's study.yaml (download it to see the lines)"
        hide_folder(exc, folder, "the study folder")
        raise


#: Columns of a band-box (ROI) file, as ``trkres blot --rois`` reads them.
ROI_COLUMNS = ("lane", "band", "x0", "x1", "y0", "y1")


def rois_tsv(rois: Any) -> str:
    """Band boxes sent by the ROI editor as the TSV ``trkres blot --rois`` reads (its
    reader checks the values; here only the shape: whole numbers in the six columns)."""
    if not isinstance(rois, list) or not rois or len(rois) > 10_000:
        raise InputError("band boxes are a list", expected="1 to 10,000 boxes",
                         found=type(rois).__name__)  # fmt: skip
    lines = ["\t".join(ROI_COLUMNS)]
    for n, box in enumerate(rois, start=1):
        if not isinstance(box, dict):
            raise InputError(f"box {n} is not an object", found=type(box).__name__)
        cells = []
        for column in ROI_COLUMNS:
            value = box.get(column)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"box {n}: '{column}' must be a whole number",
                                 location=Location(row=n, column=column), found=repr(value)[:40])  # fmt: skip
            cells.append(str(value))
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def _link_reader(kind: str, field: str) -> tuple[str, Callable[[Path], Any]] | None:
    """(what the file is, its reader) for a file linked to an input of ``kind`` as
    ``field``; None where no reader applies."""
    if kind == "plate" and field == "layout":
        from trkres.assays.plates.wells import read_plate_map

        return "plate map", read_plate_map
    if kind in ("western", "western_blot"):
        if field == "layout":
            from trkres.assays.western.layout import read_layout

            return "lane layout", read_layout
        if field == "loading_control":
            from trkres.assays.western.io import read_blot

            return "loading-control image", read_blot
        if field == "rois":
            from trkres.assays.western.bands import read_rois

            return "band boxes", read_rois
    if kind == "sanger":
        from trkres.assays.sanger.io import read_reference, read_trace

        if field == "control":
            return "control trace", read_trace
        if field == "reference":
            return "reference", read_reference
    return None


def check_links(store: Store, definition: dict[str, Any]) -> dict[str, Any]:
    """Read every file linked to an input with the reader of its role (plate map, lane
    layout, loading-control image, band boxes, control trace, reference), and each input's
    file in its chosen format: a study that saves is one whose files all read. Errors name
    the input and the user's file."""
    from trkres.study.validate import check_input, read_named

    for item in definition["inputs"]:
        if item.get("format"):
            main = store.file(item["file"])
            check_input(store.blob_path(main.sha256), item["kind"], format=item["format"],
                        display_name=main.name)  # fmt: skip
        for field in FILE_FIELDS:
            fid = item.get(field)
            if not fid:
                continue
            reader = _link_reader(item["kind"], field)
            if reader is None:
                raise InputError(
                    f"input '{item['id']}' ({item['kind']}) takes no '{field}'",
                    expected="layout for plates and westerns; loading_control and rois for "
                    "westerns; control and reference for Sanger traces",
                    found=field,
                )
            file = store.file(fid)
            try:
                read_named(store.blob_path(file.sha256), file.name, reader[1])
            except TrkresError as exc:
                exc.message = f"input '{item['id']}', {field} ({reader[0]}): {exc.message}"
                raise
    return definition


def check_overlaps(boxes: Any) -> None:
    """Refuse band boxes of one lane that share pixels: their signal would be counted twice
    in the lane's total (seen: a box moved 5 px onto its neighbour raised the lane by 18%).
    ``boxes``: records or a DataFrame with lane, band, x0, x1, y0, y1 (x1, y1 exclusive).

    Each box is compared, in one array operation, with the boxes after it (by top edge)
    that start above its bottom edge: a pair-by-pair loop took 33 s of the server's CPU
    for 10,000 boxes side by side in one lane."""
    import numpy as np

    records = boxes.to_dict(orient="records") if hasattr(boxes, "to_dict") else list(boxes)
    by_lane: dict[Any, list[dict[str, Any]]] = {}
    for box in records:
        by_lane.setdefault(box["lane"], []).append(box)
    for lane, items in by_lane.items():
        items = sorted(items, key=lambda b: (b["y0"], b["band"]))
        x0, x1, y0, y1 = (np.array([b[k] for b in items], dtype=float)
                          for k in ("x0", "x1", "y0", "y1"))  # fmt: skip
        for i in range(len(items)):
            end = int(np.searchsorted(y0, y1[i], side="left"))  # later boxes starting above it
            if end <= i + 1:
                continue
            hits = np.flatnonzero((x0[i] < x1[i + 1 : end]) & (x0[i + 1 : end] < x1[i]))
            if hits.size:
                a, b = items[i], items[i + 1 + int(hits[0])]
                raise InputError(
                    f"lane {lane}: band boxes {a['band']} and {b['band']} overlap",
                    expected="boxes of one lane that share no pixel (each pixel counted once)",
                    found=f"rows {max(a['y0'], b['y0'])}–{min(a['y1'], b['y1']) - 1} in both",
                    hint="move or shrink one of them",
                )
