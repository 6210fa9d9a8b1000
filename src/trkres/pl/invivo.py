"""In vivo figures: spider and mean ± SEM growth per arm, the waterfall of best response
coloured by mRECIST, the growth model over the data, synergy over time, Kaplan–Meier curves.

Every function takes an :class:`~trkres.assays.invivo.run.InvivoResult` (what
``tr.invivo.analyze`` returns) and draws; nothing is recomputed except the model's
fitted lines (slope × time, from the fit's own numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from trkres.pl.checks import axes_or_new, require_axes

if TYPE_CHECKING:
    from trkres.assays.invivo.run import InvivoResult
    from trkres.report.model import Figure

__all__ = [
    "invivo_diagnostics",
    "invivo_figures",
    "invivo_growth",
    "invivo_model",
    "invivo_spider",
    "invivo_survival",
    "invivo_synergy",
    "invivo_waterfall",
]

#: Colours of the mRECIST classes (Gao et al. 2015): complete and partial response,
#: stable and progressive disease, not evaluable.
MRECIST_COLOURS = {
    "CR": "#1a9850",
    "PR": "#91cf60",
    "SD": "#fee08b",
    "PD": "#d73027",
    "NE": "#bdbdbd",
}
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
            "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip


def _result(result: object) -> InvivoResult:
    from trkres.assays.invivo.run import InvivoResult
    from trkres.errors import InputError

    if not isinstance(result, InvivoResult):
        raise InputError("nothing to draw", expected="an in vivo result (tr.invivo.analyze)",
                         found=type(result).__name__)  # fmt: skip
    return result


def _colours(arms: list[str]) -> dict[str, str]:
    return {a: _PALETTE[i % len(_PALETTE)] for i, a in enumerate(arms)}


def _draw_spider(ax: Any, res: InvivoResult) -> None:
    data = res.volumes
    colours = _colours(sorted(data["arm"].unique()))
    for (arm, _mouse), sub in data.groupby(["arm", "mouse_id"], sort=True):
        ax.plot(sub["day"], sub["volume"], "-", lw=0.7, alpha=0.7, color=colours[str(arm)])
    for arm, colour in colours.items():
        ax.plot([], [], "-", color=colour, label=arm)
    ax.set_yscale("log")
    ax.set_xlabel("day")
    ax.set_ylabel(f"tumour volume ({res.volume_unit}, log)")
    ax.legend(fontsize=7, frameon=False)


def _draw_growth(ax: Any, res: InvivoResult) -> None:
    curves = res.tables.get("curves")
    if curves is None or not len(curves):
        return
    colours = _colours(sorted(curves["arm"].unique()))
    for arm, sub in curves.groupby("arm", sort=True):
        sem = sub["sem"].fillna(0).to_numpy(dtype=float)
        ax.errorbar(sub["day"], sub["mean"], yerr=sem, fmt="-o", ms=2.5, lw=1, capsize=2,
                    color=colours[str(arm)], label=f"{arm}")  # fmt: skip
    ax.set_xlabel("day")
    ax.set_ylabel("tumour volume (mm³), mean ± SEM")
    ax.legend(fontsize=7, frameon=False)


def _draw_waterfall(ax: Any, res: InvivoResult) -> None:
    m = res.tables.get("mrecist")
    if m is None or not len(m):
        return
    m = m.assign(_br=pd.to_numeric(m["best_response"], errors="coerce")).dropna(subset=["_br"])
    m = m.sort_values("_br", ascending=False, kind="stable")
    x = np.arange(len(m))
    colours = [MRECIST_COLOURS.get(str(c), "#bdbdbd") for c in m["mrecist"]]
    ax.bar(x, np.clip(m["_br"].to_numpy(dtype=float), None, 300), color=colours, width=0.85)
    ax.axhline(0, color="black", lw=0.6)
    for y in (-50, 35):
        ax.axhline(y, color="grey", lw=0.5, ls="--")
    ax.set_xticks(x, (m["arm"].astype(str) + " · " + m["mouse_id"].astype(str)).tolist(),
                  rotation=90, fontsize=5)  # fmt: skip
    ax.set_ylabel("best response (% volume change, capped at 300)")
    from matplotlib.patches import Patch

    handles = [Patch(color=colour, label=cls) for cls, colour in MRECIST_COLOURS.items()
               if (m["mrecist"] == cls).any()]  # fmt: skip
    ax.legend(handles=handles, fontsize=7, frameon=False, title="mRECIST", title_fontsize=7)


def _draw_model(ax: Any, res: InvivoResult) -> None:
    from trkres.assays.invivo.lmm import log_relative_volume

    fit = res.fit
    if fit is None:
        return
    data, _ = log_relative_volume(res.volumes, time_start=res.options.time_start,
                                  time_end=res.options.time_end)  # fmt: skip
    colours = _colours(list(fit.arms))
    for i, arm in enumerate(fit.arms):
        sub = data[data["arm"] == arm]
        ax.plot(sub["time"], sub["log_rtv"], "o", ms=2, alpha=0.5, color=colours[arm])
        t = np.linspace(0.0, float(sub["time"].max()) if len(sub) else 1.0, 20)
        ax.plot(t, fit.beta[i] * t, "-", lw=1.5, color=colours[arm],
                label=f"{arm}: {fit.beta[i]:.3g}/day")  # fmt: skip
    ax.set_xlabel("time from start (days)")
    ax.set_ylabel("log relative volume")
    ax.legend(fontsize=7, frameon=False)


def _draw_synergy(ax: Any, res: InvivoResult) -> None:
    syn = res.tables.get("synergy")
    if syn is None or not len(syn):
        return
    for i, (method, sub) in enumerate(syn.groupby("method", sort=True)):
        colour = _PALETTE[i % len(_PALETTE)]
        y = sub["combination_index"].to_numpy(dtype=float)
        lo = np.clip(y - sub["ci_low"].to_numpy(dtype=float), 0, None)
        hi = np.clip(sub["ci_high"].to_numpy(dtype=float) - y, 0, None)
        ax.errorbar(sub["time"], y, yerr=[lo, hi], fmt="-o", ms=3, capsize=2, color=colour,
                    label=str(method))  # fmt: skip
    ax.axhline(1.0, color="grey", lw=0.6, ls="--")
    ax.set_xlabel("time (days)")
    ax.set_ylabel("combination index (95% CI; < 1 synergy)")
    ax.legend(fontsize=7, frameon=False)


def _from_zero(km: pd.DataFrame) -> pd.DataFrame:
    """Each arm's curve starting at (day 0, 1.0), as a Kaplan–Meier plot is read."""
    arms = km["arm"].drop_duplicates()
    start = pd.DataFrame({"arm": arms, "time": 0.0, "survival": 1.0, "ci_low": 1.0, "ci_high": 1.0})
    return pd.concat([start, km], ignore_index=True).sort_values(["arm", "time"], kind="stable")


