"""``run_invivo``: a tumour-volume table → every in vivo table, the fitted model and notes.

The one orchestration of the in vivo analysis: ``trkres invivo``, the study section and
``tr.invivo.analyze`` call it; it reads, checks and computes, and writes nothing. The
compute modules (scipy, statsmodels) are imported on first use.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.assays.invivo.io import VolumesRead, check_volumes, read_volumes
from trkres.assays.invivo.options import InvivoOptions
from trkres.errors import InputError
from trkres.results import TableResult
from trkres.study.registry import ProgressCallback, no_progress

if TYPE_CHECKING:
    from trkres.assays.invivo.lmm import GrowthFit

__all__ = [
    "TABLE_TITLES",
    "Design",
    "InvivoResult",
    "model_json",
    "resolve_design",
    "run_invivo",
]

#: A volumes file (path) or a volumes table in memory.
VolumesInput = str | os.PathLike[str] | pd.DataFrame

#: What each table of :class:`InvivoResult` holds (the report's titles; file names drop ``invivo_``).
TABLE_TITLES = {
    "growth_model": "Growth model: slope of log relative volume per arm (1/day)",
    "contrasts": "Growth model: pairwise arm contrasts",
    "synergy": "Combination synergy over time (SynergyLMM: Bliss, HSA, response additivity)",
    "mrecist": "Per mouse: best response, best average response and mRECIST",
    "mrecist_distribution": "mRECIST classes per arm",
    "tgi": "Per arm: T/C and tumour growth inhibition",
    "curves": "Per arm: mean ± SEM volume by day",
    "growth_curves": "Per mouse: growth curve fits",
    "survival": "Time to endpoint per arm: Kaplan–Meier medians, log-rank and Cox",
    "logrank": "Time to endpoint: log-rank tests",
    "km": "Kaplan–Meier estimates",
    "influence": "Growth model: influence of each mouse (leave-one-mouse-out)",
    "random_effects": "Growth model: each mouse's random slope (BLUP)",
    "residuals": "Growth model: fitted values and residuals per measurement",
    "normality": "Growth model: Shapiro–Wilk tests of random slopes and residuals",
    "power": "Post hoc power of the combination test",
    "model_excluded": "Measurements left out of the growth model, and why",
    "issues": "Rows not used, and why",
}

_CONTROL_NAMES = {"control", "vehicle", "untreated", "placebo", "ctrl", "veh", "vehicle_control"}


@dataclass(frozen=True)
class Design:
    """Which arm is the control and which arms form the combination, and how that was decided."""

    control: str | None
    drugs: tuple[str, ...] = ()
    combination: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class InvivoResult(TableResult):
    """Every in vivo table by name, the fitted growth model, the design and the notes.

    A read-only mapping (``result["mrecist"]``) with attributes: :attr:`volumes` (the
    checked input), :attr:`fit` (the mixed model, ``None`` when it could not be fitted),
    :attr:`model` (``model.json``: variance parameters, random-slope SD, residual SD,
    log-likelihood, AIC, BIC), :attr:`design`, :attr:`notes` (what was decided, as sentences),
    :attr:`warnings` (what may bias a result, as sentences).
    """

    volumes: pd.DataFrame = field(default_factory=pd.DataFrame)
    fit: GrowthFit | None = None
    model: dict[str, Any] = field(default_factory=dict)
    design: Design = field(default_factory=lambda: Design(None))
    options: InvivoOptions = field(default_factory=InvivoOptions)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    source: str = ""
    rows_in: int = 0
    volume_unit: str = "mm³"

    @property
    def issues(self) -> pd.DataFrame:
        """Input rows not used, one per row, with the reason (``issues.tsv``)."""
        return self.tables["issues"]


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars as Python numbers, non-finite floats as ``null``."""
    import math

    import numpy as np

    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def model_json(result: InvivoResult) -> str:
    """``model.json``: the growth model's parameters and fit statistics, the design and notes."""
    import json

    design = result.design
    doc = {
        "source": result.source,
        "model": result.model,
        "design": {"control": design.control, "drugs": list(design.drugs),
                   "combination": design.combination},
        "options": result.options.model_dump(),
        "notes": list(result.notes),
        "warnings": list(result.warnings),
    }  # fmt: skip
    return json.dumps(_plain(doc), indent=2, allow_nan=False) + "\n"


