"""Scenario rates from a lab's own trkres results (issue 19 item 4).

Each rate is set by the user, never guessed: ``FIELD=SOURCE`` with FIELD a scenario rate
(``birth``, ``death``, ``death_on_drug``, ``types.NAME.birth``) and SOURCE one of

* ``arm:NAME`` — the slope of arm NAME in the in vivo growth model (``growth_model.tsv``
  of ``trkres invivo``: slope of ln(relative volume) per day). A slope is a net growth
  rate, s = birth − death: a death field becomes ``birth − s`` (birth as the scenario has
  it), a birth field becomes ``death + s`` (the scenario's untreated ``death``).
* ``gr:COLUMN:KEY=VALUE,...`` — a GR value of ``trkres gr`` (``gr_metrics.tsv``; COLUMN
  ``GRmax`` or ``GRinf``) of the one row whose KEY columns equal VALUE. GR = 2^(k_drug/k_0)
  − 1 (Hafner et al. 2016), so the drug multiplies the net growth rate by log2(1 + GR);
  only the ratio crosses from the dish to the tumour: the net rate on drug is
  (birth − death) × log2(1 + GR) with the scenario's birth and death, and (drugs change
  only the death rate) ``death_on_drug = birth − (birth − death) × log2(1 + GR)``.
  Only for ``death_on_drug``.
* ``kb:CLASS[+CLASS...][:PER_BASE]`` — for ``rate.FROM.TO`` (a listed mutation): the number
  of distinct resistance mutations the knowledge base lists in the classes × PER_BASE (per
  base per division; default Bozic 2013's 1e-9, an assumption), see
  :mod:`trkres.models.evolution.kb_rates`; needs_review facts are left out unless
  ``include_unverified``.

Settings are applied in the order given, each on the scenario as the ones before left it.
Every value set is reported with its file, table, 1-based data row and column.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trkres.errors import InputError, Location

__all__ = ["RateSetting", "apply_rates", "parse_rate", "rates_from_results"]

#: Result tables the sources read: file stem → the trkres command that writes it.
TABLES = {"growth_model": "trkres invivo", "gr_metrics": "trkres gr"}

_DEATH_FIELDS = ("death", "death_on_drug")
_GR_COLUMNS = ("GRmax", "GRinf")


@dataclass(frozen=True)
class RateSetting:
    """One ``FIELD=SOURCE`` setting."""

    field: str
    kind: str  # "arm", "gr" or "kb"
    arm: str = ""
    column: str = ""
    keys: tuple[tuple[str, str], ...] = ()
    classes: tuple[str, ...] = ()
    per_base: float = 0.0
    text: str = ""


def _bad(text: str, why: str) -> InputError:
    return InputError(
        f"bad rate setting {text!r}: {why}",
        expected="FIELD=arm:NAME, death_on_drug=gr:GRmax|GRinf:KEY=VALUE[,KEY=VALUE] or "
        "rate.FROM.TO=kb:CLASS[+CLASS][:PER_BASE]; FIELD one of birth, death, death_on_drug, "
        "types.NAME.birth",
        found=text,
    )


def parse_rate(text: str) -> RateSetting:
    """``"death_on_drug=arm:larotrectinib"`` → a :class:`RateSetting`."""
    field, sep, source = (s.strip() for s in text.partition("="))
    if not sep or not field or not source:
        raise _bad(text, "no FIELD=SOURCE")
    parts = field.split(".")
    kind, _, rest = source.partition(":")
    if kind == "kb":
        if not (len(parts) >= 3 and parts[0] == "rate" and parts[1] and parts[-1]):
            raise _bad(text, "a knowledge-base count sets only rate.FROM.TO")
        classes, _, per = rest.partition(":")
        names = tuple(c.strip() for c in classes.split("+") if c.strip())
        if not names:
            raise _bad(text, "no resistance class (e.g. solvent_front+gatekeeper+xdfg)")
        try:
            per_base = float(per) if per.strip() else 1e-9
        except ValueError:
            raise _bad(text, f"per-base rate {per!r} is not a number") from None
        if not 0 < per_base < 1:
            raise _bad(text, f"per-base rate {per_base:g} not in (0, 1)")
        return RateSetting(field, "kb", classes=names, per_base=per_base, text=text)
    if field not in ("birth", *_DEATH_FIELDS) and not (
        len(parts) >= 3 and parts[0] == "types" and parts[-1] == "birth" and _type_of(field)
    ):
        raise _bad(text, f"unknown field {field!r}")
    if kind == "arm":
        if not rest.strip():
            raise _bad(text, "no arm name")
        return RateSetting(field, "arm", arm=rest.strip(), text=text)
    if kind == "gr":
        if field != "death_on_drug":
            raise _bad(text, "a GR value sets only death_on_drug")
        column, _, spec = rest.partition(":")
        if column not in _GR_COLUMNS:
            raise _bad(text, f"GR column {column!r} is not one of {', '.join(_GR_COLUMNS)}")
        keys = []
        for item in filter(None, (s.strip() for s in spec.split(","))):
            k, eq, v = (s.strip() for s in item.partition("="))
            if not eq or not k:
                raise _bad(text, f"row selector {item!r} is not KEY=VALUE")
            keys.append((k, v))
        if not keys:
            raise _bad(text, "no row selector (e.g. agent=larotrectinib,cell_line=KM12)")
        return RateSetting(field, "gr", column=column, keys=tuple(keys), text=text)
    raise _bad(text, f"unknown source {kind!r} (arm or gr)")


def _find_table(paths: Sequence[str | Path], stem: str) -> Path:
    """The ``stem.tsv`` among ``paths`` (result folders or TSV files)."""
    seen = []
    for p in map(Path, paths):
        candidate = p / f"{stem}.tsv" if p.is_dir() else p
        seen.append(str(candidate))
        if candidate.is_file() and candidate.name == f"{stem}.tsv":
            return candidate
    raise InputError(
        f"no {stem}.tsv among the result files",
        expected=f"a folder written by {TABLES[stem]} or its {stem}.tsv",
        found=", ".join(seen) or "no --rates-from given",
    )


def _read(path: Path) -> pd.DataFrame:
    """A result table, every cell as text, through the project's table reader (errors
    name the file and line)."""
    from trkres.tables import read_table

    return read_table(path)


def _number(frame: pd.DataFrame, path: Path, row: int, column: str) -> float:
    if column not in frame.columns:
        raise InputError(f"result table lacks column {column!r}", location=Location(file=path, line=1),
                         expected=column, found=", ".join(map(str, frame.columns)))  # fmt: skip
    text = frame.iloc[row][column]
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError("not a finite number", location=Location(file=path, row=row + 1, column=column),
                         expected="a finite number", found=repr(text))  # fmt: skip
    return value


def _type_of(field: str) -> str:
    """NAME of ``types.NAME.birth`` (type names may hold dots: never split inside one)."""
    return field[len("types.") : -len(".birth")]


def _mutation(data: dict[str, Any], field: str) -> dict[str, Any]:
    for m in data["mutations"]:  # whole names: a type name may hold dots
        if field == f"rate.{m['from']}.{m['to']}":
            return m  # type: ignore[no-any-return]
    parts = field.split(".")
    what = (f"from {parts[1]!r} to {parts[2]!r}" if len(parts) == 3
            else repr(field.removeprefix("rate.")))  # fmt: skip
    raise InputError(f"no mutation {what} in the scenario",
                     expected=", ".join(f"rate.{m['from']}.{m['to']}" for m in data["mutations"]),
                     found=field)  # fmt: skip


def _get(data: dict[str, Any], field: str) -> float:
    if field.startswith("rate."):
        return float(_mutation(data, field)["rate"])
    if field.startswith("types."):
        name = _type_of(field)
        if name not in data["types"]:
            raise InputError(f"no type {name!r} in the scenario", expected=", ".join(data["types"]),
                             found=name)  # fmt: skip
        own = data["types"][name].get("birth")
        return float(data["birth"] if own is None else own)
    return float(data[field])


def _set(data: dict[str, Any], field: str, value: float) -> None:
    if field.startswith("rate."):
        _mutation(data, field)["rate"] = value
    elif field.startswith("types."):
        data["types"][_type_of(field)]["birth"] = value
    else:
        data[field] = value


def _one(
    setting: RateSetting,
    data: dict[str, Any],
    paths: Sequence[str | Path],
    include_unverified: bool = False,
) -> dict[str, Any]:
    birth, death = float(data["birth"]), float(data["death"])
    if setting.kind == "kb":
        from trkres.models.evolution.kb_rates import kb_rate

        before = _get(data, setting.field)
        value, how = kb_rate(
            setting.classes, setting.per_base, include_unverified=include_unverified
        )
        _set(data, setting.field, value)
        return {"field": setting.field, "value": value, "unit": "per division",
                "previous": before, "source": setting.text, "file": "trkres knowledge base",
                "table": "resistance_mutations, bypass_alterations", "row": None,
                "column": "+".join(setting.classes), "quantity": how.split(" x ")[0],
                "mapping": how}  # fmt: skip
    if setting.kind == "arm":
        path = _find_table(paths, "growth_model")
        frame = _read(path)
        if "arm" not in frame.columns:
            raise InputError("result table lacks column 'arm'", location=Location(file=path, line=1),
                             expected="arm, slope", found=", ".join(map(str, frame.columns)))  # fmt: skip
        rows = [i for i, a in enumerate(frame["arm"]) if a == setting.arm]
        if len(rows) != 1:
            raise InputError(f"arm {setting.arm!r} {'not found' if not rows else 'found twice'}",
                             location=Location(file=path, column="arm"),
                             expected=", ".join(map(str, frame["arm"])), found=setting.arm)  # fmt: skip
        row = rows[0]
        if "slope_unit" in frame.columns and not str(frame.iloc[row]["slope_unit"]).startswith(
            "1/day"
        ):
            raise InputError("slope not per day", location=Location(file=path, row=row + 1, column="slope_unit"),
                             expected="1/day", found=str(frame.iloc[row]["slope_unit"]))  # fmt: skip
        slope = _number(frame, path, row, "slope")
        if setting.field in _DEATH_FIELDS:
            value, how = birth - slope, f"birth {birth:g} − slope {slope:g}"
        else:
            value, how = death + slope, f"death {death:g} + slope {slope:g}"
        quantity, column = f"slope of ln volume of arm {setting.arm}: {slope:g} per day", "slope"
    else:
        path = _find_table(paths, "gr_metrics")
        frame = _read(path)
        mask = pd.Series(True, index=frame.index)
        for k, v in setting.keys:
            if k not in frame.columns:
                raise InputError(f"result table lacks column {k!r}", location=Location(file=path, line=1),
                                 expected=k, found=", ".join(map(str, frame.columns)))  # fmt: skip
            mask &= frame[k] == v
        rows = list(mask.to_numpy().nonzero()[0])
        sel = ",".join(f"{k}={v}" for k, v in setting.keys)
        if len(rows) != 1:
            raise InputError(f"{len(rows)} rows match {sel}", location=Location(file=path),
                             expected="exactly one row (add keys: cell_line, agent, time, replicate ...)",
                             found=f"rows {', '.join(str(r + 1) for r in rows[:10]) or 'none'}")  # fmt: skip
        row = int(rows[0])
        gr = _number(frame, path, row, setting.column)
        if not -1 < gr <= 1:
            raise InputError("GR value out of range", location=Location(file=path, row=row + 1, column=setting.column),
                             expected="-1 < GR <= 1 (GR = -1: every cell dies at once, no rate)",
                             found=f"{gr:g}")  # fmt: skip
        factor = math.log2(1 + gr)
        value = birth - (birth - death) * factor
        how = (f"birth {birth:g} − (birth − death {death:g}) × log2(1 + {setting.column} {gr:g}) "
               f"[= × {factor:.4g}]")  # fmt: skip
        quantity, column = f"{setting.column} {gr:g} ({sel})", setting.column
    if not math.isfinite(value) or value < 0 or (setting.field not in _DEATH_FIELDS and value <= 0):
        raise InputError(f"{setting.text}: {setting.field} would be {value:g} per day",
                         location=Location(file=path, row=row + 1, column=column),
                         expected="birth > 0 and death >= 0 per day", found=how)  # fmt: skip
    before = _get(data, setting.field)
    _set(data, setting.field, value)
    return {"field": setting.field, "value": value, "unit": "per cell per day",
            "previous": before, "source": setting.text, "file": str(path),
            "table": path.stem, "row": row + 1, "column": column, "quantity": quantity,
            "mapping": how}  # fmt: skip


def apply_rates(
    data: dict[str, Any],
    settings: Sequence[str | RateSetting],
    paths: Sequence[str | Path],
    *,
    include_unverified: bool = False,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """A copy of a scenario mapping with ``settings`` applied in order, and the provenance
    table (field, value, unit, previous, source, file, table, row, column, quantity, mapping)."""
    out = copy.deepcopy(data)
    rows = []
    for s in settings:
        setting = parse_rate(s) if isinstance(s, str) else s
        if setting.field.startswith(("types.", "rate.")):
            _get(out, setting.field)  # unknown type or mutation → error before reading files
        rows.append(_one(setting, out, paths, include_unverified))
    table = pd.DataFrame(rows, columns=["field", "value", "unit", "previous", "source", "file",
                                            "table", "row", "column", "quantity", "mapping"])  # fmt: skip
    table["row"] = table["row"].astype("Int64")
    return out, table


def rates_from_results(
    scenario: Any,
    rates: Sequence[str],
    results: str | Path | Sequence[str | Path] = (),
    *,
    include_unverified: bool = False,
) -> tuple[Any, pd.DataFrame]:
    """``scenario`` (YAML path, mapping or Scenario) with ``rates`` (``FIELD=SOURCE``
    strings, see the module) read from ``results`` (result folders or TSVs): returns the
    changed :class:`Scenario` and the provenance table. ``include_unverified``: let
    ``kb:`` sources count needs_review facts of the knowledge base."""
    from trkres.models.evolution.scenario import scenario_from

    paths = [results] if isinstance(results, (str, Path)) else list(results)
    if isinstance(rates, str):  # one setting, not a sequence of its characters
        rates = [rates]
    model, _, _ = scenario_from(scenario)
    data, table = apply_rates(model.model_dump(by_alias=True), rates, paths,
                              include_unverified=include_unverified)  # fmt: skip
    try:
        changed, _, _ = scenario_from(data)
    except InputError as exc:
        # the rates were set by the user's --rate settings: say so, with each value set
        done = "; ".join(f"{r['field']} = {r['value']:.4g} from {r['source']}"
                         for r in table.to_dict("records"))  # fmt: skip
        exc.message = f"with the rates set ({done}): {exc.message}"
        raise
    return changed, table
