"""In vivo combination synergy over time: Bliss, HSA and response additivity (issue 14).

The method is Demidenko & Miller (2019, PLoS One 14:e0224137) as SynergyLMM
(Romero-Becerra et al.; R function ``lmmSynergy``) implements it on the exponential
growth model ``log(V_t/V_0) = (β_arm + b_mouse)·t + ε`` fitted by :mod:`.lmm`:

* **Refit over an expanding window.** For every measured time ``t`` (time since
  ``time_start``) at or after ``min_time``, the model is refitted on the data with time
  ``<= t`` (same mice, same variance function) and the synergy test is done on that fit.
  The last row is therefore the test on the full model.
* **Bliss** (two drugs) tests ``H0: β_AB = β_A + β_B − β_ctrl``; three drugs
  ``β_ABC = β_A + β_B + β_C − 2·β_ctrl``. **HSA** tests ``H0: β_comb = β_best`` where the
  best single agent is the one with the smallest slope in the *full-data* fit (as
  SynergyLMM chooses it once). The contrast ``δ = β_comb − (reference)`` (slope units,
  log relative volume per unit time), its standard error ``√(wᵀ V w)`` from the model
  (``robust=False``) or the CR2 cluster-robust covariance (``robust=True``), a Wald
  z-test (normal reference, as ``marginaleffects::hypotheses`` uses) and a 95 % normal CI.
  The **combination index** is ``CI = exp(δ·t)`` (observed over expected relative volume
  at time ``t``; < 1 synergy) with CI ``exp(δ_low·t) … exp(δ_high·t)``; the **synergy
  score** is ``SS = −δ / SE`` (> 0 synergy) with CI ``−δ_high/SE … −δ_low/SE``.
* **Response additivity (RA)** tests ``H0: e^{β_comb t} = e^{β_A t} + e^{β_B t} −
  e^{β_ctrl t}`` (three drugs: ``… + e^{β_C t} − 2 e^{β_ctrl t}``) through the areas under
  both sides from 0 to ``t``, on ``ra_nsim`` draws of the slopes from their fitted normal
  distribution (model or robust covariance): a negative right-hand area is set to 0,
  ``Δ = AUC_lhs − AUC_rhs``, ratio ``= AUC_lhs / AUC_rhs`` (an infinite ratio is capped at
  100). CI = median ratio with its 2.5 %/97.5 % quantiles; SS = −median(Δ)/sd(Δ) with
  ``−q97.5(Δ)/sd … −q2.5(Δ)/sd``; p = 2·min(P(Δ ≤ 0), P(Δ ≥ 0)) over the draws; when no
  draw falls on one side the p-value is below what the draws resolve: it is reported as
  its bound ``2/ra_nsim`` with a ``note`` saying so (SynergyLMM prints 0). The draws use
  one seed at every time (common random numbers).

The model fits are the cost (one per time point); everything else is vectorised numpy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from trkres.errors import ComputationError, InputError

__all__ = [
    "SYNERGY_COLUMNS",
    "SynergyDesign",
    "contrast_weights",
    "invivo_synergy",
    "ra_synergy",
    "synergy_from_fit",
]

#: The columns of :func:`invivo_synergy`, in order.
SYNERGY_COLUMNS = (
    "method",
    "time",
    "day",
    "combination_index",
    "ci_low",
    "ci_high",
    "synergy_score",
    "ss_low",
    "ss_high",
    "p_value",
    "p_adjusted",
    "estimate",
    "std_error",
    "reference",
    "robust",
    "n_mice",
    "n_observations",
    "note",
)

METHODS = ("bliss", "hsa", "ra")

#: R's ``p.adjust`` methods → statsmodels ``multipletests`` names.
P_ADJUST = {
    "none": "",
    "holm": "holm",
    "hochberg": "simes-hochberg",
    "hommel": "hommel",
    "bonferroni": "bonferroni",
    "BH": "fdr_bh",
    "fdr": "fdr_bh",
    "BY": "fdr_by",
}

#: An RA combination index whose denominator area is 0 is capped here (as SynergyLMM).
RA_RATIO_CAP = 100.0


class GrowthFitLike(Protocol):
    """What synergy needs from a growth-model fit (:class:`.lmm.GrowthFit` has it)."""

    @property
    def arms(self) -> tuple[str, ...]: ...

    @property
    def beta(self) -> Any: ...

    @property
    def cov(self) -> Any: ...

    @property
    def cov_robust(self) -> Any: ...

    @property
    def n_mice(self) -> Any: ...

    @property
    def n_observations(self) -> Any: ...

    @property
    def data(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class SynergyDesign:
    """The arms of a combination experiment: control, two or three single agents, combination."""

    control: str
    drugs: tuple[str, ...]
    combination: str

    @property
    def arms(self) -> tuple[str, ...]:
        """All arms, in SynergyLMM's coefficient order (control, drugs, combination)."""
        return (self.control, *self.drugs, self.combination)


