"""Study folders: a ``study.yaml`` manifest naming inputs by kind.

A study is a folder. Its manifest lists the input files (paths relative to the
folder, which they may not leave), what kind of data each holds, where it came
from, and per-analysis options. Validation is strict: unknown keys or kinds,
wrong types, missing files and paths escaping the folder are errors that point
at the line and column of ``study.yaml``.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from trkres.errors import ManifestError
from trkres.yamlio import YamlDocument, read_yaml, validation_error

MANIFEST_NAME = "study.yaml"


class InputKind(StrEnum):
    """The kinds of input a study can hold (analyses declare which they need)."""

    mutations = "mutations"  # MAF or VCF
    structural_variants = "structural_variants"  # fusions / SVs
    copy_number = "copy_number"
    clinical_samples = "clinical_samples"
    treatment_timeline = "treatment_timeline"
    plate = "plate"  # a plate-reader export (with a plate layout)
    dose_response = "dose_response"  # long or CurveCurator-wide tables
    combination = "combination"  # drug-combination matrices
    ddpcr = "ddpcr"  # QuantaSoft / QX Manager results exports
    droplet_amplitudes = "droplet_amplitudes"
    cfdna = "cfdna"  # serial cfDNA sequencing results
    western = "western"  # a blot image (with its loading control and lane layout)
    western_blot = "western_blot"  # the earlier name of western, still read
    sanger = "sanger"  # a Sanger trace (ABIF or SCF), with its control trace and/or reference
    tumour_volumes = "tumour_volumes"  # in vivo caliper volumes (xenograft, PDX)
    xenograft = "xenograft"  # the earlier name of tumour_volumes, still read
    knowledge = "knowledge"  # a lab's extra knowledge YAML
    evolution_scenario = "evolution_scenario"  # a scenario of the evolution simulator


#: Formats each kind accepts; ``None`` means the reader decides.
KIND_FORMATS: dict[InputKind, tuple[str, ...]] = {
    InputKind.mutations: ("maf", "vcf"),
    InputKind.structural_variants: ("cbioportal_sv", "cbioportal_fusions", "fusion_table"),
    InputKind.copy_number: ("gistic", "long"),
    InputKind.clinical_samples: ("tsv",),
    InputKind.treatment_timeline: ("cbioportal_timeline",),
    InputKind.plate: ("grid", "gen5", "softmax", "envision", "gdsc"),
    InputKind.dose_response: ("long", "curvecurator"),
    InputKind.combination: ("synergyfinder",),
    InputKind.ddpcr: ("quantasoft",),
    InputKind.droplet_amplitudes: ("quantasoft_amplitude",),
    InputKind.cfdna: ("long",),
    InputKind.western: ("image",),
    InputKind.western_blot: ("image",),
    InputKind.sanger: ("abi", "scf"),
    InputKind.tumour_volumes: ("long",),
    InputKind.xenograft: ("long",),
    InputKind.knowledge: ("yaml",),
    InputKind.evolution_scenario: ("yaml",),
}

_SUFFIX_FORMATS: dict[InputKind, dict[str, str]] = {
    InputKind.mutations: {".maf": "maf", ".vcf": "vcf", ".bcf": "vcf"},
    InputKind.knowledge: {".yaml": "yaml", ".yml": "yaml"},
    InputKind.evolution_scenario: {".yaml": "yaml", ".yml": "yaml"},
    InputKind.sanger: {".ab1": "abi", ".abi": "abi", ".scf": "scf"},
}

Provenance = Literal["measured", "published", "public_dataset", "illustrative"]


class StudyInput(BaseModel):
    """One input file of a study."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    kind: InputKind
    path: str = Field(min_length=1, description="relative to the study folder")
    format: str | None = None
    layout: str | None = Field(
        default=None, description="plate layout file (plates), lane layout (westerns)"
    )
    loading_control: str | None = Field(
        default=None, description="image of the loading control of the same lanes (westerns)"
    )
    rois: str | None = Field(
        default=None,
        description="band boxes (lane, band, x0, x1, y0, y1) replacing the detection (westerns)",
    )
    target: str | None = Field(default=None, description="protein on the image (westerns)")
    blot: str | None = Field(default=None, description="replicate blot id (westerns)")
    control: str | None = Field(
        default=None, description="control trace of the same amplicon (sanger)"
    )
    reference: str | None = Field(
        default=None, description="reference FASTA/GenBank of the amplicon (sanger)"
    )
    expect: str | None = Field(
        default=None, description="the mutation asked about, e.g. 'NTRK1 G595R' (sanger)"
    )
    provenance: Provenance = "measured"
    source: str | None = Field(default=None, description="where the data came from, licence")
    description: str | None = None

    @field_validator("path", "layout", "loading_control", "rois", "control", "reference")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is None:
            return value
        bad = next((c for c in value if ord(c) < 32 or ord(c) == 127), None)
        if bad is not None:
            raise ValueError(
                f"paths may not hold control characters (found U+{ord(bad):04X} at "
                f"character {value.index(bad) + 1})"
            )
        p = PurePosixPath(value.replace("\\", "/"))
        if p.is_absolute() or (len(value) > 1 and value[1] == ":"):
            raise ValueError("paths must be relative to the study folder")
        if ".." in p.parts:
            raise ValueError("paths may not leave the study folder ('..')")
        return value

    @model_validator(mode="after")
    def _format_and_layout(self) -> StudyInput:
        allowed = KIND_FORMATS[self.kind]
        if self.format is not None and self.format not in allowed:
            raise ValueError(
                f"format '{self.format}' is not one of {', '.join(allowed)} for kind '{self.kind}'"
            )
        western = self.kind in (InputKind.western, InputKind.western_blot)
        if self.layout is not None and self.kind is not InputKind.plate and not western:
            raise ValueError("'layout' applies to inputs of kind 'plate' or 'western' only")
        for name in ("loading_control", "rois", "target", "blot"):
            if getattr(self, name) is not None and not western:
                raise ValueError(f"'{name}' applies to inputs of kind 'western' only")
        for name in ("control", "reference", "expect"):
            if getattr(self, name) is not None and self.kind is not InputKind.sanger:
                raise ValueError(f"'{name}' applies to inputs of kind 'sanger' only")
        if self.kind is InputKind.plate and self.layout is None and self.format != "gdsc":
            raise ValueError(
                "a plate needs a 'layout' (the plate map file; GDSC well tables carry their own)"
            )
        return self

    @property
    def name(self) -> str:
        """The input's id, or its file stem."""
        if self.id:
            return self.id
        stem = PurePosixPath(self.path).name
        for suffix in (".gz", ".txt", ".tsv", ".csv", ".maf", ".vcf", ".yaml", ".yml"):
            stem = stem.removesuffix(suffix)
        return stem

    def resolved_format(self) -> str:
        """The explicit ``format``, else one inferred from the suffix, else the kind's default."""
        if self.format:
            return self.format
        suffixes = _SUFFIX_FORMATS.get(self.kind, {})
        # The last suffix that names a format; a compression suffix says nothing
        # of the format (x.maf.gz is a MAF, x.vcf.gz a VCF).
        for suffix in reversed(PurePosixPath(self.path).suffixes):
            if suffix.lower() in (".gz", ".bgz"):
                continue
            if suffix.lower() in suffixes:
                return suffixes[suffix.lower()]
            break
        return KIND_FORMATS[self.kind][0]


