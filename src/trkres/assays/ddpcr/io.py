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
    semicolons = len(columns) == 1 and ";" in columns[0]
    raise InputError(
        "not a QuantaSoft / QX Manager results export"
        + (" (semicolon-separated, as European-locale software writes CSV)" if semicolons else ""),
        location=Location(file=path, line=1),
        expected="columns TypeAssay+Assay (QuantaSoft), TargetType+Target (1.7.x) or DyeName(s) (QX Manager)"
        + ", comma-separated with decimal points" * semicolons,
        found=", ".join(columns[:10])[:300],
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


def _check_row_widths(text: str, width: int, path: Path) -> None:
    """A row with more non-empty fields than the header is an error naming its line.

    QuantaSoft 1.7 ends rows with extra *empty* fields (dropped); a value beyond the
    header would shift every later column of the row into the wrong one, as a decimal
    comma does (``0,78`` read as two fields: positives read from the negatives column).
    """
    reader = csv.reader(io.StringIO(text))
    start = 0
    for row in reader:
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            raise InputError(
                "a row has more values than the header has columns",
                location=Location(file=path, line=start + 1),
                expected=f"at most {width} values (the header's columns); numbers written with "
                "a decimal point (a decimal comma, as European-locale exports write, splits "
                "one value in two)",
                found=f"{len(row)} values: {','.join(row)[:200]}",
            )
        start = reader.line_num


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
    header = next(csv.reader([header_line]))
    check_unique_header(header, path, what="ddPCR export", line=first + 1)
    _check_row_widths(text, len(header), path)
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


#: Columns a wells table in memory must have, and those it may have (see :func:`wells_from_frame`).
FRAME_REQUIRED = ("well", "sample", "target", "accepted_droplets", "positives")
FRAME_OPTIONAL = ("target_type", "channel", "ch1_positives", "ch2_positives", "droplet_volume_nl")


def wells_from_frame(
    frame: object, droplet_volume_nl: float | None = None, *, name: str = "DataFrame"
) -> pd.DataFrame:
    """A wells table held in memory, checked, as :func:`read_ddpcr_export` gives it.

    ``frame`` has one row per well and target: ``well``, ``sample``, ``target``,
    ``accepted_droplets`` and ``positives`` (whole droplet counts), and optionally
    ``target_type``, ``channel`` (1 or 2; needed with the cluster counts),
    ``ch1_positives``/``ch2_positives`` (the well's positives in each channel, for
    the fractional abundance) and ``droplet_volume_nl``. The droplet volume (nL)
    is never guessed: ``droplet_volume_nl`` or the column must give it. Errors
    name the row (1-based), the column, what was expected and found.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            "ddPCR wells must be a pandas DataFrame or a path to an export",
            expected="a DataFrame with columns " + ", ".join(FRAME_REQUIRED),
            found=type(frame).__name__,
        )
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise InputError("ddPCR wells table has a repeated column name",
                         location=Location(file=name), expected="each column once",
                         found=", ".join(c for c in columns if columns.count(c) > 1)[:300])  # fmt: skip
    missing = [c for c in FRAME_REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(
            "ddPCR wells table lacks a required column",
            location=Location(file=name, column=missing[0]),
            expected="columns " + ", ".join(FRAME_REQUIRED),
            found=", ".join(columns[:12]) or "no columns",
        )
    if frame.empty:
        raise InputError("ddPCR wells table is empty", location=Location(file=name),
                         expected="one row per well and target", found="0 rows")  # fmt: skip
    check_volume(droplet_volume_nl)
    n = len(frame)
    for column in ("well", "sample", "target"):  # replicates merge by sample and target
        empty = frame[column].isna().to_numpy() | (frame[column].astype(str).str.strip() == "")
        if empty.any():
            row = int(np.flatnonzero(empty)[0])
            raise InputError(f"missing {column}", location=Location(file=name, row=row + 1, column=column),
                             expected=f"a {column} name on every row", found="empty")  # fmt: skip

    def numbers(column: str, *, count: bool) -> np.ndarray:
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce") if raw.dtype != bool else raw * np.nan
        v = np.asarray(values, dtype=float)
        bad = ~np.isfinite(v)
        if count:
            bad |= np.isfinite(v) & ((v < 0) | (v != np.round(v)))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"impossible value in column {column}",
                location=Location(file=name, row=row + 1, column=column),
                expected="a whole number of droplets >= 0" if count else "a finite number",
                found=repr(raw.iloc[row])[:100],
            )
        return v

    accepted = numbers("accepted_droplets", count=True)
    positives = numbers("positives", count=True)
    over = positives > accepted
    if over.any():
        row = int(np.flatnonzero(over)[0])
        raise InputError("more positive droplets than accepted droplets",
                         location=Location(file=name, row=row + 1, column="positives"),
                         expected=f"at most accepted_droplets = {accepted[row]:g}",
                         found=f"{positives[row]:g}")  # fmt: skip
    clusters = {c: numbers(c, count=True) for c in ("ch1_positives", "ch2_positives") if c in frame}
    for column, v in clusters.items():
        high = v > accepted
        if high.any():
            row = int(np.flatnonzero(high)[0])
            raise InputError(f"more {column} than accepted droplets",
                             location=Location(file=name, row=row + 1, column=column),
                             expected=f"at most accepted_droplets = {accepted[row]:g}",
                             found=f"{v[row]:g}")  # fmt: skip
    if "channel" in frame:
        channel = numbers("channel", count=True)
        wrong = (channel != 1) & (channel != 2)
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            raise InputError("unknown ddPCR channel",
                             location=Location(file=name, row=row + 1, column="channel"),
                             expected="1 (FAM) or 2 (HEX/VIC)", found=repr(frame["channel"].iloc[row]))  # fmt: skip
    elif clusters:
        raise InputError(
            "ddPCR wells table gives cluster counts without channels",
            location=Location(file=name, column="channel"),
            expected="a channel column (1 or 2) with ch1_positives / ch2_positives",
            found="no channel column",
        )
    else:
        channel = np.ones(n)
    if "droplet_volume_nl" in frame and droplet_volume_nl is None:
        volume = numbers("droplet_volume_nl", count=False)
        for v in np.unique(volume):
            check_volume(float(v))
        reason = f"given (droplet_volume_nl column of {name})"
    elif droplet_volume_nl is not None:
        volume, reason = np.full(n, float(droplet_volume_nl)), "given (droplet_volume_nl)"
    else:
        raise InputError(
            "a ddPCR wells table in memory needs its droplet volume",
            location=Location(file=name, column="droplet_volume_nl"),
            expected="droplet_volume_nl in nL (0.85 for QX200 / QX Manager, 0.91 for old "
            "QuantaSoft), as an argument or a column",
            found="neither",
        )
    text = {c: frame[c].astype(str).str.strip().to_numpy() for c in ("well", "sample", "target")}
    key = pd.DataFrame({"well": text["well"], "target": text["target"], "channel": channel})
    twice = key.duplicated(keep=False).to_numpy()
    if twice.any():
        rows = np.flatnonzero(twice)
        first = rows[0]
        same = rows[
            (text["well"][rows] == text["well"][first])
            & (text["target"][rows] == text["target"][first])
        ]
        raise InputError("the same well and target twice",
                         location=Location(file=name, row=int(same[1]) + 1, column="well"),
                         expected="each well and target once",
                         found=f"well {text['well'][first]} target {text['target'][first]} on rows "
                         f"{same[0] + 1} and {same[1] + 1}")  # fmt: skip
    nan = np.full(n, np.nan)
    out = pd.DataFrame(
        {
            "well": text["well"], "sample": text["sample"], "target": text["target"],
            "target_type": frame["target_type"].astype(str).to_numpy() if "target_type" in frame else "",
            "channel": channel.astype(np.int64), "generation": "table",
            "droplet_volume_nl": volume, "droplet_volume_source": reason,
            "accepted_droplets": accepted, "positives": positives, "negatives": accepted - positives,
            "ch1_positives": clusters.get("ch1_positives", nan),
            "ch2_positives": clusters.get("ch2_positives", nan),
            "exported_concentration": nan, "exported_conc_ci_low": nan, "exported_conc_ci_high": nan,
            "exported_ratio": nan, "exported_fractional_abundance": nan,
        }
    )  # fmt: skip
    return out[WELL_COLUMNS]
