"""The ddPCR report section: wells, merged replicates, limits and droplet calls."""

from __future__ import annotations

from trkres.assays.ddpcr.options import DdpcrOptions
from trkres.assays.ddpcr.run import TABLE_TITLES, DdpcrResult, run_ddpcr
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

#: The study's name for these options before they were one model (kept importable).
DdpcrStudyOptions = DdpcrOptions

SUMMARY = (
    "Concentrations are recomputed from droplet counts: λ = −ln(1 − positives/accepted), "
    "copies/µL = λ / droplet volume (the volume and its reason per row), with QuantaSoft's "
    "Poisson interval (Wald from 100 positives, flat-prior Poisson HPD below); fractional "
    "abundance and ratios use delta-method intervals (as QX Manager)."
)


def flags(result: DdpcrResult) -> list[Flag]:
    """What a reader of the report should notice: flagged wells, repeated rows, agreement."""
    out = []
    wells = result.get("ddpcr_wells")
    if wells is not None and len(wells):
        bad = wells[wells["flag"] != ""]
        if len(bad):
            out.append(Flag("warning", f"{len(bad)} well target(s) flagged: "
                            + ", ".join(sorted(set(bad["flag"])))))  # fmt: skip
    copies = result.get("ddpcr_issues")
    if copies is not None and len(copies):
        out.append(Flag("warning", f"{len(copies)} export row(s) were exact copies of another row: "
                        "counted once (see the table of repeated rows)"))  # fmt: skip
    agree = result.get("ddpcr_droplet_agreement")
    if agree is not None and len(agree):
        out.append(Flag("info", f"droplet calls agree with the exported labels for "
                        f"{agree['agreement'].min():.2%}-{agree['agreement'].max():.2%} of droplets"))  # fmt: skip
    return out


def figures(result: DdpcrResult) -> list[Figure]:
    """The section's figures (none when no well was quantified)."""
    from trkres.pl.ddpcr import concentration_figure

    wells = result.get("ddpcr_wells")
    return [concentration_figure(wells)] if wells is not None and len(wells) else []


@register(
    "ddpcr",
    "Droplet digital PCR",
    any_of={InputKind.ddpcr, InputKind.droplet_amplitudes},
    options=DdpcrOptions,
    order=300,
)
def ddpcr_section(ctx: AnalysisContext) -> Section:
    """Recompute every well from droplet counts; classify raw droplets; EP17 calls."""
    opts = ctx.options if isinstance(ctx.options, DdpcrOptions) else DdpcrOptions()
    result = run_ddpcr(
        ctx.paths(InputKind.ddpcr),
        ctx.paths(InputKind.droplet_amplitudes),
        opts,
    )
    return Section(
        name="ddpcr",
        title="Droplet digital PCR",
        summary=SUMMARY,
        tables=[Table(name, frame, TABLE_TITLES.get(name, name)) for name, frame in result.items()],
        figures=figures(result),
        flags=flags(result),
    )
