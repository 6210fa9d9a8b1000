"""cfDNA figures: allele fractions over time per patient, treatment lines on top."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.pl.checks import require_axes

if TYPE_CHECKING:
    from trkres.genomics.cfdna import CfdnaResult
    from trkres.report.model import Figure

__all__ = ["cfdna", "cfdna_figure"]

_PALETTE = ["#d62728", "#1f77b4", "#9467bd", "#ff7f0e", "#17becf", "#8c564b"]


def _floor(g: pd.DataFrame) -> float:
    """Where not-detected values without a limit are drawn (VAF, log scale)."""
    return max(float(g["lod"][g["lod"] > 0].min()) if (g["lod"] > 0).any() else 1e-4, 1e-5)


def _series(g: pd.DataFrame) -> Any:
    return g.groupby(g["gene"] + " " + g["alteration"], sort=False)


def _draw_patient(
    ax: Any, g: pd.DataFrame, patient: object, timeline: pd.DataFrame | None, prefix: str = ""
) -> None:
    """One patient's VAFs on ``ax`` (log y), with the treatment lines shaded."""
    floor = _floor(g)
    for k, (key, series) in enumerate(_series(g)):
        series = series.sort_values("day")
        fusion = bool(series["is_fusion"].iloc[0])
        colour = "#2ca02c" if fusion else _PALETTE[k % len(_PALETTE)]
        y = np.where(series["detected"], series["vaf"], np.maximum(series["lod"], floor))
        ax.plot(series["day"], y, "-", color=colour, lw=2.5 if fusion else 1.2, label=prefix + key)
        det = series["detected"].to_numpy()
        ax.plot(series["day"][det], y[det], "o", color=colour, ms=4)
        ax.plot(series["day"][~det], y[~det], "o", mfc="white", mec=colour, ms=4)
    if timeline is not None and len(timeline):
        rows: list[Any] = list(timeline[timeline["patient_id"] == patient].itertuples())
        for t in rows:
            stop = t.stop_day if pd.notna(t.stop_day) else t.start_day + 1
            ax.axvspan(
                t.start_day, stop, color="#2ca02c" if t.trk_inhibitor else "#cccccc", alpha=0.08
            )
            ax.annotate(f"{t.drugs} ({t.best_response})" if t.best_response else t.drugs,
                        (t.start_day, 1.0), xycoords=("data", "axes fraction"), fontsize=6, va="top")  # fmt: skip
    ax.set_yscale("log")
    ax.set_ylabel("VAF")


def cfdna_figure(measurements: pd.DataFrame, timeline: pd.DataFrame | None) -> Figure | None:
    """The report figure: VAF over time per patient (log scale), treatment lines on top.

    Not-detected measurements are drawn at their detection limit with open
    symbols; the fusion (tumour-burden proxy) is the thick line.
    """
    import plotly.graph_objects as go

    from trkres.pl.style import new_figure
    from trkres.report.model import Figure

    if measurements.empty:
        return None
    patients = list(dict.fromkeys(measurements["patient_id"]))
    fig, axes = new_figure(7.5, 2.6 * len(patients), nrows=len(patients), ncols=1)
    axes = np.atleast_1d(axes)
    pfig = go.Figure()
    for ax, patient in zip(axes, patients, strict=True):
        g = measurements[measurements["patient_id"] == patient]
        floor = _floor(g)
        _draw_patient(ax, g, patient, timeline)
        for k, (key, series) in enumerate(_series(g)):
            series = series.sort_values("day")
            fusion = bool(series["is_fusion"].iloc[0])
            colour = "#2ca02c" if fusion else _PALETTE[k % len(_PALETTE)]
            y = np.where(series["detected"], series["vaf"], np.maximum(series["lod"], floor))
            det = series["detected"].to_numpy()
            pfig.add_trace(go.Scatter(
                x=series["day"], y=y, mode="lines+markers", name=f"{patient}: {key}",
                line={"width": 3 if fusion else 1.5, "color": colour},
                marker={"symbol": np.where(det, "circle", "circle-open").tolist()},
                hovertext=[f"{patient} {key} day {d:g}: " + (f"VAF {v:.3%}" if dd else f"not detected (< {lod:.2%})")
                           for d, v, dd, lod in zip(series["day"], series["vaf"], det, series["lod"], strict=True)],
                hoverinfo="text",
            ))  # fmt: skip
        ax.set_title(str(patient), fontsize=9, loc="left")
        ax.legend(fontsize=6, frameon=False, loc="lower right")
    axes[-1].set_xlabel("day")
    pfig.update_layout(yaxis_type="log", xaxis_title="day", yaxis_title="VAF", height=420)
    return Figure(
        "cfdna_vaf_over_time", "cfDNA allele fractions over time", fig, pfig,
        caption="Thick green: the NTRK fusion (tumour-burden proxy). Open symbols: not detected, "
        "drawn at the detection limit. Shaded: treatment lines (green: TRK inhibitor).",
    )  # fmt: skip


def cfdna(result: CfdnaResult, patient: str | None = None, ax: Any = None) -> Any:
    """VAF over time (log scale) of one patient, or of every patient on one axes.

    ``result`` is what :func:`trkres.cfdna.track` returns. Not-detected values are
    open symbols at their detection limit; the fusion is the thick green line; with
    one patient drawn, its treatment lines (from the timeline) are shaded. Draws on
    ``ax`` (a new figure when ``None``) and returns it.
    """
    from trkres.errors import InputError
    from trkres.genomics.cfdna import CfdnaResult

    if not isinstance(result, CfdnaResult):
        raise InputError("nothing to draw", expected="a cfDNA result (tr.cfdna.track)",
                         found=type(result).__name__)  # fmt: skip
    m = result.measurements
    patients = list(dict.fromkeys(m["patient_id"]))
    if patient is not None:
        if patient not in patients:
            raise InputError("no such patient in the cfDNA result",
                             expected="one of: " + ", ".join(map(str, patients))[:300],
                             found=repr(patient))  # fmt: skip
        patients = [patient]
    require_axes(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7.5, 2.8))
    for p in patients:
        _draw_patient(ax, m[m["patient_id"] == p], p,
                      result.timeline if len(patients) == 1 else None,
                      prefix=f"{p}: " if len(patients) > 1 else "")  # fmt: skip
    if len(patients) == 1:
        ax.set_title(str(patients[0]), fontsize=9, loc="left")
    ax.set_xlabel("day")
    if patients:
        ax.legend(fontsize=6, frameon=False, loc="lower right")
    return ax
