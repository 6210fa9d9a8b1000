"""The command line: help teaches, errors are precise, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from support import EXAMPLE, genomics_study, write_study
from trkres import __version__
from trkres.cli import app

runner = CliRunner()


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m trkres`` as a user would (real exit codes and streams)."""
    return subprocess.run(
        [sys.executable, "-m", "trkres", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": str(cwd or Path.home())},
    )


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["analyze"],
        ["demo"],
        ["check"],
        ["analyses"],
        ["synergy"],
        ["plate"],
        ["gr"],
        ["escalation"],
        ["resistance"],
        ["fit"],
        ["knowledge"],
        ["knowledge", "show"],
        ["knowledge", "validate"],
    ],
)
def test_help_explains_every_command(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Usage" in result.output
    if command and command != ["knowledge"]:
        assert "Example" in result.output


def test_demo_writes_report_and_says_where(tmp_path: Path) -> None:
    result = run_cli("demo", "-o", str(tmp_path / "rep"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rep" / "index.html").is_file()
    assert "index.html" in result.stderr
    assert "Traceback" not in result.stderr


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    study = genomics_study(tmp_path / "study")
    result = run_cli("-q", "analyze", str(study), "-o", str(tmp_path / "rep"))
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""


def test_bad_manifest_is_a_clean_error(tmp_path: Path) -> None:
    study = write_study(
        tmp_path / "s", "name: s\ninputs:\n  - kind: mutations\n    path: gone.maf\n"
    )
    result = run_cli("analyze", str(study), "-o", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "study.yaml, line 4, column 11" in result.stderr
    assert "input file not found: gone.maf" in result.stderr
    assert "expected:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_debug_shows_traceback(tmp_path: Path) -> None:
    study = write_study(tmp_path / "s", "name: s\ninputs: 3\n")
    result = run_cli("--debug", "analyze", str(study), "-o", str(tmp_path / "out"))
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_check_lists_analyses() -> None:
    result = runner.invoke(app, ["check", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "inputs" in result.output and "knowledge" in result.output


def test_knowledge_show_and_validate(tmp_path: Path) -> None:
    result = runner.invoke(app, ["knowledge", "show"])
    assert result.exit_code == 0 and "needs_review" in result.output
    result = runner.invoke(app, ["knowledge", "show", "drugs", "--tsv"])
    assert result.exit_code == 0 and "selitrectinib" in result.output
    result = runner.invoke(app, ["knowledge", "show", "ntrk3_g623r"])
    assert (
        result.exit_code == 0 and "10.1093/annonc/mdw042" not in result.output
    )  # source ids, not DOIs
    assert '"change": "G623R"' in result.output
    result = runner.invoke(app, ["knowledge", "validate"])
    assert result.exit_code == 0 and "valid" in result.output


def test_knowledge_validate_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("drugs:\n  - id: x\n    name: x\n    classes: [trk_inhibitor]\n    status: ok\n")
    result = run_cli("knowledge", "validate", str(bad))
    assert result.returncode == 1
    assert "bad.yaml, line 2" in result.stderr or "bad.yaml, line 5" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_topic(tmp_path: Path) -> None:
    result = run_cli("knowledge", "show", "nonsense")
    assert result.returncode == 1
    assert "no topic or fact named 'nonsense'" in result.stderr


def test_lab_knowledge_on_analyze(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    lab.write_text(
        "sources:\n  - {id: lab1, citation: 'Our lab 2026, unpublished.'}\n"
        "drugs:\n  - id: zz-001\n    name: zz-001\n    classes: [trk_inhibitor]\n"
        "    status: needs_review\n"
        "    evidence: [{source: lab1, statement: 'in-house compound', level: lab}]\n"
    )
    study = genomics_study(tmp_path / "study")
    result = run_cli("analyze", str(study), "-o", str(tmp_path / "out"), "--knowledge", str(lab))
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "index.html").read_text()
    assert "zz-001" in html and "lab knowledge files" in html


def test_classify_writes_every_table(tmp_path: Path) -> None:
    g = EXAMPLE / "genomics"
    out = tmp_path / "cls"
    result = run_cli(
        "classify", "--maf", str(g / "data_mutations.txt"), "--sv", str(g / "data_sv.txt"),
        "--cna", str(g / "data_cna.txt"), "--clinical", str(g / "data_clinical_sample.txt"),
        "--timeline", str(g / "data_timeline_treatment.txt"), "-o", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("alterations", "samples", "patients", "mechanisms", "classes", "issues"):
        assert (out / f"{name}.tsv").is_file(), name
    annotated = (out / "annotated" / "data_mutations.tsv").read_text().splitlines()
    assert annotated[0].startswith("Hugo_Symbol\t") and "trkres_class" in annotated[0]
    assert len(annotated) == 1 + 7  # every input row, annotation appended
    patients = (out / "patients.tsv").read_text()
    assert "PT-RUSSO\tLMNA::NTRK1" in patients and "trki_plus_meti" in patients


def test_classify_parquet_holds_the_same_tables(tmp_path: Path) -> None:
    g = EXAMPLE / "genomics"
    args = ["classify", "--maf", str(g / "data_mutations.txt"), "--sv", str(g / "data_sv.txt"),
            "--clinical", str(g / "data_clinical_sample.txt")]  # fmt: skip
    assert run_cli(*args, "-o", str(tmp_path / "t")).returncode == 0
    result = run_cli(*args, "-o", str(tmp_path / "p"), "--format", "parquet")
    assert result.returncode == 0, result.stderr
    for name in ("alterations", "samples", "patients", "annotated/data_mutations"):
        tsv = pd.read_csv(tmp_path / "t" / f"{name}.tsv", sep="\t", keep_default_na=False)
        parquet = pd.read_parquet(tmp_path / "p" / f"{name}.parquet")
        assert list(parquet.columns) == list(tsv.columns), name
        assert len(parquet) == len(tsv) > 0, name
        for column in ("patient_id", "mechanism", "trkres_class"):
            if column in tsv:
                assert list(parquet[column].astype(str)) == list(tsv[column].astype(str)), name
    bad = run_cli(*args, "-o", str(tmp_path / "x"), "--format", "xlsx")
    assert bad.returncode == 1 and "tsv or parquet" in bad.stderr


def test_classify_needs_an_input(tmp_path: Path) -> None:
    result = run_cli("classify", "-o", str(tmp_path / "x"))
    assert result.returncode == 1 and "nothing to classify" in result.stderr


def test_ddpcr_command(tmp_path: Path) -> None:
    d = EXAMPLE / "ddpcr"
    out = tmp_path / "dd"
    result = run_cli(
        "ddpcr",
        str(d / "qx_manager_export.csv"),
        str(d / "small_A05_Amplitude.csv"),
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    import pandas as pd

    wells = pd.read_csv(out / "ddpcr_wells.tsv", sep="\t")
    assert {"well", "sample", "target", "accepted_droplets", "positives", "concentration",
            "conc_ci_low", "conc_ci_high", "fractional_abundance", "call"} <= set(wells.columns)  # fmt: skip
    a05 = wells[(wells["well"] == "A05") & (wells["channel"] == 2)].iloc[0]
    # QuantaSoft exported 119 copies/uL for this well's channel 2 (0.91 nL droplets).
    assert abs(a05["concentration"] - 119) / 119 < 0.02
    assert (out / "ddpcr_droplet_agreement.tsv").is_file()


def test_cfdna_command(tmp_path: Path) -> None:
    g = EXAMPLE / "genomics"
    out = tmp_path / "cf"
    result = run_cli(
        "cfdna",
        str(g / "cfdna.tsv"),
        "--timeline",
        str(g / "data_timeline_treatment.txt"),
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "KRAS" in (out / "cfdna_emergence.tsv").read_text()
    assert (out / "figures" / "cfdna_vaf_over_time.svg").is_file()


def test_fit_command(tmp_path: Path) -> None:
    import numpy as np

    doses = np.logspace(-1, 4, 9)  # nM
    lines = ["curve_id\tdose\tunit\tresponse"]
    for rep in range(3):
        for d in doses:
            y = 0.1 + 0.9 / (1 + 10 ** ((np.log10(30e-9) - np.log10(d * 1e-9)) * -1.2)) + 0.01 * rep
            lines.append(f"parental\t{d}\tnM\t{y}")
    data = tmp_path / "long.tsv"
    data.write_text("\n".join(lines) + "\n")
    result = run_cli("fit", str(data), "-o", str(tmp_path / "fits"))
    assert result.returncode == 0, result.stderr
    fits = (tmp_path / "fits" / "fits.tsv").read_text().splitlines()
    header, row = fits[0].split("\t"), fits[1].split("\t")
    rec = dict(zip(header, row, strict=True))
    assert rec["status"] == "ok" and abs(float(rec["log10_ic50"]) - np.log10(30e-9)) < 0.05
    bad = tmp_path / "bad.tsv"
    bad.write_text("curve_id\tdose\tunit\tresponse\nc\t1\tmg/ml\t0.5\n")
    result = run_cli("fit", str(bad), "-o", str(tmp_path / "x"))
    assert result.returncode == 1 and "unknown concentration unit" in result.stderr


def test_resistance_command(tmp_path: Path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    lines = ["drug\tline\tdose\tunit\tresponse"]
    for line, ic50 in (("parental", 2.0), ("resistant", 507.0)):  # nM, Drilon 2016's shift
        for _ in range(3):
            for d in np.logspace(-1, 4, 9):
                y = 0.05 + 0.95 / (1 + (d / ic50)) + rng.normal(0, 0.02)
                lines.append(f"entrectinib\t{line}\t{d}\tnM\t{y}")
    data = tmp_path / "v.tsv"
    data.write_text("\n".join(lines) + "\n")
    result = run_cli("resistance", str(data), "--by", "drug", "-o", str(tmp_path / "res"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "res" / "resistance.tsv").read_text()
    assert "resistant" in text and "True" in text


def test_synergy_writes_tables_and_figures(tmp_path: Path) -> None:
    out = tmp_path / "syn"
    data = EXAMPLE / "lab" / "combination_larotrectinib_trametinib.tsv"
    result = runner.invoke(app, ["synergy", str(data), "--response", "viability", "--condition", "line",
                                 "--n-boot", "20", "-o", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "synergy_summary.tsv", sep="\t")
    assert {"block_id", "drug1", "drug2", "line", "bliss", "hsa", "loewe", "zip", "zip_ci_low",
            "zip_ci_high", "css", "status"} <= set(summary.columns)  # fmt: skip
    matrix = pd.read_csv(out / "synergy_matrix.tsv", sep="\t")
    assert len(matrix) == 72 and {"response_mean", "bliss_expected", "zip_fitted"} <= set(
        matrix.columns
    )
    assert (out / "synergy_resensitisation.tsv").exists()
    assert (out / "figures" / "synergy_heatmap_zip.svg").exists()
    bad = runner.invoke(
        app, ["synergy", str(data), "--response", "percent", "-o", str(tmp_path / "x")]
    )
    assert (
        bad.exit_code == 1 and "--response" in str(bad.exception) and not (tmp_path / "x").exists()
    )


def test_allocator_settings_are_taken_on_linux_glibc() -> None:
    import platform

    from trkres.allocator import reuse_freed_memory

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert reuse_freed_memory() is glibc


def test_help_paragraphs_flow_at_80_columns() -> None:
    """Source line breaks no longer reach the terminal: a docstring paragraph is one
    line for rich to wrap, while indented examples keep their layout."""
    from trkres.cli._app import flowing_help, knowledge_app

    doc = """Title line.

    First paragraph broken
    for the source at ninety characters.

    Example:  trkres fit data.tsv
              -o out
    """
    assert flowing_help(doc) == (
        "Title line.\n\nFirst paragraph broken for the source at ninety characters.\n\n"
        "Example:  trkres fit data.tsv\n          -o out"
    )
    for typer_app in (app, knowledge_app):
        for info in typer_app.registered_commands:
            assert info.help, info.callback
            for paragraph in info.help.split("\n\n"):
                lines = paragraph.split("\n")
                assert len(lines) == 1 or any(line[:1].isspace() for line in lines[1:]), paragraph
    result = runner.invoke(app, ["classify", "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    # "one row per sample" was split as "(one" / "row" / "per sample" at 80 columns.
    assert not any(line.strip() == "row" for line in result.output.splitlines())
