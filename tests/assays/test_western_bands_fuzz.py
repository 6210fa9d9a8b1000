"""Fuzz: odd ROI files and odd images give an InputError or a labelled result, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from trkres.assays.western.bands import find_bands, read_rois
from trkres.assays.western.io import blot_from_array
from trkres.assays.western.lanes import find_lanes
from trkres.assays.western.measure import measure
from trkres.errors import InputError

CELLS = st.one_of(
    st.integers(-5, 500).map(str), st.sampled_from(["", "x", "1.5", "nan", "2e1", " 3 ", "\t"])
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(
        st.sampled_from(["lane", "band", "x0", "x1", "y0", "y1", "note", "Lane"]),
        min_size=1,
        max_size=8,
    ),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=9), max_size=5),
    sep=st.sampled_from(["\t", ","]),
)
def test_read_rois_only_input_errors(header: list[str], rows: list[list[str]], sep: str) -> None:
    text = sep.join(header) + "\n" + "\n".join(sep.join(r) for r in rows) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("r.tsv" if sep == "\t" else "r.csv")
        path.write_text(text)
        try:
            out = read_rois(path)
        except InputError:
            return
    assert list(out.columns) == ["lane", "band", "x0", "x1", "y0", "y1"]
    assert (out["x1"] > out["x0"]).all() and (out["y1"] > out["y0"]).all()


@settings(max_examples=25, deadline=None)
@given(
    img=arrays(
        np.uint16, st.tuples(st.integers(3, 40), st.integers(3, 60)), elements=st.integers(0, 65535)
    ),
    n_lanes=st.one_of(st.none(), st.integers(1, 8)),
)
def test_pipeline_on_random_images(img: np.ndarray, n_lanes: int | None) -> None:
    image = blot_from_array(img, invert="no")
    try:
        lanes = find_lanes(image.signal, n_lanes)
    except InputError:
        assert n_lanes is not None and n_lanes > img.shape[1] // 3
        return
    bands = find_bands(image.signal, lanes)
    for method in ("local", "rolling-ball", "border", "profile", "none"):
        out = measure(image, bands, background=method, radius=5)
        assert len(out) == len(bands)
