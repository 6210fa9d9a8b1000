"""Scenario rates from trkres results, the knowledge base and joint sensitivity (issue 19 item 4)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import trkres as tr
from trkres.cli import app
from trkres.errors import InputError, TrkresError
from trkres.models.evolution.kb_rates import mutation_table

ROOT = Path(__file__).resolve().parents[2]
COCCO = ROOT / "examples" / "evolution" / "cocco_trk_mek.yaml"
XENO = ROOT / "examples" / "ntrk_resistance" / "lab" / "xenograft_larotrectinib_trametinib.csv"


def _growth(tmp: Path, rows: list[tuple[str, object]], unit: str = "1/day (natural log)") -> Path:
    out = tmp / "invivo"
    out.mkdir(exist_ok=True)
    pd.DataFrame({"arm": [r[0] for r in rows], "slope": [r[1] for r in rows],
                  "slope_unit": unit}).to_csv(out / "growth_model.tsv", sep="\t", index=False)  # fmt: skip
    return out


def _gr(tmp: Path) -> Path:
    path = tmp / "gr_metrics.tsv"
    pd.DataFrame({"cell_line": ["KM12", "KM12", "KM12"],
                  "agent": ["larotrectinib", "trametinib", "larotrectinib"],
                  "time": [72, 72, 24], "GRmax": [-0.5, 0.3, "nan"],
                  "GRinf": [-0.4, 0.25, 0.1]}).to_csv(path, sep="\t", index=False)  # fmt: skip
    return path


def test_arm_slopes_set_death_and_birth_exactly(tmp_path: Path) -> None:
    folder = _growth(tmp_path, [("vehicle", 0.01), ("laro", -0.03), ("bypass", 0.008)])
    sc, table = tr.evolution.rates_from_results(
        COCCO,
        ["death=arm:vehicle", "death_on_drug=arm:laro", "types.mapk_bypass.birth=arm:bypass"],
        folder,
    )
    # birth 0.14 in the scenario: death = 0.14 - 0.01, death_on_drug = 0.14 + 0.03,
    # bypass birth = the new death 0.13 + 0.008
    assert sc.death == pytest.approx(0.13)
    assert sc.death_on_drug == pytest.approx(0.17)
    assert sc.types["mapk_bypass"].birth == pytest.approx(0.138)
    assert list(table["row"]) == [1, 2, 3] and set(table["column"]) == {"slope"}
    assert set(table["table"]) == {"growth_model"} and (table["unit"] == "per cell per day").all()
    assert table["file"].iloc[0] == str(folder / "growth_model.tsv")


def test_gr_maps_to_death_on_drug(tmp_path: Path) -> None:
    path = _gr(tmp_path)
    sc, table = tr.evolution.rates_from_results(
        COCCO, ["death_on_drug=gr:GRmax:agent=larotrectinib,time=72"], [path]
    )
    # net on drug = (0.14 - 0.13) * log2(1 - 0.5) = -0.01 → death_on_drug = 0.15
    assert sc.death_on_drug == pytest.approx(0.15)
    assert table["row"].iloc[0] == 1 and table["column"].iloc[0] == "GRmax"
    sc2, _ = tr.evolution.rates_from_results(
        COCCO, ["death_on_drug=gr:GRinf:agent=trametinib"], [path]
    )
    assert sc2.death_on_drug == pytest.approx(0.14 - 0.01 * math.log2(1.25))


@pytest.mark.parametrize(
    ("rate", "match", "where"),
    [
        ("death_on_drug=arm:nope", "arm 'nope' not found", "column arm"),
        ("death=arm:bad", "not a finite number", "row 2, column slope"),
        ("death=arm:huge", "death would be", "row 3, column slope"),
        ("death_on_drug=gr:GRmax:agent=larotrectinib", "2 rows match", "gr_metrics.tsv"),
        (
            "death_on_drug=gr:GRmax:agent=larotrectinib,time=24",
            "not a finite",
            "row 3, column GRmax",
        ),
        ("death_on_drug=gr:GRmax:dose=1", "lacks column 'dose'", "line 1"),
        ("death_on_drug=gr:IC50:agent=x", "GR column", ""),
        ("birth=gr:GRmax:agent=x", "sets only death_on_drug", ""),
        ("lethality=arm:laro", "unknown field", ""),
        ("death=vivo:laro", "unknown source", ""),
        ("types.ghost.birth=arm:laro", "no type 'ghost'", ""),
    ],
)
def test_bad_rates_name_file_row_column(tmp_path: Path, rate: str, match: str, where: str) -> None:
    folder = _growth(tmp_path, [("laro", -0.03), ("bad", "NA"), ("huge", 0.5)])
    with pytest.raises(TrkresError, match=match) as info:
        tr.evolution.rates_from_results(COCCO, [rate], [folder, _gr(tmp_path)])
    assert where in str(info.value)


def test_missing_table_and_wrong_unit(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no growth_model\.tsv"):
        tr.evolution.rates_from_results(COCCO, ["death=arm:x"], [tmp_path])
    folder = _growth(tmp_path, [("x", 0.01)], unit="1/week")
    with pytest.raises(InputError, match="not per day"):
        tr.evolution.rates_from_results(COCCO, ["death=arm:x"], folder)


def test_cli_from_a_real_invivo_run(tmp_path: Path) -> None:
    inv = tmp_path / "inv"
    r = CliRunner().invoke(app, ["invivo", str(XENO), "-o", str(inv), "--no-figures"])
    assert r.exit_code == 0, r.output
    growth = pd.read_csv(inv / "growth_model.tsv", sep="\t")
    slopes = dict(zip(growth["arm"], growth["slope"], strict=True))
    out = tmp_path / "evo"
    r = CliRunner().invoke(app, ["evolve", str(COCCO), "-o", str(out), "--patients", "50",
                                 "--no-figures", "--rates-from", str(inv),
                                 "--rate", "death=arm:Vehicle",
                                 "--rate", "death_on_drug=arm:Larotrectinib+Trametinib",
                                 "--rate", "rate.sensitive.on_target=kb:solvent_front"])  # fmt: skip
    assert r.exit_code == 0, r.output
    rates = pd.read_csv(out / "rates.tsv", sep="\t")
    kb = rates.iloc[2]
    assert kb["field"] == "rate.sensitive.on_target" and kb["value"] == pytest.approx(2e-9)
    assert pd.isna(kb["row"]) and kb["file"] == "trkres knowledge base"
    rates = rates.iloc[:2]
    assert rates["value"].tolist() == pytest.approx(
        [0.14 - slopes["Vehicle"], 0.14 - slopes["Larotrectinib+Trametinib"]]
    )
    assert rates["row"].tolist() == [list(growth["arm"]).index("Vehicle") + 1,
                                     list(growth["arm"]).index("Larotrectinib+Trametinib") + 1]  # fmt: skip
    bad = CliRunner().invoke(app, ["evolve", str(COCCO), "-o", str(tmp_path / "b"),
                                   "--rates-from", str(inv)])  # fmt: skip
    assert bad.exit_code != 0 and "--rate" in str(bad.exception)


def test_knowledge_counts_per_class_and_needs_review() -> None:
    table = tr.evolution.mutation_rates_from_knowledge()
    by = table.set_index("class")
    detail = mutation_table()
    for cls in ("solvent_front", "gatekeeper", "xdfg"):
        rows = detail[detail["class"] == cls]
        verified = rows[rows["status"] == "verified"]
        # each on-target entry is one substitution: the count is exactly the verified entries
        assert by.loc[cls, "mutations"] == len(verified)
        assert by.loc[cls, "unverified"] == len(rows) - len(verified)
        assert by.loc[cls, "rate"] == pytest.approx(len(verified) * 1e-9)
        assert "Bozic" in by.loc[cls, "per_base_source"]
    assert by.loc["gatekeeper", "unverified"] > 0 and not by["unverified_used"].any()
    assert "ntrk3_f617i" in by.loc["gatekeeper", "unverified_ids"]
    # amplifications and 'any mutation of the gene' have no site count and never enter a rate
    assert by.loc["other_bypass", "mutations"] == 0 and by.loc["other_bypass", "not_counted"] > 0
    wide = tr.evolution.mutation_rates_from_knowledge(2e-9, include_unverified=True).set_index(
        "class"
    )
    assert (
        wide.loc["gatekeeper", "mutations"]
        == by.loc["gatekeeper", "mutations"] + by.loc["gatekeeper", "unverified"]
    )
    assert wide.loc["gatekeeper", "rate"] == pytest.approx(
        2e-9 * wide.loc["gatekeeper", "mutations"]
    )
    assert wide.loc["gatekeeper", "per_base_source"] == "given by the user"
    # BRAF V600E (verified) and the hotspot residue V600 (needs_review) are one site
    mapk = detail[(detail["class"] == "mapk_bypass") & (detail["sites"] > 0)]
    assert wide.loc["mapk_bypass", "mutations"] == len(mapk) - 2  # BRAF V600, KRAS G12 overlap
    with pytest.raises(InputError, match="per-base"):
        tr.evolution.mutation_rates_from_knowledge(2.0)


def test_kb_rate_sets_a_mutation_rate() -> None:
    by = tr.evolution.mutation_rates_from_knowledge().set_index("class")
    n = int(by.loc[["solvent_front", "gatekeeper", "xdfg"], "mutations"].sum())
    sc, table = tr.evolution.rates_from_results(
        COCCO, ["rate.sensitive.on_target=kb:solvent_front+gatekeeper+xdfg:2e-9"]
    )
    rate = next(m.rate for m in sc.mutations if m.source == "sensitive" and m.target == "on_target")
    assert rate == pytest.approx(n * 2e-9)
    assert table["unit"].iloc[0] == "per division" and "needs_review" in table["mapping"].iloc[0]
    sc2, _ = tr.evolution.rates_from_results(
        COCCO, ["rate.sensitive.on_target=kb:gatekeeper"], include_unverified=True
    )
    rate2 = next(
        m.rate for m in sc2.mutations if m.target == "on_target" and m.source == "sensitive"
    )
    assert rate2 == pytest.approx(
        1e-9 * (by.loc["gatekeeper", "mutations"] + by.loc["gatekeeper", "unverified"])
    )
    for bad, match in [("rate.sensitive.on_target=kb:nowhere", "unknown resistance class"),
                       ("rate.sensitive.on_target=kb:other_bypass", "no counted mutation"),
                       ("rate.sensitive.ghost=kb:xdfg", "no mutation from 'sensitive' to 'ghost'"),
                       ("death=kb:xdfg", "sets only rate.FROM.TO"),
                       ("rate.sensitive.on_target=kb:xdfg:big", "not a number")]:  # fmt: skip
        with pytest.raises(InputError, match=match):
            tr.evolution.rates_from_results(COCCO, [bad])


SMALL = {
    "name": "small", "detection_size": 200, "progression_size": 400, "horizon": 300,
    "birth": 1.0, "death": 0.5, "death_on_drug": 1.5,
    "types": {"sensitive": {"resists": []}, "r": {"resists": ["A"]}},
    "mutations": [{"from": "sensitive", "to": "r", "rate": 1e-3}],
    "regimens": {"mono": [{"drugs": ["A"]}]},
}  # fmt: skip


def test_latin_hypercube_one_value_per_stratum_and_seeded() -> None:
    from trkres.models.evolution.sensitivity import lhs

    k = 40
    v = lhs({"death_on_drug": (1.2, 2.0), "rate.sensitive.r": (1e-5, 1e-2)}, k, seed=7)
    lin = np.floor((v["death_on_drug"].to_numpy() - 1.2) / 0.8 * k)
    logs = np.floor((np.log10(v["rate.sensitive.r"].to_numpy()) + 5) / 3 * k)  # log strata
    assert sorted(lin) == list(range(k)) and sorted(logs) == list(range(k))
    assert v.equals(lhs({"death_on_drug": (1.2, 2.0), "rate.sensitive.r": (1e-5, 1e-2)}, k, seed=7))
    assert not v.equals(lhs({"death_on_drug": (1.2, 2.0), "rate.sensitive.r": (1e-5, 1e-2)}, k, 8))


def test_prcc_exact_values() -> None:
    from trkres.models.evolution.sensitivity import prcc

    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.random(30), "b": rng.random(30), "c": rng.random(30)})
    # y a monotone function of a alone: rank(y) = rank(a), so PRCC(a) = 1 exactly; for b
    # and c the ranks of a leave rank(y) no residual: their PRCC is 0/0, undefined
    r = prcc(x, np.exp(3 * x["a"].to_numpy()))
    assert r["a"] == pytest.approx(1.0)
    assert math.isnan(r["b"]) and math.isnan(r["c"])
    # y driven by a, with noise: b and c have partial correlations near 0
    noisy = prcc(x, x["a"].to_numpy() + 0.3 * rng.random(30))
    assert noisy["a"] > 0.8 and abs(noisy["b"]) < 0.5 and abs(noisy["c"]) < 0.5
    assert prcc(x, -(x["b"].to_numpy() ** 3))["b"] == pytest.approx(-1.0)
    assert all(math.isnan(v) for v in prcc(x.iloc[:4], np.arange(4.0)).values())  # n <= d + 1


def test_joint_sensitivity_ranks_the_mutation_rate(tmp_path: Path) -> None:
    ranges = {"death_on_drug": (1.2, 2.0), "rate.sensitive.r": (1e-4, 1e-2)}
    res = tr.evolution.simulate(SMALL, patients=300, seed=2, method="hybrid", sample=ranges,
                                samples=12)  # fmt: skip
    sets, ranks = res["samples"], res["sample_ranks"]
    assert len(sets) == 12 and list(sets.columns[:3]) == [
        "sample",
        "death_on_drug",
        "rate.sensitive.r",
    ]
    # every set is the scenario simulated with those values (same seed): one set re-run alone
    row = sets.iloc[5]
    alone = tr.evolution.simulate({**SMALL, "death_on_drug": row["death_on_drug"],
                                   "mutations": [{"from": "sensitive", "to": "r",
                                                  "rate": row["rate.sensitive.r"]}]},
                                  patients=300, seed=2, method="hybrid")["summary"]  # fmt: skip
    assert alone["p_cure"].iloc[0] == row["p_cure"]
    cure = ranks[ranks["outcome"] == "p_cure"].set_index("parameter")
    assert cure.index[0] == "rate.sensitive.r"  # sorted by |PRCC|: the mutation rate matters most
    assert (
        cure.loc["rate.sensitive.r", "prcc"] < -0.8
        and cure.loc["rate.sensitive.r", "spearman"] < -0.8
    )
    again = tr.evolution.simulate(SMALL, patients=300, seed=2, method="hybrid", sample=ranges,
                                  samples=12)["samples"]  # fmt: skip
    pd.testing.assert_frame_equal(sets, again)
    with pytest.raises(InputError, match="unknown parameter"):
        tr.evolution.simulate(SMALL, patients=10, sample={"lethality": (0.1, 0.2)}, samples=3)
    with pytest.raises(InputError, match="--sample set"):
        tr.evolution.simulate(SMALL, patients=10, sample={"death_on_drug": (-2.0, -1.0)}, samples=3)
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["evolve", str(COCCO), "-o", str(out), "--patients", "50",
                                 "--sample", "death_on_drug=0.15:0.2",
                                 "--sample", "rate.sensitive.on_target=1e-9:1e-7",
                                 "--samples", "4", "--no-figures"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(out / "samples.tsv", sep="\t")) == 4 * 2
    assert (out / "sample_ranks.tsv").is_file()
    bad = CliRunner().invoke(app, ["evolve", str(COCCO), "-o", str(tmp_path / "b"),
                                   "--sample", "death_on_drug=0.15"])  # fmt: skip
    assert bad.exit_code != 0 and "--sample" in str(bad.exception)


def test_gr_from_a_real_gr_run(tmp_path: Path) -> None:
    # counts with k_drug/k_0 = f known: GR = 2^f - 1, so log2(1 + GRmax) = f at the top doses
    f = {0.001: 1.0, 0.01: 0.9, 0.1: 0.3, 1: -0.4, 10: -0.5}
    lines = ["cell_line\tagent\treplicate\ttime\tconcentration\tcell_count\tcell_count__ctrl\t"
             "cell_count__time0"]  # fmt: skip
    lines += [f"KM12\tlarotrectinib\t1\t72\t{c}\t{1000 * 2 ** (3 * v):.9f}\t8000\t1000"
              for c, v in f.items()]  # fmt: skip
    counts = tmp_path / "counts.tsv"
    counts.write_text("\n".join(lines) + "\n")
    r = CliRunner().invoke(app, ["gr", str(counts), "-o", str(tmp_path / "gr")])
    assert r.exit_code == 0, r.output
    sc, table = tr.evolution.rates_from_results(
        COCCO, ["death_on_drug=gr:GRmax:cell_line=KM12,agent=larotrectinib"], tmp_path / "gr"
    )
    # GRmax = 2^-0.5 - 1: net on drug = (0.14 - 0.13) x (-0.5) → death_on_drug = 0.145
    assert sc.death_on_drug == pytest.approx(0.145, rel=1e-9)
    assert table["table"].iloc[0] == "gr_metrics" and table["row"].iloc[0] == 1
