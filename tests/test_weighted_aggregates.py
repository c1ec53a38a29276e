"""Weighted cross-branch comparisons (issue 22): the aggregates' weighted sums per period ×
branch, the estimates computed from them (:func:`cxlab.metrics.nps_from_sums`,
:func:`cxlab.metrics.share_from_sums`), the league/index statuses and the KPI alerts on them.

References: the row-level :func:`cxlab.metrics.nps` / :func:`cxlab.metrics.csat` with
``weight=`` (themselves checked against R ``survey`` in ``tests/test_r_survey.py``), and R's
``survey`` package live (``svyby(~y, ~branch, design, svymean)`` with branches as strata, and
``svycontrast`` for the change test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.metrics import csat, nps, nps_from_counts, nps_from_sums, share_from_sums
from cxlab.ops._status import design_z_test, sums_kpi, target_statuses

CLASSES = ("promoters", "passives", "detractors")


def _rows(seed: int = 7, n: int = 900) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    branch = rng.choice(["A", "B", "C", "D"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    period = rng.choice(["2026Q1", "2026Q2"], size=n)
    big = rng.random(n) < 0.3
    ltr = np.clip(np.round(rng.normal(np.where(big, 8.5, 6.5), 2.0)), 0, 10)
    cs = np.clip(np.round(rng.normal(np.where(big, 4.2, 3.4), 0.9)), 1, 5)
    cs[rng.random(n) < 0.06] = np.nan
    w = np.where(big, 0.5, 1.6) * rng.lognormal(0, 0.3, n)
    return pd.DataFrame({"period": period, "branch": branch, "ltr": ltr, "csat": cs,
                         "weight": w, "response_id": [f"r{i}" for i in range(n)]})


def _sums(rows: pd.DataFrame, by=("period", "branch")) -> pd.DataFrame:
    """The aggregates' columns, from their definitions (compute_aggregates writes them in SQL)."""
    d = rows.assign(y=np.where(rows["ltr"] >= 9, "promoters",
                               np.where(rows["ltr"] >= 7, "passives", "detractors")),
                    w2=rows["weight"] ** 2, top=rows["csat"] >= 4, has=rows["csat"].notna())
    out = []
    for key, g in d.groupby(list(by)):
        rec = dict(zip(by, key, strict=True)) | {"n": len(g)}
        for c in CLASSES:
            m = g["y"] == c
            rec |= {c: int(m.sum()), f"w_{c}": g.loc[m, "weight"].sum(),
                    f"w2_{c}": g.loc[m, "w2"].sum()}
        for name, m in (("csat_n", g["has"]), ("csat_top2", g["top"])):
            rec |= {name: int(m.sum()), f"w_{name}": g.loc[m, "weight"].sum(),
                    f"w2_{name}": g.loc[m, "w2"].sum()}
        out.append(rec)
    return pd.DataFrame(out)


def test_estimates_from_sums_equal_the_metrics_on_the_rows():
    rows = _rows()
    agg = _sums(rows)
    for _, a in agg.iterrows():
        g = rows[(rows["period"] == a["period"]) & (rows["branch"] == a["branch"])]
        want = nps(g, score="ltr", weight="weight").iloc[0]
        got = nps_from_sums([a[f"w_{c}"] for c in CLASSES], [a[f"w2_{c}"] for c in CLASSES],
                            [a[c] for c in CLASSES])
        for c in ("nps", "se", "ci_low", "ci_high", "pct_promoters", "pct_detractors", "n_eff"):
            assert got[c] == pytest.approx(want[c], rel=1e-9, abs=1e-9), c
        assert got["w_sum"] == pytest.approx(g["weight"].sum(), rel=1e-12)
        wc = csat(g, score="csat", scale=5, top_box=2, weight="weight").iloc[0]
        gc = share_from_sums(a["w_csat_top2"], a["w_csat_n"], w2_top=a["w2_csat_top2"],
                             w2_all=a["w2_csat_n"], k=a["csat_top2"], n=a["csat_n"])
        for c, want_c in (("share", "csat"), ("se", "se"), ("ci_low", "ci_low"),
                          ("ci_high", "ci_high"), ("n_eff", "n_eff")):
            assert gc[c] == pytest.approx(wc[want_c], rel=1e-9, abs=1e-9), c
    # unit weights reproduce the unweighted statistics
    a = agg.iloc[0]
    counts = [a[c] for c in CLASSES]
    got, want = nps_from_sums(counts, counts, counts), nps_from_counts(*map(int, counts))
    for c in ("nps", "se", "ci_low", "ci_high"):
        assert got[c] == pytest.approx(want[c], rel=1e-12)


