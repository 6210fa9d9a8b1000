"""Serial cfDNA: VAF over time, molecular response, emergence of resistance.

Input is a long table of sequencing results (sample, patient, collection day,
gene, alteration, VAF or alt/ref counts, detection limit), optionally joined
with ddPCR wells (fractional abundance as VAF, the EP17 call as detection)
and a treatment timeline. Per patient:

- each measurement is ``detected`` when its VAF is above zero and at or above
  its detection limit, else ``not_detected`` (drawn at the limit, open symbol);
- molecular response: the mean (or max) VAF of the alterations detected at
  baseline falls by at least ``response_fall`` (50%) from baseline, optionally
  confirmed at the next sample;
- emergence: an alteration not detected in at least one earlier sample and
  detected later; ``confirmed`` when also detected at the next sample or by
  ddPCR in the same sample;
- each resistance alteration's VAF relative to the fusion's in that sample.

Emerging alterations are classified by :class:`~trkres.genomics.caller.ResistanceCaller`
(same classes and therapy strategies as tissue sequencing).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trkres.errors import InputError, Location
from trkres.genomics.caller import ResistanceCaller
from trkres.genomics.io.clinical import MAX_DAYS, within_days
from trkres.genomics.io.fusions import orient, split_fusion_name
from trkres.genomics.io.tables import RowIssue, TableRead, read_delimited, resolve_columns
from trkres.genomics.model import conform
from trkres.genomics.normalise import normalise_genes
from trkres.genomics.protein import parse_protein_changes
from trkres.knowledge.store import KnowledgeBase
from trkres.units import VAF_UNITS

CFDNA_COLUMNS = {
    "sample_id": ["sample", "sample_id", "SAMPLE_ID", "Tumor_Sample_Barcode"],
    "patient_id": ["patient", "patient_id", "PATIENT_ID"],
    "day": ["collection_day", "day", "COLLECTION_DAY", "days"],
    "gene": ["gene", "Hugo_Symbol", "GENE"],
    "alteration": ["alteration", "protein_change", "HGVSp_Short", "ALTERATION", "variant"],
    "vaf": ["vaf", "VAF", "af", "allele_fraction", "t_AF"],
    "alt_count": ["alt_count", "t_alt_count"],
    "ref_count": ["ref_count", "t_ref_count"],
    "lod": ["detection_limit", "lod", "LoD", "limit_of_detection"],
    "assay": ["assay", "method"],
}

_FUSION = re.compile(r"(?:::|--|__|fusion)", re.IGNORECASE)
_AMP = re.compile(r"^(amp|amplification|gain)$", re.IGNORECASE)


@dataclass(frozen=True)
class CfdnaResult:
    """Measurements, per-sample response and per-alteration emergence tables."""

    measurements: pd.DataFrame
    response: pd.DataFrame
    emergence: pd.DataFrame
    issues: list[RowIssue]
    #: Treatment lines (as :func:`~trkres.genomics.io.clinical.read_timeline` reads them),
    #: drawn over the VAFs; ``None`` without a timeline.
    timeline: pd.DataFrame | None = None

    @property
    def issues_table(self) -> pd.DataFrame:
        """Input rows with problems: file, line, column, expected, found, action."""
        return pd.DataFrame([vars(i) for i in self.issues],
                            columns=["file", "line", "column", "expected", "found", "action"])  # fmt: skip

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables ``trkres cfdna`` writes, by file name (without ``.tsv``)."""
        return {
            "cfdna_measurements": self.measurements,
            "cfdna_response": self.response,
            "cfdna_emergence": self.emergence,
            "issues": self.issues_table,
        }


#: Units a cfDNA table may give its VAF and detection-limit columns in.


def read_cfdna(path: Path, vaf_unit: str = "fraction") -> tuple[pd.DataFrame, list[RowIssue]]:
    """Read a long cfDNA results table.

    ``vaf_unit`` says how the VAF and detection-limit columns are written:
    ``fraction`` (0-1, the default) or ``percent`` (0-100, divided by 100).
    Read as fractions, a file with any VAF or limit above 1 and at most 100
    looks like percent and is refused (:class:`InputError`): 0.4% must never
    become a VAF of 0.4. The ``vaf_read_as`` column says how each VAF was read.
    """
    if vaf_unit not in VAF_UNITS:
        raise InputError("unknown VAF unit", expected="fraction or percent", found=repr(vaf_unit))
    read = read_delimited(
        path, what="cfDNA", known_columns=frozenset(a for v in CFDNA_COLUMNS.values() for a in v)
    )
    cols = resolve_columns(read, CFDNA_COLUMNS, what="cfDNA", required=_REQUIRED)
    return _measurements(read, cols, vaf_unit)


