"""Dose-response commands: fit, resistance, gr, escalation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import OUT_HELP, _progress, app, err_console, state


@app.command()
def fit(
    data: Annotated[
        Path,
        typer.Argument(
            help="Long dose-response table (CSV/TSV/Parquet: curve_id or --group columns, dose, "
            "unit, response as fraction of vehicle) or CurveCurator's wide Raw table (with --toml)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    model: Annotated[
        str, typer.Option(help="4pl, 3pl (Top = 1) or 2pl (Top = 1, Bottom = 0).")
    ] = "4pl",
    group: Annotated[
        list[str] | None,
        typer.Option(help="Columns that identify a curve (repeatable), instead of curve_id."),
    ] = None,
    dose_unit: Annotated[
        str | None,
        typer.Option(
            help="Unit of the dose column when there is no 'unit' column: M, mM, uM (µM), nM or pM."
        ),
    ] = None,
    toml: Annotated[
        Path | None, typer.Option(help="CurveCurator parameters file (doses) for a wide table.")
    ] = None,
    alpha: Annotated[
        float, typer.Option(help="F-test level below which a curve is not flat.")
    ] = 0.05,
    robust: Annotated[
        bool, typer.Option(help="Down-weight outlying wells (Huber loss, IRLS).")
    ] = False,
    engine: Annotated[
        str, typer.Option(help="local (this machine) or dask (curves partitioned over a cluster).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://host:8786); without it, a local cluster."),
    ] = None,
    vehicle: Annotated[
        str,
        typer.Option(
            help="use: vehicle rows (dose 0) are points at the model's zero-dose limit (Top of a "
            "falling curve), as in drc's standard analysis; ignore: fit dose > 0 only."
        ),
    ] = "use",
) -> None:
    """Fit dose-response curves in batch and write OUT/fits.tsv (one row per curve).

    Figures: OUT/figures/dose_response_curves.svg|png (the first 6 curves with their fits,
    vehicle rows drawn at the left edge, marked 'vehicle'; the IC50s of the 'ok' fits and
    the count of each status).

    Columns: curve_id, status and status_reason, log10_ic50 and ic50 (molar)
    with asymptotic 95% CIs, absolute IC50, hill_slope, top, bottom, emax, auc/aac over the
    tested log-dose range, sse, rmse, r2, F-test p_value, n_points (rows used, vehicle
    included) and n_vehicle (vehicle rows used).

    Status: ok (an IC50 within the tested doses with a finite 95% CI); ambiguous (the data
    do not determine the fit: Hill slope, LogIC50 or an asymptote at its bound, or no finite
    CI -- numbers shown, not to be trusted); out_of_range (LogIC50 outside the tested doses);
    flat (F-test against a flat line not significant at --alpha); failed (too few points).

    Rows that cannot be used (missing or non-finite response, negative, infinite or
    impossible dose, empty curve name) are listed in OUT/issues.tsv (file, line, row, column,
    expected, found, action); rows in = rows used + rows listed (with --vehicle ignore the
    vehicle rows are listed as 'ignored').

    Example:  trkres fit doses.tsv --group drug --group line --dose-unit nM -o fit
    """
    from trkres.assays.doseresponse.options import FitOptions
    from trkres.assays.doseresponse.run import run_fit
    from trkres.options import validate_options
    from trkres.pl.doseresponse import fit_summary_figure
    from trkres.report.files import write_outputs

    opts = validate_options(FitOptions, {"model": model, "group": group, "dose_unit": dose_unit,
                                         "alpha": alpha, "robust": robust, "engine": engine,
                                         "scheduler": scheduler, "vehicle": vehicle}, source="cli")  # fmt: skip
    with _progress("fitting") as progress:
        result = run_fit(data, opts, toml=toml, progress=progress)
        progress(1, 1, "writing")
    fits, issues, frame = result.fits, result.issues, result.data
    write_outputs(out, {"fits": fits, "issues": issues}, [fit_summary_figure(frame, fits)])
    if not state.quiet:
        tally = fits["status"].value_counts()
        counts = tally[tally > 0].to_dict()
        n_vehicle = result.n_vehicle
        err_console.print(
            f"Fitted {len(fits)} curves ({', '.join(f'{k}: {v}' for k, v in counts.items())}); "
            f"written to [bold]{out / 'fits.tsv'}[/bold]"
        )
        used = len(frame) - (n_vehicle if vehicle == "ignore" else 0)
        err_console.print(
            f"{used} rows used"
            + (
                f" ({n_vehicle} vehicle rows as the zero-dose limit)"
                if vehicle == "use" and n_vehicle
                else ""
            )
            + (f"; {len(issues)} rows listed in {out / 'issues.tsv'}" if len(issues) else "")
        )


@app.command()
def resistance(
    data: Annotated[
        Path,
        typer.Argument(help="Long dose-response table (CSV/TSV/Parquet) with a condition column."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    condition: Annotated[
        str, typer.Option(help="Column naming the condition (e.g. cell line).")
    ] = "line",
    reference: Annotated[
        str, typer.Option(help="The reference condition (e.g. parental).")
    ] = "parental",
    by: Annotated[
        list[str] | None,
        typer.Option(help="Columns defining groups compared separately (e.g. drug)."),
    ] = None,
    dose_unit: Annotated[
        str | None,
        typer.Option(
            help="Unit of the dose column when there is no 'unit' column: M, mM, uM (µM), nM or pM."
        ),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="Fold change in IC50 that establishes resistance.")
    ] = 10.0,
    experiment: Annotated[
        str | None,
        typer.Option(help="Column naming replicate experiments: pool them with a random effect."),
    ] = None,
    robust: Annotated[
        bool, typer.Option(help="Down-weight outlying wells (Huber loss, IRLS).")
    ] = False,
    model: Annotated[
        str, typer.Option(help="4pl, 3pl (Top = 1) or 2pl (Top = 1, Bottom = 0).")
    ] = "4pl",
) -> None:
    """Compare resistant and parental lines: fold change in IC50 with 95% CI, F-test, Emax shift.

    Writes OUT/resistance.tsv (one row per group and condition: fold_change with CI,
    the p-value of an extra-sum-of-squares F-test for a shared LogIC50, the Emax shift,
    and 'resistant' when the fold change reaches --threshold with its CI above 1) and
    OUT/fits.tsv (the curve fits).

    With --experiment (e.g. plate or date), each experiment is compared on its own and the
    log fold changes are pooled by a DerSimonian-Laird random-effects model
    (OUT/resistance_pooled.tsv). Figures: OUT/figures/ (overlays, forest plot).

    A comparison is called resistant only when both fits are usable (status ok or
    out_of_range); an 'ambiguous' fit (slope or IC50 not determined by the data) is shown
    but never makes a call. Vehicle rows (dose 0) are the zero-dose limit of each curve.
    Rows that cannot be used are listed in OUT/issues.tsv; an unknown --reference is an error
    listing the levels found, and a --by group without the reference lists its conditions
    with reference_status 'absent' and no fold change.

    Example:  trkres resistance viability.tsv --condition line --reference parental --by drug -o res
    """
    from trkres.assays.doseresponse.options import DoseResponseOptions
    from trkres.assays.doseresponse.run import run_compare
    from trkres.options import validate_options
    from trkres.pl.doseresponse import forest_figure, overlay_figure
    from trkres.report.files import write_outputs

    opts = validate_options(DoseResponseOptions, {"condition": condition, "reference": reference,
                                                  "by": by or [], "dose_unit": dose_unit, "model": model,
                                                  "threshold": threshold, "robust": robust,
                                                  "experiment": experiment}, source="cli")  # fmt: skip
    with _progress("fitting") as progress:
        result = run_compare([data], opts, progress=progress)
    table = result.comparisons
    tables = {"resistance": table, "fits": result.fits, "issues": result.issues}
    if result.pooled is not None and result.by_experiment is not None:
        tables |= {
            "resistance_pooled": result.pooled,
            "resistance_by_experiment": result.by_experiment,
        }
    figures = [overlay_figure(result.data, result.fits, opts.by, opts.condition)]
    if len(table):
        figures.append(forest_figure(table, opts.threshold))
    write_outputs(out, tables, figures)
    if not state.quiet:
        n = int(table["resistant"].sum()) if len(table) else 0
        err_console.print(
            f"{n} of {len(table)} comparison(s) resistant; written to [bold]{out}[/bold]"
        )


@app.command()
def gr(
    data: Annotated[
        Path,
        typer.Argument(
            help="Counts table (CSV/TSV): cell_line, agent, replicate, time, concentration, cell_count, "
            "cell_count__ctrl, cell_count__time0 (GRmetrics' layout), or a GR column instead of counts. "
            "Concentrations are in one unit of your choice (GRmetrics uses µM): GR50 and GEC50 are "
            "written in it."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    condition: Annotated[
        str | None, typer.Option(help="Column naming the line, to compare lines (e.g. cell_line).")
    ] = None,
    reference: Annotated[str, typer.Option(help="Reference line for --condition.")] = "parental",
    metric: Annotated[str, typer.Option(help="GR50 or GEC50 for the fold change.")] = "GR50",
) -> None:
    """Growth-rate inhibition metrics (GR50, GRmax, GR_AOC, GEC50, GRinf, Hill) per experiment.

    GR corrects drug sensitivity for division rate (Hafner et al. 2016), which matters when a
    resistant line grows more slowly than its parent. Writes OUT/gr_values.tsv, OUT/gr_metrics.tsv
    (one row per cell_line, agent, perturbation, replicate and time; 'fit' = sigmoid or flat) and,
    with --condition, OUT/gr_resistance.tsv (fold change over replicate experiments, Welch CI).
    Rows that give no GR value (missing or non-finite numbers, counts <= 0, a control count
    equal to the time-zero count) and concentration-0 rows are listed in OUT/issues.tsv.

    Example:  trkres gr counts.tsv --condition cell_line --reference parental -o gr
    """
    from trkres.assays.doseresponse.options import GROptions
    from trkres.assays.doseresponse.run import run_gr
    from trkres.options import validate_options
    from trkres.outputs import write_tables

    opts = validate_options(GROptions, {"condition": condition, "reference": reference,
                                        "metric": metric}, source="cli")  # fmt: skip
    result = run_gr(data, opts)
    tables = {"gr_values": result.values, "gr_metrics": result.metrics, "issues": result.issues}
    if result.resistance is not None:
        tables["gr_resistance"] = result.resistance
    write_tables(out, tables)
    if not state.quiet:
        err_console.print(
            f"{len(result.metrics)} experiment(s) fitted; written to [bold]{out}[/bold]"
        )


@app.command()
def escalation(
    data: Annotated[
        Path, typer.Argument(help="Long dose-response table with a time column (passage, week …).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    time: Annotated[
        str, typer.Option(help="Column with the passage or week of each curve.")
    ] = "passage",
    by: Annotated[
        list[str] | None, typer.Option(help="Columns defining separate series (e.g. drug).")
    ] = None,
    dose_unit: Annotated[
        str | None,
        typer.Option(
            help="Unit of the dose column when there is no 'unit' column: M, mM, uM (µM), nM or pM."
        ),
    ] = None,
    threshold: Annotated[
        float, typer.Option(help="Fold change that establishes resistance.")
    ] = 10.0,
) -> None:
    """Track a dose-escalation series: IC50 and fold change vs the first time point, and where
    resistance is established (fold ≥ threshold with CI above 1 from then on).

    Writes OUT/escalation.tsv, OUT/issues.tsv (rows that could not be used) and
    OUT/figures/dose_escalation.svg|png. A time point whose fit is 'ambiguous', 'flat' or
    'failed' never counts towards established resistance.

    Example:  trkres escalation escalation.tsv --time week --by drug --dose-unit nM -o esc
    """
    from trkres.assays.doseresponse.options import EscalationOptions
    from trkres.assays.doseresponse.run import run_escalation
    from trkres.options import validate_options
    from trkres.pl.doseresponse import escalation_figure
    from trkres.report.files import write_outputs

    opts = validate_options(EscalationOptions, {"time": time, "by": by or [], "dose_unit": dose_unit,
                                                "threshold": threshold}, source="cli")  # fmt: skip
    result = run_escalation(data, opts)
    series = result.series
    write_outputs(out, {"escalation": series, "issues": result.issues},
                  [escalation_figure(series, time=opts.time, by=opts.by)])  # fmt: skip
    if not state.quiet:
        for key, g in series.groupby(opts.by or (lambda _: "series"), sort=False):
            at = g["established_at"].iloc[0]
            said = f"established at {time} {at:g}" if at == at else "not established"
            name = " | ".join(map(str, key if isinstance(key, tuple) else (key,)))
            err_console.print(f"{name}: resistance {said}")
