"""Sanger traces: confirm a suspected resistance mutation with a number and its limit of
detection (issue 18).

Modules: ``io`` (ABIF via Biopython, SCF, FASTA/GenBank references), ``caller`` (peak heights,
dye normalisation, trimming, alignment, secondary-peak fractions, noise and the limit of
detection), ``naming`` (coding frame, codon and protein change, knowledge-base class),
``synthetic`` (chromatograms with known mixtures, an ABIF writer), ``options`` / ``run`` /
``api`` / ``section``.

The public API (``tr.sanger``)::

    import trkres as tr
    res = tr.sanger.compare("resistant.ab1", control="parental.ab1", gene="NTRK1",
                            codon_start=595, codon_position=101, expect="NTRK1 G595R")
    res["calls"], res["expect"]
    trace = tr.sanger.read_trace("resistant.ab1")
    tr.pl.sanger_chromatogram(res)
"""

from trkres.assays.sanger.api import compare, read_trace
from trkres.assays.sanger.io import Reference, Trace
from trkres.assays.sanger.options import SangerOptions
from trkres.assays.sanger.run import SangerResult, run_sanger

__all__ = [
    "Reference",
    "SangerOptions",
    "SangerResult",
    "Trace",
    "compare",
    "read_trace",
    "run_sanger",
]
