"""Defects seen in the round-3 reviews and left then, fixed in round 4 (each test fails
on the code before its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

import trkres as tr


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------ MAF FILTER is respected
@pytest.mark.parametrize("filt", ["panel_of_normals", "common_in_exac;wga"])
def test_filtered_maf_call_does_not_decide_the_class(tmp_path: Path, filt: str) -> None:
    """A GDC MAF row whose FILTER is ``panel_of_normals`` carrying NTRK1 G595R made the
    sample on_target (the MAF reader ignored FILTER; the VCF reader drops such calls)."""
    maf = write(
        tmp_path / "m.maf",
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\tFILTER\n"
        f"NTRK1\tT1\tMissense_Mutation\tp.G595R\t{filt}\n"
        "KRAS\tT1\tMissense_Mutation\tp.G12D\tPASS\n"
        "BRAF\tT2\tMissense_Mutation\tp.V600E\t.\n"
        "BRAF\tT3\tMissense_Mutation\tp.V600E\t\n",
    )
    sv = write(
        tmp_path / "sv.tsv",
        "Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\n"
        + "".join(f"{s}\tLMNA\tNTRK1\n" for s in ("T1", "T2", "T3")),
    )
    r = tr.genomics.classify(maf=maf, sv=sv)
    samples = r.samples.set_index("sample_id")
    assert samples.loc["T1", "mechanism"] == "off_target"
    assert samples.loc["T1", "on_target"] == ""
    assert "G595R" not in set(r.alterations["protein_change"])
    # '.' and an empty FILTER are unfiltered calls (vcf2maf writes '.')
    assert samples.loc["T2", "mechanism"] == samples.loc["T3", "mechanism"] == "off_target"
    issue = r.issues[r.issues["column"].astype(str) == "FILTER"]
    assert len(issue) == 1
    assert issue["found"].iloc[0] == filt and issue["line"].iloc[0] == 2
    assert issue["action"].iloc[0].startswith("dropped")


# ------------------------------------------------- numbers with thousands separators
def test_thousands_separators_are_read_and_said(tmp_path: Path) -> None:
    """A spreadsheet's '1,234.5' volume (quoted in the CSV) was dropped as 'a volume >= 0
    expected'; where the comma cannot be a decimal mark it is a thousands separator."""
    from trkres.assays.invivo.io import read_volumes

    path = write(
        tmp_path / "v.csv",
        'mouse_id,arm,day,volume_mm3\nM1,Vehicle,0,"1,234.5"\nM1,Vehicle,3,"1,400.25"\n'
        'M1,Vehicle,7,1500.5\nM2,Vehicle,0,900\nM2,Vehicle,3,"1,100"\nM2,Vehicle,7,"1,300,000"\n',
    )
    read = read_volumes(path)
    assert read.issues.empty
    assert read.volumes["volume"].tolist() == [1234.5, 1400.25, 1500.5, 900.0, 1100.0, 1300000.0]
    assert any("thousands separators" in n for n in read.notes)


def test_ambiguous_comma_is_not_read_as_thousands() -> None:
    """Without a decimal point anywhere, '1,100' may be a decimal comma: the existing
    decimal-comma reading (stated) is kept; '0,125' never matches thousands."""
    import pandas as pd

    from trkres.tables import parse_numbers

    notes: list[str] = []
    values, _, bad = parse_numbers(pd.Series(["1,100", "0,125", "2"], name="x"), notes)
    assert values.tolist() == [1.1, 0.125, 2.0] and not bad.any()
    assert any("decimal comma" in n for n in notes)
    notes = []
    values, _, bad = parse_numbers(pd.Series(["1,10.5", "3.5"], name="x"), notes)
    assert bad.tolist() == [True, False]  # not a thousands pattern: still reported


# ---------------------------------------------- ddPCR: the user's own volume is no warning
def test_given_droplet_volume_is_info_and_a_header_default_a_warning(tmp_path: Path) -> None:
    """`trkres ddpcr --droplet-volume 0.85` warned 'droplet volume 0.85 nL ...: given' on
    every run: a warning about the user's own setting. Now that is INFO; a volume taken
    from the export's format (an assumption) still warns."""
    import subprocess
    import sys

    export = Path(__file__).parents[2] / "examples/ntrk_resistance/ddpcr/qx_manager_export.csv"

    def run(*extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "trkres", "ddpcr", str(export), "-o",
             str(tmp_path / f"out{len(extra)}"), *extra],
            capture_output=True, text=True, check=False, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stderr

    given = [
        line for line in run("--droplet-volume", "0.85").splitlines() if "droplet volume" in line
    ]
    assert given and all(line.startswith("INFO") for line in given)
    default = [line for line in run().splitlines() if "droplet volume" in line]
    assert default and default[0].startswith("WARNING")


# ------------------------------------------------------- semicolon-separated plate files
def test_semicolon_plate_files_get_a_clear_error(tmp_path: Path) -> None:
    """A plate map or grid saved by a decimal-comma spreadsheet (';' between fields) failed
    with 'plate map lacks a column' or 'no grid found'; now the error says semicolons."""
    from trkres.assays.plates.io import read_grid
    from trkres.assays.plates.wells import read_plate_map
    from trkres.errors import InputError

    plate_map = write(tmp_path / "map.csv", "well;role;cell_line\nA1;vehicle;KM12\nA2;blank;KM12\n")
    with pytest.raises(InputError, match="separated by semicolons") as err:
        read_plate_map(plate_map)
    assert err.value.location.line == 1 and err.value.hint
    grid = write(tmp_path / "grid.csv", ";1;2;3\nA;0,5;0,6;0,7\nB;0,4;0,3;0,2\n")
    with pytest.raises(InputError, match="separated by semicolons"):
        read_grid(grid)
    # a comma CSV whose cells hold semicolons is not refused
    fine = write(tmp_path / "fine.csv", "well,role,cell_line,note\nA1,vehicle,KM12,a;b\n")
    assert len(read_plate_map(fine)) == 1


