"""Classify resistance in context: the fusion, the drugs received, the timepoints.

:class:`ResistanceCaller` follows scikit-learn's habit: parameters in the
constructor, ``fit`` on the data, results in attributes ending in ``_``::

    caller = ResistanceCaller(knowledge).fit(alterations, samples, timeline)
    caller.alterations_   # every row, annotated
    caller.samples_       # one row per sample: fusion, mechanism, therapies
    caller.patients_      # one row per patient, across timepoints

Rules (each stated in the output):
- a patient's fusion status comes from the samples fusion data cover (an SV
  file lists the sample, or the clinical file states its fusion): ``detected``
  (an NTRK fusion in any of its samples), ``not_detected`` (covered, no NTRK
  fusion: mechanism ``no_trk_fusion``) or ``unknown`` (no fusion data: mechanism
  ``fusion_unknown``, alterations listed and classed but nothing counted as
  TRK-inhibitor resistance and no therapy strategy). ``assume_trk_fusion``
  turns ``unknown`` into ``assumed``: every patient is taken to carry a TRK
  fusion, on-target classes count in any NTRK gene, and the output says so;
- an on-target class counts only in the NTRK gene fused in that patient;
- only ``verified`` facts (and rules) set ``mechanism`` and
  ``therapy_strategies``; alterations resting on ``needs_review`` facts or
  rules go to ``unverified_alterations``, ``unverified_mechanism`` (the
  mechanism they would give, where it differs) and ``unverified_strategies``
  unless ``include_unverified``;
- a patient's resistance is what is present after the first TRK inhibitor and
  not before it, plus on-target changes present both before and after it
  (primary resistance, flagged) and those of samples without a collection day
  (flagged); pre-existing bypass changes are listed apart;
- ``acquired``: absent from every sample taken before the first TRK inhibitor
  (a baseline sample with data of its kind: mutations, copy number or fusions),
  present after it; ``pre_existing``: present before; else ``timing_unknown``
  (no baseline sample, no collection day or no treatment timeline);
- VAF relative to the sample's reference allele fraction (the fusion's when
  measured, else the highest VAF of a pre-existing alteration); ratios below
  ``subclonal_ratio`` are called subclonal;
- cfDNA variants in clonal-haematopoiesis genes are flagged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trkres.genomics.annotate import Annotator, combined_codes
from trkres.genomics.model import HIGH_CARDINALITY, empty_alterations, from_codes, text
from trkres.knowledge.schema import OFF_TARGET_CLASSES, ON_TARGET_CLASSES
from trkres.knowledge.store import KnowledgeBase

#: What identifies an alteration (its annotation depends on nothing else).
ALTERATION_KEY = ["gene", "alteration_type", "protein_change", "fusion"]

MECHANISMS = (
    "on_target",
    "off_target",
    "on_and_off_target",
    "none_detected",
    "no_trk_fusion",
    "fusion_unknown",
)
STRATEGIES = (
    "next_gen_type1_trki",
    "type2_trki",
    "trki_plus_meki",
    "trki_plus_rafi_plus_meki",
    "trki_plus_meti",
)

SAMPLE_COLUMNS = [
    "sample_id", "patient_id", "sample_type", "collection_day", "timepoint", "fusion",
    "fusion_status", "mechanism", "on_target", "off_target", "therapy_strategies", "evidence",
    "unverified_mechanism", "unverified_alterations", "unverified_strategies", "review_flags",
]  # fmt: skip
_SUMMARY_KEYS = [
    "mechanism",
    "on_target",
    "off_target",
    "therapy_strategies",
    "evidence",
    "unverified_mechanism",
    "unverified_alterations",
    "unverified_strategies",
    "review_flags",
]
#: The fields of an alteration that sample and patient summaries read.
_RECORD_FIELDS = ("gene", "protein_change", "alteration_type", "alteration_class", "counts_as",
                  "therapy_strategies", "therapy_rules", "fact_status", "target_note", "ch_flag",
                  "timing", "timepoint")  # fmt: skip


@dataclass
class _Records:
    """The alterations summaries need, as records; groups are record positions."""

    records: list[dict[str, Any]]
    signature: list[int]
    by_sample: dict[str, list[int]]
    by_patient: dict[str, list[int]]


PATIENT_COLUMNS = [
    "patient_id", "fusion", "fusion_status", "n_samples", "first_trki_day", "trk_inhibitors",
    "mechanism", "acquired_on_target", "acquired_off_target", "pre_existing_bypass",
    "therapy_strategies", "evidence", "unverified_mechanism", "unverified_alterations",
    "unverified_strategies", "review_flags",
]  # fmt: skip

#: Fusion statuses: measured (detected / not_detected), unknown, or assumed by the user.
FUSION_STATUSES = ("detected", "not_detected", "unknown", "assumed")
_NOTE_OUTSIDE = "kinase-domain change outside the fused NTRK gene: not counted"
_NOTE_UNKNOWN = "fusion unknown: not counted as TRK-inhibitor resistance"
_NOTE_ASSUMED = "TRK fusion assumed (not measured): counted as on-target"


def _join(values: list[str]) -> str:
    return ";".join(dict.fromkeys(v for v in values if v))


def mechanism_of(on: bool, off: bool, fusion_status: str) -> str:
    """The sample or patient mechanism from whether on/off-target alterations count."""
    if fusion_status == "not_detected":
        return "no_trk_fusion"
    if fusion_status == "unknown":
        return "fusion_unknown"
    if on and off:
        return "on_and_off_target"
    if on:
        return "on_target"
    if off:
        return "off_target"
    return "none_detected"


@dataclass
class ResistanceCaller:
    """Classify TRK-inhibitor resistance from sequencing alterations.

    Parameters
    ----------
    knowledge:
        The knowledge base (facts, rules, evidence).
    subclonal_ratio:
        VAF / reference allele fraction below which an alteration is subclonal.
    assume_trk_fusion:
        Take every patient without fusion data to carry a TRK fusion (status
        ``assumed``): on-target classes count in any NTRK gene. Default: such
        patients are ``fusion_unknown``, with no therapy strategy.
    include_unverified:
        Let ``needs_review`` facts and rules set ``mechanism`` and
        ``therapy_strategies`` (flagged). Default: they go to the
        ``unverified_*`` columns only.
    """

    knowledge: KnowledgeBase
    subclonal_ratio: float = 0.5
    assume_trk_fusion: bool = False
    include_unverified: bool = False
    _patient_status: dict[str, str] = field(init=False, repr=False, default_factory=dict)
    _first_trki: dict[str, float] = field(init=False, repr=False, default_factory=dict)
    _sample_codes: np.ndarray = field(init=False, repr=False)
    _evidence_cache: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[str, list[str]]] = field(
        init=False, repr=False, default_factory=dict
    )
    alterations_: pd.DataFrame = field(init=False, repr=False)
    samples_: pd.DataFrame = field(init=False, repr=False)
    patients_: pd.DataFrame = field(init=False, repr=False)
    facts_used_: set[str] = field(init=False, repr=False, default_factory=set)

    def fit(
        self,
        alterations: pd.DataFrame,
        samples: pd.DataFrame | None = None,
        timeline: pd.DataFrame | None = None,
        *,
        fusion_data: bool | None = None,
        fusion_samples: Iterable[str] = (),
    ) -> ResistanceCaller:
        """Annotate ``alterations`` (canonical table) and summarise samples and patients.

        ``samples``: ``sample_id, patient_id, sample_type, collection_day`` and
        optionally ``fusion_call`` (``detected`` / ``not_detected`` / '' as the
        clinical file states it); ``timeline``: as
        :func:`trkres.genomics.io.clinical.read_timeline` gives.
        Fusion data cover the samples with a fusion row, the ``fusion_samples``
        (samples an SV file lists) and those whose ``fusion_call`` is stated;
        ``fusion_data=True`` says every sample was assessed for fusions.
        """
        kb = self.knowledge
        alts = alterations if len(alterations.columns) else empty_alterations()
        alts = alts.reset_index(drop=True)
        annotation = Annotator(kb).annotate(alts)
        alts = pd.concat([alts, annotation], axis=1)
        alts["fact_status"] = _unverified_locations(alts)
        sample_table = self._sample_table(alts, samples)
        # A hash look-up of each row's sample (cheaper than a merge on 1M rows).
        at = _lookup(alts["sample_id"], pd.Index(sample_table["sample_id"]))
        self._sample_codes = at.astype(np.int64)
        for col in ("patient_id", "sample_type"):
            # Categoricals built from the (small) sample table: no per-row strings.
            codes, uniques = pd.factorize(sample_table[col].astype(str))
            alts[col] = from_codes(codes[at], [str(u) for u in uniques.tolist()])
        for col in ("collection_day", "in_clinical_file"):
            alts[col] = sample_table[col].to_numpy()[at]

        # The NTRK fusion of each patient (from any of its samples).
        drivers = alts.loc[
            alts["alteration_class"] == "fusion_driver", ["patient_id", "gene", "fusion"]
        ]
        fusion_genes = _collect(drivers["patient_id"], drivers["gene"])
        fusion_names = _collect(drivers["patient_id"], drivers["fusion"])
        self._clinical_fusions(sample_table, fusion_genes, fusion_names)
        self._patient_status = self._fusion_status(
            alts, sample_table, fusion_genes, fusion_data, fusion_samples
        )
        # Per patient (category), then broadcast by code: no per-row strings.
        patients = alts["patient_id"].cat
        per_patient = [fusion_genes.get(str(p), "") for p in patients.categories.tolist()]
        patient_codes = patients.codes.to_numpy().astype(np.int64)
        alts["patient_fusion_genes"] = from_codes(patient_codes, per_patient or [""])
        status_labels = [self._patient_status[str(p)] for p in patients.categories.tolist()] or [""]
        alts["fusion_status"] = from_codes(patient_codes, status_labels)
        labels = np.asarray(status_labels, dtype=object)[patient_codes]
        unknown = labels == "unknown"
        assumed = labels == "assumed"

        on_class = alts["alteration_class"].isin(list(ON_TARGET_CLASSES)).to_numpy()
        off_class = alts["alteration_class"].isin(list(OFF_TARGET_CLASSES)).to_numpy()
        in_fused = np.zeros(len(alts), dtype=bool)
        idx = np.flatnonzero(on_class)
        if len(idx):
            genes = alts["gene"].iloc[idx].to_numpy(dtype=object)
            fused = np.asarray(per_patient, dtype=object)[patient_codes[idx]]
            in_fused[idx] = [g in f.split(";") for g, f in zip(genes, fused, strict=True)]
        counted_on = on_class & (assumed | in_fused)
        counted_off = off_class & ~unknown
        alts["counts_as"] = _choose([counted_on, counted_off], ["on_target", "off_target"], "")
        alts["target_note"] = _choose(
            [(on_class | off_class) & unknown, on_class & assumed, on_class & ~counted_on],
            [_NOTE_UNKNOWN, _NOTE_ASSUMED, _NOTE_OUTSIDE],
            "",
        )

        alts = self._timing(alts, timeline)
        alts = self._clonality(alts)
        alts = self._therapies(alts)
        self.alterations_ = alts
        records = self._interesting(alts)
        self.samples_ = self._summarise_samples(records, sample_table, fusion_names)
        self.patients_ = self._summarise_patients(records, sample_table, timeline, fusion_names)
        used = set(alts.loc[alts["class_fact"] != "", "class_fact"])
        used |= set(alts.loc[alts["known_fact"] != "", "known_fact"])
        used |= {f"therapy_rules:{r}" for r in _split_all(alts["therapy_rules"])}
        used |= {f"therapy_strategies:{s}" for s in _split_all(alts["therapy_strategies"])}
        self.facts_used_ = used
        return self

    # ------------------------------------------------------------------ steps
    @staticmethod
    def _sample_table(alts: pd.DataFrame, samples: pd.DataFrame | None) -> pd.DataFrame:
        seen = pd.Index(pd.unique(alts["sample_id"]))
        if samples is None or samples.empty:
            table = pd.DataFrame({"sample_id": seen})
            table["patient_id"] = table["sample_id"]
            table["sample_type"] = ""
            table["collection_day"] = np.nan
            table["in_clinical_file"] = False
            table[["fusion_call", "fusion_gene", "fusion_name"]] = ""
            return table
        table = samples[["sample_id", "patient_id", "sample_type", "collection_day"]].copy()
        for col in ("fusion_call", "fusion_gene", "fusion_name"):
            table[col] = text(samples[col]).to_numpy() if col in samples else ""
        table["in_clinical_file"] = True
        extra = seen.difference(pd.Index(table["sample_id"]))
        if len(extra):
            add = pd.DataFrame({"sample_id": extra, "patient_id": extra, "sample_type": "",
                                "collection_day": np.nan, "in_clinical_file": False,
                                "fusion_call": "", "fusion_gene": "",
                                "fusion_name": ""})  # fmt: skip
            table = pd.concat([table, add], ignore_index=True)
        return table

    def _clinical_fusions(
        self, table: pd.DataFrame, genes: dict[str, str], names: dict[str, str]
    ) -> None:
        """Fusions the clinical file states (``fusion_call == 'detected'``) for patients
        without one in the SV data: its gene, or every NTRK gene when none is named."""
        if "fusion_gene" not in table:
            return
        stated = table[table["fusion_call"] == "detected"]
        trk = ";".join(sorted(self.knowledge.trk_genes))
        for patient, gene, name in zip(
            stated["patient_id"].astype(str), text(stated["fusion_gene"]),
            text(stated["fusion_name"]), strict=True,
        ):  # fmt: skip
            if patient in genes:
                continue
            genes[patient] = gene or trk
            names[patient] = name or "NTRK fusion (clinical file, gene not stated)"

    def _fusion_status(
        self,
        alts: pd.DataFrame,
        sample_table: pd.DataFrame,
        fusion_genes: dict[str, str],
        fusion_data: bool | None,
        fusion_samples: Iterable[str],
    ) -> dict[str, str]:
        """Each patient's fusion status (see the module docstring)."""
        fusion_rows = alts.loc[(alts["alteration_type"] == "fusion").to_numpy(), "sample_id"]
        covered = {str(s) for s in pd.unique(fusion_rows)} | {str(s) for s in fusion_samples}
        call = sample_table["fusion_call"].astype(str)
        table = pd.DataFrame(
            {
                "patient": sample_table["patient_id"].astype(str).to_numpy(),
                "covered": True
                if fusion_data
                else (_in_set(sample_table["sample_id"], covered) | (call != "").to_numpy()),
                "stated": (call == "detected").to_numpy(),
            }
        )
        by_patient = table.groupby("patient", sort=False)[["covered", "stated"]].any()
        missing = "assumed" if self.assume_trk_fusion else "unknown"
        status: dict[str, str] = {}
        for p, cov, stated in zip(
            by_patient.index.tolist(),
            by_patient["covered"].tolist(),
            by_patient["stated"].tolist(),
            strict=True,
        ):
            if fusion_genes.get(p) or stated:
                status[p] = "detected"
            else:
                status[p] = "not_detected" if cov else missing
        return status

    def _timing(self, alts: pd.DataFrame, timeline: pd.DataFrame | None) -> pd.DataFrame:
        first_trki: pd.Series
        if timeline is not None and len(timeline):
            trk = timeline.loc[timeline["trk_inhibitor"].astype(bool)]
            first_trki = trk.groupby("patient_id")["start_day"].min()
        else:
            first_trki = pd.Series(dtype=float)
        self._first_trki = {str(k): float(v) for k, v in first_trki.items()}
        cats = alts["patient_id"].cat
        per_patient = np.array(
            [self._first_trki.get(str(p), np.nan) for p in cats.categories.tolist()], dtype=float
        )
        alts["first_trki_day"] = per_patient[cats.codes] if len(per_patient) else np.nan
        day = alts["collection_day"].astype(float)
        unknown = (alts["first_trki_day"].isna() | day.isna()).to_numpy()
        baseline = ~unknown & (day <= alts["first_trki_day"]).to_numpy()
        post = ~unknown & ~baseline
        alts["timepoint"] = _choose([baseline, post], ["baseline", "post_trki"], "unknown")
        seen_before = _seen_at_baseline(alts, baseline, post)
        patient_has_baseline = _baseline_of_kind(alts, baseline)
        silent = (alts["alteration_type"] == "silent").to_numpy()
        alts["timing"] = _choose(
            [silent, baseline | (post & seen_before), post & patient_has_baseline],
            ["", "pre_existing", "acquired"],
            "timing_unknown",
        )
        return alts

    def _clonality(self, alts: pd.DataFrame) -> pd.DataFrame:
        vaf = alts["vaf"].to_numpy(dtype=float)
        codes = self._sample_codes
        n_samples = int(codes.max()) + 1 if len(codes) else 0

        def per_sample_max(mask: np.ndarray) -> np.ndarray:
            best = np.full(n_samples, np.nan)
            use = mask & ~np.isnan(vaf)
            np.fmax.at(best, codes[use], vaf[use])
            return best

        ref_fusion = per_sample_max((alts["alteration_class"] == "fusion_driver").to_numpy())
        ref_truncal = per_sample_max((alts["timing"] == "pre_existing").to_numpy())
        reference = np.where(np.isnan(ref_fusion), ref_truncal, ref_fusion)
        alts["reference_af"] = reference[codes] if n_samples else np.nan
        has_fusion, has_truncal = ~np.isnan(ref_fusion)[codes], ~np.isnan(ref_truncal)[codes]
        alts["reference_af_source"] = _choose(
            [has_fusion, has_truncal], ["fusion", "highest_truncal"], ""
        ) if n_samples else ""  # fmt: skip
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = pd.Series(vaf / alts["reference_af"].to_numpy(dtype=float), index=alts.index)
        alts["vaf_ratio"] = ratio
        known = ratio.notna().to_numpy()
        sub = known & (ratio < self.subclonal_ratio).to_numpy()
        alts["clonality"] = _choose([sub, known], ["subclonal", "clonal"], "")
        ch_genes = {
            g.symbol for g in self.knowledge.genes.values() if "clonal_haematopoiesis" in g.roles
        }
        alts["ch_flag"] = (alts["sample_type"] == "cfDNA").to_numpy() & alts["gene"].isin(
            list(ch_genes)
        ).to_numpy()
        return alts

    def _therapies(self, alts: pd.DataFrame) -> pd.DataFrame:
        """Strategies per counted alteration (rules matched on distinct keys).

        ``therapy_strategies``: from verified rules on verified facts (any, with
        ``include_unverified``); ``unverified_strategies``: the others.
        ``therapy_rules`` lists every rule that matched.
        """
        kb = self.knowledge
        counted = alts["counts_as"] != ""
        strat_codes = np.zeros(len(alts), dtype=np.int64)
        rule_codes = np.zeros(len(alts), dtype=np.int64)
        s_list, r_list, u_list = [""], [""], [""]
        key = ["alteration_class", "gene", "alteration_type", "fact_status", "class_fact"]
        if counted.any():
            sub = alts.loc[counted, key]
            codes, distinct = combined_codes(sub, key)
            for row in distinct.to_dict(orient="records"):
                rules = [
                    r for r in kb.therapy_rules.values()
                    if r.when.alteration_class == row["alteration_class"]
                    and (not r.when.genes or row["gene"] in r.when.genes)
                    and (not r.when.alteration_types or row["alteration_type"] in r.when.alteration_types)
                    and (not r.when.facts or str(row["class_fact"]).split(":", 1)[-1] in r.when.facts)
                ]  # fmt: skip
                fact_ok = self.include_unverified or row["fact_status"] == "verified"
                ok = [
                    r
                    for r in rules
                    if fact_ok and (self.include_unverified or r.status == "verified")
                ]
                sure = _join([s for r in ok for s in r.strategies])
                s_list.append(sure)
                u_list.append(_join([s for r in rules if r not in ok for s in r.strategies
                                     if s not in sure.split(";")]))  # fmt: skip
                r_list.append(_join([r.id for r in rules]))
            strat_codes[counted.to_numpy()] = codes + 1
            rule_codes[counted.to_numpy()] = codes + 1
        alts["therapy_strategies"] = from_codes(strat_codes, s_list)
        alts["unverified_strategies"] = from_codes(strat_codes, u_list)
        alts["therapy_rules"] = from_codes(rule_codes, r_list)
        return alts

    # -------------------------------------------------------------- summaries
    def _evidence(self, strategies: list[str], rules: list[str]) -> tuple[str, list[str]]:
        key = (tuple(strategies), tuple(rules))
        if key not in self._evidence_cache:
            self._evidence_cache[key] = self._evidence_uncached(strategies, rules)
        text_, review = self._evidence_cache[key]
        return text_, list(review)

    def _evidence_uncached(self, strategies: list[str], rules: list[str]) -> tuple[str, list[str]]:
        kb = self.knowledge
        parts, review = [], []
        for sid in strategies:
            ids = []
            for rid in rules:
                rule = kb.therapy_rules.get(rid)
                if rule is None or sid not in rule.strategies:
                    continue
                ids.append(kb.cite(rule))
                if rule.status == "needs_review":
                    review.append(f"rule {rid} needs_review")
            strat = kb.therapy_strategies.get(sid)
            if strat is not None:
                ids.append(kb.cite(strat))
                review.extend(
                    f"{sid}: {d.drug} needs_review"
                    for d in strat.example_drugs
                    if d.status == "needs_review"
                )
            flat = _join(";".join(ids).split(";"))
            parts.append(f"{sid}[{flat}]")
        return " ".join(parts), review

    def _summary_row(self, group: list[dict[str, Any]], fusion_status: str) -> dict[str, object]:
        """Mechanism, alterations, therapies, evidence and flags of a few records.

        Only verified facts and rules set ``mechanism`` and ``therapy_strategies``
        (unless ``include_unverified``); the others fill the ``unverified_*`` fields.
        """
        kb = self.knowledge

        def name(r: dict[str, Any]) -> str:
            return f"{r['gene']} {r['protein_change'] or r['alteration_type']}"

        def label(r: dict[str, Any]) -> str:
            return f"{name(r)} ({r['alteration_class']})"

        if fusion_status == "unknown":
            # Listed and classed, but not resistance to a TRK inhibitor: nothing counts.
            side = {c: "on_target" for c in ON_TARGET_CLASSES} | {
                c: "off_target" for c in OFF_TARGET_CLASSES
            }
            candidates = [dict(r, counts_as=side.get(r["alteration_class"], "")) for r in group]
            candidates = [r for r in candidates if r["counts_as"]]
        else:
            candidates = [r for r in group if r["counts_as"]]
        trusted = self.include_unverified
        verified = [r for r in candidates if trusted or r["fact_status"] == "verified"]
        unverified = [r for r in candidates if not (trusted or r["fact_status"] == "verified")]
        on = [r for r in verified if r["counts_as"] == "on_target"]
        off = [r for r in verified if r["counts_as"] == "off_target"]
        rule_ok: list[str] = []  # rules that may set strategies
        rule_review: list[str] = []  # rules (or alterations) that need review
        for r, fact_ok in [(r, True) for r in verified] + [(r, False) for r in unverified]:
            for rid in (x for x in r["therapy_rules"].split(";") if x):
                rule = kb.therapy_rules.get(rid)
                ok = rule is not None and (trusted or rule.status == "verified")
                (rule_ok if ok and fact_ok else rule_review).append(rid)
        order = {s: i for i, s in enumerate(STRATEGIES)}

        def strategies_of(rule_ids: list[str]) -> list[str]:
            found = [s for rid in rule_ids for s in kb.therapy_rules[rid].strategies]
            return sorted(dict.fromkeys(found), key=lambda s: order.get(s, 99))

        measured = fusion_status not in ("not_detected", "unknown")
        strategies = strategies_of(rule_ok) if measured else []
        review_strategies = (
            [s for s in strategies_of(rule_review) if s not in strategies] if measured else []
        )
        rules = list(dict.fromkeys(rule_ok))
        evidence, review = self._evidence(strategies, rules)
        if {"solvent_front", "xdfg"} <= {r["alteration_class"] for r in on}:
            review.append(
                "solvent front + xDFG: no single TRK inhibitor class covers both "
                "(xDFG resists type I, Cocco 2021; type II agents spare G595R, Fuse 2017)"
            )
        review += [
            f"{name(r)}: fact needs_review"
            + (" (counted: --include-unverified)" if trusted else " (not in the headline call)")
            for r in candidates
            if r["fact_status"] == "needs_review"
        ]
        review += [
            f"rule {rid} needs_review"
            + (" (used: --include-unverified)" if trusted else " (its strategies not suggested)")
            for rid in dict.fromkeys(rule_review)
            if rid in kb.therapy_rules and kb.therapy_rules[rid].status == "needs_review"
        ]
        review += [
            f"{r['gene']} {r['protein_change']}: {r['target_note']}"
            for r in group
            if r["target_note"] and r["target_note"] != _NOTE_UNKNOWN
        ]
        review += [
            f"{r['gene']} {r['protein_change']}: cfDNA variant in a clonal-haematopoiesis gene"
            for r in group
            if r["ch_flag"]
        ]
        if fusion_status == "unknown":
            review.append(
                "fusion unknown: no fusion data cover this patient's samples; alterations are "
                "listed but not called TRK-inhibitor resistance (--assume-trk-fusion if every "
                "sample carries a TRK fusion)"
            )
        elif fusion_status == "assumed":
            review.append("TRK fusion assumed, not measured (--assume-trk-fusion)")
        mechanism = mechanism_of(bool(on), bool(off), fusion_status)
        every_on = bool(on) or any(r["counts_as"] == "on_target" for r in unverified)
        every_off = bool(off) or any(r["counts_as"] == "off_target" for r in unverified)
        would_be = mechanism_of(every_on, every_off, fusion_status)
        return {
            "mechanism": mechanism,
            "on_target": _join([label(r) for r in on]),
            "off_target": _join([label(r) for r in off]),
            "therapy_strategies": ";".join(strategies),
            "evidence": evidence,
            "unverified_mechanism": would_be if would_be != mechanism else "",
            "unverified_alterations": _join(
                [f"{label(r)[:-1]}, {r['counts_as']}, needs_review)" for r in unverified]
            ),
            "unverified_strategies": ";".join(review_strategies),
            "review_flags": _join(review),
        }

    @staticmethod
    def _interesting(alts: pd.DataFrame) -> _Records:
        """The few rows a summary needs (counted, flagged or CH), as records, each with a
        signature code (equal for records alike in every field a summary reads)."""
        keep = np.flatnonzero(
            ((alts["counts_as"] != "") | (alts["target_note"] != "") | alts["ch_flag"]).to_numpy()
        )
        subset = alts[["sample_id", "patient_id", *_RECORD_FIELDS]].take(keep)
        columns = [subset[c].tolist() for c in _RECORD_FIELDS]
        records = [dict(zip(_RECORD_FIELDS, v, strict=True)) for v in zip(*columns, strict=True)]
        signature, _ = combined_codes(subset, list(_RECORD_FIELDS), distinct=False)
        by: dict[str, dict[str, list[int]]] = {}
        for key in ("sample_id", "patient_id"):
            groups: dict[str, list[int]] = {}
            for i, k in enumerate(subset[key].tolist()):
                groups.setdefault(str(k), []).append(i)
            by[key] = groups
        return _Records(records, signature.tolist(), by["sample_id"], by["patient_id"])

    def _summarise_samples(
        self, rec: _Records, sample_table: pd.DataFrame, fusion_names: dict[str, str]
    ) -> pd.DataFrame:
        table = sample_table.copy()
        table["fusion"] = text(table["patient_id"].astype(str).map(fusion_names))
        table["fusion_status"] = table["patient_id"].astype(str).map(self._patient_status)
        first_day = table["patient_id"].astype(str).map(self._first_trki).astype(float)
        day = table["collection_day"].astype(float)
        table["timepoint"] = np.where(
            first_day.isna() | day.isna(),
            "unknown",
            np.where(day <= first_day, "baseline", "post_trki"),
        )
        memo: dict[tuple[Any, ...], dict[str, object]] = {}
        rows = []
        statuses = table["fusion_status"].tolist()
        for sid, status in zip(table["sample_id"].tolist(), statuses, strict=True):
            idx = rec.by_sample.get(str(sid), [])
            # Samples alike in status and records share one summary (computed once).
            key = (status, *(rec.signature[i] for i in idx))
            if key not in memo:
                memo[key] = self._summary_row([rec.records[i] for i in idx], status)
            rows.append(memo[key])
        summary = pd.DataFrame(rows, columns=_SUMMARY_KEYS)
        out = pd.concat([table.reset_index(drop=True), summary], axis=1)
        missing = ~out["in_clinical_file"].astype(bool) & out["timepoint"].ne("unknown")
        out.loc[missing, "review_flags"] = [
            _join([str(f), "sample not in the clinical file"])
            for f in out.loc[missing, "review_flags"]
        ]
        return out[SAMPLE_COLUMNS]

    def _summarise_patients(
        self, rec: _Records, sample_table: pd.DataFrame, timeline: pd.DataFrame | None,
        fusion_names: dict[str, str],
    ) -> pd.DataFrame:  # fmt: skip
        patients = (
            sample_table.groupby("patient_id", sort=False).size().rename("n_samples").reset_index()
        )
        patients["fusion"] = text(patients["patient_id"].astype(str).map(fusion_names))
        patients["fusion_status"] = patients["patient_id"].astype(str).map(self._patient_status)
        status = patients["fusion_status"].tolist()
        patients["first_trki_day"] = (
            patients["patient_id"].astype(str).map(self._first_trki).astype(float)
        )
        trk_by_patient: dict[str, str] = {}
        if timeline is not None and len(timeline):
            trk = timeline[timeline["trk_inhibitor"].astype(bool)]
            trk_by_patient = _collect(trk["patient_id"], trk["drugs"])
        patients["trk_inhibitors"] = [
            trk_by_patient.get(str(p), "") for p in patients["patient_id"].tolist()
        ]
        memo: dict[tuple[Any, ...], dict[str, object]] = {}

        def names(records: list[dict[str, Any]]) -> str:
            return _join(
                [f"{r['gene']} {r['protein_change'] or r['alteration_type']}" for r in records]
            )

        rows = []
        for patient, st in zip(patients["patient_id"].tolist(), status, strict=True):
            idx = rec.by_patient.get(str(patient), [])
            # Patients alike in status and records share one row (computed once).
            key = (st, *(rec.signature[i] for i in idx))
            if key in memo:
                rows.append(memo[key])
                continue
            group = [rec.records[i] for i in idx]
            # Resistance: what is present after a TRK inhibitor and not before it
            # (acquired, or timing unknown); without timepoints, everything found.
            post = [r for r in group if r["timepoint"] == "post_trki"]
            # ...and a kinase-domain change in the fused gene still there after it, even if
            # present before (primary resistance: G595R resists type I agents whenever it
            # arose); leaving it out suggested type II agents that spare G595R (Fuse 2017).
            primary = [
                r for r in post if r["timing"] == "pre_existing" and r["counts_as"] == "on_target"
            ]
            # ...and what an undated sample holds (it may be from either side): never
            # left out of the call in silence.
            undated = [r for r in group if r["timepoint"] == "unknown"] if post else []
            if post:
                resist = [r for r in post if r["timing"] != "pre_existing"] + primary + undated
            elif all(r["timepoint"] == "baseline" for r in group):
                resist = []
            else:
                resist = group
            row = self._summary_row(resist, str(st))
            if primary or undated:
                row["review_flags"] = _join(
                    [str(row["review_flags"])]
                    + [f"{r['gene']} {r['protein_change']}: present before the first TRK "
                       "inhibitor and after it (primary on-target resistance, not acquired)"
                       for r in primary]
                    + [f"{r['gene']} {r['protein_change'] or r['alteration_type']}: from a "
                       "sample without a collection day (counted; may predate the TRK "
                       "inhibitor)" for r in undated if r["counts_as"]]
                )  # fmt: skip
            acquired = [r for r in group if r["timing"] == "acquired"]
            row["acquired_on_target"] = names(
                [r for r in acquired if r["counts_as"] == "on_target"]
            )
            row["acquired_off_target"] = names(
                [r for r in acquired if r["counts_as"] == "off_target"]
            )
            row["pre_existing_bypass"] = names(
                [
                    r
                    for r in group
                    if r["timing"] == "pre_existing" and r["counts_as"] == "off_target"
                ]
            )
            memo[key] = row
            rows.append(row)
        summary = pd.DataFrame(
            rows,
            columns=[
                *_SUMMARY_KEYS,
                "acquired_on_target",
                "acquired_off_target",
                "pre_existing_bypass",
            ],
        )
        out = pd.concat([patients.reset_index(drop=True), summary], axis=1)
        return out[PATIENT_COLUMNS]


