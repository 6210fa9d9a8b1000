"""Does a combination restore sensitivity? Resistant vs parental lines, and single agents vs combination.

Two questions from the off-target resistance work (Cocco et al. 2019): on the
same dose matrix, does the resistant line show *more synergy* or a *larger
combination response* than the parental line, and -- the simple question of
the paper's proliferation figures -- is the combination better than either
single agent at the same doses?
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from trkres.assays.synergy.scorer import Synergy, percentile_interval


def _interval(draws: np.ndarray, ci: float, estimate: float) -> tuple[float, float]:
    """Percentile CI of the draws; missing unless it brackets ``estimate`` (see percentile_interval)."""
    low, high, _ = percentile_interval(np.asarray(draws, dtype=float)[:, None], estimate, ci)
    return float(low[0]), float(high[0])


def compare_lines(result: Synergy, *, condition: str, reference: str,
                  match: Sequence[str] = ("drug1", "drug2"), ci: float = 0.95) -> pd.DataFrame:  # fmt: skip
    """Each block vs the reference condition's block with the same ``match`` columns.

    Differences are *condition − reference*: per synergy model (summary
    score), the mean response over the combination doses both blocks tested,
    and each drug alone over those doses (% inhibition, positive = more
    effect in the condition). Percentile CIs come from the blocks'
    independent bootstrap draws (none without replicates).
    """
    summary = result.summary_
    if condition not in summary.columns:
        raise ValueError(
            f"no column '{condition}' among the blocks' columns: {', '.join(map(str, summary.columns))}"
        )
    matrix = result.matrix_.reset_index(drop=True)
    conc = [c for c in matrix.columns if c.startswith("conc") and c[4:].isdigit()]
    draws = result.draws_
    pos = {b: i for i, b in enumerate(summary["block_id"])}
    refs = summary[summary[condition].astype(str) == reference]
    rows = []
    for _, blk in summary[summary[condition].astype(str) != reference].iterrows():
        same = refs
        for m in match:
            same = same[same[m].astype(str) == str(blk[m])]
        row: dict[str, object] = {"block_id": blk["block_id"], condition: blk[condition],
                                  "reference_block_id": None, "reference": reference,
                                  **{m: blk[m] for m in match}}  # fmt: skip
        if same.empty:
            row["status"] = "no_reference_block"
            rows.append(row)
            continue
        ref = same.iloc[0]
        row["reference_block_id"] = ref["block_id"]
        row["status"] = "ok"
        i, j = pos[blk["block_id"]], pos[ref["block_id"]]
        for model in result.models:
            row[f"delta_{model}"] = blk[model] - ref[model]
            if model in draws:
                row[f"delta_{model}_ci_low"], row[f"delta_{model}_ci_high"] = _interval(
                    draws[model][:, i] - draws[model][:, j], ci, float(row[f"delta_{model}"]))  # type: ignore[arg-type]  # fmt: skip
        a = matrix[matrix["block_id"] == blk["block_id"]]
        b = matrix[matrix["block_id"] == ref["block_id"]]
        both = a.reset_index().merge(b.reset_index(), on=conc, suffixes=("", "_ref"))
        present = both[conc].to_numpy() > 0
        kinds = {"combination": present.all(axis=1)}
        for k in range(len(conc)):
            kinds[f"drug{k + 1}_alone"] = present[:, k] & (present.sum(axis=1) == 1)
        for kind, sel in kinds.items():
            if not sel.any():
                continue
            diff = (
                both.loc[sel, "response_mean"].to_numpy()
                - both.loc[sel, "response_mean_ref"].to_numpy()
            )
            row[f"delta_{kind}_response"] = float(diff.mean())
            row[f"{kind}_response"] = float(both.loc[sel, "response_mean"].mean())
            row[f"reference_{kind}_response"] = float(both.loc[sel, "response_mean_ref"].mean())
            if "cells" in draws:
                cells = draws["cells"]
                d = (
                    cells[:, both.loc[sel, "index"].to_numpy()]
                    - cells[:, both.loc[sel, "index_ref"].to_numpy()]
                )
                row[f"delta_{kind}_response_ci_low"], row[f"delta_{kind}_response_ci_high"] = (
                    _interval(d.mean(axis=1), ci, float(diff.mean()))
                )
        if not kinds["combination"].any():
            row["status"] = "no_common_combination_doses"
        rows.append(row)
    return pd.DataFrame(rows)


def proliferation_tests(result: Synergy, *, method: str = "holm") -> pd.DataFrame:
    """Combination vs each single agent at the same doses, as % viability (100 − inhibition).

    Per combination cell: mean ± SD and n of vehicle, each drug alone and the
    combination; Welch's two-tailed t-test of the combination against each
    single agent, adjusted within each block (``method`` as statsmodels'
    ``multipletests``: holm, fdr_bh, bonferroni …). Needs replicates: cells
    with fewer than two get no p-value.
    """
    matrix = result.matrix_
    conc = [c for c in matrix.columns if c.startswith("conc") and c[4:].isdigit()]
    cells = matrix[["block_id", *conc, "response_mean", "response_sd", "n"]].copy()
    cells["viability_mean"] = 100.0 - cells["response_mean"]
    cells["viability_sd"] = cells["response_sd"]
    present = cells[conc].to_numpy() > 0
    combo = cells[present.all(axis=1)].reset_index(drop=True)
    out = pd.DataFrame(combo[["block_id", *conc]])
    keep = ["viability_mean", "viability_sd", "n"]
    out[[f"combination_{k}" for k in keep]] = combo[keep].to_numpy()
    vehicle = cells[~present.any(axis=1)].set_index("block_id")[keep]
    vehicle = vehicle[~vehicle.index.duplicated()]
    out[[f"vehicle_{k}" for k in keep]] = vehicle.reindex(combo["block_id"]).to_numpy()
    tests = []
    for k, c in enumerate(conc):
        alone = cells[present[:, k] & (present.sum(axis=1) == 1)][["block_id", c, *keep]]
        single = combo[["block_id", c]].merge(alone, on=["block_id", c], how="left")
        name = f"drug{k + 1}"
        out[[f"{name}_{x}" for x in keep]] = single[keep].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = stats.ttest_ind_from_stats(
                *(frame[col].to_numpy(float) for frame in (combo, single)
                  for col in ("viability_mean", "viability_sd", "n")), equal_var=False)  # fmt: skip
        p = np.asarray(t.pvalue, dtype=float)
        p[(combo["n"].to_numpy() < 2) | (single["n"].to_numpy() < 2)] = np.nan
        out[f"p_vs_{name}"] = p
        tests.append(f"p_vs_{name}")
    for t_col in tests:
        out[f"{t_col}_adjusted"] = np.nan
    for _, idx in out.groupby("block_id").groups.items():
        p = out.loc[idx, tests].to_numpy().ravel()
        ok = np.isfinite(p)
        adj = np.full(p.shape, np.nan)
        if ok.any():
            adj[ok] = multipletests(p[ok], method=method)[1]
        out.loc[idx, [f"{t}_adjusted" for t in tests]] = adj.reshape(len(idx), len(tests))
    out["test"] = f"Welch two-tailed t-test, {method} adjustment within block"
    return out
