"""Reading ABIF traces (real ones from Biopython's tests, synthetic ones written by
trkres) and references; bad files give InputError with file, expected and found."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from trkres.assays.sanger.caller import mott_trim, peak_heights
from trkres.assays.sanger.io import BASES, read_reference, read_trace, trace_from_bytes
from trkres.assays.sanger.synthetic import make_trace, random_sequence, trace_bytes, write_abif
from trkres.errors import InputError

DATA = Path(__file__).parents[1] / "data" / "sanger"
REAL = {"3730.ab1": 1165, "3100.ab1": 795, "310.ab1": 868}


@pytest.mark.parametrize(("name", "n_bases"), REAL.items())
def test_real_traces_read(name: str, n_bases: int) -> None:
    trace = read_trace(DATA / name)
    assert len(trace) == n_bases == len(trace.peaks) == len(trace.quality)
    assert trace.channels.shape[0] == 4 and trace.channels.shape[1] > trace.peaks.max()
    assert np.all(np.diff(trace.peaks) >= 0)
    assert trace.name == name


@pytest.mark.parametrize("name", ["3730.ab1", "3100.ab1"])
def test_real_channels_are_in_acgt_order(name: str) -> None:
    """After reordering by FWO_, the called base's channel is the tallest at most peaks of
    the trimmed read (a wrong channel order would make this ~25%)."""
    trace = read_trace(DATA / name)
    start, end = mott_trim(trace.quality, 0.01)
    heights = peak_heights(trace)[:, start:end]
    called = np.array([BASES.find(b) for b in trace.bases[start:end]])
    ok = called >= 0
    agree = (np.argmax(heights, axis=0)[ok] == called[ok]).mean()
    assert agree > 0.95


def test_310_without_qualities_is_not_trimmed() -> None:
    trace = read_trace(DATA / "310.ab1")
    assert not trace.has_quality
    assert any("quality" in n for n in trace.notes)
    assert mott_trim(trace.quality) == (0, len(trace))


def test_synthetic_round_trip(tmp_path: Path) -> None:
    trace = make_trace(random_sequence(200, 4), {100: ("T", 0.3)}, seed=4)
    for order in ("GATC", "ACGT", "TCAG"):
        path = write_abif(trace, tmp_path / f"t_{order}.ab1", order=order)
        back = read_trace(path)
        assert back.bases == trace.bases
        assert np.array_equal(back.peaks, trace.peaks)
        assert np.array_equal(back.quality, trace.quality)
        assert np.abs(back.channels - trace.channels).max() <= 0.5  # int16 rounding


@pytest.mark.parametrize("cut", [0, 3, 4, 30, 127, 128, 1000, 20000, 150000, 299000])
def test_truncated_real_trace_is_an_input_error(tmp_path: Path, cut: int) -> None:
    data = (DATA / "3730.ab1").read_bytes()[:cut]
    path = tmp_path / "cut.ab1"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_trace(path)
    err = info.value
    assert err.location is not None and str(err.location.file).endswith("cut.ab1")
    assert err.expected and err.found


def test_not_abif(tmp_path: Path) -> None:
    path = tmp_path / "fake.ab1"
    path.write_bytes(b"This is not really an Abi file")
    with pytest.raises(InputError, match="not an ABIF trace") as info:
        read_trace(path)
    assert "This is" in (info.value.found or "")


@pytest.mark.parametrize("name", ["3100", "310"])
def test_scf_reads_as_its_abif_original(name: str) -> None:
    """The SCF that Staden io_lib's convert_trace wrote from a real ABIF trace gives the
    same channels, calls (Staden's '-' read as N), peaks, qualities and sample name."""
    abif, scf = read_trace(DATA / f"{name}.ab1"), read_trace(DATA / f"{name}.scf")
    assert np.array_equal(scf.channels, abif.channels)
    assert scf.bases == abif.bases and np.array_equal(scf.peaks, abif.peaks)
    assert np.array_equal(scf.quality, abif.quality)
    assert scf.sample == abif.sample and scf.name == f"{name}.scf"
    assert scf.has_quality == abif.has_quality == (name == "3100")


def _scf_version_2(trace_path: Path) -> bytes:
    """An SCF 2.00 file of a trace, laid out as the SCF specification gives version 2:
    samples interleaved A, C, G, T (16-bit, not differenced), 12-byte base records."""
    t = read_trace(trace_path)
    n, b = t.channels.shape[1], len(t)
    samples = t.channels.T.astype(">u2").tobytes()
    record = np.dtype([("peak", ">u4"), ("prob", "u1", 4), ("base", "S1"), ("spare", "u1", 3)])
    rows = np.zeros(b, dtype=record)
    rows["peak"] = t.peaks
    own = np.array(["ACGT".find(c) for c in t.bases])
    rows["prob"][np.arange(b)[own >= 0], own[own >= 0]] = t.quality[own >= 0]
    rows["base"] = np.frombuffer(t.bases.replace("N", "-").encode(), dtype="S1")
    comments = b"NAME=" + t.sample.encode() + b"\n\0"
    samples_at, bases_at = 128, 128 + len(samples)
    comments_at = bases_at + rows.nbytes
    header = struct.pack(">4s8I4s4I", b".scf", n, samples_at, b, 0, 0, bases_at,
                         len(comments), comments_at, b"2.00", 2, 0, 0, 0)  # fmt: skip
    return header.ljust(128, b"\0") + samples + rows.tobytes() + comments


def test_scf_version_2_layout(tmp_path: Path) -> None:
    path = tmp_path / "v2.scf"
    path.write_bytes(_scf_version_2(DATA / "3100.ab1"))
    abif, scf = read_trace(DATA / "3100.ab1"), read_trace(path)
    assert np.array_equal(scf.channels, abif.channels) and scf.bases == abif.bases
    assert np.array_equal(scf.peaks, abif.peaks) and np.array_equal(scf.quality, abif.quality)
    assert scf.sample == abif.sample


@pytest.mark.parametrize("cut", [0, 3, 4, 60, 127, 128, 5000, 80000, 92000])
def test_truncated_scf_is_an_input_error(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.scf"
    path.write_bytes((DATA / "3100.scf").read_bytes()[:cut])
    with pytest.raises(InputError) as info:
        read_trace(path)
    assert info.value.expected and info.value.found
    assert "SCF" in str(info.value) or cut < 4


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [(36, b"9.99", "unknown SCF version"), (40, (3).to_bytes(4, "big"), "sample size"),
     (4, (1).to_bytes(4, "big"), "without a chromatogram")],
)  # fmt: skip
def test_bad_scf_header(tmp_path: Path, offset: int, value: bytes, message: str) -> None:
    data = bytearray((DATA / "3100.scf").read_bytes())
    data[offset : offset + len(value)] = value
    path = tmp_path / "bad.scf"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=message):
        read_trace(path)


