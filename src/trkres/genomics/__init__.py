"""Genomics: classify acquired resistance to TRK inhibitors from sequencing results.

The notebook API::

    import trkres as tr

    result = tr.genomics.classify(maf=maf_df, sv=sv_df, clinical=clinical_df,
                                  timeline=timeline_df)
    result.patients      # mechanism and next therapy per patient
    result.write("out")  # the tables ``trkres classify`` writes

Readers live in :mod:`trkres.genomics.io`, the classification in
:mod:`trkres.genomics.caller` (:class:`ResistanceCaller`), the one
orchestration in :mod:`trkres.genomics.run` (:func:`run_classify`), options in
:mod:`trkres.genomics.options`; figures are in :mod:`trkres.pl.genomics`.
"""

from trkres.genomics.api import ClassifyResult, GenomicsOptions, classify

__all__ = ["ClassifyResult", "GenomicsOptions", "classify"]
