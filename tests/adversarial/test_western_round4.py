"""Western blots, adversarial review round 4: each test failed before its fix."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trkres as tr
from trkres.assays.western import quantify
from trkres.assays.western.io import read_blot
from trkres.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ntrk_resistance" / "western"


def _licor(tmp_path: Path) -> Path:
    """The example's GAPDH (700) and pERK (800) as one two-page LI-COR-like TIFF, 700 first."""
    import tifffile

    path = tmp_path / "licor.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(tifffile.imread(EXAMPLE / "GAPDH.tif"), description="700 nm")
        tw.write(tifffile.imread(EXAMPLE / "pERK.tif"), description="800 nm")
    return path


def test_a_loading_channel_of_the_targets_file_is_not_also_the_target(tmp_path: Path) -> None:
    # Before: with --loading-channel 700 and no --channel, page 1 (the 700 channel itself)
    # was quantified as the target: every ratio was exactly 1, with an INFO note only.
    got = tr.western.blot(_licor(tmp_path), loading_channel="700")["quantified"]
    apart = tr.western.blot(EXAMPLE / "pERK.tif", loading=EXAMPLE / "GAPDH.tif")["quantified"]
    assert not np.allclose(got["ratio"], 1.0)
    np.testing.assert_allclose(got["ratio"], apart["ratio"], rtol=1e-9)


def test_the_target_and_the_loading_control_on_one_page_are_refused(tmp_path: Path) -> None:
    licor = _licor(tmp_path)
    with pytest.raises(InputError, match="same page"):
        tr.western.blot(licor, channel="700", loading_channel="700")
    with pytest.raises(InputError, match="same image"):
        tr.western.blot(EXAMPLE / "pERK.tif", loading=EXAMPLE / "pERK.tif")


def test_combine_refuses_two_results_that_name_the_same_blot() -> None:
    # Before: two blots quantified without blot= were both blot "1": combine averaged them as
    # technical lanes of one blot (n = 1, "one replicate: no SD or CI"), silently.
    kw = {"loading": EXAMPLE / "GAPDH.tif", "layout": EXAMPLE / "lanes.tsv"}
    one = tr.western.blot(EXAMPLE / "pERK.tif", **kw)
    two = tr.western.blot(EXAMPLE / "pERK.tif", **kw)
    with pytest.raises(InputError, match="same lane of the same blot"):
        tr.western.combine([one, two])
    other = tr.western.blot(EXAMPLE / "pERK.tif", blot="B", **kw)
    summary = tr.western.combine([one, other])["summary"]
    assert (summary["n"] == 2).all()