def test_pooled_units_from_summed_sums_equal_the_metrics_on_the_pooled_rows():
    rows = _rows()
    agg = _sums(rows)
    for period, sub in agg.groupby("period"):
        pooled = sub.drop(columns=["period", "branch"]).sum()
        want = nps(rows[rows["period"] == period], score="ltr", weight="weight").iloc[0]
        got = sums_kpi("nps", pooled)
        assert got["value"] == pytest.approx(want["nps"], rel=1e-12)
        assert got["se"] == pytest.approx(want["se"], rel=1e-9)
        assert (got["low"], got["high"]) == pytest.approx((want["ci_low"], want["ci_high"]),
                                                          rel=1e-9)
        region = sub[sub["branch"].isin(["A", "C"])].drop(columns=["period", "branch"]).sum()
        part = rows[(rows["period"] == period) & rows["branch"].isin(["A", "C"])]
        wc = csat(part, score="csat", scale=5, top_box=2, weight="weight").iloc[0]
        assert sums_kpi("csat", region)["value"] == pytest.approx(wc["csat"], rel=1e-12)
        assert sums_kpi("csat", region)["se"] == pytest.approx(wc["se"], rel=1e-9)


def test_compute_aggregates_writes_the_weighted_sums(sample_warehouse):
    from cxlab.io import load_responses
    from cxlab.report import build_aggregates, load_aggregates
    from cxlab.report._aggregates import load_weights
    from cxlab.report._inference import index_status, is_weighted

    build_aggregates(sample_warehouse, params_dir="params")   # weighting.yaml is enabled
    agg = load_aggregates(sample_warehouse)
    assert is_weighted(agg)
    w = load_weights(sample_warehouse)[0][["period", "response_id", "weight"]]
    resp = load_responses(sample_warehouse).assign(
        period=lambda f: f["period"].astype(str), branch=lambda f: f["branch"].astype(str))
    resp = resp.merge(w.astype({"period": str}), on=["period", "response_id"])
    checked = 0
    for _, a in agg.iterrows():
        g = resp[(resp["period"] == a["period"]) & (resp["branch"] == a["branch"])]
        g = g[g["ltr"].notna()]
        if len(g) < 2:
            continue
        want = nps(g, score="ltr", weight="weight").iloc[0]
        got = sums_kpi("nps", a)
        assert got["value"] == pytest.approx(want["nps"], rel=1e-9)
        assert got["se"] == pytest.approx(want["se"], rel=1e-9)
        assert got["low"] == pytest.approx(want["ci_low"], rel=1e-9)
        wc = csat(g[g["csat"].notna()], score="csat", scale=5, top_box=2,
                  weight="weight").iloc[0]
        assert sums_kpi("csat", a)["value"] == pytest.approx(wc["csat"], rel=1e-9)
        ok = g["look_shape"].notna()
        assert a["look_shape__wmean"] == pytest.approx(
            np.average(g.loc[ok, "look_shape"], weights=g.loc[ok, "weight"]), rel=1e-9)
        assert a["look_shape__wsum"] == pytest.approx(g.loc[ok, "weight"].sum(), rel=1e-9)
        # top box of the 5-point verbal scale: codes 4 and 5
        assert a["look_shape__wtop2"] == pytest.approx(
            g.loc[ok & (g["look_shape"] >= 4), "weight"].sum(), rel=1e-9)
        checked += 1
    assert checked >= 30
    # the company row of the index is judged on the pooled weighted sums
    period = agg["period"].max()
    flags = index_status(agg, None)
    assert flags[(period, "ALL")] == "—"
    cur = resp[(resp["period"] == period) & resp["ltr"].notna()]
    pooled = agg[agg["period"] == period].drop(columns=["period", "branch"]).sum(numeric_only=True)
    assert sums_kpi("nps", pooled)["value"] == pytest.approx(
        nps(cur, score="ltr", weight="weight").iloc[0]["nps"], rel=1e-9)


