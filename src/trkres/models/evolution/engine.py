"""Compiled simulation kernels: the exact (Gillespie) and the hybrid engine.

Both kernels take a compiled scenario as plain arrays (see :class:`Compiled` in
``scenario.py``) and fill per-patient output arrays for a block of patients
``start .. start + n``. Every patient draws from its own random stream, a
SplitMix64 sequence started from ``mix(mix(seed) + patient · K)``, so a patient's
result depends only on ``(seed, patient index)``: the same seed gives the same
patients whether they are simulated in one block, in threads or on Dask workers.

Units: time in days, rates per cell per day, sizes in cells.

Outputs per patient and regimen: ``outcome`` (0 cured, 1 progressed, 2 ongoing),
``ttp`` (days from treatment start to progression on the last step; NaN when none),
``driver`` (index of the most abundant type at the end; −1 when cured), ``comp``
(cells of each type at progression, at the horizon or at cure), ``steps`` (regimen
steps reached). Per patient: ``res_start`` (any non-sensitive cell alive at treatment
start). The exact kernel also counts ``redraws`` (tumours extinct before detection).
See docs/evolution.md for the model and every approximation of the hybrid engine.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

CURED, PROGRESSED, ONGOING = 0, 1, 2

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_K = np.uint64(0xD1B54A32D192ED03)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0

#: Events one hybrid patient-regimen may take before it is stopped as 'ongoing' (a
#: scenario whose u·N is so large that arrivals are not rare; the run notes it).
MAX_HYBRID_EVENTS = 2_000_000


@njit(cache=True)
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def _stream(seed: np.uint64, patient: np.int64) -> np.uint64:
    return _mix(_mix(seed) + np.uint64(patient) * _K)


@njit(cache=True)
def _uniform(state: np.ndarray) -> float:
    """A uniform number in (0, 1), never 0 or 1 (53 bits)."""
    state[0] += _GAMMA
    z = _mix(state[0])
    return (float(z >> _S11) + 0.5) * _INV53


@njit(cache=True)
def _expo(state: np.ndarray) -> float:
    return -math.log(_uniform(state))


@njit(cache=True)
def uniforms(seed: np.uint64, patient: np.int64, n: np.int64) -> np.ndarray:
    """The first ``n`` uniforms of a patient's stream (for tests of the generator)."""
    state = np.empty(1, np.uint64)
    state[0] = _stream(seed, patient)
    out = np.empty(n)
    for i in range(n):
        out[i] = _uniform(state)
    return out


# --------------------------------------------------------------------------- exact


@njit(cache=True)
def _gillespie_event(
    cnt: np.ndarray,
    birth: np.ndarray,
    death: np.ndarray,
    cum_u: np.ndarray,
    total_rate: float,
    state: np.ndarray,
) -> int:
    """One birth or death (direct method); returns ``2·type + 1`` for a cell of ``type``
    added, ``2·type`` for one removed."""
    n_types = cnt.size
    target = _uniform(state) * total_rate
    acc = 0.0
    for k in range(n_types):
        if cnt[k] == 0:
            continue
        acc += birth[k] * cnt[k]
        if target < acc:
            v = _uniform(state)
            for j in range(n_types):
                if v < cum_u[k, j]:
                    cnt[j] += 1  # one daughter is the mutant j, the other stays k
                    return 2 * j + 1
            cnt[k] += 1
            return 2 * k + 1
        acc += death[k] * cnt[k]
        if target < acc:
            cnt[k] -= 1
            return 2 * k
    # rounding at the very end of the sum: the last living type's death
    for k in range(n_types - 1, -1, -1):
        if cnt[k] > 0:
            cnt[k] -= 1
            return 2 * k
    return 0


@njit(cache=True)
def _rate(cnt: np.ndarray, birth: np.ndarray, death: np.ndarray) -> float:
    r = 0.0
    for k in range(cnt.size):
        r += (birth[k] + death[k]) * cnt[k]
    return r