def test_scf_name_but_not_scf(tmp_path: Path) -> None:
    path = tmp_path / "trace.scf"
    path.write_bytes(b"ABCD" + bytes(200))
    with pytest.raises(InputError, match="not an SCF trace") as info:
        read_trace(path)
    assert "'.scf'" in (info.value.expected or "")


def test_missing_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such"):
        read_trace(tmp_path / "nothing.ab1")
    with pytest.raises(InputError, match="folder"):
        read_trace(tmp_path)


def test_abif_without_base_calls(tmp_path: Path) -> None:
    """An ABIF file without PBAS2/PLOC2 (a fragment-analysis run) is refused by name."""
    trace = make_trace(random_sequence(50, 1), seed=1)
    data = trace_bytes(trace)
    for tag in (b"PBAS", b"PLOC", b"PCON"):
        data = data.replace(tag, b"X" + tag[1:])
    with pytest.raises(InputError, match="without an analysed trace") as info:
        trace_from_bytes(data, "frag.fsa")
    assert "PBAS2" in (info.value.found or "")


def test_fasta_and_genbank_references(tmp_path: Path) -> None:
    fasta = tmp_path / "amp.fa"
    fasta.write_text(">amp some amplicon\nACGTACGTAA\nCCGGTT\n")
    ref = read_reference(fasta)
    assert ref.sequence == "ACGTACGTAACCGGTT" and ref.cds is None
    gb = tmp_path / "amp.gb"
    gb.write_text(GENBANK)
    ref = read_reference(gb)
    assert ref.gene == "KRAS" and ref.cds_strand == 1
    assert ref.cds is not None and ref.cds[0] == 3 and len(ref.cds) == 12


def test_bad_references(tmp_path: Path) -> None:
    bad = tmp_path / "bad.fa"
    bad.write_text("hello\n")
    with pytest.raises(InputError, match="FASTA or GenBank"):
        read_reference(bad)
    prot = tmp_path / "prot.fa"
    prot.write_text(">p\nMQLEFZZ\n")
    with pytest.raises(InputError, match="not a DNA"):
        read_reference(prot)
    two = tmp_path / "two.fa"
    two.write_text(">a\nACGT\n>b\nACGT\n")
    with pytest.raises(InputError, match="one sequence"):
        read_reference(two)


GENBANK = """LOCUS       amp                       18 bp    DNA     linear   SYN 01-JAN-2026
DEFINITION  test amplicon.
FEATURES             Location/Qualifiers
     CDS             4..15
                     /gene="KRAS"
                     /codon_start=1
ORIGIN
        1 aaaatgactg aatataaa
//
"""
