"""Mutation rates per resistance class from the knowledge base (issue 19 item 4).

rate(class) = (distinct resistance mutations the knowledge base lists for the class) ×
(rate of one specific base substitution per cell division). Counting:

* ``resistance_mutations``: each entry is one substitution; its class is its ``position``
  (``solvent_front``, ``gatekeeper``, ``xdfg``, ...); ``drug=`` keeps those whose
  ``resistant_to`` names the drug.
* ``bypass_alterations`` of type ``mutation``: class ``alteration_class`` (``mapk_bypass``,
  ``other_bypass``); each listed ``changes`` entry counts 1 and each hotspot ``residues``
  entry counts 1 (any substitution there: a lower bound, marked ``residue`` in the detail)
  unless a counted substitution of the same class already sits at that residue (BRAF V600E
  and the hotspot residue V600 count once).
  Entries with neither (any protein-altering mutation of the gene) and other alteration
  types (amplification, deletion, truncating, fusion) have no count of sites: they are listed
  as ``not counted`` and never enter a rate.
* Facts with status ``needs_review`` are reported and left out unless
  ``include_unverified=True``.

The default per-base rate is Bozic et al. 2013 (eLife 2:e00747): 1e-9 per base pair per cell
division, the point-mutation rate of its model; it is an assumption, marked as such in
every output, to be replaced by the user's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from trkres.errors import InputError

__all__ = [
    "DEFAULT_PER_BASE",
    "DEFAULT_PER_BASE_SOURCE",
    "class_rates",
    "kb_rate",
    "mutation_table",
]

DEFAULT_PER_BASE = 1e-9
DEFAULT_PER_BASE_SOURCE = (
    "default: Bozic et al. 2013 eLife 2:e00747, 1e-9 per base pair per division (an assumption)"
)


def mutation_table(drug: str | None = None, knowledge: Sequence[Path] = ()) -> pd.DataFrame:
    """Every resistance mutation and bypass alteration of the knowledge base with its class,
    status, how many sites it counts for (``sites``; 0 = not counted) and why."""
    from trkres.knowledge.loader import load_knowledge

    kb = load_knowledge(list(knowledge))
    wanted = None
    if drug is not None:
        # by the drugs table (names and synonyms: LOXO-101 is larotrectinib); an unknown name
        # is refused: a typo would silently leave every on-target class out
        found = kb.find_drug(drug)
        if found is None:
            raise InputError(f"unknown drug {drug!r}", expected="a drug of the knowledge base: "
                             + ", ".join(sorted(d.name for d in kb.drugs.values())), found=drug)  # fmt: skip
        wanted = found.id
    rows = []
    for fid, m in kb.resistance_mutations.items():
        if wanted is not None and not any(
            (hit := kb.find_drug(d)) is not None and hit.id == wanted for d in m.resistant_to
        ):
            continue
        rows.append({"class": m.position, "id": fid, "gene": m.gene, "change": m.change,
                     "status": m.status, "sites": 1, "counted_as": "substitution"})  # fmt: skip
    for fid, b in kb.bypass_alterations.items():
        base = {"class": b.alteration_class, "id": fid, "gene": b.gene, "status": b.status}
        if b.alteration_type != "mutation":
            rows.append({**base, "change": b.alteration_type, "sites": 0,
                         "counted_as": f"not counted ({b.alteration_type}: no per-base rate)"})  # fmt: skip
            continue
        if not b.changes and not b.residues:
            rows.append({**base, "change": "any", "sites": 0,
                         "counted_as": "not counted (any mutation of the gene: no site count)"})  # fmt: skip
            continue
        for c in b.changes:
            rows.append({**base, "change": c, "sites": 1, "counted_as": "substitution"})
        for r in b.residues:
            rows.append({**base, "change": r, "sites": 1,
                         "counted_as": "residue (any substitution; counted once: lower bound)"})  # fmt: skip
    cols = ["class", "id", "gene", "change", "status", "sites", "counted_as"]
    return pd.DataFrame(rows, columns=cols)


def _distinct(rows: pd.DataFrame) -> int:
    """Distinct sites: substitutions by (gene, change); a residue counts once unless a
    substitution at it is already counted."""
    subs = rows[rows["counted_as"] == "substitution"]
    keys = set(zip(subs["gene"], subs["change"], strict=True))
    at = {(g, c[:-1]) for g, c in keys}
    res = rows[rows["counted_as"] != "substitution"]
    extra = {(g, c) for g, c in zip(res["gene"], res["change"], strict=True) if (g, c) not in at}
    return len(keys) + len(extra)


def class_rates(
    per_base: float = DEFAULT_PER_BASE,
    *,
    include_unverified: bool = False,
    drug: str | None = None,
    knowledge: Sequence[Path] = (),
) -> pd.DataFrame:
    """Per resistance class: ``mutations`` (distinct sites counted), ``unverified`` (sites of
    needs_review facts, left out unless ``include_unverified``), ``not_counted`` (entries with
    no site count), ``rate`` = mutations × ``per_base`` (per division), and the source."""
    if isinstance(per_base, bool) or not isinstance(per_base, (int, float)) or not 0 < per_base < 1:
        raise InputError("bad per-base mutation rate", expected="0 < rate < 1 per base per division",
                         found=repr(per_base))  # fmt: skip
    if drug is not None and not isinstance(drug, str):
        raise InputError("bad drug", expected="a drug name (text) or None", found=repr(drug))
    table = mutation_table(drug, knowledge)
    source = DEFAULT_PER_BASE_SOURCE if per_base == DEFAULT_PER_BASE else "given by the user"
    rows = []
    for cls, g in table.groupby("class", sort=True):
        counted = g[g["sites"] > 0]
        verified = counted[counted["status"] == "verified"]
        unverified = counted[counted["status"] != "verified"]
        used = counted if include_unverified else verified
        n = _distinct(used)
        rows.append({
            "class": cls, "mutations": n, "verified": _distinct(verified),
            "unverified": _distinct(counted) - _distinct(verified),
            "unverified_used": bool(include_unverified and len(unverified)),
            "not_counted": int((g["sites"] == 0).sum()),
            "per_base_rate": float(per_base), "per_base_source": source,
            "rate": n * float(per_base), "rate_unit": "per division",
            "used": ", ".join(f"{a} {b}" for a, b in zip(used["gene"], used["change"], strict=True)),
            "unverified_ids": ", ".join(unverified["id"]),
        })  # fmt: skip
    return pd.DataFrame(rows)


def kb_rate(
    classes: Sequence[str],
    per_base: float = DEFAULT_PER_BASE,
    *,
    include_unverified: bool = False,
    drug: str | None = None,
) -> tuple[float, str]:
    """The summed rate of ``classes`` (e.g. ``["solvent_front", "gatekeeper", "xdfg"]``) and
    a sentence saying how it was counted."""
    table = class_rates(per_base, include_unverified=include_unverified, drug=drug)
    known = list(table["class"])
    unknown = [c for c in classes if c not in known]
    if unknown:
        raise InputError(f"unknown resistance class {', '.join(unknown)}", expected=", ".join(known),
                         found=", ".join(classes))  # fmt: skip
    sel = table[table["class"].isin(list(classes))]
    n = int(sel["mutations"].sum())
    if n == 0:
        raise InputError(f"no counted mutation in {', '.join(classes)}",
                         expected="a class with verified mutations (or include_unverified)",
                         found=f"{int(sel['unverified'].sum())} unverified, "
                         f"{int(sel['not_counted'].sum())} not counted")  # fmt: skip
    skipped = int(sel["unverified"].sum()) if not include_unverified else 0
    how = (f"{n} mutation(s) in {'+'.join(classes)} x {per_base:g} per base per division"
           f" ({sel['per_base_source'].iloc[0]})"
           + (f"; {skipped} needs_review mutation(s) left out" if skipped else "")
           + (f"; unverified included: {int(sel['unverified'].sum())}" if include_unverified else ""))  # fmt: skip
    return n * float(per_base), how
