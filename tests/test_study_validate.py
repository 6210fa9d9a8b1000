"""One uploaded file checked through the study's readers (trkres.study.validate, issue 17)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trkres.errors import InputError, KnowledgeError, TrkresError
from trkres.study.manifest import KIND_FORMATS, InputKind, StudyInput
from trkres.study.validate import KIND_SUFFIXES, InputCheck, check_input, sniff_ok

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "ntrk_resistance"
SANGER = REPO / "tests" / "data" / "sanger" / "310.ab1"
SCENARIO = REPO / "examples" / "evolution" / "bozic2013.yaml"

LAB_KNOWLEDGE = """\
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

VCF = """\
##fileformat=VCFv4.2
##contig=<ID=1,length=249250621>
##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|BIOTYPE|EXON|INTRON|HGVSc|HGVSp">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2
1\t156846233\t.\tG\tA\t.\tPASS\tCSQ=A|missense_variant|MODERATE|NTRK1|ENSG00000198400|Transcript|ENST00000524377|protein_coding|14/17||c.1783G>A|p.Gly595Arg\tGT:AD\t0/1:70,30\t0/0:100,0
"""


def _stored(tmp_path: Path, data: bytes | str) -> Path:
    """A file stored as the app stores uploads: under a hash, without a suffix."""
    path = tmp_path / "store" / "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    path.parent.mkdir(exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _grid(tmp_path: Path) -> Path:
    lines = ["Reader export,,", "\t" + "\t".join(str(c) for c in range(1, 13))]
    for r, letter in enumerate("ABCDEFGH"):
        lines.append("\t".join([letter, *(f"{1000 + 10 * r + c:.1f}" for c in range(12))]))
    path = tmp_path / "grid.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _curvecurator(tmp_path: Path) -> Path:
    rows = ["Name\tRaw 0\tRaw 1\tRaw 2\tRaw 3"]
    rows += [f"cell{i}\t1.0\t0.8\t0.5\t0.2" for i in range(3)]
    path = tmp_path / "curves.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# kind, format, file (from tmp_path), rows, first columns, summary pattern
