"""Reading Sanger traces (ABIF ``.ab1``/``.abi``, Staden SCF ``.scf``) and reference
sequences (FASTA, GenBank).

A :class:`Trace` holds what the comparison needs: the four analysed channels (DATA9–12,
reordered to A, C, G, T from the file's ``FWO_`` base order), the base calls (``PBAS2``),
the peak location of each call in samples (``PLOC2``) and the Phred qualities (``PCON2``).
Files are parsed by Biopython (``Bio.SeqIO.read(path, "abi")``, imported on first read);
anything it cannot read, a truncated file, or an ABIF file without the tags above is an
:class:`~trkres.errors.InputError` naming the file, what was expected and what was found.

SCF traces (Staden's Standard Chromatogram Format, versions 1-3; what Staden, Chromas
and io_lib's ``convert_trace`` write): Biopython's ``SeqIO`` has no SCF reader, and no
maintained Python library reads them, so :func:`scf_trace_from_bytes` decodes the format
as its specification gives it (J. Bonfield, "SCF - Standard Chromatogram Format", Staden
package manual; io_lib's ``read_scf.c`` is the reference implementation): a 128-byte
big-endian header, the four channels in A, C, G, T order (version 3: channel after
channel, each stored as second differences; versions 1-2: interleaved, as they are), then
the bases (peak index, the four base probabilities, the call). The test suite checks it
against ``convert_trace``'s SCF of real ABIF traces: the same channels, calls and peaks.
"""

from __future__ import annotations

import importlib
import io
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trkres.errors import InputError, Location

__all__ = [
    "BASES",
    "Reference",
    "Trace",
    "read_reference",
    "read_trace",
    "scf_trace_from_bytes",
    "trace_from_bytes",
]

#: Channel order of :attr:`Trace.channels`.
BASES = "ACGT"
_DATA_TAGS = ("DATA9", "DATA10", "DATA11", "DATA12")
#: Largest trace file read (bytes): real ABIF files are < 1 MB.
MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class Trace:
    """One chromatogram.

    ``channels``: float array (4, n_samples), analysed signal (RFU) in A, C, G, T order;
    ``bases``: the base calls (upper case, IUPAC letters kept); ``peaks``: the sample index
    of each call (int, same length as ``bases``); ``quality``: Phred quality of each call
    (all ``-1`` when the file has none); ``name``: the file name (or sample name).
    """

    name: str
    bases: str
    peaks: np.ndarray
    quality: np.ndarray
    channels: np.ndarray
    source: str = ""
    sample: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.bases)

    @property
    def has_quality(self) -> bool:
        """Whether the file carried base qualities (PCON2)."""
        return bool(len(self.quality)) and bool((self.quality >= 0).all())


@dataclass(frozen=True)
class Reference:
    """A reference sequence, with the coding frame when a GenBank CDS gave one.

    ``cds``: 0-based reference positions of the CDS in coding order (complemented when
    ``cds_strand`` is -1), or ``None``; ``gene``: the CDS's ``/gene`` qualifier.
    """

    name: str
    sequence: str
    cds: tuple[int, ...] | None = None
    cds_strand: int = 1
    gene: str | None = None
    codon_offset: int = 0  # bases of the CDS before its first complete codon (/codon_start - 1)
    #: The CDS used (its /protein_id, else /product, else its location) and the other CDS
    #: features of the record with a different frame (a RefSeqGene record's other
    #: transcripts: NTRK1's isoforms number the same residue differently).
    cds_label: str = ""
    other_cds: tuple[str, ...] = ()


def _seqio() -> Any:
    """Biopython's ``Bio.SeqIO``, imported on first use (typed ``Any``: Biopython's
    functions carry no annotations, whatever its version)."""
    return importlib.import_module("Bio.SeqIO")


def _bad(path: str, message: str, expected: str, found: str) -> InputError:
    return InputError(message, location=Location(file=path), expected=expected, found=found)


