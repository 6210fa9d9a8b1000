"""Reference (null) models of drug combinations, computed for every block at once.

All responses are **% inhibition** (0 = vehicle, 100 = no viable cells) and
every score is *observed − expected* in percentage points, so a positive score
means synergy -- SynergyFinder 3's convention (Zheng et al. 2022,
doi:10.1016/j.gpb.2022.01.004), which the `synergy` package shares up to a
factor of 100 (it works in fractions of viability).

Definitions (for drugs i at doses x_i present in a cell):

* **Bliss** (Bliss 1939): expected = 100·(1 − Π(1 − y_i/100)) with y_i the
  *observed* single-agent responses at the same doses.
* **HSA** (Berenbaum 1989): expected = max_i y_i (observed single agents).
* **Loewe** (Loewe 1953): expected y solves Σ x_i / X_i(y) = 1, X_i(y) the dose
  of drug i alone giving y on its fitted four-parameter curve. When no y
  between the drugs' fitted baselines and maxima solves it (one drug never
  reaches the effect the other gives), the expected response is the larger of
  the single-drug curves evaluated at the summed dose Σ x_j, as SynergyFinder
  does; such cells are marked ``loewe_fallback``. Expected values are capped at
  100 %.
* **ZIP** (Yadav et al. 2015, doi:10.1016/j.csbj.2015.09.001): single-drug
  curves are refitted along each row and column with the other drugs' doses
  fixed -- baseline fixed at the other drugs' expected effect (Bliss of their
  fitted single-drug curves), maximum fixed at 100 % -- and the delta score is
  the mean of those refitted responses minus the Bliss expectation of the
  fitted single-drug curves. With three or more drugs the same holds with
  "the other drugs" meaning all the others (our generalisation; it reduces to
  Yadav's with two drugs and gives 0 on the ZIP null).

* **CSS** (Malyutina et al. 2019, doi:10.1371/journal.pcbi.1006752), two
  drugs: CSS_i is the mean fitted % inhibition of drug i over its tested
  log-dose range with the other drug fixed at its tested dose nearest its
  fitted IC50; CSS is the mean of CSS_1 and CSS_2.

Single-drug curves are fitted to the monotherapy cells (vehicle cell included,
placed at 1/1000 of the lowest dose) with the batch four-parameter fitter of
:mod:`trkres.assays.doseresponse.curvefit`, on the viability scale (1 − y/100).
Monotherapy cells score 0 by definition (as in SynergyFinder).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np
import pandas as pd

from trkres.assays.doseresponse.curvefit import (
    CurveSet,
    fit_parameters,
    log_logistic,
    mean_response,
    pack_arrays,
)

_LN10 = math.log(10.0)

#: Offset (log10) of the vehicle cell below the lowest dose in single-drug fits.
VEHICLE_OFFSET = 3.0
#: Fewest monotherapy cells (vehicle included) for a single-drug fit.
MIN_SINGLE_POINTS = 4


@dataclass
class Grid:
    """Cells of all blocks: one row per dose tuple, mean response over replicates."""

    block: np.ndarray  # (n_cells,) int block code
    conc: np.ndarray  # (n_cells, n_drugs) molar
    level: np.ndarray  # (n_cells, n_drugs) dose rank within block and drug, 0 = absent
    y: np.ndarray  # (n_cells,) mean % inhibition
    n_blocks: int

    @property
    def n_drugs(self) -> int:
        return int(self.conc.shape[1])

    @property
    def present(self) -> np.ndarray:
        """(n_cells, n_drugs): which drugs are in each cell."""
        return self.level > 0

    def tile(self, y: np.ndarray) -> Grid:
        """The same cells repeated ``len(y)`` times (``y`` is (reps, n_cells)), as separate blocks."""
        reps = y.shape[0]
        block = (self.block[None, :] + self.n_blocks * np.arange(reps)[:, None]).ravel()
        return Grid(block, np.tile(self.conc, (reps, 1)), np.tile(self.level, (reps, 1)),
                    y.ravel(), self.n_blocks * reps)  # fmt: skip


def dense_levels(block: np.ndarray, conc: np.ndarray) -> np.ndarray:
    """Rank of each non-zero concentration within its block (1 = lowest); 0 where absent."""
    levels = np.zeros(conc.shape, dtype=np.int64)
    for i in range(conc.shape[1]):
        c = pd.Series(np.where(conc[:, i] > 0, conc[:, i], np.nan))
        rank = c.groupby(block).rank(method="dense").to_numpy()
        levels[:, i] = np.where(np.isfinite(rank), rank, 0).astype(np.int64)
    return levels


def monotherapy(grid: Grid) -> list[np.ndarray]:
    """Per drug, (n_blocks, max_level + 1) observed single-agent responses; NaN where absent."""
    present = grid.present
    out = []
    for i in range(grid.n_drugs):
        others = np.delete(present, i, axis=1).any(axis=1)
        table = np.full((grid.n_blocks, int(grid.level[:, i].max()) + 1), np.nan)
        use = ~others
        table[grid.block[use], grid.level[use, i]] = grid.y[use]
        out.append(table)
    return out


def _lookup(tables: list[np.ndarray], grid: Grid) -> np.ndarray:
    """(n_cells, n_drugs) value of each drug's table at the cell's block and level; NaN if absent."""
    vals = np.full(grid.conc.shape, np.nan)
    for i, t in enumerate(tables):
        vals[:, i] = t[grid.block, grid.level[:, i]]
    return np.where(grid.present, vals, np.nan)


def bliss_of(effects: np.ndarray, present: np.ndarray) -> np.ndarray:
    """100·(1 − Π(1 − e/100)) over the present drugs (rows of ``effects``, % inhibition)."""
    keep = np.where(present, 1.0 - effects / 100.0, 1.0)
    value: np.ndarray = 100.0 * (1.0 - np.prod(keep, axis=1))
    return value


def bliss_expected(grid: Grid, mono: list[np.ndarray]) -> np.ndarray:
    return bliss_of(_lookup(mono, grid), grid.present)


def hsa_expected(grid: Grid, mono: list[np.ndarray]) -> np.ndarray:
    vals = _lookup(mono, grid)
    out = np.max(np.where(grid.present, vals, -np.inf), axis=1)
    return np.where(np.isnan(vals).any(axis=1, where=grid.present) | ~np.isfinite(out), np.nan, out)


def _fit_4pl(cs: CurveSet) -> tuple[np.ndarray, np.ndarray]:
    """Batch 4PL fits of the curves whose response varies; flat curves (nothing to fit: every
    point equal) get NaN parameters and an infinite SSE, as failed fits do."""
    mask = np.arange(cs.x.shape[1])[None, :] < cs.n[:, None]
    lo = np.min(np.where(mask, cs.y, np.inf), axis=1, initial=np.inf)
    hi = np.max(np.where(mask, cs.y, -np.inf), axis=1, initial=-np.inf)
    varies = (hi - lo > 1e-9) & np.isfinite(hi - lo)
    params = np.full((len(cs.n), 4), np.nan)
    sse = np.full(len(cs.n), np.inf)
    if varies.any():
        sub = CurveSet(cs.ids[varies], cs.x[varies], cs.y[varies], cs.n[varies])
        params[varies], sse[varies] = fit_parameters(sub, model="4pl")
    return params, sse


def fit_single_drugs(grid: Grid) -> np.ndarray:
    """(n_blocks, n_drugs, 4) fitted (log10_ic50, hill, top, bottom) on the viability scale.

    NaN where a drug has fewer than :data:`MIN_SINGLE_POINTS` monotherapy cells.
    """
    present = grid.present
    n_drugs = grid.n_drugs
    frames = []
    for i in range(n_drugs):
        others = np.delete(present, i, axis=1).any(axis=1)
        use = ~others
        conc = grid.conc[use, i]
        block = grid.block[use]
        lowest = (
            pd.Series(np.where(conc > 0, conc, np.nan)).groupby(block).transform("min").to_numpy()
        )
        dose = np.where(conc > 0, conc, lowest / 10**VEHICLE_OFFSET)
        frames.append(pd.DataFrame({"curve": block * n_drugs + i, "dose": dose,
                                    "v": 1.0 - grid.y[use] / 100.0}))  # fmt: skip
    long = pd.concat(frames, ignore_index=True).dropna()
    counts = long.groupby("curve")["v"].transform("size")
    long = long[counts >= MIN_SINGLE_POINTS]
    params = np.full((grid.n_blocks * n_drugs, 4), np.nan)
    if len(long):
        cs = pack_arrays(
            long["curve"].to_numpy(), np.log10(long["dose"].to_numpy()), long["v"].to_numpy()
        )
        fitted, sse = _fit_4pl(cs)
        fitted[~np.isfinite(sse)] = np.nan
        params[cs.ids.astype(np.int64)] = fitted
    return params.reshape(grid.n_blocks, n_drugs, 4)


def single_inhibition(params: np.ndarray, grid: Grid, conc: np.ndarray | None = None) -> np.ndarray:
    """(n_cells, n_drugs) fitted single-drug % inhibition at each cell's doses (or at ``conc``)."""
    conc = grid.conc if conc is None else conc
    p = params[grid.block]  # (n_cells, n_drugs, 4)
    with np.errstate(divide="ignore"):
        x = np.log10(conc)
    v = log_logistic(x, p[..., 0], p[..., 1], p[..., 2], p[..., 3])
    return 100.0 * (1.0 - v)


