"""Batch dose-response fitting: four-parameter log-logistic curves, all at once.

Model (GraphPad Prism's "log(inhibitor) vs. response -- variable slope"):

    y = Bottom + (Top − Bottom) / (1 + 10^((LogIC50 − x) · HillSlope))

with ``x`` the log10 molar dose; HillSlope is negative for a descending
curve. ``model="3pl"`` fixes Top at 1 (vehicle-normalised data), ``"2pl"``
fixes Top = 1 and Bottom = 0.

Curves are packed into padded arrays (curves × points, with a mask) and fitted
by a compiled Levenberg–Marquardt loop (numba, ``cache=True``), from a
data-driven starting point and, where needed, a grid-chosen second one,
keeping the best sum of squares. Replicates of a dose enter as their mean
with the count as weight (the same minimiser). Parameters are kept in bounds
by projection with an active set: LogIC50 within the tested range ± 3 log units,
|HillSlope| in [0.1, 20], Top and Bottom within the data range ± its span.
Everything is deterministic.

Statistics per curve: an extra-sum-of-squares F-test against a flat line
(mean), R², RMSE, asymptotic (Wald) 95% CIs from the Jacobian with Student t
on n − p degrees of freedom (relative LogIC50; absolute IC50 by the delta method).

Where the first start does not give a good fit (R² < 0.9 or LogIC50 on its
bound) -- flat, out-of-range and noisy curves, whose sum of squares has
several minima -- a coarse grid over (LogIC50, HillSlope), with Top and
Bottom solved exactly at each point, picks a second start. Each
Levenberg–Marquardt iteration also re-solves Top and Bottom exactly (they
enter linearly), which keeps saturated, step-like fits from stalling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numba as nb
import numpy as np
import pandas as pd
from scipy import stats

from trkres.errors import InputError

Model = Literal["4pl", "3pl", "2pl"]
_FREE = {
    "4pl": (True, True, True, True),
    "3pl": (True, True, False, True),
    "2pl": (True, True, False, False),
}


_LN10 = 2.302585092994046
#: Iterations the first start gets before the grid's start is tried (a poor
#: first fit rarely recovers; one that was ahead when cut short is finished).
_FIRST_CAP = 8


@nb.njit(cache=True)
def _pow10(z: float) -> float:
    # exp overflows to inf gracefully; clamp to keep 1 + e finite in products.
    return math.exp(min(z * _LN10, 700.0))


@nb.njit(cache=True)
def _jac(p: np.ndarray, x: float, out: np.ndarray) -> float:
    """Fill the Jacobian at ``x`` and return the model value (one exp per point)."""
    e = _pow10((p[0] - x) * p[1])
    d = 1.0 + e
    span = p[2] - p[3]
    g = -span * (e / d) * _LN10 / d  # e/d first: no inf/inf where e is huge
    # A vehicle point (x = −inf, dose 0) sits on an asymptote: both derivatives are
    # exactly 0 there (g · (p0 − x) would be 0 · inf or tiny · inf).
    finite = x > -np.inf
    out[0] = g * p[1] if finite else 0.0
    out[1] = g * (p[0] - x) if finite else 0.0
    out[2] = 1.0 / d
    out[3] = 1.0 - 1.0 / d
    value: float = p[3] + span / d
    return value


@nb.njit(cache=True)
def _clip(p: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    for k in range(4):
        if p[k] < lo[k]:
            p[k] = lo[k]
        elif p[k] > hi[k]:
            p[k] = hi[k]
    # |hill| >= 0.1 whatever its sign
    if -0.1 < p[1] < 0.1:
        p[1] = -0.1 if p[1] <= 0 else 0.1


@nb.njit(cache=True)
def _solve4(m: np.ndarray, b: np.ndarray, out: np.ndarray) -> bool:
    """Solve the 4×4 system m·out = b by Gaussian elimination with partial pivoting."""
    a = m.copy()
    r = b.copy()
    for col in range(4):
        piv = col
        best = abs(a[col, col])
        for row in range(col + 1, 4):
            if abs(a[row, col]) > best:
                best = abs(a[row, col])
                piv = row
        if best < 1e-300:
            return False
        if piv != col:
            for k in range(4):
                a[col, k], a[piv, k] = a[piv, k], a[col, k]
            r[col], r[piv] = r[piv], r[col]
        for row in range(col + 1, 4):
            f = a[row, col] / a[col, col]
            for k in range(col, 4):
                a[row, k] -= f * a[col, k]
            r[row] -= f * r[col]
    for row in range(3, -1, -1):
        acc = r[row]
        for k in range(row + 1, 4):
            acc -= a[row, k] * out[k]
        out[row] = acc / a[row, row]
    return True


@nb.njit(cache=True)
def _shape_sums(e: np.ndarray, scale: float, w: np.ndarray, y: np.ndarray, n: int,
                g: np.ndarray) -> tuple[float, float, float, float, float]:  # fmt: skip
    """The curve's 0–1 shape g = 1/(1 + scale·e) into ``g``, and the weighted sums
    Σg², Σg(1−g), Σ(1−g)², Σg·y, Σ(1−g)·y that fix the best Top and Bottom."""
    s_gg = 0.0
    s_gh = 0.0
    s_hh = 0.0
    s_gy = 0.0
    s_hy = 0.0
    for i in range(n):
        gi = 1.0 / (1.0 + scale * e[i])
        g[i] = gi
        hi = 1.0 - gi
        wi = w[i]
        s_gg += wi * gi * gi
        s_gh += wi * gi * hi
        s_hh += wi * hi * hi
        s_gy += wi * gi * y[i]
        s_hy += wi * hi * y[i]
    return s_gg, s_gh, s_hh, s_gy, s_hy


@nb.njit(cache=True)
def _asymptotes(s_gg: float, s_gh: float, s_hh: float, s_gy: float, s_hy: float, free: np.ndarray,
                top: float, bottom: float, lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:  # fmt: skip
    """Least-squares Top and Bottom for fixed LogIC50 and slope, from the sums of
    g², g(1−g), (1−g)², g·y, (1−g)·y (g: the curve's 0–1 shape); not clipped to the bounds.
    A fixed asymptote keeps its given value; a singular system keeps both."""
    if free[2] and free[3]:
        det = s_gg * s_hh - s_gh * s_gh
        if det > 1e-12 * (s_gg * s_hh + 1e-300):
            top = (s_gy * s_hh - s_hy * s_gh) / det
            bottom = (s_hy * s_gg - s_gy * s_gh) / det
    elif free[3] and s_hh > 1e-300:
        bottom = (s_hy - top * s_gh) / s_hh
    elif free[2] and s_gg > 1e-300:
        top = (s_gy - bottom * s_gh) / s_gg
    return top, bottom


@nb.njit(cache=True)
def _lm(p: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, n: int, free: np.ndarray,
        lo: np.ndarray, hi: np.ndarray, max_iter: int, tol: float) -> tuple[float, int]:  # fmt: skip
    """Levenberg–Marquardt on ``p`` in place; returns (weighted SSE, iterations).

    Each iteration first sets Top and Bottom to their exact least-squares
    values for the current LogIC50 and slope (the curve is linear in them;
    kept only if inside the bounds and the SSE falls), then takes one damped
    Gauss–Newton step on all free parameters. The linear update keeps the
    asymptotes right where the slope saturates and the Jacobian is nearly
    singular, which plain LM crosses only with heavy damping.
    """
    lam = 1e-3
    trial = np.empty(4)
    step = np.zeros(4)
    act = np.zeros(4, dtype=np.bool_)
    e = np.empty(n)
    et = np.empty(n)  # the powers at the trial point, reused once it is accepted
    g = np.empty(n)
    for i in range(n):
        e[i] = _pow10((p[0] - x[i]) * p[1])
    cur = 0.0
    for i in range(n):
        r = y[i] - p[3] - (p[2] - p[3]) / (1.0 + e[i])
        cur += w[i] * r * r
    iters = 0
    for it in range(max_iter):
        iters = it + 1
        s_gg, s_gh, s_hh, s_gy, s_hy = _shape_sums(e, 1.0, w, y, n, g)
        if free[2] or free[3]:
            top, bottom = _asymptotes(s_gg, s_gh, s_hh, s_gy, s_hy, free, p[2], p[3], lo, hi)
            inside = lo[2] <= top <= hi[2] and lo[3] <= bottom <= hi[3]
            lin = 0.0 if inside else np.inf
            for i in range(n if inside else 0):
                r = y[i] - bottom - (top - bottom) * g[i]
                lin += w[i] * r * r
            if lin < cur:
                p[2] = top
                p[3] = bottom
                cur = lin
        a = np.zeros((4, 4))
        b = np.zeros(4)
        j = np.zeros(4)
        span = p[2] - p[3]
        for i in range(n):
            d = 1.0 + e[i]
            gg = -span * (e[i] / d) * _LN10 / d
            if x[i] > -np.inf:
                j[0] = gg * p[1]
                j[1] = gg * (p[0] - x[i])
            else:  # a vehicle point (x = −inf): on the asymptote, both derivatives are 0
                j[0] = 0.0
                j[1] = 0.0
            j[2] = g[i]
            j[3] = 1.0 - g[i]
            r = y[i] - p[3] - span * g[i]
            wi = w[i]
            for u in range(4):
                if not free[u]:
                    continue
                b[u] += wi * j[u] * r
                for v in range(4):
                    if free[v]:
                        a[u, v] += wi * j[u] * j[v]
        # Active set: a parameter on its bound whose descent direction points
        # outward is held there for this step, so the others can still move.
        for u in range(4):
            act[u] = free[u] and not ((p[u] <= lo[u] and b[u] < 0) or (p[u] >= hi[u] and b[u] > 0))
        improved = False
        for _attempt in range(12):
            m = a.copy()
            for u in range(4):
                if act[u]:
                    m[u, u] += lam * (a[u, u] + 1e-12)
                else:
                    m[u, u] = 1.0
                    b[u] = 0.0
            if _solve4(m, b, step):
                for k in range(4):
                    trial[k] = p[k] + step[k]
                _clip(trial, lo, hi)
                new = 0.0
                for i in range(n):
                    et[i] = _pow10((trial[0] - x[i]) * trial[1])
                    r = y[i] - trial[3] - (trial[2] - trial[3]) / (1.0 + et[i])
                    new += w[i] * r * r
                if new < cur:
                    rel = (cur - new) / (cur + 1e-30)
                    small = (cur - new) < tol
                    for k in range(4):
                        p[k] = trial[k]
                    e, et = et, e
                    cur = new
                    lam = max(lam / 10.0, 1e-12)
                    improved = True
                    if rel < 1e-9 or small:
                        return cur, iters
                    break
            lam *= 10.0
        if not improved:
            break
    return cur, iters


#: |HillSlope| values of the start grid; 20 is the bound (a step between two doses).
_GRID_HILL = np.array([0.5, 1.0, 2.0, 4.0, 20.0])
#: LogIC50 grid points per curve, spread over the tested range ± 1.5 log units.
_GRID_POS = 17


@nb.njit(cache=True)
def _grid_start(x: np.ndarray, y: np.ndarray, w: np.ndarray, n: int, free: np.ndarray,
                lo: np.ndarray, hi: np.ndarray, out: np.ndarray) -> float:  # fmt: skip
    """Best point of a (LogIC50, HillSlope) grid, Top and Bottom solved exactly at each.

    For fixed LogIC50 and slope the curve is linear in Top and Bottom,
    y = Top·g + Bottom·(1 − g), so their least-squares values have a closed
    form (clipped to the bounds); the grid therefore searches only the two
    nonlinear parameters -- a cheap global look before Levenberg–Marquardt.
    With both asymptotes free the slope's sign is immaterial (swap Top and
    Bottom), so only descending slopes are tried; otherwise both signs.
    """
    xmin = np.inf
    xmax = -np.inf
    syy = 0.0
    for i in range(n):
        if x[i] > -np.inf:  # vehicle points (x = −inf) are not part of the tested range
            xmin = min(xmin, x[i])
            xmax = max(xmax, x[i])
        syy += w[i] * y[i] * y[i]
    if xmin > xmax:  # no dosed point at all
        xmin = xmax = 0.0
    # 10^((L − x)·h) = 10^((L − xc)·h) · 10^((xc − x)·h): n + positions powers per slope,
    # not n × positions (xc, the range's centre, keeps both factors finite).
    xc = 0.5 * (xmin + xmax)
    both = free[2] and free[3]
    nsign = 1 if both else 2
    u = np.empty(n)
    g = np.empty(n)
    best = np.inf
    for b in range(_GRID_HILL.shape[0]):
        for sgn in range(nsign):
            hill = -_GRID_HILL[b] if sgn == 0 else _GRID_HILL[b]
            hill = min(max(hill, lo[1]), hi[1])
            for i in range(n):
                if x[i] > -np.inf:
                    u[i] = _pow10(max((xc - x[i]) * hill, -300.0))
                else:  # dose 0: exactly on the zero-dose asymptote (Top when descending)
                    u[i] = 0.0 if hill < 0 else np.inf
            for a in range(_GRID_POS):
                lic = xmin - 1.5 + (xmax - xmin + 3.0) * a / (_GRID_POS - 1)
                lic = min(max(lic, lo[0]), hi[0])
                v = _pow10(max((lic - xc) * hill, -300.0))
                s_gg, s_gh, s_hh, s_gy, s_hy = _shape_sums(u, v, w, y, n, g)
                top, bottom = _asymptotes(s_gg, s_gh, s_hh, s_gy, s_hy, free, lo[2], lo[3], lo, hi)
                top = min(max(top, lo[2]), hi[2])
                bottom = min(max(bottom, lo[3]), hi[3])
                # SSE from the sums (exact for any Top/Bottom, clipped or not).
                sse = (syy - 2.0 * (top * s_gy + bottom * s_hy) + top * top * s_gg
                       + 2.0 * top * bottom * s_gh + bottom * bottom * s_hh)  # fmt: skip
                if sse < best:
                    best = sse
                    out[0] = lic
                    out[1] = hill
                    out[2] = top
                    out[3] = bottom
    return best


@nb.njit(cache=True)
def _abs_gradient(p: np.ndarray, free: np.ndarray, out: np.ndarray) -> bool:
    """Gradient of the absolute log IC50 (where the curve crosses 0.5),
    L − log10((Top − 0.5)/(0.5 − Bottom))/h, over the free parameters;
    False when the curve does not cross 0.5."""
    # Not crossing 0.5 (either asymptote at or on the same side of it): no gradient.
    if not (p[2] - 0.5) * (0.5 - p[3]) > 0 or p[1] == 0.0:
        return False
    ratio = (p[2] - 0.5) / (0.5 - p[3])
    out[0] = 1.0
    out[1] = math.log10(ratio) / (p[1] * p[1])
    out[2] = -1.0 / (p[1] * _LN10 * (p[2] - 0.5))
    out[3] = -1.0 / (p[1] * _LN10 * (0.5 - p[3]))
    for u in range(4):
        if not free[u]:
            out[u] = 0.0
    return True


@nb.njit(cache=True, parallel=True)
def _fit_all(x: np.ndarray, y: np.ndarray, w: np.ndarray, npts: np.ndarray, starts: np.ndarray, free: np.ndarray,
             lo: np.ndarray, hi: np.ndarray, max_iter: int, grid: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    n_curves = x.shape[0]
    params = np.empty((n_curves, 4))
    sse = np.full(n_curves, np.inf)
    sst_out = np.full(n_curves, np.nan)
    var = np.full((n_curves, 2), np.nan)
    for c in nb.prange(n_curves):
        best = np.inf
        n = npts[c]
        sw = 0.0
        mean = 0.0
        for i in range(n):
            sw += w[c, i]
            mean += w[c, i] * y[c, i]
        mean /= max(sw, 1e-300)
        sst = 0.0
        for i in range(n):
            sst += w[c, i] * (y[c, i] - mean) ** 2
        # Converged when the SSE stops falling relative to the data's own spread.
        tol = 1e-9 * sst + 1e-30
        p0 = np.empty(4)
        for s in range(starts.shape[1]):
            p = starts[c, s].copy()
            cap = min(_FIRST_CAP, max_iter) if grid and s == 0 else max_iter
            val, used = _lm(p, x[c], y[c], w[c], n, free, lo[c], hi[c], cap, tol)
            if val < best:
                best = val
                params[c] = p
            # A good first fit (R² ≥ 0.9, LogIC50 inside the bounds) needs no other start.
            if s == 0 and best <= 0.1 * sst and lo[c, 0] < params[c, 0] < hi[c, 0]:
                if used >= cap and cap < max_iter:
                    p = params[c].copy()
                    best, _ = _lm(p, x[c], y[c], w[c], n, free, lo[c], hi[c], max_iter, tol)
                    params[c] = p
                break
            if grid and s == 0:
                # Otherwise a global look: refine the best point of a coarse grid
                # (which replaces the remaining starts).
                p0[:] = p
                p = np.empty(4)
                _grid_start(x[c], y[c], w[c], n, free, lo[c], hi[c], p)
                val, _ = _lm(p, x[c], y[c], w[c], n, free, lo[c], hi[c], max_iter, tol)
                if val < best:
                    best = val
                    params[c] = p
                elif used >= cap and cap < max_iter:
                    # The first start is still ahead and was cut short: finish it.
                    best, _ = _lm(p0, x[c], y[c], w[c], n, free, lo[c], hi[c], max_iter, tol)
                    params[c] = p0
                break
        sse[c] = best
        sst_out[c] = sst
        # (JᵀJ)⁻¹ at the solution, as quadratic forms: the variance factors of
        # LogIC50 and of the absolute log IC50 (delta method; see _abs_gradient).
        a = np.zeros((4, 4))
        j = np.zeros(4)
        for i in range(n):
            _jac(params[c], x[c, i], j)
            for u in range(4):
                for v in range(4):
                    if free[u] and free[v]:
                        a[u, v] += w[c, i] * j[u] * j[v]
        for u in range(4):
            if not free[u]:
                a[u, u] = 1.0
        grad = np.zeros(4)
        sol = np.zeros(4)
        grad[0] = 1.0
        if _solve4(a, grad, sol) and sol[0] > 0:
            var[c, 0] = sol[0]
        if _abs_gradient(params[c], free, grad) and _solve4(a, grad, sol):
            q = 0.0
            for u in range(4):
                q += grad[u] * sol[u]
            if q > 0:
                var[c, 1] = q
    return params, sse, sst_out, var


@nb.njit(cache=True, parallel=True)
def _aggregate(x: np.ndarray, y: np.ndarray, npts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Per curve: distinct doses (sorted), mean response, replicate count, within-dose sum of squares."""
    n_curves, width = x.shape
    xs = np.zeros((n_curves, width))
    ys = np.zeros((n_curves, width))
    ws = np.zeros((n_curves, width))
    m = np.zeros(n_curves, dtype=np.int64)
    ssw = np.zeros(n_curves)
    for c in nb.prange(n_curves):
        n = npts[c]
        order = np.argsort(x[c, :n])
        k = -1
        last = np.nan
        for i in range(n):
            xi = x[c, order[i]]
            yi = y[c, order[i]]
            if k < 0 or xi != last:
                k += 1
                xs[c, k] = xi
                last = xi
            ws[c, k] += 1.0
            ys[c, k] += yi
        m[c] = k + 1
        for j in range(k + 1):
            ys[c, j] /= ws[c, j]
        j = 0  # the points of dose j are contiguous in ``order``
        for i in range(n):
            xi = x[c, order[i]]
            while xs[c, j] != xi:
                j += 1
            d = y[c, order[i]] - ys[c, j]
            ssw[c] += d * d
    return xs, ys, ws, m, ssw


