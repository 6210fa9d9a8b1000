"""Options of the cfDNA analysis: one model for ``trkres cfdna``, study.yaml and ``tr.cfdna``."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from trkres.options import Options

__all__ = ["CfdnaOptions"]


class CfdnaOptions(Options):
    """Settings of serial cfDNA monitoring (``options: {cfdna: {...}}`` in study.yaml)."""

    response_fall: float = Field(
        0.5,
        json_schema_extra={"exclusiveMinimum": 0, "exclusiveMaximum": 1},
        description="fall from baseline VAF that is a molecular response, as a fraction "
        "strictly between 0 and 1 (0.5 = a 50% fall)",
    )
    response_metric: Literal["mean", "max"] = Field(
        "mean", description="mean or max VAF of the alterations detected at baseline"
    )
    confirm_next: bool = Field(False, description="require confirmation at the next sample")
    vaf_unit: Literal["fraction", "percent"] = Field(
        "fraction",
        description="how the cfDNA tables write VAF and detection limit: fraction (0-1) or "
        "percent (0-100, divided by 100); a fraction table with values above 1 is refused",
    )

    @field_validator("response_fall")
    @classmethod
    def _fall(cls, value: float) -> float:
        if not (math.isfinite(value) and 0 < value < 1):
            raise PydanticCustomError(
                "fraction", "a fraction strictly between 0 and 1 (0.5 = a 50% fall)"
            )
        return value

    @field_validator("vaf_unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> Any:
        if value not in ("fraction", "percent"):
            raise PydanticCustomError("vaf_unit", "fraction or percent")
        return value
