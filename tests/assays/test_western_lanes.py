"""Lanes from the column profile: positions against synthetic truth, empty lanes, tilt, odd input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import ndimage

from trkres.assays.western.background import rolling_ball
from trkres.assays.western.lanes import Lane, find_lanes, lanes_table
from trkres.assays.western.synthetic import synthetic_blot, synthetic_parts
from trkres.errors import InputError


def _corrected(raw: np.ndarray, radius: float = 25) -> np.ndarray:
    sig = raw.astype(np.float64)
    return sig - rolling_ball(sig, radius)


def _true_centres(truth) -> np.ndarray:  # type: ignore[no-untyped-def]
    return truth.groupby("lane")["lane_center"].first().to_numpy()


@pytest.mark.parametrize("seed", [0, 3, 7])
@pytest.mark.parametrize("n_lanes", [8, 12])
def test_lanes_given_count_match_truth(seed: int, n_lanes: int) -> None:
    raw, truth = synthetic_blot(seed, n_lanes=n_lanes)
    lanes = find_lanes(_corrected(raw), n_lanes)
    assert len(lanes) == n_lanes
    centres = np.array([ln.center for ln in lanes])
    # Every lane, empty ones included (placed by the spacing), within 4 px of its true centre
    # (lanes are jittered ±3 px off the regular grid).
    assert np.abs(centres - _true_centres(truth)).max() <= 4.0
    empty = truth.groupby("lane")["empty"].any().to_numpy()
    for ln, is_empty in zip(lanes, empty, strict=True):
        if is_empty:
            assert not ln.detected and "placed by the lane spacing" in ln.note
    assert [ln.index for ln in lanes] == list(range(1, n_lanes + 1))
    # Lanes do not overlap and hold the lane's full width (the truth box is ~47 px).
    assert all(a.x1 <= b.x0 for a, b in itertools.pairwise(lanes))
    assert all(ln.x1 - ln.x0 >= 44 for ln in lanes)


@pytest.mark.parametrize("seed", [5, 8])
def test_lanes_automatic_without_empty_edges(seed: int) -> None:
    # Without a count: an empty lane between others is counted and placed by the spacing.
    raw, truth = synthetic_blot(
        seed, n_lanes=10, empty_lanes=[4], clipped_lanes=0, min_relative=0.2
    )
    lanes = find_lanes(_corrected(raw))
    assert len(lanes) == 10
    assert np.abs(np.array([ln.center for ln in lanes]) - _true_centres(truth)).max() <= 4.0
    assert not lanes[4].detected
    assert any("placed by the lane spacing" in n for n in lanes.notes)
    assert "10 lanes counted" in lanes.notes[0]


@pytest.mark.parametrize("seed", [1, 2, 3, 9])
def test_lanes_automatic_on_hard_blots(seed: int) -> None:
    # Loads from 2% to 100%, a clipped lane, an empty lane: the count is right unless the
    # empty lane is at an edge (it cannot be counted there).
    n_lanes = (6, 8, 10, 12)[seed % 4]
    raw, truth = synthetic_blot(seed, n_lanes=n_lanes)
    empty = set(truth.loc[truth["empty"], "lane"])
    first, last = int(0 in empty), n_lanes - int(n_lanes - 1 in empty)
    lanes = find_lanes(_corrected(raw))
    assert len(lanes) == last - first
    centres = np.array([ln.center for ln in lanes])
    assert np.abs(centres - _true_centres(truth)[first:last]).max() <= 6.0


def test_more_lanes_asked_than_on_the_blot_is_labelled() -> None:
    raw, truth = synthetic_blot(2, n_lanes=6, empty_lanes=0, clipped_lanes=0, width=520)
    # The blot fills the image: the two extra lanes would lie outside it at the lanes'
    # spacing, so the six lanes come back (not eight squeezed ones) and a note says so.
    lanes = find_lanes(_corrected(raw), 8)
    assert len(lanes) == 6
    assert all(ln.detected for ln in lanes)
    centres = np.array([ln.center for ln in lanes])
    assert np.abs(centres - _true_centres(truth)).max() <= 4.0
    assert any("2 of the 8 lanes asked would lie outside the image" in n for n in lanes.notes)
    # With room in the image, the missing lanes are placed there and labelled.
    wide = np.zeros((raw.shape[0], raw.shape[1] + 200))
    wide[:, 100:-100] = _corrected(raw)
    lanes = find_lanes(wide, 8)
    assert len(lanes) == 8 and sum(ln.detected for ln in lanes) == 6
    assert any("fewer lanes on the blot than asked" in n for n in lanes.notes)


def test_tilted_blot() -> None:
    parts = synthetic_parts(1, n_lanes=8, height=400, tilt=0.0, smile=0.0)
    sig = parts.signal
    tilt = 0.04  # px of x per px of y (2.3°)
    yc = (sig.shape[0] - 1) / 2
    sheared = np.stack(
        [ndimage.shift(row, tilt * (y - yc), order=1, mode="nearest") for y, row in enumerate(sig)]
    )
    lanes = find_lanes(sheared - rolling_ball(sheared, 25), 8)
    assert lanes[0].tilt == pytest.approx(tilt, abs=0.008)
    assert any("tilted" in n for n in lanes.notes)
    truth = _true_centres(parts.truth)
    for ln, c in zip(lanes, truth, strict=True):
        for y in (50.0, 350.0):
            assert float(ln.center_at(y)) == pytest.approx(c + tilt * (y - yc), abs=4.0)


def test_upright_blot_has_no_tilt() -> None:
    raw, _ = synthetic_blot(4, n_lanes=10)
    assert all(ln.tilt == 0.0 for ln in find_lanes(_corrected(raw), 10))


def test_blank_and_noise_images_are_labelled() -> None:
    blank = np.full((120, 300), 1000.0)
    assert list(find_lanes(blank)) == []
    assert "no lanes found" in find_lanes(blank).notes[0]
    placed = find_lanes(blank, 4)
    assert len(placed) == 4 and not any(ln.detected for ln in placed)
    assert "placed evenly" in placed.notes[0]
    noise = np.random.default_rng(0).normal(1000, 20, (120, 300))
    assert len(find_lanes(noise)) == 0


def test_one_lane() -> None:
    img = np.zeros((100, 200))
    img[30:50, 80:130] = 1000.0
    lanes = find_lanes(img, 1)
    assert len(lanes) == 1
    assert lanes[0].center == pytest.approx(104.5, abs=1.5)
    auto = find_lanes(img)
    assert len(auto) == 1


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "3"])
def test_bad_lane_count(bad: object) -> None:
    with pytest.raises(InputError, match="lane count"):
        find_lanes(np.zeros((50, 50)), bad)  # type: ignore[arg-type]


def test_too_many_lanes_for_the_image_and_not_an_image() -> None:
    with pytest.raises(InputError) as err:
        find_lanes(np.zeros((50, 30)), 11)
    assert err.value.expected is not None and "at most 10 lanes" in err.value.expected
    with pytest.raises(InputError, match="not an image"):
        find_lanes(np.zeros(50))


def test_lanes_table_columns() -> None:
    lanes = [Lane(index=1, x0=0, x1=10, center=5.0, width=10, note="x")]
    table = lanes_table(lanes)
    assert list(table.columns) == ["lane", "x0", "x1", "center", "width", "tilt", "y_ref", "detected",
                                   "prominence", "note"]  # fmt: skip
    assert table.iloc[0]["note"] == "x"
