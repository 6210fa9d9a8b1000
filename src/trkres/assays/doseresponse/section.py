"""The dose-response report section: curve fits and resistant-vs-parental comparisons."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from pydantic import BaseModel, ConfigDict, Field

from trkres.assays.doseresponse.curvefit import fit_curves
from trkres.assays.doseresponse.io import read_long_checked
from trkres.assays.doseresponse.resistance import (
    COMPARISON_COLUMNS,
    compare_conditions,
    pool_experiments,
)
from trkres.errors import InputError
from trkres.pl.style import new_figure
from trkres.report.model import Figure, Flag, Section, Table
from trkres.study.manifest import InputKind
from trkres.study.registry import AnalysisContext, register

_COLOURS = ["#1f5f99", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]


class DoseResponseOptions(BaseModel):
    """Options of the dose-response analysis (``options: {dose_response: {...}}``)."""

    model_config = ConfigDict(extra="forbid")

    condition: str = Field("line", description="column naming the condition (cell line)")
    reference: str = Field("parental", description="reference condition")
    by: list[str] = Field(
        default_factory=lambda: ["drug"], description="groups compared separately"
    )
    dose_unit: str | None = Field(None, description="unit when the table has no 'unit' column")
    model: Literal["4pl", "3pl", "2pl"] = "4pl"
    threshold: float = Field(10.0, gt=1, description="fold change that establishes resistance")
    robust: bool = Field(False, description="down-weight outlying wells (Huber loss, IRLS)")
    experiment: str | None = Field(
        None, description="column naming replicate experiments, pooled with a random effect"
    )


#: Where vehicle (dose 0) points are drawn on a log dose axis: this many decades left of
#: the lowest dose, beyond an axis break ("//"), labelled "vehicle".
_VEHICLE_DECADES = 1.0


def _draw_vehicle(
    ax: Any, stats_: pd.DataFrame, dmin: float, colour: str | None = None
) -> float | None:
    """Draw the vehicle (dose 0) mean ± SD left of an axis break; its x position (or None)."""
    veh = stats_[stats_["dose_molar"] == 0]
    if veh.empty or not np.isfinite(dmin) or dmin <= 0:
        return None
    xv = dmin / 10**_VEHICLE_DECADES
    kw = {"color": colour} if colour else {}
    ax.errorbar([xv], veh["mean"], yerr=veh["std"].fillna(0), fmt="s", ms=3, mfc="white",
                capsize=1.5, **kw)  # fmt: skip
    brk = float(np.sqrt(xv * dmin))
    ax.text(brk, 0.0, "//", transform=ax.get_xaxis_transform(), ha="center", va="center",
            fontsize=7, clip_on=False)  # fmt: skip
    ax.text(xv, 0.02, "vehicle", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
            fontsize=5, rotation=90)  # fmt: skip
    return xv


def overlay_figure(data: pd.DataFrame, fits: pd.DataFrame, by: list[str], condition: str) -> Figure:
    """One panel per group: mean ± SD per dose for each condition, with its fitted curve."""
    groups = list(data.groupby(by, sort=False)) if by else [((), data)]
    fig, axes = new_figure(4.2 * len(groups), 3.2, nrows=1, ncols=len(groups))
    axes = np.atleast_1d(axes)
    pfig = go.Figure()
    fit_by_id = fits.set_index("curve_id")
    for ax, (gkey, g) in zip(axes, groups, strict=True):
        title = " | ".join(map(str, gkey if isinstance(gkey, tuple) else (gkey,)))
        for k, (cond, c) in enumerate(g.groupby(condition, sort=False)):
            colour = _COLOURS[k % len(_COLOURS)]
            all_stats = c.groupby("dose_molar")["response"].agg(["mean", "std"]).reset_index()
            stats_ = all_stats[all_stats["dose_molar"] > 0]  # vehicle drawn apart: no log10(0)
            ax.errorbar(stats_["dose_molar"], stats_["mean"], yerr=stats_["std"], fmt="o", ms=3,
                        color=colour, capsize=2, label=str(cond))  # fmt: skip
            _draw_vehicle(
                ax, all_stats, float(stats_["dose_molar"].min()) if len(stats_) else np.nan, colour
            )
            f = fit_by_id.loc[c["curve_id"].iloc[0]]
            if len(stats_) and np.isfinite(f["log10_ic50"]):
                xs = np.linspace(
                    np.log10(stats_["dose_molar"].min()), np.log10(stats_["dose_molar"].max()), 200
                )
                with np.errstate(over="ignore"):
                    ys = f["bottom"] + (f["top"] - f["bottom"]) / (
                        1 + 10 ** ((f["log10_ic50"] - xs) * f["hill_slope"])
                    )
                ax.plot(10**xs, ys, color=colour, lw=1.2)
                pfig.add_trace(go.Scatter(x=10**xs, y=ys, mode="lines", line={"color": colour},
                                          name=f"{title}: {cond} fit (IC50 {f['ic50']:.3g} M)"))  # fmt: skip
            pfig.add_trace(go.Scatter(
                x=stats_["dose_molar"], y=stats_["mean"], mode="markers", marker={"color": colour},
                error_y={"type": "data", "array": stats_["std"].fillna(0)}, name=f"{title}: {cond}",
            ))  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("dose (M)")
        ax.set_ylabel("viability (fraction of vehicle)")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7, frameon=False)
    pfig.update_layout(
        xaxis_type="log", xaxis_title="dose (M)", yaxis_title="viability", height=420
    )
    return Figure("dose_response_overlay", "Dose-response: reference vs other conditions", fig, pfig,
                  caption="Points: mean ± SD of replicates; lines: 4PL fits; open squares left of the "
                          "axis break (//): vehicle (dose 0) wells.")  # fmt: skip


def _plate_curves(ctx: AnalysisContext, keys: list[str]) -> list[pd.DataFrame]:
    """Single-drug plates as long tables, grouped like the study's own tables (line and drug)."""
    from trkres.assays.plates.section import study_plates
    from trkres.assays.plates.wells import drug_count, to_dose_response

    out = []
    for _, wells in study_plates(ctx):
        if drug_count(wells) == 1:
            long = to_dose_response(wells)
            missing = [k for k in keys if k not in long.columns]
            if missing:
                raise InputError("plate curves cannot be grouped as the options ask",
                                 expected="groups among line, drug", found=", ".join(missing))  # fmt: skip
            long["curve_id"] = long[keys].astype(str).agg(" | ".join, axis=1)
            out.append(long)
    return out


