"""Two runs side by side: options that differ, tables and how much of them changed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from trkres.app.store import Store


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: repr(value)}


def table_difference(a: pd.DataFrame, b: pd.DataFrame) -> str:
    """In words: identical, how many cells differ, or how the shapes differ."""
    if list(a.columns) != list(b.columns):
        return "different columns"
    if len(a) != len(b):
        return f"{len(a)} vs {len(b)} rows"
    left, right = a.reset_index(drop=True), b.reset_index(drop=True)
    differs = ~((left == right) | (left.isna() & right.isna()))
    cells = int(differs.to_numpy().sum())
    if cells == 0:
        return "identical"
    rows = int(differs.any(axis=1).sum())
    return f"{cells} cell(s) differ in {rows} row(s)"


def compare_runs(store: Store, a: str, b: str) -> dict[str, Any]:
    """What the compare page shows for runs ``a`` and ``b``."""
    run_a, run_b = store.run(a), store.run(b)
    opts_a, opts_b = _flatten(run_a["options"]), _flatten(run_b["options"])
    options = [
        {"key": k, "a": opts_a.get(k, "—"), "b": opts_b.get(k, "—")}
        for k in sorted(set(opts_a) | set(opts_b))
        if opts_a.get(k) != opts_b.get(k)
    ]
    inputs = _inputs_differ(store, run_a["definition"], run_b["definition"])
    unfinished = [f"run {label} is {run['status']}" for label, run in (("A", run_a), ("B", run_b))
                  if run["status"] != "done"]  # fmt: skip
    tables_a = {t["name"]: t for t in store.run_tables(a)}
    tables_b = {t["name"]: t for t in store.run_tables(b)}
    tables = []
    for name in sorted(set(tables_a) | set(tables_b)):
        ta, tb = tables_a.get(name), tables_b.get(name)
        if ta is not None and tb is not None:
            verdict = table_difference(store.frame(ta["db_table"]), store.frame(tb["db_table"]))
        elif unfinished:  # a run with no tables yet did not "lack" this one
            verdict = "not comparable: " + "; ".join(unfinished)
        else:
            verdict = "only in run A" if ta is not None else "only in run B"
        tables.append(
            {
                "name": name,
                "rows_a": ta["rows"] if ta else None,
                "rows_b": tb["rows"] if tb else None,
                "verdict": verdict,
            }
        )
    return {"a": run_a, "b": run_b, "options": options, "inputs": inputs, "tables": tables,
            "unfinished": unfinished}  # fmt: skip


def _inputs_differ(store: Store, a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, str]]:
    """Inputs whose files (by content) or settings differ between two runs' studies."""

    def described(definition: dict[str, Any]) -> dict[str, str]:
        out = {}
        for item in definition.get("inputs", []):
            parts = []
            for field, value in sorted(item.items()):
                if field == "id":
                    continue
                if field == "file" or field in ("layout", "loading_control", "rois", "control",
                                                "reference"):  # fmt: skip
                    file = store.file(value)
                    value = f"{file.name} ({file.sha256[:10]})"
                parts.append(f"{field}: {value}")
            out[item["id"]] = "; ".join(parts)
        return out

    da, db = described(a), described(b)
    return [{"input": k, "a": da.get(k, "—"), "b": db.get(k, "—")}
            for k in sorted(set(da) | set(db)) if da.get(k) != db.get(k)]  # fmt: skip
