"""Bands from lane profiles (doublets, empty lanes, band rows) and ROI files (read, write, errors)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trkres.assays.western.background import rolling_ball
from trkres.assays.western.bands import BAND_COLUMNS, ROI_COLUMNS, find_bands, read_rois, rois_table
from trkres.assays.western.lanes import Lane, find_lanes
from trkres.assays.western.synthetic import synthetic_blot
from trkres.errors import InputError


def _detect(seed: int, n_lanes: int = 8, **kw: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw, truth = synthetic_blot(seed, n_lanes=n_lanes, **kw)
    sig = raw.astype(np.float64)
    corr = sig - rolling_ball(sig, 25)
    return find_bands(corr, find_lanes(corr, n_lanes)), truth


def _overlap(a: pd.Series, b: pd.Series) -> float:
    """Intersection over union of two boxes (x0, x1, y0, y1; exclusive ends)."""
    w = max(0, min(a.x1, b.x1) - max(a.x0, b.x0))
    h = max(0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = w * h
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    return inter / union


@pytest.mark.parametrize("seed", [0, 4, 9])
def test_band_rows_doublet_and_boxes_match_truth(seed: int) -> None:
    bands, truth = _detect(seed)
    assert list(bands.columns) == BAND_COLUMNS
    # One doublet (ERK1/2, 13 px apart) and one single band: three band rows in every lane.
    assert sorted(bands["band"].unique()) == [1, 2, 3]
    assert (bands.groupby("lane").size() == 3).all()
    t = truth.assign(lane=truth["lane"] + 1, band=truth["band"] + 1)
    merged = bands.merge(t, on=["lane", "band"], suffixes=("", "_t"))
    assert len(merged) == len(bands)
    for r in merged.itertuples():
        mine = pd.Series({"x0": r.x0, "x1": r.x1, "y0": r.y0, "y1": r.y1})
        true = pd.Series({"x0": r.x0_t, "x1": r.x1_t, "y0": r.y0_t, "y1": r.y1_t})
        # The doublet's true boxes overlap each other (soft edges); ours are cut at the valley.
        assert _overlap(mine, true) >= 0.5, (r.lane, r.band)
    # The two bands of the doublet are separate boxes of one lane, not one merged box.
    for _, lane in bands.groupby("lane"):
        b1, b2 = lane[lane["band"] == 1].iloc[0], lane[lane["band"] == 2].iloc[0]
        assert b1["y1"] <= b2["y0"] and b2["peak_y"] - b1["peak_y"] == pytest.approx(13, abs=3)


def test_empty_lane_gets_boxes_at_its_band_rows() -> None:
    bands, _ = _detect(1, empty_lanes=[3])
    lane4 = bands[bands["lane"] == 4]
    assert len(lane4) == 3
    assert not lane4["detected"].any()
    assert lane4["note"].str.contains("box placed at the band row").all()
    # Placed at the rows of its neighbours (the smile moves rows by a few px across lanes).
    for b in (1, 2, 3):
        row = bands[bands["band"] == b].set_index("lane")["peak_y"]
        assert row[4] == pytest.approx((row[3] + row[5]) / 2, abs=2)


def test_no_lanes_or_flat_signal_give_an_empty_table() -> None:
    assert find_bands(np.zeros((50, 60)), []).empty
    flat = np.zeros((80, 60))
    lanes = [Lane(index=1, x0=10, x1=50, center=30.0, width=40)]
    out = find_bands(flat, lanes)
    assert out.empty and list(out.columns) == BAND_COLUMNS


def test_single_synthetic_band() -> None:
    img = np.zeros((120, 80))
    img[50:62, 20:60] = 500.0
    lanes = [Lane(index=1, x0=18, x1=62, center=40.0, width=44)]
    out = find_bands(img, lanes)
    assert len(out) == 1
    r = out.iloc[0]
    assert (r.x0, r.x1) == (18, 62)
    # The box holds the band (rows 50..61) with some padding (2% of the peak, then 20% of
    # the box), and not the whole lane.
    assert r.y0 <= 50 and r.y1 >= 62 and r.y1 - r.y0 <= 30


def test_rois_round_trip_tsv_and_csv(tmp_path: Path) -> None:
    bands, _ = _detect(2)
    rois = rois_table(bands)
    assert list(rois.columns) == ROI_COLUMNS
    tsv = tmp_path / "rois.tsv"
    rois.to_csv(tsv, sep="\t", index=False)
    pd.testing.assert_frame_equal(read_rois(tsv), rois)
    csv = tmp_path / "rois.csv"
    rois.to_csv(csv, index=False)
    pd.testing.assert_frame_equal(read_rois(csv), rois)
    # A whole bands table (extra columns) reads back as ROIs; blank lines are skipped.
    full = tmp_path / "bands.tsv"
    text = bands.to_csv(sep="\t", index=False)
    full.write_text(text.replace("\n", "\n\n", 1))
    pd.testing.assert_frame_equal(read_rois(full), rois)


def _write(tmp_path: Path, text: str, name: str = "rois.tsv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message", "line", "column", "found"),
    [
        (
            "lane\tband\tx0\tx1\ty0\n1\t1\t0\t5\t0\n",
            "lacks columns",
            1,
            None,
            "columns lane, band, x0, x1, y0",
        ),
        (
            "lane\tband\tx0\tx1\ty0\ty1\n1\t1\t0\t5\t0\t4\n1\t2\t0\tfive\t0\t4\n",
            "not a whole number",
            3,
            "x1",
            "'five'",
        ),
        (
            "lane\tband\tx0\tx1\ty0\ty1\n1\t1\t0\t5.5\t0\t4\n",
            "not a whole number",
            2,
            "x1",
            "'5.5'",
        ),
        ("lane\tband\tx0\tx1\ty0\ty1\n0\t1\t0\t5\t0\t4\n", "out of range", 2, "lane", "'0'"),
        ("lane\tband\tx0\tx1\ty0\ty1\n1\t1\t-3\t5\t0\t4\n", "out of range", 2, "x0", "'-3'"),
        (
            "lane\tband\tx0\tx1\ty0\ty1\n1\t1\t5\t5\t0\t4\n",
            "empty ROI box",
            2,
            "x1",
            "x0 = 5, x1 = 5",
        ),
        (
            "lane\tband\tx0\tx1\ty0\ty1\n1\t1\t0\t5\t9\t4\n",
            "empty ROI box",
            2,
            "y1",
            "y0 = 9, y1 = 4",
        ),
        (
            "lane\tband\tx0\tx1\ty0\ty1\n1\t1\t0\t5\t0\t4\n1\t1\t0\t5\t6\t9\n",
            "given twice",
            3,
            None,
            "lane 1, band 1",
        ),
    ],
)
def test_read_rois_errors_name_line_column(
    tmp_path: Path, text: str, message: str, line: int, column: str | None, found: str
) -> None:
    with pytest.raises(InputError, match=message) as err:
        read_rois(_write(tmp_path, text))
    e = err.value
    assert e.location is not None and e.location.line == line and e.location.column == column
    assert e.found is not None and found in e.found and e.expected


def test_read_rois_headers_are_forgiving_and_float_integers_pass(tmp_path: Path) -> None:
    path = _write(tmp_path, "Lane,Band,X0,X1,Y0,Y1,comment\n2,1,10.0,20,3,9,ok\n", "r.csv")
    out = read_rois(path)
    assert out.to_dict("records") == [{"lane": 2, "band": 1, "x0": 10, "x1": 20, "y0": 3, "y1": 9}]


def test_read_rois_missing_empty_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_rois(tmp_path / "nope.tsv")
    with pytest.raises(InputError):
        read_rois(_write(tmp_path, ""))
    with pytest.raises(InputError):
        read_rois(_write(tmp_path, "lane\tband\tx0\tx1\ty0\ty1\n"))
    binary = tmp_path / "b.tsv"
    binary.write_bytes(b"\x00\xff\x10" * 50)
    with pytest.raises(InputError):
        read_rois(binary)


def test_rois_table_needs_roi_columns() -> None:
    with pytest.raises(InputError, match="not a bands table"):
        rois_table(pd.DataFrame({"lane": [1]}))