@njit(cache=True, nogil=True)
def exact_block(
    birth: np.ndarray,
    death: np.ndarray,
    u: np.ndarray,
    step_death: np.ndarray,
    n_steps: np.ndarray,
    initial: np.int64,
    detection: float,
    progression: float,
    horizon: float,
    seed: np.uint64,
    start: np.int64,
    outcome: np.ndarray,
    ttp: np.ndarray,
    driver: np.ndarray,
    comp: np.ndarray,
    steps: np.ndarray,
    res_start: np.ndarray,
    redraws: np.ndarray,
    max_redraws: np.int64,
) -> None:
    """Gillespie's direct method, one patient after another (see the module docstring)."""
    n_types = birth.size
    n_reg = n_steps.size
    n = outcome.shape[0]
    cum_u = np.zeros((n_types, n_types))
    for i in range(n_types):
        acc = 0.0
        for j in range(n_types):
            acc += u[i, j]
            cum_u[i, j] = acc if u[i, j] > 0 else -1.0
    state = np.empty(1, np.uint64)
    cnt = np.zeros(n_types, np.int64)
    work = np.zeros(n_types, np.int64)
    for k in range(n):
        state[0] = _stream(seed, start + k)
        tries = 0
        while True:
            cnt[:] = 0
            cnt[0] = initial
            total = initial
            rate = _rate(cnt, birth, death)
            events = 0
            while 0 < total < detection:
                code = _gillespie_event(cnt, birth, death, cum_u, rate, state)
                j = code >> 1
                if code & 1:
                    total += 1
                    rate += birth[j] + death[j]
                else:
                    total -= 1
                    rate -= birth[j] + death[j]
                events += 1
                if events % 4096 == 0:
                    rate = _rate(cnt, birth, death)
            if total > 0:
                break
            tries += 1
            if tries > max_redraws:
                break
        redraws[k] = tries
        if tries > max_redraws:
            outcome[k, :] = -1
            continue
        alive_other = False
        for j in range(1, n_types):
            if cnt[j] > 0:
                alive_other = True
        res_start[k] = alive_other
        for r in range(n_reg):
            work[:] = cnt
            total = np.int64(0)
            for j in range(n_types):
                total += work[j]
            s = 0
            d = step_death[r, 0]
            lowest = total
            t = 0.0
            out = ONGOING
            when = np.nan
            rate = _rate(work, birth, d)
            events = 0
            while True:
                if total == 0:
                    out = CURED
                    break
                events += 1
                if events % 4096 == 0:
                    rate = _rate(work, birth, d)
                t += _expo(state) / rate
                if t >= horizon:
                    break
                code = _gillespie_event(work, birth, d, cum_u, rate, state)
                j = code >> 1
                if code & 1:
                    total += 1
                    rate += birth[j] + d[j]
                else:
                    total -= 1
                    rate -= birth[j] + d[j]
                if total < lowest:
                    lowest = total
                if total > progression and total >= 1.2 * lowest:
                    if s < n_steps[r] - 1:
                        s += 1
                        d = step_death[r, s]
                        rate = _rate(work, birth, d)
                        lowest = total
                    else:
                        out = PROGRESSED
                        when = t
                        break
            outcome[k, r] = out
            ttp[k, r] = when
            steps[k, r] = s + 1
            best = -1
            for j in range(n_types):
                comp[k, r, j] = work[j]
                if work[j] > 0 and (best < 0 or work[j] > work[best]):
                    best = j
            driver[k, r] = best


# -------------------------------------------------------------------------- hybrid


@njit(cache=True)
def _total(x: np.ndarray, lam: np.ndarray, tau: float) -> float:
    f = 0.0
    for j in range(x.size):
        if x[j] > 0:
            f += x[j] * math.exp(lam[j] * tau)
    return f


@njit(cache=True)
def _slope(x: np.ndarray, lam: np.ndarray, tau: float) -> float:
    f = 0.0
    for j in range(x.size):
        if x[j] > 0:
            f += x[j] * lam[j] * math.exp(lam[j] * tau)
    return f


@njit(cache=True)
def _logtotal(x: np.ndarray, lam: np.ndarray, tau: float) -> float:
    """log Σ x·e^{λτ} without overflow (−inf when every x is 0)."""
    m = -np.inf
    for j in range(x.size):
        if x[j] > 0:
            v = math.log(x[j]) + lam[j] * tau
            if v > m:
                m = v
    if m == -np.inf:
        return m
    f = 0.0
    for j in range(x.size):
        if x[j] > 0:
            f += math.exp(math.log(x[j]) + lam[j] * tau - m)
    return m + math.log(f)


@njit(cache=True)
def _root_from_right(x: np.ndarray, lam: np.ndarray, level: float, lo: float, hi: float) -> float:
    """τ in [lo, hi] with Σ x·e^{λτ} = level, the sum increasing on [lo, hi] and ≥ level at
    hi. Newton on the log of the sum (convex: log-sum-exp) from the right converges
    monotonically, in a few steps since the log is nearly linear."""
    target = math.log(level)
    tau = hi
    for _ in range(200):
        g = _logtotal(x, lam, tau) - target
        if g <= 1e-13:
            break
        m = _logtotal(x, lam, tau)
        # d/dτ log f = Σ xλe^{λτ} / Σ xe^{λτ}
        num = 0.0
        for j in range(x.size):
            if x[j] > 0:
                num += lam[j] * math.exp(math.log(x[j]) + lam[j] * tau - m)
        if num <= 0:
            break
        step = g / num
        tau -= step
        if tau <= lo:
            tau = lo
            break
        if step < 1e-11:
            break
    return tau


