"""Tests of the metric figures in cxlab.plots._metrics."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex

from cxlab.metrics import nps
from cxlab.plots import set_style
from cxlab.plots._metrics import nps_bars, trend


@pytest.fixture
def branch_result():
    big = pd.DataFrame({"ltr": [10, 9, 8, 7, 3] * 40, "branch": "SH"})
    mid = pd.DataFrame({"ltr": [10, 8, 3] * 20, "branch": "BJ"})
    small = pd.DataFrame({"ltr": [10, 2] * 5, "branch": "XM"})
    return nps(pd.concat([big, mid, small], ignore_index=True), by="branch")


def test_nps_bars_draws_bars_errorbars_target_and_greys_suppressed(branch_result):
    set_style()
    fig, ax = plt.subplots()
    out = nps_bars(branch_result, ax=ax, target=40)
    assert out is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["BJ", "SH", "XM"]
    bars = ax.patches
    assert len(bars) == 3
    heights = [b.get_height() for b in bars]
    assert heights == pytest.approx(branch_result["nps"].tolist())
    assert to_hex(bars[2].get_facecolor()) == "#bdbdbd"  # XM: n = 10, suppressed
    assert to_hex(bars[0].get_facecolor()) != "#bdbdbd"
    # error bars only for the two shown groups
    assert len(ax.containers[-1].lines[2][0].get_segments()) == 2
    texts = [t.get_text() for t in ax.texts]
    assert "样本不足" in texts and "n=60" in texts
    assert any("目标" in t.get_text() for t in ax.get_legend().get_texts())
    assert any(line.get_ydata()[0] == 40 for line in ax.get_lines())
    assert ax.get_ylabel() == "净推荐值 (NPS)"


def test_nps_bars_rejects_wrong_input():
    with pytest.raises(ValueError, match="nps"):
        nps_bars(pd.DataFrame({"x": [1]}))
    with pytest.raises(TypeError):
        nps_bars([1, 2, 3])


def test_nps_bars_without_groups_uses_current_axes():
    res = nps(pd.DataFrame({"ltr": [10, 9, 3] * 20}))
    fig, ax = plt.subplots()
    assert nps_bars(res) is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["全部"]


def test_trend_draws_line_band_and_target_per_group():
    df = pd.DataFrame(
        {
            "ltr": np.resize([10, 9, 8, 3], 480),
            "period": np.repeat(["2026Q2", "2026Q1", "2026Q3"], 160),
            "branch": np.tile(["SH", "BJ"], 240),
        }
    )
    res = nps(df, by=["branch", "period"])
    fig, ax = plt.subplots()
    out = trend(res, ax=ax, target=30)
    assert out is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2026Q1", "2026Q2", "2026Q3"]
    lines = [ln for ln in ax.get_lines() if ln.get_label() in ("BJ", "SH")]
    assert len(lines) == 2
    bj = res[res["branch"] == "BJ"].sort_values("period")
    assert lines[0].get_ydata() == pytest.approx(bj["nps"].tolist())
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    assert any("目标" in t.get_text() for t in ax.get_legend().get_texts())
    assert ax.get_xlabel() == "期间"


def test_trend_marks_suppressed_points_hollow():
    df = pd.DataFrame({"ltr": [10, 3] * 60 + [10] * 10, "period": ["2026Q1"] * 120 + ["2026Q2"] * 10})
    res = nps(df, by="period")
    fig, ax = plt.subplots()
    trend(res, ax=ax)
    line = ax.get_lines()[0]
    assert np.isnan(line.get_ydata()[1])  # suppressed point is not on the line
    hollow = [c for c in ax.collections if c.get_label() == "_suppressed"]
    assert len(hollow) == 1


def test_nps_bars_with_no_groups_left_draws_nothing():
    """Every group suppressed (e.g. a small sample): an empty frame, not a crash."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from cxlab.metrics import nps
    from cxlab.plots import nps_bars

    res = nps(pd.DataFrame({"ltr": [9, 10, 3], "branch": ["A", "A", "B"]}), score="ltr", by="branch")
    fig, ax = plt.subplots()
    nps_bars(res.iloc[0:0], ax=ax)
    assert len(ax.patches) == 0
