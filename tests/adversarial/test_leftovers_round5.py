"""Defects left from review round 4, fixed in the next session.

Each test failed on the code before its fix.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

import trkres as tr
from support import EXAMPLE
from trkres.assays.sanger.synthetic import make_trace, random_sequence
from trkres.assays.western.io import read_blot
from trkres.assays.western.options import BlotOptions
from trkres.assays.western.run import run_blot

SEQ = random_sequence(400, seed=3)
SEQ = SEQ[:150] + "GGC" + SEQ[153:]
FRAME = {"gene": "NTRK1", "codon_start": 595, "codon_position": 151}


def test_sanger_positions_are_the_strongest_rows_of_the_per_base_calls() -> None:
    """Two clones at one base: the calls table's strongest row at the site and the
    positions table's row are one computation (they were two, kept equal by copying)."""
    a = make_trace(SEQ, {150: ("A", 0.35)}, seed=2)
    c = make_trace(SEQ, {150: ("C", 0.25)}, seed=2)
    channels = a.channels.copy()
    channels[1] = np.maximum(a.channels[1], c.channels[1])
    res = tr.sanger.compare(dataclasses.replace(a, channels=channels),
                            control=make_trace(SEQ, seed=1), **FRAME)  # fmt: skip
    calls = res["calls"][res["calls"]["position"] == 151]
    assert list(calls["alt"]) == ["A", "C"]  # the strongest first
    row = res["positions"].set_index("position").loc[151]
    assert row["alt"] == "A"
    for col in ("mutant_fraction", "ci_low", "ci_high", "noise", "lod", "raw_fraction"):
        assert calls[col].iloc[0] == row[col], col


def test_western_loading_control_is_measured_in_the_lanes_of_the_roi_file() -> None:
    """Lane detection gone wrong (16 lanes asked of an 8-lane blot), fixed by the user's
    ROI file: the target was measured in the user's boxes, the loading control still in
    16 detected lanes, so lanes were divided by the wrong lanes' GAPDH."""

    blots = EXAMPLE / "western"
    design = np.array([1.0, 0.55, 0.18, 0.06, 1.1, 1.05, 0.95, 0.9])
    right = BlotOptions(lanes=8, doublet="sum", target="pERK", loading_target="GAPDH")
    rois = run_blot(blots / "pERK.tif", right)["rois"]
    wrong = BlotOptions(lanes=16, doublet="sum", target="pERK", loading_target="GAPDH")
    res = run_blot(blots / "pERK.tif", wrong, loading=blots / "GAPDH.tif",
                   layout=blots / "lanes.tsv", rois=rois)  # fmt: skip
    q = res["quantified"].sort_values("lane")
    assert q["lane"].tolist() == list(range(1, 9))
    assert np.allclose(q["fold_change"].to_numpy(dtype=float), design, rtol=0.05)
    lanes = res["lanes"]
    assert len(lanes[lanes["role"] == "loading"]) == 8
    assert any("lanes of the ROI file" in n for n in res.notes)


def test_western_roi_file_of_another_image_size_is_warned_for_the_loading_control() -> None:
    """A loading-control image of another size cannot take the target's lane boxes: its
    lanes are detected, and the user is told to check that the lane numbers match."""

    blots = EXAMPLE / "western"
    options = BlotOptions(lanes=8, doublet="sum")
    rois = run_blot(blots / "pERK.tif", options)["rois"]
    gapdh = read_blot(blots / "GAPDH.tif")[0].signal
    res = run_blot(blots / "pERK.tif", options, loading=gapdh[:, :-7], rois=rois)
    assert any("the loading control's image" in w and "not the target's size" in w
               for w in res.warnings)  # fmt: skip


def test_invivo_cli_takes_zero_volumes(tmp_path: Path) -> None:
    """The options model had zero_volumes (exclude | floor); the CLI had no flag for it."""
    from typer.testing import CliRunner

    from trkres.cli import app

    data = tmp_path / "v.csv"
    rows = ["mouse,arm,day,volume"]
    for m, arm in enumerate(["Vehicle"] * 4 + ["Lar"] * 4):
        for day, v in (
            (0, 100.0),
            (7, 180.0 if arm == "Vehicle" else 60.0),
            (14, 330.0 if arm == "Vehicle" else 0.0 if m % 2 else 30.0),
        ):
            rows.append(f"m{m},{arm},{day},{v + m}" if v else f"m{m},{arm},{day},0")
    data.write_text("\n".join(rows) + "\n")
    base = ["invivo", str(data), "--control", "Vehicle", "--no-figures", "--influence", "no"]
    out1, out2 = tmp_path / "a", tmp_path / "b"
    first = CliRunner().invoke(app, [*base, "-o", str(out1)])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(app, [*base, "-o", str(out2), "--zero-volumes", "floor"])
    assert second.exit_code == 0, second.output
    n1 = pd.read_csv(out1 / "growth_model.tsv", sep="\t").set_index("arm")["n_observations"]
    n2 = pd.read_csv(out2 / "growth_model.tsv", sep="\t").set_index("arm")["n_observations"]
    assert n2["Lar"] == n1["Lar"] + 2 and n2["Vehicle"] == n1["Vehicle"]
    bad = CliRunner().invoke(app, [*base, "-o", str(tmp_path / "c"), "--zero-volumes", "zero"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_western_zero_dose_without_unit_is_the_same_condition_as_zero_nm() -> None:
    """'0' on one blot's layout and '0 nM' on another's were two conditions, so the
    untreated lanes of replicate blots were never combined."""
    from trkres.assays.western.layout import read_layout

    layout = pd.DataFrame({"lane": [1, 2, 3, 4], "treatment": ["DMSO", "lar", "lar", "DMSO"],
                           "dose": ["0", "10 nM", "100 nM", "0 nM"]})  # fmt: skip
    out = read_layout(layout)
    assert out["condition"].tolist() == ["DMSO | 0 nM", "lar | 10 nM", "lar | 100 nM",
                                         "DMSO | 0 nM"]  # fmt: skip
    assert out["dose_molar"].tolist()[0] == 0.0
    mixed = read_layout(layout.assign(dose=["0", "10 nM", "1 ng/mL", "0 nM"]))
    assert mixed["condition"].iloc[0] == "DMSO | 0"  # two units: left as written
