"""Tests for the Kano Better–Worse diagram and the IPA map."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from cxlab.ipa import analyze
from cxlab.kano import evaluate, from_wide
from cxlab.plots._ipa import IPA_QUADRANT_LABELS, ipa_map
from cxlab.plots._kano import kano_scatter


def _lines(ax):
    """(vertical x positions, horizontal y positions) of the straight reference lines."""
    vertical, horizontal = [], []
    for line in ax.get_lines():
        xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        if np.allclose(xs, xs[0]):
            vertical.append(float(xs[0]))
        elif np.allclose(ys, ys[0]):
            horizontal.append(float(ys[0]))
    return vertical, horizontal


@pytest.fixture
def kano_result(reference_data) -> pd.DataFrame:
    wide = pd.read_csv(reference_data / "krano_example_data.csv", header=None)
    return evaluate(from_wide(wide, pairs=[(f"F{j + 1}", 2 * j, 2 * j + 1) for j in range(7)]))


def test_kano_scatter_points_lines_and_labels(kano_result):
    fig, ax = plt.subplots()
    out = kano_scatter(kano_result, ax=ax)
    assert out is ax
    offsets = np.asarray(ax.collections[0].get_offsets(), dtype=float)
    expected = np.column_stack([kano_result["worse"].abs(), kano_result["better"]])
    assert np.asarray(offsets) == pytest.approx(expected, abs=1e-12)
    vertical, horizontal = _lines(ax)
    assert vertical == [0.5] and horizontal == [0.5]
    texts = {t.get_text() for t in ax.texts}
    assert {"魅力", "一维", "必备", "无差异"} <= texts
    assert {f"F{j}" for j in range(1, 8)} <= texts
    # quadrant labels sit in the right quadrants: 魅力 top-left, 必备 bottom-right
    pos = {t.get_text(): t.get_position() for t in ax.texts}
    assert pos["魅力"][0] < 0.5 < pos["魅力"][1]
    assert pos["必备"][1] < 0.5 < pos["必备"][0]


def test_kano_scatter_segment_labels_and_default_axes():
    long = pd.DataFrame({"branch": ["SH01", "BJ02"], "feature": ["App", "App"],
                         "functional": [1, 2], "dysfunctional": [5, 5]})
    res = evaluate(long, by="branch")
    ax = kano_scatter(res)
    assert ax is plt.gca()
    texts = {t.get_text() for t in ax.texts}
    assert {"App (BJ02)", "App (SH01)"} <= texts


def test_kano_scatter_rejects_other_frames():
    with pytest.raises(ValueError, match="better"):
        kano_scatter(pd.DataFrame({"feature": ["x"]}))


@pytest.fixture
def ipa_result(reference_data) -> pd.DataFrame:
    df = pd.read_csv(reference_data / "attitude.csv")
    items = ["complaints", "privileges", "learning", "raises", "critical", "advance"]
    return analyze(df, items=items, outcome="rating", labels={"complaints": "投诉处理"})


def test_ipa_map_points_crosshairs_and_quadrants(ipa_result):
    fig, ax = plt.subplots()
    out = ipa_map(ipa_result, ax=ax)
    assert out is ax
    points = np.vstack([np.asarray(c.get_offsets(), dtype=float) for c in ax.collections])
    expected = ipa_result[["performance", "importance"]].to_numpy()
    got = points[np.lexsort(points.T[::-1])]
    want = expected[np.lexsort(expected.T[::-1])]
    assert got == pytest.approx(want, abs=1e-12)
    vertical, horizontal = _lines(ax)
    cross = ipa_result.attrs["crosshair"]
    assert vertical == pytest.approx([cross["performance"]], abs=1e-12)
    assert horizontal == pytest.approx([cross["importance"]], abs=1e-12)
    texts = {t.get_text() for t in ax.texts}
    assert set(IPA_QUADRANT_LABELS.values()) == {"重点改进区", "继续保持区", "低优先区", "过度投入区"}
    assert set(IPA_QUADRANT_LABELS.values()) <= texts
    assert {"投诉处理", "learning", "advance"} <= texts  # the result's labels
    # 重点改进区 is the top-left corner (low performance, high importance)
    corner = next(t for t in ax.texts if t.get_text() == "重点改进区").get_position()
    assert corner[0] < 0.5 < corner[1]


def test_ipa_map_label_override_and_lost_attrs(ipa_result):
    plain = pd.DataFrame(ipa_result)  # a copy
    plain.attrs = {}
    ax = ipa_map(plain, labels={"learning": "培训学习"})
    texts = {t.get_text() for t in ax.texts}
    assert "培训学习" in texts and "learning" not in texts
    vertical, horizontal = _lines(ax)
    assert vertical == pytest.approx([plain["performance"].mean()], abs=1e-12)
    assert horizontal == pytest.approx([plain["importance"].mean()], abs=1e-12)


def test_ipa_map_rejects_other_frames():
    with pytest.raises(ValueError, match="quadrant"):
        ipa_map(pd.DataFrame({"item": ["x"], "performance": [1.0], "importance": [1.0]}))
