"""Hypothesis feeds ``read_blot`` spoiled files: random bytes behind valid magic numbers,
truncations and byte flips of real TIFF/PNG/JPEG files. Only TrkresError may escape."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import tifffile
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from trkres.assays.western.io import BlotImage, blot_from_array, read_blot
from trkres.errors import TrkresError

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))

MAGICS = [
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"\xff\xd8\xff\xdb",
]


def _samples() -> list[bytes]:
    rng = np.random.default_rng(0)
    img16 = (rng.random((24, 32)) * 60000).astype(np.uint16)
    out = []
    for kw in ({}, {"compression": "zlib"}):
        buf = io.BytesIO()
        tifffile.imwrite(buf, img16, **kw)  # type: ignore[arg-type]
        out.append(buf.getvalue())
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as tw:
        tw.write(img16, description="700")
        tw.write(img16 // 2, description="800")
    out.append(buf.getvalue())
    buf = io.BytesIO()
    Image.fromarray(img16).save(
        buf, format="TIFF", compression="tiff_lzw"
    )  # tifffile needs imagecodecs
    out.append(buf.getvalue())
    buf = io.BytesIO()
    tifffile.imwrite(buf, img16.astype(np.float32) / 60000)
    out.append(buf.getvalue())
    for fmt, arr in (
        ("PNG", img16),
        ("PNG", (img16 >> 8).astype(np.uint8)),
        ("JPEG", (img16 >> 8).astype(np.uint8)),
    ):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format=fmt)
        out.append(buf.getvalue())
    return out


SAMPLES = _samples()


def _check(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.img"
        path.write_bytes(content)
        try:
            blots = read_blot(path)
        except TrkresError as err:
            assert "fuzz.img" in str(err)
            event("TrkresError")
            return
        event("read")
        assert blots and all(isinstance(b, BlotImage) for b in blots)
        for b in blots:
            assert b.signal.shape == b.saturated.shape and np.isfinite(b.signal).all()


@SETTINGS
@given(magic=st.sampled_from(MAGICS), tail=st.binary(max_size=400))
def test_random_bytes_behind_a_magic_number(magic: bytes, tail: bytes) -> None:
    _check(magic + tail)


@SETTINGS
@given(sample=st.sampled_from(SAMPLES), cut=st.floats(0.0, 1.0))
def test_truncated_files(sample: bytes, cut: float) -> None:
    _check(sample[: int(len(sample) * cut)])


@SETTINGS
@given(
    sample=st.sampled_from(SAMPLES),
    flips=st.lists(st.tuples(st.floats(0.0, 0.999), st.integers(0, 255)), min_size=1, max_size=6),
)
def test_flipped_bytes(sample: bytes, flips: list[tuple[float, int]]) -> None:
    data = bytearray(sample)
    for where, value in flips:
        data[int(where * len(data))] = value
    _check(bytes(data))


@SETTINGS
@given(
    shape=st.lists(st.integers(0, 6), min_size=0, max_size=4),
    dtype=st.sampled_from(
        ["uint8", "uint16", "int16", "float32", "float64", "bool", "int64", "complex64"]
    ),
    fill=st.floats(allow_nan=True, allow_infinity=True),
    invert=st.sampled_from(["auto", "yes", "no", "maybe", True]),
)
def test_odd_arrays(shape: list[int], dtype: str, fill: float, invert: str | bool) -> None:
    try:
        with np.errstate(all="ignore"):
            arr = np.full(tuple(shape), fill).astype(dtype)
    except (ValueError, OverflowError):
        return
    try:
        blot_from_array(arr, invert=invert)
    except TrkresError:
        event("TrkresError")
