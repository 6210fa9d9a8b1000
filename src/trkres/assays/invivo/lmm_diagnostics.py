"""Diagnostics of a growth-model fit (:mod:`trkres.assays.invivo.lmm`): residuals, random
effects and their normality, influential mice.

The definitions are SynergyLMM's (``residDiagnostics``, ``ranefDiagnostics``,
``CookDistance(type = "fixef")``, ``logLikSubjectDisplacements``), which follow Gałecki &
Burzykowski (2013, ch. 16) and Verbeke & Molenberghs (2000):

* residuals per row: ``fitted`` = x'beta + t * b_i (nlme level 1), ``fitted_population`` =
  x'beta (level 0), ``residual`` = log_rtv - fitted, ``pearson`` = residual / (sigma * g)
  (nlme's ``type = "pearson"``; with no correlation structure nlme's "normalized" residuals
  are the same), ``residual_population`` = log_rtv - fitted_population.
* random effects per mouse: the BLUP of the slope deviation b_i (1/day; nlme ``ranef``)
  and the mouse's slope beta[arm] + b_i.
* normality: Shapiro–Wilk (scipy) of the BLUPs and of the Pearson residuals.
* influence per mouse, by refitting without it: Cook's distance on the fixed effects,
  ``(beta - beta(-i))' cov⁻¹ (beta - beta(-i)) / p`` (REML refits), and the likelihood
  displacement ``2 [l(theta) - l(theta(-i))]`` with l the maximum-likelihood log-likelihood
  of all the data and theta(-i) the ML estimates without the mouse. A mouse alone in its
  arm cannot be left out (its arm's slope is undefined): NaN, said in ``note``.

Cost: one refit per mouse (a loop over mice, each refit O(rows)); about 10–30 ms a refit
for 40 mice, more with varIdent by mouse (one parameter per mouse).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trkres.assays.invivo import lmm as _lmm

if TYPE_CHECKING:
    from trkres.assays.invivo.lmm import GrowthFit

__all__ = ["diagnostics"]


def _pieces(fit: GrowthFit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row g (sd multiplier), per-mouse BLUP, per-row level-0 fitted values."""
    d = fit._design
    theta = fit._theta
    gamma = math.exp(theta[1])
    st = _lmm._state(d, gamma, theta[2:])
    g = np.exp(_lmm._log_g(d, theta[2:]))
    b_arm = fit.beta[d.mouse_arm]
    blup = gamma * st.c * (st.u - b_arm * st.s)
    fitted0 = fit.beta[d.mouse_arm[d.row_mouse]] * d.t
    return g, blup, fitted0


def _ml_loglik(
    d: _lmm._Design, beta: np.ndarray, s2: float, gamma: float, phi: np.ndarray
) -> float:
    """Maximum-likelihood log-likelihood of the rows in ``d`` at given parameters."""
    log_g = _lmm._log_g(d, phi)
    prec = np.exp(-2.0 * log_g)
    e = d.y - beta[d.mouse_arm[d.row_mouse]] * d.t
    s = _lmm._sum(d.row_mouse, prec * d.t * d.t, d.n_mice)
    u = _lmm._sum(d.row_mouse, prec * d.t * e, d.n_mice)
    q = _lmm._sum(d.row_mouse, prec * e * e, d.n_mice)
    r = float(np.sum(q - gamma * u * u / (1.0 + gamma * s)))
    logdet = float(2.0 * np.sum(log_g) + np.sum(np.log1p(gamma * s)))
    return -0.5 * (d.n * math.log(2 * math.pi * s2) + logdet + r / s2)


def _without(d: _lmm._Design, mouse: int, reml: bool) -> _lmm._Design:
    """The design without one mouse's rows; the mouse keeps its index (and its varIdent
    parameter, which then has no data and stays where it starts)."""
    keep = d.row_mouse != mouse
    return replace(
        d, y=d.y[keep], t=d.t[keep], log_t=d.log_t[keep], row_mouse=d.row_mouse[keep],
        level=None if d.level is None else d.level[keep], reml=reml,
    )  # fmt: skip


