"""Resistant vs parental: fold change in IC50, a shared-LogIC50 F-test, Emax shift.

For each group (e.g. drug) every condition (e.g. resistant line) is compared
with the reference condition (e.g. parental line):

- fold resistance = IC50_condition / IC50_reference, with a 95% CI from the
  two fits' LogIC50 standard errors (delta method on the log scale, as drc's
  ``EDcomp`` does for independently fitted curves; normal quantile);
- an extra-sum-of-squares F-test of a shared LogIC50: both curves refitted
  jointly with their own Top, Bottom and HillSlope but one LogIC50 (scipy
  ``least_squares``, within the separate fits' bounds), against the separate fits;
- the Emax shift (Bottom_condition − Bottom_reference) reported apart from the
  potency shift, so a loss of maximal effect is not mistaken for a shift in IC50;
- ``resistant`` when the fold change reaches ``threshold`` (10 by default),
  its CI lies above 1, and both fits are usable: status ``ok`` or
  ``out_of_range`` (see :data:`trkres.assays.doseresponse.curvefit.USABLE_STATUSES`). An
  ``ambiguous``, ``flat`` or ``failed`` fit never makes a call; its numbers are
  still shown with its status.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import least_squares

from trkres.assays.doseresponse.curvefit import (
    _FREE,
    USABLE_STATUSES,
    Model,
    fit_curves,
    log_logistic,
)
from trkres.assays.doseresponse.io import curve_ids
from trkres.errors import InputError

#: ``reference_status`` of a group without the reference condition: its conditions are
#: listed with no fold change (nothing to compare with), never dropped.
ABSENT = "absent"

COMPARISON_COLUMNS = [
    "group", "condition", "reference", "fold_change", "fold_ci_low", "fold_ci_high",
    "log10_fold_change", "f_shared_ic50", "p_shared_ic50", "emax_shift", "condition_status",
    "reference_status", "resistant", "threshold",
]  # fmt: skip


def _curve(x: np.ndarray, log_ic50: float, hill: float, top: float, bottom: float) -> np.ndarray:
    return log_logistic(x, log_ic50, hill, top, bottom, clamp=False)  # type: ignore[arg-type]


def _bounds(x: np.ndarray, y: np.ndarray, hill: float) -> tuple[np.ndarray, np.ndarray]:
    """The batch fitter's bounds for one curve, as (LogIC50, HillSlope, Top, Bottom) lows
    and highs: LogIC50 within the tested log doses ± 3, |HillSlope| in [0.1, 20] with the
    fitted slope's sign, Top and Bottom within the responses' range ± its span."""
    finite = x[np.isfinite(x)]
    span = float(np.ptp(y)) if len(y) else 0.0
    ymin, ymax = float(np.min(y)), float(np.max(y))
    hill_lo, hill_hi = (0.1, 20.0) if hill >= 0 else (-20.0, -0.1)
    lo = np.array([finite.min() - 3, hill_lo, ymin - span, ymin - span])
    hi = np.array([finite.max() + 3, hill_hi, ymax + span, ymax + span])
    return lo, hi


def _gradients(
    x: np.ndarray, log_ic50: float, hill: float, top: float, bottom: float
) -> np.ndarray:
    """Columns d curve / d (LogIC50, HillSlope, Top, Bottom) at log doses ``x`` (vehicle:
    ``x = -inf``, where the curve is its zero-dose asymptote and only Top or Bottom moves it)."""
    with np.errstate(over="ignore", invalid="ignore"):
        u = 10.0 ** ((log_ic50 - x) * hill)
        s = np.where(np.isfinite(u), 1.0 / (1.0 + u), 0.0)
        d = np.where(np.isfinite(u), -(top - bottom) * s * s * u * np.log(10.0), 0.0)
        d_hill = np.where(np.isfinite(x), d * (log_ic50 - x), 0.0)
    return np.column_stack([d * hill, d_hill, s, 1.0 - s])


def _n_parameters(fit: pd.Series) -> int:
    """Free parameters of a fit's model: 4pl 4, 3pl 3 (Top = 1), 2pl 2 (Top = 1, Bottom = 0)."""
    return int(sum(_FREE[str(fit.get("model", "4pl"))]))


