"""Tumour volumes in: long tables (CSV, TSV, Excel, Parquet or a DataFrame) → one checked frame.

A row is one measurement of one mouse: ``mouse_id``, ``arm``, ``day`` and ``volume`` (mm³),
or caliper ``length`` and ``width`` (mm; volume = length · width² / 2, the modified
ellipsoid, stated in the output). The layouts users have are read through column aliases
(Xeva ``model.id,time,volume,drug``; tumr ``ID,Day,Volume,Treatment``; SynergyLMM-style
``MOUSE,Treatment,Day,RLU``) or an explicit mapping (``columns={"mouse_id": "Animal"}``).

Nothing is dropped silently: every input row is either used or reported in the issues
table (file, line, row, column, expected, found, action), so rows in = rows used + rows
reported. What the reader decided (which column is which, units, the volume formula) is
returned as plain sentences for the output.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location
from trkres.tables import ISSUE_COLUMNS, MISSING_CELLS, parse_numbers, read_table

__all__ = [
    "ALIASES",
    "CANONICAL",
    "ISSUE_COLUMNS",
    "VolumesRead",
    "check_volumes",
    "read_volumes",
]

#: Column names of the checked frame, in order (``cohort`` ... only when given).
CANONICAL = ("mouse_id", "arm", "day", "volume")
OPTIONAL = ("cohort", "dose", "censored", "removed_reason")
#: What a mapping may name: the canonical columns, caliper axes and a time in weeks.
MAPPABLE = (*CANONICAL, "length", "width", "week", "signal", *OPTIONAL)

#: Header names (lower case, ``.``/space/``-`` read as ``_``) each role is found under.
ALIASES: dict[str, tuple[str, ...]] = {
    "mouse_id": (
        "mouse_id",
        "mouse",
        "mouseid",
        "model_id",
        "id",
        "animal",
        "animal_id",
        "subject",
        "subject_id",
    ),
    "arm": ("arm", "treatment", "drug", "group", "treatment_group", "regimen"),
    "day": ("day", "days", "time", "time_days"),
    "week": ("week", "weeks"),
    "volume": (
        "volume",
        "tumour_volume",
        "tumor_volume",
        "volume_mm3",
        "tumour_volume_mm3",
        "tumor_volume_mm3",
        "vol",
        "tv",
    ),
    "signal": ("rlu", "bli", "luminescence", "photon_flux"),
    "length": ("length", "long_axis", "length_mm"),
    "width": ("width", "short_axis", "width_mm"),
    "cohort": ("cohort", "batch", "experiment"),
    "dose": ("dose",),
    "censored": ("censored",),
    "removed_reason": ("removed_reason", "removal_reason", "reason_removed"),
}

#: Largest time (days, either sign) and volume (mm³ or signal units) read as a measurement:
#: beyond them a cell is a typo or an overflow, and arithmetic on it would only spread inf.
MAX_DAY = 1e5
MAX_VOLUME = 1e12

_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


@dataclass(frozen=True)
class VolumesRead:
    """A checked volumes table and what happened to every row.

    ``volumes``: ``mouse_id``, ``arm``, ``day`` (days), ``volume`` (mm³, or the signal's
    own units when a bioluminescence column was read), sorted by arm, mouse and day, with
    (mouse, day) unique and each mouse in one arm (plus ``cohort``/``dose``/``censored``/
    ``removed_reason`` when given). ``issues``: one row per input row not used.
    ``notes``: what was decided, as sentences. ``rows_in`` counts data rows read.
    """

    volumes: pd.DataFrame
    issues: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    rows_in: int = 0
    source: str = ""
    volume_unit: str = "mm³"


def _norm(name: object) -> str:
    return re.sub(r"[.\s\-/]+", "_", str(name).strip().lower()).strip("_")


#: A unit at the end of a header (``Volume (cm3)``, ``tumor_volume_mm³``, ``Length [cm]``)
#: and its factor to trkres' units (mm³ for volumes, mm for caliper axes).
_UNIT_SUFFIX = re.compile(
    r"(?:_[(\[]?|[(\[])(mm3|mm³|mm\^3|cm3|cm³|cm\^3|cc|ml|µl|μl|ul|mm|cm)[)\]]?$"
)
_VOLUME_UNITS = {"mm3": 1.0, "mm³": 1.0, "mm^3": 1.0, "µl": 1.0, "μl": 1.0, "ul": 1.0,
                 "cm3": 1000.0, "cm³": 1000.0, "cm^3": 1000.0, "cc": 1000.0, "ml": 1000.0}  # fmt: skip
_LENGTH_UNITS = {"mm": 1.0, "cm": 10.0}


def _header_unit(name: str) -> str | None:
    """The unit a header names at its end (``Volume (cm3)`` → ``cm3``), or None."""
    hit = _UNIT_SUFFIX.search(_norm(name))
    return hit.group(1) if hit and hit.start() > 0 else None


def _unit_factor(name: str, units: Mapping[str, float], wanted: str, role: str,
                 source: str) -> float:  # fmt: skip
    """Factor from the unit the header ``name`` states to ``wanted`` (1 when it states none)."""
    unit = _header_unit(name)
    if unit is None:
        return 1.0
    if unit not in units:
        raise InputError(
            f"the {role} column's name states a unit trkres cannot read as {wanted}",
            location=Location(file=source, column=name),
            expected=f"a {role} in " + ", ".join(units), found=unit,
        )  # fmt: skip
    return units[unit]


def _roles(columns: list[str], mapping: Mapping[str, str], source: str) -> dict[str, str]:
    """Which input column plays each role: the explicit mapping first, then the aliases."""
    bad = [k for k in mapping if k not in MAPPABLE]
    if bad:
        raise InputError(
            "bad column mapping", location=Location(file=source),
            expected="keys among " + ", ".join(MAPPABLE), found=", ".join(map(repr, bad)),
        )  # fmt: skip
    roles: dict[str, str] = {}
    for role, name in mapping.items():
        if name not in columns:
            raise InputError(
                f"column {name!r} (mapped to {role}) is not in the table",
                location=Location(file=source), expected="one of: " + ", ".join(columns),
                found=repr(name),
            )  # fmt: skip
        roles[role] = name
    taken = set(roles.values())
    by_norm: dict[str, list[str]] = {}
    for col in columns:
        norm = _norm(col)
        by_norm.setdefault(norm, []).append(col)
        # "Tumor Volume (mm3)" is found as tumor_volume, its unit read from the name.
        bare = _UNIT_SUFFIX.sub("", norm).strip("_")
        if bare and bare != norm and _header_unit(col) is not None:
            by_norm.setdefault(bare, []).append(col)
    for role, names in ALIASES.items():
        if role in roles:
            continue
        hits = list(dict.fromkeys(c for n in names for c in by_norm.get(n, []) if c not in taken))
        if len(hits) > 1:
            raise InputError(
                f"more than one column could be the {role} column",
                location=Location(file=source), expected=f"one {role} column",
                found=", ".join(map(repr, hits)),
                hint=f"name it: columns {role}=<column> (--columns {role}=<column>)",
            )  # fmt: skip
        if hits:
            roles[role] = hits[0]
            taken.add(hits[0])
    return roles


def _issue(source: str, rows: np.ndarray, column: str, expected: str, found: object,
           action: str) -> pd.DataFrame:  # fmt: skip
    found_arr = np.broadcast_to(np.asarray(found, dtype=object), rows.shape)
    return pd.DataFrame({"file": source, "line": rows + 2, "row": rows + 1, "column": column,
                         "expected": expected, "found": [str(f)[:200] for f in found_arr],
                         "action": action})  # fmt: skip


def _text(cells: pd.Series) -> pd.Series:
    out = cells.astype(str).str.strip()
    return out.where(~(cells.isna() | out.str.lower().isin(MISSING_CELLS)), "")


def check_volumes(
    frame: pd.DataFrame,
    *,
    source: str = "DataFrame",
    columns: Mapping[str, str] | None = None,
    time_unit: str = "auto",
    min_observations: int = 2,
    line_offset: int = 0,
) -> VolumesRead:
    """Check a volumes table (cells as text or numbers) row by row; see :class:`VolumesRead`.

    ``columns`` maps roles (``mouse_id``, ``arm``, ``day``, ``volume``, ``length``,
    ``width``, ``week``, ``signal``, ``cohort`` ...) to the table's column names;
    unmapped roles are found by :data:`ALIASES`. ``time_unit`` is ``auto`` (days, or
    weeks for a ``week`` column), ``days`` or ``weeks`` (converted to days: × 7).
    Mice with fewer than ``min_observations`` usable measurements are reported and left
    out. Raises :class:`InputError` when a needed column is missing or ambiguous.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError("not a table", expected="a pandas DataFrame", found=type(frame).__name__)
    if time_unit not in ("auto", "days", "weeks"):
        raise InputError("bad time unit", expected="auto, days or weeks", found=repr(time_unit))
    cols = [str(c) for c in frame.columns]
    if len(set(cols)) != len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise InputError("a column name appears twice", location=Location(file=source),
                         expected="unique column names", found=", ".join(dup))  # fmt: skip
    frame = frame.set_axis(cols, axis=1).reset_index(drop=True)
    roles = _roles(cols, dict(columns or {}), source)
    notes: list[str] = []
    time_role = "day" if "day" in roles else "week" if "week" in roles else None
    vol_role = next((r for r in ("volume", "signal") if r in roles), None)
    caliper = vol_role is None and "length" in roles and "width" in roles
    missing = [r for r, ok in (("mouse_id", "mouse_id" in roles), ("arm", "arm" in roles),
                               ("day", time_role is not None),
                               ("volume", vol_role is not None or caliper)) if not ok]  # fmt: skip
    if missing:
        raise InputError(
            "needed column(s) not found: " + ", ".join(missing), location=Location(file=source),
            expected="mouse_id, arm, day and volume (mm³) or caliper length and width (mm), "
            "under these names or an alias (ID, Treatment/drug, Day/time, Volume)",
            found="columns " + ", ".join(cols)[:250],
            hint="map them: --columns mouse_id=ID,arm=Group,day=Day,volume=Vol",
        )  # fmt: skip
    assert time_role is not None
    used = ", ".join(f"{r}←{roles[r]!r}" for r in roles if r in MAPPABLE)
    notes.append(f"columns read: {used}")
    n = len(frame)
    rows = np.arange(n) + line_offset
    parts: list[pd.DataFrame] = []
    keep = np.ones(n, dtype=bool)
    # Blank lines (every cell empty) are not measurements: reported, never counted as used.
    empty = frame.isna().to_numpy() | (
        frame.astype(str).apply(lambda c: c.str.strip() == "")
    ).to_numpy(dtype=bool)
    blank = empty.all(axis=1) if n else np.zeros(0, dtype=bool)
    if blank.any():
        parts.append(_issue(source, rows[blank], "", "a measurement", "a blank line", "skipped"))
        keep &= ~blank
    mouse = _text(frame[roles["mouse_id"]])
    arm = _text(frame[roles["arm"]])
    for role, values in (("mouse_id", mouse), ("arm", arm)):
        bad = keep & (values == "").to_numpy()
        if bad.any():
            parts.append(
                _issue(
                    source,
                    rows[bad],
                    roles[role],
                    f"{role.replace('_', ' ')} (not empty)",
                    "an empty cell",
                    "dropped",
                )
            )
            keep &= ~bad
    day, day_missing, day_bad = parse_numbers(frame[roles[time_role]], notes)
    with np.errstate(invalid="ignore"):
        bad = keep & (day_missing | day_bad | ~(np.abs(day) <= MAX_DAY))
    if bad.any():
        found = frame[roles[time_role]].astype(str).to_numpy()[bad]
        parts.append(_issue(source, rows[bad], roles[time_role], f"a time in days (|day| ≤ {MAX_DAY:g})",
                            found, "dropped"))  # fmt: skip
        keep &= ~bad
    unit = time_unit if time_unit != "auto" else ("weeks" if time_role == "week" else "days")
    if unit == "weeks":
        day = np.round(day * 7.0, 9)  # 3 weeks are 21 days, not 20.999999999999996
        notes.append(f"time column {roles[time_role]!r} is in weeks: converted to days (× 7)")
    else:
        notes.append(f"time column {roles[time_role]!r} is read as days")
    volume_unit = "mm³"
    if vol_role is not None:
        vol, vmiss, vbad = parse_numbers(frame[roles[vol_role]], notes)
        vcol = roles[vol_role]
        if vol_role == "signal":
            volume_unit = "signal units"
            notes.append(f"column {vcol!r} is a bioluminescence signal, used as the tumour burden "
                         "in its own units (relative volumes are unit-free; mm³ thresholds do not apply)")  # fmt: skip
        else:
            factor = _unit_factor(vcol, _VOLUME_UNITS, "mm³", "volume", source)
            if factor != 1.0:
                vol = vol * factor
                notes.append(f"volume column {vcol!r} is in {_header_unit(vcol)} (its name): "
                             f"converted to mm³ (× {factor:g})")  # fmt: skip
            else:
                notes.append(f"volume column {vcol!r} is read as mm³")
        if caliper or ("length" in roles and "width" in roles):
            notes.append("caliper length and width were also given: the volume column is used")
        vmsg = "a volume ≥ 0"
    else:
        length, lmiss, lbad = parse_numbers(frame[roles["length"]], notes)
        width, wmiss, wbad = parse_numbers(frame[roles["width"]], notes)
        for axis in ("length", "width"):
            factor = _unit_factor(roles[axis], _LENGTH_UNITS, "mm", axis, source)
            if factor != 1.0:
                if axis == "length":
                    length = length * factor
                else:
                    width = width * factor
                notes.append(f"caliper column {roles[axis]!r} is in "
                             f"{_header_unit(roles[axis])} (its name): converted to mm (× {factor:g})")  # fmt: skip
        vcol = f"{roles['length']}/{roles['width']}"
        swapped = keep & (width > length)
        big, small = np.fmax(length, width), np.fmin(length, width)
        vol = big * small**2 / 2.0
        vmiss, vbad = lmiss | wmiss, lbad | wbad | (np.isnan(vol) & ~(lmiss | wmiss))
        notes.append(f"volume (mm³) = length · width² / 2 from caliper {roles['length']!r} and "
                     f"{roles['width']!r} (mm)")  # fmt: skip
        if swapped.any():
            notes.append(f"{int(swapped.sum())} row(s) had width > length: the longer axis was "
                         "taken as the length")  # fmt: skip
        vmsg = "caliper length and width ≥ 0 (mm)"
    finite = np.isfinite(vol)
    for mask, expected, action in (
        (keep & vmiss, vmsg, "dropped (no measurement)"),
        (keep & ~vmiss & (vbad | ~finite), vmsg, "dropped"),
        (keep & ~vmiss & finite & (vol < 0), vmsg, "dropped (negative)"),
        (keep & ~vmiss & finite & (vol > MAX_VOLUME), f"a volume ≤ {MAX_VOLUME:g}",
         "dropped (implausibly large)"),
    ):  # fmt: skip
        if mask.any():
            src = frame[roles[vol_role]] if vol_role is not None else \
                frame[roles["length"]].astype(str) + " × " + frame[roles["width"]].astype(str)  # fmt: skip
            parts.append(
                _issue(source, rows[mask], vcol, expected, src.astype(str).to_numpy()[mask], action)
            )
            keep &= ~mask
    cohort = _text(frame[roles["cohort"]]) if "cohort" in roles else None
    key = mouse.to_numpy(dtype=object)
    if cohort is not None:
        per_mouse = pd.DataFrame({"m": mouse, "c": cohort})[keep].groupby("m")["c"].nunique()
        if (per_mouse > 1).any():
            key = (cohort + "/" + mouse).to_numpy(dtype=object)
            notes.append(f"mouse ids repeat across cohorts ({int((per_mouse > 1).sum())} ids): "
                         "a mouse is cohort/mouse_id")  # fmt: skip
    table = pd.DataFrame({"mouse_id": key, "arm": arm.to_numpy(dtype=object), "day": day,
                          "volume": vol, "_row": rows})  # fmt: skip
    for extra in OPTIONAL:
        if extra in roles:
            table[extra] = _text(frame[roles[extra]]).to_numpy(dtype=object)
    table = table[keep]
    # Mice numbered within each arm (1, 2, 3 ... again in every arm) are told apart by arm.
    arms_of = table.groupby("mouse_id", sort=False)["arm"].nunique()
    if len(arms_of) and (arms_of > 1).mean() > 0.5 and table["arm"].nunique() > 1:
        table["mouse_id"] = table["arm"].astype(str) + "/" + table["mouse_id"].astype(str)
        notes.append(f"mouse ids restart in each arm ({int((arms_of > 1).sum())} of {len(arms_of)} ids "
                     "appear in several arms): a mouse is arm/mouse_id")  # fmt: skip
        arms_of = table.groupby("mouse_id", sort=False)["arm"].nunique()
    # A mouse in two arms: which arm is right cannot be known.
    two = arms_of.index[arms_of > 1]
    if len(two):
        mask = table["mouse_id"].isin(two).to_numpy()
        listing = table[mask].groupby("mouse_id")["arm"].agg(lambda a: ", ".join(sorted(set(a))))
        parts.append(_issue(source, table["_row"].to_numpy()[mask], roles["arm"],
                            "each mouse in one arm", "mouse in arms " + table["mouse_id"][mask].map(listing),
                            "dropped (mouse in two arms)"))  # fmt: skip
        table = table[~mask]
    # The same mouse measured twice on one day: an exact copy is counted once, two values drop both.
    twice = table.duplicated(["mouse_id", "day"], keep=False).to_numpy()
    if twice.any():
        sub = table[twice]
        same = sub.duplicated(["mouse_id", "day", "volume"], keep="first").to_numpy()
        nvals = sub.groupby(["mouse_id", "day"])["volume"].transform("nunique").to_numpy()
        copy_rows = sub["_row"].to_numpy()[same & (nvals == 1)]
        if len(copy_rows):
            parts.append(_issue(source, copy_rows, vcol, "one measurement per mouse and day",
                                "a repeat of the same mouse, day and volume", "dropped (counted once)"))  # fmt: skip
        conflict = nvals > 1
        if conflict.any():
            vals = sub.groupby(["mouse_id", "day"])["volume"].transform(
                lambda v: " / ".join(f"{x:g}" for x in v)
            )
            parts.append(_issue(source, sub["_row"].to_numpy()[conflict], vcol,
                                "one measurement per mouse and day",
                                ("mouse " + sub["mouse_id"].astype(str) + ", day " + sub["day"].map("{:g}".format)
                                 + ": " + vals).to_numpy()[conflict],
                                "dropped (conflicting measurements)"))  # fmt: skip
        drop_idx = sub.index[(same & (nvals == 1)) | conflict]
        table = table.drop(index=drop_idx)
    table = table.sort_values(["arm", "mouse_id", "day"], kind="stable")
    # Leading zero volumes: no tumour yet (or none measurable) -- the baseline is the first
    # non-zero volume; a mouse that never has one cannot give a relative volume.
    pos = table["volume"].to_numpy() > 0
    seen_pos = (
        pd.Series(pos, index=table.index).groupby(table["mouse_id"].to_numpy()).cummax().to_numpy()
    )
    lead = ~seen_pos
    if lead.any():
        never = table.groupby("mouse_id")["volume"].transform("max").to_numpy() <= 0
        for mask, found, action in (
            (lead & ~never, "volume 0 before the tumour was measurable",
             "dropped: the mouse's baseline is its first non-zero volume"),
            (lead & never, "volume 0 at every measurement", "dropped (no measurable tumour)"),
        ):  # fmt: skip
            if mask.any():
                parts.append(_issue(source, table["_row"].to_numpy()[mask], vcol,
                                    "a non-zero baseline volume", found, action))  # fmt: skip
        table = table[~lead]
    count = table.groupby("mouse_id")["day"].transform("size").to_numpy()
    few = count < min_observations
    if few.any():
        parts.append(_issue(source, table["_row"].to_numpy()[few], "",
                            f"at least {min_observations} measurements per mouse",
                            [f"{c} measurement(s)" for c in count[few]], "dropped (too few points)"))  # fmt: skip
        table = table[~few]
    issues = (pd.concat(parts, ignore_index=True).sort_values("line", kind="stable", ignore_index=True)
              if parts else pd.DataFrame(columns=ISSUE_COLUMNS))  # fmt: skip
    volumes = table.drop(columns="_row").reset_index(drop=True)
    volumes["mouse_id"] = volumes["mouse_id"].astype(str)
    volumes["arm"] = volumes["arm"].astype(str)
    volumes["day"] = volumes["day"].astype(float)
    volumes["volume"] = volumes["volume"].astype(float)
    if "censored" in volumes:
        low = volumes["censored"].str.lower()
        odd = ~low.isin(_TRUE | _FALSE)
        if odd.any():
            raise InputError("censored column holds values that are not yes/no",
                             location=Location(file=source, column="censored"),
                             expected="1/0, true/false or yes/no",
                             found=", ".join(sorted(set(volumes["censored"][odd])))[:200])  # fmt: skip
        volumes["censored"] = low.isin(_TRUE)
    carried = [roles[r] for r in ("dose", "censored", "removed_reason") if r in roles]
    if carried:
        notes.append("column(s) " + ", ".join(map(repr, carried)) + " are kept with the volumes "
                     "but no result uses them: the time to endpoint is read from the volumes, a "
                     "mouse that leaves early (death, sacrifice) censored at its last measurement")  # fmt: skip
    assert len(volumes) + len(issues) == n, "every row is used or reported"
    return VolumesRead(volumes, issues, notes, n, source, volume_unit)


def read_volumes(
    path: Path | str,
    *,
    columns: Mapping[str, str] | None = None,
    time_unit: str = "auto",
    min_observations: int = 2,
) -> VolumesRead:
    """Read a volumes file (CSV, TSV, ``.gz``, Parquet or ``.xlsx``) and check it.

    See :func:`check_volumes`; issue rows name the file and its line (data row ``i`` is
    on line ``i + 2``).
    """
    path = Path(path)
    frame = read_table(path)
    return check_volumes(frame, source=str(path), columns=columns, time_unit=time_unit,
                         min_observations=min_observations)  # fmt: skip
