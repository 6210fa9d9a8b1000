"""The evolve command: a scenario YAML → virtual patients per regimen → tables and figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import OUT_HELP, _progress, app, err_console, log_notes, state


@app.command()
def evolve(
    scenario: Annotated[
        Path,
        typer.Argument(
            help="Scenario YAML: types (drugs each resists), mutations (probability per "
            "division), regimens (steps of drugs), sizes in cells, rates per day. "
            "See docs/evolution.md and examples/evolution/."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    patients: Annotated[
        int, typer.Option(help="Virtual patients (tumours); each is given every regimen.")
    ] = 10_000,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives the same patients.")
    ] = 0,
    engine: Annotated[
        str,
        typer.Option(help="local (threads on this machine) or dask (the current Dask scheduler)."),
    ] = "local",
    method: Annotated[
        str,
        typer.Option(
            help="exact (every cell event; practical up to ~1e6 cells, refused above 1e8 cells "
            "or 1e7 events per patient), hybrid (deterministic bulk, stochastic new clones) or "
            "auto (exact when progression_size <= 1e5 cells and growth to detection takes <= 1e7 "
            "events, else hybrid)."
        ),
    ] = "auto",
    regimen: Annotated[
        list[str] | None,
        typer.Option(help="Simulate only this regimen (repeatable). Default: all."),
    ] = None,
    threads: Annotated[
        int, typer.Option(help="Threads of the local engine (0: one per CPU core).")
    ] = 0,
    vary: Annotated[
        list[str] | None,
        typer.Option(
            help="Sensitivity analysis (repeatable): name=lo:hi, name one of birth, death, "
            "death_on_drug, detection_size, progression_size, types.NAME.birth, rate.FROM.TO; "
            "writes sensitivity.tsv."
        ),
    ] = None,
    vary_points: Annotated[
        int, typer.Option(help="Values per varied parameter (log grid when hi/lo >= 100).")
    ] = 5,
    sample: Annotated[
        list[str] | None,
        typer.Option(
            help="Joint sensitivity (repeatable): name=lo:hi, names as for --vary; --samples "
            "sets drawn together by Latin hypercube (seeded), each simulated; writes "
            "samples.tsv and sample_ranks.tsv (PRCC and Spearman per regimen and outcome)."
        ),
    ] = None,
    samples: Annotated[
        int, typer.Option(help="Parameter sets for --sample (Latin hypercube).")
    ] = 20,
    rates_from: Annotated[
        list[Path] | None,
        typer.Option(
            "--rates-from",
            help="trkres result folder or TSV (repeatable) that --rate reads: growth_model.tsv "
            "(trkres invivo) for arm:NAME, gr_metrics.tsv (trkres gr) for gr:COLUMN:KEY=VALUE.",
        ),
    ] = None,
    rate: Annotated[
        list[str] | None,
        typer.Option(
            help="Set a scenario rate from --rates-from (repeatable, applied in order): "
            "FIELD=arm:NAME (in vivo log-volume slope = birth - death per day; FIELD birth, "
            "death, death_on_drug or types.NAME.birth) or death_on_drug=gr:GRmax:agent=X,"
            "cell_line=Y (net rate x log2(1 + GR)) or rate.FROM.TO=kb:solvent_front+gatekeeper"
            "[:1e-9] (knowledge-base mutations in the classes x per-base rate). Writes rates.tsv "
            "(file, row, column of each)."
        ),
    ] = None,
    include_unverified: Annotated[
        bool,
        typer.Option(
            "--include-unverified",
            help="--rate kb:... also counts knowledge-base mutations marked needs_review.",
        ),
    ] = False,
    no_figures: Annotated[bool, typer.Option("--no-figures", help="Write tables only.")] = False,
) -> None:
    """Simulate tumour evolution under each regimen of a scenario (Bozic et al. 2013).

    A multi-type birth-death process: the tumour grows from 'sensitive' cells until
    detection_size, mutants arise at divisions, and each regimen's steps raise the
    death rate of cells exposed to a drug they do not resist. Progression: total above
    progression_size and >= 1.2 x the lowest total of the step; 'until: progression'
    moves to the next step. Cured: 0 cells before the horizon (days).

    Writes OUT/summary.tsv (regimen, patients, p_cure, p_progression, median_ttp,
    p_resistance_at_start, each with a 95% CI: Clopper-Pearson; median by order
    statistics), OUT/patients.tsv (patient, regimen, outcome, time_to_progression in
    days from treatment start, resistant_at_start, progression_type),
    OUT/composition.tsv, OUT/km.tsv and figures/.

    Example:  trkres evolve examples/evolution/bozic2013.yaml -o evo --patients 100000 --seed 1

    Lab rates:  trkres evolve s.yaml -o evo --rates-from invivo_out --rate death=arm:vehicle --rate death_on_drug=arm:larotrectinib

    Sensitivity:  trkres evolve s.yaml -o evo --vary death_on_drug=0.15:0.21 --vary rate.sensitive.r1=1e-9:1e-7

    Joint:  trkres evolve s.yaml -o evo --sample death_on_drug=0.15:0.21 --sample rate.sensitive.r1=1e-9:1e-7 --samples 50
    """
    from trkres.models.evolution.options import EvolutionOptions
    from trkres.models.evolution.run import run_evolution
    from trkres.models.evolution.sensitivity import parse_vary
    from trkres.options import validate_options
    from trkres.report.files import write_outputs

    options = validate_options(
        EvolutionOptions,
        {"patients": patients, "seed": seed, "engine": engine, "method": method,
         "regimens": regimen or None, "threads": threads, "vary": parse_vary(vary or []),
         "vary_points": vary_points, "sample": parse_vary(sample or [], "--sample"),
         "samples": samples},
        source="cli",
    )  # fmt: skip
    source: object = scenario
    rates_table = None
    if rate:
        import pandas as pd

        from trkres.models.evolution.lab import rates_from_results

        source, rates_table = rates_from_results(
            scenario, rate, list(rates_from or []), include_unverified=include_unverified
        )
        if not state.quiet:
            for row in rates_table.to_dict("records"):
                err_console.print(
                    f"{row['field']} = {row['value']:.4g} {row['unit']} (was "
                    f"{row['previous']:.4g}): {row['mapping']}; {row['file']}"
                    + (f" row {row['row']}, column {row['column']}" if pd.notna(row["row"]) else "")
                )
    elif rates_from:
        from trkres.errors import InputError

        raise InputError("--rates-from without --rate", expected="--rate FIELD=SOURCE, e.g. "
                         "death_on_drug=arm:larotrectinib", found="no --rate")  # fmt: skip
    with _progress("evolution") as progress:
        result = run_evolution(source, options, progress=progress)  # type: ignore[arg-type]
        figures = []
        if not no_figures:
            from trkres.pl.evolution import evolution_figures

            figures = evolution_figures(result)
        tables = dict(result)
        if rates_table is not None:
            tables["rates"] = rates_table
        write_outputs(out, tables, figures)
    log_notes(result)
    if not state.quiet:
        summary = result["summary"]
        for row in summary.to_dict("records"):
            ttp = float(row["median_ttp"])
            # the median among those who progressed (cured and ongoing patients have none)
            progressed = round(float(row["p_progression"]) * int(row["patients"]))
            med = (f", median TTP {ttp:.0f} d among the {progressed:,} who progressed"
                   if ttp == ttp else "")  # fmt: skip
            err_console.print(
                f"{row['regimen']}: P(cure) {row['p_cure']:.3f} "
                f"[{row['p_cure_ci_low']:.3f}, {row['p_cure_ci_high']:.3f}]{med}"
            )
        err_console.print(
            f"Simulated {options.patients:,} patients ({result.method}); "
            f"tables written to [bold]{out}[/bold]"
        )
