"""Weighted report sections (issue 22 §1): the item summary, crosstabs, segments, journey, IPA
and voice sections of a weighted sample report use the survey weights. Each test reads the
numbers the section shows, checks them against the weighted metric computed directly, and
checks that the weights change them (the same section with unit weights shows other numbers)."""

from __future__ import annotations

import dataclasses
import re
import shutil
from html import unescape
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
PERIOD = "2026Q3"


@pytest.fixture(scope="module")
def ctx(sample_warehouse, tmp_path_factory):
    from cxlab.report import build_aggregates, load_context, sections

    wh = tmp_path_factory.mktemp("wsections") / "warehouse"
    shutil.copytree(sample_warehouse, wh)
    build_aggregates(wh, params_dir=PARAMS)
    sections.setup()
    c = load_context(period=PERIOD, warehouse=wh, params_dir=PARAMS)
    assert c.weighted
    return c


@pytest.fixture(scope="module")
def strong(ctx):
    """The context with stronger weights (the sample's are close to 1): the rake weights
    times a seeded factor, so that weighted and unweighted results differ visibly."""
    rng = np.random.default_rng(22)
    r = ctx.responses.copy()
    r["weight"] = r["weight"] * rng.choice([0.3, 1.0, 3.0], size=len(r))
    return dataclasses.replace(ctx, responses=r)


def _unit(c):
    return dataclasses.replace(c, responses=c.responses.assign(weight=1.0))


def _tables(html: str, match: str) -> list[pd.DataFrame]:
    return pd.read_html(StringIO(html), match=match)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", "", html)))


def test_item_summary_is_weighted(strong):
    from cxlab.metrics import weighted_mean, weighted_proportion
    from cxlab.report._sections_items import item_summary

    html = item_summary(strong).html
    t = _tables(html, "有效样本量")[0]
    assert "回答数(未加权)" in t.columns
    cur = strong.current
    labels = strong.codebook.labels()
    by_label = {labels[i]: i for i in strong.codebook.ids() if i in cur.columns}
    checked = 0
    for _, row in t.iterrows():
        item = by_label[row["评价项目"]]
        sc = strong.codebook.scale_of(item)
        x = pd.to_numeric(cur[item], errors="coerce")
        d = pd.DataFrame({"x": x, "top": (x >= sc.top_threshold) * 1.0, "w": cur["weight"]})
        d = d[x.notna()]
        m = weighted_mean(d, column="x", weight="w").iloc[0]
        p = weighted_proportion(d, column="top", weight="w").iloc[0]
        assert row["回答数(未加权)"] == len(d)
        assert row["均值"] == pytest.approx(m["mean"], abs=0.005)
        assert row["好评率%"] == pytest.approx(100 * p["proportion"], abs=0.05)
        assert row["有效样本量"] == pytest.approx(m["n_eff"], abs=0.05)
        lo, hi = (float(v) for v in row["好评率 95% 区间"].split("~"))
        assert lo == pytest.approx(100 * p["ci_low"], abs=0.05)  # svyciprop logit interval
        assert hi == pytest.approx(100 * p["ci_high"], abs=0.05)
        checked += 1
    assert checked >= 10
    plain = _tables(item_summary(_unit(strong)).html, "好评率")[0]
    assert (np.abs(plain["好评率%"].to_numpy() - t["好评率%"].to_numpy()) > 0.5).any()
    assert "加权估计" in _text(html) and "svyciprop" in _text(html)