@dataclass
class CurveSet:
    """Curves packed for the batch fitter (log10 molar dose, response, point counts)."""

    ids: np.ndarray
    x: np.ndarray  # (n_curves, max_points), padded
    y: np.ndarray
    n: np.ndarray  # points per curve


def pack(frame: pd.DataFrame, curve: str = "curve_id", dose: str = "dose_molar",
         response: str = "response", *, vehicle: bool = True) -> CurveSet:  # fmt: skip
    """Pack a long table into padded arrays.

    Vehicle rows (dose exactly 0) enter as x = −inf, the model's zero-dose limit
    (Top for a descending curve), as drc's standard analysis uses them; with
    ``vehicle=False`` they are left out. Rows with a missing or non-finite
    response or dose, or a negative dose, are left out here: readers report them
    (:func:`trkres.assays.doseresponse.io.read_long_checked`).
    """
    use = frame[[curve, dose, response]].dropna()
    d = use[dose].to_numpy(dtype=float)
    keep = (
        np.isfinite(d)
        & ((d > 0) | ((d == 0) & vehicle))
        & np.isfinite(use[response].to_numpy(dtype=float))
    )
    use, d = use[keep], d[keep]
    with np.errstate(divide="ignore"):
        x = np.where(d > 0, np.log10(np.where(d > 0, d, 1.0)), -np.inf)
    # The ids' own array: pandas' string arrays factorize without Python str objects.
    cs = pack_arrays(use[curve].array, x, use[response].to_numpy(dtype=float))
    return CurveSet(np.asarray(cs.ids, dtype=object), cs.x, cs.y, cs.n)


