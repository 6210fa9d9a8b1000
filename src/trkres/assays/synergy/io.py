"""Drug-combination tables in: SynergyFinder's long layout, two or more drugs.

SynergyFinder 3 layout (one row per well or per dose tuple, replicates as
repeated rows): ``block_id, drug1, drug2[, drug3 …], conc1, conc2[, conc3 …],
response`` and either one ``conc_unit`` column or ``conc_unit1 …`` per drug.
The older two-drug layout (``drug_row, drug_col, conc_r, conc_c, conc_r_unit,
conc_c_unit``) is read too. Other columns (``cell_line_name``, ``line``…) are
block metadata and must be constant within a block.

Responses become **% inhibition** (0 = vehicle, 100 = no viable cells), the
convention of SynergyFinder: ``response="viability"`` means % of vehicle and is
turned into 100 − viability; ``"viability_fraction"`` means a fraction of
vehicle (1 = no effect). Concentrations become molar.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.assays.plates.io import read_delimited_text, show_cell, text_suffix
from trkres.assays.synergy.options import ResponseKind
from trkres.errors import InputError, Location
from trkres.units import to_molar

#: Largest |median % inhibition| accepted at the vehicle (every dose 0): vehicle wells define
#: 0 %, so a median beyond this means the response kind is wrong (viability read as inhibition).
MAX_VEHICLE_INHIBITION = 50.0
#: Responses beyond ±1000 % inhibition (viability below −900 % or above 1100 % of vehicle)
#: are not measurements but a wrong unit or --response: refused rather than fitted.
MAX_ABS_INHIBITION = 1000.0
#: No drug is dosed above 1 mol/L in a cell assay: a higher concentration is a wrong unit.
MAX_MOLAR = 1.0

_OLD_LAYOUT = {"drug_row": "drug1", "drug_col": "drug2", "conc_r": "conc1", "conc_c": "conc2",
               "conc_r_unit": "conc_unit1", "conc_c_unit": "conc_unit2"}  # fmt: skip


@dataclass
class Combinations:
    """Dose-response matrices in long form.

    ``data``: one row per measurement -- ``block_id``, ``conc1 … concN`` (molar)
    and ``response`` (% inhibition); replicates are repeated rows, never
    averaged here. ``blocks``: one row per block -- ``block_id``,
    ``drug1 … drugN`` and any metadata columns.
    """

    data: pd.DataFrame
    blocks: pd.DataFrame
    n_drugs: int

    @property
    def conc_columns(self) -> list[str]:
        return [f"conc{i + 1}" for i in range(self.n_drugs)]

    @property
    def drug_columns(self) -> list[str]:
        return [f"drug{i + 1}" for i in range(self.n_drugs)]


def _first_bad(mask: pd.Series | np.ndarray) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0])


def _refuse_copies(frame: pd.DataFrame, where: str) -> None:
    """Identical rows: with a well/replicate column, one measurement given twice (an error naming
    both rows: it would count twice); without one, replicates with equal readings (a warning)."""
    from trkres.assays.doseresponse.io import REPLICATE_COLUMNS

    dup = frame.astype(str).duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    rows = np.flatnonzero(dup)
    if any(str(c).strip().lower() in REPLICATE_COLUMNS for c in frame.columns):
        r = int(rows[0])
        same = frame.astype(str).iloc[:r].eq(frame.astype(str).iloc[r]).all(axis=1).to_numpy()
        first = int(np.flatnonzero(same)[0])
        raise InputError("the same measurement twice", location=Location(file=where, row=r + 1),
                         expected="each row once (its replicate id included)",
                         found=f"rows {first + 1} and {r + 1} identical in every column")  # fmt: skip
    logging.getLogger(__name__).warning(
        "%s: %d row(s) identical to an earlier row (data rows %s), used as replicates with equal "
        "readings; add a replicate column if they are copies",
        where, len(rows), ", ".join(str(r + 1) for r in rows[:5]) + (" ..." if len(rows) > 5 else ""),
    )  # fmt: skip


def from_frame(
    frame: pd.DataFrame,
    *,
    response: ResponseKind = "inhibition",
    conc_unit: str | None = None,
    path: Path | str | None = None,
) -> Combinations:
    """Validate and normalise a combination table already in memory (see the module doc)."""
    where = str(path) if path is not None else "<table>"
    frame = frame.rename(columns={c: _OLD_LAYOUT.get(str(c).lower(), c) for c in frame.columns})
    frame = frame.rename(columns={c: str(c).lower() for c in frame.columns
                                  if re.fullmatch(r"(?i)(drug|conc|conc_unit)\d+|block_id|response|conc_unit", str(c))})  # fmt: skip
    n_drugs = 0
    while f"drug{n_drugs + 1}" in frame.columns and f"conc{n_drugs + 1}" in frame.columns:
        n_drugs += 1
    if n_drugs < 2:
        raise InputError("not a drug-combination table", location=Location(file=where, line=1),
                         expected="block_id, drug1, drug2, conc1, conc2, response (SynergyFinder layout)",
                         found=", ".join(map(str, frame.columns)))  # fmt: skip
    for need in ("block_id", "response"):
        if need not in frame.columns:
            raise InputError("combination table lacks a column", location=Location(file=where, line=1),
                             expected=need, found=", ".join(map(str, frame.columns)))  # fmt: skip
    if frame.empty:
        raise InputError("combination table has no rows", location=Location(file=where, line=2),
                         expected="at least one measurement", found="none")  # fmt: skip
    if frame["block_id"].isna().any():
        r = _first_bad(frame["block_id"].isna())
        raise InputError("missing block_id", location=Location(file=where, row=r + 1, column="block_id"),
                         expected="a block identifier on every row", found="empty")  # fmt: skip
    data = pd.DataFrame({"block_id": frame["block_id"].astype(str)})
    for i in range(1, n_drugs + 1):
        col = f"conc{i}"
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() | ~np.isfinite(values) | (values < 0)
        if bad.any():
            r = _first_bad(bad)
            raise InputError("bad concentration", location=Location(file=where, row=r + 1, column=col),
                             expected="a finite number ≥ 0", found=show_cell(frame[col].iloc[r]))  # fmt: skip
        unit_col = next((u for u in (f"conc_unit{i}", "conc_unit") if u in frame.columns), None)
        if unit_col is None and conc_unit is None:
            raise InputError("concentration unit unknown", location=Location(file=where, line=1),
                             expected=f"a conc_unit or conc_unit{i} column, or a unit option (M, mM, uM, nM, pM)",
                             found="neither")  # fmt: skip
        unit = frame[unit_col] if unit_col is not None else str(conc_unit)
        molar = to_molar(values, unit, Path(where))
        too_high = molar > MAX_MOLAR
        if too_high.any():
            r = _first_bad(too_high)
            raise InputError("impossible concentration", location=Location(file=where, row=r + 1, column=col),
                             expected=f"at most {MAX_MOLAR:g} M (is the unit right?)",
                             found=f"{float(molar.iloc[r]):g} M")  # fmt: skip
        data[col] = molar.to_numpy()
    values = pd.to_numeric(frame["response"], errors="coerce")
    bad = values.isna() | ~np.isfinite(values)
    if bad.any():
        r = _first_bad(bad)
        raise InputError("non-numeric response" if pd.isna(values.iloc[r]) else "non-finite response",
                         location=Location(file=where, row=r + 1, column="response"),
                         expected="a finite number", found=show_cell(frame["response"].iloc[r]))  # fmt: skip
    inhibition = {
        "inhibition": values,
        "viability": 100.0 - values,
        "viability_fraction": 100.0 * (1.0 - values),
    }[response]
    impossible = inhibition.abs() > MAX_ABS_INHIBITION
    if impossible.any():
        r = _first_bad(impossible)
        raise InputError("impossible response", location=Location(file=where, row=r + 1, column="response"),
                         expected=f"{response} giving % inhibition within ±{MAX_ABS_INHIBITION:g} "
                                  "(is --response right?)",
                         found=show_cell(frame["response"].iloc[r]))  # fmt: skip
    data["response"] = {
        "inhibition": values,
        "viability": 100.0 - values,
        "viability_fraction": 100.0 * (1.0 - values),
    }[response].to_numpy(dtype=float)
    vehicle = np.ones(len(data), dtype=bool)
    for i in range(1, n_drugs + 1):
        vehicle &= data[f"conc{i}"].to_numpy(dtype=float) == 0
    if vehicle.any():  # vehicle wells are 0 % inhibition by definition: far off, the kind is wrong
        # Block by block: one block in another scale (a fraction among percentages) is
        # outvoted in a median over the whole table.
        at_vehicle = (
            data.loc[vehicle, ["block_id", "response"]]
            .groupby("block_id", sort=False)["response"]
            .median()
        )
        off = at_vehicle[at_vehicle.abs() > MAX_VEHICLE_INHIBITION]
        if len(off):
            block = off.index[0]
            rows = np.flatnonzero(vehicle & (data["block_id"] == block).to_numpy())
            raise InputError(
                f"responses at the vehicle (every dose 0) of block {block} read as "
                f"{float(off.iloc[0]):.1f} % inhibition",
                location=Location(file=where, row=int(rows[0]) + 1, column="response"),
                expected=f"about 0 % inhibition at the vehicle: is response={response!r} right "
                "(inhibition in %, viability in % of vehicle, viability_fraction), and is every "
                "block in the same scale?",
                found=f"median {response} {float(values.iloc[rows].median()):g} at the vehicle"
                + (f" (of {len(off)} blocks: {', '.join(map(str, off.index[:5]))})" if len(off) > 1 else ""),
            )  # fmt: skip

    _refuse_copies(frame, where)
    skip = {"block_id", "response", *(f"conc{i}" for i in range(1, n_drugs + 1)),
            *(f"conc_unit{i}" for i in range(1, n_drugs + 1)), "conc_unit"}  # fmt: skip
    meta = [c for c in frame.columns if c not in skip and c != "replicate"]
    for c in meta:
        if frame[c].isna().any():
            r = _first_bad(frame[c].isna())
            raise InputError("missing value", location=Location(file=where, row=r + 1, column=str(c)),
                             expected="a value (drug names and block metadata are required)", found="empty")  # fmt: skip
    keyed = frame[meta].astype(str).assign(block_id=data["block_id"].to_numpy())
    varying = keyed.groupby("block_id", sort=False)[meta].nunique()
    many = np.argwhere(varying.to_numpy() > 1)
    if len(many):
        block, col = varying.index[many[0][0]], meta[many[0][1]]
        vals = keyed.loc[keyed["block_id"] == block, col]
        r = int(vals.index[(vals != vals.iloc[0]).to_numpy()][0])
        raise InputError(f"block {block} has more than one value in '{col}'",
                         location=Location(file=where, row=r + 1, column=str(col)),
                         expected=repr(vals.iloc[0]), found=repr(keyed.at[r, col]))  # fmt: skip
    blocks = keyed.drop_duplicates("block_id")[["block_id", *meta]].reset_index(drop=True)
    return Combinations(data=data.reset_index(drop=True), blocks=blocks, n_drugs=n_drugs)


def read_combinations(
    path: Path, *, response: ResponseKind = "inhibition", conc_unit: str | None = None
) -> Combinations:
    """Read a combination table (CSV, TSV, either gzipped, or Parquet) in SynergyFinder's layout.

    Text must be UTF-8 (a BOM and any line ends are fine); every line has the header's fields.
    """
    suffix = text_suffix(path)
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read combination table: {exc}", location=Location(file=path),
                             expected="a Parquet file") from None  # fmt: skip
    else:
        frame = read_delimited_text(path, "combination table", "," if suffix == ".csv" else "\t")
    return from_frame(frame, response=response, conc_unit=conc_unit, path=path)