VALID: list[tuple[str, str | None, Callable[[Path], Path], int | None, list[str], str]] = [
    ("mutations", None, lambda t: EXAMPLE / "genomics" / "data_mutations.txt", 7,
     ["Hugo_Symbol", "Entrez_Gene_Id"], r"^7 rows: 7 alterations in 5 samples, 5 genes$"),
    ("mutations", None, lambda t: _write(t, "calls.vcf", VCF), 1,
     ["locus", "sample_id"], r"^1 row: 1 alteration in 2 samples, 1 gene$"),
    ("structural_variants", None, lambda t: EXAMPLE / "genomics" / "data_sv.txt", 10,
     ["Sample_Id", "SV_Status"], r"^10 rows: 10 fusions in 10 samples, 2 genes$"),
    ("copy_number", None, lambda t: EXAMPLE / "genomics" / "data_cna.txt", 2,
     ["Hugo_Symbol", "RUSSO-T0"], r"^2 rows: 1 copy-number call in 10 samples, 1 gene$"),
    ("clinical_samples", None, lambda t: EXAMPLE / "genomics" / "data_clinical_sample.txt", 10,
     ["SAMPLE_ID", "PATIENT_ID"], r"^10 rows: 10 samples of 5 patients$"),
    ("treatment_timeline", None, lambda t: EXAMPLE / "genomics" / "data_timeline_treatment.txt",
     6, ["PATIENT_ID", "START_DATE"], r"^6 rows: 5 patients, 3 agents$"),
    ("cfdna", None, lambda t: EXAMPLE / "genomics" / "cfdna.tsv", 20,
     ["sample", "patient"], r"^20 rows: 2 patients, 10 samples, 4 alterations$"),
    ("plate", None, _grid, 96, [], r"^96 well values: 1 plate, 1 read, 8 x 12 wells$"),
    ("dose_response", None, lambda t: EXAMPLE / "lab" / "viability_entrectinib.tsv", 60,
     ["drug", "line", "replicate", "dose"], r"^60 rows: 1 drug x 2 lines x 10 doses$"),
    ("dose_response", "curvecurator", _curvecurator, 3,
     ["Name", "Raw 0"], r"^3 rows: 3 curves x 4 doses"),
    ("combination", None, lambda t: EXAMPLE / "lab" / "combination_larotrectinib_trametinib.tsv",
     216, ["block_id", "drug1", "drug2"],
     r"^216 rows: 2 blocks of 2 drugs \(larotrectinib, trametinib\)$"),
    ("ddpcr", None, lambda t: EXAMPLE / "ddpcr" / "qx_manager_export.csv", 12,
     ["Well", "Sample description 1"], r"^12 rows: 6 wells x 2 targets, 2 samples$"),
    ("droplet_amplitudes", None, lambda t: EXAMPLE / "ddpcr" / "small_A05_Amplitude.csv",
     13165, [], r"^13,165 droplets in 1 well \(A05\)$"),
    ("western", None, lambda t: EXAMPLE / "western" / "pERK.tif", None, [],
     r"^1 page: 410 x 260 px, 16-bit"),
    ("western_blot", None, lambda t: EXAMPLE / "western" / "GAPDH.tif", None, [],
     r"^1 page: \d+ x \d+ px, 16-bit"),
    ("sanger", None, lambda t: SANGER, None, [],
     r"^868 bases called, 9,826 sample points, without base qualities"),
    ("tumour_volumes", None, lambda t: EXAMPLE / "lab" / "xenograft_larotrectinib_trametinib.csv",
     258, ["mouse_id", "arm", "day", "length_mm", "width_mm"],
     r"^258 rows: 32 mice in 4 arms, 9 days$"),
    ("xenograft", None, lambda t: EXAMPLE / "lab" / "xenograft_larotrectinib_trametinib.csv",
     258, ["mouse_id"], r"^258 rows: 32 mice"),
    ("knowledge", None, lambda t: _write(t, "lab.yaml", LAB_KNOWLEDGE), None, [],
     r"^2 facts: 1 sources, 1 drugs$"),
    ("evolution_scenario", None, lambda t: SCENARIO, None, [],
     r"^scenario 'Bozic 2013.*': 4 cell types, 5 mutations, 2 regimens$"),
]  # fmt: skip


def test_every_kind_has_a_valid_case_and_suffixes() -> None:
    assert {k for k, *_ in VALID} == {k.value for k in InputKind}
    assert set(KIND_SUFFIXES) == {k.value for k in InputKind}
    for suffixes in KIND_SUFFIXES.values():
        assert suffixes and all(s == s.lower() and s.startswith(".") for s in suffixes)
    assert ".maf.gz" in KIND_SUFFIXES["mutations"] and ".vcf.gz" in KIND_SUFFIXES["mutations"]
    assert ".ab1" in KIND_SUFFIXES["sanger"] and ".txt" not in KIND_SUFFIXES["sanger"]
    assert ".tif" in KIND_SUFFIXES["western"] and ".csv.gz" not in KIND_SUFFIXES["western"]


@pytest.mark.parametrize(
    ("kind", "fmt", "make", "rows", "columns", "summary"),
    VALID,
    ids=[f"{v[0]}-{v[1] or 'default'}" for v in VALID],
)
def test_valid_files(
    tmp_path: Path,
    kind: str,
    fmt: str | None,
    make: Callable[[Path], Path],
    rows: int | None,
    columns: list[str],
    summary: str,
) -> None:
    path = make(tmp_path)
    check = check_input(path, kind, format=fmt)
    assert isinstance(check, InputCheck)
    assert check.kind == kind
    expected_format = (
        fmt
        or StudyInput.model_construct(
            kind=InputKind(kind), path=path.name, format=None
        ).resolved_format()
    )
    assert check.format == expected_format
    assert check.format in KIND_FORMATS[InputKind(kind)]
    assert check.rows == rows
    assert check.columns[: len(columns)] == columns
    assert (check.columns == []) == (rows is None or kind in ("plate", "droplet_amplitudes"))
    assert re.search(summary, check.summary), check.summary
    # Stored under its hash, without a suffix: the display name gives the suffix back.
    stored = _stored(tmp_path, path.read_bytes())
    again = check_input(stored, InputKind(kind), format=fmt, display_name=path.name)
    assert (again.rows, again.columns, again.format) == (check.rows, check.columns, check.format)
    assert str(stored) not in again.summary + " ".join(again.notes)


