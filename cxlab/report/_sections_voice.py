"""Report sections on the voice of the customer and customer segments.

- :func:`voice` — comment themes with aspect sentiment, high-frequency negative issues with
  redacted example quotes (seed 004: 定期分析高频问题、情感分析);
- :func:`segments` — NPS/CSAT by customer value segment with significance (seed 002: 按客户
  细分和价值分群测评满意度), RFM segments, retention/churn, and whether promoters really stay
  longer and spend more (seed 001: NPS 预判业务增长).

Quotes come out of :mod:`cxlab.text` already redacted; they are plain text and are escaped by
:func:`cxlab.report.tables.table` like every other cell.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cxlab.report._base import ALPHA, CAUTION_BASE, MIN_BASE, nps_col
from cxlab.report._base import base_note as _base_note
from cxlab.report._context import ReportContext
from cxlab.report._sections_ops import h3, no_data, p_text, pcell, period_end, scope_label
from cxlab.report.tables import Html, figure, join, note, paragraph, table

__all__ = ["segments", "voice"]

#: Fixed cut points of the CRM value score (0–100) for the value tiers 低/中/高, so that a
#: branch report and the company report put a customer in the same tier (about the company's
#: terciles in the sample CRM).
VALUE_CUTS = (35.0, 55.0)
CATEGORY_CN = {"promoter": "推荐者(9–10)", "passive": "中立者(7–8)", "detractor": "贬损者(0–6)"}
BASE_CN = {"suppress": "样本不足", "caution": "基数小", "ok": ""}


def _nonblank(s: pd.Series) -> pd.Series:
    text = s.astype("string").fillna("").str.strip()
    return text.ne("") & ~text.isin(["(跳过)", "(空)", "nan", "None"])


# --------------------------------------------------------------------------- voice
def theme_counts(summary: pd.DataFrame, n: int) -> pd.DataFrame:
    """One row per theme of a comment analysis' ``theme_summary()``: its comments by sentiment
    (正面, 中性, 负面), ``total`` and ``share`` (% of the ``n`` comments), in the summary's order.
    The report's voice section and the dashboard's themes view both show this table."""
    wide = summary.pivot_table(index=["theme", "theme_name"], columns="sentiment", values="n",
                               aggfunc="sum", fill_value=0, sort=False).reset_index()
    for lab in ("正面", "中性", "负面"):
        if lab not in wide.columns:
            wide[lab] = 0
    wide["total"] = wide[["正面", "中性", "负面"]].sum(axis=1)
    wide["share"] = 100.0 * wide["total"] / n
    return wide


def voice(ctx: ReportContext) -> Html:
    """Comment themes with sentiment and high-frequency negative issues with redacted quotes."""
    from cxlab.plots import theme_bars
    from cxlab.text import analyse_comments, load_taxonomy

    cur = ctx.current
    col = ctx.codebook.comment_item
    if cur.empty or col is None or col not in cur.columns:
        return no_data()
    n = int(_nonblank(cur[col]).sum())
    if n == 0:
        return no_data("开放题评论")
    if n < MIN_BASE:
        return _base_note(n, "开放题评论")
    tax = load_taxonomy(ctx.params_dir / "text.yaml")
    data = cur.reset_index(drop=True)
    comments = analyse_comments(data, text=col, taxonomy=tax)  # every table below reuses this one pass

    sent = comments.sentiment()
    counts = sent["sentiment"].value_counts()
    share = {k: 100.0 * counts.get(k, 0) / n for k in ("正面", "中性", "负面")}
    wts = None
    if ctx.weighted:  # shares weighted by the respondents' survey weights; counts stay counts
        wts = data["weight"].to_numpy(dtype=float)
        lab = np.array([r.label for r in comments.rows], dtype=object)
        said = np.array([r.label is not None for r in comments.rows])
        wsum = float(wts[said].sum())
        share = {k: 100.0 * float(wts[lab == k].sum()) / wsum for k in ("正面", "中性", "负面")}

    ts = comments.theme_summary()
    wide = theme_counts(ts, n)
    wide["neg_share"] = 100.0 * wide["负面"] / wide["total"].where(wide["total"] > 0)
    if wts is not None:
        def wshare(theme: str, negative: bool = False) -> float:
            hit = np.array([theme in r.themes and (not negative or r.themes[theme][2] == "负面")
                            for r in comments.rows])
            return float(wts[hit].sum())

        tw = np.array([wshare(t) for t in wide["theme"]])
        wide["share"] = 100.0 * tw / wsum
        wide["neg_share"] = 100.0 * np.array([wshare(t, True) for t in wide["theme"]]) / \
            np.where(tw > 0, tw, np.nan)
    wide = wide.sort_values("total", ascending=False, kind="stable")

    fi = comments.frequent_issues(by=None, top=5, examples=2)
    blocks = [_base_note(n, "开放题评论")]
    text = (f"本期共收到 {n:,} 条有效评论" + (
        f"(加权 {wsum:,.1f},有效样本量 {wsum ** 2 / float((wts[said] ** 2).sum()):,.1f})"
        if wts is not None else "") + f",整体情感{'(加权)' if wts is not None else ''}:正面 {share['正面']:.1f}%、中性 {share['中性']:.1f}%、"
            f"负面 {share['负面']:.1f}%。")
    if len(wide) and wide["total"].iloc[0] > 0:
        top = wide.iloc[0]
        text += f"提及最多的主题是{top['theme_name']}({top['share']:.1f}% 的评论)。"
    if len(fi):
        text += ("高频负面问题依次为:" + "、".join(
            f"{r.theme_name}({r.n} 条)" for r in fi.itertuples()) + "。")
    else:
        text += "本期评论中没有负面主题。"
    blocks.append(paragraph(text))
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(wide), 3) + 1))
    theme_bars(ts, ax=ax)
    blocks.append(figure(fig, alt="评论主题与情感"))
    blocks.append(table(wide, columns={"theme_name": "主题", "total": "提及条数",
                                       "share": "提及率%(加权)" if wts is not None else "提及率%",
                                       "正面": "正面", "中性": "中性", "负面": "负面",
                                       "neg_share": "负面占比%(加权)" if wts is not None
                                       else "负面占比%"},
                        formats={"total": "int", "正面": "int", "中性": "int", "负面": "int",
                                 "share": 1, "neg_share": 1}))
    blocks.append(h3("高频负面问题与客户原话"))
    if len(fi):
        fi = fi.assign(share_pct=100.0 * fi["share"])
        blocks.append(table(fi, columns={"rank": "排序", "theme_name": "问题主题", "n": "负面提及条数",
                                         "share_pct": "占评论%", "example_1": "客户原话 1",
                                         "example_2": "客户原话 2"},
                            formats={"rank": "int", "n": "int", "share_pct": 1}))
    else:
        blocks.append(note("本期评论中没有负面主题。"))
    if ctx.is_company and "branch" in data.columns:
        sizes = data.assign(_c=_nonblank(data[col])).groupby("branch")["_c"].sum()
        ok = sizes[sizes >= MIN_BASE].index
        per = comments.frequent_issues(by="branch", top=1, examples=0)  # groups are independent:
        per = per[per["branch"].isin(ok)].reset_index(drop=True)  # keep the large enough ones
        if len(per):
            per["branch_name"] = [ctx.branch_name(b) for b in per["branch"]]
            per["share_pct"] = 100.0 * per["share"]
            blocks.append(table(per, columns={"branch_name": "分支机构", "theme_name": "首要负面问题",
                                              "n": "负面提及条数", "n_comments": "评论数",
                                              "share_pct": "占评论%"},
                                formats={"n": "int", "n_comments": "int", "share_pct": 1},
                                caption="各分支机构的首要负面问题"))
    blocks.append(note("主题按项目设定的关键词规则逐句识别,情感(正面/中性/负面)按句判断"
                       "(带否定与程度词);一条评论可涉及多个主题。"
                       + ("整体情感比例、提及率与负面占比按受访者的调查权重加权,条数为未加权条数;"
                          "高频负面问题按未加权条数排序。" if wts is not None else "")
                       + "客户原话已去除电话、邮箱、证件号和姓名"
                       "等个人信息,并截断至 120 字;原话仅来自本报告范围内的客户。"))
    return join(*blocks)


# --------------------------------------------------------------------------- segments
TIER_ORDER = ("低", "中", "高")


def _ordered(res: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows in report order: tiers low → high, within the customer type for value segments."""
    def rank(v: str):
        parts = str(v).split("·")
        tier = parts[-1]
        return (parts[0] if len(parts) > 1 else "", TIER_ORDER.index(tier) if tier in TIER_ORDER else -1, str(v))

    if key not in ("value_tier", "value_segment"):
        return res
    return res.iloc[sorted(range(len(res)), key=lambda i: rank(res[key].iloc[i]))].reset_index(drop=True)