#: Columns (canonical names) a cfDNA table must have; ``vaf|alt_count``: one of the two.
_REQUIRED = ["sample_id", "patient_id", "day", "gene", "alteration", "vaf|alt_count"]


def cfdna_from_frame(
    frame: object, vaf_unit: str = "fraction", *, name: str = "DataFrame"
) -> tuple[pd.DataFrame, list[RowIssue]]:
    """A cfDNA results table held in memory, read as :func:`read_cfdna` reads a file.

    Same columns (and aliases) and checks; in messages and issue rows ``name`` is
    the file and the line is the 1-based row of ``frame``.
    """
    import pyarrow as pa

    if vaf_unit not in VAF_UNITS:
        raise InputError("unknown VAF unit", expected="fraction or percent", found=repr(vaf_unit))
    if not isinstance(frame, pd.DataFrame):
        raise InputError("cfDNA measurements must be a pandas DataFrame or a path",
                         expected="a DataFrame with columns sample, patient, collection_day, gene, "
                         "alteration, vaf (or alt_count/ref_count)", found=type(frame).__name__)  # fmt: skip
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names) or any(not n.strip() for n in names):
        raise InputError(f"{name}: cfDNA column names must be unique and not empty",
                         expected="unique column names", found=", ".join(names)[:300])  # fmt: skip
    if frame.empty:
        raise InputError("cfDNA table is empty", location=Location(file=name),
                         expected="one row per sample and alteration", found="0 rows")  # fmt: skip
    text = {}
    for column, values in zip(names, (frame.iloc[:, i] for i in range(len(names))), strict=True):
        missing = values.isna().to_numpy()
        text[column] = (
            values.astype(str).astype(object).where(~missing, None).reset_index(drop=True)
        )
    arrow = pa.Table.from_pandas(pd.DataFrame(text), preserve_index=False)
    read = TableRead(path=Path(name), arrow=arrow, header_line=0,
                     _lines=np.arange(1, len(frame) + 1))  # fmt: skip
    try:
        cols = resolve_columns(read, CFDNA_COLUMNS, what="cfDNA", required=_REQUIRED)
    except InputError as exc:
        exc.location = Location(file=name)
        raise
    return _measurements(read, cols, vaf_unit)


