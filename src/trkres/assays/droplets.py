"""Raw droplet amplitudes: read ``*_Amplitude.csv`` files and classify droplets.

Readers accept QuantaSoft's ``Assay1 Amplitude,Assay2 Amplitude[,Cluster]``
files and QX Manager's ``Ch1Amplitude,Ch2Amplitude,1,2`` files (with their
"Target Value" preamble), with any line endings (``\\n``, ``\\r\\n`` or a bare
``\\r``).

Classification is per well and channel, vectorised over droplets:

- ``otsu`` (default): the threshold that minimises the within-class variance of
  the two amplitude clusters (1-D two-means, on a 512-bin histogram);
- ``fixed``: a threshold given per channel;
- ``ntc``: the highest amplitude seen in the no-template-control wells, so no
  NTC droplet is called positive.

"Rain" (droplets between the clusters: more than ``rain_sd`` standard
deviations above the negatives' mean and below the positives' mean) is
counted and reported; rain droplets are classified by the threshold as
QuantaSoft does. Wells with fewer than ``min_droplets`` accepted droplets
(8,000 by default) are flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location

Method = Literal["otsu", "fixed", "ntc"]
_WELL_RE = re.compile(r"_([A-P][0-9]{2})_Amplitude\.csv$", re.IGNORECASE)


@dataclass
class Droplets:
    """Droplet amplitudes of many wells in flat arrays (one entry per droplet)."""

    well: np.ndarray  # object array of well names
    amplitude: np.ndarray  # (n, 2) float64: channel 1 and channel 2
    #: Labels exported with the file, when present: QuantaSoft cluster 1..4
    #: (1 = ch1-ch2-, 2 = ch1+ch2-, 3 = ch1+ch2+, 4 = ch1-ch2+) as per-channel 0/1.
    labels: np.ndarray | None = None  # (n, 2) float64 with NaN for unknown
    wells: list[str] = field(default_factory=list)
    #: Instrument generation per well (from the file's header), for the droplet volume.
    generation: dict[str, str] = field(default_factory=dict)


def _text_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise InputError(
            f"cannot read amplitude file: {exc.strerror}", location=Location(file=path)
        ) from None
    return raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_amplitudes(path: Path, well: str | None = None) -> Droplets:
    """Read one amplitude file (the well comes from ``*_A01_Amplitude.csv`` or ``well``)."""
    lines = _text_lines(path)
    header_at = next(
        (i for i, ln in enumerate(lines) if "amplitude" in ln.lower() and "," in ln), None
    )
    if header_at is None:
        raise InputError(
            "no amplitude header found",
            location=Location(file=path),
            expected="a header such as 'Ch1Amplitude,Ch2Amplitude' or 'Assay1 Amplitude,Assay2 Amplitude'",
            found=(lines[0][:60] if lines else "an empty file"),
        )
    header = [h.strip() for h in lines[header_at].split(",")]
    amp_cols = [i for i, h in enumerate(header) if "amplitude" in h.lower()]
    if len(amp_cols) not in (1, 2):
        raise InputError("unexpected amplitude columns", location=Location(file=path, line=header_at + 1),
                         expected="one or two amplitude columns", found=", ".join(header))  # fmt: skip
    names = [header[i].lower().replace(" ", "") for i in amp_cols]
    order = sorted(range(len(amp_cols)), key=lambda j: ("2" in names[j], names[j]))
    body = [ln for ln in lines[header_at + 1 :] if ln.strip()]
    try:
        table = np.array(
            [[c.strip() or "nan" for c in ln.rstrip(",").split(",")] for ln in body], dtype=object
        )
        values = (
            np.array(table[:, [amp_cols[j] for j in order]], dtype=np.float64)
            if len(body)
            else np.empty((0, len(amp_cols)))
        )
    except (ValueError, IndexError):
        bad = next(i for i, ln in enumerate(body) if not _row_ok(ln, amp_cols))
        raise InputError(
            "non-numeric amplitude",
            location=Location(file=path, line=header_at + 2 + bad),
            expected="numbers in the amplitude columns",
            found=repr(body[bad][:60]),
        ) from None
    if values.shape[1] == 1:
        values = np.column_stack([values[:, 0], np.full(len(values), np.nan)])
    labels = None
    lower = [h.lower() for h in header]
    if "cluster" in lower and len(body):
        cluster = np.array(table[:, lower.index("cluster")], dtype=np.float64)
        ch1 = np.where(
            np.isin(cluster, [2, 3]), 1.0, np.where(np.isin(cluster, [1, 4]), 0.0, np.nan)
        )
        ch2 = np.where(
            np.isin(cluster, [3, 4]), 1.0, np.where(np.isin(cluster, [1, 2]), 0.0, np.nan)
        )
        labels = np.column_stack([ch1, ch2])
    elif "1" in header and "2" in header and len(body):
        per = []
        for name in ("1", "2"):
            col = table[:, header.index(name)]
            per.append(np.array([1.0 if v == "1" else 0.0 if v == "0" else np.nan for v in col]))
        labels = np.column_stack(per)
    if well is None:
        m = _WELL_RE.search(path.name)
        well = m.group(1).upper() if m else path.stem
    generation = (
        "qx_manager" if any(h.lower().startswith("ch1") for h in header) else "quantasoft_old"
    )
    return Droplets(
        np.full(len(values), well, dtype=object), values, labels, [well], {well: generation}
    )


def _row_ok(line: str, cols: Sequence[int]) -> bool:
    parts = line.rstrip(",").split(",")
    try:
        for c in cols:
            float(parts[c])
    except (ValueError, IndexError):
        return False
    return True


def combine(parts: Sequence[Droplets]) -> Droplets:
    """Many wells' droplets as one set of flat arrays."""
    labels = None
    if parts and all(p.labels is not None for p in parts):
        labels = np.concatenate([p.labels for p in parts if p.labels is not None])
    return Droplets(
        np.concatenate([p.well for p in parts]) if parts else np.empty(0, dtype=object),
        np.concatenate([p.amplitude for p in parts]) if parts else np.empty((0, 2)),
        labels,
        [w for p in parts for w in p.wells],
        {w: g for p in parts for w, g in p.generation.items()},
    )


