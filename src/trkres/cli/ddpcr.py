"""The ddpcr command: wells to copies/uL, fractional abundance, EP17 calls."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trkres.cli._app import OUT_HELP, _progress, app, err_console, log, state


@app.command()
def ddpcr(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="QuantaSoft / QX Manager results exports (.csv) and/or *_Amplitude.csv droplet files."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP)],
    droplet_volume: Annotated[
        float | None,
        typer.Option(
            help="Droplet volume in nL (0.1 to 10). Default: from each file's header: 0.85 for QX200 / "
            "QX Manager / QuantaSoft 1.7, 0.91 for old QuantaSoft; required for amplitude files "
            "whose header names neither. The volume used and why is in ddpcr_wells.tsv."
        ),
    ] = None,
    interval: Annotated[
        str,
        typer.Option(
            help="Poisson interval: quantasoft (Wald from 100 positives, flat-prior Poisson HPD below, "
            "as QuantaSoft's exports), wald or wilson."
        ),
    ] = "quantasoft",
    blank: Annotated[
        list[str] | None,
        typer.Option(help="Blank sample (wild-type only or NTC) for EP17 LoB (repeatable)."),
    ] = None,
    low: Annotated[
        list[str] | None, typer.Option(help="Low-level sample for EP17 LoD (repeatable).")
    ] = None,
    limits_target: Annotated[
        str | None,
        typer.Option(
            help="Target whose wells give the limits and are called by them (needed when "
            "the blank and low samples have several targets, e.g. a reference channel)."
        ),
    ] = None,
    limits_method: Annotated[
        str, typer.Option(help="EP17 method: parametric or nonparametric.")
    ] = "parametric",
    min_droplets: Annotated[
        int, typer.Option(help="Wells with fewer accepted droplets are flagged.")
    ] = 8000,
    threshold_ch1: Annotated[
        float | None,
        typer.Option(help="Fixed channel-1 (FAM) amplitude threshold for droplet files."),
    ] = None,
    threshold_ch2: Annotated[
        float | None,
        typer.Option(help="Fixed channel-2 (HEX/VIC) amplitude threshold for droplet files."),
    ] = None,
    ntc_well: Annotated[
        list[str] | None,
        typer.Option(
            help="No-template-control well (repeatable): its droplets, pooled, set both "
            "channels' thresholds (negative cluster median + 8 robust SD)."
        ),
    ] = None,
    wt_well: Annotated[
        list[str] | None,
        typer.Option(
            help="Wild-type control well (repeatable): sets the mutant channel's threshold "
            "like an NTC."
        ),
    ] = None,
    positive_control_well: Annotated[
        list[str] | None,
        typer.Option(
            help="Positive-control well (repeatable): threshold midway between its negative "
            "and positive clusters (the higher one wins when NTC/wild-type wells are given too)."
        ),
    ] = None,
    mutant_channel: Annotated[
        int, typer.Option(help="Channel of the mutant probe (1 = FAM, 2 = HEX/VIC).")
    ] = 1,
    threshold_tolerance: Annotated[
        float,
        typer.Option(
            help="Wells whose call changes, or whose positives move by > 25%, when the "
            "threshold moves by this fraction of its height above the negative cluster are "
            "flagged threshold_sensitive.",
        ),
    ] = 0.10,
    detection_vaf: Annotated[
        float,
        typer.Option(
            help="VAF (fraction) at which p_detect, the chance a well holds a mutant copy, is given."
        ),
    ] = 0.001,
) -> None:
    """Quantify ddPCR wells: concentrations with Poisson CIs, fractional abundance, calls.

    Droplet files are classified per well and channel: the negative cluster is
    found robustly (median and MAD) and droplets above median + 8 robust SD
    are positive, so a rare mutant cluster of a few droplets is counted; fixed
    thresholds (--threshold-ch1/--threshold-ch2) or control wells (--ntc-well,
    --wt-well, --positive-control-well) override it per channel.

    Writes OUT/ddpcr_wells.tsv (well, sample, target, accepted droplets, positives,
    concentration in copies/uL with CI, fractional abundance in percent with CI, call,
    flag, droplet volume in nL and why), OUT/ddpcr_merged.tsv (replicate wells pooled,
    and the between-well "total" CI), and, when given, OUT/ddpcr_limits.tsv (EP17
    LoB/LoD from --blank and --low samples), OUT/ddpcr_droplets.tsv (threshold per
    well and channel, how it was set, positives at +-tolerance),
    OUT/ddpcr_control_thresholds.tsv and OUT/ddpcr_droplet_agreement.tsv (agreement
    with labels in amplitude files), OUT/ddpcr_issues.tsv (export rows that were exact
    copies of another row: counted once). The same export given twice, or one well and
    target listed twice with different values, is an error.

    Example:  trkres ddpcr plate1.csv -o ddpcr --blank WT --low LOW1 --limits-target MUT
    """
    from trkres.assays.ddpcr.options import DdpcrOptions
    from trkres.assays.ddpcr.run import is_amplitude_file, run_ddpcr
    from trkres.options import validate_options
    from trkres.report.files import write_outputs

    options = validate_options(
        DdpcrOptions,
        {
            "droplet_volume": droplet_volume, "interval": interval, "min_droplets": min_droplets,
            "blank": blank or [], "low": low or [], "limits_target": limits_target,
            "limits_method": limits_method, "threshold_ch1": threshold_ch1,
            "threshold_ch2": threshold_ch2, "ntc_well": ntc_well or [], "wt_well": wt_well or [],
            "positive_control_well": positive_control_well or [],
            "mutant_channel": mutant_channel, "threshold_tolerance": threshold_tolerance,
            "detection_vaf": detection_vaf,
        },
        source="cli",
    )  # fmt: skip
    with _progress("ddPCR") as progress:
        result = run_ddpcr(
            [f for f in files if not is_amplitude_file(f)],
            [f for f in files if is_amplitude_file(f)],
            options,
            progress=progress,
        )
        write_outputs(out, dict(result))
    wells = result.get("ddpcr_wells")
    if wells is not None and len(wells):
        used = wells.groupby(["droplet_volume_nl", "droplet_volume_source"], sort=False)["source"]
        for (volume, why), sources in used:
            names = sorted(set(sources))
            shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            # The user's own volume is stated; one taken from the export's format is an
            # assumption the user should see (a warning).
            say = log.info if str(why).startswith("given") else log.warning
            say("droplet volume %g nL for %s: %s", volume, shown, why)
        sensitive = wells[wells["flag"].str.contains("threshold_sensitive", regex=False)]
        if len(sensitive):
            log.warning("%d well target(s) change with the droplet threshold (flag threshold_sensitive): %s",
                        len(sensitive), ", ".join(sensitive["well"] + "/" + sensitive["target"]))  # fmt: skip
    if not state.quiet:
        n = 0 if wells is None else len(wells)
        err_console.print(f"Quantified {n} well targets; tables written to [bold]{out}[/bold]")
