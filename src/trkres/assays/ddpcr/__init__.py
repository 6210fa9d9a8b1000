"""ddPCR: exports of three generations (``io``), Poisson arithmetic (``poisson``), droplet
amplitudes and classification (``droplets``), CLSI EP17 limits (``detection``), wells to
calls (``pipeline``), the report section (``section``)."""
