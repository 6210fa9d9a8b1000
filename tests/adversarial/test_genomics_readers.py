"""Hostile and real-world input for the genomic readers (issue 12).

Each class of failure has constructed files and a hypothesis strategy that
generates its kind: VCF genotypes and malformed VCFs, sample columns of fusion
tables, byte-order marks, line ends, encodings and binary input, minimal MAFs
resolved from genomic coordinates, Ensembl transcripts, duplicates and
conflicts, and impossible numbers.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trkres.errors import InputError
from trkres.genomics.io.cna import read_copy_number
from trkres.genomics.io.fusions import read_fusions
from trkres.genomics.io.maf import read_maf
from trkres.genomics.io.vcf import read_vcf
from trkres.knowledge import load_knowledge
from trkres.knowledge.schema import GENETIC_CODE

KB = load_knowledge()
FEW = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
VALIDATION = Path(__file__).resolve().parents[2].parent / "shared" / "validation"

# ----------------------------------------------------------------------------- VCF
_VCF_HEADER = [
    "##fileformat=VCFv4.2",
    "##contig=<ID=1>",
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl '
    'VEP. Format: Allele|Consequence|SYMBOL|Feature|HGVSp|CANONICAL">',
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
]
# One record, two ALT alleles: T gives NTRK1 G595R, A gives G595E.
_CSQ = (
    "CSQ=T|missense_variant|NTRK1|ENST00000524377|p.Gly595Arg|YES,"
    "A|missense_variant|NTRK1|ENST00000524377|p.Gly595Glu|YES"
)


def _vcf(path: Path, samples: list[str], records: list[str]) -> Path:
    columns = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples)
    path.write_text("\n".join([*_VCF_HEADER, columns, *records]) + "\n")
    return path


def _carriers(path: Path) -> set[tuple[str, str]]:
    alts = read_vcf(path, KB).alterations
    return set(zip(alts["sample_id"].astype(str), alts["protein_change"].astype(str), strict=True))


def test_vcf_genotypes_decide_carriers(tmp_path: Path) -> None:
    gts = {"S00": "0/0", "S01": "0/1", "S11": "1/1", "SNN": "./.", "SN1": "./1", "S02": "0/2"}
    record = f"1\t100\t.\tG\tT,A\t.\tPASS\t{_CSQ}\tGT\t" + "\t".join(gts.values())
    found = _carriers(_vcf(tmp_path / "g.vcf", list(gts), [record]))
    # ./. is no call (it was taken as a carrier); 1/1 without AD carries (it was lost).
    assert found == {("S01", "G595R"), ("S11", "G595R"), ("SN1", "G595R"), ("S02", "G595E")}


def test_vcf_allele_depth_decides_only_without_a_called_genotype(tmp_path: Path) -> None:
    record = f"1\t100\t.\tG\tT\t.\tPASS\t{_CSQ}\tGT:AD\t./.:90,10\t./.:100,0\t0/0:95,5"
    found = _carriers(_vcf(tmp_path / "ad.vcf", ["A", "B", "C"], [record]))
    assert found == {("A", "G595R")}


def test_vcf_impossible_allele_fractions_are_reported(tmp_path: Path) -> None:
    header = '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">'
    _VCF_HEADER.append(header)
    try:
        record = f"1\t100\t.\tG\tT\t.\tPASS\t{_CSQ}\tGT:AF\t0/1:inf\t0/1:1.5\t0/1:0.25"
        parsed = read_vcf(_vcf(tmp_path / "af.vcf", ["A", "B", "C"], [record]), KB)
    finally:
        _VCF_HEADER.remove(header)
    vaf = dict(
        zip(parsed.alterations["sample_id"].astype(str), parsed.alterations["vaf"], strict=True)
    )
    assert np.isnan(vaf["A"]) and np.isnan(vaf["B"]) and vaf["C"] == 0.25
    assert len(parsed.issues) == 2


_GENOTYPES = ["0/0", "0/1", "1/1", "./.", "./1", "0/2", "1/2", "2/2", "./2", ".", "1", "0|1"]


@FEW
@given(st.lists(st.sampled_from(_GENOTYPES), min_size=1, max_size=8))
def test_vcf_carriers_follow_the_called_alleles(tmp_path: Path, gts: list[str]) -> None:
    samples = [f"S{i}" for i in range(len(gts))]
    record = f"1\t100\t.\tG\tT,A\t.\tPASS\t{_CSQ}\tGT\t" + "\t".join(gts)
    found = _carriers(_vcf(tmp_path / "h.vcf", samples, [record]))
    expected = set()
    for sample, gt in zip(samples, gts, strict=True):
        alleles = re.split(r"[/|]", gt)
        if "1" in alleles:
            expected.add((sample, "G595R"))
        if "2" in alleles:
            expected.add((sample, "G595E"))
    assert found == expected


@pytest.mark.parametrize(
    ("samples", "record", "line"),
    [
        (["S1", "S2"], f"1\t100\t.\tG\tT\t.\tPASS\t{_CSQ}\tGT:AD\t0/1:5,5", 7),  # a sample short
        (["S1"], f"1\t100\t.\tG\tT\t.\tPASS\t{_CSQ}\tGT:AD\t0/1:3,4:9:9", 7),  # too many fields
        (["S1"], "1\t100\t.\tG", 7),  # truncated record
        (["S1", "S1"], f"1\t100\t.\tG\tT\t.\tPASS\t{_CSQ}\tGT\t0/1\t0/0", 6),  # duplicate sample
    ],
    ids=["format_count", "extra_fields", "truncated", "duplicate_sample"],
)
def test_malformed_vcf_is_an_input_error_with_its_line(
    tmp_path: Path, samples: list[str], record: str, line: int
) -> None:
    path = _vcf(tmp_path / "bad.vcf", samples, [record])
    with pytest.raises(InputError) as err:
        read_vcf(path, KB)
    assert err.value.location is not None and err.value.location.line == line


@FEW
@given(cut=st.integers(1, 200), samples=st.integers(1, 3))
def test_truncated_vcf_records_never_crash(tmp_path: Path, cut: int, samples: int) -> None:
    names = [f"S{i}" for i in range(samples)]
    good = f"1\t100\t.\tG\tT\t.\tPASS\t{_CSQ}\tGT:AD\t" + "\t".join(["0/1:5,5"] * samples)
    path = _vcf(tmp_path / "t.vcf", names, [good, good.replace("\t100\t", "\t200\t")[:cut]])
    try:
        read_vcf(path, KB)
    except InputError as exc:
        assert exc.location is not None and exc.location.line == 8


# ------------------------------------------------------------------ fusion sample columns
_ALIASES = ["Sample_Id", "SampleID", "Sample_ID", "sample_id", "Tumor_Sample", "Tumor_Sample_Barcode",
            "Sample", "Tumor_Sample_ID", "Sample Name"]  # fmt: skip


@pytest.mark.parametrize("column", ["SampleID", "Tumor_Sample", "\ufeffSample_Id", "Sample_ID"])
def test_fusion_sample_columns_are_recognised(tmp_path: Path, column: str) -> None:
    path = tmp_path / "fusions.tsv"
    path.write_text(f"{column}\tFusion\nP1\tETV6-NTRK3\nP2\tLMNA-NTRK1\n", encoding="utf-8")
    alts = read_fusions(path, KB).alterations
    assert sorted(alts["sample_id"].astype(str)) == ["P1", "P2"]  # not 'fusions' (the file)


@pytest.mark.parametrize(
    "header",
    ["Patient_Sample_Label\tFusion", "Fusion\tCase", "Site1_Hugo_Symbol\tSite2_Hugo_Symbol"],
)
def test_unrecognised_or_missing_sample_column_is_an_error(tmp_path: Path, header: str) -> None:
    path = tmp_path / "fusions.tsv"
    path.write_text(f"{header}\nP1\tETV6-NTRK3\n")
    with pytest.raises(InputError) as err:
        read_fusions(path, KB)
    assert header.split("\t")[0] in (err.value.found or "")  # the columns found are listed


@FEW
@given(
    column=st.sampled_from(_ALIASES),
    case=st.sampled_from([str.lower, str.upper, lambda s: s]),
    bom=st.booleans(),
    crlf=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_fusion_sample_alias_strategy(
    tmp_path: Path, column: str, case: object, bom: bool, crlf: str
) -> None:
    name = case(column)  # type: ignore[operator]
    text = crlf.join([f"{name}\tFusion", "P1\tETV6-NTRK3", "P2\tTPM3-NTRK1"]) + crlf
    path = tmp_path / "f.tsv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    alts = read_fusions(path, KB).alterations
    assert sorted(alts["sample_id"].astype(str)) == ["P1", "P2"]


def test_one_sample_caller_tables_still_take_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "PT7.tsv"
    path.write_text("#FusionName\tJunctionReadCount\nETV6--NTRK3\t12\n")
    assert read_fusions(path, KB).alterations["sample_id"].tolist() == ["PT7"]


# ------------------------------------------------------- BOM, line ends, encodings, binary
_MAF = (
    "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tt_ref_count\tt_alt_count\n"
    "NTRK1\tS1\tp.G595R\t90\t10\nKRAS\tS2\tp.G12D\t50\t50\nBRAF\tS3\tp.V600E\t80\t20\n"
)


def _summary(path: Path) -> list[tuple[str, str, str]]:
    alts = read_maf(path, KB).alterations
    return sorted(
        zip(*(alts[c].astype(str) for c in ("sample_id", "gene", "protein_change")), strict=True)
    )


@FEW
@given(
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
    gz=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-16"]),
)
def test_line_ends_bom_gzip_and_utf16_read_the_same(
    tmp_path: Path, ending: str, bom: bool, gz: bool, encoding: str
) -> None:
    text = _MAF.replace("\n", ending)
    data = text.encode(encoding)  # Python's utf-16 writes a byte-order mark
    if bom and encoding == "utf-8":
        data = b"\xef\xbb\xbf" + data
    path = tmp_path / ("m.maf.gz" if gz else "m.maf")
    path.write_bytes(gzip.compress(data) if gz else data)
    assert _summary(path) == [
        ("S1", "NTRK1", "G595R"),
        ("S2", "KRAS", "G12D"),
        ("S3", "BRAF", "V600E"),
    ]


def test_cr_only_file_lines_are_reported_right(tmp_path: Path) -> None:
    path = tmp_path / "cr.maf"
    path.write_bytes(
        _MAF.replace("NTRK1\tS1\tp.G595R\t90", "NTRK1\tS1\tp.G595R\tmany")
        .replace("\n", "\r")
        .encode()
    )
    issues = read_maf(path, KB).issues
    assert [(i.line, i.column) for i in issues] == [(2, "t_ref_count")]


def test_latin1_gives_line_and_one_based_column(tmp_path: Path) -> None:
    path = tmp_path / "l.maf"
    path.write_bytes(_MAF.replace("S2", "S\u00e92").encode("latin-1"))
    with pytest.raises(InputError) as err:
        read_maf(path, KB)
    assert (err.value.location.line, err.value.location.column) == (3, 7)  # type: ignore[union-attr]
    assert "0xE9" in (err.value.found or "")


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)), b"\x00\x01\x02\xff" * 50,
     "Hugo_Symbol\tTumor_Sample_Barcode".encode("utf-16-le"), b"%PDF-1.4\n%\xe2\xe3"],
    ids=["xlsx", "random", "utf16_no_bom", "pdf"],
)  # fmt: skip
def test_binary_input_is_named_not_printed(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "b.maf"
    path.write_bytes(content)
    with pytest.raises(InputError) as err:
        read_maf(path, KB)
    message = str(err.value)
    assert "\x00" not in message and "\\x" not in message and "b'" not in message


@FEW
@given(st.binary(min_size=1, max_size=300))
def test_arbitrary_bytes_give_an_input_error_or_a_table(tmp_path: Path, content: bytes) -> None:
    for reader in (read_maf, read_fusions, read_copy_number):
        path = tmp_path / "x.txt"
        path.write_bytes(content)
        try:
            reader(path, KB)
        except InputError as exc:
            assert "\x00" not in str(exc) and "b'" not in str(exc)


def test_gzip_works_for_fusions_and_copy_number(tmp_path: Path) -> None:
    fus = tmp_path / "sv.txt.gz"
    fus.write_bytes(
        gzip.compress(b"Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\nP1\tETV6\tNTRK3\n")
    )
    cna = tmp_path / "cna.txt.gz"
    cna.write_bytes(gzip.compress(b"Hugo_Symbol\tP1\tP2\nMET\t2\t0\n"))
    assert read_fusions(fus, KB).alterations["fusion"].tolist() == ["ETV6::NTRK3"]
    assert read_copy_number(cna, KB).alterations["sample_id"].tolist() == ["P1"]


# -------------------------------------------------------- minimal MAFs: coordinates
_MINIMAL = "Hugo_Symbol\tChromosome\tStart_Position\tEnd_Position\tReference_Allele\tTumor_Seq_Allele2\tVariant_Classification\tTumor_Sample_Barcode\tNCBI_Build"


def _minimal(path: Path, rows: list[str], header: str = _MINIMAL) -> pd.DataFrame:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    parsed = read_maf(path, KB)
    return parsed.alterations.assign(n_issues=len(parsed.issues))


@pytest.mark.parametrize(
    ("row", "change"),
    [
        ("KRAS\t12\t25398284\t25398284\tC\tT\tMissense_Mutation\tS\t37", "G12D"),
        ("KRAS\tchr12\t25245350\t25245350\tC\tT\tMissense_Mutation\tS\tGRCh38", "G12D"),
        ("NRAS\t1\t115256529\t115256529\tT\tC\tMissense_Mutation\tS\thg19", "Q61R"),
        ("BRAF\t7\t140453136\t140453136\tA\tT\tMissense_Mutation\tS\tGRCh37", "V600E"),
        ("BRAF\t7\t140753336\t140753337\tAC\tTT\tMissense_Mutation\tS\tGRCh38", "V600K"),
        ("KRAS\t12\t25398283\t25398283\tA\tG\tSilent\tS\t37", "G12="),
        ("PIK3CA\t3\t179218294\t179218294\tG\tA\tMissense_Mutation\tS\tGRCh38", "E542K"),
    ],
)
def test_minimal_maf_hotspots_from_coordinates(tmp_path: Path, row: str, change: str) -> None:
    alts = _minimal(tmp_path / "m.maf", [row])
    assert alts["protein_change"].tolist() == [change]
    assert "coordinates" in alts["normalisation"].iloc[0]


def test_minimal_maf_reference_mismatch_is_reported_not_translated(tmp_path: Path) -> None:
    # G where KRAS G12 c.35 has C on the forward strand: wrong build or wrong allele.
    alts = _minimal(
        tmp_path / "m.maf", ["KRAS\t12\t25398284\t25398284\tG\tT\tMissense_Mutation\tS\t37"]
    )
    assert alts["protein_change"].tolist() == [""]
    parsed = read_maf(tmp_path / "m.maf", KB)
    assert any("Reference_Allele C" in i.expected for i in parsed.issues)


def test_minimal_maf_without_build_is_read_and_says_why_nothing_is_named(tmp_path: Path) -> None:
    header = _MINIMAL.rsplit("\t", 1)[0]
    path = tmp_path / "m.maf"
    path.write_text(header + "\nKRAS\t12\t25398284\t25398284\tC\tT\tMissense_Mutation\tS\n")
    parsed = read_maf(path, KB)
    assert parsed.alterations["protein_change"].tolist() == [""]
    assert [i.column for i in parsed.issues] == ["NCBI_Build"]


def test_minimal_maf_build_given_by_the_caller(tmp_path: Path) -> None:
    header = _MINIMAL.rsplit("\t", 1)[0]
    path = tmp_path / "m.maf"
    path.write_text(header + "\nKRAS\t12\t25398284\t25398284\tC\tT\tMissense_Mutation\tS\n")
    parsed = read_maf(path, KB, genome_build="GRCh37")
    assert parsed.alterations["protein_change"].tolist() == ["G12D"]
    assert "as given" in parsed.issues[0].found
    with pytest.raises(InputError):
        read_maf(path, KB, genome_build="hg18")


def test_maf_without_protein_or_coordinates_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.maf"
    path.write_text("Hugo_Symbol\tTumor_Sample_Barcode\tChromosome\nKRAS\tS\t12\n")
    with pytest.raises(InputError):
        read_maf(path, KB)


def _translate_independently(codon: str, index: int, base: str) -> str:
    mutated = codon[:index] + base + codon[index + 1 :]
    return GENETIC_CODE[mutated]


_CODONS = [c for c in KB.hotspot_codons.values() if "N" not in c.codon]


@FEW
@given(
    codon=st.sampled_from(_CODONS),
    build=st.sampled_from(["GRCh37", "GRCh38"]),
    offset=st.integers(-2, 4),
    alt=st.sampled_from("ACGT"),
    right_ref=st.booleans(),
)
def test_coordinate_strategy(
    tmp_path: Path, codon: object, build: str, offset: int, alt: str, right_ref: bool
) -> None:
    from trkres.knowledge.schema import HotspotCodon

    assert isinstance(codon, HotspotCodon)
    locus = codon.grch37 if build == "GRCh37" else codon.grch38
    if locus is None:
        return
    position = locus.start + offset
    inside = 0 <= offset <= 2
    others = {
        (other.chromosome, other.start + k)
        for c in KB.hotspot_codons.values()
        if c.id != codon.id and (other := c.grch37 if build == "GRCh37" else c.grch38)
        for k in range(3)
    }
    if (locus.chromosome, position) in others:  # BRAF V600 and K601 are neighbours
        return
    index = offset if codon.strand == "+" else 2 - offset
    comp = str.maketrans("ACGT", "TGCA")
    ref = codon.codon[index] if inside else "A"
    ref = ref if codon.strand == "+" else ref.translate(comp)
    if not right_ref:
        ref = {"A": "C", "C": "G", "G": "T", "T": "A"}[ref]
    if alt == ref:
        return
    row = f"{codon.gene}\t{locus.chromosome}\t{position}\t{position}\t{ref}\t{alt}\tMissense_Mutation\tS\t{build}"
    got = _minimal(tmp_path / "m.maf", [row])["protein_change"].iloc[0]
    if not inside or not right_ref:
        assert got == ""
        return
    coding_alt = alt if codon.strand == "+" else alt.translate(comp)
    new = _translate_independently(codon.codon, index, coding_alt)
    ref_aa, number = codon.residue[0], codon.residue[1:]
    assert got == f"{ref_aa}{number}{'=' if new == ref_aa else new}"


@pytest.mark.parametrize(
    "name",
    ["tcga_laml.maf.gz", "APL_primary.maf.gz", "APL_relapse.maf.gz"],
)
def test_real_mafs_coordinates_give_their_published_protein_changes(
    tmp_path: Path, name: str
) -> None:
    """Every hotspot row of a real MAF, stripped of its protein column, is named back the same."""
    source = VALIDATION / "genomics_real_mafs" / name
    if not source.is_file():
        pytest.skip("../shared/validation is not present (fresh clone)")
    full = read_maf(source, KB)
    table = full.table.to_pandas()
    protein = [c for c in table.columns if c.lower() in {"protein_change", "amino_acid_change"}]
    stripped = tmp_path / "stripped.maf"
    table.drop(columns=protein).to_csv(stripped, sep="\t", index=False)
    again = read_maf(stripped, KB).alterations
    named = again["protein_change"].astype(str) != ""
    assert named.sum() >= 4
    published = full.alterations["protein_change"].astype(str).to_numpy()[named.to_numpy()]
    assert list(again.loc[named, "protein_change"].astype(str)) == list(published)


def test_minimal_brca_maf_is_read(tmp_path: Path) -> None:
    source = VALIDATION / "genomics_real_mafs" / "brca.maf.gz"
    if not source.is_file():
        pytest.skip("../shared/validation is not present (fresh clone)")
    parsed = read_maf(source, KB)
    assert len(parsed.alterations) == parsed.rows_in > 1000


# ------------------------------------------------------------- Ensembl transcripts
@pytest.mark.parametrize(
    ("transcript", "expected"),
    [("ENST00000644969", "V600E"), ("ENST00000644969.1", "V600E"), ("NM_001374258.1", "V600E"),
     ("ENST00000288602", "V640E")],
)  # fmt: skip
def test_braf_mane_numbering_from_either_transcript_id(
    tmp_path: Path, transcript: str, expected: str
) -> None:
    path = tmp_path / "gdc.maf"
    path.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tTranscript_ID\n"
        f"BRAF\tS1\tp.V640E\t{transcript}\n"
    )
    assert read_maf(path, KB).alterations["protein_change"].tolist() == [expected]


@FEW
@given(
    base=st.sampled_from(["ENST00000644969", "NM_001374258", "ENST00000288602", "NM_004333", ""]),
    version=st.one_of(st.just(""), st.integers(1, 12).map(lambda v: f".{v}")),
    notation=st.sampled_from(["p.V640E", "p.Val640Glu", "V640E"]),
)
def test_transcript_id_strategy(tmp_path: Path, base: str, version: str, notation: str) -> None:
    path = tmp_path / "t.maf"
    tx = base + version if base else ""
    path.write_text(
        "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tTranscript_ID\n"
        f"BRAF\tS1\t{notation}\t{tx}\n"
    )
    got = read_maf(path, KB).alterations["protein_change"].iloc[0]
    # MANE (either ID, any version) and no transcript at all are renumbered; the old
    # canonical transcript already uses the conventional numbering, so V640 stays V640.
    assert got == ("V640E" if base in {"ENST00000288602", "NM_004333"} else "V600E")


def test_every_shipped_transcript_has_refseq_and_ensembl_ids() -> None:
    for gene in KB.genes.values():
        for tx in gene.transcripts:
            assert tx.refseq and tx.ensembl, gene.symbol
    for rmap in KB.residue_maps.values():
        ids = {i for g in KB.genes.values() if g.symbol == rmap.gene for t in g.transcripts
               for i in (t.refseq, t.ensembl)}  # fmt: skip
        assert rmap.transcript in ids


# ------------------------------------------------------------ duplicates, conflicts
def test_exact_duplicate_maf_rows_count_once(tmp_path: Path) -> None:
    path = tmp_path / "d.maf"
    lines = _MAF.splitlines()
    path.write_text("\n".join([*lines, lines[1], lines[1]]) + "\n")
    parsed = read_maf(path, KB)
    assert len(parsed.alterations) == 3
    assert [(i.line, i.action) for i in parsed.issues] == [(5, "dropped"), (6, "dropped")]


def test_conflicting_maf_repeat_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.maf"
    path.write_text(_MAF + "NTRK1\tS1\tp.G595R\t10\t90\n")
    parsed = read_maf(path, KB)
    assert len(parsed.alterations) == 3
    (issue,) = parsed.issues
    assert issue.line == 5 and issue.column == "t_ref_count" and "line 2" in issue.found


@FEW
@given(repeats=st.lists(st.integers(0, 2), min_size=3, max_size=3), shuffle=st.randoms())
def test_duplicate_strategy(tmp_path: Path, repeats: list[int], shuffle: object) -> None:
    header, *rows = _MAF.splitlines()
    body = [r for r, k in zip(rows, repeats, strict=True) for _ in range(k + 1)]
    shuffle.shuffle(body)  # type: ignore[attr-defined]
    path = tmp_path / "d.maf"
    path.write_text("\n".join([header, *body]) + "\n")
    parsed = read_maf(path, KB)
    assert len(parsed.alterations) == 3
    assert sum(i.action == "dropped" for i in parsed.issues) == sum(repeats)
    assert len(parsed.alterations) + sum(repeats) == parsed.rows_in


@pytest.mark.parametrize(
    "text",
    ["Hugo_Symbol\tP1\tP2\nMET\t2\t0\nMET\t-2\t0\n",
     "gene\tsample\tcna\nMET\tP1\t2\nMET\tP1\t-2\n",
     "Hugo_Symbol\tP1\nMET\t2\nMET\t0\n"],
    ids=["matrix", "long", "amp_and_neutral"],
)  # fmt: skip
def test_conflicting_copy_number_is_reported_and_not_called(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cna.txt"
    path.write_text(text)
    parsed = read_copy_number(path, KB)
    assert not (
        (parsed.alterations["sample_id"] == "P1") & (parsed.alterations["gene"] == "MET")
    ).any()
    assert sorted(i.line for i in parsed.issues if i.line) == [2, 3]


@FEW
@given(st.lists(st.sampled_from([-2, -1, 0, 1, 2]), min_size=1, max_size=4))
def test_copy_number_repeat_strategy(tmp_path: Path, levels: list[int]) -> None:
    path = tmp_path / "cna.txt"
    path.write_text("gene\tsample\tcna\n" + "".join(f"MET\tP1\t{v}\n" for v in levels))
    calls = read_copy_number(path, KB).alterations
    states = {(v >= 2) - (v <= -2) for v in levels}
    if len(states) > 1:
        assert calls.empty
    else:
        only = states.pop()
        assert len(calls) == (1 if only else 0)


# ------------------------------------------------------------------ impossible numbers
@pytest.mark.parametrize(
    ("column", "value"),
    [("t_alt_count", "inf"), ("t_ref_count", "-3"), ("t_depth", "Infinity"), ("t_AF", "inf"),
     ("t_AF", "-0.1"), ("t_AF", "1.5"), ("t_alt_count", "1e400")],
)  # fmt: skip
def test_impossible_numbers_are_reported(tmp_path: Path, column: str, value: str) -> None:
    header = (
        "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tt_ref_count\tt_alt_count\tt_depth\tt_AF"
    )
    cells = {"t_ref_count": "90", "t_alt_count": "10", "t_depth": "100", "t_AF": ""}
    cells[column] = value
    path = tmp_path / "n.maf"
    path.write_text(
        header
        + "\nNTRK1\tS1\tp.G595R\t"
        + "\t".join(cells[c] for c in header.split("\t")[3:])
        + "\n"
    )
    parsed = read_maf(path, KB)
    assert [(i.line, i.column) for i in parsed.issues] == [(2, column)]
    vaf = parsed.alterations["vaf"].iloc[0]
    assert np.isnan(vaf) or 0 <= vaf <= 1


@pytest.mark.parametrize(
    ("column", "value"),
    [("copy_number", "inf"), ("copy_number", "-2"), ("log2", "Infinity"), ("log2", "-inf")],
)
def test_impossible_copy_number_values_are_reported_not_called(
    tmp_path: Path, column: str, value: str
) -> None:
    path = tmp_path / "cn.txt"
    path.write_text(
        f"gene\tsample\t{column}\nMET\tP1\t{value}\nEGFR\tP1\t{'12' if column == 'copy_number' else '2.5'}\n"
    )
    parsed = read_copy_number(path, KB)
    assert parsed.alterations["gene"].tolist() == ["EGFR"]
    assert [(i.line, i.column) for i in parsed.issues] == [(2, column)]


@FEW
@given(
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**6)),
        min_size=2, max_size=2,
    )
)  # fmt: skip
def test_numeric_strategy_vaf_is_a_fraction_or_missing(tmp_path: Path, counts: list[float]) -> None:
    path = tmp_path / "n.maf"
    buf = io.StringIO()
    buf.write("Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tt_ref_count\tt_alt_count\n")
    buf.write(f"NTRK1\tS1\tp.G595R\t{counts[0]}\t{counts[1]}\n")
    path.write_text(buf.getvalue())
    parsed = read_maf(path, KB)
    vaf = parsed.alterations["vaf"].iloc[0]
    assert np.isnan(vaf) or 0 <= vaf <= 1
    reported = {i.column for i in parsed.issues}
    for column, value in zip(("t_ref_count", "t_alt_count"), counts, strict=True):
        if np.isinf(value) or value < 0:  # impossible read counts never pass silently
            assert column in reported
