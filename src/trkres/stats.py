"""Small closed-form statistics shared by the assays and the genomics cohort tables.

They are written out here rather than imported from statsmodels because that
import costs about two seconds of start-up (scipy included) for a formula of
three lines; the tests check them against statsmodels.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Two-sided 95% standard-normal critical value, Φ⁻¹(0.975) = 1.959963…
Z95 = NormalDist().inv_cdf(0.975)


def wilson_interval(
    successes: ArrayLike, trials: ArrayLike, *, z: float = Z95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for a binomial proportion ``successes / trials``.

    Returns the lower and upper bounds as proportions (0–1), NaN where
    ``trials`` is 0. The same interval as statsmodels'
    ``proportion_confint(method="wilson")``, with the bounds exactly 0 and 1 at
    0 and ``trials`` successes (Wilson 1927, doi:10.1080/01621459.1927.10502953).
    """
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2n = z * z / n
        centre = (p + z2n / 2.0) / (1.0 + z2n)
        half = z * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
        # Exact ends at 0 and n successes (rounding would put them a hair inside).
        low = np.where(k <= 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        high = np.where(k >= n, 1.0, np.clip(centre + half, 0.0, 1.0))
        low[n <= 0] = np.nan
        high[n <= 0] = np.nan
    return low, high