@njit(cache=True)
def _curvature(x: np.ndarray, lam: np.ndarray, tau: float) -> float:
    f = 0.0
    for j in range(x.size):
        if x[j] > 0:
            f += x[j] * lam[j] * lam[j] * math.exp(lam[j] * tau)
    return f


@njit(cache=True)
def _argmin_slope(x: np.ndarray, lam: np.ndarray, hi: float) -> float:
    """Where the (convex) sum has its minimum on [0, hi]: the root of its increasing
    derivative, by Newton's method kept inside a shrinking bracket (bisection when a
    Newton step leaves it)."""
    if _slope(x, lam, 0.0) >= 0:
        return 0.0
    if _slope(x, lam, hi) <= 0:  # the sum still falls at hi (hi finite: the horizon)
        return hi
    lo = 0.0
    tau = 0.5 * (lo + hi)
    for _ in range(100):
        g = _slope(x, lam, tau)
        if g < 0:
            lo = tau
        else:
            hi = tau
        h = _curvature(x, lam, tau)
        step = g / h if h > 0 else 0.0
        nxt = tau - step
        if not (lo < nxt < hi) or h <= 0:
            nxt = 0.5 * (lo + hi)
        if abs(nxt - tau) < 1e-7 * (1.0 + abs(tau)) or hi - lo < 1e-9:
            return nxt
        tau = nxt
    return tau


@njit(cache=True)
def _arrival(
    t: float, x_src: float, lam_src: float, c_unit: float, ext_src: float, state: np.ndarray
) -> float:
    """Next time of a Poisson process of intensity c_unit·x_src·e^{λ(τ−t)} (inf if none
    before the source's extinction)."""
    c = c_unit * x_src
    if c <= 0.0:
        return np.inf
    e = _expo(state)
    if lam_src == 0.0:
        tau = e / c
    else:
        arg = 1.0 + e * lam_src / c
        if arg <= 0.0:
            return np.inf
        tau = math.log(arg) / lam_src
    if t + tau >= ext_src:
        return np.inf
    return t + tau


@njit(cache=True)
def _extinction_time(n_cells: float, b: float, d: float, state: np.ndarray) -> float:
    """Exact extinction time of a linear birth-death process (b < d) from n cells:
    P(T ≤ τ) = α(τ)^n, α(τ) = d(e^{λτ}−1)/(b e^{λτ}−d), inverted at a uniform."""
    lam = b - d
    v = _uniform(state)
    one_minus_a = -math.expm1(math.log(v) / n_cells)
    a = 1.0 - one_minus_a
    denom = d - a * b
    if denom <= 0.0 or one_minus_a <= 0.0:
        return np.inf
    ratio = d * one_minus_a / denom
    if ratio <= 0.0:
        return np.inf
    return math.log(ratio) / lam


@njit(cache=True)
def _survivors_size(n0: float, b: float, d: float, tau: float, state: np.ndarray) -> float:
    """Cells at age ``tau`` of a linear birth-death process (rates b ≤ d) started from ``n0``
    cells, **given that it is still alive** (the extinction time drawn for it lies ahead).

    Each founder's line is empty with probability α(τ), else geometric on 1, 2, ... with
    ratio β(τ) (Kendall 1948): α = d(e^{λτ} − 1)/(b e^{λτ} − d), β = b(e^{λτ} − 1)/(b e^{λτ}
    − d), λ = b − d. The number K of living lines is binomial(n0, 1 − α) given K ≥ 1, drawn
    by inversion (its mean is below the mean size, < 1000 where this is called)."""
    lam = b - d
    if lam == 0.0:
        alpha = b * tau / (1.0 + b * tau)
        p = 1.0 / (1.0 + b * tau)
        beta = alpha
    else:
        e = math.exp(lam * tau)
        den = b * e - d
        p = lam * e / den  # 1 − α, without cancellation
        beta = b * (e - 1.0) / den
    if not (0.0 < p <= 1.0):
        return 1.0
    n0 = math.floor(n0 + 0.5)
    log_q1 = math.log(n0) + math.log(p) + (n0 - 1.0) * math.log1p(-p) if p < 1.0 else 0.0
    tail = -math.expm1(n0 * math.log1p(-p)) if p < 1.0 else 1.0
    if n0 <= 1.0:
        k = 1.0
    elif p >= 1.0:  # no time has passed: every line lives
        k = n0
    else:
        q = math.exp(log_q1) / tail  # P(K = 1 | K ≥ 1)
        v = _uniform(state)
        acc = q
        k = 1.0
        while v > acc and k < n0 and k < 1e6 and q > 0.0:
            q *= (n0 - k) / (k + 1.0) * p / (1.0 - p)
            k += 1.0
            acc += q
    if beta <= 0.0:
        return k
    log_beta = math.log(beta)
    z = 0.0
    for _ in range(int(k)):
        z += 1.0 + math.floor(math.log(_uniform(state)) / log_beta)
    return z


