"""Fuzzed inputs: a clear error or row-level issues, never a crash or a silent drop."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from trkres.errors import InputError
from trkres.genomics.io.cna import read_copy_number
from trkres.genomics.io.fusions import read_fusions
from trkres.genomics.io.maf import read_maf
from trkres.knowledge import load_knowledge

KB = load_knowledge()
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

junk = st.text(
    alphabet=st.characters(blacklist_characters="\t\n\r", blacklist_categories=("Cs",)), max_size=10
)
genes = st.sampled_from(["NTRK1", "NTRK3", "KRAS", "BRAF", "MET", "TRKA", "", "x-y"])
changes = st.one_of(
    st.sampled_from(
        ["p.G595R", "p.Gly623Arg", "G12D", "p.V640E", "p.?", "", "p.E182*", "p.R273fs*5"]
    ),
    junk,
)
counts = st.one_of(st.integers(-5, 5000).map(str), st.sampled_from(["", "NA", "1e3", "many"]), junk)


@st.composite
def maf_rows(draw: st.DrawFn) -> str:
    fields = [
        draw(genes),
        draw(st.sampled_from(["S1", "S2", ""])),
        draw(changes),
        draw(counts),
        draw(counts),
    ]
    n = draw(st.sampled_from([5, 5, 5, 5, 4, 6, 1]))  # mostly well-formed, some short/long rows
    fields = (fields + [draw(junk) for _ in range(3)])[:n]
    return "\t".join(fields)


def data_lines(text: str, header_lines: int) -> int:
    """Data rows as the readers count them: every non-empty line after the header (a line
    of tabs or spaces is a row, reported if unusable, not a blank line skipped silently)."""
    return sum(1 for line in text.split("\n")[header_lines:] if line.rstrip("\r"))


@FUZZ
@given(rows=st.lists(st.one_of(maf_rows(), st.just("")), max_size=25))
def test_maf_accounts_for_every_row(tmp_path: Path, rows: list[str]) -> None:
    text = (
        "Hugo_Symbol\tTumor_Sample_Barcode\tHGVSp_Short\tt_ref_count\tt_alt_count\n"
        + "\n".join(rows)
        + "\n"
    )
    path = tmp_path / "f.maf"
    path.write_text(text)
    parsed = read_maf(path, KB)
    dropped = sum(i.action == "dropped" for i in parsed.issues)
    assert parsed.rows_in == data_lines(text, 1)
    assert len(parsed.alterations) + dropped == parsed.rows_in
    for issue in parsed.issues:
        assert issue.line is None or issue.line >= 2
        assert issue.expected and issue.found is not None


@FUZZ
@given(
    names=st.lists(
        st.one_of(
            st.sampled_from(["LMNA-NTRK1", "ETV6--NTRK3", "A-B-C", "NTRK1::", "::", "TPM3/NTRK1"]),
            junk,
        ),
        max_size=20,
    )
)
def test_fusions_account_for_every_row(tmp_path: Path, names: list[str]) -> None:
    text = (
        "Tumor_Sample_Barcode\tFusion\n"
        + "\n".join(f"S{i}\t{n}" for i, n in enumerate(names))
        + "\n"
    )
    path = tmp_path / "f.txt"
    path.write_text(text)
    parsed = read_fusions(path, KB)
    dropped = sum(i.action == "dropped" for i in parsed.issues)
    assert len(parsed.alterations) + dropped == parsed.rows_in == data_lines(text, 1)


@FUZZ
@given(
    values=st.lists(
        st.lists(
            st.one_of(st.sampled_from(["-2", "-1", "0", "1", "2", "NA", ""]), junk),
            min_size=2,
            max_size=2,
        ),
        max_size=15,
    )
)
@example(values=[["-2", "AMP"], [" 2", "HomDel"], ["2.0", "gain"]])
def test_copy_number_never_crashes(tmp_path: Path, values: list[list[str]]) -> None:
    text = (
        "Hugo_Symbol\tA\tB\n"
        + "\n".join(f"G{i}\t{a}\t{b}" for i, (a, b) in enumerate(values))
        + "\n"
    )
    path = tmp_path / "cna.txt"
    path.write_text(text)
    parsed = read_copy_number(path, KB)
    assert parsed.rows_in == len(parsed.table) == data_lines(text, 1)
    calls = sum(_calls_change(v) for row in values for v in row)
    assert len(parsed.alterations) == calls


#: GISTIC words the reader accepts for the two called levels (cBioPortal's vocabulary).
CALL_WORDS = {"amplification", "amp", "deletion", "homdel", "deep deletion"}


def _calls_change(cell: str) -> bool:
    """Whether a matrix cell calls amplification or deep deletion (level ±2 or its word)."""
    word = cell.strip().lower()
    if word in CALL_WORDS:
        return True
    number = pd.to_numeric(pd.Series([word]), errors="coerce").iloc[0]
    return bool(number in (2.0, -2.0))


@FUZZ
@given(header=st.lists(junk, min_size=1, max_size=4))
def test_bad_headers_give_a_clear_error(tmp_path: Path, header: list[str]) -> None:
    path = tmp_path / "h.maf"
    path.write_text("\t".join(header) + "\nx\ty\n")
    try:
        read_maf(path, KB)
    except InputError as err:
        assert err.location is not None and str(err.location.file) == str(path)
