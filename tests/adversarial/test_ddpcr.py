"""Adversarial ddPCR inputs (issue 12): rare clusters, low-count intervals, R headers,
impossible numbers and broken files. Each class has constructed files and a
hypothesis strategy that generates its kind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from trkres.assays.ddpcr.droplets import Droplets, classify_droplets, combine, read_amplitudes
from trkres.assays.ddpcr.io import read_ddpcr_export
from trkres.assays.ddpcr.options import DdpcrOptions
from trkres.assays.ddpcr.poisson import concentration, poisson_hpd_interval
from trkres.assays.ddpcr.run import run_ddpcr
from trkres.errors import InputError

FEW = settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trkres", *args], capture_output=True, text=True, check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
    )  # fmt: skip


def well(
    rng: np.random.Generator, *, n: int = 15000, k: int = 10, neg: float = 5000.0,
    sd: float = 200.0, pos: float = 10000.0, rain: int = 0, other: float = 1400.0,
) -> np.ndarray:  # fmt: skip
    """One well's (n, 2) amplitudes: negatives, ``k`` channel-1 positives, ``rain`` between."""
    ch1 = np.concatenate([rng.normal(neg, sd, n - k - rain), rng.normal(pos, sd, k),
                          rng.uniform(neg + 10 * sd, pos - 4 * sd, rain)])  # fmt: skip
    ch2 = rng.normal(other, 60.0, n)
    return np.column_stack([ch1, ch2])


def droplets(amps: dict[str, np.ndarray]) -> Droplets:
    names = list(amps)
    return Droplets(
        np.concatenate([np.full(len(a), w, dtype=object) for w, a in amps.items()]),
        np.concatenate(list(amps.values())), None, names,
        {w: "qx_manager" for w in names},
    )  # fmt: skip


def write_amplitude_file(
    path: Path, amp: np.ndarray, header: str = "Ch1Amplitude,Ch2Amplitude"
) -> Path:
    path.write_text(header + "\n" + "\n".join(f"{a:.3f},{b:.3f}" for a, b in amp) + "\n")
    return path


# --- 1. rare mutant clusters ------------------------------------------------------------


@pytest.mark.parametrize("k", [5, 7, 20, 35])
def test_rare_cluster_of_a_few_droplets_is_found(k: int) -> None:
    """5-35 mutant droplets of 15,000 (the KRAS plate's rare wells): Otsu missed them."""
    rng = np.random.default_rng(k)
    calls = classify_droplets(droplets({"A01": well(rng, k=k)}))
    ch1 = calls.wells.query("channel == 1").iloc[0]
    assert ch1["positives"] == k
    assert ch1["method"] == "robust"
    if k <= 7:  # the two-means split of the old default puts these wells in one cluster
        otsu = classify_droplets(
            droplets({"A01": well(np.random.default_rng(k), k=k)}), method="otsu"
        )
        assert otsu.wells.query("channel == 1").iloc[0]["positives"] == 0


@FEW
@given(
    neg=st.floats(800, 8000), sd_frac=st.floats(0.01, 0.05), sep=st.floats(16, 40),
    k=st.integers(0, 50), n=st.integers(10000, 20000), rain=st.integers(0, 30),
    seed=st.integers(0, 2**32 - 1),
)  # fmt: skip
def test_rare_clusters_with_rain_are_counted(
    neg: float, sd_frac: float, sep: float, k: int, n: int, rain: int, seed: int
) -> None:
    """Random cluster positions and widths, 0-50 positives of 10-20k droplets, rain between."""
    sd = neg * sd_frac
    rng = np.random.default_rng(seed)
    amp = well(rng, n=n, k=k, neg=neg, sd=sd, pos=neg + sep * sd, rain=rain)
    row = classify_droplets(droplets({"A01": amp})).wells.query("channel == 1").iloc[0]
    # No negative droplet is called positive and every cluster positive is found;
    # rain droplets (between the clusters) may fall either side of the threshold.
    assert k <= row["positives"] <= k + rain
    assert (row["positives"] > 0) == (k + int((amp[n - rain :, 0] > row["threshold"]).sum()) > 0)


