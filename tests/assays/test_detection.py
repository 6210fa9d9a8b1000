"""CLSI EP17 limits on hand-worked examples, and detection probability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trkres.assays.ddpcr.detection import (
    call,
    detection_limits,
    detection_probability,
    rank_percentile,
)
from trkres.errors import ComputationError

BLANK = [0, 0, 1, 0, 2, 0, 1, 0, 0, 3, 0, 1, 0, 0, 2, 0, 0, 1, 0, 0]  # 20 results, one sample


def test_nonparametric_lob_by_hand() -> None:
    # Sorted: 12 zeros, 4 ones, 2 twos (ranks 17-18... ), 3 at rank 20.
    # Rank 0.5 + 20*0.95 = 19.5 -> halfway between rank 19 (2) and rank 20 (3) = 2.5.
    assert rank_percentile(np.array(BLANK), 0.95) == 2.5


def test_parametric_limits_by_hand() -> None:
    blank = np.array(BLANK, dtype=float)
    mean, sd = blank.mean(), blank.std(ddof=1)  # 0.55, 0.8870...
    cp_b = 1.645 / (1 - 1 / (4 * (20 - 1)))
    low = pd.DataFrame({"sample": ["a"] * 5 + ["b"] * 5, "value": [4, 6, 5, 7, 3, 5, 5, 6, 4, 5]})
    # Pooled SD: var(a) = 2.5, var(b) = 0.5, 4 dof each -> sqrt(1.5).
    cp_l = 1.645 / (1 - 1 / (4 * (10 - 2)))
    limits = detection_limits(blank, low)
    assert limits.lob == pytest.approx(mean + cp_b * sd)
    assert limits.lod == pytest.approx(mean + cp_b * sd + cp_l * np.sqrt(1.5))


def test_nonparametric_lod_by_hand() -> None:
    low = [3, 4, 4, 5, 5, 5, 6, 6, 7, 8]
    # median 5; 5th percentile at rank 0.5 + 10*0.05 = 1.0 -> 3; D_s = 2; LoB 2.5 -> LoD 4.5
    limits = detection_limits(BLANK, low, method="nonparametric")
    assert (limits.lob, limits.lod) == (2.5, 4.5)
    assert list(call([1, 3, 5], limits)) == ["not_detected", "below_lod", "detected"]


def test_too_few_results() -> None:
    with pytest.raises(ComputationError, match="replicate"):
        detection_limits([1.0], [2.0, 3.0])


def test_detection_probability() -> None:
    assert detection_probability(3000, 0.001)[()] == pytest.approx(1 - np.exp(-3))
    assert detection_probability(3000, 0.0)[()] == 0
    # More than 2 copies needed: P(X > 2) for a mean of 3.
    assert detection_probability(3000, 0.001, 2)[()] == pytest.approx(
        1 - np.exp(-3) * (1 + 3 + 4.5)
    )
