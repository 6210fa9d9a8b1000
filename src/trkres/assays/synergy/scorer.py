"""Synergy scoring of dose-response matrices with replicate-resampling confidence intervals.

:class:`Synergy` follows scikit-learn's habit: parameters in the constructor,
``fit(combinations)`` computes, results in attributes ending in ``_``:

* ``matrix_``: one row per block and dose tuple -- observed mean, SD and
  replicate count, each model's expected response (``<model>_expected``) and
  score (``<model>``: observed − expected, percentage points, positive =
  synergy) with bootstrap CI bounds.
* ``summary_``: one row per block -- drugs and metadata, each model's summary
  score (mean over the cells where every drug is present, SynergyFinder's
  summary) with CI bounds, the most synergistic 3×3 dose window (two drugs),
  and a ``status`` that labels degenerate blocks instead of raising.
* ``singles_``: the fitted single-drug curves (IC50 in molar, Hill slope,
  % inhibition at zero and infinite dose).

Uncertainty: each bootstrap draw resamples every cell's replicates with
replacement and recomputes everything (single-drug fits included); CIs are
percentile intervals, given only with at least :func:`min_draws` draws (40 at
95%) and only when they contain their estimate (otherwise missing, and
``ci_note`` says which). Blocks without replicates get no CI (``ci_method``
says so). The model definitions are in :mod:`trkres.assays.synergy.models`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from trkres.assays.synergy import models as sm
from trkres.assays.synergy.combination_index import (
    EFFECTS,
    combination_index_cells,
    label,
    unbounded,
)
from trkres.assays.synergy.io import Combinations
from trkres.assays.synergy.musyc import fit_musyc
from trkres.assays.synergy.options import MODELS


def cells_of(combos: Combinations) -> tuple[pd.DataFrame, pd.Series]:
    """Cells (block × dose tuple, mean/SD/n) and, for each measurement, its cell number."""
    keys = ["block_id", *combos.conc_columns]
    codes = combos.data.groupby(keys, sort=True).ngroup()
    g = combos.data.groupby(codes)
    cells = g[keys].first()
    cells["response_mean"] = g["response"].mean()
    cells["response_sd"] = g["response"].std()
    cells["n"] = g["response"].size()
    return cells.reset_index(drop=True), codes


def grid_of(cells: pd.DataFrame, combos: Combinations) -> sm.Grid:
    block = pd.Categorical(cells["block_id"], categories=combos.blocks["block_id"]).codes.astype(
        np.int64
    )
    conc = cells[combos.conc_columns].to_numpy(dtype=float)
    return sm.Grid(block, conc, sm.dense_levels(block, conc), cells["response_mean"].to_numpy(float),
                   len(combos.blocks))  # fmt: skip


def score(
    grid: sm.Grid, models: Sequence[str], zip_free_max: bool = False
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Expected response per model and cell, the single-drug fits, and the Loewe fallback mask.

    With single-drug fits, ``expected["css"]`` holds the (n_blocks, 3) CSS scores.
    """
    expected: dict[str, np.ndarray] = {}
    mono = sm.monotherapy(grid)
    if "bliss" in models:
        expected["bliss"] = sm.bliss_expected(grid, mono)
    if "hsa" in models:
        expected["hsa"] = sm.hsa_expected(grid, mono)
    params = np.full((grid.n_blocks, grid.n_drugs, 4), np.nan)
    fallback = np.zeros(len(grid.y), dtype=bool)
    if "loewe" in models or "zip" in models:
        params = sm.fit_single_drugs(grid)
        expected["css"] = sm.css(grid, params)
    if "loewe" in models:
        expected["loewe"], fallback = sm.loewe_expected(grid, params)
    if "zip" in models:
        # ZIP compares its refitted surface with its null: "expected" is the null, the
        # score the refitted minus the null (the observed values enter through the refit).
        expected["zip"] = sm.zip_expected(grid, params)
        expected["zip_fitted"] = sm.zip_fitted(grid, params, free_max=zip_free_max)
    return expected, params, fallback


def excess(
    grid: sm.Grid, expected: dict[str, np.ndarray], models: Sequence[str]
) -> dict[str, np.ndarray]:
    """Scores per cell: observed − expected (ZIP: refitted − null); monotherapy cells 0."""
    combo = grid.present.sum(axis=1) >= 2
    out = {}
    for m in models:
        observed = expected["zip_fitted"] if m == "zip" else grid.y
        out[m] = np.where(combo, observed - expected[m], 0.0)
    return out


