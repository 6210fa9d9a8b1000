"""``trkres.tables.read_table``: a ragged row is an error at its line, short or long."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trkres.errors import InputError
from trkres.tables import read_table


def _table(tmp_path: Path, text: str, name: str = "mice.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_short_row_is_an_error_not_empty_cells(tmp_path: Path) -> None:
    """``M1,A`` in a 4-column CSV was read as M1, A and two empty cells."""
    path = _table(tmp_path, "mouse_id,arm,day,volume\nM0,A,0,10\nM1,A\nM2,A,0,12\n")
    with pytest.raises(InputError, match="fewer fields than the header") as err:
        read_table(path)
    loc = err.value.location
    assert loc is not None and (loc.file, loc.line, loc.column) == (path, 3, 3)
    assert err.value.expected == "4 fields (separator comma)" and err.value.found == "2 fields"


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("a.tsv", "id\tdose\tresponse\na\t1\t0.5\nb\t2\n", 3),
        ("b.csv", "a;b;c\n1;2;3\n4\n", 3),  # a decimal-comma locale's "CSV"
        ("c.csv", "a,b,c\r\n1,2,3\r\n4,5", 3),  # the last line cut short, CRLF
        ("d.csv", 'a,b,c\n"x\ny",2,3\n1,2\n', 4),  # a quoted line break: the line is the file's
    ],
)
def test_short_rows_are_located_in_every_dialect(
    tmp_path: Path, name: str, text: str, line: int
) -> None:
    path = _table(tmp_path, text, name)
    with pytest.raises(InputError, match="fewer fields") as err:
        read_table(path)
    assert err.value.location is not None and err.value.location.line == line


def test_empty_cells_blank_lines_and_long_rows_are_as_before(tmp_path: Path) -> None:
    path = _table(tmp_path, "mouse_id,arm,day,volume\nM1,A,,\n\n  \nM2,B,0,3\n")
    frame = read_table(path)
    assert frame.shape == (4, 4) and frame.iloc[0].tolist() == ["M1", "A", "", ""]
    assert (frame.iloc[1] == "").all()  # a blank line is an empty row (callers drop it)
    path = _table(tmp_path, "mouse_id,arm,day,volume\nM1,A,0,1,9\n", "long.csv")
    with pytest.raises(InputError, match="more fields than the header") as err:
        read_table(path)
    assert err.value.location is not None and err.value.location.line == 2


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.lists(st.sampled_from(["1", "x", "", "2.5"]), min_size=1, max_size=6),
        min_size=1,
        max_size=6,
    )
)
def test_rows_in_are_rows_read_or_an_error(tmp_path: Path, rows: list[list[str]]) -> None:
    """Every data line is a row of the table, or the table is refused at a ragged line."""
    text = "a,b,c,d\n" + "".join(",".join(r) + "\n" for r in rows)
    path = _table(tmp_path, text)
    ragged = [k for k, r in enumerate(rows, start=2) if len(r) != 4 and any(r)]
    try:
        frame = read_table(path)
    except InputError as exc:
        assert exc.location is not None
        if ragged:
            assert exc.location.line == ragged[0]
        else:
            assert exc.message == "no data rows"
        return
    assert not ragged and len(frame) == len(rows)
