"""Dose-response tables in: long tables with units, and CurveCurator's wide layout.

Long: a curve identifier (``curve_id`` or grouping columns), ``dose`` with a
``unit`` column or a ``dose_unit`` argument, and ``response`` (fraction of
vehicle, 1 = no effect). Doses are converted to molar.
CurveCurator: ``Name`` and ``Raw 0..N`` columns with the doses from its TOML
(``doses`` × ``dose_scale`` in ``dose_unit``); ``Raw 0`` at dose 0 is the control.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location
from trkres.tables import ISSUE_COLUMNS as ISSUE_COLUMNS  # re-exported: readers of old paths
from trkres.tables import blank_cells
from trkres.tables import parse_numbers as _numbers
from trkres.tables import read_table as read_table
from trkres.units import MAX_DOSE_MOLAR, UNITS, to_molar

#: Columns that name a well or replicate: with one, two identical rows are the same
#: measurement given twice, not two replicates.
REPLICATE_COLUMNS = ("well", "well_id", "position", "replicate", "replicate_id", "rep")

log = logging.getLogger(__name__)


def exact_copies(
    frame: pd.DataFrame, path: Path, candidates: np.ndarray, *, what: str = "table"
) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Rows (among ``candidates``) that repeat an earlier row cell for cell.

    With a well or replicate column (:data:`REPLICATE_COLUMNS`) such a row is the same
    measurement pasted twice: it is returned to be dropped, with issue rows (``line`` of
    the copy, ``found`` the line it copies) so it is counted once and reported. Without
    one, identical rows may be replicates with equal readings: they are kept and a
    warning names them. Row ``i`` is on line ``i + 2``.
    """
    none = np.zeros(len(frame), dtype=bool)
    if not candidates.any():
        return none, None
    # Screen: only rows whose key (a hash of the cells as compared below) repeats can be
    # or have copies. One sort of 64-bit keys instead of pandas' multi-column
    # duplicated (1.8 s → 0.4 s on 2.7 million rows); equal keys are checked exactly.
    keys = _row_keys(frame)[candidates]
    ordered = np.sort(keys)
    if not (ordered[1:] == ordered[:-1]).any():
        return none, None
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    candidates = candidates.copy()
    candidates[np.flatnonzero(candidates)[counts[inverse] == 1]] = False
    sub = frame.loc[candidates]
    # Cells compared as their text; a float's bits stand for its (shortest round-trip) text.
    sub = pd.DataFrame(
        {
            c: sub[c].to_numpy().view(np.int64)
            if sub[c].dtype == np.float64
            else sub[c].to_numpy()
            if sub[c].dtype.kind in "iu"
            else sub[c].astype(str)
            for c in sub.columns
        },
        index=sub.index,
    )
    dup = sub.duplicated(keep="first").to_numpy()
    if not dup.any():
        return none, None
    idx = np.flatnonzero(candidates)
    group = sub.groupby(list(sub.columns), sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(idx).groupby(group).transform("min").to_numpy()
    rows = idx[dup]
    has_id = any(str(c).strip().lower() in REPLICATE_COLUMNS for c in frame.columns)
    if not has_id:
        shown = ", ".join(str(r + 2) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
        log.warning(
            "%s: %d row(s) identical to an earlier row (lines %s), used as replicates with "
            "equal readings; add a well or replicate column if they are copies",
            path, len(rows), shown,
        )  # fmt: skip
        return none, None
    mask = none.copy()
    mask[rows] = True
    issue = pd.DataFrame({
        "file": str(path), "line": rows + 2, "row": rows + 1, "column": "",
        "expected": f"each {what} row once (well/replicate id included)",
        "found": [f"an exact copy of line {f + 2}" for f in first[dup]],
        "action": "dropped (counted once)",
    })  # fmt: skip
    return mask, issue


def _row_keys(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit key per row that is equal for rows :func:`exact_copies` finds equal (floats
    by their bits, integers by value, anything else by its text); unequal rows may share
    one (a hash), so equal keys only mark rows to compare."""
    keys = np.zeros(len(frame), dtype=np.uint64)
    for name in frame.columns:
        cells = frame[name]
        if cells.dtype == np.float64:
            values = cells.to_numpy().view(np.uint64)
        elif cells.dtype.kind in "iu":
            values = cells.to_numpy().astype(np.int64).view(np.uint64)
        else:
            values = pd.factorize(cells.astype(str))[0].astype(np.uint64)
        with np.errstate(over="ignore"):
            keys = (keys ^ values) * np.uint64(0x9E3779B97F4A7C15)
        keys ^= keys >> np.uint64(29)
    return keys


def _issue(path: Path, rows: np.ndarray, column: str, expected: str, found: pd.Series,
           action: str = "dropped") -> pd.DataFrame:  # fmt: skip
    return pd.DataFrame({"file": str(path), "line": rows + 2, "row": rows + 1, "column": column,
                         "expected": expected, "found": found.astype(str).to_numpy(), "action": action})  # fmt: skip


def _is_number(cells: pd.Series) -> bool:
    """Whether a column holds numbers (int or float, not bool or text)."""
    return cells.dtype.kind in "iuf"


#: Largest median response of a curve read as a fraction of vehicle: 3 (300 % of vehicle,
#: the plates' upper limit of plausible viability). Beyond it the curve is in percent (or raw
#: signal), and the 0.5 of the absolute IC50, the Top = 1 of 3pl/2pl and the AUC would be
#: meaningless: an error, not a fit.
MAX_MEDIAN_RESPONSE = 3.0


def _check_scale(
    curve: pd.Series, resp: np.ndarray, rows: np.ndarray, path: Path, column: str
) -> None:
    """Refuse a curve whose responses are not fractions of vehicle (median > 3: percent).

    A median above 3 needs at least half a curve's |responses| above 3, so medians are
    taken only for those curves: a table of fractions costs one vectorised comparison
    (a groupby-median of 1M curves took 4 s of text grouping)."""
    big = np.abs(resp) > MAX_MEDIAN_RESPONSE
    if not big.any():
        return
    codes, names = pd.factorize(curve.array, sort=False)
    size = np.bincount(codes, minlength=len(names))
    above = np.bincount(codes, weights=big, minlength=len(names))
    sel = (above * 2 >= size)[codes]
    medians = pd.Series(np.abs(resp[sel])).groupby(codes[sel], sort=False).median()
    off = medians[medians > MAX_MEDIAN_RESPONSE]
    if off.empty:
        return
    first = int(off.index[0])
    name = names[first]
    row = int(rows[np.flatnonzero(codes == first)[0]])
    shown = ", ".join(str(names[int(c)]) for c in off.index[:5]) + (" ..." if len(off) > 5 else "")
    raise InputError(f"responses of {len(off)} curve(s) are not fractions of vehicle ({shown})",
                     location=Location(file=path, line=row + 2, row=row + 1, column=column),
                     expected=f"responses as fractions of vehicle (1 = no effect; a curve's median "
                     f"at most {MAX_MEDIAN_RESPONSE:g})",
                     found=f"median {float(off.iloc[0]):.4g} in curve {name}",
                     hint="percent of vehicle? divide those responses by 100")  # fmt: skip


def read_long_checked(
    path: Path, *, group: Sequence[str] | None = None, dose_unit: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a long dose-response table; return (usable rows, reported rows).

    See :func:`read_long_lines`, which also gives each usable row's line.
    """
    frame, report, _, _ = read_long_lines(path, group=group, dose_unit=dose_unit)
    return frame, report


def read_long_lines(
    path: Path, *, group: Sequence[str] | None = None, dose_unit: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, str]:
    """Read a long dose-response table; return (usable rows, reported rows, the usable rows'
    1-based lines in the file, the dose column's name).

    Usable rows: curve_id, dose_molar, response (and the ``group`` columns).
    Rows that cannot be used -- a missing or non-finite response, a missing,
    negative, non-finite or impossible dose (> :data:`MAX_DOSE_MOLAR`), an empty
    curve-id or grouping cell -- are left out and listed in the second table
    (:data:`ISSUE_COLUMNS`), so rows in = rows used + rows reported. Text
    where a number belongs, unknown units, a curve whose responses are not fractions
    of vehicle (median above :data:`MAX_MEDIAN_RESPONSE`: percent) and unreadable
    files are errors.
    """
    return check_long(read_table(path, typed=True), path, group=group, dose_unit=dose_unit)


def check_long(
    frame: pd.DataFrame,
    path: Path | str,
    *,
    group: Sequence[str] | None = None,
    dose_unit: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, str]:
    """Check a long dose-response table already in memory (see :func:`read_long_lines`).

    ``path`` names it in messages and in the issues' ``file`` column (a file, or a
    label such as ``"<DataFrame>"``); row ``i`` (0-based) is reported as line ``i + 2``
    and row ``i + 1``, as in a file with a header line. Returns (usable rows, reported
    rows, the usable rows' lines, the dose column's name).
    """
    path = Path(path)
    frame = frame.reset_index(drop=True)
    blank = np.ones(len(frame), dtype=bool)
    for name in frame.columns:  # numbers are blank only where missing: no text needed
        cells = frame[name]
        blank &= cells.isna().to_numpy() if _is_number(cells) else blank_cells(cells)
    cols = {str(c).strip().lower(): c for c in frame.columns}
    for need in ("dose", "response"):
        if need not in cols:
            raise InputError("dose-response table lacks a column", location=Location(file=path, line=1),
                             expected=need, found=", ".join(map(str, frame.columns)))  # fmt: skip
    if group:
        missing_cols = [g for g in group if g not in frame.columns]
        if missing_cols:
            raise InputError("grouping column not found", location=Location(file=path, line=1),
                             expected=", ".join(group), found=", ".join(map(str, frame.columns)))  # fmt: skip
        id_cols = list(group)
    elif "curve_id" in cols:
        id_cols = [cols["curve_id"]]
    else:
        raise InputError("no curve identifier", location=Location(file=path, line=1),
                         expected="a curve_id column or grouping columns", found=", ".join(map(str, frame.columns)))  # fmt: skip
    issues: list[pd.DataFrame] = []
    drop = blank.copy()
    for col in id_cols:
        empty = (frame[col].astype(str).str.strip() == "").to_numpy() & ~drop
        if empty.any():
            rows = np.flatnonzero(empty)
            issues.append(
                _issue(
                    path,
                    rows,
                    str(col),
                    "a curve name (not empty)",
                    pd.Series(["empty"] * len(rows)),
                )
            )
            drop |= empty
    dose, dose_missing, dose_text = _numbers(frame[cols["dose"]])
    resp, resp_missing, resp_text = _numbers(frame[cols["response"]])
    for name, text_mask in ((cols["dose"], dose_text), (cols["response"], resp_text)):
        bad = text_mask & ~drop
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(f"non-numeric {str(name).lower()}", location=Location(file=path, line=row + 2, row=row + 1, column=str(name)),
                             expected="a number", found=repr(frame[name].iloc[row]))  # fmt: skip
    if "unit" in cols:
        unit_column = frame[cols["unit"]].astype(str).str.strip()
        unit: pd.Series | str = unit_column
        if dose_unit is not None:  # both given: they must agree, or the column would win silently
            given = UNITS.get(dose_unit.strip().lower())
            listed = sorted(map(str, pd.unique(unit_column.to_numpy()[~drop])))
            if any(UNITS.get(u.lower()) != given for u in listed):
                raise InputError("the dose unit given contradicts the table's unit column",
                                 location=Location(file=path, column=str(cols["unit"])),
                                 expected=f"{dose_unit} (as given), or no dose unit for a table "
                                 "with a unit column", found=", ".join(listed)[:300])  # fmt: skip
    elif dose_unit is not None:
        unit = dose_unit
    else:
        raise InputError("dose unit unknown", location=Location(file=path, line=1),
                         expected="a 'unit' column or a dose unit (M, mM, uM, nM, pM)", found="neither")  # fmt: skip
    keep_idx = np.flatnonzero(~drop)
    molar = np.full(len(frame), np.nan)
    sub_unit = unit.iloc[keep_idx] if isinstance(unit, pd.Series) else unit
    molar[keep_idx] = to_molar(
        pd.Series(dose[keep_idx], index=keep_idx), sub_unit, path, rows=keep_idx
    ).to_numpy()
    checks = [
        (cols["dose"], dose_missing, "a dose (0 for vehicle)", frame[cols["dose"]]),
        (cols["response"], resp_missing, "a response (fraction of vehicle)", frame[cols["response"]]),
        (cols["dose"], ~dose_missing & ~np.isfinite(dose), "a finite dose", frame[cols["dose"]]),
        (cols["dose"], np.isfinite(dose) & (dose < 0), "a dose >= 0", frame[cols["dose"]]),
        (cols["dose"], np.isfinite(molar) & (molar > MAX_DOSE_MOLAR),
         f"a dose <= {MAX_DOSE_MOLAR:g} M (a concentration)", frame[cols["dose"]]),
        (cols["response"], ~resp_missing & ~np.isfinite(resp), "a finite response", frame[cols["response"]]),
    ]  # fmt: skip
    for name, mask, expected, cells in checks:
        bad = mask & ~drop
        if bad.any():
            rows = np.flatnonzero(bad)
            found = cells.iloc[rows].astype(str).replace("", "empty")
            issues.append(_issue(path, rows, str(name), expected, found))
            drop |= bad
    copies, copy_issues = exact_copies(frame, path, ~drop, what="dose-response")
    if copy_issues is not None:
        issues.append(copy_issues)
        drop |= copies
    use = np.flatnonzero(~drop)
    curve = curve_ids(frame[id_cols].iloc[use], id_cols) if len(use) else pd.Series([], dtype=str)
    _check_scale(curve, resp[use], use, path, str(cols["response"]))
    out = pd.DataFrame(
        # Text stays in pandas' string array (not millions of Python str objects).
        {"curve_id": curve.array, "dose_molar": molar[use], "response": resp[use]}
    )
    for g in group or []:  # the grouping columns travel along: comparisons need them
        out[g] = frame[g].iloc[use].to_numpy()
    report = pd.concat(issues, ignore_index=True) if issues else pd.DataFrame(columns=ISSUE_COLUMNS)
    if len(report):
        report = report.sort_values("line", kind="stable").reset_index(drop=True)
    if out.empty:
        raise InputError("no usable rows", location=Location(file=path),
                         expected="rows with a curve, a dose >= 0 and a finite response",
                         found=f"{len(report)} row(s), all unusable; first: line {report['line'].iloc[0]}, "
                               f"column {report['column'].iloc[0]}: {report['found'].iloc[0]}"
                         if len(report) else "none")  # fmt: skip
    return out, report, use + 2, str(cols["dose"])


def read_long(
    path: Path, *, group: Sequence[str] | None = None, dose_unit: str | None = None
) -> pd.DataFrame:
    """Read a long dose-response table (CSV, TSV or Parquet) into curve_id, dose_molar, response.

    With ``group``, the curve id joins those columns with " | " and they are kept.
    Unusable rows are left out; :func:`read_long_checked` also returns them.
    """
    return read_long_checked(path, group=group, dose_unit=dose_unit)[0]


def _toml_numbers(value: object, toml: Path, key: str, expected: str) -> np.ndarray:
    """``value`` (a TOML list of numbers or numeric strings) as finite floats >= 0, or an
    :class:`InputError` naming the file and key."""
    items = value if isinstance(value, list) else None
    try:
        numbers = (
            np.asarray([float(v) for v in items], dtype=float)
            if items is not None and not any(isinstance(v, bool) for v in items)
            else None
        )
    except (TypeError, ValueError):
        numbers = None
    if numbers is None or not np.isfinite(numbers).all() or (numbers < 0).any():
        raise InputError(f"CurveCurator parameters: bad {key}", location=Location(file=toml, column=key),
                         expected=expected, found=repr(value)[:100])  # fmt: skip
    return numbers


def read_curvecurator(data: Path, toml: Path) -> pd.DataFrame:
    """Read CurveCurator's wide ``Raw 0..N`` table with the doses from its TOML file."""
    try:
        params = tomllib.loads(toml.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(
            f"cannot read CurveCurator parameters: {exc}", location=Location(file=toml)
        ) from None
    exp = params.get("Experiment", {})
    if not isinstance(exp, dict):
        raise InputError("CurveCurator parameters: [Experiment] is not a table", location=Location(file=toml),
                         expected="an [Experiment] table with doses, dose_scale, dose_unit",
                         found=repr(exp)[:100])  # fmt: skip
    doses = _toml_numbers(exp.get("doses", []), toml, "doses", "a list of doses >= 0")
    raw_scale = exp.get("dose_scale", "1")
    try:  # CurveCurator writes it as text ("1e-9"); a TOML number is fine too
        scale = (
            float(raw_scale)
            if isinstance(raw_scale, str | int | float) and not isinstance(raw_scale, bool)
            else np.nan
        )
    except ValueError:
        scale = np.nan
    if not (np.isfinite(scale) and scale > 0):
        raise InputError("CurveCurator parameters: bad dose_scale", location=Location(file=toml, column="dose_scale"),
                         expected="a number > 0", found=repr(exp.get("dose_scale"))[:100])  # fmt: skip
    doses = doses * scale
    unit = str(exp.get("dose_unit", "M"))
    if unit.strip().lower().replace("mol/l", "m") not in UNITS:
        raise InputError("CurveCurator parameters: unknown dose_unit", location=Location(file=toml, column="dose_unit"),
                         expected="M, mM, uM, nM or pM", found=repr(unit)[:100])  # fmt: skip
    frame = read_table(data)
    if "Name" not in frame.columns:
        raise InputError("CurveCurator table lacks its Name column", location=Location(file=data, line=1),
                         expected="Name", found=", ".join(map(str, frame.columns)))  # fmt: skip
    raw = [c for c in frame.columns if str(c).startswith("Raw ")]
    if len(raw) != len(doses):
        raise InputError("doses and Raw columns disagree", location=Location(file=data, line=1),
                         expected=f"{len(doses)} Raw columns (from {toml.name})", found=f"{len(raw)}")  # fmt: skip
    for c in raw:  # missing values stay missing (CurveCurator's convention); text is an error
        values, _, text = _numbers(frame[c])
        if text.any():
            row = int(np.flatnonzero(text)[0])
            raise InputError("non-numeric response", location=Location(file=data, line=row + 2, row=row + 1, column=str(c)),
                             expected="a number", found=repr(frame[c].iloc[row]))  # fmt: skip
        infinite = np.isinf(values)  # missing is CurveCurator's gap; inf is no measurement
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise InputError("non-finite response", location=Location(file=data, line=row + 2, row=row + 1, column=str(c)),
                             expected="a finite number (or an empty cell for a missing one)",
                             found=repr(frame[c].iloc[row]))  # fmt: skip
        frame[c] = np.where(np.isfinite(values), values, np.nan)
    long = frame.melt(id_vars=["Name"], value_vars=raw, var_name="col", value_name="response")
    long["dose"] = long["col"].map(dict(zip(raw, doses, strict=True)))
    long = long.dropna(subset=["response"])
    return pd.DataFrame({"curve_id": long["Name"].astype(str),
                         "dose_molar": to_molar(long["dose"], unit), "response": long["response"].astype(float)})  # fmt: skip


#: How the columns that identify a curve are joined into its ``curve_id``.
CURVE_ID_SEPARATOR = " | "


def curve_ids(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """The ``curve_id`` of each row: the ``keys`` columns as text joined by ``" | "``."""
    if not keys:
        return pd.Series("", index=frame.index, dtype=object)
    ids = frame[keys[0]].astype(str)
    for key in keys[1:]:
        ids = ids + CURVE_ID_SEPARATOR + frame[key].astype(str)
    return ids
