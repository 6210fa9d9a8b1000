"""Genotypes and treatments as a biologist writes them, turned into model parameters.

A genotype is a TRK fusion plus alterations joined by ``+``:
``"LMNA::NTRK1 + NTRK1 G595R + KRAS G12D"``, ``"PLEKHA6::NTRK1 + MET amplification"``.
Each alteration becomes a *mechanism* of the model, found through the knowledge base:

- a kinase-domain mutation of the fused NTRK gene (solvent front, gatekeeper, xDFG, by
  the knowledge base's equivalence table of positions) changes every TRK drug's occupancy
  constant by its class (:data:`trkres.models.signalling.drugs.FORM_SHIFTS`);
- KRAS/NRAS/HRAS G12, G13 or Q61 mutations add a mutant RAS pool with reduced GAP-driven
  and intrinsic GTP hydrolysis;
- BRAF V600E adds a RAS-independent active RAF pool;
- MET amplification multiplies the MET receptor (ligand-independent activity).

Anything else is refused with the list of what the model can represent.

A treatment is ``drug=dose`` pairs joined by ``+`` (``"selitrectinib=50nM+binimetinib=50nM"``),
names and synonyms from the knowledge base, doses with a unit (pM, nM, µM/uM, mM, M);
``none`` is the untreated condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trkres.errors import InputError
from trkres.knowledge.schema import parse_change
from trkres.knowledge.store import KnowledgeBase
from trkres.models.signalling.drugs import DRUGS, ModelDrug, model_drugs

__all__ = [
    "MECHANISM_PARAMETERS",
    "Genotype",
    "Treatment",
    "parse_genotype",
    "parse_treatment",
]

#: What each mechanism sets: parameter overrides and initial-amount multipliers/values.
#: All are assumptions (docs/signalling.md explains each choice).
MECHANISM_PARAMETERS: dict[str, dict[str, float]] = {
    # mutant KRAS: GAP-insensitive (1% of wild-type GAP-driven hydrolysis) and intrinsic
    # hydrolysis reduced to 30%; the mutant pool is half the size of the wild-type RAS pool.
    "ras_mutant": {"f_gap_mut": 0.01, "f_int_mut": 0.3, "RasMGDP": 0.2},
    # BRAF V600E: 0.05 µM of active, RAS-independent RAF monomer.
    "braf_v600e": {"braf_v600e": 0.05},
    # MET amplification: 50 × the MET receptor of the parental line.
    "met_amplification": {"MET": 50.0},
}

_RAS_GENES = ("KRAS", "NRAS", "HRAS")
_RAS_RESIDUES = (12, 13, 61)
_SUPPORTED = (
    "a kinase-domain mutation of the fused NTRK gene (e.g. NTRK1 G595R, NTRK3 G623R, "
    "NTRK1 F589L, NTRK1 G667C), KRAS/NRAS/HRAS G12/G13/Q61 mutations, BRAF V600E, "
    "MET amplification"
)


@dataclass(frozen=True)
class Alteration:
    """One alteration of a genotype and the mechanism it maps to."""

    text: str
    gene: str
    change: str
    mechanism: str
    fact: str


@dataclass(frozen=True)
class Genotype:
    """A fusion with its alterations, as the model's parameters and initial amounts."""

    label: str
    partner: str
    trk_gene: str
    kinase_form: str = "wild_type"
    alterations: tuple[Alteration, ...] = ()
    parameters: dict[str, float] = field(default_factory=dict)
    initial: dict[str, float] = field(default_factory=dict)

    @property
    def mechanisms(self) -> tuple[str, ...]:
        return tuple(a.mechanism for a in self.alterations)


def _fusion(text: str, kb: KnowledgeBase, where: str) -> tuple[str, str]:
    from trkres.genomics.io.fusions import orient, split_fusion_name

    parts = split_fusion_name(text, kb)
    if parts is None or any(sep in text for sep in (";", ",", "＋", "&")):
        raise InputError(f"{where}: the genotype must start with a TRK fusion, then "
                         "alterations joined by '+'",
                         expected="PARTNER::NTRK1|2|3 (e.g. LMNA::NTRK1, ETV6::NTRK3)",
                         found=text)  # fmt: skip
    a, b = (kb.normalise_gene(p) for p in parts)
    partner, trk = orient(a, b, kb)
    if trk not in kb.trk_genes:
        if any(sep in text for sep in (";", ",", "＋", "&", " ")):
            raise InputError(f"{where}: cannot read the fusion",
                             expected="PARTNER::NTRKx, then alterations joined by '+'",
                             found=text)  # fmt: skip
        raise InputError(f"{where}: the fusion has no NTRK gene",
                         expected="a fusion with NTRK1, NTRK2 or NTRK3", found=text)  # fmt: skip
    return partner, trk


