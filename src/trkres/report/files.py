"""Writing a section's tables (TSV) and figures (SVG and PNG) into a folder being built."""

from __future__ import annotations

from pathlib import Path

from trkres.outputs import atomic_write_bytes, write_table
from trkres.report.figures import figure_bytes
from trkres.report.model import Section


def write_section_files(folder: Path, section: Section, *, tables_subdir: str = "tables") -> None:
    """``folder/<tables_subdir>/<table>.tsv`` and ``folder/figures/<figure>.svg|png``.

    Meant for the staging folder of :func:`trkres.outputs.atomic_directory`, so
    the whole output appears at once or not at all.
    """
    tables = folder / tables_subdir if tables_subdir else folder
    for table in section.tables:
        write_table(table.frame, tables / f"{table.name}.tsv")
    for fig in section.figures:
        for fmt in ("svg", "png"):
            atomic_write_bytes(
                folder / "figures" / f"{fig.name}.{fmt}", figure_bytes(fig.static, fmt)
            )
