"""cxlab.plots._ops: each figure draws what its input says and returns the Axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from cxlab.config import load_codebook, load_params, load_targets
from cxlab.ops import ScorecardRules, closure_summary, journey_scores, scorecard, sla_summary
from cxlab.plots._ops import closure_bars, journey_heatmap, scorecard_bars, sla_bars


@pytest.fixture(autouse=True, scope="module")
def _style():
    from cxlab.plots import set_style

    set_style()


ACTUALS = {"plan_due": 12, "plan_done": 11, "plans_total": 16, "plans_executed": 15,
           "improvement_rate": 86.0, "satisfaction_rate": 87.2, "credit_survey_rate": 85.0,
           "feedback_rate": 14.9, "budgeted_items": 19, "budget_items_total": 20,
           "unit_cost": 61.0, "training_rate": 96.0, "staff_pass_rate": 91.0}


def test_scorecard_bars():
    t = scorecard(ACTUALS, rules=load_params("params/scorecard.yaml", ScorecardRules))
    fig, ax = plt.subplots()
    out = scorecard_bars(t, ax=ax)
    assert out is ax
    assert len(ax.patches) == 20                       # 10 full-mark bars + 10 score bars
    assert [t.get_text() for t in ax.get_yticklabels()][-1] == "客户体验调研计划完成率"
    assert "65.0 / 100" in ax.get_title()
    widths = sorted(p.get_width() for p in ax.patches[10:])
    assert widths[0] == 0.0 and widths[-1] == 12.0      # feedback 0, plan completion 12 of 20


def test_closure_bars_marks_overdue():
    tracked = pd.DataFrame({
        "branch": ["SH01", "BJ01", "BJ01"], "closed": [True, False, False],
        "status": ["已关闭", "待处理", "未建单"],
        "opened_at": pd.to_datetime(["2026-07-01", "2026-07-01", None]),
        "closed_at": pd.to_datetime(["2026-07-02", None, None]),
        "hours_to_close": [24.0, None, None]})
    s = closure_summary(tracked, now="2026-07-10")
    ax = closure_bars(s)
    assert ax is plt.gca()
    assert len(ax.patches) == 6
    assert [t.get_text() for t in ax.texts] == ["超期 1"]
    assert ax.get_ylabel() == "预警数"


def test_sla_bars_and_journey_heatmap():
    t0 = pd.Timestamp("2026-07-01 09:00")
    tickets = pd.DataFrame({"channel": ["邮件", "邮件", "电话"], "type": ["投诉", "咨询", "咨询"],
                            "priority": ["普通"] * 3, "created_at": [t0] * 3,
                            "first_response_at": [t0 + pd.Timedelta(hours=h) for h in (1, 30, 0.01)],
                            "resolved_at": [t0 + pd.Timedelta(hours=h) for h in (5, 40, 1)],
                            "answer_seconds": [None, None, 12]})
    s = sla_summary(tickets, targets=load_targets())
    ax = sla_bars(s)
    assert len(ax.patches) == s["pct_within"].notna().sum()
    assert ax.get_xlabel() == "达标率(%)"
    r = pd.DataFrame({"branch": ["X", "Y"], "look_shape": [5, 3], "svc_attitude": [4, 2]})
    j = journey_scores(r, codebook=load_codebook(), by="branch")
    fig, ax2 = plt.subplots()
    journey_heatmap(j, columns="branch", ax=ax2)
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["X", "Y"]
    assert [t.get_text() for t in ax2.get_yticklabels()] == ["购买交付 · 产品外观", "售后服务 · 客服热线"]
    with pytest.raises(ValueError, match="value must be one of"):
        journey_heatmap(j, value="median")