_RAS_REFERENCE = {12: "G", 13: "G", 61: "Q"}


def _missense(text: str, change: str, ref: str, alt: str, expected_ref: str, where: str) -> None:
    """Refuse a change whose reference residue is wrong, or that is silent or a stop."""
    if ref != expected_ref:
        raise InputError(f"{where}: {text}: the reference residue is wrong",
                         expected=f"{expected_ref}{change[1:-1]} (the residue there)",
                         found=change)  # fmt: skip
    if alt in (ref, "*"):
        raise InputError(f"{where}: {text} is not a missense change",
                         expected="a change to another amino acid", found=change)  # fmt: skip


def _alteration(text: str, trk: str, kb: KnowledgeBase, where: str) -> Alteration:
    words = text.split()
    if len(words) == 2 and words[1].lower() in {"amplification", "amp", "amplified"}:
        gene = kb.normalise_gene(words[0])
        if gene == "MET":
            fact = "bypass_alterations:met_amplification"
            return Alteration(text, gene, "amplification", "met_amplification",
                              fact if fact.split(":")[1] in kb.bypass_alterations else "")  # fmt: skip
    if len(words) == 2:
        gene = kb.normalise_gene(words[0])
        change = words[1].removeprefix("p.").upper()
        try:
            ref, number, alt = parse_change(change)
        except ValueError:
            ref, number, alt = "", -1, ""
        if number > 0:
            if gene in kb.trk_genes:
                if gene != trk:
                    raise InputError(
                        f"{where}: {text} is not in the fused gene",
                        expected=f"a mutation of {trk} (the fusion's kinase)", found=text,
                    )  # fmt: skip
                hit = kb.residue_positions.get((gene, number))
                if hit is None:
                    raise InputError(
                        f"{where}: {text} is not a kinase-domain resistance position the "
                        "knowledge base knows", expected=_SUPPORTED, found=text,
                    )  # fmt: skip
                _missense(text, change, ref, alt, hit[0], where)
                position = hit[2]
                form = position.alteration_class
                if form not in {"solvent_front", "gatekeeper", "xdfg"}:
                    raise InputError(
                        f"{where}: the model has no drug potencies for {form} mutations",
                        expected="solvent front, gatekeeper or xDFG", found=text,
                    )  # fmt: skip
                return Alteration(text, gene, change, form, f"kinase_positions:{position.id}")
            if gene in _RAS_GENES and number in _RAS_RESIDUES:
                _missense(text, change, ref, alt, _RAS_REFERENCE[number], where)
                facts = [b for b in kb.bypass_alterations.values() if b.gene == gene]
                exact = [b for b in facts if change in (b.changes or [])]
                residue = [b for b in facts if f"{ref}{number}" in (b.residues or [])]
                chosen = (exact or residue)[:1]
                fact = f"bypass_alterations:{chosen[0].id}" if chosen else ""
                return Alteration(text, gene, change, "ras_mutant", fact)
            if gene == "BRAF" and change == "V600E":
                return Alteration(text, gene, change, "braf_v600e",
                                  "bypass_alterations:braf_v600e")  # fmt: skip
    hint = ""
    if any(sep in text for sep in (";", ",", "＋", "&")):
        hint = " (join alterations with '+')"
    raise InputError(f"{where}: the model cannot represent {text!r}{hint}", expected=_SUPPORTED,
                     found=text)  # fmt: skip


