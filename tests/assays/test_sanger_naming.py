"""The coding frame, codon and protein names, knowledge-base classes, --expect, and
traces read from the other strand."""

from __future__ import annotations

from pathlib import Path

import pytest

from trkres.assays.sanger.caller import complement
from trkres.assays.sanger.io import Reference
from trkres.assays.sanger.naming import classify, frame_from_cds, frame_from_start, parse_expect
from trkres.assays.sanger.options import SangerOptions
from trkres.assays.sanger.run import run_sanger
from trkres.assays.sanger.synthetic import make_trace, random_sequence
from trkres.errors import InputError


def revcomp(seq: str) -> str:
    return complement(seq)[::-1]


def test_frame_plus_strand() -> None:
    frame = frame_from_start(30, 10, 4, 1)  # position 4 (1-based) is codon 10's first base
    assert frame.locate(3) == (10, 0) and frame.locate(5) == (10, 2) and frame.locate(6) == (11, 0)
    assert frame.locate(0) == (9, 0)
    assert frame.positions_of(10) == (3, 4, 5)


def test_frame_minus_strand() -> None:
    frame = frame_from_start(30, 10, 20, -1)  # position 20 is codon 10's first base, read leftward
    assert frame.positions_of(10) == (19, 18, 17)
    assert frame.locate(16) == (11, 0) and frame.locate(20) == (9, 2)
    assert frame.coding("A" * 17 + "CCG" + "A" * 10, (19, 18, 17)) == "CGG"


def test_frame_from_genbank_cds() -> None:
    cds = tuple(range(5, 23))  # 18 coding bases; /codon_start=2 skips one
    frame = frame_from_cds(cds, 1, 1, first=100)
    assert frame.positions_of(100) == (6, 7, 8) and frame.locate(9) == (101, 0)


def test_bad_codon_position() -> None:
    with pytest.raises(InputError, match="outside the reference"):
        frame_from_start(30, 10, 31, 1)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("NTRK1 G595R", ("NTRK1", "G", 595, "R")), ("kras G12D", ("KRAS", "G", 12, "D")),
     ("p.V600E", ("BRAF", "V", 600, "E"))],
)  # fmt: skip
def test_parse_expect(text: str, parsed: tuple[str, str, int, str]) -> None:
    assert parse_expect(text, "BRAF") == parsed


@pytest.mark.parametrize("text", ["", "G595", "NTRK1 595R", "NTRK1 G595R extra"])
def test_parse_expect_bad(text: str) -> None:
    with pytest.raises(InputError):
        parse_expect(text, "NTRK1")
    with pytest.raises(InputError, match="without a gene"):
        parse_expect("G12D", None)


def test_classes_from_the_knowledge_base() -> None:
    assert classify("NTRK3", "G", 623, "R")["alteration_class"] == "solvent_front"
    assert classify("NTRK1", "F", 589, "L")["class_fact"] == "kinase_positions:gatekeeper"
    assert classify("KRAS", "G", 12, "D")["class_fact"] == "bypass_alterations:kras_g12d"
    assert classify("BRAF", "V", 600, "E")["alteration_class"] == "mapk_bypass"
    assert classify("TP53", "R", 175, "H")["alteration_class"] == ""


def _kras_amplicon() -> tuple[str, int]:
    """A reference that is the reverse complement of a coding stretch holding KRAS codon
    12 (GGT); returns it and the 1-based reference position of codon 12's first base."""
    coding = random_sequence(150, 7) + "GGT" + random_sequence(147, 8)
    return revcomp(coding), 300 - 150


def test_minus_strand_kras_g12d() -> None:
    ref, p = _kras_amplicon()
    # G12D is GGT>GAT: the codon's second base, reference position p - 1, C>T on this strand.
    assert ref[p - 2] == "C"
    sample = make_trace(ref, {p - 2: ("T", 0.4)}, seed=3)
    control = make_trace(ref, seed=4)
    opts = SangerOptions(gene="KRAS", codon_start=12, codon_position=p, strand="-",
                         expect="KRAS G12D")  # fmt: skip
    res = run_sanger(sample, opts, control=control)
    calls = res["calls"]
    assert list(calls["protein_change"]) == ["KRAS G12D"]
    row = calls.iloc[0]
    assert row["codon"] == "12 GGT>GAT" and row["ref"] == "C" and row["alt"] == "T"
    assert row["alteration_class"] == "mapk_bypass"
    assert abs(row["mutant_fraction"] - 0.4) <= 0.05
    assert bool(res["expect"]["detected"].iloc[0])
    assert "bypass_alterations:kras_g12d" in res.facts_used