def _influence(fit: GrowthFit) -> pd.DataFrame:
    from trkres.errors import TrkresError

    d = fit._design
    x_full = fit._theta[1:]
    mice = pd.unique(fit.data["mouse_id"])
    mice_per_arm = np.bincount(d.mouse_arm, minlength=d.n_arms)
    cov_inv = np.linalg.pinv(fit.cov)
    p = d.n_arms
    # the full-data ML fit, for the displacement
    d_ml = replace(d, reml=False)
    try:
        with np.errstate(all="ignore"):
            x_ml, _, _ = _lmm._optimise(d_ml, x_full.copy())
            st = _lmm._state(d_ml, math.exp(x_ml[0]), x_ml[1:])
            ll_full = _ml_loglik(d_ml, st.beta, st.r / d.n, math.exp(x_ml[0]), x_ml[1:])
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        x_ml, ll_full = x_full.copy(), math.nan
    rows = []
    for i, mouse in enumerate(mice):  # one refit per mouse (not the hot path)
        arm = fit.arms[int(d.mouse_arm[i])]
        row: dict[str, object] = {"mouse_id": mouse, "arm": arm, "cooks_distance": math.nan,
                                  "likelihood_displacement": math.nan, "note": ""}  # fmt: skip
        if mice_per_arm[d.mouse_arm[i]] < 2:
            row["note"] = "only mouse of its arm: cannot be left out"
            rows.append(row)
            continue
        try:
            with np.errstate(all="ignore"):
                d_r = _without(d, i, reml=True)
                x_r, ok_r, _ = _lmm._optimise(d_r, x_full.copy(), refit=True)
                beta_r = _lmm._state(d_r, math.exp(x_r[0]), x_r[1:]).beta
                diff = fit.beta - beta_r
                row["cooks_distance"] = float(diff @ cov_inv @ diff) / p
                d_m = _without(d, i, reml=False)
                x_m, ok_m, _ = _lmm._optimise(d_m, x_ml.copy(), refit=True)
                st_m = _lmm._state(d_m, math.exp(x_m[0]), x_m[1:])
                ll = _ml_loglik(d_ml, st_m.beta, st_m.r / d_m.n, math.exp(x_m[0]), x_m[1:])
                row["likelihood_displacement"] = 2.0 * (ll_full - ll)
                if not (ok_r and ok_m):
                    row["note"] = "a refit did not converge"
        except (ValueError, ArithmeticError, np.linalg.LinAlgError, TrkresError) as exc:
            row["note"] = f"refit failed: {type(exc).__name__}"
        rows.append(row)
    return pd.DataFrame(rows)


def diagnostics(fit: GrowthFit, *, influence: bool = True) -> dict[str, pd.DataFrame]:
    """Residuals, random effects, normality tests and (``influence=True``) influence per
    mouse of a :class:`~trkres.assays.invivo.lmm.GrowthFit` (see the module docstring for
    each column). Returns ``{"residuals", "random_effects", "normality", "influence"}``."""
    from scipy import stats

    d = fit._design
    g, blup, fitted0 = _pieces(fit)
    data = fit.data
    fitted = fitted0 + blup[d.row_mouse] * d.t
    resid = d.y - fitted
    residuals = pd.DataFrame({
        "mouse_id": data["mouse_id"].to_numpy(), "arm": data["arm"].to_numpy(),
        "day": data["day"].to_numpy(), "time": d.t, "log_rtv": d.y, "fitted": fitted,
        "fitted_population": fitted0, "residual": resid, "pearson": resid / (fit.sigma * g),
        "residual_population": d.y - fitted0,
    })  # fmt: skip
    mice = pd.unique(data["mouse_id"])
    arm_of = np.array(fit.arms, dtype=object)[d.mouse_arm]
    random_effects = pd.DataFrame({"mouse_id": mice, "arm": arm_of, "slope_deviation": blup,
                                   "mouse_slope": fit.beta[d.mouse_arm] + blup})  # fmt: skip
    tests = []
    for what, values in (("random_effects", blup), ("pearson_residuals", residuals["pearson"])):
        v = np.asarray(values, dtype=np.float64)
        if v.size >= 3 and np.ptp(v) > 0:
            w, pval = stats.shapiro(v)
            tests.append({"what": what, "test": "shapiro-wilk", "statistic": float(w),
                          "p_value": float(pval), "n": int(v.size)})  # fmt: skip
        else:
            tests.append({"what": what, "test": "shapiro-wilk", "statistic": math.nan,
                          "p_value": math.nan, "n": int(v.size)})  # fmt: skip
    out = {"residuals": residuals, "random_effects": random_effects,
           "normality": pd.DataFrame(tests)}  # fmt: skip
    if influence:
        out["influence"] = _influence(fit)
    return out


