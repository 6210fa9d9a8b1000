"""Band volumes: each background method on backgrounds of known shape, saturation, bad ROIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trkres.assays.western.io import blot_from_array
from trkres.assays.western.measure import BACKGROUND_METHODS, MEASURE_COLUMNS, measure
from trkres.errors import InputError

H, W = 200, 160
BAND = (40, 80, 60, 72)  # x0, x1, y0, y1 of a flat band of +500 grey levels
VOLUME = 500.0 * 40 * 12


def _image(background: np.ndarray, *, dark: bool = False):  # type: ignore[no-untyped-def]
    img = background.copy()
    x0, x1, y0, y1 = BAND
    img[y0:y1, x0:x1] += 500.0
    raw = np.clip(np.rint(65535 - img if dark else img), 0, 65535).astype(np.uint16)
    return blot_from_array(raw, invert="yes" if dark else "no", source="test.tif")


def _rois(*boxes: tuple[int, int, int, int, int, int]) -> pd.DataFrame:
    return pd.DataFrame(boxes, columns=["lane", "band", "x0", "x1", "y0", "y1"])


ROI = _rois((1, 1, 37, 83, 57, 75))  # the band with a 3 px margin
YY, XX = np.mgrid[0:H, 0:W].astype(np.float64)


@pytest.mark.parametrize("method", ["local", "rolling-ball", "profile", "border"])
@pytest.mark.parametrize("dark", [False, True])
def test_flat_background_every_method_is_exact(method: str, dark: bool) -> None:
    image = _image(np.full((H, W), 1000.0), dark=dark)
    out = measure(image, ROI, background=method, radius=20)
    r = out.iloc[0]
    assert r["volume"] == pytest.approx(VOLUME, rel=2e-3)
    assert r["background"] == pytest.approx(1000.0, rel=2e-3)  # the signal, inverted or not
    assert r["peak"] == pytest.approx(500.0, abs=2)
    assert r["area"] == 46 * 18
    assert not r["saturated"] and not r["lane_saturated"]
    assert r["image"] == "test.tif"
    assert r["background_method"].startswith(method)


def test_none_sums_the_signal() -> None:
    image = _image(np.full((H, W), 1000.0))
    r = measure(image, ROI, background="none").iloc[0]
    assert r["volume"] == pytest.approx(VOLUME + 1000.0 * 46 * 18)
    assert r["background"] == 0.0


def test_local_follows_a_curved_background_where_the_border_median_does_not() -> None:
    # A background curved down the lane (a parabola, 0.6 grey levels per px², like the top
    # of a blob) and sloped across it.
    bg = 1000.0 + 0.6 * (YY - 66) ** 2 + 4.0 * XX
    image = _image(bg)
    local = measure(image, ROI, background="local").iloc[0]
    border = measure(image, ROI, background="border").iloc[0]
    assert local["volume"] == pytest.approx(VOLUME, rel=5e-3)
    # The border median sits on the parabola's arms, above its floor under the band.
    assert abs(border["volume"] / VOLUME - 1) > 0.05


def test_local_bridges_a_doublet_as_one() -> None:
    bg = 1000.0 + 0.3 * (YY - 70) ** 2
    img = bg.copy()
    img[60:68, 40:80] += 400.0
    img[71:79, 40:80] += 300.0  # the second band of a doublet, 3 rows below
    image = blot_from_array(np.rint(img).astype(np.uint16), invert="no")
    rois = _rois((1, 1, 38, 82, 58, 70), (1, 2, 38, 82, 70, 81))
    out = measure(image, rois, background="local").set_index("band")
    assert out.loc[1, "volume"] == pytest.approx(400 * 8 * 40, rel=0.01)
    assert out.loc[2, "volume"] == pytest.approx(300 * 8 * 40, rel=0.01)


def test_saturated_band_flags_its_lane_only() -> None:
    img = np.full((H, W), 1000.0)
    img[60:72, 40:80] += 500.0
    img[120:130, 40:80] = 65535.0  # clipped band: lane 1, band 2
    img[60:72, 100:140] += 300.0  # lane 2
    rois = _rois((1, 1, 37, 83, 57, 75), (1, 2, 37, 83, 117, 133), (2, 1, 97, 143, 57, 75))
    for dark in (False, True):
        raw = np.rint(65535 - img if dark else img).astype(np.uint16)
        image = blot_from_array(raw, invert="yes" if dark else "no")
        out = measure(image, rois).set_index(["lane", "band"])
        assert out.loc[(1, 2), "saturated"] and out.loc[(1, 2), "saturated_pixels"] == 400
        assert not out.loc[(1, 1), "saturated"] and out.loc[(1, 1), "lane_saturated"]
        assert "another band of this lane is clipped" in out.loc[(1, 1), "note"]
        assert "cannot be quantified" in out.loc[(1, 2), "note"]
        assert not out.loc[(2, 1), "lane_saturated"] and out.loc[(2, 1), "note"] == ""


def test_columns_extra_roi_columns_and_empty_rois() -> None:
    image = _image(np.full((H, W), 1000.0))
    rois = ROI.assign(detected=[False], note=["placed"])
    out = measure(image, rois)
    assert list(out.columns) == [*MEASURE_COLUMNS, "detected"]
    assert out["note"].iloc[0] == "placed" and not out["detected"].iloc[0]
    empty = measure(image, ROI.iloc[:0])
    assert empty.empty and list(empty.columns)[: len(MEASURE_COLUMNS)] == MEASURE_COLUMNS


def test_rolling_ball_background_passed_in_is_used() -> None:
    image = _image(np.full((H, W), 1000.0))
    given = np.full((H, W), 900.0)
    r = measure(image, ROI, background="rolling-ball", background_image=given, relevel=False).iloc[
        0
    ]
    assert r["volume"] == pytest.approx(VOLUME + 100.0 * 46 * 18)
    with pytest.raises(InputError, match="does not match"):
        measure(image, ROI, background="rolling-ball", background_image=np.zeros((3, 3)))


@pytest.mark.parametrize(
    ("rois", "message"),
    [
        (_rois((1, 1, 0, 10, 190, 201)), "outside the image"),
        (_rois((1, 1, -1, 10, 0, 5)), "outside the image"),
        (_rois((1, 1, 5, 5, 0, 5)), "outside the image"),
        (pd.DataFrame({"lane": [1], "band": [1], "x0": [0], "x1": [4]}), "lack columns"),
        (
            pd.DataFrame({"lane": [1], "band": [1], "x0": [0.5], "x1": [4], "y0": [0], "y1": [3]}),
            "whole number",
        ),
        (
            pd.DataFrame({"lane": [1], "band": [1], "x0": ["a"], "x1": [4], "y0": [0], "y1": [3]}),
            "whole number",
        ),
    ],
)
def test_bad_rois(rois: pd.DataFrame, message: str) -> None:
    image = _image(np.full((H, W), 1000.0))
    with pytest.raises(InputError, match=message) as err:
        measure(image, rois)
    assert err.value.expected


def test_bad_method_and_radius() -> None:
    image = _image(np.full((H, W), 1000.0))
    with pytest.raises(InputError, match="unknown background method") as err:
        measure(image, ROI, background="rolling ball")
    assert err.value.expected is not None and all(
        m in err.value.expected for m in BACKGROUND_METHODS
    )
    for radius in (0, -5, float("nan")):
        with pytest.raises(InputError, match="radius"):
            measure(image, ROI, background="rolling-ball", radius=radius)


def test_box_covering_the_whole_image_is_labelled_not_a_traceback() -> None:
    image = _image(np.full((H, W), 1000.0))
    whole = _rois((1, 1, 0, W, 0, H))
    for method in ("local", "border"):
        r = measure(image, whole, background=method).iloc[0]
        assert np.isnan(r["volume"]) and "volume not measured" in r["note"]
    assert measure(image, whole, background="none").iloc[0]["volume"] == pytest.approx(
        1000.0 * H * W + VOLUME
    )


def test_numpy_radius_and_mismatched_mask() -> None:
    image = _image(np.full((H, W), 1000.0))
    r = measure(image, ROI, background="rolling-ball", radius=np.int64(20)).iloc[0]
    assert r["volume"] == pytest.approx(VOLUME, rel=2e-3)

    class Odd:
        signal = np.zeros((10, 10))
        saturated = np.zeros((5, 5), dtype=bool)
        source = "odd"
        channel = None

    with pytest.raises(InputError, match="not a blot image"):
        measure(Odd(), ROI.iloc[:0])  # type: ignore[arg-type]
