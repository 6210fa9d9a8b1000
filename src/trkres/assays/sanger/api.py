"""The public Sanger API (``tr.sanger``): chromatograms in, mutant fractions and calls out.

Traces are paths to ABIF (``.ab1``/``.abi``) or SCF (``.scf``) files or :class:`Trace` objects from
:func:`read_trace`; references are FASTA/GenBank paths, :class:`Reference` objects or a
plain sequence string. Fractions are unitless (0-1). Bad arguments raise
:class:`~trkres.errors.InputError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trkres.assays.sanger.io import _DNA, Reference, Trace
from trkres.assays.sanger.io import read_trace as _read_trace
from trkres.assays.sanger.options import SangerOptions
from trkres.assays.sanger.run import SangerResult, run_sanger
from trkres.errors import InputError
from trkres.knowledge.loader import knowledge_from
from trkres.options import validate_options

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase

__all__ = ["compare", "read_trace"]

_PATH = (str, os.PathLike)


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a name too long to be a path
        return False


def read_trace(path: str | os.PathLike[str]) -> Trace:
    """The chromatogram in an ABIF or SCF file: ``trace.channels`` (4 × samples, A/C/G/T, RFU),
    ``trace.bases``, ``trace.peaks`` (sample index of each call), ``trace.quality`` (Phred).

    Example::

        trace = tr.sanger.read_trace("clone7_F.ab1")
        trace.bases[:20], trace.channels.shape
    """
    if not isinstance(path, _PATH):
        raise InputError("not a path", expected="the path of an .ab1 or .scf file",
                         found=type(path).__name__)  # fmt: skip
    return _read_trace(path)


def compare(
    sample: str | os.PathLike[str] | Trace,
    *,
    control: str | os.PathLike[str] | Trace | None = None,
    reference: str | os.PathLike[str] | Reference | None = None,
    options: SangerOptions | Mapping[str, Any] | None = None,
    knowledge: KnowledgeBase | Sequence[str | os.PathLike[str]] | None = None,
    **kwargs: Any,
) -> SangerResult:
    """A sample trace against its control trace and/or reference: secondary-peak fractions,
    calls with mutant fraction, 95% CI and limit of detection, codon and protein names.

    Options are :class:`SangerOptions` fields as keywords: ``gene="NTRK1"``,
    ``codon_start=595``, ``codon_position=101``, ``expect="NTRK1 G595R"`` ...
    ``reference`` may also be a sequence string (``"ACGT..."``). ``knowledge``: a loaded
    knowledge base or extra knowledge YAML files (a lab's own facts), as in
    ``tr.genomics.classify``; default the shipped base.

    Example::

        res = tr.sanger.compare("resistant.ab1", control="parental.ab1", gene="NTRK1",
                                codon_start=595, codon_position=101, expect="NTRK1 G595R")
        res["calls"], res["expect"]["answer"][0]
        tr.pl.sanger_chromatogram(res)
    """
    for value, what in ((sample, "sample"), (control, "control")):
        if value is not None and not isinstance(value, (*_PATH, Trace)):
            raise InputError(f"bad {what}", expected="a path to an .ab1 or .scf file or a Trace",
                             found=type(value).__name__)  # fmt: skip
    if sample is None:
        raise InputError("no sample trace", expected="a path to an .ab1 or .scf file", found="None")
    if reference is not None and not isinstance(reference, (*_PATH, Reference)):
        raise InputError("bad reference", expected="a FASTA/GenBank path, a Reference or a "
                         "sequence string", found=type(reference).__name__)  # fmt: skip
    # A sequence pasted with its line breaks (or spaces) is a sequence too, not a path.
    bases = "".join(reference.split()) if isinstance(reference, str) else ""
    dna = bool(bases) and set(bases.upper()) <= _DNA
    if isinstance(reference, str) and dna and not _is_file(reference):
        reference = Reference("reference", bases.upper())
    if options is not None and not isinstance(options, (SangerOptions, Mapping)):
        raise InputError("wrong options object", expected="SangerOptions or a dict",
                         found=type(options).__name__)  # fmt: skip
    opts = validate_options(SangerOptions, options, source="api", **kwargs)
    return run_sanger(sample, opts, control=control, reference=reference,
                      knowledge=knowledge_from(knowledge))  # fmt: skip
