"""The plates API (tr.plates), run_plates and the plates section through the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trkres as tr
from trkres.assays.plates.io import read_plate_values, well_name
from trkres.assays.plates.options import PlateReadOptions, PlatesOptions
from trkres.assays.plates.run import PlateInput, run_plates
from trkres.assays.plates.wells import normalise, plate_qc, read_plate_map
from trkres.errors import InputError

BLANK, SCALE = 200.0, 10_000.0
DOSES = [1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000]


def _plate(ic50_nm: float = 100.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One 96-well plate: a drug on rows A–C (column 1–10), vehicles in columns 11–12 of
    rows A–D, blanks and positive controls in row H; values as in memory and the map."""
    values, layout = [], []
    for r in range(1, 9):
        for c in range(1, 13):
            well = well_name(r, c)
            if r <= 3 and c <= 10:
                dose = DOSES[c - 1]
                v = BLANK + SCALE / (1 + dose / ic50_nm) * (1 + 0.01 * r)
                layout.append({"well": well, "role": "sample", "line": "KM12", "drug": "larotrectinib",
                               "dose": dose, "unit": "nM"})  # fmt: skip
            elif r <= 4 and c >= 11:
                v = BLANK + SCALE * (1 + 0.01 * (-1) ** (r + c))
                layout.append({"well": well, "role": "vehicle", "line": "KM12"})
            elif r == 8:
                v = BLANK + (c % 2) * 3 if c <= 6 else BLANK + 0.03 * SCALE + (c % 2) * 5
                layout.append({"well": well, "role": "blank" if c <= 6 else "positive_control"})
            else:
                v = BLANK
            values.append({"plate": 1, "well": well, "value": v})
    return pd.DataFrame(values), pd.DataFrame(layout)


def _grid_file(path: Path, values: pd.DataFrame) -> None:
    grid = values.pivot_table(index=values["well"].str[0], columns=values["well"].str[1:].astype(int),
                              values="value")  # fmt: skip
    lines = ["\t" + "\t".join(map(str, grid.columns))]
    lines += ["\t".join([row, *(repr(float(v)) for v in grid.loc[row])]) for row in grid.index]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_frames_normalise_as_the_files(tmp_path: Path) -> None:
    values, layout = _plate()
    _grid_file(tmp_path / "plate.tsv", values)
    layout.to_csv(tmp_path / "map.csv", index=False)
    from_files = normalise(
        read_plate_values(tmp_path / "plate.tsv"), read_plate_map(tmp_path / "map.csv")
    )
    in_memory = tr.plates.read(values, layout=layout)
    cols = ["plate", "well", "role", "signal", "viability", "conc1", "issue"]
    pd.testing.assert_frame_equal(in_memory[cols], from_files[cols], check_dtype=False)
    by_path = tr.plates.read(str(tmp_path / "plate.tsv"), layout=str(tmp_path / "map.csv"))
    pd.testing.assert_frame_equal(by_path, from_files)
    # Vehicles average 100 %, blanks are subtracted, and doses are molar.
    vehicles = in_memory[in_memory["role"] == "vehicle"]
    assert vehicles["viability"].mean() == pytest.approx(100.0)
    assert in_memory["conc1"].max() == pytest.approx(30e-6)


def test_qc_and_dose_response_tables() -> None:
    values, layout = _plate(ic50_nm=100.0)
    wells = tr.plates.read(values, layout=layout)
    qc = tr.plates.qc(wells)
    pd.testing.assert_frame_equal(qc, plate_qc(wells))
    assert len(qc) == 1 and qc["z_prime"].iloc[0] > 0.5
    dr = tr.plates.dose_response(wells)
    assert set(dr["curve_id"]) == {"KM12 | larotrectinib"}
    at_ic50 = dr[np.isclose(dr["dose_molar"], 100e-9)]["response"]
    assert at_ic50.mean() == pytest.approx(0.5, abs=0.02)
    with pytest.raises(InputError, match="not a combination plate"):
        tr.plates.combinations(wells)


