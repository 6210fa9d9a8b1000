"""Batched stiff integration and steady states of a compiled signalling network.

Method: **Rodas4**, the 4th-order, L-stable, 6-stage Rosenbrock method of Hairer &
Wanner (*Solving Ordinary Differential Equations II*, 2nd ed., Springer 1996, §IV.7;
coefficients of their ``rodas.f``) with its embedded 3rd-order solution for error
control (error = the last stage, norm = RMS of ``err / (atol + rtol·max(|y|, |y_new|))``,
step factor ``0.9·err^(-1/4)`` within [0.2, 6], no growth right after a rejection).
The Jacobian is the analytic one of :mod:`.compile`, evaluated once per step; the
linear systems are solved by an LU factorisation with partial pivoting written here.
Steps end exactly on the requested output times (no interpolation).

Simulations run in parallel over the batch (chunks on a thread per core; the kernels
release the GIL). Time is in hours and
amounts in µM, as in :mod:`.network`. Nothing raises for a failed simulation: each has a
status (:data:`STATUS`), and states are returned unclipped inside the integrator but
clipped at 0 in the output, with the most negative value any species reached at an
accepted step reported (``negative_excursion``, µM) so that a clip is never silent.

:func:`steady_state` integrates until every species changes by less than
``switch_rate`` (relative, per hour), then polishes with Newton iterations on the
implicit-Euler system ``(I/τ − J)·Δy = f`` with τ growing ×10 per success (which stays
on the conservation laws, where plain Newton's matrix J is singular), until the relative
rate ``max_i |f_i| / (|y_i| + atol)`` is below ``ftol`` (1/h). Simulations that do not
settle (oscillators, too short ``t_max``) are flagged, never silently returned.

:func:`simulate_reference` is the slow reference: scipy ``solve_ivp`` (LSODA,
rtol 1e-10, atol 1e-12) on :meth:`Network.reference_rhs`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trkres.errors import InputError
from trkres.models.signalling.compile import CompiledNetwork
from trkres.models.signalling.network import Network

__all__ = [
    "KERNEL_SOURCE",
    "STATUS",
    "SimulationResult",
    "SteadyStateResult",
    "simulate",
    "simulate_reference",
    "steady_state",
]

#: Status codes of a simulation / steady-state search.
STATUS: Mapping[int, str] = {
    0: "ok",
    1: "maximum number of steps reached",
    2: "step size underflow (the integrator could not meet the tolerances)",
    3: "non-finite values (the model produced NaN or infinity)",
    4: "no steady state within t_max (still changing: oscillating or slow)",
    5: "Newton polish did not converge",
}

# The kernels below are written into each network's generated module (see compile.py),
# after that module's ``rhs`` and ``jac``, so numba compiles and caches them together.
KERNEL_SOURCE = '''
# ---- Rodas4 kernels (trkres.models.signalling.integrate.KERNEL_SOURCE) ----
# Rodas4 (Hairer & Wanner 1996, rodas.f): stage i solves
#   (I/(h*GAMMA) - J) K_i = f(y + sum_j A[i, j] K_j) + (1/h) sum_j C[i, j] K_j,
# the solution is y + sum_j A[5, j] K_j + K_5 and the error estimate is K_5.
A = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [1.544, 0.0, 0.0, 0.0, 0.0],
    [0.9466785280815826, 0.2557011698983284, 0.0, 0.0, 0.0],
    [3.314825187068521, 2.896124015972201, 0.9986419139977817, 0.0, 0.0],
    [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895, 0.0],
    [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895, 1.0],
])
C = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [-5.6688, 0.0, 0.0, 0.0, 0.0],
    [-2.430093356833875, -0.2063599157091915, 0.0, 0.0, 0.0],
    [-0.1073529058151375, -9.594562251023355, -20.47028614809616, 0.0, 0.0],
    [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616, 0.0],
    [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
     -6.058818238834054],
])
GAMMA = 0.25


@nb.njit(cache=True, nogil=True)
def lu_factor(a, piv):
    n = a.shape[0]
    for k in range(n):
        m = k
        big = abs(a[k, k])
        for i in range(k + 1, n):
            v = abs(a[i, k])
            if v > big:
                big = v
                m = i
        piv[k] = m
        if big == 0.0 or not np.isfinite(big):
            return False
        if m != k:
            for j in range(n):
                tmp = a[k, j]
                a[k, j] = a[m, j]
                a[m, j] = tmp
        inv = 1.0 / a[k, k]
        for i in range(k + 1, n):
            f = a[i, k] * inv
            a[i, k] = f
            if f != 0.0:
                for j in range(k + 1, n):
                    a[i, j] -= f * a[k, j]
    return True


@nb.njit(cache=True, nogil=True)
def lu_solve(a, piv, b):
    n = a.shape[0]
    for k in range(n):
        m = piv[k]
        if m != k:
            tmp = b[k]
            b[k] = b[m]
            b[m] = tmp
    for i in range(n):
        s = b[i]
        for j in range(i):
            s -= a[i, j] * b[j]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for j in range(i + 1, n):
            s -= a[i, j] * b[j]
        b[i] = s / a[i, i]


@nb.njit(cache=True, nogil=True)
def relative_rate(y, p, fv, sc, atol):
    """max_i |f_i| / (|y_i| + atol) (1/h), ignoring what round-off in f_i can explain."""
    flux_scale(0.0, y, p, sc)
    rate = 0.0
    for i in range(y.shape[0]):
        r = max(abs(fv[i]) - 1e-13 * sc[i], 0.0) / (abs(y[i]) + atol)
        if not np.isfinite(r):
            return np.inf
        if r > rate:
            rate = r
    return rate


@nb.njit(cache=True, nogil=True)
def initial_step(y, p, rtol, atol, span, fv):
    rhs(0.0, y, p, fv)
    n = y.shape[0]
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sc = atol + rtol * abs(y[i])
        d0 += (y[i] / sc) ** 2
        d1 += (fv[i] / sc) ** 2
    d0 = np.sqrt(d0 / n)
    d1 = np.sqrt(d1 / n)
    if d0 < 1e-5 or d1 < 1e-5 or not np.isfinite(d1):
        h = 1e-6
    else:
        h = 0.01 * d0 / d1
    h = min(h, span)
    if h <= 0.0:
        h = 1e-6
    return h


@nb.njit(cache=True, nogil=True)
def advance(y, p, t, t_end, h, rtol, atol, max_steps, switch_rate, K, ytmp, ynew, fv,
            J, E, piv, counters):
    """Integrate y (in place) from t to t_end. Returns (status, t, h).

    status 0: reached t_end; 10: stopped early because the relative rate of change fell
    below switch_rate (only if switch_rate > 0); 1, 2, 3: see STATUS.
    counters: [steps, rejected, most negative value seen].
    """
    n = y.shape[0]
    rejected_last = False
    while t < t_end:
        if counters[0] >= max_steps:
            return 1, t, h
        last = False
        hh = h
        if t + 1.01 * hh >= t_end:
            hh = t_end - t
            last = True
        if hh <= 1e-13 * max(abs(t), 1.0):
            return 2, t, h
        rhs(t, y, p, fv)
        if switch_rate > 0.0 and relative_rate(y, p, fv, ytmp, atol) < switch_rate:
            return 10, t, h
        jac(t, y, p, J)
        fac = 1.0 / (GAMMA * hh)
        for i in range(n):
            for j in range(n):
                E[i, j] = -J[i, j]
            E[i, i] += fac
        if not lu_factor(E, piv):
            counters[1] += 1
            h = hh * 0.25
            rejected_last = True
            continue
        ih = 1.0 / hh
        for st in range(6):
            if st == 0:
                for i in range(n):
                    K[0, i] = fv[i]
            else:
                for i in range(n):
                    acc = y[i]
                    for j in range(st):
                        acc += A[st, j] * K[j, i]
                    ytmp[i] = acc
                rhs(t, ytmp, p, fv)
                for i in range(n):
                    acc = 0.0
                    for j in range(st):
                        acc += C[st, j] * K[j, i]
                    K[st, i] = fv[i] + ih * acc
            lu_solve(E, piv, K[st])
        err = 0.0
        for i in range(n):
            ynew[i] = ytmp[i] + K[5, i]
            sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
            err += (K[5, i] / sc) ** 2
        err = np.sqrt(err / n)
        counters[0] += 1
        if not np.isfinite(err):
            counters[1] += 1
            h = hh * 0.25
            rejected_last = True
            if h <= 1e-13 * max(abs(t), 1.0):
                return 3, t, h
            continue
        factor = 0.9 * err ** -0.25 if err > 0.0 else 6.0
        factor = min(6.0, max(0.2, factor))
        if err <= 1.0:
            lowest = counters[2]
            for i in range(n):
                y[i] = ynew[i]
                if y[i] < lowest:
                    lowest = y[i]
            counters[2] = lowest
            if rejected_last:
                factor = min(factor, 1.0)
            rejected_last = False
            hnew = hh * factor
            if last:
                t = t_end
                h = max(h, hnew)  # a step shortened to hit t_end says nothing about h
            else:
                t = t + hh
                h = hnew
        else:
            counters[1] += 1
            rejected_last = True
            h = hh * factor
    return 0, t, h


@nb.njit(cache=True, nogil=True)
def simulate_batch(y0, P, t0, times, rtol, atol, max_steps, out, status, stats):
    """out: (S, T, n) states; status: (S,); stats: (S, 3) steps, rejected, lowest value."""
    S = P.shape[0]
    n = y0.shape[1]
    T = times.shape[0]
    span = times[T - 1] - t0
    for s in range(S):
        y = y0[s].copy()
        p = P[s]
        K = np.empty((6, n))
        ytmp = np.empty(n)
        ynew = np.empty(n)
        fv = np.empty(n)
        J = np.empty((n, n))
        E = np.empty((n, n))
        piv = np.empty(n, dtype=np.int64)
        counters = np.zeros(3)
        lowest = 0.0
        for i in range(n):
            lowest = min(lowest, y[i])
        counters[2] = lowest
        t = t0
        h = initial_step(y, p, rtol, atol, max(span, 1e-12), fv)
        code = 0
        for k in range(T):
            if code == 0:
                code, t, h = advance(y, p, t, times[k], h, rtol, atol, max_steps, 0.0, K,
                                     ytmp, ynew, fv, J, E, piv, counters)
            if code == 0:
                for i in range(n):
                    out[s, k, i] = y[i]
            else:
                for i in range(n):
                    out[s, k, i] = np.nan
        status[s] = code
        stats[s, 0] = counters[0]
        stats[s, 1] = counters[1]
        stats[s, 2] = counters[2]


@nb.njit(cache=True, nogil=True)
def polish(y, p, atol, ftol, max_iter, fv, J, E, piv, dy):
    """Pseudo-transient Newton on (I/tau - J) dy = f; y in place. Returns (ok, rate)."""
    n = y.shape[0]
    sc = np.empty(n)
    rhs(0.0, y, p, fv)
    rate = relative_rate(y, p, fv, sc, atol)
    if not np.isfinite(rate):
        return False, rate
    tau = 1.0 / max(rate, 1e-300)
    ytry = y.copy()
    for _ in range(max_iter):
        if rate <= ftol:
            return True, rate
        jac(0.0, y, p, J)
        for i in range(n):
            for j in range(n):
                E[i, j] = -J[i, j]
            E[i, i] += 1.0 / tau
        if not lu_factor(E, piv):
            tau *= 0.1
            continue
        for i in range(n):
            dy[i] = fv[i]
        lu_solve(E, piv, dy)
        for i in range(n):
            ytry[i] = y[i] + dy[i]
        rhs(0.0, ytry, p, fv)
        new_rate = relative_rate(ytry, p, fv, sc, atol)
        if np.isfinite(new_rate) and new_rate < rate:
            for i in range(n):
                y[i] = ytry[i]
            rate = new_rate
            tau = min(tau * 10.0, 1e300)
        else:
            tau *= 0.1
            rhs(0.0, y, p, fv)
    return rate <= ftol, rate


@nb.njit(cache=True, nogil=True)
def steady_batch(y0, P, t_max, rtol, atol, max_steps, switch_rate, ftol, out, status,
                 t_reached, rate_out, stats):
    S = P.shape[0]
    n = y0.shape[1]
    for s in range(S):
        y = y0[s].copy()
        p = P[s]
        K = np.empty((6, n))
        ytmp = np.empty(n)
        ynew = np.empty(n)
        fv = np.empty(n)
        dy = np.empty(n)
        J = np.empty((n, n))
        E = np.empty((n, n))
        piv = np.empty(n, dtype=np.int64)
        counters = np.zeros(3)
        lowest = 0.0
        for i in range(n):
            lowest = min(lowest, y[i])
        counters[2] = lowest
        t = 0.0
        h = initial_step(y, p, rtol, atol, t_max, fv)
        sw = switch_rate
        code = 4
        rate = np.inf
        while True:
            c, t, h = advance(y, p, t, t_max, h, rtol, atol, max_steps, sw, K, ytmp, ynew,
                              fv, J, E, piv, counters)
            if c == 10:
                ycand = y.copy()
                ok, rate = polish(ycand, p, atol, ftol, 60, fv, J, E, piv, dy)
                if ok:
                    for i in range(n):
                        y[i] = ycand[i]
                    code = 0
                    break
                sw *= 0.01  # not close enough yet: integrate further before trying again
                if sw < ftol:
                    sw = 0.0
                continue
            if c == 0:
                # reached t_max: a last polish attempt decides between settled and not
                ycand = y.copy()
                ok, rate = polish(ycand, p, atol, ftol, 60, fv, J, E, piv, dy)
                if ok:
                    dist = 0.0
                    for i in range(n):
                        dist = max(dist, abs(ycand[i] - y[i]) / (abs(y[i]) + atol))
                    if dist < 1e-3:
                        for i in range(n):
                            y[i] = ycand[i]
                        code = 0
                        break
                code = 4
            else:
                code = c
            break
        for i in range(n):
            out[s, i] = y[i]
        status[s] = code
        t_reached[s] = t
        rate_out[s] = rate
        stats[s, 0] = counters[0]
        stats[s, 1] = counters[1]
        stats[s, 2] = counters[2]


@nb.njit(cache=True, nogil=True)
def observe_batch(Y, P, out):
    """Y: (S, T, n); P: (S, m); out: (S, T, n_obs)."""
    S = Y.shape[0]
    T = Y.shape[1]
    for s in range(S):
        tmp = np.empty(out.shape[2])
        for k in range(T):
            observables(Y[s, k], P[s], tmp)
            for m in range(out.shape[2]):
                out[s, k, m] = tmp[m]
'''


@dataclass(frozen=True)
class SimulationResult:
    """Trajectories of a batch of simulations.

    ``y``: (n_sims, n_times, n_species), µM, clipped at 0 (NaN after a failure);
    ``status``: (n_sims,) codes of :data:`STATUS` (0 = ok); ``negative_excursion``:
    (n_sims,) the largest amount (µM, ≥ 0) by which any species went below zero at an
    accepted step (what the clip hid); ``steps``/``rejected``: integrator step counts.
    """

    compiled: CompiledNetwork = field(repr=False)
    times: np.ndarray
    y: np.ndarray
    params: np.ndarray = field(repr=False)
    status: np.ndarray
    negative_excursion: np.ndarray
    steps: np.ndarray
    rejected: np.ndarray

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.y if dtype is None else self.y.astype(dtype)

    @property
    def ok(self) -> np.ndarray:
        """Which simulations succeeded."""
        ok: np.ndarray = self.status == 0
        return ok

    def species(self, name: str) -> np.ndarray:
        """(n_sims, n_times) trajectory of one species (µM)."""
        index = self.compiled.species_index.get(name)
        if index is None:
            raise InputError("unknown species", expected=", ".join(self.compiled.species_names),
                             found=name)  # fmt: skip
        out: np.ndarray = self.y[:, :, index]
        return out

    def observables(self) -> dict[str, np.ndarray]:
        """Each observable as (n_sims, n_times), computed by the compiled formulas."""
        return _observe(self.compiled, self.y, self.params)


@dataclass(frozen=True)
class SteadyStateResult:
    """Steady states of a batch: ``y`` (n_sims, n_species) µM clipped at 0; ``converged``.

    ``status`` (:data:`STATUS`), ``rate`` the final relative rate of change
    ``max_i |dy_i/dt| / (|y_i| + atol)`` (1/h), ``t`` the time integrated (h),
    ``negative_excursion`` as in :class:`SimulationResult`.
    """

    compiled: CompiledNetwork = field(repr=False)
    y: np.ndarray
    params: np.ndarray = field(repr=False)
    status: np.ndarray
    converged: np.ndarray
    rate: np.ndarray
    t: np.ndarray
    negative_excursion: np.ndarray
    steps: np.ndarray

    def species(self, name: str) -> np.ndarray:
        """(n_sims,) steady amount of one species (µM)."""
        index = self.compiled.species_index.get(name)
        if index is None:
            raise InputError("unknown species", expected=", ".join(self.compiled.species_names),
                             found=name)  # fmt: skip
        out: np.ndarray = self.y[:, index]
        return out

    def observables(self) -> dict[str, np.ndarray]:
        """Each observable as (n_sims,)."""
        return {k: v[:, 0] for k, v in _observe(self.compiled, self.y[:, None, :],
                                                self.params).items()}  # fmt: skip


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 64))


def _run_chunks(
    kernel: Any,
    n_sims: int,
    per_sim: tuple[np.ndarray, ...],
    shared: tuple[Any, ...],
    outputs: tuple[np.ndarray, ...],
) -> None:
    """Run ``kernel(*per_sim[chunk], *shared, *outputs[chunk])`` over chunks of the batch.

    The kernels release the GIL (``nogil=True``), so a thread per core runs them in
    parallel. (``parallel=True``/``prange`` would do the same but adds ~10 s of compile
    time per network on a cold cache.)
    """
    workers = min(_workers(), max(1, n_sims // 8))
    bounds = np.linspace(0, n_sims, workers + 1).astype(int)

    def run(i: int) -> None:
        lo, hi = bounds[i], bounds[i + 1]
        if hi > lo:
            kernel(*(a[lo:hi] for a in per_sim), *shared, *(o[lo:hi] for o in outputs))

    if workers == 1:
        run(0)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, range(workers)))


def _observe(compiled: CompiledNetwork, y: np.ndarray, params: np.ndarray) -> dict[str, np.ndarray]:
    n_obs = len(compiled.observable_names)
    out = np.empty((y.shape[0], y.shape[1], n_obs))
    if n_obs:
        _run_chunks(
            compiled.module.observe_batch,
            y.shape[0],
            (np.ascontiguousarray(y), np.ascontiguousarray(params)),
            (),
            (out,),
        )
    return {name: out[:, :, m] for m, name in enumerate(compiled.observable_names)}


def _batch(compiled: CompiledNetwork, y0: Any, params: Any) -> tuple[np.ndarray, np.ndarray]:
    n, m = compiled.n_species, compiled.n_parameters
    y = np.asarray(y0, dtype=float)
    p = np.asarray(params, dtype=float)
    if y.ndim == 1:
        y = y[None, :]
    if p.ndim == 1:
        p = p[None, :]
    if y.ndim != 2 or y.shape[1] != n:
        raise InputError("y0 has the wrong shape", expected=f"({n},) or (n_sims, {n})",
                         found=str(np.shape(y0)))  # fmt: skip
    if p.ndim != 2 or p.shape[1] != m:
        raise InputError("params has the wrong shape", expected=f"({m},) or (n_sims, {m})",
                         found=str(np.shape(params)))  # fmt: skip
    n_sims = max(y.shape[0], p.shape[0])
    for name, arr in (("y0", y), ("params", p)):
        if arr.shape[0] not in (1, n_sims):
            raise InputError(f"{name} and the other input disagree on the number of simulations",
                             expected=f"1 or {n_sims} rows", found=str(arr.shape[0]))  # fmt: skip
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{name} holds NaN or infinity", expected="finite numbers",
                             found="non-finite values")  # fmt: skip
    if np.any(y < 0):
        raise InputError("negative initial amounts", expected="amounts ≥ 0 (µM)",
                         found=str(float(y.min())))  # fmt: skip
    if p.shape[0] != n_sims:
        p = np.broadcast_to(p, (n_sims, m))
    if y.shape[0] != n_sims:
        y = np.broadcast_to(y, (n_sims, n))
    return np.ascontiguousarray(y), np.ascontiguousarray(p)


def _tolerances(rtol: float, atol: float) -> None:
    if not (0 < rtol < 1) or not (atol > 0) or not np.isfinite(atol):
        raise InputError("bad tolerances", expected="0 < rtol < 1 and atol > 0",
                         found=f"rtol={rtol}, atol={atol}")  # fmt: skip


def simulate(
    compiled: CompiledNetwork,
    y0: Any,
    params: Any,
    times: Any,
    *,
    t0: float = 0.0,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100_000,
) -> SimulationResult:
    """Integrate a batch of simulations from ``t0`` and report the states at ``times`` (h).

    ``y0``: (n_species,) or (n_sims, n_species) initial amounts (µM) at ``t0``;
    ``params``: (n_params,) or (n_sims, n_params) in the network's parameter order;
    ``times``: non-decreasing output times ≥ ``t0`` (h). Returns a
    :class:`SimulationResult` (``.y`` is (n_sims, n_times, n_species), also what
    ``np.asarray(result)`` gives). A simulation that fails has a non-zero status and
    NaN from the failure on; no exception is raised for it.
    """
    y, p = _batch(compiled, y0, params)
    t = np.ascontiguousarray(np.atleast_1d(np.asarray(times, dtype=float)))
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)):
        raise InputError("bad output times", expected="a non-empty 1-D list of hours",
                         found=str(np.asarray(times)))  # fmt: skip
    if np.any(np.diff(t) < 0) or t[0] < t0:
        raise InputError("output times must be non-decreasing and ≥ t0",
                         expected=f"sorted hours ≥ {t0}", found=str(t))  # fmt: skip
    _tolerances(rtol, atol)
    n_sims = p.shape[0]
    out = np.empty((n_sims, t.size, compiled.n_species))
    status = np.zeros(n_sims, dtype=np.int64)
    stats = np.zeros((n_sims, 3))
    _run_chunks(
        compiled.module.simulate_batch,
        n_sims,
        (y, p),
        (float(t0), t, float(rtol), float(atol), int(max_steps)),
        (out, status, stats),
    )
    return SimulationResult(
        compiled=compiled,
        times=t,
        y=np.maximum(out, 0.0, where=~np.isnan(out), out=out),
        params=p,
        status=status,
        negative_excursion=-np.minimum(stats[:, 2], 0.0),
        steps=stats[:, 0].astype(np.int64),
        rejected=stats[:, 1].astype(np.int64),
    )


def steady_state(
    compiled: CompiledNetwork,
    y0: Any,
    params: Any,
    *,
    t_max: float = 1e4,
    rtol: float = 1e-8,
    atol: float = 1e-12,
    ftol: float = 1e-10,
    switch_rate: float = 1e-4,
    max_steps: int = 200_000,
) -> SteadyStateResult:
    """Steady states reached from ``y0`` (µM) with ``params``, batched (see module doc).

    ``t_max``: the longest time integrated (h); ``ftol``: the relative rate of change
    (1/h) below which a state counts as steady; ``switch_rate``: the rate at which the
    Newton polish is first tried. ``converged`` is False (and ``status`` says why) for
    every simulation that did not settle.
    """
    y, p = _batch(compiled, y0, params)
    _tolerances(rtol, atol)
    if not (t_max > 0 and np.isfinite(t_max)) or not (ftol > 0) or not (switch_rate > 0):
        raise InputError("bad steady-state settings",
                         expected="t_max > 0 (h), ftol > 0 and switch_rate > 0 (1/h)",
                         found=f"t_max={t_max}, ftol={ftol}, switch_rate={switch_rate}")  # fmt: skip
    n_sims = p.shape[0]
    out = np.empty((n_sims, compiled.n_species))
    status = np.zeros(n_sims, dtype=np.int64)
    t_reached = np.zeros(n_sims)
    rate = np.zeros(n_sims)
    stats = np.zeros((n_sims, 3))
    _run_chunks(
        compiled.module.steady_batch,
        n_sims,
        (y, p),
        (float(t_max), float(rtol), float(atol), int(max_steps), float(switch_rate), float(ftol)),
        (out, status, t_reached, rate, stats),
    )
    return SteadyStateResult(
        compiled=compiled,
        y=np.maximum(out, 0.0),
        params=p,
        status=status,
        converged=status == 0,
        rate=rate,
        t=t_reached,
        negative_excursion=-np.minimum(stats[:, 2], 0.0),
        steps=stats[:, 0].astype(np.int64),
    )


def simulate_reference(
    net: Network,
    y0: Any,
    p: Any,
    times: Any,
    *,
    t0: float = 0.0,
    method: str = "LSODA",
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> np.ndarray:
    """One simulation with scipy ``solve_ivp`` on the numpy reference RHS: (n_times, n_species).

    Slow and simple: the yardstick for :func:`simulate`. Raises
    :class:`~trkres.errors.ComputationError` if scipy reports a failure.
    """
    from scipy.integrate import solve_ivp

    from trkres.errors import ComputationError

    f = net.reference_rhs()
    params = np.asarray(p, dtype=float)
    t = np.atleast_1d(np.asarray(times, dtype=float))
    sol = solve_ivp(
        lambda tt, yy: f(tt, yy, params),
        (t0, float(t[-1])),
        np.asarray(y0, dtype=float),
        method=method,
        t_eval=t,
        rtol=rtol,
        atol=atol,
    )
    if not sol.success:
        raise ComputationError("the reference integration failed", found=str(sol.message))
    result: np.ndarray = sol.y.T
    return result
