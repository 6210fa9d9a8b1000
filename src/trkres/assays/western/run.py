"""``run_blot``: a blot image (and its loading control and lane layout) → bands, lanes,
normalised signals and fold changes.

The one orchestration of the western analysis: ``trkres blot``, the study section and
``tr.western.blot`` call it; it reads, checks and computes, and writes nothing.
Steps: read the image (inverting a dark-on-light scan) → ImageJ's rolling ball for lane
and band detection → lanes from the column profile → bands as lane-profile peaks (or the
user's ROIs) → band volumes over the chosen background → one signal per lane → the
target over its loading control → fold change against the control lanes of the blot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.assays.western.options import BlotOptions
from trkres.errors import InputError, Location
from trkres.results import TableResult
from trkres.study.registry import ProgressCallback, no_progress

if TYPE_CHECKING:
    from trkres.assays.western.io import BlotImage

__all__ = ["TABLE_TITLES", "BlotResult", "MeasuredImage", "run_blot"]

#: An image file (path) or an image in memory (2-D array of grey levels).
ImageInput = str | os.PathLike[str] | np.ndarray
#: A table (lane layout, ROIs) as a path or a DataFrame.
TableInput = str | os.PathLike[str] | pd.DataFrame

TABLE_TITLES = {
    "bands": "Bands: volume (grey levels × pixels above background), area, peak, saturation",
    "lanes": "Lanes found on each image",
    "rois": "Band boxes (edit and pass back with --rois)",
    "signals": "One signal per lane and target",
    "quantified": "Target over loading control, fold change against the control lanes",
    "loading_cv": "Loading control: coefficient of variation across lanes",
    "linear_range": "Dilution series: linear range of the signal",
    "layout_issues": "Layout rows not used, and why",
}


@dataclass(frozen=True, eq=False)
class MeasuredImage:
    """One image as measured: the image, its lanes and its band boxes (for the overlay)."""

    image: BlotImage
    role: str  # "target" or "loading"
    bands: pd.DataFrame
    lanes: pd.DataFrame
    background: np.ndarray


@dataclass(frozen=True, eq=False)
class BlotResult(TableResult):
    """Every western table by name, with the measured images and what was decided.

    Tables: ``bands`` (every band of every image), ``lanes``, ``rois`` (the target's boxes,
    editable), ``signals`` (one per lane and target), ``quantified`` (ratios to the loading
    control and fold changes, with a layout), ``loading_cv``, ``linear_range``,
    ``layout_issues``. :attr:`images` holds the measured images; :attr:`notes` what was
    decided (inversion, lanes, background) as sentences.
    """

    images: tuple[MeasuredImage, ...] = ()
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    options: BlotOptions = field(default_factory=BlotOptions)


def _images(item: ImageInput, options: BlotOptions, channel: str | None) -> list[BlotImage]:
    from trkres.assays.western.io import blot_from_array, read_blot

    if isinstance(item, np.ndarray):
        return [blot_from_array(item, invert=options.invert, detector_max=options.detector_max)]
    if isinstance(item, (str, os.PathLike)):
        return read_blot(Path(os.fspath(item)), invert=options.invert, channel=channel,
                         detector_max=options.detector_max)  # fmt: skip
    raise InputError("not a blot image", expected="a path to a TIFF/PNG/JPEG or a 2-D array",
                     found=type(item).__name__)  # fmt: skip


def _rois(rois: TableInput | None) -> pd.DataFrame | None:
    from trkres.assays.western.bands import read_rois

    if rois is None:
        return None
    if isinstance(rois, pd.DataFrame):
        # The checks the ROI file reader makes that measure() does not: lanes and bands are
        # numbered from 1 (lanes are matched by number with the layout), and some box is given.
        if rois.empty:
            raise InputError("no ROIs", expected="at least one band box (lane, band, x0, x1, y0, y1)",
                             found="an empty table")  # fmt: skip
        for c in ("lane", "band"):
            col = pd.to_numeric(rois[c], errors="coerce") if c in rois.columns else None
            if col is not None and (col < 1).any():
                i = int(np.flatnonzero((col < 1).to_numpy())[0])
                raise InputError(f"ROI {c} number below 1", expected=f"{c} numbers 1, 2, ... (1 = the first)",
                                 found=f"row {i + 1}: {rois[c].iat[i]!r}")  # fmt: skip
        return rois
    if isinstance(rois, (str, os.PathLike)):
        return read_rois(Path(os.fspath(rois)))
    raise InputError("not an ROI table", expected="a path or a DataFrame (lane, band, x0, x1, y0, y1)",
                     found=type(rois).__name__)  # fmt: skip


def measure_image(
    image: BlotImage,
    options: BlotOptions,
    role: str,
    rois: pd.DataFrame | None = None,
    lanes_from: pd.DataFrame | None = None,
) -> tuple[MeasuredImage, list[str]]:
    """Lanes, bands and band volumes of one image (``rois`` override the detection;
    ``lanes_from``: band boxes whose lanes, each the x-range of its boxes, replace the
    lane detection, the bands being found within them: a loading control measured in the
    lanes the user drew on the target)."""
    from trkres.assays.western.background import rolling_ball
    from trkres.assays.western.bands import find_bands
    from trkres.assays.western.lanes import Lane, find_lanes, lanes_table
    from trkres.assays.western.measure import measure

    # The file's name, not its path: reports travel between machines (and people).
    name = Path(image.source).name + (f" [{image.channel}]" if image.channel else "")
    notes = [f"{name}: {image.invert_reason}"]
    # The image's own warnings (8-bit, lossy, saturation not judged) go to the warnings.
    folder = str(Path(image.source).parent) + "/"
    notes.extend(f"WARNING {w.replace(folder, '')}" for w in image.warnings)
    background = rolling_ball(image.signal, options.radius)
    corrected = image.signal - background
    if rois is None and lanes_from is not None:
        spans = lanes_from.groupby("lane").agg(x0=("x0", "min"), x1=("x1", "max"))
        drawn = [Lane(index=int(k), x0=int(a), x1=int(b), center=(a + b) / 2, width=int(b - a),
                      note="from the ROI file")
                 for k, a, b in zip(spans.index.to_numpy(), spans["x0"].to_numpy(),
                                    spans["x1"].to_numpy(), strict=True)]  # fmt: skip
        notes.append(f"{name}: the {len(drawn)} lanes of the ROI file (each the x-range of its "
                     "band boxes; bands found within them)")  # fmt: skip
        boxes = find_bands(corrected, drawn)
        lane_frame = lanes_table(drawn)
    elif rois is None:
        lanes = find_lanes(corrected, options.lanes)
        notes.extend(f"{name}: {n}" for n in lanes.notes)
        if options.lanes is not None and len(lanes) != options.lanes:
            notes.append(f"WARNING {name}: {options.lanes} lanes asked, {len(lanes)} fit on "
                         "the image (see the notes); check --lanes and the overlay")  # fmt: skip
        placed = [ln.index for ln in lanes if not ln.detected]
        if placed and options.lanes is not None:
            notes.append(f"WARNING {name}: {len(placed)} of {len(lanes)} lanes asked for "
                         f"show no lane signal (lanes {', '.join(map(str, placed[:12]))}): empty "
                         "lanes, or fewer lanes on the blot than --lanes says; check the overlay")  # fmt: skip
        boxes = find_bands(corrected, lanes)
        lane_frame = lanes_table(lanes)
    else:
        boxes = rois
        lane_frame = pd.DataFrame({"lane": sorted(pd.unique(rois["lane"]))})
        notes.append(f"{name}: {len(rois)} band box(es) from the ROI file (no detection)")
    bands = measure(image, boxes, background=options.background, radius=options.radius,
                    background_image=background)  # fmt: skip
    bands["image"] = name
    bands.insert(1, "role", role)
    overlap = _overlapping_lanes(bands)
    if overlap:
        notes.append(f"WARNING {name}: band boxes overlap in lane(s) {_ranges(overlap)}: the shared "
                     "pixels are counted in each box (and twice in a doublet sum); check the ROIs")  # fmt: skip
    volume = pd.to_numeric(bands["volume"], errors="coerce")
    top = float(volume.max()) if len(volume) else np.nan  # NaN when nothing was measured
    sunk = bands.loc[volume < -0.05 * top, ["lane", "band"]] if top > 0 else bands.iloc[:0]
    if len(sunk):  # a background taken on signal: an unboxed band beside a box, a smear
        where = ", ".join(f"lane {ln} band {b}" for ln, b in sunk.itertuples(index=False))
        notes.append(f"WARNING {name}: {len(sunk)} band volume(s) below zero by more than 5% of "
                     f"the largest ({where[:300]}): the background was taken on signal (a band "
                     "or smear beside the box that no box covers?); box every band of the lane, "
                     "or use --background rolling-ball")  # fmt: skip
    lane_frame.insert(0, "image", bands["image"].iloc[0] if len(bands) else name)
    lane_frame.insert(1, "role", role)
    return MeasuredImage(image, role, bands, lane_frame, background), notes


def _overlapping_lanes(bands: pd.DataFrame) -> list[int]:
    """Lanes with a band box sharing pixels (rows and columns both overlap) with another
    box, of its own lane or of a neighbour's (boxes drawn wider than their lane)."""
    if len(bands) < 2:
        return []
    x0, x1, y0, y1 = (bands[c].to_numpy(dtype=float) for c in ("x0", "x1", "y0", "y1"))
    hit = (
        (x0[:, None] < x1[None, :])
        & (x1[:, None] > x0[None, :])
        & (y0[:, None] < y1[None, :])
        & (y1[:, None] > y0[None, :])
    )
    np.fill_diagonal(hit, False)
    return sorted({int(v) for v in bands["lane"].to_numpy()[hit.any(axis=1)]})


