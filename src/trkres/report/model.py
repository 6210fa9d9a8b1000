"""What an analysis hands to the report: sections of tables, figures and flags.

Analyses compute and return these objects; they never write files. The study
runner writes the tables (TSV), figures (SVG and PNG) and the HTML report.
"""

from __future__ import annotations

from collections.abc import Callable
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


class Figure:
    """A figure: a static matplotlib version (SVG and PNG) and, optionally, an
    interactive plotly version shown in the HTML report instead of the SVG.

    ``static`` is a matplotlib figure, or a function of no arguments that draws it:
    then it is drawn on first use of :attr:`static`, and never when only the
    interactive version is needed (the web app's runs write no figure files and the
    report shows the plotly version). Drawing a matplotlib figure costs 20-100 ms.

    ``interactive`` is a plotly ``go.Figure``, or its specification as a plain dict
    (``{"data": [trace dicts], "layout": {...}}``, nested as plotly.js takes it): the
    report serialises a specification directly, and :attr:`interactive` builds (and
    validates) the ``go.Figure`` only when asked. Building and serialising a
    ``go.Figure`` costs 10-30 ms per figure (plotly validates every property).
    """

    __slots__ = ("_draw", "_interactive", "_static", "caption", "name", "spec", "title")

    def __init__(
        self,
        name: str,
        title: str,
        static: MplFigure | Callable[[], MplFigure],
        interactive: Any | None = None,
        caption: str = "",
    ) -> None:
        self.name = name
        self.title = title
        self.caption = caption
        #: The plotly specification, when the figure was given as one.
        self.spec: dict[str, Any] | None = interactive if isinstance(interactive, dict) else None
        self._interactive: Any | None = None if isinstance(interactive, dict) else interactive
        self._draw: Callable[[], MplFigure] | None = None
        self._static: MplFigure | None = None
        if callable(static):
            self._draw = static
        else:
            self._static = static

    @property
    def interactive(self) -> Any | None:
        """The plotly ``go.Figure`` (built from :attr:`spec` on first use), or None."""
        if self._interactive is None and self.spec is not None:
            import plotly.graph_objects as go

            self._interactive = go.Figure(self.spec)
        return self._interactive

    @property
    def has_interactive(self) -> bool:
        """Whether there is a plotly version (without building it)."""
        return self._interactive is not None or self.spec is not None

    @property
    def static(self) -> MplFigure:
        """The matplotlib figure (drawn now if it was given as a function)."""
        if self._static is None:
            assert self._draw is not None
            self._static = self._draw()
        return self._static

    @property
    def drawn(self) -> bool:
        """Whether the matplotlib figure exists (a lazy one is drawn on first use)."""
        return self._static is not None

    def close(self) -> None:
        """Free the matplotlib figure's drawing, if it was drawn."""
        if self._static is not None:
            self._static.clear()

    def __repr__(self) -> str:
        kind = "static + interactive" if self.has_interactive else "static"
        return f"Figure({self.name!r}, {self.title!r}, {kind})"


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
