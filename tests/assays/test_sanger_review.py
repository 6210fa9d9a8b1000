"""Defects an adversarial review of the Sanger module found (2026-12-07), each pinned:
a call is exactly a fraction above its noise, gene symbols as the knowledge base names
them, GenBank frames with --codon-position, bad references and paths as clear errors,
no codon numbers before codon 1, a majority mutant without control, figures for the
asked site first."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trkres.assays.sanger.io import Reference, read_reference
from trkres.assays.sanger.options import SangerOptions
from trkres.assays.sanger.run import run_sanger
from trkres.assays.sanger.synthetic import make_trace, random_sequence
from trkres.errors import InputError


def _genbank(path: Path, seq: str, cds: str) -> Path:
    rows = [seq[i : i + 60].lower() for i in range(0, len(seq), 60)]
    origin = "\n".join(
        f"{1 + 60 * k:>9} " + " ".join(r[j : j + 10] for j in range(0, 60, 10))
        for k, r in enumerate(rows)
    )
    path.write_text(
        f"LOCUS       amp                      {len(seq)} bp    DNA     linear   SYN 01-JAN-2026\n"
        "FEATURES             Location/Qualifiers\n"
        f"     CDS             {cds}\n"
        '                     /gene="NTRK1"\n'
        f"ORIGIN\n{origin}\n//\n"
    )
    return path


def test_a_call_is_a_fraction_above_its_noise() -> None:
    """The threshold is corrected with the same backgrounds as the fraction (it used the
    flank background alone: a 'detected' 11.9% call with noise 15.3%)."""
    s = random_sequence(450, 77)
    seq = s[:200] + "GGG" + s[203:]
    ctl = make_trace(seq, seed=1003, context=0.015, background=0.0075)
    opts = SangerOptions(gene="NTRK1", codon_start=595, codon_position=201)
    for seed, fraction in ((3, 0.10), (4, 0.15), (5, 0.0)):
        smp = make_trace(seq, {200: ("A", fraction)}, seed=seed, context=0.015, background=0.0075)
        pos = run_sanger(smp, opts, control=ctl, reference=Reference("r", seq))["positions"]
        inside = (pos["mutant_fraction"] > 0) & (pos["mutant_fraction"] < 1)
        called = pos["called"].to_numpy(bool)[inside]
        above = (pos["mutant_fraction"] > pos["noise"]).to_numpy(bool)[inside]
        assert (called == above).all()


def test_gene_symbols_as_the_knowledge_base_names_them() -> None:
    s = random_sequence(400, 7)
    seq = s[:200] + "GGT" + s[203:]
    smp = make_trace(seq, {200: ("T", 0.35), 201: ("T", 0.35)}, seed=11)
    ctl = make_trace(seq, seed=12)
    for gene in ("kras", "Kras"):
        opts = SangerOptions(gene=gene, codon_start=12, codon_position=201, expect="KRAS G12F")
        res = run_sanger(smp, opts, control=ctl, reference=Reference("r", seq))
        assert set(res["calls"]["protein_change"]) == {"KRAS G12F"}
        assert bool(res["expect"]["detected"].iloc[0])


def test_alias_and_symbol_agree_in_expect() -> None:
    s = random_sequence(450, 77)
    seq = s[:200] + "GGG" + s[203:]
    smp = make_trace(seq, {200: ("A", 0.4)}, seed=2)
    opts = SangerOptions(gene="TRKA", codon_start=595, codon_position=201, expect="NTRK1 G595R")
    res = run_sanger(smp, opts, control=make_trace(seq, seed=1), reference=Reference("r", seq))
    assert res["calls"]["protein_change"].tolist() == ["NTRK1 G595R"]
    assert bool(res["expect"]["detected"].iloc[0])


def test_genbank_cds_with_codon_position(tmp_path: Path) -> None:
    """--codon-start 595 --codon-position 199 with a CDS from position 1: the CDS codon
    starting at 199 is 595 (it was numbered 661: --codon-position was ignored)."""
    s = random_sequence(450, 77)
    seq = s[:198] + "GGG" + s[201:]
    gb = _genbank(tmp_path / "amp.gb", seq, f"<1..>{len(seq)}")
    smp = make_trace(seq, {198: ("A", 0.35)}, seed=2)
    ctl = make_trace(seq, seed=1)
    opts = SangerOptions(gene="NTRK1", codon_start=595, codon_position=199, expect="NTRK1 G595R")
    res = run_sanger(smp, opts, control=ctl, reference=gb)
    assert res["calls"]["protein_change"].tolist() == ["NTRK1 G595R"]
    assert bool(res["expect"]["detected"].iloc[0])
    # Only --codon-start: the CDS's first codon is numbered 595, as before.
    plain = run_sanger(smp, SangerOptions(gene="NTRK1", codon_start=595), control=ctl, reference=gb)
    assert plain["calls"]["protein_change"].tolist() == ["NTRK1 G661R"]
    with pytest.raises(InputError, match="not the first base of a codon"):
        run_sanger(smp, opts.model_copy(update={"codon_position": 200}), control=ctl, reference=gb)


def test_cds_past_the_sequence_is_an_input_error(tmp_path: Path) -> None:
    gb = _genbank(tmp_path / "amp.gb", random_sequence(450, 77), "1..900")
    with pytest.raises(InputError, match="CDS runs past the end"):
        read_reference(gb)


def test_a_path_too_long_is_an_input_error(tmp_path: Path) -> None:
    ctl = make_trace(random_sequence(300, 5), seed=1)
    with pytest.raises(InputError, match="not a usable trace file path"):
        run_sanger(tmp_path / ("x" * 300 + ".ab1"), SangerOptions(), control=ctl)


def test_no_codon_numbers_before_codon_1() -> None:
    s = random_sequence(450, 17)
    seq = s[:200] + "GGT" + s[203:]
    alt = "A" if seq[120] != "A" else "C"
    smp = make_trace(seq, {120: (alt, 0.45), 201: ("A", 0.3)}, seed=2)
    opts = SangerOptions(gene="KRAS", codon_start=12, codon_position=201)
    calls = run_sanger(smp, opts, control=make_trace(seq, seed=3),
                       reference=Reference("r", seq))["calls"]  # fmt: skip
    by = calls.set_index("position")
    assert by.loc[121, "protein_change"] == "" and by.loc[121, "codon"] == ""
    assert by.loc[202, "protein_change"] == "KRAS G12D"


def test_majority_mutant_without_control_says_so() -> None:
    s = random_sequence(450, 77)
    seq = s[:200] + "GGG" + s[203:]
    smp = make_trace(seq, {200: ("A", 1.0)}, seed=4)
    opts = SangerOptions(gene="NTRK1", codon_start=595, codon_position=201, expect="NTRK1 G595R")
    answer = run_sanger(smp, opts)["expect"]["answer"].iloc[0]
    assert "majority base" in answer and "--control" in answer


def test_the_asked_site_is_drawn_first() -> None:
    from trkres.pl.sanger import MAX_CALL_FIGURES, sanger_figures

    s = random_sequence(450, 77)
    seq = s[:200] + "GGG" + s[203:]
    sites = [60, 90, 120, 150, 250, 290, 330]
    muts = {p: ("A" if seq[p] != "A" else "C", 0.4) for p in sites}
    smp = make_trace(seq, muts, seed=5)
    opts = SangerOptions(gene="NTRK1", codon_start=595, codon_position=201, expect="NTRK1 G595R")
    res = run_sanger(smp, opts, control=make_trace(seq, seed=6), reference=Reference("r", seq))
    assert len(res["calls"]) > MAX_CALL_FIGURES
    figures = sanger_figures(res)
    try:
        assert figures[0].title.startswith("NTRK1 G595R not detected")
        assert len(figures) == MAX_CALL_FIGURES + 1
        assert f"first {MAX_CALL_FIGURES} of" in str(figures[-1].caption)
    finally:
        for f in figures:
            f.close()
    assert np.isfinite(res.lod)


def _blob(trace: object, base: str, at: int, share: float, sd: float) -> object:
    """``trace`` with a dye blob: a Gaussian hump (``sd`` samples, ``share`` of the median
    called peak) in ``base``'s channel, centred on base ``at``."""
    import dataclasses

    from trkres.assays.sanger.io import BASES

    channels = trace.channels.copy()  # type: ignore[attr-defined]
    peaks = trace.peaks  # type: ignore[attr-defined]
    x = np.arange(channels.shape[1])
    height = share * np.median(channels.max(axis=0)[peaks])
    channels[BASES.index(base)] += height * np.exp(-0.5 * ((x - peaks[at]) / sd) ** 2)
    return dataclasses.replace(trace, channels=channels)  # type: ignore[type-var]


