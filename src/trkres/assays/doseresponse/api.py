"""The dose-response notebook API: DataFrames in, DataFrames out.

::

    import trkres as tr

    data = tr.doseresponse.prepare(df, group=["drug", "line"], dose_unit="nM")
    fits = tr.doseresponse.fit(data, model="4pl")
    res = tr.doseresponse.compare(data, condition="line", reference="parental", by=["drug"])
    tr.pl.dose_response(data, fits)
    tr.pl.fold_resistance(res)

Each function checks its options with the same pydantic model as the command line
and the study (:mod:`.options`) and runs the same ``run_*`` function
(:mod:`.run`); every bad argument or table raises :class:`trkres.errors.InputError`
(file ``<DataFrame>``, row, column, expected, found).

Unusable rows (a missing or non-finite response, a negative or missing dose, an
empty curve name, …) are an error by default (``errors="raise"``): the message
names the first one and how many there are. With ``errors="drop"`` they are left
out and listed in the returned frame's ``attrs["issues"]`` (columns file, line,
row, column, expected, found, action; row is the 1-based position in ``df``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from trkres.assays.doseresponse.options import (
    DoseResponseOptions,
    EscalationOptions,
    FitOptions,
)
from trkres.errors import InputError, Location
from trkres.frames import check_table
from trkres.options import validate_options

__all__ = ["compare", "escalation_series", "fit", "prepare"]

_LABEL = "<DataFrame>"
#: Columns of a prepared table (:func:`prepare`).
PREPARED = ("curve_id", "dose_molar", "response")


def _frame(obj: Any, what: str = "df") -> pd.DataFrame:
    df = check_table(obj, what)
    if df.empty:
        raise InputError(f"{what} is empty", location=Location(file=_LABEL),
                         expected="rows with a dose and a response", found=f"{len(df)} rows")  # fmt: skip
    if not all(isinstance(c, str) for c in df.columns):
        bad = next(c for c in df.columns if not isinstance(c, str))
        raise InputError(f"{what} has a column name that is not text", location=Location(file=_LABEL),
                         expected="text column names", found=repr(bad)[:100])  # fmt: skip
    return df


def _names(value: Any, option: str) -> list[str] | None:
    """A column name or a list of them as a list (None stays None)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InputError(f"bad option {option}", expected="a column name or a list of them",
                     found=repr(value)[:300])  # fmt: skip


def _raise_issues(issues: pd.DataFrame) -> None:
    if len(issues):
        first = issues.iloc[0]
        raise InputError(
            f"{len(issues)} unusable row(s) in the table (tr.doseresponse.prepare(..., "
            "errors='drop') leaves them out and lists them in attrs['issues'])",
            location=Location(file=_LABEL, row=int(first["row"]), column=str(first["column"])),
            expected=str(first["expected"]),
            found=str(first["found"]),
        )


def prepare(
    df: pd.DataFrame,
    *,
    group: str | Sequence[str] | None = None,
    dose_unit: str | None = None,
    errors: Literal["raise", "drop"] = "raise",
) -> pd.DataFrame:
    """Check a long dose-response table in memory; return it ready to fit.

    ``df``: one row per well with a ``dose`` column (0 for vehicle), a ``response``
    (fraction of vehicle), a ``unit`` column or ``dose_unit`` (M, mM, uM, nM, pM),
    and a ``curve_id`` column or the ``group`` columns that identify a curve.
    Returns curve_id (the group values joined by " | "), dose_molar (molar),
    response and the group columns. Unusable rows raise :class:`InputError`, or
    with ``errors="drop"`` are left out and listed in ``attrs["issues"]``. A curve
    whose responses are not fractions of vehicle (median above 3: percent) is an
    :class:`InputError` either way.
    """
    from trkres.assays.doseresponse.io import check_long

    frame = _frame(df)
    groups = _names(group, "group")
    if dose_unit is not None and not isinstance(dose_unit, str):
        raise InputError("bad option dose_unit", expected="a unit (M, mM, uM, nM, pM)",
                         found=repr(dose_unit)[:300])  # fmt: skip
    if errors not in ("raise", "drop"):
        raise InputError(
            "bad option errors", expected="'raise' or 'drop'", found=repr(errors)[:300]
        )
    # Every cell as an object, as the Parquet reader gives them (categoricals included);
    # a missing group value is an empty curve name (listed, as the file readers do).
    cells = frame.astype(object)
    for name in groups or []:
        if name in cells.columns:
            cells[name] = cells[name].where(cells[name].notna(), "")
    out, issues, _, _ = check_long(cells, _LABEL, group=groups, dose_unit=dose_unit)
    if errors == "raise":
        _raise_issues(issues)
    out.attrs["issues"] = issues
    return out


