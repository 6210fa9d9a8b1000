"""Linear mixed model of log relative tumour volume, as SynergyLMM's ``lmmModel`` fits it.

Model (one row per mouse *i* and measurement time *t* after the start)::

    log(V_it / V_i0) = beta[arm(i)] * t + b_i * t + e_it
    b_i  ~ N(0, tau^2)                         random slope per mouse, no random intercept
    e_it ~ N(0, (sigma * g_it)^2)              independent

fitted by REML (``nlme::lme(logRTV ~ 0 + time:arm, random = ~0 + time | mouse,
weights = …, method = "REML")``). ``g_it`` is the variance function, parameterised exactly
as nlme does (:data:`VARIANCES`):

* ``none``: g = 1.
* ``arm``: ``varIdent(form = ~1 | arm)``: g = delta[arm], delta of the first arm of
  :attr:`GrowthFit.arms` fixed at 1 (the others are ratios of residual SDs to it).
* ``mouse``: ``varIdent(form = ~1 | mouse)``: g = delta[mouse], the first mouse (in the
  order of the input frame) fixed at 1.
* ``time-power``: ``varPower(form = ~time)``: g = |t|^power (t in the model's time unit).
* ``arm+time-power`` / ``mouse+time-power``: ``varComb(varIdent, varPower)``: the product.

Because each mouse sits in one arm and has one random effect, the marginal covariance of a
mouse's rows is rank one plus diagonal, ``V_i = sigma^2 (gamma z z' + diag(g^2))`` with
``z`` the times and ``gamma = tau^2 / sigma^2``; Sherman–Morrison reduces everything the
REML likelihood needs to three weighted sums per mouse (``z'W⁻¹z``, ``z'W⁻¹y``, ``y'W⁻¹y``)
taken with :func:`numpy.bincount`, and ``X'V⁻¹X`` is diagonal (one slope per arm). sigma is
profiled out; the optimiser (L-BFGS with the analytic gradient) works on ``log gamma``, the
log varIdent ratios and the power. No Python loop runs per row or per mouse in the
likelihood. The log-likelihood, AIC and BIC are nlme's REML values (``logLik(fit)``: no
``log|X'X|`` term; BIC uses N - p observations).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trkres.errors import InputError

__all__ = [
    "VARIANCES",
    "Contrast",
    "GrowthFit",
    "diagnostics",
    "fit_growth",
    "log_relative_volume",
    "pairwise_contrasts",
]

#: Variance structures of the residuals (nlme weights), see the module docstring.
VARIANCES = ("none", "arm", "mouse", "time-power", "arm+time-power", "mouse+time-power")

DfMethod = Literal["satterthwaite", "kenward-roger", "residual"]

_LOG_GAMMA_BOUNDS = (-25.0, 25.0)
#: Bound on the variance-function parameters (log varIdent ratio, varPower exponent); an
#: estimate near it means a residual variance collapsing to 0 (an unbounded likelihood).
_PHI_BOUND = 30.0
#: log(tau^2 / sigma^2) below this is reported as the boundary tau = 0.
_BOUNDARY = -18.0
#: Converged when every gradient entry of -2 log-likelihood (per unit of a log parameter)
#: is below this: a change of 0.01 in any parameter then moves -2 loglik by < 1e-5.
_GTOL = 1e-3
_F64 = NDArray[np.float64]
_I64 = NDArray[np.int64]

_MODEL_COLUMNS = ["mouse_id", "arm", "day", "time", "volume", "log_rtv"]
_EXCLUDED_COLUMNS = ["mouse_id", "arm", "day", "volume", "reason"]


# --------------------------------------------------------------------------- data


def _check_volumes(volumes: object) -> pd.DataFrame:
    if not isinstance(volumes, pd.DataFrame):
        raise InputError("volumes is not a table", expected="a pandas DataFrame",
                         found=type(volumes).__name__)  # fmt: skip
    missing = [c for c in ("mouse_id", "arm", "day", "volume") if c not in volumes.columns]
    if missing:
        raise InputError("volumes lacks columns", expected="mouse_id, arm, day, volume",
                         found=f"missing {', '.join(missing)}")  # fmt: skip
    frame = volumes[["mouse_id", "arm", "day", "volume"]].copy()
    frame["mouse_id"] = frame["mouse_id"].astype(str)
    frame["arm"] = frame["arm"].astype(str)
    for col in ("day", "volume"):
        try:
            frame[col] = pd.to_numeric(frame[col], errors="raise").astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"volumes column {col} is not numeric", expected="numbers",
                             found=str(exc)[:200]) from None  # fmt: skip
    if not np.isfinite(frame["day"].to_numpy()).all():
        raise InputError("volumes has a day that is not a finite number",
                         expected="finite days", found="NaN or infinite")  # fmt: skip
    arms_per_mouse = frame.groupby("mouse_id", sort=False)["arm"].nunique()
    if (arms_per_mouse > 1).any():
        bad = arms_per_mouse.index[arms_per_mouse > 1][:5]
        raise InputError("a mouse is in two arms", expected="each mouse in one arm",
                         found=", ".join(map(str, bad)))  # fmt: skip
    if frame.duplicated(["mouse_id", "day"]).any():
        bad = frame.loc[frame.duplicated(["mouse_id", "day"]), "mouse_id"].unique()[:5]
        raise InputError("volumes repeats a (mouse_id, day)", expected="one row per mouse and day",
                         found=", ".join(map(str, bad)))  # fmt: skip
    return frame.reset_index(drop=True)


def log_relative_volume(
    volumes: pd.DataFrame, *, time_start: float | None = None, time_end: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Log relative volume per mouse and day, prepared as SynergyLMM's ``lmmModel`` does.

    ``time_start`` (days; default: the first day in the table, as SynergyLMM) is the day of
    each mouse's reference volume ``V0``; ``time_end`` (days; default none) the last day kept.
    ``time = day - time_start`` (days) and ``log_rtv = log(volume / V0)``.

    Returns ``(model_data, excluded)``. ``model_data`` has ``mouse_id, arm, day, time,
    volume, log_rtv``, one row per usable measurement after the baseline. ``excluded`` has
    ``mouse_id, arm, day, volume, reason``: rows before ``time_start`` or after ``time_end``;
    all rows of a mouse with no measurement at ``time_start`` or a zero/missing one there;
    rows with volume <= 0 or missing; the baseline row of a mouse left with no measurement
    after it. The baseline rows of the mice in ``model_data`` appear in neither table:
    exactly one per mouse, so ``len(volumes) == len(model_data) + len(excluded) +
    model_data.mouse_id.nunique()``.
    """
    frame = _check_volumes(volumes)
    day = frame["day"].to_numpy()
    vol = frame["volume"].to_numpy()
    start = float(np.min(day)) if time_start is None else float(time_start)
    if time_start is None and len(frame) == 0:
        start = 0.0
    if not math.isfinite(start) or (time_end is not None and not math.isfinite(time_end)):
        raise InputError("time_start / time_end must be finite numbers", expected="finite days",
                         found=f"time_start={time_start}, time_end={time_end}")  # fmt: skip
    if time_end is not None and time_end <= start:
        raise InputError("time_end is not after time_start", expected=f"time_end > {start:g}",
                         found=f"time_end = {time_end:g}")  # fmt: skip
    reason = np.full(len(frame), "", dtype=object)
    outside = (day < start) | (day > time_end if time_end is not None else False)
    reason[outside] = "outside the time window"
    at_start = (day == start) & ~outside
    base = pd.Series(vol[at_start], index=frame["mouse_id"].to_numpy()[at_start])
    v0 = frame["mouse_id"].map(base).to_numpy(dtype=np.float64)
    no_base = ~np.isfinite(v0)
    zero_base = np.isfinite(v0) & (v0 <= 0)
    reason[~outside & no_base] = f"no volume at time_start (day {start:g})"
    reason[~outside & zero_base] = f"volume at time_start (day {start:g}) is zero or missing"
    ok = reason == ""
    bad_volume = ok & ~at_start & ~(np.isfinite(vol) & (vol > 0))
    reason[bad_volume] = "volume is zero or missing (log undefined)"
    used = (reason == "") & ~at_start
    mice_used = pd.unique(frame["mouse_id"].to_numpy()[used])
    lonely = (reason == "") & at_start & ~frame["mouse_id"].isin(mice_used).to_numpy()
    reason[lonely] = "no usable measurement after time_start"
    model = frame.loc[used].copy()
    model["time"] = model["day"] - start
    with np.errstate(divide="ignore", invalid="ignore"):
        model["log_rtv"] = np.log(model["volume"].to_numpy() / v0[used])
    model = model[_MODEL_COLUMNS].reset_index(drop=True)
    excluded = frame.loc[reason != ""].copy()
    excluded["reason"] = reason[reason != ""].astype(str)
    return model, excluded[_EXCLUDED_COLUMNS].reset_index(drop=True)


