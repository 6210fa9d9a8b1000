"""The public in vivo API (``tr.invivo``): tumour volumes in memory or on disk → every result.

A volumes table is long: one row per mouse and day with ``mouse_id``, ``arm``, ``day``
and ``volume`` (mm³) — or caliper ``length``/``width`` (mm), or the layouts of Xeva,
tumr and SynergyLMM, found by column aliases or named with ``columns={...}``. Bad
arguments raise :class:`~trkres.errors.InputError`; bad rows are reported, never dropped
silently (``result.issues``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from trkres.assays.invivo.io import VolumesRead
from trkres.assays.invivo.options import InvivoOptions
from trkres.assays.invivo.run import InvivoResult, run_invivo
from trkres.errors import InputError
from trkres.options import validate_options

if TYPE_CHECKING:
    from trkres.assays.invivo.lmm import GrowthFit
    from trkres.assays.invivo.power import PowerResult

__all__ = [
    "analyze",
    "apriori_power",
    "fit_growth",
    "mice_per_arm",
    "mouse_metrics",
    "posthoc_power",
    "read",
    "synergy_over_time",
]

Volumes = pd.DataFrame | str | os.PathLike[str]


def _options(
    options: InvivoOptions | Mapping[str, Any] | None, kwargs: dict[str, Any]
) -> InvivoOptions:
    if options is not None and not isinstance(options, (InvivoOptions, Mapping)):
        raise InputError("wrong options object", expected="InvivoOptions or a dict",
                         found=type(options).__name__)  # fmt: skip
    return validate_options(InvivoOptions, options, source="api", **kwargs)


def _check_input(volumes: object) -> Volumes:
    if isinstance(volumes, (pd.DataFrame, str, os.PathLike)):
        return volumes
    raise InputError("not a volumes table", expected="a pandas DataFrame or a path to a CSV, "
                     "TSV or Excel file", found=type(volumes).__name__)  # fmt: skip


def read(
    volumes: Volumes, *, columns: Mapping[str, str] | None = None, time_unit: str = "auto",
    min_observations: int = 2,
) -> VolumesRead:  # fmt: skip
    """Read and check a volumes table: ``.volumes`` (mm³ by day), ``.issues``, ``.notes``.

    ``columns`` maps roles to column names (``{"mouse_id": "Animal", "volume": "TV"}``);
    ``time_unit`` is ``auto``, ``days`` or ``weeks``.
    """
    from trkres.assays.invivo.run import _read

    opts = _options(None, {"columns": dict(columns or {}), "time_unit": time_unit,
                           "min_observations": min_observations})  # fmt: skip
    return _read(_check_input(volumes), opts)


def analyze(
    volumes: Volumes,
    *,
    options: InvivoOptions | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> InvivoResult:
    """Every in vivo result of one experiment: mRECIST, T/C and TGI, the growth model,
    synergy over time, survival to an endpoint.

    Options are :class:`InvivoOptions` fields as keywords: ``control="Vehicle"``,
    ``drug_a=..., drug_b=..., combination=...``, ``variance="arm"``,
    ``endpoint_fold=2`` or ``endpoint_volume=1000`` (mm³) ... Returns an
    :class:`InvivoResult`: ``result["mrecist"]``, ``result["growth_model"]`` (slopes of
    log relative volume, 1/day), ``result["synergy"]``, ``result.fit``, ``result.issues``.

    Example::

        res = tr.invivo.analyze(df, control="Vehicle", variance="arm")
        res["growth_model"]
        tr.pl.invivo_growth(res)
    """
    opts = _options(options, kwargs)
    return run_invivo(_check_input(volumes), opts)


def _checked(
    volumes: Volumes, columns: Mapping[str, str] | None, min_observations: int = 2
) -> pd.DataFrame:
    """The checked volumes frame; unusable rows are dropped only after being reported
    (a warning names how many: use :func:`read` to see them)."""
    import logging

    got = read(volumes, columns=columns, min_observations=min_observations)
    if len(got.issues):
        logging.getLogger("trkres").warning(
            "%d of %d row(s) not used (see tr.invivo.read(...).issues)",
            len(got.issues),
            got.rows_in,
        )
    if not len(got.volumes):
        raise InputError("no usable measurement", expected="rows with mouse, arm, day and a volume",
                         found=f"{got.rows_in} row(s), none usable")  # fmt: skip
    return got.volumes


def _model_input(data: pd.DataFrame, opts: InvivoOptions) -> pd.DataFrame:
    """The growth model's input as :func:`analyze` builds it: with no ``time_start``, mice
    starting on different days are each counted from their own baseline (logged)."""
    import logging

    from trkres.assays.invivo.run import _aligned

    notes: list[str] = []
    aligned, _ = _aligned(data, opts, notes)
    for note in notes:
        logging.getLogger("trkres").info("%s", note)
    return aligned


def mouse_metrics(
    volumes: Volumes, *, endpoint_fold: float | None = None, endpoint_volume: float | None = None,
    columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Per mouse: best response and best average response (%), mRECIST (Gao et al. 2015),
    AUC, angle, doubling time (days) and the day the endpoint was reached (fold of baseline
    or mm³; default 2 × baseline)."""
    from trkres.assays.invivo.response import mouse_metrics as _metrics

    opts = _options(None, {"endpoint_fold": endpoint_fold, "endpoint_volume": endpoint_volume})
    kind, value = opts.endpoint
    data = _checked(volumes, columns)
    if kind == "fold":
        return _metrics(data, endpoint_fold=value)
    return _metrics(data, endpoint_volume=value)


