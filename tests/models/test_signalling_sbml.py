"""SBML export: valid L3V2, and the same dynamics when an independent simulator runs it.

With libroadrunner installed the exported SBML is simulated live; either way trkres'
integrator is compared with golden trajectories roadrunner produced from the export
(``tools/golden/signalling_roadrunner.py`` → ``tests/data/signalling/``).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

from trkres.errors import TrkresError
from trkres.models.signalling.compile import compile_network
from trkres.models.signalling.integrate import simulate
from trkres.models.signalling.network import Network
from trkres.models.signalling.reference_models import (
    HUANG_FERRELL_DOI,
    KHOLODENKO_DOI,
    huang_ferrell,
    kholodenko,
)

from .test_signalling_engine import grammar_network

DATA = Path(__file__).resolve().parents[1] / "data" / "signalling"


def golden(name: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    path = DATA / f"{name}_roadrunner.tsv"
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    columns = lines[0].split("\t")
    values = np.array([[float(v) for v in ln.split("\t")] for ln in lines[1:]])
    return values[:, 0], columns[1:], values[:, 1:]


def networks() -> dict[str, Network]:
    return {"kholodenko_2000": kholodenko(), "huang_ferrell_1996": huang_ferrell(2e-5)}


def max_relative_error(ours: np.ndarray, ref: np.ndarray) -> float:
    floor = 1e-9 * max(float(np.abs(ref).max()), 1.0)  # µM: below this both are "zero"
    return float(np.max(np.abs(ours - ref) / (np.abs(ref) + floor)))


@pytest.mark.parametrize("name", ["kholodenko_2000", "huang_ferrell_1996"])
def test_integrator_matches_roadrunner_goldens(name: str) -> None:
    times, species, ref = golden(name)
    net = networks()[name]
    assert species == list(net.species_names)
    res = simulate(compile_network(net), net.initial_state(), net.parameter_values(), times,
                   rtol=1e-11, atol=1e-16)  # fmt: skip
    assert res.status.tolist() == [0]
    assert max_relative_error(res.y[0], ref) <= 1e-6


@pytest.mark.parametrize("factory", [kholodenko, huang_ferrell, grammar_network])
def test_export_is_valid_sbml(factory) -> None:  # type: ignore[no-untyped-def]
    libsbml = pytest.importorskip("libsbml")
    from trkres.models.signalling.sbml import to_sbml

    net = factory()
    doc = libsbml.readSBMLFromString(to_sbml(net))
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    doc.checkConsistency()
    problems = [doc.getError(i) for i in range(doc.getNumErrors())]
    assert not [e for e in problems if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    # what remains are unit warnings (numbers in rate laws and the observables carry no
    # units) and the matching modelling-practice advice
    allowed = {libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, libsbml.LIBSBML_CAT_MODELING_PRACTICE}
    assert {e.getCategory() for e in problems} <= allowed
    model = doc.getModel()
    assert model.getNumSpecies() == len(net.species)
    assert model.getNumReactions() == len(net.reactions)
    assert model.getNumParameters() == len(net.parameters) + len(net.observables)
    for q in net.parameters:
        par = model.getParameter(q.name)
        assert par.getValue() == pytest.approx(q.value, rel=1e-14)  # libsbml writes 15 digits
        assert q.source in par.getNotesString()
    if factory is kholodenko:
        assert KHOLODENKO_DOI in model.getParameter("V1").getNotesString()
        assert model.getParameter("V1").getUnits() == "micromolar_per_hour"
        # the feedback inhibitor appears as a modifier of the first reaction
        assert model.getReaction("J1").getModifier(0).getSpecies() == "MAPK_PP"
    if factory is huang_ferrell:
        assert HUANG_FERRELL_DOI in model.getParameter("a1").getNotesString()
    assert model.getTimeUnits() == "hour"


def roadrunner_run(net: Network, times: np.ndarray) -> np.ndarray:
    roadrunner = pytest.importorskip("roadrunner")
    from trkres.models.signalling.sbml import to_sbml

    rr = roadrunner.RoadRunner(to_sbml(net))
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-16
    rr.integrator.setValue("maximum_num_steps", 1_000_000)
    cols = ["time"] + [f"[{s}]" for s in net.species_names]
    result: np.ndarray = np.asarray(rr.simulate(times=times, selections=cols))[:, 1:]
    return result


@pytest.mark.parametrize("name", ["kholodenko_2000", "huang_ferrell_1996"])
def test_roadrunner_live(name: str) -> None:
    times, _, _ = golden(name)
    net = networks()[name]
    ref = roadrunner_run(net, times)
    res = simulate(compile_network(net), net.initial_state(), net.parameter_values(), times,
                   rtol=1e-11, atol=1e-16)  # fmt: skip
    assert max_relative_error(res.y[0], ref) <= 1e-6


def test_roadrunner_reads_every_formula_construct() -> None:
    """exp, log (SBML ln), sqrt, pow, ** with a variable exponent, unary minus."""
    net = grammar_network()
    times = np.linspace(0.0, 2.0, 9)
    ref = roadrunner_run(net, times)
    res = simulate(compile_network(net), net.initial_state(), net.parameter_values(), times,
                   rtol=1e-11, atol=1e-16)  # fmt: skip
    assert max_relative_error(res.y[0], ref) <= 1e-6
    roadrunner = importlib.import_module("roadrunner")
    from trkres.models.signalling.sbml import to_sbml

    rr = roadrunner.RoadRunner(to_sbml(net))
    rr.simulate(0, 2.0, 9)
    assert rr["obs_total"] == pytest.approx(sum(rr[f"[{s}]"] for s in "ABC"), rel=1e-12)


def test_write_sbml_is_atomic_and_readable(tmp_path: Path) -> None:
    pytest.importorskip("libsbml")
    from trkres.models.signalling.sbml import to_sbml, write_sbml

    path = write_sbml(kholodenko(), tmp_path / "out" / "kholodenko.xml")
    assert path.read_text(encoding="utf-8") == to_sbml(kholodenko())
    assert [p.name for p in path.parent.iterdir()] == ["kholodenko.xml"]


def test_missing_libsbml_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from trkres.models.signalling import sbml

    real = importlib.import_module

    def fake(name: str, *args: object) -> object:
        if name == "libsbml":
            raise ImportError("No module named 'libsbml'")
        return real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sbml.importlib, "import_module", fake)
    with pytest.raises(TrkresError, match="python-libsbml") as info:
        sbml.to_sbml(kholodenko())
    assert "pip install" in (info.value.hint or "")