# --------------------------------------------------------------------------- the REML kernel


def _sum(index: _I64, weights: _F64, n: int) -> _F64:
    """Sums of ``weights`` by ``index`` (0..n-1): the per-mouse / per-arm reductions."""
    return np.asarray(np.bincount(index, weights, n), dtype=np.float64)


@dataclass
class _Design:
    """Arrays of one fit: rows sorted by mouse; ``row_mouse`` indexes mice, ``mouse_arm``
    arms; ``level`` indexes the varIdent strata (arm or mouse), ``log_t`` feeds varPower."""

    y: _F64
    t: _F64
    log_t: _F64
    row_mouse: _I64
    mouse_arm: _I64
    level: _I64 | None  # varIdent stratum per row (None: no varIdent)
    n_levels: int
    power: bool
    n_mice: int
    n_arms: int
    reml: bool = True  # False: maximum likelihood (the influence diagnostics)

    @property
    def n(self) -> int:
        return int(self.y.size)

    @property
    def n_var(self) -> int:
        return (self.n_levels - 1 if self.level is not None else 0) + int(self.power)


def _log_g(d: _Design, phi: _F64) -> _F64:
    """log of the variance-function values g per row (sd multipliers)."""
    out = np.zeros(d.n)
    k = 0
    if d.level is not None:
        ident = np.concatenate(([0.0], phi[: d.n_levels - 1]))
        out += ident[d.level]
        k = d.n_levels - 1
    if d.power:
        out += phi[k] * d.log_t
    return out


@dataclass
class _State:
    """Sufficient sums of the likelihood at one parameter point."""

    prec: _F64  # 1 / g^2 per row
    s: _F64  # per mouse z'W⁻¹z
    u: _F64  # z'W⁻¹y
    q: _F64  # y'W⁻¹y
    c: _F64  # 1 / (1 + gamma s)
    den: _F64  # per arm: sum s c   (X'H⁻¹X diagonal)
    beta: _F64
    r: float  # generalised residual sum of squares (sigma^2 = r / (N - p))
    logdet_h: float  # log|H|, H = V / sigma^2
    logdet_x: float  # log|X'H⁻¹X|


def _state(d: _Design, gamma: float, phi: _F64) -> _State:
    log_g = _log_g(d, phi)
    prec = np.exp(-2.0 * log_g)
    pt = prec * d.t
    s = _sum(d.row_mouse, pt * d.t, d.n_mice)
    u = _sum(d.row_mouse, pt * d.y, d.n_mice)
    q = _sum(d.row_mouse, prec * d.y * d.y, d.n_mice)
    c = 1.0 / (1.0 + gamma * s)
    den = _sum(d.mouse_arm, s * c, d.n_arms)
    num = _sum(d.mouse_arm, u * c, d.n_arms)
    beta = num / den
    r = float(np.sum(q - gamma * u * u * c) - np.sum(num * beta))
    logdet_h = float(2.0 * np.sum(log_g) + np.sum(np.log1p(gamma * s)))
    logdet_x = float(np.sum(np.log(den)))
    return _State(prec, s, u, q, c, den, beta, r, logdet_h, logdet_x)


