"""Round 3 of hostile input for dose-response: fold-resistance statistics under the 3pl
and 2pl models, groups without the reference, responses in percent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import trkres as tr
from trkres.assays.doseresponse.reference import four_pl
from trkres.errors import InputError

DOSES_NM = [0.0, 10.0, 100.0, 1000.0, 10000.0]


def _curve(log_ic50: float, seed: int, *, top: float = 1.0, noise: float = 0.05,
           doses: list[float] = DOSES_NM, **labels: str) -> pd.DataFrame:  # fmt: skip
    rng = np.random.default_rng(seed)
    x = np.log10(np.asarray(doses) * 1e-9, where=np.asarray(doses) > 0,
                 out=np.full(len(doses), -np.inf))  # fmt: skip
    y = np.where(np.isfinite(x), four_pl(x, log_ic50, -1.0, top, 0.0), top)
    return pd.DataFrame(
        {"dose": doses, "response": y + rng.normal(0, noise * top, len(doses)), **labels}
    )


def _pair(doses: list[float] = DOSES_NM) -> pd.DataFrame:
    return pd.concat([_curve(-8.0, 1, drug="X", line="parental", doses=doses),
                      _curve(-6.5, 2, drug="X", line="R1", doses=doses)], ignore_index=True)  # fmt: skip


@pytest.mark.parametrize(("model", "k"), [("4pl", 4), ("3pl", 3), ("2pl", 2)])
def test_fold_ci_uses_each_fits_own_degrees_of_freedom(model: str, k: int) -> None:
    """The fold CI rebuilds each LogIC50 SE from its 95% CI on the fit's n − k df (k = 3
    for 3pl, 2 for 2pl); n − 4 for every model made 3pl/2pl fold CIs too narrow."""
    df = _pair()
    fits = tr.doseresponse.fit(df, model=model, group=["drug", "line"], dose_unit="nM")
    res = tr.doseresponse.compare(df, dose_unit="nM", model=model)
    f = fits.set_index("curve_id")
    par, r1 = f.loc["X | parental"], f.loc["X | R1"]
    se = [(g["log10_ic50_ci_high"] - g["log10_ic50"]) / stats.t.ppf(0.975, g["n_points"] - k)
          for g in (par, r1)]  # fmt: skip
    log_fc = r1["log10_ic50"] - par["log10_ic50"]
    half = stats.norm.ppf(0.975) * float(np.hypot(*se))
    row = res.iloc[0]
    assert row["fold_ci_low"] == pytest.approx(10 ** (log_fc - half), rel=1e-6)
    assert row["fold_ci_high"] == pytest.approx(10 ** (log_fc + half), rel=1e-6)


@pytest.mark.parametrize("model", ["3pl", "2pl"])
def test_shared_ic50_f_test_is_nested_in_the_fitted_model(model: str) -> None:
    """Under 3pl/2pl the shared-LogIC50 model keeps Top = 1 (and Bottom = 0): the F-test
    compares nested models with 1 and n − 2k df. The old test refitted free 4pl curves
    against the constrained separate fits (not nested, n − 8 df)."""
    from scipy.optimize import curve_fit

    df = _pair([0.0, *np.logspace(-1, 4, 11)])  # a well-determined design: one minimum
    res = tr.doseresponse.compare(df, dose_unit="nM", model=model)
    fits = tr.doseresponse.fit(df, model=model, group=["drug", "line"], dose_unit="nM")
    k = {"3pl": 3, "2pl": 2}[model]
    # Independent shared fit with scipy: one LogIC50, per-curve slope (and Bottom for 3pl).
    data = tr.doseresponse.prepare(df, group=["drug", "line"], dose_unit="nM")
    dose = data["dose_molar"].to_numpy()
    x = np.log10(np.where(dose > 0, dose, 1e-30))  # vehicle: far below, the zero-dose limit
    y = data["response"].to_numpy()
    b = (data["line"] == "R1").to_numpy()

    def shared(_: np.ndarray, *p: float) -> np.ndarray:
        bot = (p[3], p[4]) if k == 3 else (0.0, 0.0)
        out = np.empty(len(x))
        for sel, h, bt in ((~b, p[1], bot[0]), (b, p[2], bot[1])):
            with np.errstate(over="ignore"):
                out[sel] = bt + (1 - bt) / (1 + 10 ** ((p[0] - x[sel]) * h))
        return out

    p0 = [-7.2, -1.0, -1.0, *([0.0, 0.0] if k == 3 else [])]
    p, _ = curve_fit(shared, x, y, p0=p0, maxfev=20000)
    sse_shared = float(np.sum((y - shared(x, *p)) ** 2))
    sse_sep = float(fits["sse"].sum())
    dof = len(y) - 2 * k
    f_ref = (sse_shared - sse_sep) / (sse_sep / dof)
    assert res["f_shared_ic50"].iloc[0] == pytest.approx(f_ref, rel=1e-3)
    assert res["p_shared_ic50"].iloc[0] == pytest.approx(stats.f.sf(f_ref, 1, dof), rel=1e-2)


def test_a_group_without_the_reference_is_listed_not_dropped() -> None:
    """Drug Y has no parental curve: its lines are rows with reference_status 'absent',
    no fold change and no call -- before, they vanished from the table without a word."""
    df = pd.concat([_pair(), _curve(-6.5, 3, drug="Y", line="R1"),
                    _curve(-7.0, 4, drug="Y", line="R2")], ignore_index=True)  # fmt: skip
    res = tr.doseresponse.compare(df, dose_unit="nM")
    y = res[res["group"] == "Y"].set_index("condition")
    assert sorted(y.index) == ["R1", "R2"]
    assert (y["reference_status"] == "absent").all()
    assert y["fold_change"].isna().all() and not y["resistant"].any()
    assert np.isfinite(res.loc[res["group"] == "X", "fold_change"]).all()


def test_pooled_experiments_use_the_model_asked_for() -> None:
    """With experiment=..., the per-experiment fits follow model= (they were always 4pl)."""
    parts = []
    for e, seed in (("e1", 10), ("e2", 20)):
        parts += [_curve(-8.0, seed, drug="X", line="parental", exp=e),
                  _curve(-6.5, seed + 1, drug="X", line="R1", exp=e)]  # fmt: skip
    df = pd.concat(parts, ignore_index=True)
    from trkres.assays.doseresponse.options import DoseResponseOptions
    from trkres.assays.doseresponse.run import run_compare

    opts = DoseResponseOptions(model="2pl", experiment="exp", dose_unit="nM")
    result = run_compare([df], opts)
    assert result.by_experiment is not None
    per = result.by_experiment.set_index("exp")
    for e in ("e1", "e2"):
        one = df[df["exp"] == e]
        alone = tr.doseresponse.compare(one.drop(columns="exp"), dose_unit="nM", model="2pl")
        assert per.loc[e, "fold_change"] == pytest.approx(alone["fold_change"].iloc[0], rel=1e-9)


def test_a_curve_in_percent_among_fractions_is_an_error_naming_it() -> None:
    """One curve in percent of vehicle (0-100) among fractions: before, it was fitted 'ok'
    with an absolute IC50 where the curve crosses 0.5 % and, under 3pl (Top = 1), a
    meaningless inverted fit. Now an InputError names the curve, its row and the fix."""
    df = pd.concat([_curve(-8.0, 1, drug="X", line="frac"),
                    _curve(-8.0, 2, top=100.0, drug="X", line="pct")], ignore_index=True)  # fmt: skip
    for call in (lambda: tr.doseresponse.fit(df, group=["drug", "line"], dose_unit="nM"),
                 lambda: tr.doseresponse.compare(df, dose_unit="nM", reference="frac")):  # fmt: skip
        with pytest.raises(InputError) as info:
            call()
        err = info.value
        assert "X | pct" in str(err) and "divide" in str(err)
        assert err.location is not None and err.location.row == 6  # the pct curve's first row
        assert err.location.column == "response"
    prepared = pd.DataFrame({"curve_id": "a", "dose_molar": [0.0, 1e-9, 1e-8, 1e-7, 1e-6],
                             "response": [100.0, 90.0, 50.0, 10.0, 5.0]})  # fmt: skip
    with pytest.raises(InputError, match="not fractions of vehicle"):
        tr.doseresponse.fit(prepared)


def test_fractions_with_an_outlying_well_are_still_fitted() -> None:
    """The scale check looks at each curve's median: one 5x-vehicle well is not percent."""
    df = _curve(-8.0, 1, drug="X", line="p")
    df.loc[2, "response"] = 5.0
    fits = tr.doseresponse.fit(df, group=["drug", "line"], dose_unit="nM")
    assert len(fits) == 1 and np.isfinite(fits["log10_ic50"].iloc[0])


