"""Options of the plates analysis: the one declaration used by the study, the CLI and the API.

:class:`PlatesOptions` is the study's ``options: {plates: {...}}``; a single export
read on its own (``trkres plate``, :func:`trkres.plates.read`) adds its format and,
for a GDSC well table, the cell line to keep (:class:`PlateReadOptions`; in a study
each input names its own format). Both are filled through
:func:`trkres.options.validate_options`, so a bad value gets the same message
everywhere ("bad option --format" on the command line, "bad option format" in Python).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trkres.options import Options

__all__ = ["ExportFormat", "PlateReadOptions", "PlatesOptions"]

#: Plate-reader export formats, and ``gdsc``: a GDSC well table that carries its own plate map.
ExportFormat = Literal["grid", "gen5", "softmax", "envision", "gdsc"]


class PlatesOptions(Options):
    """Options of the plates analysis (``options: {plates: {...}}``)."""

    read: str | None = Field(
        None, description="measurement to use when an export holds several (default: the first)"
    )


class PlateReadOptions(PlatesOptions):
    """One plate export read on its own (``trkres plate``, :func:`trkres.plates.read`)."""

    format: ExportFormat = Field(
        "grid", description="grid, gen5, softmax, envision or gdsc (a GDSC well table)"
    )
    cell_line: str | None = Field(
        None, description="gdsc only: keep only this CELL_LINE_NAME's plates"
    )
