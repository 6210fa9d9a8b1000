"""Golden trajectories of the reference signalling models, simulated by libroadrunner.

Run from the repository root (needs ``python-libsbml`` and ``libroadrunner``; dev-only):
``python tools/golden/signalling_roadrunner.py``. For each model it exports the trkres
:class:`Network` to SBML (``trkres.models.signalling.sbml.to_sbml``), simulates that SBML
with roadrunner's CVODE at rtol 1e-12 / atol 1e-16, and writes
``tests/data/signalling/<model>_roadrunner.tsv``: a ``#`` header naming the tool versions and
settings, then ``time_h`` and one column per species (µM). The test
``tests/models/test_signalling_sbml.py`` compares trkres' own integrator with these files,
so the SBML export and the integrator are checked against an independent simulator even
where roadrunner is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from trkres.models.signalling.network import Network  # noqa: E402
from trkres.models.signalling.reference_models import huang_ferrell, kholodenko  # noqa: E402
from trkres.models.signalling.sbml import to_sbml  # noqa: E402

OUT = ROOT / "tests" / "data" / "signalling"

#: model → (network, output times in hours)
CASES: dict[str, tuple[Network, np.ndarray]] = {
    "kholodenko_2000": (kholodenko(), np.linspace(0.0, 1.5, 31)),
    # E1 near MAPK's threshold, over the first minutes (the cascade's whole transient)
    "huang_ferrell_1996": (
        huang_ferrell(2e-5),
        np.array([0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.02, 0.05, 0.1, 0.2]),
    ),
}


def simulate_roadrunner(net: Network, times: np.ndarray) -> np.ndarray:
    """(n_times, n_species) concentrations (µM) from roadrunner on the exported SBML."""
    import roadrunner

    rr = roadrunner.RoadRunner(to_sbml(net))
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-16
    rr.integrator.setValue("maximum_num_steps", 1_000_000)
    selections = ["time"] + [f"[{s}]" for s in net.species_names]
    result = np.asarray(rr.simulate(times=times, selections=selections))
    out: np.ndarray = result[:, 1:]
    return out


def main() -> None:
    import libsbml
    import roadrunner

    OUT.mkdir(parents=True, exist_ok=True)
    for name, (net, times) in CASES.items():
        traj = simulate_roadrunner(net, times)
        header = (
            f"# {name}: trkres Network -> to_sbml -> libroadrunner {roadrunner.__version__} "
            f"(libsbml {libsbml.getLibSBMLDottedVersion()}), CVODE rtol 1e-12 atol 1e-16; "
            "time in hours, amounts in µM\n"
        )
        lines = ["\t".join(("time_h", *net.species_names))]
        for t, row in zip(times, traj, strict=True):
            lines.append("\t".join([repr(float(t))] + [repr(float(v)) for v in row]))
        path = OUT / f"{name}_roadrunner.tsv"
        path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)} ({len(times)} times)")


if __name__ == "__main__":
    main()
