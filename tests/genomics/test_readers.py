"""Readers and normalisation: notations, numbering, fusion names, precise errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from trkres.errors import InputError
from trkres.genomics.io.clinical import read_samples, read_timeline
from trkres.genomics.io.cna import CopyNumberThresholds, read_copy_number
from trkres.genomics.io.fusions import orient, read_fusions, split_fusion_name
from trkres.genomics.io.maf import read_maf
from trkres.genomics.protein import THREE_TO_ONE, parse_one, parse_protein_changes
from trkres.knowledge import load_knowledge

KB = load_knowledge()
ONE_TO_THREE = {v: k for k, v in THREE_TO_ONE.items() if v not in "UOX*"}
AA = sorted(ONE_TO_THREE)


@given(
    st.sampled_from(AA),
    st.integers(1, 5000),
    st.sampled_from(AA),
    st.sampled_from(["", "p.", "ENSP1:p."]),
)
def test_one_and_three_letter_notations_agree(ref: str, pos: int, alt: str, prefix: str) -> None:
    short = parse_one(f"{prefix}{ref}{pos}{alt}")
    long = parse_one(f"{prefix}{ONE_TO_THREE[ref]}{pos}{ONE_TO_THREE[alt]}")
    assert short == long
    assert short[1:4] == (ref, pos, alt)
    assert short[4] == ("silent" if ref == alt else "missense")


@given(
    st.lists(
        st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["p.G595R", "Gly12Asp"])),
        max_size=30,
    )
)
def test_vectorised_parse_matches_scalar(values: list[str | None]) -> None:
    series = pd.Series(values, dtype=object)
    frame = parse_protein_changes(series)
    assert len(frame) == len(values)
    for i, v in enumerate(values):
        assert tuple(frame.iloc[i]) == parse_one(v)


_SUBSTITUTIONS = st.tuples(
    st.sampled_from(["", "p.", "ENSP1:p.", " p.(", "p.(", "A:B:", "(p.", "p. "]),
    st.sampled_from([*AA, "*", "X", "g", "Gly"]),
    st.one_of(st.integers(0, 99_999).map(str), st.sampled_from(["0012", "", "1_2", "١٢"])),
    st.sampled_from([*AA, "*", "=", "X", "Asp", "fs*4", "del", "?", "d"]),
    st.sampled_from(["", ")", " ", "))", "\t"]),
).map("".join)


@given(st.lists(st.one_of(st.none(), _SUBSTITUTIONS), max_size=40))
@example(["p.G12fs*4", "G12Afs*7", "p.Gly12fs", "p.G12G", "p.G12X", "p.(G12=)", None, ""])
def test_fast_path_matches_scalar_on_substitution_like_text(values: list[str | None]) -> None:
    frame = parse_protein_changes(pd.Series(values, dtype=object))
    for i, v in enumerate(values):
        assert tuple(frame.iloc[i]) == parse_one(v), v


def _maf(
    tmp: Path,
    rows: list[str],
    header: str = "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tTranscript_ID",
) -> Path:
    path = tmp / "m.maf"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_braf_mane_numbering_is_normalised(tmp_path: Path) -> None:
    path = _maf(
        tmp_path,
        [
            "BRAF\tS1\tp.V640E\tNM_001374258.1",
            "BRAF\tS2\tp.V640E\t",
            "BRAF\tS3\tp.V600E\tNM_004333",
        ],
    )
    alts = read_maf(path, KB).alterations
    assert alts["protein_change"].tolist() == ["V600E", "V600E", "V600E"]
    assert "from NM_001374258" in alts.loc[0, "normalisation"]
    assert "no transcript given" in alts.loc[1, "normalisation"]
    assert alts.loc[2, "normalisation"] == ""


def test_gene_aliases_are_normalised(tmp_path: Path) -> None:
    alts = read_maf(_maf(tmp_path, ["TRKA\tS1\tp.G595R\t", "trkc\tS1\tp.G623R\t"]), KB).alterations
    assert alts["gene"].tolist() == ["NTRK1", "NTRK3"]


def test_maf_missing_protein_column_is_precise(tmp_path: Path) -> None:
    path = _maf(tmp_path, ["NTRK1\tS1\t1"], header="Hugo_Symbol\tTumor_Sample_Barcode\tcount")
    with pytest.raises(InputError) as info:
        read_maf(path, KB)
    assert info.value.location is not None and info.value.location.line == 1
    assert "HGVSp_Short" in str(info.value) and "count" in str(info.value)


def test_maf_bad_rows_are_reported_not_dropped_silently(tmp_path: Path) -> None:
    path = tmp_path / "m.maf"
    path.write_text(
        "#version 2.4\n"
        "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tt_ref_count\tt_alt_count\n"
        "NTRK1\tS1\tp.G595R\t90\t10\n"
        "NTRK1\tS1\tp.G595R\n"  # too few fields: dropped, reported
        "\n"
        "KRAS\tS1\tp.G12D\tmany\t5\n"  # non-numeric count: kept, reported
        "\tS1\tp.G12D\t1\t1\n"  # no gene: dropped, reported
        "NTRK3\tS1\tnonsense-text\t1\t1\n"  # unparseable protein change: kept, reported
    )
    parsed = read_maf(path, KB)
    by_line = {i.line: i for i in parsed.issues}
    assert by_line[4].action == "dropped" and "5 tab-separated fields" in by_line[4].expected
    assert by_line[6].column == "t_ref_count" and "many" in by_line[6].found
    assert by_line[7].action == "dropped"
    assert by_line[8].action.startswith("kept")
    dropped = sum(i.action == "dropped" for i in parsed.issues)
    assert parsed.rows_in == 5 and len(parsed.alterations) + dropped == parsed.rows_in


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ETV6::NTRK3", ("ETV6", "NTRK3")),
        ("NTRK1--TPM3", ("NTRK1", "TPM3")),
        ("LMNA-NTRK1", ("LMNA", "NTRK1")),
        ("NKX2-1-NTRK1", ("NKX2-1", "NTRK1")),  # a partner symbol with a hyphen
        ("NTRK3-HLA-A", ("NTRK3", "HLA-A")),
        ("QKI__NTRK2", ("QKI", "NTRK2")),
        ("SQSTM1/NTRK1", ("SQSTM1", "NTRK1")),
        ("ETV6-NTRK3 Fusion", ("ETV6", "NTRK3")),
        ("A-B-C", None),  # ambiguous: reported, not guessed
    ],
)
def test_fusion_names(name: str, expected: tuple[str, str] | None) -> None:
    assert split_fusion_name(name, KB) == expected


def test_kinase_is_three_prime_whatever_the_order() -> None:
    assert orient("NTRK1", "TPM3", KB) == ("TPM3", "NTRK1")
    assert orient("TPM3", "NTRK1", KB) == ("TPM3", "NTRK1")
    assert orient("EML4", "ALK", KB) == ("EML4", "ALK")


def test_real_pcgr_fusions_put_ntrk1_three_prime(shared_data: Path) -> None:
    path = shared_data / "genomics" / "pcgr_examples" / "T001-COAD.grch38.fusions.tsv"
    fusions = read_fusions(path, KB).alterations
    assert "TPM3::NTRK1" in set(fusions["fusion"])  # written NTRK1--TPM3 in the file


def test_real_oncokb_examples_read_cleanly(shared_data: Path) -> None:
    folder = shared_data / "genomics" / "oncokb_annotator_examples"
    maf = read_maf(folder / "example_maf.txt", KB)
    assert maf.rows_in == len(maf.alterations) + sum(i.action == "dropped" for i in maf.issues)
    cna = read_copy_number(folder / "example_cna.txt", KB).alterations
    assert {("TCGA-05-4417-01", "MET", "amplification")} <= set(
        zip(cna["sample_id"], cna["gene"], cna["alteration_type"], strict=True)
    )
    sv = read_fusions(folder / "example_sv.txt", KB).alterations
    assert "ALK::EML4" in set(sv["fusion"]) or "EML4::ALK" in set(sv["fusion"])


def test_real_msk_timeline_durations(shared_data: Path) -> None:
    """Patient P-0002978 (knowledge.md §6): entrectinib 292 d (PR), larotrectinib 25 d (POD),
    entrectinib + trametinib 178 d (PR), then LOXO-195."""
    path = (
        shared_data
        / "genomics"
        / "cbioportal_timeline_ntrk_msk_2019"
        / "data_timeline_treatment.txt"
    )
    timeline, issues = read_timeline(path, KB)
    # Chemotherapies and other agents the knowledge base does not list are reported, not dropped.
    assert issues and all(i.action.startswith("kept, agent not recognised") for i in issues)
    assert {"'Erlotinib'", "'Paclitaxel'"} <= {i.found for i in issues}
    p = timeline[(timeline["patient_id"] == "P-0002978") & timeline["trk_inhibitor"]]
    got = [(r.drugs, r.stop_day - r.start_day, r.best_response) for r in p.itertuples()]
    assert got[:3] == [("entrectinib", 292, "PR"), ("larotrectinib", 25, "POD"),
                       ("entrectinib;trametinib", 178, "PR")]  # fmt: skip
    assert got[3][0] == "selitrectinib"  # LOXO-195 resolved through its synonym


def test_clinical_sample_types_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "s.txt"
    path.write_text(
        "SAMPLE_ID\tPATIENT_ID\tSAMPLE_TYPE\tCOLLECTION_DAY\nA\tP\tPlasma cfDNA\t10\nB\tP\tPrimary\tx\n"
    )
    samples, issues = read_samples(path)
    assert samples["sample_type"].tolist() == ["cfDNA", "tissue"]
    assert issues[0].line == 3 and issues[0].column == "COLLECTION_DAY"
    path.write_text("SAMPLE_ID\tPATIENT_ID\nA\tP\nA\tQ\n")
    with pytest.raises(InputError, match="listed twice"):
        read_samples(path)


def test_copy_number_thresholds(tmp_path: Path) -> None:
    path = tmp_path / "cn.txt"
    path.write_text("gene\tsample\tcopy_number\nMET\tA\t5\nMET\tB\t7\nNF1\tC\t0\n")
    calls = read_copy_number(path, KB).alterations
    assert list(zip(calls["sample_id"], calls["alteration_type"], strict=True)) == [
        ("B", "amplification"), ("C", "deletion")
    ]  # fmt: skip
    calls = read_copy_number(path, KB, thresholds=CopyNumberThresholds(amp_copies=5)).alterations
    assert set(calls["sample_id"]) == {"A", "B", "C"}


def test_empty_and_headerless_files(tmp_path: Path) -> None:
    empty = tmp_path / "e.maf"
    empty.write_text("#version 2.4\n\n")
    with pytest.raises(InputError, match="empty MAF"):
        read_maf(empty, KB)
    dup = tmp_path / "d.maf"
    dup.write_text("Hugo_Symbol\tHugo_Symbol\n")
    with pytest.raises(InputError, match="duplicate column 'Hugo_Symbol'"):
        read_maf(dup, KB)


def test_an_empty_partner_cell_is_an_issue_not_a_nan_gene(tmp_path: Path) -> None:
    sv = tmp_path / "sv.txt"
    sv.write_text(
        "Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\tClass\n"
        "S1\t\tNTRK1\tFUSION\nS2\tETV6\tNTRK3\tFUSION\n",
        encoding="utf-8",
    )
    parsed = read_fusions(sv, KB)
    assert parsed.alterations["fusion"].astype(str).tolist() == ["ETV6::NTRK3"]
    [issue] = parsed.issues
    assert (issue.line, issue.column, issue.action) == (2, "Site1_Hugo_Symbol", "dropped")
    assert issue.found == "(empty) and 'NTRK1'"
