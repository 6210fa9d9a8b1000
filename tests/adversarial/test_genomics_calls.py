"""Hostile and real-world inputs for the resistance caller (issue 12).

Classes: samples without fusion data (``fusion_unknown``, no strategy);
needs_review facts deciding headline calls; unknown drug names in timelines;
conflicting cfDNA rows; lab knowledge shadowing shipped facts; non-finite or
impossible numbers in clinical, timeline and cfDNA tables. Each class has
constructed cases and a hypothesis strategy generating it.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from trkres.cli import app
from trkres.errors import InputError, KnowledgeError
from trkres.genomics.caller import ResistanceCaller
from trkres.genomics.cfdna import monitor, read_cfdna
from trkres.genomics.io.clinical import MAX_DAYS, read_samples, read_timeline
from trkres.genomics.model import conform
from trkres.genomics.pipeline import classify_inputs, read_genomic_inputs
from trkres.knowledge import load_knowledge

KB = load_knowledge()
runner = CliRunner()
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def mutation(sample: str, gene: str, change: str) -> dict[str, object]:
    return {"sample_id": sample, "gene": gene, "protein_change": change, "aa_ref": change[0],
            "aa_pos": int(change[1:-1]), "aa_alt": change[-1], "alteration_type": "mutation"}  # fmt: skip


def fusion(sample: str, partner: str, gene: str) -> dict[str, object]:
    return {"sample_id": sample, "gene": gene, "partner_gene": partner,
            "fusion": f"{partner}::{gene}", "alteration_type": "fusion"}  # fmt: skip


def frame(*rows: dict[str, object]) -> pd.DataFrame:
    table = pd.DataFrame(list(rows))
    if "aa_pos" in table:
        table["aa_pos"] = table["aa_pos"].fillna(-1).astype(int)
    return conform(table)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


MAF_HEADER = "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tHGVSp_Short\n"


# --------------------------------------------------------- 1. fusion unknown
def test_maf_alone_is_fusion_unknown_without_strategy(tmp_path: Path) -> None:
    """A MAF with a KRAS G12D and no fusion data: the old caller said off_target +
    trki_plus_meki (a leukaemia cohort read as TRK-inhibitor resistance)."""
    maf = write(tmp_path / "m.maf", MAF_HEADER + "KRAS\tS1\tMissense_Mutation\tp.G12D\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["-q", "classify", "--maf", str(maf), "-o", str(out)])
    assert result.exit_code == 0, result.output
    samples = pd.read_csv(out / "samples.tsv", sep="\t", dtype=str, keep_default_na=False)
    row = samples.iloc[0]
    assert row["mechanism"] == "fusion_unknown" and row["fusion_status"] == "unknown"
    assert row["therapy_strategies"] == "" and row["off_target"] == "KRAS G12D (mapk_bypass)"
    alts = pd.read_csv(out / "alterations.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert (alts["counts_as"] == "").all() and (alts["therapy_strategies"] == "").all()
    assert alts.loc[alts["gene"] == "KRAS", "alteration_class"].iloc[0] == "mapk_bypass"


def test_assume_trk_fusion_restores_the_call_and_says_so(tmp_path: Path) -> None:
    maf = write(tmp_path / "m.maf", MAF_HEADER + "KRAS\tS1\tMissense_Mutation\tp.G12D\n")
    out = tmp_path / "out"
    args = ["classify", "--maf", str(maf), "--assume-trk-fusion", "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "ASSUMED" in result.output
    row = pd.read_csv(out / "patients.tsv", sep="\t", dtype=str, keep_default_na=False).iloc[0]
    assert row["mechanism"] == "off_target" and row["fusion_status"] == "assumed"
    assert row["therapy_strategies"] == "trki_plus_meki" and "assumed" in row["review_flags"]


def test_sv_file_covers_only_the_samples_it_lists(tmp_path: Path) -> None:
    """SV data for A (NTRK fusion) and B (ALK fusion) say nothing about C."""
    maf = write(
        tmp_path / "m.maf",
        MAF_HEADER + "".join(f"KRAS\t{s}\tMissense_Mutation\tp.G12D\n" for s in "ABC"),
    )
    sv = write(
        tmp_path / "sv.txt",
        "Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\nA\tETV6\tNTRK3\nB\tEML4\tALK\n",
    )
    inputs = read_genomic_inputs(KB, mafs=[maf], svs=[sv])
    result = classify_inputs(inputs, KB)
    got = result.samples.set_index("sample_id")
    assert got.loc["A", "mechanism"] == "off_target"
    assert got.loc["B", "mechanism"] == "no_trk_fusion"
    assert got.loc["C", "mechanism"] == "fusion_unknown"
    assert got.loc["C", "therapy_strategies"] == got.loc["B", "therapy_strategies"] == ""
    assert any("fusion_unknown" in line for line in result.statements())


def test_clinical_fusion_column(tmp_path: Path) -> None:
    maf = write(
        tmp_path / "m.maf",
        MAF_HEADER + "".join(f"NTRK3\t{s}\tMissense_Mutation\tp.G623R\n" for s in "ABCD"),
    )
    clinical = write(
        tmp_path / "s.txt",
        "SAMPLE_ID\tPATIENT_ID\tFUSION\nA\tPA\tETV6-NTRK3\nB\tPB\tnegative\nC\tPC\tbanana\nD\tPD\t\n",
    )
    inputs = read_genomic_inputs(KB, mafs=[maf], clinical=clinical)
    issue = next(i for i in inputs.all_issues() if i.column == "FUSION")
    assert issue.line == 4 and "banana" in issue.found
    got = classify_inputs(inputs, KB).patients.set_index("patient_id")
    assert got.loc["PA", "mechanism"] == "on_target" and got.loc["PA", "fusion"] == "ETV6::NTRK3"
    assert got.loc["PB", "mechanism"] == "no_trk_fusion"
    assert got.loc["PC", "mechanism"] == got.loc["PD", "mechanism"] == "fusion_unknown"


FUSION_CELLS = ["ETV6::NTRK3", "LMNA-NTRK1", "EML4-ALK", "negative", "No", "yes", "", "NA",
                "unknown", "banana", "NTRK?", "1", "0"]  # fmt: skip


@SETTINGS
@given(st.lists(st.sampled_from(FUSION_CELLS), min_size=1, max_size=8))
def test_generated_clinical_fusion_cells_are_called_or_reported(
    tmp_path: Path, cells: list[str]
) -> None:
    body = "".join(f"S{k}\tP{k}\t{c}\n" for k, c in enumerate(cells))
    path = write(tmp_path / "s.txt", "SAMPLE_ID\tPATIENT_ID\tFUSION\n" + body)
    samples, issues = read_samples(path, KB)
    reported = {i.line for i in issues}
    for k, cell in enumerate(cells):
        call = samples.loc[k, "fusion_call"]
        if cell.casefold() in ("", "na", "unknown"):
            assert call == "" and k + 2 not in reported
        elif cell in ("banana", "NTRK?"):
            assert call == "" and k + 2 in reported
        else:
            assert call in ("detected", "not_detected") and k + 2 not in reported
        if cell in ("ETV6::NTRK3", "LMNA-NTRK1"):
            assert samples.loc[k, "fusion_gene"] == cell[-5:]


POOL = [("KRAS", "G12D"), ("BRAF", "V600E"), ("NTRK1", "G595R"), ("NTRK3", "G623R"),
        ("PIK3CA", "E545K"), ("TP53", "R273H"), ("KRAS", "G13D")]  # fmt: skip
FUSIONS = [None, ("LMNA", "NTRK1"), ("ETV6", "NTRK3"), ("EML4", "ALK")]


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, tuple[str, str] | None]]:
    """Patients with random alterations; some with an NTRK fusion row, some with a
    non-NTRK fusion row, some with no fusion row at all."""
    n = draw(st.integers(1, 6))
    rows: list[dict[str, object]] = []
    fusions: dict[str, tuple[str, str] | None] = {}
    for k in range(n):
        sample = f"S{k}"
        fusions[sample] = draw(st.sampled_from(FUSIONS))
        if fusions[sample] is not None:
            rows.append(fusion(sample, *fusions[sample]))  # type: ignore[misc]
        for gene, change in draw(st.lists(st.sampled_from(POOL), max_size=3, unique=True)):
            rows.append(mutation(sample, gene, change))
    if not rows:
        rows.append(mutation("S0", "TP53", "R273H"))
        fusions = {"S0": None}
    return frame(*rows), fusions


@SETTINGS
@given(cohorts())
def test_generated_cohorts_never_call_resistance_without_fusion_data(
    data: tuple[pd.DataFrame, dict[str, tuple[str, str] | None]],
) -> None:
    alts, fusions = data
    samples = ResistanceCaller(KB).fit(alts).samples_.set_index("sample_id")
    for sample, row in samples.iterrows():
        f = fusions.get(str(sample))
        if f is None:
            assert row["mechanism"] == "fusion_unknown" and row["therapy_strategies"] == ""
            assert row["unverified_strategies"] == ""
        elif f[1] not in KB.trk_genes:
            assert row["mechanism"] == "no_trk_fusion" and row["therapy_strategies"] == ""
        else:
            assert row["mechanism"] not in ("fusion_unknown", "no_trk_fusion")


# ------------------------------------------------- 2. unverified facts decide
def test_needs_review_bypass_does_not_change_an_on_target_call() -> None:
    """PIK3CA (bypass_alterations:pik3ca_activating, needs_review) made the old caller
    say on_and_off_target."""
    data = frame(
        fusion("S", "LMNA", "NTRK1"), mutation("S", "NTRK1", "G595R"),
        mutation("S", "PIK3CA", "E545K"),
    )  # fmt: skip
    row = ResistanceCaller(KB).fit(data).samples_.iloc[0]
    assert row["mechanism"] == "on_target" and row["off_target"] == ""
    assert row["unverified_mechanism"] == "on_and_off_target"
    assert "PIK3CA E545K" in row["unverified_alterations"]
    assert "PIK3CA E545K: fact needs_review" in row["review_flags"]
    opted = ResistanceCaller(KB, include_unverified=True).fit(data).samples_.iloc[0]
    assert opted["mechanism"] == "on_and_off_target" and opted["unverified_alterations"] == ""


def test_needs_review_hotspot_gives_no_strategy() -> None:
    """KRAS G13D rests on kras_hotspots (needs_review); NRAS Q61K also on the
    needs_review rule ras_other_meki."""
    for gene, change in [("KRAS", "G13D"), ("NRAS", "Q61K")]:
        data = frame(fusion("S", "ETV6", "NTRK3"), mutation("S", gene, change))
        row = ResistanceCaller(KB).fit(data).samples_.iloc[0]
        assert row["mechanism"] == "none_detected" and row["therapy_strategies"] == ""
        assert row["unverified_mechanism"] == "off_target"
        assert row["unverified_strategies"] == "trki_plus_meki"


def test_needs_review_rule_on_a_verified_fact_is_not_suggested() -> None:
    """NTRK1 F589L (gatekeeper, verified) under the needs_review rule gatekeeper_next_gen."""
    data = frame(fusion("S", "LMNA", "NTRK1"), mutation("S", "NTRK1", "F589L"))
    alts = ResistanceCaller(KB).fit(data).alterations_
    fact = alts.query("protein_change == 'F589L'").iloc[0]
    if fact["fact_status"] != "verified":
        pytest.skip("F589L is not a verified fact in this knowledge base")
    row = ResistanceCaller(KB).fit(data).samples_.iloc[0]
    assert row["mechanism"] == "on_target"
    assert row["therapy_strategies"] == ""
    assert row["unverified_strategies"] == "next_gen_type1_trki"
    assert "rule gatekeeper_next_gen needs_review" in row["review_flags"]


@SETTINGS
@given(cohorts())
def test_adding_needs_review_alterations_never_changes_headline_calls(
    data: tuple[pd.DataFrame, dict[str, tuple[str, str] | None]],
) -> None:
    """Metamorphic: the headline call with and without the rows that rest on
    needs_review facts is the same."""
    alts, _ = data
    full = ResistanceCaller(KB).fit(alts)
    status = full.alterations_["fact_status"].astype(str).to_numpy()
    trusted = alts.loc[status != "needs_review"]
    if trusted.empty:
        return
    cut = ResistanceCaller(KB).fit(trusted).samples_.set_index("sample_id")
    got = full.samples_.set_index("sample_id").loc[cut.index]
    for col in ("mechanism", "on_target", "off_target", "therapy_strategies"):
        assert got[col].tolist() == cut[col].tolist(), col


# ------------------------------------------------ 3. unknown drugs, 6. numbers
TIMELINE_HEADER = "PATIENT_ID\tSTART_DATE\tSTOP_DATE\tEVENT_TYPE\tAGENT\n"


def test_misspelt_trk_inhibitor_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.txt",
        TIMELINE_HEADER + "P\t0\t100\tTreatment\tLarotrectnib\n"
        "P\t100\t200\tTreatment\tEntrectinib+Wonderdrug\n",
    )
    timeline, issues = read_timeline(path, KB)
    found = {(i.line, i.column, i.found) for i in issues}
    assert found == {(2, "AGENT", "'Larotrectnib'"), (3, "AGENT", "'Wonderdrug'")}
    assert "did you mean 'larotrectinib'" in issues[0].expected
    assert timeline["trk_inhibitor"].tolist() == [False, True]
    assert len(timeline) == 2  # rows kept, the problem reported


def test_impossible_timeline_days(tmp_path: Path) -> None:
    path = write(
        tmp_path / "t.txt",
        TIMELINE_HEADER + "P\t-inf\t100\tTreatment\tLarotrectinib\n"
        "Q\t50\t10\tTreatment\tLarotrectinib\nR\t0\tinf\tTreatment\tLarotrectinib\n",
    )
    timeline, issues = read_timeline(path, KB)
    by_line = {i.line: i for i in issues}
    assert by_line[2].action == "dropped" and "P" not in set(timeline["patient_id"])
    assert by_line[3].column == "STOP_DATE" and by_line[4].column == "STOP_DATE"
    assert timeline["stop_day"].isna().all()


def test_inf_collection_day_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.txt",
        "SAMPLE_ID\tPATIENT_ID\tCOLLECTION_DAY\nA\tP\tinf\nB\tP\t1e999\nC\tP\t1e308\nD\tP\t-40\n",
    )
    samples, issues = read_samples(path)
    assert {i.line for i in issues} == {2, 3, 4}
    assert samples["collection_day"].isna().tolist() == [True, True, True, False]


AGENTS = ["Larotrectinib", "Entrectinib", "Trametinib", "LOXO-195", "Carboplatin", "Xyzzy",
          "Larotrectnib", "Entrectinib_Trametinib", "Entrectinib+Foo"]  # fmt: skip
DAYS = ["0", "10", "-5", "inf", "-inf", "nan", "1e308", "x", ""]


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(AGENTS), st.sampled_from(DAYS),
                          st.sampled_from(DAYS)), min_size=1, max_size=8))  # fmt: skip
def test_generated_timelines_account_for_every_agent_and_day(
    tmp_path: Path, rows: list[tuple[str, str, str]]
) -> None:
    lines = [f"P{k}\t{start}\t{stop}\tTreatment\t{agent}" for k, (agent, start, stop) in
             enumerate(rows)]  # fmt: skip
    path = write(tmp_path / "t.txt", TIMELINE_HEADER + "\n".join(lines) + "\n")
    timeline, issues = read_timeline(path, KB)
    assert timeline["start_day"].map(math.isfinite).all()
    assert (timeline["start_day"].abs() <= MAX_DAYS).all()
    assert timeline["stop_day"].dropna().map(math.isfinite).all()
    assert (
        timeline["stop_day"].dropna() >= timeline.loc[timeline["stop_day"].notna(), "start_day"]
    ).all()
    dropped = {i.line for i in issues if i.action == "dropped"}
    assert len(timeline) + len(dropped) == len(rows)  # rows in = rows used + rows dropped
    for k, (agent, _start, _stop) in enumerate(rows):
        if k + 2 in dropped:
            continue
        unknown = [p for p in agent.replace("+", "_").split("_") if KB.find_drug(p) is None]
        if KB.find_drug(agent) is not None:
            unknown = []
        reported = [i for i in issues if i.line == k + 2 and i.column == "AGENT"]
        assert len(reported) == len(unknown), (agent, reported)


# ------------------------------------------------------------- 4. cfDNA conflicts
CFDNA_HEADER = "sample\tpatient\tday\tgene\talteration\tvaf\n"


def test_conflicting_cfdna_duplicates_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.tsv",
        CFDNA_HEADER + "A\tP\t56\tKRAS\tG12D\t0\nA\tP\t56\tKRAS\tG12D\t0.3\n",
    )
    with pytest.raises(InputError, match="twice with different values") as err:
        read_cfdna(path)
    assert err.value.location is not None and err.value.location.line == 3


def test_cfdna_sample_under_two_patients_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.tsv", CFDNA_HEADER + "A\tP\t0\tKRAS\tG12D\t0.1\nA\tQ\t0\tBRAF\tV600E\t0.1\n"
    )
    with pytest.raises(InputError, match="two different patients"):
        read_cfdna(path)


def test_exact_cfdna_repeats_are_collapsed_and_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.tsv", CFDNA_HEADER + "A\tP\t0\tKRAS\tG12D\t0.1\nA\tP\t0\tKRAS\tG12D\t0.1\n"
    )
    m, issues = read_cfdna(path)
    assert len(m) == 1 and [(i.line, i.action) for i in issues] == [(3, "dropped")]


def test_cfdna_conflict_across_files_is_refused(tmp_path: Path) -> None:
    one = write(tmp_path / "a.tsv", CFDNA_HEADER + "A\tP\t0\tKRAS\tG12D\t0\n")
    two = write(tmp_path / "b.tsv", CFDNA_HEADER + "A\tP\t0\tKRAS\tG12D\t0.3\n")
    m = pd.concat([read_cfdna(one)[0], read_cfdna(two)[0]], ignore_index=True)
    with pytest.raises(InputError, match="different values"):
        monitor(m, KB)
    out = tmp_path / "out"
    result = runner.invoke(app, ["cfdna", str(one), str(two), "-o", str(out)])
    assert result.exit_code == 1 and not out.exists()


def test_cfdna_non_finite_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.tsv",
        "sample\tpatient\tday\tgene\talteration\talt_count\tref_count\n"
        "A\tP\tinf\tKRAS\tG12D\tinf\t10\nB\tP\t5\tKRAS\tG12D\t-3\t10\n",
    )
    m, issues = read_cfdna(path)
    assert {(i.line, i.column) for i in issues} == {(2, "day"), (2, "alt_count"), (3, "alt_count")}
    assert m["vaf"].isna().all()


@SETTINGS
@given(
    st.lists(st.tuples(st.sampled_from(["A", "B"]), st.sampled_from(["P", "Q"]),
                       st.sampled_from([0.0, 0.1, 0.3])), min_size=1, max_size=6)
)  # fmt: skip
def test_generated_cfdna_duplicates_are_never_resolved_silently(
    tmp_path: Path, rows: list[tuple[str, str, float]]
) -> None:
    body = "".join(f"{s}\t{p}\t0\tKRAS\tG12D\t{v:g}\n" for s, p, v in rows)
    path = write(tmp_path / "c.tsv", CFDNA_HEADER + body)
    per_sample: dict[str, set[tuple[str, float]]] = {}
    for s, p, v in rows:
        per_sample.setdefault(s, set()).add((p, v))
    conflict = any(len(v) > 1 for v in per_sample.values())
    if conflict:
        with pytest.raises(InputError):
            read_cfdna(path)
        return
    m, issues = read_cfdna(path)
    assert len(m) + len(issues) == len(rows) and len(m) == len(per_sample)


# --------------------------------------------------------- 5. knowledge shadowing
def lab_bypass(ident: str, gene: str, change: str, status: str = "verified") -> str:
    return f"""\
