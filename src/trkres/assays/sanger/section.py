"""The Sanger report section: each sample trace against its control/reference."""

from __future__ import annotations

import pandas as pd

from trkres.assays.sanger.options import SangerOptions
from trkres.assays.sanger.run import TABLE_TITLES, SangerResult, run_sanger
from trkres.errors import InputError
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

SUMMARY = (
    "Each trace's ends are quality-trimmed (Mott, as phred and Biopython), the trace is "
    "aligned to its reference (the reference file, else the control trace's calls; the "
    "reverse complement when it aligns better), and at each position the secondary-peak "
    "fraction alt / (ref + alt) comes from dye-normalised channel heights at the peak. A "
    "call must beat the call threshold (the critical value: the fraction the control's and "
    "the sample's noise exceed with probability alpha / positions, at most an alpha chance "
    "of any false call per trace, scaled by the local noise level within ±20 bases) and "
    "the control's own secondary peak at the site. The limit of detection is the fraction "
    "detected 95% of the time: a call can lie below it. Mutant fractions are corrected for the background under "
    "each peak; their 95% CI adds the flank spread to an assumed allele peak-ratio SD. "
    "Calls are named with the amplicon's frame and classed from the knowledge base."
)

#: Long per-position table: written to TSV, not shown in the HTML page.
_NOT_IN_REPORT = {"positions"}


def _label(name: str) -> str:
    for suffix in (".ab1", ".abi", ".scf", ".AB1", ".ABI", ".SCF"):
        name = name.removesuffix(suffix)
    return name


def flags(result: SangerResult, label: str) -> list[Flag]:
    """Warnings, decisions, and the --expect answer, per trace."""
    out = [Flag("warning", f"{label}: {w}") for w in result.warnings]
    expect = result.tables.get("expect")
    if expect is not None and len(expect):
        out.append(Flag("info", f"{label}: {expect['answer'].iloc[0]}"))
    calls = result.tables.get("calls")
    if calls is not None:
        seen: set[str] = set()  # calls in one codon share one name: flag it once
        for name, cls in calls[["protein_change", "alteration_class"]].itertuples(index=False):
            if cls and name not in seen:
                seen.add(name)
                out.append(Flag("warning", f"{label}: {name} ({cls}) detected"))
    out += [Flag("info", f"{label}: {n}") for n in result.notes]
    return out


@register("sanger", "Sanger traces", requires={InputKind.sanger}, options=SangerOptions,
          order=335)  # fmt: skip
def sanger_section(ctx: AnalysisContext) -> Section:
    """Every sanger input (sample trace, its control and reference, the expected mutation)."""
    from trkres.pl.sanger import sanger_figures

    opts = ctx.options if isinstance(ctx.options, SangerOptions) else SangerOptions()
    inputs = ctx.study.inputs_of(InputKind.sanger)
    frames: dict[str, list[pd.DataFrame]] = {}
    figures: list[Figure] = []
    found: list[Flag] = []
    facts: set[str] = set()
    folder = ctx.study.folder
    # Labels name figures and the tables' input column: x.ab1 and x.scf would both be 'x'
    # (one's figures written over the other's), so a shared label keeps the input's name.
    short = [_label(item.name) for item in inputs]
    labels = [
        s if short.count(s) == 1 else item.name for s, item in zip(short, inputs, strict=True)
    ]
    for i, item in enumerate(inputs):
        ctx.progress(i, len(inputs), f"sanger: {item.name}")
        options = opts.model_copy(update={"expect": item.expect}) if item.expect else opts
        label = labels[i]
        try:
            result = run_sanger(
                ctx.study.path_of(item), options,
                control=folder / item.control if item.control else None,
                reference=folder / item.reference if item.reference else None,
                knowledge=ctx.knowledge,
            )  # fmt: skip
        except InputError as exc:
            if exc.location is None:
                exc.message = f"sanger input {item.name!r} ({item.path}): {exc.message}"
            raise
        for name, frame in result.items():
            frames.setdefault(name, []).append(frame.assign(input=label))
        figures.extend(sanger_figures(result, prefix=f"sanger_{label}"))
        found.extend(flags(result, label))
        facts |= set(result.facts_used)
    tables = [
        Table(
            f"sanger_{name}",
            pd.concat(parts, ignore_index=True),
            TABLE_TITLES.get(name, name),
            in_report=name not in _NOT_IN_REPORT,
        )
        for name, parts in frames.items()
    ]
    return Section(name="sanger", title="Sanger traces", summary=SUMMARY, tables=tables,
                   figures=figures, flags=found, facts_used=facts)  # fmt: skip
