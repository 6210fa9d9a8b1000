"""Fuzz the dose-response API with bad arguments and bad frames: only TrkresError escapes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trkres as tr
from trkres.errors import TrkresError

_CELLS = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.text(max_size=5),
    st.sampled_from(["nM", "uM", "M", "bogus", "", "0", "1e-9", "nan"]),
    st.booleans(),
)
_COLUMNS = st.lists(
    st.sampled_from(["dose", "response", "unit", "drug", "line", "curve_id", "dose_molar", "x"]),
    min_size=0,
    max_size=6,
    unique=True,
)
_OPTIONS = st.dictionaries(
    st.sampled_from(
        ["alpha", "robust", "vehicle", "threshold", "dose_unit", "experiment", "bogus"]
    ),
    _CELLS,
    max_size=2,
)


@st.composite
def frames(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 9)) == 0:  # not a frame at all
        return draw(
            st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers()))
        )
    columns = draw(_COLUMNS)
    n = draw(st.integers(0, 8))
    return pd.DataFrame({c: draw(st.lists(_CELLS, min_size=n, max_size=n)) for c in columns})


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    df=frames(),
    which=st.sampled_from(["prepare", "fit", "compare", "escalation"]),
    group=st.one_of(st.none(), st.sampled_from(["drug", ["drug", "line"], ["x"], 3, [""]])),
    model=st.one_of(st.sampled_from(["4pl", "3pl", "2pl", "5pl"]), _CELLS),
    options=_OPTIONS,
)
def test_only_trkres_errors_escape(
    df: object, which: str, group: object, model: object, options: dict[str, object]
) -> None:
    api = tr.doseresponse
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if which == "prepare":
                api.prepare(df, group=group, dose_unit=options.get("dose_unit"))  # type: ignore[arg-type]
            elif which == "fit":
                api.fit(df, model=model, group=group, **options)  # type: ignore[arg-type]
            elif which == "compare":
                api.compare(df, condition="line", reference="parental", by=group, **options)  # type: ignore[arg-type]
            else:
                api.escalation_series(df, time="drug", by=group, **options)  # type: ignore[arg-type]
        except TrkresError:
            pass


def test_fuzz_can_succeed() -> None:
    """The strategy's good corner works (so the fuzz test is not vacuous)."""
    doses = np.logspace(-10, -5, 9)
    df = pd.DataFrame({"drug": "d", "line": np.repeat(["parental", "R"], 9),
                       "dose": np.tile(doses, 2), "unit": "M",
                       "response": np.tile(1 / (1 + doses / 1e-8), 2)})  # fmt: skip
    assert len(tr.doseresponse.fit(df, group=["drug", "line"])) == 2
