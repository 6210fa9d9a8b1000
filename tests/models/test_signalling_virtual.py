"""The virtual lab: model predictions written as lab files, read back by trkres' own readers."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import trkres as tr
from trkres.cli import app
from trkres.errors import InputError, TrkresError

PARENTAL = "LMNA::NTRK1"
G595R = "LMNA::NTRK1 + NTRK1 G595R"


def test_virtual_plate_round_trips_through_plates_and_fit(tmp_path: Path) -> None:
    values, layout = tr.signalling.virtual_plate([PARENTAL, G595R], "larotrectinib", cv=0.03)
    grid, plate_map = tr.signalling.write_virtual_plate(values, layout, tmp_path / "plate")
    assert grid.read_text().startswith("# simulated")
    wells = tr.plates.read(grid, plate_map)
    assert len(wells) == 96 - 12  # rows A–F and G (positive controls) are mapped; H is empty
    fits = tr.doseresponse.fit(tr.plates.dose_response(wells)).set_index("curve_id")
    model = tr.signalling.simulate([PARENTAL, G595R], "larotrectinib=10nM", times_h=[2],
                                   dose_points=41)["ic50"]  # fmt: skip
    model = model[model["readout"] == "viability"].set_index("genotype")["ic50_nm"]
    for line, genotype in (("line1", PARENTAL), ("line2", G595R)):
        fitted_nm = fits.loc[f"{line} | larotrectinib", "ic50"] * 1e9
        assert fitted_nm == pytest.approx(model[genotype], rel=0.25), (line, fitted_nm)


def test_virtual_plate_noise_is_as_stated() -> None:
    values, layout = tr.signalling.virtual_plate([PARENTAL], "larotrectinib", cv=0.1, seed=3)
    merged = values.merge(layout, on=["plate", "well"])
    vehicle = merged.loc[merged["role"] == "vehicle", "value"]
    blanks = merged.loc[merged["role"] == "blank", "value"]
    assert len(vehicle) == 3 and len(blanks) == 3
    both = pd.concat([vehicle / 50_500, blanks / 500])  # every well's signal ÷ its mean
    assert 0.02 < both.std() < 0.25
    same = tr.signalling.virtual_plate([PARENTAL], "larotrectinib", cv=0.1, seed=3)[0]
    assert same["value"].equals(values["value"])


def test_virtual_western_feeds_calibration() -> None:
    western = tr.signalling.virtual_western(
        [PARENTAL], ["larotrectinib=10nM", "larotrectinib=30nM", "larotrectinib=100nM"],
        cv=0.15, replicates=4, seed=1,
    )  # fmt: skip
    assert set(western.columns) >= {"genotype", "treatment", "time_h", "readout", "value"}
    assert western["simulated"].all()
    treated = western[western["treatment"] != "none"]
    ratio = np.log(treated["value"] / treated["model_value"])
    assert abs(ratio.mean()) < 0.15 and 0.05 < ratio.std() < 0.3
    fit = tr.signalling.calibrate(treated, ["potency:larotrectinib"], profile_steps=3)
    est = fit["estimates"].iloc[0]
    # the data came from the shipped model: the fitted factor's CI covers 1
    assert est["ci_low"] < 1.0 < est["ci_high"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cv": -1}, "bad noise"),
        ({"seed": "x"}, "bad seed"),
        ({"top_nm": 0}, "bad top dose"),
    ],
)
def test_virtual_plate_bad_arguments(kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        tr.signalling.virtual_plate([PARENTAL], "larotrectinib", **kwargs)


def test_virtual_western_bad_arguments() -> None:
    with pytest.raises(InputError, match="bad readout"):
        tr.signalling.virtual_western([PARENTAL], ["none"], readout="viability")
    with pytest.raises(InputError, match="bad replicates"):
        tr.signalling.virtual_western([PARENTAL], ["none"], replicates=0)


def test_cli_virtual_lab_writes_readable_files(tmp_path: Path) -> None:
    out = tmp_path / "sig"
    result = CliRunner().invoke(app, ["signal", "-g", PARENTAL, "-t", "trametinib=10nM",
                                      "--dose-points", "0", "--no-figures", "--virtual-lab",
                                      "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = out / "virtual" / "trametinib"
    wells = tr.plates.read(folder / "plates.csv", folder / "plate_map.tsv")
    assert set(wells["cell_line"].dropna()) >= {"line1"}
    western = pd.read_csv(out / "virtual" / "western_pERK.tsv", sep="\t")
    assert set(western["treatment"]) == {"none", "trametinib=10nM"}


JUNK = st.one_of(st.none(), st.integers(-3, 3), st.floats(allow_nan=True), st.text(max_size=6),
                 st.lists(st.text(max_size=4), max_size=2), st.just(pd.DataFrame()))  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(a=JUNK, b=JUNK, c=JUNK)
def test_virtual_and_calibration_api_raise_only_trkres_errors(a, b, c) -> None:
    for call in (
        lambda: tr.signalling.virtual_plate(a, b, cv=0.1, seed=1),
        lambda: tr.signalling.virtual_plate([PARENTAL], "larotrectinib", vehicle_signal=a, seed=c),
        lambda: tr.signalling.virtual_western(a, b, time_h=c),
        lambda: tr.signalling.calibrate(a, b),
        lambda: tr.signalling.calibrate(pd.DataFrame({"genotype": [a], "treatment": [b],
                                                      "time_h": [c], "readout": ["pERK"],
                                                      "value": [0.5]}), ["k_sos"],
                                        profile_steps=1),
    ):  # fmt: skip
        with contextlib.suppress(TrkresError):
            call()
