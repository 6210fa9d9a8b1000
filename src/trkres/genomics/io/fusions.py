"""Fusion and structural-variant readers, and fusion-name parsing.

Formats: cBioPortal ``data_sv.txt`` (``Site1_Hugo_Symbol``/``Site2_Hugo_Symbol``),
the older ``data_fusions.txt`` and OncoKB's fusion table (``Fusion`` names),
OncoKB's SV table (``GeneA``/``GeneB``), and generic tables from STAR-Fusion
(``#FusionName``), Arriba (``#gene1``/``gene2``) and PCGR (``FusionGene``).
Names may use any separator seen in the wild (``::``, ``--``, ``__``, ``/``,
``-``) and gene symbols may contain hyphens. The 3' kinase partner is decided
from the genes (an NTRK gene), never from the column order.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location
from trkres.genomics.io.tables import RowIssue, TableRead, read_delimited, resolve_columns
from trkres.genomics.model import ParsedInput, conform
from trkres.knowledge.store import KnowledgeBase

SV_COLUMNS = {
    "sample_id": [
        "Sample_Id",
        "Tumor_Sample_Barcode",
        "SampleID",
        "Sample",
        "Tumor_Sample",
        "Tumor_Sample_Id",
        "TumorSampleBarcode",
        "Sample_Name",
        "SampleName",
        "Sample ID",
        "Sample Name",
        "Tumor_Sample_Name",
        "Tumor_Id",
        "Tumor",
    ],
    "site1": ["Site1_Hugo_Symbol", "GeneA", "#gene1", "gene1", "Gene1", "Hugo_Symbol_1"],
    "site2": ["Site2_Hugo_Symbol", "GeneB", "gene2", "Gene2", "Hugo_Symbol_2"],
    "fusion": ["Fusion", "FusionGene", "#FusionName", "FusionName", "Event_Info", "fusion"],
    "sv_class": ["Class", "Sv_Type", "SV_Type", "sv_type"],
    "confidence": ["confidence"],
}
#: Arriba's confidence levels that are not a call (its own guide: low-confidence
#: predictions are mostly artefacts).
_LOW_CONFIDENCE = frozenset({"low"})

_SUFFIX = re.compile(r"\s*(fusion|rearrangement|translocation)\s*$", re.IGNORECASE)
_INTRAGENIC = re.compile(r"^(?P<gene>.+?)[\s\-_]+intragenic$", re.IGNORECASE)
_HARD_SEPARATORS = ("::", "--", "__", "/")


def split_fusion_name(name: str, knowledge: KnowledgeBase) -> tuple[str, str] | None:
    """``"ETV6--NTRK3"`` → ``("ETV6", "NTRK3")``; ``None`` when it cannot be split.

    Hard separators (``::``, ``--``, ``__``, ``/``) are split once. A single
    ``-`` is ambiguous when symbols contain hyphens, so an NTRK (or other known)
    gene at either end decides; with one hyphen and no known gene it splits
    there.
    """
    text = _SUFFIX.sub("", str(name).strip())
    if not text:
        return None
    m = _INTRAGENIC.match(text)
    if m:  # an intragenic rearrangement: one gene, no partner
        return m["gene"].strip(), m["gene"].strip()
    for sep in _HARD_SEPARATORS:
        if sep in text:
            a, b = text.split(sep, 1)
            a, b = a.strip(), b.strip()
            return (a, b) if a and b else None
    if "-" not in text:
        return None
    known = knowledge.gene_aliases
    cuts = [i for i, ch in enumerate(text) if ch == "-"]
    scored = []
    for i in cuts:
        a, b = text[:i].strip(), text[i + 1 :].strip()
        if not a or not b:
            continue
        score = (knowledge.normalise_gene(a) in knowledge.trk_genes) + (
            knowledge.normalise_gene(b) in knowledge.trk_genes
        )
        score = 2 * score + (a.upper() in known) + (b.upper() in known)
        scored.append((score, a, b))
    if not scored:
        return None
    best = max(s[0] for s in scored)
    top = [s for s in scored if s[0] == best]
    if len(top) == 1 and (best > 0 or len(cuts) == 1):
        return top[0][1], top[0][2]
    return None


def orient(a: str, b: str, knowledge: KnowledgeBase) -> tuple[str, str]:
    """(5' partner, 3' gene): the NTRK gene is 3'; otherwise keep the given order."""
    a_trk, b_trk = a in knowledge.trk_genes, b in knowledge.trk_genes
    if a_trk and not b_trk:
        return b, a
    return a, b


#: Header words that mean "this column names the sample" when no alias matched.
_SAMPLE_LIKE = re.compile(
    r"sample|barcode|patient|specimen|subject|^tumou?r([ _]?id)?$|^case([ _]?id)?$", re.IGNORECASE
)


def _one_sample_format(read: TableRead, cols: dict[str, str | None]) -> str:
    """Name the one-sample caller format of a table without a sample column, or refuse it.

    STAR-Fusion (``#FusionName``), Arriba (``#gene1``/``gene2``) and PCGR
    (``FusionGene``) write one file per sample. Any other table without a
    recognised sample column (cBioPortal, OncoKB) holds many samples, and a
    column that looks like a sample column but is not recognised must not be
    guessed: both are an :class:`InputError` listing the columns found.
    """
    columns = read.columns
    lookalike = [c for c in columns if _SAMPLE_LIKE.search(c)]
    fusion = (cols.get("fusion") or "").lstrip("#").lower()
    site1 = (cols.get("site1") or "").lstrip("#").lower()
    fmt = (
        "STAR-Fusion" if fusion == "fusionname"
        else "PCGR" if fusion == "fusiongene"
        else "Arriba" if site1 == "gene1"
        else None
    )  # fmt: skip
    if fmt is None or lookalike:
        raise InputError(
            "fusion/SV file has no recognised sample column"
            + (f" ('{lookalike[0]}' is not a known sample column name)" if lookalike else ""),
            location=Location(file=read.path, line=read.header_line),
            expected="a sample column named one of: "
            + ", ".join(SV_COLUMNS["sample_id"])
            + " (or a one-sample STAR-Fusion/Arriba/PCGR table)",
            found="columns " + ", ".join(columns[:20]) + (" …" if len(columns) > 20 else ""),
            hint="rename the sample column to Tumor_Sample_Barcode",
        )
    return fmt


