"""Imported once by the worker processes' template (the forkserver): every analysis and
its libraries, so each worker forked from it starts with them loaded (copy-on-write)
instead of importing them itself (1-2 s each)."""

from trkres.app import worker as _worker
from trkres.study.registry import analyses as _analyses
from trkres.study.runner import run as _run

_analyses()

__all__ = ["_run", "_worker"]