def _split(name: str) -> list[str]:
    return [p.strip() for p in re.split(r"\s*(?:\+|&| and | with |_)\s*", name) if p.strip()]


def resolve_design(arms: list[str], options: InvivoOptions) -> Design:
    """The control and the combination: as given, or found from the arms' names (and said so)."""
    notes: list[str] = []
    known = set(arms)

    def check(role: str, arm: str | None) -> None:
        if arm is not None and arm not in known:
            raise InputError(f"the {role} arm is not in the data", expected="one of: "
                             + ", ".join(sorted(known))[:250], found=repr(arm))  # fmt: skip

    control = options.control
    check("control", control)
    if control is None:
        named = [a for a in arms if a.strip().lower().replace(" ", "_") in _CONTROL_NAMES]
        if len(named) == 1:
            control = named[0]
            notes.append(f"control arm: {control!r} (named like a control; set control to change)")
        else:
            notes.append("no control arm named (control/vehicle/untreated): T/C, TGI and the "
                         "contrasts against control are left out; set control")  # fmt: skip
    if options.combination is not None:
        drugs = tuple(d for d in (options.drug_a, options.drug_b, options.drug_c) if d is not None)
        for role, arm in (("combination", options.combination), *(("drug", d) for d in drugs)):
            check(role, arm)
        if control is None:
            raise InputError("a combination needs a control arm", expected="control=<arm>",
                             found="no control arm")  # fmt: skip
        return Design(control, drugs, options.combination, tuple(notes))
    if control is not None:
        lower = {a.lower(): a for a in arms}
        for arm in arms:
            parts = _split(arm)
            if len(parts) in (2, 3) and all(p.lower() in lower for p in parts):
                drugs = tuple(lower[p.lower()] for p in parts)
                if control in drugs or arm in drugs:
                    continue
                notes.append(f"combination arm: {arm!r} = " + " + ".join(map(repr, drugs))
                             + " (from the arm names; set drug_a, drug_b, combination to change)")  # fmt: skip
                return Design(control, drugs, arm, tuple(notes))
    return Design(control, (), None, tuple(notes))


#: A median baseline below this (mm³) is more likely cm³ than a measurable tumour in mm³.
SMALL_BASELINE = 5.0

#: Unit of the growth model's slopes.
SLOPE_UNIT = "1/day (natural log of relative volume per day)"


def _model_data(
    data: pd.DataFrame, options: InvivoOptions, notes: list[str], warnings: list[str]
) -> pd.DataFrame:
    """The volumes the growth model, synergy and power use: zeros after a mouse's baseline
    (tumours gone) are left out (log 0 is undefined; SynergyLMM does the same) or, with
    ``zero_volumes: floor``, set to half the smallest positive volume of the experiment."""
    first = ~data.duplicated("mouse_id", keep="first").to_numpy()
    zero = (data["volume"].to_numpy() <= 0) & ~first
    if not zero.any():
        return data
    per_arm = data.loc[zero, "arm"].value_counts().sort_index()
    listing = ", ".join(f"{arm} {n}" for arm, n in per_arm.items())
    if options.zero_volumes == "floor":
        floor = float(data.loc[data["volume"] > 0, "volume"].min()) / 2.0
        notes.append(f"{int(zero.sum())} volume(s) of 0 after baseline ({listing}) set to {floor:g} "
                     "(half the smallest positive volume) in the growth model, synergy and power")  # fmt: skip
        return data.assign(volume=np.where(zero, floor, data["volume"].to_numpy()))
    warnings.append(
        f"{int(zero.sum())} volume(s) of 0 after baseline (tumours gone: {listing}) are left out of "
        "the growth model, synergy and power (log 0 is undefined; SynergyLMM does the same), so "
        "those arms' slopes overstate growth; zero_volumes: floor uses half the smallest positive "
        "volume instead (see model_excluded)"
    )
    return data


