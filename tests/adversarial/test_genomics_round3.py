"""Round 3 of the hostile review of ``trkres classify`` (genomics classification).

Each test failed on the code before its fix: a VCF call the variant caller
itself filtered deciding the class; a change the knowledge base does not list
trusted more than listed ``needs_review`` ones; a low-confidence Arriba call
making a patient's TRK fusion; a mutation called ``acquired`` when the only
baseline sample was never assayed for mutations.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import trkres as tr

MAF_HEADER = "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\n"
VCF_HEADER = """##fileformat=VCFv4.2
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=weak_evidence,Description="Mutation does not meet likelihood threshold">
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|SYMBOL|Feature|HGVSp|CANONICAL">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allele depths">
##contig=<ID=1>
##contig=<ID=12>
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tT1
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def lmna_ntrk1(tmp_path: Path, *samples: str) -> Path:
    rows = "".join(f"{s}\tLMNA\tNTRK1\n" for s in samples)
    return write(tmp_path / "sv.tsv", "Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\n" + rows)


# ------------------------------------------------ 1. VCF FILTER is respected
@pytest.mark.parametrize("filt", ["weak_evidence", "weak_evidence;germline"])
def test_filtered_vcf_call_does_not_decide_the_class(tmp_path: Path, filt: str) -> None:
    """A Mutect2 ``weak_evidence`` NTRK1 G595R made the sample on_target with a
    next-generation TRK inhibitor suggested; now it is dropped and reported."""
    records = [
        f"1\t156843\t.\tG\tA\t.\t{filt}\tCSQ=A|missense_variant|NTRK1|ENST00000524377|"
        "p.Gly595Arg|YES\tGT:AD\t0/1:90,10",
        "12\t25398284\t.\tC\tT\t.\tPASS\tCSQ=T|missense_variant|KRAS|ENST00000256078|"
        "p.Gly12Asp|YES\tGT:AD\t0/1:70,30",
    ]
    vcf = write(tmp_path / "t.vcf", VCF_HEADER + "\n".join(records) + "\n")
    r = tr.genomics.classify(vcf=vcf, sv=lmna_ntrk1(tmp_path, "T1"))
    sample = r.samples.iloc[0]
    assert sample["mechanism"] == "off_target" and sample["on_target"] == ""
    assert "next_gen_type1_trki" not in sample["therapy_strategies"]
    assert "G595R" not in set(r.alterations["protein_change"])
    issue = r.issues[r.issues["column"].astype(str).str.startswith("FILTER")]
    assert len(issue) == 1 and "weak_evidence" in issue["found"].iloc[0]
    assert issue["line"].iloc[0] == VCF_HEADER.count("\n") + 1  # the record's file line


# ------------------------------- 2. an unlisted change is not a verified fact
@pytest.mark.parametrize(
    ("gene", "change", "listed_unverified"),
    [("NTRK1", "G667V", "G667S"), ("NTRK3", "G623V", "G623E"), ("NTRK1", "F589C", None)],
)
def test_unlisted_change_at_a_known_position_is_needs_review(
    tmp_path: Path, gene: str, change: str, listed_unverified: str | None
) -> None:
    """NTRK1 G667V (in no source) was 'verified' xDFG with type2_trki suggested,
    while the listed G667S (U in knowledge.md) was needs_review: less knowledge
    gave more trust."""
    partner = "ETV6" if gene == "NTRK3" else "LMNA"
    maf = write(tmp_path / "m.maf", MAF_HEADER + f"{gene}\tS1\tMissense_Mutation\tp.{change}\n")
    sv = write(
        tmp_path / "sv.tsv",
        f"Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\nS1\t{partner}\t{gene}\n",
    )
    r = tr.genomics.classify(maf, sv=sv)
    row = r.alterations[r.alterations["protein_change"] == change].iloc[0]
    assert row["alteration_class"] != "" and row["fact_status"] == "needs_review"
    assert "not listed" in row["annotation_note"]
    sample = r.samples.iloc[0]
    assert sample["mechanism"] == "none_detected" and sample["therapy_strategies"] == ""
    assert sample["unverified_mechanism"] == "on_target"