@pytest.mark.parametrize(("metric", "value"), [("GEC50", 0.0), ("GR50", np.nan)])
def test_gr_fold_with_a_flat_or_failed_experiment_is_not_estimable(
    metric: str, value: float
) -> None:
    """A flat GR fit has GEC50 = 0 (GRmetrics' convention): log10 0 = −inf made the fold
    change 0.0 with status ok; a missing metric made it NaN with status ok."""
    from trkres.assays.doseresponse.grmetrics import compare_gr

    metrics = pd.DataFrame({"agent": "X", "cell_line": ["par"] * 3 + ["R"] * 3,
                            metric: [1e-8, 2e-8, 1.5e-8, value, 2e-6, 1.5e-6]})  # fmt: skip
    row = compare_gr(metrics, condition="cell_line", reference="par", metric=metric).iloc[0]
    assert row["status"] == "not_estimable" and np.isnan(row["fold_change"])
    metrics.loc[3, metric] = 1e-6
    row = compare_gr(metrics, condition="cell_line", reference="par", metric=metric).iloc[0]
    assert row["status"] == "ok" and row["fold_change"] == pytest.approx(100.0)


CC_TABLE = "Name\tRaw 0\tRaw 1\tRaw 2\nP1\t1.0\t0.5\t0.1\n"


