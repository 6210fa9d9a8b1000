"""Write the seeded synthetic inputs of the in vivo synergy golden files (issue 14).

Run from the repository root: ``python tools/golden/make_invivo_synergy_inputs.py``.
Writes ``tests/data/invivo/synergy_two_drugs.tsv`` (control, A, B, A+B; 8 mice × 9 days)
and ``tests/data/invivo/synergy_three_drugs.tsv`` (control, A, B, C, A+B+C; 6 mice × 8
days), long tables ``mouse_id, arm, day, volume`` (mm³) drawn from the exponential growth
model ``log(V/V0) = (β_arm + b)·t + ε`` with a random slope b per mouse and a residual SD
that grows with time (so variance functions have something to find). A few late
measurements are left out (mice that leave early). Then run tools/golden/invivo_synergy.R.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "invivo"


def simulate(
    slopes: dict[str, float], n_mice: int, days: np.ndarray, seed: int, drop: int
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for arm, beta in slopes.items():
        for m in range(n_mice):
            v0 = rng.uniform(80.0, 200.0)
            b = rng.normal(0.0, 0.02)
            t = days - days[0]
            eps = rng.normal(0.0, 0.06 * (1.0 + t / 10.0))
            eps[0] = 0.0
            vol = v0 * np.exp((beta + b) * t + eps)
            for d, v in zip(days, vol, strict=True):
                rows.append((f"{arm}_{m + 1}", arm, float(d), round(float(v), 3)))
    frame = pd.DataFrame(rows, columns=["mouse_id", "arm", "day", "volume"])
    # Mice that leave early: the last `drop` mice lose their final two measurements.
    last_days = set(days[-2:].tolist())
    leavers = frame["mouse_id"].drop_duplicates().sample(drop, random_state=seed).tolist()
    gone = frame["mouse_id"].isin(leavers) & frame["day"].isin(last_days)
    return frame.loc[~gone].sort_values(["arm", "mouse_id", "day"]).reset_index(drop=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    two = simulate(
        {"Control": 0.12, "DrugA": 0.09, "DrugB": 0.08, "Combo": 0.03},
        n_mice=8,
        days=np.array([0.0, 3, 6, 8, 10, 13, 15, 17, 20]),
        seed=20261206,
        drop=4,
    )
    two.to_csv(OUT / "synergy_two_drugs.tsv", sep="\t", index=False)
    three = simulate(
        {"Vehicle": 0.10, "A": 0.08, "B": 0.085, "C": 0.07, "ABC": 0.02},
        n_mice=6,
        days=np.array([0.0, 2, 5, 7, 9, 12, 14, 16]),
        seed=14,
        drop=3,
    )
    three.to_csv(OUT / "synergy_three_drugs.tsv", sep="\t", index=False)


if __name__ == "__main__":
    main()
