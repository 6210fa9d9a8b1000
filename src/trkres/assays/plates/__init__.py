"""Plates: plate-reader exports (``io``), plate maps and normalisation to % of vehicle
with QC (``wells``); the options (``options``), the one orchestration (``run``), the
report section (``section``).

The notebook API (``tr.plates``): :func:`read` an export with its map into wells,
then :func:`qc`, :func:`combinations` or :func:`dose_response`.
"""

from trkres.assays.plates.api import (
    PlateReadOptions,
    PlatesOptions,
    PlatesResult,
    combinations,
    dose_response,
    qc,
    read,
)

__all__ = [
    "PlateReadOptions",
    "PlatesOptions",
    "PlatesResult",
    "combinations",
    "dose_response",
    "qc",
    "read",
]
