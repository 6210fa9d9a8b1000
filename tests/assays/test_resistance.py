"""Resistant vs parental comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trkres.assays.doseresponse.resistance import compare_conditions

DOSES = np.logspace(-10, -5, 9)


def lines(shift: float, seed: int = 0, bottom_b: float = 0.05) -> pd.DataFrame:
    """Parental IC50 2 nM; resistant shifted by ``shift`` log units (Drilon 2016: 2 -> 507 nM)."""
    rng = np.random.default_rng(seed)
    rows = []
    for line, lic, bottom in (
        ("parental", np.log10(2e-9), 0.05),
        ("resistant", np.log10(2e-9) + shift, bottom_b),
    ):
        for _ in range(3):
            y = (
                bottom
                + (1 - bottom) / (1 + 10 ** ((lic - np.log10(DOSES)) * -1.0))
                + rng.normal(0, 0.02, 9)
            )
            rows += [("entrectinib", line, d, v) for d, v in zip(DOSES, y, strict=True)]
    return pd.DataFrame(rows, columns=["drug", "line", "dose_molar", "response"])


def test_large_shift_is_resistant() -> None:
    shift = np.log10(507 / 2)
    out = compare_conditions(lines(shift), condition="line", reference="parental", by=["drug"])
    row = out.iloc[0]
    assert row["fold_change"] == pytest.approx(253.5, rel=0.25)
    assert row["fold_ci_low"] < row["fold_change"] < row["fold_ci_high"]
    assert row["resistant"] and row["p_shared_ic50"] < 1e-6


def test_no_shift_is_not_resistant() -> None:
    out = compare_conditions(
        lines(0.0, seed=2), condition="line", reference="parental", by=["drug"]
    )
    row = out.iloc[0]
    assert not row["resistant"] and row["fold_ci_low"] < 1 < row["fold_ci_high"]
    assert row["p_shared_ic50"] > 0.01


def test_emax_shift_is_reported_apart() -> None:
    out = compare_conditions(
        lines(0.0, seed=3, bottom_b=0.5), condition="line", reference="parental", by=["drug"]
    )
    assert out.iloc[0]["emax_shift"] == pytest.approx(0.45, abs=0.05)


def _series_rows(
    levels: dict[object, float], key: str, seed: int, **extra: object
) -> list[dict[str, object]]:
    from trkres.assays.doseresponse.reference import four_pl

    rng = np.random.default_rng(seed)
    doses = np.logspace(-10, -5, 9)
    rows: list[dict[str, object]] = []
    for value, log_ic50 in levels.items():
        for _ in range(3):
            y = four_pl(np.log10(doses), log_ic50, -1.2, 1.0, 0.05) + rng.normal(0, 0.03, 9)
            rows += [
                {key: value, "dose_molar": d, "response": v, **extra}
                for d, v in zip(doses, y, strict=True)
            ]
    return rows


def test_escalation_is_established_where_it_stays_above_threshold() -> None:
    from trkres.assays.doseresponse.escalation import track_escalation
    from trkres.pl.doseresponse import escalation_figure

    # A jump at week 4 that falls back, then a lasting rise from week 8.
    weeks = {0: -8.7, 2: -8.5, 4: -7.4, 6: -8.4, 8: -7.3, 10: -7.0}
    s = track_escalation(
        pd.DataFrame(_series_rows(weeks, "week", 2, drug="entrectinib")), time="week", by=["drug"]
    )
    assert s["fold_change"].iloc[0] == 1.0
    assert s.loc[s["week"] == 4, "fold_change"].iloc[0] > 10  # the transient jump …
    assert s["established_at"].iloc[0] == 8  # … does not establish resistance
    assert (
        s.loc[s["week"] >= 8, "established"].all() and not s.loc[s["week"] < 8, "established"].any()
    )
    fig = escalation_figure(s, time="week", by=["drug"])
    assert fig.name == "dose_escalation"


def test_pooled_fold_change_has_a_random_effect_for_experiment() -> None:
    from trkres.assays.doseresponse.resistance import pool_experiments

    rows = []
    shifts = [2.0, 2.3, 1.7, 2.1]
    for e, shift in enumerate(shifts):
        rows += _series_rows(
            {"parental": -8.7, "resistant": -8.7 + shift},
            "line",
            10 + e,
            experiment=f"e{e}",
            drug="x",
        )
    pooled, per = pool_experiments(pd.DataFrame(rows), condition="line", reference="parental",
                                   experiment="experiment", by=["drug"])  # fmt: skip
    assert len(per) == 4
    row = pooled.iloc[0]
    assert row["n_experiments"] == 4 and row["resistant"]
    assert row["fold_change"] == pytest.approx(10 ** np.mean(shifts), rel=0.15)
    # The between-experiment spread is larger than any one experiment's CI: τ² > 0 widens the pooled CI.
    assert row["tau2"] > 0
    widest_single = (np.log10(per["fold_ci_high"]) - np.log10(per["fold_ci_low"])).max()
    assert np.log10(row["fold_ci_high"]) - np.log10(row["fold_ci_low"]) > widest_single


def test_escalation_and_pooled_resistance_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trkres.cli import app

    esc = pd.DataFrame(
        _series_rows({0: -8.7, 3: -8.4, 6: -7.2, 9: -7.0}, "passage", 4, drug="laro")
    )
    esc = esc.assign(dose=esc["dose_molar"] * 1e9, unit="nM").drop(columns="dose_molar")
    esc.to_csv(tmp_path / "esc.tsv", sep="\t", index=False)
    r = CliRunner().invoke(app, ["escalation", str(tmp_path / "esc.tsv"), "--time", "passage", "--by", "drug",
                                 "-o", str(tmp_path / "e")])  # fmt: skip
    assert r.exit_code == 0, r.output
    series = pd.read_csv(tmp_path / "e" / "escalation.tsv", sep="\t")
    assert series["established_at"].iloc[0] == 6
    assert (tmp_path / "e" / "figures" / "dose_escalation.svg").exists()
    rows = []
    for e, shift in enumerate([1.8, 2.2]):
        rows += _series_rows(
            {"parental": -8.7, "resistant": -8.7 + shift}, "line", 20 + e, plate=f"p{e}", drug="x"
        )
    res = (
        pd.DataFrame(rows)
        .assign(dose=lambda f: f["dose_molar"], unit="M")
        .drop(columns="dose_molar")
    )
    res.to_csv(tmp_path / "res.tsv", sep="\t", index=False)
    r = CliRunner().invoke(app, ["resistance", str(tmp_path / "res.tsv"), "--by", "drug", "--experiment", "plate",
                                 "-o", str(tmp_path / "r")])  # fmt: skip
    assert r.exit_code == 0, r.output
    pooled = pd.read_csv(tmp_path / "r" / "resistance_pooled.tsv", sep="\t")
    assert pooled["n_experiments"].iloc[0] == 2 and pooled["fold_change"].iloc[0] > 10
    assert (tmp_path / "r" / "figures" / "dose_response_forest.svg").exists()


def test_shared_ic50_test_is_deterministic_and_matches_an_independent_bounded_fit() -> None:
    """The joint fit gives the same bits however the heap looks (MINPACK's lm did not), and
    its F equals one assembled from scipy's curve_fit on the same bounded joint model."""
    from scipy.optimize import curve_fit

    from trkres.assays.doseresponse.curvefit import fit_curves
    from trkres.assays.doseresponse.resistance import _bounds, shared_ic50_test

    data = lines(np.log10(507 / 2), seed=5)
    data["curve_id"] = data["line"]
    fits = fit_curves(data).set_index("curve_id")
    a, b = data[data["line"] == "parental"], data[data["line"] == "resistant"]
    fa, fb = fits.loc["parental"], fits.loc["resistant"]
    got = set()
    for size in (1, 1000, 77, 5000):
        _churn = [np.empty(size) for _ in range(4)]
        got.add(shared_ic50_test(a, b, fa, fb))
    assert len(got) == 1
    f, p = got.pop()

    xa, xb = np.log10(a["dose_molar"].to_numpy()), np.log10(b["dose_molar"].to_numpy())
    x = np.concatenate([xa, xb])
    y = np.concatenate([a["response"].to_numpy(), b["response"].to_numpy()])
    first = np.arange(len(x)) < len(xa)

    def joint(_: np.ndarray, lic: float, ha: float, ta: float, ba: float, hb: float,
              tb: float, bb: float) -> np.ndarray:  # fmt: skip
        h, t, bo = np.where(first, ha, hb), np.where(first, ta, tb), np.where(first, ba, bb)
        return bo + (t - bo) / (1 + 10 ** ((lic - x) * h))

    lo_a, hi_a = _bounds(xa, a["response"].to_numpy(), float(fa["hill_slope"]))
    lo_b, hi_b = _bounds(xb, b["response"].to_numpy(), float(fb["hill_slope"]))
    lo = [max(lo_a[0], lo_b[0]), *lo_a[1:], *lo_b[1:]]
    hi = [min(hi_a[0], hi_b[0]), *hi_a[1:], *hi_b[1:]]
    p0 = np.clip([(fa["log10_ic50"] + fb["log10_ic50"]) / 2, fa["hill_slope"], fa["top"],
                  fa["bottom"], fb["hill_slope"], fb["top"], fb["bottom"]], lo, hi)  # fmt: skip
    popt, _ = curve_fit(joint, x, y, p0=p0, bounds=(lo, hi), method="trf", max_nfev=20000,
                        ftol=1e-14, xtol=1e-14, gtol=1e-14)  # fmt: skip
    sse_shared = float(np.sum((y - joint(x, *popt)) ** 2))
    dof = len(x) - 8
    sse_sep = float(fa["sse"] + fb["sse"])
    expected = (sse_shared - sse_sep) / (sse_sep / dof)
    assert f == pytest.approx(expected, rel=1e-4)
    assert 0 < p < 1e-6