def _seg_table(res: pd.DataFrame, key: str, metric: str) -> pd.DataFrame:
    out = res.copy()
    out["base_cn"] = out["base"].map(BASE_CN)
    out["sig"] = np.where(out["base"] == "suppress", "—",
                          np.where(out["significant"], "显著", "不显著"))
    hide = out["base"] == "suppress"
    for c in (metric, "ci_low", "ci_high", "diff_vs_rest", "pvalue", "p_adjusted", "p_holm",
              "n_eff"):
        if c in out.columns:
            out.loc[hide, c] = np.nan
    out["ci"] = [("—" if pd.isna(a) else f"{a:.1f} ~ {b:.1f}") for a, b in zip(out["ci_low"], out["ci_high"], strict=True)]
    out["segment"] = out[key].astype(str)
    return out


ADJUST_CN = {"fdr_bh": "BH 校正", "holm": "Holm 校正", "none": "未校正"}


def _seg_html(res: pd.DataFrame, key: str, metric: str, caption: str) -> Html:
    t = _seg_table(res, key, metric)
    name = "NPS" if metric == "nps" else "CSAT%"
    method = str(t["adjust"].iloc[0]) if "adjust" in t.columns and len(t) else "holm"
    padj = "p_adjusted" if "p_adjusted" in t.columns else "p_holm"
    columns = {"segment": "客户分群", "n": "样本量(未加权)" if "n_eff" in t.columns else "样本量"}
    if "n_eff" in t.columns:  # weighted: the effective n beside the unweighted base
        columns["n_eff"] = "有效样本量"
    columns |= {metric: name, "ci": "95% 置信区间", "diff_vs_rest": "与其余客户差异",
                "pvalue": "p 值(未校正)", padj: f"p 值({ADJUST_CN.get(method, method)})",
                "sig": "显著性", "base_cn": "提示"}
    return table(t, columns=columns,
                 formats={"n": "int", "n_eff": 1, "pvalue": pcell, padj: pcell,
                          "diff_vs_rest": 1},
                 classes={"sig": lambda v: "cx-flag-met" if v == "显著" else None,
                          "base_cn": lambda v: "cx-muted" if v else None},
                 caption=caption)


