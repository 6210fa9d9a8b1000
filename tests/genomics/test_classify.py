"""Classification rules: fusion context, timing, clonality, flags."""

from __future__ import annotations

import pandas as pd

from trkres.genomics.caller import ResistanceCaller
from trkres.genomics.model import conform
from trkres.knowledge import load_knowledge

KB = load_knowledge()


def alts(*rows: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if "protein_change" in frame:
        parsed = frame["protein_change"].fillna("")
        frame["aa_ref"] = parsed.str[0]
        frame["aa_pos"] = pd.to_numeric(parsed.str[1:-1], errors="coerce").fillna(-1).astype(int)
        frame["aa_alt"] = parsed.str[-1]
    frame["alteration_type"] = frame.get(
        "alteration_type", pd.Series("mutation", index=frame.index)
    ).fillna("mutation")
    return conform(frame)


def fusion(sample: str, partner: str, gene: str) -> dict[str, object]:
    return {"sample_id": sample, "gene": gene, "partner_gene": partner,
            "fusion": f"{partner}::{gene}", "alteration_type": "fusion"}  # fmt: skip


def test_on_target_counts_only_in_the_fused_gene() -> None:
    data = alts(
        fusion("S", "ETV6", "NTRK3"), {"sample_id": "S", "gene": "NTRK1", "protein_change": "G595R"}
    )
    caller = ResistanceCaller(KB).fit(data)
    row = caller.samples_.iloc[0]
    assert row["mechanism"] == "none_detected"
    assert "outside the fused NTRK gene" in row["review_flags"]


def test_unknown_fusion_lists_but_does_not_call() -> None:
    data = alts({"sample_id": "S", "gene": "NTRK3", "protein_change": "G623R"})
    row = ResistanceCaller(KB).fit(data).samples_.iloc[0]
    assert row["mechanism"] == "fusion_unknown" and row["fusion_status"] == "unknown"
    assert row["on_target"] == "NTRK3 G623R (solvent_front)" and row["therapy_strategies"] == ""
    assert "fusion unknown" in row["review_flags"]


def test_assumed_fusion_counts_but_says_so() -> None:
    data = alts({"sample_id": "S", "gene": "NTRK3", "protein_change": "G623R"})
    row = ResistanceCaller(KB, assume_trk_fusion=True).fit(data).samples_.iloc[0]
    assert row["mechanism"] == "on_target" and row["fusion_status"] == "assumed"
    assert row["therapy_strategies"] == "next_gen_type1_trki"
    assert "assumed" in row["review_flags"]


def test_no_trk_fusion() -> None:
    data = alts(
        fusion("S", "EML4", "ALK"), {"sample_id": "S", "gene": "KRAS", "protein_change": "G12D"}
    )
    row = ResistanceCaller(KB).fit(data).samples_.iloc[0]
    assert row["mechanism"] == "no_trk_fusion" and row["therapy_strategies"] == ""


def test_on_and_off_target() -> None:
    data = alts(
        fusion("S", "LMNA", "NTRK1"),
        {"sample_id": "S", "gene": "NTRK1", "protein_change": "G595R"},
        {"sample_id": "S", "gene": "BRAF", "protein_change": "V600E"},
    )
    row = ResistanceCaller(KB).fit(data).samples_.iloc[0]
    assert row["mechanism"] == "on_and_off_target"
    assert row["therapy_strategies"] == "next_gen_type1_trki;trki_plus_rafi_plus_meki"


def test_paralog_equivalents_come_from_the_table() -> None:
    data = alts(
        fusion("S", "ETV6", "NTRK3"), {"sample_id": "S", "gene": "NTRK3", "protein_change": "G696A"}
    )
    annotated = ResistanceCaller(KB).fit(data).alterations_
    row = annotated[annotated["alteration_type"] == "mutation"].iloc[0]
    assert row["alteration_class"] == "xdfg"
    assert row["paralog_equivalents"] == "NTRK1 G667;NTRK2 G709;NTRK3 G696"


def test_reference_mismatch_is_not_classified() -> None:
    data = alts(
        fusion("S", "LMNA", "NTRK1"), {"sample_id": "S", "gene": "NTRK1", "protein_change": "A595R"}
    )
    annotated = ResistanceCaller(KB).fit(data).alterations_
    mut = annotated[annotated["protein_change"] == "A595R"].iloc[0]
    assert mut["alteration_class"] == "" and "reference residue mismatch" in mut["annotation_note"]


def test_unlisted_substitution_at_a_known_position() -> None:
    data = alts(
        fusion("S", "LMNA", "NTRK1"), {"sample_id": "S", "gene": "NTRK1", "protein_change": "G595K"}
    )
    mut = ResistanceCaller(KB).fit(data).alterations_.query("protein_change == 'G595K'").iloc[0]
    assert mut["alteration_class"] == "solvent_front" and mut["known_fact"] == ""
    assert "not listed" in mut["annotation_note"]


SAMPLES = pd.DataFrame(
    {"sample_id": ["T0", "P1", "P2"], "patient_id": ["P", "P", "Q"],
     "sample_type": ["tissue", "cfDNA", "cfDNA"], "collection_day": [-5.0, 200.0, 150.0]}
)  # fmt: skip
TIMELINE = pd.DataFrame(
    {"patient_id": ["P", "Q"], "start_day": [0.0, 0.0], "stop_day": [180.0, 140.0],
     "agent": ["Larotrectinib"] * 2, "drugs": ["larotrectinib"] * 2, "drug_classes": ["trk_inhibitor"] * 2,
     "trk_inhibitor": [True, True], "best_response": ["PR"] * 2, "reason_stop": ["POD"] * 2, "line": ["1"] * 2}
)  # fmt: skip


def test_timing_acquired_pre_existing_unknown() -> None:
    data = alts(
        fusion("T0", "LMNA", "NTRK1"),
        fusion("P1", "LMNA", "NTRK1"),
        fusion("P2", "ETV6", "NTRK3"),
        {"sample_id": "T0", "gene": "TP53", "protein_change": "R273H", "vaf": 0.6},
        {"sample_id": "P1", "gene": "TP53", "protein_change": "R273H", "vaf": 0.4},
        {"sample_id": "P1", "gene": "NTRK1", "protein_change": "G595R", "vaf": 0.1},
        {"sample_id": "P1", "gene": "DNMT3A", "protein_change": "R882H", "vaf": 0.02},
        {"sample_id": "P2", "gene": "KRAS", "protein_change": "G12D", "vaf": 0.05},
    )
    caller = ResistanceCaller(KB, subclonal_ratio=0.5).fit(data, SAMPLES, TIMELINE)
    a = caller.alterations_.set_index(["sample_id", "gene"])
    assert a.loc[("T0", "TP53"), "timing"] == "pre_existing"
    assert a.loc[("P1", "TP53"), "timing"] == "pre_existing"
    assert a.loc[("P1", "NTRK1"), "timing"].tolist() == [
        "pre_existing",
        "acquired",
    ]  # fusion, G595R
    assert a.loc[("P2", "KRAS"), "timing"] == "timing_unknown"  # patient Q has no baseline sample
    g595r = caller.alterations_.query("protein_change == 'G595R'").iloc[0]
    assert g595r["reference_af_source"] == "highest_truncal"
    assert abs(g595r["vaf_ratio"] - 0.1 / 0.4) < 1e-12 and g595r["clonality"] == "subclonal"
    assert bool(a.loc[("P1", "DNMT3A"), "ch_flag"])
    patients = caller.patients_.set_index("patient_id")
    assert patients.loc["P", "acquired_on_target"] == "NTRK1 G595R"
    assert patients.loc["P", "mechanism"] == "on_target"
    assert patients.loc["Q", "mechanism"] == "off_target"
    assert (
        "clonal-haematopoiesis" in caller.samples_.set_index("sample_id").loc["P1", "review_flags"]
    )


def test_pre_existing_bypass_is_not_acquired_resistance() -> None:
    data = alts(
        fusion("T0", "LMNA", "NTRK1"),
        fusion("P1", "LMNA", "NTRK1"),
        {"sample_id": "T0", "gene": "KRAS", "protein_change": "G12D"},
        {"sample_id": "P1", "gene": "KRAS", "protein_change": "G12D"},
    )
    caller = ResistanceCaller(KB).fit(data, SAMPLES.iloc[:2], TIMELINE.iloc[:1])
    patient = caller.patients_.iloc[0]
    assert patient["mechanism"] == "none_detected"
    assert patient["pre_existing_bypass"] == "KRAS G12D"


def test_empty_input_gives_empty_tables() -> None:
    caller = ResistanceCaller(KB).fit(conform(pd.DataFrame()))
    assert caller.samples_.empty and caller.patients_.empty
