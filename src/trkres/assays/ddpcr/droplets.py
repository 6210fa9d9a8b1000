"""Raw droplet amplitudes: read ``*_Amplitude.csv`` files and classify droplets.

Readers accept QuantaSoft's ``Assay1 Amplitude,Assay2 Amplitude[,Cluster]``
(old) and ``Ch1 Amplitude,Ch2 Amplitude,Cluster`` (1.7) files, the same
headers as R writes them (``"Ch1.Amplitude","Ch2.Amplitude","Cluster"``), and
QX Manager's ``Ch1Amplitude,Ch2Amplitude,1,2`` files (with their "Target
Value" preamble), with any line endings (``\\n``, ``\\r\\n`` or a bare ``\\r``).
The header names the instrument generation, and so the droplet volume; a
header that names none is ``unknown`` and the volume must be given.

Classification is per well and channel, vectorised over droplets. Each
channel's threshold comes from, in this order:

1. ``thresholds``: a fixed amplitude per channel (``None`` for "not fixed");
2. control wells, pooled: no-template controls (negative in both channels)
   and wild-type controls (negative in the mutant channel) give the robust
   negative threshold below on their droplets; positive controls give the
   midpoint between their negative and positive clusters (with both, the
   higher of the two);
3. each well's own droplets (``method="robust"``, the default): the negative
   cluster is located (the lower group of a two-means split, then iterated
   median ± 4 robust SDs until stable, so a rare positive cluster of a few
   droplets cannot move it) and the threshold is its median + ``neg_k``
   robust SDs (1.4826·MAD; ``neg_k`` = 8 by default). A rare cluster of 5
   droplets is found as long as it lies above that line; rain above it is
   called positive, as a manual threshold just above the negatives would.
   ``method="otsu"`` (two-means on the histogram) is kept for comparison: it
   merges a rare cluster of tens of droplets in 15,000 into the negatives.

Every well and channel reports how many droplets would be positive with the
threshold moved by ±``tolerance`` (10%) of its height above the negative
cluster's median; the flag
``threshold_sensitive`` marks wells whose call (any positive droplet or none)
changes within that window or whose count moves by more than a quarter (and
more than 2 droplets). "Rain" (droplets more than ``rain_sd`` SDs above the
negatives' mean and below the positives' mean) is counted. A well and channel whose
positives form no tight cluster (see :data:`MAX_CLUSTER_SPREAD`) is flagged ``rain_only``:
its positives are rain, not evidence of the target. Wells with fewer
than ``min_droplets`` accepted droplets (8,000 by default) are flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from trkres.errors import InputError, Location

Method = Literal["robust", "otsu", "fixed", "ntc"]
_WELL_RE = re.compile(r"_([A-P][0-9]{2})_Amplitude\.csv$", re.IGNORECASE)

#: Amplitude-file header → instrument generation (and so droplet volume).
HEADER_GENERATION = {
    "ch1amplitude": "qx_manager",
    "ch1 amplitude": "quantasoft_1.7",
    "assay1 amplitude": "quantasoft_old",
}


@dataclass
class Droplets:
    """Droplet amplitudes of many wells in flat arrays (one entry per droplet)."""

    well: np.ndarray  # object array of well names
    amplitude: np.ndarray  # (n, 2) float64: channel 1 and channel 2
    #: Labels exported with the file, when present: QuantaSoft cluster 1..4
    #: (1 = ch1-ch2-, 2 = ch1+ch2-, 3 = ch1+ch2+, 4 = ch1-ch2+) as per-channel 0/1.
    labels: np.ndarray | None = None  # (n, 2) float64 with NaN for unknown
    wells: list[str] = field(default_factory=list)
    #: Instrument generation per well (from the file's header), for the droplet volume:
    #: ``qx_manager``, ``quantasoft_1.7``, ``quantasoft_old`` or ``unknown``.
    generation: dict[str, str] = field(default_factory=dict)
    #: How the header was read, per well (e.g. "R-style quoted header"), for the outputs.
    header_note: dict[str, str] = field(default_factory=dict)
    #: The file each well came from.
    source: dict[str, str] = field(default_factory=dict)


def _text_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read amplitude file: {exc.strerror}", location=Location(file=path)
        ) from None
    if b"\x00" in data[:4096]:
        raise InputError("amplitude file is binary, not text", location=Location(file=path),
                         expected="a comma-separated text file", found="NUL bytes")  # fmt: skip
    raw = data.decode("utf-8-sig", errors="replace")
    return raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _cell(text: str) -> str:
    """A header or data cell without surrounding blanks and quotes (R writes quoted headers)."""
    return text.strip().strip('"').strip("'").strip()


def _header_key(name: str) -> str:
    """``Ch1.Amplitude`` (R's name for ``Ch1 Amplitude``) → ``ch1 amplitude``."""
    return re.sub(r"[.\s_]+", " ", name).strip().lower()


def read_amplitudes(path: Path, well: str | None = None) -> Droplets:
    """Read one amplitude file (the well comes from ``*_A01_Amplitude.csv`` or ``well``).

    Empty, header-only, ragged, non-numeric or non-finite files are
    :class:`InputError` with the line and column.
    """
    lines = _text_lines(path)
    if not any(ln.strip() for ln in lines):
        raise InputError("amplitude file is empty", location=Location(file=path),
                         expected="a header such as 'Ch1 Amplitude,Ch2 Amplitude' and droplet rows",
                         found="an empty file")  # fmt: skip
    header_at = next(
        (i for i, ln in enumerate(lines) if "amplitude" in ln.lower() and "," in ln), None
    )
    if header_at is None:
        raise InputError(
            "no amplitude header found",
            location=Location(file=path, line=1),
            expected="a header such as 'Ch1Amplitude,Ch2Amplitude' or 'Assay1 Amplitude,Assay2 Amplitude'",
            found=repr(lines[0][:60]),
        )
    raw_header = lines[header_at].rstrip(",").split(",")
    header = [_cell(h) for h in raw_header]
    quoted = any(h.strip().startswith('"') for h in raw_header)
    amp_cols = [i for i, h in enumerate(header) if "amplitude" in h.lower()]
    if len(amp_cols) not in (1, 2):
        raise InputError("unexpected amplitude columns", location=Location(file=path, line=header_at + 1),
                         expected="one or two amplitude columns", found=", ".join(header))  # fmt: skip
    names = [_header_key(header[i]) for i in amp_cols]
    order = sorted(range(len(amp_cols)), key=lambda j: ("2" in names[j], names[j]))
    keys = [names[j] for j in order]
    body_at = [i for i in range(header_at + 1, len(lines)) if lines[i].strip()]
    if not body_at:
        raise InputError("amplitude file has a header but no droplets",
                         location=Location(file=path, line=header_at + 2),
                         expected="one row of amplitudes per droplet", found="end of file")  # fmt: skip
    rows = [[_cell(c) for c in lines[i].rstrip(",").split(",")] for i in body_at]
    lower = [_header_key(h) for h in header]
    label_cols: list[int] = []
    if "cluster" in lower:
        label_cols = [lower.index("cluster")]
    elif "1" in header and "2" in header:
        label_cols = [header.index("1"), header.index("2")]
    need = max(amp_cols + label_cols) + 1
    widths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    if (widths < need).any():
        bad = int(np.flatnonzero(widths < need)[0])
        raise InputError("truncated amplitude row", location=Location(file=path, line=body_at[bad] + 1),
                         expected=f"{need} comma-separated fields ({', '.join(header[:need])})",
                         found=f"{widths[bad]} field(s): {lines[body_at[bad]][:60]!r}")  # fmt: skip
    table = np.array([r[:need] for r in rows], dtype=object)
    cols = [amp_cols[j] for j in order]
    values = (
        pd.DataFrame(table[:, cols])
        .apply(pd.to_numeric, errors="coerce")
        .to_numpy(dtype=np.float64)
    )
    finite = np.isfinite(values)
    if not finite.all():
        r, c = (int(v[0]) for v in np.nonzero(~finite))
        raise InputError("non-numeric or non-finite amplitude",
                         location=Location(file=path, line=body_at[r] + 1, column=header[cols[c]]),
                         expected="a finite number", found=repr(str(table[r, cols[c]])[:40]))  # fmt: skip
    if values.shape[1] == 1:
        values = np.column_stack([values[:, 0], np.full(len(values), np.nan)])
    labels = None
    if "cluster" in lower:
        cluster = pd.to_numeric(pd.Series(table[:, label_cols[0]]), errors="coerce").to_numpy(
            dtype=float
        )
        ch1 = np.where(
            np.isin(cluster, [2, 3]), 1.0, np.where(np.isin(cluster, [1, 4]), 0.0, np.nan)
        )
        ch2 = np.where(
            np.isin(cluster, [3, 4]), 1.0, np.where(np.isin(cluster, [1, 2]), 0.0, np.nan)
        )
        labels = np.column_stack([ch1, ch2])
    elif label_cols:
        per = []
        for col in label_cols:
            v = table[:, col]
            per.append(np.where(v == "1", 1.0, np.where(v == "0", 0.0, np.nan)))
        labels = np.column_stack(per).astype(np.float64)
    if well is None:
        m = _WELL_RE.search(path.name)
        well = m.group(1).upper() if m else path.stem
    generation = HEADER_GENERATION.get(keys[0], "unknown")
    note = f"header {', '.join(header[i] for i in cols)}"
    if quoted or any("." in header[i] for i in cols):
        note += " (R-style quoted/dotted header, read as QuantaSoft's)"
    return Droplets(
        np.full(len(values), well, dtype=object), values, labels, [well], {well: generation},
        {well: note}, {well: path.name},
    )  # fmt: skip


def combine(parts: Sequence[Droplets]) -> Droplets:
    """Many wells' droplets as one set of flat arrays (a well in two files is an error)."""
    seen: dict[str, str] = {}
    for part in parts:
        for w in part.wells:
            if w in seen:
                raise InputError("the same well comes from two amplitude files",
                                 location=Location(file=part.source.get(w)),
                                 expected="one amplitude file per well",
                                 found=f"well {w} also in {seen[w]}")  # fmt: skip
            seen[w] = part.source.get(w, "?")
    labels = None
    if parts and all(p.labels is not None for p in parts):
        labels = np.concatenate([p.labels for p in parts if p.labels is not None])
    return Droplets(
        np.concatenate([p.well for p in parts]) if parts else np.empty(0, dtype=object),
        np.concatenate([p.amplitude for p in parts]) if parts else np.empty((0, 2)),
        labels,
        [w for p in parts for w in p.wells],
        {w: g for p in parts for w, g in p.generation.items()},
        {w: g for p in parts for w, g in p.header_note.items()},
        {w: g for p in parts for w, g in p.source.items()},
    )


def otsu_threshold(values: np.ndarray, bins: int = 512) -> float:
    """The threshold maximising between-class variance of a 1-D sample (NaN if degenerate)."""
    values = values[np.isfinite(values)]
    if len(values) < 2 or values.min() == values.max():
        return float("nan")
    # Amplitudes near the float limit (1e308) must not overflow into NaN thresholds:
    # work on the sample shifted and scaled to [0, 1], then map back.
    lo, span = float(values.min()), float(values.max() / 2 - values.min() / 2) * 2
    if not np.isfinite(span) or span <= 0:
        return float("nan")
    t = _otsu_unit((values - lo) / span, bins)
    return float(lo + t * span) if np.isfinite(t) else float("nan")


def _otsu_unit(values: np.ndarray, bins: int) -> float:
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
    #: well, channel, method, threshold, threshold_source, negative_median,
    #: negative_sd, accepted_droplets, positives, positives_threshold_low,
    #: positives_threshold_high, negatives, rain, flag
    wells: pd.DataFrame
    #: Thresholds learned from control wells (empty when none were named).
    controls: pd.DataFrame = field(default_factory=pd.DataFrame)


def negative_cluster(
    amp: np.ndarray, *, clip: float = 4.0, iterations: int = 30
) -> tuple[float, float]:
    """Median and robust SD (1.4826·MAD) of the lowest amplitude cluster.

    Starts from the lower group of a two-means (Otsu) split when that group
    holds at least 5% of the droplets (so a majority-positive well still finds
    its negatives), else from all droplets; then keeps the droplets below
    median + ``clip`` SDs until the median and SD stop moving. A handful of
    positives cannot move a median, so rare clusters stay outside.
    """
    amp = amp[np.isfinite(amp)]
    if len(amp) == 0:
        return float("nan"), float("nan")
    t = otsu_threshold(amp)
    pop = amp[amp <= t] if np.isfinite(t) and (amp <= t).sum() >= max(1.0, 0.05 * len(amp)) else amp
    m = float(np.median(pop))
    s = 1.4826 * float(np.median(np.abs(pop - m)))
    for _ in range(iterations):
        if s <= 0:
            break
        pop = amp[amp <= m + clip * s]
        if len(pop) == 0:
            break
        m2 = float(np.median(pop))
        s2 = 1.4826 * float(np.median(np.abs(pop - m2)))
        if m2 == m and s2 == s:
            break
        m, s = m2, s2
    # A degenerate cluster (all droplets equal) gets a tiny SD so "above it" stays defined.
    floor = 1e-9 * max(1.0, abs(m))
    return m, max(s, floor)


def _separated_split(amp: np.ndarray, min_separation: float) -> float:
    """The two-means (Otsu) threshold when it splits two well-separated clusters, else NaN.

    Separated: the groups' means lie at least ``min_separation`` pooled SDs
    apart and the upper group holds at least 1% of the droplets; a rare
    cluster fails this test and is left to the robust negative threshold.
    """
    t = otsu_threshold(amp)
    if not np.isfinite(t):
        return float("nan")
    lo, hi = amp[amp <= t], amp[amp > t]
    if len(lo) < 2 or len(hi) < max(2, 0.01 * len(amp)):
        return float("nan")
    pooled = np.sqrt((lo.var() + hi.var()) / 2)
    if pooled == 0 or (hi.mean() - lo.mean()) < min_separation * pooled:
        return float("nan")
    return t


def _controls(
    droplets: Droplets, ntc_wells: Sequence[str], wt_wells: Sequence[str],
    positive_wells: Sequence[str], mutant_channel: int, neg_k: float,
) -> tuple[list[float], list[str], pd.DataFrame]:  # fmt: skip
    """Per-channel thresholds learned from pooled control wells (NaN where none apply)."""
    present = set(droplets.wells)
    for role, names in (
        ("NTC (no-template-control)", ntc_wells),
        ("wild-type", wt_wells),
        ("positive control", positive_wells),
    ):
        missing = [w for w in names if w not in present]
        if missing:
            raise InputError(f"{role} well(s) not in the amplitude files",
                             expected="wells present in the data: " + ", ".join(sorted(present)[:12]),
                             found=", ".join(missing))  # fmt: skip
    thresholds, sources, rows = [float("nan"), float("nan")], ["", ""], []
    pc_empty: list[str] = []
    for c in (0, 1):
        negatives = list(ntc_wells) + (list(wt_wells) if c + 1 == mutant_channel else [])
        t_neg = t_pos = float("nan")
        if negatives:
            amp = droplets.amplitude[np.isin(droplets.well, negatives), c]
            m, s = negative_cluster(amp)
            t_neg = m + neg_k * s
            kinds = ("NTC" if ntc_wells else "") + ("+" if ntc_wells and c + 1 == mutant_channel and wt_wells else "") + (
                "wild-type" if wt_wells and c + 1 == mutant_channel else "")  # fmt: skip
            rows.append({"channel": c + 1, "role": f"negative ({kinds})", "wells": ", ".join(negatives),
                         "droplets": int(np.isfinite(amp).sum()), "negative_median": m, "negative_sd": s,
                         "threshold": t_neg, "control_positives": int((amp > t_neg).sum())})  # fmt: skip
        if positive_wells:
            amp = droplets.amplitude[np.isin(droplets.well, list(positive_wells)), c]
            m, s = negative_cluster(amp)
            high = amp[amp > m + neg_k * s]
            if len(high) == 0:  # e.g. a mutant-only control in the wild-type channel
                pc_empty.append(f"channel {c + 1} (median {m:g} + {neg_k:g} SD)")
                rows.append({"channel": c + 1, "role": "positive control: no positive droplets, not used",
                             "wells": ", ".join(positive_wells), "droplets": int(np.isfinite(amp).sum()),
                             "negative_median": m, "negative_sd": s, "threshold": float("nan"),
                             "control_positives": 0})  # fmt: skip
            else:
                t_pos = (m + float(np.median(high))) / 2
                rows.append({"channel": c + 1, "role": "positive control (midpoint)",
                             "wells": ", ".join(positive_wells), "droplets": int(np.isfinite(amp).sum()),
                             "negative_median": m, "negative_sd": s, "threshold": t_pos,
                             "control_positives": int((amp > t_pos).sum())})  # fmt: skip
        if np.isfinite(t_neg) or np.isfinite(t_pos):
            thresholds[c] = float(np.nanmax([t_neg, t_pos]))
            sources[c] = "controls: " + " and ".join(
                str(r["role"])
                for r in rows
                if r["channel"] == c + 1 and np.isfinite(float(str(r["threshold"])))
            )
    if positive_wells and len(pc_empty) == 2:
        raise InputError("positive-control wells show no positive droplets",
                         expected="droplets above the negative cluster in " + " or ".join(pc_empty),
                         found=f"none in {', '.join(positive_wells)}")  # fmt: skip
    return thresholds, sources, pd.DataFrame(rows)


#: Flag of a well and channel whose positives are spread between the clusters (rain) rather
#: than gathered in a positive cluster: its positives are not evidence of the target.
RAIN_ONLY = "rain_only(no tight positive cluster)"
#: Fewest positives whose spread is judged (one or two droplets have no spread to judge).
MIN_CLUSTER = 3
#: Largest spread of a positive cluster: robust SD (1.4826·MAD) of the positives over their
#: median height above the negatives' median. Positive clusters are tight; rain strung
#: between the clusters spreads over tens of per cent. Real clusters are not as tight as
#: simulated ones: on the QuantaSoft-labelled twoddpcr KRAS plate (shared/validation/
#: ddpcr_twoddpcr_kras) the single-positive mutant clusters spread 0.083-0.123 of their
#: height (double positives 0.16-0.26), so a limit of 0.12 called 3 of its 12 mutant wells
#: (35-120 positives, counted by QuantaSoft and twoddpcr) indeterminate. The test is
#: statistical: 30 droplets of rain spread evenly between the clusters pass for a cluster with
#: probability ~2e-2 at 0.15 (50 droplets: ~2e-3), measured by simulation (200,000 draws).
MAX_CLUSTER_SPREAD = 0.15


def _rain_only(pos_amp: np.ndarray, other_positive: np.ndarray, negative_median: float) -> bool:
    """Whether positive droplets are rain (spread out) rather than a tight cluster.

    Positives are judged in two groups, by the other channel's call: a droplet positive in
    both channels sits at another amplitude than a single positive (two clusters, each tight).
    Rain only when no group of at least :data:`MIN_CLUSTER` droplets is tight.
    """
    if len(pos_amp) < MIN_CLUSTER:
        return False
    judged = False
    for group in (pos_amp[other_positive], pos_amp[~other_positive]):
        if len(group) < MIN_CLUSTER:
            continue
        judged = True
        height = float(np.median(group)) - negative_median
        spread = float(stats.median_abs_deviation(group, scale="normal"))
        if not (height > 0 and spread > MAX_CLUSTER_SPREAD * height):
            return False
    return judged


def classify_droplets(
    droplets: Droplets,
    *,
    method: Method = "robust",
    thresholds: Sequence[float | None] | None = None,
    ntc_wells: Sequence[str] = (),
    wt_wells: Sequence[str] = (),
    positive_wells: Sequence[str] = (),
    mutant_channel: int = 1,
    neg_k: float = 8.0,
    tolerance: float = 0.10,
    rain_sd: float = 3.0,
    min_droplets: int = 8000,
    min_separation: float = 4.0,
) -> Classification:
    """Call each droplet positive or negative in each channel (see the module docstring).

    ``method="fixed"`` requires ``thresholds`` for both channels; ``"ntc"``
    requires ``ntc_wells``. Fixed thresholds and control wells override the
    per-well method channel by channel. With ``otsu`` a well whose two
    amplitude groups are not separated (means less than ``min_separation``
    pooled SDs apart) is one population: all negative, flagged
    ``single_cluster``; with ``robust`` a well without any droplet above its
    threshold is flagged ``single_cluster`` too.
    """
    if not (np.isfinite(neg_k) and neg_k > 0):
        raise InputError(
            "the negative-cluster width must be positive", expected="neg_k > 0", found=f"{neg_k:g}"
        )
    if not (np.isfinite(tolerance) and 0 <= tolerance < 1):
        raise InputError(
            "the threshold tolerance is a fraction",
            expected="0 <= tolerance < 1",
            found=f"{tolerance:g}",
        )
    fixed: list[float | None] = [None, None]
    if thresholds is not None:
        if len(thresholds) != 2:
            raise InputError("fixed thresholds are per channel", expected="two values (channel 1, channel 2)",
                             found=f"{len(thresholds)} value(s)")  # fmt: skip
        for c, t in enumerate(thresholds):
            if t is not None:
                if not np.isfinite(t):
                    raise InputError(f"the channel {c + 1} threshold is not a number",
                                     expected="a finite amplitude", found=f"{t:g}")  # fmt: skip
                fixed[c] = float(t)
    if method == "fixed" and any(t is None for t in fixed):
        raise InputError("the fixed method needs thresholds", expected="one threshold per channel",
                         found="none" if thresholds is None else "a channel without one")  # fmt: skip
    if method == "ntc" and not ntc_wells:
        raise InputError("the NTC threshold needs no-template-control wells",
                         expected="ntc_wells naming wells present in the data", found="none")  # fmt: skip
    if mutant_channel not in (1, 2):
        raise InputError(
            "the mutant channel is 1 or 2",
            expected="1 (FAM) or 2 (HEX/VIC)",
            found=str(mutant_channel),
        )
    learned, learned_from, controls = _controls(
        droplets, ntc_wells, wt_wells, positive_wells, mutant_channel, neg_k
    )
    n = len(droplets.well)
    positive = np.zeros((n, 2), dtype=bool)
    rain = np.zeros((n, 2), dtype=bool)
    codes, wells = pd.factorize(droplets.well)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(wells) + 1))
    rows = []
    for w, name in enumerate(wells):
        idx = order[bounds[w] : bounds[w + 1]]
        for c in (0, 1):
            amp = droplets.amplitude[idx, c]
            if np.isnan(amp).all():
                continue
            flag = ""
            m, s = negative_cluster(amp)
            fixed_t = fixed[c]
            if fixed_t is not None:
                t, how, source = fixed_t, "fixed", "given threshold"
            elif np.isfinite(learned[c]):
                t, how, source = learned[c], "controls", learned_from[c]
            elif method == "otsu":
                how, source = "otsu", "two-means split of this well"
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
            else:
                how = "robust"
                t = m + neg_k * s
                source = f"this well's negative cluster: median + {neg_k:g} robust SD"
                t_split = _separated_split(amp, min_separation)
                if np.isfinite(t_split) and t_split > t:
                    t = t_split
                    source = f"two-means split between well-separated clusters (above the negatives' median + {neg_k:g} robust SD)"
            pos = amp > t
            k = int(pos.sum())
            if how == "robust" and k == 0:
                flag = "single_cluster"
            positive[idx, c] = pos
            neg_amp, pos_amp = amp[~pos], amp[pos]
            if len(neg_amp) > 1 and len(pos_amp) > 1:
                low = neg_amp.mean() + rain_sd * neg_amp.std()
                high = pos_amp.mean() - rain_sd * pos_amp.std()
                rain[idx, c] = (amp > low) & (amp < high)
            # The window is a fraction of the threshold's height above the negative
            # cluster (amplitude baselines differ between channels and runs).
            height = t - m if np.isfinite(t - m) and t > m else abs(t)
            span = tolerance * height if np.isfinite(height) else 0.0
            k_low = int((amp > t - span).sum())  # threshold lowered: more positives
            k_high = int((amp > t + span).sum())
            if (k_low > 0) != (k_high > 0) or (k_low - k_high > max(2, 0.25 * max(k, 1))):
                flag = ";".join(
                    f
                    for f in (
                        flag,
                        f"threshold_sensitive(+-{tolerance:.0%}: {k_high}-{k_low} positives)",
                    )
                    if f
                )
            negative_control = str(name) in set(map(str, ntc_wells)) or (
                c + 1 == mutant_channel and str(name) in set(map(str, wt_wells))
            )
            if negative_control and k > 0:  # template where none should be: contamination?
                kind = "ntc" if str(name) in set(map(str, ntc_wells)) else "wt_control"
                flag = ";".join(f for f in (flag, f"{kind}_positive({k} droplets)") if f)
            accepted = int(np.isfinite(amp).sum())
            if accepted < min_droplets:
                flag = ";".join(f for f in (flag, f"low_droplets(<{min_droplets})") if f)
            rows.append(
                {
                    "well": name,
                    "channel": c + 1,
                    "method": how,
                    "threshold": t,
                    "threshold_source": source,
                    "negative_median": m,
                    "negative_sd": s,
                    "accepted_droplets": accepted,
                    "positives": k,
                    "positives_threshold_low": k_low,
                    "positives_threshold_high": k_high,
                    "negatives": int((~pos & np.isfinite(amp)).sum()),
                    "rain": int(rain[idx, c].sum()),
                    "flag": flag,
                }
            )
    table = pd.DataFrame(rows)
    if len(table):  # rain only: judged once both channels of a well are called
        rain_only = np.zeros(len(table), dtype=bool)
        where = {str(name): w for w, name in enumerate(wells)}
        medians = table["negative_median"].to_numpy(dtype=float)
        channels = table["channel"].to_numpy(dtype=np.int64)
        for i, name in enumerate(table["well"].astype(str)):
            c, w = int(channels[i]) - 1, where[name]
            idx = order[bounds[w] : bounds[w + 1]]
            pos = positive[idx, c]
            rain_only[i] = _rain_only(droplets.amplitude[idx, c][pos], positive[idx, 1 - c][pos],
                                      float(medians[i]))  # fmt: skip
        table.loc[rain_only, "flag"] = [
            ";".join(f for f in (f0, RAIN_ONLY) if f) for f0 in table.loc[rain_only, "flag"]
        ]
    return Classification(positive, rain, table, controls)


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
