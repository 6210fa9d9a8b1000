"""Clinical sample files and cBioPortal treatment timelines.

Samples: sample → patient, sample type (tissue or cfDNA) and collection day.
Timelines: treatments with start/stop days (days from the study's day 0), the
agents mapped to knowledge-base drugs and classes, and the best response.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location
from trkres.genomics.io.fusions import orient, split_fusion_name
from trkres.genomics.io.tables import RowIssue, TableRead, read_delimited, resolve_columns
from trkres.genomics.model import text as as_text
from trkres.knowledge.store import KnowledgeBase

SAMPLE_COLUMNS = {
    "sample_id": ["SAMPLE_ID", "Sample_Id", "Tumor_Sample_Barcode", "sample", "sample_id"],
    "patient_id": ["PATIENT_ID", "Patient_Id", "patient", "patient_id"],
    "sample_type": ["SAMPLE_TYPE", "SAMPLE_CLASS", "specimen", "sample_type", "SPECIMEN_TYPE"],
    "collection_day": [
        "COLLECTION_DAY", "SAMPLE_COLLECTION_DAY", "DAYS_TO_COLLECTION", "collection_day",
        "day", "DAY",
    ],
    "fusion": ["FUSION", "NTRK_FUSION", "TRK_FUSION", "FUSION_STATUS", "fusion", "ntrk_fusion",
               "fusion_status"],
}  # fmt: skip

#: Fusion-column values that say the sample was tested and carries no NTRK fusion.
FUSION_NEGATIVE = frozenset({"no", "none", "negative", "neg", "not detected", "not_detected",
                             "absent", "wild type", "wildtype", "wt", "false", "0"})  # fmt: skip
#: Values that say an NTRK fusion was found without naming it.
FUSION_POSITIVE = frozenset({"yes", "positive", "pos", "detected", "present", "true", "1"})
#: Values that say nothing (the sample's fusion is unknown).
FUSION_UNKNOWN = frozenset({"", "na", "n/a", "nan", "unknown", "not tested", "not_tested", "."})

#: Days from the study's day 0 beyond a century (either way) are impossible: reported.
MAX_DAYS = 36525.0


def within_days(days: pd.Series) -> pd.Series:
    """Missing, or a finite day within ±:data:`MAX_DAYS` (anything else is reported)."""
    return days.isna() | (days.abs() <= MAX_DAYS)


def _strip_id(ids: pd.Series) -> pd.Series:
    """Ids without surrounding whitespace; a blank id is missing."""
    stripped = ids.str.strip()
    return stripped.mask(stripped == "")


_CFDNA = re.compile(r"cfdna|ctdna|plasma|blood|liquid|cell[- ]free", re.IGNORECASE)


def read_samples(
    path: Path, knowledge: KnowledgeBase | None = None
) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Read a clinical sample file into ``sample_id, patient_id, sample_type, collection_day``.

    ``sample_type`` becomes ``cfDNA`` when the text names plasma/cfDNA/ctDNA,
    else ``tissue``. ``collection_day`` is in days (missing when not given; a
    non-finite day is an issue row). An optional fusion column (``FUSION``,
    ``NTRK_FUSION``, ...) gives ``fusion_call`` (``detected`` /
    ``not_detected`` / '' for unknown), ``fusion_gene`` and ``fusion_name``:
    a fusion name (``ETV6::NTRK3``) or yes/positive is detected, no/negative/none
    is tested without an NTRK fusion, empty/NA/unknown says nothing, and
    anything else is an issue row (kept as unknown).
    """
    read = read_delimited(path, what="clinical sample")
    cols = resolve_columns(
        read, SAMPLE_COLUMNS, what="clinical sample", required=["sample_id", "patient_id"]
    )
    frame = read.frame
    issues = list(read.issues)
    out = pd.DataFrame(
        {
            # Whitespace around an id is never part of it (the genomic readers strip it too).
            "sample_id": _strip_id(frame[cols["sample_id"]]),
            "patient_id": _strip_id(frame[cols["patient_id"]]),
        }
    )
    kind = frame[cols["sample_type"]] if cols["sample_type"] else pd.Series("", index=frame.index)
    out["sample_type"] = np.where(as_text(kind).str.contains(_CFDNA), "cfDNA", "tissue")
    if cols["collection_day"]:
        text = frame[cols["collection_day"]]
        day = pd.to_numeric(text, errors="coerce").astype("float64")
        bad_day = (day.isna() & text.notna()) | ~within_days(day)
        for i in np.flatnonzero(bad_day.to_numpy()):
            issues.append(
                RowIssue(str(path), read.line_of(int(i)), cols["collection_day"],
                         f"a day number within ±{MAX_DAYS:g}", repr(text.iloc[i]),
                         "kept, day missing")
            )  # fmt: skip
        out["collection_day"] = day.where(~bad_day)
    else:
        out["collection_day"] = np.nan
    if cols["fusion"]:
        calls = _fusion_calls(read, cols["fusion"], knowledge, issues)
        out = pd.concat([out, calls], axis=1)
    missing = out["sample_id"].isna() | out["patient_id"].isna()
    for i in np.flatnonzero(missing.to_numpy()):
        issues.append(
            RowIssue(str(path), read.line_of(int(i)), None, "a sample and a patient id",
                     "an empty cell", "dropped")
        )  # fmt: skip
    out = out.loc[~missing.to_numpy()].reset_index(drop=True)
    dup = out["sample_id"].duplicated(keep=False)
    if dup.any():
        first = out.loc[dup, "sample_id"].iloc[0]
        rows = np.flatnonzero((out["sample_id"] == first).to_numpy())
        raise InputError(
            f"sample '{first}' is listed twice",
            location=Location(file=path, line=read.line_of(int(rows[1])), column=cols["sample_id"]),
            expected="one row per sample",
            found=f"rows at lines {read.line_of(int(rows[0]))} and {read.line_of(int(rows[1]))}",
        )
    return out, issues


