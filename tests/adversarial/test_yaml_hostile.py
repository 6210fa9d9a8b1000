"""Adversarial YAML: alias bombs, recursive aliases, NUL bytes, encodings, gzip.

Every place trkres reads YAML (study manifests, knowledge files, plate maps)
goes through :func:`trkres.yamlio.read_yaml`; each is also driven end to end.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trkres.errors import InputError, KnowledgeError, ManifestError, TrkresError
from trkres.yamlio import MAX_EXPANDED_NODES, parse_yaml, read_yaml


def laughs(levels: int, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def expanded(levels: int, width: int = 9) -> int:
    """Nodes the :func:`laughs` document expands to (keys, values, items)."""
    sizes = [1 + width]
    for _ in range(levels):
        sizes.append(1 + width * sizes[-1])
    return 1 + sum(1 + s for s in sizes)


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lol.yaml"
    path.write_text(laughs(9))
    assert len(path.read_bytes()) < 2000
    with pytest.raises(InputError, match="too many values"):
        read_yaml(path)


@settings(max_examples=40)
@given(levels=st.integers(0, 8), width=st.integers(1, 9))
def test_alias_expansion_is_bounded_exactly(levels: int, width: int) -> None:
    text = laughs(levels, width)
    if expanded(levels, width) > MAX_EXPANDED_NODES:
        with pytest.raises(InputError, match="too many values"):
            parse_yaml(text, Path("x.yaml"))
    else:
        doc = parse_yaml(text, Path("x.yaml"))
        assert len(doc.data) == levels + 1


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n", "a: &a [1, [2, *a]]\n"])
def test_recursive_alias_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="recursive"):
        parse_yaml(text, Path("x.yaml"))


def test_nul_byte_binary_and_latin1_give_positions(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a: 1\nb: x\x00y\n")
    with pytest.raises(InputError) as info:
        read_yaml(path)
    assert info.value.location is not None and info.value.location.line == 2
    path.write_bytes(b"a: 1\nname: caf\xe9\n")
    with pytest.raises(InputError) as info:
        read_yaml(path)
    assert (info.value.location.line, info.value.location.column) == (2, 10)  # type: ignore[union-attr]
    assert "0xe9" in str(info.value)


def test_bom_and_gzip_are_read(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_yaml(path).data == {"a": 1}
    gz = tmp_path / "x.yaml.gz"
    gz.write_bytes(gzip.compress(b"a: 2\n"))
    assert read_yaml(gz).data == {"a": 2}
    gz.write_bytes(gzip.compress(b"a: 2\n")[:-6])
    with pytest.raises(InputError, match="gzip"):
        read_yaml(gz)


def test_every_yaml_reader_refuses_the_bomb(tmp_path: Path) -> None:
    from trkres.knowledge.loader import load_knowledge
    from trkres.study.manifest import load_study

    bomb = laughs(9)
    study = tmp_path / "study"
    study.mkdir()
    (study / "study.yaml").write_text("name: x\ninputs: []\n" + bomb)
    with pytest.raises(ManifestError, match="too many values"):
        load_study(study)
    knowledge = tmp_path / "lab.yaml"
    knowledge.write_text(bomb)
    with pytest.raises(KnowledgeError, match="too many values"):
        load_knowledge([knowledge])


def test_plate_map_bomb_is_refused(tmp_path: Path) -> None:
    from trkres.assays.plates.wells import read_plate_map

    path = tmp_path / "map.yaml"
    path.write_text(laughs(9))
    with pytest.raises(TrkresError, match="too many values"):
        read_plate_map(path)


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f"])
def test_control_characters_in_manifest_paths_are_refused(tmp_path: Path, char: str) -> None:
    from trkres.study.manifest import load_study

    study = tmp_path / "study"
    study.mkdir()
    escaped = f"\\x{ord(char):02x}"
    (study / "study.yaml").write_text(
        f'name: x\ninputs:\n  - {{kind: mutations, path: "a{escaped}b.maf"}}\n'
    )
    with pytest.raises(ManifestError, match="control characters") as info:
        load_study(study)
    assert info.value.location is not None and info.value.location.line == 3


@pytest.mark.parametrize(
    ("path", "expected"),
    [("m.maf.gz", "maf"), ("m.vcf.gz", "vcf"), ("m.vcf.bgz", "vcf"), ("m.txt.gz", "maf"),
     ("data_mutations.txt", "maf"), ("x.bcf", "vcf")],
)  # fmt: skip
def test_compressed_inputs_keep_their_format(path: str, expected: str) -> None:
    """A gzipped MAF was taken for a VCF (".gz" mapped to vcf)."""
    from trkres.study.manifest import InputKind, StudyInput

    assert StudyInput(kind=InputKind.mutations, path=path).resolved_format() == expected


def test_overlong_number_is_refused_with_its_position() -> None:
    """int() refuses more than 4,300 digits: a 5,000-digit dose was exit 3."""
    with pytest.raises(InputError, match="number too long") as info:
        parse_yaml("a: 1\nb: " + "9" * 5000 + "\n", Path("x.yaml"))
    assert info.value.location is not None and info.value.location.line == 2
    assert parse_yaml("a: '" + "9" * 5000 + "'\n", Path("x.yaml")).data["a"] == "9" * 5000
