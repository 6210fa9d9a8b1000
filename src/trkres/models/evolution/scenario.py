"""Evolution scenarios: the YAML contract of issue 19, validated with line and column.

A scenario names cell types (which drugs each resists, an optional own birth rate),
mutations between them (probability per division that one daughter is the other
type) and regimens (steps of drugs; every step but the last ``until: progression``).
:func:`read_scenario` reads a file; :func:`scenario_from` also takes a mapping or a
:class:`Scenario`. Shape errors come from pydantic, meaning errors (a mutation to a
type that does not exist, sizes out of order, a last step with ``until``) from
:func:`check_scenario`; both are :class:`~trkres.errors.InputError` with the file,
line and column when the scenario came from a file.

Units: sizes in cells, rates per cell per day (birth, death) or per division
(mutations), the horizon in days after treatment starts.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from trkres.errors import InputError, Location
from trkres.yamlio import YamlDocument, read_yaml, validation_error

__all__ = [
    "Compiled",
    "Mutation",
    "Scenario",
    "Step",
    "TypeSpec",
    "check_scenario",
    "compile_scenario",
    "read_scenario",
    "scenario_from",
]

SENSITIVE = "sensitive"

#: Longest follow-up (days, ~2,700 years). The hybrid engine finds progression times by
#: Newton's method from the end of the interval: from a horizon of 1e15 days on, rounding
#: (~1e-16 × the horizon) moved the times to progression (at 1e30 the median by 10%).
MAX_HORIZON = 1e6

#: Highest birth or death rate (per cell per day: a cell's life of ~9 seconds). Far above
#: any tumour's, and below where the exact engine's running total of rates (updated by
#: adding and subtracting b + d at each event) loses the slow cells to rounding: at a
#: death_on_drug of 1e13 per day P(cure) rose from 0.38 to 0.97, at 1e18 it divided by zero.
MAX_RATE = 1e4

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.+\-]*$"
#: Numbers YAML 1.1 leaves as text (1.0e9: PyYAML needs a sign in the exponent).
_YAML_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _number(value: Any, info: ValidationInfo) -> Any:
    """YAML's true/false (and text that is no number) are not numbers here: pydantic would
    take true as 1. Text like 1.0e9 stays allowed (PyYAML reads it as text)."""
    if isinstance(value, bool) or (
        isinstance(value, str) and not _YAML_NUMBER.match(value.strip())
    ):
        raise ValueError(f"{info.field_name} must be a number, found {value!r}")
    return value


class TypeSpec(_Strict):
    """A cell type: the drugs it resists and, optionally, its own birth rate (per day)."""

    resists: list[str] = Field(default_factory=list, description="drugs this type resists")
    birth: float | None = Field(
        None,
        ge=0,
        le=MAX_RATE,
        description="birth rate of this type, per cell per day (fitness cost; at most 1e4)",
    )

    _numbers = field_validator("birth", mode="before")(_number)

    @field_validator("birth")
    @classmethod
    def _birth(cls, value: float | None) -> float | None:
        return None if value is None else _finite(value, "birth")


class Mutation(_Strict):
    """At a division of a ``from`` cell, one daughter is ``to`` with probability ``rate``."""

    source: str = Field(alias="from", description="type that divides")
    target: str = Field(alias="to", description="type of the mutant daughter")
    rate: float = Field(ge=0, le=1, description="probability per division (0–1)")

    _numbers = field_validator("rate", mode="before")(_number)


class Step(_Strict):
    """One step of a regimen: drugs given together, until progression (or to the end)."""

    drugs: list[str] = Field(description="drugs given in this step (may be empty: untreated)")
    until: Literal["progression"] | None = Field(
        None, description="'progression' moves to the next step; the last step has none"
    )


class Scenario(_Strict):
    """A scenario of issue 19 (see docs/evolution.md for every key and convention)."""

    name: str = Field(min_length=1)
    description: str | None = None
    initial_cells: int = Field(1, ge=1, le=10**6, description="sensitive cells at the start")
    detection_size: float = Field(
        gt=0, le=1e15, description="treatment starts at this total (cells; at most 1e15)"
    )
    progression_size: float = Field(
        gt=0, le=1e15, description="progression threshold (cells; at most 1e15)"
    )
    horizon: float = Field(
        gt=0,
        le=MAX_HORIZON,
        description="days of follow-up after treatment starts (at most 1e6 days: beyond, the "
        "hybrid engine's root finding loses the precision of a day)",
    )
    birth: float = Field(
        gt=0, le=MAX_RATE, description="birth rate, per cell per day (at most 1e4)"
    )
    death: float = Field(
        ge=0, le=MAX_RATE, description="death rate untreated, per cell per day (at most 1e4)"
    )
    death_on_drug: float = Field(
        ge=0,
        le=MAX_RATE,
        description="death rate of a cell exposed to a drug it does not resist, per day "
        "(at most 1e4)",
    )
    types: dict[str, TypeSpec] = Field(min_length=1)
    mutations: list[Mutation] = Field(default_factory=list)
    regimens: dict[str, list[Step]] = Field(min_length=1)

    _numbers = field_validator(
        "initial_cells",
        "detection_size",
        "progression_size",
        "horizon",
        "birth",
        "death",
        "death_on_drug",
        mode="before",
    )(_number)

    @field_validator("detection_size", "progression_size", "horizon", "birth", "death",
                     "death_on_drug")  # fmt: skip
    @classmethod
    def _finite_number(cls, value: float) -> float:
        return _finite(value, "the value")

    @field_validator("types", "regimens")
    @classmethod
    def _names(cls, value: dict[str, Any]) -> dict[str, Any]:
        import re

        for name in value:
            if not re.match(_NAME, str(name)):
                raise ValueError(f"names of letters, digits and _ . + - (found {str(name)[:40]!r})")
        return value

    def type_birth(self, name: str) -> float:
        """Birth rate of type ``name`` (per cell per day)."""
        own = self.types[name].birth
        return self.birth if own is None else own

    @property
    def drugs(self) -> list[str]:
        """Every drug given in some regimen, in order of appearance."""
        seen: dict[str, None] = {}
        for steps in self.regimens.values():
            for step in steps:
                for drug in step.drugs:
                    seen.setdefault(drug, None)
        return list(seen)


def _fail(doc: YamlDocument | None, loc: Sequence[str | int], message: str, expected: str,
          found: str | None = None) -> InputError:  # fmt: skip
    location = doc.locate(loc) if doc is not None else None
    if location is None and loc:
        message = f"{'.'.join(str(p) for p in loc)}: {message}"
    return InputError(message, location=location, expected=expected, found=found)


def _frozen_type(scenario: Scenario) -> tuple[str, str] | None:
    """A type with birth 0 whose death rate is 0 before treatment or in some step (its cells
    would be immortal and inert: the exact engine divided by a total rate of 0, the hybrid
    engine counted a tumour of such cells as cured), and when."""
    for name in scenario.types:
        if scenario.type_birth(name) > 0:
            continue
        if scenario.death == 0:
            return name, "before treatment"
        for regimen, steps in scenario.regimens.items():
            for i, step in enumerate(steps):
                exposed = any(d not in scenario.types[name].resists for d in step.drugs)
                if (scenario.death_on_drug if exposed else scenario.death) == 0:
                    return name, f"in step {i + 1} of regimen {regimen!r}"
    return None


def check_scenario(scenario: Scenario, doc: YamlDocument | None = None) -> list[str]:
    """Refuse a scenario whose meaning is wrong; return notes on what is allowed but odd.

    Refused (``InputError``, located in the file when ``doc`` is given): no type
    ``sensitive``; a mutation from or to an unknown type, to itself, or twice; mutation
    rates of one type summing above 1; sizes not ``progression_size > detection_size >
    initial_cells``; a sensitive type that does not grow untreated; a type that neither
    divides nor dies (birth 0, death 0 per day) before treatment or in a step; a regimen
    without steps; a step other than the last without ``until: progression``, or the last with it.
    Noted (returned): drugs no type resists, drugs resisted but never given, a
    ``death_on_drug`` below ``death`` (drugs that protect the cells they hit).
    """
    names = list(scenario.types)
    if SENSITIVE not in scenario.types:
        raise _fail(doc, ("types",), "no type named 'sensitive'",
                    "a type 'sensitive' (the tumour starts from it)", ", ".join(names))  # fmt: skip
    if not scenario.detection_size > scenario.initial_cells:
        raise _fail(doc, ("detection_size",), "detection_size must exceed initial_cells",
                    f"more than {scenario.initial_cells} cells", f"{scenario.detection_size:g}")  # fmt: skip
    if not scenario.progression_size > scenario.detection_size:
        raise _fail(doc, ("progression_size",), "progression_size must exceed detection_size",
                    f"more than {scenario.detection_size:g} cells",
                    f"{scenario.progression_size:g}")  # fmt: skip
    b0 = scenario.type_birth(SENSITIVE)
    if not b0 > scenario.death:
        loc: tuple[str, ...] = ("types", SENSITIVE, "birth") if scenario.types[
            SENSITIVE].birth is not None else ("birth",)  # fmt: skip
        raise _fail(doc, loc, "the sensitive type does not grow before treatment",
                    f"its birth rate above death ({scenario.death:g} per day)", f"{b0:g}")  # fmt: skip
    out_of_sensitive = sum(m.rate for m in scenario.mutations if m.source == SENSITIVE)
    if out_of_sensitive <= 1 and not b0 * (1 - out_of_sensitive) > scenario.death:
        raise _fail(doc, ("mutations",), "the sensitive bulk does not grow before treatment",
                    f"birth × (1 − mutation rates out of sensitive) above death "
                    f"({scenario.death:g} per day): every division that makes a mutant takes a "
                    "sensitive cell away",
                    f"{b0:g} × (1 − {out_of_sensitive:g}) = {b0 * (1 - out_of_sensitive):g}")  # fmt: skip
    frozen = _frozen_type(scenario)
    if frozen is not None:
        name, when = frozen
        raise _fail(doc, ("types", name), f"cells of type {name!r} neither divide nor die {when}",
                    "a type that divides (birth > 0) or dies (death > 0 per day) in every "
                    "phase: cells with neither never change, and no engine can follow them",
                    f"birth 0, death 0 per day {when}")  # fmt: skip
    seen: dict[tuple[str, str], int] = {}
    totals: dict[str, float] = {}
    for i, mut in enumerate(scenario.mutations):
        for key, value in (("from", mut.source), ("to", mut.target)):
            if value not in scenario.types:
                raise _fail(doc, ("mutations", i, key), f"unknown type {value!r}",
                            "one of the types: " + ", ".join(names), value)  # fmt: skip
        if mut.source == mut.target:
            raise _fail(doc, ("mutations", i, "to"), "a mutation to the same type",
                        "a different type than 'from'", mut.target)  # fmt: skip
        pair = (mut.source, mut.target)
        if pair in seen:
            raise _fail(doc, ("mutations", i), "the same mutation twice",
                        "each from/to pair once (add the rates)",
                        f"{mut.source} -> {mut.target} again (first: mutation {seen[pair] + 1})")  # fmt: skip
        seen[pair] = i
        totals[mut.source] = totals.get(mut.source, 0.0) + mut.rate
        if totals[mut.source] > 1.0:
            raise _fail(doc, ("mutations", i, "rate"), f"mutation rates from {mut.source} sum above 1",
                        "at most one mutant per division: rates from a type sum to <= 1",
                        f"{totals[mut.source]:g}")  # fmt: skip
    for name, steps in scenario.regimens.items():
        if not steps:
            raise _fail(doc, ("regimens", name), "a regimen without steps",
                        "a list of steps, e.g. [{drugs: [A, B]}]", "[]")  # fmt: skip
        for i, step in enumerate(steps):
            last = i == len(steps) - 1
            if last and step.until is not None:
                raise _fail(doc, ("regimens", name, i, "until"), "the last step has 'until'",
                            "no 'until' on the last step (it runs to the horizon)",
                            str(step.until))  # fmt: skip
            if not last and step.until is None:
                raise _fail(doc, ("regimens", name, i), "a step before the last without 'until'",
                            "until: progression (the next step starts at progression)", "none")  # fmt: skip
    notes = []
    resisted = {d for spec in scenario.types.values() for d in spec.resists}
    given = set(scenario.drugs)
    never_resisted = [d for d in scenario.drugs if d not in resisted]
    if never_resisted:
        notes.append("no type resists " + ", ".join(never_resisted)
                     + ": every type dies at death_on_drug when it is given")  # fmt: skip
    if scenario.death_on_drug < scenario.death and scenario.drugs:
        notes.append(f"death_on_drug {scenario.death_on_drug:g} is below death "
                     f"{scenario.death:g} per day: the drugs lower the death rate of the cells "
                     "they hit")  # fmt: skip
    never_given = sorted(resisted - given)
    if never_given:
        notes.append("resisted but given in no regimen: " + ", ".join(never_given))
    return notes


def read_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read and validate a scenario YAML file (errors with line and column)."""
    if not isinstance(path, (str, os.PathLike)):
        raise InputError("not a scenario file", expected="a path to a YAML file",
                         found=type(path).__name__)  # fmt: skip
    scenario, _ = _read(Path(path))
    return scenario


