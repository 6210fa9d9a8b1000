"""The growth model (trkres.assays.invivo.lmm) against nlme / emmeans / clubSandwich golden
values (tools/golden/invivo_lmm.R on tools/golden/make_invivo_inputs.py's data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from support import REPO
from trkres.assays.invivo import lmm
from trkres.errors import InputError

DATA = REPO / "tests" / "data" / "invivo"
DATASETS = ("balanced", "dropout", "power", "arms")


def _volumes(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"lmm_{name}.tsv", sep="\t", dtype={"mouse_id": str, "arm": str})


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    return pd.read_csv(DATA / "lmm_golden.tsv", sep="\t", keep_default_na=False,
                       na_values=["NA"])  # fmt: skip


@pytest.fixture(scope="module")
def fits() -> dict[tuple[str, str], lmm.GrowthFit]:
    return {(ds, v): lmm.fit_growth(_volumes(ds), variance=v, min_observations=1)
            for ds in DATASETS for v in lmm.VARIANCES}  # fmt: skip


def _g(golden: pd.DataFrame, ds: str, v: str, quantity: str) -> pd.Series:
    rows = golden[(golden.dataset == ds) & (golden.variance == v) & (golden.quantity == quantity)]
    return rows.set_index("name")["value"]


@pytest.mark.parametrize("variance", lmm.VARIANCES)
@pytest.mark.parametrize("ds", DATASETS)
def test_fixed_effects_and_ses_match_nlme(fits, golden, ds: str, variance: str) -> None:
    fit = fits[(ds, variance)]
    assert fit.converged
    beta = _g(golden, ds, variance, "beta")
    se = _g(golden, ds, variance, "se")
    arms = list(fit.arms)
    # nlme names the arms in factor order (first appearance), as fit.arms
    np.testing.assert_allclose(fit.beta, beta.to_numpy(), rtol=5e-3)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), se.to_numpy(), rtol=1e-2)
    # tighter: we and nlme reach the same optimum
    np.testing.assert_allclose(fit.beta, beta.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), se.to_numpy(), rtol=1e-3)
    assert fit.loglik == pytest.approx(_g(golden, ds, variance, "loglik").iloc[0], abs=1e-5)
    assert fit.aic == pytest.approx(_g(golden, ds, variance, "aic").iloc[0], abs=1e-4)
    assert fit.bic == pytest.approx(_g(golden, ds, variance, "bic").iloc[0], abs=1e-4)
    assert fit.tau == pytest.approx(_g(golden, ds, variance, "tau").iloc[0], rel=1e-3)
    table = fit.table()
    assert list(table["arm"]) == arms
    assert table["n_observations"].sum() == len(fit.data)


@pytest.mark.parametrize("variance", [v for v in lmm.VARIANCES if v != "none"])
@pytest.mark.parametrize("ds", DATASETS)
def test_variance_parameters_match_nlme(fits, golden, ds: str, variance: str) -> None:
    """nlme's varIdent reference is the stratum of its first group (alphabetical mouse):
    compare residual SDs per stratum, sigma * delta, which do not depend on the reference."""
    fit = fits[(ds, variance)]
    par = _g(golden, ds, variance, "varpar")
    # varComb names its parts A.<level> (varIdent) and B.power (varPower)
    par.index = [k.split(".", 1)[1] if k[:2] in ("A.", "B.") else k for k in par.index]
    sigma_r = _g(golden, ds, variance, "sigma").iloc[0]
    if "power" in variance:
        assert fit.variance_params["power"] == pytest.approx(par["power"], abs=1e-3)
    prefix = (
        "arm" if variance.startswith("arm") else "mouse" if variance.startswith("mouse") else ""
    )
    if prefix:
        ours = {k.split(":", 1)[1]: fit.sigma * v for k, v in fit.variance_params.items()
                if k.startswith(prefix + ":")}  # fmt: skip
        theirs = {k: sigma_r * v for k, v in par.items() if k != "power"}
        assert set(ours) == set(theirs)
        for level, value in ours.items():
            assert value == pytest.approx(theirs[level], rel=2e-3), level
    else:
        assert fit.sigma == pytest.approx(sigma_r, rel=1e-3)


@pytest.mark.parametrize("variance", [v for v in lmm.VARIANCES if not v.startswith("mouse")])
@pytest.mark.parametrize("ds", DATASETS)
def test_satterthwaite_df_match_emmeans(fits, golden, ds: str, variance: str) -> None:
    """emmeans(mode = "satterthwaite") is approximate for lme: its own df moved by up to 2.9%
    between two runs of the R script on the same data, and it is up to 2% from ours. The
    by-definition check below (numDeriv on the REML likelihood) agrees with us to 3e-5."""
    fit = fits[(ds, variance)]
    df = _g(golden, ds, variance, "df_satt")  # emmeans fails on varIdent by mouse
    ours = [fit.contrast(np.eye(len(fit.arms))[k]).df for k in range(len(fit.arms))]
    np.testing.assert_allclose(ours, df.to_numpy(), rtol=5e-2)


EXACT_SATT = [(ds, v) for ds in DATASETS for v in lmm.VARIANCES if not v.startswith("mouse")]
EXACT_SATT += [("dropout", "mouse"), ("dropout", "mouse+time-power")]  # slow in R: one set


@pytest.mark.parametrize(("ds", "variance"), EXACT_SATT)
def test_satterthwaite_df_match_the_definition(fits, golden, ds: str, variance: str) -> None:
    """The R script writes the REML likelihood out with dense matrices (it equals nlme's
    logLik to 1e-12) and takes the Satterthwaite df by definition with numDeriv: the
    tolerance is numDeriv's (measured worst 2.7e-5)."""
    fit = fits[(ds, variance)]
    assert abs(_g(golden, ds, variance, "exact_ll_check").iloc[0]) < 1e-8
    want = _g(golden, ds, variance, "df_satt_exact")
    k = len(fit.arms)
    ours = [fit.contrast(np.eye(k)[j]).df for j in range(k)]
    ours += list(lmm.pairwise_contrasts(fit)["df"])
    np.testing.assert_allclose(ours, want.to_numpy(), rtol=2e-4)