def curves_figure(data: pd.DataFrame, fits: pd.DataFrame, max_curves: int = 24) -> Figure:
    """Small multiples: each curve's points (mean ± SD per dose) and its fit, status in the title."""
    ids = list(fits["curve_id"].head(max_curves))
    ncols = min(len(ids), 6) or 1
    nrows = int(np.ceil(len(ids) / ncols)) or 1
    fig, axes = new_figure(2.2 * ncols, 1.9 * nrows, nrows=nrows, ncols=ncols)
    axes = np.atleast_1d(axes).ravel()
    by_id = fits.set_index("curve_id")
    groups = dict(tuple(data[data["curve_id"].isin(ids)].groupby("curve_id", sort=False)))
    for ax, cid in zip(axes, ids, strict=False):
        g = groups.get(cid)
        if g is None:
            continue
        all_st = g.groupby("dose_molar")["response"].agg(["mean", "std"]).reset_index()
        st = all_st[all_st["dose_molar"] > 0]  # vehicle (dose 0) drawn apart: no log10(0)
        ax.errorbar(
            st["dose_molar"], st["mean"], yerr=st["std"].fillna(0), fmt="o", ms=2.5, capsize=1.5
        )
        _draw_vehicle(ax, all_st, float(st["dose_molar"].min()) if len(st) else np.nan, "C0")
        f = by_id.loc[cid]
        if len(st) and np.isfinite(f["log10_ic50"]):
            xs = np.linspace(
                np.log10(st["dose_molar"].min()), np.log10(st["dose_molar"].max()), 100
            )
            with np.errstate(over="ignore"):
                ax.plot(
                    10**xs,
                    f["bottom"]
                    + (f["top"] - f["bottom"])
                    / (1 + 10 ** ((f["log10_ic50"] - xs) * f["hill_slope"])),
                    lw=1,
                )
        ax.set_xscale("log")
        ax.set_title(f"{cid}\n{f['status']}, IC50 {f['ic50']:.2g} M", fontsize=6)
        ax.tick_params(labelsize=6)
    for ax in axes[len(ids) :]:
        ax.set_visible(False)
    return Figure("dose_response_curves", "Curve fits", fig,
                  caption=f"The first {len(ids)} curves: mean ± SD per dose and the fitted curve; "
                          "open squares left of the axis break (//): vehicle (dose 0) wells.")  # fmt: skip


