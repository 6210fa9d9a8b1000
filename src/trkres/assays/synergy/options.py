"""Options of the synergy analysis: the one declaration used by the study, the CLI and the API.

``trkres synergy``, the study's ``options: {synergy: {...}}`` and
:func:`trkres.synergy.score` all fill :class:`SynergyOptions` through
:func:`trkres.options.validate_options`, so a bad value gets the same message
wherever it comes from ("bad option --models" on the command line, "bad option
models" in Python and study.yaml).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from trkres.options import Options
from trkres.units import UNITS

__all__ = ["MODELS", "ModelName", "ResponseKind", "SynergyOptions"]

#: What a table's ``response`` column holds (see :mod:`trkres.assays.synergy.io`).
ResponseKind = Literal["inhibition", "viability", "viability_fraction"]
#: The reference models, in the order they are computed and reported.
ModelName = Literal["bliss", "hsa", "loewe", "zip"]
MODELS: tuple[ModelName, ...] = ("bliss", "hsa", "loewe", "zip")


class SynergyOptions(Options):
    """Options of the synergy analysis (``options: {synergy: {...}}``, ``trkres synergy``)."""

    response: ResponseKind = Field(
        "inhibition",
        description="what 'response' holds: % inhibition, % viability or a viability fraction",
    )
    conc_unit: str | None = Field(
        None,
        description="concentration unit (M, mM, uM, nM, pM) when the table has no conc_unit column",
    )
    models: list[ModelName] = Field(
        default_factory=lambda: list(MODELS),
        min_length=1,
        description="reference models scored: bliss, hsa, loewe, zip (each at most once)",
    )
    n_boot: int = Field(100, ge=0, le=10000, description="replicate-bootstrap draws (0 = no CIs)")
    seed: int = Field(0, ge=0, description="seed of the bootstrap (results are reproducible)")
    ci: float = Field(0.95, gt=0, lt=1, description="level of the bootstrap CIs (a fraction)")
    musyc: bool = Field(True, description="also fit the MuSyC surface (potency vs efficacy)")
    condition: str | None = Field(None, description="block column naming the cell line (e.g. line)")
    reference: str = Field("parental", description="reference condition for re-sensitisation")
    adjust: Literal["holm", "fdr_bh", "bonferroni"] = Field(
        "holm", description="multiple-testing adjustment of the combination-vs-single-agent tests"
    )

    @field_validator("models")
    @classmethod
    def _once_each(cls, models: list[ModelName]) -> list[ModelName]:
        twice = sorted({m for m in models if models.count(m) > 1})
        if twice:
            raise ValueError(f"each model at most once; given twice: {', '.join(twice)}")
        return models

    @field_validator("conc_unit")
    @classmethod
    def _known_unit(cls, unit: str | None) -> str | None:
        if unit is not None and unit.strip().lower().replace("mol/l", "m") not in UNITS:
            raise ValueError("a concentration unit: M, mM, uM, nM or pM")
        return unit