def _profiled(d: _Design, x: _F64) -> tuple[float, _F64]:
    """-2 × profiled REML log-likelihood (without constants) and its gradient in
    ``x = (log gamma, phi)``."""
    gamma = math.exp(x[0])
    phi = x[1:]
    st = _state(d, gamma, phi)
    dof = d.n - d.n_arms if d.reml else d.n
    r = max(st.r, 1e-300)
    f = dof * math.log(r) + st.logdet_h + (st.logdet_x if d.reml else 0.0)
    k = dof / r
    return f, _gradient(d, st, gamma, k)


def _gradient(d: _Design, st: _State, gamma: float, k: float) -> _F64:
    """Gradient of ``k*r + log|H| + log|X'H⁻¹X|`` in (log gamma, phi); ``k = dof/r`` gives the
    profiled objective, ``k = 1/sigma^2`` the full one (log sigma^2 handled by the caller)."""
    c = st.c
    b = st.beta[d.mouse_arm]
    c2 = c * c
    den_m = st.den[d.mouse_arm]
    resid_m = st.u - b * st.s
    # derivative in gamma
    dr_dg = -float(np.sum(c2 * resid_m * resid_m))
    dh_dg = float(np.sum(st.s * c))
    reml = 1.0 if d.reml else 0.0
    dx_dg = -reml * float(np.sum(_sum(d.mouse_arm, st.s * st.s * c2, d.n_arms) / st.den))
    g_rho = gamma * (k * dr_dg + dh_dg + dx_dg)
    if d.n_var == 0:
        return np.array([g_rho])
    # derivatives in the per-mouse sums, then per row precision
    df_ds = k * c2 * (gamma * st.u + b) ** 2 + gamma * c + reml * c2 / den_m
    df_du = -2.0 * k * c * (gamma * st.u + b)
    df_dq = k * np.ones_like(c)
    m = d.row_mouse
    df_dprec = df_ds[m] * d.t * d.t + df_du[m] * d.t * d.y + df_dq[m] * d.y * d.y
    # prec = exp(-2 log g); log|W| term 2*sum(log g) contributes +2 per unit log g
    df_dlogg = -2.0 * st.prec * df_dprec + 2.0
    grads = []
    if d.level is not None:
        per_level = _sum(d.level, df_dlogg, d.n_levels)
        grads.append(per_level[1:])
    if d.power:
        grads.append(np.array([float(np.dot(df_dlogg, d.log_t))]))
    return np.concatenate([[g_rho], *grads])


def _full(d: _Design, theta: _F64) -> tuple[float, _F64]:
    """-2 × REML log-likelihood without constants in ``theta = (log sigma^2, log gamma,
    phi)`` (sigma not profiled) and its gradient: for the information matrix."""
    log_s2 = float(theta[0])
    s2 = math.exp(log_s2)
    gamma = math.exp(theta[1])
    st = _state(d, gamma, theta[2:])
    dof = d.n - d.n_arms
    f = dof * log_s2 + st.r / s2 + st.logdet_h + st.logdet_x
    g = _gradient(d, st, gamma, 1.0 / s2)
    return f, np.concatenate([[dof - st.r / s2], g])


def _num_hessian(fun: Any, x: _F64, step: float = 1e-4) -> _F64:
    """Symmetric central-difference Jacobian of an analytic gradient."""
    k = x.size
    hess = np.empty((k, k))
    for j in range(k):  # loop over parameters (few), not rows
        e = np.zeros(k)
        e[j] = step
        hess[:, j] = (fun(x + e)[1] - fun(x - e)[1]) / (2 * step)
    return 0.5 * (hess + hess.T)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Contrast:
    """A linear combination ``sum(weights * beta)`` of arm slopes (1/day) and its test
    (two-sided t test of 0; 95% confidence interval)."""

    estimate: float
    se: float
    df: float
    t: float
    p_value: float
    ci_low: float
    ci_high: float
    df_method: str
    robust: bool


