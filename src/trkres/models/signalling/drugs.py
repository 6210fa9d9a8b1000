"""Drug potencies of the signalling model: which drug hits which target form, how hard.

Each drug the model knows has an occupancy constant K (nM) per target it inhibits; a
drug at concentration C occupies C/K / (1 + Σ C/K) of its target (competitive,
mutually exclusive binding of the drugs on one target). Where the knowledge base has a
potency (``potencies`` topic) the constant comes from it and names the fact; the rest
are stated assumptions. Cell potencies are turned into occupancy constants with the one
ratio the knowledge base gives for the same drug in both assays (larotrectinib: enzyme
7.4 nM / cell 34 nM), so drugs measured only in cells sit on the same scale.

Resistance mutations of the fused TRK kinase change the constants by class
(:data:`FORM_SHIFTS`): a solvent-front mutant lowers every type I drug's potency by the
ratio the sources give (entrectinib 507/2 nM; larotrectinib's cited lower bound), xDFG
mutants resist type I drugs and sensitise to type II drugs (Cocco et al. 2021).
"""

from __future__ import annotations

from dataclasses import dataclass

from trkres.errors import InputError
from trkres.knowledge.schema import Potency
from trkres.knowledge.store import KnowledgeBase

__all__ = [
    "DRUGS",
    "FORM_SHIFTS",
    "TARGETS",
    "DrugPotency",
    "ModelDrug",
    "cell_to_occupancy",
    "model_drugs",
    "representative",
    "worst",
]

#: Targets the model's drugs act on (parameter suffixes).
TARGETS = ("TRK", "MEK", "BRAF", "MET")

#: Kinase forms of the fused TRK (the resistance classes that change drug binding).
FORMS = ("wild_type", "solvent_front", "gatekeeper", "xdfg")


@dataclass(frozen=True)
class DrugPotency:
    """The occupancy constant of one drug on one target form (nM) and where it comes from."""

    target: str
    form: str
    k_nm: float
    source: str
    #: ``verified`` / ``needs_review`` (from the knowledge fact) or ``assumption``.
    status: str = "assumption"


@dataclass(frozen=True)
class ModelDrug:
    """A drug the model simulates: its knowledge-base id, short name and potencies."""

    id: str
    short: str
    potencies: tuple[DrugPotency, ...]

    def k(self, target: str, form: str = "wild_type") -> float | None:
        """The occupancy constant on ``target`` (form for TRK), or ``None`` (no effect)."""
        for p in self.potencies:
            if p.target == target and (target != "TRK" or p.form == form):
                return p.k_nm
        return None


#: Fold change of the TRK occupancy constant by kinase form, per drug (> 1: weaker binding).
#: A pair of potency fact ids is the ratio of their representative values (see
#: :func:`representative`); a number is an assumption, with why.
FORM_SHIFTS: dict[str, dict[str, tuple[str, str] | tuple[float, str]]] = {
    "larotrectinib": {
        "solvent_front": ("larotrectinib_ntrk3_g623r_cell", "larotrectinib_trk_cell"),
        "gatekeeper": (1000 / 17, "assumption: resistance is fact:kinase_positions:gatekeeper "
                       "(FDA label R1); its size is taken as the shipped solvent-front factor (2000/34)"),
        "xdfg": (100.0, "assumption: type I resistance (Cocco et al. 2021), size assumed"),
    },
    "entrectinib": {
        "solvent_front": ("entrectinib_trk_sf_cell", "entrectinib_trk_cell"),
        "gatekeeper": (1000 / 17, "assumption: taken as larotrectinib's (2000/34)"),
        "xdfg": (100.0, "assumption: type I resistance (Cocco et al. 2021), size assumed"),
    },
    "selitrectinib": {
        "solvent_front": (3.0, "assumption: 'low nM' against the solvent front "
                          "(fact:potencies:selitrectinib_trk_cell, needs_review)"),
        "gatekeeper": (10.0, "assumption"),
        "xdfg": (100.0, "assumption: type I resistance incl. next generation (Cocco et al. 2021)"),
    },
    "repotrectinib": {
        "solvent_front": ("repotrectinib_trk_sf_cell", "repotrectinib_trk_cell"),
        "gatekeeper": (1.0, "assumption"),
        "xdfg": (100.0, "assumption: type I resistance incl. next generation (Cocco et al. 2021)"),
    },
    "cabozantinib": {
        "solvent_front": (30.0, "assumption"),
        "gatekeeper": (1.0, "assumption"),
        "xdfg": (0.3, "assumption: the type II sensitivity switch (Cocco et al. 2021), size assumed"),
    },
}  # fmt: skip

_RANK = {"verified": 0, "needs_review": 1, "assumption": 2}


def worst(*statuses: str) -> str:
    """The weakest of several statuses (assumption < needs_review < verified)."""
    return max(statuses, key=lambda s: _RANK.get(s, 2))


