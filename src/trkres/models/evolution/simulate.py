"""Run the kernels over many patients: blocks on threads (local) or Dask tasks.

Patients are numbered 0..n−1 and each draws from its own stream of ``(seed, index)``,
so blocks can be cut anywhere and computed anywhere: the same seed gives the same
patients with any block size, thread count or Dask cluster.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from trkres.errors import ComputationError
from trkres.models.evolution.scenario import Compiled

__all__ = ["Raw", "simulate_raw"]

#: Tumours extinct before detection that one patient may redraw (the exact engine)
#: before the scenario is reported as one that almost never reaches detection.
MAX_REDRAWS = 100_000


@dataclass(frozen=True)
class Raw:
    """Per-patient arrays (see engine.py): outcome, ttp, driver, comp, steps, stopped_at
    (patients × regimens; stopped_at: the day the hybrid engine's event cap stopped the run,
    NaN when it ran to its end), res_start and redraws (patients)."""

    outcome: np.ndarray
    ttp: np.ndarray
    driver: np.ndarray
    comp: np.ndarray
    steps: np.ndarray
    res_start: np.ndarray
    redraws: np.ndarray
    stopped_at: np.ndarray


def _empty(n: int, n_reg: int, n_types: int) -> Raw:
    return Raw(
        outcome=np.zeros((n, n_reg), np.int8),
        ttp=np.full((n, n_reg), np.nan),
        driver=np.full((n, n_reg), -1, np.int16),
        comp=np.zeros((n, n_reg, n_types)),
        steps=np.zeros((n, n_reg), np.int16),
        res_start=np.zeros(n, np.bool_),
        redraws=np.zeros(n, np.int64),
        stopped_at=np.full((n, n_reg), np.nan),
    )


def _block(
    c: Compiled,
    method: str,
    seed: int,
    start: int,
    n: int,
    transient: float,
    fast: bool = True,
    batch: bool = True,
) -> Raw:
    from trkres.models.evolution import engine

    out = _empty(n, len(c.regimens), len(c.types))
    seed64 = np.uint64(seed % 2**64)
    if method == "exact":
        engine.exact_block(
            c.birth, c.death, c.u, c.step_death, c.n_steps, np.int64(c.initial), c.detection,
            c.progression, c.horizon, seed64, np.int64(start), out.outcome, out.ttp, out.driver,
            out.comp, out.steps, out.res_start, out.redraws, np.int64(MAX_REDRAWS),
        )  # fmt: skip
    else:
        engine.hybrid_block(
            c.birth, c.death, c.u, c.step_death, c.n_steps, np.int64(c.initial), c.detection,
            c.progression, c.horizon, float(transient), seed64, np.int64(start), out.outcome,
            out.ttp, out.driver, out.comp, out.steps, out.res_start, out.stopped_at, fast,
            batch,
        )  # fmt: skip
    return out


def _concat(parts: list[Raw]) -> Raw:
    return Raw(*(np.concatenate([getattr(p, f) for p in parts]) for f in Raw.__dataclass_fields__))


def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(size, n - s)) for s in range(0, n, size)]


def simulate_raw(
    c: Compiled,
    *,
    method: str,
    patients: int,
    seed: int,
    engine: str = "local",
    threads: int = 0,
    block_size: int = 0,
    transient: float = 0.0,
    progress: Callable[[int, int, str], None] | None = None,
) -> Raw:
    """Simulate ``patients`` patients on every regimen of ``c``; see the module docstring."""
    if block_size <= 0:
        block_size = 2_000 if method == "exact" else 50_000
    blocks = _blocks(patients, block_size)
    if engine == "dask":
        from dask import compute, delayed  # type: ignore[attr-defined]

        # The current Dask scheduler: a distributed Client when one is active, else threads.
        tasks = [delayed(_block)(c, method, seed, s, k, transient) for s, k in blocks]
        parts = list(compute(*tasks))  # type: ignore[no-untyped-call]
    else:
        workers = threads if threads > 0 else max(1, min(len(blocks), os.cpu_count() or 1))
        if workers == 1 or len(blocks) == 1:
            parts = []
            for i, (s, k) in enumerate(blocks):
                parts.append(_block(c, method, seed, s, k, transient))
                if progress is not None:
                    progress(i + 1, len(blocks), f"{s + k:,} patients")
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_block, c, method, seed, s, k, transient) for s, k in blocks]
                parts = []
                for i, fut in enumerate(futures):
                    parts.append(fut.result())
                    if progress is not None:
                        progress(i + 1, len(blocks), f"{blocks[i][0] + blocks[i][1]:,} patients")
    raw = _concat(parts)
    if (raw.outcome < 0).any():
        raise ComputationError(
            "the tumour almost never reaches detection",
            expected=f"a tumour that reaches detection_size within {MAX_REDRAWS:,} redraws",
            found="every draw went extinct first (birth barely above death, or initial_cells tiny)",
        )
    return raw
