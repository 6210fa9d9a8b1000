"""From exports or droplets to the per-well table, merged replicates and calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from trkres.assays.ddpcr.detection import (
    DetectionLimits,
    call,
    detection_limits,
    detection_probability,
)
from trkres.assays.ddpcr.droplets import Classification
from trkres.assays.ddpcr.poisson import (
    DROPLET_VOLUME_NL,
    Interval,
    concentration,
    fractional_abundance,
)
from trkres.errors import InputError, Location

#: Columns of ``ddpcr_wells.tsv``.
WELL_OUTPUT = [
    "well", "sample", "target", "target_type", "channel", "accepted_droplets", "positives",
    "concentration", "conc_ci_low", "conc_ci_high", "copies_per_well", "fractional_abundance",
    "fa_ci_low", "fa_ci_high", "call", "call_rule", "genome_copies", "detection_vaf",
    "p_detect", "flag", "interval", "droplet_volume_nl", "droplet_volume_source",
    "generation", "source",
]  # fmt: skip

#: Volume of a ddPCR reaction (µL): copies per well = concentration × 20.
WELL_VOLUME_UL = 20.0

#: How each interval is named in ``ddpcr_wells.tsv``.
INTERVAL_LABEL: dict[Interval, str] = {
    "quantasoft": "QuantaSoft (Wald >= 100 positives, flat-prior Poisson HPD below)",
    "wald": "Wald",
    "wilson": "Wilson",
}


def quantify(
    wells: pd.DataFrame,
    *,
    interval: Literal["quantasoft", "wald", "wilson"] = "quantasoft",
    z: float = 1.96,
    min_droplets: int = 8000,
    detection_vaf: float = 0.001,
) -> pd.DataFrame:
    """Recompute concentration, CIs and fractional abundance for every well and target.

    Fractional abundance is this channel against the other channel of the
    same well (from the two-channel cluster counts); wells without accepted
    droplets are labelled ``no_droplets``, those under ``min_droplets``
    ``low_droplets``. ``genome_copies`` is the other channel's copies in the
    well (the wild-type or reference template), and ``p_detect`` the
    probability that a well with that many genome copies holds at least one
    mutant copy at ``detection_vaf`` (Poisson sampling only). Wells whose
    positives are blank are ``failed`` (``no_count``); flags from the droplet
    classification (``droplet_flag``) are carried into ``flag``.
    """
    n = wells["accepted_droplets"].to_numpy(dtype=float)
    k = wells["positives"].to_numpy(dtype=float)
    impossible = (k < 0) | (n < 0) | (k > n) | ~np.isfinite(np.where(np.isnan(n), 0, n))
    if impossible.any():
        i = int(np.flatnonzero(impossible)[0])
        raise InputError(
            "impossible droplet counts",
            location=Location(file=str(wells["source"].iloc[i]) if "source" in wells else None,
                              row=i + 1, column="positives"),
            expected="0 <= positives <= accepted droplets, all finite",
            found=f"well {wells['well'].iloc[i]}: {k[i]:g} positives of {n[i]:g} accepted droplets",
        )  # fmt: skip
    est = concentration(
        k, n, wells["droplet_volume_nl"].to_numpy(dtype=float), z=z, interval=interval
    )
    ch1 = wells["ch1_positives"].to_numpy(dtype=float)
    ch2 = wells["ch2_positives"].to_numpy(dtype=float)
    is_ch1 = wells["channel"].to_numpy() == 1
    mine, other = np.where(is_ch1, ch1, ch2), np.where(is_ch1, ch2, ch1)
    # Exports without the Ch1±Ch2± cluster columns: each channel's positives are on its own
    # row of the same well (same droplets), which is all the fractional abundance needs.
    mine, other = _positives_by_channel(wells, mine, other)
    fa = fractional_abundance(mine, n, other, n, z=z, interval=interval)
    volume_ul = wells["droplet_volume_nl"].to_numpy(dtype=float) * 1e-3
    with np.errstate(divide="ignore", invalid="ignore"):
        genome = -np.log1p(-other / n) / volume_ul * WELL_VOLUME_UL
    p_detect = detection_probability(np.nan_to_num(genome), detection_vaf)
    p_detect = np.where(np.isfinite(genome), p_detect, np.nan)
    flag = np.where(
        ~(n > 0),
        "no_droplets",
        np.where(
            np.isnan(k),
            "no_count",
            np.where(n < min_droplets, f"low_droplets(<{min_droplets})", ""),
        ),
    )
    # Every droplet positive: λ is unbounded (infinite copies/µL), the well must be diluted.
    flag = np.where((n > 0) & (k == n), "saturated(all droplets positive)", flag).astype(object)
    if "droplet_flag" in wells:
        extra = wells["droplet_flag"].fillna("").astype(str).to_numpy()
        flag = np.array(
            [";".join(dict.fromkeys(f for f in (a, *b.split(";")) if f)) for a, b in zip(flag, extra, strict=True)],
            dtype=object,
        )  # fmt: skip
    out = pd.DataFrame(
        {
            "well": wells["well"], "sample": wells["sample"], "target": wells["target"],
            "target_type": wells["target_type"], "channel": wells["channel"],
            "accepted_droplets": n, "positives": k,
            "concentration": est.value, "conc_ci_low": est.low, "conc_ci_high": est.high,
            "copies_per_well": est.value * WELL_VOLUME_UL,
            "fractional_abundance": fa.value, "fa_ci_low": fa.low, "fa_ci_high": fa.high,
            "call": np.where(k > 0, "detected", "not_detected"),
            "call_rule": "positives > 0 (no detection limits given)",
            "genome_copies": genome, "detection_vaf": detection_vaf, "p_detect": p_detect,
            "flag": flag, "interval": f"{INTERVAL_LABEL[interval]} {100 * (2 * stats.norm.cdf(z) - 1):.0f}%",
            "droplet_volume_nl": wells["droplet_volume_nl"],
            "droplet_volume_source": wells.get("droplet_volume_source", pd.Series("", index=wells.index)),
            "generation": wells["generation"],
            "source": wells.get("source", pd.Series("", index=wells.index)),
        }
    )  # fmt: skip
    out.loc[(flag == "no_droplets") | (flag == "no_count"), "call"] = "failed"
    # Positives that are rain between the clusters, with no tight positive cluster, are not
    # evidence of the target: neither detected nor absent.
    rain_only = pd.Series(flag, dtype=str).str.contains("rain_only", regex=False).to_numpy()
    rain_only = rain_only & (out["call"].to_numpy() == "detected")
    out.loc[rain_only, "call"] = "indeterminate"
    out.loc[rain_only, "call_rule"] = "positives are rain only (no tight positive cluster)"
    return out[WELL_OUTPUT].reset_index(drop=True)


def _positives_by_channel(
    wells: pd.DataFrame, mine: np.ndarray, other: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fill missing per-channel positives from the well's other-channel row.

    A well (of one source file) with exactly one row per channel and the same accepted
    droplets in both has each channel's positives on its row; wells with several targets
    in a channel (amplitude multiplexing) stay without a fractional abundance.
    """
    missing = np.isnan(mine) | np.isnan(other)
    if not missing.any():
        return mine, other
    source = wells["source"].astype(str) if "source" in wells else pd.Series("", index=wells.index)
    key = pd.DataFrame({"source": source.to_numpy(), "well": wells["well"].astype(str).to_numpy(),
                        "channel": wells["channel"].to_numpy()})  # fmt: skip
    n_rows = key.groupby(["source", "well", "channel"])["well"].transform("size").to_numpy()
    single = key.assign(k=wells["positives"].to_numpy(dtype=float),
                        n=wells["accepted_droplets"].to_numpy(dtype=float))[n_rows == 1]  # fmt: skip
    lookup = single.set_index(["source", "well", "channel"])
    partner = pd.MultiIndex.from_arrays(
        [key["source"], key["well"], 3 - key["channel"].to_numpy(dtype=np.int64)]
    )
    found = lookup.reindex(partner)
    k_other, n_other = found["k"].to_numpy(dtype=float), found["n"].to_numpy(dtype=float)
    own_k = wells["positives"].to_numpy(dtype=float)
    own_n = wells["accepted_droplets"].to_numpy(dtype=float)
    usable = missing & (n_rows == 1) & np.isfinite(k_other) & (n_other == own_n)
    return np.where(usable, own_k, mine), np.where(usable, k_other, other)


