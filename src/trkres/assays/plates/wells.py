"""Plate maps, normalisation to vehicle and plate QC; plates → dose-response and combination tables.

A plate map says what each well holds: ``well``, ``role`` (``sample``,
``vehicle``, ``blank``, ``positive_control`` or ``empty``), and for samples
the ``cell_line`` (or ``line``), drugs (``drug`` or ``drug1``, ``drug2`` …)
and doses (``dose``/``conc`` or ``dose1``/``conc1`` …) with a ``unit`` (or
``dose_unit``/``conc_unit``), optionally ``replicate`` and ``plate`` (without
it, the layout applies to every plate of the export). CSV/TSV, or YAML::

    plate_size: 96
    unit: nM
    wells:
      - {wells: "A1:H1", role: vehicle, cell_line: parental}
      - {wells: "A2:A11", role: sample, cell_line: parental, drug: larotrectinib,
         dose: [0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000, 3000]}

(a range runs along a row or down a column; list values are given one per well.)

Normalisation per plate (and cell line, when vehicles name one): the blank
mean is subtracted, then % viability = 100 · signal / vehicle mean.
QC per plate: Z′ = 1 − 3(σ_vehicle + σ_positive) / |μ_vehicle − μ_positive|
(Zhang et al. 1999, doi:10.1177/108705719900400206) when positive controls
exist, CV % of each control, the edge-to-interior ratio of vehicle wells, and
linear row and column trends of the vehicle wells (OLS p-values).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

from trkres.assays.doseresponse.io import curve_ids
from trkres.assays.plates.io import (
    SIZES,
    parse_well,
    plate_size,
    read_delimited_text,
    read_text_file,
    show_cell,
    text_suffix,
    well_name,
)
from trkres.assays.synergy.io import MAX_MOLAR
from trkres.errors import InputError, Location
from trkres.textio import check_unique_header
from trkres.units import to_molar
from trkres.yamlio import parse_yaml

ROLES = ("sample", "vehicle", "blank", "positive_control", "empty")
#: QC thresholds behind the report's flags (common HTS practice: Z′ ≥ 0.5 is an excellent assay).
Z_PRIME_MIN = 0.5
CV_MAX = 20.0
TREND_P = 0.01
#: % viability outside this range is physically implausible (a wrong blank, an empty or
#: overflowing well): such wells are reported and fail the plate's QC.
VIABILITY_RANGE = (-50.0, 300.0)


def _expand(spec: str, where: Location) -> list[str]:
    """``A1:A12`` / ``A1-H1`` / ``B3`` → well names along a row or down a column."""
    parts = re.split(r"\s*[:\-]\s*", spec.strip())
    ends = [parse_well(p) for p in parts]
    if len(parts) not in (1, 2) or any(e is None for e in ends):
        raise InputError("bad well or well range", location=where, expected="A1, or A1:A12 along a row or column",
                         found=repr(spec))  # fmt: skip
    (r0, c0), (r1, c1) = ends[0], ends[-1]  # type: ignore[misc]
    if r0 != r1 and c0 != c1:
        raise InputError("well range is not one row or one column", location=where,
                         expected="A1:A12 or A1:H1", found=repr(spec))  # fmt: skip
    rows = range(r0, r1 + (1 if r1 >= r0 else -1), 1 if r1 >= r0 else -1)
    cols = range(c0, c1 + (1 if c1 >= c0 else -1), 1 if c1 >= c0 else -1)
    return [well_name(r, c) for r in rows for c in cols]


def _from_yaml(path: Path) -> pd.DataFrame:
    doc = parse_yaml(read_text_file(path, "plate map"), path)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("wells"), list):
        raise InputError("plate map YAML needs a 'wells' list", location=Location(file=path, line=1),
                         expected="wells: [{wells: A1:A12, role: …}, …]", found=type(data).__name__)  # fmt: skip
    rows = []
    for k, item in enumerate(data["wells"]):
        where = doc.locate(["wells", k])
        if not isinstance(item, dict) or not ("wells" in item or "well" in item):
            raise InputError("plate map entry needs 'wells' or 'well'", location=where,
                             expected="{wells: A1:A12, role: sample, …}", found=repr(item))  # fmt: skip
        wells = _expand(str(item.get("wells", item.get("well"))), where)
        attrs = {key: v for key, v in item.items() if key not in ("wells", "well")}
        for key, v in attrs.items():
            values = v if isinstance(v, list) else [v]
            if not all(x is None or isinstance(x, (str, int, float)) for x in values):
                raise InputError(f"'{key}' must be a value (or a list of values, one per well)", location=where,
                                 expected="text or numbers", found=repr(v)[:80])  # fmt: skip
            if isinstance(v, list) and len(v) != len(wells):
                raise InputError(f"'{key}' has one value per well, but not as many as the range", location=where,
                                 expected=f"{len(wells)} values", found=f"{len(v)}")  # fmt: skip
        for i, w in enumerate(wells):
            rows.append(
                {
                    "well": w,
                    **{key: (v[i] if isinstance(v, list) else v) for key, v in attrs.items()},
                }
            )
    frame = pd.DataFrame(rows)
    if "unit" not in frame.columns and "unit" in data:
        if not isinstance(data["unit"], str):
            raise InputError("'unit' must be one unit", location=doc.locate(["unit"]),
                             expected="M, mM, uM, nM or pM", found=repr(data["unit"])[:80])  # fmt: skip
        frame["unit"] = data["unit"]
    size = data.get("plate_size")
    if size is not None and (
        not isinstance(size, int) or isinstance(size, bool) or size not in SIZES
    ):
        raise InputError("unknown plate size", location=doc.locate(["plate_size"]),
                         expected="96, 384 or 1536", found=repr(size)[:80])  # fmt: skip
    frame.attrs["plate_size"] = size
    return frame


def read_plate_map(path: Path) -> pd.DataFrame:
    """Read a plate map (CSV, TSV or YAML) into one row per well (see the module doc).

    Columns out: ``plate`` (NaN = every plate), ``well``, ``row``, ``column``,
    ``role``, ``cell_line``, ``drug1…``, ``conc1…`` (molar), ``replicate``
    and any other columns as given.
    """
    suffix = text_suffix(path)
    if suffix in (".yaml", ".yml"):
        frame = _from_yaml(path)
    else:
        frame = read_delimited_text(
            path, "plate map", "," if suffix == ".csv" else "\t", dtype={"well": str}
        )
    return plate_map_from_frame(frame, path)


def plate_map_from_frame(frame: pd.DataFrame, path: Path = Path("<table>")) -> pd.DataFrame:
    """A plate map already in memory (the columns of a CSV map), checked and normalised as
    :func:`read_plate_map` does; ``path`` names it in messages."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError("a plate map must be a table", location=Location(file=path),
                         expected="a pandas DataFrame", found=type(frame).__name__)  # fmt: skip
    if frame.empty:
        raise InputError("plate map has no wells", location=Location(file=path, line=2),
                         expected="one row per well", found="none")  # fmt: skip
    frame = frame.rename(columns={c: str(c).strip().lower() for c in frame.columns})
    renames = {"line": "cell_line", "drug": "drug1", "dose": "conc1", "conc": "conc1", "dose1": "conc1",
               "dose2": "conc2", "dose3": "conc3", "dose_unit": "unit", "conc_unit": "unit"}  # fmt: skip
    frame = frame.rename(columns={c: renames.get(c, c) for c in frame.columns})
    # Two spellings of one column (dose and conc1, line and cell_line) are the same column twice.
    check_unique_header(list(frame.columns), path, what="plate map (after aliases: dose = conc1, "
                        "line = cell_line, drug = drug1)")  # fmt: skip
    for need in ("well", "role"):
        if need not in frame.columns:
            raise InputError("plate map lacks a column", location=Location(file=path, line=1),
                             expected=need, found=", ".join(map(str, frame.columns)))  # fmt: skip
    parsed = [parse_well(str(w)) for w in frame["well"]]
    bad = [i for i, p in enumerate(parsed) if p is None]
    if bad:
        raise InputError("not a well name", location=Location(file=path, row=bad[0] + 1, column="well"),
                         expected="A1 … AF48", found=show_cell(frame["well"].iloc[bad[0]]))  # fmt: skip
    frame["row"] = [p[0] for p in parsed]  # type: ignore[index]
    frame["column"] = [p[1] for p in parsed]  # type: ignore[index]
    frame["well"] = [well_name(r, c) for r, c in zip(frame["row"], frame["column"], strict=True)]
    roles = frame["role"].astype(str).str.strip().str.lower()
    unknown = ~roles.isin(ROLES)
    if unknown.any():
        r = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError("unknown well role", location=Location(file=path, row=r + 1, column="role"),
                         expected=", ".join(ROLES), found=show_cell(frame["role"].iloc[r]))  # fmt: skip
    frame["role"] = roles
    size = frame.attrs.get("plate_size") or plate_size(
        int(frame["row"].max()), int(frame["column"].max())
    )
    if (
        size not in SIZES
        or frame["row"].max() > SIZES[size][0]
        or frame["column"].max() > SIZES[size][1]
    ):
        raise InputError("plate map does not fit its plate", location=Location(file=path),
                         expected="a 96-, 384- or 1536-well layout", found=f"wells up to {frame['well'].iloc[int(np.argmax(frame['row'] * 100 + frame['column']))]}")  # fmt: skip
    if "plate" not in frame.columns:
        frame["plate"] = np.nan
    plate_no = pd.to_numeric(frame["plate"], errors="coerce")
    bad_plate = frame["plate"].notna() & ~(
        np.isfinite(plate_no) & (plate_no >= 1) & (plate_no.round() == plate_no)
    )
    if bad_plate.any():
        r = int(np.flatnonzero(bad_plate.to_numpy())[0])
        raise InputError("bad plate number in the plate map", location=Location(file=path, row=r + 1, column="plate"),
                         expected="1, 2, … (the plate's order in the export), or empty for every plate",
                         found=str(frame["plate"].iloc[r]))  # fmt: skip
    frame["plate"] = plate_no.astype(float)
    dup = frame.duplicated(["plate", "well"], keep="first")
    if dup.any():
        r = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError("well listed twice in the plate map", location=Location(file=path, row=r + 1, column="well"),
                         expected="each well once per plate", found=frame["well"].iloc[r])  # fmt: skip
    # A well mapped for every plate (no plate number) and again for one plate would be
    # joined to that plate's reading twice, with two roles or doses.
    every = set(frame.loc[frame["plate"].isna(), "well"])
    again = frame["plate"].notna() & frame["well"].isin(every)
    if again.any():
        r = int(np.flatnonzero(again.to_numpy())[0])
        raise InputError("well listed twice in the plate map", location=Location(file=path, row=r + 1, column="plate"),
                         expected=f"well {frame['well'].iloc[r]} either for every plate (plate empty) or per plate, not both",
                         found=f"{frame['well'].iloc[r]} for every plate and for plate {frame['plate'].iloc[r]:g}")  # fmt: skip
    samples = frame["role"] == "sample"
    conc_cols = sorted(c for c in frame.columns if re.fullmatch(r"conc\d", c))
    if samples.any() and not conc_cols:
        raise InputError("sample wells need doses", location=Location(file=path, line=1),
                         expected="a dose (or conc) column", found=", ".join(map(str, frame.columns)))  # fmt: skip
    for d in sorted(c for c in frame.columns if re.fullmatch(r"drug\d", c)):
        if d.replace("drug", "conc") not in frame.columns and (samples & frame[d].notna()).any():
            raise InputError(f"{d} has no dose column", location=Location(file=path, line=1),
                             expected=f"{d.replace('drug', 'dose')} (or {d.replace('drug', 'conc')}) beside {d}",
                             found=", ".join(map(str, frame.columns)))  # fmt: skip
    for c in conc_cols:
        values = pd.to_numeric(frame[c], errors="coerce")
        missing = (
            samples & values.isna() & frame[c.replace("conc", "drug")].notna()
            if c.replace("conc", "drug") in frame
            else samples & values.isna()
        )
        if missing.any():
            r = int(np.flatnonzero(missing.to_numpy())[0])
            raise InputError("sample well without a dose", location=Location(file=path, row=r + 1, column=c),
                             expected="a number ≥ 0", found=show_cell(frame[c].iloc[r]))  # fmt: skip
        impossible = values.notna() & ~(np.isfinite(values) & (values >= 0))
        if impossible.any():
            r = int(np.flatnonzero(impossible.to_numpy())[0])
            raise InputError("impossible dose in the plate map", location=Location(file=path, row=r + 1, column=c),
                             expected="a finite number ≥ 0", found=f"{float(values.iloc[r]):g}")  # fmt: skip
        if "unit" not in frame.columns and values.fillna(0).gt(0).any():
            raise InputError("plate map doses have no unit", location=Location(file=path, line=1),
                             expected="a unit column or 'unit:' (M, mM, uM, nM, pM)", found="none")  # fmt: skip
        if "unit" in frame.columns:
            no_unit = values.fillna(0).gt(0) & frame["unit"].isna()
            if no_unit.any():
                r = int(np.flatnonzero(no_unit.to_numpy())[0])
                raise InputError("dose without a unit", location=Location(file=path, row=r + 1, column="unit"),
                                 expected="M, mM, uM, nM or pM", found="empty")  # fmt: skip
        unit = (
            frame["unit"].astype(object).fillna("M") if "unit" in frame.columns else "M"
        )  # only zero doses lack one
        frame[c] = to_molar(values.fillna(0.0), unit, path)
        too_high = frame[c] > MAX_MOLAR
        if too_high.any():
            r = int(np.flatnonzero(too_high.to_numpy())[0])
            raise InputError("impossible dose in the plate map", location=Location(file=path, row=r + 1, column=c),
                             expected=f"at most {MAX_MOLAR:g} M (is the unit right?)",
                             found=f"{float(frame[c].iloc[r]):g} M")  # fmt: skip
    if conc_cols:
        # Doses are molar from here on: the map's own unit is kept as map_unit, and `unit`
        # says what the conc columns now hold (wells.tsv must not label molar values nM).
        if "unit" in frame.columns:
            frame["map_unit"] = frame["unit"]
        frame["unit"] = "M"
    if "cell_line" not in frame.columns:
        frame["cell_line"] = np.nan
    return frame


