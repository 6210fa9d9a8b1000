"""Run the plates analysis: exports + plate maps → wells as % of vehicle → plate QC.

:func:`run_plates` is the one orchestration: ``trkres plate``, the study's
``plates`` section and :func:`trkres.plates.read` call it (or, for one export,
:func:`normalise_input`); nothing is written and no figure is drawn here
(see :mod:`trkres.pl.plates`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trkres.assays.plates.options import ExportFormat, PlatesOptions
from trkres.errors import InputError, Location
from trkres.report.model import Flag
from trkres.study.registry import ProgressCallback, no_progress

if TYPE_CHECKING:
    from trkres.study.registry import AnalysisContext

__all__ = [
    "VALUE_COLUMNS",
    "PlateInput",
    "PlateSet",
    "PlatesResult",
    "normalise_input",
    "run_plates",
    "study_plate_inputs",
    "study_plates",
]

#: Columns of reader values in memory (one row per well and measurement); ``read`` and
#: ``flag`` may be left out (one measurement, no reader flags).
VALUE_COLUMNS = ("plate", "well", "value")


@dataclass(frozen=True)
class PlateInput:
    """One plate export and its map.

    ``export``: a file (``format`` says which reader) or reader values in memory
    (``plate``, ``well``, ``value``; optional ``read`` and ``flag``). ``layout``: the
    plate map (a file or a frame in the plate-map layout), None only for ``gdsc``.
    """

    name: str
    export: Path | pd.DataFrame
    layout: Path | pd.DataFrame | None = None
    format: ExportFormat = "grid"
    #: gdsc: keep only this CELL_LINE_NAME's plates.
    cell_line: str | None = None


@dataclass
class PlateSet:
    """One export's normalised wells (viability in % of vehicle, doses molar) and its QC."""

    name: str
    wells: pd.DataFrame
    qc: pd.DataFrame

    @property
    def n_drugs(self) -> int:
        """Drugs per well: 1 gives dose-response input, 2 or more combination input."""
        from trkres.assays.plates.wells import drug_count

        return drug_count(self.wells)

    def analysis_table(self) -> tuple[str, pd.DataFrame] | None:
        """``("combinations", table)`` (two or more drugs: SynergyFinder's layout, % viability),
        ``("dose_response", table)`` (one drug: read_long's layout, fraction of vehicle,
        doses in M), or None without drugs."""
        from trkres.assays.plates.wells import to_combinations, to_dose_response

        if self.n_drugs >= 2:
            return "combinations", to_combinations(self.wells)
        if self.n_drugs == 1:
            # In read_long's layout, so trkres fit / resistance read it back as it is.
            table = to_dose_response(self.wells).rename(columns={"dose_molar": "dose"})
            return "dose_response", table.assign(unit="M")
        return None


@dataclass
class PlatesResult:
    """Every plate export normalised and checked."""

    plates: list[PlateSet]
    options: PlatesOptions
    #: A warning per plate that fails QC.
    flags: list[Flag] = field(default_factory=list)

    @property
    def wells(self) -> pd.DataFrame:
        """Every mapped well of every export, with the export's name in ``input``."""
        return pd.concat([p.wells.assign(input=p.name) for p in self.plates], ignore_index=True)

    @property
    def qc(self) -> pd.DataFrame:
        """One QC row per plate of every export, with the export's name in ``input``."""
        return pd.concat([p.qc.assign(input=p.name) for p in self.plates], ignore_index=True)


