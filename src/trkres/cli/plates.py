"""The plate command: plate-reader exports to % of vehicle, QC, tables to fit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import OUT_HELP, app, err_console, state


@app.command()
def plate(
    export: Annotated[
        Path,
        typer.Argument(
            help="Plate-reader export (grid CSV/TSV/XLSX, Gen5, SoftMax Pro or EnVision text; text may be .gz)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
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
    import pandas as pd

    from trkres.assays.plates.options import PlateReadOptions
    from trkres.assays.plates.run import PlateInput, run_plates
    from trkres.options import validate_options
    from trkres.report.files import write_outputs

    opts = validate_options(
        PlateReadOptions, {"format": fmt, "cell_line": cell_line, "read": read}, source="cli"
    )
    item = PlateInput(export.name, export, layout, opts.format, opts.cell_line)
    result = run_plates(item, opts)
    (plate_set,) = result.plates
    tables = {"wells": plate_set.wells, "plate_qc": plate_set.qc}
    extra = plate_set.analysis_table()
    if extra is not None:
        tables[extra[0]] = extra[1]
    write_outputs(out, tables)
    if not state.quiet:
        for _, r in plate_set.qc.iterrows():
            colour = "green" if r["qc"] == "pass" else "yellow"
            z = (f"{r['z_prime']:.2f}" if pd.notna(r["z_prime"])
                 else "not computed (needs 2 or more vehicle and positive-control wells)")  # fmt: skip
            err_console.print(f"[{colour}]plate {r['plate']}: Z' {z}, QC {r['qc']}")
            if r.get("n_unmapped", 0) > 0:
                err_console.print(f"plate {r['plate']}: {int(r['n_unmapped'])} well(s) of the "
                                  "export not in the plate map, not used")  # fmt: skip
        err_console.print(f"{len(plate_set.wells)} wells normalised; written to [bold]{out}[/bold]")