@dataclass(frozen=True, eq=False)
class GrowthFit:
    """A REML fit of :func:`fit_growth`.

    Everything a simulation needs: ``beta`` (slope of log relative volume per arm, 1/day,
    in the order of ``arms``), ``tau`` (SD of the per-mouse random slope, 1/day), ``sigma``
    (residual SD, log units, for g = 1) and ``variance_params`` (nlme's values: ``"arm:<a>"``
    / ``"mouse:<m>"`` the varIdent ratios delta, with the first arm / mouse at 1, and
    ``"power"`` the varPower exponent), so a residual at time t of mouse m in arm a has SD
    ``sigma * delta[a or m] * t**power``. ``cov`` is nlme's ``vcov`` (model based);
    ``cov_robust`` the CR2 cluster-robust covariance by mouse (clubSandwich ``vcovCR(type =
    "CR2")``). ``loglik``, ``aic``, ``bic`` are nlme's REML values. ``boundary`` is True when
    tau is estimated at 0 (the random slope adds nothing); the fit is then that of the
    boundary, stated in ``message``.

    The simulation model, exactly: for mouse i in arm a with measurement times t_ij > 0
    (days after ``time_start``), ``log(V_ij / V_i0) = (beta[a] + b_i) * t_ij + e_ij`` with
    ``b_i ~ N(0, tau^2)`` and independent ``e_ij ~ N(0, (sigma * g_ij)^2)``, ``g_ij =
    delta[a or i] * t_ij**power`` (the factors a structure does not have are 1). varIdent
    ratios are relative to the first level (``arms[0]`` or the first mouse of ``data``),
    whose delta is 1 by construction; nlme may pick another reference level, which changes
    sigma and the deltas but not sigma * delta.

    Also: ``data`` (the model rows: ``mouse_id, arm, day, time, volume, log_rtv``),
    ``excluded`` (rows not used, with ``reason``; the baseline rows of the mice in ``data``
    are in neither, one per mouse), ``information`` (observed REML information of
    ``(log sigma^2, log(tau^2/sigma^2), variance-function parameters)``, for Satterthwaite).
    """

    arms: tuple[str, ...]
    variance: str
    beta: _F64
    cov: _F64
    cov_robust: _F64
    tau: float
    sigma: float
    variance_params: dict[str, float]
    loglik: float
    aic: float
    bic: float
    n_mice: dict[str, int]
    n_observations: dict[str, int]
    converged: bool
    message: str
    boundary: bool = False
    data: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    information: _F64 = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    _design: Any = field(default=None, repr=False)
    _theta: Any = field(default=None, repr=False)
    _cr2: Any = field(default=None, repr=False)

    # ---- contrasts
    def _weights(self, weights: Sequence[float] | Mapping[str, float] | NDArray[Any]) -> _F64:
        if isinstance(weights, Mapping):
            unknown = [k for k in weights if k not in self.arms]
            if unknown:
                raise InputError("contrast names an arm the model does not have",
                                 expected=", ".join(self.arms), found=", ".join(unknown))  # fmt: skip
            return np.array([float(weights.get(a, 0.0)) for a in self.arms])
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.size != len(self.arms) or not np.isfinite(w).all():
            raise InputError("contrast weights do not match the arms",
                             expected=f"{len(self.arms)} finite weights ({', '.join(self.arms)})",
                             found=f"{w.size} values")  # fmt: skip
        return w

    def contrast(
        self,
        weights: Sequence[float] | Mapping[str, float] | NDArray[Any],
        *,
        df: DfMethod = "satterthwaite",
        robust: bool = False,
    ) -> Contrast:
        """Estimate and test ``sum(weights * beta)``.

        ``df``: ``"satterthwaite"`` (model-based: the variance of the contrast as a function
        of the REML variance parameters, their covariance the inverse REML information, as
        lmerTest / emmeans ``mode = "satterthwaite"``; with ``robust=True`` the CR2
        Satterthwaite df of clubSandwich's ``coef_test``), ``"residual"`` (nlme's
        within-mouse df as ``summary.lme`` reports it: N - n_mice - (p - 1)) or ``"kenward-roger"`` (variance
        ``none`` only, as pbkrtest: the SE is then from the KR-adjusted covariance).
        ``robust`` uses :attr:`cov_robust`.
        """
        from scipy import stats

        w = self._weights(weights)
        est = float(w @ self.beta)
        cov = self.cov_robust if robust else self.cov
        nz = w != 0  # arms outside the contrast do not enter (a NaN robust variance there)
        var = float(w[nz] @ cov[np.ix_(nz, nz)] @ w[nz])
        if df == "satterthwaite":
            dof = _robust_df(self, w) if robust else _satterthwaite_df(self, w)
        elif df == "residual":
            # nlme's containment df for time:arm (inner to mouse): N - n_mice - (p - 1)
            d_ = self._design
            dof = float(d_.n - d_.n_mice - d_.n_arms + 1) if d_ is not None else math.nan
        elif df == "kenward-roger":
            if self.variance != "none" or self._design is None:
                raise InputError("Kenward–Roger df are implemented for variance 'none' only "
                                 "(as pbkrtest: a covariance linear in its parameters)",
                                 expected="variance='none', or df='satterthwaite'",
                                 found=f"variance={self.variance!r}")  # fmt: skip
            if robust:
                raise InputError("Kenward–Roger adjusts the model-based covariance",
                                 expected="robust=False with df='kenward-roger'",
                                 found="robust=True")  # fmt: skip
            from trkres.assays.invivo.lmm_diagnostics import kenward_roger

            dof, se_kr = kenward_roger(self, w)
            var = se_kr * se_kr
        else:
            raise InputError("unknown df method",
                             expected="satterthwaite, kenward-roger or residual", found=str(df))  # fmt: skip
        se = math.sqrt(var) if var >= 0 else math.nan
        if se > 0 and math.isfinite(dof) and dof > 0:
            t = est / se
            p = float(2.0 * stats.t.sf(abs(t), dof))
            half = float(stats.t.ppf(0.975, dof)) * se
        else:
            t, p, half = math.nan, math.nan, math.nan
        return Contrast(est, se, dof, t, p, est - half, est + half, df, robust)

    def table(self, *, df: DfMethod = "satterthwaite") -> pd.DataFrame:
        """``growth_model.tsv``: ``arm, slope, slope_se, slope_ci_low, slope_ci_high, df,
        n_mice, n_observations``; slopes in 1/day; 95% CI from the t distribution with
        Satterthwaite df (``df`` chooses)."""
        rows = []
        for k, arm in enumerate(self.arms):
            w = np.zeros(len(self.arms))
            w[k] = 1.0
            con = self.contrast(w, df=df)
            rows.append({"arm": arm, "slope": con.estimate, "slope_se": con.se,
                         "slope_ci_low": con.ci_low, "slope_ci_high": con.ci_high,
                         "df": con.df, "n_mice": self.n_mice[arm],
                         "n_observations": self.n_observations[arm]})  # fmt: skip
        return pd.DataFrame(rows)

    def summary(self) -> dict[str, Any]:
        """``model.json``: the variance structure and its parameters, random-slope SD (tau,
        1/day), residual SD (sigma, log units), REML log-likelihood, AIC, BIC, counts."""
        return {
            "model": "log(V/V0) ~ 0 + time:arm, random = ~0 + time | mouse, REML",
            "variance": self.variance,
            "variance_params": dict(self.variance_params),
            "random_slope_sd": self.tau,
            "residual_sd": self.sigma,
            "loglik": self.loglik,
            "aic": self.aic,
            "bic": self.bic,
            "n_mice": int(sum(self.n_mice.values())),
            "n_observations": int(sum(self.n_observations.values())),
            "converged": self.converged,
            "boundary": self.boundary,
            "message": self.message,
        }


# --------------------------------------------------------------------------- df


def _sigma_and_d(d: _Design, theta: _F64) -> _F64:
    """Diagonal of (X'V⁻¹X)⁻¹ (diagonal: one slope per arm, one arm per mouse), the
    per-arm variances of beta, sigma^2 / den, at ``theta``."""
    st = _state(d, math.exp(theta[1]), theta[2:])
    return np.asarray(math.exp(theta[0]) / st.den)


