"""Hostile input for classify and cfdna, round 2 (issue 12).

Sample ids that differ by case or surrounding whitespace between files,
cfDNA allele fractions given in percent, timeline patients outside the
cohort, the same file given twice, truncated and latin-1 VCFs, impossible
response thresholds and ddPCR reference targets and unmatched wells.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trkres.cli import app
from trkres.genomics.pipeline import classify_inputs, read_genomic_inputs
from trkres.knowledge import load_knowledge

KB = load_knowledge()
FEW = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ntrk_resistance" / "genomics"
runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    """Exit code and text (output, or the TrkresError the CLI's main() would print)."""
    from trkres.errors import TrkresError

    result = runner.invoke(app, ["-q", *args], env={"COLUMNS": "200"})
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit | TrkresError):
        raise AssertionError(f"internal error: {type(exc).__name__}: {exc}") from exc
    return result.exit_code, result.output + (str(exc) if exc is not None else "")


def study(tmp_path: Path) -> Path:
    """A private copy of the example cBioPortal study."""
    g = tmp_path / "G"
    if not g.exists():
        shutil.copytree(EXAMPLE, g)
    return g


def classify(g: Path, **extra: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Patients and issues of the example study as classify reads it."""
    inputs = read_genomic_inputs(
        KB,
        mafs=extra.get("mafs", [g / "data_mutations.txt"]),
        svs=[g / "data_sv.txt"],
        cnas=[g / "data_cna.txt"],
        clinical=g / "data_clinical_sample.txt",
        timeline=g / "data_timeline_treatment.txt",
    )
    result = classify_inputs(inputs, KB)
    return result.patients, result.issues_frame()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# ------------------------------------------------------------- 1. sample ids across files
def test_example_calls_russo_on_target(tmp_path: Path) -> None:
    patients, issues = classify(study(tmp_path))
    russo = patients.set_index("patient_id").loc["PT-RUSSO"]
    assert russo["mechanism"] == "on_target"
    assert issues.empty


def test_sample_id_differing_by_case_is_an_issue_row_naming_the_match(tmp_path: Path) -> None:
    g = study(tmp_path)
    edit(g / "data_mutations.txt", "RUSSO-P1", "russo-p1")
    _, issues = classify(g)
    row = issues[issues["found"].str.contains("russo-p1")]
    assert len(row) == 1
    row = row.iloc[0]
    assert row["file"].endswith("data_mutations.txt")
    assert row["column"] == "Tumor_Sample_Barcode"
    assert row["expected"].startswith("a sample listed in the clinical file")
    assert "'RUSSO-P1'" in row["found"] and "case" in row["found"]
    assert int(row["line"]) >= 2


@pytest.mark.parametrize("pad", [" {}", "{} ", "\t{} ", "  {}  "])
def test_whitespace_around_sample_ids_is_not_part_of_them(tmp_path: Path, pad: str) -> None:
    g = study(tmp_path)
    edit(g / "data_mutations.txt", "RUSSO-P1", pad.format("RUSSO-P1").replace("\t", " "))
    edit(g / "data_sv.txt", "RUSSO-P1", pad.format("RUSSO-P1").replace("\t", " "))
    edit(g / "data_clinical_sample.txt", "PT-RUSSO", " PT-RUSSO ")
    edit(g / "data_timeline_treatment.txt", "PT-RUSSO", "PT-RUSSO ")
    patients, issues = classify(g)
    assert patients.set_index("patient_id").loc["PT-RUSSO"]["mechanism"] == "on_target"
    assert issues.empty


def test_cna_and_sv_samples_outside_the_clinical_file_are_reported(tmp_path: Path) -> None:
    g = study(tmp_path)
    edit(g / "data_cna.txt", "COCCO3-P1", "Cocco3-p1")
    _, issues = classify(g)
    row = issues[issues["file"].str.endswith("data_cna.txt")]
    assert len(row) == 1
    assert row.iloc[0]["column"] == "Cocco3-p1" and int(row.iloc[0]["line"]) == 1
    assert "'COCCO3-P1'" in row.iloc[0]["found"]


@FEW
@given(
    change=st.sampled_from(["lower", "upper", "swapcase"]),
    target=st.sampled_from(["RUSSO-P1", "DRILON-P1", "COCCO1-P1", "COCCO2-P1"]),
)
def test_generated_case_changes_never_pass_silently(
    tmp_path: Path, change: str, target: str
) -> None:
    g = study(tmp_path)
    text = (EXAMPLE / "data_mutations.txt").read_text()
    if target not in text:
        return
    changed = getattr(target, change)()
    (g / "data_mutations.txt").write_text(text.replace(target, changed))
    _, issues = classify(g)
    if changed == target:
        assert issues.empty
    else:
        assert issues["found"].str.contains(repr(changed), regex=False).any()


def cls_args(g: Path, out: Path) -> list[str]:
    return [
        "classify", "--maf", str(g / "data_mutations.txt"), "--sv", str(g / "data_sv.txt"),
        "--cna", str(g / "data_cna.txt"), "--clinical", str(g / "data_clinical_sample.txt"),
        "--timeline", str(g / "data_timeline_treatment.txt"), "-o", str(out),
    ]  # fmt: skip


def test_cli_writes_the_case_mismatch_to_issues(tmp_path: Path) -> None:
    g = study(tmp_path)
    edit(g / "data_mutations.txt", "RUSSO-P1", "russo-p1")
    result = runner.invoke(app, cls_args(g, tmp_path / "out"))
    assert result.exit_code == 0, result.output
    issues = pd.read_csv(tmp_path / "out" / "issues.tsv", sep="\t")
    assert issues["found"].str.contains("russo-p1").any()


# ------------------------------------------------------------------ 2. VAF in percent
CFDNA_HEAD = "sample\tpatient\tday\tgene\talteration\tvaf\tdetection_limit\n"


def cfdna_file(path: Path, vafs: list[float], lod: float = 0.0) -> Path:
    rows = [f"S{i}\tP\t{i * 10}\tKRAS\tG12D\t{v:g}\t{lod:g}\n" for i, v in enumerate(vafs)]
    path.write_text(CFDNA_HEAD + "".join(rows))
    return path


def test_percent_vafs_are_refused_as_fractions(tmp_path: Path) -> None:
    from trkres.errors import InputError
    from trkres.genomics.cfdna import read_cfdna

    path = cfdna_file(tmp_path / "c.tsv", [0.4, 12.0, 0.0])
    with pytest.raises(InputError, match="percent") as err:
        read_cfdna(path)
    assert err.value.location is not None and err.value.location.line == 3


def test_percent_unit_divides_by_100_and_says_so(tmp_path: Path) -> None:
    from trkres.genomics.cfdna import read_cfdna

    path = cfdna_file(tmp_path / "c.tsv", [0.4, 12.0, 0.0], lod=0.2)
    m, issues = read_cfdna(path, "percent")
    assert m["vaf"].tolist() == pytest.approx([0.004, 0.12, 0.0])
    assert m["lod"].tolist() == pytest.approx([0.002] * 3)
    assert set(m["vaf_read_as"]) == {"percent / 100"}
    assert not issues


def test_cli_vaf_unit(tmp_path: Path) -> None:
    path = cfdna_file(tmp_path / "c.tsv", [0.4, 12.0, 0.0])
    code, text = cli("cfdna", str(path), "-o", str(tmp_path / "a"))
    assert code == 1 and "percent" in text
    code, text = cli("cfdna", str(path), "--vaf-unit", "percent", "-o", str(tmp_path / "b"))
    assert code == 0, text
    m = pd.read_csv(tmp_path / "b" / "cfdna_measurements.tsv", sep="\t")
    assert sorted(m["vaf"]) == pytest.approx([0.0, 0.004, 0.12])
    code, text = cli("cfdna", str(path), "--vaf-unit", "permille", "-o", str(tmp_path / "c"))
    assert code == 1 and "fraction or percent" in text


def test_study_option_vaf_unit() -> None:
    from pydantic import ValidationError

    from trkres.genomics.cfdna_options import CfdnaOptions

    assert CfdnaOptions(vaf_unit="percent").vaf_unit == "percent"
    with pytest.raises(ValidationError):
        CfdnaOptions(vaf_unit="permille")  # type: ignore[arg-type]


@FEW
@given(
    fractions=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6),
    percent=st.floats(1.0001, 100.0),
)
def test_generated_percent_values_never_read_as_fractions(
    tmp_path: Path, fractions: list[float], percent: float
) -> None:
    from trkres.errors import InputError
    from trkres.genomics.cfdna import read_cfdna

    path = cfdna_file(tmp_path / "g.tsv", [*fractions, percent])
    if float(f"{percent:g}") <= 1:
        return
    with pytest.raises(InputError):
        read_cfdna(path)
    m, _ = read_cfdna(path, "percent")
    assert (m["vaf"].dropna() <= 1).all()


# ---------------------------------------------------------- 3. timeline outside the cohort
def test_timeline_patient_outside_the_cohort_is_an_issue_row(tmp_path: Path) -> None:
    g = study(tmp_path)
    timeline = g / "data_timeline_treatment.txt"
    lines = timeline.read_text().splitlines()
    lines.append(lines[1].replace("PT-RUSSO", "PT-NOBODY"))
    lines.append(lines[1].replace("PT-RUSSO", "pt-drilon"))
    timeline.write_text("\n".join(lines) + "\n")
    patients, issues = classify(g)
    assert "PT-NOBODY" not in set(patients["patient_id"])
    rows = issues[issues["file"].str.endswith("data_timeline_treatment.txt")]
    assert rows["line"].astype(int).tolist() == [len(lines) - 1, len(lines)]
    assert (rows["column"] == "PATIENT_ID").all()
    assert "'PT-NOBODY'" in rows.iloc[0]["found"]
    assert "'PT-DRILON'" in rows.iloc[1]["found"] and "case" in rows.iloc[1]["found"]


def test_timeline_without_a_clinical_file_is_not_checked(tmp_path: Path) -> None:
    from trkres.genomics.io.clinical import read_timeline

    g = study(tmp_path)
    _, issues = read_timeline(g / "data_timeline_treatment.txt", KB)
    assert not issues


@FEW
@given(patients=st.lists(st.sampled_from(["PT-RUSSO", "PT-DRILON", "PT-X", "PT-Y", "pt-russo"]),
                         min_size=1, max_size=6))  # fmt: skip
def test_generated_timeline_rows_are_used_or_reported(tmp_path: Path, patients: list[str]) -> None:
    from trkres.genomics.io.clinical import read_timeline

    path = tmp_path / "t.txt"
    rows = [f"{p}\t0\t10\tTREATMENT\tEntrectinib\n" for p in patients]
    path.write_text("PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\tAGENT\n" + "".join(rows))
    cohort = {"PT-RUSSO", "PT-DRILON"}
    _, issues = read_timeline(path, KB, cohort)
    assert len(issues) == sum(p not in cohort for p in patients)


# ------------------------------------------------------------------- 4. one file twice
def test_same_maf_twice_is_refused_naming_both(tmp_path: Path) -> None:
    g = study(tmp_path)
    maf = g / "data_mutations.txt"
    other = g / ".." / "G" / "data_mutations.txt"
    code, text = cli("classify", "--maf", str(maf), "--maf", str(other), "-o", str(tmp_path / "o"))
    assert code == 1 and "twice" in text
    assert f"--maf {maf}" in text and f"--maf {other}" in text


def test_identical_copy_is_refused_by_its_hash(tmp_path: Path) -> None:
    from trkres.errors import InputError

    g = study(tmp_path)
    copy = tmp_path / "copy_of_mutations.txt"
    shutil.copy(g / "data_mutations.txt", copy)
    with pytest.raises(InputError, match="SHA-256"):
        classify(g, mafs=[g / "data_mutations.txt", copy])


@FEW
@given(kinds=st.lists(st.sampled_from(["--maf", "--sv", "--cna"]), min_size=2, max_size=4))
def test_generated_repeats_are_refused(tmp_path: Path, kinds: list[str]) -> None:
    g = study(tmp_path)
    files = {"--maf": "data_mutations.txt", "--sv": "data_sv.txt", "--cna": "data_cna.txt"}
    args = [a for k in kinds for a in (k, str(g / files[k]))]
    code, text = cli("classify", *args, "-o", str(tmp_path / "o"))
    if len(set(kinds)) < len(kinds):
        assert code == 1 and "twice" in text
    else:
        assert code == 0, text


# ------------------------------------------------------------- 5. truncated and latin-1 VCF
VCF_HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=1>\n"
    '##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl '
    'VEP. Format: Allele|Consequence|SYMBOL|Feature|HGVSp|CANONICAL">\n'
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
)
CSQ = "CSQ=T|missense_variant|NTRK1|ENST00000524377|p.Gly595Arg|YES"


def vcf_bytes(samples: list[bytes], records: list[str]) -> bytes:
    head = b"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + b"\t".join(samples)
    return VCF_HEADER.encode() + head + b"\n" + "".join(r + "\n" for r in records).encode()


def test_truncated_last_vcf_record_is_refused_with_its_line(tmp_path: Path) -> None:
    from trkres.errors import InputError
    from trkres.genomics.io.vcf import read_vcf

    good = f"1\t100\t.\tG\tT\t.\tPASS\t{CSQ}\tGT\t0/1\t0/0"
    truncated = f"1\t200\t.\tG\tT\t.\tPASS\t{CSQ}\tGT"
    path = tmp_path / "t.vcf"
    path.write_bytes(vcf_bytes([b"A", b"B"], [good, truncated]))
    with pytest.raises(InputError, match="columns") as err:
        read_vcf(path, KB)
    assert err.value.location is not None and err.value.location.line == 7
    path.write_bytes(vcf_bytes([b"A", b"B"], [good, good.replace("100", "200")]))
    assert len(read_vcf(path, KB).alterations) == 2


def test_latin1_vcf_sample_name_is_an_input_error(tmp_path: Path) -> None:
    from trkres.errors import InputError
    from trkres.genomics.io.vcf import read_vcf

    path = tmp_path / "l.vcf"
    record = f"1\t100\t.\tG\tT\t.\tPASS\t{CSQ}\tGT\t0/1\t0/1"
    path.write_bytes(vcf_bytes(["Müller".encode("latin-1"), b"B"], [record]))
    with pytest.raises(InputError, match="UTF-8") as err:
        read_vcf(path, KB)
    assert err.value.location is not None
    assert (err.value.location.line, err.value.location.column) == (5, 10)
    code, text = cli("classify", "--vcf", str(path), "-o", str(tmp_path / "o"))
    assert code == 1 and "UTF-8" in text


@FEW
@given(keep=st.integers(8, 11), n_samples=st.integers(1, 3))
def test_generated_record_widths_are_read_or_refused(
    tmp_path: Path, keep: int, n_samples: int
) -> None:
    from trkres.errors import InputError
    from trkres.genomics.io.vcf import read_vcf

    full = [*f"1\t100\t.\tG\tT\t.\tPASS\t{CSQ}\tGT".split("\t"), *["0/1"] * n_samples]
    path = tmp_path / "w.vcf"
    names = [f"S{i}".encode() for i in range(n_samples)]
    path.write_bytes(vcf_bytes(names, ["\t".join(full[:keep])]))
    if keep >= len(full):
        assert len(read_vcf(path, KB).alterations) == n_samples
    else:
        with pytest.raises(InputError):
            read_vcf(path, KB)


# -------------------------------------------------------------------- 6. response fall
@pytest.mark.parametrize("fall", ["nan", "-2", "0", "1", "inf", "1.5"])
def test_impossible_response_fall_is_refused(tmp_path: Path, fall: str) -> None:
    path = cfdna_file(tmp_path / "c.tsv", [0.1, 0.01])
    code, text = cli("cfdna", str(path), "--response-fall", fall, "-o", str(tmp_path / "o"))
    assert code == 1 and "between 0 and 1" in text
    assert "np.float64" not in text


@FEW
@given(fall=st.floats(allow_nan=True, allow_infinity=True))
def test_generated_response_falls_are_checked_by_monitor(fall: float) -> None:
    from trkres.errors import InputError
    from trkres.genomics.cfdna import monitor

    m = pd.DataFrame({"sample_id": ["S0", "S1"], "patient_id": "P", "day": [0.0, 10.0],
                      "gene": "KRAS", "alteration": "G12D", "vaf": [0.1, 0.01], "lod": 0.0,
                      "assay": "NGS"})  # fmt: skip
    if 0 < fall < 1:
        assert len(monitor(m, KB, response_fall=fall).response)
    else:
        with pytest.raises(InputError):
            monitor(m, KB, response_fall=fall)


# ---------------------------------------------------------------- 7. ddPCR wells joined
def wells_frame(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["well", "sample", "target", "target_type", "fractional_abundance"]
    ).assign(call="detected", source="run1.csv")


CF_SAMPLES = pd.DataFrame({"sample_id": ["CF0", "CF1"], "patient_id": "P", "day": [0.0, 30.0]})


def test_wild_type_reference_target_is_not_an_alteration() -> None:
    from trkres.genomics.cfdna import ddpcr_measurements
    from trkres.genomics.io.tables import RowIssue

    wells = wells_frame([
        ("A01", "CF0", "MET D1228N", "Unknown", 2.0),
        ("A01", "CF0", "MET WT", "Unknown", 98.0),
        ("A02", "CF1", "MET wild-type", "Unknown", 50.0),
        ("A03", "CF1", "MET_ref", "Reference", 50.0),
        ("A04", "CF1", "KRAS G12D", "Reference", 50.0),
    ])  # fmt: skip
    issues: list[RowIssue] = []
    m = ddpcr_measurements(wells, CF_SAMPLES, issues)
    assert m["alteration"].tolist() == ["D1228N"]
    assert m["vaf"].tolist() == pytest.approx([0.02])
    assert issues == []


def test_unmatched_ddpcr_wells_are_issue_rows() -> None:
    from trkres.genomics.cfdna import ddpcr_measurements
    from trkres.genomics.io.tables import RowIssue

    wells = wells_frame([
        ("A01", "CF0", "MET D1228N", "Unknown", 2.0),
        ("B01", "CF9", "MET D1228N", "Unknown", 2.0),
        ("B02", "cf1", "MET D1228N", "Unknown", 2.0),
        ("B03", "CF1", "METD1228N", "Unknown", 2.0),
    ])  # fmt: skip
    issues: list[RowIssue] = []
    m = ddpcr_measurements(wells, CF_SAMPLES, issues)
    assert len(m) == 1
    assert [i.found.split(",")[0] for i in issues] == ["well B01", "well B02", "well B03"]
    assert all(i.file == "run1.csv" and i.action == "dropped" for i in issues)
    assert "'CF1'" in issues[1].found and "case" in issues[1].found


@FEW
@given(
    wells=st.lists(
        st.tuples(
            st.sampled_from(["CF0", "CF1", "CF2", "cf0"]),
            st.sampled_from(["MET D1228N", "MET WT", "KRAS G12D", "KRASG12D", "MET Ref"]),
            st.sampled_from(["Unknown", "Reference"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_generated_wells_are_used_reference_or_reported(
    wells: list[tuple[str, str, str]],
) -> None:
    from trkres.genomics.cfdna import ddpcr_measurements
    from trkres.genomics.io.tables import RowIssue

    frame = wells_frame([(f"W{i}", s, t, k, 1.0) for i, (s, t, k) in enumerate(wells)])
    issues: list[RowIssue] = []
    m = ddpcr_measurements(frame, CF_SAMPLES, issues)
    reference = sum(k == "Reference" or t.split()[-1] in ("WT", "Ref") for s, t, k in wells)
    assert len(m) + len(issues) + reference == len(wells)
    assert not m["alteration"].isin(["WT", "Ref"]).any()
