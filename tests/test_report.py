"""The study runner and the HTML report: complete, self-contained, reproducible."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from support import REPO
from trkres import __version__
from trkres.pl.style import new_figure
from trkres.report.html import ReportMeta, render_report
from trkres.report.model import Figure, Flag, Section
from trkres.study.runner import run_study

GOLDEN = REPO / "tests" / "golden" / "demo_report_skeleton.txt"


class _Skeleton(HTMLParser):
    """Headings, table headers, flags and nav links: the report's structure."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._tag: str | None = None
        self._buf = ""
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        cls = dict(attrs).get("class") or ""
        if tag in {"h1", "h2", "h3", "th"} or (tag == "div" and "flag" in cls):
            self._tag, self._buf = tag, ""
        if tag == "tr":
            self._row = []

    def handle_data(self, data: str) -> None:
        if self._tag:
            self._buf += data

    def handle_endtag(self, tag: str) -> None:
        if tag == self._tag:
            text = " ".join(self._buf.split())
            if tag == "th" and self._row is not None:
                self._row.append(text)
            elif tag != "th":
                self.lines.append(f"{tag}: {text}")
            self._tag = None
        if tag == "tr" and self._row:
            self.lines.append("columns: " + " | ".join(self._row))
            self._row = None


def skeleton(html: str) -> str:
    parser = _Skeleton()
    parser.feed(html)
    text = "\n".join(parser.lines) + "\n"
    # Volatile: the number of shipped facts changes with the knowledge version.
    return re.sub(r"\d+ facts from \d+ sources", "N facts from M sources", text)


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "report"
    run_study(REPO / "examples" / "ntrk_resistance", out)
    return out


def test_demo_writes_every_output(demo_out: Path) -> None:
    assert (demo_out / "index.html").is_file()
    tables = {p.name for p in (demo_out / "tables").glob("*.tsv")}
    assert {"inputs.tsv", "knowledge_used.tsv", "knowledge_facts.tsv"} <= tables
    figures = {p.name for p in (demo_out / "figures").iterdir()}
    assert {"knowledge_paralog_positions.svg", "knowledge_paralog_positions.png"} <= figures


def test_report_is_self_contained(demo_out: Path) -> None:
    html = (demo_out / "index.html").read_text()
    # No external resource of any kind is loaded when the file opens.
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=[\"']?(https?:)?//", html)
    assert "@import" not in html
    assert "NTRK-fusion cancers progressing on TRK inhibitors" in html  # the study's name
    assert "ntrk1_g595r" in html or "solvent_front" in html  # the knowledge used
    assert "illustrative" in html


def test_report_structure_matches_golden(demo_out: Path) -> None:
    got = skeleton((demo_out / "index.html").read_text())
    if os.environ.get("TRKRES_UPDATE_GOLDEN") or not GOLDEN.exists():
        GOLDEN.write_text(got)
        pytest.skip("golden file written; re-run to compare")
    assert got == GOLDEN.read_text()


def test_run_json_records_inputs_and_versions(demo_out: Path) -> None:
    info = json.loads((demo_out / "run.json").read_text())
    assert info["trkres_version"] == __version__
    assert info["knowledge"]["version"]
    for item in info["inputs"]:
        assert re.fullmatch(r"[0-9a-f]{64}", item["sha256"])
    assert set(info["timings_s"]) == set(info["analyses"])


def test_rerun_gives_identical_tables(demo_out: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    run_study(REPO / "examples" / "ntrk_resistance", again)
    for table in (demo_out / "tables").glob("*.tsv"):
        assert (again / "tables" / table.name).read_bytes() == table.read_bytes(), table.name
    for svg in (demo_out / "figures").glob("*.svg"):
        assert (again / "figures" / svg.name).read_bytes() == svg.read_bytes(), svg.name


def test_inputs_table_counts_rows(demo_out: Path) -> None:

    frame = pd.read_csv(demo_out / "tables" / "inputs.tsv", sep="\t")
    rows = dict(zip(frame["input"], frame["data_rows"], strict=True))
    assert rows["mutations"] == 7
    assert rows["samples"] == 10  # the four '#' header lines of cBioPortal are skipped


def test_interactive_figures_inline_plotly() -> None:
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1])
    interactive = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    section = Section(
        "s",
        "S",
        summary="one\n\ntwo",
        figures=[Figure("f", "F", fig, interactive)],
        flags=[Flag("review", "check <this>")],
    )
    meta = ReportMeta("T", "D", "0", "k", "now")
    html = render_report(meta, [section])
    assert "Plotly" in html and 'id="fig-f"' in html
    assert "cdn.plot.ly" not in re.sub(
        r"<script type=\"text/javascript\">.*?</script>", "", html, flags=re.S
    )
    assert "check &lt;this&gt;" in html  # flags are escaped
    assert "1 item(s) need review" in html