def test_formats_follow_the_manifest(tmp_path: Path) -> None:
    vcf = _write(tmp_path, "calls.vcf.gz.txt", VCF)  # the last naming suffix decides: .txt → maf
    assert check_input(EXAMPLE / "genomics" / "data_mutations.txt", "mutations").format == "maf"
    assert check_input(_write(tmp_path, "x.vcf", VCF), "mutations").format == "vcf"
    with pytest.raises(TrkresError):  # a VCF read as a MAF: the MAF reader's error
        check_input(vcf, "mutations")
    stored = _stored(tmp_path, VCF)
    assert check_input(stored, "mutations", display_name="calls.vcf").format == "vcf"
    assert check_input(stored, "mutations", format="vcf").format == "vcf"
    assert check_input(_grid(tmp_path), "plate", format="grid").format == "grid"


def test_lines_outside_the_plate_grids_are_noted(tmp_path: Path) -> None:
    path = _grid(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\nmean\t1034.5\n", encoding="utf-8")
    check = check_input(path, "plate", format="grid", display_name="plate.txt")
    assert check.rows == 96
    assert check.notes == [
        "plate.txt, lines 1, 12: outside every plate grid (a title or note?), not read"
    ]


def test_vendor_plate_exports(shared_data: Path) -> None:
    folder = shared_data / "dose_response" / "plate_reader_exports"
    gen5 = check_input(
        folder / "gen5_240411_172731_BNCH2345883_abs450_96well_non_numeric_values.txt",
        "plate",
        format="gen5",
    )
    assert gen5.rows == 96 and gen5.summary == "96 well values: 1 plate, 1 read, 8 x 12 wells"
    assert gen5.notes == ["13 wells flagged by the reader (overflow, missed …)"]
    env = check_input(folder / "envision_absorbance_example01.csv", "plate", format="envision")
    assert env.rows == 1152 and env.summary.endswith("2 plates, 3 reads, 16 x 24 wells")
    with pytest.raises(InputError, match="no plate block") as err:
        check_input(folder / "gen5_endpoint_singleplate.txt", "plate", format="softmax",
                    display_name="run 3.txt")  # fmt: skip
    assert str(err.value).startswith("run 3.txt")


def test_gdsc_well_table(tmp_path: Path, shared_data: Path) -> None:
    wells = pd.read_parquet(
        shared_data / "dose_response" / "gdsc_example" / "gdsc_example_wells.parquet"
    )
    small = wells[wells["SCAN_ID"].isin(wells["SCAN_ID"].unique()[:3])]
    path = tmp_path / "gdsc.csv"
    small.to_csv(path, index=False)
    check = check_input(_stored(tmp_path, path.read_bytes()), "plate", format="gdsc",
                        display_name="gdsc.csv")  # fmt: skip
    assert check.format == "gdsc" and check.rows == len(small)
    assert check.columns == list(small.columns)
    n_lines = small["CELL_LINE_NAME"].nunique()
    treated = small["TAG"].astype(str).str.fullmatch(r"L\d+-D\d+-S")  # wells given a drug
    n_drugs = small.loc[treated, "DRUG_ID"].nunique()
    assert re.fullmatch(rf"{len(small):,} wells: 3 plates, {n_lines} cell lines?, {n_drugs} drugs?",
                        check.summary), check.summary  # fmt: skip
    with pytest.raises(InputError) as err:
        check_input(_stored(tmp_path, "SCAN_ID,POSITION\n1,1\n"), "plate", format="gdsc",
                    display_name="gdsc.csv")  # fmt: skip
    assert str(err.value).startswith("gdsc.csv") and str(tmp_path) not in str(err.value)


def test_gzip_and_odd_display_names(tmp_path: Path) -> None:
    import gzip

    maf = (EXAMPLE / "genomics" / "data_mutations.txt").read_bytes()
    stored = _stored(tmp_path, gzip.compress(maf))
    check = check_input(stored, "mutations", display_name="cohort.maf.gz")
    assert (check.format, check.rows) == ("maf", 7)
    table = (EXAMPLE / "lab" / "xenograft_larotrectinib_trametinib.csv").read_bytes()
    stored = _stored(tmp_path, table)
    long_name = "m" * 400 + ".csv"  # longer than a file name may be: its suffix still counts
    check = check_input(stored, "tumour_volumes", display_name=long_name)
    assert check.rows == 258 and check.columns[:2] == ["mouse_id", "arm"]
    for odd in ("../../etc/passwd.csv", "C:\\Users\\me\\mice.csv", "a\nb.csv"):
        check = check_input(stored, "tumour_volumes", display_name=odd)
        assert check.rows == 258
    stored = _stored(tmp_path, b"mouse_id,arm,day\nM1,A,0\n")
    with pytest.raises(InputError) as err:
        check_input(stored, "tumour_volumes", display_name=long_name)
    assert str(err.value).startswith(long_name[:100]) and str(tmp_path) not in str(err.value)


def test_without_a_display_name_the_path_is_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, "mice.csv", "mouse_id,arm,day,volume\nM1,A,0,1\nM1,A,,2\nM1,A,6,3\n")
    check = check_input(path, "tumour_volumes")
    assert check.rows == 3 and check.summary == "3 rows: 1 mouse in 1 arm, 2 days"
    assert check.notes[-1].startswith(f"{path}, line 3, column day: expected a time in days")


