"""The plates report section: normalisation to vehicle and plate QC, and plates as analysis input.

Plate inputs (``kind: plate`` with a ``layout:`` plate map) are normalised by
:func:`~trkres.assays.plates.run.run_plates`; the dose-response analysis takes the
single-drug plates and the synergy analysis the multi-drug ones, through
:func:`~trkres.assays.plates.run.study_plates`.
"""

from __future__ import annotations

from trkres.assays.plates.options import PlatesOptions
from trkres.assays.plates.run import PlatesResult, run_plates, study_plate_inputs, study_plates
from trkres.assays.plates.wells import VIABILITY_RANGE
from trkres.report.model import Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

__all__ = ["PlatesOptions", "plates_analysis", "plates_section", "study_plates"]

_TITLE = "Plates: normalisation and quality control"


def plates_section(result: PlatesResult) -> Section:
    """The report section of normalised plates (tables, one figure per export, QC flags)."""
    from trkres.pl.plates import plate_figure

    wells = result.wells
    uses = ", ".join(
        f"{p.name} → {'synergy' if p.n_drugs >= 2 else 'dose-response'}" for p in result.plates
    )
    return Section(
        name="plates",
        title=_TITLE,
        summary=(f"{len(result.plates)} plate export(s), {len(wells)} mapped wells: blank-subtracted and expressed as "
                 f"% of the vehicle mean per plate and cell line. Z′ ≥ 0.5, control CV ≤ 20% and no row/column "
                 f"trend (p ≥ 0.01) pass; wells without a usable or plausible viability (non-finite reading, vehicle not "
                 f"above blank, outside {VIABILITY_RANGE[0]:g} to {VIABILITY_RANGE[1]:g}%) are listed with an issue and fail their plate. Doses are molar. "
                 f"Used by: {uses}."),
        tables=[Table("plate_qc", result.qc, "Plate quality control"),
                Table("plate_wells", wells, "Normalised wells", in_report=False)],
        figures=[plate_figure(p.name, p.wells.assign(input=p.name)) for p in result.plates],
        flags=list(result.flags),
    )  # fmt: skip


@register("plates", _TITLE, requires={InputKind.plate}, options=PlatesOptions, order=150)
def plates_analysis(ctx: AnalysisContext) -> Section:
    """Normalise every plate to its vehicle wells and check its quality."""
    opts = ctx.options if isinstance(ctx.options, PlatesOptions) else PlatesOptions()
    return plates_section(run_plates(study_plate_inputs(ctx), opts))
