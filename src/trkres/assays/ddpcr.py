"""Droplet digital PCR: Poisson quantification as QuantaSoft / QX Manager compute it.

Formulas (shared/docs/knowledge.md §7, checked against real exports):

- copies per droplet ``λ = −ln(1 − k/n)`` for ``k`` positive of ``n`` accepted droplets;
- concentration (copies/µL) ``= λ / V`` with the droplet volume ``V`` a setting
  (0.85 nL on QX200 and QX Manager exports, 0.91 nL in older QuantaSoft exports);
- Poisson confidence interval: a Wald interval on ``p = k/n``,
  ``p ± z·√(p(1−p)/n)``, mapped through ``−ln(1−p)/V`` (``z`` = 1.96 for 95%,
  1 for the "…68" columns); with zero positives the upper bound is
  ``−ln(1 − 3/n)/V``. A Wilson interval on ``p`` is offered for small counts;
- ratio ``λ₁/λ₂`` and fractional abundance ``100·λ₁/(λ₁+λ₂)`` with symmetric
  intervals from the delta method, ``Var(λ) = p/(n(1−p))`` per channel (this
  reproduces QX Manager's Poisson columns); CNV = reference copies × ratio.

Everything is vectorised over wells (NumPy arrays in, arrays out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trkres.stats import wilson_interval

#: Droplet volumes (nL) by instrument generation; a setting, not a constant.
DROPLET_VOLUME_NL = {"qx_manager": 0.85, "quantasoft_1.7": 0.85, "quantasoft_old": 0.91}

Interval = Literal["wald", "wilson"]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval (arrays of equal shape)."""

    value: FloatArray
    low: FloatArray
    high: FloatArray


def _counts(positives: ArrayLike, accepted: ArrayLike) -> tuple[FloatArray, FloatArray]:
    k = np.asarray(positives, dtype=np.float64)
    n = np.asarray(accepted, dtype=np.float64)
    return k, n


def copies_per_droplet(positives: ArrayLike, accepted: ArrayLike) -> FloatArray:
    """``λ = −ln(1 − k/n)``; NaN where no droplet was accepted, inf when all are positive."""
    k, n = _counts(positives, accepted)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / n, np.nan)
        return np.asarray(-np.log1p(-p), dtype=np.float64)


def concentration(
    positives: ArrayLike,
    accepted: ArrayLike,
    droplet_volume_nl: float | ArrayLike = 0.85,
    *,
    z: float = 1.96,
    interval: Interval = "wald",
) -> Estimate:
    """Copies per µL with a Poisson confidence interval (QuantaSoft's by default).

    ``interval="wald"`` is QuantaSoft's interval (with its zero-positive rule);
    ``"wilson"`` uses a Wilson score interval on ``p``, better behaved for a
    handful of positives (stated in outputs as such).
    """
    k, n = _counts(positives, accepted)
    volume_ul = np.asarray(droplet_volume_nl, dtype=np.float64) * 1e-3
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / n, np.nan)
        if interval == "wald":
            half = z * np.sqrt(p * (1 - p) / n)
            lo, hi = np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)
            zero = k == 0
            hi = np.where(zero, np.minimum(3.0 / n, 1.0), hi)
            lo = np.where(zero, 0.0, lo)
        elif interval == "wilson":
            lo, hi = wilson_interval(k, n, z=z)
        else:  # pragma: no cover - typed away
            raise ValueError(interval)

        def conc(q: FloatArray) -> FloatArray:
            return np.asarray(-np.log1p(-q) / volume_ul, dtype=np.float64)

        return Estimate(conc(p), conc(lo), conc(hi))


def _lambda_var(positives: ArrayLike, accepted: ArrayLike) -> tuple[FloatArray, FloatArray]:
    k, n = _counts(positives, accepted)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        return -np.log1p(-p), p / (n * (1 - p))


def ratio(
    positives_1: ArrayLike, accepted_1: ArrayLike, positives_2: ArrayLike, accepted_2: ArrayLike,
    *, z: float = 1.96,
) -> Estimate:  # fmt: skip
    """``λ₁/λ₂`` with a delta-method interval (QX Manager's PoissonRatio columns)."""
    l1, v1 = _lambda_var(positives_1, accepted_1)
    l2, v2 = _lambda_var(positives_2, accepted_2)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = l1 / l2
        se = np.sqrt(r * r * (v1 / (l1 * l1) + v2 / (l2 * l2)))
    return Estimate(r, r - z * se, r + z * se)


def fractional_abundance(
    positives_mut: ArrayLike, accepted_mut: ArrayLike, positives_wt: ArrayLike, accepted_wt: ArrayLike,
    *, z: float = 1.96,
) -> Estimate:  # fmt: skip
    """Percent mutant copies ``100·λm/(λm+λw)`` with a delta-method interval."""
    lm, vm = _lambda_var(positives_mut, accepted_mut)
    lw, vw = _lambda_var(positives_wt, accepted_wt)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = lm + lw
        fa = lm / s
        se = np.sqrt((lw * lw * vm + lm * lm * vw) / s**4)
    return Estimate(100 * fa, 100 * (fa - z * se), 100 * (fa + z * se))


def copy_number(
    positives_target: ArrayLike, accepted_target: ArrayLike, positives_ref: ArrayLike,
    accepted_ref: ArrayLike, *, reference_copies: float = 2.0, z: float = 1.96,
) -> Estimate:  # fmt: skip
    """Copy number of a target (e.g. MET) against a reference assay: copies × ratio."""
    r = ratio(positives_target, accepted_target, positives_ref, accepted_ref, z=z)
    return Estimate(reference_copies * r.value, reference_copies * r.low, reference_copies * r.high)