def segments(ctx: ReportContext) -> Html:
    """NPS/CSAT by value segment, RFM segments, retention/churn, and the NPS ↔ churn/spend link."""
    from cxlab.plots import segment_bars
    from cxlab.report._inference import METHOD_CN, comparison_method
    from cxlab.segments import fuse, nps_link, retention, rfm, segment_scores, value_tiers

    method = comparison_method(ctx.params_dir)
    weight = ctx.weight
    cur = ctx.current
    customers = ctx.table("customers")
    ltr = nps_col(ctx)
    if cur.empty or customers.empty or "customer_id" not in customers.columns or ltr is None:
        return no_data()
    if ltr != "ltr":  # the segment statistics below read the recommend item as ``ltr``
        cur = cur.rename(columns={ltr: "ltr"})
    customers = customers.drop_duplicates("customer_id").reset_index(drop=True)
    has_value = "value_score" in customers.columns
    tiers = None
    if has_value:
        tiers = value_tiers(customers, cuts=VALUE_CUTS,
                            type="customer_type" if "customer_type" in customers.columns else None)
    fused = fuse(cur, customers)
    d = fused.data
    if tiers is not None:
        keep = ["customer_id", "value_tier"] + (["value_segment"] if "value_segment" in tiers.columns else [])
        d = d.merge(tiers[keep], on="customer_id", how="left")
    n = int(pd.to_numeric(d["ltr"], errors="coerce").notna().sum()) if "ltr" in d.columns else 0
    if n < MIN_BASE:
        return _base_note(n, "客户分群") if n else no_data()

    blocks = [_base_note(n, "客户分群")]
    findings = []
    # ---- NPS / CSAT by segment
    blocks.append(h3("按客户价值分群的 NPS 与满意度"))
    seg_tables = []
    plot_res = None
    for key, caption in (("customer_type", "按客户类型(大客户/普通客户)"),
                         ("value_tier", "按客户价值分层(低/中/高)"),
                         ("value_segment", "按客户类型 × 价值分层")):
        if key not in d.columns or d[key].dropna().nunique() < 2:
            continue
        sub = d[d[key].notna()].assign(**{key: lambda x, k=key: x[k].astype(str)})
        res = _ordered(segment_scores(sub, by=key, score="ltr", metric="nps", weight=weight,
                                      adjust=method, min_base=MIN_BASE), key)
        seg_tables.append(_seg_html(res, key, "nps", caption + " · NPS"))
        if key == "value_segment" or plot_res is None:
            plot_res = res
        ok = res[res["base"] != "suppress"]
        if key == "customer_type" and len(ok) >= 2:
            hi, lo = ok.sort_values("nps").iloc[-1], ok.sort_values("nps").iloc[0]
            sig = "差异显著" if hi["significant"] else "差异不显著"
            findings.append(f"{hi[key]} NPS 为 {hi['nps']:.1f},{lo[key]}为 {lo['nps']:.1f}({sig})")
        if key == "value_tier" and len(ok) >= 2:
            sig_rows = ok[ok["significant"]]
            if len(sig_rows):
                findings.append("价值分层间 NPS 差异显著:" + "、".join(
                    f"{r[key]}价值客户 {r['nps']:.1f}" for _, r in ok.iterrows()))
        if key == "customer_type" and "csat" in sub.columns:
            cs = _ordered(segment_scores(sub, by=key, score="csat", metric="csat", weight=weight,
                                         adjust=method, min_base=MIN_BASE), key)
            seg_tables.append(_seg_html(cs, key, "csat", caption + " · CSAT"))
    if plot_res is not None:
        fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(plot_res) + 2), 3.6))
        segment_bars(plot_res, ax=ax)
        blocks.append(figure(fig, alt="分群 NPS"))
    blocks += seg_tables
    if fused.unmatched:
        blocks.append(note(f"{fused.unmatched} 份问卷未能与 CRM 客户档案匹配,未计入分群。"))

    # ---- RFM
    orders = ctx.table("orders")
    if len(orders) and {"customer_id", "order_date", "amount"} <= set(orders.columns):
        asof = period_end(ctx.period).normalize() + pd.Timedelta(days=1)
        o = orders[pd.to_datetime(orders["order_date"], errors="coerce") < asof]
        if len(o):
            r = rfm(o, asof=asof)
            dist = (r.groupby("segment", sort=False)
                    .agg(customers=("customer_id", "size"), monetary=("monetary", "mean"),
                         frequency=("frequency", "mean"), recency=("recency_days", "median"))
                    .reset_index())
            dist["share"] = 100.0 * dist["customers"] / dist["customers"].sum()
            surveyed = d.merge(r[["customer_id", "segment"]].rename(columns={"segment": "rfm_segment"}),
                               on="customer_id", how="left")
            surveyed = surveyed[surveyed["rfm_segment"].notna()]
            if surveyed["rfm_segment"].nunique() >= 2:
                rs = segment_scores(surveyed, by="rfm_segment", score="ltr", metric="nps",
                                    weight=weight, adjust=method, min_base=MIN_BASE)
                rs_t = _seg_table(rs, "rfm_segment", "nps").set_index("rfm_segment")
                dist["nps"] = dist["segment"].map(rs_t["nps"])
                dist["nps_n"] = dist["segment"].map(rs_t["n"])
                dist["nps_sig"] = dist["segment"].map(rs_t["sig"])
            dist = dist.sort_values("customers", ascending=False)
            blocks.append(h3("RFM 客户分群"))
            top = dist.iloc[0]
            blocks.append(paragraph(f"按截至 {ctx.period} 期末的订单,{len(r):,} 位客户中占比最高的是"
                                    f"{top['segment']}({top['share']:.1f}%)。"))
            cols = {"segment": "RFM 分群", "customers": "客户数", "share": "占比%",
                    "recency": "距上次购买天数(中位数)", "frequency": "平均订单数", "monetary": "平均消费额(元)"}
            if "nps" in dist.columns:
                cols |= {"nps_n": "受访人数", "nps": "NPS", "nps_sig": "与其余客户差异"}
            blocks.append(table(dist, columns=cols,
                                formats={"customers": "int", "share": 1, "recency": 0, "frequency": 1,
                                         "monetary": 0, "nps_n": "int"}))

    # ---- retention / churn by segment
    if "churned" in customers.columns:
        cust = customers.copy()
        if tiers is not None:
            cust = cust.merge(tiers[["customer_id", "value_tier"]], on="customer_id", how="left")
        ret_rows = []
        for key, name in (("customer_type", "客户类型"), ("value_tier", "价值分层")):
            if key in cust.columns:
                rt = retention(cust[cust[key].notna()].assign(**{key: lambda x, k=key: x[k].astype(str)}), by=key)
                rt["dimension"], rt["segment"] = name, rt[key]
                ret_rows.append(_ordered(rt, key))
        total = retention(cust)
        total["dimension"], total["segment"] = "合计", scope_label(ctx)
        ret = pd.concat([*ret_rows, total], ignore_index=True)
        blocks.append(h3("客户留存与流失"))
        blocks.append(paragraph(f"{scope_label(ctx)}客户年度流失率为 {total['churn_rate'].iloc[0]:.1f}%"
                                f"(客户留存率 {total['crr'].iloc[0]:.1f}%)。"))
        blocks.append(table(ret, columns={"dimension": "分群维度", "segment": "分群", "n_start": "客户数",
                                          "n_lost": "流失客户", "churn_rate": "流失率%", "crr": "留存率%"},
                            formats={"n_start": "int", "n_lost": "int", "churn_rate": 1, "crr": 1}))

    # ---- NPS category ↔ churn and spend
    link_block = _nps_link_block(ctx, customers, nps_link, fuse)
    if link_block is not None:
        blocks.append(h3("推荐者真的更忠诚、消费更多吗?"))
        blocks.append(link_block[0])
        findings.append(link_block[1])

    blocks.insert(1, paragraph(("；".join(f for f in findings if f) + "。") if findings else
                               f"{scope_label(ctx)}各客户分群的 NPS 差异见下表。"))
    tests = ("加权估计(调查权重),每个分群与其余受访客户比较采用基于抽样设计的加权均值 t 检验"
             "(线性化方差,同 R survey 包 svyttest;NPS 按 +1/0/−1 计、CSAT 按好评 1/0 计)"
             if weight else
             "每个分群与其余受访客户比较(NPS 两独立样本检验、CSAT 两比例 z 检验)")
    adj = (f"p 值经{METHOD_CN[method]}" if method != "none" else "p 值未做多重比较校正")
    blocks.append(note(f"分群 NPS/CSAT:{tests},{adj}(表中并列未校正与校正后 p 值),"
                       "校正后 p < 0.05 为显著;样本量(未加权)少于 30 不予报告、少于 100 标注“基数小”"
                       + (";有效样本量为 Kish 有效样本量" if weight else "") + "。"
                       f"价值分层按 CRM 价值分(0–100)固定切分:低 < {VALUE_CUTS[0]:g} ≤ 中 < {VALUE_CUTS[1]:g} ≤ 高。"
                       "RFM:最近购买、购买频次、消费金额按五分位打分,高于平均为“高”,组合为八类客户"
                       + (",分群 NPS 为加权估计" if weight else "") + "。"
                       "流失率取 CRM 流失标记(最近一次调研后 12 个月内流失)。"))
    return join(*blocks)


