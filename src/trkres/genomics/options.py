"""Options of the genomics classification: one model for the CLI, study.yaml and the API."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trkres.options import Options

__all__ = ["GenomicsOptions"]


class GenomicsOptions(Options):
    """Options of ``trkres classify``, of the study's ``genomics`` analysis
    (``options: {genomics: {...}}`` in study.yaml) and of :func:`trkres.genomics.classify`.

    Copy-number thresholds apply to long copy-number tables (absolute copies or
    log2 ratios); GISTIC matrices carry their calls (-2..2) already.
    """

    subclonal_ratio: float = Field(
        0.5,
        gt=0,
        le=1,
        description="VAF / reference allele fraction (both fractions, 0-1) below which an "
        "alteration is subclonal",
    )
    amp_copies: float = Field(
        6.0,
        gt=0,
        description="absolute copies (copies per cell) calling amplification (long tables)",
    )
    amp_log2: float = Field(
        1.0, description="log2 copy ratio (tumour/normal) calling amplification (long tables)"
    )
    del_copies: float = Field(
        0.5, ge=0, description="absolute copies (copies per cell) calling deletion (long tables)"
    )
    del_log2: float = Field(
        -1.0, description="log2 copy ratio (tumour/normal) calling deletion (long tables)"
    )
    assume_trk_fusion: bool = Field(
        False,
        description="take patients without fusion data to carry a TRK fusion "
        "(default: fusion_unknown, no therapy strategy)",
    )
    include_unverified: bool = Field(
        False,
        description="let needs_review facts set mechanism and therapy strategies "
        "(default: unverified_* columns only)",
    )
    genome_build: Literal["GRCh37", "GRCh38"] | None = Field(
        None,
        description="genome build of MAF coordinates when a MAF has no NCBI_Build column "
        "(used only for rows without a protein change; never assumed)",
    )