@njit(cache=True)
def _setup_step(
    x: np.ndarray,
    lam: np.ndarray,
    pest: np.ndarray,
    wmean: np.ndarray,
    ext: np.ndarray,
    decaying: np.ndarray,
    dec_n: np.ndarray,
    dec_t: np.ndarray,
    b_eff: np.ndarray,
    d_step: np.ndarray,
    t: float,
    state: np.ndarray,
) -> None:
    n_types = x.size
    for j in range(n_types):
        if decaying[j] and 0.0 < x[j] < 1000.0:
            # A small type that shrank since dec_t[j] from dec_n[j] cells and is still alive
            # (its extinction time lies ahead): its cells now are the process's size given
            # survival (a few cells: Yaglom), not the unconditional mean x < 1 (which,
            # rounded up to 1 cell, halved a sequential regimen's failures via this type).
            x[j] = _survivors_size(dec_n[j], b_eff[j], b_eff[j] - lam[j], t - dec_t[j], state)
        lam[j] = b_eff[j] - d_step[j]
        if lam[j] > 0:
            pest[j] = lam[j] / b_eff[j]
            wmean[j] = b_eff[j] / lam[j]
        else:
            pest[j] = 0.0
            wmean[j] = 0.0
        ext[j] = np.inf
        if x[j] <= 0:
            decaying[j] = lam[j] <= 0
            continue
        if lam[j] <= 0:
            n_cells = max(1.0, math.floor(x[j] + 0.5))
            if lam[j] == 0.0:  # critical: P(T ≤ τ) = (bτ/(1+bτ))^n
                v = _uniform(state) ** (1.0 / n_cells)
                ext[j] = t + v / (d_step[j] * (1.0 - v))
            else:
                ext[j] = t + _extinction_time(n_cells, b_eff[j], d_step[j], state)
            decaying[j] = True
            dec_n[j] = n_cells
            dec_t[j] = t
        else:
            if decaying[j] and x[j] < 1000.0:
                # A declining type now grows: of its n cells, each founds a lineage that
                # survives with probability pest; survivors contribute W ~ Exp(mean b/λ).
                n_cells = max(1, math.floor(x[j] + 0.5))
                w = 0.0
                for _ in range(n_cells):
                    if _uniform(state) < pest[j]:
                        w += wmean[j] * _expo(state)
                x[j] = w
            decaying[j] = False