def otsu_threshold(values: np.ndarray, bins: int = 512) -> float:
    """The threshold maximising between-class variance of a 1-D sample (NaN if degenerate)."""
    values = values[np.isfinite(values)]
    if len(values) < 2 or values.min() == values.max():
        return float("nan")
    hist, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu0 = m0 / w0
        mu1 = (m0[-1] - m0) / w1
        between = w0 * w1 * (mu0 - mu1) ** 2
    between[~np.isfinite(between)] = -1
    # Empty bins between the clusters tie: take the middle of the tied run,
    # i.e. the middle of the gap.
    best = np.flatnonzero(between >= between.max() * (1 - 1e-12))
    return float((edges[best[0] + 1] + edges[best[-1] + 1]) / 2)


@dataclass(frozen=True)
class Classification:
    """Droplet calls: per-droplet positives and a per-well, per-channel summary."""

    positive: np.ndarray  # (n, 2) bool
    rain: np.ndarray  # (n, 2) bool
    wells: pd.DataFrame  # well, channel, threshold, accepted, positives, negatives, rain, flag


def classify_droplets(
    droplets: Droplets,
    *,
    method: Method = "otsu",
    thresholds: Sequence[float] | None = None,
    ntc_wells: Sequence[str] = (),
    rain_sd: float = 3.0,
    min_droplets: int = 8000,
    min_separation: float = 4.0,
) -> Classification:
    """Call each droplet positive or negative in each channel.

    With ``otsu`` a well whose two amplitude groups are not separated (the gap
    between their means is less than ``min_separation`` pooled SDs) is taken
    as one population: all negative, flagged ``single_cluster``.
    """
    n = len(droplets.well)
    positive = np.zeros((n, 2), dtype=bool)
    rain = np.zeros((n, 2), dtype=bool)
    codes, wells = pd.factorize(droplets.well)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(wells) + 1))
    ntc_threshold = [np.nan, np.nan]
    if method == "ntc":
        is_ntc = np.isin(droplets.well, list(ntc_wells))
        if not is_ntc.any():
            raise InputError("the NTC threshold needs no-template-control wells",
                             expected="ntc_wells naming wells present in the data", found=", ".join(ntc_wells) or "none")  # fmt: skip
        ntc_threshold = [float(np.nanmax(droplets.amplitude[is_ntc, c])) for c in (0, 1)]
    rows = []
    for w, name in enumerate(wells):
        idx = order[bounds[w] : bounds[w + 1]]
        for c in (0, 1):
            amp = droplets.amplitude[idx, c]
            if np.isnan(amp).all():
                continue
            flag = ""
            if method == "fixed":
                if thresholds is None:
                    raise InputError(
                        "the fixed method needs thresholds",
                        expected="one threshold per channel",
                        found="none",
                    )
                t = float(thresholds[c])
            elif method == "ntc":
                t = ntc_threshold[c]
            else:
                t = otsu_threshold(amp)
                if np.isfinite(t):
                    lo, hi = amp[amp <= t], amp[amp > t]
                    pooled = (
                        np.sqrt((lo.var() + hi.var()) / 2) if len(lo) > 1 and len(hi) > 1 else 0.0
                    )
                    if pooled == 0 or (hi.mean() - lo.mean()) < min_separation * pooled:
                        t, flag = float(np.nanmax(amp)), "single_cluster"
                else:
                    t, flag = float(np.nanmax(amp)) if len(amp) else np.nan, "single_cluster"
            pos = amp > t
            positive[idx, c] = pos
            neg_amp, pos_amp = amp[~pos], amp[pos]
            if len(neg_amp) > 1 and len(pos_amp) > 1:
                low = neg_amp.mean() + rain_sd * neg_amp.std()
                high = pos_amp.mean() - rain_sd * pos_amp.std()
                rain[idx, c] = (amp > low) & (amp < high)
            accepted = int(np.isfinite(amp).sum())
            if accepted < min_droplets:
                flag = ";".join(f for f in (flag, f"low_droplets(<{min_droplets})") if f)
            rows.append(
                {
                    "well": name,
                    "channel": c + 1,
                    "method": method,
                    "threshold": t,
                    "accepted_droplets": accepted,
                    "positives": int(pos.sum()),
                    "negatives": int((~pos & np.isfinite(amp)).sum()),
                    "rain": int(rain[idx, c].sum()),
                    "flag": flag,
                }
            )
    return Classification(positive, rain, pd.DataFrame(rows))


def agreement(droplets: Droplets, calls: Classification) -> pd.DataFrame:
    """Per well and channel: the share of labelled droplets our calls agree with."""
    if droplets.labels is None:
        return pd.DataFrame(columns=["well", "channel", "labelled", "agreement"])
    rows = []
    for name in pd.unique(droplets.well):
        mask = droplets.well == name
        for c in (0, 1):
            lab = droplets.labels[mask, c]
            known = ~np.isnan(lab)
            if not known.any():
                continue
            same = (lab[known] == 1) == calls.positive[mask, c][known]
            rows.append({"well": name, "channel": c + 1, "labelled": int(known.sum()),
                         "agreement": float(same.mean())})  # fmt: skip
    return pd.DataFrame(rows)