def test_crosstabs_are_weighted_with_design_letters(strong):
    from cxlab.metrics import crosstab, crosstab_overall
    from cxlab.report._inference import comparison_method
    from cxlab.report._sections_items import choice_items, crosstabs

    html = crosstabs(strong).html
    text = _text(html)
    item = choice_items(strong)[0]
    label = strong.codebook.item(item).label
    t = next(x for x in _tables(html, "合计%") if True)
    cur = strong.current.dropna(subset=[item])
    w = cur["weight"]
    assert f"未加权 n = {len(cur):,}" in text
    assert f"加权 n = {w.sum():,.1f}" in text
    assert f"有效 n = {w.sum() ** 2 / (w ** 2).sum():,.1f}" in text
    shares = w.groupby(cur[item].astype(str)).sum() / w.sum() * 100
    for _, row in t.iterrows():
        assert row["合计%(加权)"] == pytest.approx(shares[str(row["选项"])], abs=0.05)
    sizes = cur.groupby("branch").size()
    big = [b for b in strong.org.branch_codes if sizes.get(b, 0) >= 30]
    sub = cur[cur["branch"].isin(big)].assign(branch=lambda x: x["branch"].astype(str))
    method = comparison_method(strong.params_dir)
    ct = crosstab(sub, row=item, col="branch", weight="weight", adjust=method)
    for b in big:
        col = next(c for c in t.columns if c.startswith(strong.branch_name(b)))
        for _, row in t.iterrows():
            cell = ct[(ct["col"] == b) & (ct["row"] == row["选项"])].iloc[0]
            shown = str(row[col]).split()
            assert float(shown[0]) == pytest.approx(cell["pct"], abs=0.05)
            assert (shown[1] if len(shown) > 1 else "") == cell["sig"]
    ov = crosstab_overall(sub, row=item, col="branch", weight="weight")
    assert "Rao–Scott" in text and f"{label}" in text
    assert (f"p = {ov.pvalue:.3f}" in text) or (ov.pvalue < 0.001 and "p < 0.001" in text)
    assert "基于抽样设计的加权比例 t 检验" in text
    unit = _tables(crosstabs(_unit(strong)).html, "合计%")[0]
    assert (np.abs(unit["合计%(加权)"].to_numpy() - t["合计%(加权)"].to_numpy()) > 0.3).any()


def test_segments_are_weighted_with_bh_raw_and_adjusted_p(strong):
    from cxlab.metrics import adjust_pvalues, nps
    from cxlab.metrics._column_tests import design_mean_test
    from cxlab.report._sections_voice import segments

    html = segments(strong).html
    t = _tables(html, "有效样本量")[0]  # by customer type, NPS
    assert {"p 值(未校正)", "p 值(BH 校正)", "样本量(未加权)"} <= set(t.columns)
    customers = strong.table("customers").drop_duplicates("customer_id")
    d = strong.current.merge(customers[["customer_id", "customer_type"]], on="customer_id")
    d = d[d["ltr"].notna()]
    want = nps(d, score="ltr", by="customer_type", weight="weight").set_index("customer_type")
    pvals = []
    for _, row in t.iterrows():
        seg = row["客户分群"]
        assert row["NPS"] == pytest.approx(want.loc[seg, "nps"], abs=0.05)
        assert row["样本量(未加权)"] == want.loc[seg, "n"]
        assert row["有效样本量"] == pytest.approx(want.loc[seg, "n_eff"], abs=0.05)
        a, b = d[d["customer_type"] == seg], d[d["customer_type"] != seg]
        y = [np.where(x["ltr"] >= 9, 1.0, np.where(x["ltr"] >= 7, 0.0, -1.0)) for x in (a, b)]
        diff, p = design_mean_test(y[0], a["weight"], y[1], b["weight"])
        assert row["与其余客户差异"] == pytest.approx(100 * diff, abs=0.05)
        pvals.append(p)
    adj = adjust_pvalues(pvals)
    for shown, p in zip(t["p 值(未校正)"], pvals, strict=True):
        if not str(shown).startswith("<"):
            assert float(shown) == pytest.approx(p, abs=5e-4)
    for shown, q in zip(t["p 值(BH 校正)"], adj, strict=True):
        if not str(shown).startswith("<"):
            assert float(shown) == pytest.approx(q, abs=5e-4)
    text = _text(html)
    assert "Benjamini–Hochberg" in text and "svyttest" in text
    unit = _tables(segments(_unit(strong)).html, "有效样本量")[0]
    assert (np.abs(unit["NPS"].to_numpy() - t["NPS"].to_numpy()) > 0.3).any()


