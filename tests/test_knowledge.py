"""The knowledge base: shipped data valid, broken files precise, overrides work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trkres.errors import KnowledgeError
from trkres.knowledge import load_knowledge, validate_files
from trkres.knowledge.schema import parse_residue


def test_shipped_knowledge_validates() -> None:
    report = validate_files([])
    assert report.counts["kinase_positions"] >= 3
    assert report.counts["therapy_strategies"] == 5
    # Warnings are about sources without PMID/DOI, never errors.
    assert all("PMID or DOI" in w for w in report.warnings)


def test_paralog_offset_is_not_constant() -> None:
    """Solvent front and gatekeeper +28, xDFG +29 (NTRK1 -> NTRK3): from the table."""
    kb = load_knowledge()
    offsets = {}
    for pos in ("solvent_front", "gatekeeper", "xdfg"):
        residues = kb.kinase_positions[pos].residues
        n1 = parse_residue(residues["NTRK1"].residue)[1]
        n3 = parse_residue(residues["NTRK3"].residue)[1]
        offsets[pos] = n3 - n1
    assert offsets == {"solvent_front": 28, "gatekeeper": 28, "xdfg": 29}
    assert kb.equivalent_residues("NTRK3", 696)["NTRK1"] == "G667"


@pytest.mark.parametrize(
    ("topic", "ident"),
    [
        # Facts the curated notes mark U must be needs_review.
        ("resistance_mutations", "ntrk3_g623e"),
        ("resistance_mutations", "ntrk2_g639r"),
        ("bypass_alterations", "kras_g12a"),
        ("drugs", "crizotinib"),
        ("therapy_rules", "gatekeeper_next_gen"),
        ("alteration_classes", "kinase_domain_other"),
    ],
)
def test_unverified_facts_are_needs_review(topic: str, ident: str) -> None:
    kb = load_knowledge()
    assert getattr(kb, topic)[ident].status == "needs_review"


def test_ntrk2_residues_need_review_but_ntrk1_and_3_verified() -> None:
    kb = load_knowledge()
    sf = kb.kinase_positions["solvent_front"].residues
    assert sf["NTRK2"].status == "needs_review"
    assert sf["NTRK1"].status == sf["NTRK3"].status == "verified"


def test_every_fact_cites_a_known_source() -> None:
    kb = load_knowledge()
    for key, fact in kb.all_facts().items():
        assert fact.evidence, key
        for ev in fact.evidence:
            assert ev.source in kb.sources, key


def test_drug_synonyms_resolve() -> None:
    kb = load_knowledge()
    for name, expected in [
        ("LOXO-195", "selitrectinib"),
        ("loxo195", "selitrectinib"),
        ("MEK-162", "binimetinib"),
        ("RXDX-101", "entrectinib"),
        ("TPX-0005", "repotrectinib"),
        ("BAY 2731954", "selitrectinib"),
    ]:
        drug = kb.find_drug(name)
        assert drug is not None and drug.name == expected, name
    assert kb.find_drug("aspirin") is None


def test_transcripts_match_notes() -> None:
    kb = load_knowledge()
    tx = {g.symbol: g.transcripts[0] for g in kb.genes.values() if g.transcripts}
    assert tx["NTRK1"].ensembl == "ENST00000524377" and tx["NTRK1"].refseq == "NM_002529"
    assert tx["NTRK3"].refseq == "NM_001012338"
    assert tx["BRAF"].refseq == "NM_001374258" and tx["BRAF"].role == "mane_select"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(text, encoding="utf-8")
    return path


LAB_OK = """\
sources:
  - id: ourlab2026
    citation: "Our lab, unpublished dose-response data, 2026."
drugs:
  - id: larotrectinib
    name: larotrectinib
    synonyms: [LOXO-101, Vitrakvi, laro]
    classes: [trk_inhibitor]
    trk_binding: type1
    trk_generation: first
    status: verified
    evidence:
      - {source: ourlab2026, statement: "Abbreviated 'laro' in our notebooks.", level: lab}
"""


def test_lab_file_overrides_and_records_origin(tmp_path: Path) -> None:
    path = _write(tmp_path, LAB_OK)
    kb = load_knowledge([path])
    drug = kb.find_drug("laro")
    assert drug is not None and drug.name == "larotrectinib"
    assert drug.origin == str(path)
    assert kb.sources["ourlab2026"].origin == str(path)
    # The shipped base is untouched.
    assert load_knowledge().find_drug("laro") is None


@pytest.mark.parametrize(
    ("text", "line", "pattern"),
    [
        # unknown source id, evidence on line 9
        (LAB_OK.replace("source: ourlab2026", "source: nosuch"), 13, r"unknown source"),
        # bad status value
        (LAB_OK.replace("status: verified", "status: maybe"), 11, r"status"),
        # residue not at the position the table says
        (
            "resistance_mutations:\n"
            "  - id: x\n    gene: NTRK1\n    change: G596R\n    position: solvent_front\n"
            "    status: verified\n"
            "    evidence: [{source: russo2016, statement: wrong residue, level: clinical}]\n",
            4,
            r"does not sit at position",
        ),
        # malformed protein change
        (
            "resistance_mutations:\n"
            "  - id: x\n    gene: NTRK1\n    change: Gly595Arg\n    position: solvent_front\n"
            "    status: verified\n"
            "    evidence: [{source: russo2016, statement: three-letter, level: clinical}]\n",
            4,
            r"substitution such as G595R",
        ),
        # therapy rule naming a missing strategy
        (
            "therapy_rules:\n  - id: r\n    when: {alteration_class: xdfg}\n"
            "    strategies: [magic_pill]\n    status: verified\n"
            "    evidence: [{source: cocco2021, statement: nope, level: clinical}]\n",
            4,
            r"unknown strategy",
        ),
        # YAML syntax error
        ("drugs:\n  - id: [unclosed\n", 3, r"invalid YAML"),
        # duplicate key
        ("version: a\nversion: b\n", 2, r"duplicate key 'version'"),
        # duplicate id within a file
        (LAB_OK + LAB_OK.split("drugs:\n", 1)[1], 14, r"duplicate id 'larotrectinib'"),
        # unknown top-level topic
        ("drugz: []\n", 1, r"drugz"),
    ],
)
def test_broken_knowledge_file_gives_precise_error(
    tmp_path: Path, text: str, line: int, pattern: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(KnowledgeError) as info:
        validate_files([path])
    err = info.value
    assert err.location is not None
    assert Path(str(err.location.file)) == path
    assert err.location.line == line, str(err)
    assert re.search(pattern, str(err)), str(err)


def test_missing_knowledge_file(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="not found"):
        load_knowledge([tmp_path / "absent.yaml"])


def test_facts_frame_has_status_and_evidence() -> None:
    frame = load_knowledge().facts_frame()
    assert set(frame["status"]) == {"verified", "needs_review"}
    row = frame[(frame["topic"] == "resistance_mutations") & (frame["id"] == "ntrk1_g595r")].iloc[0]
    assert "PMID:26546295" in row["evidence"]
