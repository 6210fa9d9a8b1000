"""Benchmark: the whole in vivo analysis (``run_invivo``) on 200 mice × 15 time points.

Target (issue 14): the growth model with a variance function in < 1 s, the whole in vivo
section in < 5 s. The experiment is simulated: 4 arms × 50 mice (vehicle, drug A, drug B,
A+B), measured every 2 days for 28 days, exponential growth with a random slope per mouse,
residual SD growing with time (varPower) and larger in the vehicle arm. The peer is R's
nlme ``lme`` with the same model and variance function, timed inside R (the fit only,
not R's start-up), when ``Rscript`` with nlme is on the PATH.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def simulate(mice_per_arm: int = 50, seed: int = 14) -> pd.DataFrame:
    """Long volumes (mm³) of 4 arms × ``mice_per_arm`` mice on days 0, 2, ..., 28."""
    rng = np.random.default_rng(seed)
    days = np.arange(0, 29, 2.0)
    rows = []
    for arm, rate, scale in (("Vehicle", 0.10, 1.5), ("A", 0.07, 1.0), ("B", 0.08, 1.0),
                             ("A+B", 0.02, 1.0)):  # fmt: skip
        for m in range(mice_per_arm):
            slope = rng.normal(rate, 0.015)
            sd = 0.02 * scale * np.maximum(days, 1.0) ** 0.5
            log_v = np.log(rng.uniform(100, 200)) + slope * days + rng.normal(0, sd)
            rows.append(pd.DataFrame({"mouse_id": f"{arm}-{m}", "arm": arm, "day": days,
                                      "volume": np.exp(log_v)}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


R_SCRIPT = """
suppressMessages(library(nlme))
d <- read.delim(commandArgs(TRUE)[1])
d <- d[order(d$mouse_id, d$day), ]
v0 <- ave(d$volume, d$mouse_id, FUN = function(v) v[1])
t0 <- ave(d$day, d$mouse_id, FUN = function(v) v[1])
d$time <- d$day - t0
d$logRTV <- log(d$volume / v0)
d <- d[d$time > 0, ]
d$arm <- factor(d$arm)
best <- Inf
for (i in 1:3) {
  t <- system.time(fit <- lme(logRTV ~ 0 + time:arm, random = ~ 0 + time | mouse_id,
                              weights = varComb(varIdent(form = ~ 1 | arm), varPower(form = ~ time)),
                              data = d, method = "REML"))["elapsed"]
  best <- min(best, t)
}
cat(sprintf("%.4f\\n", best))
cat(sprintf("%.10g\\n", fixef(fit)))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mice-per-arm", type=int, default=50)
    args = parser.parse_args()
    from trkres.assays.invivo.lmm import fit_growth
    from trkres.assays.invivo.options import InvivoOptions
    from trkres.assays.invivo.run import run_invivo

    data = simulate(args.mice_per_arm)
    print(
        f"mice: {data['mouse_id'].nunique()} × {data['day'].nunique()} time points ({len(data)} rows)"
    )
    options = InvivoOptions(control="Vehicle", drug_a="A", drug_b="B", combination="A+B",
                            variance="arm+time-power")  # fmt: skip
    run_invivo(data, options)  # imports, numba caches
    fits, whole = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        fit = fit_growth(data, variance="arm+time-power")
        fits.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        run_invivo(data, options)
        whole.append(time.perf_counter() - t0)
    ours = min(fits)
    print(f"trkres growth model (varComb(varIdent(arm), varPower(time)), REML): {ours:.3f} s "
          f"(target < 1 s); converged {fit.converged}")  # fmt: skip
    print(f"trkres whole in vivo analysis (run_invivo: mRECIST, TGI, model, synergy over "
          f"{data['day'].nunique() - 1} times × 3 methods, growth curves, survival): {min(whole):.3f} s "
          "(target < 5 s)")  # fmt: skip
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("peer: Rscript not found (R with nlme: apt-get install r-base-core r-cran-nlme)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "volumes.tsv"
        data.to_csv(path, sep="\t", index=False)
        script = Path(tmp) / "fit.R"
        script.write_text(R_SCRIPT)
        done = subprocess.run(
            [rscript, str(script), str(path)], capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        print("peer: R failed:", done.stderr.strip()[:300])
        return
    lines = done.stdout.split()
    peer = float(lines[0])
    fixef = np.array([float(x) for x in lines[1:]])
    order = sorted(fit.arms)
    ours_beta = np.array([fit.beta[fit.arms.index(a)] for a in order])
    rel = float(np.max(np.abs(ours_beta - fixef) / np.abs(fixef)))
    print(f"peer nlme::lme (same model, fit only, best of 3): {peer:.3f} s; ratio nlme / trkres = "
          f"{peer / ours:.1f}×; largest relative difference of the slopes {rel:.2e}")  # fmt: skip


if __name__ == "__main__":
    main()
