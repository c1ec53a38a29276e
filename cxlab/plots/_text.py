"""Report figures for text themes and customer segments (axes-level, Chinese labels)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from cxlab.plots._labels import legend_outside

__all__ = ["segment_bars", "theme_bars"]

_SENTIMENT_COLORS = {"正面": "#4C9A6A", "中性": "#B0B0B0", "负面": "#C8553D"}


def _theme_counts(result: pd.DataFrame) -> pd.DataFrame:
    """theme_name × sentiment count table from theme_summary or tag_themes output."""
    if not isinstance(result, pd.DataFrame):
        raise TypeError(f"result must be a DataFrame, got {type(result).__name__}")
    need = {"theme_name", "sentiment"}
    if not need <= set(result.columns):
        raise ValueError(
            "result must come from cxlab.text.theme_summary or tag_themes (columns theme_name, "
            f"sentiment[, n]); got {list(result.columns)}"
        )
    if "n" in result.columns:
        table = result.pivot_table(index="theme_name", columns="sentiment", values="n",
                                   aggfunc="sum", fill_value=0, sort=False)
    else:
        table = pd.crosstab(result["theme_name"], result["sentiment"])
    cols = [c for c in ("负面", "中性", "正面") if c in table.columns]
    table = table.reindex(columns=cols, fill_value=0)
    return table.loc[table.sum(axis=1).sort_values(ascending=True, kind="stable").index]


def theme_bars(result: pd.DataFrame, *, ax: Axes | None = None, share: bool = False) -> Axes:
    """Horizontal stacked bars: mentions of each theme split by sentiment (负面/中性/正面).

    Parameters
    ----------
    result : DataFrame
        :func:`cxlab.text.theme_summary` (uses ``n``) or :func:`cxlab.text.tag_themes`
        (counts rows). Themes are sorted by total mentions, largest on top.
    share : bool
        Plot shares of each theme's mentions instead of counts.

    Returns
    -------
    Axes
    """
    table = _theme_counts(result)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * max(len(table), 3) + 1))
    values = table.div(table.sum(axis=1).replace(0, np.nan), axis=0).fillna(0) if share else table
    left = np.zeros(len(values))
    y = np.arange(len(values))
    for sent in values.columns:
        v = values[sent].to_numpy(dtype=float)
        ax.barh(y, v, left=left, color=_SENTIMENT_COLORS[sent], label=sent, height=0.7)
        left += v
    ax.set_yticks(y, list(values.index))
    ax.set_xlabel("占比" if share else "提及次数")
    ax.set_ylabel("")
    ax.set_title("评论主题与情感")
    legend_outside(ax, title="情感")
    return ax


def segment_bars(
    result: pd.DataFrame, *, ax: Axes | None = None, value: str | None = None
) -> Axes:
    """Bars of NPS (or CSAT) per segment with confidence intervals; significant ones starred.

    Parameters
    ----------
    result : DataFrame
        :func:`cxlab.segments.segment_scores` output: segment columns first, then ``n``, the
        metric (``nps`` or ``csat``), ``ci_low``, ``ci_high`` and optionally ``significant``
        and ``base`` (segments with ``base == "suppress"`` are drawn hollow and not labelled).
    value : str, optional
        Metric column (default ``nps`` if present, else ``csat``).

    Returns
    -------
    Axes
    """
    if not isinstance(result, pd.DataFrame) or "n" not in result.columns:
        raise ValueError("result must be a DataFrame from cxlab.segments.segment_scores")
    if value is None:
        value = "nps" if "nps" in result.columns else "csat" if "csat" in result.columns else None
    if value is None or value not in result.columns:
        raise ValueError(f"value must be a column of result (nps or csat), got {value!r}")
    keys = list(result.columns[: list(result.columns).index("n")])
    labels = [" · ".join(str(v) for v in row) for row in result[keys].itertuples(index=False)]
    if ax is None:
        _, ax = plt.subplots(figsize=(max(5, 0.9 * len(result) + 2), 4))
    x = np.arange(len(result))
    v = result[value].to_numpy(dtype=float)
    suppressed = (result["base"] == "suppress").to_numpy() if "base" in result.columns else np.zeros(len(x), bool)
    colors = ["#4C72B0" if not s else "none" for s in suppressed]
    ax.bar(x, np.where(suppressed, 0, v), color=colors, edgecolor="#4C72B0")
    lo_err = hi_err = np.zeros(len(x))
    if {"ci_low", "ci_high"} <= set(result.columns):
        lo_err = lo = np.clip(v - result["ci_low"].to_numpy(dtype=float), 0, None)
        hi_err = hi = np.clip(result["ci_high"].to_numpy(dtype=float) - v, 0, None)
        ok = ~suppressed
        ax.errorbar(x[ok], v[ok], yerr=[lo[ok], hi[ok]], fmt="none", ecolor="#333333", capsize=3)
    sig = result["significant"].to_numpy(dtype=bool) if "significant" in result.columns else np.zeros(len(x), bool)
    for xi, vi, s, sup in zip(x, v, sig, suppressed, strict=True):
        if sup:
            ax.annotate("样本不足", (xi, 0), ha="center", va="bottom", fontsize=8)
            continue
        # the value above the error bar's cap (below it for a negative bar), not across it
        up = vi >= 0
        end = vi + (hi_err[xi] if up else -lo_err[xi])
        ax.annotate(f"{vi:.0f}{'*' if s else ''}", (xi, end if np.isfinite(end) else vi),
                    ha="center", va="bottom" if up else "top", fontsize=9,
                    xytext=(0, 3 if up else -3), textcoords="offset points")
    ax.axhline(0, color="#666666", linewidth=0.8)
    ax.set_xticks(x, labels, rotation=0 if len(x) <= 6 else 30)
    ax.set_ylabel({"nps": "NPS", "csat": "CSAT (%)"}.get(value, value))
    ax.set_title(f"分群{ 'NPS' if value == 'nps' else 'CSAT'}(* 与其余客户差异显著)")
    return ax
