"""Benchmark: the TRK signalling model on a genotype × regimen × time grid of ≥ 10,000
simulations (issue 16's target: < 10 s on this machine), ours vs scipy ``solve_ivp``.

Ours: :func:`trkres.models.signalling.run.run_signal` end to end (parsing, steady states,
the batched Rodas4 integration, readouts and tables; no dose curves). The peer: scipy
``solve_ivp`` (LSODA, rtol 1e-6, atol 1e-9 — the same tolerances) on the same network's
reference right-hand side, one simulation at a time from the same steady states, timed on a
sample and extrapolated (it would take minutes to run all). Also reports how far the two
are apart on the sample (largest relative difference of the readouts).
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

GENOTYPES = [
    "LMNA::NTRK1",
    "LMNA::NTRK1 + NTRK1 G595R",
    "LMNA::NTRK1 + NTRK1 F589L",
    "LMNA::NTRK1 + NTRK1 G667C",
    "LMNA::NTRK1 + NTRK1 G595R + KRAS G12D",
    "LMNA::NTRK1 + BRAF V600E",
    "PLEKHA6::NTRK1 + MET amplification",
    "ETV6::NTRK3 + NTRK3 G623R",
]


def regimens(n: int) -> list[str]:
    """``n`` regimens: TRK inhibitor × (MEK, RAF, MET or RAF + MEK partner) × doses."""
    trk = [f"{d}={x:g}nM" for d in ("larotrectinib", "selitrectinib", "repotrectinib", "entrectinib")
           for x in (1, 3, 10, 30, 100, 300)]  # fmt: skip
    partner = ["none"] + [f"{d}={x:g}nM" for d in ("trametinib", "binimetinib", "dabrafenib",
                                                    "crizotinib", "cobimetinib")
                          for x in (1, 3, 10, 30, 100, 300, 1000)]  # fmt: skip
    doses = (1, 3, 10, 30, 100, 300, 1000)
    partner += [f"dabrafenib={a}nM+trametinib={b}nM" for a, b in itertools.product(doses, doses)]
    out = [t if p == "none" else f"{t}+{p}" for t, p in itertools.product(trk, partner)]
    return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--regimens", type=int, default=1250)
    parser.add_argument("--times", type=float, nargs="+", default=[1, 2, 6, 24])
    parser.add_argument("--sample", type=int, default=20)
    args = parser.parse_args()
    from scipy.integrate import solve_ivp

    from trkres.knowledge.loader import load_knowledge
    from trkres.models.signalling.drugs import model_drugs
    from trkres.models.signalling.genotype import parse_genotype, parse_treatment
    from trkres.models.signalling.grid import (
        Overrides,
        _parameters,
        _with_doses,
        steady_states,
        trk_model,
    )
    from trkres.models.signalling.run import run_signal

    kb = load_knowledge()
    trk_model()  # compile (or load from the cache) before timing
    treatments = regimens(args.regimens)
    n_sims = len(GENOTYPES) * (len(treatments) + 1)
    t0 = time.perf_counter()
    result = run_signal({"genotypes": GENOTYPES, "treatments": treatments,
                         "times_h": args.times, "dose_points": 0}, knowledge=kb)  # fmt: skip
    ours = time.perf_counter() - t0
    cells = len(GENOTYPES) * (len(treatments) + 1) * len(args.times)
    print(f"ours: {n_sims} simulations ({cells} genotype × regimen × time readouts, "
          f"{result.simulations} integrated) in {ours:.2f} s")  # fmt: skip

    net, _ = trk_model()
    rhs = net.reference_rhs()
    rng = np.random.default_rng(0)
    genotypes = [parse_genotype(g, kb) for g in GENOTYPES]
    states, _, _ = steady_states(genotypes, kb)
    drugs = model_drugs(kb)
    times = sorted({*args.times, 72.0})
    peer_time = 0.0
    worst = 0.0
    readouts = result["levels"].set_index(["genotype", "treatment", "time_h", "readout"])["level"]
    for _ in range(args.sample):
        gi = int(rng.integers(len(genotypes)))
        treatment = parse_treatment(treatments[int(rng.integers(len(treatments)))], kb)
        p = _with_doses(
            net, _parameters(net, genotypes[gi], drugs, Overrides()), treatment.doses_nm
        )
        t1 = time.perf_counter()
        sol = solve_ivp(rhs, (0, times[-1]), states[gi], args=(p,), method="LSODA",
                        t_eval=times, rtol=1e-6, atol=1e-9)  # fmt: skip
        peer_time += time.perf_counter() - t1
        obs = net.observe(sol.y, p)
        for k, t in enumerate(times):
            if t not in args.times:
                continue
            for name in ("pERK", "pAKT"):
                ours_v = readouts[(genotypes[gi].label, treatment.label, t, name)]
                worst = max(worst, abs(ours_v - obs[name][k]) / max(abs(obs[name][k]), 1e-6))
    per_sim = peer_time / args.sample
    print(f"scipy solve_ivp (LSODA): {per_sim * 1e3:.1f} ms per simulation → "
          f"{per_sim * n_sims:.1f} s for the grid (extrapolated from {args.sample})")  # fmt: skip
    print(f"ratio (scipy / ours): {per_sim * n_sims / ours:.1f}×")
    print(f"largest relative difference of pERK/pAKT on the sample: {worst:.2e}")


if __name__ == "__main__":
    main()
