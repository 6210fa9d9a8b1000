"""Adversarial review, round 4: Sanger confirmation (tr.sanger.compare, --expect).

Each test reproduces a defect found in the review; it failed on the code before its fix.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import trkres as tr
from trkres.assays.sanger.io import read_reference
from trkres.assays.sanger.run import SangerResult
from trkres.assays.sanger.synthetic import make_trace, random_sequence, write_abif
from trkres.errors import InputError

# A 400-base amplicon with codon 595 (GGC) at reference positions 151-153.
SEQ = random_sequence(400, seed=3)
SEQ = SEQ[:150] + "GGC" + SEQ[153:]
FRAME = {"gene": "NTRK1", "codon_start": 595, "codon_position": 151}


def _expect(res: SangerResult) -> str:
    return str(res["expect"]["answer"].iloc[0])


def test_two_clones_with_different_bases_at_one_position_are_both_called() -> None:
    """Polyclonal resistance (G595R and G595S, GGC>CGC and GGC>AGC at one base): only the
    strongest non-reference base was tested, and --expect of the other read 'not detected:
    measured 39%, below the call threshold at this position (12%)'."""
    a = make_trace(SEQ, {150: ("A", 0.35)}, seed=2)
    c = make_trace(SEQ, {150: ("C", 0.35)}, seed=2)
    channels = a.channels.copy()
    channels[1] = np.maximum(a.channels[1], c.channels[1])  # the C clone's peak as well
    sample = dataclasses.replace(a, channels=channels)
    control = make_trace(SEQ, seed=1)
    for asked in ("NTRK1 G595R", "NTRK1 G595S"):
        res = tr.sanger.compare(sample, control=control, expect=asked, **FRAME)
        answer = _expect(res)
        assert answer.startswith(f"{asked} detected"), answer
        row = res["expect"].iloc[0]
        assert bool(row["detected"]) and row["mutant_fraction"] > row["noise"]
    calls = res["calls"]
    at_site = calls[calls["position"] == 151]
    assert set(at_site["alt"]) == {"A", "C"}
    # Named alone (two bases at one position are not one allele), not as one codon change.
    assert set(at_site["protein_change"]) == {"NTRK1 G595R", "NTRK1 G595S"}
    assert at_site["annotation_note"].str.contains("share of|shares of").all()


def test_a_change_in_the_trimmed_part_of_the_codon_is_not_called_wild_type() -> None:
    """F595L (TTC>CTC at the codon's first base, TTC>TTA/TTG at its third): with the third
    base trimmed away (poor quality) a 50% TTC>TTA read 'not detected ... limit of
    detection 11%' from the first base alone."""
    seq = SEQ[:143] + "TTC" + SEQ[146:]
    sample = make_trace(seq[:200], {145: ("A", 0.5)}, seed=2, bad_ends=(15, 0))
    quality = sample.quality.copy()
    quality[145:] = 3  # the read fails from the codon's third base on
    sample = dataclasses.replace(sample, quality=quality)
    res = tr.sanger.compare(sample, reference=seq, gene="NTRK1", codon_start=595,
                            codon_position=144, expect="NTRK1 F595L")  # fmt: skip
    answer = _expect(res)
    assert "not assessable" in answer and "146" in answer, answer
    assert not bool(res["expect"]["assessable"].iloc[0])


def test_a_site_without_signal_is_not_assessable() -> None:
    """Flat channels over the site read 'not detected: measured nan%, ... limit of detection
    here 16%'."""
    sample = make_trace(SEQ, {150: ("C", 0.4)}, seed=2)
    peak = int(sample.peaks[150])
    channels = sample.channels.copy()
    channels[:, peak - 60 : peak + 60] = 0.0
    res = tr.sanger.compare(dataclasses.replace(sample, channels=channels),
                            control=make_trace(SEQ, seed=1), expect="NTRK1 G595R", **FRAME)  # fmt: skip
    answer = _expect(res)
    assert "not assessable" in answer and "nan" not in answer, answer
    assert np.isnan(res["expect"]["lod"].iloc[0])
    # positions.tsv agrees (round 5): it showed a mutant fraction of 0 (CI 0-0) there;
    # it is the strongest rows of the per-base test now, with no fraction without signal.
    pos = res["positions"].set_index("position")
    for col in ("raw_fraction", "mutant_fraction", "ci_low", "ci_high"):
        assert np.isnan(pos.loc[151, col]), (col, pos.loc[151, col])
    assert not bool(pos.loc[151, "called"])
    assert pos["mutant_fraction"].notna().sum() >= len(pos) - 12  # the rest keep theirs