bypass_alterations:
  - id: {ident}
    gene: {gene}
    alteration_type: mutation
    alteration_class: other_bypass
    changes: [{change}]
    label: {gene} {change} (lab)
    status: {status}
    evidence: [{{source: trkres_notes, statement: "Lab call.", level: expert}}]
"""


def test_lab_fact_with_a_new_id_shadowing_a_shipped_fact_is_stated(tmp_path: Path) -> None:
    path = write(tmp_path / "lab.yaml", lab_bypass("my_braf", "BRAF", "V600E", "needs_review"))
    kb = load_knowledge([path])
    assert any("my_braf" in n and "braf_v600e" in n and "shadows" in n for n in kb.notices)
    data = frame(fusion("S", "ETV6", "NTRK3"), mutation("S", "BRAF", "V600E"))
    alts = ResistanceCaller(kb).fit(data).alterations_
    # The lab fact decides, as the notice says.
    assert alts.query("gene == 'BRAF'").iloc[0]["class_fact"] == "bypass_alterations:my_braf"


def test_two_lab_files_disagreeing_on_one_alteration_are_an_error(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", lab_bypass("lab_a", "PIK3CA", "H1047R"))
    b = write(tmp_path / "b.yaml", lab_bypass("lab_b", "PIK3CA", "H1047R"))
    with pytest.raises(KnowledgeError) as err:
        load_knowledge([a, b])
    text = str(err.value)
    assert "a.yaml" in text and "b.yaml" in text and "lab_a" in text and "lab_b" in text


def test_same_id_in_two_lab_files_overrides_and_says_so(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", lab_bypass("lab_x", "PIK3CA", "H1047R"))
    b = write(tmp_path / "b.yaml", lab_bypass("lab_x", "PIK3CA", "H1047R", "needs_review"))
    kb = load_knowledge([a, b])
    assert kb.bypass_alterations["lab_x"].status == "needs_review"
    assert any("lab_x" in n and "replaces" in n and "a.yaml" in n for n in kb.notices)


SHIPPED_CHANGES = sorted({(b.gene, c) for b in KB.bypass_alterations.values() for c in b.changes})


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.sampled_from(SHIPPED_CHANGES), st.from_regex(r"lab_[a-z]{1,8}", fullmatch=True))
def test_generated_shadowing_is_never_silent(
    tmp_path: Path, gene_change: tuple[str, str], ident: str
) -> None:
    path = write(tmp_path / "lab.yaml", lab_bypass(ident, *gene_change))
    kb = load_knowledge([path])
    assert any(ident in n for n in kb.notices)


# ------------------------------------------------------------ real data (shared)
VALIDATION = Path(__file__).resolve().parents[2].parent / "shared" / "validation"


def test_real_leukaemia_maf_is_fusion_unknown() -> None:
    """TCGA-LAML (maftools): 45 samples with RAS/MAPK hotspots, no fusion data. The
    old caller read it as 45 cases of TRK-inhibitor resistance with trki_plus_meki."""
    maf = VALIDATION / "genomics_real_mafs" / "tcga_laml.maf.gz"
    if not maf.is_file():
        pytest.skip("../shared/validation is not present (fresh clone): real-data test skipped")
    result = classify_inputs(read_genomic_inputs(KB, mafs=[maf]), KB)
    assert set(result.samples["mechanism"]) == {"fusion_unknown"}
    assert (result.samples["therapy_strategies"] == "").all()
    assert (result.alterations["counts_as"] == "").all()
    bypass = result.alterations["alteration_class"] == "mapk_bypass"
    assert bypass.sum() >= 20  # still classed


def test_change_named_from_an_unverified_location_does_not_decide_the_call(
    tmp_path: Path,
) -> None:
    """A minimal MAF (no protein column): BRAF V600E named from GRCh38 coordinates
    whose location the knowledge base marks needs_review. The bypass fact is
    verified, but that this row *is* V600E is not: no headline call from it."""
    header = (
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tChromosome\t"
        "Start_Position\tEnd_Position\tReference_Allele\tTumor_Seq_Allele2\tNCBI_Build\n"
    )
    row = "BRAF\tS1\tMissense_Mutation\t7\t140753336\t140753336\tA\tT\tGRCh38\n"
    maf = write(tmp_path / "m.maf", header + row)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["-q", "classify", "--maf", str(maf), "--assume-trk-fusion", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    alts = pd.read_csv(out / "alterations.tsv", sep="\t", dtype=str, keep_default_na=False)
    braf = alts[alts["gene"] == "BRAF"].iloc[0]
    assert braf["protein_change"] == "V600E" and braf["fact_status"] == "needs_review"
    patient = pd.read_csv(out / "patients.tsv", sep="\t", dtype=str, keep_default_na=False)
    assert patient["mechanism"].iloc[0] != "off_target"
    assert patient["therapy_strategies"].iloc[0] == ""
    assert patient["unverified_mechanism"].iloc[0] == "off_target"


def test_genome_build_option_names_hotspots_of_a_minimal_maf_without_a_build(
    tmp_path: Path,
) -> None:
    """KRAS G12D at chr12:25398284 C>T (GRCh37), in a MAF with no build column: named
    only when the user states the build, never assumed."""
    header = (
        "Hugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\tChromosome\t"
        "Start_Position\tEnd_Position\tReference_Allele\tTumor_Seq_Allele2\n"
    )
    maf = write(
        tmp_path / "m.maf", header + "KRAS\tS1\tMissense_Mutation\t12\t25398284\t25398284\tC\tT\n"
    )
    changes = {}
    for build in (None, "GRCh37"):
        out = tmp_path / f"out{build}"
        args = ["-q", "classify", "--maf", str(maf), "-o", str(out)]
        result = runner.invoke(app, args + (["--genome-build", build] if build else []))
        assert result.exit_code == 0, result.output
        alts = pd.read_csv(out / "alterations.tsv", sep="\t", dtype=str, keep_default_na=False)
        changes[build] = alts.loc[alts["gene"] == "KRAS", "protein_change"].iloc[0]
    assert changes == {None: "", "GRCh37": "G12D"}
    bad = runner.invoke(
        app, ["classify", "--maf", str(maf), "--genome-build", "hg20", "-o", str(tmp_path / "x")]
    )
    assert bad.exit_code == 1 and "bad option --genome-build" in str(bad.exception)
    assert "GRCh38" in str(bad.exception) and "hg20" in str(bad.exception)
