"""The tumour-volume reader: layouts by alias, caliper volumes, every bad row reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trkres.assays.invivo.io import check_volumes, read_volumes
from trkres.errors import InputError, TrkresError


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_xeva_tumr_and_synergylmm_layouts_are_found_by_alias(tmp_path: Path) -> None:
    xeva = _write(tmp_path, "experiments.csv", '"model.id","time","volume","drug"\n'
                  '"X.1",0,250.8,"binimetinib"\n"X.1",3,320.4,"binimetinib"\n')  # fmt: skip
    tumr = _write(tmp_path, "tumr.csv", "ID,Day,Volume,Treatment\n1,0,44.1,A\n1,3,57.2,A\n")
    slmm = _write(
        tmp_path, "slmm.tsv", "MOUSE\tTreatment\tDay\tRLU\nm1\tCtrl\t0\t1e5\nm1\tCtrl\t4\t3e5\n"
    )
    for path, arm, first in ((xeva, "binimetinib", 250.8), (tumr, "A", 44.1), (slmm, "Ctrl", 1e5)):
        read = read_volumes(path)
        assert list(read.volumes.columns[:4]) == ["mouse_id", "arm", "day", "volume"]
        assert read.volumes["arm"].tolist() == [arm, arm]
        assert read.volumes["volume"].iloc[0] == pytest.approx(first)
        assert read.issues.empty and read.rows_in == 2
    assert read_volumes(slmm).volume_unit == "signal units"
    assert any("bioluminescence" in n for n in read_volumes(slmm).notes)


def test_caliper_volume_is_length_times_width_squared_over_two(tmp_path: Path) -> None:
    path = _write(tmp_path, "cal.csv", "mouse,group,day,length,width\nm,A,0,10,6\nm,A,3,5,8\n")
    read = read_volumes(path)
    assert read.volumes["volume"].tolist() == [10 * 36 / 2, 8 * 25 / 2]
    assert any("length · width² / 2" in n for n in read.notes)
    assert any("width > length" in n for n in read.notes)  # the longer axis taken, and said so


def test_every_bad_row_is_reported_and_counted(tmp_path: Path) -> None:
    text = (
        "mouse_id,arm,day,volume\n"
        "a,C,0,100\na,C,3,-5\na,C,7,abc\na,C,10,150\n"  # negative, text
        "b,C,0,0\nb,C,3,0\nb,C,7,50\nb,C,10,80\n"  # zeros before the tumour is measurable
        "c,C,0,100\nc,T,3,120\n"  # one mouse in two arms
        "d,T,0,100\nd,T,3,110\nd,T,3,130\n"  # two volumes on one day
        "e,T,0,100\ne,T,3,110\ne,T,3,110\ne,T,7,90\n"  # an exact repeat
        "f,T,0,100\n"  # too few points
        ",T,0,100\n"  # no mouse id
        "g,T,,100\n"  # no day
        "h,T,0,0\nh,T,3,0\n"  # never measurable
    )
    read = read_volumes(_write(tmp_path, "bad.csv", text))
    assert read.rows_in == len(read.volumes) + len(read.issues) == text.count("\n") - 1
    by_line = read.issues.set_index("line")["action"]
    assert by_line[3] == "dropped (negative)" and by_line[4] == "dropped"
    assert by_line[6].startswith("dropped: the mouse's baseline") and by_line[7] == by_line[6]
    assert by_line[10] == by_line[11] == "dropped (mouse in two arms)"
    assert by_line[13] == by_line[14] == "dropped (conflicting measurements)"
    assert by_line[17] == "dropped (counted once)"
    assert by_line[19] == "dropped (too few points)"
    assert by_line[20] == by_line[21] == "dropped"
    assert by_line[22] == by_line[23] == "dropped (no measurable tumour)"
    # what is left is usable: one arm per mouse, (mouse, day) unique, baselines > 0
    v = read.volumes
    assert not v.duplicated(["mouse_id", "day"]).any()
    assert (v.groupby("mouse_id")["volume"].first() > 0).all()
    assert set(v["mouse_id"]) == {"a", "b", "e"}  # d: one day left after its conflict
    assert by_line[12] == "dropped (too few points)"


def test_conflicting_days_drop_both_values_and_say_which(tmp_path: Path) -> None:
    text = "mouse_id,arm,day,volume\nd,T,0,100\nd,T,3,110\nd,T,3,130\nd,T,7,140\n"
    read = read_volumes(_write(tmp_path, "dup.csv", text))
    assert read.volumes["day"].tolist() == [0.0, 7.0]
    assert set(read.issues["found"]) == {"mouse d, day 3: 110 / 130"}


def test_columns_mapping_and_weeks(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.csv", "Animal,Regimen,Wk,TV\nx,A,1,10\nx,A,2,20\n")
    with pytest.raises(InputError, match="needed column"):
        read_volumes(path)
    read = read_volumes(path, columns={"mouse_id": "Animal", "week": "Wk", "volume": "TV"})
    assert read.volumes["day"].tolist() == [7.0, 14.0]
    assert any("weeks" in n for n in read.notes)
    with pytest.raises(InputError, match="not in the table"):
        read_volumes(path, columns={"mouse_id": "Mouse"})
    with pytest.raises(InputError, match="bad column mapping"):
        read_volumes(path, columns={"tumour": "TV"})


def test_two_candidate_columns_are_an_error_not_a_guess(tmp_path: Path) -> None:
    path = _write(tmp_path, "t.csv", "mouse,arm,day,time,volume\nm,A,0,0,1\nm,A,1,1,2\n")
    with pytest.raises(InputError, match="more than one column could be the day"):
        read_volumes(path)
    assert len(read_volumes(path, columns={"day": "time"}).volumes) == 2


def test_cohorts_with_repeated_ids_are_kept_apart() -> None:
    frame = pd.DataFrame({"ID": [1, 1, 1, 1], "Cohort": [1, 1, 2, 2], "Treatment": ["V", "V", "V", "V"],
                          "Day": [0, 3, 0, 3], "Volume": [10, 20, 30, 40]})  # fmt: skip
    read = check_volumes(frame)
    assert sorted(read.volumes["mouse_id"].unique()) == ["1/1", "2/1"]


def test_excel_is_read(tmp_path: Path) -> None:
    path = tmp_path / "v.xlsx"
    pd.DataFrame(
        {"Mouse": ["m", "m"], "Group": ["A", "A"], "Day": [0, 4], "Volume": [50.5, 80.25]}
    ).to_excel(path, index=False)
    read = read_volumes(path)
    assert read.volumes["volume"].tolist() == [50.5, 80.25]


def test_real_tumr_breast_zeros_before_tumours(shared_data: Path) -> None:
    read = read_volumes(shared_data / "invivo" / "tumr" / "breast.csv")
    assert read.rows_in == len(read.volumes) + len(read.issues)
    assert (read.volumes.groupby("mouse_id")["volume"].first() > 0).all()
    assert any("weeks" in n for n in read.notes)


cells = st.one_of(st.none(), st.sampled_from(["", "NA", "x", "-1", "0", "1e400", "nan", " 3 "]),
                  st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 50))  # fmt: skip


@settings(max_examples=80)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c", ""]), st.sampled_from(["A", "B", ""]),
                          cells, cells), min_size=0, max_size=30))  # fmt: skip
def test_fuzz_rows_in_equal_rows_used_plus_rows_reported(rows: list[tuple[object, ...]]) -> None:
    frame = pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"], dtype=object)
    try:
        read = check_volumes(frame)
    except TrkresError:
        return
    assert read.rows_in == len(frame) == len(read.volumes) + len(read.issues)
    v = read.volumes
    assert (
        np.isfinite(v["day"]).all() and np.isfinite(v["volume"]).all() and (v["volume"] >= 0).all()
    )
    assert not v.duplicated(["mouse_id", "day"]).any()
    assert (v.groupby("mouse_id")["arm"].nunique() <= 1).all()


def test_ids_restarting_in_each_arm_are_told_apart_by_arm(tmp_path: Path) -> None:
    text = "mouse,arm,day,volume\n" + "".join(
        f"{m},{a},{d},{100 + d}\n" for a in ("V", "T") for m in (1, 2) for d in (0, 3)
    )
    read = read_volumes(_write(tmp_path, "perarm.csv", text))
    assert read.issues.empty
    assert sorted(read.volumes["mouse_id"].unique()) == ["T/1", "T/2", "V/1", "V/2"]
    assert any("restart in each arm" in n for n in read.notes)
    # one mouse wrongly in two arms among many is still an error, not renamed
    text = "mouse,arm,day,volume\na,V,0,1\na,V,3,2\nb,V,0,1\nb,V,3,2\nc,T,0,1\nc,T,3,2\na,T,7,3\n"
    read = read_volumes(_write(tmp_path, "two.csv", text))
    assert set(read.issues["action"]) == {"dropped (mouse in two arms)"}


def test_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = _write(tmp_path, "eu.csv", "mouse;arm;day;volume\nm;A;0;12,5\nm;A;3;20,25\n")
    read = read_volumes(path)
    assert read.volumes["volume"].tolist() == [12.5, 20.25]
    assert any("decimal comma" in n for n in read.notes)


def test_absurd_numbers_are_reported_not_computed(tmp_path: Path) -> None:
    text = "mouse,arm,day,volume\nm,A,0,100\nm,A,3,1e308\nm,A,1e12,150\nm,A,7,120\n"
    read = read_volumes(_write(tmp_path, "big.csv", text))
    assert set(read.issues["action"]) == {"dropped (implausibly large)", "dropped"}
    assert read.volumes["day"].tolist() == [0.0, 7.0]


def test_weeks_are_whole_days(tmp_path: Path) -> None:
    read = read_volumes(_write(tmp_path, "w.csv", "ID,Treatment,Week,Volume\n1,A,1,5\n1,A,3,9\n"))
    assert read.volumes["day"].tolist() == [7.0, 21.0]
