"""Tests of cxlab.segments: fusion, value tiers, RFM, retention, scores by segment, NPS link."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlab.segments import (
    RFM_SEGMENTS,
    fuse,
    nps_category,
    nps_link,
    retention,
    rfm,
    segment_scores,
    value_tiers,
)


def test_fuse_keeps_every_response_and_counts_unmatched():
    r = pd.DataFrame({"response_id": range(5), "customer_id": ["a", "b", "x", None, "a"],
                      "branch": ["SH01"] * 5})
    c = pd.DataFrame({"customer_id": ["a", "b", "c"], "customer_type": ["大客户", "普通客户", "普通客户"],
                      "branch": ["SH01", "BJ01", "SH01"], "name": ["张三"] * 3, "phone": ["1"] * 3})
    f = fuse(r, c)
    assert len(f.data) == 5 and f.n_responses == 5
    assert (f.matched, f.unmatched, f.missing_id) == (3, 2, 1)
    assert f.unmatched_ids == ("x",)
    assert f.customers_without_response == 1
    assert "name" not in f.data.columns and "phone" not in f.data.columns
    assert f.data["branch"].tolist() == ["SH01"] * 5 and "branch_crm" in f.data.columns
    assert f.data["crm_matched"].tolist() == [True, True, False, False, True]
    assert f.data["response_id"].tolist() == list(range(5))
    assert "<table" in f._repr_html_()
    with pytest.raises(ValueError, match="duplicate"):
        fuse(r, pd.concat([c, c]))
    with pytest.raises(ValueError, match="id column"):
        fuse(r.drop(columns="customer_id"), c)


def test_value_tiers_quantiles_and_cuts():
    c = pd.DataFrame({"customer_id": [f"c{i}" for i in range(9)],
                      "customer_type": ["大客户"] * 3 + ["普通客户"] * 6,
                      "value_score": [90, 80, 70, 60, 50, 40, 30, 20, 10]})
    v = value_tiers(c)
    assert v["value_tier"].value_counts().to_dict() == {"低": 3, "中": 3, "高": 3}
    assert v["value_tier"].cat.ordered
    assert v["value_segment"].iloc[0] == "大客户·高" and v["value_segment"].iloc[-1] == "普通客户·低"
    fixed = value_tiers(c, cuts=[40, 70])
    assert fixed["value_tier"].tolist() == ["高", "高", "高", "中", "中", "中", "低", "低", "低"]
    with pytest.raises(ValueError, match="cuts"):
        value_tiers(c, cuts=[70, 40])
    with pytest.raises(ValueError, match="value_score"):
        value_tiers(c.drop(columns="value_score"))


def test_rfm_scores_and_segments(rng):
    n = 200
    orders = pd.DataFrame({
        "customer_id": rng.integers(0, 50, n).astype(str),
        "order_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 500, n), unit="D"),
        "amount": rng.lognormal(7, 0.5, n).round(2),
    })
    r = rfm(orders, asof="2026-06-01")
    assert r["customer_id"].is_unique and len(r) == orders["customer_id"].nunique()
    for col in ("r_score", "f_score", "m_score"):
        assert r[col].between(1, 5).all()
    assert set(r["segment"]) <= set(RFM_SEGMENTS.values())
    assert r["frequency"].sum() == n
    assert r["monetary"].sum() == pytest.approx(orders["amount"].sum(), rel=1e-9)
    # recency score is reversed: most recent customers score highest
    assert r.loc[r["recency_days"].idxmin(), "r_score"] == 5
    assert r.loc[r["monetary"].idxmax(), "m_score"] == 5
    # ties share a score
    same_f = r.groupby("frequency")["f_score"].nunique()
    assert (same_f == 1).all()
    # asof drops later orders
    early = rfm(orders, asof="2025-06-01")
    assert early["frequency"].sum() == (orders["order_date"] <= "2025-06-01").sum()
    with pytest.raises(ValueError, match="split"):
        rfm(orders, split="mode")
    with pytest.raises(ValueError, match="missing or invalid"):
        rfm(orders.assign(amount=np.nan))


def test_retention_definitions():
    c = pd.DataFrame({
        "seg": ["a", "a", "a", "b", "b"],
        "churned": [0, 1, 1, 0, 1],
        "churn_date": ["", "2026-02-01", "2025-06-01", "", "2026-05-01"],
        "first_order_date": ["2024-01-01", "2024-01-01", "2024-01-01", "2026-03-01", "2025-01-01"],
    })
    # no period: CRR = 100 - churn rate
    r = retention(c, by="seg")
    assert r["churn_rate"].tolist() == pytest.approx([200 / 3, 50.0], abs=1e-9)
    assert (r["crr"] + r["churn_rate"]).tolist() == pytest.approx([100.0, 100.0], abs=1e-9)
    # period 2026H1, by hand: S = {a1, a2, b2} (a3 churned 2025-06), N = {b1},
    # E = {a1, b1}, lost = {a2, b2}; CRR = (2 - 1)/3
    p = retention(c, start="2026-01-01", end="2026-07-01")
    assert p[["n_start", "n_new", "n_end", "n_lost"]].iloc[0].tolist() == [3, 1, 2, 2]
    assert p["crr"].iloc[0] == pytest.approx(100 / 3, abs=1e-9)
    assert p["churn_rate"].iloc[0] == pytest.approx(200 / 3, abs=1e-9)
    with pytest.raises(ValueError, match="both"):
        retention(c, start="2026-01-01")


def test_segment_scores_match_metrics_and_flag_bases():
    from cxlab.metrics import nps

    d = pd.DataFrame({"tier": ["高"] * 120 + ["低"] * 40 + ["中"] * 10,
                      "ltr": [10, 9, 9, 8] * 30 + [3, 6, 8, 9] * 10 + [9] * 10})
    r = segment_scores(d, by="tier")
    ref = nps(d, score="ltr", by="tier").set_index("tier")
    got = r.set_index("tier")
    assert got.loc[ref.index, "nps"].tolist() == pytest.approx(ref["nps"].tolist(), abs=1e-9)
    assert got.loc["低", "significant"] and got.loc["高", "diff_vs_rest"] > 0
    assert got["base"].to_dict() == {"中": "suppress", "低": "caution", "高": "ok"}
    assert (got["p_holm"] >= got["pvalue"]).all()
    assert (got["rest_n"] + got["n"] == len(d)).all()
    cs = segment_scores(d.assign(sat=[5, 4, 2, 1] * 42 + [5, 5]), by="tier", score="sat", metric="csat")
    assert "csat" in cs.columns and cs["csat"].between(0, 100).all()
    with pytest.raises(ValueError, match="metric"):
        segment_scores(d, by="tier", metric="ces")


def test_nps_category_boundaries():
    cats = nps_category(pd.Series([0, 6, 7, 8, 9, 10, None]))
    assert cats.astype(object).tolist()[:6] == ["detractor", "detractor", "passive", "passive",
                                                "promoter", "promoter"]
    assert pd.isna(cats.iloc[6])


def test_nps_link_toy_spend_window():
    f = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "a"], "ltr": [10, 9, 2, 3, 1],
                      "churned": [0, 0, 1, 1, 0],
                      "submitted_at": ["2026-01-01", "2026-01-01", "2026-01-01", "2026-01-01",
                                       "2025-01-01"]})
    o = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "d", "c"],
                      "order_date": ["2026-02-01", "2027-06-01", "2026-03-01", "2026-02-01",
                                     "2025-12-01", "2026-05-01"],
                      "amount": [100.0, 999.0, 300.0, 50.0, 999.0, 10.0]})
    r = nps_link(f, o)
    t = r.table.set_index("category")
    assert r.n_customers == 4  # a counted once, with the later survey (10 → promoter)
    assert t.loc["promoter", "n"] == 2 and t.loc["detractor", "churn_rate"] == 100.0
    assert t.loc["promoter", "mean_spend"] == pytest.approx(200.0)  # a: 100 (999 outside window)
    assert t.loc["detractor", "mean_spend"] == pytest.approx(30.0)  # c: 60, d: 0 (order before)
    assert set(r.tests["test"]) >= {"Welch t", "Mann-Whitney U"}
    # four customers: the 2×2 category × churn table [[2, 0], [0, 2]] has expected counts of 1,
    # so the p-value comes from random tables with its margins. By hand: the tables with
    # margins (2, 2) × (2, 2) have 0, 1 or 2 promoters churned with hypergeometric
    # probabilities 1/6, 4/6, 1/6, and X^2 = 4, 0, 4, so the exact conditional p is 1/3.
    churn = r.tests.set_index("comparison").loc["category × churn"]
    assert churn["test"] == "chi-square (Pearson, simulated p)"
    assert churn["statistic"] == pytest.approx(4.0)
    assert churn["pvalue"] == pytest.approx(1 / 3, abs=4 * np.sqrt(2 / 9 / 2000))
    # weighted, a table that sparse is not tested (no design-based test fits it)
    w = nps_link(f.assign(w=[1.0, 2.0, 1.5, 0.5, 1.0]), o, weight="w")
    churn = w.tests.set_index("comparison").loc["category × churn"]
    assert churn["test"] == "not tested (sparse table)" and np.isnan(churn["pvalue"])


# ---- the planted truth of the sample data ------------------------------------------------------

def _sample_responses(raw: Path) -> pd.DataFrame:
    frames = []
    for f in sorted(glob.glob(str(raw / "survey" / "qualtrics_*.csv"))):
        q = pd.read_csv(f, skiprows=[1, 2], encoding="utf-8-sig", dtype=str)
        q = q[q["Status"] == "0"]
        frames.append(pd.DataFrame({"customer_id": q["ExternalReference"], "ltr": q["Q1"],
                                    "submitted_at": q["RecordedDate"]}))
    for f in sorted(glob.glob(str(raw / "survey" / "wjx_*.xlsx"))):
        x = pd.read_excel(f, dtype=str, engine="calamine")
        ltr = next(c for c in x.columns if "推荐" in c)
        cid = next(c for c in x.columns if "客户编号" in c)
        frames.append(pd.DataFrame({"customer_id": x[cid].str.strip(), "ltr": x[ltr],
                                    "submitted_at": pd.to_datetime(x["提交答卷时间"], errors="coerce")
                                    .astype(str)}))
    d = pd.concat(frames, ignore_index=True)
    d["ltr"] = pd.to_numeric(d["ltr"], errors="coerce")
    return d[d["ltr"].between(0, 10) & d["customer_id"].str.match(r"^C\d+$", na=False)]


def test_sample_data_detractors_churn_more_and_spend_less(sample_raw, sample_truth, capsys):
    customers = pd.read_csv(sample_raw / "crm" / "customers.csv", dtype={"customer_id": str})
    orders = pd.read_csv(sample_raw / "crm" / "orders.csv", dtype={"customer_id": str})
    responses = _sample_responses(sample_raw)
    f = fuse(responses, customers)
    assert f.matched + f.unmatched == len(responses)
    assert f.matched / f.n_responses > 0.95
    link = nps_link(f.data[f.data["crm_matched"]], orders)
    t = link.table.set_index("category")
    truth = sample_truth["churn"]["churn_rate_sample_by_nps"]
    with capsys.disabled():
        print("\n== sample data: churn and spend by NPS category ==\n"
              + link.table.round(2).to_string(index=False) + "\n"
              + link.tests.round(6).to_string(index=False)
              + f"\nplanted churn rates (truth.json): {truth}")
    assert t.loc["detractor", "churn_rate"] > t.loc["promoter", "churn_rate"]
    tests = link.tests.set_index(["outcome", "test"])["pvalue"]
    assert tests[("churn", "chi-square (Pearson)")] < 0.001
    assert tests[("spend", "Mann-Whitney U")] < 0.05
    assert t.loc["promoter", "mean_spend"] > t.loc["detractor", "mean_spend"]
    for cat in ("detractor", "passive", "promoter"):
        assert t.loc[cat, "churn_rate"] == pytest.approx(truth[cat], abs=4.0)
    # value tiers, RFM and retention on the same CRM
    tiers = value_tiers(customers)
    assert set(tiers["value_segment"].dropna().str.split("·").str[0]) == {"大客户", "普通客户"}
    r = rfm(orders)
    assert len(r) == orders["customer_id"].nunique() and set(r["segment"]) <= set(RFM_SEGMENTS.values())
    ret = retention(customers, by="customer_type")
    assert ret["churn_rate"].between(0, 100).all()
    overall = retention(customers)["churn_rate"].iloc[0]
    assert overall == pytest.approx(sample_truth["churn"]["churn_rate_sample"], abs=1e-4)  # truth rounded to 4 dp


def test_segment_scores_adjustment_follows_the_method_with_raw_and_adjusted_p():
    from cxlab.metrics import adjust_pvalues

    rng = np.random.default_rng(4)
    d = pd.DataFrame({"seg": rng.choice(list("abcdef"), 900),
                      "ltr": rng.integers(0, 11, 900)})
    d.loc[d["seg"] == "a", "ltr"] = np.minimum(d.loc[d["seg"] == "a", "ltr"] + 3, 10)
    bh = segment_scores(d, by="seg")  # Benjamini-Hochberg by default
    assert (bh["adjust"] == "fdr_bh").all()
    np.testing.assert_allclose(bh["p_adjusted"], adjust_pvalues(bh["pvalue"].to_numpy()))
    np.testing.assert_allclose(bh["p_holm"], adjust_pvalues(bh["pvalue"].to_numpy(),
                                                            method="holm"))
    assert (bh["significant"] == (bh["p_adjusted"] < 0.05)).all()
    holm = segment_scores(d, by="seg", adjust="holm")
    np.testing.assert_allclose(holm["p_adjusted"], holm["p_holm"])
    none = segment_scores(d, by="seg", adjust="none")
    np.testing.assert_allclose(none["p_adjusted"], none["pvalue"])
    assert bh["significant"].sum() >= holm["significant"].sum()
    with pytest.raises(ValueError, match="adjust"):
        segment_scores(d, by="seg", adjust="bonferroni")


def test_segment_scores_weighted_use_weighted_metric_and_design_test():
    from cxlab.metrics import csat, nps
    from cxlab.metrics._column_tests import design_mean_test

    rng = np.random.default_rng(9)
    d = pd.DataFrame({"seg": rng.choice(["x", "y", "z"], 600), "ltr": rng.integers(0, 11, 600),
                      "sat": rng.integers(1, 6, 600), "w": rng.choice([0.3, 1.0, 3.0], 600)})
    r = segment_scores(d, by="seg", weight="w").set_index("seg")
    ref = nps(d, score="ltr", by="seg", weight="w").set_index("seg")
    np.testing.assert_allclose(r.loc[ref.index, "nps"], ref["nps"], rtol=1e-12)
    np.testing.assert_allclose(r.loc[ref.index, "n_eff"], ref["n_eff"], rtol=1e-12)
    plain = segment_scores(d, by="seg").set_index("seg")
    assert (np.abs(plain["nps"] - r["nps"]) > 0.5).any()  # the weights matter
    y = np.where(d["ltr"] >= 9, 1.0, np.where(d["ltr"] >= 7, 0.0, -1.0))
    for seg in "xyz":
        m = (d["seg"] == seg).to_numpy()
        diff, p = design_mean_test(y[m], d["w"][m], y[~m], d["w"][~m])
        assert r.loc[seg, "diff_vs_rest"] == pytest.approx(100 * diff, rel=1e-12)
        assert r.loc[seg, "pvalue"] == pytest.approx(p, rel=1e-12)
    cs = segment_scores(d, by="seg", score="sat", metric="csat", weight="w").set_index("seg")
    cref = csat(d, score="sat", by="seg", weight="w").set_index("seg")
    np.testing.assert_allclose(cs.loc[cref.index, "csat"], cref["csat"], rtol=1e-12)


def test_segments_under_the_minimum_base_are_not_tested():
    from cxlab.metrics import adjust_pvalues

    d = pd.DataFrame({"tier": ["高"] * 120 + ["低"] * 40 + ["中"] * 10,
                      "ltr": [10, 9, 9, 8] * 30 + [3, 6, 8, 9] * 10 + [0] * 10})
    every = segment_scores(d, by="tier").set_index("tier")
    assert every.loc["中", "significant"]  # 10 detractors: flagged when tested
    r = segment_scores(d, by="tier", min_base=30).set_index("tier")
    assert np.isnan(r.loc["中", "pvalue"]) and not r.loc["中", "significant"]
    # the family adjusted is the two tested segments only
    np.testing.assert_allclose(r.loc[["低", "高"], "p_adjusted"],
                               adjust_pvalues(r.loc[["低", "高"], "pvalue"].to_numpy()))
