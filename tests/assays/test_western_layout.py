"""Western lane layouts: columns by alias, units in cells or columns, every row used or reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trkres.assays.western.layout import LAYOUT_COLUMNS, check_layout, read_layout
from trkres.errors import InputError


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


LAYOUT = (
    "Lane\tBlot\tSample\tTreatment\tDose\tUnit\tTime\tReplicate\tRole\tAmount\n"
    "1\tA\tKM12\tDMSO\t0\tnM\t2 h\t1\tcontrol\t\n"
    "2\tA\tKM12\tlarotrectinib\t100\tnM\t2 h\t1\t\t\n"
    "3\tA\tKM12\tlarotrectinib\t1 uM\t\t2 h\t1\t\t\n"
    "4\tA\tKM12\tNGF\t50 ng/mL\t\t30 min\t1\t\t\n"
    "5\tA\t\t\t\t\t\t\tladder\t\n"
    "6\tA\t\t\t\t\t\t\tdilution\t10 ug\n"
    "\t\t\t\t\t\t\t\t\t\n"
    "7\tA\t\t\t\t\t\t\tdilution\t\n"
    "8\tA\t\tvehicle\t-1\tnM\t\t\t\t\n"
    "9\tA\t\t\t\t\t\t\t\t\n"
    "1\tB\tKM12\tDMSO\t0\tnM\t2 h\t2\tcontrol\t\n"
)


def test_a_layout_file_reads_units_roles_and_conditions(tmp_path: Path) -> None:
    path = _write(tmp_path, "lanes.tsv", LAYOUT)
    layout, issues = check_layout(path)
    assert list(layout.columns[: len(LAYOUT_COLUMNS)]) == LAYOUT_COLUMNS
    assert layout[["blot", "lane"]].values.tolist() == [
        ["A", 1], ["A", 2], ["A", 3], ["A", 4], ["A", 5], ["A", 6], ["B", 1],
    ]  # fmt: skip
    a = layout.set_index(["blot", "lane"])
    assert a.loc[("A", 1), "role"] == "control" and a.loc[("A", 2), "role"] == "sample"
    # unit from the column, from the cell; a non-molar unit is kept, with no molar value
    assert a.loc[("A", 2), "dose_molar"] == pytest.approx(1e-7)
    assert a.loc[("A", 3), "dose"] == 1.0 and a.loc[("A", 3), "dose_unit"] == "uM"
    assert a.loc[("A", 3), "dose_molar"] == pytest.approx(1e-6)
    assert a.loc[("A", 4), "dose_unit"] == "ng/mL" and np.isnan(a.loc[("A", 4), "dose_molar"])
    assert a.loc[("A", 4), "time"] == 30.0 and a.loc[("A", 4), "time_unit"] == "min"
    assert a.loc[("A", 2), "condition"] == "KM12 | larotrectinib | 100 nM | 2 h"
    assert a.loc[("A", 5), "condition"] == "ladder"
    assert a.loc[("A", 6), "amount"] == 10.0 and a.loc[("A", 6), "amount_unit"] == "ug"
    assert a.loc[("A", 6), "condition"] == "dilution 10 ug"
    assert a.loc[("B", 1), "replicate"] == "2"
    assert a.loc[("A", 2), "line"] == 3
    # every non-blank row is used or reported (the blank line 8 is skipped)
    assert issues["line"].tolist() == [9, 10, 11]
    assert issues["column"].tolist() == ["Amount", "Dose", "Sample"]
    assert len(layout) + len(issues) == LAYOUT.count("\n") - 2  # header and blank line
    assert read_layout(path).attrs["issues"].equals(issues)


def test_a_dataframe_layout_with_numbers_and_defaults() -> None:
    frame = pd.DataFrame({"lane": [1, 2.0, 3], "treatment": ["DMSO", "entrectinib", "entrectinib"],
                          "dose": [0, 10, 100], "dose_unit": "nM", "extra": ["x", "y", "z"]})  # fmt: skip
    layout = read_layout(frame)
    assert layout["lane"].tolist() == [1, 2, 3]
    assert layout["blot"].tolist() == ["1"] * 3 and layout["replicate"].tolist() == ["1"] * 3
    assert layout["role"].tolist() == ["sample"] * 3
    assert layout["dose_molar"].tolist() == pytest.approx([0.0, 1e-8, 1e-7])
    assert layout["extra"].tolist() == ["x", "y", "z"]
    assert layout.attrs["issues"].empty


def test_an_excel_layout(tmp_path: Path) -> None:
    path = tmp_path / "lanes.xlsx"
    pd.DataFrame(
        {"lane": [1, 2], "sample": ["KM12", "KM12-R"], "role": ["control", "sample"]}
    ).to_excel(path, index=False)
    layout = read_layout(path)
    assert layout["sample"].tolist() == ["KM12", "KM12-R"]
    assert layout["role"].tolist() == ["control", "sample"]


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("sample\tdose\nKM12\t1\n", "lacks a lane column", 1, None),
        ("lane\tsample\n1\tKM12\n1.5\tKM12\n", "whole number", 3, "lane"),
        ("lane\tsample\n0\tKM12\n", "whole number", 2, "lane"),
        ("lane\tsample\trole\n1\tKM12\tpositive\n", "unknown lane role", 2, "role"),
        ("lane\tsample\n1\tKM12\n2\tKM12\n1\tKM12-R\n", "listed twice", 4, "lane"),
        ("lane\tsample\tdose\n1\tKM12\tten\n", "dose is not a number", 2, "dose"),
        ("lane\tsample\tdose\tunit\n1\tKM12\t10 nM\tuM\n", "contradicts", 2, "dose"),
        ("lane\tsample\ttime\n1\tKM12\tlate\n", "time is not a number", 2, "time"),
        ("lane\tsample\n\tKM12\n", "no usable lanes", None, None),
    ],
)
def test_bad_layouts_name_line_column_expected_found(
    tmp_path: Path, text: str, message: str, line: int | None, column: str | None
) -> None:
    with pytest.raises(InputError) as err:
        read_layout(_write(tmp_path, "bad.tsv", text))
    e = err.value
    assert message in e.message
    assert e.expected and e.found
    if line is not None:
        assert e.location is not None and e.location.line == line
    if column is not None:
        assert e.location is not None and e.location.column == column


def test_lanes_are_unique_per_blot_not_per_file() -> None:
    layout = read_layout(pd.DataFrame({"blot": ["1", "2"], "lane": [1, 1], "sample": ["a", "b"]}))
    assert layout["sample"].tolist() == ["a", "b"]


def test_not_a_layout() -> None:
    with pytest.raises(InputError, match="not a lane layout"):
        read_layout(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not found"):
        read_layout("/nonexistent/lanes.tsv")
