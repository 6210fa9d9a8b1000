"""Findings of an adversarial pass over the notebook API, each pinned by a test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import trkres as tr
from support import EXAMPLE
from trkres.errors import InputError

VIABILITY = pd.read_csv(EXAMPLE / "lab" / "viability_entrectinib.tsv", sep="\t")
COMBO = pd.read_csv(EXAMPLE / "lab" / "combination_larotrectinib_trametinib.tsv", sep="\t")
GROUP = ["drug", "line"]


def test_a_missing_group_value_is_a_listed_row_not_a_silent_drop() -> None:
    frame = VIABILITY.copy()
    frame.loc[3, "line"] = np.nan
    with pytest.raises(InputError, match="unusable row"):
        tr.doseresponse.fit(frame, group=GROUP)
    kept = tr.doseresponse.prepare(frame, group=GROUP, errors="drop")
    assert len(kept) + len(kept.attrs["issues"]) == len(frame)
    assert kept["curve_id"].notna().all()


def test_a_dose_unit_that_contradicts_the_unit_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="contradicts the table's unit column"):
        tr.doseresponse.prepare(VIABILITY, group=GROUP, dose_unit="uM")
    assert len(tr.doseresponse.prepare(VIABILITY, group=GROUP, dose_unit="nM")) == len(VIABILITY)
    proc = subprocess.run(
        [sys.executable, "-m", "trkres", "fit", str(EXAMPLE / "lab" / "viability_entrectinib.tsv"),
         "--group", "drug", "--group", "line", "--dose-unit", "uM", "-o", str(tmp_path / "o")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1 and "contradicts" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_repeated_columns_and_options_on_a_prepared_table_are_refused() -> None:
    frame = VIABILITY.copy()
    frame.columns = ["drug", "line", "replicate", "dose", "response", "response"]
    with pytest.raises(InputError, match="repeats column names"):
        tr.doseresponse.fit(frame, group=GROUP)
    data = tr.doseresponse.prepare(VIABILITY, group=GROUP)
    with pytest.raises(InputError, match="raw table, not a prepared one"):
        tr.doseresponse.fit(data, group="nope")


def test_plots_refuse_what_is_not_an_axes_and_take_a_numeric_block() -> None:
    data = tr.doseresponse.prepare(VIABILITY, group=GROUP)
    fits = tr.doseresponse.fit(data)
    with pytest.raises(InputError, match="not a matplotlib Axes"):
        tr.pl.dose_response(data, fits, ax=5)
    with pytest.raises(InputError, match="max_curves"):
        tr.pl.dose_response(data, fits, ax=Figure().add_subplot(), max_curves="a")
    syn = tr.synergy.score(COMBO, response="viability", condition="line")
    blocks = list(dict.fromkeys(syn.matrix["block_id"]))
    ax = Figure().add_subplot()
    assert tr.pl.synergy_heatmap(syn, block=int(blocks[-1]), ax=ax) is ax
    with pytest.raises(InputError, match="not a matplotlib Axes"):
        tr.pl.synergy_heatmap(syn, ax="axes")


def test_study_result_write_refuses_a_non_path_and_prints_short() -> None:
    result = tr.study.run(EXAMPLE, only=["dose_response"])
    try:
        with pytest.raises(InputError, match="output folder is a path"):
            result.write(5)  # type: ignore[arg-type]
        text = repr(result)
        assert len(text) < 400 and "dose_response" in text
    finally:
        result.close()


def test_a_droplet_volume_that_contradicts_the_table_is_refused() -> None:
    wells = tr.ddpcr.quantify(EXAMPLE / "ddpcr" / "qx_manager_export.csv").wells
    frame = wells.assign(droplet_volume_nl=0.85)
    with pytest.raises(InputError, match="contradicts the table's droplet_volume_nl"):
        tr.ddpcr.quantify(frame, droplet_volume_nl=0.5)


def test_viability_scored_as_inhibition_is_refused_not_turned_into_antagonism() -> None:
    with pytest.raises(InputError, match="at the vehicle"):
        tr.synergy.score(COMBO)  # the default response kind is inhibition; this is viability
    scored = tr.synergy.score(COMBO, response="viability", condition="line")
    assert len(scored.tables()["synergy_summary"]) == 2


def test_a_ddpcr_well_without_a_sample_name_is_an_error_not_a_missing_merged_row() -> None:
    wells = tr.ddpcr.quantify(EXAMPLE / "ddpcr" / "qx_manager_export.csv").wells
    frame = wells.assign(sample=wells["sample"].where(wells.index != 0, None))
    with pytest.raises(InputError, match="missing sample"):
        tr.ddpcr.quantify(frame)


def test_a_cfdna_row_without_vaf_or_counts_is_listed() -> None:
    table = pd.read_csv(EXAMPLE / "genomics" / "cfdna.tsv", sep="\t")
    table.loc[0, "vaf"] = np.nan
    for column in ("alt_count", "ref_count"):
        if column in table.columns:
            table.loc[0, column] = np.nan
    result = tr.cfdna.track(table, timeline=EXAMPLE / "genomics" / "data_timeline_treatment.txt")
    issues = result.issues_table
    assert len(issues) >= 1 and issues["action"].str.contains("value missing").any()
