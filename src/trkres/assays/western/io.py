"""Blot images in: 16-bit TIFF (multi-page, LI-COR 700/800 channels), PNG and JPEG, checked
and turned into :class:`BlotImage` objects with a signal where larger means more protein.

Decisions (stated in each image's ``warnings``/``invert_reason`` where they apply):

- **Formats** are recognised by their first bytes, not the file name: TIFF through tifffile,
  PNG and JPEG through Pillow. Anything else (BMP, GIF, Bio-Rad .scn, ...) is an InputError.
- **Bit depth**: 8-bit images get a warning (256 grey levels: band volumes are coarse and
  strong bands clip early); JPEG (and JPEG-compressed TIFF) get ``lossy=True`` and a warning
  (compression artefacts change pixel values: quantification is compromised). 16-bit images
  are the expected input. The detector maximum is the type's maximum (255, 65535), or the
  TIFF's MaxSampleValue tag when it is smaller; ``detector_max=`` overrides it.
- **Colour**: an RGB(A) image whose three channels are equal is read as greyscale (one
  channel). A true colour image is converted to luminance (ITU-R 601: 0.299 R + 0.587 G +
  0.114 B, Pillow's "L") with a warning, and a pixel counts as saturated when any channel is
  at the clipped value. Alpha is dropped.
- **Polarity** (``invert="auto"``): the background is most of the image, so the median sits
  near the background. If the median is nearer the top of the image's own range (0.1st to
  99.9th percentile) than the bottom, bands are dark on a light background (film,
  chemiluminescence scans) and the image is inverted (``signal = detector_max - raw``);
  otherwise bright on dark (fluorescence). When the spread is too small to tell (blank
  image), the median is compared with half the detector maximum. ``"yes"``/``"no"`` force it.
- **Saturation**: raw pixels at the detector maximum (bright-on-dark), or at 0 when inverted
  (dark-on-light: the clipped side of the signal).
- **Float TIFFs**: read as they are (detector maximum 1 when all values lie in 0–1, else the
  data maximum, with a warning that saturation cannot be judged); NaN or infinite pixels are an
  InputError naming the file and page.
- Images smaller than 3 × 3 pixels, empty files, truncated or corrupt files and images of
  more than 400 megapixels are InputErrors naming the file (and page). No exception from numpy,
  Pillow or tifffile escapes.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings as pywarnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trkres.errors import InputError, Location, TrkresError

#: Largest image read (pixels per page): bigger claims in a header are refused before any
#: memory is allocated (a 2-byte header can claim terabytes).
MAX_PIXELS = 400_000_000

#: A header may claim at most this many times the file's size in decoded bytes (at least
#: 16 MiB): real compression of blot images stays far below it (zlib tops out near 1000:1),
#: while a corrupt or hostile header claiming gigabytes from a few bytes is refused.
MAX_EXPANSION = 10_000

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_LUMA = np.array([0.299, 0.587, 0.114])
_INVERT_CHOICES = ("auto", "yes", "no")


@dataclass(frozen=True, eq=False)
class BlotImage:
    """One blot image (one page/channel of a file). Compared and hashed by identity (its
    fields are arrays).

    ``signal``: float64 grey levels, larger = more protein (``detector_max - raw`` when
    ``inverted``). ``raw``: the pixels as read (luminance for colour images). ``saturated``:
    raw pixels on the clipped side (at ``detector_max``, or 0 when inverted). ``page``: 0-based
    page of a multi-page TIFF (None otherwise; a field added to the shared contract).
    """

    signal: NDArray[np.float64]
    raw: NDArray[Any]
    detector_max: float
    saturated: NDArray[np.bool_]
    inverted: bool
    invert_reason: str
    bit_depth: int
    lossy: bool
    warnings: list[str] = field(default_factory=list)
    source: str = "array"
    channel: str | None = None
    page: int | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) in pixels."""
        return (int(self.signal.shape[0]), int(self.signal.shape[1]))


