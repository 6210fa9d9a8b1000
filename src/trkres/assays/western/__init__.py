"""Western blots: from the scanner image to band volumes and normalised, replicated ratios
(issue 15).

Modules: ``io`` (16-bit TIFF, LI-COR channels, PNG/JPEG → a checked image), ``background``
(ImageJ-compatible rolling ball, border median, lane-profile baselines), ``lanes`` and
``bands`` (lanes from the column profile, bands as profile peaks, ROI files), ``measure``
(band volume, area, peak, saturation), ``synthetic`` (blots with known truth),
``quantify`` (layouts, loading-control normalisation, phospho/total, fold change,
replicate blots with CIs).
"""
