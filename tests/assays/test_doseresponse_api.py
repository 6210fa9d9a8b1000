"""The dose-response notebook API, the run_* functions and the study section (via the registry)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trkres as tr
from trkres.assays.doseresponse.options import DoseResponseOptions, EscalationOptions, FitOptions
from trkres.assays.doseresponse.run import run_compare, run_escalation, run_fit
from trkres.errors import InputError
from trkres.options import validate_options

EX = Path(__file__).resolve().parents[2] / "examples" / "ntrk_resistance"
VIABILITY = EX / "lab" / "viability_entrectinib.tsv"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(VIABILITY, sep="\t")


def test_api_matches_the_command_line_run(table: pd.DataFrame) -> None:
    data = tr.doseresponse.prepare(table, group=["drug", "line"])
    assert {"curve_id", "dose_molar", "response", "drug", "line"} <= set(data.columns)
    assert data.attrs["issues"].empty
    fits = tr.doseresponse.fit(data, model="4pl")
    cli = run_fit(VIABILITY, FitOptions(group=["drug", "line"])).fits
    pd.testing.assert_frame_equal(fits, cli)
    res = tr.doseresponse.compare(data, condition="line", reference="parental", by=["drug"])
    via_file = run_compare([VIABILITY], DoseResponseOptions()).comparisons
    pd.testing.assert_frame_equal(res, via_file)
    # a raw table goes through prepare on the way
    raw = tr.doseresponse.compare(table, condition="line", reference="parental", by="drug")
    pd.testing.assert_frame_equal(raw, res)


def test_dose_unit_converts_to_molar(table: pd.DataFrame) -> None:
    no_unit = table.drop(columns="unit")
    data = tr.doseresponse.prepare(no_unit, group=["drug", "line"], dose_unit="uM")
    assert np.allclose(data["dose_molar"].to_numpy(), table["dose"].to_numpy() * 1e-6)
    with pytest.raises(InputError, match="dose unit unknown"):
        tr.doseresponse.prepare(no_unit, group=["drug", "line"])


def test_unusable_rows_raise_or_are_listed(table: pd.DataFrame) -> None:
    bad = table.copy()
    bad.loc[3, "response"] = np.nan
    with pytest.raises(InputError, match="1 unusable row") as err:
        tr.doseresponse.prepare(bad, group=["drug", "line"])
    assert "row 4" in str(err.value)
    data = tr.doseresponse.prepare(bad, group=["drug", "line"], errors="drop")
    assert len(data) == len(table) - 1
    assert list(data.attrs["issues"]["row"]) == [4]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: tr.doseresponse.fit(d, model="5pl"), "bad option model"),
        (lambda d: tr.doseresponse.fit(d, alpha=1.5), "bad option alpha"),
        (lambda d: tr.doseresponse.fit(d, colour="red"), "unknown option colour"),
        (lambda d: tr.doseresponse.compare(d, reference="nope"), "not a level"),
        (lambda d: tr.doseresponse.compare(d, threshold=0.5), "bad option threshold"),
        (lambda d: tr.doseresponse.compare(d, condition="clone"), "column not found"),
    ],
)
def test_bad_options_are_input_errors(table: pd.DataFrame, call, message: str) -> None:  # type: ignore[no-untyped-def]
    data = tr.doseresponse.prepare(table, group=["drug", "line"])
    with pytest.raises(InputError, match=message):
        call(data)


def test_fit_curves_refuses_unprepared_tables_and_unknown_models(table: pd.DataFrame) -> None:
    from trkres.assays.doseresponse.curvefit import fit_curves

    with pytest.raises(InputError, match="not prepared"):
        fit_curves(table)
    data = tr.doseresponse.prepare(table, group=["drug", "line"])
    with pytest.raises(InputError, match="unknown model"):
        fit_curves(data, model="5pl")  # type: ignore[arg-type]


def test_cli_and_api_give_the_same_option_message() -> None:
    with pytest.raises(InputError, match="bad option --alpha"):
        validate_options(FitOptions, {"alpha": 0}, source="cli")
    with pytest.raises(InputError, match="bad option alpha"):
        validate_options(FitOptions, {"alpha": 0}, source="api")


def test_run_compare_without_the_reference() -> None:
    opts = DoseResponseOptions(reference="wildtype")
    with pytest.raises(InputError, match="not a level"):
        run_compare([VIABILITY], opts)
    result = run_compare([VIABILITY], opts, strict_reference=False)
    assert not result.has_reference and result.comparisons.empty
    assert result.levels == ["G623R", "parental"] and len(result.fits) == 2


def test_escalation_run_and_api(tmp_path: Path) -> None:
    from trkres.assays.doseresponse.reference import four_pl

    rng = np.random.default_rng(3)
    doses = np.logspace(-10, -5, 9)
    rows = []
    for week, log_ic50 in zip([0, 2, 4, 6], [-8.5, -8.0, -6.8, -6.5], strict=True):
        y = four_pl(np.log10(doses), log_ic50, -1.2, 1.0, 0.05) + rng.normal(0, 0.02, 9)
        rows += [{"drug": "d", "week": week, "dose": d, "unit": "M", "response": v}
                 for d, v in zip(doses, y, strict=True)]  # fmt: skip
    df = pd.DataFrame(rows)
    series = tr.doseresponse.escalation_series(df, time="week", by="drug")
    path = tmp_path / "esc.tsv"
    df.to_csv(path, sep="\t", index=False)
    run = run_escalation(path, EscalationOptions(time="week", by=["drug"])).series
    pd.testing.assert_frame_equal(series, run)
    assert series["established_at"].iloc[0] == 4


def test_section_runs_through_the_registry(tmp_path: Path) -> None:
    import shutil

    from trkres.assays.doseresponse import section as _section  # noqa: F401  (registers)
    from trkres.study.manifest import load_study
    from trkres.study.registry import AnalysisContext, analyses

    folder = tmp_path / "study"
    shutil.copytree(EX, folder)
    study = load_study(folder)
    analysis = next(a for a in analyses() if a.name == "dose_response")
    assert analysis.options_model is DoseResponseOptions
    ctx = AnalysisContext(study=study, knowledge=None, options=DoseResponseOptions())  # type: ignore[arg-type]
    section = analysis.function(ctx)
    tables = {t.name: t.frame for t in section.tables}
    assert "dose_response_resistance" in tables and len(tables["dose_response_fits"]) >= 2
    assert section.figures[0].name == "dose_response_overlay"


def test_plots_return_axes(table: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = tr.doseresponse.prepare(table, group=["drug", "line"])
    fits = tr.doseresponse.fit(data)
    res = tr.doseresponse.compare(data)
    _, ax = plt.subplots()
    assert tr.pl.dose_response(data, fits, ax=ax) is ax
    assert len(ax.lines) >= 2  # one fitted curve per curve at least
    ax2 = tr.pl.fold_resistance(res)
    assert ax2.get_xscale() == "log"
    plt.close("all")


def test_fit_summary_figure_draws_the_first_curves_and_the_status_counts(
    table: pd.DataFrame,
) -> None:
    from trkres.pl.doseresponse import fit_summary_figure

    result = run_fit(VIABILITY, FitOptions(group=["drug", "line"]))
    fig = fit_summary_figure(result.data, result.fits)
    curves, hist = fig.static.axes
    assert len(curves.lines) >= 2  # a fitted line per curve
    assert hist.get_title() == "ok: 2"
    assert fig.name == "dose_response_curves"
