"""Per-mouse metrics and mRECIST (trkres.assays.invivo.response) against the published rule.

The reference below is Gao et al. 2015's rule written out plainly, one mouse at a time, with
Python scalars — independent of the vectorised code under test.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trkres.assays.invivo.response import mouse_metrics, mrecist_class
from trkres.errors import InputError


def rule(br: float, bar: float) -> str:
    """Gao et al. 2015: the first class whose two strict conditions hold, from CR down."""
    if math.isnan(br) or math.isnan(bar):
        return "NE"
    if br < -95 and bar < -40:
        return "CR"
    if br < -50 and bar < -20:
        return "PR"
    if br < 35 and bar < 30:
        return "SD"
    return "PD"


def reference_mouse(
    days: list[float], vols: list[float], min_day: float = 10.0
) -> tuple[float, float, str]:
    """BR, BAR and class of one mouse, scalar by scalar."""
    v0 = vols[0]
    if v0 == 0:
        return math.nan, math.nan, "NE"
    t = [d - days[0] for d in days]
    dv = [100.0 * (v - v0) / v0 for v in vols]
    running = []
    total = 0.0
    for i, x in enumerate(dv):
        total += x
        running.append(total / (i + 1))
    late = [i for i, ti in enumerate(t) if ti >= min_day]
    if len(late) < 2:
        return math.nan, math.nan, "NE"
    br = min(dv[i] for i in late)
    bar = min(running[i] for i in late)
    return br, bar, rule(br, bar)


def frame(mice: dict[str, tuple[list[float], list[float]]], arm: str = "ctl") -> pd.DataFrame:
    rows = [
        (m, arm, float(d), float(v))
        for m, (ds, vs) in mice.items()
        for d, v in zip(ds, vs, strict=True)
    ]
    return pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"])


THRESHOLDS = (-95.0, -40.0, -50.0, -20.0, 35.0, 30.0)


def test_class_threshold_neighbours() -> None:
    eps = 1e-9
    values = sorted({x + s for x in THRESHOLDS for s in (-eps, 0.0, eps)} | {-200.0, 0.0, 200.0})
    br, bar = np.meshgrid(values, values, indexing="ij")
    got = mrecist_class(br.ravel(), bar.ravel())
    want = [rule(a, b) for a, b in zip(br.ravel(), bar.ravel(), strict=True)]
    assert list(got) == want
    # The exact thresholds are not met (strict inequalities).
    assert mrecist_class(-95.0, -41.0)[()] == "PR"
    assert mrecist_class(-96.0, -40.0)[()] == "PR"
    assert mrecist_class(-50.0, -30.0)[()] == "SD"
    assert mrecist_class(35.0, 0.0)[()] == "PD"
    assert mrecist_class(0.0, 30.0)[()] == "PD"
    assert mrecist_class(-100.0, -30.0)[()] == "PR"  # CR's BR with PR's BAR
    assert list(mrecist_class([np.nan, 1.0], [1.0, np.nan])) == ["NE", "NE"]


def test_worked_mouse() -> None:
    # Xeva's documented example mouse.
    days = [0, 3, 7, 11, 18, 22, 26, 30, 32, 35]
    vols = [250.8, 320.4, 402.3, 382.6, 384, 445.9, 460.2, 546.8, 554.3, 617.9]
    m = mouse_metrics(frame({"m1": (days, vols)})).iloc[0]
    assert m["best_response"] == pytest.approx(100 * (382.6 - 250.8) / 250.8)
    assert m["best_response_day"] == 11.0
    dv = [100 * (v - 250.8) / 250.8 for v in vols]
    assert m["best_average_response"] == pytest.approx(sum(dv[:4]) / 4)
    assert m["mrecist"] == "PD"
    # AUC of V/V0 - 1 (trapezoid) and Xeva's angle (slope through the origin).
    rel = np.array(vols) / 250.8 - 1
    t = np.array(days, float)
    assert m["auc"] == pytest.approx(float(np.sum(np.diff(t) * (rel[1:] + rel[:-1]) / 2)))
    slope = np.sum(t * (np.array(vols) - 250.8)) / np.sum(t * t)
    assert m["angle"] == pytest.approx(math.degrees(math.atan(slope)))
    rate = np.polyfit(t, np.log(vols), 1)[0]
    assert m["doubling_time"] == pytest.approx(math.log(2) / rate)


def test_edge_cases_are_labelled() -> None:
    mice = {
        "one_point": ([0], [100.0]),
        "early_dropout": ([0, 3, 7], [100.0, 120.0, 150.0]),
        "one_late": ([0, 5, 10], [100.0, 80.0, 50.0]),
        "zero_base": ([0, 5, 10, 14], [0.0, 10.0, 20.0, 30.0]),
        "cr": ([0, 5, 10, 14, 20], [100.0, 30.0, 2.0, 0.0, 0.0]),
        "day10_inclusive": ([0, 10, 12], [100.0, 40.0, 45.0]),
        "shrinking": ([0, 7, 14, 21], [100.0, 90.0, 80.0, 70.0]),
    }
    m = mouse_metrics(frame(mice)).set_index("mouse_id")
    assert m.loc["one_point", "mrecist"] == "NE"
    assert "left before day 10" in m.loc["one_point", "mrecist_note"]
    assert math.isnan(m.loc["one_point", "auc"]) and math.isnan(m.loc["one_point", "angle"])
    assert m.loc["one_point", "doubling_time_note"] == "no exponential fit"
    assert "left before day 10" in m.loc["early_dropout", "mrecist_note"]
    assert "fewer than 2" in m.loc["one_late", "mrecist_note"]
    assert m.loc["zero_base", "mrecist"] == "NE"
    assert "zero baseline" in m.loc["zero_base", "mrecist_note"]
    assert m.loc["cr", "mrecist"] == "CR" and m.loc["cr", "best_response"] == -100.0
    assert m.loc["cr", "best_response_day"] == 14.0  # ties: the earliest day
    assert m.loc["day10_inclusive", "mrecist"] != "NE"
    assert m.loc["day10_inclusive", "best_response"] == pytest.approx(-60.0)
    assert m.loc["shrinking", "doubling_time"] == math.inf
    assert m.loc["shrinking", "doubling_time_note"] == "not growing (rate <= 0)"
    assert (m["mrecist_note"] == "").sum() == 3


def test_running_mean_starts_at_baseline_and_thresholds_are_strict() -> None:
    # ΔVol 0, 0, -96, -64: running means 0, 0, -32, -40 (exactly); BR = -96.
    days = [0.0, 5.0, 10.0, 15.0]
    mice = {
        "bar_at_-40": (days, [100.0, 100.0, 4.0, 36.0]),  # BAR = -40, not < -40: PR
        "bar_below": (days, [100.0, 100.0, 4.0, 35.99]),  # BAR = -40.0025: CR
        "br_at_-95": ([0.0, 10.0, 12.0], [100.0, 5.0, 5.0]),  # BR = -95, BAR = -63.3: PR
    }
    m = mouse_metrics(frame(mice)).set_index("mouse_id")
    assert m.loc["bar_at_-40", "best_average_response"] == -40.0
    assert m.loc["bar_at_-40", "best_response"] == -96.0
    assert m.loc["bar_at_-40", "mrecist"] == "PR"
    assert m.loc["bar_below", "mrecist"] == "CR"
    assert m.loc["br_at_-95", "best_response"] == -95.0
    assert m.loc["br_at_-95", "mrecist"] == "PR"


def test_mrecist_min_day_is_relative_to_first_day() -> None:
    # The same mouse shifted by 100 days gives the same metrics.
    days = [0, 4, 8, 12, 16]
    vols = [100.0, 60.0, 40.0, 45.0, 30.0]
    a = mouse_metrics(frame({"m": (days, vols)})).iloc[0]
    b = mouse_metrics(frame({"m": ([d + 100 for d in days], vols)})).iloc[0]
    assert a["best_response"] == b["best_response"]
    assert a["best_average_response"] == b["best_average_response"]
    assert b["best_response_day"] == a["best_response_day"] + 100


def test_endpoint_and_censoring() -> None:
    mice = {
        "reach": ([0, 3, 6, 9], [100.0, 150.0, 210.0, 400.0]),
        "leave": ([0, 3, 6], [100.0, 120.0, 130.0]),
        "zero": ([0, 3], [0.0, 50.0]),
    }
    m = mouse_metrics(frame(mice), endpoint_fold=2.0).set_index("mouse_id")
    assert m.loc["reach", "endpoint_day"] == 6.0 and m.loc["reach", "endpoint_reached"]
    assert m.loc["leave", "endpoint_day"] == 6.0 and not m.loc["leave", "endpoint_reached"]
    assert math.isnan(m.loc["zero", "endpoint_day"]) and not m.loc["zero", "endpoint_reached"]
    v = mouse_metrics(frame(mice), endpoint_volume=150.0).set_index("mouse_id")
    assert v.loc["reach", "endpoint_day"] == 3.0
    assert v.loc["reach", "endpoint"] == "volume >= 150 mm3"
    n = mouse_metrics(frame(mice))
    assert n["endpoint_day"].isna().all() and not n["endpoint_reached"].any()
    with pytest.raises(InputError):
        mouse_metrics(frame(mice), endpoint_fold=2.0, endpoint_volume=100.0)
    with pytest.raises(InputError):
        mouse_metrics(frame(mice), endpoint_fold=0.5)
    with pytest.raises(InputError):
        mouse_metrics(pd.DataFrame({"mouse_id": ["a"], "day": [0.0]}))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("a", "x", 0.0, 100.0), ("a", "x", 3.0, float("nan"))], "finite"),
        ([("a", "x", 0.0, 100.0), ("a", "x", 3.0, -1.0)], "finite"),
        ([("a", "x", 0.0, 100.0), ("a", "x", 0.0, 120.0)], "two measurements"),
        ([("a", "x", 0.0, 100.0), ("a", "y", 3.0, 120.0)], "more than one arm"),
    ],
)
def test_contract_violations_are_input_errors(
    rows: list[tuple[str, str, float, float]], message: str
) -> None:
    df = pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"])
    with pytest.raises(InputError, match=message):
        mouse_metrics(df)


# Volumes chosen so that ΔVol lands on and around the thresholds: multiples of V0 = 100.
_VOLS = st.sampled_from(
    [
        0.0,
        2.0,
        4.0,
        5.0,
        5.0 + 1e-7,
        20.0,
        49.99,
        50.0,
        50.01,
        60.0,
        80.0,
        100.0,
        129.99,
        130.0,
        135.0,
        135.0 + 1e-7,
        200.0,
        500.0,
    ]
)


@st.composite
def mouse(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    n = draw(st.integers(1, 9))
    gaps = draw(
        st.lists(
            st.sampled_from([1.0, 2.0, 3.0, 3.5, 5.0, 7.0, 10.0]), min_size=n - 1, max_size=n - 1
        )
    )
    start = draw(st.sampled_from([0.0, 2.0, 10.0]))
    days = list(np.cumsum([start, *gaps]))
    v0 = draw(st.sampled_from([100.0, 100.0, 100.0, 0.0]))
    vols = [v0] + [draw(_VOLS) for _ in range(n - 1)]
    return [float(d) for d in days], vols


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mouse(), min_size=1, max_size=6))
def test_mrecist_agrees_with_the_published_rule(
    mice: list[tuple[list[float], list[float]]],
) -> None:
    data = {f"m{i}": m for i, m in enumerate(mice)}
    got = mouse_metrics(frame(data)).set_index("mouse_id")
    for name, (days, vols) in data.items():
        br, bar, klass = reference_mouse(days, vols)
        assert got.loc[name, "mrecist"] == klass
        if klass != "NE":
            assert got.loc[name, "best_response"] == pytest.approx(br, abs=1e-9)
            assert got.loc[name, "best_average_response"] == pytest.approx(bar, abs=1e-9)
        else:
            assert got.loc[name, "mrecist_note"] != ""


def test_real_data(shared_data: Path) -> None:
    mel = pd.read_csv(shared_data / "invivo" / "tumr" / "melanoma1.csv").rename(
        columns={"ID": "mouse_id", "Day": "day", "Volume": "volume", "Treatment": "arm"}
    )
    m = mouse_metrics(mel, endpoint_volume=1000.0)
    assert len(m) == mel["mouse_id"].nunique()
    # Every evaluable mouse follows the rule, computed mouse by mouse.
    for mid, g in mel.sort_values(["mouse_id", "day"]).groupby("mouse_id"):
        klass = reference_mouse(list(g["day"]), list(g["volume"]))[2]
        assert m.set_index("mouse_id").loc[str(mid), "mrecist"] == klass
    # Untreated (A) tumours progress; the combination (D) regresses.
    by_arm = m.groupby("arm")["mrecist"].agg(lambda s: s.value_counts().idxmax())
    assert by_arm["A"] == "PD" and by_arm["D"] == "CR"
    xeva = pd.read_csv(shared_data / "invivo" / "xeva_pdxe" / "experiments.csv").rename(
        columns={"model.id": "mouse_id", "time": "day", "drug": "arm"}
    )
    x = mouse_metrics(xeva).set_index("mouse_id")
    # Xeva's own example mouse (its mRECIST() help page) is PD.
    assert x.loc["X.1004.biib", "mrecist"] == "PD"
    assert x["mrecist"].isin(["CR", "PR", "SD", "PD", "NE"]).all()
