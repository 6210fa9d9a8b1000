"""Exact copies of dose-response rows: the 64-bit key screen finds the same rows as a
direct comparison of every cell (pandas' ``duplicated`` on the cells as compared), and
rows whose keys collide are compared exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trkres.assays.doseresponse import io

CELLS = st.tuples(
    st.sampled_from(["a", "b", "nan", " a"]),
    st.sampled_from([0.0, -0.0, 1e-9, 1.0, float("nan")]),
    st.integers(0, 2),
    st.sampled_from([True, False]),
)


def _direct(frame: pd.DataFrame, candidates: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Copies (a mask) and the line each copies, by comparing every cell as exact_copies
    defines equality (floats by bits, integers by value, the rest by text)."""
    sub = frame.loc[candidates]
    cells = pd.DataFrame({
        c: sub[c].to_numpy().view(np.int64) if sub[c].dtype == np.float64
        else sub[c].to_numpy() if sub[c].dtype.kind in "iu" else sub[c].astype(str)
        for c in sub.columns
    }, index=sub.index)  # fmt: skip
    dup = cells.duplicated(keep="first").to_numpy()
    idx = np.flatnonzero(candidates)
    firsts = []
    for row in idx[dup]:
        same = (cells == cells.loc[row]).all(axis=1).to_numpy()
        firsts.append(int(idx[np.argmax(same)]) + 2)
    mask = np.zeros(len(frame), dtype=bool)
    mask[idx[dup]] = True
    return mask, firsts


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(CELLS, min_size=1, max_size=25), drop=st.lists(st.booleans(), max_size=25))
def test_copies_match_a_direct_comparison(rows: list[tuple[object, ...]], drop: list[bool]) -> None:
    frame = pd.DataFrame(rows, columns=["well", "dose", "replicate", "flag"])
    frame["well"] = frame["well"].astype("str")
    candidates = np.ones(len(frame), dtype=bool)
    candidates[: len(drop)] &= ~np.asarray(drop[: len(frame)], dtype=bool)
    mask, issues = io.exact_copies(frame, Path("t.tsv"), candidates)
    want, firsts = _direct(frame, candidates) if candidates.any() else (mask * False, [])
    assert mask.tolist() == want.tolist()
    found = [] if issues is None else issues["found"].tolist()
    assert found == [f"an exact copy of line {f}" for f in firsts]


def test_colliding_keys_are_compared_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every row given the same key (a worst-case hash): only true copies are dropped."""
    frame = pd.DataFrame({"well": ["A1", "A2", "A1", "A3"], "dose": [1.0, 1.0, 1.0, 2.0],
                          "response": [0.5, 0.5, 0.5, 0.1]})  # fmt: skip
    monkeypatch.setattr(io, "_row_keys", lambda f: np.zeros(len(f), dtype=np.uint64))
    mask, issues = io.exact_copies(frame, Path("t.tsv"), np.ones(4, dtype=bool))
    assert mask.tolist() == [False, False, True, False]
    assert issues is not None and issues["found"].tolist() == ["an exact copy of line 2"]


def test_equal_cells_give_equal_keys() -> None:
    frame = pd.DataFrame({"id": pd.array(["x", "x", "y"], dtype="str"), "dose": [1e-9, 1e-9, 1e-9],
                          "n": [3, 3, 3]})  # fmt: skip
    keys = io._row_keys(frame)
    assert keys[0] == keys[1] != keys[2]
