"""Plate maps made in the app's plate layout editor (96 or 384 wells).

The editor sends one record per well; the map is written as the YAML plate map that
``trkres plate --map`` and study plates read (``plate_size``, ``unit``, ``wells``), read
back with that same reader before it is kept, and stored as an attachment to link to a
plate input.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from trkres.errors import InputError, Location

#: Well fields the editor may set, besides ``well`` and ``role``.
FIELDS = ("cell_line", "drug1", "conc1", "drug2", "conc2", "replicate")
ROLES = ("sample", "vehicle", "blank", "positive_control", "empty")
UNITS = ("M", "mM", "uM", "µM", "nM", "pM")
MAX_WELLS = 384
_MOLAR = {"M": 1.0, "mM": 1e-3, "uM": 1e-6, "µM": 1e-6, "nM": 1e-9, "pM": 1e-12}


def plate_map_yaml(body: Any) -> tuple[str, str]:
    """(file name, YAML text) of the plate map the editor sent; its shape checked here,
    its content by the plate map reader afterwards."""
    if not isinstance(body, dict):
        raise InputError("a plate map is a JSON object", found=type(body).__name__)
    from trkres.app.studies import display_name

    name = display_name(str(body.get("name") or "plate_map"))[:120]
    name = name.rsplit(".", 1)[0] if name.lower().endswith((".yaml", ".yml")) else name
    if not name.strip(". "):  # ".yaml" alone: a hidden file with no suffix, read as a table
        name = "plate_map"
    size = body.get("plate_size")
    if size not in (96, 384):
        raise InputError("unknown plate size", expected="96 or 384", found=repr(size)[:40])
    unit = body.get("unit", "nM")
    if unit not in UNITS:
        raise InputError("unknown dose unit", expected=", ".join(UNITS), found=repr(unit)[:40])
    wells = body.get("wells")
    if not isinstance(wells, list) or not wells or len(wells) > MAX_WELLS:
        raise InputError("a plate map lists its wells", expected=f"1 to {MAX_WELLS} wells",
                         found=f"{len(wells) if isinstance(wells, list) else type(wells).__name__}")  # fmt: skip
    records = []
    for n, well in enumerate(wells, start=1):
        if not isinstance(well, dict) or "well" not in well or "role" not in well:
            raise InputError(f"well {n} needs 'well' and 'role'", found=repr(well)[:80],
                             location=Location(row=n))  # fmt: skip
        extra = set(well) - {"well", "role", *FIELDS}
        if extra:
            raise InputError(f"well {n}: unknown field", expected=", ".join(("well", "role", *FIELDS)),
                             found=", ".join(sorted(map(str, extra)))[:80])  # fmt: skip
        record: dict[str, Any] = {"well": str(well["well"]), "role": str(well["role"])}
        for field in FIELDS:
            value = well.get(field)
            if value in (None, ""):
                continue
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise InputError(f"well {n}: '{field}' must be text or a number",
                                 found=repr(value)[:80])  # fmt: skip
            record[field] = value
        records.append(record)
    doc = {"plate_size": size, "unit": "uM" if unit == "µM" else unit, "wells": records}
    text = "# Plate map made in the trkres app's plate layout editor.\n" + yaml.safe_dump(
        doc, sort_keys=False, allow_unicode=True
    )
    return f"{name}.yaml", text


def plate_map_json(path: Path, shown: str) -> dict[str, Any]:
    """A stored plate map for the editor: its wells as the plate map reader reads them, doses
    in the map's own unit (``unit:`` of a YAML map; molar otherwise), and its plate size."""
    from trkres.assays.plates.wells import read_plate_map
    from trkres.study.validate import read_named

    frame = read_named(path, shown, read_plate_map)
    size = frame.attrs.get("plate_size")
    if size is None:
        size = 384 if frame["row"].max() > 8 or frame["column"].max() > 12 else 96
    unit, factor = "M", 1.0
    try:  # a map written in a unit (the editor's own, or a YAML map with 'unit:') keeps it
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        doc = None
    if isinstance(doc, dict) and doc.get("unit") in _MOLAR:
        unit, factor = str(doc["unit"]), _MOLAR[str(doc["unit"])]
    wells = []
    for record in frame.to_dict(orient="records"):
        well = re.sub(r"^([A-Z]+)0*(\d+)$", r"\1\2", str(record["well"]))  # A01 → A1
        out = {"well": well, "role": record["role"]}
        for field in FIELDS:
            value = record.get(field)
            if value is not None and value == value and value != "":  # NaN is no value
                value = value.item() if hasattr(value, "item") else value
                if field.startswith("conc") and isinstance(value, float):
                    value = value / factor  # molar (as read) → the map's own unit
                out[field] = float(f"{value:.12g}") if isinstance(value, float) else value
        wells.append(out)
    return {"name": shown, "plate_size": int(size), "unit": unit, "wells": wells}
