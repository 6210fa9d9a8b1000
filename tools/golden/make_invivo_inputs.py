"""Seeded synthetic tumour-volume tables for the in vivo golden files (issue 14).

Run from the repository root: ``python tools/golden/make_invivo_inputs.py``. Writes
``tests/data/invivo/lmm_<name>.tsv`` (``mouse_id, arm, day, volume``; day in days, volume in
mm³). The data follow the growth model of ``trkres.assays.invivo.lmm``: log(V/V0) =
(beta[arm] + b_mouse) * t + e, with residual SDs that differ by arm and grow with time, so
every variance structure has something to find. Deterministic (numpy default_rng seeds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "invivo"

ARMS = ("Control", "DrugA", "DrugB", "Combo")


def simulate(
    seed: int,
    *,
    mice: int,
    days: np.ndarray,
    slopes: tuple[float, ...] = (0.20, 0.12, 0.14, 0.05),
    tau: float = 0.03,
    sigma: float = 0.15,
    arm_sd: tuple[float, ...] = (1.0, 1.6, 0.7, 1.3),
    power: float = 0.35,
    dropout: float = 0.0,
    jitter: bool = False,
) -> pd.DataFrame:
    """One study: ``mice`` per arm measured on ``days`` (day 0 the baseline)."""
    rng = np.random.default_rng(seed)
    rows = []
    for a, arm in enumerate(ARMS):
        for m in range(mice):
            mouse = f"{arm}_{m + 1:02d}"
            v0 = rng.uniform(80.0, 200.0)
            b = rng.normal(0.0, tau)
            d = days.astype(float).copy()
            if jitter:
                d[1:] = d[1:] + rng.integers(0, 2, size=d.size - 1)
            last = d.size
            if dropout > 0 and rng.uniform() < dropout:
                last = int(rng.integers(3, d.size))
            for t in d[:last]:
                if t == 0:
                    rows.append((mouse, arm, 0.0, round(v0, 3)))
                    continue
                sd = sigma * arm_sd[a] * t**power / days[-1] ** power * 2.0
                e = rng.normal(0.0, sd)
                rows.append((mouse, arm, float(t), round(v0 * np.exp((slopes[a] + b) * t + e), 3)))
    return pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    sets = {
        # balanced: 4 arms x 8 mice x 10 times, heteroscedastic by arm and time
        "lmm_balanced": simulate(11, mice=8, days=np.arange(0, 31, 3)),
        # unequal times per mouse (jitter) and dropouts, 6 mice per arm
        "lmm_dropout": simulate(23, mice=6, days=np.arange(0, 25, 2), dropout=0.5, jitter=True),
        # larger random slopes, strong time power, 10 mice, 6 times
        "lmm_power": simulate(
            37,
            mice=10,
            days=np.array([0, 4, 7, 11, 14, 18, 21]),
            tau=0.05,
            power=0.8,
            arm_sd=(1.0, 1.0, 1.0, 1.0),
        ),
        # small random slope (near the boundary), strong differences between arms
        "lmm_arms": simulate(
            41, mice=7, days=np.arange(0, 29, 4), tau=0.01, arm_sd=(1.0, 2.5, 0.5, 1.5), power=0.0
        ),
    }
    for name, frame in sets.items():
        frame.to_csv(OUT / f"{name}.tsv", sep="\t", index=False)


if __name__ == "__main__":
    main()
