"""In vivo tumour growth (xenografts, PDX): volumes in, mRECIST, T/C and TGI, mixed models,
combination synergy over time, survival to an endpoint and power (issue 14).

Modules: ``io`` (long tables of caliper volumes → one checked frame and issues), ``response``
(per-mouse metrics, mRECIST), ``tgi`` (per-arm T/C and TGI), ``lmm`` (REML linear mixed
model of log relative volume with nlme-style variance functions), ``synergy`` (Bliss, HSA,
response additivity over time), ``survival`` (Kaplan–Meier, log-rank, Cox), ``power``
(simulation from a fitted model), ``options`` / ``run`` / ``api`` / ``section``.
"""
