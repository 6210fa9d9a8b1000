"""A reaction network written once and used everywhere: simulation, SBML export, docs.

A :class:`Network` is species (with initial amounts), parameters (with units and where
their value comes from) and reactions (reactants → products at a rate given as an
infix formula over species and parameter names). Formulas use Python syntax restricted
to numbers, names, ``+ - * / **``, unary minus and the functions in :data:`FUNCTIONS`;
they are parsed with :mod:`ast`, never evaluated as code. The same formulas become the
compiled right-hand side (:mod:`trkres.models.signalling.compile`) and the SBML kinetic
laws (:mod:`trkres.models.signalling.sbml`), so the two cannot drift apart.

Observables are named formulas over the species (``pERK = ppERK + ppERK_DUSP``): the
readouts a western or a viability assay measures.

Amounts are concentrations in µM unless a species says otherwise; time is in hours.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from trkres.errors import InputError

__all__ = [
    "FUNCTIONS",
    "Network",
    "Parameter",
    "Reaction",
    "Species",
    "formula_names",
    "numpy_function",
]

#: Functions a rate formula may call: name → (number of arguments, numpy implementation).
FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "exp": (1, np.exp),
    "log": (1, np.log),
    "sqrt": (1, np.sqrt),
    "pow": (2, np.power),
}

_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


@dataclass(frozen=True)
class Species:
    """A molecular species: its name, initial amount (µM unless ``unit`` says) and meaning."""

    name: str
    initial: float
    description: str = ""
    unit: str = "µM"


@dataclass(frozen=True)
class Parameter:
    """A constant of the model.

    ``source`` says where the value comes from: a knowledge-base fact id (``fact:<id>``),
    a citation (``PMID …`` / ``doi:…``) or ``assumption`` (chosen to reproduce the
    qualitative pharmacology; stated as such in the docs and outputs).
    """

    name: str
    value: float
    unit: str
    description: str = ""
    source: str = "assumption"


@dataclass(frozen=True)
class Reaction:
    """``reactants → products`` at ``rate`` (µM/h), an infix formula over names."""

    name: str
    reactants: tuple[str, ...]
    products: tuple[str, ...]
    rate: str
    description: str = ""


def _tree(formula: str, where: str) -> ast.expr:
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError as exc:
        raise InputError(
            f"{where}: the formula does not parse",
            expected="an infix formula such as 'k1 * A * B / (Km + A)'",
            found=formula,
        ) from exc
    return tree.body


def formula_names(formula: str, where: str = "formula") -> set[str]:
    """The names a formula uses (functions excluded); refuses anything but arithmetic."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            if isinstance(node.value, bool):
                raise InputError(f"{where}: booleans are not numbers", expected="a number",
                                 found=formula)  # fmt: skip
            return
        if isinstance(node, ast.Name):
            names.add(node.id)
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, _BINARY):
            visit(node.left)
            visit(node.right)
            return
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            visit(node.operand)
            return
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and not node.keywords
        ):
            arity = FUNCTIONS[node.func.id][0]
            if len(node.args) != arity:
                raise InputError(
                    f"{where}: {node.func.id}() takes {arity} argument(s)",
                    expected=f"{arity}", found=str(len(node.args)),
                )  # fmt: skip
            for arg in node.args:
                visit(arg)
            return
        raise InputError(
            f"{where}: only numbers, names, + - * / ** and {', '.join(FUNCTIONS)}() are allowed",
            expected="an arithmetic formula",
            found=formula,
        )

    visit(_tree(formula, where))
    return names


def numpy_function(formula: str, names: Iterable[str]) -> Callable[..., Any]:
    """A function of ``names`` (in order) computing ``formula`` with numpy (reference path)."""
    args = list(names)
    formula_names(formula)
    code = compile(ast.Expression(_tree(formula, "formula")), "<formula>", "eval")
    env: dict[str, Any] = {"__builtins__": {}}
    env.update({name: impl for name, (_, impl) in FUNCTIONS.items()})

    def f(*values: Any) -> Any:
        return eval(code, env, dict(zip(args, values, strict=True)))  # the AST was checked above

    return f