def normalise(values: pd.DataFrame, plate_map: pd.DataFrame, *, read: str | None = None,
              path: Path | str | None = None) -> pd.DataFrame:  # fmt: skip
    """Join reader values to the map and express each well as % viability of its vehicle.

    ``read`` picks one measurement when the export has several (default: the
    first). A mapped well the export lacks is an error; unmapped wells are left
    out and counted per plate in ``attrs["unmapped"]`` (:func:`plate_qc`'s
    ``n_unmapped``); an export with wells beyond the map's declared ``plate_size`` is an
    error. Returns one row per mapped well with ``signal`` (blank-subtracted),
    ``viability`` (%), the reader's ``flag`` and the map's columns.
    """
    reads = list(dict.fromkeys(values["read"]))
    chosen = read if read is not None else reads[0]
    if chosen not in reads:
        raise InputError("read not in the export", location=Location(file=path) if path else None,
                         expected=", ".join(map(str, reads)), found=repr(read))  # fmt: skip
    vals = values[values["read"] == chosen]
    declared = plate_map.attrs.get("plate_size")
    if declared in SIZES:
        n_rows, n_cols = SIZES[declared]
        beyond = (vals["row"] > n_rows) | (vals["column"] > n_cols)
        if beyond.any():
            r = vals[beyond].iloc[0]
            raise InputError("the export's plate is larger than the plate map's",
                             location=Location(file=path) if path else None,
                             expected=f"a {declared}-well plate (the map's plate_size)",
                             found=f"well {r['well']} on plate {r['plate']}")  # fmt: skip
    plates = sorted(vals["plate"].unique())
    general = plate_map[plate_map["plate"].isna()]
    per_plate = plate_map[plate_map["plate"].notna()]
    layout = pd.concat([general.assign(plate=p) for p in plates] + [per_plate], ignore_index=True)
    layout["plate"] = layout["plate"].astype(int)
    merged = layout.merge(
        vals[["plate", "well", "value", "flag"]], on=["plate", "well"], how="left"
    )
    missing = merged["value"].isna() & merged["flag"].isna()
    if missing.any():
        r = merged[missing].iloc[0]
        raise InputError("the plate map names a well the export does not have",
                         location=Location(file=path) if path else None,
                         expected=f"well {r['well']} on plate {r['plate']}", found="no such well (layout does not match the plate)")  # fmt: skip
    # readings of wells the map does not name are not used: counted per plate, not dropped unsaid
    mapped = pd.MultiIndex.from_frame(layout[["plate", "well"]])
    unused = ~pd.MultiIndex.from_frame(vals[["plate", "well"]].astype({"plate": int})).isin(mapped)
    unmapped = vals[unused].groupby("plate").size()
    merged = merged[merged["role"] != "empty"].copy()
    value = merged["value"].astype(float)
    finite = np.isfinite(value)
    blank = merged[(merged["role"] == "blank") & finite].groupby("plate")["value"].mean()
    merged["signal"] = value.where(finite) - merged["plate"].map(blank).fillna(0.0)
    veh = merged[merged["role"] == "vehicle"]
    by_line = veh.groupby(["plate", "cell_line"], dropna=False)["signal"].mean()
    by_plate = veh.groupby("plate")["signal"].mean()
    key = pd.MultiIndex.from_arrays([merged["plate"], merged["cell_line"]])
    ref = pd.Series(by_line.reindex(key).to_numpy(), index=merged.index)
    ref = ref.fillna(merged["plate"].map(by_plate))
    with np.errstate(divide="ignore", invalid="ignore"):
        viability = 100.0 * merged["signal"] / ref.where(ref > 0)
    merged["viability"] = viability.where(np.isfinite(viability))
    merged["issue"] = _well_issues(merged, value, ref)
    merged["read"] = chosen
    out = merged.reset_index(drop=True)
    out.attrs["unmapped"] = {int(p): int(unmapped.get(p, 0)) for p in plates}
    # the plate's size from the export (every reading), for plate_qc's edge wells: a map
    # that covers A1:H12 of a 384-well plate does not make row H an edge
    extent = vals.groupby("plate")[["row", "column"]].max()
    out.attrs["plate_size"] = {
        int(p): max(declared or 0, plate_size(int(r), int(c)) or 0)
        for p, (r, c) in zip(extent.index.to_numpy(), extent.to_numpy(), strict=True)
    }
    return out