def _fusion_calls(
    read: TableRead, column: str, knowledge: KnowledgeBase | None, issues: list[RowIssue]
) -> pd.DataFrame:
    """``fusion_call, fusion_gene, fusion_name`` from a clinical fusion column."""
    values = as_text(read.frame[column]).str.strip()
    calls, genes, names = [], [], []
    for i, value in enumerate(values.tolist()):
        key = value.casefold()
        call, gene, name = "", "", ""
        if key in FUSION_UNKNOWN:
            pass
        elif key in FUSION_NEGATIVE:
            call = "not_detected"
        elif key in FUSION_POSITIVE:
            call = "detected"
        else:
            pair = split_fusion_name(value, knowledge) if knowledge is not None else None
            if pair is not None and knowledge is not None:
                five, three = orient(
                    knowledge.normalise_gene(pair[0]), knowledge.normalise_gene(pair[1]), knowledge
                )
                if three in knowledge.trk_genes:
                    call, gene, name = "detected", three, f"{five}::{three}"
                else:
                    call = "not_detected"
            else:
                issues.append(
                    RowIssue(str(read.path), read.line_of(i), column,
                             "a fusion name (ETV6::NTRK3), yes/positive, no/negative, or empty",
                             repr(value), "kept, fusion unknown")
                )  # fmt: skip
        calls.append(call)
        genes.append(gene)
        names.append(name)
    return pd.DataFrame(
        {"fusion_call": calls, "fusion_gene": genes, "fusion_name": names},
        index=read.frame.index,
    )


TIMELINE_COLUMNS = {
    "patient_id": ["PATIENT_ID", "patient_id"],
    "start": ["START_DATE", "start_day", "START_DAY"],
    "stop": ["STOP_DATE", "stop_day", "STOP_DAY"],
    "event_type": ["EVENT_TYPE"],
    "agent": ["AGENT", "TREATMENT", "drug", "agent"],
    "subtype": ["SUBTYPE", "LINE"],
    "best_response": ["BEST_RESPONSE_THER", "BEST_RESPONSE", "RESPONSE", "best_response"],
    "reason_stop": ["REASON_TX_DISCON", "reason_stop"],
}
TIMELINE_TABLE_COLUMNS = [
    "patient_id", "start_day", "stop_day", "agent", "drugs", "drug_classes",
    "trk_inhibitor", "best_response", "reason_stop", "line",
]  # fmt: skip

_AGENT_SPLIT = re.compile(r"\s*(?:_|\+|,|;| and )\s*")


def split_agents(agent: str, knowledge: KnowledgeBase) -> tuple[list[str], list[str]]:
    """``"Entrectinib_Trametinib"`` → drug names (KB names where known) and their classes."""
    drugs, classes, _unknown = _split_agents(agent, knowledge)
    return drugs, classes


def _split_agents(agent: str, knowledge: KnowledgeBase) -> tuple[list[str], list[str], list[str]]:
    """Drugs, classes, and the parts that name no drug in the knowledge base."""
    drugs: list[str] = []
    classes: list[str] = []
    unknown: list[str] = []
    for part in _AGENT_SPLIT.split(agent.strip()):
        if not part:
            continue
        drug = knowledge.find_drug(part)
        drugs.append(drug.name if drug else part.lower())
        if drug:
            classes.extend(c for c in drug.classes if c not in classes)
        else:
            unknown.append(part)
    # Whole-string names that contain a separator (e.g. "BAY 2731954").
    whole = knowledge.find_drug(agent)
    if whole is not None and len(drugs) > 1:
        return [whole.name], list(whole.classes), []
    return drugs, classes, unknown