def test_journey_is_weighted(strong):
    from cxlab.ops import journey_scores
    from cxlab.report._sections_ops import journey

    html = journey(strong).html
    t = _tables(html, "加权回答数")[0]
    cur = strong.current
    js = journey_scores(cur, codebook=strong.codebook, weight="weight")
    assert len(t) == len(js)
    for (_, row), (_, ref) in zip(t.iterrows(), js.iterrows(), strict=True):
        assert row["触点"] == ref["touchpoint"]
        assert row["均值(1-5)"] == pytest.approx(ref["mean"], abs=0.005)
        assert row["好评率%"] == pytest.approx(ref["top2"], abs=0.05)
        assert row["回答数(未加权)"] == ref["n"]
    # directly: the first touchpoint's items, each answer weighted by its respondent
    first = js.iloc[0]
    items = [i.id for i in strong.codebook.items if i.touchpoint == first["touchpoint"]
             and i.id in cur.columns and i.journey == first["journey"]]
    vals = pd.concat([pd.to_numeric(cur[i], errors="coerce") for i in items])
    wts = pd.concat([cur["weight"]] * len(items))
    ok = vals.notna()
    assert first["mean"] == pytest.approx(np.average(vals[ok], weights=wts[ok]), rel=1e-12)
    unit = _tables(journey(_unit(strong)).html, "均值")[0]
    assert (np.abs(unit["均值(1-5)"].to_numpy() - t["均值(1-5)"].to_numpy()) > 0.005).any()


def test_branch_journey_compares_with_the_weighted_company(ctx):
    """A branch's weakest touchpoints are compared with the company mean pooled from the
    weighted aggregates, which equals the weighted company mean computed from the responses."""
    from cxlab.ops import journey_scores
    from cxlab.report import load_context
    from cxlab.report._sections_ops import journey

    branch = str(ctx.current["branch"].value_counts().index[0])
    bctx = load_context(period=PERIOD, branch=branch, warehouse=ctx.warehouse,
                        params_dir=ctx.params_dir)
    html = journey(bctx).html
    t = _tables(html, "全公司均值")[0]
    assert len(t) and "回答数(未加权)" in t.columns
    comp = journey_scores(ctx.current, codebook=ctx.codebook, weight="weight")
    unweighted = journey_scores(ctx.current, codebook=ctx.codebook)
    assert t["全公司均值"].notna().all()   # every touchpoint, the CSAT item's included
    for _, row in t.iterrows():
        ref = comp[comp["touchpoint"] == row["触点"]].iloc[0]
        assert row["全公司均值"] == pytest.approx(ref["mean"], abs=0.005)
    assert "全公司均值来自各机构的加权汇总数据" in _text(html)
    # the sample weights are close to 1: the weighted and unweighted company means differ
    # by less than the table's rounding, so check the pooled value itself at full precision
    from cxlab.report._sections_ops import _company_touchpoints

    pooled = _company_touchpoints(bctx).merge(comp, on=["journey", "touchpoint"])
    assert len(pooled) == len(comp) and pooled["weighted"].all()
    np.testing.assert_allclose(pooled["company_mean"], pooled["mean"], rtol=1e-9)
    np.testing.assert_allclose(pooled["company_top2"], pooled["top2"], rtol=1e-9)
    plain = _company_touchpoints(dataclasses.replace(bctx, weighted=False)).merge(
        unweighted, on=["journey", "touchpoint"])
    assert len(plain) == len(unweighted) and not plain["weighted"].any()
    np.testing.assert_allclose(plain["company_mean"], plain["mean"], rtol=1e-9)
    np.testing.assert_allclose(plain["company_top2"], plain["top2"], rtol=1e-9)
    assert not np.allclose(pooled["company_mean"], plain["company_mean"], rtol=1e-9, atol=0)
    assert not np.allclose(pooled["company_top2"], plain["company_top2"], rtol=1e-9, atol=0)


