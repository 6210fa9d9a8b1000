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

THREE_TO_ONE = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E",
    "Gly": "G", "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F",
    "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Ter": "*",
    "Sec": "U", "Pyl": "O", "Xaa": "X",
}  # fmt: skip
_AA3 = "|".join(THREE_TO_ONE)
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
        name = re.sub(_AA3, lambda x: THREE_TO_ONE[x.group(0)], s)
        return (name, ref, pos, "", "inframe_indel")
    if _SPLICE.search(s):
        digits = re.search(r"\d+", s)
        pos = int(digits.group(0)) if digits else -1
        return (s if "splice" in s.lower() else f"{s}_splice", "", pos, "", "splice")
    return ("", "", -1, "", "other")


_AA1 = pa.array(list("ACDEFGHIKLMNPQRSTVWY*"))
_ALT1 = pa.array([*"ACDEFGHIKLMNPQRSTVWY*", "=", "X"])
_FAST_FS = r"^(?P<ref>[A-Z*])(?P<pos>[0-9]+)[A-Z*]?fs"


def _clean(arr: pa.Array) -> pa.Array:
    """Strip ``ENSP…:`` prefixes, ``p.`` and parentheses (vectorised)."""
    if pc.any(pc.match_substring(arr, ":")).as_py():
        arr = pc.replace_substring_regex(arr, pattern=r"^[^:]*:", replacement="")
    arr = pc.utf8_trim_whitespace(arr)
    arr = pc.if_else(pc.starts_with(arr, "p."), pc.utf8_slice_codeunits(arr, 2), arr)
    if pc.any(pc.starts_with(arr, "(")).as_py():
        arr = pc.replace_substring_regex(arr, pattern=r"^\((.*)\)$", replacement=r"\1")
    return arr


def _series(arr: pa.Array, index: pd.Index) -> pd.Series:
    """An arrow array as a pandas Series (text stays arrow-backed, no copy to objects)."""
    out: pd.Series = arr.to_pandas()
    out.index = index
    return out


def _scatter(
    n: int, rows: np.ndarray, values: pa.Array, fill: object, kind: pa.DataType
) -> pa.Array:
    """A length-``n`` array holding ``values`` at ``rows`` and ``fill`` elsewhere."""
    idx = np.zeros(n, dtype=np.int64)
    idx[rows] = np.arange(1, len(rows) + 1)
    small = pa.concat_arrays([pa.array([fill], type=kind), values.cast(kind)])
    return small.take(pa.array(idx))


