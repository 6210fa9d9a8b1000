"""Plate-reader exports, plate maps, normalisation, QC, and plates → synergy / dose-response."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trkres.assays.plates.io import parse_well, read_plate_values, well_name
from trkres.assays.plates.wells import (
    normalise,
    plate_qc,
    read_plate_map,
    to_combinations,
    to_dose_response,
)
from trkres.assays.synergy.io import from_frame
from trkres.assays.synergy.scorer import Synergy
from trkres.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ntrk_resistance" / "lab"
BLANK, SCALE = 180.0, 10_000.0


def _write_grid(path: Path, signal: np.ndarray, label: str = "") -> None:
    rows, cols = signal.shape
    lines = ["Reader export,,", "\t" + "\t".join(str(c) for c in range(1, cols + 1))]
    for r in range(rows):
        cells = [f"{v:.4f}" if np.isfinite(v) else "OVRFLW" for v in signal[r]]
        lines.append("\t".join([well_name(r + 1, 1)[:-2], *cells, *([label] if label else [])]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def combo_plate(tmp_path: Path) -> tuple[Path, Path, pd.DataFrame]:
    """The example larotrectinib × trametinib matrix laid out on a 384-well plate (noise-free signal
    = blank + viability × scale), with blanks and positive controls; returns grid, map, truth."""
    truth = pd.read_csv(EXAMPLE / "combination_larotrectinib_trametinib.tsv", sep="\t")
    signal = np.full((16, 24), BLANK)
    map_rows = []
    for k, r in enumerate(truth.itertuples()):
        row, col = k // 24 + 1, k % 24 + 1
        signal[row - 1, col - 1] = BLANK + r.response / 100 * SCALE
        vehicle = r.conc1 == 0 and r.conc2 == 0
        map_rows.append({"well": well_name(row, col), "role": "vehicle" if vehicle else "sample", "line": r.line,
                         "drug1": "larotrectinib" if r.conc1 else "", "drug2": "trametinib" if r.conc2 else "",
                         "dose1": r.conc1, "dose2": r.conc2, "unit": "nM"})  # fmt: skip
    for c in range(1, 9):
        map_rows.append({"well": well_name(16, c), "role": "blank"})
        map_rows.append({"well": well_name(16, c + 8), "role": "positive_control"})
        signal[15, c + 7] = BLANK + 0.02 * SCALE + (c % 2) * 10
    grid, layout = tmp_path / "plate.tsv", tmp_path / "map.csv"
    _write_grid(grid, signal)
    pd.DataFrame(map_rows).replace("", np.nan).to_csv(layout, index=False)
    return grid, layout, truth


def test_plate_to_synergy_matches_the_table(combo_plate: tuple[Path, Path, pd.DataFrame]) -> None:
    grid, layout, truth = combo_plate
    wells = normalise(read_plate_values(grid, "grid"), read_plate_map(layout))
    table = to_combinations(wells)
    assert len(table) == len(truth)
    from_plate = Synergy(n_boot=0, musyc=False).fit(from_frame(table, response="viability"))
    # The plate is normalised to its vehicle wells' mean: do the same to the table, then all must agree.
    vehicle = (
        truth[(truth["conc1"] == 0) & (truth["conc2"] == 0)].groupby("line")["response"].mean()
    )
    scaled = truth.assign(response=100 * truth["response"] / truth["line"].map(vehicle))
    direct = Synergy(n_boot=0, musyc=False).fit(from_frame(scaled, response="viability"))
    a = from_plate.summary_.sort_values("cell_line")[
        ["bliss", "hsa", "loewe", "zip", "css"]
    ].to_numpy()
    b = direct.summary_.sort_values("line")[["bliss", "hsa", "loewe", "zip", "css"]].to_numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_normalisation_and_qc_by_hand(combo_plate: tuple[Path, Path, pd.DataFrame]) -> None:
    grid, layout, _ = combo_plate
    wells = normalise(read_plate_values(grid, "grid"), read_plate_map(layout))
    veh = wells[wells["role"] == "vehicle"]
    assert veh.groupby("cell_line")["viability"].mean().to_numpy() == pytest.approx([100.0, 100.0])
    assert (wells.loc[wells["role"] == "blank", "signal"] == 0).all()
    qc = plate_qc(wells).iloc[0]
    v = veh["signal"]
    p = wells.loc[wells["role"] == "positive_control", "signal"]
    assert qc["z_prime"] == pytest.approx(1 - 3 * (v.std() + p.std()) / abs(v.mean() - p.mean()))
    assert qc["vehicle_cv_pct"] == pytest.approx(100 * v.std() / v.mean())


def test_yaml_map_with_ranges(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(
        "plate_size: 96\nunit: nM\nwells:\n"
        "  - {wells: 'A1:H1', role: vehicle, cell_line: parental}\n"
        "  - {wells: 'A2:A5', role: sample, cell_line: parental, drug: larotrectinib, dose: [1, 10, 100, 1000]}\n",
        encoding="utf-8",
    )
    m = read_plate_map(path)
    assert len(m) == 12 and m.loc[m["well"] == "A05", "conc1"].iloc[0] == pytest.approx(1e-6)
    path.write_text(
        "wells:\n  - {wells: 'A2:A5', role: sample, drug: x, dose: [1, 10]}\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="one value per well") as e:
        read_plate_map(path)
    assert e.value.location is not None and e.value.location.line == 2


def test_bad_maps_and_mismatched_layouts(tmp_path: Path) -> None:
    grid = tmp_path / "g.tsv"
    _write_grid(grid, np.ones((8, 12)))
    bad_role = tmp_path / "r.csv"
    bad_role.write_text("well,role\nA1,control\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown well role") as e:
        read_plate_map(bad_role)
    assert e.value.location is not None and e.value.location.row == 1
    big = tmp_path / "big.csv"
    big.write_text("well,role\nP24,vehicle\n", encoding="utf-8")  # a 384-well position
    with pytest.raises(InputError, match="layout does not match"):
        normalise(read_plate_values(grid, "grid"), read_plate_map(big), path=grid)
    twice = tmp_path / "twice.csv"
    twice.write_text("well,role\nA1,vehicle\nA01,blank\n", encoding="utf-8")
    with pytest.raises(InputError, match="twice"):
        read_plate_map(twice)
    no_dose = tmp_path / "nodose.csv"
    no_dose.write_text("well,role,drug\nA1,sample,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="doses"):
        read_plate_map(no_dose)
    short = tmp_path / "short.tsv"
    short.write_text("\t1\t2\t3\nA\t1\t\t3\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty cell") as e:
        read_plate_values(short, "grid")
    assert (
        e.value.location is not None and e.value.location.line == 2 and e.value.location.column == 3
    )


def test_flags_are_kept_not_dropped(tmp_path: Path) -> None:
    signal = np.ones((8, 12))
    signal[2, 3] = np.inf
    grid = tmp_path / "g.tsv"
    _write_grid(grid, signal)
    values = read_plate_values(grid, "grid")
    assert len(values) == 96
    row = values[values["well"] == "C04"].iloc[0]
    assert np.isnan(row["value"]) and row["flag"] == "OVRFLW"


def test_well_names() -> None:
    assert (
        parse_well("A1") == (1, 1)
        and parse_well("h12") == (8, 12)
        and parse_well("AF48") == (32, 48)
    )
    assert parse_well("Z99") is None or parse_well("Z99") == (26, 99)
    assert parse_well("AG1") is None and parse_well("1A") is None
    assert well_name(32, 48) == "AF48" and well_name(1, 1) == "A01"


def test_vendor_exports(shared_data: Path) -> None:
    folder = shared_data / "dose_response" / "plate_reader_exports"
    gen5 = read_plate_values(
        folder / "gen5_240411_172731_BNCH2345883_abs450_96well_non_numeric_values.txt", "gen5"
    )
    assert len(gen5) == 96 and gen5["flag"].value_counts().to_dict() == {
        "": 83,
        "OVRFLW": 8,
        "MISSED": 5,
    }
    assert gen5.loc[gen5["well"] == "A01", "value"].iloc[0] == pytest.approx(2.100)
    assert gen5.loc[gen5["well"] == "H01", "flag"].iloc[0] == "OVRFLW"
    lum = read_plate_values(folder / "gen5_endpoint_singleplate.txt", "gen5")
    assert set(lum["read"]) == {"LUM:Lum", "NormLum"}  # the Layout grid (Well IDs) is not a read
    assert lum.query("read == 'LUM:Lum' and well == 'B02'")["value"].iloc[0] == 9406
    assert lum.query("read == 'NormLum' and well == 'A12'")["value"].iloc[0] == pytest.approx(
        -0.020
    )
    smp = read_plate_values(
        folder / "softmaxpro_absorbance_endpoint_example01.txt", "softmax"
    )  # UTF-16
    assert sorted(smp["plate"].unique()) == [1, 2] and len(smp) == 192
    assert smp.query("plate == 1 and well == 'A01'")["value"].iloc[0] == pytest.approx(
        3.41797666666667
    )
    assert smp.query("plate == 1 and well == 'H03'")["value"].iloc[0] == pytest.approx(
        0.000166666666666667
    )
    env = read_plate_values(folder / "envision_absorbance_example01.csv", "envision")
    assert env.groupby(["plate", "read"]).size().tolist() == [384, 384, 384]
    first = env[env["read"] == "BCA Absorbance @ 562(1)"]
    assert first["row"].max() == 16 and first["column"].max() == 24
    assert first.query("well == 'A01'")["value"].iloc[0] == pytest.approx(2.63)
    with pytest.raises(InputError, match="no plate block"):
        read_plate_values(folder / "gen5_endpoint_singleplate.txt", "softmax")


def test_plates_in_a_study_feed_dose_response_and_synergy(
    tmp_path: Path, combo_plate: tuple[Path, Path, pd.DataFrame]
) -> None:
    from support import write_study
    from trkres.study.runner import run_study

    grid, layout, _ = combo_plate
    # A single-drug plate: entrectinib on two lines, IC50 2 nM vs 500 nM, triplicates, 8 vehicles each.
    doses = [0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000]
    signal = np.full((8, 12), BLANK)
    rows = []
    for line_k, (line, ic50) in enumerate((("parental", 2.0), ("resistant", 500.0))):
        for rep in range(3):
            r = line_k * 4 + rep + 1
            for c, d in enumerate(doses, start=1):
                signal[r - 1, c - 1] = BLANK + SCALE / (1 + d / ic50)
                rows.append({"well": well_name(r, c), "role": "sample", "line": line, "drug": "entrectinib",
                             "dose": d, "unit": "nM"})  # fmt: skip
        for c in (11, 12):
            for rep in range(4):
                rows.append(
                    {"well": well_name(line_k * 4 + rep + 1, c), "role": "vehicle", "line": line}
                )
                signal[line_k * 4 + rep, c - 1] = BLANK + SCALE
    study = tmp_path / "study"
    study.mkdir()
    _write_grid(study / "single.tsv", signal)
    pd.DataFrame(rows).to_csv(study / "single_map.csv", index=False)
    (study / "combo.tsv").write_text(grid.read_text(encoding="utf-8"), encoding="utf-8")
    (study / "combo_map.csv").write_text(layout.read_text(encoding="utf-8"), encoding="utf-8")
    write_study(study, (
        "name: plates\ninputs:\n"
        "  - {kind: plate, path: single.tsv, layout: single_map.csv}\n"
        "  - {kind: plate, path: combo.tsv, layout: combo_map.csv, format: grid}\n"
        "options:\n  dose_response: {condition: line, reference: parental, by: [drug]}\n"
        "  synergy: {n_boot: 10}\n"
    ))  # fmt: skip
    result = run_study(study, tmp_path / "out")
    names = [s.name for s in result.sections]
    assert {"plates", "dose_response", "synergy"} <= set(names)
    qc = pd.read_csv(tmp_path / "out" / "tables" / "plate_qc.tsv", sep="\t")
    assert len(qc) == 2
    res = pd.read_csv(tmp_path / "out" / "tables" / "dose_response_resistance.tsv", sep="\t")
    assert res["fold_change"].iloc[0] == pytest.approx(250, rel=0.05)
    summary = pd.read_csv(tmp_path / "out" / "tables" / "synergy_summary.tsv", sep="\t")
    assert len(summary) == 2


def test_plate_command(tmp_path: Path, combo_plate: tuple[Path, Path, pd.DataFrame]) -> None:
    from typer.testing import CliRunner

    from trkres.cli import app

    grid, layout, truth = combo_plate
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plate", str(grid), "--map", str(layout), "-o", str(out)])
    assert result.exit_code == 0, result.output
    combos = pd.read_csv(out / "combinations.tsv", sep="\t")
    assert len(combos) == len(truth) and {
        "block_id",
        "drug1",
        "drug2",
        "conc1",
        "conc2",
        "response",
    } <= set(combos.columns)
    qc = pd.read_csv(out / "plate_qc.tsv", sep="\t")
    assert qc["qc"].iloc[0] == "pass" or "trend" in qc["qc"].iloc[0]
    bad = CliRunner().invoke(
        app,
        ["plate", str(grid), "--map", str(layout), "--format", "xls", "-o", str(tmp_path / "x")],
    )
    assert bad.exit_code == 1 and not (tmp_path / "x").exists()


def test_gdsc_wells_normalise_as_gdscic50(shared_data: Path) -> None:
    from trkres.assays.plates.wells import read_gdsc_wells

    path = shared_data / "dose_response" / "gdsc_example" / "gdsc_example_wells.parquet"
    values, layout = read_gdsc_wells(path, cell_line="KM12")
    wells = normalise(values, layout)
    raw = pd.read_parquet(path)
    raw = raw[raw["CELL_LINE_NAME"] == "KM12"]
    # gdscIC50: (intensity − mean blank) / (mean negative control − mean blank), per scan.
    stats_ = raw.groupby("SCAN_ID").apply(
        lambda g: pd.Series({"b": g.loc[g["TAG"] == "B", "INTENSITY"].mean(),
                             "nc": g.loc[g["TAG"] == "NC-1", "INTENSITY"].mean()}), include_groups=False)  # fmt: skip
    s = raw[raw["TAG"].str.fullmatch(r"L\d+-D\d+-S")].join(stats_, on="SCAN_ID")
    expected = np.sort(100 * (s["INTENSITY"] - s["b"]) / (s["nc"] - s["b"]))
    got = np.sort(wells.loc[wells["role"] == "sample", "viability"].to_numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert set(to_dose_response(wells)["drug"]) == set(s["DRUG_ID"].astype(int).astype(str))


def test_excel_grid_reads_like_the_csv(tmp_path: Path) -> None:
    signal = np.arange(96, dtype=float).reshape(8, 12) + 0.5
    csv_path = tmp_path / "g.tsv"
    _write_grid(csv_path, signal)
    sheet = pd.DataFrame(
        [["", *list(range(1, 13))]] + [[chr(65 + r), *signal[r]] for r in range(8)]
    )
    xlsx = tmp_path / "g.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        pd.DataFrame([["Reader: Tecan Spark"]]).to_excel(
            writer, sheet_name="info", header=False, index=False
        )
        sheet.to_excel(writer, sheet_name="plate 1", header=False, index=False)
    a, b = read_plate_values(csv_path, "grid"), read_plate_values(xlsx, "grid")
    np.testing.assert_allclose(a["value"], b["value"])
    assert (a["well"] == b["well"]).all() and len(b) == 96
