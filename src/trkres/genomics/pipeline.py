"""From files to a classification: read every input, classify, summarise the cohort."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from trkres.errors import InputError, Location
from trkres.genomics.annotate import combined_codes
from trkres.genomics.caller import MECHANISMS, ResistanceCaller
from trkres.genomics.io.clinical import read_samples, read_timeline
from trkres.genomics.io.cna import CopyNumberThresholds, read_copy_number
from trkres.genomics.io.fusions import read_fusions
from trkres.genomics.io.maf import read_maf
from trkres.genomics.io.tables import RowIssue
from trkres.genomics.io.vcf import read_vcf
from trkres.genomics.model import ParsedInput, concat_alterations, empty_alterations, from_codes
from trkres.knowledge.schema import OFF_TARGET_CLASSES, ON_TARGET_CLASSES
from trkres.knowledge.store import KnowledgeBase
from trkres.stats import wilson_interval


@dataclass
class GenomicInputs:
    """Every genomic input, parsed, with all row-level issues."""

    parsed: list[ParsedInput] = field(default_factory=list)
    samples: pd.DataFrame | None = None
    timeline: pd.DataFrame | None = None
    issues: list[RowIssue] = field(default_factory=list)
    fusion_data: bool = False  # whether any fusion/SV file was given

    def alterations(self) -> pd.DataFrame:
        frames = [p.alterations for p in self.parsed if len(p.alterations)]
        return concat_alterations(frames) if frames else empty_alterations()

    def all_issues(self) -> list[RowIssue]:
        return [*self.issues, *(i for p in self.parsed for i in p.issues)]

    def fusion_samples(self) -> set[str]:
        """Samples a fusion/SV file lists (fusion data cover them, NTRK fusion or not),
        those of rows dropped (a low-confidence Arriba call) included."""
        out: set[str] = set()
        for p in self.parsed:
            if p.format == "fusion":
                out.update(p.sample_names())
        return out


def read_genomic_inputs(
    knowledge: KnowledgeBase,
    *,
    mafs: Sequence[Path] = (),
    vcfs: Sequence[Path] = (),
    svs: Sequence[Path] = (),
    cnas: Sequence[Path] = (),
    clinical: Path | None = None,
    timeline: Path | None = None,
    names: dict[Path, str] | None = None,
    thresholds: CopyNumberThresholds | None = None,
    genome_build: str | None = None,
) -> GenomicInputs:
    """Read every file with its reader (errors name file, line and column).

    ``genome_build`` (GRCh37/GRCh38) places the coordinates of MAF rows whose
    file has no ``NCBI_Build`` column; it is never assumed.
    """
    names = names or {}
    args = [("--maf", p) for p in mafs] + [("--vcf", p) for p in vcfs]
    args += [("--sv", p) for p in svs] + [("--cna", p) for p in cnas]
    refuse_repeated_files(args, names)
    out = GenomicInputs()
    for p in mafs:
        out.parsed.append(read_maf(p, knowledge, name=names.get(p), genome_build=genome_build))
    for p in vcfs:
        out.parsed.append(read_vcf(p, knowledge, name=names.get(p)))
    for p in svs:
        out.parsed.append(read_fusions(p, knowledge, name=names.get(p)))
    for p in cnas:
        out.parsed.append(read_copy_number(p, knowledge, name=names.get(p), thresholds=thresholds))
    out.fusion_data = bool(svs)
    refuse_repeated_files(args, names, out.parsed)
    if clinical is not None:
        out.samples, issues = read_samples(clinical, knowledge)
        out.issues.extend(issues)
    if timeline is not None:
        cohort = None if out.samples is None else set(out.samples["patient_id"].astype(str))
        out.timeline, issues = read_timeline(timeline, knowledge, cohort)
        out.issues.extend(issues)
    if out.samples is not None and clinical is not None:
        out.issues.extend(unlisted_samples(out.parsed, out.samples, clinical))
    return out


def refuse_repeated_files(
    args: Sequence[tuple[str, Path]],
    names: dict[Path, str],
    parsed: Sequence[ParsedInput] | None = None,
) -> None:
    """Refuse one file given twice: its rows would count twice.

    Before reading (``parsed`` None): the same resolved path. After reading
    (``parsed`` in ``args`` order): identical bytes (SHA-256, hashed only when
    another file has the same size) naming the same samples. Identical
    one-sample caller tables (STAR-Fusion, Arriba) are different samples: each
    is named after its file.
    """

    def label(flag: str, path: Path) -> str:
        return f"input '{names[path]}' ({path})" if path in names else f"{flag} {path}"

    seen: dict[Path, tuple[str, Path]] = {}
    by_size: dict[int, list[tuple[str, Path]]] = {}
    for flag, path in args:
        try:
            resolved, size = path.resolve(), path.stat().st_size
        except OSError:
            continue  # the reader reports a missing or unreadable file
        if resolved in seen:
            first = seen[resolved]
            raise InputError(
                "the same file is given twice: its alterations would count twice",
                location=Location(file=path),
                expected="each genomic file once",
                found=f"{label(*first)} and {label(flag, path)}",
            )
        seen[resolved] = (flag, path)
        by_size.setdefault(size, []).append((flag, path))
    if parsed is None:
        return
    parsed_of = {arg[1]: p for arg, p in zip(args, parsed, strict=True)}
    for group in by_size.values():
        if len(group) < 2:
            continue
        samples_of = {path: frozenset(parsed_of[path].sample_names()) for _, path in group}
        digests: dict[tuple[str, frozenset[str]], tuple[str, Path]] = {}
        for flag, path in group:
            with path.open("rb") as fh:
                digest = (hashlib.file_digest(fh, "sha256").hexdigest(), samples_of[path])
            if digest in digests:
                raise InputError(
                    "two genomic files have identical contents (SHA-256): their alterations "
                    "would count twice",
                    location=Location(file=path),
                    expected="each genomic file once",
                    found=f"{label(*digests[digest])} and {label(flag, path)}",
                )
            digests[digest] = (flag, path)


def unlisted_samples(
    parsed: Sequence[ParsedInput], samples: pd.DataFrame, clinical: Path
) -> list[RowIssue]:
    """An issue row for every sample a genomic file names that the clinical file lacks.

    Such a sample is kept as a patient of its own (no clinical data). An id
    that matches a clinical sample only when case is ignored is said so, never
    merged: ``RUSSO-P1`` and ``russo-p1`` may be different samples.
    """
    known = set(samples["sample_id"].astype(str).tolist())
    folded: dict[str, list[str]] = {}
    for sid in sorted(known):
        folded.setdefault(sid.casefold(), []).append(sid)
    issues = []
    for p in parsed:
        unknown = p.sample_names() - known
        if not unknown:
            continue
        for sid, (line, column) in p.listed_samples(locate=unknown).items():
            if sid in known:
                continue
            found = repr(sid)
            near = folded.get(sid.casefold())
            if near:
                found += (
                    " (matches clinical sample "
                    + " / ".join(repr(n) for n in near)
                    + " only if case is ignored: not merged)"
                )
            issues.append(
                RowIssue(str(p.path), line, column,
                         f"a sample listed in the clinical file {clinical.name}", found,
                         "kept as a patient of its own, without clinical data")
            )  # fmt: skip
    return issues


#: Columns of OUT/alterations.tsv (the canonical table plus annotation).
ALTERATION_OUTPUT = [
    "sample_id", "patient_id", "sample_type", "collection_day", "timepoint", "gene",
    "alteration_type", "protein_change", "partner_gene", "fusion", "copy_number", "alt_count",
    "ref_count", "vaf", "reference_af", "reference_af_source", "vaf_ratio", "clonality",
    "alteration_class", "counts_as", "class_fact", "known_fact", "fact_status",
    "paralog_equivalents", "timing", "therapy_strategies", "unverified_strategies",
    "therapy_rules", "ch_flag",
    "annotation_note", "target_note", "normalisation", "transcript", "input", "source_row",
]  # fmt: skip


@dataclass
class GenomicResult:
    """A classification with its inputs, ready for tables and figures."""

    inputs: GenomicInputs
    caller: ResistanceCaller

    @property
    def alterations(self) -> pd.DataFrame:
        return self.caller.alterations_

    @property
    def samples(self) -> pd.DataFrame:
        return self.caller.samples_

    @property
    def patients(self) -> pd.DataFrame:
        return self.caller.patients_

    def statements(self) -> list[str]:
        """What the reader of the tables must know: assumptions and opt-ins in force."""
        out = []
        status = self.patients["fusion_status"]
        n_unknown, n_assumed = int((status == "unknown").sum()), int((status == "assumed").sum())
        if n_unknown:
            out.append(
                f"{n_unknown} patient(s) without fusion data are fusion_unknown (no strategy); "
                "use --assume-trk-fusion (study option assume_trk_fusion) if every sample "
                "carries a TRK fusion"
            )
        if n_assumed:
            out.append(
                f"TRK fusion ASSUMED, not measured, for {n_assumed} patient(s) "
                "(--assume-trk-fusion / assume_trk_fusion)"
            )
        if self.caller.include_unverified:
            out.append("needs_review facts and rules INCLUDED in the calls (--include-unverified)")
        else:
            n = int((self.patients["unverified_alterations"] != "").sum())
            if n:
                out.append(
                    f"{n} patient(s) have alterations resting on needs_review facts: listed in "
                    "unverified_* columns, not in the calls (--include-unverified / study option "
                    "include_unverified to count them)"
                )
        return out

    def issues_frame(self) -> pd.DataFrame:
        """Row-level issues: file, line, column, expected, found, action."""
        rows = [vars(i) for i in self.inputs.all_issues()]
        return pd.DataFrame(rows, columns=["file", "line", "column", "expected", "found", "action"])

    def annotated_inputs(self) -> dict[str, pd.DataFrame]:
        """Each MAF/VCF/fusion input's rows with trkres columns appended (OncoKB style).

        Rows that gave no alteration (dropped duplicates) get empty columns.
        Copy-number matrices have one row per gene and many samples: for them
        the table lists the calls (one row per sample and gene) instead.
        """
        alts = self.alterations
        needed = list(dict.fromkeys(["sample_id", "source_row", *ANNOTATED.values(),
                                     "annotation_note", "target_note", "normalisation"]))  # fmt: skip
        out: dict[str, pd.DataFrame] = {}
        for parsed in self.inputs.parsed:
            mine = alts.loc[(alts["input"] == parsed.name).to_numpy(), needed]
            if parsed.format == "copy_number":
                ann = pd.DataFrame({"trkres_sample": mine["sample_id"].to_numpy()})
                for name, column in ANNOTATED.items():
                    ann[name] = mine[column].to_numpy()
                out[parsed.name] = ann
                continue
            table = parsed.table.to_pandas()
            at = mine["source_row"].to_numpy()
            extra: dict[str, object] = {}
            for name, column in ANNOTATED.items():
                extra[name] = _scatter(len(table), at, mine[column])
            # The note joins three categorical columns: built once per distinct combination.
            parts = ["annotation_note", "target_note", "normalisation"]
            codes, distinct = combined_codes(mine, parts)
            labels = [
                f"{a} {t} {m}".strip() for a, t, m in distinct.astype(str).itertuples(index=False)
            ]
            note = pd.Series(from_codes(codes, labels or [""]), index=mine.index)
            extra["trkres_note"] = _scatter(len(table), at, note)
            out[parsed.name] = pd.concat([table, pd.DataFrame(extra)], axis=1)
        return out


#: Annotation columns appended to each input's rows: output name → alteration column.
ANNOTATED = {
    "trkres_gene": "gene", "trkres_protein_change": "protein_change",
    "trkres_alteration_type": "alteration_type", "trkres_class": "alteration_class",
    "trkres_counts_as": "counts_as", "trkres_fact": "class_fact",
    "trkres_fact_status": "fact_status", "trkres_timing": "timing", "trkres_vaf": "vaf",
    "trkres_vaf_ratio": "vaf_ratio", "trkres_clonality": "clonality",
    "trkres_therapy_strategies": "therapy_strategies",
}  # fmt: skip


def _scatter(n: int, rows: np.ndarray, values: pd.Series) -> object:
    """A length-``n`` column with ``values`` at ``rows`` (empty or NaN elsewhere)."""
    if values.dtype.kind == "f":
        out = np.full(n, np.nan)
        out[rows] = values.to_numpy()
        return out
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = np.zeros(n, dtype=np.int64)
        codes[rows] = values.cat.codes.to_numpy() + 1
        return from_codes(codes, ["", *map(str, values.cat.categories.tolist())])
    # Text: one arrow take from ['', *values] (no Python object per row).
    text = pa.array(values.astype("str").array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    take = np.zeros(n, dtype=np.int64)
    take[rows] = np.arange(1, len(rows) + 1)
    column = pa.concat_arrays([pa.array([""], text.type), text]).take(pa.array(take))
    return pd.Series(column.to_pandas(), dtype="str").array


def classify_inputs(
    inputs: GenomicInputs,
    knowledge: KnowledgeBase,
    *,
    subclonal_ratio: float = 0.5,
    assume_trk_fusion: bool = False,
    include_unverified: bool = False,
) -> GenomicResult:
    """Run :class:`ResistanceCaller` on parsed inputs.

    Fusion data cover the samples an SV file lists and those whose fusion the
    clinical file states; other patients are ``fusion_unknown`` unless
    ``assume_trk_fusion``.
    """
    caller = ResistanceCaller(
        knowledge,
        subclonal_ratio=subclonal_ratio,
        assume_trk_fusion=assume_trk_fusion,
        include_unverified=include_unverified,
    ).fit(
        inputs.alterations(),
        inputs.samples,
        inputs.timeline,
        fusion_samples=inputs.fusion_samples(),
    )
    return GenomicResult(inputs=inputs, caller=caller)


def wilson_table(counts: pd.Series, total: int, label: str) -> pd.DataFrame:
    """Counts with proportions and Wilson 95% confidence intervals (percent)."""
    n = counts.to_numpy(dtype=np.int64)
    low, high = wilson_interval(n, np.full(len(n), total))
    pct = 100.0 * n / total if total > 0 else np.full(len(n), np.nan)
    return pd.DataFrame(
        {
            label: counts.index,
            "n": n,
            "total": total,
            "percent": pct,
            "ci95_low_percent": 100.0 * np.asarray(low),
            "ci95_high_percent": 100.0 * np.asarray(high),
        }
    )


def mechanism_frequencies(patients: pd.DataFrame) -> pd.DataFrame:
    """Patients per resistance mechanism, with Wilson 95% CIs (every mechanism listed)."""
    counts = patients["mechanism"].value_counts().reindex(list(MECHANISMS), fill_value=0)
    return wilson_table(counts, len(patients), "mechanism")


def class_frequencies(alterations: pd.DataFrame, patients: pd.DataFrame) -> pd.DataFrame:
    """Patients with at least one counted alteration of each class after a TRK inhibitor."""
    post = alterations[(alterations["counts_as"] != "") & (alterations["timing"] != "pre_existing")]
    classes = sorted(ON_TARGET_CLASSES) + sorted(OFF_TARGET_CLASSES)
    counts = post.groupby("alteration_class")["patient_id"].nunique().reindex(classes, fill_value=0)
    return wilson_table(counts, len(patients), "alteration_class")
