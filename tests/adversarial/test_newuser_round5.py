"""A new user's walk through README.md and docs/, round 5: what the pages say against what
the code does (documented paths that failed or gave a wrong number)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import trkres as tr
from trkres.cli import app
from trkres.errors import InputError

REPO = Path(__file__).resolve().parents[2]
STUDY = REPO / "examples" / "ntrk_resistance"
GENOTYPES = {"parental": "ETV6::NTRK3", "G623R": "ETV6::NTRK3 + NTRK3 G623R"}


@pytest.fixture(scope="module")
def fits() -> pd.DataFrame:
    """The README's dose-response fits of the example study (``trkres fit``'s table)."""
    viability = pd.read_csv(STUDY / "lab" / "viability_entrectinib.tsv", sep="\t")
    data = tr.doseresponse.prepare(viability, group=["drug", "line"], dose_unit="nM")
    return tr.doseresponse.fit(data)


def test_calibration_observations_from_trkres_fit_are_in_nanomolar(fits: pd.DataFrame) -> None:
    """Was: docs/signalling.md sends IC50s 'from trkres fit via observations_from_fits', but the
    function was not in tr.signalling, wanted drug/line columns that fits.tsv does not have
    (it names curves by curve_id) and an ic50_nm column; pointed at fits.tsv's molar ``ic50``
    it took 2.3e-9 M as 2.3e-9 nM (a billion-fold potency error in the calibration)."""
    obs = tr.signalling.observations_from_fits(fits, GENOTYPES, group=["drug", "line"])
    values = dict(zip(obs["genotype"], obs["value"], strict=True))
    # the example file is simulated around 2 nM (parental) and 507 nM (G623R): Drilon 2016
    assert 1.0 < values["ETV6::NTRK3"] < 5.0
    assert 300.0 < values["ETV6::NTRK3 + NTRK3 G623R"] < 900.0
    assert set(obs["drug"]) == {"entrectinib"} and set(obs["kind"]) == {"ic50"}
    with pytest.raises(InputError, match="group="):
        tr.signalling.observations_from_fits(fits, GENOTYPES)
    with pytest.raises(InputError, match="ic50_unit"):
        tr.signalling.observations_from_fits(fits, GENOTYPES, group=["drug", "line"],
                                             ic50_column="abs_ic50")  # fmt: skip
    nm = tr.signalling.observations_from_fits(fits, GENOTYPES, group=["drug", "line"],
                                              ic50_column="abs_ic50", ic50_unit="M")  # fmt: skip
    assert nm["value"].between(1.0, 900.0).all()


def test_calibration_refuses_fits_the_data_do_not_determine(fits: pd.DataFrame) -> None:
    """An ambiguous fit's IC50 is 'shown but not to be trusted' (trkres fit --help): it must
    not become a calibration target unnoticed."""
    shaky = fits.assign(status=["ok", "ambiguous"])
    with pytest.raises(InputError, match="ambiguous"):
        tr.signalling.observations_from_fits(shaky, GENOTYPES, group=["drug", "line"])
    with pytest.raises(InputError):
        tr.signalling.observations_from_fits("fits.tsv", GENOTYPES)  # type: ignore[arg-type]


def test_evolve_rate_from_the_knowledge_base_prints_no_row_none(tmp_path: Path) -> None:
    """Was: the docs' `--rate rate.sensitive.on_target=kb:...` printed 'trkres knowledge
    base row None, column ...' (a knowledge-base rate has no row)."""
    logging.getLogger("trkres").setLevel(logging.WARNING)
    scenario = REPO / "examples" / "evolution" / "cocco_trk_mek.yaml"
    result = CliRunner().invoke(app, ["evolve", str(scenario), "-o", str(tmp_path / "evo"),
                                      "--patients", "20", "--no-figures", "--rate",
                                      "rate.sensitive.on_target=kb:solvent_front"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "trkres knowledge base" in result.output
    assert "row None" not in result.output and "row <NA>" not in result.output


PLATE_MAP = """plate_size: 96
unit: nM
wells:
  - {wells: "A1:C1", role: vehicle, cell_line: parental}
  - {wells: "A12:C12", role: blank}
  - {wells: "A2:A11", role: sample, cell_line: parental, drug: larotrectinib,
     dose: [0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000]}
"""


def test_plate_without_positive_controls_says_why_z_prime_is_missing(tmp_path: Path) -> None:
    """Was: the README's YAML plate map (no positive controls) printed "Z' nan, QC pass"."""
    header = "," + ",".join(str(c) for c in range(1, 13))
    rows = [header] + [
        "ABCDEFGH"[r] + "," + ",".join(str(50000 - 4000 * c if c < 11 else 500) for c in range(12))
        for r in range(8)
    ]  # fmt: skip
    export = tmp_path / "plate.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    layout = tmp_path / "map.yaml"
    layout.write_text(PLATE_MAP, encoding="utf-8")
    result = CliRunner().invoke(app, ["plate", str(export), "--map", str(layout),
                                      "-o", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "nan" not in result.output
    assert "Z' not computed" in result.output


def test_knowledge_show_finds_a_fact_written_as_a_mutation() -> None:
    """Was: `trkres knowledge show "NTRK3 G623R"` (or NTRK3_G623R) answered 'no topic or fact
    named ...': only the exact lower-case id ntrk3_g623r was found."""
    for query in ("NTRK3 G623R", "NTRK3_G623R", "ntrk3-g623r"):
        result = CliRunner().invoke(app, ["knowledge", "show", query])
        assert result.exit_code == 0, result.output
        assert '"id": "ntrk3_g623r"' in result.output
    bad = CliRunner().invoke(app, ["knowledge", "show", "NTRK3 G999X"])
    assert bad.exit_code != 0 and "ntrk1_g595r" in repr(bad.exception)


@pytest.mark.parametrize(
    "command",
    ["analyze", "classify", "ddpcr", "cfdna", "fit", "resistance", "gr", "escalation", "plate",
     "synergy", "invivo", "blot", "sanger", "signal", "evolve"],
)  # fmt: skip
def test_out_help_says_other_folders_are_refused(command: str) -> None:
    """Was: every --out said 'Output folder (replaced atomically).', which reads as 'any
    folder named is replaced'; trkres refuses any folder that is not new, empty or its own
    earlier output (README, Study folders) -- the help now says so."""
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "earlier trkres output" in result.output and "refused" in result.output


def test_readme_lab_knowledge_example_validates(tmp_path: Path) -> None:
    """The README's lab knowledge file (the only example a user sees) is valid and does what
    it says: the needs_review fact becomes the lab's verified one."""
    import re

    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text[text.index("confirmed NTRK3 G623E") :], re.S)
    assert block is not None
    lab = tmp_path / "lab.yaml"
    lab.write_text(block.group(1), encoding="utf-8")
    result = CliRunner().invoke(app, ["knowledge", "validate", str(lab)])
    assert result.exit_code == 0, result.output
    shown = CliRunner().invoke(app, ["knowledge", "show", "ntrk3_g623e", "-k", str(lab)])
    assert shown.exit_code == 0 and '"status": "verified"' in shown.output


def test_output_under_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    """Was: `-o notes.txt/out` passed the pre-run check (the folder does not exist), the run
    did all its work (the demo: its whole study) and then failed with 'cannot create output
    folder: File exists'; README promises such paths are refused before any work starts."""
    from trkres.errors import OutputError
    from trkres.outputs import atomic_directory, check_output_folder

    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n", encoding="utf-8")
    with pytest.raises(OutputError, match="parent of the output folder is a file"):
        check_output_folder(notes / "out")
    with (
        pytest.raises(OutputError, match="parent of the output folder is a file"),
        atomic_directory(notes / "out" / "deeper"),
    ):
        pass
    assert notes.read_text(encoding="utf-8") == "mine\n"
