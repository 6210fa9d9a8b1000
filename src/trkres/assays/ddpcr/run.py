"""``run_ddpcr``: exports, droplet files or wells tables in memory → every ddPCR table.

The one orchestration of the ddPCR analysis: ``trkres ddpcr``, the study section
and ``tr.ddpcr`` call it; it reads, checks and computes, and writes nothing. The
compute modules (scipy) are imported on first use, so ``import trkres.assays.ddpcr``
stays cheap.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trkres.assays.ddpcr.options import DdpcrOptions
from trkres.errors import InputError, Location
from trkres.results import TableResult
from trkres.study.registry import ProgressCallback, no_progress

__all__ = ["TABLE_TITLES", "DdpcrResult", "is_amplitude_file", "run_ddpcr"]

#: An export or amplitude file (path) or a wells table in memory.
DdpcrInput = str | os.PathLike[str] | pd.DataFrame

#: What each table of :class:`DdpcrResult` holds (the report's table titles).
TABLE_TITLES = {
    "ddpcr_wells": "Wells: concentration (copies/µL) and fractional abundance (%)",
    "ddpcr_merged": "Replicate wells merged",
    "ddpcr_limits": "Limits of blank and detection (CLSI EP17)",
    "ddpcr_droplets": "Droplet thresholds per well and channel",
    "ddpcr_droplet_agreement": "Agreement with labelled droplets",
    "ddpcr_control_thresholds": "Droplet thresholds learned from control wells",
    "ddpcr_issues": "Export rows repeated exactly (counted once)",
}


@dataclass(frozen=True, eq=False)
class DdpcrResult(TableResult):
    """Every ddPCR table by name (``ddpcr_wells`` first), in the order they are written.

    A read-only mapping (``result["ddpcr_wells"]``, ``"ddpcr_limits" in result``) with
    the usual tables as attributes: :attr:`wells` (concentration in copies/µL,
    fractional abundance in %), :attr:`merged`, :attr:`limits`, :attr:`issues`.
    """

    @property
    def wells(self) -> pd.DataFrame:
        """One row per well and target (``ddpcr_wells.tsv``); empty when no well was read."""
        from trkres.assays.ddpcr.pipeline import WELL_OUTPUT

        return self.tables.get("ddpcr_wells", pd.DataFrame(columns=WELL_OUTPUT))

    @property
    def merged(self) -> pd.DataFrame | None:
        """Replicate wells of a sample and target pooled (``ddpcr_merged.tsv``)."""
        return self.tables.get("ddpcr_merged")

    @property
    def limits(self) -> pd.DataFrame | None:
        """EP17 LoB and LoD (``ddpcr_limits.tsv``), when blank and low samples were named."""
        return self.tables.get("ddpcr_limits")

    @property
    def issues(self) -> pd.DataFrame | None:
        """Export rows that were exact copies of another (counted once)."""
        return self.tables.get("ddpcr_issues")


def is_amplitude_file(path: object) -> bool:
    """A QuantaSoft / QX Manager droplet amplitude file (``*_Amplitude.csv``)."""
    return not isinstance(path, pd.DataFrame) and str(path).lower().endswith("_amplitude.csv")


def _as_path(item: object, what: str) -> Path:
    if isinstance(item, (str, os.PathLike)):
        return Path(os.fspath(item))
    raise InputError(
        f"not a {what}",
        expected="a path (str or pathlib.Path) or a pandas DataFrame of wells",
        found=type(item).__name__,
    )


def with_limits(
    table: pd.DataFrame, options: DdpcrOptions
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """EP17 calls when blank and low samples are named: the re-called wells and the limits."""
    from trkres.assays.ddpcr.pipeline import apply_limits, limits_from_samples

    if not (options.blank_samples and options.low_samples):
        return table, None
    limits = limits_from_samples(
        table, options.blank_samples, options.low_samples, target=options.limits_target,
        method=options.limits_method,
    )  # fmt: skip
    return apply_limits(table, limits, target=options.limits_target), limits.to_frame()


def run_ddpcr(
    exports: Sequence[DdpcrInput] = (),
    amplitudes: Sequence[DdpcrInput] = (),
    options: DdpcrOptions | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> DdpcrResult:
    """Every table ``trkres ddpcr`` writes, from results exports and amplitude files.

    ``exports`` are QuantaSoft / QX Manager results exports (paths) or wells tables
    in memory (DataFrames, see :func:`~trkres.assays.ddpcr.io.wells_from_frame`: their
    droplet volume, in nL, must be given); ``amplitudes`` are ``*_Amplitude.csv``
    droplet files. Concentrations are copies/µL, fractional abundance percent.
    """
    from trkres.assays.ddpcr.droplets import agreement, classify_droplets, combine, read_amplitudes
    from trkres.assays.ddpcr.io import read_ddpcr_export_checked, wells_from_frame
    from trkres.assays.ddpcr.pipeline import merge_replicates, quantify, wells_from_droplets

    options = options if options is not None else DdpcrOptions()
    if not isinstance(options, DdpcrOptions):
        raise InputError(
            "wrong options object", expected="DdpcrOptions", found=type(options).__name__
        )
    total = len(exports) + len(amplitudes) + 1
    parts, issues = [], []
    seen: dict[str, Path] = {}
    for i, item in enumerate(exports):
        progress(i, total, "reading exports")
        if isinstance(item, pd.DataFrame):
            name = f"DataFrame {i + 1}" if len(exports) > 1 else "DataFrame"
            wells = wells_from_frame(item, options.droplet_volume_nl, name=name)
            wells["source"] = name
            parts.append(wells)
            continue
        path = _as_path(item, "ddPCR export")
        try:  # the same export given twice (or a copy of it) would count every well twice
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = ""  # the reader says why it cannot be read
        if digest and digest in seen:
            raise InputError(
                "the same ddPCR export given twice",
                location=Location(file=path),
                expected="each export once (its wells would be counted twice)",
                found=f"the same content as {seen[digest]}",
            )
        seen[digest] = path
        wells, dropped = read_ddpcr_export_checked(path, options.droplet_volume_nl)
        wells["source"] = path.name
        parts.append(wells)
        if len(dropped):
            issues.append(dropped)
    tables: dict[str, pd.DataFrame] = {}
    if issues:
        tables["ddpcr_issues"] = pd.concat(issues, ignore_index=True)
    if amplitudes:
        progress(len(exports), total, "classifying droplets")
        drops = combine(
            [read_amplitudes(_as_path(p, "droplet amplitude file")) for p in amplitudes]
        )
        with np.errstate(over="ignore", invalid="ignore"):  # absurd amplitudes (1e308) stay quiet
            calls = classify_droplets(
                drops, method="robust", thresholds=options.thresholds,
                ntc_wells=options.ntc_wells, wt_wells=options.wt_wells,
                positive_wells=options.positive_control_wells, mutant_channel=options.mutant_channel,
                neg_k=8.0, tolerance=options.threshold_tolerance, min_droplets=options.min_droplets,
            )  # fmt: skip
        parts.append(wells_from_droplets(calls, droplet_volume_nl=options.droplet_volume_nl,
                                         generation=drops.generation, source=drops.source))  # fmt: skip
        notes = pd.Series(drops.header_note)
        tables["ddpcr_droplets"] = calls.wells.assign(
            header=calls.wells["well"].map(notes).fillna(""),
            source=calls.wells["well"].map(pd.Series(drops.source)).fillna(""),
        )
        if len(calls.controls):
            tables["ddpcr_control_thresholds"] = calls.controls
        agree = agreement(drops, calls)
        if len(agree):
            tables["ddpcr_droplet_agreement"] = agree
    progress(total - 1, total, "quantifying")
    if not parts:
        return DdpcrResult(tables)
    wells_in = pd.concat(parts, ignore_index=True)
    table = quantify(wells_in, interval=options.interval, min_droplets=options.min_droplets,
                     detection_vaf=options.detection_vaf)  # fmt: skip
    table, limits = with_limits(table, options)
    if limits is not None:
        tables["ddpcr_limits"] = limits
    tables["ddpcr_wells"] = table
    tables["ddpcr_merged"] = merge_replicates(table, interval=options.interval)
    progress(total, total, "done")
    return DdpcrResult({k: tables[k] for k in sorted(tables, key=lambda k: k != "ddpcr_wells")})