def _read(path: Path) -> tuple[Scenario, list[str]]:
    doc = read_yaml(path, InputError)
    if doc.data is None:
        raise InputError("the scenario file is empty", location=Location(file=path),
                         expected="a YAML mapping: name, detection_size, … (docs/evolution.md)",
                         found="nothing")  # fmt: skip
    if not isinstance(doc.data, dict):
        raise InputError("a scenario must be a mapping", location=Location(file=path),
                         expected="keys name, initial_cells, detection_size, progression_size, "
                         "horizon, birth, death, death_on_drug, types, mutations, regimens",
                         found=type(doc.data).__name__)  # fmt: skip
    try:
        scenario = Scenario.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, InputError, "evolution scenario") from None
    return scenario, check_scenario(scenario, doc)


def scenario_from(
    value: Scenario | Mapping[str, Any] | str | os.PathLike[str],
) -> tuple[Scenario, list[str], str]:
    """A checked scenario, its notes and where it came from, from a path, mapping or model."""
    if isinstance(value, Scenario):
        return value, check_scenario(value), value.name
    if isinstance(value, Mapping):
        try:
            scenario = Scenario.model_validate(dict(value))
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in err["loc"]) or "(scenario)"
            raise InputError(f"invalid evolution scenario: {where}: {err['msg']}",
                             expected="the keys and values of docs/evolution.md",
                             found=repr(err.get("input"))[:200]) from None  # fmt: skip
        return scenario, check_scenario(scenario), scenario.name
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        scenario, notes = _read(path)
        return scenario, notes, path.name
    raise InputError("not a scenario", expected="a YAML path, a mapping or a Scenario",
                     found=type(value).__name__)  # fmt: skip


