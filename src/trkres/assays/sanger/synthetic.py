"""Synthetic chromatograms with known mixtures, written as ABIF files Biopython reads.

The model (stated so the accuracy tests can be judged): each base is a Gaussian peak
(sd ``width`` samples; bases ``spacing`` samples apart, ~12 as on a 3730); a position's
amplitude varies log-normally between peaks (CV ``height_cv``, ~0.3), each dye has its own
scale (``dye_scale``); at a mixed position the reference and mutant peaks share the
position's amplitude, split ``1 - f`` : ``f``, each with a small allele-specific factor
(CV ``allele_cv``); under every peak the other three channels carry background peaks
(exponential heights, mean ``background`` of the main peak: the "noise" of real traces;
``context`` adds more that is the same in every trace of one sequence, as sequence-context
noise is),
plus Gaussian baseline noise (``noise`` RFU). Qualities are Phred-like from the purity
of each peak, with poor (Q < 10) first and last bases so end trimming has work to do.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from trkres.assays.sanger.io import BASES, Trace

__all__ = ["held_fraction", "make_trace", "random_sequence", "simulate_trace", "trace_bytes",
           "write_abif"]  # fmt: skip


def random_sequence(n: int, seed: int = 0) -> str:
    """``n`` random bases (uniform A/C/G/T)."""
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(list(BASES), size=n))


def make_trace(
    sequence: str, mutations: Mapping[int, tuple[str, float]] | None = None, **kwargs: Any
) -> Trace:
    """A trace of ``sequence`` with ``mutations`` {0-based position: (alt base, fraction)}
    (the keyword arguments of :func:`simulate_trace`)."""
    return simulate_trace(sequence, mutations, **kwargs)[0]


def simulate_trace(
    sequence: str,
    mutations: Mapping[int, tuple[str, float]] | None = None,
    *,
    seed: int = 0,
    spacing: float = 12.0,
    width: float = 2.6,
    height: float = 1500.0,
    height_cv: float = 0.3,
    allele_cv: float = 0.05,
    dye_scale: tuple[float, float, float, float] = (1.0, 0.8, 0.6, 1.2),
    background: float = 0.015,
    context: float = 0.0,
    noise: float = 8.0,
    bad_ends: tuple[int, int] = (15, 25),
    name: str = "synthetic",
) -> tuple[Trace, np.ndarray]:
    """A trace of ``sequence`` with ``mutations`` {0-based position: (alt base, fraction)},
    and the truth it was drawn from: the peak height of each channel at each base (4 × n,
    RFU, background peaks and allele factors included, before the dye scales and the
    baseline noise), for judging an estimator against what the trace itself holds
    (:func:`held_fraction`).

    Heights in RFU; ``spacing``/``width`` in samples; fractions in [0, 1].
    """
    rng = np.random.default_rng(seed)
    mutations = dict(mutations or {})
    seq = sequence.upper()
    n = len(seq)
    lead = int(3 * spacing)
    peaks = (lead + np.arange(n) * spacing + rng.normal(0, 0.4, n)).round().astype(np.int64)
    n_samples = int(peaks[-1] + 3 * spacing)
    index = {b: i for i, b in enumerate(BASES)}
    sigma = np.sqrt(np.log(1 + height_cv**2))
    amp = height * rng.lognormal(-(sigma**2) / 2, sigma, n)
    # The signal fades along the read; the first and last bases are poor.
    amp *= np.linspace(1.2, 0.7, n)
    bg = rng.exponential(background, (4, n))
    if context > 0:  # sequence-context noise: the same in every trace of this amplicon
        shared = np.random.default_rng(zlib.crc32(seq.encode("ascii", "replace")))
        bg += shared.exponential(context, (4, n))
    lo, hi = bad_ends
    ends = np.zeros(n)
    k_lo, k_hi = min(lo, n), min(hi, n)
    if k_lo:
        ends[:k_lo] = np.linspace(0.5, 0.0, lo)[:k_lo]
    if k_hi:
        ends[n - k_hi :] = np.fmax(ends[n - k_hi :], np.linspace(0.0, 0.5, hi)[hi - k_hi :])
    bg += rng.exponential(1.0, (4, n)) * ends
    heights = bg * amp  # background peaks in every channel
    a_sigma = np.sqrt(np.log(1 + allele_cv**2))
    calls = []
    for i, base in enumerate(seq):
        ref = index.get(base, 0)
        alt_base, frac = mutations.get(i, (base, 0.0))
        alt = index[alt_base.upper()]
        f = float(frac) if alt != ref else 0.0
        e_ref, e_alt = rng.lognormal(-(a_sigma**2) / 2, a_sigma, 2)
        heights[ref, i] += (1 - f) * amp[i] * e_ref
        if f > 0:
            heights[alt, i] += f * amp[i] * e_alt
        calls.append(BASES[int(np.argmax(heights[:, i] * np.asarray(dye_scale)))])
    truth = heights.copy()
    heights *= np.asarray(dye_scale)[:, None]
    x = np.arange(n_samples, dtype=float)
    channels = np.zeros((4, n_samples))
    half = int(5 * width) + 1
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / width) ** 2)
    for c in range(4):
        spikes = np.zeros(n_samples + 2 * half)
        np.add.at(spikes, peaks + half, heights[c])
        channels[c] = np.convolve(spikes, kernel, mode="same")[half : half + n_samples]
    channels += rng.normal(0, noise, channels.shape)
    channels += 20.0 * np.exp(-x / (10 * spacing))  # a little primer-peak tail at the start
    channels = np.clip(channels, 0, 32767)
    sorted_h = np.sort(heights, axis=0)
    purity = sorted_h[-2] / np.maximum(sorted_h[-1], 1e-9)
    quality = np.clip(np.round(-10 * np.log10(np.maximum(purity, 1e-6)) * 2.2), 2, 60)
    quality = np.where(ends > 0.1, np.minimum(quality, 6), quality).astype(np.int64)
    trace = Trace(name, "".join(calls), peaks, quality, channels, source=name, sample=name)
    return trace, truth


def held_fraction(truth: np.ndarray, position: int, ref: str, alt: str,
                  background: float) -> float:  # fmt: skip
    """The mutant fraction a simulated trace itself holds at 0-based ``position``: the
    true peak heights' ``h_alt / (h_ref + h_alt)`` corrected for the model's mean
    background under both peaks (``background`` + ``context``): ``raw (1 + 2b) − b``.
    It differs from the planted fraction by the allele factors and by the background
    drawn under these two peaks — error no estimator can remove."""
    h_ref, h_alt = truth[BASES.index(ref), position], truth[BASES.index(alt), position]
    raw = float(h_alt / (h_ref + h_alt))
    return raw * (1 + 2 * background) - background


def _entry(
    name: str, number: int, elem_type: int, elem_size: int, count: int, data: bytes
) -> tuple[bytes, int, int, int, int, bytes]:
    return (name.encode("ascii"), number, elem_type, elem_size, count, data)


def trace_bytes(trace: Trace, *, order: str = "GATC") -> bytes:
    """The bytes of an ABIF file holding ``trace`` (analysed channels in ``order``)."""
    ch = {b: np.clip(np.round(trace.channels[i]), -32768, 32767).astype(">i2")
          for i, b in enumerate(BASES)}  # fmt: skip
    entries = []
    for k, base in enumerate(order):
        arr = ch[base]
        entries.append(_entry("DATA", 9 + k, 4, 2, len(arr), arr.tobytes()))
    entries.append(_entry("FWO_", 1, 2, 1, 4, order.encode("ascii")))
    entries.append(_entry("PBAS", 2, 2, 1, len(trace.bases), trace.bases.encode("ascii")))
    entries.append(_entry("PLOC", 2, 4, 2, len(trace.peaks), trace.peaks.astype(">i2").tobytes()))
    if trace.has_quality:
        q = np.clip(trace.quality, 0, 127).astype(np.uint8).tobytes()
        entries.append(_entry("PCON", 2, 2, 1, len(q), q))
    sample = trace.sample.encode("ascii", "replace")[:255]
    entries.append(_entry("SMPL", 1, 18, 1, len(sample) + 1, bytes([len(sample)]) + sample))
    header_size = 128
    body = bytearray()
    directory = bytearray()
    for name, number, etype, esize, count, data in entries:
        if len(data) <= 4:
            offset_field = data.ljust(4, b"\0")
        else:
            offset_field = struct.pack(">I", header_size + len(body))
            body += data
        directory += struct.pack(">4sI2H2I", name, number, etype, esize, count, len(data))
        directory += offset_field + struct.pack(">I", 0)
    dir_offset = header_size + len(body)
    head = b"ABIF" + struct.pack(">H4sI2H3I", 101, b"tdir", 1, 1023, 28, len(entries),
                                 len(directory), dir_offset) + struct.pack(">I", 0)  # fmt: skip
    return head.ljust(header_size, b"\0") + bytes(body) + bytes(directory)


def write_abif(trace: Trace, path: str | Path, *, order: str = "GATC") -> Path:
    """Write ``trace`` as an ABIF file at ``path`` (returned)."""
    out = Path(path)
    out.write_bytes(trace_bytes(trace, order=order))
    return out
