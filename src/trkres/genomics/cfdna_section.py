"""The cfDNA report section: VAF over time, molecular response, emergence."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from trkres.genomics.cfdna import ddpcr_measurements, monitor, read_cfdna
from trkres.genomics.io.clinical import read_timeline
from trkres.pl.genomics import cfdna_figure
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register


class CfdnaOptions(BaseModel):
    """Options of the cfDNA analysis (``options: {cfdna: {...}}`` in study.yaml)."""

    model_config = ConfigDict(extra="forbid")

    response_fall: float = Field(
        0.5, gt=0, lt=1, description="fall from baseline that counts as molecular response"
    )
    response_metric: Literal["mean", "max"] = "mean"
    confirm_next: bool = Field(False, description="require confirmation at the next sample")
    vaf_unit: Literal["fraction", "percent"] = Field(
        "fraction",
        description="how the cfDNA tables write VAF and detection limit: fraction (0-1) or "
        "percent (0-100); a fraction table with values above 1 is refused",
    )


@register("cfdna", "cfDNA monitoring", requires={InputKind.cfdna}, options=CfdnaOptions, order=350)
def cfdna_section(ctx: AnalysisContext) -> Section:
    """Per patient: VAF over time, molecular response and emerging resistance alterations."""
    opts = ctx.options if isinstance(ctx.options, CfdnaOptions) else CfdnaOptions()
    frames, issues = [], []
    for path in ctx.paths(InputKind.cfdna):
        m, i = read_cfdna(path, opts.vaf_unit)
        frames.append(m)
        issues += i
    measurements = pd.concat(frames, ignore_index=True)
    ddpcr = ctx.previous.get("ddpcr")
    if ddpcr is not None:
        wells = next((t.frame for t in ddpcr.tables if t.name == "ddpcr_wells"), None)
        if wells is not None:
            samples = measurements.drop_duplicates("sample_id")[["sample_id", "patient_id", "day"]]
            measurements = pd.concat(
                [measurements, ddpcr_measurements(wells, samples, issues)], ignore_index=True
            )
    timeline = None
    paths = ctx.paths(InputKind.treatment_timeline)
    if paths:
        timeline, more = read_timeline(paths[0], ctx.knowledge)
        issues += more
    result = monitor(measurements, ctx.knowledge, timeline=timeline, response_fall=opts.response_fall,
                     response_metric=opts.response_metric, confirm_next=opts.confirm_next)  # fmt: skip
    issues += result.issues
    figures: list[Figure] = []
    fig = cfdna_figure(result.measurements, timeline)
    if fig is not None:
        figures.append(fig)
    flags = [Flag("warning", str(i)) for i in issues[:20]]
    emerged = result.emergence[result.emergence["status"].str.startswith("emerged")]
    for r in emerged.itertuples():
        flags.append(Flag("info", f"{r.patient_id}: {r.gene} {r.alteration} emerged on day {r.first_detected_day:g} "
                          f"({r.alteration_class or 'unclassified'}; {r.therapy_strategies or 'no strategy'})"))  # fmt: skip
    return Section(
        name="cfdna",
        title="cfDNA monitoring",
        summary=(
            f"{result.measurements['patient_id'].nunique()} patient(s), {result.measurements['sample_id'].nunique()} "
            f"samples; VAF unit as given: {opts.vaf_unit}. Molecular response: the {opts.response_metric} VAF of the alterations detected at baseline "
            f"falls by ≥ {opts.response_fall:.0%}. Emergence: not detected in an earlier sample, detected later."
        ),
        tables=[
            Table(
                "cfdna_emergence",
                result.emergence,
                "Emerging alterations (classified as in tissue)",
            ),
            Table("cfdna_response", result.response, "Molecular response by timepoint"),
            Table("cfdna_measurements", result.measurements, "All measurements"),
        ],
        figures=figures,
        flags=flags,
        facts_used={
            f"therapy_strategies:{s}"
            for v in result.emergence.get("therapy_strategies", [])
            for s in str(v).split(";")
            if s
        },
    )