@dataclass(frozen=True)
class Network:
    """Species, parameters, reactions and observables, checked for consistency on creation."""

    name: str
    species: tuple[Species, ...]
    parameters: tuple[Parameter, ...]
    reactions: tuple[Reaction, ...]
    observables: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for kind, items in (("species", self.species), ("parameter", self.parameters)):
            for item in items:
                if not item.name.isidentifier() or item.name in FUNCTIONS:
                    raise InputError(f"bad {kind} name", expected="an identifier",
                                     found=item.name)  # fmt: skip
                if item.name in seen:
                    raise InputError(f"{kind} {item.name!r} is defined twice",
                                     expected="unique names", found=item.name)  # fmt: skip
                seen.add(item.name)
                value = item.initial if isinstance(item, Species) else item.value
                if not math.isfinite(value) or value < 0:
                    raise InputError(f"{kind} {item.name!r}: bad value",
                                     expected="a finite number ≥ 0", found=str(value))  # fmt: skip
        species = set(self.species_names)
        for reaction in self.reactions:
            unknown = formula_names(reaction.rate, f"reaction {reaction.name}") - seen
            unknown |= set(reaction.reactants + reaction.products) - species
            if unknown:
                raise InputError(
                    f"reaction {reaction.name!r} uses unknown name(s)",
                    expected="species or parameters of the network",
                    found=", ".join(sorted(unknown)),
                )
        for name, formula in self.observables.items():
            unknown = formula_names(formula, f"observable {name}") - seen
            if unknown:
                raise InputError(f"observable {name!r} uses unknown name(s)",
                                 expected="species or parameters",
                                 found=", ".join(sorted(unknown)))  # fmt: skip

    @property
    def species_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.species)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    def initial_state(self) -> np.ndarray:
        """Initial amounts in species order (µM)."""
        return np.array([s.initial for s in self.species], dtype=float)

    def parameter_values(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """Parameter values in order, with ``overrides`` by name (unknown names refused)."""
        values = {p.name: p.value for p in self.parameters}
        for name, value in (overrides or {}).items():
            if name not in values:
                raise InputError("unknown parameter", expected=", ".join(values), found=name)
            values[name] = float(value)
        return np.array([values[p.name] for p in self.parameters], dtype=float)

    def stoichiometry(self) -> np.ndarray:
        """The stoichiometric matrix, species × reactions (net change per reaction event)."""
        index = {name: i for i, name in enumerate(self.species_names)}
        matrix = np.zeros((len(self.species), len(self.reactions)))
        for j, reaction in enumerate(self.reactions):
            for name in reaction.reactants:
                matrix[index[name], j] -= 1
            for name in reaction.products:
                matrix[index[name], j] += 1
        return matrix

    def with_parameters(self, **values: float) -> Network:
        """A copy with parameter values replaced by name."""
        known = {p.name for p in self.parameters}
        unknown = set(values) - known
        if unknown:
            raise InputError("unknown parameter", expected=", ".join(sorted(known)),
                             found=", ".join(sorted(unknown)))  # fmt: skip
        params = tuple(
            replace(p, value=float(values[p.name])) if p.name in values else p
            for p in self.parameters
        )
        return replace(self, parameters=params)

    def reference_rhs(self) -> Callable[[float, np.ndarray, np.ndarray], np.ndarray]:
        """``f(t, y, p) -> dy/dt`` with numpy: slow, simple, the reference for the compiled one.

        ``y`` may be (n_species,) or (n_species, k) for k states at once.
        """
        names = self.species_names + self.parameter_names
        rates = [numpy_function(r.rate, names) for r in self.reactions]
        stoich = self.stoichiometry()
        n_species = len(self.species)

        def rhs(t: float, y: np.ndarray, p: np.ndarray) -> np.ndarray:
            y = np.asarray(y, dtype=float)
            values = [y[i] for i in range(n_species)]
            values += [np.broadcast_to(v, y.shape[1:]) if y.ndim > 1 else v for v in p]
            v = np.array([np.broadcast_to(rate(*values), y.shape[1:]) for rate in rates])
            out: np.ndarray = stoich @ v
            return out

        return rhs

    def observe(self, y: np.ndarray, p: np.ndarray) -> dict[str, np.ndarray]:
        """Observables of states ``y`` (n_species, …) with parameters ``p``."""
        names = self.species_names + self.parameter_names
        y = np.asarray(y, dtype=float)
        values = [y[i] for i in range(len(self.species))] + list(p)
        return {
            name: np.broadcast_to(numpy_function(formula, names)(*values), y.shape[1:]).copy()
            for name, formula in self.observables.items()
        }
