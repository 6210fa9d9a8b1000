"""Drug-combination figures: synergy heatmaps and surfaces, summary scores, single drugs.

Report figures (``*_figure``, returning :class:`trkres.report.model.Figure`) are used
by ``trkres synergy`` and the study's synergy section (:func:`synergy_figures`); the
public :func:`synergy_heatmap` draws one block's scores on a notebook's matplotlib
``ax``. None of them scores anything: they take a
:class:`~trkres.assays.synergy.run.SynergyResult` (from
:func:`~trkres.assays.synergy.run.run_synergy` or :func:`trkres.synergy.score`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from trkres.assays.doseresponse.curvefit import log_logistic
from trkres.assays.synergy.run import MODEL_TITLES, SynergyResult
from trkres.errors import InputError
from trkres.pl.checks import require_axes
from trkres.pl.style import new_figure
from trkres.report.model import Figure

__all__ = [
    "MAX_BLOCKS_DRAWN",
    "bar_figure",
    "heatmap_figure",
    "singles_figure",
    "surface_figure",
    "synergy_figures",
    "synergy_heatmap",
]

#: Blocks drawn in the per-block figures (all are always in the tables).
MAX_BLOCKS_DRAWN = 12


def _label(row: pd.Series, result: SynergyResult) -> str:
    combos = result.combinations
    drugs = " + ".join(str(row[c]) for c in combos.drug_columns)
    extra = [
        str(row[c]) for c in combos.blocks.columns if c not in ("block_id", *combos.drug_columns)
    ]
    return f"{row['block_id']}: {drugs}" + (f" ({', '.join(extra)})" if extra else "")


def _cube(
    matrix: pd.DataFrame, block: object, column: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two drugs: (conc1 levels, conc2 levels, values[conc1, conc2]) of one block."""
    m = matrix[matrix["block_id"] == block]
    pivot = m.pivot_table(index="conc1", columns="conc2", values=column, aggfunc="mean")
    return pivot.index.to_numpy(float), pivot.columns.to_numpy(float), pivot.to_numpy(float)


def _dose_labels(conc: np.ndarray) -> list[str]:
    return [f"{c * 1e9:g}" for c in conc]


def heatmap_figure(result: SynergyResult, model: str) -> Figure:
    """Synergy score per dose pair (two drugs), one panel per block; red = synergy."""
    blocks = result.summary.head(MAX_BLOCKS_DRAWN)
    ncols = min(len(blocks), 3)
    nrows = int(np.ceil(len(blocks) / ncols))
    fig, axes = new_figure(3.6 * ncols, 3.2 * nrows, nrows=nrows, ncols=ncols)
    axes = np.atleast_1d(axes).ravel()
    lim = float(np.nanmax(np.abs(result.matrix[model]))) if len(result.matrix) else 1.0
    lim = lim if np.isfinite(lim) and lim > 0 else 1.0
    for ax, (_, row) in zip(axes, blocks.iterrows(), strict=False):
        c1, c2, z = _cube(result.matrix, row["block_id"], model)
        im = ax.imshow(z, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        for (i, j), v in np.ndenumerate(z):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6)
        ax.set_xticks(range(len(c2)), _dose_labels(c2), rotation=45, fontsize=6)
        ax.set_yticks(range(len(c1)), _dose_labels(c1), fontsize=6)
        ax.set_xlabel(f"{row['drug2']} (nM)")
        ax.set_ylabel(f"{row['drug1']} (nM)")
        basis = (
            " (mostly Loewe fallback)"
            if model == "loewe" and row.get("loewe_basis") == "mostly_fallback"
            else ""
        )
        ax.set_title(
            f"{_label(row, result)}\n{MODEL_TITLES[model]} {row[model]:.1f}{basis}", fontsize=7
        )
    for ax in axes[len(blocks) :]:
        ax.set_visible(False)
    fig.colorbar(
        im, ax=axes.tolist(), shrink=0.6, label=f"{MODEL_TITLES[model]} score (percentage points)"
    )
    return Figure(f"synergy_heatmap_{model}", f"{MODEL_TITLES[model]} synergy per dose pair", fig,
                  caption="Observed − expected % inhibition; positive (red) = synergy. Monotherapy cells score 0.")  # fmt: skip


