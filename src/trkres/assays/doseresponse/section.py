"""The dose-response report section: curve fits and resistant-vs-parental comparisons."""

from __future__ import annotations

import pandas as pd

from trkres.assays.doseresponse.io import curve_ids
from trkres.assays.doseresponse.options import DoseResponseOptions
from trkres.assays.doseresponse.run import CompareResult, run_compare
from trkres.errors import InputError
from trkres.pl.doseresponse import forest_figure, overlay_figure
from trkres.report.model import Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

__all__ = ["DoseResponseOptions", "dose_response_section"]


def _plate_curves(ctx: AnalysisContext, keys: list[str]) -> list[pd.DataFrame]:
    """Single-drug plates as long tables, grouped like the study's own tables (line and drug)."""
    from trkres.assays.plates.section import study_plates
    from trkres.assays.plates.wells import drug_count, to_dose_response

    out = []
    for _, wells in study_plates(ctx):
        if drug_count(wells) == 1:
            long = to_dose_response(wells)
            missing = [k for k in keys if k not in long.columns]
            if missing:
                raise InputError("plate curves cannot be grouped as the options ask",
                                 expected="groups among line, drug", found=", ".join(missing))  # fmt: skip
            long["curve_id"] = curve_ids(long, keys)
            out.append(long)
    return out


def _pooled_tables(result: CompareResult) -> list[Table]:
    if result.pooled is None or result.by_experiment is None:
        return []
    return [Table("dose_response_resistance_pooled", result.pooled, "Fold resistance pooled over experiments",
                  caption="DerSimonian-Laird random effect for experiment on log10 fold changes; τ² and I² "
                          "give the between-experiment spread."),
            Table("dose_response_resistance_by_experiment", result.by_experiment,
                  "Fold resistance per experiment")]  # fmt: skip


@register("dose_response", "Dose-response and fold resistance",
          any_of={InputKind.dose_response, InputKind.plate}, options=DoseResponseOptions, order=200)  # fmt: skip
def dose_response_section(ctx: AnalysisContext) -> Section:
    """Fit every curve, compare each condition with the reference, flag resistance."""
    opts = ctx.options if isinstance(ctx.options, DoseResponseOptions) else DoseResponseOptions()
    keys = [*opts.by, opts.condition]
    paths = ctx.paths(InputKind.dose_response)
    plates = _plate_curves(ctx, keys)
    if not paths and not plates:
        return Section(name="dose_response", title="Dose-response and fold resistance",
                       summary="No single-drug dose-response data: the study's plates hold combinations.")  # fmt: skip
    # ctx.progress counts analyses (i of n): the fit's own steps would reset it.
    result = run_compare(paths, opts, extra=plates, strict_reference=False)
    fits, comparisons, issues, levels = (
        result.fits,
        result.comparisons,
        result.issues,
        result.levels,
    )
    if not result.has_reference and "reference" in opts.model_fields_set:
        # Named by the user: a typo would otherwise give an empty resistance table.
        doc = ctx.study.document
        shown = ", ".join(levels[:20]) + (f" … ({len(levels)} levels)" if len(levels) > 20 else "")
        raise InputError(
            f"dose_response option reference '{opts.reference}' is not a level of column "
            f"'{opts.condition}'",
            location=doc.locate(["options", "dose_response", "reference"]),
            expected=f"one of: {shown}",
            found=opts.reference,
        )
    flags = [
        Flag("info", f"{r.group}: {r.condition} is {r.fold_change:.3g}-fold resistant to the "
             f"{r.reference} line (95% CI {r.fold_ci_low:.3g}-{r.fold_ci_high:.3g})")
        for r in comparisons.itertuples() if r.resistant
    ]  # fmt: skip
    if not result.has_reference:
        flags.append(Flag("warning", f"reference '{opts.reference}' is not a level of '{opts.condition}' "
                          f"(found: {', '.join(levels[:20])}): no fold resistance computed; set "
                          "options: dose_response: reference"))  # fmt: skip
    if len(issues):
        flags.append(Flag("warning", f"{len(issues)} dose-response row(s) could not be used "
                          "(see the table of unusable rows)"))  # fmt: skip
    bad = fits[fits["status"] != "ok"]
    if len(bad):
        flags.append(Flag("warning", f"{len(bad)} curve(s) not 'ok': "
                          + ", ".join(f"{c} ({s})" for c, s in zip(bad["curve_id"], bad["status"], strict=True))))  # fmt: skip
    return Section(
        name="dose_response",
        title="Dose-response and fold resistance",
        summary=(
            f"{len(fits)} curves fitted with the {opts.model} log-logistic model (Prism's parameterisation; "
            "IC50 in molar, asymptotic 95% CIs; vehicle rows, dose 0, as the zero-dose limit; 'ambiguous' "
            "fits, not determined by the data, make no call). Fold resistance compares each condition with "
            f"'{opts.reference}' within each {', '.join(opts.by) or 'set'}; resistance is called at "
            f"≥ {opts.threshold:g}-fold with the CI above 1."
        ),
        tables=[
            Table("dose_response_resistance", comparisons, "Fold resistance"),
            *_pooled_tables(result),
            Table("dose_response_fits", fits, "Curve fits"),
            *(
                [Table("dose_response_issues", issues, "Dose-response rows that could not be used")]
                if len(issues)
                else []
            ),
        ],
        figures=[
            overlay_figure(result.data, fits, opts.by, opts.condition),
            *([forest_figure(comparisons, opts.threshold)] if len(comparisons) else []),
        ],
        flags=flags,
    )
