"""Protein changes of hotspot codons from genomic coordinates (minimal MAFs).

A MAF without a protein-change column still carries ``Chromosome``,
``Start_Position``, ``Reference_Allele``, ``Tumor_Seq_Allele2`` and
``NCBI_Build``. For the knowledge base's ``hotspot_codons`` (locations on
GRCh37 and GRCh38) a substitution inside the codon is translated with the
standard genetic code. Nothing is guessed: a row is translated only when its
build is named, every base of the change lies inside the codon, and its
reference allele agrees with the codon the knowledge base records; otherwise
it is kept unclassified and reported.

Rows are matched to codons by one vectorised merge on (build, chromosome,
position); only the matching rows (a handful per file) are translated, once
per distinct change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trkres.knowledge.schema import HotspotCodon, parse_residue, translate
from trkres.knowledge.store import KnowledgeBase

_BUILDS = {
    "37": "GRCh37", "grch37": "GRCh37", "hg19": "GRCh37", "grch37-lite": "GRCh37",
    "b37": "GRCh37", "hs37d5": "GRCh37", "38": "GRCh38", "grch38": "GRCh38", "hg38": "GRCh38",
}  # fmt: skip
_COMPLEMENT = str.maketrans("ACGT", "TGCA")


@dataclass(frozen=True)
class Resolved:
    """What coordinate resolution found for the rows it was given (aligned with them)."""

    protein: pd.Series  # "G12D" style, None where not resolved
    note: pd.Series  # what was done, "" where nothing
    problems: list[tuple[int, str, str]]  # (row position, expected, found) to report


def normalise_build(values: pd.Series) -> pd.Series:
    """``GRCh37``/``GRCh38`` for the spellings seen in MAFs (37, hg19, GRCh38, …), else None."""
    key = values.astype("string").str.strip().str.lower()
    return key.map(_BUILDS).astype(object).where(key.isin(list(_BUILDS)), None)


def normalise_chromosome(values: pd.Series) -> pd.Series:
    """``chr12`` → ``12``, ``chrX`` → ``X`` (text, upper-case)."""
    return values.astype("string").str.strip().str.replace(r"^(?i:chr)", "", regex=True).str.upper()


def _codon_table(knowledge: KnowledgeBase) -> pd.DataFrame:
    """One row per (build, chromosome, position) of every listed codon base."""
    rows = []
    for codon in knowledge.hotspot_codons.values():
        for build, locus in (("GRCh37", codon.grch37), ("GRCh38", codon.grch38)):
            if locus is None:
                continue
            for offset in range(3):
                rows.append((build, locus.chromosome, locus.start + offset, codon.id))
    return pd.DataFrame(rows, columns=["build", "chrom", "pos", "codon_id"]).astype(
        {"chrom": "string", "pos": np.int64}
    )


def resolve_hotspots(
    build: pd.Series,
    chrom: pd.Series,
    start: pd.Series,
    end: pd.Series,
    ref: pd.Series,
    alt: pd.Series,
    knowledge: KnowledgeBase,
) -> Resolved:
    """Translate the rows whose change lies in a hotspot codon (see the module docstring).

    All inputs are aligned Series (text except ``start``/``end``, which are
    numeric, NaN when missing). Rows with no build, or outside every codon,
    come back unresolved without a problem.
    """
    n = len(build)
    protein = pd.Series([None] * n, index=build.index, dtype=object)
    note = pd.Series([""] * n, index=build.index, dtype=object)
    problems: list[tuple[int, str, str]] = []
    table = _codon_table(knowledge)
    if not len(table) or not n:
        return Resolved(protein, note, problems)
    # Positions first (numeric, one isin): only rows at a codon base go on to text work.
    pos = pd.to_numeric(start, errors="coerce").to_numpy(dtype=np.float64)
    near = np.isin(pos, table["pos"].to_numpy(dtype=np.float64))
    if not near.any():
        return Resolved(protein, note, problems)
    at = np.flatnonzero(near)
    builds = normalise_build(build.iloc[at]).to_numpy(dtype=object)
    placed = pd.notna(builds)
    at, builds = at[placed], builds[placed]
    if not len(at):
        return Resolved(protein, note, problems)
    keys = pd.DataFrame(
        {
            "row": at,
            "build": builds,
            "chrom": normalise_chromosome(chrom.iloc[at]).to_numpy(dtype=object),
            "pos": pos[at].astype(np.int64),
        }
    ).astype({"chrom": "string"})
    hits = keys.merge(table, on=["build", "chrom", "pos"], how="inner")
    if not len(hits):
        return Resolved(protein, note, problems)
    rows = hits["row"].to_numpy()
    ref_text = dict(zip(rows, ref.iloc[rows].astype("string").str.strip().str.upper(), strict=True))
    alt_text = dict(zip(rows, alt.iloc[rows].astype("string").str.strip().str.upper(), strict=True))
    end_at = pd.to_numeric(end.iloc[rows], errors="coerce").to_numpy(dtype=np.float64)
    end_pos = dict(zip(rows, end_at, strict=True))
    answers: dict[tuple[str, str, int, float, str, str], tuple[str | None, str]] = {}
    for row, build_name, position, codon_id in hits[["row", "build", "pos", "codon_id"]].itertuples(
        index=False
    ):  # only rows inside a hotspot codon: a handful per file
        r = int(row)
        key = (
            codon_id,
            build_name,
            int(position),
            end_pos[r],
            _text(ref_text[r]),
            _text(alt_text[r]),
        )
        if key not in answers:
            answers[key] = _translate(knowledge.hotspot_codons[codon_id], *key[1:])
        change, message = answers[key]
        if change is None:
            got = (
                f"{_text(ref_text[r]) or '(empty)'}>{_text(alt_text[r]) or '(empty)'} at {position}"
            )
            problems.append((r, message, got))
            continue
        protein.iloc[r] = change
        note.iloc[r] = message
    return Resolved(protein, note, problems)


def _text(value: object) -> str:
    return "" if value is None or value is pd.NA else str(value)


def _translate(
    codon: HotspotCodon, build: str, position: int, end: float, ref: str, alt: str
) -> tuple[str | None, str]:
    """(protein change, note) or (None, what was expected) for one change at one codon."""
    locus = codon.grch37 if build == "GRCh37" else codon.grch38
    assert locus is not None
    where = f"{codon.gene} {codon.residue} codon on {build} {locus.chromosome}:{locus.start}-{locus.start + 2}"
    bases = set("ACGT")
    if not ref or not alt or not set(ref) <= bases or not set(alt) <= bases or len(ref) != len(alt):
        return None, f"a substitution (same-length A/C/G/T alleles) inside the {where}"
    last = position + len(ref) - 1
    if np.isfinite(end) and int(end) != last:
        return None, f"End_Position {last} for a {len(ref)}-base change starting at {position}"
    if last > locus.start + 2:
        return None, f"a change that stays inside the {where}"
    # Coding-strand view: index 0 is the codon's first base.
    if codon.strand == "+":
        indices = [p - locus.start for p in range(position, last + 1)]
        ref_c, alt_c = ref, alt
    else:
        indices = [locus.start + 2 - p for p in range(position, last + 1)]
        ref_c, alt_c = ref.translate(_COMPLEMENT), alt.translate(_COMPLEMENT)
    reference = list(codon.codon)
    for p, i, base in zip(range(position, last + 1), indices, ref_c, strict=True):
        if reference[i] not in {"N", base}:
            genomic = reference[i] if codon.strand == "+" else reference[i].translate(_COMPLEMENT)
            return None, (
                f"Reference_Allele {genomic} at {locus.chromosome}:{p}, as in the {where}"
                " (is NCBI_Build right?)"
            )
    mutated = list(reference)
    for i, base in zip(indices, alt_c, strict=True):
        mutated[i] = base
    ref_aa, number = parse_residue(codon.residue)
    try:
        new_aa = translate("".join(mutated))
    except ValueError:
        return (
            None,
            f"a change whose amino acid does not depend on bases the {where} leaves unstated",
        )
    change = f"{ref_aa}{number}{'=' if new_aa == ref_aa else new_aa}"
    return change, (
        f"protein change from {build} coordinates ({codon.codon}>{''.join(mutated)} in the "
        f"{codon.gene} {codon.residue} codon, location {locus.status})"
    )