def _read_bytes(path: str | os.PathLike[str], what: str) -> tuple[str, bytes]:
    p = Path(os.fspath(path))
    name = str(p)
    try:  # a name the system refuses (too long, a NUL byte) is no file either
        exists, is_dir = p.exists(), p.is_dir()
        size = p.stat().st_size if exists else 0
    except (OSError, ValueError) as exc:
        raise _bad(name[:200], f"not a usable {what} file path", f"a {what} file",
                   str(exc)[:200]) from None  # fmt: skip
    if not exists:
        raise _bad(name, f"no such {what} file", f"an existing {what} file", "nothing at that path")
    if is_dir:
        raise _bad(name, f"a folder, not a {what} file", f"a {what} file", "a folder")
    if size > MAX_BYTES:
        raise _bad(name, f"{what} file too large", f"at most {MAX_BYTES} bytes",
                   f"{size} bytes")  # fmt: skip
    try:
        return name, p.read_bytes()
    except OSError as exc:
        raise _bad(name, f"cannot read the {what} file", "a readable file", str(exc)) from None


def read_trace(path: str | os.PathLike[str]) -> Trace:
    """The chromatogram in an ABIF (``.ab1``, ``.abi``) or SCF (``.scf``) file, told apart
    by their first bytes. Raises :class:`InputError` for anything not a complete trace."""
    name, data = _read_bytes(path, "trace")
    return trace_from_bytes(data, name)


