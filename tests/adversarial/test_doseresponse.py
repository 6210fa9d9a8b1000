"""Hostile and real-world input for the dose-response commands (issue 12).

Classes: vehicle (dose 0) rows, ambiguous fits, the fit figure with vehicle rows,
an unknown ``--reference``, unreadable tables, non-finite and impossible numbers.
Each class has constructed files and a hypothesis strategy that generates its kind.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trkres.assays.doseresponse.curvefit import fit_curves
from trkres.assays.doseresponse.grmetrics import read_gr_checked
from trkres.assays.doseresponse.io import read_long_checked
from trkres.assays.doseresponse.reference import four_pl
from trkres.assays.doseresponse.resistance import compare_conditions
from trkres.cli import app
from trkres.errors import InputError
from trkres.units import MAX_DOSE_MOLAR

runner = CliRunner()
DOSES = np.logspace(-9, -5, 8)  # molar
VALIDATION = Path(__file__).resolve().parents[2].parent / "shared" / "validation" / "drc_fit"
HEADER = "curve_id\tdose\tunit\tresponse\n"
SETTINGS = settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])


def long_table(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["curve_id", "dose_molar", "response"])


def curve_rows(name: str, log_ic50: float, hill: float, bottom: float, noise: float,
               rng: np.random.Generator, reps: int = 3, vehicle: int = 3,
               vehicle_level: float = 1.0) -> list[tuple[str, float, float]]:  # fmt: skip
    rows = []
    for _ in range(reps):
        y = four_pl(np.log10(DOSES), log_ic50, hill, 1.0, bottom) + rng.normal(0, noise, len(DOSES))
        rows += [(name, float(d), float(v)) for d, v in zip(DOSES, y, strict=True)]
    rows += [(name, 0.0, float(v)) for v in vehicle_level + rng.normal(0, noise, vehicle)]
    return rows


def invoke(*args: str) -> object:
    return runner.invoke(app, list(args))


def assert_input_error(result: object, *words: str) -> None:
    """The command stopped with an InputError (exit 1 from main), never another exception (exit 3)."""
    exc = getattr(result, "exception", None)
    assert isinstance(exc, InputError), f"expected InputError, got {exc!r}"
    text = str(exc)
    for w in words:
        assert w in text, text
    assert "np.float64" not in text


# ---------------------------------------------------------------------------
# 1. Vehicle (dose 0) rows are the model's zero-dose limit, counted in fits.tsv
# ---------------------------------------------------------------------------


def _sse_with_vehicle(frame: pd.DataFrame, fit: pd.Series) -> float:
    """SSE over all rows; a dose-0 row is compared with the zero-dose limit (Top when falling)."""
    d, y = frame["dose_molar"].to_numpy(), frame["response"].to_numpy()
    with np.errstate(divide="ignore"):
        x = np.where(d > 0, np.log10(np.where(d > 0, d, 1.0)), -np.inf)
    limit = fit["top"] if fit["hill_slope"] < 0 else fit["bottom"]
    with np.errstate(over="ignore"):
        f = np.where(np.isfinite(x), four_pl(np.where(np.isfinite(x), x, 0.0), fit["log10_ic50"],
                                             fit["hill_slope"], fit["top"], fit["bottom"]), limit)  # fmt: skip
    return float(((y - f) ** 2).sum())


@SETTINGS
@given(
    log_ic50=st.floats(-8.5, -5.5),
    hill=st.floats(-3.0, -0.5),
    bottom=st.floats(0.0, 0.3),
    vehicle=st.integers(1, 6),
    rising=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_vehicle_rows_are_used_as_the_zero_dose_limit(
    log_ic50: float, hill: float, bottom: float, vehicle: int, rising: bool, seed: int
) -> None:
    """Falling curves (vehicle at Top) and rising ones (vehicle at the low-dose asymptote)."""
    rng = np.random.default_rng(seed)
    hill, level = (-hill, bottom) if rising else (hill, 1.0)
    frame = long_table(
        curve_rows("c", log_ic50, hill, bottom, 0.04, rng, vehicle=vehicle, vehicle_level=level)
    )
    fit = fit_curves(frame).iloc[0]
    assert fit["n_vehicle"] == vehicle and fit["n_points"] == len(frame)
    if fit["status"] == "failed":
        return
    # The reported SSE is the SSE over every row, vehicle rows at the zero-dose limit ...
    assert fit["sse"] == pytest.approx(_sse_with_vehicle(frame, fit), rel=1e-6, abs=1e-12)
    # ... and no worse than the dose > 0 fit's parameters scored on the same rows.
    ignored = fit_curves(frame, vehicle="ignore").iloc[0]
    assert ignored["n_vehicle"] == 0 and ignored["n_points"] == len(frame) - vehicle
    assert fit["sse"] <= _sse_with_vehicle(frame, ignored) * (1 + 1e-6) + 1e-12


def test_vehicle_only_curve_is_failed_with_a_reason() -> None:
    frame = long_table([("veh", 0.0, 1.0), ("veh", 0.0, 0.98), ("veh", 0.0, 1.01)])
    fit = fit_curves(frame).iloc[0]
    assert fit["status"] == "failed" and "vehicle" in fit["status_reason"]


def test_vehicle_changes_the_fit_as_drc_does_on_ryegrass() -> None:
    """drc's standard analysis of ryegrass (vehicle rows kept): ED50 3.05795 (Ritz et al. 2015)."""
    if not (VALIDATION / "input.tsv").is_file():
        pytest.skip("../shared/validation/drc_fit is not present (fresh clone)")
    data = pd.read_csv(VALIDATION / "input.tsv", sep="\t")
    rye = data[data["curve_id"] == "ryegrass"].rename(columns={"dose": "dose_molar"})
    used = fit_curves(rye).iloc[0]
    ignored = fit_curves(rye, vehicle="ignore").iloc[0]
    assert used["n_points"] == len(rye) and used["n_vehicle"] == int((rye["dose_molar"] == 0).sum())
    assert 10 ** used["log10_ic50"] == pytest.approx(3.05795, rel=1e-3)
    assert abs(used["log10_ic50"] - ignored["log10_ic50"]) > 1e-3  # the vehicle rows matter


