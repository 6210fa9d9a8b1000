"""The merged, read-only knowledge base and its look-ups.

Look-ups are precomputed into dictionaries once, so classification code can
map whole columns (``Series.map``) instead of looping per variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from trkres.knowledge.schema import (
    AlterationClass,
    BypassAlteration,
    Drug,
    Fact,
    Gene,
    HotspotCodon,
    KinasePosition,
    Potency,
    ResidueMap,
    ResistanceMutation,
    Source,
    TherapyRule,
    TherapyStrategy,
    parse_residue,
)


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """All curated facts, keyed by id within each topic."""

    version: str
    extra_files: tuple[Path, ...]
    checksums: dict[str, str]
    #: Lab facts that replace or shadow others (see :func:`trkres.knowledge.loader.merge`).
    notices: tuple[str, ...] = ()
    sources: dict[str, Source] = field(default_factory=dict)
    genes: dict[str, Gene] = field(default_factory=dict)
    alteration_classes: dict[str, AlterationClass] = field(default_factory=dict)
    kinase_positions: dict[str, KinasePosition] = field(default_factory=dict)
    resistance_mutations: dict[str, ResistanceMutation] = field(default_factory=dict)
    bypass_alterations: dict[str, BypassAlteration] = field(default_factory=dict)
    drugs: dict[str, Drug] = field(default_factory=dict)
    therapy_strategies: dict[str, TherapyStrategy] = field(default_factory=dict)
    therapy_rules: dict[str, TherapyRule] = field(default_factory=dict)
    residue_maps: dict[str, ResidueMap] = field(default_factory=dict)
    hotspot_codons: dict[str, HotspotCodon] = field(default_factory=dict)
    potencies: dict[str, Potency] = field(default_factory=dict)

    # ----------------------------------------------------------------- look-ups
    @cached_property
    def gene_aliases(self) -> dict[str, str]:
        """Upper-case symbol or alias → official symbol."""
        table: dict[str, str] = {}
        for gene in self.genes.values():
            for alias in gene.aliases:
                table.setdefault(alias.upper(), gene.symbol)
        for gene in self.genes.values():
            table[gene.symbol.upper()] = gene.symbol
        return table

    def normalise_gene(self, symbol: str) -> str:
        """The official symbol for ``symbol`` (unknown symbols are returned upper-cased)."""
        key = symbol.strip().upper()
        return self.gene_aliases.get(key, key)

    @cached_property
    def trk_genes(self) -> frozenset[str]:
        return frozenset(g.symbol for g in self.genes.values() if "trk_kinase" in g.roles)

    @cached_property
    def residue_positions(self) -> dict[tuple[str, int], tuple[str, str, KinasePosition]]:
        """``(gene, residue number)`` → ``(reference amino acid, position id, position)``."""
        table: dict[tuple[str, int], tuple[str, str, KinasePosition]] = {}
        for pos in self.kinase_positions.values():
            for gene, res in pos.residues.items():
                ref, number = parse_residue(res.residue)
                table[(gene, number)] = (ref, pos.id, pos)
        return table

    def equivalent_residues(self, gene: str, number: int) -> dict[str, str]:
        """Paralog residues equivalent to ``gene`` residue ``number`` (from the table)."""
        hit = self.residue_positions.get((gene, number))
        if hit is None:
            return {}
        return {g: r.residue for g, r in hit[2].residues.items()}

    @cached_property
    def drug_names(self) -> dict[str, str]:
        """Case-folded name or synonym (also without spaces/hyphens) → drug id."""
        table: dict[str, str] = {}
        for drug in self.drugs.values():
            for name in (drug.name, *drug.synonyms):
                key = name.casefold()
                table[key] = drug.id
                table.setdefault(key.replace("-", "").replace(" ", ""), drug.id)
        return table

    def find_drug(self, name: str) -> Drug | None:
        """The drug named ``name`` (name or synonym, case-insensitive), or ``None``."""
        key = name.strip().casefold()
        ident = self.drug_names.get(key) or self.drug_names.get(
            key.replace("-", "").replace(" ", "")
        )
        return self.drugs.get(ident) if ident else None

    def all_facts(self) -> dict[str, Fact]:
        """Every fact keyed ``topic:id`` (sources excluded)."""
        out: dict[str, Fact] = {}
        for topic in (
            "genes",
            "alteration_classes",
            "kinase_positions",
            "resistance_mutations",
            "bypass_alterations",
            "drugs",
            "therapy_strategies",
            "therapy_rules",
            "residue_maps",
            "hotspot_codons",
            "potencies",
        ):
            for ident, fact in getattr(self, topic).items():
                out[f"{topic}:{ident}"] = fact
        return out

    # ------------------------------------------------------------------ tables
    def cite(self, fact: Fact) -> str:
        """``;``-joined citations of a fact's evidence: ``PMID:…`` or ``doi:…``,
        else the source id (see the sources table for its citation and URL)."""
        ids = []
        for ev in fact.evidence:
            src = self.sources.get(ev.source)
            if src is not None and src.pmid:
                ids.append(f"PMID:{src.pmid}")
            elif src is not None and src.doi:
                ids.append(f"doi:{src.doi}")
            else:
                ids.append(ev.source)
        return ";".join(dict.fromkeys(ids))

    def facts_frame(self) -> pd.DataFrame:
        """One row per fact: topic, id, summary, status, evidence, origin. (A copy:
        the table is built once per knowledge base, which never changes.)"""
        return self._facts_frame.copy()

    @cached_property
    def _facts_frame(self) -> pd.DataFrame:
        rows = []
        for key, fact in self.all_facts().items():
            topic, ident = key.split(":", 1)
            rows.append(
                {
                    "topic": topic,
                    "id": ident,
                    "summary": _summary(fact),
                    "status": fact.status,
                    "levels": ";".join(dict.fromkeys(e.level for e in fact.evidence)),
                    "evidence": self.cite(fact),
                    "statement": " | ".join(e.statement for e in fact.evidence),
                    "origin": fact.origin,
                }
            )
        return pd.DataFrame(rows)

    def positions_frame(self) -> pd.DataFrame:
        """The NTRK paralog equivalence table, one row per position. (A copy:
        the table is built once per knowledge base, which never changes.)"""
        return self._positions_frame.copy()

    @cached_property
    def _positions_frame(self) -> pd.DataFrame:
        rows = []
        for pos in self.kinase_positions.values():
            row: dict[str, str] = {"position": pos.id, "class": pos.alteration_class}
            for gene in ("NTRK1", "NTRK2", "NTRK3"):
                res = pos.residues.get(gene)
                row[gene] = "" if res is None else res.residue
                row[f"{gene}_status"] = "" if res is None else res.status
            row["status"] = pos.status
            row["evidence"] = self.cite(pos)
            rows.append(row)
        return pd.DataFrame(rows)

    def sources_frame(self) -> pd.DataFrame:
        """One row per source: id, citation, PMID, DOI, URL, status, origin. (A copy: the
        table is built once per knowledge base, which never changes.)"""
        return self._sources_frame.copy()

    @cached_property
    def _sources_frame(self) -> pd.DataFrame:
        rows = [
            {
                "id": s.id,
                "citation": s.citation,
                "pmid": s.pmid or "",
                "doi": s.doi or "",
                "url": s.url or "",
                "status": s.status,
                "origin": s.origin,
            }
            for s in self.sources.values()
        ]
        return pd.DataFrame(rows)


def _summary(fact: Fact) -> str:
    """A one-line human summary of a fact, whatever its topic."""
    if isinstance(fact, Gene):
        tx = ", ".join(t.refseq or t.ensembl or "" for t in fact.transcripts)
        return f"{fact.symbol} ({', '.join(fact.roles)})" + (f" on {tx}" if tx else "")
    if isinstance(fact, AlterationClass):
        return f"{fact.label} [{fact.target}]"
    if isinstance(fact, KinasePosition):
        res = ", ".join(f"{g} {r.residue}" for g, r in fact.residues.items())
        return f"{fact.alteration_class}: {res}"
    if isinstance(fact, ResistanceMutation):
        drugs = f" (resists {', '.join(fact.resistant_to)})" if fact.resistant_to else ""
        return f"{fact.gene} {fact.change} at {fact.position}{drugs}"
    if isinstance(fact, BypassAlteration):
        return f"{fact.label} [{fact.alteration_class}]"
    if isinstance(fact, Drug):
        syn = f" = {', '.join(fact.synonyms)}" if fact.synonyms else ""
        return f"{fact.name}{syn} ({', '.join(fact.classes)})"
    if isinstance(fact, TherapyStrategy):
        return f"{fact.label}: e.g. {', '.join(d.drug for d in fact.example_drugs)}"
    if isinstance(fact, ResidueMap):
        pairs = ", ".join(f"{a}→{b}" for a, b in fact.pairs.items())
        return f"{fact.gene} on {fact.transcript}: {pairs}"
    if isinstance(fact, HotspotCodon):
        where = [f"{b} {loc.chromosome}:{loc.start}-{loc.start + 2}"
                 for b, loc in (("GRCh37", fact.grch37), ("GRCh38", fact.grch38)) if loc]  # fmt: skip
        return (
            f"{fact.gene} {fact.residue} codon {fact.codon} ({fact.strand}) at {', '.join(where)}"
        )
    if isinstance(fact, Potency):
        span = f" ({fact.low_nm:g}–{fact.high_nm:g})" if fact.low_nm and fact.high_nm else ""
        form = "" if fact.kinase_form == "wild_type" else f" {fact.kinase_form}"
        return (f"{fact.drug} vs {fact.target}{form}, {fact.assay}: "
                f"{fact.qualifier if fact.qualifier != '=' else ''}{fact.value_nm:g} nM{span}")  # fmt: skip
    if isinstance(fact, TherapyRule):
        cond: str = fact.when.alteration_class
        if fact.when.genes:
            cond += f" in {'/'.join(fact.when.genes)}"
        if fact.when.alteration_types:
            cond += f" ({'/'.join(fact.when.alteration_types)})"
        return f"{cond} → {', '.join(fact.strategies)}"
    return fact.id
