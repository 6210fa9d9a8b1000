"""Benchmark: batch 4PL fitting of 100,000 realistic curves vs a scipy curve_fit loop.

Curves: 9 doses × 3 replicates; 70% sigmoid (random LogIC50, slope, top, bottom,
5% noise), 10% flat, 10% out of range (IC50 above the top dose), 10% noisy
(15% noise). Reports our curves/s (after numba's one-off compile, cached on
disk; the fastest of ``--repeats`` runs of the whole ``fit_curves``, statistics
and table included), scipy's curves/s on a subset, the ratio, and the share of curves whose
sum of squares is within 0.1% of the best of 15 scipy starts (targets:
>= 100,000 curves/s on 2 cores, >= 95%).

thunor and CurveCurator pin pandas < 3, so they run in their own virtual
environment (benchmarks/requirements-peers.txt) on the same curves, through
benchmarks/peers/dose_response_peers.py: pass ``--peer-python
/path/to/peer-venv/bin/python``. Their curves/s, the ratio to ours, and how
often our sum of squares is no worse than theirs (within 0.1%) are printed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.assays.doseresponse.curvefit import CurveSet, fit_curves
from trkres.assays.doseresponse.curvefit import _starts as _bounds_for
from trkres.assays.doseresponse.reference import scipy_multistart

DOSES = np.log10(np.logspace(-10, -5, 9))


def simulate(n: int, seed: int = 11) -> CurveSet:
    rng = np.random.default_rng(seed)
    kind = rng.choice(4, n, p=[0.7, 0.1, 0.1, 0.1])
    lic = np.where(kind == 2, rng.uniform(-4.8, -4.0, n), rng.uniform(-9, -6, n))
    hill = -rng.uniform(0.6, 2.5, n)
    top = rng.uniform(0.9, 1.1, n)
    bottom = np.where(kind == 1, top, rng.uniform(0, 0.3, n))
    noise = np.where(kind == 3, 0.15, 0.05)
    x = np.tile(np.repeat(DOSES, 3), (n, 1))
    with np.errstate(over="ignore"):
        y = bottom[:, None] + (top - bottom)[:, None] / (
            1 + 10 ** ((lic[:, None] - x) * hill[:, None])
        )
    y = y + rng.normal(0, 1, x.shape) * noise[:, None]
    return CurveSet(np.arange(n).astype(object), x, y, np.full(n, x.shape[1]))


def scipy_fit(
    x: np.ndarray, y: np.ndarray, starts: int, bounds: tuple[np.ndarray, np.ndarray] | None = None
) -> float:
    return scipy_multistart(x, y, starts, bounds=bounds)[0]


def _bounds(cs: CurveSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    starts, lo, hi = _bounds_for(cs, "4pl")
    # scipy's order is (log_ic50, hill, top, bottom), the same as trkres's.
    return starts, lo, hi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--curves", type=int, default=100_000)
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs of ours; the fastest counts"
    )
    parser.add_argument("--scipy-curves", type=int, default=1_000)
    parser.add_argument("--quality-curves", type=int, default=300)
    parser.add_argument("--peer-python", help="Python of a venv with thunor and CurveCurator")
    parser.add_argument("--peer-curves", type=int, default=500)
    args = parser.parse_args()
    cs = simulate(args.curves)
    fit_curves(
        CurveSet(cs.ids[:10], cs.x[:10], cs.y[:10], cs.n[:10])
    )  # compile (or load the cache)
    ours = np.inf
    for _ in range(args.repeats):  # best of a few runs, as timeit does: less OS noise
        t0 = time.perf_counter()
        fits = fit_curves(cs)
        ours = min(ours, time.perf_counter() - t0)
    m = args.scipy_curves
    t0 = time.perf_counter()
    for i in range(m):
        scipy_fit(cs.x[i], cs.y[i], starts=1)
    peer = time.perf_counter() - t0
    q = args.quality_curves
    ref = np.array([scipy_fit(cs.x[i], cs.y[i], starts=15) for i in range(q)])
    ratio = fits["sse"].to_numpy()[:q] / ref
    _starts, lo, hi = _bounds(cs)
    ref_b = np.array(
        [scipy_fit(cs.x[i], cs.y[i], starts=15, bounds=(lo[i], hi[i])) for i in range(q)]
    )
    ratio_b = fits["sse"].to_numpy()[:q] / ref_b
    print(f"curves: {args.curves:,} (9 doses x 3 replicates)")
    print(
        f"trkres batch fit (best of {args.repeats}): {ours:.2f} s -> {args.curves / ours:,.0f} curves/s"
    )
    print(
        f"scipy curve_fit loop (1 start, {m:,} curves): {m / peer:,.0f} curves/s -> ratio {(args.curves / ours) / (m / peer):.0f}x"
    )
    print(
        f"within 0.1% of the best of 15 scipy starts: {(ratio <= 1.001).mean():.1%} of {q} curves "
        f"(worst ratio {ratio.max():.4f})"
    )
    print(
        f"  same, scipy held to trkres's parameter bounds: {(ratio_b <= 1.001).mean():.1%} "
        f"(worst ratio {ratio_b.max():.4f})"
    )
    not_flat = fits["status"].to_numpy()[:q] != "flat"
    print(
        f"  unbounded scipy, non-flat curves only: {(ratio[not_flat] <= 1.001).mean():.1%} of {not_flat.sum()}"
    )
    print("statuses:", pd.Series(fits["status"]).value_counts().to_dict())
    if args.peer_python:
        k = args.peer_curves
        with tempfile.TemporaryDirectory() as tmp:
            np.savez(Path(tmp) / "curves.npz", x=cs.x[:k], y=cs.y[:k])
            script = Path(__file__).parent / "peers" / "dose_response_peers.py"
            subprocess.run([args.peer_python, str(script), str(Path(tmp) / "curves.npz"), str(Path(tmp) / "out.json")],
                           check=True)  # fmt: skip
            peers = json.loads((Path(tmp) / "out.json").read_text(encoding="utf-8"))
        ours_sse = fits["sse"].to_numpy()[:k]
        for name, r in peers.items():
            rate = r["curves"] / r["seconds"]
            theirs = np.asarray(r["sse"], dtype=float)
            ok = np.isfinite(theirs)
            no_worse = (ours_sse[ok] <= theirs[ok] * 1.001).mean()
            print(f"{name} ({r['curves']} curves): {rate:,.0f} curves/s -> ratio {(args.curves / ours) / rate:,.0f}x; "
                  f"our SSE within 0.1% of or below theirs on {no_worse:.1%} of {ok.sum()} curves it fitted")  # fmt: skip


if __name__ == "__main__":
    main()
