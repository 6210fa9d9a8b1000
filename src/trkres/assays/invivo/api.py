"""The public in vivo API (``tr.invivo``): tumour volumes in memory or on disk → every result.

A volumes table is long: one row per mouse and day with ``mouse_id``, ``arm``, ``day``
and ``volume`` (mm³) — or caliper ``length``/``width`` (mm), or the layouts of Xeva,
tumr and SynergyLMM, found by column aliases or named with ``columns={...}``. Bad
arguments raise :class:`~trkres.errors.InputError`; bad rows are reported, never dropped
silently (``result.issues``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from trkres.assays.invivo.io import VolumesRead
from trkres.assays.invivo.options import InvivoOptions
from trkres.assays.invivo.run import InvivoResult, run_invivo
from trkres.errors import InputError
from trkres.options import validate_options

__all__ = ["analyze", "read"]

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
