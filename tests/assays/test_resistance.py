"""Resistant vs parental comparisons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trkres.assays.resistance import compare_conditions

DOSES = np.logspace(-10, -5, 9)


def lines(shift: float, seed: int = 0, bottom_b: float = 0.05) -> pd.DataFrame:
    """Parental IC50 2 nM; resistant shifted by ``shift`` log units (Drilon 2016: 2 -> 507 nM)."""
    rng = np.random.default_rng(seed)
    rows = []
    for line, lic, bottom in (
        ("parental", np.log10(2e-9), 0.05),
        ("resistant", np.log10(2e-9) + shift, bottom_b),
    ):
        for _ in range(3):
            y = (
                bottom
                + (1 - bottom) / (1 + 10 ** ((lic - np.log10(DOSES)) * -1.0))
                + rng.normal(0, 0.02, 9)
            )
            rows += [("entrectinib", line, d, v) for d, v in zip(DOSES, y, strict=True)]
    return pd.DataFrame(rows, columns=["drug", "line", "dose_molar", "response"])


def test_large_shift_is_resistant() -> None:
    shift = np.log10(507 / 2)
    out = compare_conditions(lines(shift), condition="line", reference="parental", by=["drug"])
    row = out.iloc[0]
    assert row["fold_change"] == pytest.approx(253.5, rel=0.25)
    assert row["fold_ci_low"] < row["fold_change"] < row["fold_ci_high"]
    assert row["resistant"] and row["p_shared_ic50"] < 1e-6


def test_no_shift_is_not_resistant() -> None:
    out = compare_conditions(
        lines(0.0, seed=2), condition="line", reference="parental", by=["drug"]
    )
    row = out.iloc[0]
    assert not row["resistant"] and row["fold_ci_low"] < 1 < row["fold_ci_high"]
    assert row["p_shared_ic50"] > 0.01


def test_emax_shift_is_reported_apart() -> None:
    out = compare_conditions(
        lines(0.0, seed=3, bottom_b=0.5), condition="line", reference="parental", by=["drug"]
    )
    assert out.iloc[0]["emax_shift"] == pytest.approx(0.45, abs=0.05)
