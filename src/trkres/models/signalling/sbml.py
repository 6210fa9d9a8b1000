"""Export a signalling :class:`Network` as SBML Level 3 Version 2 (python-libsbml).

The kinetic laws come from the same formulas the simulator compiles: each rate formula
is parsed into the expression tree of :mod:`.compile` and written in SBML's infix
syntax (``a ^ b`` for ``a ** b``, ``ln`` for the natural ``log``), then parsed by
``libsbml.parseL3FormulaWithModel`` (the model's ids take precedence over SBML's
built-in names). Species are concentrations (µM) in one compartment ``cell`` of 1 L;
each kinetic law is ``cell * (rate)``, i.e. the amount flux, so a tool that divides by
the volume gets back the network's concentration rate (µM/h) for any volume.

Units: the model's time unit is the hour (``hour`` = 3600 s), substance the µmol,
concentrations µM; parameter units recognised from the :class:`Parameter` unit string
(``1/h``, ``µM``, ``µM/h``, ``1/(µM·h)``, ``1``, ``h``, …) get unit definitions, others are
left undeclared (and stated in the parameter's notes). Each parameter's ``source``
(knowledge-base fact, citation or ``assumption``) and description go in its notes.
Observables become parameters ``obs_<name>`` set by assignment rules.

libsbml is optional (``pip install python-libsbml``); it is imported only when these
functions run, with a clear :class:`~trkres.errors.TrkresError` if it is missing.
"""

from __future__ import annotations

import html
import importlib
import re
from pathlib import Path
from typing import Any

from trkres.errors import ComputationError, TrkresError
from trkres.models.signalling.compile import Expr, parse_formula
from trkres.models.signalling.network import Network, formula_names

__all__ = ["to_sbml", "write_sbml"]

_SID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# unit string (spaces removed) → (unit definition id, [(kind, exponent, scale, multiplier)])
_UNITS: dict[str, tuple[str, list[tuple[str, float, int, float]]]] = {
    "1": ("dimensionless", []),
    "h": ("hour", [("second", 1, 0, 3600.0)]),
    "1/h": ("per_hour", [("second", -1, 0, 3600.0)]),
    "µM": ("micromolar", [("mole", 1, -6, 1.0), ("litre", -1, 0, 1.0)]),
    "nM": ("nanomolar", [("mole", 1, -9, 1.0), ("litre", -1, 0, 1.0)]),
    "µM/h": (
        "micromolar_per_hour",
        [("mole", 1, -6, 1.0), ("litre", -1, 0, 1.0), ("second", -1, 0, 3600.0)],
    ),
    "1/(µM·h)": (
        "per_micromolar_per_hour",
        [("mole", -1, -6, 1.0), ("litre", 1, 0, 1.0), ("second", -1, 0, 3600.0)],
    ),
    "1/(µM*h)": (
        "per_micromolar_per_hour",
        [("mole", -1, -6, 1.0), ("litre", 1, 0, 1.0), ("second", -1, 0, 3600.0)],
    ),
}


def _libsbml() -> Any:
    try:
        return importlib.import_module("libsbml")
    except ImportError as exc:
        raise TrkresError(
            "SBML export needs python-libsbml, which is not installed",
            expected="the python-libsbml package",
            found="no module named libsbml",
            hint="pip install python-libsbml   (or: pip install 'trkres[sbml]')",
        ) from exc


def _number(value: float) -> str:
    text = repr(float(value))
    return f"({text})" if value < 0 else text


def sbml_formula(e: Expr) -> str:
    """SBML L3 infix text of an expression tree (``^``, ``ln``; fully bracketed)."""
    kind = e[0]
    if kind == "num":
        return _number(e[1])
    if kind == "var":
        return str(e[1])
    if kind == "neg":
        return f"(-{sbml_formula(e[1])})"
    if kind == "call":
        fname = {"log": "ln"}.get(e[1], e[1])
        return f"{fname}({', '.join(sbml_formula(a) for a in e[2])})"
    symbol = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}[kind]
    return f"({sbml_formula(e[1])} {symbol} {sbml_formula(e[2])})"


def _notes(lines: list[str]) -> str:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    return f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'


def _check(code: int, what: str) -> None:
    if code != 0:  # LIBSBML_OPERATION_SUCCESS
        raise ComputationError(f"SBML export: libsbml refused {what}", found=f"code {code}")


def _sid(text: str, prefix: str) -> str:
    sid = re.sub(r"[^A-Za-z0-9_]", "_", text)
    if not _SID.match(sid):
        sid = f"{prefix}_{sid}"
    return sid


