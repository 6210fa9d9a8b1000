"""In vivo tumour growth (xenografts, PDX): volumes in, mRECIST, T/C and TGI, mixed models,
combination synergy over time, survival to an endpoint and power (issue 14).

Modules: ``io`` (long tables of caliper volumes → one checked frame and issues), ``response``
(per-mouse metrics, mRECIST), ``tgi`` (per-arm T/C and TGI), ``lmm`` (REML linear mixed
model of log relative volume with nlme-style variance functions), ``synergy`` (Bliss, HSA,
response additivity over time), ``survival`` (Kaplan–Meier, log-rank, Cox), ``curves``
(per-mouse exponential and Gompertz fits), ``power`` (simulation from a fitted model),
``options`` / ``run`` / ``api`` / ``section``.

The public API (``tr.invivo``)::

    import trkres as tr
    res = tr.invivo.analyze(df, control="Vehicle", drug_a="A", drug_b="B", combination="A+B")
    res["mrecist"], res["tgi"], res["growth_model"], res["synergy"], res["survival"]
    tr.pl.invivo_growth(res); tr.pl.invivo_waterfall(res)
    fit = tr.invivo.fit_growth(df, variance="arm+time-power")   # the mixed model alone
    n, table = tr.invivo.mice_per_arm(0.8, times=[3, 7, 10, 14], slopes={...}, ...)
"""

from trkres.assays.invivo.api import (
    analyze,
    apriori_power,
    fit_growth,
    mice_per_arm,
    mouse_metrics,
    posthoc_power,
    read,
    synergy_over_time,
)
from trkres.assays.invivo.options import InvivoOptions
from trkres.assays.invivo.run import InvivoResult, run_invivo

__all__ = [
    "InvivoOptions",
    "InvivoResult",
    "analyze",
    "apriori_power",
    "fit_growth",
    "mice_per_arm",
    "mouse_metrics",
    "posthoc_power",
    "read",
    "run_invivo",
    "synergy_over_time",
]