def _measurements(
    read: TableRead, cols: dict[str, str | None], vaf_unit: str
) -> tuple[pd.DataFrame, list[RowIssue]]:
    """The measurements of a cfDNA table read as text (see :func:`read_cfdna`)."""
    path = read.path
    f = read.frame
    issues = list(read.issues)

    def num(key: str) -> pd.Series:
        c = cols[key]
        if c is None:
            return pd.Series(np.nan, index=f.index)
        values = pd.to_numeric(f[c], errors="coerce").astype(float)
        bad = (values.isna() & f[c].notna()) | np.isinf(values)
        if key == "day":
            bad |= ~within_days(values)
        if key in ("alt_count", "ref_count", "lod"):
            bad |= values < 0
        for i in np.flatnonzero(bad.to_numpy()):
            issues.append(
                RowIssue(
                    str(path),
                    read.line_of(int(i)),
                    c,
                    "a non-negative finite number"
                    if key != "day"
                    else f"a day number within ±{MAX_DAYS:g}",
                    repr(f[c].iloc[i]),
                    "kept, value missing",
                )
            )
        return values.where(~bad)

    vaf = num("vaf")
    lod = num("lod")
    if vaf_unit == "fraction":
        for key, values in (("vaf", vaf), ("lod", lod)):
            percent_like = np.flatnonzero(((values > 1) & (values <= 100)).to_numpy())
            if len(percent_like):
                row = int(percent_like[0])
                raise InputError(
                    "cfDNA VAFs look like percent, not fractions",
                    location=Location(file=path, line=read.line_of(row), column=cols[key]),
                    expected="VAFs and detection limits as fractions 0-1, or --vaf-unit percent "
                    "(study option vaf_unit: percent) for a file written in percent",
                    found=f"{values.iloc[row]:g} ({len(percent_like)} value(s) between 1 and 100)",
                )
        given_as = "fraction"
    else:
        vaf, lod = vaf / 100.0, lod / 100.0
        given_as = "percent / 100"
    alt, ref = num("alt_count"), num("ref_count")
    read_as = pd.Series(np.where(vaf.notna(), given_as, ""), index=f.index, dtype=object)
    with np.errstate(invalid="ignore", divide="ignore"):
        from_counts = alt / (alt + ref)
    read_as = read_as.where(vaf.notna() | from_counts.isna(), "alt / (alt + ref)")
    vaf = vaf.where(vaf.notna(), from_counts)
    scale = 100.0 if vaf_unit == "percent" else 1.0
    bad_vaf = (vaf < 0) | (vaf > 1)
    for i in np.flatnonzero(bad_vaf.to_numpy()):
        issues.append(RowIssue(str(path), read.line_of(int(i)), cols["vaf"],
                               f"a VAF between 0 and {scale:g} ({vaf_unit})",
                               repr(f[cols["vaf"]].iloc[i]) if cols["vaf"] else "", "kept, value missing"))  # fmt: skip

    # Neither a VAF nor counts: listed, not silently "not detected" (a cell holding text was
    # listed by num() already).
    def empty(key: str) -> pd.Series:
        c = cols[key]
        return f[c].isna() if c is not None else pd.Series(True, index=f.index)

    no_vaf = vaf.isna() & ~bad_vaf & empty("vaf") & empty("alt_count") & empty("ref_count")
    for i in np.flatnonzero(no_vaf.to_numpy()):
        issues.append(RowIssue(str(path), read.line_of(int(i)), cols["vaf"] or "vaf",
                               f"a VAF ({vaf_unit}) or alt_count and ref_count",
                               repr(f[cols["vaf"]].iloc[i]) if cols["vaf"] else "none",
                               "kept, value missing"))  # fmt: skip
    # Counts that give no VAF (no reads at the site, or one of the two counts missing): listed,
    # not silently left without a value.
    listed = {i.line for i in issues if i.file == str(path)}
    no_reads = vaf.isna() & ~bad_vaf & ~no_vaf & (alt.notna() | ref.notna())
    for i in np.flatnonzero(no_reads.to_numpy()):
        line = read.line_of(int(i))
        if line in listed:
            continue
        depth = alt.iloc[i] + ref.iloc[i]
        issues.append(RowIssue(str(path), line, cols["alt_count"] or cols["ref_count"],
                               "alt_count and ref_count with at least one read",
                               "0 reads" if depth == 0 else "only one of alt_count and ref_count",
                               "kept, value missing"))  # fmt: skip
    bad_lod = lod > 1
    for i in np.flatnonzero(bad_lod.to_numpy()):
        issues.append(RowIssue(str(path), read.line_of(int(i)), cols["lod"],
                               f"a detection limit between 0 and {scale:g} ({vaf_unit})",
                               repr(f[cols["lod"]].iloc[i]), "kept, no detection limit"))  # fmt: skip
    out = pd.DataFrame(
        {
            "sample_id": f[cols["sample_id"]].astype(str),
            "patient_id": f[cols["patient_id"]].astype(str),
            "day": num("day"),
            "gene": f[cols["gene"]].astype(str),
            "alteration": f[cols["alteration"]].astype(str),
            "vaf": vaf.where(~bad_vaf),
            "lod": lod.where(~bad_lod).fillna(0.0),
            "assay": f[cols["assay"]].astype(str) if cols["assay"] else "NGS",
            "vaf_read_as": read_as.where(~bad_vaf, ""),
        }
    )
    return _duplicates(out, path, read.line_of, cols, issues), issues


