"""Figures, one module per domain, each taking results and never recomputing them.

Each public function draws on a matplotlib ``ax`` (a new figure when none is given) and
returns it, so a notebook shows it inline::

    fig, ax = plt.subplots()
    tr.pl.dose_response(data, fits, ax=ax)

``style`` holds the trkres look and deterministic SVG/PNG bytes for the report;
nothing in ``trkres.pl`` selects or changes matplotlib's backend. Functions are
imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public plotting function → the module that holds it.
_FUNCTIONS = {
    # dose-response
    "dose_response": "trkres.pl.doseresponse",
    "fold_resistance": "trkres.pl.doseresponse",
    "escalation": "trkres.pl.doseresponse",
    # combinations and plates
    "synergy_heatmap": "trkres.pl.synergy",
    "plate": "trkres.pl.plates",
    # ddPCR and cfDNA
    "ddpcr_concentrations": "trkres.pl.ddpcr",
    "cfdna": "trkres.pl.monitoring",
    # in vivo
    "invivo_spider": "trkres.pl.invivo",
    "invivo_growth": "trkres.pl.invivo",
    "invivo_waterfall": "trkres.pl.invivo",
    "invivo_model": "trkres.pl.invivo",
    "invivo_synergy": "trkres.pl.invivo",
    "invivo_survival": "trkres.pl.invivo",
    "invivo_diagnostics": "trkres.pl.invivo",
    # western blots
    "blot_overlay": "trkres.pl.western",
    "blot_profiles": "trkres.pl.western",
    "blot_fold_change": "trkres.pl.western",
    # Sanger traces
    "sanger_chromatogram": "trkres.pl.sanger",
    "sanger_fractions": "trkres.pl.sanger",
    # signalling model
    "signal_heatmap": "trkres.pl.signalling",
    "signal_dose_response": "trkres.pl.signalling",
    "signal_time_course": "trkres.pl.signalling",
    # evolution simulator
    "evolution_km": "trkres.pl.evolution",
    "evolution_cure": "trkres.pl.evolution",
    "evolution_composition": "trkres.pl.evolution",
    # genomics
    "mechanisms": "trkres.pl.genomics",
    "oncoprint": "trkres.pl.genomics",
}

__all__ = sorted(_FUNCTIONS)


def __getattr__(name: str) -> Any:
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f"module 'trkres.pl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
