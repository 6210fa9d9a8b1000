"""The drug-combination report section: synergy scores, surfaces and re-sensitisation."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pydantic import BaseModel, ConfigDict, Field

from trkres.assays.doseresponse.curvefit import log_logistic
from trkres.assays.synergy.combination_index import CI_UNBOUNDED
from trkres.assays.synergy.io import Combinations, ResponseKind, from_frame, read_combinations
from trkres.assays.synergy.resensitisation import compare_lines, proliferation_tests
from trkres.assays.synergy.scorer import MODELS, ModelName, Synergy
from trkres.pl.style import new_figure
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

#: Blocks drawn in the per-block figures (all are always in the tables).
MAX_BLOCKS_DRAWN = 12
_MODEL_TITLES = {"bliss": "Bliss", "hsa": "HSA", "loewe": "Loewe", "zip": "ZIP"}


class SynergyOptions(BaseModel):
    """Options of the synergy analysis (``options: {synergy: {...}}``)."""

    model_config = ConfigDict(extra="forbid")

    response: ResponseKind = Field(
        "inhibition",
        description="what 'response' holds: % inhibition, % viability or a viability fraction",
    )
    conc_unit: str | None = Field(None, description="unit when the table has no conc_unit column")
    models: list[ModelName] = Field(default_factory=lambda: list(MODELS))
    n_boot: int = Field(100, ge=0, le=10000, description="replicate-bootstrap draws (0 = no CIs)")
    seed: int = 0
    ci: float = Field(0.95, gt=0, lt=1)
    musyc: bool = True
    condition: str | None = Field(None, description="block column naming the cell line (e.g. line)")
    reference: str = Field("parental", description="reference condition for re-sensitisation")
    adjust: Literal["holm", "fdr_bh", "bonferroni"] = "holm"


def _label(row: pd.Series, combos: Combinations) -> str:
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


def heatmap_figure(result: Synergy, combos: Combinations, model: str) -> Figure:
    """Synergy score per dose pair (two drugs), one panel per block; red = synergy."""
    blocks = result.summary_.head(MAX_BLOCKS_DRAWN)
    ncols = min(len(blocks), 3)
    nrows = int(np.ceil(len(blocks) / ncols))
    fig, axes = new_figure(3.6 * ncols, 3.2 * nrows, nrows=nrows, ncols=ncols)
    axes = np.atleast_1d(axes).ravel()
    lim = float(np.nanmax(np.abs(result.matrix_[model]))) if len(result.matrix_) else 1.0
    lim = lim if np.isfinite(lim) and lim > 0 else 1.0
    for ax, (_, row) in zip(axes, blocks.iterrows(), strict=False):
        c1, c2, z = _cube(result.matrix_, row["block_id"], model)
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
            f"{_label(row, combos)}\n{_MODEL_TITLES[model]} {row[model]:.1f}{basis}", fontsize=7
        )
    for ax in axes[len(blocks) :]:
        ax.set_visible(False)
    fig.colorbar(
        im, ax=axes.tolist(), shrink=0.6, label=f"{_MODEL_TITLES[model]} score (percentage points)"
    )
    return Figure(f"synergy_heatmap_{model}", f"{_MODEL_TITLES[model]} synergy per dose pair", fig,
                  caption="Observed − expected % inhibition; positive (red) = synergy. Monotherapy cells score 0.")  # fmt: skip


def surface_figure(result: Synergy, combos: Combinations, model: str) -> go.Figure:
    """Interactive 3-D synergy surfaces over log doses, one per block (a menu picks the block)."""
    fig = go.Figure()
    blocks = result.summary_.head(MAX_BLOCKS_DRAWN)
    buttons = []
    for k, (_, row) in enumerate(blocks.iterrows()):
        c1, c2, z = _cube(result.matrix_, row["block_id"], model)
        fig.add_trace(go.Surface(
            x=_dose_labels(c2), y=_dose_labels(c1), z=z, colorscale="RdBu", reversescale=True,
            cmid=0, visible=k == 0, name=_label(row, combos),
            colorbar={"title": {"text": _MODEL_TITLES[model]}},
        ))  # fmt: skip
        visible = [i == k for i in range(len(blocks))]
        buttons.append({"label": _label(row, combos)[:60], "method": "update",
                        "args": [{"visible": visible}, {"scene.xaxis.title.text": f"{row['drug2']} (nM)",
                                                        "scene.yaxis.title.text": f"{row['drug1']} (nM)"}]})  # fmt: skip
    first = blocks.iloc[0] if len(blocks) else None
    fig.update_layout(
        height=520, updatemenus=[{"buttons": buttons, "x": 0, "y": 1.12, "xanchor": "left"}],
        scene={"xaxis": {"title": {"text": f"{first['drug2']} (nM)" if first is not None else ""}},
               "yaxis": {"title": {"text": f"{first['drug1']} (nM)" if first is not None else ""}},
               "zaxis": {"title": {"text": f"{_MODEL_TITLES[model]} score"}}},
    )  # fmt: skip
    return fig


def bar_figure(result: Synergy, combos: Combinations) -> Figure:
    """Summary score per block and model with its CI."""
    s = result.summary_
    labels = [_label(r, combos) for _, r in s.iterrows()]
    fig, ax = new_figure(6.5, 0.5 + 0.35 * len(s) * len(result.models))
    pfig = go.Figure()
    height = 0.8 / len(result.models)
    for k, m in enumerate(result.models):
        y = np.arange(len(s)) + k * height
        lo = s.get(f"{m}_ci_low", pd.Series(np.nan, index=s.index)).to_numpy(float)
        hi = s.get(f"{m}_ci_high", pd.Series(np.nan, index=s.index)).to_numpy(float)
        val = s[m].to_numpy(float)
        # CIs bracket their estimate or are missing (Synergy guarantees it); clip stays as a guard.
        err = np.vstack(
            [np.where(np.isfinite(lo), val - lo, 0), np.where(np.isfinite(hi), hi - val, 0)]
        )
        err = np.where(np.isfinite(err), np.clip(err, 0, None), 0)
        ax.barh(y, val, height=height, xerr=err, label=_MODEL_TITLES[m], capsize=2)
        pfig.add_trace(go.Bar(x=val, y=labels, orientation="h", name=_MODEL_TITLES[m],
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


def singles_figure(result: Synergy, combos: Combinations) -> Figure:
    """Each drug alone per block: observed monotherapy means and the fitted 4PL curve."""
    blocks = result.summary_.head(MAX_BLOCKS_DRAWN)
    ncols = min(len(blocks), 3)
    nrows = int(np.ceil(len(blocks) / ncols))
    fig, axes = new_figure(3.6 * ncols, 2.8 * nrows, nrows=nrows, ncols=ncols)
    axes = np.atleast_1d(axes).ravel()
    conc = combos.conc_columns
    singles = result.singles_
    for ax, (_, row) in zip(axes, blocks.iterrows(), strict=False):
        m = result.matrix_[result.matrix_["block_id"] == row["block_id"]]
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
        ax.set_title(_label(row, combos), fontsize=7)
        ax.legend(fontsize=6, frameon=False)
    for ax in axes[len(blocks) :]:
        ax.set_visible(False)
    return Figure("synergy_single_drugs", "Each drug alone", fig,
                  caption="Monotherapy cells (mean ± SD) and the fitted four-parameter curves used by Loewe and ZIP.")  # fmt: skip


def synergy_section(combos: Combinations, opts: SynergyOptions, source: str = "") -> Section:
    """Score every block and build the section (tables, figures, flags). Pure: no files."""
    result = Synergy(
        opts.models, n_boot=opts.n_boot, ci=opts.ci, seed=opts.seed, musyc=opts.musyc
    ).fit(combos)
    tables = [
        Table("synergy_summary", result.summary_, "Synergy per block",
              caption="Scores in percentage points of inhibition (observed − expected; > 0 synergy); "
                      "CSS in % inhibition; status labels degenerate blocks; loewe_basis says whether the "
                      "Loewe score rests on Loewe's equation or mostly on its fallback; ci_note says why a CI "
                      "is missing."),
        Table("synergy_matrix", result.matrix_, "Synergy per dose pair", in_report=False),
        Table("synergy_single_drugs", result.singles_, "Single-drug fits (IC50 in molar)"),
    ]  # fmt: skip
    if len(result.musyc_):
        tables.append(Table("synergy_musyc", result.musyc_, "MuSyC: potency (α) and efficacy (β) synergy",
                            caption="log10 α > 0: potency synergy; β > 0: efficacy synergy; asymptotic 95% CIs."))  # fmt: skip
    if len(result.combination_index_):
        tables.append(Table("synergy_combination_index", result.combination_index_,
                            "Chou–Talalay combination index (fixed-ratio rays)",
                            caption=f"CI < 1 is synergy; inf = unbounded (above {CI_UNBOUNDED:g})."))  # fmt: skip
    flags: list[Flag] = []
    bad = result.summary_[result.summary_["status"] != "ok"]
    for _, r in bad.iterrows():
        flags.append(Flag("warning", f"block {r['block_id']}: {r['status']}"))
    if "loewe_basis" in result.summary_:
        for _, r in result.summary_[result.summary_["loewe_basis"] == "mostly_fallback"].iterrows():
            flags.append(Flag("warning", f"block {r['block_id']}: Loewe {r['loewe']:.1f} rests mostly on the fallback "
                                         f"({r['loewe_fallback_fraction']:.0%} of combination cells: no dose solves "
                                         "Loewe's equation there, the expected value is the stronger single drug at "
                                         "the summed dose); read it with care"))  # fmt: skip
    for _, r in result.summary_[result.summary_["ci_note"] != ""].iterrows():
        flags.append(Flag("info", f"block {r['block_id']}: {r['ci_note']}"))
    if opts.condition and opts.condition not in combos.blocks.columns:
        from trkres.errors import InputError

        raise InputError("condition column not in the combination table", expected=opts.condition,
                         found=", ".join(map(str, combos.blocks.columns)))  # fmt: skip
    if combos.n_drugs == 2 and opts.condition:
        compare = compare_lines(
            result, condition=opts.condition, reference=opts.reference, ci=opts.ci
        )
        tables.append(Table("synergy_resensitisation", compare, f"Re-sensitisation: each line vs '{opts.reference}'",
                            caption="Differences are line − reference (percentage points); percentile bootstrap CIs."))  # fmt: skip
        for _, r in compare.iterrows():
            main = opts.models[-1]
            low = r.get(f"delta_{main}_ci_low", np.nan)
            if pd.notna(low) and low > 0:
                flags.append(Flag("info", f"{r['drug1']} + {r['drug2']}: {_MODEL_TITLES[main]} synergy is higher in "
                                          f"{r[opts.condition]} than in {opts.reference} by {r[f'delta_{main}']:.1f} "
                                          f"(95% CI {low:.1f} to {r[f'delta_{main}_ci_high']:.1f})"))  # fmt: skip
    tables.append(Table("synergy_proliferation", proliferation_tests(result, method=opts.adjust),
                        "Combination vs single agents (% viability)", max_rows=200))  # fmt: skip
    figures = [bar_figure(result, combos), singles_figure(result, combos)]
    if combos.n_drugs == 2:
        main = "zip" if "zip" in opts.models else opts.models[0]
        heat = heatmap_figure(result, combos, main)
        figures.insert(0, Figure(heat.name, heat.title, heat.static, surface_figure(result, combos, main),
                                 caption=heat.caption + " Interactive: a 3-D surface per block (menu)."))  # fmt: skip
        for m in opts.models:
            if m != main:
                figures.append(heatmap_figure(result, combos, m))
    return Section(
        name="synergy",
        title="Drug combinations: synergy and re-sensitisation",
        summary=(
            f"{len(result.summary_)} block(s) of {combos.n_drugs}-drug combinations{source}. Scores follow "
            "SynergyFinder 3's definitions (% inhibition, observed − expected, > 0 synergy): Bliss and HSA on "
            "the observed single agents, Loewe and ZIP on fitted four-parameter single-drug curves; summary = mean "
            f"over the cells where every drug is present. {result.summary_['ci_method'].iloc[0] if len(result.summary_) else ''}."
        ),
        tables=tables,
        figures=figures,
        flags=flags,
    )


@register("synergy", "Drug combinations: synergy and re-sensitisation",
          any_of={InputKind.combination, InputKind.plate}, options=SynergyOptions, order=250)  # fmt: skip
def synergy_analysis(ctx: AnalysisContext) -> Section:
    """Read every combination input (and every multi-drug plate) of the study and score it."""
    from trkres.assays.plates.section import study_plates
    from trkres.assays.plates.wells import drug_count, to_combinations

    opts = ctx.options if isinstance(ctx.options, SynergyOptions) else SynergyOptions()
    parts = [read_combinations(p, response=opts.response, conc_unit=opts.conc_unit)
             for p in ctx.paths(InputKind.combination)]  # fmt: skip
    for name, wells in study_plates(ctx):
        if drug_count(wells) >= 2:
            parts.append(from_frame(to_combinations(wells), response="viability", path=name))
    if not parts:
        return Section(name="synergy", title="Drug combinations: synergy and re-sensitisation",
                       summary="No combination data: the study's plates hold single drugs only.")  # fmt: skip
    combos = parts[0] if len(parts) == 1 else _concat(parts)
    return synergy_section(combos, opts)


def _concat(parts: list[Combinations]) -> Combinations:
    n = {p.n_drugs for p in parts}
    if len(n) > 1:
        from trkres.errors import InputError

        raise InputError("combination inputs mix two- and three-drug tables",
                         expected="one number of drugs per study", found=", ".join(map(str, sorted(n))))  # fmt: skip
    data = pd.concat(
        [p.data.assign(block_id=f"{k + 1}." + p.data["block_id"]) for k, p in enumerate(parts)]
    )
    blocks = pd.concat(
        [p.blocks.assign(block_id=f"{k + 1}." + p.blocks["block_id"]) for k, p in enumerate(parts)]
    )
    return Combinations(
        data.reset_index(drop=True), blocks.reset_index(drop=True), parts[0].n_drugs
    )
