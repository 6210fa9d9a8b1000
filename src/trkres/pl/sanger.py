"""Sanger figures: the chromatogram around a call with the control beneath it, and the
secondary-peak fraction along the amplicon against the noise.

Every function takes a :class:`~trkres.assays.sanger.run.SangerResult` (what
``tr.sanger.compare`` returns) and draws; nothing is recomputed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.pl.checks import axes_or_new

if TYPE_CHECKING:
    from trkres.assays.sanger.run import OrientedTrace, SangerResult
    from trkres.report.model import Figure

__all__ = ["sanger_chromatogram", "sanger_figures", "sanger_fractions"]

#: The usual dye colours (A green, C blue, G black, T red).
COLOURS = {"A": "#2ca02c", "C": "#1f5fbf", "G": "#222222", "T": "#d62728"}
#: Bases shown either side of a site.
HALF = 8
#: Calls drawn in the report (the rest are in calls.tsv).
MAX_CALL_FIGURES = 6


def _result(result: object) -> SangerResult:
    from trkres.assays.sanger.run import SangerResult
    from trkres.errors import InputError

    if not isinstance(result, SangerResult):
        raise InputError("nothing to draw", expected="a Sanger result (tr.sanger.compare)",
                         found=type(result).__name__)  # fmt: skip
    return result


def _draw_trace(ax: Any, t: OrientedTrace, ref_pos: int, label: str) -> None:
    """The trace around reference position ``ref_pos`` (1-based)."""
    from trkres.assays.sanger.io import BASES

    idx = int(t.to_trace[ref_pos - 1]) if 0 < ref_pos <= len(t.to_trace) else -1
    if idx < 0:
        ax.text(0.5, 0.5, f"{label}: position {ref_pos} not aligned", ha="center", va="center",
                transform=ax.transAxes, fontsize=7)  # fmt: skip
        ax.set_xticks([])
        ax.set_yticks([])
        return
    tr_ = t.trace
    lo, hi = max(0, idx - HALF), min(len(tr_) - 1, idx + HALF)
    x0 = max(0, int(tr_.peaks[lo]) - 6)
    x1 = min(tr_.channels.shape[1], int(tr_.peaks[hi]) + 7)
    xs = np.arange(x0, x1)
    for k, base in enumerate(BASES):
        ax.plot(xs, tr_.channels[k, x0:x1], color=COLOURS[base], lw=0.8, label=base)
    top = float(tr_.channels[:, x0:x1].max()) if x1 > x0 else 1.0
    for j in range(lo, hi + 1):
        b = tr_.bases[j]
        ax.text(tr_.peaks[j], top * 1.08, b, ha="center", va="bottom", fontsize=6,
                color=COLOURS.get(b, "grey"), fontweight="bold" if j == idx else "normal")  # fmt: skip
    ax.axvspan(tr_.peaks[idx] - 4, tr_.peaks[idx] + 4, color="#ffd54f", alpha=0.35, lw=0)
    ax.set_ylim(0, top * 1.25 if top > 0 else 1)
    ax.set_xlim(x0, max(x1 - 1, x0 + 1))
    ax.set_ylabel("signal (RFU)")
    ax.set_title(f"{label}: {tr_.name}" + (" (reverse complement)" if t.reversed else ""),
                 fontsize=7)  # fmt: skip


def _sites(res: SangerResult) -> list[tuple[int, str]]:
    """Reference positions to draw with a title: the expected site (the question asked),
    then the calls."""
    sites: list[tuple[int, str]] = []
    expect = res.tables.get("expect")
    if expect is not None and len(expect) and np.isfinite(float(expect["position"].iloc[0])):
        sites.append((int(expect["position"].iloc[0]), str(expect["answer"].iloc[0])))
    asked = {p for p, _ in sites}  # a call there is drawn once, titled with the answer
    calls = res.tables.get("calls")
    if calls is not None and len(calls):
        # Calls named as one codon change (two or three bases of one codon) are one site:
        # their bases are a few peaks apart, so one chromatogram window shows them all.
        codons = calls["codon"] if "codon" in calls else pd.Series([None] * len(calls))
        groups: dict[object, list[tuple[int, str, float]]] = {}
        for pos, name, frac, codon in zip(calls["position"], calls["protein_change"],
                                          calls["mutant_fraction"], codons, strict=True):  # fmt: skip
            named = isinstance(name, str) and name and isinstance(codon, str) and codon
            key = (codon, name) if named else ("position", int(pos))
            groups.setdefault(key, []).append((int(pos), str(name), float(frac)))
        for members in groups.values():
            where = "position" if len(members) == 1 else "positions"
            places = ", ".join(str(p) for p, _, _ in members)
            fractions = ", ".join(f"{f:.0%}" for _, _, f in members)
            name = members[0][1] if members[0][1] != "nan" else ""
            if members[0][0] not in asked:
                sites.append(
                    (members[0][0], f"{where} {places} {name} {fractions}".replace("  ", " "))
                )
    return sites


def _site(res: SangerResult, which: object) -> tuple[int, str] | None:
    from trkres.errors import InputError

    sites = _sites(res)
    if not sites:
        return None
    if (
        isinstance(which, bool)
        or not isinstance(which, (int, np.integer))
        or not (0 <= which < len(sites))
    ):
        raise InputError("bad which", expected=f"a site number from 0 to {len(sites) - 1}",
                         found=repr(which))  # fmt: skip
    return sites[int(which)]


def sanger_chromatogram(result: SangerResult, ax: Any = None, *, which: int = 0,
                        control: bool = False) -> Any:  # fmt: skip
    """The sample's chromatogram (or the control's, ``control=True``) around the
    ``which``-th call (then the ``--expect`` site), the site shaded. Returns ``ax``."""
    res = _result(result)
    ax = axes_or_new(ax, 6.0, 2.5)
    site = _site(res, which)
    trace = res.control if control else res.sample
    if site is not None and trace is not None:
        _draw_trace(ax, trace, site[0], "control" if control else "sample")
    return ax


def _draw_fractions(ax: Any, res: SangerResult) -> None:
    pos = res.tables.get("positions")
    if pos is None or not len(pos):
        return
    x = pos["position"].to_numpy(dtype=float)
    ax.plot(x, pos["mutant_fraction"].to_numpy(dtype=float), lw=0.6, color="#1f5f99",
            label="sample")  # fmt: skip
    if "control_fraction" in pos and pos["control_fraction"].notna().any():
        ax.plot(x, pos["control_fraction"].to_numpy(dtype=float), lw=0.5, color="grey",
                alpha=0.7, label="control (raw)")  # fmt: skip
    ax.plot(x, pos["noise"].to_numpy(dtype=float), lw=0.7, ls="--", color="#d62728",
            label="noise threshold")  # fmt: skip
    calls = res.tables.get("calls")  # every called base (two at a position are two dots)
    if calls is not None and len(calls):
        ax.scatter(calls["position"].to_numpy(dtype=float),
                   calls["mutant_fraction"].to_numpy(dtype=float), s=14, color="#d62728",
                   zorder=3)  # fmt: skip
    ax.set_xlabel("reference position")
    ax.set_ylabel("secondary-peak fraction")
    ax.set_ylim(0, max(0.6, float(np.nanmax(pos["mutant_fraction"])) + 0.05))
    ax.legend(fontsize=6, frameon=False)


def sanger_fractions(result: SangerResult, ax: Any = None) -> Any:
    """Mutant fraction at every aligned position, the control's, and the noise threshold a
    call must beat (calls as dots). Returns ``ax``."""
    res = _result(result)
    ax = axes_or_new(ax, 7.0, 3.0)
    _draw_fractions(ax, res)
    return ax


def sanger_figures(result: SangerResult, prefix: str = "sanger") -> list[Figure]:
    """The report's figures: the chromatogram around each call (and the expected site),
    the control beneath; the fractions along the amplicon."""
    from trkres.pl.style import new_figure
    from trkres.report.model import Figure

    res = _result(result)
    out: list[Figure] = []
    sites = _sites(res)
    for k, (pos, title) in enumerate(sites[:MAX_CALL_FIGURES]):
        rows = 2 if res.control is not None else 1
        fig, axes = new_figure(7.0, 2.2 * rows, rows, 1)
        axes = np.atleast_1d(axes)
        if res.sample is not None:
            _draw_trace(axes[0], res.sample, pos, "sample")
        if res.control is not None:
            _draw_trace(axes[1], res.control, pos, "control")
        axes[0].legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        out.append(Figure(f"{prefix}_site_{k + 1}", title[:120], fig,
                          caption="The sample's chromatogram around the site (shaded), the "
                          "control beneath; base calls above the peaks."))  # fmt: skip
    fig, ax = new_figure(7.0, 3.0)
    _draw_fractions(ax, res)
    shown = "" if len(sites) <= MAX_CALL_FIGURES else (
        f" Chromatograms are drawn for the first {MAX_CALL_FIGURES} of {len(sites)} sites "
        "(the expected site first, then the calls along the amplicon); every call is in "
        "calls.tsv and on this plot.")  # fmt: skip
    out.append(Figure(f"{prefix}_fractions", "Secondary-peak fraction along the amplicon", fig,
                      caption=f"Limit of detection {res.lod:.0%}; dots: calls.{shown}"))  # fmt: skip
    return out