def read_timeline(
    path: Path, knowledge: KnowledgeBase, cohort: set[str] | None = None
) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Read a cBioPortal treatment timeline (``data_timeline_treatment.txt``).

    Days are from the study's day 0. A row without a patient or a finite
    start day is dropped (issue row); a non-finite stop, or a stop before the
    start, is an issue row (the stop is left missing). Every agent that names
    no drug in the knowledge base is an issue row (the row is kept, the agent
    is not taken for a TRK inhibitor): add it with ``--knowledge``. With a
    ``cohort`` (the patients a clinical file or the samples define), a row of
    any other patient is an issue row: it applies to no sample.
    """
    read = read_delimited(path, what="timeline")
    cols = resolve_columns(
        read, TIMELINE_COLUMNS, what="timeline", required=["patient_id", "start", "agent"]
    )
    frame = read.frame
    issues = list(read.issues)
    if cols["event_type"]:
        keep = frame[cols["event_type"]].fillna("TREATMENT").str.upper() == "TREATMENT"
    else:
        keep = pd.Series(True, index=frame.index)
    start_col, agent_col, patient_col = cols["start"], cols["agent"], cols["patient_id"]
    assert start_col is not None and agent_col is not None and patient_col is not None
    frame = frame.loc[keep.to_numpy()].copy()
    frame[patient_col] = _strip_id(frame[patient_col])
    rows_at = np.flatnonzero(keep.to_numpy())
    start = pd.to_numeric(frame[start_col], errors="coerce").astype("float64")
    stop = (
        pd.to_numeric(frame[cols["stop"]], errors="coerce").astype("float64")
        if cols["stop"]
        else pd.Series(np.nan, index=frame.index)
    )
    bad = (frame[patient_col].isna() | start.isna() | ~within_days(start)).to_numpy()
    for k in np.flatnonzero(bad):
        issues.append(
            RowIssue(str(path), read.line_of(int(rows_at[k])), start_col,
                     f"a patient and a start day within ±{MAX_DAYS:g}",
                     f"{frame[patient_col].iloc[k]!r}, {frame[start_col].iloc[k]!r}", "dropped")
        )  # fmt: skip
    stop_col = cols["stop"]
    if stop_col:
        stop_text = frame[stop_col]
        bad_stop = ~bad & ((stop.isna() & stop_text.notna()) | ~within_days(stop)).to_numpy()
        backwards = ~bad & ~bad_stop & (stop < start).to_numpy()
        for k in np.flatnonzero(bad_stop | backwards):
            issues.append(
                RowIssue(str(path), read.line_of(int(rows_at[k])), stop_col,
                         f"a stop day at or after the start ({start.iloc[k]:g}), "
                         f"within ±{MAX_DAYS:g}",
                         repr(stop_text.iloc[k]), "kept, stop day missing")
            )  # fmt: skip
        stop = stop.where(~(bad_stop | backwards))
    if cohort is not None:
        folded = {p.casefold(): p for p in sorted(cohort)}
        outside = ~bad & ~frame[patient_col].isin(cohort).to_numpy()
        for k in np.flatnonzero(outside):
            patient = str(frame[patient_col].iloc[k])
            near = folded.get(patient.casefold())
            hint = (
                f" (matches patient '{near}' only if case is ignored: not merged)" if near else ""
            )
            issues.append(
                RowIssue(str(path), read.line_of(int(rows_at[k])), patient_col,
                         "a patient with a sample in the cohort", repr(patient) + hint,
                         "kept, applies to no sample")
            )  # fmt: skip
    # Radiation and other non-drug treatments carry no agent: not a drug line.
    use = ~bad & frame[agent_col].notna().to_numpy()
    used_rows = rows_at[use]
    frame, start, stop = frame.loc[use], start[use], stop[use]
    agents = frame[agent_col].astype(str)
    split = {a: _split_agents(a, knowledge) for a in pd.unique(agents)}
    names = sorted(knowledge.drug_names)
    hints: dict[str, str] = {}
    for row_at, agent in zip(used_rows.tolist(), agents.tolist(), strict=True):
        for part in split[agent][2]:
            if part not in hints:
                close = difflib.get_close_matches(part.casefold(), names, n=1, cutoff=0.8)
                hints[part] = f" (did you mean '{close[0]}'?)" if close else ""
            issues.append(
                RowIssue(str(path), read.line_of(int(row_at)), agent_col,
                         "a drug name or synonym in the knowledge base (add it with --knowledge)"
                         + hints[part],
                         repr(part), "kept, agent not recognised: not taken for a TRK inhibitor")
            )  # fmt: skip

    def optional(key: str) -> pd.Series:
        c = cols[key]
        return as_text(frame[c]) if c else pd.Series("", index=frame.index)

    rows = pd.DataFrame(
        {
            "patient_id": frame[patient_col].astype(str),
            "start_day": start,
            "stop_day": stop,
            "agent": agents,
            "drugs": [";".join(split[a][0]) for a in agents],
            "drug_classes": [";".join(split[a][1]) for a in agents],
            "trk_inhibitor": ["trk_inhibitor" in split[a][1] for a in agents],
            "best_response": optional("best_response"),
            "reason_stop": optional("reason_stop"),
            "line": optional("subtype"),
        }
    )
    out = rows[TIMELINE_TABLE_COLUMNS]
    return out.sort_values(["patient_id", "start_day"], kind="stable").reset_index(
        drop=True
    ), issues
