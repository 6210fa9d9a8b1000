"""The input paths of the run in progress, so no output can replace them.

The CLI declares every path argument of the command being run (except its
output); :func:`trkres.outputs.atomic_directory` refuses an output folder that
equals or holds one of them. Kept apart from :mod:`trkres.outputs` so the CLI
can declare inputs without importing pandas.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator
from pathlib import Path

_DECLARED: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar(
    "trkres_declared_inputs", default=()
)


@contextlib.contextmanager
def declared_inputs(paths: Iterable[Path]) -> Iterator[None]:
    """Within the block, ``paths`` count as inputs of the run for every output written."""
    token = _DECLARED.set((*_DECLARED.get(), *paths))
    try:
        yield
    finally:
        _DECLARED.reset(token)


def current_inputs() -> tuple[Path, ...]:
    """The inputs declared by the enclosing :func:`declared_inputs` blocks."""
    return _DECLARED.get()
