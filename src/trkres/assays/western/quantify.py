"""From bands tables to biology: lane signals, loading-control normalisation, phospho/total
ratios, fold change, replicate blots with confidence intervals and tests, the linear-range
check of a dilution series and the loading-control CV.

Inputs are **bands tables** (``measure``'s output: ``image, lane, band, x0, x1, y0, y1,
volume, area, peak, background, saturated``; pixel coordinates, volume in grey levels x
pixels above background) and a **lane layout** (:func:`trkres.assays.western.layout.read_layout`).
The chain::

    lane_signals(bands, "pERK")            one signal per (blot, lane, target)
    normalise(target, loading)             target / loading control (or total-protein stain)
    phospho_total(p, t, ...)               pERK/ERK, each to its loading control or neither
    fold_change(ratios, layout)            / the control lane(s) of the same blot
    replicate_summary(fc) / compare_conditions(fc)
    linear_range(signals, layout)          R² and linear range of a dilution series
    check_linear_range(signals, ranges)    each lane within / above / below that range
    loading_cv(loading, layout)            CV of the loading control across lanes

Decisions (stated here once and in each table's ``note``):

* A **saturated** band never enters a ratio: the ratio (and everything built on it) is NaN
  with the note ``"<target> saturated"``; the raw signals stay in the table. A lane with a
  saturated band other than the one quantified is flagged (``lane_saturated`` and a note),
  not emptied.
* A loading control (denominator) that is <= 0 or missing gives a NaN ratio with a note.
* Lanes are matched by **lane number** within a blot; different lane sets between the
  target and the control of one blot are an :class:`~trkres.errors.InputError`.
* Replicates are combined on the **log2** scale: the unit of replication is the
  (blot, replicate) pair of the layout; lanes of one condition within a unit are technical
  and averaged (mean of log2) first. Mean, SD and a t-based 95% CI of the mean log2 value
  are back-transformed (geometric mean and its CI).
* Tests are t-tests on log2 values: **paired** (by blot/replicate unit) when every unit of
  the two conditions holds both, **Welch** otherwise; the test used is named in each row;
  p-values are adjusted across all comparisons of one call (Holm by default).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from trkres.errors import InputError
from trkres.frames import check_table

__all__ = [
    "BANDS_COLUMNS",
    "check_linear_range",
    "compare_conditions",
    "distinct_blots",
    "fold_change",
    "lane_signals",
    "linear_range",
    "loading_cv",
    "normalise",
    "phospho_total",
    "replicate_summary",
]

#: Columns of a bands table (the ``measure`` contract) that quantification reads.
BANDS_COLUMNS = ["lane", "band", "y0", "y1", "volume", "saturated"]

#: Columns of a lane-signals table (:func:`lane_signals`).
SIGNAL_COLUMNS = [
    "blot", "lane", "target", "signal", "saturated", "lane_saturated", "bands", "y_center", "note",
]  # fmt: skip

#: Roles whose lanes carry biology (the others -- ladder, empty, dilution -- do not).
_BIOLOGICAL = ("sample", "control")

Which = Literal["largest", "index", "position", "lane-total"]


# --------------------------------------------------------------------------- lane signals
def lane_signals(
    bands: pd.DataFrame,
    target: str,
    *,
    which: Which = "largest",
    band: int | None = None,
    y: float | None = None,
    doublet: Literal["sum", "separate"] | None = None,
    doublet_names: tuple[str, str] | None = None,
    blot: str | None = None,
    lanes: Sequence[int] | None = None,
    row_lanes: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One signal per lane for ``target`` from a bands table of one image.

    ``which`` chooses the band of each lane: ``"largest"`` (largest volume), ``"index"``
    (the band numbered ``band`` in the bands table), ``"position"`` (the band whose centre
    row is nearest ``y``, pixels; a note when ``y`` lies outside that band), or
    ``"lane-total"`` (all bands of the lane summed: a total-protein stain). ``doublet``
    (ERK1/ERK2 at 44/42 kDa): the chosen band and its nearest neighbour in the lane (by
    centre row) are ``"sum"``-med into one signal, or kept ``"separate"`` as two targets
    named ``doublet_names`` (upper band = smaller row = larger protein first; default
    ``"<target> upper"``, ``"<target> lower"``); a lane with one band gives the sum of
    that band (noted) or NaN for both (noted).

    The blot label is the bands table's ``blot`` column, else ``blot``, else ``"1"``; a table
    holding several images without a ``blot`` column is refused (one image per call).
    ``lanes``: every lane of the image (e.g. from ``find_lanes`` or the layout), so a lane
    without any band appears with a NaN signal and a note instead of disappearing.
    ``row_lanes``: with ``"largest"``, the lanes whose bands choose the blot's band row
    (default all; leave out ladder and empty lanes: a bright prestained marker would pull
    every lane onto its row); every lane is then read at that row.

    Returns :data:`SIGNAL_COLUMNS`: ``signal`` is band volume (grey levels x pixels above
    background, the bands table's unit), ``saturated`` whether any band used has a
    saturated pixel (such a signal never enters a ratio), ``lane_saturated`` whether any band
    of the lane has one (the lane is flagged, with a note, but an unsaturated chosen band
    stays quantifiable), ``bands`` the band numbers used (``"1+2"``), ``y_center`` the mean
    centre row of the bands used (pixels), ``note`` what went wrong ("" when nothing).
    """
    frame = _check_bands(bands)
    if which not in ("largest", "index", "position", "lane-total"):
        raise InputError("unknown band choice", expected="largest, index, position or lane-total",
                         found=repr(which))  # fmt: skip
    if which == "index" and band is None:
        raise InputError(
            "band choice 'index' needs a band number", expected="band=<int>", found="none"
        )
    if which == "position" and (y is None or not np.isfinite(y)):
        raise InputError(
            "band choice 'position' needs a row", expected="y=<pixel row>", found=repr(y)
        )
    if doublet not in (None, "sum", "separate"):
        raise InputError(
            "unknown doublet handling", expected="sum, separate or None", found=repr(doublet)
        )
    if doublet is not None and which == "lane-total":
        raise InputError("a doublet cannot be taken from a lane total",
                         expected="which=largest, index or position with doublet", found="lane-total")  # fmt: skip
    frame["blot"] = _blot_labels(frame, blot)
    frame["yc"] = (frame["y0"] + frame["y1"]) / 2.0
    key = ["blot", "lane"]
    frame = frame.sort_values([*key, "yc"], kind="stable").reset_index(drop=True)

    if which == "lane-total":
        grouped = frame.groupby(key, sort=True)
        out = pd.DataFrame(
            {
                "signal": grouped["volume"].sum(min_count=1),
                "saturated": grouped["saturated"].any(),
                "bands": grouped["band"].agg(lambda b: "+".join(map(str, b))),
                "y_center": grouped["yc"].mean(),
            }
        ).reset_index()
        out["target"] = target
        out["note"] = np.where(out["signal"].isna(), "no volume measured", "")
        return _with_all_lanes(out, lanes, frame)

    notes = pd.Series("", index=frame.index, dtype=object)
    if which == "largest":
        # One band row per blot, not per lane: a lane whose largest band is another
        # protein (a row that lane has more of) must still be compared on the same row.
        # Of the rows where some lane has its largest band, the blot's row is the one
        # with the most signal summed over the lanes (each lane's band nearest it); each
        # lane takes its band nearest that row (a note where it is not its own largest).
        vol = frame["volume"].fillna(-np.inf)
        own = vol.groupby([frame["blot"], frame["lane"]]).idxmax()
        choosers = frame  # the lanes whose bands choose the row (not a ladder's)
        if row_lanes is not None:
            picked = frame["lane"].isin([int(v) for v in row_lanes])
            choosers = frame[picked] if bool(picked.any()) else frame
        row = {b: _richest_row(choosers[choosers["blot"] == b], frame.loc[own.to_numpy(), "yc"])
               for b in frame["blot"].unique()}  # fmt: skip
        at = frame["blot"].map(row).astype(float)
        first = (frame["yc"] - at).abs().groupby([frame["blot"], frame["lane"]]).idxmin()
        other = ~first.isin(own.to_numpy()).to_numpy()
        notes.loc[first.to_numpy()[other]] = (
            "not this lane's largest band: the blot's band row (the lanes' largest bands' "
            "row with the most signal over the lanes) is used in every lane"
        )
        chosen_idx = first.to_numpy()
        off_row = chosen_idx[((at < frame["y0"]) | (at >= frame["y1"])).loc[chosen_idx].to_numpy()]
        notes.loc[off_row] = _join(notes.loc[off_row], "no band at the blot's band row here")
    elif which == "index":
        hit = frame["band"] == band
        first = (
            frame.index[hit]
            .to_series()
            .groupby([frame.loc[hit, "blot"], frame.loc[hit, "lane"]])
            .first()
        )
    else:
        dist = (frame["yc"] - float(y)).abs()  # type: ignore[arg-type]
        first = dist.groupby([frame["blot"], frame["lane"]]).idxmin()
        outside = (float(y) < frame["y0"]) | (float(y) >= frame["y1"])  # type: ignore[arg-type]
        notes[outside] = "y outside the nearest band"
    chosen = frame.loc[first.to_numpy()].copy()
    chosen["note"] = notes.loc[first.to_numpy()].to_numpy()
    missing = _lanes_without(frame, chosen, key)  # e.g. no band ``band`` in the lane
    missing["note"] = f"no band {band}" if which == "index" else "no band"
    if doublet is None:
        out = chosen[[*key, "volume", "saturated", "band", "yc", "note"]].rename(
            columns={"volume": "signal", "band": "bands", "yc": "y_center"}
        )
        out["bands"] = out["bands"].astype(str)
        out["target"] = target
        out.loc[out["signal"].isna(), "note"] = _join(
            out.loc[out["signal"].isna(), "note"], "no volume measured"
        )
        if len(missing):
            out = pd.concat([out, missing.assign(target=target)], ignore_index=True)
        return _with_all_lanes(out.reset_index(drop=True), lanes, frame)

    # doublet: the nearest other band of the same lane, by centre row
    partner = _nearest_partner(frame, first.to_numpy())
    chosen["partner"] = partner
    has = partner >= 0
    p = frame.loc[np.where(has, partner, first.to_numpy())].reset_index(drop=True)
    c = chosen.reset_index(drop=True)
    if doublet == "sum":
        out = pd.DataFrame(
            {
                "blot": c["blot"],
                "lane": c["lane"],
                "target": target,
                "signal": np.where(has, c["volume"] + p["volume"], c["volume"]),
                "saturated": np.where(has, c["saturated"] | p["saturated"], c["saturated"]),
                "bands": np.where(
                    has, c["band"].astype(str) + "+" + p["band"].astype(str), c["band"].astype(str)
                ),
                "y_center": np.where(has, (c["yc"] + p["yc"]) / 2.0, c["yc"]),
                "note": np.where(
                    has, c["note"], _join(c["note"], "doublet: one band found, its volume used")
                ),
            }
        )
        if len(missing):
            out = pd.concat([out, missing.assign(target=target)], ignore_index=True)
        return _with_all_lanes(out, lanes, frame)
    names = doublet_names or (f"{target} upper", f"{target} lower")
    upper_is_c = c["yc"] <= p["yc"]
    rows = []
    for k, name in enumerate(names):
        pick_c = upper_is_c if k == 0 else ~upper_is_c
        src = c.where(pick_c, p)
        rows.append(
            pd.DataFrame(
                {
                    "blot": c["blot"],
                    "lane": c["lane"],
                    "target": name,
                    "signal": np.where(has, src["volume"], np.nan),
                    "saturated": np.where(has, src["saturated"].astype(bool), c["saturated"]),
                    "bands": np.where(has, src["band"].astype(str), ""),
                    "y_center": np.where(has, src["yc"], np.nan),
                    "note": np.where(
                        has,
                        c["note"],
                        _join(c["note"], "doublet not resolved: one band in the lane"),
                    ),
                }
            )
        )
    if len(missing):
        rows += [missing.assign(target=name) for name in names]
    out = pd.concat(rows, ignore_index=True).sort_values(["blot", "lane"], kind="stable")
    return _with_all_lanes(out.reset_index(drop=True), lanes, frame)


