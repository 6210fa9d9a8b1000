"""The synergy API for notebooks: score a checkerboard held in a DataFrame.

::

    import trkres as tr

    result = tr.synergy.score(df, response="viability", conc_unit="nM", models=["bliss", "zip"])
    result.summary            # one row per block: each model's score with its CI
    result.matrix             # one row per dose pair
    tr.pl.synergy_heatmap(result, model="zip")

``df`` is in SynergyFinder's layout: ``block_id, drug1, drug2[, drug3], conc1,
conc2[, conc3], response`` with the unit in a ``conc_unit`` column or given as
``conc_unit=`` (M, mM, uM, nM, pM); replicates are repeated rows. Options are those
of :class:`~trkres.assays.synergy.options.SynergyOptions` (the same as
``trkres synergy`` and study.yaml's ``options: {synergy: …}``). Every bad argument
or table raises a :class:`~trkres.errors.TrkresError` subclass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from trkres.assays.synergy.io import Combinations, from_frame
from trkres.assays.synergy.options import SynergyOptions
from trkres.assays.synergy.run import SynergyInput, SynergyResult, run_synergy
from trkres.errors import InputError
from trkres.frames import check_frame
from trkres.options import validate_options

__all__ = ["SynergyOptions", "SynergyResult", "combinations", "score"]


def _options(options: object, kwargs: dict[str, Any]) -> SynergyOptions:
    if options is not None and not isinstance(options, Mapping | BaseModel):
        raise InputError("options must be SynergyOptions or a mapping", expected="SynergyOptions, dict or None",
                         found=type(options).__name__)  # fmt: skip
    if isinstance(options, Mapping) and not all(isinstance(k, str) for k in options):
        raise InputError("option names must be text", expected="str keys",
                         found=", ".join(repr(k) for k in options if not isinstance(k, str))[:200])  # fmt: skip
    if isinstance(options, BaseModel) and not isinstance(options, SynergyOptions):
        return validate_options(
            SynergyOptions, options, source="api"
        )  # raises: wrong options object
    base = options.model_dump() if isinstance(options, SynergyOptions) else dict(options or {})
    return validate_options(SynergyOptions, {**base, **kwargs}, source="api")


def _check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return check_frame(frame, "combination table")


def _inputs(data: object) -> SynergyInput | list[SynergyInput]:
    if isinstance(data, pd.DataFrame):
        return _check_frame(data)
    if isinstance(data, str | Path | Combinations):
        return data
    if (
        isinstance(data, Sequence)
        and data
        and all(isinstance(d, str | Path | pd.DataFrame | Combinations) for d in data)
    ):
        return [_check_frame(d) if isinstance(d, pd.DataFrame) else d for d in data]
    raise InputError(
        "not a combination table",
        expected="a DataFrame in SynergyFinder's layout, a path, or a list of them",
        found=type(data).__name__,
    )


def combinations(
    data: pd.DataFrame,
    *,
    response: str = "inhibition",
    conc_unit: str | None = None,
) -> Combinations:
    """A checked combination table: concentrations in molar, responses in % inhibition
    (see :mod:`trkres.assays.synergy.io`); :func:`score` takes it as it is."""
    opts = _options(None, {"response": response, "conc_unit": conc_unit})
    return from_frame(_check_frame(data), response=opts.response, conc_unit=opts.conc_unit)


def score(
    data: pd.DataFrame | Combinations | Path | str | Sequence[pd.DataFrame | Path | str],
    options: SynergyOptions | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> SynergyResult:
    """Score every block of ``data``: Bliss, HSA, Loewe, ZIP (SynergyFinder 3's
    definitions), CSS, MuSyC and the combination index, with replicate-bootstrap CIs.

    Keyword options (:class:`SynergyOptions`): ``response`` (``"inhibition"`` %,
    ``"viability"`` % of vehicle or ``"viability_fraction"``), ``conc_unit``, ``models``,
    ``n_boot``, ``seed``, ``ci``, ``musyc``, ``condition`` with ``reference`` (compare
    each line's synergy with the reference line's) and ``adjust``. Scores are observed −
    expected % inhibition in percentage points (> 0 synergy); concentrations are molar.
    Returns a :class:`SynergyResult` (``summary``, ``matrix``, ``singles``, ``musyc``,
    ``combination_index``, ``proliferation``, ``resensitisation``; ``tables()``).
    """
    opts = _options(options, kwargs)
    return run_synergy(_inputs(data), opts)
