"""Figure plumbing: the trkres style, deterministic SVG/PNG bytes.

Static figures are matplotlib (SVG and PNG for papers); interactive ones are
plotly, embedded in the report with plotly.js inlined. Report figures are
``matplotlib.figure.Figure`` objects made without pyplot: nothing here selects
or changes the user's matplotlib backend, and no figure is left registered in
pyplot (a notebook keeps its inline backend; a headless run needs no display).
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib
from matplotlib.figure import Figure as MplFigure
from matplotlib.layout_engine import ConstrainedLayoutEngine

#: Colours shared by figures: classes of resistance.
CLASS_COLOURS: dict[str, str] = {
    "solvent_front": "#d62728",
    "gatekeeper": "#ff7f0e",
    "xdfg": "#9467bd",
    "kinase_domain_other": "#8c564b",
    "mapk_bypass": "#1f77b4",
    "other_bypass": "#17becf",
    "fusion_driver": "#2ca02c",
}

_RC: Any = {
    "svg.hashsalt": "trkres",  # stable element ids
    "svg.fonttype": "none",  # text stays text (smaller, editable)
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def new_figure(
    width_in: float = 6.0, height_in: float = 3.5, nrows: int = 1, ncols: int = 1
) -> tuple[MplFigure, Any]:
    """A new matplotlib figure and its axes (an array when several) in the trkres style."""
    with matplotlib.rc_context(_RC):
        fig = MplFigure(figsize=(width_in, height_in), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True)
    return fig, axes


def figure_bytes(fig: MplFigure, fmt: str) -> bytes:
    """Render ``fig`` as ``svg`` or ``png`` bytes, without timestamps.

    The first render lays the figure out (constrained layout: about half of a small
    figure's render time) and fixes it there, so the next renders of the same figure (the
    PNG after the SVG, the report's inline SVG) reuse those positions instead of solving
    the layout again."""
    buf = io.BytesIO()
    metadata: dict[str, str | None] = {"Date": None} if fmt == "svg" else {"Software": None}
    with matplotlib.rc_context(_RC):
        fig.savefig(buf, format=fmt, dpi=150, metadata=metadata)
    if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        fig.set_layout_engine("none")
    return buf.getvalue()


def close(fig: MplFigure) -> None:
    """Free a figure's drawing (it was never registered with pyplot)."""
    fig.clear()
