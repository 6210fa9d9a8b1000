"""cfDNA through CfdnaOptions, run_cfdna, the study section and ``tr.cfdna``."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

import trkres as tr
from support import EXAMPLE, write_study
from trkres.errors import InputError
from trkres.genomics.cfdna_options import CfdnaOptions
from trkres.genomics.cfdna_run import run_cfdna
from trkres.knowledge import load_knowledge
from trkres.options import validate_options

G = EXAMPLE / "genomics"
CFDNA = G / "cfdna.tsv"
TIMELINE = G / "data_timeline_treatment.txt"
KB = load_knowledge()


def test_a_dataframe_is_read_as_the_file_is() -> None:
    from_file = run_cfdna([CFDNA], knowledge=KB, timeline=TIMELINE)
    frame = tr.cfdna.track(pd.read_csv(CFDNA, sep="\t"),
                           timeline=pd.read_csv(TIMELINE, sep="\t"), knowledge=KB)  # fmt: skip
    for name in ("measurements", "response", "emergence", "timeline"):
        pd.testing.assert_frame_equal(getattr(frame, name), getattr(from_file, name))
    assert set(frame.emergence["status"]) >= {"emerged"}


def test_percent_tables_and_row_issues_name_the_dataframe_row() -> None:
    m = pd.read_csv(CFDNA, sep="\t")
    with pytest.raises(InputError, match="look like percent"):
        tr.cfdna.track(m.assign(vaf=m["vaf"] * 100))
    as_percent = tr.cfdna.track(m.assign(vaf=m["vaf"] * 100), vaf_unit="percent")
    as_fraction = tr.cfdna.track(m)
    assert as_percent.measurements["vaf"].to_numpy() == pytest.approx(
        as_fraction.measurements["vaf"].to_numpy(), nan_ok=True
    )
    bad = m.astype({"vaf": object})
    bad.loc[2, "vaf"] = "high"
    issues = tr.cfdna.track(bad).issues
    assert [(i.file, i.line, i.column, i.found) for i in issues] == [
        ("DataFrame", 3, "vaf", "'high'")
    ]


def test_missing_columns_and_wrong_types_are_input_errors() -> None:
    with pytest.raises(InputError, match="required column"):
        tr.cfdna.track(pd.DataFrame({"sample": ["s"], "vaf": [0.1]}))
    with pytest.raises(InputError):
        tr.cfdna.track({"sample": ["s"]})  # type: ignore[arg-type]
    with pytest.raises(InputError, match="bad option response_fall"):
        tr.cfdna.track(CFDNA, response_fall=1.0)


@pytest.mark.parametrize(
    ("values", "source", "first", "expected"),
    [
        ({"response_fall": float("nan")}, "cli", "bad option --response-fall", "between 0 and 1"),
        ({"response_fall": 0}, "api", "bad option response_fall", "between 0 and 1"),
        ({"vaf_unit": "permille"}, "cli", "bad option --vaf-unit", "fraction or percent"),
        ({"response_metric": "median"}, "cli", "bad option --response-metric", "'mean' or 'max'"),
    ],
)
def test_one_model_one_message(
    values: dict[str, object], source: str, first: str, expected: str
) -> None:
    with pytest.raises(InputError) as info:
        validate_options(CfdnaOptions, values, source=source)  # type: ignore[arg-type]
    assert str(info.value).splitlines()[0] == first and expected in str(info.value.expected)


def test_ddpcr_wells_join_by_sample() -> None:
    m = pd.read_csv(CFDNA, sep="\t")
    sample = str(m["sample"].iloc[-1])
    wells = tr.ddpcr.quantify(
        pd.DataFrame({"well": ["A01", "A01"], "sample": [sample, sample],
                      "target": ["KRAS G12D", "KRAS WT"], "channel": [1, 2],
                      "accepted_droplets": [15000, 15000], "positives": [60, 3000],
                      "ch1_positives": [60, 60], "ch2_positives": [3000, 3000]}),
        droplet_volume_nl=0.85,
    )  # fmt: skip
    result = tr.cfdna.track(m, ddpcr=wells)
    dd = result.measurements[result.measurements["assay"] == "ddPCR"]
    assert len(dd) == 1 and dd["gene"].iloc[0] == "KRAS"
    fa = float(wells.wells.loc[0, "fractional_abundance"])
    assert dd["vaf"].iloc[0] == pytest.approx(fa / 100)


def test_section_equals_run_cfdna(tmp_path: Path) -> None:
    from trkres.study.manifest import load_study
    from trkres.study.registry import AnalysisContext, analyses

    folder = tmp_path / "study"
    folder.mkdir()
    for path in (CFDNA, TIMELINE):
        shutil.copy(path, folder / path.name)
    write_study(folder, f"""name: cfdna only
inputs:
  - {{id: cf, kind: cfdna, path: {CFDNA.name}}}
  - {{id: tl, kind: treatment_timeline, path: {TIMELINE.name}}}
options:
  cfdna: {{response_fall: 0.3, confirm_next: true}}
""")  # fmt: skip
    study = load_study(folder)
    analysis = next(a for a in analyses() if a.name == "cfdna")
    assert analysis.options_model is CfdnaOptions
    options = CfdnaOptions.model_validate(study.manifest.options["cfdna"])
    section = analysis.function(AnalysisContext(study, KB, options))
    direct = run_cfdna(
        [folder / CFDNA.name], options, knowledge=KB, timeline=folder / TIMELINE.name
    )
    tables = {t.name: t.frame for t in section.tables}
    pd.testing.assert_frame_equal(tables["cfdna_emergence"], direct.emergence)
    pd.testing.assert_frame_equal(tables["cfdna_response"], direct.response)
    assert [f.name for f in section.figures] == ["cfdna_vaf_over_time"]
    assert "30%" in section.summary


def test_cfdna_plot_returns_axes() -> None:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    result = run_cfdna([CFDNA], knowledge=KB, timeline=TIMELINE)
    patient = str(result.measurements["patient_id"].iloc[0])
    ax = Figure().add_subplot()
    assert tr.pl.cfdna(result, patient=patient, ax=ax) is ax
    series = result.measurements[result.measurements["patient_id"] == patient]
    keys = set(series["gene"] + " " + series["alteration"])
    assert {t.get_text() for t in ax.get_legend().get_texts()} == keys
    everyone = tr.pl.cfdna(result, ax=Figure().add_subplot())
    assert len(everyone.get_legend().get_texts()) == result.measurements.groupby(
        ["patient_id", "gene", "alteration"]).ngroups  # fmt: skip
    importlib.import_module("trkres.pl.monitoring")  # the module does not shadow the function

    assert isinstance(tr.pl.cfdna(result, patient=patient), Axes)
    with pytest.raises(InputError, match="no such patient"):
        tr.pl.cfdna(result, patient="nobody", ax=ax)
