"""Hypothesis feeds the growth model odd but valid volume frames (the reader's contract:
finite volumes >= 0, unique (mouse, day), one arm per mouse): every call returns a result
or raises a TrkresError, never a numpy / scipy exception."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trkres.assays.invivo import lmm
from trkres.errors import TrkresError

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VOLUMES = st.one_of(
    st.just(0.0),
    st.just(100.0),
    st.floats(1e-3, 1e6, allow_nan=False, allow_infinity=False),
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n_arms = draw(st.integers(1, 3))
    rows = []
    for a in range(n_arms):
        for m in range(draw(st.integers(2 if a == 0 else 1, 4))):
            days = sorted(draw(st.sets(st.sampled_from([0.0, 0.5, 1, 2, 3, 7, 10, 14, 21]),
                                       min_size=2, max_size=6)))  # fmt: skip
            grow = draw(st.sampled_from([0.0, 0.1, -0.05, 0.3]))
            noisy = draw(st.booleans())
            for k, day in enumerate(days):
                v = 100.0 * math.exp(grow * day) if k == 0 or not noisy else draw(VOLUMES)
                rows.append((f"m{a}_{m}", f"arm{a}", float(day), float(v)))
    return pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"])


@FUZZ
@given(
    frames(),
    st.sampled_from(lmm.VARIANCES),
    st.integers(1, 3),
    st.sampled_from([None, 0.0, 1.0, 3.0]),
    st.sampled_from([None, 14.0, 7.0]),
)
def test_only_trkres_errors_escape(
    volumes: pd.DataFrame, variance: str, min_obs: int, start: float | None, end: float | None
) -> None:
    try:
        model, excluded = lmm.log_relative_volume(volumes, time_start=start, time_end=end)
        assert len(volumes) == len(model) + len(excluded) + model["mouse_id"].nunique()
        fit = lmm.fit_growth(volumes, variance=variance, min_observations=min_obs,
                             time_start=start, time_end=end)  # fmt: skip
    except TrkresError:
        return
    assert len(volumes) == len(fit.data) + len(fit.excluded) + fit.data["mouse_id"].nunique()
    table = fit.table()
    assert list(table["arm"]) == list(fit.arms)
    if fit.converged:
        assert np.isfinite(fit.beta).all() and fit.sigma > 0 and fit.tau >= 0
    lmm.pairwise_contrasts(fit)
    lmm.pairwise_contrasts(fit, robust=True)
    fit.summary()
    out = lmm.diagnostics(fit)
    assert len(out["residuals"]) == len(fit.data)