def _disagreeing() -> pd.DataFrame:
    """Branch A: 30 promoters of weight 3, 40 passives and 30 detractors of weight 1. Unweighted
    NPS 0 (95 % upper bound about 16: significantly below a target of 30); weighted
    (90 − 30) / 160 = 37.5 (meets it). Branch B: the reverse, weights 1/3 on promoters:
    unweighted NPS 40 (meets 30), weighted (10 − 30) / 80 = −25, significantly below."""
    def unit(branch, wp):
        return {"period": "P", "branch": branch, "n": 100, "promoters": 50 if wp < 1 else 30,
                "passives": 40 if wp >= 1 else 30, "detractors": 30 if wp >= 1 else 20}

    a, b = unit("A", 3.0), unit("B", 1 / 3)
    a |= {"w_promoters": 90.0, "w2_promoters": 270.0, "w_passives": 40.0, "w2_passives": 40.0,
          "w_detractors": 30.0, "w2_detractors": 30.0}
    b |= {"w_promoters": 50 / 3, "w2_promoters": 50 / 9, "w_passives": 30.0,
          "w2_passives": 30.0, "w_detractors": 20.0 * 3, "w2_detractors": 20.0 * 9}
    return pd.DataFrame([a, b])


def _targets(nps_target: float = 30.0):
    from cxlab.config import Targets

    return Targets.model_validate({"version": 1, "kpis": [
        {"id": "nps", "label": "NPS", "target": nps_target, "op": ">=", "unit": "分"}]})


def test_status_flags_follow_the_weighted_interval():
    from cxlab.ops._status import MET, SIG_MISS
    from cxlab.report._inference import branch_status, index_status

    agg = _disagreeing()
    weighted = target_statuses(agg, targets=_targets()).set_index("branch")
    plain = target_statuses(agg, targets=_targets(), weighted=False).set_index("branch")
    # exact values: A weighted (90 - 30) / 160, B weighted (50/3 - 60) / (50/3 + 90)
    assert weighted.loc["A", "nps"] == pytest.approx(37.5, rel=1e-12)
    assert weighted.loc["B", "nps"] == pytest.approx(100 * (50 / 3 - 60) / (50 / 3 + 90), rel=1e-12)
    assert plain.loc["A", "nps"] == pytest.approx(0.0) and plain.loc["B", "nps"] == 30.0
    assert (weighted.loc["A", "nps_status"], plain.loc["A", "nps_status"]) == (MET, SIG_MISS)
    assert weighted.loc["B", "nps_status"] == SIG_MISS and plain.loc["B", "nps_status"] == MET
    st = branch_status(agg, _targets(), period="P").set_index("branch")
    assert st.loc["A", "flag"] == "达标" and "需整改" in st.loc["B", "flag"]
    flags = index_status(agg, _targets())
    assert flags[("P", "A")] == "达标" and "需整改" in flags[("P", "B")]
    unweighted = agg[[c for c in agg.columns if not c.startswith("w")]]
    flags = index_status(unweighted, _targets())
    assert "需整改" in flags[("P", "A")] and flags[("P", "B")] == "达标"


