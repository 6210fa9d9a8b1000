"""The three doors onto run_sanger: the command line (``trkres sanger``), the study
section and the Python API (``tr.sanger``); real traces end to end; speed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import trkres as tr
from trkres.assays.sanger.options import SangerOptions
from trkres.assays.sanger.run import CALL_COLUMNS, run_sanger
from trkres.assays.sanger.synthetic import make_trace, random_sequence, write_abif
from trkres.cli import app
from trkres.errors import TrkresError

DATA = Path(__file__).parents[1] / "data" / "sanger"
ISSUE_COLUMNS = ["position", "ref", "alt", "mutant_fraction", "ci_low", "ci_high", "noise",
                 "call", "codon", "protein_change"]  # fmt: skip
SITE = 200


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sanger")
    seq = random_sequence(450, 77)
    seq = seq[:SITE] + "GGG" + seq[SITE + 3 :]
    control = write_abif(make_trace(seq, seed=1, name="parental"), folder / "parental.ab1")
    sample = write_abif(make_trace(seq, {SITE: ("A", 0.35)}, seed=2, name="resistant"),
                        folder / "resistant.ab1")  # fmt: skip
    return sample, control


def test_calls_table_has_the_issue_s_columns_first() -> None:
    assert CALL_COLUMNS[: len(ISSUE_COLUMNS)] == ISSUE_COLUMNS


def test_cli_writes_calls_expect_and_figures(traces: tuple[Path, Path], tmp_path: Path) -> None:
    sample, control = traces
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "sanger", str(sample), "--control", str(control), "--gene", "NTRK1",
        "--codon-start", "595", "--codon-position", str(SITE + 1),
        "--expect", "NTRK1 G595R", "-o", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    calls = pd.read_csv(out / "calls.tsv", sep="\t")
    assert list(calls.columns[: len(ISSUE_COLUMNS)]) == ISSUE_COLUMNS
    assert list(calls["protein_change"]) == ["NTRK1 G595R"]
    assert abs(calls["mutant_fraction"].iloc[0] - 0.35) <= 0.05
    expect = pd.read_csv(out / "expect.tsv", sep="\t")
    assert bool(expect["detected"].iloc[0]) and "detected" in expect["answer"].iloc[0]
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"sanger_site_1.svg", "sanger_fractions.png"} <= figures
    assert "NTRK1 G595R" in result.output


def test_cli_bad_input_is_a_clear_error(traces: tuple[Path, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.ab1"
    bad.write_bytes(b"ABIF" + bytes(10))
    result = CliRunner().invoke(app, ["sanger", str(bad), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and isinstance(result.exception, TrkresError)
    assert not (tmp_path / "o").exists()
    result = CliRunner().invoke(app, ["sanger", str(traces[0]), "--strand", "x",
                                      "-o", str(tmp_path / "o")])  # fmt: skip
    assert result.exit_code == 1 and "strand" in str(result.exception)


def test_study_section(traces: tuple[Path, Path], tmp_path: Path) -> None:
    from trkres.assays.sanger.section import sanger_section
    from trkres.knowledge.loader import load_knowledge
    from trkres.study.manifest import load_study
    from trkres.study.registry import AnalysisContext

    sample, control = traces
    study = tmp_path / "study"
    study.mkdir()
    for p in (sample, control):
        (study / p.name).write_bytes(p.read_bytes())
    (study / "study.yaml").write_text(
        "name: confirm\ninputs:\n"
        f"  - {{kind: sanger, path: {sample.name}, control: {control.name}, "
        "expect: 'NTRK1 G595R'}\n"
        f"options:\n  sanger: {{gene: NTRK1, codon_start: 595, codon_position: {SITE + 1}}}\n"
    )
    loaded = load_study(study)
    options = SangerOptions(gene="NTRK1", codon_start=595, codon_position=SITE + 1)
    section = sanger_section(AnalysisContext(loaded, load_knowledge(), options))
    names = {t.name for t in section.tables}
    assert {"sanger_calls", "sanger_expect", "sanger_positions", "sanger_summary"} <= names
    calls = next(t.frame for t in section.tables if t.name == "sanger_calls")
    assert list(calls["protein_change"]) == ["NTRK1 G595R"]
    assert "kinase_positions:solvent_front" in section.facts_used
    assert any("G595R detected" in f.message for f in section.flags)
    assert any(f.name.startswith("sanger_resistant_site") for f in section.figures)


def test_manifest_refuses_sanger_fields_on_other_kinds(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from trkres.study.manifest import StudyInput

    with pytest.raises(ValidationError, match="sanger"):
        StudyInput(kind="western", path="a.tif", control="b.ab1")  # type: ignore[arg-type]
    assert StudyInput(kind="sanger", path="a.ab1", control="b.ab1").resolved_format() == "abi"  # type: ignore[arg-type]
    assert StudyInput(kind="sanger", path="a.scf", control="b.ab1").resolved_format() == "scf"  # type: ignore[arg-type]


def test_api(traces: tuple[Path, Path]) -> None:
    sample, control = traces
    trace = tr.sanger.read_trace(sample)
    assert len(trace) == 450
    res = tr.sanger.compare(sample, control=control, gene="NTRK1", codon_start=595,
                            codon_position=SITE + 1)  # fmt: skip
    assert list(res["calls"]["protein_change"]) == ["NTRK1 G595R"]
    seq_ref = tr.sanger.compare(trace, reference=_sequence(control))
    assert len(seq_ref["calls"]) == 1
    with pytest.raises(TrkresError):
        tr.sanger.compare(sample, alpha=2)
    with pytest.raises(TrkresError):
        tr.sanger.compare(123)  # type: ignore[arg-type]


def _sequence(path: Path) -> str:
    return tr.sanger.read_trace(path).bases


@pytest.mark.parametrize("name", ["3730.ab1", "3100.ab1", "310.ab1"])
def test_real_traces_end_to_end(name: str) -> None:
    """Real traces run alone (noise from their own flanks) and against themselves as the
    control: a trace against itself has no call."""
    alone = run_sanger(DATA / name)
    assert alone.lod > 0 and len(alone["positions"]) > 500
    itself = run_sanger(DATA / name, control=DATA / name)
    assert len(itself["calls"]) == 0


def test_another_amplicon_is_refused() -> None:
    with pytest.raises(TrkresError, match="does not match the reference") as info:
        run_sanger(DATA / "3730.ab1", control=DATA / "3100.ab1")
    assert "identity" in (info.value.found or "")


def test_1000_bases_analysed_whole(tmp_path: Path) -> None:
    """A 1,000-base pair runs through (its speed, issue 18's < 1 s, is measured by
    benchmarks/sanger_trace.py: timed asserts do not belong in tests)."""
    seq = random_sequence(1000, 5)
    control = write_abif(make_trace(seq, seed=1), tmp_path / "c.ab1")
    sample = write_abif(make_trace(seq, {500: ("A" if seq[500] != "A" else "C", 0.3)}, seed=2),
                        tmp_path / "s.ab1")  # fmt: skip
    res = run_sanger(sample, control=control)
    assert len(res["positions"]) > 900
    assert 501 in set(res["calls"]["position"])


def test_figures_draw_from_a_result(traces: tuple[Path, Path]) -> None:
    from matplotlib.figure import Figure

    sample, control = traces
    res = tr.sanger.compare(sample, control=control, gene="NTRK1", codon_start=595,
                            codon_position=SITE + 1, expect="NTRK1 G595R")  # fmt: skip
    fig = Figure()
    ax = tr.pl.sanger_chromatogram(res, ax=fig.add_subplot(2, 1, 1))
    assert len(ax.lines) == 4
    tr.pl.sanger_chromatogram(res, ax=fig.add_subplot(2, 1, 2), control=True)
    assert len(tr.pl.sanger_fractions(res).lines) >= 2
    with pytest.raises(TrkresError, match="which"):
        tr.pl.sanger_chromatogram(res, which=5)


LAB_REVIEW = """\
resistance_mutations:
  - id: ntrk1_g595r
    gene: NTRK1
    change: G595R
    position: solvent_front
    status: needs_review
    evidence: [{source: trkres_notes, statement: "Our lab reviews this call.", level: expert}]
