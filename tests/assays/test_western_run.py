"""The western analysis end to end: run_blot, the CLI, the study section and tr.western."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import trkres as tr
from support import EXAMPLE, write_study
from trkres.assays.western.options import BlotOptions
from trkres.assays.western.run import run_blot
from trkres.cli import app
from trkres.errors import InputError, TrkresError

BLOTS = EXAMPLE / "western"
#: Relative pERK per lane the example was simulated with (western/simulate_western.py).
DESIGN = np.array([1.0, 0.55, 0.18, 0.06, 1.1, 1.05, 0.95, 0.9])
OPTIONS = BlotOptions(lanes=8, doublet="sum", target="pERK", loading_target="GAPDH")


@pytest.fixture(scope="module")
def example() -> tr.western.BlotResult:
    return run_blot(
        BLOTS / "pERK.tif", OPTIONS, loading=BLOTS / "GAPDH.tif", layout=BLOTS / "lanes.tsv"
    )


def test_example_fold_changes_recover_the_design(example: tr.western.BlotResult) -> None:
    q = example["quantified"].sort_values("lane")
    assert q["lane"].tolist() == list(range(1, 9))
    fc = q["fold_change"].to_numpy(dtype=float)
    assert np.allclose(fc, DESIGN, rtol=0.05), fc  # loading differences divided out
    assert q["condition"].iloc[0] == "parental | DMSO | 0 nM"
    assert not example.warnings  # nothing saturated on the example
    assert any("not inverted" in n for n in example.notes)


def test_saturated_lane_is_flagged_and_left_out_of_ratios() -> None:
    from trkres.assays.western.synthetic import synthetic_blot

    raw, _truth = synthetic_blot(5, n_lanes=6, clipped_lanes=[2], empty_lanes=[])
    res = run_blot(raw, BlotOptions(lanes=6), loading=raw)
    assert any("lane 3 has a saturated band" in w for w in res.warnings)
    q = res["quantified"].set_index("lane")
    assert np.isnan(q.loc[3, "ratio"]) and q.drop(index=3)["ratio"].notna().all()


def test_cli_writes_tables_rois_and_figures_and_takes_rois_back(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["blot", str(BLOTS / "pERK.tif"), "--lanes", "8", "--loading-control", str(BLOTS / "GAPDH.tif"),
            "--layout", str(BLOTS / "lanes.tsv"), "--doublet", "sum", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for name in (
        "bands.tsv",
        "lanes.tsv",
        "rois.tsv",
        "signals.tsv",
        "quantified.tsv",
        "loading_cv.tsv",
    ):
        assert (out / name).is_file(), name
    assert (out / "figures" / "western_target_1.svg").is_file()
    bands = pd.read_csv(out / "bands.tsv", sep="\t")
    assert {"image", "lane", "band", "x0", "x1", "y0", "y1", "volume", "area", "background",
            "saturated"} <= set(bands.columns)  # fmt: skip
    # a person's edited ROIs replace the detection: same boxes, same volumes
    again = tmp_path / "again"
    result = CliRunner().invoke(app, ["blot", str(BLOTS / "pERK.tif"), "--rois", str(out / "rois.tsv"),
                                      "-o", str(again)])  # fmt: skip
    assert result.exit_code == 0, result.output
    first = bands[bands["role"] == "target"].reset_index(drop=True)
    second = pd.read_csv(again / "bands.tsv", sep="\t")
    assert np.allclose(first["volume"], second["volume"])


def test_cli_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00" + b"\x00" * 20)
    result = CliRunner().invoke(app, ["blot", str(bad), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and isinstance(result.exception, TrkresError)
    assert not (tmp_path / "o").exists()
    result = CliRunner().invoke(app, ["blot", str(BLOTS / "pERK.tif"), "--background", "magic",
                                      "-o", str(tmp_path / "o")])  # fmt: skip
    assert result.exit_code == 1 and "--background" in str(result.exception)


def test_api_and_replicate_blots() -> None:
    kwargs = {
        "loading": BLOTS / "GAPDH.tif",
        "layout": BLOTS / "lanes.tsv",
        "lanes": 8,
        "doublet": "sum",
    }
    one = tr.western.blot(BLOTS / "pERK.tif", blot="1", **kwargs)
    two = tr.western.blot(BLOTS / "pERK.tif", blot="2", **kwargs)
    both = tr.western.combine([one, two])
    summary = both["summary"].set_index("condition")
    assert (summary["n"] == 2).all()
    assert summary.loc["parental | larotrectinib | 1000 nM", "geometric_mean"] == pytest.approx(
        DESIGN[3], rel=0.05
    )
    with pytest.raises(InputError):
        tr.western.blot(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown option"):
        tr.western.blot(BLOTS / "pERK.tif", lane=8)
    with pytest.raises(InputError, match="nothing to combine"):
        tr.western.combine([])


def test_study_section_with_the_example(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "s"
    shutil.copytree(BLOTS, folder / "western")
    manifest = ("name: blots\ninputs:\n  - {id: b1, kind: western, path: western/pERK.tif, target: pERK,"
                " loading_control: western/GAPDH.tif, layout: western/lanes.tsv}\n"
                "options:\n  western: {lanes: 8, doublet: sum}\n")  # fmt: skip
    write_study(folder, manifest)
    result = tr.study.run(folder)
    q = result.tables["western_quantified"].sort_values("lane")
    assert np.allclose(q["fold_change"], DESIGN, rtol=0.05)
    assert "western_replicates" in result.tables


def test_manifest_refuses_western_fields_on_other_kinds(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s", "name: x\ninputs:\n  - {kind: tumour_volumes, path: v.csv, "
                         "target: pERK}\n", {"v.csv": "a\n"})  # fmt: skip
    with pytest.raises(TrkresError, match="'target' applies to inputs of kind 'western' only"):
        tr.study.run(folder)


def test_review_fixes_saturated_reference_lane_counts_rois_and_which(tmp_path: Path) -> None:
    from trkres.assays.western.synthetic import synthetic_blot

    # a saturated control lane is never the fold-change reference (no loading control)
    raw, _truth = synthetic_blot(3, n_lanes=6, clipped_lanes=[0], empty_lanes=[])
    layout = pd.DataFrame({"lane": range(1, 7), "treatment": ["DMSO"] + ["drug"] * 5,
                           "role": ["control"] + ["sample"] * 5})  # fmt: skip
    res = run_blot(raw, BlotOptions(lanes=6), layout=layout)
    q = res["quantified"]
    assert q["fold_change"].isna().all() and q["control_value"].isna().all()
    # more lanes asked than the blot holds: a warning, not a quiet guess
    res = run_blot(BLOTS / "pERK.tif", BlotOptions(lanes=12), layout=BLOTS / "lanes.tsv")
    assert any("12 lanes asked, 8 fit" in w for w in res.warnings)
    res = run_blot(BLOTS / "pERK.tif", BlotOptions(lanes=16), layout=BLOTS / "lanes.tsv")
    assert any("show no lane signal" in w for w in res.warnings)
    assert any("the layout names lanes" in w for w in res.warnings)
    # absurd ROI cells are input errors
    rois = tmp_path / "rois.tsv"
    rois.write_text("lane\tband\tx0\tx1\ty0\ty1\n1\t1\t0\t1e20\t0\t5\n")
    with pytest.raises(InputError, match="out of range"):
        run_blot(BLOTS / "pERK.tif", rois=rois)
    example = run_blot(BLOTS / "pERK.tif", BlotOptions(lanes=8))
    with pytest.raises(InputError, match="bad which"):
        tr.pl.blot_overlay(example, which="a")  # type: ignore[arg-type]


def test_overlapping_rois_are_a_warning_and_band_index_needs_band_index(tmp_path: Path) -> None:
    rois = tmp_path / "rois.tsv"
    rois.write_text("lane\tband\tx0\tx1\ty0\ty1\n1\t1\t15\t45\t90\t110\n1\t2\t15\t45\t100\t121\n"
                    "2\t1\t65\t95\t90\t110\n")  # fmt: skip
    res = run_blot(BLOTS / "pERK.tif", rois=rois)
    assert any("overlap in lane(s) 1" in w for w in res.warnings)
    assert not any("lane(s) 2" in w for w in res.warnings)
    with pytest.raises(InputError, match="band_index only with band index"):
        tr.western.blot(BLOTS / "pERK.tif", band_index=2)


# -- adversarial review, 2026-12-07 -----------------------------------------------------


def test_boxes_on_one_band_of_a_doublet_warn_of_a_background_on_signal() -> None:
    """Boxes on the upper band of each doublet only (exactly the boxes trkres detects):
    the local background took the unboxed lower band as background, volumes fell far
    below zero, and nothing said so."""
    from trkres.assays.western.synthetic import synthetic_blot

    raw, _truth = synthetic_blot(1, n_lanes=6)
    detected = run_blot(raw, BlotOptions(lanes=6))
    assert not any("below zero" in w for w in detected.warnings)
    rois = detected["rois"]
    upper = rois[rois["band"] == 1].reset_index(drop=True)
    res = run_blot(raw, BlotOptions(lanes=6), rois=upper)
    assert (res["bands"]["volume"] < 0).any()
    assert any("below zero" in w and "background was taken on signal" in w for w in res.warnings)


def test_a_layout_of_several_blots_needs_the_blot_named(tmp_path: Path) -> None:
    layout = pd.DataFrame({"blot": ["1"] * 8 + ["2"] * 8, "lane": list(range(1, 9)) * 2,
                           "treatment": (["DMSO"] + ["drug"] * 7) * 2,
                           "role": (["control"] + ["sample"] * 7) * 2})  # fmt: skip
    with pytest.raises(InputError, match="several blots") as info:
        run_blot(BLOTS / "pERK.tif", BlotOptions(lanes=8), layout=layout)
    assert "1, 2" in str(info.value.expected)
    with pytest.raises(InputError, match="several blots"):
        run_blot(BLOTS / "pERK.tif", BlotOptions(lanes=8), layout=layout, blot="A")
    res = run_blot(BLOTS / "pERK.tif", BlotOptions(lanes=8), layout=layout, blot="2")
    assert (res["quantified"]["blot"].astype(str) == "2").all()
    out = tmp_path / "out"
    path = tmp_path / "layout.tsv"
    layout.to_csv(path, sep="\t", index=False)
    cli = CliRunner().invoke(app, ["blot", str(BLOTS / "pERK.tif"), "--lanes", "8", "--layout",
                                   str(path), "--blot", "2", "--no-figures", "-o", str(out)])  # fmt: skip
    assert cli.exit_code == 0, cli.output


def test_duplicate_boxes_in_a_frame_are_refused_as_in_a_file() -> None:
    rois = pd.DataFrame({"lane": [1, 1, 2], "band": [1, 1, 1], "x0": [13, 13, 72],
                         "x1": [62, 62, 121], "y0": [117, 244, 120], "y1": [135, 266, 138]})  # fmt: skip
    with pytest.raises(InputError, match="ROI given twice"):
        run_blot(BLOTS / "pERK.tif", rois=rois)
