"""The closed-form Wilson interval against statsmodels' implementation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from trkres.stats import Z95, wilson_interval


def test_z95_is_the_normal_quantile() -> None:
    from scipy.stats import norm

    assert float(norm.ppf(0.975)) == pytest.approx(Z95, rel=1e-15)


@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_matches_statsmodels(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = wilson_interval(k, n)
    ref_low, ref_high = proportion_confint(k, n, alpha=0.05, method="wilson")
    np.testing.assert_allclose([low, high], [ref_low, ref_high], rtol=1e-12, atol=1e-15)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_wilson_is_vectorised_and_labels_no_trials() -> None:
    low, high = wilson_interval([0, 3, 0], [10, 10, 0])
    ref_low, ref_high = proportion_confint(np.array([0, 3]), np.array([10, 10]), method="wilson")
    np.testing.assert_allclose(low[:2], ref_low, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(high[:2], ref_high, rtol=1e-12, atol=1e-15)
    assert np.isnan(low[2]) and np.isnan(high[2])