def _duplicates(
    out: pd.DataFrame,
    path: Path,
    line_of: Callable[[int], int],
    cols: dict[str, str | None],
    issues: list[RowIssue],
) -> pd.DataFrame:
    """Refuse conflicts, collapse exact repeats (each an issue row).

    A sample must belong to one patient and have one collection day; one
    alteration measured twice by one assay in one sample must agree (VAF and
    detection limit), else the table is ambiguous and an :class:`InputError`
    names both lines. Exact repeats are dropped (issue row).
    """
    for what, col in (("patient_id", cols["patient_id"]), ("day", cols["day"])):
        per_sample = out.groupby("sample_id", sort=False)[what].nunique(dropna=False)
        clash = per_sample[per_sample > 1]
        if len(clash):
            sample = str(clash.index[0])
            rows = np.flatnonzero((out["sample_id"] == sample).to_numpy())
            values = out[what].iloc[rows]
            second = rows[int(np.flatnonzero((values != values.iloc[0]).to_numpy())[0])]
            raise InputError(
                f"cfDNA sample '{sample}' has two different {what.replace('_id', '')}s",
                location=Location(file=path, line=line_of(int(second)), column=col),
                expected=f"one {what.replace('_id', '')} per sample (as on line "
                f"{line_of(int(rows[0]))}: {_show(values.iloc[0])})",
                found=_show(out[what].iloc[second]),
            )
    key = ["sample_id", "gene", "alteration", "assay"]
    repeated = out.duplicated(key, keep=False).to_numpy()
    if not repeated.any():
        return out
    numbers = out[["vaf", "lod"]].astype(float).fillna(-1.0)
    exact = out.assign(_v=numbers["vaf"], _l=numbers["lod"]).duplicated([*key, "_v", "_l"])
    first_seen: dict[tuple[str, ...], int] = {}
    for i in np.flatnonzero(repeated):
        k = tuple(str(v) for v in out.iloc[i][key])
        if k not in first_seen:
            first_seen[k] = int(i)
            continue
        j = first_seen[k]
        if not bool(exact.iloc[i]):
            raise InputError(
                f"cfDNA sample '{k[0]}' measures {k[1]} {k[2]} ({k[3]}) twice with different values",
                location=Location(
                    file=path, line=line_of(int(i)), column=cols["vaf"] or cols["alt_count"]
                ),
                expected=f"one value per sample, alteration and assay (line {line_of(j)}: VAF "
                f"{_show(out['vaf'].iloc[j])}, detection limit {_show(out['lod'].iloc[j])})",
                found=f"VAF {_show(out['vaf'].iloc[i])}, detection limit {_show(out['lod'].iloc[i])}",
            )
        issues.append(
            RowIssue(str(path), line_of(int(i)), None,
                     "one row per sample, alteration and assay",
                     f"an exact repeat of line {line_of(j)}", "dropped")
        )  # fmt: skip
    return out.loc[~exact.to_numpy()].reset_index(drop=True)


def _show(value: object) -> str:
    """A value for a message: numbers as plain ``%g``, missing as 'missing'."""
    if isinstance(value, (float, int, np.floating, np.integer)):
        return "missing" if pd.isna(value) else f"{float(value):g}"
    return repr(str(value))


def check_measurements(measurements: pd.DataFrame) -> None:
    """Across tables (several files, ddPCR joined): one patient and day per sample,
    one value per sample, alteration and assay; else :class:`InputError`.
    (ddPCR replicate wells are separate measurements: not compared.)"""
    for what in ("patient_id", "day"):
        n = measurements.groupby("sample_id", sort=False)[what].nunique(dropna=False)
        if (n > 1).any():
            sample = str(n[n > 1].index[0])
            found = measurements.loc[measurements["sample_id"] == sample, what]
            raise InputError(
                f"cfDNA sample '{sample}' has two different {what.replace('_id', '')}s "
                "across the cfDNA tables",
                expected=f"one {what.replace('_id', '')} per sample",
                found=", ".join(dict.fromkeys(_show(v) for v in found)),
            )
    key = ["sample_id", "gene", "alteration", "assay"]
    dup = measurements.duplicated(key, keep=False) & (measurements["assay"] != "ddPCR")
    if dup.any():
        clash = measurements.loc[dup].groupby(key, sort=False)["vaf"].nunique(dropna=False)
        if (clash > 1).any():
            k = clash[clash > 1].index[0]
            raise InputError(
                f"cfDNA sample '{k[0]}' measures {k[1]} {k[2]} ({k[3]}) with different values "
                "across the cfDNA tables",
                expected="one value per sample, alteration and assay",
                found="VAFs "
                + ", ".join(
                    _show(v)
                    for v in measurements.loc[
                        (measurements[key] == pd.Series(k, index=key)).all(axis=1), "vaf"
                    ]
                ),
            )


