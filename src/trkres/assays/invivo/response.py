"""Per-mouse response metrics: volume change, mRECIST, AUC, angle, doubling time, endpoint.

Time ``t`` is measured from each mouse's first measurement (its baseline, ``V0``):
``t = day − baseline_day`` (days).

**mRECIST** (Gao et al., Nat Med 2015;21:1318, Methods "Response criteria"; as Xeva's
``mRECIST()`` implements it):

* ``ΔVol_t = 100·(V_t − V0)/V0`` (%);
* best response ``BR = min ΔVol_t`` over ``t ≥ 10`` days (``mrecist_min_day``, inclusive);
* best average response ``BAR = min over t ≥ 10 of mean(ΔVol_0 … ΔVol_t)`` — the running
  mean starts at the baseline point (``ΔVol_0 = 0``) and includes every measurement from
  ``t = 0`` to ``t``, those before day 10 too (as Xeva's cumulative mean does);
* CR: ``BR < −95`` and ``BAR < −40``; PR: ``BR < −50`` and ``BAR < −20``;
  SD: ``BR < 35`` and ``BAR < 30``; otherwise PD — all inequalities strict, checked from
  CR down (a mouse meeting CR's and PR's conditions is CR);
* at least 2 measurements at ``t ≥ 10`` are required (Xeva; the paper is silent);
  otherwise the class is ``NE`` (not evaluable) with the reason in ``mrecist_note``.

Where Xeva departs from the paper we follow the paper and say so: Xeva adds 1 mm³ to every
volume when the baseline is 0 (so ΔVol is defined); here a zero baseline makes ΔVol
undefined and the mouse ``NE`` ("zero baseline volume"). Xeva applies ``min.time`` to the
raw time column; here to ``t`` from the mouse's first day (identical when the data start at
day 0). Ties of the minimum take the earliest day (as R's ``which.min``).

**AUC**: trapezoid of ``ΔVol_t/100 = V_t/V0 − 1`` (fold change over baseline) over ``t``
(days) from the first to the last measurement; units fold·days; 0 for a static tumour,
negative for a shrinking one; NaN with one measurement or a zero baseline. (Xeva's
``AUC`` integrates raw volume and divides by the last time; ours is baseline-normalised so
mice of different sizes compare.)

**angle**: Xeva's ``slope()``: the least-squares slope through the origin of
``V_t − V0`` (mm³) on ``t`` (days), as ``atan(slope)`` in degrees. It depends on the units
(mm³ and days), as Xeva's does. NaN with one measurement.

**doubling_time**: ``ln 2 / a`` days from the exponential fit ``log V = log V0 + a·t``
(:func:`trkres.assays.invivo.curves.loglinear_fit`); ``inf`` when ``a <= 0``; the
``doubling_time_note`` says why a value is ``inf`` or NaN.

**endpoint**: the first measured day at which ``V_t ≥ endpoint_fold·V0`` (or
``V_t ≥ endpoint_volume`` mm³; the baseline counts, so a mouse above an absolute endpoint
at baseline reaches it at t = 0). A mouse that never reaches it is censored at its last
day (``endpoint_reached = False``, ``endpoint_day = last_day``). No endpoint given:
``endpoint_day`` NaN, ``endpoint_reached`` False, ``endpoint`` = "none". The endpoint is
the first measured day at or above the threshold, not an interpolated crossing.

All metrics are computed for every mouse at once with grouped pandas/numpy operations
(no loop over rows or mice).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trkres.assays.invivo.curves import check_volumes, doubling_time, loglinear_fit
from trkres.errors import InputError

MRECIST_CLASSES = ("CR", "PR", "SD", "PD", "NE")

METRIC_COLUMNS = (
    "mouse_id",
    "arm",
    "baseline_day",
    "baseline_volume",
    "last_day",
    "n_observations",
    "best_response",
    "best_response_day",
    "best_average_response",
    "best_average_response_day",
    "mrecist",
    "mrecist_note",
    "auc",
    "angle",
    "doubling_time",
    "doubling_time_note",
    "endpoint",
    "endpoint_day",
    "endpoint_reached",
)


def mrecist_class(best_response: object, best_average_response: object) -> np.ndarray:
    """mRECIST class of each (BR, BAR) pair (both in %), as an object array of str.

    CR: ``BR < −95`` and ``BAR < −40``; PR: ``BR < −50`` and ``BAR < −20``;
    SD: ``BR < 35`` and ``BAR < 30``; otherwise PD (strict inequalities, first match from
    CR down). A NaN in either value gives ``"NE"``.
    """
    br = np.asarray(best_response, dtype=float)
    bar = np.asarray(best_average_response, dtype=float)
    br, bar = np.broadcast_arrays(br, bar)
    out = np.select(
        [
            np.isnan(br) | np.isnan(bar),
            (br < -95.0) & (bar < -40.0),
            (br < -50.0) & (bar < -20.0),
            (br < 35.0) & (bar < 30.0),
        ],
        ["NE", "CR", "PR", "SD"],
        default="PD",
    )
    return out.astype(object)


def _first_min(
    value: np.ndarray, key: np.ndarray, day: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per group (codes ``key`` 0..n-1): min of ``value`` (NaN = not eligible) and its first day."""
    masked = np.where(np.isnan(value), np.inf, value)
    mins = np.full(n_groups, np.inf)
    np.minimum.at(mins, key, masked)
    hit = np.isfinite(masked) & (masked == mins[key])
    first_day = np.full(n_groups, np.inf)
    np.minimum.at(first_day, key[hit], day[hit])
    mins[~np.isfinite(mins)] = np.nan
    first_day[~np.isfinite(first_day)] = np.nan
    return mins, first_day