def test_a_dye_blob_is_not_a_mutation() -> None:
    """A hump in the C channel over codon 595 of a mutation-free sample was called G595R
    or G595P in every seed; it is broad signal, not a peak, and the answer says so."""
    s = random_sequence(450, 77)
    seq = s[:200] + "GGG" + s[203:]
    opts = SangerOptions(gene="NTRK1", codon_start=595, codon_position=201, expect="NTRK1 G595R")
    for seed in range(4):
        smp = _blob(make_trace(seq, seed=seed), "C", 200, 0.35, 12.0)
        res = run_sanger(smp, opts, control=make_trace(seq, seed=500 + seed),
                         reference=Reference("r", seq))  # fmt: skip
        assert not len(res["calls"])
        assert not bool(res["expect"]["detected"].iloc[0])
        assert "broad signal" in res["expect"]["answer"].iloc[0]
        assert any("broad signal" in w for w in res.warnings)


def test_small_peaks_beside_peaks_of_their_base_are_still_called() -> None:
    """The broad-signal rule must not take a real secondary peak flanked by peaks of its
    own base (a G between two Gs: its valleys ride on their flanks) for a blob."""
    s = random_sequence(450, 77)
    seq = s[:199] + "GAG" + s[202:]
    opts = SangerOptions(gene="NTRK1", codon_start=595, codon_position=201)
    for seed in range(6):
        smp = make_trace(seq, {200: ("G", 0.3)}, seed=seed)
        res = run_sanger(smp, opts, control=make_trace(seq, seed=50 + seed),
                         reference=Reference("r", seq))  # fmt: skip
        calls = res["calls"]
        assert calls["position"].tolist() == [201]
        assert float(res["positions"].set_index("position").loc[201, "broad_excess"]) < 0.6
