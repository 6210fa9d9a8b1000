"""Checks of tables and paths handed over in memory (the Python API), shared by every domain.

A reader of files reports file, line and column; a DataFrame given in Python gets the same
care here: it must be a DataFrame, its column names flat and unique, its cells single values.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location

__all__ = ["check_frame", "check_path", "check_table", "check_texts", "tables_or_paths"]


def check_table(frame: object, what: str) -> pd.DataFrame:
    """``frame`` if it is a DataFrame with flat, unique column names (compared trimmed and
    case-folded); :class:`InputError` otherwise. Cheap: no cell is looked at."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{what} is not a table", expected="a pandas DataFrame",
                         found=type(frame).__name__)  # fmt: skip
    if isinstance(frame.columns, pd.MultiIndex):
        raise InputError(f"{what} has MultiIndex columns", expected="flat column names",
                         found="a MultiIndex")  # fmt: skip
    names = [str(c).strip().lower() for c in frame.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"{what} repeats column names (a column is named twice)",
                         expected="unique column names", found=", ".join(twice)[:200])  # fmt: skip
    return frame


def check_frame(frame: object, what: str) -> pd.DataFrame:
    """:func:`check_table`, then one value per cell; returned with its index reset and its
    column names as text (what the readers of small tables -- plates, combinations -- need)."""
    frame = check_table(frame, what).reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    for c in frame.columns:
        if frame[c].dtype == object:
            bad = frame[c].map(
                lambda v: isinstance(v, list | tuple | dict | set | bytes | pd.DataFrame)
            )
            if bad.any():
                r = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(f"a cell of the {what} holds a collection",
                                 location=Location(file="<table>", row=r + 1, column=str(c)),
                                 expected="one value per cell", found=repr(frame[c].iloc[r])[:80])  # fmt: skip
    return frame


def check_path(path: object, what: str) -> Path:
    """``path`` as a :class:`~pathlib.Path` a file can be opened at (text, no NUL character)."""
    if not isinstance(path, str | Path):
        raise InputError(f"not a path to a {what}", expected="a str or pathlib.Path",
                         found=type(path).__name__)  # fmt: skip
    if "\x00" in str(path) or not str(path).strip():
        raise InputError(f"not a path to a {what}", expected="a file name",
                         found=repr(str(path))[:80])  # fmt: skip
    return Path(path)


def tables_or_paths(obj: object, what: str) -> list[pd.DataFrame | str | os.PathLike[str]]:
    """One DataFrame or path, or a list of them, as a non-empty list; ``what`` names the table
    in the messages (e.g. ``"ddPCR wells"``). Raises :class:`InputError` otherwise."""
    items: list[Any]
    if isinstance(obj, pd.DataFrame | str | os.PathLike):
        items = [obj]
    elif isinstance(obj, Sequence):
        items = list(obj)
    else:
        raise InputError(f"no {what} given", expected=f"a {what} DataFrame, a path, or a list of them",
                         found=type(obj).__name__)  # fmt: skip
    if not items:
        raise InputError(f"no {what} given", expected=f"at least one {what} table or file",
                         found="an empty list")  # fmt: skip
    for item in items:
        if not isinstance(item, pd.DataFrame | str | os.PathLike):
            raise InputError(f"not a {what} table or file", expected="a DataFrame or a path",
                             found=type(item).__name__)  # fmt: skip
    return items


def check_texts(value: object, what: str) -> list[str]:
    """One text or a non-empty list of non-blank texts (genotypes, treatments …) as a list."""
    if isinstance(value, str):
        return [value]
    if (isinstance(value, Sequence) and value
            and all(isinstance(v, str) and v.strip() for v in value)):  # fmt: skip
        return list(value)
    raise InputError(f"bad {what}", expected=f"one text or a non-empty list of {what}",
                     found=repr(value)[:80])  # fmt: skip
