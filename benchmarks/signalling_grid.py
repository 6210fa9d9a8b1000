"""Benchmark: a genotype × regimen × time grid of a 25-species signalling cascade.

The network (built here, synthetic but of the size and kind of issue 16's model): a
receptor R that a drug A binds (R + A ⇌ R·A), seven MAPK-like tiers of double
phosphorylation (X_i → X_i-P → X_i-PP by the tier above's PP form, Michaelis–Menten,
phosphatases back), negative feedback from the last tier onto the first, a drug B that
inhibits tier 3's kinase, and an AKT-like branch from R: 25 species, 33 reactions.
Grid: 10 "genotypes" (drug A's off-rate × 1–300, tier-2 basal activity 0–0.5 /h) ×
20 doses of A × 50 doses of B = 10,000 simulations, each reported at 0.5, 1, 2, 4, 8 and
24 h (µM, hours; rtol 1e-6, atol 1e-9). With Km = Ki = 1 µM the cascade responds in a
graded way, as issue 16's model should; the same grid with Km = Ki = 0.3 µM (steeper
tiers, stronger feedback: damped or sustained oscillations, Kholodenko-style) is timed
too, since it takes about twice the steps. Also timed at rtol 1e-4 (with its accuracy).

Prints: first-call compile times on a cold cache (shared kernels, once per installation,
and this network's own functions) and warm; our time for the grid (best of
``--repeats``) and simulations/s; scipy ``solve_ivp`` per simulation on a sample (LSODA on
the numpy reference right-hand side, and BDF given our compiled rhs and Jacobian),
extrapolated to the grid, with the ratios; and the largest relative error of ours against
scipy at rtol 1e-10 on the sample (amounts above 1e-6 µM).

Run: ``python benchmarks/signalling_grid.py`` (``--sims 2000`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from trkres.models.signalling.compile import compile_network
from trkres.models.signalling.integrate import simulate, simulate_reference
from trkres.models.signalling.network import Network, Parameter, Reaction, Species

TIERS = 7
TIMES = np.array([0.5, 1.0, 2.0, 4.0, 8.0, 24.0])


def cascade() -> Network:
    """The 25-species benchmark cascade (see the module docstring)."""
    species = [Species("R", 0.1), Species("R_A", 0.0), Species("AKT", 1.0), Species("AKT_P", 0.0)]
    params = [
        Parameter("drugA", 0.0, "µM"),
        Parameter("drugB", 0.0, "µM"),
        Parameter("kon", 3600.0, "1/(µM·h)"),
        Parameter("koff", 36.0, "1/h"),
        Parameter("IC50B", 0.05, "µM"),
        Parameter("basal2", 0.0, "1/h"),
        Parameter("Ki", 1.0, "µM"),
        Parameter("kA", 40.0, "1/h"),
        Parameter("VA", 2.0, "µM/h"),
        Parameter("Km", 1.0, "µM"),
    ]
    reactions = [
        Reaction("bindA", ("R",), ("R_A",), "kon * drugA * R"),
        Reaction("unbindA", ("R_A",), ("R",), "koff * R_A"),
        Reaction("akt", ("AKT",), ("AKT_P",), "kA * R * AKT / (Km + AKT)"),
        Reaction("akt_back", ("AKT_P",), ("AKT",), "VA * AKT_P / (Km + AKT_P)"),
    ]
    last = f"X{TIERS - 1}_PP"
    for i in range(TIERS):
        x, xp, xpp = f"X{i}", f"X{i}_P", f"X{i}_PP"
        species += [Species(x, 1.0), Species(xp, 0.0), Species(xpp, 0.0)]
        params += [Parameter(f"k{i}", 60.0, "1/h"), Parameter(f"V{i}", 3.0, "µM/h")]
        if i == 0:
            kinase = f"R / (1 + {last} / Ki)"
        elif i == 3:
            kinase = f"X{i - 1}_PP / (1 + drugB / IC50B)"
        else:
            kinase = f"X{i - 1}_PP"
        extra = " + basal2" if i == 2 else ""
        reactions += [
            Reaction(f"p{i}a", (x,), (xp,), f"(k{i} * {kinase}{extra}) * {x} / (Km + {x})"),
            Reaction(f"p{i}b", (xp,), (xpp,), f"(k{i} * {kinase}{extra}) * {xp} / (Km + {xp})"),
            Reaction(f"d{i}a", (xpp,), (xp,), f"V{i} * {xpp} / (Km + {xpp})"),
            Reaction(f"d{i}b", (xp,), (x,), f"V{i} * {xp} / (Km + {xp})"),
        ]
    return Network(
        "benchmark_cascade",
        tuple(species),
        tuple(params),
        tuple(reactions),
        observables={"pERK": last, "pAKT": "AKT_P"},
    )


def grid(net: Network, n: int) -> np.ndarray:
    """(n, n_params): genotypes × dose of A × dose of B, in that nesting (n ≤ 10,000)."""
    names = list(net.parameter_names)
    base = net.parameter_values()
    koff = np.geomspace(1, 300, 10)
    basal = np.linspace(0, 0.5, 10)
    dose_a = np.concatenate([[0.0], np.geomspace(1e-4, 10, 19)])
    dose_b = np.concatenate([[0.0], np.geomspace(1e-4, 10, 49)])
    rows = []
    for g in range(10):
        for a in dose_a:
            for b in dose_b:
                p = base.copy()
                p[names.index("koff")] *= koff[g]
                p[names.index("basal2")] = basal[g]
                p[names.index("drugA")] = a
                p[names.index("drugB")] = b
                rows.append(p)
    full = np.array(rows)
    pick = np.linspace(0, len(full) - 1, n).round().astype(int)
    return full[pick]


def probe() -> None:
    """Run in a subprocess: compile times on whatever cache TRKRES_CACHE_DIR points to."""
    from trkres.models.signalling.compile import kernels

    t0 = time.perf_counter()
    kernels()
    t1 = time.perf_counter()
    net = cascade()
    compiled = compile_network(net)
    t2 = time.perf_counter()
    simulate(compiled, net.initial_state(), net.parameter_values(), TIMES)
    t3 = time.perf_counter()
    print(json.dumps({"kernels": t1 - t0, "network": t2 - t1, "first_call": t3 - t2}))


def compile_times() -> tuple[dict[str, float], dict[str, float]]:
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, TRKRES_CACHE_DIR=cache)
        cmd = [sys.executable, __file__, "--probe"]
        runs = [
            json.loads(
                subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
            )
            for _ in range(2)
        ]
    return runs[0], runs[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", type=int, default=12, help="scipy runs (sampled)")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-compile-times", action="store_true")
    args = parser.parse_args()
    if args.probe:
        probe()
        return

    lines: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        lines.append(text)

    net = cascade()
    say(f"network: {len(net.species)} species, {len(net.reactions)} reactions; "
        f"grid: {args.sims:,} simulations x {TIMES.size} times (h) {TIMES.tolist()}; "
        f"cores: {os.cpu_count()}")  # fmt: skip
    if not args.no_compile_times:
        cold, warm = compile_times()
        say(f"compile, cold cache: shared kernels {cold['kernels']:.1f} s (once per "
            f"installation), this network {cold['network']:.1f} s, first call "
            f"{cold['first_call']:.2f} s")  # fmt: skip
        say(f"compile, warm cache: kernels {warm['kernels']:.2f} s, network "
            f"{warm['network']:.2f} s, first call {warm['first_call']:.3f} s")  # fmt: skip

    compiled = compile_network(net)
    params = grid(net, args.sims)
    y0 = net.initial_state()
    simulate(compiled, y0, params[:4], TIMES)  # warm-up (compile, if the cache was cold)
    say(f"load average before timing: {os.getloadavg()[0]:.2f} (2 cores shared)")
    best, cpu = np.inf, np.inf
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        res = simulate(compiled, y0, params, TIMES)
        best = min(best, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    ok = int(res.ok.sum())
    say(f"trkres simulate, rtol 1e-6 (best of {args.repeats}): {best:.2f} s wall "
        f"({cpu:.2f} s CPU) -> {args.sims / best:,.0f} simulations/s; {ok:,} ok, "
        f"{args.sims - ok:,} failed; mean {res.steps.mean():.0f} steps/sim")  # fmt: skip
    perk = res.observables()["pERK"][:, -1]
    say(f"pERK at 24 h across the grid: {perk.min():.3g}-{perk.max():.3g} µM")
    t = time.perf_counter()
    loose = simulate(compiled, y0, params, TIMES, rtol=1e-4, atol=1e-8)
    t_loose = time.perf_counter() - t
    say(f"trkres simulate, rtol 1e-4: {t_loose:.2f} s -> {args.sims / t_loose:,.0f} "
        f"simulations/s; mean {loose.steps.mean():.0f} steps/sim")  # fmt: skip
    osc = params.copy()
    names = list(net.parameter_names)
    osc[:, names.index("Km")] = 0.3
    osc[:, names.index("Ki")] = 0.3
    t = time.perf_counter()
    steep = simulate(compiled, y0, osc, TIMES)
    t_osc = time.perf_counter() - t
    say(f"same grid, Km = Ki = 0.3 µM (oscillatory), rtol 1e-6: {t_osc:.2f} s -> "
        f"{args.sims / t_osc:,.0f} simulations/s; mean {steep.steps.mean():.0f} steps/sim")  # fmt: skip

    rng = np.random.default_rng(5)
    sample = rng.choice(args.sims, size=min(args.sample, args.sims), replace=False)
    t = time.perf_counter()
    for i in sample:
        simulate_reference(net, y0, params[i], TIMES, rtol=1e-6, atol=1e-9)
    lsoda = (time.perf_counter() - t) / sample.size

    def bdf(i: int) -> None:
        p = np.ascontiguousarray(params[i])
        solve_ivp(lambda tt, yy: compiled.rhs_value(yy, p), (0, TIMES[-1]), y0,
                  method="BDF", t_eval=TIMES, rtol=1e-6, atol=1e-9,
                  jac=lambda tt, yy: compiled.jac_value(yy, p))  # fmt: skip

    t = time.perf_counter()
    for i in sample:
        bdf(int(i))
    bdf_time = (time.perf_counter() - t) / sample.size
    ours = best / args.sims
    say(f"scipy solve_ivp LSODA, numpy reference rhs: {lsoda * 1e3:.1f} ms/simulation -> "
        f"{lsoda * args.sims:,.0f} s for the grid; ratio {lsoda / ours:,.0f}x")  # fmt: skip
    say(f"scipy solve_ivp BDF, our compiled rhs + Jacobian: {bdf_time * 1e3:.1f} ms/simulation"
        f" -> {bdf_time * args.sims:,.0f} s; ratio {bdf_time / ours:,.0f}x")  # fmt: skip

    worst, worst_loose = 0.0, 0.0
    for i in sample:
        ref = simulate_reference(net, y0, params[i], TIMES)
        big = np.abs(ref) > 1e-6
        rel = np.abs(res.y[i][big] - ref[big]) / np.abs(ref[big])
        rel_loose = np.abs(loose.y[i][big] - ref[big]) / np.abs(ref[big])
        worst, worst_loose = max(worst, rel.max()), max(worst_loose, rel_loose.max())
    say(f"accuracy vs scipy LSODA rtol 1e-10 on {sample.size} sampled simulations "
        f"(amounts > 1e-6 µM): max relative error {worst:.1e} at rtol 1e-6, "
        f"{worst_loose:.1e} at rtol 1e-4")  # fmt: skip

    out = Path(__file__).resolve().parent / "results" / "signalling_grid.txt"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
