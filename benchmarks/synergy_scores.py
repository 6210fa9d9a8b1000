"""Benchmark: synergy scores of 1,000 realistic 6 × 6 matrices with triplicates, ours vs `synergy`.

Matrices are simulated from MuSyC surfaces (random potencies, Hill slopes,
maximal effects, potency synergy α and efficacy synergy) with 5 % Gaussian
noise, three replicates per dose pair. Per model (Bliss, HSA, Loewe, ZIP) the
benchmark times trkres scoring every matrix in one batch against the
`synergy` package (Wooten & Albert) looping over matrices, reports the time per
matrix and the ratio, the number of matrices each tool failed on (an exception
or no score), and how the two tools' numbers compare on the same matrices:

* Bliss and HSA: `synergy` takes the replicate median of each single agent;
  with its mean (``LogLinear(aggregation_function=np.mean)``) the scores are the same.
* Loewe: ours is SynergyFinder's; `synergy`'s ``delta_HSA`` mode solves the same
  equation and differs only where it has no solution (fallbacks).
* ZIP: `synergy` lets the refitted curves' maximum free; Yadav et al. and
  SynergyFinder fix it at 100 % inhibition, as we do.

Neither tool's scores are bootstrapped here (n_boot = 0). Peers: benchmarks/requirements.txt.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from trkres.assays.synergy.io import from_frame
from trkres.assays.synergy.musyc import surface
from trkres.assays.synergy.scorer import Synergy

D1 = np.array([0, 0.01, 0.1, 1, 10, 100]) * 1e-6  # molar
D2 = np.array([0, 0.02, 0.2, 2, 20, 200]) * 1e-6


def simulate(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d1, d2 = (a.ravel() for a in np.meshgrid(D1, D2, indexing="ij"))
    rows = []
    for b in range(n):
        e1, e2 = rng.uniform(0.0, 0.7, 2)
        e3 = max(0.0, min(e1, e2) - rng.uniform(-0.1, 0.3))
        theta = np.array([1.0, e1, e2, e3, np.log10(rng.uniform(0.6, 2.5)), np.log10(rng.uniform(0.6, 2.5)),
                          rng.uniform(-8, -5), rng.uniform(-8, -5), rng.normal(0, 0.7)])  # fmt: skip
        e = surface(theta, d1, d2)
        for _ in range(3):
            rows.append(pd.DataFrame({"block_id": b, "conc1": d1, "conc2": d2,
                                      "E": e + rng.normal(0, 0.05, e.shape)}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def ours(frame: pd.DataFrame, model: str, zip_max: str = "fixed") -> tuple[float, Synergy]:
    table = pd.DataFrame({"block_id": frame["block_id"], "drug1": "A", "drug2": "B", "conc1": frame["conc1"],
                          "conc2": frame["conc2"], "response": frame["E"], "conc_unit": "M"})  # fmt: skip
    t0 = time.perf_counter()
    result = Synergy([model], n_boot=0, musyc=False, zip_max=zip_max).fit(  # type: ignore[arg-type]
        from_frame(table, response="viability_fraction")
    )
    return time.perf_counter() - t0, result


def theirs(
    frame: pd.DataFrame, model: str, blocks: list[int]
) -> tuple[float, dict[int, pd.DataFrame], int]:
    from synergy.combination import HSA, ZIP, Bliss, Loewe
    from synergy.single import LogLinear

    def make() -> object:
        if model == "loewe":
            return Loewe(mode="delta_HSA")
        if model == "zip":
            return ZIP()
        cls = Bliss if model == "bliss" else HSA
        return cls(drug1_model=LogLinear(aggregation_function=np.mean),
                   drug2_model=LogLinear(aggregation_function=np.mean))  # fmt: skip

    out: dict[int, pd.DataFrame] = {}
    failed = 0
    groups = dict(tuple(frame.groupby("block_id")))
    t0 = time.perf_counter()
    for b in blocks:
        g = groups[b]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                syn = np.asarray(
                    make().fit(g["conc1"].to_numpy(), g["conc2"].to_numpy(), g["E"].to_numpy())
                )  # type: ignore[attr-defined]
        except Exception:  # the peer raising is what we count
            failed += 1
            continue
        if not np.isfinite(syn[(g["conc1"] > 0).to_numpy() & (g["conc2"] > 0).to_numpy()]).any():
            failed += 1
        out[b] = pd.DataFrame(
            {"conc1": g["conc1"].to_numpy(), "conc2": g["conc2"].to_numpy(), "theirs": 100 * syn}
        )
    return time.perf_counter() - t0, out, failed


def compare(result: Synergy, model: str, peer: dict[int, pd.DataFrame]) -> str:
    m = result.matrix_
    m = m[(m["conc1"] > 0) & (m["conc2"] > 0)].copy()
    m["block"] = m["block_id"].astype(int)
    t = pd.concat([p.assign(block=b) for b, p in peer.items()])
    t = t.groupby(["block", "conc1", "conc2"], as_index=False)["theirs"].mean()
    j = m.merge(t, on=["block", "conc1", "conc2"])
    if model == "loewe":
        j = j[~j["loewe_fallback"]]
    diff = (j[model] - j["theirs"]).abs()
    per_block = j.groupby("block")[[model, "theirs"]].mean()
    r = np.corrcoef(per_block[model], per_block["theirs"])[0, 1] if len(per_block) > 2 else np.nan
    scope = "cells the Loewe equation solves" if model == "loewe" else "combination cells"
    return (f"  agreement on {len(j):,} {scope}: median |Δ| {diff.median():.3g}, 95th pct {diff.quantile(0.95):.3g} "
            f"percentage points; summary-score correlation r = {r:.4f}; mean(ours − theirs) "
            f"{(j[model] - j['theirs']).mean():+.3g}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--matrices", type=int, default=1000)
    parser.add_argument("--peer-matrices", type=int, default=1000,
                        help="matrices the peer scores for Bliss/HSA/Loewe (ZIP: a tenth, it is slow)")  # fmt: skip
    args = parser.parse_args()
    frame = simulate(args.matrices)
    for model in ("loewe", "zip"):  # numba's cached machine code loaded once, outside the timings
        ours(frame.head(36 * 3 * 5), model)
    print(f"{args.matrices:,} matrices, 6 × 6 doses, 3 replicates ({len(frame):,} wells)")
    for model in ("bliss", "hsa", "loewe", "zip"):
        t_ours, result = ours(frame, model)
        n_peer = max(1, args.peer_matrices // (10 if model == "zip" else 1))
        blocks = list(range(min(n_peer, args.matrices)))
        t_peer, peer, failed = theirs(frame, model, blocks)
        ours_failed = int(result.summary_[model].isna().sum())
        per_ours = t_ours / args.matrices * 1e3
        per_peer = t_peer / len(blocks) * 1e3
        print(f"{model:6s} trkres {per_ours:8.3f} ms/matrix  synergy {per_peer:8.2f} ms/matrix "
              f"({len(blocks)} matrices)  ratio {per_peer / per_ours:7.1f}×  "
              f"failed: trkres {ours_failed}/{args.matrices}, synergy {failed}/{len(blocks)}")  # fmt: skip
        print(compare(result, model, peer))
        if model == "zip":
            _, free = ours(frame, model, zip_max="free")
            print("  with the refitted maximum free, as `synergy` does (zip_max='free'):")
            print(compare(free, model, peer))
    # The peer's default Loewe mode (combination-index form) is the one measured in the issue.
    from synergy.combination import Loewe

    n = min(args.peer_matrices, args.matrices)
    groups = dict(tuple(frame.groupby("block_id")))
    failed = 0
    t0 = time.perf_counter()
    for b in range(n):
        g = groups[b]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Loewe().fit(g["conc1"].to_numpy(), g["conc2"].to_numpy(), g["E"].to_numpy())
        except Exception:
            failed += 1
    per = (time.perf_counter() - t0) / n * 1e3
    print(f"synergy's default Loewe (mode='CI'): {per:.2f} ms/matrix, raised on {failed}/{n}")


if __name__ == "__main__":
    main()
