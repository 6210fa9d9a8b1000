"""The signalling model's doors: parsing, run_signal, the API, `trkres signal`, the study section."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import trkres as tr
from support import write_study
from trkres.cli import app
from trkres.errors import InputError, TrkresError
from trkres.knowledge.loader import load_knowledge
from trkres.models.signalling.genotype import parse_genotype, parse_treatment
from trkres.models.signalling.run import half_maximal, run_signal

KB = load_knowledge()
VIABILITY = "drug\tline\tdose\tunit\tresponse\n" + "".join(
    f"laro\tparental\t{d}\tnM\t{1 / (1 + d / 30):.4f}\n" for d in (1, 3, 10, 30, 100, 300, 1000)
)


@pytest.mark.parametrize(
    ("text", "form", "mechanisms"),
    [
        ("LMNA::NTRK1", "wild_type", ()),
        ("LMNA-NTRK1 + NTRK1 G595R", "solvent_front", ("solvent_front",)),
        ("ETV6--NTRK3 + NTRK3 G623R", "solvent_front", ("solvent_front",)),
        ("LMNA::NTRK1 + NTRK1 F589L", "gatekeeper", ("gatekeeper",)),
        ("TPM3::NTRK1 + NTRK1 G667C", "xdfg", ("xdfg",)),
        ("LMNA::NTRK1 + NTRK1 G595R + KRAS G12D", "solvent_front", ("solvent_front", "ras_mutant")),
        ("LMNA::NTRK1 + NRAS Q61K", "wild_type", ("ras_mutant",)),
        ("LMNA::NTRK1 + BRAF p.V600E", "wild_type", ("braf_v600e",)),
        ("lmna::ntrk1 + kras g12v", "wild_type", ("ras_mutant",)),
        ("PLEKHA6::NTRK1 + MET amplification", "wild_type", ("met_amplification",)),
    ],
)
def test_genotypes_map_to_mechanisms(text: str, form: str, mechanisms: tuple[str, ...]) -> None:
    g = parse_genotype(text, KB)
    assert g.kinase_form == form
    assert g.mechanisms == mechanisms
    assert g.trk_gene.startswith("NTRK")


def test_mechanisms_set_parameters_and_amounts() -> None:
    kras = parse_genotype("LMNA::NTRK1 + KRAS G12D", KB)
    assert kras.parameters["f_gap_mut"] < 0.1 and kras.initial["RasMGDP"] > 0
    met = parse_genotype("LMNA::NTRK1 + MET amplification", KB)
    assert met.initial["MET"] == pytest.approx(50 * 0.02)
    assert parse_genotype("LMNA::NTRK1 + BRAF V600E", KB).parameters["braf_v600e"] > 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty genotype"),
        ("KRAS G12D", "must start with a TRK fusion"),
        ("EML4::ALK", "no NTRK gene"),
        ("LMNA::NTRK1 + NTRK3 G623R", "not in the fused gene"),
        ("LMNA::NTRK1 + NTRK1 G596R", "not a kinase-domain resistance position"),
        ("LMNA::NTRK1 + NTRK1 V573M", "no drug potencies"),
        ("LMNA::NTRK1 + EGFR L858R", "cannot represent"),
        ("LMNA::NTRK1 + NTRK1 G595R + NTRK1 G667C", "two kinase-domain mutations"),
        ("LMNA::NTRK1 + KRAS G12D + NRAS Q61K", "listed twice"),
        ("LMNA::NTRK1 + NTRK1 G595G", "not a missense change"),
        ("LMNA::NTRK1 + NTRK1 A595R", "reference residue is wrong"),
        ("LMNA::NTRK1 + KRAS A12D", "reference residue is wrong"),
        ("LMNA::NTRK1 + KRAS G12*", "not a missense change"),
        ("LMNA::NTRK1 + NRAS G61K", "reference residue is wrong"),
        ("LMNA::NTRK1; KRAS G12D", "joined by '\\+'"),
        ("LMNA::NTRK1 + KRAS G12D, BRAF V600E", "join alterations with '\\+'"),
    ],
)
def test_bad_genotypes_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_genotype(text, KB)


def test_treatments_parse_units_and_synonyms() -> None:
    t = parse_treatment("LOXO-195=0.05uM + MEK162=50 nM", KB)
    assert t.doses_nm == {"selitrectinib": pytest.approx(50.0), "binimetinib": pytest.approx(50.0)}
    assert parse_treatment("none", KB).doses_nm == {}
    assert parse_treatment("larotrectinib=1µM", KB).doses_nm["larotrectinib"] == pytest.approx(1000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("larotrectinib", "needs a dose"),
        ("larotrectinib=100", "bad dose"),
        ("larotrectinib=100 mg", "bad dose"),
        ("aspirin=1nM", "unknown drug"),
        ("osi-906=1nM", "no potencies"),
        ("larotrectinib=1nM+LOXO-101=2nM", "listed twice"),
        ("larotrectinib=2M", "implausible"),
    ],
)
def test_bad_treatments_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_treatment(text, KB)


def test_half_maximal_interpolates_on_log_dose() -> None:
    doses = np.array([1.0, 10.0, 100.0])
    assert half_maximal(doses, np.array([1.0, 0.75, 0.25])) == pytest.approx(10**1.5)
    assert np.isnan(half_maximal(doses, np.array([1.0, 0.9, 0.8])))
    assert half_maximal(doses, np.array([0.4, 0.3, 0.2])) == 1.0


def test_run_signal_tables_and_accounting() -> None:
    res = run_signal({"genotypes": ["LMNA::NTRK1", "LMNA::NTRK1 + NTRK1 G595R"],
                      "treatments": ["larotrectinib=100nM"], "times_h": [24, 2],
                      "dose_points": 5})  # fmt: skip
    readouts = res["readouts"]
    # 2 genotypes × 2 treatments (none added) × (4 readouts × 2 times + viability once)
    assert len(readouts) == 2 * 2 * (4 * 2 + 1)
    assert list(readouts.columns) == ["genotype", "treatment", "time_h", "readout", "value"]
    assert set(readouts["time_h"]) == {2.0, 24.0, 72.0}
    assert res.options.times_h == [2.0, 24.0]
    assert len(res["dose_response"]) == 2 * 1 * 5 * 2  # genotypes × drugs × doses × readouts
    assert set(res["ic50"]["readout"]) == {"pERK", "viability"}
    wide = res.readout("pERK", 2)
    assert list(wide.index) == ["LMNA::NTRK1", "LMNA::NTRK1 + NTRK1 G595R"]
    assert list(wide.columns) == ["none", "larotrectinib=100nM"]
    assert {"assumption"} <= set(res["parameters"]["source"])
    assert res.simulations == 2 * 2 + 2 * (5 + 1)  # each grid adds its untreated reference
    assert not res.warnings
    with pytest.raises(InputError, match="unknown readout"):
        res.readout("pSTAT3")


def test_run_signal_refuses_duplicate_genotypes_and_bad_options() -> None:
    with pytest.raises(InputError, match="the same"):
        run_signal({"genotypes": ["LMNA::NTRK1", "LMNA-NTRK1"], "treatments": ["none"]})
    with pytest.raises(InputError, match="times_h"):
        run_signal({"times_h": [0]})
    with pytest.raises(InputError, match="unknown option"):
        run_signal({"time": [2]})


def test_api_simulate_and_model() -> None:
    res = tr.signalling.simulate("LMNA::NTRK1", "larotrectinib=100nM", times_h=[2], dose_points=0)
    assert res.readout("pERK").loc["LMNA::NTRK1", "larotrectinib=100nM"] < 0.25
    net = tr.signalling.model()
    assert len(net.species) == 25
    assert all(p.source for p in net.parameters)


def test_api_export_sbml(tmp_path: Path) -> None:
    pytest.importorskip("libsbml")
    text = tr.signalling.export_sbml(tmp_path / "trk.xml")
    assert "<sbml" in text and "ppERK" in text
    assert (tmp_path / "trk.xml").read_text(encoding="utf-8") == text


@settings(max_examples=40, deadline=None)
@given(
    genotypes=st.one_of(
        st.none(), st.integers(), st.text(max_size=30), st.lists(st.text(max_size=20), max_size=3)
    ),
    treatments=st.one_of(
        st.none(), st.floats(), st.text(max_size=30), st.lists(st.text(max_size=20), max_size=3)
    ),
    times=st.one_of(
        st.just([2.0]), st.lists(st.floats(allow_nan=True), max_size=3), st.text(max_size=5)
    ),
)
def test_api_bad_arguments_raise_trkres_errors(genotypes, treatments, times) -> None:
    with contextlib.suppress(TrkresError):
        tr.signalling.simulate(genotypes, treatments, times_h=times, dose_points=0)


def test_cli_writes_tables_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "signal"
    result = CliRunner().invoke(app, ["signal", "-g", "LMNA::NTRK1 + KRAS G12D", "-t",
                                      "larotrectinib=100nM", "-t",
                                      "larotrectinib=100nM+trametinib=10nM", "--time", "2",
                                      "--dose-points", "5", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    for name in ("readouts", "levels", "dose_response", "ic50", "genotypes", "potencies",
                 "parameters"):  # fmt: skip
        assert (out / f"{name}.tsv").is_file()
    readouts = pd.read_csv(out / "readouts.tsv", sep="\t")
    assert set(readouts["readout"]) == {"pTRK", "pMEK", "pERK", "pAKT", "viability"}
    assert (out / "figures" / "signal_heatmap_pERK.svg").is_file()


def test_cli_bad_genotype_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["signal", "-g", "LMNA::NTRK1 + EGFR L858R", "-t",
                                      "larotrectinib=1nM", "-o", str(tmp_path / "x")])  # fmt: skip
    assert result.exit_code == 1
    assert isinstance(result.exception, InputError)
    assert "cannot represent" in str(result.exception)
    assert not (tmp_path / "x").exists()


def test_study_section_runs_only_when_given_options(tmp_path: Path) -> None:
    manifest = """
