"""Argument checks shared by the public plotting functions.

A figure takes a result table; handed something else (a path, a table from another
analysis, a table with text where numbers belong) it says so as an
:class:`~trkres.errors.InputError` naming the argument, instead of failing deep inside
pandas or matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from trkres.errors import InputError
from trkres.frames import check_table

__all__ = ["axes_or_new", "require_axes", "require_columns", "require_frame"]


def require_frame(
    obj: Any,
    name: str,
    *,
    source: str,
    text: Sequence[str] = (),
    numeric: Sequence[str] = (),
    allow_empty: bool = False,
) -> pd.DataFrame:
    """``obj`` as a DataFrame with columns ``text`` (any values) and ``numeric`` (numbers).

    ``name`` is the argument's name and ``source`` what produces such a table (for the
    message). Raises :class:`InputError` on anything else.
    """
    frame = check_table(obj, name)
    require_columns(frame, name, [*text, *numeric], source=source)
    for column in numeric:
        values = frame[column]
        if not is_numeric_dtype(values.dtype):
            raise InputError(
                f"{name}: column '{column}' holds {values.dtype}", expected="numbers",
                found=str(values.dtype),
            )  # fmt: skip
    if frame.empty and not allow_empty:
        raise InputError(f"{name} is empty", expected=f"rows from {source}", found="0 rows")
    # Nullable number columns (Float64, Int64, arrow) as plain floats, NA as NaN: the
    # plots test values with NumPy (np.isfinite(pd.NA) is an error). A new frame: the
    # caller's is left as it is.
    nullable = [c for c in numeric if isinstance(frame[c].dtype, pd.api.extensions.ExtensionDtype)]
    if nullable:
        frame = frame.assign(
            **{str(c): frame[c].to_numpy(dtype=float, na_value=np.nan) for c in nullable}
        )
    return frame


def require_columns(frame: pd.DataFrame, name: str, columns: Sequence[str], *, source: str) -> None:
    """Raise :class:`InputError` unless ``frame`` has every one of ``columns``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(map(str, list(frame.columns)[:12])) or "(no columns)"
        raise InputError(
            f"{name} lacks column(s) {', '.join(missing)}",
            expected=f"the table {source} returns", found=f"columns: {shown}",
        )  # fmt: skip


def require_axes(ax: Any) -> None:
    """Raise :class:`InputError` unless ``ax`` is None or a matplotlib Axes."""
    from matplotlib.axes import Axes

    if ax is not None and not isinstance(ax, Axes):
        raise InputError(
            "ax is not a matplotlib Axes", expected="None (a new figure) or an Axes",
            found=type(ax).__name__,
        )  # fmt: skip


def axes_or_new(ax: Any, width: float = 6.0, height: float = 3.5) -> Any:
    """``ax`` when it is a matplotlib Axes, else (``None``) a new figure's axes of
    ``width`` × ``height`` inches, made with pyplot so a notebook shows it inline."""
    require_axes(ax)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(width, height))
    return ax