def _cells(values: pd.Series) -> list[str | None]:
    """A text column as a list, empty cells as None (pandas gives NaN, which is truthy)."""
    cells: list[str | None] = values.astype(object).where(values.notna(), None).tolist()
    return cells


def read_fusions(
    path: Path,
    knowledge: KnowledgeBase,
    *,
    name: str | None = None,
    default_sample: str | None = None,
) -> ParsedInput:
    """Read any supported fusion/SV table into canonical ``fusion`` rows.

    Tables without a sample column (STAR-Fusion, Arriba, PCGR) take
    ``default_sample`` (by default the file's stem). A fusion listed once per
    partner gene (cBioPortal ``data_fusions.txt``) gives one row.
    """
    label = name or path.stem
    read = read_delimited(
        path, what="fusion/SV", known_columns=frozenset(a for v in SV_COLUMNS.values() for a in v)
    )
    cols = resolve_columns(read, SV_COLUMNS, what="fusion/SV", required=["site1|fusion"])
    frame = read.frame
    n = len(frame)
    issues: list[RowIssue] = list(read.issues)
    if cols["sample_id"]:
        sample = frame[cols["sample_id"]].str.strip()
    else:
        # A one-sample caller table (STAR-Fusion, Arriba, PCGR) is named after its file
        # (or --name); anything else without a sample column is refused here.
        _one_sample_format(read, cols)
        sample = pd.Series([default_sample or label] * n, index=frame.index, dtype=object)
    gene_a: list[str | None] = [None] * n
    gene_b: list[str | None] = [None] * n
    if cols["site1"] and cols["site2"]:
        gene_a = _cells(frame[cols["site1"]])
        gene_b = _cells(frame[cols["site2"]])
    names = _cells(frame[cols["fusion"]]) if cols["fusion"] else [None] * n
    # Parse distinct names once.
    parsed_names: dict[str, tuple[str, str] | None] = {}
    rows = []
    samples = sample.tolist()  # plain values: no pandas indexing inside the loop
    arriba = (cols.get("site1") or "").lstrip("#").lower() == "gene1"
    confidence = (
        frame[cols["confidence"]].fillna("").str.strip().str.lower().tolist()
        if arriba and cols.get("confidence")
        else [""] * n
    )
    for i in range(n):
        a, b = gene_a[i], gene_b[i]
        if (not a or not b) and names[i]:
            key = str(names[i])
            if key not in parsed_names:
                parsed_names[key] = split_fusion_name(key, knowledge)
            pair = parsed_names[key]
            if pair is None:
                issues.append(
                    RowIssue(str(path), read.line_of(i), cols["fusion"],
                             "a fusion name such as ETV6::NTRK3 or LMNA-NTRK1", repr(key), "dropped")
                )  # fmt: skip
                continue
            a, b = pair
        elif not a or not b:
            issues.append(
                RowIssue(str(path), read.line_of(i), cols["site1"] or cols["fusion"],
                         "two partner genes", " and ".join(repr(g) if g else "(empty)" for g in (a, b)),
                         "dropped")
            )  # fmt: skip
            continue
        if confidence[i] in _LOW_CONFIDENCE:
            issues.append(
                RowIssue(str(path), read.line_of(i), cols["confidence"],
                         "an Arriba call of medium or high confidence",
                         f"{a}/{b} of confidence '{confidence[i]}'", "dropped (low confidence)")
            )  # fmt: skip
            continue
        if pd.isna(samples[i]):
            issues.append(
                RowIssue(str(path), read.line_of(i), cols["sample_id"], "a sample id",
                         "an empty cell", "dropped")
            )  # fmt: skip
            continue
        rows.append((i, str(samples[i]), str(a).strip(), str(b).strip()))
    table = pd.DataFrame(rows, columns=["source_row", "sample_id", "a", "b"])
    if len(table):
        table["a"] = table["a"].map(knowledge.normalise_gene)
        table["b"] = table["b"].map(knowledge.normalise_gene)
        oriented = [orient(a, b, knowledge) for a, b in zip(table["a"], table["b"], strict=True)]
        table["partner_gene"] = [o[0] for o in oriented]
        table["gene"] = [o[1] for o in oriented]
    else:
        table["partner_gene"] = pd.Series([], dtype=object)
        table["gene"] = pd.Series([], dtype=object)
        table = table.astype({"sample_id": object, "a": object, "b": object})
    table["fusion"] = table["partner_gene"] + "::" + table["gene"]
    # One fusion per sample (data_fusions.txt lists it once per gene).
    dup = table.duplicated(["sample_id", "fusion"])
    table = table.loc[~dup.to_numpy()]
    table["alteration_type"] = "fusion"
    table["input"] = label
    table["source_row"] = table["source_row"].astype(np.int64)
    alterations = conform(table.drop(columns=["a", "b"]))
    return ParsedInput(
        name=label, path=path, format="fusion", table=read.arrow, alterations=alterations,
        issues=issues, rows_in=read.rows_in, sample_cells=sample,
        sample_column=cols["sample_id"], line_of=read.line_of,
    )  # fmt: skip
