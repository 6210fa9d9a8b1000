"""The plates API for notebooks: plate-reader exports + plate maps → wells as % of vehicle.

::

    import trkres as tr

    wells = tr.plates.read("reads.txt", layout="map.yaml", format="gen5")
    tr.plates.qc(wells)                       # Z′, CVs, edge ratio, trends per plate
    combos = tr.plates.combinations(wells)    # → tr.synergy.score(combos, response="viability")
    tr.pl.plate(wells)

``export`` is a reader file (``format``: grid, gen5, softmax, envision; gdsc for a GDSC
well table that carries its own map) or the values in memory (``plate``, ``well``,
``value``; optional ``read`` and ``flag``); ``layout`` is a plate-map file or a frame in
the plate-map layout (``well``, ``role``, ``cell_line``, ``drug``/``drug1``…,
``dose``/``conc1``… and ``unit``). Every bad argument or table raises a
:class:`~trkres.errors.TrkresError` subclass.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trkres.assays.plates.options import PlateReadOptions, PlatesOptions
from trkres.assays.plates.run import PlateInput, PlatesResult, normalise_input
from trkres.errors import InputError
from trkres.frames import check_frame, check_path
from trkres.options import validate_options

__all__ = [
    "PlateReadOptions",
    "PlatesOptions",
    "PlatesResult",
    "combinations",
    "dose_response",
    "qc",
    "read",
]

#: Columns of normalised wells that :func:`qc`, :func:`combinations` and
#: :func:`dose_response` need.
_WELL_COLUMNS = ("plate", "well", "row", "column", "role", "signal", "viability", "flag")


def read(
    export: str | Path | pd.DataFrame,
    layout: str | Path | pd.DataFrame | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Normalised wells: one row per mapped well with the raw ``value``, the reader's
    ``flag``, the blank-subtracted ``signal``, ``viability`` (% of the vehicle mean per
    plate and cell line), doses ``conc1…`` in molar (``unit`` M) and an ``issue`` for
    unusable or implausible wells.

    Options (:class:`PlateReadOptions`): ``format``, ``read`` (the measurement, when
    the export holds several), ``cell_line`` (gdsc only).
    """
    opts = validate_options(PlateReadOptions, options, source="api")
    if isinstance(export, str | Path):
        export = check_path(export, "plate export")
    if isinstance(layout, str | Path):
        layout = check_path(layout, "plate map")
    if not isinstance(export, Path | pd.DataFrame):
        raise InputError("not a plate export", expected="a path or a DataFrame of values",
                         found=type(export).__name__)  # fmt: skip
    if layout is not None and not isinstance(layout, Path | pd.DataFrame):
        raise InputError("not a plate map", expected="a path, a DataFrame or None",
                         found=type(layout).__name__)  # fmt: skip
    if isinstance(export, pd.DataFrame):
        export = check_frame(export, "plate values")
    if isinstance(layout, pd.DataFrame):
        layout = check_frame(layout, "plate map")
    name = export.name if isinstance(export, Path) else "table"
    item = PlateInput(name, export, layout, opts.format, opts.cell_line)
    return normalise_input(item, opts.read)


def _wells(wells: object) -> pd.DataFrame:
    wells = check_frame(wells, "table of wells")
    missing = [c for c in _WELL_COLUMNS if c not in wells.columns]
    if missing:
        raise InputError("wells lack a column", expected=", ".join(missing),
                         found=", ".join(map(str, wells.columns)))  # fmt: skip
    if wells.empty:
        raise InputError("no wells", expected="at least one well", found="none")
    for c in ("plate", "row", "column", "signal", "viability"):
        values = pd.to_numeric(wells[c], errors="coerce")
        bad = values.isna() & wells[c].notna()
        if c in ("plate", "row", "column"):
            bad |= ~np.isfinite(values) | (values < 1) | (values > 1e6) | (values.round() != values)
        if bad.any():
            r = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"bad {c} in the wells", expected="a number" + (" ≥ 1" if c in ("plate", "row", "column") else ""),
                             found=repr(wells[c].iloc[r])[:80])  # fmt: skip
        wells[c] = (
            values.astype(np.int64) if c in ("plate", "row", "column") else values.astype(float)
        )
    drugs = [c for c in wells.columns if re.fullmatch(r"drug\d", str(c))]
    for d in drugs:
        conc = str(d).replace("drug", "conc")
        if conc not in wells.columns:
            raise InputError(f"{d} has no dose column", expected=conc,
                             found=", ".join(map(str, wells.columns)))  # fmt: skip
        values = pd.to_numeric(wells[conc], errors="coerce")
        if not (values.notna() & np.isfinite(values) & (values >= 0)).all():
            raise InputError(f"bad {conc} in the wells", expected="doses ≥ 0 in molar",
                             found=repr(wells[conc].tolist()[:5]))  # fmt: skip
        wells[conc] = values.astype(float)
    if "cell_line" not in wells.columns:
        raise InputError("wells lack a column", expected="cell_line",
                         found=", ".join(map(str, wells.columns)))  # fmt: skip
    return wells.reset_index(drop=True)


def qc(wells: pd.DataFrame) -> pd.DataFrame:
    """One row per plate: control means and CVs (%), Z′, the edge-to-interior ratio,
    row/column trend p-values, unusable/implausible wells and ``qc`` (pass or the problems)."""
    from trkres.assays.plates.wells import plate_qc

    return plate_qc(_wells(wells))


def combinations(wells: pd.DataFrame) -> pd.DataFrame:
    """Two or more drugs: SynergyFinder's layout in % viability (vehicle wells as each
    block's zero-dose cell), for ``tr.synergy.score(…, response="viability")``."""
    from trkres.assays.plates.wells import drug_count, to_combinations

    frame = _wells(wells)
    if drug_count(frame) < 2:
        raise InputError("not a combination plate", expected="drug1 and drug2 columns",
                         found=f"{drug_count(frame)} drug column(s)")  # fmt: skip
    return to_combinations(frame)


def dose_response(wells: pd.DataFrame) -> pd.DataFrame:
    """One drug: the dose-response long table (``curve_id``, ``dose_molar``, ``response`` as a
    fraction of vehicle, ``line``, ``drug``), for :func:`trkres.doseresponse.prepare`."""
    from trkres.assays.plates.wells import drug_count, to_dose_response

    frame = _wells(wells)
    if drug_count(frame) != 1:
        raise InputError("not a single-drug plate", expected="one drug column (drug1)",
                         found=f"{drug_count(frame)} drug column(s)")  # fmt: skip
    return to_dose_response(frame)