def _nps_link_block(ctx: ReportContext, customers: pd.DataFrame, nps_link, fuse):
    """Churn and spend after the survey by NPS category (each customer's last survey)."""
    ltr = nps_col(ctx)
    if "churned" not in customers.columns or ltr is None:
        return None
    allr = ctx.responses.rename(columns={ltr: "ltr"}) if ltr != "ltr" else ctx.responses
    fused = fuse(allr, customers, columns=["churned"]).data
    fused = fused[fused["crm_matched"]]
    if fused.empty:
        return None
    orders = ctx.table("orders")
    orders = orders if len(orders) and {"customer_id", "order_date", "amount"} <= set(orders.columns) else None
    w = ctx.weight
    res = nps_link(fused, orders, window_days=365, weight=w)
    t = res.table.copy()
    t["category_cn"] = t["category"].map(CATEGORY_CN)
    t["base"] = [BASE_CN[("suppress" if v < MIN_BASE else "caution" if v < CAUTION_BASE else "ok")] for v in t["n"]]
    for c in ("churn_rate", "mean_spend", "median_spend"):
        t.loc[t["n"] < MIN_BASE, c] = np.nan
    tests = res.tests.copy()
    test_cn = {"chi-square (Pearson)": "卡方检验",
               "chi-square (Pearson, simulated p)": "卡方检验(期望频数小,p 值由随机表模拟)",
               "not tested (sparse table)": "期望频数过小,未做检验",
               "two-proportion z": "两比例 z 检验",
               "Welch t": "Welch t 检验", "Mann-Whitney U": "Mann–Whitney U 检验",
               "Rao-Scott F (svychisq)": "Rao–Scott 校正卡方检验(F)",
               "design t (svyttest)": "基于抽样设计的加权 t 检验",
               "design Wilcoxon (svyranktest)": "基于抽样设计的加权秩和检验"}
    rank_test = "design Wilcoxon (svyranktest)" if w else "Mann-Whitney U"
    outcome_cn = {"churn": "流失", "spend": "消费额"}
    comp_cn = {"category × churn": "三类客户 × 是否流失", "detractor vs promoter": "贬损者 vs 推荐者"}
    tests["test_cn"] = tests["test"].map(lambda v: test_cn.get(v, v))
    tests["outcome_cn"] = tests["outcome"].map(lambda v: outcome_cn.get(v, v))
    tests["comp_cn"] = tests["comparison"].map(lambda v: comp_cn.get(v, v))
    by = t.set_index("category")
    pro, det = by.loc["promoter"], by.loc["detractor"]
    if min(pro["n"], det["n"]) < MIN_BASE:
        text = "推荐者或贬损者人数少于 30,流失与消费的对比不予报告。"
    else:
        churn_p = tests[(tests["outcome"] == "churn") & (tests["comparison"] == "detractor vs promoter")]["pvalue"]
        text = (f"推荐者的年度流失率为 {pro['churn_rate']:.1f}%,贬损者为 {det['churn_rate']:.1f}%"
                + (f"({p_text(churn_p.iloc[0])})" if len(churn_p) else "") + "")
        spend_p = tests[(tests["outcome"] == "spend") & (tests["test"] == rank_test)]["pvalue"]
        if orders is not None and not pd.isna(pro["mean_spend"]):
            sig = len(spend_p) and spend_p.iloc[0] < ALPHA
            text += (f";调研后 12 个月内推荐者人均消费 {pro['mean_spend']:,.0f} 元,贬损者 {det['mean_spend']:,.0f} 元"
                     + (f"({p_text(spend_p.iloc[0])})" if len(spend_p) else "")
                     + (",推荐者确实更忠诚、消费更多" if sig and pro["mean_spend"] > det["mean_spend"]
                        and pro["churn_rate"] < det["churn_rate"] else ""))
    html = join(
        paragraph(text + "。"),
        table(t, columns={"category_cn": "NPS 类别", "n": "客户数(未加权)" if w else "客户数",
                          **({"weighted_n": "加权客户数"} if w else {}),
                          "churned": "流失客户(未加权)" if w else "流失客户",
                          "churn_rate": "流失率%(加权)" if w else "流失率%",
                          "mean_spend": "人均消费(元,加权)" if w else "人均消费(元)",
                          "median_spend": "消费中位数(元,加权)" if w else "消费中位数(元)",
                          "base": "提示"},
              formats={"n": "int", "weighted_n": 1, "churned": "int", "churn_rate": 1,
                       "mean_spend": 0, "median_spend": 0}),
        table(tests, columns={"outcome_cn": "结果", "comp_cn": "比较", "test_cn": "检验", "statistic": "统计量",
                              "pvalue": "p 值"},
              formats={"statistic": 2, "pvalue": pcell}, caption="显著性检验"),
        note("每位客户取截至本期的最近一次调研;消费为调研后 365 天内的订单金额(不足一年的近期调研,"
             "消费观察期较短);消费分布偏态,以"
             + ("基于抽样设计的加权秩和检验(同 R survey 包 svyranktest)为准。"
                "流失率、人均消费与中位数按该次调研的调查权重加权,客户数与流失客户为未加权人数;"
                "检验为基于抽样设计的检验(Rao–Scott 校正卡方、svyttest、svyranktest),"
                "两两比较的统计量为贬损者减推荐者方向的 t 值。" if w else "Mann–Whitney U 检验为准。")),
    )
    return html, text
