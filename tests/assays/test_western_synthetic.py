"""Synthetic blots: deterministic, and the truth table agrees with the pixels."""

from __future__ import annotations

import numpy as np
import pytest

from trkres.assays.western.synthetic import TRUTH_COLUMNS, synthetic_blot, synthetic_parts
from trkres.errors import InputError


def test_same_seed_same_blot_other_seed_other_blot() -> None:
    raw1, truth1 = synthetic_blot(7)
    raw2, truth2 = synthetic_blot(7)
    raw3, _ = synthetic_blot(8)
    assert raw1.dtype == np.uint16
    assert np.array_equal(raw1, raw2)
    assert truth1.equals(truth2)
    assert not np.array_equal(raw1, raw3)
    assert list(truth1.columns) == TRUTH_COLUMNS


def test_true_volume_is_the_pixels_above_background_without_noise() -> None:
    parts = synthetic_parts(3, gain=0, noise_sd=0, clipped_lanes=0)
    above = parts.raw.astype(float) - parts.background
    # a doublet's two boxes overlap, so compare each band row's union box with its bands' sum
    for _, group in parts.truth.groupby(["lane", "row"]):
        box = above[group.y0.min() : group.y1.max(), group.x0.min() : group.x1.max()]
        volume = float(group.true_volume.sum())
        # the box holds > 99.9 % of each band; rounding adds at most 0.5 per pixel
        assert box.sum() == pytest.approx(volume, abs=0.002 * volume + 0.5 * box.size)
    # and the rendered band layer sums to the truth exactly
    assert parts.bands.sum() == pytest.approx(parts.truth.true_volume.sum(), rel=1e-9)


def test_clipped_and_empty_lanes_are_the_ones_asked_for() -> None:
    raw, truth = synthetic_blot(5, empty_lanes=[2], clipped_lanes=[4, 9])
    lanes = truth.groupby("lane")
    assert sorted(truth.lane[lanes["clipped"].transform("any")].unique()) == [4, 9]
    assert sorted(truth.lane[truth["empty"]].unique()) == [2]
    assert (truth.loc[truth["empty"], "true_volume"] == 0).all()
    assert (truth.loc[~truth["empty"], "true_volume"] > 0).all()
    # outside the clipped lanes nothing reaches the detector maximum
    mask = raw == 65535
    for lane in (4, 9):
        rows = truth[truth.lane == lane]
        mask[:, rows.x0.min() : rows.x1.max()] = False
    assert not mask.any()


def test_dark_on_light_is_the_mirror_image_clipped_at_zero() -> None:
    bright = synthetic_parts(11, gain=0, noise_sd=0)
    dark = synthetic_parts(11, gain=0, noise_sd=0, dark_on_light=True)
    assert (
        np.abs(dark.raw.astype(int) - (65535 - np.clip(np.rint(bright.signal), 0, 65535))).max()
        <= 1
    )
    assert dark.truth.clipped.equals(bright.truth.clipped)
    assert (dark.raw == 0).any() and not (dark.raw == 65535).any()
    assert np.median(dark.raw) > 60000


def test_smile_and_tilt_move_the_band_rows() -> None:
    _, truth = synthetic_blot(1, smile=10, tilt=0, lane_jitter=0, empty_lanes=0, clipped_lanes=0)
    first = truth[truth.band == 0].set_index("lane")
    # the smile lifts the edge lanes (smaller row) above the centre lanes
    assert first.y0[0] < first.y0[6] and first.y0[11] < first.y0[6]
    _, flat = synthetic_blot(1, smile=0, tilt=0, lane_jitter=0, empty_lanes=0, clipped_lanes=0)
    assert flat[flat.band == 0].y0.nunique() == 1


def test_geometry_follows_the_width_and_bad_requests_are_input_errors() -> None:
    raw, truth = synthetic_blot(2, width=2000, height=1500)
    assert raw.shape == (1500, 2000)
    assert truth.lane_x1.max() - truth.lane_x0.min() > 1700
    with pytest.raises(InputError):
        synthetic_blot(2, n_lanes=3, empty_lanes=4)
    with pytest.raises(InputError):
        synthetic_blot(2, background="checkerboard")
    with pytest.raises(InputError):
        synthetic_blot(2, width=50)


def test_lane_smear_raises_only_the_loaded_lanes_background() -> None:
    plain = synthetic_parts(6, gain=0, noise_sd=0)
    smear = synthetic_parts(6, gain=0, noise_sd=0, lane_smear=600.0)
    extra = smear.background - plain.background
    assert np.array_equal(smear.bands, plain.bands) and extra.min() >= 0
    truth = smear.truth
    empty_lane = truth[truth["empty"]]
    loaded = truth[~truth["empty"]]
    cols = slice(int(empty_lane.x0.min()), int(empty_lane.x1.max()))
    assert extra[:, cols].max() < 1.0  # the empty lane has no smear
    top = loaded.iloc[0]
    assert extra[: int(top.y1), int(top.x0) : int(top.x1)].max() > 100
    # the truth's background_mean is the box mean of the true background
    for band in truth.itertuples():
        box = smear.background[band.y0 : band.y1, band.x0 : band.x1]
        assert band.background_mean == pytest.approx(box.mean())
