"""ddPCR through its one options model, run_ddpcr, the study section and ``tr.ddpcr``."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trkres as tr
from support import EXAMPLE, write_study
from trkres.assays.ddpcr import DdpcrOptions, DdpcrResult, run_ddpcr
from trkres.assays.ddpcr.io import read_ddpcr_export
from trkres.errors import InputError
from trkres.options import validate_options

EXPORT = EXAMPLE / "ddpcr" / "qx_manager_export.csv"
AMPLITUDES = [EXAMPLE / "ddpcr" / "small_A05_Amplitude.csv", EXAMPLE / "ddpcr" / "small_C01_Amplitude.csv"]  # fmt: skip
TABLE_COLUMNS = ["well", "sample", "target", "target_type", "channel", "accepted_droplets",
                 "positives", "ch1_positives", "ch2_positives"]  # fmt: skip


def wells_frame() -> pd.DataFrame:
    """The example export as a notebook user would hold it: a plain wells table."""
    return read_ddpcr_export(EXPORT)[TABLE_COLUMNS]


def test_in_memory_wells_give_the_numbers_of_the_export() -> None:
    from_file = run_ddpcr([EXPORT]).wells
    in_memory = tr.ddpcr.quantify(wells_frame(), droplet_volume_nl=0.85).wells
    for column in ("concentration", "conc_ci_low", "conc_ci_high", "fractional_abundance",
                   "fa_ci_low", "fa_ci_high", "call", "p_detect"):  # fmt: skip
        pd.testing.assert_series_equal(in_memory[column], from_file[column])
    assert set(in_memory["droplet_volume_source"]) == {"given (droplet_volume_nl)"}
    assert set(in_memory["source"]) == {"DataFrame"}


def test_droplet_volume_of_a_table_is_never_guessed() -> None:
    with pytest.raises(InputError, match="droplet volume") as info:
        tr.ddpcr.quantify(wells_frame())
    assert info.value.location is not None and info.value.location.column == "droplet_volume_nl"
    # A column gives it per row; another volume gives other numbers.
    a = tr.ddpcr.quantify(wells_frame().assign(droplet_volume_nl=0.85)).wells
    b = tr.ddpcr.quantify(wells_frame(), droplet_volume_nl=0.91).wells
    ratio = a["concentration"] / b["concentration"]
    assert np.allclose(ratio[a["concentration"] > 0], 0.91 / 0.85)


def test_quantify_reads_exports_and_droplet_files_like_the_cli() -> None:
    result = tr.ddpcr.quantify([str(EXPORT), *AMPLITUDES], detection_vaf=0.01)
    direct = run_ddpcr([EXPORT], AMPLITUDES, DdpcrOptions(detection_vaf=0.01))
    assert list(result) == list(direct) and "ddpcr_droplets" in result
    pd.testing.assert_frame_equal(result.wells, direct.wells)
    assert (result.wells["detection_vaf"] == 0.01).all()


def test_detect_equals_limits_given_to_run() -> None:
    blank, low = ["SMN2 Control 2 copies"], ["SMN2 Control 4 copies"]
    called = tr.ddpcr.detect(run_ddpcr([EXPORT]), blank=blank, low=low, target="1")
    direct = run_ddpcr([EXPORT], [], DdpcrOptions(blank_samples=blank, low_samples=low,
                                                   limits_target="1"))  # fmt: skip
    pd.testing.assert_frame_equal(called.wells, direct.wells)
    pd.testing.assert_frame_equal(called.limits, direct.limits)  # type: ignore[arg-type]
    # Two copies against four: the 2-copy wells are blank-like, the 4-copy ones detected.
    ch1 = called.wells[called.wells["target"] == "1"]
    assert ch1["call_rule"].str.startswith("EP17 parametric").all()
    other = called.wells[called.wells["target"] != "1"]  # the limits are target 1's only
    assert len(other) and not other["call_rule"].str.startswith("EP17").any()
    assert (ch1.loc[ch1["sample"] == low[0], "call"] == "detected").all()
    assert (ch1.loc[ch1["sample"] == blank[0], "call"] != "detected").all()
    with pytest.raises(InputError, match="blank sample not in the wells"):
        tr.ddpcr.detect(called, blank=["nope"], low=low)


@pytest.mark.parametrize(
    ("values", "source", "name"),
    [
        ({"droplet_volume": 0.0}, "cli", "bad option --droplet-volume"),
        ({"droplet_volume_nl": 50}, "api", "bad option droplet_volume_nl"),
        ({"interval": "exact"}, "cli", "bad option --interval"),
        ({"limits_method": "bayes"}, "cli", "bad option --limits-method"),
        ({"detection_vaf": 1.5}, "cli", "bad option --detection-vaf"),
        ({"detection_vaf": float("nan")}, "api", "bad option detection_vaf"),
        ({"threshold_ch1": float("inf")}, "cli", "bad option --threshold-ch1"),
        ({"mutant_channel": 3}, "cli", "bad option --mutant-channel"),
        ({"min_droplets": -1}, "cli", "bad option --min-droplets"),
        ({"threshold_tolerance": 1.0}, "cli", "bad option --threshold-tolerance"),
        ({"colour": "red"}, "api", "unknown option colour"),
    ],
)
def test_one_model_one_message(values: dict[str, object], source: str, name: str) -> None:
    with pytest.raises(InputError) as info:
        validate_options(DdpcrOptions, values, source=source)  # type: ignore[arg-type]
    assert str(info.value).splitlines()[0] == name


def test_cli_names_are_aliases_of_the_study_names() -> None:
    cli = validate_options(DdpcrOptions, {"droplet_volume": 0.8, "blank": ["WT"], "ntc_well": ["A01"],
                                          "positive_control_well": ["B02"]}, source="cli")  # fmt: skip
    study = DdpcrOptions.model_validate({"droplet_volume_nl": 0.8, "blank_samples": ["WT"],
                                         "ntc_wells": ["A01"], "positive_control_wells": ["B02"]})  # fmt: skip
    assert cli == study and cli.thresholds is None
    assert DdpcrOptions(threshold_ch2=3000).thresholds == [None, 3000]


def test_section_runs_run_ddpcr_with_the_study_options(tmp_path: Path) -> None:
    from trkres.knowledge import load_knowledge
    from trkres.study.manifest import load_study
    from trkres.study.registry import AnalysisContext, analyses

    folder = tmp_path / "study"
    (folder / "ddpcr").mkdir(parents=True)
    for path in (EXPORT, *AMPLITUDES):
        shutil.copy(path, folder / "ddpcr" / path.name)
    write_study(folder, """name: ddpcr only
