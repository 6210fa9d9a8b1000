"""run_classify (the one orchestration), the notebook API tr.genomics.classify, the
study section through the registry, and the public genomics plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

import trkres as tr
from support import EXAMPLE
from trkres.errors import InputError, TrkresError
from trkres.genomics.options import GenomicsOptions
from trkres.genomics.run import ClassifyInputs, ClassifyResult, run_classify
from trkres.knowledge import load_knowledge

matplotlib.use("Agg")  # tests draw off-screen; trkres itself never selects a backend

KB = load_knowledge()
G = EXAMPLE / "genomics"
FILES = {
    "maf": G / "data_mutations.txt",
    "sv": G / "data_sv.txt",
    "cna": G / "data_cna.txt",
    "clinical": G / "data_clinical_sample.txt",
    "timeline": G / "data_timeline_treatment.txt",
}
TABLES = ["alterations", "samples", "patients", "mechanisms", "classes", "issues"]


def frame(path: Path) -> pd.DataFrame:
    """A cBioPortal file as a notebook user reads it: text cells, comment lines skipped."""
    return pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False)


def from_files(**options: object) -> ClassifyResult:
    inputs = ClassifyInputs(
        maf=[FILES["maf"]], sv=[FILES["sv"]], cna=[FILES["cna"]],
        clinical=FILES["clinical"], timeline=FILES["timeline"],
    )  # fmt: skip
    return run_classify(inputs, GenomicsOptions(**options), knowledge=KB)  # type: ignore[arg-type]


def test_run_classify_returns_every_table_of_the_example() -> None:
    result = from_files()
    for name in TABLES:
        assert isinstance(getattr(result, name), pd.DataFrame), name
    patients = result.patients.set_index("patient_id")
    assert patients.loc["PT-RUSSO", "mechanism"] == "on_target"
    assert set(result.mechanisms["mechanism"]) >= {"on_target", "off_target"}
    assert result.mechanisms["n"].sum() == len(result.patients)
    assert set(result.annotated) == {"data_mutations", "data_sv", "data_cna"}
    assert set(result.tables()) == {*TABLES, *(f"annotated/{k}" for k in result.annotated)}


def test_run_classify_options_change_the_calls() -> None:
    base = from_files()
    assumed = from_files(assume_trk_fusion=True)
    assert base.options.assume_trk_fusion is False and assumed.options.assume_trk_fusion is True
    strict = from_files(subclonal_ratio=1.0)
    assert (strict.alterations["clonality"] == "subclonal").sum() >= (
        base.alterations["clonality"] == "subclonal"
    ).sum()


def test_run_classify_refuses_nothing_to_classify() -> None:
    with pytest.raises(InputError, match="nothing to classify"):
        run_classify(ClassifyInputs(clinical=FILES["clinical"]), knowledge=KB)


def test_api_with_dataframes_gives_the_calls_of_the_files() -> None:
    files = tr.genomics.classify(
        maf=FILES["maf"], sv=FILES["sv"], cna=FILES["cna"], clinical=FILES["clinical"],
        timeline=FILES["timeline"], knowledge=KB,
    )  # fmt: skip
    frames = tr.genomics.classify(
        maf=frame(FILES["maf"]), sv=frame(FILES["sv"]), cna=frame(FILES["cna"]),
        clinical=frame(FILES["clinical"]), timeline=frame(FILES["timeline"]), knowledge=KB,
    )  # fmt: skip
    for name in ("samples", "patients", "mechanisms", "classes"):
        pd.testing.assert_frame_equal(getattr(files, name), getattr(frames, name), obj=name)
    # Rows carry the argument's name where files carry their stem.
    assert set(frames.alterations["input"].astype(str)) == {"maf", "sv", "cna"}
    assert set(frames.annotated) == {"maf", "sv", "cna"}


def test_api_row_issues_name_the_argument_not_a_temporary_file() -> None:
    maf = frame(FILES["maf"])
    maf.loc[0, "t_alt_count"] = "many"
    result = tr.genomics.classify(maf=maf, knowledge=KB)
    assert len(result.issues)
    assert result.issues["file"].str.startswith("maf (DataFrame").all()
    assert not result.issues["file"].str.contains("trkres-classify-").any()


def test_api_missing_column_is_an_input_error_naming_the_argument() -> None:
    maf = frame(FILES["maf"]).drop(columns=["Tumor_Sample_Barcode"])
    with pytest.raises(InputError, match="lacks a required column") as info:
        tr.genomics.classify(maf=maf, knowledge=KB)
    assert "maf (DataFrame" in str(info.value) and "trkres-classify-" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"maf": 3}, "bad argument maf"),
        ({"maf": [FILES["maf"], 1.5]}, "bad argument maf"),
        ({"vcf": pd.DataFrame({"a": [1]})}, "bad argument vcf"),
        ({"maf": pd.DataFrame()}, "empty table maf"),
        ({"clinical": FILES["clinical"]}, "nothing to classify"),
        ({"maf": FILES["maf"], "subclonal_ratio": 2}, "bad option subclonal_ratio"),
        ({"maf": FILES["maf"], "model": "x"}, "unknown option model"),
        ({"maf": FILES["maf"], "genome_build": "hg20"}, "bad option genome_build"),
        ({"maf": pd.DataFrame({"Hugo_Symbol": ["A\tB"]})}, "tab or a line break"),
        ({"maf": Path("/nonexistent/maf.txt")}, "file not found"),
    ],
)
def test_api_bad_arguments_raise_input_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(TrkresError, match=message):
        tr.genomics.classify(knowledge=KB, **kwargs)  # type: ignore[arg-type]


def test_section_through_the_registry_runs_run_classify(tmp_path: Path) -> None:
    from trkres.study.manifest import load_study
    from trkres.study.registry import AnalysisContext, analyses

    analysis = next(a for a in analyses() if a.name == "genomics")
    assert analysis.options_model is GenomicsOptions
    study = load_study(EXAMPLE)
    options = GenomicsOptions(include_unverified=True)
    section = analysis.function(AnalysisContext(study, KB, options))
    tables = {t.name: t.frame for t in section.tables}
    expected = run_classify(
        ClassifyInputs(
            maf=[FILES["maf"]], sv=[FILES["sv"]], cna=[FILES["cna"]],
            clinical=FILES["clinical"], timeline=FILES["timeline"],
            names={FILES["maf"]: "mutations", FILES["sv"]: "fusions", FILES["cna"]: "copy_number"},
        ),
        options,
        knowledge=KB,
    )  # fmt: skip
    pd.testing.assert_frame_equal(tables["genomics_patients"], expected.patients)
    pd.testing.assert_frame_equal(tables["genomics_alterations"], expected.alterations)
    assert "INCLUDED" in section.summary
    assert [f.name for f in section.figures][:2] == ["genomics_mechanisms", "genomics_oncoprint"]


def test_public_plots_draw_a_result_on_an_axes() -> None:
    import matplotlib.pyplot as plt

    result = from_files()
    ax = tr.pl.mechanisms(result)
    assert len(ax.patches) == len(result.mechanisms)
    _fig, given = plt.subplots()
    assert tr.pl.oncoprint(result, ax=given) is given
    shown = (result.alterations["counts_as"] != "") | (
        result.alterations["alteration_class"] == "fusion_driver"
    )
    assert len(given.patches) == int(shown.sum())
    with pytest.raises(InputError, match="not a genomics result"):
        tr.pl.mechanisms(result.patients)  # type: ignore[arg-type]
    plt.close("all")
