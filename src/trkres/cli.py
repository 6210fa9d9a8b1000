"""The ``trkres`` command line: thin typer commands over the Python API."""

from __future__ import annotations

import functools
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from trkres import __version__
from trkres.allocator import reuse_freed_memory
from trkres.errors import TrkresError
from trkres.runinputs import declared_inputs
from trkres.study.registry import ProgressCallback, no_progress

if TYPE_CHECKING:  # outputs imports pandas: not at start-up, --help stays fast
    from trkres.outputs import TableFormat

log = logging.getLogger("trkres")
err_console = Console(stderr=True)
out_console = Console()


class _State:
    quiet = False
    verbose = False
    debug = False


state = _State()

app = typer.Typer(
    name="trkres",
    help=(
        "Acquired resistance to TRK inhibitors in NTRK-fusion cancers.\n\n"
        "Detect and classify resistance from sequencing, measure it in the lab, model it, "
        "and write one self-contained HTML report. Everything runs offline.\n\n"
        "Start with:  trkres demo"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
knowledge_app = typer.Typer(
    help="Show and validate the curated knowledge base (facts, evidence, review status).",
    no_args_is_help=True,
)
app.add_typer(knowledge_app, name="knowledge")

KnowledgeOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--knowledge",
        "-k",
        help="Extra knowledge YAML (repeatable): a lab's own facts with evidence; "
        "entries with the same id override the shipped ones.",
        exists=False,
        dir_okay=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        out_console.print(f"trkres {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Print what is being done, step by step.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks on errors (for bug reports).")
    ] = False,
) -> None:
    """Global options go before the command: trkres -v analyze STUDY -o OUT."""
    state.quiet, state.verbose, state.debug = quiet, verbose and not quiet, debug
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    # Only trkres' own messages at INFO/DEBUG; libraries speak at WARNING and above.
    logging.basicConfig(
        level=logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, show_time=False)],
        force=True,
    )
    log.setLevel(level)


