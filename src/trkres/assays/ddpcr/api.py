"""The public ddPCR API (``tr.ddpcr``): quantify wells, call detection with EP17 limits.

Wells tables in memory are first-class: a DataFrame with ``well``, ``sample``,
``target``, ``accepted_droplets`` and ``positives`` (and optionally ``channel``,
``ch1_positives``, ``ch2_positives``, ``target_type``) plus its droplet volume in nL,
which is never guessed for a table. Exports and ``*_Amplitude.csv`` files are read
as ``trkres ddpcr`` reads them. Concentrations are copies/µL, fractional
abundance percent. Bad arguments raise :class:`~trkres.errors.InputError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from trkres.assays.ddpcr.options import DdpcrOptions
from trkres.assays.ddpcr.run import DdpcrResult, is_amplitude_file, run_ddpcr, with_limits
from trkres.errors import InputError
from trkres.frames import tables_or_paths
from trkres.options import validate_options

__all__ = ["detect", "quantify"]

Wells = pd.DataFrame | str | os.PathLike[str]


def _options(
    options: DdpcrOptions | Mapping[str, Any] | None, kwargs: dict[str, Any]
) -> DdpcrOptions:
    if options is not None and not isinstance(options, (DdpcrOptions, Mapping)):
        raise InputError("wrong options object", expected="DdpcrOptions or a dict",
                         found=type(options).__name__)  # fmt: skip
    return validate_options(DdpcrOptions, options, source="api", **kwargs)


def quantify(
    wells: Wells | Sequence[Wells],
    *,
    droplet_volume_nl: float | None = None,
    options: DdpcrOptions | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> DdpcrResult:
    """Concentrations (copies/µL, Poisson CI), fractional abundance (%), calls and merged replicates.

    ``wells``: a wells DataFrame, a path to a QuantaSoft / QX Manager export or a
    ``*_Amplitude.csv`` droplet file, or a list of them. ``droplet_volume_nl`` is the
    droplet volume in nL (required for a DataFrame unless it has a ``droplet_volume_nl``
    column; for files it overrides the volume their header implies). Other options
    are :class:`DdpcrOptions` fields as keywords (``interval="wilson"``,
    ``detection_vaf=0.001``, ``blank_samples=[...]`` ...). Returns a
    :class:`DdpcrResult`: ``.wells`` (one row per well and target), ``.merged``,
    ``.limits``, or any table by name.

    Example::

        res = tr.ddpcr.quantify(df, droplet_volume_nl=0.85)
        res.wells[["well", "target", "concentration", "fractional_abundance"]]
    """
    opts = _options(options, {**kwargs, "droplet_volume_nl": droplet_volume_nl}
                    if droplet_volume_nl is not None else kwargs)  # fmt: skip
    items = tables_or_paths(wells, "ddPCR wells")
    for item in items:
        if (
            droplet_volume_nl is not None
            and isinstance(item, pd.DataFrame)
            and "droplet_volume_nl" in item.columns
        ):  # both stated: they must agree, or one would win silently
            stated = pd.to_numeric(item["droplet_volume_nl"], errors="coerce").dropna().unique()
            if len(stated) and not (abs(stated - droplet_volume_nl) <= 1e-12).all():
                raise InputError(
                    "droplet_volume_nl contradicts the table's droplet_volume_nl column",
                    expected=f"{droplet_volume_nl:g} nL (as given), or no argument",
                    found=", ".join(f"{v:g}" for v in stated[:5]) + " nL",
                )
    return run_ddpcr(
        [i for i in items if not is_amplitude_file(i)],
        [i for i in items if is_amplitude_file(i)],
        opts,
    )


def detect(
    result: DdpcrResult | pd.DataFrame,
    *,
    blank: Sequence[str],
    low: Sequence[str],
    target: str | None = None,
    method: str = "parametric",
) -> DdpcrResult:
    """Detection calls from CLSI EP17 limits set by named blank and low-level samples.

    ``result`` is :func:`quantify`'s result (or its ``wells`` table); ``blank`` are
    wild-type-only or NTC samples (LoB), ``low`` low-level samples (LoD), ``target``
    the target whose wells give the limits and whose wells are re-called (may be
    ``None`` only when the blank and low wells hold one target), ``method``
    ``parametric`` or ``nonparametric``. Limits are in copies/µL. Returns a new
    result whose wells are called ``detected`` (> LoD), ``below_lod`` (> LoB) or
    ``not_detected`` (failed wells stay failed), with the ``ddpcr_limits`` table.
    """
    from trkres.assays.ddpcr.pipeline import WELL_OUTPUT, merge_replicates

    if isinstance(result, DdpcrResult):
        wells, tables = result.wells, dict(result)
    elif isinstance(result, pd.DataFrame):
        wells, tables = result, {}
    else:
        raise InputError("nothing to call", expected="a ddPCR result (tr.ddpcr.quantify) or its wells table",
                         found=type(result).__name__)  # fmt: skip
    missing = [c for c in WELL_OUTPUT if c not in wells.columns]
    if missing:
        raise InputError("not a quantified ddPCR wells table", expected="the columns of "
                         "tr.ddpcr.quantify(...).wells", found="missing " + ", ".join(missing[:8]))  # fmt: skip
    for name, value in (("blank", blank), ("low", low)):
        if isinstance(value, str):
            raise InputError(
                f"bad option {name}", expected="a list of sample names", found=repr(value)[:300]
            )
    opts = validate_options(DdpcrOptions, source="api", blank_samples=blank, low_samples=low,
                            limits_target=target, limits_method=method)  # fmt: skip
    if not opts.blank_samples or not opts.low_samples:
        raise InputError("EP17 limits need blank and low-level samples",
                         expected="at least one blank and one low sample", found=f"blank {blank!r}, low {low!r}"[:300])  # fmt: skip
    known = set(wells["sample"].astype(str))
    for name, samples in (("blank", opts.blank_samples), ("low", opts.low_samples)):
        absent = [s for s in samples if s not in known]
        if absent:
            raise InputError(f"{name} sample not in the wells", expected="one of: "
                             + ", ".join(sorted(known))[:300], found=", ".join(map(repr, absent))[:300])  # fmt: skip
    called, limits = with_limits(wells.reset_index(drop=True), opts)
    tables.pop("ddpcr_wells", None)
    tables.pop("ddpcr_merged", None)
    if limits is not None:
        tables["ddpcr_limits"] = limits
    out = {"ddpcr_wells": called, **tables, "ddpcr_merged": merge_replicates(called)}
    return DdpcrResult(out)