def block_means(grid: sm.Grid, scores: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Mean score over the cells where every drug is present, per block (NaN if any is NaN)."""
    full = grid.present.all(axis=1)
    n = np.bincount(grid.block[full], minlength=grid.n_blocks).astype(float)
    out = {}
    for m, s in scores.items():
        total = np.bincount(grid.block[full], weights=s[full], minlength=grid.n_blocks)
        out[m] = np.where(n > 0, total / np.maximum(n, 1), np.nan)
    return out


def best_window(grid: sm.Grid, s: np.ndarray, size: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two drugs: the highest mean score over any ``size``×``size`` window of combination cells,
    and the window's lowest level of each drug (n_blocks × 2, 1-based; −1 when none)."""
    best = np.full(grid.n_blocks, np.nan)
    where = np.full((grid.n_blocks, 2), -1)
    if grid.n_drugs != 2:
        return best, where
    full = grid.present.all(axis=1)
    l1, l2 = grid.level[:, 0].max(), grid.level[:, 1].max()
    if l1 < size or l2 < size:
        return best, where
    cube = np.full((grid.n_blocks, l1, l2), np.nan)
    cube[grid.block[full], grid.level[full, 0] - 1, grid.level[full, 1] - 1] = s[full]
    win = np.lib.stride_tricks.sliding_window_view(cube, (size, size), axis=(1, 2))
    means = win.mean(axis=(3, 4))  # NaN unless the whole window was measured
    flat = means.reshape(grid.n_blocks, -1)
    has = np.isfinite(flat).any(axis=1)
    arg = np.argmax(np.where(np.isfinite(flat), flat, -np.inf), axis=1)
    best = np.where(has, flat[np.arange(grid.n_blocks), arg], np.nan)
    i, j = np.unravel_index(arg, means.shape[1:])
    where = np.where(has[:, None], np.column_stack([i + 1, j + 1]), -1)
    return best, where


def resample_means(data: pd.DataFrame, codes: pd.Series, n_cells: int, n_boot: int,
                   rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """(n_boot, n_cells) cell means after resampling each cell's replicates with replacement."""
    order = np.argsort(codes.to_numpy(), kind="stable")
    cell = codes.to_numpy()[order]
    y = data["response"].to_numpy(float)[order]
    n = np.bincount(cell, minlength=n_cells)
    start = np.concatenate(([0], np.cumsum(n)[:-1]))
    draws = start[cell][None, :] + rng.integers(0, n[cell][None, :], size=(n_boot, len(cell)))
    sums = np.zeros((n_boot, n_cells))
    np.add.at(sums, (np.arange(n_boot)[:, None], cell[None, :]), y[draws])
    return sums / n[None, :]


#: A Loewe summary with more than this fraction of its combination cells on the fallback
#: (no dose solves Loewe's equation) is labelled as resting mostly on the fallback.
LOEWE_FALLBACK_MOSTLY = 0.5


def loewe_basis(fraction: np.ndarray) -> np.ndarray:
    """What a block's Loewe summary rests on, from its fallback fraction (see synergy_models)."""
    f = np.asarray(fraction, dtype=float)
    return np.select(
        [np.isnan(f), f > LOEWE_FALLBACK_MOSTLY, f > 0],
        ["none", "mostly_fallback", "partly_fallback"],
        "loewe_equation",
    )


def min_draws(ci: float) -> int:
    """Fewest bootstrap draws a ``ci`` percentile interval needs: one draw beyond each bound
    (40 at 95%); with fewer, the bounds are just the extreme draws and need not bracket anything."""
    return int(np.ceil(2.0 / (1.0 - ci) - 1e-9))


def percentile_interval(draws: np.ndarray, estimate: np.ndarray | float, ci: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Percentile CI over axis 0 of ``draws`` that always brackets ``estimate`` or is missing.

    Returns (low, high, withheld): columns with fewer than :func:`min_draws` finite draws
    get NaN bounds; so do those whose interval does not contain the estimate (a biased
    statistic, e.g. a refitted curve): ``withheld`` marks the latter, for a note.
    """
    draws = np.asarray(draws, dtype=float)
    est = np.broadcast_to(np.asarray(estimate, dtype=float), draws.shape[1:])
    finite = np.isfinite(draws)
    enough = finite.sum(axis=0) >= min_draws(ci)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        low = np.nanquantile(np.where(finite, draws, np.nan), (1 - ci) / 2, axis=0)
        high = np.nanquantile(np.where(finite, draws, np.nan), 1 - (1 - ci) / 2, axis=0)
    tol = 1e-9 * np.maximum(1.0, np.abs(np.where(np.isfinite(est), est, 0.0)))
    inside = (low <= est + tol) & (est - tol <= high)
    ok = enough & inside & np.isfinite(est)
    withheld = enough & np.isfinite(est) & ~inside
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan), withheld


def _status(grid: sm.Grid, params: np.ndarray, expected: dict[str, np.ndarray],
            models: Sequence[str]) -> np.ndarray:  # fmt: skip
    """Labels for blocks that cannot be scored as asked ("ok" otherwise), ';'-joined."""
    nb = grid.n_blocks
    full = grid.present.all(axis=1)
    y = pd.Series(grid.y)
    by = y.groupby(grid.block)
    spread = (by.max() - by.min()).reindex(range(nb)).to_numpy()
    levels = pd.DataFrame(grid.level).groupby(grid.block).max().reindex(range(nb)).to_numpy()
    mono_missing = np.zeros(nb, dtype=bool)
    for m in ("bliss", "hsa"):
        if m in expected:
            bad = full & np.isnan(expected[m])
            mono_missing |= np.bincount(grid.block[bad], minlength=nb) > 0
    fitted = "loewe" in models or "zip" in models
    checks = {
        "no_combination_cells": np.bincount(grid.block[full], minlength=nb) == 0,
        "constant_response": spread < 1e-9,
        "one_dose_only": (levels < 2).any(axis=1),
        "missing_single_agent": mono_missing,
        "single_drug_fit_failed": ~np.isfinite(params).all(axis=2).all(axis=1) & fitted,
    }
    labels = np.full(nb, "", dtype=object)
    for name, hit in checks.items():
        labels = np.where(hit, np.where(labels == "", name, labels + ";" + name), labels)
    return np.where(labels == "", "ok", labels)


class Synergy:
    """Score drug combinations (see the module doc).

    Parameters: ``models`` among bliss, hsa, loewe, zip; ``n_boot`` bootstrap
    draws (0 = no CIs); ``ci`` the interval level; ``seed`` for the draws
    (results are reproducible); ``window`` the side of the most synergistic area.
    """

    def __init__(self, models: Sequence[str] = MODELS, *, n_boot: int = 100, ci: float = 0.95,
                 seed: int = 0, window: int = 3, musyc: bool = True,
                 effects: Sequence[float] = EFFECTS, zip_max: Literal["fixed", "free"] = "fixed") -> None:  # fmt: skip
        unknown = set(models) - set(MODELS)
        if unknown:
            raise ValueError(
                f"unknown synergy model(s): {', '.join(sorted(unknown))}; choose from {', '.join(MODELS)}"
            )
        self.models = tuple(models)
        self.n_boot = n_boot
        self.ci = ci
        self.seed = seed
        self.window = window
        self.musyc = musyc
        self.effects = tuple(effects)
        self.zip_max = zip_max

    def fit(self, combos: Combinations) -> Synergy:
        cells, codes = cells_of(combos)
        grid = grid_of(cells, combos)
        expected, params, fallback = score(grid, self.models, self.zip_max == "free")
        scores = excess(grid, expected, self.models)
        means = block_means(grid, scores)
        matrix = cells.copy()
        for m in self.models:
            matrix[f"{m}_expected"] = expected["zip"] if m == "zip" else expected[m]
            if m == "zip":
                matrix["zip_fitted"] = expected["zip_fitted"]
            matrix[m] = scores[m]
        if "loewe" in self.models:
            matrix["loewe_fallback"] = fallback
        summary = combos.blocks.copy()
        summary["n_cells"] = np.bincount(grid.block, minlength=grid.n_blocks)
        summary["replicates"] = (
            cells.groupby(grid.block)["n"].median().reindex(range(grid.n_blocks)).to_numpy()
        )
        for m in self.models:
            summary[m] = means[m]
        if "loewe" in self.models:
            full = grid.present.all(axis=1)
            n_full = np.bincount(grid.block[full], minlength=grid.n_blocks)
            n_fb = np.bincount(grid.block[full & fallback], minlength=grid.n_blocks)
            fraction = np.where(n_full > 0, n_fb / np.maximum(n_full, 1), np.nan)
            # Beside the Loewe score, so nobody reads it without knowing what it rests on.
            at = list(summary.columns).index("loewe") + 1
            summary.insert(at, "loewe_fallback_fraction", fraction)
            summary.insert(at + 1, "loewe_basis", loewe_basis(fraction))
        if "css" in expected and grid.n_drugs == 2:
            summary["css1"], summary["css2"], summary["css"] = expected["css"].T
        if grid.n_drugs == 2:
            for m in self.models:
                best, where = best_window(grid, scores[m], self.window)
                summary[f"{m}_best_area"] = best
            main = self.models[0]
            _, where = best_window(grid, scores[main], self.window)
            summary["best_area_model"] = main
            summary["best_area_conc1_level"] = where[:, 0]
            summary["best_area_conc2_level"] = where[:, 1]
        replicated = cells["n"].to_numpy() > 1
        summary["ci_method"] = "none (single replicate)"
        summary["ci_note"] = ""
        #: Bootstrap draws: per model (n_boot, n_blocks) summaries, "cells" (n_boot, n_cells) means.
        self.draws_: dict[str, np.ndarray] = {}
        if 0 < self.n_boot < min_draws(self.ci) and replicated.any():
            summary["ci_method"] = (f"none ({self.n_boot} bootstrap draws; a {self.ci:.0%} percentile "
                                    f"interval needs at least {min_draws(self.ci)})")  # fmt: skip
        elif self.n_boot > 0 and replicated.any():
            self._bootstrap(combos, cells, codes, grid, matrix, summary)
        for (
            m
        ) in self.models:  # the same columns with or without CIs; ci_method says why they are empty
            for bound in ("ci_low", "ci_high"):
                if f"{m}_{bound}" not in summary:
                    summary[f"{m}_{bound}"] = np.nan
        summary["status"] = _status(grid, params, expected, self.models)
        self.combination_index_ = self._combination_index(combos, grid)
        self.musyc_ = fit_musyc(combos) if self.musyc and combos.n_drugs == 2 else pd.DataFrame()
        self.matrix_ = matrix
        self.summary_ = summary
        self.singles_ = _singles_frame(combos, params)
        return self

    def _bootstrap(self, combos: Combinations, cells: pd.DataFrame, codes: pd.Series, grid: sm.Grid,
                   matrix: pd.DataFrame, summary: pd.DataFrame) -> None:  # fmt: skip
        with (
            warnings.catch_warnings()
        ):  # all-NaN cells (degenerate blocks) give NaN bounds, say nothing
            warnings.simplefilter("ignore", RuntimeWarning)
            self._bootstrap_draws(combos, cells, codes, grid, matrix, summary)

    def _bootstrap_draws(self, combos: Combinations, cells: pd.DataFrame, codes: pd.Series, grid: sm.Grid,
                         matrix: pd.DataFrame, summary: pd.DataFrame) -> None:  # fmt: skip
        rng = np.random.default_rng(self.seed)
        ys = resample_means(combos.data, codes, len(cells), self.n_boot, rng)
        big = grid.tile(ys)
        expected, _, _ = score(big, self.models, self.zip_max == "free")
        scores = excess(big, expected, self.models)
        means = block_means(big, scores)
        per_block_reps = (
            cells.groupby(grid.block)["n"].max().reindex(range(grid.n_blocks)).to_numpy()
        )
        has_reps = per_block_reps > 1
        notes: list[list[str]] = [[] for _ in range(grid.n_blocks)]

        def interval(per: np.ndarray, est: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
            low, high, withheld = percentile_interval(per, est, self.ci)
            for b in np.flatnonzero(withheld & has_reps):
                notes[b].append(what)
            return np.where(has_reps, low, np.nan), np.where(has_reps, high, np.nan)

        for m in self.models:
            per_cell = scores[m].reshape(self.n_boot, -1)
            low, high, _ = percentile_interval(per_cell, matrix[m].to_numpy(float), self.ci)
            matrix[f"{m}_ci_low"], matrix[f"{m}_ci_high"] = low, high
            per_block = means[m].reshape(self.n_boot, grid.n_blocks)
            summary[f"{m}_ci_low"], summary[f"{m}_ci_high"] = interval(
                per_block, summary[m].to_numpy(float), m
            )
            if grid.n_drugs == 2:
                best, _ = best_window(big, scores[m], self.window)
                per = best.reshape(self.n_boot, grid.n_blocks)
                summary[f"{m}_best_area_ci_low"], summary[f"{m}_best_area_ci_high"] = interval(
                    per, summary[f"{m}_best_area"].to_numpy(float), f"{m}_best_area"
                )
        if "css" in expected and grid.n_drugs == 2:
            per = expected["css"][:, 2].reshape(self.n_boot, grid.n_blocks)
            summary["css_ci_low"], summary["css_ci_high"] = interval(
                per, summary["css"].to_numpy(float), "css"
            )
            self.draws_["css"] = per
        summary["ci_note"] = [
            f"CI withheld ({', '.join(n)}): the estimate lies outside its bootstrap interval"
            if n
            else ""
            for n in notes
        ]
        for m in self.models:
            self.draws_[m] = means[m].reshape(self.n_boot, grid.n_blocks)
        self.draws_["cells"] = ys
        summary["ci_method"] = np.where(
            has_reps,
            f"replicate bootstrap, {self.n_boot} draws, {self.ci:.0%} percentile",
            "none (single replicate)",
        )

    def _combination_index(self, combos: Combinations, grid: sm.Grid) -> pd.DataFrame:
        if grid.n_drugs != 2:
            return pd.DataFrame()
        ci = combination_index_cells(
            grid.block, grid.conc[:, 0], grid.conc[:, 1], grid.y, self.effects
        )
        if ci.empty:
            return pd.DataFrame(columns=["block_id", *ci.columns.drop("block", errors="ignore"),
                                         "ci_low", "ci_high", "interpretation", "fit_quality"])  # fmt: skip
        if "cells" in self.draws_:
            ys = self.draws_["cells"]
            big = grid.tile(ys)
            boot = combination_index_cells(
                big.block, big.conc[:, 0], big.conc[:, 1], big.y, self.effects
            )
            boot["draw"] = boot["block"] // grid.n_blocks
            boot["block"] = boot["block"] % grid.n_blocks
            key = ["block", "log10_ratio", "effect"]
            # One column per ray and effect, one row per draw (NaN where a draw lost the ray).
            wide = boot.set_index(["draw", *key])["ci"].unstack(key).reindex(range(len(ys)))
            est = ci.set_index(key)["ci"].reindex(wide.columns).to_numpy(float)
            low, high, _ = percentile_interval(wide.to_numpy(float), est, self.ci)
            q = pd.DataFrame({"ci_low": low, "ci_high": high}, index=wide.columns)
            ci = ci.merge(q.reset_index(), on=key, how="left")
        else:
            ci["ci_low"] = ci["ci_high"] = np.nan
        for col in ("ci", "ci_low", "ci_high"):
            ci[col] = unbounded(ci[col].to_numpy(float))
        ci.insert(0, "block_id", combos.blocks["block_id"].to_numpy()[ci["block"].to_numpy()])
        ci["interpretation"] = np.where(
            ci["extrapolated"], "extrapolated", label(ci["ci"].to_numpy())
        )
        ci["fit_quality"] = np.where(ci["r_min"] >= 0.9, "ok", "poor_linearity")
        return ci.drop(columns="block")

    def to_frame(self) -> pd.DataFrame:
        return self.summary_


def _singles_frame(combos: Combinations, params: np.ndarray) -> pd.DataFrame:
    """Fitted single-drug curves as a table (% inhibition at zero and infinite dose)."""
    n_blocks, n_drugs, _ = params.shape
    block = np.repeat(combos.blocks["block_id"].to_numpy(), n_drugs)
    drug_index = np.tile(np.arange(1, n_drugs + 1), n_blocks)
    drugs = combos.blocks[combos.drug_columns].to_numpy().ravel()
    p = params.reshape(-1, 4)
    hill = p[:, 1]
    v_low = np.where(hill < 0, p[:, 2], p[:, 3])
    v_high = np.where(hill < 0, p[:, 3], p[:, 2])
    return pd.DataFrame({
        "block_id": block, "drug_index": drug_index, "drug": drugs,
        "log10_ic50": p[:, 0], "ic50": 10 ** p[:, 0], "hill_slope": -hill,
        "inhibition_at_zero": 100 * (1 - v_low), "inhibition_max": 100 * (1 - v_high),
        "status": np.where(np.isfinite(p).all(axis=1), "ok", "not_fitted"),
    })  # fmt: skip