def trace_from_bytes(data: bytes, name: str = "<bytes>") -> Trace:
    """A :class:`Trace` from the bytes of an ABIF or SCF file (``name`` appears in errors)."""
    if not isinstance(data, (bytes, bytearray)):
        raise InputError("not trace bytes", expected="bytes of an ABIF or SCF file",
                         found=type(data).__name__)  # fmt: skip
    if data[:4] == _SCF_MAGIC:
        return scf_trace_from_bytes(data, name)
    if len(data) < 34 or data[:4] != b"ABIF":
        expected = "a file starting with 'ABIF' (an .ab1 chromatogram) or '.scf' (SCF)"
        what = "not an SCF trace" if name.lower().endswith(".scf") else "not an ABIF trace"
        raise _bad(name, what, expected, f"{len(data)} bytes starting {bytes(data[:8])!r}")
    try:
        seqio = _seqio()
        record = seqio.read(io.BytesIO(bytes(data)), "abi")
        raw = dict(record.annotations.get("abif_raw", {}))
    except Exception as exc:  # Biopython raises ValueError, struct.error, AssertionError ...
        raise _bad(name, "unreadable or truncated ABIF trace", "a complete ABIF file",
                   f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None  # fmt: skip
    missing = [t for t in (*_DATA_TAGS, "PBAS2", "PLOC2") if t not in raw]
    if missing:
        found = "an ABIF file without " + ", ".join(missing)
        if "PBAS1" not in raw and "PBAS2" not in raw:
            found += " (no base calls: a fragment-analysis .fsa file or an unanalysed run?)"
        raise _bad(name, "ABIF file without an analysed trace",
                   "analysed channels DATA9-12, base calls PBAS2 and peak locations PLOC2", found)  # fmt: skip
    order = raw.get("FWO_1", b"GATC")
    order_text = order.decode("ascii", "replace") if isinstance(order, bytes) else str(order)
    if sorted(order_text.upper()) != sorted(BASES):
        raise _bad(name, "bad base order (FWO_)", "the four bases, e.g. GATC", repr(order_text))
    channels_raw = [_numbers(raw[tag], tag, name).astype(float) for tag in _DATA_TAGS]
    n_samples = min(len(c) for c in channels_raw)
    if n_samples < 2 or len({len(c) for c in channels_raw}) != 1:
        raise _bad(name, "channels of unequal or no length", "four channels of equal length",
                   f"lengths {[len(c) for c in channels_raw]}")  # fmt: skip
    by_base = dict(zip(order_text.upper(), channels_raw, strict=True))
    channels = np.vstack([by_base[b] for b in BASES])
    pbas = raw["PBAS2"]
    if not isinstance(pbas, bytes):
        raise _bad(name, "bad base calls (PBAS2)", "a string of base letters",
                   type(pbas).__name__)  # fmt: skip
    bases = pbas.decode("ascii", "replace").upper()
    peaks = _numbers(raw["PLOC2"], "PLOC2", name)
    if len(bases) == 0:
        raise _bad(name, "trace without base calls", "at least one base call", "PBAS2 is empty")
    if len(peaks) != len(bases):
        raise _bad(name, "peak locations do not match the base calls",
                   "one PLOC2 entry per PBAS2 base", f"{len(peaks)} locations, {len(bases)} bases")  # fmt: skip
    if peaks.min() < 0 or peaks.max() >= n_samples:
        raise _bad(name, "peak locations outside the trace", f"sample indices 0..{n_samples - 1}",
                   f"{int(peaks.min())}..{int(peaks.max())}")  # fmt: skip
    pcon = raw.get("PCON2")
    notes: list[str] = []
    if isinstance(pcon, (bytes, str)) and len(pcon) == len(bases):
        quality = np.frombuffer(pcon if isinstance(pcon, bytes) else pcon.encode("latin-1"),
                                dtype=np.uint8).astype(np.int64)  # fmt: skip
        if not quality.any():
            quality = np.full(len(bases), -1, dtype=np.int64)
            notes.append("every base quality is 0 (a basecaller that writes none): the ends "
                         "are not quality-trimmed")  # fmt: skip
    else:
        quality = np.full(len(bases), -1, dtype=np.int64)
        notes.append("no base qualities (PCON2): the ends are not quality-trimmed")
    sample = raw.get("SMPL1", b"")
    sample_text = sample.decode("latin-1") if isinstance(sample, bytes) else str(sample or "")
    short = name.replace("\\", "/").rsplit("/", 1)[-1]
    return Trace(short, bases, peaks, quality, channels, source=name, sample=sample_text,
                 notes=tuple(notes))  # fmt: skip


_SCF_MAGIC = b".scf"
#: The SCF header's named fields (big-endian; 18 spare words follow, to 128 bytes).
_SCF_HEADER = struct.Struct(">4s8I4s4I")
_SCF_HEADER_BYTES = 128


def scf_trace_from_bytes(data: bytes, name: str = "<bytes>") -> Trace:
    """A :class:`Trace` from the bytes of an SCF file (versions 1.00-3.xx).

    Channels come out in A, C, G, T order as stored; version 3 samples are undone from
    their second differences (two running sums, in the samples' own unsigned width, as
    io_lib does). Each call's quality is the probability the file gives its own base
    (SCF's ``prob_A``..``prob_T``, Phred-scaled by the writers that fill them); calls
    other than A/C/G/T get the largest of the four. A file whose probabilities are all 0
    has no qualities (its ends are not quality-trimmed). Staden's ``-`` (an unknown base)
    is read as ``N``."""
    data = bytes(data)
    if len(data) < _SCF_HEADER_BYTES:
        raise _bad(name, "truncated SCF trace", f"a {_SCF_HEADER_BYTES}-byte SCF header",
                   f"{len(data)} bytes")  # fmt: skip
    (_magic, n_samples, samples_at, n_bases, _lclip, _rclip, bases_at, comments_size,
     comments_at, version_raw, sample_size, _code_set, _psize, _pat) = _SCF_HEADER.unpack_from(data)  # fmt: skip
    version_text = version_raw.decode("latin-1")
    try:
        version = float(version_text)
    except ValueError:
        version = float("nan")
    if not 1.0 <= version < 4.0:
        raise _bad(name, "unknown SCF version", "version 1.00 to 3.xx",
                   repr(version_text))  # fmt: skip
    if version < 2.0:  # version 1 files predate the field: 8-bit samples
        sample_size = 1
    if sample_size not in (1, 2):
        raise _bad(name, "bad SCF sample size", "1 or 2 bytes per sample",
                   str(sample_size))  # fmt: skip
    if n_samples < 2 or n_bases < 1:
        raise _bad(name, "SCF trace without a chromatogram or base calls",
                   "at least 2 samples and 1 base", f"{n_samples} samples, {n_bases} bases")  # fmt: skip
    samples_end = samples_at + 4 * n_samples * sample_size
    bases_end = bases_at + 12 * n_bases
    for what, start, end in (("samples", samples_at, samples_end), ("bases", bases_at, bases_end)):
        if start < _SCF_HEADER_BYTES or end > len(data):
            raise _bad(name, "truncated SCF trace",
                       f"the {what} the header gives (bytes {start}..{end})",
                       f"a file of {len(data)} bytes")  # fmt: skip
    width = np.dtype(">u1" if sample_size == 1 else ">u2")
    raw = np.frombuffer(data, dtype=width, count=4 * n_samples, offset=samples_at)
    if version >= 3.0:
        unsigned = np.uint8 if sample_size == 1 else np.uint16
        # Second differences, undone in the samples' own width (wrapping as io_lib's does).
        stored = raw.reshape(4, n_samples).astype(unsigned)
        channels = np.cumsum(np.cumsum(stored, axis=1, dtype=unsigned), axis=1, dtype=unsigned)
    else:
        channels = raw.reshape(n_samples, 4).T
    channels = channels.astype(float)
    if version >= 3.0:
        peaks = np.frombuffer(data, dtype=">u4", count=n_bases, offset=bases_at).astype(np.int64)
        at = bases_at + 4 * n_bases
        probs = np.frombuffer(data, dtype=np.uint8, count=4 * n_bases, offset=at).reshape(
            4, n_bases
        )
        calls = data[at + 4 * n_bases : at + 5 * n_bases]
    else:
        record = np.dtype([("peak", ">u4"), ("prob", "u1", 4), ("base", "S1"), ("spare", "u1", 3)])
        rows = np.frombuffer(data, dtype=record, count=n_bases, offset=bases_at)
        peaks = rows["peak"].astype(np.int64)
        probs = rows["prob"].T
        calls = rows["base"].tobytes()
    # Staden writes an unknown base as '-' in SCF (io_lib turns ABIF's N into '-').
    bases = calls.decode("latin-1").upper().replace("-", "N")
    if peaks.max() >= n_samples:
        raise _bad(name, "peak locations outside the trace", f"sample indices 0..{n_samples - 1}",
                   f"{int(peaks.min())}..{int(peaks.max())}")  # fmt: skip
    own = np.array([BASES.find(b) for b in bases])
    quality = np.where(own >= 0, probs[np.maximum(own, 0), np.arange(n_bases)], probs.max(axis=0))
    quality = quality.astype(np.int64)
    notes: list[str] = []
    if not quality.any():
        quality = np.full(n_bases, -1, dtype=np.int64)
        notes.append("no base qualities (every SCF base probability is 0): the ends are not "
                     "quality-trimmed")  # fmt: skip
    comments = b""
    if comments_size and comments_at >= _SCF_HEADER_BYTES:
        comments = data[comments_at : comments_at + comments_size]
    sample = ""
    for line in comments.decode("latin-1").replace("\0", "\n").splitlines():
        key, _, value = line.partition("=")
        if key.strip().upper() == "NAME" and value.strip():
            sample = value.strip()
            break
    short = name.replace("\\", "/").rsplit("/", 1)[-1]
    return Trace(short, bases, peaks, quality, channels, source=name, sample=sample,
                 notes=tuple(notes))  # fmt: skip


def _numbers(value: object, tag: str, name: str) -> np.ndarray:
    """An ABIF numeric array (a tuple, or one number) as int64; anything else (a tag whose
    element type was changed, which Biopython returns as ``None`` or bytes) an InputError."""
    items = value if isinstance(value, tuple) else (value,)
    if not items or not all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        raise _bad(name, f"bad {tag} tag", "integers (ABIF element type short)",
                   f"{type(value).__name__}")  # fmt: skip
    return np.asarray(items, dtype=np.int64)


_DNA = set("ACGTNRYSWKMBDHV")


def read_reference(path: str | os.PathLike[str]) -> Reference:
    """A reference sequence from FASTA (``>`` first) or GenBank (``LOCUS`` first); the first
    CDS feature of a GenBank record gives the coding frame and gene. Raises :class:`InputError`."""
    name, data = _read_bytes(path, "reference")
    text = data.decode("utf-8-sig", "replace")  # a byte-order mark (Windows editors) is no text
    head = text.lstrip()[:5].upper()
    fmt = "genbank" if head.startswith("LOCUS") else "fasta" if head.startswith(">") else None
    if fmt is None:
        raise _bad(name, "not a FASTA or GenBank reference",
                   "a FASTA ('>' first) or GenBank ('LOCUS' first) file", repr(text[:40]))  # fmt: skip
    try:
        records = list(_seqio().parse(io.StringIO(text), fmt))
    except Exception as exc:
        raise _bad(name, f"unreadable {fmt} reference", f"a valid {fmt} file",
                   f"{type(exc).__name__}: {exc}") from None  # fmt: skip
    if len(records) != 1:
        raise _bad(name, "a reference must hold one sequence", "one record", f"{len(records)}")
    record = records[0]
    try:
        seq = str(record.seq).upper()
    except Exception as exc:  # an undefined sequence (GenBank without ORIGIN)
        raise _bad(name, "reference without a sequence", "bases (GenBank ORIGIN / FASTA lines)",
                   str(exc)) from None  # fmt: skip
    bad = sorted(set(seq) - _DNA)
    if not seq or bad:
        raise _bad(name, "not a DNA sequence", "bases A, C, G, T (N and IUPAC codes allowed)",
                   f"characters {''.join(bad[:10])}" if bad else "an empty sequence")  # fmt: skip
    cds: tuple[int, ...] | None = None
    strand, gene, offset = 1, None, 0
    features = [f for f in getattr(record, "features", [])
                if f.type == "CDS" and f.location is not None]  # fmt: skip

    def label(feature: Any) -> str:
        quals = feature.qualifiers
        return str((quals.get("protein_id") or quals.get("product") or [feature.location])[0])

    for feature in features:
        cds = tuple(int(p) for p in feature.location)
        if cds and max(cds) >= len(seq):
            raise _bad(name, "the CDS runs past the end of the sequence",
                       f"CDS positions within the {len(seq)} bases of the record",
                       f"CDS {feature.location} (last base {max(cds) + 1})")  # fmt: skip
        strand = -1 if feature.location.strand == -1 else 1
        quals = feature.qualifiers
        gene = (quals.get("gene") or [None])[0]
        start_text = str((quals.get("codon_start") or ["1"])[0]).strip()
        if start_text not in ("1", "2", "3"):  # the frame is not to be guessed
            raise _bad(name, "bad /codon_start of the CDS", "/codon_start=1, 2 or 3 (the "
                       "first base of the first complete codon)", f"/codon_start={start_text}")  # fmt: skip
        offset = int(start_text) - 1
        break
    used = features[0] if features else None
    others = tuple(label(f) for f in features[1:]
                   if used is not None and (str(f.location) != str(used.location) or
                   f.qualifiers.get("codon_start") != used.qualifiers.get("codon_start")))  # fmt: skip
    return Reference(record.id or Path(name).stem, seq, cds, strand, gene, offset,
                     label(used) if used is not None else "", others)  # fmt: skip