def test_listed_verified_changes_still_decide(tmp_path: Path) -> None:
    maf = write(tmp_path / "m.maf", MAF_HEADER + "NTRK1\tS1\tMissense_Mutation\tp.G667C\n")
    r = tr.genomics.classify(maf, sv=lmna_ntrk1(tmp_path, "S1"))
    assert r.samples.iloc[0]["mechanism"] == "on_target"
    assert r.samples.iloc[0]["therapy_strategies"] == "type2_trki"


# -------------------------------------------- 3. Arriba low-confidence calls
ARRIBA = "#gene1\tgene2\tsite1\tsite2\ttype\tconfidence\treading_frame\n"


@pytest.mark.parametrize("confidence", ["low", " LOW "])
def test_low_confidence_arriba_call_is_not_the_trk_fusion(tmp_path: Path, confidence: str) -> None:
    """An Arriba 'low' LMNA--NTRK1 call (mostly artefacts) made the fusion
    'detected' and G595R on-target resistance; now it is reported and dropped,
    and the sample counts as assessed for fusions (not 'unknown')."""
    maf = write(tmp_path / "m.maf", MAF_HEADER + "NTRK1\tS1\tMissense_Mutation\tp.G595R\n")
    arriba = write(
        tmp_path / "S1.tsv",
        ARRIBA + f"LMNA\tNTRK1\tsplice-site\tsplice-site\ttranslocation\t{confidence}\tin-frame\n",
    )
    r = tr.genomics.classify(maf, sv=arriba)
    sample = r.samples.iloc[0]
    assert sample["fusion_status"] == "not_detected" and sample["mechanism"] == "no_trk_fusion"
    assert sample["therapy_strategies"] == ""
    issue = r.issues[r.issues["column"] == "confidence"]
    assert len(issue) == 1 and issue["line"].iloc[0] == 2


def test_high_confidence_arriba_call_is_used(tmp_path: Path) -> None:
    maf = write(tmp_path / "m.maf", MAF_HEADER + "NTRK1\tS1\tMissense_Mutation\tp.G595R\n")
    arriba = write(
        tmp_path / "S1.tsv",
        ARRIBA + "LMNA\tNTRK1\tsplice-site\tsplice-site\ttranslocation\thigh\tin-frame\n"
        "TPM3\tFOO\tsplice-site\tsplice-site\ttranslocation\tlow\tin-frame\n",
    )
    r = tr.genomics.classify(maf, sv=arriba)
    assert r.samples.iloc[0]["mechanism"] == "on_target"
    assert len(r.issues[r.issues["column"] == "confidence"]) == 1


# ------------------------- 4. 'acquired' needs a baseline of the same assay
def cohort(tmp_path: Path, baseline_maf_row: str) -> tuple[Path, Path, Path, Path]:
    maf = write(
        tmp_path / "m.maf",
        MAF_HEADER + baseline_maf_row + "NTRK1\tPOST\tMissense_Mutation\tp.G595R\n",
    )
    sv = lmna_ntrk1(tmp_path, "BASE")
    clinical = write(
        tmp_path / "clin.tsv",
        "SAMPLE_ID\tPATIENT_ID\tSAMPLE_TYPE\tCOLLECTION_DAY\n"
        "BASE\tP\ttissue\t-10\nPOST\tP\tcfDNA\t200\n",
    )
    timeline = write(
        tmp_path / "tl.tsv",
        "PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\tAGENT\nP\t0\t180\tTreatment\tLarotrectinib\n",
    )
    return maf, sv, clinical, timeline


def test_baseline_fusion_panel_alone_does_not_make_a_mutation_acquired(tmp_path: Path) -> None:
    """Diagnosis by an RNA fusion panel (no mutation data at baseline), G595R in
    cfDNA at progression: it was called 'acquired' though baseline never looked."""
    maf, sv, clinical, timeline = cohort(tmp_path, "")
    r = tr.genomics.classify(maf, sv=sv, clinical=clinical, timeline=timeline)
    g595r = r.alterations[r.alterations["protein_change"] == "G595R"].iloc[0]
    assert g595r["timing"] == "timing_unknown"
    patient = r.patients.iloc[0]
    assert patient["acquired_on_target"] == "" and patient["mechanism"] == "on_target"


