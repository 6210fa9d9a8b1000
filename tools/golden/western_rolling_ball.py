"""Golden rolling-ball backgrounds from ImageJ itself (dev only; CI never runs this).

Run from the repository root on a machine with Debian's ``imagej`` package (it provides
``/usr/share/java/ij.jar``) and a JDK (``javac``)::

    PYTHONPATH=src python tools/golden/western_rolling_ball.py

What it does: makes three small 16-bit test images (a crop of a bright-on-dark synthetic
blot, a crop of a dark-on-light one, and a noisy flat field with a bar and a slope), writes
them as TIFFs, compiles ``western_rolling_ball.java`` against ImageJ and runs ImageJ's
``BackgroundSubtracter.rollingBallBackground`` (the code behind *Process > Subtract
Background…*, rolling ball, "Create background") headless for each case, reads the 16-bit
backgrounds back and stores inputs and backgrounds in ``tests/data/western/rb_goldens.npz``
(arrays ``input_<image>`` and ``bg_<image>_r<radius>_l<light>_s<smooth>``, plus
``imagej_version``). The menu/macro route (``imagej -batch``) needs a display (ImageJ builds
its menus, which throws HeadlessException without X), and there is no Xvfb here, hence the
small Java driver calling the same public method the menu command calls.

The test images are made with numpy/trkres only; the goldens are ImageJ's output (ImageJ is
public domain).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import tifffile

from trkres.assays.western.synthetic import synthetic_blot

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "western" / "rb_goldens.npz"
IJ_JAR = Path("/usr/share/java/ij.jar")

#: (radius px, light background, pre-smoothing) per image: ImageJ's shrink classes
#: (radius <= 10: none; <= 30: 2; <= 100: 4; above: 8), both polarities, smoothing off.
#: (Few enough to keep the golden file small.)
CASES: dict[str, list[tuple[float, int, int]]] = {
    "blot": [(3, 0, 1), (5, 0, 1), (12.5, 0, 1), (20, 0, 1), (20, 0, 0), (50, 0, 1), (120, 0, 1)],
    "film": [(5, 1, 1), (7.5, 1, 1), (20, 1, 1), (50, 1, 1), (50, 1, 0)],
    "flat": [(5, 0, 1), (20, 0, 1), (20, 1, 1), (50, 0, 1), (50, 1, 1)],
}


def images() -> dict[str, np.ndarray]:
    """The three test images (uint16)."""
    bright, _ = synthetic_blot(21, n_lanes=6)
    film, _ = synthetic_blot(22, n_lanes=6, dark_on_light=True)
    rng = np.random.default_rng(23)
    yy, xx = np.mgrid[0:72, 0:101]
    flat = 3000 + 8 * xx + 5 * yy + rng.normal(0, 60, yy.shape)
    flat[30:40, 15:80] += 9000
    flat[55:59, 85:90] += 20000
    return {
        "blot": bright[110:200, 10:130].copy(),
        "film": film[110:200, 30:150].copy(),
        "flat": np.clip(np.rint(flat), 0, 65535).astype(np.uint16),
    }


def main() -> int:
    if not IJ_JAR.exists():
        print(f"{IJ_JAR} not found: install Debian's imagej package", file=sys.stderr)
        return 1
    here = Path(__file__).resolve().parent
    arrays: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            ["javac", "-cp", str(IJ_JAR), "-d", str(work), str(here / "western_rolling_ball.java")],
            check=True,
        )
        version = ""
        for name, img in images().items():
            arrays[f"input_{name}"] = img
            src = work / f"{name}.tif"
            tifffile.imwrite(src, img)
            for radius, light, smooth in CASES[name]:
                dst = work / f"{name}_{radius}_{light}_{smooth}.tif"
                run = subprocess.run(
                    ["java", "-Djava.awt.headless=true", "-cp", f"{IJ_JAR}:{work}", "western_rolling_ball",
                     str(src), str(dst), str(radius), str(light), str(smooth)],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                version = run.stdout.strip().splitlines()[-1]
                bg = tifffile.imread(dst)
                assert bg.dtype == np.uint16 and bg.shape == img.shape
                arrays[f"bg_{name}_r{radius}_l{light}_s{smooth}"] = bg
    arrays["imagej_version"] = np.array(version)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **arrays)  # type: ignore[arg-type]
    print(
        f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB, ImageJ {version}, {len(arrays) - 1} arrays)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
