"""Signalling-model figures: heatmaps of a readout over genotype × treatment, single-drug
dose-response curves per genotype, readouts over time.

Every function takes a :class:`~trkres.models.signalling.run.SignalResult` (what
``tr.signalling.simulate`` returns) and draws; nothing is simulated here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from trkres.pl.checks import axes_or_new

if TYPE_CHECKING:
    from trkres.models.signalling.run import SignalResult
    from trkres.report.model import Figure

__all__ = [
    "signal_dose_response",
    "signal_figures",
    "signal_heatmap",
    "signal_time_course",
]

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip


def _result(result: object) -> SignalResult:
    from trkres.errors import InputError
    from trkres.models.signalling.run import SignalResult

    if not isinstance(result, SignalResult):
        raise InputError("nothing to draw", expected="a signalling result (tr.signalling.simulate)",
                         found=type(result).__name__)  # fmt: skip
    return result


def _short(text: str, width: int = 38) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _draw_heatmap(ax: Any, res: SignalResult, readout: str, time_h: float | None) -> None:
    wide = res.readout(readout, time_h)
    values = wide.to_numpy(dtype=float)
    image = ax.imshow(values, cmap="RdYlBu_r", vmin=0.0, vmax=max(1.0, float(np.nanmax(values))),
                      aspect="auto")  # fmt: skip
    ax.set_xticks(range(wide.shape[1]), [_short(c, 30) for c in wide.columns], rotation=40,
                  ha="right", fontsize=6)  # fmt: skip
    ax.set_yticks(range(wide.shape[0]), [_short(g) for g in wide.index], fontsize=6)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=5.5,
                    color="white" if v > 0.75 or v < 0.2 else "black")  # fmt: skip
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label=f"{readout}, fraction of untreated")


def _draw_dose_response(ax: Any, res: SignalResult, drug: str, readout: str) -> None:
    curves = res.tables["dose_response"]
    part = curves[(curves["drug"] == drug) & (curves["readout"] == readout)]
    for i, (genotype, sub) in enumerate(part.groupby("genotype", sort=False)):
        ax.plot(sub["dose_nm"], sub["value"], "-o", ms=2, lw=1,
                color=_PALETTE[i % len(_PALETTE)], label=_short(str(genotype)))  # fmt: skip
    ax.axhline(0.5, color="grey", lw=0.5, ls="--")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, max(1.05, float(part["value"].max()) * 1.05 if len(part) else 1.05))
    ax.set_xlabel(f"{drug} (nM)")
    ax.set_ylabel(f"{readout}, fraction of untreated")
    ax.legend(fontsize=6, frameon=False)


def _draw_time_course(ax: Any, res: SignalResult, genotype: str, readout: str) -> None:
    table = res.tables["readouts"]
    part = table[(table["genotype"] == genotype) & (table["readout"] == readout)]
    for i, (treatment, sub) in enumerate(part.groupby("treatment", sort=False)):
        ax.plot(sub["time_h"], sub["value"], "-o", ms=3, lw=1,
                color=_PALETTE[i % len(_PALETTE)], label=_short(str(treatment)))  # fmt: skip
    ax.set_xlabel("time after the drugs (h)")
    ax.set_ylabel(f"{readout}, fraction of untreated")
    ax.set_title(_short(genotype, 60), fontsize=8)
    ax.legend(fontsize=6, frameon=False)


def signal_heatmap(
    result: SignalResult, readout: str = "pERK", time_h: float | None = None, ax: Any = None
) -> Any:
    """A readout (fraction of untreated) over genotype × treatment; ``time_h`` defaults to the
    first readout time (72 h for viability). Returns ``ax``."""
    res = _result(result)
    ax = axes_or_new(ax, 8.0, 4.0)
    _draw_heatmap(ax, res, readout, time_h)
    return ax


def signal_dose_response(
    result: SignalResult, drug: str | None = None, readout: str = "viability", ax: Any = None
) -> Any:
    """One drug's single-agent curve per genotype (fraction of untreated, log dose in nM);
    ``drug`` defaults to the first drug of the result's curves."""
    res = _result(result)
    curves = res.tables.get("dose_response")
    drugs = [] if curves is None else list(dict.fromkeys(curves["drug"]))
    chosen = drugs[0] if drug is None and drugs else drug
    if chosen not in drugs:
        from trkres.errors import InputError

        raise InputError("no dose-response curve for that drug",
                         expected=", ".join(drugs) or "a result simulated with dose_points > 0",
                         found=repr(drug))  # fmt: skip
    ax = axes_or_new(ax, 6.0, 3.5)
    _draw_dose_response(ax, res, str(chosen), readout)
    return ax