class _DuplicateName(ValueError):
    """Two inputs share a name (``index``: the second), located by :func:`load_study`."""

    def __init__(self, name: str, index: int, first: str | None = None) -> None:
        if first is None or first == name:
            super().__init__(f"two inputs are named '{name}'; give one an 'id'")
        else:  # figures and tables are files named by input: one file on macOS and Windows
            super().__init__(f"inputs '{first}' and '{name}' differ only in case (their "
                             "output files would be one file on macOS and Windows); give one "
                             "another 'id'")  # fmt: skip
        self.name = name
        self.index = index


class Manifest(BaseModel):
    """The content of ``study.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str | None = None
    inputs: list[StudyInput] = Field(min_length=1)
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip():  # a report titled with blanks names nothing
            raise ValueError("the study needs a name (it titles the report), not blanks")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Manifest:
        seen: dict[str, str] = {}
        for index, item in enumerate(self.inputs):
            key = item.name.casefold()
            if key in seen:
                raise _DuplicateName(item.name, index, seen[key])
            seen[key] = item.name
        return self


class Study:
    """A validated study: its folder, manifest and resolved input paths."""

    def __init__(self, folder: Path, manifest: Manifest, document: YamlDocument) -> None:
        self.folder = folder
        self.manifest = manifest
        self.document = document

    @property
    def name(self) -> str:
        return self.manifest.name

    def path_of(self, item: StudyInput) -> Path:
        return self.folder / item.path

    def inputs_of(self, kind: InputKind) -> list[StudyInput]:
        return [i for i in self.manifest.inputs if i.kind is kind]

    @property
    def kinds(self) -> frozenset[InputKind]:
        return frozenset(i.kind for i in self.manifest.inputs)

    def locate_input(self, index: int, field: str | None = None) -> Any:
        loc: tuple[str | int, ...] = ("inputs", index) + ((field,) if field else ())
        return self.document.locate(loc)

    def locate_option(self, *loc: str | int) -> Any:
        return self.document.locate(("options", *loc))


def load_study(folder: Path) -> Study:
    """Read and validate ``folder/study.yaml`` and check every input file.

    ``folder`` may also be the manifest file itself. Raises
    :class:`ManifestError` with the line and column of the offending entry.
    """
    folder = Path(folder)
    manifest_path = folder if folder.is_file() else folder / MANIFEST_NAME
    folder = manifest_path.parent
    if not folder.is_dir():
        raise ManifestError(
            "study folder not found",
            location=None,
            expected="a folder holding study.yaml",
            found=str(folder),
        )
    if not manifest_path.is_file():
        raise ManifestError(
            "no study manifest in this folder",
            expected=f"a file {manifest_path}",
            found="none",
            hint="see examples/ntrk_resistance/study.yaml for a template",
        )
    doc = read_yaml(manifest_path, ManifestError)
    if not isinstance(doc.data, dict):
        raise ManifestError(
            "the manifest must be a mapping",
            location=doc.locate(()),
            expected="keys name, description, inputs, options",
            found=type(doc.data).__name__,
        )
    try:
        manifest = Manifest.model_validate(doc.data)
    except ValidationError as exc:
        duplicate = (exc.errors()[0].get("ctx") or {}).get("error")
        if isinstance(duplicate, _DuplicateName):  # at the second input, not the document
            item = doc.data["inputs"][duplicate.index]
            raise ManifestError(
                f"invalid study manifest: {duplicate}",
                location=doc.locate(("inputs", duplicate.index, "id" if "id" in item else "path")),
                expected="a different id for each input",
                found=duplicate.name,
            ) from None
        raise validation_error(exc, doc, ManifestError, "study manifest") from None
    study = Study(folder.resolve(), manifest, doc)
    for index, item in enumerate(manifest.inputs):
        _check_file(study, index, "path", item.path)
        if item.layout is not None:
            _check_file(study, index, "layout", item.layout)
        if item.loading_control is not None:
            _check_file(study, index, "loading_control", item.loading_control)
        if item.rois is not None:
            _check_file(study, index, "rois", item.rois)
        for name in ("control", "reference"):
            if getattr(item, name) is not None:
                _check_file(study, index, name, getattr(item, name))
    _check_repeated_files(study)
    return study


#: Earlier kind names, read as the kind they became (their inputs are analysed together).
_SAME_KIND = {
    InputKind.western_blot: InputKind.western,
    InputKind.xenograft: InputKind.tumour_volumes,
}
#: What else an input says about how its file is analysed: one trace asked about two
#: mutations (``expect``) is two analyses, not one file counted twice. (A replicate id,
#: ``blot``, is not: one image as two replicate blots would count twice.)
_ANALYSIS_FIELDS = ("layout", "loading_control", "rois", "target", "control", "reference",
                    "expect")  # fmt: skip


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_repeated_files(study: Study) -> None:
    """Refuse one file given twice for one kind (the same path, or identical contents by
    SHA-256): its rows would count twice (a dose-response curve fitted to every point
    twice reports a confidence interval narrower than its data support). Only files of
    one size are hashed."""
    groups: dict[tuple[object, ...], list[int]] = {}
    for index, item in enumerate(study.manifest.inputs):
        path = study.path_of(item).resolve()
        kind = _SAME_KIND.get(item.kind, item.kind)
        group = (kind, *(getattr(item, f) for f in _ANALYSIS_FIELDS), path.stat().st_size)
        groups.setdefault(group, []).append(index)
    for indices in groups.values():
        if len(indices) < 2:
            continue
        seen: dict[Path | str, int] = {}
        for index in indices:
            item = study.manifest.inputs[index]
            path = study.path_of(item).resolve()
            digest = sha256_of(path)
            # A droplet file's well is in its name (x_A05_Amplitude.csv): two empty wells'
            # files are alike byte for byte and still two wells. Only the same file counts.
            named = item.kind is InputKind.droplet_amplitudes
            for same in (path,) if named else (path, digest):
                first = seen.get(same)
                if first is not None:
                    other = study.manifest.inputs[first]
                    how = "the same file as" if same == path else "a copy of"
                    raise ManifestError(
                        f"input '{item.name}' ({item.path}) is {how} input '{other.name}' "
                        f"({other.path}): its rows would count twice",
                        location=study.locate_input(index, "path"),
                        expected=f"each {item.kind.value} file once",
                        found=f"{item.path} (SHA-256 {digest[:12]}…)",
                    )
            seen[path] = seen[digest] = index


def _check_file(study: Study, index: int, field: str, relative: str) -> None:
    try:  # a name the system refuses (longer than it allows, a NUL byte) is no file either
        path = (study.folder / relative).resolve()
        is_file, exists, is_dir = path.is_file(), path.exists(), path.is_dir()
    except (OSError, ValueError) as exc:
        raise ManifestError(
            f"input {field} is not a usable file name",
            location=study.locate_input(index, field),
            expected="a file name the file system accepts",
            found=f"{relative[:80]}{'...' if len(relative) > 80 else ''} "
            f"({getattr(exc, 'strerror', None) or exc})",
        ) from None
    if not path.is_relative_to(study.folder):
        raise ManifestError(
            f"input {field} leaves the study folder",
            location=study.locate_input(index, field),
            expected=f"a file inside {study.folder}",
            found=f"{relative} -> {path}",
        )
    if not is_file:
        raise ManifestError(
            f"input file not found: {relative}",
            location=study.locate_input(index, field),
            expected=f"an existing file at {study.folder / relative}",
            found="nothing there"
            if not exists
            else ("a folder" if is_dir else "not a regular file (a pipe, socket or device)"),
        )
