"""Limits of blank and detection (CLSI EP17-A2) and detection calls.

Parametric (EP17-A2 §5.3):
    LoB = mean_B + c_p·SD_B,   c_p = 1.645 / (1 − 1/(4(B − K)))
    LoD = LoB + c_p·SD_L,      c_p = 1.645 / (1 − 1/(4(L − J)))
with B blank results from K blank samples, L low-level results from J
samples, SD_L the pooled within-sample SD of the low-level samples.

Non-parametric (EP17-A2 §5.3.2): LoB is the blank value at rank
``0.5 + B·0.95`` (interpolated between ranks); LoD = LoB + D_s with D_s the
distance from the median of the low-level results to their 5th percentile.

Units are whatever the inputs are (positive droplets, copies/µL, VAF percent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from trkres.errors import ComputationError


@dataclass(frozen=True)
class DetectionLimits:
    """LoB and LoD with how they were computed."""

    lob: float
    lod: float
    method: str
    n_blank: int
    n_low: int

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([vars(self)])


def _cp(n_results: int, n_samples: int) -> float:
    dof = n_results - n_samples
    if dof < 1:
        raise ComputationError(
            "too few results for a parametric limit",
            expected="more results than samples (EP17 recommends ≥ 60 per reagent lot)",
            found=f"{n_results} results from {n_samples} samples",
        )
    return 1.645 / (1 - 1 / (4 * dof))


def rank_percentile(values: np.ndarray, pct: float) -> float:
    """EP17's non-parametric percentile: the value at rank ``0.5 + n·pct``, interpolated."""
    x = np.sort(np.asarray(values, dtype=float))
    rank = 0.5 + len(x) * pct  # 1-based
    lo = int(np.floor(rank))
    if lo < 1:
        return float(x[0])
    if lo >= len(x):
        return float(x[-1])
    return float(x[lo - 1] + (rank - lo) * (x[lo] - x[lo - 1]))


def detection_limits(
    blank: pd.DataFrame | Sequence[float],
    low: pd.DataFrame | Sequence[float],
    *,
    method: Literal["parametric", "nonparametric"] = "parametric",
) -> DetectionLimits:
    """LoB from blank results and LoD from low-level results.

    Each of ``blank`` and ``low`` is a sequence of values (one sample) or a
    frame with ``sample`` and ``value`` columns (several samples).
    """
    b = _as_frame(blank)
    lw = _as_frame(low)
    if len(b) < 2 or len(lw) < 2:
        raise ComputationError("EP17 needs replicate results", expected="≥ 2 blank and ≥ 2 low-level results",
                               found=f"{len(b)} blank, {len(lw)} low-level")  # fmt: skip
    for what, frame in (("blank", b), ("low-level", lw)):
        bad = ~np.isfinite(frame["value"].to_numpy(dtype=float))
        if bad.any():  # NaN would make every limit NaN and every call not_detected
            raise ComputationError(
                f"a {what} result is not a finite number",
                expected="finite blank and low-level results",
                found=f"{frame['value'].iloc[int(np.flatnonzero(bad)[0])]!r} "
                f"(sample {frame['sample'].iloc[int(np.flatnonzero(bad)[0])]})",
            )
    if method == "parametric":
        lob = b["value"].mean() + _cp(len(b), b["sample"].nunique()) * b["value"].std(ddof=1)
        groups = lw.groupby("sample")["value"]
        dof = groups.count() - 1
        pooled = np.sqrt((groups.var(ddof=1).fillna(0) * dof).sum() / dof.sum())
        lod = lob + _cp(len(lw), lw["sample"].nunique()) * pooled
    else:
        lob = rank_percentile(b["value"].to_numpy(), 0.95)
        values = lw["value"].to_numpy()
        lod = lob + (float(np.median(values)) - rank_percentile(values, 0.05))
    return DetectionLimits(float(lob), float(lod), method, len(b), len(lw))


def _as_frame(values: pd.DataFrame | Sequence[float]) -> pd.DataFrame:
    if isinstance(values, pd.DataFrame):
        return values[["sample", "value"]].astype({"value": float})
    return pd.DataFrame({"sample": "s1", "value": np.asarray(values, dtype=float)})


def call(values: Sequence[float] | np.ndarray, limits: DetectionLimits) -> np.ndarray:
    """``detected`` above LoD, ``below_lod`` above LoB, else ``not_detected``."""
    v = np.asarray(values, dtype=float)
    return np.where(
        v > limits.lod, "detected", np.where(v > limits.lob, "below_lod", "not_detected")
    )


def detection_probability(
    genome_copies: float | np.ndarray, vaf: float | np.ndarray, threshold_copies: float = 0.0
) -> np.ndarray:
    """Probability that a well holds more than ``threshold_copies`` mutant copies.

    Mutant copies in the well are Poisson with mean ``genome_copies × vaf``
    (sampling only: assay efficiency and droplet losses are not included).
    E.g. 3,000 genome copies at 0.1% VAF: 1 − e⁻³ ≈ 95% to hold at least one.
    """
    mean = np.asarray(genome_copies, dtype=float) * np.asarray(vaf, dtype=float)
    return np.asarray(stats.poisson.sf(np.floor(threshold_copies), mean), dtype=float)
