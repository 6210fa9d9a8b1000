"""Figures drawn from the knowledge base."""

from __future__ import annotations

from trkres.knowledge.schema import parse_residue
from trkres.knowledge.store import KnowledgeBase
from trkres.pl.style import CLASS_COLOURS, new_figure
from trkres.report.model import Figure

_GENES = ("NTRK1", "NTRK2", "NTRK3")


def paralog_figure(kb: KnowledgeBase) -> Figure:
    """Equivalent resistance residues across NTRK1/2/3, linked per position.

    Filled markers: verified residues; open markers: needs_review.
    """
    fig, ax = new_figure(7.0, 2.8)
    y = {g: 3 - i for i, g in enumerate(_GENES)}
    for pos in kb.kinase_positions.values():
        colour = CLASS_COLOURS.get(pos.alteration_class, "#555555")
        pts = []
        for gene, res in pos.residues.items():
            _ref, number = parse_residue(res.residue)
            pts.append((number, y[gene]))
            filled = res.status == "verified"
            ax.scatter(
                [number],
                [y[gene]],
                s=36,
                color=colour if filled else "white",
                edgecolors=colour,
                linewidths=1.2,
                zorder=3,
            )
            below = pos.alteration_class == "gatekeeper"  # 6 residues from the solvent front
            ax.annotate(
                res.residue,
                (number, y[gene]),
                textcoords="offset points",
                xytext=(0, -12 if below else 6),
                ha="center",
                fontsize=7,
            )
        if len(pts) > 1:
            pts.sort(key=lambda p: -p[1])
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=colour, lw=1, alpha=0.7)
    for cls in sorted({p.alteration_class for p in kb.kinase_positions.values()}):
        ax.scatter([], [], color=CLASS_COLOURS.get(cls, "#555555"), label=cls.replace("_", " "))
    ax.set_yticks([y[g] for g in _GENES], list(_GENES))
    ax.set_ylim(0.4, 3.6)
    ax.set_xlabel("residue number (canonical transcript)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=7)
    return Figure(
        name="knowledge_paralog_positions",
        title="Kinase-domain resistance positions across NTRK paralogs",
        static=fig,
        caption="Equivalent residues from the knowledge base's table; open markers are needs_review.",
    )
