"""Western quantification on hand-made bands tables: lane signals, ratios, fold change,
replicate statistics (checked against closed forms), the linear range and the loading CV."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trkres.assays.western.layout import read_layout
from trkres.assays.western.quantify import (
    SIGNAL_COLUMNS,
    check_linear_range,
    compare_conditions,
    fold_change,
    lane_signals,
    linear_range,
    loading_cv,
    normalise,
    phospho_total,
    replicate_summary,
)
from trkres.errors import InputError


def bands(
    volumes: list[float | list[float]],
    *,
    image: str = "blot.tif",
    rows: tuple[float, ...] = (100.0,),
    saturated: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
    blot: str | None = None,
) -> pd.DataFrame:
    """A bands table (measure's contract): lane i+1 holds the volumes of ``volumes[i]``,
    band k centred on row ``rows[k]`` (10 px high)."""
    out = []
    for lane, vols in enumerate(volumes, start=1):
        for k, (v, y) in enumerate(zip(np.atleast_1d(vols), rows, strict=False), start=1):
            out.append({"image": image, "lane": lane, "band": k, "x0": 20 * lane, "x1": 20 * lane + 15,
                        "y0": y - 5, "y1": y + 5, "volume": float(v), "area": 150.0, "peak": 900.0,
                        "background": 12.0, "saturated": (lane, k) in saturated})  # fmt: skip
    frame = pd.DataFrame(out)
    if blot is not None:
        frame["blot"] = blot
    return frame


def signals(
    values: list[float], target: str, *, blot: str = "1", saturated: tuple[int, ...] = ()
) -> pd.DataFrame:
    return pd.DataFrame({"blot": blot, "lane": range(1, len(values) + 1), "target": target,
                         "signal": values, "saturated": [i + 1 in saturated for i in range(len(values))],
                         "bands": "1", "y_center": 100.0, "note": ""})  # fmt: skip


# ------------------------------------------------------------------ lane signals
def test_band_choice_largest_index_position_and_lane_total() -> None:
    table = bands([[300, 900, 50], [200, 100, 700]], rows=(60, 100, 140))
    largest = lane_signals(table, "TRKA")
    assert list(largest.columns) == SIGNAL_COLUMNS
    # One row for the blot: lane 1's largest (row 100: 900 + 100 over the lanes) beats
    # lane 2's (row 140: 50 + 700); lane 2 is read on row 100 too, with a note.
    assert largest["signal"].tolist() == [900, 100] and largest["bands"].tolist() == ["2", "2"]
    assert largest["note"].iloc[0] == "" and "not this lane's largest" in largest["note"].iloc[1]
    assert lane_signals(table, "TRKA", which="index", band=1)["signal"].tolist() == [300, 200]
    pos = lane_signals(table, "TRKA", which="position", y=62)
    assert pos["signal"].tolist() == [300, 200] and (pos["note"] == "").all()
    far = lane_signals(table, "TRKA", which="position", y=80)  # between bands 1 and 2
    assert far["note"].str.contains("outside").all()
    total = lane_signals(table, "stain", which="lane-total")
    assert total["signal"].tolist() == [1250, 1000] and total["bands"].tolist() == [
        "1+2+3",
        "1+2+3",
    ]


def test_doublets_summed_or_kept_apart() -> None:
    # ERK1 (44 kDa, upper, row 95) and ERK2 (42 kDa, lower, row 108); a far band at row 40
    table = bands(
        [[50, 400, 600], [60, 300, 900], [70, 500]], rows=(40, 95, 108), saturated={(2, 2)}
    )
    summed = lane_signals(table, "ERK", doublet="sum")
    assert summed["signal"].tolist() == [1000, 1200, 570]
    assert summed["saturated"].tolist() == [False, True, False]
    assert summed["bands"].tolist() == ["3+2", "3+2", "2+1"]
    apart = lane_signals(
        table, "ERK", which="position", y=100, doublet="separate", doublet_names=("ERK1", "ERK2")
    )
    wide = apart.pivot(index="lane", columns="target", values="signal")
    # lane 3 has bands at rows 40 and 95 only: the pair is those two, the upper one first
    assert wide["ERK1"].tolist() == [400, 300, 70] and wide["ERK2"].tolist() == [600, 900, 500]
    one = lane_signals(bands([[400], [300]]), "ERK", doublet="separate")
    assert one["signal"].isna().all() and one["note"].str.contains("not resolved").all()
    assert (
        lane_signals(bands([[400], [300]]), "ERK", doublet="sum")["note"]
        .str.contains("one band")
        .all()
    )


def test_lanes_without_bands_are_kept_and_several_images_need_a_blot() -> None:
    out = lane_signals(bands([100, 200]), "GAPDH", lanes=[1, 2, 3])
    assert out["lane"].tolist() == [1, 2, 3] and np.isnan(out["signal"].iloc[2])
    assert out["note"].iloc[2] == "no band in this lane"
    two = pd.concat([bands([1, 2], image="a.tif"), bands([3, 4], image="b.tif")])
    with pytest.raises(InputError, match="several images"):
        lane_signals(two, "GAPDH")
    with_blot = pd.concat(
        [bands([1, 2], image="a.tif", blot="1"), bands([3, 4], image="b.tif", blot="2")]
    )
    assert lane_signals(with_blot, "GAPDH")["blot"].tolist() == ["1", "1", "2", "2"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="volume"), "lacks columns"),
        (lambda f: f.assign(volume="lots"), "volume is not a number"),
        (lambda f: f.assign(lane=1.5), "not a whole number"),
        (lambda f: f.assign(saturated="maybe"), "saturated is not true/false"),
        (lambda f: f.iloc[:0], "empty"),
        (lambda f: [1, 2], "not a table"),
    ],
)
def test_bad_bands_tables_are_input_errors(change: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        lane_signals(change(bands([1.0, 2.0])), "X")  # type: ignore[operator]


def test_band_choice_arguments_are_checked() -> None:
    with pytest.raises(InputError, match="needs a band number"):
        lane_signals(bands([1.0]), "X", which="index")
    with pytest.raises(InputError, match="needs a row"):
        lane_signals(bands([1.0]), "X", which="position")
    with pytest.raises(InputError, match="unknown band choice"):
        lane_signals(bands([1.0]), "X", which="biggest")  # type: ignore[arg-type]


# ------------------------------------------------------------------ ratios
def test_normalise_to_a_loading_control_and_never_a_saturated_band_silently() -> None:
    target = lane_signals(bands([800, 600, 400, 900], saturated={(4, 1)}), "pTRKA")
    gapdh = lane_signals(bands([4000, 3000, 0, 4500], image="gapdh.tif"), "GAPDH")
    out = normalise(target, gapdh)
    assert out["ratio"].iloc[:2].tolist() == [0.2, 0.2]
    assert np.isnan(out["ratio"].iloc[2]) and "GAPDH <= 0" in out["note"].iloc[2]
    assert np.isnan(out["ratio"].iloc[3]) and "pTRKA saturated" in out["note"].iloc[3]
    assert out["target_signal"].iloc[3] == 900  # the raw value stays visible
    sat_gapdh = signals([4000, 3000, 2000, 4500], "GAPDH", saturated=(1,))
    assert "GAPDH saturated" in normalise(target, sat_gapdh)["note"].iloc[0]


def test_mismatched_lanes_are_input_errors() -> None:
    target = signals([1, 2, 3, 4], "pERK")
    with pytest.raises(InputError, match="mismatched lane counts") as err:
        normalise(target, signals([1, 2, 3], "GAPDH"))
    assert "4 lanes" in str(err.value.expected) and "3 lanes" in str(err.value.found)
    other = signals([1, 2, 3, 4], "GAPDH").assign(lane=[1, 2, 3, 5])
    with pytest.raises(InputError, match="mismatched lane numbers"):
        normalise(target, other)
    with pytest.raises(InputError, match="has no loading control"):
        normalise(target, signals([1, 2, 3, 4], "GAPDH", blot="2"))


def test_phospho_total_with_and_without_loading_controls() -> None:
    p, t = signals([600, 300], "pERK"), signals([1200, 1500], "ERK")
    plain = phospho_total(p, t)
    assert plain["ratio"].tolist() == [0.5, 0.2] and plain["target"].iloc[0] == "pERK/ERK"
    assert plain["normalisation"].iloc[0].startswith("none")
    # phospho and total on two membranes, each with its own GAPDH
    lp, lt = signals([2000, 1000], "GAPDH"), signals([1000, 1000], "GAPDH")
    both = phospho_total(p, t, phospho_loading=lp, total_loading=lt)
    assert both["ratio"].tolist() == pytest.approx(
        [(600 / 2000) / (1200 / 1000), (300 / 1000) / (1500 / 1000)]
    )
    assert both["normalisation"].iloc[0].startswith("each to its loading control")
    with pytest.raises(InputError, match="one loading control"):
        phospho_total(p, t, phospho_loading=lp)
    sat = phospho_total(
        p, t, phospho_loading=signals([2000, 1000], "GAPDH", saturated=(2,)), total_loading=lt
    )
    assert np.isnan(sat["ratio"].iloc[1]) and "GAPDH saturated" in sat["note"].iloc[1]


# ------------------------------------------------------------------ fold change and replicates
def _layout() -> pd.DataFrame:
    rows = []
    for blot in ("1", "2", "3"):
        rows += [{"blot": blot, "lane": 1, "treatment": "DMSO", "role": "control"},
                 {"blot": blot, "lane": 2, "treatment": "larotrectinib"},
                 {"blot": blot, "lane": 3, "treatment": "larotrectinib" if blot == "1" else "trametinib"},
                 {"blot": blot, "lane": 4, "treatment": "", "role": "ladder"}]  # fmt: skip
    return read_layout(pd.DataFrame(rows))


def _ratios() -> pd.DataFrame:
    """pERK/ERK per lane: the control's ratio differs per blot; log2 fold changes are
    larotrectinib -0.5 and -1.5 (blot 1, technical lanes: mean -1), -2 (blot 2), -1.5
    (blot 3); trametinib -0.5 (blot 2), -1.5 (blot 3)."""
    control = {"1": 0.8, "2": 1.2, "3": 2.0}
    log2fc = {"1": [0.0, -0.5, -1.5, 0.0], "2": [0.0, -2.0, -0.5, 0.0], "3": [0.0, -1.5, -1.5, 0.0]}
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "blot": b,
                    "lane": [1, 2, 3, 4],
                    "target": "pERK/ERK",
                    "ratio": control[b] * np.exp2(log2fc[b]),
                    "note": "",
                }
            )
            for b in control
        ]
    )


def test_fold_change_against_the_control_lane_of_the_same_blot() -> None:
    fc = fold_change(_ratios(), _layout())
    one = fc[fc["blot"] == "1"].set_index("lane")
    assert one.loc[1, "fold_change"] == pytest.approx(1.0)
    assert one.loc[2, "log2_fold_change"] == pytest.approx(-0.5)
    assert one.loc[1, "control_value"] == pytest.approx(0.8)
    assert np.isnan(one.loc[4, "fold_change"]) and "ladder lane" in one.loc[4, "note"]
    assert {"condition", "treatment", "role", "replicate"} <= set(fc.columns)


def test_fold_change_degenerate_controls_are_labelled() -> None:
    layout = read_layout(pd.DataFrame({"blot": ["1"] * 4 + ["2"] * 2, "lane": [1, 2, 3, 4, 1, 2],
                                       "treatment": ["DMSO", "DMSO", "laro", "laro", "laro", "laro"],
                                       "role": ["control", "control", "", "", "", ""]}))  # fmt: skip
    ratios = pd.DataFrame({"blot": ["1"] * 5 + ["2"] * 2, "lane": [1, 2, 3, 4, 5, 1, 2],
                           "target": "pTRK/GAPDH", "ratio": [1.0, 4.0, 1.0, np.nan, 3.0, 1.0, 2.0]})  # fmt: skip
    fc = fold_change(ratios, layout).set_index(["blot", "lane"])
    # two control lanes: their geometric mean (2) is the reference
    assert fc.loc[("1", 3), "control_value"] == pytest.approx(2.0)
    assert fc.loc[("1", 3), "fold_change"] == pytest.approx(0.5)
    assert fc.loc[("1", 3), "n_control_lanes"] == 2
    assert np.isnan(fc.loc[("1", 4), "fold_change"])
    assert "lane not in the layout" in fc.loc[("1", 5), "note"]
    assert (
        np.isnan(fc.loc[("2", 1), "fold_change"]) and "no control lane" in fc.loc[("2", 1), "note"]
    )
    # a control whose value is not quantifiable
    bad = ratios.assign(ratio=[np.nan, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert "control lane(s) not quantifiable" in fold_change(bad, layout)["note"].iloc[2]
    # the control chosen by a layout column instead of the role
    by_dict = fold_change(
        ratios.iloc[5:], layout, control={"treatment": "laro", "blot": "2", "lane": 1}
    )
    assert by_dict["fold_change"].tolist() == pytest.approx([1.0, 2.0])
    with pytest.raises(InputError, match="no lane matches"):
        fold_change(ratios, layout, control={"treatment": "vehicle"})


def test_fold_changes_do_not_depend_on_the_loading_scale_of_a_blot() -> None:
    layout = read_layout(pd.DataFrame({"lane": [1, 2, 3], "treatment": ["DMSO", "a", "b"],
                                       "role": ["control", "", ""]}))  # fmt: skip
    target = signals([500, 250, 100], "pAKT")
    gapdh = signals([1000, 900, 1100], "GAPDH")
    base = fold_change(normalise(target, gapdh), layout)["fold_change"].to_numpy()
    scaled = fold_change(normalise(target, gapdh.assign(signal=gapdh["signal"] * 7.3)), layout)
    assert scaled["fold_change"].to_numpy() == pytest.approx(base)
    assert base == pytest.approx([1.0, 250 / 900 / 0.5, 100 / 1100 / 0.5])


def test_replicate_summary_log_scale_t_interval() -> None:
    summary = replicate_summary(fold_change(_ratios(), _layout())).set_index("condition")
    laro = summary.loc["larotrectinib"]
    # units (blots): -1 (mean of the technical lanes -0.5, -1.5), -2, -1.5
    assert laro["n"] == 3
    assert laro["mean_log2"] == pytest.approx(-1.5)
    assert laro["sd_log2"] == pytest.approx(0.5)
    t975_df2 = 4.302652729911275
    assert laro["ci_low_log2"] == pytest.approx(-1.5 - t975_df2 * 0.5 / math.sqrt(3))
    assert laro["ci_high"] == pytest.approx(2 ** (-1.5 + t975_df2 * 0.5 / math.sqrt(3)))
    assert laro["geometric_mean"] == pytest.approx(2**-1.5)
    tram = summary.loc["trametinib"]
    assert tram["n"] == 2 and tram["mean_log2"] == pytest.approx(-1.0)
    assert summary.loc["DMSO", "sd_log2"] == 0.0
    assert "ladder" not in summary.index


def test_one_replicate_and_no_replicate_are_labelled() -> None:
    fc = fold_change(_ratios(), _layout())
    fc.loc[(fc["blot"] != "1") & (fc["lane"] == 2), "fold_change"] = np.nan
    fc.loc[fc["lane"] == 1, "fold_change"] = 0.0
    s = replicate_summary(fc).set_index("condition")
    assert (
        s.loc["larotrectinib", "n"] == 1
        and s.loc["larotrectinib", "note"] == "one replicate: no SD or CI"
    )
    assert np.isnan(s.loc["larotrectinib", "ci_low"])
    assert s.loc["DMSO", "n"] == 0 and s.loc["DMSO", "note"] == "no quantifiable replicate"
    assert s.loc["DMSO", "n_lanes_excluded"] == 3


def test_tests_paired_when_every_blot_has_both_welch_otherwise_holm_adjusted() -> None:
    tests = compare_conditions(fold_change(_ratios(), _layout())).set_index("condition_b")
    laro = tests.loc["larotrectinib"]
    assert laro["condition_a"] == "DMSO" and laro["test"].startswith("paired t-test")
    # paired differences -1, -2, -1.5: t = -1.5 / (0.5 / sqrt 3), df 2, p = 1 - t / sqrt(t^2 + 2)
    t = -1.5 / (0.5 / math.sqrt(3))
    p_laro = 1 - abs(t) / math.sqrt(t * t + 2)
    assert (
        laro["t"] == pytest.approx(t)
        and laro["df"] == 2
        and laro["p_value"] == pytest.approx(p_laro)
    )
    assert laro["ratio"] == pytest.approx(2**-1.5) and laro["n_pairs"] == 3
    tram = tests.loc["trametinib"]
    # trametinib only on blots 2 and 3: Welch; DMSO log2 (0, 0, 0) has no variance,
    # trametinib (-0.5, -1.5): se = sqrt(0.5 / 2) = 0.5, t = -2, df = 1, p = 1 - 2 atan(2) / pi
    assert tram["test"].startswith("Welch") and tram["n_pairs"] == 0
    assert tram["t"] == pytest.approx(-2.0) and tram["df"] == pytest.approx(1.0)
    p_tram = 1 - 2 * math.atan(2.0) / math.pi
    assert tram["p_value"] == pytest.approx(p_tram)
    assert laro["p_adjusted"] == pytest.approx(2 * p_laro)  # Holm: the smaller p times 2
    assert tram["p_adjusted"] == pytest.approx(max(2 * p_laro, p_tram))
    assert laro["adjust"] == "holm across 2 comparisons"
    one = compare_conditions(
        fold_change(_ratios(), _layout()), comparisons=[("DMSO", "trametinib")]
    )
    assert one["p_adjusted"].iloc[0] == pytest.approx(p_tram)


def test_too_few_replicates_give_no_test_but_a_row() -> None:
    fc = fold_change(_ratios(), _layout())
    fc = fc[fc["blot"] == "1"]
    out = compare_conditions(fc, reference="DMSO")
    assert np.isnan(out["p_value"]).all() and out["note"].str.contains("fewer than 2").all()
    with pytest.raises(InputError, match="condition not found"):
        compare_conditions(fc, reference="vehicle")


# ------------------------------------------------------------------ QC
def _dilution(ys: list[float], saturated: tuple[int, ...] = ()) -> pd.DataFrame:
    sig = signals(ys, "GAPDH", saturated=saturated)
    layout = read_layout(pd.DataFrame({"lane": range(1, len(ys) + 1), "role": "dilution",
                                       "amount": [1, 2, 4, 8, 16, 32][: len(ys)], "amount_unit": "ug"}))  # fmt: skip
    return linear_range(sig, layout)


def test_linear_range_of_a_dilution_series() -> None:
    exact = _dilution([100, 200, 400, 800, 1600, 3200]).iloc[0]
    assert exact["r2"] == pytest.approx(1.0) and exact["slope"] == pytest.approx(100.0)
    assert exact["linear_high"] == 32 and exact["n_linear"] == 6 and exact["amount_unit"] == "ug"
    # saturating above 8 ug: the range stops there
    curved = _dilution([100, 200, 400, 800, 1000, 1050]).iloc[0]
    assert curved["linear_low"] == 1 and curved["linear_high"] == 8 and curved["n_linear"] == 4
    assert curved["r2_linear"] == pytest.approx(1.0) and curved["r2"] < 0.8
    assert curved["signal_high"] == 800
    # noise within 10% keeps the whole series; a saturated point is left out and noted
    noisy = _dilution([106, 190, 410, 790, 1620, 3150]).iloc[0]
    assert noisy["n_linear"] == 6 and 0.999 < noisy["r2"] < 1.0
    sat = _dilution([100, 200, 400, 800, 1600, 3200], saturated=(6,)).iloc[0]
    assert sat["n_points"] == 5 and sat["linear_high"] == 16 and "saturated" in sat["note"]
    few = _dilution([100, 200]).iloc[0]
    assert np.isnan(few["r2"]) and "fewer than 3" in few["note"]


def test_linear_range_rule_is_ten_percent_of_the_fit() -> None:
    # 4 points on y = 100 x, then a fifth point off the line by a chosen fraction
    def fifth(off: float) -> float:
        return float(_dilution([100, 200, 400, 800, 1600 * (1 + off)]).iloc[0]["linear_high"])

    # judged against the line through the 4 points below it (1600 predicted)
    assert fifth(0.09) == 16 and fifth(-0.09) == 16
    assert fifth(0.11) == 8 and fifth(-0.11) == 8
    bent = _dilution([100, 300, 400, 800]).iloc[0]  # the 3 lowest are not on a line
    assert (
        bent["n_linear"] == 0
        and np.isnan(bent["linear_high"])
        and "no linear range" in bent["note"]
    )
    series = _dilution([100, 200, 400, 800, 1000, 1050])
    assert "10%" in series["rule"].iloc[0]


def test_loading_control_cv_and_its_flag() -> None:
    layout = read_layout(pd.DataFrame({"lane": [1, 2, 3, 4], "sample": ["a", "b", "c", ""],
                                       "role": ["", "", "", "ladder"]}))  # fmt: skip
    even = loading_cv(signals([100, 120, 80, 5], "GAPDH"), layout).iloc[0]
    assert even["n_lanes"] == 3 and even["cv"] == pytest.approx(0.2) and not even["flag"]
    uneven = loading_cv(signals([100, 130, 70, 5], "GAPDH"), layout).iloc[0]
    assert (
        uneven["cv"] == pytest.approx(0.3) and uneven["flag"] and "uneven loading" in uneven["note"]
    )
    sat = loading_cv(signals([100, 130, 70, 5], "GAPDH", saturated=(2,)), layout).iloc[0]
    assert sat["n_lanes"] == 2 and sat["n_excluded"] == 1 and "left out" in sat["note"]
    assert sat["cv"] == pytest.approx(np.std([100, 70], ddof=1) / 85)
    lone = loading_cv(signals([100], "GAPDH")).iloc[0]
    assert np.isnan(lone["cv"]) and not lone["flag"] and "fewer than 2" in lone["note"]
    assert loading_cv(signals([100, 130, 70], "GAPDH"), threshold=0.35)["flag"].iloc[0] == np.False_


def test_the_whole_chain_from_bands_tables() -> None:
    """Two blots: pERK (doublet), ERK and GAPDH images -> pERK/ERK fold changes with CIs."""
    layout = read_layout(pd.DataFrame({"blot": ["A"] * 3 + ["B"] * 3, "lane": [1, 2, 3] * 2,
                                       "treatment": ["DMSO", "laro", "laro"] * 2, "dose": ["0", "100 nM", "1 uM"] * 2,
                                       "role": ["control", "", ""] * 2}))  # fmt: skip
    perk = pd.concat([bands([[500, 500], [250, 250], [100, 100]], rows=(95, 108), blot="A"),
                      bands([[600, 600], [300, 300], [120, 120]], rows=(95, 108), blot="B")])  # fmt: skip
    erk = pd.concat([bands([2000, 2000, 2000], blot="A"), bands([1000, 1000, 1000], blot="B")])
    p = lane_signals(perk, "pERK", doublet="sum")
    t = lane_signals(erk, "ERK")
    fc = fold_change(phospho_total(p, t), layout)
    s = replicate_summary(fc).set_index("condition")
    assert s.loc["laro | 100 nM", "geometric_mean"] == pytest.approx(0.5)
    assert s.loc["laro | 1 uM", "geometric_mean"] == pytest.approx(0.2)
    assert s.loc["laro | 1 uM", "sd_log2"] == pytest.approx(0.0)


# ------------------------------------------------------------------ degenerate data
@settings(max_examples=25, deadline=None)
@given(
    volumes=st.lists(
        st.one_of(st.floats(-100, 1e6), st.just(0.0), st.just(float("nan"))),
        min_size=2,
        max_size=24,
    ),
    saturated=st.lists(st.booleans(), min_size=24, max_size=24),
    n_blots=st.integers(1, 3),
    controls=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_any_numbers_give_labelled_tables_never_a_traceback(
    volumes: list[float], saturated: list[bool], n_blots: int, controls: list[bool]
) -> None:
    n_lanes = max(1, len(volumes) // n_blots)
    rows = []
    for b in range(n_blots):
        for lane in range(1, n_lanes + 1):
            v = volumes[(b * n_lanes + lane - 1) % len(volumes)]
            rows.append({"image": "x", "blot": str(b + 1), "lane": lane, "band": 1, "x0": 0, "x1": 5,
                         "y0": 10, "y1": 20, "volume": v, "area": 50, "peak": 1.0, "background": 0.0,
                         "saturated": saturated[(b * n_lanes + lane) % 24]})  # fmt: skip
    target = lane_signals(pd.DataFrame(rows), "pTRK")
    loading = lane_signals(
        pd.DataFrame(rows).assign(volume=lambda f: f["volume"][::-1].to_numpy()), "GAPDH"
    )
    layout = read_layout(
        pd.DataFrame(
            [
                {
                    "blot": str(b + 1),
                    "lane": lane,
                    "treatment": "DMSO" if controls[lane % 8] else f"d{lane % 3}",
                    "role": "control" if controls[lane % 8] else "sample",
                    "replicate": "1",
                }
                for b in range(n_blots)
                for lane in range(1, n_lanes + 1)
            ]
        )
    )
    ratios = normalise(target, loading)
    assert len(ratios) == n_blots * n_lanes
    # a ratio is a number only when both bands are unsaturated and the loading signal is > 0
    ok = ratios["ratio"].notna()
    assert not (ok & (ratios["target_saturated"] | ratios["loading_saturated"])).any()
    assert (ratios.loc[ok, "loading_signal"] > 0).all()
    assert (ratios.loc[~ok, "note"] != "").all()
    fc = fold_change(ratios, layout)
    # every missing fold change says why, except in a blot whose control is itself (1 exactly)
    missing = fc["fold_change"].isna()
    assert (fc.loc[missing, "note"] != "").all()
    summary = replicate_summary(fc)
    assert (summary.loc[summary["n"] < 2, "note"] != "").all()
    compare_conditions(fc)
    loading_cv(loading, layout)
    linear_range(loading, layout)


def test_lanes_are_checked_against_the_linear_range() -> None:
    layout = read_layout(pd.DataFrame({"lane": range(1, 9),
                                       "role": ["dilution"] * 5 + ["control", "sample", "sample"],
                                       "amount": ["1", "2", "4", "8", "16", "", "", ""],
                                       "treatment": [""] * 5 + ["DMSO", "a", "b"]}))  # fmt: skip
    sig = signals([100, 200, 400, 800, 1000, 50, 500, 900], "TRKA")
    ranges = linear_range(sig, layout)
    assert ranges["signal_low"].iloc[0] == 100 and ranges["signal_high"].iloc[0] == 800
    checked = check_linear_range(sig, ranges).set_index("lane")
    assert checked.loc[[6, 7, 8], "linear_range"].tolist() == ["below", "within", "above"]
    assert "above the linear range" in checked.loc[8, "note"] and checked.loc[7, "note"] == ""
    other = check_linear_range(signals([1.0, np.nan], "GAPDH"), ranges)
    assert other["linear_range"].tolist() == ["no range", "not measured"]


def test_a_lane_without_the_chosen_band_stays_with_a_note() -> None:
    table = bands([[300, 900], [200]], rows=(60, 100))
    for doublet in (None, "sum", "separate"):
        out = lane_signals(table, "X", which="index", band=2, doublet=doublet)  # type: ignore[arg-type]
        lane2 = out[out["lane"] == 2]
        assert len(lane2) == (2 if doublet == "separate" else 1)
        assert lane2["signal"].isna().all() and (lane2["note"] == "no band 2").all()
    assert lane_signals(table, "X", which="index", band=2, doublet="sum")["signal"].iloc[0] == 1200


def test_layouts_may_be_raw_tables_or_paths(tmp_path: Path) -> None:
    raw = pd.DataFrame(
        {"lane": [1, 2], "treatment": ["DMSO", "laro"], "role": ["control", "sample"]}
    )
    path = tmp_path / "lanes.csv"
    raw.to_csv(path, index=False)
    values = signals([2.0, 1.0], "pTRK")
    for layout in (raw, path, str(path)):
        fc = fold_change(values, layout, value="signal")
        assert fc["fold_change"].tolist() == [1.0, 0.5] and fc["condition"].tolist() == [
            "DMSO",
            "laro",
        ]
    with pytest.raises(InputError, match="not a lane layout"):
        fold_change(values, 3, value="signal")  # type: ignore[arg-type]


def test_a_saturated_band_flags_its_lane_but_not_another_band_of_it() -> None:
    table = bands([[900, 300], [800, 200]], rows=(60, 100), saturated={(1, 1)})
    other = lane_signals(table, "AKT", which="index", band=2)
    assert other["saturated"].tolist() == [False, False]
    assert other["lane_saturated"].tolist() == [True, False]
    assert "another band of the lane is saturated" in other["note"].iloc[0]
    ratio = normalise(other, signals([100.0, 100.0], "GAPDH"))
    assert ratio["ratio"].tolist() == [3.0, 2.0]  # flagged, still quantified
    chosen = lane_signals(table, "AKT")
    assert chosen["saturated"].tolist() == [True, False] and chosen["lane_saturated"].tolist() == [
        True,
        False,
    ]


def test_largest_band_is_one_row_for_the_whole_blot() -> None:
    """Lanes 3 and 6 have more of the upper protein: each lane took its own largest band,
    so their fold changes compared another protein with the control's (adversarial review)."""
    upper = [100, 120, 900, 90, 80, 700]
    lower = [800, 850, 5, 820, 60, 40]
    table = bands([[u, d] for u, d in zip(upper, lower, strict=True)], rows=(150, 255))
    got = lane_signals(table, "pERK")
    assert got["signal"].tolist() == lower and (got["bands"] == "2").all()
    noted = got["note"].str.contains("not this lane's largest")
    assert noted.tolist() == [False, False, True, False, True, True]


def test_differences_equal_up_to_rounding_get_no_test() -> None:
    """Three blots that are rescaled copies of one blot: the paired log2 differences are
    equal but for the last bits; a t-test on them said t = -1.6e16, p = 4e-33."""
    rows = []
    for blot, scale in (("1", 1.0), ("2", 3.7), ("3", 0.29)):
        rows.append(pd.DataFrame({"blot": blot, "lane": [1, 2], "target": "pERK/ERK",
                                  "ratio": scale * np.array([0.83, 0.83 * 0.37]), "note": ""}))  # fmt: skip
    ratios = pd.concat(rows, ignore_index=True)
    layout = read_layout(pd.DataFrame({"blot": ["1", "1", "2", "2", "3", "3"], "lane": [1, 2] * 3,
                                       "treatment": ["DMSO", "laro"] * 3,
                                       "role": ["control", "sample"] * 3}))  # fmt: skip
    out = compare_conditions(fold_change(ratios, layout), reference="DMSO").iloc[0]
    assert np.isnan(out["p_value"]) and "no variance" in out["note"]
    assert out["ratio"] == pytest.approx(0.37)
