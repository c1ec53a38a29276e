"""Report sections for any questionnaire, with or without NPS: the item summary (means and
top-box shares of the rating items, with 95 % intervals) and crosstabs of the single-choice
questions by branch, in the codebook's category order.

Questionnaires without a recommend question (e.g. a 问卷星 survey of profile and rating
questions) get these instead of the NPS sections (see :mod:`cxlab.report._layout`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab.metrics._crosstab import SIMULATED_TABLES
from cxlab.report._aggregates import rating_items
from cxlab.report._base import MIN_BASE, scale_text, scope_label
from cxlab.report._base import base_note as _base_note
from cxlab.report._context import ReportContext
from cxlab.report.tables import Html, join, note, paragraph, table

__all__ = ["choice_items", "crosstabs", "item_summary", "item_table"]

BASE_CN = {"suppress": "样本不足", "caution": "基数小", "ok": ""}


def _summary_items(ctx: ReportContext) -> list[str]:
    """Rating items of the codebook that the responses hold and whose scale is integral."""
    cb = ctx.codebook
    out = []
    for item in rating_items(cb):
        sc = cb.scale_of(item)
        if item in ctx.responses.columns and sc.shown_order() is not None:
            out.append(item)
    return out


def item_table(ctx: ReportContext, data: pd.DataFrame,
               weight: str | None = None) -> pd.DataFrame:
    """Per rating item: ``item, label, scale, n, mean, mean_low, mean_high, top, top_low,
    top_high, base_flag`` (top = % in the top box of the item's scale; intervals 95 %: t for the
    mean, Wilson for the share), in codebook order.

    Built on :func:`cxlab.metrics.item_summary` (distribution, mean) per group of items sharing a
    scale; codes are shifted to 1…k for it when a scale starts elsewhere. With ``weight`` (the
    report's survey weights) means and shares are weighted with design-based 95 % intervals
    (:func:`cxlab.metrics.weighted_mean`, t; :func:`cxlab.metrics.weighted_proportion`,
    logit, as R ``svymean``/``svyciprop``), ``n`` stays the unweighted count and ``n_eff``
    (Kish) is added.
    """
    from scipy import stats

    from cxlab.metrics import item_summary, wilson_interval

    cb = ctx.codebook
    items = _summary_items(ctx)
    cols = ["item", "label", "scale", "n", "mean", "mean_low", "mean_high", "top", "top_low",
            "top_high", "base_flag"]
    if not items or data.empty:
        return pd.DataFrame(columns=cols)
    labels = cb.labels()
    frames = []
    for name in dict.fromkeys(cb.item(i).scale for i in items):
        group = [i for i in items if cb.item(i).scale == name]
        sc = cb.scales[name]
        lo, hi = float(sc.lo), float(sc.hi)
        k = int(hi - lo + 1)
        shifted = data[group].apply(pd.to_numeric, errors="coerce")
        if lo != 1:  # item_summary reads codes 1..k
            shifted = shifted - lo + 1
        # item_summary(codebook=/order=) from the metrics helper would keep codebook order
        # itself; the items are passed in codebook order here, which it keeps.
        res = item_summary(shifted, items=group, scale=k, labels=labels)
        if lo != 1:
            res["mean"] = res["mean"] + lo - 1
        thr = sc.top_threshold - lo + 1
        res["top"] = [100.0 * float((shifted[i].dropna() >= thr).mean()) if n else np.nan
                      for i, n in zip(group, res["n"], strict=True)]
        res["scale"] = name
        frames.append(res)
    res = pd.concat(frames, ignore_index=True).set_index("item").loc[items].reset_index()
    if weight is not None:
        return _weighted_items(ctx, data, res, items, weight)[cols + ["n_eff"]]
    lows, highs, tlo, thi = [], [], [], []
    for item, n, top in zip(res["item"], res["n"], res["top"], strict=True):
        x = pd.to_numeric(data[item], errors="coerce").dropna().to_numpy(dtype=float)
        if n >= 2:
            lo_, hi_ = stats.t.interval(0.95, n - 1, loc=x.mean(), scale=stats.sem(x)) \
                if x.std() > 0 else (x.mean(), x.mean())
        else:
            lo_, hi_ = np.nan, np.nan
        lows.append(lo_)
        highs.append(hi_)
        a, b = wilson_interval(top / 100.0, n) if n else (np.nan, np.nan)
        tlo.append(100 * a)
        thi.append(100 * b)
    res["mean_low"], res["mean_high"], res["top_low"], res["top_high"] = lows, highs, tlo, thi
    return res[cols]


def _weighted_items(ctx: ReportContext, data: pd.DataFrame, res: pd.DataFrame,
                    items: list[str], weight: str) -> pd.DataFrame:
    """``res`` with weighted means, top-box shares and their design-based intervals."""
    from cxlab.metrics import weighted_mean, weighted_proportion

    res = res.copy()
    for c in ("mean", "mean_low", "mean_high", "top", "top_low", "top_high", "n_eff"):
        res[c] = np.nan
    for i, item in enumerate(items):
        sc = ctx.codebook.scale_of(item)
        x = pd.to_numeric(data[item], errors="coerce")
        d = pd.DataFrame({"x": x, "top": np.where(x.isna(), np.nan, (x >= sc.top_threshold) * 1.0),
                          "w": data[weight].to_numpy(dtype=float)}).dropna(subset=["x"])
        if d.empty:
            continue
        m = weighted_mean(d, column="x", weight="w").iloc[0]
        t = weighted_proportion(d, column="top", weight="w").iloc[0]
        res.loc[i, ["mean", "mean_low", "mean_high", "n_eff"]] = (m["mean"], m["ci_low"],
                                                                  m["ci_high"], m["n_eff"])
        res.loc[i, ["top", "top_low", "top_high"]] = (100 * t["proportion"], 100 * t["ci_low"],
                                                      100 * t["ci_high"])
    return res


def _company_items(ctx: ReportContext) -> pd.DataFrame:
    """Company means and top-box shares of the rating items, pooled from the aggregates
    (weighted in a weighted report, see :func:`cxlab.report._aggregates.pooled_items`)."""
    from cxlab.report._aggregates import pooled_items

    agg = ctx.aggregates[ctx.aggregates["period"].astype(str) == ctx.period]
    p = pooled_items(agg, _summary_items(ctx), weighted=ctx.weighted)
    p = p[p["x_base"] > 0]
    return p.rename(columns={"mean": "company_mean", "top": "company_top"})[
        ["item", "company_mean", "company_top", "weighted"]]


def _company_weighting(ctx: ReportContext, comp: pd.DataFrame | None) -> str:
    """How the company figures beside a weighted branch were pooled, for the footnote."""
    if not ctx.weighted:
        return ""
    if comp is not None and len(comp) and comp["weighted"].all():
        return "(加权:按各机构的权重和合并其加权均值与加权好评率)"
    return "(未加权)"


def item_summary(ctx: ReportContext) -> Html:
    """Means and top-box shares of every rating item (95 % intervals); a branch report adds the
    company's values from the aggregates and the gap."""
    items = _summary_items(ctx)
    if not items:
        return Html("")
    cur = ctx.current
    t = item_table(ctx, cur, weight=ctx.weight)
    if t.empty or t["n"].max() == 0:
        return Html("")
    n_max = int(t["n"].max())
    if n_max < MIN_BASE:
        return _base_note(n_max, "评价项目")
    t["base_cn"] = t["base_flag"].map(BASE_CN).fillna("")
    hide = t["n"] < MIN_BASE
    t.loc[hide, ["mean", "mean_low", "mean_high", "top", "top_low", "top_high"]] = np.nan
    t["mean_ci"] = [("—" if pd.isna(a) else f"{a:.2f}~{b:.2f}")
                    for a, b in zip(t["mean_low"], t["mean_high"], strict=True)]
    t["top_ci"] = [("—" if pd.isna(a) else f"{a:.1f}~{b:.1f}")
                   for a, b in zip(t["top_low"], t["top_high"], strict=True)]
    ok = t[~hide].sort_values("top", ascending=False, kind="stable")
    text = f"{scope_label(ctx)}本期共 {len(t)} 个评价项目"
    if len(ok) >= 2:
        best, worst = ok.iloc[0], ok.iloc[-1]
        text += (f",好评率最高的是“{best['label']}”({best['top']:.1f}%),"
                 f"最低的是“{worst['label']}”({worst['top']:.1f}%)。")
    else:
        text += "。"
    columns = {"label": "评价项目", "n": "回答数"}
    if ctx.weighted:  # the effective n beside the unweighted base
        columns = {"label": "评价项目", "n": "回答数(未加权)", "n_eff": "有效样本量"}
        t.loc[hide, "n_eff"] = np.nan
    columns |= {"mean": "均值", "mean_ci": "均值 95% 区间", "top": "好评率%",
                "top_ci": "好评率 95% 区间"}
    formats = {"n": "int", "n_eff": 1, "mean": 2, "top": 1}
    classes = {}
    comp = None
    if not ctx.is_company:
        comp = _company_items(ctx)
        if len(comp):
            t = t.merge(comp, on="item", how="left")
            t["gap"] = t["mean"] - t["company_mean"]
            columns |= {"company_mean": "全公司均值", "company_top": "全公司好评率%", "gap": "均值差距"}
            formats |= {"company_mean": 2, "company_top": 1, "gap": 2}
            classes["gap"] = lambda v: "cx-bad" if not pd.isna(v) and v < -0.1 else (
                "cx-good" if not pd.isna(v) and v > 0.1 else None)
    columns["base_cn"] = "提示"
    tops = {}
    for item in items:
        sc = ctx.codebook.scale_of(item)
        names = [sc.codes[int(c)] for c in sorted(sc.top_codes)] if sc.codes else \
            [f"{min(sc.top_codes):g}–{max(sc.top_codes):g} 分"]
        tops.setdefault("/".join(names), None)
    return join(
        paragraph(text),
        table(t, columns=columns, formats=formats, classes=classes),
        note(f"评分:{scale_text(ctx, items)}。好评率为最好的几档答案({'；'.join(tops)})的占比。"
             + ("均值与好评率为加权估计(调查权重);均值区间为线性化标准误的 t 分布 95% 置信区间,"
                "好评率区间为 logit 变换的 95% 置信区间(同 R survey 包 svymean/svyciprop);"
                "有效样本量为 Kish 有效样本量;"
                if ctx.weighted else
                "均值区间为 t 分布 95% 置信区间,好评率区间为 Wilson 95% 置信区间;")
             + f"回答数(未加权)少于 {MIN_BASE} 的项目不予报告"
             + (";全公司数值来自各机构汇总数据" + _company_weighting(ctx, comp) + "。"
                if not ctx.is_company else "。")),
    )


# --------------------------------------------------------------------------- crosstabs
def choice_items(ctx: ReportContext, *, kinds: tuple[str, ...] = ("category",)) -> list[str]:
    """Choice questions the responses hold, in codebook order: single-choice (category scales)
    by default, ``kinds=("multi",)`` for multi-select ones."""
    cb = ctx.codebook
    return [i.id for i in cb.items if cb.scales[i.scale].kind in kinds
            and i.role in ("dimension", "measure") and i.id in ctx.responses.columns]


def _one_multi(ctx: ReportContext, data: pd.DataFrame, item: str, branches: list[str]) -> Html:
    """Share of respondents choosing each option of a multi-select question (options in codebook
    order; written-in 其他〖…〗 answers count for 其他), by branch when there are several."""
    from cxlab.ops import channel_preference

    label = ctx.codebook.item(item).label
    try:
        tot = channel_preference(data, column=item, codebook=ctx.codebook, weight=ctx.weight)
    except ValueError as exc:  # an answer outside the codebook's options
        return note(f"{label}:含问卷选项以外的回答,未汇总({exc})。")
    if tot.empty or int(tot["n_respondents"].iloc[0]) == 0:
        return Html("")
    n = int(tot["n_respondents"].iloc[0])
    wide = tot[["channel", "n_selected", "pct"]].copy()
    columns = {"channel": "选项", "n_selected": "选择人数(未加权)" if ctx.weighted else "选择人数",
               "pct": "选择比例%(加权)" if ctx.weighted else "选择比例%"}
    formats: dict = {"n_selected": "int", "pct": 1}
    if len(branches) >= 2:
        sub = data[data["branch"].astype(str).isin(branches)]
        byb = channel_preference(sub, column=item, codebook=ctx.codebook, by="branch",
                                 weight=ctx.weight)
        for b in sorted(branches):
            vals = byb[byb["branch"].astype(str) == b].set_index("channel")["pct"]
            wide[f"b_{b}"] = wide["channel"].map(vals)
            columns[f"b_{b}"] = f"{ctx.branch_name(b)} %"
            formats[f"b_{b}"] = 1
    caption = f"{label}(多选,n = {n:,})"
    if ctx.weighted:
        caption = f"{label}(多选,未加权 n = {n:,},加权 n = {float(tot['weighted_n'].iloc[0]):,.1f})"
    return table(wide, columns=columns, formats=formats, caption=caption)


def _order(ctx: ReportContext, item: str, values) -> list:
    """Answer categories in the codebook's option order, others (written-in answers) after."""
    opts = list(ctx.codebook.scale_of(item).options or [])
    seen = [v for v in dict.fromkeys(values) if not pd.isna(v)]
    return [o for o in opts if o in seen] + sorted((v for v in seen if v not in opts), key=str)


def _one_crosstab(ctx: ReportContext, data: pd.DataFrame, item: str, branches: list[str]) -> Html:
    from cxlab.io import option_name
    from cxlab.metrics import crosstab, crosstab_overall

    label = ctx.codebook.item(item).label
    w = ctx.weight
    d = data[[item, "branch", *([w] if w else [])]].dropna(subset=[item, "branch"])
    # a written-in 其他【请注明】〖…〗 counts for its option: the free text is a verbatim, never a row
    d = d.assign(**{item: d[item].astype(str).map(option_name)})
    total = d[item].value_counts()
    wts = d[w].to_numpy(dtype=float) if w else np.ones(len(d))
    wtotal = pd.Series(wts, index=d.index).groupby(d[item]).sum()
    order = _order(ctx, item, d[item])
    wide = pd.DataFrame({"answer": order})
    wide["total_n"] = [int(total.get(a, 0)) for a in order]
    wide["total_pct"] = [100.0 * float(wtotal.get(a, 0.0)) / max(float(wts.sum()), 1e-300)
                         for a in order]
    columns = {"answer": "选项", "total_n": "人数(未加权)" if w else "人数",
               "total_pct": "合计%(加权)" if w else "合计%"}
    formats: dict = {"total_n": "int", "total_pct": 1}
    n = int(total.sum())
    if w:  # weighted base and Kish effective n beside the unweighted base
        caption = (f"{label}(未加权 n = {n:,},加权 n = {wts.sum():,.1f},"
                   f"有效 n = {wts.sum() ** 2 / (wts ** 2).sum():,.1f})")
    else:
        caption = f"{label}(n = {n:,})"
    if len(branches) >= 2:
        sub = d[d["branch"].isin(branches)].assign(branch=lambda x: x["branch"].astype(str))
        # crosstab(order=/codebook=) from the metrics helper would order the rows itself;
        # here its long result is reordered with the codebook's options
        from cxlab.report._inference import comparison_method

        method = comparison_method(ctx.params_dir)
        ct = crosstab(sub, row=item, col="branch", weight=w,
                      adjust=None if method == "none" else method)
        for b in sorted(branches):
            part = ct[ct["col"] == b].set_index("row")
            if part.empty:
                continue
            letter = part["letter"].iloc[0]
            key = f"b_{b}"
            cells = []
            for a in order:
                if a in part.index:
                    r = part.loc[a]
                    cells.append(f"{r['pct']:.1f}" + (f" <sup>{r['sig']}</sup>" if r["sig"] else ""))
                else:
                    cells.append("—")
            wide[key] = cells
            small = not bool(part["tested"].iloc[0])  # under the minimum base for this item
            columns[key] = f"{ctx.branch_name(b)} ({letter}) %" + ("†" if small else "")
            formats[key] = lambda v: v  # trusted: numbers and letters built above
        tested = sorted(set(ct.loc[ct["tested"], "col"]))
        sub = sub[sub["branch"].isin(tested)]
        if sub[item].nunique() >= 2 and sub["branch"].nunique() >= 2:
            ov = crosstab_overall(sub, row=item, col="branch", weight=w,
                                  simulate=None if w else SIMULATED_TABLES, rng=0)
            if ov.sparse and w:  # no design-based test for sparse tables: withheld
                caption += (f";机构间差异总体检验未做(期望频数小于 5 的格子占 "
                            f"{100 * ov.small_expected:.0f}%,卡方近似不可靠)")
            else:
                test = ("Rao–Scott 校正卡方" if w else
                        f"Pearson 卡方,期望频数小于 5 的格子占 {100 * ov.small_expected:.0f}%,"
                        f"p 值由 {SIMULATED_TABLES} 次固定边际的随机表模拟" if ov.sparse else
                        "Pearson 卡方")
                caption += f";机构间差异总体检验({test}):p {_p(ov.pvalue)}"
    return table(wide, columns=columns, formats=formats, caption=caption)


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"= {p:.3f}"


def crosstabs(ctx: ReportContext) -> Html:
    """Answers to every single-choice question: the scope's distribution and, in the company
    report, column percentages by branch with significance letters; then the multi-select
    questions (share of respondents choosing each option)."""
    items = choice_items(ctx)
    cur = ctx.current
    if not (items or choice_items(ctx, kinds=("multi",))) or cur.empty:
        return Html("")
    n = len(cur)
    if n < MIN_BASE:
        return _base_note(n, "选择题")
    branches: list[str] = []
    small: list[str] = []
    if ctx.is_company and "branch" in cur.columns:
        sizes = cur.groupby(cur["branch"].astype(str)).size()
        branches = [b for b in ctx.org.branch_codes if sizes.get(b, 0) >= MIN_BASE]
        small = [b for b in ctx.org.branch_codes if 0 < sizes.get(b, 0) < MIN_BASE]
    blocks = [_base_note(n, "选择题")]
    for item in items:
        if cur[item].notna().sum() == 0:
            continue
        blocks.append(_one_crosstab(ctx, cur, item, branches))
    multi = [i for i in choice_items(ctx, kinds=("multi",)) if cur[i].notna().any()]
    for item in multi:
        blocks.append(_one_multi(ctx, cur, item, branches))
    if len(blocks) == 1:
        return Html("")
    text = "各选项占回答人数的百分比,按问卷中的选项顺序排列。"
    if multi:
        text += "多选题各选项比例之和可超过 100%。"
    if len(branches) >= 2:
        from cxlab.metrics._column_tests import METHOD_CN as TEST_CN
        from cxlab.report._inference import METHOD_CN, comparison_method

        method = comparison_method(ctx.params_dir)
        how = (f"{TEST_CN['design']};某两列未加权计数的 2×2 表有期望频数小于 5 时不做检验"
               "(加权数据的小格不做检验,不标字母)" if ctx.weighted else
               f"{TEST_CN['z']},某两列的 2×2 表有期望频数小于 5 时改用 {TEST_CN['fisher']}")
        adj = (f"每张表的两两比较经{METHOD_CN[method]}" if method != "none"
               else "未做多重比较校正")
        text += ("各分支机构列为列百分比;字母表示该格显著高于对应字母的机构"
                 f"(双侧,α = 0.05;{how};{adj})。标 † 的机构该题回答数少于 {MIN_BASE},"
                 "不标注字母,也不被其他机构标注,不计入总体检验。")
        text += ("机构间差异的总体检验为 Rao–Scott 二阶校正卡方检验(同 R survey 包 svychisq);"
                 if ctx.weighted else "机构间差异的总体检验为 Pearson 卡方检验;")
        text += ("期望频数小于 5 的格子超过 20% 或有格子期望频数小于 1 时(Cochran 准则),"
                 + ("卡方近似不可靠,不做总体检验。" if ctx.weighted else
                    f"p 值改由 {SIMULATED_TABLES} 张与实际边际相同的随机表模拟得到"
                    "(同 R chisq.test(simulate.p.value = TRUE))。"))
    if ctx.weighted:
        text += "百分比为加权估计(调查权重),人数为未加权人数。"
    if small:
        text += (f"{'、'.join(ctx.branch_name(b) for b in small)}样本量少于 {MIN_BASE},"
                 "只计入合计,不单独列出。")
    blocks.append(note(text))
    return join(*blocks)
