"""Hypothesis drives ``tr.ddpcr`` with bad arguments and bad frames: only TrkresError escapes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import trkres as tr
from trkres.errors import TrkresError

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))

#: Values a careless caller passes: wrong types, non-finite numbers, empty things.
ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 20000), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.sampled_from(["quantasoft", "wald", "1", "nan", "A01", "-1"]),
    st.lists(st.sampled_from(["A01", "WT", "s1", ""]), max_size=3), st.just({"a": 1}), st.just(b"x"),
)  # fmt: skip
#: What a spoiled cell holds (scalars: pandas cannot put a list in one cell).
CELL = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 20000), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.sampled_from(["1", "nan", "-1", "2.5", "1e308", "P1", "KRAS G12D"]),
)  # fmt: skip
COLUMNS = ["well", "sample", "target", "accepted_droplets", "positives", "target_type", "channel",
           "ch1_positives", "ch2_positives", "droplet_volume_nl", "extra"]  # fmt: skip
OPTIONS = ["interval", "min_droplets", "blank_samples", "low_samples", "limits_target",
           "limits_method", "detection_vaf", "threshold_tolerance", "mutant_channel",
           "threshold_ch1", "colour"]  # fmt: skip


def good_wells() -> pd.DataFrame:
    return pd.DataFrame({
        "well": ["A01", "A01", "A02", "A02"], "sample": ["WT", "WT", "s1", "s1"],
        "target": ["MUT", "REF"] * 2, "channel": [1, 2] * 2,
        "accepted_droplets": [15000] * 4, "positives": [1, 400, 30, 410],
        "ch1_positives": [1, 1, 30, 30], "ch2_positives": [400, 400, 410, 410],
    })  # fmt: skip


RESULT = tr.ddpcr.quantify(good_wells(), droplet_volume_nl=0.85)


@st.composite
def frames(draw: st.DrawFn) -> Any:
    """A wells table with some columns dropped, some cells spoiled, sometimes not a frame."""
    kind = draw(st.sampled_from(["spoiled", "spoiled", "random", "object"]))
    if kind == "object":
        return draw(st.one_of(ODD, st.just([]), st.just("no/such/export.csv"), st.just([None])))
    if kind == "spoiled":
        frame = good_wells().astype(object)
        for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
            frame.iloc[draw(st.integers(0, 3)), draw(st.integers(0, frame.shape[1] - 1))] = draw(
                CELL
            )
        drop = draw(st.lists(st.sampled_from(list(frame.columns)), max_size=1))
        return frame.drop(columns=drop)
    n = draw(st.integers(0, 4))
    names = draw(st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=len(COLUMNS), unique=True))
    return pd.DataFrame({c: [draw(CELL) for _ in range(n)] for c in names}, dtype=object)


@SETTINGS
@given(wells=frames(), volume=st.one_of(st.just(0.85), st.just(0.91), ODD),
       options=st.dictionaries(st.sampled_from(OPTIONS), ODD, max_size=2))  # fmt: skip
def test_quantify_raises_only_trkres_errors(
    wells: Any, volume: Any, options: dict[str, Any]
) -> None:
    try:
        result = tr.ddpcr.quantify(wells, droplet_volume_nl=volume, **options)
    except TrkresError as exc:
        event(type(exc).__name__)
        return
    event("computed")
    w = result.wells
    assert len(w) and set(w["call"]) <= {
        "detected",
        "not_detected",
        "failed",
        "indeterminate",
        "below_lod",
    }
    conc = w["concentration"].to_numpy(dtype=float)
    assert (conc[np.isfinite(conc)] >= 0).all()
    assert 0.1 <= float(volume) <= 10  # pydantic's lax mode reads "1" as 1.0


@SETTINGS
@given(kind=st.sampled_from(["result", "wells", "other"]), other=frames(),
       blank=st.one_of(st.just(["WT"]), ODD), low=st.one_of(st.just(["s1"]), ODD),
       target=st.one_of(st.none(), ODD), method=st.one_of(st.just("parametric"), ODD))  # fmt: skip
def test_detect_raises_only_trkres_errors(
    kind: str, other: Any, blank: Any, low: Any, target: Any, method: Any
) -> None:
    result = RESULT
    given_ = result if kind == "result" else result.wells if kind == "wells" else other
    try:
        called = tr.ddpcr.detect(given_, blank=blank, low=low, target=target, method=method)
    except TrkresError as exc:
        event(type(exc).__name__)
        return
    event("computed")
    assert called.limits is not None and len(called.wells) == len(result.wells)
