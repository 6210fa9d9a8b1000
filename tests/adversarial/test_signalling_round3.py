"""Hostile and degenerate use of the signalling model, round 3.

Classes: a single-drug curve already below half at the lowest dose (its half-maximal
dose was reported as the lowest dose, 0.1 nM, "interpolated"); calibration without
``se`` where σ cannot be estimated (as many observations as parameters, or data the
model fits exactly), whose profile CIs were the width of the first profile step and
labelled "identifiable".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import trkres as tr


@pytest.fixture(scope="module")
def repotrectinib() -> pd.DataFrame:
    result = tr.signalling.simulate(
        ["LMNA::NTRK1", "LMNA::NTRK1 + NTRK1 G595R"],
        "larotrectinib=100nM+repotrectinib=1nM",
        dose_points=10,
        times_h=[2],
    )
    return result["ic50"].set_index(["genotype", "drug", "readout"])


def test_half_maximal_dose_below_the_grid_is_not_the_lowest_dose(repotrectinib) -> None:
    # repotrectinib's K (0.0218 nM) is below the grid's 0.1 nM: pERK is already < 0.5 there
    row = repotrectinib.loc[("LMNA::NTRK1", "repotrectinib", "pERK")]
    assert np.isnan(row["ic50_nm"])
    assert row["note"].startswith("below 0.1 nM")
    laro = repotrectinib.loc[("LMNA::NTRK1", "larotrectinib", "viability")]
    assert 10 < laro["ic50_nm"] < 100 and laro["note"].startswith("interpolated")


def test_calibration_with_one_observation_per_parameter_and_no_se_has_no_ci() -> None:
    obs = pd.DataFrame(
        {"kind": ["ic50"], "genotype": ["LMNA::NTRK1"], "drug": ["larotrectinib"], "value": [100.0]}
    )
    fit = tr.signalling.calibrate(obs, ["potency:larotrectinib"], profile_steps=3, dose_points=10)
    est = fit["estimates"].iloc[0]
    assert np.isnan(est["ci_low"]) and np.isnan(est["ci_high"])
    assert est["identifiability"].startswith("not estimable")
    assert any("no confidence intervals" in n for n in fit.notes)


def test_calibration_to_data_the_model_fits_exactly_has_no_ci(repotrectinib) -> None:
    via = repotrectinib.xs(("larotrectinib", "viability"), level=("drug", "readout"))
    obs = pd.DataFrame(
        {"kind": "ic50", "genotype": via.index, "drug": "larotrectinib", "value": via["ic50_nm"]}
    ).reset_index(drop=True)
    assert len(obs) == 2 and (obs["value"] > 0).all()
    fit = tr.signalling.calibrate(obs, ["potency:larotrectinib"], profile_steps=3, dose_points=10)
    est = fit["estimates"].iloc[0]
    assert est["estimate"] == pytest.approx(1.0, rel=1e-3)
    assert np.isnan(est["ci_low"]) and np.isnan(est["ci_high"])
    assert "fit exactly" in est["identifiability"]


def test_virtual_plate_with_two_lines_of_one_genotype_keeps_each_dose_s_value() -> None:
    # the same genotype twice (two clones): each line's row must be the one-line curve,
    # not two interleaved copies of it (dose k's well held dose k//2's value)
    one, _ = tr.signalling.virtual_plate(["LMNA::NTRK1"], "larotrectinib", cv=0)
    two, _ = tr.signalling.virtual_plate(["LMNA::NTRK1", "lmna::ntrk1"], "larotrectinib", cv=0)
    want = one[one["row"] == 1]["value"].to_numpy()
    for row in (1, 4):
        np.testing.assert_array_equal(two[two["row"] == row]["value"].to_numpy(), want)


def test_a_genotype_that_does_not_settle_has_no_readouts() -> None:
    from trkres.models.signalling.grid import Overrides
    from trkres.models.signalling.run import run_signal

    # SOS activation 10^7 × the shipped rate: no untreated steady state is found
    result = run_signal(
        {"genotypes": ["LMNA::NTRK1"], "treatments": ["larotrectinib=100nM"],
         "dose_points": 5, "times_h": [2]},
        overrides=Overrides({"k_sos": 1e9}),
    )  # fmt: skip
    assert result.warnings == ("did not finish: LMNA::NTRK1",)
    assert result["readouts"]["value"].isna().all()
    assert result["levels"]["level"].isna().all()
    assert result["ic50"]["ic50_nm"].isna().all()
    assert result["ic50"]["note"].str.contains("did not finish").all()


@pytest.mark.parametrize("time", ["2h", np.nan])
def test_blot_lane_with_a_bad_or_missing_time_is_an_error_not_2_h(time: object) -> None:
    from trkres.errors import InputError
    from trkres.models.signalling.calibrate import observations_from_blots

    quantified = pd.DataFrame({
        "lane": [1, 2, 3], "target": ["pERK"] * 3, "sample": ["KM12"] * 3,
        "role": ["control", "sample", "sample"],
        "treatment": ["DMSO", "larotrectinib", "larotrectinib"], "dose": [np.nan, 10.0, 100.0],
        "dose_unit": ["", "nM", "nM"], "time": [24, 24, time], "fold_change": [1.0, 0.4, 0.05],
    })  # fmt: skip
    with pytest.raises(InputError, match="lane 3: bad time"):
        observations_from_blots(quantified, {"KM12": "TPM3::NTRK1"}, {"pERK": "pERK"})
    # no time column at all: the documented 2 h
    obs = observations_from_blots(
        quantified.drop(columns="time"), {"KM12": "TPM3::NTRK1"}, {"pERK": "pERK"}
    )
    assert obs["time_h"].tolist() == [2.0, 2.0]


def test_blot_lane_with_a_text_dose_is_an_error() -> None:
    from trkres.errors import InputError
    from trkres.models.signalling.calibrate import observations_from_blots

    quantified = pd.DataFrame({
        "lane": [1, 2], "target": ["pERK"] * 2, "sample": ["KM12"] * 2,
        "role": ["control", "sample"], "treatment": ["DMSO", "larotrectinib"],
        "dose": [np.nan, "10 nM"], "dose_unit": ["", "nM"], "fold_change": [1.0, 0.4],
    })  # fmt: skip
    with pytest.raises(InputError, match="lane 2: no dose"):
        observations_from_blots(quantified, {"KM12": "TPM3::NTRK1"}, {"pERK": "pERK"})