#: ddPCR target words that name the wild-type / reference assay, not an alteration.
_REFERENCE = re.compile(r"^(wt|wild[\s_-]?type|ref|reference|normal)$", re.IGNORECASE)


def ddpcr_measurements(
    wells: pd.DataFrame, samples: pd.DataFrame, issues: list[RowIssue] | None = None
) -> pd.DataFrame:
    """ddPCR wells as cfDNA measurements: targets named ``GENE ALTERATION`` (or ``_``/``-``).

    Fractional abundance (%) becomes VAF; a ``detected`` EP17 call counts as
    detected, anything else as not detected. A reference / wild-type target
    (``target_type`` Reference, or a name such as ``MET WT``) is the
    denominator of the fractional abundance, never an alteration. Wells of
    samples absent from the cfDNA table, with unparseable target names, failed,
    indeterminate (rain only: neither detected nor absent), or detected without a fractional abundance (no reference channel) are left
    out and each is an issue row in ``issues``.
    """
    known = samples.drop_duplicates("sample_id").set_index("sample_id")
    folded = {str(k).casefold(): str(k) for k in known.index}
    rows = []
    issues = issues if issues is not None else []

    def report(w: Any, expected: str, found: str, action: str) -> None:
        source = str(getattr(w, "source", "") or "ddPCR wells")
        well = getattr(w, "well", None)
        where = f"well {well}, target {str(w.target).strip()!r}: " if well else ""
        issues.append(RowIssue(source, None, "sample", expected, where + found, action))

    for w in wells.itertuples():
        target, sample = str(w.target).strip(), str(w.sample).strip()
        parts = re.split(r"[\s_\-]+", target, maxsplit=1)
        kind = str(getattr(w, "target_type", "") or "")
        # Target types: "Reference" (tables), "Ch2Reference" (QuantaSoft exports).
        is_reference = "reference" in kind.casefold() or kind.casefold().startswith("ref")
        if is_reference or (len(parts) == 2 and _REFERENCE.match(parts[1])):
            continue  # the reference channel: used as the fractional abundance's denominator
        if sample not in known.index:
            near = folded.get(sample.casefold())
            hint = f" (matches cfDNA sample '{near}' only if case is ignored)" if near else ""
            report(w, "a sample of the cfDNA table", repr(sample) + hint, "dropped")
            continue
        if len(parts) != 2:
            report(w, "a target named 'GENE ALTERATION' (e.g. 'KRAS G12D')", repr(target),
                   "dropped")  # fmt: skip
            continue
        if w.call == "failed":
            report(w, "a well that passed quality control", f"{target}: call failed", "dropped")
            continue
        if w.call == "indeterminate":  # rain only: neither a detection nor an absence
            report(w, "a well called detected or not detected",
                   f"{target}: call indeterminate (positives are rain only)", "dropped")  # fmt: skip
            continue
        s = known.loc[sample]
        detected = w.call == "detected"
        fa = pd.to_numeric(pd.Series([w.fractional_abundance]), errors="coerce").iloc[0]
        if detected and not np.isfinite(fa):  # a VAF of NaN would read as 'not detected'
            report(w, "a fractional abundance (a reference channel in the same well)",
                   f"{target}: detected, fractional abundance missing", "dropped")  # fmt: skip
            continue
        rows.append(
            {
                "sample_id": sample,
                "patient_id": s["patient_id"],
                "day": s["day"],
                "gene": parts[0],
                "alteration": parts[1],
                "vaf": float(fa) / 100 if detected else 0.0,
                "lod": 0.0,
                "assay": "ddPCR",
                "vaf_read_as": "ddPCR fractional abundance % / 100",
            }
        )
    return pd.DataFrame(
        rows,
        columns=["sample_id", "patient_id", "day", "gene", "alteration", "vaf", "lod", "assay",
                 "vaf_read_as"],
    )  # fmt: skip