def forest_figure(
    comparisons: pd.DataFrame, threshold: float, name: str = "dose_response_forest"
) -> Figure:
    """Fold change in IC50 with its 95% CI for every comparison (log scale), with the threshold."""
    c = comparisons.reset_index(drop=True)
    labels = [
        f"{r['group']}: {r['condition']} vs {r['reference']}".strip(": ") for _, r in c.iterrows()
    ]
    fig, ax = new_figure(6.0, 0.8 + 0.35 * max(len(c), 1))
    y = np.arange(len(c))[::-1]
    err = np.vstack([c["fold_change"] - c["fold_ci_low"], c["fold_ci_high"] - c["fold_change"]])
    colours = np.where(c["resistant"].astype(bool), "#d62728", "#1f5f99")
    for k in range(len(c)):
        ax.errorbar(c["fold_change"].iloc[k], y[k], xerr=np.nan_to_num(err[:, k : k + 1]), fmt="s", ms=4,
                    color=colours[k], capsize=2)  # fmt: skip
    ax.axvline(1, color="k", lw=0.6)
    ax.axvline(threshold, color="grey", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("fold change in IC50 (95% CI)")
    pfig = go.Figure(go.Scatter(
        x=c["fold_change"], y=labels, mode="markers", marker={"color": list(colours), "symbol": "square"},
        error_x={"type": "data", "symmetric": False, "array": err[1], "arrayminus": err[0]},
    ))  # fmt: skip
    pfig.update_layout(
        xaxis_type="log", xaxis_title="fold change in IC50", height=200 + 30 * len(c)
    )
    pfig.add_vline(x=threshold, line_dash="dash", line_color="grey")
    return Figure(name, "Fold resistance (forest plot)", fig, pfig,
                  caption=f"Red: resistant (≥ {threshold:g}-fold with the CI above 1); dashed: the threshold.")  # fmt: skip


def _pooled_tables(data: pd.DataFrame, opts: DoseResponseOptions) -> list[Table]:
    if not opts.experiment:
        return []
    pooled, per = pool_experiments(data, condition=opts.condition, reference=opts.reference,
                                   experiment=opts.experiment, by=opts.by, threshold=opts.threshold,
                                   robust=opts.robust)  # fmt: skip
    return [Table("dose_response_resistance_pooled", pooled, "Fold resistance pooled over experiments",
                  caption="DerSimonian-Laird random effect for experiment on log10 fold changes; τ² and I² "
                          "give the between-experiment spread."),
            Table("dose_response_resistance_by_experiment", per, "Fold resistance per experiment")]  # fmt: skip


@register("dose_response", "Dose-response and fold resistance",
          any_of={InputKind.dose_response, InputKind.plate}, options=DoseResponseOptions, order=200)  # fmt: skip
def dose_response_section(ctx: AnalysisContext) -> Section:
    """Fit every curve, compare each condition with the reference, flag resistance."""
    opts = ctx.options if isinstance(ctx.options, DoseResponseOptions) else DoseResponseOptions()
    keys = [*opts.by, opts.condition]
    paths = ctx.paths(InputKind.dose_response)
    extra = [opts.experiment] if opts.experiment else []
    reads = [read_long_checked(p, group=[*keys, *extra], dose_unit=opts.dose_unit) for p in paths]
    frames = [r[0] for r in reads]
    issues = pd.concat([r[1] for r in reads], ignore_index=True) if reads else pd.DataFrame()
    frames += _plate_curves(ctx, keys)
    if not frames:
        return Section(name="dose_response", title="Dose-response and fold resistance",
                       summary="No single-drug dose-response data: the study's plates hold combinations.")  # fmt: skip
    data = pd.concat(frames, ignore_index=True)
    data["curve_id"] = data[keys].astype(str).agg(" | ".join, axis=1)
    fits = fit_curves(data, model=opts.model, robust=opts.robust)
    levels = sorted(set(data[opts.condition].astype(str)))
    has_ref = opts.reference in levels
    if not has_ref and "reference" in opts.model_fields_set:
        # Named by the user: a typo would otherwise give an empty resistance table.
        doc = ctx.study.document
        shown = ", ".join(levels[:20]) + (f" … ({len(levels)} levels)" if len(levels) > 20 else "")
        raise InputError(
            f"dose_response option reference '{opts.reference}' is not a level of column "
            f"'{opts.condition}'",
            location=doc.locate(["options", "dose_response", "reference"]),
            expected=f"one of: {shown}",
            found=opts.reference,
        )
    comparisons = (
        compare_conditions(data, condition=opts.condition, reference=opts.reference,
                           by=opts.by, threshold=opts.threshold, fits=fits)
        if has_ref else pd.DataFrame(columns=COMPARISON_COLUMNS)
    )  # fmt: skip
    flags = [
        Flag("info", f"{r.group}: {r.condition} is {r.fold_change:.3g}-fold resistant to the "
             f"{r.reference} line (95% CI {r.fold_ci_low:.3g}-{r.fold_ci_high:.3g})")
        for r in comparisons.itertuples() if r.resistant
    ]  # fmt: skip
    if not has_ref:
        flags.append(Flag("warning", f"reference '{opts.reference}' is not a level of '{opts.condition}' "
                          f"(found: {', '.join(levels[:20])}): no fold resistance computed; set "
                          "options: dose_response: reference"))  # fmt: skip
    if len(issues):
        flags.append(Flag("warning", f"{len(issues)} dose-response row(s) could not be used "
                          "(see the table of unusable rows)"))  # fmt: skip
    bad = fits[fits["status"] != "ok"]
    if len(bad):
        flags.append(Flag("warning", f"{len(bad)} curve(s) not 'ok': "
                          + ", ".join(f"{c} ({s})" for c, s in zip(bad["curve_id"], bad["status"], strict=True))))  # fmt: skip
    return Section(
        name="dose_response",
        title="Dose-response and fold resistance",
        summary=(
            f"{len(fits)} curves fitted with the {opts.model} log-logistic model (Prism's parameterisation; "
            "IC50 in molar, asymptotic 95% CIs; vehicle rows, dose 0, as the zero-dose limit; 'ambiguous' "
            "fits, not determined by the data, make no call). Fold resistance compares each condition with "
            f"'{opts.reference}' within each {', '.join(opts.by) or 'set'}; resistance is called at "
            f"≥ {opts.threshold:g}-fold with the CI above 1."
        ),
        tables=[
            Table("dose_response_resistance", comparisons, "Fold resistance"),
            *(_pooled_tables(data, opts) if has_ref else []),
            Table("dose_response_fits", fits, "Curve fits"),
            *(
                [Table("dose_response_issues", issues, "Dose-response rows that could not be used")]
                if len(issues)
                else []
            ),
        ],
        figures=[
            overlay_figure(data, fits, opts.by, opts.condition),
            *([forest_figure(comparisons, opts.threshold)] if len(comparisons) else []),
        ],
        flags=flags,
    )
