"""Time to a tumour-volume endpoint: Kaplan–Meier per arm, medians, log-rank and Cox.

The input (``times``) is one row per mouse — ``mouse_id, arm, time, event`` — made from
:func:`trkres.assays.invivo.response.mouse_metrics` by :func:`endpoint_times`: ``time`` is
days from the mouse's baseline to the first measured day at or above the endpoint
(``event = True``) or to its last measurement (censored, ``event = False``).

What is computed, and which reference it matches (R's ``survival``, to 1e-6 in the tests,
golden files from ``tools/golden/invivo_survival.R``):

* **Kaplan–Meier** (:func:`km_table`): the product-limit estimate from the event table
  (numpy), with R's ``survfit`` default interval, ``conf.type = "log"``: Greenwood
  ``se = sqrt(Σ d/(n(n − d)))`` (the standard error of the cumulative hazard, R's
  ``std.err``), ``S·exp(∓z·se)`` with z = 1.959964, the upper bound capped at 1, and NaN
  once S = 0 (as R's NA).
* **Median and its CI** (:func:`survival_summary`): as ``summary(survfit)$table``
  (R's ``survmean``): the first time at which the curve is ≤ 0.5 (within 1.5e-8); when
  the curve sits exactly at 0.5 there and drops below it later, the midpoint between that
  time and the first time it is below 0.5; NaN when it never reaches 0.5. The CI bounds
  apply the same rule to the lower and upper confidence curves.
* **Log-rank** (:func:`logrank_tests`): statsmodels' ``survdiff`` across all arms
  (df = arms − 1) and for each arm against the control (R's ``survdiff``, rho = 0).
* **Cox** (:func:`cox_hazard_ratios`): statsmodels' ``PHReg`` with Efron ties (as
  ``coxph(ties = "efron")``) on indicator columns of the arms with the control as the
  reference; hazard ratio ``exp(coef)`` with Wald 95% CI ``exp(coef ± z·se)`` and Wald p.

statsmodels is imported inside the functions. (lifelines was the first choice; it pins
pandas below 3, which trkres needs.)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from trkres.errors import InputError

Z95 = 1.959963984540054
_TOL = math.sqrt(np.finfo(float).eps)

KM_COLUMNS = (
    "arm",
    "time",
    "at_risk",
    "events",
    "censored",
    "survival",
    "std_err",
    "ci_low",
    "ci_high",
)
SUMMARY_COLUMNS = (
    "arm",
    "n",
    "events",
    "median",
    "median_ci_low",
    "median_ci_high",
    "n_excluded",
)
LOGRANK_COLUMNS = ("comparison", "arms", "chisq", "df", "p_value", "test")
COX_COLUMNS = (
    "arm",
    "control",
    "n",
    "events",
    "coef",
    "se",
    "hazard_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "note",
)


def endpoint_times(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per-mouse time to endpoint from :func:`mouse_metrics` rows.

    Returns ``mouse_id, arm, time, event, note``: ``time = endpoint_day − baseline_day``
    (days), ``event = endpoint_reached``. Mice without a defined endpoint time (no endpoint
    given, or a fold endpoint on a zero baseline) keep ``time`` NaN and a note; the
    survival functions leave them out and count them (``n_excluded``).
    """
    need = ("mouse_id", "arm", "baseline_day", "endpoint_day", "endpoint_reached")
    missing = [c for c in need if c not in metrics.columns]
    if missing:
        raise InputError(
            "metrics lacks the endpoint columns",
            expected=", ".join(need),
            found=", ".join(map(str, metrics.columns)),
        )
    time = metrics["endpoint_day"].astype(float) - metrics["baseline_day"].astype(float)
    note = np.where(time.isna(), "no endpoint time (none set, or zero baseline volume)", "")
    return pd.DataFrame(
        {
            "mouse_id": metrics["mouse_id"].astype(str).to_numpy(),
            "arm": metrics["arm"].astype(str).to_numpy(),
            "time": time.to_numpy(),
            "event": metrics["endpoint_reached"].astype(bool).to_numpy(),
            "note": note,
        }
    )


