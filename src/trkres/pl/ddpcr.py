"""ddPCR figures: concentrations per well with their Poisson intervals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.pl.checks import require_axes

if TYPE_CHECKING:
    from trkres.report.model import Figure

__all__ = ["concentration_figure", "ddpcr_concentrations"]


def _wells(result: Mapping[str, pd.DataFrame] | pd.DataFrame) -> pd.DataFrame:
    from trkres.errors import InputError

    if isinstance(result, pd.DataFrame):
        wells = result
    elif isinstance(result, Mapping) and isinstance(result.get("ddpcr_wells"), pd.DataFrame):
        wells = result["ddpcr_wells"]
    else:
        raise InputError("nothing to draw", expected="a ddPCR result (tr.ddpcr.quantify) or its "
                         "wells table", found=type(result).__name__)  # fmt: skip
    need = {"call", "sample", "well", "target", "concentration", "conc_ci_low", "conc_ci_high"}
    if not need <= set(wells.columns):
        raise InputError("not a ddPCR wells table", expected="columns " + ", ".join(sorted(need)),
                         found=", ".join(map(str, wells.columns[:12])))  # fmt: skip
    return wells[wells["call"] != "failed"].reset_index(drop=True)


def _draw(
    ax: Any, data: pd.DataFrame
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Concentrations (log x) with CIs on ``ax``; returns what the plotly twin needs."""
    labels = (
        data["sample"].astype(str)
        + " · "
        + data["well"].astype(str)
        + " · "
        + data["target"].astype(str)
    ).tolist()
    y = np.arange(len(data))
    conc = data["concentration"].to_numpy(dtype=float)
    lo = np.clip(conc - data["conc_ci_low"].to_numpy(dtype=float), 0, None)
    hi = np.clip(data["conc_ci_high"].to_numpy(dtype=float) - conc, 0, None)
    shown = np.where(conc > 0, conc, np.nan)
    ax.errorbar(
        shown, y, xerr=[lo, hi], fmt="o", ms=3, color="#1f5f99", ecolor="#8aa9c9", capsize=2
    )
    zero = conc <= 0
    if zero.any():  # not detected: drawn at the upper CI bound, open symbol
        ax.plot(data.loc[zero, "conc_ci_high"], y[zero], "o", mfc="white", mec="#1f5f99", ms=4)
    ax.set_xscale("log")
    ax.set_yticks(y, labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("copies/µL (Poisson 95% CI)")
    return labels, conc, lo, hi, zero


def concentration_figure(wells: pd.DataFrame) -> Figure:
    """The report figure: concentration (copies/µL, log scale) per well and target with CIs."""
    import plotly.graph_objects as go

    from trkres.pl.style import new_figure
    from trkres.report.model import Figure

    data = wells[wells["call"] != "failed"].reset_index(drop=True)
    fig, ax = new_figure(7.0, max(2.5, 0.22 * len(data) + 1))
    labels, conc, lo, hi, zero = _draw(ax, data)
    pfig = go.Figure(
        go.Scatter(
            x=np.where(zero, data["conc_ci_high"], conc), y=labels, mode="markers",
            error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
            marker={"symbol": np.where(zero, "circle-open", "circle").tolist(), "color": "#1f5f99"},
            hovertext=[f"{lab}: {c:.4g} copies/µL, FA {f:.3g}%" for lab, c, f in
                       zip(labels, conc, data["fractional_abundance"], strict=True)],
            hoverinfo="text",
        )
    )  # fmt: skip
    pfig.update_layout(xaxis_type="log", height=200 + 16 * len(data), yaxis={"autorange": "reversed"},
                       margin={"l": 220, "r": 20, "t": 20, "b": 40})  # fmt: skip
    return Figure("ddpcr_concentrations", "ddPCR concentrations per well", fig, pfig,
                  caption="Open symbols: no positive droplet, drawn at the upper 95% bound.")  # fmt: skip


def ddpcr_concentrations(result: Mapping[str, pd.DataFrame] | pd.DataFrame, ax: Any = None) -> Any:
    """Concentration (copies/µL, log scale) of every well and target with its Poisson CI.

    ``result`` is what :func:`trkres.ddpcr.quantify` returns (or its ``wells`` table);
    failed wells are left out; wells without a positive droplet are open symbols at
    their upper 95% bound. Draws on ``ax`` (a new figure when ``None``); returns it.
    """
    data = _wells(result)
    require_axes(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7.0, max(2.5, 0.22 * len(data) + 1)))
    _draw(ax, data)
    return ax
