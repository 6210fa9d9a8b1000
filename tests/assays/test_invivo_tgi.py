"""Per-arm curves, T/C%, TGI% and the mRECIST distribution (trkres.assays.invivo.tgi)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trkres.assays.invivo.response import mouse_metrics
from trkres.assays.invivo.tgi import (
    arm_curves,
    default_day,
    mrecist_distribution,
    tgi_table,
    values_at_day,
)
from trkres.errors import InputError


def study() -> pd.DataFrame:
    """Control grows, 'slow' grows less, 'shrink' regresses; days 0, 7, 14, 21."""
    rows = []
    for i, (v0, vend) in enumerate([(100, 900), (120, 1000), (80, 700), (100, 800)]):
        for d, f in zip([0, 7, 14, 21], [0, 1 / 3, 2 / 3, 1], strict=True):
            rows.append((f"c{i}", "ctl", d, v0 + f * (vend - v0)))
    for i, (v0, vend) in enumerate([(100, 300), (110, 250), (90, 330)]):
        for d, f in zip([0, 7, 14, 21], [0, 1 / 3, 2 / 3, 1], strict=True):
            rows.append((f"s{i}", "slow", d, v0 + f * (vend - v0)))
    for i, (v0, vend) in enumerate([(100, 40), (120, 60), (80, 30)]):
        for d, f in zip([0, 7, 14, 21], [0, 1 / 3, 2 / 3, 1], strict=True):
            rows.append((f"r{i}", "shrink", d, v0 + f * (vend - v0)))
    return pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"]).astype(
        {"day": float, "volume": float}
    )


def test_tgi_by_hand() -> None:
    df = study()
    tab = tgi_table(df, control="ctl").set_index("arm")
    assert (tab["day"] == 21.0).all()
    c_end, c_start = np.mean([900, 1000, 700, 800]), np.mean([100, 120, 80, 100])
    s_end, s_start = np.mean([300, 250, 330]), np.mean([100, 110, 90])
    r_end, r_start = np.mean([40, 60, 30]), np.mean([100, 120, 80])
    slow = tab.loc["slow"]
    assert slow["t_over_c_pct"] == pytest.approx(100 * s_end / c_end)
    assert slow["tgi_pct"] == pytest.approx(100 * (1 - (s_end - s_start) / (c_end - c_start)))
    assert math.isnan(slow["regression_pct"]) and slow["outcome"] == "growth inhibition"
    shrink = tab.loc["shrink"]
    assert shrink["outcome"] == "regression"
    assert shrink["regression_pct"] == pytest.approx(-100 * (r_end - r_start) / r_start)
    assert shrink["tgi_pct"] > 100
    rtv_s = np.mean([300 / 100, 250 / 110, 330 / 90])
    rtv_c = np.mean([9, 1000 / 120, 700 / 80, 8])
    assert slow["rtv_t_over_c_pct"] == pytest.approx(100 * rtv_s / rtv_c)
    p = stats.ttest_ind([200, 140, 240], [800, 880, 620, 700], equal_var=False).pvalue
    assert slow["p_value"] == pytest.approx(p)
    assert slow["n_treated"] == 3 and slow["n_control"] == 4


def test_interpolation_between_days_and_no_extrapolation() -> None:
    df = study()
    # Move one slow mouse's day-21 measurement to day 24 (a different schedule).
    df.loc[(df["mouse_id"] == "s0") & (df["day"] == 21.0), ["day", "volume"]] = [24.0, 360.0]
    at = values_at_day(df, 21.0).set_index("mouse_id")
    # s0 is between day 14 (233.33) and day 24 (360): interpolated 7/10 of the way.
    lo = 100 + 2 / 3 * 200
    assert at.loc["s0", "volume"] == pytest.approx(lo + 0.7 * (360 - lo))
    assert bool(at.loc["s0", "interpolated"]) and not bool(at.loc["s1", "interpolated"])
    # Day 23: only s0 spans it; the others are not extrapolated.
    at23 = values_at_day(df, 23.0)
    assert list(at23["mouse_id"]) == ["s0"]
    tab = tgi_table(df, control="ctl", day=23.0).set_index("arm")
    assert tab.loc["slow", "n_treated"] == 1 and tab.loc["slow", "n_control"] == 0
    assert math.isnan(tab.loc["slow", "t_over_c_pct"])
    assert "no control mouse" in tab.loc["slow", "note"]


def test_default_day_needs_half_the_control_mice() -> None:
    df = study()
    # Two of four control mice leave after day 7, a third after day 14.
    drop = ((df["mouse_id"].isin(["c0", "c1"])) & (df["day"] > 7)) | (
        (df["mouse_id"] == "c2") & (df["day"] > 14)
    )
    df = df[~drop]
    assert default_day(df, "ctl") == 14.0  # at day 14: c2, c3 = 2 of 4; day 21: 1 of 4
    tab = tgi_table(df, control="ctl")
    assert (tab["day"] == 14.0).all()
    assert tab["day_rule"].str.contains("half").all()
    with pytest.raises(InputError):
        tgi_table(df, control="vehicle")


def test_arm_curves() -> None:
    df = study()
    cur = arm_curves(df)
    row = cur[(cur["arm"] == "ctl") & (cur["day"] == 21.0)].iloc[0]
    vals = np.array([900, 1000, 700, 800.0])
    assert row["n"] == 4 and row["mean"] == pytest.approx(vals.mean())
    assert row["sem"] == pytest.approx(vals.std(ddof=1) / 2)
    rel = vals / np.array([100, 120, 80, 100])
    assert row["mean_relative_volume"] == pytest.approx(rel.mean())
    assert row["sem_relative_volume"] == pytest.approx(rel.std(ddof=1) / 2)
    assert len(cur) == 12


def test_mrecist_distribution() -> None:
    met = pd.DataFrame({"arm": ["a", "a", "a", "b"], "mrecist": ["CR", "PD", "NE", "SD"]})
    dist = mrecist_distribution(met).set_index(["arm", "mrecist"])
    assert len(dist) == 10
    assert dist.loc[("a", "CR"), "n"] == 1 and dist.loc[("a", "CR"), "fraction"] == pytest.approx(
        1 / 3
    )
    assert dist.loc[("a", "CR"), "fraction_evaluable"] == pytest.approx(1 / 2)
    assert dist.loc[("b", "PR"), "n"] == 0
    assert dist.loc[("b", "SD"), "fraction"] == 1.0


def test_real_data(shared_data: Path) -> None:
    mel = pd.read_csv(shared_data / "invivo" / "tumr" / "melanoma1.csv").rename(
        columns={"ID": "mouse_id", "Day": "day", "Volume": "volume", "Treatment": "arm"}
    )
    tab = tgi_table(mel, control="A").set_index("arm")
    assert set(tab.index) == {"B", "C", "D"}
    assert tab.loc["D", "outcome"] == "regression"  # the combination shrinks tumours
    assert (tab["t_over_c_pct"] < 100).all()
    dist = mrecist_distribution(mouse_metrics(mel))
    assert (
        dist.groupby("arm")["n"].sum().to_dict()
        == mel.groupby("arm")["mouse_id"].nunique().to_dict()
    )
    xeva = pd.read_csv(shared_data / "invivo" / "xeva_pdxe" / "experiments.csv").rename(
        columns={"model.id": "mouse_id", "time": "day", "drug": "arm"}
    )
    tx = tgi_table(xeva, control="untreated")
    assert list(tx["arm"]) == ["binimetinib"] and tx["n_control"].iloc[0] >= 2
