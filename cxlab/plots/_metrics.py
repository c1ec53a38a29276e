"""Figures for :mod:`cxlab.metrics` results: NPS bars per group and NPS trends."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

__all__ = ["nps_bars", "trend"]

_STAT_COLUMNS = {
    "n", "promoters", "passives", "detractors", "pct_promoters", "pct_passives", "pct_detractors",
    "nps", "se", "ci_low", "ci_high", "n_eff", "base_flag",
}
_SUPPRESSED_COLOR = "#bdbdbd"


def _check(result: pd.DataFrame, needed) -> None:
    if not isinstance(result, pd.DataFrame):
        raise TypeError(f"result must be the DataFrame returned by cxlab.metrics.nps, got {type(result).__name__}")
    missing = [c for c in needed if c not in result.columns]
    if missing:
        raise ValueError(f"result lacks column(s) {missing}; pass the output of cxlab.metrics.nps")


def _group_labels(result: pd.DataFrame, exclude=()) -> tuple[list[str], list[str]]:
    keys = [c for c in result.columns if c not in _STAT_COLUMNS and c not in exclude]
    if not keys:
        return keys, ["全部"] * len(result)
    if result.empty:  # DataFrame.agg on no rows returns a frame, not a Series
        return keys, []
    labels = result[keys].astype(str).agg(" / ".join, axis=1).tolist()
    return keys, labels


def nps_bars(result: pd.DataFrame, *, ax: Axes | None = None, target: float | None = None) -> Axes:
    """Bar chart of NPS per group with confidence-interval error bars.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`cxlab.metrics.nps` (with ``by=``); the group-key columns label the bars.
    ax : Axes, optional
        Axes to draw on; default the current axes.
    target : float, optional
        NPS target drawn as a dashed horizontal line labelled 目标.

    Returns
    -------
    Axes
        Groups flagged ``suppress`` (n < 30) are drawn grey, hatched, without error bars and
        annotated 样本不足; ``caution`` groups (n < 100) are annotated with their n.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxlab.metrics import nps
    >>> df = pd.DataFrame({"ltr": [10, 9, 7, 3] * 30 + [9, 2], "branch": ["SH"] * 120 + ["XM"] * 2})
    >>> ax = nps_bars(nps(df, by="branch"), target=40)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['SH', 'XM']
    """
    _check(result, ["nps", "ci_low", "ci_high"])
    ax = ax if ax is not None else plt.gca()
    _, labels = _group_labels(result)
    flags = result["base_flag"].tolist() if "base_flag" in result else ["ok"] * len(result)
    x = np.arange(len(result))
    values = result["nps"].to_numpy(dtype=float)
    suppressed = np.array([f == "suppress" for f in flags], dtype=bool)
    palette = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    colors = [_SUPPRESSED_COLOR if s else palette[0] for s in suppressed]
    bars = ax.bar(x, np.nan_to_num(values), color=colors, edgecolor="white", zorder=2)
    for bar, s in zip(bars, suppressed, strict=True):
        if s:
            bar.set_hatch("//")
            bar.set_label("_suppressed")
    shown = ~suppressed & np.isfinite(values)
    lo = result["ci_low"].to_numpy(dtype=float)
    hi = result["ci_high"].to_numpy(dtype=float)
    if shown.any():
        yerr = np.vstack([values[shown] - lo[shown], hi[shown] - values[shown]])
        ax.errorbar(x[shown], values[shown], yerr=yerr, fmt="none", ecolor="#333333", capsize=4, zorder=3)
    for xi, v, flag, n in zip(x, values, flags, result.get("n", [np.nan] * len(result)), strict=True):
        if flag == "suppress":
            ax.annotate("样本不足", (xi, 0), ha="center", va="bottom", fontsize="small", color="#555555")
        elif flag == "caution":
            ax.annotate(f"n={int(n)}", (xi, v), ha="center", va="bottom", fontsize="x-small", color="#555555",
                        xytext=(0, 2), textcoords="offset points")
    if target is not None:
        ax.axhline(target, color="#c0392b", linestyle="--", linewidth=1.2, label=f"目标 {target:g}", zorder=4)
        ax.legend(loc="best")
    ax.axhline(0, color="#666666", linewidth=0.8, zorder=1)
    ax.set_xticks(x, labels)
    ax.set_ylabel("净推荐值 (NPS)")
    ax.set_title("净推荐值及置信区间")
    return ax


def trend(
    result: pd.DataFrame,
    *,
    x: str = "period",
    ax: Axes | None = None,
    target: float | None = None,
) -> Axes:
    """NPS over periods with a shaded confidence band, one line per remaining group.

    Parameters
    ----------
    result : DataFrame
        Output of :func:`cxlab.metrics.nps` with ``by=`` including ``x`` (e.g.
        ``by=["branch", "period"]``). Other key columns define separate lines.
    x : str
        Period column, drawn in sorted order as categories.
    ax : Axes, optional
        Axes to draw on; default the current axes.
    target : float, optional
        NPS target drawn as a dashed horizontal line labelled 目标.

    Returns
    -------
    Axes
        Suppressed points (n < 30) are drawn as hollow grey markers and left out of the band.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxlab.metrics import nps
    >>> df = pd.DataFrame({"ltr": [10, 9, 7, 3] * 60, "period": ["2026Q1", "2026Q2"] * 120})
    >>> ax = trend(nps(df, by="period"), target=40)
    >>> ax.get_ylabel()
    '净推荐值 (NPS)'
    """
    _check(result, ["nps", "ci_low", "ci_high", x])
    ax = ax if ax is not None else plt.gca()
    periods = sorted(result[x].dropna().unique())
    pos = {p: i for i, p in enumerate(periods)}
    keys, labels = _group_labels(result, exclude=(x,))
    frame = result.assign(_label=labels, _x=result[x].map(pos))
    for i, (label, grp) in enumerate(frame.groupby("_label", sort=True)):
        grp = grp.sort_values("_x")
        color = f"C{i % 10}"
        ok = (grp["base_flag"] != "suppress") if "base_flag" in grp else pd.Series(True, index=grp.index)
        ax.plot(grp["_x"], grp["nps"].where(ok), marker="o", color=color, label=label if keys else "净推荐值")
        ax.fill_between(grp["_x"], grp["ci_low"].where(ok), grp["ci_high"].where(ok), color=color, alpha=0.2,
                        linewidth=0)
        if (~ok).any():
            ax.scatter(grp.loc[~ok, "_x"], grp.loc[~ok, "nps"], facecolors="none", edgecolors=_SUPPRESSED_COLOR,
                       zorder=3, label="_suppressed")
    if target is not None:
        ax.axhline(target, color="#c0392b", linestyle="--", linewidth=1.2, label=f"目标 {target:g}")
    ax.set_xticks(range(len(periods)), [str(p) for p in periods])
    ax.set_xlabel("期间")
    ax.set_ylabel("净推荐值 (NPS)")
    ax.set_title("净推荐值趋势")
    ax.legend(loc="best")
    return ax
