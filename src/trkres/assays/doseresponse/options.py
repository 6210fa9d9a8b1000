"""Options of the dose-response analyses: one pydantic model per analysis.

Each model is the single declaration of its analysis' options: the command line
(``trkres fit``, ``resistance``, ``gr``, ``escalation``), the study registry
(``options: {dose_response: {...}}`` in study.yaml) and the Python API
(:mod:`trkres.assays.doseresponse.api`) fill it through
:func:`trkres.options.validate_options`, so a bad value gets the same message
wherever it comes from.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trkres.options import Options

__all__ = [
    "DoseResponseOptions",
    "EscalationOptions",
    "FitOptions",
    "GROptions",
    "ResistanceOptions",
]

#: The log-logistic models: 4pl, 3pl (Top = 1), 2pl (Top = 1, Bottom = 0).
ModelName = Literal["4pl", "3pl", "2pl"]


class DoseResponseOptions(Options):
    """Fold resistance: fit each curve, compare every condition with the reference.

    The study's ``dose_response`` analysis and ``trkres resistance`` (and
    :func:`trkres.doseresponse.compare`) take these options.
    """

    condition: str = Field("line", description="column naming the condition (cell line)")
    reference: str = Field("parental", description="reference condition")
    by: list[str] = Field(
        default_factory=lambda: ["drug"], description="groups compared separately"
    )
    dose_unit: str | None = Field(None, description="unit when the table has no 'unit' column")
    model: ModelName = Field("4pl", description="4pl, 3pl (Top = 1) or 2pl (Top = 1, Bottom = 0)")
    threshold: float = Field(
        10.0, gt=1, allow_inf_nan=False, description="fold change that establishes resistance"
    )
    robust: bool = Field(False, description="down-weight outlying wells (Huber loss, IRLS)")
    experiment: str | None = Field(
        None, description="column naming replicate experiments, pooled with a random effect"
    )


#: ``trkres resistance`` takes the study's dose-response options.
ResistanceOptions = DoseResponseOptions


class FitOptions(Options):
    """Batch curve fitting (``trkres fit``, :func:`trkres.doseresponse.fit`)."""

    model: ModelName = Field("4pl", description="4pl, 3pl (Top = 1) or 2pl (Top = 1, Bottom = 0)")
    group: list[str] | None = Field(
        None, description="columns that identify a curve, instead of curve_id"
    )
    dose_unit: str | None = Field(
        None,
        description="unit of the dose column when there is no 'unit' column (M, mM, uM, nM, pM)",
    )
    alpha: float = Field(
        0.05,
        gt=0,
        lt=1,
        allow_inf_nan=False,
        description="F-test level below which a curve is not flat",
    )
    robust: bool = Field(False, description="down-weight outlying wells (Huber loss, IRLS)")
    engine: Literal["local", "dask"] = Field(
        "local", description="local (this machine) or dask (curves partitioned over a cluster)"
    )
    scheduler: str | None = Field(
        None, description="Dask scheduler address (tcp://host:8786); without it, a local cluster"
    )
    vehicle: Literal["use", "ignore"] = Field(
        "use",
        description="use: vehicle rows (dose 0) are points at the model's zero-dose limit; "
        "ignore: fit dose > 0 only",
    )


class GROptions(Options):
    """Growth-rate inhibition metrics (``trkres gr``)."""

    condition: str | None = Field(
        None, description="column naming the line, to compare lines (e.g. cell_line)"
    )
    reference: str = Field("parental", description="reference line for condition")
    metric: Literal["GR50", "GEC50"] = Field(
        "GR50", description="GR50 or GEC50 for the fold change"
    )


class EscalationOptions(Options):
    """A dose-escalation series (``trkres escalation``)."""

    time: str = Field("passage", description="column with the passage or week of each curve")
    by: list[str] = Field(
        default_factory=list, description="columns defining separate series (e.g. drug)"
    )
    dose_unit: str | None = Field(
        None, description="unit of the dose column when there is no 'unit' column"
    )
    threshold: float = Field(
        10.0, gt=1, allow_inf_nan=False, description="fold change that establishes resistance"
    )
