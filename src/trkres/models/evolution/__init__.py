"""Tumour evolution under regimens: sequential vs upfront combinations (issue 19).

A continuous-time multi-type birth–death process (Bozic et al., eLife 2013): a tumour
grows from sensitive cells, mutants arise at divisions, treatment starts at a detection
size and each regimen's steps change which cells die faster. Modules: ``scenario`` (the
YAML contract, checked with line and column), ``engine`` (compiled exact and hybrid
kernels), ``simulate`` (blocks of patients on threads or Dask), ``closed_forms``
(Iwasa–Nowak–Michor, Bozic 2013), ``options`` / ``run`` / ``api`` / ``section``.

The public API (``tr.evolution``)::

    import trkres as tr
    res = tr.evolution.simulate("scenario.yaml", patients=100_000, seed=1)
    res["summary"], res["patients"], res["composition"], res["km"]
    from trkres.pl.evolution import evolution_km; evolution_km(res)
"""

from trkres.models.evolution.api import (
    expected_resistant_cells,
    mutation_rates_from_knowledge,
    p_cure_dual,
    p_cure_single_drug,
    p_resistance_at_detection,
    rates_from_growth,
    rates_from_results,
    read_scenario,
    simulate,
)
from trkres.models.evolution.options import EvolutionOptions
from trkres.models.evolution.run import EvolutionResult, run_evolution
from trkres.models.evolution.scenario import Scenario

__all__ = [
    "EvolutionOptions",
    "EvolutionResult",
    "Scenario",
    "expected_resistant_cells",
    "mutation_rates_from_knowledge",
    "p_cure_dual",
    "p_cure_single_drug",
    "p_resistance_at_detection",
    "rates_from_growth",
    "rates_from_results",
    "read_scenario",
    "run_evolution",
    "simulate",
]
