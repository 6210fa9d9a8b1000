"""The virtual lab: the signalling model's predictions written as the files a lab produces.

For teaching, power planning and testing a pipeline end to end, with the noise stated:

- :func:`virtual_plate`: a 96-well viability experiment (CellTiter-Glo-like luminescence)
  as a generic plate-reader grid plus its plate map, the files ``trkres plates``/``trkres
  fit`` read. Per plate: two genotypes (cell lines) in three replicate rows each, vehicle
  in column 1, ten doses (3-fold, from ``top_nm``) in columns 2–11, blank medium in column
  12, a positive kill control row (G) and an empty row (H); rows of a missing second
  line are empty wells.
  Signal = blank + vehicle signal × viability, each well × log-normal noise (``cv``).
- :func:`virtual_western`: a western quantification table (per genotype, treatment and
  replicate blot: the phospho readout's fold change against the untreated lane of the same
  blot), the model's fraction of untreated times log-normal noise (``cv``) per blot.

Every file says it is simulated (a ``# simulated`` first line in the plate-reader grid, a
``simulated`` column in the western table); nothing here is data. Fold changes have no
detection floor: a real blot cannot show 1e-5 of untreated, the model can.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from trkres.errors import InputError
from trkres.frames import check_texts

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase
    from trkres.models.signalling.grid import Overrides

__all__ = ["plate_texts", "virtual_plate", "virtual_western", "write_virtual_plate"]

_ROWS = "ABCDEFGH"


def _lognormal(rng: np.random.Generator, cv: float, size: int | tuple[int, ...]) -> np.ndarray:
    """Multiplicative noise with coefficient of variation ``cv`` (mean 1)."""
    sigma = np.sqrt(np.log1p(cv**2))
    out: np.ndarray = rng.lognormal(-(sigma**2) / 2, sigma, size)
    return out


def _check_noise(cv: float, seed: int | None) -> None:
    if not (isinstance(cv, int | float) and not isinstance(cv, bool) and 0 <= cv <= 1):
        raise InputError("bad noise", expected="a coefficient of variation in [0, 1]",
                         found=repr(cv))  # fmt: skip
    if seed is not None and not (
        isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0
    ):
        raise InputError("bad seed", expected="an integer ≥ 0 or None", found=repr(seed))


def _positive(value: object, what: str, *, zero: bool = False) -> float:
    number = (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else np.nan
    )
    if not np.isfinite(number) or not (number >= 0 if zero else number > 0):
        raise InputError(f"bad {what}", expected="a finite number " + ("≥ 0" if zero else "> 0"),
                         found=repr(value))  # fmt: skip
    return number


def virtual_plate(
    genotypes: Sequence[str],
    drug: str,
    *,
    top_nm: float = 10_000.0,
    cv: float = 0.08,
    vehicle_signal: float = 50_000.0,
    blank_signal: float = 500.0,
    seed: int | None = 0,
    knowledge: KnowledgeBase | None = None,
    overrides: Overrides | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A simulated viability experiment: (plate values, plate map).

    ``genotypes``: one per cell line, two per plate (a third makes a second plate).
    Values are the long table trkres' plate readers return (``plate, read, well, row,
    column, value, flag``); the map has ``plate, well, role, cell_line, drug, dose, unit``.
    Cell-line names are ``line1``, ``line2``… (the map's ``genotype`` column says which is which).
    """
    from trkres.knowledge.loader import load_knowledge
    from trkres.models.signalling.genotype import parse_genotype, parse_treatment
    from trkres.models.signalling.grid import single_drug_curves

    _check_noise(cv, seed)
    genotypes = check_texts(genotypes, "genotypes")
    if not (isinstance(top_nm, int | float) and 0 < top_nm <= 1e6):
        raise InputError("bad top dose", expected="0 < top_nm ≤ 1e6 nM", found=repr(top_nm))
    vehicle_signal = _positive(vehicle_signal, "vehicle signal")
    blank_signal = _positive(blank_signal, "blank signal", zero=True)
    kb = knowledge or load_knowledge()
    drug_id = parse_treatment(f"{drug}=1nM", kb).drugs[0]
    parsed = [parse_genotype(g, kb) for g in genotypes]
    doses = top_nm / 3.0 ** np.arange(9, -1, -1)  # ten 3-fold doses, ascending
    # one curve per distinct genotype: two lines of one genotype ("LMNA::NTRK1" and
    # "lmna::ntrk1" too) share it, rather than interleaving two copies of it by dose
    distinct = list({g.label: g for g in parsed}.values())
    curves, _ = single_drug_curves(distinct, [drug_id], doses, kb, overrides=overrides)
    via = curves[curves["readout"] == "viability"]
    rng = np.random.default_rng(seed)
    values: list[dict[str, object]] = []
    layout: list[dict[str, object]] = []
    for index, genotype in enumerate(parsed):
        plate, slot = index // 2 + 1, index % 2
        line = f"line{index + 1}"
        curve = via[via["genotype"] == genotype.label]["value"].to_numpy()
        for rep in range(3):
            row = 3 * slot + rep + 1
            for column in range(1, 13):
                well = f"{_ROWS[row - 1]}{column:02d}"
                if column == 1:
                    fraction, role, dose = 1.0, "vehicle", None
                elif column == 12:
                    fraction, role, dose = 0.0, "blank", None
                else:
                    fraction, role, dose = (
                        float(curve[column - 2]),
                        "sample",
                        float(doses[column - 2]),
                    )
                signal = (blank_signal + vehicle_signal * fraction) * _lognormal(rng, cv, 1)[0]
                values.append({"plate": plate, "read": "luminescence", "well": well, "row": row,
                               "column": column, "value": round(signal, 1), "flag": ""})  # fmt: skip
                layout.append({"plate": plate, "well": well, "role": role,
                               "cell_line": line if role in ("vehicle", "sample") else "",
                               "drug": drug_id if role == "sample" else "",
                               "dose": dose, "unit": "nM" if dose is not None else "",
                               "genotype": genotype.label})  # fmt: skip
    plates = (len(parsed) + 1) // 2
    for plate in range(1, plates + 1):
        used = len(parsed) - 2 * (plate - 1)  # genotypes on this plate (1 or 2)
        spare = [(row, "empty", 0.0) for row in range(3 * used + 1, 7)]
        for row, role, level in (*spare, (7, "positive_control", 0.02), (8, "empty", 0.0)):
            for column in range(1, 13):
                well = f"{_ROWS[row - 1]}{column:02d}"
                signal = (blank_signal + vehicle_signal * level) * _lognormal(rng, cv, 1)[0]
                values.append({"plate": plate, "read": "luminescence", "well": well, "row": row,
                               "column": column, "value": round(signal, 1), "flag": ""})  # fmt: skip
                layout.append({"plate": plate, "well": well, "role": role, "cell_line": "",
                               "drug": "", "dose": None, "unit": "", "genotype": ""})  # fmt: skip
    frame = pd.DataFrame(values).sort_values(["plate", "row", "column"]).reset_index(drop=True)
    return frame, pd.DataFrame(layout).sort_values(["plate", "well"]).reset_index(drop=True)


