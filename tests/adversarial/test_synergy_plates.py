"""Hostile and extreme input for `trkres synergy` and `trkres plate` (issue 12).

Classes: bootstrap CIs from too few draws; Loewe summaries resting on the fallback;
unbounded Chou–Talalay indices; non-finite responses; broken text files (empty,
header-only, binary, Latin-1, ragged, ZIP named .csv/.xlsx, gzip, CR-only line
ends, BOM, overlong lines); molar doses labelled nM; impossible viabilities
passing plate QC. Each class has constructed files and a hypothesis strategy.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trkres.assays.plates.io import read_plate_values, well_name
from trkres.assays.plates.wells import VIABILITY_RANGE, normalise, plate_qc, read_plate_map
from trkres.assays.synergy.combination_index import CI_UNBOUNDED, label, unbounded
from trkres.assays.synergy.io import from_frame, read_combinations
from trkres.assays.synergy.options import SynergyOptions
from trkres.assays.synergy.run import run_synergy
from trkres.assays.synergy.scorer import Synergy, min_draws, percentile_interval
from trkres.assays.synergy.section import synergy_section
from trkres.cli import app
from trkres.errors import InputError, TrkresError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ntrk_resistance" / "lab"
COMBO = EXAMPLE / "combination_larotrectinib_trametinib.tsv"
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
               HealthCheck.function_scoped_fixture])  # fmt: skip


def cli(*args: str) -> tuple[int, BaseException | None]:
    """Exit code and exception of the command; a non-TrkresError exception is a bug (exit 3)."""
    result = CliRunner().invoke(app, list(args))
    exc = result.exception
    if exc is not None and not isinstance(exc, (TrkresError, SystemExit)):
        raise AssertionError(f"{args[0]} crashed: {type(exc).__name__}: {exc}") from exc
    return result.exit_code, exc


def assert_input_error(exc: BaseException | None, *, line: bool = True) -> InputError:
    assert isinstance(exc, InputError), exc
    assert exc.location is not None and exc.location.file is not None, str(exc)
    if line:
        assert exc.location.line is not None or exc.location.row is not None, str(exc)
    assert "np.float64" not in str(exc) and "\\x" not in str(exc), str(exc)
    return exc


@pytest.fixture(scope="module")
def combos() -> pd.DataFrame:
    return pd.read_csv(COMBO, sep="\t")


# ================================================================ synergy: bootstrap CIs


def _brackets_or_missing(frame: pd.DataFrame, estimate: str, prefix: str | None = None) -> None:
    lo, hi = (
        (frame["ci_low"], frame["ci_high"])
        if prefix == "ci"
        else (frame[f"{estimate}_ci_low"], frame[f"{estimate}_ci_high"])
    )
    assert (lo.isna() == hi.isna()).all(), estimate
    ok = lo.notna()
    tol = 1e-9 * np.maximum(1, frame[estimate].abs())
    assert (lo[ok] <= frame.loc[ok, estimate] + tol[ok]).all(), estimate
    assert (frame.loc[ok, estimate] <= hi[ok] + tol[ok]).all(), estimate


@pytest.mark.parametrize("n_boot", [1, 5])
def test_example_with_few_draws_exits_0_and_says_why_there_is_no_ci(
    tmp_path: Path, n_boot: int
) -> None:
    code, exc = cli("-q", "synergy", str(COMBO), "--response", "viability", "--n-boot", str(n_boot),
                    "--no-musyc", "-o", str(tmp_path / "out"))  # fmt: skip
    assert code == 0, exc
    summary = pd.read_csv(tmp_path / "out" / "synergy_summary.tsv", sep="\t")
    assert summary["ci_method"].str.contains(f"needs at least {min_draws(0.95)}").all()
    assert summary[[f"{m}_ci_low" for m in ("bliss", "hsa", "loewe", "zip")]].isna().all().all()


def test_cis_bracket_their_estimates_at_every_level(combos: pd.DataFrame) -> None:
    result = Synergy(n_boot=min_draws(0.95), seed=1, musyc=False).fit(
        from_frame(combos, response="viability")
    )
    s = result.summary_
    for m in ("bliss", "hsa", "loewe", "zip", "css", "zip_best_area", "loewe_best_area"):
        _brackets_or_missing(s, m)
    for m in ("bliss", "hsa", "loewe", "zip"):
        _brackets_or_missing(result.matrix_, m)
    assert result.combination_index_["ci_low"].notna().any()
    _brackets_or_missing(result.combination_index_, "ci", prefix="ci")


def test_min_draws_follows_the_level() -> None:
    assert min_draws(0.95) == 40 and min_draws(0.9) == 20 and min_draws(0.99) == 200


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 80), st.integers(0, 2**31 - 1), st.floats(0.0, 20.0))
def test_generated_matrices_and_draw_counts_never_give_a_non_bracketing_ci(
    n_boot: int, seed: int, noise: float
) -> None:
    rng = np.random.default_rng(seed)
    doses = [0.0, 1.0, 10.0, 100.0]
    rows = []
    for a in doses:
        for b in doses:
            base = 100 * (a / (a + 10) + b / (b + 30) - a * b / ((a + 10) * (b + 30)))
            for r in rng.normal(base, noise, size=3):
                rows.append({"block_id": 1, "drug1": "A", "drug2": "B", "conc1": a, "conc2": b,
                             "conc_unit": "nM", "response": r})  # fmt: skip
    combos = from_frame(pd.DataFrame(rows))
    result = Synergy(n_boot=n_boot, seed=seed, musyc=False).fit(combos)
    for m in ("bliss", "hsa", "loewe", "zip"):
        _brackets_or_missing(result.summary_, m)
        if f"{m}_ci_low" in result.matrix_:
            _brackets_or_missing(result.matrix_, m)
    if n_boot < min_draws(0.95):
        assert result.summary_["bliss_ci_low"].isna().all()
    section = synergy_section(
        run_synergy(combos, SynergyOptions(n_boot=n_boot, seed=seed, musyc=False))
    )
    assert section.figures  # the error bars are drawn (negative widths used to raise)
    import matplotlib.pyplot as plt

    for fig in section.figures:
        plt.close(fig.static)


@FEW
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=120), st.floats(-1e6, 1e6),
       st.sampled_from([0.8, 0.9, 0.95]))  # fmt: skip
def test_percentile_interval_brackets_or_is_missing(
    draws: list[float], est: float, ci: float
) -> None:
    low, high, withheld = percentile_interval(np.array(draws)[:, None], est, ci)
    if np.isfinite(low[0]):
        assert low[0] <= est + 1e-9 * max(1, abs(est)) and est - 1e-9 * max(1, abs(est)) <= high[0]
        assert len(draws) >= min_draws(ci)
    else:
        assert np.isnan(high[0])
        assert withheld[0] == (len(draws) >= min_draws(ci))


# ================================================================ synergy: Loewe fallback, Chou–Talalay


def test_loewe_resting_on_the_fallback_is_labelled_beside_the_score(combos: pd.DataFrame) -> None:
    section = synergy_section(
        run_synergy(from_frame(combos, response="viability"), SynergyOptions(n_boot=0, musyc=False))
    )
    summary = next(t.frame for t in section.tables if t.name == "synergy_summary")
    cols = list(summary.columns)
    assert cols[cols.index("loewe") + 1 : cols.index("loewe") + 3] == [
        "loewe_fallback_fraction",
        "loewe_basis",
    ]
    mostly = summary["loewe_fallback_fraction"] > 0.5
    assert mostly.any()  # the example's Loewe rests on the fallback in 80% of its cells
    assert (summary.loc[mostly, "loewe_basis"] == "mostly_fallback").all()
    flagged = [f.message for f in section.flags if "fallback" in f.message]
    assert len(flagged) == int(mostly.sum())
    import matplotlib.pyplot as plt

    for fig in section.figures:
        plt.close(fig.static)


def test_loewe_solved_everywhere_is_labelled_so() -> None:
    # One drug twice (Loewe additive by construction): every cell solves Loewe's equation.
    rows = [{"block_id": 1, "drug1": "A", "drug2": "A", "conc1": a, "conc2": b, "conc_unit": "nM",
             "response": 100 * (a + b) / (a + b + 10)} for a in (0, 1, 3, 10, 30) for b in (0, 1, 3, 10, 30)]  # fmt: skip
    s = Synergy(["loewe"], n_boot=0, musyc=False).fit(from_frame(pd.DataFrame(rows))).summary_
    assert (
        s["loewe_fallback_fraction"].iloc[0] == 0 and s["loewe_basis"].iloc[0] == "loewe_equation"
    )


def test_example_combination_indices_are_never_absurdly_large(combos: pd.DataFrame) -> None:
    ci = (
        Synergy(n_boot=100, seed=0, musyc=False)
        .fit(from_frame(combos, response="viability"))
        .combination_index_
    )
    for col in ("ci", "ci_low", "ci_high"):
        v = ci[col].to_numpy(float)
        assert not (np.isfinite(v) & (v > CI_UNBOUNDED)).any(), col
    assert np.isinf(ci["ci_high"]).any()  # the example's upper bounds of 1e+120 are unbounded


@given(
    st.lists(
        st.one_of(st.floats(0, 1e300), st.just(np.inf), st.just(np.nan)), min_size=1, max_size=20
    )
)
def test_unbounded_combination_indices_are_inf_and_labelled_antagonism(values: list[float]) -> None:
    v = unbounded(np.array(values))
    assert not (np.isfinite(v) & (v > CI_UNBOUNDED)).any()
    labels = label(v)
    assert (labels[np.isinf(v)] == "antagonism").all()
    assert (labels[np.isnan(v)] == "not_estimable").all()


# ================================================================ synergy: non-finite and broken files


@pytest.mark.parametrize("bad", ["inf", "-inf", "Infinity", "nan"])
def test_non_finite_response_is_an_error_naming_the_row(
    tmp_path: Path, combos: pd.DataFrame, bad: str
) -> None:
    frame = combos.astype({"response": object})
    frame.loc[7, "response"] = bad
    path = tmp_path / "c.tsv"
    frame.to_csv(path, sep="\t", index=False)
    code, exc = cli("synergy", str(path), "--response", "viability", "-o", str(tmp_path / "o"))
    e = assert_input_error(exc)
    assert (
        code == 1
        and e.location is not None
        and e.location.row == 8
        and e.location.column == "response"
    )
    assert not (tmp_path / "o").exists()


def test_non_finite_concentration_is_an_error(combos: pd.DataFrame) -> None:
    frame = combos.astype({"conc2": float})
    frame.loc[3, "conc2"] = np.inf
    with pytest.raises(InputError, match="concentration") as e:
        from_frame(frame, response="viability")
    assert e.value.found == "inf"


def _text_variants(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """Broken combination tables: name → (bytes, what the error must mention)."""
    header = COMBO.read_text().split("\n")[0]
    body = COMBO.read_text()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return {
        "empty.tsv": (b"", "empty"),
        "blank_lines.tsv": (b"\n\n  \n", "empty"),
        "header_only.tsv": ((header + "\n").encode(), "no rows"),
        "binary.tsv": (bytes(range(256)) * 4, "binary"),
        "png.tsv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        "latin1.tsv": (body.replace("nM", "µM", 3).encode("latin-1"), "not UTF-8"),
        "ragged.tsv": (body.replace("\tnM\t", "\tnM\t\t", 1).encode(), "ragged"),
        "short.tsv": (body.replace("\tnM\t", "\t", 1).encode(), "ragged"),
        "workbook.tsv": (zipped.getvalue(), "ZIP"),
        "broken.tsv.gz": (gzip.compress(body.encode())[:40], "gzip"),
        "long_line.tsv": ((header + "\n" + "1\t" * 60_000 + "\n").encode(), "too long"),
    }


def test_broken_combination_files_are_input_errors_with_a_place(tmp_path: Path) -> None:
    for name, (content, words) in _text_variants(tmp_path).items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(InputError) as e:
            read_combinations(path, response="viability")
        assert words.lower() in str(e.value).lower(), (name, str(e.value))
        assert_input_error(e.value, line=name not in ("broken.tsv.gz",))


def test_latin1_error_gives_line_and_1_based_column(tmp_path: Path) -> None:
    path = tmp_path / "l.tsv"
    path.write_bytes("block_id\tdrug1\n1\tµ\n".encode("latin-1"))
    with pytest.raises(InputError) as e:
        read_combinations(path)
    assert e.value.location is not None and (e.value.location.line, e.value.location.column) == (
        2,
        3,
    )


@pytest.mark.parametrize("variant", ["gz", "cr", "crlf", "bom", "bom_cr_gz"])
def test_gzip_bom_and_old_mac_line_ends_read_like_the_plain_file(
    tmp_path: Path, variant: str
) -> None:
    text = COMBO.read_text()
    if "cr" in variant:
        text = text.replace("\n", "\r\n" if variant == "crlf" else "\r")
    raw = (b"\xef\xbb\xbf" if "bom" in variant else b"") + text.encode()
    name = "c.tsv.gz" if "gz" in variant else "c.tsv"
    (tmp_path / name).write_bytes(gzip.compress(raw) if "gz" in variant else raw)
    got = read_combinations(tmp_path / name, response="viability")
    want = read_combinations(COMBO, response="viability")
    pd.testing.assert_frame_equal(got.data, want.data)
    pd.testing.assert_frame_equal(got.blocks, want.blocks)


@FEW
@given(st.binary(min_size=0, max_size=400), st.integers(0, 2000))
def test_arbitrary_bytes_spliced_into_a_table_read_or_fail_cleanly(
    tmp_path: Path, junk: bytes, at: int
) -> None:
    raw = COMBO.read_bytes()
    at = min(at, len(raw))
    path = tmp_path / "fuzz.tsv"
    path.write_bytes(raw[:at] + junk + raw[at:])
    try:
        combos = read_combinations(path, response="viability")
    except InputError as exc:
        assert exc.location is not None and "np.float64" not in str(exc)
        return
    assert np.isfinite(combos.data["response"]).all()
    assert np.isfinite(combos.data[combos.conc_columns].to_numpy()).all()


@FEW
@given(st.lists(st.sampled_from(["inf", "-inf", "1e308", "-1e308", "nan", "", "NaN", "1e-320", "5"]),
                min_size=1, max_size=5))  # fmt: skip
def test_generated_extreme_responses_are_rows_or_errors(extremes: list[str]) -> None:
    frame = pd.read_csv(COMBO, sep="\t", dtype={"response": str})
    for k, v in enumerate(extremes):
        frame.loc[k * 7, "response"] = v
    try:
        combos = from_frame(frame, response="viability")
    except InputError as exc:
        assert exc.location is not None and exc.location.row is not None
        return
    Synergy(n_boot=3, musyc=False).fit(combos)  # finite but huge: a result, never an exception


# ================================================================ plates


def _plate(tmp_path: Path, values: np.ndarray | None = None, unit: str = "nM") -> tuple[Path, Path]:
    """A 96-well grid export and a CSV map: column 1 vehicle, 12 blank, 2–11 a dose series (rows A–H)."""
    signal = np.full((8, 12), 1000.0) if values is None else values
    if values is None:
        signal[:, 11] = 50.0
        signal[:, 1:11] = 50.0 + 950.0 / (1 + np.arange(1, 11) / 5.0)
    lines = ["Reader export", "\t" + "\t".join(str(c) for c in range(1, 13))]
    lines += ["\t".join([chr(65 + r), *(f"{v:g}" for v in signal[r])]) for r in range(8)]
    export = tmp_path / "export.tsv"
    export.write_text("\n".join(lines) + "\n")
    rows = []
    for r in range(1, 9):
        rows.append({"well": well_name(r, 1), "role": "vehicle", "cell_line": "p"})
        rows.append({"well": well_name(r, 12), "role": "blank", "cell_line": "p"})
        for c in range(2, 12):
            rows.append({"well": well_name(r, c), "role": "sample", "cell_line": "p", "drug": "laro",
                         "dose": float(c - 1), "unit": unit})  # fmt: skip
    layout = tmp_path / "map.csv"
    pd.DataFrame(rows).to_csv(layout, index=False)
    return export, layout


def test_wells_and_dose_response_state_molar_units(tmp_path: Path) -> None:
    export, layout = _plate(tmp_path)
    code, exc = cli("-q", "plate", str(export), "--map", str(layout), "-o", str(tmp_path / "out"))
    assert code == 0, exc
    wells = pd.read_csv(tmp_path / "out" / "wells.tsv", sep="\t")
    samples = wells[wells["role"] == "sample"]
    assert samples["conc1"].max() == pytest.approx(10e-9)
    assert set(wells["unit"]) == {"M"} and set(samples["map_unit"]) == {"nM"}
    dr = pd.read_csv(tmp_path / "out" / "dose_response.tsv", sep="\t")
    assert set(dr["unit"]) == {"M"} and dr["dose"].max() == pytest.approx(10e-9)


def test_inf_and_impossible_viability_are_reported_and_fail_qc(tmp_path: Path) -> None:
    signal = np.full((8, 12), 1000.0)
    signal[:, 11] = 50.0
    signal[2, 4] = np.inf  # a reading of inf
    signal[3, 5] = -9000.0  # far below the blank: about −1000% viability
    export, layout = _plate(tmp_path, signal)
    wells = normalise(read_plate_values(export), read_plate_map(layout))
    inf_well = wells[wells["well"] == "C05"].iloc[0]
    low_well = wells[wells["well"] == "D06"].iloc[0]
    assert np.isnan(inf_well["viability"]) and "not computed" in inf_well["issue"]
    assert low_well["viability"] < -900 and low_well["issue"].startswith("implausible")
    qc = plate_qc(wells).iloc[0]
    assert qc["qc"] != "pass" and qc["n_unusable"] == 1 and qc["n_implausible"] == 1


def test_vehicle_at_blank_gives_no_viability_and_fails_qc(tmp_path: Path) -> None:
    signal = np.full((8, 12), 50.0)
    export, layout = _plate(tmp_path, signal)
    wells = normalise(read_plate_values(export), read_plate_map(layout))
    assert wells["viability"].isna().all() and (wells["issue"] != "").all()
    assert plate_qc(wells)["qc"].iloc[0] != "pass"


@FEW
@given(st.lists(st.one_of(st.floats(allow_nan=False), st.just(float("inf")), st.floats(-1e4, 1e5)),
                min_size=96, max_size=96))  # fmt: skip
def test_generated_plates_never_pass_qc_on_impossible_wells(
    tmp_path: Path, values: list[float]
) -> None:
    export, layout = _plate(tmp_path, np.array(values).reshape(8, 12))
    wells = normalise(read_plate_values(export), read_plate_map(layout))
    v = wells["viability"].to_numpy(float)
    assert not np.isinf(v).any()
    bad = wells["value"].isna() | ~np.isfinite(wells["value"].astype(float))
    bad |= (v < VIABILITY_RANGE[0]) | (v > VIABILITY_RANGE[1])
    assert (wells.loc[bad, "issue"] != "").all()
    if bad.any():
        assert plate_qc(wells)["qc"].iloc[0] != "pass"


def _export_variants(tmp_path: Path) -> dict[str, bytes]:
    export, _ = _plate(tmp_path)
    good = export.read_bytes()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return {
        "fake.xlsx": good,  # text named .xlsx
        "bad_zip.xlsx": b"PK\x03\x04 not really a zip",
        "workbook.tsv": zipped.getvalue(),
        "binary.tsv": bytes(range(256)) * 8,
        "empty.tsv": b"",
        "broken.tsv.gz": gzip.compress(good)[:30],
        "long_line.tsv": good + b"x" * 10_000_000 + b"\n",
        "utf16_odd.tsv": b"\xff\xfe" + b"A",
    }


def test_broken_plate_exports_exit_1_not_3(tmp_path: Path) -> None:
    _, layout = _plate(tmp_path)
    for name, content in _export_variants(tmp_path).items():
        path = tmp_path / name
        path.write_bytes(content)
        code, exc = cli("plate", str(path), "--map", str(layout), "-o", str(tmp_path / f"o_{name}"))
        assert code == 1, (name, exc)
        assert_input_error(exc, line=False)
        assert not (tmp_path / f"o_{name}").exists()


@pytest.mark.parametrize("variant", ["gz", "cr", "crlf", "bom", "bom_cr_gz"])
def test_plate_exports_and_maps_in_gzip_bom_and_cr_read_like_plain(
    tmp_path: Path, variant: str
) -> None:
    export, layout = _plate(tmp_path)
    want = normalise(read_plate_values(export), read_plate_map(layout))

    def mangle(path: Path) -> Path:
        text = path.read_text()
        if "cr" in variant:
            text = text.replace("\n", "\r\n" if variant == "crlf" else "\r")
        raw = (b"\xef\xbb\xbf" if "bom" in variant else b"") + text.encode()
        out = path.with_name("v_" + path.name + (".gz" if "gz" in variant else ""))
        out.write_bytes(gzip.compress(raw) if "gz" in variant else raw)
        return out

    got = normalise(read_plate_values(mangle(export)), read_plate_map(mangle(layout)))
    pd.testing.assert_frame_equal(got, want)


def test_yaml_map_gzipped_reads_like_plain(tmp_path: Path) -> None:
    text = ("plate_size: 96\nunit: nM\nwells:\n  - {wells: A1:H1, role: vehicle, cell_line: p}\n"
            "  - {wells: A12:H12, role: blank}\n"
            "  - {wells: A2:A11, role: sample, cell_line: p, drug: laro, dose: [1,2,3,4,5,6,7,8,9,10]}\n")  # fmt: skip
    plain, gz = tmp_path / "m.yaml", tmp_path / "m.yaml.gz"
    plain.write_text(text)
    gz.write_bytes(gzip.compress(("\ufeff" + text.replace("\n", "\r")).encode()))
    pd.testing.assert_frame_equal(read_plate_map(gz), read_plate_map(plain))


def test_broken_plate_maps_are_input_errors(tmp_path: Path) -> None:
    export, layout = _plate(tmp_path)
    good = layout.read_text()
    cases = {
        "empty.csv": b"",
        "header_only.csv": good.split("\n")[0].encode() + b"\n",
        "ragged.csv": good.replace("\n", ",extra\n", 3).encode(),
        "binary.csv": b"\x00\x01\x02" * 100,
        "latin1.csv": good.replace("laro", "l\xe4ro").encode("latin-1"),
        "inf_dose.csv": good.replace(",1.0,nM", ",inf,nM", 1).encode(),
        "neg_dose.csv": good.replace(",1.0,nM", ",-1.0,nM", 1).encode(),
        "no_unit.csv": good.replace(",1.0,nM", ",1.0,", 1).encode(),
        "binary.yaml": b"\x00\x01wells: []",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        code, exc = cli("plate", str(export), "--map", str(path), "-o", str(tmp_path / "o"))
        assert code == 1, (name, exc)
        assert_input_error(exc, line=False)


def _export_in(fmt: str, raw: bytes) -> bytes:
    """The grid export of :func:`_plate` rewritten in a vendor's layout."""
    if fmt == "gen5":
        return b"Results\n" + raw.replace(b"Reader export\n", b"")
    if fmt == "envision":
        return b"Plate information\nPlate,Label\n1,lum\n" + b"\n".join(
            line.split(b"\t", 1)[-1].replace(b"\t", b",") for line in raw.split(b"\n")[2:]
        )
    if fmt == "softmax":
        body = raw.replace(b"Reader export\n", b"").replace(b"\n", b"\n\t")
        return b"Plate:\tP1\t1.3\tPlateFormat\n\t" + body
    return raw


