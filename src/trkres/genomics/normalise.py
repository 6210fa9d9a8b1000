"""Normalisation shared by the mutation readers: genes, protein changes, numbering.

Everything runs on distinct values (``factorize``) and is broadcast back, so a
million rows cost a few vectorised passes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trkres.genomics.io.tables import RowIssue, TableRead
from trkres.genomics.model import from_codes, text
from trkres.genomics.protein import parse_protein_changes
from trkres.knowledge.store import KnowledgeBase


def normalise_genes(values: pd.Series, knowledge: KnowledgeBase) -> pd.Series:
    """Official symbols for gene names and aliases (``TRKA`` → ``NTRK1``), '' for missing.

    Categorical: each distinct name is looked up once and the rows keep codes.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = [*(knowledge.normalise_gene(str(u)) for u in uniques), ""]
    take = np.where(codes < 0, len(uniques), codes)
    return pd.Series(from_codes(take, mapped), index=values.index)


def coerce_numeric(
    read: TableRead,
    column: str | None,
    issues: list[RowIssue],
    expected: str,
    *,
    upper: float | None = None,
) -> pd.Series:
    """A numeric column; non-numeric, infinite, negative or above-``upper`` cells become
    missing and are reported (kept)."""
    frame = read.frame
    if column is None:
        return pd.Series(np.nan, index=frame.index, dtype=np.float64)
    text_values = frame[column]
    raw = text_values.array
    values: pd.Series | None = None
    if hasattr(raw, "__arrow_array__"):
        try:  # arrow's cast is fast and strict: any bad cell falls back to the slow path
            cast = pc.cast(pa.array(raw), pa.float64())
            values = pd.Series(cast.to_numpy(zero_copy_only=False), index=frame.index)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = None
    if values is None:
        values = pd.to_numeric(text_values, errors="coerce").astype(np.float64)
        bad = np.flatnonzero(values.isna().to_numpy() & text_values.notna().to_numpy())
        for row in bad:
            issues.append(
                RowIssue(str(read.path), read.line_of(int(row)), column, f"a number ({expected})",
                         repr(text_values.iloc[row]), "kept, value missing")
            )  # fmt: skip
    # Infinite, negative or (for fractions) above-one values are impossible: each is
    # reported and treated as missing. One vectorised test; the loop runs on bad cells only.
    array = values.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        impossible = np.isinf(array) | (array < 0)
        if upper is not None:
            impossible |= array > upper
    bad_rows = np.flatnonzero(impossible)
    wanted = f"a finite {expected} ≥ 0" + (f" and ≤ {upper:g}" if upper is not None else "")
    for row in bad_rows:
        issues.append(
            RowIssue(str(read.path), read.line_of(int(row)), column, wanted,
                     repr(text_values.iloc[row]), "kept, value missing")
        )  # fmt: skip
    if len(bad_rows):
        values = values.copy()
        values.iloc[bad_rows] = np.nan
    return values


def transcript_ids(knowledge: KnowledgeBase, gene: str, transcript: str) -> frozenset[str]:
    """Unversioned IDs naming ``transcript``: itself plus the RefSeq/Ensembl twin in genes.yaml."""
    want = transcript.split(".")[0]
    ids = {want}
    for fact in knowledge.genes.values():
        if fact.symbol != gene:
            continue
        for t in fact.transcripts:
            pair = {i.split(".")[0] for i in (t.ensembl, t.refseq) if i}
            if want in pair:
                ids |= pair
    return frozenset(ids)


