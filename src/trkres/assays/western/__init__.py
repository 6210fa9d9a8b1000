"""Western blots: from the scanner image to band volumes and normalised, replicated ratios
(issue 15).

Modules: ``io`` (16-bit TIFF, LI-COR channels, PNG/JPEG → a checked image), ``background``
(ImageJ-compatible rolling ball, border median, lane-profile baselines), ``lanes`` and
``bands`` (lanes from the column profile, bands as profile peaks, ROI files), ``measure``
(band volume, area, peak, saturation), ``synthetic`` (blots with known truth),
``quantify`` (layouts, loading-control normalisation, phospho/total, fold change,
replicate blots with CIs), ``options`` / ``run`` / ``api`` / ``section``.

The public API (``tr.western``)::

    import trkres as tr
    res = tr.western.blot("pERK.tif", loading="GAPDH.tif", layout="lanes.tsv", lanes=12)
    res["bands"], res["quantified"]            # volumes; ratios and fold changes
    both = tr.western.combine([res, res2])     # replicate blots: CIs and t-tests
    tr.pl.blot_overlay(res)
"""

from trkres.assays.western.api import blot, combine
from trkres.assays.western.options import BlotOptions
from trkres.assays.western.run import BlotResult, run_blot

__all__ = ["BlotOptions", "BlotResult", "blot", "combine", "run_blot"]
