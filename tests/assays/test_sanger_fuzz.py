"""Hypothesis drives the ABIF reader and the API with junk: only TrkresError comes out."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trkres as tr
from trkres.assays.sanger.io import Trace, trace_from_bytes
from trkres.assays.sanger.synthetic import make_trace, random_sequence, trace_bytes
from trkres.errors import TrkresError

VALID = trace_bytes(make_trace(random_sequence(60, 3), {30: ("A", 0.4)}, seed=3))
REAL = (Path(__file__).parents[1] / "data" / "sanger" / "3100.ab1").read_bytes()
SCF = (Path(__file__).parents[1] / "data" / "sanger" / "3100.scf").read_bytes()
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(data: bytes) -> None:
    try:
        trace = trace_from_bytes(data, "fuzz.ab1")
    except TrkresError:
        return
    assert isinstance(trace, Trace) and len(trace.bases) == len(trace.peaks)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _read(data)
    _read(b"ABIF" + data)


@FUZZ
@given(st.integers(0, len(VALID)))
def test_truncated_synthetic(cut: int) -> None:
    _read(VALID[:cut])


@FUZZ
@given(st.integers(0, len(REAL) - 1))
def test_truncated_real(cut: int) -> None:
    _read(REAL[:cut])


@FUZZ
@given(st.integers(0, len(SCF) - 1))
def test_truncated_scf(cut: int) -> None:
    _read(SCF[:cut])


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 127), st.integers(0, 255)), min_size=1, max_size=8),
       st.binary(max_size=300))  # fmt: skip
def test_corrupted_scf_header(flips: list[tuple[int, int]], tail: bytes) -> None:
    """SCF header fields (counts, offsets, version, sample size) changed at random, on the
    real file and on a header followed by junk."""
    for body in (SCF, SCF[:128] + tail):
        data = bytearray(body)
        for where, value in flips:
            data[where] = value
        data[:4] = b".scf"
        _read(bytes(data))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1,
                max_size=8))  # fmt: skip
def test_corrupted_bytes(flips: list[tuple[int, int]]) -> None:
    """Bytes changed anywhere, the directory at the end included."""
    data = bytearray(VALID)
    for where, value in flips:
        data[where] = value
    _read(bytes(data))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 27), st.integers(0, 255)), min_size=1, max_size=6),
       st.integers(0, 8))  # fmt: skip
def test_corrupted_directory_entries(flips: list[tuple[int, int]], entry: int) -> None:
    """The directory (28-byte entries at the end) is where a reader trusts counts/offsets."""
    data = bytearray(VALID)
    n_entries = int.from_bytes(VALID[18:22], "big")
    start = int.from_bytes(VALID[26:30], "big") + 28 * (entry % n_entries)
    for where, value in flips:
        data[start + where] = value
    _read(bytes(data))


JUNK = st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=8),
                 st.binary(max_size=8), st.lists(st.integers(), max_size=3),
                 st.just(np.arange(3)))  # fmt: skip
OPTION_JUNK = st.dictionaries(
    st.sampled_from(["gene", "codon_start", "codon_position", "strand", "expect", "alpha",
                     "trim_cutoff", "flank", "min_difference", "ratio_sd", "window", "bogus"]),
    JUNK, max_size=3,
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=JUNK, control=JUNK, reference=JUNK, options=OPTION_JUNK)
def test_api_with_junk(sample: object, control: object, reference: object,
                       options: dict[str, object]) -> None:  # fmt: skip
    with contextlib.suppress(TrkresError):
        tr.sanger.compare(sample, control=control, reference=reference, **options)  # type: ignore[arg-type]
    with contextlib.suppress(TrkresError):
        tr.sanger.read_trace(sample)  # type: ignore[arg-type]


TRACE = make_trace(random_sequence(120, 9), {60: ("T", 0.4)}, seed=9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(options=OPTION_JUNK)
def test_api_options_junk_on_a_real_run(options: dict[str, object]) -> None:
    """Valid traces, junk options: a result or a TrkresError."""
    with contextlib.suppress(TrkresError):
        tr.sanger.compare(TRACE, control=TRACE, **options)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 90), seed=st.integers(0, 10**6), frac=st.floats(0, 1),
       site=st.integers(0, 89), control=st.booleans())  # fmt: skip
def test_run_on_any_short_trace(n: int, seed: int, frac: float, site: int, control: bool) -> None:
    """Tiny and odd traces: a result or a TrkresError (never an IndexError)."""
    seq = random_sequence(n, seed % 1000)
    muts = {site % n: ("A" if seq[site % n] != "A" else "C", frac)}
    sample = make_trace(seq, muts, seed=seed)
    other = make_trace(seq, seed=seed + 1) if control else None
    with contextlib.suppress(TrkresError):
        res = tr.sanger.compare(sample, control=other, gene="NTRK1", codon_start=10,
                                expect="NTRK1 G12R")  # fmt: skip
        assert set(res) >= {"calls", "positions", "summary"}