def _satterthwaite_df(fit: GrowthFit, w: _F64) -> float:
    """Satterthwaite df of ``w @ beta``: ``2 g^2 / (grad g' A grad g)`` with ``g(theta) = w'
    (X'V⁻¹X)⁻¹ w`` and ``A`` the inverse observed REML information of all variance
    parameters (sigma not profiled), as lmerTest defines it for lme4 fits; the gradient by
    central differences of the closed-form g."""
    d = fit._design
    theta = fit._theta
    if d is None or theta is None or fit.information.size == 0:
        return math.nan
    g0 = float(np.sum(w * w * _sigma_and_d(d, theta)))
    step = 1e-5
    grad = np.empty(theta.size)
    for j in range(theta.size):  # per variance parameter (few)
        e = np.zeros(theta.size)
        e[j] = step
        gp = float(np.sum(w * w * _sigma_and_d(d, theta + e)))
        gm = float(np.sum(w * w * _sigma_and_d(d, theta - e)))
        grad[j] = (gp - gm) / (2 * step)
    try:
        acov = np.linalg.inv(fit.information)
    except np.linalg.LinAlgError:
        return math.nan
    var_g = float(grad @ acov @ grad)
    if not var_g > 0:
        return math.nan
    return 2.0 * g0 * g0 / var_g


@dataclass(frozen=True)
class _CR2:
    """Per-mouse pieces of the CR2 sandwich: ``p_i = A_i W_i z_i`` (padded rows) and the
    scalars that the estimate and its Satterthwaite df need."""

    cov: _F64  # CR2 covariance of beta (diagonal: one arm per mouse)
    alpha: _F64  # per mouse p_i' V_i p_i  (for a unit contrast weight and m_a = 1)
    kappa: _F64  # per mouse p_i' z_i
    m: _F64  # per arm M_aa = (X'V⁻¹X)⁻¹_aa


def _padded(d: _Design) -> tuple[_I64, _I64, int]:
    """Row order by mouse, position of each row within its mouse, largest mouse."""
    order = np.argsort(d.row_mouse, kind="stable")
    counts = np.bincount(d.row_mouse, minlength=d.n_mice)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pos = np.empty(d.n, dtype=np.int64)
    pos[order] = np.arange(d.n) - np.repeat(starts, counts)
    return order, pos, int(counts.max())


def _cr2(d: _Design, theta: _F64, beta: _F64) -> _CR2:
    """clubSandwich ``vcovCR(type = "CR2")`` for lme (working model = the fitted marginal
    covariance, ``inverse_var = TRUE``), batched over mice padded to the largest one (the
    padding is an identity block that contributes nothing)."""
    s2, gamma = math.exp(theta[0]), math.exp(theta[1])
    g2 = np.exp(2.0 * _log_g(d, theta[2:]))
    _, pos, k = _padded(d)
    nm = d.n_mice
    z = np.zeros((nm, k))
    e = np.zeros((nm, k))
    diag = np.ones((nm, k))
    z[d.row_mouse, pos] = d.t
    e[d.row_mouse, pos] = d.y - beta[d.mouse_arm[d.row_mouse]] * d.t
    diag[d.row_mouse, pos] = s2 * g2
    v = s2 * gamma * z[:, :, None] * z[:, None, :]
    v[:, np.arange(k), np.arange(k)] += diag
    st = _state(d, gamma, theta[2:])
    m = s2 / st.den
    low = np.linalg.cholesky(v)  # V = L L'; clubSandwich's chol() is R = L'
    ma = m[d.mouse_arm]
    b = v - ma[:, None, None] * z[:, :, None] * z[:, None, :]
    g = np.swapaxes(low, 1, 2) @ b @ low
    g = 0.5 * (g + np.swapaxes(g, 1, 2))
    vals, vecs = np.linalg.eigh(g)
    vals = np.where(vals > 1e-12 * np.max(vals, axis=1, keepdims=True), vals, np.inf)
    g_inv_half = (vecs / np.sqrt(vals)[:, None, :]) @ np.swapaxes(vecs, 1, 2)
    a = low @ g_inv_half @ np.swapaxes(low, 1, 2)
    wz = np.linalg.solve(v, z[:, :, None])[:, :, 0]
    p = (a @ wz[:, :, None])[:, :, 0]  # A_i W_i z_i
    score = ma * np.einsum("ij,ij->i", p, e)  # m_a z'W A e (A symmetric)
    cov = np.diag(_sum(d.mouse_arm, score * score, d.n_arms))
    alpha = np.einsum("ij,ijk,ik->i", p, v, p)
    kappa = np.einsum("ij,ij->i", p, z)
    return _CR2(cov, alpha, kappa, m)


def _robust_df(fit: GrowthFit, w: _F64) -> float:
    """Satterthwaite df of a CR2 contrast (clubSandwich ``coef_test`` / ``linear_contrast``,
    test = "Satterthwaite"): 2 E[v]^2 / Var[v] of the contrast's CR2 variance v under the
    working model, with Omega = V - X M X' (the covariance of the residuals)."""
    d = fit._design
    cr = fit._cr2
    if d is None or cr is None:
        return math.nan
    # p_i for the contrast: w_a * m_a * A_i W_i z_i
    f = (w * cr.m)[d.mouse_arm]
    alpha = f * f * cr.alpha
    kappa = f * cr.kappa
    ma = cr.m[d.mouse_arm]
    s_diag = alpha - ma * kappa * kappa
    per_arm = _sum(d.mouse_arm, kappa * kappa, d.n_arms)
    total_sq = (
        float(np.sum(alpha * alpha))
        - 2.0 * float(np.sum(alpha * ma * kappa * kappa))
        + float(np.sum(cr.m * cr.m * per_arm * per_arm))
    )
    num = float(np.sum(s_diag)) ** 2
    return num / total_sq if total_sq > 0 else math.nan


# --------------------------------------------------------------------------- fitting


