"""Power of the in vivo combination (synergy) test, by simulation from a growth model
(issue 14, item 7), with the analytic non-central F power as a cross-check.

Simulation (as SynergyLMM's ``PostHocPwr``, which uses ``nlmeU::simulateY``): the log
relative volumes of a design (mice, arms, measurement times) are drawn from the model
``y = β_arm·t + b·t + ε``, ``b ~ N(0, τ²)`` per mouse, ``ε ~ N(0, (σ·g)²)`` with ``g``
the variance function (nlme semantics, :class:`.lmm.GrowthFit`: ``g = δ[arm or mouse] ·
t^power``); every replicate is refitted with :func:`.lmm.fit_growth` and tested with the
synergy contrast of :mod:`.synergy` (Bliss or HSA, Wald z-test as ``lmmSynergy``); power
is the share of replicates with ``p < alpha``. All replicates are drawn at once with numpy
(one ``nsim × rows`` matrix); the refits are the cost, one per replicate (a Python loop
over replicates: each is a whole REML fit). Measured (2 shared cores): nsim = 200 on
4 arms × 8 mice × 10 times takes 1.4 s with variance ``none`` and 2.0 s with
``time-power``; the analytic power takes microseconds.

Analytic (as ``APrioriPwr`` / ``nlmeU::Pwr``): with the variance parameters known, the
slopes' covariance under the design is exact (each mouse's ``V_i = τ² t tᵀ + σ² diag(g²)``
gives ``tᵀV_i⁻¹t = s/(1 + τ² s)``, ``s = Σ t²/(σ² g²)``; arms are uncorrelated);
``F = δ² / Var(δ̂)`` is the non-centrality of an F(1, ddf) test, ``ddf = N − M − p + 1``
(nlme's within-mouse denominator df: N rows, M mice, p arms), and power is
``1 − F_{1,ddf,F}(F_{1,ddf}^{-1}(1 − α))``. Note: SynergyLMM's ``APrioriPwr`` gives
``sd_ranef`` on nlme's scale *relative to sigma* (its random-slope SD is ``sd_ranef·sgma``)
and keeps the time-0 rows in N; here ``tau`` is the absolute random-slope SD and ``times``
are the measurement times after the baseline (a 0 in ``times`` is counted as SynergyLMM
does, as a row with no information).
"""

from __future__ import annotations

import importlib
import math
import time as _time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from trkres.assays.invivo.synergy import (
    GrowthFitLike,
    SynergyDesign,
    contrast_weights,
    synergy_design,
    synergy_from_fit,
)
from trkres.errors import ComputationError, InputError

__all__ = [
    "PowerResult",
    "analytic_power",
    "apriori_power",
    "mice_per_arm",
    "posthoc_power",
    "simulate_log_rtv",
]


@dataclass(frozen=True)
class PowerResult:
    """Power of the synergy test for one design.

    ``power`` the share of simulated experiments with ``p < alpha`` (NaN when not
    simulated), ``mc_se`` its Monte Carlo SE ``√(p(1−p)/n)``, ``nsim`` replicates drawn,
    ``n_failed`` refits that failed (left out of the share), ``analytic_power`` the
    non-central F power, ``effect`` the true synergy contrast δ (slope units, 1/time) and
    ``effect_se`` its SE under the design, ``ddf`` the F test's denominator df,
    ``seconds`` the wall time of the simulation.
    """

    method: str
    alpha: float
    power: float
    mc_se: float
    nsim: int
    n_failed: int
    analytic_power: float
    effect: float
    effect_se: float
    ddf: float
    n_mice_per_arm: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (one row of a table)."""
        return dict(self.__dict__)


def _check_method(method: str) -> str:
    m = method.lower()
    if m not in ("bliss", "hsa"):
        raise InputError(
            "power is for the Bliss or HSA synergy test",
            expected="method bliss or hsa",
            found=repr(method),
        )
    return m


def _residual_scale(
    arm: np.ndarray, mouse: np.ndarray, t: np.ndarray, variance_params: Mapping[str, float]
) -> np.ndarray:
    """g per row: δ[arm]·δ[mouse]·t^power (1 for a level nlme fixes at 1 or absent)."""
    g = np.ones(t.shape[0])
    arm_d = {k[4:]: float(v) for k, v in variance_params.items() if k.startswith("arm:")}
    mouse_d = {k[6:]: float(v) for k, v in variance_params.items() if k.startswith("mouse:")}
    if arm_d:
        g *= pd.Series(arm).map(arm_d).fillna(1.0).to_numpy(dtype=float)
    if mouse_d:
        g *= pd.Series(mouse).map(mouse_d).fillna(1.0).to_numpy(dtype=float)
    power = float(variance_params.get("power", 0.0))
    if power != 0.0:
        g *= np.abs(t) ** power
    return g


def simulate_log_rtv(
    t: np.ndarray,
    row_mouse: np.ndarray,
    row_slope: np.ndarray,
    row_scale: np.ndarray,
    *,
    tau: float,
    sigma: float,
    nsim: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``nsim × rows`` log relative volumes ``β·t + b_mouse·t + σ·g·z`` in one draw.

    ``t`` time since start per row, ``row_mouse`` integer mouse codes 0..M−1, ``row_slope``
    the arm slope per row, ``row_scale`` the variance-function factor g per row.
    """
    n_mice = int(row_mouse.max()) + 1 if row_mouse.size else 0
    b = rng.normal(0.0, tau, size=(nsim, n_mice))
    e = rng.standard_normal((nsim, t.shape[0])) * (sigma * row_scale)
    out: np.ndarray = row_slope * t + b[:, row_mouse] * t + e
    return out


