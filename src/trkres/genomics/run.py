"""``run_classify``: read every sequencing input, classify, summarise the cohort.

The one orchestration of the genomics analysis: ``trkres classify`` (parse →
``run_classify`` → write), the study's ``genomics`` section (``run_classify`` →
Section) and :func:`trkres.genomics.classify` (the notebook API) all call it.
Nothing is written and no figure is drawn here.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Union

import pandas as pd

from trkres.errors import InputError, Location, TrkresError
from trkres.genomics.io.cna import CopyNumberThresholds
from trkres.genomics.io.tables import RowIssue
from trkres.genomics.options import GenomicsOptions
from trkres.genomics.pipeline import (
    ALTERATION_OUTPUT,
    GenomicResult,
    class_frequencies,
    classify_inputs,
    mechanism_frequencies,
    read_genomic_inputs,
)
from trkres.study.registry import ProgressCallback, no_progress

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase
    from trkres.outputs import TableFormat

__all__ = ["ClassifyInputs", "ClassifyResult", "run_classify"]

#: An input: a file path, or (through the API) a table in memory.
Source = Union[Path, pd.DataFrame]  # noqa: UP007  (a runtime alias)


@dataclass
class ClassifyInputs:
    """The sequencing inputs of one classification.

    Each genomic kind takes any number of sources: file paths (what the CLI
    and the study give) or in-memory DataFrames with the same columns as the
    files (what :func:`trkres.genomics.classify` gives). VCFs are files only.
    ``names`` gives a file the name its rows carry in the ``input`` column and
    the annotated table it gets (default: the file's stem).
    """

    maf: Sequence[Source] = ()
    vcf: Sequence[Path] = ()
    sv: Sequence[Source] = ()
    cna: Sequence[Source] = ()
    clinical: Source | None = None
    timeline: Source | None = None
    names: Mapping[Path, str] = field(default_factory=dict)

    def check(self) -> None:
        """Refuse inputs with nothing to classify (no MAF, VCF, SV or copy-number input)."""
        if not (len(self.maf) or len(self.vcf) or len(self.sv) or len(self.cna)):
            raise InputError(
                "nothing to classify",
                expected="at least one --maf, --vcf, --sv or --cna file",
                found="none",
            )


@dataclass
class ClassifyResult:
    """A classification: every output table of ``trkres classify`` as a DataFrame.

    Attributes
    ----------
    alterations:
        Every alteration, one row per alteration and sample, annotated
        (``OUT/alterations.tsv``): class, whether it counts as on/off-target
        resistance, timing (acquired / pre_existing), VAF (0-1), VAF ratio to the
        sample's reference allele fraction, clonality, therapy strategies.
    samples:
        One row per sample: fusion, mechanism, on/off-target alterations,
        therapy strategies with evidence, review flags (``OUT/samples.tsv``).
    patients:
        One row per patient across timepoints (``OUT/patients.tsv``).
    mechanisms:
        Patients per resistance mechanism, percent with Wilson 95% CIs
        (``OUT/mechanisms.tsv``).
    classes:
        Patients with a counted alteration of each resistance class after a
        TRK inhibitor, percent with Wilson 95% CIs (``OUT/classes.tsv``).
    issues:
        Input rows with problems: file, line, column, expected, found, action
        (``OUT/issues.tsv``).
    annotated:
        Each MAF/VCF/fusion input's rows with ``trkres_*`` columns appended; the
        calls of a copy-number input (``OUT/annotated/<input>.tsv``). Built on
        first use.
    statements:
        What a reader of the tables must know: assumptions and opt-ins in force.
    timeline:
        The treatment timeline as read (days from the study's day 0), or None.
    options:
        The options the classification ran with.
    facts_used:
        Knowledge-base facts and rules the calls rest on.
    """

    alterations: pd.DataFrame
    samples: pd.DataFrame
    patients: pd.DataFrame
    mechanisms: pd.DataFrame
    classes: pd.DataFrame
    issues: pd.DataFrame
    statements: list[str]
    timeline: pd.DataFrame | None
    options: GenomicsOptions
    facts_used: set[str]
    #: Every row issue, as objects (the CLI prints the first few).
    row_issues: list[RowIssue] = field(repr=False)
    _classification: GenomicResult = field(repr=False)

    @cached_property
    def annotated(self) -> dict[str, pd.DataFrame]:
        """Each input's rows with trkres columns appended (see the class docstring)."""
        return self._classification.annotated_inputs()

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table ``trkres classify`` writes, by output name (without suffix)."""
        tables = {
            "alterations": self.alterations,
            "samples": self.samples,
            "patients": self.patients,
            "mechanisms": self.mechanisms,
            "classes": self.classes,
            "issues": self.issues,
        }
        return tables | {f"annotated/{name}": frame for name, frame in self.annotated.items()}

    def write(self, out: Path | str, *, table_format: TableFormat = "tsv") -> list[Path]:
        """Write every table to the folder ``out`` (replaced atomically); returns the paths.

        As TSV, or as Parquet (typed columns, categories kept; about six times
        smaller for cohorts of millions of rows).
        """
        from trkres.outputs import write_tables

        return write_tables(Path(out), self.tables(), table_format=table_format)

    def __repr__(self) -> str:
        return (
            f"ClassifyResult({len(self.alterations)} alterations, {len(self.samples)} samples, "
            f"{len(self.patients)} patients, {len(self.issues)} issues)"
        )


def run_classify(
    inputs: ClassifyInputs,
    options: GenomicsOptions | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
    progress: ProgressCallback = no_progress,
) -> ClassifyResult:
    """Read every input, classify resistance per sample and patient, summarise the cohort.

    ``knowledge`` defaults to the shipped knowledge base. Raises
    :class:`~trkres.errors.InputError` when there is nothing to classify and
    for unreadable inputs (file, line, column, expected, found); rows with
    problems are kept or dropped and listed in ``issues``.
    """
    options = options if options is not None else GenomicsOptions()
    inputs.check()
    if knowledge is None:
        from trkres.knowledge import load_knowledge

        knowledge = load_knowledge()
    progress(0, 3, "reading sequencing inputs")
    with _as_files(inputs) as (files, labels):
        try:
            read = read_genomic_inputs(
                knowledge,
                mafs=files["maf"], vcfs=files["vcf"], svs=files["sv"], cnas=files["cna"],
                clinical=files["clinical"][0] if files["clinical"] else None,
                timeline=files["timeline"][0] if files["timeline"] else None,
                names={**inputs.names, **{p: n for p, (n, _) in labels.items()}},
                genome_build=options.genome_build,
                thresholds=CopyNumberThresholds(
                    options.amp_copies, options.del_copies, options.amp_log2, options.del_log2
                ),
            )  # fmt: skip
        except TrkresError as exc:
            raise _relabel_error(exc, labels) from None
        if labels:
            _relabel_issues(read, labels)
    progress(1, 3, "classifying")
    classified = classify_inputs(
        read,
        knowledge,
        subclonal_ratio=options.subclonal_ratio,
        assume_trk_fusion=options.assume_trk_fusion,
        include_unverified=options.include_unverified,
    )
    patients = classified.patients
    return ClassifyResult(
        alterations=classified.alterations[ALTERATION_OUTPUT],
        samples=classified.samples,
        patients=patients,
        mechanisms=mechanism_frequencies(patients),
        classes=class_frequencies(classified.alterations, patients),
        issues=classified.issues_frame(),
        statements=classified.statements(),
        timeline=read.timeline,
        options=options,
        facts_used=classified.caller.facts_used_,
        row_issues=read.all_issues(),
        _classification=classified,
    )


# ------------------------------------------------------------ in-memory tables

_KINDS = ("maf", "vcf", "sv", "cna", "clinical", "timeline")


@contextmanager
def _as_files(
    inputs: ClassifyInputs,
) -> Iterator[tuple[dict[str, list[Path]], dict[Path, tuple[str, str]]]]:
    """Paths for every input: DataFrames are written as TSV to a temporary folder
    (read back by the same strict readers as files). Yields the paths per kind
    and, for each temporary file, (input name, label used in messages)."""
    given: dict[str, list[Source]] = {
        "maf": list(inputs.maf), "vcf": list(inputs.vcf), "sv": list(inputs.sv),
        "cna": list(inputs.cna),
        "clinical": [] if inputs.clinical is None else [inputs.clinical],
        "timeline": [] if inputs.timeline is None else [inputs.timeline],
    }  # fmt: skip
    if not any(isinstance(s, pd.DataFrame) for sources in given.values() for s in sources):
        yield (
            {k: [Path(s) for s in v if not isinstance(s, pd.DataFrame)] for k, v in given.items()},
            {},
        )
        return
    with tempfile.TemporaryDirectory(prefix="trkres-classify-") as tmp:
        files: dict[str, list[Path]] = {}
        labels: dict[Path, tuple[str, str]] = {}
        for kind in _KINDS:
            files[kind] = []
            for k, source in enumerate(given[kind]):
                if not isinstance(source, pd.DataFrame):
                    files[kind].append(Path(source))
                    continue
                name = kind if len(given[kind]) == 1 else f"{kind}_{k + 1}"
                path = Path(tmp) / f"{name}.tsv"
                path.write_bytes(_frame_tsv(source, name))
                files[kind].append(path)
                labels[path] = (name, f"{name} (DataFrame: line 1 is the header, line 2 row 0)")
        yield files, labels


def _frame_tsv(frame: pd.DataFrame, name: str) -> bytes:
    """A DataFrame as TSV bytes for the readers; refuses cells that TSV cannot hold."""
    if frame.columns.nlevels != 1:
        raise InputError(
            f"{name}: a table with one header row",
            expected="single-level column names",
            found=f"{frame.columns.nlevels} column levels",
        )
    columns = [str(c) for c in frame.columns]
    for c in columns:
        if any(ch in c for ch in "\t\n\r"):
            raise InputError(
                f"{name}: a column name holds a tab or a line break",
                location=Location(file=name, column=repr(c)),
                expected="column names without tabs or line breaks",
                found=repr(c),
            )
    table = frame.set_axis(columns, axis=1)
    for position, label in enumerate(columns):
        col = table.iloc[:, position]
        if col.dtype.kind in "biufcmM":
            continue
        values = col.astype(str)
        bad = values.str.contains("[\t\n\r]", regex=True).to_numpy(dtype=bool)
        if bad.any():
            row = int(bad.nonzero()[0][0])
            raise InputError(
                f"{name}: a cell holds a tab or a line break",
                location=Location(file=name, row=row + 1, column=label),
                expected="text without tabs or line breaks",
                found=repr(values.iloc[row])[:80],
            )
    text: str = table.to_csv(sep="\t", index=False, na_rep="", lineterminator="\n")
    return text.encode("utf-8", errors="surrogatepass")


def _relabel(text: str, labels: dict[Path, tuple[str, str]]) -> str:
    for path, (_, label) in labels.items():
        text = text.replace(str(path), label)
    return text


def _relabel_error(exc: TrkresError, labels: dict[Path, tuple[str, str]]) -> TrkresError:
    """The error with temporary file paths replaced by the input's label."""
    if not labels:
        return exc
    if exc.location is not None and exc.location.file is not None:
        exc.location = dataclasses.replace(
            exc.location, file=_relabel(str(exc.location.file), labels)
        )
    exc.message = _relabel(exc.message, labels)
    if exc.found is not None:
        exc.found = _relabel(exc.found, labels)
    exc.args = (exc.message,)
    return exc


def _relabel_issues(read: object, labels: dict[Path, tuple[str, str]]) -> None:
    """Row issues of in-memory tables name the input's label, not a temporary file."""
    from trkres.genomics.pipeline import GenomicInputs

    assert isinstance(read, GenomicInputs)

    def fix(issues: list[RowIssue]) -> list[RowIssue]:
        return [dataclasses.replace(i, file=_relabel(i.file, labels)) for i in issues]

    read.issues = fix(read.issues)
    for parsed in read.parsed:
        parsed.issues = fix(parsed.issues)
