"""Options of the signalling model: one model for ``trkres signal``, study.yaml and ``tr.signalling``."""

from __future__ import annotations

import math

from pydantic import Field, field_validator

from trkres.options import Options

__all__ = ["SignalOptions"]


class SignalOptions(Options):
    """What to simulate: genotypes × treatments at time points (``trkres signal``,
    ``options: {signalling: ...}``, ``tr.signalling.simulate``)."""

    genotypes: list[str] = Field(
        default_factory=lambda: ["LMNA::NTRK1"],
        min_length=1,
        description="genotypes: a TRK fusion plus alterations joined by '+', e.g. "
        "'LMNA::NTRK1 + NTRK1 G595R + KRAS G12D', 'PLEKHA6::NTRK1 + MET amplification'",
    )
    treatments: list[str] = Field(
        default_factory=lambda: ["larotrectinib=100nM"],
        min_length=1,
        description="treatments: drug=dose pairs joined by '+', e.g. "
        "'selitrectinib=50nM+binimetinib=50nM' (knowledge-base names and synonyms; 'none' "
        "is always included as the reference)",
    )
    times_h: list[float] = Field(
        default_factory=lambda: [2.0, 24.0],
        min_length=1,
        description="readout times after the drugs are added (hours; westerns are often 2 h)",
    )
    viability_h: float = Field(
        72.0,
        gt=0,
        le=720,
        description="time of the viability readout (hours; 72 h as a CellTiter-Glo assay)",
    )
    dose_points: int = Field(
        25,
        ge=0,
        le=200,
        description="doses per single-drug dose-response curve (0.1 nM to 10 µM, log-spaced; "
        "the half-maximal dose is interpolated between them) for every drug of the "
        "treatments in every genotype; 0 skips the curves, else at least 5",
    )
    rtol: float = Field(1e-6, gt=0, lt=1e-2, description="relative tolerance of the integrator")

    @field_validator("times_h")
    @classmethod
    def _times(cls, values: list[float]) -> list[float]:
        for v in values:
            if not (math.isfinite(v) and 0 < v <= 720):
                raise ValueError(f"readout times must be in (0, 720] hours, found {v}")
        return sorted(set(values))

    @field_validator("dose_points")
    @classmethod
    def _points(cls, value: int) -> int:
        if 0 < value < 5:
            raise ValueError("0 (no curves) or at least 5 doses")
        return value

    @field_validator("genotypes", "treatments")
    @classmethod
    def _text(cls, values: list[str]) -> list[str]:
        out = [str(v).strip() for v in values]
        if any(not v for v in out):
            raise ValueError("an empty genotype or treatment")
        return list(dict.fromkeys(out))