def synergy_design(
    control: str, drug_a: str, drug_b: str, drug_c: str | None, combination: str,
    *, what: str = "synergy",
) -> SynergyDesign:  # fmt: skip
    """The design's arms, refused when two roles name the same arm (``what`` needs them)."""
    drugs = (drug_a, drug_b) if drug_c is None else (drug_a, drug_b, drug_c)
    design = SynergyDesign(control=control, drugs=drugs, combination=combination)
    if len(set(design.arms)) != len(design.arms):
        raise InputError(
            f"{what} needs distinct arms for the control, each drug and the combination",
            expected="distinct arm names",
            found=", ".join(design.arms),
        )
    return design


def _check_arms(volumes: pd.DataFrame, design: SynergyDesign) -> None:
    present = set(pd.unique(volumes["arm"]).tolist())
    missing = [a for a in design.arms if a not in present]
    if missing:
        raise InputError(
            "synergy arm(s) not found in the volumes: " + ", ".join(missing),
            expected="arms " + ", ".join(design.arms),
            found="arms " + ", ".join(sorted(map(str, present))),
            hint="name the control, drug and combination arms exactly as in the arm column",
        )


def _index(fit: GrowthFitLike, arm: str) -> int:
    arms = tuple(fit.arms)
    if arm not in arms:
        raise InputError(
            f"arm {arm!r} is not in the growth-model fit",
            expected="one of " + ", ".join(arms),
            found=arm,
        )
    return arms.index(arm)


def contrast_weights(
    fit: GrowthFitLike, design: SynergyDesign, method: str, reference: str | None = None
) -> tuple[np.ndarray, str]:
    """Weights ``w`` on ``fit.beta`` so that ``wᵀβ`` is the synergy contrast δ.

    Bliss: ``β_comb − Σ β_drug + (k−1)·β_ctrl`` (k drugs). HSA: ``β_comb − β_ref`` where
    ``ref`` is ``reference`` or, when None, the drug with the smallest slope in ``fit``.
    Returns the weights and the reference label (``"bliss"`` or the HSA arm).
    """
    beta = np.asarray(fit.beta, dtype=float)
    w = np.zeros(beta.shape[0])
    w[_index(fit, design.combination)] = 1.0
    if method == "bliss":
        for drug in design.drugs:
            w[_index(fit, drug)] -= 1.0
        w[_index(fit, design.control)] += len(design.drugs) - 1.0
        return w, "bliss"
    if method == "hsa":
        if reference is None:
            slopes = [beta[_index(fit, d)] for d in design.drugs]
            reference = design.drugs[int(np.argmin(slopes))]
        w[_index(fit, reference)] -= 1.0
        return w, reference
    raise InputError(
        f"unknown synergy method {method!r} for a slope contrast",
        expected="bliss or hsa",
        found=method,
    )


