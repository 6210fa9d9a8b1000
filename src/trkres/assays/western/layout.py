"""Lane layouts of western blots: which sample, treatment, dose and time each lane holds.

A layout is a table (CSV, TSV, ``.xlsx``, or a DataFrame) with one row per lane:

=============  ======================================================================
column         meaning
=============  ======================================================================
``lane``       lane number (integer >= 1, as in the bands table's ``lane`` column);
               required
``blot``       which membrane (a biological replicate blot); text, default ``"1"``
``role``       ``sample`` (default), ``control`` (the reference lane(s) of fold change),
               ``ladder``, ``empty`` or ``dilution`` (a loading series: needs ``amount``)
``sample``     cell line / sample name (text)
``treatment``  drug or stimulus (text)
``dose``       a number, with its unit in ``dose_unit`` (or ``unit``) or in the cell
               (``"100 nM"``); molar units (M, mM, uM/µM, nM, pM) also give
               ``dose_molar`` (and are spelled one way in ``condition``: ``µM`` and
               ``μM`` as ``uM``, ``nm`` as ``nM``); other units (``ng/mL``) are kept as written;
               a dose of 0 without a unit takes the layout's one molar unit (``0`` beside
               ``10 nM`` is the condition ``0 nM``)
``time``       a number, with its unit in ``time_unit`` or in the cell (``"30 min"``)
``replicate``  biological replicate label (text, default ``"1"``); with ``blot`` it
               names the unit of replication
``amount``     for ``dilution`` lanes: protein (or lysate) loaded, a number > 0, unit in
               ``amount_unit`` or in the cell (``"10 ug"``)
``condition``  optional label; built from sample, treatment, dose and time when absent
=============  ======================================================================

Column names are matched trimmed and case-folded; other columns travel along unchanged.
Errors (:class:`~trkres.errors.InputError`, with file, line, column, expected and found):
no ``lane`` column, a lane that is not a whole number >= 1, text where a number belongs,
an unknown role, and a lane listed twice on one blot. Rows that cannot be used -- no lane
number, a sample/control lane naming neither sample nor treatment, a dilution lane
without a positive amount, a negative dose -- are left out and listed in the issues
table (:data:`trkres.tables.ISSUE_COLUMNS`), so rows in = rows used + rows reported
(blank lines are skipped, as every trkres reader does).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location
from trkres.frames import check_frame
from trkres.tables import ISSUE_COLUMNS, MISSING_CELLS, read_table
from trkres.units import molar_factors

__all__ = ["LAYOUT_COLUMNS", "ROLES", "check_layout", "read_layout"]

#: Roles a lane may have.
ROLES = ("sample", "control", "ladder", "empty", "dilution")

#: Columns of the layout returned (then any extra columns of the input).
LAYOUT_COLUMNS = [
    "blot", "lane", "role", "sample", "treatment", "dose", "dose_unit", "dose_molar",
    "time", "time_unit", "replicate", "amount", "amount_unit", "condition", "line",
]  # fmt: skip

#: Recognised names of each column (trimmed, case-folded).
_ALIASES = {
    "lane": ("lane", "lane_number", "well"),
    "blot": ("blot", "membrane", "gel"),
    "role": ("role", "type", "kind"),
    "sample": ("sample", "cell_line", "cells"),
    "treatment": ("treatment", "drug", "compound"),
    "dose": ("dose", "concentration", "conc"),
    "dose_unit": ("dose_unit", "unit", "concentration_unit"),
    "time": ("time", "timepoint"),
    "time_unit": ("time_unit",),
    "replicate": ("replicate", "rep", "biological_replicate"),
    "amount": ("amount", "load", "loaded"),
    "amount_unit": ("amount_unit", "load_unit"),
    "condition": ("condition",),
}

#: The one spelling of each molar unit in the layout's ``dose_unit`` and condition labels.
_MOLAR_NAMES = {1.0: "M", 1e-3: "mM", 1e-6: "uM", 1e-9: "nM", 1e-12: "pM"}

_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*?)?\s*$")


def read_layout(source: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """The lane layout of one or several blots (see the module docstring for the columns).

    Returns the usable rows (:data:`LAYOUT_COLUMNS`, then the input's other columns), one per
    (blot, lane); the rows left out are in ``result.attrs["issues"]`` (use
    :func:`check_layout` to get them as a second return value). ``line`` is the row's line in
    the file (a DataFrame's row ``i``, 0-based, is line ``i + 2``, as under a header).
    """
    layout, issues = check_layout(source)
    layout.attrs["issues"] = issues
    return layout


def check_layout(
    source: str | os.PathLike[str] | pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(usable layout rows, rows left out) of a layout file or DataFrame: see :func:`read_layout`."""
    if isinstance(source, pd.DataFrame):
        path: Path = Path("<DataFrame>")
        frame = check_frame(source, "lane layout")
        frame = frame.astype(object).where(frame.notna(), "").astype(str)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise InputError("layout file not found", location=Location(file=path),
                             expected="an existing CSV/TSV/.xlsx file", found="nothing there")  # fmt: skip
        frame = read_table(path).astype(str)
    else:
        raise InputError("not a lane layout", expected="a path or a pandas DataFrame",
                         found=type(source).__name__)  # fmt: skip
    frame = frame.reset_index(drop=True)
    text = frame.apply(lambda c: c.str.strip())
    names = {str(c).strip().lower().replace(" ", "_"): c for c in frame.columns}
    col: dict[str, str] = {}
    for key, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in names:
                col[key] = names[alias]
                break
    if "lane" not in col:
        raise InputError("lane layout lacks a lane column", location=Location(file=path, line=1),
                         expected="a column 'lane' (lane numbers 1, 2, ...)",
                         found=", ".join(map(str, frame.columns))[:300])  # fmt: skip
    n = len(frame)
    missing = text.apply(lambda c: c.str.lower().isin(MISSING_CELLS))
    blank = missing.all(axis=1).to_numpy()
    drop = blank.copy()
    issues: list[pd.DataFrame] = []

    def cells(key: str, default: str = "") -> pd.Series:
        if key not in col:
            return pd.Series([default] * n, dtype=object)
        column: pd.Series = text[col[key]].where(~missing[col[key]], default)
        return column

    def report(mask: np.ndarray, key: str, expected: str) -> None:
        bad = mask & ~drop
        if bad.any():
            rows = np.flatnonzero(bad)
            found = (
                text[col[key]].iloc[rows] if key in col else pd.Series(["no column"] * len(rows))
            )
            issues.append(
                _issue(path, rows, col.get(key, key), expected, found.replace("", "empty"))
            )
            drop[bad] = True

    def fail(mask: np.ndarray, key: str, message: str, expected: str) -> None:
        bad = mask & ~drop
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise InputError(message, location=Location(file=path, line=r + 2, column=col[key]),
                             expected=expected, found=repr(frame[col[key]].iloc[r])[:200])  # fmt: skip

    # lane: a whole number >= 1
    lane_text = cells("lane")
    report((lane_text == "").to_numpy(), "lane", "a lane number")
    lane = pd.to_numeric(lane_text.where(lane_text != ""), errors="coerce").to_numpy(dtype=float)
    bad_lane = (lane_text != "").to_numpy() & ~(
        np.isfinite(lane) & (lane >= 1) & (lane == np.round(lane))
    )
    fail(bad_lane, "lane", "lane is not a whole number >= 1", "a lane number (1, 2, ...)")

    role = cells("role", "sample").str.lower()
    role = role.replace({"ctrl": "control", "reference": "control", "marker": "ladder",
                         "blank": "empty", "standard": "dilution"})  # fmt: skip
    fail(~role.isin(ROLES).to_numpy(), "role", "unknown lane role", ", ".join(ROLES))
    sample, treatment = cells("sample"), cells("treatment")
    biological = role.isin(["sample", "control"]).to_numpy()
    if "sample" in col or "treatment" in col:
        key = "sample" if "sample" in col else "treatment"
        report(biological & ((sample == "") & (treatment == "")).to_numpy(), key,
               "a sample or treatment name for a sample/control lane")  # fmt: skip
    else:
        report(biological & ~blank, "sample", "a sample or treatment column")

    dose, dose_unit, bad, clash = _number_unit(cells("dose"), cells("dose_unit"))
    fail(bad, "dose", "dose is not a number", "a number, optionally with its unit ('100 nM')")
    fail(clash, "dose", "the dose's unit contradicts the unit column", "one unit per dose")
    report(dose < 0, "dose", "a dose >= 0")
    factor = molar_factors(dose_unit).to_numpy()
    dose_molar = dose * factor
    # One spelling per molar unit in the condition label ("10 µM", "10 μM" and "10 uM" are
    # one condition: the label is the key that replicate blots are combined on).
    canonical = pd.Series(factor).map(_MOLAR_NAMES)
    label_unit = canonical.where(canonical.notna(), dose_unit).astype(str)
    # A dose of 0 written without a unit ("0" beside "10 nM") is 0 in the layout's one
    # molar unit: '0' and '0 nM' were two conditions (the label is the key of fold change
    # controls and of combining blots). Mixed or non-molar units leave it as written.
    bare_zero = (dose == 0) & (dose_unit == "").to_numpy()
    units = set(label_unit[dose > 0])
    if bare_zero.any() and len(units) == 1 and units <= set(_MOLAR_NAMES.values()):
        label_unit = label_unit.where(~bare_zero, units.pop())
        dose_molar = np.where(bare_zero, 0.0, dose_molar)
    time, time_unit, bad, clash = _number_unit(cells("time"), cells("time_unit"))
    fail(bad, "time", "time is not a number", "a number, optionally with its unit ('30 min')")
    fail(clash, "time", "the time's unit contradicts the time_unit column", "one unit per time")
    amount, amount_unit, bad, clash = _number_unit(cells("amount"), cells("amount_unit"))
    fail(bad, "amount", "amount is not a number", "a number, optionally with its unit ('10 ug')")
    fail(
        clash,
        "amount",
        "the amount's unit contradicts the amount_unit column",
        "one unit per amount",
    )
    dilution = (role == "dilution").to_numpy()
    report(dilution & ~(amount > 0), "amount", "an amount loaded > 0 for a dilution lane")

    blot = cells("blot", "1")
    lane_key = pd.DataFrame({"blot": blot, "lane": lane})
    twice = lane_key.duplicated(keep=False).to_numpy() & ~drop & ~blank
    if twice.any():
        rows = np.flatnonzero(twice)
        raise InputError("a lane is listed twice on one blot",
                         location=Location(file=path, line=int(rows[1]) + 2, column=col["lane"]),
                         expected="one row per (blot, lane)",
                         found=f"blot {blot.iloc[rows[0]]}, lane {int(lane[rows[0]])} on lines "
                               + ", ".join(str(r + 2) for r in rows[:6]))  # fmt: skip

    condition = cells("condition")
    built = _condition(sample, treatment, dose, label_unit, time, time_unit)
    role_label = role.where(~dilution, "dilution " + _fmt(amount, amount_unit))
    condition = condition.where(condition != "", built.where(biological, role_label))
    use = np.flatnonzero(~drop)
    out = pd.DataFrame(
        {
            "blot": blot.to_numpy(),
            "lane": np.nan_to_num(lane).astype(np.int64),
            "role": role.to_numpy(),
            "sample": sample.to_numpy(),
            "treatment": treatment.to_numpy(),
            "dose": dose,
            "dose_unit": dose_unit.to_numpy(),
            "dose_molar": dose_molar,
            "time": time,
            "time_unit": time_unit.to_numpy(),
            "replicate": cells("replicate", "1").to_numpy(),
            "amount": amount,
            "amount_unit": amount_unit.to_numpy(),
            "condition": condition.to_numpy(),
            "line": np.arange(n) + 2,
        }
    )
    used = set(col.values())
    for extra in frame.columns:
        if extra not in used and extra not in out.columns:
            out[extra] = frame[extra].to_numpy()
    out = out.iloc[use].sort_values(["blot", "lane"], kind="stable").reset_index(drop=True)
    report_frame = (
        pd.concat(issues, ignore_index=True)
        .sort_values("line", kind="stable")
        .reset_index(drop=True)
        if issues
        else pd.DataFrame(columns=ISSUE_COLUMNS)
    )
    if out.empty:
        raise InputError("no usable lanes in the layout", location=Location(file=path),
                         expected="rows with a lane number and a sample, treatment or role",
                         found=f"{int((~blank).sum())} row(s), none usable")  # fmt: skip
    return out, report_frame


def _number_unit(
    values: pd.Series, units: pd.Series
) -> tuple[np.ndarray, pd.Series, np.ndarray, np.ndarray]:
    """(numbers, units, mask of cells that are not a number, mask of cells whose own unit
    contradicts the unit column): ``"100 nM"`` gives 100 and ``"nM"``; the unit column
    fills in where the cell names none."""
    parts = values.str.extract(_NUMBER_UNIT)
    number = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
    present = (values != "").to_numpy()
    bad = present & np.isnan(number)
    cell_unit = parts[1].fillna("").astype(str)
    units = units.reset_index(drop=True)
    fa, fb = molar_factors(cell_unit), molar_factors(units)
    same = (cell_unit.str.lower() == units.str.lower()) | (fa == fb)  # uM, µM (NaN != NaN)
    conflict = ((cell_unit != "") & (units != "") & ~same).to_numpy()
    unit = cell_unit.where(cell_unit != "", units).where(present, "")
    return number, unit.reset_index(drop=True), bad, conflict & present


def _fmt(number: np.ndarray, unit: pd.Series) -> pd.Series:
    """``number unit`` as text (``%g``), empty where the number is missing."""
    text = pd.Series([f"{v:g}" if np.isfinite(v) else "" for v in number], dtype=object)
    return (text + " " + unit.reset_index(drop=True)).str.strip()


def _condition(sample: pd.Series, treatment: pd.Series, dose: np.ndarray, dose_unit: pd.Series,
               time: np.ndarray, time_unit: pd.Series) -> pd.Series:  # fmt: skip
    """A readable condition label: the non-empty parts of sample, treatment, dose, time, ``" | "``-joined."""
    parts = pd.DataFrame(
        {
            "sample": sample.reset_index(drop=True),
            "treatment": treatment.reset_index(drop=True),
            "dose": _fmt(dose, dose_unit),
            "time": _fmt(time, time_unit),
        }
    )
    joined = pd.Series([""] * len(parts), dtype=object)
    for name in parts.columns:
        part = parts[name].astype(str)
        joined = joined + np.where(part != "", " | " + part, "")
    return joined.str.removeprefix(" | ").astype(str)


def _issue(
    path: Path, rows: np.ndarray, column: str, expected: str, found: pd.Series
) -> pd.DataFrame:
    return pd.DataFrame({"file": str(path), "line": rows + 2, "row": rows + 1, "column": column,
                         "expected": expected, "found": found.astype(str).to_numpy(), "action": "dropped"})  # fmt: skip
