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

CHANGE_TYPES = ("missense", "nonsense", "silent", "frameshift", "inframe_indel", "splice", "other")

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


def parse_protein_changes(values: pd.Series) -> pd.DataFrame:
    """Parse a column of protein changes (vectorised over distinct values).

    Returns a frame aligned with ``values`` with :data:`PARSED_COLUMNS`;
    ``aa_pos`` is -1 where there is no position.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = [parse_one(u) for u in uniques]
    parsed.append(("", "", -1, "", "other"))  # the NA sentinel (-1) maps to the last row
    table = pd.DataFrame(parsed, columns=PARSED_COLUMNS)
    take = np.where(codes < 0, len(parsed) - 1, codes)
    out = table.iloc[take].reset_index(drop=True)
    out.index = values.index
    out["aa_pos"] = out["aa_pos"].astype(np.int64)
    return out