def test_notes_hold_the_rows_left_out(tmp_path: Path) -> None:
    lines = (EXAMPLE / "lab" / "viability_entrectinib.tsv").read_text().splitlines()
    lines[3] = "\t".join([*lines[3].split("\t")[:-1], "NA"])  # a missing response, line 4
    path = _stored(tmp_path, "\n".join(lines) + "\n")
    check = check_input(path, "dose_response", display_name="viability.tsv")
    assert check.rows == 60  # rows in = rows used + rows reported
    reported = [n for n in check.notes if "line 4" in n]
    assert len(reported) == 1 and reported[0].startswith("viability.tsv, line 4, column response")
    assert str(path) not in " ".join(check.notes)
    maf = (EXAMPLE / "genomics" / "data_mutations.txt").read_text().splitlines()
    maf[3] += "\textra"
    check = check_input(_stored(tmp_path, "\n".join(maf) + "\n"), "mutations",
                        display_name="muts.maf")  # fmt: skip
    assert check.rows == 7 and check.summary.startswith("7 rows: 6 alterations")
    assert check.notes == ["muts.maf, line 4: expected 16 tab-separated fields, found 17 (dropped)"]


# ------------------------------------------------------------------------------ errors


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _edit(path: Path, line: int, old: str, new: str) -> str:
    lines = _lines(path)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines) + "\n"


def _short_grid() -> str:
    lines = ["\t" + "\t".join(str(c) for c in range(1, 13))]
    lines += [
        "\t".join([letter, *["1.0"] * (11 if letter == "D" else 12)]) for letter in "ABCDEFGH"
    ]
    return "\n".join(lines) + "\n"


def _bad_ddpcr() -> str:
    header, first = _lines(EXAMPLE / "ddpcr" / "qx_manager_export.csv")[:2]
    cells = first.split(",")
    cells[header.split(",").index("Accepted Droplets")] = "12.5"
    return header + "\n" + ",".join(cells) + "\n"