def test_a_change_the_control_carries_too_is_said_so() -> None:
    """Sample and control both at ~40% G595R: 'not detected: measured 43%, below the call
    threshold' (the threshold being the control's own peak + 5 points, unsaid)."""
    sample = make_trace(SEQ, {150: ("C", 0.4)}, seed=2)
    control = make_trace(SEQ, {150: ("C", 0.4)}, seed=1)
    res = tr.sanger.compare(sample, control=control, expect="NTRK1 G595R", **FRAME)
    answer = _expect(res)
    assert "above the control" in answer and "the control shows" in answer, answer


def test_not_assessable_answers_state_no_limit_of_detection() -> None:
    """A codon outside the trace answered 'not assessable' with detected False and the
    trace's median LOD in expect.tsv: read as 'absent at 14%'."""
    sample = make_trace(SEQ[:140], seed=2)
    res = tr.sanger.compare(sample, reference=SEQ, expect="NTRK1 G595R", **FRAME)
    row = res["expect"].iloc[0]
    assert "not assessable" in str(row["answer"])
    assert np.isnan(row["lod"]) and not bool(row["assessable"])
    assert np.isfinite(res["summary"]["lod"].iloc[0])  # the trace's LOD stays in the summary


def test_assessed_answers_are_marked_assessable() -> None:
    res = tr.sanger.compare(make_trace(SEQ, {150: ("C", 0.05)}, seed=2),
                            control=make_trace(SEQ, seed=1), expect="NTRK1 G595R", **FRAME)  # fmt: skip
    row = res["expect"].iloc[0]
    assert "not detected" in str(row["answer"]) and bool(row["assessable"])
    assert np.isfinite(row["lod"])


def test_a_fasta_reference_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """A FASTA saved with a UTF-8 BOM (Windows editors) was refused as 'not a FASTA or
    GenBank reference'."""
    path = tmp_path / "ref.fa"
    path.write_bytes(b"\xef\xbb\xbf>ntrk1\r\n" + SEQ.encode() + b"\r\n")
    assert read_reference(path).sequence == SEQ


@pytest.mark.parametrize("value", ["5", "0", "x"])
def test_a_genbank_codon_start_other_than_1_2_3_is_an_error(tmp_path: Path, value: str) -> None:
    """/codon_start=5 was clamped to 3 (and 'x' read as 1): a silent guess at the frame."""
    text = (
        "LOCUS       X1                       400 bp    DNA     linear   UNK 01-JAN-1980\n"
        "FEATURES             Location/Qualifiers\n"
        "     CDS             1..399\n"
        '                     /gene="NTRK1"\n'
        f"                     /codon_start={value}\n"
        "ORIGIN\n"
        + "".join(f"{i + 1:>9} {SEQ[i : i + 60].lower()}\n" for i in range(0, 400, 60))
        + "//\n"
    )
    path = tmp_path / "ref.gb"
    path.write_text(text)
    with pytest.raises(InputError, match="codon_start"):
        read_reference(path)


@pytest.mark.parametrize(
    "text",
    ["NTRK1 p.Gly595Arg", "NTRK1:p.G595R", "NTRK1 p.(Gly595Arg)", "p.Gly595Arg"],
)
def test_expect_in_hgvs_three_letter_notation(text: str) -> None:
    """HGVS protein notation (p.Gly595Arg, GENE:p.G595R) was refused as a bad mutation."""
    from trkres.assays.sanger.naming import parse_expect

    assert parse_expect(text, "NTRK1") == ("NTRK1", "G", 595, "R")


def test_cli_two_bases_at_one_site(tmp_path: Path) -> None:
    """The CLI writes both calls at the site and the answer."""
    from typer.testing import CliRunner

    from trkres.cli import app

    a = make_trace(SEQ, {150: ("A", 0.35)}, seed=2)
    c = make_trace(SEQ, {150: ("C", 0.35)}, seed=2)
    channels = a.channels.copy()
    channels[1] = np.maximum(a.channels[1], c.channels[1])
    write_abif(dataclasses.replace(a, channels=channels), tmp_path / "s.ab1")
    write_abif(make_trace(SEQ, seed=1), tmp_path / "c.ab1")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "sanger", str(tmp_path / "s.ab1"), "--control", str(tmp_path / "c.ab1"),
        "--gene", "NTRK1", "--codon-start", "595", "--codon-position", "151",
        "--expect", "NTRK1 G595R", "--no-figures", "-o", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    calls = (out / "calls.tsv").read_text()
    assert "NTRK1 G595R" in calls and "NTRK1 G595S" in calls