#: The assay each alteration type comes from: a baseline sample tells whether an
#: alteration is new only for the kind of data it was assayed with.
_DATA_KIND = {"mutation": 0, "truncating": 0, "silent": 0, "amplification": 1, "deletion": 1,
              "fusion": 2}  # fmt: skip


def _baseline_of_kind(alts: pd.DataFrame, baseline: np.ndarray) -> np.ndarray:
    """For each row: has its patient a baseline sample with data of the row's kind
    (mutations, copy number, fusions)? A baseline known only from its fusion call
    (an RNA panel at diagnosis) cannot make a later mutation ``acquired``."""
    types = alts["alteration_type"].astype("category").cat
    per_type = np.array([_DATA_KIND.get(str(t), 0) for t in types.categories.tolist()] + [0])
    kind = per_type[types.codes.to_numpy()]
    patients = alts["patient_id"].cat
    patient = patients.codes.to_numpy()
    # A (patient × kind) table filled from the baseline rows, read back by index: O(rows).
    seen = np.zeros((len(patients.categories) + 1, 3), dtype=bool)
    seen[patient[baseline], kind[baseline]] = True
    found: np.ndarray = seen[patient, kind]
    return found


def _seen_at_baseline(alts: pd.DataFrame, baseline: np.ndarray, post: np.ndarray) -> np.ndarray:
    """For each post-TRKi row: is the same alteration (:data:`ALTERATION_KEY`) in a
    baseline sample of the same patient?

    Two stages, so the near-unique protein-change text is compared only where
    it can matter: first on integer codes of patient, gene, type and fusion
    (categoricals, no hashing of text); then, among the few rows whose coarse
    key is shared with a baseline row, on the full key.
    """
    seen = np.zeros(len(alts), dtype=bool)
    if not baseline.any() or not post.any():
        return seen
    coarse_cols = [c for c in ["patient_id", *ALTERATION_KEY] if c not in HIGH_CARDINALITY]
    coarse, _ = combined_codes(alts, coarse_cols, distinct=False, dense=False)
    post_rows, base_rows = np.flatnonzero(post), np.flatnonzero(baseline)
    maybe = np.zeros(len(alts), dtype=bool)
    maybe[post_rows] = pd.Series(coarse[post_rows]).isin(coarse[base_rows]).to_numpy()
    if not maybe.any():
        return seen
    partner = base_rows[pd.Series(coarse[base_rows]).isin(coarse[maybe]).to_numpy()]
    pool = np.union1d(np.flatnonzero(maybe), partner)
    sub = alts.iloc[pool][[c for c in ALTERATION_KEY if c in HIGH_CARDINALITY]].copy()
    sub["_coarse"] = coarse[pool]
    full, _ = combined_codes(sub, list(sub.columns), distinct=False)
    at_base = baseline[pool]
    hit = pd.Series(full).isin(full[at_base]).to_numpy()
    seen[pool[maybe[pool] & hit]] = True
    return seen


