"""Adversarial in vivo inputs, round 3: staggered control mice, a combination whose tumours
all vanished, flat tumours, volumes in cm³."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

import trkres as tr
from trkres.assays.invivo.curves import loglinear_fit
from trkres.assays.invivo.io import check_volumes
from trkres.assays.invivo.tgi import default_day, tgi_table
from trkres.errors import InputError


def study(
    n: int = 4, days: tuple[int, ...] = (0, 3, 7, 10, 14, 17, 21), seed: int = 0
) -> pd.DataFrame:
    """Vehicle, A, B and A+B growing at 0.12, 0.08, 0.08 and 0.02 per day (mm³)."""
    rng = np.random.default_rng(seed)
    rows = []
    for arm, rate in (("Vehicle", 0.12), ("A", 0.08), ("B", 0.08), ("A+B", 0.02)):
        for m in range(n):
            v0, a = rng.uniform(80, 150), rate + rng.normal(0, 0.01)
            for d in days:
                vol = v0 * math.exp(a * d + rng.normal(0, 0.05))
                rows.append({"mouse_id": f"{arm}-{m}", "arm": arm, "day": d, "volume": vol})
    return pd.DataFrame(rows)


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.getLogger("trkres").setLevel(logging.ERROR)


def test_tgi_control_mice_on_windows_that_never_overlap_get_a_labelled_day() -> None:
    # Staggered enrolment by calendar day: no day has half the 3 control mice measured.
    # Before: numpy's "zero-size array to reduction operation maximum" traceback.
    rows = []
    for i, start in enumerate((0, 7, 14)):
        for d in (start, start + 3, start + 6):
            rows.append({"mouse_id": f"v{i}", "arm": "Vehicle", "day": d,
                         "volume": 100 * math.exp(0.1 * (d - start))})  # fmt: skip
            rows.append({"mouse_id": f"a{i}", "arm": "A", "day": d,
                         "volume": 100 * math.exp(0.05 * (d - start))})  # fmt: skip
    df = pd.DataFrame(rows)
    assert default_day(df, "Vehicle") == 20.0
    row = tgi_table(df, control="Vehicle").iloc[0]
    assert row["day"] == 20.0 and row["n_control"] == 1
    assert "no control day has half its 3 mice measured" in row["day_rule"]
    assert "tgi" in tr.invivo.analyze(df).tables


def test_combination_with_every_tumour_gone_keeps_the_other_results() -> None:
    # Complete regression in A+B: synergy cannot be fitted (no positive volume after the
    # baseline), but mRECIST, TGI, the growth model and survival still stand. Before: the
    # whole analysis raised "arm(s) with no usable mouse for synergy".
    df = study()
    gone = (df["arm"] == "A+B") & (df["day"] > 0)
    df.loc[gone, "volume"] = 0.0
    res = tr.invivo.analyze(df, power_simulations=2)
    assert {"mrecist", "tgi", "growth_model", "survival"} <= set(res.tables)
    assert "synergy" not in res.tables and "power" not in res.tables
    assert any(n.startswith("synergy not computed: arm(s) with no usable mouse") for n in res.notes)
    assert set(res["mrecist"].loc[res["mrecist"]["arm"] == "A+B", "mrecist"]) == {"CR"}


def test_flat_tumour_is_not_growing_not_a_doubling_time_of_1e31_days() -> None:
    # The mean of identical log volumes rounds: a slope of ~1e-17/day and a doubling time
    # of ~5e31 days with no note. Now the slope is exactly 0: inf, "not growing".
    df = study()
    df["volume"] = df.groupby("mouse_id")["volume"].transform("first")
    assert (loglinear_fit(df)["a"] == 0.0).all()
    metrics = tr.invivo.mouse_metrics(df)
    assert np.isinf(metrics["doubling_time"]).all()
    assert set(metrics["doubling_time_note"]) == {"not growing (rate <= 0)"}


def test_loglinear_intercept_is_still_log_v0() -> None:
    df = pd.DataFrame({"mouse_id": "m", "arm": "x", "day": [0.0, 5.0, 10.0],
                       "volume": [100.0, 100 * math.exp(0.5), 100 * math.exp(1.0)]})  # fmt: skip
    fit = loglinear_fit(df).iloc[0]
    assert fit["a"] == pytest.approx(0.1, rel=1e-12)
    assert fit["log_v0"] == pytest.approx(math.log(100.0), rel=1e-12)


@pytest.mark.parametrize("header", ["Volume (cm3)", "volume_cm3", "Tumor volume [cm³]", "TV (ml)"])
def test_a_volume_column_named_in_cm3_is_converted_to_mm3(header: str) -> None:
    # Before: not found (or, mapped with columns=, read as mm³: 1000 times too small, so
    # no mouse ever reached an endpoint volume of 1000 mm³).
    df = study(n=2)
    cm3 = df.rename(columns={"volume": header}).assign(**{header: df["volume"] / 1000})
    got = check_volumes(cm3, columns={"volume": header})
    want = check_volumes(df)
    np.testing.assert_allclose(got.volumes["volume"], want.volumes["volume"], rtol=1e-12)
    assert any("converted to mm³ (× 1000)" in n for n in got.notes)
    assert check_volumes(cm3).volumes["volume"].equals(got.volumes["volume"])  # found by alias


def test_caliper_axes_in_cm_are_converted_to_mm() -> None:
    df = pd.DataFrame({"ID": ["m1"] * 3, "Group": "x", "Day": [0, 7, 14],
                       "Length (cm)": [1.0, 1.2, 1.5], "Width (cm)": [0.5, 0.6, 0.8]})  # fmt: skip
    got = check_volumes(df)
    np.testing.assert_allclose(got.volumes["volume"], [10 * 5**2 / 2, 12 * 6**2 / 2, 15 * 8**2 / 2])


def test_a_volume_column_named_in_a_length_unit_is_refused() -> None:
    df = study(n=1).rename(columns={"volume": "Volume (cm)"})
    with pytest.raises(InputError, match="states a unit") as err:
        check_volumes(df)
    assert err.value.found == "cm"


def test_volumes_that_look_like_cm3_are_warned_about() -> None:
    df = study(n=2)
    res = tr.invivo.analyze(df.assign(volume=df["volume"] / 1000), endpoint_volume=1000)
    assert any("if the volumes are in cm³" in w for w in res.warnings)
    assert not any("cm³" in w for w in tr.invivo.analyze(df).warnings)


def test_mice_starting_on_later_days_are_modelled_from_their_own_baseline() -> None:
    # Arm B first measured on day 1: the growth model's time zero was the table's first day
    # (as SynergyLMM's time_start), so all of B was left out of the model and synergy, with
    # only model_excluded to show for it (tumr breast.csv: 16 of 19 mice), although the
    # reader and docs take each mouse's first volume as its baseline. Now each mouse starts
    # at its own baseline (exponential slopes do not depend on the time origin).
    df = study()
    shifted = df.assign(day=df["day"] + (df["arm"] == "B"))
    res = tr.invivo.analyze(shifted)
    ref = tr.invivo.analyze(df)
    pd.testing.assert_frame_equal(res["growth_model"], ref["growth_model"])
    assert "synergy" in res.tables and not res.warnings
    assert any(n.startswith("4 of 16 mice start after day 0") for n in res.notes)
    residuals = res["residuals"]
    assert set(residuals.loc[residuals["arm"] == "B", "day"]) == {4.0, 8.0, 11.0, 15.0, 18.0, 22.0}
    assert not any("start after day" in n for n in ref.notes)


def test_with_time_start_mice_not_measured_that_day_are_warned_about() -> None:
    df = study()
    shifted = df.assign(day=df["day"] + (df["arm"] == "B"))
    res = tr.invivo.analyze(shifted, time_start=0)
    assert "B" not in set(res["growth_model"]["arm"])
    text = " ".join(res.warnings)
    assert "4 of 16 mice left out of the growth model and synergy (B 4)" in text
    assert "4 with no volume at time_start (day 0)" in text
    assert "arm(s) not modelled at all: B" in text
    assert not any("left out of the growth model" in w
                   for w in tr.invivo.analyze(df, time_start=0).warnings)  # fmt: skip


def test_robust_variance_of_an_arm_with_one_mouse_is_undefined_not_zero() -> None:
    # One mouse is one cluster: the CR2 variance of its arm's slope came out ~1e-34, so the
    # robust contrast A vs A+B had an SE from A+B alone and p ~1e-5 (model-based SE 2.7x
    # larger). Now NaN, with a warning; the other arms' robust contrasts are unchanged.
    df = study()
    df = df[(df["arm"] != "A") | (df["mouse_id"] == "A-0")]
    from trkres.assays.invivo import lmm

    fit = lmm.fit_growth(df)
    a, b = fit.arms.index("A"), fit.arms.index("B")
    assert np.isnan(fit.cov_robust[a, a]) and fit.cov_robust[b, b] > 1e-8
    assert "one mouse: A" in fit.message
    assert math.isnan(fit.contrast({"A": 1, "A+B": -1}, robust=True).se)
    other = fit.contrast({"B": 1, "A+B": -1}, robust=True)
    assert other.se > 0 and other.p_value < 0.05
    res = tr.invivo.analyze(df, robust=True, synergy_methods=["bliss"])
    assert any("at least 2 mice per arm" in w for w in res.warnings)
    assert res["synergy"]["p_value"].isna().all()


def test_censored_and_removed_reason_columns_are_said_to_be_unused() -> None:
    df = study(n=2).assign(censored="no", removed_reason="")
    notes = " ".join(check_volumes(df).notes)
    assert "'censored', 'removed_reason' are kept with the volumes but no result uses them" in notes


def test_a_growth_model_that_did_not_converge_is_flagged_once() -> None:
    from dataclasses import replace

    from trkres.assays.invivo.section import flags

    res = tr.invivo.analyze(study(n=3))
    assert res.fit is not None
    fit = replace(res.fit, converged=False, message="not converged: test")
    bad = replace(res, fit=fit, warnings=("growth model: not converged: test",))
    texts = [f.message for f in flags(bad)]
    assert texts.count("growth model: not converged: test") == 1


def test_api_parts_model_late_starting_mice_as_analyze_does() -> None:
    df = study()
    shifted = df.assign(day=df["day"] + (df["arm"] == "B"))
    fit = tr.invivo.fit_growth(shifted)
    assert fit.n_mice["B"] == 4
    res = tr.invivo.analyze(shifted)
    np.testing.assert_allclose(fit.table()["slope"], res["growth_model"]["slope"], rtol=1e-12)
    syn = tr.invivo.synergy_over_time(shifted, control="Vehicle", drug_a="A", drug_b="B",
                                      combination="A+B", methods=["bliss"])  # fmt: skip
    ref = tr.invivo.synergy_over_time(df, control="Vehicle", drug_a="A", drug_b="B",
                                      combination="A+B", methods=["bliss"])  # fmt: skip
    np.testing.assert_allclose(syn["p_value"], ref["p_value"], rtol=1e-9)
    assert syn["p_value"].notna().sum() == len(syn) - 1  # the first time: one point per mouse


PLAN = {"n_mice_per_arm": 5, "times": [0, 3, 7, 10, 14], "tau": 0.01, "sigma": 0.1,
        "slopes": {"C": 0.1, "A": 0.07, "B": 0.07, "AB": 0.02}, "control": "C", "drug_a": "A",
        "drug_b": "B", "combination": "AB", "nsim": 3}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"alpha": 2}, "alpha must be a significance level"),  # was: power 1.0
        ({"alpha": 0}, "alpha must be a significance level"),
        ({"slopes": {"C": math.nan, "A": 0.07, "B": 0.07, "AB": 0.02}}, "slopes must be finite"),
        ({"slopes": {"C": "fast", "A": 0.07, "B": 0.07, "AB": 0.02}}, "slopes must be finite"),
        ({"times": [0, 7, 7, 14]}, "times must be distinct"),
        ({"variance": "arms"}, "unknown variance structure"),
    ],
)
def test_apriori_power_refuses_a_bad_plan_by_name(change: dict, message: str) -> None:
    # Before: alpha 2 gave a power of 1; NaN slopes, repeated times and an unknown variance
    # all said "no simulated experiment could be refitted" (or a ValueError traceback).
    with pytest.raises(InputError, match=message):
        tr.invivo.apriori_power(**{**PLAN, **change})


def test_posthoc_power_refuses_alpha_outside_0_1() -> None:
    from trkres.assays.invivo import lmm
    from trkres.assays.invivo.power import posthoc_power

    fit = lmm.fit_growth(study(n=3))
    with pytest.raises(InputError, match="alpha must be a significance level"):
        posthoc_power(fit, control="Vehicle", drug_a="A", drug_b="B", combination="A+B",
                      alpha=1.5, nsim=2)  # fmt: skip


def test_one_measurement_after_baseline_per_mouse_is_named_as_such() -> None:
    # Before: "every mouse's log relative volume is exactly proportional to time (or zero)",
    # true of any single point, and no hint of the cause.
    res = tr.invivo.analyze(study(days=(0, 7)))
    assert any(n.startswith("growth model not fitted: every mouse has one measurement after its "
                            "baseline") for n in res.notes)  # fmt: skip
