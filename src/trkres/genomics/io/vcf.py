"""VCF reader (cyvcf2): protein changes from VEP ``CSQ`` or SnpEff ``ANN``.

For each variant and each ALT allele the consequence on the knowledge base's
canonical transcript of the gene is used, with or without a protein change
(else VEP's ``CANONICAL=YES``, else the first consequence with a protein change). Records whose FILTER is not
``PASS`` (or ``.``) are filtered calls: dropped and reported. Every sample carrying the ALT
allele (genotype or allele depth) gives one row, with allele fraction from
``AF`` or ``AD`` in FORMAT (or a single-sample INFO ``TVAF``/``AF``).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from trkres.errors import InputError, Location
from trkres.genomics.io.tables import RowIssue
from trkres.genomics.model import ParsedInput, conform
from trkres.genomics.normalise import finish_mutations
from trkres.knowledge.store import KnowledgeBase

# SnpEff "Annotation" and VEP "Consequence" terms (Sequence Ontology) that truncate.
TRUNCATING_SO = frozenset(
    {"stop_gained", "frameshift_variant", "splice_acceptor_variant", "splice_donor_variant",
     "start_lost", "stop_lost"}
)  # fmt: skip
SILENT_SO = frozenset(
    {"synonymous_variant", "intron_variant", "3_prime_UTR_variant", "5_prime_UTR_variant",
     "upstream_gene_variant", "downstream_gene_variant", "intergenic_variant",
     "non_coding_transcript_exon_variant"}
)  # fmt: skip


def _annotation_fields(vcf: Any, path: Path) -> tuple[str, list[str]] | None:
    for tag in ("CSQ", "ANN"):
        try:
            info = vcf.get_header_type(tag)
        except KeyError:
            continue
        desc = str(info.get("Description", "")).strip('"')
        fmt = desc.split("Format:", 1)[1] if "Format:" in desc else desc.split(":", 1)[-1]
        fields = [f.strip().strip("'\" ") for f in fmt.split("|")]
        return tag, fields
    return None


def _pick(
    entries: list[dict[str, str]], allele: str, canonical: dict[str, set[str]]
) -> dict[str, str] | None:
    mine = [e for e in entries if e.get("allele", allele) in {allele, ""}] or entries
    with_protein = [e for e in mine if e.get("hgvsp")]
    # The knowledge base's transcript decides, protein change or not: a variant
    # intronic on it is not the G667C another isoform's numbering names.
    on_known = [
        e
        for e in mine
        if (tx := e.get("transcript", "").split(".")[0])
        and tx in canonical.get(e.get("gene", ""), set())
    ]
    for e in on_known:
        if e.get("hgvsp"):
            return e
    if on_known:
        return on_known[0]
    for e in with_protein:
        if e.get("canonical") == "YES":
            return e
    if with_protein:
        return with_protein[0]
    return mine[0] if mine else None


def read_vcf(path: Path, knowledge: KnowledgeBase, *, name: str | None = None) -> ParsedInput:
    """Read a (multi-sample) VCF/BCF into the canonical alteration table."""
    try:
        from cyvcf2 import VCF
    except ImportError as exc:  # pragma: no cover - cyvcf2 is a dependency
        raise InputError("reading VCF needs cyvcf2 (pip install cyvcf2)") from exc
    label = name or path.stem.removesuffix(".vcf")
    if not path.is_file():
        raise InputError("file not found", location=Location(file=path))
    chrom_line = _check_sample_names(path)  # line of #CHROM in a text VCF, None for BCF
    try:
        vcf = VCF(str(path), gts012=True, strict_gt=False)
    except Exception as exc:  # cyvcf2 raises bare Exception for what htslib refuses
        raise InputError(
            f"cannot open VCF: {_plain(exc)}",
            location=Location(file=path),
            expected="a VCF or BCF file with a valid header",
            found="a header htslib could not parse",
        ) from None
    ann = _annotation_fields(vcf, path)
    if ann is None:
        raise InputError(
            "VCF has no VEP CSQ or SnpEff ANN annotation",
            location=Location(file=path),
            expected="an INFO header line for CSQ (VEP) or ANN (SnpEff)",
            found="neither",
            hint="annotate with VEP (--hgvs) or SnpEff first, or supply a MAF",
        )
    tag, fields = ann
    idx = {f.lower(): i for i, f in enumerate(fields)}

    def field(parts: list[str], *names: str) -> str:
        for n in names:
            i = idx.get(n.lower())
            if i is not None and i < len(parts):
                return parts[i]
        return ""

    canonical: dict[str, set[str]] = {}
    for gene in knowledge.genes.values():
        ids = {t.ensembl for t in gene.transcripts if t.ensembl} | {
            t.refseq for t in gene.transcripts if t.refseq
        }
        canonical[gene.symbol] = {i.split(".")[0] for i in ids if i}
    samples = [str(s).strip() for s in vcf.samples]
    rows: list[dict[str, Any]] = []
    issues: list[RowIssue] = []
    record_no = 0
    try:
        for variant in vcf:
            record_no += 1
            if variant.FILTER is not None:  # cyvcf2: None for PASS and '.'
                # A caller's filtered call (Mutect2 weak_evidence, germline...) is not a
                # somatic call: never let it decide a class; say so, by record.
                issues.append(
                    RowIssue(str(path), chrom_line + record_no if chrom_line else None,
                             f"FILTER (record {record_no})", "PASS or '.'",
                             f"{variant.FILTER} at {variant.CHROM}:{variant.POS}",
                             "dropped (filtered call)")
                )  # fmt: skip
                continue
            raw = variant.INFO.get(tag)
            entries = []
            for item in str(raw).split(",") if raw else []:
                parts = item.split("|")
                entries.append(
                    {
                        "allele": field(parts, "Allele"),
                        "gene": field(parts, "SYMBOL", "Gene_Name"),
                        "transcript": field(parts, "Feature", "Feature_ID"),
                        "hgvsp": field(parts, "HGVSp", "HGVS.p"),
                        "consequence": field(parts, "Consequence", "Annotation"),
                        "canonical": field(parts, "CANONICAL"),
                    }
                )
            ad = variant.format("AD") if "AD" in variant.FORMAT else None
            af = variant.format("AF") if "AF" in variant.FORMAT else None
            # Allele indices per sample (-1 = no call), never cyvcf2's gt_types codes:
            # with gts012 those are 0 hom-ref, 1 het, 2 hom-alt, 3 no call, and they
            # cannot tell which ALT of a multi-allelic record a sample carries.
            alleles = _allele_indices(variant, len(samples))
            for k, alt in enumerate(variant.ALT):
                chosen = _pick(entries, alt, canonical)
                if chosen is None:
                    issues.append(
                        RowIssue(str(path), None, f"{tag} (record {record_no})",
                                 f"a {tag} annotation for allele {alt}",
                                 f"none at {variant.CHROM}:{variant.POS}", "dropped")
                    )  # fmt: skip
                    continue
                consequence = chosen["consequence"].split("&")
                vc = (
                    "Nonsense_Mutation" if TRUNCATING_SO & set(consequence)
                    else "Silent" if set(consequence) <= SILENT_SO else ""
                )  # fmt: skip
                base = {
                    "gene": chosen["gene"] or None,
                    "protein_raw": chosen["hgvsp"] or None,
                    "variant_classification": vc,
                    "transcript": chosen["transcript"],
                    "source_row": record_no - 1,
                    "locus": f"{variant.CHROM}:{variant.POS}{variant.REF}>{alt}",
                }
                if not samples:
                    vaf = variant.INFO.get("TVAF") or variant.INFO.get("AF")
                    rows.append({**base, "sample_id": label, "alt_count": np.nan,
                                 "ref_count": np.nan, "vaf": _first(vaf, k)})  # fmt: skip
                    continue
                if not _decidable(alleles, ad, k + 1):
                    # No GT and no AD (Strelka writes AU/CU/GU/TU): who carries the
                    # allele is unknown; say so instead of finding no carrier.
                    issues.append(
                        RowIssue(str(path), chrom_line + record_no if chrom_line else None,
                                 f"FORMAT (record {record_no})",
                                 "a GT or AD field telling which samples carry the allele",
                                 f"{':'.join(variant.FORMAT)} at {variant.CHROM}:{variant.POS}"
                                 f"{variant.REF}>{alt}", "dropped (carriers unknown)")
                    )  # fmt: skip
                    continue
                for s, sample in enumerate(samples):
                    alt_n = ref_n = np.nan
                    if ad is not None and ad.shape[1] > k + 1:
                        ref_n, alt_n = float(ad[s, 0]), float(ad[s, k + 1])
                        ref_n = np.nan if ref_n < 0 else ref_n
                        alt_n = np.nan if alt_n < 0 else alt_n
                    if not _carries(alleles[s], k + 1, alt_n):
                        continue
                    vaf = np.nan
                    if af is not None and af.shape[1] > k and not np.isnan(af[s, k]):
                        vaf = float(af[s, k])
                    elif np.isfinite(alt_n) and np.isfinite(ref_n) and alt_n + ref_n > 0:
                        vaf = alt_n / (alt_n + ref_n)
                    elif len(samples) == 1:
                        vaf = _first(variant.INFO.get("TVAF"), k)
                    rows.append({**base, "sample_id": sample, "alt_count": alt_n,
                                 "ref_count": ref_n, "vaf": vaf})  # fmt: skip
    except InputError:
        raise
    except Exception as exc:  # cyvcf2 raises bare Exception on malformed records
        raise InputError(
            f"cannot parse VCF record {record_no + 1}: {_plain(exc)}",
            location=Location(
                file=path,
                line=chrom_line + record_no + 1 if chrom_line else None,
                row=record_no + 1,
            ),
            expected="a valid VCF record (8 fixed columns, FORMAT values matching FORMAT keys)",
            found="a record htslib could not parse (truncated or malformed)",
        ) from None
    columns = ["sample_id", "gene", "protein_raw", "variant_classification", "alt_count",
               "ref_count", "vaf", "transcript", "source_row", "locus"]  # fmt: skip
    out = pd.DataFrame(rows, columns=columns)
    out["input"] = label
    vaf = out["vaf"].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        impossible = np.isinf(vaf) | (vaf < 0) | (vaf > 1)
    for i in np.flatnonzero(impossible):  # only impossible values are visited
        issues.append(
            RowIssue(str(path), None, f"AF/TVAF ({out['locus'].iloc[i]}, {out['sample_id'].iloc[i]})",
                     "an allele fraction in 0-1", f"{vaf[i]:g}", "kept, allele fraction missing")
        )  # fmt: skip
    out.loc[impossible, "vaf"] = np.nan
    table = out[["locus", "sample_id", "gene", "protein_raw", "transcript"]].rename(
        columns={"protein_raw": "HGVSp"}
    )
    out["source_row"] = np.arange(len(out), dtype=np.int64)
    from trkres.genomics.io.maf import SILENT, TRUNCATING

    alterations = finish_mutations(
        out.drop(columns=["locus"]), knowledge, None, {}, issues, TRUNCATING, SILENT
    )
    return ParsedInput(
        name=label, path=path, format="vcf", table=pa.Table.from_pandas(table, preserve_index=False),
        alterations=conform(alterations), issues=issues, rows_in=len(table) + len(issues),
        header_samples={s: (chrom_line, f"sample column {k}")
                        for k, s in enumerate(samples, start=10)},
    )  # fmt: skip


def _allele_indices(variant: Any, n_samples: int) -> np.ndarray:
    """Called allele indices, one row per sample (``-1`` for a missing allele, ``./.``)."""
    if not n_samples:
        return np.zeros((0, 0), dtype=np.int64)
    if "GT" not in variant.FORMAT:
        return np.full((n_samples, 1), -1, dtype=np.int64)
    array = np.asarray(variant.genotype.array(), dtype=np.int64)
    return array[:, :-1] if array.shape[1] > 1 else array  # the last column is the phasing


def _decidable(called: np.ndarray, ad: np.ndarray | None, allele: int) -> bool:
    """Whether any sample's genotype or allele depth can say if it carries ``allele``."""
    if bool((called >= 0).any()):
        return True
    if ad is None or ad.shape[1] <= allele:
        return False
    return bool((ad[:, allele] >= 0).any())


