"""Growth-rate (GR) inhibition metrics (Hafner et al. 2016, doi:10.1038/nmeth.3853).

GR values remove the confounding of drug sensitivity by division rate, which
matters here: a resistant line selected under a TRK inhibitor often grows more
slowly than its parent, and plain viability ratios then over- or under-state
resistance. With x the treated count, x_ctrl the untreated count at the same
time and x0 the count at time zero:

    GR(c) = 2^(log2(x/x0) / log2(x_ctrl/x0)) − 1      (1 = no effect, 0 = cytostatic, < 0 = cytotoxic)

Each experiment's GR values are fitted with GR(c) = GRinf + (1 − GRinf) /
(1 + (c / GEC50)^h) by the batch fitter (bounds as the GRmetrics package:
GRinf in [−1, 1], h in [0.1, 5], GEC50 within 10^±2 of the tested range),
compared with a flat line by an F-test (on 2 and n − 2 degrees of freedom, as
GRmetrics computes it, so calls and p-values reproduce its output); when the sigmoid is not significant
(p ≥ ``alpha``) the flat fit is kept (GEC50 = 0, Hill = 0.01, GRinf = mean GR),
as GRmetrics does. Metrics: GR50 (where the fitted curve crosses GR = 0.5; ∞ if
it never does), GRmax (the lowest GR at the two highest concentrations), GR_AOC (area
over the GR curve, trapezoids on log10 concentration, divided by the range).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from trkres.assays.doseresponse.curvefit import fit_parameters, log_logistic, pack_arrays

KEYS = ("cell_line", "agent", "perturbation", "replicate", "time")


COUNT_COLUMNS = ("cell_count", "cell_count__ctrl", "cell_count__time0")


def read_gr_checked(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a GR table (GRmetrics' layout); return (usable rows, reported rows).

    Needs ``concentration`` and either ``GR`` or the three counts. Text where a
    number belongs is an error (file, line, column). Rows that cannot give a GR
    value -- a missing or non-finite number, a negative concentration, a count
    ≤ 0, or ``cell_count__ctrl`` equal to ``cell_count__time0`` (no growth of
    the control: GR is undefined) -- are listed in the second table with their
    file, line, row, column, expected and found, as are concentration-0 rows
    (controls: not fitted). Rows in = rows used + rows reported.
    """
    from trkres.assays.doseresponse.io import ISSUE_COLUMNS, _issue, exact_copies, read_table
    from trkres.errors import InputError, Location
    from trkres.tables import parse_numbers as _numbers

    frame = read_table(path)
    has_gr = "GR" in frame.columns
    need = ["concentration", *(["GR"] if has_gr else COUNT_COLUMNS)]
    missing_cols = [c for c in need if c not in frame.columns]
    if missing_cols:
        raise InputError("GR table lacks columns", location=Location(file=path, line=1),
                         expected=", ".join(need), found=", ".join(map(str, frame.columns)))  # fmt: skip
    blank = (
        (frame.fillna("").astype(str).apply(lambda c: c.str.strip()) == "").all(axis=1).to_numpy()
    )
    drop = blank.copy()
    values: dict[str, np.ndarray] = {}
    issues: list[pd.DataFrame] = []

    def report(mask: np.ndarray, column: str, expected: str, action: str = "dropped") -> None:
        nonlocal drop
        bad = mask & ~drop
        if bad.any():
            rows = np.flatnonzero(bad)
            found = frame[column].iloc[rows].astype(str).replace("", "empty")
            issues.append(_issue(path, rows, column, expected, found, action))
            drop |= bad

    for col in need:
        v, miss, text = _numbers(frame[col])
        bad = text & ~drop
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(f"non-numeric {col}", location=Location(file=path, line=row + 2, row=row + 1, column=col),
                             expected="a number", found=repr(frame[col].iloc[row]))  # fmt: skip
        values[col] = v
        report(miss, col, "a number (not missing)")
        report(~miss & ~np.isfinite(v), col, "a finite number")
    conc = values["concentration"]
    report(conc < 0, "concentration", "a concentration >= 0")
    if not has_gr:
        for col in COUNT_COLUMNS:
            report(values[col] <= 0, col, "a cell count > 0")
        report(values["cell_count__ctrl"] == values["cell_count__time0"], "cell_count__ctrl",
               "a control count different from cell_count__time0 (else GR is undefined)")  # fmt: skip
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            gr = 2 ** (np.log2(values["cell_count"] / values["cell_count__time0"])
                       / np.log2(values["cell_count__ctrl"] / values["cell_count__time0"])) - 1  # fmt: skip
        report(~np.isfinite(gr), "cell_count", "counts that give a finite GR value")
    report(
        conc == 0, "concentration", "a concentration > 0 (0 is a control: not fitted)", "ignored"
    )
    copies, copy_issues = exact_copies(frame, path, ~drop, what="GR")
    if copy_issues is not None:
        issues.append(copy_issues)
        drop |= copies
    use = np.flatnonzero(~drop)
    out = frame.iloc[use].reset_index(drop=True)
    for (
        col
    ) in out.columns:  # other columns: numbers where every cell is one, as pandas would read them
        if col in values:
            out[col] = values[col][use]
            continue
        with contextlib.suppress(ValueError, TypeError):
            out[col] = pd.to_numeric(out[col])
    report_frame = (
        pd.concat(issues, ignore_index=True) if issues else pd.DataFrame(columns=ISSUE_COLUMNS)
    )
    if len(report_frame):
        report_frame = report_frame.sort_values("line", kind="stable").reset_index(drop=True)
    if out.empty:
        raise InputError("no usable rows", location=Location(file=path),
                         expected="rows with a concentration > 0 and counts that give a GR value",
                         found=f"{len(report_frame)} row(s), none usable" + (
                             f"; first: line {report_frame['line'].iloc[0]}, column {report_frame['column'].iloc[0]}: "
                             f"{report_frame['found'].iloc[0]}" if len(report_frame) else ""))  # fmt: skip
    return out, report_frame