def _prepared(data: Any, group: Any, dose_unit: str | None) -> pd.DataFrame:
    """``data`` if :func:`prepare` made it (checked again, cheaply), else prepared now."""
    frame = _frame(data, "data")
    if "dose" in frame.columns or not set(PREPARED) <= set(frame.columns):
        return prepare(frame, group=group, dose_unit=dose_unit)
    if group is not None or dose_unit is not None:
        raise InputError("group and dose_unit apply to a raw table, not a prepared one",
                         expected="no group/dose_unit with a table from tr.doseresponse.prepare",
                         found=f"group={group!r}, dose_unit={dose_unit!r}")  # fmt: skip
    import numpy as np

    missing = frame["curve_id"].isna().to_numpy()
    if missing.any():
        i = int(np.flatnonzero(missing)[0])
        raise InputError("missing curve_id in a prepared table",
                         location=Location(file=_LABEL, row=i + 1, column="curve_id"),
                         expected="a curve name", found="missing")  # fmt: skip

    for name in ("dose_molar", "response"):
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | ((values < 0) if name == "dose_molar" else False)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(f"unusable {name} in a prepared table", location=Location(
                file=_LABEL, row=i + 1, column=name), expected="a finite number"
                + (" >= 0 (molar)" if name == "dose_molar" else ""), found=repr(frame[name].iloc[i])[:100])  # fmt: skip
    out = frame.copy()
    out["dose_molar"] = pd.to_numeric(out["dose_molar"]).astype(float)
    out["response"] = pd.to_numeric(out["response"]).astype(float)
    out["curve_id"] = out["curve_id"].astype(str).to_numpy(dtype=object)
    from trkres.assays.doseresponse.io import _check_scale

    _check_scale(out["curve_id"], out["response"].to_numpy(), np.arange(len(out)), Path(_LABEL),
                 "response")  # fmt: skip
    return out


def fit(
    data: pd.DataFrame,
    model: str = "4pl",
    *,
    group: str | Sequence[str] | None = None,
    dose_unit: str | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Fit every curve: one row per curve (the columns of ``trkres fit``'s fits.tsv).

    ``data``: a table from :func:`prepare`, or a raw long table (then ``group`` and
    ``dose_unit`` are passed to :func:`prepare`). ``model``: 4pl, 3pl (Top = 1) or
    2pl (Top = 1, Bottom = 0); other options (``alpha``, ``robust``, ``vehicle``,
    ``engine``, ``scheduler``) as :class:`~.options.FitOptions`. IC50s are molar.
    """
    opts = validate_options(FitOptions, {"model": model, **options}, source="api")
    frame = _prepared(data, group, dose_unit)
    return _fit_prepared(frame, opts)


def _fit_prepared(frame: pd.DataFrame, opts: FitOptions) -> pd.DataFrame:
    from trkres.assays.doseresponse.curvefit import fit_curves

    if opts.engine == "dask":
        from trkres.assays.doseresponse.distributed import fit_curves_dask

        return fit_curves_dask(frame, scheduler=opts.scheduler, model=opts.model, alpha=opts.alpha,
                               robust=opts.robust, vehicle=opts.vehicle)  # fmt: skip
    return fit_curves(
        frame, model=opts.model, alpha=opts.alpha, robust=opts.robust, vehicle=opts.vehicle
    )


def compare(
    data: pd.DataFrame,
    condition: str = "line",
    reference: str = "parental",
    by: str | Sequence[str] | None = ("drug",),
    **options: Any,
) -> pd.DataFrame:
    """Fold resistance: each condition against ``reference`` within each ``by`` group.

    One row per group and condition (the columns of ``trkres resistance``'s
    resistance.tsv): fold change in IC50 with its 95% CI, the shared-LogIC50 F-test,
    the Emax shift and the call. ``data``: a table from :func:`prepare` holding the
    ``condition`` and ``by`` columns, or a raw long table (``dose_unit=`` then gives
    its unit). Other options (``threshold``, ``model``, ``robust``, ``dose_unit``)
    as :class:`~.options.DoseResponseOptions`; an unknown reference is an error
    listing the levels found.
    """
    from trkres.assays.doseresponse.run import run_compare

    values = {"condition": condition, "reference": reference,
              "by": _names(by, "by") or [], **options}  # fmt: skip
    opts = validate_options(DoseResponseOptions, values, source="api")
    frame = _frame(data, "data")
    missing = [c for c in [*opts.by, opts.condition] if c not in frame.columns]
    if missing:
        raise InputError("column not found", location=Location(file=_LABEL),
                         expected=", ".join(missing), found=", ".join(map(str, frame.columns))[:300])  # fmt: skip
    if "dose" not in frame.columns and set(PREPARED) <= set(frame.columns):
        result = run_compare([], opts, extra=[_prepared(frame, None, None)])
    else:
        prepared = prepare(frame, group=[*opts.by, opts.condition,
                                         *([opts.experiment] if opts.experiment else [])],
                           dose_unit=opts.dose_unit)  # fmt: skip
        result = run_compare([], opts, extra=[prepared])
    return result.comparisons


def escalation_series(
    data: pd.DataFrame,
    time: str = "passage",
    by: str | Sequence[str] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """A dose-escalation series: IC50 and fold change vs the first time point per series,
    and where resistance is established (the columns of ``trkres escalation``).

    ``data``: a raw long table (dose, response, unit or ``dose_unit=``) with the
    ``time`` column (numbers: passage, week) and the ``by`` columns.
    """
    from trkres.assays.doseresponse.run import run_escalation

    values = {"time": time, "by": _names(by, "by") or [], **options}
    opts = validate_options(EscalationOptions, values, source="api")
    frame = _frame(data, "data")
    missing = [c for c in [*opts.by, opts.time] if c not in frame.columns]
    if missing:
        raise InputError("column not found", location=Location(file=_LABEL),
                         expected=", ".join(missing), found=", ".join(map(str, frame.columns))[:300])  # fmt: skip
    result = run_escalation(frame.astype(object), opts)
    _raise_issues(result.issues)
    return result.series
