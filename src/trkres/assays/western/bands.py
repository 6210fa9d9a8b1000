"""Bands: peaks of each lane's vertical profile, band rows followed across lanes, ROI files.

**Per lane.** The lane's vertical profile is the mean signal over the lane's central
``central_fraction`` of its width (at each row, following the lane's tilt), detrended by
a grey opening taller than a band (less the median, the level most rows stand on) and
smoothed (Gaussian, ``smooth`` px). Bands are its peaks (``scipy.signal.find_peaks``)
with a prominence of at least ``min_prominence`` of the lane's range, never less than
``floor`` of the strongest lane's range on the blot nor 5 noise SDs (so an empty lane
gives no bands of noise), and no more than ``max_width`` times as wide as the lanes'
strongest peaks (a swell of the background is wider than a band). Two close peaks
(ERK1/2 at 44/42 kDa) stay two bands.

**Box.** A band's rows ``y0 <= y < y1`` come from the profile over the lane's *full*
width (a smiling band spreads over more rows at the lane's edges): from the peak outwards
to where that profile falls to ``edge`` of the peak's height (or 3 noise SDs), or to the
lowest point before it climbs again, never past the valley between this peak and the
next; then ``pad`` of the box's height (at least 2 px) further for the soft edge. A weak
band (below ``weak`` of its row's strongest and below the row's median) takes its row's
median extent instead of its own (its edges are lost in the noise), and every box is cut
to its row's median extent + 25% (or 3 px). Its columns are the lane's at the band's row
(tilt followed).

**Band rows.** The peaks of neighbouring lanes are matched in order (an alignment that
never crosses bands, so a doublet stays two rows) when they lie within ``match``
pixels of each other, which follows a smile. A row seen in one lane only must be clear
(``single``). Each band row is numbered from the top (band 1). A lane without a peak in a
band row (an empty or fully inhibited lane) gets a box there all the same, at the row
interpolated from the other lanes and with their median extent (``detected`` False,
noted), so that its volume is measured and reads near 0 rather than missing. Boxes of one
lane never overlap: where a placed box meets a detected one (a doublet resolved in other
lanes but not in this one), they are cut at the midpoint between the two rows' centres.

**ROI files** (``--rois``): TSV or CSV, columns ``lane, band, x0, x1, y0, y1`` (other
columns ignored: a ``bands.tsv`` reads back as ROIs), pixel coordinates, 0-based, ``x1``
and ``y1`` exclusive, i.e. the box holds columns ``x0 .. x1 - 1`` and rows
``y0 .. y1 - 1``. :func:`read_rois` checks them (errors name the line and column);
:func:`rois_table` writes the detected boxes in the same form for a person to edit.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import ndimage, signal

from trkres.assays.western.lanes import Lane
from trkres.errors import InputError, Location

__all__ = ["BAND_COLUMNS", "ROI_COLUMNS", "find_bands", "lane_profile", "read_rois", "rois_table"]

#: The columns of an ROI file, in order.
ROI_COLUMNS = ["lane", "band", "x0", "x1", "y0", "y1"]
#: Largest pixel coordinate (or lane/band number) an ROI file may hold.
MAX_PIXEL = 1_000_000
#: Columns of :func:`find_bands`.
BAND_COLUMNS = [*ROI_COLUMNS, "peak_y", "prominence", "detected", "note"]

Array = npt.NDArray[np.float64]


def lane_profile(signal_: Array, lane: Lane, fraction: float = 1.0) -> Array:
    """Mean signal of each row over the central ``fraction`` of the lane's width (grey levels).

    The lane's columns at row ``y`` follow its tilt. Rows where the lane lies outside
    the image are 0.
    """
    n_rows, n_cols = signal_.shape
    half = max(0.5, lane.width * fraction / 2)
    y = np.arange(n_rows, dtype=np.float64)
    c = np.asarray(lane.center_at(y), dtype=np.float64)
    a = np.clip(np.round(c - half).astype(np.int64), 0, n_cols)
    b = np.clip(np.round(c + half).astype(np.int64), 0, n_cols)
    b = np.maximum(b, np.minimum(a + 1, n_cols))
    if lane.tilt == 0.0:
        a0, b0 = int(a[0]), int(b[0])
        if b0 <= a0:
            return np.zeros(n_rows)
        return np.asarray(signal_[:, a0:b0].mean(axis=1), dtype=np.float64)
    cs = np.zeros((n_rows, n_cols + 1))
    np.cumsum(signal_, axis=1, out=cs[:, 1:])
    rows = np.arange(n_rows)
    width = (b - a).astype(np.float64)
    out = np.where(width > 0, (cs[rows, b] - cs[rows, a]) / np.maximum(width, 1), 0.0)
    return np.asarray(out, dtype=np.float64)


def _detrend(profile: Array, window: int) -> Array:
    window = max(3, min(int(window), profile.size))
    base = ndimage.grey_opening(profile, size=window, mode="nearest")
    base = ndimage.uniform_filter1d(base, size=max(3, window // 3), mode="nearest")
    out = profile - np.minimum(base, profile)
    # The opening runs along the noise's troughs: most rows are background, so their
    # median is the level bands stand on.
    return np.asarray(out - np.median(out), dtype=np.float64)


def _noise(profile: Array) -> float:
    d = np.diff(profile)
    if d.size == 0:
        return 0.0
    return float(1.4826 * float(np.median(np.abs(d - np.median(d)))) / np.sqrt(2))


def _box(
    full: Array, peak: int, lo: int, hi: int, edge: float, pad: float, noise: float = 0.0
) -> tuple[int, int]:
    """Rows ``[y0, y1)`` of the band at ``peak`` within ``[lo, hi)`` (the valleys).

    From the peak outwards to where ``full`` falls to ``edge`` of the peak's height (or to
    3 ``noise`` SDs, when higher: a weak band's edge is lost in the noise), then
    ``pad`` of the box's height further (at least 2 px) for the band's soft edge, never
    past the valleys.
    """
    height = full[peak]
    level = min(max(edge * height, 3 * noise), 0.5 * height)
    rise = max(2 * noise, edge * height)
    left = full[lo : peak + 1][::-1]  # from the peak outwards
    y0 = peak - _edge_steps(left, level, rise)
    right = full[peak:hi]
    y1 = peak + _edge_steps(right, level, rise) + 1
    extra = max(2, round(float(pad * (y1 - y0))))
    return max(lo, y0 - extra), min(hi, y1 + extra)


def _edge_steps(side: Array, level: float, rise: float) -> int:
    """Steps from the peak (``side[0]``) to the band's edge along ``side``.

    The edge is the first point at or below ``level``, or the lowest point before the
    profile climbs ``rise`` above its running minimum (a neighbour or a background
    swell), or the end of ``side``.
    """
    run_min = np.minimum.accumulate(side)
    below = np.flatnonzero(side <= level)
    climb = np.flatnonzero(side - run_min > rise)
    stop = side.size - 1
    if below.size:
        stop = min(stop, int(below[0]))
    if climb.size and int(climb[0]) <= stop:
        stop = int(np.argmin(side[: int(climb[0]) + 1]))
    return stop


def _align(prev: list[float], cur: list[float], tol: float) -> list[int | None]:
    """For each of ``cur`` (sorted rows), the index in ``prev`` it matches, or None.

    Order-preserving alignment (dynamic programming) minimising the total distance of the
    matched pairs plus ``tol`` for each unmatched peak; pairs further apart than ``tol``
    never match.
    """
    n, m = len(prev), len(cur)
    cost = np.full((n + 1, m + 1), np.inf)
    cost[0, :] = np.arange(m + 1) * tol
    cost[:, 0] = np.arange(n + 1) * tol
    move = np.zeros((n + 1, m + 1), dtype=np.int8)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = [cost[i - 1, j] + tol, cost[i, j - 1] + tol]
            d = abs(prev[i - 1] - cur[j - 1])
            options.append(cost[i - 1, j - 1] + d if d <= tol else np.inf)
            k = int(np.argmin(options))
            cost[i, j], move[i, j] = options[k], k
    out: list[int | None] = [None] * m
    i, j = n, m
    while i > 0 and j > 0:
        k = move[i, j]
        if k == 2:
            out[j - 1] = i - 1
            i, j = i - 1, j - 1
        elif k == 0:
            i -= 1
        else:
            j -= 1
    return out


def find_bands(
    signal_: npt.ArrayLike,
    lanes: list[Lane],
    *,
    min_prominence: float = 0.1,
    floor: float = 0.005,
    central_fraction: float = 0.5,
    edge: float = 0.02,
    pad: float = 0.2,
    smooth: float = 1.0,
    match: float | None = None,
    max_width: float = 3.0,
    weak: float = 0.25,
    single: float = 0.5,
) -> pd.DataFrame:
    """Band boxes of every lane (see the module docstring for the method).

    ``signal_`` (grey levels, larger = more protein) should be background-subtracted
    (the lane profiles are detrended here as well). ``min_prominence`` and ``floor`` are
    fractions of the lane's and of the blot's strongest lane's profile range; ``edge`` is
    the fraction of the peak's height where a box ends, ``pad`` the fraction of its height
    added beyond (at least 2 px; never past a valley); ``smooth`` the Gaussian SD
    (pixels) of the profile; ``match`` the largest shift (pixels) of a band row between
    neighbouring lanes (default: a third of the median box height, at least 3 px);
    ``max_width``: a peak more than this many times as wide (at half prominence) as the
    median of the lanes' strongest peaks is a background swell and not a band; ``weak``:
    a band with less than this fraction of the strongest prominence in its band row (and
    below the row's median) takes the row's box height (the median of the others) instead
    of its own edges; ``single``: a band row found in one lane only is kept when its band's
    prominence is at least this fraction of the median prominence of the bands of rows
    found in several lanes (else it is taken for a swell of the background).

    Returns :data:`BAND_COLUMNS`: ``lane``, ``band`` (1 = top band row), the box
    ``x0, x1, y0, y1`` (pixels, 0-based, exclusive ends), ``peak_y`` (row of the peak),
    ``prominence`` (grey levels in the central profile; 0 when placed), ``detected``
    (False: placed from the other lanes) and ``note``. No lanes or no bands give an
    empty table.
    """
    arr = np.asarray(signal_, dtype=np.float64)
    if arr.ndim != 2:
        raise InputError(
            "the blot signal is not an image", expected="a 2-D array", found=f"shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        arr = np.where(np.isfinite(arr), arr, 0.0)
    n_rows, n_cols = arr.shape
    if not lanes:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BAND_COLUMNS})
    window = max(15, n_rows // 6)
    centrals, fulls = [], []
    for lane in lanes:
        central = ndimage.gaussian_filter1d(
            _detrend(lane_profile(arr, lane, central_fraction), window), smooth
        )
        full = ndimage.gaussian_filter1d(_detrend(lane_profile(arr, lane, 1.0), window), smooth)
        centrals.append(central)
        fulls.append(full)
    ranges = np.array([float(p.max() - p.min()) for p in centrals])
    strongest = float(ranges.max()) if ranges.size else 0.0

    # Peaks of each lane.
    per_lane: list[list[dict[str, float]]] = []
    for central, full, lane in zip(centrals, fulls, lanes, strict=True):
        threshold = max(min_prominence * float(central.max() - central.min()), floor * strongest,
                        5 * _noise(central) / np.sqrt(max(1.0, smooth * 2.5)))  # fmt: skip
        full_noise = _noise(full) / np.sqrt(max(1.0, smooth * 2.5))
        found: list[dict[str, float]] = []
        if threshold > 0 and strongest > 0:
            peaks, props = signal.find_peaks(
                central, prominence=threshold, width=(None, None), rel_height=0.5
            )
            for p, prom, wd in zip(peaks, props["prominences"], props["widths"], strict=True):
                found.append({"y": float(p), "prominence": float(prom), "width": float(wd)})
        # Valleys between neighbouring peaks: the lower box ends (exclusive) where the next begins.
        bounds = [0] + [int(np.argmin(full[int(a["y"]) : int(b["y"]) + 1])) + int(a["y"])
                        for a, b in itertools.pairwise(found)] + [n_rows]  # fmt: skip
        for k, f in enumerate(found):
            y0, y1 = _box(full, int(f["y"]), bounds[k], bounds[k + 1], edge, pad, full_noise)
            f["y0"], f["y1"] = float(y0), float(y1)
        _ = lane
        per_lane.append(found)

    # Bands are narrow: a peak more than ``max_width`` times as wide (at half prominence) as
    # the lanes' strongest peaks is a swell of the background, not a band.
    strongest_widths = [
        max(found, key=lambda f: f["prominence"])["width"] for found in per_lane if found
    ]
    if strongest_widths:
        ref_width = float(np.median(strongest_widths))
        per_lane = [[f for f in found if f["width"] <= max_width * ref_width] for found in per_lane]
    heights = [f["y1"] - f["y0"] for found in per_lane for f in found]
    if not heights:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in BAND_COLUMNS})
    tol = match if match is not None else max(3.0, float(np.median(heights)) / 3)

    # Band rows: align each lane's peaks with the rows seen so far (left to right).
    rows: list[dict[int, dict[str, float]]] = []  # row -> lane position -> peak
    last: list[float] = []
    for j, found in enumerate(per_lane):
        if not found:
            continue
        ys = [f["y"] for f in found]
        order = np.argsort(last) if last else np.zeros(0, dtype=int)
        prev = [last[int(k)] for k in order]
        matched = _align(prev, ys, tol)
        for f, m in zip(found, matched, strict=True):
            if m is None:
                rows.append({j: f})
                last.append(f["y"])
            else:
                r = int(order[m])
                rows[r][j] = f
                last[r] = f["y"]
    # A band row seen in one lane only is kept when that band is clear (at least ``single``
    # times the median prominence of the bands of the rows seen in several lanes): a swell
    # of the background looks like a weak band in one lane.
    shared = [f["prominence"] for r in rows if len(r) > 1 for f in r.values()]
    if shared:
        bar = single * float(np.median(shared))
        rows = [r for r in rows if len(r) > 1 or next(iter(r.values()))["prominence"] >= bar]
    rows.sort(key=lambda r: float(np.median([f["y"] for f in r.values()])))

    centers = np.array([ln.center for ln in lanes])
    records: list[dict[str, object]] = []
    for b, row in enumerate(rows, start=1):
        have = sorted(row)
        xs = centers[have]
        row_ys = np.array([row[j]["y"] for j in have])
        # The row's extent comes from its clear bands (a weak band's edges are lost in the
        # noise and background swells); weak bands take it.
        proms = np.array([row[j]["prominence"] for j in have])
        bar = min(weak * float(proms.max()), float(np.median(proms)))
        clear = [j for j in have if row[j]["prominence"] >= bar]
        up = float(np.median([row[j]["y"] - row[j]["y0"] for j in clear]))
        down = float(np.median([row[j]["y1"] - row[j]["y"] for j in clear]))
        for j, lane in enumerate(lanes):
            if j in row:
                f = row[j]
                y, y0, y1, prom, detected, note = (
                    f["y"],
                    int(f["y0"]),
                    int(f["y1"]),
                    f["prominence"],
                    True,
                    "",
                )
                # A box far taller than its row's (a background swell beside the band) is cut back.
                if j not in clear:
                    y0 = max(y0, round(float(y - up)))
                    y1 = min(y1, round(float(y + down)) + 1)
                    note = "weak band: box height from its band row's clear bands"
                lo = int(np.floor(y - max(1.25 * up, up + 3)))
                hi = int(np.ceil(y + max(1.25 * down, down + 3))) + 1
                if y0 < lo or y1 > hi:
                    y0, y1 = max(y0, lo), min(y1, hi)
                    note = "box cut to its band row's median extent (+25% or 3 px)"
            else:
                y = float(np.interp(lane.center, xs, row_ys))
                y0 = max(0, round(float(y - up)))
                y1 = min(n_rows, round(float(y + down)) + 1)
                prom, detected = 0.0, False
                note = "no peak in this lane: box placed at the band row of the other lanes"
            x0, x1 = lane.bounds_at(y, n_cols)
            records.append({"lane": lane.index, "band": b, "x0": x0, "x1": x1, "y0": y0, "y1": y1, "peak_y": y,
                            "prominence": prom, "detected": detected, "note": note})  # fmt: skip
    out = pd.DataFrame(records, columns=BAND_COLUMNS)
    out = _cut_overlaps(out)
    return out.sort_values(["lane", "band"], kind="stable").reset_index(drop=True)


def _cut_overlaps(bands: pd.DataFrame) -> pd.DataFrame:
    """Within each lane, boxes that overlap in rows are cut at the midpoint of their peaks."""
    bands = bands.sort_values(["lane", "peak_y"], kind="stable").reset_index(drop=True)
    y0 = bands["y0"].to_numpy().copy()
    y1 = bands["y1"].to_numpy().copy()
    py = bands["peak_y"].to_numpy()
    lane = bands["lane"].to_numpy()
    notes = bands["note"].to_numpy().copy()
    for i in range(len(bands) - 1):
        if lane[i] != lane[i + 1] or y1[i] <= y0[i + 1]:
            continue
        cut = round(float((py[i] + py[i + 1]) / 2)) + 1
        cut = min(max(cut, y0[i] + 1), y1[i + 1] - 1)
        y1[i], y0[i + 1] = cut, cut
        for k in (i, i + 1):
            extra = "overlapping boxes cut at the midpoint between the band rows"
            notes[k] = (
                "; ".join(filter(None, [notes[k], extra])) if extra not in notes[k] else notes[k]
            )
    bands["y0"], bands["y1"], bands["note"] = y0, y1, notes
    return bands


def rois_table(bands: pd.DataFrame) -> pd.DataFrame:
    """The ROI columns of a bands table (``lane, band, x0, x1, y0, y1``), ready to write and edit.

    Pixel coordinates, 0-based, ``x1`` and ``y1`` exclusive.
    """
    missing = [c for c in ROI_COLUMNS if c not in bands.columns]
    if missing:
        raise InputError("not a bands table", expected=f"columns {', '.join(ROI_COLUMNS)}",
                         found=f"missing {', '.join(missing)}")  # fmt: skip
    out = bands[ROI_COLUMNS].copy()
    for c in ROI_COLUMNS:
        out[c] = out[c].astype(np.int64)
    return out.reset_index(drop=True)


def read_rois(path: Path | str) -> pd.DataFrame:
    """ROIs from a TSV/CSV file (by suffix): ``lane, band, x0, x1, y0, y1``, whole numbers.

    Pixel coordinates, 0-based, ``x1``/``y1`` exclusive (the box holds columns
    ``x0 .. x1 - 1``). Column names are matched ignoring case and spaces; other columns
    are ignored; blank lines are skipped. Errors (:class:`~trkres.errors.InputError`)
    name the file, line and column with what was expected and found: a missing column,
    a cell that is not a whole number >= 0 (lane and band >= 1), ``x1 <= x0`` or
    ``y1 <= y0``, a (lane, band) given twice. Whether a box lies inside the image is
    checked by :func:`~trkres.assays.western.measure.measure`.
    """
    from trkres.tables import read_table

    path = Path(path)
    if not path.is_file():
        raise InputError("ROI file not found", location=Location(file=path), expected="an existing TSV/CSV file",
                         found="no such file")  # fmt: skip
    table = read_table(path)
    names = {str(c).strip().lower().replace(" ", ""): c for c in table.columns}
    missing = [c for c in ROI_COLUMNS if c not in names]
    if missing:
        raise InputError("ROI file lacks columns", location=Location(file=path, line=1),
                         expected=f"columns {', '.join(ROI_COLUMNS)}",
                         found=f"columns {', '.join(map(str, table.columns))}")  # fmt: skip
    values: dict[str, list[int]] = {c: [] for c in ROI_COLUMNS}
    lines: list[int] = []
    columns = [[str(v).strip() for v in table[names[c]].tolist()] for c in ROI_COLUMNS]
    for i in range(len(table)):
        cells = [col[i] for col in columns]
        line = i + 2
        if all(not x for x in cells):
            continue
        for c, cell in zip(ROI_COLUMNS, cells, strict=True):
            low = 1 if c in ("lane", "band") else 0
            try:
                v = int(cell)
            except ValueError:
                try:
                    f = float(cell)
                    v = int(f) if f.is_integer() else -1
                except (ValueError, OverflowError):
                    v = -1
                if v < 0:
                    raise InputError("ROI cell is not a whole number", location=Location(file=path, line=line, column=c),
                                     expected=f"a whole number >= {low}", found=repr(cell)) from None  # fmt: skip
            if v < low or v > MAX_PIXEL:
                raise InputError("ROI cell out of range", location=Location(file=path, line=line, column=c),
                                 expected=f"a whole number from {low} to {MAX_PIXEL}", found=repr(cell))  # fmt: skip
            values[c].append(v)
        lines.append(line)
        for lo, hi in (("x0", "x1"), ("y0", "y1")):
            if values[hi][-1] <= values[lo][-1]:
                raise InputError("empty ROI box", location=Location(file=path, line=line, column=hi),
                                 expected=f"{hi} > {lo} ({hi} is exclusive)",
                                 found=f"{lo} = {values[lo][-1]}, {hi} = {values[hi][-1]}")  # fmt: skip
    if not lines:
        raise InputError("no ROIs", location=Location(file=path, line=2), expected="at least one ROI row",
                         found="blank rows only")  # fmt: skip
    out = pd.DataFrame({c: np.asarray(v, dtype=np.int64) for c, v in values.items()})
    dup = out.duplicated(["lane", "band"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError("ROI given twice", location=Location(file=path, line=lines[i]),
                         expected="one row per (lane, band)",
                         found=f"lane {out['lane'].iat[i]}, band {out['band'].iat[i]} again")  # fmt: skip
    return out
