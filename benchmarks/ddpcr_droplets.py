"""Benchmark: classifying a 96-well plate of raw droplet amplitudes (~1.5 million droplets).

Target: well under a second on 2 cores. The plate is simulated (two Gaussian
clusters per channel, 0.5% rain, copies per droplet from 0.001 to 1); the
peer is the same work done with scikit-learn's KMeans per well and channel
when scikit-learn is installed (see benchmarks/requirements.txt).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from trkres.assays.ddpcr.droplets import Droplets, classify_droplets


def simulate(wells: int = 96, droplets: int = 15_600, seed: int = 3) -> tuple[Droplets, np.ndarray]:
    rng = np.random.default_rng(seed)
    names = [f"{r}{c:02d}" for r in "ABCDEFGH" for c in range(1, 13)][:wells]
    lam = np.geomspace(0.001, 1.0, wells)
    amp, truth, well = [], [], []
    for name, lm in zip(names, lam, strict=True):
        pos = rng.random((droplets, 2)) < 1 - np.exp(-np.array([lm, 0.3]))
        a = np.where(pos, rng.normal([9000, 6000], [400, 350], (droplets, 2)),
                     rng.normal([2200, 1400], [150, 120], (droplets, 2)))  # fmt: skip
        rain = rng.random((droplets, 2)) < 0.005
        a = np.where(rain, rng.uniform([2700, 1800], [8000, 5200], (droplets, 2)), a)
        amp.append(a)
        truth.append(pos & ~rain)
        well.append(np.full(droplets, name, dtype=object))
    return Droplets(np.concatenate(well), np.concatenate(amp), None, names), np.concatenate(truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    plate, truth = simulate()
    n = len(plate.well)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        calls = classify_droplets(plate)
        times.append(time.perf_counter() - t0)
    ours = min(times)
    clean = ~np.isnan(plate.amplitude).any(axis=1)
    agree = float((calls.positive[clean] == truth[clean]).mean())
    print(f"droplets: {n:,} in {len(plate.wells)} wells")
    print(
        f"trkres (robust negative-cluster threshold per well and channel): {ours:.3f} s  ({n / ours / 1e6:.1f} M droplets/s)"
    )
    print(f"agreement with the simulated truth (rain excluded from truth): {agree:.4%}")
    try:
        from sklearn.cluster import KMeans
    except ImportError:
        print("peer: scikit-learn not installed (pip install -r benchmarks/requirements.txt)")
        return
    codes = {w: np.flatnonzero(plate.well == w) for w in plate.wells}
    t0 = time.perf_counter()
    for idx in codes.values():
        for c in (0, 1):
            KMeans(2, n_init=1, random_state=0).fit(plate.amplitude[idx, c : c + 1])
    peer = time.perf_counter() - t0
    print(
        f"peer (scikit-learn KMeans per well and channel): {peer:.3f} s  -> ratio {peer / ours:.1f}x"
    )


if __name__ == "__main__":
    main()
