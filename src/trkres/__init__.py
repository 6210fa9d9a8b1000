"""trkres: acquired resistance to TRK inhibitors in NTRK-fusion cancers.

The Python API, as a notebook uses it::

    import trkres as tr

    data = tr.doseresponse.prepare(df, group=["drug", "line"], dose_unit="nM")
    fits = tr.doseresponse.fit(data)
    res = tr.doseresponse.compare(data, condition="line", reference="parental", by=["drug"])
    tr.pl.dose_response(data, fits, ax=ax)
    result = tr.study.run("path/to/study")
    result.write("out")

Namespaces (each imported on first use, so ``import trkres`` stays fast):
``genomics`` (classify resistance from sequencing), ``cfdna`` (serial cfDNA),
``doseresponse``, ``synergy``, ``ddpcr``, ``plates``, ``invivo``, ``western``, ``sanger`` (lab assays),
``signalling`` (the TRK signalling model), ``evolution`` (tumour evolution under regimens;
``models`` holds both), ``pl`` (figures), ``study`` (study folders, the report), ``knowledge`` (curated facts), ``units``. Every error trkres raises on
purpose is a :class:`trkres.errors.TrkresError`. See ``docs/architecture.md``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Public namespace → the module that holds it.
_NAMESPACES = {
    "genomics": "trkres.genomics",
    "cfdna": "trkres.genomics.cfdna_api",
    "doseresponse": "trkres.assays.doseresponse",
    "synergy": "trkres.assays.synergy",
    "ddpcr": "trkres.assays.ddpcr",
    "plates": "trkres.assays.plates",
    "invivo": "trkres.assays.invivo",
    "western": "trkres.assays.western",
    "sanger": "trkres.assays.sanger",
    "evolution": "trkres.models.evolution",
    "models": "trkres.models",
    "signalling": "trkres.models.signalling",
    "pl": "trkres.pl",
    "study": "trkres.study",
    "knowledge": "trkres.knowledge",
    "units": "trkres.units",
    "errors": "trkres.errors",
    "examples": "trkres.examples",
}

__all__ = [
    "__version__",
    "cfdna",
    "ddpcr",
    "doseresponse",
    "errors",
    "evolution",
    "examples",
    "genomics",
    "invivo",
    "knowledge",
    "models",
    "pl",
    "plates",
    "sanger",
    "signalling",
    "study",
    "synergy",
    "units",
    "western",
]

if TYPE_CHECKING:
    from trkres import errors, examples, genomics, knowledge, models, pl, study, units
    from trkres.assays import ddpcr, doseresponse, invivo, plates, sanger, synergy, western
    from trkres.genomics import cfdna_api as cfdna
    from trkres.models import evolution, signalling


def __getattr__(name: str) -> ModuleType:
    if name in _NAMESPACES:
        module = importlib.import_module(_NAMESPACES[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'trkres' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
