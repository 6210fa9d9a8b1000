"""Peer fitters for benchmarks/dose_response_fit.py, run in their own environment.

thunor and CurveCurator pin pandas < 3, which trkres does not use, so they live
in a separate virtual environment (benchmarks/requirements-peers.txt) and the
main benchmark calls this script with that environment's Python:

    python dose_response_peers.py CURVES.npz OUT.json [--limit N]

CURVES.npz holds ``x`` (log10 molar doses) and ``y`` (fraction of vehicle),
one row per curve. Each tool fits the same curves with its defaults; the JSON
gives curves, seconds and each curve's sum of squared residuals.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def run_thunor(x: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    from thunor.curve_fit import HillCurveLL4, fit_drc

    sse = []
    t0 = time.perf_counter()
    for xi, yi in zip(x, y, strict=True):
        doses = 10.0**xi
        curve = fit_drc(doses, yi, fit_cls=HillCurveLL4)
        sse.append(
            float(np.sum((yi - curve.fit(doses)) ** 2)) if curve is not None else float("nan")
        )
    return time.perf_counter() - t0, sse


def run_curvecurator(x: np.ndarray, y: np.ndarray) -> tuple[float, list[float]]:
    from curve_curator.models import LogisticModel, MeanModel
    from curve_curator.quantification import fit_model

    fit_params = {
        "type": "OLS",
        "speed": "standard",
        "control_fold_change": False,
        "max_iterations": 1000,
    }
    f_params = {"optimized_dofs": True, "loc": 0.12, "scale": 1.0}
    sse = []
    t0 = time.perf_counter()
    model = LogisticModel(max_iterations=1000)
    model.set_boundaries(x[0])
    null = MeanModel(max_iterations=1000)
    null.set_boundaries()
    for xi, yi in zip(x, y, strict=True):
        out = fit_model(pd.Series(yi), xi, null, model, fit_params, f_params)
        pec50, slope, front, back = out[:4]
        if np.isfinite(pec50):
            fitted = model.core(xi, pec50, slope, front, back)
            sse.append(float(np.sum((yi - fitted) ** 2)))
        else:
            sse.append(float("nan"))
    return time.perf_counter() - t0, sse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("curves")
    parser.add_argument("out")
    args = parser.parse_args()
    data = np.load(args.curves)
    x, y = data["x"], data["y"]
    result = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in (("thunor", run_thunor), ("CurveCurator", run_curvecurator)):
            seconds, sse = fn(x, y)
            result[name] = {"curves": len(x), "seconds": seconds, "sse": sse}
    Path(args.out).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
