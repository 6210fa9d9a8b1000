"""Dose-response figures: curves with their fits, fold resistance, dose escalation.

Report figures (``*_figure``, returning :class:`trkres.report.model.Figure`) are
used by the ``fit``, ``resistance`` and ``escalation`` commands and the study's
dose-response section; the public functions :func:`dose_response`,
:func:`fold_resistance` and :func:`escalation` draw the same pictures on a
notebook's matplotlib ``ax``. None of them fits or compares anything: they take
the tables :mod:`trkres.assays.doseresponse.run` (or the API) returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.assays.doseresponse.curvefit import log_logistic
from trkres.errors import InputError
from trkres.pl.checks import require_axes, require_frame
from trkres.pl.style import new_figure
from trkres.report.model import Figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

__all__ = [
    "curves_figure",
    "dose_response",
    "escalation",
    "escalation_figure",
    "fit_summary_figure",
    "fold_resistance",
    "forest_figure",
    "overlay_figure",
]

_COLOURS = ["#1f5f99", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


def _label(key: object) -> str:
    """A group's label: its key values joined by " | " (as curve ids are)."""
    return " | ".join(map(str, key if isinstance(key, tuple) else (key,)))


def _fitted(xs: np.ndarray, f: pd.Series) -> np.ndarray:
    """The fitted curve of fit row ``f`` at log10 molar doses ``xs``."""
    return log_logistic(xs, f["log10_ic50"], f["hill_slope"], f["top"], f["bottom"], clamp=False)


#: Where vehicle (dose 0) points are drawn on a log dose axis: this many decades left of
#: the lowest dose, beyond an axis break ("//"), labelled "vehicle".
_VEHICLE_DECADES = 1.0


def _draw_vehicle(
    ax: Any, stats_: pd.DataFrame, dmin: float, colour: str | None = None
) -> float | None:
    """Draw the vehicle (dose 0) mean ± SD left of an axis break; its x position (or None)."""
    veh = stats_[stats_["dose_molar"] == 0]
    if veh.empty or not np.isfinite(dmin) or dmin <= 0:
        return None
    xv = dmin / 10**_VEHICLE_DECADES
    kw = {"color": colour} if colour else {}
    ax.errorbar([xv], veh["mean"], yerr=veh["std"].fillna(0), fmt="s", ms=3, mfc="white",
                capsize=1.5, **kw)  # fmt: skip
    brk = float(np.sqrt(xv * dmin))
    ax.text(brk, 0.0, "//", transform=ax.get_xaxis_transform(), ha="center", va="center",
            fontsize=7, clip_on=False)  # fmt: skip
    ax.text(xv, 0.02, "vehicle", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
            fontsize=5, rotation=90)  # fmt: skip
    return xv