def _collect(keys: pd.Series, values: pd.Series) -> dict[str, str]:
    """``key → 'v1;v2'`` (distinct values in order), in plain Python over a few rows."""
    out: dict[str, list[str]] = {}
    pairs = pd.DataFrame({"k": keys.tolist(), "v": values.tolist()}).drop_duplicates()
    for k, v in zip(pairs["k"].astype(str).tolist(), pairs["v"].astype(str).tolist(), strict=True):
        vals = out.setdefault(k, [])
        if v not in vals:
            vals.append(v)
    return {k: ";".join(v) for k, v in out.items()}


def _choose(conditions: list[np.ndarray], labels: list[str], default: str) -> pd.Categorical:
    """Like ``np.select`` for text, but as a categorical: no per-row strings."""
    n = len(conditions[0]) if conditions else 0
    codes = np.zeros(n, dtype=np.int8)
    for k in range(len(conditions), 0, -1):  # the first true condition wins, as in np.select
        codes[conditions[k - 1]] = k
    return from_codes(codes, [default, *labels])


def _lookup(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (-1 if absent); a categorical is looked up
    once per category, not once per row."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        per_category = index.get_indexer(values.cat.categories)
        codes = values.cat.codes.to_numpy()
        found: np.ndarray = np.where(codes >= 0, per_category[codes], -1)
        return found
    return np.asarray(index.get_indexer(pd.Index(values)))


def _in_set(values: pd.Series, members: set[str]) -> np.ndarray:
    """Whether each value (as text) is in ``members``: one hash look-up per value
    (arrow-backed text's ``isin`` builds a Python object per member)."""
    text_ = pd.Index(values.astype(str).to_numpy(dtype=object), dtype=object)
    found: np.ndarray = text_.isin(list(members))
    return found


def _split_all(values: pd.Series) -> set[str]:
    out: set[str] = set()
    for v in pd.unique(values):
        out.update(x for x in str(v).split(";") if x)
    return out


#: The MAF reader's note on a change named from a hotspot location that is not verified.
UNVERIFIED_LOCATION = "location needs_review"


def _unverified_locations(alts: pd.DataFrame) -> pd.Series:
    """``fact_status``, made ``needs_review`` where the change itself was named from
    genomic coordinates at a location the knowledge base marks ``needs_review``:
    the fact may be verified, but that this row is that alteration is not."""
    status = alts["fact_status"]
    if "normalisation" not in alts or not len(alts):
        return status
    notes = alts["normalisation"]
    if isinstance(notes.dtype, pd.CategoricalDtype):  # tested once per distinct note
        per_note = np.append(
            notes.cat.categories.astype(str).str.contains(UNVERIFIED_LOCATION, regex=False), False
        )
        flagged = pd.Series(per_note[notes.cat.codes.to_numpy()], index=alts.index)
    else:
        flagged = notes.astype(str).str.contains(UNVERIFIED_LOCATION, regex=False)
    if not flagged.any():
        return status
    out = status.astype(str).where(~(flagged & (status.astype(str) == "verified")), "needs_review")
    return out.astype("category")