def _png16(path: Path, arr: np.ndarray, colour_type: int) -> None:
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit colour)."""
    h, w = arr.shape[:2]
    rows = arr.reshape(h, -1).astype(">u2")
    body = b"".join(b"\x00" + rows[i].tobytes() for i in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(body))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(("colour_type", "name"), [(2, "RGB"), (4, "grey + alpha"), (6, "RGBA")])
def test_a_16_bit_colour_png_is_said_to_be_read_at_8_bits(
    tmp_path: Path, colour_type: int, name: str
) -> None:
    # Before: the reader decoded it at 8 bits and warned "an 8-bit image ... scan at 16 bits"
    # to a user who had saved 16 bits.
    grey = np.tile(np.linspace(1000, 60000, 40).astype(np.uint16), (30, 1))
    channels = {2: 3, 4: 2, 6: 4}[colour_type]
    arr = np.dstack([grey] * channels)
    if colour_type in (4, 6):
        arr[..., -1] = 65535
    path = tmp_path / "blot16.png"
    _png16(path, arr, colour_type)
    warnings = " ".join(read_blot(path)[0].warnings)
    assert f"a 16-bit {name} PNG, read at 8 bits" in warnings
    assert "scan at 16 bits" not in warnings


def test_8_bit_data_in_a_16_bit_tiff_is_warned(tmp_path: Path) -> None:
    # Before: 8-bit data saved as 16-bit (ImageJ's Type > 16-bit) had its clipped bands at
    # 255, far below 65535: no saturation and no warning.
    import tifffile

    raw = np.full((40, 60), 30, dtype=np.uint16)
    raw[10:20, 10:50] = 255
    tifffile.imwrite(tmp_path / "b.tif", raw)
    warnings = " ".join(read_blot(tmp_path / "b.tif")[0].warnings)
    assert "detector_max=255" in warnings


def test_a_target_at_or_below_background_is_noted() -> None:
    # Before: a target volume <= 0 gave a ratio and fold change <= 0 and a NaN log2 fold
    # change with an empty note (and the lane was dropped from the replicate statistics).
    target = pd.DataFrame({"blot": "1", "lane": [1, 2, 3], "target": "pERK",
                           "signal": [100.0, -5.0, 0.0], "saturated": False})  # fmt: skip
    loading = target.assign(target="GAPDH", signal=10.0)
    layout = pd.DataFrame({"lane": [1, 2, 3], "sample": "a", "treatment": ["DMSO", "x", "y"],
                           "role": ["control", "sample", "sample"]})  # fmt: skip
    ratios = quantify.normalise(target, loading)
    assert list(ratios["note"].str.contains("pERK <= 0")) == [False, True, True]
    fc = quantify.fold_change(ratios, layout)
    low = fc["fold_change"] <= 0
    assert low.tolist() == [False, True, True]
    assert fc.loc[low, "note"].str.contains("no log2").all()


def test_roi_tables_in_python_are_checked_as_roi_files_are() -> None:
    rois = tr.western.blot(EXAMPLE / "pERK.tif")["rois"]
    # Before: lane 0 (0-based numbering) was measured and matched against layout lanes 1, 2, ...
    with pytest.raises(InputError, match="lane number below 1"):
        tr.western.blot(EXAMPLE / "pERK.tif", rois=rois.assign(lane=rois["lane"] - 1))
    # Before: "bands table is empty"
    with pytest.raises(InputError, match="no ROIs"):
        tr.western.blot(EXAMPLE / "pERK.tif", rois=rois.iloc[:0])


def test_the_fold_change_figure_marks_lanes_without_a_fold_change() -> None:
    # Before: a lane with no fold change (saturated, no band) was a bar of height 0: the
    # same picture as a lane fully inhibited.
    import matplotlib

    matplotlib.use("Agg")
    from trkres.pl.western import _draw_fold

    res = tr.western.blot(EXAMPLE / "pERK.tif", loading=EXAMPLE / "GAPDH.tif",
                          layout=EXAMPLE / "lanes.tsv")  # fmt: skip
    q = res.tables["quantified"]
    q.loc[2, "fold_change"] = np.nan
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    _draw_fold(ax, res)
    texts = [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert texts.count("n/q") == 1


def test_an_unknown_control_lists_the_layouts_conditions() -> None:
    # Before: "no lane matches the control / expected: a control present in the layout",
    # with no hint that conditions read "parental | DMSO | 0 nM".
    with pytest.raises(InputError) as err:
        tr.western.blot(EXAMPLE / "pERK.tif", layout=EXAMPLE / "lanes.tsv", control="DMSO")
    assert "parental | DMSO | 0 nM" in str(err.value.expected)


def test_a_control_without_a_layout_is_warned() -> None:
    # Before: --control without --layout was ignored in silence.
    res = tr.western.blot(EXAMPLE / "pERK.tif", control="parental | DMSO | 0 nM")
    assert any("without a lane layout" in w for w in res.warnings)


def test_a_layout_of_several_blots_is_checked_against_this_blot_only() -> None:
    # Before: the lane check compared the measured lanes with every blot's lanes, so
    # blot A (8 lanes, as measured) was warned about blot B's lanes 9 and 10.
    one = pd.read_csv(EXAMPLE / "lanes.tsv", sep="\t")
    ten = pd.concat([one, one.iloc[:2].assign(lane=[9, 10])], ignore_index=True)
    layout = pd.concat([one.assign(blot="A"), ten.assign(blot="B")], ignore_index=True)
    res = tr.western.blot(EXAMPLE / "pERK.tif", layout=layout, blot="A")
    assert not any("the layout names lanes" in w for w in res.warnings)
    assert set(res["quantified"]["blot"]) == {"A"}


def test_a_blank_image_says_no_bands_were_found_and_names_it(tmp_path: Path) -> None:
    # Before: "bands table is empty / expected: one row per band" (an internal table, no file).
    import tifffile

    path = tmp_path / "blank.tif"
    tifffile.imwrite(path, np.full((60, 90), 1000, dtype=np.uint16))
    with pytest.raises(InputError, match="no bands found on the target image") as err:
        tr.western.blot(path)
    assert err.value.location is not None and "blank.tif" in str(err.value.location.file)


def test_one_molar_dose_spelled_three_ways_is_one_condition() -> None:
    # Before: "10 uM", "10 µM" (micro sign) and "10 μM" (Greek mu) were three condition
    # labels, so replicate blots written by different hands were never combined.
    from trkres.assays.western.layout import read_layout

    layout = pd.DataFrame({"lane": [1, 2, 3, 4], "sample": "a",
                           "dose": ["0 nM", "10 uM", "10 \u00b5M", "10 \u03bcM"]})  # fmt: skip
    got = read_layout(layout)
    assert got["condition"].iloc[1:].nunique() == 1
    assert got["condition"].iloc[1] == "a | 10 uM"


def test_a_dose_unit_synonym_in_the_cell_is_not_a_contradiction() -> None:
    # Before: dose "10 uM" with dose_unit "µM" was refused: "the dose's unit contradicts
    # the unit column".
    from trkres.assays.western.layout import read_layout

    layout = pd.DataFrame({"lane": [1, 2], "sample": "a", "dose": ["0", "10 uM"],
                           "dose_unit": "\u00b5M"})  # fmt: skip
    np.testing.assert_allclose(read_layout(layout)["dose_molar"], [0.0, 1e-5])
    with pytest.raises(InputError, match="contradicts"):
        read_layout(layout.assign(dose_unit="nM"))


def test_a_study_with_two_inputs_on_one_blot_name_is_refused(tmp_path: Path) -> None:
    # Before: two western inputs given the same blot: (and target) were averaged as
    # technical lanes of one blot in the replicate table, silently.
    import shutil

    from support import write_study

    folder = tmp_path / "s"
    shutil.copytree(EXAMPLE, folder / "western")
    # A second scan of the blot (other bytes: one file twice is refused by the manifest).
    data = (folder / "western" / "pERK.tif").read_bytes() + b"\0"  # TIFF: trailing bytes unread
    (folder / "western" / "pERK_rescan.tif").write_bytes(data)
    item = ("kind: western, path: western/{}, target: pERK, blot: A, "
            "loading_control: western/GAPDH.tif, layout: western/lanes.tsv")  # fmt: skip
    manifest = (f"name: blots\ninputs:\n  - {{id: b1, {item.format('pERK.tif')}}}\n"
                f"  - {{id: b2, {item.format('pERK_rescan.tif')}}}\n"
                "options:\n  western: {lanes: 8}\n")  # fmt: skip
    write_study(folder, manifest)
    with pytest.raises(InputError, match="same lane of the same blot"):
        tr.study.run(folder, only=["western"])


def test_different_lanes_on_target_and_loading_control_name_the_images(tmp_path: Path) -> None:
    # Before: "mismatched lane counts on blot 1 / expected: the same lanes in the target and
    # the loading control (6 lanes)": no image named, no way out said. (A loading control
    # of the target's size takes the ROI file's lanes since; this one is cropped, so its
    # lanes are detected: 8 against the ROI file's 6.)
    import tifffile

    rois = tr.western.blot(EXAMPLE / "pERK.tif")["rois"]
    cropped = tmp_path / "GAPDH_cropped.tif"
    tifffile.imwrite(cropped, tifffile.imread(EXAMPLE / "GAPDH.tif")[:, :-3])
    with pytest.raises(InputError, match="different lanes") as err:
        tr.western.blot(EXAMPLE / "pERK.tif", loading=cropped, rois=rois[rois["lane"] <= 6])
    assert "GAPDH_cropped.tif" in str(err.value.expected) and err.value.hint


def test_a_bright_ladder_lane_does_not_choose_the_blots_band_row() -> None:
    # Before: a prestained ladder (lane 1, bright: the 700 channel) had its largest band
    # chosen as the blot's row, so every sample lane was read on its weaker nonspecific
    # band at that row (the layout said lane 1 was the ladder).
    img = np.full((120, 200), 1000.0)
    rois = []
    for lane in range(1, 7):
        x0 = 10 + (lane - 1) * 30
        bands = (
            [(15, 3e3), (35, 3e3), (55, 3e3), (85, 6e4)] if lane == 1 else [(30, 8e3), (80, 2e3)]
        )
        for k, (y, level) in enumerate(bands, 1):
            img[y - 3 : y + 3, x0 : x0 + 20] += level
            rois.append((lane, k, x0, x0 + 20, y - 4, y + 4))
    boxes = pd.DataFrame(rois, columns=["lane", "band", "x0", "x1", "y0", "y1"])
    layout = pd.DataFrame({"lane": range(1, 7), "sample": "a",
                           "role": ["ladder", "control", "sample", "sample", "sample", "sample"]})  # fmt: skip
    res = tr.western.blot(img.astype(np.uint16), rois=boxes, layout=layout, invert="no",
                          background="none")  # fmt: skip
    sig = res["signals"].set_index("lane")
    assert (sig.loc[2:, "bands"] == "1").all()  # the target band, not the nonspecific one
    assert sig.loc[2:, "note"].eq("").all()


def test_boxes_of_two_lanes_that_overlap_are_warned() -> None:
    # Before: only boxes of one lane were checked: a box drawn over the neighbouring lane
    # counted the shared pixels in both lanes, silently.
    rois = tr.western.blot(EXAMPLE / "pERK.tif")["rois"]
    wide = rois.copy()
    first = wide.index[(wide["lane"] == 1) & (wide["band"] == 1)][0]
    second = wide.loc[(wide["lane"] == 2) & (wide["band"] == 1)].iloc[0]
    wide.loc[first, "x1"] = int(second["x0"]) + 5
    res = tr.western.blot(EXAMPLE / "pERK.tif", rois=wide)
    assert any("overlap in lane(s) 1, 2" in w for w in res.warnings)


def _two_bands(tmp_path: Path) -> tuple[Path, pd.DataFrame, np.ndarray]:
    """One image holding a target (row 30, varying) and a loading control (row 80, larger)."""
    import tifffile

    img = np.full((120, 200), 1000.0)
    target = np.array([8e3, 4e3, 2e3, 1e3, 6e3, 3e3])
    rois = []
    for lane in range(1, 7):
        x0 = 10 + (lane - 1) * 30
        for k, (y, level) in enumerate([(30, target[lane - 1]), (80, 2e4)], 1):
            img[y - 3 : y + 3, x0 : x0 + 20] += level
            rois.append((lane, k, x0, x0 + 20, y - 4, y + 4))
    path = tmp_path / "both.tif"
    tifffile.imwrite(path, img.astype(np.uint16))
    return path, pd.DataFrame(rois, columns=["lane", "band", "x0", "x1", "y0", "y1"]), target


def test_one_image_holding_the_target_and_its_loading_control(tmp_path: Path) -> None:
    # The refusal of a loading control on the target's own image keeps this workflow: a
    # cut membrane imaged whole, the target's band chosen by number.
    path, rois, target = _two_bands(tmp_path)
    kw = {"rois": rois, "invert": "no"}
    got = tr.western.blot(path, loading=path, band="index", band_index=1, **kw)["quantified"]
    np.testing.assert_allclose(got["ratio"], target / 2e4, rtol=1e-3)
    with pytest.raises(InputError, match="target's own band"):
        tr.western.blot(path, loading=path, band="index", band_index=2, **kw)
