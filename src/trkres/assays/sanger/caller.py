"""Secondary-peak fractions, noise, limit of detection and calls (no I/O, no plotting).

Per base call the height of each of the four channels is the maximum of the analysed
signal within ``±window`` samples of the call's peak location (PLOC); heights are divided
by each dye's scale (dye normalisation: the trimmed mean log height of the peaks called
as that dye, after the trend along the read is removed; :func:`dye_normalised`). At a reference position
with base ``ref`` the fraction for base ``x`` is ``h_x / (h_ref + h_x)``; the *alt* is the
non-reference channel with the highest normalised height.

Noise (``run.run_sanger`` combines these; docs/sanger.md states the rule):

* :func:`noise_level`: the local level of the secondary fractions, the larger of the left
  and right flank medians, over each trace's whole read;
* :func:`tail_threshold`: the multiple of that level the noise of the control and the
  sample (each over its own level) exceeds with probability ``alpha / n`` (an exponential
  tail fitted above its 90th percentile, outliers left out), so a trace without a
  mutation has at most an ``alpha`` chance of any call;
* the control's own fraction for the same base at the site (plus ``min_difference``).

The reported ``mutant_fraction`` is corrected for the background under every peak,
taken to add to both channels: ``f = raw (1 + 2m) - m`` with ``m`` the flank median of
that channel's fraction (``run.background_corrected``). Its 95% CI is by the delta method on
``log(h_alt / h_ref)``: the spread of the flank fractions (1.4826·MAD) added in quadrature
to ``f(1 - f)·ratio_sd`` (the allele peak-height ratio's log-scale SD, an assumption the
user can set from heterozygous controls).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import grey_opening, median_filter
from scipy.stats import trim_mean

from trkres.assays.sanger.io import BASES, Trace

__all__ = [
    "Aligned",
    "align_to",
    "broad_heights",
    "dye_normalised",
    "flank_stats",
    "fractions_against",
    "mott_trim",
    "peak_heights",
    "reverse_complement",
]

#: Called peaks over which the shared trend of peak heights along a read is a running median.
DYE_TREND_SPAN = 41
#: Share trimmed from each end of a dye's log peak heights before averaging (robustness).
DYE_TRIM = 0.1

_COMPLEMENT = str.maketrans("ACGTRYKMBDHVN", "TGCAYRMKVHDBN")


def complement(seq: str) -> str:
    """The complement of a DNA string (IUPAC codes kept)."""
    return seq.upper().translate(_COMPLEMENT)


def reverse_complement(trace: Trace) -> Trace:
    """The trace read from the other strand: channels swapped (A↔T, C↔G) and reversed."""
    n = trace.channels.shape[1]
    channels = trace.channels[::-1, ::-1].copy()  # ACGT reversed is TGCA: the complement order
    return Trace(trace.name, complement(trace.bases)[::-1], (n - 1 - trace.peaks)[::-1].copy(),
                 trace.quality[::-1].copy(), channels, trace.source, trace.sample,
                 (*trace.notes, "read as its reverse complement"))  # fmt: skip


def peak_heights(trace: Trace, window: int | None = None) -> np.ndarray:
    """Height (RFU) of each channel at each base call: the maximum within ``±window``
    samples of the peak location (default a quarter of the median peak spacing).
    Returns a float array (4, n_bases)."""
    return _at_peaks(trace, trace.channels, window)


def _spacing(trace: Trace) -> float:
    """Median distance between base calls' peaks (samples)."""
    peaks = trace.peaks
    return float(np.median(np.diff(peaks))) if len(peaks) > 2 else 12.0


def _at_peaks(trace: Trace, signal: np.ndarray, window: int | None) -> np.ndarray:
    """``signal`` (4 × samples) at each base call: its maximum within ``±window`` samples
    of the peak (default a quarter of the median spacing), clipped at 0; (4, n_bases)."""
    peaks = trace.peaks
    if window is None:
        window = max(1, round(0.25 * _spacing(trace)))
    offsets = np.arange(-window, window + 1)
    idx = np.clip(peaks[:, None] + offsets[None, :], 0, signal.shape[1] - 1)
    out: np.ndarray = np.clip(signal[:, idx].max(axis=2), 0.0, None)
    return out


#: Width of the grey opening that finds broad signal, in peak spacings: wider than one
#: peak (so a peak is removed by it), narrower than a dye blob (kept as broad signal).
BROAD_SPACINGS = 1.75