@njit(cache=True)
def _pretreatment_clones(
    x: np.ndarray,
    lam: np.ndarray,
    wmean: np.ndarray,
    c_unit: np.ndarray,
    initial: float,
    detection: float,
    cl_type: np.ndarray,
    cl_h: np.ndarray,
    cl_w: np.ndarray,
    cl_p: np.ndarray,
    state: np.ndarray,
) -> int:
    """The tumour at detection when nothing mutates into ``sensitive``: the sensitive bulk
    is then a known exponential, so clone arrivals are independent Poisson processes
    (superposition): each clone's own children are drawn from its own trajectory, with
    no global event queue. Fills ``x`` with the cells of each type at detection and
    returns the number of clones, or −1 when the buffers are too small (the caller
    grows them and simulates the patient again from the start of its stream).

    A clone born at s is kept as h = e^{λ0 (s − T)} (T: when the bulk alone reaches
    detection), so bulk arrivals need no logarithm: e^{λ0 s} = 1 + λ0·Λ/(c·initial) at the
    cumulative intensity Λ; ``cl_p`` holds its cells at T, W·e^{λ_j (T − s)}."""
    n_types = x.size
    lam0 = lam[0]
    g_end = detection / initial
    cap = cl_h.size
    n_cl = 0
    for j in range(1, n_types):
        c = c_unit[0, j]
        if c <= 0.0:
            continue
        scale = lam0 / (c * initial)
        acc = 0.0
        while True:
            acc += _expo(state)
            g = 1.0 + scale * acc  # e^{λ0 s}
            if g > g_end:
                break
            if n_cl == cap:
                return -1
            cl_type[n_cl] = j
            cl_h[n_cl] = g / g_end
            cl_w[n_cl] = wmean[j] * _expo(state)
            n_cl += 1
    # each clone's children: intensity c·W·e^{λ_j (t − s)} from its birth s to T
    k = 0
    while k < n_cl:
        j = cl_type[k]
        h = cl_h[k]
        w = cl_w[k]
        grow = 1.0 / h if lam[j] == lam0 else h ** (-lam[j] / lam0)
        cl_p[k] = w * grow
        for m in range(1, n_types):
            c = c_unit[j, m]
            if c <= 0.0:
                continue
            expected = c * w * (grow - 1.0) / lam[j]
            acc = _expo(state)
            if acc > expected:
                continue
            s_rel = math.log(h) / lam0
            base = c * w
            while acc <= expected:
                tau_c = s_rel + math.log1p(lam[j] * acc / base) / lam[j]
                if n_cl == cap:
                    return -1
                cl_type[n_cl] = m
                cl_h[n_cl] = math.exp(lam0 * tau_c)
                cl_w[n_cl] = wmean[m] * _expo(state)
                n_cl += 1
                acc += _expo(state)
        k += 1
    # detection: f(τ) = M e^{λ0 τ} + Σ_clones born by T+τ  cl_p·e^{λ_j τ}  (τ ≤ 0);
    # clones born after detection are dropped.
    h_lo = -1.0  # every clone counted in the first pass
    tau = 0.0
    for _ in range(1000):
        x[:] = 0.0
        x[0] = detection
        for q in range(n_cl):
            if h_lo < 0.0 or cl_h[q] <= h_lo:
                x[cl_type[q]] += cl_p[q]
        lam_low = lam0
        for j in range(1, n_types):
            if x[j] > 0 and lam[j] < lam_low:
                lam_low = lam[j]
        # f(τ) ≤ f(0)·e^{λ_low τ} for τ < 0, so f(lo) < detection
        lo = -math.log(max(1.0, _total(x, lam, 0.0) / detection)) / lam_low - 1.0
        tau = _root_from_right(x, lam, detection, lo, 0.0)
        if h_lo < 0.0:
            h_lo = math.exp(lam0 * tau)  # every clone counted: detection no later than this
            continue
        h_tau = math.exp(lam0 * tau)
        first = np.inf
        fq = -1
        for q in range(n_cl):
            if h_lo < cl_h[q] <= h_tau and cl_h[q] < first:
                first = cl_h[q]
                fq = q
        if fq < 0:
            break
        h_lo = first
        t_first = math.log(first) / lam0
        # the total reaches detection at this clone's arrival
        if _total(x, lam, t_first) + cl_w[fq] >= detection:
            tau = t_first
            x[cl_type[fq]] += cl_p[fq]
            break
    for j in range(n_types):
        x[j] *= math.exp(lam[j] * tau)
    return n_cl


@njit(cache=True)
def _crossing(
    x: np.ndarray, lam: np.ndarray, lowest: float, span: float, progression: float
) -> tuple[float, float]:
    """First τ in [0, span] where the total Σ x·e^{λτ} meets progression (> progression_size
    and ≥ 1.2 × the lowest total of the step), or −1; and the updated lowest total."""
    n_types = x.size
    tmin = 0.0
    if 1.2 * lowest > progression:
        # Only then can the lowest total move the threshold above progression_size:
        # find the minimum of the convex sum.
        tmin = _argmin_slope(x, lam, span)
        fmin = _total(x, lam, tmin)
        if fmin < lowest:
            lowest = fmin
    level = max(progression, 1.2 * lowest)
    f0 = _total(x, lam, 0.0)
    if f0 <= 0 or tmin >= span:
        return -1.0, lowest
    # f(span) ≤ f(0)·e^{λ_max·span}: no crossing possible when that is below the level
    lam_max = -np.inf
    for j in range(n_types):
        if x[j] > 0 and lam[j] > lam_max:
            lam_max = lam[j]
    if math.log(f0) + lam_max * span < math.log(level):
        return -1.0, lowest
    if _logtotal(x, lam, span) < math.log(level):
        return -1.0, lowest
    return _root_from_right(x, lam, level, tmin, span), lowest


