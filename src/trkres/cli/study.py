"""Study commands: analyze, demo, check, analyses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from trkres.cli._app import (
    OUT_HELP,
    KnowledgeOption,
    _progress,
    _run_and_report,
    app,
    err_console,
    out_console,
    state,
)


@app.command()
def analyze(
    study: Annotated[
        Path,
        typer.Argument(help="Study folder holding study.yaml (or the study.yaml file itself)."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only this analysis (repeatable); see 'trkres analyses'."),
    ] = None,
    knowledge: KnowledgeOption = None,
) -> None:
    """Run every analysis the study's inputs allow and write a report folder.

    Writes OUT/index.html (one self-contained interactive report), OUT/tables/*.tsv,
    OUT/figures/*.svg and *.png, and OUT/run.json (version, input checksums,
    parameters, timings). Nothing is written unless the whole run succeeds.

    Example:  trkres analyze examples/ntrk_resistance -o report
    """
    _run_and_report(study, out, knowledge, only)


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder for the demo report.")
    ] = Path("trkres-demo-report"),
    knowledge: KnowledgeOption = None,
) -> None:
    """Analyse the bundled example study (a small TRK-resistance study) and write its report.

    The example holds published cases and public data in their real formats; values
    made up for illustration are labelled so in the report.

    Example:  trkres demo -o demo-report   (then open demo-report/index.html)
    """
    from trkres.examples import example_study_path

    path = example_study_path()
    if not state.quiet:
        err_console.print(f"Example study: {path}")
    _run_and_report(path, out, knowledge, None)


@app.command()
def check(
    study: Annotated[
        Path,
        typer.Argument(help="Study folder holding study.yaml (or the study.yaml file itself)."),
    ],
    knowledge: KnowledgeOption = None,
    manifest_only: Annotated[
        bool,
        typer.Option(
            "--manifest-only",
            help="Only validate the manifest, files' presence, knowledge and options "
            "(fast); do not read the inputs.",
        ),
    ] = False,
) -> None:
    """Validate a study folder without writing anything.

    Reads every input and runs every analysis as 'trkres analyze' would, so a study
    that passes here will not fail there on its inputs; prints the analyses that ran.
    With --manifest-only, only the manifest, knowledge and options are checked.

    Example:  trkres check examples/ntrk_resistance
    """
    from trkres.study.manifest import load_study
    from trkres.study.registry import analyses
    from trkres.study.runner import _options_for, check_study, select_analyses, study_knowledge

    if manifest_only:
        loaded = load_study(study)
        study_knowledge(loaded, knowledge or ())
        _options_for(loaded, analyses())
        names = [a.name for a in select_analyses(loaded)]
        label = "analyses that will run"
    else:
        with _progress("checking") as progress:
            loaded, sections = check_study(
                study, knowledge_files=knowledge or (), progress=progress
            )
        names = [s.name for s in sections]
        label = "analyses run (nothing written)"
    # What a lab knowledge file replaces, shadows or is not trusted for is said here as
    # 'analyze' says it in the report: 'OK' alone hid it.
    for notice in study_knowledge(loaded, knowledge or ()).notices:
        err_console.print(f"[yellow]knowledge:[/yellow] {notice}", soft_wrap=True)
    out_console.print(f"[green]OK[/green] {loaded.name}: {len(loaded.manifest.inputs)} inputs")
    out_console.print(f"{label}: " + ", ".join(names))


@app.command("analyses")
def list_analyses() -> None:
    """List the analyses trkres knows and the input kinds each needs.

    An analysis runs in 'trkres analyze' when the study holds every kind it needs;
    a model (signalling) runs when study.yaml gives it options.

    Example:  trkres analyses
    """
    from trkres.study.registry import analyses

    # One kind per line, never cut: these are the names study.yaml's 'kind:' takes.
    table = RichTable("analysis", "title", "needs (input kinds)", "options")
    table.columns[0].no_wrap = table.columns[2].no_wrap = True
    for a in analyses():
        needs = sorted(k.value for k in a.requires)
        if a.any_of:
            needs += ["one of:" if not needs else "and one of:"]
            needs += [f"  {k}" for k in sorted(k.value for k in a.any_of)]
        if not needs and a.on_options:
            needs = ["no file:", f"options: {{{a.name}: …}}"]
        table.add_row(a.name, a.title, "\n".join(needs) or "-", "yes" if a.options_model else "-")
    out_console.print(table)
