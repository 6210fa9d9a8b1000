"""One-at-a-time sensitivity analysis: how each uncertain rate moves P(cure) and the time to
progression of every regimen.

A parameter is named by its place in the scenario: ``birth``, ``death``,
``death_on_drug``, ``detection_size``, ``progression_size``, ``types.NAME.birth`` or
``rate.FROM.TO`` (the mutation rate from type FROM to type TO). Each is swept over
``points`` values between ``lo`` and ``hi`` (a log grid when both are positive and hi/lo ≥
100), the others held at the scenario's values, every point simulated with the same seed
(common random numbers: differences between points are not noise between patients).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from trkres.errors import InputError
from trkres.models.evolution.scenario import Scenario, scenario_from

__all__ = ["grid", "joint", "lhs", "parse_vary", "prcc", "set_parameter"]

_TOP = ("birth", "death", "death_on_drug", "detection_size", "progression_size")


def _method_column(summary: pd.DataFrame) -> list[str]:
    """The engine column, when the runner says which engine ran the set."""
    return ["method"] if "method" in summary.columns else []


def parse_vary(items: list[str], option: str = "--vary") -> dict[str, tuple[float, float]]:
    """``["death_on_drug=0.15:0.21", ...]`` → ``{"death_on_drug": (0.15, 0.21)}``."""
    out: dict[str, tuple[float, float]] = {}
    for item in items:
        name, sep, span = item.partition("=")
        lo, sep2, hi = span.partition(":")
        try:
            pair = (float(lo), float(hi))
        except ValueError:
            pair = (math.nan, math.nan)
        if not sep or not sep2 or not name.strip() or not all(map(math.isfinite, pair)):
            raise InputError(f"bad option {option}", expected="name=lo:hi, e.g. death_on_drug=0.15:0.21 "
                             "or rate.sensitive.r1=1e-9:1e-7", found=repr(item))  # fmt: skip
        if name.strip() in out:
            raise InputError(f"{option} {name.strip()} given twice", expected="each parameter "
                             "once (one range per parameter)",
                             found=f"{name.strip()}={out[name.strip()][0]:g}:"
                             f"{out[name.strip()][1]:g} and {item!r}")  # fmt: skip
        out[name.strip()] = pair
    return out


def grid(lo: float, hi: float, points: int) -> np.ndarray:
    """``points`` values from lo to hi: log-spaced when both > 0 and hi/lo >= 100."""
    if lo > 0 and hi > 0 and max(hi / lo, lo / hi) >= 100:
        return np.geomspace(lo, hi, points)
    return np.linspace(lo, hi, points)


def set_parameter(data: dict[str, Any], name: str, value: float) -> dict[str, Any]:
    """A copy of a scenario mapping (``Scenario.model_dump(by_alias=True)``) with ``name``
    set to ``value``; an unknown name is an :class:`InputError`."""
    import copy

    out = copy.deepcopy(data)
    parts = name.split(".")
    if name in _TOP:
        out[name] = value
        return out
    # Type names may hold dots (ntrk1.g595r): match whole names, never split inside one.
    if name.startswith("types.") and name.endswith(".birth"):
        type_name = name[len("types.") : -len(".birth")]
        if type_name in out["types"]:
            out["types"][type_name]["birth"] = value
            return out
    if parts[0] == "rate":
        for m in out["mutations"]:
            if name == f"rate.{m['from']}.{m['to']}":
                m["rate"] = value
                return out
    raise InputError(
        f"unknown parameter {name!r}",
        expected=", ".join(_TOP) + ", types.NAME.birth or rate.FROM.TO (a listed mutation)",
        found=name,
    )


def sweep(
    scenario: Scenario,
    vary: Mapping[str, tuple[float, float]],
    points: int,
    run: Any,
) -> pd.DataFrame:
    """Run ``run(scenario) -> summary table`` at every grid point; one row per parameter,
    value and regimen."""
    from trkres.errors import InputError

    base = scenario.model_dump(by_alias=True)
    # every grid point's scenario is built and checked before any simulation runs
    planned: list[tuple[str, float, Scenario]] = []
    for name, (lo, hi) in vary.items():
        for value in grid(lo, hi, points):
            try:
                changed, _, _ = scenario_from(set_parameter(base, name, float(value)))
            except InputError as exc:
                exc.message = f"--vary {name}={lo:g}:{hi:g} at {float(value):g}: {exc.message}"
                raise
            planned.append((name, float(value), changed))
    rows = []
    for name, value, changed in planned:
        summary = run(changed)
        part = summary[["regimen", "p_cure", "p_cure_ci_low", "p_cure_ci_high",
                        "p_progression", "p_ongoing", "median_ttp",
                        "patients_stopped_early", *_method_column(summary)]].copy()  # fmt: skip
        part.insert(0, "value", value)
        part.insert(0, "parameter", name)
        rows.append(part)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def lhs(ranges: Mapping[str, tuple[float, float]], samples: int, seed: int) -> pd.DataFrame:
    """``samples`` parameter sets drawn jointly by Latin hypercube (``scipy.stats.qmc``,
    seeded): each parameter's range cut into ``samples`` equal strata (of log value when both
    ends are > 0 and hi/lo >= 100, as :func:`grid`), one value in each, strata paired at
    random across parameters. One column per parameter, one row per set."""
    from scipy.stats import qmc

    names = list(ranges)
    u = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(seed)).random(samples)
    out = {}
    for j, name in enumerate(names):
        lo, hi = ranges[name]
        if lo > 0 and hi > 0 and max(hi / lo, lo / hi) >= 100:
            out[name] = np.exp(np.log(lo) + u[:, j] * (np.log(hi) - np.log(lo)))
        else:
            out[name] = lo + u[:, j] * (hi - lo)
    return pd.DataFrame(out)


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return np.asarray(rankdata(x), dtype=float)


def prcc(x: pd.DataFrame, y: np.ndarray) -> dict[str, float]:
    """Partial rank correlation of ``y`` with each column of ``x``: Spearman correlation of
    the residuals of rank(y) and rank(x_j) after linear regression on the ranks of the other
    columns (NaN when there are not more sets than parameters + 1, a column is constant, or
    the other columns leave no residual: rank(y) a function of them alone)."""
    n, d = x.shape
    out = {name: math.nan for name in x.columns}
    if n <= d + 1:
        return out
    rx = np.column_stack([_ranks(x[c].to_numpy()) for c in x.columns])
    ry = _ranks(y)
    for j, name in enumerate(x.columns):
        design = np.column_stack([np.ones(n), np.delete(rx, j, axis=1)])
        res_x = rx[:, j] - design @ np.linalg.lstsq(design, rx[:, j], rcond=None)[0]
        res_y = ry - design @ np.linalg.lstsq(design, ry, rcond=None)[0]
        # A residual that is rounding error (relative to the ranks' spread) has no
        # direction: the correlation is 0/0, not whatever the rounding gives.
        ss_x, ss_y = float(res_x @ res_x), float(res_y @ res_y)
        tiny = 1e-18 * n**3  # the ranks' sum of squares about their mean is ~n³/12
        out[name] = (
            float(res_x @ res_y) / math.sqrt(ss_x * ss_y) if min(ss_x, ss_y) > tiny else math.nan
        )
    return out


def joint(
    scenario: Scenario,
    ranges: Mapping[str, tuple[float, float]],
    samples: int,
    seed: int,
    run: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Latin-hypercube sensitivity: ``samples`` sets of the ``ranges`` parameters, each
    scenario simulated by ``run(scenario) -> summary table`` (same simulation seed for every
    set: common random numbers). Returns the table of sets (``sample``, one column per
    parameter, ``regimen``, P(cure) with CI, P(progression), median TTP) and the ranking
    (``parameter``, ``regimen``, ``outcome`` p_cure or median_ttp, Spearman rho and its p,
    PRCC, ``sets`` used: sets with a median TTP only for median_ttp)."""
    from scipy.stats import spearmanr

    base = scenario.model_dump(by_alias=True)
    values = lhs(ranges, samples, seed)
    planned: list[Scenario] = []
    for i, row in values.iterrows():
        data = base
        for name, value in row.items():
            data = set_parameter(data, str(name), float(value))
        try:
            changed, _, _ = scenario_from(data)
        except InputError as exc:
            what = ", ".join(f"{k}={float(v):g}" for k, v in row.items())
            exc.message = f"--sample set {int(str(i)) + 1} ({what}): {exc.message}"
            raise
        planned.append(changed)
    parts = []
    for i, changed in enumerate(planned):
        summary = run(changed)
        part = summary[["regimen", "p_cure", "p_cure_ci_low", "p_cure_ci_high", "p_progression",
                        "median_ttp", "patients_stopped_early", *_method_column(summary)]].copy()  # fmt: skip
        for name in reversed(values.columns):
            part.insert(0, name, float(values.iloc[i][name]))
        part.insert(0, "sample", i + 1)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    rows = []
    for regimen, g in table.groupby("regimen", sort=False):
        for outcome in ("p_cure", "median_ttp"):
            y = g[outcome].to_numpy(dtype=float)
            ok = np.isfinite(y)
            x = g.loc[ok, list(values.columns)]
            partial = prcc(x, y[ok])
            for name in values.columns:
                xs = x[name].to_numpy()
                if ok.sum() >= 3 and np.ptp(y[ok]) > 0 and np.ptp(xs) > 0:
                    rho, p = spearmanr(xs, y[ok])
                    rho, p = float(rho), float(p)
                else:
                    rho, p = math.nan, math.nan
                rows.append({"parameter": name, "regimen": regimen, "outcome": outcome,
                             "spearman": rho, "spearman_p": p, "prcc": partial[name],
                             "sets": int(ok.sum())})  # fmt: skip
    ranks = pd.DataFrame(rows)
    ranks["abs_prcc"] = ranks["prcc"].abs()
    ranks = ranks.sort_values(["regimen", "outcome", "abs_prcc"], ascending=[True, True, False],
                              na_position="last", kind="stable").drop(columns="abs_prcc")  # fmt: skip
    return table, ranks.reset_index(drop=True)
