"""The study API (``tr.study.run`` in memory, ``.write``) and the analysis registry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import trkres as tr
from support import EXAMPLE
from trkres.errors import OutputError, TrkresError
from trkres.outputs import table_to_tsv
from trkres.pl.style import close
from trkres.report.model import Section
from trkres.study.manifest import InputKind, load_study
from trkres.study.registry import AnalysisContext, analyses, register
from trkres.study.runner import _options_for, select_analyses, study_knowledge


@pytest.fixture(scope="module")
def example_result() -> tr.study.StudyResult:
    result = tr.study.run(EXAMPLE)
    yield result
    result.close()


def test_registry_lists_every_shipped_analysis_in_run_order() -> None:
    names = [a.name for a in analyses()]
    for expected in ("inputs", "genomics", "dose_response", "synergy", "ddpcr", "knowledge"):
        assert expected in names
    assert names[0] == "inputs" and names[-1] == "knowledge"
    orders = [a.order for a in analyses()]
    assert orders == sorted(orders)


def test_every_options_model_refuses_unknown_names() -> None:
    for analysis in analyses():
        if analysis.options_model is None:
            continue
        assert issubclass(analysis.options_model, BaseModel)
        with pytest.raises(Exception, match="xtra"):
            analysis.options_model.model_validate({"surely_not_an_option": 1})


def test_register_refuses_a_second_analysis_under_a_taken_name() -> None:
    def impostor(ctx: AnalysisContext) -> Section:
        return Section("genomics", "impostor")

    with pytest.raises(TrkresError, match="two analyses are registered as 'genomics'"):
        register("genomics", "Impostor")(impostor)


def test_applies_to_needs_all_required_and_one_of_any() -> None:
    by_name = {a.name: a for a in analyses()}
    knowledge_only = frozenset({InputKind.knowledge})
    assert by_name["knowledge"].applies_to(knowledge_only)
    assert not by_name["dose_response"].applies_to(knowledge_only)


def test_unknown_only_is_an_error_naming_the_known_analyses() -> None:
    study = load_study(EXAMPLE)
    with pytest.raises(TrkresError, match="unknown analysis 'nope'") as info:
        select_analyses(study, ["nope"])
    assert "dose_response" in str(info.value)


def test_each_section_runs_alone_from_the_registry() -> None:
    """Every analysis the example allows, called through the registry on its own,
    returns a section under its own name whose tables carry its name as prefix."""
    study = load_study(EXAMPLE)
    knowledge = study_knowledge(study)
    options = _options_for(study, analyses())  # the study's own options (study.yaml)
    for analysis in select_analyses(study):
        ctx = AnalysisContext(study=study, knowledge=knowledge, options=options[analysis.name])
        section = analysis.function(ctx)
        assert section.name == analysis.name
        if analysis.name != "inputs":
            prefix = analysis.name.split("_")[0]
            assert all(t.name.startswith(prefix) for t in section.tables), analysis.name
        for fig in section.figures:
            close(fig.static)


def test_run_computes_in_memory_and_write_writes_the_same_tables(
    example_result: tr.study.StudyResult, tmp_path: Path
) -> None:
    tables = example_result.tables
    assert {"dose_response_fits", "genomics_classes", "ddpcr_wells"} <= set(tables)
    assert all(isinstance(f, pd.DataFrame) for f in tables.values())
    written = example_result.write(tmp_path / "out")
    assert written.report.is_file()
    for name, frame in tables.items():
        text = (tmp_path / "out" / "tables" / f"{name}.tsv").read_text(encoding="utf-8")
        assert text == table_to_tsv(frame), name
    info = json.loads((tmp_path / "out" / "run.json").read_text())
    assert info["analyses"] == example_result.info["analyses"]
    assert "finished_utc" in info and "finished_utc" not in example_result.info


def test_write_refuses_the_study_folder(
    example_result: tr.study.StudyResult, tmp_path: Path
) -> None:
    with pytest.raises(OutputError):
        example_result.write(EXAMPLE)
    with pytest.raises(OutputError):
        example_result.write(EXAMPLE / "lab")


def test_section_lookup_and_flags(example_result: tr.study.StudyResult) -> None:
    assert example_result.section("genomics").name == "genomics"
    with pytest.raises(TrkresError, match="no section 'nope'"):
        example_result.section("nope")
    flags = example_result.flags()
    assert list(flags.columns) == ["section", "level", "message"]
    assert set(flags["level"]) <= {"info", "warning", "review"}


@settings(max_examples=40)
@given(
    st.one_of(
        st.none(),
        st.integers(),
        st.floats(allow_nan=True),
        st.lists(st.text(max_size=5), max_size=2),
        st.text(max_size=30),
        st.binary(max_size=10),
    )
)
def test_run_with_bad_arguments_raises_only_trkres_errors(arg: object) -> None:
    with pytest.raises(TrkresError):  # none of these names a study folder
        tr.study.run(arg)  # type: ignore[arg-type]


def test_importing_trkres_keeps_the_users_matplotlib_backend() -> None:
    code = (
        "import matplotlib; matplotlib.use('pdf'); import trkres, trkres.pl; "
        "import trkres.pl.style, trkres.pl.genomics, trkres.pl.knowledge; "
        "import trkres.study.runner, trkres.report.files; "
        "from trkres.study.registry import analyses; analyses(); "
        "import matplotlib as m; assert m.get_backend() == 'pdf', m.get_backend()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
