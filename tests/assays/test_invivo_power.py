"""Power of the in vivo synergy test: the analytic F power against R (nlmeU::Pwr
arithmetic on an nlme fit, tools/golden/invivo_synergy.R) and a brute-force GLS, and the
simulated power against the analytic one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trkres.assays.invivo.lmm import fit_growth
from trkres.assays.invivo.power import (
    analytic_power,
    apriori_power,
    mice_per_arm,
    posthoc_power,
)
from trkres.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data" / "invivo"
ARMS = dict(control="Control", drug_a="DrugA", drug_b="DrugB", combination="Combination")


def _slopes(c: float, a: float, b: float, ab: float) -> dict[str, float]:
    return {"Control": c, "DrugA": a, "DrugB": b, "Combination": ab}


def test_analytic_power_matches_nlme_pwr() -> None:
    golden = pd.read_csv(DATA / "synergy_power_golden.tsv", sep="\t")
    assert len(golden) == 3
    for r in golden.itertuples():
        times = [float(x) for x in str(r.times).split(",")]
        res = apriori_power(
            n_mice_per_arm=int(r.npg),
            times=times,
            slopes=_slopes(r.slope_control, r.slope_a, r.slope_b, r.slope_comb),
            tau=float(r.tau),
            sigma=float(r.sigma),
            simulate=False,
            **ARMS,
        )
        assert res.ddf == r.ddf
        assert res.effect_se**2 == pytest.approx(r.var_contrast, rel=1e-9)
        assert res.analytic_power == pytest.approx(r.power, rel=1e-6)
        assert np.isnan(res.power)


def test_analytic_variance_is_the_gls_variance_with_variance_functions() -> None:
    # Brute force: build every mouse's V = tau² t tᵀ + sigma² diag(g²) and invert.
    rng = np.random.default_rng(5)
    times = np.array([2.0, 4.0, 7.0, 9.0, 12.0])
    n_arms, per_arm, tau, sigma, power = 5, 3, 0.03, 0.12, 0.4
    ratio = np.array([1.0, 1.3, 0.8, 1.1, 0.6])
    info = np.zeros(n_arms)
    rows_t, rows_m, rows_a, rows_g = [], [], [], []
    for m in range(n_arms * per_arm):
        a = m // per_arm
        t = times[rng.random(times.size) < 0.9]  # unbalanced: some rows missing
        g = ratio[a] * t**power
        v = tau**2 * np.outer(t, t) + np.diag((sigma * g) ** 2)
        info[a] += t @ np.linalg.solve(v, t)
        rows_t.append(t), rows_m.append(np.full(t.size, m)), rows_a.append(np.full(t.size, a))
        rows_g.append(g)
    w = np.array([2.0, -1.0, -1.0, -1.0, 1.0])  # three-drug Bliss
    beta = np.array([0.1, 0.08, 0.085, 0.07, 0.02])
    pw, delta, se, ddf = analytic_power(
        np.concatenate(rows_t),
        np.concatenate(rows_m),
        np.concatenate(rows_a),
        np.concatenate(rows_g),
        beta,
        w,
        tau=tau,
        sigma=sigma,
    )
    assert se**2 == pytest.approx(float(np.sum(w**2 / info)), rel=1e-10)
    assert delta == pytest.approx(float(w @ beta))
    assert ddf == sum(map(len, rows_t)) - 15 - 5 + 1
    assert 0.05 < pw < 1.0


def test_simulated_power_agrees_with_analytic() -> None:
    res = apriori_power(
        n_mice_per_arm=8,
        times=list(range(0, 19, 2)),
        slopes=_slopes(0.1, 0.08, 0.08, 0.03),
        tau=0.02,
        sigma=0.1,
        nsim=200,
        seed=1,
        **ARMS,
    )
    assert res.n_failed == 0 and res.nsim == 200
    assert abs(res.power - res.analytic_power) < 4 * res.mc_se
    assert 0.3 < res.power < 0.8


def test_no_synergy_gives_power_alpha() -> None:
    # Bliss additivity exactly: combination = A + B - control.
    res = apriori_power(
        n_mice_per_arm=6,
        times=[0, 3, 6, 9, 12],
        slopes=_slopes(0.1, 0.08, 0.07, 0.05),
        tau=0.02,
        sigma=0.1,
        nsim=150,
        seed=2,
        **ARMS,
    )
    assert res.effect == pytest.approx(0.0, abs=1e-15)
    assert res.analytic_power == pytest.approx(0.05)
    assert res.power <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / 150)


def test_posthoc_power_from_a_fit() -> None:
    vol = pd.read_csv(DATA / "synergy_two_drugs.tsv", sep="\t")
    fit = fit_growth(vol, min_observations=1)
    res = posthoc_power(
        fit, vol, control="Control", drug_a="DrugA", drug_b="DrugB", combination="Combo",
        method="hsa", nsim=60, seed=4,
    )  # fmt: skip
    assert res.method == "hsa" and res.n_failed == 0
    assert abs(res.power - res.analytic_power) < 4 * max(res.mc_se, 0.02)
    # HSA: combination against the best single agent (DrugB, the smallest slope).
    b = dict(zip(fit.arms, fit.beta, strict=True))
    assert res.effect == pytest.approx(b["Combo"] - b["DrugB"])


def test_mice_per_arm_is_the_smallest_n() -> None:
    design = dict(
        times=[0, 3, 7, 10, 14, 17, 21],
        slopes=_slopes(0.12, 0.09, 0.08, 0.02),
        tau=0.02,
        sigma=0.15,
        **ARMS,
    )
    n, table = mice_per_arm(0.8, **design)
    assert apriori_power(n_mice_per_arm=n, simulate=False, **design).analytic_power >= 0.8
    assert apriori_power(n_mice_per_arm=n - 1, simulate=False, **design).analytic_power < 0.8
    assert list(table["n_mice_per_arm"]) == list(range(2, n + 1))
    with pytest.raises(InputError):
        mice_per_arm(0.8, n_max=2, **design)


def test_bad_inputs() -> None:
    base = dict(n_mice_per_arm=5, times=[0, 3, 6], tau=0.02, sigma=0.1, **ARMS)
    with pytest.raises(InputError) as err:
        apriori_power(slopes={"Control": 0.1, "DrugA": 0.08}, **base)
    assert err.value.expected is not None and "Combination" in err.value.expected
    with pytest.raises(InputError):
        apriori_power(slopes=_slopes(0.1, 0.08, 0.07, 0.02), method="ra", **base)
    with pytest.raises(InputError):
        apriori_power(slopes=_slopes(0.1, 0.08, 0.07, 0.02), **{**base, "n_mice_per_arm": 1})
    with pytest.raises(InputError):
        apriori_power(slopes=_slopes(0.1, 0.08, 0.07, 0.02), **{**base, "times": [0]})


def test_time_power_variance_with_a_baseline_time() -> None:
    design = dict(
        n_mice_per_arm=6,
        slopes=_slopes(0.1, 0.08, 0.08, 0.03),
        tau=0.02,
        sigma=0.1,
        variance="time-power",
        variance_params={"power": 0.4, "arm:DrugA": 1.5},
        simulate=False,
        **ARMS,
    )
    with0 = apriori_power(times=[0, 2, 4, 8, 12], **design)
    without = apriori_power(times=[2, 4, 8, 12], **design)
    assert np.isfinite(with0.analytic_power)
    assert with0.effect_se == pytest.approx(without.effect_se, rel=1e-12)  # t = 0: no information
    assert with0.ddf == without.ddf + 24  # but counted in N, as nlme / SynergyLMM do