def test_branch_item_summary_compares_with_the_weighted_company(ctx):
    """A weighted branch report's item summary puts the branch's weighted means and top-box
    shares beside the company's weighted ones, pooled from the aggregates' weighted sums: they
    equal the weighted item summary of the company's own respondents."""
    from cxlab.report import load_context
    from cxlab.report._sections_items import _company_items, item_summary, item_table

    branch = str(ctx.current["branch"].value_counts().index[0])
    bctx = load_context(period=PERIOD, branch=branch, warehouse=ctx.warehouse,
                        params_dir=ctx.params_dir)
    html = item_summary(bctx).html
    t = _tables(html, "全公司均值")[0]
    company = item_table(ctx, ctx.current, weight="weight").set_index("label")
    assert len(t) == len(company)
    for _, row in t.iterrows():
        ref = company.loc[row["评价项目"]]
        assert row["全公司均值"] == pytest.approx(ref["mean"], abs=0.005)
        assert row["全公司好评率%"] == pytest.approx(ref["top"], abs=0.05)
    assert "按各机构的权重和合并其加权均值与加权好评率" in _text(html)
    # at full precision, and not the unweighted pool (the sample weights are close to 1)
    comp = _company_items(bctx).merge(company.reset_index(), on="item")
    assert comp["weighted"].all()
    np.testing.assert_allclose(comp["company_mean"], comp["mean"], rtol=1e-9)
    np.testing.assert_allclose(comp["company_top"], comp["top"], rtol=1e-9)
    plain = _company_items(dataclasses.replace(bctx, weighted=False)).merge(
        item_table(ctx, ctx.current).reset_index(), on="item")
    np.testing.assert_allclose(plain["company_top"], plain["top"], rtol=1e-9)
    assert not np.allclose(comp["company_top"], plain["company_top"], rtol=1e-9, atol=0)


def test_ipa_is_weighted(strong):
    from cxlab.report import sections

    html = sections.ipa(strong).html
    t = _tables(html, "重要性")[0]
    out, items, df = sections._driver_data(strong)
    labels = strong.codebook.labels()
    w = df["weight"].to_numpy()
    for _, row in t.iterrows():
        item = next(i for i in items if labels[i] == row["项目"])
        x, y = df[item].to_numpy(float), df[out].to_numpy(float)
        assert row["表现(均值)"] == pytest.approx(np.average(x, weights=w), abs=0.005)
        c = np.cov(np.vstack([x, y]), aweights=w)  # weighted Pearson r (R cov.wt(cor = TRUE))
        assert row["重要性(相关)"] == pytest.approx(c[0, 1] / np.sqrt(c[0, 0] * c[1, 1]),
                                                abs=5e-4)
    assert "按调查权重加权" in _text(html)
    unit = _tables(sections.ipa(_unit(strong)).html, "重要性")[0].set_index("项目")
    tt = t.set_index("项目")
    assert (np.abs(unit.loc[tt.index, "表现(均值)"] - tt["表现(均值)"]) > 0.005).any()