def _where(source: str, page: int | None) -> str:
    return source if page is None else f"{source} (page {page + 1})"


def _error(message: str, source: str, page: int | None = None, **kw: Any) -> InputError:
    text = f"{message} (page {page + 1})" if page is not None else message
    return InputError(text, location=Location(file=source), **kw)


def _decide_invert(
    raw: NDArray[np.float64], detector_max: float, invert: str | bool
) -> tuple[bool, str]:
    if isinstance(invert, bool):
        invert = "yes" if invert else "no"
    if invert == "yes":
        return True, "invert=yes: the scan is dark bands on a light background (as asked)"
    if invert == "no":
        return False, "invert=no: the scan is bright bands on a dark background (as asked)"
    lo, med, hi = np.percentile(raw, [0.1, 50.0, 99.9])
    below, above = med - lo, hi - med
    spread = hi - lo
    # Contrast judged against the image's own levels (a detector maximum far above the
    # data, as a 32-bit export's, would hide any contrast).
    if spread > max(0.01 * min(detector_max, max(hi, 1e-9)), 1e-9) and (
        below > 1.5 * above or above > 1.5 * below
    ):
        if below > above:
            return True, (
                f"auto: the median ({med:.6g}) sits near the top of the image's range "
                f"({lo:.6g}–{hi:.6g}, 0.1st–99.9th percentile): dark bands on a light background "
                "(film or chemiluminescence scan), inverted"
            )
        return False, (
            f"auto: the median ({med:.6g}) sits near the bottom of the image's range "
            f"({lo:.6g}–{hi:.6g}, 0.1st–99.9th percentile): bright bands on a dark background "
            "(fluorescence), not inverted"
        )
    light = med > detector_max / 2
    return light, (
        f"auto: too little contrast to tell the bands from the background (range {lo:.6g}–{hi:.6g}); "
        f"the median ({med:.6g}) is {'above' if light else 'below'} half the detector maximum "
        f"({detector_max:.6g}): {'light background, inverted' if light else 'dark background, not inverted'}"
    )


