"""Repeat respondents, small bases and the footnotes of the change tests in reports (issue 22 §2).

About a third of the sample's customers answer in two consecutive periods, so the two periods
are not independent samples. cxlab tests such a change with the design-based difference of the
two period means with customers as clusters (:func:`cxlab.metrics.overlap_test`, checked live
against R's ``survey`` in ``tests/test_r_survey.py``). These tests check that every place a
report tests a period-over-period change (summary, KPI table, league table, index, alerts) uses
that one test where customers repeat, and says so in its footnote.
"""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlab.metrics import CI_METHODS, change, csat, nps, overlap_test, scores_from_counts
from cxlab.ops import evaluate_alerts
from cxlab.ops._repeat import change_test, paired_changes
from cxlab.report._inference import branch_status

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
PERIOD = "2026Q3"
DROP = {"id": "drop", "kind": "significant_drop", "label": "NPS 环比显著下降", "metric": "nps",
        "alpha": 0.05}


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", " ", html)))


def _panel(rng, *, branches=("A", "B", "C"), n=160, repeat=0.6, drop=None) -> pd.DataFrame:
    """Two periods per branch; a share ``repeat`` of the first period's customers answer again
    with nearly the same attitude; ``drop`` = {branch: points of LTR lost in period 2}."""
    rows = []
    for b in branches:
        taste = rng.normal(0, 1.7, n)
        ids = [f"{b}{i:03d}" for i in range(n)]
        ltr1 = np.clip(np.round(7.6 + taste + rng.normal(0, 0.4, n)), 0, 10)
        again = rng.random(n) < repeat
        k_new = n - int(again.sum())
        taste2 = np.r_[taste[again], rng.normal(0, 1.7, k_new)]
        ids2 = [i for i, a in zip(ids, again, strict=True) if a] + [f"{b}n{i:03d}" for i in range(k_new)]
        shift = (drop or {}).get(b, 0.0)
        ltr2 = np.clip(np.round(7.6 - shift + taste2 + rng.normal(0, 0.4, n)), 0, 10)
        for period, cid, ltr, t in (("2026Q1", ids, ltr1, taste), ("2026Q2", ids2, ltr2, taste2)):
            rows.append(pd.DataFrame({
                "period": period, "branch": b, "customer_id": cid, "ltr": ltr,
                "csat": np.clip(np.round(3.9 + 0.6 * t + rng.normal(0, 0.3, n)), 1, 5)}))
    return pd.concat(rows, ignore_index=True)


def _aggregates(resp: pd.DataFrame) -> pd.DataFrame:
    """The company aggregates of ``resp`` as ``compute_aggregates`` writes them."""
    x = resp.assign(p=resp["ltr"] >= 9, pa=resp["ltr"].between(7, 8), d=resp["ltr"] <= 6,
                    top=resp["csat"] >= 4)
    agg = (x.groupby(["period", "branch"], as_index=False)
           .agg(n=("ltr", "count"), promoters=("p", "sum"), passives=("pa", "sum"),
                detractors=("d", "sum"), csat_n=("csat", "count"), csat_top2=("top", "sum")))
    paired = paired_changes(resp, score="ltr", csat="csat", csat_top=4)
    return agg.merge(paired, on=["period", "branch"], how="left")


# --------------------------------------------------------------------------- one test everywhere
def test_paired_changes_equal_change_with_paired_on(rng):
    resp = _panel(rng)
    pc = paired_changes(resp, score="ltr", csat="csat", csat_top=4).set_index("branch")
    for metric in ("nps", "csat"):
        ch = change(resp, metric=metric, by="branch", paired_on="customer_id").dropna(
            subset=["pvalue"]).set_index("branch")
        assert ch["method"].str.startswith("overlap-adjusted").all()
        np.testing.assert_allclose(pc.loc[ch.index, f"{metric}_change_pvalue"], ch["pvalue"],
                                   rtol=1e-12)
    assert (pc["change_from"] == "2026Q1").all()
    assert (pc["repeat_customers"] > 60).all()
    # no customer id: nothing to pair, the frame is empty and the counts' tests stand
    assert paired_changes(resp.drop(columns="customer_id"), score="ltr", csat="csat").empty


