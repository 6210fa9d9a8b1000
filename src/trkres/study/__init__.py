"""Study folders: a ``study.yaml`` naming the inputs, every analysis they allow, one report.

In Python::

    import trkres as tr

    result = tr.study.run("path/to/study")     # computed in memory
    result.tables["dose_response_fits"]        # every table as a DataFrame
    result.write("out")                        # index.html, tables/, figures/, run.json

The command line's ``trkres analyze STUDY -o OUT`` is ``run(STUDY).write(OUT)``.
Names are imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name → the module that holds it.
_NAMES = {
    "run": "trkres.study.runner",
    "StudyResult": "trkres.study.runner",
    "RunResult": "trkres.study.runner",
    "run_study": "trkres.study.runner",
    "check_study": "trkres.study.runner",
    "load_study": "trkres.study.manifest",
    "Study": "trkres.study.manifest",
    "InputKind": "trkres.study.manifest",
}

__all__ = [
    "InputKind",
    "RunResult",
    "Study",
    "StudyResult",
    "check_study",
    "load_study",
    "run",
    "run_study",
]

if TYPE_CHECKING:
    from trkres.study.manifest import InputKind, Study, load_study
    from trkres.study.runner import RunResult, StudyResult, check_study, run, run_study


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'trkres.study' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