def shared_ic50_test(
    a: pd.DataFrame, b: pd.DataFrame, fa: pd.Series, fb: pd.Series
) -> tuple[float, float]:
    """F and p of H0 "one LogIC50" for two curves (rows: dose_molar, response).

    The shared model is the separate fits' own model (``fa["model"]``: 4pl; 3pl with
    Top = 1; 2pl with Top = 1 and Bottom = 0) with one LogIC50 for both curves: 2k − 1
    free parameters against the separate fits' 2k, so F has 1 and n − 2k degrees of
    freedom (the extra-sum-of-squares test of nested models). It is fitted within the
    bounds the separate fits obey (see :func:`_bounds`), with the analytic Jacobian, by
    scipy's trust-region reflective ``least_squares`` -- deterministic, where MINPACK's
    ``lm`` (unbounded, finite differences) stopped at different points of a flat valley
    from run to run.
    """
    with np.errstate(divide="ignore"):  # vehicle rows: x = −inf, the curve's zero-dose limit
        xa, ya = np.log10(a["dose_molar"].to_numpy(float)), a["response"].to_numpy(float)
        xb, yb = np.log10(b["dose_molar"].to_numpy(float)), b["response"].to_numpy(float)
    na = len(xa)
    free_one = _FREE[str(fa.get("model", "4pl"))]  # (LogIC50, HillSlope, Top, Bottom)
    # The joint vector: LogIC50, then HillSlope, Top, Bottom of a, then of b; fixed ones
    # (Top = 1, Bottom = 0) keep their value and leave the fit.
    free = np.array([True, *free_one[1:], *free_one[1:]])
    fixed = np.array([np.nan, np.nan, 1.0, 0.0, np.nan, 1.0, 0.0])

    def full(q: np.ndarray) -> np.ndarray:
        p = fixed.copy()
        p[free] = q
        return p

    def resid(q: np.ndarray) -> np.ndarray:
        p = full(q)
        return np.concatenate(
            [ya - _curve(xa, p[0], p[1], p[2], p[3]), yb - _curve(xb, p[0], p[4], p[5], p[6])]
        )

    def jac(q: np.ndarray) -> np.ndarray:
        p = full(q)
        out = np.zeros((na + len(xb), 7))
        ga, gb = _gradients(xa, p[0], p[1], p[2], p[3]), _gradients(xb, p[0], p[4], p[5], p[6])
        out[:na, [0, 1, 2, 3]] = -ga
        out[na:, [0, 4, 5, 6]] = -gb
        return out[:, free]

    start = np.array([(fa["log10_ic50"] + fb["log10_ic50"]) / 2, fa["hill_slope"], fa["top"], fa["bottom"],
                      fb["hill_slope"], fb["top"], fb["bottom"]], dtype=float)  # fmt: skip
    if not np.isfinite(start).all() or not (np.isfinite(xa).any() and np.isfinite(xb).any()):
        return float("nan"), float("nan")
    lo_a, hi_a = _bounds(xa, ya, float(fa["hill_slope"]))
    lo_b, hi_b = _bounds(xb, yb, float(fb["hill_slope"]))
    lo = np.array([max(lo_a[0], lo_b[0]), *lo_a[1:], *lo_b[1:]])
    hi = np.array([min(hi_a[0], hi_b[0]), *hi_a[1:], *hi_b[1:]])
    if not (lo < hi).all():  # no LogIC50 lies within both curves' ranges
        lo[0], hi[0] = min(lo_a[0], lo_b[0]), max(hi_a[0], hi_b[0])
    start = np.clip(start, lo, hi)
    fit = least_squares(resid, start[free], jac=jac, bounds=(lo[free], hi[free]), method="trf")
    sse_shared = float(np.sum(fit.fun**2))
    sse_sep = float(fa["sse"] + fb["sse"])
    dof = len(xa) + len(xb) - 2 * int(sum(free_one))
    if dof < 1 or sse_sep <= 0:
        return float("nan"), float("nan")
    f = max(sse_shared - sse_sep, 0.0) / (sse_sep / dof)
    return f, float(stats.f.sf(f, 1, dof))


