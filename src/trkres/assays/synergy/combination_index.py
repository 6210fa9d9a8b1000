"""Chou–Talalay combination index for fixed-ratio designs (the method CompuSyn implements).

Median-effect equation (Chou 2006, doi:10.1124/pr.58.3.10): for the fraction
affected fa = inhibition/100, log10(fa / (1 − fa)) = m · (log10 D − log10 Dm),
fitted by least squares on log10 doses for each drug alone and for each
fixed-ratio mixture (a "ray": combination cells with the same conc1/conc2
ratio, dose = conc1 + conc2). Points with fa ≤ 0 or ≥ 1 are left out, as in
CompuSyn. At effect level fx, the mixture dose D_mix gives components
d1 = p1·D_mix and d2 = (1 − p1)·D_mix and

    CI = d1 / Dx1 + d2 / Dx2,   Dx_i = Dm_i · (fx / (1 − fx))^(1/m_i).

**CI < 1 is synergy** (the opposite direction of the other scores here).
Labels follow Chou's ranges: < 0.9 synergism, 0.9–1.1 nearly additive,
> 1.1 antagonism. Each line's linear correlation ``r`` is reported; below
0.9 the median-effect fit is labelled ``poor_linearity`` (CompuSyn's manual
asks for r ≥ 0.95 with cell cultures), and ``extrapolated`` marks effect
levels a single drug would need more than 10× its highest tested dose to reach.
A drug whose median-effect line never reaches the effect gives no CI
(``not_estimable``). Values above :data:`CI_UNBOUNDED` are reported as ``inf``
(unbounded), never as 1e+120.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

EFFECTS = (0.5, 0.75, 0.9)
MIN_POINTS = 3
#: Combination indices (and their bounds) above this are reported as ``inf`` (unbounded): a CI
#: of 100 already means a 100-fold dose excess over additivity, and the values beyond it
#: (1e+120 …) come from a median-effect line that barely rises, not from the data.
CI_UNBOUNDED = 100.0


def unbounded(values: np.ndarray) -> np.ndarray:
    """``values`` with everything above :data:`CI_UNBOUNDED` (including +inf) as +inf."""
    v = np.asarray(values, dtype=float)
    return np.where(v > CI_UNBOUNDED, np.inf, v)


def _median_effect(key: np.ndarray, logd: np.ndarray, fa: np.ndarray) -> pd.DataFrame:
    """Per key: slope m, log10 Dm, r and n of the median-effect regression (closed form)."""
    ok = (fa > 0) & (fa < 1) & np.isfinite(logd)
    z = np.log10(fa[ok] / (1 - fa[ok]))
    x = logd[ok]
    codes, keys = pd.factorize(key[ok], sort=True)

    def total(w: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=w, minlength=len(keys))

    n = total(np.ones_like(x))
    sx, sz = total(x), total(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        cxx = total(x * x) - sx**2 / n
        czz = total(z * z) - sz**2 / n
        cxz = total(x * z) - sx * sz / n
        m = cxz / cxx
        intercept = (sz - m * sx) / n
        log_dm = -intercept / m
        r = cxz / np.sqrt(cxx * czz)
    return pd.DataFrame({"m": m, "log10_dm": log_dm, "r": r, "n": n.astype(np.int64)}, index=keys)


def combination_index_cells(block: np.ndarray, conc1: np.ndarray, conc2: np.ndarray, y: np.ndarray,
                            effects: Sequence[float] = EFFECTS) -> pd.DataFrame:  # fmt: skip
    """CI per block, ray and effect level from cell means (``y`` in % inhibition, doses molar)."""
    fa = y / 100.0
    with np.errstate(divide="ignore"):
        l1, l2 = np.log10(conc1), np.log10(conc2)
    one = (conc1 > 0) & (conc2 == 0)
    two = (conc2 > 0) & (conc1 == 0)
    s1 = _median_effect(block[one], l1[one], fa[one])
    s2 = _median_effect(block[two], l2[two], fa[two])
    both = (conc1 > 0) & (conc2 > 0)
    ratio = np.round(l1[both] - l2[both], 2)
    rays = pd.DataFrame({"block": block[both], "ratio": ratio})
    ray_key = rays.groupby(["block", "ratio"], sort=True).ngroup().to_numpy()
    mix = _median_effect(ray_key, np.log10(conc1[both] + conc2[both]), fa[both])
    first = rays.assign(key=ray_key).drop_duplicates("key").set_index("key")
    mix = mix.join(first)
    mix = mix[mix["n"] >= MIN_POINTS]
    top1 = (
        pd.Series(conc1[one]).groupby(block[one]).max().reindex(mix["block"].to_numpy()).to_numpy()
    )
    top2 = (
        pd.Series(conc2[two]).groupby(block[two]).max().reindex(mix["block"].to_numpy()).to_numpy()
    )
    out = []
    for fx in effects:
        lz = np.log10(fx / (1 - fx))
        d_mix = 10 ** (mix["log10_dm"] + lz / mix["m"])
        p1 = 10 ** mix["ratio"] / (1 + 10 ** mix["ratio"])
        a = s1.reindex(mix["block"].to_numpy())
        b = s2.reindex(mix["block"].to_numpy())
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            dx1 = 10 ** (a["log10_dm"].to_numpy() + lz / a["m"].to_numpy())
            dx2 = 10 ** (b["log10_dm"].to_numpy() + lz / b["m"].to_numpy())
            ci = (p1 * d_mix).to_numpy() / dx1 + ((1 - p1) * d_mix).to_numpy() / dx2
        finite = (
            np.isfinite(dx1)
            & np.isfinite(dx2)
            & (dx1 > 0)
            & (dx2 > 0)
            & np.isfinite(d_mix.to_numpy())
        )
        ci = np.where(finite, ci, np.nan)
        r_min = np.fmin(
            np.fmin(np.abs(mix["r"].to_numpy()), np.abs(a["r"].to_numpy())),
            np.abs(b["r"].to_numpy()),
        )
        out.append(pd.DataFrame({
            "block": mix["block"].to_numpy(), "log10_ratio": mix["ratio"].to_numpy(), "effect": fx,
            "ci": ci, "n_mixture_points": mix["n"].to_numpy(), "m_mixture": mix["m"].to_numpy(),
            "m_drug1": a["m"].to_numpy(), "m_drug2": b["m"].to_numpy(),
            "dm_drug1": np.power(10.0, a["log10_dm"].to_numpy().clip(-300, 300)),
            "dm_drug2": np.power(10.0, b["log10_dm"].to_numpy().clip(-300, 300)),
            "r_min": r_min,
            # A single drug needing more than 10× its highest tested dose: Chou's extrapolation.
            "extrapolated": ~((dx1 <= 10 * top1) & (dx2 <= 10 * top2)),
        }))  # fmt: skip
    return pd.concat(out, ignore_index=True)


def label(ci: np.ndarray) -> np.ndarray:
    """Chou's coarse interpretation of a CI value."""
    return np.select([np.isnan(ci), ci < 0.9, ci <= 1.1], ["not_estimable", "synergism", "nearly_additive"],
                     "antagonism")  # fmt: skip
