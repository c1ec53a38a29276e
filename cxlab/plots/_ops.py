"""Figures for cxlab.ops results: scorecard, closed loop, service levels, journey heatmap.

Axes-level: ``f(result, *, ax=None, **kwargs) -> Axes``; Chinese labels. Call
:func:`cxlab.plots.set_style` first so the CJK font is used.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cxlab.plots._labels import legend_outside

__all__ = ["closure_bars", "journey_heatmap", "scorecard_bars", "sla_bars"]

_GOOD, _BAD, _GREY, _OPEN = "#4c9a5b", "#c8553d", "#d9d9d9", "#e3a72f"


def _axes(ax):
    return ax if ax is not None else plt.gca()


def _need(df: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}")


def scorecard_bars(table: pd.DataFrame, *, ax=None) -> plt.Axes:
    """Horizontal bars of each KPI's score against its full marks (from :func:`cxlab.ops.scorecard`).

    The grey bar is the full marks (``max_score``), the coloured bar the score (green at full
    marks, red otherwise); the title gives the total.
    """
    _need(table, ["kpi", "label", "score", "max_score"], "scorecard table")
    ax = _axes(ax)
    body = table[table["kpi"] != "total"].iloc[::-1]
    y = np.arange(len(body))
    ax.barh(y, body["max_score"], color=_GREY, label="满分")
    full = np.isclose(body["score"].fillna(-1), body["max_score"])
    ax.barh(y, body["score"].fillna(0), color=np.where(full, _GOOD, _BAD), height=0.5, label="得分")
    ax.set_yticks(y, body["label"])
    ax.set_xlabel("分数")
    total = table.loc[table["kpi"] == "total"]
    if len(total):
        ax.set_title(f"客户体验主管考核得分:{total['score'].iloc[0]:.1f} / {total['max_score'].iloc[0]:.0f}")
    else:
        ax.set_title("客户体验主管考核得分")
    legend_outside(ax)
    return ax


def closure_bars(summary: pd.DataFrame, *, by: str = "branch", ax=None) -> plt.Axes:
    """Stacked bars per branch: closed, open and no-ticket alerts (from :func:`cxlab.ops.closure_summary`)."""
    _need(summary, [by, "closed", "open", "no_ticket", "overdue"], "closure summary")
    ax = _axes(ax)
    x = np.arange(len(summary))
    closed, open_, none = (summary[c].to_numpy() for c in ("closed", "open", "no_ticket"))
    ax.bar(x, closed, color=_GOOD, label="已关闭")
    ax.bar(x, open_, bottom=closed, color=_OPEN, label="处理中/待处理")
    ax.bar(x, none, bottom=closed + open_, color=_GREY, label="未建单")
    for xi, (top, od) in enumerate(zip(closed + open_ + none, summary["overdue"], strict=True)):
        if od:
            ax.annotate(f"超期 {int(od)}", (xi, top), ha="center", va="bottom", color=_BAD)
    ax.set_xticks(x, summary[by].astype(str))
    ax.set_ylabel("预警数")
    ax.set_title("预警闭环处理情况")
    legend_outside(ax)
    return ax


def sla_bars(sla: pd.DataFrame, *, ax=None) -> plt.Axes:
    """Share of tickets within their service level, per channel/segment with a target
    (from :func:`cxlab.ops.sla_summary`)."""
    _need(sla, ["channel", "segment", "measure", "pct_within", "status"], "SLA summary")
    ax = _axes(ax)
    d = sla[sla["pct_within"].notna()].reset_index(drop=True)
    names = {"first_response_hours": "首次响应", "resolution_hours": "解决", "answer_seconds": "接听"}
    labels = [f"{c}·{s}·{names.get(m, m)}" for c, s, m in zip(d["channel"], d["segment"], d["measure"], strict=True)]
    y = np.arange(len(d))[::-1]
    ax.barh(y, d["pct_within"], color=np.where(d["status"] == "met", _GOOD, _BAD))
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 100)
    ax.set_xlabel("达标率(%)")
    ax.set_title("服务水平达标情况(绿:中位数达标)")
    return ax


def journey_heatmap(scores: pd.DataFrame, *, value: str = "mean", columns: str | None = None,
                    ax=None, cmap: str = "RdYlGn") -> plt.Axes:
    """Heatmap of journey-stage × touchpoint scores (from :func:`cxlab.ops.journey_scores`).

    With ``columns`` (e.g. ``"branch"``) rows are ``journey · touchpoint`` and columns the
    branches; otherwise one column of the company figure.
    """
    import seaborn as sns

    if value not in ("mean", "top2"):
        raise ValueError(f"value must be one of 'mean', 'top2', got {value!r}")
    _need(scores, ["journey", "touchpoint", value] + ([columns] if columns else []), "journey scores")
    ax = _axes(ax)
    d = scores.assign(_row=scores["journey"] + " · " + scores["touchpoint"])
    order = list(dict.fromkeys(d["_row"]))
    if columns:
        grid = d.pivot_table(index="_row", columns=columns, values=value, aggfunc="first", sort=False)
    else:
        grid = d.set_index("_row")[[value]].rename(columns={value: "全公司"})
    grid = grid.reindex(order)
    lims = dict(vmin=1, vmax=5) if value == "mean" else dict(vmin=0, vmax=100)
    sns.heatmap(grid, ax=ax, annot=True, fmt=".1f" if value == "mean" else ".0f", cmap=cmap,
                cbar_kws={"label": "均值(1-5)" if value == "mean" else "好评率(%)"}, **lims)
    ax.set_xlabel("" if not columns else {"branch": "分支机构"}.get(columns, columns))
    ax.set_ylabel("旅程阶段 · 触点")
    ax.set_title("客户旅程触点得分")
    return ax
