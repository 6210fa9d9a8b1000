"""ddPCR: exports of three generations (``io``), Poisson arithmetic (``poisson``), droplet
amplitudes and classification (``droplets``), CLSI EP17 limits (``detection``), wells to
calls (``pipeline``), the one orchestration (``run``), the report section (``section``).

The public API (``tr.ddpcr``)::

    import trkres as tr
    res = tr.ddpcr.quantify(wells_df, droplet_volume_nl=0.85)   # or export / amplitude paths
    res.wells                      # copies/µL with Poisson CIs, fractional abundance (%)
    called = tr.ddpcr.detect(res, blank=["WT"], low=["LOW1", "LOW2"])   # CLSI EP17 calls
    tr.pl.ddpcr_concentrations(res)
"""

from trkres.assays.ddpcr.api import detect, quantify
from trkres.assays.ddpcr.options import DdpcrOptions
from trkres.assays.ddpcr.run import DdpcrResult, run_ddpcr

__all__ = ["DdpcrOptions", "DdpcrResult", "detect", "quantify", "run_ddpcr"]