def test_fixed_thresholds_per_channel_override_the_well(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    path = write_amplitude_file(tmp_path / "p_A01_Amplitude.csv", well(rng, k=12))
    out = tmp_path / "out"
    result = run_cli("ddpcr", str(path), "-o", str(out), "--threshold-ch1", "9000")
    assert result.returncode == 0, result.stderr
    dr = pd.read_csv(out / "ddpcr_droplets.tsv", sep="\t")
    ch1, ch2 = dr[dr["channel"] == 1].iloc[0], dr[dr["channel"] == 2].iloc[0]
    assert ch1["method"] == "fixed" and ch1["threshold"] == 9000 and ch1["positives"] == 12
    assert ch2["method"] == "robust"


def test_thresholds_learned_from_control_wells() -> None:
    rng = np.random.default_rng(2)
    ntc = well(rng, k=0)
    wt = well(rng, k=0, other=1400)
    pc = well(rng, k=3000)
    sample = well(rng, k=9)
    sample[:3, 0] = 7400  # three droplets far above the negatives' tail, below the PC midpoint
    d = droplets({"N01": ntc, "W01": wt, "P01": pc, "S01": sample})
    neg_only = classify_droplets(d, ntc_wells=["N01"], wt_wells=["W01"])
    s = neg_only.wells.query("well == 'S01' and channel == 1").iloc[0]
    assert s["method"] == "controls" and "wild-type" in s["threshold_source"]
    assert s["positives"] == 12
    assert set(neg_only.controls["role"]) == {"negative (NTC+wild-type)", "negative (NTC)"}
    with_pc = classify_droplets(d, ntc_wells=["N01"], wt_wells=["W01"], positive_wells=["P01"])
    s = with_pc.wells.query("well == 'S01' and channel == 1").iloc[0]
    assert s["threshold"] == pytest.approx((5000 + 10000) / 2, rel=0.02) and s["positives"] == 9
    with pytest.raises(InputError, match="positive droplets"):
        classify_droplets(d, positive_wells=["N01"])
    with pytest.raises(InputError, match="wild-type"):
        classify_droplets(d, wt_wells=["Z99"])


def test_call_that_depends_on_the_threshold_is_flagged() -> None:
    rng = np.random.default_rng(3)
    amp = well(rng, k=0)
    t = classify_droplets(droplets({"A01": amp})).wells.iloc[0]["threshold"]
    amp[:4, 0] = t * 1.02  # four droplets just above the line: gone 10% higher
    row = classify_droplets(droplets({"A01": amp})).wells.query("channel == 1").iloc[0]
    assert row["positives"] == 4 and "threshold_sensitive" in row["flag"]
    clean = classify_droplets(droplets({"A01": well(rng, k=20)})).wells.iloc[0]
    assert "threshold_sensitive" not in clean["flag"]


# --- 2. Poisson intervals at low counts ---------------------------------------------------


def test_quantasoft_low_count_interval_at_printed_precision() -> None:
    """QuantaSoft 1.7 printed 0.17-1.02 copies/uL for 5 of 12,516 droplets (Wald: 0.058-0.882)."""
    printed = {
        (5, 12516): ("0.17", "1.02"),
        (7, 15050): ("0.23", "1.07"),
        (35, 12347): ("2.3", "4.6"),
    }
    for (k, n), (lo, hi) in printed.items():
        est = concentration(k, n, 0.85)
        for got, text in ((est.low, lo), (est.high, hi)):
            decimals = len(text.split(".")[1])
            assert round(float(got), decimals) == float(text), (k, n, got, text)
    assert float(concentration(5, 12516, 0.85, interval="wald").low) < 0.06


def _grid_hpd(k: int, mass: float) -> tuple[float, float]:
    x = np.linspace(0, k + 12 * np.sqrt(k + 1) + 12, 200001)
    w = stats.gamma.pdf(x, k + 1)
    order = np.argsort(-w)
    keep = order[: np.searchsorted(np.cumsum(w[order]) / w.sum(), mass) + 1]
    return float(x[keep].min()), float(x[keep].max())


@FEW
@given(k=st.integers(0, 99), z=st.sampled_from([1.0, 1.96]))
def test_hpd_interval_matches_a_brute_force_grid(k: int, z: float) -> None:
    mass = 2 * stats.norm.cdf(z) - 1
    lo, hi = poisson_hpd_interval(k, z=z)
    glo, ghi = _grid_hpd(k, mass)
    assert float(lo) == pytest.approx(glo, abs=2e-3 * (k + 3))
    assert float(hi) == pytest.approx(ghi, abs=2e-3 * (k + 3))
    assert stats.gamma.cdf(hi, k + 1) - stats.gamma.cdf(lo, k + 1) == pytest.approx(mass, abs=1e-6)


@FEW
@given(k=st.integers(0, 150), n=st.integers(8000, 25000))
def test_interval_brackets_the_estimate_and_is_wald_from_100(k: int, n: int) -> None:
    est = concentration(k, n, 0.85)
    assert est.low <= est.value <= est.high and np.isfinite(est.high)
    wald = concentration(k, n, 0.85, interval="wald")
    if k >= 100:
        assert est.low == wald.low and est.high == wald.high


# --- 3. R-style headers and the droplet volume ----------------------------------------------


def test_r_style_quoted_header_keeps_labels_and_states_the_volume(tmp_path: Path) -> None:
    path = tmp_path / "KRAS_A01_Amplitude.csv"
    path.write_text('"Ch1.Amplitude","Ch2.Amplitude","Cluster"\n4000,1300,1\n9000,1400,2\n'
                    "4100,6000,4\n8000,6100,3\n")  # fmt: skip
    d = read_amplitudes(path)
    assert d.labels is not None and d.labels[:, 0].tolist() == [0, 1, 0, 1]
    assert d.generation == {"A01": "quantasoft_1.7"} and "R-style" in d.header_note["A01"]
    out = tmp_path / "o"
    result = run_cli("ddpcr", str(path), "-o", str(out), "--min-droplets", "0")
    assert result.returncode == 0, result.stderr
    assert "droplet volume 0.85 nL" in result.stderr
    wells = pd.read_csv(out / "ddpcr_wells.tsv", sep="\t")
    assert set(wells["droplet_volume_nl"]) == {0.85}
    assert wells["droplet_volume_source"].str.contains("QuantaSoft 1.7").all()
    assert (out / "ddpcr_droplet_agreement.tsv").is_file()


@FEW
@given(
    base=st.sampled_from(["Ch{} Amplitude", "Ch{}Amplitude", "Assay{} Amplitude"]),
    quote=st.sampled_from(["", '"']), dots=st.booleans(), upper=st.booleans(),
)  # fmt: skip
def test_header_spellings_keep_generation_and_labels(
    tmp_path: Path, base: str, quote: str, dots: bool, upper: bool
) -> None:
    names = [base.format(i) for i in (1, 2)]
    if dots:
        names = [n.replace(" ", ".") for n in names]
    if upper:
        names = [n.upper() for n in names]
    header = ",".join(f"{quote}{n}{quote}" for n in [*names, "Cluster"])
    path = tmp_path / "x_B02_Amplitude.csv"
    path.write_text(header + "\n1000,1000,1\n9000,1000,2\n")
    d = read_amplitudes(path)
    assert d.labels is not None and d.generation["B02"] != "unknown"


def test_unknown_header_needs_a_droplet_volume(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    path = write_amplitude_file(
        tmp_path / "r_A01_Amplitude.csv", well(rng), "FAM Amplitude,HEX Amplitude"
    )
    result = run_cli("ddpcr", str(path), "-o", str(tmp_path / "o"))
    assert result.returncode == 1 and "--droplet-volume" in result.stderr
    result = run_cli("ddpcr", str(path), "-o", str(tmp_path / "o"), "--droplet-volume", "0.8")
    assert result.returncode == 0, result.stderr
    wells = pd.read_csv(tmp_path / "o" / "ddpcr_wells.tsv", sep="\t")
    assert set(wells["droplet_volume_nl"]) == {0.8}
    assert set(wells["droplet_volume_source"]) == {"given (--droplet-volume)"}


# --- 4. impossible numbers ------------------------------------------------------------------

EXPORT_HEADER = "Well,Sample,TargetType,Target,Positives,Negatives,AcceptedDroplets,Ch1+Ch2+,Ch1+Ch2-,Ch1-Ch2+,Ch1-Ch2-"


def export(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "plate.csv"
    path.write_text(EXPORT_HEADER + "\n" + "\n".join(rows) + "\n")
    return path


GOOD = ["A01,s1,Ch1Unknown,MUT,12,14988,15000,2,10,488,14500",
        "A01,s1,Ch2Unknown,WT,490,14510,15000,2,10,488,14500"]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("A01,s1,Ch1Unknown,MUT,15001,0,15000,,,,", "Positives"),
        ("A01,s1,Ch1Unknown,MUT,-3,15003,15000,,,,", "Positives"),
        ("A01,s1,Ch1Unknown,MUT,3,100,inf,,,,", "AcceptedDroplets"),
        ("A01,s1,Ch1Unknown,MUT,2.5,100,15000,,,,", "Positives"),
        ("A01,s1,Ch1Unknown,MUT,12,14988,15000,2,10,488,99", "Ch1+Ch2+..Ch1-Ch2-"),
    ],
)
def test_impossible_counts_are_located_errors(tmp_path: Path, row: str, column: str) -> None:
    with pytest.raises(InputError) as info:
        read_ddpcr_export(export(tmp_path, [GOOD[1], row]))
    loc = info.value.location
    assert loc is not None and loc.line == 3 and loc.column == column


@FEW
@given(
    col=st.sampled_from([4, 5, 6, 7, 8, 9, 10]),
    bad=st.sampled_from(["-1", "inf", "-inf", "1e308", "nan", "1.5", "abc", "99999999"]),
)  # fmt: skip
def test_generated_impossible_counts_never_pass_silently(
    tmp_path: Path, col: int, bad: str
) -> None:
    cells = GOOD[0].split(",")
    cells[col] = bad
    try:
        table = run_ddpcr([export(tmp_path, [",".join(cells), GOOD[1]])], [], DdpcrOptions())
    except InputError as exc:
        assert exc.location is not None and exc.location.line == 2
        return
    wells = table["ddpcr_wells"]  # "nan" is a blank count: the row is reported, not called
    row = wells[wells["target"] == "MUT"].iloc[0]
    assert bad == "nan" and row["call"] == "failed"


@pytest.mark.parametrize("volume", ["0", "-1", "nan", "inf"])
def test_impossible_droplet_volume_is_refused(tmp_path: Path, volume: str) -> None:
    result = run_cli("ddpcr", str(export(tmp_path, GOOD)), "-o", str(tmp_path / "o"),
                     f"--droplet-volume={volume}")  # fmt: skip
    assert result.returncode == 1 and "droplet" in result.stderr and "volume" in result.stderr
    assert not (tmp_path / "o").exists()
    with pytest.raises(InputError, match="droplet volume"):
        read_ddpcr_export(export(tmp_path, GOOD), droplet_volume_nl=float(volume))


def test_export_volume_is_stated(tmp_path: Path) -> None:
    result = run_cli("ddpcr", str(export(tmp_path, GOOD)), "-o", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert "droplet volume 0.85 nL for plate.csv: QuantaSoft 1.7 export" in " ".join(
        result.stderr.split()
    )


# --- 5. broken files: InputError with a location, never a traceback --------------------------


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("empty.csv", "", 1),
        ("header.csv", EXPORT_HEADER + "\n", 2),
        ("e_A01_Amplitude.csv", "", None),
        ("h_A01_Amplitude.csv", "Ch1 Amplitude,Ch2 Amplitude,Cluster\n", 2),
        ("t_A01_Amplitude.csv", "Ch1 Amplitude,Ch2 Amplitude,Cluster\n4000,1300,1\n4100\n", 3),
        ("i_A01_Amplitude.csv", "Ch1 Amplitude,Ch2 Amplitude\n4000,1300\ninf,1200\n", 3),
        ("b_A01_Amplitude.csv", "Ch1 Amplitude,Ch2 Amplitude\n\x00\x01\x02", None),
    ],
)
def test_broken_files_are_input_errors(
    tmp_path: Path, name: str, text: str, line: int | None
) -> None:
    path = tmp_path / name
    path.write_text(text)
    amplitude = name.endswith("_Amplitude.csv")
    with pytest.raises(InputError) as info:
        run_ddpcr([] if amplitude else [path], [path] if amplitude else [], DdpcrOptions())
    assert info.value.location is not None and info.value.location.file is not None
    if line is not None:
        assert info.value.location.line == line
    result = run_cli("ddpcr", str(path), "-o", str(tmp_path / "o"))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@FEW
