"""Per-arm summaries: mean ± SEM curves, T/C% and TGI% against a control arm, mRECIST counts.

**Curves** (:func:`arm_curves`): per arm and measured day, the mice measured that day —
mean, SD (n − 1) and SEM of volume (mm³) and of relative volume ``V_t/V0`` (each mouse's
own baseline; mice with a zero baseline have no relative volume and are left out of its
mean, ``n_relative`` says how many entered).

**T/C and TGI** (:func:`tgi_table`) at one evaluation day ``d`` (days, the data's ``day``
scale):

* *Per-mouse value at d*: mice are not always measured on the same days. A mouse's volume
  at ``d`` is its measurement on ``d`` or, between two measurements, the **linear
  interpolation** between the last one before and the first one after ``d``. Mice whose
  measurements do not span ``d`` (first day after ``d`` or last day before it) are **not
  extrapolated**: they are left out, and the ``n_*`` columns count the mice used.
* *Default evaluation day*: the last control-arm measurement day at which at least half of
  the control mice are measured (span ``d`` as above). Late days where most control mice
  have left (typically at a volume endpoint) would compare the few slow growers that
  remain; half is the usual cut (the column ``day_rule`` states which rule gave ``d``).
* ``T/C% = 100·mean(T_d)/mean(C_d)``; ``Δ = mean(V_d) − mean(V_0)`` of the same mice
  (each mouse's baseline), so Δ is the mean per-mouse change;
  ``TGI% = 100·(1 − ΔT/ΔC)`` (NCI; undefined when ``ΔC <= 0``);
  when ``ΔT < 0`` the arm regressed: ``regression% = −100·ΔT/mean(T_0)`` and
  ``outcome = "regression"`` (NCI convention), else ``outcome = "growth inhibition"``;
* relative tumour volume variant: ``rtv_t_over_c_pct = 100·mean(RTV_T)/mean(RTV_C)`` with
  ``RTV = V_d/V_0`` per mouse;
* test: Welch's t-test (unequal variances, ``scipy.stats.ttest_ind(equal_var=False)``) on
  the per-mouse change ``V_d − V_0`` (mm³), treated vs control — the quantity TGI compares —
  with the Mann–Whitney U two-sided p on the same values beside it.

**mRECIST distribution** (:func:`mrecist_distribution`): per arm, counts and fractions of
CR/PR/SD/PD/NE (fraction of all mice; ``fraction_evaluable`` of the CR–PD mice).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from trkres.assays.invivo.curves import check_volumes
from trkres.assays.invivo.response import MRECIST_CLASSES
from trkres.errors import InputError

CURVE_COLUMNS = (
    "arm",
    "day",
    "n",
    "mean",
    "sd",
    "sem",
    "n_relative",
    "mean_relative_volume",
    "sem_relative_volume",
)

TGI_COLUMNS = (
    "arm",
    "control",
    "day",
    "day_rule",
    "n_treated",
    "n_control",
    "mean_treated",
    "mean_control",
    "mean_treated_start",
    "mean_control_start",
    "delta_treated",
    "delta_control",
    "t_over_c_pct",
    "tgi_pct",
    "regression_pct",
    "outcome",
    "rtv_t_over_c_pct",
    "test",
    "p_value",
    "p_mann_whitney",
    "note",
)


def arm_curves(volumes: pd.DataFrame) -> pd.DataFrame:
    """Mean ± SD/SEM of volume (mm³) and relative volume per arm and measured day.

    Columns :data:`CURVE_COLUMNS`; ``sd``/``sem`` are NaN where one mouse is measured.
    """
    df = check_volumes(volumes)
    v0 = df.groupby("mouse_id", sort=False)["volume"].transform("first")
    df["rel"] = (df["volume"] / v0).where(v0 > 0)
    g = df.groupby(["arm", "day"], sort=True)
    out = g.agg(
        n=("volume", "size"),
        mean=("volume", "mean"),
        sd=("volume", "std"),
        n_relative=("rel", "count"),
        mean_relative_volume=("rel", "mean"),
        sd_rel=("rel", "std"),
    ).reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    out["sem_relative_volume"] = out["sd_rel"] / np.sqrt(out["n_relative"])
    return out[list(CURVE_COLUMNS)]


def values_at_day(volumes: pd.DataFrame, day: float) -> pd.DataFrame:
    """Each mouse's volume at ``day`` (exact or linearly interpolated; never extrapolated).

    Returns ``mouse_id, arm, baseline_volume, volume, interpolated`` for the mice whose
    measurements span ``day``.
    """
    df = check_volumes(volumes)
    base = df.groupby("mouse_id", sort=False).agg(
        arm=("arm", "first"), baseline_volume=("volume", "first")
    )
    before = df[df["day"] <= day].groupby("mouse_id", sort=False)[["day", "volume"]].last()
    after = df[df["day"] >= day].groupby("mouse_id", sort=False)[["day", "volume"]].first()
    both = before.add_suffix("_lo").join(after.add_suffix("_hi"), how="inner")
    span = both["day_hi"] - both["day_lo"]
    frac = ((day - both["day_lo"]) / span.where(span > 0)).fillna(0.0)
    value = both["volume_lo"] + frac * (both["volume_hi"] - both["volume_lo"])
    out = base.loc[both.index].assign(volume=value, interpolated=span > 0)
    return out.reset_index()


def default_day(volumes: pd.DataFrame, control: str) -> float:
    """The last control-arm measurement day at which >= half the control mice are measured.

    When no day has half of them (mice measured over windows that do not overlap, e.g.
    staggered enrolment by calendar day), the last day at which the most control mice
    are measured; :func:`tgi_table` says so in ``day_rule``.
    """
    return _default_day(volumes, control)[0]


_HALF_RULE = "last control day with >= half its mice measured"


def _default_day(volumes: pd.DataFrame, control: str) -> tuple[float, str]:
    """:func:`default_day` and the rule that gave it."""
    df = check_volumes(volumes)
    ctl = df[df["arm"] == control]
    if ctl.empty:
        raise InputError(
            "the control arm has no mice",
            expected="one of " + ", ".join(sorted(df["arm"].unique())),
            found=repr(control),
        )
    span = ctl.groupby("mouse_id", sort=False)["day"].agg(["min", "max"])
    days = np.unique(ctl["day"].to_numpy())
    covering = (
        (span["min"].to_numpy()[None, :] <= days[:, None])
        & (span["max"].to_numpy()[None, :] >= days[:, None])
    ).sum(axis=1)
    ok = days[2 * covering >= len(span)]
    if ok.size:
        return float(ok.max()), _HALF_RULE
    most = int(covering.max())
    return (
        float(days[covering == most].max()),
        f"no control day has half its {len(span)} mice measured: last day with the most "
        f"({most}) measured",
    )


def _tests(t: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    p_t = p_u = math.nan
    if t.size >= 2 and c.size >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p_t = float(stats.ttest_ind(t, c, equal_var=False).pvalue)
    if t.size >= 1 and c.size >= 1:
        p_u = float(stats.mannwhitneyu(t, c, alternative="two-sided").pvalue)
    return p_t, p_u


def tgi_table(volumes: pd.DataFrame, *, control: str, day: float | None = None) -> pd.DataFrame:
    """T/C%, TGI% (or regression%) and RTV T/C% of every treated arm against ``control``.

    ``day``: the evaluation day (days); default :func:`default_day`. One row per treated
    arm (columns :data:`TGI_COLUMNS`); see the module docstring for the definitions and
    the day-alignment rule. Arms with no mouse spanning ``day`` get NaN values and a note.
    """
    df = check_volumes(volumes)
    arms = list(pd.unique(df["arm"]))
    if control not in arms:
        raise InputError(
            "the control arm is not in the data",
            expected="one of " + ", ".join(sorted(arms)),
            found=repr(control),
        )
    if day is None:
        d, rule = _default_day(df, control)
    else:
        if not np.isfinite(day):
            raise InputError("the evaluation day must be finite", expected="a day", found=str(day))
        d = float(day)
        rule = "given"
    at = values_at_day(df, d)
    at["change"] = at["volume"] - at["baseline_volume"]
    at["rtv"] = (at["volume"] / at["baseline_volume"]).where(at["baseline_volume"] > 0)
    c = at[at["arm"] == control]
    rows = []
    for arm in arms:  # one row per arm: a short loop over arms
        if arm == control:
            continue
        tr = at[at["arm"] == arm]
        notes = []
        mt, mc = tr["volume"].mean(), c["volume"].mean()
        mt0, mc0 = tr["baseline_volume"].mean(), c["baseline_volume"].mean()
        dt, dc = mt - mt0, mc - mc0
        if tr.empty:
            notes.append(f"no {arm} mouse measured around day {d:g}")
        if c.empty:
            notes.append(f"no control mouse measured around day {d:g}")
        tc = 100.0 * mt / mc if mc > 0 else math.nan
        tgi = 100.0 * (1.0 - dt / dc) if dc > 0 else math.nan
        if not c.empty and not dc > 0:
            notes.append("control did not grow (ΔC <= 0): TGI undefined")
        regression = -100.0 * dt / mt0 if dt < 0 and mt0 > 0 else math.nan
        outcome = "regression" if dt < 0 else ("growth inhibition" if np.isfinite(dt) else "")
        rtv_t, rtv_c = tr["rtv"].mean(), c["rtv"].mean()
        rtv_tc = 100.0 * rtv_t / rtv_c if rtv_c > 0 else math.nan
        p_t, p_u = _tests(tr["change"].to_numpy(), c["change"].to_numpy())
        if len(tr) < 2 or len(c) < 2:
            notes.append("fewer than 2 mice in an arm: no Welch test")
        rows.append(
            {
                "arm": arm,
                "control": control,
                "day": d,
                "day_rule": rule,
                "n_treated": len(tr),
                "n_control": len(c),
                "mean_treated": mt,
                "mean_control": mc,
                "mean_treated_start": mt0,
                "mean_control_start": mc0,
                "delta_treated": dt,
                "delta_control": dc,
                "t_over_c_pct": tc,
                "tgi_pct": tgi,
                "regression_pct": regression,
                "outcome": outcome,
                "rtv_t_over_c_pct": rtv_tc,
                "test": "Welch t on per-mouse V_d - V_0 (mm3); Mann-Whitney U beside it",
                "p_value": p_t,
                "p_mann_whitney": p_u,
                "note": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows, columns=list(TGI_COLUMNS))


def mrecist_distribution(metrics: pd.DataFrame) -> pd.DataFrame:
    """Counts and fractions of each mRECIST class per arm, from :func:`mouse_metrics` rows.

    Columns: ``arm, mrecist, n, n_arm, fraction`` (of all the arm's mice) and
    ``fraction_evaluable`` (of its CR/PR/SD/PD mice; NaN for NE). Every class appears
    for every arm, zeros included.
    """
    for col in ("arm", "mrecist"):
        if col not in metrics.columns:
            raise InputError(
                "metrics lacks a column",
                expected="arm and mrecist columns",
                found=", ".join(metrics.columns),
            )
    cls = pd.Categorical(metrics["mrecist"], categories=list(MRECIST_CLASSES))
    tab = pd.crosstab(metrics["arm"].astype(str), cls, dropna=False).reindex(
        columns=list(MRECIST_CLASSES), fill_value=0
    )
    n_arm = tab.sum(axis=1)
    n_eval = n_arm - tab["NE"]
    long = tab.stack().reset_index()
    long.columns = pd.Index(["arm", "mrecist", "n"])
    long["n_arm"] = long["arm"].map(n_arm).astype(int)
    long["fraction"] = long["n"] / long["n_arm"]
    ev = long["arm"].map(n_eval).astype(float)
    long["fraction_evaluable"] = (long["n"] / ev.where(ev > 0)).where(long["mrecist"] != "NE")
    long["n"] = long["n"].astype(int)
    return long[["arm", "mrecist", "n", "n_arm", "fraction", "fraction_evaluable"]]
