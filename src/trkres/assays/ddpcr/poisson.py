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
  (5 of 12,516 droplets: 0.17–1.02 copies/µL where Wald gives 0.058–0.882),
  and the switch lies between 90 and 111 positives in the exports we hold.
  The low-count formula is not documented; of the intervals compared against
  the exports (``tests/assays/test_ddpcr.py`` recomputes the comparison) only
  the highest-posterior-density interval of the Poisson count with a flat
  prior reproduces every printed low-count bound of QuantaSoft 1.7 (12 of 12
  values of the 95% columns and 12 of 12 of the "…68" ones, z = 1, at its 2–3
  significant figures, with no parameter fitted; Wilson is 18% off, Clopper–Pearson
  10%, the likelihood-ratio interval misses 5 of 12 printed values by one in
  the last digit): the shortest interval holding 95% of Gamma(k + 1), divided
  by ``n``, for ``λ``. With zero positives that interval is
  ``[0, −ln 0.05 = 2.996]/n``, and trkres keeps QuantaSoft's rule of three,
  ``−ln(1 − 3/n)/V``. ``"wald"`` (Wald at every count) and ``"wilson"`` (Wilson
  score interval on ``p``) are offered too;
- ratio ``λ₁/λ₂`` and fractional abundance ``100·λ₁/(λ₁+λ₂)`` with symmetric
  intervals from the delta method, ``Var(λ) = p/(n(1−p))`` per channel (this
  reproduces QX Manager's Poisson columns); for the fractional abundance a channel
  with 1-99 positives takes its variance from its low-count interval's width, as
  QuantaSoft 1.7 does (see :func:`fractional_abundance`); CNV = reference copies × ratio.

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


def poisson_hpd_interval(
    positives: ArrayLike, *, z: float = 1.96, iterations: int = 60
) -> tuple[FloatArray, FloatArray]:
    """Shortest interval holding ``2Φ(z) − 1`` of Gamma(k + 1) (vectorised bisection).

    The highest-posterior-density interval of a Poisson mean after ``k``
    events with a flat prior, in events (divide by the droplets for ``λ``).
    For ``k = 0`` it is ``[0, −ln(1 − mass)]``.
    """
    from scipy import stats

    shape = np.asarray(positives, dtype=np.float64) + 1.0
    mass = float(2.0 * stats.norm.cdf(z) - 1.0)
    # Find the lower tail t in (0, 1 − mass) where the densities at both ends are equal.
    a, b = np.zeros_like(shape), np.full_like(shape, 1.0 - mass)
    for _ in range(iterations):
        t = (a + b) / 2
        gap = stats.gamma.logpdf(stats.gamma.ppf(t, shape), shape) - stats.gamma.logpdf(
            stats.gamma.ppf(t + mass, shape), shape
        )
        low_end_thinner = gap < 0
        a, b = np.where(low_end_thinner, t, a), np.where(low_end_thinner, b, t)
    t = (a + b) / 2
    single = shape <= 1.0  # k = 0: the density falls from 0, the interval starts there
    low = np.where(single, 0.0, stats.gamma.ppf(t, shape))
    high = np.where(single, stats.gamma.ppf(mass, shape), stats.gamma.ppf(t + mass, shape))
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def concentration(
    positives: ArrayLike,
    accepted: ArrayLike,
    droplet_volume_nl: float | ArrayLike = 0.85,
    *,
    z: float = 1.96,
    interval: Interval = "quantasoft",
) -> Estimate:
    """Copies per µL with a Poisson confidence interval (QuantaSoft's by default).

    ``interval="quantasoft"``: Wald from 100 positives up, the flat-prior
    Poisson HPD interval below (see the module docstring), the rule of three at
    zero positives; ``"wald"``: the Wald interval at every count (with
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
                    ev_lo, ev_hi = poisson_hpd_interval(np.where(few, k, 0.0), z=z)
                    # events → λ → the p that −ln(1−p) maps back to λ
                    lo = np.where(few, -np.expm1(-ev_lo / n), lo)
                    hi = np.where(few, -np.expm1(-ev_hi / n), hi)
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
    *, z: float = 1.96, interval: Interval = "quantasoft",
) -> Estimate:  # fmt: skip
    """Percent mutant copies ``100·λm/(λm+λw)`` with a delta-method interval.

    With ``interval="quantasoft"`` a channel with 1 to 99 positives enters the delta
    method with the standard error its low-count (flat-prior Poisson HPD) interval
    implies, ``(high − low)/(2z)`` in ``λ``, instead of ``√(p/(n(1−p)))``: this
    reproduces QuantaSoft 1.7's PoissonFractionalAbundanceMin/Max on the twoddpcr KRAS
    plate (11 of the 12 printed low-count bounds, 5 to 39 mutant droplets, against 5
    of 12 for the plain delta method; ``tests/adversarial/test_ddpcr_round3.py``).
    """
    lm, vm = _lambda_var(positives_mut, accepted_mut)
    lw, vw = _lambda_var(positives_wt, accepted_wt)
    if interval == "quantasoft":
        vm = _low_count_var(positives_mut, accepted_mut, vm, z)
        vw = _low_count_var(positives_wt, accepted_wt, vw, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = lm + lw
        fa = lm / s
        se = np.sqrt((lw * lw * vm + lm * lm * vw) / s**4)
    return Estimate(100 * fa, 100 * (fa - z * se), 100 * (fa + z * se))


def _low_count_var(
    positives: ArrayLike, accepted: ArrayLike, var: FloatArray, z: float
) -> FloatArray:
    """``Var(λ)`` from the HPD interval's width where 0 < positives < 100, else ``var``."""
    k, n = _counts(positives, accepted)
    few = (k > 0) & (k < LOW_COUNT_POSITIVES)
    if not np.any(few):
        return var
    lo, hi = poisson_hpd_interval(np.where(few, k, 1.0), z=z)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(few, ((hi - lo) / (2 * z * n)) ** 2, var), dtype=np.float64)


def copy_number(
    positives_target: ArrayLike, accepted_target: ArrayLike, positives_ref: ArrayLike,
    accepted_ref: ArrayLike, *, reference_copies: float = 2.0, z: float = 1.96,
) -> Estimate:  # fmt: skip
    """Copy number of a target (e.g. MET) against a reference assay: copies × ratio."""
    r = ratio(positives_target, accepted_target, positives_ref, accepted_ref, z=z)
    return Estimate(reference_copies * r.value, reference_copies * r.low, reference_copies * r.high)