name: signalling only
inputs:
  - {id: viability, kind: dose_response, path: viability.tsv}
options:
  signalling:
    genotypes: ["LMNA::NTRK1", "LMNA::NTRK1 + NTRK1 G595R"]
    treatments: ["larotrectinib=100nM", "selitrectinib=50nM"]
    times_h: [2]
    dose_points: 5
"""
    study = write_study(tmp_path / "s", manifest, {"viability.tsv": VIABILITY})
    result = tr.study.run(study)
    try:
        names = [s.name for s in result.sections]
        assert "signalling" in names
        section = next(s for s in result.sections if s.name == "signalling")
        assert "potencies:larotrectinib_trk_enzyme" in section.facts_used
        assert "kinase_positions:solvent_front" in section.facts_used
    finally:
        result.close()


def test_study_with_bad_signalling_options_points_at_the_line(tmp_path: Path) -> None:
    manifest = """
name: bad
inputs:
  - {id: viability, kind: dose_response, path: viability.tsv}
options:
  signalling:
    times_h: [-1]
"""
    study = write_study(tmp_path / "s", manifest, {"viability.tsv": VIABILITY})
    with pytest.raises(TrkresError, match=r"line 7.*times_h"):
        tr.study.run(study)


def test_docs_list_every_core_parameter_with_its_value() -> None:
    from support import REPO
    from trkres.models.signalling.trk import CORE_PARAMETERS

    text = (REPO / "docs" / "signalling.md").read_text(encoding="utf-8")
    for name, value, *_ in CORE_PARAMETERS:
        assert f"| `{name}` | {value:g} |" in text, name


def test_figures_draw_from_a_result_and_refuse_what_it_lacks() -> None:
    from matplotlib.figure import Figure

    from trkres.pl.signalling import signal_figures
    from trkres.pl.style import close

    res = tr.signalling.simulate(["LMNA::NTRK1", "LMNA::NTRK1 + BRAF V600E"],
                                 ["larotrectinib=100nM", "dabrafenib=100nM+trametinib=10nM"],
                                 times_h=[2, 24], dose_points=5)  # fmt: skip
    fig = Figure()
    for draw in (tr.pl.signal_heatmap, tr.pl.signal_dose_response, tr.pl.signal_time_course):
        ax = fig.add_subplot()
        assert draw(res, ax=ax) is ax
    assert len(fig.axes[0].texts) == 2 * 3  # one number per genotype × treatment cell
    with pytest.raises(InputError, match="no pERK at 5 h"):
        tr.pl.signal_heatmap(res, "pERK", time_h=5, ax=fig.add_subplot())
    with pytest.raises(InputError, match="no dose-response curve"):
        tr.pl.signal_dose_response(res, "crizotinib", ax=fig.add_subplot())
    with pytest.raises(InputError, match="no such genotype"):
        tr.pl.signal_time_course(res, "ETV6::NTRK3", ax=fig.add_subplot())
    figures = signal_figures(res)
    names = [f.name for f in figures]
    assert names[:3] == ["signal_heatmap_pERK", "signal_heatmap_pAKT", "signal_heatmap_viability"]
    assert {"signal_dose_larotrectinib", "signal_time_1", "signal_time_2"} <= set(names)
    for f in figures:
        close(f.static)


def test_growth_rates_follow_viability() -> None:
    res = tr.signalling.simulate("LMNA::NTRK1", "larotrectinib=100nM", times_h=[2], dose_points=0)
    rates = res["growth_rates"].set_index("treatment")["net_growth_per_day"]
    assert rates["none"] > 0 > rates["larotrectinib=100nM"]  # grows untreated, shrinks treated
    via = res.readout("viability").iloc[0, 1]
    assert np.exp((rates["larotrectinib=100nM"] - rates["none"]) * 3) == pytest.approx(
        via, rel=1e-6
    )
    doubling = res["growth_rates"].set_index("treatment")["doubling_days"]
    assert 0.8 < doubling["none"] < 1.2  # ~24 h, as docs/signalling.md states


def test_study_genotype_errors_point_at_their_line(tmp_path: Path) -> None:
    manifest = """name: bad genotype
inputs:
  - {id: viability, kind: dose_response, path: viability.tsv}
options:
  signalling:
    genotypes:
      - "LMNA::NTRK1"
      - "LMNA::NTRK1 + EGFR amplification"
"""
    study = write_study(tmp_path / "s", manifest, {"viability.tsv": VIABILITY})
    with pytest.raises(InputError, match="cannot represent") as err:
        tr.study.run(study)
    assert err.value.location is not None and err.value.location.line == 8


def test_only_signalling_without_options_is_refused(tmp_path: Path) -> None:
    manifest = (
        "name: none\ninputs:\n  - {id: viability, kind: dose_response, path: viability.tsv}\n"
    )
    study = write_study(tmp_path / "s", manifest, {"viability.tsv": VIABILITY})
    with pytest.raises(TrkresError, match=r"runs only when study\.yaml gives it options"):
        tr.study.run(study, only=["signalling"])
