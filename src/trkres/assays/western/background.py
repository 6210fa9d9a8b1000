"""Backgrounds for western blot band volumes.

- :func:`rolling_ball`: ImageJ's *Process > Subtract Background* with the rolling ball (not
  the sliding paraboloid), re-implemented from the algorithm of ImageJ's public-domain
  ``BackgroundSubtracter`` (Michael Castle, Janice Keller, Michael Schmid): optional 3 × 3
  mean pre-smoothing ("Disable smoothing" unchecked is ImageJ's default and ours), the image
  shrunk by taking block minima (factor 1, 2, 4 or 8 for radii ≤ 10, ≤ 30, ≤ 100 and larger),
  a ball patch (a sphere cap trimmed by 24, 24, 32 or 40 %, scaled by the shrink factor in
  x, y *and* height, as ImageJ does) rolled under the small image, and bilinear enlargement
  back. All in float32 like ImageJ, so the result matches ImageJ's "Create background" output
  to within one grey level (tested against goldens made with ImageJ 1.53t).
  scikit-image's ``restoration.rolling_ball`` is a different algorithm (an exact ball over the
  full-resolution image, no shrinking, no smoothing, intensity in the same units as pixels),
  so it differs from ImageJ for radii above 10, where ImageJ shrinks; it is not used here.
- :func:`border_background`: LI-COR Image Studio's "median" background: the median of a
  border of pixels just outside the band's box (top and bottom by default).
- :func:`profile_baseline`: a baseline under a lane profile, valley-to-valley or a robust
  local linear fit.

Units: pixels for positions and radii, grey levels for intensities.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numba as nb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.ndimage import uniform_filter1d
from scipy.signal import find_peaks, peak_widths

from trkres.errors import InputError

_FLT_MAX = np.float32(np.finfo(np.float32).max)

#: Most ball-rolling steps allowed (about 20 s): a radius of thousands of pixels would
#: otherwise run for hours (ImageJ too).
MAX_BALL_WORK = 2e10
_THIRD = np.float32(0.333333333)


def ball_geometry(radius: float, *, shrink: bool = True) -> tuple[int, NDArray[np.float32]]:
    """ImageJ's rolling-ball patch: ``(shrink_factor, patch)``.

    The shrink factor is 1, 2, 4 or 8 for radii ≤ 10, ≤ 30, ≤ 100 and above (1 when
    ``shrink`` is False); the patch is a square cut from the top of a sphere of radius
    ``radius / shrink_factor`` (at least 1), trimmed by 24, 24, 32 or 40 % of that radius on
    each side, heights in float32 (0 outside the sphere), as in ImageJ's ``RollingBall``.
    """
    if radius <= 10:
        factor, trim = 1, 24
    elif radius <= 30:
        factor, trim = 2, 24
    elif radius <= 100:
        factor, trim = 4, 32
    else:
        factor, trim = 8, 40
    if not shrink:
        factor = 1
    small = max(radius / factor, 1.0)
    xtrim = int(trim * small) // 100
    half = int(np.floor(small - xtrim + 0.5))  # Java's Math.round: half up
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    temp = small * small - offsets[None, :] ** 2 - offsets[:, None] ** 2
    patch = np.where(temp > 0, np.sqrt(np.maximum(temp, 0.0)), 0.0).astype(np.float32)
    return factor, patch


@nb.njit(cache=True)
def _mean3x3(px: NDArray[np.float32]) -> None:  # pragma: no cover - compiled
    """ImageJ's ``filter3x3(MEAN)``: rows then columns, edge pixels repeated, in place."""
    h, w = px.shape
    for y in range(h):
        v3 = px[y, 0]
        v2 = v3
        for i in range(w):
            v1 = v2
            v2 = v3
            if i < w - 1:
                v3 = px[y, i + 1]
            px[y, i] = (v1 + v2 + v3) * _THIRD
    for x in range(w):
        v3 = px[0, x]
        v2 = v3
        for i in range(h):
            v1 = v2
            v2 = v3
            if i < h - 1:
                v3 = px[i + 1, x]
            px[i, x] = (v1 + v2 + v3) * _THIRD