"""


def test_a_lab_knowledge_file_classes_the_calls(traces: tuple[Path, Path], tmp_path: Path) -> None:
    """The shipped base unless told otherwise; a lab's file (API ``knowledge=``, CLI
    ``--knowledge``, a study's knowledge input) decides the class, as in classify. Was:
    Sanger always used the shipped base, even in a study with a knowledge input."""
    sample, control = traces
    lab = tmp_path / "lab.yaml"
    lab.write_text(LAB_REVIEW, encoding="utf-8")
    asked = {"gene": "NTRK1", "codon_start": 595, "codon_position": SITE + 1,
             "expect": "NTRK1 G595R"}  # fmt: skip
    shipped = tr.sanger.compare(sample, control=control, **asked)
    labs = tr.sanger.compare(sample, control=control, knowledge=[lab], **asked)
    assert set(shipped["calls"]["fact_status"]) == {"verified"}
    assert set(labs["calls"]["fact_status"]) == {"needs_review"}
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sanger", str(sample), "--control", str(control),
                                      "--gene", "NTRK1", "--codon-start", "595",
                                      "--codon-position", str(SITE + 1), "--knowledge", str(lab),
                                      "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(out / "calls.tsv", sep="\t")["fact_status"]) == {"needs_review"}
    study = tmp_path / "study"
    study.mkdir()
    for p in (sample, control, lab):
        (study / p.name).write_bytes(p.read_bytes())
    (study / "study.yaml").write_text(
        "name: s\ninputs:\n  - {kind: knowledge, path: lab.yaml}\n"
        f"  - {{kind: sanger, path: {sample.name}, control: {control.name}}}\n"
        f"options:\n  sanger: {{gene: NTRK1, codon_start: 595, codon_position: {SITE + 1}}}\n",
        encoding="utf-8",
    )
    res = tr.study.run(study)
    assert set(res.tables["sanger_calls"]["fact_status"]) == {"needs_review"}
