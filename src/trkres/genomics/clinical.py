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

SAMPLE_TABLE_COLUMNS = ["sample_id", "patient_id", "sample_type", "collection_day"]


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
    rows = []
    start_col, agent_col, patient_col = cols["start"], cols["agent"], cols["patient_id"]
    assert start_col is not None and agent_col is not None and patient_col is not None
    for i in np.flatnonzero(keep.to_numpy()):
        rec = frame.iloc[i]
        agent = rec[agent_col]
        patient = rec[patient_col]
        start = pd.to_numeric(pd.Series([rec[start_col]]), errors="coerce").iloc[0]
        if pd.isna(patient) or pd.isna(start):
            issues.append(
                RowIssue(str(path), read.line_of(int(i)), start_col, "a patient and a start day",
                         f"{patient!r}, {rec[start_col]!r}", "dropped")
            )  # fmt: skip
            continue
        if pd.isna(agent):
            continue  # radiation and other non-drug treatments carry no agent
        stop = pd.to_numeric(
            pd.Series([rec[cols["stop"]] if cols["stop"] else None]), errors="coerce"
        ).iloc[0]
        drugs, classes = split_agents(str(agent), knowledge)
        rows.append(
            {
                "patient_id": str(patient),
                "start_day": float(start),
                "stop_day": float(stop) if pd.notna(stop) else np.nan,
                "agent": str(agent),
                "drugs": ";".join(drugs),
                "drug_classes": ";".join(classes),
                "trk_inhibitor": "trk_inhibitor" in classes,
                "best_response": str(rec[cols["best_response"]])
                if cols["best_response"] and pd.notna(rec[cols["best_response"]])
                else "",
                "reason_stop": str(rec[cols["reason_stop"]])
                if cols["reason_stop"] and pd.notna(rec[cols["reason_stop"]])
                else "",
                "line": str(rec[cols["subtype"]])
                if cols["subtype"] and pd.notna(rec[cols["subtype"]])
                else "",
            }
        )
    out = pd.DataFrame(rows, columns=TIMELINE_TABLE_COLUMNS)
    return out.sort_values(["patient_id", "start_day"], kind="stable").reset_index(
        drop=True
    ), issues
