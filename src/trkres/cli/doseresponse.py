"""Dose-response commands: fit, resistance, gr, escalation."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import (
    _progress,
    app,
    err_console,
    state,
)
from trkres.errors import TrkresError


@app.command()
def fit(
    data: Annotated[
        Path,
        typer.Argument(
            help="Long dose-response table (CSV/TSV/Parquet: curve_id or --group columns, dose, "
            "unit, response as fraction of vehicle) or CurveCurator's wide Raw table (with --toml)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    model: Annotated[
        str, typer.Option(help="4pl, 3pl (Top = 1) or 2pl (Top = 1, Bottom = 0).")
    ] = "4pl",
    group: Annotated[
        list[str] | None,
        typer.Option(help="Columns that identify a curve (repeatable), instead of curve_id."),
    ] = None,
    dose_unit: Annotated[
        str | None, typer.Option(help="Unit of the dose column when there is no 'unit' column.")
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

    Figures: OUT/figures/dose_response_curves.svg|png (the first 24 curves with their fits;
    vehicle rows drawn at the left edge, marked 'vehicle').

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

    Example:  trkres fit viability_long.tsv -o fits --dose-unit nM
    """
    import math

    import pandas as pd

    from trkres.assays.doseresponse.curvefit import fit_curves
    from trkres.assays.doseresponse.io import ISSUE_COLUMNS, read_curvecurator, read_long_lines
    from trkres.assays.doseresponse.section import curves_figure
    from trkres.errors import InputError
    from trkres.report.files import write_outputs

    if model not in ("4pl", "3pl", "2pl"):
        raise InputError("unknown model", expected="4pl, 3pl or 2pl", found=model)
    if vehicle not in ("use", "ignore"):
        raise InputError("unknown --vehicle", expected="use or ignore", found=vehicle)
    if not (math.isfinite(alpha) and 0 < alpha < 1):
        raise InputError(
            "--alpha out of range", expected="a number between 0 and 1", found=f"{alpha:g}"
        )
    if toml:
        frame, issues = read_curvecurator(data, toml), pd.DataFrame(columns=ISSUE_COLUMNS)
    else:
        frame, issues, lines, dose_column = read_long_lines(data, group=group, dose_unit=dose_unit)
        if vehicle == "ignore":  # listed too, so rows in = rows used + rows listed
            veh = (frame["dose_molar"] == 0).to_numpy()
            ignored = pd.DataFrame({"file": str(data), "line": lines[veh], "row": lines[veh] - 1,
                                    "column": dose_column, "expected": "a dose > 0 (--vehicle ignore)",
                                    "found": "0", "action": "ignored"})  # fmt: skip
            issues = pd.concat([issues, ignored], ignore_index=True).sort_values(
                "line", kind="stable"
            )
    with _progress("fitting") as progress:
        progress(0, 1, f"{frame['curve_id'].nunique()} curves")
        if engine == "dask":
            try:
                from trkres.assays.doseresponse.distributed import fit_curves_dask
            except ImportError:  # pragma: no cover - depends on the install
                raise TrkresError(
                    "the dask engine needs dask", hint="pip install 'trkres[dask]'"
                ) from None
            fits = fit_curves_dask(frame, scheduler=scheduler, model=model, alpha=alpha, robust=robust,  # type: ignore[arg-type]
                                   vehicle=vehicle)  # type: ignore[arg-type]  # fmt: skip
        elif engine == "local":
            fits = fit_curves(frame, model=model, alpha=alpha, robust=robust, vehicle=vehicle)  # type: ignore[arg-type]
        else:
            raise TrkresError("unknown engine", expected="local or dask", found=engine)
        progress(1, 1, "writing")
    write_outputs(out, {"fits": fits, "issues": issues}, [curves_figure(frame, fits)])
    if not state.quiet:
        tally = fits["status"].value_counts()
        counts = tally[tally > 0].to_dict()
        n_vehicle = int((frame["dose_molar"] == 0).sum())
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
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
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
        str | None, typer.Option(help="Unit of the dose column when there is no 'unit' column.")
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
    listing the levels found.

    Example:  trkres resistance viability.tsv --condition line --reference parental --by drug -o res
    """
    import math

    from trkres.assays.doseresponse.curvefit import fit_curves
    from trkres.assays.doseresponse.io import read_long_checked
    from trkres.assays.doseresponse.resistance import compare_conditions, pool_experiments
    from trkres.assays.doseresponse.section import forest_figure, overlay_figure
    from trkres.errors import InputError, Location
    from trkres.report.files import write_outputs

    if not (math.isfinite(threshold) and threshold > 1):
        raise InputError(
            "--threshold out of range", expected="a fold change > 1", found=f"{threshold:g}"
        )
    keys = [*(by or []), condition]
    frame, issues = read_long_checked(
        data, group=[*keys, *([experiment] if experiment else [])], dose_unit=dose_unit
    )
    frame["curve_id"] = frame[keys].astype(str).agg(" | ".join, axis=1)
    levels = sorted(set(frame[condition].astype(str)))
    if reference not in levels:  # before any fitting: a typo must not cost a run
        raise InputError(f"reference '{reference}' is not a level of column '{condition}'",
                         location=Location(file=data, column=condition),
                         expected="one of: " + ", ".join(levels[:20]) + (" …" if len(levels) > 20 else ""),
                         found=reference)  # fmt: skip
    fits = fit_curves(frame, robust=robust)
    table = compare_conditions(
        frame, condition=condition, reference=reference, by=by or [], threshold=threshold, fits=fits
    )
    tables = {"resistance": table, "fits": fits, "issues": issues}
    if experiment:
        pooled, per = pool_experiments(frame, condition=condition, reference=reference, experiment=experiment,
                                       by=by or [], threshold=threshold, robust=robust)  # fmt: skip
        tables |= {"resistance_pooled": pooled, "resistance_by_experiment": per}
    figures = [overlay_figure(frame, fits, by or [], condition)]
    if len(table):
        figures.append(forest_figure(table, threshold))
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
            "cell_count__ctrl, cell_count__time0 (GRmetrics' layout), or a GR column instead of counts."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
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
    from trkres.assays.doseresponse.grmetrics import compare_gr, fit_gr, gr_values, read_gr_checked
    from trkres.errors import InputError
    from trkres.outputs import write_tables

    if metric not in ("GR50", "GEC50"):
        raise InputError("unknown metric", expected="GR50 or GEC50", found=metric)
    frame, issues = read_gr_checked(data)
    if "GR" not in frame.columns:
        frame["GR"] = gr_values(frame)
    metrics = fit_gr(frame)
    tables = {"gr_values": frame, "gr_metrics": metrics, "issues": issues}
    if condition:
        if condition not in metrics.columns:
            raise InputError(
                "condition column not found",
                expected=condition,
                found=", ".join(map(str, metrics.columns)),
            )
        levels = sorted(set(metrics[condition].astype(str)))
        if reference not in levels:
            raise InputError(f"reference '{reference}' is not a level of column '{condition}'",
                             expected="one of: " + ", ".join(levels[:20]), found=reference)  # fmt: skip
        tables["gr_resistance"] = compare_gr(
            metrics, condition=condition, reference=reference, metric=metric
        )
    write_tables(out, tables)
    if not state.quiet:
        err_console.print(f"{len(metrics)} experiment(s) fitted; written to [bold]{out}[/bold]")


@app.command()
def escalation(
    data: Annotated[
        Path, typer.Argument(help="Long dose-response table with a time column (passage, week …).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    time: Annotated[
        str, typer.Option(help="Column with the passage or week of each curve.")
    ] = "passage",
    by: Annotated[
        list[str] | None, typer.Option(help="Columns defining separate series (e.g. drug).")
    ] = None,
    dose_unit: Annotated[
        str | None, typer.Option(help="Unit of the dose column when there is no 'unit' column.")
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
    import math

    import numpy as np
    import pandas as pd

    from trkres.assays.doseresponse.escalation import escalation_figure, track_escalation
    from trkres.assays.doseresponse.io import read_long_checked
    from trkres.errors import InputError, Location
    from trkres.report.files import write_outputs

    if not (math.isfinite(threshold) and threshold > 1):
        raise InputError(
            "--threshold out of range", expected="a fold change > 1", found=f"{threshold:g}"
        )
    frame, issues = read_long_checked(data, group=[*(by or []), time], dose_unit=dose_unit)
    times = pd.to_numeric(frame[time], errors="coerce")
    bad = ~np.isfinite(times.to_numpy(dtype=float))
    if bad.any():
        raise InputError(f"column '{time}' must hold finite numbers (passage, week, day)",
                         location=Location(file=data, column=time), expected="numbers",
                         found=", ".join(map(str, pd.unique(frame.loc[bad, time])[:5])))  # fmt: skip
    series = track_escalation(frame, time=time, by=by or [], threshold=threshold)
    write_outputs(out, {"escalation": series, "issues": issues},
                  [escalation_figure(series, time=time, by=by or [])])  # fmt: skip
    if not state.quiet:
        for key, g in series.groupby(by or (lambda _: "series"), sort=False):
            at = g["established_at"].iloc[0]
            said = f"established at {time} {at:g}" if at == at else "not established"
            name = " | ".join(map(str, key if isinstance(key, tuple) else (key,)))
            err_console.print(f"{name}: resistance {said}")
