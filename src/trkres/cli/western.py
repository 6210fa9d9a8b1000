"""The blot command: a western blot image → bands, lanes, ROIs, normalised fold changes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import OUT_HELP, _progress, app, err_console, log_notes, state


@app.command()
def blot(
    image: Annotated[
        Path,
        typer.Argument(
            help="The blot image: 16-bit TIFF (multi-page and LI-COR 700/800 exports "
            "read as channels), PNG or JPEG (8-bit or lossy: a warning)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    lanes: Annotated[
        int | None,
        typer.Option(help="Number of lanes on the blot (default: found from the image)."),
    ] = None,
    invert: Annotated[
        str,
        typer.Option(
            help="Dark bands on a light scan are inverted: auto (decided from the image, "
            "said in the output), yes or no."
        ),
    ] = "auto",
    background: Annotated[
        str,
        typer.Option(
            help="Band background: local (a curved bridge across each box; default), "
            "rolling-ball (ImageJ), profile (valley-to-valley), border (Image Studio), none."
        ),
    ] = "local",
    radius: Annotated[float, typer.Option(help="Rolling-ball radius in pixels.")] = 50.0,
    rois: Annotated[
        Path | None,
        typer.Option(
            help="Band boxes (lane, band, x0, x1, y0, y1; 0-based pixels, x1/y1 "
            "exclusive) that replace detection: edit OUT/rois.tsv and pass it back."
        ),
    ] = None,
    layout: Annotated[
        Path | None,
        typer.Option(
            help="Lane layout: lane, sample, treatment, dose, time, replicate, role "
            "(control, sample, ladder, empty or dilution)."
        ),
    ] = None,
    loading_control: Annotated[
        Path | None,
        typer.Option(
            help="Image of the loading control (GAPDH, actin) or total-protein stain "
            "of the same lanes."
        ),
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Page or channel of the target (e.g. 800).")
    ] = None,
    loading_channel: Annotated[
        str | None,
        typer.Option(help="Page or channel of the loading control in the same file (e.g. 700)."),
    ] = None,
    blot_name: Annotated[
        str | None,
        typer.Option(
            "--blot",
            help="This image's blot in a --layout that describes several blots (its 'blot' "
            "column); needed then, so lanes are matched with the right blot's layout.",
        ),
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Protein on the target image (e.g. pERK).")
    ] = None,
    loading_target: Annotated[
        str, typer.Option(help="Protein or stain on the loading-control image (e.g. GAPDH).")
    ] = "loading control",
    band: Annotated[
        str,
        typer.Option(
            help="Which band of a lane: largest, index (with --band-index) or lane-total."
        ),
    ] = "largest",
    band_index: Annotated[
        int | None, typer.Option(help="Band number (1 = top) with --band index.")
    ] = None,
    doublet: Annotated[
        str, typer.Option(help="ERK1/2-like doublets: none, sum or separate.")
    ] = "none",
    control: Annotated[
        str | None,
        typer.Option(help="Condition of the control lanes (default: layout role control)."),
    ] = None,
    detector_max: Annotated[
        float | None,
        typer.Option(
            help="Detector maximum grey level (e.g. 4095 for a 12-bit camera in a "
            "16-bit file): pixels there are saturated."
        ),
    ] = None,
    no_figures: Annotated[bool, typer.Option("--no-figures", help="Write tables only.")] = False,
) -> None:
    """Quantify a western blot: lanes, bands, volumes, saturation, normalised fold
    changes.

    The image is inverted when it is a dark-on-light scan (said in the
    output); ImageJ's rolling ball (--radius) finds lanes and bands; each
    band's volume is its integrated signal above the --background; any band
    pixel at the detector maximum flags its lane (a clipped band cannot be
    quantified). With --loading-control each lane's target is divided by its
    loading control; with --layout, fold changes against the control lanes,
    the loading-control CV and a dilution series' linear range.

    Writes OUT/bands.tsv (image, lane, band, x0, x1, y0, y1, volume, area,
    peak, background, saturated ...), OUT/lanes.tsv, OUT/rois.tsv (edit and
    pass back with --rois), OUT/signals.tsv, OUT/quantified.tsv (ratios and
    fold changes), OUT/loading_cv.tsv, OUT/linear_range.tsv and figures/
    (overlay, profiles, fold change).

    Example:  trkres blot pERK.tif --lanes 12 --loading-control GAPDH.tif --layout lanes.tsv -o blot1
    """
    from trkres.assays.western.options import BlotOptions
    from trkres.assays.western.run import run_blot
    from trkres.options import validate_options
    from trkres.report.files import write_outputs

    options = validate_options(
        BlotOptions,
        {
            "lanes": lanes, "invert": invert, "background": background, "radius": radius,
            "channel": channel, "detector_max": detector_max, "target": target,
            "loading_target": loading_target, "band": band, "band_index": band_index,
            "doublet": doublet, "control": control,
        },
        source="cli",
    )  # fmt: skip
    with _progress("western blot") as progress:
        result = run_blot(image, options, loading=loading_control, layout=layout, rois=rois,
                          loading_channel=loading_channel, blot=blot_name,
                          progress=progress)  # fmt: skip
        figures = []
        if not no_figures:
            from trkres.pl.western import western_figures

            figures = western_figures(result)
        write_outputs(out, dict(result), figures)
    log_notes(result)
    if not state.quiet:
        bands = result["bands"]
        err_console.print(f"Measured {len(bands)} band(s) in {bands['lane'].nunique()} lane(s); "
                          f"tables written to [bold]{out}[/bold]")  # fmt: skip