def test_a_drop_hidden_by_the_independent_test_is_found_with_repeat_customers():
    rng = np.random.default_rng(20261204)
    resp = _panel(rng, n=150, repeat=0.8, drop={"B": 0.25})
    agg = _aggregates(resp)
    # the same data without ids: the two periods treated as independent samples
    st_ind = branch_status(agg.drop(columns=["nps_change_pvalue", "change_from"]), None,
                           period="2026Q2", previous="2026Q1", method="none").set_index("branch")
    st = branch_status(agg, None, period="2026Q2", previous="2026Q1",
                       method="none").set_index("branch")
    assert st["paired"].all() and not st_ind["paired"].any()
    ref = change(resp, metric="nps", by="branch", paired_on="customer_id").dropna(
        subset=["pvalue"]).set_index("branch")
    np.testing.assert_allclose(st["pvalue"], ref.loc[st.index, "pvalue"], rtol=1e-12)
    np.testing.assert_allclose(st["change"], ref.loc[st.index, "change"], rtol=1e-12)
    # B's planted drop: the repeat customers' correlation makes it detectable
    assert st.loc["B", "pvalue"] < 0.05 <= st_ind.loc["B", "pvalue"]
    assert st.loc["B", "significant_drop"] and not st_ind.loc["B", "significant_drop"]

    # the alert rule on the respondent rows (ids present) and on the aggregates (given p-values)
    rules = {"version": 1, "rules": [DROP], "multiple_comparisons": "none"}
    on_rows = evaluate_alerts({"responses": resp}, rules=rules)
    without_ids = evaluate_alerts({"responses": resp.drop(columns="customer_id")}, rules=rules)
    given = evaluate_alerts({"responses": resp.drop(columns="customer_id"),
                             "change_pvalues": agg}, rules=rules)
    assert list(on_rows["branch"]) == ["B"] and "B" not in set(without_ids["branch"])
    assert on_rows["pvalue"].iloc[0] == pytest.approx(st.loc["B", "pvalue"], rel=1e-12)
    assert "已考虑两期都作答的客户" in on_rows["detail"].iloc[0]
    pd.testing.assert_frame_equal(given, on_rows)


def test_change_test_without_repeat_customers_is_none_and_within_period_repeats_count_once(rng):
    resp = _panel(rng, branches=("A",), repeat=0.0)
    cur, prev = resp[resp["period"] == "2026Q2"], resp[resp["period"] == "2026Q1"]
    assert change_test(cur, prev, metric="nps", score="ltr") is None
    # a customer answering twice in one period is one cluster: duplicating a repeat customer's
    # current answer changes the estimate, and the test still runs
    both = _panel(np.random.default_rng(1), branches=("A",), repeat=0.5)
    cur, prev = both[both["period"] == "2026Q2"], both[both["period"] == "2026Q1"]
    twice = pd.concat([cur, cur.iloc[:5]], ignore_index=True)
    res = change_test(twice, prev, metric="csat", score="csat", top=4)
    assert np.isfinite(res.se) and res.se > 0 and "customers in both" in res.method


# --------------------------------------------------------------------------- small bases
def test_default_intervals_never_have_zero_width_at_the_bounds():
    for n in (1, 2, 5, 29, 30, 400):
        for counts in ((n, 0, 0), (0, 0, n)):   # all promoters / all detractors
            r = nps(scores_from_counts(*counts)).iloc[0]
            assert r["ci_high"] - r["ci_low"] > 1.0, (n, counts)
            assert -100 <= r["ci_low"] <= r["ci_high"] <= 100
        for top in (0, n):
            c = csat(pd.DataFrame({"s": [5] * top + [1] * (n - top)}), score="s").iloc[0]
            assert c["ci_high"] - c["ci_low"] > 0.5, (n, top)
    assert "adjusted_wald" == CI_METHODS[1]  # the default of nps(), kept by the reports


# --------------------------------------------------------------------------- reports
@pytest.fixture(scope="module")
def contexts(sample_warehouse, tmp_path_factory):
    from cxlab.report import build_aggregates, load_context

    wh = tmp_path_factory.mktemp("repeat") / "warehouse"
    shutil.copytree(sample_warehouse, wh)
    build_aggregates(wh, params_dir=PARAMS)
    return {b: load_context(period=PERIOD, branch=b, warehouse=wh, params_dir=PARAMS)
            for b in (None, "GZ01")}


@pytest.fixture(scope="module")
def styled():
    import matplotlib

    matplotlib.use("Agg")
    from cxlab.plots import set_style

    set_style()


