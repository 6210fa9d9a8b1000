"""The ``trkres`` command line: thin typer commands over the Python API."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from trkres import __version__
from trkres.allocator import reuse_freed_memory
from trkres.errors import TrkresError
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
) -> None:
    """Validate a study folder without running anything: manifest, files, options.

    Prints the analyses its inputs allow.

    Example:  trkres check examples/ntrk_resistance
    """
    from trkres.study.manifest import load_study
    from trkres.study.registry import analyses
    from trkres.study.runner import _options_for, select_analyses, study_knowledge

    loaded = load_study(study)
    study_knowledge(loaded, knowledge or ())
    _options_for(loaded, analyses())
    chosen = select_analyses(loaded)
    out_console.print(f"[green]OK[/green] {loaded.name}: {len(loaded.manifest.inputs)} inputs")
    out_console.print("analyses that will run: " + ", ".join(a.name for a in chosen))


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
    knowledge: KnowledgeOption = None,
) -> None:
    """Classify TRK-inhibitor resistance from sequencing files and suggest next therapies.

    Writes OUT/alterations.tsv (every alteration, annotated), OUT/samples.tsv (one row
    per sample: fusion, mechanism, on/off-target alterations, therapy strategies with
    evidence, review flags), OUT/patients.tsv (across timepoints), OUT/mechanisms.tsv and
    OUT/classes.tsv (cohort frequencies with Wilson 95% CIs), OUT/annotated/*.tsv (each
    input's rows with trkres columns appended) and OUT/issues.tsv (rows with problems).
    With --format parquet the same tables are written as .parquet files.

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
    kb = load_knowledge(knowledge or ())
    with _progress("classifying") as progress:
        progress(0, 3, "reading inputs")
        inputs = read_genomic_inputs(
            kb, mafs=maf or [], vcfs=vcf or [], svs=sv or [], cnas=cna or [],
            clinical=clinical, timeline=timeline,
        )  # fmt: skip
        progress(1, 3, "classifying")
        result = classify_inputs(inputs, kb, subclonal_ratio=subclonal_ratio)
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
            help="Droplet volume in nL (default: 0.85 for QX200/QX Manager, 0.91 for old exports)."
        ),
    ] = None,
    interval: Annotated[
        str, typer.Option(help="Poisson interval: wald (as QuantaSoft) or wilson.")
    ] = "wald",
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
        int, typer.Option(help="Wells with fewer accepted droplets are flagged.")
    ] = 8000,
    ntc_well: Annotated[
        list[str] | None,
        typer.Option(help="No-template-control well for the NTC droplet threshold (repeatable)."),
    ] = None,
    detection_vaf: Annotated[
        float,
        typer.Option(
            help="VAF (fraction) at which p_detect, the chance a well holds a mutant copy, is given."
        ),
    ] = 0.001,
) -> None:
    """Quantify ddPCR wells: concentrations with Poisson CIs, fractional abundance, calls.

    Writes OUT/ddpcr_wells.tsv (well, sample, target, accepted droplets, positives,
    concentration in copies/uL with CI, fractional abundance in percent with CI, call),
    OUT/ddpcr_merged.tsv (replicate wells pooled, and the between-well "total" CI),
    and, when given, OUT/ddpcr_limits.tsv (EP17 LoB/LoD from --blank and --low samples),
    OUT/ddpcr_droplets.tsv (droplet thresholds per well) and
    OUT/ddpcr_droplet_agreement.tsv (agreement with labels in amplitude files).

    Example:  trkres ddpcr plate1.csv -o ddpcr --blank WT --low LOW1 --low LOW2
    """
    from trkres.assays.ddpcr_pipeline import DdpcrOptions, is_amplitude_file, run_ddpcr
    from trkres.outputs import write_tables

    if interval not in ("wald", "wilson"):
        raise TrkresError("unknown interval", expected="wald or wilson", found=interval)
    if limits_method not in ("parametric", "nonparametric"):
        raise TrkresError(
            "unknown EP17 method", expected="parametric or nonparametric", found=limits_method
        )
    options = DdpcrOptions(
        droplet_volume_nl=droplet_volume, interval=interval,  # type: ignore[arg-type]
        min_droplets=min_droplets, blank_samples=blank or (), low_samples=low or (),
        limits_target=limits_target, limits_method=limits_method,  # type: ignore[arg-type]
        droplet_method="ntc" if ntc_well else "otsu", ntc_wells=ntc_well or (),
        detection_vaf=detection_vaf,
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
    if not state.quiet:
        wells = tables.get("ddpcr_wells")
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
        float, typer.Option(help="Fall from baseline VAF that is a molecular response.")
    ] = 0.5,
    response_metric: Annotated[
        str, typer.Option(help="mean or max VAF of the baseline alterations.")
    ] = "mean",
    confirm_next: Annotated[
        bool, typer.Option(help="Require confirmation at the next sample.")
    ] = False,
    knowledge: KnowledgeOption = None,
) -> None:
    """Monitor resistance in serial cfDNA: VAF over time, molecular response, emergence.

    Writes OUT/cfdna_measurements.tsv, OUT/cfdna_response.tsv (per patient and day),
    OUT/cfdna_emergence.tsv (each alteration: emerged / present at the first sample /
    never detected, the day, VAF relative to the fusion's, its resistance class and
    therapy strategies) and OUT/figures/cfdna_vaf_over_time.svg and .png.

    Example:  trkres cfdna cfdna.tsv --timeline data_timeline_treatment.txt -o cfdna
    """
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
    kb = load_knowledge(knowledge or ())
    frames = []
    for path in table:
        frame, issues = read_cfdna(path)
        frames.append(frame)
        for issue in issues[:20]:
            log.warning(str(issue))
    measurements = pd.concat(frames, ignore_index=True)
    if ddpcr:
        wells = run_ddpcr(ddpcr, [], DdpcrOptions()).get("ddpcr_wells")
        if wells is not None:
            samples = measurements.drop_duplicates("sample_id")[["sample_id", "patient_id", "day"]]
            measurements = pd.concat(
                [measurements, ddpcr_measurements(wells, samples)], ignore_index=True
            )
    lines = read_timeline(timeline, kb)[0] if timeline else None
    result = monitor(measurements, kb, timeline=lines, response_fall=response_fall,
                     response_metric=response_metric, confirm_next=confirm_next)  # fmt: skip
    fig = cfdna_figure(result.measurements, lines)
    with atomic_directory(out) as tmp:
        write_table(result.measurements, tmp / "cfdna_measurements.tsv")
        write_table(result.response, tmp / "cfdna_response.tsv")
        write_table(result.emergence, tmp / "cfdna_emergence.tsv")
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
) -> None:
    """Fit dose-response curves in batch and write OUT/fits.tsv (one row per curve).

    Figures: OUT/figures/dose_response_curves.svg|png (the first 24 curves with their fits).

    Columns: curve_id, status (ok, flat, out_of_range, failed), log10_ic50 and ic50 (molar)
    with asymptotic 95% CIs, absolute IC50, hill_slope, top, bottom, emax, auc/aac over the
    tested log-dose range, sse, rmse, r2, F-test p_value, n_points.

    Example:  trkres fit viability_long.tsv -o fits --dose-unit nM
    """
    from trkres.assays.curvefit import fit_curves
    from trkres.assays.doseresponse_analysis import curves_figure
    from trkres.assays.doseresponse_io import read_curvecurator, read_long
    from trkres.report.files import write_outputs

    if model not in ("4pl", "3pl", "2pl"):
        raise TrkresError("unknown model", expected="4pl, 3pl or 2pl", found=model)
    frame = (
        read_curvecurator(data, toml) if toml else read_long(data, group=group, dose_unit=dose_unit)
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
            fits = fit_curves_dask(frame, scheduler=scheduler, model=model, alpha=alpha, robust=robust)  # type: ignore[arg-type]  # fmt: skip
        elif engine == "local":
            fits = fit_curves(frame, model=model, alpha=alpha, robust=robust)  # type: ignore[arg-type]
        else:
            raise TrkresError("unknown engine", expected="local or dask", found=engine)
        progress(1, 1, "writing")
    write_outputs(out, {"fits": fits}, [curves_figure(frame, fits)])
    if not state.quiet:
        counts = fits["status"].value_counts().to_dict()
        err_console.print(
            f"Fitted {len(fits)} curves ({', '.join(f'{k}: {v}' for k, v in counts.items())}); "
            f"written to [bold]{out / 'fits.tsv'}[/bold]"
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

    Example:  trkres resistance viability.tsv --condition line --reference parental --by drug -o res
    """
    from trkres.assays.curvefit import fit_curves
    from trkres.assays.doseresponse_analysis import forest_figure, overlay_figure
    from trkres.assays.doseresponse_io import read_long
    from trkres.assays.resistance import compare_conditions, pool_experiments
    from trkres.report.files import write_outputs

    keys = [*(by or []), condition]
    frame = read_long(
        data, group=[*keys, *([experiment] if experiment else [])], dose_unit=dose_unit
    )
    frame["curve_id"] = frame[keys].astype(str).agg(" | ".join, axis=1)
    fits = fit_curves(frame, robust=robust)
    table = compare_conditions(
        frame, condition=condition, reference=reference, by=by or [], threshold=threshold, fits=fits
    )
    tables = {"resistance": table, "fits": fits}
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

    Example:  trkres gr counts.tsv --condition cell_line --reference parental -o gr
    """
    import pandas as pd

    from trkres.assays.grmetrics import compare_gr, fit_gr, gr_values
    from trkres.outputs import write_tables

    sep = "," if data.suffix.lower() == ".csv" else "\t"
    try:
        frame = pd.read_csv(data, sep=sep)
    except (OSError, ValueError) as exc:
        raise TrkresError(f"cannot read {data}: {exc}") from None
    need = {"concentration"} | (
        {"GR"} if "GR" in frame.columns else {"cell_count", "cell_count__ctrl", "cell_count__time0"}
    )
    missing = sorted(need - set(frame.columns))
    if missing:
        raise TrkresError(
            "GR table lacks columns",
            expected=", ".join(sorted(need)),
            found=", ".join(map(str, frame.columns)),
        )
    if metric not in ("GR50", "GEC50"):
        raise TrkresError("unknown metric", expected="GR50 or GEC50", found=metric)
    if "GR" not in frame.columns:
        frame["GR"] = gr_values(frame)
    metrics = fit_gr(frame)
    tables = {"gr_values": frame, "gr_metrics": metrics}
    if condition:
        if condition not in metrics.columns:
            raise TrkresError(
                "condition column not found",
                expected=condition,
                found=", ".join(map(str, metrics.columns)),
            )
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

    Writes OUT/escalation.tsv and OUT/figures/dose_escalation.svg|png.

    Example:  trkres escalation escalation.tsv --time week --by drug --dose-unit nM -o esc
    """
    from trkres.assays.doseresponse_io import read_long
    from trkres.assays.escalation import escalation_figure, track_escalation
    from trkres.report.files import write_outputs

    frame = read_long(data, group=[*(by or []), time], dose_unit=dose_unit)
    try:
        series = track_escalation(frame, time=time, by=by or [], threshold=threshold)
    except ValueError:
        raise TrkresError(f"column '{time}' must hold numbers (passage, week, day)", expected="numbers",
                          found=", ".join(map(str, frame[time].unique()[:5]))) from None  # fmt: skip
    write_outputs(out, {"escalation": series}, [escalation_figure(series, time=time, by=by or [])])
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


def main() -> None:
    """Console entry point: user errors print a precise message, no traceback."""
    reuse_freed_memory()
    try:
        app()
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
