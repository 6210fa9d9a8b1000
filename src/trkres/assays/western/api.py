"""The public western API (``tr.western``): blot images in, bands and normalised fold changes out.

Images are paths (TIFF, PNG, JPEG) or 2-D arrays of grey levels; layouts and ROI tables
are paths or DataFrames. Volumes are grey levels × pixels above background; ratios and
fold changes are unitless. Bad arguments raise :class:`~trkres.errors.InputError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from trkres.assays.western.options import BlotOptions
from trkres.assays.western.run import BlotResult, run_blot
from trkres.errors import InputError
from trkres.options import validate_options

__all__ = ["blot", "combine"]

Image = str | os.PathLike[str] | np.ndarray
Table = str | os.PathLike[str] | pd.DataFrame


def _check(value: object, what: str, kinds: tuple[type, ...], expected: str) -> None:
    if value is not None and not isinstance(value, kinds):
        raise InputError(f"bad {what}", expected=expected, found=type(value).__name__)


def blot(
    image: Image,
    *,
    loading: Image | None = None,
    layout: Table | None = None,
    rois: Table | None = None,
    loading_channel: str | None = None,
    blot: str | None = None,
    options: BlotOptions | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> BlotResult:
    """Bands, lanes, per-lane signals and (with ``loading`` and ``layout``) fold changes.

    Options are :class:`BlotOptions` fields as keywords: ``lanes=12``, ``background="local"``,
    ``radius=50``, ``target="pERK"``, ``loading_target="GAPDH"``, ``doublet="sum"`` ...
    Returns a :class:`BlotResult`: ``result["bands"]``, ``result["quantified"]``.

    Example::

        res = tr.western.blot("pERK.tif", loading="GAPDH.tif", layout="lanes.tsv", lanes=12)
        res["quantified"][["lane", "condition", "ratio", "fold_change"]]
        tr.pl.blot_overlay(res)
    """
    _check(image, "image", (str, os.PathLike, np.ndarray), "a path or a 2-D array")
    _check(loading, "loading", (str, os.PathLike, np.ndarray), "a path or a 2-D array")
    _check(layout, "layout", (str, os.PathLike, pd.DataFrame), "a path or a DataFrame")
    _check(rois, "rois", (str, os.PathLike, pd.DataFrame), "a path or a DataFrame")
    if image is None:
        raise InputError("no image", expected="a path or a 2-D array", found="None")
    if options is not None and not isinstance(options, (BlotOptions, Mapping)):
        raise InputError("wrong options object", expected="BlotOptions or a dict",
                         found=type(options).__name__)  # fmt: skip
    opts = validate_options(BlotOptions, options, source="api", **kwargs)
    return run_blot(image, opts, loading=loading, layout=layout, rois=rois,
                    loading_channel=loading_channel,
                    blot=None if blot is None else str(blot))  # fmt: skip


def combine(
    results: list[BlotResult] | list[pd.DataFrame], *, reference: str | None = None
) -> dict[str, pd.DataFrame]:
    """Replicate blots combined: per target and condition the geometric mean fold change
    with its 95% CI (t on log2), and t-tests between conditions (paired by blot when every
    blot has both, Welch otherwise; Holm-adjusted). ``results``: :func:`blot` results
    (each with a layout, and a distinct ``blot``) or their ``quantified`` tables."""
    from trkres.assays.western.quantify import (
        compare_conditions,
        distinct_blots,
        replicate_summary,
    )

    if not isinstance(results, list) or not results:
        raise InputError("nothing to combine", expected="a list of tr.western.blot results",
                         found=repr(results)[:100])  # fmt: skip
    tables = []
    for item in results:
        table = item.tables.get("quantified") if isinstance(item, BlotResult) else item
        if not isinstance(table, pd.DataFrame) or "fold_change" not in table:
            raise InputError("a result without fold changes", expected="results quantified with "
                             "a layout (control lanes)", found=type(item).__name__)  # fmt: skip
        tables.append(table)
    distinct_blots(tables, [f"result {k + 1}" for k in range(len(tables))],
                   "blot= in tr.western.blot; the default is '1'")  # fmt: skip
    fc = pd.concat(tables, ignore_index=True)
    return {"summary": replicate_summary(fc), "tests": compare_conditions(fc, reference=reference)}
