"""Options of the in vivo analysis: one model for ``trkres invivo``, study.yaml and ``tr.invivo``.

Study.yaml keys are the field names (``options: {invivo: {control: Vehicle, variance: arm}}``);
the command line's flags (``--drug-a``, ``--endpoint-fold`` ...) are the same names with
dashes.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from trkres.assays.invivo.io import MAPPABLE
from trkres.options import Options

__all__ = ["VARIANCES", "InvivoOptions"]

#: Residual variance structures of the growth model (nlme's varIdent / varPower / varComb).
VARIANCES = ("none", "arm", "mouse", "time-power", "arm+time-power", "mouse+time-power")
Variance = Literal["none", "arm", "mouse", "time-power", "arm+time-power", "mouse+time-power"]
SynergyMethod = Literal["bliss", "hsa", "ra"]
SYNERGY_METHODS: tuple[SynergyMethod, ...] = ("bliss", "hsa", "ra")


class InvivoOptions(Options):
    """Settings of the in vivo analysis (``trkres invivo``, ``options: {invivo: ...}``, ``tr.invivo``)."""

    control: str | None = Field(
        None,
        description="the control (vehicle) arm; default: the one arm named like a control "
        "(control, vehicle, untreated, placebo, ctrl, veh), stated in the output",
    )
    drug_a: str | None = Field(None, description="arm of the first single agent of a combination")
    drug_b: str | None = Field(None, description="arm of the second single agent")
    drug_c: str | None = Field(
        None, description="arm of the third single agent (3-drug combinations)"
    )
    combination: str | None = Field(
        None,
        description="arm given the drugs together; default: an arm named 'A+B' (or 'A_B', "
        "'A + B') after two or three other arms, stated in the output",
    )
    variance: Variance = Field(
        "none",
        description="residual variance of the growth model: none, arm (varIdent by arm), "
        "mouse (varIdent by mouse), time-power (varPower of time), or arm/mouse+time-power",
    )
    growth: Literal["exponential", "gompertz"] = Field(
        "exponential", description="per-mouse growth curve fitted besides the mixed model"
    )
    time_start: float | None = Field(
        None,
        description="first day of the growth model and synergy (default: each mouse's first day)",
    )
    time_end: float | None = Field(
        None, description="last day used by the growth model and synergy"
    )
    min_observations: int = Field(
        2, ge=1, le=1000, description="mice with fewer measurements are reported and left out"
    )
    endpoint_fold: float | None = Field(
        None,
        description="survival endpoint: volume reaches this multiple of baseline "
        "(default 2 when no endpoint is given)",
    )
    endpoint_volume: float | None = Field(
        None, description="survival endpoint: volume reaches this many mm³"
    )
    synergy_methods: list[SynergyMethod] = Field(
        default_factory=lambda: list(SYNERGY_METHODS),
        description="reference models of combination synergy over time (bliss, hsa, ra)",
    )
    robust: bool = Field(
        False, description="cluster-robust (CR2) standard errors in the synergy and contrast tests"
    )
    power_simulations: int = Field(
        0, ge=0, le=100_000,
        description="simulated experiments for the post hoc power of the combination test (0: skip)",
    )  # fmt: skip
    zero_volumes: Literal["exclude", "floor"] = Field(
        "exclude",
        description="volumes of 0 after baseline (tumours gone) in the growth model: exclude "
        "(as SynergyLMM; the output warns) or floor (half the smallest positive volume)",
    )
    influence: Literal["auto", "yes", "no"] = Field(
        "auto",
        description="leave-one-mouse-out influence of each mouse on the growth model (one refit "
        "per mouse): auto = yes up to 100 mice unless the variance is by mouse",
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="which column plays which role: {mouse_id: ID, arm: Group, day: Day, "
        "volume: Vol} (also length, width, week, signal, cohort)",
    )
    time_unit: Literal["auto", "days", "weeks"] = Field(
        "auto", description="unit of the time column: auto (weeks for a Week column), days or weeks"
    )
    seed: int = Field(0, ge=0, description="seed of the simulations (RA synergy, power)")

    @field_validator("endpoint_fold")
    @classmethod
    def _fold(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value > 1):
            raise PydanticCustomError("fold", "a fold of baseline volume > 1 (e.g. 2 or 4)")
        return value

    @field_validator("endpoint_volume")
    @classmethod
    def _volume(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise PydanticCustomError("volume", "a volume in mm³ > 0 (e.g. 1000)")
        return value

    @field_validator("time_start", "time_end")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise PydanticCustomError("finite", "a finite number of days")
        return value

    @field_validator("columns")
    @classmethod
    def _columns(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if k not in MAPPABLE]
        if bad:
            raise PydanticCustomError(
                "columns", "roles among {roles}; found {bad}",
                {"roles": ", ".join(MAPPABLE), "bad": ", ".join(bad)},
            )  # fmt: skip
        return value

    @model_validator(mode="after")
    def _consistent(self) -> InvivoOptions:
        if self.endpoint_fold is not None and self.endpoint_volume is not None:
            raise PydanticCustomError(
                "endpoint", "one endpoint: endpoint_fold or endpoint_volume, not both (given both)"
            )
        if (
            self.time_start is not None
            and self.time_end is not None
            and self.time_end <= self.time_start
        ):
            raise PydanticCustomError(
                "window", "time_end after time_start (given time_start {start}, time_end {end})",
                {"start": f"{self.time_start:g}", "end": f"{self.time_end:g}"},
            )  # fmt: skip
        roles = {"drug_a": self.drug_a, "drug_b": self.drug_b, "combination": self.combination}
        given = [k for k, v in {**roles, "drug_c": self.drug_c}.items() if v is not None]
        missing = [k for k, v in roles.items() if v is None]
        if given and missing:
            raise PydanticCustomError(
                "combination", "drug_a, drug_b and combination together (drug_c optional); "
                "given {given}, missing {missing}",
                {"given": ", ".join(given), "missing": ", ".join(missing)},
            )  # fmt: skip
        return self

    @property
    def endpoint(self) -> tuple[str, float]:
        """The survival endpoint as (``fold`` or ``volume``, value); fold 2 by default."""
        if self.endpoint_volume is not None:
            return "volume", self.endpoint_volume
        return "fold", self.endpoint_fold if self.endpoint_fold is not None else 2.0
