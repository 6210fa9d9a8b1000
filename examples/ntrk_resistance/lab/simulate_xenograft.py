"""How lab/xenograft_larotrectinib_trametinib.csv was made (illustrative data, seed fixed).

A PDX with MAPK-bypass resistance (the KRAS G12D pattern of Cocco et al. 2019, PMID
31406350, who proposed TRK + MEK inhibition for it), four arms of 8 mice: Vehicle,
Larotrectinib, Trametinib and Larotrectinib+Trametinib, measured with calipers twice a
week for 28 days (caliper length and width in mm; trkres computes volume = L·W²/2).
Each mouse grows exponentially with its own rate (arm mean ± SD 0.02/day) and 8%
multiplicative measurement noise; mice leave the study when the volume passes
1,500 mm³ (humane endpoint). Every number here is made up to show the analysis; none is
from a paper. Run: python simulate_xenograft.py > xenograft_larotrectinib_trametinib.csv
"""

import sys

import numpy as np

rng = np.random.default_rng(20190817)
days = np.array([0, 3, 7, 10, 14, 17, 21, 24, 28])
# Mean growth rate of log volume (1/day) per arm.
arms = {
    "Vehicle": 0.11,
    "Larotrectinib": 0.10,
    "Trametinib": 0.07,
    "Larotrectinib+Trametinib": -0.02,
}
out = sys.stdout
out.write("mouse_id,arm,day,length_mm,width_mm\n")
for a, (arm, rate) in enumerate(arms.items()):
    for m in range(8):
        mouse = f"M{a + 1}{m + 1:02d}"
        v0 = rng.uniform(150, 250)
        k = rng.normal(rate, 0.02)
        for day in days:
            volume = v0 * np.exp(k * day) * np.exp(rng.normal(0, 0.08))
            ratio = rng.uniform(1.2, 1.6)  # length / width of the tumour
            width = (2 * volume / ratio) ** (1 / 3)
            out.write(f"{mouse},{arm},{day},{ratio * width:.1f},{width:.1f}\n")
            if volume > 1500:
                break
