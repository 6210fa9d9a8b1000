"""Dose-response: long tables (``io``), the compiled batch 4PL fitter (``curvefit``,
``distributed`` over Dask, ``reference`` scipy multistart), resistant vs parental
(``resistance``), dose escalation (``escalation``), GR metrics (``grmetrics``), the
report section (``section``)."""
