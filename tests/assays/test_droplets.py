"""Droplet amplitude files and classification."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trkres.assays.ddpcr.droplets import (
    agreement,
    classify_droplets,
    combine,
    otsu_threshold,
    read_amplitudes,
)
from trkres.errors import InputError


def test_agreement_with_quantasoft_labels(shared_data: Path) -> None:
    folder = shared_data / "liquid_biopsy" / "ddpcr_daattali" / "small"
    drops = combine([read_amplitudes(folder / f"small_{w}_Amplitude.csv") for w in ("A05", "C01")])
    assert drops.wells == ["A05", "C01"] and len(drops.well) == 13165 + 14256
    calls = classify_droplets(drops)
    agree = agreement(drops, calls)
    assert (agree["agreement"] >= 0.985).all(), agree
    # Channel 2 of A05: QuantaSoft counted Ch1+Ch2+ 1262 + Ch1-Ch2+ 87 = 1349 positives.
    a05 = calls.wells.query("well == 'A05' and channel == 2").iloc[0]
    assert abs(a05["positives"] - 1349) / 1349 < 0.02


def test_line_endings_and_headers(tmp_path: Path) -> None:
    rows = [f"{1000 + i},{2000 + i}" for i in range(5)] + [
        f"{9000 + i},{7000 + i}" for i in range(5)
    ]
    new = "Target Value of 0 = negative\rTarget Value of 1 = positive\r\rCh1Amplitude,Ch2Amplitude,1,2,\r"
    new += "\r".join(
        f"{r},{int(r.split(',')[0]) > 5000:d},{int(r.split(',')[1]) > 5000:d}," for r in rows
    )
    path = tmp_path / "run_B03_Amplitude.csv"
    path.write_bytes(new.encode())  # bare CR line endings, as some exports have
    drops = read_amplitudes(path)
    assert drops.wells == ["B03"] and drops.amplitude.shape == (10, 2)
    assert drops.labels is not None and drops.labels[:, 0].sum() == 5
    old = tmp_path / "x_C04_Amplitude.csv"
    old.write_text(
        "Assay1 Amplitude,Assay2 Amplitude,Cluster\r\n" + "\r\n".join(f"{r},1" for r in rows)
    )
    assert read_amplitudes(old).amplitude[0, 1] == 2000


def test_bad_amplitude_is_located(tmp_path: Path) -> None:
    path = tmp_path / "p_A01_Amplitude.csv"
    path.write_text("Assay1 Amplitude,Assay2 Amplitude\n1,2\nabc,4\n")
    with pytest.raises(InputError) as info:
        read_amplitudes(path)
    assert info.value.location is not None and info.value.location.line == 3
    path.write_text("nothing here\n")
    with pytest.raises(InputError, match="no amplitude header"):
        read_amplitudes(path)


def test_flags_and_methods() -> None:
    rng = np.random.default_rng(0)
    amp = np.concatenate([rng.normal(2000, 100, (900, 2)), rng.normal(8000, 300, (100, 2))])
    from trkres.assays.ddpcr.droplets import Droplets

    drops = Droplets(np.full(1000, "A01", dtype=object), amp, None, ["A01"])
    calls = classify_droplets(drops)
    assert set(calls.wells["positives"]) == {100}
    assert all("low_droplets" in f for f in calls.wells["flag"])
    fixed = classify_droplets(drops, method="fixed", thresholds=[5000, 5000], min_droplets=10)
    assert set(fixed.wells["positives"]) == {100} and set(fixed.wells["flag"]) == {""}
    one = Droplets(
        np.full(500, "B01", dtype=object), rng.normal(2000, 100, (500, 2)), None, ["B01"]
    )
    assert "single_cluster" in classify_droplets(one, min_droplets=10).wells["flag"].iloc[0]
    ntc = classify_droplets(combine([drops, one]), method="ntc", ntc_wells=["B01"], min_droplets=10)
    assert ntc.wells.query("well == 'B01'")["positives"].sum() == 0
    with pytest.raises(InputError, match="no-template-control"):
        classify_droplets(drops, method="ntc", ntc_wells=["Z99"])


def test_otsu_degenerate() -> None:
    assert np.isnan(otsu_threshold(np.array([5.0, 5.0, 5.0])))
    assert 2 < otsu_threshold(np.array([1.0, 1.1, 0.9, 9.0, 9.2])) < 9
