"""One error hierarchy for everything trkres reports to a user.

Every error that reaches the command line is a :class:`TrkresError`. Errors
about input data carry *where* (file, line or row, column) and *what* (what was
expected, what was found), so the CLI can print a message a scientist can act
on without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Location:
    """Where in an input something went wrong.

    ``line`` and ``column`` are 1-based, as editors show them. ``row`` is the
    1-based data row of a table (header excluded) when that is more useful than
    a line number; ``column`` may be a column *name* for tables.
    """

    file: Path | str | None = None
    line: int | None = None
    column: int | str | None = None
    row: int | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts)


@dataclass
class TrkresError(Exception):
    """Base class of every error trkres raises on purpose.

    ``message`` says what went wrong; ``expected`` and ``found`` say it
    precisely; ``hint`` says what to do about it.
    """

    message: str
    location: Location | None = None
    expected: str | None = None
    found: str | None = None
    hint: str | None = None
    details: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        lines = []
        where = _clip(str(self.location)) if self.location else ""
        message = _clip(self.message)
        lines.append(f"{where}: {message}" if where else message)
        if self.expected is not None:
            lines.append(f"  expected: {_clip(self.expected)}")
        if self.found is not None:
            lines.append(f"  found:    {_clip(self.found)}")
        lines.extend(f"  {_clip(d)}" for d in self.details[:MAX_DETAILS])
        if len(self.details) > MAX_DETAILS:
            lines.append(f"  … and {len(self.details) - MAX_DETAILS} more")
        if self.hint:
            lines.append(f"  hint: {_clip(self.hint)}")
        return "\n".join(lines)


#: Longest part of an error message printed (characters): a found value may be a
#: whole line of a hostile file (seen: 10 million characters).
MAX_PART = 300

#: Most detail lines printed under an error.
MAX_DETAILS = 20


def _clip(text: str) -> str:
    """``text`` cut to :data:`MAX_PART` characters, saying how much was left out."""
    if len(text) <= MAX_PART:
        return text
    return f"{text[: MAX_PART - 40]}… ({len(text) - MAX_PART + 40:,} more characters)"


class InputError(TrkresError):
    """An input file or argument is missing, malformed or inconsistent."""


class ManifestError(InputError):
    """A study manifest (``study.yaml``) is invalid."""


class KnowledgeError(TrkresError):
    """The knowledge base (shipped or user-supplied) is invalid."""


class ComputationError(TrkresError):
    """A computation could not be carried out on otherwise valid input."""


class OutputError(TrkresError):
    """An output could not be written."""
