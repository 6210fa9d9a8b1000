"""Load, merge and validate knowledge files.

The shipped knowledge lives in ``trkres/knowledge/data/*.yaml``. A lab adds or
overrides facts with its own files (``--knowledge EXTRA.yaml``): entries are
merged by ``id`` within each topic, later files winning, and each fact records
the file it came from (``origin``) so reports can show lab-supplied facts.

Loading is cached: the shipped base is parsed once per process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from trkres.errors import KnowledgeError, Location
from trkres.knowledge.schema import (
    TOPICS,
    BypassAlteration,
    KnowledgeFile,
    parse_change,
    parse_residue,
)
from trkres.knowledge.store import KnowledgeBase
from trkres.yamlio import YamlDocument, read_yaml, validation_error

SHIPPED_ORIGIN = "trkres"


@dataclass
class LoadedFile:
    """One parsed knowledge file, with its YAML positions and checksum."""

    path: Path
    content: KnowledgeFile
    document: YamlDocument
    sha256: str
    origin: str


@dataclass
class ValidationReport:
    """What ``trkres knowledge validate`` found: facts counted, warnings."""

    files: list[Path]
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


def shipped_data_dir() -> Path:
    """The folder of the shipped knowledge YAML files."""
    return Path(str(resources.files("trkres.knowledge") / "data"))


def read_knowledge_file(path: Path, origin: str | None = None) -> LoadedFile:
    """Parse and schema-check one knowledge file (no cross-file checks).

    Raises :class:`KnowledgeError` with file, line and column on any problem.
    """
    doc = read_yaml(path, KnowledgeError)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise KnowledgeError(
            "a knowledge file must be a mapping of topics",
            location=doc.locate(()),
            expected=f"keys among: {', '.join(['version', *TOPICS])}",
            found=type(doc.data).__name__,
        )
    try:
        content = KnowledgeFile.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, KnowledgeError, "knowledge entry") from None
    origin = origin if origin is not None else str(path)
    if origin != SHIPPED_ORIGIN:
        content = _with_origin(content, origin)
    _check_unique_ids(content, doc)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedFile(path=path, content=content, document=doc, sha256=sha, origin=origin)


def _with_origin(content: KnowledgeFile, origin: str) -> KnowledgeFile:
    updates: dict[str, Any] = {}
    for topic in TOPICS:
        entries: list[BaseModel] = getattr(content, topic)
        updates[topic] = [e.model_copy(update={"origin": origin}) for e in entries]
    return content.model_copy(update=updates)


def _check_unique_ids(content: KnowledgeFile, doc: YamlDocument) -> None:
    for topic in TOPICS:
        seen: dict[str, int] = {}
        for i, entry in enumerate(getattr(content, topic)):
            ident = entry.id
            if ident in seen:
                raise KnowledgeError(
                    f"duplicate id '{ident}' in {topic}",
                    location=doc.locate((topic, i, "id")),
                    expected="ids unique within a topic of one file",
                    found=f"'{ident}' again (first as entry {seen[ident] + 1})",
                )
            seen[ident] = i


def _shipped_files() -> list[Path]:
    return sorted(shipped_data_dir().glob("*.yaml"))


@lru_cache(maxsize=8)
def _load_cached(extra: tuple[tuple[str, float], ...]) -> KnowledgeBase:
    files = [read_knowledge_file(p, SHIPPED_ORIGIN) for p in _shipped_files()]
    files += [read_knowledge_file(Path(p)) for p, _mtime in extra]
    return merge(files)


def load_knowledge(extra: Sequence[Path] = ()) -> KnowledgeBase:
    """The shipped knowledge base, merged with a lab's ``extra`` files in order.

    Parsed once per process for each distinct list of files (a changed file is
    re-read). Raises :class:`KnowledgeError` pointing at the offending line.
    """
    key: list[tuple[str, float]] = []
    for p in extra:
        path = Path(p)
        if not path.is_file():
            raise KnowledgeError(
                "knowledge file not found",
                location=Location(file=path),
                expected="an existing YAML file",
            )
        key.append((str(path.resolve()), path.stat().st_mtime))
    # One file given twice (a study's knowledge input and --knowledge) is read once: read
    # twice, each of its facts was said to 'replace' itself in the report's flags.
    return _load_cached(tuple(dict.fromkeys(key)))


def describes(topic: str, entry: Any) -> list[tuple[str, ...]]:
    """What a fact says something about, as keys two facts may share.

    A resistance mutation: its gene and change; a kinase position: each
    gene's residue number; a bypass alteration: each exact change, each
    hotspot residue, or (neither listed) its gene and alteration type. Two
    facts sharing a key describe the same alteration: the later one decides.
    """
    if topic == "resistance_mutations":
        return [("mutation", entry.gene, entry.change)]
    if topic == "kinase_positions":
        return [("residue", g, str(parse_residue(r.residue)[1])) for g, r in entry.residues.items()]
    if topic == "bypass_alterations":
        keys: list[tuple[str, ...]] = [
            ("change", entry.gene, entry.alteration_type, c) for c in entry.changes
        ]
        keys += [("residue", entry.gene, entry.alteration_type, r) for r in entry.residues]
        return keys or [("gene", entry.gene, entry.alteration_type)]
    return []


def _label(key: tuple[str, ...]) -> str:
    return " ".join(k for k in key[1:] if k not in ("mutation",))


def merge(files: Sequence[LoadedFile]) -> KnowledgeBase:
    """Merge parsed files by id (later wins) and check cross-references.

    Overrides are never silent (:attr:`KnowledgeBase.notices`): a lab fact
    with a shipped fact's id replaces it; a lab fact with a new id that
    describes the same alteration as a shipped fact (:func:`describes`)
    shadows it; a lab id repeated in a later lab file replaces the earlier
    one. Two lab facts with different ids for the same alteration are a
    :class:`KnowledgeError` naming both files and ids. A lab fact marked verified that
    cites no source with a PMID or DOI is used as needs_review, and where a lab bypass
    fact and another file's cover one mutation at different levels (change, residue,
    gene) the one that decides is stated (both as notices).
    """
    version = None
    merged: dict[str, dict[str, Any]] = {t: {} for t in TOPICS}
    where: dict[tuple[str, str], tuple[LoadedFile, int]] = {}
    owner: dict[tuple[str, tuple[str, ...]], str] = {}  # (topic, key) → id describing it
    notices: list[str] = []
    for lf in files:
        if lf.content.version and lf.origin == SHIPPED_ORIGIN:
            version = lf.content.version
        lab = lf.origin != SHIPPED_ORIGIN
        for topic in TOPICS:
            for i, entry in enumerate(getattr(lf.content, topic)):
                old = merged[topic].get(entry.id)
                if lab and old is not None:
                    notices.append(
                        f"{topic} '{entry.id}' from {lf.path} replaces the "
                        + ("shipped" if old.origin == SHIPPED_ORIGIN else f"{old.origin}")
                        + f" fact with that id ({old.status})"
                    )
                for key in describes(topic, entry):
                    other_id = owner.get((topic, key))
                    if lab and other_id is not None and other_id != entry.id:
                        other = merged[topic][other_id]
                        if other.origin != SHIPPED_ORIGIN:
                            olf, _ = where[(topic, other_id)]
                            raise KnowledgeError(
                                f"two lab facts describe {_label(key)}: {topic} '{other_id}' in "
                                f"{olf.path} and '{entry.id}' in {lf.path}",
                                location=lf.document.locate((topic, i, "id")),
                                expected="one fact per alteration across lab files (reuse the id "
                                f"'{other_id}' to override it on purpose)",
                                found=f"'{entry.id}'",
                            )
                        notices.append(
                            f"{topic} '{entry.id}' from {lf.path} shadows the shipped "
                            f"'{other_id}' ({other.status}) for {_label(key)}: the lab fact "
                            "decides"
                        )
                    owner[(topic, key)] = entry.id
                merged[topic][entry.id] = entry
                where[(topic, entry.id)] = (lf, i)
    notices += _unsourced_lab_facts(merged)
    notices += _precedence_notices(merged["bypass_alterations"])
    extras = [lf for lf in files if lf.origin != SHIPPED_ORIGIN]
    kb = KnowledgeBase(
        version=version or "unversioned",
        extra_files=tuple(lf.path for lf in extras),
        checksums={str(lf.path): lf.sha256 for lf in files},
        notices=tuple(dict.fromkeys(notices)),
        **{t: dict(merged[t]) for t in TOPICS},
    )
    _check_references(kb, where)
    return kb


def _unsourced_lab_facts(merged: dict[str, dict[str, Any]]) -> list[str]:
    """Lab facts marked ``verified`` that cite no source with a PMID or DOI become
    ``needs_review`` (in ``merged``), each with a notice: a headline call rests on
    published evidence only (DEVELOPERS.md), and a lab's own data (level ``lab``, a source
    with a citation or URL alone) is not that. Citing a shipped source (e.g.
    ``russo2016``) or a lab source with a PMID/DOI keeps ``verified``."""
    sources = merged["sources"]
    notices = []
    for topic in TOPICS:
        if topic == "sources":
            continue
        for ident, fact in merged[topic].items():
            if fact.origin == SHIPPED_ORIGIN or fact.status != "verified":
                continue
            cited = [sources.get(ev.source) for ev in fact.evidence]
            if any(src is not None and (src.pmid or src.doi) for src in cited):
                continue
            merged[topic][ident] = fact.model_copy(update={"status": "needs_review"})
            notices.append(
                f"{topic} '{ident}' from {fact.origin} is marked verified but cites no source "
                f"with a PMID or DOI ({', '.join(ev.source for ev in fact.evidence)}): it is "
                "used as needs_review"
            )
    return notices


def _precedence_notices(bypass: dict[str, BypassAlteration]) -> list[str]:
    """Where a lab bypass fact and a fact from another file cover one mutation at
    different levels, the more specific decides (an exact change, then a hotspot residue,
    then the gene: :class:`trkres.genomics.annotate.Annotator`). Neither way is silent: a
    lab change at a shipped hotspot residue decides for that change, and a shipped change
    at a lab hotspot residue keeps deciding for that change."""
    exact: dict[tuple[str, str], BypassAlteration] = {}
    residue: dict[tuple[str, str], BypassAlteration] = {}
    gene: dict[str, BypassAlteration] = {}
    for fact in bypass.values():
        for change in fact.changes:
            exact[(fact.gene, change)] = fact
        for res in fact.residues:
            residue[(fact.gene, res)] = fact
        if not fact.changes and not fact.residues and fact.alteration_type == "mutation":
            gene[fact.gene] = fact
    notices = []

    def note(
        lab: BypassAlteration, other: BypassAlteration | None, what: str, lab_decides: bool
    ) -> None:
        if other is None or other.origin == lab.origin:
            return
        where = "the shipped" if other.origin == SHIPPED_ORIGIN else f"{other.origin}'s"
        if lab_decides:
            notices.append(
                f"bypass_alterations '{lab.id}' from {lab.origin} is more specific than "
                f"{where} '{other.id}' ({other.status}) and decides for {lab.gene} {what}"
            )
        else:
            notices.append(
                f"bypass_alterations '{lab.id}' from {lab.origin} does not decide for "
                f"{lab.gene} {what}: {where} '{other.id}' ({other.status}) names it more exactly"
            )

    for lab in bypass.values():
        if lab.origin == SHIPPED_ORIGIN:
            continue
        for change in lab.changes:
            note(lab, residue.get((lab.gene, change[:-1])), change, True)
            if (lab.gene, change[:-1]) not in residue:
                note(lab, gene.get(lab.gene), change, True)
        for res in lab.residues:
            note(lab, gene.get(lab.gene), f"{res} (any change)", True)
            for (g, change), other in exact.items():
                if g == lab.gene and change[:-1] == res:
                    note(lab, other, change, False)
        if gene.get(lab.gene) is lab:  # the gene's other mutations: not where named more exactly
            for (g, res), other in residue.items():
                if g == lab.gene:
                    note(lab, other, f"{res} (any change)", False)
            for (g, change), other in exact.items():
                if g == lab.gene and (g, change[:-1]) not in residue:
                    note(lab, other, change, False)
    return notices


def _ref_error(
    where: dict[tuple[str, str], tuple[LoadedFile, int]],
    topic: str,
    ident: str,
    field_path: tuple[str | int, ...],
    message: str,
    expected: str,
    found: str,
) -> KnowledgeError:
    lf, index = where[(topic, ident)]
    return KnowledgeError(
        message,
        location=lf.document.locate((topic, index, *field_path)),
        expected=expected,
        found=found,
    )


def _check_references(
    kb: KnowledgeBase, where: dict[tuple[str, str], tuple[LoadedFile, int]]
) -> None:
    """Every id a fact names must exist; residues must agree with positions."""
    sources = set(kb.sources)
    for topic in TOPICS:
        if topic == "sources":
            continue
        for ident, fact in getattr(kb, topic).items():
            for j, ev in enumerate(fact.evidence):
                if ev.source not in sources:
                    raise _ref_error(
                        where,
                        topic,
                        ident,
                        ("evidence", j, "source"),
                        f"{topic} '{ident}' cites an unknown source",
                        "the id of an entry under 'sources'",
                        repr(ev.source),
                    )
    genes = {g.symbol for g in kb.genes.values()}
    for ident, pos in kb.kinase_positions.items():
        for gene in pos.residues:
            if gene not in genes:
                raise _ref_error(
                    where,
                    "kinase_positions",
                    ident,
                    ("residues", gene),
                    "kinase position names a gene missing from 'genes'",
                    "a gene symbol listed under 'genes'",
                    gene,
                )
    for ident, mut in kb.resistance_mutations.items():
        site = kb.kinase_positions.get(mut.position)
        if site is None:
            raise _ref_error(
                where,
                "resistance_mutations",
                ident,
                ("position",),
                "resistance mutation names an unknown kinase position",
                "the id of an entry under 'kinase_positions'",
                repr(mut.position),
            )
        ref, number, _alt = parse_change(mut.change)
        residue = site.residues.get(mut.gene)
        if residue is None or parse_residue(residue.residue) != (ref, number):
            raise _ref_error(
                where,
                "resistance_mutations",
                ident,
                ("change",),
                f"{mut.gene} {mut.change} does not sit at position '{site.id}'",
                f"{mut.gene} {residue.residue if residue else '(no residue)'} at that position",
                mut.change,
            )
        for k, drug_name in enumerate(mut.resistant_to):
            if kb.find_drug(drug_name) is None:
                raise _ref_error(
                    where,
                    "resistance_mutations",
                    ident,
                    ("resistant_to", k),
                    "unknown drug_name",
                    "a drug_name name or synonym under 'drugs'",
                    repr(drug_name),
                )
    for ident, byp in kb.bypass_alterations.items():
        if byp.gene not in genes:
            raise _ref_error(
                where,
                "bypass_alterations",
                ident,
                ("gene",),
                "bypass alteration names a gene missing from 'genes'",
                "a gene symbol listed under 'genes'",
                byp.gene,
            )
    for ident, strat in kb.therapy_strategies.items():
        for k, sd in enumerate(strat.example_drugs):
            if kb.find_drug(sd.drug) is None:
                raise _ref_error(
                    where,
                    "therapy_strategies",
                    ident,
                    ("example_drugs", k, "drug"),
                    "unknown drug",
                    "a drug name or synonym under 'drugs'",
                    repr(sd.drug),
                )
    for ident, rule in kb.therapy_rules.items():
        for k, sid in enumerate(rule.strategies):
            if sid not in kb.therapy_strategies:
                raise _ref_error(
                    where,
                    "therapy_rules",
                    ident,
                    ("strategies", k),
                    "therapy rule names an unknown strategy",
                    f"one of: {', '.join(sorted(kb.therapy_strategies))}",
                    repr(sid),
                )
        if rule.when.alteration_class not in kb.alteration_classes:
            raise _ref_error(
                where,
                "therapy_rules",
                ident,
                ("when", "alteration_class"),
                "therapy rule names an undefined alteration class",
                "an id under 'alteration_classes'",
                rule.when.alteration_class,
            )
        for k, fid in enumerate(rule.when.facts):
            if fid not in kb.resistance_mutations and fid not in kb.bypass_alterations:
                raise _ref_error(
                    where,
                    "therapy_rules",
                    ident,
                    ("when", "facts", k),
                    "therapy rule names an unknown fact",
                    "an id under 'resistance_mutations' or 'bypass_alterations'",
                    repr(fid),
                )
    seen_names: dict[str, str] = {}
    for ident, entry in kb.drugs.items():
        for k, name in enumerate([entry.name, *entry.synonyms]):
            key = name.casefold()
            if key in seen_names and seen_names[key] != ident:
                raise _ref_error(
                    where,
                    "drugs",
                    ident,
                    ("synonyms", k - 1) if k else ("name",),
                    f"drug name '{name}' is used by two drugs",
                    "each name or synonym naming one drug",
                    f"'{name}' also names '{seen_names[key]}'",
                )
            seen_names[key] = ident


def validate_files(paths: Sequence[Path]) -> ValidationReport:
    """Validate the shipped base merged with ``paths`` (empty: shipped only).

    Raises :class:`KnowledgeError` at the first error; returns counts and
    warnings (e.g. sources with neither PMID nor DOI).
    """
    shipped = [read_knowledge_file(p, SHIPPED_ORIGIN) for p in _shipped_files()]
    extra = [read_knowledge_file(Path(p)) for p in paths]
    kb = merge(shipped + extra)
    warnings = []
    for src in kb.sources.values():
        if not (src.pmid or src.doi):
            kind = "URL only" if src.url else "no identifier"
            warnings.append(f"source '{src.id}' ({src.origin}) has no PMID or DOI ({kind})")
    warnings += list(kb.notices)
    counts = {t: len(getattr(kb, t)) for t in TOPICS}
    files = [lf.path for lf in shipped + extra]
    return ValidationReport(files=files, counts=counts, warnings=warnings)


def knowledge_from(value: object) -> KnowledgeBase:
    """The knowledge base a Python API call names (``knowledge=``): a loaded
    :class:`KnowledgeBase` as it is, ``None`` for the shipped one, or the path (or list of
    paths) of a lab's extra YAML merged into it. Anything else is an ``InputError``."""
    import os

    from trkres.errors import InputError
    from trkres.frames import check_path

    if isinstance(value, KnowledgeBase):
        return value
    if value is None:
        return load_knowledge()
    items = [value] if isinstance(value, str | os.PathLike) else value
    if not isinstance(items, list | tuple):
        raise InputError("bad knowledge", expected="a KnowledgeBase, or knowledge YAML path(s)",
                         found=type(value).__name__)  # fmt: skip
    return load_knowledge([check_path(os.fspath(v) if isinstance(v, os.PathLike) else v,
                                      "knowledge file") for v in items])  # fmt: skip
