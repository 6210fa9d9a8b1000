"""GR metrics against the GRmetrics package's own reference output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trkres.assays.doseresponse.grmetrics import compare_gr, fit_gr, gr_values

KEYS = ["cell_line", "agent", "perturbation", "replicate", "time"]


@pytest.fixture(scope="module")
def gr_ref(shared_data: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    folder = shared_data / "dose_response" / "grmetrics"
    read = lambda name: pd.read_csv(folder / name, sep="\t")  # noqa: E731
    return (
        read("toy_example_input1.tsv"),
        read("R_input1_GRvalues.tsv"),
        read("R_input1_GRmetrics.tsv"),
    )


def test_gr_values_match_grmetrics(gr_ref: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]) -> None:
    inp, values, _ = gr_ref
    np.testing.assert_allclose(gr_values(inp), values["GR"], rtol=1e-12)


def test_gr_metrics_match_grmetrics(
    gr_ref: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    inp, _, ref = gr_ref
    j = fit_gr(inp).merge(ref, on=KEYS, suffixes=("", "_R"))
    assert len(j) == len(ref) == 112
    assert (j["fit"] == j["fit_R"]).all()  # 100 sigmoid, 12 flat, the same ones
    for col in ("GRmax", "GR_AOC"):  # from the observed values: exact
        np.testing.assert_allclose(j[col], j[f"{col}_R"], rtol=1e-9)
    sig = j[j["fit"] == "sigmoid"]
    for col, rtol in (
        ("GEC50", 2e-3),
        ("GRinf", 1e-3),
        ("Hill", 1e-3),
        ("r2", 1e-5),
        ("pval", 1e-3),
    ):
        np.testing.assert_allclose(
            sig[col], sig[f"{col}_R"], rtol=rtol, atol=1e-4 if col == "GRinf" else 0
        )
    assert (np.isinf(j["GR50"]) == np.isinf(j["GR50_R"])).all()
    fin = np.isfinite(j["GR50"])
    np.testing.assert_allclose(j.loc[fin, "GR50"], j.loc[fin, "GR50_R"], rtol=2e-3)
    flat = j[j["fit"] == "flat"]
    np.testing.assert_allclose(flat["GRinf"], flat["GRinf_R"], rtol=1e-9)
    assert (flat["GEC50"] == 0).all() and (flat["Hill"] == 0.01).all()


def test_gr_fold_resistance_from_replicates() -> None:
    rows = []
    conc = np.logspace(-3, 1, 9)
    for line, gec50 in (("parental", 0.01), ("resistant", 1.0)):
        for rep, jitter in enumerate((0.9, 1.0, 1.1), start=1):
            gr = -0.3 + 1.3 / (1 + (conc / (gec50 * jitter)) ** 1.5)
            rows += [{"cell_line": line, "agent": "x", "replicate": rep, "time": 72,
                      "concentration": c, "GR": g} for c, g in zip(conc, gr, strict=True)]  # fmt: skip
    metrics = fit_gr(pd.DataFrame(rows))
    cmp = compare_gr(metrics, condition="cell_line", reference="parental")
    row = cmp.iloc[0]
    assert row["status"] == "ok" and row["fold_change"] == pytest.approx(100, rel=0.02)
    assert row["fold_ci_low"] < 100 < row["fold_ci_high"]
