"""cfDNA monitoring: response, emergence, the ddPCR join, classification."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from support import EXAMPLE
from trkres.errors import InputError
from trkres.genomics.cfdna import ddpcr_measurements, monitor, read_cfdna
from trkres.knowledge import load_knowledge

KB = load_knowledge()


def table(rows: list[tuple[str, float, str, str, float]]) -> pd.DataFrame:
    """Measurements of one patient: (gene, day, alteration, unused, vaf), LoD 0.2%."""
    records = [
        {"sample_id": f"S{day:g}", "patient_id": "P", "day": day, "gene": gene,
         "alteration": alt, "vaf": vaf, "lod": 0.002, "assay": "NGS"}
        for gene, day, alt, _unused, vaf in rows
    ]  # fmt: skip
    return pd.DataFrame(records)


ROWS = [
    ("NTRK3", 0, "ETV6::NTRK3", "", 0.10), ("BRAF", 0, "V600E", "", 0.0),
    ("NTRK3", 60, "ETV6::NTRK3", "", 0.04), ("BRAF", 60, "V600E", "", 0.001),  # below LoD
    ("NTRK3", 120, "ETV6::NTRK3", "", 0.03), ("BRAF", 120, "V600E", "", 0.01),
    ("NTRK3", 180, "ETV6::NTRK3", "", 0.08), ("BRAF", 180, "V600E", "", 0.02),
]  # fmt: skip


def test_emergence_response_and_class() -> None:
    result = monitor(table(ROWS), KB)
    braf = result.emergence.set_index("gene").loc["BRAF"]
    assert braf["status"] == "emerged" and braf["first_detected_day"] == 120
    assert bool(braf["confirmed"])  # detected again at day 180
    assert braf["vaf_relative_to_fusion"] == pytest.approx(0.01 / 0.03)
    assert braf["alteration_class"] == "mapk_bypass"
    assert braf["therapy_strategies"] == "trki_plus_rafi_plus_meki"
    resp = result.response.set_index("day")
    # Baseline tracks the fusion only (BRAF not detected at baseline): 0.10 -> 0.04 is -60%.
    assert resp.loc[60, "change_from_baseline"] == pytest.approx(-0.6)
    assert bool(resp.loc[60, "molecular_response"]) and not bool(
        resp.loc[180, "molecular_response"]
    )
    not_detected = result.measurements.query("gene == 'BRAF' and day == 60").iloc[0]
    assert not bool(not_detected["detected"])  # 0.1% is below the 0.2% limit


def test_confirmation_and_max_metric() -> None:
    rows = [r for r in ROWS if r[1] != 180]
    result = monitor(table(rows), KB, confirm_next=True, response_metric="max")
    assert result.emergence.set_index("gene").loc["BRAF", "status"] == "emerged_unconfirmed"
    assert result.response["metric"].eq("max").all()


def test_ddpcr_confirms_in_the_same_sample() -> None:
    rows = [r for r in ROWS if r[1] != 180]
    measurements = table(rows)
    wells = pd.DataFrame({"sample": ["S120"], "target": ["BRAF V600E"], "call": ["detected"],
                          "fractional_abundance": [1.1]})  # fmt: skip
    extra = ddpcr_measurements(wells, measurements[["sample_id", "patient_id", "day"]])
    assert extra.iloc[0]["vaf"] == pytest.approx(0.011) and extra.iloc[0]["assay"] == "ddPCR"
    result = monitor(pd.concat([measurements, extra], ignore_index=True), KB, confirm_next=True)
    assert result.emergence.set_index("gene").loc["BRAF", "status"] == "emerged"


def test_example_cfdna_table() -> None:
    m, issues = read_cfdna(EXAMPLE / "genomics" / "cfdna.tsv")
    assert issues == []
    result = monitor(m, KB)
    em = result.emergence.set_index(["patient_id", "gene"])
    assert em.loc[("PT-COCCO1", "KRAS"), "therapy_strategies"] == "trki_plus_meki"
    assert em.loc[("PT-COCCO3", "MET"), "therapy_strategies"] == "trki_plus_meti"


def test_bad_vaf_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text(
        "sample\tpatient\tday\tgene\talteration\tvaf\nA\tP\t0\tKRAS\tG12D\t120\nB\tP\tx\tKRAS\tG12D\t0.1\n"
    )
    m, issues = read_cfdna(path)
    assert {i.line for i in issues} == {2, 3}
    assert pd.isna(m.loc[0, "vaf"])
    path.write_text("sample\tgene\n")
    with pytest.raises(InputError, match="lacks a required column"):
        read_cfdna(path)
