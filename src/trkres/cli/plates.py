"""The plate command: plate-reader exports to % of vehicle, QC, tables to fit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import (
    app,
    err_console,
    state,
)
from trkres.errors import TrkresError


@app.command()
def plate(
    export: Annotated[
        Path,
        typer.Argument(
            help="Plate-reader export (grid CSV/TSV/XLSX, Gen5, SoftMax Pro or EnVision text; text may be .gz)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (replaced atomically).")],
    layout: Annotated[
        Path | None,
        typer.Option(
            "--map",
            help="Plate map (CSV/TSV/YAML, .gz too): well, role, cell_line, drug(s), dose(s), unit "
            "(M, mM, uM, nM, pM; doses are written out in molar) (not for --format gdsc, whose well "
            "table carries its own).",
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help="grid, gen5, softmax, envision or gdsc (a GDSC well table)."),
    ] = "grid",
    cell_line: Annotated[
        str | None, typer.Option(help="gdsc: keep only this CELL_LINE_NAME's plates.")
    ] = None,
    read: Annotated[
        str | None,
        typer.Option(help="Which measurement when the export holds several (default: the first)."),
    ] = None,
) -> None:
    """Normalise plates to % viability of vehicle, check their quality, and write analysis-ready tables.

    Writes OUT/wells.tsv (every mapped well: raw value, reader flag, blank-subtracted signal,
    viability %, doses in molar with unit M, and an 'issue' for non-finite readings or
    implausible viability), OUT/plate_qc.tsv (per plate: control means and CVs, Z', edge-to-interior
    ratio, row/column trends, unusable and implausible wells, 'qc' = pass or the problems), and OUT/dose_response.tsv (one
    drug: input for trkres fit / resistance) or OUT/combinations.tsv (two or more drugs:
    input for trkres synergy --response viability).

    Example:  trkres plate reads.txt --format gen5 --map layout.yaml -o plate1
    """
    from trkres.assays.plates.io import read_plate_values
    from trkres.assays.plates.wells import (
        drug_count,
        normalise,
        plate_qc,
        read_gdsc_wells,
        read_plate_map,
        to_combinations,
        to_dose_response,
    )
    from trkres.outputs import write_tables

    if fmt not in ("grid", "gen5", "softmax", "envision", "gdsc"):
        raise TrkresError(
            "unknown plate format", expected="grid, gen5, softmax, envision or gdsc", found=fmt
        )
    if fmt == "gdsc":
        values, plate_map = read_gdsc_wells(export, cell_line=cell_line)
    elif layout is None:
        raise TrkresError("a plate map is needed", expected="--map MAP.csv|yaml", found="none")
    else:
        values, plate_map = read_plate_values(export, fmt), read_plate_map(layout)  # type: ignore[arg-type]
    wells = normalise(values, plate_map, read=read, path=export)
    qc = plate_qc(wells)
    tables = {"wells": wells, "plate_qc": qc}
    n = drug_count(wells)
    if n >= 2:
        tables["combinations"] = to_combinations(wells)
    elif n == 1:
        # In read_long's layout, so trkres fit / resistance read it back as it is.
        tables["dose_response"] = (
            to_dose_response(wells).rename(columns={"dose_molar": "dose"}).assign(unit="M")
        )
    write_tables(out, tables)
    if not state.quiet:
        for _, r in qc.iterrows():
            colour = "green" if r["qc"] == "pass" else "yellow"
            err_console.print(f"[{colour}]plate {r['plate']}: Z' {r['z_prime']:.2f}, QC {r['qc']}")
        err_console.print(f"{len(wells)} wells normalised; written to [bold]{out}[/bold]")
