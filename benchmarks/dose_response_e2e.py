"""Benchmark: ``trkres fit`` end to end (Parquet in, fits.tsv and figure out) on 1,000,000
curves vs a scipy ``curve_fit`` loop over the same curves (issue target: >= 20x).

Curves as in ``dose_response_fit.py`` (9 doses x 3 replicates, 70% sigmoid, 10% flat,
10% out of range, 10% noisy; ``--seed``), written as a long Parquet table (curve_id,
dose in molar, unit, response) to a temporary folder. Then, in one run:

1. ``trkres fit curves.parquet -o OUT`` as a subprocess: its wall time is the number
   that counts (interpreter start, imports, numba's cached compile included);
2. the same steps in this process, timed one by one: read and check the table, fit,
   write fits.tsv and issues.tsv (``trkres.outputs.write_table``: above 200,000 rows,
   pyarrow's writer), draw the figure (SVG + PNG);
3. scipy's ``curve_fit`` (one start, trkres's model) on the first ``--scipy-curves``
   curves, scaled to all curves.

The machine's load (``os.getloadavg``) is printed before and after: on a shared
machine the wall times depend on it; CPU times are printed too. Results go to
``benchmarks/results/dose_response_e2e.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dose_response_fit import simulate


def write_curves(path: Path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Simulate ``n`` curves and write them as a long Parquet table; (x, y, rows)."""
    cs = simulate(n, seed=seed)
    k = cs.x.shape[1]
    ids = pa.array(np.arange(n).astype(str))
    table = pa.table(
        {
            "curve_id": ids.take(pa.array(np.repeat(np.arange(n), k))),
            "dose": 10 ** cs.x.ravel(),
            "unit": pa.array(["M"]).take(pa.array(np.zeros(n * k, dtype=np.int64))),
            "response": cs.y.ravel(),
        }
    )
    pq.write_table(table, path)
    return cs.x, cs.y, n * k


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def trkres_command() -> list[str]:
    """``trkres`` of this interpreter, importing the trkres on this process's path."""
    code = "import sys; from trkres.cli import main; sys.argv[0] = 'trkres'; sys.exit(main())"
    return [sys.executable, "-c", code]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--curves", type=int, default=1_000_000)
    parser.add_argument("--scipy-curves", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent / "results" / "dose_response_e2e.json",
    )
    parser.add_argument("--skip-phases", action="store_true", help="only the subprocess run")
    args = parser.parse_args()

    from trkres.assays.doseresponse.curvefit import fit_curves
    from trkres.assays.doseresponse.reference import scipy_multistart

    result: dict[str, object] = {
        "curves": args.curves,
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_before": load(),
    }
    fit_curves(pa.table({"curve_id": ["w"] * 3, "dose_molar": [1e-9, 1e-8, 1e-7],
                         "response": [1.0, 0.5, 0.1]}).to_pandas())  # fmt: skip  # numba cache
    with tempfile.TemporaryDirectory(prefix="trkres-e2e-") as tmp:
        folder = Path(tmp)
        data = folder / "curves.parquet"
        t0 = time.perf_counter()
        x, y, rows = write_curves(data, args.curves, args.seed)
        result["rows"] = rows
        result["generate_s"] = round(time.perf_counter() - t0, 2)
        result["parquet_mb"] = round(data.stat().st_size / 1e6, 1)
        print(f"{args.curves:,} curves, {rows:,} rows, {result['parquet_mb']} MB Parquet; "
              f"load {result['load_before']}", flush=True)  # fmt: skip

        # 1. the command, end to end
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([*trkres_command(), "-q", "fit", str(data), "-o", str(folder / "out")],
                       check=True, env=env)  # fmt: skip
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        result["cli_wall_s"] = round(wall, 2)
        result["cli_cpu_s"] = round(
            (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2
        )
        result["cli_peak_rss_gb"] = round(after.ru_maxrss / 1e6, 2)  # kB on Linux
        fits_tsv = folder / "out" / "fits.tsv"
        result["fits_tsv_mb"] = round(fits_tsv.stat().st_size / 1e6, 1)
        print(f"trkres fit: {wall:.1f} s wall, {result['cli_cpu_s']} s CPU, "
              f"peak RSS {result['cli_peak_rss_gb']} GB", flush=True)  # fmt: skip

        # 2. the same steps in process, phase by phase
        if not args.skip_phases:
            result["phases_s"] = phases(data, folder / "phases")
            print("phases (s):", result["phases_s"], flush=True)

    # 3. scipy's curve_fit loop on the first curves, scaled
    m = min(args.scipy_curves, args.curves)
    t0 = time.perf_counter()
    for i in range(m):
        scipy_multistart(x[i], y[i], 1)
    scipy_s = time.perf_counter() - t0
    scaled = scipy_s / m * args.curves
    result["scipy_curves"] = m
    result["scipy_s"] = round(scipy_s, 2)
    result["scipy_scaled_s"] = round(scaled, 1)
    result["ratio"] = round(scaled / wall, 1)
    result["load_after"] = load()
    print(f"scipy curve_fit loop: {m:,} curves in {scipy_s:.2f} s -> {scaled:,.0f} s for "
          f"{args.curves:,}; trkres fit end to end is {scaled / wall:.1f}x faster "
          f"(target >= 20x); load {result['load_after']}")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def phases(data: Path, out: Path) -> dict[str, float]:
    """Seconds of each step of ``trkres fit`` run in this process (what ``run_fit`` and the
    command call: ``read_long_lines``, ``fit_curves``, ``write_table``, the figure)."""
    from trkres.assays.doseresponse.curvefit import fit_curves
    from trkres.assays.doseresponse.io import read_long_lines
    from trkres.outputs import write_table
    from trkres.pl.doseresponse import fit_summary_figure
    from trkres.pl.style import figure_bytes

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    frame, issues, _, _ = read_long_lines(data)
    times["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fits = fit_curves(frame)
    times["fit"] = time.perf_counter() - t0
    out.mkdir(parents=True)
    t0 = time.perf_counter()
    write_table(fits, out / "fits.tsv")
    write_table(issues, out / "issues.tsv")
    times["write"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fig = fit_summary_figure(frame, fits)
    for fmt in ("svg", "png"):
        (out / f"fig.{fmt}").write_bytes(figure_bytes(fig.static, fmt))
    times["figure"] = time.perf_counter() - t0
    return {k: round(v, 2) for k, v in times.items()}


if __name__ == "__main__":
    main()
