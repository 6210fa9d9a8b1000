"""Dose-escalation series: IC50 by passage (or week) and the point where resistance is established.

Resistant lines are made by culturing the parental line under rising drug
concentrations and testing it every few passages. Each time point's curve is
compared with the first (or a named reference) time point by
:func:`trkres.assays.doseresponse.resistance.compare_conditions`; resistance is
*established* at the first time point from which the fold change reaches the
threshold (10 by default) with its CI above 1 **and stays there** at every
later time point -- a single noisy jump does not count. Time points whose fit
(or the reference's) is ``ambiguous``, ``flat`` or ``failed`` are never hits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trkres.assays.doseresponse.curvefit import USABLE_STATUSES, fit_curves
from trkres.assays.doseresponse.io import curve_ids
from trkres.assays.doseresponse.resistance import compare_conditions


def track_escalation(
    data: pd.DataFrame,
    *,
    time: str,
    by: list[str] | None = None,
    reference: object | None = None,
    threshold: float = 10.0,
    robust: bool = False,
) -> pd.DataFrame:
    """One row per group and time point: IC50, fold change vs the reference time with CI, and
    ``established`` (True from the time point where resistance is established on)."""
    by = by or []
    data = data.copy()
    data[time] = pd.to_numeric(data[time], errors="raise")
    keys = [*by, time]
    data["curve_id"] = curve_ids(data, keys)
    fits = fit_curves(data, robust=robust)
    out = []
    groups = data.groupby(by, sort=False) if by else [((), data)]
    for gkey, g in groups:
        ref_time = g[time].min() if reference is None else reference
        g = g.assign(_t=g[time].astype(str))
        cmp = compare_conditions(
            g, condition="_t", reference=str(ref_time), by=by, threshold=threshold, fits=fits
        )
        ref_fit = fits.set_index("curve_id").loc[g.loc[g[time] == ref_time, "curve_id"].iloc[0]]
        base = pd.DataFrame({"condition": [str(ref_time)], "fold_change": [1.0], "fold_ci_low": [1.0],
                             "fold_ci_high": [1.0], "condition_status": [ref_fit["status"]]})  # fmt: skip
        series = pd.concat([base, cmp], ignore_index=True)
        series[time] = series["condition"].astype(float)
        series = series.sort_values(time).reset_index(drop=True)
        ic50 = fits.set_index("curve_id")["ic50"]
        label = gkey if isinstance(gkey, tuple) else (gkey,)
        series["ic50"] = [ic50.get(" | ".join(map(str, (*label, t))), np.nan) if by else ic50.get(str(t), np.nan)
                          for t in series["condition"]]  # fmt: skip
        # A hit needs a usable fit at that time point (an 'ambiguous' IC50 is not evidence).
        usable = series["condition_status"].astype(str).isin(USABLE_STATUSES) & (
            str(ref_fit["status"]) in USABLE_STATUSES
        )
        hit = (
            (series["fold_change"] >= threshold) & (series["fold_ci_low"] > 1) & usable
        ).to_numpy()
        # established from the first index after which every point is a hit
        stays = np.flip(np.cumprod(np.flip(hit))).astype(bool)
        series["established"] = stays
        first = series.loc[stays, time].min() if stays.any() else np.nan
        series["established_at"] = first
        for k, v in zip(by, label, strict=False):
            series[k] = pd.Series([v] * len(series), index=series.index)
        series["threshold"] = threshold
        out.append(series)
    cols = [*by, time, "ic50", "fold_change", "fold_ci_low", "fold_ci_high", "condition_status",
            "established", "established_at", "threshold"]  # fmt: skip
    return pd.concat(out, ignore_index=True)[cols]