def signal_time_course(
    result: SignalResult, genotype: str | None = None, readout: str = "pERK", ax: Any = None
) -> Any:
    """One genotype's readout over the readout times, one line per treatment; ``genotype``
    defaults to the first of the result."""
    res = _result(result)
    labels = [g.label for g in res.genotypes]
    chosen = labels[0] if genotype is None and labels else genotype
    if chosen not in labels:
        from trkres.errors import InputError

        raise InputError("no such genotype in the result", expected=", ".join(labels),
                         found=repr(genotype))  # fmt: skip
    ax = axes_or_new(ax, 6.0, 3.5)
    _draw_time_course(ax, res, str(chosen), readout)
    return ax


def _plotly_heatmap(res: SignalResult, readout: str) -> Any:
    import plotly.graph_objects as go

    wide = res.readout(readout)
    pfig = go.Figure(go.Heatmap(
        z=wide.to_numpy(dtype=float), x=list(wide.columns), y=list(wide.index),
        colorscale="RdYlBu", reversescale=True, zmin=0, zmax=max(1.0, float(np.nanmax(wide.to_numpy()))),
        colorbar={"title": f"{readout}<br>fraction"},
        hovertemplate="%{y}<br>%{x}<br>" + readout + ": %{z:.3f}<extra></extra>",
    ))  # fmt: skip
    pfig.update_layout(
        height=120 + 40 * wide.shape[0], margin={"l": 260, "r": 20, "t": 20, "b": 160}
    )
    return pfig


def signal_figures(result: SignalResult, prefix: str = "signal") -> list[Figure]:
    """The report's figures: heatmaps of pERK, pAKT and viability, one dose-response figure
    per drug (viability) and, when there are several readout times, the time courses."""
    from trkres.pl.style import new_figure
    from trkres.report.model import Figure

    res = _result(result)
    out: list[Figure] = []
    n_g = len(res.genotypes)
    for readout in ("pERK", "pAKT", "viability"):
        fig, ax = new_figure(8.5, 1.6 + 0.35 * n_g + 1.2)
        _draw_heatmap(ax, res, readout, None)
        when = res.options.viability_h if readout == "viability" else res.options.times_h[0]
        out.append(Figure(f"{prefix}_heatmap_{readout}",
                          f"{readout} at {when:g} h, fraction of untreated", fig,
                          _plotly_heatmap(res, readout),
                          caption="Each cell: the same genotype treated ÷ untreated at the same "
                          "time (model prediction)."))  # fmt: skip
    curves = res.tables.get("dose_response")
    if curves is not None and len(curves):
        for drug in curves["drug"].unique():
            fig, ax = new_figure(6.5, 3.6)
            _draw_dose_response(ax, res, str(drug), "viability")
            out.append(Figure(f"{prefix}_dose_{drug}", f"{drug}: viability at "
                              f"{res.options.viability_h:g} h per genotype", fig,
                              caption="Single-agent curves; dashed line: half of untreated."))  # fmt: skip
    if len(res.options.times_h) > 1:
        for i, g in enumerate(res.genotypes[:6]):
            fig, ax = new_figure(6.5, 3.6)
            _draw_time_course(ax, res, g.label, "pERK")
            out.append(Figure(f"{prefix}_time_{i + 1}", f"pERK over time: {g.label}", fig))
    return out
