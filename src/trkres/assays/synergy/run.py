"""Run the synergy analysis: read → validate → score → compare lines, with no files written.

:func:`run_synergy` is the one orchestration of the analysis: ``trkres synergy``,
the study's ``synergy`` section and :func:`trkres.synergy.score` all call it and
get a :class:`SynergyResult` holding every output table; figures are drawn from
it by :mod:`trkres.pl.synergy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.assays.synergy.io import Combinations, from_frame, read_combinations
from trkres.assays.synergy.options import SynergyOptions
from trkres.errors import InputError, Location
from trkres.frames import check_path
from trkres.report.model import Flag
from trkres.study.registry import ProgressCallback, no_progress

__all__ = ["MODEL_TITLES", "SynergyInput", "SynergyResult", "combine", "run_synergy"]

#: Display name of each reference model.
MODEL_TITLES = {"bliss": "Bliss", "hsa": "HSA", "loewe": "Loewe", "zip": "ZIP"}

#: One combination input: a table's path, a table in memory (SynergyFinder's layout, read
#: with the options' ``response`` and ``conc_unit``) or a validated :class:`Combinations`.
SynergyInput = Path | str | pd.DataFrame | Combinations


@dataclass
class SynergyResult:
    """Every table of the synergy analysis (see :mod:`trkres.assays.synergy.scorer`).

    Scores are observed − expected % inhibition in percentage points (> 0 synergy);
    concentrations are molar.
    """

    #: The scored dose-response matrices (molar concentrations, % inhibition).
    combinations: Combinations
    options: SynergyOptions
    #: One row per block: each model's summary score with CIs, CSS, status.
    summary: pd.DataFrame
    #: One row per block and dose tuple: observed, each model's expected and score.
    matrix: pd.DataFrame
    #: Fitted single-drug curves (IC50 in molar).
    singles: pd.DataFrame
    #: MuSyC potency/efficacy synergy (empty when not fitted).
    musyc: pd.DataFrame
    #: Chou–Talalay combination index on fixed-ratio rays (empty when there are none).
    combination_index: pd.DataFrame
    #: Combination vs single agents (% viability), adjusted p-values.
    proliferation: pd.DataFrame
    #: Each line against the reference (two drugs with ``condition``), else None.
    resensitisation: pd.DataFrame | None = None
    #: Warnings and notes (degenerate blocks, Loewe fallback, missing CIs, re-sensitisation).
    flags: list[Flag] = field(default_factory=list)
    #: The model drawn as the main heatmap (ZIP when scored).
    main_model: str = "zip"

    @property
    def n_drugs(self) -> int:
        """Drugs per combination (2 or 3)."""
        return self.combinations.n_drugs

    def tables(self) -> dict[str, pd.DataFrame]:
        """The output tables by file name, in the order the report lists them."""
        out = {
            "synergy_summary": self.summary,
            "synergy_matrix": self.matrix,
            "synergy_single_drugs": self.singles,
        }
        if len(self.musyc):
            out["synergy_musyc"] = self.musyc
        if len(self.combination_index):
            out["synergy_combination_index"] = self.combination_index
        if self.resensitisation is not None:
            out["synergy_resensitisation"] = self.resensitisation
        out["synergy_proliferation"] = self.proliferation
        return out


def combine(parts: Sequence[Combinations]) -> Combinations:
    """Several combination inputs as one; block ids get the input's number (``1.``, ``2.``…)."""
    if len(parts) == 1:
        return parts[0]
    n = {p.n_drugs for p in parts}
    if len(n) > 1:
        raise InputError("combination inputs mix two- and three-drug tables",
                         expected="one number of drugs per study", found=", ".join(map(str, sorted(n))))  # fmt: skip
    data = pd.concat(
        [p.data.assign(block_id=f"{k + 1}." + p.data["block_id"]) for k, p in enumerate(parts)]
    )
    blocks = pd.concat(
        [p.blocks.assign(block_id=f"{k + 1}." + p.blocks["block_id"]) for k, p in enumerate(parts)]
    )
    return Combinations(
        data.reset_index(drop=True), blocks.reset_index(drop=True), parts[0].n_drugs
    )


def _read(item: SynergyInput, opts: SynergyOptions) -> Combinations:
    if isinstance(item, Combinations):
        return item
    if isinstance(item, pd.DataFrame):
        return from_frame(item, response=opts.response, conc_unit=opts.conc_unit)
    if isinstance(item, str | Path):
        path = check_path(item, "combination table")
        return read_combinations(path, response=opts.response, conc_unit=opts.conc_unit)
    raise InputError(
        "not a combination input",
        expected="a path, a DataFrame in SynergyFinder's layout or Combinations",
        found=type(item).__name__,
    )


