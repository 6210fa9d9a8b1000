"""The engines against closed forms, against each other, and Bozic 2013's published numbers.

Tolerances are k standard errors of the Monte-Carlo estimate (k = 4: a correct engine
fails a check about once in 16,000 runs; the seeds are fixed, so the tests are
deterministic). The closed forms are those of Iwasa, Nowak & Michor (2006) and Bozic et
al. (2013), exact in the limit M ≫ 1.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

import trkres.models.evolution as ev
from trkres.models.evolution import engine

ROOT = Path(__file__).resolve().parents[2]
K = 4.0


def one_drug(
    size: float, u: float, b: float = 1.0, d: float = 0.5, dd: float = 1.5
) -> dict[str, Any]:
    return {
        "name": "one drug", "detection_size": size, "progression_size": 2 * size, "horizon": 5000,
        "birth": b, "death": d, "death_on_drug": dd,
        "types": {"sensitive": {"resists": []}, "r": {"resists": ["A"]}},
        "mutations": [{"from": "sensitive", "to": "r", "rate": u}],
        "regimens": {"mono": [{"drugs": ["A"]}]},
    }  # fmt: skip


def two_drugs(size: float, u: float, cross: float) -> dict[str, Any]:
    return {
        "name": "two drugs", "detection_size": size, "progression_size": 2 * size, "horizon": 500,
        "birth": 1.0, "death": 0.5, "death_on_drug": 1.5,
        "types": {"sensitive": {"resists": []}, "r1": {"resists": ["A"]},
                  "r2": {"resists": ["B"]}, "r12": {"resists": ["A", "B"]}},
        "mutations": [{"from": "sensitive", "to": "r1", "rate": u},
                      {"from": "sensitive", "to": "r2", "rate": u},
                      {"from": "r1", "to": "r12", "rate": u}, {"from": "r2", "to": "r12", "rate": u},
                      {"from": "sensitive", "to": "r12", "rate": cross}],
        "regimens": {"simultaneous": [{"drugs": ["A", "B"]}],
                     "sequential": [{"drugs": ["A"], "until": "progression"}, {"drugs": ["B"]}]},
    }  # fmt: skip


def share(
    res: ev.EvolutionResult, regimen: str, column: str, value: Any = True
) -> tuple[float, int]:
    p = res["patients"]
    g = p[p["regimen"] == regimen]
    return float((g[column] == value).mean()), len(g)


def near(p: float, n: int, expected: float, k: float = K) -> bool:
    se = math.sqrt(max(expected * (1 - expected), 1e-12) / n)
    return abs(p - expected) <= k * se + 1e-12


def test_streams_are_uniform_and_distinct_per_patient() -> None:
    a = engine.uniforms(np.uint64(7), np.int64(0), np.int64(20_000))
    b = engine.uniforms(np.uint64(7), np.int64(1), np.int64(20_000))
    c = engine.uniforms(np.uint64(8), np.int64(0), np.int64(20_000))
    assert a.min() > 0 and a.max() < 1
    assert stats.kstest(a, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.04 and not np.array_equal(a, c)
    np.testing.assert_array_equal(a, engine.uniforms(np.uint64(7), np.int64(0), np.int64(20_000)))


@pytest.mark.parametrize("method", ["exact", "hybrid"])
def test_same_seed_same_patients_whatever_the_partition(method: str) -> None:
    sc = two_drugs(300, 3e-3, 3e-4)
    base = ev.simulate(sc, patients=60, seed=11, method=method, block_size=60, threads=1)
    cut = ev.simulate(sc, patients=60, seed=11, method=method, block_size=7, threads=2)
    dask = ev.simulate(sc, patients=60, seed=11, method=method, block_size=13, engine="dask")
    for other in (cut, dask):
        assert base["patients"].equals(other["patients"])
    again = ev.simulate(sc, patients=60, seed=12, method=method)
    assert not base["patients"].equals(again["patients"])


@pytest.mark.parametrize(
    ("size", "u", "b", "d", "dd"),
    [(1e5, 5e-6, 1.0, 0.5, 1.5), (1e6, 1e-6, 0.14, 0.13, 0.17), (1e9, 5e-10, 0.14, 0.13, 0.17),
     (1e9, 2e-9, 0.3, 0.2, 0.35)],
)  # fmt: skip
def test_hybrid_against_closed_forms(size: float, u: float, b: float, d: float, dd: float) -> None:
    res = ev.simulate(one_drug(size, u, b, d, dd), patients=20_000, seed=3, method="hybrid")
    p_res, n = share(res, "mono", "resistant_at_start")
    p_cure, _ = share(res, "mono", "outcome", "cured")
    assert near(p_res, n, ev.p_resistance_at_detection(size, u, b, d))
    assert near(p_cure, n, ev.p_cure_single_drug(size, u, b, d, dd))


def test_exact_against_closed_forms() -> None:
    size, u = 1e3, 1e-3
    res = ev.simulate(one_drug(size, u), patients=1000, seed=5, method="exact")
    p_res, n = share(res, "mono", "resistant_at_start")
    p_cure, _ = share(res, "mono", "outcome", "cured")
    assert near(p_res, n, ev.p_resistance_at_detection(size, u, 1.0, 0.5))
    assert near(p_cure, n, ev.p_cure_single_drug(size, u, 1.0, 0.5, 1.5))
    assert res.method == "exact"


def test_hybrid_agrees_with_exact() -> None:
    sc = two_drugs(1e3, 3e-3, 3e-4)
    exact = ev.simulate(sc, patients=600, seed=1, method="exact")
    hybrid = ev.simulate(sc, patients=20_000, seed=2, method="hybrid")
    for regimen in ("simultaneous", "sequential"):
        pe, ne = share(exact, regimen, "outcome", "cured")
        ph, nh = share(hybrid, regimen, "outcome", "cured")
        se = math.sqrt(pe * (1 - pe) / ne + ph * (1 - ph) / nh + 1e-12)
        assert abs(pe - ph) <= K * se + 1e-3
        te = exact["patients"].query("regimen == @regimen")["time_to_progression"].dropna()
        th = hybrid["patients"].query("regimen == @regimen")["time_to_progression"].dropna()
        assert stats.ks_2samp(te, th).pvalue > 1e-3


def test_bozic_2013_figure_5() -> None:
    """Bozic 2013 Fig. 5 (M = 1e9): simultaneous cures 26.3% with n12 = 1 and 99.9% with
    n12 = 0; sequential fails in all lesions either way."""
    sc = ev.read_scenario(ROOT / "examples" / "evolution" / "bozic2013.yaml")
    res = ev.simulate(sc, patients=20_000, seed=2013)
    assert res.method == "hybrid"
    p, n = share(res, "simultaneous", "outcome", "cured")
    assert near(p, n, ev.p_cure_dual(1e9, 1e-9, 0.14, 0.13, 0.17, 50, 50, 1))
    assert abs(p - 0.263) < 0.01
    assert share(res, "sequential", "outcome", "cured")[0] == 0.0
    data = sc.model_dump(by_alias=True)
    data["mutations"] = [
        m for m in data["mutations"] if not (m["from"] == "sensitive" and m["to"] == "r12")
    ]
    for m in data["mutations"]:
        if m["to"] == "r12":
            m["rate"] = 5.0e-8
    res0 = ev.simulate(data, patients=20_000, seed=2013)
    p0, n0 = share(res0, "simultaneous", "outcome", "cured")
    assert near(p0, n0, ev.p_cure_dual(1e9, 1e-9, 0.14, 0.13, 0.17, 50, 50, 0))
    assert p0 > 0.998 and share(res0, "sequential", "outcome", "cured")[0] == 0.0


def test_degenerate_scenarios_are_labelled() -> None:
    sc = one_drug(1e3, 0.0)
    sc["regimens"]["none"] = [{"drugs": []}]
    sc["mutations"] = []
    res = ev.simulate(sc, patients=200, seed=1, method="exact")
    summary = res["summary"].set_index("regimen")
    assert summary.loc["mono", "p_cure"] == 1.0 and math.isnan(summary.loc["mono", "median_ttp"])
    assert summary.loc["none", "p_progression"] == 1.0
    assert summary.loc["mono", "p_resistance_at_start"] == 0.0
    short = one_drug(1e3, 1e-2)
    short["horizon"] = 0.5
    out = ev.simulate(short, patients=100, seed=1, method="hybrid")
    assert set(out["patients"]["outcome"]) == {"ongoing"}
    comp = out["composition"]
    assert comp["progressed_patients"].eq(0).all() and comp["share_drove"].isna().all()


def test_hybrid_shortcuts_agree_with_the_event_queue() -> None:
    """The superposition shortcuts (before treatment without back-mutation into sensitive;
    clones of terminal types by batch during treatment) and the general event queue draw
    from the same law."""
    from trkres.models.evolution.run import _transient
    from trkres.models.evolution.scenario import compile_scenario, scenario_from
    from trkres.models.evolution.simulate import _block

    c = compile_scenario(scenario_from(two_drugs(1e6, 2e-6, 2e-7))[0])
    tm = _transient(c)
    fast = _block(c, "hybrid", 5, 0, 20_000, tm, True, True)
    slow = _block(c, "hybrid", 6, 0, 20_000, tm, False, False)
    for r in range(2):
        pf, ps = (fast.outcome[:, r] == 0).mean(), (slow.outcome[:, r] == 0).mean()
        se = math.sqrt((pf * (1 - pf) + ps * (1 - ps)) / 20_000 + 1e-12)
        assert abs(pf - ps) <= K * se + 1e-4
        tf, ts = fast.ttp[:, r], slow.ttp[:, r]
        assert stats.ks_2samp(tf[np.isfinite(tf)], ts[np.isfinite(ts)]).pvalue > 1e-3
