"""Read QuantaSoft / QX Manager results exports (all three generations).

- old QuantaSoft: ``TypeAssay``/``Assay`` columns, ``Concentration``;
- QuantaSoft 1.7.x: ``TargetType``/``Target``, ``Concentration``;
- QX Manager: ``Target``/``TargetType`` with ``DyeName(s)`` and ``Conc(copies/µL)``,
  one row per channel.

Each row becomes one well × target with the droplet counts, both channels'
positives (from the ``Ch1±Ch2±`` cluster counts when exported) and the values
the software printed, so they can be recomputed and compared.
"""

from __future__ import annotations

import csv
import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.assays.ddpcr.poisson import DROPLET_VOLUME_NL
from trkres.errors import InputError, Location
from trkres.textio import check_unique_header, read_text

WELL_COLUMNS = [
    "well", "sample", "target", "target_type", "channel", "generation", "droplet_volume_nl",
    "droplet_volume_source", "accepted_droplets", "positives", "negatives", "ch1_positives", "ch2_positives",
    "exported_concentration", "exported_conc_ci_low", "exported_conc_ci_high",
    "exported_ratio", "exported_fractional_abundance",
]  # fmt: skip

_ALIASES = {
    "sample": ["Sample", "Sample description 1"],
    "concentration": ["Concentration", "Conc(copies/µL)", "Conc(copies/uL)"],
    "accepted": ["AcceptedDroplets", "Accepted Droplets"],
    "fa": ["FractionalAbundance", "Fractional Abundance"],
}


def detect_generation(columns: list[str], path: Path | None = None) -> str:
    """``quantasoft_old``, ``quantasoft_1.7`` or ``qx_manager`` from the header."""
    cols = set(columns)
    if "TypeAssay" in cols and "Assay" in cols:
        return "quantasoft_old"
    if "DyeName(s)" in cols or "Conc(copies/µL)" in cols:
        return "qx_manager"
    if "TargetType" in cols and "Target" in cols:
        return "quantasoft_1.7"
    raise InputError(
        "not a QuantaSoft / QX Manager results export",
        location=Location(file=path, line=1),
        expected="columns TypeAssay+Assay (QuantaSoft), TargetType+Target (1.7.x) or DyeName(s) (QX Manager)",
        found=", ".join(columns[:10]),
    )


def _pick(frame: pd.DataFrame, key: str) -> pd.Series:
    for name in _ALIASES[key]:
        if name in frame.columns:
            return frame[name]
    return pd.Series(np.nan, index=frame.index)


def _number(frame: pd.DataFrame, name: str, path: Path) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    values = pd.to_numeric(frame[name], errors="coerce")
    text = frame[name].astype(str).str.strip()
    bad = (values.isna() & frame[name].notna() & (text != "")) | np.isinf(values.astype(float))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"non-numeric value in column {name}",
            location=Location(file=path, line=row + 2, column=name),
            expected="a finite number",
            found=repr(frame[name].iloc[row]),
        )
    return values.astype(float)


def _count(frame: pd.DataFrame, name: str, path: Path, *, required: bool = False) -> pd.Series:
    """A droplet count column: a whole number ≥ 0 (blank allowed unless ``required``)."""
    values = _number(frame, name, path)
    if name not in frame.columns:
        return values
    v = values.to_numpy(dtype=float)
    bad = (v < 0) | (np.isfinite(v) & (v != np.round(v)))
    if required:
        bad |= np.isnan(v)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"impossible droplet count in column {name}",
            location=Location(file=path, line=row + 2, column=name),
            expected="a whole number of droplets >= 0",
            found=repr(frame[name].iloc[row]),
        )
    return values


#: Plausible droplet volumes (nL): Bio-Rad droplets are 0.72-0.91 nL, other droplet
#: generators 0.3-6 nL; outside this a number is a unit slip (pL, µL), not a droplet.
VOLUME_RANGE_NL = (0.1, 10.0)


def check_volume(droplet_volume_nl: float | None) -> None:
    """A given droplet volume must be a finite number of nL within :data:`VOLUME_RANGE_NL`."""
    lo, hi = VOLUME_RANGE_NL
    if droplet_volume_nl is not None and not (
        np.isfinite(droplet_volume_nl) and lo <= droplet_volume_nl <= hi
    ):
        raise InputError(
            "impossible droplet volume",
            location=Location(column="--droplet-volume"),
            expected=f"a droplet volume in nL between {lo:g} and {hi:g} "
            "(0.85 on QX200 / QX Manager, 0.91 on old QuantaSoft)",
            found=f"{droplet_volume_nl:g} nL",
        )


#: Why each generation's default volume applies (stated in the outputs).
VOLUME_REASON = {
    "quantasoft_old": "old QuantaSoft export (TypeAssay/Assay columns): its droplet volume, 0.91 nL",
    "quantasoft_1.7": "QuantaSoft 1.7 export (TargetType/Target columns): QX200 droplets, 0.85 nL",
    "qx_manager": "QX Manager export (DyeName(s) / Conc(copies/µL)): 0.85 nL",
}


