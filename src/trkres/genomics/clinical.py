"""Clinical sample files and cBioPortal treatment timelines.

Samples: sample → patient, sample type (tissue or cfDNA) and collection day.
Timelines: treatments with start/stop days (days from the study's day 0), the
agents mapped to knowledge-base drugs and classes, and the best response.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location
from trkres.genomics.model import text as as_text
from trkres.genomics.tables import RowIssue, read_delimited, resolve_columns
from trkres.knowledge.store import KnowledgeBase

SAMPLE_COLUMNS = {
    "sample_id": ["SAMPLE_ID", "Sample_Id", "Tumor_Sample_Barcode", "sample", "sample_id"],
    "patient_id": ["PATIENT_ID", "Patient_Id", "patient", "patient_id"],
    "sample_type": ["SAMPLE_TYPE", "SAMPLE_CLASS", "specimen", "sample_type", "SPECIMEN_TYPE"],
    "collection_day": [
        "COLLECTION_DAY", "SAMPLE_COLLECTION_DAY", "DAYS_TO_COLLECTION", "collection_day",
        "day", "DAY",
    ],
}  # fmt: skip

_CFDNA = re.compile(r"cfdna|ctdna|plasma|blood|liquid|cell[- ]free", re.IGNORECASE)


def read_samples(path: Path) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Read a clinical sample file into ``sample_id, patient_id, sample_type, collection_day``.

    ``sample_type`` becomes ``cfDNA`` when the text names plasma/cfDNA/ctDNA,
    else ``tissue``. ``collection_day`` is in days (missing when not given).
    """
    read = read_delimited(path, what="clinical sample")
    cols = resolve_columns(
        read, SAMPLE_COLUMNS, what="clinical sample", required=["sample_id", "patient_id"]
    )
    frame = read.frame
    issues = list(read.issues)
    out = pd.DataFrame(
        {
            "sample_id": frame[cols["sample_id"]],
            "patient_id": frame[cols["patient_id"]],
        }
    )
    kind = frame[cols["sample_type"]] if cols["sample_type"] else pd.Series("", index=frame.index)
    out["sample_type"] = np.where(as_text(kind).str.contains(_CFDNA), "cfDNA", "tissue")
    if cols["collection_day"]:
        text = frame[cols["collection_day"]]
        day = pd.to_numeric(text, errors="coerce").astype("float64")
        for i in np.flatnonzero((day.isna() & text.notna()).to_numpy()):
            issues.append(
                RowIssue(str(path), read.line_of(int(i)), cols["collection_day"], "a day number",
                         repr(text.iloc[i]), "kept, day missing")
            )  # fmt: skip
        out["collection_day"] = day
    else:
        out["collection_day"] = np.nan
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
    drugs: list[str] = []
    classes: list[str] = []
    for part in _AGENT_SPLIT.split(agent.strip()):
        if not part:
            continue
        drug = knowledge.find_drug(part)
        drugs.append(drug.name if drug else part.lower())
        if drug:
            classes.extend(c for c in drug.classes if c not in classes)
    # Whole-string names that contain a separator (e.g. "BAY 2731954").
    whole = knowledge.find_drug(agent)
    if whole is not None and len(drugs) > 1:
        return [whole.name], list(whole.classes)
    return drugs, classes


def read_timeline(path: Path, knowledge: KnowledgeBase) -> tuple[pd.DataFrame, list[RowIssue]]:
    """Read a cBioPortal treatment timeline (``data_timeline_treatment.txt``)."""
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
    frame = frame.loc[keep.to_numpy()]
    rows_at = np.flatnonzero(keep.to_numpy())
    start = pd.to_numeric(frame[start_col], errors="coerce").astype("float64")
    stop = (
        pd.to_numeric(frame[cols["stop"]], errors="coerce").astype("float64")
        if cols["stop"]
        else pd.Series(np.nan, index=frame.index)
    )
    bad = (frame[patient_col].isna() | start.isna()).to_numpy()
    for k in np.flatnonzero(bad):
        issues.append(
            RowIssue(str(path), read.line_of(int(rows_at[k])), start_col, "a patient and a start day",
                     f"{frame[patient_col].iloc[k]!r}, {frame[start_col].iloc[k]!r}", "dropped")
        )  # fmt: skip
    # Radiation and other non-drug treatments carry no agent: not a drug line.
    use = ~bad & frame[agent_col].notna().to_numpy()
    frame, start, stop = frame.loc[use], start[use], stop[use]
    agents = frame[agent_col].astype(str)
    split = {a: split_agents(a, knowledge) for a in pd.unique(agents)}

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
