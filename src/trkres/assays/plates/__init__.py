"""Plates: plate-reader exports (``io``), plate maps and normalisation to % of vehicle
with QC (``wells``), the report section (``section``)."""
