"""Normalisation shared by the mutation readers: genes, protein changes, numbering.

Everything runs on distinct values (``factorize``) and is broadcast back, so a
million rows cost a few vectorised passes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from trkres.genomics.model import text
from trkres.genomics.protein import parse_protein_changes
from trkres.genomics.tables import RowIssue, TableRead
from trkres.knowledge.store import KnowledgeBase


def map_unique(
    values: pd.Series, func: Mapping[str, str] | None = None, default: str = ""
) -> pd.Series:
    """Apply a mapping over the distinct values of a text column."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = [func.get(u, u) if func is not None else u for u in uniques]
    table = np.array([*mapped, default], dtype=object)
    return pd.Series(table[np.where(codes < 0, len(mapped), codes)], index=values.index)


def normalise_genes(values: pd.Series, knowledge: KnowledgeBase) -> pd.Series:
    """Official symbols for gene names and aliases (``TRKA`` → ``NTRK1``)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = [knowledge.normalise_gene(str(u)) for u in uniques]
    table = np.array([*mapped, ""], dtype=object)
    return pd.Series(table[np.where(codes < 0, len(mapped), codes)], index=values.index)


def coerce_numeric(
    read: TableRead, column: str | None, issues: list[RowIssue], expected: str
) -> pd.Series:
    """A numeric column; non-numeric cells become missing and are reported (kept)."""
    frame = read.frame
    if column is None:
        return pd.Series(np.nan, index=frame.index, dtype=np.float64)
    text = frame[column]
    values = pd.to_numeric(text, errors="coerce").astype(np.float64)
    bad = np.flatnonzero(values.isna().to_numpy() & text.notna().to_numpy())
    bad_neg = np.flatnonzero((values < 0).to_numpy())
    for row in bad:
        issues.append(
            RowIssue(str(read.path), read.line_of(int(row)), column, expected,
                     repr(text.iloc[row]), "kept, value missing")
        )  # fmt: skip
    for row in bad_neg:
        issues.append(
            RowIssue(str(read.path), read.line_of(int(row)), column, f"{expected} ≥ 0",
                     repr(text.iloc[row]), "kept, value missing")
        )  # fmt: skip
    values.iloc[bad_neg] = np.nan
    return values


def apply_residue_maps(frame: pd.DataFrame, knowledge: KnowledgeBase) -> pd.DataFrame:
    """Renumber residues listed in the knowledge base's residue maps (BRAF V640 → V600).

    A row is renumbered when it is on the map's transcript, or when it names no
    transcript and its residue is the mapped one (then the note says so).
    """
    frame = frame.copy()
    frame["normalisation"] = ""
    for rmap in knowledge.residue_maps.values():
        gene_rows = frame["gene"].to_numpy() == rmap.gene
        if not gene_rows.any():
            continue
        tx = text(frame["transcript"]).str.split(".").str[0]
        on_map = tx == rmap.transcript
        no_tx = tx == ""
        residue = frame["aa_ref"] + frame["aa_pos"].astype(str)
        for src, dst in rmap.pairs.items():
            hit = gene_rows & (residue == src).to_numpy() & (on_map | no_tx).to_numpy()
            if not hit.any():
                continue
            new_pos = int(dst[1:])
            old = frame.loc[hit, "protein_change"]
            frame.loc[hit, "aa_pos"] = new_pos
            frame.loc[hit, "protein_change"] = old.str.replace(src, dst, n=1, regex=False)
            note = np.where(
                on_map[hit].to_numpy(),
                f"renumbered {src}→{dst} from {rmap.transcript}",
                f"renumbered {src}→{dst}: no transcript given, assumed {rmap.transcript}",
            )
            frame.loc[hit, "normalisation"] = note
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
    out["alteration_type"] = np.where(
        is_trunc, "truncating", np.where(is_silent, "silent", "mutation")
    )
    out = apply_residue_maps(out, knowledge)
    return out.drop(columns=["protein_raw", "variant_classification"])
