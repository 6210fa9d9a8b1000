"""How western/pERK.tif, western/GAPDH.tif and western/lanes.tsv were made (illustrative, seed fixed).

A 16-bit fluorescence-style blot of 8 lanes: a parental TRK-fusion line and a derived
KRAS G12D-like resistant line, each under DMSO and larotrectinib at 10, 100 and 1000 nM;
phospho-ERK on one image and the GAPDH loading control of the same lanes on another. The
pattern follows Cocco et al. 2019 (PMID 31406350): larotrectinib shuts pERK off in the
parental line but not in the MAPK-bypass line. Every number is made up to show the
analysis: relative pERK per lane, loading (±10%), band shapes, background and noise.
Run: python simulate_western.py   (writes the three files here; needs numpy, scipy, tifffile)
"""

from pathlib import Path

import numpy as np
import tifffile
from scipy.special import erf

HERE = Path(__file__).parent
rng = np.random.default_rng(31406350)
height, lane_w, gap, margin = 260, 36, 14, 12
n = 8
width = 2 * margin + n * lane_w + (n - 1) * gap
perk = np.array([1.0, 0.55, 0.18, 0.06, 1.1, 1.05, 0.95, 0.9])  # relative to parental DMSO
loading = rng.uniform(0.9, 1.1, n)  # uneven loading, as on a real gel
y, x = np.mgrid[0:height, 0:width].astype(float)


def band(x0: float, y0: float, w: float, h: float, soft: float = 2.0) -> np.ndarray:
    """A flat-topped band with soft (error-function) edges, peak 1."""
    fx = 0.5 * (erf((x - x0) / soft) - erf((x - x0 - w) / soft))
    fy = 0.5 * (erf((y - y0) / soft) - erf((y - y0 - h) / soft))
    return fx * fy


def image(levels: np.ndarray, rows: list[float], peak: float) -> np.ndarray:
    img = (
        1800
        + 600 * (x / width)
        + 900 * np.exp(-((x - width * 0.7) ** 2 + (y - 60) ** 2) / (2 * 45**2))
    )
    for i in range(n):
        x0 = margin + i * (lane_w + gap) + 4
        for r in rows:
            img += peak * levels[i] * band(x0, r, lane_w - 8, 7)
    img = rng.poisson(img).astype(float) + rng.normal(0, 40, img.shape)
    return np.clip(np.round(img), 0, 65535).astype(np.uint16)


tifffile.imwrite(HERE / "pERK.tif", image(perk * loading, [95.0, 106.0], 16000), compression="zlib")
tifffile.imwrite(HERE / "GAPDH.tif", image(loading, [150.0], 20000), compression="zlib")
with (HERE / "lanes.tsv").open("w") as fh:
    fh.write("lane\tsample\ttreatment\tdose\trole\n")
    for i in range(n):
        line = "parental" if i < 4 else "KRAS_G12D_resistant"
        dose = ["0 nM", "10 nM", "100 nM", "1000 nM"][i % 4]
        treatment = "DMSO" if i % 4 == 0 else "larotrectinib"
        role = "control" if i == 0 else "sample"
        fh.write(f"{i + 1}\t{line}\t{treatment}\t{dose}\t{role}\n")