def _carries(called: np.ndarray, allele: int, alt_reads: float) -> bool:
    """Whether a sample carries ALT allele number ``allele`` (1-based).

    A genotype with at least one called allele decides (``0/1``, ``1/1``, ``./1``,
    ``1/2`` carry allele 1; ``0/0``, ``0/2`` do not). Only a genotype without any
    called allele (``./.`` or no GT) falls back to the allele depth: ALT reads > 0.
    """
    has_call = bool((called >= 0).any())
    if has_call:
        return bool((called == allele).any())
    return bool(np.isfinite(alt_reads) and alt_reads > 0)


def _check_sample_names(path: Path) -> int | None:
    """Check a text VCF's ``#CHROM`` line and the shape of every record.

    Refuses, by line and column: duplicate sample names (htslib says only
    "cannot parse VCF header"), sample names that are not UTF-8 (cyvcf2
    raised UnicodeDecodeError), and records whose column count is not the
    header's (htslib drops a truncated last record with a line on stderr).
    Returns the line of ``#CHROM`` (records follow it), ``None`` for BCF and
    unreadable files, which are left to cyvcf2.
    """
    try:
        with path.open("rb") as fh:
            magic = fh.read(2)
        opener = gzip.open if magic == b"\x1f\x8b" else open
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error):
        return None  # unreadable here: cyvcf2 reports it
    if raw.startswith(b"BCF"):
        return None
    pos, line_no = 0, 0
    while pos < len(raw):
        end = raw.find(b"\n", pos)
        end = len(raw) if end < 0 else end
        line_no += 1
        line = raw[pos:end].rstrip(b"\r")
        if line.startswith(b"#CHROM"):
            n_fields = _check_names(path, line, line_no)
            _check_record_shapes(path, raw[end + 1 :], line_no, n_fields)
            return line_no
        if not line.startswith(b"#"):
            return None
        pos = end + 1
    return None


