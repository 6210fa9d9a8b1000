"""Synergy models against hand calculations, null models, the `synergy` package and scipy."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from trkres.assays.synergy.io import from_frame, read_combinations
from trkres.assays.synergy.resensitisation import compare_lines, proliferation_tests
from trkres.assays.synergy.scorer import Synergy
from trkres.errors import InputError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ntrk_resistance" / "lab"


def matrix_frame(
    values: dict[tuple[float, float], float | list[float]], **meta: str
) -> pd.DataFrame:
    """A two-drug long table (block 1, nM) from {(conc1, conc2): response or replicates}."""
    rows = []
    for (c1, c2), v in values.items():
        for r in v if isinstance(v, list) else [v]:
            rows.append({"block_id": 1, "drug1": "A", "drug2": "B", "conc1": c1, "conc2": c2,
                         "response": r, "conc_unit": "nM", **meta})  # fmt: skip
    return pd.DataFrame(rows)


def hill(dose: np.ndarray, ic50: float, h: float, top: float = 100.0) -> np.ndarray:
    """% inhibition of a drug from 0 to ``top`` (log-logistic in the dose)."""
    d = np.asarray(dose, dtype=float)
    return top * d**h / (ic50**h + d**h)


def grid(doses1: list[float], doses2: list[float], f: object) -> dict[tuple[float, float], float]:
    return {(a, b): float(f(a, b)) for a in doses1 for b in doses2}  # type: ignore[operator]


# ---------------------------------------------------------------- hand-computable cases


def test_bliss_and_hsa_by_hand() -> None:
    values = {
        (0, 0): 0.0, (0, 10): 20.0, (0, 100): 50.0,
        (1, 0): 10.0, (1, 10): 40.0, (1, 100): 50.0,
        (5, 0): 30.0, (5, 10): 44.0, (5, 100): 80.0,
    }  # fmt: skip
    s = Synergy(["bliss", "hsa"], n_boot=0, musyc=False).fit(from_frame(matrix_frame(values)))
    m = s.matrix_.assign(c1=lambda f: f["conc1"] * 1e9, c2=lambda f: f["conc2"] * 1e9).round(
        {"c1": 6, "c2": 6}
    )
    at = m.set_index(["c1", "c2"])
    # Bliss expected at (1, 10): 10 + 20 − 10·20/100 = 28 → score 12; HSA: max(10, 20) = 20 → 20.
    assert at.loc[(1, 10), "bliss_expected"] == pytest.approx(28.0)
    assert at.loc[(1, 10), "bliss"] == pytest.approx(12.0)
    assert at.loc[(1, 10), "hsa"] == pytest.approx(20.0)
    # (5, 10): Bliss 30 + 20 − 6 = 44 → 0; HSA 30 → 14.  (5, 100): Bliss 65 → 15; HSA 50 → 30.
    assert at.loc[(5, 10), "bliss"] == pytest.approx(0.0, abs=1e-12)
    assert at.loc[(5, 10), "hsa"] == pytest.approx(14.0)
    assert at.loc[(5, 100), "bliss"] == pytest.approx(15.0)
    assert at.loc[(1, 100), "hsa"] == pytest.approx(0.0)
    # Summary: mean over the four combination cells; monotherapy cells score 0.
    assert s.summary_["bliss"].iloc[0] == pytest.approx((12 + (50 - 55) + 0 + 15) / 4)
    assert (at.loc[[(0, 10), (1, 0), (0, 0)], "bliss"] == 0).all()


def test_three_drug_bliss_and_hsa_by_hand() -> None:
    rows = []
    single = {1: {0: 0, 1: 10}, 2: {0: 0, 1: 20}, 3: {0: 0, 1: 50}}
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                present = [single[1][a], single[2][b], single[3][c]]
                y = max(present) if a + b + c <= 1 else 70.0 if (a, b, c) == (1, 1, 1) else 60.0
                rows.append({"block_id": "x", "drug1": "A", "drug2": "B", "drug3": "C", "conc1": a,
                             "conc2": b, "conc3": c, "response": y, "conc_unit": "uM"})  # fmt: skip
    s = Synergy(["bliss", "hsa"], n_boot=0, musyc=False).fit(from_frame(pd.DataFrame(rows)))
    full = s.matrix_[(s.matrix_[["conc1", "conc2", "conc3"]] > 0).all(axis=1)].iloc[0]
    # 1 − 0.9·0.8·0.5 = 0.64 → 64 % expected; HSA 50.
    assert full["bliss_expected"] == pytest.approx(64.0)
    assert full["bliss"] == pytest.approx(6.0)
    assert full["hsa"] == pytest.approx(20.0)
    assert s.summary_["bliss"].iloc[0] == pytest.approx(6.0)


# ---------------------------------------------------------------- null models give zero

DOSES = [0, 1, 3, 10, 30, 100]


def test_loewe_of_a_drug_with_itself_is_additive() -> None:
    f = grid(DOSES, DOSES, lambda a, b: hill(a + b, 10.0, 1.3, top=90.0) + 2.0)
    s = Synergy(["loewe"], n_boot=0, musyc=False).fit(from_frame(matrix_frame(f)))
    combo = s.matrix_[(s.matrix_["conc1"] > 0) & (s.matrix_["conc2"] > 0)]
    assert not combo["loewe_fallback"].any()
    assert np.abs(combo["loewe"]).max() < 0.2
    assert abs(s.summary_["loewe"].iloc[0]) < 0.05


def test_zip_is_zero_on_its_null_model() -> None:
    def null(a: float, b: float) -> float:
        y1, y2 = hill(a, 8.0, 1.1) / 100, hill(b, 25.0, 0.8) / 100
        return 100 * (y1 + y2 - y1 * y2)

    s = Synergy(["zip", "bliss"], n_boot=0, musyc=False).fit(
        from_frame(matrix_frame(grid(DOSES, DOSES, null)))
    )
    assert np.abs(s.matrix_["zip"]).max() < 0.2
    assert np.abs(s.matrix_["bliss"]).max() < 1e-9  # Bliss null, observed singles: exactly 0


def test_three_drug_zip_is_zero_on_its_null_model() -> None:
    doses = [0, 1, 10, 100]
    rows = []
    for a in doses:
        for b in doses:
            for c in doses:
                ys = [hill(a, 5.0, 1.0) / 100, hill(b, 20.0, 1.5) / 100, hill(c, 50.0, 0.9) / 100]
                y = 100 * (1 - np.prod([1 - v for v in ys]))
                rows.append({"block_id": 1, "drug1": "A", "drug2": "B", "drug3": "C", "conc1": a, "conc2": b,
                             "conc3": c, "response": y, "conc_unit": "nM"})  # fmt: skip
    s = Synergy(["bliss", "hsa", "zip"], n_boot=0, musyc=False).fit(from_frame(pd.DataFrame(rows)))
    assert np.abs(s.matrix_["zip"]).max() < 0.3
    assert np.abs(s.matrix_["bliss"]).max() < 1e-9


def test_synergistic_surface_scores_positive_everywhere() -> None:
    def syn(a: float, b: float) -> float:
        # Each drug makes the other 5× more potent: synergy under every reference model.
        y1 = hill(a * (5 if b else 1), 10.0, 1.0) / 100
        y2 = hill(b * (5 if a else 1), 30.0, 1.0) / 100
        return float(100 * (1 - (1 - y1) * (1 - y2)))

    s = Synergy(n_boot=0, musyc=False).fit(from_frame(matrix_frame(grid(DOSES, DOSES, syn))))
    for m in ("bliss", "hsa", "zip"):
        assert s.summary_[m].iloc[0] > 5


# ---------------------------------------------------------------- the `synergy` package


@pytest.fixture(scope="module")
def pkg_2d(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "synergy" / "synergy_pkg" / "2d.csv")


def _theirs(model: object, df: pd.DataFrame) -> pd.DataFrame:
    d1, d2, e = df["drug1.conc"].to_numpy(), df["drug2.conc"].to_numpy(), df["E"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        syn = model.fit(d1, d2, e)  # type: ignore[attr-defined]
    out = pd.DataFrame({"conc1": d1 * 1e-6, "conc2": d2 * 1e-6, "theirs": 100 * np.asarray(syn)})
    return out.groupby(["conc1", "conc2"], as_index=False).mean()


def _ours(df: pd.DataFrame) -> Synergy:
    frame = pd.DataFrame({"block_id": 1, "drug1": "A", "drug2": "B", "conc1": df["drug1.conc"],
                          "conc2": df["drug2.conc"], "response": df["E"], "conc_unit": "uM"})  # fmt: skip
    return Synergy(n_boot=0).fit(from_frame(frame, response="viability_fraction"))


def test_agrees_with_synergy_package(pkg_2d: pd.DataFrame) -> None:
    synergy = pytest.importorskip("synergy")
    from synergy.combination import HSA, Bliss, Loewe, MuSyC
    from synergy.single import LogLinear

    ours = _ours(pkg_2d)
    combo = ours.matrix_[(ours.matrix_["conc1"] > 0) & (ours.matrix_["conc2"] > 0)]
    for name, cls in (("bliss", Bliss), ("hsa", HSA)):
        # Their single-agent reference aggregates replicates by the median; with the mean it is ours.
        model = cls(drug1_model=LogLinear(aggregation_function=np.mean),
                    drug2_model=LogLinear(aggregation_function=np.mean))  # fmt: skip
        j = combo.merge(_theirs(model, pkg_2d), on=["conc1", "conc2"])
        assert len(j) == 25
        np.testing.assert_allclose(j[name], j["theirs"], atol=1e-9)
    # Loewe: the same where the Loewe equation has a solution; the fallback differs by convention
    # (theirs "delta_HSA": HSA of the fitted curves; ours, SynergyFinder's: curves at the summed dose).
    j = combo.merge(_theirs(Loewe(mode="delta_HSA"), pkg_2d), on=["conc1", "conc2"])
    solved = j[~j["loewe_fallback"]]
    assert len(solved) >= 15
    np.testing.assert_allclose(solved["loewe"], solved["theirs"], atol=0.05)
    # MuSyC: efficacy synergy β agrees; α differs because ours imposes detailed balance.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = MuSyC(fit_gamma=False)
        theirs.fit(
            pkg_2d["drug1.conc"].to_numpy(), pkg_2d["drug2.conc"].to_numpy(), pkg_2d["E"].to_numpy()
        )
    assert ours.musyc_["beta"].iloc[0] == pytest.approx(theirs.beta, abs=0.02)
    assert synergy is not None


# ---------------------------------------------------------------- uncertainty


def test_bootstrap_cis_bracket_the_estimate_and_are_reproducible() -> None:
    combos = read_combinations(
        EXAMPLE / "combination_larotrectinib_trametinib.tsv", response="viability"
    )
    a = Synergy(n_boot=60, seed=3, musyc=False).fit(combos)
    b = Synergy(n_boot=60, seed=3, musyc=False).fit(combos)
    pd.testing.assert_frame_equal(a.summary_, b.summary_)
    for m in ("bliss", "hsa", "zip"):
        s = a.summary_
        assert ((s[f"{m}_ci_low"] <= s[m] + 1e-9) & (s[m] <= s[f"{m}_ci_high"] + 1e-9)).all(), m
    assert a.summary_["ci_method"].str.startswith("replicate bootstrap").all()


def test_single_replicate_gets_no_ci_and_says_so() -> None:
    f = grid(DOSES, DOSES, lambda x, y: hill(x, 10, 1) + hill(y, 20, 1) / 2)
    s = Synergy(n_boot=20, musyc=False).fit(from_frame(matrix_frame(f)))
    assert s.summary_["ci_method"].iloc[0] == "none (single replicate)"
    assert "bliss_ci_low" not in s.summary_ or s.summary_["bliss_ci_low"].isna().all()


# ---------------------------------------------------------------- MuSyC and re-sensitisation on the example


@pytest.fixture(scope="module")
def example_result() -> Synergy:
    combos = read_combinations(
        EXAMPLE / "combination_larotrectinib_trametinib.tsv", response="viability"
    )
    return Synergy(n_boot=100, seed=0).fit(combos)


def test_musyc_recovers_the_simulated_parameters(example_result: Synergy) -> None:
    # lab/simulate_combination.py: parental a = 1 (no potency synergy), E3 = 0.04;
    # resistant log10 a = 1 with h2 = 1 → log10 α12 = 1, β = (0.45 − 0.05) / (1 − 0.45) ≈ 0.727.
    mu = example_result.musyc_.set_index("block_id")
    assert mu.loc["1", "log10_alpha12_ci_low"] < 0 < mu.loc["1", "log10_alpha12_ci_high"]
    assert mu.loc["2", "log10_alpha12_ci_low"] < 1 < mu.loc["2", "log10_alpha12_ci_high"]
    assert mu.loc["2", "beta_ci_low"] < 0.727 < mu.loc["2", "beta_ci_high"]
    assert mu.loc["2", "beta_ci_low"] > 0  # efficacy synergy detected


def test_resistant_line_gains_synergy(example_result: Synergy) -> None:
    cmp = compare_lines(example_result, condition="line", reference="parental")
    row = cmp.iloc[0]
    assert row["line"] == "KRAS_G12D_resistant" and row["reference_block_id"] == "1"
    assert row["delta_zip_ci_low"] > 0 and row["delta_bliss_ci_low"] > 0
    # The resistant line barely responds to larotrectinib alone.
    assert row["delta_drug1_alone_response_ci_high"] < -30
    missing = compare_lines(example_result, condition="line", reference="no_such_line")
    assert set(missing["status"]) == {"no_reference_block"}


def test_proliferation_t_tests_match_scipy(example_result: Synergy) -> None:
    raw = pd.read_csv(EXAMPLE / "combination_larotrectinib_trametinib.tsv", sep="\t")
    table = proliferation_tests(example_result)
    row = table.iloc[7]
    c1, c2 = row["conc1"] * 1e9, row["conc2"] * 1e9
    blk = raw[raw["block_id"] == int(row["block_id"])]
    combo = blk[np.isclose(blk["conc1"], c1) & np.isclose(blk["conc2"], c2)]["response"]
    alone = blk[np.isclose(blk["conc1"], c1) & (blk["conc2"] == 0)]["response"]
    expected = stats.ttest_ind(combo, alone, equal_var=False).pvalue
    assert row["p_vs_drug1"] == pytest.approx(expected, rel=1e-9)
    assert row["combination_viability_mean"] == pytest.approx(combo.mean(), rel=1e-4)
    adjusted = table[table["block_id"] == row["block_id"]]
    assert (adjusted["p_vs_drug1_adjusted"] >= adjusted["p_vs_drug1"] - 1e-12).all()


# ---------------------------------------------------------------- Chou–Talalay


def test_combination_index_is_one_for_a_loewe_additive_mixture() -> None:
    dm1, dm2, m = 10.0, 100.0, 1.0

    def effect(a: float, b: float) -> float:
        # Median-effect with equal slopes: fa/fu = (a/Dm1 + b/Dm2)^m (Loewe additive).
        z = (a / dm1 + b / dm2) ** m
        return 100 * z / (1 + z)

    doses1, doses2 = [0, 1, 3, 10, 30, 100], [0, 10, 30, 100, 300, 1000]
    s = Synergy(["bliss"], n_boot=0, musyc=False).fit(
        from_frame(matrix_frame(grid(doses1, doses2, effect)))
    )
    ci = s.combination_index_
    assert len(ci) and (ci["n_mixture_points"] >= 3).all()
    np.testing.assert_allclose(ci["ci"], 1.0, rtol=1e-6)
    assert set(ci["interpretation"]) == {"nearly_additive"}


# ---------------------------------------------------------------- degenerate and bad input


def test_degenerate_blocks_are_labelled_not_raised() -> None:
    constant = matrix_frame(grid(DOSES, DOSES, lambda a, b: 5.0))
    no_single = matrix_frame({k: v for k, v in grid(DOSES, DOSES, lambda a, b: hill(a + b, 10, 1)).items()
                              if not (k[1] == 0 and k[0] > 0)})  # fmt: skip
    one_dose = matrix_frame(grid([0, 10], DOSES, lambda a, b: hill(a + b, 10, 1)))
    for frame, label in ((constant, "constant_response"), (no_single, "missing_single_agent"),
                         (one_dose, "one_dose_only")):  # fmt: skip
        s = Synergy(n_boot=10, musyc=True).fit(from_frame(frame))
        assert label in s.summary_["status"].iloc[0], (label, s.summary_["status"].iloc[0])
    s = Synergy(n_boot=0).fit(from_frame(no_single))
    assert np.isnan(s.summary_["bliss"].iloc[0])


def test_reader_errors_say_where(tmp_path: Path) -> None:
    base = matrix_frame({(0, 0): 1.0, (1, 1): 2.0})
    bad = base.astype({"conc2": object})
    bad.loc[1, "conc2"] = "lots"
    with pytest.raises(InputError) as e:
        from_frame(bad, path="x.csv")
    assert (
        e.value.location is not None
        and e.value.location.row == 2
        and e.value.location.column == "conc2"
    )
    with pytest.raises(InputError, match="unit"):
        from_frame(base.drop(columns="conc_unit"))
    mixed = base.assign(line=["parental", "resistant"])
    with pytest.raises(InputError, match="more than one value in 'line'"):
        from_frame(mixed)
    with pytest.raises(InputError, match="not a drug-combination table"):
        from_frame(pd.DataFrame({"dose": [1], "response": [2]}))
    path = tmp_path / "old.csv"
    pd.DataFrame({"block_id": [1, 1], "drug_row": ["A", "A"], "drug_col": ["B", "B"], "conc_r": [0, 1],
                  "conc_c": [0, 1], "response": [0, 50], "conc_r_unit": "nM", "conc_c_unit": "uM"}).to_csv(path, index=False)  # fmt: skip
    old = read_combinations(path)
    assert old.data["conc2"].max() == pytest.approx(1e-6) and old.data[
        "conc1"
    ].max() == pytest.approx(1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0, 10.0, -1.0, float("nan")]),
                          st.sampled_from([0.0, 3.0, 30.0]),
                          st.one_of(st.floats(allow_nan=True, allow_infinity=False, width=32), st.just("x"))),
                min_size=1, max_size=30))  # fmt: skip
def test_reader_never_crashes_and_keeps_every_row(rows: list[tuple[float, float, object]]) -> None:
    frame = pd.DataFrame({"block_id": 1, "drug1": "A", "drug2": "B", "conc1": [r[0] for r in rows],
                          "conc2": [r[1] for r in rows], "response": [r[2] for r in rows], "conc_unit": "nM"})  # fmt: skip
    try:
        combos = from_frame(frame)
    except InputError as exc:
        assert exc.location is not None
        return
    assert len(combos.data) == len(frame)
    Synergy(n_boot=5, musyc=False).fit(combos)  # any numbers: a result, never an exception


def test_three_drug_bliss_and_hsa_agree_with_synergy_package(shared_data: Path) -> None:
    pytest.importorskip("synergy")
    from synergy.higher import HSA, Bliss
    from synergy.single import LogLinear

    df = pd.read_csv(shared_data / "synergy" / "synergy_pkg" / "3d.csv")
    d = df[["drug1.conc", "drug2.conc", "drug3.conc"]].to_numpy()
    frame = pd.DataFrame({"block_id": 1, "drug1": "A", "drug2": "B", "drug3": "C", "conc1": d[:, 0],
                          "conc2": d[:, 1], "conc3": d[:, 2], "response": df["E"], "conc_unit": "uM"})  # fmt: skip
    ours = Synergy(["bliss", "hsa"], n_boot=0, musyc=False).fit(
        from_frame(frame, response="viability_fraction")
    )
    m = ours.matrix_
    full = m[(m[["conc1", "conc2", "conc3"]] > 0).all(axis=1)]
    assert len(full) == 125
    for name, cls in (("bliss", Bliss), ("hsa", HSA)):
        model = cls(single_drug_models=[LogLinear(aggregation_function=np.mean) for _ in range(3)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            syn = model.fit(d, df["E"].to_numpy())
        theirs = pd.DataFrame({"conc1": d[:, 0] * 1e-6, "conc2": d[:, 1] * 1e-6, "conc3": d[:, 2] * 1e-6,
                               "theirs": 100 * np.asarray(syn)}).groupby(["conc1", "conc2", "conc3"], as_index=False).mean()  # fmt: skip
        j = full.merge(theirs, on=["conc1", "conc2", "conc3"])
        assert len(j) == 125
        np.testing.assert_allclose(j[name], j["theirs"], atol=1e-9)


def test_sham_matrix_without_single_agents_is_labelled(shared_data: Path) -> None:
    # The synergy package's "sham" matrix: a drug with itself, no single-agent wells at all.
    df = pd.read_csv(shared_data / "synergy" / "synergy_pkg" / "sham_2d.csv")
    frame = pd.DataFrame({"block_id": 1, "drug1": "A", "drug2": "A", "conc1": df["drug1.conc"],
                          "conc2": df["drug2.conc"], "response": df["E"], "conc_unit": "uM"})  # fmt: skip
    s = Synergy(n_boot=10).fit(from_frame(frame, response="viability_fraction"))
    status = s.summary_["status"].iloc[0]
    assert "missing_single_agent" in status and "single_drug_fit_failed" in status
    assert np.isnan(s.summary_[["bliss", "hsa", "loewe", "zip"]].to_numpy()).all()
