"""Progress reporting for long work: the callback type every ``run_*`` accepts.

Kept apart from the study registry so the CLI can name it without importing the
registry (pydantic, YAML, entry points: a quarter of a second before ``--help``)."""

from __future__ import annotations

from typing import Protocol


class ProgressCallback(Protocol):
    """Reports progress of long work; the CLI shows it as a progress bar."""

    def __call__(self, done: int, total: int, label: str) -> None: ...


def no_progress(done: int, total: int, label: str) -> None:
    """A progress callback that does nothing (the API default)."""