def test_voice_shares_are_weighted(strong):
    from cxlab.report._sections_voice import voice
    from cxlab.text import analyse_comments, load_taxonomy

    html = voice(strong).html
    text = _text(html)
    data = strong.current.reset_index(drop=True)
    col = strong.codebook.comment_item
    ca = analyse_comments(data, text=col, taxonomy=load_taxonomy(strong.params_dir / "text.yaml"))
    sent = ca.sentiment()
    w = data["weight"].to_numpy()
    said = sent["sentiment"].notna().to_numpy()
    for lab in ("正面", "中性", "负面"):
        share = 100 * w[(sent["sentiment"] == lab).to_numpy()].sum() / w[said].sum()
        assert f"{lab} {share:.1f}%" in text
    t = _tables(html, "提及率")[0]
    tags = ca.tag_themes()  # one row per (response, theme) with the aspect sentiment
    wid = dict(zip(data["response_id"], w, strict=True))
    for _, row in t.head(4).iterrows():
        rows = tags[tags["theme_name"] == row["主题"]]
        tw = sum(wid[r] for r in rows["response_id"])
        assert row["提及率%(加权)"] == pytest.approx(100 * tw / w[said].sum(), abs=0.05)
        neg = sum(wid[r] for r in rows.loc[rows["sentiment"] == "负面", "response_id"])
        assert row["负面占比%(加权)"] == pytest.approx(100 * neg / tw, abs=0.05)
        assert row["提及条数"] == len(rows)  # counts stay unweighted
    unit = _tables(voice(_unit(strong)).html, "提及率")[0]
    assert (np.abs(unit["提及率%(加权)"].to_numpy() - t["提及率%(加权)"].to_numpy()) > 0.05).any()
    assert (unit["提及率%(加权)"] == (100 * unit["提及条数"] / said.sum()).round(1)).all()


def test_multi_select_shares_are_weighted(strong):
    from cxlab.io import split_multiselect
    from cxlab.report._sections_items import choice_items, crosstabs

    html = crosstabs(strong).html
    item = choice_items(strong, kinds=("multi",))[0]
    t = _tables(html, "选择比例")[0]
    cur = strong.current[strong.current[item].notna()]
    opts = strong.codebook.scale_of(item).options
    picks = split_multiselect(cur[item].astype(str), options=opts)
    w = cur["weight"].to_numpy()
    assert f"未加权 n = {len(cur):,}" in _text(html)
    for _, row in t.iterrows():
        chosen = picks[row["选项"]].fillna(False).to_numpy(bool)
        assert row["选择比例%(加权)"] == pytest.approx(100 * w[chosen].sum() / w.sum(), abs=0.05)
        assert row["选择人数(未加权)"] == chosen.sum()
    unit = _tables(crosstabs(_unit(strong)).html, "选择比例")[0]
    assert (np.abs(unit["选择比例%(加权)"].to_numpy() - t["选择比例%(加权)"].to_numpy()) > 0.3).any()


def test_kano_is_weighted(strong):
    """The Kano table shows the weighted category counts, Better/Worse of cxlab.kano.evaluate
    with the weights, and the weighted and effective bases beside the unweighted one."""
    from cxlab.kano import evaluate, from_wide
    from cxlab.report import sections

    html = sections.kano(strong).html
    t = _tables(html, "Better")[0]
    pairs = [p.model_dump() for p in strong.codebook.kano]
    cols = [c for p in pairs for c in (p["functional"], p["dysfunctional"])]
    cur = strong.current
    long = from_wide(cur[[*cols, "weight"]], pairs=pairs, keep="weight")
    ref = evaluate(long, weight="weight").set_index("feature")
    assert len(t) == len(ref)
    for _, row in t.iterrows():
        r = ref.loc[row["功能"]]
        assert row["样本量(未加权)"] == r["n"]
        assert row["加权样本量"] == pytest.approx(r["weighted_n"], abs=0.05)
        assert row["有效样本量"] == pytest.approx(r["effective_n"], abs=0.05)
        for c in "AOMIRQ":
            assert row[f"{c}(加权)"] == pytest.approx(r[c.lower()], abs=0.05)
        assert row["Better"] == pytest.approx(r["better"], abs=0.005)
        assert row["Worse"] == pytest.approx(r["worse"], abs=0.005)
        # by hand for one feature: Better = (A+O)/(A+O+M+I) of the sums of weights
        f = next(p for p in pairs if p["feature"] == row["功能"])
        cat = _kano_categories(cur, f)
        w = cur["weight"].to_numpy()
        s = {c: w[(cat == c).fillna(False).to_numpy(bool)].sum() for c in "AOMI"}
        assert r["better"] == pytest.approx((s["A"] + s["O"]) / sum(s.values()), rel=1e-12)
        assert r["worse"] == pytest.approx(-(s["O"] + s["M"]) / sum(s.values()), rel=1e-12)
    assert "加权频数" in _text(html)
    unit = _tables(sections.kano(_unit(strong)).html, "Better")[0]
    assert (np.abs(unit["Better"].to_numpy() - t["Better"].to_numpy()) > 0.005).any()