def gr_values(frame: pd.DataFrame) -> pd.Series:
    """GR per row from ``cell_count``, ``cell_count__ctrl`` and ``cell_count__time0``."""
    x, ctrl, x0 = (
        frame[c].to_numpy(float) for c in ("cell_count", "cell_count__ctrl", "cell_count__time0")
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.Series(
            2 ** (np.log2(x / x0) / np.log2(ctrl / x0)) - 1, index=frame.index, name="GR"
        )


def fit_gr(frame: pd.DataFrame, keys: Sequence[str] = KEYS, *, alpha: float = 0.05) -> pd.DataFrame:
    """One row per experiment (``keys``): GR50, GRmax, GR_AOC, GEC50, GRinf, Hill, r2, pval, fit.

    ``frame`` holds ``concentration`` (> 0; any unit, kept in the output) and
    either a ``GR`` column or the three counts of :func:`gr_values`.
    """
    data = frame.copy()
    if "GR" not in data.columns:
        data["GR"] = gr_values(data)
    data = data[(data["concentration"] > 0) & np.isfinite(data["GR"])]
    keys = [k for k in keys if k in data.columns]
    exp = data.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    logc = np.log10(data["concentration"].to_numpy(float))
    gr = data["GR"].to_numpy(float)
    cs = pack_arrays(exp, logc, gr)
    n_curves = len(cs.ids)
    mask = np.arange(cs.x.shape[1])[None, :] < cs.n[:, None]
    xmin = np.min(np.where(mask, cs.x, np.inf), axis=1)
    xmax = np.max(np.where(mask, cs.x, -np.inf), axis=1)
    inf = np.full(n_curves, np.inf)
    lo = np.column_stack(
        [xmin - 2, np.full(n_curves, -5.0), np.ones(n_curves), np.full(n_curves, -1.0)]
    )
    hi = np.column_stack([xmax + 2, np.full(n_curves, -0.1), np.ones(n_curves), np.ones(n_curves)])
    mid = np.nanmedian(np.where(mask, cs.x, np.nan), axis=1)
    starts = np.stack([np.column_stack([mid, -h * np.ones(n_curves), np.ones(n_curves), b * np.ones(n_curves)])
                       for h, b in ((2.0, 0.1), (1.0, -0.5), (0.5, 0.5))], axis=1)  # fmt: skip
    params, sse = fit_parameters(
        cs, model="3pl", top=np.ones(n_curves), bounds=(lo, hi), starts=starts
    )
    y = np.where(mask, cs.y, np.nan)
    mean = np.nanmean(y, axis=1)
    sst = np.nansum((y - mean[:, None]) ** 2, axis=1)
    n = cs.n.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # GRmetrics' F-test uses (2, n − 2) degrees of freedom; kept so calls and p-values match it.
        f_value = ((sst - sse) / 2) / (sse / (n - 2))
        pval = stats.f.sf(f_value, 2, n - 2)
        r2 = 1 - sse / sst
    sigmoid = pval < alpha
    log_gec50, hill_prism, _, grinf = params.T
    h = -hill_prism
    grinf = np.where(sigmoid, grinf, mean)
    gec50 = np.where(sigmoid, 10**log_gec50, 0.0)
    h = np.where(sigmoid, h, 0.01)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        gr50 = np.where(sigmoid & (grinf < 0.5), gec50 * (0.5 / (0.5 - grinf)) ** (1.0 / h), inf)
    # GRmax and GR_AOC from the observed values.
    frame_obs = pd.DataFrame({"exp": exp, "logc": logc, "gr": gr})
    per_conc = (
        frame_obs.groupby(["exp", "logc"], sort=True)["gr"].agg(["mean", "min"]).reset_index()
    )
    top_two = per_conc.groupby("exp").tail(2)
    grmax = top_two.groupby("exp")["min"].min().reindex(cs.ids.astype(np.int64)).to_numpy()
    # Trapezoids between neighbouring concentrations of the same experiment, all at once.
    e = per_conc["exp"].to_numpy()
    xv, yv = per_conc["logc"].to_numpy(), per_conc["mean"].to_numpy()
    same = e[1:] == e[:-1]
    area = np.where(same, np.diff(xv) * (1 - (yv[1:] + yv[:-1]) / 2), 0.0)
    span = np.where(same, np.diff(xv), 0.0)
    ids = cs.ids.astype(np.int64)
    width = np.bincount(e[1:], weights=span, minlength=int(ids.max()) + 1)[ids]
    with np.errstate(invalid="ignore", divide="ignore"):
        aoc = np.bincount(e[1:], weights=area, minlength=int(ids.max()) + 1)[ids] / np.where(
            width > 0, width, np.nan
        )
    first = data.groupby(exp, sort=True)[keys].first()
    out = pd.DataFrame(first.reindex(ids).reset_index(drop=True))
    out["GR50"], out["GRmax"], out["GR_AOC"] = gr50, grmax, aoc
    out["GEC50"], out["GRinf"], out["Hill"] = gec50, grinf, h
    out["r2"], out["pval"] = r2, pval
    out["fit"] = np.where(sigmoid, "sigmoid", "flat")
    return out


def gr_curve(out: pd.DataFrame, concentration: np.ndarray) -> np.ndarray:
    """Fitted GR of each experiment row of :func:`fit_gr` at ``concentration`` (rows × concentrations)."""
    with np.errstate(divide="ignore"):
        x = np.log10(concentration)[None, :]
    g = out["GEC50"].to_numpy(float)[:, None]
    with np.errstate(divide="ignore"):
        lg = np.log10(np.where(g > 0, g, np.nan))
    fitted = log_logistic(x, lg, -out["Hill"].to_numpy(float)[:, None], np.ones_like(lg),
                          out["GRinf"].to_numpy(float)[:, None])  # fmt: skip
    return np.where(g > 0, fitted, out["GRinf"].to_numpy(float)[:, None])


def compare_gr(metrics: pd.DataFrame, *, condition: str, reference: str,
               by: Sequence[str] = ("agent", "perturbation", "time"),
               metric: str = "GR50", ci: float = 0.95) -> pd.DataFrame:  # fmt: skip
    """GR-based fold resistance: ratio of geometric-mean ``metric`` (GR50 or GEC50), condition / reference.

    Replicate experiments are the unit: log10 values are compared by Welch's
    t-test and the ratio's CI is the back-transformed Welch interval. Experiments
    whose GR50 is infinite (GR never reaches 0.5) make the ratio unbounded; the
    row says so (``status = not_reached``) instead of inventing a number. Experiments
    whose metric is 0 (GEC50 of a flat fit) or missing leave no ratio to estimate
    (``status = not_estimable``, no fold change).
    """
    rows = []
    by = [b for b in by if b in metrics.columns]
    groups = metrics.groupby(by, sort=False) if by else [((), metrics)]
    for key, g in groups:
        ref = g[g[condition].astype(str) == reference][metric].to_numpy(float)
        for cond, c in g[g[condition].astype(str) != reference].groupby(condition, sort=False):
            val = c[metric].to_numpy(float)
            row: dict[str, object] = dict(
                zip(by, key if isinstance(key, tuple) else (key,), strict=True)
            )
            row.update({"condition": cond, "reference": reference, "metric": metric,
                        "n_condition": len(val), "n_reference": len(ref)})  # fmt: skip
            if np.isinf(val).any() or np.isinf(ref).any():
                row.update(
                    {
                        "fold_change": np.inf if np.isinf(val).any() else np.nan,
                        "status": "not_reached",
                    }
                )
            elif not ((val > 0).all() and (ref > 0).all()):
                # GEC50 = 0 is GRmetrics' mark of a flat fit (no sigmoid), NaN a failed one:
                # no ratio of geometric means exists (log10 0 = −inf gave a fold of 0).
                row.update({"fold_change": np.nan, "status": "not_estimable"})
            elif len(val) < 2 or len(ref) < 2:
                row.update({"fold_change": 10 ** (np.log10(val).mean() - np.log10(ref).mean()) if len(val) and len(ref) else np.nan,
                            "status": "too_few_replicates"})  # fmt: skip
            else:
                a, b = np.log10(val), np.log10(ref)
                diff = a.mean() - b.mean()
                va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
                se = np.sqrt(va + vb)
                dof = (
                    (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
                    if se > 0
                    else np.inf
                )
                t = stats.t.ppf(1 - (1 - ci) / 2, dof)
                p = stats.ttest_ind(a, b, equal_var=False).pvalue
                row.update({"fold_change": 10**diff, "fold_ci_low": 10 ** (diff - t * se),
                            "fold_ci_high": 10 ** (diff + t * se), "p_value": p, "status": "ok"})  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)
