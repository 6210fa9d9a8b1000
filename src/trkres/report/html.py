"""Render the self-contained HTML report.

One file: CSS and JavaScript inline, plotly.js inlined once (only when a
section has an interactive figure), static figures inlined as SVG. Opening it
needs no network.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import jinja2
import numpy as np
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
    """An HTML table (escaped), truncated to ``max_rows`` with a note.

    Missing values are empty cells, floats have six significant digits but never lose a
    digit before the decimal point (``156844363``, ``6066997``, ``0.0123457``; see
    :func:`_float_text`), everything else is ``str`` of the value. Written directly:
    ``DataFrame.to_html`` took 23 ms for the knowledge base's 135 × 8 facts table, this
    2 ms (a report has a dozen tables; the web app renders a report per run).
    """
    shown = frame.head(max_rows)
    values = shown.to_numpy(dtype=object)
    missing = shown.isna().to_numpy()
    floats = [dtype.kind == "f" for dtype in shown.dtypes]
    escape = html.escape
    rows = []
    for row, gone in zip(values.tolist(), missing.tolist(), strict=True):
        cells = [
            "" if m else (_float_text(v) if f else escape(_cut(str(v)), quote=False))
            for v, m, f in zip(row, gone, floats, strict=True)
        ]
        rows.append("<tr><td>" + "</td><td>".join(cells) + "</td></tr>" if cells else "<tr></tr>")
    head = "".join(f"<th>{escape(_cut(str(c)), quote=False)}</th>" for c in shown.columns)
    out = (
        '<table class="dataframe data">\n<thead>\n<tr style="text-align: right;">'
        f"{head}</tr>\n</thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )
    if len(frame) > max_rows:
        out += f'<p class="note">Showing {max_rows} of {len(frame)} rows; the TSV has all.</p>'
    return out


#: Longest text a report table cell shows (characters); the TSV has every character.
MAX_CELL_CHARS = 10_000


def _cut(text: str) -> str:
    """``text``, cut to :data:`MAX_CELL_CHARS` with a note: the report's rows were bounded
    but not its cells (an input whose one-line header held 50 MB put 50 MB in the inputs
    table of index.html)."""
    if len(text) <= MAX_CELL_CHARS:
        return text
    return f"{text[:MAX_CELL_CHARS]}… (cut at {MAX_CELL_CHARS:,} of {len(text):,} characters)"


def _float_text(value: float) -> str:
    """A float for a report table: six significant digits, or as many as its whole part
    has (up to 17, a double's full precision), so a genomic position or a blot volume in a
    float column is never rounded (``1.56844e+08`` was shown for 156844363)."""
    v = float(value)
    if v == 0 or not math.isfinite(v):
        return f"{v:.6g}"
    digits = min(17, max(6, math.floor(math.log10(abs(v))) + 1))
    return f"{v:.{digits}g}"


@functools.cache
def _plotly_js() -> bytes:
    """plotly.js (~4.8 MB) from the installed plotly package, as UTF-8, read once per
    process. It is spliced into the rendered page as bytes: passed through the template
    it cost ~80 ms per report (markup copies, escaping, joining and encoding a string
    of 4.8 million non-ASCII characters)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs()).encode("utf-8")


#: Where the template puts plotly.js; user text cannot produce it (``<`` is escaped).
_PLOTLY_JS_SLOT = "<!--trkres:plotly.js-->"


_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def _plain(value: Any) -> Any:
    """``value`` with arrays as lists and non-finite numbers as None (JSON null, as
    plotly's own serialiser writes them)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.ndarray, pd.Series, pd.Index)):
        array = np.asarray(value)
        if array.dtype.kind == "f":
            finite = np.isfinite(array)
            return [
                v if ok else None for v, ok in zip(array.tolist(), finite.tolist(), strict=True)
            ]
        if array.dtype.kind in "Mm":  # dates as ISO text (plotly's encoder), NaT as null
            text = np.datetime_as_string(array) if array.dtype.kind == "M" else array.astype(str)
            return [None if t in ("NaT", "NaN") else str(t) for t in np.ravel(text).tolist()]
        return [_plain(v) for v in array.tolist()] if array.dtype.kind == "O" else array.tolist()
    if isinstance(value, np.generic) and not isinstance(value, (np.datetime64, np.timedelta64)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if value is pd.NA or value is pd.NaT or (isinstance(value, np.datetime64) and np.isnat(value)):
        return None
    if isinstance(value, (pd.Timestamp, datetime.datetime, datetime.date, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, decimal.Decimal):
        return _plain(float(value))
    return value


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element (``<``, ``>``, ``/`` escaped as plotly does)."""
    text = json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("/", "\\u002f")