def analytic_power(
    t: np.ndarray,
    row_mouse: np.ndarray,
    row_arm: np.ndarray,
    row_scale: np.ndarray,
    slopes: np.ndarray,
    weights: np.ndarray,
    *,
    tau: float,
    sigma: float,
    alpha: float = 0.05,
) -> tuple[float, float, float, float]:
    """Non-central F power of ``H0: wᵀβ = 0`` for a design (module docstring).

    ``row_arm`` integer arm codes indexing ``slopes``/``weights``. Returns (power, δ, SE of
    δ̂, ddf). Rows at t = 0 add no information but count in N (as nlme's df).
    """
    n_mice = int(row_mouse.max()) + 1
    s = np.bincount(
        row_mouse,
        weights=np.divide(
            t * t,
            sigma * sigma * row_scale * row_scale,
            out=np.zeros_like(t),
            where=t > 0,
        ),
        minlength=n_mice,
    )
    info_mouse = s / (1.0 + tau * tau * s)
    mouse_arm = np.zeros(n_mice, dtype=int)
    mouse_arm[row_mouse] = row_arm
    info_arm = np.bincount(mouse_arm, weights=info_mouse, minlength=slopes.shape[0])
    used = weights != 0
    if np.any(info_arm[used] <= 0):
        raise InputError(
            "an arm of the contrast has no information about its slope",
            expected="mice with measurements after time 0 in every arm of the test",
            found="none in arm(s) " + ", ".join(map(str, np.flatnonzero(used & (info_arm <= 0)))),
        )
    var = float(np.sum(weights[used] ** 2 / info_arm[used]))
    delta = float(weights @ slopes)
    ddf = float(t.shape[0] - n_mice - slopes.shape[0] + 1)
    if ddf < 1:
        raise InputError(
            "too few measurements for the F test",
            expected="rows − mice − arms + 1 >= 1",
            found=f"{t.shape[0]} rows, {n_mice} mice, {slopes.shape[0]} arms",
        )
    ncp = delta * delta / var
    crit = stats.f.ppf(1.0 - alpha, 1, ddf)
    power = float(stats.ncf.sf(crit, 1, ddf, ncp)) if ncp > 0 else alpha
    return power, delta, math.sqrt(var), ddf


