"""Genotype × treatment × time grids of the TRK network, as tidy tables.

The protocol of every simulation, as a lab runs it: the cells sit untreated at their
steady state (found with growth switched off, so cell number does not count), the drugs
are added at t = 0, and the readouts are taken at the requested times. Each readout is
reported as a fraction of the same genotype untreated at the same time (what a western's
fold change or a viability assay's "% of DMSO" measures) and as an absolute level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trkres.models.signalling.drugs import DRUGS, ModelDrug, model_drugs
from trkres.models.signalling.genotype import (
    Genotype,
    Treatment,
    potency_parameters,
)
from trkres.models.signalling.network import Network
from trkres.models.signalling.trk import READOUTS, trk_network
from trkres.study.registry import ProgressCallback, no_progress

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase
    from trkres.models.signalling.compile import CompiledNetwork

__all__ = [
    "DOSE_RANGE_NM",
    "Grid",
    "Overrides",
    "dose_grid",
    "simulate_grid",
    "single_drug_curves",
    "trk_model",
]

#: Dose range of the single-drug curves (nM).
DOSE_RANGE_NM = (0.1, 10_000.0)
_SHORT = dict(DRUGS)


@lru_cache(maxsize=1)
def trk_model() -> tuple[Network, CompiledNetwork]:
    """The TRK network and its compiled form (compiled once per process, cached on disk)."""
    from trkres.models.signalling.compile import compile_network

    net = trk_network()
    return net, compile_network(net)


@dataclass(frozen=True)
class Grid:
    """Readouts of a grid: ``relative`` (fraction of untreated) and ``levels`` (µM) tables,
    with how many simulations ran and which did not finish."""

    readouts: pd.DataFrame
    levels: pd.DataFrame
    simulations: int
    failed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Overrides:
    """Changes to the shipped parameters (calibration, sensitivity): core parameters by
    name, and each drug's occupancy constants scaled by a factor (all targets and forms)."""

    parameters: Mapping[str, float] = field(default_factory=dict)
    potency_scale: Mapping[str, float] = field(default_factory=dict)


def _parameters(
    net: Network, genotype: Genotype, drugs: dict[str, ModelDrug], overrides: Overrides
) -> np.ndarray:
    potencies = potency_parameters(genotype, drugs)
    for drug, factor in overrides.potency_scale.items():
        suffix = f"_{_SHORT[drug]}"
        for name in potencies:
            if name.endswith(suffix):
                potencies[name] *= factor
    values = {**potencies, **genotype.parameters, **overrides.parameters}
    return net.parameter_values(values)


def _initial(net: Network, genotype: Genotype) -> np.ndarray:
    y = net.initial_state()
    for name, value in genotype.initial.items():
        y[net.species_names.index(name)] = value
    return y


