"""Per-alteration annotation from the knowledge base (class, fact, status).

Annotation is computed once per *distinct* alteration (gene, type, change,
partner) and broadcast to every row by integer codes, so a million-row table
costs a few factorizations, not a million look-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trkres.genomics.model import from_codes
from trkres.knowledge.schema import BypassAlteration
from trkres.knowledge.store import KnowledgeBase

KEY_COLUMNS = [
    "gene",
    "alteration_type",
    "aa_ref",
    "aa_pos",
    "aa_alt",
    "protein_change",
    "partner_gene",
]


def combined_codes(
    frame: pd.DataFrame, columns: list[str], *, distinct: bool = True, dense: bool = True
) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer code per row for the combination of ``columns``, and the distinct rows.

    Each column is factorized on its own (categoricals give their codes for
    free); the codes are mixed into one integer, exact as long as it fits
    (re-densified before it could overflow), and densified once at the end
    (0..k-1) unless ``dense=False`` (then equal rows share a code, nothing more).
    """
    key = np.zeros(len(frame), dtype=np.int64)
    span = 1  # number of distinct values ``key`` can take
    for col in columns:
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy().astype(np.int64) + 1  # -1 (missing) → 0
            n_uniques = len(values.cat.categories) + 1
        else:
            codes, uniques = pd.factorize(values, use_na_sentinel=False)
            n_uniques = len(uniques)
        if span * (n_uniques + 1) >= 2**62:  # would overflow: re-densify first
            key = pd.factorize(key)[0].astype(np.int64)
            span = int(key.max()) + 1 if len(key) else 1
        key = key * (n_uniques + 1) + codes
        span *= n_uniques + 1
    if dense or distinct:
        key = pd.factorize(key)[0].astype(np.int64)
    if not distinct:
        return key, frame.iloc[0:0][columns]
    n_codes = int(key.max()) + 1 if len(key) else 0
    first_rows = np.empty(n_codes, dtype=np.int64)
    first_rows[key[::-1]] = np.arange(len(key) - 1, -1, -1)
    return key, frame.iloc[first_rows][columns].reset_index(drop=True)


@dataclass(frozen=True)
class _Hit:
    alteration_class: str = ""
    class_fact: str = ""
    known_fact: str = ""
    status: str = ""
    paralogs: str = ""
    note: str = ""


def _worst(*statuses: str) -> str:
    return "needs_review" if "needs_review" in statuses else "verified"


class Annotator:
    """Look-ups built once from a knowledge base."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self.kb = knowledge
        self.known = {(m.gene, m.change): m for m in knowledge.resistance_mutations.values()}
        self.bypass_exact: dict[tuple[str, str], BypassAlteration] = {}
        self.bypass_residue: dict[tuple[str, str, int], BypassAlteration] = {}
        self.bypass_gene: dict[tuple[str, str], BypassAlteration] = {}
        for b in knowledge.bypass_alterations.values():
            for change in b.changes:
                self.bypass_exact[(b.gene, change)] = b
            for residue in b.residues:
                self.bypass_residue[(b.gene, residue[0], int(residue[1:]))] = b
            if not b.changes and not b.residues:
                self.bypass_gene[(b.gene, b.alteration_type)] = b  # later (lab) facts win
        self.genes = knowledge.trk_genes | {b.gene for b in knowledge.bypass_alterations.values()}

    def annotate_one(self, row: Mapping[str, Any]) -> _Hit:
        gene, kind = row["gene"], row["alteration_type"]
        kb = self.kb
        if kind == "fusion":
            partner = row["partner_gene"]
            if gene in kb.trk_genes and partner and partner != gene:
                fact = kb.alteration_classes["fusion_driver"]
                partner_fact = next((g for g in kb.genes.values() if g.symbol == partner), None)
                status = _worst(fact.status, partner_fact.status if partner_fact else "verified")
                note = "" if partner_fact else f"5' partner {partner} not in the knowledge base"
                return _Hit(
                    "fusion_driver", "alteration_classes:fusion_driver", "", status, "", note
                )
            return _Hit()
        if kind == "silent" or not gene:
            return _Hit()
        ref, pos, change = row["aa_ref"], int(row["aa_pos"]), row["protein_change"]
        if gene in kb.trk_genes and kind == "mutation" and pos > 0:
            hit = kb.residue_positions.get((gene, pos))
            if hit is None:
                return _Hit()
            expected_ref, pos_id, position = hit
            paralogs = ";".join(f"{g} {r.residue}" for g, r in position.residues.items())
            if ref and ref != expected_ref:
                return _Hit(
                    note=f"reference residue mismatch: knowledge has {gene} {expected_ref}{pos}, "
                    f"input has {ref}{pos} (another transcript?)",
                    paralogs=paralogs,
                )
            residue_status = position.residues[gene].status
            known = self.known.get((gene, change))
            # A change the knowledge base does not list rests on no checked fact: it is
            # needs_review, as the listed-but-unverified ones (G667S) are, never more trusted.
            status = _worst(
                position.status, residue_status, known.status if known else "needs_review"
            )
            note = (
                "" if known else f"{change}: change not listed (needs_review); position {pos_id} is"
            )
            return _Hit(
                position.alteration_class,
                f"kinase_positions:{pos_id}",
                f"resistance_mutations:{known.id}" if known else "",
                status,
                paralogs,
                note,
            )
        bypass = None
        if kind == "mutation":
            bypass = (
                self.bypass_exact.get((gene, change))
                or (self.bypass_residue.get((gene, ref, pos)) if pos > 0 else None)
                or self.bypass_gene.get((gene, "mutation"))
            )
        else:
            bypass = self.bypass_gene.get((gene, kind))
        if bypass is None:
            return _Hit()
        return _Hit(
            bypass.alteration_class, f"bypass_alterations:{bypass.id}", "", bypass.status, "",
        )  # fmt: skip

    def annotate(self, alterations: pd.DataFrame) -> pd.DataFrame:
        """The annotation columns for every row of a canonical alteration table.

        Columns are categoricals: one code per row, one string per distinct
        annotation.
        """
        n = len(alterations)
        codes_full = np.zeros(n, dtype=np.int64)  # 0 = no annotation
        hits: list[_Hit] = [_Hit()]
        # Only genes the knowledge base speaks of (and fusions) can get a class.
        relevant = alterations["gene"].isin(list(self.genes)) | (
            alterations["alteration_type"] == "fusion"
        )
        rows = np.flatnonzero(relevant.to_numpy())
        if len(rows):
            codes, distinct = combined_codes(alterations.iloc[rows], KEY_COLUMNS)
            records: list[dict[str, Any]] = distinct.to_dict(orient="records")  # type: ignore[assignment]
            hits += [self.annotate_one(r) for r in records]
            codes_full[rows] = codes + 1
        fields = {
            "alteration_class": [h.alteration_class for h in hits],
            "class_fact": [h.class_fact for h in hits],
            "known_fact": [h.known_fact for h in hits],
            "fact_status": [h.status for h in hits],
            "paralog_equivalents": [h.paralogs for h in hits],
            "annotation_note": [h.note for h in hits],
        }
        out = {col: from_codes(codes_full, labels) for col, labels in fields.items()}
        return pd.DataFrame(out, index=alterations.index)
