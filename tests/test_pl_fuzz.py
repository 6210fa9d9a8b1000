"""Hypothesis drives every public plotting function with bad tables and bad arguments:
only TrkresError subclasses may come out (a table that happens to be valid may draw)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import trkres as tr
from trkres.errors import TrkresError

#: Column names the figures look for, so generated tables get past the first check.
NAMES = [
    "curve_id", "dose_molar", "response", "log10_ic50", "hill_slope", "top", "bottom",
    "group", "condition", "reference", "resistant", "fold_change", "fold_ci_low",
    "fold_ci_high", "threshold", "passage", "established_at", "well", "row", "col",
    "viability", "plate", "concentration", "conc_ci_low", "conc_ci_high", "target",
    "patient_id", "day", "vaf", "gene", "alteration", "block_id", "conc1", "conc2",
]  # fmt: skip

CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.text(max_size=4),
    st.none(),
    st.booleans(),
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    columns = draw(st.lists(st.sampled_from(NAMES), max_size=8))
    n = draw(st.integers(0, 4))
    data = {}
    for c in columns:
        if draw(st.booleans()):
            data[c] = draw(st.lists(st.floats(-12, 3), min_size=n, max_size=n))
        else:
            data[c] = draw(st.lists(CELLS, min_size=n, max_size=n))
    frame = pd.DataFrame(data) if data else pd.DataFrame(index=range(n))
    if "dose_molar" in frame and draw(st.booleans()):
        frame["dose_molar"] = pd.to_numeric(frame["dose_molar"], errors="coerce").abs()
    return frame


JUNK = st.one_of(frames(), st.none(), st.integers(), st.text(max_size=5),
                 st.lists(st.integers(), max_size=3), st.just(np.arange(3)))  # fmt: skip

FUNCTIONS = sorted(tr.pl.__all__)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FUNCTIONS), first=JUNK, second=JUNK)
def test_plots_raise_only_trkres_errors(name: str, first: object, second: object) -> None:
    function = getattr(tr.pl, name)
    fig = Figure()
    ax = fig.add_subplot()
    try:
        if name == "dose_response":
            function(first, second, ax=ax)
        else:
            function(first, ax=ax)
    except TrkresError:
        pass
    finally:
        fig.clear()


def test_nullable_number_columns_plot_as_floats() -> None:
    """Fits read back with pandas' nullable types (Float64, pd.NA for a missing IC50)
    plot as float64 fits do (np.isfinite(pd.NA) raised a TypeError)."""
    import matplotlib.pyplot as plt

    study = tr.examples.example_study_path()
    viability = pd.read_csv(study / "lab" / "viability_entrectinib.tsv", sep="\t")
    data = tr.doseresponse.prepare(viability, group=["drug", "line"])
    fits = tr.doseresponse.fit(data).convert_dtypes()
    fits.loc[fits.index[0], "log10_ic50"] = pd.NA
    assert str(fits["log10_ic50"].dtype) == "Float64"
    ax = tr.pl.dose_response(data, fits)
    assert len(ax.lines) >= 1
    assert str(fits["log10_ic50"].dtype) == "Float64"  # the caller's frame is unchanged
    plt.close(ax.figure)