@contextmanager
def _progress(description: str) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr (nothing with --quiet or when not a terminal)."""
    if state.quiet:
        yield no_progress
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[label]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = bar.add_task(description, total=None, label="")

    def update(done: int, total: int, label: str) -> None:
        bar.update(task, completed=done, total=total, label=label)
        log.debug("%s: %s (%d/%d)", description, label, done, total)

    with bar:
        yield update


def _run_and_report(
    study: Path, out: Path, knowledge: list[Path] | None, only: list[str] | None
) -> None:
    from trkres.study.runner import run_study

    with _progress("analysing") as progress:
        result = run_study(
            study, out, knowledge_files=knowledge or (), only=only, progress=progress
        )
    if not state.quiet:
        names = ", ".join(s.name for s in result.sections)
        err_console.print(f"Ran {len(result.sections)} analyses: {names}")
        reviews = sum(1 for s in result.sections for f in s.flags if f.level == "review")
        if reviews:
            err_console.print(
                f"[magenta]{reviews} item(s) rest on needs_review facts (see report)."
            )
        err_console.print(f"Report written to [bold]{result.report}[/bold]")
        err_console.print(
            f"Tables in {result.out_dir / 'tables'}, figures in {result.out_dir / 'figures'}"
        )


@app.command()
def analyze(
    study: Annotated[
        Path,
        typer.Argument(help="Study folder holding study.yaml (or the study.yaml file itself)."),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder (created or replaced atomically).")
    ],
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
    study: Annotated[Path, typer.Argument(help="Study folder holding study.yaml.")],
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
    out_console.print(f"[green]OK[/green] {loaded.name}: {len(loaded.manifest.inputs)} inputs")
    out_console.print(f"{label}: " + ", ".join(names))


@app.command()
def classify(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    maf: Annotated[
        list[Path] | None,
        typer.Option("--maf", help="MAF or cBioPortal data_mutations file (repeatable)."),
    ] = None,
    vcf: Annotated[
        list[Path] | None,
        typer.Option("--vcf", help="VCF/BCF annotated by VEP (CSQ) or SnpEff (ANN) (repeatable)."),
    ] = None,
    sv: Annotated[
        list[Path] | None,
        typer.Option(
            "--sv",
            help="Fusion/SV table: cBioPortal data_sv/data_fusions, STAR-Fusion, Arriba, PCGR (repeatable).",
        ),
    ] = None,
    cna: Annotated[
        list[Path] | None,
        typer.Option(
            "--cna", help="Copy number: cBioPortal GISTIC matrix or long table (repeatable)."
        ),
    ] = None,
    clinical: Annotated[
        Path | None,
        typer.Option(
            "--clinical", help="Clinical sample file: sample, patient, sample type, collection day."
        ),
    ] = None,
    timeline: Annotated[
        Path | None,
        typer.Option("--timeline", help="cBioPortal treatment timeline (days, agents, responses)."),
    ] = None,
    subclonal_ratio: Annotated[
        float,
        typer.Option(
            help="VAF / reference allele fraction below which an alteration is subclonal."
        ),
    ] = 0.5,
    table_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="Table format: tsv, or parquet (typed columns, about 6x smaller for large cohorts).",
        ),
    ] = "tsv",
    assume_trk_fusion: Annotated[
        bool,
        typer.Option(
            "--assume-trk-fusion",
            help="Take every patient without fusion data (no --sv row, no clinical FUSION value) "
            "to carry a TRK fusion: on-target classes count in any NTRK gene, strategies are "
            "suggested, and the output says 'assumed'. Default: such patients are "
            "fusion_unknown, with no therapy strategy.",
        ),
    ] = False,
    include_unverified: Annotated[
        bool,
        typer.Option(
            "--include-unverified",
            help="Let needs_review knowledge facts and rules set mechanism and therapy_strategies "
            "(flagged). Default: they only fill the unverified_* columns and review flags.",
        ),
    ] = False,
    genome_build: Annotated[
        str | None,
        typer.Option(
            "--genome-build",
            help="GRCh37 or GRCh38: the build of MAF coordinates, for MAFs without an "
            "NCBI_Build column. Used only to name hotspot changes of rows without a protein "
            "change (minimal MAFs); never assumed.",
        ),
    ] = None,
    knowledge: KnowledgeOption = None,
) -> None:
    """Classify TRK-inhibitor resistance from sequencing files and suggest next therapies.

    Writes OUT/alterations.tsv (every alteration, annotated), OUT/samples.tsv (one row
    per sample: fusion, mechanism, on/off-target alterations, therapy strategies with
    evidence, review flags), OUT/patients.tsv (across timepoints), OUT/mechanisms.tsv and
    OUT/classes.tsv (cohort frequencies with Wilson 95% CIs), OUT/annotated/*.tsv (each
    input's rows with trkres columns appended) and OUT/issues.tsv (rows with problems).
    With --format parquet the same tables are written as .parquet files.

    Patients whose samples no fusion data cover (no --sv row, no clinical FUSION value) are
    fusion_unknown: alterations listed and classed, no therapy strategy. Only verified
    knowledge facts set mechanism and therapy_strategies; needs_review ones go to the
    unverified_mechanism / unverified_alterations / unverified_strategies columns.

    Example:  trkres classify --maf data_mutations.txt --sv data_sv.txt --cna data_cna.txt
              --clinical data_clinical_sample.txt --timeline data_timeline_treatment.txt -o out
    """
    from trkres.genomics.export import write_classification
    from trkres.genomics.pipeline import classify_inputs, read_genomic_inputs
    from trkres.knowledge import load_knowledge

    if table_format not in ("tsv", "parquet"):
        raise TrkresError("unknown table format", expected="tsv or parquet", found=table_format)
    if not any([maf, vcf, sv, cna]):
        raise TrkresError(
            "nothing to classify",
            expected="at least one --maf, --vcf, --sv or --cna file",
            found="none",
        )
    if genome_build is not None and genome_build not in ("GRCh37", "GRCh38"):
        raise TrkresError("unknown genome build", expected="GRCh37 or GRCh38", found=genome_build)
    kb = load_knowledge(knowledge or ())
    for notice in kb.notices:
        log.warning("knowledge: %s", notice)
    with _progress("classifying") as progress:
        progress(0, 3, "reading inputs")
        inputs = read_genomic_inputs(
            kb, mafs=maf or [], vcfs=vcf or [], svs=sv or [], cnas=cna or [],
            clinical=clinical, timeline=timeline, genome_build=genome_build,
        )  # fmt: skip
        progress(1, 3, "classifying")
        result = classify_inputs(
            inputs, kb, subclonal_ratio=subclonal_ratio,
            assume_trk_fusion=assume_trk_fusion, include_unverified=include_unverified,
        )  # fmt: skip
        progress(2, 3, "writing")
        write_classification(result, out, table_format=cast("TableFormat", table_format))
    issues = result.issues_frame()
    for issue in inputs.all_issues()[:20]:
        log.warning(str(issue))
    if len(issues) > 20:
        log.warning(
            "... %d more row issues in %s", len(issues) - 20, out / f"issues.{table_format}"
        )
    if not state.quiet:
        counts = result.samples["mechanism"].value_counts().to_dict()
        err_console.print(
            f"Classified {len(result.alterations)} alterations in {len(result.samples)} samples "
            f"({', '.join(f'{k}: {v}' for k, v in counts.items())})"
        )
        for line in result.statements():
            err_console.print(line)
        err_console.print(f"Tables written to [bold]{out}[/bold]")


@app.command()
def ddpcr(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="QuantaSoft / QX Manager results exports (.csv) and/or *_Amplitude.csv droplet files."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    droplet_volume: Annotated[
        float | None,
        typer.Option(
            help="Droplet volume in nL (0.1 to 10). Default: from each file's header: 0.85 for QX200 / "
            "QX Manager / QuantaSoft 1.7, 0.91 for old QuantaSoft; required for amplitude files "
            "whose header names neither. The volume used and why is in ddpcr_wells.tsv."
        ),
    ] = None,
    interval: Annotated[
        str,
        typer.Option(
            help="Poisson interval: quantasoft (Wald from 100 positives, flat-prior Poisson HPD below, "
            "as QuantaSoft's exports), wald or wilson."
        ),
    ] = "quantasoft",
    blank: Annotated[
        list[str] | None,
        typer.Option(help="Blank sample (wild-type only or NTC) for EP17 LoB (repeatable)."),
    ] = None,
    low: Annotated[
        list[str] | None, typer.Option(help="Low-level sample for EP17 LoD (repeatable).")
    ] = None,
    limits_target: Annotated[
        str | None, typer.Option(help="Target whose wells give the limits.")
    ] = None,
    limits_method: Annotated[
        str, typer.Option(help="EP17 method: parametric or nonparametric.")
    ] = "parametric",
    min_droplets: Annotated[
        int, typer.Option(min=0, help="Wells with fewer accepted droplets are flagged.")
    ] = 8000,
    threshold_ch1: Annotated[
        float | None,
        typer.Option(help="Fixed channel-1 (FAM) amplitude threshold for droplet files."),
    ] = None,
    threshold_ch2: Annotated[
        float | None,
        typer.Option(help="Fixed channel-2 (HEX/VIC) amplitude threshold for droplet files."),
    ] = None,
    ntc_well: Annotated[
        list[str] | None,
        typer.Option(
            help="No-template-control well (repeatable): its droplets, pooled, set both "
            "channels' thresholds (negative cluster median + 8 robust SD)."
        ),
    ] = None,
    wt_well: Annotated[
        list[str] | None,
        typer.Option(
            help="Wild-type control well (repeatable): sets the mutant channel's threshold "
            "like an NTC."
        ),
    ] = None,
    positive_control_well: Annotated[
        list[str] | None,
        typer.Option(
            help="Positive-control well (repeatable): threshold midway between its negative "
            "and positive clusters (the higher one wins when NTC/wild-type wells are given too)."
        ),
    ] = None,
    mutant_channel: Annotated[
        int, typer.Option(min=1, max=2, help="Channel of the mutant probe (1 = FAM, 2 = HEX/VIC).")
    ] = 1,
    threshold_tolerance: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=0.99,
            help="Wells whose call changes, or whose positives move by > 25%, when the "
            "threshold moves by this fraction of its height above the negative cluster are "
            "flagged threshold_sensitive.",
        ),
    ] = 0.10,
    detection_vaf: Annotated[
        float,
        typer.Option(
            help="VAF (fraction) at which p_detect, the chance a well holds a mutant copy, is given."
        ),
    ] = 0.001,
) -> None:
    """Quantify ddPCR wells: concentrations with Poisson CIs, fractional abundance, calls.

    Droplet files are classified per well and channel: the negative cluster is
    found robustly (median and MAD) and droplets above median + 8 robust SD
    are positive, so a rare mutant cluster of a few droplets is counted; fixed
    thresholds (--threshold-ch1/--threshold-ch2) or control wells (--ntc-well,
    --wt-well, --positive-control-well) override it per channel.

    Writes OUT/ddpcr_wells.tsv (well, sample, target, accepted droplets, positives,
    concentration in copies/uL with CI, fractional abundance in percent with CI, call,
    flag, droplet volume in nL and why), OUT/ddpcr_merged.tsv (replicate wells pooled,
    and the between-well "total" CI), and, when given, OUT/ddpcr_limits.tsv (EP17
    LoB/LoD from --blank and --low samples), OUT/ddpcr_droplets.tsv (threshold per
    well and channel, how it was set, positives at +-tolerance),
    OUT/ddpcr_control_thresholds.tsv and OUT/ddpcr_droplet_agreement.tsv (agreement
    with labels in amplitude files), OUT/ddpcr_issues.tsv (export rows that were exact
    copies of another row: counted once). The same export given twice, or one well and
    target listed twice with different values, is an error.

    Example:  trkres ddpcr plate1.csv -o ddpcr --blank WT --low LOW1 --low LOW2
    """
    import math

    from trkres.assays.ddpcr_pipeline import DdpcrOptions, is_amplitude_file, run_ddpcr
    from trkres.outputs import write_tables

    if interval not in ("quantasoft", "wald", "wilson"):
        raise TrkresError("unknown interval", expected="quantasoft, wald or wilson", found=interval)
    if limits_method not in ("parametric", "nonparametric"):
        raise TrkresError(
            "unknown EP17 method", expected="parametric or nonparametric", found=limits_method
        )
    for name, value in (("--droplet-volume", droplet_volume), ("--threshold-ch1", threshold_ch1),
                        ("--threshold-ch2", threshold_ch2), ("--detection-vaf", detection_vaf)):  # fmt: skip
        if value is not None and not math.isfinite(value):
            raise TrkresError(
                f"{name} is not a number", expected="a finite number", found=f"{value:g}"
            )
    from trkres.assays.ddpcr_io import check_volume

    check_volume(droplet_volume)  # 0.1-10 nL
    if not 0 < detection_vaf <= 1:
        raise TrkresError(
            "--detection-vaf is a fraction", expected="0 < VAF <= 1", found=f"{detection_vaf:g}"
        )
    fixed = (
        None if threshold_ch1 is None and threshold_ch2 is None else [threshold_ch1, threshold_ch2]
    )
    options = DdpcrOptions(
        droplet_volume_nl=droplet_volume, interval=interval,  # type: ignore[arg-type]
        min_droplets=min_droplets, blank_samples=blank or (), low_samples=low or (),
        limits_target=limits_target, limits_method=limits_method,  # type: ignore[arg-type]
        droplet_method="robust", ntc_wells=ntc_well or (), detection_vaf=detection_vaf,
        thresholds=fixed, wt_wells=wt_well or (), positive_wells=positive_control_well or (),
        mutant_channel=mutant_channel, threshold_tolerance=threshold_tolerance,
    )  # fmt: skip
    with _progress("ddPCR") as progress:
        progress(0, 2, "reading")
        tables = run_ddpcr(
            [f for f in files if not is_amplitude_file(f)],
            [f for f in files if is_amplitude_file(f)],
            options,
        )
        progress(1, 2, "writing")
        write_tables(out, tables)
    wells = tables.get("ddpcr_wells")
    if wells is not None and len(wells):
        used = wells.groupby(["droplet_volume_nl", "droplet_volume_source"], sort=False)["source"]
        for (volume, why), sources in used:
            names = sorted(set(sources))
            shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            log.warning("droplet volume %g nL for %s: %s", volume, shown, why)
        sensitive = wells[wells["flag"].str.contains("threshold_sensitive", regex=False)]
        if len(sensitive):
            log.warning("%d well target(s) change with the droplet threshold (flag threshold_sensitive): %s",
                        len(sensitive), ", ".join(sensitive["well"] + "/" + sensitive["target"]))  # fmt: skip
    if not state.quiet:
        n = 0 if wells is None else len(wells)
        err_console.print(f"Quantified {n} well targets; tables written to [bold]{out}[/bold]")


@app.command()
def cfdna(
    table: Annotated[
        list[Path],
        typer.Argument(
            help="cfDNA results: sample, patient, collection_day, gene, alteration, vaf "
            "(or alt/ref counts), detection_limit, assay (TSV/CSV; repeatable)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
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
        bool, typer.Option(help="Require confirmation at the next sample.")
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
    import math

    import pandas as pd

    from trkres.assays.ddpcr_pipeline import DdpcrOptions, run_ddpcr
    from trkres.genomics.cfdna import ddpcr_measurements, monitor, read_cfdna
    from trkres.genomics.clinical import read_timeline
    from trkres.genomics.figures import cfdna_figure
    from trkres.knowledge import load_knowledge
    from trkres.outputs import atomic_directory, atomic_write_bytes, write_table
    from trkres.report.figures import figure_bytes

    if response_metric not in ("mean", "max"):
        raise TrkresError("unknown response metric", expected="mean or max", found=response_metric)
    if not (math.isfinite(response_fall) and 0 < response_fall < 1):
        raise TrkresError(
            "impossible --response-fall",
            expected="a fraction strictly between 0 and 1 (0.5 = a 50% fall)",
            found=f"{response_fall:g}",
        )
    if vaf_unit not in ("fraction", "percent"):
        raise TrkresError("unknown VAF unit", expected="fraction or percent", found=vaf_unit)
    kb = load_knowledge(knowledge or ())
    for notice in kb.notices:
        log.warning("knowledge: %s", notice)
    frames = []
    issues = []
    for path in table:
        frame, more = read_cfdna(path, vaf_unit)
        frames.append(frame)
        issues += more
    measurements = pd.concat(frames, ignore_index=True)
    if ddpcr:
        wells = run_ddpcr(ddpcr, [], DdpcrOptions()).get("ddpcr_wells")
        if wells is not None:
            samples = measurements.drop_duplicates("sample_id")[["sample_id", "patient_id", "day"]]
            measurements = pd.concat(
                [measurements, ddpcr_measurements(wells, samples, issues)], ignore_index=True
            )
    lines = None
    if timeline:
        lines, more = read_timeline(timeline, kb)
        issues += more
    result = monitor(measurements, kb, timeline=lines, response_fall=response_fall,
                     response_metric=response_metric, confirm_next=confirm_next)  # fmt: skip
    issues += result.issues
    for issue in issues[:20]:
        log.warning(str(issue))
    if len(issues) > 20:
        log.warning("... %d more row issues in %s", len(issues) - 20, out / "issues.tsv")
    fig = cfdna_figure(result.measurements, lines)
    with atomic_directory(out) as tmp:
        write_table(result.measurements, tmp / "cfdna_measurements.tsv")
        write_table(result.response, tmp / "cfdna_response.tsv")
        write_table(result.emergence, tmp / "cfdna_emergence.tsv")
        write_table(
            pd.DataFrame([vars(i) for i in issues],
                         columns=["file", "line", "column", "expected", "found", "action"]),
            tmp / "issues.tsv",
        )  # fmt: skip
        if fig is not None:
            for fmt in ("svg", "png"):
                atomic_write_bytes(
                    tmp / "figures" / f"{fig.name}.{fmt}", figure_bytes(fig.static, fmt)
                )
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

    from trkres.assays.curvefit import fit_curves
    from trkres.assays.doseresponse_analysis import curves_figure
    from trkres.assays.doseresponse_io import ISSUE_COLUMNS, read_curvecurator, read_long_lines
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
                from trkres.assays.curvefit_dask import fit_curves_dask
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

    from trkres.assays.curvefit import fit_curves
    from trkres.assays.doseresponse_analysis import forest_figure, overlay_figure
    from trkres.assays.doseresponse_io import read_long_checked
    from trkres.assays.resistance import compare_conditions, pool_experiments
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
    from trkres.assays.grmetrics import compare_gr, fit_gr, gr_values, read_gr_checked
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
def plate(
    export: Annotated[
        Path,
        typer.Argument(
            help="Plate-reader export (grid CSV/TSV/XLSX, Gen5, SoftMax Pro or EnVision text; text may be .gz)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    layout: Annotated[
        Path | None,
        typer.Option(
            "--map",
            help="Plate map (CSV/TSV/YAML, .gz too): well, role, cell_line, drug(s), dose(s), unit "
            "(M, mM, uM, nM, pM; doses are written out in molar) (not for --format gdsc, whose well "
            "table carries its own).",
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="grid, gen5, softmax, envision or gdsc (a GDSC well table)."),
    ] = "grid",
    cell_line: Annotated[
        str | None, typer.Option(help="gdsc: keep only this CELL_LINE_NAME's plates.")
    ] = None,
    read: Annotated[
        str | None,
        typer.Option(help="Which measurement when the export holds several (default: the first)."),
    ] = None,
) -> None:
    """Normalise plates to % viability of vehicle, check their quality, and write analysis-ready tables.

    Writes OUT/wells.tsv (every mapped well: raw value, reader flag, blank-subtracted signal,
    viability %, doses in molar with unit M, and an 'issue' for non-finite readings or
    implausible viability), OUT/plate_qc.tsv (per plate: control means and CVs, Z', edge-to-interior
    ratio, row/column trends, unusable and implausible wells, 'qc' = pass or the problems), and OUT/dose_response.tsv (one
    drug: input for trkres fit / resistance) or OUT/combinations.tsv (two or more drugs:
    input for trkres synergy --response viability).

    Example:  trkres plate reads.txt --format gen5 --map layout.yaml -o plate1
    """
    from trkres.assays.plate_io import read_plate_values
    from trkres.assays.plates import (
        drug_count,
        normalise,
        plate_qc,
        read_gdsc_wells,
        read_plate_map,
        to_combinations,
        to_dose_response,
    )
    from trkres.outputs import write_tables

    if fmt not in ("grid", "gen5", "softmax", "envision", "gdsc"):
        raise TrkresError(
            "unknown plate format", expected="grid, gen5, softmax, envision or gdsc", found=fmt
        )
    if fmt == "gdsc":
        values, plate_map = read_gdsc_wells(export, cell_line=cell_line)
    elif layout is None:
        raise TrkresError("a plate map is needed", expected="--map MAP.csv|yaml", found="none")
    else:
        values, plate_map = read_plate_values(export, fmt), read_plate_map(layout)  # type: ignore[arg-type]
    wells = normalise(values, plate_map, read=read, path=export)
    qc = plate_qc(wells)
    tables = {"wells": wells, "plate_qc": qc}
    n = drug_count(wells)
    if n >= 2:
        tables["combinations"] = to_combinations(wells)
    elif n == 1:
        # In read_long's layout, so trkres fit / resistance read it back as it is.
        tables["dose_response"] = (
            to_dose_response(wells).rename(columns={"dose_molar": "dose"}).assign(unit="M")
        )
    write_tables(out, tables)
    if not state.quiet:
        for _, r in qc.iterrows():
            colour = "green" if r["qc"] == "pass" else "yellow"
            err_console.print(f"[{colour}]plate {r['plate']}: Z' {r['z_prime']:.2f}, QC {r['qc']}")
        err_console.print(f"{len(wells)} wells normalised; written to [bold]{out}[/bold]")


@app.command()
def synergy(
    data: Annotated[
        Path,
        typer.Argument(
            help="Combination table in SynergyFinder's layout (CSV/TSV, .gz too, UTF-8; or Parquet): block_id, drug1, "
            "drug2[, drug3], conc1, conc2[, conc3], response, conc_unit; replicates as repeated rows."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    response: Annotated[
        str,
        typer.Option(
            help="What 'response' holds: inhibition (%), viability (% of vehicle) or "
            "viability_fraction (1 = vehicle)."
        ),
    ] = "inhibition",
    conc_unit: Annotated[
        str | None, typer.Option(help="Concentration unit when the table has no conc_unit column.")
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
) -> None:
    """Score drug combinations: Bliss, HSA, Loewe, ZIP (SynergyFinder 3's definitions), CSS,
    MuSyC and the Chou-Talalay combination index, with replicate-bootstrap CIs.

    Scores are observed minus expected % inhibition (positive = synergy). Writes
    OUT/synergy_summary.tsv (one row per block with CIs and a status for degenerate blocks),
    OUT/synergy_matrix.tsv (per dose pair: observed, each model's expected and score),
    single-drug fits, MuSyC, combination index, the combination-vs-single-agent t-tests and,
    with --condition, each line against --reference; figures in OUT/figures/.

    Example:  trkres synergy combos.tsv --response viability --condition line -o synergy
    """
    from pydantic import ValidationError

    from trkres.assays.synergy_analysis import SynergyOptions, synergy_section
    from trkres.assays.synergy_io import read_combinations
    from trkres.outputs import atomic_directory
    from trkres.report.figures import close
    from trkres.report.files import write_section_files

    try:
        opts = SynergyOptions.model_validate(
            {"response": response, "conc_unit": conc_unit, "n_boot": n_boot, "seed": seed,
             "models": [m.strip() for m in models.split(",") if m.strip()], "musyc": musyc,
             "condition": condition, "reference": reference}
        )  # fmt: skip
    except ValidationError as exc:
        err = exc.errors()[0]
        raise TrkresError(
            f"bad option --{str(err['loc'][0]).replace('_', '-')}", expected=err["msg"],
            found=repr(err.get("input")),
        ) from None  # fmt: skip
    combos = read_combinations(data, response=opts.response, conc_unit=opts.conc_unit)
    with _progress("scoring") as progress:
        progress(0, 1, f"{len(combos.blocks)} blocks, {opts.n_boot} bootstrap draws")
        section = synergy_section(combos, opts, source=f" from {data.name}")
        progress(1, 1, "writing")
    try:
        with atomic_directory(out) as tmp:
            write_section_files(tmp, section, tables_subdir="")
    finally:
        for fig in section.figures:
            close(fig.static)
    if not state.quiet:
        for flag in section.flags:
            err_console.print(f"[{'yellow' if flag.level == 'warning' else 'cyan'}]{flag.message}")
        err_console.print(f"Scored {len(combos.blocks)} block(s); written to [bold]{out}[/bold]")


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

    from trkres.assays.doseresponse_io import read_long_checked
    from trkres.assays.escalation import escalation_figure, track_escalation
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


@app.command("analyses")
def list_analyses() -> None:
    """List the analyses trkres knows and the input kinds each needs.

    An analysis runs in 'trkres analyze' when the study holds every kind it needs.

    Example:  trkres analyses
    """
    from trkres.study.registry import analyses

    table = RichTable("analysis", "title", "needs all of", "needs one of", "options")
    for a in analyses():
        table.add_row(
            a.name,
            a.title,
            ", ".join(sorted(k.value for k in a.requires)) or "-",
            ", ".join(sorted(k.value for k in a.any_of)) or "-",
            "yes" if a.options_model else "-",
        )
    out_console.print(table)


@knowledge_app.command("show")
def knowledge_show(
    topic: Annotated[
        str | None,
        typer.Argument(
            help="A topic (genes, kinase_positions, resistance_mutations, bypass_alterations, "
            "drugs, therapy_strategies, therapy_rules, alteration_classes, sources), "
            "or a fact id such as ntrk1_g595r. Omit for a summary."
        ),
    ] = None,
    tsv: Annotated[bool, typer.Option("--tsv", help="Print tab-separated values.")] = False,
    knowledge: KnowledgeOption = None,
) -> None:
    """Show the knowledge base: a summary, one topic as a table, or one fact in full.

    Examples:  trkres knowledge show drugs
               trkres knowledge show ntrk3_g623r
    """
    from trkres.knowledge import load_knowledge
    from trkres.knowledge.schema import TOPICS

    kb = load_knowledge(knowledge or ())
    facts = kb.facts_frame()
    if topic is None:
        counts = facts.groupby(["topic", "status"]).size().unstack(fill_value=0)
        table = RichTable("topic", "verified", "needs_review", title=f"knowledge {kb.version}")
        for name, row in counts.iterrows():
            table.add_row(str(name), str(row.get("verified", 0)), str(row.get("needs_review", 0)))
        out_console.print(table)
        out_console.print(
            f"{len(kb.sources)} sources; extra files: "
            f"{', '.join(map(str, kb.extra_files)) or 'none'}"
        )
        return
    if topic == "sources":
        frame = kb.sources_frame()
    elif topic == "kinase_positions" and not tsv:
        frame = kb.positions_frame()
    elif topic in TOPICS:
        frame = facts[facts["topic"] == topic].drop(columns=["topic", "statement"])
    else:
        match = facts[facts["id"] == topic]
        if match.empty:
            raise TrkresError(
                f"no topic or fact named '{topic}'",
                expected=f"a topic ({', '.join(TOPICS)}) or a fact id",
                found=topic,
            )
        for record in match.to_dict(orient="records"):
            fact = kb.all_facts()[f"{record['topic']}:{record['id']}"]
            out_console.print(fact.model_dump_json(indent=2, exclude_none=True), markup=False)
        return
    if tsv:
        sys.stdout.write(frame.to_csv(sep="\t", index=False))
        return
    table = RichTable(*map(str, frame.columns), title=topic, show_lines=False)
    for cells in frame.astype(str).itertuples(index=False):
        table.add_row(*cells)
    out_console.print(table)


@knowledge_app.command("validate")
def knowledge_validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Knowledge YAML files to check on top of the shipped base."),
    ] = None,
) -> None:
    """Validate knowledge files: schema, ids, cross-references, evidence sources.

    With no FILE, validates the shipped knowledge base. Errors give the file, line
    and column; warnings (e.g. a source without PMID or DOI) do not fail.

    Example:  trkres knowledge validate my_lab_facts.yaml
    """
    from trkres.knowledge import validate_files

    report = validate_files(files or [])
    for warning in report.warnings:
        log.warning(warning)
    total = sum(report.counts.values())
    out_console.print(
        f"[green]valid[/green]: {total} entries in {len(report.files)} file(s) "
        f"({', '.join(f'{k} {v}' for k, v in report.counts.items())})"
    )


def _declaring_inputs(callback: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command with its path arguments (all but ``out``) declared as inputs,
    so no output folder it writes can equal or hold one of them."""

    @functools.wraps(callback)
    def command(*args: Any, **kwargs: Any) -> Any:
        paths: list[Path] = []
        for name, value in kwargs.items():
            if name == "out" or value is None:
                continue
            values = value if isinstance(value, list | tuple) else [value]
            paths.extend(v for v in values if isinstance(v, Path))
        with declared_inputs(paths):
            out = kwargs.get("out")
            if isinstance(out, Path):  # refuse a bad output folder before any work
                from trkres.outputs import check_output_folder

                check_output_folder(out)
            return callback(*args, **kwargs)

    return command


for _info in app.registered_commands:
    if _info.callback is not None:
        _info.callback = _declaring_inputs(_info.callback)


class Terminated(BaseException):
    """SIGTERM, raised where the process is, so staged outputs are cleaned up.

    Not a KeyboardInterrupt: click would turn that into its own exit status."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def main() -> None:
    """Console entry point: user errors print a precise message, no traceback."""
    reuse_freed_memory()
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app()
    except Terminated:
        err_console.print("terminated: nothing was written")
        sys.exit(143)
    except TrkresError as exc:
        if state.debug:
            raise
        err_console.print(
            f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted: nothing was written")
        sys.exit(130)
    except Exception as exc:
        if state.debug:
            raise
        err_console.print(
            f"[bold red]internal error:[/bold red] {type(exc).__name__}: {escape(str(exc))}\n"
            "This is a bug in trkres. Re-run with --debug for the traceback and report it.",
            highlight=False,
        )
        sys.exit(3)
