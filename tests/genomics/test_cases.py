"""Published cases give the same calls whichever file format carries them."""

from __future__ import annotations

from pathlib import Path

import pytest

from genomics.builders import CASES, write_cna, write_fusions, write_maf, write_vcf
from trkres.genomics.pipeline import classify_inputs, read_genomic_inputs
from trkres.knowledge import load_knowledge

KB = load_knowledge()
MUTATION_FORMATS = ["maf:hgvsp_short", "maf:hgvsp", "maf:protein_change", "maf:amino_acid_change",
                    "vcf:csq", "vcf:ann"]  # fmt: skip
FUSION_FORMATS = ["cbioportal_sv", "cbioportal_fusions", "oncokb", "star_fusion", "pcgr", "arriba",
                  "colons", "underscores", "slash"]  # fmt: skip
CNA_FORMATS = ["gistic", "oncokb", "copies", "log2"]


def classify_case_files(
    tmp: Path, mutation: str, fusion: str, cna: str
) -> dict[str, tuple[str, str]]:
    kind, style = mutation.split(":")
    mafs = [write_maf(tmp / "m.maf", style)] if kind == "maf" else []
    vcfs = [write_vcf(tmp / "m.vcf", style)] if kind == "vcf" else []
    svs = write_fusions(tmp / "sv", fusion)
    cnas = [write_cna(tmp / "cna.txt", cna)]
    inputs = read_genomic_inputs(KB, mafs=mafs, vcfs=vcfs, svs=svs, cnas=cnas)
    assert inputs.all_issues() == []
    result = classify_inputs(inputs, KB)
    samples = result.samples.set_index("sample_id")
    return {c.sample: (samples.loc[c.sample, "mechanism"], samples.loc[c.sample, "therapy_strategies"])
            for c in CASES}  # fmt: skip


EXPECTED = {c.sample: (c.mechanism, c.strategies) for c in CASES}


@pytest.mark.parametrize("mutation", MUTATION_FORMATS)
def test_mutation_formats_agree(tmp_path: Path, mutation: str) -> None:
    assert classify_case_files(tmp_path, mutation, "cbioportal_sv", "gistic") == EXPECTED


@pytest.mark.parametrize("fusion", FUSION_FORMATS)
def test_fusion_formats_agree(tmp_path: Path, fusion: str) -> None:
    assert classify_case_files(tmp_path, "maf:hgvsp_short", fusion, "gistic") == EXPECTED


@pytest.mark.parametrize("cna", CNA_FORMATS)
def test_copy_number_formats_agree(tmp_path: Path, cna: str) -> None:
    assert classify_case_files(tmp_path, "maf:hgvsp_short", "cbioportal_sv", cna) == EXPECTED


def test_russo_case_flags_the_solvent_front_xdfg_conflict(tmp_path: Path) -> None:
    inputs = read_genomic_inputs(
        KB, mafs=[write_maf(tmp_path / "m.maf", "hgvsp_short")],
        svs=write_fusions(tmp_path / "sv", "cbioportal_sv"),
    )  # fmt: skip
    samples = classify_inputs(inputs, KB).samples.set_index("sample_id")
    russo = samples.loc["RUSSO"]
    assert russo["fusion"] == "LMNA::NTRK1"
    assert "NTRK1 G595R (solvent_front)" in russo["on_target"]
    assert "NTRK1 G667C (xdfg)" in russo["on_target"]
    assert "no single TRK inhibitor class covers both" in russo["review_flags"]
    assert "PMID:28578312" in russo["evidence"]  # LOXO-195 behind next_gen_type1_trki
    assert "PMID:31406350" in samples.loc["KRAS", "evidence"]  # Cocco 2019 behind TRK + MEK