def parse_genotype(text: str, kb: KnowledgeBase, where: str = "genotype") -> Genotype:
    """``"LMNA::NTRK1 + NTRK1 G595R"`` → :class:`Genotype` (unknown parts are refused)."""
    from trkres.models.signalling.trk import SPECIES

    parts = [p.strip() for p in str(text).split("+")]
    if not parts or not parts[0]:
        raise InputError(f"{where}: empty genotype", expected="PARTNER::NTRKx [+ alteration …]",
                         found=repr(text))  # fmt: skip
    partner, trk = _fusion(parts[0], kb, where)
    alterations = tuple(_alteration(p, trk, kb, where) for p in parts[1:] if p)
    forms = [
        a.mechanism for a in alterations if a.mechanism in {"solvent_front", "gatekeeper", "xdfg"}
    ]
    if len(set(forms)) > 1:
        raise InputError(f"{where}: two kinase-domain mutations of one kinase",
                         expected="at most one class of kinase-domain mutation (compound "
                         "mutants have no potencies in the model)", found=", ".join(forms))  # fmt: skip
    mechanisms = [a.mechanism for a in alterations]
    if len(mechanisms) != len(set(mechanisms)):
        raise InputError(f"{where}: an alteration class is listed twice",
                         expected="each mechanism once", found=text)  # fmt: skip
    initial_defaults = {name: value for name, value, _ in SPECIES}
    params: dict[str, float] = {}
    initial: dict[str, float] = {}
    for mech in mechanisms:
        for name, value in MECHANISM_PARAMETERS.get(mech, {}).items():
            if name == "MET":
                initial[name] = initial_defaults[name] * value
            elif name in initial_defaults:
                initial[name] = value
            else:
                params[name] = value
    label = " + ".join([f"{partner}::{trk}", *(f"{a.gene} {a.change}" for a in alterations)])
    return Genotype(label, partner, trk, forms[0] if forms else "wild_type", alterations,
                    params, initial)  # fmt: skip


@dataclass(frozen=True)
class Treatment:
    """Drugs and their concentrations (nM), as written and as the model's parameters."""

    label: str
    doses_nm: dict[str, float] = field(default_factory=dict)

    @property
    def drugs(self) -> tuple[str, ...]:
        return tuple(self.doses_nm)


_UNIT_NM = {"pm": 1e-3, "nm": 1.0, "um": 1e3, "µm": 1e3, "μm": 1e3, "mm": 1e6, "m": 1e9}
_DOSE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Zµμ]+)\s*$")


def parse_treatment(text: str, kb: KnowledgeBase, where: str = "treatment") -> Treatment:
    """``"selitrectinib=50nM+binimetinib=50nM"`` → :class:`Treatment`; ``none`` → untreated."""
    drugs = model_drugs(kb)
    raw = str(text).strip()
    if raw.lower() in {"none", "untreated", "vehicle", "dmso", ""}:
        return Treatment("none")
    doses: dict[str, float] = {}
    for part in raw.split("+"):
        if "=" not in part:
            raise InputError(f"{where}: each drug needs a dose",
                             expected="drug=dose with a unit, e.g. larotrectinib=100nM",
                             found=part.strip() or raw)  # fmt: skip
        name, dose = (s.strip() for s in part.split("=", 1))
        drug = kb.find_drug(name)
        if drug is None or drug.id not in drugs:
            known = ", ".join(d for d, _ in DRUGS)
            raise InputError(f"{where}: unknown drug {name!r}" if drug is None else
                             f"{where}: the model has no potencies for {drug.id}",
                             expected=f"one of {known} (or a synonym)", found=name)  # fmt: skip
        m = _DOSE.match(dose)
        unit = m.group(2).lower() if m else ""
        if m is None or unit not in _UNIT_NM:
            raise InputError(f"{where}: bad dose for {drug.id}",
                             expected="a number with a unit: pM, nM, µM (uM), mM or M",
                             found=dose or "(nothing)")  # fmt: skip
        value = float(m.group(1)) * _UNIT_NM[unit]
        if drug.id in doses:
            raise InputError(f"{where}: {drug.id} is listed twice", expected="each drug once",
                             found=raw)  # fmt: skip
        if value > 1e6:
            raise InputError(f"{where}: {drug.id} dose is implausible",
                             expected="at most 1 mM", found=dose)  # fmt: skip
        doses[drug.id] = value
    label = " + ".join(f"{d}={v:.12g}nM" for d, v in doses.items())
    return Treatment(label, doses)


def potency_parameters(genotype: Genotype, drugs: dict[str, ModelDrug]) -> dict[str, float]:
    """Occupancy constants (nM) of every drug on every target for this genotype's kinase form."""
    out: dict[str, float] = {}
    for drug in drugs.values():
        for p in drug.potencies:
            if p.target == "TRK" and p.form != genotype.kinase_form:
                continue
            out[f"K_{p.target}_{drug.short}"] = p.k_nm
    return out