def test_reports_test_changes_with_repeat_customers_and_say_so(contexts, styled):
    from cxlab.report import _sections_ops as ops
    from cxlab.report import sections

    for ctx in contexts.values():
        cur = ctx.current
        prev = ctx.responses[ctx.responses["period"] == ctx.previous]
        repeat = len(set(cur["customer_id"]) & set(prev["customer_id"]))
        assert repeat > 0.2 * len(cur)  # about a third of the sample's customers repeat
        h = sections._headline(ctx)
        # the sample reports are weighted (params/weighting.yaml): the weighted overlap test
        assert ctx.weighted
        a, b = (f.assign(y=np.select([f["ltr"] >= 9, f["ltr"] >= 7], [1.0, 0.0], -1.0))
                .dropna(subset=["ltr"]) for f in (cur, prev))
        want = overlap_test(a, b, column="y", id="customer_id", weight=ctx.weight, scale=100)
        assert h["nps_test"].pvalue == pytest.approx(want.pvalue, rel=1e-12)
        assert h["nps_test"].diff == pytest.approx(h["nps"]["nps"] - h["nps_prev"]["nps"],
                                                   rel=1e-12)
        assert h["nps_test"].method == want.method
        summary = _text(sections.summary(ctx).html)
        assert f"{repeat:,} 位客户两期都作答" in summary and "以客户为群" in summary
        assert "双侧" in summary and "α = 0.05" in summary
        kpis = ops.operations_kpis(ctx).html
        assert "以客户为群" in _text(kpis) and f"{repeat:,} 位客户" in _text(kpis)
        alerts = _text(ops.alerts(ctx).html)
        # the alerts' sidedness and alpha (issue 22), and how repeat customers are treated
        assert "双侧检验(α = 0.05" in alerts and "单侧检验(α = 0.025)" in alerts
        assert "按以客户为群的检验扣除其协方差" in alerts

    ctx = contexts[None]
    lt = sections._league(ctx)
    assert lt.loc[lt["n"] >= 30, "paired"].all()
    # the league ranks on the weighted aggregates (issue 22): its p-values are the weighted
    # overlap tests of each branch's respondents (overlap_test with the reports' weights)
    shown = lt[lt["n"] >= 30].set_index("branch")
    a, b = (f.assign(y=np.select([f["ltr"] >= 9, f["ltr"] >= 7], [1.0, 0.0], -1.0))
            .dropna(subset=["ltr"]) for f in (ctx.current, ctx.responses[
                ctx.responses["period"] == ctx.previous]))
    want = [overlap_test(a[a["branch"] == br], b[b["branch"] == br], column="y",
                         id="customer_id", weight=ctx.weight, scale=100).pvalue
            for br in shown.index]
    np.testing.assert_allclose(shown["pvalue"], want, rtol=1e-9)
    # and they differ from the unweighted ones (so the check above can fail)
    ref = change(ctx.responses[ctx.responses["period"].isin([ctx.previous, ctx.period])],
                 metric="nps", by="branch", paired_on="customer_id").dropna(subset=["pvalue"])
    assert not np.allclose(shown["pvalue"], ref.set_index("branch").loc[shown.index, "pvalue"],
                           rtol=1e-3)
    league = _text(sections.league_table(ctx).html)
    assert "以客户为群" in league and "(加权)" in league


def test_csat_under_the_suppression_base_has_no_estimate_in_the_summary(contexts, styled):
    import dataclasses

    from cxlab.report import sections

    ctx = contexts["GZ01"]
    cs = sections.csat_col(ctx)
    resp = ctx.responses.copy()
    cur = resp["period"] == ctx.period
    keep = resp.index[cur][:20]  # only 20 current CSAT answers
    resp.loc[cur & ~resp.index.isin(keep), cs] = np.nan
    small = dataclasses.replace(ctx, responses=resp)
    text = _text(sections.summary(small).html)
    assert "只有 20 人作答" in text and "不予报告" in text
    assert "客户满意度(CSAT," not in text
    cards = _text(sections.kpi_dashboard(small).html)
    assert "样本不足" in cards


def test_without_ids_or_without_repeat_customers_the_report_tests_independent_samples(contexts,
                                                                                       styled):
    import dataclasses

    from cxlab.report import sections

    ctx = contexts["GZ01"]
    paired = sections._headline(ctx)["nps_test"]
    no_ids = dataclasses.replace(ctx, responses=ctx.responses.drop(columns="customer_id"))
    fresh = ctx.responses.assign(customer_id=ctx.responses["customer_id"].astype(str)
                                 + "-" + ctx.responses["period"].astype(str))
    no_repeat = dataclasses.replace(ctx, responses=fresh)
    h1, h2 = sections._headline(no_ids), sections._headline(no_repeat)
    for h in (h1, h2):
        assert not h["nps_test"].method.startswith("overlap-adjusted")
        assert h["nps_test"].pvalue == pytest.approx(h1["nps_test"].pvalue, rel=1e-12)
        assert h["nps_test"].diff == pytest.approx(paired.diff, rel=1e-12)  # same change
    assert "数据没有客户编号" in _text(sections.summary(no_ids).html)
    assert "两期样本没有重复作答的客户" in _text(sections.summary(no_repeat).html)
