"""Units trkres reads and states: concentrations (to molar) and allele fractions.

Every table trkres writes names its unit in the column (``dose_molar``, ``ic50`` in M,
``copies_per_ul``) or in its caption; every reader that accepts a unit takes it from a
column or an explicit option, never from a guess.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location

#: Molar factor of each concentration unit.
UNITS = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "µm": 1e-6, "μm": 1e-6, "nm": 1e-9, "pm": 1e-12}


def molar_factor(unit: str) -> float:
    """The molar factor of a concentration unit (``uM``, ``µM``, ``nmol/L`` ...), NaN for
    any other text (``ng/mL``)."""
    return UNITS.get(str(unit).strip().lower().replace("mol/l", "m"), np.nan)


def molar_factors(units: pd.Series) -> pd.Series:
    """:func:`molar_factor` of each cell (each distinct text looked up once)."""
    codes, uniques = pd.factorize(units, use_na_sentinel=False)
    known = np.asarray([molar_factor(u) for u in uniques], dtype=float)
    return pd.Series(known[codes], index=units.index)


def to_molar(dose: pd.Series, unit: pd.Series | str, path: Path | None = None,
             rows: np.ndarray | None = None) -> pd.Series:  # fmt: skip
    """Doses in molar; an unknown unit is an error naming it (``rows``: 0-based data rows, for the message)."""
    units = (
        unit.set_axis(dose.index)
        if isinstance(unit, pd.Series)
        else pd.Series(unit, index=dose.index)
    )
    factor = molar_factors(units)
    bad = factor.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        data_row = int(rows[row]) if rows is not None else row
        raise InputError(
            "unknown concentration unit",
            location=Location(file=path, line=data_row + 2, row=data_row + 1, column="unit")
            if path
            else None,
            expected=f"one of {', '.join(sorted(UNITS))}",
            found=repr(units.iloc[row]),
        )
    return dose.astype(float) * factor.astype(float)


#: Largest dose accepted, in molar: beyond it a number is not a concentration (pure water is 55 M).
MAX_DOSE_MOLAR = 1e6

#: Units of a variant allele fraction column: a fraction (0-1) or a percent (0-100).
VAF_UNITS = ("fraction", "percent")
