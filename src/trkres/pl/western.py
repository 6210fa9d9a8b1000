"""Western blot figures: the image with its lanes and band boxes drawn, the lane profiles
with their background, and fold change per lane.

Every function takes a :class:`~trkres.assays.western.run.BlotResult` (what
``tr.western.blot`` returns) and draws; nothing is recomputed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from trkres.pl.checks import axes_or_new

if TYPE_CHECKING:
    from trkres.assays.western.run import BlotResult, MeasuredImage
    from trkres.report.model import Figure

__all__ = ["blot_fold_change", "blot_overlay", "blot_profiles", "western_figures"]

#: Longest side (pixels) of the image drawn: larger scans are shown block-averaged.
MAX_SIDE = 700


def _result(result: object) -> BlotResult:
    from trkres.assays.western.run import BlotResult
    from trkres.errors import InputError

    if not isinstance(result, BlotResult):
        raise InputError("nothing to draw", expected="a western result (tr.western.blot)",
                         found=type(result).__name__)  # fmt: skip
    return result


def _image(res: BlotResult, which: object) -> MeasuredImage | None:
    from trkres.errors import InputError

    if not res.images:
        return None
    if (
        isinstance(which, bool)
        or not isinstance(which, (int, np.integer))
        or not (0 <= which < len(res.images))
    ):
        raise InputError("bad which", expected=f"an image number from 0 to {len(res.images) - 1}",
                         found=repr(which))  # fmt: skip
    return res.images[int(which)]


def _shown(signal: np.ndarray) -> tuple[np.ndarray, int]:
    """The signal block-averaged so its longest side is at most :data:`MAX_SIDE`, and the factor."""
    step = max(1, int(np.ceil(max(signal.shape) / MAX_SIDE)))
    if step == 1:
        return signal, 1
    h, w = (signal.shape[0] // step) * step, (signal.shape[1] // step) * step
    return signal[:h, :w].reshape(h // step, step, w // step, step).mean(axis=(1, 3)), step


def _draw_overlay(ax: Any, m: MeasuredImage) -> None:
    from matplotlib.patches import Rectangle

    shown, step = _shown(np.asarray(m.image.signal, dtype=float))
    lo, hi = np.percentile(shown, [1, 99.8])
    ax.imshow(shown, cmap="gray_r", vmin=lo, vmax=hi if hi > lo else lo + 1, interpolation="nearest",
              extent=(0, shown.shape[1] * step, shown.shape[0] * step, 0))  # fmt: skip
    height = m.image.signal.shape[0]
    if "x0" in m.lanes:
        for lane, x0, x1 in m.lanes[["lane", "x0", "x1"]].dropna().to_numpy(dtype=float):
            ax.add_patch(
                Rectangle((x0, 0), x1 - x0, height, fill=False, lw=0.4, ls=":", ec="#1f77b4")
            )
            ax.text((x0 + x1) / 2, -4, f"{lane:g}", ha="center", va="bottom", fontsize=6)
    boxes = m.bands[["x0", "x1", "y0", "y1"]].to_numpy(dtype=float)
    for (x0, x1, y0, y1), clipped in zip(boxes, m.bands["saturated"].astype(bool), strict=True):
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=0.7,
                               ec="#d62728" if clipped else "#2ca02c"))  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])
    name = str(m.bands["image"].iloc[0]) if len(m.bands) else m.image.source
    ax.set_title(f"{m.role}: {name.replace(chr(92), '/').rsplit('/', 1)[-1]}", fontsize=7, pad=12)


def _draw_profiles(ax: Any, m: MeasuredImage) -> None:
    signal = np.asarray(m.image.signal, dtype=float)
    rows = np.arange(signal.shape[0])
    lanes: Any = (
        m.lanes[["lane", "x0", "x1"]].dropna().to_numpy(dtype=float) if "x0" in m.lanes else []
    )
    offset = 0.0
    span = float(np.ptp(signal)) or 1.0
    for lane, x0, x1 in lanes:
        cols = slice(int(x0), int(x1))
        profile = signal[:, cols].mean(axis=1)
        base = m.background[:, cols].mean(axis=1)
        ax.plot(rows, profile + offset, lw=0.6, color="#1f5f99")
        ax.plot(rows, base + offset, lw=0.5, ls="--", color="grey")
        ax.text(rows[-1], offset + profile[-1], f" {lane:g}", fontsize=5, va="center")
        offset += span * 0.35
    ax.set_xlabel("row (pixels, top to bottom)")
    ax.set_ylabel("mean signal per lane (offset)")
    ax.set_yticks([])


def _draw_fold(ax: Any, res: BlotResult) -> None:
    q = res.tables.get("quantified")
    if q is None or "fold_change" not in q:
        return
    x = np.arange(len(q))
    fc = q["fold_change"].to_numpy(dtype=float)
    labels = [f"{lane}: {c}" if isinstance(c, str) and c else str(lane)
              for lane, c in zip(q["lane"], q.get("condition", [""] * len(q)), strict=True)]  # fmt: skip
    if "target" in q and q["target"].nunique() > 1:  # doublets kept apart: two bars per lane
        labels = [f"{t} {label}" for t, label in zip(q["target"].astype(str), labels, strict=True)]
    ok = np.isfinite(fc)
    ax.bar(x, np.where(ok, fc, 0.0), color="#1f5f99")
    # A lane without a fold change (saturated, no band, ladder ...) must not read as 0.
    for k in np.flatnonzero(~ok):
        ax.text(x[k], 0.0, "n/q", rotation=90, ha="center", va="bottom", fontsize=5, color="grey")
    if (~ok).any():
        ax.text(1.0, 1.0, "n/q: not quantified (see the table's note)", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=5, color="grey")  # fmt: skip
    ax.axhline(1.0, color="grey", lw=0.6, ls="--")
    ax.set_xticks(x, labels, rotation=60, ha="right", fontsize=6)
    ax.set_ylabel("fold change vs control lanes")


def blot_overlay(result: BlotResult, ax: Any = None, *, which: int = 0) -> Any:
    """The ``which``-th measured image with its lanes (dotted) and band boxes (green;
    red when saturated). Returns ``ax``."""
    res = _result(result)
    image = _image(res, which)
    ax = axes_or_new(ax, 6.0, 4.0)
    if image is not None:
        _draw_overlay(ax, image)
    return ax


def blot_profiles(result: BlotResult, ax: Any = None, *, which: int = 0) -> Any:
    """Each lane's vertical profile (mean across the lane) with the rolling-ball background
    used to find bands (dashed), lanes offset upward. Returns ``ax``."""
    res = _result(result)
    image = _image(res, which)
    ax = axes_or_new(ax, 6.0, 4.0)
    if image is not None:
        _draw_profiles(ax, image)
    return ax


def blot_fold_change(result: BlotResult, ax: Any = None) -> Any:
    """Fold change of each lane against the blot's control lanes (grey: not quantifiable)."""
    res = _result(result)
    ax = axes_or_new(ax, 6.0, 4.0)
    _draw_fold(ax, res)
    return ax


def western_figures(result: BlotResult, prefix: str = "western") -> list[Figure]:
    """The report's figures: overlay and profiles of each measured image, fold changes."""
    from trkres.pl.style import new_figure
    from trkres.report.model import Figure

    res = _result(result)
    out: list[Figure] = []
    for k, m in enumerate(res.images):
        fig, axes = new_figure(9.0, 4.0, 1, 2)
        _draw_overlay(axes[0], m)
        _draw_profiles(axes[1], m)
        out.append(Figure(f"{prefix}_{m.role}_{k + 1}", f"Lanes and bands: {m.role} image {k + 1}", fig,
                          caption="Left: the image (dark = more signal) with lanes (dotted) and band "
                          "boxes (red: a saturated pixel). Right: each lane's profile with the "
                          "rolling-ball background used to find the bands (dashed)."))  # fmt: skip
    q = res.tables.get("quantified")
    if q is not None and "fold_change" in q and len(q):
        fig, ax = new_figure(6.5, 3.5)
        _draw_fold(ax, res)
        out.append(Figure(f"{prefix}_fold_change", "Fold change against the control lanes", fig))
    return out
