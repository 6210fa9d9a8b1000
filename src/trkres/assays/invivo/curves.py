"""Per-mouse growth curves: exponential and Gompertz fits of one tumour's volumes over time.

Both models are fitted on the **log scale** (natural log of volume in mm³) against
``t = day − first day of the mouse`` (days), so their residual sums of squares and AICs
are comparable and the exponential model is the ``b → 0`` limit of the Gompertz one:

* **exponential** ``V(t) = V0·exp(a·t)`` — ordinary least squares of ``log V`` on ``t``
  (closed form, computed for all mice at once from grouped sums; no loop).
  Doubling time ``ln 2 / a`` days when ``a > 0``.
* **Gompertz** ``V(t) = V0·exp((a/b)·(1 − exp(−b·t)))`` with ``a`` the initial specific
  growth rate (1/day) and ``b ≥ 0`` its decay rate (1/day); the plateau is
  ``V0·exp(a/b)``. Fitted with :func:`scipy.optimize.least_squares` (trust-region
  reflective, ``b`` bounded below by 0), one mouse at a time (a loop per mouse: the
  fit is iterative; ~2 ms per mouse).

Standard errors are the usual least-squares ones, ``s²·(JᵀJ)⁻¹`` with
``s² = RSS/(n − p)``; ``v0_se`` is ``V0 × se(log V0)`` (delta method).
``aic = n·log(RSS/n) + 2p`` (Gaussian errors on the log scale, constant terms dropped;
compare AICs between models for the same mouse only).

Zero volumes (a tumour that vanished) have no logarithm: they are left out of the fit
and the ``note`` says how many were. A mouse with too few positive volumes (2 for the
exponential model, 4 for the Gompertz one) gets NaN parameters, ``converged = False``
and a note; scipy never raises out of here.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from trkres.errors import InputError

_REQUIRED = ("mouse_id", "arm", "day", "volume")

GROWTH_COLUMNS = (
    "mouse_id",
    "arm",
    "model",
    "n_points",
    "v0",
    "v0_se",
    "a",
    "a_se",
    "b",
    "b_se",
    "doubling_time",
    "rss",
    "aic",
    "converged",
    "note",
)


def check_volumes(volumes: pd.DataFrame) -> pd.DataFrame:
    """The volumes frame with its required columns, sorted by arm, mouse and day.

    The reader (``invivo.io``) has already checked the contents; this only refuses a
    frame that is not the data contract's shape, with an :class:`InputError`.
    """
    if not isinstance(volumes, pd.DataFrame):
        raise InputError(
            "volumes must be a DataFrame",
            expected="pandas DataFrame with mouse_id, arm, day, volume",
            found=type(volumes).__name__,
        )
    missing = [c for c in _REQUIRED if c not in volumes.columns]
    if missing:
        raise InputError(
            "the volumes table lacks required columns",
            expected=", ".join(_REQUIRED),
            found=", ".join(map(str, volumes.columns)) or "no columns",
        )
    if volumes.empty:
        raise InputError("the volumes table has no rows", expected=">= 1 row", found="0 rows")
    out = volumes.loc[:, list(_REQUIRED)].copy()
    out["mouse_id"] = out["mouse_id"].astype(str)
    out["arm"] = out["arm"].astype(str)
    out["day"] = out["day"].astype("float64")
    out["volume"] = out["volume"].astype("float64")
    bad = ~np.isfinite(out["day"]) | ~np.isfinite(out["volume"]) | (out["volume"] < 0)
    if bad.any():
        first = out[bad].iloc[0]
        raise InputError(
            "days and volumes must be finite and volumes >= 0 (the reader reports such rows)",
            expected="finite day, finite volume >= 0 mm³",
            found=f"{int(bad.sum())} row(s), first: mouse {first['mouse_id']}, day {first['day']}, "
            f"volume {first['volume']}",
        )
    if out.duplicated(["mouse_id", "day"]).any():
        dup = out[out.duplicated(["mouse_id", "day"], keep=False)].iloc[0]
        raise InputError(
            "a mouse has two measurements on one day",
            expected="unique (mouse_id, day)",
            found=f"mouse {dup['mouse_id']}, day {dup['day']}",
        )
    arms_per_mouse = out.groupby("mouse_id", sort=False)["arm"].nunique()
    if (arms_per_mouse > 1).any():
        raise InputError(
            "a mouse is in more than one arm",
            expected="each mouse in exactly one arm",
            found="mouse " + str(arms_per_mouse[arms_per_mouse > 1].index[0]),
        )
    return out.sort_values(["arm", "mouse_id", "day"], kind="stable").reset_index(drop=True)


def loglinear_fit(volumes: pd.DataFrame) -> pd.DataFrame:
    """Exponential fit ``log V = log V0 + a·t`` of every mouse at once (OLS, closed form).

    ``volumes`` follows the data contract (see :func:`check_volumes`). Returns one row
    per mouse indexed by ``mouse_id``: ``arm``, ``n_points`` (positive volumes used),
    ``n_zero`` (zero volumes left out), ``log_v0``, ``log_v0_se``, ``a`` (1/day),
    ``a_se``, ``rss`` (log scale). Fewer than 2 positive volumes, or all of them on one
    day, give NaN parameters; SEs need 3 points (n − 2 residual degrees of freedom).
    """
    df = check_volumes(volumes)
    t = (df["day"] - df.groupby("mouse_id", sort=False)["day"].transform("first")).to_numpy()
    v = df["volume"].to_numpy()
    pos = v > 0
    key = df["mouse_id"].to_numpy()
    logv = np.where(pos, np.log(np.where(pos, v, 1.0)), np.nan)
    # Log volumes relative to each mouse's first positive one: a flat tumour's are exactly
    # 0, so its slope is exactly 0 (its mean log volume alone rounds, giving 1e-17/day and a
    # doubling time of 1e31 days instead of inf). The reference is added back to log V0.
    ref = pd.Series(logv).groupby(key, sort=False).transform("first").fillna(0.0).to_numpy()
    y = np.where(pos, logv - ref, 0.0)
    w = pos.astype(float)
    tw = t * w
    # Centred per mouse before the products: Σty − n·t̄·ȳ would cancel to ~1e-16 instead of
    # 0 on a flat tumour (a doubling time of 1e16 days instead of inf).
    grouped = pd.DataFrame({"n": w, "st": tw, "sy": y * w}).groupby(key, sort=False)
    totals = grouped.sum()
    n_row = grouped["n"].transform("sum").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        tc = np.where(pos, t - grouped["st"].transform("sum").to_numpy() / n_row, 0.0)
        yc = np.where(pos, y - grouped["sy"].transform("sum").to_numpy() / n_row, 0.0)
    sums = (
        pd.DataFrame({"sxx": tc * tc, "sxy": tc * yc, "syy": yc * yc, "stt": t * tw})
        .groupby(key, sort=False)
        .sum()
    )
    n = totals["n"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        tbar = totals["st"].to_numpy() / n
        ybar = totals["sy"].to_numpy() / n
        sxx = sums["sxx"].to_numpy()
        sxy = sums["sxy"].to_numpy()
        syy = sums["syy"].to_numpy()
        ok = (n >= 2) & (sxx > 1e-12 * np.maximum(sums["stt"].to_numpy(), 1.0))
        slope = np.where(ok, sxy / sxx, np.nan)
        y_ref = pd.Series(ref).groupby(key, sort=False).first().to_numpy()
        intercept = np.where(ok, y_ref + ybar - slope * tbar, np.nan)
        rss = np.where(ok, np.maximum(syy - slope * sxy, 0.0), np.nan)
        s2 = np.where(ok & (n > 2), rss / (n - 2), np.nan)
        slope_se = np.sqrt(s2 / sxx)
        intercept_se = np.sqrt(s2 * (1.0 / n + tbar**2 / sxx))
    first = df.groupby("mouse_id", sort=False).agg(arm=("arm", "first"), rows=("volume", "size"))
    out = pd.DataFrame(
        {
            "arm": first["arm"].to_numpy(),
            "n_points": n.astype(int),
            "n_zero": (first["rows"].to_numpy() - n).astype(int),
            "log_v0": intercept,
            "log_v0_se": intercept_se,
            "a": slope,
            "a_se": slope_se,
            "rss": rss,
        },
        index=pd.Index(sums.index.astype(str), name="mouse_id"),
    )
    return out


def doubling_time(rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Doubling time ``ln 2 / rate`` (days) and a label for each exponential rate (1/day).

    A rate <= 0 (not growing) gives ``inf`` labelled ``"not growing (rate <= 0)"``; a
    NaN rate (no fit) gives NaN labelled ``"no exponential fit"``; otherwise ``""``.
    """
    r = np.asarray(rate, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        dt = np.where(r > 0, math.log(2.0) / r, np.where(np.isnan(r), np.nan, np.inf))
    note = np.where(
        np.isnan(r), "no exponential fit", np.where(r > 0, "", "not growing (rate <= 0)")
    )
    return dt, note.astype(object)


def _aic(rss: np.ndarray, n: np.ndarray, p: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, n * np.log(rss / n) + 2 * p, np.nan)


def _exponential(volumes: pd.DataFrame) -> pd.DataFrame:
    fit = loglinear_fit(volumes)
    n = fit["n_points"].to_numpy()
    v0 = np.exp(fit["log_v0"].to_numpy())
    dt, dt_note = doubling_time(fit["a"].to_numpy())
    converged = fit["a"].notna().to_numpy()
    notes = []
    for ok, nz, npts, dn in zip(converged, fit["n_zero"], n, dt_note, strict=True):
        parts = []
        if not ok:
            parts.append(f"too few positive volumes on distinct days ({npts}; need 2)")
        elif npts == 2:
            parts.append("2 points: exact fit, no standard errors")
        if ok and dn:
            parts.append(dn)
        if nz:
            parts.append(f"{nz} zero volume(s) left out of the log-scale fit")
        notes.append("; ".join(parts))
    return pd.DataFrame(
        {
            "mouse_id": fit.index.to_numpy(),
            "arm": fit["arm"].to_numpy(),
            "model": "exponential",
            "n_points": n,
            "v0": v0,
            "v0_se": v0 * fit["log_v0_se"].to_numpy(),
            "a": fit["a"].to_numpy(),
            "a_se": fit["a_se"].to_numpy(),
            "b": np.nan,
            "b_se": np.nan,
            "doubling_time": dt,
            "rss": fit["rss"].to_numpy(),
            "aic": _aic(fit["rss"].to_numpy(), n.astype(float), 2),
            "converged": converged,
            "note": notes,
        }
    )


def gompertz_log(t: np.ndarray, log_v0: float, a: float, b: float) -> np.ndarray:
    """``log V(t)`` of the Gompertz curve: ``log V0 + (a/b)·(1 − exp(−b·t))`` (b → 0: a·t)."""
    if b == 0.0:
        return log_v0 + a * t
    return log_v0 - a * np.expm1(-b * t) / b


def _gompertz_jac(t: np.ndarray, a: float, b: float) -> np.ndarray:
    if abs(b) * float(np.max(t, initial=0.0)) < 1e-4:
        # Series in b: the closed form loses all precision as b -> 0.
        g = t - 0.5 * b * t**2 + b**2 * t**3 / 6.0
        dg_db = -0.5 * t**2 + b * t**3 / 3.0
    else:
        e = np.exp(-b * t)
        g = -np.expm1(-b * t) / b
        dg_db = (t * e - g) / b
    return np.column_stack([np.ones_like(t), g, a * dg_db])


def _fit_gompertz_one(
    t: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, bool, str]:
    """Fit one mouse (log-scale); returns params, SEs, rss, converged, note."""
    from scipy.optimize import least_squares

    nan3 = np.full(3, np.nan)
    n = t.size
    if n < 4 or np.ptp(t) <= 0:
        return (
            nan3,
            nan3,
            math.nan,
            False,
            f"too few positive volumes ({n}; need 4 on distinct days)",
        )
    # Start from the exponential fit: a0 = its rate, b0 = a small decay over the span.
    slope, intercept = np.polyfit(t, y, 1)
    span = float(np.ptp(t))
    best = None
    for a0, b0 in (
        (max(slope, 1e-3) * 1.5, 1.0 / span),
        (max(slope, 1e-3), 0.1 / span),
        (abs(slope) + 0.1, 3.0 / span),
    ):
        try:
            res = least_squares(
                lambda p: gompertz_log(t, p[0], p[1], p[2]) - y,
                x0=np.array([intercept, a0, b0]),
                jac=lambda p: _gompertz_jac(t, p[1], p[2]),
                bounds=([-np.inf, -np.inf, 0.0], [np.inf, np.inf, np.inf]),
                method="trf",
                x_scale="jac",
                max_nfev=2000,
            )
        except (
            ValueError,
            np.linalg.LinAlgError,
            FloatingPointError,
        ):  # pragma: no cover - scipy guard
            continue
        if not np.all(np.isfinite(res.x)):
            continue
        if best is None or res.cost < best.cost:
            best = res
    if best is None:
        return nan3, nan3, math.nan, False, "Gompertz fit failed from every start"
    p = best.x
    rss = float(2.0 * best.cost)
    notes = []
    converged = bool(best.success)
    if not converged:
        notes.append(f"least_squares did not converge: {best.message}")
    if p[2] <= 1e-10:
        notes.append("b at its bound 0 (the curve is exponential)")
    se = nan3.copy()
    jac = _gompertz_jac(t, p[1], p[2])
    dof = n - 3
    try:
        jtj = jac.T @ jac
        if np.linalg.cond(jtj) < 1e12:
            cov = np.linalg.inv(jtj) * (rss / dof)
            se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        else:
            notes.append("singular Jacobian: no standard errors")
    except np.linalg.LinAlgError:
        notes.append("singular Jacobian: no standard errors")
    return p, se, rss, converged, "; ".join(notes)


def _gompertz(volumes: pd.DataFrame) -> pd.DataFrame:
    df = check_volumes(volumes)
    df["t"] = df["day"] - df.groupby("mouse_id", sort=False)["day"].transform("first")
    rows = []
    # One least-squares fit per mouse (iterative); not a per-row loop.
    for mouse, g in df.groupby("mouse_id", sort=False):
        v = g["volume"].to_numpy()
        pos = v > 0
        t = g["t"].to_numpy()[pos]
        y = np.log(v[pos])
        p, se, rss, conv, note = _fit_gompertz_one(t, y)
        nz = int((~pos).sum())
        if nz:
            note = "; ".join(
                x for x in (note, f"{nz} zero volume(s) left out of the log-scale fit") if x
            )
        rows.append(
            {
                "mouse_id": str(mouse),
                "arm": g["arm"].iat[0],
                "model": "gompertz",
                "n_points": int(pos.sum()),
                "v0": math.exp(p[0]) if np.isfinite(p[0]) else math.nan,
                "v0_se": math.exp(p[0]) * se[0] if np.isfinite(p[0]) else math.nan,
                "a": p[1],
                "a_se": se[1],
                "b": p[2],
                "b_se": se[2],
                "doubling_time": math.nan,
                "rss": rss,
                "aic": float(_aic(np.array([rss]), np.array([float(pos.sum())]), 3)[0])
                if np.isfinite(rss)
                else math.nan,
                "converged": conv,
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=list(GROWTH_COLUMNS))


def per_mouse_growth(
    volumes: pd.DataFrame, model: Literal["exponential", "gompertz"] = "exponential"
) -> pd.DataFrame:
    """Fit a growth curve to each mouse's volumes.

    ``volumes``: the data contract frame (``mouse_id, arm, day, volume``; days, mm³).
    ``model``: ``"exponential"`` (closed-form log-linear OLS, all mice at once) or
    ``"gompertz"`` (scipy ``least_squares`` per mouse). Returns one row per mouse with
    the columns :data:`GROWTH_COLUMNS`: ``v0`` (mm³), ``a`` (1/day: the exponential
    rate, or the Gompertz initial rate), ``b`` (1/day, Gompertz decay; NaN for the
    exponential model), their SEs, ``doubling_time`` (days, exponential model: ``inf``
    when not growing), ``rss`` and ``aic`` on the log scale, ``converged`` and a
    ``note`` saying why a fit is missing or doubtful. Fits that fail are labelled,
    never raised.
    """
    if model == "exponential":
        return _exponential(volumes)[list(GROWTH_COLUMNS)]
    if model == "gompertz":
        return _gompertz(volumes)
    raise InputError("unknown growth model", expected="exponential or gompertz", found=repr(model))
