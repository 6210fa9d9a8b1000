"""Backgrounds: ImageJ's rolling ball (goldens from ImageJ 1.53t), border median, profile
baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d

from trkres.assays.western.background import (
    ball_geometry,
    border_background,
    profile_baseline,
    profile_peaks,
    rolling_ball,
)
from trkres.assays.western.synthetic import synthetic_parts
from trkres.errors import InputError

GOLDENS = Path(__file__).resolve().parents[1] / "data" / "western" / "rb_goldens.npz"


def _cases() -> list[str]:
    with np.load(GOLDENS) as g:
        return sorted(k for k in g.files if k.startswith("bg_"))


@pytest.mark.parametrize("key", _cases())
def test_rolling_ball_matches_imagej_within_one_grey_level(key: str) -> None:
    with np.load(GOLDENS) as g:
        _, name, r, light, smooth = key.split("_")
        image = g[f"input_{name}"]
        expected = g[key].astype(np.float64)
        assert str(g["imagej_version"]).startswith("1.")
    ours = rolling_ball(
        image, float(r[1:]), light_background=light == "l1", presmooth=smooth == "s1"
    )
    # ImageJ writes the float background as 16-bit by adding 0.5 and truncating
    assert np.abs(np.clip(np.floor(ours + 0.5), 0, 65535) - expected).max() <= 1
    assert np.abs(ours - expected).max() <= 1.0


def test_ball_geometry_follows_imagej_classes() -> None:
    assert [ball_geometry(r)[0] for r in (5, 10, 10.5, 30, 31, 100, 101)] == [1, 1, 2, 2, 4, 4, 8]
    factor, patch = ball_geometry(50)
    # radius 12.5 in the small image, trimmed by int(32 * 12.5) // 100 = 4, half width round(8.5) = 9
    assert factor == 4 and patch.shape == (19, 19)
    assert patch[9, 9] == pytest.approx(12.5)
    assert ball_geometry(50, shrink=False)[0] == 1


def test_rolling_ball_removes_a_smooth_background_and_keeps_bands() -> None:
    parts = synthetic_parts(4, gain=0, noise_sd=0, blob_amplitude=800.0, clipped_lanes=0)
    bg = rolling_ball(parts.signal, 50)
    # under the widest-spaced gaps it follows the true background closely
    gap = parts.bands < 1.0
    assert np.median(np.abs(bg - parts.background)[gap]) < 60
    # and it never rises to the band tops
    strong = parts.bands > 0.5 * parts.bands.max()
    assert (bg[strong] < parts.signal[strong] - 0.3 * parts.bands[strong]).all()


def test_light_background_is_the_mirror_of_dark() -> None:
    rng = np.random.default_rng(0)
    img = 1000 + rng.normal(0, 20, (60, 80))
    img[20:30, 10:70] += 3000
    dark = rolling_ball(img, 20)
    light = rolling_ball(65535 - img, 20, light_background=True)
    assert np.abs((65535 - light) - dark).max() < 0.05  # float32 near 65535


def test_rolling_ball_bad_input() -> None:
    with pytest.raises(InputError):
        rolling_ball(np.ones(5), 10)
    with pytest.raises(InputError):
        rolling_ball(np.ones((5, 5)), 0)
    nan = np.ones((8, 8))
    nan[2, 2] = np.nan
    with pytest.raises(InputError):
        rolling_ball(nan, 5)
    # tiny image with a large radius: ImageJ would fail; we roll unshrunk
    assert rolling_ball(np.full((4, 6), 7.0), 50).shape == (4, 6)


def test_border_background_is_the_median_of_the_ring() -> None:
    img = np.zeros((20, 20))
    img[5:10, 5:15] = 100.0  # the band
    img[2:5, 5:15] = 10.0  # 3 rows above
    img[10:13, 5:15] = 30.0  # 3 rows below
    img[5:10, 2:5] = 1000.0  # left: only seen with left-right / all
    roi = (5, 15, 5, 10)
    assert border_background(img, roi) == 20.0
    assert border_background(img, {"x0": 5, "x1": 15, "y0": 5, "y1": 10}, border=3) == 20.0
    assert border_background(img, roi, sides="left-right") == 500.0
    # a full-height ROI has no top/bottom: falls back to the ring; the whole image: NaN
    assert border_background(img, (5, 15, 0, 20)) == 0.0
    assert np.isnan(border_background(img, (0, 20, 0, 20)))
    with pytest.raises(InputError):
        border_background(img, (5, 25, 5, 10))
    with pytest.raises(InputError):
        border_background(img, roi, sides="diagonal")


def _profile(doublet: bool = True) -> tuple[np.ndarray, np.ndarray, list[float]]:
    x = np.arange(300, dtype=np.float64)
    base = 500 + 2.0 * x + 300 * np.exp(-0.5 * ((x - 150) / 120) ** 2)
    bands = np.zeros_like(x)
    areas = []
    centres = [80, 89] if doublet else [80]
    for c, h in zip([*centres, 220], [800.0, 600.0, 400.0], strict=False):
        b = h * 0.5 * (np.tanh((x - c + 4) / 1.2) - np.tanh((x - c - 4) / 1.2))
        bands += b
        areas.append(float(b.sum()))
    return x, base + bands, areas


def test_valley_baseline_runs_under_a_doublet() -> None:
    _x, y, _ = _profile()
    base = profile_baseline(y, "valley")
    assert base.shape == y.shape and (base <= uniform_filter1d(y, 5, mode="nearest")).all()
    assert (profile_baseline(y, "valley", smooth=1) <= y).all()
    peaks = profile_peaks(y)
    assert len(peaks) == 3
    # between the doublet's two bands the baseline stays low, not at the dip
    assert base[85] < y[85] - 300
    # plain valley-to-valley (no merging) would put the baseline at the dip
    assert profile_baseline(y, "valley", merge=10.0, smooth=1)[85] == pytest.approx(y[85])


def test_local_baseline_follows_a_curved_background() -> None:
    x, y, areas = _profile()
    true_bg = 500 + 2.0 * x + 300 * np.exp(-0.5 * ((x - 150) / 120) ** 2)
    base = profile_baseline(y, "local", window=60)
    assert (base <= uniform_filter1d(y, 5, mode="nearest")).all()
    got = (y - base)[60:120].sum()
    assert got == pytest.approx(areas[0] + areas[1], rel=0.03)
    assert np.abs(base - true_bg)[130:200].max() < 10


def test_profile_baseline_degenerate_and_bad() -> None:
    flat = np.full(50, 10.0)
    assert np.allclose(profile_baseline(flat), 10.0)
    assert np.allclose(profile_baseline(flat, "local"), 10.0)
    with pytest.raises(InputError):
        profile_baseline([1.0, 2.0])
    with pytest.raises(InputError):
        profile_baseline(np.ones(10), "spline")
    with pytest.raises(InputError):
        profile_baseline(np.ones(10), peaks=[20])
    with pytest.raises(InputError):
        profile_baseline(np.ones(10), smooth=0)


def test_background_methods_recover_band_volumes_in_true_boxes() -> None:
    """On synthetic blots (curved, blobby backgrounds, noise, doublets), with the true band
    boxes: border median, valley and local profile baselines give >= 90 % of the bands
    (>= 5 % of the strongest) within 5 % of their true volume, and empty lanes <= 2 %."""
    within: dict[str, list[bool]] = {"border": [], "valley": [], "local": []}
    empty_worst = 0.0
    for seed in range(4):
        parts = synthetic_parts(seed, lane_smear=400.0)
        raw, truth = parts.raw, parts.truth
        signal = raw.astype(np.float64)
        ok = truth[~truth.groupby("lane")["clipped"].transform("any")]
        top = float(ok.true_volume.max())
        for _, lane in ok.groupby("lane"):
            x0, x1 = int(lane.x0.min()), int(lane.x1.max())
            profile = signal[:, x0:x1].sum(axis=1)
            bases = {m: profile_baseline(profile, m) for m in ("valley", "local")}
            for _, group in lane.groupby("row"):
                y0, y1 = int(group.y0.min()), int(group.y1.max())
                true = float(group.true_volume.sum())
                box = signal[y0:y1, x0:x1]
                est = {
                    "border": float((box - border_background(signal, (x0, x1, y0, y1))).sum()),
                    **{m: float((profile[y0:y1] - b[y0:y1]).sum()) for m, b in bases.items()},
                }
                if bool(group["empty"].any()):
                    empty_worst = max(empty_worst, *(abs(v) / top for v in est.values()))
                elif true >= 0.05 * top:
                    for m, v in est.items():
                        within[m].append(abs(v - true) <= 0.05 * true)
    for method, hits in within.items():
        assert np.mean(hits) >= 0.9, (method, np.mean(hits))
    assert empty_worst <= 0.02


def test_absurd_radius_is_refused_not_hours_of_work() -> None:
    img = np.zeros((1500, 2000))
    with pytest.raises(InputError, match="too large"):
        rolling_ball(img, 20000)