def broad_heights(trace: Trace, window: int | None = None) -> np.ndarray:
    """Broad signal (RFU) of each channel at each base call (4, n_bases): the grey opening
    of the channel over :data:`BROAD_SPACINGS` peak spacings (what stays of the signal
    once every structure narrower than that is removed), taken where :func:`peak_heights`
    measures the peak. A peak, however small, falls to the valleys beside it; a dye blob
    (unincorporated dye terminators: a hump two to five peaks wide) or a baseline step
    stays."""
    size = max(3, round(BROAD_SPACINGS * _spacing(trace)) | 1)
    return _at_peaks(trace, grey_opening(trace.channels, size=(1, size)), window)


def mott_trim(quality: np.ndarray, cutoff: float = 0.05) -> tuple[int, int]:
    """Mott's modified trimming (as Biopython's ``abi-trim`` and phred): the segment with
    the highest cumulative ``cutoff - 10^(-Q/10)``. Returns ``(start, end)``, 0-based,
    end exclusive; the whole read when qualities are missing (negative)."""
    n = len(quality)
    if n <= 20 or (quality < 0).any():
        return 0, n
    score = cutoff - 10.0 ** (-np.asarray(quality, dtype=float) / 10.0)
    best, best_start, best_end = 0.0, 0, 0
    run, start = 0.0, 0
    for i in range(n):  # Kadane's maximum-sum segment
        if run <= 0:
            run, start = 0.0, i
        run += score[i]
        if run > best:
            best, best_start, best_end = run, start, i + 1
    return (best_start, best_end) if best_end > best_start else (0, 0)


def dye_normalised(trace: Trace, heights: np.ndarray, keep: np.ndarray,
                   span: int = DYE_TREND_SPAN, trim: float = DYE_TRIM) -> np.ndarray:  # fmt: skip
    """``heights`` divided by each dye's scale, estimated from the called peaks within
    ``keep`` (a boolean mask over bases).

    The log height of a called peak is taken as its dye's log scale plus a trend along
    the read shared by all dyes (signal that fades or rises with fragment length) plus
    scatter between peaks: ``log h_i = a_dye(i) + t(i) + e_i``. The trend is a running
    median over ``span`` called peaks of ``log h - a``, and each dye's ``a`` the
    ``trim``-trimmed mean of ``log h - t`` over its peaks (three rounds from the
    medians). Removing the trend and averaging logs rather than taking the median of raw
    heights roughly halves the variance of the dye ratios (the log-ratio SD of two dyes
    on a 460-base synthetic read drops from ~0.06 to ~0.04: ±1 point at a 50% mixture),
    while the trimming keeps a few mixed or failed peaks from moving a scale. A dye with
    fewer than 3 called peaks takes the geometric mean of the others' scales. The scales
    keep the units of a called peak's height (RFU at the read's median trend), so a
    called peak is ~1 after normalisation."""
    n = heights.shape[1]
    called = np.array([BASES.find(b) for b in trace.bases])
    cols = np.arange(n)
    own = np.where(called >= 0, heights[np.clip(called, 0, 3), cols], 0.0)
    idx = np.flatnonzero(keep & (called >= 0) & (own > 0))
    dye = called[idx]
    y = np.log(own[idx])
    have = np.bincount(dye, minlength=4) >= 3
    if not have.any():
        return heights.copy()
    a = np.array([float(np.median(y[dye == c])) if have[c] else 0.0 for c in range(4)])
    size = max(1, min(span, len(y)))
    trend = np.zeros(len(y))
    for _ in range(3):
        trend = median_filter(y - a[dye], size=size, mode="nearest")
        a = np.array([float(np.median((y - trend)[dye == c])) if have[c] else 0.0
                      for c in range(4)])  # fmt: skip
    resid = y - trend
    a = np.array([float(trim_mean(resid[dye == c], trim)) if have[c] else 0.0 for c in range(4)])
    a = np.where(have, a, float(a[have].mean()))
    scales = np.exp(a + float(np.median(trend)))
    out: np.ndarray = heights / scales[:, None]
    return out


@dataclass(frozen=True)
class Aligned:
    """Reference position → trace position (``-1`` where unaligned), the alignment score,
    and the share of aligned bases that match."""

    to_trace: np.ndarray
    score: float
    identity: float
    aligned: int


