"""Figures drawn from the knowledge base."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trkres.knowledge.schema import parse_residue
from trkres.knowledge.store import KnowledgeBase
from trkres.pl.style import CLASS_COLOURS, new_figure
from trkres.report.model import Figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

_GENES = ("NTRK1", "NTRK2", "NTRK3")


def paralog_figure(kb: KnowledgeBase) -> Figure:
    """Equivalent resistance residues across NTRK1/2/3, linked per position.

    Filled markers: verified residues; open markers: needs_review.
    """
    y = {g: 3 - i for i, g in enumerate(_GENES)}
    positions = []  # per position: class colour, class, [(number, y, residue, verified, gene)]
    for pos in kb.kinase_positions.values():
        points = []
        for gene, res in pos.residues.items():
            _ref, number = parse_residue(res.residue)
            points.append((number, y[gene], res.residue, res.status == "verified", gene))
        points.sort(key=lambda p: -p[1])
        colour = CLASS_COLOURS.get(pos.alteration_class, "#555555")
        positions.append((colour, pos.alteration_class, points))

    def draw() -> MplFigure:
        fig, ax = new_figure(7.0, 2.8)
        for colour, cls, points in positions:
            below = cls == "gatekeeper"  # 6 residues from the solvent front
            for number, yy, residue, verified, _gene in points:
                ax.scatter([number], [yy], s=36, color=colour if verified else "white",
                           edgecolors=colour, linewidths=1.2, zorder=3)  # fmt: skip
                ax.annotate(residue, (number, yy), textcoords="offset points",
                            xytext=(0, -12 if below else 6), ha="center", fontsize=7)  # fmt: skip
            if len(points) > 1:
                ax.plot([p[0] for p in points], [p[1] for p in points], color=colour, lw=1,
                        alpha=0.7)  # fmt: skip
        for cls in sorted({c for _, c, _ in positions}):
            ax.scatter([], [], color=CLASS_COLOURS.get(cls, "#555555"), label=cls.replace("_", " "))
        ax.set_yticks([y[g] for g in _GENES], list(_GENES))
        ax.set_ylim(0.4, 3.6)
        ax.set_xlabel("residue number (canonical transcript)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)
        return fig

    traces: list[dict[str, Any]] = []
    shown: set[str] = set()
    for colour, cls, points in positions:
        label = cls.replace("_", " ")
        traces.append(
            {
                "type": "scatter",
                "x": [p[0] for p in points],
                "y": [p[4] for p in points],
                "mode": "lines+markers+text",
                "text": [p[2] for p in points],
                "textposition": "top center",
                "hovertext": [
                    f"{p[4]} {p[2]} ({'verified' if p[3] else 'needs_review'})" for p in points
                ],
                "hoverinfo": "text",
                "line": {"color": colour, "width": 1},
                "marker": {
                    "color": colour,
                    "size": 8,
                    "symbol": ["circle" if p[3] else "circle-open" for p in points],
                },
                "name": label,
                "legendgroup": label,
                "showlegend": label not in shown,
            }
        )
        shown.add(label)
    pfig = {"data": traces, "layout": {
        "xaxis": {"title": {"text": "residue number (canonical transcript)"}}, "height": 320,
        "yaxis": {"categoryorder": "array", "categoryarray": list(reversed(_GENES))},
    }}  # fmt: skip
    return Figure(
        name="knowledge_paralog_positions",
        title="Kinase-domain resistance positions across NTRK paralogs",
        static=draw,
        interactive=pfig,
        caption="Equivalent residues from the knowledge base's table; open markers are needs_review.",
    )
