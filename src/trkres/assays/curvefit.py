"""Batch dose-response fitting: four-parameter log-logistic curves, all at once.

Model (GraphPad Prism's "log(inhibitor) vs. response -- variable slope"):

    y = Bottom + (Top − Bottom) / (1 + 10^((LogIC50 − x) · HillSlope))

with ``x`` the log10 molar dose; HillSlope is negative for a descending
curve. ``model="3pl"`` fixes Top at 1 (vehicle-normalised data), ``"2pl"``
fixes Top = 1 and Bottom = 0.

Curves are packed into padded arrays (curves × points, with a mask) and fitted
by a compiled Levenberg–Marquardt loop (numba, ``cache=True``), from three
data-driven starting points, keeping the best sum of squares. Parameters are
kept in bounds by projection: LogIC50 within the tested range ± 3 log units,
|HillSlope| in [0.1, 20], Top and Bottom within the data range ± its span.
Everything is deterministic.

Statistics per curve: an extra-sum-of-squares F-test against a flat line
(mean), R², RMSE, asymptotic (Wald) 95% CIs from the Jacobian with Student t
on n − p degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numba as nb
import numpy as np
import pandas as pd
from scipy import stats

Model = Literal["4pl", "3pl", "2pl"]
_FREE = {
    "4pl": (True, True, True, True),
    "3pl": (True, True, False, True),
    "2pl": (True, True, False, False),
}


_LN10 = 2.302585092994046


@nb.njit(cache=True)
def _pow10(z: float) -> float:
    # exp overflows to inf gracefully; clamp to keep 1 + e finite in products.
    return math.exp(min(z * _LN10, 700.0))


@nb.njit(cache=True)
def _model(p: np.ndarray, x: float) -> float:
    # p = (log_ic50, hill, top, bottom)
    value: float = p[3] + (p[2] - p[3]) / (1.0 + _pow10((p[0] - x) * p[1]))
    return value


@nb.njit(cache=True)
def _jac(p: np.ndarray, x: float, out: np.ndarray) -> float:
    """Fill the Jacobian at ``x`` and return the model value (one exp per point)."""
    e = _pow10((p[0] - x) * p[1])
    d = 1.0 + e
    span = p[2] - p[3]
    g = -span * e * _LN10 / (d * d)
    out[0] = g * p[1]
    out[1] = g * (p[0] - x)
    out[2] = 1.0 / d
    out[3] = 1.0 - 1.0 / d
    value: float = p[3] + span / d
    return value


@nb.njit(cache=True)
def _sse(p: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, n: int) -> float:
    s = 0.0
    for i in range(n):
        r = y[i] - _model(p, x[i])
        s += w[i] * r * r
    return s


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
def _lm(p: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray, n: int, free: np.ndarray,
        lo: np.ndarray, hi: np.ndarray, max_iter: int, tol: float) -> tuple[float, int]:  # fmt: skip
    lam = 1e-3
    j = np.zeros(4)
    cur = _sse(p, x, y, w, n)
    trial = np.empty(4)
    step = np.zeros(4)
    iters = 0
    for it in range(max_iter):
        iters = it + 1
        a = np.zeros((4, 4))
        b = np.zeros(4)
        for i in range(n):
            r = y[i] - _jac(p, x[i], j)
            wi = w[i]
            for u in range(4):
                if not free[u]:
                    continue
                b[u] += wi * j[u] * r
                for v in range(4):
                    if free[v]:
                        a[u, v] += wi * j[u] * j[v]
        improved = False
        for _attempt in range(12):
            m = a.copy()
            for u in range(4):
                if free[u]:
                    m[u, u] += lam * (a[u, u] + 1e-12)
                else:
                    m[u, u] = 1.0
                    b[u] = 0.0
            if _solve4(m, b, step):
                for k in range(4):
                    trial[k] = p[k] + step[k]
                _clip(trial, lo, hi)
                new = _sse(trial, x, y, w, n)
                if new < cur:
                    rel = (cur - new) / (cur + 1e-30)
                    small = (cur - new) < tol
                    for k in range(4):
                        p[k] = trial[k]
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


@nb.njit(cache=True, parallel=True)
def _fit_all(x: np.ndarray, y: np.ndarray, w: np.ndarray, npts: np.ndarray, starts: np.ndarray, free: np.ndarray,
             lo: np.ndarray, hi: np.ndarray, max_iter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    n_curves = x.shape[0]
    params = np.empty((n_curves, 4))
    sse = np.full(n_curves, np.inf)
    var0 = np.full(n_curves, np.nan)
    for c in nb.prange(n_curves):
        best = np.inf
        n = npts[c]
        mean = 0.0
        for i in range(n):
            mean += y[c, i]
        mean /= max(n, 1)
        sst = 0.0
        for i in range(n):
            sst += (y[c, i] - mean) ** 2
        for s in range(starts.shape[1]):
            p = starts[c, s].copy()
            # Converged when the SSE stops falling relative to the data's own spread.
            val, _ = _lm(p, x[c], y[c], w[c], n, free, lo[c], hi[c], max_iter, 1e-9 * sst + 1e-30)
            if val < best:
                best = val
                params[c] = p
            # A good first fit (R² ≥ 0.9, LogIC50 inside the bounds) needs no other start.
            if s == 0 and best <= 0.1 * sst and lo[c, 0] < params[c, 0] < hi[c, 0]:
                break
        sse[c] = best
        # (JᵀJ)⁻¹[0, 0] at the solution: the LogIC50 variance factor.
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
        e0 = np.zeros(4)
        e0[0] = 1.0
        sol = np.zeros(4)
        var0[c] = sol[0] if _solve4(a, e0, sol) and sol[0] > 0 else np.nan
    return params, sse, var0


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
         response: str = "response") -> CurveSet:  # fmt: skip
    """Pack a long table into padded arrays; rows with missing response or dose ≤ 0 are left out
    (vehicle wells belong to normalisation, not to the fit)."""
    use = frame[[curve, dose, response]].dropna()
    use = use[use[dose] > 0]
    cs = pack_arrays(use[curve].to_numpy(), np.log10(use[dose].to_numpy(dtype=float)),
                     use[response].to_numpy(dtype=float))  # fmt: skip
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


def _starts(
    cs: CurveSet, model: Model, top: np.ndarray | None = None, bottom: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_curves, width = cs.x.shape
    mask = np.arange(width)[None, :] < cs.n[:, None]
    x = np.where(mask, cs.x, np.nan)
    y = np.where(mask, cs.y, np.nan)
    xmin, xmax = np.nanmin(x, axis=1), np.nanmax(x, axis=1)
    ymin, ymax = np.nanmin(y, axis=1), np.nanmax(y, axis=1)
    span = np.maximum(ymax - ymin, 1e-6)
    order = np.argsort(np.where(mask, cs.x, np.inf), axis=1)
    sorted_y = np.take_along_axis(np.where(mask, cs.y, np.nan), order, axis=1)
    k = np.maximum(cs.n // 4, 1)
    idx = np.arange(width)[None, :]
    low_dose = np.nanmean(np.where(idx < k[:, None], sorted_y, np.nan), axis=1)
    high_rank = (cs.n - k)[:, None]
    high_dose = np.nanmean(
        np.where((idx >= high_rank) & (idx < cs.n[:, None]), sorted_y, np.nan), axis=1
    )
    if top is None:
        top = np.ones(n_curves) if model in ("3pl", "2pl") else low_dose
    if bottom is None:
        bottom = np.zeros(n_curves) if model == "2pl" else high_dose
    mid = (xmin + xmax) / 2
    starts = np.empty((n_curves, 3, 4))
    for s, (pos, hill) in enumerate([(0.5, -1.0), (0.2, -2.0), (0.8, -0.7)]):
        starts[:, s, 0] = xmin + pos * (xmax - xmin)
        starts[:, s, 1] = hill
        starts[:, s, 2] = top
        starts[:, s, 3] = bottom
    starts[:, 0, 0] = mid
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
    params, sse, _ = _fit_all(cs.x, cs.y, w, cs.n, start, np.array(_FREE[model]), lo, hi, max_iter)
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


FIT_COLUMNS = [
    "curve_id", "status", "model", "log10_ic50", "ic50", "log10_ic50_ci_low", "log10_ic50_ci_high",
    "ic50_ci_low", "ic50_ci_high", "abs_ic50", "hill_slope", "top", "bottom", "emax", "auc", "aac",
    "sse", "rmse", "r2", "f_value", "p_value", "n_points", "log10_dose_min", "log10_dose_max",
]  # fmt: skip


def fit_curves(
    curves: CurveSet | pd.DataFrame,
    *,
    model: Model = "4pl",
    alpha: float = 0.05,
    max_iter: int = 50,
    robust: bool = False,
) -> pd.DataFrame:
    """Fit every curve; one row per curve with :data:`FIT_COLUMNS`.

    Status: ``failed`` (fewer points than parameters + 1, or a non-finite
    fit), ``flat`` (the F-test against a flat line is not significant at
    ``alpha``), ``out_of_range`` (LogIC50 outside the tested doses), else
    ``ok``. IC50s are molar; CIs are asymptotic (Wald, Student t).
    AUC is the mean fitted response over the tested log-dose range
    (log10 dose min to max); AAC = 1 − AUC.

    ``robust=True`` down-weights outlying points with Huber's loss
    (iteratively reweighted least squares, five rounds, MAD scale, k = 1.345):
    a single bad well then no longer drags the curve. Statistics are then the
    weighted ones and ``n_downweighted`` counts the points given weight < 1.
    """
    cs = pack(curves) if isinstance(curves, pd.DataFrame) else curves
    n_curves = len(cs.ids)
    free = np.array(_FREE[model])
    k = int(free.sum())
    if n_curves == 0:
        return pd.DataFrame(columns=FIT_COLUMNS)
    w = np.ones_like(cs.y)
    if robust:
        starts, lo, hi = _starts(cs, model)
        params, sse, var0 = _fit_all(cs.x, cs.y, w, cs.n, starts, free, lo, hi, max_iter)
    else:
        # Replicates of a dose enter least squares only through their mean and count:
        # fitting the means with count weights has the same minimiser and JᵀJ, at a
        # fraction of the work; the within-dose sum of squares is added back to the SSE.
        xs, ys, ws, m, ssw = _aggregate(cs.x, cs.y, cs.n)
        width = int(m.max())
        xs, ys, ws = xs[:, :width].copy(), ys[:, :width].copy(), ws[:, :width].copy()
        agg = CurveSet(cs.ids, xs, ys, m)
        starts, lo, hi = _starts(agg, model)
        params, sse, var0 = _fit_all(xs, ys, ws, m, starts, free, lo, hi, max_iter)
        sse = sse + ssw
    if robust:
        for _ in range(5):
            w = huber_weights(cs, params)
            params, sse, var0 = _fit_all(
                cs.x, cs.y, w, cs.n, params[:, None, :].copy(), free, lo, hi, max_iter
            )
    width = cs.x.shape[1]
    mask = np.arange(width)[None, :] < cs.n[:, None]
    y = np.where(mask, cs.y, np.nan)
    wm = np.where(mask, w, 0.0)
    mean = np.nansum(wm * np.nan_to_num(y), axis=1) / wm.sum(axis=1)
    sst = np.nansum(wm * (y - mean[:, None]) ** 2, axis=1)
    n = cs.n.astype(float)
    dof = n - k
    with np.errstate(divide="ignore", invalid="ignore"):
        f_value = ((sst - sse) / (k - 1)) / (sse / dof)
        p_value = stats.f.sf(f_value, k - 1, dof)
        r2 = 1 - sse / sst
        rmse = np.sqrt(sse / n)
    log_ic50, hill, top, bottom = params.T
    # Asymptotic SE of LogIC50: s² (JᵀJ)⁻¹, J over the free parameters.
    se = np.sqrt(var0 * sse / np.maximum(dof, 1))
    se = np.where(np.isfinite(se) & (se < 50), se, np.nan)  # unidentifiable LogIC50: no CI
    tcrit = stats.t.ppf(0.975, np.maximum(dof, 1))
    xmin = np.nanmin(np.where(mask, cs.x, np.nan), axis=1)
    xmax = np.nanmax(np.where(mask, cs.x, np.nan), axis=1)
    span = top - bottom
    auc = mean_response(params, xmin, xmax)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        emax = bottom + span / (1 + 10 ** ((log_ic50 - xmax) * hill))
        # Absolute IC50: where the fitted curve crosses 0.5 (if it does).
        ratio = (top - bottom) / (0.5 - bottom) - 1
        abs_log = log_ic50 - np.log10(ratio) / hill
    crosses = (np.minimum(top, bottom) < 0.5) & (np.maximum(top, bottom) > 0.5)
    abs_ic50 = np.where(crosses, 10**abs_log, np.nan)
    status = np.where(
        ~np.isfinite(sse) | (dof < 1), "failed",
        np.where(~(p_value < alpha), "flat",
                 np.where((log_ic50 < xmin) | (log_ic50 > xmax), "out_of_range", "ok")),
    )  # fmt: skip
    out = pd.DataFrame(
        {
            "curve_id": cs.ids, "status": status, "model": model,
            "log10_ic50": log_ic50, "ic50": 10**log_ic50,
            "log10_ic50_ci_low": log_ic50 - tcrit * se, "log10_ic50_ci_high": log_ic50 + tcrit * se,
            "ic50_ci_low": 10 ** (log_ic50 - tcrit * se), "ic50_ci_high": 10 ** (log_ic50 + tcrit * se),
            "abs_ic50": abs_ic50, "hill_slope": hill, "top": top, "bottom": bottom, "emax": emax,
            "auc": auc, "aac": 1 - auc, "sse": sse, "rmse": rmse, "r2": r2, "f_value": f_value,
            "p_value": p_value, "n_points": cs.n, "log10_dose_min": xmin, "log10_dose_max": xmax,
        }
    )  # fmt: skip
    failed = out["status"] == "failed"
    out.loc[failed, ["log10_ic50", "ic50", "hill_slope"]] = np.nan
    if robust:
        out["n_downweighted"] = ((w < 1) & mask).sum(axis=1)
        return out[[*FIT_COLUMNS, "n_downweighted"]]
    return out[FIT_COLUMNS]


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
                 bottom: np.ndarray) -> np.ndarray:  # fmt: skip
    """The four-parameter curve at log10 molar doses ``x`` (NumPy broadcasting)."""
    with np.errstate(over="ignore"):
        value: np.ndarray = bottom + (top - bottom) / (
            1 + 10.0 ** np.minimum((log_ic50 - x) * hill, 300.0)
        )
    return value