def steady_states(
    genotypes: Sequence[Genotype], kb: KnowledgeBase, overrides: Overrides | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Untreated steady states (n_genotypes, n_species) with N = 1, their parameters, and
    the labels of genotypes whose steady state did not converge."""
    from trkres.models.signalling.integrate import steady_state

    net, compiled = trk_model()
    drugs = model_drugs(kb)
    change = overrides or Overrides()
    params = np.array([_parameters(net, g, drugs, change) for g in genotypes])
    pre = params.copy()
    pre[:, net.parameter_names.index("growth_on")] = 0.0
    y0 = np.array([_initial(net, g) for g in genotypes])
    result = steady_state(compiled, y0, pre)
    states = result.y.copy()
    states[:, net.species_names.index("N")] = 1.0
    failed = [g.label for g, ok in zip(genotypes, result.converged, strict=True) if not ok]
    return states, params, failed


def _with_doses(net: Network, base: np.ndarray, doses_nm: dict[str, float]) -> np.ndarray:
    p = base.copy()
    for drug, dose in doses_nm.items():
        p[net.parameter_names.index(f"c_{_SHORT[drug]}")] = dose
    return p


def simulate_grid(
    genotypes: Sequence[Genotype],
    treatments: Sequence[Treatment],
    times_h: Sequence[float],
    kb: KnowledgeBase,
    *,
    viability_h: float = 72.0,
    rtol: float = 1e-6,
    overrides: Overrides | None = None,
    progress: ProgressCallback = no_progress,
) -> Grid:
    """Every genotype × treatment (the untreated reference added), readouts at ``times_h``
    (pTRK, pMEK, pERK, pAKT) and viability at ``viability_h`` (hours)."""
    from trkres.models.signalling.integrate import simulate

    net, compiled = trk_model()
    progress(0, 3, "signalling: untreated steady states")
    states, base, failed_ss = steady_states(genotypes, kb, overrides)
    if not any(t.label == "none" for t in treatments):
        treatments = [Treatment("none"), *treatments]
    n_g, n_t = len(genotypes), len(treatments)
    params = np.array([_with_doses(net, base[i], t.doses_nm)
                       for i in range(n_g) for t in treatments])  # fmt: skip
    y0 = np.repeat(states, n_t, axis=0)
    times = np.array(sorted({*map(float, times_h), float(viability_h)}))
    progress(1, 3, f"signalling: {len(params)} simulations")
    result = simulate(compiled, y0, params, times, rtol=rtol)
    obs = result.observables()
    progress(2, 3, "signalling: readouts")
    none_index = next(i for i, t in enumerate(treatments) if t.label == "none")
    # a genotype whose untreated steady state did not settle did not follow the protocol:
    # its readouts are left empty (and listed in ``failed``), not returned as if it had
    unsettled = np.isin([g.label for g in genotypes], failed_ss)
    rows_rel: list[pd.DataFrame] = []
    rows_abs: list[pd.DataFrame] = []
    geno = np.repeat([g.label for g in genotypes], n_t)
    treat = np.tile([t.label for t in treatments], n_g)
    for name in READOUTS:
        level = obs[name].reshape(n_g, n_t, len(times)).copy()
        level[unsettled] = np.nan
        ref = level[:, none_index : none_index + 1, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(ref > 0, level / ref, np.nan)
        keep = times == viability_h if name == "viability" else np.isin(times, times_h)
        for k in np.flatnonzero(keep):
            rows_abs.append(pd.DataFrame({"genotype": geno, "treatment": treat,
                                          "time_h": times[k], "readout": name,
                                          "level": level[:, :, k].ravel()}))  # fmt: skip
            rows_rel.append(pd.DataFrame({"genotype": geno, "treatment": treat,
                                          "time_h": times[k], "readout": name,
                                          "value": rel[:, :, k].ravel()}))  # fmt: skip
    failed = list(failed_ss)
    bad = ~result.ok
    if bad.any():
        failed += [f"{g} / {t}" for g, t in zip(geno[bad], treat[bad], strict=True)]
    progress(3, 3, "signalling: done")
    orders = {
        "genotype": list(dict.fromkeys(g.label for g in genotypes)),
        "treatment": list(dict.fromkeys(t.label for t in treatments)),
        "readout": list(READOUTS),
    }
    readouts = _in_order(pd.concat(rows_rel, ignore_index=True), orders)
    levels = _in_order(pd.concat(rows_abs, ignore_index=True), orders)
    return Grid(readouts, levels, len(params), tuple(dict.fromkeys(failed)))


def _in_order(frame: pd.DataFrame, orders: dict[str, list[str]]) -> pd.DataFrame:
    """Rows in the order the user gave genotypes and treatments, readouts as a western lists them."""
    keys = [frame[c].map({v: i for i, v in enumerate(values)}) for c, values in orders.items()]
    order = np.lexsort((frame["time_h"].to_numpy(), keys[2], keys[1], keys[0]))
    return frame.iloc[order].reset_index(drop=True)


def single_drug_curves(
    genotypes: Sequence[Genotype],
    drugs: Sequence[str],
    doses: np.ndarray,
    kb: KnowledgeBase,
    *,
    time_h: float = 2.0,
    viability_h: float = 72.0,
    rtol: float = 1e-6,
    overrides: Overrides | None = None,
) -> tuple[pd.DataFrame, int]:
    """Each drug alone at each dose (nM) in each genotype: a tidy table (``genotype, drug,
    dose_nm, time_h, readout, value``; pERK at ``time_h``, viability at ``viability_h``,
    fractions of untreated) in the order given, and how many simulations ran."""
    singles = {f"{d}={x:.12g}nM": (d, float(x)) for d in drugs for x in doses}
    treatments = [Treatment(label, {d: x}) for label, (d, x) in singles.items()]
    grid = simulate_grid(genotypes, treatments, [time_h], kb, viability_h=viability_h,
                         rtol=rtol, overrides=overrides)  # fmt: skip
    table = grid.readouts
    table = table[(table["treatment"] != "none") & table["readout"].isin(["pERK", "viability"])]
    drug_dose = table["treatment"].map(singles)
    curves = pd.DataFrame({
        "genotype": table["genotype"].to_numpy(),
        "drug": [d for d, _ in drug_dose],
        "dose_nm": [x for _, x in drug_dose],
        "time_h": table["time_h"].to_numpy(),
        "readout": table["readout"].to_numpy(),
        "value": table["value"].to_numpy(),
    })  # fmt: skip
    rank = {g.label: i for i, g in enumerate(genotypes)}
    order = {d: i for i, d in enumerate(drugs)}
    curves = curves.assign(_g=curves["genotype"].map(rank), _d=curves["drug"].map(order))
    curves = curves.sort_values(["_g", "_d", "readout", "dose_nm"], kind="stable")
    return curves.drop(columns=["_g", "_d"]).reset_index(drop=True), grid.simulations


def dose_grid(points: int) -> np.ndarray:
    """``points`` log-spaced doses over :data:`DOSE_RANGE_NM` (nM)."""
    return np.geomspace(*DOSE_RANGE_NM, points)
