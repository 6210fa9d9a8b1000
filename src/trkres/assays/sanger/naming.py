"""The coding frame of an amplicon, codon and protein names of calls, and their class.

Convention (``--codon-start N --codon-position P``): reference position ``P`` (1-based, on
the reference: the reference file, else the control trace's base calls, else the sample's)
is the **first base of codon N**; codons run on with the reference (``strand +``), or,
with ``strand -`` (the reference is the coding strand's reverse complement), position
``P`` is still codon N's first base and the codon reads ``P, P-1, P-2`` complemented.
A GenBank reference's first CDS feature gives the frame instead (its first complete codon
is codon 1, or codon ``N`` when ``--codon-start`` is given too; with ``--codon-position
P`` as well, the CDS codon starting at ``P`` is codon ``N``). Bases before codon 1 get no
codon number: the frame takes the amplicon from codon 1 on as coding (exon boundaries
within an amplicon are not known to it).

Protein changes use the knowledge base's genetic code (``NTRK1 G595R``) and are classed
with the genomics annotator (kinase positions, bypass alterations).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trkres.assays.sanger.caller import complement
from trkres.errors import InputError
from trkres.knowledge.schema import GENETIC_CODE

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase

__all__ = ["Frame", "classify", "frame_from_cds", "frame_from_start", "gene_symbol", "parse_expect"]


@dataclass(frozen=True)
class Frame:
    """Codon numbers of reference positions: ``codons[k]`` holds the three 0-based
    reference positions of codon ``first + k`` in coding order; ``strand`` -1 means the
    coding base is the complement of the reference base."""

    codons: tuple[tuple[int, int, int], ...]
    first: int
    strand: int

    def locate(self, position: int) -> tuple[int, int] | None:
        """``(codon number, 0-based base within the codon)`` of a 0-based reference position."""
        index = self._index.get(position)
        return index

    @property
    def _index(self) -> dict[int, tuple[int, int]]:
        cached = self.__dict__.get("_cache")
        if cached is None:
            cached = {p: (self.first + k, j) for k, c in enumerate(self.codons)
                      for j, p in enumerate(c)}  # fmt: skip
            object.__setattr__(self, "_cache", cached)
        return cached

    def positions_of(self, codon: int) -> tuple[int, int, int] | None:
        k = codon - self.first
        return self.codons[k] if 0 <= k < len(self.codons) else None

    def coding(self, reference: str, positions: tuple[int, int, int]) -> str:
        """The coding-strand codon at ``positions`` of ``reference``."""
        bases = "".join(reference[p] for p in positions)
        return complement(bases) if self.strand < 0 else bases


def frame_from_start(length: int, codon_start: int, codon_position: int, strand: int) -> Frame:
    """The frame where 1-based reference position ``codon_position`` is codon
    ``codon_start``'s first base (see the module docstring)."""
    p = codon_position - 1
    if not 0 <= p < length:
        raise InputError("codon position outside the reference",
                         expected=f"a position from 1 to {length}", found=str(codon_position))  # fmt: skip
    if strand >= 0:
        start = p % 3
        order = list(range(start, length))
        first = codon_start - p // 3
    else:
        back = (length - 1 - p) // 3
        top = p + 3 * back
        order = list(range(top, -1, -1))
        first = codon_start - back
    return _numbered(order, first, 1 if strand >= 0 else -1)


def frame_from_cds(cds: tuple[int, ...], strand: int, offset: int, first: int = 1) -> Frame:
    """The frame of a GenBank CDS (positions in coding order; ``offset`` bases before the
    first complete codon, from ``/codon_start``)."""
    return _numbered(list(cds[offset:]), first, strand)


def _numbered(order: list[int], first: int, strand: int) -> Frame:
    """The frame of reference positions ``order`` (coding order) read three by three, the
    first triplet numbered ``first``; triplets numbered below 1 (5' UTR, an intron) are
    left out: no codon numbers, no names."""
    codons = tuple(tuple(order[i : i + 3]) for i in range(0, len(order) - 2, 3))
    if first < 1:
        codons, first = codons[1 - first :], 1
    return Frame(codons, first, strand)  # type: ignore[arg-type]


def translate_codon(codon: str) -> str:
    """One-letter amino acid (``*`` stop), ``X`` for codons with other than A/C/G/T."""
    return GENETIC_CODE.get(codon.upper(), "X")


_EXPECT = re.compile(r"^\s*(?:([A-Za-z0-9._-]+)(?:\s+|:))?(\S+)\s*$")


def parse_expect(
    text: str, gene: str | None, kb: KnowledgeBase | None = None
) -> tuple[str, str, int, str]:
    """``"NTRK1 G595R"`` (or ``"G595R"`` with ``gene``) → ``(gene, ref aa, number, alt aa)``.

    The substitution may be written as variant reports write it: ``G595R``, ``p.G595R``,
    ``p.Gly595Arg``, ``p.(Gly595Arg)``, after the gene and a space or a colon
    (``NTRK1:p.G595R``); the genomics parser reads it (:func:`trkres.genomics.protein.parse_one`)."""
    from trkres.genomics.protein import parse_one

    m = _EXPECT.match(text or "") if isinstance(text, str) else None
    parsed = parse_one(m.group(2)) if m else ("", "", -1, "", "other")
    if parsed[4] not in ("missense", "nonsense", "silent") or parsed[2] < 1:
        raise InputError("bad expected mutation", expected="a gene and a substitution, e.g. "
                         "'NTRK1 G595R', 'KRAS G12D' or 'NTRK1 p.Gly595Arg'",
                         found=repr(text))  # fmt: skip
    assert m is not None
    name = m.group(1) or gene
    if not name:
        raise InputError("expected mutation without a gene", expected="'GENE X123Y' or --gene",
                         found=repr(text))  # fmt: skip
    return gene_symbol(name, kb), parsed[1], parsed[2], parsed[3]


def _kb(kb: KnowledgeBase | None) -> KnowledgeBase:
    """``kb``, or the shipped knowledge base when none is given."""
    if kb is not None:
        return kb
    from trkres.knowledge.loader import load_knowledge

    return load_knowledge()


def gene_symbol(name: str, kb: KnowledgeBase | None = None) -> str:
    """The knowledge base's symbol of a gene name (``kras`` → ``KRAS``, ``TRKA`` →
    ``NTRK1``), as ``trkres classify`` names genes (``kb``: default the shipped one)."""
    return _kb(kb).normalise_gene(name)


def classify(
    gene: str, ref: str, number: int, alt: str, kb: KnowledgeBase | None = None
) -> dict[str, Any]:
    """The knowledge base's class of ``gene ref{number}alt``: ``alteration_class``,
    ``class_fact`` (``topic:id``), ``known_fact``, ``fact_status`` and a note (``kb``:
    default the shipped knowledge base; a study's or ``--knowledge``'s when given)."""
    from trkres.genomics.annotate import Annotator

    kb = _kb(kb)
    symbol = kb.normalise_gene(gene)
    if ref == alt:
        return {"alteration_class": "", "class_fact": "", "known_fact": "", "fact_status": "",
                "annotation_note": "synonymous"}  # fmt: skip
    hit = Annotator(kb).annotate_one({
        "gene": symbol, "alteration_type": "mutation", "aa_ref": ref, "aa_pos": number,
        "protein_change": f"{ref}{number}{alt}", "partner_gene": "",
    })  # fmt: skip
    return {"alteration_class": hit.alteration_class, "class_fact": hit.class_fact,
            "known_fact": hit.known_fact, "fact_status": hit.status,
            "annotation_note": hit.note}  # fmt: skip