def test_run_plates_holds_each_export_and_flags_failing_plates() -> None:
    values, layout = _plate()
    good = PlateInput("good", values, layout)
    noisy = values.copy()
    vehicle_wells = layout.loc[layout["role"] == "vehicle", "well"]
    noisy.loc[noisy["well"].isin(vehicle_wells), "value"] *= [
        0.5,
        1.5,
        0.6,
        1.4,
        0.7,
        1.3,
        0.9,
        1.1,
    ]
    result = run_plates([good, PlateInput("noisy", noisy, layout)], PlatesOptions())
    assert [p.name for p in result.plates] == ["good", "noisy"]
    assert list(result.qc["input"]) == ["good", "noisy"]
    assert [f.message.split(" plate")[0] for f in result.flags] == ["noisy"]
    assert result.plates[0].analysis_table() is not None
    assert result.plates[0].analysis_table()[0] == "dose_response"  # type: ignore[index]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "xls"}, "bad option format"),
        ({"cell_line": 3}, "bad option cell_line"),
        ({"layout_file": "x"}, "unknown option layout_file"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, object], message: str) -> None:
    values, layout = _plate()
    with pytest.raises(InputError, match=message):
        tr.plates.read(values, layout=layout, **options)


def test_bad_arguments_are_input_errors() -> None:
    values, layout = _plate()
    with pytest.raises(InputError, match="a plate map is needed"):
        tr.plates.read(values)
    with pytest.raises(InputError, match="cell_line is for GDSC"):
        tr.plates.read(values, layout=layout, cell_line="KM12")
    with pytest.raises(InputError, match="lack a column"):
        tr.plates.read(values.drop(columns="value"), layout=layout)
    with pytest.raises(InputError, match="non-numeric plate value"):
        tr.plates.read(values.assign(value="x"), layout=layout)
    with pytest.raises(InputError, match="not a well name"):
        tr.plates.read(values.assign(well="hello"), layout=layout)
    with pytest.raises(InputError, match="unknown well role"):
        tr.plates.read(values, layout=layout.assign(role="treated"))
    with pytest.raises(InputError, match="not a plate export"):
        tr.plates.read(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="lack a column"):
        tr.plates.qc(pd.DataFrame({"plate": [1]}))


def test_plates_section_through_the_registry(tmp_path: Path) -> None:
    from support import write_study
    from trkres.knowledge.loader import load_knowledge
    from trkres.study.manifest import load_study
    from trkres.study.registry import AnalysisContext, analyses

    values, layout = _plate()
    _grid_file(tmp_path / "plate.tsv", values)
    layout.to_csv(tmp_path / "map.csv", index=False)
    write_study(tmp_path, "name: s\ninputs:\n  - {kind: plate, path: plate.tsv, layout: map.csv}\n")
    analysis = next(a for a in analyses() if a.name == "plates")
    assert analysis.options_model is PlatesOptions
    section = analysis.function(AnalysisContext(load_study(tmp_path), load_knowledge(), None))
    expected = run_plates(PlateInput("plate", tmp_path / "plate.tsv", tmp_path / "map.csv"))
    tables = {t.name: t.frame for t in section.tables}
    pd.testing.assert_frame_equal(tables["plate_qc"], expected.qc)
    pd.testing.assert_frame_equal(tables["plate_wells"], expected.wells)
    assert [f.name for f in section.figures] == ["plate_plate"]
    assert "plate → dose-response" in section.summary
    import matplotlib.pyplot as plt

    plt.close(section.figures[0].static)


def test_read_options_extend_the_study_options() -> None:
    assert set(PlatesOptions.model_fields) == {"read"}
    assert set(PlateReadOptions.model_fields) == {"read", "format", "cell_line"}


def test_plate_draws_wells_in_plate_geometry() -> None:
    import matplotlib.pyplot as plt

    values, layout = _plate()
    wells = tr.plates.read(values, layout=layout)
    ax = tr.pl.plate(wells)
    image = ax.get_images()[0].get_array()
    assert image.shape == (8, 12)
    assert image[0, 10] == pytest.approx(wells.set_index("well").loc["A11", "viability"])
    assert np.ma.is_masked(image[5, 5]) or np.isnan(image[5, 5])  # F6 is not mapped
    _, ax2 = plt.subplots()
    assert tr.pl.plate(wells, value="signal", ax=ax2) is ax2
    with pytest.raises(InputError, match="lack a column"):
        tr.pl.plate(wells, value="od600")
    with pytest.raises(InputError, match="plate not in"):
        tr.pl.plate(wells, plate_number=7)
    plt.close("all")