def monitor(
    measurements: pd.DataFrame,
    knowledge: KnowledgeBase,
    *,
    timeline: pd.DataFrame | None = None,
    response_fall: float = 0.5,
    response_metric: str = "mean",
    confirm_next: bool = False,
) -> CfdnaResult:
    """Response, emergence and classification per patient (see the module docstring).

    Conflicting measurements (a sample under two patients or days, one
    alteration with two values) raise :class:`InputError`; exact repeats across
    tables are collapsed.
    """
    if not (np.isfinite(response_fall) and 0 < response_fall < 1):
        raise InputError(
            "impossible molecular-response fall",
            expected="a fraction of the baseline VAF strictly between 0 and 1 (e.g. 0.5 for 50%)",
            found=f"{response_fall:g}",
        )
    check_measurements(measurements)
    repeat = measurements.duplicated(["sample_id", "gene", "alteration", "assay", "vaf"]) & (
        measurements["assay"] != "ddPCR"
    )
    issues = [
        RowIssue("(cfDNA tables)", None, None, "one row per sample, alteration and assay",
                 f"{r.sample_id} {r.gene} {r.alteration} ({r.assay}) repeated across tables",
                 "dropped")
        for r in measurements.loc[repeat.to_numpy()].itertuples()
    ]  # fmt: skip
    m = measurements.loc[~repeat.to_numpy()]
    m["gene"] = normalise_genes(m["gene"], knowledge).astype(str)
    m["is_fusion"] = m["alteration"].str.contains(_FUSION) | m["gene"].str.contains("::")
    m["detected"] = (m["vaf"].fillna(0) > 0) & (m["vaf"].fillna(0) >= m["lod"])
    parsed = parse_protein_changes(
        m["alteration"].where(~m["is_fusion"] & ~m["alteration"].str.match(_AMP))
    )
    m["protein_change"] = parsed["protein_change"].astype(str).to_numpy()
    m["key"] = (
        m["gene"] + " " + np.where(m["protein_change"] != "", m["protein_change"], m["alteration"])
    )
    m = m.sort_values(["patient_id", "day", "sample_id"], kind="stable").reset_index(drop=True)
    # Fusion VAF per sample: the tumour-burden proxy and the reference for ratios.
    fusion_vaf = m[m["is_fusion"] & m["detected"]].groupby("sample_id")["vaf"].max()
    m["fusion_vaf"] = m["sample_id"].map(fusion_vaf).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        m["vaf_relative_to_fusion"] = np.where(m["is_fusion"], np.nan, m["vaf"] / m["fusion_vaf"])
    response = _response(m, response_fall, response_metric, confirm_next)
    emergence = _emergence(m, confirm_next)
    emergence = _classify_emerging(emergence, m, knowledge, timeline)
    return CfdnaResult(m.drop(columns=["key"]), response, emergence, issues)


def _response(m: pd.DataFrame, fall: float, metric: str, confirm: bool) -> pd.DataFrame:
    rows = []
    for patient, g in m.groupby("patient_id", sort=False):
        days = sorted(g["day"].dropna().unique())
        if not days:
            continue
        base = g[g["day"] == days[0]]
        tracked = set(base.loc[base["detected"], "key"])
        series = []
        for d in days:
            at = g[(g["day"] == d) & g["key"].isin(tracked)]
            # A tracked alteration whose VAF is missing that day leaves the day without a
            # value (read as 0 it would fake a response).
            unmeasured = set(at["key"]) - set(at.loc[at["vaf"].notna(), "key"])
            at = at[at["vaf"].notna()]
            vals = at["vaf"].where(at["detected"], 0.0)
            value = float(vals.max() if metric == "max" else vals.mean()) if len(vals) else np.nan
            if unmeasured:
                value = np.nan
            series.append((d, value))
        baseline = series[0][1]
        for i, (d, value) in enumerate(series):
            change = (value - baseline) / baseline if baseline and baseline > 0 else np.nan
            met = bool(i > 0 and np.isfinite(change) and change <= -fall)
            if confirm and met:
                nxt = series[i + 1][1] if i + 1 < len(series) else np.nan
                met = bool(np.isfinite(nxt) and (nxt - baseline) / baseline <= -fall)
            rows.append({"patient_id": patient, "day": d, "metric": metric, "tracked": len(tracked),
                         "value": value, "change_from_baseline": change, "molecular_response": met})  # fmt: skip
    return pd.DataFrame(rows, columns=["patient_id", "day", "metric", "tracked", "value",
                                       "change_from_baseline", "molecular_response"])  # fmt: skip