def parse_protein_changes(values: pd.Series) -> pd.DataFrame:
    """Parse a column of protein changes, vectorised.

    One-letter substitutions (the bulk of any MAF) are split by pyarrow string
    kernels over the whole column; frameshifts by a regex over the rest; the
    remainder (three-letter notation, indels, splice sites) by
    :func:`parse_one` over distinct values. Returns a frame aligned with
    ``values`` with :data:`PARSED_COLUMNS`; ``aa_pos`` is -1 where there is
    no position.
    """
    n = len(values)
    raw = values.array
    if hasattr(raw, "__arrow_array__"):
        arr = pa.array(raw)
    else:
        arr = pa.array(values.astype(object).where(values.notna(), None), type=pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    clean = _clean(arr)
    first = pc.utf8_slice_codeunits(clean, 0, 1)
    last = pc.utf8_slice_codeunits(clean, -1)
    mid = pc.utf8_slice_codeunits(clean, 1, -1)
    # ASCII digits without a leading zero (the scalar parser rewrites "G012D" as G12D).
    ok_arr = pc.fill_null(
        pc.and_kleene(
            pc.and_kleene(pc.is_in(first, value_set=_AA1), pc.is_in(last, value_set=_ALT1)),
            pc.match_substring_regex(mid, r"^[1-9][0-9]*$"),
        ),
        False,
    )
    ok = ok_arr.to_numpy(zero_copy_only=False)
    alt_sub = pc.if_else(pc.equal(last, "X"), "*", last)
    alt_sub = pc.if_else(pc.equal(alt_sub, "="), first, alt_sub)
    silent = pc.equal(alt_sub, first)
    empty = pa.scalar("", pa.string())
    change = pc.if_else(
        ok_arr,
        pc.if_else(silent, pc.binary_join_element_wise(first, mid, "=", ""),
                   pc.binary_join_element_wise(first, mid, alt_sub, "")),
        empty,
    )  # fmt: skip
    ref = pc.if_else(ok_arr, first, empty)
    alt = pc.if_else(ok_arr, alt_sub, empty)
    kind = pc.if_else(
        ok_arr, pc.if_else(silent, "silent", pc.if_else(pc.equal(alt_sub, "*"), "nonsense", "missense")),
        pa.scalar("other"),
    )  # fmt: skip
    pos = pc.if_else(ok_arr, pc.cast(pc.if_else(ok_arr, mid, "0"), pa.int64()), -1)
    present = pc.fill_null(pc.greater(pc.utf8_length(clean), 0), False).to_numpy(
        zero_copy_only=False
    )
    rest = np.flatnonzero(~ok & present)
    if len(rest):
        # Frameshifts by regex, the rest by the scalar parser, both scattered back.
        sub = clean.take(pa.array(rest))
        fs = pc.extract_regex(sub, _FAST_FS)
        is_fs = pc.fill_null(pc.is_valid(fs), False).to_numpy(zero_copy_only=False)
        fill_ref = pc.fill_null(pc.struct_field(fs, "ref"), "")
        fill_pos = pc.fill_null(pc.cast(pc.struct_field(fs, "pos"), pa.int64()), -1)
        r_change = pc.if_else(
            is_fs,
            pc.binary_join_element_wise(fill_ref, pc.cast(fill_pos, pa.string()), "fs", ""),
            "",
        )
        r_ref, r_pos = pc.if_else(is_fs, fill_ref, ""), pc.if_else(is_fs, fill_pos, -1)
        r_alt = pa.array([""] * len(rest), pa.string())
        r_kind = pc.if_else(is_fs, "frameshift", "other")
        slow = np.flatnonzero(~is_fs)
        if len(slow):
            codes, uniques = pd.factorize(values.iloc[rest[slow]])
            parsed = [parse_one(u) for u in uniques]
            take = pa.array(codes)

            def col(i: int, kind: pa.DataType) -> pa.Array:
                return pa.array([p[i] for p in parsed], kind).take(take)

            r_change = _patch(r_change, slow, col(0, pa.string()))
            r_ref = _patch(r_ref, slow, col(1, pa.string()))
            r_pos = _patch(r_pos, slow, col(2, pa.int64()))
            r_alt = _patch(r_alt, slow, col(3, pa.string()))
            r_kind = _patch(r_kind, slow, col(4, pa.string()))
        mask = pa.array(~ok & present)
        change = pc.if_else(mask, _scatter(n, rest, r_change, "", pa.string()), change)
        ref = pc.if_else(mask, _scatter(n, rest, r_ref, "", pa.string()), ref)
        pos = pc.if_else(mask, _scatter(n, rest, r_pos, -1, pa.int64()), pos)
        alt = pc.if_else(mask, _scatter(n, rest, r_alt, "", pa.string()), alt)
        kind = pc.if_else(mask, _scatter(n, rest, r_kind, "other", pa.string()), kind)
    index = values.index
    return pd.DataFrame(
        {
            "protein_change": _series(change, index),
            "aa_ref": _series(ref, index),
            "aa_pos": pd.Series(pos.to_numpy(zero_copy_only=False).astype(np.int64), index=index),
            "aa_alt": _series(alt, index),
            "change_type": _series(kind, index),
        }
    )


def _patch(base: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """``base`` with ``values`` written at ``rows``."""
    mask = np.zeros(len(base), dtype=bool)
    mask[rows] = True
    return pc.if_else(pa.array(mask), _scatter(len(base), rows, values, None, base.type), base)