def mouse_metrics(
    volumes: pd.DataFrame,
    *,
    endpoint_fold: float | None = None,
    endpoint_volume: float | None = None,
    mrecist_min_day: float = 10.0,
) -> pd.DataFrame:
    """One row per mouse of response metrics (see the module docstring for definitions).

    ``volumes``: the data contract frame (``mouse_id, arm, day`` in days, ``volume`` in
    mm³). ``endpoint_fold`` (> 1, times the baseline volume) or ``endpoint_volume``
    (> 0 mm³), at most one of them. ``mrecist_min_day``: the days after baseline from which
    BR and BAR are taken (10 in Gao et al.).

    Columns (:data:`METRIC_COLUMNS`): ``baseline_day``, ``baseline_volume`` (mm³),
    ``last_day``, ``n_observations``, ``best_response`` and ``best_average_response`` (%),
    the days they occur, ``mrecist`` (CR/PR/SD/PD/NE), ``mrecist_note`` (why NE),
    ``auc`` (fold·days), ``angle`` (degrees), ``doubling_time`` (days) and its note,
    ``endpoint`` (the rule in words), ``endpoint_day`` and ``endpoint_reached``.
    """
    if endpoint_fold is not None and endpoint_volume is not None:
        raise InputError(
            "give one endpoint, not both",
            expected="endpoint_fold or endpoint_volume",
            found=f"endpoint_fold={endpoint_fold}, endpoint_volume={endpoint_volume}",
        )
    if endpoint_fold is not None and not (np.isfinite(endpoint_fold) and endpoint_fold > 1):
        raise InputError(
            "endpoint_fold must be a finite number above 1",
            expected="> 1 (times the baseline volume)",
            found=str(endpoint_fold),
        )
    if endpoint_volume is not None and not (np.isfinite(endpoint_volume) and endpoint_volume > 0):
        raise InputError(
            "endpoint_volume must be a finite positive volume",
            expected="> 0 mm³",
            found=str(endpoint_volume),
        )
    if not np.isfinite(mrecist_min_day) or mrecist_min_day < 0:
        raise InputError(
            "mrecist_min_day must be a finite number of days >= 0",
            expected=">= 0",
            found=str(mrecist_min_day),
        )
    df = check_volumes(volumes)
    codes, mice = pd.factorize(df["mouse_id"], sort=False)
    n_m = len(mice)
    day = df["day"].to_numpy()
    vol = df["volume"].to_numpy()
    grp = df.groupby(codes, sort=False)
    first_idx = grp.head(1).index.to_numpy()
    last_idx = grp.tail(1).index.to_numpy()
    base_day = day[first_idx]
    base_vol = vol[first_idx]
    last_day = day[last_idx]
    n_obs = np.bincount(codes, minlength=n_m)

    t = day - base_day[codes]
    v0 = base_vol[codes]
    pos0 = v0 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(pos0, vol / np.where(pos0, v0, 1.0), np.nan)
    dvol = 100.0 * (rel - 1.0)
    # Running mean of ΔVol from the baseline point to each point (all points enter).
    cum = pd.Series(dvol).groupby(codes, sort=False).cumsum().to_numpy()
    k = grp.cumcount().to_numpy() + 1
    avg = cum / k

    eligible = t >= mrecist_min_day
    n_elig = np.bincount(codes, weights=eligible.astype(float), minlength=n_m).astype(int)
    br, br_day = _first_min(np.where(eligible, dvol, np.nan), codes, day, n_m)
    bar, bar_day = _first_min(np.where(eligible, avg, np.nan), codes, day, n_m)
    zero_base = base_vol <= 0
    evaluable = (~zero_base) & (n_elig >= 2)
    br = np.where(evaluable, br, np.nan)
    bar = np.where(evaluable, bar, np.nan)
    br_day = np.where(evaluable, br_day, np.nan)
    bar_day = np.where(evaluable, bar_day, np.nan)
    klass = mrecist_class(br, bar)
    span = last_day - base_day
    md = f"{mrecist_min_day:g}"
    note = np.select(
        [
            zero_base,
            n_elig == 0,
            n_elig == 1,
        ],
        [
            "zero baseline volume: ΔVol undefined",
            np.char.add(
                f"left before day {md}: no measurement at t >= {md} days (last at t = ",
                np.char.add(np.char.mod("%g", span), ")"),
            ),
            f"fewer than 2 measurements at t >= {md} days",
        ],
        default="",
    ).astype(object)

    # AUC: trapezoid of V/V0 - 1 over t, per mouse (segments within a mouse only).
    same = np.r_[False, codes[1:] == codes[:-1]]
    seg = np.where(same, 0.5 * (t - np.r_[0.0, t[:-1]]) * (rel + np.r_[0.0, rel[:-1]] - 2.0), 0.0)
    auc = np.bincount(codes, weights=np.where(same, seg, 0.0), minlength=n_m)
    auc = np.where((n_obs >= 2) & ~zero_base, auc, np.nan)

    # Angle: slope through the origin of V - V0 on t, in degrees.
    stt = np.bincount(codes, weights=t * t, minlength=n_m)
    stv = np.bincount(codes, weights=t * (vol - v0), minlength=n_m)
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.where(stt > 0, np.degrees(np.arctan(stv / np.where(stt > 0, stt, 1.0))), np.nan)

    fit = loglinear_fit(df)
    rate = fit["a"].reindex(mice.astype(str)).to_numpy()
    dt, dt_note = doubling_time(rate)

    # Endpoint: first measured day with V >= threshold; else censored at the last day.
    if endpoint_fold is not None or endpoint_volume is not None:
        if endpoint_fold is not None:
            rule = f"volume >= {endpoint_fold:g} x baseline"
            thr = np.where(pos0, endpoint_fold * v0, np.nan)
        else:
            rule = f"volume >= {endpoint_volume:g} mm3"
            thr = np.full(vol.shape, float(endpoint_volume))  # type: ignore[arg-type]
        hit = vol >= thr
        ep_day = np.full(n_m, np.inf)
        np.minimum.at(ep_day, codes[hit], day[hit])
        reached = np.isfinite(ep_day)
        ep_day = np.where(reached, ep_day, last_day)
        if endpoint_fold is not None:
            ep_day = np.where(zero_base, np.nan, ep_day)
        endpoint = np.full(n_m, rule, dtype=object)
        if endpoint_fold is not None:
            endpoint[zero_base] = rule + " (undefined: zero baseline volume)"
    else:
        ep_day = np.full(n_m, np.nan)
        reached = np.zeros(n_m, dtype=bool)
        endpoint = np.full(n_m, "none", dtype=object)

    out = pd.DataFrame(
        {
            "mouse_id": np.asarray(mice, dtype=object).astype(str),
            "arm": df["arm"].to_numpy()[first_idx],
            "baseline_day": base_day,
            "baseline_volume": base_vol,
            "last_day": last_day,
            "n_observations": n_obs,
            "best_response": br,
            "best_response_day": br_day,
            "best_average_response": bar,
            "best_average_response_day": bar_day,
            "mrecist": klass,
            "mrecist_note": note,
            "auc": auc,
            "angle": angle,
            "doubling_time": dt,
            "doubling_time_note": dt_note,
            "endpoint": endpoint,
            "endpoint_day": ep_day,
            "endpoint_reached": reached.astype(bool),
        }
    )
    return out