def compare_conditions(
    data: pd.DataFrame,
    *,
    condition: str,
    reference: str,
    by: list[str] | None = None,
    threshold: float = 10.0,
    fits: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Compare every condition with ``reference`` within each ``by`` group.

    ``data`` is long: ``condition`` and ``by`` columns, ``dose_molar`` and
    ``response`` (fraction of vehicle); replicates are pooled into one curve
    per group and condition. Pass ``fits`` (from :func:`fit_curves` on the same
    curve ids) to avoid fitting twice. A group without the reference condition still
    gets one row per condition, with ``reference_status`` ``"absent"``, no fold change
    and no call.
    """
    by = by or []
    keys = [*by, condition]
    if condition not in data.columns:
        raise InputError("condition column not found", expected=condition,
                         found=", ".join(map(str, data.columns)))  # fmt: skip
    levels = pd.unique(data[condition].astype(str))
    if reference not in set(levels):
        shown = ", ".join(map(str, levels[:20])) + (
            f" … ({len(levels)} in all)" if len(levels) > 20 else ""
        )
        raise InputError(f"reference '{reference}' is not a level of column '{condition}'",
                         expected=f"one of: {shown}", found=reference,
                         hint="give --reference one of the levels found (case and spaces count)")  # fmt: skip
    data = data.copy()
    data["curve_id"] = curve_ids(data, keys)
    fitted = (fits if fits is not None else fit_curves(data)).set_index("curve_id")
    z = stats.norm.ppf(0.975)
    rows = []
    groups = data.groupby(by, sort=False) if by else [((), data)]
    for gkey, g in groups:
        label = " | ".join(map(str, gkey if isinstance(gkey, tuple) else (gkey,)))
        ref_rows = g[g[condition].astype(str) == reference]
        if ref_rows.empty:  # no reference in this group: each condition listed, not compared
            for cond in pd.unique(g[condition]):
                fc = fitted.loc[g.loc[g[condition] == cond, "curve_id"].iloc[0]]
                rows.append({"group": label, "condition": cond, "reference": reference,
                             "condition_status": fc["status"], "reference_status": ABSENT,
                             "resistant": False, "threshold": threshold})  # fmt: skip
            continue
        ref_id = ref_rows["curve_id"].iloc[0]
        fr = fitted.loc[ref_id]
        for cond, c_rows in g[g[condition].astype(str) != reference].groupby(condition, sort=False):
            fc = fitted.loc[c_rows["curve_id"].iloc[0]]
            log_fc = fc["log10_ic50"] - fr["log10_ic50"]
            # Each fit's LogIC50 SE from its 95% CI half-width, on the fit's own n − p df.
            se_a = (fc["log10_ic50_ci_high"] - fc["log10_ic50"]) / stats.t.ppf(
                0.975, max(fc["n_points"] - _n_parameters(fc), 1)
            )
            se_b = (fr["log10_ic50_ci_high"] - fr["log10_ic50"]) / stats.t.ppf(
                0.975, max(fr["n_points"] - _n_parameters(fr), 1)
            )
            se = float(np.sqrt(se_a**2 + se_b**2))
            f, p = shared_ic50_test(ref_rows, c_rows, fr, fc)
            fold = 10**log_fc
            low, high = 10 ** (log_fc - z * se), 10 ** (log_fc + z * se)
            rows.append(
                {
                    "group": label,
                    "condition": cond,
                    "reference": reference,
                    "fold_change": fold,
                    "fold_ci_low": low,
                    "fold_ci_high": high,
                    "log10_fold_change": log_fc,
                    "f_shared_ic50": f,
                    "p_shared_ic50": p,
                    "emax_shift": fc["bottom"] - fr["bottom"],
                    "condition_status": fc["status"],
                    "reference_status": fr["status"],
                    "resistant": bool(
                        fold >= threshold
                        and low > 1
                        and fc["status"] in USABLE_STATUSES
                        and fr["status"] in USABLE_STATUSES
                    ),
                    "threshold": threshold,
                }
            )
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


POOLED_COLUMNS = [
    "group", "condition", "reference", "n_experiments", "fold_change", "fold_ci_low", "fold_ci_high",
    "log10_fold_change", "tau2", "i2", "resistant", "threshold", "method",
]  # fmt: skip


def pool_experiments(
    data: pd.DataFrame,
    *,
    condition: str,
    reference: str,
    experiment: str,
    by: list[str] | None = None,
    threshold: float = 10.0,
    robust: bool = False,
    model: Model = "4pl",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fold resistance pooled over replicate experiments with a random effect for experiment.

    Each experiment (e.g. a plate or a day) gets its own resistant-vs-reference
    comparison (:func:`compare_conditions` within the experiment); the
    log10 fold changes are then combined by a DerSimonian–Laird random-effects
    model (statsmodels' ``combine_effects``), so between-experiment scatter
    (τ²) widens the CI instead of being ignored, as it is when replicates from
    different days are pooled into one curve. Returns (pooled, per-experiment).
    """
    from statsmodels.stats.meta_analysis import combine_effects

    by = by or []
    keys = [*by, experiment]
    data = data.copy()
    data["curve_id"] = curve_ids(data, [*keys, condition])
    per = compare_conditions(data, condition=condition, reference=reference, by=keys, threshold=threshold,
                             fits=fit_curves(data, model=model, robust=robust))  # fmt: skip
    parts = (
        per["group"].str.rsplit(" | ", n=1, expand=True)
        if len(per)
        else pd.DataFrame(columns=[0, 1])
    )
    per["group"], per[experiment] = (parts[0], parts[1]) if by else ("", per["group"])
    z = stats.norm.ppf(0.975)
    per["se_log10"] = (np.log10(per["fold_ci_high"]) - np.log10(per["fold_ci_low"])) / (2 * z)
    rows = []
    for (grp, cond), g in per.groupby(["group", "condition"], sort=False):
        # Experiments whose fits are not usable (ambiguous, flat, failed) do not enter the pool.
        usable = g["condition_status"].astype(str).isin(USABLE_STATUSES) & g[
            "reference_status"
        ].astype(str).isin(USABLE_STATUSES)
        ok = g[
            np.isfinite(g["log10_fold_change"])
            & np.isfinite(g["se_log10"])
            & (g["se_log10"] > 0)
            & usable
        ]
        row: dict[str, object] = {"group": grp, "condition": cond, "reference": reference,
                                  "n_experiments": len(ok), "threshold": threshold,
                                  "method": "DerSimonian-Laird random effects on log10 fold change"}  # fmt: skip
        if len(ok) >= 2:
            res = combine_effects(
                ok["log10_fold_change"].to_numpy(), ok["se_log10"].to_numpy() ** 2, method_re="dl"
            )
            frame = res.summary_frame()
            est, lo, hi = frame.loc["random effect", ["eff", "ci_low", "ci_upp"]]
            row.update({"log10_fold_change": est, "fold_change": 10**est, "fold_ci_low": 10**lo,
                        "fold_ci_high": 10**hi, "tau2": float(res.tau2), "i2": float(res.i2)})  # fmt: skip
        elif len(ok) == 1:
            r = ok.iloc[0]
            row.update({"log10_fold_change": r["log10_fold_change"], "fold_change": r["fold_change"],
                        "fold_ci_low": r["fold_ci_low"], "fold_ci_high": r["fold_ci_high"],
                        "method": "one experiment: no pooling"})  # fmt: skip
        fold = float(row.get("fold_change", np.nan))  # type: ignore[arg-type]
        low = float(row.get("fold_ci_low", np.nan))  # type: ignore[arg-type]
        row["resistant"] = bool(np.isfinite(fold) and fold >= threshold and low > 1)
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=POOLED_COLUMNS), per