def test_study_inputs_whose_names_differ_by_suffix_keep_their_figures(tmp_path: Path) -> None:
    """x.ab1 and x.scf were both labelled 'x': the same figure names (one trace's
    chromatograms written over the other's) and one input label in the tables."""
    from trkres.assays.sanger.options import SangerOptions
    from trkres.assays.sanger.section import sanger_section
    from trkres.knowledge.loader import load_knowledge
    from trkres.study.manifest import load_study
    from trkres.study.registry import AnalysisContext

    study = tmp_path / "study"
    study.mkdir()
    write_abif(make_trace(SEQ, {150: ("C", 0.4)}, seed=2), study / "x.ab1")
    write_abif(make_trace(SEQ, seed=1), study / "c.ab1")
    (study / "x.scf").write_bytes((Path(__file__).parents[1] / "data/sanger/3100.scf").read_bytes())
    (study / "study.yaml").write_text(
        "name: confirm\ninputs:\n"
        "  - {kind: sanger, path: x.ab1, control: c.ab1, expect: 'NTRK1 G595R'}\n"
        "  - {kind: sanger, path: x.scf}\n"
    )
    options = SangerOptions(gene="NTRK1", codon_start=595, codon_position=151)
    section = sanger_section(AnalysisContext(load_study(study), load_knowledge(), options))
    names = [f.name for f in section.figures]
    assert len(names) == len(set(names)), names
    summary = next(t.frame for t in section.tables if t.name == "sanger_summary")
    assert summary["input"].nunique() == 2


def test_codon_position_without_codon_start_is_an_error() -> None:
    """--codon-position 151 alone named no frame and was dropped without a word (calls
    unnamed)."""
    with pytest.raises(InputError, match="codon_start"):
        tr.sanger.compare(make_trace(SEQ, seed=2), control=make_trace(SEQ, seed=1),
                          gene="NTRK1", codon_position=151)  # fmt: skip


def test_the_sample_as_its_own_control_is_warned() -> None:
    """The sample given as its own control: '0 calls, limit of detection 15%' with no word
    that nothing could ever be called."""
    sample = make_trace(SEQ, {150: ("C", 0.4)}, seed=2)
    res = tr.sanger.compare(sample, control=sample, expect="NTRK1 G595R", **FRAME)
    assert any("the sample's own trace" in w for w in res.warnings), res.warnings


def test_a_reference_sequence_pasted_with_line_breaks_is_a_sequence() -> None:
    """tr.sanger.compare(reference="ACGT...\\nACGT...") was taken for a file path: 'not a
    usable reference file path ... File name too long'."""
    pasted = "\n".join(SEQ[i : i + 60] for i in range(0, 400, 60)) + "\n"
    res = tr.sanger.compare(make_trace(SEQ, {150: ("C", 0.4)}, seed=2), reference=pasted,
                            expect="NTRK1 G595R", **FRAME)  # fmt: skip
    assert _expect(res).startswith("NTRK1 G595R detected")


def test_an_ambiguous_reference_codon_is_not_a_frame_error() -> None:
    """A reference with N (or an IUPAC code) in the asked codon answered 'the reference
    codon 595 is GNC (X), not G: check --codon-start/--codon-position and --strand'."""
    reference = SEQ[:151] + "N" + SEQ[152:]
    res = tr.sanger.compare(make_trace(SEQ, seed=2), reference=reference,
                            expect="NTRK1 G595R", **FRAME)  # fmt: skip
    answer = _expect(res)
    assert "not assessable" in answer and "ambiguous" in answer and "check" not in answer


def _genbank(path: Path, cds: list[tuple[str, str]]) -> Path:
    features = "".join(
        f"     CDS             {loc}\n"
        '                     /gene="NTRK1"\n'
        f'                     /protein_id="{pid}"\n'
        for loc, pid in cds
    )
    path.write_text(
        "LOCUS       X1                       400 bp    DNA     linear   UNK 01-JAN-1980\n"
        "FEATURES             Location/Qualifiers\n"
        + features
        + "ORIGIN\n"
        + "".join(f"{i + 1:>9} {SEQ[i : i + 60].lower()}\n" for i in range(0, 400, 60))
        + "//\n"
    )
    return path


def test_a_genbank_record_with_several_transcripts_is_warned(tmp_path: Path) -> None:
    """A RefSeqGene-like record with two CDS features (isoforms numbering one residue 6
    codons apart) numbered the codons on the first without a word."""
    two = _genbank(tmp_path / "two.gb", [("1..399", "NP_A.1"), ("join(1..60,79..399)", "NP_B.1")])
    res = tr.sanger.compare(make_trace(SEQ, seed=2), reference=two, gene="NTRK1")
    assert any("2 CDS" in w and "NP_A.1" in w and "NP_B.1" in w for w in res.warnings)
    one = _genbank(tmp_path / "one.gb", [("1..399", "NP_A.1"), ("1..399", "NP_A.1")])
    res = tr.sanger.compare(make_trace(SEQ, seed=2), reference=one, gene="NTRK1")
    assert not any("CDS" in w for w in res.warnings)