@pytest.mark.parametrize("fmt", ["grid", "gen5", "softmax", "envision"])
@pytest.mark.parametrize("cr", [False, True])
def test_vendor_layouts_read_with_either_line_end(tmp_path: Path, fmt: str, cr: bool) -> None:
    export, _ = _plate(tmp_path)
    raw = _export_in(fmt, export.read_bytes())
    path = tmp_path / "v.txt"
    path.write_bytes(raw.replace(b"\n", b"\r") if cr else raw)
    got = read_plate_values(path, fmt)  # type: ignore[arg-type]
    want = read_plate_values(export)
    assert len(got) == 96
    np.testing.assert_array_equal(got["value"], want["value"])


@pytest.mark.parametrize("fmt", ["grid", "gen5", "softmax", "envision"])
@FEW
@given(junk=st.binary(max_size=300), at=st.floats(0, 1), cr=st.booleans())
def test_arbitrary_bytes_in_plate_exports_read_or_fail_cleanly(tmp_path: Path, fmt: str, junk: bytes,
                                                               at: float, cr: bool) -> None:  # fmt: skip
    export, layout = _plate(tmp_path)
    raw = _export_in(fmt, export.read_bytes())
    if cr:
        raw = raw.replace(b"\n", b"\r")
    k = int(at * len(raw))
    path = tmp_path / "fuzz.txt"
    path.write_bytes(raw[:k] + junk + raw[k:])
    try:
        values = read_plate_values(path, fmt)  # type: ignore[arg-type]
        wells = normalise(values, read_plate_map(layout), path=path)
    except InputError as exc:
        assert exc.location is not None and "np.float64" not in str(exc)
        return
    assert set(values.columns) >= {"plate", "well", "value", "flag"}
    plate_qc(wells)