def apply_residue_maps(frame: pd.DataFrame, knowledge: KnowledgeBase) -> pd.DataFrame:
    """Renumber residues listed in the knowledge base's residue maps (BRAF V640 → V600).

    A row is renumbered when it is on the map's transcript, or when it names no
    transcript and its residue is the mapped one (then the note says so). Only
    the mapped gene's rows are looked at.
    """
    frame = frame.copy()
    # The notes as codes into a few distinct texts ('' for none): no per-row strings.
    note_codes = np.zeros(len(frame), dtype=np.int64)
    note_labels: list[str] = [""]
    if "coordinate_note" in frame:  # set by the MAF reader for rows named from coordinates
        codes, distinct = pd.factorize(frame["coordinate_note"], use_na_sentinel=True)
        note_codes = np.where(codes < 0, 0, codes + 1)
        note_labels += [str(d) for d in distinct]
        frame = frame.drop(columns=["coordinate_note"])
    for rmap in knowledge.residue_maps.values():
        rows = np.flatnonzero((frame["gene"] == rmap.gene).to_numpy())
        if not len(rows):
            continue
        sub = frame.iloc[rows]
        tx = text(sub["transcript"]).str.split(".").str[0].to_numpy(dtype=object)
        residue = (sub["aa_ref"].astype(str) + sub["aa_pos"].astype(str)).to_numpy(dtype=object)
        # The map names one ID; its RefSeq/Ensembl twin (genes.yaml) is the same transcript.
        same = transcript_ids(knowledge, rmap.gene, rmap.transcript)
        on_map, no_tx = np.isin(tx, list(same)), tx == ""
        for src, dst in rmap.pairs.items():
            hit = (residue == src) & (on_map | no_tx)
            if not hit.any():
                continue
            at = rows[hit]
            frame.loc[frame.index[at], "aa_pos"] = int(dst[1:])
            changes = frame["protein_change"].to_numpy(dtype=object)[at]
            frame.loc[frame.index[at], "protein_change"] = [c.replace(src, dst, 1) for c in changes]
            before = np.asarray(note_labels, dtype=object)[note_codes[at]]
            sep = np.where(before != "", "; ", "").astype(object)
            after = (
                before
                + sep
                + np.where(
                    on_map[hit],
                    f"renumbered {src}→{dst} from {rmap.transcript}",
                    f"renumbered {src}→{dst}: no transcript given, assumed {rmap.transcript}",
                )
            )
            new_codes, new_labels = pd.factorize(after)
            note_codes[at] = len(note_labels) + new_codes
            note_labels += [str(x) for x in new_labels]
    frame["normalisation"] = pd.Series(from_codes(note_codes, note_labels), index=frame.index)
    return frame


def finish_mutations(
    out: pd.DataFrame,
    knowledge: KnowledgeBase,
    read: TableRead | None,
    cols: Mapping[str, str | None],
    issues: list[RowIssue],
    truncating: Collection[str],
    silent: Collection[str],
) -> pd.DataFrame:
    """Shared tail of the MAF and VCF readers.

    Drops (and reports) rows without sample or gene, normalises genes and
    protein changes, sets ``alteration_type`` and applies residue maps.
    """
    path = str(read.path) if read is not None else ""
    missing = out["sample_id"].isna() | out["gene"].isna()
    for row in np.flatnonzero(missing.to_numpy()):
        which = "sample_id" if pd.isna(out["sample_id"].iloc[row]) else "gene"
        line = read.line_of(int(out["source_row"].iloc[row])) if read is not None else None
        issues.append(
            RowIssue(
                path,
                line,
                cols.get(which),
                f"a {which.replace('_', ' ')}",
                "an empty cell",
                "dropped",
            )
        )
    out = out.loc[~missing.to_numpy()].reset_index(drop=True)
    out["gene"] = normalise_genes(out["gene"], knowledge)
    parsed = parse_protein_changes(out["protein_raw"])
    out = pd.concat([out.reset_index(drop=True), parsed.reset_index(drop=True)], axis=1)
    vc = out["variant_classification"].astype(str)
    unparsed = (
        (out["change_type"] == "other").to_numpy()
        & out["protein_raw"].notna().to_numpy()
        & ~vc.isin(list(silent)).to_numpy()
    )
    for row in np.flatnonzero(unparsed):
        raw = str(out["protein_raw"].iloc[row])
        if raw.strip() in {"", "p.?", "?", "."}:
            continue
        line = read.line_of(int(out["source_row"].iloc[row])) if read is not None else None
        issues.append(
            RowIssue(path, line, "protein change", "a protein change such as p.G595R or p.Gly595Arg",
                     repr(raw), "kept, not classified")
        )  # fmt: skip
    is_trunc = vc.isin(list(truncating)) | out["change_type"].isin(
        ["nonsense", "frameshift", "splice"]
    )
    is_silent = vc.isin(list(silent)) | (out["change_type"] == "silent")
    kind = np.where(is_trunc, 1, np.where(is_silent, 2, 0))
    out["alteration_type"] = from_codes(kind, ["mutation", "truncating", "silent"])
    out = apply_residue_maps(out, knowledge)
    return out.drop(columns=["protein_raw", "variant_classification"])