def _ranges(values: list[int]) -> str:
    return ", ".join(map(str, values[:20])) + (" ..." if len(values) > 20 else "")


def _route(said: list[str], notes: list[str], warnings: list[str]) -> None:
    for text in said:
        (warnings if text.startswith("WARNING ") else notes).append(text.removeprefix("WARNING "))


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


def _pick(images: list[BlotImage], what: str, notes: list[str]) -> BlotImage:
    if len(images) > 1:
        names = ", ".join(i.channel or f"page {k + 1}" for k, i in enumerate(images))
        notes.append(f"the {what} file holds {len(images)} pages ({names}): the first is quantified; "
                     "choose one with channel")  # fmt: skip
    return images[0]


def run_blot(
    image: ImageInput,
    options: BlotOptions | None = None,
    *,
    loading: ImageInput | None = None,
    layout: TableInput | None = None,
    rois: TableInput | None = None,
    loading_channel: str | None = None,
    blot: str | None = None,
    progress: ProgressCallback = no_progress,
) -> BlotResult:
    """Every table ``trkres blot`` writes, from one blot image.

    ``image``: the target (a TIFF/PNG/JPEG path or a 2-D array); ``loading``: the loading
    control or total-protein stain of the same lanes (another image, or the same file with
    ``loading_channel``); ``layout``: lane → sample, treatment, dose, time, replicate, role;
    ``rois``: band boxes that replace the detection. Volumes are grey levels × pixels above
    background; ratios and fold changes are unitless.
    """
    from trkres.assays.western import quantify
    from trkres.assays.western.layout import read_layout

    options = options if options is not None else BlotOptions()
    if not isinstance(options, BlotOptions):
        raise InputError(
            "wrong options object", expected="BlotOptions", found=type(options).__name__
        )
    label = "1" if blot is None else str(blot)  # the blot's name in the tables
    notes: list[str] = []
    warnings: list[str] = []
    progress(0, 4, "reading the image")
    target_images = _images(image, options, options.channel)
    load_images: list[BlotImage] | None = None
    if loading is None and loading_channel is not None:
        # The loading control is a page of the target's own file (LI-COR 700/800): that
        # page is not the target (its ratio would be 1 in every lane).
        load_images = _images(image, options, loading_channel)
        taken = {b.page for b in load_images}
        others = [b for b in target_images if b.page not in taken]
        if not others and options.band != "index":
            raise InputError(
                "the target and the loading control are the same page",
                expected="another page or channel for the target than the loading control's "
                f"({loading_channel}): --channel on the command line, channel= in Python",
                found=", ".join(b.channel or f"page {(b.page or 0) + 1}" for b in target_images),
                hint="both bands on one page: choose the target's with --band index",
            )
        target_images = others or target_images
    boxes = _rois(rois)
    measured: list[MeasuredImage] = []
    for k, img in enumerate(target_images):
        progress(1, 4, f"measuring image {k + 1} of {len(target_images)}")
        got, said = measure_image(img, options, "target", boxes)
        measured.append(got)
        _route(said, notes, warnings)
    target_image = _pick(target_images, "target", notes)
    target = measured[target_images.index(target_image)]
    name = options.target or (
        Path(os.fspath(image)).stem if not isinstance(image, np.ndarray) else "target"
    )
    loading_measured: MeasuredImage | None = None
    one_image = False
    if loading is not None or loading_channel is not None:
        progress(2, 4, "measuring the loading control")
        if load_images is None:
            load_images = _images(loading if loading is not None else image, options,
                                  loading_channel)  # fmt: skip
        load_image = _pick(load_images, "loading-control", notes)
        one_image = (
            not isinstance(image, np.ndarray)
            and not isinstance(loading, np.ndarray)
            and _same_file(load_image.source, target_image.source)
            and load_image.page == target_image.page
        )
        # One image may hold both bands (a cut membrane imaged whole): the target's band is
        # then chosen by number, the loading control's as the largest.
        if one_image and options.band != "index":
            raise InputError(
                "the target and the loading control are the same image",
                expected="the loading control's own image, or its page or channel of the "
                "target's file (--loading-channel)",
                found=f"{Path(target_image.source).name}"
                + (f" page {target_image.page + 1}" if target_image.page is not None else ""),
                hint="both bands on one image: choose the target's with --band index",
            )
        # Lanes drawn on the target (an ROI file) are the loading control's lanes too when
        # the two images are of one membrane in one geometry (same pixel size): its lanes
        # detected anew could be numbered otherwise than the lanes the user drew.
        same_frame = boxes is not None and load_image.signal.shape == target_image.signal.shape
        if boxes is not None and not same_frame:
            warnings.append(
                f"the ROI file's boxes are the target's only: the loading control's image "
                f"({load_image.signal.shape[1]} x {load_image.signal.shape[0]} px) is not the "
                f"target's size ({target_image.signal.shape[1]} x "
                f"{target_image.signal.shape[0]} px), so its lanes were detected, not taken "
                "from the ROI file: check that its lane numbers match the target's (overlay)"
            )
        got, said = measure_image(load_image, options, "loading",
                                  lanes_from=boxes if same_frame else None)  # fmt: skip
        loading_measured = got
        measured.append(got)
        _route(said, notes, warnings)
    for m in (target, *([loading_measured] if loading_measured is not None else [])):
        if m.bands.empty:  # a blank scan, a failed transfer, or the wrong polarity
            raise InputError(
                f"no bands found on the {'loading-control' if m.role == 'loading' else 'target'} image",
                location=Location(file=m.image.source),
                expected="bands brighter than the background after inversion "
                f"({m.image.invert_reason[:160]})",
                found=f"{len(m.lanes)} lane(s), no band",
                hint="check the image and --invert; give --lanes, or band boxes with --rois",
            )
    bands = pd.concat([m.bands for m in measured], ignore_index=True)
    for lane in sorted(set(bands.loc[bands["lane_saturated"].astype(bool), "lane"])):
        images = sorted(
            set(bands.loc[(bands["lane"] == lane) & bands["lane_saturated"].astype(bool), "image"])
        )
        warnings.append(f"lane {lane} has a saturated band on {', '.join(images)}: it cannot be "
                        "quantified (its ratios are left empty)")  # fmt: skip
    tables: dict[str, pd.DataFrame] = {
        "bands": bands,
        "lanes": pd.concat([m.lanes for m in measured], ignore_index=True),
    }
    from trkres.assays.western.bands import rois_table

    tables["rois"] = rois_table(target.bands)
    progress(3, 4, "quantifying")
    lay: pd.DataFrame | None = None
    issues: object = None
    if layout is not None:
        lay = read_layout(layout)
        issues = lay.attrs.get("issues")
        # A layout of one blot describes this blot, whatever it called it (often nothing: "1").
        if "blot" not in lay.columns or lay["blot"].astype(str).nunique() <= 1:
            lay = lay.assign(blot=label)
        else:  # several blots: this image must be named as one of them
            named = sorted(map(str, pd.unique(lay["blot"].astype(str))))
            if blot is None or str(blot) not in named:
                raise InputError(
                    "the layout describes several blots: which one is this image?",
                    expected=f"the blot named as one of the layout's: {', '.join(named)[:200]} "
                    "(--blot on the command line, blot= in Python, blot: in a study)",
                    found="no blot named" if blot is None else repr(str(blot)),
                )
            lay = lay[lay["blot"].astype(str) == str(blot)].reset_index(drop=True)
    # The band row of the blot is chosen on the lanes that hold lysate: a prestained
    # ladder (bright in the 700 channel) would otherwise pull every lane onto its row.
    not_lysate = (
        {int(v) for v in lay.loc[lay["role"].astype(str).isin(["ladder", "empty"]), "lane"]}
        if lay is not None
        else set()
    )
    lane_ids = [int(v) for v in target.lanes["lane"]]
    which = options.band
    doublet = None if options.doublet == "none" else options.doublet
    signals = quantify.lane_signals(target.bands.assign(blot=label), name, which=which,
                                    band=options.band_index, doublet=doublet, lanes=lane_ids,
                                    row_lanes=[v for v in lane_ids if v not in not_lysate] or None)  # fmt: skip
    parts = [signals]
    # Without a loading control the signal itself is compared: a saturated one is no value.
    clipped = signals["saturated"].astype(bool).to_numpy()
    old_notes = signals["note"].fillna("").astype(str)
    values = signals.assign(
        signal=signals["signal"].where(~clipped),
        note=np.where(clipped, (old_notes + "; saturated").str.strip("; "), old_notes),
    )
    value = "signal"
    if loading_measured is not None:
        load = quantify.lane_signals(loading_measured.bands.assign(blot=label), options.loading_target,
                                     which="lane-total" if options.band == "lane-total" else "largest",
                                     lanes=[int(v) for v in loading_measured.lanes["lane"]],
                                     row_lanes=[v for v in lane_ids if v not in not_lysate] or None)  # fmt: skip
        parts.append(load)
        if one_image:  # the target's band by number, the loading control's the largest
            both = signals[["lane", "bands"]].merge(load[["lane", "bands"]], on="lane")
            read = both[both["bands_x"] != ""]
            if len(read) and (read["bands_x"] == read["bands_y"]).all():
                raise InputError(
                    "the loading control was read on the target's own band",
                    expected="the loading control's band elsewhere on the image than band "
                    f"{options.band_index} (the target's)",
                    found=f"the largest band of {Path(target_image.source).name} is band "
                    f"{options.band_index} in every lane",
                    hint="give the loading control's own image or channel",
                )
        lanes_t, lanes_l = set(lane_ids), {int(v) for v in loading_measured.lanes["lane"]}
        if lanes_t != lanes_l:  # normalise() would refuse it without naming the images
            raise InputError(
                "the target and the loading control have different lanes",
                expected=f"the same lanes on {target.lanes['image'].iloc[0]} and "
                f"{loading_measured.lanes['image'].iloc[0]} ({len(lanes_t)} lanes: "
                f"{_ranges(sorted(lanes_t))})",
                found=f"{len(lanes_l)} lanes on the loading control ({_ranges(sorted(lanes_l))})",
                hint="the loading control's lanes are found on its image, not read from the "
                "ROI file: box every lane it shows"
                if boxes is not None
                else "give the lane count (--lanes, lanes=) so both images get it"
                if options.lanes is None
                else "check both images' overlays",
            )
        values, value = quantify.normalise(signals, load), "ratio"
    tables["signals"] = pd.concat(parts, ignore_index=True)
    if lay is not None:
        if isinstance(issues, pd.DataFrame) and len(issues):
            tables["layout_issues"] = issues
        laid = {int(v) for v in pd.to_numeric(lay["lane"], errors="coerce").dropna()}
        found = set(lane_ids)
        if laid != found:
            warnings.append(
                f"the layout names lanes {_ranges(sorted(laid))} but {len(found)} lane(s) were "
                f"measured ({_ranges(sorted(found))}): lanes are matched by number, so check "
                "--lanes and the overlay"
            )
        control: Any = options.control
        tables["quantified"] = quantify.fold_change(values, lay, value=value, control=control)
        if loading_measured is not None:
            tables["loading_cv"] = quantify.loading_cv(parts[1], lay)
        if "role" in lay.columns and (lay["role"] == "dilution").any():
            tables["linear_range"] = quantify.linear_range(signals, lay)
    elif loading_measured is not None:
        tables["quantified"] = values
    if layout is None and options.control is not None:
        warnings.append(f"a control ({options.control!r}) was given without a lane layout: "
                        "no fold change is taken (give the layout too)")  # fmt: skip
    progress(4, 4, "done")
    return BlotResult(tables, tuple(measured), tuple(notes), tuple(warnings), options)
