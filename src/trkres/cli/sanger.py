"""The sanger command: a sample chromatogram against its control → mutant fractions, calls,
names, and the answer to --expect."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import (
    OUT_HELP,
    KnowledgeOption,
    _progress,
    app,
    err_console,
    log,
    log_notes,
    state,
)


@app.command()
def sanger(
    sample: Annotated[Path, typer.Argument(help="The sample trace (ABIF .ab1/.abi or SCF .scf).")],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    control: Annotated[
        Path | None,
        typer.Option(
            help="Control trace of the same amplicon (parental line, pre-treatment sample)."
        ),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option(help="Reference sequence: FASTA, or GenBank whose CDS gives the frame."),
    ] = None,
    gene: Annotated[
        str | None, typer.Option(help="Gene of the amplicon (e.g. NTRK1), for naming calls.")
    ] = None,
    codon_start: Annotated[
        int | None,
        typer.Option(
            help="Codon number N whose first base is reference position --codon-position."
        ),
    ] = None,
    codon_position: Annotated[
        int | None,
        typer.Option(
            help="1-based reference position that is the first base of codon --codon-start "
            "(reference: --reference, else the control's calls, else the sample's); "
            "default 1, or with a GenBank CDS its own frame."
        ),
    ] = None,
    strand: Annotated[
        str,
        typer.Option(help="Coding strand relative to the reference: + or - (reverse complement)."),
    ] = "+",
    expect: Annotated[
        str | None,
        typer.Option(
            help="The mutation asked about, e.g. 'NTRK1 G595R': detected, at what "
            "fraction, or the limit of detection."
        ),
    ] = None,
    trim_cutoff: Annotated[
        float, typer.Option(help="Mott trimming cutoff (error probability per base).")
    ] = 0.05,
    alpha: Annotated[
        float,
        typer.Option(help="Chance of any false call in a trace without a mutation (sets the LOD)."),
    ] = 0.05,
    min_difference: Annotated[
        float, typer.Option(help="A call must exceed the control's fraction at the site by this.")
    ] = 0.05,
    no_figures: Annotated[bool, typer.Option("--no-figures", help="Write tables only.")] = False,
    knowledge: KnowledgeOption = None,
) -> None:
    """Compare a Sanger trace with its control: mutant fraction at every
    position, calls above the noise with a 95% CI, and the limit of detection.

    The traces' ends are quality-trimmed (Mott); each trace is aligned to the
    reference (--reference, else the control's base calls); at each position
    the secondary-peak fraction comes from the dye-normalised channel heights.
    A call must beat the call threshold (the critical value: the fraction the
    control's and the sample's noise exceed with probability alpha/positions),
    scaled by the local noise, and the control's own secondary peak at the site.
    The limit of detection is the fraction detected 95% of the time: calls can
    lie below it.
    With the frame (--codon-start/--codon-position, or a GenBank CDS) calls
    are named (NTRK1 G595R) and classed from the knowledge base.

    Writes OUT/calls.tsv (position, ref, alt, mutant_fraction, ci_low,
    ci_high, noise, call, codon, protein_change, ...), OUT/expect.tsv (with
    --expect), OUT/positions.tsv, OUT/summary.tsv and figures/ (the
    chromatogram around each call, the control beneath).

    Example:  trkres sanger resistant.ab1 --control parental.ab1 --gene NTRK1 --codon-start 595 --codon-position 101 --expect "NTRK1 G595R" -o out
    """
    from trkres.assays.sanger.options import SangerOptions
    from trkres.assays.sanger.run import run_sanger
    from trkres.knowledge import load_knowledge
    from trkres.options import validate_options
    from trkres.report.files import write_outputs

    options = validate_options(
        SangerOptions,
        {
            "gene": gene, "codon_start": codon_start, "codon_position": codon_position,
            "strand": strand, "expect": expect, "trim_cutoff": trim_cutoff, "alpha": alpha,
            "min_difference": min_difference,
        },
        source="cli",
    )  # fmt: skip
    kb = load_knowledge(knowledge or ())
    for notice in kb.notices:
        log.warning("knowledge: %s", notice)
    with _progress("sanger") as progress:
        result = run_sanger(sample, options, control=control, reference=reference,
                            knowledge=kb, progress=progress)  # fmt: skip
        figures = []
        if not no_figures:
            from trkres.pl.sanger import sanger_figures

            figures = sanger_figures(result)
        write_outputs(out, dict(result), figures)
    log_notes(result)
    if not state.quiet:
        calls = result["calls"]
        names = ", ".join(
            f"{c or f'{p}{r}>{a}'} {f:.0%}" + (" (below the LOD)" if f < lod else "")
            for c, p, r, a, f, lod in calls[
                ["protein_change", "position", "ref", "alt", "mutant_fraction", "lod"]
            ].itertuples(index=False)
        )
        err_console.print(f"{len(calls)} call(s) above the call threshold (limit of detection "
                          f"{result.lod:.0%}: the fraction detected 95% of the time)"
                          + (f": {names}" if names else ""))  # fmt: skip
        if "expect" in result:
            err_console.print(str(result["expect"]["answer"].iloc[0]))
        err_console.print(f"Tables written to [bold]{out}[/bold]")
