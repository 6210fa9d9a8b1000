"""Study manifests: valid ones load, bad ones fail precisely and write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import EXAMPLE, write_study
from trkres.errors import ManifestError
from trkres.study.manifest import InputKind, load_study
from trkres.study.runner import run_study

MAF = "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\nNTRK1\tS1\tp.G595R\n"


def test_example_manifest_loads() -> None:
    study = load_study(EXAMPLE)
    assert InputKind.mutations in study.kinds
    assert all(study.path_of(i).is_file() for i in study.manifest.inputs)
    assert {i.provenance for i in study.manifest.inputs} == {"illustrative", "public_dataset"}
    assert all(i.source for i in study.manifest.inputs)  # every file says where it came from


def test_manifest_file_path_is_accepted() -> None:
    assert load_study(EXAMPLE / "study.yaml").name == load_study(EXAMPLE).name


def test_format_inferred_from_suffix(tmp_path: Path) -> None:
    folder = write_study(
        tmp_path / "s",
        "name: s\ninputs:\n  - {kind: mutations, path: a.vcf.gz}\n  - {kind: mutations, path: b.maf}\n",
        {"a.vcf.gz": "x", "b.maf": MAF},
    )
    study = load_study(folder)
    assert [i.resolved_format() for i in study.manifest.inputs] == ["vcf", "maf"]


BAD = [
    (
        "missing file",
        "name: s\ninputs:\n  - kind: mutations\n    path: nothere.maf\n",
        {},
        4,
        r"input file not found: nothere\.maf",
    ),
    (
        "unknown kind",
        "name: s\ninputs:\n  - kind: mutationz\n    path: m.maf\n",
        {"m.maf": MAF},
        3,
        r"inputs\.0\.kind.*mutations",
    ),
    (
        "wrong type",
        "name: s\ninputs:\n  - kind: mutations\n    path: [m.maf]\n",
        {"m.maf": MAF},
        4,
        r"inputs\.0\.path",
    ),
    (
        "escaping path",
        "name: s\ninputs:\n  - kind: mutations\n    path: ../outside.maf\n",
        {},
        4,
        r"may not leave the study folder",
    ),
    (
        "absolute path",
        "name: s\ninputs:\n  - kind: mutations\n    path: /etc/passwd\n",
        {},
        4,
        r"relative to the study folder",
    ),
    (
        "unknown key",
        "name: s\ninputs:\n  - kind: mutations\n    path: m.maf\n    colour: red\n",
        {"m.maf": MAF},
        5,
        r"colour",
    ),
    (
        "plate without layout",
        "name: s\ninputs:\n  - kind: plate\n    path: p.txt\n",
        {"p.txt": "x"},
        3,
        r"needs a 'layout'",
    ),
    (
        "bad format for kind",
        "name: s\ninputs:\n  - {kind: mutations, path: m.maf, format: bam}\n",
        {"m.maf": MAF},
        3,
        r"format 'bam' is not one of maf, vcf",
    ),
    (
        "no inputs",
        "name: s\ninputs: []\n",
        {},
        2,
        r"inputs",
    ),
    (
        "duplicate key",
        "name: s\nname: t\ninputs: []\n",
        {},
        2,
        r"duplicate key 'name'",
    ),
    (
        "yaml syntax",
        "name: s\ninputs:\n  - {kind: mutations, path: m.maf\n",
        {"m.maf": MAF},
        4,
        r"invalid YAML",
    ),
    (
        "options for an analysis that takes none",
        "name: s\ninputs:\n  - {kind: mutations, path: m.maf}\noptions:\n  nosuch: {a: 1}\n",
        {"m.maf": MAF},
        5,
        r"options given for 'nosuch'",
    ),
]


@pytest.mark.parametrize(
    ("label", "manifest", "files", "line", "pattern"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_manifest_fails_precisely_and_writes_nothing(
    tmp_path: Path, label: str, manifest: str, files: dict[str, str], line: int, pattern: str
) -> None:
    folder = write_study(tmp_path / "study", manifest, files)
    out = tmp_path / "out"
    with pytest.raises(ManifestError, match=pattern) as info:
        run_study(folder, out)
    loc = info.value.location
    assert loc is not None and loc.line == line, str(info.value)
    assert Path(str(loc.file)).name == "study.yaml"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]  # no temp folders left


def test_symlink_escaping_the_study_is_rejected(tmp_path: Path) -> None:
    outside = tmp_path / "secret.maf"
    outside.write_text(MAF)
    folder = write_study(
        tmp_path / "study", "name: s\ninputs:\n  - {kind: mutations, path: m.maf}\n"
    )
    (folder / "m.maf").symlink_to(outside)
    with pytest.raises(ManifestError, match="leaves the study folder"):
        load_study(folder)


def test_a_path_longer_than_the_system_allows_is_a_manifest_error(tmp_path: Path) -> None:
    """It was an OSError traceback ('This is a bug in trkres'); now the line of study.yaml."""
    long = "m" * 300 + ".maf"
    folder = write_study(
        tmp_path / "s", f"name: s\ninputs:\n  - {{kind: mutations, path: {long}}}\n"
    )
    with pytest.raises(ManifestError, match="not a usable file name") as info:
        load_study(folder)
    err = info.value
    assert err.location is not None and err.location.line == 3
    assert "too long" in (err.found or "") and str(tmp_path) not in (err.found or "")


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no study manifest"):
        load_study(tmp_path)


def test_duplicate_input_names(tmp_path: Path) -> None:
    folder = write_study(
        tmp_path / "s",
        "name: s\ninputs:\n  - {kind: mutations, path: a/m.maf}\n  - {kind: mutations, path: b/m.maf}\n",
        {"a/m.maf": MAF, "b/m.maf": MAF},
    )
    with pytest.raises(ManifestError, match="two inputs are named 'm'"):
        load_study(folder)
