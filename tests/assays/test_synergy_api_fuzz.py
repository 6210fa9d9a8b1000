"""Hypothesis drives the synergy and plates APIs (and their plots) with bad arguments and
bad frames: each call returns or raises a TrkresError subclass, nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trkres as tr
from assays.test_plates_api import _plate
from trkres.errors import TrkresError

COMBO = (
    Path(__file__).resolve().parents[2]
    / "examples"
    / "ntrk_resistance"
    / "lab"
    / "combination_larotrectinib_trametinib.tsv"
)
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip

#: Cell values a table may hold by mistake.
CELLS = st.one_of(
    st.none(),
    st.just(np.nan),
    st.just(np.inf),
    st.just(-np.inf),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
#: Option values of any type, valid or not (bootstrap draws kept small: the test stays fast).
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(
        ["bliss", "zip", "viability", "nM", "line", "parental", "holm", "grid", "gdsc"]
    ),
    st.lists(st.sampled_from(["bliss", "hsa", "loewe", "zip", "5pl", ""]), max_size=5),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _one_block() -> pd.DataFrame:
    table = pd.read_csv(COMBO, sep="\t")
    return table[table["block_id"] == 1].reset_index(drop=True)


BLOCK = _one_block()


@st.composite
def bad_frames(draw: st.DrawFn, base: pd.DataFrame) -> pd.DataFrame:
    """``base`` broken in a few ways: cells replaced, columns dropped, renamed or retyped, rows cut."""
    frame = base.copy()
    for _ in range(draw(st.integers(1, 3))):
        action = draw(
            st.sampled_from(["cell", "column", "drop", "rename", "rows", "dtype", "empty"])
        )
        columns = list(frame.columns)
        if action == "cell" and len(frame) and columns:
            frame = frame.astype(object)
            frame.iat[
                draw(st.integers(0, len(frame) - 1)), draw(st.integers(0, len(columns) - 1))
            ] = draw(CELLS)
        elif action == "column" and columns:
            cell = draw(CELLS)
            at = draw(st.integers(0, len(columns) - 1))
            frame.isetitem(at, pd.Series([cell] * len(frame), index=frame.index, dtype=object))
        elif action == "drop" and columns:
            frame = frame.drop(columns=draw(st.sampled_from(columns)))
        elif action == "rename" and columns:
            frame = frame.rename(columns={draw(st.sampled_from(columns)): draw(st.one_of(
                st.sampled_from(columns), st.text(max_size=5), st.integers(0, 3)))})  # fmt: skip
        elif action == "rows" and len(frame):
            frame = frame.iloc[: draw(st.integers(0, len(frame)))]
        elif action == "dtype" and columns:
            at = draw(st.integers(0, len(columns) - 1))
            frame.isetitem(at, frame.iloc[:, at].astype(str))
        elif action == "empty":
            frame = frame.iloc[:0]
    return frame


def _returns_or_trkres_error(call: Any, *args: Any, **kwargs: Any) -> None:
    import matplotlib.pyplot as plt

    try:
        call(*args, **kwargs)
    except TrkresError:
        pass
    finally:
        plt.close("all")


@FUZZ
@given(options=st.dictionaries(
    st.one_of(st.sampled_from(["response", "conc_unit", "models", "n_boot", "seed", "ci", "musyc",
                               "condition", "reference", "adjust"]), st.text(max_size=6)),
    VALUES, max_size=4))  # fmt: skip
def test_score_bad_options(options: dict[str, Any]) -> None:
    if isinstance(options.get("n_boot"), int | float) and not isinstance(options["n_boot"], bool):
        options["n_boot"] = min(options["n_boot"], 3) if np.isfinite(options["n_boot"]) else 0
    options.setdefault("musyc", False)
    _returns_or_trkres_error(tr.synergy.score, BLOCK, **options)


@FUZZ
@given(
    frame=bad_frames(BLOCK),
    response=st.sampled_from(["inhibition", "viability", "viability_fraction"]),
)
def test_score_bad_frames(frame: pd.DataFrame, response: str) -> None:
    _returns_or_trkres_error(tr.synergy.score, frame, response=response, n_boot=0, musyc=False)
    _returns_or_trkres_error(tr.synergy.combinations, frame, response=response)


@FUZZ
@given(data=st.one_of(VALUES, CELLS, st.just(pd.DataFrame()), st.just(pd.Series([1, 2])),
                      st.lists(st.just(BLOCK.iloc[:0]), max_size=2)))  # fmt: skip
def test_score_bad_arguments(data: Any) -> None:
    _returns_or_trkres_error(tr.synergy.score, data, n_boot=0, musyc=False)


@pytest.fixture(scope="module")
def scored() -> Any:
    return tr.synergy.score(BLOCK, response="viability", n_boot=0, musyc=False)


@FUZZ
@given(data=st.data())
def test_heatmap_bad_arguments(scored: Any, data: st.DataObject) -> None:
    table = data.draw(st.one_of(st.just(scored), bad_frames(scored.matrix), VALUES))
    model = data.draw(st.one_of(st.sampled_from(["bliss", "hsa", "loewe", "zip"]), VALUES))
    block = data.draw(st.one_of(st.none(), st.just("1"), VALUES))
    _returns_or_trkres_error(tr.pl.synergy_heatmap, table, model=model, block=block)


VALUES_FRAME, LAYOUT = _plate()
WELLS = tr.plates.read(VALUES_FRAME, layout=LAYOUT)


@FUZZ
@given(values=bad_frames(VALUES_FRAME), layout=bad_frames(LAYOUT))
def test_plates_read_bad_frames(values: pd.DataFrame, layout: pd.DataFrame) -> None:
    _returns_or_trkres_error(tr.plates.read, values, layout=layout)
    _returns_or_trkres_error(tr.plates.read, VALUES_FRAME, layout=layout)


@FUZZ
@given(export=st.one_of(st.just(VALUES_FRAME), VALUES, CELLS),
       layout=st.one_of(st.just(LAYOUT), st.none(), VALUES),
       options=st.dictionaries(st.one_of(st.sampled_from(["format", "read", "cell_line"]), st.text(max_size=5)),
                               VALUES, max_size=3))  # fmt: skip
def test_plates_read_bad_arguments(export: Any, layout: Any, options: dict[str, Any]) -> None:
    _returns_or_trkres_error(tr.plates.read, export, layout=layout, **options)


@FUZZ
@given(wells=st.one_of(bad_frames(WELLS), VALUES),
       value=st.one_of(st.sampled_from(["viability", "signal", "value", "role"]), VALUES),
       plate_number=st.one_of(st.none(), st.integers(-1, 3), VALUES))  # fmt: skip
def test_wells_tables_and_plot_bad_frames(wells: Any, value: Any, plate_number: Any) -> None:
    for call in (tr.plates.qc, tr.plates.combinations, tr.plates.dose_response):
        _returns_or_trkres_error(call, wells)
    _returns_or_trkres_error(tr.pl.plate, wells, value=value, plate_number=plate_number)
