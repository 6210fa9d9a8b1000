"""Calibration of the signalling model to a lab's own data, with profile-likelihood CIs.

Observations are a tidy table, one row per measurement:

- ``kind = "readout"``: ``genotype, treatment, time_h, readout, value`` — a fold change
  against the same genotype untreated (a western's pERK/ERK fold change, a viability
  fraction), optionally with ``se`` (standard error of the log fold change);
- ``kind = "ic50"``: ``genotype, drug, value`` — a half-maximal viability dose in nM (from
  ``trkres fit``), optionally ``se`` of its log.

The fitted quantities are core parameters by name (``k_sos``, ``ke_growth`` …) and drug
potencies as ``potency:<drug>`` (a factor on that drug's occupancy constants, all
targets and kinase forms). Everything is fitted on the log scale; residuals are on the
log scale too (fold changes and IC50s are log-normal). With ``se`` given, the objective
is the Gaussian likelihood with those errors; without, a common σ is profiled out
(−2 log L = n·log(RSS/n) + const).

Confidence intervals come from the profile likelihood (Raue et al., Bioinformatics
2009;25:1923, doi:10.1093/bioinformatics/btp358): each parameter is stepped away from its
optimum with the others re-optimised until −2 log L rises by the χ²₁ 95% quantile (3.84).
A side that never reaches it within the bounds is reported as *not identifiable* from
these data (practically non-identifiable, in Raue's words); a profile flat everywhere as
*structurally* unidentifiable from these data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.errors import InputError
from trkres.results import TableResult

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase
    from trkres.models.signalling.grid import Overrides

__all__ = ["CalibrationResult", "calibrate", "observations_from_blots", "observations_from_fits"]

_CHI2_95 = 3.841458820694124  # χ²₁ 0.95 quantile (scipy.stats.chi2.ppf(0.95, 1))
_READOUTS = ("pTRK", "pMEK", "pERK", "pAKT", "viability")


@dataclass(frozen=True, eq=False)
class CalibrationResult(TableResult):
    """Fitted parameters with profile-likelihood CIs (``estimates``), the fit per observation
    (``fit``), the profiles themselves (``profiles``) and the overrides to simulate with."""

    overrides: Any = None
    neg2loglik: float = float("nan")
    converged: bool = False
    notes: tuple[str, ...] = ()


@dataclass
class _Problem:
    observations: pd.DataFrame
    names: list[str]
    start: np.ndarray  # log values
    lower: np.ndarray
    upper: np.ndarray
    knowledge: KnowledgeBase
    dose_points: int
    has_se: bool
    evaluations: int = 0
    cache: dict[bytes, np.ndarray] = field(default_factory=dict)


def _check(observations: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(observations, pd.DataFrame) or observations.empty:
        raise InputError("no observations", expected="a non-empty DataFrame",
                         found=type(observations).__name__)  # fmt: skip
    obs = observations.copy()
    if "kind" not in obs.columns:
        obs["kind"] = np.where(obs.get("readout", pd.Series(index=obs.index)).notna()
                               if "readout" in obs.columns else False, "readout", "ic50")  # fmt: skip
    need = {"readout": ["genotype", "treatment", "time_h", "readout", "value"],
            "ic50": ["genotype", "drug", "value"]}  # fmt: skip
    for kind in obs["kind"].unique():
        if kind not in need:
            raise InputError(
                "unknown observation kind", expected="readout or ic50", found=str(kind)
            )
        missing = [c for c in need[kind] if c not in obs.columns]
        if missing:
            raise InputError(f"{kind} observations lack columns", expected=", ".join(need[kind]),
                             found=", ".join(map(str, obs.columns)))  # fmt: skip
    values = pd.to_numeric(obs["value"], errors="coerce")
    bad = ~(values > 0) | ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"observation row {row + 1}: bad value",
                         expected="a positive number (fold change or nM)",
                         found=str(obs["value"].iloc[row]))  # fmt: skip
    obs["value"] = values.astype(float)
    if "se" in obs.columns:
        se = pd.to_numeric(obs["se"], errors="coerce")
        if (~(se > 0)).any():
            row = int(np.flatnonzero(~(se > 0).to_numpy())[0])
            raise InputError(f"observation row {row + 1}: bad se",
                             expected="a positive standard error of the log value",
                             found=str(obs["se"].iloc[row]))  # fmt: skip
        obs["se"] = se.astype(float)
    is_readout = (obs["kind"] == "readout").to_numpy()
    if is_readout.any():
        times = pd.to_numeric(obs["time_h"], errors="coerce")
        bad_time = is_readout & ~((times > 0) & (times <= 720)).to_numpy()
        if bad_time.any():
            row = int(np.flatnonzero(bad_time)[0])
            raise InputError(f"observation row {row + 1}: bad time_h",
                             expected="hours after the drugs, in (0, 720]",
                             found=str(obs["time_h"].iloc[row]))  # fmt: skip
        obs["time_h"] = times.astype(float)
    for column in ("genotype", "treatment", "drug"):
        if column in obs.columns:
            need_it = is_readout if column == "treatment" else (
                ~is_readout if column == "drug" else np.ones(len(obs), dtype=bool))  # fmt: skip
            cells = obs[column]
            bad_text = (
                need_it & ~cells.map(lambda v: isinstance(v, str) and bool(v.strip())).to_numpy()
            )
            if bad_text.any():
                row = int(np.flatnonzero(bad_text)[0])
                raise InputError(f"observation row {row + 1}: bad {column}", expected="text",
                                 found=repr(cells.iloc[row]))  # fmt: skip
    if "readout" in obs.columns:
        readouts = obs.loc[obs["kind"] == "readout", "readout"]
        unknown = sorted(set(readouts) - set(_READOUTS))
        if unknown:
            raise InputError(
                "unknown readout", expected=", ".join(_READOUTS), found=", ".join(unknown)
            )
    return obs.reset_index(drop=True)


def _settings(fold: object, profile_steps: object, dose_points: object) -> None:
    if not (isinstance(fold, int | float) and not isinstance(fold, bool) and fold > 1
            and np.isfinite(fold)):  # fmt: skip
        raise InputError("bad fold", expected="a number > 1 (default bounds ÷/× fold)",
                         found=repr(fold))  # fmt: skip
    for name, value, low in (("profile_steps", profile_steps, 1), ("dose_points", dose_points, 0)):
        if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= 500):
            raise InputError(f"bad {name}", expected=f"an integer from {low} to 500",
                             found=repr(value))  # fmt: skip


def _canonical(name: str, kb: KnowledgeBase, drugs: set[str]) -> str:
    """``potency:LOXO-101`` → ``potency:larotrectinib``; other names unchanged."""
    if not name.startswith("potency:"):
        return name
    drug = kb.find_drug(name.split(":", 1)[1])
    if drug is None or drug.id not in drugs:
        raise InputError("unknown drug in a potency parameter",
                         expected="potency:<one of " + ", ".join(sorted(drugs)) + ">",
                         found=name)  # fmt: skip
    return f"potency:{drug.id}"


def _bounds(
    bounds: object, kb: KnowledgeBase, drugs: set[str], names: list[str]
) -> dict[str, tuple[float, float]]:
    if bounds is None:
        return {}
    if not isinstance(bounds, Mapping):
        raise InputError("bad bounds", expected="a dict of parameter → (low, high)",
                         found=type(bounds).__name__)  # fmt: skip
    out: dict[str, tuple[float, float]] = {}
    for key, pair in bounds.items():
        name = _canonical(str(key), kb, drugs)
        if name not in names:
            raise InputError("bounds for a parameter that is not fitted", expected=", ".join(names),
                             found=str(key))  # fmt: skip
        try:
            lo, hi = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise InputError(f"bad bounds for {key}", expected="(low, high), two numbers",
                             found=repr(pair)[:60]) from None  # fmt: skip
        if not (0 < lo < hi < np.inf):
            raise InputError(f"bad bounds for {key}", expected="0 < low < high",
                             found=f"{lo}, {hi}")  # fmt: skip
        out[name] = (lo, hi)
    return out


def _overrides(problem: _Problem, logs: np.ndarray) -> Overrides:
    from trkres.models.signalling.grid import Overrides

    params: dict[str, float] = {}
    scale: dict[str, float] = {}
    for name, value in zip(problem.names, np.exp(logs), strict=True):
        if name.startswith("potency:"):
            scale[name.split(":", 1)[1]] = float(value)
        else:
            params[name] = float(value)
    return Overrides(params, scale)


def _predict(problem: _Problem, logs: np.ndarray) -> np.ndarray:
    """Model values (same order as the observations) for log parameters ``logs``."""
    from trkres.models.signalling.genotype import parse_genotype, parse_treatment
    from trkres.models.signalling.grid import dose_grid, simulate_grid, single_drug_curves
    from trkres.models.signalling.run import half_maximal

    key = np.round(logs, 12).tobytes()
    if key in problem.cache:
        return problem.cache[key]
    problem.evaluations += 1
    obs, kb = problem.observations, problem.knowledge
    change = _overrides(problem, logs)
    out = np.full(len(obs), np.nan)
    genotypes = {g: parse_genotype(g, kb) for g in obs["genotype"].unique()}
    readouts = obs[obs["kind"] == "readout"]
    if len(readouts):
        treatments = {t: parse_treatment(t, kb) for t in readouts["treatment"].unique()}
        geno, treat = list(genotypes.values()), list(treatments.values())
        signalling = readouts[readouts["readout"] != "viability"]
        grids = []
        if len(signalling):
            grids.append(simulate_grid(geno, treat, sorted(set(signalling["time_h"])), kb,
                                       overrides=change).readouts)  # fmt: skip
        for when in sorted(set(readouts.loc[readouts["readout"] == "viability", "time_h"])):
            grid = simulate_grid(geno, treat, [when], kb, viability_h=when, overrides=change)
            grids.append(grid.readouts[grid.readouts["readout"] == "viability"])
        table = pd.concat(grids, ignore_index=True)
        index = table.set_index(["genotype", "treatment", "time_h", "readout"])["value"]
        index = index[~index.index.duplicated()]
        for i in np.flatnonzero((obs["kind"] == "readout").to_numpy()):
            row = obs.iloc[i]
            key4 = (genotypes[row["genotype"]].label, treatments[row["treatment"]].label,
                    float(row["time_h"]), row["readout"])  # fmt: skip
            out[i] = index.get(key4, np.nan)
    ic50 = obs[obs["kind"] == "ic50"]
    if len(ic50):
        doses = dose_grid(problem.dose_points)
        ids = {d: parse_treatment(f"{d}=1nM", kb).drugs[0] for d in sorted(set(ic50["drug"]))}
        curves, _ = single_drug_curves(list(genotypes.values()), list(dict.fromkeys(ids.values())),
                                       doses, kb, overrides=change)  # fmt: skip
        via = curves[curves["readout"] == "viability"]
        for i in np.flatnonzero((obs["kind"] == "ic50").to_numpy()):
            row = obs.iloc[i]
            label = genotypes[row["genotype"]].label
            part = via[(via["genotype"] == label) & (via["drug"] == ids[row["drug"]])]
            out[i] = half_maximal(doses, part["value"].to_numpy())
    problem.cache[key] = out
    return out


def _residuals(problem: _Problem, logs: np.ndarray) -> np.ndarray:
    pred = _predict(problem, logs)
    obs = problem.observations
    # a prediction that does not exist (IC50 never reached, a failed simulation) counts as
    # the far end of the dose range: a large but finite residual keeps the optimiser going.
    pred = np.where(np.isfinite(pred) & (pred > 0), pred, 1e5)
    r: np.ndarray = np.log(pred) - np.log(obs["value"].to_numpy(dtype=float))
    if problem.has_se:
        r = r / obs["se"].to_numpy(dtype=float)
    return r


def _neg2ll(problem: _Problem, r: np.ndarray) -> float:
    if problem.has_se:
        return float(np.sum(r**2))
    n = len(r)
    return float(n * np.log(max(float(np.sum(r**2)), 1e-300) / n))


def _optimise(
    problem: _Problem, start: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, float, bool]:
    from scipy.optimize import least_squares

    logs = start.copy()
    if not free.any():
        return logs, _neg2ll(problem, _residuals(problem, logs)), True

    def fun(x: np.ndarray) -> np.ndarray:
        full = logs.copy()
        full[free] = x
        return _residuals(problem, full)

    fit = least_squares(fun, logs[free], bounds=(problem.lower[free], problem.upper[free]),
                        x_scale=1.0, diff_step=1e-3, xtol=1e-8, ftol=1e-10, max_nfev=200)  # fmt: skip
    logs[free] = fit.x
    return logs, _neg2ll(problem, fit.fun), bool(fit.status > 0)


def _profile(problem: _Problem, best: np.ndarray, best_nll: float, i: int, steps: int
             ) -> tuple[list[dict[str, Any]], float, float]:  # fmt: skip
    free = np.ones(len(best), dtype=bool)
    free[i] = False
    rows: list[dict[str, Any]] = [{"parameter": problem.names[i], "value": float(np.exp(best[i])),
                                   "delta_neg2loglik": 0.0}]  # fmt: skip
    ends = []
    for direction in (-1.0, 1.0):
        limit = problem.lower[i] if direction < 0 else problem.upper[i]
        span = abs(limit - best[i])
        current = best.copy()
        end = float("nan")
        previous_x, previous_d = best[i], 0.0
        for k in range(1, steps + 1):
            x = best[i] + direction * span * k / steps
            current[i] = x
            current, nll, _ = _optimise(problem, current, free)
            d = nll - best_nll
            rows.append({"parameter": problem.names[i], "value": float(np.exp(x)),
                         "delta_neg2loglik": d})  # fmt: skip
            if d >= _CHI2_95:
                # linear interpolation of the crossing between the last two points
                t = (_CHI2_95 - previous_d) / (d - previous_d) if d != previous_d else 1.0
                end = float(np.exp(previous_x + t * (x - previous_x)))
                break
            previous_x, previous_d = x, d
        ends.append(end)
    return rows, ends[0], ends[1]


def calibrate(
    observations: pd.DataFrame,
    parameters: Sequence[str],
    *,
    knowledge: KnowledgeBase | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    fold: float = 100.0,
    profile_steps: int = 8,
    dose_points: int = 25,
) -> CalibrationResult:
    """Fit ``parameters`` to ``observations`` (see the module doc) and profile each one.

    ``bounds``: (low, high) per parameter in its own unit (a factor for ``potency:<drug>``);
    default: the shipped value ÷/× ``fold``. ``profile_steps``: points per side of each
    profile. ``dose_points``: doses per simulated curve for IC50 observations.
    """
    from trkres.knowledge.loader import load_knowledge
    from trkres.knowledge.store import KnowledgeBase as _KB
    from trkres.models.signalling.drugs import DRUGS
    from trkres.models.signalling.genotype import parse_genotype
    from trkres.models.signalling.trk import CORE_PARAMETERS

    if knowledge is not None and not isinstance(knowledge, _KB):
        raise InputError("bad knowledge", expected="a KnowledgeBase (tr.knowledge.load())",
                         found=type(knowledge).__name__)  # fmt: skip
    kb = knowledge or load_knowledge()
    _settings(fold, profile_steps, dose_points)
    obs = _check(observations)
    if (isinstance(parameters, str) or not isinstance(parameters, Sequence) or not parameters
            or not all(isinstance(p, str) for p in parameters)):  # fmt: skip
        raise InputError("no parameters to fit", expected="a list of parameter names (text)",
                         found=repr(parameters)[:80])  # fmt: skip
    if "ic50" in set(obs["kind"]) and dose_points < 5:
        raise InputError("IC50 observations need dose-response curves",
                         expected="dose_points ≥ 5", found=str(dose_points))  # fmt: skip
    core = {name: value for name, value, *_ in CORE_PARAMETERS}
    drugs = {d for d, _ in DRUGS}
    genotypes = [parse_genotype(g, kb, "observations") for g in obs["genotype"].unique()]
    names = list(dict.fromkeys(_canonical(p, kb, drugs) for p in parameters))
    canonical_bounds = _bounds(bounds, kb, drugs, names)
    start, shipped, notes_by = [], [], {}
    for name in names:
        if name.startswith("potency:"):
            start.append(1.0)
            shipped.append(1.0)
            continue
        set_by = {g.label: g.parameters[name] for g in genotypes if name in g.parameters}
        value = core.get(name, 0.0)
        if set_by:
            values = sorted(set(set_by.values()))
            notes_by[name] = ("set by the genotype's mechanism: " +
                              "; ".join(f"{g} = {v:g}" for g, v in set_by.items()))  # fmt: skip
            if len(values) == 1:
                value = values[0]
        if not value > 0:
            raise InputError("unknown or unfittable parameter",
                             expected="a positive core parameter (see the parameters table), "
                             "a mechanism's parameter of an observed genotype, or "
                             "potency:<drug>", found=name)  # fmt: skip
        start.append(value)
        shipped.append(value)
    if len(obs) < len(names):
        raise InputError("fewer observations than parameters",
                         expected=f"at least {len(names)} observations", found=str(len(obs)))  # fmt: skip
    logs0 = np.log(np.array(start))
    lower = logs0 - np.log(fold)
    upper = logs0 + np.log(fold)
    for i, name in enumerate(names):
        if name in canonical_bounds:
            lo, hi = canonical_bounds[name]
            lower[i], upper[i] = np.log(lo), np.log(hi)
    logs0 = np.clip(logs0, lower, upper)
    problem = _Problem(obs, names, logs0, lower, upper, kb, dose_points, "se" in obs.columns)
    best, best_nll, converged = _optimise(problem, logs0, np.ones(len(names), dtype=bool))
    # Without se, σ is profiled out: it needs residual degrees of freedom and residuals that
    # are not all zero. Otherwise −2 log L has no floor and any step "rises" past 3.84, so the
    # profile's CI would only be the width of its first step: none is reported.
    undefined = ""
    if not problem.has_se:
        rss = float(np.sum(_residuals(problem, best) ** 2))
        if len(obs) <= len(names):
            undefined = (f"not estimable: {len(obs)} observation(s) for {len(names)} parameter(s) "
                         "and no se column, so σ cannot be estimated (give se)")  # fmt: skip
        elif rss <= 1e-12 * len(obs):
            undefined = ("not estimable: the data fit exactly (σ profiled out is 0, no noise "
                         "to set a CI; give se)")  # fmt: skip
    profiles: list[dict[str, Any]] = []
    estimates = []
    for i, name in enumerate(names):
        rows: list[dict[str, Any]]
        if undefined:
            rows = [{"parameter": name, "value": float(np.exp(best[i])), "delta_neg2loglik": 0.0}]
            low = high = float("nan")
        else:
            rows, low, high = _profile(problem, best, best_nll, i, profile_steps)
        profiles.extend(rows)
        rises = max(r["delta_neg2loglik"] for r in rows)
        if undefined:
            status = undefined
        elif np.isfinite(low) and np.isfinite(high):
            status = "identifiable"
        elif rises < 0.1 * _CHI2_95:
            status = "not identifiable (flat profile)"
        else:
            status = (
                "not identifiable on the "
                + ("lower" if not np.isfinite(low) else "upper")
                + " side"
            )
        estimates.append({"parameter": name, "estimate": float(np.exp(best[i])),
                          "shipped": shipped[i], "ci_low": low, "ci_high": high,
                          "identifiability": status, "bound_low": float(np.exp(lower[i])),
                          "bound_high": float(np.exp(upper[i])), "note": notes_by.get(name, "")})  # fmt: skip
    pred = _predict(problem, best)
    fit = obs.assign(
        predicted=pred, log_residual=np.log(np.where(pred > 0, pred, np.nan)) - np.log(obs["value"])
    )
    notes = [
        f"{problem.evaluations} model evaluations; −2 log L = {best_nll:.4g}"
        + ("" if problem.has_se else " (σ profiled out: no se column)"),
        "95% CIs from the profile likelihood (Δ(−2 log L) = 3.84, Raue et al. 2009)",
    ]
    if not converged:
        notes.append("the optimiser stopped before converging: estimates may not be the optimum")
    if undefined:
        notes.append(f"no confidence intervals: {undefined.removeprefix('not estimable: ')}")
    return CalibrationResult(
        tables={"estimates": pd.DataFrame(estimates), "fit": fit,
                "profiles": pd.DataFrame(profiles)},
        overrides=_overrides(problem, best),
        neg2loglik=best_nll,
        converged=converged,
        notes=tuple(notes),
    )  # fmt: skip


def observations_from_fits(
    fits: pd.DataFrame, genotypes: Mapping[str, str], *, drug_column: str = "drug",
    line_column: str = "line", ic50_column: str | None = None, ic50_unit: str | None = None,
    group: Sequence[str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """IC50 observations (nM) from a dose-response fit table: each cell line mapped to a
    genotype (``{"parental": "LMNA::NTRK1", "R1": "LMNA::NTRK1 + NTRK1 G595R"}``).

    ``fits`` is ``trkres fit``'s ``fits.tsv`` (or ``tr.doseresponse.fit``'s table), whose
    ``ic50`` is molar and whose curves are named by ``curve_id`` (the ``--group`` columns'
    values joined by ``" | "``): pass ``group`` (those columns, in their order, e.g.
    ``["drug", "line"]``) to read ``drug_column`` and ``line_column`` from it. A table that
    has its own drug and line columns and an ``ic50_nm`` column (nM) is read as it is.
    ``ic50_column`` names another column, with its ``ic50_unit`` (M, mM, uM, nM, pM; the
    default is M for ``ic50``, nM for ``ic50_nm``). Fits whose ``status`` is not usable (see
    :data:`trkres.assays.doseresponse.curvefit.USABLE_STATUSES`: an ambiguous, flat or
    failed fit's IC50 is not determined by its data) are refused, naming their curves.
    """
    from trkres.assays.doseresponse.curvefit import USABLE_STATUSES
    from trkres.assays.doseresponse.io import CURVE_ID_SEPARATOR
    from trkres.units import molar_factor

    if not isinstance(fits, pd.DataFrame):
        raise InputError("fits must be a DataFrame", expected="trkres fit's fits table",
                         found=type(fits).__name__)  # fmt: skip
    if not isinstance(genotypes, Mapping):
        raise InputError("genotypes must map each cell line to its genotype",
                         expected='{"parental": "LMNA::NTRK1", ...}',
                         found=type(genotypes).__name__)  # fmt: skip
    fits = fits.copy()
    wanted = [drug_column, line_column]
    if any(c not in fits.columns for c in wanted) and group is not None:
        keys = [str(k) for k in group]
        if "curve_id" not in fits.columns or not set(wanted) <= set(keys):
            raise InputError("group= reads the drug and line from curve_id",
                             expected=f"a curve_id column and group naming {drug_column!r} and "
                             f"{line_column!r}", found=f"group {keys}; columns "
                             + ", ".join(map(str, fits.columns)))  # fmt: skip
        parts = fits["curve_id"].astype(str).str.split(CURVE_ID_SEPARATOR, regex=False)
        bad = parts.map(len) != len(keys)
        if bad.any():
            raise InputError("curve_id does not split into the group columns",
                             expected=f"{len(keys)} values joined by {CURVE_ID_SEPARATOR!r} "
                             f"({', '.join(keys)})",
                             found=str(fits["curve_id"][bad].iloc[0]))  # fmt: skip
        for i, key in enumerate(keys):
            fits[key] = parts.str[i]
    if ic50_column is None:
        ic50_column = "ic50_nm" if "ic50_nm" in fits.columns else "ic50"
    if ic50_unit is None:
        if ic50_column not in ("ic50", "ic50_nm"):
            raise InputError("the unit of the IC50 column is not stated",
                             expected="ic50_unit= (M, mM, uM, nM or pM)",
                             found=f"ic50_column={ic50_column!r} without ic50_unit")  # fmt: skip
        ic50_unit = "M" if ic50_column == "ic50" else "nM"
    to_nm = molar_factor(ic50_unit) / 1e-9
    if not np.isfinite(to_nm):
        raise InputError("unknown IC50 unit", expected="M, mM, uM, nM or pM", found=str(ic50_unit))
    for column in (drug_column, line_column, ic50_column):
        if column not in fits.columns:
            hint = (" (trkres fit's table names curves by curve_id: pass group=, the columns "
                    "they were grouped by, e.g. ['drug', 'line'])"
                    if column in wanted and "curve_id" in fits.columns else "")  # fmt: skip
            raise InputError("the fit table lacks a column" + hint, expected=column,
                             found=", ".join(map(str, fits.columns)))  # fmt: skip
    if "status" in fits.columns:
        unusable = ~fits["status"].astype(str).isin(USABLE_STATUSES)
        if unusable.any():
            named = fits["curve_id"] if "curve_id" in fits.columns else fits[line_column]
            found = "; ".join(f"{n}: {st}" for n, st in
                              zip(named[unusable].astype(str), fits["status"][unusable].astype(str),
                                  strict=True))  # fmt: skip
            raise InputError("fits whose IC50 the data do not determine cannot calibrate the "
                             "model; drop those rows to calibrate without them",
                             expected="status " + " or ".join(USABLE_STATUSES), found=found)  # fmt: skip
    unknown = sorted(set(fits[line_column].astype(str)) - set(genotypes))
    if unknown:
        raise InputError("cell lines without a genotype", expected="a genotype for each line",
                         found=", ".join(unknown))  # fmt: skip
    return pd.DataFrame({
        "kind": "ic50",
        "genotype": fits[line_column].astype(str).map(genotypes).to_numpy(),
        "drug": fits[drug_column].astype(str).to_numpy(),
        "value": pd.to_numeric(fits[ic50_column], errors="coerce").to_numpy() * to_nm,
    })  # fmt: skip


def observations_from_blots(
    quantified: pd.DataFrame,
    genotypes: Mapping[str, str],
    readouts: Mapping[str, str],
) -> pd.DataFrame:
    """Readout observations from western fold changes (``trkres blot``'s ``quantified`` table,
    or ``tr.western.blot(...)["quantified"]`` of several blots concatenated).

    ``genotypes``: each layout ``sample`` → its genotype; ``readouts``: each ``target`` →
    the model readout (``{"pERK": "pERK", "p-ERK1/2": "pERK"}``). A lane's treatment is its
    layout ``treatment`` with its ``dose`` and ``dose_unit`` (``larotrectinib`` + 100 nM →
    ``larotrectinib=100nM``), or the treatment text itself when it already says
    ``drug=dose`` (combinations: ``larotrectinib=100nM+trametinib=10nM``); control lanes
    (role ``control``, fold change 1 by definition) are left out. Time is the layout's
    ``time`` in hours (``time_unit`` h or min; 2 h when the table has no ``time`` column; a
    lane with an empty or non-numeric time is an error, not a guess). Rows without a fold change are left out and
    counted in the ``note`` column's first row.
    """
    need = ["sample", "treatment", "target", "fold_change"]
    missing = [c for c in need if c not in quantified.columns]
    if missing:
        raise InputError("the western table lacks columns", expected=", ".join(need),
                         found=", ".join(map(str, quantified.columns)))  # fmt: skip
    frame = quantified.copy()
    if "role" in frame.columns:
        frame = frame[frame["role"].astype(str).str.lower() != "control"]
    frame = frame[frame["target"].astype(str).isin(readouts)]
    unknown = sorted(set(frame["sample"].astype(str)) - set(genotypes))
    if unknown:
        raise InputError("samples without a genotype", expected="a genotype for each sample",
                         found=", ".join(unknown))  # fmt: skip
    fold = pd.to_numeric(frame["fold_change"], errors="coerce")
    dropped = int((~(fold > 0)).sum())
    frame = frame[fold > 0]

    def treatment(row: pd.Series) -> str:
        text = str(row["treatment"]).strip()
        if "=" in text:
            return text
        dose = pd.to_numeric(pd.Series([row.get("dose")]), errors="coerce").iloc[0]
        unit = str(row.get("dose_unit", "") or "").strip()
        if pd.isna(dose) or not unit:  # text ('10 nM' in the dose cell) is no dose either
            raise InputError(f"lane {row.get('lane', '?')}: no dose for {text}",
                             expected="dose and dose_unit in the layout, or 'drug=dose' text",
                             found=f"{row.get('dose')!r} {unit!r}")  # fmt: skip
        return f"{text}={float(dose):g}{unit}"

    def hours(row: pd.Series) -> float:
        if "time" not in row:
            return 2.0  # no time column: the 2 h of a signalling western (documented)
        time = pd.to_numeric(pd.Series([row["time"]]), errors="coerce").iloc[0]
        if pd.isna(time):  # a lane without its time, or text: not guessed
            raise InputError(f"lane {row.get('lane', '?')}: bad time",
                             expected="a number of hours or minutes (time_unit)",
                             found=repr(row["time"]))  # fmt: skip
        unit = str(row.get("time_unit", "h") or "h").strip().lower()
        scale = {"h": 1.0, "hr": 1.0, "hours": 1.0, "min": 1 / 60, "minutes": 1 / 60}.get(unit)
        if scale is None:
            raise InputError("unknown time unit", expected="h or min", found=unit)
        return float(time) * scale

    out = pd.DataFrame({
        "kind": "readout",
        "genotype": frame["sample"].astype(str).map(genotypes).to_numpy(),
        "treatment": [treatment(r) for _, r in frame.iterrows()],
        "time_h": [hours(r) for _, r in frame.iterrows()],
        "readout": frame["target"].astype(str).map(readouts).to_numpy(),
        "value": fold[fold > 0].to_numpy(dtype=float),
    })  # fmt: skip
    out["note"] = ""
    if dropped and len(out):
        out.loc[out.index[0], "note"] = f"{dropped} lane(s) without a positive fold change left out"
    return out