inputs:
  - {id: plate, kind: ddpcr, path: ddpcr/qx_manager_export.csv, format: quantasoft}
  - {id: a05, kind: droplet_amplitudes, path: ddpcr/small_A05_Amplitude.csv}
options:
  ddpcr: {detection_vaf: 0.01, threshold_tolerance: 0.2, interval: wilson}
""")  # fmt: skip
    study = load_study(folder)
    analysis = next(a for a in analyses() if a.name == "ddpcr")
    assert analysis.options_model is DdpcrOptions
    options = DdpcrOptions.model_validate(study.manifest.options["ddpcr"])
    section = analysis.function(AnalysisContext(study, load_knowledge(), options))
    direct = run_ddpcr(
        [folder / "ddpcr" / EXPORT.name], [folder / "ddpcr" / AMPLITUDES[0].name], options
    )
    assert [t.name for t in section.tables] == list(direct)
    for table in section.tables:
        pd.testing.assert_frame_equal(table.frame, direct[table.name])
    assert (direct.wells["detection_vaf"] == 0.01).all()
    assert [f.name for f in section.figures] == ["ddpcr_concentrations"]


def test_result_is_a_mapping_of_tables() -> None:
    result = run_ddpcr([EXPORT])
    assert isinstance(result, DdpcrResult) and next(iter(result)) == "ddpcr_wells"
    assert result.limits is None and result.merged is not None
    assert run_ddpcr([]).wells.empty


def test_concentration_plot_returns_axes() -> None:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    result = run_ddpcr([EXPORT])
    assert tr.pl.ddpcr_concentrations(result, ax=ax) is ax
    shown = result.wells[result.wells["call"] != "failed"]
    assert len(ax.get_yticks()) == len(shown) and ax.get_xscale() == "log"
    assert isinstance(tr.pl.ddpcr_concentrations(result.wells), Axes)
    with pytest.raises(InputError):
        tr.pl.ddpcr_concentrations(pd.DataFrame({"x": [1]}), ax=ax)
