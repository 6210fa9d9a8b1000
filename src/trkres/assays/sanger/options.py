"""Options of the Sanger trace comparison: one model for ``trkres sanger``, study.yaml
(``options: {sanger: {...}}``) and ``tr.sanger.compare``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from trkres.options import Options

__all__ = ["SangerOptions"]


class SangerOptions(Options):
    """Settings of the Sanger comparison (``trkres sanger``, ``options: {sanger: ...}``)."""

    gene: str | None = Field(
        None,
        description="gene of the amplicon (e.g. NTRK1) for naming calls; default the GenBank "
        "CDS's /gene",
    )
    codon_start: int | None = Field(
        None,
        ge=1,
        le=100000,
        description="codon number N of the reference position --codon-position (its first base)",
    )
    codon_position: int | None = Field(
        None,
        ge=1,
        description="1-based reference position that is the first base of codon --codon-start "
        "(reference: the reference file, else the control trace's calls, else the sample's); "
        "default 1, or with a GenBank CDS the CDS's own frame",
    )
    strand: Literal["+", "-"] = Field(
        "+",
        description="coding strand relative to the reference: + (the reference reads the "
        "coding strand) or - (its reverse complement)",
    )
    expect: str | None = Field(
        None, description="the mutation asked about, e.g. 'NTRK1 G595R' or 'KRAS G12D'"
    )
    trim_cutoff: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Mott trimming cutoff (error probability per base) for the ends of each trace",
    )
    alpha: float = Field(
        0.05,
        gt=0.0,
        lt=0.5,
        description="chance of any false call in a trace without a mutation: the limit of "
        "detection is the fraction the control's (else the sample's) noise exceeds with "
        "probability alpha / positions compared",
    )
    flank: int = Field(
        20, ge=5, le=200, description="bases either side of a site for the flank noise (bases)"
    )
    min_difference: float = Field(
        0.05,
        ge=0.0,
        le=0.5,
        description="a call's fraction must exceed the control's at the site by this much (0-1)",
    )
    ratio_sd: float = Field(
        0.15,
        ge=0.0,
        le=2.0,
        description="SD of log(alt/ref) peak-height ratios between alleles at one position, "
        "for the CI (assumed; measure it on heterozygous controls)",
    )
    window: int | None = Field(
        None,
        ge=1,
        le=50,
        description="samples either side of a peak location searched for each channel's "
        "height (default a quarter of the peak spacing)",
    )

    @model_validator(mode="after")
    def _gene(self) -> SangerOptions:
        if self.gene is not None and not self.gene.strip():
            raise PydanticCustomError("gene", "a gene symbol such as NTRK1")
        if self.codon_position is not None and self.codon_start is None:
            # Without the codon number the position named no frame and was dropped unsaid.
            raise PydanticCustomError(
                "codon_position",
                "codon_position needs codon_start (the number of the codon whose first base it is)",
            )
        return self
