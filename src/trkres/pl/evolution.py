"""Evolution figures: Kaplan–Meier curves of progression-free time per regimen, P(cure)
with 95% CIs, and which type drove progression.

Every function takes an :class:`~trkres.models.evolution.run.EvolutionResult` (what
``tr.evolution.simulate`` returns) and draws; nothing is recomputed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from trkres.pl.checks import axes_or_new

if TYPE_CHECKING:
    from trkres.models.evolution.run import EvolutionResult
    from trkres.report.model import Figure

__all__ = ["evolution_composition", "evolution_cure", "evolution_figures", "evolution_km"]

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip


def _result(result: object) -> EvolutionResult:
    from trkres.errors import InputError
    from trkres.models.evolution.run import EvolutionResult

    if not isinstance(result, EvolutionResult):
        raise InputError("nothing to draw", expected="an evolution result (tr.evolution.simulate)",
                         found=type(result).__name__)  # fmt: skip
    return result


def _colours(names: list[str]) -> dict[str, str]:
    return {a: _PALETTE[i % len(_PALETTE)] for i, a in enumerate(names)}


def _draw_km(ax: Any, res: EvolutionResult) -> None:
    km = res.tables.get("km")
    if km is None or not len(km):
        return
    colours = _colours(list(res.regimens))
    for name in res.regimens:
        sub = km[km["regimen"] == name]
        if not len(sub):
            continue
        t = np.r_[0.0, sub["time"].to_numpy(dtype=float)]
        s = np.r_[1.0, sub["survival"].to_numpy(dtype=float)]
        lo = np.r_[1.0, sub["ci_low"].fillna(sub["survival"]).to_numpy(dtype=float)]
        hi = np.r_[1.0, sub["ci_high"].fillna(sub["survival"]).to_numpy(dtype=float)]
        ax.step(t, s, where="post", color=colours[name], label=name)
        ax.fill_between(t, lo, hi, step="post", color=colours[name], alpha=0.15, lw=0)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("days from treatment start")
    ax.set_ylabel("progression-free fraction")
    ax.legend(fontsize=7, frameon=False)


def _draw_cure(ax: Any, res: EvolutionResult) -> None:
    summary = res.tables["summary"]
    x = np.arange(len(summary))
    p = summary["p_cure"].to_numpy(dtype=float)
    err = np.vstack([p - summary["p_cure_ci_low"].to_numpy(dtype=float),
                     summary["p_cure_ci_high"].to_numpy(dtype=float) - p])  # fmt: skip
    colours = _colours(list(res.regimens))
    ax.bar(x, p, color=[colours[str(r)] for r in summary["regimen"]], yerr=err, capsize=3)
    ax.set_xticks(x, summary["regimen"].astype(str).tolist())
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("P(cure), 95% CI")


def _draw_composition(ax: Any, res: EvolutionResult) -> None:
    comp = res.tables["composition"]
    types = list(res.types)
    colours = _colours(types)
    x = np.arange(len(res.regimens))
    bottom = np.zeros(len(res.regimens))
    for t in types:
        share = []
        for name in res.regimens:
            row = comp[(comp["regimen"] == name) & (comp["type"] == t)]
            share.append(float(row["mean_fraction_at_progression"].iloc[0]) if len(row) else 0.0)
        values = np.nan_to_num(np.array(share))
        ax.bar(x, values, bottom=bottom, color=colours[t], label=t)
        bottom += values
    ax.set_xticks(x, list(res.regimens))
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("mean share of the tumour at progression")
    # beside the bars, not over them (a bar can fill the whole height)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _plot(result: object, ax: Any, draw: Any, size: tuple[float, float]) -> Any:
    res = _result(result)
    ax = axes_or_new(ax, *size)
    draw(ax, res)
    return ax


def evolution_km(result: EvolutionResult, ax: Any = None) -> Any:
    """Kaplan–Meier progression-free fraction per regimen (days), with 95% bands."""
    return _plot(result, ax, _draw_km, (6.0, 3.5))


def evolution_cure(result: EvolutionResult, ax: Any = None) -> Any:
    """P(cure) per regimen with its Clopper–Pearson 95% interval."""
    return _plot(result, ax, _draw_cure, (4.5, 3.5))


def evolution_composition(result: EvolutionResult, ax: Any = None) -> Any:
    """Mean share of each type in the tumour at progression, per regimen."""
    return _plot(result, ax, _draw_composition, (5.0, 3.5))


def _plotly_km(res: EvolutionResult) -> Any:
    import plotly.graph_objects as go

    km = res.tables["km"]
    pfig = go.Figure()
    colours = _colours(list(res.regimens))
    for name in res.regimens:
        sub = km[km["regimen"] == name]
        pfig.add_trace(go.Scatter(
            x=np.r_[0.0, sub["time"].to_numpy(dtype=float)],
            y=np.r_[1.0, sub["survival"].to_numpy(dtype=float)], mode="lines", name=name,
            line={"color": colours[name], "width": 1.5, "shape": "hv"},
        ))  # fmt: skip
    pfig.update_layout(height=380, margin={"l": 60, "r": 20, "t": 20, "b": 40},
                       xaxis_title="days from treatment start",
                       yaxis_title="progression-free fraction")  # fmt: skip
    return pfig


def evolution_figures(result: EvolutionResult, prefix: str = "evolution") -> list[Figure]:
    """The report's figures: Kaplan–Meier, P(cure), composition at progression."""
    from trkres.pl.style import new_figure
    from trkres.report.model import Figure

    res = _result(result)
    out: list[Figure] = []
    summary = res.tables.get("summary")
    if summary is None or not len(summary):
        return out
    fig, ax = new_figure(6.5, 3.8)
    _draw_km(ax, res)
    out.append(Figure(f"{prefix}_km", "Progression-free time per regimen (Kaplan–Meier)", fig,
                      _plotly_km(res),
                      caption="Fraction of virtual patients not progressed, from treatment "
                      "start; cured and ongoing patients are censored at the horizon (a run "
                      "stopped by the event cap at the day it stopped). 95% "
                      "bands on the log scale (Greenwood)."))  # fmt: skip
    fig, ax = new_figure(4.8, 3.5)
    _draw_cure(ax, res)
    out.append(Figure(f"{prefix}_cure", "P(cure) per regimen", fig,
                      caption="Share of virtual patients with 0 cells before the horizon, with "
                      "exact (Clopper–Pearson) 95% intervals."))  # fmt: skip
    comp = res.tables.get("composition")
    if comp is not None and comp["progressed_patients"].sum() > 0:
        fig, ax = new_figure(5.5, 3.5)
        _draw_composition(ax, res)
        out.append(Figure(f"{prefix}_composition", "Composition of the tumour at progression",
                          fig, caption="Mean share of each cell type among patients who "
                          "progressed on the regimen."))  # fmt: skip
    return out