def _design(model: pd.DataFrame, arms: tuple[str, ...], variance: str) -> _Design:
    mouse_codes, mice = pd.factorize(model["mouse_id"], sort=False)
    arm_index = {a: k for k, a in enumerate(arms)}
    row_arm = model["arm"].map(arm_index).to_numpy(dtype=np.int64)
    mouse_arm = np.zeros(len(mice), dtype=np.int64)
    mouse_arm[mouse_codes] = row_arm
    t = model["time"].to_numpy(dtype=np.float64)
    level: _I64 | None = None
    n_levels = 0
    if variance.startswith("arm"):
        level, n_levels = np.asarray(row_arm, dtype=np.int64), len(arms)
    elif variance.startswith("mouse"):
        level, n_levels = np.asarray(mouse_codes, dtype=np.int64), len(mice)
    return _Design(
        y=model["log_rtv"].to_numpy(dtype=np.float64), t=t,
        log_t=np.log(np.abs(t)), row_mouse=mouse_codes.astype(np.int64),
        mouse_arm=mouse_arm, level=level, n_levels=n_levels,
        power=variance.endswith("time-power"), n_mice=len(mice), n_arms=len(arms),
    )  # fmt: skip


def _check_identifiable(d: _Design, model: pd.DataFrame, variance: str) -> None:
    mice_per_arm = np.bincount(d.mouse_arm, minlength=d.n_arms)
    if not (mice_per_arm >= 2).any():
        raise InputError("the random slope cannot be estimated: no arm has two mice",
                         expected="at least one arm with >= 2 mice in the model",
                         found=f"mice per arm: {mice_per_arm.tolist()}")  # fmt: skip
    if d.n - d.n_arms - 1 - d.n_var < 1:
        raise InputError("too few measurements for the model",
                         expected=f"more than {d.n_arms + 1 + d.n_var} model rows",
                         found=f"{d.n} rows")  # fmt: skip
    if d.level is not None:
        per_level = np.bincount(d.level, minlength=d.n_levels)
        if (per_level < 2).any():
            what = "arm" if variance.startswith("arm") else "mouse"
            names = model.groupby("arm" if what == "arm" else "mouse_id", sort=False).size()
            few = names.index[names.to_numpy() < 2][:5]
            raise InputError(f"varIdent by {what}: a level has fewer than 2 observations, so "
                             "its variance ratio cannot be estimated",
                             expected=f"every {what} with >= 2 model rows",
                             found=", ".join(map(str, few)),
                             hint="raise min_observations or choose another variance")  # fmt: skip
    # an exact fit leaves no residual variance
    s = _sum(d.row_mouse, d.t * d.t, d.n_mice)
    u = _sum(d.row_mouse, d.t * d.y, d.n_mice)
    resid = d.y - (u / s)[d.row_mouse] * d.t
    scale = max(float(np.max(np.abs(d.y))), 1.0)
    if float(np.max(np.abs(resid))) <= 1e-10 * scale:
        if int(np.max(np.bincount(d.row_mouse, minlength=d.n_mice))) == 1:
            raise InputError("every mouse has one measurement after its baseline: its own "
                             "slope fits it exactly, so the mouse-to-mouse and residual "
                             "variation cannot be told apart",
                             expected="at least one mouse with 2 measurements after the baseline",
                             found="1 measurement after the baseline per mouse",
                             hint="a longer time window (time_end) or more measurements")  # fmt: skip
        raise InputError("every mouse's log relative volume is exactly proportional to time "
                         "(or zero): no residual variation to model",
                         expected="measurements that vary about each mouse's line",
                         found="residual variance 0")  # fmt: skip


def _check_estimable(d: _Design, x: _F64, variance: str) -> None:
    """InputError when the optimum is degenerate: a variance-function parameter running to
    its bound or no residual variance left (the likelihood then grows without bound)."""
    phi = x[1:]
    st = _state(d, math.exp(x[0]), phi)
    s2 = st.r / max(d.n - d.n_arms, 1)
    scale = max(float(np.mean(d.y * d.y)), 1e-300)
    runaway = phi.size > 0 and float(np.max(np.abs(phi))) > _PHI_BOUND - 1.0
    if runaway or not math.isfinite(s2) or s2 <= 1e-20 * scale:
        raise InputError(f"the variance structure {variance!r} cannot be estimated on these data: "
                         "a residual variance collapses to 0 (some measurements are fitted "
                         "exactly), so the likelihood has no maximum",
                         expected="residual variation in every variance level and time",
                         found="variance parameters " + ", ".join(f"{v:.3g}" for v in phi)
                         if runaway else f"residual variance {s2:.3g}",
                         hint="choose variance='none' or a simpler structure")  # fmt: skip


def _start(d: _Design) -> _F64:
    """Starting values: per-mouse least-squares slopes give gamma by moments."""
    s = _sum(d.row_mouse, d.t * d.t, d.n_mice)
    u = _sum(d.row_mouse, d.t * d.y, d.n_mice)
    slope = u / s
    resid = d.y - slope[d.row_mouse] * d.t
    dof = max(d.n - d.n_mice, 1)
    s2 = max(float(np.sum(resid * resid)) / dof, 1e-12)
    arm_mean = _sum(d.mouse_arm, slope, d.n_arms) / np.maximum(
        np.bincount(d.mouse_arm, minlength=d.n_arms), 1
    )
    dev = slope - arm_mean[d.mouse_arm]
    tau2 = max(
        float(np.sum(dev * dev)) / max(d.n_mice - d.n_arms, 1) - s2 * float(np.mean(1 / s)), 0.0
    )
    gamma = max(tau2 / s2, 1e-4)
    return np.concatenate([[math.log(gamma)], np.zeros(d.n_var)])


