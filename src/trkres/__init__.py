"""trkres: acquired resistance to TRK inhibitors in NTRK-fusion cancers.

The package is split along the loop it serves (see ``docs/architecture.md``):
``knowledge`` (curated facts), ``genomics`` (detect and classify), ``assays``
(measure in the lab), ``models`` (signalling and evolution), ``report``
(figures and the HTML report) and ``study`` (study folders and the analysis
registry). ``trkres.cli`` is a thin command-line layer over this API.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