def _draw_survival(ax: Any, res: InvivoResult) -> None:
    km = res.tables.get("km")
    if km is None or not len(km):
        return
    km = _from_zero(km)
    colours = _colours(sorted(km["arm"].astype(str).unique()))
    for arm, sub in km.groupby("arm", sort=True):
        colour = colours[str(arm)]
        ax.step(sub["time"], sub["survival"], where="post", color=colour, label=str(arm))
        if {"ci_low", "ci_high"} <= set(sub.columns):
            # R leaves the interval empty once S = 0: drawn there as the point itself.
            ax.fill_between(sub["time"], sub["ci_low"].fillna(sub["survival"]),
                            sub["ci_high"].fillna(sub["survival"]), step="post",
                            color=colour, alpha=0.12, lw=0)  # fmt: skip
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("day")
    ax.set_ylabel("fraction not at endpoint")
    ax.legend(fontsize=7, frameon=False)


def _draw_diagnostics(axes: Any, res: InvivoResult) -> None:
    from scipy import stats

    resid, ranef = res.tables.get("residuals"), res.tables.get("random_effects")
    if resid is None or ranef is None or not len(resid):
        return
    colours = _colours(sorted(resid["arm"].astype(str).unique()))
    ax = axes[0]
    for arm, sub in resid.groupby("arm", sort=True):
        ax.plot(sub["fitted"], sub["pearson"], "o", ms=2.5, alpha=0.6, color=colours[str(arm)],
                label=str(arm))  # fmt: skip
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_xlabel("fitted log relative volume")
    ax.set_ylabel("Pearson residual")
    ax.legend(fontsize=6, frameon=False)
    ax = axes[1]
    dev = np.sort(ranef["slope_deviation"].to_numpy(dtype=float))
    dev = dev[np.isfinite(dev)]
    if len(dev) >= 3:
        q = stats.norm.ppf((np.arange(1, len(dev) + 1) - 0.5) / len(dev))
        ax.plot(q, dev, "o", ms=3, color="#1f5f99")
        slope, intercept = np.polyfit(q, dev, 1)
        ax.plot(q, intercept + slope * q, "-", lw=0.8, color="grey")
    ax.set_xlabel("normal quantile")
    ax.set_ylabel("random slope (BLUP, 1/day)")