def surface_figure(result: SynergyResult, model: str) -> go.Figure:
    """Interactive 3-D synergy surfaces over log doses, one per block (a menu picks the block)."""
    fig = go.Figure()
    blocks = result.summary.head(MAX_BLOCKS_DRAWN)
    buttons = []
    for k, (_, row) in enumerate(blocks.iterrows()):
        c1, c2, z = _cube(result.matrix, row["block_id"], model)
        fig.add_trace(go.Surface(
            x=_dose_labels(c2), y=_dose_labels(c1), z=z, colorscale="RdBu", reversescale=True,
            cmid=0, visible=k == 0, name=_label(row, result),
            colorbar={"title": {"text": MODEL_TITLES[model]}},
        ))  # fmt: skip
        visible = [i == k for i in range(len(blocks))]
        buttons.append({"label": _label(row, result)[:60], "method": "update",
                        "args": [{"visible": visible}, {"scene.xaxis.title.text": f"{row['drug2']} (nM)",
                                                        "scene.yaxis.title.text": f"{row['drug1']} (nM)"}]})  # fmt: skip
    first = blocks.iloc[0] if len(blocks) else None
    fig.update_layout(
        height=520, updatemenus=[{"buttons": buttons, "x": 0, "y": 1.12, "xanchor": "left"}],
        scene={"xaxis": {"title": {"text": f"{first['drug2']} (nM)" if first is not None else ""}},
               "yaxis": {"title": {"text": f"{first['drug1']} (nM)" if first is not None else ""}},
               "zaxis": {"title": {"text": f"{MODEL_TITLES[model]} score"}}},
    )  # fmt: skip
    return fig


def bar_figure(result: SynergyResult) -> Figure:
    """Summary score per block and model with its CI."""
    s = result.summary
    models = result.options.models
    labels = [_label(r, result) for _, r in s.iterrows()]
    fig, ax = new_figure(6.5, 0.5 + 0.35 * len(s) * len(models))
    pfig = go.Figure()
    height = 0.8 / len(models)
    for k, m in enumerate(models):
        y = np.arange(len(s)) + k * height
        lo = s.get(f"{m}_ci_low", pd.Series(np.nan, index=s.index)).to_numpy(float)
        hi = s.get(f"{m}_ci_high", pd.Series(np.nan, index=s.index)).to_numpy(float)
        val = s[m].to_numpy(float)
        # CIs bracket their estimate or are missing (Synergy guarantees it); clip stays as a guard.
        err = np.vstack(
            [np.where(np.isfinite(lo), val - lo, 0), np.where(np.isfinite(hi), hi - val, 0)]
        )
        err = np.where(np.isfinite(err), np.clip(err, 0, None), 0)
        ax.barh(y, val, height=height, xerr=err, label=MODEL_TITLES[m], capsize=2)
        pfig.add_trace(go.Bar(x=val, y=labels, orientation="h", name=MODEL_TITLES[m],
                              error_x={"type": "data", "symmetric": False, "array": err[1], "arrayminus": err[0]}))  # fmt: skip
    ax.axvline(0, color="k", lw=0.6)
    ax.set_yticks(np.arange(len(s)) + 0.4 - height / 2, labels, fontsize=7)
    ax.set_xlabel("summary synergy score (percentage points; > 0 synergy)")
    ax.legend(fontsize=7, frameon=False)
    pfig.update_layout(
        barmode="group", height=220 + 40 * len(s), xaxis_title="summary synergy score"
    )
    return Figure("synergy_summary_scores", "Summary synergy scores", fig, pfig,
                  caption="Mean score over the cells where every drug is present; bars: bootstrap CIs.")  # fmt: skip


