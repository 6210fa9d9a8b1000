"""Protein changes in every notation seen in the wild, normalised to one form.

``p.G595R``, ``p.Gly595Arg``, ``G595R``, ``ENSP00000…:p.(Gly595Arg)`` all
become ``G595R`` with its reference residue, position, alternate residue and a
change type. Parsing runs on the distinct strings only (a million-row MAF has a
few thousand), then is broadcast back, so it costs one ``factorize``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from trkres.genomics.model import from_codes

THREE_TO_ONE = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*",
    "Sec": "U", "Pyl": "O", "Xaa": "X",
}  # fmt: skip
_AA3 = "|".join(THREE_TO_ONE)
_AA3_RE = re.compile(_AA3)
_AA = rf"(?:{_AA3}|[A-Z*])"

_SUBST = re.compile(rf"^(?P<ref>{_AA})(?P<pos>\d+)(?P<alt>{_AA}|=|X)$")
_FS = re.compile(rf"^(?P<ref>{_AA})(?P<pos>\d+)(?:{_AA})?fs")
_INDEL = re.compile(rf"^(?P<ref>{_AA})(?P<pos>\d+)(?:_{_AA}\d+)?(?:delins|del|ins|dup)")
_SPLICE = re.compile(r"(?:^[A-Z*]?\d+_?splice$|splice)", re.IGNORECASE)

PARSED_COLUMNS = ["protein_change", "aa_ref", "aa_pos", "aa_alt", "change_type"]


def _one(aa: str) -> str:
    return THREE_TO_ONE.get(aa, aa)


def parse_one(text: str | None) -> tuple[str, str, int, str, str]:
    """Parse one protein change; returns (normalised, ref, position, alt, type).

    Unparseable or empty text gives ``("", "", -1, "", "other")`` — never an
    exception — so callers can report the row.
    """
    if text is None:
        return ("", "", -1, "", "other")
    s = str(text).strip()
    if ":" in s:
        s = s.rsplit(":", 1)[1]
    if s.startswith("p."):
        s = s[2:]
    s = s.strip("()")
    if not s or s in {"?", "=", "0"}:
        return ("", "", -1, "", "other")
    m = _SUBST.match(s)
    if m:
        ref, pos, alt = _one(m["ref"]), int(m["pos"]), m["alt"]
        alt = "*" if alt == "X" else _one(alt)
        if alt == "=" or alt == ref:
            return (f"{ref}{pos}=", ref, pos, ref, "silent")
        kind = "nonsense" if alt == "*" else "missense"
        return (f"{ref}{pos}{alt}", ref, pos, alt, kind)
    m = _FS.match(s)
    if m:
        ref, pos = _one(m["ref"]), int(m["pos"])
        return (f"{ref}{pos}fs", ref, pos, "", "frameshift")
    m = _INDEL.match(s)
    if m:
        ref, pos = _one(m["ref"]), int(m["pos"])
        # Keep the whole indel, in one-letter code, as its name.
        name = _AA3_RE.sub(lambda x: THREE_TO_ONE[x.group(0)], s)
        return (name, ref, pos, "", "inframe_indel")
    if _SPLICE.search(s):
        digits = re.search(r"\d+", s)
        pos = int(digits.group(0)) if digits else -1
        return (s if "splice" in s.lower() else f"{s}_splice", "", pos, "", "splice")
    return ("", "", -1, "", "other")


_LETTERS = list("ACDEFGHIKLMNPQRSTVWY*")
_STOP, _EQUAL, _X = _LETTERS.index("*"), len(_LETTERS), len(_LETTERS) + 1
#: change_type labels of the fast path (codes 0-3); the slow path may add more.
_KINDS = ["other", "missense", "nonsense", "silent"]
_FAST_FS = r"^(?P<ref>[A-Z*])(?P<pos>[0-9]+)[A-Z*]?fs"
#: One-letter in-frame indels, positions without leading zeros (as :data:`_INDEL` parses them).
_FAST_INDEL = (
    r"^(?P<ref>[A-Z*])(?P<pos>[1-9][0-9]*)(?:_[A-Z*][1-9][0-9]*)?(?:delins|del|ins|dup)[A-Z*]*$"
)
#: Splice sites as MAFs write them (``X123_splice``): the position is the first number.
_FAST_SPLICE = r"^[A-Z*]?(?P<pos>[0-9]+)_splice$"


def _clean(arr: pa.Array) -> pa.Array:
    """Strip ``ENSP…:`` prefixes, ``p.`` and parentheses (vectorised)."""
    if pc.any(pc.match_substring(arr, ":")).as_py():
        arr = pc.replace_substring_regex(arr, pattern=r"^[^:]*:", replacement="")
    arr = pc.utf8_trim_whitespace(arr)
    prefixed = pc.starts_with(arr, "p.")
    if pc.all(prefixed).as_py():  # the usual MAF column: one slice, no selection
        arr = pc.utf8_slice_codeunits(arr, 2)
    else:
        arr = pc.if_else(prefixed, pc.utf8_slice_codeunits(arr, 2), arr)
    if pc.any(pc.starts_with(arr, "(")).as_py():
        arr = pc.replace_substring_regex(arr, pattern=r"^\((.*)\)$", replacement=r"\1")
    return arr


def parse_protein_changes(values: pd.Series) -> pd.DataFrame:
    """Parse a column of protein changes, vectorised.

    One-letter substitutions (the bulk of any MAF) are recognised by pyarrow
    string kernels over the whole column, their residues kept as small integer
    codes (no per-row strings); frameshifts by a regex over the rest; the
    remainder (three-letter notation, indels, splice sites) by
    :func:`parse_one` over distinct values. Returns a frame aligned with
    ``values`` with :data:`PARSED_COLUMNS` (``aa_ref``, ``aa_alt`` and
    ``change_type`` categorical); ``aa_pos`` is -1 where there is no position.
    The answers are :func:`parse_one`'s, value for value.
    """
    n = len(values)
    raw = values.array
    if hasattr(raw, "__arrow_array__"):
        arr = pa.array(raw)
    else:
        arr = pa.array(values.astype(object).where(values.notna(), None), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    clean = _clean(arr)
    last = pc.utf8_slice_codeunits(clean, -1)
    # ASCII digits without a leading zero (the scalar parser rewrites "G012D" as G12D).
    digits = pc.match_substring_regex(pc.utf8_slice_codeunits(clean, 1, -1), r"^[1-9][0-9]*$")
    ref_code, alt_code = _end_codes(clean)
    ok = (ref_code >= 0) & (alt_code >= 0) & pc.fill_null(digits, False).to_numpy(False)
    alt_code = np.where(alt_code == _X, _STOP, np.where(alt_code == _EQUAL, ref_code, alt_code))
    silent = ok & (alt_code == ref_code)
    kind = np.where(ok, np.where(silent, 3, np.where(alt_code == _STOP, 2, 1)), 0)
    pos = np.full(n, -1, dtype=np.int64)
    if ok.any():
        mids = pc.utf8_slice_codeunits(clean.filter(pa.array(ok)), 1, -1)
        pos[ok] = pc.cast(mids, pa.int64()).to_numpy(zero_copy_only=False)
    # The change is the clean text, its last letter rewritten where it was X or
    # the reference ('*' / '='): only those rows are rebuilt.
    change = pc.if_else(pa.array(ok), clean, pa.scalar("", pa.large_string()))
    rewrite = ok & (silent | (pc.fill_null(pc.equal(last, "X"), False).to_numpy(False)))
    if rewrite.any():
        at = pa.array(rewrite)
        tail = np.where(silent[rewrite], "=", "*").astype(object)
        fixed = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(clean.filter(at), 0, -1),
            pa.array(tail, pa.large_string()),
            pa.scalar("", pa.large_string()),
        )
        change = pc.replace_with_mask(change, at, fixed)
    ref_code = np.where(ok, ref_code + 1, 0)  # 0 is '' in the labels below
    alt_code = np.where(ok, alt_code + 1, 0)
    ref_labels = ["", *_LETTERS]
    alt_labels = ["", *_LETTERS]
    kind_labels = list(_KINDS)
    rest = np.flatnonzero(
        ~ok & pc.fill_null(pc.greater(pc.utf8_length(clean), 0), False).to_numpy(False)
    )
    if len(rest):
        # Frameshifts by regex, the rest by the scalar parser on distinct values.
        parsed = _parse_rest(clean.take(pa.array(rest)), values.iloc[rest])
        change = pc.replace_with_mask(
            change, pa.array(_mask(n, rest)), pa.array(parsed[0], pa.large_string())
        )
        for codes, labels, column in ((ref_code, ref_labels, parsed[1]),
                                      (alt_code, alt_labels, parsed[3]),
                                      (kind, kind_labels, parsed[4])):  # fmt: skip
            inverse, extra = pd.factorize(column)  # hashing: no sort of Python strings
            codes[rest] = len(labels) + inverse
            labels.extend(map(str, extra))
        pos[rest] = parsed[2]
    index = values.index
    protein: pd.Series = change.to_pandas()
    protein.index = index
    return pd.DataFrame(
        {
            "protein_change": protein,
            "aa_ref": pd.Series(from_codes(ref_code, ref_labels), index=index),
            "aa_pos": pd.Series(pos, index=index),
            "aa_alt": pd.Series(from_codes(alt_code, alt_labels), index=index),
            "change_type": pd.Series(from_codes(kind, kind_labels), index=index),
        }
    )


#: Byte → position in :data:`_LETTERS` (ref) / letters, '=', 'X' (alt); -1 elsewhere.
_REF_OF_BYTE = np.full(256, -1, dtype=np.int64)
_ALT_OF_BYTE = np.full(256, -1, dtype=np.int64)
for _k, _letter in enumerate(_LETTERS):
    _REF_OF_BYTE[ord(_letter)] = _ALT_OF_BYTE[ord(_letter)] = _k
_ALT_OF_BYTE[ord("=")], _ALT_OF_BYTE[ord("X")] = _EQUAL, _X


def _end_codes(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Codes of each string's first character in :data:`_LETTERS` and of its last
    character in letters, '=', 'X' (-1: none, empty or missing).

    Read straight from the UTF-8 bytes (a hash look-up per row costs ten times
    more): an ASCII character is its byte, and any byte of a multi-byte
    character is above 127, so it maps to -1 as the character would.
    """
    n = len(text)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if not pa.types.is_large_string(text.type):
        text = text.cast(pa.large_string())
    _, offsets_buf, data_buf = text.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[text.offset : text.offset + n + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    )
    starts, ends = offsets[:-1], offsets[1:]
    usable = (ends > starts) & text.is_valid().to_numpy(zero_copy_only=False)
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    first[usable] = data[starts[usable]]
    last[usable] = data[ends[usable] - 1]
    ref = np.where(usable, _REF_OF_BYTE[first], -1)
    alt = np.where(usable, _ALT_OF_BYTE[last], -1)
    return ref, alt


