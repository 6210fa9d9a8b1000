"""Droplet digital PCR: Poisson quantification as QuantaSoft / QX Manager compute it.

Formulas (shared/docs/knowledge.md §7, checked against real exports):

- copies per droplet ``λ = −ln(1 − k/n)`` for ``k`` positive of ``n`` accepted droplets;
- concentration (copies/µL) ``= λ / V`` with the droplet volume ``V`` a setting
  (0.85 nL on QX200 and QX Manager exports, 0.91 nL in older QuantaSoft exports);
- Poisson confidence interval (``interval="quantasoft"``, the default): from
  100 positive droplets up, a Wald interval on ``p = k/n``,
  ``p ± z·√(p(1−p)/n)``, mapped through ``−ln(1−p)/V`` (``z`` = 1.96 for 95%,
  1 for the "…68" columns; this reproduces QX Manager's float32 columns to
  1e-6). Below 100 positives QuantaSoft's exports are *not* Wald intervals
  (they are shifted up by about 1.3 droplets and are asymmetric: 5 of 12,516
  droplets give 0.17–1.02 copies/µL where Wald gives 0.058–0.882), and the
  switch lies between 90 and 111 positives in the exports we hold. Its
  low-count formula is not documented; of the standard intervals compared
  against all 34 exported well-targets we hold (the KRAS plate of twoddpcr
  and daattali/ddpcr's old export; ``tests/assays/test_ddpcr.py`` recomputes
  the comparison) the binomial likelihood-ratio interval fits best (every well-target within
  2.3% of QuantaSoft's printed 2–3 significant figures; Wilson is 18% off,
  Clopper–Pearson 10%), so below 100 positives trkres uses it:
  ``{p : 2[ℓ(k/n) − ℓ(p)] ≤ z²}``, ``ℓ(p) = k·ln p + (n−k)·ln(1−p)``, mapped
  through ``−ln(1−p)/V``. With zero positives the upper bound is
  ``−ln(1 − 3/n)/V`` (QuantaSoft's rule of three). ``"wald"`` (Wald at every
  count) and ``"wilson"`` (Wilson score interval on ``p``) are offered too;
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

Interval = Literal["quantasoft", "wald", "wilson"]

#: Below this many positive droplets QuantaSoft's interval is not the Wald one.
LOW_COUNT_POSITIVES = 100
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


def likelihood_ratio_interval(
    positives: ArrayLike, accepted: ArrayLike, *, z: float = 1.96, iterations: int = 60
) -> tuple[FloatArray, FloatArray]:
    """Binomial likelihood-ratio interval for ``p = k/n`` (vectorised bisection).

    The set ``{p : 2[ℓ(k/n) − ℓ(p)] ≤ z²}`` with ``ℓ(p) = k·ln p + (n−k)·ln(1−p)``;
    it is invariant to the ``−ln(1−p)`` transform, so it is also the interval
    for ``λ``. NaN where ``n`` is 0.
    """
    from scipy.special import xlog1py, xlogy

    k, n = _counts(positives, accepted)
    k, n = np.broadcast_arrays(k, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_hat = np.where(n > 0, k / n, np.nan)

        def deviance(p: FloatArray) -> FloatArray:
            at_hat = xlogy(k, p_hat) + xlog1py(n - k, -p_hat)
            at_p = xlogy(k, p) + xlog1py(n - k, -p)
            return np.asarray(2.0 * (at_hat - at_p) - z * z, dtype=np.float64)

        # Lower bound in (0, p̂]: the deviance falls from +inf to −z².
        a, b = np.zeros_like(p_hat), p_hat.copy()
        for _ in range(iterations):
            mid = (a + b) / 2
            above = deviance(mid) > 0
            a, b = np.where(above, mid, a), np.where(above, b, mid)
        low = np.where(k > 0, (a + b) / 2, 0.0)
        a, b = p_hat.copy(), np.ones_like(p_hat)
        for _ in range(iterations):
            mid = (a + b) / 2
            above = deviance(mid) > 0
            a, b = np.where(above, a, mid), np.where(above, mid, b)
        high = np.where(k < n, (a + b) / 2, 1.0)
        bad = ~(n > 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def concentration(
    positives: ArrayLike,
    accepted: ArrayLike,
    droplet_volume_nl: float | ArrayLike = 0.85,
    *,
    z: float = 1.96,
    interval: Interval = "quantasoft",
) -> Estimate:
    """Copies per µL with a Poisson confidence interval (QuantaSoft's by default).

    ``interval="quantasoft"``: Wald from 100 positives up, the binomial
    likelihood-ratio interval below (see the module docstring), the rule of
    three at zero positives; ``"wald"``: the Wald interval at every count (with
    the zero-positive rule); ``"wilson"``: a Wilson score interval on ``p``.
    """
    k, n = _counts(positives, accepted)
    volume_ul = np.asarray(droplet_volume_nl, dtype=np.float64) * 1e-3
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / n, np.nan)
        if interval in ("wald", "quantasoft"):
            half = z * np.sqrt(p * (1 - p) / n)
            lo, hi = np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)
            if interval == "quantasoft":
                few = k < LOW_COUNT_POSITIVES
                if np.any(few):
                    lr_lo, lr_hi = likelihood_ratio_interval(k, n, z=z)
                    lo, hi = np.where(few, lr_lo, lo), np.where(few, lr_hi, hi)
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
