"""Knowledge commands: knowledge show, knowledge validate."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from trkres.cli._app import (
    KnowledgeOption,
    knowledge_app,
    log,
    out_console,
)
from trkres.errors import TrkresError


@knowledge_app.command("show")
def knowledge_show(
    topic: Annotated[
        str | None,
        typer.Argument(
            help="A topic (genes, kinase_positions, resistance_mutations, bypass_alterations, "
            "drugs, therapy_strategies, therapy_rules, alteration_classes, hotspot_codons, "
            "potencies, residue_maps, sources), "
            "or a fact id such as ntrk1_g595r ('NTRK1 G595R' finds it too). Omit for a summary."
        ),
    ] = None,
    tsv: Annotated[bool, typer.Option("--tsv", help="Print tab-separated values.")] = False,
    knowledge: KnowledgeOption = None,
) -> None:
    """Show the knowledge base: a summary, one topic as a table, or one fact in full.

    Examples:  trkres knowledge show drugs
               trkres knowledge show ntrk3_g623r
    """
    from trkres.knowledge import load_knowledge
    from trkres.knowledge.schema import TOPICS

    kb = load_knowledge(knowledge or ())
    facts = kb.facts_frame()
    if topic is None:
        counts = facts.groupby(["topic", "status"]).size().unstack(fill_value=0)
        table = RichTable("topic", "verified", "needs_review", title=f"knowledge {kb.version}")
        for name, row in counts.iterrows():
            table.add_row(str(name), str(row.get("verified", 0)), str(row.get("needs_review", 0)))
        out_console.print(table)
        out_console.print(
            f"{len(kb.sources)} sources; extra files: "
            f"{', '.join(map(str, kb.extra_files)) or 'none'}"
        )
        return
    if topic == "sources":
        frame = kb.sources_frame()
    elif topic == "kinase_positions" and not tsv:
        frame = kb.positions_frame()
    elif topic in TOPICS:
        frame = facts[facts["topic"] == topic].drop(columns=["topic", "statement"])
    else:
        match = facts[facts["id"] == topic]
        if match.empty:  # 'NTRK3 G623R' or 'NTRK3_G623R' for the id ntrk3_g623r
            key = re.sub(r"[\s\-]+", "_", topic.strip()).lower()
            match = facts[facts["id"].astype(str).str.lower() == key]
        if match.empty:
            raise TrkresError(
                f"no topic or fact named '{topic}'",
                expected=f"a topic ({', '.join(TOPICS)}) or a fact id (e.g. ntrk1_g595r)",
                found=topic,
            )
        for record in match.to_dict(orient="records"):
            fact = kb.all_facts()[f"{record['topic']}:{record['id']}"]
            out_console.print(fact.model_dump_json(indent=2, exclude_none=True), markup=False)
        return
    if tsv:
        sys.stdout.write(frame.to_csv(sep="\t", index=False))
        return
    table = RichTable(*map(str, frame.columns), title=topic, show_lines=False)
    for cells in frame.astype(str).itertuples(index=False):
        table.add_row(*cells)
    out_console.print(table)


@knowledge_app.command("validate")
def knowledge_validate(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Knowledge YAML files to check on top of the shipped base."),
    ] = None,
) -> None:
    """Validate knowledge files: schema, ids, cross-references, evidence sources.

    With no FILE, validates the shipped knowledge base. Errors give the file, line
    and column; warnings (e.g. a source without PMID or DOI) do not fail.

    Example:  trkres knowledge validate my_lab_facts.yaml
    """
    from trkres.knowledge import validate_files

    report = validate_files(files or [])
    for warning in report.warnings:
        log.warning(warning)
    total = sum(report.counts.values())
    out_console.print(
        f"[green]valid[/green]: {total} entries in {len(report.files)} file(s) "
        f"({', '.join(f'{k} {v}' for k, v in report.counts.items())})"
    )