def _plotly_call(html: str, div_id: str) -> tuple[list[Any], dict[str, Any]]:
    """The data and layout of ``Plotly.newPlot(div_id, data, layout, config)`` in ``html``."""
    start = html.index(f'Plotly.newPlot("{div_id}", ') + len(f'Plotly.newPlot("{div_id}", ')
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(html, start)
    layout, _ = decoder.raw_decode(html, end + 2)
    return data, layout


def test_figure_specs_render_as_plotly_would_and_stay_inside_their_script() -> None:
    """A figure given as a plotly specification is written without building a go.Figure:
    the same traces, layout and default template as go.Figure.to_html, user text unable
    to end the script, non-finite numbers as null; .interactive still gives a validated
    go.Figure."""
    spec = {"data": [{"type": "scatter", "x": np.array([1.0, 2.0, np.inf]),
                      "y": pd.Series([3.0, np.nan, 1.0]), "name": "line </script><b>x</b>"}],
            "layout": {"xaxis": {"type": "log", "title": {"text": "dose (M)"}}, "height": 300}}  # fmt: skip
    fig, _ax = new_figure()
    figure = Figure("spec", "Spec", fig, spec)
    section = Section("s", "S", figures=[figure])
    html = render_report(ReportMeta("T", "D", "0", "k", "now"), [section])
    assert "</script><b>" not in html and html.count("<!--trkres:plotly.js-->") == 0
    assert html.count("Plotly.newPlot") == 1
    data, layout = _plotly_call(html, "fig-spec")
    assert data[0]["x"] == [1.0, 2.0, None] and data[0]["y"] == [3.0, None, 1.0]
    assert data[0]["name"] == "line </script><b>x</b>"  # escaped in the page, intact in JS
    reference = json.loads(go.Figure(spec).to_json())
    assert layout == reference["layout"]  # the template included, as go.Figure puts it
    assert isinstance(figure.interactive, go.Figure)  # built (and validated) on request
    with pytest.raises(ValueError):
        _ = Figure("bad", "Bad", fig, {"data": [{"type": "scatter", "nosuch": 1}]}).interactive


def test_report_figure_specs_are_valid_plotly(demo_out: Path) -> None:
    """Every figure of the demo report built from a specification is valid plotly: its
    data and layout, read back from the page, construct a validated go.Figure."""
    html = (demo_out / "index.html").read_text(encoding="utf-8")
    ids = re.findall(r'Plotly\.newPlot\("([^"]+)", ', html)
    assert {"fig-dose-response-overlay", "fig-knowledge-paralog-positions"} <= set(ids)
    for div_id in ids:
        data, layout = _plotly_call(html, div_id)
        go.Figure({"data": data, "layout": layout})  # raises on an invalid property


# -- adversarial review, 2026-12-07 -----------------------------------------------------


def test_report_tables_never_round_the_whole_part_of_a_float() -> None:
    from trkres.report.html import table_html

    frame = pd.DataFrame({"position": [156844363.0, np.nan], "volume": [6066996.8, 1.23456789e-9],
                          "r": [11.762077, 40.0]})  # fmt: skip
    out = table_html(frame, 10)
    for text in ("156844363", "6066997", "1.23457e-09", "11.7621", "<td>40</td>"):
        assert text in out


def test_figure_specs_with_dates_and_missing_values_render() -> None:
    """Dates, pd.NA, NaT and Decimal in a plotly specification (as go.Figure takes them)."""
    import datetime
    import decimal

    from trkres.report.html import plotly_div

    spec = {"data": [{"type": "scatter",
                      "x": pd.Series(pd.to_datetime(["2024-01-01", None])),
                      "y": [decimal.Decimal("1.5"), pd.NA],
                      "text": [pd.Timestamp("2024-02-01"), datetime.date(2024, 3, 1)]}],
            "layout": {}}  # fmt: skip
    out = plotly_div(spec, "fig-1", {})
    assert '"x":["2024-01-01T00:00:00' in out and ",null]" in out
    assert '"y":[1.5,null]' in out and '"2024-03-01T00:00:00"' in out


def test_no_default_plotly_template() -> None:
    import plotly.io as pio

    from trkres.report.html import plotly_div

    before = pio.templates.default
    pio.templates.default = None
    try:
        out = plotly_div({"data": [], "layout": {"title": {"text": "t"}}}, "fig-1", {})
    finally:
        pio.templates.default = before
    assert '"template"' not in out and '{"title":{"text":"t"}}' in out