def representative(fact: Potency) -> float:
    """The value a potency fact stands for in the model (nM): its value, or for a bound
    twice a lower bound ('> x') and half an upper bound ('< x'), so the model lies on the
    bound's side rather than on the bound itself (a stated convention)."""
    if fact.qualifier == ">":
        return 2.0 * fact.value_nm
    if fact.qualifier == "<":
        return 0.5 * fact.value_nm
    return fact.value_nm


#: Potencies with no knowledge-base figure: (drug, target) → K in nM (all assumptions,
#: chosen in the range of published enzyme/cell potencies; listed in docs/signalling.md).
_ASSUMED = {
    ("cabozantinib", "TRK"): 20.0,
    ("cabozantinib", "MET"): 5.0,
    ("crizotinib", "MET"): 5.0,
    ("trametinib", "MEK"): 1.0,
    ("cobimetinib", "MEK"): 1.0,
    ("selumetinib", "MEK"): 15.0,
    ("dabrafenib", "BRAF"): 1.0,
}

#: Knowledge-base potency facts used for each drug's wild-type constant: (fact id, assay).
_FACTS = {
    ("larotrectinib", "TRK"): "larotrectinib_trk_enzyme",
    ("entrectinib", "TRK"): "entrectinib_trk_cell",
    ("selitrectinib", "TRK"): "selitrectinib_trk_cell",
    ("repotrectinib", "TRK"): "repotrectinib_trk_cell",
    ("binimetinib", "MEK"): "binimetinib_mek_enzyme",
}

#: The drugs the model simulates, in parameter order, with short parameter names.
DRUGS = (
    ("larotrectinib", "laro"),
    ("entrectinib", "entrec"),
    ("selitrectinib", "selit"),
    ("repotrectinib", "repot"),
    ("cabozantinib", "cabo"),
    ("crizotinib", "crizo"),
    ("trametinib", "trame"),
    ("binimetinib", "binim"),
    ("cobimetinib", "cobim"),
    ("selumetinib", "selum"),
    ("dabrafenib", "dabra"),
)


def _fact(kb: KnowledgeBase, fact_id: str) -> Potency:
    fact = kb.potencies.get(fact_id)
    if fact is None:
        raise InputError("the knowledge base lacks a potency the model needs",
                         expected=f"potencies:{fact_id}",
                         found=", ".join(sorted(kb.potencies)) or "no potencies")  # fmt: skip
    return fact


def cell_to_occupancy(kb: KnowledgeBase) -> tuple[float, str, str]:
    """(ratio, how, status): cell potencies × ratio = occupancy constants, from the one drug
    with both an enzyme and a cell figure (larotrectinib)."""
    enzyme = _fact(kb, "larotrectinib_trk_enzyme")
    cell = _fact(kb, "larotrectinib_trk_cell")
    ratio = representative(enzyme) / representative(cell)
    how = (f"× {ratio:.3g} (enzyme/cell: fact:potencies:larotrectinib_trk_enzyme / "
           "fact:potencies:larotrectinib_trk_cell)")  # fmt: skip
    return ratio, how, worst(enzyme.status, cell.status)


def model_drugs(kb: KnowledgeBase) -> dict[str, ModelDrug]:
    """Every drug the model simulates, keyed by knowledge-base id, with its potencies.

    Each constant's status is the weakest of every fact it rests on (``assumption`` where
    a number is assumed)."""
    ratio, ratio_note, ratio_status = cell_to_occupancy(kb)
    out: dict[str, ModelDrug] = {}
    for drug_id, short in DRUGS:
        potencies: list[DrugPotency] = []
        for target in TARGETS:
            fact_id = _FACTS.get((drug_id, target))
            if fact_id is not None and fact_id in kb.potencies:
                fact = kb.potencies[fact_id]
                base = representative(fact)
                source = f"fact:potencies:{fact_id}"
                status: str = fact.status
                if fact.assay == "cell":
                    base *= ratio
                    source += f" {ratio_note}"
                    status = worst(status, ratio_status)
            elif (drug_id, target) in _ASSUMED:
                base, source, status = _ASSUMED[(drug_id, target)], "assumption", "assumption"
            else:
                continue
            potencies.append(DrugPotency(target, "wild_type", base, source, status))
            if target != "TRK":
                continue
            for form, (first, second) in FORM_SHIFTS.get(drug_id, {}).items():
                if isinstance(first, str):
                    num, den = _fact(kb, first), _fact(kb, str(second))
                    factor = representative(num) / representative(den)
                    why = f"fact:potencies:{first} / fact:potencies:{second}"
                    shift_status = worst(status, num.status, den.status)
                else:
                    factor, why, shift_status = float(first), str(second), "assumption"
                potencies.append(DrugPotency(target, form, base * factor,
                                             f"wild type × {factor:.3g}: {why}", shift_status))  # fmt: skip
        out[drug_id] = ModelDrug(drug_id, short, tuple(potencies))
    return out