def _gdsc(tmp_path: Path, change: dict[tuple[str, int], object] | None = None) -> Path:
    """A tiny GDSC well table: 4 vehicle, 2 blank and 4 sample wells of one scan."""
    tags = ["NC-1"] * 4 + ["B"] * 2 + ["L12-D1-S", "L12-D2-S", "L12-D3-S", "L12-D4-S"]
    frame = pd.DataFrame({"SCAN_ID": 1, "POSITION": range(1, 11), "TAG": tags, "DRUG_ID": 1003,
                          "CONC": [np.nan] * 6 + [0.01, 0.1, 1.0, 10.0],
                          "INTENSITY": [1000.0] * 4 + [50.0] * 2 + [900.0, 700.0, 300.0, 100.0],
                          "CELL_LINE_NAME": "X"})  # fmt: skip
    for (col, row), value in (change or {}).items():
        frame[col] = frame[col].astype(object)
        frame.loc[row, col] = value
    path = tmp_path / "gdsc.csv"
    frame.to_csv(path, index=False)
    return path


def test_gdsc_tables_with_bad_cells_are_errors_or_reported_wells(tmp_path: Path) -> None:
    from trkres.assays.plates.wells import read_gdsc_wells

    for col, value in (
        ("POSITION", "A1"),
        ("POSITION", 99999),
        ("CONC", -1.0),
        ("INTENSITY", "high"),
    ):
        with pytest.raises(InputError) as e:
            read_gdsc_wells(_gdsc(tmp_path, {(col, 7): value}))
        assert (
            e.value.location is not None
            and e.value.location.row == 8
            and e.value.location.column == col
        )
    values, layout = read_gdsc_wells(_gdsc(tmp_path, {("INTENSITY", 8): np.inf}))
    wells = normalise(values, layout)
    assert "not computed" in wells.loc[wells["well"] == well_name(1, 9), "issue"].iloc[0]
    assert plate_qc(wells)["qc"].iloc[0] != "pass"


