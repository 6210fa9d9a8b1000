"""Write the seeded synthetic time-to-endpoint data the survival golden files are made from.

Run from the repository root (dev only; the output is committed):

    python tools/golden/make_invivo_survival_inputs.py
    Rscript tools/golden/invivo_survival.R

Writes ``tests/data/invivo/survival_inputs.tsv``: ``dataset, mouse_id, arm, time, event``
(days to the endpoint; event 1 = reached, 0 = censored). The project owns this data.

Datasets:

* ``main``: four arms of 18-20 mice, exponential times rounded to whole days (ties within
  and between arms, events tied with censorings), ~25% censored — the usual study.
* ``edges``: hand-made arms for the median's corner cases: ``ctl`` with a flat exactly at
  S = 0.5 (median = midpoint to the next event), ``flat_end`` whose curve ends at 0.5
  (midpoint to the last time), ``never`` (median not reached), ``all`` (every mouse
  reaches the endpoint, S drops to 0, events at time 0 included).
* ``noevent``: ``ctl`` and ``a`` with events, ``z`` with none (Cox: z's coefficient is
  infinite; R stops at a large negative value, trkres labels it not estimable and fits the
  others without z, their limit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[2] / "tests" / "data" / "invivo" / "survival_inputs.tsv"


def main_dataset(seed: int = 20240614) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for arm, n, scale in (("ctl", 20, 12.0), ("a", 18, 18.0), ("b", 19, 20.0), ("ab", 20, 40.0)):
        t_event = rng.exponential(scale, n)
        t_cens = rng.uniform(8.0, 60.0, n)
        time = np.ceil(np.minimum(t_event, t_cens))
        event = (t_event <= t_cens).astype(int)
        for i in range(n):
            rows.append(("main", f"{arm}{i + 1}", arm, float(time[i]), int(event[i])))
    return pd.DataFrame(rows, columns=["dataset", "mouse_id", "arm", "time", "event"])


def edges_dataset() -> pd.DataFrame:
    arms = {
        # 6 mice: events at 3, 5, 5 -> S = 0.5 from day 5 until the event at 9.
        "ctl": [(3, 1), (5, 1), (5, 1), (7, 0), (9, 1), (12, 0)],
        # 4 mice: events at 2, 4, then censored at 6 and 8: the curve ends at 0.5.
        "flat_end": [(2, 1), (4, 1), (6, 0), (8, 0)],
        # 5 mice, one event: the median is never reached.
        "never": [(4, 1), (6, 0), (10, 0), (10, 0), (15, 0)],
        # 6 mice, all reach the endpoint (one at time 0, ties at 4).
        "all": [(0, 1), (2, 1), (4, 1), (4, 1), (6, 1), (11, 1)],
    }
    rows = [
        ("edges", f"{arm}{i + 1}", arm, float(t), int(e))
        for arm, mice in arms.items()
        for i, (t, e) in enumerate(mice)
    ]
    return pd.DataFrame(rows, columns=["dataset", "mouse_id", "arm", "time", "event"])


def noevent_dataset(seed: int = 7) -> pd.DataFrame:
    """Three arms, one without any event (Cox: that arm's coefficient is infinite)."""
    rng = np.random.default_rng(seed)
    rows = []
    for arm, n, scale in (("ctl", 10, 10.0), ("a", 10, 20.0)):
        t = np.ceil(rng.exponential(scale, n))
        c = np.ceil(rng.uniform(5.0, 40.0, n))
        for i in range(n):
            rows.append(
                ("noevent", f"{arm}{i + 1}", arm, float(min(t[i], c[i])), int(t[i] <= c[i]))
            )
    for i, t_c in enumerate([5.0, 9.0, 14.0, 14.0, 22.0, 30.0]):
        rows.append(("noevent", f"z{i + 1}", "z", t_c, 0))
    return pd.DataFrame(rows, columns=["dataset", "mouse_id", "arm", "time", "event"])


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    data = pd.concat([main_dataset(), edges_dataset(), noevent_dataset()], ignore_index=True)
    data.to_csv(OUT, sep="\t", index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(data)} rows)")


if __name__ == "__main__":
    main()
