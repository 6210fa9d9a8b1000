"""The ddPCR report section: wells, merged replicates, limits and droplet calls."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pydantic import BaseModel, ConfigDict, Field

from trkres.assays.ddpcr.pipeline import DdpcrOptions, run_ddpcr
from trkres.pl.style import new_figure
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register


class DdpcrStudyOptions(BaseModel):
    """Options of the ddPCR analysis (``options: {ddpcr: {...}}`` in study.yaml)."""

    model_config = ConfigDict(extra="forbid")

    droplet_volume_nl: float | None = Field(
        None, gt=0, description="override the export's droplet volume (nL)"
    )
    interval: Literal["quantasoft", "wald", "wilson"] = "quantasoft"
    min_droplets: int = Field(8000, ge=0)
    blank_samples: list[str] = Field(
        default_factory=list, description="wild-type-only or NTC samples (EP17 LoB)"
    )
    low_samples: list[str] = Field(default_factory=list, description="low-level samples (EP17 LoD)")
    limits_target: str | None = None
    limits_method: Literal["parametric", "nonparametric"] = "parametric"
    ntc_wells: list[str] = Field(
        default_factory=list, description="wells for the NTC droplet threshold"
    )
    wt_wells: list[str] = Field(
        default_factory=list, description="wild-type control wells (mutant-channel threshold)"
    )
    positive_control_wells: list[str] = Field(
        default_factory=list, description="positive-control wells (midpoint threshold)"
    )
    threshold_ch1: float | None = Field(None, description="fixed channel-1 amplitude threshold")
    threshold_ch2: float | None = Field(None, description="fixed channel-2 amplitude threshold")
    mutant_channel: Literal[1, 2] = 1


def concentration_figure(wells: pd.DataFrame) -> Figure:
    """Concentration (copies/µL, log scale) per well and target with Poisson CIs."""
    data = wells[wells["call"] != "failed"].reset_index(drop=True)
    labels = (
        data["sample"].astype(str)
        + " · "
        + data["well"].astype(str)
        + " · "
        + data["target"].astype(str)
    ).tolist()
    fig, ax = new_figure(7.0, max(2.5, 0.22 * len(data) + 1))
    y = np.arange(len(data))
    conc = data["concentration"].to_numpy(dtype=float)
    lo = np.clip(conc - data["conc_ci_low"].to_numpy(dtype=float), 0, None)
    hi = np.clip(data["conc_ci_high"].to_numpy(dtype=float) - conc, 0, None)
    shown = np.where(conc > 0, conc, np.nan)
    ax.errorbar(
        shown, y, xerr=[lo, hi], fmt="o", ms=3, color="#1f5f99", ecolor="#8aa9c9", capsize=2
    )
    zero = conc <= 0
    if zero.any():  # not detected: drawn at the upper CI bound, open symbol
        ax.plot(data.loc[zero, "conc_ci_high"], y[zero], "o", mfc="white", mec="#1f5f99", ms=4)
    ax.set_xscale("log")
    ax.set_yticks(y, labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("copies/µL (Poisson 95% CI)")
    pfig = go.Figure(
        go.Scatter(
            x=np.where(zero, data["conc_ci_high"], conc), y=labels, mode="markers",
            error_x={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo},
            marker={"symbol": np.where(zero, "circle-open", "circle").tolist(), "color": "#1f5f99"},
            hovertext=[f"{lab}: {c:.4g} copies/µL, FA {f:.3g}%" for lab, c, f in
                       zip(labels, conc, data["fractional_abundance"], strict=True)],
            hoverinfo="text",
        )
    )  # fmt: skip
    pfig.update_layout(xaxis_type="log", height=200 + 16 * len(data), yaxis={"autorange": "reversed"},
                       margin={"l": 220, "r": 20, "t": 20, "b": 40})  # fmt: skip
    return Figure("ddpcr_concentrations", "ddPCR concentrations per well", fig, pfig,
                  caption="Open symbols: no positive droplet, drawn at the upper 95% bound.")  # fmt: skip


@register(
    "ddpcr",
    "Droplet digital PCR",
    any_of={InputKind.ddpcr, InputKind.droplet_amplitudes},
    options=DdpcrStudyOptions,
    order=300,
)
def ddpcr_section(ctx: AnalysisContext) -> Section:
    """Recompute every well from droplet counts; classify raw droplets; EP17 calls."""
    opts = ctx.options if isinstance(ctx.options, DdpcrStudyOptions) else DdpcrStudyOptions()
    tables = run_ddpcr(
        ctx.paths(InputKind.ddpcr),
        ctx.paths(InputKind.droplet_amplitudes),
        DdpcrOptions(
            **opts.model_dump(
                exclude={
                    "ntc_wells",
                    "wt_wells",
                    "positive_control_wells",
                    "threshold_ch1",
                    "threshold_ch2",
                }
            ),
            ntc_wells=opts.ntc_wells,
            wt_wells=opts.wt_wells,
            positive_wells=opts.positive_control_wells,
            thresholds=None
            if opts.threshold_ch1 is None and opts.threshold_ch2 is None
            else [opts.threshold_ch1, opts.threshold_ch2],
            droplet_method="robust",
        ),
    )
    flags = []
    wells = tables.get("ddpcr_wells")
    figures = []
    if wells is not None and len(wells):
        bad = wells[wells["flag"] != ""]
        if len(bad):
            flags.append(Flag("warning", f"{len(bad)} well target(s) flagged: "
                              + ", ".join(sorted(set(bad["flag"])))))  # fmt: skip
        figures.append(concentration_figure(wells))
    copies = tables.get("ddpcr_issues")
    if copies is not None and len(copies):
        flags.append(Flag("warning", f"{len(copies)} export row(s) were exact copies of another row: "
                          "counted once (see the table of repeated rows)"))  # fmt: skip
    agree = tables.get("ddpcr_droplet_agreement")
    if agree is not None and len(agree):
        flags.append(Flag("info", f"droplet calls agree with the exported labels for "
                          f"{agree['agreement'].min():.2%}-{agree['agreement'].max():.2%} of droplets"))  # fmt: skip
    titles = {
        "ddpcr_wells": "Wells: concentration (copies/µL) and fractional abundance (%)",
        "ddpcr_merged": "Replicate wells merged",
        "ddpcr_limits": "Limits of blank and detection (CLSI EP17)",
        "ddpcr_droplets": "Droplet thresholds per well and channel",
        "ddpcr_droplet_agreement": "Agreement with labelled droplets",
        "ddpcr_control_thresholds": "Droplet thresholds learned from control wells",
        "ddpcr_issues": "Export rows repeated exactly (counted once)",
    }
    summary = (
        "Concentrations are recomputed from droplet counts: λ = −ln(1 − positives/accepted), "
        "copies/µL = λ / droplet volume (the volume and its reason per row), with QuantaSoft's "
        "Poisson interval (Wald from 100 positives, flat-prior Poisson HPD below); fractional "
        "abundance and ratios use delta-method intervals (as QX Manager)."
    )
    return Section(
        name="ddpcr",
        title="Droplet digital PCR",
        summary=summary,
        tables=[Table(name, frame, titles.get(name, name)) for name, frame in tables.items()],
        figures=figures,
        flags=flags,
    )
