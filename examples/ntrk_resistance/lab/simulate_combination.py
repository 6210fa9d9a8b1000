"""How lab/combination_larotrectinib_trametinib.tsv was made (illustrative data, seed fixed).

A 6 × 6 larotrectinib × trametinib matrix, three replicate wells, in a parental
TRK-fusion line and a derived line with MAPK-bypass resistance (the KRAS G12D
pattern of Cocco et al. 2019, PMID 31406350). Viability (% of vehicle) follows
the MuSyC surface (trkres.assays.synergy.musyc.surface) plus Gaussian noise
(SD 5 %). Only the parental larotrectinib IC50 range (23.5–49.4 nM in cells)
is from a source (docs/knowledge.md §5, unverified); every other number is
made up to show the analysis. Run: python simulate_combination.py > combination_larotrectinib_trametinib.tsv
"""

import sys

import numpy as np

from trkres.assays.synergy.musyc import surface

laro = np.array([0, 10, 30, 100, 300, 1000]) * 1e-9
tram = np.array([0, 1, 3, 10, 30, 100]) * 1e-9
# (E0, E1, E2, E3, log10 h1, log10 h2, log10 C1, log10 C2, log10 a)
lines = {
    "parental": (1.0, 0.05, 0.55, 0.04, np.log10(1.2), 0.0, np.log10(30e-9), np.log10(20e-9), 0.0),
    "KRAS_G12D_resistant": (
        1.0,
        0.65,
        0.45,
        0.05,
        np.log10(1.0),
        0.0,
        np.log10(3e-6),
        np.log10(10e-9),
        1.0,
    ),
}
rng = np.random.default_rng(20191)
out = sys.stdout
out.write("block_id\tdrug1\tdrug2\tline\treplicate\tconc1\tconc2\tconc_unit\tresponse\n")
for block, (line, theta) in enumerate(lines.items(), start=1):
    d1, d2 = np.meshgrid(laro, tram, indexing="ij")
    e = surface(np.array(theta), d1.ravel(), d2.ravel())
    for rep in (1, 2, 3):
        noisy = 100 * e + rng.normal(0, 5, e.shape)
        for a, b, v in zip(d1.ravel(), d2.ravel(), noisy, strict=True):
            out.write(
                f"{block}\tlarotrectinib\ttrametinib\t{line}\t{rep}\t{a * 1e9:g}\t{b * 1e9:g}\tnM\t{v:.2f}\n"
            )
