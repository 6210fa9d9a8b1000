"""What an analysis hands to the report: sections of tables, figures and flags.

Analyses compute and return these objects; they never write files. The study
runner writes the tables (TSV), figures (SVG and PNG) and the HTML report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure as MplFigure

FlagLevel = Literal["info", "warning", "review"]


@dataclass(frozen=True)
class Flag:
    """A message the report shows prominently (QC failures, facts to review)."""

    level: FlagLevel
    message: str


@dataclass(frozen=True)
class Table:
    """A tidy result table, written to ``tables/<name>.tsv`` and shown in the report."""

    name: str
    frame: pd.DataFrame
    title: str
    caption: str = ""
    #: Rows shown in the HTML (all rows are always written to the TSV).
    max_rows: int = 500
    in_report: bool = True


@dataclass(frozen=True)
class Figure:
    """A figure: a static matplotlib version (SVG and PNG) and, optionally, an
    interactive plotly version shown in the HTML report instead of the SVG."""

    name: str
    title: str
    static: MplFigure
    interactive: Any | None = None  # plotly.graph_objects.Figure
    caption: str = ""


@dataclass
class Section:
    """One analysis' contribution to the report."""

    name: str
    title: str
    summary: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    #: Knowledge facts (``topic:id``) this analysis relied on.
    facts_used: set[str] = field(default_factory=set)