def plate_texts(values: pd.DataFrame, layout: pd.DataFrame) -> tuple[str, str]:
    """:func:`virtual_plate`'s tables as file contents: a plate-reader grid (a header of column
    numbers, rows A–H, one grid per plate) and a tab-separated plate map."""
    lines = ["# simulated by trkres' signalling model (virtual lab): not data"]
    for plate, part in values.groupby("plate", sort=True):
        lines.append(f"Plate {plate}")
        lines.append("," + ",".join(str(c) for c in range(1, 13)))
        grid = part.pivot(index="row", columns="column", values="value")
        for row, cells in zip(grid.index.to_numpy(dtype=int), grid.to_numpy(), strict=True):
            lines.append(_ROWS[row - 1] + "," + ",".join(f"{v:.1f}" for v in cells))
        lines.append("")
    return "\n".join(lines) + "\n", layout.to_csv(sep="\t", index=False)


def write_virtual_plate(
    values: pd.DataFrame, layout: pd.DataFrame, folder: str | Path
) -> tuple[Path, Path]:
    """Write :func:`plate_texts` to ``folder/plates.csv`` and ``folder/plate_map.tsv``
    (atomically; existing files of those names are replaced, nothing else is touched)."""
    from trkres.outputs import atomic_write_text

    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise InputError("not a folder", expected="a folder (created if missing)", found=str(out))
    out.mkdir(parents=True, exist_ok=True)
    grid_text, map_text = plate_texts(values, layout)
    atomic_write_text(out / "plates.csv", grid_text)
    atomic_write_text(out / "plate_map.tsv", map_text)
    return out / "plates.csv", out / "plate_map.tsv"


def virtual_western(
    genotypes: Sequence[str],
    treatments: Sequence[str],
    *,
    readout: str = "pERK",
    time_h: float = 2.0,
    replicates: int = 3,
    cv: float = 0.2,
    seed: int | None = 0,
    knowledge: KnowledgeBase | None = None,
    overrides: Overrides | None = None,
) -> pd.DataFrame:
    """A simulated western quantification: one row per genotype, treatment and replicate
    blot with the readout's fold change against the untreated lane of the same blot
    (``value``), the model's noise-free value (``model_value``) and the noise used. The
    columns are those :func:`trkres.models.signalling.calibrate.calibrate` reads."""
    from trkres.knowledge.loader import load_knowledge
    from trkres.models.signalling.genotype import parse_genotype, parse_treatment
    from trkres.models.signalling.grid import simulate_grid

    _check_noise(cv, seed)
    genotypes = check_texts(genotypes, "genotypes")
    treatments = check_texts(treatments, "treatments")
    if not (isinstance(time_h, int | float) and not isinstance(time_h, bool) and 0 < time_h <= 720):
        raise InputError("bad time_h", expected="hours in (0, 720]", found=repr(time_h))
    if readout not in ("pTRK", "pMEK", "pERK", "pAKT"):
        raise InputError("bad readout", expected="pTRK, pMEK, pERK or pAKT", found=repr(readout))
    if not (isinstance(replicates, int) and 1 <= replicates <= 100):
        raise InputError("bad replicates", expected="1 to 100 blots", found=repr(replicates))
    kb = knowledge or load_knowledge()
    parsed = [parse_genotype(g, kb) for g in genotypes]
    treats = [parse_treatment(t, kb) for t in treatments]
    grid = simulate_grid(parsed, treats, [float(time_h)], kb, overrides=overrides).readouts
    rows = grid[(grid["readout"] == readout) & np.isclose(grid["time_h"], float(time_h))]
    rng = np.random.default_rng(seed)
    out = []
    for blot in range(1, replicates + 1):
        noise = _lognormal(rng, cv, len(rows))
        untreated = rows["treatment"].to_numpy() == "none"
        noise[untreated] = 1.0  # fold changes are against the untreated lane of each blot
        out.append(pd.DataFrame({
            "genotype": rows["genotype"].to_numpy(), "treatment": rows["treatment"].to_numpy(),
            "time_h": float(time_h), "readout": readout,
            "value": rows["value"].to_numpy() * noise, "replicate": blot,
            "model_value": rows["value"].to_numpy(), "noise_cv": cv, "simulated": True,
        }))  # fmt: skip
    return pd.concat(out, ignore_index=True)
