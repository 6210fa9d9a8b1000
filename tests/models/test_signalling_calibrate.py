"""Calibration: parameters that shaped the data are recovered with CIs covering them; a
parameter the data cannot see is reported as not identifiable; bad tables are refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import trkres as tr
from trkres.errors import InputError
from trkres.knowledge.loader import load_knowledge
from trkres.models.signalling.genotype import parse_genotype, parse_treatment
from trkres.models.signalling.grid import Overrides, simulate_grid

KB = load_knowledge()
TRUTH = Overrides({}, {"larotrectinib": 3.0})


def _observations() -> pd.DataFrame:
    """pERK and viability of the parental line under larotrectinib, made by the model with
    larotrectinib three times less potent than shipped (as a lab's line might be)."""
    genotypes = [parse_genotype("LMNA::NTRK1", KB)]
    treatments = [parse_treatment(f"larotrectinib={d}nM", KB) for d in (10, 30, 100, 300)]
    grid = simulate_grid(genotypes, treatments, [2.0], KB, overrides=TRUTH).readouts
    grid = grid[(grid["treatment"] != "none") & grid["readout"].isin(["pERK", "viability"])]
    return grid.assign(kind="readout", se=0.1).reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted() -> tr.signalling.CalibrationResult:
    return tr.signalling.calibrate(
        _observations(), ["potency:LOXO-101", "f_int_mut"], profile_steps=3
    )


def test_noise_free_truth_is_recovered_inside_its_ci(fitted) -> None:
    est = fitted["estimates"].set_index("parameter")
    laro = est.loc["potency:larotrectinib"]
    assert laro["estimate"] == pytest.approx(3.0, rel=1e-2)
    assert laro["ci_low"] < 3.0 < laro["ci_high"]
    assert laro["identifiability"] == "identifiable"
    assert fitted.neg2loglik < 1e-3  # the data are the model's own
    assert np.all(np.abs(fitted["fit"]["log_residual"]) < 0.01)


def test_a_parameter_the_data_cannot_see_is_not_identifiable(fitted) -> None:
    # mutant KRAS hydrolysis acts on a RAS pool the parental line does not have
    est = fitted["estimates"].set_index("parameter")
    assert est.loc["f_int_mut", "identifiability"] == "not identifiable (flat profile)"
    assert np.isnan(est.loc["f_int_mut", "ci_low"]) and np.isnan(est.loc["f_int_mut", "ci_high"])
    profiles = fitted["profiles"]
    assert set(profiles["parameter"]) == {"potency:larotrectinib", "f_int_mut"}


def test_simulating_with_a_calibration_uses_its_parameters(fitted) -> None:
    res = tr.signalling.simulate("LMNA::NTRK1", "larotrectinib=30nM", calibration=fitted,
                                 times_h=[2], dose_points=0)  # fmt: skip
    shipped = tr.signalling.simulate(
        "LMNA::NTRK1", "larotrectinib=30nM", times_h=[2], dose_points=0
    )
    calibrated = res.readout("pERK").iloc[0, 1]
    assert calibrated > shipped.readout("pERK").iloc[0, 1]  # weaker drug, more pERK left
    assert any("potency:larotrectinib" in n for n in res.notes)


@pytest.mark.parametrize(
    ("frame", "parameters", "message"),
    [
        (pd.DataFrame(), ["k_sos"], "no observations"),
        (pd.DataFrame({"genotype": ["LMNA::NTRK1"], "value": [1.0]}), ["k_sos"], "lack columns"),
        (pd.DataFrame({"kind": ["readout"], "genotype": ["LMNA::NTRK1"], "treatment": ["none"],
                       "time_h": [2], "readout": ["pERK"], "value": [-1.0]}), ["k_sos"], "bad value"),
        (pd.DataFrame({"kind": ["readout"], "genotype": ["LMNA::NTRK1"], "treatment": ["none"],
                       "time_h": [2], "readout": ["pSTAT"], "value": [1.0]}), ["k_sos"], "unknown readout"),
        (pd.DataFrame({"kind": ["ic50"], "genotype": ["LMNA::NTRK1"], "drug": ["larotrectinib"],
                       "value": [30.0]}), ["nope"], "unknown or unfittable"),
        (pd.DataFrame({"kind": ["ic50"], "genotype": ["LMNA::NTRK1"], "drug": ["larotrectinib"],
                       "value": [30.0]}), ["potency:aspirin"], "unknown drug"),
        (pd.DataFrame({"kind": ["ic50"], "genotype": ["LMNA::NTRK1"], "drug": ["larotrectinib"],
                       "value": [30.0]}), ["k_sos", "k_gef"], "fewer observations"),
    ],
)  # fmt: skip
def test_bad_calibration_input_is_refused(frame, parameters, message) -> None:
    with pytest.raises(InputError, match=message):
        tr.signalling.calibrate(frame, parameters)


def test_observations_from_fits_maps_lines_to_genotypes() -> None:
    from trkres.models.signalling.calibrate import observations_from_fits

    fits = pd.DataFrame({"drug": ["larotrectinib"] * 2, "line": ["parental", "R1"],
                         "ic50_nm": [30.0, 900.0]})  # fmt: skip
    obs = observations_from_fits(
        fits, {"parental": "LMNA::NTRK1", "R1": "LMNA::NTRK1 + NTRK1 G595R"}
    )
    assert list(obs["kind"]) == ["ic50", "ic50"] and obs["value"].tolist() == [30.0, 900.0]
    with pytest.raises(InputError, match="without a genotype"):
        observations_from_fits(fits, {"parental": "LMNA::NTRK1"})


def test_observations_from_blots_reads_a_quantified_table() -> None:
    from trkres.models.signalling.calibrate import observations_from_blots

    quantified = pd.DataFrame({
        "blot": [1, 1, 1, 1], "lane": [1, 2, 3, 4], "target": ["pERK"] * 4,
        "sample": ["KM12", "KM12", "KM12", "KM12"], "role": ["control", "sample", "sample", "sample"],
        "treatment": ["DMSO", "larotrectinib", "larotrectinib", "larotrectinib=100nM+trametinib=10nM"],
        "dose": [np.nan, 10.0, 100.0, np.nan], "dose_unit": ["", "nM", "nM", ""],
        "time": [2, 2, 120, 2], "time_unit": ["h", "h", "min", "h"],
        "fold_change": [1.0, 0.4, 0.05, np.nan],
    })  # fmt: skip
    obs = observations_from_blots(quantified, {"KM12": "TPM3::NTRK1"}, {"pERK": "pERK"})
    assert obs["treatment"].tolist() == ["larotrectinib=10nM", "larotrectinib=100nM"]
    assert obs["time_h"].tolist() == [2.0, 2.0]
    assert "1 lane(s)" in obs["note"].iloc[0]
    with pytest.raises(InputError, match="without a genotype"):
        observations_from_blots(quantified, {"other": "LMNA::NTRK1"}, {"pERK": "pERK"})


def test_calibration_options_are_checked_and_synonyms_merge() -> None:
    obs = _observations()
    fit = tr.signalling.calibrate(obs, ["potency:larotrectinib", "potency:LOXO-101"],
                                  bounds={"potency:LOXO-101": (0.5, 5.0)}, profile_steps=1)  # fmt: skip
    est = fit["estimates"]
    assert est["parameter"].tolist() == ["potency:larotrectinib"]
    assert (est["bound_low"].iloc[0], est["bound_high"].iloc[0]) == pytest.approx((0.5, 5.0))
    for kwargs, message in [
        ({"fold": 1}, "bad fold"),
        ({"profile_steps": "a"}, "bad profile_steps"),
        ({"bounds": {"potency:larotrectinib": "x"}}, "bad bounds"),
        ({"bounds": {"potency:larotrectinib": (2, 1)}}, "bad bounds"),
        ({"bounds": {"k_sos": (1, 2)}}, "not fitted"),
        ({"bounds": [1, 2]}, "bad bounds"),
        ({"knowledge": "x"}, "bad knowledge"),
    ]:
        with pytest.raises(InputError, match=message):
            tr.signalling.calibrate(obs, ["potency:larotrectinib"], **kwargs)
    with pytest.raises(InputError, match="no parameters"):
        tr.signalling.calibrate(obs, [3])
    bad_time = obs.assign(time_h="two")
    with pytest.raises(InputError, match="bad time_h"):
        tr.signalling.calibrate(bad_time, ["potency:larotrectinib"])
    ic50 = pd.DataFrame({"kind": ["ic50"], "genotype": ["LMNA::NTRK1"], "drug": ["larotrectinib"],
                         "value": [30.0]})  # fmt: skip
    with pytest.raises(InputError, match="dose_points"):
        tr.signalling.calibrate(ic50, ["potency:larotrectinib"], dose_points=0)


def test_viability_observations_are_predicted_at_their_own_time() -> None:
    from trkres.models.signalling.calibrate import _check, _predict, _Problem

    obs = pd.DataFrame({"kind": "readout", "genotype": "LMNA::NTRK1",
                        "treatment": "larotrectinib=30nM", "time_h": [24.0, 72.0],
                        "readout": "viability", "value": 0.5})  # fmt: skip
    problem = _Problem(_check(obs), ["k_sos"], np.log([100.0]), np.log([1.0]), np.log([1e4]),
                       KB, 0, False)  # fmt: skip
    at24, at72 = _predict(problem, np.log([100.0]))
    assert at72 < at24 < 1.0  # the drug keeps killing: less left at 72 h than at 24 h


def test_a_mechanism_parameter_starts_from_the_genotype_s_value() -> None:
    genotypes = [parse_genotype("LMNA::NTRK1 + KRAS G12D", KB)]
    treatments = [parse_treatment(f"trametinib={d}nM", KB) for d in (1, 3, 10)]
    grid = simulate_grid(genotypes, treatments, [2.0], KB).readouts
    obs = grid[(grid["treatment"] != "none") & (grid["readout"] == "pERK")].assign(kind="readout")
    fit = tr.signalling.calibrate(obs, ["f_gap_mut"], profile_steps=1)
    row = fit["estimates"].iloc[0]
    assert row["shipped"] == pytest.approx(0.01)
    assert "set by the genotype's mechanism" in row["note"]
    assert row["estimate"] == pytest.approx(0.01, rel=0.05)  # the data are the shipped model's
