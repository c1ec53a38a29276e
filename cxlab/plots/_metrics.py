"""Figures for :mod:`cxlab.metrics` results: NPS bars per group and NPS trends."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from cxlab.plots._labels import legend_outside

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
            # above the error bar's cap (or below it for a negative bar), never across it
            top = np.nanmax([v, hi[xi] if np.isfinite(hi[xi]) else v])
            bottom = np.nanmin([v, lo[xi] if np.isfinite(lo[xi]) else v])
            up = v >= 0
            ax.annotate(f"n={int(n)}", (xi, top if up else bottom), ha="center",
                        va="bottom" if up else "top", fontsize="x-small", color="#555555",
                        xytext=(0, 4 if up else -4), textcoords="offset points")
    if target is not None:
        ax.axhline(target, color="#c0392b", linestyle="--", linewidth=1.2, label=f"目标 {target:g}", zorder=4)
        legend_outside(ax)
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
    max_lines: int = 4,
) -> Axes:
    """NPS over periods with a shaded confidence band, one line per remaining group.

    With more than ``max_lines`` groups (e.g. ten branches) the lines would hide each other:
    the chart becomes small multiples, one panel per group inside ``ax`` on a shared y scale
    (``ax.child_axes``), each group in colour over the others in light grey.

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
    max_lines : int, default 4
        Most lines drawn in one panel before switching to small multiples.

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
    if frame["_label"].nunique() > max_lines:
        return _trend_panels(frame, periods, ax=ax, target=target)
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
    legend_outside(ax)
    return ax


def _trend_panels(frame: pd.DataFrame, periods: list, *, ax: Axes, target: float | None) -> Axes:
    """Small multiples: one panel per group inside ``ax`` (same y scale), the group's line and
    band in colour over the other groups in light grey."""
    groups = list(frame.groupby("_label", sort=True))
    n = len(groups)
    ncols = min(n, 5 if n > 12 else 4 if n > 6 else 3)
    nrows = math.ceil(n / ncols)
    ok_all = (frame["base_flag"] != "suppress") if "base_flag" in frame else pd.Series(True, index=frame.index)
    vals = pd.concat([frame["ci_low"].where(ok_all), frame["ci_high"].where(ok_all)])
    if target is not None:
        vals = pd.concat([vals, pd.Series([target])])
    lo, hi = (float(vals.min()), float(vals.max())) if vals.notna().any() else (-100.0, 100.0)
    pad = 0.08 * ((hi - lo) or 10.0)
    ax.set_axis_off()
    w, h = 1.0 / ncols, 1.0 / nrows
    short = [str(p)[-4:] if len(str(p)) > 4 and len(periods) > 3 else str(p) for p in periods]
    for i, (label, grp) in enumerate(groups):
        r, c = divmod(i, ncols)
        sub = ax.inset_axes([c * w + 0.06 * w, 1 - (r + 1) * h + 0.22 * h, 0.88 * w, 0.62 * h])
        for other, og in groups:
            if other != label:
                og = og.sort_values("_x")
                ok = (og["base_flag"] != "suppress") if "base_flag" in og else True
                sub.plot(og["_x"], og["nps"].where(ok), color="0.85", lw=0.8, zorder=1)
        grp = grp.sort_values("_x")
        ok = (grp["base_flag"] != "suppress") if "base_flag" in grp else pd.Series(True, index=grp.index)
        sub.plot(grp["_x"], grp["nps"].where(ok), marker="o", ms=3, color="C0", label=label, zorder=3)
        sub.fill_between(grp["_x"], grp["ci_low"].where(ok), grp["ci_high"].where(ok), color="C0",
                         alpha=0.2, linewidth=0, zorder=2)
        if (~ok).any():
            sub.scatter(grp.loc[~ok, "_x"], grp.loc[~ok, "nps"], facecolors="none",
                        edgecolors=_SUPPRESSED_COLOR, zorder=3, s=12, label="_suppressed")
        if target is not None:
            sub.axhline(target, color="#c0392b", linestyle="--", linewidth=0.9)
        sub.set_ylim(lo - pad, hi + pad)
        sub.set_title(label, fontsize="small", pad=3)
        sub.set_xticks(range(len(periods)), short if r == nrows - 1 or i + ncols >= n else [""] * len(periods),
                       fontsize="x-small")
        sub.yaxis.set_major_locator(MaxNLocator(nbins=3, prune="both"))
        sub.tick_params(axis="y", labelsize="x-small", labelleft=c == 0)
    note = "每格一组;浅灰线为其他各组" + (f";红色虚线为目标 {target:g}" if target is not None else "")
    ax.set_title(f"净推荐值趋势({note})", fontsize="medium")
    return ax
