"""Atomic writes: no half-written file or folder, ever."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trkres.errors import OutputError
from trkres.outputs import atomic_directory, atomic_write_text, write_table


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_failed_directory_build_keeps_previous_output(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with atomic_directory(target) as tmp:
        (tmp / "result.tsv").write_text("v1")
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "result.tsv").write_text("half")
        raise RuntimeError("interrupted")
    assert (target / "result.tsv").read_text() == "v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failed_first_build_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), atomic_directory(tmp_path / "out") as tmp:
        (tmp / "x").write_text("x")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_output_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(OutputError, match="not a folder"), atomic_directory(tmp_path / "out"):
        pass


def test_no_overwrite(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with (
        pytest.raises(OutputError, match="already exists"),
        atomic_directory(tmp_path / "out", overwrite=False),
    ):
        pass


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(
                alphabet=st.one_of(
                    st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from("\t\n\r")
                ),
                max_size=12,
            ),
            st.floats(allow_nan=True, allow_infinity=False, width=64),
        ),
        max_size=20,
    )
)
def test_tsv_round_trip(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, float]]
) -> None:
    """Whatever strings and floats go in, the TSV reads back exactly the same."""
    frame = pd.DataFrame(rows, columns=["name", "value"])
    path = tmp_path_factory.mktemp("tsv") / "t.tsv"
    write_table(frame, path)
    back = pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str)
    assert len(back) == len(frame)
    if len(frame):
        assert back["name"].tolist() == frame["name"].tolist()
        values = back["value"].replace("", "nan").astype(float)
        expected = frame["value"].astype(float)
        pd.testing.assert_series_equal(values, expected, check_names=False, check_exact=True)


def test_parquet_and_bad_suffix(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    write_table(frame, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "t.parquet"), frame)
    with pytest.raises(OutputError, match=r"\.tsv, \.txt or \.parquet"):
        write_table(frame, tmp_path / "t.xlsx")


@pytest.mark.parametrize("bad", ["a\tb", "line\nbreak", "cr\r"])
def test_large_table_with_separators_stays_exact(tmp_path: Path, bad: str) -> None:
    """Past the fast-writer size, a tab or newline in any cell (text or categorical)
    sends the table to the quoting writer: it still reads back cell for cell."""
    from trkres.outputs import ARROW_TSV_ROWS

    n = ARROW_TSV_ROWS + 1
    names = pd.Series(["x"] * n, dtype="str")
    names.iloc[n // 2] = bad
    frame = pd.DataFrame({"name": names, "kind": pd.Categorical(["k"] * n), "v": range(n)})
    path = tmp_path / "big.tsv"
    write_table(frame, path)
    back = pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str)
    assert len(back) == n and back["name"].iloc[n // 2] == bad
    frame["kind"] = frame["kind"].cat.rename_categories([bad])
    write_table(frame.assign(name="x"), path)
    back = pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str)
    assert len(back) == n and (back["kind"] == bad).all()


def test_large_table_with_a_quote_is_written_by_the_quoting_writer(tmp_path: Path) -> None:
    """Arrow's unquoted writer refuses a '"' in a cell: such a large table goes to the
    quoting writer and reads back cell for cell (it used to stop with an arrow error)."""
    from trkres.outputs import ARROW_TSV_ROWS

    n = ARROW_TSV_ROWS + 1
    names = pd.Series(["x"] * n, dtype="str")
    names.iloc[7] = 'say "hi"'
    frame = pd.DataFrame({"name": names, "kind": pd.Categorical(['a "b"'] * n)})
    path = tmp_path / "big.tsv"
    write_table(frame, path)
    back = pd.read_csv(path, sep="\t", keep_default_na=False, dtype=str)
    assert back["name"].iloc[7] == 'say "hi"' and (back["kind"] == 'a "b"').all()


# -- the fast writer against the pandas writer (adversarial review, 2026-12-07) ---------


def _both(frame: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """(pandas writer's text, the text of the large-table path) for one table."""
    from trkres import outputs

    small = tmp_path / "small.tsv"
    write_table(frame, small)
    monkeypatch.setattr(outputs, "ARROW_TSV_ROWS", 1)
    big = tmp_path / "big.tsv"
    write_table(frame, big)
    return small.read_text(), big.read_text()


def test_large_tables_write_booleans_as_small_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = pd.DataFrame({"flag": [True, False, True], "nb": pd.array([True, None, False]),
                          "n": [1, 2, 3]})  # fmt: skip
    small, big = _both(frame, tmp_path, monkeypatch)
    assert small == big  # 'True'/'False', not arrow's 'true'/'false'


def test_large_tables_with_dates_or_one_column_go_to_the_pandas_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dates = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", "2024-03-01"]), "v": [1, 2]})
    small, big = _both(dates, tmp_path, monkeypatch)
    assert small == big and "2024-01-01\t1" in big
    one = pd.DataFrame({"name": pd.Series(["a", None, "c"], dtype="str")})
    small, big = _both(one, tmp_path, monkeypatch)
    assert small == big
    assert len(pd.read_csv(tmp_path / "big.tsv", sep="\t")) == 3  # no blank line skipped


def test_large_tables_arrow_cannot_type_are_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ints and text in one object column, repeated column names, a quote or a tab in a
    column name: the pandas writer takes over (arrow raised, or wrote an unreadable header)."""
    mixed = pd.DataFrame({"line": pd.Series(["KM12", 293, "KM12"], dtype=object), "v": [1, 2, 3]})
    small, big = _both(mixed, tmp_path, monkeypatch)
    assert small == big
    repeated = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    small, big = _both(repeated, tmp_path, monkeypatch)
    assert small == big
    names = pd.DataFrame({'"sample': ["x", "y"], "tumour\tnormal": [1, 2]})
    small, big = _both(names, tmp_path, monkeypatch)
    assert small == big
    assert list(pd.read_csv(tmp_path / "big.tsv", sep="\t").columns) == list(names.columns)
