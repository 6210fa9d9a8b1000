"""Imported once by the worker processes' template (the forkserver): every analysis and
its libraries, so each worker forked from it starts with them loaded (copy-on-write)
instead of importing them itself (1-2 s each)."""

import gc

from trkres.app import worker as _worker
from trkres.study.registry import analyses as _analyses
from trkres.study.runner import run as _run

_analyses()
# Workers fork from here: the imported modules stay shared (copy-on-write) and out of
# the garbage collector's walks.
gc.freeze()

__all__ = ["_run", "_worker"]