def _aligned(
    modelled: pd.DataFrame, options: InvivoOptions, notes: list[str]
) -> tuple[pd.DataFrame, pd.Series | None]:
    """The growth model's input with each mouse's first day as its time zero, when mice start
    on different days and no ``time_start`` is set; with the offsets (days) to undo it.

    The model's own time zero is the table's first day (SynergyLMM's ``time_start``): a mouse
    without a measurement that day would be left out, although the reader took its first
    (non-zero) volume as its baseline, as mRECIST and survival do. The exponential slope does
    not depend on where time starts, so shifting each mouse keeps the model's meaning.
    """
    if options.time_start is not None:
        return modelled, None
    first = modelled.groupby("mouse_id", sort=False)["day"].transform("min")
    start = float(first.min())
    late = int(modelled.loc[first.to_numpy() > start, "mouse_id"].nunique())
    if not late:
        return modelled, None
    notes.append(
        f"{late} of {modelled['mouse_id'].nunique()} mice start after day {start:g}: the growth "
        "model, synergy and power take each mouse's first measurement as its time zero (time and "
        "synergy's day = days since that mouse's baseline"
        + ("; time_end counts from it too" if options.time_end is not None else "")
        + "); set time_start for one time zero for all mice (SynergyLMM's convention, which "
        "leaves out mice not measured that day)"
    )
    offset = modelled.groupby("mouse_id", sort=False)["day"].min()
    return modelled.assign(day=modelled["day"] - first), offset


def _study_days(frame: pd.DataFrame, offset: pd.Series | None) -> pd.DataFrame:
    """A model table's ``day`` back on the study's calendar (undo :func:`_aligned`)."""
    if offset is None or "day" not in frame or "mouse_id" not in frame:
        return frame
    shift = frame["mouse_id"].astype(str).map(offset).astype(float).fillna(0.0)
    return frame.assign(day=frame["day"] + shift)


def _left_out_warning(data: pd.DataFrame, fit: GrowthFit, warnings: list[str]) -> None:
    """Say which mice (and whole arms) the growth model left out, and the main reason:
    typically no measurement on its time zero, the first day of the table."""
    modelled = set(fit.data["mouse_id"].astype(str))
    mice = data.groupby("mouse_id", sort=False)["arm"].first()
    left = mice[~mice.index.isin(modelled)]
    if left.empty:
        return
    reasons = (
        fit.excluded[fit.excluded["mouse_id"].astype(str).isin(left.index)]
        .groupby("mouse_id")["reason"].first().value_counts()
    )  # fmt: skip
    per_arm = left.value_counts().sort_index()
    gone = sorted(set(per_arm.index) - set(fit.arms))
    text = (
        f"{len(left)} of {len(mice)} mice left out of the growth model and synergy ("
        + ", ".join(f"{arm} {n}" for arm, n in per_arm.items())
        + "): "
        + "; ".join(f"{n} with {reason}" for reason, n in reasons.items())
    )
    if gone:
        text += "; arm(s) not modelled at all: " + ", ".join(gone)
    warnings.append(text + " (see model_excluded; time_start sets the model's time zero)")


def _survival_tables(metrics: pd.DataFrame, control: str | None) -> dict[str, pd.DataFrame]:
    """``survival`` (per arm: n, events, median with CI, log-rank and Cox against the control),
    ``logrank`` (all arms and each arm against the control) and ``km`` (the curves)."""
    from trkres.assays.invivo import survival

    times = survival.endpoint_times(metrics)
    summary = survival.survival_summary(times)
    out = {"km": survival.km_table(times)}
    if control is not None and control in set(summary["arm"]) and summary["arm"].nunique() > 1:
        logrank = survival.logrank_tests(times, control=control)
        pair = logrank.iloc[1:].assign(arm=lambda f: f["comparison"].str.split(" vs ").str[0])
        cox = survival.cox_hazard_ratios(times, control=control)
        summary = summary.merge(
            pair[["arm", "chisq", "p_value"]].rename(columns={"chisq": "logrank_chisq",
                                                              "p_value": "logrank_p"}),
            on="arm", how="left",
        ).merge(
            cox[["arm", "hazard_ratio", "ci_low", "ci_high", "p_value", "note"]].rename(
                columns={"ci_low": "hr_ci_low", "ci_high": "hr_ci_high", "p_value": "cox_p",
                         "note": "cox_note"}),
            on="arm", how="left",
        )  # fmt: skip
        summary.insert(1, "control", control)
        summary["cox_model"] = (
            "one Cox model (Efron ties) with every arm; hazard ratio vs the control"
        )
        out["logrank"] = logrank
    elif summary["arm"].nunique() > 1:
        out["logrank"] = survival.logrank_tests(times)
    out["survival"] = summary
    return {k: out[k] for k in ("survival", "logrank", "km") if k in out}