def _covariance(fit: GrowthFitLike, robust: bool) -> np.ndarray:
    cov = fit.cov_robust if robust else fit.cov
    arr = np.asarray(cov, dtype=float) if cov is not None else np.zeros((0, 0))
    if cov is None or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ComputationError(
            "the growth-model fit has no " + ("robust " if robust else "") + "covariance",
            expected="a finite covariance matrix of the slopes",
            found="None"
            if cov is None
            else "non-finite values"
            + (" (cluster-robust variances need at least 2 mice per arm)" if robust else ""),
        )
    return arr


def synergy_from_fit(
    fit: GrowthFitLike,
    design: SynergyDesign,
    *,
    method: str,
    time: float,
    robust: bool = False,
    reference: str | None = None,
    conf_level: float = 0.95,
) -> dict[str, Any]:
    """Bliss or HSA synergy at ``time`` (time since start) from one fit: one output row."""
    w, ref = contrast_weights(fit, design, method, reference)
    beta = np.asarray(fit.beta, dtype=float)
    cov = _covariance(fit, robust)
    est = float(w @ beta)
    var = float(w @ cov @ w)
    se = float(np.sqrt(var)) if var > 0 and np.isfinite(var) else float("nan")
    z = stats.norm.ppf(0.5 + conf_level / 2.0)
    lo, hi = est - z * se, est + z * se
    p = float(2.0 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan")
    return {
        "method": method,
        "time": float(time),
        "combination_index": float(np.exp(est * time)),
        "ci_low": float(np.exp(lo * time)),
        "ci_high": float(np.exp(hi * time)),
        "synergy_score": -est / se,
        "ss_low": -hi / se,
        "ss_high": -lo / se,
        "p_value": p,
        "estimate": est,
        "std_error": se,
        "reference": ref,
        "robust": robust,
    }


def _auc_exp(b: np.ndarray, t: float) -> np.ndarray:
    """∫₀ᵗ exp(b·s) ds, elementwise, exact near b = 0."""
    bt = b * t
    small = np.abs(bt) < 1e-10
    safe_b = np.where(small, 1.0, b)
    return np.where(small, t * (1.0 + bt / 2.0), np.expm1(bt) / safe_b)


def ra_synergy(
    beta: np.ndarray,
    cov: np.ndarray,
    idx: Sequence[int],
    *,
    time: float,
    nsim: int = 1000,
    seed: int = 0,
    conf_level: float = 0.95,
) -> dict[str, Any]:
    """Response-additivity synergy at ``time`` from slopes ``beta`` and covariance ``cov``.

    ``idx`` indexes ``beta`` as (control, drug…, combination). All ``nsim`` draws are made
    at once (one multivariate normal draw matrix); the areas are closed-form.
    """
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(np.asarray(beta, float), np.asarray(cov, float), size=nsim)
    ctrl, *drugs, comb = (draws[:, i] for i in idx)
    lhs = _auc_exp(comb, time)
    rhs = sum(_auc_exp(d, time) for d in drugs) - (len(drugs) - 1) * _auc_exp(ctrl, time)
    rhs = np.maximum(np.asarray(rhs, dtype=float), 0.0)
    delta = lhs - rhs
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = lhs / rhs
    ratio = np.where(np.isposinf(ratio), RA_RATIO_CAP, ratio)
    a = (1.0 - conf_level) / 2.0
    sd = float(np.std(delta, ddof=1))
    q_lo, q_hi = np.quantile(delta, [a, 1.0 - a])
    r_lo, r_hi = np.quantile(ratio, [a, 1.0 - a])
    med = float(np.median(delta))
    p = float(2.0 * min(np.mean(delta <= 0), np.mean(delta >= 0)))
    # No draw on one side: the p-value is below what nsim draws can resolve, not 0.
    floor = p == 0.0
    return {
        "method": "ra",
        "time": float(time),
        "combination_index": float(np.median(ratio)),
        "ci_low": float(r_lo),
        "ci_high": float(r_hi),
        "synergy_score": -med / sd if sd > 0 else float("nan"),
        "ss_low": -float(q_hi) / sd if sd > 0 else float("nan"),
        "ss_high": -float(q_lo) / sd if sd > 0 else float("nan"),
        "p_value": 2.0 / nsim if floor else min(p, 1.0),
        "estimate": med,
        "std_error": sd,
        "reference": "ra",
        "note": f"p < {2.0 / nsim:.2g}: no simulated draw on one side (ra_nsim = {nsim})"
        if floor
        else "",
    }


def _default_fitter() -> Callable[..., GrowthFitLike]:
    lmm = importlib.import_module("trkres.assays.invivo.lmm")
    fitter: Callable[..., GrowthFitLike] = lmm.fit_growth
    return fitter


def _count(value: Any) -> int:
    """A fit's mouse / observation count: a number, or per-arm counts summed."""
    if isinstance(value, Mapping):
        return int(sum(int(v) for v in value.values()))
    return int(np.sum(value))


def invivo_synergy(
    volumes: pd.DataFrame,
    *,
    control: str,
    drug_a: str,
    drug_b: str,
    drug_c: str | None = None,
    combination: str,
    methods: Sequence[str] = METHODS,
    variance: str = "none",
    time_start: float | None = None,
    time_end: float | None = None,
    min_time: float | None = None,
    min_observations: int = 1,
    robust: bool = False,
    ra_nsim: int = 1000,
    seed: int = 0,
    conf_level: float = 0.95,
    p_adjust: str = "none",
    fitter: Callable[..., GrowthFitLike] | None = None,
) -> pd.DataFrame:
    """Combination synergy at every time point (see the module docstring for the method).

    Parameters: ``volumes`` the checked long frame (``mouse_id, arm, day, volume``; volume in
    mm³, day in days or any time unit); the arm names; ``methods`` any of ``bliss``, ``hsa``,
    ``ra``; ``variance`` passed to :func:`.lmm.fit_growth`; ``time_start`` the time of
    relative volume 1 (default: the first day; as SynergyLMM, mice need a positive volume
    at exactly that day); ``time_end`` the last day used; ``min_time`` the first time
    *since time_start* at which to test (default: every measured time); ``min_observations``
    rows a mouse needs in the full window (SynergyLMM's rule, applied once: the refits keep
    the same mice); ``robust`` CR2 covariance; ``ra_nsim`` draws for RA; ``seed`` their
    seed; ``p_adjust`` adjusts each method's p-values over its time points (R's
    ``p.adjust`` names: none, holm, hochberg, hommel, bonferroni, BH/fdr, BY; column
    ``p_adjusted``, as SynergyLMM's ``padj``); ``fitter`` a replacement for :func:`.lmm.fit_growth` (tests).

    Returns one row per method × time: :data:`SYNERGY_COLUMNS`. ``time`` is time since
    ``time_start`` (the unit of the slopes; CI = exp(δ·time)), ``day`` the input's day;
    ``estimate``/``std_error`` are δ and its SE (slope units) for Bliss/HSA and the median
    and sd of the area difference for RA; ``reference`` the HSA arm; ``note`` says why a row
    is empty (a refit that failed). Arms other than the named ones are left out (SynergyLMM
    takes exactly the 4 or 5 arms).
    """
    design = synergy_design(control, drug_a, drug_b, drug_c, combination)
    if p_adjust not in P_ADJUST:
        raise InputError(
            "unknown p-value adjustment",
            expected=", ".join(P_ADJUST),
            found=repr(p_adjust),
        )
    methods = tuple(str(m).lower() for m in methods)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise InputError(
            "unknown synergy method(s): " + (", ".join(bad) if bad else "none given"),
            expected="one or more of " + ", ".join(METHODS),
            found=", ".join(methods) or "nothing",
        )
    if ra_nsim < 10:
        raise InputError("too few RA draws", expected="ra_nsim >= 10", found=str(ra_nsim))
    _check_arms(volumes, design)
    fit_growth = fitter if fitter is not None else _default_fitter()

    vol = volumes.loc[volumes["arm"].isin(design.arms)]
    t0 = float(vol["day"].min()) if time_start is None else float(time_start)
    # The full-window fit: its mice and times are the ones SynergyLMM refits with.
    full = fit_growth(
        vol,
        variance=variance,
        time_start=t0,
        time_end=time_end,
        min_observations=min_observations,
    )
    used = set(full.arms)
    missing = [a for a in design.arms if a not in used]
    if missing:
        raise InputError(
            "arm(s) with no usable mouse for synergy: " + ", ".join(missing),
            expected=f"mice with a positive volume at day {t0:g} and later in every arm",
            found="none in " + ", ".join(missing),
        )
    model_data = full.data
    vol = vol.loc[vol["mouse_id"].isin(pd.unique(model_data["mouse_id"]))]
    times = np.unique(model_data["time"].to_numpy(dtype=float))
    if min_time is not None:
        times = times[times >= min_time]
    if times.size == 0:
        raise InputError(
            "no time point to test synergy at",
            expected=f"measurements at time since start >= {min_time}",
            found=f"last time since start {float(model_data['time'].max()):g}",
        )
    # The day of each time, as in the data (no float round trip through t0 + time).
    day_of = model_data.groupby("time")["day"].first()

    fits: list[GrowthFitLike | str] = []
    for t in times[:-1]:
        try:
            fits.append(
                fit_growth(
                    vol,
                    variance=variance,
                    time_start=t0,
                    time_end=float(day_of.loc[t]),
                    min_observations=1,
                )
            )
        except (InputError, ComputationError) as err:
            window = model_data[model_data["time"] <= t]
            if len(window) and window.groupby("mouse_id").size().max() == 1:
                fits.append("one measurement per mouse after the baseline up to this time: the "
                            "arm slopes and the mouse-to-mouse variation cannot be told apart")  # fmt: skip
            else:
                fits.append(f"fit failed: {err.message}")
    fits.append(full)
    hsa_ref: str | None = None
    if "hsa" in methods:
        _, hsa_ref = contrast_weights(full, design, "hsa")
    days = np.array([float(day_of.loc[t]) for t in times])

    rows: list[dict[str, Any]] = []
    for method in methods:
        for day, t, fit in zip(days, times, fits, strict=True):
            base: dict[str, Any] = {"method": method, "time": float(t), "day": float(day)}
            if isinstance(fit, str):
                rows.append({**base, "robust": robust, "note": fit})
                continue
            try:
                if method == "ra":
                    idx = [_index(fit, a) for a in design.arms]
                    row = ra_synergy(
                        np.asarray(fit.beta, float),
                        _covariance(fit, robust),
                        idx,
                        time=float(t),
                        nsim=ra_nsim,
                        seed=seed,
                        conf_level=conf_level,
                    )
                    row["robust"] = robust
                else:
                    row = synergy_from_fit(
                        fit,
                        design,
                        method=method,
                        time=float(t),
                        robust=robust,
                        reference=hsa_ref,
                        conf_level=conf_level,
                    )
                note = row.pop("note", "") if np.isfinite(row["std_error"]) else "no standard error"
            except (ComputationError, np.linalg.LinAlgError, ValueError) as err:
                row, note = {}, f"synergy failed: {getattr(err, 'message', str(err))}"
            rows.append(
                {
                    **base,
                    **row,
                    "day": float(day),
                    "n_mice": _count(fit.n_mice),
                    "n_observations": _count(fit.n_observations),
                    "note": note,
                }
            )
    out = pd.DataFrame(rows).reindex(columns=list(SYNERGY_COLUMNS))
    out["p_adjusted"] = out["p_value"]
    if p_adjust != "none":
        for _, rows_of in out.groupby("method", sort=False).groups.items():
            p = out.loc[rows_of, "p_value"].to_numpy(dtype=float)
            ok = np.isfinite(p)
            if ok.any():
                adj = np.full(p.shape, np.nan)
                adj[ok] = multipletests(p[ok], method=P_ADJUST[p_adjust])[1]
                out.loc[rows_of, "p_adjusted"] = adj
    out["reference"] = out["reference"].astype(object).fillna("")
    out["note"] = out["note"].astype(object).fillna("")
    return out.reset_index(drop=True)