def _check_bands(bands: object) -> pd.DataFrame:
    """A copy of a bands table with the columns quantification needs, typed; InputError otherwise."""
    frame = check_table(bands, "bands table").copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in BANDS_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError("bands table lacks columns", expected=", ".join(BANDS_COLUMNS),
                         found=f"missing {', '.join(missing)}; has {', '.join(frame.columns)}"[:300])  # fmt: skip
    if frame.empty:
        raise InputError("bands table is empty", expected="one row per band", found="no rows")
    for name in ("lane", "band", "y0", "y1", "volume"):
        values = pd.to_numeric(frame[name], errors="coerce")
        bad = values.isna() & frame[name].notna()
        if bad.any():
            r = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"bands table: {name} is not a number", expected="a number",
                             found=f"row {r + 1}: {frame[name].iloc[r]!r}"[:200])  # fmt: skip
        frame[name] = values.astype(float)
    for name in ("lane", "band"):
        v = frame[name].to_numpy()
        if not np.all(np.isfinite(v) & (v == np.round(v))):
            raise InputError(f"bands table: {name} is not a whole number", expected="integers",
                             found=repr(frame[name][~(np.isfinite(v) & (v == np.round(v)))].iloc[0]))  # fmt: skip
        frame[name] = frame[name].astype(np.int64)
    sat = frame["saturated"]
    if sat.dtype != bool:
        text = sat.astype(str).str.strip().str.lower()
        truth = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False,
                 "1.0": True, "0.0": False}  # fmt: skip
        mapped = text.map(truth)
        if mapped.isna().any():
            r = int(np.flatnonzero(mapped.isna().to_numpy())[0])
            raise InputError("bands table: saturated is not true/false", expected="true or false",
                             found=f"row {r + 1}: {sat.iloc[r]!r}")  # fmt: skip
        frame["saturated"] = mapped.astype(bool)
    return frame


def _blot_labels(frame: pd.DataFrame, blot: str | None) -> pd.Series:
    if "blot" in frame.columns:
        return frame["blot"].astype(str).str.strip()
    if "image" in frame.columns and frame["image"].nunique(dropna=False) > 1 and blot is None:
        raise InputError("bands table holds several images but no blot column",
                         expected="one image per call (with blot=...), or a 'blot' column",
                         found=", ".join(map(str, pd.unique(frame["image"])[:5])))  # fmt: skip
    return pd.Series("1" if blot is None else str(blot), index=frame.index, dtype=object)


