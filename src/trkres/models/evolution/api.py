"""The Python API of the evolution simulator (``tr.evolution``).

::

    import trkres as tr
    res = tr.evolution.simulate("examples/evolution/bozic2013.yaml", patients=100_000, seed=1)
    res["summary"]           # per regimen: p_cure, p_progression, median_ttp (95% CIs)
    sc = tr.evolution.read_scenario("scenario.yaml")
    tr.evolution.p_cure_single_drug(1e9, 5e-8, 0.14, 0.13, 0.17)
"""

from __future__ import annotations

import math
from typing import Any

from trkres.errors import InputError
from trkres.models.evolution.closed_forms import (
    expected_resistant_cells,
    p_cure_dual,
    p_cure_single_drug,
    p_resistance_at_detection,
)
from trkres.models.evolution.kb_rates import class_rates as mutation_rates_from_knowledge
from trkres.models.evolution.lab import rates_from_results
from trkres.models.evolution.options import EvolutionOptions
from trkres.models.evolution.run import EvolutionResult, ScenarioInput, run_evolution
from trkres.models.evolution.scenario import Scenario, read_scenario
from trkres.options import validate_options

__all__ = [
    "expected_resistant_cells",
    "mutation_rates_from_knowledge",
    "p_cure_dual",
    "p_cure_single_drug",
    "p_resistance_at_detection",
    "rates_from_growth",
    "rates_from_results",
    "read_scenario",
    "simulate",
]


def simulate(scenario: ScenarioInput, **options: Any) -> EvolutionResult:
    """Simulate virtual patients of ``scenario`` (a YAML path, a mapping with the keys of
    the scenario file, or a :class:`Scenario`) on each of its regimens.

    Keyword options are :class:`EvolutionOptions`' (``patients``, ``seed``, ``method``,
    ``engine``, ``regimens``, ``threads``, ``block_size``). Returns an
    :class:`EvolutionResult` (tables ``summary``, ``patients``, ``composition``, ``km``).
    """
    if not isinstance(scenario, (Scenario, dict, str)) and not hasattr(scenario, "__fspath__"):
        from collections.abc import Mapping

        if not isinstance(scenario, Mapping):
            raise InputError("not a scenario", expected="a YAML path, a mapping or a Scenario",
                             found=type(scenario).__name__)  # fmt: skip
    opts = validate_options(EvolutionOptions, options)
    return run_evolution(scenario, opts)


def rates_from_growth(
    slope: float, *, birth: float | None = None, death: float | None = None
) -> dict[str, float]:
    """Birth and death rates (per cell per day) from a net growth rate ``slope`` (per day,
    e.g. the slope of log volume of an in vivo arm: ``tr.invivo.fit_growth``): give the
    birth rate (death = birth − slope) or the death rate (birth = death + slope).
    A volume slope sets only birth − death; the turnover must come from elsewhere
    (e.g. a doubling time without death, Bozic 2013: 7 days → birth 0.14)."""
    for name, value in (("slope", slope), ("birth", birth), ("death", death)):
        if (value is not None or name == "slope") and (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            raise InputError(f"bad argument {name}", expected="a finite number (per day)",
                             found=repr(value))  # fmt: skip
    if (birth is None) == (death is None):
        raise InputError("give birth or death, not both or neither",
                         expected="rates_from_growth(slope, birth=0.14) or (slope, death=0.13)",
                         found=f"birth={birth!r}, death={death!r}")  # fmt: skip
    if birth is not None:
        b, d = float(birth), float(birth) - float(slope)
    else:
        assert death is not None
        b, d = float(death) + float(slope), float(death)
    if b <= 0 or d < 0:
        raise InputError("rates out of range", expected="birth > 0 and death >= 0 per day",
                         found=f"birth {b:g}, death {d:g}")  # fmt: skip
    return {"birth": b, "death": d}