@pytest.mark.parametrize(
    ("experiment", "key"),
    [
        ('doses = [0, 1, 10]\ndose_scale = "abc"\ndose_unit = "nM"', "dose_scale"),
        ('doses = [0, "x", 10]\ndose_unit = "nM"', "doses"),
        ('doses = [0, true, 10]\ndose_unit = "nM"', "doses"),
        ('doses = 5\ndose_unit = "nM"', "doses"),
        ('doses = [0, -1, 10]\ndose_unit = "nM"', "doses"),
        ('doses = [0, 1, 10]\ndose_scale = "-1"\ndose_unit = "nM"', "dose_scale"),
        ('doses = [0, 1, 10]\ndose_unit = "furlongs"', "dose_unit"),
    ],
)
def test_bad_curvecurator_parameters_are_input_errors(tmp_path: Path, experiment: str,
                                                     key: str) -> None:  # fmt: skip
    """A text dose_scale or dose, a scalar doses, a negative dose: 'internal error'
    tracebacks (ValueError, TypeError) or a silently failed fit before; now an InputError
    naming the TOML file and the key."""
    from trkres.assays.doseresponse.io import read_curvecurator

    table, toml = tmp_path / "cc.tsv", tmp_path / "cc.toml"
    table.write_text(CC_TABLE)
    toml.write_text(f"[Experiment]\n{experiment}\n")
    with pytest.raises(InputError) as info:
        read_curvecurator(table, toml)
    assert info.value.location is not None and info.value.location.file == toml
    assert info.value.location.column == key


def test_curvecurator_experiment_not_a_table_and_inf_response(tmp_path: Path) -> None:
    from trkres.assays.doseresponse.io import read_curvecurator

    table, toml = tmp_path / "cc.tsv", tmp_path / "cc.toml"
    table.write_text(CC_TABLE)
    toml.write_text("Experiment = 3\n")
    with pytest.raises(InputError, match="not a table"):
        read_curvecurator(table, toml)
    toml.write_text('[Experiment]\ndoses = [0, 1, 10]\ndose_scale = "1e-9"\n')
    frame = read_curvecurator(table, toml)
    assert frame["dose_molar"].tolist() == pytest.approx([0.0, 1e-9, 1e-8])
    table.write_text(CC_TABLE.replace("0.5", "inf"))  # inf was dropped like a missing cell
    with pytest.raises(InputError) as info:
        read_curvecurator(table, toml)
    assert info.value.location is not None and info.value.location.column == "Raw 1"


def test_scale_check_takes_the_median_of_even_sized_curves_exactly() -> None:
    """Only curves with at least half their responses above 3 get a median; a curve with
    exactly half above is judged by the mean of its two middle values."""
    from trkres.assays.doseresponse.io import _check_scale

    curve = pd.Series(["a"] * 4 + ["b"] * 4 + ["c"] * 3)
    resp = np.array([1, 2, 5, 6, 2.5, 3.2, 1, 4, 0.5, 4, 5])
    with pytest.raises(InputError, match=r"2 curve\(s\).*\(a, c\)") as info:
        _check_scale(curve, resp, np.arange(11), Path("t.tsv"), "response")
    assert info.value.found == "median 3.5 in curve a"
    _check_scale(curve[4:8], resp[4:8], np.arange(4), Path("t.tsv"), "response")  # 2.85: ok
