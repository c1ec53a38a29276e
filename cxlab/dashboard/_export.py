"""Exports of the dashboard's views: CSV of the view's table and PNG of its chart.

The data are the frames the view shows (already scoped and suppressed on the server); charts
are drawn with matplotlib and :mod:`cxlab.plots` (the reports' chart functions and CJK font).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

__all__ = ["VIEW_NAMES", "csv_bytes", "png_bytes"]

#: view key -> Chinese title (file names use the key).
VIEW_NAMES = {"kpi": "KPI 与目标", "trend": "NPS 趋势", "league": "机构排名", "pivot": "透视分析",
              "touch": "旅程触点", "drivers": "驱动因素", "ipa": "IPA 象限图",
              "themes": "原声主题", "verbatims": "客户原声", "cases": "预警工单"}


def csv_bytes(frame: pd.DataFrame | None) -> io.BytesIO:
    """The frame as UTF-8 CSV with a byte-order mark (Excel opens Chinese text correctly)."""
    frame = frame if frame is not None else pd.DataFrame()
    return io.BytesIO(frame.to_csv(index=False).encode("utf-8-sig"))


def _fig(height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from cxlab.plots import set_style

    set_style()
    return plt.subplots(figsize=(7.5, height))


def _table_fig(frame: pd.DataFrame, title: str):
    """A plain table image (views without a natural chart: verbatims, cases)."""
    shown = frame.head(25).copy()
    for c in shown.columns:
        shown[c] = [("" if (isinstance(v, float) and np.isnan(v)) else
                     (f"{v:.1f}" if isinstance(v, float) else str(v))[:40]) for v in shown[c]]
    fig, ax = _fig(0.32 * (len(shown) + 2) + 0.6)
    ax.axis("off")
    if len(shown):
        t = ax.table(cellText=shown.to_numpy(), colLabels=[str(c) for c in shown.columns],
                     loc="upper left", cellLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(7)
    else:
        ax.text(0.5, 0.5, "无数据", ha="center", va="center")
    ax.set_title(title)
    return fig


def _bars(labels, values, title: str, xlabel: str, *, target: float | None = None):
    fig, ax = _fig(0.35 * max(len(labels), 3) + 1)
    y = np.arange(len(labels))
    ax.barh(y, [0 if pd.isna(v) else v for v in values], color="#4c72b0")
    ax.set_yticks(y, [str(x) for x in labels])
    ax.invert_yaxis()
    if target is not None:
        ax.axvline(target, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return fig


def png_bytes(view: str, data: dict, *, labels: dict[str, str] | None = None,
              nps_target: float | None = None) -> io.BytesIO:
    """A PNG of ``view`` drawn from ``data`` (what the view holds: ``frame`` and, for drivers
    and IPA, the analysis ``result``)."""
    import matplotlib.pyplot as plt

    from cxlab.plots import importance_bars, ipa_map, nps_bars, theme_bars, trend

    title = data.get("title") or VIEW_NAMES.get(view, view)
    frame = data.get("frame")
    frame = frame if frame is not None else pd.DataFrame()
    res = data.get("result")
    if view == "trend" and len(frame.dropna(subset=["nps"])):
        fig, ax = _fig()
        trend(frame.dropna(subset=["nps"]), x="period", ax=ax, target=nps_target)
        ax.set_title(title)
    elif view == "league" and len(frame.dropna(subset=["nps"])):
        fig, ax = _fig()
        t = frame.dropna(subset=["nps"]).assign(机构=lambda d: d["branch_name"])
        t["base_flag"] = ["caution" if n < 100 else "ok" for n in t["n"]]
        nps_bars(t[["机构", "n", "nps", "ci_low", "ci_high", "base_flag"]], ax=ax, target=nps_target)
        plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
        ax.set_title(title)
    elif view == "drivers" and res is not None:
        fig, ax = _fig(5)
        importance_bars(res, ax=ax, labels=labels)
        ax.set_title(title)
    elif view == "ipa" and res is not None:
        fig, ax = _fig(5.2)
        ipa_map(res, ax=ax, labels=labels)
        ax.set_title(title)
    elif view == "themes" and data.get("summary") is not None and len(data["summary"]):
        fig, ax = _fig(0.45 * max(len(frame), 3) + 1)
        theme_bars(data["summary"], ax=ax)
        ax.set_title(title)
    elif view == "kpi" and len(frame):
        fig = _bars(frame["label"], frame["value"], title, "本期值")
    elif view == "touch" and len(frame):
        fig = _bars(frame["label"], frame["top2"], title, "好评率(%)")
    elif view == "pivot" and len(frame) and "value" in frame.columns:
        keys = [c for c in frame.columns if c not in ("n", "value")]
        if len(keys) == 2:
            wide = frame.pivot(index=keys[0], columns=keys[1], values="value")
            fig, ax = _fig(0.4 * max(len(wide), 3) + 1.2)
            im = ax.imshow(wide.to_numpy(dtype=float), aspect="auto", cmap="RdYlGn")
            ax.set_xticks(range(wide.shape[1]), [str(c) for c in wide.columns], rotation=35, ha="right")
            ax.set_yticks(range(wide.shape[0]), [str(i) for i in wide.index])
            fig.colorbar(im, ax=ax)
            ax.set_title(title)
        else:
            fig = _bars(frame[keys[0]], frame["value"], title, "值")
    else:
        fig = _table_fig(frame, title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    buf.seek(0)
    return buf