def _values_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Reader values given in memory, checked and completed to the readers' columns."""
    from trkres.assays.plates.io import COLUMNS, parse_well

    missing = [c for c in VALUE_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError("plate values lack a column", expected=", ".join(missing),
                         found=", ".join(map(str, frame.columns)))  # fmt: skip
    if frame.empty:
        raise InputError("plate values have no rows", expected="one row per well", found="none")
    out = pd.DataFrame(index=frame.index)
    plate = pd.to_numeric(frame["plate"], errors="coerce")
    bad = ~(np.isfinite(plate) & (plate >= 1) & (plate <= 1e6) & (plate.round() == plate))
    if bad.any():
        r = int(bad.to_numpy().nonzero()[0][0])
        raise InputError("bad plate number", location=_row(r, "plate"),
                         expected="1, 2, …", found=str(frame["plate"].iloc[r]))  # fmt: skip
    out["plate"] = plate.astype(int)
    out["read"] = frame["read"].astype(str) if "read" in frame.columns else "value"
    parsed = [parse_well(str(w)) for w in frame["well"]]
    bad_well = [i for i, p in enumerate(parsed) if p is None]
    if bad_well:
        raise InputError("not a well name", location=_row(bad_well[0], "well"),
                         expected="A1 … AF48", found=str(frame["well"].iloc[bad_well[0]]))  # fmt: skip
    from trkres.assays.plates.io import well_name

    out["row"] = [p[0] for p in parsed if p is not None]
    out["column"] = [p[1] for p in parsed if p is not None]
    out["well"] = [well_name(r, c) for r, c in zip(out["row"], out["column"], strict=True)]
    value = pd.to_numeric(frame["value"], errors="coerce")
    text = value.isna() & frame["value"].notna()
    if text.any():
        r = int(text.to_numpy().nonzero()[0][0])
        raise InputError("non-numeric plate value", location=_row(r, "value"),
                         expected="a number (NaN for no reading)", found=str(frame["value"].iloc[r]))  # fmt: skip
    out["value"] = value.astype(float)
    out["flag"] = frame["flag"].fillna("").astype(str) if "flag" in frame.columns else ""
    if out.duplicated(["plate", "read", "well"]).any():
        r = int(out.duplicated(["plate", "read", "well"]).to_numpy().nonzero()[0][0])
        raise InputError("one well twice in the plate values", location=_row(r, "well"),
                         expected="one value per plate, read and well", found=str(out["well"].iloc[r]))  # fmt: skip
    return out[COLUMNS].reset_index(drop=True)


def _row(r: int, column: str) -> Location:
    return Location(file="<table>", row=r + 1, column=column)


def normalise_input(item: PlateInput, read: str | None = None) -> pd.DataFrame:
    """One export's mapped wells as % viability of vehicle (see
    :func:`trkres.assays.plates.wells.normalise`)."""
    from trkres.assays.plates.io import read_plate_values
    from trkres.assays.plates.wells import (
        normalise,
        plate_map_from_frame,
        read_gdsc_wells,
        read_plate_map,
    )

    if item.format == "gdsc":
        if not isinstance(item.export, Path):
            raise InputError("a GDSC well table is read from a file", expected="a path",
                             found=type(item.export).__name__)  # fmt: skip
        values, layout = read_gdsc_wells(item.export, cell_line=item.cell_line)
        return normalise(values, layout, read=read, path=item.export)
    if item.cell_line is not None:
        raise InputError("cell_line is for GDSC well tables", expected="format gdsc",
                         found=f"format {item.format}")  # fmt: skip
    if item.layout is None:
        raise InputError("a plate map is needed", expected="--map MAP.csv|yaml (layout= in Python)",
                         found="none")  # fmt: skip
    if isinstance(item.export, pd.DataFrame):
        values, where = _values_frame(item.export), None
    else:
        values, where = read_plate_values(item.export, item.format), item.export
    layout = (
        plate_map_from_frame(item.layout)
        if isinstance(item.layout, pd.DataFrame)
        else read_plate_map(item.layout)
    )
    return normalise(values, layout, read=read, path=where)


def run_plates(
    inputs: PlateInput | Sequence[PlateInput],
    options: PlatesOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> PlatesResult:
    """Normalise every export to its vehicle wells and check each plate's quality."""
    from trkres.assays.plates.wells import plate_qc

    opts = options if options is not None else PlatesOptions()
    items = [inputs] if isinstance(inputs, PlateInput) else list(inputs)
    plates = []
    for k, item in enumerate(items):
        progress(k, len(items), item.name)
        wells = normalise_input(item, opts.read)
        plates.append(PlateSet(item.name, wells, plate_qc(wells)))
    progress(len(items), len(items), "done")
    flags = [
        Flag("warning", f"{p.name} plate {r['plate']}: {r['qc']}")
        for p in plates
        for _, r in p.qc.iterrows()
        if r["qc"] != "pass"
    ]
    return PlatesResult(plates, opts, flags)


def study_plate_inputs(ctx: AnalysisContext) -> list[PlateInput]:
    """Every plate input of the study (``kind: plate``, with its ``layout:`` map)."""
    from trkres.study.manifest import InputKind

    out = []
    for item in ctx.study.inputs_of(InputKind.plate):
        fmt = item.resolved_format()
        layout = None if fmt == "gdsc" else ctx.study.folder / str(item.layout)
        out.append(PlateInput(item.name, ctx.study.path_of(item), layout, fmt))  # type: ignore[arg-type]
    return out


def study_plates(ctx: AnalysisContext, read: str | None = None) -> list[tuple[str, pd.DataFrame]]:
    """(input name, normalised wells with ``input``) for every plate input of the study:
    the dose-response and synergy analyses take their single- and multi-drug plates here."""
    return [
        (item.name, normalise_input(item, read).assign(input=item.name))
        for item in study_plate_inputs(ctx)
    ]