def _plot(result: object, ax: Any, draw: Any, size: tuple[float, float]) -> Any:
    """Check the result, take or make the axes, draw, return the axes."""
    res = _result(result)
    ax = axes_or_new(ax, *size)
    draw(ax, res)
    return ax


def invivo_diagnostics(result: InvivoResult, ax: Any = None) -> Any:
    """The growth model's residuals against fitted values, and a normal Q–Q plot of the
    mice's random slopes. ``ax``: a pair of matplotlib axes (a new figure when ``None``);
    returns the pair."""
    res = _result(result)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(1, 2, figsize=(8.0, 3.5))
    try:
        pair = list(ax)
    except TypeError:
        pair = [ax]
    if len(pair) != 2:
        from trkres.errors import InputError

        raise InputError("two axes are needed", expected="a pair of matplotlib axes "
                         "(plt.subplots(1, 2)[1])", found=f"{len(pair)} axes")  # fmt: skip
    for one in pair:
        require_axes(one)
    _draw_diagnostics(pair, res)
    return ax


def invivo_spider(result: InvivoResult, ax: Any = None) -> Any:
    """Each mouse's volume (mm³, log scale) over days, coloured by arm. Returns ``ax``."""
    return _plot(result, ax, _draw_spider, (6.0, 3.5))


def invivo_growth(result: InvivoResult, ax: Any = None) -> Any:
    """Mean volume (mm³) ± SEM per arm and day. Returns ``ax``."""
    return _plot(result, ax, _draw_growth, (6.0, 3.5))


def invivo_waterfall(result: InvivoResult, ax: Any = None) -> Any:
    """Best response (% volume change) per mouse, sorted, coloured by mRECIST class."""
    return _plot(result, ax, _draw_waterfall, (7.0, 3.5))


def invivo_model(result: InvivoResult, ax: Any = None) -> Any:
    """Log relative volume per measurement with the mixed model's slope per arm."""
    return _plot(result, ax, _draw_model, (6.0, 3.5))


def invivo_synergy(result: InvivoResult, ax: Any = None) -> Any:
    """Combination index over time per reference model, with 95% CIs (< 1: synergy)."""
    return _plot(result, ax, _draw_synergy, (6.0, 3.5))


def invivo_survival(result: InvivoResult, ax: Any = None) -> Any:
    """Kaplan–Meier curves of time to the endpoint per arm, with 95% bands."""
    return _plot(result, ax, _draw_survival, (6.0, 3.5))