def overlay_figure(data: pd.DataFrame, fits: pd.DataFrame, by: list[str], condition: str) -> Figure:
    """One panel per group: mean ± SD per dose for each condition, with its fitted curve."""
    groups = list(data.groupby(by, sort=False)) if by else [((), data)]
    fit_by_id = fits.set_index("curve_id")
    # Per panel: its title and, per condition, colour, label, dose stats and the fitted line.
    panels: list[tuple[str, list[dict[str, Any]]]] = []
    for gkey, g in groups:
        series: list[dict[str, Any]] = []
        for k, (cond, c) in enumerate(g.groupby(condition, sort=False)):
            all_stats = c.groupby("dose_molar")["response"].agg(["mean", "std"]).reset_index()
            stats_ = all_stats[all_stats["dose_molar"] > 0]  # vehicle drawn apart: no log10(0)
            f = fit_by_id.loc[c["curve_id"].iloc[0]]
            line = None
            if len(stats_) and np.isfinite(f["log10_ic50"]):
                xs = np.linspace(
                    np.log10(stats_["dose_molar"].min()), np.log10(stats_["dose_molar"].max()), 200
                )
                line = (10**xs, _fitted(xs, f), float(f["ic50"]))
            series.append({"colour": _COLOURS[k % len(_COLOURS)], "label": str(cond),
                           "all": all_stats, "stats": stats_, "line": line})  # fmt: skip
        panels.append((_label(gkey), series))

    def draw() -> MplFigure:
        fig, axes = new_figure(4.2 * len(panels), 3.2, nrows=1, ncols=len(panels))
        for ax, (title, series) in zip(np.atleast_1d(axes), panels, strict=True):
            for s in series:
                st = s["stats"]
                ax.errorbar(st["dose_molar"], st["mean"], yerr=st["std"], fmt="o", ms=3,
                            color=s["colour"], capsize=2, label=s["label"])  # fmt: skip
                first = float(st["dose_molar"].min()) if len(st) else np.nan
                _draw_vehicle(ax, s["all"], first, s["colour"])
                if s["line"] is not None:
                    ax.plot(s["line"][0], s["line"][1], color=s["colour"], lw=1.2)
            ax.set_xscale("log")
            ax.set_xlabel("dose (M)")
            ax.set_ylabel("viability (fraction of vehicle)")
            ax.set_title(title, fontsize=9)
            ax.legend(fontsize=7, frameon=False)
        return fig

    traces: list[dict[str, Any]] = []
    for title, series in panels:
        for s in series:
            st = s["stats"]
            if s["line"] is not None:
                x, yv, ic50 = s["line"]
                traces.append({"type": "scatter", "x": x, "y": yv, "mode": "lines",
                               "line": {"color": s["colour"]},
                               "name": f"{title}: {s['label']} fit (IC50 {ic50:.3g} M)"})  # fmt: skip
            traces.append({
                "type": "scatter", "x": st["dose_molar"], "y": st["mean"], "mode": "markers",
                "marker": {"color": s["colour"]},
                "error_y": {"type": "data", "array": st["std"].fillna(0)}, "name": f"{title}: {s['label']}",
            })  # fmt: skip
    pfig = {"data": traces, "layout": {
        "xaxis": {"type": "log", "title": {"text": "dose (M)"}},
        "yaxis": {"title": {"text": "viability"}}, "height": 420,
    }}  # fmt: skip
    return Figure("dose_response_overlay", "Dose-response: reference vs other conditions", draw, pfig,
                  caption="Points: mean ± SD of replicates; lines: 4PL fits; open squares left of the "
                          "axis break (//): vehicle (dose 0) wells.")  # fmt: skip


def curves_figure(data: pd.DataFrame, fits: pd.DataFrame, max_curves: int = 24) -> Figure:
    """Small multiples: each curve's points (mean ± SD per dose) and its fit, status in the title."""
    ids = list(fits["curve_id"].head(max_curves))
    ncols = min(len(ids), 6) or 1
    nrows = int(np.ceil(len(ids) / ncols)) or 1
    fig, axes = new_figure(2.2 * ncols, 1.9 * nrows, nrows=nrows, ncols=ncols)
    axes = np.atleast_1d(axes).ravel()
    by_id = fits.set_index("curve_id")
    groups = dict(tuple(data[data["curve_id"].isin(ids)].groupby("curve_id", sort=False)))
    for ax, cid in zip(axes, ids, strict=False):
        g = groups.get(cid)
        if g is None:
            continue
        all_st = g.groupby("dose_molar")["response"].agg(["mean", "std"]).reset_index()
        st = all_st[all_st["dose_molar"] > 0]  # vehicle (dose 0) drawn apart: no log10(0)
        ax.errorbar(
            st["dose_molar"], st["mean"], yerr=st["std"].fillna(0), fmt="o", ms=2.5, capsize=1.5
        )
        _draw_vehicle(ax, all_st, float(st["dose_molar"].min()) if len(st) else np.nan, "C0")
        f = by_id.loc[cid]
        if len(st) and np.isfinite(f["log10_ic50"]):
            xs = np.linspace(
                np.log10(st["dose_molar"].min()), np.log10(st["dose_molar"].max()), 100
            )
            ax.plot(10**xs, _fitted(xs, f), lw=1)
        ax.set_xscale("log")
        ax.set_title(f"{cid}\n{f['status']}, IC50 {f['ic50']:.2g} M", fontsize=6)
        ax.tick_params(labelsize=6)
    for ax in axes[len(ids) :]:
        ax.set_visible(False)
    return Figure("dose_response_curves", "Curve fits", fig,
                  caption=f"The first {len(ids)} curves: mean ± SD per dose and the fitted curve; "
                          "open squares left of the axis break (//): vehicle (dose 0) wells.")  # fmt: skip


