"""The always-on last report section: the knowledge the report relied on."""

from __future__ import annotations

from trkres.pl.knowledge import paralog_figure
from trkres.report.model import Flag, Section, Table
from trkres.study.registry import AnalysisContext, register


@register("knowledge", "Knowledge used", order=1000)
def knowledge_section(ctx: AnalysisContext) -> Section:
    """Facts used by the other sections, the equivalence table and all sources.

    Facts marked ``needs_review`` that a section relied on are flagged.
    """
    kb = ctx.knowledge
    facts = kb.facts_frame()
    used_by: dict[str, list[str]] = {}
    for name, section in ctx.previous.items():
        for key in section.facts_used:
            used_by.setdefault(key, []).append(name)
    positions = [f"kinase_positions:{p}" for p in kb.kinase_positions]
    for key in positions:
        used_by.setdefault(key, []).append("knowledge")
    keys = facts["topic"] + ":" + facts["id"]
    facts.insert(2, "used_by", [";".join(used_by.get(k, [])) for k in keys])
    used = facts[facts["used_by"] != ""].reset_index(drop=True)

    flags = []
    for row in used[used["status"] == "needs_review"].itertuples():
        if row.used_by == "knowledge":
            continue
        flags.append(
            Flag(
                "review",
                f"{row.topic} '{row.id}' ({row.summary}) is needs_review; used by {row.used_by}.",
            )
        )
    flags += [Flag("warning", f"Knowledge override: {notice}.") for notice in kb.notices]
    lab = facts[facts["origin"] != "trkres"]
    if len(lab):
        files = sorted(set(lab["origin"]))
        flags.append(
            Flag("info", f"{len(lab)} fact(s) come from lab knowledge files: {', '.join(files)}.")
        )
    n_review = int((facts["status"] == "needs_review").sum())
    summary = (
        f"Knowledge base version {kb.version}: {len(facts)} facts from {len(kb.sources)} sources; "
        f"{n_review} are marked needs_review (unverified in the curated notes) and are shown "
        "as such wherever they are used. The NTRK paralog positions come from an explicit "
        "equivalence table: the offset between paralogs is not constant."
    )
    return Section(
        name="knowledge",
        title="Knowledge used",
        summary=summary,
        tables=[
            Table(
                "knowledge_used",
                used,
                "Facts used by this report",
                "used_by names the report sections that relied on each fact.",
            ),
            Table(
                "knowledge_positions", kb.positions_frame(), "NTRK kinase-domain equivalence table"
            ),
            Table("knowledge_facts", facts, "All facts in the knowledge base"),
            Table("knowledge_sources", kb.sources_frame(), "Sources"),
        ],
        figures=[paralog_figure(kb)],
        flags=flags,
        facts_used=set(positions),
    )