def test_sample_read_from_the_other_strand_is_reverse_complemented() -> None:
    seq = random_sequence(400, 21)
    seq = seq[:200] + "GGG" + seq[203:]
    sample = make_trace(revcomp(seq), {400 - 1 - 200: ("T", 0.35)}, seed=5)  # C>T = G>A
    res = run_sanger(sample, SangerOptions(gene="NTRK1", codon_start=595, codon_position=201),
                     reference=Reference("amp", seq))  # fmt: skip
    assert res.sample is not None and res.sample.reversed
    assert list(res["calls"]["protein_change"]) == ["NTRK1 G595R"]
    assert abs(res["calls"]["mutant_fraction"].iloc[0] - 0.35) <= 0.05


def test_genbank_reference_names_with_its_cds(tmp_path: Path) -> None:
    seq = random_sequence(300, 31)
    seq = seq[:150] + "GTG" + seq[153:]  # BRAF V600 codon
    # The CDS starts at 1-based position 4; codon 600 begins at 151 -> first codon 551.
    gb = tmp_path / "braf.gb"
    lines = [seq[i : i + 60].lower() for i in range(0, 300, 60)]
    origin = "\n".join(f"{1 + 60 * k:>9} " + " ".join(s[j : j + 10] for j in range(0, 60, 10))
                       for k, s in enumerate(lines))  # fmt: skip
    gb.write_text(
        "LOCUS       braf_ex15                300 bp    DNA     linear   SYN 01-JAN-2026\n"
        "FEATURES             Location/Qualifiers\n"
        "     CDS             4..300\n"
        '                     /gene="BRAF"\n'
        f"ORIGIN\n{origin}\n//\n"
    )
    sample = make_trace(seq, {151: ("A", 0.3)}, seed=8)  # GTG>GAG: V600E
    res = run_sanger(sample, SangerOptions(codon_start=551, expect="BRAF V600E"), reference=gb)
    assert list(res["calls"]["protein_change"]) == ["BRAF V600E"]
    assert res["calls"]["class_fact"].iloc[0] == "bypass_alterations:braf_v600e"
    assert "BRAF V600E detected" in res["expect"]["answer"].iloc[0]


def test_expect_answers_its_limits() -> None:
    seq = random_sequence(400, 41)
    seq = seq[:200] + "GGG" + seq[203:]
    control = make_trace(seq, seed=1)
    sample = make_trace(seq, seed=2)

    def answer(expect: str, **kw: object) -> str:
        opts = SangerOptions(gene="NTRK1", codon_start=595, codon_position=201, expect=expect,
                             **kw)  # type: ignore[arg-type]  # fmt: skip
        return str(run_sanger(sample, opts, control=control)["expect"]["answer"].iloc[0])

    assert "not detected" in answer("NTRK1 G595R") and "limit of detection" in answer("NTRK1 G595R")
    assert "not F" in answer("NTRK1 F595L")  # the reference codon is GGG (G)
    assert "more than one base change" in answer("NTRK1 G595F")  # GGG -> TTT/TTC
    assert "not assessable" in answer("KRAS G12D")  # another gene's amplicon
    assert "outside the reference" in answer("NTRK1 G900R")
    with pytest.raises(InputError, match="coding frame"):
        run_sanger(sample, SangerOptions(expect="NTRK1 G595R"), control=control)


def test_gene_from_expect_names_the_calls() -> None:
    seq = random_sequence(400, 43)
    seq = seq[:200] + "GGG" + seq[203:]
    sample = make_trace(seq, {200: ("A", 0.4)}, seed=6)
    opts = SangerOptions(codon_start=595, codon_position=201, expect="NTRK1 G595R")
    res = run_sanger(sample, opts, control=make_trace(seq, seed=7))
    assert list(res["calls"]["protein_change"]) == ["NTRK1 G595R"]


def _kras_plus() -> tuple[str, int]:
    """A coding-strand amplicon with KRAS codon 12 (GGT) at 0-based 150..152."""
    return random_sequence(150, 9) + "GGT" + random_sequence(147, 10), 151


