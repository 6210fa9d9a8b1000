"""The in vivo analysis end to end: run_invivo, the CLI, the study section and tr.invivo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import trkres as tr
from support import EXAMPLE, write_study
from trkres.assays.invivo.options import InvivoOptions
from trkres.assays.invivo.run import run_invivo
from trkres.cli import app
from trkres.errors import InputError, TrkresError

XENOGRAFT = EXAMPLE / "lab" / "xenograft_larotrectinib_trametinib.csv"
#: Mean growth rates (1/day) the example was simulated with (lab/simulate_xenograft.py).
SIMULATED = {
    "Vehicle": 0.11,
    "Larotrectinib": 0.10,
    "Trametinib": 0.07,
    "Larotrectinib+Trametinib": -0.02,
}


@pytest.fixture(scope="module")
def example() -> tr.invivo.InvivoResult:
    return run_invivo(XENOGRAFT)


def test_example_design_is_found_from_the_arm_names_and_said(
    example: tr.invivo.InvivoResult,
) -> None:
    assert example.design.control == "Vehicle"
    assert example.design.combination == "Larotrectinib+Trametinib"
    assert example.design.drugs == ("Larotrectinib", "Trametinib")
    assert any("control arm: 'Vehicle'" in n for n in example.notes)
    assert any("length · width² / 2" in n for n in example.notes)


def test_example_slopes_recover_the_simulated_rates(example: tr.invivo.InvivoResult) -> None:
    growth = example["growth_model"].set_index("arm")
    for arm, rate in SIMULATED.items():
        row = growth.loc[arm]
        assert row["slope_ci_low"] - 0.02 < rate < row["slope_ci_high"] + 0.02, arm
        assert row["n_mice"] == 8
    # the combination shrinks tumours; vehicle grows fastest
    assert growth.loc["Larotrectinib+Trametinib", "slope"] < 0 < growth.loc["Vehicle", "slope"]


def test_example_tables_and_accounting(example: tr.invivo.InvivoResult) -> None:
    for name in ("mrecist", "mrecist_distribution", "tgi", "curves", "growth_model", "contrasts",
                 "synergy", "survival", "km", "issues"):  # fmt: skip
        assert name in example, name
    assert example.rows_in == len(example.volumes) + len(example.issues)
    mrecist = example["mrecist"].set_index("mouse_id")
    assert set(mrecist["mrecist"]) <= {"CR", "PR", "SD", "PD", "NE"}
    combo = mrecist[mrecist["arm"] == "Larotrectinib+Trametinib"]["mrecist"]
    vehicle = mrecist[mrecist["arm"] == "Vehicle"]["mrecist"]
    assert (vehicle == "PD").all() and not (combo == "PD").all()
    syn = example["synergy"]
    assert {"method", "time", "combination_index", "ci_low", "ci_high", "synergy_score",
            "p_value"} <= set(syn.columns)  # fmt: skip
    assert set(syn["method"]) == {"bliss", "hsa", "ra"}
    ok = syn.dropna(subset=["combination_index"])
    assert (
        (ok["ci_low"] <= ok["combination_index"]) & (ok["combination_index"] <= ok["ci_high"])
    ).all()


def test_cli_writes_the_issue_s_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["invivo", str(XENOGRAFT), "-o", str(out), "--variance", "arm"]
    )
    assert result.exit_code == 0, result.output
    for name in ("growth_model.tsv", "model.json", "synergy.tsv", "mrecist.tsv", "tgi.tsv",
                 "survival.tsv", "issues.tsv"):  # fmt: skip
        assert (out / name).is_file(), name
    model = json.loads((out / "model.json").read_text())
    assert model["model"]["variance"] == "arm"
    assert {"loglik", "aic", "bic"} <= set(model["model"])
    growth = pd.read_csv(out / "growth_model.tsv", sep="\t")
    assert list(growth.columns[:7]) == ["arm", "slope", "slope_se", "slope_ci_low", "slope_ci_high",
                                        "n_mice", "n_observations"]  # fmt: skip
    assert (out / "figures" / "invivo_waterfall.svg").is_file()


def test_cli_bad_arm_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["invivo", str(XENOGRAFT), "-o", str(tmp_path / "o"),
                                      "--control", "Saline"])  # fmt: skip
    assert result.exit_code == 1
    message = str(result.exception)
    assert "control arm is not in the data" in message and "Vehicle" in message
    assert not (tmp_path / "o").exists()
    result = CliRunner().invoke(app, ["invivo", str(XENOGRAFT), "-o", str(tmp_path / "o"),
                                      "--drug-a", "Larotrectinib"])  # fmt: skip
    assert result.exit_code == 1
    assert "drug_a, drug_b and combination together" in str(result.exception)


def test_api_with_a_frame_and_options() -> None:
    df = pd.read_csv(XENOGRAFT)
    res = tr.invivo.analyze(df, control="Vehicle", variance="time-power", synergy_methods=["bliss"])
    assert res.fit is not None and res.fit.variance == "time-power"
    assert set(res["synergy"]["method"]) == {"bliss"}
    with pytest.raises(InputError, match="bad option variance"):
        tr.invivo.analyze(df, variance="exp")
    with pytest.raises(InputError, match="unknown option"):
        tr.invivo.analyze(df, contrl="Vehicle")


def test_study_section_runs_with_the_example(tmp_path: Path) -> None:
    manifest = "name: mice\ninputs:\n  - {kind: tumour_volumes, path: x.csv}\n"
    folder = write_study(tmp_path / "s", manifest, {"x.csv": XENOGRAFT.read_text()})
    result = tr.study.run(folder)
    assert "invivo_growth_model" in result.tables
    assert "invivo_mrecist" in result.tables


def test_real_tumr_melanoma1_2x2_in_the_report(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "invivo" / "tumr" / "melanoma1.csv"
    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(src, folder / "melanoma1.csv")
    write_study(folder, "name: tumr melanoma1, A375, vemurafenib x BSO\n"
                "inputs:\n  - {kind: tumour_volumes, path: melanoma1.csv}\n"
                "options:\n  invivo: {control: A, drug_a: B, drug_b: C, combination: D, variance: arm}\n")  # fmt: skip
    result = tr.study.run(folder)
    growth = result.tables["invivo_growth_model"]
    assert set(growth["arm"]) == {"A", "B", "C", "D"}
    assert len(result.tables["invivo_synergy"])
    result.write(tmp_path / "report")
    html = (tmp_path / "report" / "index.html").read_text()
    assert "In vivo tumour growth" in html


def test_real_xeva_pdxe(shared_data: Path) -> None:
    res = run_invivo(shared_data / "invivo" / "xeva_pdxe" / "experiments.csv",
                     InvivoOptions(control="untreated"))  # fmt: skip
    assert set(res["growth_model"]["arm"]) == {"binimetinib", "untreated"}
    assert res["tgi"]["arm"].tolist() == ["binimetinib"]


names = st.sampled_from(["Vehicle", "Trametinib", "nope", "", None, 3])


@settings(max_examples=40)
@given(control=names, variance=st.sampled_from(["none", "arm", "bad", None]),
       fold=st.one_of(st.none(), st.floats(allow_nan=True)), frame_kind=st.integers(0, 3))  # fmt: skip
def test_fuzz_api_only_trkres_errors(
    control: object, variance: object, fold: object, frame_kind: int
) -> None:
    df = pd.read_csv(XENOGRAFT).head(60)
    frames: list[object] = [df, df.drop(columns="arm"), df.assign(day="x"), "no/such/file.csv"]
    kwargs = {k: v for k, v in (("control", control), ("variance", variance), ("endpoint_fold", fold))
              if v is not None}  # fmt: skip
    try:
        res = tr.invivo.analyze(frames[frame_kind], **kwargs)  # type: ignore[arg-type]
    except TrkresError:
        return
    assert res.rows_in == len(res.volumes) + len(res.issues)
    assert np.isfinite(res.volumes["volume"]).all()


def test_api_parts_take_raw_frames_and_agree_with_analyze(example: tr.invivo.InvivoResult) -> None:
    df = pd.read_csv(XENOGRAFT)
    metrics = tr.invivo.mouse_metrics(df)
    pd.testing.assert_frame_equal(metrics, example["mrecist"])
    fit = tr.invivo.fit_growth(df)
    assert np.allclose(fit.table()["slope"], example["growth_model"]["slope"])
    bliss = tr.invivo.synergy_over_time(df, control="Vehicle", drug_a="Larotrectinib", drug_b="Trametinib",
                                        combination="Larotrectinib+Trametinib", methods="bliss")  # fmt: skip
    full = example["synergy"][example["synergy"]["method"] == "bliss"].reset_index(drop=True)
    assert np.allclose(bliss["combination_index"], full["combination_index"], equal_nan=True)
    power = tr.invivo.posthoc_power(df, control="Vehicle", drug_a="Larotrectinib", drug_b="Trametinib",
                                    combination="Larotrectinib+Trametinib", nsim=20)  # fmt: skip
    assert 0 <= power.power <= 1 and 0 <= power.analytic_power <= 1
    with pytest.raises(InputError, match="not in the data"):
        tr.invivo.synergy_over_time(df, control="Vehicle", drug_a="Lar", drug_b="Trametinib",
                                    combination="Larotrectinib+Trametinib")  # fmt: skip


def test_planning_power_grows_with_mice() -> None:
    design = {"times": [0, 3, 7, 10, 14], "tau": 0.02, "sigma": 0.1, "control": "V", "drug_a": "A",
              "drug_b": "B", "combination": "AB",
              "slopes": {"V": 0.1, "A": 0.08, "B": 0.08, "AB": 0.02}}  # fmt: skip
    small = tr.invivo.apriori_power(n_mice_per_arm=3, simulate=False, **design).analytic_power
    large = tr.invivo.apriori_power(n_mice_per_arm=12, simulate=False, **design).analytic_power
    assert small < large
    n, table = tr.invivo.mice_per_arm(0.8, **design)
    assert table["analytic_power"].is_monotonic_increasing
    assert n == int(table.loc[table["analytic_power"] >= 0.8, "n_mice_per_arm"].min())


def test_notebook_plots_draw_on_given_axes(example: tr.invivo.InvivoResult) -> None:
    from matplotlib.figure import Figure

    fig = Figure()
    for name in ("invivo_spider", "invivo_growth", "invivo_waterfall", "invivo_model",
                 "invivo_synergy", "invivo_survival"):  # fmt: skip
        ax = fig.add_subplot()
        assert getattr(tr.pl, name)(example, ax=ax) is ax
        assert ax.has_data(), name
        fig.clear()
    pair = fig.subplots(1, 2)
    tr.pl.invivo_diagnostics(example, ax=pair)
    assert pair[0].has_data() and pair[1].has_data()
    with pytest.raises(InputError, match="two axes"):
        tr.pl.invivo_diagnostics(example, ax=pair[0])


def test_zero_volumes_after_baseline_are_warned_or_floored(shared_data: Path) -> None:
    path = shared_data / "invivo" / "tumr" / "melanoma1.csv"
    arms = {"control": "A", "drug_a": "B", "drug_b": "C", "combination": "D"}
    res = run_invivo(path, InvivoOptions(**arms))
    assert any("left out of the growth model" in w for w in res.warnings)
    assert set(res["model_excluded"]["arm"]) <= {"B", "D"} and len(res["model_excluded"]) > 100
    floored = run_invivo(path, InvivoOptions(**arms, zero_volumes="floor"))
    assert not floored.warnings or not any("left out" in w for w in floored.warnings)
    before = res["growth_model"].set_index("arm")
    after = floored["growth_model"].set_index("arm")
    gone = res["model_excluded"]["arm"].value_counts()
    for arm in ("B", "D"):  # the vanished tumours now count
        assert after.loc[arm, "n_observations"] == before.loc[arm, "n_observations"] + gone[arm]
    assert after.loc["A", "n_observations"] == before.loc["A", "n_observations"]
    assert any("set to" in n for n in floored.notes)


def test_options_errors_name_what_is_missing() -> None:
    with pytest.raises(InputError) as err:
        tr.invivo.analyze(XENOGRAFT, combination="Larotrectinib+Trametinib")
    assert "missing drug_a, drug_b" in str(err.value)
    with pytest.raises(InputError, match="time_start 10, time_end 5"):
        tr.invivo.analyze(XENOGRAFT, time_start=10, time_end=5)
    with pytest.raises(InputError, match="bad design"):
        tr.invivo.apriori_power(n_mice_per_arm=3)
    with pytest.raises(InputError, match="alpha"):
        tr.invivo.posthoc_power(XENOGRAFT, control="Vehicle", drug_a="Larotrectinib",
                                drug_b="Trametinib", combination="Larotrectinib+Trametinib", alpha=2)  # fmt: skip


def test_two_experiments_in_one_study_are_labelled_by_input_id(tmp_path: Path) -> None:
    text = XENOGRAFT.read_text()
    manifest = ("name: two\ninputs:\n  - {id: pdx1, kind: tumour_volumes, path: a/vol.csv}\n"
                "  - {id: pdx2, kind: tumour_volumes, path: b/vol.csv}\n")  # fmt: skip
    # Two experiments (other mice, other files: one file twice is refused by the manifest).
    second = text.replace("M1", "N1")
    assert second != text
    folder = write_study(tmp_path / "s", manifest, {"a/vol.csv": text, "b/vol.csv": second})
    result = tr.study.run(folder)
    assert set(result.tables["invivo_growth_model"]["experiment"]) == {"pdx1", "pdx2"}
    bad = ("name: two\ninputs:\n  - {id: pdx1, kind: tumour_volumes, path: a/vol.csv}\n"
           "  - {id: other, kind: tumour_volumes, path: b/vol.csv}\n"
           "options:\n  invivo: {control: Vehicle}\n")  # fmt: skip
    other = "mouse_id,arm,day,volume\nm,Saline,0,1\nm,Saline,3,2\n"
    folder = write_study(tmp_path / "t", bad, {"a/vol.csv": text, "b/vol.csv": other})
    with pytest.raises(InputError, match="in vivo input 'other'"):
        tr.study.run(folder)


def test_fit_growth_keeps_a_mouse_with_one_volume_after_baseline_as_analyze_does() -> None:
    """min_observations counts the baseline in fit_growth as in analyze (and SynergyLMM's
    lmmModel): a mouse measured at baseline and once after it is modelled. fit_growth had
    passed the model its own default (2 rows after the baseline) and dropped such mice:
    on the SynergyLMM U87MG data, a whole arm."""
    rng = np.random.default_rng(3)
    rows = []
    for arm, slope in (("Vehicle", 0.3), ("Drug", 0.1)):
        for m in range(4):
            days = [0, 3] if m == 0 else [0, 3, 7, 10]  # the first mouse of each arm: 2 volumes
            b = slope + rng.normal(0, 0.03)
            for d in days:
                vol = 100 * np.exp(b * d + (rng.normal(0, 0.1) if d else 0.0))
                rows.append({"mouse_id": f"{arm}{m}", "arm": arm, "day": d, "volume": vol})
    df = pd.DataFrame(rows)
    fit = tr.invivo.fit_growth(df)
    assert fit.n_mice == {"Vehicle": 4, "Drug": 4}
    res = tr.invivo.analyze(df, influence="no")
    assert res.fit is not None
    np.testing.assert_allclose(fit.beta, res.fit.beta, rtol=1e-12)
    np.testing.assert_allclose(fit.cov, res.fit.cov, rtol=1e-12)
    assert tr.invivo.fit_growth(df, min_observations=3).n_mice == {"Vehicle": 3, "Drug": 3}
