"""Options of the evolution simulator: one model for ``trkres evolve``, study.yaml and
``tr.evolution.simulate`` (study.yaml: ``options: {evolution: {patients: 10000}}``)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from trkres.options import Options

__all__ = ["AUTO_EXACT_LIMIT", "EvolutionOptions"]

#: ``method: auto`` runs the exact engine when progression_size is at most this many
#: cells, the hybrid engine above (the exact engine costs ~30 events per cell grown).
AUTO_EXACT_LIMIT = 1e5

#: The exact engine refuses scenarios above this progression size (cells): hours per patient.
EXACT_MAX = 1e8


class EvolutionOptions(Options):
    """Settings of a simulation (``trkres evolve``, ``options: {evolution: ...}``, ``tr.evolution``)."""

    patients: int = Field(
        10_000,
        ge=1,
        le=5_000_000,
        description="virtual patients (tumours) per regimen (at most 5 million: ~1 KB of "
        "memory each)",
    )
    seed: int = Field(
        0, ge=0, le=2**63 - 1,
        description="random seed; patient i draws from the stream of (seed, i), so the same seed "
        "gives the same patients with any engine or partition",
    )  # fmt: skip
    engine: Literal["local", "dask"] = Field(
        "local", description="local (threads on this machine) or dask (tasks on the current "
        "Dask scheduler; blocks of patients)",
    )  # fmt: skip
    method: Literal["auto", "exact", "hybrid"] = Field(
        "auto",
        description="exact (Gillespie, every cell event), hybrid (established clones grow "
        f"deterministically, new clones arrive as a Poisson process) or auto (exact when "
        f"progression_size <= {AUTO_EXACT_LIMIT:.0e} cells and growth to detection takes <= "
        "1e7 events, else hybrid)",
    )
    regimens: list[str] | None = Field(
        None, description="regimens to simulate (default: every regimen of the scenario)"
    )
    threads: int = Field(
        0, ge=0, le=1024, description="threads of the local engine (0: one per CPU core)"
    )
    block_size: int = Field(
        0, ge=0, le=10_000_000,
        description="patients per block (thread task or Dask task); 0: 2,000 exact, 50,000 hybrid",
    )  # fmt: skip
    vary: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="one-at-a-time sensitivity analysis: parameter → (lo, hi); parameters "
        "birth, death, death_on_drug, detection_size, progression_size, types.NAME.birth, "
        "rate.FROM.TO (per day, cells or per division as in the scenario)",
    )
    vary_points: int = Field(
        5, ge=2, le=50, description="values per varied parameter (log grid when hi/lo >= 100)"
    )

    sample: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="joint sensitivity analysis: parameter → (lo, hi), drawn together by Latin "
        "hypercube (names as for vary)",
    )
    samples: int = Field(
        20, ge=2, le=100_000,
        description="parameter sets drawn for sample (Latin hypercube seeded by seed)",
    )  # fmt: skip

    @field_validator("vary", "sample")
    @classmethod
    def _finite(cls, value: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (lo, hi) in value.items():
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo == hi:
                raise PydanticCustomError(
                    "vary", "finite lo != hi for {name} (found {lo}:{hi})",
                    {"name": name, "lo": lo, "hi": hi},
                )  # fmt: skip
        return value

    @field_validator("regimens")
    @classmethod
    def _unique_regimens(cls, value: list[str] | None) -> list[str] | None:
        """A regimen named twice is simulated once (not counted twice)."""
        return None if value is None else list(dict.fromkeys(value))
