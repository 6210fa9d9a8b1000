"""The public cfDNA API (``tr.cfdna``)."""
