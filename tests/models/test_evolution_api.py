"""The doors: tr.evolution (with a fuzz of bad arguments), trkres evolve, the study section."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import trkres as tr
from support import write_study
from trkres.cli import app
from trkres.errors import InputError, TrkresError
from trkres.models.evolution.options import EvolutionOptions
from trkres.models.evolution.run import run_evolution

ROOT = Path(__file__).resolve().parents[2]
COCCO = ROOT / "examples" / "evolution" / "cocco_trk_mek.yaml"

SMALL = {
    "name": "small", "detection_size": 200, "progression_size": 400, "horizon": 300,
    "birth": 1.0, "death": 0.5, "death_on_drug": 1.5,
    "types": {"sensitive": {"resists": []}, "r": {"resists": ["A"]}},
    "mutations": [{"from": "sensitive", "to": "r", "rate": 1e-3}],
    "regimens": {"mono": [{"drugs": ["A"]}]},
}  # fmt: skip


def test_api_simulate_and_read() -> None:
    sc = tr.evolution.read_scenario(COCCO)
    res = tr.evolution.simulate(sc, patients=500, seed=4, regimens=["upfront"])
    assert res.regimens == ("upfront",) and list(res["summary"]["regimen"]) == ["upfront"]
    assert set(res) == {"summary", "composition", "km", "patients"}
    cols = ["patient", "regimen", "outcome", "time_to_progression", "resistant_at_start",
            "progression_type", "steps_reached", "stopped_early"]  # fmt: skip
    assert list(res["patients"].columns) == cols
    s = res["summary"].iloc[0]
    assert s["p_cure_ci_low"] <= s["p_cure"] <= s["p_cure_ci_high"]
    with pytest.raises(InputError, match="unknown option"):
        tr.evolution.simulate(sc, patiens=3)
    with pytest.raises(InputError, match="the exact engine cannot reach"):
        tr.evolution.simulate(sc, method="exact")
    greedy = {**SMALL, "detection_size": 1e9, "progression_size": 2e9,
              "mutations": [{"from": "sensitive", "to": "r", "rate": 0.01}]}  # fmt: skip
    with pytest.raises(InputError, match="too high for the hybrid engine"):
        tr.evolution.simulate(greedy, patients=10)
    assert tr.evolution.rates_from_growth(0.01, birth=0.14) == pytest.approx(
        {"birth": 0.14, "death": 0.13}
    )


def test_cli_writes_the_tables_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["evolve", str(COCCO), "-o", str(out), "--patients", "300",
                                      "--seed", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("summary.tsv", "patients.tsv", "composition.tsv", "km.tsv",
                 "figures/evolution_km.svg", "figures/evolution_cure.png"):  # fmt: skip
        assert (out / name).is_file(), name
    header = (out / "summary.tsv").read_text().splitlines()[0].split("\t")
    for col in ("regimen", "patients", "p_cure", "p_cure_ci_low", "p_progression", "median_ttp",
                "p_resistance_at_start"):  # fmt: skip
        assert col in header
    help_text = CliRunner().invoke(app, ["evolve", "--help"]).output
    assert "Example" in help_text and "progression" in help_text
    bad = CliRunner().invoke(app, ["evolve", str(COCCO), "-o", str(tmp_path / "b"),
                                   "--method", "fast"])  # fmt: skip
    assert bad.exit_code != 0 and "--method" in str(bad.exception)


def test_study_section(tmp_path: Path) -> None:
    # The section alone (tr.study.run would also import every installed plug-in).
    from trkres.models.evolution.section import evolution_section
    from trkres.study.manifest import load_study
    from trkres.study.registry import AnalysisContext

    manifest = ("name: evo\ninputs:\n  - {kind: evolution_scenario, path: s.yaml}\n"
                "options:\n  evolution: {patients: 200, seed: 3}\n")  # fmt: skip
    folder = write_study(tmp_path / "s", manifest, {"s.yaml": COCCO.read_text()})
    study = load_study(folder)
    opts = EvolutionOptions(**study.manifest.options["evolution"])
    section = evolution_section(AnalysisContext(study, None, opts))  # type: ignore[arg-type]
    tables = {t.name: t for t in section.tables}
    assert "evolution_summary" in tables and len(tables["evolution_patients"].frame) == 400
    assert not tables["evolution_patients"].in_report
    assert {f.name for f in section.figures} >= {"evolution_km", "evolution_cure"}


def test_run_evolution_refuses_other_options() -> None:
    with pytest.raises(InputError, match="wrong options"):
        run_evolution(SMALL, object())  # type: ignore[arg-type]
    res = run_evolution(SMALL, EvolutionOptions(patients=50, seed=1))
    assert res.method == "exact" and res.patients_per_second > 0


ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**9), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5), st.sampled_from(["exact", "hybrid", "dask", "mono", "-1"]),
    st.lists(st.sampled_from(["mono", "x", ""]), max_size=2), st.just({"a": 1}),
)  # fmt: skip
KEYS = ["patients", "seed", "engine", "method", "regimens", "threads", "block_size", "bogus",
        "vary", "vary_points"]  # fmt: skip
SCENARIO_KEYS = ["detection_size", "progression_size", "horizon", "birth", "death",
                 "death_on_drug", "initial_cells", "types", "mutations", "regimens", "name"]  # fmt: skip


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(option=st.sampled_from(KEYS), value=ODD, key=st.sampled_from(SCENARIO_KEYS), bad=ODD,
       which=st.integers(0, 2))  # fmt: skip
def test_fuzz_only_trkres_errors(option: str, value: Any, key: str, bad: Any, which: int) -> None:
    try:
        if which == 0:
            opts = {option: value}
            if option == "patients" and isinstance(value, int) and value > 50:
                opts[option] = 50
            tr.evolution.simulate(SMALL, **{"patients": 20, **opts})
        elif which == 1:
            tr.evolution.simulate({**SMALL, key: bad}, patients=20)
        else:
            out = tr.evolution.p_cure_single_drug(bad, 1e-6, 0.14, 0.13, 0.17)
            assert 0 <= out <= 1 or math.isnan(out)
    except TrkresError:
        pass


def test_sensitivity_sweeps_one_parameter_at_a_time(tmp_path: Path) -> None:
    res = tr.evolution.simulate(SMALL, patients=300, seed=2, method="hybrid",
                                vary={"death_on_drug": (1.2, 2.0), "rate.sensitive.r": (1e-4, 1e-2)},
                                vary_points=3)  # fmt: skip
    sens = res["sensitivity"]
    assert len(sens) == 6 and set(sens["parameter"]) == {"death_on_drug", "rate.sensitive.r"}
    rates = sens[sens["parameter"] == "rate.sensitive.r"]["value"].tolist()
    assert rates == pytest.approx([1e-4, 1e-3, 1e-2])  # a log grid: hi/lo >= 100
    cure = sens[sens["parameter"] == "rate.sensitive.r"]["p_cure"].to_numpy()
    assert cure[0] > cure[-1]  # more mutants, fewer cures
    with pytest.raises(InputError, match="unknown parameter"):
        tr.evolution.simulate(SMALL, patients=10, vary={"rate.r.sensitive": (0.1, 0.2)})
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["evolve", str(COCCO), "-o", str(out), "--patients", "100",
                                      "--vary", "death_on_drug=0.15:0.2", "--vary-points", "2",
                                      "--no-figures"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "sensitivity.tsv").is_file()
    bad = CliRunner().invoke(app, ["evolve", str(COCCO), "-o", str(tmp_path / "b"),
                                   "--vary", "death_on_drug=0.15"])  # fmt: skip
    assert bad.exit_code != 0 and "--vary" in str(bad.exception)