YAML_MAP = (
    "plate_size: 96\nunit: nM\nwells:\n  - {wells: A1:H1, role: vehicle, cell_line: p}\n"
    "  - {wells: A12:H12, role: blank}\n"
    "  - {wells: A2:A11, role: sample, cell_line: p, drug: laro, dose: [1,2,3,4,5,6,7,8,9,10]}\n"
)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("plate_size: 96", "plate_size: [96]"),
        ("plate_size: 96", "plate_size: {a: 1}"),
        ("plate_size: 96", "plate_size: true"),
        ("unit: nM", "unit: [nM]"),
        ("cell_line: p}", "cell_line: {a: 1}}"),
        ("role: blank}", "role: blank, plate: x}"),
        ("role: blank}", "role: blank, plate: .inf}"),
        ("role: blank}", "role: blank, plate: 1.5}"),
        ("drug: laro", "drug: laro, drug2: tram"),
        ("dose: [1,2", "dose: [.inf,2"),
    ],
)
def test_hostile_yaml_maps_are_input_errors(tmp_path: Path, old: str, new: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(YAML_MAP.replace(old, new, 1))
    with pytest.raises(InputError) as e:
        read_plate_map(path)
    assert e.value.location is not None and e.value.expected is not None


_yaml_value = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2000), st.floats(allow_nan=True),
    st.sampled_from(["A1", "A1:H1", "B3-B5", "ZZ9", "sample", "vehicle", "nM", "xM", ""]),
    st.lists(st.one_of(st.floats(0, 100), st.dictionaries(st.just("k"), st.integers(), max_size=1)), max_size=12),
    st.dictionaries(st.just("k"), st.integers(), max_size=1),
)  # fmt: skip


