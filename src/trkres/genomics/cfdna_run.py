"""``run_cfdna``: cfDNA tables (files or DataFrames), ddPCR wells and a timeline → results.

The one orchestration of serial cfDNA monitoring: ``trkres cfdna``, the study
section and ``tr.cfdna`` call it; it reads, checks and computes, and writes nothing.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from trkres.errors import InputError
from trkres.genomics.cfdna import (
    CfdnaResult,
    cfdna_from_frame,
    ddpcr_measurements,
    monitor,
    read_cfdna,
)
from trkres.genomics.cfdna_options import CfdnaOptions
from trkres.genomics.io.tables import RowIssue
from trkres.knowledge.store import KnowledgeBase
from trkres.study.registry import ProgressCallback, no_progress

__all__ = ["CfdnaResult", "run_cfdna"]

#: A table given as a file (path) or held in memory.
TableInput = str | os.PathLike[str] | pd.DataFrame


def _path(item: object, what: str) -> Path:
    if isinstance(item, (str, os.PathLike)):
        return Path(os.fspath(item))
    raise InputError(f"not a {what}", expected="a path (str or pathlib.Path) or a pandas DataFrame",
                     found=type(item).__name__)  # fmt: skip


def _timeline(item: TableInput, knowledge: KnowledgeBase) -> tuple[pd.DataFrame, list[RowIssue]]:
    """A cBioPortal treatment timeline from a file or a DataFrame (same reader, same checks)."""
    from trkres.genomics.io.clinical import read_timeline

    if not isinstance(item, pd.DataFrame):
        return read_timeline(_path(item, "treatment timeline"), knowledge)
    if item.empty or not len(item.columns):
        raise InputError("treatment timeline is empty", location=None,
                         expected="cBioPortal timeline columns PATIENT_ID, START_DATE, AGENT",
                         found=f"{len(item)} rows, {len(item.columns)} columns")  # fmt: skip
    # The timeline reader reads files: the frame goes through a private temporary copy,
    # and its issue rows then name the DataFrame.
    name = "timeline DataFrame"
    with tempfile.TemporaryDirectory(prefix="trkres-timeline-") as tmp:
        path = Path(tmp) / "timeline.tsv"
        item.to_csv(path, sep="\t", index=False)
        try:
            lines, issues = read_timeline(path, knowledge)
        except InputError as exc:  # name the frame, not the temporary copy
            if exc.location is not None:
                exc.location.file = name
            raise
    return lines, [dataclasses.replace(i, file=name) for i in issues]


def run_cfdna(
    tables: Sequence[TableInput],
    options: CfdnaOptions | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
    timeline: TableInput | None = None,
    ddpcr_exports: Sequence[TableInput] = (),
    ddpcr_wells: pd.DataFrame | None = None,
    progress: ProgressCallback = no_progress,
) -> CfdnaResult:
    """VAF over time, molecular response and emergence from serial cfDNA results.

    ``tables``: cfDNA results (files or DataFrames; VAF and detection limit in
    ``options.vaf_unit``). ddPCR wells join by sample (targets named ``GENE
    ALTERATION``): ``ddpcr_wells`` is a quantified wells table (``tr.ddpcr``'s
    ``wells``), ``ddpcr_exports`` results exports quantified with the default
    ddPCR options. ``timeline`` (a cBioPortal treatment timeline) is drawn in the
    figure. The result holds every table and every input row issue.
    """
    from trkres.knowledge import load_knowledge

    options = options if options is not None else CfdnaOptions()
    if not isinstance(options, CfdnaOptions):
        raise InputError(
            "wrong options object", expected="CfdnaOptions", found=type(options).__name__
        )
    if isinstance(tables, (pd.DataFrame, str, os.PathLike)):
        tables = [tables]
    if not len(tables):
        raise InputError(
            "no cfDNA table", expected="at least one cfDNA results table", found="none"
        )
    kb = knowledge if knowledge is not None else load_knowledge()
    total = len(tables) + 2
    frames, issues = [], []
    for i, item in enumerate(tables):
        progress(i, total, "reading cfDNA tables")
        if isinstance(item, pd.DataFrame):
            name = f"DataFrame {i + 1}" if len(tables) > 1 else "DataFrame"
            frame, more = cfdna_from_frame(item, options.vaf_unit, name=name)
        else:
            frame, more = read_cfdna(_path(item, "cfDNA table"), options.vaf_unit)
        frames.append(frame)
        issues += more
    measurements = pd.concat(frames, ignore_index=True)
    if ddpcr_exports and ddpcr_wells is None:
        from trkres.assays.ddpcr.run import run_ddpcr

        quantified = run_ddpcr(ddpcr_exports)
        ddpcr_wells = quantified.get("ddpcr_wells")
        # Export rows the ddPCR reader dropped (exact repeats) are this run's issues too.
        dropped = quantified.issues if quantified.issues is not None else pd.DataFrame()
        issues += [
            RowIssue(
                str(r.file), int(str(r.line)), None, str(r.expected), str(r.found), str(r.action)
            )
            for r in dropped.itertuples()
        ]
    if ddpcr_wells is not None:
        if not isinstance(ddpcr_wells, pd.DataFrame):
            raise InputError("ddpcr_wells must be a DataFrame", expected="a quantified ddPCR wells "
                             "table (tr.ddpcr.quantify(...).wells)", found=type(ddpcr_wells).__name__)  # fmt: skip
        need = {"sample", "target", "call", "fractional_abundance"}
        if not need <= set(map(str, ddpcr_wells.columns)):
            raise InputError("not a quantified ddPCR wells table", expected="columns "
                             + ", ".join(sorted(need)), found=", ".join(map(str, ddpcr_wells.columns[:12])))  # fmt: skip
        samples = measurements.drop_duplicates("sample_id")[["sample_id", "patient_id", "day"]]
        measurements = pd.concat(
            [measurements, ddpcr_measurements(ddpcr_wells, samples, issues)], ignore_index=True
        )
    lines = None
    if timeline is not None:
        progress(len(tables), total, "reading the timeline")
        lines, more = _timeline(timeline, kb)
        issues += more
    progress(len(tables) + 1, total, "monitoring")
    result = monitor(measurements, kb, timeline=lines, response_fall=options.response_fall,
                     response_metric=options.response_metric, confirm_next=options.confirm_next)  # fmt: skip
    progress(total, total, "done")
    return dataclasses.replace(result, issues=issues + result.issues, timeline=lines)