#: Dyes by channel on the QX200 (channel 1: FAM; channel 2: HEX or VIC).
DYE_CHANNEL = {"FAM": 1, "HEX": 2, "VIC": 2}


def _channels(
    frame: pd.DataFrame, target_type: pd.Series, generation: str, path: Path
) -> np.ndarray:
    """Channel 1 or 2 of each row; an unknown dye or channel name is an error with its line."""
    if generation == "qx_manager" and "DyeName(s)" in frame.columns:
        channel = frame["DyeName(s)"].str.strip().str.upper().map(DYE_CHANNEL)
        column, found = "DyeName(s)", frame["DyeName(s)"]
        expected = "a dye of channel 1 (FAM) or 2 (HEX, VIC)"
    else:
        prefix = target_type.str.extract(r"^Ch([12])", expand=False)
        channel = pd.to_numeric(prefix, errors="coerce")
        column = "TypeAssay" if generation == "quantasoft_old" else "TargetType"
        found, expected = target_type, "a target type starting Ch1 or Ch2 (e.g. Ch1Unknown)"
    bad = channel.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            "unknown ddPCR channel",
            location=Location(file=path, line=row + 2, column=column),
            expected=expected,
            found=repr(found.iloc[row]),
        )
    return channel.to_numpy(dtype=np.int64)


def read_ddpcr_export(path: Path, droplet_volume_nl: float | None = None) -> pd.DataFrame:
    """One row per well and target with counts and the exported values (see
    :func:`read_ddpcr_export_checked`, which also returns the rows left out)."""
    return read_ddpcr_export_checked(path, droplet_volume_nl)[0]


#: Columns of the issues table (as the dose-response readers write it).
ISSUE_COLUMNS = ["file", "line", "row", "column", "expected", "found", "action"]


