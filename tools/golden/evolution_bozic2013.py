"""Reproduce Bozic et al. 2013 (eLife 2:e00747) Figure 5 with trkres' hybrid engine.

Prints P(cure) of simultaneous and sequential therapy with one cross-resistance site
(n12 = 1, examples/evolution/bozic2013.yaml) and none (n12 = 0), beside the published
values and the closed form of the paper's equation (1). Usage:

    PYTHONPATH=src python tools/golden/evolution_bozic2013.py [patients] [seed]
"""

from __future__ import annotations

import sys
from pathlib import Path

import trkres.models.evolution as ev

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = {(1, "simultaneous"): "26.3%", (1, "sequential"): "0% (fails in all)",
             (0, "simultaneous"): "99.9%", (0, "sequential"): "0% (fails in all)"}  # fmt: skip


def scenario(n12: int) -> dict[str, object]:
    data = ev.read_scenario(ROOT / "examples" / "evolution" / "bozic2013.yaml").model_dump(
        by_alias=True
    )
    if n12 == 0:
        data["mutations"] = [
            m for m in data["mutations"] if m["to"] != "r12" or m["from"] != "sensitive"
        ]
        for m in data["mutations"]:
            if m["to"] == "r12":
                m["rate"] = 5.0e-8
    return data


def main() -> None:
    patients = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    print(f"Bozic 2013 Fig. 5, M = 1e9, {patients:,} patients, seed {seed}")
    for n12 in (1, 0):
        res = ev.simulate(scenario(n12), patients=patients, seed=seed)
        closed = ev.p_cure_dual(1e9, 1e-9, 0.14, 0.13, 0.17, 50, 50, n12)
        for row in res["summary"].to_dict("records"):
            reg = str(row["regimen"])
            form = f"{closed:.4f}" if reg == "simultaneous" else "-"
            print(f"n12={n12} {reg:12s} P(cure) {row['p_cure']:.4f} "
                  f"[{row['p_cure_ci_low']:.4f}, {row['p_cure_ci_high']:.4f}]  "
                  f"published {PUBLISHED[(n12, reg)]:18s} eq.(1) {form}  "
                  f"median TTP {row['median_ttp']:.0f} d")  # fmt: skip


if __name__ == "__main__":
    main()