@pytest.mark.parametrize("ds", DATASETS)
def test_satterthwaite_df_match_lmertest(fits, golden, ds: str) -> None:
    """No variance function: the same model in lme4, lmerTest's Satterthwaite df."""
    fit = fits[(ds, "none")]
    df = _g(golden, ds, "none", "lmer_df_satt")
    ours = [fit.contrast(np.eye(len(fit.arms))[k]).df for k in range(len(fit.arms))]
    np.testing.assert_allclose(ours, df.to_numpy(), rtol=1e-3)
    pairs = lmm.pairwise_contrasts(fit)
    theirs = _g(golden, ds, "none", "pair_df_lmer_satt")
    names = [f"{a} - {b}" for a, b in zip(pairs.arm_a, pairs.arm_b, strict=True)]
    np.testing.assert_allclose(pairs["df"].to_numpy(), theirs[names].to_numpy(), rtol=1e-3)


def test_log_relative_volume_accounts_for_every_row() -> None:
    vol = _volumes("dropout")
    vol.loc[3, "volume"] = 0.0  # a zero after baseline: excluded
    first = vol.groupby("mouse_id").head(1).index
    vol.loc[first[2], "volume"] = 0.0  # a zero baseline: the whole mouse excluded
    model, excluded = lmm.log_relative_volume(vol, time_end=20)
    assert len(vol) == len(model) + len(excluded) + model["mouse_id"].nunique()
    assert (model["time"] > 0).all() and (model["day"] <= 20).all()
    assert set(excluded["reason"]) >= {"outside the time window",
                                       "volume is zero or missing (log undefined)"}  # fmt: skip
    mouse0 = vol.loc[first[2], "mouse_id"]
    assert (excluded["mouse_id"] == mouse0).sum() == (vol["mouse_id"] == mouse0).sum()
    m = model.iloc[0]
    v0 = vol[(vol.mouse_id == m.mouse_id) & (vol.day == 0)]["volume"].iloc[0]
    assert m.log_rtv == pytest.approx(np.log(m.volume / v0))


def test_time_start_shifts_time_and_drops_earlier_rows() -> None:
    vol = _volumes("balanced")
    model, excluded = lmm.log_relative_volume(vol, time_start=6)
    assert model["time"].min() == 3 and (model["day"] > 6).all()
    assert (excluded["day"] < 6).all()
    assert len(vol) == len(model) + len(excluded) + model["mouse_id"].nunique()


def test_min_observations_excludes_mice_with_reason() -> None:
    vol = _volumes("dropout")
    fit = lmm.fit_growth(vol, min_observations=8)
    counts = fit.data.groupby("mouse_id").size()
    assert counts.min() >= 8
    assert fit.excluded["reason"].str.contains("fewer than 8").any()
    assert len(vol) == len(fit.data) + len(fit.excluded) + fit.data["mouse_id"].nunique()


