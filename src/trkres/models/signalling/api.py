"""The public signalling API (``tr.signalling``): what should this genotype do under this regimen?

Genotypes are written as a biologist writes them (``"LMNA::NTRK1 + NTRK1 G595R + KRAS G12D"``),
treatments as ``drug=dose`` pairs joined by ``+`` (``"selitrectinib=50nM+binimetinib=50nM"``).
Bad arguments raise :class:`~trkres.errors.InputError` naming what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from trkres.errors import InputError
from trkres.frames import check_texts
from trkres.models.signalling.calibrate import CalibrationResult
from trkres.models.signalling.options import SignalOptions
from trkres.models.signalling.run import SignalResult, run_signal
from trkres.models.signalling.virtual import virtual_plate, virtual_western, write_virtual_plate
from trkres.options import validate_options

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase
    from trkres.models.signalling.network import Network

__all__ = [
    "calibrate",
    "export_sbml",
    "model",
    "simulate",
    "virtual_plate",
    "virtual_western",
    "write_virtual_plate",
]


def simulate(
    genotypes: str | Sequence[str],
    treatments: str | Sequence[str],
    *,
    options: SignalOptions | Mapping[str, Any] | None = None,
    knowledge: KnowledgeBase | None = None,
    calibration: CalibrationResult | None = None,
    **kwargs: Any,
) -> SignalResult:
    """Simulate each genotype under each treatment (``none`` is added as the reference).

    Keyword options (see :class:`SignalOptions`): ``times_h`` (readout times, hours;
    default 2 and 24), ``viability_h`` (72), ``dose_points`` (single-drug curves; 0 skips
    them), ``rtol``. Returns a :class:`SignalResult`: ``result["readouts"]`` (tidy:
    genotype, treatment, time_h, readout, value as a fraction of untreated),
    ``result.readout("pERK")`` (genotype × treatment), ``result["ic50"]`` …
    ``calibration``: a :func:`calibrate` result whose fitted parameters replace the shipped ones.
    """
    if calibration is not None and not isinstance(calibration, CalibrationResult):
        raise InputError("wrong calibration object", expected="the result of tr.signalling.calibrate",
                         found=type(calibration).__name__)  # fmt: skip
    if options is not None and not isinstance(options, (SignalOptions, Mapping)):
        raise InputError("wrong options object", expected="SignalOptions or a dict",
                         found=type(options).__name__)  # fmt: skip
    values = dict(options.model_dump() if isinstance(options, SignalOptions) else options or {})
    values.update(
        genotypes=check_texts(genotypes, "genotypes"),
        treatments=check_texts(treatments, "treatments"),
    )
    opts = validate_options(SignalOptions, values, source="api", **kwargs)
    _check_knowledge(knowledge)
    overrides = calibration.overrides if calibration is not None else None
    return run_signal(opts, knowledge=knowledge, overrides=overrides)


def _check_knowledge(knowledge: object) -> None:
    from trkres.knowledge.store import KnowledgeBase as _KB

    if knowledge is not None and not isinstance(knowledge, _KB):
        raise InputError("bad knowledge", expected="a KnowledgeBase (tr.knowledge.load())",
                         found=type(knowledge).__name__)  # fmt: skip


def calibrate(
    observations: pd.DataFrame,
    parameters: Sequence[str],
    **kwargs: Any,
) -> CalibrationResult:
    """Fit model parameters to a lab's fold changes and IC50s, with profile-likelihood CIs.

    ``observations``: rows of ``genotype, treatment, time_h, readout, value`` (fold change
    vs untreated, e.g. a western's pERK) and/or ``kind="ic50", genotype, drug, value`` (nM);
    optional ``se`` of the log value. ``parameters``: core parameter names or
    ``potency:<drug>``. See :mod:`trkres.models.signalling.calibrate`.
    """
    from trkres.models.signalling.calibrate import calibrate as fit

    return fit(observations, parameters, **kwargs)


def model() -> Network:
    """The TRK-fusion network (species, parameters with units and sources, reactions)."""
    from trkres.models.signalling.trk import trk_network

    return trk_network()


def export_sbml(path: str | Path | None = None) -> str:
    """The TRK network as SBML Level 3 Version 2 text; also written to ``path`` when given
    (atomically). Needs python-libsbml (``pip install trkres[sbml]``)."""
    from trkres.models.signalling.sbml import to_sbml, write_sbml
    from trkres.models.signalling.trk import trk_network

    net = trk_network()
    if path is None:
        return to_sbml(net)
    if not isinstance(path, (str, Path)):
        raise InputError("bad path", expected="a file path", found=type(path).__name__)
    if Path(path).is_dir():
        raise InputError("the path is a folder", expected="a file path (e.g. trk.sbml.xml)",
                         found=str(path))  # fmt: skip
    write_sbml(net, path)
    return Path(path).read_text(encoding="utf-8")