def _check_names(path: Path, line: bytes, line_no: int) -> int:
    """Sample names unique and UTF-8; returns the number of header columns."""
    names = line.split(b"\t")
    seen: dict[str, int] = {}
    for col, raw_name in enumerate(names[9:], start=10):
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(
                "VCF sample name is not UTF-8 text",
                location=Location(file=path, line=line_no, column=col),
                expected="UTF-8 sample names (re-save the VCF as UTF-8)",
                found=raw_name.decode("ascii", "backslashreplace")[:80],
            ) from None
        if name in seen:
            raise InputError(
                f"duplicate sample name '{name}' in the VCF header",
                location=Location(file=path, line=line_no, column=col),
                expected="unique sample names after FORMAT",
                found=f"'{name}' in columns {seen[name]} and {col}",
            )
        seen[name] = col
    return len(names)


def _check_record_shapes(path: Path, body: bytes, chrom_line: int, n_fields: int) -> None:
    """Every non-blank record line has the header's tab-separated column count."""
    buf = np.frombuffer(body, dtype=np.uint8)
    if not len(buf):
        return
    ends = np.flatnonzero(buf == 10)
    if buf[-1] != 10:
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    has_cr = (lengths > 0) & (buf[np.maximum(ends - 1, 0)] == 13)
    blank = (lengths - has_cr) <= 0
    tabs = np.add.reduceat((buf == 9).astype(np.int64), np.minimum(starts, len(buf) - 1))
    tabs = np.where(lengths > 0, tabs, 0)
    bad = np.flatnonzero(~blank & (tabs + 1 != n_fields))
    if len(bad):
        k = int(bad[0])
        raise InputError(
            "VCF record has the wrong number of columns (truncated or malformed)",
            location=Location(file=path, line=chrom_line + 1 + k),
            expected=f"{n_fields} tab-separated columns, as the #CHROM line "
            f"({n_fields - 9 if n_fields > 9 else 0} sample(s))",
            found=f"{int(tabs[k]) + 1} columns"
            + (f" ({len(bad)} such record lines)" if len(bad) > 1 else ""),
        )


def _plain(exc: BaseException) -> str:
    """An exception's message without reprs of bytes or numpy scalars."""
    text = str(exc).strip() or type(exc).__name__
    return text.encode("ascii", "backslashreplace").decode("ascii")[:200]


def _first(value: Any, k: int = 0) -> float:
    """A number from an INFO value: the ``k``-th (0-based ALT allele) of a per-allele
    list (``Number=A``), else the single value."""
    if value is None:
        return float("nan")
    if isinstance(value, tuple | list):
        value = value[k] if len(value) > k else None
    try:
        return float(value) if value is not None else float("nan")
    except (TypeError, ValueError):
        return float("nan")