def to_sbml(net: Network) -> str:
    """The network as an SBML L3V2 document (text); refuses to return an invalid one."""
    libsbml = _libsbml()
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    _check(model.setId(_sid(net.name, "model")), "the model id")
    model.setName(net.name)
    if net.description:
        model.setNotes(_notes([net.description]))

    used_units: dict[str, str] = {}

    def unit_id(unit: str) -> str | None:
        key = unit.replace(" ", "")
        if key not in _UNITS:
            return None
        uid, parts = _UNITS[key]
        if uid == "dimensionless":
            return uid
        if uid not in used_units.values():
            ud = model.createUnitDefinition()
            _check(ud.setId(uid), f"unit {uid}")
            for kind, exponent, scale, multiplier in parts:
                u = ud.createUnit()
                u.setKind(libsbml.UnitKind_forName(kind))
                u.setExponent(float(exponent))
                u.setScale(int(scale))
                u.setMultiplier(float(multiplier))
        used_units[key] = uid
        return uid

    hour = unit_id("h")
    ud = model.createUnitDefinition()
    ud.setId("micromole")
    u = ud.createUnit()
    u.setKind(libsbml.UNIT_KIND_MOLE)
    u.setExponent(1.0)
    u.setScale(-6)
    u.setMultiplier(1.0)
    model.setTimeUnits(hour)
    model.setSubstanceUnits("micromole")
    model.setExtentUnits("micromole")
    model.setVolumeUnits("litre")

    comp = model.createCompartment()
    comp.setId("cell")
    comp.setSize(1.0)
    comp.setConstant(True)
    comp.setSpatialDimensions(3.0)
    comp.setUnits("litre")

    for s in net.species:
        sp = model.createSpecies()
        _check(sp.setId(s.name), f"species id {s.name!r}")
        if s.description:
            sp.setName(s.description)
        sp.setCompartment("cell")
        sp.setInitialConcentration(float(s.initial))
        sp.setHasOnlySubstanceUnits(False)
        sp.setBoundaryCondition(False)
        sp.setConstant(False)
        sp.setSubstanceUnits("micromole")
        if s.unit.replace(" ", "") != "µM":
            sp.setNotes(_notes([f"unit in trkres: {s.unit} (exported as µM)"]))

    for q in net.parameters:
        par = model.createParameter()
        _check(par.setId(q.name), f"parameter id {q.name!r}")
        par.setValue(float(q.value))
        par.setConstant(True)
        uid = unit_id(q.unit)
        if uid is not None:
            par.setUnits(uid)
        notes = [q.description, f"source: {q.source}", f"unit: {q.unit}"]
        if uid is None:
            notes.append("(unit not declared in SBML: not one of the recognised unit strings)")
        par.setNotes(_notes(notes))

    for name, formula in net.observables.items():
        par = model.createParameter()
        pid = _sid(f"obs_{name}", "obs")
        _check(par.setId(pid), f"observable id {pid!r}")
        par.setName(name)
        par.setConstant(False)
        rule = model.createAssignmentRule()
        rule.setVariable(pid)
        math = libsbml.parseL3FormulaWithModel(
            sbml_formula(parse_formula(formula, f"observable {name}")), model
        )
        if math is None:
            raise ComputationError(
                f"SBML export: observable {name!r} did not parse",
                found=str(libsbml.getLastParseL3Error()),
            )
        rule.setMath(math)

    seen: set[str] = set()
    for j, r in enumerate(net.reactions):
        rid = _sid(r.name, "r")
        if rid in seen or rid in net.species_names or rid in net.parameter_names:
            rid = f"r{j}_{rid}"
        seen.add(rid)
        reaction = model.createReaction()
        _check(reaction.setId(rid), f"reaction id {rid!r}")
        reaction.setName(r.name)
        reaction.setReversible(False)
        if r.description:
            reaction.setNotes(_notes([r.description]))
        for names, create in ((r.reactants, reaction.createReactant),
                              (r.products, reaction.createProduct)):  # fmt: skip
            for species in dict.fromkeys(names):
                ref = create()
                ref.setSpecies(species)
                ref.setStoichiometry(float(names.count(species)))
                ref.setConstant(True)
        species_in_rate = formula_names(r.rate) & set(net.species_names)
        for species in sorted(species_in_rate - set(r.reactants) - set(r.products)):
            modifier = reaction.createModifier()  # enzymes, inhibitors: in the rate only
            modifier.setSpecies(species)
        law = reaction.createKineticLaw()
        text = f"cell * {sbml_formula(parse_formula(r.rate, f'reaction {r.name}'))}"
        math = libsbml.parseL3FormulaWithModel(text, model)
        if math is None:
            raise ComputationError(
                f"SBML export: the rate of reaction {r.name!r} did not parse",
                found=f"{text}: {libsbml.getLastParseL3Error()}",
            )
        law.setMath(math)

    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.checkInternalConsistency()
    doc.checkConsistency()
    errors = [
        doc.getError(i)
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if errors:
        raise ComputationError(
            "SBML export produced an invalid document",
            found="; ".join(e.getMessage().strip() for e in errors[:5]),
        )
    text_out: str = libsbml.writeSBMLToString(doc)
    return text_out


def write_sbml(net: Network, path: Path | str) -> Path:
    """Write :func:`to_sbml` to ``path`` atomically (a reader never sees half a file)."""
    from trkres.outputs import atomic_write_text

    target = Path(path)
    atomic_write_text(target, to_sbml(net))
    return target
