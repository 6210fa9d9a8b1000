"""Options of the western blot analysis: one model for ``trkres blot``, study.yaml and ``tr.western``.

Study.yaml keys are the field names (``options: {western: {background: local, lanes: 12}}``);
the command line's flags are the same names with dashes.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from trkres.options import Options

__all__ = ["BlotOptions"]


class BlotOptions(Options):
    """Settings of the western blot analysis (``trkres blot``, ``options: {western: ...}``)."""

    lanes: int | None = Field(
        None,
        ge=1,
        le=200,
        description="number of lanes on the blot (default: found from the image)",
    )
    invert: Literal["auto", "yes", "no"] = Field(
        "auto",
        description="dark bands on a light scan (film, chemiluminescence) are inverted: auto "
        "decides from the image (the reason is in the output), yes or no",
    )
    background: Literal["local", "rolling-ball", "profile", "border", "none"] = Field(
        "local",
        description="band background: local (a curved bridge across each box, the default), "
        "rolling-ball (ImageJ), profile (valley-to-valley, ImageJ gel analyser), border "
        "(Image Studio median), none",
    )
    radius: float = Field(
        50.0,
        description="rolling-ball radius in pixels (lane finding, and background rolling-ball)",
    )
    channel: str | None = Field(
        None, description="the page or channel of a multi-page TIFF to use (e.g. 800); default all"
    )
    detector_max: float | None = Field(
        None,
        description="the detector's maximum grey level (e.g. 4095 for a 12-bit camera saved as "
        "16-bit); default the file's bit depth",
    )
    target: str | None = Field(
        None, description="protein on the target image (default: the file name)"
    )
    loading_target: str = Field(
        "loading control", description="protein or stain on the loading-control image (e.g. GAPDH)"
    )
    band: Literal["largest", "index", "lane-total"] = Field(
        "largest",
        description="which band of a lane is the target: largest, index (band number --band-index), "
        "lane-total (all bands summed, e.g. a total-protein stain)",
    )
    band_index: int | None = Field(
        None, ge=1, description="band number when band is index (1 = top)"
    )
    doublet: Literal["none", "sum", "separate"] = Field(
        "none",
        description="ERK1/2-like doublets: none (one band), sum (the band and its neighbour) or "
        "separate (two targets)",
    )
    control: str | None = Field(
        None,
        description="condition of the control lanes for fold changes (default: layout lanes "
        "whose role is control)",
    )

    @field_validator("radius")
    @classmethod
    def _radius(cls, value: float) -> float:
        if not (math.isfinite(value) and 0 < value <= 5000):
            raise PydanticCustomError("radius", "a radius in pixels, 0 < radius <= 5000")
        return value

    @field_validator("detector_max")
    @classmethod
    def _max(cls, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and value > 0):
            raise PydanticCustomError("detector_max", "a grey level > 0 (e.g. 4095 or 65535)")
        return value

    @model_validator(mode="after")
    def _band(self) -> BlotOptions:
        if self.band == "index" and self.band_index is None:
            raise PydanticCustomError(
                "band", "band index needs band_index (given band: index only)"
            )
        if self.band_index is not None and self.band != "index":
            raise PydanticCustomError(
                "band", "band_index only with band index (given band_index with band {band})",
                {"band": self.band},
            )  # fmt: skip
        return self