def singles_figure(result: SynergyResult) -> Figure:
    """Each drug alone per block: observed monotherapy means and the fitted 4PL curve."""
    blocks = result.summary.head(MAX_BLOCKS_DRAWN)
    ncols = min(len(blocks), 3)
    nrows = int(np.ceil(len(blocks) / ncols))
    fig, axes = new_figure(3.6 * ncols, 2.8 * nrows, nrows=nrows, ncols=ncols)
    axes = np.atleast_1d(axes).ravel()
    conc = result.combinations.conc_columns
    singles = result.singles
    for ax, (_, row) in zip(axes, blocks.iterrows(), strict=False):
        m = result.matrix[result.matrix["block_id"] == row["block_id"]]
        present = m[conc].to_numpy() > 0
        for k, c in enumerate(conc):
            alone = m[present[:, k] & (present.sum(axis=1) == 1)]
            line = ax.errorbar(alone[c], alone["response_mean"], yerr=alone["response_sd"].fillna(0), fmt="o",
                               ms=3, capsize=2, label=str(row[f"drug{k + 1}"]))  # fmt: skip
            p = singles[(singles["block_id"] == row["block_id"]) & (singles["drug_index"] == k + 1)]
            if len(alone) and len(p) and np.isfinite(p["log10_ic50"].iloc[0]):
                xs = np.linspace(np.log10(alone[c].min()), np.log10(alone[c].max()), 100)
                q = p.iloc[0]
                v_top = (
                    1 - q["inhibition_at_zero"] / 100
                    if q["hill_slope"] > 0
                    else 1 - q["inhibition_max"] / 100
                )
                v_bot = (
                    1 - q["inhibition_max"] / 100
                    if q["hill_slope"] > 0
                    else 1 - q["inhibition_at_zero"] / 100
                )
                ys = 100 * (1 - log_logistic(xs, q["log10_ic50"], -q["hill_slope"], v_top, v_bot))
                ax.plot(10**xs, ys, color=line[0].get_color(), lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("dose (M)")
        ax.set_ylabel("% inhibition")
        ax.set_title(_label(row, result), fontsize=7)
        ax.legend(fontsize=6, frameon=False)
    for ax in axes[len(blocks) :]:
        ax.set_visible(False)
    return Figure("synergy_single_drugs", "Each drug alone", fig,
                  caption="Monotherapy cells (mean ± SD) and the fitted four-parameter curves used by Loewe and ZIP.")  # fmt: skip


def synergy_figures(result: SynergyResult, *, interactive: bool = True) -> list[Figure]:
    """The report's figures, in order: main heatmap (with its 3-D surfaces when
    ``interactive``), summary scores, single drugs, the other models' heatmaps."""
    figures = [bar_figure(result), singles_figure(result)]
    if result.n_drugs == 2:
        main = result.main_model
        heat = heatmap_figure(result, main)
        surface = surface_figure(result, main) if interactive else None
        caption = heat.caption + (
            " Interactive: a 3-D surface per block (menu)." if interactive else ""
        )
        figures.insert(0, Figure(heat.name, heat.title, heat.static, surface, caption=caption))
        for m in result.options.models:
            if m != main:
                figures.append(heatmap_figure(result, m))
    return figures


def synergy_heatmap(
    result: SynergyResult | pd.DataFrame,
    model: str = "bliss",
    *,
    block: str | int | None = None,
    ax: Any = None,
) -> Any:
    """One block's synergy score per dose pair (two drugs) on ``ax``; red = synergy.

    ``result``: a :class:`SynergyResult` or its ``matrix`` table (``block_id``, ``conc1``,
    ``conc2`` in molar, and the model's score in percentage points). ``block``: which
    block (default: the first). Doses are labelled in nM. Returns the matplotlib Axes.
    """
    from trkres.frames import check_frame

    matrix = result.matrix if isinstance(result, SynergyResult) else result
    if not isinstance(matrix, pd.DataFrame):
        raise InputError("not a synergy result", expected="a SynergyResult or its matrix table",
                         found=type(result).__name__)  # fmt: skip
    matrix = check_frame(matrix, "synergy table")
    if not isinstance(model, str) or model not in MODEL_TITLES:
        raise InputError(
            "unknown synergy model", expected=", ".join(MODEL_TITLES), found=repr(model)
        )
    missing = [c for c in ("block_id", "conc1", "conc2", model) if c not in matrix.columns]
    if missing:
        raise InputError("synergy table lacks a column", expected=", ".join(missing),
                         found=", ".join(map(str, matrix.columns)))  # fmt: skip
    if "conc3" in matrix.columns:
        raise InputError("a heatmap needs two drugs", expected="conc1, conc2", found="conc3 too")
    blocks = list(dict.fromkeys(matrix["block_id"]))
    if not blocks:
        raise InputError("synergy table has no rows", expected="at least one block", found="none")
    chosen = blocks[0] if block is None else block
    if isinstance(chosen, int) and not isinstance(chosen, bool) and chosen not in blocks:
        by_text = {str(b): b for b in blocks}  # block ids are text in the tables: 2 means "2"
        chosen = by_text.get(str(chosen), chosen)
    if not isinstance(chosen, str | int) or chosen not in blocks:
        raise InputError("block not in the synergy table", expected=", ".join(map(str, blocks[:10])),
                         found=repr(block))  # fmt: skip
    try:
        c1, c2, z = _cube(matrix, chosen, model)
    except (TypeError, ValueError) as exc:
        raise InputError("synergy table is not numeric", expected="numbers in conc1, conc2 and "
                         f"{model}", found=str(exc)[:200]) from None  # fmt: skip
    require_axes(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    finite = np.abs(z[np.isfinite(z)])
    lim = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    im = ax.imshow(z, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    for (i, j), v in np.ndenumerate(z):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(c2)), _dose_labels(c2), rotation=45, fontsize=6)
    ax.set_yticks(range(len(c1)), _dose_labels(c1), fontsize=6)
    names = {}
    if isinstance(result, SynergyResult):
        row = result.summary[result.summary["block_id"] == chosen]
        if len(row):
            names = {k: str(row.iloc[0][k]) for k in ("drug1", "drug2")}
    ax.set_xlabel(f"{names.get('drug2', 'drug 2')} (nM)")
    ax.set_ylabel(f"{names.get('drug1', 'drug 1')} (nM)")
    ax.set_title(f"{chosen}: {MODEL_TITLES[model]} synergy", fontsize=8)
    ax.figure.colorbar(im, ax=ax, label=f"{MODEL_TITLES[model]} score (percentage points)")
    return ax
