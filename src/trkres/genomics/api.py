"""The public genomics API (``tr.genomics``): classify resistance from tables in memory.

::

    import trkres as tr

    result = tr.genomics.classify(maf=maf_df, sv=sv_df, clinical=clinical_df,
                                  timeline=timeline_df, assume_trk_fusion=False)
    result.patients       # one row per patient: mechanism, next therapies, evidence
    result.alterations    # every alteration, annotated
    tr.pl.mechanisms(result)

Every bad argument or table raises a :class:`trkres.errors.TrkresError`
subclass (usually :class:`~trkres.errors.InputError`) saying what was expected
and what was found.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from trkres.errors import InputError
from trkres.genomics.options import GenomicsOptions
from trkres.genomics.run import ClassifyInputs, ClassifyResult, Source, run_classify
from trkres.knowledge.loader import knowledge_from
from trkres.options import validate_options

if TYPE_CHECKING:
    from trkres.knowledge.store import KnowledgeBase

__all__ = ["ClassifyResult", "GenomicsOptions", "classify"]

#: What one genomic argument may be: a table, a path, or a list of them.
TableArg = pd.DataFrame | str | os.PathLike[str] | Sequence[pd.DataFrame | str | os.PathLike[str]]


def classify(
    maf: TableArg | None = None,
    *,
    sv: TableArg | None = None,
    cna: TableArg | None = None,
    vcf: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    clinical: pd.DataFrame | str | os.PathLike[str] | None = None,
    timeline: pd.DataFrame | str | os.PathLike[str] | None = None,
    knowledge: KnowledgeBase | Sequence[str | os.PathLike[str]] | None = None,
    **options: Any,
) -> ClassifyResult:
    """Classify TRK-inhibitor resistance per sample and patient; suggest next therapies.

    Parameters
    ----------
    maf:
        Mutations: a DataFrame with MAF / cBioPortal ``data_mutations`` columns
        (``Tumor_Sample_Barcode``, ``Hugo_Symbol``, ``HGVSp_Short``, read counts
        ``t_alt_count``/``t_ref_count`` or allele fraction ``t_AF`` as a 0-1
        fraction), a path to such a file, or a list of them.
    sv:
        Fusions / structural variants (cBioPortal ``data_sv``, STAR-Fusion, Arriba...).
    cna:
        Copy number: a GISTIC matrix (genes × samples, calls -2..2) or a long table.
    vcf:
        VEP- or SnpEff-annotated VCF files (paths only).
    clinical:
        Samples: ``SAMPLE_ID``, ``PATIENT_ID``, sample type, collection day (days
        from the study's day 0), optionally the fusion.
    timeline:
        cBioPortal treatment timeline (``PATIENT_ID``, ``START_DATE``,
        ``STOP_DATE`` in days, ``AGENT``...).
    knowledge:
        A loaded knowledge base, or extra knowledge YAML files; default the
        shipped one.
    **options:
        :class:`GenomicsOptions` by name: ``subclonal_ratio`` (0-1),
        ``assume_trk_fusion``, ``include_unverified``, ``genome_build``
        (``"GRCh37"``/``"GRCh38"``), ``amp_copies``, ``del_copies`` (copies),
        ``amp_log2``, ``del_log2`` (log2 ratios).

    Returns
    -------
    ClassifyResult
        ``alterations``, ``samples``, ``patients``, ``mechanisms``, ``classes``,
        ``issues`` and ``annotated`` tables as DataFrames; ``write(out)``
        writes them as ``trkres classify`` does.
    """
    opts = validate_options(GenomicsOptions, options, source="api")
    inputs = ClassifyInputs(
        maf=_sources("maf", maf),
        vcf=[_path("vcf", v) for v in _many("vcf", vcf)],
        sv=_sources("sv", sv),
        cna=_sources("cna", cna),
        clinical=_one("clinical", clinical),
        timeline=_one("timeline", timeline),
    )
    inputs.check()
    return run_classify(inputs, opts, knowledge=knowledge_from(knowledge))


def _many(name: str, value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, pd.DataFrame | str | os.PathLike):
        return [value]
    if isinstance(value, Sequence | tuple):
        return list(value)
    raise InputError(
        f"bad argument {name}",
        expected="a DataFrame, a path, or a list of them",
        found=type(value).__name__,
    )


def _path(name: str, value: object) -> Path:
    if isinstance(value, str | os.PathLike):
        try:
            return Path(value)
        except (TypeError, ValueError) as exc:
            raise InputError(f"bad argument {name}", expected="a path", found=str(exc)) from None
    raise InputError(
        f"bad argument {name}", expected="a path to a file", found=type(value).__name__
    )


def _source(name: str, value: object) -> Source:
    if isinstance(value, pd.DataFrame):
        if value.shape[1] == 0:
            raise InputError(
                f"empty table {name}", expected="a table with columns", found="no columns"
            )
        return value
    if isinstance(value, str | os.PathLike):
        return _path(name, value)
    raise InputError(
        f"bad argument {name}", expected="a DataFrame or a path", found=type(value).__name__
    )


def _sources(name: str, value: object) -> list[Source]:
    return [_source(name, v) for v in _many(name, value)]


def _one(name: str, value: object) -> Source | None:
    return None if value is None else _source(name, value)