def _tiny(slopes: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for arm, per_mouse in slopes.items():
        for k, s in enumerate(per_mouse):
            for day in range(0, 15, 3):
                rows.append((f"{arm}{k}", arm, float(day), 100.0 * np.exp(s * day)))
    return pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"])


def test_degenerate_inputs_raise_input_error_with_expected_and_found() -> None:
    one = _tiny({"A": [0.1]})
    one.loc[2, "volume"] *= 1.1
    with pytest.raises(InputError) as err:
        lmm.fit_growth(one)
    assert err.value.expected and err.value.found
    flat = _tiny({"A": [0.0, 0.0], "B": [0.0, 0.0]})
    with pytest.raises(InputError, match="proportional"):
        lmm.fit_growth(flat)
    with pytest.raises(InputError, match="unknown variance"):
        lmm.fit_growth(flat, variance="exponential")
    vol = _volumes("dropout")
    first = vol["mouse_id"].iloc[0]
    short = vol.drop(vol.index[(vol.mouse_id == first)][2:])  # baseline + one measurement
    with pytest.raises(InputError, match="fewer than 2 observations"):
        lmm.fit_growth(short, variance="mouse+time-power", min_observations=1)
    assert lmm.fit_growth(short, variance="mouse+time-power").converged  # default excludes it


def test_no_random_slope_variation_is_a_labelled_boundary_fit() -> None:
    rng = np.random.default_rng(1)
    vol = _tiny({"A": [0.1] * 6, "B": [0.05] * 6})
    vol["volume"] *= np.exp(rng.normal(0, 0.1, len(vol)) * (vol["day"] > 0))
    fit = lmm.fit_growth(vol)
    assert fit.boundary and fit.tau < 1e-4 and "boundary" in fit.message
    table = fit.table()
    assert np.isfinite(table[["slope", "slope_se"]].to_numpy()).all()


@pytest.mark.parametrize("variance", lmm.VARIANCES)
@pytest.mark.parametrize("ds", DATASETS)
def test_cr2_robust_ses_and_df_match_clubsandwich(fits, golden, ds: str, variance: str) -> None:
    """vcovCR(type = "CR2") and coef_test(test = "Satterthwaite") of clubSandwich."""
    fit = fits[(ds, variance)]
    se = _g(golden, ds, variance, "se_cr2").to_numpy()
    df = _g(golden, ds, variance, "df_cr2").to_numpy()
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_robust)), se, rtol=1e-3)
    k = len(fit.arms)
    ours = [fit.contrast(np.eye(k)[j], robust=True).df for j in range(k)]
    np.testing.assert_allclose(ours, df, rtol=1e-3)
    pair_df = _g(golden, ds, variance, "pair_df_cr2")
    if not pair_df.empty:
        pairs = lmm.pairwise_contrasts(fit, robust=True)
        np.testing.assert_allclose(pairs["se"], _g(golden, ds, variance, "pair_se_cr2"), rtol=1e-3)
        np.testing.assert_allclose(pairs["df"], pair_df, rtol=1e-3)


@pytest.mark.parametrize("ds", DATASETS)
def test_kenward_roger_matches_pbkrtest(fits, golden, ds: str) -> None:
    """pbkrtest get_Lb_ddf and vcovAdj on the same model in lme4 (variance none)."""
    fit = fits[(ds, "none")]
    k = len(fit.arms)
    cons = [fit.contrast(np.eye(k)[j], df="kenward-roger") for j in range(k)]
    np.testing.assert_allclose([c.df for c in cons], _g(golden, ds, "none", "df_kr"), rtol=1e-6)
    np.testing.assert_allclose([c.se for c in cons], _g(golden, ds, "none", "se_kr"), rtol=1e-6)
    pairs = lmm.pairwise_contrasts(fit, df="kenward-roger")
    names = [f"{a} - {b}" for a, b in zip(pairs.arm_a, pairs.arm_b, strict=True)]
    np.testing.assert_allclose(pairs["df"], _g(golden, ds, "none", "pair_df_kr")[names], rtol=1e-6)
    np.testing.assert_allclose(pairs["se"], _g(golden, ds, "none", "pair_se_kr")[names], rtol=1e-6)
    with pytest.raises(InputError, match="variance 'none' only"):
        fits[(ds, "arm")].contrast(np.eye(k)[0], df="kenward-roger")


def test_residual_df_and_holm(fits, golden) -> None:
    fit = fits[("dropout", "none")]
    c = fit.contrast([1, -1, 0, 0], df="residual")
    assert c.df == _g(golden, "dropout", "none", "df_residual").iloc[0]
    pairs = lmm.pairwise_contrasts(fit)
    from statsmodels.stats.multitest import multipletests

    np.testing.assert_allclose(pairs["p_holm"], multipletests(pairs["p_value"], method="holm")[1])
    assert (pairs["ci_low"] < pairs["difference"]).all()


@pytest.fixture(scope="module")
def golden_diagnostics() -> pd.DataFrame:
    return pd.read_csv(DATA / "lmm_golden_diagnostics.tsv", sep="\t", dtype={"mouse_id": str})


