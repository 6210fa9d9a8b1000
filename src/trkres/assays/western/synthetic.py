"""Synthetic western blots with known truth, for accuracy tests of lanes, bands, background
and measurement.

:func:`synthetic_blot` draws a 16-bit scan: ``n_lanes`` lanes, each with the same band rows
(one ERK1/2-like doublet and one single band by default), flat-topped bands of a *known*
integrated signal, a sloped background plus a few broad Gaussian blobs, Poisson (shot) and
Gaussian (read) noise, a gel "smile" (band rows curve across the gel) and a slight tilt,
empty lanes, lanes whose bands are driven past the detector maximum (clipped), and either
polarity (bright bands on dark, fluorescence; or dark bands on light, film and
chemiluminescence scans).

Units: pixels for positions, grey levels for intensities; a volume is the sum over pixels of
the signal above background (grey level × pixel), before noise, rounding and clipping.

Determinism: everything is drawn from ``numpy.random.default_rng(seed)``, so the same seed and
arguments give the same image and truth, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import erf

from trkres.errors import InputError

#: Columns of the truth table (the first nine are the shared contract).
TRUTH_COLUMNS = [
    "lane", "band", "x0", "x1", "y0", "y1", "true_volume", "clipped", "empty",
    "lane_x0", "lane_x1", "lane_center", "row", "doublet", "peak", "relative_volume",
    "background_mean",
]  # fmt: skip

#: Fraction of a band's peak below which its soft edge is left out of its box (the box holds
#: more than 99.9 % of the band's volume).
_BOX_LEVEL = 1e-3


@dataclass(frozen=True)
class SyntheticParts:
    """The noise-free layers of a synthetic blot, all float64 in *signal* units (larger = more
    protein, before the polarity is applied): ``background`` and ``bands`` (their sum is the
    expected signal), ``signal`` (with noise, unrounded, unclipped), ``raw`` (the uint16 scan
    as a scanner would write it), ``truth`` (see :func:`synthetic_blot`)."""

    background: NDArray[np.float64]
    bands: NDArray[np.float64]
    signal: NDArray[np.float64]
    raw: NDArray[np.uint16]
    truth: pd.DataFrame
    dark_on_light: bool
    detector_max: int


def _plateau(
    coord: NDArray[np.float64],
    lo: float | NDArray[np.float64],
    hi: float | NDArray[np.float64],
    soft: float,
) -> NDArray[np.float64]:
    """A flat top between ``lo`` and ``hi`` with error-function edges of width ``soft`` (px)."""
    out: NDArray[np.float64] = 0.5 * (erf((coord - lo) / soft) - erf((coord - hi) / soft))
    return out


def _pick_lanes(
    rng: np.random.Generator, spec: int | Sequence[int], n_lanes: int, taken: set[int], what: str
) -> list[int]:
    if isinstance(spec, int | np.integer):
        count = int(spec)
        free = [i for i in range(n_lanes) if i not in taken]
        if count < 0 or count > len(free):
            raise InputError(
                f"cannot make {count} {what} lanes",
                expected=f"0 to {len(free)} {what} lanes (of {n_lanes}, others taken)",
                found=str(count),
            )
        return sorted(int(i) for i in rng.choice(free, size=count, replace=False))
    lanes = sorted({int(i) for i in spec})
    bad = [i for i in lanes if i < 0 or i >= n_lanes or i in taken]
    if bad:
        raise InputError(
            f"bad {what} lane indices",
            expected=f"0-based lane indices below {n_lanes}, not used for another role",
            found=str(bad),
        )
    return lanes


def synthetic_parts(
    seed: int,
    *,
    n_lanes: int = 12,
    height: int = 400,
    width: int | None = None,
    lane_width: int | None = None,
    lane_gap: int | None = None,
    band_rows: Sequence[float] = (0.35, 0.65),
    doublet_rows: Sequence[int] = (0,),
    doublet_sep: float = 13.0,
    band_thickness: float = 8.0,
    edge_soft: float = 2.5,
    empty_lanes: int | Sequence[int] | None = None,
    clipped_lanes: int | Sequence[int] | None = None,
    min_relative: float = 0.02,
    max_peak: float = 25000.0,
    clip_factor: float = 1.6,
    background: str = "sloped+blobs",
    background_level: float = 2000.0,
    slope: float = 1500.0,
    n_blobs: int = 3,
    blob_amplitude: float = 2500.0,
    lane_smear: float = 0.0,
    noise_sd: float = 40.0,
    gain: float = 1.0,
    smile: float = 6.0,
    tilt: float = 4.0,
    lane_jitter: float = 3.0,
    dark_on_light: bool = False,
    detector_max: int = 65535,
) -> SyntheticParts:
    """All layers of a synthetic blot; :func:`synthetic_blot` documents the arguments."""
    if lane_width is None or lane_gap is None:
        # Lanes fill the width when one is given (pitch = 58 px otherwise), 70 % lane, 30 % gap.
        pitch0 = 58.0 if width is None else (width - 20) / (n_lanes + 0.3) if n_lanes > 0 else 58.0
        lane_width = round(0.7 * pitch0) if lane_width is None else lane_width
        lane_gap = round(0.3 * pitch0) if lane_gap is None else lane_gap
    if n_lanes < 1 or height < 16 or lane_width < 4 or lane_gap < 0:
        raise InputError(
            "synthetic blot geometry out of range",
            expected="n_lanes >= 1, height >= 16, lane_width >= 4, lane_gap >= 0",
            found=f"n_lanes={n_lanes}, height={height}, lane_width={lane_width}, lane_gap={lane_gap}",
        )
    if background not in {"flat", "sloped", "blobs", "sloped+blobs"}:
        raise InputError(
            "unknown synthetic background",
            expected="flat, sloped, blobs or sloped+blobs",
            found=background,
        )
    if not 0 < min_relative <= 1:
        raise InputError(
            "min_relative out of range", expected="0 < min_relative <= 1", found=str(min_relative)
        )
    margin = lane_gap // 2 + 10
    pitch = lane_width + lane_gap
    if width is None:
        width = 2 * margin + n_lanes * pitch - lane_gap
    if width < 2 * margin + n_lanes * pitch - lane_gap:
        raise InputError(
            "synthetic blot too narrow for its lanes",
            expected=f"width >= {2 * margin + n_lanes * pitch - lane_gap} px",
            found=f"{width} px",
        )
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)

    # Background: an offset, a plane, broad blobs (grey levels).
    bg = np.full((height, width), float(background_level))
    if "sloped" in background:
        angle = rng.uniform(0, 2 * np.pi)
        gx, gy = np.cos(angle), np.sin(angle)
        span = abs(gx) * width + abs(gy) * height
        plane = (gx * (xx - width / 2) + gy * (yy - height / 2)) / span
        bg += slope * (plane + 0.5)
    if "blobs" in background:
        for _ in range(n_blobs):
            cx, cy = rng.uniform(0, width), rng.uniform(0, height)
            sx, sy = rng.uniform(25, 90), rng.uniform(25, 90)
            amp = blob_amplitude * rng.uniform(0.4, 1.0)
            bg += amp * np.exp(-0.5 * (((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2))

    # Lanes: evenly spaced, centred, each jittered a little.
    used = n_lanes * pitch - lane_gap
    left = (width - used) / 2
    centres = (
        left
        + lane_width / 2
        + pitch * np.arange(n_lanes)
        + rng.uniform(-lane_jitter, lane_jitter, n_lanes)
    )
    if empty_lanes is None:
        empty_lanes = 1 if n_lanes >= 3 else 0
    if clipped_lanes is None:
        clipped_lanes = 1 if n_lanes >= 3 else 0
    empty = _pick_lanes(rng, empty_lanes, n_lanes, set(), "empty")
    clipped = _pick_lanes(rng, clipped_lanes, n_lanes, set(empty), "clipped")

    # Band rows: row centre = nominal + tilt across the gel + smile (edges run higher).
    def centre_row(nominal: float, x: NDArray[np.float64]) -> NDArray[np.float64]:
        u = (x - width / 2) / (width / 2)
        return nominal + tilt * u / 2 - smile * u**2

    specs: list[tuple[int, float, bool]] = []  # (row index, nominal centre, doublet member)
    for r, frac in enumerate(band_rows):
        if r in doublet_rows:
            specs.append((r, frac * height - doublet_sep / 2, True))
            specs.append((r, frac * height + doublet_sep / 2, True))
        else:
            specs.append((r, frac * height, False))
    # Lane loads (relative, log-uniform); each band of a lane gets its own share.
    strength = np.exp(rng.uniform(np.log(min_relative), 0.0, n_lanes))
    strength[int(rng.integers(n_lanes))] = 1.0

    bands = np.zeros((height, width))
    rows: list[dict[str, object]] = []
    half_w = lane_width / 2
    for lane in range(n_lanes):
        xc = float(centres[lane])
        lx0, lx1 = int(np.floor(xc - half_w)), int(np.ceil(xc + half_w))
        for b, (r, nominal, in_doublet) in enumerate(specs):
            share = rng.uniform(0.6, 1.0)  # ERK1 vs ERK2 differ, as do different bands
            x = np.arange(width, dtype=np.float64)
            hx = _plateau(x, xc - half_w + edge_soft, xc + half_w - edge_soft, edge_soft)
            xs = np.flatnonzero(hx > _BOX_LEVEL)
            x0, x1 = int(xs[0]), int(xs[-1]) + 1
            yc = centre_row(nominal, x[x0:x1])
            t = band_thickness / 2
            ys = yy[:, x0:x1]
            shape = hx[x0:x1][None, :] * _plateau(
                ys, yc[None, :] - t + edge_soft / 2, yc[None, :] + t - edge_soft / 2, edge_soft
            )
            inside = np.flatnonzero((shape > _BOX_LEVEL * shape.max()).any(axis=1))
            y0, y1 = int(inside[0]), int(inside[-1]) + 1
            peak = 0.0 if lane in empty else max_peak * strength[lane] * share
            if lane in clipped:
                peak = clip_factor * detector_max * share
            amp = peak / float(shape.max())
            layer = amp * shape
            bands[:, x0:x1] += layer
            rows.append(
                {
                    "lane": lane, "band": b, "x0": x0, "x1": x1, "y0": y0, "y1": y1,
                    "true_volume": float(layer.sum()), "clipped": False, "empty": lane in empty,
                    "lane_x0": lx0, "lane_x1": lx1, "lane_center": xc, "row": r,
                    "doublet": in_doublet, "peak": peak,
                }
            )  # fmt: skip

    if lane_smear > 0:
        # a vertical smear down each loaded lane (in-lane background the gaps do not show),
        # drawn from its own stream so the other layers stay those of lane_smear=0
        smear_rng = np.random.default_rng([seed, 1])
        x = np.arange(width, dtype=np.float64)
        for lane in range(n_lanes):
            if lane in empty:
                continue
            xc = float(centres[lane])
            hx = _plateau(x, xc - half_w + edge_soft, xc + half_w - edge_soft, edge_soft)
            decay = smear_rng.uniform(0.3, 1.0) * height
            level = lane_smear * min(float(strength[lane]) * 2, 1.0) * smear_rng.uniform(0.5, 1.0)
            bg += level * hx[None, :] * np.exp(-yy[:, :1] / decay)
    for row in rows:
        y0, y1, x0, x1 = (int(str(row[k])) for k in ("y0", "y1", "x0", "x1"))
        row["background_mean"] = float(bg[y0:y1, x0:x1].mean())

    expected = bg + bands
    noisy: NDArray[np.float64] = expected.copy()
    if gain > 0:
        noisy = rng.poisson(np.maximum(expected, 0.0) / gain).astype(np.float64) * float(gain)
    if noise_sd > 0:
        noisy += rng.normal(0.0, noise_sd, expected.shape)
    scan = detector_max - noisy if dark_on_light else noisy
    raw = np.clip(np.rint(scan), 0, detector_max).astype(np.uint16)
    clip_value = 0 if dark_on_light else detector_max
    truth = pd.DataFrame(rows)
    clipped_flags = [
        bool((raw[r.y0 : r.y1, r.x0 : r.x1] == clip_value).any()) for r in truth.itertuples()
    ]
    truth["clipped"] = clipped_flags
    unclipped = ~truth.groupby("lane")["clipped"].transform("any")
    top = float(truth.loc[unclipped, "true_volume"].max()) if unclipped.any() else 0.0
    truth["relative_volume"] = truth["true_volume"] / top if top > 0 else 0.0
    truth = truth[TRUTH_COLUMNS]
    return SyntheticParts(
        background=bg,
        bands=bands,
        signal=noisy,
        raw=raw,
        truth=truth,
        dark_on_light=dark_on_light,
        detector_max=detector_max,
    )


def synthetic_blot(seed: int, **kwargs: object) -> tuple[NDArray[np.uint16], pd.DataFrame]:
    """A synthetic 16-bit blot and its truth table.

    Keyword arguments (all optional; pixels and grey levels):

    - ``n_lanes`` (12), ``height`` (400), ``width`` (fits the lanes), ``lane_width`` and
      ``lane_gap`` (70 % and 30 % of the lane pitch: the width less 10 px margins, or 58 px
      when no width is given), ``lane_jitter`` (±3 px on each lane centre);
    - ``band_rows`` (fractions of the height, (0.35, 0.65)); ``doublet_rows`` (indices into
      ``band_rows`` drawn as an ERK1/2-like doublet ``doublet_sep`` px apart, (0,));
      ``band_thickness`` (8 px flat top), ``edge_soft`` (2.5 px error-function edges);
    - ``empty_lanes``, ``clipped_lanes``: a count (lanes drawn at random) or explicit 0-based
      indices (1 each, none with fewer than 3 lanes); clipped lanes' bands peak at ``clip_factor`` × the detector maximum;
    - lane loads are log-uniform between ``min_relative`` (0.02) and 1 of ``max_peak``
      (25000 grey levels above background), each band a 0.6–1.0 share of that;
    - ``background``: ``flat``, ``sloped``, ``blobs`` or ``sloped+blobs`` (default), with
      ``background_level`` (2000), ``slope`` (1500 across the image, random direction),
      ``n_blobs`` (3) Gaussian blobs of σ 25–90 px up to ``blob_amplitude`` (2500);
      ``lane_smear`` (0: off) adds up to that many grey levels of smear down each loaded lane,
      fading with depth (in-lane background that the gaps between lanes do not show);
    - noise: Poisson with ``gain`` grey levels per count (1; 0 turns it off) plus Gaussian read
      noise ``noise_sd`` (40);
    - ``smile`` (6 px: edge lanes' rows run higher than the centre's), ``tilt`` (4 px across);
    - ``dark_on_light`` (False): the scan is ``detector_max`` − signal (film), so clipping is
      at 0; ``detector_max`` (65535).

    Truth (one row per band, empty lanes included with ``true_volume`` 0): ``lane``, ``band``
    (0-based, top to bottom), ``x0, x1, y0, y1`` (the band's box, 0-based pixel coordinates,
    x1/y1 exclusive, holding > 99.9 % of its volume), ``true_volume`` (grey level × pixel above
    background, before noise and clipping), ``clipped`` (a raw pixel in the box sits at the
    clipped side: the detector maximum, or 0 for dark-on-light), ``empty`` (the lane has no
    protein), plus ``lane_x0, lane_x1, lane_center, row`` (index into ``band_rows``),
    ``doublet``, ``peak`` (grey levels above background), ``relative_volume`` (to the
    largest band of a lane with no clipped band) and ``background_mean`` (the true background
    in the box, grey levels per pixel).
    """
    parts = synthetic_parts(seed, **kwargs)  # type: ignore[arg-type]
    return parts.raw, parts.truth
