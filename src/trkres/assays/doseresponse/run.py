"""The dose-response analyses, one ``run_*`` function each: read, check, compute.

The command line (``trkres fit``, ``resistance``, ``gr``, ``escalation``), the
study's dose-response section and the Python API (:mod:`.api`) all call these.
Each returns a result dataclass holding every output table (the unusable rows
included) and what the figures need; nothing is written and nothing is drawn
here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.assays.doseresponse.curvefit import fit_curves
from trkres.assays.doseresponse.io import ISSUE_COLUMNS, check_long, curve_ids, read_long_lines
from trkres.assays.doseresponse.options import (
    DoseResponseOptions,
    EscalationOptions,
    FitOptions,
    GROptions,
)
from trkres.errors import InputError, Location, TrkresError
from trkres.study.registry import ProgressCallback, no_progress

__all__ = [
    "FRAME_LABEL",
    "CompareResult",
    "EscalationResult",
    "FitResult",
    "GRResult",
    "run_compare",
    "run_escalation",
    "run_fit",
    "run_gr",
]

#: How an in-memory table is named in messages and in the issues' ``file`` column.
FRAME_LABEL = "<DataFrame>"

#: A long dose-response table: a file (CSV, TSV, Parquet) or a DataFrame in memory.
LongInput = Path | pd.DataFrame


def _read(
    data: LongInput, group: Sequence[str] | None, dose_unit: str | None
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, str]:
    """(usable rows, unusable rows, their lines, the dose column) of a file or a frame."""
    if isinstance(data, pd.DataFrame):
        return check_long(data, FRAME_LABEL, group=group, dose_unit=dose_unit)
    if isinstance(data, Path):
        return read_long_lines(data, group=group, dose_unit=dose_unit)
    raise InputError(
        "wrong dose-response input", expected="a file path or a pandas DataFrame",
        found=type(data).__name__,
    )  # fmt: skip


def _label(data: LongInput) -> Path | str:
    return data if isinstance(data, Path) else FRAME_LABEL


@dataclass
class FitResult:
    """What ``trkres fit`` produces: one fit per curve, the rows that could not be used."""

    #: One row per curve (:data:`~trkres.assays.doseresponse.curvefit.FIT_COLUMNS`).
    fits: pd.DataFrame
    #: Unusable (or, with ``vehicle="ignore"``, ignored) rows: file, line, row, column, …
    issues: pd.DataFrame
    #: The usable rows: curve_id, dose_molar (molar), response (fraction of vehicle).
    data: pd.DataFrame
    options: FitOptions = field(default_factory=FitOptions)

    @property
    def n_vehicle(self) -> int:
        """Vehicle (dose 0) rows among the usable rows."""
        return int((self.data["dose_molar"] == 0).sum())


def run_fit(
    data: LongInput,
    options: FitOptions | None = None,
    *,
    toml: Path | None = None,
    progress: ProgressCallback = no_progress,
) -> FitResult:
    """Fit every curve of a long table (or of CurveCurator's wide table with ``toml``)."""
    from trkres.assays.doseresponse.io import read_curvecurator

    opts = options or FitOptions()
    if toml is not None:
        if not isinstance(data, Path):
            raise InputError("a CurveCurator table is read from a file", expected="a path",
                             found=type(data).__name__)  # fmt: skip
        frame, issues = read_curvecurator(data, toml), pd.DataFrame(columns=ISSUE_COLUMNS)
    else:
        frame, issues, lines, dose_column = _read(data, opts.group, opts.dose_unit)
        if opts.vehicle == "ignore":  # listed too, so rows in = rows used + rows listed
            veh = (frame["dose_molar"] == 0).to_numpy()
            ignored = pd.DataFrame({"file": str(_label(data)), "line": lines[veh], "row": lines[veh] - 1,
                                    "column": dose_column, "expected": "a dose > 0 (--vehicle ignore)",
                                    "found": "0", "action": "ignored"})  # fmt: skip
            issues = pd.concat([issues, ignored], ignore_index=True).sort_values(
                "line", kind="stable"
            )
    progress(0, 1, f"{len(frame)} rows")
    if opts.engine == "dask":
        try:
            from trkres.assays.doseresponse.distributed import fit_curves_dask
        except ImportError:  # pragma: no cover - depends on the install
            raise TrkresError(
                "the dask engine needs dask", hint="pip install 'trkres[dask]'"
            ) from None
        fits = fit_curves_dask(frame, scheduler=opts.scheduler, model=opts.model, alpha=opts.alpha,
                               robust=opts.robust, vehicle=opts.vehicle)  # fmt: skip
    else:
        fits = fit_curves(
            frame, model=opts.model, alpha=opts.alpha, robust=opts.robust, vehicle=opts.vehicle
        )
    progress(1, 1, "fitted")
    return FitResult(fits=fits, issues=issues, data=frame, options=opts)


@dataclass
class CompareResult:
    """Fold resistance: every condition against the reference within each group."""

    #: One row per group and condition (``COMPARISON_COLUMNS``); empty without the reference.
    comparisons: pd.DataFrame
    #: The curve fits (one per group × condition).
    fits: pd.DataFrame
    #: Unusable rows of the inputs (empty frame when there were no files or frames).
    issues: pd.DataFrame
    #: The usable rows, with curve_id, the ``by`` and condition columns.
    data: pd.DataFrame
    options: DoseResponseOptions
    #: The condition's levels (sorted, as text).
    levels: list[str]
    #: Whether the reference is one of ``levels`` (else no comparison was made).
    has_reference: bool
    #: With ``options.experiment``: pooled over experiments (random effect), and per experiment.
    pooled: pd.DataFrame | None = None
    by_experiment: pd.DataFrame | None = None


def run_compare(
    inputs: Sequence[LongInput],
    options: DoseResponseOptions | None = None,
    *,
    extra: Sequence[pd.DataFrame] = (),
    strict_reference: bool = True,
    progress: ProgressCallback = no_progress,
) -> CompareResult:
    """Fit the curves of ``inputs`` (and of ``extra``, already-checked long frames such
    as a study's single-drug plates) and compare each condition with the reference.

    With ``strict_reference`` an unknown reference is an error naming the levels found
    (raised before any fitting); without it the result has ``has_reference`` False and
    no comparisons.
    """
    from trkres.assays.doseresponse.resistance import (
        COMPARISON_COLUMNS,
        compare_conditions,
        pool_experiments,
    )

    opts = options or DoseResponseOptions()
    keys = [*opts.by, opts.condition]
    group = [*keys, *([opts.experiment] if opts.experiment else [])]
    reads = [_read(d, group, opts.dose_unit) for d in inputs]
    if len(reads) == 1:
        issues = reads[0][1]
    elif reads:
        issues = pd.concat([r[1] for r in reads], ignore_index=True)
    else:
        issues = pd.DataFrame(columns=ISSUE_COLUMNS)
    frames = [r[0] for r in reads] + list(extra)
    if not frames:
        raise InputError("no dose-response data", expected="a long table", found="none")
    data = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    data["curve_id"] = curve_ids(data, keys)
    levels = sorted(set(data[opts.condition].astype(str)))
    has_ref = opts.reference in levels
    if not has_ref and strict_reference:  # before any fitting: a typo must not cost a run
        raise InputError(f"reference '{opts.reference}' is not a level of column '{opts.condition}'",
                         location=Location(file=_label(inputs[0]) if inputs else None,
                                           column=opts.condition),
                         expected="one of: " + ", ".join(levels[:20]) + (" …" if len(levels) > 20 else ""),
                         found=opts.reference)  # fmt: skip
    progress(0, 1, f"{data['curve_id'].nunique()} curves")
    fits = fit_curves(data, model=opts.model, robust=opts.robust)
    if has_ref:
        comparisons = compare_conditions(data, condition=opts.condition, reference=opts.reference,
                                         by=opts.by, threshold=opts.threshold, fits=fits)  # fmt: skip
    else:
        comparisons = pd.DataFrame(columns=COMPARISON_COLUMNS)
    pooled = per = None
    if opts.experiment and has_ref:
        pooled, per = pool_experiments(data, condition=opts.condition, reference=opts.reference,
                                       experiment=opts.experiment, by=opts.by,
                                       threshold=opts.threshold, robust=opts.robust,
                                       model=opts.model)  # fmt: skip
    progress(1, 1, "compared")
    return CompareResult(comparisons=comparisons, fits=fits, issues=issues, data=data,
                         options=opts, levels=levels, has_reference=has_ref, pooled=pooled,
                         by_experiment=per)  # fmt: skip


@dataclass
class GRResult:
    """Growth-rate inhibition: GR values, metrics per experiment, optional comparison."""

    values: pd.DataFrame
    metrics: pd.DataFrame
    issues: pd.DataFrame
    options: GROptions
    #: With ``options.condition``: fold change of the metric against the reference line.
    resistance: pd.DataFrame | None = None


def run_gr(
    data: Path, options: GROptions | None = None, *, progress: ProgressCallback = no_progress
) -> GRResult:
    """GR values and metrics (GR50, GRmax, GR_AOC, GEC50, GRinf, Hill) of a counts table."""
    from trkres.assays.doseresponse.grmetrics import compare_gr, fit_gr, gr_values, read_gr_checked

    opts = options or GROptions()
    frame, issues = read_gr_checked(data)
    if "GR" not in frame.columns:
        frame["GR"] = gr_values(frame)
    progress(0, 1, "fitting GR curves")
    metrics = fit_gr(frame)
    resistance = None
    if opts.condition:
        if opts.condition not in metrics.columns:
            raise InputError(
                "condition column not found",
                expected=opts.condition,
                found=", ".join(map(str, metrics.columns)),
            )
        levels = sorted(set(metrics[opts.condition].astype(str)))
        if opts.reference not in levels:
            raise InputError(f"reference '{opts.reference}' is not a level of column '{opts.condition}'",
                             expected="one of: " + ", ".join(levels[:20]), found=opts.reference)  # fmt: skip
        resistance = compare_gr(
            metrics, condition=opts.condition, reference=opts.reference, metric=opts.metric
        )
    progress(1, 1, "fitted")
    return GRResult(values=frame, metrics=metrics, issues=issues, options=opts,
                    resistance=resistance)  # fmt: skip


@dataclass
class EscalationResult:
    """A dose-escalation series: IC50 and fold change vs the first time point per series."""

    series: pd.DataFrame
    issues: pd.DataFrame
    options: EscalationOptions


def run_escalation(
    data: LongInput,
    options: EscalationOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> EscalationResult:
    """Track IC50 over passages (or weeks) and where resistance is established."""
    from trkres.assays.doseresponse.escalation import track_escalation

    opts = options or EscalationOptions()
    frame, issues, _, _ = _read(data, [*opts.by, opts.time], opts.dose_unit)
    times = pd.to_numeric(frame[opts.time], errors="coerce")
    bad = ~np.isfinite(times.to_numpy(dtype=float))
    if bad.any():
        raise InputError(f"column '{opts.time}' must hold finite numbers (passage, week, day)",
                         location=Location(file=_label(data), column=opts.time), expected="numbers",
                         found=", ".join(map(str, pd.unique(frame.loc[bad, opts.time])[:5])))  # fmt: skip
    progress(0, 1, "fitting")
    series = track_escalation(frame, time=opts.time, by=opts.by, threshold=opts.threshold)
    progress(1, 1, "tracked")
    return EscalationResult(series=series, issues=issues, options=opts)