def _emergence(m: pd.DataFrame, confirm: bool) -> pd.DataFrame:
    rows = []
    for (patient, key), g in m[~m["is_fusion"]].groupby(["patient_id", "key"], sort=False):
        g = g.sort_values("day")
        first_row = g.iloc[0]
        # A missing VAF is no measurement, not an absence: emergence is judged on measured days.
        g = g[g["vaf"].notna()]
        if g.empty:
            rows.append({"patient_id": patient, "gene": first_row["gene"],
                         "alteration": str(key).split(" ", 1)[1],
                         "protein_change": first_row["protein_change"], "status": "not_measured",
                         "first_detected_day": np.nan, "vaf_at_emergence": np.nan,
                         "confirmed": False, "vaf_relative_to_fusion": np.nan})  # fmt: skip
            continue
        by_day = g.groupby("day").agg(detected=("detected", "any"), vaf=("vaf", "max"),
                                      ddpcr=("assay", lambda a: "ddPCR" in set(a)))  # fmt: skip
        days = by_day.index.to_list()
        det = by_day["detected"].to_numpy()
        first = int(np.argmax(det)) if det.any() else -1
        if first < 0:
            status, day, vaf, conf = "never_detected", np.nan, np.nan, False
        elif first == 0:
            status, day, vaf, conf = "present_at_first_sample", days[0], by_day["vaf"].iloc[0], True
        else:
            status, day, vaf = "emerged", days[first], by_day["vaf"].iloc[first]
            conf = bool((first + 1 < len(det) and det[first + 1])
                        or (g[(g["day"] == day) & (g["assay"] == "ddPCR")]["detected"].any()))  # fmt: skip
            if confirm and not conf:
                status = "emerged_unconfirmed"
        rows.append({"patient_id": patient, "gene": first_row["gene"], "alteration": str(key).split(" ", 1)[1],
                     "protein_change": first_row["protein_change"], "status": status, "first_detected_day": day,
                     "vaf_at_emergence": vaf, "confirmed": conf,
                     "vaf_relative_to_fusion": g.loc[g["day"] == day, "vaf_relative_to_fusion"].max() if day == day else np.nan})  # fmt: skip
    return pd.DataFrame(rows)


def _classify_emerging(
    emergence: pd.DataFrame,
    m: pd.DataFrame,
    knowledge: KnowledgeBase,
    timeline: pd.DataFrame | None,
) -> pd.DataFrame:
    if emergence.empty:
        return emergence.assign(
            alteration_class="", therapy_strategies="", unverified_strategies=""
        )
    # Patient-level canonical table: the fusion and every emerged alteration.
    alts = []
    for r in emergence[emergence["status"].str.startswith("emerged")].itertuples():
        amp = bool(_AMP.match(str(r.alteration)))
        alts.append({"sample_id": r.patient_id, "gene": r.gene,
                     "alteration_type": "amplification" if amp else "mutation",
                     "protein_change": "" if amp else r.protein_change})  # fmt: skip
    for r in m[m["is_fusion"]].drop_duplicates("patient_id").itertuples():
        pair = split_fusion_name(str(r.alteration), knowledge)
        if pair is None:
            continue
        five, three = orient(
            knowledge.normalise_gene(pair[0]), knowledge.normalise_gene(pair[1]), knowledge
        )
        alts.append({"sample_id": r.patient_id, "gene": three, "alteration_type": "fusion",
                     "partner_gene": five, "fusion": f"{five}::{three}"})  # fmt: skip
    frame = pd.DataFrame(alts)
    parsed = parse_protein_changes(
        frame.get("protein_change", pd.Series("", index=frame.index)).fillna("")
    )
    for col in ("aa_ref", "aa_pos", "aa_alt", "change_type"):
        frame[col] = parsed[col].to_numpy()
    caller = ResistanceCaller(knowledge).fit(conform(frame), fusion_data=True)
    a = caller.alterations_
    lookup = {
        (str(r.sample_id), str(r.gene), str(r.protein_change)): (
            str(r.alteration_class),
            str(r.therapy_strategies),
            str(r.unverified_strategies),
        )
        for r in a.itertuples()
    }
    hits = [
        lookup.get(
            (
                str(r.patient_id),
                str(r.gene),
                str(r.protein_change) if not _AMP.match(str(r.alteration)) else "",
            ),
            ("", "", ""),
        )
        for r in emergence.itertuples()
    ]
    # Strategies from verified facts only; needs_review ones in their own column.
    return emergence.assign(
        alteration_class=[h[0] for h in hits],
        therapy_strategies=[h[1] for h in hits],
        unverified_strategies=[h[2] for h in hits],
    )
