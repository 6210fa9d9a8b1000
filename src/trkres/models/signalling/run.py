"""``run_signal``: genotypes × treatments → readouts, dose-response curves and what they rest on.

The one orchestration of the signalling model: ``trkres signal``, the study section and
``tr.signalling.simulate`` call it. It parses, simulates and tabulates; it writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.models.signalling.genotype import (
    Genotype,
    Treatment,
    parse_genotype,
    parse_treatment,
)
from trkres.models.signalling.options import SignalOptions
from trkres.options import validate_options
from trkres.results import TableResult
from trkres.study.registry import ProgressCallback, no_progress

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase
    from trkres.models.signalling.grid import Overrides

__all__ = ["TABLE_TITLES", "SignalResult", "facts_used", "half_maximal", "run_signal"]

#: What each table of :class:`SignalResult` holds (the report's titles).
TABLE_TITLES = {
    "readouts": "Readouts as a fraction of the same genotype untreated at the same time",
    "levels": "Readouts as absolute levels (µM; viability: cells relative to the start)",
    "dose_response": "Single-drug dose-response curves (fraction of untreated)",
    "ic50": "Half-maximal doses of the single-drug curves (nM)",
    "growth_rates": "Net growth rate of the cells over the viability period (per day)",
    "genotypes": "Genotypes: each alteration and the model mechanism it maps to",
    "potencies": "Drug occupancy constants used, and where each comes from",
    "parameters": "Model parameters, units and sources",
}

SUMMARY = (
    "Simulated with trkres' TRK-fusion signalling model (25 species, ODEs; docs/signalling.md): "
    "the cells sit at their untreated steady state, drugs are added at t = 0. Readouts are "
    "fractions of the same genotype untreated at the same time; viability is the cell "
    "number at the viability time relative to untreated. A model's prediction, not a "
    "measurement: most kinetic parameters are stated assumptions chosen to reproduce the "
    "published pharmacology (see the parameters table)."
)


@dataclass(frozen=True, eq=False)
class SignalResult(TableResult):
    """Every table of a signalling run by name, with the parsed genotypes and treatments.

    A read-only mapping (``result["readouts"]``) with attributes :attr:`genotypes`,
    :attr:`treatments`, :attr:`options`, :attr:`simulations` (how many ODE systems
    were integrated), :attr:`notes` and :attr:`warnings`.
    """

    genotypes: tuple[Genotype, ...] = ()
    treatments: tuple[Treatment, ...] = ()
    options: SignalOptions = field(default_factory=SignalOptions)
    simulations: int = 0
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def readout(self, readout: str, time_h: float | None = None) -> pd.DataFrame:
        """One readout as a genotype × treatment table (fraction of untreated).

        ``time_h`` defaults to the first readout time (the viability time for viability).
        """
        from trkres.errors import InputError

        table = self.tables["readouts"]
        rows = table[table["readout"] == readout]
        if rows.empty:
            raise InputError("unknown readout", expected=", ".join(table["readout"].unique()),
                             found=repr(readout))  # fmt: skip
        times = sorted(set(rows["time_h"]))
        if time_h is None:
            when = float(times[0])
        elif isinstance(time_h, int | float) and not isinstance(time_h, bool):
            when = float(time_h)
        else:
            raise InputError("bad time_h", expected="hours (a number)", found=repr(time_h))
        rows = rows[np.isclose(rows["time_h"], when)]
        if rows.empty:
            raise InputError(f"no {readout} at {when:g} h", expected=f"one of {times} (hours)",
                             found=repr(time_h))  # fmt: skip
        wide = rows.pivot(index="genotype", columns="treatment", values="value")
        genotypes = [g.label for g in self.genotypes if g.label in wide.index]
        treatments = [t for t in rows["treatment"].unique() if t in wide.columns]
        return wide.loc[genotypes, treatments]


def half_maximal(doses: np.ndarray, values: np.ndarray) -> float:
    """The dose (nM) where a falling curve first crosses 0.5, by linear interpolation on
    log dose between the grid points around it; NaN if it never crosses, the lowest dose if
    the curve starts below 0.5 (a bound for calibration: :func:`run_signal` reports such a
    curve's half-maximal dose as below the grid, not as this dose)."""
    below = np.flatnonzero(values < 0.5)
    if below.size == 0 or below[0] == 0:
        return float("nan") if below.size == 0 else float(doses[0])
    i = below[0]
    x0, x1 = np.log(doses[i - 1]), np.log(doses[i])
    y0, y1 = values[i - 1], values[i]
    return float(np.exp(x0 + (0.5 - y0) * (x1 - x0) / (y1 - y0)))


def _dose_response(
    genotypes: list[Genotype],
    treatments: list[Treatment],
    options: SignalOptions,
    kb: KnowledgeBase,
    overrides: Overrides | None,
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    from trkres.models.signalling.grid import dose_grid, single_drug_curves

    drugs = list(dict.fromkeys(d for t in treatments for d in t.drugs))
    empty = pd.DataFrame(columns=["genotype", "drug", "dose_nm", "time_h", "readout", "value"])
    if not drugs or options.dose_points == 0:
        columns = ["genotype", "drug", "readout", "time_h", "ic50_nm", "note"]
        return empty, pd.DataFrame(columns=columns), 0
    doses = dose_grid(options.dose_points)
    curves, simulations = single_drug_curves(
        genotypes, drugs, doses, kb, time_h=options.times_h[0], viability_h=options.viability_h,
        rtol=options.rtol, overrides=overrides,
    )  # fmt: skip
    top = f"not reached by {doses[-1]:g} nM"
    # the lowest dose already below half: the half-maximal dose lies below the grid, and
    # half_maximal's lowest dose (calibration's finite stand-in) is not an estimate of it
    bottom = f"below {doses[0]:g} nM (the lowest dose already halves the readout)"
    per_decade = (len(doses) - 1) / np.log10(doses[-1] / doses[0])
    how = f"interpolated on log dose between grid doses ({per_decade:.3g} per decade)"
    ic50 = []
    for (g, d, r), part in curves.groupby(["genotype", "drug", "readout"], sort=False):
        values = part["value"].to_numpy()
        value = half_maximal(part["dose_nm"].to_numpy(), values)
        note = top if np.isnan(value) else how
        if values[0] < 0.5:
            value, note = float("nan"), bottom
        if not np.isfinite(values).all():  # a dose whose simulation did not finish
            value, note = float("nan"), "not computed: a simulation of this curve did not finish"
        ic50.append({"genotype": g, "drug": d, "readout": r,
                     "time_h": float(part["time_h"].iloc[0]), "ic50_nm": value,
                     "note": note})  # fmt: skip
    return curves, pd.DataFrame(ic50), simulations


def growth_rates(levels: pd.DataFrame, viability_h: float) -> pd.DataFrame:
    """Net growth rate (per day) of each genotype × treatment: ln(N(t)/N(0)) / t over the
    viability period, the average rate a population model (e.g. the evolution simulator's
    birth − death) can take; ``doubling_days`` where it grows, else empty."""
    rows = levels[levels["readout"] == "viability"]
    days = viability_h / 24.0
    rate = np.log(rows["level"].to_numpy(dtype=float)) / days
    with np.errstate(divide="ignore"):
        doubling = np.where(rate > 0, np.log(2) / rate, np.nan)
    return pd.DataFrame({"genotype": rows["genotype"].to_numpy(),
                         "treatment": rows["treatment"].to_numpy(), "days": days,
                         "net_growth_per_day": rate, "doubling_days": doubling})  # fmt: skip


def _genotype_table(genotypes: list[Genotype]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for g in genotypes:
        rows.append({"genotype": g.label, "alteration": f"{g.partner}::{g.trk_gene}",
                     "mechanism": "fusion kinase (constitutive)", "kinase_form": g.kinase_form,
                     "fact": ""})  # fmt: skip
        for a in g.alterations:
            rows.append({"genotype": g.label, "alteration": f"{a.gene} {a.change}",
                         "mechanism": a.mechanism, "kinase_form": g.kinase_form,
                         "fact": a.fact})  # fmt: skip
    return pd.DataFrame(rows)


def _potency_table(kb: KnowledgeBase, used: set[str], forms: set[str]) -> pd.DataFrame:
    """The occupancy constants the run used: its drugs, and for TRK the genotypes' forms."""
    from trkres.models.signalling.drugs import model_drugs

    rows = [
        {"drug": d.id, "target": p.target, "kinase_form": p.form, "k_nm": p.k_nm,
         "status": p.status, "source": p.source}
        for d in model_drugs(kb).values() if d.id in used for p in d.potencies
        if p.target != "TRK" or p.form in forms
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["drug", "target", "kinase_form", "k_nm", "status", "source"])


def _parameter_table() -> pd.DataFrame:
    from trkres.models.signalling.trk import trk_network

    net = trk_network()
    rows = [
        {"parameter": p.name, "value": p.value, "unit": p.unit, "description": p.description,
         "source": p.source}
        for p in net.parameters
        if not p.name.startswith(("c_", "K_"))
    ]  # fmt: skip
    return pd.DataFrame(rows)


def run_signal(
    options: SignalOptions | Mapping[str, Any] | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
    overrides: Overrides | None = None,
    progress: ProgressCallback = no_progress,
) -> SignalResult:
    """Simulate every genotype × treatment of ``options`` (see :class:`SignalOptions`);
    ``overrides``: changed parameters (e.g. a calibration's ``overrides``)."""
    from trkres.knowledge.loader import load_knowledge
    from trkres.models.signalling.grid import simulate_grid

    opts = validate_options(SignalOptions, options)
    kb = knowledge or load_knowledge()
    genotypes = [parse_genotype(g, kb, f"genotype {i + 1}") for i, g in enumerate(opts.genotypes)]
    labels = [g.label for g in genotypes]
    if len(set(labels)) != len(labels):
        from trkres.errors import InputError

        raise InputError("two genotypes are the same", expected="distinct genotypes",
                         found=", ".join(labels))  # fmt: skip
    treatments = [
        parse_treatment(t, kb, f"treatment {i + 1}") for i, t in enumerate(opts.treatments)
    ]
    treatments = list({t.label: t for t in treatments}.values())
    grid = simulate_grid(genotypes, treatments, opts.times_h, kb, viability_h=opts.viability_h,
                         rtol=opts.rtol, overrides=overrides, progress=progress)  # fmt: skip
    curves, ic50, n_curves = _dose_response(genotypes, treatments, opts, kb, overrides)
    used = {d for t in treatments for d in t.drugs}
    warnings = [f"did not finish: {what}" for what in grid.failed]
    from trkres.models.signalling.drugs import cell_to_occupancy

    ratio, _, _ = cell_to_occupancy(kb)
    notes = [
        "model prediction, not a measurement; parameters marked 'assumption' were chosen "
        "to reproduce the published pharmacology (docs/signalling.md)",
        f"cell potencies become occupancy constants × {ratio:.3g} (larotrectinib's enzyme/cell "
        "ratio): a knowledge file that changes either figure changes every cell-based drug",
    ]
    if overrides is not None and (overrides.parameters or overrides.potency_scale):
        changed = [f"{k}={v:.4g}" for k, v in overrides.parameters.items()]
        changed += [f"potency:{k}×{v:.4g}" for k, v in overrides.potency_scale.items()]
        notes.append("parameters changed from the shipped set: " + ", ".join(changed))
    statuses = _potency_table(kb, used, {g.kinase_form for g in genotypes})
    review = statuses[statuses["status"] != "verified"]["drug"].unique()
    if len(review):
        notes.append("potencies resting on unverified figures or assumptions: "
                     + ", ".join(sorted(review)))  # fmt: skip
    tables = {
        "readouts": grid.readouts,
        "levels": grid.levels,
        "growth_rates": growth_rates(grid.levels, opts.viability_h),
        "dose_response": curves,
        "ic50": ic50,
        "genotypes": _genotype_table(genotypes),
        "potencies": statuses,
        "parameters": _parameter_table(),
    }
    return SignalResult(
        tables=tables,
        genotypes=tuple(genotypes),
        treatments=tuple(treatments),
        options=opts,
        simulations=grid.simulations + n_curves,
        notes=tuple(notes),
        warnings=tuple(warnings),
    )


_FACT = re.compile(r"fact:([a-z_]+:[a-z0-9][a-z0-9_.\-]*[a-z0-9])")


def facts_used(result: SignalResult) -> set[str]:
    """Knowledge facts (``topic:id``) a result rests on: its genotypes' alterations and the
    potency facts behind the constants it used."""
    facts = {a.fact for g in result.genotypes for a in g.alterations if a.fact}
    for source in result.tables["potencies"]["source"]:
        facts.update(_FACT.findall(str(source)))
    return facts
