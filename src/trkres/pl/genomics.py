"""Genomics figures: cohort mechanisms, an oncoprint, per-patient timelines.

Public (notebook) functions take a :func:`trkres.genomics.classify` result and
draw on a matplotlib ``ax`` (a new one when none is given): :func:`mechanisms`,
:func:`oncoprint`. The ``*_figure`` builders make the report's figures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from matplotlib.patches import Patch, Rectangle

from trkres.errors import InputError
from trkres.genomics.model import plain
from trkres.pl.checks import require_axes
from trkres.pl.style import CLASS_COLOURS, new_figure
from trkres.report.model import Figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from trkres.genomics.run import ClassifyResult

_MECH_COLOURS = {
    "on_target": "#d62728", "off_target": "#1f77b4", "on_and_off_target": "#9467bd",
    "none_detected": "#7f7f7f", "no_trk_fusion": "#bcbd22", "fusion_unknown": "#c7c7c7",
}  # fmt: skip
_DRUG_COLOURS = {"trk_inhibitor": "#2ca02c", "mek_inhibitor": "#1f77b4", "raf_inhibitor": "#17becf",
                 "met_inhibitor": "#8c564b", "other": "#c7c7c7"}  # fmt: skip


def mechanism_figure(freq: pd.DataFrame) -> Figure:
    """Bar chart of patients per mechanism with Wilson 95% CIs (the report figure)."""
    fig, ax = new_figure(5.5, 2.8)
    _draw_mechanisms(ax, freq)
    total = int(freq["total"].iloc[0]) if len(freq) else 0
    return Figure(
        "genomics_mechanisms", "Resistance mechanisms across patients", fig,
        caption=f"Percent of {total} patients; error bars are Wilson 95% confidence intervals.",
    )  # fmt: skip


def _draw_mechanisms(ax: Axes, freq: pd.DataFrame) -> None:
    x = np.arange(len(freq))
    pct = freq["percent"].to_numpy(dtype=float)
    err = np.vstack([pct - freq["ci95_low_percent"], freq["ci95_high_percent"] - pct])
    ax.bar(x, pct, color=[_MECH_COLOURS.get(m, "#999") for m in freq["mechanism"]])
    ax.errorbar(x, pct, yerr=err, fmt="none", ecolor="black", capsize=3, lw=1)
    for xi, n in zip(x, freq["n"], strict=True):
        ax.annotate(f"n={n}", (xi, 1), ha="center", fontsize=7, color="white" if n else "black")
    ax.set_xticks(x, [m.replace("_", " ") for m in freq["mechanism"]], rotation=20, ha="right")
    ax.set_ylabel("patients (%)")
    ax.set_ylim(0, 100)


def mechanisms(result: ClassifyResult, ax: Axes | None = None) -> Axes:
    """Patients per resistance mechanism (percent) with Wilson 95% CIs, from a
    :func:`trkres.genomics.classify` result (its ``mechanisms`` table); returns the Axes."""
    require_axes(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.5, 2.8))
    _draw_mechanisms(ax, _table(result, "mechanisms"))
    return ax


def oncoprint(result: ClassifyResult, ax: Axes | None = None) -> Axes:
    """Genes × samples, each cell coloured by the class of its counted resistance
    alterations and NTRK fusions (hatched: acquired on a TRK inhibitor), from a
    :func:`trkres.genomics.classify` result; returns the Axes (empty when nothing
    is counted)."""
    alterations, samples = _table(result, "alterations"), _table(result, "samples")
    shown = _shown(alterations)
    cols = _sample_order(samples)
    genes = _gene_order(shown)
    require_axes(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=_oncoprint_size(cols, genes))
    if not shown.empty:
        _draw_oncoprint(ax, shown, cols, genes)
    return ax


def _table(result: object, name: str) -> pd.DataFrame:
    table = getattr(result, name, None)
    if not isinstance(table, pd.DataFrame):
        raise InputError(
            "not a genomics result",
            expected="the result of trkres.genomics.classify (a ClassifyResult)",
            found=type(result).__name__,
        )
    return table


def _sample_order(samples: pd.DataFrame) -> list[str]:
    order = samples.sort_values(["patient_id", "collection_day", "sample_id"], na_position="last")
    return order["sample_id"].tolist()


def _shown(alterations: pd.DataFrame) -> pd.DataFrame:
    """Counted alterations and fusions; fusions in a row of their own per gene."""
    shown = plain(
        alterations[
            (alterations["counts_as"] != "") | (alterations["alteration_class"] == "fusion_driver")
        ]
    )
    # Fusions get their own row so a kinase-domain mutation in the fused gene stays visible.
    return shown.assign(
        gene=np.where(
            shown["alteration_class"] == "fusion_driver", shown["gene"] + " fusion", shown["gene"]
        )
    )


def _gene_order(shown: pd.DataFrame) -> list[str]:
    """Genes by the number of samples altered, most first."""
    genes: list[str] = (
        shown.groupby("gene")["sample_id"]
        .nunique()
        .sort_values(ascending=False, kind="stable")
        .index.tolist()
    )
    return genes


def _oncoprint_size(cols: list[str], genes: list[str]) -> tuple[float, float]:
    return max(4.0, 0.45 * len(cols) + 2), max(1.8, 0.32 * len(genes) + 1.2)


def _draw_oncoprint(ax: Axes, shown: pd.DataFrame, cols: list[str], genes: list[str]) -> None:
    col_of = {s: i for i, s in enumerate(cols)}
    row_of = {g: i for i, g in enumerate(genes)}
    # Several alterations of one gene in one sample share the cell, stacked.
    for (sample_id, gene), cell in shown.groupby(["sample_id", "gene"], sort=False):
        x, y = col_of.get(str(sample_id)), row_of[str(gene)]
        if x is None:
            continue
        height = 0.76 / len(cell)
        for k, r in enumerate(cell.itertuples()):
            colour = CLASS_COLOURS.get(str(r.alteration_class), "#999")
            hatch = "" if r.timing != "acquired" else "///"
            ax.add_patch(Rectangle((x - 0.42, y - 0.38 + k * height), 0.84, height,
                                   facecolor=colour, hatch=hatch, edgecolor="white", lw=0.5))  # fmt: skip
    ax.set_xlim(-0.6, len(cols) - 0.4)
    ax.set_ylim(len(genes) - 0.5, -0.5)
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(genes)), genes, fontsize=8)
    ax.set_facecolor("#f2f2f2")
    present = sorted(set(shown["alteration_class"]))
    handles = [
        Patch(color=CLASS_COLOURS.get(c, "#999"), label=c.replace("_", " ")) for c in present
    ]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="///", label="acquired"))
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7
    )


def oncoprint_figure(alterations: pd.DataFrame, samples: pd.DataFrame) -> Figure | None:
    """Genes × samples, each cell coloured by the alteration's class (counted ones and fusions)."""
    shown = _shown(alterations)
    if shown.empty:
        return None
    cols = _sample_order(samples)
    genes = _gene_order(shown)
    fig, ax = new_figure(*_oncoprint_size(cols, genes))
    _draw_oncoprint(ax, shown, cols, genes)
    # Interactive version: one heatmap trace per class for hover text.
    hover = shown.assign(
        x=shown["sample_id"], y=shown["gene"],
        text=shown["gene"] + " " + shown["protein_change"].where(shown["protein_change"] != "", shown["alteration_type"])
        + "<br>" + shown["alteration_class"] + " · " + shown["timing"]
        + "<br>VAF " + shown["vaf"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
    )  # fmt: skip
    # Several alterations in one cell: later ones are drawn smaller on top, so all show.
    hover["size"] = 18 - 7 * hover.groupby(["x", "y"]).cumcount().clip(upper=2)
    pfig = go.Figure()
    for cls, g in hover.sort_values("size", ascending=False).groupby(
        "alteration_class", sort=False
    ):
        pfig.add_trace(go.Scatter(
            x=g["x"], y=g["y"], mode="markers", name=str(cls).replace("_", " "),
            marker={"symbol": "square", "size": g["size"], "color": CLASS_COLOURS.get(str(cls), "#999")},
            text=g["text"], hoverinfo="text",
        ))  # fmt: skip
    pfig.update_layout(
        xaxis={"categoryorder": "array", "categoryarray": cols, "tickangle": -60},
        yaxis={"categoryorder": "array", "categoryarray": genes[::-1]},
        height=200 + 28 * len(genes), margin={"l": 80, "r": 20, "t": 20, "b": 120},
        plot_bgcolor="#f7f7f7",
    )  # fmt: skip
    return Figure(
        "genomics_oncoprint", "Alterations by sample (oncoprint)", fig, pfig,
        caption="Counted resistance alterations and NTRK fusions; hatched cells were acquired "
        "on a TRK inhibitor. Samples are grouped by patient in collection order.",
    )  # fmt: skip


def timeline_figure(
    timeline: pd.DataFrame | None, samples: pd.DataFrame, alterations: pd.DataFrame
) -> Figure | None:
    """Per-patient treatment lines, responses, sample collections and what each sample showed."""
    if timeline is None or timeline.empty:
        return None
    patients = sorted(set(timeline["patient_id"]) & set(samples["patient_id"])) or sorted(
        set(timeline["patient_id"])
    )
    found = (
        plain(alterations[alterations["counts_as"] != ""])
        .assign(label=lambda d: d["gene"] + " " + d["protein_change"].where(d["protein_change"] != "", d["alteration_type"]))
        .groupby("sample_id")["label"].agg(lambda v: ", ".join(dict.fromkeys(v)))
    )  # fmt: skip
    fig, ax = new_figure(7.5, max(2.0, 0.7 * len(patients) + 1))
    pfig = go.Figure()
    for y, patient in enumerate(patients):
        lines = timeline[timeline["patient_id"] == patient]
        for t in lines.itertuples():
            stop = t.stop_day if pd.notna(t.stop_day) else t.start_day + 1
            first_class = t.drug_classes.split(";")[0] if t.drug_classes else "other"
            colour = _DRUG_COLOURS.get(first_class, _DRUG_COLOURS["other"])
            ax.barh(y, stop - t.start_day, left=t.start_day, height=0.35, color=colour, alpha=0.85)
            ax.annotate(f"{t.drugs} {t.best_response}".strip(), (t.start_day, y - 0.28), fontsize=6)
            pfig.add_trace(go.Bar(
                y=[patient], x=[stop - t.start_day], base=[t.start_day], orientation="h",
                marker_color=colour, showlegend=False,
                hovertext=f"{t.agent}: day {t.start_day:g}–{stop:g}, best response {t.best_response or 'n/a'}",
                hoverinfo="text", width=0.35,
            ))  # fmt: skip
        mine = samples[(samples["patient_id"] == patient) & samples["collection_day"].notna()]
        for s in mine.itertuples():
            marker = "v" if s.sample_type == "cfDNA" else "^"
            ax.plot([s.collection_day], [y + 0.3], marker=marker, color="black", ms=5)
            what = found.get(s.sample_id, "")
            if what:
                ax.annotate(what, (s.collection_day, y + 0.38), fontsize=6, color="#b00")
            pfig.add_trace(go.Scatter(
                x=[s.collection_day], y=[patient], mode="markers", showlegend=False,
                marker={"symbol": "triangle-down" if s.sample_type == "cfDNA" else "triangle-up",
                        "size": 11, "color": "black"},
                hovertext=f"{s.sample_id} ({s.sample_type or 'sample'}, day {s.collection_day:g}): {what or 'no resistance alteration'}",
                hoverinfo="text",
            ))  # fmt: skip
    ax.set_yticks(range(len(patients)), patients, fontsize=8)
    ax.set_ylim(len(patients) - 0.4, -0.7)
    ax.set_xlabel("day")
    handles = [Patch(color=c, label=k.replace("_", " ")) for k, c in _DRUG_COLOURS.items()]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7
    )
    pfig.update_layout(
        barmode="overlay", height=160 + 60 * len(patients), xaxis_title="day",
        margin={"l": 90, "r": 20, "t": 20, "b": 40},
    )  # fmt: skip
    return Figure(
        "genomics_timeline", "Treatment lines, samples and alterations per patient", fig, pfig,
        caption="Bars: treatment lines coloured by the first drug's class, labelled with the best "
        "response; triangles: tissue (▲) and cfDNA (▼) samples with the resistance alterations found.",
    )  # fmt: skip