def test_alerts_fire_on_the_weighted_values():
    from cxlab.ops import evaluate_alerts

    rules = {"version": 1, "rules": [
        {"id": "nps_low", "kind": "below_target", "label": "NPS 未达标", "metric": "nps",
         "min_n": 30, "sampling_error": True, "alpha": 0.025, "severity": "high"}]}
    agg = _disagreeing()
    fired = evaluate_alerts({"aggregates": agg}, rules=rules, targets=_targets())
    assert fired["branch"].tolist() == ["B"]
    assert fired["value"].iloc[0] == pytest.approx(100 * (50 / 3 - 60) / (50 / 3 + 90))
    plain = agg[[c for c in agg.columns if not c.startswith("w")]]
    fired = evaluate_alerts({"aggregates": plain}, rules=rules, targets=_targets())
    assert fired["branch"].tolist() == ["A"]


def test_weighted_rows_and_weighted_aggregates_fire_the_same_alerts():
    """evaluate_alerts on response rows with ``weight=`` (notify's cases) and on the weighted
    aggregates (the reports) decide alike, with the design-based tests."""
    from cxlab.ops import evaluate_alerts

    rows = _rows(seed=11, n=1600)
    # plant a drop in branch B and a low branch C
    b2 = (rows["branch"] == "B") & (rows["period"] == "2026Q2")
    rows.loc[b2, "ltr"] = np.clip(rows.loc[b2, "ltr"] - 3, 0, 10)
    rows.loc[rows["branch"] == "C", "ltr"] = np.clip(rows.loc[rows["branch"] == "C", "ltr"] - 2,
                                                     0, 10)
    rules = {"version": 1, "multiple_comparisons": "fdr_bh", "rules": [
        {"id": "low", "kind": "below_target", "label": "NPS 未达标", "metric": "nps",
         "min_n": 30, "sampling_error": True, "alpha": 0.025, "severity": "high"},
        {"id": "drop", "kind": "significant_drop", "label": "NPS 环比显著下降", "metric": "nps",
         "min_n": 30, "alpha": 0.05, "severity": "high"},
        {"id": "csat_drop", "kind": "significant_drop", "label": "CSAT 下降", "metric": "csat",
         "min_n": 30, "alpha": 0.5, "severity": "low"},
        {"id": "bottom", "kind": "bottom_rank", "label": "末位", "metric": "nps", "k": 1,
         "min_n": 30, "significant_only": True, "alpha": 0.05, "severity": "medium"}]}
    a = evaluate_alerts({"responses": rows}, rules=rules, targets=_targets(10), weight="weight")
    b = evaluate_alerts({"aggregates": _sums(rows)}, rules=rules, targets=_targets(10))
    assert {"low", "drop", "bottom"} <= set(a["rule"])
    key = ["rule", "period", "branch"]
    a, b = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    assert a[key].equals(b[key])
    np.testing.assert_allclose(a["value"], b["value"], rtol=1e-9)
    np.testing.assert_allclose(a["pvalue"].fillna(-1), b["pvalue"].fillna(-1), rtol=1e-9)
    # the drop's p-value is the design-based z-test of the two weighted NPS
    d = a[a["rule"] == "drop"].iloc[0]
    g = rows[rows["branch"] == d["branch"]]
    cur, prev = (nps(g[g["period"] == p], score="ltr", weight="weight").iloc[0]
                 for p in ("2026Q2", "2026Q1"))
    assert d["value"] == pytest.approx(cur["nps"], rel=1e-9)
    assert d["pvalue"] == pytest.approx(
        design_z_test(cur["nps"], cur["se"], prev["nps"], prev["se"]).pvalue, rel=1e-9)


