"""Writing a section's tables (TSV) and figures (SVG and PNG) into a folder being built."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from trkres.outputs import atomic_directory, atomic_write_bytes, write_table
from trkres.pl.style import figure_bytes
from trkres.report.model import Figure, Section


def write_section_files(
    folder: Path, section: Section, *, tables_subdir: str = "tables", figures: bool = True
) -> None:
    """``folder/<tables_subdir>/<table>.tsv`` and ``folder/figures/<figure>.svg|png``.

    Meant for the staging folder of :func:`trkres.outputs.atomic_directory`, so
    the whole output appears at once or not at all. ``figures=False`` writes the
    tables only (the web app: its report shows the figures, each downloadable).
    """
    tables = folder / tables_subdir if tables_subdir else folder
    for table in section.tables:
        write_table(table.frame, tables / f"{table.name}.tsv")
    for fig in section.figures if figures else ():
        for fmt in ("svg", "png"):
            atomic_write_bytes(
                folder / "figures" / f"{fig.name}.{fmt}", figure_bytes(fig.static, fmt)
            )


def write_outputs(
    out: Path,
    tables: dict[str, pd.DataFrame],
    figures: Sequence[Figure] = (),
    files: Mapping[str, str] | None = None,
) -> None:
    """A command's output folder, atomically: ``out/<name>.tsv``, ``out/figures/<figure>.svg|png``
    and any other text ``files`` (name → content, e.g. ``model.json``)."""
    try:
        with atomic_directory(out) as tmp:
            for name, frame in tables.items():
                write_table(frame, tmp / f"{name}.tsv")
            for name, text in (files or {}).items():
                atomic_write_bytes(tmp / name, text.encode("utf-8"))
            for fig in figures:
                for fmt in ("svg", "png"):
                    atomic_write_bytes(
                        tmp / "figures" / f"{fig.name}.{fmt}", figure_bytes(fig.static, fmt)
                    )
    finally:
        for fig in figures:
            fig.close()
