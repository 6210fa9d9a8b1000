"""Dose-response tables in: long tables with units, and CurveCurator's wide layout.

Long: a curve identifier (``curve_id`` or grouping columns), ``dose`` with a
``unit`` column or a ``dose_unit`` argument, and ``response`` (fraction of
vehicle, 1 = no effect). Doses are converted to molar.
CurveCurator: ``Name`` and ``Raw 0..N`` columns with the doses from its TOML
(``doses`` × ``dose_scale`` in ``dose_unit``); ``Raw 0`` at dose 0 is the control.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location

#: Molar factor of each concentration unit.
UNITS = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "µm": 1e-6, "μm": 1e-6, "nm": 1e-9, "pm": 1e-12}


def to_molar(dose: pd.Series, unit: pd.Series | str, path: Path | None = None) -> pd.Series:
    """Doses in molar; an unknown unit is an error naming it."""
    units = unit if isinstance(unit, pd.Series) else pd.Series(unit, index=dose.index)
    codes, uniques = pd.factorize(units, use_na_sentinel=False)
    known = [UNITS.get(str(u).strip().lower().replace("mol/l", "m"), np.nan) for u in uniques]
    factor = pd.Series(np.asarray(known, dtype=float)[codes], index=dose.index)
    bad = factor.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            "unknown concentration unit",
            location=Location(file=path, row=row + 1, column="unit") if path else None,
            expected=f"one of {', '.join(sorted(UNITS))}",
            found=repr(units.iloc[row]),
        )
    return dose.astype(float) * factor.astype(float)


def read_long(
    path: Path, *, group: Sequence[str] | None = None, dose_unit: str | None = None
) -> pd.DataFrame:
    """Read a long dose-response table (CSV, TSV or Parquet) into curve_id, dose_molar, response.

    With ``group``, the curve id joins those columns with " | " and they are kept.
    """
    if path.suffix.lower() == ".parquet":
        frame = pd.read_parquet(path)
    else:
        sep = "," if path.suffix.lower() == ".csv" else "\t"
        frame = pd.read_csv(path, sep=sep)
    cols = {c.lower(): c for c in frame.columns}
    for need in ("dose", "response"):
        if need not in cols:
            raise InputError("dose-response table lacks a column", location=Location(file=path, line=1),
                             expected=need, found=", ".join(map(str, frame.columns)))  # fmt: skip
    if group:
        missing = [g for g in group if g not in frame.columns]
        if missing:
            raise InputError("grouping column not found", location=Location(file=path, line=1),
                             expected=", ".join(group), found=", ".join(map(str, frame.columns)))  # fmt: skip
        curve = frame[list(group)].astype(str).agg(" | ".join, axis=1)
    elif "curve_id" in cols:
        curve = frame[cols["curve_id"]].astype(str)
    else:
        raise InputError("no curve identifier", location=Location(file=path, line=1),
                         expected="a curve_id column or grouping columns", found=", ".join(map(str, frame.columns)))  # fmt: skip
    unit = frame[cols["unit"]] if "unit" in cols else dose_unit
    if unit is None:
        raise InputError("dose unit unknown", location=Location(file=path, line=1),
                         expected="a 'unit' column or a dose unit (M, mM, uM, nM, pM)", found="neither")  # fmt: skip
    response = pd.to_numeric(frame[cols["response"]], errors="coerce")
    bad = response.isna() & frame[cols["response"]].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError("non-numeric response", location=Location(file=path, row=row + 1, column=cols["response"]),
                         expected="a number", found=repr(frame[cols["response"]].iloc[row]))  # fmt: skip
    out = pd.DataFrame(
        {"curve_id": curve, "dose_molar": to_molar(pd.to_numeric(frame[cols["dose"]], errors="coerce"), unit, path),
         "response": response}
    )  # fmt: skip
    for g in group or []:  # the grouping columns travel along: comparisons need them
        out[g] = frame[g]
    return out


def read_curvecurator(data: Path, toml: Path) -> pd.DataFrame:
    """Read CurveCurator's wide ``Raw 0..N`` table with the doses from its TOML file."""
    try:
        params = tomllib.loads(toml.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(
            f"cannot read CurveCurator parameters: {exc}", location=Location(file=toml)
        ) from None
    exp = params.get("Experiment", {})
    doses = np.asarray(exp.get("doses", []), dtype=float) * float(exp.get("dose_scale", "1"))
    unit = str(exp.get("dose_unit", "M"))
    frame = pd.read_csv(data, sep="\t")
    raw = [c for c in frame.columns if str(c).startswith("Raw ")]
    if len(raw) != len(doses):
        raise InputError("doses and Raw columns disagree", location=Location(file=data, line=1),
                         expected=f"{len(doses)} Raw columns (from {toml.name})", found=f"{len(raw)}")  # fmt: skip
    long = frame.melt(id_vars=["Name"], value_vars=raw, var_name="col", value_name="response")
    long["dose"] = long["col"].map(dict(zip(raw, doses, strict=True)))
    long = long.dropna(subset=["response"])
    return pd.DataFrame({"curve_id": long["Name"].astype(str),
                         "dose_molar": to_molar(long["dose"], unit), "response": long["response"].astype(float)})  # fmt: skip