def test_sums_and_the_change_test_against_r_survey(tmp_path):
    """R: branches × periods as strata (independent samples, each with its own n/(n-1)),
    ``svyby(~y, ~cell, design, svymean)`` gives every unit's weighted NPS and SE; the pooled
    company with ``ids = ~1`` and no strata is the pooled rows' estimate; ``svycontrast`` of a
    branch's two periods is the change test."""
    from test_r_survey import close, run_r

    rows = _rows(seed=3, n=700)
    rows["y"] = 100 * np.where(rows["ltr"] >= 9, 1.0, np.where(rows["ltr"] >= 7, 0.0, -1.0))
    rows["cell"] = rows["period"] + "_" + rows["branch"]
    r = run_r(tmp_path, rows[["cell", "period", "y", "weight"]], """
des <- svydesign(ids = ~1, strata = ~cell, weights = ~weight, data = d)
b <- svyby(~y, ~cell, des, svymean)
out("mean", coef(b)); out("se", SE(b))
m <- svyby(~y, ~cell, des, svymean, covmat = TRUE)
ct <- svycontrast(m, c("2026Q2_B" = 1, "2026Q1_B" = -1))
out("diff", coef(ct)); out("diffse", SE(ct))
p <- svydesign(ids = ~1, weights = ~weight, data = subset(d, period == "2026Q2"))
pm <- svymean(~y, p)
out("pooled", coef(pm)); out("pooledse", SE(pm))
""")
    agg = _sums(rows).assign(cell=lambda f: f["period"] + "_" + f["branch"]).set_index("cell")
    names = sorted(agg.index)     # svyby sorts the cells
    got = [sums_kpi("nps", agg.loc[c]) for c in names]
    close([g["value"] for g in got], r["mean"])
    close([g["se"] for g in got], r["se"])
    cur, prev = sums_kpi("nps", agg.loc["2026Q2_B"]), sums_kpi("nps", agg.loc["2026Q1_B"])
    t = design_z_test(cur["value"], cur["se"], prev["value"], prev["se"])
    close(t.diff, r["diff"])
    close(t.se, r["diffse"])
    pooled = sums_kpi("nps", agg[agg["period"] == "2026Q2"].drop(
        columns=["period", "branch"]).sum())
    close(pooled["value"], r["pooled"])
    close(pooled["se"], r["pooledse"])


def test_notify_cases_alert_on_the_weighted_values_like_the_report(sample_warehouse, tmp_path):
    """``cxlab.notify.fired_alerts`` (cases) and the company report's alert section fire the
    same branch-level alerts, on the weighted NPS/CSAT (params/weighting.yaml is enabled)."""
    import shutil

    from cxlab.notify import fired_alerts
    from cxlab.report import build_aggregates, load_context
    from cxlab.report._sections_ops import _KPI_RULE_KINDS, _evaluate, load_alert_rules

    wh = tmp_path / "warehouse"
    shutil.copytree(sample_warehouse, wh)
    build_aggregates(wh, params_dir="params")
    ctx = load_context(period="2026Q3", warehouse=wh, params_dir="params")
    assert ctx.weighted
    rules = load_alert_rules(ctx)
    ids = [r.id for r in rules.rules if r.kind in _KPI_RULE_KINDS]
    report = _evaluate(ctx, rules)
    cases = fired_alerts(wh, period="2026Q3")
    report, cases = (f[f["rule"].isin(ids)].sort_values(["rule", "branch"]).reset_index(drop=True)
                     for f in (report, cases))
    assert len(report) >= 2
    assert report[["rule", "branch"]].equals(cases[["rule", "branch"]])
    np.testing.assert_allclose(report["value"], cases["value"], rtol=1e-9)
    # the values are the weighted estimates of the branch's rows
    r = report[report["rule"].str.contains("nps")].iloc[0]
    rows = ctx.current[ctx.current["branch"] == r["branch"]]
    assert r["value"] == pytest.approx(
        nps(rows, score="ltr", weight="weight").iloc[0]["nps"], rel=1e-9)
