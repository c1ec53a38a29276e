"""Tests of the text and segment figures (cxlab.plots._text)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cxlab.plots._text import segment_bars, theme_bars
from cxlab.segments import segment_scores
from cxlab.text import tag_themes, theme_summary

COMMENTS = pd.DataFrame({"comment": ["价格太贵了", "性价比很高", "物流很快", "客服态度差", "物流太慢", None]})


def test_theme_bars_from_summary_and_long_frame():
    s = theme_summary(COMMENTS)
    ax = theme_bars(s)
    assert ax.get_title() == "评论主题与情感"
    total = sum(p.get_width() for p in ax.patches)
    assert total == s["n"].sum()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert set(labels) == set(s["theme_name"])
    _, ax2 = plt.subplots()
    out = theme_bars(tag_themes(COMMENTS), ax=ax2, share=True)
    assert out is ax2
    with pytest.raises(ValueError, match="theme_summary"):
        theme_bars(pd.DataFrame({"x": [1]}))


def test_segment_bars():
    d = pd.DataFrame({"tier": ["高"] * 60 + ["低"] * 60 + ["中"] * 5,
                      "ltr": [10, 9, 9, 8] * 15 + [3, 6, 8, 9] * 15 + [9] * 5})
    r = segment_scores(d, by="tier")
    ax = segment_bars(r)
    assert [t.get_text() for t in ax.get_xticklabels()] == r["tier"].tolist()
    texts = [t.get_text() for t in ax.texts]
    assert "样本不足" in texts and any(t.endswith("*") for t in texts)
    with pytest.raises(ValueError):
        segment_bars(r, value="ces")
