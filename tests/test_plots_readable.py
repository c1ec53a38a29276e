"""Charts stay readable with crowded data: label boxes (renderer window extents) never
intersect each other, error bars or legends, and many groups become small multiples."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from cxlab.metrics import nps
from cxlab.plots import ipa_map, kano_scatter, nps_bars, segment_bars, set_style, trend
from cxlab.plots._labels import label_points, overlaps

LABELS = ["产品运行稳定性", "问题解决效果", "服务响应速度", "售前咨询专业度", "配送安装",
          "服务人员态度", "产品形状和大小", "产品的色彩", "产品的Logo", "产品包装", "产品使用舒适度",
          "开关反应速度", "产品发热速度", "功能1(智能温控)", "功能2(定时预约)", "功能3(节能模式)",
          "是否满足您对于本产品的期待", "价格"]


@pytest.fixture(autouse=True)
def _style():
    set_style()


def _texts(ax, wanted):
    return [t for t in ax.texts if t.get_text() in wanted]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ipa_map_labels_do_not_overlap(seed):
    rng = np.random.default_rng(seed)
    n = len(LABELS)
    res = pd.DataFrame({"item": [f"i{k}" for k in range(n)], "label": LABELS,
                        "performance": 3.8 + rng.normal(0, 0.04, n),
                        "importance": 0.3 + rng.normal(0, 0.015, n)})
    hi_p, hi_i = res["performance"] > res["performance"].mean(), res["importance"] > res["importance"].mean()
    res["quadrant"] = np.select([~hi_p & hi_i, hi_p & hi_i, ~hi_p & ~hi_i],
                                ["concentrate_here", "keep_up", "low_priority"], "possible_overkill")
    fig, ax = plt.subplots(figsize=(8, 5.4))
    ipa_map(res, ax=ax)
    labels = _texts(ax, set(LABELS))
    assert len(labels) == n
    corners = _texts(ax, {"重点改进区", "继续保持区", "低优先区", "过度投入区"})
    assert len(corners) == 4
    fig.canvas.draw()
    # the same crowded points with plain offset labels (the old drawing) do overlap
    fig2, ax2 = plt.subplots(figsize=(8, 5.4))
    ax2.set_xlim(ax.get_xlim())
    ax2.set_ylim(ax.get_ylim())
    naive = [ax2.annotate(s, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=9)
             for s, x, y in zip(LABELS, res["performance"], res["importance"], strict=True)]
    fig2.canvas.draw()
    assert overlaps(naive)
    assert overlaps(labels + corners) == []
    # every label stays inside the axes
    box = ax.get_window_extent()
    for t in labels:
        e = t.get_window_extent()
        assert box.x0 - 1 <= e.x0 and e.x1 <= box.x1 + 1 and box.y0 - 1 <= e.y0 and e.y1 <= box.y1 + 1


def test_kano_scatter_labels_do_not_overlap():
    rng = np.random.default_rng(4)
    k = 12
    res = pd.DataFrame({"feature": [f"候选功能{j}" for j in range(k)],
                        "better": 0.5 + rng.normal(0, 0.03, k),
                        "worse": -0.5 + rng.normal(0, 0.03, k)})
    fig, ax = plt.subplots(figsize=(6, 6))
    kano_scatter(res, ax=ax)
    labels = _texts(ax, set(res["feature"]))
    names = _texts(ax, {"魅力", "一维", "必备", "无差异"})
    assert len(labels) == k and len(names) == 4
    fig.canvas.draw()
    assert overlaps(labels + names) == []


def test_label_points_separates_identical_points():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter([1] * 6, [1] * 6)
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    texts = label_points(ax, [1] * 6, [1] * 6, [f"标签{i}" for i in range(6)])
    fig.canvas.draw()
    assert len(texts) == 6 and overlaps(texts) == []


def _branch_nps(groups: int, per: int, periods=("2026Q3",)) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for g in range(groups):
        for p in periods:
            m = per if g % 3 else per // 2  # some groups in the caution band (n < 100)
            rows.append(pd.DataFrame({"ltr": rng.choice(11, m, p=_probs(g)), "branch": f"分公司{g}",
                                      "period": p}))
    return pd.concat(rows, ignore_index=True)


def _probs(g):
    p = np.ones(11)
    p[9:] += g % 4
    return p / p.sum()


def test_nps_bars_labels_clear_error_bars_and_legend_outside():
    res = nps(_branch_nps(8, 120), by="branch")
    assert (res["base_flag"] == "caution").any()
    fig, ax = plt.subplots(figsize=(9, 4))
    nps_bars(res, ax=ax, target=40)
    fig.canvas.draw()
    to_px = ax.transData.transform
    labels = [t for t in ax.texts if t.get_text().startswith("n=")]
    assert labels
    for t in labels:
        r = res.iloc[int(t.xy[0])]
        e = t.get_window_extent()
        if r["nps"] >= 0:  # above the error bar's cap
            assert e.y0 >= to_px((0, r["ci_high"]))[1], t.get_text()
        else:  # below it for a negative bar
            assert e.y1 <= to_px((0, r["ci_low"]))[1], t.get_text()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1  # beside the plot, not over the bars
    assert overlaps(labels) == []


def test_segment_bar_values_clear_error_bars():
    res = pd.DataFrame({"segment": ["高", "中", "低", "新客", "老客"], "n": [200, 180, 150, 90, 300],
                        "nps": [45.0, 30.0, -12.0, 5.0, 38.0], "ci_low": [35.0, 20.0, -25.0, -8.0, 30.0],
                        "ci_high": [55.0, 40.0, 1.0, 18.0, 46.0]})
    fig, ax = plt.subplots(figsize=(7, 4))
    segment_bars(res, ax=ax)
    fig.canvas.draw()
    to_px = ax.transData.transform
    texts = [t for t in ax.texts if t.get_text().rstrip("*").lstrip("-").isdigit()]
    assert len(texts) == len(res)
    for t, (_, r) in zip(texts, res.iterrows(), strict=True):
        e = t.get_window_extent()
        if r["nps"] >= 0:
            assert e.y0 >= to_px((0, r["ci_high"]))[1]
        else:
            assert e.y1 <= to_px((0, r["ci_low"]))[1]


def test_trend_with_many_groups_draws_small_multiples():
    periods = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
    res = nps(_branch_nps(10, 100, periods), by=["branch", "period"])
    fig, ax = plt.subplots(figsize=(11, 6))
    out = trend(res, ax=ax, target=40)
    assert out is ax
    panels = ax.child_axes
    assert len(panels) == 10
    titles = sorted(p.get_title() for p in panels)
    assert titles == sorted(res["branch"].unique())
    for p in panels:
        own = [ln for ln in p.get_lines() if ln.get_label() == p.get_title()]
        assert len(own) == 1
        g = res[res["branch"] == p.get_title()].sort_values("period")
        assert own[0].get_ydata() == pytest.approx(g["nps"].tolist())
    assert len({p.get_ylim() for p in panels}) == 1  # one shared scale
    fig.canvas.draw()
    texts = [p.title for p in panels]
    texts += [t for p in panels for t in p.get_xticklabels() + p.get_yticklabels() if t.get_text()]
    assert overlaps(texts) == []
    # a few groups keep the single panel with a legend beside it
    few = nps(_branch_nps(3, 100, periods), by=["branch", "period"])
    fig, ax = plt.subplots()
    trend(few, ax=ax)
    assert ax.child_axes == [] and ax.get_legend() is not None
    fig.canvas.draw()
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
