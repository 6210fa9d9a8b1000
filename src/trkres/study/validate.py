"""One uploaded file, checked at once through the readers the analyses use.

The web app (issue 17) stores an upload under its SHA-256 and asks
:func:`check_input` whether it reads as the kind the user said. The file is read
by the same reader function the study section for that kind calls; nothing is
fitted or simulated. Errors are the reader's own :class:`~trkres.errors.TrkresError`
with the user's file name (``display_name``) in place of the server path; anything
else a reader lets escape becomes an :class:`~trkres.errors.InputError` naming the
file, never a traceback.

Readers decide some things by the file's suffix (CSV or TSV, Parquet, Excel): a
file stored without its suffix is read through a temporary link named as the
user named it.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, TypeVar

import pandas as pd

from trkres.errors import InputError, Location, TrkresError
from trkres.study.manifest import KIND_FORMATS, InputKind, StudyInput

T = TypeVar("T")

__all__ = ["KIND_SUFFIXES", "InputCheck", "check_input", "sniff_ok"]


@dataclass(frozen=True)
class InputCheck:
    """What :func:`check_input` read from one file."""

    kind: str  # InputKind value
    format: str  # the format used (given or inferred as the manifest does)
    rows: int | None  # data rows read (None for images, traces, YAML)
    columns: list[str]  # column names read ([] where not a table)
    summary: str  # one line a scientist reads
    notes: list[str]  # row issues / warnings the reader reported


# ----------------------------------------------------------------- suffixes, sniffing


def _with_gz(*suffixes: str) -> tuple[str, ...]:
    return (*suffixes, *(s + ".gz" for s in suffixes))


_GENOMIC_TEXT = _with_gz(".txt", ".tsv")
_TABLE = (*_with_gz(".csv", ".tsv", ".txt"), ".parquet", ".xlsx", ".xlsm")
_YAML = (".yaml", ".yml")
_IMAGES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")

#: The file suffixes each kind accepts (lowercase; ``.gz`` where the reader unpacks gzip).
KIND_SUFFIXES: dict[str, tuple[str, ...]] = {
    InputKind.mutations.value: (*_with_gz(".maf", ".txt", ".tsv", ".vcf"), ".vcf.bgz", ".bcf"),
    InputKind.structural_variants.value: _GENOMIC_TEXT,
    InputKind.copy_number.value: _GENOMIC_TEXT,
    InputKind.clinical_samples.value: _GENOMIC_TEXT,
    InputKind.treatment_timeline.value: _GENOMIC_TEXT,
    InputKind.plate.value: (*_with_gz(".csv", ".tsv", ".txt"), ".xlsx", ".xlsm", ".parquet"),
    InputKind.dose_response.value: _TABLE,
    InputKind.combination.value: (*_with_gz(".csv", ".tsv", ".txt"), ".parquet"),
    InputKind.ddpcr.value: _with_gz(".csv"),
    InputKind.droplet_amplitudes.value: (".csv",),
    InputKind.cfdna.value: _GENOMIC_TEXT,
    InputKind.western.value: _IMAGES,
    InputKind.western_blot.value: _IMAGES,
    InputKind.sanger.value: (".ab1", ".abi", ".scf"),
    InputKind.tumour_volumes.value: _TABLE,
    InputKind.xenograft.value: _TABLE,
    InputKind.knowledge.value: _YAML,
    InputKind.evolution_scenario.value: _YAML,
}

_BINARY_KINDS = {
    InputKind.western.value: "a TIFF, PNG or JPEG image",
    InputKind.western_blot.value: "a TIFF, PNG or JPEG image",
    InputKind.sanger.value: "an ABIF trace (.ab1) starting 'ABIF' or an SCF trace starting '.scf'",
}
_IMAGE_MAGIC = (
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"MM\x00+",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
)
#: Kinds whose readers also take Parquet or Excel (binary containers).
_CONTAINER_MAGIC = {
    InputKind.plate.value: (b"PAR1", b"PK\x03\x04"),
    InputKind.dose_response.value: (b"PAR1", b"PK\x03\x04"),
    InputKind.combination.value: (b"PAR1",),
    InputKind.tumour_volumes.value: (b"PAR1", b"PK\x03\x04"),
    InputKind.xenograft.value: (b"PAR1", b"PK\x03\x04"),
    InputKind.mutations.value: (b"BCF",),
}
_GZIP_MAGIC = b"\x1f\x8b"


def sniff_ok(head: bytes, kind: InputKind | str) -> str | None:
    """A cheap check of a file's first bytes against ``kind``: an error message, or None.

    Images must start with a TIFF, PNG or JPEG signature, traces with ``ABIF`` or ``.scf``.
    Text kinds may be gzip (where their reader unpacks it) and must not look
    binary: no NUL byte in the first 8 kB (UTF-16 text with its byte-order mark
    is text). Parquet / Excel / BCF signatures pass for the kinds that read them.
    """
    name = _kind_name(kind)
    if not head:
        return "the file is empty"
    if name in _BINARY_KINDS:
        ok = (
            head[:4] in (b"ABIF", b".scf")
            if name == InputKind.sanger.value
            else any(head.startswith(m) for m in _IMAGE_MAGIC)
        )
        if ok:
            return None
        return f"not {_BINARY_KINDS[name]}: the file starts {bytes(head[:8])!r}"
    if any(head.startswith(m) for m in _CONTAINER_MAGIC.get(name, ())):
        return None
    if head.startswith(_GZIP_MAGIC):
        if name in _GZIP_KINDS:
            return None
        return f"a gzip file: a {name} file is read as plain text (unpack it first)"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return None  # UTF-16 with its byte-order mark (SoftMax Pro, some instruments)
    if b"\x00" in head[:8192]:
        return f"binary content (NUL bytes): a {name} file is text"
    return None


#: Text kinds whose readers unpack gzip.
_GZIP_KINDS = {
    k for k, suffixes in KIND_SUFFIXES.items() if any(s.endswith(".gz") for s in suffixes)
}


def _kind_name(kind: InputKind | str) -> str:
    try:
        return InputKind(kind).value
    except ValueError:
        raise InputError(
            "unknown input kind",
            expected=", ".join(k.value for k in InputKind),
            found=repr(kind),
        ) from None


# ----------------------------------------------------------------------- the check

#: Most notes listed (a file may report every row).
MAX_NOTES = 200


def check_input(
    path: Path,
    kind: InputKind | str,
    *,
    format: str | None = None,
    display_name: str | None = None,
) -> InputCheck:
    """Read ``path`` as ``kind`` with the reader the study uses; say what was read.

    ``format`` must be one the kind allows (``KIND_FORMATS``); when omitted it is
    inferred from the file name as :meth:`StudyInput.resolved_format` does.
    ``display_name`` (the user's file name) replaces the path in every error and
    note. Raises the reader's :class:`TrkresError`; anything else is an
    :class:`InputError` naming the file.
    """
    path = Path(path)
    kind_value = _kind_name(kind)
    input_kind = InputKind(kind_value)
    shown = display_name if display_name else str(path)
    allowed = KIND_FORMATS[input_kind]
    if format is not None and format not in allowed:
        raise InputError(
            f"format not allowed for kind '{kind_value}'",
            location=Location(file=shown),
            expected=", ".join(allowed),
            found=repr(format),
        )
    fmt = StudyInput.model_construct(
        kind=input_kind, path=PurePath(shown).name or "input", format=format
    ).resolved_format()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(
            "cannot read the file", location=Location(file=shown), found=exc.strerror or str(exc)
        ) from None
    if not path.is_file():
        raise InputError("not a file", location=Location(file=shown), found="a folder")
    if size == 0:
        raise InputError(
            "the file is empty",
            location=Location(file=shown, line=1),
            expected=f"a {kind_value.replace('_', ' ')} file ({', '.join(allowed)})",
            found="0 bytes",
        )
    reader = _READERS[input_kind]
    with _named(path, display_name) as (read_path, hidden):
        labels = [str(read_path), str(path), str(path.resolve())]
        if hidden:  # the temporary folder of the link says nothing to the user
            labels.append(str(read_path.parent))
        try:
            rows, columns, summary, notes = reader(read_path, fmt)
        except TrkresError as exc:
            raise _relabel(exc, labels, shown) from None
        except RecursionError:
            raise InputError(
                "the file is nested too deeply to read", location=Location(file=shown)
            ) from None
        except Exception as exc:  # a reader's slip must reach the user as a located error
            found = _scrub(f"{type(exc).__name__}: {exc}", labels, shown)
            raise InputError(
                f"cannot read this file as {kind_value.replace('_', ' ')} ({fmt})",
                location=Location(file=shown),
                expected=f"a readable {fmt} file",
                found=found.strip().splitlines()[0][:300] if found.strip() else type(exc).__name__,
            ) from None
    notes = [_scrub(n, labels, shown) for n in notes]
    if len(notes) > MAX_NOTES:
        notes = [*notes[:MAX_NOTES], f"… and {len(notes) - MAX_NOTES} more"]
    return InputCheck(
        kind=kind_value,
        format=fmt,
        rows=rows,
        columns=[str(c) for c in columns],
        summary=_scrub(summary, labels, shown),
        notes=notes,
    )


def read_named(path: Path, display_name: str, reader: Callable[[Path], T]) -> T:
    """``reader(path)`` with the file seen under the user's name (for readers that look at
    the suffix), every error naming ``display_name``, never the server path."""
    with _named(Path(path), display_name) as (read_path, hidden):
        labels = [str(read_path), str(path), str(Path(path).resolve())]
        if hidden:
            labels.append(str(read_path.parent))
        try:
            return reader(read_path)
        except TrkresError as exc:
            raise _relabel(exc, labels, display_name) from None


@contextmanager
def _named(path: Path, display_name: str | None) -> Iterator[tuple[Path, bool]]:
    """``path``, or a temporary link to it named as the user named the file (so that
    readers that look at the suffix or the stem see the user's), and whether a link
    was made. A name the file system refuses (too long, odd bytes) keeps only its
    suffixes; where no link can be made the path is read as it is."""
    name = PurePath(display_name.replace("\\", "/")).name if display_name else ""
    if not name or name in (".", "..") or name == path.name or "\x00" in name:
        yield path, False
        return
    folder = Path(tempfile.mkdtemp(prefix="trkres-check-"))
    try:
        suffixes = "".join(s for s in PurePath(name).suffixes if len(s) <= 10)
        for candidate in (name, "upload" + suffixes):
            link = folder / candidate
            try:
                link.symlink_to(path.resolve())
            except (OSError, ValueError):
                try:
                    shutil.copyfile(path, link)
                except (OSError, ValueError):
                    continue
            yield link, True
            return
        yield path, False
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _scrub(text: str, labels: Sequence[str], shown: str) -> str:
    for label in sorted(set(labels), key=len, reverse=True):
        if label and label not in (".", "/"):
            text = text.replace(label, shown)
    return text


def _relabel(exc: TrkresError, labels: Sequence[str], shown: str) -> TrkresError:
    """The reader's error with the user's file name wherever the path was."""
    location = exc.location
    if location is not None:
        location = dataclasses.replace(location, file=shown)
    else:
        location = Location(file=shown)

    def fix(text: str | None) -> str | None:
        return None if text is None else _scrub(text, labels, shown)

    out = dataclasses.replace(
        exc,
        message=_scrub(exc.message, labels, shown),
        location=location,
        expected=fix(exc.expected),
        found=fix(exc.found),
        hint=fix(exc.hint),
        details=[_scrub(d, labels, shown) for d in exc.details],
    )
    return out


# ----------------------------------------------------------------------- readers

#: (rows, columns, summary, notes) of one file.
Read = tuple[int | None, list[str], str, list[str]]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _issue_notes(issues: Sequence[Any]) -> list[str]:
    return [str(i) for i in issues]


def _frame_notes(issues: pd.DataFrame | None) -> list[str]:
    """One note per row of an issues table (file, line, column, expected, found, action)."""
    if issues is None or not len(issues):
        return []
    out = []
    for rec in issues.head(MAX_NOTES).to_dict("records"):
        where = [str(rec.get("file", ""))]
        if pd.notna(rec.get("line")) and str(rec.get("line")) != "":
            where.append(f"line {rec['line']}")
        if rec.get("column"):
            where.append(f"column {rec['column']}")
        out.append(
            f"{', '.join(w for w in where if w)}: expected {rec.get('expected', '')}, "
            f"found {rec.get('found', '')} ({rec.get('action', '')})"
        )
    if len(issues) > MAX_NOTES:
        out.append(f"… and {len(issues) - MAX_NOTES} more rows left out")
    return out


def _knowledge() -> Any:
    from trkres.knowledge import load_knowledge

    return load_knowledge()


def _genomic(parsed: Any, what: str) -> Read:
    alterations = parsed.alterations
    samples = parsed.sample_names()
    genes = alterations["gene"].nunique() if "gene" in alterations.columns else 0
    summary = (
        f"{_plural(parsed.rows_in, 'row')}: {_plural(len(alterations), what)} "
        f"in {_plural(len(samples), 'sample')}, {_plural(int(genes), 'gene')}"
    )
    return parsed.rows_in, list(parsed.table.column_names), summary, _issue_notes(parsed.issues)


def _mutations(path: Path, fmt: str) -> Read:
    from trkres.genomics.io.maf import read_maf
    from trkres.genomics.io.vcf import read_vcf

    kb = _knowledge()
    parsed = read_maf(path, kb) if fmt == "maf" else read_vcf(path, kb)
    return _genomic(parsed, "alteration")


def _structural_variants(path: Path, fmt: str) -> Read:
    from trkres.genomics.io.fusions import read_fusions

    return _genomic(read_fusions(path, _knowledge()), "fusion")


def _copy_number(path: Path, fmt: str) -> Read:
    from trkres.genomics.io.cna import read_copy_number

    return _genomic(read_copy_number(path, _knowledge()), "copy-number call")


def _table_columns(path: Path, what: str) -> list[str]:
    from trkres.genomics.io.tables import read_delimited

    return list(read_delimited(path, what=what).arrow.column_names)


def _clinical_samples(path: Path, fmt: str) -> Read:
    from trkres.genomics.io.clinical import read_samples

    frame, issues = read_samples(path, _knowledge())
    rows = len(frame) + sum(1 for i in issues if i.action.startswith("dropped"))
    summary = (
        f"{_plural(rows, 'row')}: {_plural(frame['sample_id'].nunique(), 'sample')} of "
        f"{_plural(frame['patient_id'].nunique(), 'patient')}"
    )
    return rows, _table_columns(path, "clinical sample"), summary, _issue_notes(issues)


def _treatment_timeline(path: Path, fmt: str) -> Read:
    from trkres.genomics.io.clinical import read_timeline

    frame, issues = read_timeline(path, _knowledge())
    rows = len(frame) + sum(1 for i in issues if i.action.startswith("dropped"))
    summary = (
        f"{_plural(rows, 'row')}: {_plural(frame['patient_id'].nunique(), 'patient')}, "
        f"{_plural(frame['agent'].nunique(), 'agent')}"
    )
    return rows, _table_columns(path, "timeline"), summary, _issue_notes(issues)


def _cfdna(path: Path, fmt: str) -> Read:
    from trkres.genomics.cfdna import read_cfdna

    frame, issues = read_cfdna(path)
    rows = len(frame) + sum(1 for i in issues if i.action.startswith("dropped"))
    summary = (
        f"{_plural(rows, 'row')}: {_plural(frame['patient_id'].nunique(), 'patient')}, "
        f"{_plural(frame['sample_id'].nunique(), 'sample')}, "
        f"{_plural(frame[['gene', 'alteration']].drop_duplicates().shape[0], 'alteration')}"
    )
    return rows, _table_columns(path, "cfDNA"), summary, _issue_notes(issues)


def _plate(path: Path, fmt: str) -> Read:
    if fmt == "gdsc":
        from trkres.assays.plates.wells import read_gdsc_wells

        values, layout = read_gdsc_wells(path)
        plates = int(values["plate"].nunique())
        lines = int(layout["cell_line"].nunique()) if "cell_line" in layout.columns else 0
        drugs = int(layout["drug1"].dropna().nunique()) if "drug1" in layout.columns else 0
        summary = (
            f"{_plural(len(values), 'well')}: {_plural(plates, 'plate')}, "
            f"{_plural(lines, 'cell line')}, {_plural(drugs, 'drug')}"
        )
        return len(values), _gdsc_columns(path), summary, []
    from trkres.assays.plates.io import read_plate_values

    values = read_plate_values(path, fmt)  # type: ignore[arg-type]
    plates = values["plate"].nunique()
    reads = values["read"].nunique()
    n_rows, n_cols = int(values["row"].max()), int(values["column"].max())
    flagged = int((values["flag"].astype(str) != "").sum()) if "flag" in values else 0
    summary = (
        f"{_plural(len(values), 'well value')}: {_plural(plates, 'plate')}, "
        f"{_plural(reads, 'read')}, {n_rows} x {n_cols} wells"
    )
    notes = (
        [f"{_plural(flagged, 'well')} flagged by the reader (overflow, missed …)"]
        if flagged
        else []
    )
    skipped = values.attrs.get("skipped_lines", ())
    if skipped:  # the grid reader's lines outside its grids: said, not dropped silently
        shown = ", ".join(str(n) for n in skipped[:10]) + (", …" if len(skipped) > 10 else "")
        notes.append(
            f"{path}, {'line' if len(skipped) == 1 else 'lines'} {shown}: "
            "outside every plate grid (a title or note?), not read"
        )
    return len(values), [], summary, notes


def _gdsc_columns(path: Path) -> list[str]:
    """The columns of a GDSC well table (Parquet schema or CSV header)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    return [str(c) for c in pd.read_csv(path, nrows=0).columns]


def _dose_response(path: Path, fmt: str) -> Read:
    from trkres.assays.doseresponse.io import REPLICATE_COLUMNS, check_long, read_curvecurator
    from trkres.assays.doseresponse.options import DoseResponseOptions
    from trkres.tables import read_table

    if fmt == "curvecurator":
        frame = read_table(path)
        raw = [c for c in frame.columns if str(c).startswith("Raw ")]
        with tempfile.TemporaryDirectory(prefix="trkres-cc-") as folder:
            toml = Path(folder) / "doses.toml"
            listed = ", ".join(str(i + 1.0) for i in range(len(raw)))
            toml.write_text(f"[Experiment]\ndoses = [{listed}]\ndose_unit = 'M'\n", "utf-8")
            long = read_curvecurator(path, toml)
        summary = (
            f"{_plural(len(frame), 'row')}: {_plural(long['curve_id'].nunique(), 'curve')} x "
            f"{_plural(len(raw), 'dose')} (Raw columns)"
        )
        said = ["the doses come from CurveCurator's TOML file, checked when the study runs"]
        return len(frame), list(map(str, frame.columns)), summary, said
    frame = read_table(path, typed=True)
    columns = [str(c) for c in frame.columns]
    lower = {c.strip().lower(): c for c in columns}
    notes: list[str] = []
    group: list[str] | None = None
    if "curve_id" not in lower:
        opts = DoseResponseOptions()
        group = [*opts.by, opts.condition]
        if not all(g in columns for g in group):
            skip = {"dose", "response", "unit", *REPLICATE_COLUMNS}
            group = [
                c for c in columns
                if c.strip().lower() not in skip and not pd.api.types.is_numeric_dtype(frame[c])
            ]  # fmt: skip
        if group:
            notes.append(
                f"curves named by {', '.join(group)} (the study's options.dose_response "
                "by/condition choose them)"
            )
    used, issues, _lines, _dose = check_long(frame, path, group=group or None)
    keys = [lower["curve_id"]] if "curve_id" in lower else list(group or [])
    parts = [_plural(int(used[k].nunique() if k in used else frame[k].nunique()), k) for k in keys]
    n_doses = int(used["dose_molar"].nunique())
    rows = len(used) + len(issues)
    summary = f"{_plural(rows, 'row')}: " + " x ".join([*parts, _plural(n_doses, "dose")])
    return rows, columns, summary, notes + _frame_notes(issues)


def _combination(path: Path, fmt: str) -> Read:
    from trkres.assays.synergy.io import read_combinations

    first: TrkresError | None = None
    for response in ("inhibition", "viability", "viability_fraction"):
        try:
            combos = read_combinations(path, response=response)
        except InputError as exc:
            if first is None:
                first = exc
            if "vehicle" not in exc.message:  # not a question of the response scale
                raise
            continue
        notes = []
        if response != "inhibition":
            notes.append(f"responses read as {response} (set options.synergy.response: {response})")
        data, blocks = combos.data, combos.blocks
        drugs = sorted({str(x) for i in range(combos.n_drugs) for x in blocks[f"drug{i + 1}"]})
        summary = (
            f"{_plural(len(data), 'row')}: {_plural(len(blocks), 'block')} of "
            f"{_plural(combos.n_drugs, 'drug')} ({', '.join(drugs)[:120]})"
        )
        return len(data), _raw_columns(path), summary, notes
    assert first is not None
    raise first


def _raw_columns(path: Path) -> list[str]:
    """The header of a combination table as the reader read it (before renaming)."""
    from trkres.assays.plates.io import read_delimited_text, text_suffix

    suffix = text_suffix(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    sep = "," if suffix == ".csv" else "\t"
    return [str(c) for c in read_delimited_text(path, "combination table", sep).columns]


def _ddpcr(path: Path, fmt: str) -> Read:
    from trkres.assays.ddpcr.io import read_ddpcr_export_checked

    wells, dropped = read_ddpcr_export_checked(path)
    rows = len(wells) + len(dropped)
    summary = (
        f"{_plural(rows, 'row')}: {_plural(wells['well'].nunique(), 'well')} x "
        f"{_plural(wells['target'].nunique(), 'target')}, "
        f"{_plural(wells['sample'].nunique(), 'sample')}"
    )
    import csv

    from trkres.textio import read_text

    text = read_text(path, "ddPCR export", latin1_fallback=True)
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    columns = [c.strip().strip('"') for c in next(csv.reader([header]), [])]
    return rows, columns, summary, _frame_notes(dropped)


def _droplet_amplitudes(path: Path, fmt: str) -> Read:
    from trkres.assays.ddpcr.droplets import read_amplitudes

    drops = read_amplitudes(path)
    n = int(drops.amplitude.shape[0])
    summary = (
        f"{_plural(n, 'droplet')} in {_plural(len(drops.wells), 'well')} ({', '.join(drops.wells)})"
    )
    notes = [f"{w}: {note}" for w, note in drops.header_note.items() if note]
    return n, [], summary, notes


def _western(path: Path, fmt: str) -> Read:
    from trkres.assays.western.io import read_blot

    blots = read_blot(path)
    first = blots[0]
    height, width = first.shape
    summary = (
        f"{_plural(len(blots), 'page')}: {width} x {height} px, {first.bit_depth}-bit"
        f"{', lossy' if first.lossy else ''}, {'inverted' if first.inverted else 'not inverted'}"
    )
    channels = [b.channel for b in blots if b.channel]
    if channels:
        summary += f" (channels {', '.join(channels)})"
    notes = [w for b in blots for w in b.warnings]
    return None, [], summary, notes


def _sanger(path: Path, fmt: str) -> Read:
    from trkres.assays.sanger.io import read_trace

    trace = read_trace(path)
    quality = "with base qualities" if trace.has_quality else "without base qualities"
    summary = (
        f"{_plural(len(trace), 'base')} called, {_plural(trace.channels.shape[1], 'sample point')}, "
        f"{quality}"
    )
    if trace.sample:
        summary += f" (sample {trace.sample})"
    return None, [], summary, list(trace.notes)


def _tumour_volumes(path: Path, fmt: str) -> Read:
    from trkres.assays.invivo.io import read_volumes

    read = read_volumes(path)
    volumes = read.volumes
    summary = (
        f"{_plural(read.rows_in, 'row')}: {_plural(volumes['mouse_id'].nunique(), 'mouse', 'mice')}"
        f" in {_plural(volumes['arm'].nunique(), 'arm')}, "
        f"{_plural(volumes['day'].nunique(), 'day')}"
    )
    from trkres.tables import read_table

    columns = [str(c) for c in read_table(path).columns]
    return read.rows_in, columns, summary, [*read.notes, *_frame_notes(read.issues)]


_SHIPPED: list[Any] = []


def _knowledge_file(path: Path, fmt: str) -> Read:
    from trkres.knowledge.loader import (
        SHIPPED_ORIGIN,
        merge,
        read_knowledge_file,
        shipped_data_dir,
    )
    from trkres.knowledge.schema import TOPICS

    loaded = read_knowledge_file(path, origin=path.name)
    if not _SHIPPED:
        _SHIPPED.extend(
            read_knowledge_file(p, SHIPPED_ORIGIN)
            for p in sorted(shipped_data_dir().glob("*.yaml"))
        )
    kb = merge([*_SHIPPED, loaded])  # references to shipped facts are checked as the study does
    counts = {t: len(getattr(loaded.content, t)) for t in TOPICS}
    listed = [f"{n} {t.replace('_', ' ')}" for t, n in counts.items() if n]
    summary = f"{_plural(sum(counts.values()), 'fact')}" + (
        f": {', '.join(listed)}" if listed else ""
    )
    return None, [], summary, [str(n) for n in kb.notices]


def _evolution_scenario(path: Path, fmt: str) -> Read:
    from trkres.models.evolution.scenario import check_scenario, read_scenario

    scenario = read_scenario(path)
    notes = check_scenario(scenario)
    summary = (
        f"scenario '{scenario.name}': {_plural(len(scenario.types), 'cell type')}, "
        f"{_plural(len(scenario.mutations), 'mutation')}, {_plural(len(scenario.regimens), 'regimen')}"
    )
    return None, [], summary, list(notes)


_READERS: dict[InputKind, Callable[[Path, str], Read]] = {
    InputKind.mutations: _mutations,
    InputKind.structural_variants: _structural_variants,
    InputKind.copy_number: _copy_number,
    InputKind.clinical_samples: _clinical_samples,
    InputKind.treatment_timeline: _treatment_timeline,
    InputKind.plate: _plate,
    InputKind.dose_response: _dose_response,
    InputKind.combination: _combination,
    InputKind.ddpcr: _ddpcr,
    InputKind.droplet_amplitudes: _droplet_amplitudes,
    InputKind.cfdna: _cfdna,
    InputKind.western: _western,
    InputKind.western_blot: _western,
    InputKind.sanger: _sanger,
    InputKind.tumour_volumes: _tumour_volumes,
    InputKind.xenograft: _tumour_volumes,
    InputKind.knowledge: _knowledge_file,
    InputKind.evolution_scenario: _evolution_scenario,
}


#: Modules holding the readers used here: a server imports them ahead
#: (:func:`import_readers`), so its first upload does not pay for them (1-3 s).
READER_MODULES = (
    "trkres.assays.ddpcr.droplets",
    "trkres.assays.ddpcr.io",
    "trkres.assays.doseresponse.io",
    "trkres.assays.doseresponse.options",
    "trkres.assays.invivo.io",
    "trkres.assays.plates.io",
    "trkres.assays.plates.wells",
    "trkres.assays.sanger.io",
    "trkres.assays.synergy.io",
    "trkres.assays.western.io",
    "trkres.genomics.cfdna",
    "trkres.genomics.io.clinical",
    "trkres.genomics.io.cna",
    "trkres.genomics.io.fusions",
    "trkres.genomics.io.maf",
    "trkres.genomics.io.tables",
    "trkres.genomics.io.vcf",
    "trkres.knowledge",
    "trkres.knowledge.loader",
    "trkres.knowledge.schema",
    "trkres.models.evolution.scenario",
    "trkres.tables",
    "trkres.textio",
)


def import_readers() -> None:
    """Import every reader module (see :data:`READER_MODULES`)."""
    import importlib

    for name in READER_MODULES:
        importlib.import_module(name)