def _template_json() -> str | None:
    """The default plotly template (what ``go.Figure`` puts in ``layout.template``): the
    one set now, as ``pio.templates.default``, its JSON made once per name; None when no
    default is set (``pio.templates.default = None``: no template, as ``go.Figure``)."""
    import plotly.io as pio

    name = pio.templates.default
    return _named_template_json(str(name)) if name else None


@functools.cache
def _named_template_json(name: str) -> str:
    import plotly.io as pio

    return _script_json(pio.templates[name].to_plotly_json())


def plotly_div(spec: dict[str, Any], div_id: str, config: dict[str, Any]) -> str:
    """HTML for a plotly specification (``{"data": [...], "layout": {...}}``), as
    ``go.Figure.to_html(full_html=False, include_plotlyjs=False)`` writes it, without
    building a ``go.Figure``. ``div_id`` must be a slug (letters, digits, ``-``)."""
    layout = dict(spec.get("layout", {}))
    height = layout.get("height")
    size = f"height:{int(height)}px; width:100%;" if height else "height:100%; width:100%;"
    rest = _script_json(layout)
    template = _template_json()
    if template is None:
        layout_json = rest
    else:
        layout_json = '{"template":' + template + ("," + rest[1:] if rest != "{}" else "}")
    return (
        f'<div style="{size}"><div id="{div_id}" class="plotly-graph-div" '
        'style="height:100%; width:100%;"></div><script>window.PLOTLYENV=window.PLOTLYENV || {};'
        f'if (document.getElementById("{div_id}")) {{Plotly.newPlot("{div_id}", '
        f"{_script_json(spec.get('data', []))}, {layout_json}, {_script_json(config)})}};</script></div>"
    )


def _svg_inline(svg: bytes) -> str:
    text = svg.decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def _unique_id(name: str, taken: set[str]) -> str:
    """The plotly div id of figure ``name``: its slug, numbered when another figure's slug
    is the same (inputs ``pdx_1`` and ``pdx-1`` both gave ``fig-invivo-pdx-1-spider``, and
    the second figure was drawn into the first one's div, the first lost)."""
    base = f"fig-{_slug(name)}"
    div_id, n = base, 1
    while div_id in taken:
        n += 1
        div_id = f"{base}-{n}"
    taken.add(div_id)
    return div_id


def render_report(meta: ReportMeta, sections: Sequence[Section]) -> str:
    """The report as one HTML string."""
    return render_report_bytes(meta, sections).decode("utf-8")


def render_report_bytes(meta: ReportMeta, sections: Sequence[Section]) -> bytes:
    """The report as one HTML file's UTF-8 bytes."""
    rendered: list[dict[str, Any]] = []
    needs_plotly = any(f.has_interactive for s in sections for f in s.figures)
    div_ids: set[str] = set()
    for section in sections:
        figures = []
        for fig in section.figures:
            if fig.spec is not None:
                body = plotly_div(fig.spec, _unique_id(fig.name, div_ids), _PLOTLY_CONFIG)
            elif fig.interactive is not None:
                body = fig.interactive.to_html(
                    full_html=False,
                    include_plotlyjs=False,
                    div_id=_unique_id(fig.name, div_ids),
                    config=_PLOTLY_CONFIG,
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
    text = template.render(
        meta=meta,
        sections=rendered,
        review_count=review,
        plotly_js=Markup(_PLOTLY_JS_SLOT) if needs_plotly else "",
        escape=html.escape,
    )
    if not needs_plotly:
        return text.encode("utf-8")
    head, tail = text.split(_PLOTLY_JS_SLOT, 1)  # the first: the template's, in <head>
    return b"".join((head.encode("utf-8"), _plotly_js(), tail.encode("utf-8")))