def apply_limits(
    table: pd.DataFrame, limits: DetectionLimits, measure: str = "concentration",
    *, target: str | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Replace the calls by EP17 calls on ``measure`` (failed wells stay failed).

    Limits hold for the target whose wells set them: with ``target`` only its wells
    are re-called, the other targets (the reference channel) keep their calls and rules.
    """
    out = table.copy()
    ok = ~out["call"].isin(["failed", "indeterminate"])
    mine = (
        out["target"].astype(str) == str(target)
        if target is not None
        else pd.Series(True, index=out.index)
    )
    out.loc[ok & mine, "call"] = call(out.loc[ok & mine, measure].to_numpy(dtype=float), limits)
    out.loc[mine, "call_rule"] = (
        f"EP17 {limits.method}: {measure} > LoD {limits.lod:.4g} detected, > LoB {limits.lob:.4g} below_lod"
    )
    return out


def limits_from_samples(
    table: pd.DataFrame, blank: Sequence[str], low: Sequence[str], *, target: str | None = None,
    measure: str = "concentration", method: Literal["parametric", "nonparametric"] = "parametric",
) -> DetectionLimits:  # fmt: skip
    """EP17 limits from the wells of named blank (wild-type or NTC) and low-level samples.

    The limits belong to one target (assay): when the blank and low wells hold several
    (a mutant and its wild-type reference channel), ``target`` must name it, since
    pooling the reference channel's copies into the blank would raise the LoB to the
    wild-type concentration. A ``target`` absent from the wells is an InputError.
    """
    use = table["call"] != "failed"
    named = table["sample"].isin([*blank, *low])
    targets = sorted(set(table.loc[named, "target"].astype(str)))
    if target is not None and str(target) not in targets:
        raise InputError(
            "limits target not among the blank and low-level wells",
            location=Location(column="limits_target"),
            expected="one of: " + ", ".join(targets)[:300],
            found=repr(target),
        )
    if target is None and len(targets) > 1:
        raise InputError(
            "EP17 limits are set per target: name the target whose wells give them",
            location=Location(column="limits_target"),
            expected="limits_target (--limits-target, tr.ddpcr.detect(target=...)): one of "
            + ", ".join(targets)[:300],
            found=f"{len(targets)} targets in the blank and low-level wells, none named",
        )
    if target is not None:
        use &= table["target"].astype(str) == str(target)
    sel = table[use]
    infinite = sel["sample"].isin([*blank, *low]) & ~np.isfinite(sel[measure].to_numpy(dtype=float))
    if infinite.any():
        w = sel[infinite].iloc[0]
        raise InputError(
            "a blank or low-level well has no finite value for the limits",
            location=Location(file=str(w["source"]) if "source" in sel else None, column=measure),
            expected=f"a finite {measure} in every blank and low-level well (a saturated well, "
            "every droplet positive, must be diluted and rerun, or left out of the samples)",
            found=f"well {w['well']} ({w['sample']}, {w['target']}): {w[measure]} "
            f"{str(w.get('flag', '')).strip()}".strip(),
        )
    b = sel[sel["sample"].isin(blank)].rename(columns={measure: "value"})[["sample", "value"]]
    lw = sel[sel["sample"].isin(low)].rename(columns={measure: "value"})[["sample", "value"]]
    return detection_limits(b, lw, method=method)


def merge_replicates(
    table: pd.DataFrame, *, z: float = 1.96,
    interval: Interval | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Replicate wells of a sample and target merged.

    ``merged_*``: droplets pooled across wells (Poisson CI, as QuantaSoft's
    merged wells), with the wells' interval (``interval``; by default the one
    named in the table's ``interval`` column) and their droplet-weighted mean
    droplet volume (nL; wells of different exports may differ). A group with a
    saturated well (every droplet positive) has an unbounded concentration:
    ``merged_concentration`` and ``merged_ci_high`` are inf, as the well's are.
    ``total_*``: mean of the wells' concentrations ± t·SD/√n (the spread between
    wells, QuantaSoft's "total error").
    """
    if interval is None:
        label = str(table["interval"].iloc[0]) if len(table) and "interval" in table else ""
        named = [k for k, v in INTERVAL_LABEL.items() if label.startswith(v)]
        interval = named[0] if named else "quantasoft"
    ok = table[table["call"] != "failed"]
    rows = []
    for (sample, target), g in ok.groupby(["sample", "target"], sort=False):
        n_wells = len(g)
        droplets = g["accepted_droplets"].to_numpy(dtype=float)
        volumes = g["droplet_volume_nl"].to_numpy(dtype=float)
        vol = float((droplets * volumes).sum() / droplets.sum())
        est = concentration(g["positives"].sum(), droplets.sum(), vol, z=z, interval=interval)
        value, high = float(est.value), float(est.high)
        if (g["positives"].to_numpy(dtype=float) >= droplets).any():  # a saturated well
            value = high = float("inf")
        mean = float(g["concentration"].mean())
        with np.errstate(invalid="ignore"):  # a saturated (infinite) well: no spread to give
            sd = float(g["concentration"].std(ddof=1)) if n_wells > 1 else float("nan")
        half = float(stats.t.ppf(0.975, n_wells - 1) * sd / np.sqrt(n_wells)) if n_wells > 1 else sd
        rows.append(
            {
                "sample": sample,
                "target": target,
                "wells": n_wells,
                "accepted_droplets": int(g["accepted_droplets"].sum()),
                "positives": int(g["positives"].sum()),
                "merged_concentration": value,
                "merged_ci_low": float(est.low),
                "merged_ci_high": high,
                "total_mean": mean,
                "total_ci_low": mean - half,
                "total_ci_high": mean + half,
            }
        )
    return pd.DataFrame(rows)


def wells_from_droplets(
    calls: Classification, *, samples: dict[str, str] | None = None,
    droplet_volume_nl: float | None = None, generation: dict[str, str] | None = None,
    source: str | dict[str, str] = "",
) -> pd.DataFrame:  # fmt: skip
    """The per-well input table (as :func:`read_ddpcr_export` gives) from classified droplets.

    The droplet volume is ``droplet_volume_nl`` when given, else the default of
    each well's instrument generation (from its amplitude file's header), and
    ``droplet_volume_source`` says which and why. A well whose header names no
    generation needs ``droplet_volume_nl``: without it this is an InputError.
    """
    from trkres.assays.ddpcr.io import check_volume

    check_volume(droplet_volume_nl)
    w = calls.wells
    wide = w.pivot_table(index="well", columns="channel", values="positives", aggfunc="first")
    gen = generation or {}
    reasons = {
        "qx_manager": "QX Manager amplitude header (Ch1Amplitude): 0.85 nL",
        "quantasoft_1.7": "QuantaSoft 1.7 amplitude header (Ch1 Amplitude): QX200 droplets, 0.85 nL",
        "quantasoft_old": "old QuantaSoft amplitude header (Assay1 Amplitude): 0.91 nL",
    }
    rows = []
    for r in w.itertuples():
        g = gen.get(str(r.well), "unknown")
        file = source.get(str(r.well), "") if isinstance(source, dict) else source
        if droplet_volume_nl is not None:
            volume, why = droplet_volume_nl, "given (--droplet-volume)"
        elif g in reasons:
            volume, why = DROPLET_VOLUME_NL[g], reasons[g]
        else:
            raise InputError(
                "cannot tell the droplet volume from this amplitude file's header",
                location=Location(file=file or None, line=1),
                expected="--droplet-volume in nL (0.85 for QX200 / QX Manager, 0.91 for old QuantaSoft)",
                found=f"well {r.well}: a header naming no QuantaSoft / QX Manager generation",
            )
        rows.append(
            {
                "well": r.well,
                "sample": (samples or {}).get(str(r.well), str(r.well)),
                "target": f"Ch{r.channel}",
                "target_type": "droplets",
                "channel": r.channel,
                "generation": g,
                "droplet_volume_nl": volume,
                "droplet_volume_source": why,
                "accepted_droplets": r.accepted_droplets,
                "positives": r.positives,
                "negatives": r.negatives,
                "source": file,
                "droplet_flag": r.flag,
                "ch1_positives": wide.loc[str(r.well)].get(1, np.nan),
                "ch2_positives": wide.loc[str(r.well)].get(2, np.nan),
            }
        )
    return pd.DataFrame(rows)
