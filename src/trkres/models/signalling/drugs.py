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
from trkres.knowledge.store import KnowledgeBase

__all__ = [
    "DRUGS",
    "FORM_SHIFTS",
    "TARGETS",
    "DrugPotency",
    "ModelDrug",
    "model_drugs",
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


#: Fold change of the TRK occupancy constant by kinase form, per drug: (factor, source).
#: Factors > 1 mean weaker binding (resistance).
FORM_SHIFTS: dict[str, dict[str, tuple[float, str]]] = {
    "larotrectinib": {
        "solvent_front": (1000 / 34, "fact:potencies:larotrectinib_ntrk3_g623r_cell / "
                          "fact:potencies:larotrectinib_trk_cell (a lower bound: > 1000 nM)"),
        "gatekeeper": (1000 / 34, "assumption (resistance is fact:kinase_positions:gatekeeper, "
                       "FDA label R1; the size is taken equal to the solvent front's)"),
        "xdfg": (100.0, "assumption (type I resistance is fact:potencies via cocco2021; size assumed)"),
    },
    "entrectinib": {
        "solvent_front": (507 / 2, "fact:potencies:entrectinib_trk_sf_cell / "
                          "fact:potencies:entrectinib_trk_cell"),
        "gatekeeper": (1000 / 34, "assumption (taken equal to larotrectinib's)"),
        "xdfg": (100.0, "assumption (type I resistance, cocco2021; size assumed)"),
    },
    "selitrectinib": {
        "solvent_front": (3.0, "assumption ('low nM' against the solvent front, "
                          "fact:potencies:selitrectinib_trk_cell, needs_review)"),
        "gatekeeper": (10.0, "assumption"),
        "xdfg": (100.0, "assumption (type I resistance incl. next generation, cocco2021)"),
    },
    "repotrectinib": {
        "solvent_front": (1.5, "fact:potencies:repotrectinib_trk_sf_cell / "
                          "fact:potencies:repotrectinib_trk_cell (both upper bounds)"),
        "gatekeeper": (1.0, "assumption"),
        "xdfg": (100.0, "assumption (type I resistance incl. next generation, cocco2021)"),
    },
    "cabozantinib": {
        "solvent_front": (30.0, "assumption"),
        "gatekeeper": (1.0, "assumption"),
        "xdfg": (0.3, "assumption (type II sensitivity switch, cocco2021; size assumed)"),
    },
}  # fmt: skip

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


def _cell_to_occupancy(kb: KnowledgeBase) -> tuple[float, str]:
    enzyme = kb.potencies.get("larotrectinib_trk_enzyme")
    cell = kb.potencies.get("larotrectinib_trk_cell")
    if enzyme is None or cell is None:
        raise InputError(
            "the knowledge base lacks larotrectinib's enzyme and cell potencies",
            expected="potencies larotrectinib_trk_enzyme and larotrectinib_trk_cell",
            found=", ".join(sorted(kb.potencies)) or "no potencies",
        )
    return enzyme.value_nm / cell.value_nm, (
        "× enzyme/cell ratio fact:potencies:larotrectinib_trk_enzyme / "
        "fact:potencies:larotrectinib_trk_cell"
    )


def model_drugs(kb: KnowledgeBase) -> dict[str, ModelDrug]:
    """Every drug the model simulates, keyed by knowledge-base id, with its potencies."""
    ratio, ratio_note = _cell_to_occupancy(kb)
    out: dict[str, ModelDrug] = {}
    for drug_id, short in DRUGS:
        potencies: list[DrugPotency] = []
        for target in TARGETS:
            fact_id = _FACTS.get((drug_id, target))
            if fact_id is not None and fact_id in kb.potencies:
                fact = kb.potencies[fact_id]
                scale = ratio if fact.assay == "cell" else 1.0
                base = fact.value_nm * scale
                source = f"fact:potencies:{fact_id}" + (f" {ratio_note}" if scale != 1 else "")
                status: str = fact.status
            elif (drug_id, target) in _ASSUMED:
                base, source, status = _ASSUMED[(drug_id, target)], "assumption", "assumption"
            else:
                continue
            potencies.append(DrugPotency(target, "wild_type", base, source, status))
            if target == "TRK":
                for form, (factor, why) in FORM_SHIFTS.get(drug_id, {}).items():
                    potencies.append(
                        DrugPotency(
                            target,
                            form,
                            base * factor,
                            f"wild type × {factor:.3g}: {why}",
                            status if why.startswith("fact") else "assumption",
                        )
                    )
        out[drug_id] = ModelDrug(drug_id, short, tuple(potencies))
    return out