def _rows_of(data: pd.DataFrame, head: pd.DataFrame) -> pd.DataFrame:
    """The rows of the curves in ``head`` (the first rows of the fits: curves in order of
    first appearance), from the shortest prefix of ``data`` that holds all their dosed
    points (``n_points - n_vehicle`` each): no scan of millions of rows for six curves."""
    ids = list(head["curve_id"])
    dosed = int((head["n_points"] - head["n_vehicle"]).sum())
    limit = 4096
    while True:
        part = data.iloc[:limit]
        rows = part[part["curve_id"].isin(ids)]
        if limit >= len(data) or int((rows["dose_molar"] > 0).sum()) >= dosed:
            return rows
        limit *= 8


def fit_summary_figure(data: pd.DataFrame, fits: pd.DataFrame, max_curves: int = 6) -> Figure:
    """``trkres fit``'s figure, cheap at any size: the first curves with their fits, and the
    distribution of log10 IC50 over the 'ok' fits with the count of each status.

    Two panels, a fixed layout (no constrained-layout solve) and a prefix scan of ``data``
    keep it well under a second for a million curves.
    """
    fig, (ax, hx) = new_figure(8.0, 3.0, nrows=1, ncols=2)
    fig.set_layout_engine("none")  # fixed positions (figure fractions): no layout solve
    ax.set_position((0.08, 0.16, 0.40, 0.72))
    hx.set_position((0.58, 0.16, 0.40, 0.72))
    ids = list(fits["curve_id"].head(max_curves))
    head = fits.head(max_curves)  # only these: an index over a million ids costs seconds
    by_id = head.drop_duplicates("curve_id").set_index("curve_id")
    rows = _rows_of(data, head)
    # log10 dose on a linear axis (as Prism's log[inhibitor]): no log-scale transforms or
    # mathtext tick labels, which cost most of the drawing time.
    for k, (cid, g) in enumerate(rows.groupby("curve_id", sort=False)):
        colour = _COLOURS[k % len(_COLOURS)]
        all_st = g.groupby("dose_molar")["response"].agg(["mean", "std"]).reset_index()
        st = all_st[all_st["dose_molar"] > 0]
        lx = np.log10(st["dose_molar"].to_numpy(dtype=float))
        ax.errorbar(lx, st["mean"], yerr=st["std"].fillna(0), fmt="o", ms=2.5, color=colour,
                    capsize=1.5, label=str(cid))  # fmt: skip
        veh = all_st[all_st["dose_molar"] == 0]
        if len(veh) and len(lx):  # vehicle: an open square one decade left of the lowest dose
            ax.errorbar([lx.min() - _VEHICLE_DECADES], veh["mean"], yerr=veh["std"].fillna(0),
                        fmt="s", ms=3, mfc="white", color=colour, capsize=1.5)  # fmt: skip
        f: pd.Series = by_id.loc[cid]  # type: ignore[assignment]
        if len(lx) and np.isfinite(f["log10_ic50"]):
            xs = np.linspace(lx.min(), lx.max(), 100)
            ax.plot(xs, _fitted(xs, f), color=colour, lw=1)
    ax.set_xlabel("log10 dose (M)")
    ax.set_ylabel("response (fraction of vehicle)")
    ax.set_title(f"the first {len(ids)} curves", fontsize=8)
    if ids:
        ax.legend(fontsize=6, frameon=False)
    ok = fits.loc[fits["status"] == "ok", "log10_ic50"].to_numpy(dtype=float)
    ok = ok[np.isfinite(ok)]
    hx.hist(ok, bins=40 if len(ok) > 200 else 10, color=_COLOURS[0])
    hx.set_xlabel("log10 IC50 (M) of 'ok' fits")
    hx.set_ylabel("curves")
    counts = fits["status"].value_counts()
    hx.set_title(", ".join(f"{k}: {v}" for k, v in counts.items() if v) or "no curves", fontsize=7)
    return Figure("dose_response_curves", "Curve fits", fig,
                  caption=f"Left: the first {len(ids)} curves, mean ± SD per dose and the fitted "
                          "curve on log10 dose (open squares one decade left of the lowest dose: vehicle, dose 0); right: "
                          "IC50 of the fits with status ok, and how many curves got each status.")  # fmt: skip


def _forest_labels(c: pd.DataFrame) -> list[str]:
    return [
        f"{r['group']}: {r['condition']} vs {r['reference']}".strip(": ") for _, r in c.iterrows()
    ]


