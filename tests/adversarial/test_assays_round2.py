"""Adversarial assay inputs, round 2 (issue 12): duplicate column names, input counted twice,
rain called as detection, absurd droplet volumes, encodings of instrument exports."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trkres.assays.ddpcr.droplets import Droplets, classify_droplets
from trkres.assays.ddpcr.io import read_ddpcr_export
from trkres.assays.ddpcr.options import DdpcrOptions
from trkres.assays.ddpcr.pipeline import quantify, wells_from_droplets
from trkres.assays.ddpcr.run import run_ddpcr
from trkres.assays.doseresponse.grmetrics import read_gr_checked
from trkres.assays.doseresponse.io import read_long_checked
from trkres.assays.plates.wells import read_plate_map
from trkres.assays.synergy.io import read_combinations
from trkres.errors import InputError

FEW = settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])

EXPORT_HEADER = (
    "Well,Sample,TargetType,Target,Positives,Negatives,AcceptedDroplets,"
    "Ch1+Ch2+,Ch1+Ch2-,Ch1-Ch2+,Ch1-Ch2-"
)
GOOD = ["A01,s1,Ch1Unknown,MUT,12,14988,15000,2,10,488,14500",
        "A01,s1,Ch2Unknown,WT,490,14510,15000,2,10,488,14500"]  # fmt: skip


def export(path: Path, rows: list[str], header: str = EXPORT_HEADER) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


# --- 1. duplicate column names ---------------------------------------------------------------


def _assert_duplicate(info: pytest.ExceptionInfo[InputError], column: int) -> None:
    loc = info.value.location
    assert loc is not None and loc.line == 1 and loc.column == column
    assert "duplicate column" in str(info.value) and "twice" in str(info.value.found)


def test_dose_response_two_response_columns(tmp_path: Path) -> None:
    path = tmp_path / "dr.csv"
    path.write_text("curve_id,dose,unit,response,response\nc,1,uM,0.5,0.9\nc,2,uM,0.4,0.8\n")
    with pytest.raises(InputError) as info:
        read_long_checked(path)
    _assert_duplicate(info, 5)


def test_dose_response_case_variant_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "dr.tsv"
    path.write_text("curve_id\tDose\tdose\tunit\tresponse\nc\t1\t2\tuM\t0.5\n")
    with pytest.raises(InputError) as info:
        read_long_checked(path)
    _assert_duplicate(info, 3)


def test_gr_duplicate_column(tmp_path: Path) -> None:
    path = tmp_path / "gr.tsv"
    path.write_text("concentration\tGR\tGR\n1\t0.5\t0.1\n")
    with pytest.raises(InputError) as info:
        read_gr_checked(path)
    _assert_duplicate(info, 3)


def test_synergy_duplicate_column(tmp_path: Path) -> None:
    path = tmp_path / "combo.csv"
    path.write_text(
        "block_id,drug_row,drug_col,conc_r,conc_c,response,response,conc_r_unit,conc_c_unit\n"
        "1,a,b,0,0,100,5,uM,uM\n"
    )
    with pytest.raises(InputError) as info:
        read_combinations(path)
    _assert_duplicate(info, 7)


def test_plate_map_duplicate_column_and_alias(tmp_path: Path) -> None:
    path = tmp_path / "map.csv"
    path.write_text("well,role,role\nA1,sample,vehicle\n")
    with pytest.raises(InputError) as info:
        read_plate_map(path)
    _assert_duplicate(info, 3)
    path.write_text("well,role,dose,conc1,unit\nA1,sample,1,2,uM\n")
    with pytest.raises(InputError, match="duplicate column"):
        read_plate_map(path)


def test_ddpcr_duplicate_column(tmp_path: Path) -> None:
    path = export(tmp_path / "plate.csv", [r + ",3" for r in GOOD], EXPORT_HEADER + ",Positives")
    with pytest.raises(InputError) as info:
        read_ddpcr_export(path)
    _assert_duplicate(info, 12)


@FEW
@given(
    names=st.lists(st.sampled_from(["curve_id", "dose", "unit", "response", "x", "note"]),
                   min_size=5, max_size=8),
)  # fmt: skip
def test_generated_headers_with_a_repeat_are_refused(tmp_path: Path, names: list[str]) -> None:
    path = tmp_path / "gen.csv"
    path.write_text(",".join(names) + "\n" + ",".join(["1"] * len(names)) + "\n")
    try:
        read_long_checked(path, dose_unit="uM")
    except InputError as exc:
        if len(set(names)) < len(names):
            assert "duplicate column" in str(exc)
        return
    assert len(set(names)) == len(names)


# --- 4b. encodings of instrument exports -----------------------------------------------------


def test_ddpcr_export_gz_utf16_bom_latin1(tmp_path: Path) -> None:
    text = EXPORT_HEADER + "\n" + "\n".join(GOOD) + "\n"
    plain = read_ddpcr_export(export(tmp_path / "plain.csv", GOOD))
    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(text.encode()))
    (tmp_path / "b.csv").write_bytes(text.encode("utf-16"))
    (tmp_path / "c.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (tmp_path / "d.csv").write_bytes(text.replace("s1", "s\xb5").encode("latin-1"))
    for name in ("a.csv.gz", "b.csv", "c.csv"):
        got = read_ddpcr_export(tmp_path / name)
        assert got["positives"].tolist() == plain["positives"].tolist(), name
    assert read_ddpcr_export(tmp_path / "d.csv")["sample"].tolist() == ["s\xb5", "s\xb5"]


def test_ddpcr_binary_error_has_line(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes((EXPORT_HEADER + "\n" + GOOD[0] + "\n").encode() + b"A02,\x01\x02\n")
    with pytest.raises(InputError) as info:
        read_ddpcr_export(path)
    assert info.value.location is not None and info.value.location.line == 3


# --- 4a. droplet volume bounded ----------------------------------------------------------------


@pytest.mark.parametrize("volume", [1e-300, 0.05, 11.0, 1e300])
def test_absurd_droplet_volume_is_refused(tmp_path: Path, volume: float) -> None:
    with pytest.raises(InputError, match="droplet volume") as info:
        read_ddpcr_export(export(tmp_path / "plate.csv", GOOD), droplet_volume_nl=volume)
    assert "between 0.1 and 10" in str(info.value.expected)


def test_plausible_droplet_volume_is_used(tmp_path: Path) -> None:
    got = read_ddpcr_export(export(tmp_path / "plate.csv", GOOD), droplet_volume_nl=0.72)
    assert (got["droplet_volume_nl"] == 0.72).all()


# --- 2. input counted twice --------------------------------------------------------------------


def test_same_ddpcr_export_twice_is_refused(tmp_path: Path) -> None:
    a = export(tmp_path / "a.csv", GOOD)
    b = tmp_path / "b.csv"
    b.write_bytes(a.read_bytes())
    for files in ([a, a], [a, b]):
        with pytest.raises(InputError, match="twice"):
            run_ddpcr(files, [], DdpcrOptions())


def test_exact_duplicate_well_rows_counted_once_and_reported(tmp_path: Path) -> None:
    rows = [*GOOD, "A02,s1,Ch1Unknown,MUT,30,14970,15000,5,25,400,14570",
            "A02,s1,Ch2Unknown,WT,405,14595,15000,5,25,400,14570"]  # fmt: skip
    once = run_ddpcr([export(tmp_path / "once.csv", rows)], [], DdpcrOptions())
    twice = run_ddpcr([export(tmp_path / "twice.csv", rows + rows)], [], DdpcrOptions())
    assert len(twice["ddpcr_wells"]) == len(once["ddpcr_wells"]) == 4
    assert twice["ddpcr_merged"]["wells"].tolist() == once["ddpcr_merged"]["wells"].tolist()
    issues = twice["ddpcr_issues"]
    assert issues["line"].tolist() == [6, 7, 8, 9]
    assert issues["found"].iloc[0] == "an exact copy of line 2"
    assert "ddpcr_issues" not in once


def test_conflicting_duplicate_well_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    rows = [*GOOD, "A01,s1,Ch1Unknown,MUT,13,14987,15000,3,10,487,14500"]
    with pytest.raises(InputError) as info:
        read_ddpcr_export(export(tmp_path / "p.csv", rows))
    assert info.value.location is not None and info.value.location.line == 4
    assert "lines 2 and 4" in str(info.value.found)


@FEW
@given(copies=st.lists(st.integers(0, 1), min_size=2, max_size=2))
def test_generated_duplicated_rows_never_double_count(tmp_path: Path, copies: list[int]) -> None:
    rows = GOOD + [GOOD[i] for i, c in enumerate(copies) if c]
    got = run_ddpcr([export(tmp_path / "g.csv", rows)], [], DdpcrOptions())
    assert len(got["ddpcr_wells"]) == 2
    assert len(got.get("ddpcr_issues", [])) == sum(copies)


def test_fit_exact_copies_with_well_column_are_counted_once(tmp_path: Path) -> None:
    path = tmp_path / "dr.csv"
    rows = ["curve_id,well,dose,unit,response", "c,A1,1,uM,0.9", "c,A2,1,uM,0.9", "c,A3,10,uM,0.2"]
    path.write_text("\n".join([*rows, rows[3], rows[1]]) + "\n")
    used, issues = read_long_checked(path)
    assert len(used) == 3  # A1 and A2 with equal readings are two wells: both kept
    assert issues["line"].tolist() == [5, 6]
    assert issues["found"].tolist() == ["an exact copy of line 4", "an exact copy of line 2"]


def test_fit_identical_rows_without_id_are_kept_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "dr.csv"
    path.write_text("curve_id,dose,unit,response\nc,1,uM,0.9\nc,1,uM,0.9\nc,10,uM,0.2\n")
    used, issues = read_long_checked(path)
    assert len(used) == 3 and issues.empty
    assert "identical to an earlier row (lines 3)" in caplog.text


def test_gr_exact_copies_with_replicate_column(tmp_path: Path) -> None:
    path = tmp_path / "gr.tsv"
    path.write_text("replicate\tconcentration\tGR\n1\t1\t0.5\n2\t1\t0.4\n1\t1\t0.5\n")
    used, issues = read_gr_checked(path)
    assert len(used) == 2 and issues["line"].tolist() == [4]


def test_synergy_exact_copy_with_replicate_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "combo.csv"
    head = "block_id,drug1,drug2,conc1,conc2,response,conc_unit,replicate\n"
    body = "1,a,b,0,0,0,uM,1\n1,a,b,1,0,20,uM,1\n1,a,b,0,0,0,uM,1\n"
    path.write_text(head + body)
    with pytest.raises(InputError, match="twice") as info:
        read_combinations(path)
    assert "rows 1 and 3" in str(info.value.found)


@FEW
@given(picks=st.lists(st.integers(0, 3), min_size=1, max_size=8))
def test_generated_copies_never_count_twice(tmp_path: Path, picks: list[int]) -> None:
    base = ["c,A1,0.1,uM,0.95", "c,A2,1,uM,0.7", "c,A3,10,uM,0.3", "c,A4,100,uM,0.1"]
    path = tmp_path / "g.csv"
    path.write_text(
        "curve_id,well,dose,unit,response\n" + "\n".join(base + [base[p] for p in picks]) + "\n"
    )
    used, issues = read_long_checked(path)
    assert len(used) == 4 and len(issues) == len(picks)  # rows in = used + reported


# --- 3. rain alone is not a detection -----------------------------------------------------------


def _amp(rng: np.random.Generator, *, k: int, rain: int, n: int = 15000) -> np.ndarray:
    """Channel-1 negatives at 5000 (SD 200), ``k`` positives at 10000, ``rain`` between."""
    ch1 = np.concatenate([rng.normal(5000, 200, n - k - rain), rng.normal(10000, 200, k),
                          rng.uniform(7000, 9200, rain)])  # fmt: skip
    return np.column_stack([ch1, rng.normal(1400, 60, n)])


def _quantified(amps: dict[str, np.ndarray]) -> pd.DataFrame:
    names = list(amps)
    drops = Droplets(
        np.concatenate([np.full(len(a), w, dtype=object) for w, a in amps.items()]),
        np.concatenate(list(amps.values())), None, names, {w: "qx_manager" for w in names},
    )  # fmt: skip
    wells = wells_from_droplets(classify_droplets(drops), generation=drops.generation)
    table = quantify(wells)
    return table[table["channel"] == 1].set_index("well")


def test_rain_without_a_cluster_is_not_detected() -> None:
    rng = np.random.default_rng(7)
    got = _quantified({"A01": _amp(rng, k=0, rain=30), "A02": _amp(rng, k=10, rain=0),
                       "A03": _amp(rng, k=300, rain=30)})  # fmt: skip
    assert got.loc["A01", "positives"] > 0
    assert got.loc["A01", "call"] == "indeterminate" and "rain_only" in got.loc["A01", "flag"]
    for w in ("A02", "A03"):
        assert got.loc[w, "call"] == "detected" and "rain_only" not in got.loc[w, "flag"]


# The spread test is statistical: 30 uniform rain droplets look as tight as a cluster
# (robust SD under 15% of their height; it was 12% until real KRAS clusters spread 12.3%)
# with probability ~2e-2 (50 droplets: ~2e-3; Monte Carlo, 200,000 draws), so with fresh
# random seeds this property would fail often. The examples are therefore drawn from a fixed seed: a regression of the rule
# still fails, chance alone does not (seed 3477, rain 30 is one such chance miss).
@settings(max_examples=30, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), rain=st.integers(30, 80), k=st.integers(10, 400))
def test_generated_rain_only_wells_are_flagged_cluster_wells_are_not(
    seed: int, rain: int, k: int
) -> None:
    # 30+ rain droplets (0.2% of 15,000, the reported case): fewer than ~15 scattered droplets
    # cannot always be told from a cluster by their spread.
    rng = np.random.default_rng(seed)
    got = _quantified({"R": _amp(rng, k=0, rain=rain), "C": _amp(rng, k=k, rain=0)})
    assert got.loc["R", "call"] != "detected"
    assert got.loc["C", "call"] == "detected"


# --- 5. a study's named reference that is not in the data ----------------------------------------


def test_study_reference_typo_is_an_error_at_the_option(tmp_path: Path) -> None:
    import sys

    from trkres.study.runner import run_study

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from support import write_study

    rows = [f"d\t{ln}\t{d}\tuM\t{1 / (1 + d / ic)}" for ln, ic in (("parental", 0.1), ("res", 5.0))
            for d in (0, 0.01, 0.1, 1, 10, 100)]  # fmt: skip
    study = write_study(
        tmp_path / "s",
        "name: s\ninputs:\n  - {kind: dose_response, path: v.tsv}\n"
        "options:\n  dose_response: {condition: line, reference: nonexistent}\n",
        {"v.tsv": "drug\tline\tdose\tunit\tresponse\n" + "\n".join(rows) + "\n"},
    )
    with pytest.raises(InputError) as info:
        run_study(study, tmp_path / "out", only=["dose_response"])
    assert "nonexistent" in str(info.value) and "parental, res" in str(info.value.expected)
    loc = info.value.location
    assert loc is not None and loc.line == 5
