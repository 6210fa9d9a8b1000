"""The synergy command: combination scores with bootstrap CIs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import OUT_HELP, _progress, app, err_console, state


@app.command()
def synergy(
    data: Annotated[
        Path,
        typer.Argument(
            help="Combination table in SynergyFinder's layout (CSV/TSV, .gz too, UTF-8; or Parquet): block_id, drug1, "
            "drug2[, drug3], conc1, conc2[, conc3], response, conc_unit; replicates as repeated rows."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    response: Annotated[
        str,
        typer.Option(
            help="What 'response' holds: inhibition (%), viability (% of vehicle) or "
            "viability_fraction (1 = vehicle)."
        ),
    ] = "inhibition",
    conc_unit: Annotated[
        str | None,
        typer.Option(
            help="Concentration unit when the table has no conc_unit column: M, mM, uM (µM), "
            "nM or pM."
        ),
    ] = None,
    models: Annotated[
        str, typer.Option(help="Comma-separated reference models: bliss, hsa, loewe, zip.")
    ] = "bliss,hsa,loewe,zip",
    n_boot: Annotated[
        int,
        typer.Option(
            help="Replicate-bootstrap draws for the CIs (0 = none; a 95% percentile CI needs at "
            "least 40, fewer give no CI and ci_method says so)."
        ),
    ] = 100,
    seed: Annotated[
        int, typer.Option(help="Seed of the bootstrap (results are reproducible).")
    ] = 0,
    condition: Annotated[
        str | None,
        typer.Option(
            help="Block column naming the cell line, to compare lines (re-sensitisation)."
        ),
    ] = None,
    reference: Annotated[
        str, typer.Option(help="Reference line for --condition (e.g. parental).")
    ] = "parental",
    musyc: Annotated[
        bool, typer.Option(help="Also fit the MuSyC surface (potency vs efficacy synergy).")
    ] = True,
    figures: Annotated[
        bool,
        typer.Option(
            help="Draw the figures (SVG + PNG); --no-figures writes the tables only, "
            "much faster with many blocks."
        ),
    ] = True,
) -> None:
    """Score drug combinations: Bliss, HSA, Loewe, ZIP (SynergyFinder 3's definitions), CSS,
    MuSyC and the Chou-Talalay combination index, with replicate-bootstrap CIs.

    Scores are observed minus expected % inhibition (positive = synergy). Writes
    OUT/synergy_summary.tsv (one row per block with CIs and a status for degenerate blocks),
    OUT/synergy_matrix.tsv (per dose pair: observed, each model's expected and score),
    single-drug fits, MuSyC, combination index, the combination-vs-single-agent t-tests and,
    with --condition, each line against --reference (an unknown --reference is an error
    listing the lines found); figures in OUT/figures/.

    Example:  trkres synergy combos.tsv --response viability --condition line -o synergy
    """
    from trkres.assays.synergy.options import SynergyOptions
    from trkres.assays.synergy.run import run_synergy
    from trkres.options import validate_options
    from trkres.report.files import write_outputs

    opts = validate_options(
        SynergyOptions,
        {"response": response, "conc_unit": conc_unit, "n_boot": n_boot, "seed": seed,
         "models": [m.strip() for m in models.split(",") if m.strip()], "musyc": musyc,
         "condition": condition, "reference": reference},
        source="cli",
    )  # fmt: skip
    with _progress("scoring") as progress:
        result = run_synergy(data, opts, progress=progress)
        progress(1, 1, "writing")
        drawn = []
        if figures:
            from trkres.pl.synergy import synergy_figures

            drawn = synergy_figures(result, interactive=False)
        write_outputs(out, result.tables(), drawn)
    if not state.quiet:
        for flag in result.flags:
            err_console.print(f"[{'yellow' if flag.level == 'warning' else 'cyan'}]{flag.message}")
        err_console.print(f"Scored {len(result.summary)} block(s); written to [bold]{out}[/bold]")