# kind, format, display name, broken content, what str(error) must say (after the name)
BROKEN: list[tuple[str, str | None, str, Callable[[], str | bytes], str]] = [
    ("mutations", None, "muts.maf",
     lambda: _edit(EXAMPLE / "genomics" / "data_mutations.txt", 1, "Hugo_Symbol", "Gene_Name"),
     r"line 1: MAF file lacks a required column"),
    ("mutations", "vcf", "calls.vcf", lambda: VCF.replace("\t156846233\t", "\tpos\t"),
     r"line \d+"),
    ("structural_variants", None, "sv.txt",
     lambda: "Site1_Hugo_Symbol\tClass\nNTRK1\tFUSION\n", r"line 1|column"),
    ("copy_number", None, "cna.txt",
     lambda: _edit(EXAMPLE / "genomics" / "data_cna.txt", 1, "Hugo_Symbol", "Symbolx"),
     r"line 1"),
    ("clinical_samples", None, "samples.txt",
     lambda: "PATIENT_ID\tSAMPLE_TYPE\nP1\ttissue\n", r"line 1"),
    ("treatment_timeline", None, "timeline.txt",
     lambda: _edit(EXAMPLE / "genomics" / "data_timeline_treatment.txt", 1, "START_DATE", "BEGIN"),
     r"line 1"),
    ("cfdna", None, "cfdna.tsv",
     lambda: _edit(EXAMPLE / "genomics" / "cfdna.tsv", 1, "gene", "genes"), r"line 1"),
    ("plate", "grid", "plate.txt", lambda: _short_grid(), r"line 5, column 13: short row in a plate grid"),
    ("dose_response", None, "viability.tsv",
     lambda: _edit(EXAMPLE / "lab" / "viability_entrectinib.tsv", 5, "0.", "x0."),
     r"line 5, row 4, column (dose|response): non-numeric"),
    ("dose_response", "curvecurator", "curves.tsv",
     lambda: "Name\tRaw 0\tRaw 1\nc1\t1.0\tlots\n", r"line 2, row 1, column Raw 1"),
    ("combination", None, "combo.tsv",
     lambda: _edit(EXAMPLE / "lab" / "combination_larotrectinib_trametinib.tsv", 3, "\t1\tnM",
                   "\tone\tnM"), r"row 2, column conc2|line 3"),
    ("ddpcr", None, "run.csv", lambda: _bad_ddpcr(),
     r"line 2, column Accepted Droplets: impossible droplet count"),
    ("droplet_amplitudes", None, "A05_Amplitude.csv",
     lambda: "Ch1 Amplitude,Ch2 Amplitude\n1.0,2.0\n3.0,oops\n", r"line 3"),
    ("tumour_volumes", None, "mice.csv",
     lambda: "mouse_id,arm,day,volume\nM1,A,0,10\nM1,A,3,20,5\n",
     r"line 3, column 5: row has more fields than the header"),
    ("xenograft", None, "mice.csv", lambda: "mouse_id,arm,day,day\nM1,A,0,1\n", r"line 1"),
    ("knowledge", None, "lab.yaml",
     lambda: LAB_KNOWLEDGE.replace("status: verified", "status: maybe"), r"line 11"),
    ("knowledge", None, "lab.yaml", lambda: "drugs:\n  - id: [unclosed\n", r"line \d+"),
    ("evolution_scenario", None, "scenario.yaml",
     lambda: SCENARIO.read_text().replace("name:", "nmae:", 1), r"line \d+"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "fmt", "name", "content", "where"),
    BROKEN,
    ids=[f"{b[0]}-{i}" for i, b in enumerate(BROKEN)],
)
def test_broken_files_are_located_under_the_users_name(
    tmp_path: Path,
    kind: str,
    fmt: str | None,
    name: str,
    content: Callable[[], str | bytes],
    where: str,
) -> None:
    path = _stored(tmp_path, content())
    with pytest.raises(TrkresError) as err:
        check_input(path, kind, format=fmt, display_name=name)
    text = str(err.value)
    assert str(tmp_path) not in text and path.name not in text
    assert text.startswith(name + ", "), text
    assert re.search(where, text.splitlines()[0]), text
    assert err.value.location is not None and err.value.location.file == name
    expected_type = KnowledgeError if kind == "knowledge" else InputError
    assert isinstance(err.value, expected_type)


