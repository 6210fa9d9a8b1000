"""Survival to endpoint (trkres.assays.invivo.survival) against R's survival package.

Golden files: tools/golden/invivo_survival.R (survfit defaults, summary(fit)$table,
survdiff, coxph(ties = "efron")) on tools/golden/make_invivo_survival_inputs.py's seeded data.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trkres.assays.invivo.response import mouse_metrics
from trkres.assays.invivo.survival import (
    cox_hazard_ratios,
    endpoint_times,
    km_table,
    logrank_tests,
    median_time,
    survival_summary,
)
from trkres.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data" / "invivo"
DATASETS = ("main", "edges", "noevent")


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"survival_{name}.tsv", sep="\t")


def inputs(dataset: str) -> pd.DataFrame:
    d = read("inputs")
    d = d[d["dataset"] == dataset].reset_index(drop=True)
    d["event"] = d["event"].astype(bool)
    return d


def assert_close(got: object, want: object, rtol: float) -> float:
    """Relative agreement, NaN where R has NA; returns the worst relative error."""
    g = np.asarray(got, dtype=float)
    w = np.asarray(want, dtype=float)
    assert g.shape == w.shape
    assert np.array_equal(np.isnan(g), np.isnan(w)), (g, w)
    m = ~np.isnan(w) & ~np.isinf(w)
    assert np.array_equal(np.isinf(g), np.isinf(w))
    err = np.abs(g[m] - w[m]) / np.maximum(np.abs(w[m]), 1e-300)
    worst = float(err.max(initial=0.0))
    assert worst <= rtol, worst
    return worst


@pytest.mark.parametrize("dataset", DATASETS)
def test_km_matches_survfit(dataset: str) -> None:
    got = km_table(inputs(dataset))
    want = read("km")
    want = want[want["dataset"] == dataset].reset_index(drop=True)
    assert list(got["arm"]) == list(want["arm"])
    for ours, theirs in [
        ("time", "time"),
        ("at_risk", "n_risk"),
        ("events", "n_event"),
        ("censored", "n_censor"),
        ("survival", "surv"),
        ("std_err", "std_err"),
        ("ci_low", "lower"),
        ("ci_high", "upper"),
    ]:
        assert_close(got[ours], want[theirs], 1e-9)


@pytest.mark.parametrize("dataset", DATASETS)
def test_medians_match_survfit_table(dataset: str) -> None:
    got = survival_summary(inputs(dataset))
    want = read("median")
    want = want[want["dataset"] == dataset].reset_index(drop=True)
    assert list(got["arm"]) == list(want["arm"])
    assert list(got["n"]) == list(want["n"]) and list(got["events"]) == list(want["events"])
    assert_close(got["median"], want["median"], 1e-6)
    assert_close(got["median_ci_low"], want["lower"], 1e-6)
    assert_close(got["median_ci_high"], want["upper"], 1e-6)


def test_median_corner_cases_are_in_the_golden_data() -> None:
    # The edges data exercise the midpoint rule, a curve ending at 0.5 and "never reached".
    s = survival_summary(inputs("edges")).set_index("arm")
    assert s.loc["ctl", "median"] == 7.0  # flat at 0.5 from day 5 to the event at 9
    assert s.loc["flat_end", "median"] == 4.0  # ends at 0.5: R's table gives the first time
    assert math.isnan(s.loc["never", "median"])
    assert median_time(np.array([1.0, 2.0]), np.array([0.9, 0.5 + 1e-12])) == 2.0


@pytest.mark.parametrize("dataset", DATASETS)
def test_logrank_matches_survdiff(dataset: str) -> None:
    got = logrank_tests(inputs(dataset), control="ctl")
    want = read("logrank")
    want = want[want["dataset"] == dataset].reset_index(drop=True)
    assert list(got["comparison"]) == list(want["comparison"])
    assert_close(got["chisq"], want["chisq"], 1e-6)
    assert list(got["df"]) == list(want["df"])
    assert_close(got["p_value"], want["p"], 1e-6)


@pytest.mark.parametrize("dataset", DATASETS)
def test_cox_matches_coxph_efron(dataset: str) -> None:
    got = cox_hazard_ratios(inputs(dataset), control="ctl")
    want = read("cox")
    want = want[want["dataset"] == dataset].reset_index(drop=True)
    assert list(got["arm"]) == list(want["arm"])
    # An arm without events: R stops at a huge negative coefficient ("beta may be
    # infinite"); trkres labels it and leaves it out (its limit).
    infinite = (want["coef"] < -10).to_numpy()
    assert got.loc[infinite, "hazard_ratio"].isna().all()
    assert got.loc[infinite, "note"].str.contains("not estimable").all()
    assert (dataset == "noevent") == bool(infinite.any())
    got, want = got[~infinite], want[~infinite]
    for ours, theirs in [
        ("coef", "coef"),
        ("se", "se"),
        ("hazard_ratio", "hr"),
        ("ci_low", "lower"),
        ("ci_high", "upper"),
        ("p_value", "p"),
    ]:
        assert_close(got[ours], want[theirs], 1e-6)


def test_from_mouse_metrics_with_censoring() -> None:
    rows = []
    for m, arm, vols in [
        ("c1", "ctl", [100, 150, 220, 300]),
        ("c2", "ctl", [100, 190, 260, 400]),
        ("c3", "ctl", [100, 120, 150]),  # leaves before doubling: censored at day 14
        ("t1", "trt", [100, 110, 120, 130]),
        ("t2", "trt", [100, 105, 150, 210]),
        ("z1", "trt", [0, 10, 20, 30]),  # zero baseline: no fold endpoint
    ]:
        for d, v in zip([0, 7, 14, 21], vols, strict=False):
            rows.append((m, arm, float(d), float(v)))
    vol = pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"])
    times = endpoint_times(mouse_metrics(vol, endpoint_fold=2.0)).set_index("mouse_id")
    assert times.loc["c1", "time"] == 14.0 and times.loc["c1", "event"]
    assert times.loc["c3", "time"] == 14.0 and not times.loc["c3", "event"]
    assert math.isnan(times.loc["z1", "time"]) and times.loc["z1", "note"]
    s = survival_summary(times.reset_index()).set_index("arm")
    assert s.loc["trt", "n_excluded"] == 1 and s.loc["trt", "n"] == 2
    assert s.loc["ctl", "events"] == 2
    cox = cox_hazard_ratios(times.reset_index(), control="ctl")
    assert np.isfinite(cox["hazard_ratio"]).all()
    with pytest.raises(InputError):
        endpoint_times(mouse_metrics(vol)).pipe(survival_summary)
    with pytest.raises(InputError):
        logrank_tests(times.reset_index(), control="vehicle")


def test_degenerate_inputs_are_labelled() -> None:
    one = pd.DataFrame({"arm": ["a", "a"], "time": [3.0, 5.0], "event": [True, False]})
    lr = logrank_tests(one)
    assert len(lr) == 1 and math.isnan(lr["p_value"].iloc[0])
    assert cox_hazard_ratios(one, control="a").empty
    none = pd.DataFrame(
        {"arm": ["a", "a", "b", "b"], "time": [3.0, 5.0, 4.0, 6.0], "event": [False] * 4}
    )
    cox = cox_hazard_ratios(none, control="a")
    assert math.isnan(cox["hazard_ratio"].iloc[0]) and "no mouse" in cox["note"].iloc[0]
    no_event_arm = pd.DataFrame(
        {
            "arm": ["a"] * 4 + ["b"] * 4,
            "time": [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
            "event": [True] * 4 + [False] * 4,
        }
    )
    cox = cox_hazard_ratios(no_event_arm, control="a")
    assert "no event in this arm" in cox["note"].iloc[0]
    s = survival_summary(no_event_arm).set_index("arm")
    # a: S = 0.75, 0.5, 0.25, 0 at days 2-5; exactly 0.5 at day 3 -> midpoint with day 4.
    assert math.isnan(s.loc["b", "median"]) and s.loc["a", "median"] == 3.5


def test_real_data(shared_data: Path) -> None:
    mel = pd.read_csv(shared_data / "invivo" / "tumr" / "melanoma1.csv").rename(
        columns={"ID": "mouse_id", "Day": "day", "Volume": "volume", "Treatment": "arm"}
    )
    times = endpoint_times(mouse_metrics(mel, endpoint_volume=1000.0))
    summ = survival_summary(times).set_index("arm")
    assert summ["n"].sum() == mel["mouse_id"].nunique()
    lr = logrank_tests(times, control="A").set_index("comparison")
    # The combination (D) delays the 1000 mm3 endpoint against vehicle (A).
    assert lr.loc["D vs A", "p_value"] < 0.01
    cox = cox_hazard_ratios(times, control="A").set_index("arm")
    no_event = summ.loc[cox.index, "events"] == 0
    assert cox.loc[no_event, "hazard_ratio"].isna().all()
    assert cox.loc[no_event, "note"].str.contains("not estimable").all()
    assert np.isfinite(cox.loc[~no_event, "hazard_ratio"]).all()
