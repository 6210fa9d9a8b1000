"""``run_sanger``: a sample chromatogram against a control trace and/or reference → the
secondary-peak fraction at each position, calls with their CI and limit of detection,
codon and protein names, and the answer to ``--expect``.

The one orchestration of the Sanger analysis (``trkres sanger``, the study section and
``tr.sanger.compare`` call it); it reads and computes, and writes nothing. Steps: read the
traces → Mott-trim their ends → choose the reference (the reference file, else the
control's base calls, else the sample's own) → orient each trace (the reverse complement
when it aligns better) and align its trimmed calls to the reference → channel heights at
each peak, dye-normalised → fractions, noise, calls (see :mod:`.caller`) → names
(:mod:`.naming`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.assays.sanger import caller
from trkres.assays.sanger.io import BASES, Reference, Trace
from trkres.assays.sanger.options import SangerOptions
from trkres.errors import InputError
from trkres.results import TableResult
from trkres.study.registry import ProgressCallback, no_progress

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase

__all__ = ["CALL_COLUMNS", "TABLE_TITLES", "OrientedTrace", "SangerResult", "run_sanger"]

TraceInput = str | os.PathLike[str] | Trace
ReferenceInput = str | os.PathLike[str] | Reference

#: Columns of ``calls.tsv`` (the issue's first ten, then context).
CALL_COLUMNS = [
    "position", "ref", "alt", "mutant_fraction", "ci_low", "ci_high", "noise", "call",
    "codon", "protein_change", "gene", "sample_position", "raw_fraction", "control_fraction",
    "noise_level", "lod", "quality", "alteration_class", "class_fact", "known_fact",
    "fact_status", "annotation_note",
]  # fmt: skip

TABLE_TITLES = {
    "calls": "Calls: secondary peaks above the noise, with mutant fraction, 95% CI and name",
    "expect": "The mutation asked about: detected or not, at what fraction",
    "positions": "Every aligned position: secondary-peak fraction, control, flank noise",
    "summary": "Traces, trimming, alignment and the limit of detection",
}

#: Lowest share of matching bases between a trace and the reference before a warning.
MIN_IDENTITY = 0.9
#: Below this share the trace is taken to be of another amplicon: an error, not calls.
NOT_SAME_AMPLICON = 0.75


@dataclass(frozen=True, eq=False)
class OrientedTrace:
    """A trace as compared: oriented to the reference, trimmed, aligned and normalised.

    ``trim``: ``(start, end)`` 0-based end-exclusive; ``to_trace``: reference position →
    trace base index (-1 unaligned); ``heights``: peak heights (RFU, 4 × bases);
    ``norm``: the same, dye-normalised."""

    trace: Trace
    role: str
    reversed: bool
    trim: tuple[int, int]
    to_trace: np.ndarray
    heights: np.ndarray
    norm: np.ndarray
    identity: float


@dataclass(frozen=True, eq=False)
class SangerResult(TableResult):
    """Every Sanger table by name with the traces as compared.

    Tables: ``calls`` (:data:`CALL_COLUMNS`), ``expect`` (with ``expect``), ``positions``,
    ``summary``. ``sample`` / ``control`` hold the oriented traces (for the figures);
    ``reference`` the reference sequence; ``lod`` the limit of detection (fraction 0-1).
    """

    sample: OrientedTrace | None = None
    control: OrientedTrace | None = None
    reference: str = ""
    reference_name: str = ""
    lod: float = float("nan")
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    facts_used: tuple[str, ...] = ()
    options: SangerOptions = field(default_factory=SangerOptions)


def _trace(item: TraceInput, what: str) -> Trace:
    from trkres.assays.sanger.io import read_trace

    if isinstance(item, Trace):
        return item
    if isinstance(item, (str, os.PathLike)) and not isinstance(item, bytes):
        return read_trace(Path(os.fspath(item)))
    raise InputError(f"not a {what} trace", expected="a path to an .ab1 or .scf file or a Trace",
                     found=type(item).__name__)  # fmt: skip


def _reference(item: ReferenceInput) -> Reference:
    from trkres.assays.sanger.io import read_reference

    if isinstance(item, Reference):
        return item
    if isinstance(item, (str, os.PathLike)):
        return read_reference(Path(os.fspath(item)))
    raise InputError("not a reference", expected="a FASTA/GenBank path or a Reference",
                     found=type(item).__name__)  # fmt: skip


def _orient(trace: Trace, role: str, ref: str, options: SangerOptions, try_reverse: bool,
            notes: list[str], warnings: list[str]) -> OrientedTrace:  # fmt: skip
    """Trim, orient (reverse complement when it aligns better), align and normalise."""
    candidates = [(trace, False)]
    if try_reverse:
        candidates.append((caller.reverse_complement(trace), True))
    best: tuple[float, Trace, bool, tuple[int, int], caller.Aligned] | None = None
    for cand, rev in candidates:
        start, end = caller.mott_trim(cand.quality, options.trim_cutoff)
        aligned = caller.align_to(ref, cand.bases[start:end])
        if best is None or aligned.score > best[0]:
            best = (aligned.score, cand, rev, (start, end), aligned)
    assert best is not None
    _, chosen, rev, (start, end), aligned = best
    name = trace.name
    if end - start < 20:
        raise InputError(f"{role} trace {name}: too few good bases after quality trimming",
                         expected="at least 20 bases with Phred quality above the trim cutoff",
                         found=f"{end - start} bases (of {len(trace)})")  # fmt: skip
    to_trace = np.where(aligned.to_trace >= 0, aligned.to_trace + start, -1)
    keep = np.zeros(len(chosen), dtype=bool)
    keep[start:end] = True
    heights = caller.peak_heights(chosen, options.window)
    norm = caller.dye_normalised(chosen, heights, keep)
    notes.append(f"{role} {name}: bases {start + 1}-{end} of {len(chosen)} kept after trimming"
                 + (" (quality cutoff " + f"{options.trim_cutoff:g})" if chosen.has_quality else
                    " (no qualities: not trimmed)")
                 + f"; {aligned.aligned} aligned, {aligned.identity:.1%} identical"
                 + ("; read as its reverse complement" if rev else ""))  # fmt: skip
    if aligned.aligned < 20 or aligned.identity < NOT_SAME_AMPLICON:
        raise InputError(f"{role} trace {name} does not match the reference",
                         expected=f"the same amplicon (at least {NOT_SAME_AMPLICON:.0%} of aligned "
                         "bases identical, in either orientation)",
                         found=f"{aligned.aligned} bases aligned at {aligned.identity:.1%} identity",
                         hint="check that the control/reference is of the same amplicon")  # fmt: skip
    if aligned.identity < MIN_IDENTITY:
        warnings.append(f"{role} {name}: only {aligned.aligned} bases aligned to the reference "
                        f"at {aligned.identity:.1%} identity: a different amplicon or a poor "
                        "trace? calls are unreliable")  # fmt: skip
    return OrientedTrace(chosen, role, rev, (start, end), to_trace, heights, norm,
                         aligned.identity)  # fmt: skip


def run_sanger(
    sample: TraceInput,
    options: SangerOptions | None = None,
    *,
    control: TraceInput | None = None,
    reference: ReferenceInput | None = None,
    knowledge: KnowledgeBase | None = None,
    progress: ProgressCallback = no_progress,
) -> SangerResult:
    """Every table ``trkres sanger`` writes, from a sample trace (and its control/reference).

    Fractions are unitless (0-1) shares of the normalised channel heights; positions are
    1-based on the reference (the reference file, else the control's calls, else the
    sample's own calls). Gene symbols and classes come from ``knowledge`` (a study's, or
    the shipped base merged with ``--knowledge`` files); default the shipped base.
    """
    options = options if options is not None else SangerOptions()
    if not isinstance(options, SangerOptions):
        raise InputError("wrong options object", expected="SangerOptions",
                         found=type(options).__name__)  # fmt: skip
    notes: list[str] = []
    warnings: list[str] = []
    progress(0, 4, "reading traces")
    s_trace = _trace(sample, "sample")
    c_trace = _trace(control, "control") if control is not None else None
    ref_obj = _reference(reference) if reference is not None else None
    notes.extend(f"sample {s_trace.name}: {n}" for n in s_trace.notes)
    if c_trace is not None:
        notes.extend(f"control {c_trace.name}: {n}" for n in c_trace.notes)
        if c_trace.bases == s_trace.bases and np.array_equal(c_trace.channels, s_trace.channels):
            # Every peak of the sample is the control's own: nothing can ever be called, and
            # the limit of detection stated would answer a question not asked.
            warnings.append(f"the control {c_trace.name} is the sample's own trace: no "
                            "change can be called against it (give the parental or "
                            "pre-treatment trace)")  # fmt: skip
    progress(1, 4, "aligning")
    if ref_obj is not None:
        ref, ref_name, ref_kind = ref_obj.sequence, ref_obj.name, "reference"
    elif c_trace is not None:
        ref, ref_name, ref_kind = c_trace.bases, c_trace.name, "control"
    else:
        ref, ref_name, ref_kind = s_trace.bases, s_trace.name, "sample"
        notes.append("no control or reference: each position is compared with the sample's own "
                     "call (a mutation above 50% is read as the reference) and the noise comes "
                     "from the sample's flanks only")  # fmt: skip
    s = _orient(s_trace, "sample", ref, options, ref_kind != "sample", notes, warnings)
    c = (
        _orient(c_trace, "control", ref, options, ref_kind == "reference", notes, warnings)
        if c_trace is not None
        else None
    )
    progress(2, 4, "measuring peaks")
    ref_idx_all = np.array([BASES.find(b) for b in ref.upper()], dtype=np.int64)
    sel = np.flatnonzero((s.to_trace >= 0) & (ref_idx_all >= 0))
    if c is not None:
        control_ok = (c.to_trace >= 0) & (ref_idx_all >= 0)
        if ref_kind == "control":  # the control's trimmed ends are no reference
            sel = sel[control_ok[sel]]
    if len(sel) < 10:
        raise InputError("too little of the sample aligns to the reference",
                         expected="at least 10 aligned bases within the trimmed regions",
                         found=f"{len(sel)} aligned bases")  # fmt: skip
    si = s.to_trace[sel]
    ref_idx = ref_idx_all[sel]
    alt_idx, raw = caller.fractions_against(s.norm[:, si], ref_idx)
    cols = np.arange(len(sel))
    chan = caller.channel_fractions(s.norm[:, si], ref_idx)
    with np.errstate(all="ignore"):
        # The background under a peak, per dye: the flank median of that channel's fraction.
        global_bg = np.nanmedian(chan, axis=1)  # where a flank is too short
        meds = np.vstack([caller.flank_stats(chan[k], options.flank)[0] for k in range(4)])
        meds = np.where(np.isfinite(meds), meds, global_bg[:, None])
        med, mad = caller.flank_stats(raw, options.flank)
        med = np.where(np.isfinite(med), med, np.nanmedian(raw))
        mad = np.where(
            np.isfinite(mad), mad, 1.4826 * np.nanmedian(np.abs(raw - np.nanmedian(raw)))
        )
    # The local noise level, from each trace's own calls over the whole read (its trimmed
    # ends included, so noise rising toward an end is seen before the end).
    s_all = caller.fractions_against(s.norm, np.full(len(s.trace), -1))[1]
    s_keep = s_all[s.trim[0] : s.trim[1]]
    level = caller.noise_level(s_all, options.flank, floor=float(np.median(s_keep)))[si]
    s_noise = raw / np.fmax(level, 1e-4)
    if c is not None:
        ci_ = c.to_trace[sel]
        has = ci_ >= 0
        c_all = caller.fractions_against(c.norm, np.full(len(c.trace), -1))[1]
        c_floor = float(np.median(c_all[c.trim[0] : c.trim[1]]))
        c_level_all = caller.noise_level(c_all, options.flank, floor=c_floor)
        ok = c.to_trace[np.flatnonzero(control_ok)]
        # Both traces' noise, over their own local levels: twice the tail to fit (the
        # multiple from the control's alone varied 2.5-5 between 300-base controls).
        noise = np.concatenate([c_all[ok] / np.fmax(c_level_all[ok], 1e-4), s_noise])
        level = np.where(has, np.fmax(level, c_level_all[np.clip(ci_, 0, None)]), level)
        lod_source = f"the control {c.trace.name} and the sample"
    else:
        noise = s_noise
        lod_source = "the sample"
    multiple = caller.tail_threshold(noise, len(sel), options.alpha)
    if not np.isfinite(multiple):
        multiple = float(np.max(noise)) if len(noise) else 10.0
        warnings.append(f"only {len(noise)} positions to measure the noise: the limit of "
                        "detection uses the largest secondary peak seen")  # fmt: skip
    noise_floor = multiple * np.fmax(level, 1e-4)

    def sd_of(f: np.ndarray) -> np.ndarray:
        """SD of a measured mutant fraction ``f``: the flank spread and the allele ratio."""
        out: np.ndarray = np.sqrt(mad**2 + (f * (1 - f) * options.ratio_sd) ** 2)
        return out

    # Every non-reference base at every position is tested (its own backgrounds, the
    # control's own peak of that base, broad signal): two clones can carry different
    # changes at one position (NTRK1 G595R and G595S: GGC>CGC and GGC>AGC), and --expect
    # asks about one base whichever is the strongest. positions.tsv shows the strongest.
    c_chan, weight, control_level = None, 0.0, None
    if c is not None:
        c_chan = np.full_like(chan, np.nan)
        c_chan[:, has] = caller.channel_fractions(c.norm[:, ci_[has]], ref_idx[has])
        shared = caller.shared_background(chan, c_chan, options.flank, meds)
        weight, control_level = shared.weight, shared.control_level
    per = _per_base(s, c, sel, ref_idx, chan, c_chan, meds, weight, control_level,
                    noise_floor, options, sd_of)  # fmt: skip
    site = {
        "position": sel + 1,
        "ref": np.array([ref[i].upper() for i in sel], dtype=object),
        "sample_position": si + 1,
        "sample_base": np.array([s.trace.bases[i] for i in si], dtype=object),
        "quality": s.trace.quality[si],
    }
    # One row per non-reference base and position (3 a position), position by position.
    rows = np.repeat(cols, 4)
    base = np.tile(np.arange(4), len(sel))
    keep = base != ref_idx[rows]
    rows, base = rows[keep], base[keep]
    by_base = pd.DataFrame({
        **{k: v[rows] for k, v in site.items()},
        "alt": np.array(list(BASES), dtype=object)[base],
        "strongest": base == alt_idx[rows],
        **{k: per[k][base, rows] for k in ("raw_fraction", "mutant_fraction", "ci_low",
                                           "ci_high", "control_fraction", "background",
                                           "alt_background")},
        "noise_level": level[rows],
        **{k: per[k][base, rows] for k in ("noise", "threshold", "broad_excess", "lod",
                                           "called", "refused")},
    })  # fmt: skip
    # positions.tsv: the strongest non-reference base of each position (one a position).
    positions = by_base.loc[by_base["strongest"]].drop(columns=["strongest", "refused"])
    positions = positions.reset_index(drop=True)
    noise_corr = positions["noise"].to_numpy()
    # EP17's shape: the threshold is the critical value (a blank exceeds it with
    # probability alpha/n), the LOD the fraction detected 95% of the time above it.
    lod_pos = positions["lod"].to_numpy()
    lod = float(np.median(lod_pos))
    lod_lo, lod_hi = (float(v) for v in np.quantile(lod_pos, [0.1, 0.9]))
    refused = by_base[by_base["refused"]]
    if len(refused):
        where = ", ".join(f"{p} ({b} channel)" for p, b in
                          refused[["position", "alt"]].head(10).itertuples(index=False))  # fmt: skip
        more = f" and {len(refused) - 10} more" if len(refused) > 10 else ""
        warnings.append(f"not called: the secondary signal at position(s) {where}{more} is "
                        f"broad signal{' absent from the control' if c is not None else ''}, "
                        "not a peak (a dye blob or a baseline step?): check the chromatogram")  # fmt: skip
    call_rows = by_base[by_base["called"]].sort_values(
        ["position", "mutant_fraction", "strongest"], ascending=[True, False, False],
        kind="stable",
    )  # fmt: skip
    extra = call_rows[~call_rows["strongest"]]
    if len(extra):
        notes.append(f"{len(extra)} position(s) with a second non-reference base called "
                     f"besides the strongest: {', '.join(map(str, extra['position']))} "
                     "(calls.tsv has a row for each base; positions.tsv shows the strongest)")  # fmt: skip
    progress(3, 4, "naming")
    frame = _frame(ref_obj, len(ref), options, notes)
    if ref_obj is not None and ref_obj.cds and ref_obj.other_cds:
        warnings.append(f"the reference {ref_obj.name} has {len(ref_obj.other_cds) + 1} CDS "
                        f"features with different frames: codons are numbered on the first "
                        f"({ref_obj.cds_label}), not on {', '.join(ref_obj.other_cds[:5])}; "
                        "another transcript numbers the same residue differently (keep one "
                        "CDS in the file, or number the codons with --codon-start and "
                        "--codon-position)")  # fmt: skip
    gene = options.gene or (ref_obj.gene if ref_obj is not None else None)
    if gene is None and options.expect:  # "NTRK1 G595R" names the amplicon's gene too
        from trkres.assays.sanger.naming import parse_expect

        gene = parse_expect(options.expect, None, knowledge)[0]
    if gene:  # the knowledge base's symbol (kras → KRAS, TRKA → NTRK1), as classify names it
        from trkres.assays.sanger.naming import gene_symbol

        symbol = gene_symbol(gene, knowledge)
        if symbol != gene:
            notes.append(f"gene {gene!r} named {symbol} (the knowledge base's symbol)")
        gene = symbol
    calls = _name_calls(call_rows, ref, frame, gene, lod, knowledge)
    tables: dict[str, pd.DataFrame] = {"calls": calls}
    facts = sorted({f for col in ("class_fact", "known_fact") for f in calls[col] if f})
    if options.expect:
        expect, used = _expect(options.expect, gene, by_base, ref, frame, lod, calls,
                               ref_kind, knowledge, options.min_difference)  # fmt: skip
        tables["expect"] = expect
        facts = sorted(set(facts) | set(used))
    tables["positions"] = positions
    tables["summary"] = pd.DataFrame([{
        "sample": s.trace.name, "control": c.trace.name if c else "",
        "reference": ref_name, "reference_kind": ref_kind,
        "sample_reversed": s.reversed, "sample_trim_start": s.trim[0] + 1,
        "sample_trim_end": s.trim[1], "sample_identity": s.identity,
        "control_trim_start": c.trim[0] + 1 if c else np.nan,
        "control_trim_end": c.trim[1] if c else np.nan,
        "control_identity": c.identity if c else np.nan,
        "positions_compared": len(positions), "lod": lod, "lod_p10": lod_lo, "lod_p90": lod_hi,
        "threshold": float(np.median(noise_corr)),
        "noise_multiple": multiple, "lod_source": lod_source,
        "calls": len(calls),
    }])  # fmt: skip
    notes.append(f"limit of detection {lod:.1%} (mutant fraction detected 95% of the time; "
                 f"median over {len(sel)} positions, 10-90% range {lod_lo:.1%}-{lod_hi:.1%}): "
                 f"the call threshold ({float(np.median(noise_corr)):.1%}: {multiple:.1f} x the "
                 f"local noise level, the multiple that the noise of {lod_source} exceeds with "
                 f"probability {options.alpha:g}/{len(sel)}) + 1.645 SD of a measured fraction")  # fmt: skip
    progress(4, 4, "done")
    return SangerResult(tables, s, c, ref, ref_name, lod, tuple(notes), tuple(warnings),
                        tuple(facts), options)  # fmt: skip


def _per_base(s: OrientedTrace, c: OrientedTrace | None, sel: np.ndarray,
              ref_idx: np.ndarray, chan: np.ndarray, c_chan: np.ndarray | None,
              meds: np.ndarray, weight: float, control_level: np.ndarray | None,
              noise_floor: np.ndarray, options: SangerOptions,
              sd_of: Any) -> dict[str, np.ndarray]:  # fmt: skip
    """Every base at every compared position tested (4 × n arrays; the reference's own row
    NaN/False): ``raw_fraction`` the base's channel over reference + it (NaN where neither
    has signal), ``background`` its channel's flank median, ``alt_background`` that moved
    toward the control's at the site by the shared ``weight``; ``threshold`` the larger of
    ``noise_floor`` (the noise multiple × the local level) and the control's own fraction
    of that base (and its background) + ``min_difference``; ``called`` above it and not
    broad signal (``refused``: above, but broad). ``noise`` is the threshold and ``lod``
    the limit of detection as mutant fractions, corrected as the fraction is. Fractions
    0-1."""
    md = options.min_difference
    m4 = np.clip(np.nan_to_num(meds), 0.0, 0.5)
    c4 = c_chan if c_chan is not None else np.full_like(chan, np.nan)
    thr4 = np.fmax(noise_floor[None, :], np.fmax(m4 + md, c4 + md))
    a4 = m4
    if control_level is not None and weight > 0:
        a4 = np.clip(m4 + np.nan_to_num(weight * (c4 - control_level)), 0.0, 0.5)
    corr4 = background_corrected(chan, m4, a4)
    noise4 = background_corrected(thr4, m4, a4)
    above = chan > thr4  # NaN (the reference's own channel, no signal) is never above
    broad4 = _broad_excess(s, c, sel, ref_idx, options.window)
    called = above & (broad4 < BROAD_REFUSE)
    half = 1.96 * sd_of(corr4)
    return {
        "raw_fraction": chan,
        "mutant_fraction": corr4,
        "ci_low": np.clip(corr4 - half, 0.0, 1.0),
        "ci_high": np.clip(corr4 + half, 0.0, 1.0),
        "control_fraction": c4,
        "background": m4,
        "alt_background": a4,
        "noise": noise4,
        "threshold": thr4,
        "broad_excess": broad4,
        "lod": np.clip(noise4 + 1.645 * sd_of(noise4), 0.0, 1.0),
        "called": called,
        "refused": above & ~called,
    }


#: Share of a secondary signal that is broad signal the control lacks (see
#: :func:`_broad_excess`) from which it is not called (a dye blob, not a peak), and from
#: which a call carries a note. Measured on synthetic traces (benchmarks: the opening over
#: 1.75 peak spacings): 990 planted secondary peaks (10-50%, many beside peaks of their own
#: base) reached at most 0.62 (99th percentile 0.52); a dye blob (a hump ~2 peaks wide at
#: half height, 35% of a peak) over a site 0.82-1.0.
BROAD_REFUSE = 0.72
BROAD_NOTE = 0.6


def _broad_excess(s: OrientedTrace, c: OrientedTrace | None, sel: np.ndarray,
                  ref_idx: np.ndarray, window: int | None) -> np.ndarray:  # fmt: skip
    """Per channel and compared position (4 × n), the share of the sample's secondary
    signal (that channel's height over the reference's) that is broad signal in that
    channel beyond what the control has there (each over its own ref peak; no control:
    beyond none). 0-1."""
    si = s.to_trace[sel]
    cols = np.arange(len(sel))
    heights = s.heights[:, si]
    broad_s = caller.broad_heights(s.trace, window)[:, si]
    with np.errstate(divide="ignore", invalid="ignore"):
        ref_h = heights[ref_idx, cols]
        secondary = heights / ref_h
        excess = broad_s / ref_h
        if c is not None:
            ci = c.to_trace[sel]
            has = ci >= 0
            hc = c.heights[:, ci[has]]
            bc = caller.broad_heights(c.trace, window)[:, ci[has]]
            k = np.flatnonzero(has)
            excess[:, k] -= bc / hc[ref_idx[k], np.arange(len(k))]
        share = np.where(secondary > 0, excess / secondary, 0.0)
    out: np.ndarray = np.clip(np.nan_to_num(share, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
    return out


def background_corrected(raw: np.ndarray, background: np.ndarray | float,
                         alt_background: np.ndarray | float | None = None) -> np.ndarray:  # fmt: skip
    """The mutant fraction from a raw secondary-peak fraction, background (a share of the
    peak) taken to add to both channels: ``b`` under the reference peak and ``a`` (default
    ``b``) under the alt peak, ``raw = (f + a) / (1 + a + b)``, so
    ``f = raw (1 + a + b) - a``, clipped to [0, 1]."""
    b = np.asarray(background, dtype=float)
    a = b if alt_background is None else np.asarray(alt_background, dtype=float)
    out: np.ndarray = np.clip(np.asarray(raw, dtype=float) * (1 + a + b) - a, 0.0, 1.0)
    return out


def _frame(ref_obj: Reference | None, length: int, options: SangerOptions,
           notes: list[str]) -> object | None:  # fmt: skip
    from trkres.assays.sanger import naming

    strand = -1 if options.strand == "-" else 1
    if ref_obj is not None and ref_obj.cds:
        first = options.codon_start or 1
        if options.codon_start is not None and options.codon_position is not None:
            # --codon-position P with the CDS: the CDS codon starting at P is --codon-start
            plain = naming.frame_from_cds(ref_obj.cds, ref_obj.cds_strand, ref_obj.codon_offset)
            hit = plain.locate(options.codon_position - 1)
            if hit is None or hit[1] != 0:
                raise InputError(
                    "--codon-position is not the first base of a codon of the GenBank CDS",
                    expected=f"a reference position where a codon of {ref_obj.name}'s CDS "
                    "starts (or leave --codon-position out: the CDS gives the frame)",
                    found=f"position {options.codon_position}: "
                    + ("outside the CDS" if hit is None else f"base {hit[1] + 1} of CDS codon {hit[0]}"),
                )  # fmt: skip
            first = options.codon_start - (hit[0] - 1)
            notes.append(f"coding frame from the GenBank CDS of {ref_obj.name}; its codon at "
                         f"position {options.codon_position} numbered {options.codon_start}")  # fmt: skip
        else:
            notes.append(f"coding frame from the GenBank CDS of {ref_obj.name} (first complete "
                         f"codon numbered {first})")  # fmt: skip
        return naming.frame_from_cds(ref_obj.cds, ref_obj.cds_strand, ref_obj.codon_offset, first)
    if options.codon_start is not None:
        position = options.codon_position or 1
        notes.append(f"coding frame: reference position {position} is the first base "
                     f"of codon {options.codon_start} (strand {options.strand})")  # fmt: skip
        return naming.frame_from_start(length, options.codon_start, position, strand)
    return None


def _name_calls(called: pd.DataFrame, ref: str, frame: object | None, gene: str | None,
                lod: float, kb: KnowledgeBase | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per called base, named with its codon and protein change.

    Calls that fall in one codon are named together: the codon with every called base
    changed, translated once (coding ``GGT>TTT`` is ``KRAS G12F``, not ``G12C`` and
    ``G12V``), on each of their rows, when their 95% CIs share a common range (the
    fractions agree with one allele carrying all the changes; Sanger cannot phase them).
    When the CIs do not overlap the changes cannot all sit on one allele and each base is
    named alone against the reference codon; the note says which."""
    from trkres.assays.sanger.naming import Frame

    records = called.to_dict(orient="records")
    located: list[tuple[int, int] | None] = [None] * len(records)
    if isinstance(frame, Frame):
        located = [frame.locate(int(r["position"]) - 1) for r in records]
    members: dict[int, list[int]] = {}
    for k, hit in enumerate(located):
        if hit is not None:
            members.setdefault(hit[0], []).append(k)
    # Two bases called at one position: each fraction is that base against the reference
    # peak alone (h_alt / (h_ref + h_alt)); the note gives each one's share of all three
    # peaks (h_alt / (h_ref + the called alts)), from the raw fractions (h_alt / h_ref =
    # raw / (1 - raw)).
    by_position: dict[int, list[int]] = {}
    for k, r in enumerate(records):
        by_position.setdefault(int(r["position"]), []).append(k)
    shared_site: dict[int, str] = {}
    for pos, ks in by_position.items():
        if len(ks) > 1:
            raws = np.array([float(records[k]["raw_fraction"]) for k in ks])
            ratio = raws / np.fmax(1.0 - raws, 1e-9)
            share = ratio / (1.0 + ratio.sum())
            parts = ", ".join(
                f"{records[k]['alt']} {v:.0%}" for k, v in zip(ks, share, strict=True)
            )
            shared_site[pos] = (f"{len(ks)} bases called at position {pos}: each mutant_fraction "
                                "is that base against the reference peak alone; as shares of "
                                f"all {len(ks) + 1} peaks (raw) {parts}")  # fmt: skip
    rows = []
    for k, r in enumerate(records):
        codon_text, change, note = "", "", ""
        cls: dict[str, object] = {"alteration_class": "", "class_fact": "", "known_fact": "",
                                  "fact_status": "", "annotation_note": ""}  # fmt: skip
        hit = located[k]
        if isinstance(frame, Frame) and hit is not None:
            number = hit[0]
            group = members[number]
            lows = [float(records[j]["ci_low"]) for j in group]
            highs = [float(records[j]["ci_high"]) for j in group]
            phases = [located[j][1] for j in group]  # type: ignore[index]
            # Two bases called at one position (two clones: GGC>CGC and GGC>AGC) cannot sit
            # on one allele: each is named alone.
            one_each = len(set(phases)) == len(phases)
            together = len(group) > 1 and one_each and max(lows) <= min(highs)
            used = group if together else [k]
            codon_text, change, cls = _codon_change(frame, ref, number, gene,
                                                    [(located[j], records[j]) for j in used], kb)  # fmt: skip
            where = ", ".join(str(int(records[j]["position"])) for j in group)
            if together:
                note = f"one codon change from the calls at positions {where}"
            elif len(group) > 1 and not one_each:
                bases = ", ".join(f"{records[j]['position']}{records[j]['alt']}" for j in group)
                note = (f"calls {bases} share codon {number}, two bases at one position: not "
                        "one allele, each named alone")  # fmt: skip
            elif len(group) > 1:
                note = (f"calls at positions {where} share codon {number} but their fractions "
                        "differ (95% CIs do not overlap): not one allele, each named alone")  # fmt: skip
        if int(r["position"]) in shared_site:
            note = "; ".join(x for x in (note, shared_site[int(r["position"])]) if x)
        share = float(r.get("broad_excess", 0.0))
        if share >= BROAD_NOTE:
            note = "; ".join(x for x in (note, f"{share:.0%} of the secondary signal is broad "
                                         "signal the control lacks (a dye blob?): check the "
                                         "chromatogram") if x)  # fmt: skip
        if note:
            cls["annotation_note"] = "; ".join(x for x in (note, str(cls["annotation_note"])) if x)
        rows.append({
            "position": int(r["position"]), "ref": r["ref"], "alt": r["alt"],
            "mutant_fraction": r["mutant_fraction"], "ci_low": r["ci_low"],
            "ci_high": r["ci_high"], "noise": r["noise"], "call": "detected",
            "codon": codon_text, "protein_change": change, "gene": gene or "",
            "sample_position": int(r["sample_position"]), "raw_fraction": r["raw_fraction"],
            "control_fraction": r["control_fraction"], "noise_level": r["noise_level"],
            "lod": r["lod"], "quality": int(r["quality"]), **cls,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=CALL_COLUMNS)


def _codon_change(frame: object, ref: str, number: int, gene: str | None,
                  calls: list[tuple[tuple[int, int] | None, Mapping[Any, Any]]],
                  kb: KnowledgeBase | None = None) -> tuple[str, str, dict[str, object]]:  # fmt: skip
    """``(codon text, protein change, class)`` of codon ``number`` with every base of
    ``calls`` (``((codon, phase), row)``) changed to its ``alt`` (on the reference strand)."""
    from trkres.assays.sanger.naming import Frame, classify, translate_codon

    assert isinstance(frame, Frame)
    where = frame.positions_of(number)
    assert where is not None
    ref_codon = frame.coding(ref, where)
    alt_codon = list(ref_codon)
    for hit, row in calls:
        assert hit is not None
        alt_base = str(row["alt"])
        alt_codon[hit[1]] = caller.complement(alt_base) if frame.strand < 0 else alt_base
    new_codon = "".join(alt_codon)
    aa_ref, aa_alt = translate_codon(ref_codon), translate_codon(new_codon)
    short = f"{aa_ref}{number}{'=' if aa_ref == aa_alt else aa_alt}"
    change = f"{gene} {short}" if gene else f"p.{short}"
    cls: dict[str, object] = {"alteration_class": "", "class_fact": "", "known_fact": "",
                              "fact_status": "", "annotation_note": ""}  # fmt: skip
    if gene and aa_ref not in "X*" and aa_alt != "X":
        cls = classify(gene, aa_ref, number, aa_alt, kb)
    return f"{number} {ref_codon}>{new_codon}", change, cls


def _expect(text: str, gene: str | None, by_base: pd.DataFrame, ref: str,
            frame: object | None, lod: float, calls: pd.DataFrame,
            ref_kind: str = "reference", kb: KnowledgeBase | None = None,
            min_difference: float = 0.05) -> tuple[pd.DataFrame, list[str]]:  # fmt: skip
    """The answer to ``--expect``: every single-base change of the codon that gives the
    asked amino acid, measured (``by_base``: :func:`_by_base`'s rows); detected when one
    of them is called. ``assessable`` is False when the question has no answer from this
    trace: the codon not analysed, or a base change that gives the asked amino acid lying
    in the trimmed or unaligned part (or without signal) while none is detected; ``lod``
    is then NaN where nothing was measured."""
    from trkres.assays.sanger.naming import Frame, classify, parse_expect, translate_codon

    e_gene, aa_ref, number, aa_alt = parse_expect(text, gene, kb)
    asked = f"{e_gene} {aa_ref}{number}{aa_alt}"
    base = {"expected": asked, "gene": e_gene, "codon": number, "ref_codon": "", "alt_codon": "",
            "position": np.nan, "alt": "", "detected": False, "mutant_fraction": np.nan,
            "ci_low": np.nan, "ci_high": np.nan, "noise": np.nan, "lod": np.nan,
            "assessable": False}  # fmt: skip
    if not isinstance(frame, Frame):
        raise InputError("--expect needs the coding frame", expected="--codon-start N (with "
                         "--codon-position P) or a GenBank reference with a CDS",
                         found="neither")  # fmt: skip
    if gene and e_gene != gene.upper():
        return pd.DataFrame([{**base, "answer": f"{asked}: not assessable: the amplicon is "
                              f"{gene}, not {e_gene}"}]), []  # fmt: skip
    where = frame.positions_of(number)
    cls = classify(e_gene, aa_ref, number, aa_alt, kb)
    used = [f for f in (cls["class_fact"], cls["known_fact"]) if f]
    if where is None:
        return pd.DataFrame([{**base, "answer": f"{asked}: not assessable: codon {number} is "
                              "outside the reference"}]), used  # fmt: skip
    ref_codon = frame.coding(ref, where)
    base["ref_codon"] = ref_codon
    if set(ref_codon) - set("ACGT"):  # N or IUPAC codes: not a frame error
        return pd.DataFrame([{**base, "answer": f"{asked}: not assessable: the reference codon "
                              f"{number} is {ref_codon} (ambiguous bases: no reference base to "
                              "measure against)"}]), used  # fmt: skip
    if translate_codon(ref_codon) == aa_alt and ref_kind == "sample":
        return pd.DataFrame([{**base, "answer": f"{asked}: the sample's own base calls read "
                              f"codon {number} as {ref_codon} ({aa_alt}): the asked change is "
                              "the majority base, and with no control or reference there is "
                              "nothing to measure its fraction against (give --control or "
                              "--reference)"}]), used  # fmt: skip
    if translate_codon(ref_codon) != aa_ref:
        return pd.DataFrame([{**base, "answer": f"{asked}: the reference codon {number} is "
                              f"{ref_codon} ({translate_codon(ref_codon)}), not {aa_ref}: check "
                              "--codon-start/--codon-position and --strand"}]), used  # fmt: skip
    measured = by_base.set_index(["position", "alt"])
    options_found = []
    for phase, p in enumerate(where):
        for b in "ACGT":
            alt_codon = ref_codon[:phase] + b + ref_codon[phase + 1 :]
            if b == ref_codon[phase] or translate_codon(alt_codon) != aa_alt:
                continue
            read_base = caller.complement(b) if frame.strand < 0 else b
            options_found.append((p, read_base, alt_codon))
    if not options_found:
        # A change needing two or three bases is detected only as calls that name it
        # together (see _name_calls); its absence has no single-base LOD to state.
        named = calls[(calls["protein_change"] == f"{e_gene} {aa_ref}{number}{aa_alt}")
                      & calls["codon"].str.startswith(f"{number} ")]  # fmt: skip
        if len(named):
            hits = named.to_dict(orient="records")
            fracs = ", ".join(f"{r['mutant_fraction']:.0%} at position {r['position']} (95% CI "
                              f"{r['ci_low']:.0%}-{r['ci_high']:.0%})" for r in hits)  # fmt: skip
            codon_text = str(hits[0]["codon"]).split(" ", 1)[1]
            answer = (f"{asked} detected: codon {codon_text} from {len(hits)} calls in one "
                      f"codon: mutant fractions {fracs}")  # fmt: skip
            found = [dict(base, ref_codon=ref_codon, alt_codon=codon_text.split(">")[1],
                          position=int(r["position"]), alt=str(r["alt"]), detected=True,
                          mutant_fraction=float(r["mutant_fraction"]), ci_low=float(r["ci_low"]),
                          ci_high=float(r["ci_high"]), noise=float(r["noise"]),
                          lod=float(r["lod"]), assessable=True, answer=answer)
                     for r in hits]  # fmt: skip
            return pd.DataFrame(found), used
        return pd.DataFrame([{**base, "answer": f"{asked}: not assessable: {aa_ref}>{aa_alt} at "
                              f"codon {ref_codon} needs more than one base change, and no calls "
                              "in this codon name it"}]), used  # fmt: skip
    rows = []
    for p, read_base, alt_codon in options_found:
        row = dict(base, alt_codon=alt_codon, position=p + 1, alt=read_base)
        if (p + 1, read_base) not in measured.index:
            row["why"] = "trimmed or unaligned"
            rows.append(row)
            continue
        r = measured.loc[[(p + 1, read_base)]].iloc[0]
        corr = float(r["mutant_fraction"])
        if not np.isfinite(corr):  # no signal in the reference's channel nor this one
            row["why"] = "no signal in either channel"
            rows.append(row)
            continue
        hit = calls[(calls["position"] == p + 1) & (calls["alt"] == read_base)]
        if len(hit):  # a base called as part of another codon change is not this change
            short = str(hit["protein_change"].iloc[0]).split()[-1].removeprefix("p.")
            if short != f"{aa_ref}{number}{aa_alt}":
                row["part_of"] = str(hit["protein_change"].iloc[0])
                hit = hit.iloc[:0]
        # This base's own threshold, corrected with the backgrounds its fraction was.
        row.update(detected=bool(len(hit)), mutant_fraction=corr, noise=float(r["noise"]),
                   lod=float(r["lod"]), assessable=True)  # fmt: skip
        if not len(hit) and bool(r["refused"]):
            row["broad"] = True  # above, not called: broad signal
        control = float(r["control_fraction"])
        if np.isfinite(control) and control + min_difference >= float(r["threshold"]) - 1e-12:
            row["control"] = control  # the control's own peak of this base sets the bar
        if len(hit):
            row.update(ci_low=float(hit["ci_low"].iloc[0]), ci_high=float(hit["ci_high"].iloc[0]))
        rows.append(row)
    table = pd.DataFrame(rows)
    assessed = table[table["noise"].notna()]
    missing = table[table["noise"].isna()]
    if not len(assessed):
        why = "no signal" if (missing["why"] == "no signal in either channel").all() else (
            "lies in the trimmed or unaligned part")  # fmt: skip
        answer = (f"{asked}: not assessable: codon {number} {why}" if why != "no signal" else
                  f"{asked}: not assessable: no signal at codon {number} (flat channels)")  # fmt: skip
        table["answer"] = answer
        return table.head(1).drop(columns=["why"]), used
    best = assessed.sort_values(["detected", "mutant_fraction"], ascending=False).iloc[0]
    where_text = f"{best['ref_codon']}>{best['alt_codon']} at position {int(best['position'])}"
    if bool(best["detected"]):
        answer = (f"{asked} detected: mutant fraction {best['mutant_fraction']:.0%} (95% CI "
                  f"{best['ci_low']:.0%}-{best['ci_high']:.0%}; {where_text})")  # fmt: skip
    else:
        if isinstance(best.get("part_of"), str):
            detail = (f"not detected: the base change {where_text} is called "
                      f"({best['mutant_fraction']:.0%}) as part of {best['part_of']}, one "
                      "change of the codon")  # fmt: skip
        elif best.get("broad") is True:
            detail = (f"not detected: the secondary signal at position {int(best['position'])} "
                      f"({best['mutant_fraction']:.0%}) is broad signal, not a peak (a dye blob "
                      "or a baseline step?): not called; check the chromatogram")  # fmt: skip
        elif isinstance(best.get("control"), float) and np.isfinite(best["control"]):
            detail = (f"not detected above the control: measured {best['mutant_fraction']:.0%}, "
                      f"and the control shows {best['control']:.0%} of this base here (raw "
                      f"fraction; a call must exceed it by {min_difference:.0%}): call "
                      f"threshold at this position {best['noise']:.0%}; limit of detection "
                      f"here {best['lod']:.0%} (trace median {lod:.0%})")  # fmt: skip
        else:
            detail = (f"not detected: measured {best['mutant_fraction']:.0%}, below the call "
                      f"threshold at this position ({best['noise']:.0%}); limit of detection "
                      f"here {best['lod']:.0%} (trace median {lod:.0%})")  # fmt: skip
        if len(missing):
            gaps = "; ".join(f"{r['ref_codon']}>{r['alt_codon']} at position {int(r['position'])}"
                             f" ({r['why']})" for r in missing.to_dict(orient="records"))  # fmt: skip
            answer = (f"{asked}: not assessable: {gaps} cannot be measured; {where_text}: "
                      f"{detail}")  # fmt: skip
            best = best.copy()
            best["assessable"] = False
        else:
            answer = f"{asked} {detail}"
    keep = {k: v for k, v in best.to_dict().items() if k in base or k == "alt_codon"}
    out = pd.DataFrame([{**keep, "answer": answer}])
    return out, used