def _check_times(times: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Rows with a usable time, and the count of excluded rows per arm."""
    need = ("arm", "time", "event")
    if not isinstance(times, pd.DataFrame) or any(c not in times.columns for c in need):
        raise InputError(
            "times must be a DataFrame with arm, time and event columns",
            expected="arm, time (days), event (bool)",
            found=", ".join(map(str, getattr(times, "columns", []))) or type(times).__name__,
        )
    df = pd.DataFrame(
        {
            "arm": times["arm"].astype(str).to_numpy(),
            "time": pd.to_numeric(times["time"], errors="coerce").astype(float).to_numpy(),
            "event": times["event"].astype(bool).to_numpy(),
        }
    )
    bad = ~np.isfinite(df["time"]) | (df["time"] < 0)
    excluded = df[bad].groupby("arm").size()
    good = df[~bad].reset_index(drop=True)
    if good.empty:
        raise InputError(
            "no mouse has a time to endpoint",
            expected="finite times >= 0 (set endpoint_fold or endpoint_volume)",
            found=f"{len(df)} rows, none usable",
        )
    return good, excluded


def _km_one(time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """The Kaplan–Meier table of one arm at each distinct time (numpy, no loop)."""
    event = event.astype(bool)
    t, inv = np.unique(time.astype(float), return_inverse=True)
    d = np.bincount(inv, weights=event.astype(float), minlength=len(t))
    c = np.bincount(inv, weights=(~event).astype(float), minlength=len(t))
    n = len(time) - np.concatenate([[0.0], np.cumsum(d + c)[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n)
        term = np.where(d > 0, d / (n * (n - d)), 0.0)
        se = np.sqrt(np.cumsum(term))
        pos = surv > 0
        low = np.where(pos, surv * np.exp(-Z95 * se), np.nan)
        high = np.where(pos, np.minimum(surv * np.exp(Z95 * se), 1.0), np.nan)
    return pd.DataFrame(
        {
            "time": t,
            "at_risk": n.astype(int),
            "events": d.astype(int),
            "censored": c.astype(int),
            "survival": surv,
            "std_err": se,
            "ci_low": low,
            "ci_high": high,
        }
    )


def km_table(times: pd.DataFrame) -> pd.DataFrame:
    """Kaplan–Meier estimate per arm at each distinct time (events and censorings).

    Columns :data:`KM_COLUMNS`: ``time`` (days), ``at_risk``, ``events``, ``censored``,
    ``survival``, ``std_err`` (Greenwood, cumulative-hazard scale) and the 95% CI on
    R's default "log" scale (``ci_low``/``ci_high``). A loop over arms.
    """
    df, _ = _check_times(times)
    parts = []
    for arm, g in df.groupby("arm", sort=False):
        one = _km_one(g["time"].to_numpy(), g["event"].to_numpy())
        one.insert(0, "arm", str(arm))
        parts.append(one)
    return pd.concat(parts, ignore_index=True)[list(KM_COLUMNS)]


def median_time(time: np.ndarray, curve: np.ndarray) -> float:
    """First ``time`` with ``curve`` ≤ 0.5 (midpoint rule on an exact 0.5 flat), as R's survmean.

    ``curve`` is a survival curve (or one of its confidence bounds) at ``time``; NaN values
    are skipped. NaN when the curve never reaches 0.5.
    """
    keep = ~np.isnan(curve) & (curve < 0.5 + _TOL)
    if not keep.any():
        return math.nan
    x = time[keep]
    y = curve[keep]
    if abs(y[0] - 0.5) < _TOL:
        below = np.nonzero(y < y[0])[0]
        if below.size:
            return float((x[0] + x[below[0]]) / 2.0)
    return float(x[0])


def survival_summary(times: pd.DataFrame) -> pd.DataFrame:
    """Per arm: mice, events, median time to endpoint and its 95% CI (days).

    Columns :data:`SUMMARY_COLUMNS`; ``n_excluded`` counts the arm's mice without a usable
    time. The median and CI follow R's ``summary(survfit(...))$table`` (module docstring).
    """
    df, excluded = _check_times(times)
    km = km_table(df)
    rows = []
    for arm, g in km.groupby("arm", sort=False):
        t = g["time"].to_numpy()
        rows.append(
            {
                "arm": arm,
                "n": int(g["at_risk"].iloc[0]),
                "events": int(g["events"].sum()),
                "median": median_time(t, g["survival"].to_numpy()),
                "median_ci_low": median_time(t, g["ci_low"].to_numpy()),
                "median_ci_high": median_time(t, g["ci_high"].to_numpy()),
                "n_excluded": int(excluded.get(arm, 0)),
            }
        )
    fitted_arms = set(km["arm"])
    for arm_name, k in zip(excluded.index.astype(str), excluded.to_numpy(), strict=True):
        if arm_name not in fitted_arms:  # arms whose every mouse lacks a time
            rows.append(
                {
                    "arm": arm_name,
                    "n": 0,
                    "events": 0,
                    "median": math.nan,
                    "median_ci_low": math.nan,
                    "median_ci_high": math.nan,
                    "n_excluded": int(k),
                }
            )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def logrank_tests(times: pd.DataFrame, *, control: str | None = None) -> pd.DataFrame:
    """Log-rank tests: across all arms, and each arm against ``control`` when given.

    Columns :data:`LOGRANK_COLUMNS`: ``comparison`` ("all" or "ARM vs CONTROL"), ``arms``,
    ``chisq``, ``df``, ``p_value``. With one arm there is nothing to compare: the "all"
    row has NaN values.
    """
    from statsmodels.duration.survfunc import survdiff as _survdiff

    def survdiff(time: np.ndarray, event: np.ndarray, group: np.ndarray) -> tuple[float, float]:
        """statsmodels' log-rank; no event (or one group) has no test: NaN, not an error."""
        if not event.any() or len(np.unique(group)) < 2:
            return math.nan, math.nan
        try:
            chisq, p = _survdiff(time, event, group)
        except np.linalg.LinAlgError:  # every event in one group at one time
            return math.nan, math.nan
        return float(chisq), float(p)

    df, _ = _check_times(times)
    arms = list(pd.unique(df["arm"]))
    if control is not None and control not in arms:
        raise InputError(
            "the control arm has no mouse with a time to endpoint",
            expected="one of " + ", ".join(sorted(arms)),
            found=repr(control),
        )
    rows: list[dict[str, Any]] = []
    test = "log-rank (Mantel-Haenszel, rho = 0), chi-square"
    if len(arms) >= 2:
        chisq, p = survdiff(df["time"].to_numpy(dtype=float), df["event"].to_numpy(dtype=float),
                            df["arm"].astype(str).to_numpy())  # fmt: skip
        rows.append(
            {
                "comparison": "all",
                "arms": ", ".join(arms),
                "chisq": float(chisq),
                "df": len(arms) - 1,
                "p_value": float(p),
                "test": test,
            }
        )
    else:
        rows.append(
            {
                "comparison": "all",
                "arms": ", ".join(arms),
                "chisq": math.nan,
                "df": 0,
                "p_value": math.nan,
                "test": test,
            }
        )
    if control is not None:
        c = df[df["arm"] == control]
        for arm in arms:  # a loop over arms
            if arm == control:
                continue
            pair = pd.concat([df[df["arm"] == arm], c])
            chisq, p = survdiff(pair["time"].to_numpy(dtype=float),
                                pair["event"].to_numpy(dtype=float),
                                pair["arm"].astype(str).to_numpy())  # fmt: skip
            rows.append(
                {
                    "comparison": f"{arm} vs {control}",
                    "arms": f"{arm}, {control}",
                    "chisq": float(chisq),
                    "df": 1,
                    "p_value": float(p),
                    "test": test,
                }
            )
    return pd.DataFrame(rows, columns=list(LOGRANK_COLUMNS))


def cox_hazard_ratios(times: pd.DataFrame, *, control: str) -> pd.DataFrame:
    """Cox proportional-hazards ratios of each arm against ``control`` (Efron ties).

    Columns :data:`COX_COLUMNS`: ``coef`` (log hazard ratio), ``se``, ``hazard_ratio``,
    Wald 95% ``ci_low``/``ci_high``, Wald ``p_value``, ``n`` and ``events`` of the arm.
    A fit that fails (e.g. no event at all, or an arm without events whose coefficient
    runs off to −∞) gives NaN values with the reason in ``note``, never a statsmodels error.
    """
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    df, _ = _check_times(times)
    arms = list(pd.unique(df["arm"]))
    if control not in arms:
        raise InputError(
            "the control arm has no mouse with a time to endpoint",
            expected="one of " + ", ".join(sorted(arms)),
            found=repr(control),
        )
    others = [a for a in arms if a != control]
    by_arm = df.groupby("arm")["event"]
    n_of = dict(
        zip(by_arm.size().index.astype(str), by_arm.size().to_numpy().tolist(), strict=True)
    )
    events_of = dict(
        zip(
            by_arm.sum().index.astype(str),
            by_arm.sum().to_numpy().astype(int).tolist(),
            strict=True,
        )
    )

    def row(arm: str, **values: Any) -> dict[str, Any]:
        base = {
            "arm": arm,
            "control": control,
            "n": n_of[arm],
            "events": events_of[arm],
            "coef": math.nan,
            "se": math.nan,
            "hazard_ratio": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "p_value": math.nan,
            "note": "",
        }
        base.update(values)
        return base

    if not others:
        return pd.DataFrame(columns=list(COX_COLUMNS))
    if not df["event"].any():
        return pd.DataFrame(
            [row(a, note="no mouse reached the endpoint: no Cox fit") for a in others],
            columns=list(COX_COLUMNS),
        )
    if events_of[control] == 0:
        return pd.DataFrame(
            [
                row(a, note="no event in the control arm: hazard ratios not estimable")
                for a in others
            ],
            columns=list(COX_COLUMNS),
        )
    # An arm without events has no finite coefficient (it runs off to -inf); in that limit
    # its mice drop out of every risk set, so the other arms' estimates are those of the fit
    # without it. It is left out and labelled.
    fitted = [a for a in others if events_of[a] > 0]
    notes_all: dict[str, list[str]] = {a: [] for a in others}
    if not fitted:
        return pd.DataFrame(
            [
                row(a, note="no event in this arm: the hazard ratio is not estimable")
                for a in others
            ],
            columns=list(COX_COLUMNS),
        )
    sub = df[df["arm"].isin([control, *fitted])].reset_index(drop=True)
    cols = [f"arm_{i}" for i in range(len(fitted))]
    design = pd.DataFrame(
        {c: (sub["arm"] == a).astype(float).to_numpy() for c, a in zip(cols, fitted, strict=True)}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = PHReg(sub["time"].to_numpy(dtype=float), design.to_numpy(),
                        status=sub["event"].astype(float).to_numpy(), ties="efron").fit(
                gtol=1e-10, maxiter=200)  # fmt: skip
            params = np.asarray(fit.params, dtype=float)
            bse = np.asarray(fit.bse, dtype=float)
            pvalues = np.asarray(fit.pvalues, dtype=float)
        except (np.linalg.LinAlgError, ValueError) as err:
            msg = str(err).splitlines()[0] if str(err) else type(err).__name__
            return pd.DataFrame(
                [row(a, note=f"Cox fit failed: {msg}") for a in others],
                columns=list(COX_COLUMNS),
            )
    for w in caught:
        if issubclass(w.category, (ConvergenceWarning, RuntimeWarning)):
            text = str(w.message).splitlines()[0]
            for a in fitted:
                notes_all[a].append("Cox fit: " + text)
    out = []
    for a in others:
        if a not in fitted:
            out.append(row(a, note="no event in this arm: the hazard ratio is not estimable"))
            continue
        k = fitted.index(a)
        coef, se = float(params[k]), float(bse[k])
        with np.errstate(over="ignore"):
            hr, lo, hi = np.exp([coef, coef - Z95 * se, coef + Z95 * se])
        out.append(
            row(
                a,
                coef=coef,
                se=se,
                hazard_ratio=float(hr),
                ci_low=float(lo),
                ci_high=float(hi),
                p_value=float(pvalues[k]),
                note="; ".join(notes_all[a]),
            )
        )
    return pd.DataFrame(out, columns=list(COX_COLUMNS))
