"""Hostile plate-reader exports and plate maps, round 3.

Classes: a reader flag or an empty cell inside an EnVision grid (cells were shifted
left and rows after a flag restarted at row A); short rows in Gen5 and SoftMax Pro
grids (a Gen5 row's read label was read as a value, a SoftMax well was lost); a
Gen5 continuation line before row A (named row AF); more than 32 Gen5 rows (an
IndexError); column 0 (``A0``) taken for a well; one well mapped both for every
plate and for one plate (joined twice, with two doses).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import trkres as tr
from trkres.assays.plates.io import parse_well, read_envision, read_gen5, read_softmax
from trkres.errors import InputError

_HEADER = "\t" + "\t".join(str(c) for c in range(1, 13))


def _grid_rows(sep: str) -> list[str]:
    return [sep.join(str(100 * r + c) for c in range(1, 13)) for r in range(1, 9)]


def _envision(path: Path, rows: list[str]) -> Path:
    """An EnVision export as the instrument writes it (blocks, blank line, grid rows ending in ',')."""
    path.write_text(
        "Plate information\nPlate,Label\n1,Lum\n\nBackground information\n"
        "Plate,Label,Result\n1,Lum,0\n\n" + ",\n".join(rows) + ",\n\n\nBasic assay information\n"
        "Assay ID: ,,,,2899\n"
    )
    return path


def test_envision_reader_flags_stay_at_their_well(tmp_path: Path) -> None:
    rows = _grid_rows(",")
    rows[0] = rows[0].replace("101", "OVRFLW")  # row A, column 1: the grid's first cell
    rows[3] = rows[3].replace("405", "OVRFLW")  # row D, column 5
    values = read_envision(_envision(tmp_path / "e.csv", rows))
    assert len(values) == 96 and not values["well"].duplicated().any()
    flagged = values[values["flag"] != ""]
    assert flagged["well"].tolist() == ["A01", "D05"]
    assert values.set_index("well").loc["E01", "value"] == 501
    assert values.set_index("well").loc["H12", "value"] == 812


def test_envision_empty_cell_and_ragged_row_are_errors(tmp_path: Path) -> None:
    rows = _grid_rows(",")
    rows[5] = rows[5].replace(",603,", ",,")  # row F: an empty well, not a shift left
    with pytest.raises(InputError, match="empty cell") as exc:
        read_envision(_envision(tmp_path / "e.csv", rows))
    assert exc.value.location is not None and exc.value.location.line == 14
    rows = _grid_rows(",")
    rows[5] = rows[5].rsplit(",", 1)[0]  # row F has 11 values
    with pytest.raises(InputError, match="ragged row"):
        read_envision(_envision(tmp_path / "e.csv", rows))


def _gen5(path: Path, rows: list[str]) -> Path:
    path.write_text("Results\n" + _HEADER + "\n" + "\n".join(rows) + "\n")
    return path


def test_gen5_short_row_is_an_error_not_a_value_from_its_label(tmp_path: Path) -> None:
    rows = [f"{chr(65 + r)}\t{line}\tLum" for r, line in enumerate(_grid_rows("\t"))]
    rows[2] = "C\t" + "\t".join(str(c) for c in range(1, 12)) + "\tLum"  # 11 values
    with pytest.raises(InputError, match="wrong number of cells") as exc:
        read_gen5(_gen5(tmp_path / "g.txt", rows))
    assert exc.value.location is not None and exc.value.location.line == 5


def test_gen5_continuation_before_row_a_and_too_many_rows(tmp_path: Path) -> None:
    first = "\t" + "\t".join("1" for _ in range(12)) + "\tLum"
    rows = [f"{chr(65 + r)}\t{line}\tLum" for r, line in enumerate(_grid_rows("\t"))]
    with pytest.raises(InputError, match="continuation line"):
        read_gen5(_gen5(tmp_path / "g.txt", [first, *rows]))
    labels = [chr(65 + r) for r in range(26)] + [f"A{chr(65 + r)}" for r in range(8)]
    many = [f"{k}\t" + "\t".join("1" for _ in range(12)) for k in labels]
    with pytest.raises(InputError, match="unexpected row label"):
        read_gen5(_gen5(tmp_path / "g.txt", many))


def test_softmax_short_row_is_an_error(tmp_path: Path) -> None:
    body = [
        "\t" + ("25.0" if r == 0 else "") + "\t" + "\t".join(str(100 * r + c) for c in range(1, 13))
        for r in range(8)
    ]
    body[3] = body[3].rsplit("\t", 1)[0]  # row D: 11 values
    path = tmp_path / "s.txt"
    path.write_text(
        "Plate:\tP1\t1.3\tPlateFormat\n\tTemperature(C)\t"
        + "\t".join(str(c) for c in range(1, 13))
        + "\n"
        + "\n".join(body)
        + "\n"
    )
    with pytest.raises(InputError, match="wrong number of values") as exc:
        read_softmax(path)
    assert exc.value.location is not None and exc.value.location.line == 6


@pytest.mark.parametrize("name", ["A0", "A00", "b0"])
def test_column_zero_is_not_a_well(name: str) -> None:
    assert parse_well(name) is None
    assert parse_well("a1") == parse_well("A01") == (1, 1)


def test_well_mapped_for_every_plate_and_for_one_plate_is_an_error() -> None:
    values = pd.DataFrame(
        {"plate": 1, "well": [f"A{c}" for c in range(1, 5)], "value": [1000.0, 1000, 500, 50]}
    )
    layout = pd.DataFrame(
        {
            "well": ["A1", "A2", "A3", "A4", "A3"],
            "role": ["vehicle", "vehicle", "sample", "blank", "sample"],
            "cell_line": "x",
            "drug": "larotrectinib",
            "dose": [0, 0, 10, 0, 1000],
            "unit": "nM",
            "plate": [None, None, None, None, 1],
        }
    )
    with pytest.raises(InputError, match="listed twice") as exc:
        tr.plates.read(values, layout)
    assert exc.value.location is not None and exc.value.location.row == 5


def _full_384() -> pd.DataFrame:
    wells = [f"{r}{c}" for r in "ABCDEFGHIJKLMNOP" for c in range(1, 25)]
    return pd.DataFrame({"plate": 1, "well": wells, "value": 1000.0})


def test_export_wells_the_map_leaves_out_are_counted() -> None:
    layout = pd.DataFrame(
        {"well": ["A1", "A2", "B1", "B2"], "role": ["vehicle"] * 2 + ["blank"] * 2}
    )
    wells = tr.plates.read(_full_384(), layout)
    assert len(wells) == 4
    qc = tr.plates.qc(wells)
    assert qc["n_unmapped"].tolist() == [380]  # 384 readings = 4 used + 380 reported


def test_export_larger_than_the_map_s_plate_size_is_an_error(tmp_path: Path) -> None:
    layout = tmp_path / "map.yaml"
    layout.write_text("plate_size: 96\nwells:\n  - {wells: A1:A2, role: vehicle}\n")
    with pytest.raises(InputError, match="larger than the plate map"):
        tr.plates.read(_full_384(), layout)


def test_edge_wells_come_from_the_export_s_plate_not_the_map_s_extent() -> None:
    # a map over A1:H12 of a 384-well plate: row H and column 12 are interior wells
    values = _full_384()
    values.loc[values["well"].str.match(r"^H|^[A-H]12$"), "value"] = 500.0
    layout = pd.DataFrame({"well": [f"{r}{c}" for r in "ABCDEFGH" for c in range(1, 13)],
                           "role": "vehicle"})  # fmt: skip
    qc = tr.plates.qc(tr.plates.read(values, layout))
    # edge (row A, column 1): 17 wells at 1000, A12 and H1 at 500; interior: 60 at 1000, 17 at 500
    edge, interior = (17 * 1000 + 2 * 500) / 19, (60 * 1000 + 17 * 500) / 77
    assert qc["edge_to_interior"].iloc[0] == pytest.approx(edge / interior)


def test_blank_row_inside_a_grid_is_an_error_not_the_grid_s_end(tmp_path: Path) -> None:
    from trkres.assays.plates.io import read_grid

    rows = [f"{r},{','.join('5' for _ in range(12))}" for r in "abcdefgh"]
    header = "," + ",".join(str(c) for c in range(1, 13))
    path = tmp_path / "g.csv"
    path.write_bytes(("\ufeff" + "\r\n".join([header, *rows[:4], "", *rows[4:]]) + "\r\n").encode())
    with pytest.raises(InputError, match="blank line inside a plate grid") as exc:
        read_grid(path)  # rows E-H were skipped lines, the plate 48 wells
    assert exc.value.location is not None and exc.value.location.line == 6
    path.write_text("\n".join([header, *rows, "", "Notes", "E,not a row"]) + "\n")
    assert len(read_grid(path)) == 96


def test_gdsc_table_with_384_and_1536_well_scans_numbers_each_plate_by_its_own_size(
    tmp_path: Path,
) -> None:
    import numpy as np

    from trkres.assays.plates.wells import read_gdsc_wells

    frame = pd.DataFrame({
        "SCAN_ID": [1] * 3 + [2] * 3, "POSITION": [1, 25, 384, 1, 49, 1536], "TAG": "NC-1",
        "DRUG_ID": 1, "CONC": np.nan, "INTENSITY": 1000.0, "CELL_LINE_NAME": "X",
    })  # fmt: skip
    path = tmp_path / "gdsc.csv"
    frame.to_csv(path, index=False)
    values, _ = read_gdsc_wells(path)
    assert values["well"].tolist() == ["A01", "B01", "P24", "A01", "B01", "AF48"]