def _duplicate_rows(
    frame: pd.DataFrame, key: list[str], path: Path
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop exact copies of a row (each reported); a well and target listed twice with
    different values is an :class:`InputError` naming both lines."""
    lines = np.arange(len(frame)) + 2
    exact = frame.duplicated(keep="first").to_numpy()
    issues = pd.DataFrame(columns=ISSUE_COLUMNS)
    if exact.any():
        first = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
        first_line = pd.Series(lines).groupby(first).transform("min").to_numpy()
        rows = np.flatnonzero(exact)
        issues = pd.DataFrame({
            "file": str(path), "line": lines[rows], "row": rows + 1, "column": "",
            "expected": "each well and target once",
            "found": [f"an exact copy of line {first_line[r]}" for r in rows],
            "action": "dropped (counted once)",
        })  # fmt: skip
    kept = frame[~exact]
    kept_lines = lines[~exact]
    clash = kept.duplicated(subset=key, keep=False).to_numpy()
    if clash.any():
        codes = kept.groupby(key, sort=False, dropna=False).ngroup().to_numpy()
        both = kept_lines[clash & (codes == codes[np.flatnonzero(clash)[0]])][:2]
        i = int(np.flatnonzero(clash)[0])
        raise InputError(
            "the same well and target twice with different values",
            location=Location(file=path, line=int(both[1])),
            expected="each well and target once (one export per plate)",
            found=f"well {kept['Well'].iloc[i]!s} on lines {both[0]} and {both[1]}",
        )
    return kept.reset_index(drop=True), issues


def read_ddpcr_export_checked(
    path: Path, droplet_volume_nl: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per well and target with counts and the exported values, and the rows left out.

    ``droplet_volume_nl`` overrides the generation's default (0.85 nL for
    QX200/QX Manager, 0.91 nL for older exports); the column
    ``droplet_volume_source`` says which applied and why. Counts must be whole
    numbers ≥ 0 with positives ≤ accepted droplets; anything else, and empty
    or header-only files, is an :class:`InputError` with its line and column.
    """
    check_volume(droplet_volume_nl)
    # Instrument exports: gzip, a BOM, UTF-16 and CR line ends are handled by textio; Windows
    # software writes Latin-1 (µ in Conc(copies/µL)), so that is read rather than refused.
    text = read_text(path, "ddPCR export", latin1_fallback=True)
    if not text.strip():
        raise InputError("ddPCR export is empty", location=Location(file=path, line=1),
                         expected="a QuantaSoft / QX Manager CSV export with a header and one row per well",
                         found="an empty file")  # fmt: skip
    first = next((i for i, ln in enumerate(text.split("\n")) if ln.strip()), 0)
    header_line = text.split("\n", first + 1)[first]
    check_unique_header(next(csv.reader([header_line])), path, what="ddPCR export", line=first + 1)
    try:
        with warnings.catch_warnings():
            # QuantaSoft 1.7 ends data rows with extra empty fields; index_col=False drops them.
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, index_col=False
            )
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(
            "cannot read ddPCR export", location=Location(file=path),
            expected="a comma-separated QuantaSoft / QX Manager export",
            found=str(exc).strip().splitlines()[0][:200],
        ) from None  # fmt: skip
    frame.columns = [str(c).strip().strip('"') for c in frame.columns]
    generation = detect_generation(list(frame.columns), path)
    if frame.empty:
        raise InputError("ddPCR export has a header but no wells", location=Location(file=path, line=2),
                         expected="one row per well and target", found="end of file")  # fmt: skip
    for required in ("Well", "Positives"):
        if required not in frame.columns:
            raise InputError(
                "ddPCR export lacks a required column",
                location=Location(file=path, line=1),
                expected=required,
                found=", ".join(frame.columns[:10]),
            )
    accepted_col = next((c for c in _ALIASES["accepted"] if c in frame.columns), None)
    if accepted_col is None:
        raise InputError("ddPCR export lacks droplet counts", location=Location(file=path, line=1),
                         expected="AcceptedDroplets or Accepted Droplets", found=", ".join(frame.columns[:10]))  # fmt: skip
    key = [
        "Well",
        *(["Assay", "TypeAssay"] if generation == "quantasoft_old" else ["Target", "TargetType"]),
    ]
    key += [c for c in ("DyeName(s)",) if c in frame.columns]
    frame, issues = _duplicate_rows(frame, key, path)
    if generation == "quantasoft_old":
        target, target_type = frame["Assay"], frame["TypeAssay"]
    else:
        target, target_type = frame["Target"], frame["TargetType"]
    channel = _channels(frame, target_type, generation, path)
    ch = {k: _count(frame, k, path) for k in ("Ch1+Ch2+", "Ch1+Ch2-", "Ch1-Ch2+", "Ch1-Ch2-")}
    accepted = _count(frame, accepted_col, path)
    positives = _count(frame, "Positives", path)
    negatives = _count(frame, "Negatives", path)
    cluster_sum = pd.concat(list(ch.values()), axis=1).fillna(0).sum(axis=1)
    checks = [("Positives", positives), ("Negatives", negatives)]
    checks += [(k, ch[k]) for k in ("Ch1+Ch2+", "Ch1+Ch2-", "Ch1-Ch2+")]
    for name, col in checks:
        over = (col > accepted).to_numpy()
        if over.any():
            row = int(np.flatnonzero(over)[0])
            raise InputError(
                f"more {name} droplets than accepted droplets",
                location=Location(file=path, line=row + 2, column=name),
                expected=f"at most {accepted_col} = {accepted.iloc[row]:g}",
                found=str(frame[name].iloc[row]),
            )
    if all(k in frame.columns for k in ch):
        off = (cluster_sum != accepted).to_numpy() & ch["Ch1-Ch2-"].notna().to_numpy()
        off &= accepted.notna().to_numpy()
        if off.any():
            row = int(np.flatnonzero(off)[0])
            raise InputError(
                "cluster counts do not add up to the accepted droplets",
                location=Location(file=path, line=row + 2, column="Ch1+Ch2+..Ch1-Ch2-"),
                expected=f"Ch1+Ch2+ + Ch1+Ch2- + Ch1-Ch2+ + Ch1-Ch2- = {accepted_col} = {accepted.iloc[row]:g}",
                found=f"{cluster_sum.iloc[row]:g}",
            )
    if droplet_volume_nl is not None:
        volume, reason = droplet_volume_nl, "given (--droplet-volume)"
    else:
        volume, reason = DROPLET_VOLUME_NL[generation], VOLUME_REASON[generation]
    out = pd.DataFrame(
        {
            "well": frame["Well"].str.strip('"'),
            "sample": _pick(frame, "sample").astype(str).str.strip('"'),
            "target": target.astype(str).str.strip('"'),
            "target_type": target_type.astype(str),
            "channel": channel,
            "generation": generation,
            "droplet_volume_nl": volume,
            "droplet_volume_source": reason,
            "accepted_droplets": accepted,
            "positives": positives,
            "negatives": negatives,
            "ch1_positives": ch["Ch1+Ch2+"] + ch["Ch1+Ch2-"],
            "ch2_positives": ch["Ch1+Ch2+"] + ch["Ch1-Ch2+"],
            "exported_concentration": pd.to_numeric(_pick(frame, "concentration"), errors="coerce"),
            "exported_conc_ci_low": _number(frame, "PoissonConfMin", path),
            "exported_conc_ci_high": _number(frame, "PoissonConfMax", path),
            "exported_ratio": _number(frame, "Ratio", path),
            "exported_fractional_abundance": pd.to_numeric(_pick(frame, "fa"), errors="coerce"),
        }
    )
    return out[WELL_COLUMNS], issues
