"""Drug combinations: SynergyFinder-layout tables (``io``), reference models on one grid
(``models``), the scorer with bootstrap CIs (``scorer``), MuSyC (``musyc``), Chou–Talalay
(``combination_index``), resistant vs parental (``resensitisation``); the options
(``options``), the one orchestration (``run``), the report section (``section``).

The notebook API (``tr.synergy``): :func:`score` a checkerboard DataFrame, get a
:class:`SynergyResult` of tables; :func:`combinations` checks a table alone.
"""

from trkres.assays.synergy.api import SynergyOptions, SynergyResult, combinations, score

__all__ = ["SynergyOptions", "SynergyResult", "combinations", "score"]
