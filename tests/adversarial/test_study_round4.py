"""Round-4 adversarial review of the study runner, the report and lab knowledge files.

Each test failed before its fix:

1. one file given twice under two ids (the same path, or a copy) was analysed twice: a
   dose-response fit used every point twice, its CI narrower than the data support;
2. two inputs of one name were located at line 1 (the document), not the second input;
3. a lab fact marked verified on a source without PMID or DOI set headline calls;
4. a lab change at a shipped hotspot residue (NRAS Q61K under 'nras_hotspots') decided
   with no notice, and a lab hotspot residue did not decide for a change a shipped fact
   names exactly (KRAS G12D) without a word;
5. two interactive figures whose names slug alike (inputs pdx_1 and pdx-1) shared one
   plotly div id: the second was drawn over the first, the first lost;
6. the inputs table counted an ABIF trace's bytes as 2,184 rows with a binary 'header',
   an .xlsx or .parquet table as its zip/parquet bytes, and a truncated .gz input made
   the inputs section raise EOFError (a traceback);
7. a Sanger input's control trace and reference were missing from the inputs' checksums.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from support import EXAMPLE, genomics_study, write_study
from trkres.errors import ManifestError
from trkres.knowledge.loader import load_knowledge
from trkres.report.html import ReportMeta, render_report
from trkres.report.model import Figure, Section
from trkres.study.inputs_section import content_summary
from trkres.study.manifest import load_study
from trkres.study.runner import describe_inputs

VIABILITY = EXAMPLE / "lab" / "viability_entrectinib.tsv"
SANGER = Path(__file__).parent.parent / "data" / "sanger"


# ---- 1. one file twice ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("second", "pattern"),
    [("v.tsv", r"'b' \(v.tsv\) is the same file as input 'a'"),
     ("./v.tsv", r"'b' \(./v.tsv\) is the same file as input 'a'"),
     ("copy.tsv", r"'b' \(copy.tsv\) is a copy of input 'a'")],
)  # fmt: skip
def test_one_file_twice_for_one_kind_is_refused_at_its_line(
    tmp_path: Path, second: str, pattern: str
) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(VIABILITY, folder / "v.tsv")
    shutil.copy(VIABILITY, folder / "copy.tsv")
    (folder / "study.yaml").write_text(
        "name: s\ninputs:\n  - {id: a, kind: dose_response, path: v.tsv}\n"
        f"  - {{id: b, kind: dose_response, path: {second}}}\n"
    )
    with pytest.raises(ManifestError, match=pattern) as info:
        load_study(folder)
    assert info.value.location is not None and info.value.location.line == 4
    assert "count twice" in str(info.value)


def test_one_trace_asked_about_two_mutations_and_other_kinds_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(SANGER / "310.ab1", folder / "t.ab1")
    shutil.copy(VIABILITY, folder / "v.tsv")
    (folder / "study.yaml").write_text(
        "name: s\ninputs:\n"
        "  - {id: a, kind: sanger, path: t.ab1, expect: NTRK1 G595R}\n"
        "  - {id: b, kind: sanger, path: t.ab1, expect: NTRK1 F589L}\n"
        "  - {id: c, kind: dose_response, path: v.tsv}\n"
        "  - {id: d, kind: dose_response, path: t.ab1}\n"  # another kind: its reader decides
    )
    assert [i.name for i in load_study(folder).manifest.inputs] == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("inputs", "files"),
    [
        (  # an earlier kind name is the same kind
            "  - {id: a, kind: tumour_volumes, path: v.csv}\n"
            "  - {id: b, kind: xenograft, path: w.csv}\n",
            {"v.csv": "mouse,day,volume\n", "w.csv": "mouse,day,volume\n"},
        ),
        (  # one image as two replicate blots
            "  - {id: a, kind: western, path: b.png, target: pERK, blot: r1}\n"
            "  - {id: b, kind: western, path: c.png, target: pERK, blot: r2}\n",
            {"b.png": "not really an image", "c.png": "not really an image"},
        ),
    ],
    ids=["earlier_kind_name", "one_image_two_blots"],
)
def test_a_copy_under_another_kind_name_or_blot_is_refused(
    tmp_path: Path, inputs: str, files: dict[str, str]
) -> None:
    folder = write_study(tmp_path / "s", "name: s\ninputs:\n" + inputs, files)
    with pytest.raises(ManifestError, match="is a copy of input 'a'"):
        load_study(folder)


# ---- 2. duplicate names at their line --------------------------------------------------


def test_two_inputs_of_one_name_are_located_at_the_second(tmp_path: Path) -> None:
    folder = write_study(
        tmp_path / "s",
        "name: s\ninputs:\n  - {id: a, kind: dose_response, path: v.tsv}\n"
        "  - id: a\n    kind: cfdna\n    path: w.tsv\n",
        {"v.tsv": "x\n1\n", "w.tsv": "y\n2\n"},
    )
    with pytest.raises(ManifestError, match="two inputs are named 'a'") as info:
        load_study(folder)
    assert info.value.location is not None and info.value.location.line == 4


# ---- 3. lab facts without PMID/DOI ------------------------------------------------------

LAB_SOURCE = "sources:\n  - {id: ourlab, citation: 'Our lab 2026, unpublished.'}\n"


def _bypass(ident: str, gene: str, what: str, source: str = "ourlab") -> str:
    return (
        f"  - id: {ident}\n    gene: {gene}\n    alteration_type: mutation\n"
        f"    alteration_class: mapk_bypass\n    {what}\n    label: {ident}\n"
        f"    status: verified\n"
        f"    evidence: [{{source: {source}, statement: 'seen in our PDX', level: lab}}]\n"
    )


PMID_SOURCE = "sources:\n  - {id: ourpaper, citation: 'Our lab, J Onc 2026.', pmid: '12345678'}\n"


def _lab_fact(tmp_path: Path, ident: str, gene: str, what: str) -> Path:
    """A lab file (lab.yaml) of one bypass fact citing a source with a PMID."""
    lab = tmp_path / "lab.yaml"
    lab.write_text(PMID_SOURCE + "bypass_alterations:\n" + _bypass(ident, gene, what, "ourpaper"))
    return lab


def test_a_lab_fact_without_pmid_or_doi_is_not_verified(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    lab.write_text(LAB_SOURCE + "bypass_alterations:\n" + _bypass("x1", "NRAS", "changes: [Q61K]"))
    kb = load_knowledge([lab])
    assert kb.bypass_alterations["x1"].status == "needs_review"
    assert any("'x1'" in n and "no source with a PMID or DOI" in n for n in kb.notices)


def test_a_lab_fact_citing_a_pmid_stays_verified(tmp_path: Path) -> None:
    lab = _lab_fact(tmp_path, "x1", "NRAS", "changes: [Q61K]")
    kb = load_knowledge([lab])
    assert kb.bypass_alterations["x1"].status == "verified"
    assert not any("no source with a PMID" in n for n in kb.notices)


# ---- 4. precedence between a lab fact and a shipped one ---------------------------------


def test_a_lab_change_at_a_shipped_hotspot_residue_is_stated(tmp_path: Path) -> None:
    lab = _lab_fact(tmp_path, "x1", "NRAS", "changes: [Q61K]")
    notices = load_knowledge([lab]).notices
    assert any("'x1'" in n and "'nras_hotspots'" in n and "decides for NRAS Q61K" in n
               for n in notices), notices  # fmt: skip


def test_a_lab_residue_under_a_shipped_exact_change_is_stated(tmp_path: Path) -> None:
    lab = _lab_fact(tmp_path, "x2", "KRAS", "residues: [G12]")
    notices = load_knowledge([lab]).notices
    assert any("'x2'" in n and "does not decide for KRAS G12D" in n and "'kras_g12d'" in n
               for n in notices), notices  # fmt: skip


# ---- 5. figure div ids -------------------------------------------------------------------


def test_figures_whose_names_slug_alike_keep_their_own_div() -> None:
    def fig(name: str, y: int) -> Figure:
        spec = {"data": [{"type": "scatter", "x": [0], "y": [y]}], "layout": {}}
        return Figure(name, name, lambda: None, spec)  # type: ignore[arg-type,return-value]

    section = Section("invivo", "In vivo", figures=[fig("invivo_pdx_1_spider", 1),
                                                   fig("invivo_pdx-1_spider", 2)])  # fmt: skip
    meta = ReportMeta("t", "", "0", "0", "now")
    html = render_report(meta, [section])
    ids = re.findall(r'<div id="([^"]+)" class="plotly-graph-div"', html)
    assert len(ids) == 2 and len(set(ids)) == 2, ids
    for div_id in ids:
        assert html.count(f'Plotly.newPlot("{div_id}"') == 1


# ---- 6. the inputs table's look at binary and broken files -------------------------------


def test_a_trace_is_not_counted_as_text_lines() -> None:
    look = content_summary(SANGER / "3730.ab1", "abi")
    assert look == {"data_rows": None, "columns": None, "header": ""}


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_spreadsheets_and_parquet_are_counted_as_read(tmp_path: Path, suffix: str) -> None:
    frame = pd.read_csv(VIABILITY, sep="\t")
    blank = pd.DataFrame([[None] * frame.shape[1]], columns=frame.columns)
    frame = pd.concat([frame.iloc[:3], blank, frame.iloc[3:]], ignore_index=True)
    path = tmp_path / f"v{suffix}"
    if suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_parquet(path)
    look = content_summary(path, "long")
    assert look["data_rows"] == len(frame) - 1 and look["columns"] == frame.shape[1]
    assert look["header"] == "drug, line, replicate, dose, unit, response"


def test_a_truncated_gzip_input_is_left_to_its_reader(tmp_path: Path) -> None:
    data = gzip.compress(VIABILITY.read_bytes() * 400)
    path = tmp_path / "v.tsv.gz"
    path.write_bytes(data[: len(data) // 2])
    assert content_summary(path, "long")["data_rows"] is None


# ---- 7. provenance of a trace's control and reference --------------------------------------


def test_control_and_reference_are_in_the_checksums(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(SANGER / "310.ab1", folder / "t.ab1")
    shutil.copy(SANGER / "3100.ab1", folder / "c.ab1")
    (folder / "ref.fa").write_text(">amp\nACGTACGTACGT\n")
    (folder / "study.yaml").write_text(
        "name: s\ninputs:\n"
        "  - {id: a, kind: sanger, path: t.ab1, control: c.ab1, reference: ref.fa}\n"
    )
    extra = describe_inputs(load_study(folder)).loc[0, "extra_sha256"]
    assert re.fullmatch(r"control:[0-9a-f]{64}; reference:[0-9a-f]{64}", extra), extra


# ---- 8. an input that is a pipe ------------------------------------------------------------


def test_a_pipe_is_not_called_a_folder(tmp_path: Path) -> None:
    folder = write_study(tmp_path / "s", "name: s\ninputs:\n  - {kind: dose_response, path: p}\n")
    os.mkfifo(folder / "p")
    with pytest.raises(ManifestError, match="input file not found") as info:
        load_study(folder)
    assert info.value.found == "not a regular file (a pipe, socket or device)"


# ---- 9. trkres check states what a lab file overrides ------------------------------------


def test_check_says_what_a_lab_file_changes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trkres.cli import app

    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(VIABILITY, folder / "v.tsv")
    (folder / "lab.yaml").write_text(
        LAB_SOURCE + "bypass_alterations:\n" + _bypass("x1", "NRAS", "changes: [Q61K]")
    )
    (folder / "study.yaml").write_text(
        "name: s\ninputs:\n  - {id: a, kind: dose_response, path: v.tsv}\n"
        "  - {id: lab, kind: knowledge, path: lab.yaml}\n"
    )
    result = CliRunner().invoke(app, ["check", "--manifest-only", str(folder)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "knowledge: bypass_alterations 'x1'" in text and "used as needs_review" in text
    assert "'nras_hotspots'" in text


# ---- 10. run.json is JSON with an infinite option ------------------------------------------


def test_run_json_is_strict_json_with_an_infinite_threshold(tmp_path: Path) -> None:
    import json

    import trkres as tr

    folder = genomics_study(tmp_path / "s")
    text = (folder / "study.yaml").read_text()
    (folder / "study.yaml").write_text(
        text + "options:\n  genomics: {amp_copies: .inf, del_log2: -.inf}\n"
    )
    out = tr.study.run(folder, only=["genomics"]).write(tmp_path / "out", figures=False)

    def refuse(name: str) -> None:
        raise ValueError(name)

    info = json.loads((out.out_dir / "run.json").read_text(), parse_constant=refuse)
    assert info["parameters"]["genomics"]["amp_copies"] == "inf"
    assert info["parameters"]["genomics"]["del_log2"] == "-inf"


# ---- 11. tr.study.run's knowledge_files and only ------------------------------------------


def _viability_study(tmp_path: Path) -> Path:
    folder = tmp_path / "s"
    folder.mkdir()
    shutil.copy(VIABILITY, folder / "v.tsv")
    (folder / "study.yaml").write_text(
        "name: s\ninputs:\n  - {id: a, kind: dose_response, path: v.tsv}\n"
    )
    return folder


def test_one_knowledge_file_given_as_a_string_is_one_file(tmp_path: Path) -> None:
    import trkres as tr

    folder = _viability_study(tmp_path)
    lab = tmp_path / "lab.yaml"
    lab.write_text(LAB_SOURCE)
    result = tr.study.run(folder, knowledge_files=str(lab), only="inputs")
    assert result.info["knowledge"]["extra_files"] == [str(lab)]


@pytest.mark.parametrize(("name", "value"), [("knowledge_files", 5), ("knowledge_files", [5]),
                                             ("only", 5), ("only", [None])])  # fmt: skip
def test_bad_knowledge_files_and_only_are_input_errors(
    tmp_path: Path, name: str, value: object
) -> None:
    import trkres as tr
    from trkres.errors import InputError

    with pytest.raises(InputError, match=name):
        tr.study.run(_viability_study(tmp_path), **{name: value})  # type: ignore[arg-type]


def test_one_lab_file_given_twice_is_read_once(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    lab.write_text(PMID_SOURCE)
    kb = load_knowledge([lab, tmp_path / "." / "lab.yaml"])
    assert kb.notices == () and kb.extra_files == (lab.resolve(),)


def test_a_blank_study_name_is_refused_at_its_line(tmp_path: Path) -> None:
    folder = write_study(
        tmp_path / "s", "inputs:\n  - {kind: cfdna, path: v.tsv}\nname: '   '\n", {"v.tsv": "x\n"}
    )
    with pytest.raises(ManifestError, match="needs a name") as info:
        load_study(folder)
    assert info.value.location is not None and info.value.location.line == 3


def test_a_lab_gene_level_fact_under_shipped_hotspots_is_stated(tmp_path: Path) -> None:
    lab = _lab_fact(tmp_path, "x3", "KRAS", "changes: []")
    notices = load_knowledge([lab]).notices
    for what in ("KRAS G12 (any change)", "KRAS Q61 (any change)"):
        assert any("'x3'" in n and f"does not decide for {what}" in n and "'kras_hotspots'" in n
                   for n in notices), notices  # fmt: skip


def test_two_empty_wells_alike_byte_for_byte_are_two_wells(tmp_path: Path) -> None:
    header = "Ch1 Amplitude,Ch2 Amplitude,Cluster\n"
    folder = write_study(
        tmp_path / "s",
        "name: s\ninputs:\n  - {kind: droplet_amplitudes, path: x_A01_Amplitude.csv}\n"
        "  - {kind: droplet_amplitudes, path: x_A02_Amplitude.csv}\n",
        {"x_A01_Amplitude.csv": header, "x_A02_Amplitude.csv": header},
    )
    assert len(load_study(folder).manifest.inputs) == 2
    (folder / "study.yaml").write_text(
        "name: s\ninputs:\n  - {id: a, kind: droplet_amplitudes, path: x_A01_Amplitude.csv}\n"
        "  - {id: b, kind: droplet_amplitudes, path: ./x_A01_Amplitude.csv}\n"
    )
    with pytest.raises(ManifestError, match="is the same file as input 'a'"):
        load_study(folder)


# ---- 12. report cells are bounded -----------------------------------------------------------


def test_a_huge_cell_is_cut_in_the_report_and_kept_in_the_table() -> None:
    from trkres.report.html import MAX_CELL_CHARS, table_html

    frame = pd.DataFrame({"header": ["<" * 5_000_000, "short"], "x" * 20_000: [1, 2]})
    html = table_html(frame, 10)
    assert len(html) < 6 * MAX_CELL_CHARS  # "<" escaped as "&lt;": four characters each
    assert "(cut at 10,000 of 5,000,000 characters)" in html and "short" in html
    assert "&lt;" in html and "<<" not in html
    assert len(frame.iloc[0, 0]) == 5_000_000
