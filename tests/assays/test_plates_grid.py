"""The generic grid reader (``read_grid``) drops nothing silently: every non-blank line is
read (a grid's header and rows) or listed in ``attrs["skipped_lines"]``; a row that
breaks its grid is an error at its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trkres.assays.plates.io import read_grid
from trkres.errors import InputError, TrkresError

HEADER = "\t" + "\t".join(str(c) for c in range(1, 13))


def _row(letter: str, *extra: str, n: int = 12) -> str:
    return "\t".join([letter, *(f"{k}.5" for k in range(n)), *extra])


def _write(tmp_path: Path, lines: list[str], name: str = "grid.tsv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _located(err: pytest.ExceptionInfo[InputError], path: Path, line: int, column: int) -> None:
    loc = err.value.location
    assert loc is not None and (loc.file, loc.line, loc.column) == (path, line, column), loc
    assert err.value.expected and err.value.found


def test_a_whole_plate_reads_and_its_title_is_a_skipped_line(tmp_path: Path) -> None:
    path = _write(tmp_path, ["Reader export", HEADER, *(_row(x) for x in "ABCDEFGH"), "", "end"])
    values = read_grid(path)
    assert len(values) == 96 and set(values["read"]) == {"value"}
    assert values.attrs["grids"] == ((2, 8, 12),)
    assert values.attrs["skipped_lines"] == (1, 12)


def test_a_row_label_out_of_sequence_is_an_error_not_the_end_of_the_grid(tmp_path: Path) -> None:
    """`Q` after `C` ended the grid silently: rows D–H were dropped (36 wells of 96)."""
    lines = ["Reader export", HEADER, *(_row(x) for x in "ABC"), _row("Q")]
    path = _write(tmp_path, [*lines, *(_row(x) for x in "DEFGH")])
    with pytest.raises(InputError, match="row label out of sequence") as err:
        read_grid(path)
    _located(err, path, 6, 1)
    assert "D" in str(err.value.expected) and "Q" in str(err.value.found)


def test_a_repeated_row_or_a_second_plate_without_a_header_is_an_error(tmp_path: Path) -> None:
    rows = [_row(x) for x in "ABCDEFGH"]
    path = _write(tmp_path, [HEADER, *rows, *rows], "twice.tsv")
    with pytest.raises(InputError, match="out of sequence") as err:
        read_grid(path)
    _located(err, path, 10, 1)
    path = _write(tmp_path, [HEADER, *rows[:3], rows[2], *rows[3:]], "repeat.tsv")
    with pytest.raises(InputError, match="out of sequence") as err:
        read_grid(path)
    _located(err, path, 5, 1)


def test_a_row_with_one_extra_value_is_an_error_not_a_read_label(tmp_path: Path) -> None:
    """Row D's 13th value became the read label "1.0" of row D's twelve wells."""
    rows = [_row(x, *(["1.0"] if x == "D" else [])) for x in "ABCDEFGH"]
    path = _write(tmp_path, ["Reader export", HEADER, *rows])
    with pytest.raises(InputError, match="more values than the header") as err:
        read_grid(path)
    _located(err, path, 6, 14)
    assert "'1.0'" in str(err.value.found)


def test_cells_after_the_read_label_are_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, _row("A", "450", "x"), _row("B", "450")], "two.tsv")
    with pytest.raises(InputError, match="more values than the header"):
        read_grid(path)  # "450" is a number, not a label
    path = _write(tmp_path, [HEADER, _row("A", "abs450", "x"), _row("B", "abs450")], "after.tsv")
    with pytest.raises(InputError, match="after the read label") as err:
        read_grid(path)
    _located(err, path, 2, 15)
    path = _write(tmp_path, [HEADER, _row("A", "", "abs450")], "gap.tsv")
    with pytest.raises(InputError, match="after the read label") as err:
        read_grid(path)
    _located(err, path, 2, 15)


def test_one_grid_has_one_read_label(tmp_path: Path) -> None:
    """A stray text cell after one row (a flag, a note) would make that row a read of its own."""
    rows = [_row(x, *(["OVRFLW"] if x == "C" else [])) for x in "ABCDEFGH"]
    path = _write(tmp_path, [HEADER, *rows])
    with pytest.raises(InputError, match="read label differs") as err:
        read_grid(path)
    _located(err, path, 4, 14)
    rows = [_row(x, "abs450") for x in "ABCDEFGH"] + [HEADER] + [_row(x) for x in "ABCDEFGH"]
    path = _write(tmp_path, [HEADER, *rows], "two.tsv")
    values = read_grid(path)
    assert values.groupby(["plate", "read"]).size().to_dict() == {
        (1, "abs450"): 96,
        (2, "value"): 96,
    }


def test_trailing_empty_cells_are_not_values(tmp_path: Path) -> None:
    """Spreadsheets pad rows with separators; an empty cell after the last column is nothing."""
    text = "Reader export,,,\n,1,2,3,\nA,1,2,3,,\nB,4,5,6,lum,\n"
    path = tmp_path / "pad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="read label differs"):
        read_grid(path)
    path.write_text(text.replace("B,4,5,6,lum,", "B,4,5,6,,"), encoding="utf-8")
    assert len(read_grid(path)) == 6


def test_a_header_with_no_rows_is_no_plate(tmp_path: Path) -> None:
    path = _write(tmp_path, ["Dose\t1\t2\t3", "", HEADER, *(_row(x) for x in "AB")])
    values = read_grid(path)
    assert set(values["plate"]) == {1} and values.attrs["skipped_lines"] == (1,)


# ---------------------------------------------------------------- every line accounted for

_LABELS = st.sampled_from(["A", "B", "C", "D", "Q", "a", "", "x", "Plate 1", "AF", "H"])
_CELLS = st.sampled_from(["1", "2.5", "-3", "OVRFLW", "", "lum", "1e308", "nan", "3"])
_LINE = st.one_of(
    st.just(""),
    st.just(HEADER),
    st.integers(1, 4).map(lambda n: "\t" + "\t".join(str(c) for c in range(1, n + 1))),
    st.tuples(_LABELS, st.lists(_CELLS, max_size=6)).map(lambda t: "\t".join([t[0], *t[1]])),
    st.sampled_from("ABCDEFGH").map(_row),
    st.sampled_from("ABCDEFGH").map(lambda x: _row(x, "abs450")),
)


def _structured() -> st.SearchStrategy[list[str]]:
    """Lines mostly in grid order (runs of rows under headers), with noise spliced in."""
    grid = st.integers(1, 8).map(lambda n: [HEADER, *(_row(x) for x in "ABCDEFGH"[:n])])
    return st.lists(st.one_of(grid, grid, _LINE.map(lambda s: [s])), min_size=1, max_size=8).map(
        lambda parts: [line for part in parts for line in part]
    )


def _accounted(tmp_path: Path, lines: list[str]) -> None:
    """``read_grid`` refuses ``lines`` with a located error, or reads or reports each non-blank one."""
    path = _write(tmp_path, lines)
    try:
        values = read_grid(path)
    except TrkresError as exc:
        assert exc.location is not None and exc.location.file == path
        return
    non_blank = {k for k, line in enumerate(lines, start=1) if line.strip()}
    read = {
        line
        for header, rows, _ in values.attrs["grids"]
        for line in range(header, header + rows + 1)
    }
    skipped = set(values.attrs["skipped_lines"])
    assert not read & skipped
    assert read | skipped == non_blank
    assert len(values) == sum(rows * cols for _, rows, cols in values.attrs["grids"])
    assert values["plate"].nunique() == len(values.attrs["grids"])


MANY = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip


@MANY
@given(lines=_structured())
def test_every_non_blank_line_is_read_or_reported(tmp_path: Path, lines: list[str]) -> None:
    _accounted(tmp_path, lines)


@MANY
@given(
    lines=st.lists(st.one_of(_LINE, st.text(alphabet="ABCDHQ0123.,\t x", max_size=30)), max_size=14)
)
def test_any_text_is_read_reported_or_refused(tmp_path: Path, lines: list[str]) -> None:
    _accounted(tmp_path, lines)
