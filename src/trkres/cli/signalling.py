"""The signal command: genotypes × treatments → simulated pTRK, pMEK, pERK, pAKT and viability."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trkres.cli._app import OUT_HELP, KnowledgeOption, _progress, app, err_console, log_notes, state

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase
    from trkres.models.signalling.run import SignalResult


@app.command()
def signal(
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    genotype: Annotated[
        list[str],
        typer.Option(
            "--genotype",
            "-g",
            help="A TRK fusion plus alterations joined by '+', e.g. 'LMNA::NTRK1 + NTRK1 G595R "
            "+ KRAS G12D' or 'PLEKHA6::NTRK1 + MET amplification'. Repeat for several.",
        ),
    ],
    treatment: Annotated[
        list[str],
        typer.Option(
            "--treatment",
            "-t",
            help="drug=dose pairs joined by '+', e.g. 'selitrectinib=50nM+binimetinib=50nM' "
            "(names or synonyms; pM, nM, µM/uM). Repeat for several; 'none' is always added.",
        ),
    ],
    time: Annotated[
        list[float] | None,
        typer.Option(
            "--time", help="Readout time after the drugs, hours (repeat; default 2 and 24)."
        ),
    ] = None,
    viability_h: Annotated[
        float, typer.Option(help="Time of the viability readout, hours.")
    ] = 72.0,
    dose_points: Annotated[
        int,
        typer.Option(
            help="Doses per single-drug curve (0.1 nM–10 µM, log-spaced; IC50s interpolated "
            "between them) for each drug of the treatments in each genotype; 0 skips the curves."
        ),
    ] = 25,
    sbml: Annotated[
        bool,
        typer.Option(
            "--sbml",
            help="Also write the model as SBML L3V2 (model.sbml.xml; needs "
            "pip install 'trkres\\[sbml]').",  # \[ : not rich markup
        ),
    ] = False,
    virtual_lab: Annotated[
        bool,
        typer.Option(
            "--virtual-lab",
            help="Also write simulated lab files (virtual/): for each drug a 96-well viability "
            "plate (plate-reader grid + plate map, 8% CV) and a pERK western table (3 blots, "
            "20% CV) — for teaching, power planning and testing pipelines.",
        ),
    ] = False,
    knowledge: KnowledgeOption = None,
    no_figures: Annotated[bool, typer.Option("--no-figures", help="Write tables only.")] = False,
) -> None:
    """Simulate TRK-fusion signalling under drugs and resistance alterations.

    A 25-species ODE model (docs/signalling.md): fusion kinase and MET → SOS →
    RAS (mutant KRAS as its own pool) → RAF (BRAF V600E RAS-independent) → MEK
    → ERK with SOS and DUSP feedback, PI3K → AKT, and ERK/AKT-driven growth.
    Drugs act by occupancy with potencies from the knowledge base (or stated
    assumptions); kinase-domain mutations change TRK-inhibitor potencies by
    class. Cells start at their untreated steady state; drugs are added at 0 h.

    Writes OUT/readouts.tsv (genotype, treatment, time_h, readout, value: pTRK,
    pMEK, pERK, pAKT as fractions of the same genotype untreated at the same
    time; viability at --viability-h), OUT/levels.tsv (absolute, µM),
    OUT/dose_response.tsv and OUT/ic50.tsv (single-drug curves), and
    OUT/genotypes.tsv, OUT/potencies.tsv, OUT/parameters.tsv (what the
    prediction rests on, with sources), figures/; with --virtual-lab,
    OUT/virtual/ (simulated plate-reader exports, plate maps, western table).

    Example:  trkres signal -g "LMNA::NTRK1" -g "LMNA::NTRK1 + NTRK1 G595R" -t larotrectinib=100nM -t selitrectinib=50nM -o signal
    """
    from trkres.knowledge import load_knowledge
    from trkres.models.signalling.options import SignalOptions
    from trkres.models.signalling.run import run_signal
    from trkres.options import validate_options
    from trkres.report.files import write_outputs

    values: dict[str, object] = {"genotypes": genotype, "treatments": treatment,
                                 "viability_h": viability_h, "dose_points": dose_points}  # fmt: skip
    if time:
        values["times_h"] = time
    options = validate_options(SignalOptions, values, source="cli")
    kb = load_knowledge(knowledge or ())
    with _progress("signalling") as progress:
        result = run_signal(options, knowledge=kb, progress=progress)
        figures = []
        if not no_figures:
            from trkres.pl.signalling import signal_figures

            figures = signal_figures(result)
        files = {}
        if sbml:
            from trkres.models.signalling.api import export_sbml

            files["model.sbml.xml"] = export_sbml()
        tables = dict(result)
        if virtual_lab:
            files.update(_virtual_lab(result, kb))
            from trkres.models.signalling.virtual import virtual_western

            tables["virtual/western_pERK"] = virtual_western(
                [g.label for g in result.genotypes], [t.label for t in result.treatments],
                time_h=options.times_h[0], knowledge=kb,
            )  # fmt: skip
        write_outputs(out, tables, figures, files=files)
    log_notes(result)
    if not state.quiet:
        n_treat = len({t.label for t in result.treatments} | {"none"})
        err_console.print(f"Simulated {len(result.genotypes)} genotype(s) × {n_treat} "
                          f"treatment(s) with the untreated reference ({result.simulations} "
                          f"simulations); tables written to [bold]{out}[/bold]")  # fmt: skip


def _virtual_lab(result: SignalResult, kb: KnowledgeBase) -> dict[str, str]:
    """Simulated plate exports and maps per drug, as text files for the output folder."""
    from trkres.models.signalling.virtual import plate_texts, virtual_plate

    files: dict[str, str] = {}
    genotypes = [g.label for g in result.genotypes]
    for drug in dict.fromkeys(d for t in result.treatments for d in t.drugs):
        grid, plate_map = plate_texts(*virtual_plate(genotypes, drug, knowledge=kb))
        files[f"virtual/{drug}/plates.csv"] = grid
        files[f"virtual/{drug}/plate_map.tsv"] = plate_map
    return files