@nb.njit(cache=True)
def _loewe_sum(c: int, y: float, logx: np.ndarray, log_ic50: np.ndarray, hill: np.ndarray,
               top: np.ndarray, bottom: np.ndarray, present: np.ndarray) -> float:  # fmt: skip
    """Σ x_i / X_i(y) for cell ``c`` (viability-scale curves; y in % inhibition)."""
    v = 1.0 - y / 100.0
    total = 0.0
    for i in range(logx.shape[1]):
        if present[c, i]:
            ratio = (top[c, i] - v) / (v - bottom[c, i])
            if ratio <= 0.0:
                return math.inf
            # x / X(y) with log10 X(y) = LogIC50 − log10(ratio) / hill
            total += math.exp(
                min((logx[c, i] - log_ic50[c, i]) * _LN10 + math.log(ratio) / hill[c, i], 700.0)
            )
    return total


@nb.njit(cache=True)
def _loewe_solve(logx: np.ndarray, log_ic50: np.ndarray, hill: np.ndarray, top: np.ndarray,
                 bottom: np.ndarray, present: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 usable: np.ndarray, iterations: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    n = logx.shape[0]
    value = np.full(n, np.nan)
    solved = np.zeros(n, dtype=np.bool_)
    for c in range(n):
        if not usable[c]:
            continue
        y_lo = lo[c] + 1e-9 * (hi[c] - lo[c])
        y_hi = hi[c] - 1e-9 * (hi[c] - lo[c])
        args = (logx, log_ic50, hill, top, bottom, present)
        if not (_loewe_sum(c, y_lo, *args) > 1.0 and _loewe_sum(c, y_hi, *args) < 1.0):
            continue
        for _ in range(iterations):
            mid = 0.5 * (y_lo + y_hi)
            if (
                _loewe_sum(c, mid, *args) > 1.0
            ):  # more drug than this effect needs: the effect is higher
                y_lo = mid
            else:
                y_hi = mid
        value[c] = 0.5 * (y_lo + y_hi)
        solved[c] = True
    return value, solved


def loewe_expected(
    grid: Grid, params: np.ndarray, iterations: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Loewe expected % inhibition per cell and whether the fallback was used (see module doc).

    The root of Σ x_i / X_i(y) = 1 is found by bisection (compiled), which
    always converges because the sum falls monotonically as y rises.
    """
    present = grid.present
    p = params[grid.block]
    log_ic50, hill, top, bottom = (np.ascontiguousarray(p[..., k]) for k in range(4))
    # Inhibition at zero and at infinite dose, whichever way the curve runs.
    v_low = np.where(hill < 0, top, bottom)
    v_high = np.where(hill < 0, bottom, top)
    a = 100.0 * (1.0 - v_low)
    e = 100.0 * (1.0 - v_high)
    with np.errstate(divide="ignore"):
        logx = np.log10(np.where(present, grid.conc, 1.0))
    lo = np.max(np.where(present, a, -np.inf), axis=1)
    hi = np.min(np.where(present, e, np.inf), axis=1)
    fitted = (np.isfinite(p).all(axis=2) | ~present).all(axis=1)
    usable = fitted & ((e > a) | ~present).all(axis=1) & (lo < hi) & (present.sum(axis=1) >= 2)
    solved_value, solvable = _loewe_solve(
        logx, log_ic50, hill, top, bottom, present, lo, hi, usable, iterations
    )
    total = np.where(present, grid.conc, 0.0).sum(axis=1)
    at_total = single_inhibition(params, grid, np.repeat(total[:, None], grid.n_drugs, axis=1))
    fallback_value = np.max(np.where(present, at_total, -np.inf), axis=1)
    fallback_value = np.where(np.isfinite(fallback_value), fallback_value, np.nan)
    value = np.where(solvable, solved_value, np.where(fitted, fallback_value, np.nan))
    return np.minimum(value, 100.0), ~solvable & np.isfinite(value)


def zip_fitted(grid: Grid, params: np.ndarray, free_max: bool = False) -> np.ndarray:
    """ZIP's refitted response per cell (mean over the drugs present; see module doc).

    ``free_max=True`` lets each refitted curve find its own maximum instead of
    100 % -- the `synergy` package's variant, kept to explain the difference.
    """
    present = grid.present
    n_cells, n_drugs = grid.conc.shape
    combo = present.sum(axis=1) >= 2
    singles = single_inhibition(params, grid)
    sums = np.zeros(n_cells)
    counts = np.zeros(n_cells)
    for i in range(n_drugs):
        rows = np.flatnonzero(combo & present[:, i])
        if len(rows) == 0:
            continue
        others = np.delete(np.arange(n_drugs), i)
        # A line: same block, same doses of every other drug; drug i varies.
        key = pd.DataFrame(grid.level[rows][:, others]).assign(block=grid.block[rows])
        line = key.groupby(list(key.columns), sort=False).ngroup().to_numpy()
        base = bliss_of(singles[rows][:, others], present[rows][:, others])
        n_line = np.bincount(line)
        fit_rows = n_line[line] >= 2
        value = grid.y[
            rows
        ].copy()  # one point on a line: no refit, the observation (SynergyFinder)
        if fit_rows.any():
            lr = line[fit_rows]
            cs = pack_arrays(
                lr, np.log10(grid.conc[rows[fit_rows], i]), 1.0 - grid.y[rows[fit_rows]] / 100.0
            )
            ids = cs.ids.astype(np.int64)
            top_by_line = np.zeros(int(line.max()) + 1)
            top_by_line[line] = 1.0 - base / 100.0
            ok = np.isfinite(top_by_line[ids])
            fitted = np.full((len(ids), 4), np.nan)
            if ok.any():
                sub = CurveSet(ids[ok], cs.x[ok], cs.y[ok], cs.n[ok])
                fp, sse = fit_parameters(sub, model="3pl" if free_max else "2pl", top=top_by_line[ids[ok]],
                                         bottom=np.zeros(int(ok.sum())))  # fmt: skip
                fp[~np.isfinite(sse)] = np.nan
                fitted[ok] = fp
            by_line = np.full((int(line.max()) + 1, 4), np.nan)
            by_line[ids] = fitted
            q = by_line[lr]
            v = log_logistic(
                np.log10(grid.conc[rows[fit_rows], i]), q[:, 0], q[:, 1], q[:, 2], q[:, 3]
            )
            refit = 100.0 * (1.0 - v)
            value[fit_rows] = np.where(np.isfinite(refit), refit,
                                       np.where(np.isfinite(base[fit_rows]), grid.y[rows[fit_rows]], np.nan))  # fmt: skip
        sums[rows] += value
        counts[rows] += 1
    with np.errstate(invalid="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def zip_expected(grid: Grid, params: np.ndarray) -> np.ndarray:
    """ZIP's null: Bliss of the fitted single-drug curves."""
    return bliss_of(single_inhibition(params, grid), grid.present)


def css(grid: Grid, params: np.ndarray) -> np.ndarray:
    """(n_blocks, 3): CSS_1, CSS_2 and CSS for two-drug blocks (see module doc); NaN otherwise."""
    out = np.full((grid.n_blocks, 3), np.nan)
    if grid.n_drugs != 2:
        return out
    present = grid.present
    curve, xs, ys = [], [], []
    for i, j in ((0, 1), (1, 0)):
        # The other drug's tested dose nearest its fitted IC50 (monotherapy cells of j).
        mono_j = present[:, j] & ~present[:, i]
        with np.errstate(divide="ignore", invalid="ignore"):
            dist = np.abs(np.log10(grid.conc[:, j]) - params[grid.block, j, 0])
        cand = pd.DataFrame({"block": grid.block[mono_j], "level": grid.level[mono_j, j],
                             "dist": dist[mono_j]}).dropna()  # fmt: skip
        if cand.empty:
            continue
        chosen = np.full(grid.n_blocks, -1)
        best = cand.loc[cand.groupby("block")["dist"].idxmin()]
        chosen[best["block"].to_numpy()] = best["level"].to_numpy()
        on = present[:, i] & (grid.level[:, j] == chosen[grid.block])
        curve.append(grid.block[on] * 2 + i)
        xs.append(np.log10(grid.conc[on, i]))
        ys.append(1.0 - grid.y[on] / 100.0)
    if not curve:
        return out
    cs = pack_arrays(np.concatenate(curve), np.concatenate(xs), np.concatenate(ys))
    enough = cs.n >= MIN_SINGLE_POINTS
    if not enough.any():
        return out
    sub = CurveSet(cs.ids[enough], cs.x[enough], cs.y[enough], cs.n[enough])
    fitted, sse = _fit_4pl(sub)
    mask = np.arange(sub.x.shape[1])[None, :] < sub.n[:, None]
    xmin = np.min(np.where(mask, sub.x, np.inf), axis=1)
    xmax = np.max(np.where(mask, sub.x, -np.inf), axis=1)
    score = 100.0 * (1.0 - mean_response(fitted, xmin, xmax))
    score[~np.isfinite(sse)] = np.nan
    ids = sub.ids.astype(np.int64)
    out[ids // 2, ids % 2] = score
    out[:, 2] = out[:, :2].mean(axis=1)
    return out