@FEW
@given(
    st.sampled_from(["wells", "role", "cell_line", "drug", "dose", "unit", "plate", "drug2"]),
    _yaml_value,
)
def test_generated_yaml_map_values_read_or_fail_cleanly(
    tmp_path: Path, key: str, value: object
) -> None:
    import yaml

    doc = yaml.safe_load(YAML_MAP)
    doc["wells"][2][key] = value
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc))
    export, _ = _plate(tmp_path)
    try:
        wells = normalise(read_plate_values(export), read_plate_map(path), path=export)
    except InputError as exc:
        assert exc.location is not None
        return
    plate_qc(wells)


def _degenerate(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    f = frame.copy()
    if kind == "constant_50":  # flat single-drug curves crashed the batch 4PL fitter
        f["response"] = 50.0
    elif kind == "no_combination_cells":
        f = f[(f["conc1"] == 0) | (f["conc2"] == 0)]
    elif kind == "drug2_never_dosed":
        f["conc2"] = 0
    elif kind == "one_row":
        f = f.head(1)
    return f


@pytest.mark.parametrize(
    "kind", ["constant_50", "no_combination_cells", "drug2_never_dosed", "one_row"]
)
def test_degenerate_tables_give_labelled_blocks(combos: pd.DataFrame, kind: str) -> None:
    import matplotlib.pyplot as plt

    section = synergy_section(run_synergy(from_frame(_degenerate(combos, kind), response="viability"),
                                          SynergyOptions(n_boot=40, musyc=True, condition="line")))  # fmt: skip
    for fig in section.figures:
        plt.close(fig.static)
    summary = next(t.frame for t in section.tables if t.name == "synergy_summary")
    assert (summary["status"] != "ok").all()


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("block_id", np.nan, "missing block_id"),
        ("response", 1e300, "impossible response"),
        ("response", -5000.0, "impossible response"),
        ("conc1", 1e12, "impossible concentration"),  # nM: 1000 M
    ],
)
def test_impossible_values_are_errors_naming_the_row(combos: pd.DataFrame, column: str, value: float,
                                                     words: str) -> None:  # fmt: skip
    f = combos.astype({column: object})
    f.loc[4, column] = value
    with pytest.raises(InputError, match=words) as e:
        from_frame(f, response="viability")
    assert (
        e.value.location is not None
        and e.value.location.row == 5
        and e.value.location.column == column
    )
    assert "np.float64" not in str(e.value)