def _where(item: SynergyInput) -> str:
    """How an input is named in messages: its path, or ``<table>`` for one in memory."""
    return str(item) if isinstance(item, str | Path) else "<table>"


def _flags(result: SynergyResult) -> list[Flag]:
    s, opts = result.summary, result.options
    flags: list[Flag] = []
    for _, r in s[s["status"] != "ok"].iterrows():
        flags.append(Flag("warning", f"block {r['block_id']}: {r['status']}"))
    if "loewe_basis" in s:
        for _, r in s[s["loewe_basis"] == "mostly_fallback"].iterrows():
            flags.append(Flag("warning", f"block {r['block_id']}: Loewe {r['loewe']:.1f} rests mostly on the fallback "
                                         f"({r['loewe_fallback_fraction']:.0%} of combination cells: no dose solves "
                                         "Loewe's equation there, the expected value is the stronger single drug at "
                                         "the summed dose); read it with care"))  # fmt: skip
    for _, r in s[s["ci_note"] != ""].iterrows():
        flags.append(Flag("info", f"block {r['block_id']}: {r['ci_note']}"))
    if result.resensitisation is not None and opts.condition:
        main = opts.models[-1]
        for _, r in result.resensitisation.iterrows():
            low = r.get(f"delta_{main}_ci_low", np.nan)
            if pd.notna(low) and low > 0:
                flags.append(Flag("info", f"{r['drug1']} + {r['drug2']}: {MODEL_TITLES[main]} synergy is higher in "
                                          f"{r[opts.condition]} than in {opts.reference} by {r[f'delta_{main}']:.1f} "
                                          f"(95% CI {low:.1f} to {r[f'delta_{main}_ci_high']:.1f})"))  # fmt: skip
    return flags


def run_synergy(
    inputs: SynergyInput | Sequence[SynergyInput],
    options: SynergyOptions | None = None,
    *,
    strict_reference: bool = True,
    progress: ProgressCallback = no_progress,
) -> SynergyResult:
    """Score every block of ``inputs`` (one or several combination tables) under ``options``.

    Several inputs are scored together, their block ids prefixed by the input's number.
    Bad inputs raise :class:`~trkres.errors.InputError` naming file, row, column,
    expected and found; nothing is written. With ``options.condition`` and
    ``strict_reference``, a reference that is no level of the condition column is such an
    error (listing the levels); without it, every line is labelled ``no_reference_block``.
    """
    from trkres.assays.synergy.resensitisation import compare_lines, proliferation_tests
    from trkres.assays.synergy.scorer import Synergy

    opts = options if options is not None else SynergyOptions()
    items = (
        [inputs] if isinstance(inputs, str | Path | pd.DataFrame | Combinations) else list(inputs)
    )
    if not items:
        raise InputError("no combination data", expected="at least one combination table",
                         found="none")  # fmt: skip
    combos = combine([_read(item, opts) for item in items])
    if opts.condition and opts.condition not in combos.blocks.columns:
        raise InputError("condition column not in the combination table", expected=opts.condition,
                         found=", ".join(map(str, combos.blocks.columns)))  # fmt: skip
    if (
        strict_reference and opts.condition and combos.n_drugs == 2
    ):  # before any fitting: a typo must not cost a run
        levels = sorted(set(combos.blocks[opts.condition].astype(str)))
        if opts.reference not in levels:
            raise InputError(f"reference '{opts.reference}' is not a level of column '{opts.condition}'",
                             location=Location(file=_where(items[0]), column=opts.condition),
                             expected="one of: " + ", ".join(levels[:20]) + (" …" if len(levels) > 20 else ""),
                             found=opts.reference,
                             hint="give the reference as it is spelled in the table (case and spaces count)")  # fmt: skip
    progress(0, 1, f"{len(combos.blocks)} blocks, {opts.n_boot} bootstrap draws")
    fit = Synergy(
        opts.models, n_boot=opts.n_boot, ci=opts.ci, seed=opts.seed, musyc=opts.musyc
    ).fit(combos)
    compare = None
    if combos.n_drugs == 2 and opts.condition:
        compare = compare_lines(fit, condition=opts.condition, reference=opts.reference, ci=opts.ci)
    result = SynergyResult(
        combinations=combos,
        options=opts,
        summary=fit.summary_,
        matrix=fit.matrix_,
        singles=fit.singles_,
        musyc=fit.musyc_,
        combination_index=fit.combination_index_,
        proliferation=proliferation_tests(fit, method=opts.adjust),
        resensitisation=compare,
        main_model="zip" if "zip" in opts.models else opts.models[0],
    )
    result.flags = _flags(result)
    progress(1, 1, "scored")
    return result