def test_cli_vehicle_option_and_count(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frame = long_table(curve_rows("a", -7.0, -1.2, 0.1, 0.03, rng, vehicle=4))
    path = tmp_path / "v.tsv"
    frame.assign(unit="M").rename(columns={"dose_molar": "dose"}).to_csv(
        path, sep="\t", index=False
    )
    res = invoke("fit", str(path), "-o", str(tmp_path / "use"))
    assert res.exit_code == 0, res.output
    fits = pd.read_csv(tmp_path / "use" / "fits.tsv", sep="\t")
    assert fits["n_vehicle"].iloc[0] == 4 and fits["n_points"].iloc[0] == len(frame)
    res = invoke("fit", str(path), "--vehicle", "ignore", "-o", str(tmp_path / "ign"))
    assert res.exit_code == 0, res.output
    ign = pd.read_csv(tmp_path / "ign" / "fits.tsv", sep="\t")
    listed = pd.read_csv(tmp_path / "ign" / "issues.tsv", sep="\t")
    assert ign["n_vehicle"].iloc[0] == 0 and (listed["action"] == "ignored").sum() == 4
    assert ign["n_points"].iloc[0] + len(listed) == len(frame)
    assert (frame["dose_molar"].iloc[listed["row"].to_numpy() - 1] == 0).all()
    assert_input_error(
        invoke("fit", str(path), "--vehicle", "maybe", "-o", str(tmp_path / "x")), "--vehicle"
    )


# ---------------------------------------------------------------------------
# 2. Ambiguous fits: never 'ok'; an 'ok' fit always has a finite CI
# ---------------------------------------------------------------------------


@SETTINGS
@given(
    beyond=st.floats(0.3, 2.0),
    hill=st.floats(-2.5, -0.7),
    noise=st.floats(0.02, 0.08),
    seed=st.integers(0, 2**32 - 1),
)
def test_curves_beyond_the_top_dose_are_never_ok_without_a_determined_fit(
    beyond: float, hill: float, noise: float, seed: int
) -> None:
    """IC50 beyond the top dose: whatever the fit, 'ok' needs a finite CI inside the bounds,
    a slope off its bounds; anything else carries a reason."""
    rng = np.random.default_rng(seed)
    truth = float(np.log10(DOSES[-1])) + beyond
    fit = fit_curves(long_table(curve_rows("c", truth, hill, 0.05, noise, rng))).iloc[0]
    assert fit["status"] in ("ok", "flat", "ambiguous", "out_of_range", "failed")
    if fit["status"] == "ok":
        assert np.isfinite([fit["log10_ic50_ci_low"], fit["log10_ic50_ci_high"]]).all()
        assert 0.1 < abs(fit["hill_slope"]) < 20
        assert fit["status_reason"] == ""
    else:
        assert fit["status_reason"] != ""


def test_confident_wrong_in_range_ic50s_are_rare() -> None:
    """300 curves whose IC50 lies 0.3-2 log units beyond the top dose: before 'ambiguous', 27 were
    'ok' in range with the IC50 > 1 log unit too low; now at most 3%."""
    rng = np.random.default_rng(5)
    doses = np.logspace(-10, -5, 9)
    rows, truth = [], {}
    for c in range(300):
        log_ic50, hill, bottom = (
            -5 + rng.uniform(0.3, 2.0),
            -rng.uniform(0.7, 2.5),
            rng.uniform(0, 0.2),
        )
        truth[f"c{c}"] = log_ic50
        for _ in range(3):
            y = four_pl(np.log10(doses), log_ic50, hill, 1.0, bottom) + rng.normal(
                0, 0.05, len(doses)
            )
            rows += [(f"c{c}", float(d), float(v)) for d, v in zip(doses, y, strict=True)]
        rows += [(f"c{c}", 0.0, float(v)) for v in 1 + rng.normal(0, 0.05, 3)]
    fits = fit_curves(long_table(rows))
    ok = fits[fits["status"] == "ok"]
    wrong = (ok["curve_id"].map(truth) - ok["log10_ic50"]) > 1
    assert wrong.sum() <= 9
    assert np.isfinite(ok[["log10_ic50_ci_low", "log10_ic50_ci_high"]].to_numpy()).all()
    assert (fits["status"] == "ambiguous").sum() > 50


def test_ambiguous_fit_makes_no_resistance_call() -> None:
    rng = np.random.default_rng(3)
    rows = []
    for line, log_ic50 in (("parental", -8.0), ("resistant", -3.0)):  # resistant: far beyond 10 µM
        for r in curve_rows(line, log_ic50, -1.0, 0.05, 0.04, rng):
            rows.append({"line": line, "curve_id": line, "dose_molar": r[1], "response": r[2]})
    data = pd.DataFrame(rows)
    fits = fit_curves(data)
    fits.loc[fits["curve_id"] == "resistant", "status"] = "ambiguous"
    table = compare_conditions(data, condition="line", reference="parental", fits=fits)
    assert table["condition_status"].iloc[0] == "ambiguous" and not table["resistant"].iloc[0]


def test_help_documents_ambiguous() -> None:
    res = invoke("fit", "--help")
    assert "ambiguous" in res.output and "--vehicle" in res.output


# ---------------------------------------------------------------------------
# 3. The fit figure with vehicle rows draws every curve (no log10(0))
# ---------------------------------------------------------------------------


def test_fit_figure_with_vehicle_rows_draws_curves() -> None:
    import warnings

    from trkres.pl.doseresponse import curves_figure, overlay_figure

    rng = np.random.default_rng(2)
    frame = long_table(
        curve_rows("a", -7.0, -1.2, 0.1, 0.03, rng) + curve_rows("b", -6.5, -1.0, 0.0, 0.03, rng)
    )
    fits = fit_curves(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # log10(0) would warn
        fig = curves_figure(frame, fits)
        frame["line"] = frame["curve_id"]
        overlay = overlay_figure(frame, fits, [], "line")
    for f in (fig, overlay):
        axes = [a for a in f.static.axes if a.get_visible()]
        drawn = [ln for a in axes for ln in a.get_lines() if len(ln.get_xdata()) > 50]
        assert drawn and all(np.isfinite(ln.get_ydata()).all() for ln in drawn)
        texts = [t.get_text() for a in axes for t in a.texts]
        assert "vehicle" in texts


# ---------------------------------------------------------------------------
# 4. resistance --reference that is not a level
# ---------------------------------------------------------------------------


@settings(max_examples=20)
@given(
    levels=st.lists(
        st.text("abcdefgh", min_size=1, max_size=6), min_size=1, max_size=4, unique=True
    ),
    reference=st.text("abcdefghxyz", min_size=1, max_size=6),
)
def test_unknown_reference_is_an_error_listing_the_levels(
    levels: list[str], reference: str
) -> None:
    if reference in levels:
        return
    data = pd.DataFrame({"line": np.repeat(levels, 2), "dose_molar": 1e-6, "response": 0.5})
    with pytest.raises(InputError) as err:
        compare_conditions(data, condition="line", reference=reference)
    assert all(lv in str(err.value) for lv in levels)


def test_cli_unknown_reference(tmp_path: Path) -> None:
    path = tmp_path / "v.tsv"
    path.write_text("drug\tline\tdose\tunit\tresponse\n" + "".join(
        f"d\t{ln}\t{d}\tnM\t{y}\n" for ln in ("par", "res") for d, y in ((1, 1.0), (10, 0.8), (100, 0.3))))  # fmt: skip
    res = invoke(
        "resistance",
        str(path),
        "--by",
        "drug",
        "--reference",
        "parental",
        "-o",
        str(tmp_path / "r"),
    )
    assert_input_error(res, "par", "res", "parental")
    assert not (tmp_path / "r").exists()


# ---------------------------------------------------------------------------
# 5. Unreadable tables: InputError with file and line, never a traceback
# ---------------------------------------------------------------------------


def _xlsx(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["curve_id", "dose", "unit", "response"])
    ws.append(["a", 1, "nM", 0.9])
    wb.save(path)


def test_an_excel_workbook_reads_as_its_first_sheet(tmp_path: Path) -> None:
    """Workbooks are read (trkres.tables.read_table), the same as the TSV of their first sheet."""
    book, text = tmp_path / "curves.xlsx", tmp_path / "curves.tsv"
    _xlsx(book)
    text.write_text(HEADER + "a\t1\tnM\t0.9\n")
    from trkres.tables import read_table

    assert read_table(book).equals(read_table(text))


HOSTILE: dict[str, tuple[bytes, str]] = {
    "empty.tsv": (b"", "empty"),
    "header_only.tsv": (HEADER.encode(), "no data rows"),
    "binary.tsv": (bytes(range(256)) * 4, "line"),
    "latin1.tsv": ((HEADER + "caf\xe9\t1\tnM\t0.5\n").encode("latin-1"), "line 2"),
    "ragged_long.tsv": ((HEADER + "a\t1\tnM\t0.5\na\t2\tnM\t0.4\textra\n").encode(), "line 3"),
    "ragged_short.tsv": ((HEADER + "a\t1\tnM\t0.5\na\t2\n").encode(), "line 3"),
    "text_dose.tsv": ((HEADER + "a\t1\tnM\t0.5\na\tlots\tnM\t0.4\n").encode(), "line 3"),
    "nul.tsv": ((HEADER + "a\t1\tnM\t0.5\x00\n").encode(), "line 2"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("command", ["fit", "resistance", "escalation"])
def test_hostile_files_are_input_errors(tmp_path: Path, name: str, command: str) -> None:
    content, word = HOSTILE[name]
    path = tmp_path / name
    path.write_bytes(content)
    extra = {
        "fit": [],
        "resistance": ["--condition", "curve_id"],
        "escalation": ["--time", "curve_id"],
    }[command]
    res = invoke(command, str(path), *extra, "-o", str(tmp_path / "out"))
    assert_input_error(res, str(path), word)
    assert not (tmp_path / "out").exists()


def test_readable_encodings_and_line_endings_give_the_same_table(tmp_path: Path) -> None:
    text = HEADER + "a\t1\tnM\t0.9\na\t10\tnM\t0.5\nb\t0\tnM\t1.0\n"
    variants = {
        "utf8.tsv": text.encode(),
        "bom.tsv": b"\xef\xbb\xbf" + text.encode(),
        "utf16.tsv": text.encode("utf-16"),
        "crlf.tsv": text.replace("\n", "\r\n").encode(),
        "cr.tsv": text.replace("\n", "\r").encode(),
        "gz.tsv.gz": gzip.compress(text.encode()),
    }
    frames = []
    for name, raw in variants.items():
        (tmp_path / name).write_bytes(raw)
        frames.append(read_long_checked(tmp_path / name)[0])
    for f in frames[1:]:
        pd.testing.assert_frame_equal(f, frames[0])


def test_empty_group_cells_are_reported_rows(tmp_path: Path) -> None:
    path = tmp_path / "g.tsv"
    path.write_text(
        "drug\tline\tdose\tunit\tresponse\nd\tpar\t1\tnM\t0.9\n\tpar\t10\tnM\t0.5\nd\t\t1\tnM\t0.5\n"
    )
    frame, issues = read_long_checked(path, group=["drug", "line"])
    assert len(frame) == 1 and len(issues) == 2
    assert list(issues["line"]) == [3, 4] and set(issues["column"]) == {"drug", "line"}


@settings(max_examples=40)
@given(st.binary(max_size=300))
def test_any_bytes_read_or_raise_input_error(raw: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.tsv"
        path.write_bytes(raw)
        try:
            frame, _issues = read_long_checked(path)
        except InputError:
            return
        assert np.isfinite(frame["dose_molar"]).all() and np.isfinite(frame["response"]).all()


GR_HEADER = "cell_line\tagent\treplicate\ttime\tconcentration\tcell_count\tcell_count__ctrl\tcell_count__time0\n"


@pytest.mark.parametrize(
    ("body", "word"),
    [("", "no data rows"), ("a\tx\t1\t72\t0.1\tmany\t100\t10\n", "non-numeric cell_count")],
)
def test_gr_header_only_and_text_counts(tmp_path: Path, body: str, word: str) -> None:
    path = tmp_path / "gr.tsv"
    path.write_text(GR_HEADER + body)
    assert_input_error(invoke("gr", str(path), "-o", str(tmp_path / "o")), word)


def test_gr_zero_control_is_a_reported_row_not_an_infinite_gr50(tmp_path: Path) -> None:
    rows = [
        f"a\tx\t1\t72\t{c}\t{max(1, int(100 / (1 + c)))}\t100\t10\n"
        for c in (0.01, 0.1, 1, 10, 100)
    ]
    rows += ["a\tx\t1\t72\t1000\t5\t0\t10\n", "a\tx\t1\t72\t5000\t5\t10\t10\n"]
    path = tmp_path / "gr.tsv"
    path.write_text(GR_HEADER + "".join(rows))
    frame, issues = read_gr_checked(path)
    assert len(frame) + len(issues) == len(rows) and len(issues) == 2
    assert set(issues["column"]) == {"cell_count__ctrl"} and list(issues["line"]) == [7, 8]
    res = invoke("gr", str(path), "-o", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "issues.tsv").is_file()


# ---------------------------------------------------------------------------
# 6. Non-finite and impossible numbers: reported rows, rows in = used + reported
# ---------------------------------------------------------------------------

BAD_DOSES = ["inf", "-inf", "1e308", "-1", "1e400", "nan", ""]
BAD_RESPONSES = ["inf", "-inf", "1e400", "NA", ""]


@SETTINGS
@given(
    cells=st.lists(
        st.tuples(
            st.sampled_from(["a", "b"]),
            st.one_of(st.sampled_from(BAD_DOSES), st.sampled_from(["0", "1", "10", "100", "1000"])),
            st.one_of(
                st.sampled_from(BAD_RESPONSES), st.floats(-0.2, 1.5).map(lambda v: f"{v:.3f}")
            ),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_rows_in_equal_rows_used_plus_rows_reported(
    tmp_path: Path, cells: list[tuple[str, str, str]]
) -> None:
    path = tmp_path / "n.tsv"
    path.write_text(HEADER + "".join(f"{c}\t{d}\tnM\t{r}\n" for c, d, r in cells))
    try:
        frame, issues = read_long_checked(path)
    except InputError as exc:
        assert "no usable rows" in str(exc)
        return
    assert len(frame) + len(issues) == len(cells)
    assert np.isfinite(frame["dose_molar"]).all() and (frame["dose_molar"] >= 0).all()
    assert (frame["dose_molar"] <= MAX_DOSE_MOLAR).all() and np.isfinite(frame["response"]).all()
    assert set(issues.columns) >= {"file", "row", "line", "column", "expected", "found"}


def test_cli_reports_impossible_numbers(tmp_path: Path) -> None:
    body = "".join(f"a\t{d}\tnM\t{y}\n" for d, y in ((0, 1), (1, 0.95), (10, 0.8), (100, 0.4), (1000, 0.1),
                                                    (10000, 0.05)))  # fmt: skip
    body += "a\tinf\tnM\t0.5\na\t-3\tnM\t0.5\na\t1e308\tnM\t0.5\na\t5\tnM\tinf\n"
    path = tmp_path / "bad.tsv"
    path.write_text(HEADER + body)
    res = invoke("fit", str(path), "-o", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    issues = pd.read_csv(tmp_path / "o" / "issues.tsv", sep="\t")
    fits = pd.read_csv(tmp_path / "o" / "fits.tsv", sep="\t")
    assert list(issues["line"]) == [8, 9, 10, 11]
    assert fits["n_points"].sum() + len(issues) == 10


@pytest.mark.parametrize("alpha", ["nan", "inf", "0", "1.5", "-0.1"])
def test_alpha_must_be_a_probability(tmp_path: Path, alpha: str) -> None:
    path = tmp_path / "v.tsv"
    path.write_text(HEADER + "a\t1\tnM\t0.9\na\t10\tnM\t0.5\n")
    assert_input_error(
        invoke("fit", str(path), "--alpha", alpha, "-o", str(tmp_path / "o")), "--alpha"
    )


COUNT = st.one_of(
    st.integers(1, 10_000).map(str),
    st.sampled_from(["0", "-5", "inf", "nan", "", "1e400", "1e300", "1000000", "1000001"]),
)


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["0", "0.01", "1", "100", "-1", "inf", ""]), COUNT, COUNT, COUNT),
        min_size=1,
        max_size=25,
    )
)
def test_gr_rows_in_equal_rows_used_plus_rows_reported(
    tmp_path: Path, rows: list[tuple[str, str, str, str]]
) -> None:
    """Generated GR tables with zero, negative, missing and infinite counts and concentrations:
    every row is used (with a finite GR) or reported."""
    from trkres.assays.doseresponse.grmetrics import gr_values

    path = tmp_path / "gr.tsv"
    path.write_text(
        GR_HEADER + "".join(f"a\tx\t1\t72\t{c}\t{n}\t{k}\t{z}\n" for c, n, k, z in rows)
    )
    try:
        frame, issues = read_gr_checked(path)
    except InputError as exc:
        assert "no usable rows" in str(exc)
        return
    assert len(frame) + len(issues) == len(rows)
    assert np.isfinite(gr_values(frame)).all() and (frame["concentration"] > 0).all()


def test_study_without_the_reference_level_is_labelled_not_failed(tmp_path: Path) -> None:
    """In a study the default reference ('parental') may be absent: the section says so and
    fits the curves, instead of failing the analysis or writing an unexplained empty table."""
    import sys

    from trkres.study.runner import run_study

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from support import write_study

    rng = np.random.default_rng(4)
    rows = [(f"d\t{ln}\t{d}\tM\t{y}") for ln in ("lineA", "lineB")
            for _, d, y in curve_rows(ln, -7.0, -1.0, 0.1, 0.03, rng)]  # fmt: skip
    study = write_study(
        tmp_path / "s",
        "name: s\ninputs:\n  - {kind: dose_response, path: v.tsv}\n",
        {"v.tsv": "drug\tline\tdose\tunit\tresponse\n" + "\n".join(rows) + "\n"},
    )
    result = run_study(study, tmp_path / "out", only=["dose_response"])
    section = next(s for s in result.sections if s.name == "dose_response")
    assert any("lineA" in f.message and "parental" in f.message for f in section.flags)
    fits = pd.read_csv(tmp_path / "out" / "tables" / "dose_response_fits.tsv", sep="\t")
    assert len(fits) == 2 and (fits["n_vehicle"] == 3).all()


def test_curves_flat_at_half_do_not_divide_by_zero() -> None:
    """Every response 0.5: the absolute-IC50 gradient divided (Top − 0.5) by
    (0.5 − Bottom) = 0 inside the compiled fitter (ZeroDivisionError, exit 3 in
    synergy on flat single agents)."""
    from trkres.assays.doseresponse.curvefit import fit_curves, fit_parameters, pack_arrays

    x = np.tile(np.linspace(-8, -6, 5), 3)
    cs = pack_arrays(np.repeat(["a", "b", "c"], 5), x, np.full(15, 0.5))
    for _ in range(3):  # the failure depended on thread scheduling: repeat
        params, sse = fit_parameters(cs, model="4pl")
        assert np.isfinite(params).all()
        assert np.isfinite(sse).all()
    frame = pd.DataFrame(
        {"curve_id": np.repeat(["a", "b"], 5), "dose_molar": 10 ** x[:10], "response": 0.5}
    )
    fits = fit_curves(frame)
    assert set(fits["status"].astype(str)) <= {"flat", "ambiguous", "failed"}