def _check_alpha(alpha: object) -> float:
    """A significance level strictly between 0 and 1 (2 gave a power of 1)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise InputError("alpha must be a significance level", expected="0 < alpha < 1",
                         found=repr(alpha))  # fmt: skip
    return float(alpha)


def _finite(value: object) -> bool:
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _default_fitter() -> Callable[..., GrowthFitLike]:
    lmm = importlib.import_module("trkres.assays.invivo.lmm")
    fitter: Callable[..., GrowthFitLike] = lmm.fit_growth
    return fitter


def _simulate_power(
    frame: pd.DataFrame,
    src: np.ndarray,
    y: np.ndarray,
    *,
    design: SynergyDesign,
    method: str,
    reference: str | None,
    variance: str,
    alpha: float,
    robust: bool,
    fitter: Callable[..., GrowthFitLike],
) -> tuple[float, float, int]:
    """Refit every replicate and test. ``frame`` is a volumes frame of the design whose
    row i takes volume ``exp(y[k, src[i]])`` (``src[i] = -1``: a baseline, volume 1)."""
    base = src < 0
    take = np.where(base, 0, src)
    hits, ok, failed = 0, 0, 0
    for k in range(y.shape[0]):
        rep = frame.assign(volume=np.where(base, 1.0, np.exp(y[k, take])))
        try:
            fit = fitter(rep, variance=variance, time_start=0.0, min_observations=1)
            row = synergy_from_fit(
                fit, design, method=method, time=1.0, robust=robust, reference=reference
            )
        except (InputError, ComputationError, np.linalg.LinAlgError):
            failed += 1
            continue
        p = row["p_value"]
        if not np.isfinite(p):
            failed += 1
            continue
        ok += 1
        hits += int(p < alpha)
    if ok == 0:
        raise ComputationError(
            "no simulated experiment could be refitted",
            expected="at least one successful refit",
            found=f"{failed} failures of {y.shape[0]}",
        )
    power = hits / ok
    return power, math.sqrt(power * (1.0 - power) / ok), failed


def _frame_from_design(
    mouse: np.ndarray, arm: np.ndarray, t: np.ndarray
) -> tuple[pd.DataFrame, np.ndarray]:
    """Volumes frame of a design (the data contract: sorted by arm, mouse, day): one
    baseline row per mouse at day 0, then its rows at t > 0. Returns the frame and, per
    frame row, the index into ``t`` it takes its volume from (-1: baseline)."""
    keep = np.flatnonzero(t > 0)
    mice, first = np.unique(mouse, return_index=True)
    frame = pd.DataFrame(
        {
            "mouse_id": np.concatenate([mice, mouse[keep]]).astype(str),
            "arm": np.concatenate([arm[first], arm[keep]]).astype(str),
            "day": np.concatenate([np.zeros(mice.size), t[keep]]),
            "volume": 1.0,
            "_src": np.concatenate([np.full(mice.size, -1), keep]),
        }
    )
    frame = frame.sort_values(["arm", "mouse_id", "day"], kind="stable").reset_index(drop=True)
    src = frame.pop("_src").to_numpy(dtype=int)
    return frame, src


def posthoc_power(
    fit: Any,
    volumes: pd.DataFrame | None = None,
    *,
    control: str,
    drug_a: str,
    drug_b: str,
    drug_c: str | None = None,
    combination: str,
    method: str = "bliss",
    nsim: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
    robust: bool = False,
    fitter: Callable[..., GrowthFitLike] | None = None,
) -> PowerResult:
    """Post hoc power of the synergy test of a fitted model (as SynergyLMM ``PostHocPwr``).

    ``fit`` a :class:`.lmm.GrowthFit` (its ``beta``, ``tau``, ``sigma``, ``variance`` and
    ``variance_params`` generate the data; its ``data`` rows are the design: the same mice,
    arms and times). ``volumes`` is not needed (the design is in the fit); pass a fit of the
    window you want (SynergyLMM's ``time`` argument is ``fit_growth(time_end=…)``). The HSA
    reference is the best single agent of ``fit``. Other arms in the fit are simulated and
    refitted too (they share the variance parameters). ``nsim`` replicates; ``seed``.
    """
    del volumes  # the design is the fit's own data
    design = synergy_design(control, drug_a, drug_b, drug_c, combination, what="power")
    method = _check_method(method)
    alpha = _check_alpha(alpha)
    if nsim < 1:
        raise InputError("nsim must be positive", expected=">= 1", found=str(nsim))
    arms = tuple(fit.arms)
    missing = [a for a in design.arms if a not in arms]
    if missing:
        raise InputError(
            "arm(s) not in the fitted model: " + ", ".join(missing),
            expected="arms " + ", ".join(design.arms),
            found="arms " + ", ".join(arms),
        )
    data: pd.DataFrame = fit.data
    beta = np.asarray(fit.beta, dtype=float)
    w, reference = contrast_weights(fit, design, method)
    arm_code = pd.Categorical(data["arm"], categories=list(arms)).codes.astype(int)
    mouse_code = pd.factorize(data["mouse_id"])[0].astype(int)
    t = data["time"].to_numpy(dtype=float)
    g = _residual_scale(
        data["arm"].to_numpy(), data["mouse_id"].to_numpy(), t, dict(fit.variance_params)
    )
    analytic, delta, se, ddf = analytic_power(
        t, mouse_code, arm_code, g, beta, w, tau=float(fit.tau), sigma=float(fit.sigma), alpha=alpha
    )
    start = _time.perf_counter()
    rng = np.random.default_rng(seed)
    y = simulate_log_rtv(
        t,
        mouse_code,
        beta[arm_code],
        g,
        tau=float(fit.tau),
        sigma=float(fit.sigma),
        nsim=nsim,
        rng=rng,
    )
    frame, src = _frame_from_design(
        data["mouse_id"].to_numpy(dtype=object), data["arm"].to_numpy(dtype=object), t
    )
    power, mc_se, failed = _simulate_power(
        frame,
        src,
        y,
        design=design,
        method=method,
        reference=None if method == "bliss" else reference,
        variance=str(fit.variance),
        alpha=alpha,
        robust=robust,
        fitter=fitter if fitter is not None else _default_fitter(),
    )
    n_per_arm = float(np.mean(np.bincount(arm_code[np.unique(mouse_code, return_index=True)[1]])))
    return PowerResult(
        method, alpha, power, mc_se, nsim, failed, analytic, delta, se, ddf, n_per_arm,
        _time.perf_counter() - start,
    )  # fmt: skip


def _apriori_design(
    design: SynergyDesign, n_mice_per_arm: int, times: Sequence[float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tt = np.asarray(times, dtype=float)
    if tt.ndim != 1 or tt.size == 0 or not np.all(np.isfinite(tt)) or np.any(tt < 0):
        raise InputError(
            "times must be finite, non-negative times since the start",
            expected="e.g. [0, 3, 7, 10, 14]",
            found=repr(list(times))[:200],
        )
    if np.unique(tt).size != tt.size:
        raise InputError(
            "times must be distinct (one measurement per mouse and time)",
            expected="e.g. [0, 3, 7, 10, 14]",
            found=repr(list(times))[:200],
        )
    if np.unique(tt[tt > 0]).size < 1:
        raise InputError(
            "no measurement time after the start", expected="a time > 0", found=repr(list(times))
        )
    n_arms = len(design.arms)
    n_mice = n_arms * n_mice_per_arm
    mouse = np.repeat(np.arange(n_mice), tt.size)
    arm = mouse // n_mice_per_arm
    t = np.tile(tt, n_mice)
    names = np.array([f"{design.arms[a]}_{m}" for m, a in enumerate(arm[:: tt.size])], dtype=object)
    return mouse, arm, t, names


def apriori_power(
    *,
    n_mice_per_arm: int,
    times: Sequence[float],
    slopes: Mapping[str, float],
    tau: float,
    sigma: float,
    control: str,
    drug_a: str,
    drug_b: str,
    drug_c: str | None = None,
    combination: str,
    variance: str = "none",
    variance_params: Mapping[str, float] | None = None,
    method: str = "bliss",
    nsim: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
    simulate: bool = True,
    fitter: Callable[..., GrowthFitLike] | None = None,
) -> PowerResult:
    """A priori power of the synergy test for a planned experiment.

    ``n_mice_per_arm`` mice in each arm, measured at ``times`` (time since the start, same
    unit as the slopes; a 0 is the baseline); ``slopes`` the growth rate of log relative
    volume per arm (1/time); ``tau`` the SD of the per-mouse random slope (1/time, absolute,
    not relative to sigma); ``sigma`` the residual SD (log units); ``variance`` /
    ``variance_params`` the residual variance function used to generate *and* refit
    (nlme semantics: ``{"arm:<a>": ratio, "power": δ}``). ``simulate=False`` gives only the
    analytic power (fast, exact for known variance parameters); with simulation, ``nsim``
    experiments are drawn and refitted (the power a REML analysis actually has).
    """
    design = synergy_design(control, drug_a, drug_b, drug_c, combination, what="power")
    method = _check_method(method)
    alpha = _check_alpha(alpha)
    lmm = importlib.import_module("trkres.assays.invivo.lmm")
    if variance not in lmm.VARIANCES:
        raise InputError("unknown variance structure", expected=", ".join(lmm.VARIANCES),
                         found=repr(variance))  # fmt: skip
    if (
        isinstance(n_mice_per_arm, bool)
        or int(n_mice_per_arm) != n_mice_per_arm
        or n_mice_per_arm < 2
    ):
        raise InputError(
            "n_mice_per_arm must be a whole number >= 2",
            expected=">= 2",
            found=repr(n_mice_per_arm),
        )
    missing = [a for a in design.arms if a not in slopes]
    if missing:
        raise InputError(
            "slopes lack arm(s): " + ", ".join(missing),
            expected="a slope for " + ", ".join(design.arms),
            found=", ".join(map(str, slopes)) or "none",
        )
    odd = {a: slopes[a] for a in design.arms if not _finite(slopes[a])}
    if odd:
        raise InputError("slopes must be finite numbers (1/time)", expected="finite slopes",
                         found=", ".join(f"{a}={v}" for a, v in odd.items()))  # fmt: skip
    if not (math.isfinite(tau) and tau >= 0 and math.isfinite(sigma) and sigma > 0):
        raise InputError(
            "tau must be >= 0 and sigma > 0",
            expected="finite SDs",
            found=f"tau={tau}, sigma={sigma}",
        )
    params = dict(variance_params or {})
    mouse, arm, t, names = _apriori_design(design, int(n_mice_per_arm), times)
    arm_names = np.array(design.arms, dtype=object)[arm]
    beta = np.array([float(slopes[a]) for a in design.arms])
    g = _residual_scale(arm_names, names[mouse], t, params)
    w = np.zeros(beta.size)
    w[-1] = 1.0
    if method == "bliss":
        w[1:-1] = -1.0
        w[0] = len(design.drugs) - 1.0
        reference = None
    else:
        best = 1 + int(np.argmin(beta[1:-1]))
        w[best] = -1.0
        reference = design.arms[best]
    analytic, delta, se, ddf = analytic_power(
        t, mouse, arm, g, beta, w, tau=tau, sigma=sigma, alpha=alpha
    )
    if not simulate:
        return PowerResult(
            method,
            alpha,
            math.nan,
            math.nan,
            0,
            0,
            analytic,
            delta,
            se,
            ddf,
            float(n_mice_per_arm),
            0.0,
        )
    if nsim < 1:
        raise InputError("nsim must be positive", expected=">= 1", found=str(nsim))
    start = _time.perf_counter()
    rng = np.random.default_rng(seed)
    y = simulate_log_rtv(t, mouse, beta[arm], g, tau=tau, sigma=sigma, nsim=nsim, rng=rng)
    frame, src = _frame_from_design(names[mouse], arm_names, t)
    power, mc_se, failed = _simulate_power(
        frame,
        src,
        y,
        design=design,
        method=method,
        reference=reference,
        variance=variance,
        alpha=alpha,
        robust=False,
        fitter=fitter if fitter is not None else _default_fitter(),
    )
    return PowerResult(
        method, alpha, power, mc_se, nsim, failed, analytic, delta, se, ddf,
        float(n_mice_per_arm), _time.perf_counter() - start,
    )  # fmt: skip


def mice_per_arm(
    target_power: float = 0.8,
    *,
    n_min: int = 2,
    n_max: int = 60,
    simulate: bool = False,
    **design: Any,
) -> tuple[int, pd.DataFrame]:
    """The smallest number of mice per arm whose power reaches ``target_power``.

    ``design`` are the keyword arguments of :func:`apriori_power` except
    ``n_mice_per_arm``. The search: the analytic power is monotone in n, so n is scanned
    upward from ``n_min`` with the analytic power (microseconds per n) to the first n that
    reaches the target. With ``simulate=True`` the simulated power (same seed at every n)
    is then computed from two below that n upward until it reaches the target (simulated
    power is noisy: read it with its ``mc_se``). Returns (n, the table of every n tried).
    Raises :class:`InputError` when ``n_max`` does not reach the target.
    """
    if not 0.0 < target_power < 1.0:
        raise InputError(
            "target_power must be in (0, 1)", expected="e.g. 0.8", found=repr(target_power)
        )
    if "n_mice_per_arm" in design:
        raise InputError(
            "mice_per_arm searches n_mice_per_arm; do not pass it",
            expected="no n_mice_per_arm",
            found="n_mice_per_arm",
        )
    rows: list[dict[str, Any]] = []
    found_n: int | None = None
    for n in range(max(2, n_min), n_max + 1):
        res = apriori_power(n_mice_per_arm=n, simulate=False, **design)
        rows.append({**res.as_dict(), "approach": "analytic"})
        if res.analytic_power >= target_power:
            found_n = n
            break
    if found_n is None:
        raise InputError(
            f"no number of mice up to {n_max} per arm reaches power {target_power}",
            expected=f"power >= {target_power}",
            found=f"{rows[-1]['analytic_power']:.3f} at {n_max} mice per arm"
            if rows
            else "no n tried",
            hint="raise n_max, add time points, or expect a larger effect",
        )
    if simulate:
        found_sim: int | None = None
        for n in range(max(2, n_min, found_n - 2), n_max + 1):
            res = apriori_power(n_mice_per_arm=n, simulate=True, **design)
            rows.append({**res.as_dict(), "approach": "simulation"})
            if res.power >= target_power:
                found_sim = n
                break
        if found_sim is None:
            raise InputError(
                f"simulated power does not reach {target_power} up to {n_max} mice per arm",
                expected=f"power >= {target_power}",
                found=f"{rows[-1]['power']:.3f} at {n_max}",
            )
        found_n = found_sim
    return found_n, pd.DataFrame(rows)
