"""Reading blot images: formats, channels, polarity, saturation, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from trkres.assays.western.io import BlotImage, blot_from_array, read_blot
from trkres.assays.western.synthetic import synthetic_blot
from trkres.errors import InputError


@pytest.fixture(scope="module")
def bright() -> np.ndarray:
    raw, _ = synthetic_blot(1, n_lanes=6)
    return raw


@pytest.fixture(scope="module")
def dark() -> np.ndarray:
    raw, _ = synthetic_blot(1, n_lanes=6, dark_on_light=True)
    return raw


def test_16bit_tiff_bright_on_dark(tmp_path: Path, bright: np.ndarray) -> None:
    path = tmp_path / "blot.tif"
    tifffile.imwrite(path, bright)
    (blot,) = read_blot(path)
    assert isinstance(blot, BlotImage)
    assert not blot.inverted and "bright bands on a dark background" in blot.invert_reason
    assert blot.bit_depth == 16 and blot.detector_max == 65535 and not blot.lossy
    assert blot.signal.dtype == np.float64 and np.array_equal(blot.signal, bright.astype(float))
    assert np.array_equal(blot.saturated, bright == 65535) and blot.saturated.any()
    assert blot.warnings == [] and blot.source == str(path) and blot.channel is None


def test_dark_on_light_is_inverted_and_clipped_at_zero(tmp_path: Path, dark: np.ndarray) -> None:
    path = tmp_path / "film.tif"
    tifffile.imwrite(path, dark)
    (blot,) = read_blot(path)
    assert blot.inverted and "dark bands on a light background" in blot.invert_reason
    assert np.array_equal(blot.signal, 65535.0 - dark)
    assert np.array_equal(blot.saturated, dark == 0) and blot.saturated.any()
    (forced,) = read_blot(path, invert="no")
    assert not forced.inverted and "as asked" in forced.invert_reason
    assert np.array_equal(forced.saturated, dark == 65535)


def test_auto_invert_agrees_with_synthetic_polarity_over_seeds() -> None:
    for seed in range(8):
        for polarity in (False, True):
            raw, _ = synthetic_blot(seed, n_lanes=4, dark_on_light=polarity, background="sloped")
            assert blot_from_array(raw).inverted is polarity


def test_blank_image_is_a_labelled_result() -> None:
    blot = blot_from_array(np.full((20, 30), 100, dtype=np.uint16))
    assert not blot.inverted and "too little contrast" in blot.invert_reason
    assert not blot.saturated.any()


def test_multipage_licor_channels(tmp_path: Path, bright: np.ndarray) -> None:
    path = tmp_path / "odyssey.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(bright, description="Image Studio export, 700 channel\nexposure 2 min")
        tw.write((bright // 3).astype(np.uint16), description="800")
    blots = read_blot(path)
    assert [(b.channel, b.page) for b in blots] == [("700", 0), ("800", 1)]
    (b800,) = read_blot(path, channel="800")
    assert b800.page == 1 and np.array_equal(b800.raw, bright // 3)
    assert read_blot(path, channel="2")[0].page == 1
    with pytest.raises(InputError) as err:
        read_blot(path, channel="680")
    assert "700, 800" in str(err.value)


def test_multipage_without_names_is_page_n(tmp_path: Path, bright: np.ndarray) -> None:
    path = tmp_path / "stack.tif"
    with tifffile.TiffWriter(path) as tw:
        for k in range(3):
            tw.write((bright // (k + 1)).astype(np.uint16), description="ImageJ=1.53t\nimages=3")
    assert [b.channel for b in read_blot(path)] == ["page 1", "page 2", "page 3"]


def test_png_8bit_and_16bit(tmp_path: Path, bright: np.ndarray) -> None:
    Image.fromarray(bright).save(tmp_path / "b16.png")
    (b16,) = read_blot(tmp_path / "b16.png")
    assert b16.bit_depth == 16 and np.array_equal(b16.raw, bright) and b16.warnings == []
    Image.fromarray((bright >> 8).astype(np.uint8)).save(tmp_path / "b8.png")
    (b8,) = read_blot(tmp_path / "b8.png")
    assert b8.bit_depth == 8 and b8.detector_max == 255 and not b8.lossy
    assert any("8-bit" in w for w in b8.warnings)


def test_jpeg_is_lossy(tmp_path: Path, dark: np.ndarray) -> None:
    Image.fromarray((dark >> 8).astype(np.uint8)).save(tmp_path / "film.jpg", quality=90)
    (blot,) = read_blot(tmp_path / "film.jpg")
    assert blot.lossy and blot.inverted
    assert any("JPEG" in w and "compromised" in w for w in blot.warnings)


def test_rgb_grey_and_colour(tmp_path: Path, bright: np.ndarray) -> None:
    grey = (bright >> 8).astype(np.uint8)
    Image.fromarray(np.stack([grey] * 3, axis=2)).save(tmp_path / "grey.png")
    (g,) = read_blot(tmp_path / "grey.png")
    assert g.raw.ndim == 2 and np.array_equal(g.raw, grey)
    colour = np.stack([grey // 2, grey, grey], axis=2)
    colour[0, 0] = (255, 10, 10)
    Image.fromarray(colour).save(tmp_path / "colour.png")
    (c,) = read_blot(tmp_path / "colour.png")
    assert any("luminance" in w for w in c.warnings)
    expected = np.rint(colour.astype(float) @ np.array([0.299, 0.587, 0.114]))
    assert np.array_equal(c.raw, expected.astype(np.uint8))
    assert c.saturated[0, 0]  # one channel clipped


def test_float_tiff(tmp_path: Path) -> None:
    data = np.random.default_rng(0).random((20, 30)).astype(np.float32)
    tifffile.imwrite(tmp_path / "f.tif", data)
    (blot,) = read_blot(tmp_path / "f.tif")
    assert blot.detector_max == 1.0 and not blot.saturated.any()
    assert any("floating-point" in w for w in blot.warnings)
    data[3, 4] = np.nan
    tifffile.imwrite(tmp_path / "nan.tif", data)
    with pytest.raises(InputError) as err:
        read_blot(tmp_path / "nan.tif")
    assert "nan.tif" in str(err.value) and "x=4, y=3" in str(err.value)


def test_nan_on_a_later_page_names_the_page(tmp_path: Path) -> None:
    good = np.ones((10, 10), dtype=np.float32)
    bad = good.copy()
    bad[1, 1] = np.inf
    with tifffile.TiffWriter(tmp_path / "p.tif") as tw:
        tw.write(good)
        tw.write(bad)
    with pytest.raises(InputError) as err:
        read_blot(tmp_path / "p.tif")
    assert "page 2" in str(err.value) and "p.tif" in str(err.value)


def test_twelve_bit_camera_warning_and_override(tmp_path: Path) -> None:
    img = np.full((20, 20), 100, dtype=np.uint16)
    img[5:8, 5:15] = 4095
    tifffile.imwrite(tmp_path / "cam.tif", img)
    (blot,) = read_blot(tmp_path / "cam.tif")
    assert any("12-bit" in w for w in blot.warnings) and not blot.saturated.any()
    (fixed,) = read_blot(tmp_path / "cam.tif", detector_max=4095)
    assert fixed.saturated.sum() == 30


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty image file"),
        (b"BM\x00\x00hello", "unsupported image format"),
        (b"II*\x00\x08\x00\x00\x00", "TIFF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
    ],
)
def test_bad_files_are_input_errors_naming_the_file(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.img"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_blot(path)
    assert message in str(err.value) and "bad.img" in str(err.value)


def test_missing_directory_tiny_and_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_blot(tmp_path / "nope.tif")
    with pytest.raises(InputError, match="directory"):
        read_blot(tmp_path)
    tifffile.imwrite(tmp_path / "one.tif", np.zeros((1, 1), dtype=np.uint16))
    with pytest.raises(InputError, match="too small"):
        read_blot(tmp_path / "one.tif")
    with pytest.raises(InputError, match="invert"):
        blot_from_array(np.zeros((5, 5)), invert="maybe")
    with pytest.raises(InputError, match="negative"):
        blot_from_array(np.full((5, 5), -1, dtype=np.int16))
    with pytest.raises(InputError, match="2-D"):
        blot_from_array(np.zeros((5, 5, 5, 2), dtype=np.uint16))
    with pytest.raises(InputError, match="above the detector maximum"):
        blot_from_array(np.full((5, 5), 300, dtype=np.uint16), detector_max=255)


def test_truncated_tiff(tmp_path: Path, bright: np.ndarray) -> None:
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, bright, compression="zlib")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        read_blot(path)
    assert "cut.tif" in str(err.value)


def test_lzw_tiff_without_imagecodecs(tmp_path: Path, bright: np.ndarray) -> None:
    Image.fromarray(bright).save(tmp_path / "lzw.tif", compression="tiff_lzw")
    (blot,) = read_blot(tmp_path / "lzw.tif")
    assert blot.bit_depth == 16 and np.array_equal(blot.raw, bright)


def test_channel_names_from_imagej_labels_and_ome(tmp_path: Path, bright: np.ndarray) -> None:
    stack = np.stack([bright, bright // 2])
    tifffile.imwrite(
        tmp_path / "ij.tif",
        stack,
        imagej=True,
        metadata={"axes": "CYX", "Labels": ["IRDye 680", "IRDye 800CW"]},
    )
    assert [b.channel for b in read_blot(tmp_path / "ij.tif")] == ["IRDye 680", "IRDye 800CW"]
    assert read_blot(tmp_path / "ij.tif", channel="800")[0].page == 1
    tifffile.imwrite(
        tmp_path / "ome.tif",
        stack,
        ome=True,
        metadata={"axes": "CYX", "Channel": {"Name": ["700 nm", "800 nm"]}},
    )
    assert [b.channel for b in read_blot(tmp_path / "ome.tif")] == ["700 nm", "800 nm"]


def test_blot_image_is_frozen_and_hashable() -> None:
    blot = blot_from_array(np.arange(100, dtype=np.uint16).reshape(10, 10))
    assert blot.shape == (10, 10) and hash(blot) == hash(blot) and blot == blot
    with pytest.raises(AttributeError):
        blot.inverted = True  # type: ignore[misc]


def test_sizes_in_a_description_are_not_channels(tmp_path: Path) -> None:
    img = (np.random.default_rng(1).random((700, 800)) * 5000).astype(np.uint16)
    tifffile.imwrite(tmp_path / "s.tif", img)  # tifffile's description: {"shape": [700, 800]}
    assert read_blot(tmp_path / "s.tif")[0].channel is None
    with tifffile.TiffWriter(tmp_path / "two.tif") as tw:
        tw.write(img, description="scan of 700 x 800 pixels\nresolution 84 um")
        tw.write(img, description="scan of 700 x 800 pixels\nIRDye 800CW")
    assert [b.channel for b in read_blot(tmp_path / "two.tif")] == ["page 1", "800"]


# -- adversarial review, 2026-12-07 -----------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.uint32])
def test_32bit_integer_film_is_inverted_and_saturation_said_unknown(
    tmp_path: Path, dark: np.ndarray, dtype: type
) -> None:
    """A 32-bit export of a 16-bit film scan: the contrast test against 2^31 never saw
    contrast (not inverted: negative volumes), and saturation was silently 'none'."""
    path = tmp_path / "film32.tif"
    tifffile.imwrite(path, dark.astype(dtype))
    (blot,) = read_blot(path)
    assert blot.inverted and "dark bands on a light background" in blot.invert_reason
    assert any("saturation cannot be judged" in w for w in blot.warnings)


def test_preview_page_first_with_lzw_reads_the_blot(tmp_path: Path, bright: np.ndarray) -> None:
    """A reduced-resolution preview before an LZW blot (decoded by Pillow without
    imagecodecs): the blot's page was looked up by its place among the kept pages."""
    import struct

    path = tmp_path / "preview.tif"
    frames = [Image.fromarray(np.ascontiguousarray(bright[::4, ::4])), Image.fromarray(bright)]
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="tiff_lzw",
                   tiffinfo={254: 0})  # fmt: skip
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[0].tags["NewSubfileType"].valueoffset
    data = bytearray(path.read_bytes())
    data[offset : offset + 4] = struct.pack("<I", 1)  # page 1 is a preview
    path.write_bytes(bytes(data))
    (blot,) = read_blot(path)
    assert blot.signal.shape == bright.shape
    assert np.array_equal(blot.signal, bright.astype(float))