def _make_blot(
    raw: NDArray[Any],
    *,
    invert: str | bool,
    detector_max: float | None,
    source: str,
    channel: str | None,
    page: int | None,
    lossy: bool,
    warnings: list[str],
    tag_max: float | None = None,
    depth_note: str | None = None,
) -> BlotImage:
    """Checks ``raw`` (2-D grey, or H × W × 3/4 colour) and builds the :class:`BlotImage`."""
    if not isinstance(invert, bool) and invert not in _INVERT_CHOICES:
        raise InputError("unknown invert choice", expected="auto, yes or no", found=repr(invert))
    where = _where(source, page)
    arr = np.asarray(raw)
    if arr.dtype == np.bool_ or arr.dtype.kind not in "uif":
        raise _error(
            "not a grey-level image",
            source,
            page,
            expected="integer or float pixels",
            found=f"{arr.dtype} pixels",
        )
    colour_max: NDArray[np.bool_] | None = None
    colour_zero: NDArray[np.bool_] | None = None
    if arr.ndim == 3 and arr.shape[2] in (3, 4) and min(arr.shape[:2]) > 4:
        if arr.shape[2] == 4:
            if arr.dtype.kind != "f" and (arr[..., 3] != np.iinfo(arr.dtype).max).any():
                warnings.append(
                    f"{where}: the alpha channel is not opaque everywhere; it was ignored"
                )
            arr = arr[..., :3]
        if (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all():
            warnings.append(f"{where}: an RGB file with three equal channels, read as greyscale")
            arr = arr[..., 0]
        else:
            warnings.append(
                f"{where}: a colour image, converted to luminance (0.299 R + 0.587 G + 0.114 B); "
                "scan blots in greyscale for quantification"
            )
            top = np.iinfo(arr.dtype).max if arr.dtype.kind in "ui" else None
            colour_max = (arr == top).any(axis=2) if top is not None else None
            colour_zero = (arr == 0).any(axis=2)
            lum = arr.astype(np.float64) @ _LUMA
            arr = np.rint(lum).astype(arr.dtype) if arr.dtype.kind in "ui" else lum
    if arr.ndim != 2:
        raise _error(
            "not a 2-D image",
            source,
            page,
            expected="a 2-D grey image (or RGB)",
            found=f"array of shape {arr.shape}",
        )
    if min(arr.shape) < 3:
        raise _error(
            "image too small for a blot",
            source,
            page,
            expected="at least 3 × 3 pixels",
            found=f"{arr.shape[1]} × {arr.shape[0]}",
        )
    if arr.dtype.kind == "f":
        values = arr.astype(np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            y, x = np.argwhere(bad)[0]
            raise _error(
                "image has NaN or infinite pixels",
                source,
                page,
                expected="finite grey levels",
                found=f"{int(bad.sum())} non-finite pixels, first at x={x}, y={y}",
            )
        bit_depth = arr.dtype.itemsize * 8
        if detector_max is None:
            vmin, vmax = float(values.min()), float(values.max())
            detector_max = 1.0 if vmin >= 0 and vmax <= 1 else vmax
            warnings.append(
                f"{where}: a floating-point image: the detector maximum is unknown (taken as "
                f"{detector_max:.6g}), so saturation cannot be judged"
            )
            saturate_known = False
        else:
            saturate_known = True
    else:
        if arr.dtype.kind == "i" and arr.size and int(arr.min()) < 0:
            raise _error(
                "image has negative pixel values",
                source,
                page,
                expected="non-negative grey levels",
                found=f"minimum {int(arr.min())}",
            )
        values = arr.astype(np.float64)
        bit_depth = arr.dtype.itemsize * 8
        type_max = float(np.iinfo(arr.dtype).max)
        saturate_known = True
        if detector_max is None:
            detector_max = tag_max if tag_max is not None and 0 < tag_max < type_max else type_max
            if bit_depth > 16 and detector_max == type_max:
                # No scanner writes 2^31 or 2^32 grey levels: a 32-bit export of 16-bit (or
                # less) data, whose detector maximum the file does not say.
                detector_max = max(float(values.max()), 1.0)
                warnings.append(
                    f"{where}: a {bit_depth}-bit integer image: the detector maximum is unknown "
                    f"(taken as the image's maximum, {detector_max:.6g}), so saturation cannot "
                    "be judged; pass the detector maximum (e.g. 65535) to check it"
                )
                saturate_known = False
        if bit_depth == 8:
            warnings.append(
                depth_note
                or f"{where}: an 8-bit image (256 grey levels): band volumes are coarse and strong "
                "bands clip early; quantification is compromised, scan at 16 bits"
            )
        data_max = float(values.max())
        camera = (
            bit_depth == 16
            and data_max < detector_max
            and data_max in (255.0, 1023.0, 4095.0, 16383.0)
        )
        if camera and int((values == data_max).sum()) >= 10:
            # 255: 8-bit data saved as 16-bit (ImageJ's Type > 16-bit of an 8-bit scan)
            warnings.append(
                f"{where}: many pixels sit at {data_max:.0f}: the camera (or the data saved "
                f"as 16-bit) may be {int(np.log2(data_max + 1))}-bit; pass "
                f"detector_max={data_max:.0f} so saturation is caught"
            )
    if not np.isfinite(detector_max) or detector_max <= 0:
        raise InputError(
            "detector maximum must be positive", expected="> 0", found=str(detector_max)
        )
    if float(values.max()) > detector_max:
        raise _error(
            "pixels above the detector maximum",
            source,
            page,
            expected=f"pixels <= {detector_max:.6g}",
            found=f"maximum {float(values.max()):.6g}",
        )
    inverted, reason = _decide_invert(values, float(detector_max), invert)
    signal = float(detector_max) - values if inverted else values.copy()
    if not saturate_known:
        saturated = np.zeros(values.shape, dtype=bool)
    elif inverted:
        saturated = values == 0 if colour_zero is None else colour_zero
    else:
        saturated = (
            values == detector_max if colour_max is None else colour_max | (values == detector_max)
        )
    return BlotImage(
        signal=signal,
        raw=arr,
        detector_max=float(detector_max),
        saturated=np.asarray(saturated, dtype=bool),
        inverted=inverted,
        invert_reason=reason,
        bit_depth=bit_depth,
        lossy=lossy,
        warnings=warnings,
        source=source,
        channel=channel,
        page=page,
    )


def blot_from_array(
    array: ArrayLike,
    *,
    invert: str | bool = "auto",
    detector_max: float | None = None,
    source: str = "array",
    channel: str | None = None,
) -> BlotImage:
    """A :class:`BlotImage` from an array already in memory (2-D grey, or H × W × 3/4 colour).

    ``detector_max`` defaults to the dtype's maximum (255, 65535; see the module notes for
    floats). ``invert``: ``"auto"`` (default), ``"yes"`` or ``"no"``.
    """
    try:
        arr = np.asarray(array)
    except Exception as err:
        raise InputError(
            "not an image array", location=Location(file=source), found=type(array).__name__
        ) from err
    if arr.dtype == object:
        raise InputError(
            "not an image array",
            location=Location(file=source),
            expected="numeric pixels",
            found="objects",
        )
    return _make_blot(
        arr,
        invert=invert,
        detector_max=detector_max,
        source=source,
        channel=channel,
        page=None,
        lossy=False,
        warnings=[],
    )


# --------------------------------------------------------------------------------------------
# Files


def _check_claim(nbytes: int, path: Path, page: int | None, shape: object) -> None:
    """Refuse a header whose decoded size cannot come from a file this small."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if nbytes > max(16 * 2**20, MAX_EXPANSION * size):
        raise _error(
            "corrupt image header",
            str(path),
            page,
            expected=f"an image that fits in a {size:,}-byte file",
            found=f"a header claiming {shape} ({nbytes:,} bytes decoded)",
        )


def _sniff(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except FileNotFoundError as err:
        raise InputError("image file not found", location=Location(file=str(path))) from err
    except IsADirectoryError as err:
        raise InputError(
            "expected an image file, found a directory", location=Location(file=str(path))
        ) from err
    except OSError as err:
        raise InputError(
            f"cannot read image file: {err.strerror or err}", location=Location(file=str(path))
        ) from err
    if not head:
        raise InputError(
            "empty image file",
            location=Location(file=str(path)),
            expected="a TIFF, PNG or JPEG image",
            found="0 bytes",
        )
    if head[:4] in _TIFF_MAGIC:
        return "tiff"
    if head.startswith(_PNG_MAGIC):
        return "png"
    if head.startswith(_JPEG_MAGIC):
        return "jpeg"
    raise InputError(
        "unsupported image format",
        location=Location(file=str(path)),
        expected="a TIFF (16-bit preferred), PNG or JPEG image",
        found=f"file starting with {head[:8]!r}",
        hint="export the blot from the imager as a 16-bit TIFF",
    )


#: A LI-COR channel named in free text: "700 nm", "800CW", "700 channel", "IRDye 800",
#: "channel 700" (a bare 700 or 800 could be any number, e.g. an image size).
_LICOR = re.compile(
    r"(?<![\d.])(700|800)(?![\d.])\s*(?:nm|cw|channel|ch)\b|(?:irdye|channel|ch)\s*(700|800)(?![\d.])",
    re.IGNORECASE,
)


def _page_name(page: Any, index: int, n_pages: int) -> str | None:
    """A channel name from the page's PageName tag or a short ImageDescription (a 700/800
    LI-COR channel named in a longer description is picked out), else "page N" (multi-page)
    or None (single page)."""
    tags = page.tags
    name = tags.get("PageName")
    if name is not None and isinstance(name.value, str) and name.value.strip():
        return str(name.value).strip()
    desc = tags.get("ImageDescription")
    if desc is not None and isinstance(desc.value, str):
        text = desc.value.strip()
        structured = text.startswith(("ImageJ=", "{", "<", "shape=")) or "\n" in text
        if text and not structured and len(text) <= 64 and "\n" not in text:
            return text
        licor = None if text.startswith(("{", "<", "shape=")) else _LICOR.search(text)
        if licor:
            return licor.group(1) or licor.group(2)
    return f"page {index + 1}" if n_pages > 1 else None


def _file_channel_names(tif: Any, n_pages: int) -> list[str] | None:
    """Channel names stored for the whole file: ImageJ's slice labels or OME channel names,
    when there is exactly one per page (else None)."""
    try:
        ij = tif.imagej_metadata
        labels = ij.get("Labels") if isinstance(ij, dict) else None
        if (
            isinstance(labels, list)
            and len(labels) == n_pages
            and all(isinstance(x, str) and x.strip() for x in labels)
        ):
            return [x.strip() for x in labels]
        if tif.is_ome and tif.ome_metadata:
            import xml.etree.ElementTree as ET

            root = ET.fromstring(tif.ome_metadata)
            names = [
                el.get("Name", "").strip()
                for el in root.iter()
                if el.tag.endswith("}Channel") or el.tag == "Channel"
            ]
            if len(names) == n_pages and all(names):
                return names
    except Exception:  # metadata is a bonus: a broken block falls back to the page tags
        return None
    return None


def _select(blots: list[BlotImage], channel: str | None, source: str) -> list[BlotImage]:
    if channel is None:
        return blots
    want = str(channel).strip().lower()
    names = [(b.channel or f"page {(b.page or 0) + 1}") for b in blots]
    exact = [
        b
        for b, n in zip(blots, names, strict=True)
        if n.lower() == want or want == f"page {(b.page or 0) + 1}"
    ]
    if not exact:
        exact = [b for b, n in zip(blots, names, strict=True) if want in n.lower()]
    if not exact and want.isdigit() and 1 <= int(want) <= len(blots):
        exact = [blots[int(want) - 1]]
    if len(exact) != 1:
        raise InputError(
            "channel not found" if not exact else "channel name is ambiguous",
            location=Location(file=source),
            expected="one of: " + ", ".join(names),
            found=str(channel),
        )
    return exact


def _pillow_page(path: Path, index: int, err: Exception) -> NDArray[Any]:
    """A TIFF page whose compression tifffile cannot decode without the optional
    ``imagecodecs`` package (LZW, PackBits, JPEG ...), decoded by Pillow instead."""
    from PIL import Image

    with Image.open(path) as img:
        img.seek(index)
        pic: Image.Image = img.convert("RGB") if img.mode in ("P", "CMYK", "YCbCr", "LAB") else img
        data = np.asarray(pic)
    if data.dtype.byteorder == ">":
        data = data.astype(data.dtype.newbyteorder("="))
    return data


@contextlib.contextmanager
def _quiet_tifffile() -> Iterator[None]:
    """tifffile logs every oddity of a corrupt file; the InputError says it once."""
    logger = logging.getLogger("tifffile")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _read_tiff(path: Path, invert: str | bool, detector_max: float | None) -> list[BlotImage]:
    import tifffile

    source = str(path)
    blots: list[BlotImage] = []
    with pywarnings.catch_warnings(), _quiet_tifffile():
        pywarnings.simplefilter("ignore")
        try:
            tif = tifffile.TiffFile(path)
        except Exception as err:
            raise InputError(
                "corrupt or unreadable TIFF",
                location=Location(file=source),
                found=f"{type(err).__name__}: {err}",
            ) from err
        with tif:
            try:
                pages = list(tif.pages)
            except Exception as err:
                raise InputError(
                    "corrupt TIFF page list",
                    location=Location(file=source),
                    found=f"{type(err).__name__}: {err}",
                ) from err
            skipped = 0
            keep: list[Any] = []
            for page in pages:
                subfile = getattr(page, "subfiletype", 0) or 0
                if isinstance(subfile, int) and subfile & 1:
                    skipped += 1  # a reduced-resolution preview, not data
                    continue
                keep.append(page)
            if not keep:
                raise InputError("TIFF has no image pages", location=Location(file=source))
            file_names = _file_channel_names(tif, len(keep)) if len(keep) > 1 else None
            for index, page in enumerate(keep):
                try:
                    shape = tuple(int(s) for s in page.shape)
                    if int(np.prod(shape)) > MAX_PIXELS * 4 or (
                        len(shape) >= 2 and shape[0] * shape[1] > MAX_PIXELS
                    ):
                        raise _error(
                            "image too large",
                            source,
                            index,
                            expected=f"at most {MAX_PIXELS:,} pixels",
                            found=f"shape {shape}",
                        )
                    itemsize = int(np.dtype(page.dtype).itemsize) if page.dtype is not None else 1
                    _check_claim(
                        int(np.prod(shape)) * itemsize,
                        path,
                        index if len(keep) > 1 else None,
                        shape,
                    )
                    try:
                        data = page.asarray()
                    except (KeyError, ValueError) as err:
                        if "imagecodecs" not in str(err):
                            raise
                        # the page's place in the file, not among the kept pages
                        data = _pillow_page(path, pages.index(page), err)
                        if tuple(data.shape[:2]) != shape[:2]:
                            raise _error(
                                "a TIFF page decoded to another size than it declares",
                                source,
                                index if len(keep) > 1 else None,
                                expected=f"{shape[0]} x {shape[1]} pixels",
                                found=f"{data.shape[0]} x {data.shape[1]}",
                            ) from err
                    compression = int(getattr(page, "compression", 1) or 1)
                    tag = page.tags.get("MaxSampleValue")
                    tag_value = tag.value if tag is not None else None
                    if isinstance(tag_value, tuple | list):
                        tag_value = tag_value[0] if tag_value else None
                    tag_max = float(tag_value) if isinstance(tag_value, int | float) else None
                    name = file_names[index] if file_names else _page_name(page, index, len(keep))
                except TrkresError:
                    raise
                except Exception as err:
                    raise _error(
                        "corrupt or truncated TIFF page",
                        source,
                        index,
                        found=f"{type(err).__name__}: {err}",
                    ) from err
                lossy = compression in (
                    6,
                    7,
                    34892,
                    33007,
                    34712,
                    50001,
                    22610,
                )  # JPEG, WebP, JPEG XL ...
                notes: list[str] = []
                if lossy:
                    notes.append(
                        f"{_where(source, index if len(keep) > 1 else None)}: lossy compression "
                        f"(TIFF compression {compression}): pixel values are altered, quantification is compromised"
                    )
                if skipped and index == 0:
                    notes.append(f"{source}: {skipped} reduced-resolution preview page(s) skipped")
                blots.append(
                    _make_blot(
                        data,
                        invert=invert,
                        detector_max=detector_max,
                        source=source,
                        channel=name,
                        page=index if len(keep) > 1 else None,
                        lossy=lossy,
                        warnings=notes,
                        tag_max=tag_max,
                    )
                )
    return blots


def _read_pillow(
    path: Path, kind: str, invert: str | bool, detector_max: float | None
) -> list[BlotImage]:
    from PIL import Image

    source = str(path)
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        try:
            with Image.open(path) as img:
                w, h = img.size
                if w * h > MAX_PIXELS:
                    raise InputError(
                        "image too large",
                        location=Location(file=source),
                        expected=f"at most {MAX_PIXELS:,} pixels",
                        found=f"{w} × {h}",
                    )
                mode = img.mode
                bpp = (
                    4 if mode in ("I", "F") else 2 if "16" in mode else max(len(img.getbands()), 1)
                )
                _check_claim(w * h * bpp, path, None, f"{w} × {h} {mode}")
                if mode == "1":
                    raise InputError(
                        "a 1-bit (black and white) image cannot be quantified",
                        location=Location(file=source),
                        expected="a grey-level scan",
                        found="1-bit image",
                    )
                pic: Image.Image = img
                if mode == "P":
                    pic = img.convert("RGBA" if "transparency" in img.info else "RGB")
                elif mode == "LA":
                    pic = img.convert("L")
                elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
                    pic = img.convert("RGB")
                data = np.asarray(pic)
        except TrkresError:
            raise
        except Exception as err:
            raise InputError(
                f"corrupt or truncated {kind.upper()} image",
                location=Location(file=source),
                found=f"{type(err).__name__}: {err}",
            ) from err
    depth_note = None
    if kind == "png" and data.dtype == np.uint8 and data.ndim == 3:
        # Pillow decodes 16-bit RGB(A) and grey + alpha PNGs at 8 bits (their high bytes):
        # the file's own bit depth and colour type are in its IHDR chunk.
        with contextlib.suppress(OSError), path.open("rb") as fh:
            ihdr = fh.read(26)
            if len(ihdr) == 26 and ihdr[24] == 16 and ihdr[25] in (2, 4, 6):
                kinds = {2: "RGB", 4: "grey + alpha", 6: "RGBA"}
                depth_note = (
                    f"{source}: a 16-bit {kinds[ihdr[25]]} PNG, read at 8 bits (the PNG reader "
                    "decodes 16-bit colour and grey + alpha PNGs at 8 bits): 256 grey levels, and "
                    "pixels in the top 1/256 of the range count as saturated; quantification is "
                    "compromised, save the blot as a 16-bit greyscale PNG or TIFF"
                )
    if data.dtype.kind in "iu" and data.dtype.itemsize > 2 and data.ndim == 2:
        # Pillow reads 16-bit grey PNGs as 32-bit "I": back to 16 bits when they fit
        if data.size and int(data.min()) >= 0 and int(data.max()) <= 65535:
            data = data.astype(np.uint16)
    elif data.dtype.byteorder == ">":
        data = data.astype(data.dtype.newbyteorder("="))
    notes: list[str] = []
    lossy = kind == "jpeg"
    if lossy:
        notes.append(
            f"{source}: a JPEG (lossy compression alters pixel values and bands' edges): "
            "quantification is compromised; export a 16-bit TIFF"
        )
    return [
        _make_blot(
            data,
            invert=invert,
            detector_max=detector_max,
            source=source,
            channel=None,
            page=None,
            lossy=lossy,
            warnings=notes,
            depth_note=depth_note,
        )
    ]


def read_blot(
    path: str | Path,
    *,
    invert: str | bool = "auto",
    channel: str | None = None,
    detector_max: float | None = None,
) -> list[BlotImage]:
    """Read a blot image file: one :class:`BlotImage` per page (multi-page TIFF, LI-COR
    700/800 exports) or one for PNG/JPEG.

    ``invert``: ``"auto"`` (default; reason in ``invert_reason``), ``"yes"`` or ``"no"``.
    ``channel``: keep only the page whose name (ImageJ slice label or OME channel name for
    the file, else the page's PageName tag or short ImageDescription, e.g. "700"/"800", else
    "page N") matches, exactly or as a substring, or the 1-based page number;
    an unknown or ambiguous name is an InputError listing the channels. ``detector_max``
    overrides the detector maximum (e.g. 4095 for a 12-bit camera saved as 16-bit; an argument
    added to the shared contract). Every problem with the file is an InputError naming it.
    """
    if isinstance(invert, str) and invert not in _INVERT_CHOICES:
        raise InputError("unknown invert choice", expected="auto, yes or no", found=repr(invert))
    p = Path(path)
    kind = _sniff(p)
    try:
        if kind == "tiff":
            blots = _read_tiff(p, invert, detector_max)
        else:
            blots = _read_pillow(p, kind, invert, detector_max)
    except TrkresError:
        raise
    except Exception as err:  # a last guard: no library traceback reaches the user
        raise InputError(
            f"cannot read {kind.upper()} image",
            location=Location(file=str(p)),
            found=f"{type(err).__name__}: {err}",
        ) from err
    return _select(blots, channel, str(p))
