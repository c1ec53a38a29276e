"""cxlab.ops: scorecard rules, KPI status, alert rules, closed loop, SLAs, participation,
journey, price/channel, audits and A/B tests — on crafted data with hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlab.config import load_codebook, load_params, load_targets, params_from_dict
from cxlab.errors import ParamsError
from cxlab.ops import (
    AlertRules,
    ScorecardRules,
    ab_sample_size,
    ab_test,
    audit_summary,
    channel_preference,
    closure_summary,
    compute_kpis,
    evaluate_alerts,
    feedback_summary,
    journey_scores,
    kpi_status,
    price_gap,
    response_rates,
    score_kpi,
    scorecard,
    sla_summary,
    track_alerts,
    weakest_touchpoints,
)


@pytest.fixture(scope="module")
def targets():
    return load_targets("params/targets.yaml")


@pytest.fixture(scope="module")
def alert_rules():
    return load_params("params/alerts.yaml", AlertRules)


@pytest.fixture(scope="module")
def score_rules():
    return load_params("params/scorecard.yaml", ScorecardRules)


# ============================================================================================
# 1. score_kpi — worked cases (seed 000 §07 wording: 目标值 X%;每减少 step%,扣 points 分;
#    低于 zero_below% 不得分). Full marks = weight × 100.
# ============================================================================================
@pytest.mark.parametrize(
    ("value", "kw", "expected"),
    [
        # at or above target: full marks 0.2 × 100 = 20
        (100, dict(weight=0.2, target=100, step=1, points=2, zero_below=90), 20.0),
        (103, dict(weight=0.2, target=100, step=1, points=2, zero_below=90), 20.0),
        # 3 short, 3 full steps × 2 = 6 → 14
        (97, dict(weight=0.2, target=100, step=1, points=2, zero_below=90), 14.0),
        # 2.5 short: only 2 FULL steps → 16
        (97.5, dict(weight=0.2, target=100, step=1, points=2, zero_below=90), 16.0),
        # 0.9 short: no full step → no deduction
        (99.1, dict(weight=0.2, target=100, step=1, points=2, zero_below=90), 20.0),
        # exactly at the zero line: scored normally, 10 steps × 2 = 20 → 0 (not "below")
        (90, dict(weight=0.2, target=100, step=1, points=1, zero_below=90), 10.0),
        # just below the zero line → 0
        (89.99, dict(weight=0.2, target=100, step=1, points=1, zero_below=90), 0.0),
        # deduction larger than full marks, no zero line: floor at 0, never negative
        (50, dict(weight=0.1, target=100, step=1, points=2), 0.0),
        # exact multiple of a fractional step: 90 − 89.7 = 0.3 = 3 × 0.1 (naive floor(2.9999…) = 2)
        (89.7, dict(weight=0.1, target=90, step=0.1, points=1), 7.0),
        # 0.3 / 0.1 with other magnitudes: 0.6 short in steps of 0.2 → 3 steps
        (99.4, dict(weight=0.1, target=100, step=0.2, points=1), 7.0),
        # exact multiple of step 2: 6 short → 3 steps × 3 = 9 → 11
        (94, dict(weight=0.2, target=100, step=2, points=3), 11.0),
        # 单位成本 (lower is better): 不高于 50 元, 每高 5 元扣 2 分, 高于 75 元不得分; weight 10 %
        (40, dict(weight=0.1, target=50, step=5, points=2, zero_below=75, lower_is_better=True), 10.0),
        (54.9, dict(weight=0.1, target=50, step=5, points=2, zero_below=75, lower_is_better=True), 10.0),
        (55, dict(weight=0.1, target=50, step=5, points=2, zero_below=75, lower_is_better=True), 8.0),
        (65, dict(weight=0.1, target=50, step=5, points=2, zero_below=75, lower_is_better=True), 4.0),
        # exactly at the cost ceiling: 5 steps × 2 = 10 → 0 by deduction, not by the ceiling
        (75, dict(weight=0.1, target=50, step=5, points=1, zero_below=75, lower_is_better=True), 5.0),
        (75.1, dict(weight=0.1, target=50, step=5, points=1, zero_below=75, lower_is_better=True), 0.0),
        # float: 50.3 − 50 = 0.3 → 3 steps of 0.1
        (50.3, dict(weight=0.1, target=50, step=0.1, points=1, lower_is_better=True), 7.0),
    ],
)
def test_score_kpi_worked_cases(value, kw, expected):
    assert score_kpi(value, **kw) == pytest.approx(expected, abs=1e-12)


def test_score_kpi_nan_and_bad_arguments():
    assert math.isnan(score_kpi(float("nan"), weight=0.1, target=90, step=1, points=1))
    with pytest.raises(ValueError, match="step"):
        score_kpi(80, weight=0.1, target=90, step=0, points=1)
    with pytest.raises(ValueError, match="weight"):
        score_kpi(80, weight=0, target=90, step=1, points=1)
    with pytest.raises(ValueError, match="points"):
        score_kpi(80, weight=0.1, target=90, step=1, points=-1)
    with pytest.raises(TypeError, match="weight"):
        score_kpi(80, weight="0.1", target=90, step=1, points=1)


@settings(max_examples=150, deadline=None)
@given(v1=st.floats(0, 150), v2=st.floats(0, 150), step=st.sampled_from([0.1, 0.5, 1, 2, 5]),
       points=st.floats(0, 5), lib=st.booleans())
def test_score_kpi_bounded_and_monotone(v1, v2, step, points, lib):
    kw = dict(weight=0.1, target=90 if not lib else 50, step=step, points=points,
              zero_below=80 if not lib else 75, lower_is_better=lib)
    s1, s2 = score_kpi(v1, **kw), score_kpi(v2, **kw)
    assert 0.0 <= s1 <= 10.0 and 0.0 <= s2 <= 10.0
    lo, hi = sorted([v1, v2])
    better, worse = (lo, hi) if lib else (hi, lo)
    assert score_kpi(better, **kw) >= score_kpi(worse, **kw)


# ============================================================================================
# 2. scorecard — params/scorecard.yaml on hand-made actuals
# ============================================================================================
ACTUALS = {  # one period of ops/scorecard_actuals.csv
    "plan_due": 12, "plan_done": 11,            # 91.667 %: 8.33 short → 8 steps × 1 → 20 − 8 = 12
    "plans_total": 16, "plans_executed": 15,    # 93.75 %: 1.25 short of 95 → 1 step × 1 → 9
    "improvement_rate": 86.0,                   # 4 short of 90, step 2 × 2 pts → 2 steps → 6
    "satisfaction_rate": 87.2,                  # ≥ 85 → 10
    "credit_survey_rate": 85.0,                 # 5 short of 90, step 2 → 2 steps × 1 → 8
    "feedback_rate": 14.9,                      # below the 15 floor → 0
    "budgeted_items": 19, "budget_items_total": 20,  # 95 %: 5 short, step 2 → 2 × 2 → 6
    "unit_cost": 61.0,                          # 11 元 over 50, step 5 → 2 × 2 → 6
    "training_rate": 96.0,                      # 4 short of 100, step 2 → 2 × 1 → 3
    "staff_pass_rate": 91.0,                    # ≥ 90 → 5
}
EXPECTED_SCORES = {"plan_completion": 12, "plan_execution": 9, "improvement_rate": 6,
                   "satisfaction_rate": 10, "credit_survey_rate": 8, "feedback_rate": 0,
                   "budget_rate": 6, "unit_cost": 6, "training_rate": 3, "staff_pass_rate": 5}


def test_scorecard_yaml_has_the_ten_seed_kpis(score_rules):
    # seed 000 §07: weights 20/10/10/10/10/10/10/10/5/5 %
    assert [k.weight for k in score_rules.kpis] == [0.2] + [0.1] * 7 + [0.05, 0.05]
    assert [k.label for k in score_rules.kpis][:2] == ["客户体验调研计划完成率", "调研计划执行率"]
    assert score_rules.kpis[0].formula.replace(" ", "") == "plan_done/plan_due*100"
    assert [k.id for k in score_rules.kpis if k.lower_is_better] == ["unit_cost"]
    assert next(k for k in score_rules.kpis if k.id == "credit_survey_rate").zero_below is None


def test_scorecard_worked_example(score_rules):
    frame = pd.DataFrame({"measure": list(ACTUALS), "value": list(ACTUALS.values())})
    t = scorecard(frame, rules=score_rules)
    assert list(t.columns[:2]) == ["kpi", "label"]
    body = t[t["kpi"] != "total"].set_index("kpi")
    assert body["score"].to_dict() == pytest.approx(EXPECTED_SCORES)
    assert body.loc["plan_completion", "value"] == pytest.approx(11 / 12 * 100)
    assert body.loc["budget_rate", "value"] == pytest.approx(95.0)
    assert body["max_score"].sum() == pytest.approx(100.0)
    total = t.iloc[-1]
    assert total["kpi"] == "total" and total["label"] == "合计"
    assert total["score"] == pytest.approx(65.0)  # 12+9+6+10+8+0+6+6+3+5
    assert total["max_score"] == pytest.approx(100.0)
    # a mapping gives the same table; a single-period frame with a period column too
    pd.testing.assert_frame_equal(scorecard(ACTUALS, rules=score_rules), t)
    pd.testing.assert_frame_equal(scorecard(frame.assign(period="2026Q3"), rules=score_rules), t)


def test_scorecard_errors(score_rules):
    partial = {k: v for k, v in ACTUALS.items() if k not in ("plan_due", "unit_cost")}
    with pytest.raises(ValueError, match=r"\['plan_due', 'unit_cost'\]"):
        scorecard(partial, rules=score_rules)
    two = pd.DataFrame({"period": ["2026Q2", "2026Q3"], "measure": ["x", "x"], "value": [1, 2]})
    with pytest.raises(ValueError, match="several periods"):
        scorecard(two, rules=score_rules)
    dup = pd.DataFrame({"measure": ["plan_due", "plan_due"], "value": [1, 2]})
    with pytest.raises(ValueError, match="duplicated"):
        scorecard(dup, rules=score_rules)


def test_scorecard_rules_validation():
    base = {"id": "a", "label": "A", "weight": 0.5, "formula": "x", "target": 90, "step": 1,
            "points": 1}
    with pytest.raises(ParamsError, match="weights sum to 0.5"):
        params_from_dict({"version": 1, "kpis": [base]}, ScorecardRules)
    bad = base | {"weight": 1.0, "formula": "__import__('os')"}
    with pytest.raises(ParamsError, match="formula"):
        params_from_dict({"version": 1, "kpis": [bad]}, ScorecardRules)
    with pytest.raises(ParamsError, match="zero_below"):
        params_from_dict({"version": 1, "kpis": [base | {"weight": 1.0, "zero_below": 95}]},
                         ScorecardRules)
    with pytest.raises(ParamsError, match="unknown key"):
        params_from_dict({"version": 1, "kpis": [base | {"weight": 1.0, "wieght": 1}]},
                         ScorecardRules)


def test_cli_scorecard(tmp_path, capsys):
    from cxlab.cli import main

    rows = [("2026Q2", m, v) for m, v in ACTUALS.items()] + [("2026Q3", m, v) for m, v in ACTUALS.items()]
    path = tmp_path / "scorecard_actuals.csv"
    pd.DataFrame(rows, columns=["period", "measure", "value"]).to_csv(path, index=False)
    assert main(["scorecard", "--period", "2026Q3", "--actuals", str(path)]) == 0
    out = capsys.readouterr().out
    assert "客户体验调研计划完成率" in out and "合计" in out and "65.0" in out
    assert main(["scorecard", "--period", "2030Q1", "--actuals", str(path)]) == 1
    err = capsys.readouterr().err
    assert "no rows for period '2030Q1'" in err and "2026Q2, 2026Q3" in err
    assert "Traceback" not in err


# ============================================================================================
# crafted survey data: 5 branches × 2 periods
# ============================================================================================
def _cell(period, branch, p, pa, d, *, csat_top=None, start=0):
    n = p + pa + d
    ltr = [10] * p + [8] * pa + [0] * d
    top = n if csat_top is None else csat_top
    csat = [5] * top + [2] * (n - top)
    return pd.DataFrame({
        "response_id": [f"{period}-{branch}-{i}" for i in range(start, start + n)],
        "customer_id": [f"{branch}-{period}-c{i}" for i in range(start, start + n)],
        "period": period, "branch": branch, "ltr": ltr, "csat": csat, "comment": "",
    })


@pytest.fixture(scope="module")
def responses():
    cells = [
        # period, branch, promoters, passives, detractors  -> NPS
        _cell("2026Q1", "A", 60, 30, 10),  # 50
        _cell("2026Q1", "B", 61, 30, 9),   # 52
        _cell("2026Q1", "C", 55, 35, 10),  # 45
        _cell("2026Q1", "D", 65, 30, 5),   # 60
        _cell("2026Q1", "E", 2, 1, 7),     # -50, n = 10 (suppressed base)
        _cell("2026Q2", "A", 30, 50, 20, csat_top=70),  # 10, CSAT 70 %
        _cell("2026Q2", "B", 58, 32, 10),  # 48
        _cell("2026Q2", "C", 55, 35, 10),  # 45
        _cell("2026Q2", "D", 65, 30, 5),   # 60
        _cell("2026Q2", "E", 2, 1, 7),     # -50
    ]
    r = pd.concat(cells, ignore_index=True)
    c2 = r.index[(r["period"] == "2026Q2") & (r["branch"] == "C")]
    det = [i for i in c2 if r.at[i, "ltr"] == 0]
    prom = [i for i in c2 if r.at[i, "ltr"] == 10]
    r.at[det[0], "comment"] = "服务太慢,我要投诉"     # detractor + keyword -> fires
    r.at[det[1], "customer_id"] = "C-T"               # detractor with a complaint ticket -> fires
    r.at[det[2], "customer_id"] = "C-X"               # detractor with only a 咨询 ticket -> no
    r.at[prom[0], "comment"] = "没什么要投诉的,很好"   # promoter with keyword -> no
    return r


@pytest.fixture(scope="module")
def tickets():
    def t(tid, cust, branch, period, ttype, hours, channel="邮件", priority="普通"):
        created = pd.Timestamp("2026-05-10 09:00:00")
        return {"ticket_id": tid, "customer_id": cust, "branch": branch, "period": period,
                "channel": channel, "type": ttype, "priority": priority,
                "created_at": str(created), "first_response_at": str(created + pd.Timedelta(hours=hours)),
                "resolved_at": None, "closed_at": None, "owner": f"{branch}-坐席01", "status": "处理中"}
    return pd.DataFrame([
        t("T1", "C-T", "C", "2026Q2", "投诉", 1.0),                # the detractor's complaint ticket
        t("T2", "C-X", "C", "2026Q2", "咨询", 5.0),                # not a complaint, 5 h: no SLA alert
        t("T3", "z1", "C", "2026Q2", "投诉", 3.0, channel="门店"),  # complaint 3 h > 2 h -> breach
        t("T4", "z2", "B", "2026Q2", "投诉", 2.0),                 # exactly 2 h -> no breach
        t("T5", "z3", "D", "2026Q1", "咨询", 6.0, priority="紧急"),  # urgent e-mail 6 h
        t("T6", "z4", "D", "2026Q1", "报修", 6.0, channel="电话", priority="紧急"),  # urgent phone
    ])


def _fired(alerts, rule):
    return set(map(tuple, alerts.loc[alerts["rule"] == rule, ["branch", "period"]].to_numpy()))


# ============================================================================================
# 3. compute_kpis / kpi_status
# ============================================================================================
def test_compute_kpis_from_crafted_frames(responses, tickets, targets):
    customers = pd.DataFrame({"customer_id": ["x1", "x2", "x3", "x4"], "branch": ["A", "A", "A", "B"],
                              "churned": [1, 0, 0, 0]})
    k = compute_kpis(responses, tickets, customers, by="branch", targets=targets)
    get = lambda b, kpi: k[(k["branch"] == b) & (k["kpi"] == kpi)].iloc[0]  # noqa: E731
    # A pooled over both periods: promoters 90, passives 80, detractors 30 of 200 -> NPS 30
    a = get("A", "nps")
    assert (a["value"], a["n"], a["promoters"], a["detractors"]) == (30.0, 200, 90, 30)
    # CSAT A: 100 + 70 top-2 of 200 -> 85 %
    assert get("A", "csat")["value"] == pytest.approx(85.0)
    # complaints of C: T1 1 h, T3 3 h -> median 2 h; within 2 h: 1 of 2 -> 50 %
    assert get("C", "complaint_response_hours")["value"] == pytest.approx(2.0)
    w = get("C", "complaint_response_within")
    assert (w["value"], w["k"], w["n"]) == (50.0, 1, 2)
    # C e-mail 普通: T1 (1 h) and T2 (5 h) -> median 3 h, both within 24 h
    assert get("C", "email_reply_hours")["value"] == pytest.approx(3.0)
    assert get("C", "email_reply_within")["value"] == pytest.approx(100.0)
    # D urgent e-mail T5 6 h > 4 h -> 0 % within
    assert get("D", "email_reply_within_urgent")["value"] == 0.0
    # churn: A 1 of 3
    assert get("A", "annual_churn")["value"] == pytest.approx(100 / 3)


def test_compute_kpis_survey_rows_equal_a_loop_over_groups(rng):
    n = 400
    df = pd.DataFrame({
        "period": rng.choice(["2026Q1", "2026Q2"], n),
        "branch": rng.choice(["A", "B", "C", None], n),  # a missing branch is a group too
        "ltr": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 11, n)),
        "csat": np.where(rng.random(n) < 0.2, np.nan, rng.integers(1, 6, n)),
    })
    for by in (["period", "branch"], ["branch"], []):
        groups = df.groupby(by, sort=True, dropna=False) if by else [((), df)]
        rows = []
        for key, sub in groups:  # the definitions, group by group
            key = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
            x = sub["ltr"].dropna()
            p, d = int((x >= 9).sum()), int((x <= 6).sum())
            rows.append(key | {"kpi": "nps", "value": 100.0 * (p - d) / len(x), "n": len(x),
                               "promoters": p, "detractors": d})
            c = sub["csat"].dropna()
            rows.append(key | {"kpi": "csat", "value": 100.0 * (c >= 4).sum() / len(c),
                               "n": len(c), "promoters": None, "detractors": None})
        expected = pd.DataFrame(rows)
        got = compute_kpis(df, None, None, by=by)[expected.columns]
        for col in ("n", "promoters", "detractors"):
            expected[col] = expected[col].astype("Int64")
        pd.testing.assert_frame_equal(got.fillna({k: "-" for k in by}),
                                      expected.fillna({k: "-" for k in by}),
                                      check_dtype=False, rtol=1e-12)


def test_compute_kpis_churn_by_last_survey_period(responses):
    customers = pd.DataFrame({"customer_id": ["A-2026Q1-c0", "A-2026Q2-c0", "A-2026Q2-c1", "nobody"],
                              "branch": ["A"] * 4, "churned": [1, 1, 0, 1]})
    k = compute_kpis(responses, None, customers, by=("period", "branch"))
    ch = k[k["kpi"] == "annual_churn"].set_index("period")
    assert ch.loc["2026Q1", "value"] == 100.0 and ch.loc["2026Q1", "n"] == 1
    assert ch.loc["2026Q2", "value"] == 50.0 and ch.loc["2026Q2", "n"] == 2


def test_kpi_status_with_previous_and_significance(responses, targets):
    from cxlab.metrics import nps_test, two_proportion_test

    k = compute_kpis(responses, None, None, by=("period", "branch"))
    s = kpi_status(k, targets=targets)
    assert {"kpi", "label", "value", "target", "op", "status", "previous", "change", "pvalue"} <= set(s.columns)
    a2 = s[(s["branch"] == "A") & (s["period"] == "2026Q2")].set_index("kpi")
    assert a2.loc["nps", "status"] == "missed" and a2.loc["nps", "target"] == 40
    assert a2.loc["nps", "previous"] == 50.0 and a2.loc["nps", "change"] == -40.0
    cur = responses[(responses["branch"] == "A") & (responses["period"] == "2026Q2")]
    prev = responses[(responses["branch"] == "A") & (responses["period"] == "2026Q1")]
    assert a2.loc["nps", "pvalue"] == pytest.approx(nps_test(cur, prev).pvalue, rel=1e-12)
    assert a2.loc["csat", "pvalue"] == pytest.approx(two_proportion_test(70, 100, 100, 100).pvalue)
    assert a2.loc["csat", "status"] == "missed" and bool(a2.loc["csat", "significant"])
    d1 = s[(s["branch"] == "D") & (s["period"] == "2026Q1")].set_index("kpi")
    assert d1.loc["nps", "status"] == "met" and np.isnan(d1.loc["nps", "previous"])
    assert np.isnan(d1.loc["nps", "pvalue"])


def test_kpi_status_mapping_and_no_data(targets):
    s = kpi_status({"nps": 40.0, "annual_churn": 10.0, "phone_answer_seconds": float("nan"),
                    "phone_answer_within": 90.0}, targets=targets).set_index("kpi")
    assert s.loc["nps", "status"] == "met"            # >= 40
    assert s.loc["annual_churn", "status"] == "missed"  # < 10 required
    assert s.loc["phone_answer_seconds", "status"] == "no_data"
    assert s.loc["phone_answer_within", "status"] == "no_target"
    assert s.loc["nps", "label"] == "净推荐值(NPS)"


# ============================================================================================
# 4. alerts — every rule fires when it should and not otherwise
# ============================================================================================
def test_alert_rules_on_crafted_data(responses, tickets, alert_rules, targets):
    al = evaluate_alerts({"responses": responses, "tickets": tickets}, rules=alert_rules,
                         targets=targets)
    assert list(al.columns[:7]) == ["rule", "label", "branch", "period", "metric", "value", "threshold"]
    assert _fired(al, "nps_below_target") == {("A", "2026Q2")}       # E (-50) has n = 10 < 30
    assert _fired(al, "csat_below_target") == {("A", "2026Q2")}
    assert _fired(al, "nps_significant_drop") == {("A", "2026Q2")}   # B 52 -> 48 is not significant
    assert _fired(al, "csat_significant_drop") == {("A", "2026Q2")}
    # alerts.yaml ranks only branches significantly below the rest (significant_only): of the
    # bottom two of each period only A in 2026Q2 (NPS 10 against about 50) is
    assert _fired(al, "nps_bottom_branches") == {("A", "2026Q2")}
    raw = alert_rules.model_dump()
    for r in raw["rules"]:
        r["significant_only"] = False
    plain = evaluate_alerts({"responses": responses, "tickets": tickets}, rules=raw,
                            targets=targets)
    assert _fired(plain, "nps_bottom_branches") == {("C", "2026Q1"), ("A", "2026Q1"),
                                                    ("A", "2026Q2"), ("C", "2026Q2")}
    assert _fired(al, "complaint_sla_breach") == {("C", "2026Q2")}   # T3 only (T4 is exactly 2 h)
    assert "urgent_email_sla_breach" not in set(al["rule"])          # disabled in alerts.yaml
    det = al[al["rule"] == "detractor_complaint"]
    assert sorted(det["customer_id"]) == ["C-2026Q2-c90", "C-T"]
    assert det.set_index("customer_id").loc["C-T", "ticket_id"] == "T1"
    assert "投诉" in det.set_index("customer_id").loc["C-2026Q2-c90", "detail"]
    drop = al[al["rule"] == "nps_significant_drop"].iloc[0]
    assert (drop["value"], drop["previous"], drop["threshold"]) == (10.0, 50.0, 50.0)
    assert drop["pvalue"] < 0.05 and drop["severity"] == "high"
    nbt = al[al["rule"] == "nps_below_target"].iloc[0]
    assert nbt["threshold"] == 40.0                                  # from targets.yaml
    sla = al[al["rule"] == "complaint_sla_breach"].iloc[0]
    assert (sla["ticket_id"], sla["value"], sla["threshold"]) == ("T3", 3.0, 2.0)
    # high severity first within a period
    q2 = al[al["period"] == "2026Q2"]["severity"].tolist()
    assert q2 == sorted(q2, key={"high": 0, "medium": 1, "low": 2}.get)


def test_alert_rule_options(responses, tickets, alert_rules):
    raw = alert_rules.model_dump()
    for r in raw["rules"]:
        if r["id"] == "urgent_email_sla_breach":
            r["enabled"] = True
        if r["id"] == "nps_below_target":
            r["threshold"] = 46.0       # explicit threshold instead of targets.yaml
        if r["id"] == "csat_below_target":
            r["threshold"] = 85.0
    al = evaluate_alerts({"responses": responses, "tickets": tickets}, rules=raw)
    assert _fired(al, "urgent_email_sla_breach") == {("D", "2026Q1")}  # e-mail T5, not phone T6
    # alerts.yaml judges the target with its sampling error: C (NPS 45 on n = 100, 95 % interval
    # about 31-57) is below 46 only within sampling error; A (10, interval about -4-24) is not
    assert _fired(al, "nps_below_target") == {("A", "2026Q2")}
    for r in raw["rules"]:
        r["sampling_error"] = False
    al = evaluate_alerts({"responses": responses, "tickets": tickets}, rules=raw)
    assert _fired(al, "nps_below_target") == {("A", "2026Q2"), ("C", "2026Q1"), ("C", "2026Q2")}
    # without targets a rule with no threshold is an error naming the rule
    with pytest.raises(ValueError, match="nps_below_target"):
        evaluate_alerts({"responses": responses}, rules=alert_rules)
    # namespaces work as data; no tickets -> ticket rules are skipped
    from types import SimpleNamespace

    only = [r for r in raw["rules"] if r["kind"] in ("sla_breach", "bottom_rank")]
    al2 = evaluate_alerts(SimpleNamespace(responses=responses), rules={"version": 1, "rules": only})
    assert set(al2["rule"]) == {"nps_bottom_branches"}


def test_no_alerts_when_all_is_well(alert_rules, targets):
    good = pd.concat([_cell(p, b, 70, 25, 5) for p in ("2026Q1", "2026Q2") for b in "ABC"],
                     ignore_index=True)
    rules = {"version": 1, "rules": [r for r in alert_rules.model_dump()["rules"]
                                     if r["kind"] != "bottom_rank"]}
    al = evaluate_alerts({"responses": good}, rules=rules, targets=targets)
    assert al.empty and list(al.columns)[:3] == ["rule", "label", "branch"]


# ============================================================================================
# 5. closed loop
# ============================================================================================
def test_track_alerts_and_closure_summary():
    alerts = pd.DataFrame({
        "rule": ["complaint_sla_breach", "detractor_complaint", "nps_below_target",
                 "complaint_sla_breach", "complaint_sla_breach"],
        "branch": ["SH01", "SH01", "BJ01", "BJ01", "BJ01"],
        "period": ["2026Q3"] * 5,
        "customer_id": ["c1", "c2", None, "c4", "c5"],
        "ticket_id": ["T1", None, None, "T4", "T5"],
    })
    tickets = pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T4", "T5"],
        "customer_id": ["c1", "c2", "c2", "c4", "c5"],
        "period": ["2026Q3"] * 5,
        "type": ["投诉", "投诉", "咨询", "投诉", "投诉"],
        "created_at": ["2026-07-01 08:00:00", "2026-07-01 10:00:00", "2026-06-30 09:00:00",
                       "2026-07-01 00:00:00", "2026-07-04 18:00:00"],
        "closed_at": ["2026-07-02 08:00:00", "2026-07-01 16:00:00", "2026-06-30 10:00:00", None, None],
        "owner": ["o1", "o2", "o3", "o4", "o5"],
        "status": ["已关闭", "已关闭", "已关闭", "待处理", "处理中"],
    })
    tr = track_alerts(alerts, tickets)
    assert {"owner", "status", "opened_at", "closed_at", "hours_to_close"} <= set(tr.columns)
    # the detractor alert is matched to c2's complaint T2, not the earlier 咨询 T3
    assert tr["ticket_id"].fillna("-").tolist() == ["T1", "T2", "-", "T4", "T5"]
    assert tr["owner"].tolist()[:2] == ["o1", "o2"]
    assert tr["hours_to_close"].tolist()[:2] == [24.0, 6.0]
    assert tr["status"].tolist() == ["已关闭", "已关闭", "未建单", "待处理", "处理中"]
    assert tr["closed"].tolist() == [True, True, False, False, False]
    # now = 2026-07-05 04:00: T4 open 100 h (> 72 h overdue), T5 open 10 h
    cs = closure_summary(tr, now="2026-07-05 04:00:00", overdue_hours=72).set_index("branch")
    assert cs.loc["SH01"].to_dict() == {"alerts": 2, "with_ticket": 2, "closed": 2, "open": 0,
                                        "no_ticket": 0, "closure_rate": 100.0,
                                        "median_hours_to_close": 15.0, "overdue": 0}
    bj = cs.loc["BJ01"]
    assert (bj["alerts"], bj["with_ticket"], bj["closed"], bj["open"], bj["no_ticket"],
            bj["overdue"]) == (3, 2, 0, 2, 1, 1)
    assert bj["closure_rate"] == 0.0 and np.isnan(bj["median_hours_to_close"])
    # default now = latest timestamp in the data (2026-07-04 18:00): T4 is 90 h old -> overdue
    assert closure_summary(tr).set_index("branch").loc["BJ01", "overdue"] == 1
    assert closure_summary(tr, now="2026-07-03 00:00:00").set_index("branch").loc["BJ01", "overdue"] == 0


# ============================================================================================
# 6. SLAs, response rates, 回馈报告, audits
# ============================================================================================
def _sla_tickets():
    t0 = pd.Timestamp("2026-07-01 09:00:00")
    rows = [
        # channel, type, priority, first-response hours, resolution hours, answer seconds
        ("电话", "咨询", "普通", 0.01, 1.0, 10), ("电话", "咨询", "普通", 0.01, 2.0, 20),
        ("电话", "报修", "普通", 0.02, 30.0, 40), ("电话", "咨询", "普通", 0.01, 3.0, 25),
        ("邮件", "咨询", "普通", 2.0, 20.0, None), ("邮件", "咨询", "普通", 10.0, 30.0, None),
        ("邮件", "报修", "普通", 30.0, None, None),
        ("邮件", "投诉", "紧急", 3.0, 10.0, None), ("邮件", "投诉", "紧急", 5.0, 50.0, None),
        ("门店", "投诉", "普通", 1.0, 5.0, None),
    ]
    return pd.DataFrame([{
        "channel": c, "type": ty, "priority": pr, "created_at": str(t0),
        "first_response_at": str(t0 + pd.Timedelta(hours=f)),
        "resolved_at": None if r is None else str(t0 + pd.Timedelta(hours=r)),
        "answer_seconds": s} for c, ty, pr, f, r, s in rows])


def test_sla_summary_against_hand_computed_log(targets):
    s = sla_summary(_sla_tickets(), targets=targets, resolution_hours=24)
    row = lambda ch, seg, m: s[(s["channel"] == ch) & (s["segment"] == seg) & (s["measure"] == m)].iloc[0]  # noqa: E731
    # 电话 answer seconds [10, 20, 40, 25]: median 22.5; p90 = 25 + 0.7 × 15 = 35.5; ≤ 30 s: 3/4
    ph = row("电话", "全部", "answer_seconds")
    assert (ph["n"], ph["median"], ph["p90"], ph["target"], ph["n_within"]) == (4, 22.5, 35.5, 30.0, 3)
    assert ph["pct_within"] == 75.0 and ph["status"] == "met"
    # 邮件·普通 first response [2, 10, 30] h: median 10; p90 = 10 + 0.8 × 20 = 26; ≤ 24 h: 2/3
    em = row("邮件", "普通", "first_response_hours")
    assert (em["median"], em["target"], em["n_within"]) == (10.0, 24.0, 2)
    assert em["p90"] == pytest.approx(26.0) and em["pct_within"] == pytest.approx(200 / 3)
    # 邮件·紧急 [3, 5] h vs 4 h: median 4 (met, ≤), within 1/2; p90 = 3 + 0.9 × 2 = 4.8
    eu = row("邮件", "紧急", "first_response_hours")
    assert (eu["median"], eu["pct_within"], eu["status"]) == (4.0, 50.0, "met")
    assert eu["p90"] == pytest.approx(4.8)
    # complaints, any channel: [3, 5, 1] h vs 2 h: median 3 (missed), within 1/3
    cp = row("全部", "投诉", "first_response_hours")
    assert (cp["n"], cp["median"], cp["status"], cp["kpi"]) == (3, 3.0, "missed", "complaint_response_hours")
    assert cp["pct_within"] == pytest.approx(100 / 3)
    # 邮件 resolution [20, 30, (open), 10, 50] h: n 4, median 25 > 24 (missed), within 2/4
    rs = row("邮件", "全部", "resolution_hours")
    assert (rs["n"], rs["median"], rs["pct_within"], rs["status"]) == (4, 25.0, 50.0, "missed")
    # 门店 has no first-response target
    assert row("门店", "普通", "first_response_hours")["status"] == "no_target"
    # by= adds a grouping level
    g = sla_summary(_sla_tickets().assign(branch=["X"] * 5 + ["Y"] * 5), targets=targets, by="branch")
    assert set(g["branch"]) == {"X", "Y"} and g.columns[0] == "branch"


def test_response_rates_wilson_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    inv = pd.DataFrame({"channel": ["短信"] * 40 + ["微信"] * 10,
                        "trigger": ["购买后"] * 30 + ["服务后"] * 10 + ["购买后"] * 10,
                        "responded": [1] * 9 + [0] * 21 + [1] * 5 + [0] * 5 + [1] * 10})
    r = response_rates(inv).set_index(["channel", "trigger"])
    row = r.loc[("短信", "购买后")]
    assert (row["sent"], row["responded"], row["rate"]) == (30, 9, 30.0)
    lo, hi = proportion_confint(9, 30, alpha=0.05, method="wilson")
    assert row["ci_low"] == pytest.approx(100 * lo, rel=1e-10)
    assert row["ci_high"] == pytest.approx(100 * hi, rel=1e-10)
    full = r.loc[("微信", "购买后")]  # 10 of 10
    assert full["rate"] == 100.0 and full["ci_high"] == pytest.approx(100.0)
    assert response_rates(inv, by=None)["sent"].tolist() == [50]


def test_feedback_summary_counts_distinct_customers():
    inv = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "d", "e"],
                        "responded": [0, 1, 0, 1, 1, 0]})
    crm = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                        "industry": ["制造业", "制造业", "制造业", "金融业"],
                        "customer_type": ["大客户", "普通客户", "普通客户", "大客户"]})
    f = feedback_summary(inv, crm, industries=["制造业", "金融业"], customer_types=["大客户", "普通客户"])
    f = f.set_index(["industry", "customer_type"])
    assert f.loc[("制造业", "全部"), ["invited", "participated"]].tolist() == [3, 2]
    assert f.loc[("制造业", "大客户"), ["invited", "participated"]].tolist() == [1, 1]  # a invited twice
    assert f.loc[("制造业", "普通客户"), ["invited", "participated"]].tolist() == [2, 1]
    assert f.loc[("金融业", "大客户"), "participation_rate"] == 100.0
    assert f.loc[("未知", "全部"), "invited"] == 1                                  # e not in CRM
    assert f.loc[("全部", "全部"), ["invited", "participated"]].tolist() == [5, 3]


def test_audit_summary_rates_and_status(alert_rules):
    limits = {"fatal_error_rate": 0.5, "general_error_rate": 3.0, "min_score": 80}
    a = pd.DataFrame({
        "branch": ["SH01", "SH01", "BJ01", "GZ01"], "period": ["2026Q3"] * 4,
        "score": [90, 86, 95, 70], "items_checked": [100, 100, 200, 50],
        "fatal_errors": [1, 0, 1, 0], "general_errors": [2, 4, 6, 1],
    })
    s = audit_summary(a, limits=limits).set_index("branch")
    # SH01: 1 fatal / 200 items = 0.5 % (≤ 0.5 ok), 6 / 200 = 3 % (≤ 3 ok), mean score 88 ≥ 80
    assert (s.loc["SH01", "fatal_rate"], s.loc["SH01", "general_rate"]) == (0.5, 3.0)
    assert s.loc["SH01", "mean_score"] == 88.0 and s.loc["SH01", "status"] == "met"
    # BJ01: 0.5 % fatal, 3 % general -> met
    assert s.loc["BJ01", "status"] == "met"
    # GZ01: no errors beyond limits but mean score 70 < 80 -> missed
    assert s.loc["GZ01", "general_rate"] == 2.0 and s.loc["GZ01", "status"] == "missed"
    strict = audit_summary(a, limits={"fatal_error_rate": 0.0, "general_error_rate": 3.0})
    assert strict.set_index("branch").loc["SH01", "status"] == "missed"   # fatal must be 0 %
    # the limits of params/alerts.yaml are accepted directly
    from_yaml = audit_summary(a, limits=alert_rules)
    assert from_yaml["fatal_limit"].iloc[0] == alert_rules.audit_limits.fatal_error_rate


# ============================================================================================
# 7. journey, price, channel
# ============================================================================================
def test_journey_scores_and_weakest_touchpoints():
    cb = load_codebook()
    r = pd.DataFrame({
        "branch": ["X", "Y"],
        "look_shape": [5, 4], "look_color": [3, None],               # 产品外观
        "svc_attitude": ["好", "差"], "svc_response": [4, 4],          # 客服热线 (labels mapped)
    })
    j = journey_scores(r, codebook=cb).set_index("touchpoint")
    # 产品外观: answers 5, 4, 3 -> mean 4, top-2 2/3
    assert (j.loc["产品外观", "n"], j.loc["产品外观", "mean"]) == (3, 4.0)
    assert j.loc["产品外观", "top2"] == pytest.approx(200 / 3)
    assert j.loc["产品外观", "journey"] == "购买交付"
    # 客服热线: 好=5, 差=1, 4, 4 -> mean 3.5, top-2 3/4
    assert (j.loc["客服热线", "n"], j.loc["客服热线", "mean"], j.loc["客服热线", "top2"]) == (4, 3.5, 75.0)
    assert j.index.tolist() == ["产品外观", "客服热线"]          # codebook journey order
    w = weakest_touchpoints(r, codebook=cb, k=1, min_n=1)
    # X: 产品外观 (5+3)/2 = 4, 客服热线 (5+4)/2 = 4.5 -> 产品外观; Y: 4 vs 2.5 -> 客服热线
    assert w.set_index("branch")["touchpoint"].to_dict() == {"X": "产品外观", "Y": "客服热线"}
    assert w.set_index("branch").loc["Y", "gap"] == pytest.approx(2.5 - 3.5)


def test_price_gap_with_labels():
    r = pd.DataFrame({"price_direct": ["300元以下", "500~700元", "1,000元以上", None],
                      "price_expected": ["300~500元", "500~700元", "700~1,000元", "300元以下"]})
    res = price_gap(r, codebook=load_codebook())
    s = res.summary.iloc[0]
    # gaps: +1, 0, -1 over 3 complete pairs
    assert (s["n"], s["mean_gap"]) == (3, 0.0)
    assert [s["pct_above"], s["pct_equal"], s["pct_below"]] == pytest.approx([100 / 3] * 3)
    assert res.bands["direct_n"].tolist() == [1, 0, 1, 0, 1]
    assert res.bands["expected_n"].tolist() == [1, 1, 1, 1, 0]
    assert res.gaps.set_index("gap").loc[[-1, 0, 1], "n"].tolist() == [1, 1, 1]
    assert "<table" in res._repr_html_() and res.to_frame() is res.summary


def test_price_gap_weighted_equals_replicated_rows():
    """A weight of k counts as the row k times for every share and mean; counts stay
    unweighted; by hand: gaps +1 (w 3), 0 (w 1), -1 (w 2) -> mean (3 - 2) / 6."""
    r = pd.DataFrame({"price_direct": [1, 3, 5, 2, None], "price_expected": [2, 3, 4, 1, 1],
                      "t": ["a", "a", "b", "b", "b"], "w": [3.0, 1.0, 2.0, 2.0, 1.0]})
    res = price_gap(r.iloc[:3], weight="w")
    s = res.summary.iloc[0]
    assert s["n"] == 3 and s["weighted_n"] == 6.0
    assert s["effective_n"] == pytest.approx(36 / 14, rel=1e-12)  # (Σw)² / Σw²
    assert s["mean_gap"] == pytest.approx(1 / 6, rel=1e-12)
    assert [s["pct_above"], s["pct_equal"], s["pct_below"]] == pytest.approx([50, 100 / 6, 100 / 3])
    w = price_gap(r, weight="w", by="t")
    rep = price_gap(r.loc[r.index.repeat(r["w"].astype(int))], by="t")
    same = ["t", "mean_direct", "mean_expected", "mean_gap", "pct_above", "pct_equal", "pct_below"]
    pd.testing.assert_frame_equal(w.summary[same], rep.summary[same], rtol=1e-12)
    np.testing.assert_allclose(w.summary["weighted_n"], rep.summary["n"], rtol=1e-12)
    np.testing.assert_allclose(w.bands["direct_pct"], rep.bands["direct_pct"], rtol=1e-12)
    np.testing.assert_allclose(w.bands["expected_pct"], rep.bands["expected_pct"], rtol=1e-12)
    np.testing.assert_allclose(w.gaps["pct"], rep.gaps["pct"], rtol=1e-12)
    assert w.bands["expected_n"].tolist() == price_gap(r).bands["expected_n"].tolist()


def test_channel_preference_mixed_exports():
    r = pd.DataFrame({"branch": ["X", "X", "X", "Y"],
                      "purchase_channel": ["官方网站┋其他〖朋友推荐,团购〗", "2,5", "(跳过)", ["电商平台"]]})
    c = channel_preference(r, by="branch").set_index(["branch", "channel"])
    assert c.loc[("X", "官方网站"), "n_respondents"] == 2            # 跳过 is not an answer
    assert c.loc[("X", "其他"), "n_selected"] == 2                   # free text with a comma stays one option
    assert c.loc[("X", "实体店"), "pct"] == 50.0                      # Qualtrics code 2
    assert c.loc[("Y", "电商平台"), "pct"] == 100.0
    with pytest.raises(ValueError, match="unknown channel '抖音'"):
        channel_preference(pd.DataFrame({"purchase_channel": ["抖音"]}))


# ============================================================================================
# 8. A/B tests — against statsmodels and R
# ============================================================================================
def test_ab_test_proportion_matches_statsmodels():
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    d = pd.DataFrame({"script_variant": ["A"] * 200 + ["B"] * 180,
                      "solution_satisfaction": [5] * 120 + [2] * 80 + [4] * 126 + [3] * 54})
    r = ab_test(d, variant="script_variant", metric="solution_satisfaction", success={4, 5})
    assert (r.control, r.treatment, r.n_control, r.n_treatment) == ("A", "B", 200, 180)
    assert r.diff == pytest.approx(126 / 180 - 120 / 200)
    z, p = proportions_ztest([126, 120], [180, 200])
    assert r.statistic == pytest.approx(z, rel=1e-10) and r.pvalue == pytest.approx(p, rel=1e-10)
    lo, hi = confint_proportions_2indep(126, 180, 120, 200, method="wald", compare="diff")
    assert (r.ci_low, r.ci_high) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10))
    assert r.to_frame().shape == (1, 16)


def test_ab_test_mean_matches_welch():
    from scipy import stats
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    rng = np.random.default_rng(7)
    a, b = rng.normal(3.8, 1.0, 40), rng.normal(4.3, 0.6, 55)
    d = pd.DataFrame({"v": ["A"] * 40 + ["B"] * 55, "y": np.r_[a, b]})
    r = ab_test(d, variant="v", metric="y", kind="mean")
    t = stats.ttest_ind(b, a, equal_var=False)
    assert r.statistic == pytest.approx(t.statistic, rel=1e-10)
    assert r.pvalue == pytest.approx(t.pvalue, rel=1e-10)
    lo, hi = CompareMeans(DescrStatsW(b), DescrStatsW(a)).tconfint_diff(usevar="unequal")
    assert (r.ci_low, r.ci_high) == (pytest.approx(lo, rel=1e-10), pytest.approx(hi, rel=1e-10))


def test_ab_test_errors():
    d = pd.DataFrame({"v": ["A", "B", "C"], "y": [1, 0, 1]})
    with pytest.raises(ValueError, match="exactly two variants"):
        ab_test(d, variant="v", metric="y")
    with pytest.raises(ValueError, match="kind must be one of"):
        ab_test(d, variant="v", metric="y", kind="median")
    with pytest.raises(ValueError, match="0/1 or boolean"):
        ab_test(pd.DataFrame({"v": ["A", "B"], "y": [5, 4]}), variant="v", metric="y")


def test_ab_sample_size_published_and_statsmodels():
    # R documentation, ?power.prop.test: power.prop.test(p1 = .50, p2 = .75, power = .90)  => n = 76.7
    assert ab_sample_size(0.50, 0.25, power=0.90, exact=True) == pytest.approx(76.7, abs=0.05)
    assert ab_sample_size(0.50, 0.25, power=0.90) == 77
    # R: power.prop.test(n = 50, p1 = .50, p2 = .75) => power = 0.740; so n for power .740 ≈ 50
    assert ab_sample_size(0.50, 0.25, power=0.7401659, exact=True) == pytest.approx(50, abs=0.05)
    # Cohen's h with statsmodels' NormalIndPower (two-sided; statsmodels adds the far tail,
    # negligible here)
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    for base, mde, ratio in ((0.20, 0.05, 1.0), (0.80, -0.04, 2.0)):
        h = proportion_effectsize(base + mde, base)
        n_sm = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=ratio)
        n = ab_sample_size(base, mde, ratio=ratio, method="arcsine", exact=True)
        assert n == pytest.approx(n_sm, rel=1e-3)
    # means: n = (1.96 + 0.8416)^2 * 2 * sd^2 / mde^2 = 15.698 * 2 for sd = mde -> 15.7 per group
    assert ab_sample_size(0, 1.0, sd=1.0, exact=True) == pytest.approx(15.6978, rel=1e-4)
    with pytest.raises(ValueError, match="method"):
        ab_sample_size(0.5, 0.1, method="exact")
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        ab_sample_size(0.98, 0.05)


# ============================================================================================
# 9. the sample data (cxlab sample-data, ingested): planted truth must be found
# ============================================================================================
@pytest.fixture(scope="module")
def sample_frames(sample_warehouse):
    from cxlab.io import load_responses, load_table

    return {"responses": load_responses(sample_warehouse),
            "tickets": load_table(sample_warehouse, "tickets"),
            "customers": load_table(sample_warehouse, "customers"),
            "invitations": load_table(sample_warehouse, "invitations")}


def test_sample_planted_nps_drop_fires(sample_frames, sample_truth, alert_rules, targets):
    drop = sample_truth["nps_drop"]
    al = evaluate_alerts(sample_frames, rules=alert_rules, targets=targets, codebook=load_codebook())
    fired = al[al["rule"] == "nps_significant_drop"]
    last = fired[fired["period"] == drop["period"]]
    # the planted branch is the only significant NPS drop of the last period
    assert set(last["branch"]) == {drop["branch"]}
    row = last.iloc[0]
    assert row["previous"] == pytest.approx(drop["sample_before"], abs=1e-3)
    assert row["value"] == pytest.approx(drop["sample_after"], abs=1e-3)
    assert row["pvalue"] < 0.05
    # the same branch-period is below the NPS target, and kpi_status shows the significant change
    assert (drop["branch"], drop["period"]) in _fired(al, "nps_below_target")
    k = compute_kpis(sample_frames["responses"], None, None, codebook=load_codebook())
    s = kpi_status(k, targets=targets)
    g = s[(s["branch"] == drop["branch"]) & (s["period"] == drop["period"]) & (s["kpi"] == "nps")].iloc[0]
    assert g["previous"] == pytest.approx(drop["sample_before"], abs=1e-3)
    assert bool(g["significant"]) and g["status"] == "missed"
    # every survey NPS equals the planted sample NPS of its cell
    nps = k[k["kpi"] == "nps"]
    for r in nps.itertuples():
        assert r.value == pytest.approx(sample_truth["nps_sample"][r.period][r.branch], abs=1e-3)
    # closed loop runs on the real ticket log
    tracked = track_alerts(al, sample_frames["tickets"])
    cs = closure_summary(tracked, overdue_hours=alert_rules.service_levels.closure_hours)
    assert cs["alerts"].sum() == len(al)
    assert (cs["closed"] + cs["open"] + cs["no_ticket"] == cs["alerts"]).all()


def test_sample_ab_test_and_sla_match_truth(sample_frames, sample_truth, targets):
    ab = sample_truth["ab_test"]
    r = ab_test(sample_frames["tickets"], variant="script_variant", metric="solution_satisfaction",
                success={4, 5})
    assert (r.n_control, r.n_treatment) == (ab["n"]["A"], ab["n"]["B"])
    assert 100 * r.estimate_control == pytest.approx(ab["sample"]["A"], abs=1e-3)
    assert 100 * r.estimate_treatment == pytest.approx(ab["sample"]["B"], abs=1e-3)
    assert r.diff > 0 and r.pvalue < 0.05          # B (the better script) wins
    s = sla_summary(sample_frames["tickets"], targets=targets)
    phone = s[s["measure"] == "answer_seconds"].iloc[0]
    assert 100 - phone["pct_within"] == pytest.approx(sample_truth["sla"]["phone_answer_over_30s_pct"], abs=1e-3)
    rr = response_rates(sample_frames["invitations"], by=None)
    assert rr["sent"].iloc[0] == len(sample_frames["invitations"])


def test_sample_scorecard_cli(sample_raw, capsys, score_rules):
    from cxlab.cli import main

    path = sample_raw / "ops" / "scorecard_actuals.csv"
    actuals = pd.read_csv(path, dtype={"period": str})
    for _period, rows in actuals.groupby("period"):
        t = scorecard(rows, rules=score_rules)
        assert 0 <= t["score"].iloc[-1] <= 100
        assert (t["score"].iloc[:-1] <= t["max_score"].iloc[:-1]).all()
    assert main(["scorecard", "--period", "2026Q3", "--actuals", str(path)]) == 0
    assert "合计" in capsys.readouterr().out
