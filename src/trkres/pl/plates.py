"""Plate figures: viability of every mapped well in plate geometry.

:func:`plate_figure` (a :class:`trkres.report.model.Figure`) is drawn by the study's
plates section; :func:`plate` draws one plate on a notebook's matplotlib ``ax``. Both
take normalised wells (:func:`trkres.plates.read`, :func:`~trkres.assays.plates.run.run_plates`)
and compute nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trkres.errors import InputError
from trkres.pl.checks import require_axes
from trkres.pl.style import new_figure
from trkres.report.model import Figure

__all__ = ["plate", "plate_figure"]


def plate_figure(name: str, wells: pd.DataFrame) -> Figure:
    """Viability (% of vehicle) of every mapped well, one panel per plate, in plate geometry."""
    plates = sorted(wells["plate"].unique())
    fig, axes = new_figure(4.8 * len(plates), 3.2, nrows=1, ncols=len(plates))
    axes = np.atleast_1d(axes)
    for ax, p in zip(axes, plates, strict=True):
        g = wells[wells["plate"] == p]
        grid = np.full((int(g["row"].max()), int(g["column"].max())), np.nan)
        grid[g["row"].to_numpy() - 1, g["column"].to_numpy() - 1] = g["viability"].to_numpy(float)
        im = ax.imshow(grid, cmap="viridis", vmin=0, vmax=120, aspect="auto")
        ax.set_title(f"{name}, plate {p}", fontsize=8)
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    fig.colorbar(im, ax=axes.tolist(), shrink=0.7, label="% of vehicle")
    return Figure(f"plate_{name}", f"Plate map: {name}", fig,
                  caption="Blank-subtracted signal as % of the vehicle mean; white = unmapped or flagged wells.")  # fmt: skip


def plate(
    wells: pd.DataFrame,
    value: str = "viability",
    *,
    plate_number: int | None = None,
    ax: Any = None,
    cmap: str = "viridis",
) -> Any:
    """One plate's wells in plate geometry, coloured by ``value`` (default: % viability of
    vehicle, 0 to 120); unmapped and unusable wells are white. ``wells``: normalised
    wells (``plate``, ``row``, ``column``, ``value``); ``plate_number``: which plate
    (default: the first). Returns the matplotlib Axes."""
    from trkres.frames import check_frame

    wells = check_frame(wells, "table of wells")
    if not isinstance(value, str):
        raise InputError("value names a column", expected="a column name such as viability",
                         found=type(value).__name__)  # fmt: skip
    missing = [c for c in ("plate", "row", "column", value) if c not in wells.columns]
    if missing:
        raise InputError("wells lack a column", expected=", ".join(map(str, missing)),
                         found=", ".join(map(str, wells.columns)))  # fmt: skip
    if wells.empty:
        raise InputError("no wells to draw", expected="at least one well", found="none")
    numbers = list(dict.fromkeys(wells["plate"]))
    chosen = numbers[0] if plate_number is None else plate_number
    if not isinstance(chosen, int | float | str) or chosen not in numbers:
        raise InputError("plate not in the wells", expected=", ".join(map(str, numbers[:20])),
                         found=repr(plate_number))  # fmt: skip
    g = wells[wells["plate"] == chosen]
    if g.empty:
        raise InputError("no wells on the plate", expected="a plate number of the wells",
                         found=repr(chosen))  # fmt: skip
    rows = pd.to_numeric(g["row"], errors="coerce").to_numpy(float)
    cols = pd.to_numeric(g["column"], errors="coerce").to_numpy(float)
    ok = np.isfinite(rows) & np.isfinite(cols) & (rows >= 1) & (cols >= 1)
    ok &= (rows == np.round(rows)) & (cols == np.round(cols)) & (rows <= 32) & (cols <= 48)
    if not ok.all():
        raise InputError("bad well position", expected="row 1 … 32 and column 1 … 48",
                         found=f"row {rows[~ok][0]:g}, column {cols[~ok][0]:g}")  # fmt: skip
    values = pd.to_numeric(g[value], errors="coerce").to_numpy(float)
    grid = np.full((int(rows.max()), int(cols.max())), np.nan)
    grid[rows.astype(int) - 1, cols.astype(int) - 1] = values
    require_axes(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    limits = {"vmin": 0, "vmax": 120} if value == "viability" else {}
    im = ax.imshow(grid, cmap=cmap, aspect="auto", **limits)
    ax.set_xticks(range(grid.shape[1]), [str(c + 1) for c in range(grid.shape[1])], fontsize=6)
    ax.set_yticks(range(grid.shape[0]), [chr(65 + r) if r < 26 else f"A{chr(65 + r - 26)}"
                                         for r in range(grid.shape[0])], fontsize=6)  # fmt: skip
    ax.set_title(f"plate {chosen}: {value}", fontsize=8)
    ax.figure.colorbar(im, ax=ax, label="% of vehicle" if value == "viability" else value)
    return ax