@njit(cache=True)
def _channels(
    x: np.ndarray,
    lam: np.ndarray,
    pest: np.ndarray,
    ext: np.ndarray,
    u: np.ndarray,
    birth: np.ndarray,
    c_unit: np.ndarray,
    terminal: np.ndarray,
    nxt: np.ndarray,
    batch: bool,
    t: float,
    state: np.ndarray,
) -> None:
    """Arrival rates of the step and the next arrival of every event channel. With ``batch``
    every growing type (``terminal``: batched) takes its clones by superposition instead."""
    n_types = x.size
    for i in range(n_types):
        for j in range(n_types):
            c_unit[i, j] = u[i, j] * birth[i] * pest[j]
    for j in range(n_types):
        terminal[j] = batch and pest[j] > 0
    for i in range(n_types):
        for j in range(n_types):
            if terminal[j]:
                nxt[i, j] = np.inf
            else:
                nxt[i, j] = _arrival(t, x[i], lam[i], c_unit[i, j], ext[i], state)


@njit(cache=True)
def _batch(
    x: np.ndarray,
    lam: np.ndarray,
    c_unit: np.ndarray,
    terminal: np.ndarray,
    ext: np.ndarray,
    t: float,
    length: float,
    wmean: np.ndarray,
    add: np.ndarray,
    zpre: np.ndarray,
    st_type: np.ndarray,
    st_s: np.ndarray,
    st_w: np.ndarray,
    state: np.ndarray,
) -> int:
    """Clones of batched types born in (t, t + length], by superposition: from each type's
    cells at t (``x``), then from each new clone its own children, and so on. ``add``: their
    cells at the end of the interval; ``zpre``: the same mass carried back to t
    (W·e^{−λ(s−t)}). Returns the number of clones, or −1 when the buffer overflowed."""
    n_types = x.size
    for j in range(n_types):
        add[j] = 0.0
        zpre[j] = 0.0
    cap = st_s.size
    n = 0
    # From each type's cells at t: intensity c·x_i·e^{λ_i τ}. The growth factor of the
    # source at an arrival is g = e^{λ_i τ} = 1 + λ_i·Λ/(c·x_i) (Λ: cumulative intensity),
    # so a clone's cells at the end, W·e^{λ_j (L − τ)} = W·e^{λ_j L}·g^{−λ_j/λ_i}, need no
    # logarithm; its birth time is computed only when it has children.
    for j in range(n_types):
        if not terminal[j]:
            continue
        for i in range(n_types):
            c = c_unit[i, j]
            if c <= 0.0 or x[i] <= 0.0:
                continue
            end = min(length, ext[i] - t)
            base = c * x[i]
            # the cumulative intensity by the end of the window
            lam_end = base * end if lam[i] == 0.0 else base * math.expm1(lam[i] * end) / lam[i]
            ratio = lam[j] / lam[i] if lam[i] != 0.0 else 0.0
            acc = 0.0
            while True:
                acc += _expo(state)
                if acc > lam_end:
                    break
                if n == cap:
                    return -1
                if lam[i] == 0.0:
                    back = math.exp(-lam[j] * acc / base)  # e^{−λ_j τ}, τ = Λ/base
                else:
                    g = 1.0 + lam[i] * acc / base
                    back = 1.0 / g if ratio == 1.0 else g ** (-ratio)
                w = wmean[j] * _expo(state)
                st_type[n] = j
                st_s[n] = back  # e^{−λ_j τ}: the birth time, as a factor
                st_w[n] = w
                n += 1
    q = 0
    while q < n:
        j = st_type[q]
        back = st_s[q]
        w = st_w[q]
        end_cells = w * math.exp(lam[j] * length) * back
        add[j] += end_cells
        zpre[j] += w * back
        for m in range(n_types):
            c = c_unit[j, m]
            if c <= 0.0 or not terminal[m]:
                continue
            expected = c * (end_cells - w) / lam[j]
            acc = _expo(state)
            if acc > expected:
                continue
            born = -math.log(back) / lam[j]
            base = c * w
            while acc <= expected:
                tau = born + math.log1p(lam[j] * acc / base) / lam[j]
                if n == cap:
                    return -1
                st_type[n] = m
                st_s[n] = math.exp(-lam[m] * tau)
                st_w[n] = wmean[m] * _expo(state)
                n += 1
                acc += _expo(state)
        q += 1
    return n


@njit(cache=True)
def _after_event(
    x: np.ndarray,
    ext: np.ndarray,
    nxt: np.ndarray,
    te: float,
    ta: float,
    ej: int,
    ai: int,
    aj: int,
    horizon: float,
    t: float,
    lam: np.ndarray,
    c_unit: np.ndarray,
    terminal: np.ndarray,
    wmean: np.ndarray,
    state: np.ndarray,
) -> bool:
    """Apply the event at ``t`` (an extinction or an arrival); True when the regimen ends
    (the horizon, or no cell left)."""
    n_types = x.size
    if t >= horizon:
        return True
    if te <= ta:
        x[ej] = 0.0
        ext[ej] = np.inf
        alive = False
        for j in range(n_types):
            nxt[ej, j] = np.inf
            alive = alive or x[j] > 0
        return not alive
    x[aj] += wmean[aj] * _expo(state)
    nxt[ai, aj] = _arrival(t, x[ai], lam[ai], c_unit[ai, aj], ext[ai], state)
    for j in range(n_types):
        if not terminal[j]:
            nxt[aj, j] = _arrival(t, x[aj], lam[aj], c_unit[aj, j], ext[aj], state)
    return False


