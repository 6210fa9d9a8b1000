"""Compile a :class:`~trkres.models.signalling.network.Network` to numba machine code.

The rate formulas are parsed once (:mod:`ast`, the grammar :mod:`.network` allows:
numbers, names, ``+ - * / **``, unary minus, ``exp log sqrt pow``) into a small
expression tree. From it this module writes Python source for

* ``rhs(t, y, p, out)``: dy/dt (µM/h) of state ``y`` (µM) with parameters ``p``;
* ``jac(t, y, p, out)``: the analytic Jacobian ∂(dy/dt)/∂y (1/h), by symbolic
  differentiation of each rate over the grammar (chain rule for the functions, the
  general power rule ``d(a**b) = b·a**(b−1)·da + a**b·log(a)·db`` reduced to the first
  term when ``b`` is constant), then contracted with the stoichiometric matrix;
* ``observables(y, p, out)``: the network's readouts;

each compiled eagerly with an explicit signature. The batched Rodas4 kernels of
:mod:`.integrate` take these as first-class function arguments (numba ``FunctionType``),
so they are compiled and cached once for all networks; a new network costs only its own
four small functions (about a second or two on a cold cache).

The generated module is written to a cache folder keyed by a hash of the network's
*structure* (names, reactions, formulas, observables; parameter values and initial
amounts are inputs, not part of the code) and imported from there, so numba's
``cache=True`` keeps the machine code between processes. The folder is
``$TRKRES_CACHE_DIR/signalling`` if set, else ``$XDG_CACHE_HOME/trkres/signalling`` (or
``~/.cache/trkres/signalling``); if that cannot be written, a per-user folder under the
system temporary directory. Nothing is ever written next to the user's data.

Importing this module compiles nothing; :func:`compile_network` does (a few seconds on a
cold cache, well under a second warm).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from trkres.errors import ComputationError
from trkres.models.signalling.network import Network, formula_names

__all__ = [
    "CompiledNetwork",
    "Expr",
    "cache_dir",
    "compile_network",
    "derivative",
    "jacobian_pattern",
    "lu_pattern",
    "network_key",
    "parse_formula",
    "to_source",
]

#: Bumped whenever the generated code changes meaning (part of the cache key).
CODEGEN_VERSION = "1"

# ---------------------------------------------------------------------------------------
# A tiny expression tree over the formula grammar
# ---------------------------------------------------------------------------------------
# ("num", value) | ("var", name) | ("neg", a) | ("add"|"sub"|"mul"|"div"|"pow", a, b)
# | ("call", fname, (args...))
Expr = tuple[Any, ...]

_OPS: dict[type[ast.operator], str] = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.Pow: "pow",
}


def parse_formula(formula: str, where: str = "formula") -> Expr:
    """The expression tree of an infix rate formula (checked by :func:`formula_names`)."""
    formula_names(formula, where)  # refuses anything outside the grammar, with a clear error

    def conv(node: ast.AST) -> Expr:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return ("num", float(node.value))
        if isinstance(node, ast.Name):
            return ("var", node.id)
        if isinstance(node, ast.UnaryOp):
            inner = conv(node.operand)
            return neg(inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            return _binary(_OPS[type(node.op)], conv(node.left), conv(node.right))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = tuple(conv(a) for a in node.args)
            if node.func.id == "pow":
                return _binary("pow", args[0], args[1])
            return ("call", node.func.id, args)
        raise AssertionError(f"unreachable: {ast.dump(node)}")  # pragma: no cover

    return conv(ast.parse(formula, mode="eval").body)


def _is_num(e: Expr, value: float | None = None) -> bool:
    return e[0] == "num" and (value is None or e[1] == value)


def neg(a: Expr) -> Expr:
    """−a, simplified."""
    if _is_num(a):
        return ("num", -a[1])
    if a[0] == "neg":
        return tuple(a[1])
    return ("neg", a)


def _binary(op: str, a: Expr, b: Expr) -> Expr:
    """``a op b`` with the obvious simplifications (0 and 1 absorbed, numbers folded)."""
    if op == "add":
        if _is_num(a, 0.0):
            return b
        if _is_num(b, 0.0):
            return a
        if _is_num(a) and _is_num(b):
            return ("num", a[1] + b[1])
        if b[0] == "neg":
            return ("sub", a, b[1])
    elif op == "sub":
        if _is_num(b, 0.0):
            return a
        if _is_num(a, 0.0):
            return neg(b)
        if _is_num(a) and _is_num(b):
            return ("num", a[1] - b[1])
    elif op == "mul":
        if _is_num(a, 0.0) or _is_num(b, 0.0):
            return ("num", 0.0)
        if _is_num(a, 1.0):
            return b
        if _is_num(b, 1.0):
            return a
        if _is_num(a, -1.0):
            return neg(b)
        if _is_num(b, -1.0):
            return neg(a)
        if _is_num(a) and _is_num(b):
            return ("num", a[1] * b[1])
    elif op == "div":
        if _is_num(a, 0.0):
            return ("num", 0.0)
        if _is_num(b, 1.0):
            return a
    elif op == "pow":
        if _is_num(b, 0.0):
            return ("num", 1.0)
        if _is_num(b, 1.0):
            return a
    return (op, a, b)


def _depends(e: Expr, name: str) -> bool:
    kind = e[0]
    if kind == "num":
        return False
    if kind == "var":
        return bool(e[1] == name)
    if kind == "neg":
        return _depends(e[1], name)
    if kind == "call":
        return any(_depends(a, name) for a in e[2])
    return _depends(e[1], name) or _depends(e[2], name)


def derivative(e: Expr, name: str) -> Expr:
    """∂e/∂name, symbolically, simplified."""
    if not _depends(e, name):
        return ("num", 0.0)
    kind = e[0]
    if kind == "var":
        return ("num", 1.0)
    if kind == "neg":
        return neg(derivative(e[1], name))
    if kind in ("add", "sub"):
        return _binary(kind, derivative(e[1], name), derivative(e[2], name))
    if kind == "mul":
        a, b = e[1], e[2]
        return _binary(
            "add",
            _binary("mul", derivative(a, name), b),
            _binary("mul", a, derivative(b, name)),
        )
    if kind == "div":
        a, b = e[1], e[2]
        da, db = derivative(a, name), derivative(b, name)
        if _is_num(db, 0.0):
            return _binary("div", da, b)
        # (da·b − a·db) / b²
        return _binary(
            "div",
            _binary("sub", _binary("mul", da, b), _binary("mul", a, db)),
            _binary("pow", b, ("num", 2.0)),
        )
    if kind == "pow":
        a, b = e[1], e[2]
        da = derivative(a, name)
        if not _depends(b, name):
            # b · a**(b − 1) · da
            exponent = ("num", b[1] - 1.0) if _is_num(b) else _binary("sub", b, ("num", 1.0))
            return _binary("mul", _binary("mul", b, _binary("pow", a, exponent)), da)
        db = derivative(b, name)
        # a**b · (db·log(a) + b·da/a)
        inner = _binary(
            "add",
            _binary("mul", db, ("call", "log", (a,))),
            _binary("div", _binary("mul", b, da), a),
        )
        return _binary("mul", e, inner)
    if kind == "call":
        fname, args = e[1], e[2]
        u = args[0]
        du = derivative(u, name)
        if fname == "exp":
            return _binary("mul", e, du)
        if fname == "log":
            return _binary("div", du, u)
        if fname == "sqrt":
            return _binary("div", du, _binary("mul", ("num", 2.0), e))
    raise AssertionError(f"unreachable: {e!r}")  # pragma: no cover


_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}
_SYMBOL = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


def _number(value: float) -> str:
    text = repr(float(value))
    return f"({text})" if value < 0 else text


def to_source(e: Expr, names: Mapping[str, str]) -> str:
    """Python (numba-compatible) source of ``e``; ``names`` maps formula names to variables."""

    def emit(e: Expr) -> tuple[str, int]:
        kind = e[0]
        if kind == "num":
            return _number(e[1]), 9
        if kind == "var":
            return names[e[1]], 9
        if kind == "call":
            return f"math.{e[1]}({', '.join(emit(a)[0] for a in e[2])})", 9
        if kind == "neg":
            text, prec = emit(e[1])
            return "-" + (text if prec > 3 else f"({text})"), 3
        op = kind
        p = _PRECEDENCE[op]
        left, lp = emit(e[1])
        if op == "pow" and _is_num(e[2]) and float(e[2][1]).is_integer() and abs(e[2][1]) <= 8:
            right, rp = str(int(e[2][1])), 9  # integer powers: numba multiplies
            if e[2][1] < 0:
                right = f"({right})"
        else:
            right, rp = emit(e[2])
        if op == "pow":  # right-associative, binds tighter than unary minus on the left
            left = left if lp > p else f"({left})"
            right = right if rp >= 9 else f"({right})"
        else:
            left = left if lp >= p else f"({left})"
            # a - (b + c), a / (b * c): the right operand needs brackets at equal precedence
            right = right if rp > p or (rp == p and op in ("add", "mul")) else f"({right})"
        return f"{left} {_SYMBOL[op]} {right}", p

    return emit(e)[0]


# ---------------------------------------------------------------------------------------
# Code generation
# ---------------------------------------------------------------------------------------


def network_key(net: Network) -> str:
    """A hash of what the compiled code depends on: structure and formulas, not values."""
    import numba

    payload = {
        "codegen": CODEGEN_VERSION,
        "numba": numba.__version__,
        "species": list(net.species_names),
        "parameters": list(net.parameter_names),
        "reactions": [[list(r.reactants), list(r.products), r.rate] for r in net.reactions],
        "observables": [[k, v] for k, v in net.observables.items()],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _generate(net: Network) -> str:
    """The Python source of the compiled module for ``net``."""

    species = net.species_names
    params = net.parameter_names
    names = {s: f"y_{i}" for i, s in enumerate(species)}
    names.update({q: f"p_{j}" for j, q in enumerate(params)})
    species_index = {s: i for i, s in enumerate(species)}
    param_index = {q: j for j, q in enumerate(params)}
    stoich = net.stoichiometry()
    rates = [parse_formula(r.rate, f"reaction {r.name}") for r in net.reactions]
    observables = [parse_formula(f, f"observable {name}") for name, f in net.observables.items()]

    def loads(used: set[str], with_y: bool = True) -> list[str]:
        lines = []
        for name in sorted(used, key=lambda n: names[n]):
            if name in species_index and with_y:
                lines.append(f"    {names[name]} = y[{species_index[name]}]")
            elif name in param_index:
                lines.append(f"    {names[name]} = p[{param_index[name]}]")
        return lines

    used_all: set[str] = set()
    for r in net.reactions:
        used_all |= formula_names(r.rate)

    out: list[str] = [
        f"# Generated by trkres.models.signalling.compile for network {net.name!r}.",
        "# Do not edit: regenerated from the network's formulas when they change.",
        "import math",
        "",
        "import numba as nb",
        "from numba import types",
        "",
        "V = types.float64[::1]",
        "M = types.float64[:, ::1]",
        "F8 = types.float64",
        "",
        f"N_SPECIES = {len(species)}",
        f"N_PARAMETERS = {len(params)}",
        f"N_OBSERVABLES = {len(observables)}",
        "",
        "",
        "@nb.njit(types.void(F8, V, V, V), cache=True, nogil=True, error_model='numpy')",
        "def rhs(t, y, p, out):",
    ]
    out += loads(used_all)
    for j, rate in enumerate(rates):
        out.append(f"    v_{j} = {to_source(rate, names)}")
    for i in range(len(species)):
        terms = []
        for j in range(len(rates)):
            c = stoich[i, j]
            if c == 0:
                continue
            coef = "" if abs(c) == 1 else f"{float(abs(c))!r} * "
            terms.append(("- " if c < 0 else "+ ") + f"{coef}v_{j}")
        expr = " ".join(terms).lstrip("+ ") if terms else "0.0"
        if expr.startswith("- "):
            expr = "-" + expr[2:]
        out.append(f"    out[{i}] = {expr}")
    # Σ_j |S_ij·v_j|: the size of the fluxes through each species, which bounds the
    # round-off in out[i] of rhs (a steady-state test cannot ask for less than that).
    out += [
        "",
        "",
        "@nb.njit(types.void(F8, V, V, V), cache=True, nogil=True, error_model='numpy')",
        "def flux_scale(t, y, p, out):",
    ]
    out += loads(used_all)
    for j, rate in enumerate(rates):
        out.append(f"    v_{j} = abs({to_source(rate, names)})")
    for i in range(len(species)):
        terms = [
            ("" if abs(stoich[i, j]) == 1 else f"{float(abs(stoich[i, j]))!r} * ") + f"v_{j}"
            for j in range(len(rates))
            if stoich[i, j] != 0
        ]
        out.append(f"    out[{i}] = {' + '.join(terms) if terms else '0.0'}")
    out += [
        "",
        "",
        "@nb.njit(types.void(F8, V, V, M), cache=True, nogil=True, error_model='numpy')",
        "def jac(t, y, p, out):",
    ]
    out += loads(used_all)
    out.append("    out[:, :] = 0.0")
    for j, (rate, reaction) in enumerate(zip(rates, net.reactions, strict=True)):
        rows = [i for i in range(len(species)) if stoich[i, j] != 0]
        if not rows:
            continue
        for name in sorted(formula_names(reaction.rate) & set(species), key=names.__getitem__):
            d = derivative(rate, name)
            if _is_num(d, 0.0):
                continue
            k = species_index[name]
            out.append(f"    d = {to_source(d, names)}")
            for i in rows:
                c = stoich[i, j]
                coef = "" if c == 1 else ("-" if c == -1 else f"{float(c)!r} * ")
                out.append(f"    out[{i}, {k}] += {coef}d")
    out += [
        "",
        "",
        "@nb.njit(types.void(V, V, V), cache=True, nogil=True, error_model='numpy')",
        "def observables(y, p, out):",
    ]
    used_obs: set[str] = set()
    for f in net.observables.values():
        used_obs |= formula_names(f)
    out += loads(used_obs)
    for m, e in enumerate(observables):
        out.append(f"    out[{m}] = {to_source(e, names)}")
    if not observables:
        out.append("    pass")
    return "\n".join(out) + "\n"


def lu_pattern(n: int, nonzeros: set[tuple[int, int]]) -> np.ndarray:
    """Symbolic LU (no pivoting) of an n × n pattern, packed for the kernels' sparse LU.

    Layout (int64): 6 offsets, then three CSR structures (n + 1 pointers relative to their
    index list, then the indices): the column lists of L (rows i > k with L[i, k] ≠ 0, for
    the elimination), the row lists of L (j < i, forward solve) and of U (j > i, the
    elimination and the back solve). Fill-in is included.
    """
    rows = [{j for (i, j) in nonzeros if i == r} | {r} for r in range(n)]
    for k in range(n):
        upper = [j for j in rows[k] if j > k]
        for i in range(k + 1, n):
            if k in rows[i]:
                rows[i].update(upper)
    lcol = [sorted(i for i in range(k + 1, n) if k in rows[i]) for k in range(n)]
    lrow = [sorted(j for j in rows[i] if j < i) for i in range(n)]
    urow = [sorted(j for j in rows[i] if j > i) for i in range(n)]
    out: list[int] = [0] * 6
    for s, lists in enumerate((lcol, lrow, urow)):
        ptr = [0]
        for lst in lists:
            ptr.append(ptr[-1] + len(lst))
        out[2 * s] = len(out)
        out += ptr
        out[2 * s + 1] = len(out)
        out += [x for lst in lists for x in lst]
    return np.array(out, dtype=np.int64)


def jacobian_pattern(net: Network) -> set[tuple[int, int]]:
    """(row, column) of every entry of the Jacobian that is not identically zero."""
    species_index = {s: i for i, s in enumerate(net.species_names)}
    stoich = net.stoichiometry()
    out: set[tuple[int, int]] = set()
    for j, r in enumerate(net.reactions):
        rate = parse_formula(r.rate, f"reaction {r.name}")
        for name in formula_names(r.rate) & set(species_index):
            if _is_num(derivative(rate, name), 0.0):
                continue
            out |= {(i, species_index[name]) for i in range(len(species_index)) if stoich[i, j]}
    return out


def cache_dir() -> Path:
    """The writable folder the generated modules live in (created if missing)."""
    candidates: list[Path] = []
    if os.environ.get("TRKRES_CACHE_DIR"):
        candidates.append(Path(os.environ["TRKRES_CACHE_DIR"]) / "signalling")
    xdg = os.environ.get("XDG_CACHE_HOME")
    candidates.append((Path(xdg) if xdg else Path.home() / ".cache") / "trkres" / "signalling")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates.append(Path(tempfile.gettempdir()) / f"trkres-{uid}" / "signalling")
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".probe-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError:
            continue
        return folder
    raise ComputationError(
        "no writable cache folder for the compiled signalling model",
        expected="a writable folder",
        found=", ".join(str(c) for c in candidates),
        hint="set TRKRES_CACHE_DIR to a writable folder",
    )


def _import_generated(modname: str, source: str) -> tuple[ModuleType, Path]:
    """Write ``source`` as ``<cache>/<modname>.py`` (if it differs) and import it."""
    if modname in sys.modules:
        module = sys.modules[modname]
        return module, Path(str(module.__file__))
    folder = cache_dir()
    path = folder / f"{modname}.py"
    if not path.exists() or path.read_text(encoding="utf-8") != source:
        fd, tmp = tempfile.mkstemp(prefix=f".{modname}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(source)
            Path(tmp).replace(path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(tmp).unlink()
            raise
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:  # pragma: no cover - importlib contract
        raise ComputationError("cannot import the generated model", found=str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[modname]
        raise
    return module, path


def kernels() -> ModuleType:
    """The shared Rodas4 kernels (compiled on first use, then from numba's cache)."""
    import numba

    from trkres.models.signalling.integrate import KERNEL_SOURCE

    text = f"{CODEGEN_VERSION}\n{numba.__version__}\n{KERNEL_SOURCE}"
    key = hashlib.sha256(text.encode()).hexdigest()[:20]
    return _import_generated(f"trkres_signalling_kernels_{key}", KERNEL_SOURCE)[0]


@dataclass(frozen=True)
class CompiledNetwork:
    """A network's right-hand side, Jacobian and observables as numba functions.

    ``rhs(t, y, p, out)`` writes dy/dt (µM/h) into ``out`` (n_species,);
    ``jac(t, y, p, out)`` writes ∂(dy/dt)/∂y (1/h) into ``out`` (n_species, n_species),
    analytic (symbolic differentiation of the rate formulas);
    ``observables(y, p, out)`` writes the readouts into ``out`` (n_observables,);
    ``flux_scale(t, y, p, out)`` writes Σ_j |S_ij·v_j| (the round-off scale of ``rhs``);
    ``lu_pattern`` is the symbolic sparse LU of I/(hγ) − J (:func:`lu_pattern`).
    All take C-contiguous float64 arrays. ``module`` is the generated module,
    ``source_path`` its file, ``key`` its structural hash; ``kernels`` the shared
    integrator module (:mod:`.integrate`).
    """

    network: Network
    species_names: tuple[str, ...]
    parameter_names: tuple[str, ...]
    observable_names: tuple[str, ...]
    species_index: Mapping[str, int]
    parameter_index: Mapping[str, int]
    observable_index: Mapping[str, int]
    rhs: Callable[..., Any]
    jac: Callable[..., Any]
    observables: Callable[..., Any]
    flux_scale: Callable[..., Any]
    lu_pattern: np.ndarray
    module: ModuleType
    kernels: ModuleType
    source_path: Path
    key: str

    @property
    def n_species(self) -> int:
        return len(self.species_names)

    @property
    def n_parameters(self) -> int:
        return len(self.parameter_names)

    def rhs_value(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """dy/dt (µM/h) at one state, as a new array (convenience, not for loops)."""
        out = np.empty(self.n_species)
        self.rhs(0.0, np.ascontiguousarray(y, dtype=float), np.ascontiguousarray(p, float), out)
        return out

    def jac_value(self, y: np.ndarray, p: np.ndarray) -> np.ndarray:
        """The Jacobian (1/h) at one state, as a new array."""
        out = np.empty((self.n_species, self.n_species))
        self.jac(0.0, np.ascontiguousarray(y, dtype=float), np.ascontiguousarray(p, float), out)
        return out


def compile_network(net: Network) -> CompiledNetwork:
    """Generate, cache and import the compiled form of ``net`` (see the module docstring)."""
    key = network_key(net)
    module, path = _import_generated(f"trkres_signalling_{key}", _generate(net))
    observable_names = tuple(net.observables)
    return CompiledNetwork(
        network=net,
        species_names=net.species_names,
        parameter_names=net.parameter_names,
        observable_names=observable_names,
        species_index={s: i for i, s in enumerate(net.species_names)},
        parameter_index={q: j for j, q in enumerate(net.parameter_names)},
        observable_index={o: m for m, o in enumerate(observable_names)},
        rhs=module.rhs,
        jac=module.jac,
        observables=module.observables,
        flux_scale=module.flux_scale,
        lu_pattern=lu_pattern(len(net.species), jacobian_pattern(net)),
        module=module,
        kernels=kernels(),
        source_path=path,
        key=key,
    )
