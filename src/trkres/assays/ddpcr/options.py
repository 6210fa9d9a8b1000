"""Options of the ddPCR analysis: one model for ``trkres ddpcr``, study.yaml and ``tr.ddpcr``.

Study.yaml keys are the field names (``options: {ddpcr: {droplet_volume_nl: 0.85}}``);
the command line's flags (``--droplet-volume``, ``--blank``, ``--ntc-well`` ...) are
accepted as aliases, so a bad value is named as the user wrote it.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_core import PydanticCustomError

from trkres.assays.ddpcr.io import VOLUME_RANGE_NL
from trkres.options import Options

__all__ = ["DdpcrOptions"]


def _also(name: str, cli: str) -> AliasChoices:
    """The field's own name first (study.yaml, Python), then the CLI flag's name."""
    return AliasChoices(name, cli)


class DdpcrOptions(Options):
    """Settings of the ddPCR analysis (``trkres ddpcr``, ``options: {ddpcr: ...}``, ``tr.ddpcr``)."""

    droplet_volume_nl: float | None = Field(
        None,
        validation_alias=_also("droplet_volume_nl", "droplet_volume"),
        description="droplet volume in nL (0.1 to 10); default: from each file's header "
        "(0.85 for QX200 / QX Manager / QuantaSoft 1.7, 0.91 for old QuantaSoft)",
    )
    interval: Literal["quantasoft", "wald", "wilson"] = Field(
        "quantasoft",
        description="Poisson interval of the concentration: quantasoft (Wald from 100 positives, "
        "flat-prior Poisson HPD below), wald or wilson",
    )
    min_droplets: int = Field(
        8000, ge=0, description="wells with fewer accepted droplets (count) are flagged"
    )
    blank_samples: list[str] = Field(
        default_factory=list,
        validation_alias=_also("blank_samples", "blank"),
        description="wild-type-only or NTC samples (EP17 LoB)",
    )
    low_samples: list[str] = Field(
        default_factory=list,
        validation_alias=_also("low_samples", "low"),
        description="low-level samples (EP17 LoD)",
    )
    limits_target: str | None = Field(
        None,
        description="target whose wells give the limits and are called by them (needed "
        "when the blank and low samples have several targets, e.g. a reference channel)",
    )
    limits_method: Literal["parametric", "nonparametric"] = Field(
        "parametric", description="EP17 method"
    )
    ntc_wells: list[str] = Field(
        default_factory=list,
        validation_alias=_also("ntc_wells", "ntc_well"),
        description="no-template-control wells: their pooled droplets set both channels' "
        "amplitude thresholds",
    )
    wt_wells: list[str] = Field(
        default_factory=list,
        validation_alias=_also("wt_wells", "wt_well"),
        description="wild-type control wells (mutant-channel threshold)",
    )
    positive_control_wells: list[str] = Field(
        default_factory=list,
        validation_alias=_also("positive_control_wells", "positive_control_well"),
        description="positive-control wells (threshold midway between their clusters)",
    )
    threshold_ch1: float | None = Field(
        None, description="fixed channel-1 (FAM) droplet amplitude threshold (amplitude units)"
    )
    threshold_ch2: float | None = Field(
        None, description="fixed channel-2 (HEX/VIC) droplet amplitude threshold (amplitude units)"
    )
    mutant_channel: Literal[1, 2] = Field(
        1, description="channel of the mutant probe (1 = FAM, 2 = HEX/VIC)"
    )
    threshold_tolerance: float = Field(
        0.10,
        ge=0.0,
        le=0.99,
        allow_inf_nan=False,
        description="fraction of the threshold's height above the negative cluster by which "
        "it is moved to flag threshold_sensitive wells",
    )
    detection_vaf: float = Field(
        0.001,
        description="VAF (fraction, 0 < VAF <= 1) at which p_detect, the chance a well holds "
        "a mutant copy, is given",
    )

    @field_validator("droplet_volume_nl")
    @classmethod
    def _volume(cls, value: float | None) -> float | None:
        lo, hi = VOLUME_RANGE_NL
        if value is not None and not (math.isfinite(value) and lo <= value <= hi):
            raise PydanticCustomError(
                "droplet_volume",
                "a droplet volume in nL between {lo} and {hi} (0.85 on QX200 / QX Manager, "
                "0.91 on old QuantaSoft)",
                {"lo": f"{lo:g}", "hi": f"{hi:g}"},
            )
        return value

    @field_validator("threshold_ch1", "threshold_ch2")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise PydanticCustomError("finite", "a finite number")
        return value

    @field_validator("detection_vaf")
    @classmethod
    def _vaf(cls, value: float) -> float:
        if not (math.isfinite(value) and 0 < value <= 1):
            raise PydanticCustomError("vaf", "a VAF as a fraction: 0 < VAF <= 1")
        return value

    @property
    def thresholds(self) -> list[float | None] | None:
        """Fixed amplitude thresholds of channels 1 and 2 (``None``: none fixed)."""
        if self.threshold_ch1 is None and self.threshold_ch2 is None:
            return None
        return [self.threshold_ch1, self.threshold_ch2]
