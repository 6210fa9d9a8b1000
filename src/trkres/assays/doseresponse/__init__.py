"""Dose-response: long tables (``io``), the compiled batch 4PL fitter (``curvefit``,
``distributed`` over Dask, ``reference`` scipy multistart), resistant vs parental
(``resistance``), dose escalation (``escalation``), GR metrics (``grmetrics``), options
(``options``), the ``run_*`` functions (``run``), the report section (``section``).

The notebook API (``tr.doseresponse``)::

    data = tr.doseresponse.prepare(df, group=["drug", "line"], dose_unit="nM")
    fits = tr.doseresponse.fit(data, model="4pl")
    res = tr.doseresponse.compare(data, condition="line", reference="parental", by=["drug"])
    series = tr.doseresponse.escalation_series(df, time="week", by=["drug"], dose_unit="nM")
"""

from trkres.assays.doseresponse.api import compare, escalation_series, fit, prepare

__all__ = ["compare", "escalation_series", "fit", "prepare"]
