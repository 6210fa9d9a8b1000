"""Round 3 of hostile input for synergy: blocks in different response scales in one
table, a misspelled reference line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import trkres as tr
from trkres.assays.synergy.options import SynergyOptions
from trkres.assays.synergy.run import run_synergy
from trkres.errors import InputError

DOSES = (0.0, 10.0, 30.0, 100.0, 300.0, 1000.0)  # nM


def _block(block_id: str, *, scale: float = 100.0, line: str = "parental") -> pd.DataFrame:
    """A Bliss-independent checkerboard as viability (``scale`` = the vehicle's value)."""
    rows = [{"block_id": block_id, "drug1": "A", "drug2": "B", "line": line, "conc1": d1,
             "conc2": d2, "conc_unit": "nM", "response": scale / (1 + d1 / 100) / (1 + d2 / 300)}
            for d1 in DOSES for d2 in DOSES]  # fmt: skip
    return pd.DataFrame(rows)


def test_one_block_in_fractions_among_percent_blocks_is_an_error() -> None:
    """Two blocks in % viability and one in fractions: the median over all vehicle wells
    was near 0 % inhibition, so the fraction block was scored as ~99 % inhibition
    everywhere with status ok. The vehicle check is now per block."""
    df = pd.concat([_block("p1"), _block("p2"), _block("f", scale=1.0)], ignore_index=True)
    with pytest.raises(InputError) as info:
        tr.synergy.score(df, response="viability", n_boot=0, musyc=False)
    err = info.value
    assert "block f" in str(err)
    assert err.location is not None and err.location.column == "response"
    assert err.location.row == 2 * len(DOSES) ** 2 + 1  # the first vehicle row of block f


def test_blocks_in_one_scale_still_score() -> None:
    df = pd.concat([_block("p1"), _block("p2")], ignore_index=True)
    result = tr.synergy.score(df, response="viability", n_boot=0, musyc=False)
    assert np.allclose(result.summary["bliss"], 0.0, atol=1e-9)


def test_a_misspelled_reference_line_is_an_error_listing_the_lines() -> None:
    """--condition line --reference parental on a table spelling it 'Parental': every
    resistant block was labelled no_reference_block and no comparison made. As for
    dose-response, an unknown reference is now an error listing the levels found."""
    df = pd.concat([_block("p", line="Parental"), _block("r", line="R1")], ignore_index=True)
    with pytest.raises(InputError) as info:
        tr.synergy.score(df, response="viability", n_boot=0, musyc=False, condition="line")
    assert "Parental" in str(info.value) and "R1" in str(info.value)
    # The study keeps going with labelled rows (strict_reference=False), as dose-response does.
    opts = SynergyOptions(response="viability", n_boot=0, musyc=False, condition="line")
    result = run_synergy(df, opts, strict_reference=False)
    assert result.resensitisation is not None
    assert set(result.resensitisation["status"]) == {"no_reference_block"}
    ok = tr.synergy.score(df, response="viability", n_boot=0, musyc=False, condition="line",
                          reference="Parental")  # fmt: skip
    assert ok.resensitisation is not None and ok.resensitisation["status"].tolist() == ["ok"]
