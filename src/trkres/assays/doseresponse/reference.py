"""A slow, independent reference fit: scipy's ``curve_fit`` from many random starts.

Used to check the compiled batch fitter (tests) and to measure it (benchmarks);
also handy for a user who wants a second opinion on one curve.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import curve_fit

from trkres.assays.doseresponse.curvefit import log_logistic


def four_pl(x: np.ndarray, log_ic50: float, hill: float, top: float, bottom: float) -> np.ndarray:
    """The 4PL curve in Prism's parameterisation (x: log10 molar dose)."""
    return np.asarray(log_logistic(x, log_ic50, hill, top, bottom, clamp=False))  # type: ignore[arg-type]


def scipy_multistart(
    x: np.ndarray,
    y: np.ndarray,
    starts: int = 15,
    *,
    seed: int = 1,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[float, np.ndarray | None]:
    """Best sum of squares (and parameters) over ``starts`` curve_fit runs.

    The first start is data-driven (mid-range LogIC50, slope −1, max/min
    response); the others are random. With ``bounds`` scipy's trust-region
    solver is held to them.
    """
    rng = np.random.default_rng(seed)
    best, best_p = np.inf, None
    for s in range(starts):
        if s == 0:
            p0 = np.array([(x.min() + x.max()) / 2, -1.0, y.max(), y.min()])
        else:
            p0 = np.array([rng.uniform(x.min(), x.max()), -rng.uniform(0.3, 3),
                           rng.uniform(0.8, 1.2), rng.uniform(-0.1, 0.5)])  # fmt: skip
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if bounds is None:
                    p, _ = curve_fit(four_pl, x, y, p0=p0, maxfev=5000)
                else:
                    p0 = np.clip(p0, bounds[0] + 1e-9, bounds[1] - 1e-9)
                    p, _ = curve_fit(four_pl, x, y, p0=p0, bounds=bounds, max_nfev=5000)
        except (RuntimeError, ValueError):
            continue
        sse = float(np.sum((y - four_pl(x, *p)) ** 2))
        if sse < best:
            best, best_p = sse, p
    return best, best_p
