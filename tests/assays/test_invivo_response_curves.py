"""Per-mouse exponential and Gompertz growth fits (trkres.assays.invivo.curves)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from trkres.assays.invivo.curves import gompertz_log, per_mouse_growth
from trkres.errors import InputError

DAYS = np.array([0, 3, 7, 10, 14, 17, 21, 24, 28, 31, 35.0])


def gompertz_frame(params: list[tuple[float, float, float]], noise: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for i, (v0, a, b) in enumerate(params):
        y = gompertz_log(DAYS, math.log(v0), a, b) + noise * rng.standard_normal(DAYS.size)
        rows += [(f"m{i}", "arm", d, math.exp(v)) for d, v in zip(DAYS, y, strict=True)]
    return pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"])


def test_exponential_is_ols_on_log_volume() -> None:
    df = gompertz_frame([(80.0, 0.15, 0.03), (120.0, 0.08, 0.0)], noise=0.1)
    fit = per_mouse_growth(df, "exponential").set_index("mouse_id")
    for mouse, g in df.groupby("mouse_id"):
        ols = sm.OLS(np.log(g["volume"].to_numpy()), sm.add_constant(g["day"].to_numpy())).fit()
        row = fit.loc[mouse]
        assert row["a"] == pytest.approx(ols.params[1], rel=1e-10)
        assert row["a_se"] == pytest.approx(ols.bse[1], rel=1e-8)
        assert math.log(row["v0"]) == pytest.approx(ols.params[0], rel=1e-10)
        assert row["v0_se"] == pytest.approx(row["v0"] * ols.bse[0], rel=1e-8)
        assert row["rss"] == pytest.approx(ols.ssr, rel=1e-8)
        n = len(g)
        assert row["aic"] == pytest.approx(n * math.log(ols.ssr / n) + 4, rel=1e-10)
        assert row["doubling_time"] == pytest.approx(math.log(2) / ols.params[1])
        assert row["converged"] and math.isnan(row["b"])


def test_gompertz_recovers_exact_parameters() -> None:
    truth = [(80.0, 0.25, 0.06), (150.0, 0.12, 0.02), (60.0, 0.4, 0.15)]
    fit = per_mouse_growth(gompertz_frame(truth), "gompertz")
    for (v0, a, b), (_, row) in zip(truth, fit.iterrows(), strict=True):
        assert row["converged"]
        assert row["v0"] == pytest.approx(v0, rel=1e-6)
        assert row["a"] == pytest.approx(a, rel=1e-6)
        assert row["b"] == pytest.approx(b, rel=1e-5)
        assert row["rss"] < 1e-12


def test_gompertz_with_noise_beats_exponential_on_a_plateau() -> None:
    df = gompertz_frame([(80.0, 0.3, 0.1)], noise=0.05)
    g = per_mouse_growth(df, "gompertz").iloc[0]
    e = per_mouse_growth(df, "exponential").iloc[0]
    assert g["aic"] < e["aic"]
    assert g["b"] == pytest.approx(0.1, abs=3 * g["b_se"])
    # The SEs are s^2 (J'J)^-1 at the optimum: check against a finite-difference Jacobian.
    t, y = DAYS, np.log(df["volume"].to_numpy())
    p = np.array([math.log(g["v0"]), g["a"], g["b"]])
    assert g["rss"] == pytest.approx(float(np.sum((gompertz_log(t, *p) - y) ** 2)), rel=1e-9)
    h = 1e-6
    jac = np.column_stack(
        [
            (gompertz_log(t, *(p + h * np.eye(3)[k])) - gompertz_log(t, *(p - h * np.eye(3)[k])))
            / (2 * h)
            for k in range(3)
        ]
    )
    cov = np.linalg.inv(jac.T @ jac) * g["rss"] / (t.size - 3)
    assert g["a_se"] == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-4)
    assert g["b_se"] == pytest.approx(math.sqrt(cov[2, 2]), rel=1e-4)


def test_failures_are_labelled_not_raised() -> None:
    df = pd.DataFrame(
        {
            "mouse_id": [
                "one",
                "two",
                "two",
                "zeros",
                "zeros",
                "zeros",
                "flat",
                "flat",
                "flat",
                "flat",
                "flat",
            ],
            "arm": "x",
            "day": [0, 0, 5, 0, 5, 9, 0, 3, 6, 9, 12.0],
            "volume": [50, 50, 80, 50, 0, 0, 70, 70, 70, 70, 70.0],
        }
    )
    e = per_mouse_growth(df, "exponential").set_index("mouse_id")
    assert not e.loc["one", "converged"] and "too few" in e.loc["one", "note"]
    assert e.loc["two", "converged"] and math.isnan(e.loc["two", "a_se"])
    assert not e.loc["zeros", "converged"] and "2 zero volume(s)" in e.loc["zeros", "note"]
    assert e.loc["flat", "a"] == 0 and e.loc["flat", "doubling_time"] == math.inf
    g = per_mouse_growth(df, "gompertz").set_index("mouse_id")
    assert not g.loc[["one", "two", "zeros"], "converged"].any()
    assert g.loc[["one", "two", "zeros"], "note"].str.contains("too few").all()
    assert "singular" in g.loc["flat", "note"] and math.isnan(g.loc["flat", "a_se"])
    with pytest.raises(InputError):
        per_mouse_growth(df, "logistic")  # type: ignore[arg-type]


def test_200_mice_converge(shared_data: Path) -> None:
    rng = np.random.default_rng(1)
    days = np.arange(15) * 2.5
    rows = []
    for m in range(200):
        a, b = rng.uniform(0.1, 0.3), rng.uniform(0.0, 0.1)
        y = gompertz_log(days, math.log(rng.uniform(50, 150)), a, b) + rng.normal(0, 0.1, 15)
        rows += [(f"m{m}", f"arm{m % 4}", d, math.exp(v)) for d, v in zip(days, y, strict=True)]
    df = pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"])
    e = per_mouse_growth(df, "exponential")
    g = per_mouse_growth(df, "gompertz")
    assert e["converged"].all() and g["converged"].mean() > 0.95
    mel = pd.read_csv(shared_data / "invivo" / "tumr" / "melanoma1.csv").rename(
        columns={"ID": "mouse_id", "Day": "day", "Volume": "volume", "Treatment": "arm"}
    )
    fit = per_mouse_growth(mel, "gompertz")
    assert len(fit) == mel["mouse_id"].nunique()
    # Untreated (A) tumours grow; fits converge there.
    assert fit[fit["arm"] == "A"]["converged"].all()
    assert (per_mouse_growth(mel)[lambda f: f["arm"] == "A"]["a"] > 0).all()