def _kano_categories(cur: pd.DataFrame, pair: dict) -> pd.Series:
    from cxlab.kano import classify

    return classify(cur, functional=pair["functional"], dysfunctional=pair["dysfunctional"])


def test_price_channel_is_weighted(strong):
    """Price perception and channel shares are the weighted shares of the respondents (hand
    computation on the period's rows), with the weighted base beside the unweighted one."""
    from cxlab.ops._common import to_codes
    from cxlab.report._sections_ops import price_channel

    html = price_channel(strong).html
    text = _text(html)
    cur = strong.current
    sc = strong.codebook.scale_of("price_direct")
    d = to_codes(cur["price_direct"], sc)
    e = to_codes(cur["price_expected"], strong.codebook.scale_of("price_expected"))
    ok = (d.notna() & e.notna()).to_numpy()
    w = cur["weight"].to_numpy()[ok]
    gap = (e - d).to_numpy()[ok]
    below = 100 * w[gap < 0].sum() / w.sum()
    mean_gap = np.dot(w, gap) / w.sum()
    assert f"在同时回答两题的 {ok.sum():,} 位客户中(加权 {w.sum():,.1f}" in text
    assert f"{below:.1f}% 认为直估价格高于其心理预期价值" in text
    assert f"平均差距 {mean_gap:+.2f} 档" in text
    bands = _tables(html, "价格区间")[0]
    wd = cur["weight"][d.notna()]
    for code, row in zip(sc.codes, bands.itertuples(index=False), strict=True):
        share = 100 * wd[d[d.notna()] == code].sum() / wd.sum()
        assert row[2] == pytest.approx(share, abs=0.05)  # 直估价格%(加权)
        assert row[1] == int((d == code).sum())          # 直估价格人数(未加权)
    assert list(bands.columns)[1:3] == ["直估价格人数(未加权)", "直估价格%(加权)"]
    ch = _tables(html, "选择比例")[0]
    from cxlab.ops import channel_preference

    ref = channel_preference(cur, codebook=strong.codebook, weight="weight").set_index("channel")
    for _, row in ch.iterrows():
        assert row["选择比例%(加权)"] == pytest.approx(ref.loc[row["渠道"], "pct"], abs=0.05)
        assert row["选择人数(未加权)"] == ref.loc[row["渠道"], "n_selected"]
    unit = _text(price_channel(_unit(strong)).html)
    assert f"{below:.1f}% 认为直估价格高于其心理预期价值" not in unit


def test_ces_card_is_weighted(strong):
    """The CES card shows the weighted share of easy answers (cxlab.metrics.ces with weights;
    by hand: Σ w·[x ≥ 5] / Σ w over the answers)."""
    from cxlab.metrics import ces
    from cxlab.report import sections

    text = _text(sections.kpi_dashboard(strong).html)
    cur = strong.current
    x = pd.to_numeric(cur["ces"], errors="coerce")
    ok = x.notna().to_numpy()
    w = cur["weight"].to_numpy()[ok]
    share = 100 * w[(x[ok] >= 5).to_numpy()].sum() / w.sum()
    ref = ces(cur.assign(c=x), score="c", scale=7, weight="weight", easy_from=5).iloc[0]
    assert ref["pct_easy"] == pytest.approx(share, rel=1e-12)
    assert "CES 容易占比(5–7 分)(加权)" in text and f"{share:.1f}%" in text
    plain = 100 * (x[ok] >= 5).mean()
    assert f"{plain:.1f}%" in _text(sections.kpi_dashboard(_unit(strong)).html)
    assert f"{plain:.1f}%" != f"{share:.1f}%"