@nb.njit(cache=True)
def _roll_ball(
    img: NDArray[np.float32], ball: NDArray[np.float32]
) -> NDArray[np.float32]:  # pragma: no cover
    """ImageJ's ``rollBall``: for every ball centre (also beyond the edges by the patch
    radius), the highest ball position touching the image from below (``z``), then the hull
    of all those ball surfaces. Two passes (serial: threads lose on a loaded 2-core box); the same numbers as
    ImageJ's single sweep (a minimum and a maximum of the same float32 sums)."""
    h, w = img.shape
    bw = ball.shape[0]
    r = bw // 2
    z = np.empty((h + 2 * r, w + 2 * r), dtype=np.float32)
    for iy in range(h + 2 * r):
        y = iy - r
        y0 = max(y - r, 0)
        y1 = min(y + r, h - 1)
        for ix in range(w + 2 * r):
            x = ix - r
            x0 = max(x - r, 0)
            x1 = min(x + r, w - 1)
            zz = _FLT_MAX
            for yp in range(y0, y1 + 1):
                yb = yp - y + r
                for xp in range(x0, x1 + 1):
                    zr = img[yp, xp] - ball[yb, xp - x + r]
                    if zz > zr:
                        zz = zr
            z[iy, ix] = zz
    out = np.empty((h, w), dtype=np.float32)
    for yp in range(h):
        for xp in range(w):
            best = -_FLT_MAX
            # ball centres within r of (xp, yp): z index = centre + r
            for iy in range(yp, yp + 2 * r + 1):
                yb = yp - (iy - r) + r
                for ix in range(xp, xp + 2 * r + 1):
                    v = z[iy, ix] + ball[yb, xp - (ix - r) + r]
                    if v > best:
                        best = v
            out[yp, xp] = best
    return out