def _newton(d: _Design, x: _F64, iters: int) -> tuple[_F64, bool]:
    """Damped Newton steps on the profiled objective (Hessian by central differences of the
    analytic gradient; a few parameters, or one per mouse for varIdent by mouse). log gamma
    below the boundary threshold is held fixed. True when the gradient vanishes."""
    lower = _LOG_GAMMA_BOUNDS[0]
    for _ in range(iters):  # iterations (few), not rows
        f0, g0 = _profiled(d, x)
        free = np.ones(x.size, dtype=bool)
        if x[0] <= _BOUNDARY:
            free[0] = False
        if not free.any() or float(np.max(np.abs(g0[free]))) < 1e-7:
            return x, True
        hess = _num_hessian(lambda z: _profiled(d, z), x, 1e-5)[np.ix_(free, free)]
        lam = 0.0
        for _ in range(8):  # Levenberg damping until positive definite
            try:
                np.linalg.cholesky(hess + lam * np.eye(hess.shape[0]))
                break
            except np.linalg.LinAlgError:
                lam = max(2.0 * lam, 1e-6 * float(np.max(np.abs(np.diag(hess)))) + 1e-8)
        else:
            return x, False
        step = np.zeros_like(x)
        step[free] = np.linalg.solve(hess + lam * np.eye(hess.shape[0]), g0[free])
        big = float(np.max(np.abs(step)))
        if big > 2.0:
            step *= 2.0 / big
        t = 1.0
        while t > 1e-6:
            x_new = x - t * step
            x_new[0] = max(x_new[0], lower)
            x_new[1:] = np.clip(x_new[1:], -_PHI_BOUND, _PHI_BOUND)
            f1, _ = _profiled(d, x_new)
            if math.isfinite(f1) and f1 <= f0 + 1e-12:
                break
            t *= 0.5
        else:  # no descent left within rounding: judge by the gradient
            break
        if float(np.max(np.abs(x_new - x))) < 1e-12:
            return x_new, True
        x = x_new
    _, g = _profiled(d, x)
    gf = g[1:] if x[0] <= _BOUNDARY else g
    return x, bool(gf.size == 0 or float(np.max(np.abs(gf))) < _GTOL)


def _optimise(d: _Design, x0: _F64, *, refit: bool = False) -> tuple[_F64, bool, str]:
    """Minimise the profiled objective from ``x0``: damped Newton when there are few
    parameters; L-BFGS-B (analytic gradient) when there are many (varIdent by mouse) or
    Newton fails, then a Newton polish. ``refit``: a warm start next to the optimum (the
    leave-one-mouse-out refits), where L-BFGS stops at gradient 1e-5 instead of 1e-7."""
    from scipy import optimize

    if x0.size <= 20:
        x, ok = _newton(d, x0.copy(), 50)
        if ok:
            return x, True, "converged (Newton)"
    bounds = [_LOG_GAMMA_BOUNDS] + [(-_PHI_BOUND, _PHI_BOUND)] * d.n_var
    with np.errstate(all="ignore"):
        res = optimize.minimize(
            lambda z: _profiled(d, z), x0, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": 3000, "ftol": 0.0,
                     "gtol": 1e-5 if refit else 1e-7,
                     "maxcor": 10 if x0.size <= 20 or refit else 30},
        )  # fmt: skip
    x = np.asarray(res.x, dtype=np.float64)
    if x.size <= 20:
        x, ok = _newton(d, x, 30)
    else:  # one parameter per mouse: a numerical Hessian per step costs too much
        _, g = _profiled(d, x)
        gf = g[1:] if x[0] <= _BOUNDARY else g
        ok = bool(float(np.max(np.abs(gf))) < _GTOL)
    msg = "converged" if ok else f"not converged: {res.message}"
    return x, ok, msg


def _nlme_loglik(d: _Design, x: _F64) -> tuple[float, float]:
    """nlme's REML log-likelihood at ``x`` and sigma^2."""
    gamma = math.exp(x[0])
    st = _state(d, gamma, x[1:])
    dof = d.n - d.n_arms
    s2 = st.r / dof
    ll = -0.5 * (dof * (math.log(2 * math.pi * s2) + 1.0) + st.logdet_h + st.logdet_x)
    return ll, s2


