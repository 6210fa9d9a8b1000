"""Hypothesis drives tr.genomics.classify with bad arguments and bad frames: whatever
comes in, only TrkresError subclasses come out (or a result)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import trkres as tr
from trkres.errors import TrkresError
from trkres.genomics.run import ClassifyResult
from trkres.knowledge import load_knowledge

KB = load_knowledge()

#: Real column names of each input kind, plus look-alikes and junk.
COLUMNS = {
    "maf": ["Tumor_Sample_Barcode", "Hugo_Symbol", "HGVSp_Short", "HGVSp", "Protein_Change",
            "t_alt_count", "t_ref_count", "t_depth", "t_AF", "Variant_Classification",
            "Transcript_ID", "NCBI_Build", "Chromosome", "Start_Position", "End_Position",
            "Reference_Allele", "Tumor_Seq_Allele2"],
    "sv": ["Sample_Id", "Site1_Hugo_Symbol", "Site2_Hugo_Symbol", "Class", "Event_Info",
           "Fusion", "#FusionName", "SV_Status"],
    "cna": ["Hugo_Symbol", "S1", "S2", "sample_id", "gene", "copy_number", "log2", "value"],
    "clinical": ["SAMPLE_ID", "PATIENT_ID", "SAMPLE_TYPE", "COLLECTION_DAY", "FUSION"],
    "timeline": ["PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "AGENT",
                 "BEST_RESPONSE_THER"],
}  # fmt: skip
REQUIRED = {
    "maf": ["Tumor_Sample_Barcode", "Hugo_Symbol", "HGVSp_Short"],
    "sv": ["Sample_Id", "Site1_Hugo_Symbol", "Site2_Hugo_Symbol"],
    "cna": ["Hugo_Symbol", "S1", "S2"],
    "clinical": ["SAMPLE_ID", "PATIENT_ID"],
    "timeline": ["PATIENT_ID", "START_DATE", "STOP_DATE", "AGENT"],
}
JUNK_COLUMNS = ["", " ", "x", "Hugo_Symbol ", "é", "a\tb", "1", "None"]

cells = st.one_of(
    st.sampled_from(
        [
            "S1",
            "S2",
            "P1",
            "NTRK1",
            "KRAS",
            "p.G595R",
            "p.G12D",
            "G595R",
            "p.Gly595Arg",
            "ETV6::NTRK3",
            "FUSION",
            "Larotrectinib",
            "entrectinib",
            "2",
            "-2",
            "0",
            "10",
            "-7",
            "200",
            "NA",
            "",
            " ",
            "p.",
            "fs",
            "X1_splice",
            "GRCh37",
            "GRCh38",
            "1",
            "12345",
            "A",
            "T",
            "cfDNA",
            "tissue",
            "yes",
        ]
    ),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.text(max_size=12),
)


@st.composite
def frames(draw: st.DrawFn, kind: str) -> pd.DataFrame:
    names = draw(st.lists(st.sampled_from(COLUMNS[kind]), min_size=0, max_size=6, unique=True))
    if draw(st.integers(0, 3)):  # mostly with the columns the reader needs
        names = list(dict.fromkeys([*REQUIRED[kind], *names]))
    if draw(st.integers(0, 3)) == 0:  # now and then a junk or repeated name
        names.append(draw(st.sampled_from(JUNK_COLUMNS + COLUMNS[kind])))
    n = draw(st.integers(0, 5))
    data = [draw(st.lists(cells, min_size=n, max_size=n)) for _ in names]
    frame = pd.DataFrame(dict(enumerate(data))) if data else pd.DataFrame(index=range(n))
    frame.columns = names
    if draw(st.integers(0, 7)) == 0 and len(frame.columns):
        frame.columns = [draw(st.sampled_from([0, 1.5, None, ("a", "b"), "x"])) for _ in frame]
    return frame


arguments = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=5),
    st.just(np.arange(3)),
    st.just({"a": 1}),
    st.just([1, 2]),
    st.just(math.nan),
)
option_values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=True),
    st.text(max_size=8), st.sampled_from(["GRCh37", "GRCh38", "hg19"]), st.just([0.5]),
)  # fmt: skip
options = st.dictionaries(
    st.sampled_from(
        [
            "subclonal_ratio",
            "amp_copies",
            "amp_log2",
            "del_copies",
            "del_log2",
            "assume_trk_fusion",
            "include_unverified",
            "genome_build",
            "alpha",
            "model",
        ]
    ),
    option_values,
    max_size=3,
)


def _classify(**kwargs: Any) -> None:
    try:
        result = tr.genomics.classify(knowledge=KB, **kwargs)
    except TrkresError as exc:
        event(f"refused: {' '.join(exc.message.split(' ')[:2])}")
        return
    event("classified")
    assert isinstance(result, ClassifyResult)
    assert list(result.mechanisms["mechanism"])  # every mechanism listed
    result.tables()  # the annotated inputs build too


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    maf=st.one_of(frames("maf"), arguments),
    sv=st.one_of(st.none(), frames("sv"), arguments),
    clinical=st.one_of(st.none(), arguments),
    opts=options,
)
def test_bad_arguments_and_options_raise_only_trkres_errors(
    maf: Any, sv: Any, clinical: Any, opts: dict[str, Any]
) -> None:
    _classify(maf=maf, sv=sv, clinical=clinical, **opts)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    maf=frames("maf"),
    sv=st.one_of(st.none(), frames("sv")),
    cna=st.one_of(st.none(), frames("cna")),
    clinical=st.one_of(st.none(), frames("clinical")),
    timeline=st.one_of(st.none(), frames("timeline")),
    assume=st.booleans(),
)
def test_bad_frames_raise_only_trkres_errors(
    maf: pd.DataFrame,
    sv: pd.DataFrame | None,
    cna: pd.DataFrame | None,
    clinical: pd.DataFrame | None,
    timeline: pd.DataFrame | None,
    assume: bool,
) -> None:
    _classify(
        maf=maf, sv=sv, cna=cna, clinical=clinical, timeline=timeline, assume_trk_fusion=assume
    )
