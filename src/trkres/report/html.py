"""Render the self-contained HTML report.

One file: CSS and JavaScript inline, plotly.js inlined once (only when a
section has an interactive figure), static figures inlined as SVG. Opening it
needs no network.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from trkres.pl.style import figure_bytes
from trkres.report.model import Section

_env = jinja2.Environment(
    loader=jinja2.FunctionLoader(
        lambda name: (resources.files("trkres.report") / "templates" / name).read_text("utf-8")
    ),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class ReportMeta:
    """What the report header and footer say about the run."""

    title: str
    description: str
    trkres_version: str
    knowledge_version: str
    generated: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def table_html(frame: pd.DataFrame, max_rows: int) -> str:
    """An HTML table (escaped), truncated to ``max_rows`` with a note."""
    shown = frame.head(max_rows)
    out = shown.to_html(index=False, escape=True, na_rep="", border=0, classes="data")
    if len(frame) > max_rows:
        out += f'<p class="note">Showing {max_rows} of {len(frame)} rows; the TSV has all.</p>'
    return out


def _svg_inline(svg: bytes) -> str:
    text = svg.decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def render_report(meta: ReportMeta, sections: Sequence[Section]) -> str:
    """The report as one HTML string."""
    plotly_js = ""
    rendered: list[dict[str, Any]] = []
    needs_plotly = any(f.interactive is not None for s in sections for f in s.figures)
    if needs_plotly:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    for section in sections:
        figures = []
        for fig in section.figures:
            if fig.interactive is not None:
                body = fig.interactive.to_html(
                    full_html=False,
                    include_plotlyjs=False,
                    div_id=f"fig-{_slug(fig.name)}",
                    config={"displaylogo": False, "responsive": True},
                )
            else:
                body = _svg_inline(figure_bytes(fig.static, "svg"))
            figures.append(
                {
                    "name": fig.name,
                    "title": fig.title,
                    "caption": fig.caption,
                    "body": Markup(body),
                }
            )
        tables = [
            {
                "name": t.name,
                "title": t.title,
                "caption": t.caption,
                "rows": len(t.frame),
                "body": Markup(table_html(t.frame, t.max_rows)),
            }
            for t in section.tables
            if t.in_report
        ]
        rendered.append(
            {
                "anchor": _slug(section.name),
                "title": section.title,
                "summary": [p for p in section.summary.split("\n\n") if p.strip()],
                "flags": section.flags,
                "figures": figures,
                "tables": tables,
            }
        )
    review = sum(1 for s in sections for f in s.flags if f.level == "review")
    template = _env.get_template("report.html.j2")
    return template.render(
        meta=meta,
        sections=rendered,
        review_count=review,
        plotly_js=Markup(plotly_js) if plotly_js else "",
        escape=html.escape,
    )
