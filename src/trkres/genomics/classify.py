"""Classify resistance in context: the fusion, the drugs received, the timepoints.

:class:`ResistanceCaller` follows scikit-learn's habit: parameters in the
constructor, ``fit`` on the data, results in attributes ending in ``_``::

    caller = ResistanceCaller(knowledge).fit(alterations, samples, timeline)
    caller.alterations_   # every row, annotated
    caller.samples_       # one row per sample: fusion, mechanism, therapies
    caller.patients_      # one row per patient, across timepoints

Rules (each stated in the output):
- an on-target class counts only in the NTRK gene fused in that patient; when
  no fusion data exist for a patient it counts, flagged ``fusion_unknown``;
- a patient with fusion data but no NTRK fusion is ``no_trk_fusion``;
- ``acquired``: absent from every sample taken before the first TRK inhibitor,
  present after it; ``pre_existing``: present before; else ``timing_unknown``
  (no baseline sample, no collection day or no treatment timeline);
- VAF relative to the sample's reference allele fraction (the fusion's when
  measured, else the highest VAF of a pre-existing alteration); ratios below
  ``subclonal_ratio`` are called subclonal;
- cfDNA variants in clonal-haematopoiesis genes are flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trkres.genomics.annotate import Annotator, combined_codes
from trkres.genomics.model import empty_alterations, text
from trkres.knowledge.schema import OFF_TARGET_CLASSES, ON_TARGET_CLASSES
from trkres.knowledge.store import KnowledgeBase

MECHANISMS = ("on_target", "off_target", "on_and_off_target", "none_detected", "no_trk_fusion")
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
    "review_flags",
]  # fmt: skip
PATIENT_COLUMNS = [
    "patient_id", "fusion", "n_samples", "first_trki_day", "trk_inhibitors", "mechanism",
    "acquired_on_target", "acquired_off_target", "pre_existing_bypass", "therapy_strategies",
    "evidence", "review_flags",
]  # fmt: skip


def _join(values: list[str]) -> str:
    return ";".join(dict.fromkeys(v for v in values if v))


def mechanism_of(on: bool, off: bool, fusion_status: str) -> str:
    """The sample or patient mechanism from whether on/off-target alterations count."""
    if fusion_status == "not_detected":
        return "no_trk_fusion"
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
    """

    knowledge: KnowledgeBase
    subclonal_ratio: float = 0.5
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
    ) -> ResistanceCaller:
        """Annotate ``alterations`` (canonical table) and summarise samples and patients.

        ``samples``: ``sample_id, patient_id, sample_type, collection_day``;
        ``timeline``: as :func:`trkres.genomics.clinical.read_timeline` gives.
        ``fusion_data`` says whether fusions were assessed (default: whether
        any fusion row is present).
        """
        kb = self.knowledge
        alts = alterations if len(alterations.columns) else empty_alterations()
        alts = alts.reset_index(drop=True)
        annotation = Annotator(kb).annotate(alts)
        alts = pd.concat([alts, annotation], axis=1)
        has_fusion_data = (
            bool(fusion_data)
            if fusion_data is not None
            else bool((alts["alteration_type"] == "fusion").any())
        )
        sample_table = self._sample_table(alts, samples)
        alts = alts.merge(sample_table, on="sample_id", how="left", sort=False)

        # The NTRK fusion of each patient (from any of its samples).
        drivers = alts.loc[
            alts["alteration_class"] == "fusion_driver", ["patient_id", "gene", "fusion"]
        ]
        fusion_genes = drivers.groupby("patient_id", sort=False)["gene"].agg(
            lambda g: _join(list(g))
        )
        fusion_names = drivers.groupby("patient_id", sort=False)["fusion"].agg(
            lambda g: _join(list(g))
        )
        mapped = alts["patient_id"].map(fusion_genes)
        alts["patient_fusion_genes"] = mapped.astype(object).where(mapped.notna(), "")
        status = np.where(
            alts["patient_fusion_genes"] != "", "detected",
            "not_detected" if has_fusion_data else "unknown",
        )  # fmt: skip
        alts["fusion_status"] = status

        on_class = alts["alteration_class"].isin(list(ON_TARGET_CLASSES)).to_numpy()
        in_fused = np.array(
            [g in f.split(";") for g, f in zip(alts["gene"], alts["patient_fusion_genes"], strict=True)]
        ) if on_class.any() else np.zeros(len(alts), dtype=bool)  # fmt: skip
        counted_on = on_class & ((status == "unknown") | in_fused)
        counted_off = alts["alteration_class"].isin(list(OFF_TARGET_CLASSES)).to_numpy()
        alts["counts_as"] = np.where(
            counted_on, "on_target", np.where(counted_off, "off_target", "")
        )
        alts["target_note"] = np.where(
            on_class & ~counted_on, "kinase-domain change outside the fused NTRK gene: not counted",
            np.where(on_class & (status == "unknown"), "fusion unknown: counted as on-target", ""),
        )  # fmt: skip

        alts = self._timing(alts, timeline)
        alts = self._clonality(alts)
        alts = self._therapies(alts)
        self.alterations_ = alts
        self.samples_ = self._summarise_samples(alts, sample_table, has_fusion_data, fusion_names)
        self.patients_ = self._summarise_patients(
            alts, sample_table, timeline, has_fusion_data, fusion_names
        )
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
            return table
        table = samples[["sample_id", "patient_id", "sample_type", "collection_day"]].copy()
        table["in_clinical_file"] = True
        extra = seen.difference(pd.Index(table["sample_id"]))
        if len(extra):
            add = pd.DataFrame({"sample_id": extra, "patient_id": extra, "sample_type": "",
                                "collection_day": np.nan, "in_clinical_file": False})  # fmt: skip
            table = pd.concat([table, add], ignore_index=True)
        return table

    def _timing(self, alts: pd.DataFrame, timeline: pd.DataFrame | None) -> pd.DataFrame:
        first_trki: pd.Series
        if timeline is not None and len(timeline):
            trk = timeline.loc[timeline["trk_inhibitor"].astype(bool)]
            first_trki = trk.groupby("patient_id")["start_day"].min()
        else:
            first_trki = pd.Series(dtype=float)
        alts["first_trki_day"] = alts["patient_id"].map(first_trki).astype(float)
        day = alts["collection_day"].astype(float)
        timepoint = np.where(
            alts["first_trki_day"].isna() | day.isna(), "unknown",
            np.where(day <= alts["first_trki_day"], "baseline", "post_trki"),
        )  # fmt: skip
        alts["timepoint"] = timepoint
        # Identity of an alteration across a patient's samples.
        ident_cols = ["patient_id", "gene", "alteration_type", "protein_change", "fusion"]
        ident, _ = combined_codes(alts, ident_cols)
        baseline = timepoint == "baseline"
        seen_before = np.zeros(int(ident.max()) + 1 if len(ident) else 0, dtype=bool)
        seen_before[ident[baseline]] = True
        has_baseline = alts.loc[baseline, "patient_id"].unique()
        patient_has_baseline = alts["patient_id"].isin(has_baseline).to_numpy()
        post = timepoint == "post_trki"
        alts["timing"] = np.where(
            baseline | (post & seen_before[ident]), "pre_existing",
            np.where(post & patient_has_baseline, "acquired", "timing_unknown"),
        )  # fmt: skip
        not_classified = alts["alteration_type"].isin(["silent"]).to_numpy()
        alts.loc[not_classified, "timing"] = ""
        return alts

    def _clonality(self, alts: pd.DataFrame) -> pd.DataFrame:
        vaf = alts["vaf"].astype(float)
        fusion_af = alts["vaf"].where(alts["alteration_class"] == "fusion_driver")
        truncal = alts["vaf"].where(alts["timing"] == "pre_existing")
        by_sample = alts.assign(fusion_af=fusion_af, truncal=truncal).groupby(
            "sample_id", sort=False
        )
        ref_fusion = by_sample["fusion_af"].max()
        ref_truncal = by_sample["truncal"].max()
        reference = ref_fusion.fillna(ref_truncal)
        source = np.where(
            ref_fusion.notna(), "fusion", np.where(ref_truncal.notna(), "highest_truncal", "")
        )
        ref_source = pd.Series(source, index=ref_fusion.index)
        alts["reference_af"] = alts["sample_id"].map(reference).astype(float)
        alts["reference_af_source"] = text(alts["sample_id"].map(ref_source))
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = vaf / alts["reference_af"]
        alts["vaf_ratio"] = ratio
        alts["clonality"] = np.where(
            ratio.isna(), "", np.where(ratio < self.subclonal_ratio, "subclonal", "clonal")
        )
        ch_genes = {
            g.symbol for g in self.knowledge.genes.values() if "clonal_haematopoiesis" in g.roles
        }
        alts["ch_flag"] = (alts["sample_type"] == "cfDNA").to_numpy() & alts["gene"].isin(
            list(ch_genes)
        ).to_numpy()
        return alts

    def _therapies(self, alts: pd.DataFrame) -> pd.DataFrame:
        """Strategies per counted alteration (rules matched on distinct keys)."""
        kb = self.knowledge
        counted = alts["counts_as"] != ""
        strategies = np.full(len(alts), "", dtype=object)
        rules_hit = np.full(len(alts), "", dtype=object)
        if counted.any():
            sub = alts.loc[counted, ["alteration_class", "gene", "alteration_type"]]
            codes, distinct = combined_codes(sub, ["alteration_class", "gene", "alteration_type"])
            s_list, r_list = [], []
            for _, row in distinct.iterrows():
                rules = [
                    r for r in kb.therapy_rules.values()
                    if r.when.alteration_class == row["alteration_class"]
                    and (not r.when.genes or row["gene"] in r.when.genes)
                    and (not r.when.alteration_types or row["alteration_type"] in r.when.alteration_types)
                ]  # fmt: skip
                s_list.append(_join([s for r in rules for s in r.strategies]))
                r_list.append(_join([r.id for r in rules]))
            strategies[counted.to_numpy()] = np.array(s_list, dtype=object)[codes]
            rules_hit[counted.to_numpy()] = np.array(r_list, dtype=object)[codes]
        alts["therapy_strategies"] = strategies
        alts["therapy_rules"] = rules_hit
        return alts

    # -------------------------------------------------------------- summaries
    def _evidence(self, strategies: list[str], rules: list[str]) -> tuple[str, list[str]]:
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

    def _summary_row(self, group: pd.DataFrame, fusion_status: str) -> dict[str, object]:
        counted = group[group["counts_as"] != ""]
        on = counted[counted["counts_as"] == "on_target"]
        off = counted[counted["counts_as"] == "off_target"]

        def label(g: pd.DataFrame) -> list[str]:
            return [
                f"{r.gene} {r.protein_change or r.alteration_type} ({r.alteration_class})"
                for r in g.itertuples()
            ]

        strategies = [s for v in counted["therapy_strategies"] for s in v.split(";") if s]
        rules = [r for v in counted["therapy_rules"] for r in v.split(";") if r]
        order = {s: i for i, s in enumerate(STRATEGIES)}
        strategies = sorted(dict.fromkeys(strategies), key=lambda s: order.get(s, 99))
        evidence, review = self._evidence(strategies, list(dict.fromkeys(rules)))
        classes = set(on["alteration_class"])
        if {"solvent_front", "xdfg"} <= classes:
            review.append(
                "solvent front + xDFG: no single TRK inhibitor class covers both "
                "(xDFG resists type I, Cocco 2021; type II agents spare G595R, Fuse 2017)"
            )
        for r in counted.itertuples():
            if r.fact_status == "needs_review":
                review.append(
                    f"{r.gene} {r.protein_change or r.alteration_type}: fact needs_review"
                )
        for r in group[group["target_note"] != ""].itertuples():
            review.append(f"{r.gene} {r.protein_change}: {r.target_note}")
        for r in group[group["ch_flag"]].itertuples():
            review.append(
                f"{r.gene} {r.protein_change}: cfDNA variant in a clonal-haematopoiesis gene"
            )
        if fusion_status == "unknown":
            review.append("fusion unknown: no fusion data for this patient")
        return {
            "mechanism": mechanism_of(len(on) > 0, len(off) > 0, fusion_status),
            "on_target": _join(label(on)),
            "off_target": _join(label(off)),
            "therapy_strategies": ";".join(strategies) if fusion_status != "not_detected" else "",
            "evidence": evidence if fusion_status != "not_detected" else "",
            "review_flags": _join(review),
        }

    def _summarise_samples(
        self, alts: pd.DataFrame, sample_table: pd.DataFrame, has_fusion_data: bool,
        fusion_names: pd.Series,
    ) -> pd.DataFrame:  # fmt: skip
        rows = []
        groups = {str(k): v for k, v in alts.groupby("sample_id", sort=False)}
        for s in sample_table.itertuples():
            group = groups.get(str(s.sample_id), alts.iloc[0:0])
            fusion = fusion_names.get(s.patient_id, "")
            status = "detected" if fusion else ("not_detected" if has_fusion_data else "unknown")
            day = s.collection_day
            first = group["first_trki_day"].iloc[0] if len(group) else np.nan
            timepoint = group["timepoint"].iloc[0] if len(group) else "unknown"
            row = {
                "sample_id": s.sample_id, "patient_id": s.patient_id, "sample_type": s.sample_type,
                "collection_day": day, "timepoint": timepoint, "fusion": fusion,
                "fusion_status": status,
            }  # fmt: skip
            row.update(self._summary_row(group, status))
            if not s.in_clinical_file and not pd.isna(first):
                row["review_flags"] = _join(
                    [str(row["review_flags"]), "sample not in the clinical file"]
                )
            rows.append(row)
        return pd.DataFrame(rows, columns=SAMPLE_COLUMNS)

    def _summarise_patients(
        self, alts: pd.DataFrame, sample_table: pd.DataFrame, timeline: pd.DataFrame | None,
        has_fusion_data: bool, fusion_names: pd.Series,
    ) -> pd.DataFrame:  # fmt: skip
        rows = []
        groups = {str(k): v for k, v in alts.groupby("patient_id", sort=False)}
        trk_by_patient: dict[str, str] = {}
        if timeline is not None and len(timeline):
            trk = timeline[timeline["trk_inhibitor"].astype(bool)]
            agg = trk.groupby("patient_id")["drugs"].agg(lambda d: _join(list(d)))
            trk_by_patient = {str(k): str(v) for k, v in agg.items()}
        for patient, samples in sample_table.groupby("patient_id", sort=False):
            group = groups.get(str(patient), alts.iloc[0:0])
            fusion = fusion_names.get(patient, "")
            status = "detected" if fusion else ("not_detected" if has_fusion_data else "unknown")
            # Resistance: what is present after a TRK inhibitor and not before it
            # (acquired), or, without timing, everything found.
            post = group[group["timepoint"] == "post_trki"]
            resist = post[post["timing"] != "pre_existing"] if len(post) else group
            summary = self._summary_row(resist, status)
            acquired = group[group["timing"] == "acquired"]
            pre_bypass = group[
                (group["timing"] == "pre_existing") & (group["counts_as"] == "off_target")
            ]
            first = group["first_trki_day"].iloc[0] if len(group) else np.nan
            rows.append(
                {
                    "patient_id": patient,
                    "fusion": fusion,
                    "n_samples": len(samples),
                    "first_trki_day": first,
                    "trk_inhibitors": trk_by_patient.get(str(patient), ""),
                    "mechanism": summary["mechanism"],
                    "acquired_on_target": _join(
                        [
                            f"{r.gene} {r.protein_change}"
                            for r in acquired[acquired["counts_as"] == "on_target"].itertuples()
                        ]
                    ),
                    "acquired_off_target": _join(
                        [
                            f"{r.gene} {r.protein_change or r.alteration_type}"
                            for r in acquired[acquired["counts_as"] == "off_target"].itertuples()
                        ]
                    ),
                    "pre_existing_bypass": _join(
                        [
                            f"{r.gene} {r.protein_change or r.alteration_type}"
                            for r in pre_bypass.itertuples()
                        ]
                    ),
                    "therapy_strategies": summary["therapy_strategies"],
                    "evidence": summary["evidence"],
                    "review_flags": summary["review_flags"],
                }
            )
        return pd.DataFrame(rows, columns=PATIENT_COLUMNS)


def _split_all(values: pd.Series) -> set[str]:
    out: set[str] = set()
    for v in pd.unique(values):
        out.update(x for x in str(v).split(";") if x)
    return out