def _mask(n: int, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    return mask


def _parse_rest(
    clean: pa.Array, raw: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse values that are not one-letter substitutions: (change, ref, pos, alt, kind).

    Frameshifts in one-letter form by one regex pass; everything else by
    :func:`parse_one` once per distinct raw value, broadcast back by codes.
    """
    m = len(clean)
    fs = pc.extract_regex(clean, _FAST_FS)
    is_fs = pc.fill_null(pc.is_valid(fs), False).to_numpy(zero_copy_only=False)
    change = np.full(m, "", dtype=object)
    ref = np.full(m, "", dtype=object)
    alt = np.full(m, "", dtype=object)
    kind = np.full(m, "other", dtype=object)
    pos = np.full(m, -1, dtype=np.int64)
    if is_fs.any():
        found = fs.filter(pa.array(is_fs))
        fs_ref = pc.cast(pc.struct_field(found, "ref"), pa.string())
        fs_pos = pc.cast(pc.struct_field(found, "pos"), pa.int64())
        change[is_fs] = pc.binary_join_element_wise(
            fs_ref, pc.cast(fs_pos, pa.string()), "fs", ""
        ).to_numpy(zero_copy_only=False)
        ref[is_fs] = fs_ref.to_numpy(zero_copy_only=False)
        pos[is_fs] = fs_pos.to_numpy(zero_copy_only=False)
        kind[is_fs] = "frameshift"
    # One-letter in-frame indels (A123del, E746_A750delinsQ) and splice sites
    # (X123_splice) by one regex pass each: nothing in them can be three-letter
    # code (which starts upper-case and goes on lower-case), so the name is the text.
    for pattern, labels in ((_FAST_INDEL, "inframe_indel"), (_FAST_SPLICE, "splice")):
        todo = np.flatnonzero(~is_fs & (kind == "other"))
        if not len(todo):
            break
        found = pc.extract_regex(clean.take(pa.array(todo)), pattern)
        hit = pc.fill_null(pc.is_valid(found), False).to_numpy(zero_copy_only=False)
        if not hit.any():
            continue
        at = todo[hit]
        matched = found.filter(pa.array(hit))
        change[at] = clean.take(pa.array(at)).to_numpy(zero_copy_only=False)
        if labels == "inframe_indel":
            ref[at] = pc.struct_field(matched, "ref").to_numpy(zero_copy_only=False)
        pos[at] = pc.cast(pc.struct_field(matched, "pos"), pa.int64()).to_numpy(
            zero_copy_only=False
        )
        kind[at] = labels
    slow = np.flatnonzero(~is_fs & (kind == "other"))
    if len(slow):
        codes, uniques = pd.factorize(raw.iloc[slow])
        answers = list(zip(*(parse_one(u) for u in uniques), strict=True))
        for target, column in ((change, 0), (ref, 1), (alt, 3), (kind, 4)):
            target[slow] = np.asarray(answers[column], dtype=object)[codes]
        pos[slow] = np.asarray(answers[2], dtype=np.int64)[codes]
    return change, ref, pos, alt, kind
