"""Readers of sequencing results: strict delimited tables with row issues (``tables``),
MAF (``maf``), VCF (``vcf``), fusions/SV (``fusions``), copy number (``cna``),
clinical samples and treatment timelines (``clinical``)."""