def fit_growth(
    volumes: pd.DataFrame,
    *,
    variance: str = "none",
    time_start: float | None = None,
    time_end: float | None = None,
    min_observations: int = 2,
    arms: Sequence[str] | None = None,
) -> GrowthFit:
    """Fit the growth model (module docstring) to a volumes frame (``mouse_id, arm, day,
    volume``; day in days, volume in mm³) by REML.

    ``arms`` orders the arms (``beta``, ``cov``, tables) and makes ``arms[0]`` the varIdent
    reference (SynergyLMM: control, drug A, drug B, [drug C,] combination); it must name
    exactly the arms left in the model. Default: the order of first appearance.

    Rows are prepared by :func:`log_relative_volume`; mice with fewer than
    ``min_observations`` model rows (rows after the baseline) are excluded too, with a
    reason, in :attr:`GrowthFit.excluded` (SynergyLMM counts the baseline row in its
    ``min_observations``; here it is not counted). Arms are ordered as they first appear.

    Raises :class:`InputError` (expected / found) for data the model cannot be fitted to:
    an unknown variance, no arm with two mice, a varIdent level with one observation, no
    residual variation. A random-slope variance estimated at 0 is fitted and labelled
    (``boundary``); a fit whose optimiser did not converge has ``converged = False``.
    """
    if variance not in VARIANCES:
        raise InputError("unknown variance structure", expected=", ".join(VARIANCES),
                         found=repr(variance))  # fmt: skip
    if (
        isinstance(min_observations, bool)
        or not isinstance(min_observations, (int, np.integer))
        or min_observations < 1
    ):
        raise InputError("min_observations must be a positive whole number", expected=">= 1",
                         found=repr(min_observations))  # fmt: skip
    model, excluded = log_relative_volume(volumes, time_start=time_start, time_end=time_end)
    counts = model.groupby("mouse_id", sort=False).size()
    few = counts.index[counts.to_numpy() < min_observations]
    if len(few):
        frame = _check_volumes(volumes)
        start = float(frame["day"].min()) if time_start is None else float(time_start)
        drop_base = frame[frame["mouse_id"].isin(few) & (frame["day"] == start)]
        drop_rows = model[model["mouse_id"].isin(few)]
        extra = pd.concat([drop_base, drop_rows[["mouse_id", "arm", "day", "volume"]]])
        extra["reason"] = f"fewer than {min_observations} measurements after time_start"
        excluded = pd.concat([excluded, extra[_EXCLUDED_COLUMNS]], ignore_index=True)
        model = model[~model["mouse_id"].isin(few)].reset_index(drop=True)
    if model.empty:
        raise InputError("no measurement is left to model", expected="mice with measurements "
                         "after time_start", found=f"{len(excluded)} rows all excluded")  # fmt: skip
    present = tuple(str(a) for a in pd.unique(model["arm"]))
    if arms is None:
        arms = present
    else:
        arms = tuple(str(a) for a in arms)
        if sorted(arms) != sorted(present) or len(set(arms)) != len(arms):
            raise InputError("arms does not name the arms of the model",
                             expected=", ".join(present) + " (each once, in any order)",
                             found=", ".join(arms) or "none")  # fmt: skip
    d = _design(model, arms, variance)
    _check_identifiable(d, model, variance)
    with np.errstate(all="ignore"):  # trial points far out overflow harmlessly (rejected)
        x, converged, msg = _optimise(d, _start(d))
    _check_estimable(d, x, variance)
    ll, s2 = _nlme_loglik(d, x)
    gamma = math.exp(x[0])
    boundary = bool(x[0] <= _BOUNDARY)
    st = _state(d, gamma, x[1:])
    cov = np.diag(s2 / st.den)
    sigma = math.sqrt(s2)
    tau = math.sqrt(gamma * s2)
    theta = np.concatenate([[math.log(s2)], x])
    with np.errstate(all="ignore"):
        info = 0.5 * _num_hessian(lambda z: _full(d, z), theta, 1e-4)
    if boundary:
        # tau at 0: its parameter is off the information (a boundary estimate)
        keep = np.r_[0, 2 : theta.size]
        info_b = np.zeros_like(info)
        info_b[np.ix_(keep, keep)] = info[np.ix_(keep, keep)]
        info_b[1, 1] = 1e12
        info = info_b
        msg = "random-slope SD at the boundary (tau = 0); " + msg
    params = _variance_params(d, x[1:], model, arms, variance)
    n_par = d.n_arms + 2 + d.n_var
    n_eff = d.n - d.n_arms
    try:
        with np.errstate(all="ignore"):
            cr2 = _cr2(d, theta, st.beta)
    except np.linalg.LinAlgError:
        nan = np.full(d.n_arms, np.nan)
        cr2 = _CR2(np.diag(nan), np.full(d.n_mice, np.nan), np.full(d.n_mice, np.nan), nan)
        msg += "; CR2 covariance not computable (singular working covariance)"
    n_mice = {a: int(np.sum(d.mouse_arm == k)) for k, a in enumerate(arms)}
    n_obs = {a: int(np.sum(d.mouse_arm[d.row_mouse] == k)) for k, a in enumerate(arms)}
    lone = [k for k, a in enumerate(arms) if n_mice[a] < 2]
    if lone:
        # One mouse is one cluster: its arm's slope is fitted to it, so its score is 0 and
        # the CR2 variance of that slope is 0 (~1e-34), not an estimate. Undefined instead.
        cov_r = cr2.cov.copy()
        cov_r[lone, lone] = np.nan
        cr2 = _CR2(cov_r, cr2.alpha, cr2.kappa, cr2.m)
        msg += ("; CR2 (robust) variance undefined for arm(s) with one mouse: "
                + ", ".join(arms[k] for k in lone))  # fmt: skip
    fit = GrowthFit(
        arms=arms, variance=variance, beta=st.beta.copy(), cov=cov,
        cov_robust=cr2.cov, tau=tau, sigma=sigma,
        variance_params=params, loglik=ll, aic=-2 * ll + 2 * n_par,
        bic=-2 * ll + math.log(n_eff) * n_par, n_mice=n_mice, n_observations=n_obs,
        converged=converged, message=msg, boundary=boundary, data=model.reset_index(drop=True),
        excluded=excluded, information=info, _design=d, _theta=theta, _cr2=cr2,
    )  # fmt: skip
    return fit


def _variance_params(
    d: _Design, phi: _F64, model: pd.DataFrame, arms: tuple[str, ...], variance: str
) -> dict[str, float]:
    out: dict[str, float] = {}
    k = 0
    if d.level is not None:
        names = list(arms) if variance.startswith("arm") else list(pd.unique(model["mouse_id"]))
        prefix = "arm" if variance.startswith("arm") else "mouse"
        ratios = np.exp(np.concatenate(([0.0], phi[: d.n_levels - 1])))
        out.update({f"{prefix}:{n}": float(r) for n, r in zip(names, ratios, strict=True)})
        k = d.n_levels - 1
    if d.power:
        out["power"] = float(phi[k])
    return out


def pairwise_contrasts(
    fit: GrowthFit, *, df: DfMethod = "satterthwaite", robust: bool = False
) -> pd.DataFrame:
    """Every pair of arms: ``arm_a, arm_b, difference`` (slope of a minus slope of b,
    1/day), ``se, df, t, p_value, p_holm`` (Holm over the pairs), ``ci_low, ci_high`` (95%)."""
    from statsmodels.stats.multitest import multipletests

    rows = []
    k = len(fit.arms)
    for i in range(k):  # pairs of arms (few)
        for j in range(i + 1, k):
            w = np.zeros(k)
            w[i], w[j] = 1.0, -1.0
            c = fit.contrast(w, df=df, robust=robust)
            rows.append({"arm_a": fit.arms[i], "arm_b": fit.arms[j], "difference": c.estimate,
                         "se": c.se, "df": c.df, "t": c.t, "p_value": c.p_value,
                         "ci_low": c.ci_low, "ci_high": c.ci_high})  # fmt: skip
    out = pd.DataFrame(rows, columns=["arm_a", "arm_b", "difference", "se", "df", "t",
                                      "p_value", "ci_low", "ci_high"])  # fmt: skip
    p = out["p_value"].to_numpy(dtype=np.float64)
    holm = np.full(p.size, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        holm[ok] = multipletests(p[ok], method="holm")[1]
    out.insert(7, "p_holm", holm)
    return out


def diagnostics(fit: GrowthFit, *, influence: bool = True) -> dict[str, pd.DataFrame]:
    """Residuals, random effects (BLUPs) with Shapiro–Wilk tests, and influence per mouse
    (Cook's distance on beta, likelihood displacement) of a fit: see
    :mod:`trkres.assays.invivo.lmm_diagnostics`."""
    from trkres.assays.invivo.lmm_diagnostics import diagnostics as _diagnostics

    return _diagnostics(fit, influence=influence)