def pack_arrays(curve: np.ndarray, x: np.ndarray, y: np.ndarray) -> CurveSet:
    """Padded arrays from flat ones: curve ids (any order), log10 doses, responses."""
    codes, ids = pd.factorize(curve, sort=False)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    counts = np.bincount(codes, minlength=len(ids))
    width = int(counts.max()) if len(counts) else 0
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = np.arange(len(codes)) - starts[codes]
    xs = np.zeros((len(ids), width))
    ys = np.zeros((len(ids), width))
    xs[codes, pos] = x[order]
    ys[codes, pos] = y[order]
    return CurveSet(np.asarray(ids), xs, ys, counts.astype(np.int64))


@nb.njit(cache=True, parallel=True)
def _ranges(x: np.ndarray, y: np.ndarray, npts: np.ndarray) -> np.ndarray:
    """Per curve: min and max dose and response, and the mean response of the lowest
    and of the highest quarter of the doses (at least one point each)."""
    out = np.empty((x.shape[0], 7))
    for c in nb.prange(x.shape[0]):
        n = npts[c]
        if n == 0:
            out[c] = np.nan
            continue
        order = np.argsort(x[c, :n])
        k = max(n // 4, 1)
        low = 0.0
        high = 0.0
        for i in range(k):
            low += y[c, order[i]]
            high += y[c, order[n - 1 - i]]
        # The tested range leaves vehicle points (x = −inf, sorted first) out.
        first = 0
        while first < n - 1 and x[c, order[first]] == -np.inf:
            first += 1
        out[c, 0] = x[c, order[first]] if x[c, order[first]] > -np.inf else 0.0
        out[c, 1] = x[c, order[n - 1]] if x[c, order[n - 1]] > -np.inf else 0.0
        out[c, 2] = y[c, :n].min()
        out[c, 3] = y[c, :n].max()
        low /= k
        high /= k
        out[c, 4] = low
        out[c, 5] = high
        # Where the responses first cross half-way from low- to high-dose level
        # (linear interpolation in log dose; mid-range if they never do).
        half = 0.5 * (low + high)
        out[c, 6] = 0.5 * (out[c, 0] + out[c, 1])
        for i in range(n - 1):
            y0 = y[c, order[i]] - half
            y1 = y[c, order[i + 1]] - half
            if y0 == 0.0 or y0 * y1 < 0.0:
                x0 = x[c, order[i]]
                x1 = x[c, order[i + 1]]
                if x0 == -np.inf:  # between the vehicle and the lowest dose
                    out[c, 6] = out[c, 0]
                else:
                    out[c, 6] = x0 + (x1 - x0) * y0 / (y0 - y1)
                break
    return out


def _starts(
    cs: CurveSet, model: Model, top: np.ndarray | None = None, bottom: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data-driven start (LogIC50 where the responses cross half-way, slope −1,
    low- and high-dose responses as Top and Bottom), shape (curves, 1, 4), and the bounds (curves, 4) each."""
    n_curves = len(cs.n)
    xmin, xmax, ymin, ymax, low_dose, high_dose, cross = _ranges(cs.x, cs.y, cs.n).T
    span = np.maximum(ymax - ymin, 1e-6)
    if top is None:
        top = np.ones(n_curves) if model in ("3pl", "2pl") else low_dose
    if bottom is None:
        bottom = np.zeros(n_curves) if model == "2pl" else high_dose
    starts = np.column_stack([cross, np.full(n_curves, -1.0), top, bottom])[:, None, :]
    lo = np.column_stack([xmin - 3, np.full(n_curves, -20.0), ymin - span, ymin - span])
    hi = np.column_stack([xmax + 3, np.full(n_curves, 20.0), ymax + span, ymax + span])
    if model in ("3pl", "2pl"):
        lo[:, 2] = hi[:, 2] = top
    if model == "2pl":
        lo[:, 3] = hi[:, 3] = bottom
    return starts, lo, hi


def fit_parameters(
    cs: CurveSet,
    *,
    model: Model = "4pl",
    top: np.ndarray | None = None,
    bottom: np.ndarray | None = None,
    max_iter: int = 50,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    starts: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Best-fit parameters ``(log10_ic50, hill, top, bottom)`` and SSE per curve, nothing else.

    ``top`` (with ``model="3pl"`` or ``"2pl"``) and ``bottom`` (with ``"2pl"``)
    fix those parameters per curve instead of at 1 and 0 -- what ZIP's
    constrained refits need. ``bounds`` (lo, hi), each (n_curves, 4),
    tighten the default bounds; ``starts`` (n_curves, n_starts, 4) replace the
    data-driven starting points; ``weights`` (like ``cs.y``) make it weighted
    least squares. No statistics, no statuses: the building
    block under :func:`fit_curves`, the synergy models and GR metrics.
    """
    if len(cs.ids) == 0:
        return np.empty((0, 4)), np.empty(0)
    default_starts, lo, hi = _starts(cs, model, top, bottom)
    if bounds is not None:  # (n_curves, 4) each; a fixed parameter keeps lo = hi
        lo, hi = np.maximum(lo, bounds[0]), np.minimum(hi, bounds[1])
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    start = default_starts if starts is None else starts
    start = np.clip(start, lo[:, None, :], hi[:, None, :])
    w = np.ones_like(cs.y) if weights is None else weights
    params, sse, _, _ = _fit_all(
        cs.x, cs.y, w, cs.n, start, np.array(_FREE[model]), lo, hi, max_iter, starts is None
    )
    return params, sse


#: Huber's tuning constant (95% efficiency under normal errors).
HUBER_K = 1.345


def huber_weights(cs: CurveSet, params: np.ndarray) -> np.ndarray:
    """IRLS weights min(1, k·s/|r|), s = 1.4826 · median |residual| of each curve (MAD scale)."""
    mask = np.arange(cs.x.shape[1])[None, :] < cs.n[:, None]
    fitted = log_logistic(cs.x, params[:, :1], params[:, 1:2], params[:, 2:3], params[:, 3:4])
    r = np.where(mask, np.abs(cs.y - fitted), np.nan)
    scale = 1.4826 * np.nanmedian(r, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(r > 0, np.minimum(1.0, HUBER_K * scale / r), 1.0)
    return np.where(mask & np.isfinite(w), w, 1.0)


#: Curve statuses, in the order of the categorical ``status`` column.
STATUSES = ["ok", "flat", "out_of_range", "failed", "ambiguous"]

#: Statuses whose LogIC50 may be used for a fold change (an out-of-range IC50 is an
#: extrapolation, but a determined one); ``ambiguous``, ``flat`` and ``failed`` are not.
USABLE_STATUSES = ("ok", "out_of_range")

#: Why a curve got its status (the ``status_reason`` column); "" for ``ok``.
REASONS = [
    "",
    "F-test against a flat line not significant (p >= alpha)",
    "LogIC50 below the lowest tested dose",
    "LogIC50 above the highest tested dose",
    "fewer points than parameters + 1",
    "no dose above 0 (vehicle rows only)",
    "non-finite fit",
    "Hill slope at its bound (|HillSlope| 0.1 or 20): the slope is not determined by the data",
    "LogIC50 at its bound (3 log units beyond the tested doses): the IC50 is not determined",
    "Top or Bottom at its bound: the asymptote is not determined by the data",
    "no finite 95% CI for LogIC50: the parameters are not identifiable from these data",
    "95% CI of LogIC50 reaches beyond its bounds (tested doses ± 3 log units): IC50 not determined",
]

FIT_COLUMNS = [
    "curve_id", "status", "status_reason", "model", "log10_ic50", "ic50", "log10_ic50_ci_low", "log10_ic50_ci_high",
    "ic50_ci_low", "ic50_ci_high", "abs_ic50", "abs_ic50_ci_low", "abs_ic50_ci_high", "hill_slope", "top", "bottom", "emax", "auc", "aac",
    "sse", "rmse", "r2", "f_value", "p_value", "n_points", "n_vehicle", "log10_dose_min", "log10_dose_max",
]  # fmt: skip


def _check_call(curves: object, model: object, vehicle: object) -> None:
    """Refuse a call :func:`fit_curves` cannot serve, with a clear :class:`InputError`."""
    if model not in _FREE:
        raise InputError("unknown model", expected="4pl, 3pl or 2pl", found=repr(model)[:100])
    if vehicle not in ("use", "ignore"):
        raise InputError("unknown vehicle", expected="use or ignore", found=repr(vehicle)[:100])
    if isinstance(curves, pd.DataFrame):
        missing = [c for c in ("curve_id", "dose_molar", "response") if c not in curves.columns]
        if missing:
            raise InputError(
                "the table is not prepared for fitting",
                expected="columns curve_id, dose_molar (molar), response (from "
                "trkres.doseresponse.prepare or a reader in trkres.assays.doseresponse.io)",
                found=", ".join(map(str, curves.columns))[:300],
                hint="tr.doseresponse.prepare(df, group=[...], dose_unit='nM') makes one",
            )
    elif not isinstance(curves, CurveSet):
        raise InputError("wrong curves", expected="a DataFrame or a CurveSet",
                         found=type(curves).__name__)  # fmt: skip


def fit_curves(
    curves: CurveSet | pd.DataFrame,
    *,
    model: Model = "4pl",
    alpha: float = 0.05,
    max_iter: int = 50,
    robust: bool = False,
    vehicle: Literal["use", "ignore"] = "use",
) -> pd.DataFrame:
    """Fit every curve; one row per curve with :data:`FIT_COLUMNS`.

    Vehicle rows (dose 0) are, by default, points at the model's zero-dose
    limit (Top for a descending curve, Bottom for an ascending one), as in
    drc's standard analysis; ``n_vehicle`` counts them and ``n_points``
    includes them. ``vehicle="ignore"`` fits dose > 0 only.

    Status (with its ``status_reason``): ``failed`` (fewer points than
    parameters + 1, no dose above 0, or a non-finite fit), ``flat`` (the
    F-test against a flat line is not significant at ``alpha``),
    ``ambiguous`` (the data do not determine the fit, as Prism says it: the
    Hill slope, the LogIC50 or an asymptote sits on its bound, or LogIC50 has
    no finite CI or one reaching beyond its bounds, the tested doses ± 3 log
    units -- the numbers are reported but must not be trusted),
    ``out_of_range`` (LogIC50 outside the tested doses), else ``ok``; an
    ``ok`` fit always has a finite CI. IC50s are molar; 95% CIs are
    asymptotic (Wald, Student t on n − p df): for the relative IC50 on
    LogIC50 directly, for the absolute IC50 (the dose giving response 0.5,
    i.e. 50% of vehicle) by the delta method on log10 of it. Both are
    symmetric in log dose. AUC is the mean fitted response over the tested
    log-dose range (log10 dose min to max, vehicle excluded); AAC = 1 − AUC.

    ``robust=True`` down-weights outlying points with Huber's loss
    (iteratively reweighted least squares, five rounds, MAD scale, k = 1.345):
    a single bad well then no longer drags the curve. Statistics are then the
    weighted ones and ``n_downweighted`` counts the points given weight < 1.
    """
    _check_call(curves, model, vehicle)
    cs = pack(curves, vehicle=vehicle == "use") if isinstance(curves, pd.DataFrame) else curves
    n_curves = len(cs.ids)
    free = np.array(_FREE[model])
    k = int(free.sum())
    if n_curves == 0:
        return pd.DataFrame(columns=FIT_COLUMNS)
    w = np.ones_like(cs.y)
    mask = np.arange(cs.x.shape[1])[None, :] < cs.n[:, None]
    dosed = mask & (cs.x > -np.inf)  # vehicle points sit at x = −inf
    n_vehicle = (mask & ~dosed).sum(axis=1)
    if robust:
        starts, lo, hi = _starts(cs, model)
        params, sse, sst, var = _fit_all(cs.x, cs.y, w, cs.n, starts, free, lo, hi, max_iter, True)
        for _ in range(5):
            w = huber_weights(cs, params)
            params, sse, sst, var = _fit_all(
                cs.x, cs.y, w, cs.n, params[:, None, :].copy(), free, lo, hi, max_iter, False
            )
    else:
        # Replicates of a dose enter least squares only through their mean and count:
        # fitting the means with count weights has the same minimiser and JᵀJ, at a
        # fraction of the work; the within-dose sum of squares is added back to the
        # SSE and to the total sum of squares.
        xs, ys, ws, m, ssw = _aggregate(cs.x, cs.y, cs.n)
        width = int(m.max())
        xs, ys, ws = xs[:, :width].copy(), ys[:, :width].copy(), ws[:, :width].copy()
        starts, lo, hi = _starts(CurveSet(cs.ids, xs, ys, m), model)
        params, sse, sst, var = _fit_all(xs, ys, ws, m, starts, free, lo, hi, max_iter, True)
        sse, sst = sse + ssw, sst + ssw
    # The tested range: dosed points only (vehicle rows are its zero-dose limit, not a dose).
    xmin = np.where(dosed, cs.x, np.inf).min(axis=1)
    xmax = np.where(dosed, cs.x, -np.inf).max(axis=1)
    no_dose = ~(xmin <= xmax)
    xmin, xmax = np.where(no_dose, np.nan, xmin), np.where(no_dose, np.nan, xmax)
    n = cs.n.astype(float)
    dof = n - k
    with np.errstate(divide="ignore", invalid="ignore"):
        f_value = ((sst - sse) / (k - 1)) / (sse / dof)
        p_value = stats.f.sf(f_value, k - 1, dof)
        r2 = 1 - sse / sst
        rmse = np.sqrt(sse / n)
    log_ic50, hill, top, bottom = params.T
    # Asymptotic (Wald) SEs: s² gᵀ(JᵀJ)⁻¹g over the free parameters, g the gradient of
    # LogIC50 (relative) or of the absolute log IC50 (delta method).
    se = np.sqrt(var * (sse / np.maximum(dof, 1))[:, None])
    se = np.where(np.isfinite(se) & (se < 50), se, np.nan)  # unidentifiable: no CI
    dofs, inverse = np.unique(np.maximum(dof, 1), return_inverse=True)
    tcrit = stats.t.ppf(0.975, dofs)[inverse]  # 95% CIs
    auc = mean_response(params, xmin, xmax)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        emax = log_logistic(xmax, log_ic50, hill, top, bottom, clamp=False)
        # Absolute IC50: where the fitted curve crosses 0.5 (if it does).
        ratio = (top - bottom) / (0.5 - bottom) - 1
        abs_log = log_ic50 - np.log10(ratio) / hill
    crosses = (np.minimum(top, bottom) < 0.5) & (np.maximum(top, bottom) > 0.5)
    abs_log = np.where(crosses, abs_log, np.nan)
    half, abs_half = tcrit * se[:, 0], tcrit * se[:, 1]
    code, reason = _classify(
        params, sse, dof, p_value, alpha, half, xmin, xmax, lo, hi, free, no_dose
    )
    status = pd.Categorical.from_codes(code, dtype=pd.CategoricalDtype(STATUSES))
    out = pd.DataFrame(
        {
            "curve_id": cs.ids, "status": status,
            "status_reason": pd.Categorical.from_codes(reason, dtype=pd.CategoricalDtype(REASONS)),
            "model": pd.Categorical.from_codes(np.zeros(n_curves, dtype=np.int8), dtype=pd.CategoricalDtype([model])),
            "log10_ic50": log_ic50, "ic50": 10**log_ic50,
            "log10_ic50_ci_low": log_ic50 - half, "log10_ic50_ci_high": log_ic50 + half,
            "ic50_ci_low": 10 ** (log_ic50 - half), "ic50_ci_high": 10 ** (log_ic50 + half),
            "abs_ic50": 10**abs_log, "abs_ic50_ci_low": 10 ** (abs_log - abs_half),
            "abs_ic50_ci_high": 10 ** (abs_log + abs_half), "hill_slope": hill, "top": top, "bottom": bottom, "emax": emax,
            "auc": auc, "aac": 1 - auc, "sse": sse, "rmse": rmse, "r2": r2, "f_value": f_value,
            "p_value": p_value, "n_points": cs.n, "n_vehicle": n_vehicle,
            "log10_dose_min": xmin, "log10_dose_max": xmax,
        }
    )  # fmt: skip
    failed = out["status"] == "failed"
    out.loc[
        failed,
        ["log10_ic50", "ic50", "log10_ic50_ci_low", "log10_ic50_ci_high", "ic50_ci_low", "ic50_ci_high",
         "hill_slope", "abs_ic50", "abs_ic50_ci_low", "abs_ic50_ci_high"],
    ] = np.nan  # fmt: skip
    if robust:
        out["n_downweighted"] = ((w < 1) & mask).sum(axis=1)
        return out[[*FIT_COLUMNS, "n_downweighted"]]
    return out[FIT_COLUMNS]


def _classify(
    params: np.ndarray, sse: np.ndarray, dof: np.ndarray, p_value: np.ndarray, alpha: float,
    half: np.ndarray, xmin: np.ndarray, xmax: np.ndarray, lo: np.ndarray, hi: np.ndarray,
    free: np.ndarray, no_dose: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Status codes (into :data:`STATUSES`) and reason codes (into :data:`REASONS`), vectorised.

    Precedence: failed, flat, ambiguous, out_of_range, ok.
    """
    log_ic50, hill = params[:, 0], params[:, 1]
    eps = 1e-7
    hill_bound = (np.abs(np.abs(hill) - 20.0) <= 20.0 * eps) | (
        np.abs(np.abs(hill) - 0.1) <= 0.1 * eps
    )
    tol = eps * np.maximum(1.0, np.abs(lo))
    at = (np.abs(params - lo) <= tol) | (np.abs(params - hi) <= tol)
    ic50_bound = at[:, 0]
    asym_bound = (free[2] & at[:, 2]) | (free[3] & at[:, 3])
    with np.errstate(invalid="ignore"):
        below, above = log_ic50 < xmin, log_ic50 > xmax
    conditions = [
        no_dose, dof < 1, ~np.isfinite(sse) | ~np.isfinite(params).all(axis=1),
        ~(p_value < alpha),
        hill_bound, ic50_bound, asym_bound, ~np.isfinite(half),
        (log_ic50 - half < lo[:, 0]) | (log_ic50 + half > hi[:, 0]),
        below, above,
    ]  # fmt: skip
    status = [3, 3, 3, 1, 4, 4, 4, 4, 4, 2, 2]
    reasons = [5, 4, 6, 1, 7, 8, 9, 10, 11, 2, 3]
    code = np.select(conditions, status, default=0).astype(np.int8)
    reason = np.select(conditions, reasons, default=0).astype(np.int8)
    return code, reason


def mean_response(params: np.ndarray, xmin: np.ndarray, xmax: np.ndarray) -> np.ndarray:
    """Mean of each fitted curve over log10 doses ``xmin``..``xmax`` (the AUC per log unit).

    Closed form: ∫ 1/(1 + 10^((L−x)h)) dx = softplus((x−L)·h·ln10) / (h·ln10).
    """
    log_ic50, hill, top, bottom = params.T
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        t1 = (xmin - log_ic50) * hill * np.log(10)
        t2 = (xmax - log_ic50) * hill * np.log(10)
        frac = (np.logaddexp(0, t2) - np.logaddexp(0, t1)) / (hill * np.log(10) * (xmax - xmin))
        result: np.ndarray = bottom + (top - bottom) * frac
    return result


def log_logistic(x: np.ndarray, log_ic50: np.ndarray, hill: np.ndarray, top: np.ndarray,
                 bottom: np.ndarray, *, clamp: bool = True) -> np.ndarray:  # fmt: skip
    """The four-parameter curve at log10 molar doses ``x`` (NumPy broadcasting).

    ``Bottom + (Top − Bottom) / (1 + 10^((LogIC50 − x) · HillSlope))`` -- the one place
    the formula is written (Prism's parameterisation; responses as fractions of vehicle).
    ``clamp`` caps the exponent at 300 so that 10^… stays finite; without it an
    overflowing power is inf and the value is exactly Bottom. The expression's order
    is fixed: every table and figure depends on its bytes.
    """
    with np.errstate(over="ignore"):
        if clamp:
            value: np.ndarray = bottom + (top - bottom) / (
                1 + 10.0 ** np.minimum((log_ic50 - x) * hill, 300.0)
            )
        else:
            value = bottom + (top - bottom) / (1 + 10 ** ((log_ic50 - x) * hill))
    return value