def _draw_forest(
    ax: Any, c: pd.DataFrame, threshold: float
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Draw the forest plot of ``c`` (resistance rows) on ``ax``; its labels, errors, colours."""
    labels = _forest_labels(c)
    y = np.arange(len(c))[::-1]
    err = np.vstack([c["fold_change"] - c["fold_ci_low"], c["fold_ci_high"] - c["fold_change"]])
    colours = np.where(c["resistant"].astype(bool), "#d62728", "#1f5f99")
    for k in range(len(c)):
        ax.errorbar(c["fold_change"].iloc[k], y[k], xerr=np.nan_to_num(err[:, k : k + 1]), fmt="s", ms=4,
                    color=colours[k], capsize=2)  # fmt: skip
    ax.axvline(1, color="k", lw=0.6)
    ax.axvline(threshold, color="grey", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("fold change in IC50 (95% CI)")
    return labels, err, colours


def forest_figure(
    comparisons: pd.DataFrame, threshold: float, name: str = "dose_response_forest"
) -> Figure:
    """Fold change in IC50 with its 95% CI for every comparison (log scale), with the threshold."""
    c = comparisons.reset_index(drop=True)

    def draw() -> MplFigure:
        fig, ax = new_figure(6.0, 0.8 + 0.35 * max(len(c), 1))
        _draw_forest(ax, c, threshold)
        return fig

    labels = _forest_labels(c)
    err = np.vstack([c["fold_change"] - c["fold_ci_low"], c["fold_ci_high"] - c["fold_change"]])
    colours = np.where(c["resistant"].astype(bool), "#d62728", "#1f5f99")
    pfig = {"data": [{
        "type": "scatter", "x": c["fold_change"], "y": labels, "mode": "markers",
        "marker": {"color": list(colours), "symbol": "square"},
        "error_x": {"type": "data", "symmetric": False, "array": err[1], "arrayminus": err[0]},
    }], "layout": {
        "xaxis": {"type": "log", "title": {"text": "fold change in IC50"}}, "height": 200 + 30 * len(c),
        # The threshold: a vertical line across the plot (what go.Figure.add_vline draws).
        "shapes": [{"type": "line", "x0": threshold, "x1": threshold, "xref": "x", "y0": 0, "y1": 1,
                    "yref": "y domain", "line": {"dash": "dash", "color": "grey"}}],
    }}  # fmt: skip
    return Figure(name, "Fold resistance (forest plot)", draw, pfig,
                  caption=f"Red: resistant (≥ {threshold:g}-fold with the CI above 1); dashed: the threshold.")  # fmt: skip


def _draw_escalation(ax: Any, series: pd.DataFrame, time: str, by: list[str]) -> None:
    """Draw fold change against time for each series on ``ax``."""
    groups = series.groupby(by, sort=False) if by else [((), series)]
    for gkey, g in groups:
        label = _label(gkey) or "series"
        err = np.vstack([g["fold_change"] - g["fold_ci_low"], g["fold_ci_high"] - g["fold_change"]])
        line = ax.errorbar(
            g[time],
            g["fold_change"],
            yerr=np.nan_to_num(err),
            fmt="o-",
            ms=3,
            capsize=2,
            label=label,
        )
        at = g["established_at"].iloc[0]
        if np.isfinite(at):
            ax.axvline(at, color=line[0].get_color(), ls=":", lw=1)
    ax.axhline(float(series["threshold"].iloc[0]), color="grey", ls="--", lw=0.8, label="threshold")
    ax.set_yscale("log")
    ax.set_xlabel(time)
    ax.set_ylabel("fold change in IC50 vs start (95% CI)")
    ax.legend(fontsize=7, frameon=False)


def escalation_figure(series: pd.DataFrame, *, time: str, by: list[str] | None = None) -> Figure:
    """Fold change (log scale, 95% CI) against time, the threshold, and where resistance is established."""
    by = by or []
    fig, ax = new_figure(5.5, 3.4)
    _draw_escalation(ax, series, time, by)
    return Figure("dose_escalation", "Dose escalation: fold resistance over time", fig,
                  caption="Dotted line: where resistance is established (fold ≥ threshold with CI > 1 from then on).")  # fmt: skip


def _axes(ax: Any) -> Any:
    """``ax``, or the axes of a new pyplot figure (a notebook shows it inline)."""
    require_axes(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def dose_response(
    data: pd.DataFrame, fits: pd.DataFrame, ax: Any = None, *, max_curves: int = 12
) -> Any:
    """Each curve's mean ± SD per dose and its fitted curve on one log-dose axis.

    ``data``: the prepared long table (``curve_id``, ``dose_molar`` in molar,
    ``response`` as a fraction of vehicle; :func:`trkres.doseresponse.prepare`);
    ``fits``: its fits (:func:`trkres.doseresponse.fit`). The first ``max_curves``
    curves of ``fits`` are drawn; vehicle (dose 0) wells left of an axis break.
    Returns the matplotlib Axes.
    """
    data = require_frame(data, "data", source="trkres.doseresponse.prepare",
                         text=["curve_id"], numeric=["dose_molar", "response"])  # fmt: skip
    fits = require_frame(fits, "fits", source="trkres.doseresponse.fit", text=["curve_id"],
                         numeric=["log10_ic50", "hill_slope", "top", "bottom"])  # fmt: skip
    if not isinstance(max_curves, int) or isinstance(max_curves, bool) or max_curves < 1:
        raise InputError("bad option max_curves", expected="a whole number >= 1",
                         found=repr(max_curves)[:100])  # fmt: skip
    ax = _axes(ax)
    ids = list(fits["curve_id"].head(max_curves))
    by_id = fits.set_index("curve_id")
    groups = dict(tuple(data[data["curve_id"].isin(ids)].groupby("curve_id", sort=False)))
    for k, cid in enumerate(ids):
        g = groups.get(cid)
        if g is None:
            continue
        colour = _COLOURS[k % len(_COLOURS)]
        all_st = g.groupby("dose_molar")["response"].agg(["mean", "std"]).reset_index()
        st = all_st[all_st["dose_molar"] > 0]
        ax.errorbar(st["dose_molar"], st["mean"], yerr=st["std"].fillna(0), fmt="o", ms=3,
                    color=colour, capsize=2, label=str(cid))  # fmt: skip
        _draw_vehicle(ax, all_st, float(st["dose_molar"].min()) if len(st) else np.nan, colour)
        f = by_id.loc[cid]
        if isinstance(f, pd.DataFrame):  # a repeated curve id: its first fit
            f = f.iloc[0]
        if len(st) and np.isfinite(f["log10_ic50"]):
            xs = np.linspace(
                np.log10(st["dose_molar"].min()), np.log10(st["dose_molar"].max()), 200
            )
            ax.plot(10**xs, _fitted(xs, f), color=colour, lw=1.2)
    ax.set_xscale("log")
    ax.set_xlabel("dose (M)")
    ax.set_ylabel("viability (fraction of vehicle)")
    if ids:
        ax.legend(fontsize=7, frameon=False)
    return ax


def fold_resistance(res: pd.DataFrame, ax: Any = None, *, threshold: float | None = None) -> Any:
    """Forest plot: fold change in IC50 with its 95% CI per comparison (log scale).

    ``res``: the resistance table (:func:`trkres.doseresponse.compare`); red rows
    are resistant. The dashed line is ``threshold`` (default: the table's own
    ``threshold`` column). Returns the matplotlib Axes.
    """
    res = require_frame(res, "res", source="trkres.doseresponse.compare",
                        text=["group", "condition", "reference", "resistant"],
                        numeric=["fold_change", "fold_ci_low", "fold_ci_high"]
                        + (["threshold"] if threshold is None else []))  # fmt: skip
    ax = _axes(ax)
    c = res.reset_index(drop=True)
    if threshold is None:
        threshold = float(c["threshold"].iloc[0]) if len(c) else 10.0
    _draw_forest(ax, c, threshold)
    return ax


def escalation(
    series: pd.DataFrame,
    ax: Any = None,
    *,
    time: str = "passage",
    by: str | list[str] | None = None,
) -> Any:
    """Fold change in IC50 (95% CI, log scale) against time for a dose-escalation series.

    ``series``: :func:`trkres.doseresponse.escalation_series` (or ``trkres escalation``'s
    escalation.tsv); dotted lines mark where resistance is established. Returns the Axes.
    """
    if isinstance(by, str):
        by = [by]
    if not isinstance(time, str) or (by is not None and not isinstance(by, list | tuple)):
        raise InputError("time is a column name and by a list of them",
                         expected="time: str, by: list[str]", found=f"{time!r}, {by!r}")  # fmt: skip
    series = require_frame(series, "series", source="trkres.doseresponse.escalation_series",
                           text=[time, *(by or []), "established_at"],
                           numeric=["fold_change", "fold_ci_low", "fold_ci_high", "threshold"])  # fmt: skip
    ax = _axes(ax)
    _draw_escalation(ax, series, time, list(by or []))
    return ax
