"""Drug combinations: SynergyFinder-layout tables (``io``), reference models on one grid
(``models``), the scorer with bootstrap CIs (``scorer``), MuSyC (``musyc``), Chou–Talalay
(``combination_index``), resistant vs parental (``resensitisation``), the report section
(``section``)."""
