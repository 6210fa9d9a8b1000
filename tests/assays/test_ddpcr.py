"""ddPCR: recomputed values match the shared QuantaSoft / QX Manager exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trkres.assays.ddpcr.io import detect_generation, read_ddpcr_export
from trkres.assays.ddpcr.poisson import (
    concentration,
    copies_per_droplet,
    copy_number,
    fractional_abundance,
    ratio,
)
from trkres.errors import InputError


@pytest.fixture
def ddpcr(shared_data: Path) -> Path:
    return shared_data / "liquid_biopsy" / "ddpcr_daattali"


def test_qx_manager_concentrations_and_cis(ddpcr: Path) -> None:
    """QX Manager prints float32 values: agree to 1e-6 relative (printed precision)."""
    wells = read_ddpcr_export(ddpcr / "read_quant" / "quant.csv")
    assert set(wells["generation"]) == {"qx_manager"}
    est = concentration(wells["positives"], wells["accepted_droplets"], wells["droplet_volume_nl"])
    np.testing.assert_allclose(est.value, wells["exported_concentration"], rtol=1e-6)
    np.testing.assert_allclose(est.low, wells["exported_conc_ci_low"], rtol=1e-6)
    np.testing.assert_allclose(est.high, wells["exported_conc_ci_high"], rtol=1e-6)


def test_qx_manager_68_percent_columns(ddpcr: Path) -> None:
    import pandas as pd

    raw = pd.read_csv(ddpcr / "read_quant" / "quant.csv", encoding="utf-8-sig")
    est = concentration(raw["Positives"], raw["Accepted Droplets"], 0.85, z=1.0)
    np.testing.assert_allclose(est.low, raw["PoissonConfidenceMin68"], rtol=1e-6)
    np.testing.assert_allclose(est.high, raw["PoissonConfidenceMax68"], rtol=1e-6)


def test_qx_manager_ratio_fa_and_cnv(ddpcr: Path) -> None:
    import pandas as pd

    raw = pd.read_csv(ddpcr / "read_quant" / "quant.csv", encoding="utf-8-sig")
    unk = raw[raw["TargetType"] == "Unknown"].reset_index(drop=True)
    ch1 = unk["Ch1+Ch2+"] + unk["Ch1+Ch2-"]
    ch2 = unk["Ch1+Ch2+"] + unk["Ch1-Ch2+"]
    n = unk["Accepted Droplets"]
    r = ratio(ch1, n, ch2, n)
    np.testing.assert_allclose(r.value, unk["Ratio"], rtol=1e-6)
    np.testing.assert_allclose(r.low, unk["PoissonRatioMin"], rtol=1e-5)
    np.testing.assert_allclose(r.high, unk["PoissonRatioMax"], rtol=1e-5)
    fa = fractional_abundance(ch1, n, ch2, n)
    np.testing.assert_allclose(fa.value, unk["Fractional Abundance"], rtol=1e-6)
    np.testing.assert_allclose(fa.low, unk["PoissonFractionalAbundanceMin"], rtol=1e-5)
    np.testing.assert_allclose(fa.high, unk["PoissonFractionalAbundanceMax"], rtol=1e-5)
    cnv = copy_number(ch1, n, ch2, n, reference_copies=2)
    np.testing.assert_allclose(cnv.value, unk["CNV"], rtol=1e-6)
    np.testing.assert_allclose(cnv.high, unk["PoissonCNVMax"], rtol=1e-5)


def test_old_quantasoft_to_printed_precision(ddpcr: Path) -> None:
    """Old exports use 0.91 nL droplets and print 3 significant figures."""
    wells = read_ddpcr_export(ddpcr / "small" / "small.csv")
    assert set(wells["generation"]) == {"quantasoft_old"}
    est = concentration(wells["positives"], wells["accepted_droplets"], wells["droplet_volume_nl"])
    rounded = [float(f"{v:.3g}") for v in est.value]
    np.testing.assert_allclose(rounded, wells["exported_concentration"], rtol=1e-9)
    # The Wald interval matches every row at printed precision but one (C05,
    # channel 1), whose interval matches no standard formula: see the xfail below.
    odd = ((wells["well"] == "C05") & (wells["channel"] == 1)).to_numpy()
    assert odd.sum() == 1
    for got, printed in [(est.low, "exported_conc_ci_low"), (est.high, "exported_conc_ci_high")]:
        rounded = [float(f"{v:.3g}") for v in got[~odd]]
        np.testing.assert_allclose(rounded, wells.loc[~odd, printed], rtol=1e-9)
    n = wells["accepted_droplets"]
    fa = fractional_abundance(wells["ch1_positives"], n, wells["ch2_positives"], n)
    np.testing.assert_allclose(
        [float(f"{v:.3g}") for v in fa.value], wells["exported_fractional_abundance"]
    )
    r = ratio(wells["ch1_positives"], n, wells["ch2_positives"], n)
    np.testing.assert_allclose([float(f"{v:.3g}") for v in r.value], wells["exported_ratio"])


@pytest.mark.xfail(
    reason="one row of the old export (C05 channel 1: 90 of 14,109 droplets, 7.03 [5.67, 8.59] "
    "copies/uL) lies below the 100-positive switch; the flat-prior Poisson HPD interval that "
    "reproduces QuantaSoft 1.7 gives 5.66-8.56 here (0.3% off, not at printed precision): the old "
    "software's low-count rule differs slightly",
    strict=True,
)
def test_old_quantasoft_odd_row(ddpcr: Path) -> None:
    wells = read_ddpcr_export(ddpcr / "small" / "small.csv")
    row = wells[(wells["well"] == "C05") & (wells["channel"] == 1)]
    est = concentration(row["positives"], row["accepted_droplets"], row["droplet_volume_nl"])
    np.testing.assert_allclose([float(f"{v:.3g}") for v in est.low], row["exported_conc_ci_low"])


def test_generations_detected(ddpcr: Path) -> None:
    assert (
        read_ddpcr_export(ddpcr / "read_simple" / "test.csv")["generation"].iloc[0]
        == "quantasoft_old"
    )
    v174 = read_ddpcr_export(ddpcr / "read_v174" / "test.csv")
    assert v174["generation"].iloc[0] == "quantasoft_1.7" and v174["well"].iloc[0] == "A01"
    with pytest.raises(InputError, match="not a QuantaSoft"):
        detect_generation(["Well", "Something"])


def test_zero_positives_upper_bound() -> None:
    """With no positive droplet the upper bound is −ln(1 − 3/n)/V (knowledge.md §7)."""
    est = concentration(0, 15000, 0.85)
    assert est.value == 0 and est.low == 0
    assert est.high == pytest.approx(-np.log(1 - 3 / 15000) / 0.00085)


def test_no_accepted_droplets_is_nan_not_an_error() -> None:
    est = concentration([0, 10], [0, 100], 0.85)
    assert np.isnan(est.value[0]) and np.isfinite(est.value[1])


@given(st.integers(0, 20000), st.integers(1, 25000))
def test_wilson_and_wald_bracket_the_estimate(k: int, n: int) -> None:
    k = min(k, n - 1)
    for interval in ("wald", "wilson"):
        est = concentration(k, n, 0.85, interval=interval)  # type: ignore[arg-type]
        assert est.low <= est.value + 1e-9 <= est.high + 2e-9
    assert copies_per_droplet(k, n) >= 0


def test_unknown_dye_is_a_precise_error(ddpcr: Path, tmp_path: Path) -> None:
    text = (ddpcr / "read_quant" / "quant.csv").read_text(encoding="utf-8-sig")
    bad = tmp_path / "bad.csv"
    bad.write_text(text.replace(",HEX,", ",Cy5,", 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_ddpcr_export(bad)
    assert info.value.location is not None and info.value.location.line == 3
    assert info.value.location.column == "DyeName(s)" and "Cy5" in str(info.value)


def test_zero_droplet_well_is_labelled(ddpcr: Path, tmp_path: Path) -> None:
    from trkres.assays.ddpcr.pipeline import quantify

    wells = read_ddpcr_export(ddpcr / "small" / "small.csv")
    wells.loc[0, ["accepted_droplets", "positives"]] = 0
    table = quantify(wells)
    assert table.loc[0, "call"] == "failed" and table.loc[0, "flag"] == "no_droplets"
    assert np.isnan(table.loc[0, "concentration"])


def test_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Well,TargetType,Target,Sample\nA01,Ch1Unknown,t,s\n")
    with pytest.raises(InputError, match="Positives"):
        read_ddpcr_export(path)


def test_probability_of_detection_from_genome_copies(ddpcr: Path) -> None:
    from trkres.assays.ddpcr.pipeline import quantify

    table = quantify(read_ddpcr_export(ddpcr / "small" / "small.csv"), detection_vaf=0.001)
    row = table[(table["well"] == "C05") & (table["channel"] == 1)].iloc[0]
    # Other channel: 111 of 14,109 droplets at 0.91 nL -> 8.68 copies/uL -> ~174 copies in 20 uL.
    assert row["genome_copies"] == pytest.approx(-np.log(1 - 111 / 14109) / 0.00091 * 20)
    assert row["p_detect"] == pytest.approx(1 - np.exp(-row["genome_copies"] * 0.001))


def test_mixed_generations_in_one_run_are_labelled(ddpcr: Path) -> None:
    from trkres.assays.ddpcr.options import DdpcrOptions
    from trkres.assays.ddpcr.run import run_ddpcr

    tables = run_ddpcr(
        [ddpcr / "read_quant" / "quant.csv", ddpcr / "small" / "small.csv"], [], DdpcrOptions()
    )
    wells = tables["ddpcr_wells"]
    by_gen = wells.groupby("generation")["droplet_volume_nl"].unique().to_dict()
    assert {g: list(v) for g, v in by_gen.items()} == {
        "qx_manager": [0.85],
        "quantasoft_old": [0.91],
    }
    assert set(wells["source"]) == {"quant.csv", "small.csv"}


@pytest.fixture
def kras_validation() -> Path:
    path = Path(__file__).resolve().parents[3] / "shared" / "validation" / "ddpcr_twoddpcr_kras"
    if not (path / "reference.tsv").is_file():
        pytest.skip("../shared/validation is not present (fresh clone): real-data test skipped")
    return path


def _printed_half_unit(text: str) -> float:
    """Half a unit in the last printed digit (R wrote QuantaSoft's '757' as '757.0')."""
    whole, _, frac = text.partition(".")
    if frac == "0" and len(whole.lstrip("-")) >= 3:
        return 0.5
    return 0.5 * 10.0 ** -len(frac)


def test_interval_candidates_against_quantasoft_kras(kras_validation: Path) -> None:
    """Which interval is QuantaSoft's? Every candidate against the 24 exported well-targets.

    Only the default (Wald from 100 positives, flat-prior Poisson HPD below)
    reproduces every PoissonConfMin/Max at QuantaSoft's printed precision.
    """
    import pandas as pd
    from statsmodels.stats.proportion import proportion_confint

    ref = pd.read_csv(kras_validation / "reference.tsv", sep="\t", dtype=str)
    k = ref["qs_positives"].astype(float).to_numpy()
    n = ref["qs_accepted"].astype(float).to_numpy()
    half_lo = np.array([_printed_half_unit(t) for t in ref["qs_ci_low"]])
    half_hi = np.array([_printed_half_unit(t) for t in ref["qs_ci_high"]])
    lo_ref, hi_ref = ref["qs_ci_low"].astype(float), ref["qs_ci_high"].astype(float)

    def binomial(method: str) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = proportion_confint(k, n, alpha=0.05, method=method)
        return -np.log1p(-lo) / 0.00085, -np.log1p(-hi) / 0.00085

    candidates = {
        "quantasoft": (lambda e: (e.low, e.high))(concentration(k, n, 0.85)),
        "wald": (lambda e: (e.low, e.high))(concentration(k, n, 0.85, interval="wald")),
        "wilson": binomial("wilson"),
        "clopper_pearson": binomial("beta"),
        "jeffreys": binomial("jeffreys"),
    }
    printed = {
        name: int(((np.abs(lo - lo_ref) <= half_lo * 1.0001) & (np.abs(hi - hi_ref) <= half_hi * 1.0001)).sum())
        for name, (lo, hi) in candidates.items()
    }  # fmt: skip
    assert printed["quantasoft"] == 24, printed
    assert max(v for name, v in printed.items() if name != "quantasoft") <= 18, printed


def test_quantasoft_68_percent_columns_kras(kras_validation: Path) -> None:
    """The "…68" columns (z = 1) of the same export: 24 more values, the HPD again at printed precision."""
    import pandas as pd

    raw = pd.read_csv(kras_validation / "KRAS_quantasoft_export.csv", dtype=str, index_col=False)
    k, n = raw["Positives"].astype(float), raw["AcceptedDroplets"].astype(float)
    est = concentration(k, n, 0.85, z=1.0)
    wald = concentration(k, n, 0.85, z=1.0, interval="wald")
    for got, column in ((est.low, "PoissonConfMin68"), (est.high, "PoissonConfMax68")):
        half = np.array([_printed_half_unit(t) for t in raw[column]])
        assert (np.abs(got - raw[column].astype(float)) <= half * 1.0001).all(), column
    few = (k < 100).to_numpy()
    assert not np.allclose(wald.low[few], est.low[few], rtol=0.02)  # Wald misses them