def _bad_contents() -> dict[str, bytes]:
    tif = (EXAMPLE / "western" / "pERK.tif").read_bytes()
    ab1 = SANGER.read_bytes()
    return {
        "garbage": bytes(range(256)) * 20,
        "latin1": "sample\tpatient\nCafé\tP1\n".encode("latin-1"),
        "nul": b"a\tb\n\x00\x01\x02\n" * 5,
        "truncated_tiff": tif[:300],
        "truncated_ab1": ab1[:400],
        "gzip_broken": b"\x1f\x8b\x08\x00" + b"\x00" * 20,
    }


SUFFIX = {"western": ".tif", "western_blot": ".png", "sanger": ".ab1", "knowledge": ".yaml",
          "evolution_scenario": ".yaml", "ddpcr": ".csv", "droplet_amplitudes": ".csv",
          "tumour_volumes": ".csv", "xenograft": ".csv", "dose_response": ".csv",
          "combination": ".tsv"}  # fmt: skip


@pytest.mark.parametrize("kind", [k.value for k in InputKind])
def test_garbage_empty_and_truncated_files_are_input_errors(tmp_path: Path, kind: str) -> None:
    name = "upload" + SUFFIX.get(kind, ".txt")
    expected = KnowledgeError if kind == "knowledge" else InputError
    for label, data in _bad_contents().items():
        path = _stored(tmp_path, data)
        with pytest.raises(TrkresError) as err:
            check_input(path, kind, display_name=name)
        assert isinstance(err.value, expected), (label, type(err.value))
        text = str(err.value)
        assert text.startswith(name), (label, text)
        assert str(tmp_path) not in text, (label, text)
    empty = _stored(tmp_path, b"")  # empty: an InputError for every kind
    with pytest.raises(InputError, match="the file is empty") as err:
        check_input(empty, kind, display_name=name)
    assert err.value.found == "0 bytes" and err.value.location is not None
    assert err.value.location.line == 1


def test_unknown_kind_and_format(tmp_path: Path) -> None:
    path = _grid(tmp_path)
    with pytest.raises(InputError, match="unknown input kind") as err:
        check_input(path, "plates")
    assert err.value.found == "'plates'" and "plate" in (err.value.expected or "").split(", ")
    with pytest.raises(InputError, match="format not allowed") as err:
        check_input(path, "plate", format="vcf", display_name="p.txt")
    assert err.value.expected == "grid, gen5, softmax, envision, gdsc"
    assert err.value.found == "'vcf'" and str(err.value).startswith("p.txt")
    with pytest.raises(InputError, match="cannot read the file"):
        check_input(tmp_path / "absent.txt", "plate", display_name="p.txt")


def test_an_unexpected_exception_becomes_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trkres.study.validate as validate

    def boom(path: Path, fmt: str) -> tuple[int, list[str], str, list[str]]:
        raise KeyError(f"{path} missing key")

    monkeypatch.setitem(validate._READERS, InputKind.plate, boom)
    path = _stored(tmp_path, "x\n")
    with pytest.raises(InputError) as err:
        check_input(path, "plate", display_name="p.txt")
    text = str(err.value)
    assert text.startswith("p.txt: cannot read this file as plate (grid)")
    assert "KeyError" in text and str(tmp_path) not in text and "p.txt missing key" in text


# ------------------------------------------------------------------------------ sniffing