def _plotly_lines(frame: pd.DataFrame, x: str, y: str, by: str, *, log_y: bool = False,
                  error: str | None = None, step: bool = False, per: str | None = None) -> Any:  # fmt: skip
    import plotly.graph_objects as go

    pfig = go.Figure()
    colours = _colours(sorted(frame[by].astype(str).unique()))
    shown: set[str] = set()
    for key, sub in frame.groupby([by, per] if per else [by], sort=True):
        arm = str(key[0])
        pfig.add_trace(go.Scatter(
            x=sub[x], y=sub[y], mode="lines+markers" if not step else "lines",
            line={"color": colours[arm], "width": 1, "shape": "hv" if step else "linear"},
            marker={"size": 4}, name=arm, legendgroup=arm, showlegend=arm not in shown,
            error_y={"type": "data", "array": sub[error].fillna(0)} if error else None,
            hovertext=[f"{arm}" + (f" · {m}" if per else "") + f": {x} {d:g}, {v:.4g}"
                       for d, v, m in zip(sub[x], sub[y], sub[per] if per else sub[x], strict=True)],
            hoverinfo="text",
        ))  # fmt: skip
        shown.add(arm)
    pfig.update_layout(height=380, margin={"l": 60, "r": 20, "t": 20, "b": 40},
                       yaxis_type="log" if log_y else "linear", xaxis_title=x)  # fmt: skip
    return pfig


def invivo_figures(result: InvivoResult, prefix: str = "invivo") -> list[Figure]:
    """The report's figures (only those the result has data for)."""
    from trkres.pl.style import new_figure
    from trkres.report.model import Figure

    res = _result(result)
    out: list[Figure] = []
    if not len(res.volumes):
        return out
    fig, ax = new_figure(6.5, 3.8)
    _draw_spider(ax, res)
    out.append(Figure(f"{prefix}_spider", "Tumour volume per mouse", fig,
                      _plotly_lines(res.volumes, "day", "volume", "arm", log_y=True, per="mouse_id"),
                      caption=f"Each line is one mouse (volume in {res.volume_unit}, log scale)."))  # fmt: skip
    curves = res.tables.get("curves")
    if curves is not None and len(curves):
        fig, ax = new_figure(6.5, 3.8)
        _draw_growth(ax, res)
        out.append(Figure(f"{prefix}_growth", "Mean tumour volume ± SEM per arm", fig,
                          _plotly_lines(curves, "day", "mean", "arm", error="sem"),
                          caption="Mean of the mice measured on each day, ± standard error; "
                          "arms thin out as mice leave the study."))  # fmt: skip
    m = res.tables.get("mrecist")
    if m is not None and len(m):
        fig, ax = new_figure(7.0, 3.8)
        _draw_waterfall(ax, res)
        out.append(Figure(f"{prefix}_waterfall", "Best response per mouse (mRECIST)", fig,
                          caption="Dashed lines: −50% (PR) and +35% (PD) of best response; "
                          "bars capped at +300%."))  # fmt: skip
    if res.fit is not None:
        fig, ax = new_figure(6.5, 3.8)
        _draw_model(ax, res)
        out.append(Figure(f"{prefix}_model", "Growth model: log relative volume and fitted slopes",
                          fig, caption=f"Linear mixed model (REML), variance: {res.fit.variance}."))  # fmt: skip
    if res.tables.get("residuals") is not None and len(res.tables["residuals"]):
        fig, axes = new_figure(8.0, 3.5, 1, 2)
        _draw_diagnostics(axes, res)
        out.append(Figure(f"{prefix}_diagnostics", "Growth model diagnostics", fig,
                          caption="Left: Pearson residuals against fitted values (a funnel asks "
                          "for a variance function). Right: normal Q–Q plot of the mice's random "
                          "slopes (Shapiro–Wilk in the normality table)."))  # fmt: skip
    syn = res.tables.get("synergy")
    if syn is not None and len(syn):
        fig, ax = new_figure(6.5, 3.5)
        _draw_synergy(ax, res)
        out.append(Figure(f"{prefix}_synergy", "Combination synergy over time", fig,
                          caption="Combination index (observed / expected relative volume under "
                          "each reference model) with 95% CI at every time, the model refitted on "
                          "the data up to that time; below 1: synergy."))  # fmt: skip
    km = res.tables.get("km")
    if km is not None and len(km):
        fig, ax = new_figure(6.5, 3.5)
        _draw_survival(ax, res)
        out.append(Figure(f"{prefix}_survival", "Time to endpoint (Kaplan–Meier)", fig,
                          _plotly_lines(_from_zero(km), "time", "survival", "arm", step=True),
                          caption="Fraction of mice not yet at the endpoint (see the notes), with "
                          "95% log-scale bands as R's survfit; mice leaving early are censored."))  # fmt: skip
    return out
