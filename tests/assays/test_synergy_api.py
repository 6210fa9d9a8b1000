"""The synergy API (tr.synergy), run_synergy and the study section through the registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trkres as tr
from trkres.assays.synergy.options import SynergyOptions
from trkres.assays.synergy.run import run_synergy
from trkres.errors import InputError
from trkres.options import validate_options

COMBO = (
    Path(__file__).resolve().parents[2]
    / "examples"
    / "ntrk_resistance"
    / "lab"
    / "combination_larotrectinib_trametinib.tsv"
)
FAST = {"n_boot": 0, "musyc": False}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return pd.read_csv(COMBO, sep="\t")


def test_in_memory_table_scores_as_the_file(table: pd.DataFrame) -> None:
    from_file = run_synergy(COMBO, SynergyOptions(response="viability", **FAST))
    in_memory = tr.synergy.score(table, response="viability", **FAST)
    pd.testing.assert_frame_equal(from_file.summary, in_memory.summary)
    pd.testing.assert_frame_equal(from_file.matrix, in_memory.matrix)
    assert list(in_memory.tables()) == [
        "synergy_summary",
        "synergy_matrix",
        "synergy_single_drugs",
        "synergy_combination_index",
        "synergy_proliferation",
    ]


def test_unit_given_as_an_argument_equals_the_unit_column(table: pd.DataFrame) -> None:
    with_column = tr.synergy.score(table, response="viability", models=["bliss"], **FAST)
    # The same doses in µM without a unit column: the argument says what they are.
    micro = table.drop(columns="conc_unit").assign(
        conc1=table["conc1"] / 1e3, conc2=table["conc2"] / 1e3
    )
    with_argument = tr.synergy.score(
        micro, response="viability", conc_unit="uM", models=["bliss"], **FAST
    )
    np.testing.assert_allclose(
        with_argument.summary["bliss"], with_column.summary["bliss"], rtol=1e-9
    )
    with pytest.raises(InputError, match="unit"):
        tr.synergy.score(micro, response="viability", **FAST)


def test_models_option_picks_the_columns_and_the_heatmap(table: pd.DataFrame) -> None:
    result = tr.synergy.score(table, response="viability", models=["hsa", "zip"], **FAST)
    assert {"hsa", "zip"} <= set(result.summary.columns)
    assert "bliss" not in result.summary.columns and result.main_model == "zip"
    assert tr.synergy.score(table, response="viability", models=["hsa"], **FAST).main_model == "hsa"


def test_condition_compares_each_line_with_the_reference(table: pd.DataFrame) -> None:
    result = tr.synergy.score(table, response="viability", condition="line", n_boot=40, musyc=False)
    assert result.resensitisation is not None and len(result.resensitisation) >= 1
    assert (result.resensitisation["line"] != "parental").all()
    with pytest.raises(InputError, match="condition column"):
        tr.synergy.score(table, response="viability", condition="cell", **FAST)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"models": ["bliss", "5pl"]}, "bad option models"),
        ({"models": []}, "bad option models"),
        ({"models": ["zip", "zip"]}, "bad option models"),
        ({"response": "percent"}, "bad option response"),
        ({"n_boot": -1}, "bad option n_boot"),
        ({"ci": 1.5}, "bad option ci"),
        ({"conc_unit": "furlongs"}, "bad option conc_unit"),
        ({"adjust": "none"}, "bad option adjust"),
        ({"alpha": 0.1}, "unknown option alpha"),
    ],
)
def test_bad_options_are_input_errors_naming_the_option(
    table: pd.DataFrame, options: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        tr.synergy.score(table, **options)


def test_cli_and_api_share_the_message() -> None:
    with pytest.raises(InputError, match="bad option --models"):
        validate_options(SynergyOptions, {"models": ["5pl"]}, source="cli")
    with pytest.raises(InputError, match="bad option models"):
        validate_options(SynergyOptions, {"models": ["5pl"]}, source="api")


def test_bad_frames_are_input_errors(table: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="not a drug-combination table"):
        tr.synergy.score(table.drop(columns=["drug2", "conc2"]))
    with pytest.raises(InputError, match="no rows"):
        tr.synergy.score(table.iloc[:0])
    with pytest.raises(InputError, match="response"):
        tr.synergy.score(table.assign(response=np.nan))
    with pytest.raises(InputError, match="not a combination table"):
        tr.synergy.score(42)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="named twice"):
        tr.synergy.score(table.rename(columns={"line": "Response"}))
    with pytest.raises(InputError, match="options must be"):
        tr.synergy.score(table, options=3)  # type: ignore[arg-type]


def test_combinations_checks_and_converts(table: pd.DataFrame) -> None:
    combos = tr.synergy.combinations(table, response="viability")
    assert combos.n_drugs == 2 and combos.data["conc1"].max() <= 1e-5  # nM → molar
    np.testing.assert_allclose(combos.data["response"], 100 - table["response"])
    pd.testing.assert_frame_equal(
        tr.synergy.score(combos, **FAST).summary,
        tr.synergy.score(table, response="viability", **FAST).summary,
    )


def test_two_inputs_are_scored_together_with_numbered_blocks(table: pd.DataFrame) -> None:
    result = tr.synergy.score([table, table], response="viability", models=["bliss"], **FAST)
    single = tr.synergy.score(table, response="viability", models=["bliss"], **FAST)
    assert len(result.summary) == 2 * len(single.summary)
    assert result.summary["block_id"].str.match(r"^[12]\.").all()


def test_synergy_section_through_the_registry(tmp_path: Path, table: pd.DataFrame) -> None:
    from support import write_study
    from trkres.knowledge.loader import load_knowledge
    from trkres.study.manifest import load_study
    from trkres.study.registry import AnalysisContext, analyses

    table.to_csv(tmp_path / "combo.tsv", sep="\t", index=False)
    write_study(tmp_path, "name: s\ninputs:\n  - {kind: combination, path: combo.tsv}\n")
    analysis = next(a for a in analyses() if a.name == "synergy")
    assert analysis.options_model is SynergyOptions
    opts = SynergyOptions(response="viability", condition="line", n_boot=0, musyc=False)
    section = analysis.function(AnalysisContext(load_study(tmp_path), load_knowledge(), opts))
    expected = run_synergy(tmp_path / "combo.tsv", opts)
    by_name = {t.name: t.frame for t in section.tables}
    assert list(by_name) == list(expected.tables())
    for name, frame in expected.tables().items():
        pd.testing.assert_frame_equal(by_name[name], frame)
    assert [f.name for f in section.figures][:3] == [
        "synergy_heatmap_zip",
        "synergy_summary_scores",
        "synergy_single_drugs",
    ]
    assert section.figures[0].interactive is not None
    import matplotlib.pyplot as plt

    for fig in section.figures:
        plt.close(fig.static)


def test_heatmap_draws_a_result_or_its_matrix(table: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    result = tr.synergy.score(table, response="viability", **FAST)
    ax = tr.pl.synergy_heatmap(result, model="zip")
    assert ax.get_title().endswith("ZIP synergy") and ax.get_xlabel() == "trametinib (nM)"
    block = result.summary["block_id"].iloc[1]
    _, ax2 = plt.subplots()
    assert tr.pl.synergy_heatmap(result.matrix, model="bliss", block=block, ax=ax2) is ax2
    image = ax2.get_images()[0].get_array()
    cells = result.matrix[result.matrix["block_id"] == block]
    assert image.shape == (cells["conc1"].nunique(), cells["conc2"].nunique())
    with pytest.raises(InputError, match="unknown synergy model"):
        tr.pl.synergy_heatmap(result, model="css")
    with pytest.raises(InputError, match="block not in"):
        tr.pl.synergy_heatmap(result, block="nope")
    plt.close("all")
