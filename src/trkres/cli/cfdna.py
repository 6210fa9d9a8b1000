"""The cfdna command: serial cfDNA monitoring, response and emerging resistance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import OUT_HELP, KnowledgeOption, app, err_console, log, state


@app.command()
def cfdna(
    table: Annotated[
        list[Path],
        typer.Argument(
            help="cfDNA results: sample, patient, collection_day, gene, alteration, vaf "
            "(or alt/ref counts), detection_limit, assay (TSV/CSV; repeatable)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    ddpcr: Annotated[
        list[Path] | None,
        typer.Option(
            "--ddpcr", help="ddPCR results exports; targets named 'GENE ALTERATION' join by sample."
        ),
    ] = None,
    timeline: Annotated[Path | None, typer.Option(help="cBioPortal treatment timeline.")] = None,
    response_fall: Annotated[
        float,
        typer.Option(
            help="Fall from baseline VAF that is a molecular response, as a fraction "
            "strictly between 0 and 1 (0.5 = a 50% fall)."
        ),
    ] = 0.5,
    response_metric: Annotated[
        str, typer.Option(help="mean or max VAF of the baseline alterations.")
    ] = "mean",
    confirm_next: Annotated[
        bool, typer.Option("--confirm-next", help="Require confirmation at the next sample.")
    ] = False,
    vaf_unit: Annotated[
        str,
        typer.Option(
            "--vaf-unit",
            help="How the tables write VAF and detection_limit: fraction (0-1) or percent "
            "(0-100, divided by 100). Default fraction: a table with any value above 1 and at "
            "most 100 looks like percent and is refused. Each VAF's reading is in "
            "cfdna_measurements.tsv (vaf_read_as).",
        ),
    ] = "fraction",
    knowledge: KnowledgeOption = None,
) -> None:
    """Monitor resistance in serial cfDNA: VAF over time, molecular response, emergence.

    Writes OUT/cfdna_measurements.tsv, OUT/cfdna_response.tsv (per patient and day),
    OUT/cfdna_emergence.tsv (each alteration: emerged / present at the first sample /
    never detected, the day, VAF relative to the fusion's, its resistance class and
    therapy strategies), OUT/issues.tsv (input rows with problems: file, line, column,
    expected, found) and OUT/figures/cfdna_vaf_over_time.svg and .png. A sample under two
    patients or days, or one alteration measured twice with different values, is an error.

    Example:  trkres cfdna cfdna.tsv --timeline data_timeline_treatment.txt -o cfdna
    """
    from trkres.genomics.cfdna_options import CfdnaOptions
    from trkres.genomics.cfdna_run import run_cfdna
    from trkres.knowledge import load_knowledge
    from trkres.options import validate_options
    from trkres.pl.monitoring import cfdna_figure
    from trkres.report.files import write_outputs

    options = validate_options(
        CfdnaOptions,
        {"response_fall": response_fall, "response_metric": response_metric,
         "confirm_next": confirm_next, "vaf_unit": vaf_unit},
        source="cli",
    )  # fmt: skip
    kb = load_knowledge(knowledge or ())
    for notice in kb.notices:
        log.warning("knowledge: %s", notice)
    result = run_cfdna(table, options, knowledge=kb, timeline=timeline, ddpcr_exports=ddpcr or ())
    issues = result.issues
    for issue in issues[:20]:
        log.warning(str(issue))
    if len(issues) > 20:
        log.warning("... %d more row issues in %s", len(issues) - 20, out / "issues.tsv")
    fig = cfdna_figure(result.measurements, result.timeline)
    write_outputs(out, result.tables, [fig] if fig is not None else [])
    if not state.quiet:
        n_emerged = (
            int(result.emergence["status"].str.startswith("emerged").sum())
            if len(result.emergence)
            else 0
        )
        err_console.print(
            f"VAFs and detection limits read as {vaf_unit}"
            + (" (divided by 100)" if vaf_unit == "percent" else " (0-1)")
        )
        err_console.print(
            f"{n_emerged} emerging alteration(s); tables written to [bold]{out}[/bold]"
        )