def test_nps_link_is_weighted(strong):
    """Churn and spend by NPS category in the segments section are nps_link with the survey
    weights (by hand: the weighted churn share of each category's customers, each on the
    weight of their last survey), with design-based tests."""
    from cxlab.report._sections_voice import segments
    from cxlab.segments import fuse, nps_link

    html = segments(strong).html
    t = next(x for x in _tables(html, "流失率") if "流失率%(加权)" in x.columns)
    customers = strong.table("customers")
    fused = fuse(strong.responses, customers, columns=["churned"]).data
    fused = fused[fused["crm_matched"]]
    orders = strong.table("orders")
    ref = nps_link(fused, orders, window_days=365, weight="weight")
    tab = ref.table.set_index("category")
    last = (fused.assign(_t=pd.to_datetime(fused["submitted_at"]))
            .sort_values("_t", kind="stable").groupby("customer_id").tail(1))
    last = last[pd.to_numeric(last["ltr"], errors="coerce").notna()]
    names = {"推荐者": "promoter", "中立者": "passive", "贬损者": "detractor"}
    for _, row in t.iterrows():
        cat = names[row["NPS 类别"][:3]]
        ltr = pd.to_numeric(last["ltr"])
        g = last[(ltr >= 9) if cat == "promoter" else (ltr <= 6) if cat == "detractor"
                 else ltr.between(7, 8)]
        g = g[g["churned"].notna()]
        hand = 100 * np.average(g["churned"].astype(float), weights=g["weight"])
        assert tab.loc[cat, "churn_rate"] == pytest.approx(hand, rel=1e-12)
        if row["提示"] != "样本不足":
            assert row["流失率%(加权)"] == pytest.approx(hand, abs=0.05)
        assert row["客户数(未加权)"] == tab.loc[cat, "n"]
        assert row["加权客户数"] == pytest.approx(tab.loc[cat, "weighted_n"], abs=0.05)
    assert set(ref.tests["test"]) <= {"Rao-Scott F (svychisq)", "design t (svyttest)",
                                      "design Wilcoxon (svyranktest)"}
    assert "svyranktest" in _text(html)


def test_sparse_overall_crosstab_test(strong):
    """A choice question whose branch × option table breaks Cochran's rule: the weighted
    report withholds the overall Rao–Scott test and says why; the unweighted report takes the
    p-value from random tables with the observed margins (chisq.test(simulate.p.value = TRUE))."""
    from cxlab.metrics import crosstab_overall
    from cxlab.metrics._crosstab import SIMULATED_TABLES
    from cxlab.report._sections_items import _p, choice_items, crosstabs

    item = choice_items(strong)[0]
    r = strong.responses.copy()
    now = r.index[(r["period"].astype(str) == PERIOD) & r[item].notna()]
    options = r.loc[now, item].value_counts().index
    r.loc[now, item] = options[0]
    r.loc[now[:12], item] = options[1]   # 12 answers of the second option over ten branches
    sparse = dataclasses.replace(strong, responses=r)
    text = _text(crosstabs(sparse).html)
    assert "机构间差异总体检验未做(期望频数小于 5 的格子占" in text
    plain = dataclasses.replace(sparse, weighted=False)
    text = unescape(_text(crosstabs(plain).html))
    cur = plain.current.dropna(subset=[item])
    sizes = cur.groupby("branch").size()
    big = [b for b in plain.org.branch_codes if sizes.get(b, 0) >= 30]
    sub = cur[cur["branch"].isin(big)].assign(branch=lambda x: x["branch"].astype(str))
    ov = crosstab_overall(sub, row=item, col="branch", simulate=SIMULATED_TABLES, rng=0)
    assert ov.sparse and "simulated" in ov.method
    assert f"p 值由 {SIMULATED_TABLES} 次固定边际的随机表模拟):p {_p(ov.pvalue)}" in text
    assert "机构间差异总体检验未做" not in text
    assert "chisq.test(simulate.p.value = TRUE)" in text
