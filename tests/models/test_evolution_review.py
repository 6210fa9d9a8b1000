"""Defects an adversarial review of the evolution model and the study runner found
(2026-12-07), each pinned: a mutation rate of exactly 1 (the hybrid engine never
returned), closed forms without death, a missing slope, yes/no where a number belongs,
options for an analysis the study does not run."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest

import trkres as tr
from trkres.errors import InputError, TrkresError

BASE = {
    "name": "t", "initial_cells": 1, "detection_size": 1e4, "progression_size": 2e4,
    "horizon": 365, "birth": 0.14, "death": 0.13, "death_on_drug": 0.17,
    "types": {"sensitive": {"resists": []}, "r": {"resists": ["A"]}},
    "mutations": [{"from": "sensitive", "to": "r", "rate": 1e-5}],
    "regimens": {"mono": [{"drugs": ["A"]}]},
}  # fmt: skip


def _scenario(**changes: object) -> dict[str, object]:
    out = copy.deepcopy(BASE)
    out.update(changes)
    return out


@pytest.mark.parametrize("death", [0.13, 0.0])
def test_all_sensitive_divisions_mutating_is_refused(death: float) -> None:
    """Rate 1 out of 'sensitive': the bulk cannot grow; the check skipped a sum of exactly
    1 and the hybrid engine doubled its clone buffer forever (or divided by zero)."""
    scenario = _scenario(death=death, mutations=[{"from": "sensitive", "to": "r", "rate": 1.0}])
    with pytest.raises(TrkresError, match="sensitive bulk does not grow"):
        tr.evolution.simulate(scenario, patients=1, method="hybrid")


def test_closed_form_without_death() -> None:
    got = tr.evolution.p_resistance_at_detection(1e6, 1e-7, 0.14, 0.0)
    assert got == pytest.approx(-math.expm1(-1e6 * 1e-7))  # the limit: every lineage survives
    near = tr.evolution.p_resistance_at_detection(1e6, 1e-7, 0.14, 1e-12)
    assert near == pytest.approx(got, rel=1e-6)


def test_rates_from_growth_needs_a_slope() -> None:
    with pytest.raises(InputError, match="bad argument slope"):
        tr.evolution.rates_from_growth(None, birth=0.14)  # type: ignore[arg-type]


def test_yes_is_not_a_number_of_patients() -> None:
    with pytest.raises(InputError, match="bad option patients"):
        tr.evolution.simulate(_scenario(), patients=True)


def test_options_for_an_analysis_the_study_does_not_run_are_flagged(tmp_path: Path) -> None:
    import yaml

    study = tmp_path / "study"
    study.mkdir()
    (study / "scen.yaml").write_text(yaml.safe_dump(BASE), encoding="utf-8")
    (study / "study.yaml").write_text(
        "name: evo\ninputs:\n  - {kind: evolution_scenario, path: scen.yaml}\n"
        "options:\n  evolution: {patients: 5}\n  dose_response: {reference: parental}\n",
        encoding="utf-8",
    )
    result = tr.study.run(study)
    flags = [f.message for s in result.sections for f in s.flags if f.level == "warning"]
    assert any("'dose_response'" in m and "not used" in m for m in flags)


def test_type_names_with_dots_can_be_varied() -> None:
    """'ntrk1.g595r' is a valid type name; 'types.ntrk1.g595r.birth' and
    'rate.sensitive.ntrk1.g595r' were split at every dot: 'unknown parameter'."""
    from trkres.models.evolution.sensitivity import set_parameter

    data = _scenario(types={"sensitive": {"resists": []}, "ntrk1.g595r": {"resists": ["A"]}},
                     mutations=[{"from": "sensitive", "to": "ntrk1.g595r", "rate": 1e-5}])  # fmt: skip
    out = set_parameter(data, "types.ntrk1.g595r.birth", 0.2)
    assert out["types"]["ntrk1.g595r"]["birth"] == 0.2
    out = set_parameter(data, "rate.sensitive.ntrk1.g595r", 2e-5)
    assert out["mutations"][0]["rate"] == 2e-5
    with pytest.raises(InputError, match="unknown parameter"):
        set_parameter(data, "rate.sensitive.ntrk1", 2e-5)