def test_sniff_ok() -> None:
    tif = (EXAMPLE / "western" / "pERK.tif").read_bytes()[:64]
    assert sniff_ok(tif, "western") is None
    assert sniff_ok(b"\x89PNG\r\n\x1a\n....", InputKind.western_blot) is None
    assert sniff_ok(b"\xff\xd8\xff\xe0JFIF", "western") is None
    assert "not a TIFF, PNG or JPEG" in (sniff_ok(b"Name\tRaw 0\n", "western") or "")
    assert sniff_ok(SANGER.read_bytes()[:64], "sanger") is None
    assert "ABIF" in (sniff_ok(tif, "sanger") or "")
    assert sniff_ok((SANGER.parent / "3100.scf").read_bytes()[:64], "sanger") is None
    assert sniff_ok(b"\x1f\x8b\x08\x00rest", "mutations") is None
    assert sniff_ok(b"\x1f\x8b\x08\x00rest", "dose_response") is None
    assert "gzip" in (sniff_ok(b"\x1f\x8b\x08\x00rest", "knowledge") or "")
    assert "NUL" in (sniff_ok(b"a\tb\n\x00\x00", "cfdna") or "")
    assert sniff_ok(b"a\tb\n" * 3000 + b"\x00", "cfdna") is None  # past the first 8 kB
    assert sniff_ok(b"PAR1\x00\x00", "dose_response") is None
    assert "NUL" in (sniff_ok(b"PAR1\x00\x00", "cfdna") or "")
    assert sniff_ok(b"\xff\xfeW\x00e\x00l\x00", "plate") is None  # UTF-16 SoftMax export
    assert sniff_ok(b"", "plate") == "the file is empty"
    assert sniff_ok(b"Hugo_Symbol\tChromosome\n", "mutations") is None
    with pytest.raises(InputError, match="unknown input kind"):
        sniff_ok(b"x", "nope")


# ------------------------------------------------------------------------------ size


def test_a_thousand_row_table_is_checked_whole(tmp_path: Path) -> None:
    """Every row counted and summarised (the app's upload check; its speed is measured by
    benchmarks/app_load.py, not asserted here: timed asserts do not belong in tests)."""
    frame = pd.DataFrame({
        "drug": "entrectinib",
        "line": [f"line{i % 10}" for i in range(1000)],
        "replicate": [i % 5 for i in range(1000)],
        "dose": [10.0 ** (i % 20 / 4 - 2) for i in range(1000)],
        "unit": "nM",
        "response": [0.5 + (i % 7) / 20 for i in range(1000)],
    })  # fmt: skip
    path = tmp_path / "big.tsv"
    frame.to_csv(path, sep="\t", index=False)
    check = check_input(path, "dose_response")
    assert check.rows == 1000 and check.summary == "1,000 rows: 1 drug x 10 lines x 20 doses"


# ------------------------------------------------------------------------------ fuzz

FUZZ_KINDS = ["mutations", "cfdna", "dose_response", "ddpcr", "tumour_volumes", "plate",
              "evolution_scenario", "combination"]  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(FUZZ_KINDS),
    data=st.one_of(
        st.binary(max_size=400),
        st.text(alphabet=st.sampled_from(list("ab1.,\t\n-e: #\"'é\r")), max_size=300).map(
            lambda t: t.encode("utf-8")
        ),
        st.lists(
            st.lists(st.sampled_from(["dose", "response", "curve_id", "1", "x", "", "nan", "-2"]),
                     min_size=1, max_size=4).map("\t".join),
            min_size=1, max_size=6,
        ).map(lambda rows: "\n".join(rows).encode("utf-8")),
    ),
)  # fmt: skip
def test_fuzz_only_trkres_errors(tmp_path: Path, kind: str, data: bytes) -> None:
    path = _stored(tmp_path, data)
    try:
        check = check_input(path, kind, display_name="fuzz.tsv")
    except TrkresError as exc:
        assert str(tmp_path) not in str(exc)
        assert exc.location is not None and exc.location.file == "fuzz.tsv"
    else:
        assert check.kind == kind and (check.rows is None or check.rows >= 0)


def test_reader_modules_list_every_reader_imported_here() -> None:
    """READER_MODULES (imported ahead by the web app) names every module the readers use."""
    import re

    from trkres.study import validate

    text = Path(validate.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r"^    from (trkres\.[\w.]+) import", text, flags=re.M))
    assert used <= set(validate.READER_MODULES)
    validate.import_readers()