@njit(cache=True)
def _state_outcome(x: np.ndarray, t: float, horizon: float) -> int:
    for j in range(x.size):
        if x[j] > 0:
            return ONGOING
    return CURED


@njit(cache=True, nogil=True)
def hybrid_block(
    birth: np.ndarray,
    death: np.ndarray,
    u: np.ndarray,
    step_death: np.ndarray,
    n_steps: np.ndarray,
    initial: np.int64,
    detection: float,
    progression: float,
    horizon: float,
    transient_mean: float,
    seed: np.uint64,
    start: np.int64,
    outcome: np.ndarray,
    ttp: np.ndarray,
    driver: np.ndarray,
    comp: np.ndarray,
    steps: np.ndarray,
    res_start: np.ndarray,
    overflow: np.ndarray,
    fast: bool = True,
    batch: bool = True,
) -> None:
    """Deterministic growth of established clones, Poisson arrival of new ones (see
    docs/evolution.md, 'Hybrid engine'). ``overflow`` (patients × regimens, NaN on entry)
    takes the day a patient's run on a regimen was stopped by the event cap."""
    n_types = birth.size
    n_reg = n_steps.size
    n = outcome.shape[0]
    b_eff = np.empty(n_types)
    c_unit = np.zeros((n_types, n_types))
    for i in range(n_types):
        tot = 0.0
        for j in range(n_types):
            tot += u[i, j]
        b_eff[i] = birth[i] * (1.0 - tot)
    state = np.empty(1, np.uint64)
    x = np.zeros(n_types)
    x0 = np.zeros(n_types)
    lam = np.zeros(n_types)
    pest = np.zeros(n_types)
    wmean = np.zeros(n_types)
    ext = np.full(n_types, np.inf)
    decaying = np.zeros(n_types, np.bool_)
    dec_n = np.zeros(n_types)
    dec_t = np.zeros(n_types)
    nxt = np.full((n_types, n_types), np.inf)
    p_transient = -math.expm1(-transient_mean)
    fast_pre = fast
    for j in range(1, n_types):
        if u[j, 0] > 0:
            fast_pre = False
    cl_type = np.empty(1024, np.int64)
    cl_s = np.empty(1024)
    cl_w = np.empty(1024)
    cl_p = np.empty(1024)
    terminal = np.zeros(n_types, np.bool_)
    add = np.zeros(n_types)
    zpre = np.zeros(n_types)
    xz = np.zeros(n_types)
    st_type = np.empty(1 << 16, np.int64)
    st_s = np.empty(1 << 16)
    st_w = np.empty(1 << 16)
    for k in range(n):
        state[0] = _stream(seed, start + k)
        # ---- before treatment: every type at its untreated rates
        x[:] = 0.0
        x[0] = initial
        decaying[:] = False
        _setup_step(x, lam, pest, wmean, ext, decaying, dec_n, dec_t, b_eff, death, 0.0, state)
        for i in range(n_types):
            for j in range(n_types):
                c_unit[i, j] = u[i, j] * birth[i] * pest[j]
        if fast_pre:
            while (
                _pretreatment_clones(
                    x, lam, wmean, c_unit, float(initial), detection, cl_type, cl_s, cl_w, cl_p,
                    state,
                )
                < 0
            ):  # fmt: skip
                cl_type = np.empty(2 * cl_type.size, np.int64)
                cl_s = np.empty(cl_type.size)
                cl_w = np.empty(cl_type.size)
                cl_p = np.empty(cl_type.size)
                state[0] = _stream(seed, start + k)
        else:
            t = 0.0
            for i in range(n_types):
                for j in range(n_types):
                    nxt[i, j] = _arrival(t, x[i], lam[i], c_unit[i, j], ext[i], state)
            while True:
                ta = np.inf
                ai = 0
                aj = 0
                for i in range(n_types):
                    for j in range(n_types):
                        if nxt[i, j] < ta:
                            ta = nxt[i, j]
                            ai = i
                            aj = j
                # The total only grows before treatment: the arrival comes first when the
                # total has not reached detection by then.
                if ta < np.inf and _total(x, lam, ta - t) < detection:
                    for j in range(n_types):
                        x[j] *= math.exp(lam[j] * (ta - t))
                    t = ta
                    x[aj] += wmean[aj] * _expo(state)
                    nxt[ai, aj] = _arrival(t, x[ai], lam[ai], c_unit[ai, aj], ext[ai], state)
                    for j in range(n_types):
                        nxt[aj, j] = _arrival(t, x[aj], lam[aj], c_unit[aj, j], ext[aj], state)
                    continue
                lam_min = np.inf
                xt = 0.0
                for j in range(n_types):
                    if x[j] > 0:
                        xt += x[j]
                        if lam[j] < lam_min:
                            lam_min = lam[j]
                hi = math.log(detection / xt) / lam_min if xt < detection else 0.0
                t_det = _root_from_right(x, lam, detection, 0.0, hi)
                for j in range(n_types):
                    x[j] *= math.exp(lam[j] * t_det)
                break
        present = False
        for j in range(1, n_types):
            if x[j] > 0:
                present = True
        if not present and p_transient > 0:
            present = _uniform(state) < p_transient
        res_start[k] = present
        x0[:] = x
        # ---- each regimen from the same tumour
        for r in range(n_reg):
            x[:] = x0
            decaying[:] = False
            t = 0.0
            s = 0
            _setup_step(
                x, lam, pest, wmean, ext, decaying, dec_n, dec_t, b_eff, step_death[r, 0], t, state
            )
            _channels(x, lam, pest, ext, u, birth, c_unit, terminal, nxt, batch, t, state)
            lowest = _total(x, lam, 0.0)
            out = ONGOING
            when = np.nan
            events = 0
            while True:
                events += 1
                if events > MAX_HYBRID_EVENTS:
                    overflow[k, r] = t
                    break
                te = np.inf
                ej = -1
                for j in range(n_types):
                    if ext[j] < te:
                        te = ext[j]
                        ej = j
                ta = np.inf
                ai = 0
                aj = 0
                for i in range(n_types):
                    for j in range(n_types):
                        if nxt[i, j] < ta:
                            ta = nxt[i, j]
                            ai = i
                            aj = j
                t_next = min(te, ta, horizon)
                span = t_next - t
                f0 = _total(x, lam, 0.0)
                if f0 < lowest:
                    lowest = f0
                tc, lowest = _crossing(x, lam, lowest, span, progression)
                if batch:
                    # Clones born in this interval (into growing types, and their own
                    # children), drawn by superposition instead of one event each.
                    reach = tc if tc >= 0 else span
                    born = _batch(x, lam, c_unit, terminal, ext, t, reach, wmean, add, zpre,
                                  st_type, st_s, st_w, state)  # fmt: skip
                    if born < 0:
                        overflow[k, r] = t
                        break
                    if born > 0:
                        for j in range(n_types):
                            xz[j] = x[j] + zpre[j]
                        tz, lowest = _crossing(xz, lam, lowest, reach, progression)
                        if tz >= 0:
                            tc = tz
                            for j in range(n_types):
                                x[j] = xz[j]  # clones counted from the interval's start
                        else:
                            tc = -1.0
                            for j in range(n_types):
                                x[j] = x[j] * math.exp(lam[j] * span) + add[j]
                            t = t_next
                            if _after_event(x, ext, nxt, te, ta, ej, ai, aj, horizon, t_next,
                                            lam, c_unit, terminal, wmean, state):  # fmt: skip
                                out = _state_outcome(x, t_next, horizon)
                                break
                            continue
                if tc >= 0:
                    for j in range(n_types):
                        x[j] *= math.exp(lam[j] * tc)
                    t += tc
                    if s < n_steps[r] - 1:
                        s += 1
                        _setup_step(
                            x, lam, pest, wmean, ext, decaying, dec_n, dec_t, b_eff,
                            step_death[r, s], t, state,
                        )  # fmt: skip
                        _channels(
                            x, lam, pest, ext, u, birth, c_unit, terminal, nxt, batch, t, state
                        )
                        lowest = _total(x, lam, 0.0)
                        continue
                    out = PROGRESSED
                    when = t
                    break
                for j in range(n_types):
                    x[j] *= math.exp(lam[j] * span)
                t = t_next
                if _after_event(x, ext, nxt, te, ta, ej, ai, aj, horizon, t_next, lam, c_unit,
                                terminal, wmean, state):  # fmt: skip
                    out = _state_outcome(x, t_next, horizon)
                    break
            outcome[k, r] = out
            ttp[k, r] = when
            steps[k, r] = s + 1
            best = -1
            for j in range(n_types):
                comp[k, r, j] = x[j]
                if x[j] > 0 and (best < 0 or x[j] > x[best]):
                    best = j
            driver[k, r] = best