def test_baseline_with_mutation_data_still_makes_it_acquired(tmp_path: Path) -> None:
    maf, sv, clinical, timeline = cohort(tmp_path, "TP53\tBASE\tMissense_Mutation\tp.R175H\n")
    r = tr.genomics.classify(maf, sv=sv, clinical=clinical, timeline=timeline)
    g595r = r.alterations[r.alterations["protein_change"] == "G595R"].iloc[0]
    assert g595r["timing"] == "acquired"
    assert r.patients.iloc[0]["acquired_on_target"] == "NTRK1 G595R"


# ------------------------------- 5. multi-allelic INFO AF is per ALT allele
def test_sites_only_multiallelic_info_af_is_per_allele(tmp_path: Path) -> None:
    """AF=0.3,0.02 (Number=A): G12V took G12D's 0.3 (the first value for every ALT)."""
    vcf = write(
        tmp_path / "b.vcf",
        "##fileformat=VCFv4.2\n"
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
        'Ensembl VEP. Format: Allele|Consequence|SYMBOL|Feature|HGVSp|CANONICAL">\n'
        '##INFO=<ID=AF,Number=A,Type=Float,Description="Allele fraction">\n'
        "##contig=<ID=12>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "12\t25398284\t.\tC\tT,A\t.\tPASS\tAF=0.3,0.02;CSQ=T|missense_variant|KRAS|"
        "ENST00000256078|p.Gly12Asp|YES,A|missense_variant|KRAS|ENST00000256078|p.Gly12Val|YES\n",
    )
    alts = tr.genomics.classify(vcf=vcf).alterations.set_index("protein_change")
    assert alts.loc["G12D", "vaf"] == pytest.approx(0.3)
    assert alts.loc["G12V", "vaf"] == pytest.approx(0.02)


# ------------- 6. a resistance mutation present at baseline and at progression
def test_pre_existing_on_target_mutation_still_counts_for_the_patient(tmp_path: Path) -> None:
    """G595R at baseline (subclonal) and at progression with a new G667C: the
    patient row suggested type2_trki alone, which spares G595R (Fuse 2017), and
    never mentioned G595R. Now it counts (primary, flagged), not as 'acquired'."""
    maf, sv, clinical, timeline = cohort(
        tmp_path,
        "NTRK1\tBASE\tMissense_Mutation\tp.G595R\nTP53\tBASE\tMissense_Mutation\tp.R175H\n"
        "NTRK1\tPOST\tMissense_Mutation\tp.G667C\n",
    )
    r = tr.genomics.classify(maf, sv=sv, clinical=clinical, timeline=timeline)
    timing = r.alterations.set_index(["sample_id", "protein_change"])["timing"]
    assert timing[("POST", "G595R")] == "pre_existing" and timing[("POST", "G667C")] == "acquired"
    patient = r.patients.iloc[0]
    assert patient["acquired_on_target"] == "NTRK1 G667C"
    assert patient["therapy_strategies"].split(";") == ["next_gen_type1_trki", "type2_trki"]
    assert "solvent front + xDFG" in patient["review_flags"]
    assert "NTRK1 G595R: present before the first TRK inhibitor" in patient["review_flags"]


def test_pre_existing_bypass_stays_apart(tmp_path: Path) -> None:
    maf, sv, clinical, timeline = cohort(
        tmp_path,
        "KRAS\tBASE\tMissense_Mutation\tp.G12D\nKRAS\tPOST\tMissense_Mutation\tp.G12D\n",
    )
    r = tr.genomics.classify(maf, sv=sv, clinical=clinical, timeline=timeline)
    patient = r.patients.iloc[0]
    assert patient["pre_existing_bypass"] == "KRAS G12D"
    assert patient["mechanism"] == "on_target" and patient["therapy_strategies"] == (
        "next_gen_type1_trki"
    )


