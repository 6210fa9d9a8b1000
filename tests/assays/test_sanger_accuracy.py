"""Synthetic chromatograms with known mixtures (issue 18's 'done when'): fractions
recovered within 5 points above the stated LOD, no calls on 0% traces, the LOD stated
and honest (a fraction below it is reported as not detected, with the LOD).

Each sample's truth comes with it (``simulate_trace``): the fraction the trace itself
holds at the site (``held_fraction``: its true peak heights, with the allele factors and
the background drawn under those two peaks) separates the estimator's error (measured −
held) from the error no estimator can remove (held − planted)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trkres.assays.sanger.caller import dye_normalised, peak_heights
from trkres.assays.sanger.options import SangerOptions
from trkres.assays.sanger.run import run_sanger
from trkres.assays.sanger.synthetic import (
    held_fraction,
    make_trace,
    random_sequence,
    simulate_trace,
)

SITE = 200  # 0-based first base of codon 595 (GGG)
FRACTIONS = [0.0, 0.05, 0.10, 0.20, 0.30, 0.50]
SEEDS = range(6)
OPTS = SangerOptions(gene="NTRK1", codon_start=595, codon_position=SITE + 1,
                     expect="NTRK1 G595R")  # fmt: skip


def _amplicon(seed: int) -> str:
    seq = random_sequence(450, 50 + seed)
    return seq[:SITE] + "GGG" + seq[SITE + 3 :]


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    rows = []
    for seed in SEEDS:
        seq = _amplicon(seed)
        control = make_trace(seq, seed=500 + seed, name="control")
        for f in FRACTIONS:
            sample, truth = simulate_trace(seq, {SITE: ("A", f)},
                                           seed=900 + 10 * seed + int(100 * f), name="sample")  # fmt: skip
            res = run_sanger(sample, OPTS, control=control)
            calls = res["calls"]
            at = calls[calls["position"] == SITE + 1]
            exp = res["expect"].iloc[0]
            rows.append({
                "seed": seed, "fraction": f, "lod": res.lod,
                "site_lod": float(exp["lod"]),
                "detected": len(at) == 1, "other_calls": int((calls["position"] != SITE + 1).sum()),
                "measured": float(at["mutant_fraction"].iloc[0]) if len(at) else np.nan,
                "ci_low": float(at["ci_low"].iloc[0]) if len(at) else np.nan,
                "ci_high": float(at["ci_high"].iloc[0]) if len(at) else np.nan,
                "name": str(at["protein_change"].iloc[0]) if len(at) else "",
                "klass": str(at["alteration_class"].iloc[0]) if len(at) else "",
                "answer": str(exp["answer"]), "expect_detected": bool(exp["detected"]),
                "held": held_fraction(truth, SITE, "G", "A", 0.015),  # make_trace's background
            })  # fmt: skip
    return pd.DataFrame(rows)


def test_no_calls_on_zero_percent_traces(runs: pd.DataFrame) -> None:
    zero = runs[runs["fraction"] == 0]
    assert not zero["detected"].any()
    assert (zero["other_calls"] == 0).all()
    assert zero["answer"].str.contains("not detected").all()


def test_no_false_calls_away_from_the_site(runs: pd.DataFrame) -> None:
    assert runs["other_calls"].sum() <= 1  # alpha = 0.05 per trace, 36 traces


def test_lod_is_stated_in_the_usual_range(runs: pd.DataFrame) -> None:
    assert runs["lod"].between(0.08, 0.30).all()


def test_fractions_above_the_lod_are_detected_and_recovered(runs: pd.DataFrame) -> None:
    """Every mixture at or above its stated LOD is detected and read within 5 points of
    the planted fraction, except where the trace itself holds a fraction more than 5
    points off it (on these seeds two of 18: seed 3 at 50% holds 43.2% and reads 42.2%;
    seed 5 at 30% holds 24.8% and reads 25.0%)."""
    above = runs[runs["fraction"] >= runs["site_lod"]]
    assert len(above) >= 15
    assert above["detected"].all() and above["expect_detected"].all()
    error = (above["measured"] - above["fraction"]).abs()
    inherent = (above["held"] - above["fraction"]).abs() > 0.05
    assert inherent.sum() <= 2
    assert (error[~inherent] <= 0.05).all()
    assert error.median() <= 0.02


def test_estimator_error_against_what_each_trace_holds(runs: pd.DataFrame) -> None:
    """Measured against held: the estimator's own error (peak heights, dye scales,
    background correction) is small beside the 5 points asked for: every detection
    within 2.5 points, the median within 1 (on these seeds: worst 1.5, median 0.6; with
    the median-height dye scales of before: worst 2.0, median 0.6)."""
    hit = runs[runs["detected"]]
    gap = (hit["measured"] - hit["held"]).abs()
    assert gap.max() <= 0.025
    assert gap.median() <= 0.01


def test_every_detection_is_accurate_and_covered_by_its_ci(runs: pd.DataFrame) -> None:
    hit = runs[runs["detected"]]
    assert (hit["measured"] - hit["fraction"]).abs().max() <= 0.08
    assert ((hit["ci_low"] <= hit["fraction"]) & (hit["fraction"] <= hit["ci_high"])).mean() >= 0.9
    assert (hit["name"] == "NTRK1 G595R").all() and (hit["klass"] == "solvent_front").all()


def test_below_the_lod_is_not_detected_and_says_the_lod(runs: pd.DataFrame) -> None:
    low = runs[runs["fraction"] == 0.05]
    assert not low["detected"].any()
    assert low["answer"].str.contains("not detected").all()
    assert low["answer"].str.contains("limit of detection").all()


def test_noisier_traces_state_a_higher_lod() -> None:
    """The LOD follows the noise: twice the background, a higher stated LOD."""
    seq = _amplicon(0)
    lods = []
    for bg in (0.015, 0.03):
        control = make_trace(seq, seed=1, background=bg)
        sample = make_trace(seq, seed=2, background=bg)
        lods.append(run_sanger(sample, SangerOptions(), control=control).lod)
    assert lods[1] > lods[0] + 0.03


def test_background_shared_with_the_control_is_read_from_it() -> None:
    """The share of background a sample and its control share: ~0 where each trace's
    background is its own, most of it where sequence context dominates (the model:
    exponential backgrounds, SD = mean, so 0.015 shared of 0.0075 + 0.015 is 80% of the
    variance)."""
    from trkres.assays.sanger.caller import channel_fractions, shared_background
    from trkres.assays.sanger.io import BASES

    seq = _amplicon(1)
    ref = np.array([BASES.index(b) for b in seq])
    weights = []
    for bg, ctx in ((0.015, 0.0), (0.0075, 0.015)):
        traces = [make_trace(seq, seed=k, background=bg, context=ctx, bad_ends=(0, 0))
                  for k in (1, 2)]  # fmt: skip
        chans = []
        for t in traces:  # same length, no indels: position i is base i in both
            norm = dye_normalised(t, peak_heights(t), np.ones(len(t), dtype=bool))
            chans.append(channel_fractions(norm, ref))
        weights.append(shared_background(chans[0], chans[1], 20).weight)
    assert weights[0] < 0.15
    assert 0.5 < weights[1] < 0.95
