"""The invivo command: tumour volumes → mRECIST, T/C and TGI, growth model, synergy, survival."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import OUT_HELP, _progress, app, err_console, log, log_notes, state


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    from trkres.errors import InputError

    out: dict[str, str] = {}
    for item in pairs or []:
        for pair in item.split(","):
            role, sep, name = pair.partition("=")
            if not sep or not role.strip() or not name.strip():
                raise InputError("bad option --columns", expected="role=column pairs, e.g. "
                                 "mouse_id=ID,arm=Treatment,day=Day,volume=Volume", found=repr(pair))  # fmt: skip
            out[role.strip()] = name.strip()
    return out


@app.command()
def invivo(
    volumes: Annotated[
        Path,
        typer.Argument(
            help="Tumour volumes: a CSV, TSV or Excel table, one row per mouse and day "
            "(mouse_id, arm, day, volume in mm³, or caliper length and width in mm; a header "
            "naming cm³ or cm, e.g. 'Volume (cm3)', is converted)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    control: Annotated[
        str | None,
        typer.Option(
            help="Control (vehicle) arm. Default: the one arm named control, vehicle, "
            "untreated or placebo."
        ),
    ] = None,
    drug_a: Annotated[str | None, typer.Option(help="Arm of the first single agent.")] = None,
    drug_b: Annotated[str | None, typer.Option(help="Arm of the second single agent.")] = None,
    drug_c: Annotated[
        str | None, typer.Option(help="Arm of a third single agent (3-drug combinations).")
    ] = None,
    combination: Annotated[
        str | None,
        typer.Option(
            help="Arm given the drugs together. Default: an arm named 'A+B' after two "
            "other arms (said in the output)."
        ),
    ] = None,
    variance: Annotated[
        str,
        typer.Option(
            help="Residual variance of the growth model: none, arm (varIdent by arm), "
            "mouse (varIdent by mouse), time-power (varPower of time), arm+time-power, "
            "mouse+time-power."
        ),
    ] = "none",
    growth: Annotated[
        str, typer.Option(help="Per-mouse growth curve: exponential or gompertz.")
    ] = "exponential",
    time_start: Annotated[
        float | None,
        typer.Option(help="First day of the growth model (relative volumes from it)."),
    ] = None,
    time_end: Annotated[
        float | None, typer.Option(help="Last day used by the growth model.")
    ] = None,
    min_observations: Annotated[
        int, typer.Option(help="Mice with fewer measurements are reported and left out.")
    ] = 2,
    endpoint_fold: Annotated[
        float | None,
        typer.Option(
            help="Survival endpoint: volume reaches this multiple of baseline (default 2)."
        ),
    ] = None,
    endpoint_volume: Annotated[
        float | None, typer.Option(help="Survival endpoint: volume reaches this many mm³.")
    ] = None,
    robust: Annotated[
        bool, typer.Option(help="Cluster-robust (CR2) standard errors in the tests.")
    ] = False,
    power_simulations: Annotated[
        int,
        typer.Option(
            help="Simulated experiments for the post hoc power of the combination test (0: skip)."
        ),
    ] = 0,
    influence: Annotated[
        str,
        typer.Option(
            help="Leave-one-mouse-out influence (one refit per mouse): auto (up to 100 "
            "mice, not with variance by mouse), yes or no."
        ),
    ] = "auto",
    columns: Annotated[
        list[str] | None,
        typer.Option(
            help="Which column is which, as ROLE=COLUMN (repeatable, or comma-separated): "
            "e.g. --columns mouse_id=Animal --columns volume=TV. Roles: mouse_id, arm, day, "
            "volume, length, width, week, signal, cohort, dose, censored, removed_reason."
        ),
    ] = None,
    time_unit: Annotated[
        str,
        typer.Option(help="Unit of the time column: auto (weeks for a Week column), days, weeks."),
    ] = "auto",
    zero_volumes: Annotated[
        str,
        typer.Option(
            help="Volumes of 0 mm³ after baseline (tumours gone) in the growth model: exclude "
            "(as SynergyLMM; the output warns) or floor (half the smallest positive volume)."
        ),
    ] = "exclude",
    no_figures: Annotated[bool, typer.Option("--no-figures", help="Write tables only.")] = False,
) -> None:
    """Analyse a xenograft or PDX experiment from tumour volumes.

    Per mouse: volume change, mRECIST (Gao et al. 2015: best response and
    best average response over t >= 10 days; CR/PR/SD/PD), AUC, doubling
    time, time to the endpoint. Per arm: mean +- SEM curves, T/C% and TGI%
    (NCI), mRECIST counts. Growth model: log(V_t/V_0) ~ 0 + time:arm with a
    random slope per mouse (REML, as SynergyLMM), with nlme's variance
    functions. With a combination: Bliss, HSA and response additivity
    synergy over time (combination index, synergy score, p). Survival:
    Kaplan-Meier to the endpoint, log-rank and Cox hazard ratios against the
    control.

    Writes OUT/growth_model.tsv (arm, slope, slope_se, CI, n_mice,
    n_observations), OUT/model.json (variance parameters, random-slope SD,
    residual SD, log-likelihood, AIC, BIC), OUT/contrasts.tsv,
    OUT/synergy.tsv, OUT/mrecist.tsv, OUT/tgi.tsv, OUT/survival.tsv,
    OUT/km.tsv, OUT/curves.tsv, OUT/growth_curves.tsv, OUT/issues.tsv (every
    row not used, and why), the model's diagnostics (residuals.tsv,
    random_effects.tsv, normality.tsv, influence.tsv), OUT/power.tsv (with
    --power-simulations), OUT/model_excluded.tsv (with --time-start: mice
    without a measurement that day) and figures/.

    Example:  trkres invivo volumes.csv -o invivo --control Vehicle --drug-a Lar --drug-b Tram --combination Lar+Tram --variance arm
    """
    from trkres.assays.invivo.options import InvivoOptions
    from trkres.assays.invivo.run import model_json, run_invivo
    from trkres.options import validate_options
    from trkres.report.files import write_outputs

    options = validate_options(
        InvivoOptions,
        {
            "control": control, "drug_a": drug_a, "drug_b": drug_b, "drug_c": drug_c,
            "combination": combination, "variance": variance, "growth": growth,
            "time_start": time_start, "time_end": time_end, "min_observations": min_observations,
            "endpoint_fold": endpoint_fold, "endpoint_volume": endpoint_volume, "robust": robust,
            "power_simulations": power_simulations, "columns": _mapping(columns),
            "time_unit": time_unit, "influence": influence, "zero_volumes": zero_volumes,
        },
        source="cli",
    )  # fmt: skip
    with _progress("in vivo") as progress:
        result = run_invivo(volumes, options, progress=progress)
        figures = []
        if not no_figures:
            from trkres.pl.invivo import invivo_figures

            figures = invivo_figures(result)
        write_outputs(out, dict(result), figures, files={"model.json": model_json(result)})
    log_notes(result)
    issues = result.issues
    if len(issues):
        log.warning("%d of %d row(s) not used: see %s", len(issues), result.rows_in,
                    out / "issues.tsv")  # fmt: skip
    if not state.quiet:
        n_mice = result.volumes["mouse_id"].nunique() if len(result.volumes) else 0
        err_console.print(f"Analysed {n_mice} mice in {result.volumes['arm'].nunique() if n_mice else 0} "
                          f"arms; tables written to [bold]{out}[/bold]")  # fmt: skip
