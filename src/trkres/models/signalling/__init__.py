"""TRK-fusion signalling under drugs and resistance alterations (issue 16).

Modules: ``network`` (a reaction network written once: species, parameters with sources,
reactions as infix rate laws), ``compile`` (networks → numba right-hand sides and analytic
Jacobians), ``integrate`` (batched Rodas4 integration and steady states; scipy reference),
``sbml`` (SBML L3V2 export), ``reference_models`` (Huang–Ferrell 1996, Kholodenko 2000:
checks of the engine), ``trk`` (the TRK-fusion network), ``drugs`` (occupancy constants from
the knowledge base's potencies or stated assumptions), ``genotype`` (genotypes and
treatments → mechanisms and parameters), ``grid`` (genotype × treatment × time simulations),
``calibrate`` (fits to a lab's fold changes and IC50s, profile-likelihood CIs), ``virtual``
(the virtual lab: plate-reader exports and western tables made by the model),
``options`` / ``run`` / ``api`` / ``section``.

The public API (``tr.signalling``)::

    import trkres as tr
    res = tr.signalling.simulate(["LMNA::NTRK1", "LMNA::NTRK1 + NTRK1 G595R"],
                                 ["larotrectinib=100nM", "selitrectinib=50nM"])
    res.readout("pERK")           # genotype × treatment, fraction of untreated at 2 h
    res["ic50"]                   # single-drug half-maximal doses (nM)
    tr.pl.signal_heatmap(res, "viability")
    fit = tr.signalling.calibrate(western_fold_changes, ["potency:larotrectinib"])
    obs = tr.signalling.observations_from_fits(fits, {"parental": "LMNA::NTRK1"},
                                               group=["drug", "line"])  # trkres fit's table
    values, plate_map = tr.signalling.virtual_plate(["LMNA::NTRK1"], "larotrectinib")
"""

from trkres.models.signalling.api import (
    calibrate,
    export_sbml,
    model,
    simulate,
    virtual_plate,
    virtual_western,
    write_virtual_plate,
)
from trkres.models.signalling.calibrate import (
    CalibrationResult,
    observations_from_blots,
    observations_from_fits,
)
from trkres.models.signalling.options import SignalOptions
from trkres.models.signalling.run import SignalResult, run_signal

__all__ = [
    "CalibrationResult",
    "SignalOptions",
    "SignalResult",
    "calibrate",
    "export_sbml",
    "model",
    "observations_from_blots",
    "observations_from_fits",
    "run_signal",
    "simulate",
    "virtual_plate",
    "virtual_western",
    "write_virtual_plate",
]