# ----------------- 7. a VCF without GT or AD (Strelka) is reported, not lost
def test_vcf_without_genotype_or_depth_is_reported(tmp_path: Path) -> None:
    """A Strelka somatic VCF (FORMAT DP:AU:CU:GU:TU) lost its NTRK1 G595R with no
    row and no issue: rows in were not rows used + rows reported."""
    vcf = write(
        tmp_path / "strelka.vcf",
        "##fileformat=VCFv4.1\n"
        '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
        'Ensembl VEP. Format: Allele|Consequence|SYMBOL|Feature|HGVSp|CANONICAL">\n'
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n'
        '##FORMAT=<ID=AU,Number=2,Type=Integer,Description="A tiers">\n'
        '##FORMAT=<ID=GU,Number=2,Type=Integer,Description="G tiers">\n'
        "##contig=<ID=1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNORMAL\tTUMOR\n"
        "1\t156843\t.\tG\tA\t.\tPASS\tCSQ=A|missense_variant|NTRK1|ENST00000524377|p.Gly595Arg|"
        "YES\tDP:AU:GU\t40:0,0:40,40\t100:10,10:90,90\n",
    )
    r = tr.genomics.classify(vcf=vcf)
    assert r.alterations.empty
    issue = r.issues[r.issues["column"] == "FORMAT (record 1)"]
    assert len(issue) == 1 and issue["line"].iloc[0] == 8
    assert issue["action"].iloc[0] == "dropped (carriers unknown)"


# ------------- 8. an undated sample is not left out of the patient's call
def test_undated_sample_counts_for_the_patient_and_is_flagged(tmp_path: Path) -> None:
    """BASE (day -10), POST (day 200, KRAS G12D) and UNK (no day, NTRK1 G595R): the
    patient was off_target with trki_plus_meki alone, G595R (larotrectinib R1)
    silently left out because its sample had no collection day."""
    _, sv, _, timeline = cohort(tmp_path, "")
    maf = write(
        tmp_path / "m.maf",
        MAF_HEADER + "TP53\tBASE\tMissense_Mutation\tp.R175H\n"
        "KRAS\tPOST\tMissense_Mutation\tp.G12D\nNTRK1\tUNK\tMissense_Mutation\tp.G595R\n",
    )
    clinical = write(
        tmp_path / "clin.tsv",
        "SAMPLE_ID\tPATIENT_ID\tSAMPLE_TYPE\tCOLLECTION_DAY\n"
        "BASE\tP\ttissue\t-10\nPOST\tP\tcfDNA\t200\nUNK\tP\tcfDNA\t\n",
    )
    r = tr.genomics.classify(maf, sv=sv, clinical=clinical, timeline=timeline)
    patient = r.patients.iloc[0]
    assert patient["mechanism"] == "on_and_off_target"
    assert patient["therapy_strategies"] == "next_gen_type1_trki;trki_plus_meki"
    assert "NTRK1 G595R: from a sample without a collection day" in patient["review_flags"]
    assert patient["acquired_on_target"] == ""


# ------ 9. the knowledge base's transcript decides, with or without a protein
def test_vep_consequence_on_the_canonical_transcript_decides(tmp_path: Path) -> None:
    """Intronic on NTRK1's canonical ENST00000524377, missense 'p.Gly667Cys' on
    another isoform: the other isoform's numbering made a verified xDFG call
    (type2_trki suggested)."""
    records = [
        "1\t156849000\t.\tG\tA\t.\tPASS\tCSQ=A|intron_variant|NTRK1|ENST00000524377||YES,"
        "A|missense_variant|NTRK1|ENST00000368196|ENSP1:p.Gly667Cys|\tGT:AD\t0/1:80,20",
    ]
    vcf = write(tmp_path / "t.vcf", VCF_HEADER + "\n".join(records) + "\n")
    r = tr.genomics.classify(vcf=vcf, sv=lmna_ntrk1(tmp_path, "T1"))
    row = r.alterations[r.alterations["alteration_type"] != "fusion"].iloc[0]
    assert row["transcript"] == "ENST00000524377" and row["alteration_class"] == ""
    assert row["alteration_type"] == "silent"
    assert r.samples.iloc[0]["mechanism"] == "none_detected"
    assert r.samples.iloc[0]["therapy_strategies"] == ""
