"""Scale-out: the batch fitter over a Dask cluster.

Curves are partitioned by curve id (whole curves per partition, so results do
not depend on the partitioning) and each partition goes through
:func:`trkres.assays.doseresponse.curvefit.fit_curves` on a worker. Every worker first
pins BLAS/OpenMP pools to one thread (threadpoolctl) and numba to its own
threads-per-worker, so workers do not oversubscribe the machine's cores.
Dask (``pip install 'trkres[dask]'``) is needed only for this engine.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd

from trkres.assays.doseresponse.curvefit import FIT_COLUMNS, Model, fit_curves


def _pin_threads(numba_threads: int = 1) -> int:
    """Run on each worker: one BLAS/OpenMP thread; numba limited to ``numba_threads``."""
    import numba
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    numba.set_num_threads(
        max(1, min(numba_threads, int(getattr(numba.config, "NUMBA_NUM_THREADS", 1))))
    )
    return int(numba.get_num_threads())


def _fit_part(
    part: pd.DataFrame, model: Model, alpha: float, robust: bool, numba_threads: int,
    vehicle: Literal["use", "ignore"] = "use",
) -> pd.DataFrame:  # fmt: skip
    _pin_threads(numba_threads)  # also here: tasks may land on threads the setup did not touch
    return fit_curves(part, model=model, alpha=alpha, robust=robust, vehicle=vehicle)


def fit_curves_dask(
    frame: pd.DataFrame,
    *,
    scheduler: str | None = None,
    client: Any | None = None,
    partitions: int | None = None,
    model: Model = "4pl",
    alpha: float = 0.05,
    robust: bool = False,
    vehicle: Literal["use", "ignore"] = "use",
) -> pd.DataFrame:
    """:func:`fit_curves` on a Dask cluster; same rows (ordered by first appearance), same numbers.

    Give a ``client``, or a ``scheduler`` address (``tcp://host:8786``), or
    neither for a local cluster of processes sized to this machine.
    """
    from dask.distributed import Client, LocalCluster

    own: list[Any] = []
    for name in ("distributed", "dask"):  # the cluster's chatter is not the user's business
        logging.getLogger(name).setLevel(logging.ERROR)
    if client is None:
        if scheduler is None:
            # Workers on this machine (loopback), quiet logs.
            cluster = LocalCluster(processes=True, threads_per_worker=1, dashboard_address=None,  # type: ignore[no-untyped-call]
                                   silence_logs=logging.ERROR)  # fmt: skip
            own.append(cluster)
            client = Client(cluster)  # type: ignore[no-untyped-call]
        else:
            client = Client(scheduler)  # type: ignore[no-untyped-call]
        own.insert(0, client)
    try:
        info = client.scheduler_info()
        workers = info.get("workers", {})
        threads = [int(w.get("nthreads", 1)) for w in workers.values()] or [1]
        client.run(_pin_threads, max(1, min(threads)))
        n_parts = partitions or max(1, 4 * sum(threads))
        codes, ids = pd.factorize(frame["curve_id"], sort=False)
        parts = [frame[codes % n_parts == k] for k in range(n_parts)]
        parts = [p for p in parts if len(p)]
        futures = client.map(_fit_part, parts, model=model, alpha=alpha, robust=robust, vehicle=vehicle,
                             numba_threads=max(1, min(threads)), pure=False)  # fmt: skip
        results = client.gather(futures)
    finally:
        for obj in own:
            obj.close()
    if not results:
        return pd.DataFrame(columns=FIT_COLUMNS)
    out = pd.concat(results, ignore_index=True)
    rank = pd.Series(np.arange(len(ids)), index=ids).reindex(out["curve_id"]).to_numpy()
    return pd.DataFrame(out.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True))