def _read(volumes: VolumesInput, options: InvivoOptions) -> VolumesRead:
    kwargs = {"columns": options.columns, "time_unit": options.time_unit,
              "min_observations": options.min_observations}  # fmt: skip
    if isinstance(volumes, pd.DataFrame):
        return check_volumes(volumes, source="DataFrame", **kwargs)  # type: ignore[arg-type]
    if isinstance(volumes, (str, os.PathLike)):
        return read_volumes(Path(os.fspath(volumes)), **kwargs)  # type: ignore[arg-type]
    raise InputError("not a volumes table", expected="a path or a pandas DataFrame",
                     found=type(volumes).__name__)  # fmt: skip


def run_invivo(
    volumes: VolumesInput,
    options: InvivoOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> InvivoResult:
    """Every table ``trkres invivo`` writes, from one experiment's tumour volumes.

    ``volumes``: a CSV/TSV/Excel/Parquet path or a DataFrame (see
    :func:`~trkres.assays.invivo.io.check_volumes`). Volumes in mm³, days as the time,
    slopes in 1/day (of log relative volume). Raises :class:`InputError` for a table that
    cannot be read or for arms that are not in the data.
    """
    from trkres.assays.invivo import lmm, response, tgi

    options = options if options is not None else InvivoOptions()
    if not isinstance(options, InvivoOptions):
        raise InputError("wrong options object", expected="InvivoOptions",
                         found=type(options).__name__)  # fmt: skip
    steps = 7
    progress(0, steps, "reading volumes")
    read = _read(volumes, options)
    data = read.volumes
    notes = list(read.notes)
    warnings: list[str] = []
    tables: dict[str, pd.DataFrame] = {}
    if not len(data):
        tables["issues"] = read.issues
        notes.append("no usable measurement: nothing was computed")
        return InvivoResult(
            tables,
            data,
            None,
            {},
            Design(None),
            options,
            tuple(notes),
            (),
            read.source,
            read.rows_in,
            read.volume_unit,
        )
    if read.volume_unit == "mm³":
        base = float(data.groupby("mouse_id", sort=False)["volume"].first().median())
        if base < SMALL_BASELINE:
            warnings.append(
                f"the median baseline volume is {base:.3g} mm³, below what calipers measure: if "
                "the volumes are in cm³, name the column volume_cm3 (or 'Volume (cm3)') so it is "
                "converted; T/C, TGI and slopes are unit-free, but endpoint volumes, the curves' "
                "mm³ and the angle assume mm³"
            )
    design = resolve_design(sorted(data["arm"].unique()), options)
    notes.extend(design.notes)
    kind, value = options.endpoint
    endpoint = {"endpoint_fold": value} if kind == "fold" else {"endpoint_volume": value}
    if read.volume_unit != "mm³" and kind == "volume":
        raise InputError("an endpoint volume needs volumes in mm³", expected="endpoint_fold",
                         found=f"volumes in {read.volume_unit}")  # fmt: skip
    notes.append(f"survival endpoint: volume ≥ {value:g} × baseline" if kind == "fold"
                 else f"survival endpoint: volume ≥ {value:g} mm³")  # fmt: skip
    progress(1, steps, "per-mouse response")
    metrics = response.mouse_metrics(data, **endpoint)
    tables["mrecist"] = metrics
    tables["mrecist_distribution"] = tgi.mrecist_distribution(metrics)
    tables["curves"] = tgi.arm_curves(data)
    if design.control is not None:
        tables["tgi"] = tgi.tgi_table(data, control=design.control)
    progress(2, steps, "growth model")
    fit: GrowthFit | None = None
    model: dict[str, Any] = {}
    modelled, offset = _aligned(_model_data(data, options, notes, warnings), options, notes)
    try:
        # The option counts measurements with the baseline; the model counts rows after it.
        fit = lmm.fit_growth(modelled, variance=options.variance, time_start=options.time_start,
                             time_end=options.time_end,
                             min_observations=max(1, options.min_observations - 1))  # fmt: skip
    except InputError as exc:
        notes.append(f"growth model not fitted: {exc.message}")
    if fit is not None:
        growth = fit.table()
        first = [
            "arm",
            "slope",
            "slope_se",
            "slope_ci_low",
            "slope_ci_high",
            "n_mice",
            "n_observations",
        ]
        growth = growth[first + [c for c in growth.columns if c not in first]]
        tables["growth_model"] = growth.assign(slope_unit=SLOPE_UNIT)
        tables["contrasts"] = lmm.pairwise_contrasts(fit, robust=options.robust)
        model = {**fit.summary(), "slope_unit": SLOPE_UNIT, "time_unit": "day",
                 "volume_unit": read.volume_unit}  # fmt: skip
        if not fit.converged:
            warnings.append(f"growth model: {fit.message}")
        lone = sorted(a for a, n in fit.n_mice.items() if n < 2)
        if options.robust and lone:
            warnings.append("robust (CR2) tests need at least 2 mice per arm: contrasts and "
                            "synergy involving " + ", ".join(lone) + " have no standard error")  # fmt: skip
        if len(fit.excluded):
            tables["model_excluded"] = _study_days(fit.excluded, offset)
            _left_out_warning(data, fit, warnings)
    progress(3, steps, "growth curves")
    from trkres.assays.invivo import curves

    tables["growth_curves"] = curves.per_mouse_growth(data, model=options.growth)
    if design.combination is not None and fit is not None:
        progress(4, steps, "synergy over time")
        from trkres.assays.invivo.synergy import invivo_synergy

        drug_a, drug_b = design.drugs[0], design.drugs[1]
        drug_c = design.drugs[2] if len(design.drugs) > 2 else None
        try:
            tables["synergy"] = invivo_synergy(
                modelled, control=design.control or "", combination=design.combination,
                methods=tuple(options.synergy_methods), variance=options.variance,
                time_start=options.time_start, time_end=options.time_end,
                min_observations=max(1, options.min_observations - 1), robust=options.robust,
                seed=options.seed, drug_a=drug_a, drug_b=drug_b, drug_c=drug_c,
            )  # fmt: skip
        except InputError as exc:
            # e.g. a combination whose tumours all vanished: the other results still stand.
            notes.append(f"synergy not computed: {exc.message}")
        if options.power_simulations and "synergy" in tables:
            from trkres.assays.invivo.power import posthoc_power

            try:
                rows = [
                    posthoc_power(fit, modelled, combination=design.combination,
                                  control=design.control or "", method=method,
                                  nsim=options.power_simulations, seed=options.seed,
                                  robust=options.robust, drug_a=drug_a, drug_b=drug_b,
                                  drug_c=drug_c).as_dict()
                    for method in options.synergy_methods if method != "ra"
                ]  # fmt: skip
            except InputError as exc:
                notes.append(f"power not computed: {exc.message}")
            else:
                tables["power"] = pd.DataFrame(rows)
    progress(5, steps, "survival")
    tables.update(_survival_tables(metrics, design.control))
    progress(6, steps, "diagnostics")
    if fit is not None:
        n_mice = sum(fit.n_mice.values())
        influence = options.influence == "yes" or (
            options.influence == "auto" and "mouse" not in fit.variance and n_mice <= 100
        )
        if not influence and options.influence == "auto":
            notes.append(f"influence of each mouse not computed ({n_mice} mice, variance "
                         f"{fit.variance}: one refit per mouse); set influence: yes to compute it")  # fmt: skip
        diag = lmm.diagnostics(fit, influence=influence)
        for name in ("influence", "random_effects", "residuals", "normality"):
            if name in diag:
                tables[name] = _study_days(diag[name], offset)
    tables["issues"] = read.issues
    progress(steps, steps, "done")
    return InvivoResult(
        tables,
        data,
        fit,
        model,
        design,
        options,
        tuple(notes),
        tuple(warnings),
        read.source,
        read.rows_in,
        read.volume_unit,
    )
