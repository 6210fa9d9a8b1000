"""Per-alteration annotation from the knowledge base (class, fact, status).

Annotation is computed once per *distinct* alteration (gene, type, change,
partner) and broadcast to every row by integer codes, so a million-row table
costs a few factorizations, not a million look-ups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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

ANNOTATION_COLUMNS = [
    "alteration_class",  # solvent_front, ..., fusion_driver, or ''
    "class_fact",  # topic:id of the fact that gave the class
    "known_fact",  # topic:id of the exact substitution, when listed
    "fact_status",  # verified | needs_review | ''
    "paralog_equivalents",  # NTRK1 G595;NTRK2 G639;NTRK3 G623
    "annotation_note",
]


def combined_codes(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer code per row for the combination of ``columns``, and the distinct rows.

    Each column is factorized on its own (fast on text); the codes are mixed
    into one integer and re-densified after each column, so it stays exact.
    """
    key = np.zeros(len(frame), dtype=np.int64)
    for col in columns:
        codes, uniques = pd.factorize(frame[col], use_na_sentinel=False)
        mixed = key * (len(uniques) + 1) + codes
        key = pd.factorize(mixed)[0].astype(np.int64)
    n_codes = int(key.max()) + 1 if len(key) else 0
    first_rows = np.empty(n_codes, dtype=np.int64)
    first_rows[key[::-1]] = np.arange(len(key) - 1, -1, -1)
    distinct = frame.iloc[first_rows][columns].reset_index(drop=True)
    return key, distinct


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
                self.bypass_gene.setdefault((b.gene, b.alteration_type), b)

    def annotate_one(self, row: pd.Series) -> _Hit:
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
            status = _worst(position.status, residue_status, known.status if known else "verified")
            note = "" if known else f"{change}: substitution not listed; position {pos_id} is"
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
        """The annotation columns for every row of a canonical alteration table."""
        if alterations.empty:
            return pd.DataFrame({c: pd.Series(dtype=str) for c in ANNOTATION_COLUMNS})
        codes, distinct = combined_codes(alterations, KEY_COLUMNS)
        hits = [self.annotate_one(r) for _, r in distinct.iterrows()]
        table = pd.DataFrame(
            {
                "alteration_class": [h.alteration_class for h in hits],
                "class_fact": [h.class_fact for h in hits],
                "known_fact": [h.known_fact for h in hits],
                "fact_status": [h.status for h in hits],
                "paralog_equivalents": [h.paralogs for h in hits],
                "annotation_note": [h.note for h in hits],
            }
        )
        out = table.iloc[codes].reset_index(drop=True)
        out.index = alterations.index
        return out