# ------------------------------- copy-number matrices read as numbers, same answers as text
@pytest.mark.parametrize(
    "cells",
    [["2", "0", "-2"], ["2", "", "-1"], ["3", "0", "-2"], ["2.0", "NaN", "-2"], ["2", "NA", "x"]],
)
def test_cna_matrix_typed_read_equals_text_read(
    tmp_path: Path, cells: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sample columns of a GISTIC matrix are parsed as float64 straight from the CSV
    (a 20,000 x 1,000 matrix: 20.7 -> 15.5 s, the same files written); cells that are
    not numbers fall back to the text read. Both give the same calls and issues."""
    from trkres.genomics.io import cna
    from trkres.knowledge import load_knowledge

    kb = load_knowledge()
    path = write(
        tmp_path / "cna.txt",
        "Hugo_Symbol\tEntrez_Gene_Id\tP1\tP2\tP3\n"
        f"MET\t4233\t{cells[0]}\t{cells[1]}\t{cells[2]}\nMYC\t4609\t0\t2\t-2\n",
    )
    typed = cna.read_copy_number(path, kb)
    monkeypatch.setattr(cna, "_matrix_samples", lambda names: [])
    text = cna.read_copy_number(path, kb)
    assert typed.alterations.equals(text.alterations)
    assert [str(i) for i in typed.issues] == [str(i) for i in text.issues]


# ------------------------------------- BRAF: RAF + MEK only where its evidence is (V600E)
@pytest.mark.parametrize("include_unverified", [False, True])
def test_braf_non_v600e_does_not_get_raf_plus_mek(tmp_path: Path, include_unverified: bool) -> None:
    """The verified rule 'RAF + MEK with TRK inhibition' (Cocco 2019: BRAF V600E) matched
    every BRAF mutation of class mapk_bypass: with include_unverified, BRAF G469A (a
    needs_review hotspot) was offered RAF + MEK under a *verified* rule. Rules can now
    name the knowledge facts their evidence is about."""
    maf = write(
        tmp_path / "m.maf",
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\n"
        "BRAF\tT1\tMissense_Mutation\tp.G469A\nBRAF\tT2\tMissense_Mutation\tp.V600E\n",
    )
    sv = write(
        tmp_path / "sv.tsv",
        "Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\nT1\tLMNA\tNTRK1\nT2\tLMNA\tNTRK1\n",
    )
    r = tr.genomics.classify(maf=maf, sv=sv, include_unverified=include_unverified)
    alts = r.alterations.set_index("protein_change")
    g469a, v600e = alts.loc["G469A"], alts.loc["V600E"]
    assert "braf_rafi_meki" not in g469a["therapy_rules"]
    assert "rafi" not in g469a["therapy_strategies"] + g469a["unverified_strategies"]
    assert g469a["therapy_rules"] == "braf_other_meki"
    if include_unverified:
        assert g469a["therapy_strategies"] == "trki_plus_meki"
    else:
        assert g469a["therapy_strategies"] == ""
    assert v600e["therapy_rules"] == "braf_rafi_meki"
    assert v600e["therapy_strategies"] == "trki_plus_rafi_plus_meki"


def test_a_rule_naming_an_unknown_fact_is_a_knowledge_error(tmp_path: Path) -> None:
    """A lab rule restricted to a fact id that does not exist would never match, silently."""
    from trkres.errors import TrkresError
    from trkres.knowledge import load_knowledge

    lab = write(
        tmp_path / "lab.yaml",
        "therapy_rules:\n  - id: lab_rule\n    when: {alteration_class: mapk_bypass, "
        "facts: [braf_v600x]}\n    strategies: [trki_plus_meki]\n    status: needs_review\n"
        "    evidence:\n      - {source: cocco2019, statement: 'lab rule', level: expert}\n",
    )
    with pytest.raises(TrkresError, match="unknown fact") as err:
        load_knowledge([lab])
    assert "braf_v600x" in str(err.value)


# ------------------------------------------------ input ids that differ only in case
def test_input_ids_differing_only_in_case_are_refused(tmp_path: Path) -> None:
    """Inputs 'pdx' and 'PDX' wrote figures/*pdx*.svg and *PDX*.svg: one file on macOS and
    Windows, so one input's figures replaced the other's (seen in review round 4)."""
    from support import write_study
    from trkres.app.studies import input_id
    from trkres.errors import ManifestError
    from trkres.study.manifest import load_study

    folder = write_study(
        tmp_path / "s",
        "name: s\ninputs:\n  - {id: pdx, kind: tumour_volumes, path: a.csv}\n"
        "  - {id: PDX, kind: tumour_volumes, path: b.csv}\n",
        {
            "a.csv": "mouse_id,arm,day,volume\nm1,V,0,1\n",
            "b.csv": "mouse_id,arm,day,volume\nm2,V,0,1\n",
        },
    )
    with pytest.raises(ManifestError, match="differ only in case") as err:
        load_study(folder)
    assert err.value.location.line == 4
    # the app names uploads so that they never collide that way
    assert input_id("PDX.csv", {"pdx"}) == "PDX_2"