@pytest.mark.parametrize("variance", ["none", "time-power", "arm", "arm+time-power"])
def test_diagnostics_match_nlme(fits, golden_diagnostics, variance: str) -> None:
    """Level-1 fitted values, Pearson residuals and BLUPs of nlme; Cook's distance and the
    likelihood displacement from nlme refits without each mouse (nlme's own refits stop
    short of the optimum by up to ~0.1% in the displacement: the tolerances)."""
    fit = fits[("dropout", variance)]
    out = lmm.diagnostics(fit)
    g = golden_diagnostics[golden_diagnostics.variance == variance]
    res = out["residuals"].set_index(["mouse_id", "day"])
    for quantity in ("fitted", "pearson"):
        want = g[g.quantity == quantity].set_index(["mouse_id", "day"])["value"]
        np.testing.assert_allclose(res.loc[want.index, quantity], want, atol=1e-4)
    blup = out["random_effects"].set_index("mouse_id")["slope_deviation"]
    want = g[g.quantity == "blup"].set_index("mouse_id")["value"]
    np.testing.assert_allclose(blup[want.index], want, atol=1e-6)
    infl = out["influence"].set_index("mouse_id")
    for quantity in ("cooks_distance", "likelihood_displacement"):
        want = g[g.quantity == quantity].set_index("mouse_id")["value"]
        np.testing.assert_allclose(infl.loc[want.index, quantity], want, rtol=3e-3, atol=1e-6)
    norm = out["normality"].set_index("what")
    assert 0 < norm.loc["random_effects", "p_value"] <= 1


def test_influence_of_a_lone_mouse_is_labelled() -> None:
    vol = _volumes("dropout")
    arm0 = vol["arm"].iloc[0]
    keep = vol["mouse_id"].isin(vol.loc[vol.arm == arm0, "mouse_id"].unique()[:1]) | (
        vol.arm != arm0
    )
    fit = lmm.fit_growth(vol[keep], min_observations=1)
    infl = lmm.diagnostics(fit)["influence"]
    lone = infl[infl.arm == arm0]
    assert len(lone) == 1 and np.isnan(lone["cooks_distance"]).all()
    assert "only mouse" in lone["note"].iloc[0]


def test_summary_is_json_and_table_has_the_issue_columns(fits) -> None:
    import json

    fit = fits[("power", "arm+time-power")]
    summary = json.loads(json.dumps(fit.summary()))
    assert summary["variance"] == "arm+time-power" and "power" in summary["variance_params"]
    assert summary["n_observations"] == len(fit.data)
    cols = ["arm", "slope", "slope_se", "slope_ci_low", "slope_ci_high", "n_mice", "n_observations"]
    table = fit.table()
    assert set(cols) <= set(table.columns)
    assert (table["slope_ci_low"] < table["slope"]).all() and (
        table["slope"] < table["slope_ci_high"]
    ).all()


def test_boundary_fit_still_gives_finite_contrasts() -> None:
    rng = np.random.default_rng(1)
    vol = _tiny({"A": [0.1] * 6, "B": [0.05] * 6})
    vol["volume"] *= np.exp(rng.normal(0, 0.1, len(vol)) * (vol["day"] > 0))
    fit = lmm.fit_growth(vol)
    assert fit.boundary
    for df in ("satterthwaite", "residual", "kenward-roger"):
        c = fit.contrast({"A": 1, "B": -1}, df=df)
        assert np.isfinite([c.estimate, c.se, c.df, c.p_value]).all(), df
    with pytest.raises(InputError, match="names an arm"):
        fit.contrast({"C": 1})


def test_arms_order_sets_the_varident_reference(fits) -> None:
    vol = _volumes("balanced")
    ref = fits[("balanced", "arm")]
    order = ("Combo", "Control", "DrugB", "DrugA")
    fit = lmm.fit_growth(vol, variance="arm", min_observations=1, arms=order)
    assert fit.arms == order and fit.variance_params["arm:Combo"] == 1.0
    idx = [ref.arms.index(a) for a in order]
    np.testing.assert_allclose(fit.beta, ref.beta[idx], rtol=1e-7)
    sd = {a: fit.sigma * fit.variance_params[f"arm:{a}"] for a in order}
    sd_ref = {a: ref.sigma * ref.variance_params[f"arm:{a}"] for a in order}
    for a in order:
        assert sd[a] == pytest.approx(sd_ref[a], rel=1e-5)
    assert fit.loglik == pytest.approx(ref.loglik, abs=1e-7)
    with pytest.raises(InputError, match="does not name the arms"):
        lmm.fit_growth(vol, arms=("Combo", "Control"))
