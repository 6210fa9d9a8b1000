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

__all__ = ["grid", "parse_vary", "set_parameter"]

_TOP = ("birth", "death", "death_on_drug", "detection_size", "progression_size")


def parse_vary(items: list[str]) -> dict[str, tuple[float, float]]:
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
            raise InputError("bad option --vary", expected="name=lo:hi, e.g. death_on_drug=0.15:0.21 "
                             "or rate.sensitive.r1=1e-9:1e-7", found=repr(item))  # fmt: skip
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
    if len(parts) == 3 and parts[0] == "types" and parts[2] == "birth" and parts[1] in out["types"]:
        out["types"][parts[1]]["birth"] = value
        return out
    if len(parts) == 3 and parts[0] == "rate":
        for m in out["mutations"]:
            if m["from"] == parts[1] and m["to"] == parts[2]:
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
                        "patients_stopped_early"]].copy()  # fmt: skip
        part.insert(0, "value", value)
        part.insert(0, "parameter", name)
        rows.append(part)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