def fit_growth(
    volumes: Volumes, *, variance: str = "none", time_start: float | None = None,
    time_end: float | None = None, columns: Mapping[str, str] | None = None,
    min_observations: int = 2,
) -> GrowthFit:  # fmt: skip
    """The growth model: ``log(V_t/V_0) ~ 0 + time:arm`` with a random slope per mouse, REML,
    with nlme's variance functions (``none``, ``arm``, ``mouse``, ``time-power``,
    ``arm+time-power``, ``mouse+time-power``). ``.table()`` gives the slopes (1/day) with
    CIs, ``.contrast(...)`` any arm contrast, ``.summary()`` the parameters.

    ``min_observations`` counts a mouse's usable measurements with its baseline, as
    :func:`analyze` does (2: a mouse with one measurement after the baseline is modelled,
    as SynergyLMM's ``lmmModel`` models it). Without ``time_start``, mice that start on
    different days each count time from their own baseline, as :func:`analyze`."""
    from trkres.assays.invivo.lmm import fit_growth as _fit

    opts = _options(None, {"variance": variance, "time_start": time_start, "time_end": time_end,
                           "min_observations": min_observations})  # fmt: skip
    # the option counts the baseline, the model counts rows after it (as run_invivo)
    data = _model_input(_checked(volumes, columns, opts.min_observations), opts)
    return _fit(data, variance=opts.variance,
                time_start=opts.time_start, time_end=opts.time_end,
                min_observations=max(1, opts.min_observations - 1))  # fmt: skip


def synergy_over_time(
    volumes: Volumes, *, control: str, drug_a: str, drug_b: str, combination: str,
    drug_c: str | None = None, methods: Sequence[str] = ("bliss", "hsa", "ra"),
    variance: str = "none", robust: bool = False, time_start: float | None = None,
    seed: int = 0, columns: Mapping[str, str] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Combination synergy at every time (SynergyLMM, Demidenko & Miller 2019): combination
    index with 95% CI (< 1 synergy), synergy score (> 0 synergy) and p-value per method."""
    from trkres.assays.invivo.synergy import invivo_synergy

    if isinstance(methods, str):
        methods = [methods]
    opts = _options(None, {"control": control, "drug_a": drug_a, "drug_b": drug_b,
                           "drug_c": drug_c, "combination": combination,
                           "synergy_methods": list(methods), "variance": variance,
                           "robust": robust, "time_start": time_start, "seed": seed})  # fmt: skip
    data = _checked(volumes, columns)
    from trkres.assays.invivo.run import resolve_design

    design = resolve_design(sorted(data["arm"].unique()), opts)
    data = _model_input(data, opts)
    return invivo_synergy(
        data, control=design.control or control, drug_a=drug_a, drug_b=drug_b, drug_c=drug_c,
        combination=combination, methods=tuple(opts.synergy_methods), variance=opts.variance,
        robust=opts.robust, time_start=opts.time_start, seed=opts.seed,
    )  # fmt: skip


def posthoc_power(
    volumes: Volumes, *, control: str, drug_a: str, drug_b: str, combination: str,
    drug_c: str | None = None, method: str = "bliss", variance: str = "none", nsim: int = 200,
    alpha: float = 0.05, seed: int = 0, columns: Mapping[str, str] | None = None,
) -> PowerResult:  # fmt: skip
    """Post hoc power of the combination test (Bliss or HSA) by simulating the experiment's
    own design from its fitted growth model ``nsim`` times (with the analytic power beside)."""
    from trkres.assays.invivo.power import posthoc_power as _power
    from trkres.assays.invivo.run import resolve_design

    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InputError("bad option alpha", expected="a significance level, 0 < alpha < 1",
                         found=repr(alpha))  # fmt: skip
    if not (isinstance(nsim, int) and nsim >= 1):
        raise InputError(
            "bad option nsim", expected="a number of simulations >= 1", found=repr(nsim)
        )
    opts = _options(None, {"control": control, "drug_a": drug_a, "drug_b": drug_b,
                           "drug_c": drug_c, "combination": combination, "variance": variance,
                           "seed": seed})  # fmt: skip
    data = _checked(volumes, columns)
    resolve_design(sorted(data["arm"].unique()), opts)  # arms must be in the data
    data = _model_input(data, opts)
    fit = fit_growth(data, variance=opts.variance)
    return _power(fit, data, control=control, drug_a=drug_a, drug_b=drug_b, drug_c=drug_c,
                  combination=combination, method=method, nsim=nsim, alpha=alpha, seed=seed)  # fmt: skip


def apriori_power(**design: Any) -> PowerResult:
    """A priori power of the combination test for a planned experiment (see
    :func:`trkres.assays.invivo.power.apriori_power`: ``n_mice_per_arm``, ``times`` (days
    after the baseline), ``slopes`` per arm (1/day), ``tau``, ``sigma``, the arms ...)."""
    from trkres.assays.invivo.power import apriori_power as _apriori

    try:
        return _apriori(**design)
    except TypeError as exc:  # a missing or unknown keyword: say which, as an input error
        raise InputError("bad design for apriori_power", expected="keywords n_mice_per_arm, times, "
                         "slopes, tau, sigma, control, drug_a, drug_b, combination (see "
                         "help(tr.invivo.apriori_power))", found=str(exc)) from None  # fmt: skip


def mice_per_arm(target_power: float = 0.8, **design: Any) -> tuple[int, pd.DataFrame]:
    """The smallest number of mice per arm reaching ``target_power`` (see
    :func:`trkres.assays.invivo.power.mice_per_arm`); returns (n, every n tried)."""
    from trkres.assays.invivo.power import mice_per_arm as _mice

    try:
        return _mice(target_power, **design)
    except TypeError as exc:
        raise InputError("bad design for mice_per_arm", expected="the keywords of "
                         "tr.invivo.apriori_power except n_mice_per_arm", found=str(exc)) from None  # fmt: skip