def align_to(reference: str, bases: str) -> Aligned:
    """Align base calls to a reference (global, free end gaps, affine gaps: match 2,
    mismatch -1, gap open -6, extend -1; ``N`` and ambiguity codes score 0)."""
    aligner: Any = importlib.import_module("Bio.Align").PairwiseAligner()
    aligner.mode = "global"
    aligner.match_score = 2.0
    aligner.mismatch_score = -1.0
    aligner.open_gap_score = -6.0
    aligner.extend_gap_score = -1.0
    aligner.end_gap_score = 0.0  # after the internal scores, which set the end ones too
    aligner.wildcard = "N"
    ref = reference.upper()
    seq = "".join(b if b in "ACGT" else "N" for b in bases.upper())
    ref_clean = "".join(b if b in "ACGT" else "N" for b in ref)
    to_trace = np.full(len(ref), -1, dtype=np.int64)
    if not ref_clean or not seq:
        return Aligned(to_trace, 0.0, 0.0, 0)
    alignment = aligner.align(ref_clean, seq)[0]
    blocks_ref, blocks_seq = alignment.aligned
    for (r0, r1), (s0, s1) in zip(blocks_ref, blocks_seq, strict=True):
        to_trace[r0:r1] = np.arange(s0, s1)
    hit = to_trace >= 0
    ra = np.frombuffer(ref_clean.encode(), dtype=np.uint8)[hit]
    sa = np.frombuffer(seq.encode(), dtype=np.uint8)[to_trace[hit]]
    aligned = int(hit.sum())
    identity = float((ra == sa).mean()) if aligned else 0.0
    return Aligned(to_trace, float(alignment.score), identity, aligned)