def test_a_workbook_named_csv_is_read_as_the_workbook_it_is(tmp_path: Path) -> None:
    sheet = pd.DataFrame(
        [["", *range(1, 13)]] + [[chr(65 + r), *([1000.0] * 12)] for r in range(8)]
    )
    misnamed = tmp_path / "export.csv"
    with pd.ExcelWriter(misnamed, engine="openpyxl") as writer:
        sheet.to_excel(writer, header=False, index=False)
    got = read_plate_values(misnamed)
    assert len(got) == 96 and (got["value"] == 1000.0).all()
    with pytest.raises(InputError, match="ZIP"):  # a synergy table has no workbook reader
        read_combinations(misnamed)


def test_synergy_without_figures_writes_the_same_tables(tmp_path: Path) -> None:
    args = ["synergy", str(COMBO), "--response", "viability", "--n-boot", "0", "--no-musyc"]
    with_figures = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "a")])
    without = CliRunner().invoke(app, [*args, "--no-figures", "-o", str(tmp_path / "b")])
    assert with_figures.exit_code == 0 and without.exit_code == 0, without.output
    assert (tmp_path / "a" / "figures").is_dir() and not (tmp_path / "b" / "figures").exists()
    tables = sorted(p.name for p in (tmp_path / "a").glob("*.tsv"))
    assert tables == sorted(p.name for p in (tmp_path / "b").glob("*.tsv")) and tables
    for name in tables:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
