"""Benchmark: virtual patients per second of the evolution simulator, exact vs hybrid.

Two comparisons, each on one scenario run by both engines (the seed fixed, numba
compiled before timing, every thread of this machine used):

* ``head-to-head``: Bozic 2013's two-drug scenario (examples/evolution/bozic2013.yaml:
  b 0.14, d 0.13, d' 0.17 per day, u 1e-9 per site per division, n1 = n2 = 50,
  n12 = 1; simultaneous and sequential regimens, both counted as one patient) and a
  one-drug scenario (n = 50), scaled down to a detection size the exact engine reaches
  (``--exact-size``, default 1e4 cells, progression at 2x), with u scaled up so that u·M
  stays that of the paper (the same expected number of resistant clones).
* ``target``: the hybrid engine at the issue's size, detection 1e9 cells, on the same
  Bozic scenario and on a one-drug scenario (n = 50 sites), in patients per second.

The issue's target is >= 100,000 patients/s at detection 1e9 on this 2-core machine.
Prints a table; ``--out FILE`` also writes it.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import trkres.models.evolution as ev

ROOT = Path(__file__).resolve().parents[1]


def bozic(size: float, scale: float = 1.0) -> dict[str, Any]:
    sc = ev.read_scenario(ROOT / "examples" / "evolution" / "bozic2013.yaml").model_dump(
        by_alias=True
    )
    sc["detection_size"] = size
    sc["progression_size"] = 2 * size
    for m in sc["mutations"]:
        m["rate"] = min(1.0, m["rate"] * scale)
    return sc


def one_drug(size: float, scale: float = 1.0) -> dict[str, Any]:
    sc = bozic(size)
    sc["types"] = {"sensitive": {"resists": []}, "r": {"resists": ["drug1"]}}
    sc["mutations"] = [{"from": "sensitive", "to": "r", "rate": min(1.0, 5e-8 * scale)}]
    sc["regimens"] = {"mono": [{"drugs": ["drug1"]}]}
    return sc


def rate(sc: dict[str, Any], method: str, patients: int, threads: int) -> tuple[float, float]:
    """(simulation only, end to end with the output tables) patients/s, best of two runs."""
    ev.simulate(sc, patients=min(patients, 50), seed=1, method=method, threads=threads)  # compile
    best = (0.0, 0.0)
    for _ in range(2):
        start = time.perf_counter()
        res = ev.simulate(sc, patients=patients, seed=2, method=method, threads=threads)
        wall = time.perf_counter() - start
        best = max(best, (patients / res.seconds, patients / wall))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exact-size", type=float, default=1e4)
    parser.add_argument("--exact-patients", type=int, default=200)
    parser.add_argument("--hybrid-patients", type=int, default=200_000)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path)
    a = parser.parse_args()
    lines = [f"evolution_patients: {os.cpu_count()} CPU core(s), threads={a.threads or 'all'}"]
    scale = 1e9 / a.exact_size
    for name, small in (("Bozic 2013, 2 drugs, 2 regimens", bozic(a.exact_size, scale)),
                        ("one drug, n = 50", one_drug(a.exact_size, scale))):  # fmt: skip
        exact = rate(small, "exact", a.exact_patients, a.threads)[0]
        hybrid = rate(small, "hybrid", a.hybrid_patients, a.threads)[0]
        lines.append(f"head-to-head at detection {a.exact_size:.0e} (u x {scale:.0e}), {name}:")
        lines.append(f"  exact   {exact:14,.1f} patients/s")
        lines.append(
            f"  hybrid  {hybrid:14,.1f} patients/s   ({hybrid / exact:,.0f}x the exact engine)"
        )
    lines.append("target, detection 1e9 (hybrid), patients/s: simulation / end to end with tables")
    for name, sc in (
        ("Bozic 2013, 2 drugs, 2 regimens", bozic(1e9)),
        ("one drug, n = 50", one_drug(1e9)),
    ):
        for threads in sorted({1, a.threads or (os.cpu_count() or 1)}):
            sim, total = rate(sc, "hybrid", a.hybrid_patients, threads)
            lines.append(f"  {name:32s} {threads} thread(s) {sim:10,.0f} / {total:10,.0f}")
    text = "\n".join(lines)
    print(text)
    if a.out:
        a.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
