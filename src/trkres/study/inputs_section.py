"""The always-on first report section: what the study's input files hold."""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.errors import TrkresError
from trkres.report.model import Flag, Section, Table
from trkres.study.registry import AnalysisContext, register
from trkres.study.runner import describe_inputs
from trkres.tables import EXCEL_SUFFIXES, blank_cells, read_table


def content_summary(path: Path, fmt: str) -> dict[str, object]:
    """Rows, columns and header of a text input (a cheap look, not a parse).

    Comment lines (``#``) are skipped; for VCF the ``#CHROM`` line is the header. A
    Parquet or Excel table is counted as the table reader reads it; other binary files
    (traces, images, BCF) hold no lines to count: their bytes were shown as the header
    and their "lines" counted as rows (an ABIF trace: 2,184 data rows, 1 column).
    """
    nothing: dict[str, object] = {"data_rows": None, "columns": None, "header": ""}
    if fmt in ("yaml", "image", "abi", "scf"):  # not a table: nothing to count
        return nothing
    if path.suffix.lower() in (*EXCEL_SUFFIXES, ".parquet"):
        try:
            frame = read_table(path)
        except TrkresError:  # the analysis' reader says what is wrong, in its words
            return nothing
        blank = np.ones(len(frame), dtype=bool)  # rows of blank cells, as text's blank lines
        for column in frame.columns:
            blank &= blank_cells(frame[column])
        return {"data_rows": int((~blank).sum()), "columns": frame.shape[1],
                "header": _shown([str(c) for c in frame.columns])}  # fmt: skip
    header: list[str] = []
    data = 0
    # Streamed line by line: the whole file (a VCF decompressed) was held in memory twice.
    try:  # a truncated gzip file was an EOFError traceback: its reader says what is wrong
        with path.open("rb") as fh:
            packed = fh.read(2) == b"\x1f\x8b"
            fh.seek(0)
            stream: gzip.GzipFile | io.BufferedReader = gzip.GzipFile(fileobj=fh) if packed else fh
            if b"\0" in stream.peek(8192)[:8192]:
                return nothing  # binary (BCF, an unexpected export): not text lines
            # newline=None: LF, CRLF and old-Mac CR all end a line
            for line in io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=None):
                ln = line.rstrip("\n")
                if not ln.strip():
                    continue
                if ln.startswith("#CHROM"):
                    header = ln.lstrip("#").split("\t")
                elif ln.startswith("#"):
                    continue
                elif not header:
                    header = ln.split("\t" if "\t" in ln else ",")
                else:
                    data += 1
    except (OSError, EOFError, zlib.error):
        return nothing
    return {"data_rows": data, "columns": len(header), "header": _shown(header)}


def _shown(header: list[str]) -> str:
    """The first eight column names, for a look."""
    return ", ".join(h.strip() for h in header[:8]) + (", …" if len(header) > 8 else "")


@register("inputs", "Study inputs", order=0)
def inputs_section(ctx: AnalysisContext) -> Section:
    """List every input with checksum, provenance and a look at its content."""
    frame = describe_inputs(ctx.study)
    summaries = [
        content_summary(ctx.study.path_of(item), item.resolved_format())
        for item in ctx.study.manifest.inputs
    ]
    looks = pd.DataFrame(summaries)
    for column in ("data_rows", "columns"):  # counts, or empty where not a table
        looks[column] = looks[column].astype("Int64")
    frame = pd.concat([frame, looks], axis=1)
    order = [
        "input",
        "kind",
        "format",
        "path",
        "data_rows",
        "columns",
        "header",
        "provenance",
        "source",
        "layout",
        "bytes",
        "sha256",
        "extra_sha256",
    ]
    frame = frame[order]
    flags = []
    illustrative = frame.loc[frame["provenance"] == "illustrative", "input"].tolist()
    if illustrative:
        flags.append(
            Flag(
                "info",
                f"{len(illustrative)} input(s) hold illustrative values made up to show the "
                f"software, not measurements: {', '.join(illustrative)}.",
            )
        )
    from trkres.study.runner import select_analyses

    runs = {a.name for a in select_analyses(ctx.study)}
    unused = [key for key in ctx.study.manifest.options if key not in runs]
    if unused:  # checked, then silently dropped: say so
        flags.append(
            Flag(
                "warning",
                f"options given for {', '.join(repr(k) for k in unused)} in study.yaml, but the "
                "study has no input that analysis runs on: the options were not used.",
            )
        )
    summary = (
        f"{len(frame)} input file(s) of {frame['kind'].nunique()} kind(s) in study folder "
        f"{ctx.study.folder.name}. Checksums (SHA-256) identify the exact files analysed."
    )
    return Section(
        name="inputs",
        title="Study inputs",
        summary=summary,
        tables=[
            Table(
                "inputs",
                frame,
                "Input files",
                "Provenance: measured, published (values from a cited paper), public_dataset "
                "(copied from a public data set, licence in 'source') or illustrative.",
            )
        ],
        flags=flags,
    )
