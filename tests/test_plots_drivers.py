"""Tests for cxlab.plots._drivers (relative-importance bars)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.drivers import dominance, key_drivers, relative_importance
from cxlab.plots._drivers import importance_bars

DRIVERS = ["complaints", "privileges", "learning", "raises", "critical", "advance"]


@pytest.fixture(scope="module")
def attitude(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "attitude.csv")


def test_bars_sorted_in_percent_with_chinese_labels(attitude):
    import matplotlib.pyplot as plt

    result = relative_importance(attitude, outcome="rating", drivers=DRIVERS)
    fig, ax = plt.subplots()
    out = importance_bars(result, ax=ax, labels={"complaints": "投诉处理"})
    assert out is ax
    assert ax.get_xlabel() == "相对重要性(%)"
    assert ax.get_ylabel() == "驱动因素"
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    expected = result.table.sort_values("share", ascending=False)["driver"].tolist()
    expected[expected.index("complaints")] = "投诉处理"
    assert ticks == expected
    widths = sorted((p.get_width() for p in ax.patches), reverse=True)
    np.testing.assert_allclose(widths, sorted(100 * result.table["share"], reverse=True), rtol=1e-12)
    assert sum(widths) == pytest.approx(100.0)
    assert len(ax.lines) == 0 and len(ax.collections) == 0  # no whiskers without intervals


def test_bars_draw_bootstrap_whiskers(attitude):
    result = key_drivers(attitude, outcome="rating", drivers=DRIVERS, bootstrap=100, rng=1)
    ax = importance_bars(result)
    segments = [seg for coll in ax.collections for seg in coll.get_segments()]
    assert len(segments) == len(DRIVERS)
    t = result.table.sort_values("share", ascending=False)
    lows = sorted(100 * t["share_ci_low"])
    assert sorted(min(s[:, 0]) for s in segments) == pytest.approx(lows)
    assert len(importance_bars(result, ci=False).collections) == 0


def test_bars_accept_dominance_and_frames(attitude):
    dom = dominance(attitude, outcome="rating", drivers=DRIVERS)
    assert len(importance_bars(dom).patches) == len(DRIVERS)
    with pytest.raises(ValueError, match="share"):
        importance_bars(pd.DataFrame({"driver": ["a"]}))
    with pytest.raises(TypeError):
        importance_bars([0.1, 0.9])