def _lanes_without(frame: pd.DataFrame, chosen: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """(blot, lane) pairs of ``frame`` absent from ``chosen``, as NaN-signal rows."""
    all_lanes = frame[key].drop_duplicates()
    got = pd.MultiIndex.from_frame(chosen[key])
    miss = all_lanes[~pd.MultiIndex.from_frame(all_lanes).isin(got)]
    return miss.assign(signal=np.nan, saturated=False, bands="", y_center=np.nan)


def _with_all_lanes(
    out: pd.DataFrame, lanes: Sequence[int] | None, frame: pd.DataFrame
) -> pd.DataFrame:
    """``out`` in :data:`SIGNAL_COLUMNS` order, with a NaN row for each lane of ``lanes``
    without a band, and ``lane_saturated`` (any band of the lane in ``frame`` saturated)."""
    out = out.copy()
    out["saturated"] = out["saturated"].astype(bool)
    any_sat = (
        frame.groupby(["blot", "lane"])["saturated"].any().rename("lane_saturated").reset_index()
    )
    out = out.merge(any_sat, on=["blot", "lane"], how="left")
    out["lane_saturated"] = out["lane_saturated"].fillna(False).astype(bool) | out["saturated"]
    out["note"] = _add_note(out["note"], out["lane_saturated"] & ~out["saturated"],
                            "another band of the lane is saturated (this one is not)")  # fmt: skip
    if lanes is not None:
        want = pd.Index(np.asarray(list(lanes), dtype=np.int64))
        extra = []
        for (b, t), group in out.groupby(["blot", "target"], sort=False):
            miss = want.difference(pd.Index(group["lane"]))
            if len(miss):
                row: dict[str, object] = {"blot": b, "lane": miss.to_numpy(), "target": t, "signal": np.nan,
                                          "saturated": False, "lane_saturated": False, "bands": "",
                                          "y_center": np.nan, "note": "no band in this lane"}  # fmt: skip
                extra.append(pd.DataFrame(row))
        if extra:
            out = pd.concat([out, *extra], ignore_index=True)
    out["lane"] = out["lane"].astype(np.int64)
    return (
        out[SIGNAL_COLUMNS]
        .sort_values(["blot", "lane", "target"], kind="stable")
        .reset_index(drop=True)
    )


def _nearest_partner(frame: pd.DataFrame, first: np.ndarray) -> np.ndarray:
    """For each chosen row, the row index of the nearest other band of its lane (-1 if none).

    ``frame`` is sorted by (blot, lane, centre row), so the nearest neighbour is the row just
    above or just below within the same lane."""
    same_lane = frame["blot"].to_numpy() + "\x00" + frame["lane"].astype(str).to_numpy()
    yc = frame["yc"].to_numpy()
    n = len(frame)
    prev = first - 1
    nxt = first + 1
    ok_prev = (prev >= 0) & (same_lane[np.clip(prev, 0, n - 1)] == same_lane[first])
    ok_next = (nxt < n) & (same_lane[np.clip(nxt, 0, n - 1)] == same_lane[first])
    d_prev = np.where(ok_prev, np.abs(yc[first] - yc[np.clip(prev, 0, n - 1)]), np.inf)
    d_next = np.where(ok_next, np.abs(yc[np.clip(nxt, 0, n - 1)] - yc[first]), np.inf)
    partner = np.where(d_prev <= d_next, prev, nxt)
    return np.where(ok_prev | ok_next, partner, -1)


def _add_note(notes: object, mask: object, text: object) -> np.ndarray:
    """``notes`` with ``text`` appended (``"; "``-separated) where ``mask`` is true."""
    arr = np.asarray(notes, dtype=object).astype(str)
    add = np.broadcast_to(np.asarray(text, dtype=str), arr.shape)
    joined = np.char.add(np.char.add(arr, np.where(arr == "", "", "; ")), add)
    return np.where(np.broadcast_to(np.asarray(mask, dtype=bool), arr.shape), joined, arr).astype(
        object
    )


def _richest_row(bands: pd.DataFrame, candidates: pd.Series) -> float:
    """Of the candidate rows (band centres, px) within this blot's bands, the one whose
    nearest band in each lane holds the most volume summed over the lanes."""
    volume = bands["volume"].fillna(0.0).to_numpy()
    lanes = bands["lane"].to_numpy()
    best, best_score = float("nan"), -np.inf
    for y in sorted(set(candidates[candidates.index.isin(bands.index)].tolist())):
        dist = np.abs(bands["yc"].to_numpy() - y)
        nearest = pd.Series(dist).groupby(lanes).idxmin().to_numpy()
        score = float(volume[nearest].sum())
        if score > best_score:
            best, best_score = float(y), score
    return best


def _join(notes: object, extra: str) -> np.ndarray:
    """Append ``extra`` to every note."""
    return _add_note(notes, True, extra)


# --------------------------------------------------------------------------- ratios
def _check_signals(signals: object, what: str) -> pd.DataFrame:
    frame = check_table(signals, what)
    missing = [
        c for c in ("blot", "lane", "target", "signal", "saturated") if c not in frame.columns
    ]
    if missing:
        raise InputError(f"{what} is not a lane-signals table", expected="lane_signals' output "
                         "(blot, lane, target, signal, saturated, note)", found=f"missing {', '.join(missing)}")  # fmt: skip
    out = frame.copy()
    out["blot"] = out["blot"].astype(str)
    out["lane"] = _lane_numbers(out["lane"], what)
    out["signal"] = pd.to_numeric(out["signal"], errors="coerce").astype(float)
    out["saturated"] = out["saturated"].astype(bool)
    if "note" not in out.columns:
        out["note"] = ""
    out["note"] = out["note"].fillna("").astype(str)
    return out


def _lane_numbers(lanes: pd.Series, what: str) -> pd.Series:
    """Lane numbers as int64; InputError naming the first that is not a whole number."""
    values = pd.to_numeric(lanes, errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(values) & (values == np.round(values)))
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise InputError(f"{what}: lane is not a whole number", expected="lane numbers (1, 2, ...)",
                         found=f"row {r + 1}: {lanes.iloc[r]!r}"[:200])  # fmt: skip
    return pd.Series(values.astype(np.int64), index=lanes.index)


def _matched(num: pd.DataFrame, den: pd.DataFrame, num_what: str, den_what: str) -> pd.DataFrame:
    """Rows of ``num`` joined to the one row of ``den`` with the same (blot, lane).

    Raises InputError when ``den`` has several targets on one lane, when a blot of ``num``
    is missing from ``den``, or when the two have different lane counts / lane numbers."""
    if den.duplicated(["blot", "lane"]).any():
        raise InputError(f"{den_what} has several rows per lane", expected="one target (one signal per lane)",
                         found=", ".join(map(str, pd.unique(den["target"]))))  # fmt: skip
    for b in pd.unique(num["blot"]):
        a = np.unique(num.loc[num["blot"] == b, "lane"].to_numpy())
        d = np.unique(den.loc[den["blot"] == b, "lane"].to_numpy())
        if len(d) == 0:
            raise InputError(f"blot {b} has no {den_what}", expected=f"{den_what} lanes of blot {b}",
                             found="blots " + ", ".join(map(str, pd.unique(den["blot"]))))  # fmt: skip
        if len(a) != len(d):
            raise InputError(f"mismatched lane counts on blot {b}",
                             expected=f"the same lanes in the {num_what} and the {den_what} ({len(a)} lanes)",
                             found=f"{len(d)} lanes in the {den_what}")  # fmt: skip
        if not np.array_equal(a, d):
            raise InputError(f"mismatched lane numbers on blot {b}",
                             expected=f"{num_what} lanes {_ranges(a)}", found=f"{den_what} lanes {_ranges(d)}")  # fmt: skip
    return num.merge(
        den, on=["blot", "lane"], how="left", suffixes=("", "_den"), validate="many_to_one"
    )


def _ranges(lanes: np.ndarray) -> str:
    return ", ".join(map(str, lanes[:20])) + (" ..." if len(lanes) > 20 else "")


def _divide(
    m: pd.DataFrame, num_name: pd.Series, den_name: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """(ratio, note) of ``signal / signal_den`` with saturation and bad denominators NaN-ed and noted."""
    n, d = m["signal"].to_numpy(float), m["signal_den"].to_numpy(float)
    dnote = m["note_den"].fillna("").astype(str).to_numpy()
    note = _add_note(
        m["note"].to_numpy(),
        dnote != "",
        np.char.add(np.asarray(den_name + ": ", dtype=str), dnote.astype(str)),
    )
    bad = np.zeros(len(m), dtype=bool)
    for mask, text in (
        (m["saturated"].to_numpy(bool), num_name + " saturated"),
        (m["saturated_den"].fillna(False).to_numpy(bool), den_name + " saturated"),
        (np.isnan(n), num_name + " not measured"),
        (np.isnan(d), den_name + " not measured"),
        (~np.isnan(d) & (d <= 0), den_name + " <= 0"),
    ):
        note = _add_note(note, mask, text.to_numpy(dtype=str))
        bad |= mask
    # A numerator at or below background stays (its ratio is <= 0), but is said.
    low = ~bad & (n <= 0)
    note = _add_note(note, low, (num_name + " <= 0 (at or below background)").to_numpy(dtype=str))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(bad, np.nan, n / d)
    return ratio, note


def normalise(target: pd.DataFrame, loading: pd.DataFrame) -> pd.DataFrame:
    """Target signal divided by the loading control's (GAPDH, actin, vinculin) or a
    total-protein stain's signal on the same lane, possibly from another image.

    Both are :func:`lane_signals` tables; ``target`` may hold several targets, ``loading``
    one. Lanes are matched by blot and lane number; a different number of lanes (or other
    lane numbers) on a blot is an InputError.

    Returns ``blot, lane, target, loading, target_signal, loading_signal, target_saturated,
    loading_saturated, ratio, note``: ``ratio`` = target volume / loading volume (unitless,
    arbitrary scale: compare within a blot, or use :func:`fold_change`); NaN where either
    band is saturated, a signal is missing or the loading signal is <= 0 (the note says which).
    """
    t = _check_signals(target, "target signals")
    lc = _check_signals(loading, "loading-control signals")
    m = _matched(t, lc, "target", "loading control")
    ratio, note = _divide(m, m["target"].astype(str), m["target_den"].astype(str))
    out = pd.DataFrame(
        {
            "blot": m["blot"],
            "lane": m["lane"],
            "target": m["target"],
            "loading": m["target_den"],
            "target_signal": m["signal"],
            "loading_signal": m["signal_den"],
            "target_saturated": m["saturated"],
            "loading_saturated": m["saturated_den"].astype(bool),
            "ratio": ratio,
            "note": note,
        }
    )
    return out.sort_values(["blot", "lane", "target"], kind="stable").reset_index(drop=True)


def phospho_total(
    phospho: pd.DataFrame,
    total: pd.DataFrame,
    *,
    phospho_loading: pd.DataFrame | None = None,
    total_loading: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Phospho/total ratios (pERK/ERK, pAKT/AKT, pTRK/TRK) per lane.

    Without loading controls: ``ratio`` = phospho / total (the usual case: both on one
    membrane, stripped and reprobed or in two fluorescence channels, where a loading
    control would cancel). With both: each is first normalised to its own loading control,
    ``ratio`` = (phospho / its loading) / (total / its loading) (phospho and total on two
    membranes loaded with the same lysates). Giving only one is refused: it would cancel
    on one membrane and be wrong on two. The ``normalisation`` column states which.

    Returns ``blot, lane, target ("pERK/ERK"), phospho_signal, total_signal,
    phospho_loading_signal, total_loading_signal, ratio, normalisation, note`` (ratio
    unitless; NaN where any band used is saturated or a denominator is <= 0 or missing).
    """
    if (phospho_loading is None) != (total_loading is None):
        raise InputError("one loading control given for a phospho/total ratio",
                         expected="both phospho_loading and total_loading (two membranes), or neither "
                                  "(one membrane: the loading control cancels)",
                         found="only " + ("phospho_loading" if phospho_loading is not None else "total_loading"))  # fmt: skip
    p = _check_signals(phospho, "phospho signals")
    t = _check_signals(total, "total signals")
    if phospho_loading is not None and total_loading is not None:
        pn = normalise(p, phospho_loading)
        tn = normalise(t, total_loading)
        p2 = pn.rename(columns={"ratio": "signal", "target_saturated": "saturated"})
        p2["saturated"] = False  # saturation already turned the ratio NaN, with its note
        t2 = tn.rename(columns={"ratio": "signal", "target_saturated": "saturated"})
        t2["saturated"] = False
        m = _matched(p2, t2, "phospho", "total")
        ratio, note = _divide(m, m["target"].astype(str) + "/" + m["loading"].astype(str),
                              m["target_den"].astype(str) + "/" + m["loading_den"].astype(str))  # fmt: skip
        note = np.char.replace(note.astype(str), " not measured", " not available").astype(object)
        out = pd.DataFrame(
            {
                "blot": m["blot"],
                "lane": m["lane"],
                "target": m["target"].astype(str) + "/" + m["target_den"].astype(str),
                "phospho_signal": m["target_signal"],
                "total_signal": m["target_signal_den"],
                "phospho_loading_signal": m["loading_signal"],
                "total_loading_signal": m["loading_signal_den"],
                "ratio": ratio,
                "normalisation": "each to its loading control: ("
                + m["target"].astype(str)
                + "/"
                + m["loading"].astype(str)
                + ") / ("
                + m["target_den"].astype(str)
                + "/"
                + m["loading_den"].astype(str)
                + ")",
                "note": note,
            }
        )
    else:
        m = _matched(p, t, "phospho", "total")
        ratio, note = _divide(m, m["target"].astype(str), m["target_den"].astype(str))
        out = pd.DataFrame(
            {
                "blot": m["blot"],
                "lane": m["lane"],
                "target": m["target"].astype(str) + "/" + m["target_den"].astype(str),
                "phospho_signal": m["signal"],
                "total_signal": m["signal_den"],
                "phospho_loading_signal": np.nan,
                "total_loading_signal": np.nan,
                "ratio": ratio,
                "normalisation": "none: phospho / total on the same lanes",
                "note": note,
            }
        )
    return out.sort_values(["blot", "lane", "target"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- fold change
def fold_change(
    values: pd.DataFrame,
    layout: pd.DataFrame | str | os.PathLike[str],
    *,
    value: str = "ratio",
    control: Mapping[str, object] | str | None = None,
) -> pd.DataFrame:
    """``value`` (a ratio column of :func:`normalise` / :func:`phospho_total`, or ``signal``)
    relative to the control lane(s) of the same blot and target.

    Control lanes: those whose layout ``role`` is ``control``; or ``control`` given as a
    condition label, or as ``{column: value}`` (e.g. ``{"treatment": "DMSO"}``) matched on
    the layout. Several control lanes on a blot: their **geometric mean** is the reference
    (lanes whose value is NaN or <= 0 left out, and noted). The layout's columns join on
    (blot, lane); lanes missing from the layout stay, with NaN and a note, as do ladder,
    empty and dilution lanes.

    Returns the input columns, then the layout's (``role, sample, treatment, dose, dose_unit,
    dose_molar, time, time_unit, replicate, condition``), ``control_value``,
    ``n_control_lanes``, ``fold_change`` (value / control_value, unitless; 1 = control),
    ``log2_fold_change``; ``note`` gains what went wrong (no control lane on the blot, ...).
    """
    frame = check_table(values, "ratios table").copy()
    if value not in frame.columns:
        raise InputError(
            "value column not found", expected=value, found=", ".join(map(str, frame.columns))[:300]
        )
    for need in ("blot", "lane"):
        if need not in frame.columns:
            raise InputError(
                "ratios table lacks a column",
                expected=need,
                found=", ".join(map(str, frame.columns)),
            )
    if "target" not in frame.columns:
        frame["target"] = value
    lay = _check_layout_frame(layout)
    frame["blot"] = frame["blot"].astype(str)
    frame["lane"] = _lane_numbers(frame["lane"], "ratios table")
    if "note" not in frame.columns:
        frame["note"] = ""
    frame["note"] = frame["note"].fillna("").astype(str)
    meta = [c for c in ("role", "sample", "treatment", "dose", "dose_unit", "dose_molar", "time",
                        "time_unit", "replicate", "condition") if c in lay.columns]  # fmt: skip
    clash = [c for c in meta if c in frame.columns]
    m = frame.drop(columns=clash).merge(lay[["blot", "lane", *meta]], on=["blot", "lane"], how="left",
                                        validate="many_to_one", indicator=True)  # fmt: skip
    in_layout = (m.pop("_merge") == "both").to_numpy()
    is_control = _control_mask(m, control)
    v = pd.to_numeric(m[value], errors="coerce").to_numpy(float)
    usable = is_control & np.isfinite(v) & (v > 0)
    logv = np.where(usable, np.log(np.where(usable, v, 1.0)), np.nan)
    ref = pd.DataFrame(
        {"blot": m["blot"], "target": m["target"], "log": logv, "ctl": is_control, "use": usable}
    )
    g = ref.groupby(["blot", "target"], sort=False)
    mean_log = g["log"].transform("mean").to_numpy()
    n_ctl = g["use"].transform("sum").to_numpy().astype(np.int64)
    n_ctl_all = g["ctl"].transform("sum").to_numpy().astype(np.int64)
    control_value = np.exp(mean_log)
    role = (
        m["role"].fillna("").astype(str).to_numpy()
        if "role" in m.columns
        else np.full(len(m), "sample")
    )
    bio = np.isin(role, _BIOLOGICAL)
    fc = np.where(bio & in_layout & (n_ctl > 0), v / control_value, np.nan)
    note = m["note"].to_numpy(object)
    for mask, text in (
        (~in_layout, "lane not in the layout"),
        (in_layout & ~bio, np.char.add(role.astype(str), " lane: no fold change")),
        (in_layout & bio & (n_ctl_all == 0), "no control lane on this blot"),
        (in_layout & bio & (n_ctl_all > 0) & (n_ctl == 0), "control lane(s) not quantifiable"),
        (in_layout & bio & (n_ctl > 0) & np.isfinite(v) & (v <= 0),
         f"{value} <= 0: fold change <= 0, no log2 (left out of replicate statistics)"),
        (in_layout & bio & (n_ctl > 0) & (n_ctl < n_ctl_all),
         np.char.add(np.char.add((n_ctl_all - n_ctl).astype(str), " of "),
                     np.char.add(n_ctl_all.astype(str), " control lanes left out (NaN or <= 0)"))),
    ):  # fmt: skip
        note = _add_note(note, mask, text)
    m["control_value"] = np.where(n_ctl > 0, control_value, np.nan)
    m["n_control_lanes"] = n_ctl
    m["fold_change"] = fc
    with np.errstate(divide="ignore", invalid="ignore"):
        m["log2_fold_change"] = np.where(fc > 0, np.log2(np.where(fc > 0, fc, 1.0)), np.nan)
    m["note"] = note
    cols = [c for c in m.columns if c != "note"] + ["note"]
    return m[cols].reset_index(drop=True)


def _check_layout_frame(layout: object) -> pd.DataFrame:
    """A layout as :func:`~trkres.assays.western.layout.read_layout` returns it: its output
    is used as is; a path or any other lane table goes through ``read_layout`` first (so
    its checks, units and condition labels apply)."""
    from trkres.assays.western.layout import LAYOUT_COLUMNS, read_layout

    if isinstance(layout, pd.DataFrame) and all(c in layout.columns for c in LAYOUT_COLUMNS):
        lay = layout.copy()
    elif isinstance(layout, pd.DataFrame | str | os.PathLike):
        lay = read_layout(layout)
    else:
        raise InputError("not a lane layout", expected="read_layout's output, a DataFrame or a path",
                         found=type(layout).__name__)  # fmt: skip
    lay["blot"] = lay["blot"].astype(str)
    lay["lane"] = _lane_numbers(lay["lane"], "lane layout")
    if lay.duplicated(["blot", "lane"]).any():
        raise InputError("a lane is listed twice on one blot in the layout", expected="one row per (blot, lane)",
                         found=str(lay.loc[lay.duplicated(["blot", "lane"]), ["blot", "lane"]].iloc[0].to_dict()))  # fmt: skip
    lay["replicate"] = lay["replicate"].astype(str)
    return lay


def _control_mask(m: pd.DataFrame, control: Mapping[str, object] | str | None) -> np.ndarray:
    if control is None:
        return (
            (m["role"].astype(str) == "control").to_numpy()
            if "role" in m.columns
            else np.zeros(len(m), bool)
        )
    if isinstance(control, str):
        if "condition" not in m.columns:
            raise InputError("control given as a condition, but the layout has no condition column",
                             expected="a layout from read_layout", found=", ".join(map(str, m.columns))[:300])  # fmt: skip
        mask = (m["condition"].astype(str) == control).to_numpy()
    else:
        mask = np.ones(len(m), dtype=bool)
        for k, v in control.items():
            if k not in m.columns:
                raise InputError("control names a column the layout lacks", expected=k,
                                 found=", ".join(map(str, m.columns))[:300])  # fmt: skip
            col = m[k]
            if isinstance(v, int | float) and not isinstance(v, bool):
                mask &= (pd.to_numeric(col, errors="coerce") == float(v)).to_numpy()
            else:
                mask &= (col.astype(str) == str(v)).to_numpy()
    if not mask.any():
        named = (
            "; ".join(map(str, pd.unique(m["condition"].astype(str))))
            if "condition" in m.columns
            else ""
        )
        raise InputError("no lane matches the control",
                         expected="a control present in the layout"
                         + (f": one of its conditions ({named})"[:300] if named else ""),
                         found=repr(control)[:200])  # fmt: skip
    return mask


# --------------------------------------------------------------------------- replicates
def _units(table: pd.DataFrame, value: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one mean log2 value per target x condition x (blot, replicate) unit, excluded-lane counts)."""
    frame = check_table(table, "fold-change table")
    need = ["blot", "target", "condition", value]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise InputError("table lacks columns for replicate statistics", expected=", ".join(need),
                         found=f"missing {', '.join(missing)}")  # fmt: skip
    f = frame.copy()
    if "role" in f.columns:
        f = f[f["role"].astype(str).isin(_BIOLOGICAL)]
    f["replicate"] = f["replicate"].astype(str) if "replicate" in f.columns else "1"
    v = pd.to_numeric(f[value], errors="coerce").to_numpy(float)
    ok = np.isfinite(v) & (v > 0)
    f["log2"] = np.where(ok, np.log2(np.where(ok, v, 1.0)), np.nan)
    f["ok"] = ok
    f["blot"] = f["blot"].astype(str)
    f["unit"] = f["blot"] + " / " + f["replicate"]
    keys = ["target", "condition"]
    excluded = (
        f.groupby(keys, sort=False)["ok"].agg(lambda s: int((~s).sum())).rename("n_lanes_excluded")
    )
    units = f[ok].groupby([*keys, "unit"], sort=False)["log2"].mean().rename("log2").reset_index()
    return units, excluded.reset_index()


def distinct_blots(tables: Sequence[pd.DataFrame], names: Sequence[str], how: str) -> None:
    """InputError when two fold-change tables hold the same (blot, replicate, lane, target):
    the unit of replication is (blot, replicate), so two blots both named "1" (the default)
    would be averaged as technical lanes of one blot. ``names`` name the tables in the
    message; ``how`` says where a blot is named."""
    key = ["blot", "replicate", "lane", "target"]
    seen: dict[tuple[str, ...], int] = {}
    for k, table in enumerate(tables):
        cols = [c for c in key if c in table.columns]
        for row in table[cols].astype(str).drop_duplicates().itertuples(index=False):
            first = seen.setdefault(tuple(row), k)
            if first != k:
                raise InputError(
                    f"{names[first]} and {names[k]} hold the same lane of the same blot",
                    expected=f"each blot with its own name ({how}), or distinct replicate labels",
                    found=", ".join(f"{c} {v}" for c, v in zip(cols, row, strict=True)),
                )


def replicate_summary(
    table: pd.DataFrame, *, value: str = "fold_change", level: float = 0.95
) -> pd.DataFrame:
    """Replicate blots combined per target and condition, on the log2 scale.

    ``table``: :func:`fold_change`'s output (or any table with ``blot, target, condition``,
    ``replicate`` and ``value``). The unit of replication is (blot, replicate); lanes of a
    condition within a unit are averaged (mean log2) first; values that are NaN or <= 0
    (saturated, no control ...) are left out and counted.

    Returns ``target, condition, n (units), mean_log2, sd_log2, se_log2, ci_low_log2,
    ci_high_log2`` (t interval, ``level`` two-sided, df = n - 1), ``geometric_mean, ci_low,
    ci_high`` (2 ** the log2 values: fold change units), ``n_lanes_excluded, note`` (one
    unit: no SD or CI; none: all NaN).
    """
    if not 0 < level < 1:
        raise InputError(
            "confidence level out of range", expected="0 < level < 1", found=repr(level)
        )
    units, excluded = _units(table, value)
    g = units.groupby(["target", "condition"], sort=False)["log2"]
    s = pd.DataFrame({"n": g.size(), "mean_log2": g.mean(), "sd_log2": g.std(ddof=1)}).reset_index()
    s = excluded.merge(s, on=["target", "condition"], how="left")
    s["n"] = s["n"].fillna(0).astype(np.int64)
    n = s["n"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        s["se_log2"] = s["sd_log2"] / np.sqrt(n)
        tcrit = np.where(n >= 2, stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1)), np.nan)
    half = tcrit * s["se_log2"].to_numpy()
    s["ci_low_log2"] = s["mean_log2"] - half
    s["ci_high_log2"] = s["mean_log2"] + half
    for a, b in (
        ("geometric_mean", "mean_log2"),
        ("ci_low", "ci_low_log2"),
        ("ci_high", "ci_high_log2"),
    ):
        s[a] = np.exp2(s[b])
    s["note"] = np.select(
        [n == 0, n == 1], ["no quantifiable replicate", "one replicate: no SD or CI"], ""
    )
    cols = ["target", "condition", "n", "mean_log2", "sd_log2", "se_log2", "ci_low_log2", "ci_high_log2",
            "geometric_mean", "ci_low", "ci_high", "n_lanes_excluded", "note"]  # fmt: skip
    return s[cols]


def compare_conditions(
    table: pd.DataFrame,
    *,
    value: str = "fold_change",
    reference: str | None = None,
    comparisons: Sequence[tuple[str, str]] | None = None,
    adjust: Literal["holm", "bonferroni", "fdr_bh", "none"] = "holm",
    level: float = 0.95,
) -> pd.DataFrame:
    """t-tests between conditions on log2 ``value``, per target.

    Comparisons: ``comparisons`` as (a, b) condition pairs; else every condition against
    ``reference``; else against the condition of the layout's control lanes (role
    ``control``, when they share one condition); else every pair. Units as in
    :func:`replicate_summary`. The test is **paired** (``ttest_rel``, pairs = blot/replicate
    units) when every unit holding a or b holds both and there are >= 2 pairs, **Welch**
    (``ttest_ind``, unequal variances) otherwise; ``test`` names it. p-values are adjusted
    across every comparison of the call (``adjust``, Holm by default; ``"none"`` copies them).

    Returns ``target, condition_a, condition_b, test, n_a, n_b, n_pairs, log2_difference``
    (mean log2 b - a, or mean of paired differences), ``ratio`` (2 ** difference: b relative
    to a), ``ci_low, ci_high`` (``level`` t interval of the ratio), ``t, df, p_value,
    p_adjusted, adjust, note`` (fewer than 2 units in a group: no test, NaN).
    """
    units, _ = _units(table, value)
    frame = check_table(table, "fold-change table")
    bio = frame[frame["role"].astype(str).isin(_BIOLOGICAL)] if "role" in frame.columns else frame
    conditions = [str(c) for c in pd.unique(bio["condition"].astype(str))]
    if comparisons is None:
        ref = reference
        if ref is None and "role" in frame.columns:
            ctl = pd.unique(
                frame.loc[frame["role"].astype(str) == "control", "condition"].astype(str)
            )
            ref = str(ctl[0]) if len(ctl) == 1 else None
        if ref is not None:
            pairs = [(ref, c) for c in conditions if c != ref]
        else:
            pairs = [(a, b) for i, a in enumerate(conditions) for b in conditions[i + 1 :]]
    else:
        pairs = [(str(a), str(b)) for a, b in comparisons]
    unknown = sorted({c for pair in pairs for c in pair} - set(conditions))
    if unknown:
        raise InputError("condition not found", expected="one of " + "; ".join(conditions)[:250],
                         found="; ".join(map(repr, unknown))[:200])  # fmt: skip
    rows = []
    for target in pd.unique(bio["target"].astype(str)):
        tu = units[units["target"].astype(str) == target]
        wide = tu.pivot_table(index="unit", columns="condition", values="log2", aggfunc="mean")
        for a, b in pairs:
            xa = wide[a].dropna() if a in wide.columns else pd.Series(dtype=float)
            xb = wide[b].dropna() if b in wide.columns else pd.Series(dtype=float)
            rows.append(_one_test(str(target), a, b, xa, xb, level))
    cols = ["target", "condition_a", "condition_b", "test", "n_a", "n_b", "n_pairs", "log2_difference",
            "ratio", "ci_low", "ci_high", "t", "df", "p_value", "p_adjusted", "adjust", "note"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    p = out["p_value"].to_numpy(float)
    adj = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        if adjust == "none":
            adj[ok] = p[ok]
        else:
            from statsmodels.stats.multitest import multipletests

            adj[ok] = multipletests(p[ok], method=adjust)[1]
    out["p_adjusted"] = adj
    out["adjust"] = f"{adjust} across {int(ok.sum())} comparisons"
    return out[cols]


def _flat(values: np.ndarray) -> bool:
    """Whether values are equal up to rounding (log2 ratios of rescaled copies of one
    blot differ in the last bits: a t-test on them gave t = -1.6e16, p = 4e-33)."""
    values = np.asarray(values, dtype=float)
    return bool(np.ptp(values) <= 1e-9 * max(1.0, float(np.abs(values).max())))


def _one_test(
    target: str, a: str, b: str, xa: pd.Series, xb: pd.Series, level: float
) -> dict[str, object]:
    both = xa.index.intersection(xb.index)
    paired = len(both) >= 2 and len(both) == len(xa) == len(xb)
    row: dict[str, object] = {"target": target, "condition_a": a, "condition_b": b, "n_a": len(xa),
                              "n_b": len(xb), "n_pairs": len(both) if paired else 0}  # fmt: skip
    nan = {"log2_difference": np.nan, "ratio": np.nan, "ci_low": np.nan, "ci_high": np.nan, "t": np.nan,
           "df": np.nan, "p_value": np.nan, "note": ""}  # fmt: skip
    if paired:
        d = (xb.loc[both] - xa.loc[both]).to_numpy()
        row["test"] = "paired t-test on log2 values (pairs: blot/replicate)"
        diff = float(d.mean())
        if _flat(d):
            return {**row, **nan, "log2_difference": diff, "ratio": 2.0**diff,
                    "note": "identical differences in every pair: no variance, no test"}  # fmt: skip
        res = stats.ttest_rel(xb.loc[both].to_numpy(), xa.loc[both].to_numpy())
    else:
        row["test"] = "Welch t-test on log2 values"
        if len(xa) < 2 or len(xb) < 2:
            diff = float(xb.mean() - xa.mean()) if len(xa) and len(xb) else np.nan
            return {**row, **nan, "log2_difference": diff, "ratio": 2.0**diff,
                    "note": "fewer than 2 replicates in a group: no test"}  # fmt: skip
        if _flat(xa.to_numpy()) and _flat(xb.to_numpy()):
            diff = float(xb.mean() - xa.mean())
            return {**row, **nan, "log2_difference": diff, "ratio": 2.0**diff,
                    "note": "no variance in either group: no test"}  # fmt: skip
        res = stats.ttest_ind(xb.to_numpy(), xa.to_numpy(), equal_var=False)
        diff = float(xb.mean() - xa.mean())
    ci = res.confidence_interval(confidence_level=level)
    return {**row, "log2_difference": diff, "ratio": 2.0**diff, "ci_low": 2.0 ** float(ci.low),
            "ci_high": 2.0 ** float(ci.high), "t": float(res.statistic), "df": float(res.df),
            "p_value": float(res.pvalue), "note": ""}  # fmt: skip


# --------------------------------------------------------------------------- QC
def linear_range(
    signals: pd.DataFrame,
    layout: pd.DataFrame | str | os.PathLike[str],
    *,
    tolerance: float = 0.10,
    min_points: int = 3,
) -> pd.DataFrame:
    """Linear-range check of a dilution series (layout lanes with role ``dilution`` and an
    ``amount``), per blot and target, on :func:`lane_signals` output.

    Fit: ordinary least squares ``signal = intercept + slope * amount`` through every
    unsaturated, measured point of the series; ``r2`` is its coefficient of determination.
    **Rule for the range**: points sorted by amount; the ``min_points`` lowest must lie
    within ``tolerance`` (10% by default) of their own least-squares line, ``|signal - fit|
    <= tolerance * |fit|``; then the series grows one amount at a time while the next
    signal lies within ``tolerance`` of the value predicted by the line through the points
    below it. The first point that breaks this ends the linear range (the lowest
    ``min_points`` failing already: no linear range). Judging each new point by the line
    of the points below keeps one high-leverage top point from tipping the low ones.
    ``linear_low``/``linear_high`` are its lowest and highest amounts (layout
    ``amount_unit``), ``signal_low``/``signal_high`` the lowest and highest signals in it: a
    sample band outside them is outside the demonstrated linear range
    (:func:`check_linear_range` marks those lanes).

    Returns ``blot, target, n_points, n_saturated, slope, intercept, r2, linear_low,
    linear_high, n_linear, r2_linear, signal_low, signal_high, amount_unit, rule, note``. A blot without
    a dilution series gives no row; fewer than ``min_points`` usable points give NaN and a
    note.
    """
    if not 0 < tolerance < 1:
        raise InputError(
            "linear-range tolerance out of range",
            expected="0 < tolerance < 1",
            found=repr(tolerance),
        )
    if min_points < 2:
        raise InputError(
            "too few points asked for a line", expected="min_points >= 2", found=repr(min_points)
        )
    s = _check_signals(signals, "lane signals")
    lay = _check_layout_frame(layout)
    if "amount" not in lay.columns:
        lay["amount"] = np.nan
    dil = lay[lay["role"].astype(str) == "dilution"]
    cols = ["blot", "target", "n_points", "n_saturated", "slope", "intercept", "r2", "linear_low",
            "linear_high", "n_linear", "r2_linear", "signal_low", "signal_high", "amount_unit", "rule",
            "note"]  # fmt: skip
    rule = (
        f"from the lowest amount up, while each next signal is within {tolerance:.0%} of the "
        "value predicted by the least-squares line through the points below it"
    )
    m = s.merge(dil[["blot", "lane", "amount", *(["amount_unit"] if "amount_unit" in dil else [])]],
                on=["blot", "lane"], how="inner")  # fmt: skip
    rows = []
    for (b, t), g in m.groupby(["blot", "target"], sort=True):
        g = g.sort_values("amount", kind="stable")
        unit = str(g["amount_unit"].iloc[0]) if "amount_unit" in g.columns else ""
        sat = g["saturated"].to_numpy(bool)
        x = pd.to_numeric(g["amount"], errors="coerce").to_numpy(float)
        y = g["signal"].to_numpy(float)
        use = ~sat & np.isfinite(x) & np.isfinite(y)
        x, y = x[use], y[use]
        row: dict[str, object] = {"blot": b, "target": t, "n_points": int(use.sum()), "n_saturated": int(sat.sum()),
                                  "amount_unit": unit, "rule": rule}  # fmt: skip
        notes = [f"{int(sat.sum())} saturated point(s) left out"] if sat.any() else []
        if len(x) < min_points or np.ptp(x) == 0:
            rows.append({**row, "slope": np.nan, "intercept": np.nan, "r2": np.nan, "linear_low": np.nan,
                         "linear_high": np.nan, "n_linear": 0, "r2_linear": np.nan, "signal_low": np.nan, "signal_high": np.nan,
                         "note": "; ".join([*notes, f"fewer than {min_points} usable points at distinct amounts"])})  # fmt: skip
            continue
        slope, intercept, r2 = _line(x, y)
        k = _linear_run(x, y, tolerance, min_points)
        if k:
            _, _, r2k = _line(x[:k], y[:k])
            row.update(linear_low=float(x[0]), linear_high=float(x[k - 1]), n_linear=k, r2_linear=r2k,
                       signal_low=float(np.min(y[:k])), signal_high=float(np.max(y[:k])))  # fmt: skip
        else:
            notes.append(
                f"the {min_points} lowest points are not within {tolerance:.0%} of their line: no linear range"
            )
            row.update(
                linear_low=np.nan,
                linear_high=np.nan,
                n_linear=0,
                r2_linear=np.nan,
                signal_low=np.nan,
                signal_high=np.nan,
            )
        rows.append(
            {**row, "slope": slope, "intercept": intercept, "r2": r2, "note": "; ".join(notes)}
        )
    return pd.DataFrame(rows, columns=cols)


def check_linear_range(signals: pd.DataFrame, ranges: pd.DataFrame) -> pd.DataFrame:
    """Each lane's signal against the linear range of its blot and target.

    ``signals``: :func:`lane_signals` output; ``ranges``: :func:`linear_range` output.
    Returns ``signals`` with ``linear_range``: ``"within"`` (signal_low <= signal <=
    signal_high), ``"above"``, ``"below"``, ``"no range"`` (no dilution series for this
    blot and target, or none linear) or ``"not measured"`` (NaN signal); lanes above or
    below also get a note (the ratio stays: it is flagged, not removed).
    """
    s = _check_signals(signals, "lane signals")
    r = check_table(ranges, "linear-range table")
    missing = [c for c in ("blot", "target", "signal_low", "signal_high") if c not in r.columns]
    if missing:
        raise InputError("not a linear-range table", expected="linear_range's output",
                         found=f"missing {', '.join(missing)}")  # fmt: skip
    r = r[["blot", "target", "signal_low", "signal_high"]].astype({"blot": str, "target": str})
    m = s.merge(r, on=["blot", "target"], how="left", validate="many_to_one")
    v = m["signal"].to_numpy(float)
    lo, hi = m["signal_low"].to_numpy(float), m["signal_high"].to_numpy(float)
    has = np.isfinite(lo) & np.isfinite(hi)
    state = np.select(
        [~np.isfinite(v), ~has, v > hi, v < lo],
        ["not measured", "no range", "above", "below"],
        "within",
    )
    note = _add_note(
        m["note"].to_numpy(), state == "above", "above the linear range of the dilution series"
    )
    note = _add_note(note, state == "below", "below the linear range of the dilution series")
    out = s.copy()
    out["linear_range"] = state
    out["note"] = note
    return out


def _line(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """(slope, intercept, R²) of the least-squares line; R² NaN when y does not vary."""
    fit = stats.linregress(x, y)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    resid = y - (fit.intercept + fit.slope * x)
    r2 = 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else np.nan
    return float(fit.slope), float(fit.intercept), r2


def _linear_run(x: np.ndarray, y: np.ndarray, tolerance: float, min_points: int) -> int:
    """Number of points (from the lowest amount) over which the series stays linear.

    The ``min_points`` lowest must lie within ``tolerance`` of their least-squares line; then
    each next amount joins while its signal lies within ``tolerance`` of the value that the
    line through the points below it predicts; the first that does not ends the range.
    0 when the lowest ``min_points`` already fail. Every prefix's least-squares line comes
    from cumulative sums (vectorised over the prefixes)."""
    n = len(x)
    k = np.arange(1, n + 1, dtype=float)
    sx, sy = np.cumsum(x), np.cumsum(y)
    sxx, sxy = np.cumsum(x * x), np.cumsum(x * y)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (k * sxy - sx * sy) / (k * sxx - sx * sx)
        intercept = (sy - slope * sx) / k
    m = min_points
    start = intercept[m - 1] + slope[m - 1] * x[:m]
    if not (
        np.isfinite(slope[m - 1]) and np.all(np.abs(y[:m] - start) <= tolerance * np.abs(start))
    ):
        return 0
    # prediction of point j (j >= m) by the line through points 0 .. j-1
    j = np.arange(m, n)
    pred = intercept[j - 1] + slope[j - 1] * x[j]
    ok = np.isfinite(pred) & (np.abs(y[j] - pred) <= tolerance * np.abs(pred))
    fails = np.flatnonzero(~ok)
    return n if len(fails) == 0 else m + int(fails[0])


def loading_cv(
    loading: pd.DataFrame,
    layout: pd.DataFrame | str | os.PathLike[str] | None = None,
    *,
    threshold: float = 0.20,
) -> pd.DataFrame:
    """Coefficient of variation of the loading control across the lanes of each blot.

    ``loading``: :func:`lane_signals` output of the loading control (or total-protein stain).
    With ``layout``, only sample and control lanes count (ladder, empty and dilution lanes
    are left out); saturated and unmeasured lanes are left out and counted. CV = SD
    (ddof = 1) / mean of the signals; ``flag`` is true when CV > ``threshold`` (20% by
    default): uneven loading, so normalisation carries more than a small correction.

    Returns ``blot, target, n_lanes, n_excluded, mean, sd, cv, threshold, flag, note``
    (mean and SD in the signal's unit; CV a fraction; fewer than 2 lanes or a mean <= 0:
    NaN CV, no flag, a note).
    """
    if not threshold > 0:
        raise InputError(
            "CV threshold must be positive",
            expected="a fraction > 0 (0.20 = 20%)",
            found=repr(threshold),
        )
    s = _check_signals(loading, "loading-control signals")
    if layout is not None:
        lay = _check_layout_frame(layout)
        s = s.merge(lay[["blot", "lane", "role"]], on=["blot", "lane"], how="left")
        s = s[s["role"].fillna("sample").astype(str).isin(_BIOLOGICAL)]
    ok = ~s["saturated"].to_numpy(bool) & np.isfinite(s["signal"].to_numpy(float))
    s = s.assign(ok=ok, v=np.where(ok, s["signal"], np.nan))
    g = s.groupby(["blot", "target"], sort=True)
    out = pd.DataFrame(
        {
            "n_lanes": g["ok"].sum().astype(np.int64),
            "n_excluded": g["ok"].agg(lambda o: int((~o).sum())),
            "mean": g["v"].mean(),
            "sd": g["v"].std(ddof=1),
        }
    ).reset_index()
    n = out["n_lanes"].to_numpy()
    mean = out["mean"].to_numpy(float)
    valid = (n >= 2) & (mean > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["cv"] = np.where(valid, out["sd"].to_numpy(float) / mean, np.nan)
    out["threshold"] = threshold
    out["flag"] = valid & (out["cv"].to_numpy(float) > threshold)
    note = np.select(
        [n < 2, ~(mean > 0)],
        ["fewer than 2 usable lanes: no CV", "mean loading signal <= 0: no CV"],
        "",
    ).astype(object)
    excl = out["n_excluded"].to_numpy()
    note = _add_note(
        note, excl > 0, np.char.add(excl.astype(str), " lane(s) saturated or unmeasured left out")
    )
    out["note"] = note
    out["note"] = _add_note(out["note"], out["flag"], f"CV above {threshold:.0%}: uneven loading")
    return out[
        ["blot", "target", "n_lanes", "n_excluded", "mean", "sd", "cv", "threshold", "flag", "note"]
    ]