def _shrink(px: NDArray[np.float32], factor: int) -> NDArray[np.float32]:
    """Block minima (``factor`` × ``factor``; partial blocks at the right and bottom)."""
    h, w = px.shape
    sh, sw = -(-h // factor), -(-w // factor)
    padded = np.full((sh * factor, sw * factor), _FLT_MAX, dtype=np.float32)
    padded[:h, :w] = px
    out: NDArray[np.float32] = padded.reshape(sh, factor, sw, factor).min(axis=(1, 3))
    return out


def _interpolation(
    length: int, small_length: int, factor: int
) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
    """ImageJ's ``makeInterpolationArrays``: left small-image index and its weight."""
    i = np.arange(length)
    index = np.fix((i - factor // 2) / factor).astype(np.intp)  # Java integer division truncates
    index = np.minimum(index, small_length - 2)
    distance = (i.astype(np.float32) + np.float32(0.5)) / np.float32(factor) - (
        index.astype(np.float32) + np.float32(0.5)
    )
    return index, (np.float32(1.0) - distance).astype(np.float32)


def _enlarge(
    small: NDArray[np.float32], height: int, width: int, factor: int
) -> NDArray[np.float32]:
    """ImageJ's ``enlargeImage``: bilinear interpolation (extrapolation at the edges)."""
    xi, xw = _interpolation(width, small.shape[1], factor)
    yi, yw = _interpolation(height, small.shape[0], factor)
    one = np.float32(1.0)
    rows = small[:, xi] * xw[None, :] + small[:, xi + 1] * (one - xw)[None, :]
    out: NDArray[np.float32] = rows[yi, :] * yw[:, None] + rows[yi + 1, :] * (one - yw)[:, None]
    return out


def rolling_ball(
    signal: ArrayLike,
    radius: float,
    *,
    light_background: bool = False,
    shrink: bool = True,
    presmooth: bool = True,
) -> NDArray[np.float64]:
    """The rolling-ball background of ``signal`` (grey levels; same shape, float64).

    Reproduces ImageJ's *Process > Subtract Background…* with "Rolling ball", "Create
    background (don't subtract)", "Sliding paraboloid" off and "Disable smoothing" off
    (``presmooth=True``, ImageJ's default: a 3 × 3 mean before rolling, so the background may
    lie a little above single noisy pixels). ``light_background`` is ImageJ's "Light
    background" (the ball rolls from the top: for dark bands on a light scan that were *not*
    inverted). ``radius`` is the ball radius in pixels (> 0). ``shrink=False`` rolls the ball
    at full resolution (slower, not ImageJ's result for radii above 10).

    ImageJ fails on images smaller than two shrink factors in a side; there the image is
    rolled unshrunk (stated here, not matched). NaN pixels are not allowed (InputError).
    """
    arr = np.asarray(signal, dtype=np.float64)
    if arr.ndim != 2 or min(arr.shape) < 1:
        raise InputError(
            "rolling ball needs a 2-D image",
            expected="a 2-D array of grey levels",
            found=f"shape {arr.shape}",
        )
    if not np.isfinite(arr).all():
        raise InputError(
            "rolling ball on an image with NaN or infinite pixels",
            expected="finite grey levels",
            found="non-finite pixels",
        )
    if not np.isfinite(radius) or radius <= 0:
        raise InputError(
            "rolling-ball radius must be positive", expected="radius > 0 pixels", found=str(radius)
        )
    factor, ball = ball_geometry(radius, shrink=shrink)
    h, w = arr.shape
    if factor > 1 and (-(-h // factor) < 2 or -(-w // factor) < 2):
        factor, ball = ball_geometry(radius, shrink=False)
    sh, sw = -(-h // factor), -(-w // factor)
    bw = ball.shape[0]
    work = 2.0 * (sh + bw) * (sw + bw) * min(bw, sh) * min(bw, sw)
    if work > MAX_BALL_WORK:
        raise InputError(
            "rolling-ball radius too large for this image",
            expected=f"at most {MAX_BALL_WORK:.0e} ball steps (a radius well below the image's {max(h, w)} px)",
            found=f"radius {radius:g} px on a {w} × {h} image (~{work:.1e} steps)",
            hint="a ball far wider than the bands gains nothing; ImageJ's default is 50 px",
        )
    px = arr.astype(np.float32)
    if light_background:
        px = -px
    if presmooth:
        _mean3x3(px)
    small = _shrink(px, factor) if factor > 1 else px
    rolled = _roll_ball(np.ascontiguousarray(small), ball)
    bg = _enlarge(rolled, h, w, factor) if factor > 1 else rolled
    if light_background:
        bg = -bg
    return bg.astype(np.float64)


# --------------------------------------------------------------------------------------------
# Image Studio border median

_SIDES = ("top-bottom", "all", "left-right")


def _roi_box(roi: Any, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    if isinstance(roi, Mapping | pd.Series):
        try:
            values = [roi["x0"], roi["x1"], roi["y0"], roi["y1"]]
        except KeyError as err:
            raise InputError(
                "ROI lacks a coordinate", expected="x0, x1, y0, y1", found=str(list(roi.keys()))
            ) from err
    else:
        values = list(roi)
        if len(values) != 4:
            raise InputError(
                "ROI must have four coordinates", expected="(x0, x1, y0, y1)", found=repr(roi)
            )
    try:
        x0, x1, y0, y1 = (int(v) for v in values)
    except (TypeError, ValueError) as err:
        raise InputError(
            "ROI coordinates must be integers", expected="pixel indices", found=repr(values)
        ) from err
    h, w = shape
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise InputError(
            "ROI outside the image",
            expected=f"0 <= x0 < x1 <= {w}, 0 <= y0 < y1 <= {h} (x1, y1 exclusive)",
            found=f"x0={x0}, x1={x1}, y0={y0}, y1={y1}",
        )
    return x0, x1, y0, y1


def border_pixels(
    signal: ArrayLike, roi: Any, border: int = 3, *, sides: str = "top-bottom"
) -> NDArray[np.float64]:
    """The pixels of a ``border``-pixel band just outside ``roi`` (see :func:`border_background`)."""
    arr = np.asarray(signal, dtype=np.float64)
    if arr.ndim != 2:
        raise InputError(
            "border background needs a 2-D image", expected="2-D array", found=f"shape {arr.shape}"
        )
    if sides not in _SIDES:
        raise InputError("unknown border sides", expected=", ".join(_SIDES), found=str(sides))
    if border < 1:
        raise InputError(
            "border width must be at least 1 pixel", expected="border >= 1", found=str(border)
        )
    x0, x1, y0, y1 = _roi_box(roi, arr.shape)
    h, w = arr.shape
    parts: list[NDArray[np.float64]] = []
    if sides in ("top-bottom", "all"):
        xa, xb = (max(x0 - border, 0), min(x1 + border, w)) if sides == "all" else (x0, x1)
        parts.append(arr[max(y0 - border, 0) : y0, xa:xb].ravel())
        parts.append(arr[y1 : min(y1 + border, h), xa:xb].ravel())
    if sides in ("left-right", "all"):
        parts.append(arr[y0:y1, max(x0 - border, 0) : x0].ravel())
        parts.append(arr[y0:y1, x1 : min(x1 + border, w)].ravel())
    return np.concatenate(parts)


def border_background(
    signal: ArrayLike, roi: Any, border: int = 3, *, sides: str = "top-bottom"
) -> float:
    """Image Studio's "median" background of one band (grey levels per pixel).

    The median of the pixels in a ``border``-pixel wide band just *outside* the ROI
    (``roi``: ``(x0, x1, y0, y1)`` or a mapping/row with those keys; 0-based, x1/y1
    exclusive). ``sides``: ``"top-bottom"`` (default: the rows above and below the band, over
    the band's columns — the lane's own background, not the gap between lanes),
    ``"left-right"`` or ``"all"`` (the whole ring, corners included). Parts of the border
    outside the image are left out; when none of the chosen sides is inside the image, the
    whole ring is used, and when that is empty too the result is NaN (a labelled result: the
    caller reports "no border").
    """
    pixels = border_pixels(signal, roi, border, sides=sides)
    if pixels.size == 0 and sides != "all":
        pixels = border_pixels(signal, roi, border, sides="all")
    return float(np.median(pixels)) if pixels.size else float("nan")


# --------------------------------------------------------------------------------------------
# Lane-profile baselines


def _noise_sd(profile: NDArray[np.float64]) -> float:
    """Robust noise SD of a profile: MAD of first differences / √2 (grey levels)."""
    if profile.size < 3:
        return 0.0
    d = np.diff(profile)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2.0))


def profile_peaks(
    profile: ArrayLike,
    *,
    min_prominence: float | None = None,
    max_width: float | None = None,
    noise_sd: float | None = None,
) -> NDArray[np.intp]:
    """Peaks of a lane profile (bands): :func:`scipy.signal.find_peaks` with a prominence of
    at least ``min_prominence`` (default: 5 noise SDs and 1 % of the profile's range; the noise
    SD from the profile's first differences unless ``noise_sd`` is given) and a width at half
    prominence of at most ``max_width`` pixels (default: a tenth of the profile, at least 15:
    wider humps are background, e.g. a blob, not a band)."""
    y = np.asarray(profile, dtype=np.float64)
    if min_prominence is None:
        span = float(np.ptp(y)) if y.size else 0.0
        sd = _noise_sd(y) if noise_sd is None else noise_sd
        min_prominence = max(5.0 * sd, 0.01 * span, 1e-12)
    if max_width is None:
        max_width = max(y.size / 10, 15.0)
    peaks, _ = find_peaks(y, prominence=min_prominence, width=(None, max_width))
    return np.asarray(peaks, dtype=np.intp)


def _flat_run(y: NDArray[np.float64], v: int, tol: float) -> int:
    """Points around ``v`` (inclusive) staying within ``tol`` of ``y[v]``: the width of the
    valley floor (a background gap is wide and flat; the overlap of two bands' tails is a V)."""
    lo = v
    while lo > 0 and y[lo - 1] <= y[v] + tol:
        lo -= 1
    hi = v
    while hi < y.size - 1 and y[hi + 1] <= y[v] + tol:
        hi += 1
    return hi - lo + 1


def _valley_baseline(
    y: NDArray[np.float64], peaks: NDArray[np.intp], merge: float, sd: float, flat: int = 7
) -> NDArray[np.float64]:
    n = y.size
    x = np.arange(n, dtype=np.float64)
    if peaks.size == 0:
        # no band: the (smoothed) profile is all background
        return y.copy()
    else:
        # The valleys: the lowest point between two neighbouring peaks, each looked for within
        # a peak's reach (twice its width at half height, at least 10 px): beyond the outer
        # peaks, and on both sides of a gap wider than the two reaches (two valleys then), so
        # a far-away dip of a curved background is not taken for the band's base.
        reach = np.maximum(2 * peak_widths(y, peaks, rel_height=0.5)[0], 10).astype(int)
        pk = peaks.tolist()
        valleys = [
            max(pk[0] - int(reach[0]), 0)
            + int(np.argmin(y[max(pk[0] - int(reach[0]), 0) : pk[0] + 1]))
        ]
        for i in range(len(pk) - 1):
            a, b = pk[i], pk[i + 1]
            if b - a > reach[i] + reach[i + 1]:
                valleys.append(a + int(np.argmin(y[a : a + int(reach[i]) + 1])))
                lo = b - int(reach[i + 1])
                valleys.append(lo + int(np.argmin(y[lo : b + 1])))
            else:
                valleys.append(a + int(np.argmin(y[a : b + 1])))
        hi = min(pk[-1] + int(reach[-1]), n - 1)
        valleys.append(pk[-1] + int(np.argmin(y[pk[-1] : hi + 1])))
        anchors = list(dict.fromkeys(valleys))
        # A valley that stays high between two peaks (an unresolved doublet) is not a baseline
        # point: drop it while it stands more than `merge` of the smaller neighbouring peak's
        # height above the line joining its neighbouring valleys and its floor is a V (fewer
        # than `flat` points within 3 noise SDs), not a stretch of background.
        changed = True
        while changed and len(anchors) > 2:
            changed = False
            worst, worst_ratio = -1, merge
            for k in range(1, len(anchors) - 1):
                a, v, b = anchors[k - 1], anchors[k], anchors[k + 1]
                line_v = y[a] + (y[b] - y[a]) * (v - a) / (b - a)
                left = peaks[(peaks > a) & (peaks < v)]
                right = peaks[(peaks > v) & (peaks < b)]
                if left.size == 0 or right.size == 0:
                    continue
                line = y[a] + (y[b] - y[a]) * (np.array([left.max(), right.min()]) - a) / (b - a)
                heights = np.array([y[left].max(), y[right].max()]) - line
                small = float(heights.min())
                if small <= 0 or _flat_run(y, v, 3.0 * sd) >= flat:
                    continue
                ratio = (y[v] - line_v) / small
                if ratio > worst_ratio:
                    worst, worst_ratio = k, ratio
            if worst > 0:
                del anchors[worst]
                changed = True
    idx = np.asarray(anchors, dtype=np.intp)
    base = np.interp(x, idx.astype(np.float64), y[idx])
    # beyond the outer valleys there is no band: the baseline is the profile itself
    base[: idx[0]] = y[: idx[0]]
    base[idx[-1] + 1 :] = y[idx[-1] + 1 :]
    out: NDArray[np.float64] = np.minimum(base, y)
    return out


def _window_sums(v: NDArray[np.float64], half: int) -> NDArray[np.float64]:
    c = np.concatenate([[0.0], np.cumsum(v)])
    n = v.size
    lo = np.clip(np.arange(n) - half, 0, n)
    hi = np.clip(np.arange(n) + half + 1, 0, n)
    out: NDArray[np.float64] = c[hi] - c[lo]
    return out


def _local_baseline(
    y: NDArray[np.float64], window: int, iterations: int = 20
) -> NDArray[np.float64]:
    n = y.size
    x = np.arange(n, dtype=np.float64)
    half = max(window // 2, 1)
    sd = max(_noise_sd(y), 1e-12)
    w = np.ones(n)
    fit = y.copy()
    for _ in range(iterations):
        sw = _window_sums(w, half)
        swx = _window_sums(w * x, half)
        swy = _window_sums(w * y, half)
        swxx = _window_sums(w * x * x, half)
        swxy = _window_sums(w * x * y, half)
        det = sw * swxx - swx * swx
        ok = (sw > 1.5) & (np.abs(det) > 1e-9 * np.maximum(sw * swxx, 1.0))
        slope = np.where(ok, (sw * swxy - swx * swy) / np.where(ok, det, 1.0), 0.0)
        mean_x = swx / np.maximum(sw, 1e-12)
        mean_y = swy / np.maximum(sw, 1e-12)
        new = np.where(sw > 0, mean_y + slope * (x - mean_x), fit)
        new_w = (y - new <= 2.0 * sd).astype(np.float64)
        if np.array_equal(new_w, w) and np.allclose(new, fit):
            fit = new
            break
        w, fit = new_w, new
    out: NDArray[np.float64] = np.minimum(fit, y)
    return out


def profile_baseline(
    profile: ArrayLike,
    method: str = "valley",
    *,
    peaks: ArrayLike | None = None,
    window: int | None = None,
    merge: float = 0.05,
    smooth: int = 5,
) -> NDArray[np.float64]:
    """A baseline under a lane profile (grey levels, same length).

    Both methods work on the profile smoothed by a ``smooth``-point running mean (5; 1 turns
    it off), and the baseline never rises above that smoothed profile: a baseline pinned to
    single noisy minima would sit about two noise SDs low and inflate every volume.

    - ``"valley"`` (valley-to-valley): straight lines between the minima either side of each
      peak (the lowest point between neighbouring peaks, and beyond the outer peaks the lowest
      point within twice their width at half height, at least 10 px). A valley between two peaks
      that stands more than ``merge`` (5 %) of the smaller peak's height above the line joining
      its neighbouring valleys, and whose floor is a V (fewer than 7 points within 3 noise SDs
      of it) rather than a stretch of background, is the overlap of an unresolved pair (an
      ERK1/2 doublet): the pair shares the baseline under both. With no peak the whole
      (smoothed) profile is background.
    - ``"local"``: a robust local fit: a running local linear regression over ``window``
      pixels (default: five times the widest band's width at half height, between 15 px and
      a quarter of the profile; an eighth of the profile when no band is found), refitted up to 20 times with the
      points more than 2 noise SDs above the fit (bands) given zero weight, so it follows a
      curved background and passes under the bands.

    ``peaks``: peak indices when already known (default: :func:`profile_peaks`).
    """
    y = np.asarray(profile, dtype=np.float64)
    if y.ndim != 1 or y.size < 3:
        raise InputError(
            "a lane profile must be 1-D with at least 3 points",
            expected="1-D array, >= 3 points",
            found=f"shape {y.shape}",
        )
    if not np.isfinite(y).all():
        raise InputError(
            "lane profile has NaN or infinite values",
            expected="finite grey levels",
            found="non-finite values",
        )
    if smooth < 1:
        raise InputError(
            "smoothing width must be at least 1", expected="smooth >= 1", found=str(smooth)
        )
    sd = _noise_sd(y) / np.sqrt(smooth)
    if smooth > 1:
        y = uniform_filter1d(y, size=int(smooth), mode="nearest")
    if method == "valley":
        pk = profile_peaks(y, noise_sd=sd) if peaks is None else np.asarray(peaks, dtype=np.intp)
        if pk.size and (pk.min() < 0 or pk.max() >= y.size):
            raise InputError(
                "peak index outside the profile",
                expected=f"0 to {y.size - 1}",
                found=str(pk.tolist()),
            )
        return _valley_baseline(y, np.unique(pk), merge, sd)
    if method == "local":
        if window is None:
            pk = (
                profile_peaks(y, noise_sd=sd) if peaks is None else np.asarray(peaks, dtype=np.intp)
            )
            pk = pk[(pk >= 0) & (pk < y.size)]
            if pk.size:
                widest = float(peak_widths(y, pk, rel_height=0.5)[0].max())
                win = int(min(max(5 * widest, 15), max(y.size // 4, 15)))
            else:
                win = max(y.size // 8, 15)
        else:
            win = int(window)
        if win < 3:
            raise InputError(
                "local baseline window too small", expected="window >= 3 pixels", found=str(window)
            )
        return _local_baseline(y, win)
    raise InputError(
        "unknown profile baseline method", expected="valley or local", found=str(method)
    )