@given(cut=st.integers(0, 400))
def test_truncated_amplitude_file_parses_or_is_located(tmp_path: Path, cut: int) -> None:
    rng = np.random.default_rng(5)
    full = tmp_path / "full_C03_Amplitude.csv"
    write_amplitude_file(full, well(rng, n=40, k=3), "Ch1 Amplitude,Ch2 Amplitude")
    data = full.read_bytes()[:cut]
    path = tmp_path / "cut_C03_Amplitude.csv"
    path.write_bytes(data)
    try:
        d = read_amplitudes(path)
    except InputError as exc:
        assert exc.location is not None and exc.location.file == path
        return
    assert len(d.well) >= 1 and np.isfinite(d.amplitude).all()


def test_all_droplets_positive_is_labelled_saturated(tmp_path: Path) -> None:
    path = export(tmp_path, ["A01,s1,Ch1Unknown,MUT,15000,0,15000,,,,", GOOD[1]])
    wells = run_ddpcr([path], [], DdpcrOptions())["ddpcr_wells"]
    row = wells[wells["target"] == "MUT"].iloc[0]
    assert np.isinf(row["concentration"]) and row["flag"].startswith("saturated")


def test_same_well_in_two_files_is_an_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    a = write_amplitude_file(tmp_path / "x_A01_Amplitude.csv", well(rng, n=100))
    b = write_amplitude_file(tmp_path / "y_A01_Amplitude.csv", well(rng, n=100))
    with pytest.raises(InputError, match="two amplitude files"):
        combine([read_amplitudes(a), read_amplitudes(b)])


