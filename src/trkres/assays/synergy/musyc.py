"""MuSyC-type surface fit: potency synergy separated from efficacy synergy (two drugs).

Multi-dimensional Synergy of Combinations (Meyer et al. 2019,
doi:10.1016/j.cels.2019.01.003; Wooten et al. 2021,
doi:10.1038/s41467-021-24789-z) with detailed balance and cooperativity γ = 1,
the model's equilibrium form. With u_i = (d_i / C_i)^h_i and E the fraction of
vehicle viability (1 − inhibition/100):

    E = (E0 + E1·u1 + E2·u2 + E3·a·u1·u2) / (1 + u1 + u2 + a·u1·u2)

E0 is the no-drug effect, E1 and E2 each drug's maximal effect, E3 the
combination's; ``a`` lumps the potency changes: a = α12^h2 = α21^h1 (detailed
balance), so log10 α12 = log10 a / h2 and log10 α21 = log10 a / h1.

* **Potency synergy** α > 1 (log10 α > 0): each drug is more potent in the
  presence of the other.
* **Efficacy synergy** β = (min(E1, E2) − E3) / (E0 − min(E1, E2)) > 0: the
  combination reaches a deeper effect than the better single drug.

Blocks whose α or β confidence intervals span more than 10 units are labelled
``unidentifiable`` (a drug combined with itself, or a surface too flat to
separate E3 from α), instead of reporting meaningless numbers as findings.

Fitted by bounded nonlinear least squares (scipy's trust-region reflective
``least_squares``) on every measurement (replicates kept), from three starting
values of ``a``; starting single-drug parameters from the batch 4PL fits.
Confidence intervals are asymptotic (Wald, from the Jacobian, Student t on
n − 9 degrees of freedom), mapped by the delta method -- say so when quoting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from trkres.assays.synergy.io import Combinations

COLUMNS = [
    "block_id", "status", "log10_alpha12", "log10_alpha12_ci_low", "log10_alpha12_ci_high",
    "log10_alpha21", "log10_alpha21_ci_low", "log10_alpha21_ci_high", "beta", "beta_ci_low",
    "beta_ci_high", "e0", "e1", "e2", "e3", "h1", "h2", "c1", "c2", "rmse", "n_points",
]  # fmt: skip


def surface(theta: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """MuSyC (γ = 1, detailed balance) viability at doses d1, d2 (same unit as C1, C2).

    ``theta`` = (E0, E1, E2, E3, log10 h1, log10 h2, log10 C1, log10 C2, log10 a).
    """
    e0, e1, e2, e3, lh1, lh2, lc1, lc2, la = theta
    with np.errstate(divide="ignore", over="ignore"):
        l1 = np.where(d1 > 0, 10**lh1 * (np.log10(np.where(d1 > 0, d1, 1.0)) - lc1), -np.inf)
        l2 = np.where(d2 > 0, 10**lh2 * (np.log10(np.where(d2 > 0, d2, 1.0)) - lc2), -np.inf)
    # log10 weights of the four states, normalised by their maximum to stay finite.
    w = np.stack([np.zeros_like(l1), l1, l2, la + l1 + l2])
    w = 10.0 ** (w - w.max(axis=0))
    values: np.ndarray = (e0 * w[0] + e1 * w[1] + e2 * w[2] + e3 * w[3]) / w.sum(axis=0)
    return values


def _fit_one(
    d1: np.ndarray, d2: np.ndarray, e: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray] | None:
    pos1, pos2 = d1[d1 > 0], d2[d2 > 0]
    if len(np.unique(pos1)) < 2 or len(np.unique(pos2)) < 2 or len(e) < 10:
        return None
    lo1, hi1 = np.log10(pos1.min()), np.log10(pos1.max())
    lo2, hi2 = np.log10(pos2.min()), np.log10(pos2.max())
    e0 = (
        float(np.mean(e[(d1 == 0) & (d2 == 0)]))
        if ((d1 == 0) & (d2 == 0)).any()
        else float(e.max())
    )
    e1 = (
        float(np.mean(e[(d1 == pos1.max()) & (d2 == 0)]))
        if ((d1 == pos1.max()) & (d2 == 0)).any()
        else e0 / 2
    )
    e2 = (
        float(np.mean(e[(d2 == pos2.max()) & (d1 == 0)]))
        if ((d2 == pos2.max()) & (d1 == 0)).any()
        else e0 / 2
    )
    e3 = (
        float(np.mean(e[(d1 == pos1.max()) & (d2 == pos2.max())]))
        if ((d1 == pos1.max()) & (d2 == pos2.max())).any()
        else min(e1, e2)
    )
    span = max(float(np.ptp(e)), 1e-3)
    low = [
        e.min() - span,
        e.min() - span,
        e.min() - span,
        e.min() - span,
        -1.0,
        -1.0,
        lo1 - 3,
        lo2 - 3,
        -6.0,
    ]
    high = [
        e.max() + span,
        e.max() + span,
        e.max() + span,
        e.max() + span,
        np.log10(20),
        np.log10(20),
        hi1 + 3,
        hi2 + 3,
        6.0,
    ]
    best: optimize.OptimizeResult | None = None
    for la in (0.0, -1.0, 1.0):
        x0 = np.clip([e0, e1, e2, e3, 0.0, 0.0, (lo1 + hi1) / 2, (lo2 + hi2) / 2, la], low, high)
        res = optimize.least_squares(lambda t: surface(t, d1, d2) - e, x0, bounds=(low, high),
                                     method="trf", x_scale="jac", max_nfev=400)  # fmt: skip
        if best is None or res.cost < best.cost:
            best = res
    assert best is not None
    return best.x, 2 * float(best.cost), best.jac


def fit_musyc(combos: Combinations, alpha: float = 0.05) -> pd.DataFrame:
    """One row per two-drug block with :data:`COLUMNS`; blocks that cannot be fitted are labelled.

    Concentrations in the output (``c1``, ``c2``: EC50s) are molar; E values are
    fractions of vehicle viability.
    """
    rows = []
    if combos.n_drugs != 2:
        return pd.DataFrame(
            {"block_id": combos.blocks["block_id"], "status": "not_two_drugs"}
        ).reindex(columns=COLUMNS)
    for block, g in combos.data.groupby("block_id", sort=False):
        d1, d2 = g["conc1"].to_numpy(float), g["conc2"].to_numpy(float)
        e = 1.0 - g["response"].to_numpy(float) / 100.0
        fit = _fit_one(d1, d2, e) if np.ptp(e) > 0 else None
        if fit is None:
            rows.append(
                {
                    "block_id": block,
                    "status": "too_few_doses" if np.ptp(e) > 0 else "constant_response",
                }
            )
            continue
        theta, sse, jac = fit
        n, k = len(e), len(theta)
        dof = max(n - k, 1)
        try:
            cov = np.linalg.pinv(jac.T @ jac) * sse / dof
        except np.linalg.LinAlgError:
            cov = np.full((k, k), np.nan)
        t = stats.t.ppf(1 - alpha / 2, dof)
        e0, e1, e2, e3, lh1, lh2, lc1, lc2, la = theta
        h1, h2 = 10**lh1, 10**lh2
        # Delta method: gradients of each derived quantity with respect to theta
        # (h enters as log10 h, hence the ln 10 factors).
        g12 = np.zeros(k)
        g12[[8, 5]] = 1 / h2, -la / h2 * np.log(10)
        g21 = np.zeros(k)
        g21[[8, 4]] = 1 / h1, -la / h1 * np.log(10)
        emin = min(e1, e2)
        strong = 1 if e1 <= e2 else 2
        denom = e0 - emin
        beta = (emin - e3) / denom if denom != 0 else np.nan
        gb = np.zeros(k)
        if denom != 0:
            gb[0] = -(emin - e3) / denom**2
            gb[strong] = 1 / denom + (emin - e3) / denom**2
            gb[3] = -1 / denom

        def ci(
            value: float, grad: np.ndarray, cov: np.ndarray = cov, t: float = t
        ) -> tuple[float, float]:
            se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
            return (value - t * se, value + t * se) if np.isfinite(se) else (np.nan, np.nan)

        a12, a21 = la / h2, la / h1
        widths = [hi - lo for lo, hi in (ci(a12, g12), ci(a21, g21), ci(beta, gb))]
        # A combination of a drug with itself, or too flat a surface, leaves E3 and α unidentifiable.
        status = "ok" if all(np.isfinite(w) and w < 10 for w in widths) else "unidentifiable"
        rows.append({
            "block_id": block, "status": status,
            "log10_alpha12": a12, **dict(zip(("log10_alpha12_ci_low", "log10_alpha12_ci_high"), ci(a12, g12), strict=True)),
            "log10_alpha21": a21, **dict(zip(("log10_alpha21_ci_low", "log10_alpha21_ci_high"), ci(a21, g21), strict=True)),
            "beta": beta, **dict(zip(("beta_ci_low", "beta_ci_high"), ci(beta, gb), strict=True)),
            "e0": e0, "e1": e1, "e2": e2, "e3": e3, "h1": h1, "h2": h2, "c1": 10**lc1, "c2": 10**lc2,
            "rmse": float(np.sqrt(sse / n)), "n_points": n,
        })  # fmt: skip
    return pd.DataFrame(rows).reindex(columns=COLUMNS)