def _well_issues(merged: pd.DataFrame, value: pd.Series, ref: pd.Series) -> np.ndarray:
    """Why a well's viability is missing or implausible ("" when it is fine)."""
    v = merged["viability"].to_numpy(float)
    flagged = merged["flag"].fillna("").astype(str).to_numpy() != ""
    raw = value.to_numpy(float)
    return np.select(
        [
            flagged & ~np.isfinite(raw),
            ~np.isfinite(raw),
            ~(ref.to_numpy(float) > 0),
            (v < VIABILITY_RANGE[0]) | (v > VIABILITY_RANGE[1]),
        ],
        [
            "no reading (reader flag): viability not computed",
            "non-finite reading: viability not computed",
            "vehicle mean not above blank: viability undefined",
            f"implausible viability (outside {VIABILITY_RANGE[0]:g} to {VIABILITY_RANGE[1]:g}%)",
        ],
        "",
    )


def plate_qc(wells: pd.DataFrame) -> pd.DataFrame:
    """One row per plate: control means, CVs, Z′, edge ratio and row/column trends (see module doc).

    Degenerate plates (no usable vehicle, zero means) give NaN statistics and a failing ``qc``,
    without warnings.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return _plate_qc(wells)


def _plate_qc(wells: pd.DataFrame) -> pd.DataFrame:
    rows = []
    unmapped = wells.attrs.get("unmapped")  # from normalise: export wells the map leaves out
    for plate, g in wells.groupby("plate"):
        finite = np.isfinite(g["signal"].astype(float))
        veh = g[(g["role"] == "vehicle") & finite]
        pos = g[(g["role"] == "positive_control") & finite]
        rec: dict[str, object] = {"plate": plate, "n_wells": len(g), "n_flagged": int((g["flag"].fillna("") != "").sum()),
                                  "vehicle_mean": veh["signal"].mean(), "vehicle_cv_pct": 100 * veh["signal"].std() / veh["signal"].mean() if len(veh) > 1 else np.nan,
                                  "positive_mean": pos["signal"].mean() if len(pos) else np.nan,
                                  "positive_cv_pct": 100 * pos["signal"].std() / abs(pos["signal"].mean()) if len(pos) > 1 else np.nan}  # fmt: skip
        if len(veh) > 1 and len(pos) > 1:
            rec["z_prime"] = 1 - 3 * (veh["signal"].std() + pos["signal"].std()) / abs(
                veh["signal"].mean() - pos["signal"].mean()
            )
        else:
            rec["z_prime"] = np.nan
        max_row, max_col = int(g["row"].max()), int(g["column"].max())
        sizes = wells.attrs.get("plate_size")
        size = (sizes.get(plate) if isinstance(sizes, dict) else None) or plate_size(
            max_row, max_col
        )
        size = size if size in SIZES else 96
        nrow, ncol = SIZES[size]
        edge = veh["row"].isin([1, nrow]) | veh["column"].isin([1, ncol])
        rec["edge_to_interior"] = (veh.loc[edge, "signal"].mean() / veh.loc[~edge, "signal"].mean()
                                   if edge.any() and (~edge).any() else np.nan)  # fmt: skip
        for axis in ("row", "column"):
            p = np.nan
            if len(veh) >= 4 and veh[axis].nunique() >= 3:
                fit = sm.OLS(
                    veh["signal"].to_numpy(float), sm.add_constant(veh[axis].to_numpy(float))
                ).fit()
                p = float(fit.pvalues[1])
            rec[f"{axis}_trend_p"] = p
        problems = []
        num = {k: float(v) for k, v in rec.items() if isinstance(v, (int, float, np.floating))}
        if num["z_prime"] < Z_PRIME_MIN:  # NaN compares False: no controls, no flag
            problems.append(f"Z' {num['z_prime']:.2f} < {Z_PRIME_MIN}")
        for c in ("vehicle_cv_pct", "positive_cv_pct"):
            if num[c] > CV_MAX:
                problems.append(f"{c.split('_')[0]} CV {num[c]:.0f}% > {CV_MAX:.0f}%")
        for axis in ("row", "column"):
            if num[f"{axis}_trend_p"] < TREND_P:
                problems.append(f"{axis} trend in vehicle wells (p = {num[f'{axis}_trend_p']:.2g})")
        if rec["n_flagged"]:
            problems.append(f"{rec['n_flagged']} well(s) flagged by the reader")
        if not num["vehicle_mean"] > 0:  # NaN (no usable vehicle) fails too
            problems.append("no vehicle signal above blank")
        issues = g["issue"].fillna("").astype(str) if "issue" in g else pd.Series("", index=g.index)
        rec["n_unusable"] = int(issues.str.contains("not computed|undefined").sum())
        rec["n_implausible"] = int(issues.str.startswith("implausible").sum())
        rec["n_unmapped"] = (
            unmapped.get(plate, 0) if isinstance(unmapped, dict) else np.nan
        )  # readings not used (not in the map); not a QC failure
        if rec["n_unusable"]:
            problems.append(f"{rec['n_unusable']} well(s) without a usable viability")
        if rec["n_implausible"]:
            problems.append(f"{rec['n_implausible']} well(s) with implausible viability")
        rec["qc"] = "; ".join(problems) if problems else "pass"
        rows.append(rec)
    return pd.DataFrame(rows)


def drug_count(wells: pd.DataFrame) -> int:
    return len([c for c in wells.columns if re.fullmatch(r"drug\d", c)])


def to_combinations(wells: pd.DataFrame) -> pd.DataFrame:
    """Two or more drugs: SynergyFinder's layout (% viability), vehicle wells as each block's zero-dose cell.

    A block is one plate × cell line × drug set; replicates are the repeated wells.
    """
    n = drug_count(wells)
    drugs = [f"drug{i}" for i in range(1, n + 1)]
    concs = [f"conc{i}" for i in range(1, n + 1)]
    samples = wells[wells["role"] == "sample"].copy()
    for d in drugs:  # a single agent's well names its drug; the absent drug is at dose 0
        samples[d] = samples.groupby(["plate", "cell_line"], dropna=False)[d].transform(
            lambda s: s.fillna(s.dropna().iloc[0]) if s.notna().any() else s
        )
    key = ["plate", "cell_line", *drugs]
    blocks = samples[key].drop_duplicates().reset_index(drop=True)
    blocks["block_id"] = [f"p{int(r['plate'])}:{r['cell_line']}:" + "+".join(str(r[d]) for d in drugs)
                          for _, r in blocks.iterrows()]  # fmt: skip
    veh = wells[wells["role"] == "vehicle"]
    parts = [samples.merge(blocks, on=key)]
    for _, b in blocks.iterrows():
        v = veh[
            (veh["plate"] == b["plate"])
            & ((veh["cell_line"] == b["cell_line"]) | veh["cell_line"].isna())
        ].copy()
        for d in drugs:
            v[d] = b[d]
        for c in concs:
            v[c] = 0.0
        v["block_id"] = b["block_id"]
        parts.append(v)
    out = pd.concat(parts, ignore_index=True)
    table = out[["block_id", *drugs, *concs, "cell_line", "viability"]].rename(
        columns={"viability": "response"}
    )
    table["conc_unit"] = "M"
    return table.dropna(subset=["response"]).reset_index(drop=True)


def to_dose_response(wells: pd.DataFrame) -> pd.DataFrame:
    """One drug: the long table of :mod:`trkres.assays.doseresponse.io` (fraction of vehicle)."""
    samples = wells[(wells["role"] == "sample") & (wells["conc1"] > 0)]
    return pd.DataFrame({
        "curve_id": curve_ids(samples, ["cell_line", "drug1"]),
        "dose_molar": samples["conc1"], "response": samples["viability"] / 100.0,
        "line": samples["cell_line"], "drug": samples["drug1"],
    }).dropna(subset=["response"]).reset_index(drop=True)  # fmt: skip


#: GDSC well tags → roles (gdscIC50's conventions: B blank, NC-1 vehicle, PC-1 positive control,
#: L<n>-D<k>-S single-agent library drug at dilution k; UN-USED, NC-0 and other PC-n wells take no part).
_GDSC_ROLE = {"B": "blank", "NC-1": "vehicle"}


def read_gdsc_wells(
    path: Path, *, cell_line: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A GDSC-style well table (Parquet/CSV: SCAN_ID, POSITION, TAG, DRUG_ID, CONC in µM, INTENSITY,
    CELL_LINE_NAME) as (values, plate map) for :func:`normalise`; one plate per SCAN_ID.

    ``cell_line`` keeps only that line's plates (the file may hold hundreds).
    """
    need = ["SCAN_ID", "POSITION", "TAG", "DRUG_ID", "CONC", "INTENSITY", "CELL_LINE_NAME"]
    try:
        frame = (
            pd.read_parquet(path, columns=need)
            if path.suffix.lower() == ".parquet"
            else pd.read_csv(path, usecols=need)
        )
    except (OSError, ValueError, KeyError) as exc:
        raise InputError(f"cannot read GDSC well table: {exc}", location=Location(file=path),
                         expected=", ".join(need)) from None  # fmt: skip
    if cell_line is not None:
        frame = frame[frame["CELL_LINE_NAME"].astype(str) == cell_line]
        if frame.empty:
            raise InputError("cell line not in the GDSC table", location=Location(file=path, column="CELL_LINE_NAME"),
                             expected="a CELL_LINE_NAME of the file", found=repr(cell_line))  # fmt: skip
    for col, lowest in (("POSITION", 1.0), ("CONC", 0.0), ("INTENSITY", None)):
        numbers = pd.to_numeric(frame[col], errors="coerce")
        # INTENSITY may be non-finite (reported per well by normalise); text is an error.
        bad = numbers.isna() & frame[col].notna() if col == "INTENSITY" else ~np.isfinite(numbers)
        if lowest is not None:
            bad |= numbers < lowest
        if col == "POSITION":
            bad |= (numbers.round() != numbers) | (numbers > 1536)
        if col == "CONC":  # only library-drug wells carry a concentration
            bad &= frame["CONC"].notna()
        if bad.any():
            r = int(np.flatnonzero(bad.to_numpy())[0])
            want = {"POSITION": "a well position 1 … 1536", "CONC": "a finite concentration ≥ 0 (µM)",
                    "INTENSITY": "a number"}[col]  # fmt: skip
            raise InputError(f"bad {col} in the GDSC well table", location=Location(file=path, row=r + 1, column=col),
                             expected=want, found=str(frame[col].iloc[r]))  # fmt: skip
        frame[col] = numbers
    tag = frame["TAG"].astype(str)
    role = tag.map(_GDSC_ROLE).fillna("empty")
    role = role.mask(tag == "PC-1", "positive_control")  # PC-2… are other control drugs: not pooled
    role = role.mask(tag.str.fullmatch(r"L\d+-D\d+-S"), "sample")
    # each scan's own plate: a table with 384- and 1536-well scans (GDSC1 and GDSC2) would
    # otherwise number the 384-well plates' wells 48 to a row
    largest = frame.groupby("SCAN_ID")["POSITION"].transform("max").to_numpy(float)
    wide = np.where(largest > 384, 48, 24)
    pos = frame["POSITION"].to_numpy(np.int64) - 1
    rows, cols = pos // wide + 1, pos % wide + 1
    wells = [well_name(r, c) for r, c in zip(rows, cols, strict=True)]
    plate = pd.factorize(frame["SCAN_ID"], sort=True)[0] + 1
    values = pd.DataFrame({"plate": plate, "read": "INTENSITY", "well": wells, "row": rows, "column": cols,
                           "value": frame["INTENSITY"].to_numpy(float), "flag": ""})  # fmt: skip
    sample = (role == "sample").to_numpy()
    layout = pd.DataFrame({
        "plate": plate.astype(float), "well": wells, "row": rows, "column": cols, "role": role.to_numpy(),
        "cell_line": frame["CELL_LINE_NAME"].astype(str).to_numpy(),
        "drug1": frame["DRUG_ID"].astype(str).str.replace(r"\.0$", "", regex=True).where(sample).to_numpy(),
        "conc1": np.where(sample, frame["CONC"].to_numpy(float) * 1e-6, 0.0),
        "scan_id": frame["SCAN_ID"].to_numpy(),
    })  # fmt: skip
    return values, layout