def test_two_calls_in_one_codon_are_one_change_plus_strand() -> None:
    """Coding GGT>TTT (both G>T, one allele) is KRAS G12F, not G12C + G12V, on both rows;
    --expect finds the two-base change; the report flags it once."""
    from trkres.assays.sanger.section import flags

    ref, p = _kras_plus()
    sample = make_trace(ref, {150: ("T", 0.35), 151: ("T", 0.35)}, seed=11)
    opts = SangerOptions(gene="KRAS", codon_start=12, codon_position=p, expect="KRAS G12F")
    res = run_sanger(sample, opts, control=make_trace(ref, seed=12))
    calls = res["calls"]
    assert list(calls["position"]) == [151, 152]
    assert list(calls["protein_change"]) == ["KRAS G12F", "KRAS G12F"]
    assert list(calls["codon"]) == ["12 GGT>TTT", "12 GGT>TTT"]
    assert calls["annotation_note"].str.contains("one codon change").all()
    assert ((calls["mutant_fraction"] - 0.35).abs() <= 0.05).all()
    expect = res["expect"]
    assert expect["detected"].all() and len(expect) == 2
    assert "KRAS G12F detected: codon GGT>TTT" in expect["answer"].iloc[0]
    # A single-base change asked of the same codon is not claimed by the pair.
    other = run_sanger(sample, opts.model_copy(update={"expect": "KRAS G12C"}),
                       control=make_trace(ref, seed=12))  # fmt: skip
    assert not bool(other["expect"]["detected"].iloc[0])
    assert "as part of KRAS G12F" in other["expect"]["answer"].iloc[0]
    mentions = [f.message for f in flags(res, "s") if "G12F (" in f.message
                and f.level == "warning"]  # fmt: skip
    assert len(mentions) == (1 if calls["alteration_class"].iloc[0] else 0)
    # One chromatogram for the codon (both bases are in its window; the expected site,
    # titled with the answer), then the fractions; without --expect, titled with the calls.
    from trkres.pl.sanger import sanger_figures

    figures = sanger_figures(res)
    assert len(figures) == 2 and figures[0].title.startswith("KRAS G12F detected: codon GGT>TTT")
    plain = run_sanger(sample, opts.model_copy(update={"expect": None}),
                       control=make_trace(ref, seed=12))  # fmt: skip
    figures += sanger_figures(plain)
    assert len(figures) == 4 and figures[2].title.startswith("positions 151, 152 KRAS G12F ")
    for figure in figures:
        figure.close()


def test_two_calls_in_one_codon_are_one_change_minus_strand() -> None:
    """The same on a reverse-complement reference (strand -): coding G>T is C>A on the
    reference, codon 12 reads p, p-1, p-2."""
    ref, p = _kras_amplicon()
    assert ref[p - 1] == "C" and ref[p - 2] == "C"
    sample = make_trace(ref, {p - 1: ("A", 0.4), p - 2: ("A", 0.4)}, seed=13)
    opts = SangerOptions(gene="KRAS", codon_start=12, codon_position=p, strand="-")
    calls = run_sanger(sample, opts, control=make_trace(ref, seed=14))["calls"]
    assert sorted(calls["position"]) == [p - 1, p]
    assert set(calls["protein_change"]) == {"KRAS G12F"}
    assert set(calls["codon"]) == {"12 GGT>TTT"}
    assert set(calls["ref"]) == {"C"} and set(calls["alt"]) == {"A"}


def test_three_calls_in_one_codon() -> None:
    ref, p = _kras_plus()  # GGT > TAC: G12Y
    sample = make_trace(ref, {150: ("T", 0.4), 151: ("A", 0.4), 152: ("C", 0.4)}, seed=15)
    res = run_sanger(sample, SangerOptions(gene="KRAS", codon_start=12, codon_position=p),
                     control=make_trace(ref, seed=16))  # fmt: skip
    calls = res["calls"]
    assert len(calls) == 3
    assert set(calls["protein_change"]) == {"KRAS G12Y"} and set(calls["codon"]) == {"12 GGT>TAC"}


def test_calls_in_one_codon_at_different_fractions_are_named_alone() -> None:
    """45% and 20% cannot be one allele (the CIs do not overlap): G12C and G12V, each
    against the reference codon, with a note."""
    ref, p = _kras_plus()
    sample = make_trace(ref, {150: ("T", 0.45), 151: ("T", 0.2)}, seed=11)
    res = run_sanger(sample, SangerOptions(gene="KRAS", codon_start=12, codon_position=p),
                     control=make_trace(ref, seed=12))  # fmt: skip
    calls = res["calls"]
    assert list(calls["position"]) == [151, 152]
    assert calls["ci_low"].iloc[0] > calls["ci_high"].iloc[1]
    assert list(calls["protein_change"]) == ["KRAS G12C", "KRAS G12V"]
    assert list(calls["codon"]) == ["12 GGT>TGT", "12 GGT>GTT"]
    assert calls["annotation_note"].str.contains("not one allele").all()