CELLS = ["", "-1", "inf", "nan", "1e308", "-1e308", "abc", '"', ",", ",,", "\x00", "é", "0", "1.5"]


@FEW
@given(
    amplitude=st.booleans(), seed=st.integers(0, 2**32 - 1),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 20), st.sampled_from(CELLS)),
                   min_size=1, max_size=4),
    cut=st.one_of(st.none(), st.integers(0, 60)),
)  # fmt: skip
def test_mangled_files_give_a_table_or_an_input_error(
    tmp_path: Path, amplitude: bool, seed: int, edits: list[tuple[int, int, str]], cut: int | None
) -> None:
    """Cells replaced by junk, rows cut short, files truncated: never another exception."""
    if amplitude:
        rng = np.random.default_rng(seed)
        lines = ["Ch1 Amplitude,Ch2 Amplitude,Cluster"] + [
            f"{a:.2f},{b:.2f},{1 + int(a > 7000)}" for a, b in well(rng, n=60, k=4)
        ]
        path = tmp_path / "m_A01_Amplitude.csv"
    else:
        lines = [EXPORT_HEADER, *GOOD]
        path = tmp_path / "m.csv"
    for row, col, junk in edits:
        cells = lines[row % len(lines)].split(",")
        cells[col % len(cells)] = junk
        lines[row % len(lines)] = ",".join(cells)
    if cut is not None:
        lines = lines[: cut % (len(lines) + 1)]
    path.write_text("\n".join(lines))
    try:
        tables = run_ddpcr([] if amplitude else [path], [path] if amplitude else [], DdpcrOptions())
    except InputError as exc:
        assert exc.location is not None
        return
    wells = tables["ddpcr_wells"]
    ok = wells["call"] != "failed"
    assert (wells.loc[ok, "positives"] <= wells.loc[ok, "accepted_droplets"]).all()
    finite = np.isfinite(wells.loc[ok, "concentration"])
    assert (finite | wells.loc[ok, "flag"].str.contains("saturated")).all()
