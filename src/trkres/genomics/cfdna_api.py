"""The public cfDNA API (``tr.cfdna``): serial VAF → molecular response and emergence.

::

    import trkres as tr
    res = tr.cfdna.track(measurements, timeline=timeline_df, vaf_unit="fraction")
    res.emergence; res.response; res.measurements
    tr.pl.cfdna(res, patient="P1")

``measurements`` has one row per sample and alteration: ``sample``, ``patient``,
``collection_day`` (days), ``gene``, ``alteration``, ``vaf`` (or ``alt_count`` and
``ref_count``) and optionally ``detection_limit`` and ``assay`` (the column aliases of
the file reader are accepted). VAF and detection limit are in ``vaf_unit``. Bad
arguments raise :class:`~trkres.errors.InputError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from trkres.errors import InputError
from trkres.frames import tables_or_paths
from trkres.genomics.cfdna import CfdnaResult
from trkres.genomics.cfdna_options import CfdnaOptions
from trkres.genomics.cfdna_run import run_cfdna
from trkres.options import validate_options

__all__ = ["CfdnaOptions", "CfdnaResult", "run_cfdna", "track"]

Table = pd.DataFrame | str | os.PathLike[str]


def track(
    measurements: Table | Sequence[Table],
    *,
    timeline: Table | None = None,
    ddpcr: Any = None,
    vaf_unit: str = "fraction",
    knowledge: Any = None,
    options: CfdnaOptions | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> CfdnaResult:
    """VAF over time, molecular response and emerging resistance per patient.

    ``measurements``: a DataFrame or a path (or a list of them); ``timeline``: a
    cBioPortal treatment timeline (DataFrame or path), drawn by ``tr.pl.cfdna``;
    ``ddpcr``: quantified ddPCR wells joined by sample (``tr.ddpcr.quantify``'s result
    or its ``wells`` table; targets named ``GENE ALTERATION``); ``vaf_unit``:
    ``fraction`` (0-1) or ``percent`` (0-100). Other options are
    :class:`CfdnaOptions` fields as keywords: ``response_fall`` (fraction of the
    baseline VAF, 0.5 = a 50% fall), ``response_metric`` (mean or max),
    ``confirm_next``. ``knowledge``: a :class:`~trkres.knowledge.store.KnowledgeBase`
    (default: the shipped one). Returns a :class:`CfdnaResult` (``measurements``,
    ``response``, ``emergence``, ``issues``, ``timeline``).
    """
    from trkres.knowledge.store import KnowledgeBase

    if options is not None and not isinstance(options, (CfdnaOptions, Mapping)):
        raise InputError("wrong options object", expected="CfdnaOptions or a dict",
                         found=type(options).__name__)  # fmt: skip
    opts = validate_options(CfdnaOptions, options, source="api", vaf_unit=vaf_unit, **kwargs)
    if knowledge is not None and not isinstance(knowledge, KnowledgeBase):
        raise InputError("bad option knowledge", expected="a KnowledgeBase (trkres.knowledge.load_knowledge())",
                         found=type(knowledge).__name__)  # fmt: skip
    tables = tables_or_paths(measurements, "cfDNA")
    if timeline is not None and not isinstance(timeline, (pd.DataFrame, str, os.PathLike)):
        raise InputError("bad option timeline", expected="a timeline DataFrame or a path",
                         found=type(timeline).__name__)  # fmt: skip
    wells = None
    if ddpcr is not None:
        if isinstance(ddpcr, Mapping) and isinstance(ddpcr.get("ddpcr_wells"), pd.DataFrame):
            wells = ddpcr["ddpcr_wells"]
        elif isinstance(ddpcr, pd.DataFrame):
            wells = ddpcr
        else:
            raise InputError("bad option ddpcr", expected="tr.ddpcr.quantify's result or its wells table",
                             found=type(ddpcr).__name__)  # fmt: skip
    return run_cfdna(tables, opts, knowledge=knowledge, timeline=timeline, ddpcr_wells=wells)