def fractions_against(norm: np.ndarray, ref_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each base (column of ``norm``, 4 × n) the best non-reference channel and its
    fraction ``h_alt / (h_ref + h_alt)``; ``ref_index`` -1 (unknown reference base) takes
    the highest channel as the reference. Returns ``(alt index, fraction)``."""
    n = norm.shape[1]
    ref = np.where(ref_index >= 0, ref_index, np.argmax(norm, axis=0))
    masked = norm.copy()
    masked[ref, np.arange(n)] = -np.inf
    alt = np.argmax(masked, axis=0)
    h_ref = norm[ref, np.arange(n)]
    h_alt = norm[alt, np.arange(n)]
    total = h_ref + h_alt
    frac = np.divide(h_alt, total, out=np.zeros(n), where=total > 0)
    return alt, frac


def fraction_of(norm: np.ndarray, ref_index: np.ndarray, alt_index: np.ndarray) -> np.ndarray:
    """``h_alt / (h_ref + h_alt)`` for given channels (−1 in either gives NaN)."""
    n = norm.shape[1]
    ok = (ref_index >= 0) & (alt_index >= 0)
    cols = np.arange(n)
    h_ref = np.where(ok, norm[np.clip(ref_index, 0, 3), cols], np.nan)
    h_alt = np.where(ok, norm[np.clip(alt_index, 0, 3), cols], np.nan)
    total = h_ref + h_alt
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, h_alt / total, np.nan)


def channel_fractions(norm: np.ndarray, ref_index: np.ndarray) -> np.ndarray:
    """``h_c / (h_ref + h_c)`` for every channel ``c`` (4 × n; NaN at the reference's own
    channel or an unknown reference)."""
    n = norm.shape[1]
    cols = np.arange(n)
    h_ref = np.where(ref_index >= 0, norm[np.clip(ref_index, 0, 3), cols], np.nan)
    total = norm + h_ref[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, norm / total, np.nan)
    out[np.clip(ref_index, 0, 3), cols] = np.nan
    return out


def tail_threshold(noise: np.ndarray, n_tests: int, alpha: float = 0.05,
                   tail: float = 0.9) -> float:  # fmt: skip
    """The fraction exceeded by noise with probability ``alpha / n_tests`` (so a trace of
    ``n_tests`` positions without a mutation has at most an ``alpha`` chance of any call):
    an exponential tail fitted to the noise above its ``tail`` quantile (peaks over
    threshold). Excesses beyond what a tail of the fitted mean reaches with probability
    0.05 among as many values (real mutations in a sample's noise) are left out and the
    mean refitted, so one strong secondary peak does not raise every threshold. NaN for
    fewer than 20 noise values."""
    x = np.asarray(noise, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 20:
        return float("nan")
    u = float(np.quantile(x, tail))
    over = x[x > u] - u
    beta = float(over.mean()) if len(over) else 0.0
    for _ in range(10):  # excesses an exponential tail of this mean would not reach (real
        # mutations among the noise, p < 0.05 for the largest) are left out, then refit
        inside = over[over <= beta * np.log(max(len(over), 1) / 0.05)]
        new = float(inside.mean()) if len(inside) else beta
        if abs(new - beta) <= 1e-9 * max(beta, 1e-12):
            break
        beta = new
    p_tail = 1.0 - tail
    target = alpha / max(n_tests, 1)
    if target >= p_tail or beta <= 0:
        return u
    return u + beta * float(np.log(p_tail / target))


def noise_level(frac: np.ndarray, flank: int, exclude: int = 2, floor: float = 0.0) -> np.ndarray:
    """The local noise level at each position: the larger of the medians of the left and
    right flanks (``flank`` positions each side, ``±exclude`` around the site left out;
    a side with fewer than 5 values is ignored), never below ``floor``. Taking the larger
    side follows noise that rises toward a read's end."""
    n = len(frac)
    padded = np.concatenate([np.full(flank, np.nan), frac, np.full(flank, np.nan)])
    windows = sliding_window_view(padded, 2 * flank + 1)
    left = windows[:, : flank - exclude]
    right = windows[:, flank + exclude + 1 :]
    out = np.full(n, np.nan)
    with np.errstate(all="ignore"):
        for side in (left, right):
            ok = np.isfinite(side).sum(axis=1) >= 5
            if ok.any():
                med = np.full(n, np.nan)
                med[ok] = np.nanmedian(side[ok], axis=1)
                out = np.fmax(out, med)
    return np.fmax(np.where(np.isfinite(out), out, floor), floor)


def _row_nanmedian(w: np.ndarray) -> np.ndarray:
    """The median of each row of ``w`` over its finite entries (NaN for none): one sort,
    as ``np.nanmedian(w, axis=1)`` but without its per-row masking (~10× faster here)."""
    ordered = np.sort(w, axis=1)  # NaN sort last
    count = np.isfinite(w).sum(axis=1)
    rows = np.arange(len(w))
    lo = np.clip((count - 1) // 2, 0, None)
    hi = np.clip(count // 2, 0, None)
    with np.errstate(invalid="ignore"):
        out = 0.5 * (ordered[rows, lo] + ordered[rows, np.minimum(hi, w.shape[1] - 1)])
    result: np.ndarray = np.where(count > 0, out, np.nan)
    return result


def flank_stats(frac: np.ndarray, flank: int, exclude: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Median and 1.4826·MAD of ``frac`` within ``±flank`` positions of each position,
    ``±exclude`` around it left out (NaN entries ignored). Returns two arrays."""
    n = len(frac)
    width = 2 * flank + 1
    padded = np.concatenate([np.full(flank, np.nan), frac, np.full(flank, np.nan)])
    windows = sliding_window_view(padded, width).copy()
    windows[:, flank - exclude : flank + exclude + 1] = np.nan
    counts = np.isfinite(windows).sum(axis=1)
    med = np.full(n, np.nan)
    mad = np.full(n, np.nan)
    ok = counts >= 5
    if ok.any():
        w = windows[ok]
        m = _row_nanmedian(w)
        med[ok] = m
        mad[ok] = 1.4826 * _row_nanmedian(np.abs(w - m[:, None]))
    return med, mad


@dataclass(frozen=True)
class SharedBackground:
    """How much of a sample's background the control shows: ``weight`` (0-1), the slope
    of the sample's channel fractions on the control's at the same positions, both as
    deviations from their flank medians; ``control_level`` the control's flank medians
    (4 × n)."""

    weight: float
    control_level: np.ndarray


def shared_background(sample: np.ndarray, control: np.ndarray, flank: int,
                      sample_level: np.ndarray | None = None) -> SharedBackground:  # fmt: skip
    """The share of background that a sample and its control share (sequence-context
    noise is the same in every trace of an amplicon; the rest is each trace's own).

    ``sample``, ``control``: channel fractions (4 × n, NaN at the reference channel or
    where unaligned) at the same reference positions; ``sample_level`` the sample's flank
    medians when already known. The weight is the least-squares
    slope of the sample's deviations from its flank medians on the control's (each
    winsorised at its 1st and 99th percentiles, so real mutations do not lead), clipped
    to [0, 1]: the best linear predictor of the sample's background at a site from the
    control's there."""
    levels = []
    for frac, given in ((sample, sample_level), (control, None)):
        if given is not None:
            levels.append(given)
            continue
        level = np.vstack([flank_stats(frac[k], flank)[0] for k in range(frac.shape[0])])
        with np.errstate(all="ignore"):
            fill = np.nanmedian(frac, axis=1)
        levels.append(np.where(np.isfinite(level), level, fill[:, None]))
    ds, dc = sample - levels[0], control - levels[1]
    ok = np.isfinite(ds) & np.isfinite(dc)
    if ok.sum() < 50:
        return SharedBackground(0.0, levels[1])
    x, y = dc[ok], ds[ok]
    x = np.clip(x, *np.quantile(x, [0.01, 0.99]))
    y = np.clip(y, *np.quantile(y, [0.01, 0.99]))
    x, y = x - x.mean(), y - y.mean()
    denom = float((x * x).sum())
    weight = float((x * y).sum()) / denom if denom > 0 else 0.0
    return SharedBackground(float(np.clip(weight, 0.0, 1.0)), levels[1])
