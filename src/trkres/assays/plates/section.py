"""The plates report section: normalisation to vehicle and plate QC, and plates as analysis input.

Plate inputs (``kind: plate`` with a ``layout:`` plate map) are normalised
here; the dose-response analysis takes the single-drug plates and the synergy
analysis the multi-drug ones, through :func:`study_plates`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from trkres.assays.plates.io import read_plate_values
from trkres.assays.plates.wells import (
    VIABILITY_RANGE,
    drug_count,
    normalise,
    plate_qc,
    read_gdsc_wells,
    read_plate_map,
)
from trkres.pl.style import new_figure
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register


class PlateOptions(BaseModel):
    """Options of the plates analysis (``options: {plates: {...}}``)."""

    model_config = ConfigDict(extra="forbid")

    read: str | None = Field(None, description="measurement to use when an export holds several")


def study_plates(ctx: AnalysisContext, read: str | None = None) -> list[tuple[str, pd.DataFrame]]:
    """(input name, normalised wells) for every plate input of the study."""
    out = []
    for item in ctx.study.inputs_of(InputKind.plate):
        path = ctx.study.path_of(item)
        if item.resolved_format() == "gdsc":
            values, layout = read_gdsc_wells(path)
        else:
            values = read_plate_values(path, item.resolved_format())  # type: ignore[arg-type]
            layout = read_plate_map(ctx.study.folder / str(item.layout))
        wells = normalise(values, layout, read=read, path=path)
        out.append((item.name, wells.assign(input=item.name)))
    return out


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


@register("plates", "Plates: normalisation and quality control", requires={InputKind.plate},
          options=PlateOptions, order=150)  # fmt: skip
def plates_analysis(ctx: AnalysisContext) -> Section:
    """Normalise every plate to its vehicle wells and check its quality."""
    opts = ctx.options if isinstance(ctx.options, PlateOptions) else PlateOptions()
    plates = study_plates(ctx, opts.read)
    qc = pd.concat([plate_qc(w).assign(input=n) for n, w in plates], ignore_index=True)
    wells = pd.concat([w for _, w in plates], ignore_index=True)
    flags = [
        Flag("warning", f"{r['input']} plate {r['plate']}: {r['qc']}")
        for _, r in qc.iterrows()
        if r["qc"] != "pass"
    ]
    uses = ", ".join(
        f"{n} → {'synergy' if drug_count(w) >= 2 else 'dose-response'}" for n, w in plates
    )
    return Section(
        name="plates",
        title="Plates: normalisation and quality control",
        summary=(f"{len(plates)} plate export(s), {len(wells)} mapped wells: blank-subtracted and expressed as "
                 f"% of the vehicle mean per plate and cell line. Z′ ≥ 0.5, control CV ≤ 20% and no row/column "
                 f"trend (p ≥ 0.01) pass; wells without a usable or plausible viability (non-finite reading, vehicle not "
                 f"above blank, outside {VIABILITY_RANGE[0]:g} to {VIABILITY_RANGE[1]:g}%) are listed with an issue and fail their plate. Doses are molar. "
                 f"Used by: {uses}."),
        tables=[Table("plate_qc", qc, "Plate quality control"),
                Table("plate_wells", wells, "Normalised wells", in_report=False)],
        figures=[plate_figure(n, w) for n, w in plates],
        flags=flags,
    )  # fmt: skip
