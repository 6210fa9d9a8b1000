"""Hypothesis drives ``tr.cfdna`` with bad arguments and bad frames: only TrkresError escapes."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import trkres as tr
from trkres.errors import TrkresError
from trkres.knowledge import load_knowledge

KB = load_knowledge()
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))

ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 400), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.sampled_from(["fraction", "percent", "mean", "0.5", "KRAS", "G12D", "P1"]),
    st.lists(st.integers(0, 3), max_size=2), st.just({"a": 1}),
)  # fmt: skip
#: What a spoiled cell holds (scalars: pandas cannot put a list in one cell).
CELL = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 20000), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.sampled_from(["1", "nan", "-1", "2.5", "1e308", "P1", "KRAS G12D"]),
)  # fmt: skip
COLUMNS = ["sample", "patient", "collection_day", "gene", "alteration", "vaf", "alt_count",
           "ref_count", "detection_limit", "assay", "extra"]  # fmt: skip


def good() -> pd.DataFrame:
    return pd.DataFrame({
        "sample": ["S1", "S1", "S2", "S2"], "patient": ["P1"] * 4, "collection_day": [0, 0, 60, 60],
        "gene": ["NTRK1", "KRAS", "NTRK1", "KRAS"],
        "alteration": ["LMNA::NTRK1", "G12D", "LMNA::NTRK1", "G12D"],
        "vaf": [0.1, 0.0, 0.05, 0.02], "detection_limit": [0.001] * 4,
    })  # fmt: skip


@st.composite
def frames(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["spoiled", "spoiled", "random", "object"]))
    if kind == "object":
        return draw(st.one_of(ODD, st.just([]), st.just("no/such/cfdna.tsv")))
    if kind == "spoiled":
        frame = good().astype(object)
        for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
            frame.iloc[draw(st.integers(0, 3)), draw(st.integers(0, frame.shape[1] - 1))] = draw(
                CELL
            )
        return frame.drop(columns=draw(st.lists(st.sampled_from(list(frame.columns)), max_size=1)))
    n = draw(st.integers(0, 4))
    names = draw(st.lists(st.sampled_from(COLUMNS), max_size=len(COLUMNS), unique=True))
    return pd.DataFrame({c: [draw(CELL) for _ in range(n)] for c in names}, dtype=object)


TIMELINES = st.one_of(
    st.none(), ODD,
    st.just(pd.DataFrame({"PATIENT_ID": ["P1"], "START_DATE": [0], "STOP_DATE": [30],
                          "EVENT_TYPE": ["TREATMENT"], "AGENT": ["Larotrectinib"]})),
    st.just(pd.DataFrame({"PATIENT_ID": [None], "START_DATE": ["x"]})), st.just(pd.DataFrame()),
    st.builds(
        lambda p, s, e, a: pd.DataFrame({"PATIENT_ID": [p], "START_DATE": [s], "STOP_DATE": [e],
                                         "AGENT": [a]}, dtype=object),
        CELL, CELL, CELL, CELL,
    ),
)  # fmt: skip


@SETTINGS
@given(
    measurements=frames(), timeline=st.one_of(st.none(), TIMELINES),
    ddpcr=st.one_of(st.none(), st.none(), ODD, frames()),
    vaf_unit=st.one_of(st.just("fraction"), st.just("percent"), ODD),
    options=st.dictionaries(st.sampled_from(["response_fall", "response_metric", "confirm_next",
                                             "colour"]), ODD, max_size=1),
)  # fmt: skip
def test_track_raises_only_trkres_errors(
    measurements: Any, timeline: Any, ddpcr: Any, vaf_unit: Any, options: dict[str, Any]
) -> None:
    try:
        result = tr.cfdna.track(measurements, timeline=timeline, ddpcr=ddpcr, vaf_unit=vaf_unit,
                                knowledge=KB, **options)  # fmt: skip
    except TrkresError as exc:
        event(type(exc).__name__)
        return
    event("computed")
    assert set(result.response.columns) >= {"patient_id", "day", "molecular_response"}
    assert result.measurements["vaf"].dropna().between(0, 1).all()