def kenward_roger(fit: GrowthFit, weights: np.ndarray) -> tuple[float, float]:
    """Kenward–Roger (1997) denominator df and adjusted SE of the contrast ``weights @ beta``
    for a fit without a variance function, as pbkrtest (``get_Lb_ddf``, ``vcovAdj``; the
    R_ij second-derivative term left out, as pbkrtest does).

    The covariance is linear in (sigma^2, tau^2), V_i = sigma^2 I + tau^2 z z'. Because each
    mouse lies in one arm, every p × p matrix of the method (Phi, P_r, Q_rs) is diagonal and
    all that is needed per mouse is ||V⁻¹||_F², v'v, z'v and v'V⁻¹v with v = V⁻¹z (mice
    padded to the largest, batched). Not defined for variance functions (their covariance
    is not linear in the parameters; pbkrtest has none either)."""
    d = fit._design
    if fit.variance != "none":
        raise ValueError("Kenward–Roger needs variance 'none'")
    s2, gamma = math.exp(fit._theta[0]), math.exp(fit._theta[1])
    _, pos, k = _lmm._padded(d)
    nm = d.n_mice
    z = np.zeros((nm, k))
    mask = np.zeros((nm, k))
    z[d.row_mouse, pos] = d.t
    mask[d.row_mouse, pos] = 1.0
    v_mat = (
        s2 * gamma * z[:, :, None] * z[:, None, :]
        + np.eye(k)[None] * np.where(mask > 0, s2, 1.0)[:, :, None]
    )
    vinv = np.linalg.inv(v_mat)
    vinv = vinv * mask[:, :, None] * mask[:, None, :]  # padding out
    v = np.einsum("ijk,ik->ij", vinv, z)
    vv = np.einsum("ij,ij->i", v, v)
    zv = np.einsum("ij,ij->i", z, v)
    vvinvv = np.einsum("ij,ijk,ik->i", v, vinv, v)
    fro = np.einsum("ijk,ijk->i", vinv, vinv)
    arm, na = d.mouse_arm, d.n_arms
    phi = np.diag(fit.cov).copy()
    # parameters r = 0: sigma^2 (G = I), 1: tau^2 (G = z z')
    p_r = [-_lmm._sum(arm, vv, na), -_lmm._sum(arm, zv * zv, na)]
    q_rs = [[_lmm._sum(arm, vvinvv, na), _lmm._sum(arm, vv * zv, na)],
            [_lmm._sum(arm, vv * zv, na), _lmm._sum(arm, zv**3, na)]]  # fmt: skip
    tr_aa = [[float(fro.sum()), float(vv.sum())], [float(vv.sum()), float((zv * zv).sum())]]
    info = np.empty((2, 2))
    for r in range(2):  # the two variance parameters
        for s in range(2):
            info[r, s] = (tr_aa[r][s] - float(np.sum(phi * q_rs[r][s]))
                          - float(np.sum(phi * q_rs[s][r]))
                          + float(np.sum(phi * p_r[r] * phi * p_r[s])))  # fmt: skip
    w_mat = 2.0 * np.linalg.inv(info)
    u = np.zeros(na)
    for r in range(2):
        for s in range(2):
            u += w_mat[r, s] * (q_rs[r][s] - p_r[r] * phi * p_r[s])
    phi_a = phi + 2.0 * phi * u * phi
    w = np.asarray(weights, dtype=np.float64)
    c0 = float(np.sum(w * w * phi))
    t_r = [float(np.sum(w * w * phi * p * phi)) / c0 for p in p_r]
    a1 = sum(w_mat[r, s] * t_r[r] * t_r[s] for r in range(2) for s in range(2))
    a2 = a1  # one contrast row: tr(Θ Φ P_r Φ Θ Φ P_s Φ) = tr(Θ Φ P_r Φ) tr(Θ Φ P_s Φ)
    q = 1.0
    b = (a1 + 6.0 * a2) / (2.0 * q)
    g = ((q + 1.0) * a1 - (q + 4.0) * a2) / ((q + 2.0) * a2)
    den = 3.0 * q + 2.0 * (1.0 - g)
    c1, c2, c3 = g / den, (q - g) / den, (q + 2.0 - g) / den
    v0, v1, v2 = 1.0 + c1 * b, 1.0 - c2 * b, 1.0 - c3 * b
    rho = (1.0 / q) * ((1.0 - a2 / q) / v1) ** 2 * v0 / v2
    ddf = 4.0 + (q + 2.0) / (q * rho - 1.0)
    return float(ddf), math.sqrt(float(np.sum(w * w * phi_a)))
