"""The three published SynergyLMM growth-model fits (manuscript data/Fig6/*_model_estimates)
reproduced from the raw volumes in ../shared/validation/synergylmm (skipped when absent:
the data are not the project's to ship)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from support import REPO
from trkres.assays.invivo import lmm


@pytest.fixture(scope="module")
def validation() -> Path:
    path = REPO.parent / "shared" / "validation" / "synergylmm"
    if not path.is_dir():
        pytest.skip("../shared/validation/synergylmm is not present: published fits not checked")
    return path


@pytest.mark.parametrize(
    ("name", "variance"),
    [("bv173", "arm"), ("u87mg", "time-power"), ("cr1197", "mouse+time-power")],
)
def test_published_synergylmm_fits_are_reproduced(
    validation: Path, name: str, variance: str
) -> None:
    vol = pd.read_csv(validation / f"{name}_volumes.tsv", sep="\t",
                      dtype={"mouse_id": str, "arm": str})  # fmt: skip
    # "Not measured" and empty cells: SynergyLMM drops them (as.numeric → NA → filtered)
    vol["volume"] = pd.to_numeric(vol["volume"], errors="coerce")
    vol = vol.dropna(subset=["volume"])
    ref = pd.read_csv(validation / f"{name}_reference.tsv", sep="\t").set_index("arm")
    # lmmModel's default min_observations = 1 counts the baseline row; every mouse left
    # here has a baseline, so one model row is the same rule
    fit = lmm.fit_growth(vol, variance=variance, min_observations=1)
    assert fit.converged and not fit.boundary
    beta = pd.Series(fit.beta, index=fit.arms)[ref.index]
    se = pd.Series(np.sqrt(np.diag(fit.cov)), index=fit.arms)[ref.index]
    # issue 14's tolerances: 0.5% and 1%; measured: 1.1e-6 and 4.2e-7 at worst (cr1197)
    np.testing.assert_allclose(beta, ref["slope"], rtol=5e-3)
    np.testing.assert_allclose(se, ref["slope_se"], rtol=1e-2)
    np.testing.assert_allclose(beta, ref["slope"], rtol=1e-5)
    np.testing.assert_allclose(se, ref["slope_se"], rtol=1e-5)