@dataclass(frozen=True)
class Compiled:
    """A scenario as the kernels' arrays. Type 0 is ``sensitive``; rates per day."""

    types: list[str]
    regimens: list[str]
    birth: np.ndarray  # (T,)
    death: np.ndarray  # (T,) untreated
    u: np.ndarray  # (T, T) probability per division that one daughter of i is j
    step_death: np.ndarray  # (R, S, T) death rate of each type in each step
    n_steps: np.ndarray  # (R,)
    initial: int
    detection: float
    progression: float
    horizon: float
    steps_text: dict[str, list[str]] = field(default_factory=dict)


def compile_scenario(scenario: Scenario, regimens: Sequence[str] | None = None) -> Compiled:
    """The arrays the engines take; ``regimens`` picks a subset (in the given order)."""
    types = [SENSITIVE] + [t for t in scenario.types if t != SENSITIVE]
    index = {t: i for i, t in enumerate(types)}
    names = list(regimens) if regimens else list(scenario.regimens)
    unknown = [r for r in names if r not in scenario.regimens]
    if unknown:
        raise InputError("unknown regimen", expected="one of: " + ", ".join(scenario.regimens),
                         found=", ".join(unknown))  # fmt: skip
    n_types = len(types)
    birth = np.array([scenario.type_birth(t) for t in types], dtype=np.float64)
    death = np.full(n_types, scenario.death, dtype=np.float64)
    u = np.zeros((n_types, n_types))
    for mut in scenario.mutations:
        u[index[mut.source], index[mut.target]] = mut.rate
    max_steps = max(len(scenario.regimens[r]) for r in names)
    step_death = np.zeros((len(names), max_steps, n_types))
    n_steps = np.zeros(len(names), dtype=np.int64)
    text: dict[str, list[str]] = {}
    for r, name in enumerate(names):
        steps = scenario.regimens[name]
        n_steps[r] = len(steps)
        text[name] = []
        for s, step in enumerate(steps):
            text[name].append("+".join(step.drugs) or "untreated")
            for j, t in enumerate(types):
                exposed = any(d not in scenario.types[t].resists for d in step.drugs)
                step_death[r, s, j] = scenario.death_on_drug if exposed else scenario.death
    return Compiled(
        types=types,
        regimens=names,
        birth=birth,
        death=death,
        u=u,
        step_death=step_death,
        n_steps=n_steps,
        initial=int(scenario.initial_cells),
        detection=float(scenario.detection_size),
        progression=float(scenario.progression_size),
        horizon=float(scenario.horizon),
        steps_text=text,
    )
