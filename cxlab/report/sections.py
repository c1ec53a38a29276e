"""Report sections: one call per notebook cell, each returning displayable HTML.

Notebook templates hold narrative and calls such as ``sections.kpi_dashboard(ctx)``; the work
(statistics, tables, figures, flags) happens here, on top of the analytics modules. Results on
small bases are flagged (n < 30 suppressed, n < 100 caution), never reported as facts.
"""

from __future__ import annotations

import hashlib
from html import escape

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cxlab.report._base import (  # noqa: F401 - sections.CAUTION_BASE
    ALPHA,
    CAUTION_BASE,
    MIN_BASE,
    ces_col,
    cn_number,
    csat_col,
    csat_result,
    nps_col,
    outcome_names,
    scale_text,
    top_names,
)
from cxlab.report._base import base_note as _base_note
from cxlab.report._base import scope_label as _scope_label
from cxlab.report._base import target as _target
from cxlab.report._base import weighting_note as _weighting_note
from cxlab.report._context import ReportContext
from cxlab.report._inference import is_weighted
from cxlab.report.tables import (
    Html,
    bullets,
    cards,
    figure,
    fmt_num,
    join,
    note,
    p_text,
    paragraph,
    table,
)

__all__ = [
    "ab_tests", "alerts", "audits", "body", "branch_comparison", "crosstabs", "drivers", "ipa",
    "item_summary", "journey", "kano",
    "kpi_dashboard", "league_table", "operations_kpis", "price_channel", "provenance",
    "scorecard", "segments", "service_levels", "setup", "summary", "title", "trend", "voice",
]

#: Bootstrap replicates behind the driver-share intervals in reports (~20 ms each, 17 drivers).
DRIVER_BOOTSTRAP = 100
_OP = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def setup() -> None:
    """Figure style with a CJK font; call once in the first cell."""
    import matplotlib

    matplotlib.use("Agg")
    from cxlab.plots import set_style

    set_style()


# --------------------------------------------------------------------------- helpers
def _status_class(status: str) -> str | None:
    return {"未达标": "cx-flag-missed", "达标": "cx-flag-met"}.get(status)


def _nps_from_counts(agg: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """NPS with CIs per row of aggregated counts (NPS depends only on the three counts)."""
    from cxlab.metrics import nps, scores_from_counts

    frames = [scores_from_counts(r["promoters"], r["passives"], r["detractors"]).assign(
              **{c: r[c] for c in by}) for _, r in agg.iterrows() if r["n"]]
    return nps(pd.concat(frames, ignore_index=True), score="ltr", by=by)


def _company_counts(ctx: ReportContext) -> pd.DataFrame:
    agg = ctx.aggregates
    agg = agg[agg["period"].isin(ctx.periods)]
    cols = [c for c in ("n", "promoters", "passives", "detractors", "csat_n", "csat_top2")
            if c in agg.columns]
    return agg.groupby("period", as_index=False)[cols].sum()


def _labels(ctx: ReportContext) -> dict[str, str]:
    return ctx.codebook.labels()


def _and(names: list[str]) -> str:
    """满意及非常满意; 比较满意、满意及非常满意."""
    return "及".join(names) if len(names) <= 2 else "、".join(names[:-1]) + "及" + names[-1]


def _goal(kpi, unit: str = "") -> str:
    return f"(目标 {_OP[kpi.op]} {kpi.target:g}{unit})" if kpi is not None else ""


# --------------------------------------------------------------------------- sections
def title(ctx: ReportContext) -> Html:
    """Report heading with scope, period and base, and the links up and down the organisation
    (:func:`cxlab.report._nav.nav`)."""
    kind = "客户体验调研报告" if ctx.is_company else "分支机构客户体验调研报告"
    n = len(ctx.current)
    region = "" if ctx.is_company or ctx.org.region_of(ctx.branch) is None else f"({ctx.org.region_name(ctx.branch)})"
    sub = (f"报告期:{ctx.period} · 有效样本 {n:,} 份 · 对比期:{ctx.previous or '无'}"
           f" · 数据范围:{_scope_label(ctx)}{region}")
    from cxlab.report._nav import nav

    return (Html(f"<h1>{escape(ctx.scope_name)} {escape(ctx.period)} {kind}</h1>") + note(sub)
            + nav(ctx.org, ctx.branch))


def _headline(ctx: ReportContext) -> dict:
    """Current and previous NPS/CSAT for the scope, with the tests between them.

    ``n`` is the base of the headline: answers to the NPS item, else to the CSAT item, else
    responses. ``nps``/``csat`` are left out when the codebook has no such item.
    """
    from cxlab.metrics import nps, nps_test, two_proportion_test

    cur = ctx.current
    prev = ctx.responses[ctx.responses["period"] == ctx.previous] if ctx.previous else None
    ltr, cs = nps_col(ctx), csat_col(ctx)
    w = ctx.weight
    base_col = ltr or cs
    out: dict = {"n": int(cur[base_col].notna().sum()) if base_col else len(cur),
                 "weighted": bool(w)}
    if out["n"] == 0:
        return out
    if ltr is not None:
        out["nps"] = nps(cur, score=ltr, weight=w).iloc[0]
    if cs is not None:
        out["csat"] = csat_result(cur, ctx, weight=w).iloc[0] if cur[cs].notna().any() else None
    if prev is None:
        return out
    from cxlab.ops._repeat import change_test, repeat_customers

    out["repeat"] = repeat_customers(cur, prev)
    out["has_ids"] = "customer_id" in cur.columns and cur["customer_id"].notna().any()
    if ltr is not None and prev[ltr].notna().sum() >= MIN_BASE and out["n"] >= MIN_BASE:
        out["nps_prev"] = nps(prev, score=ltr, weight=w).iloc[0]
        out["nps_test"] = (change_test(cur, prev, metric="nps", score=ltr, codebook=ctx.codebook,
                                       weight=w)
                           or (_design_test(out["nps"], out["nps_prev"], "nps") if w
                               else nps_test(cur, prev, score=ltr)))
    if cs is not None and out.get("csat") is not None and prev[cs].notna().sum() >= MIN_BASE \
            and int(cur[cs].notna().sum()) >= MIN_BASE:
        pc = csat_result(prev, ctx, weight=w).iloc[0]
        out["csat_prev"] = pc
        c = out["csat"]
        paired = change_test(cur, prev, metric="csat", score=cs, codebook=ctx.codebook, weight=w,
                             top=ctx.codebook.scale_of(cs).top_threshold)
        if paired is not None:
            out["csat_test"] = paired
        elif w:
            out["csat_test"] = _design_test(c, pc, "csat")
        else:
            k1, k2 = round(c["csat"] * c["n"] / 100), round(pc["csat"] * pc["n"] / 100)
            out["csat_test"] = two_proportion_test(k1, int(c["n"]), k2, int(pc["n"]))
    return out


def _design_test(cur, prev, col: str):
    """Two-sided z-test of the difference of two weighted estimates of independent periods,
    with their linearised (design-based) standard errors: z = diff / sqrt(se1² + se2²)
    (:func:`cxlab.ops._status.design_z_test`)."""
    from cxlab.ops._status import design_z_test

    return design_z_test(cur[col], cur["se"], prev[col], prev["se"])


def change_note(h: dict) -> str:
    """The footnote sentence naming the test behind the summary's NPS/CSAT 环比 p-values."""
    from cxlab.metrics._overlap import OVERLAP_METHOD
    from cxlab.ops._repeat import OVERLAP_CN

    tests = [h[k] for k in ("nps_test", "csat_test") if k in h]
    if not tests:
        return ""
    if any(t.method.startswith(OVERLAP_METHOD) for t in tests):
        return (f"环比检验(双侧,α = {ALPHA:g}):本期与上期有 {h['repeat']:,} 位客户两期都作答,"
                f"两期样本并不独立,故采用{OVERLAP_CN}。")
    why = "两期样本没有重复作答的客户" if h.get("has_ids") else "数据没有客户编号,无法识别重复作答的客户"
    used = ",".join(name for key, name in (("nps_test", "NPS 用调整 Wald z 检验"),
                                            ("csat_test", "CSAT 用两比例 z 检验")) if key in h)
    return (f"环比检验(双侧,α = {ALPHA:g}):{why},按两独立样本检验"
            f"({used}"
            + (";加权时用两期线性化标准误的 z 检验" if h.get("weighted") else "") + ")。")


def _change_text(diff: float, p: float, unit: str) -> str:
    direction = "上升" if diff > 0 else "下降" if diff < 0 else "持平"
    sig = "差异显著" if p < ALPHA else "差异不显著"
    return f"较上期{direction} {abs(diff):.1f}{unit}({p_text(p)},{sig})"


def _met_text(kpi, value: float, unit: str = "", ci: tuple[float, float] | None = None) -> str:
    """达到目标值 40 / 显著低于目标值 40 / 低于目标值 40,但在抽样误差内 (with the 95 % interval)."""
    if kpi is None:
        return ""
    if kpi.met(value):
        return f"达到目标值 {kpi.target:g}{unit}"
    if ci is None:
        return f"未达到目标值 {kpi.target:g}{unit}"
    from cxlab.ops import target_status
    from cxlab.ops._status import SIG_MISS

    if target_status(value, ci[0], ci[1], target=kpi.target, op=kpi.op).startswith("显著"):
        return f"{SIG_MISS}值 {kpi.target:g}{unit}"
    return f"未达到目标值 {kpi.target:g}{unit},但差距在抽样误差内"


def summary(ctx: ReportContext) -> Html:
    """Key findings in a few sentences (the manager's one-minute read)."""
    h = _headline(ctx)
    if h["n"] < MIN_BASE:
        return _base_note(h["n"], "本期") or Html("")
    nps_t, csat_t = _target(ctx, "nps"), _target(ctx, "csat")
    items = []
    if "nps" in h:
        nv = h["nps"]["nps"]
        line = f"本期净推荐值(NPS)为 {nv:.1f}(95% 置信区间 {h['nps']['ci_low']:.1f}~{h['nps']['ci_high']:.1f})"
        if nps_t is not None:
            line += "," + _met_text(nps_t, nv, ci=(h["nps"]["ci_low"], h["nps"]["ci_high"]))
        if "nps_test" in h:  # observed change; the p-value from the (adjusted-Wald) test
            line += "," + _change_text(nv - h["nps_prev"]["nps"], h["nps_test"].pvalue, " 分")
        items.append(line + "。")
    if h.get("csat") is not None and int(h["csat"]["n"]) < MIN_BASE:
        items.append(f"客户满意度(CSAT)本期只有 {int(h['csat']['n'])} 人作答,"
                     f"少于 {MIN_BASE},不予报告。")
    elif h.get("csat") is not None:
        cv = h["csat"]["csat"]
        line = (f"客户满意度(CSAT,{_and(top_names(ctx, csat_col(ctx)))}"
                f"占比)为 {cv:.1f}%")
        if csat_t is not None:
            line += "," + _met_text(csat_t, cv, "%",
                                    ci=(h["csat"]["ci_low"], h["csat"]["ci_high"]))
        if "csat_test" in h:
            line += "," + _change_text(cv - h["csat_prev"]["csat"], h["csat_test"].pvalue,
                                       " 个百分点")
        items.append(line + "。")
    if "nps" not in h and h.get("csat") is None:
        line = _items_headline(ctx)
        if line:
            items.append(line)
    if ctx.is_company and "nps" in h:
        lt = _league(ctx)
        bad = lt[lt["needs_action"]]
        if len(bad):
            names = "、".join(bad["branch_name"])
            items.append(f"需整改的分支机构:{names}(显著低于目标或显著下滑)。")
    if not items:
        return Html("")
    base = _base_note(h["n"], "本期")
    how = change_note(h)
    return join(base, bullets(items), note(how) if how else None)


def _items_headline(ctx: ReportContext) -> str | None:
    """The summary sentence of a questionnaire without NPS and CSAT: best and worst item."""
    from cxlab.report._sections_items import item_table

    t = item_table(ctx, ctx.current, weight=ctx.weight)
    t = t[t["n"] >= MIN_BASE] if len(t) else t
    if t.empty:
        return None
    ranked = t.sort_values("top", ascending=False, kind="stable")
    best, worst = ranked.iloc[0], ranked.iloc[-1]
    if len(ranked) == 1:
        return f"本期“{best['label']}”的好评率为 {best['top']:.1f}%。"
    return (f"本期 {len(ranked)} 个评价项目中,好评率最高的是“{best['label']}”({best['top']:.1f}%),"
            f"最低的是“{worst['label']}”({worst['top']:.1f}%)。")


def kpi_dashboard(ctx: ReportContext) -> Html:
    """Headline cards: NPS and CSAT against their targets, CES and the base (each only when the
    codebook has the item).

    The full KPI table with targets, 环比 and significance follows in
    :func:`operations_kpis`.
    """
    h = _headline(ctx)
    if h["n"] < MIN_BASE:
        return _base_note(h["n"], "本期") or Html("")
    nps_t, csat_t = _target(ctx, "nps"), _target(ctx, "csat")
    shown = []
    if "nps" in h:
        nv = h["nps"]["nps"]
        shown.append((f"NPS{_goal(nps_t)}", fmt_num(nv),
                      None if nps_t is None else ("cx-good" if nps_t.met(nv) else "cx-bad")))
    cs = csat_col(ctx)
    if cs is not None:
        cv = h["csat"]["csat"] if h.get("csat") is not None else None
        small = cv is not None and int(h["csat"]["n"]) < MIN_BASE
        cv = None if small else cv  # below the suppression base: no estimate
        shown.append((f"CSAT{_goal(csat_t, '%')}",
                      "样本不足" if small else "—" if cv is None else fmt_num(cv) + "%",
                      None if cv is None or csat_t is None else
                      ("cx-good" if csat_t.met(cv) else "cx-bad")))
    ce = ces_col(ctx)
    if ce is not None:
        from cxlab.metrics import ces

        sc = ctx.codebook.scale_of(ce)
        easy = sorted(sc.top_codes)
        x = pd.to_numeric(ctx.current[ce], errors="coerce")
        r = ces(ctx.current.assign(_ces=x), score="_ces", scale=sc, weight=ctx.weight,
                easy_from=int(easy[0])).iloc[0]
        small = 0 < int(r["n"]) < MIN_BASE  # below the suppression base: no estimate
        shown.append((f"CES 容易占比({easy[0]:g}–{easy[-1]:g} 分)" + ("(加权)" if ctx.weighted else ""),
                      "样本不足" if small else "—" if int(r["n"]) == 0 else f"{r['pct_easy']:.1f}%",
                      None))
    if not shown:
        return Html("")
    shown.append(("样本量(未加权)" if ctx.weighted else "有效样本", f"{h['n']:,}", None))
    if ctx.weighted:
        from cxlab.weighting import design_effect, kish_n_eff

        wts = ctx.current["weight"].to_numpy(dtype=float)
        shown += [("加权样本量", f"{wts.sum():,.1f}", None),
                  ("有效样本量 n_eff", f"{kish_n_eff(wts):,.1f}", None),
                  ("设计效应 deff", f"{design_effect(wts):.3f}", None)]
    return join(_base_note(h["n"], "本期"), cards(shown), _weighting_note(ctx))


def trend(ctx: ReportContext) -> Html:
    """NPS by period with 95 % CIs and the target line, plus the period table."""
    from cxlab.metrics import nps
    from cxlab.plots import trend as trend_plot

    ltr = nps_col(ctx)
    if ltr is None:
        return Html("")
    df = ctx.responses
    res = nps(df, score=ltr, by="period", weight=ctx.weight)
    res = res[res["n"] >= MIN_BASE]
    if res.empty:
        return note("各期样本量均不足,趋势不予报告。")
    fig, ax = plt.subplots(figsize=(7, 3.4))
    nps_t = _target(ctx, "nps")
    trend_plot(res, x="period", ax=ax, target=None if nps_t is None else nps_t.target)
    ax.set_title(f"{_scope_label(ctx)} NPS 趋势{'(加权)' if ctx.weighted else ''}(95% 置信区间)")
    tbl = table(res, columns={"period": "期间", "n": "样本量", "pct_promoters": "推荐者%",
                              "pct_passives": "中立者%", "pct_detractors": "贬损者%",
                              "nps": "NPS", "ci_low": "下限", "ci_high": "上限"},
                formats={"n": "int"})
    wnote = (note("各期 NPS 与构成比例为加权估计(每期按客户名单结构加权),置信区间按线性化标准误计算;"
                  "样本量为未加权人数。") if ctx.weighted else None)
    return join(figure(fig, alt="NPS 趋势"), tbl, wnote)


def _league(ctx: ReportContext) -> pd.DataFrame:
    """The branches of the period with NPS/CSAT, target status and the adjusted change tests
    (:func:`cxlab.report._inference.branch_status`), best NPS first."""
    from cxlab.metrics import base_flag
    from cxlab.report._inference import branch_status, comparison_method

    res = branch_status(ctx.aggregates, ctx.targets, period=ctx.period, previous=ctx.previous,
                        method=comparison_method(ctx.params_dir))
    res["ci_low"], res["ci_high"] = res.get("nps_low", np.nan), res.get("nps_high", np.nan)
    res["base_flag"] = [base_flag(int(n)) for n in res["n"]]
    if "csat" not in res.columns:
        res["csat"] = np.nan
    res["branch_name"] = res["branch"].map(ctx.branch_name)
    res["region"] = res["branch"].map(ctx.org.region_name)
    return res.sort_values("nps", ascending=False, na_position="last").reset_index(drop=True)


def league_table(ctx: ReportContext) -> Html:
    """Branch league table from company aggregates, flagging branches that need rectification."""
    from cxlab.plots import nps_bars

    if "promoters" not in ctx.aggregates.columns:
        return Html("")
    lt = _league(ctx)
    shown = lt.copy()
    if not ctx.is_company:
        shown["branch_name"] = np.where(shown["branch"] == ctx.branch,
                                        "▶ " + shown["branch_name"], shown["branch_name"])
    plot_df = lt[lt["n"] >= MIN_BASE].copy()
    if plot_df.empty:
        return note(f"本期没有样本量达到 {MIN_BASE} 的分支机构,不做排名。")
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    plot_df["机构"] = plot_df["branch_name"]
    nps_t = _target(ctx, "nps")
    nps_bars(plot_df[["机构", "n", "nps", "ci_low", "ci_high", "base_flag"]], ax=ax,
             target=None if nps_t is None else nps_t.target)
    ax.set_title(f"{ctx.period} 各分支机构 NPS(95% 置信区间)")
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
    has_csat = "csat_n" in ctx.aggregates.columns
    weighted = is_weighted(ctx.aggregates)
    columns = {"branch_name": "分支机构", "region": "区域", "n": "样本量", "nps": "NPS",
               "ci_low": "下限", "ci_high": "上限"}
    if weighted:  # the weighted base and Kish's effective n beside the unweighted base
        columns = {"branch_name": "分支机构", "region": "区域", "n": "样本量(未加权)",
                   "nps_w_sum": "加权样本量", "nps_n_eff": "有效样本量", "nps": "NPS",
                   "ci_low": "下限", "ci_high": "上限"}
    if has_csat:
        columns["csat"] = "CSAT%"
    columns |= {"change": "环比", "pvalue": "p 值(未校正)", "p_adjusted": "p 值(校正后)",
                "flag": "状态"}
    if lt["region"].fillna("—").isin(["", "—"]).all():  # an org without regions
        del columns["region"]
    tbl = table(shown, columns=columns, formats={"n": "int", "pvalue": "p", "p_adjusted": "p",
                                                 "nps_w_sum": 1, "nps_n_eff": 1},
                classes={"flag": lambda v: "cx-flag-missed" if "需整改" in str(v) else
                         ("cx-flag-met" if v == "达标" else "cx-muted")})
    return join(figure(fig, alt="分支机构 NPS"), tbl, note(league_note(ctx, has_csat)))


def league_note(ctx: ReportContext, has_csat: bool = True) -> str:
    """The league table's footnote: what 需整改 means, the tests, α and the adjustment."""
    from cxlab.ops._status import DESIGN_TEST_CN
    from cxlab.report._inference import comparison_method, method_note

    goals = [k.upper() for k in ("nps", "csat") if _target(ctx, k) is not None
             and (k == "nps" or has_csat)]
    rule = "NPS 较上期显著下降"
    if goals:
        rule = f"{' 或 '.join(goals)} 显著低于目标(95% 置信区间上限低于目标值),或" + rule
    if is_weighted(ctx.aggregates):
        basis = ("排名、NPS、CSAT 与置信区间为加权估计(调查权重,由各机构的加权汇总数据计算,"
                 "与各报告的加权指标一致);样本量为未加权人数,另列加权样本量与有效样本量(Kish)")
        test = (f"环比检验为{DESIGN_TEST_CN}:z = 差值 / √(本期标准误² + 上期标准误²),"
                f"双侧,α = {ALPHA:g}")
    else:
        basis, test = "排名基于各机构汇总计数", f"环比检验为双侧 z 检验(α = {ALPHA:g})"
    return (f"{basis};样本量少于 {MIN_BASE} 的机构不参与排名,也不给出估计值。"
            f"“需整改”:{rule}。"
            "“低于目标,在抽样误差内”:低于目标,但置信区间包含目标值,差距可能来自抽样误差。"
            f"{test}{_league_paired_note(ctx)};"
            f"{method_note(comparison_method(ctx.params_dir))},"
            "表中同时列出未校正与校正后的 p 值,显著性以校正后 p 值为准。")


def _league_paired_note(ctx: ReportContext) -> str:
    """How the league's NPS change tests treat customers who answered in both periods."""
    agg = ctx.aggregates
    if ctx.previous is None or "nps_change_pvalue" not in agg.columns:
        return ""
    cur = agg[(agg["period"].astype(str) == str(ctx.period))
              & (agg["change_from"].astype(str) == str(ctx.previous))]
    if cur.empty or cur["nps_change_pvalue"].isna().all():
        return ""
    from cxlab.ops._repeat import OVERLAP_CN

    n = int(cur["repeat_customers"].fillna(0).sum())
    return (f",两期都作答的客户(本期各机构合计 {n:,} 位)使两期样本不独立,"
            f"有这类客户的机构采用{OVERLAP_CN}" + ("(加权)" if is_weighted(agg) else ""))


def branch_comparison(ctx: ReportContext) -> Html:
    """The branch against the company (aggregates) on each attribute item."""
    if ctx.is_company:
        return Html("")
    agg = ctx.aggregates[ctx.aggregates["period"] == ctx.period]
    own = agg[agg["branch"] == ctx.branch]
    items = [i for i in ctx.codebook.attribute_items if f"{i}__mean" in agg.columns]
    if not items:
        return Html("")
    if own.empty or int(own["n"].iloc[0]) < MIN_BASE:
        return _base_note(int(own["n"].iloc[0]) if len(own) else 0, "本机构") or Html("")
    labels = _labels(ctx)
    rows = []
    weighted = all(f"{i}__wmean" in agg.columns for i in items)
    for item in items:
        # weighted: the branches' weighted means pooled by their weight sums (exact)
        col_m, col_n = ((f"{item}__wmean", f"{item}__wsum") if weighted
                        else (f"{item}__mean", f"{item}__n"))
        comp = (agg[col_m].fillna(0) * agg[col_n]).sum() / agg[col_n].sum()
        mine = float(own[col_m].iloc[0])
        rows.append({"item": labels[item], "branch": mine, "company": comp, "gap": mine - comp})
    df = pd.DataFrame(rows).sort_values("gap")
    return join(
        table(df, columns={"item": "评价项目", "branch": "本机构均值", "company": "全公司均值",
                           "gap": "差距"}, formats={"branch": 2, "company": 2, "gap": 2},
              classes={"gap": lambda v: "cx-bad" if v < -0.1 else ("cx-good" if v > 0.1 else None)}),
        note(f"均值为{scale_text(ctx, items)};全公司均值来自各机构汇总数据"
             + ("(加权:本机构与全公司均值均按调查权重计算)" if weighted else
                "(未加权)" if ctx.weighted else "") + "。差距为负表示低于全公司水平。"))


def _driver_data(ctx: ReportContext) -> tuple[str | None, list[str], pd.DataFrame]:
    """Outcome column, attribute items and complete cases of the current period."""
    out = ctx.codebook.outcome_item
    items = [i for i in ctx.codebook.attribute_items if i in ctx.current.columns and i != out]
    if out is None or out not in ctx.current.columns or len(items) < 2:
        return None, items, pd.DataFrame()
    cols = [out, *items] + (["weight"] if ctx.weighted else [])
    df = ctx.current[cols].apply(pd.to_numeric, errors="coerce").dropna()
    return out, items, df


def driver_result(ctx: ReportContext):
    """The report's key-driver analysis of the period, or None below the minimum base.

    Weighted reports weight the regression and the correlations and take the coefficients'
    standard errors and p-values from the design (linearised, as R's ``svyglm``).
    """
    from cxlab.drivers import key_drivers

    out, items, df = _driver_data(ctx)
    if out is None or len(df) < MIN_BASE:
        return None
    return key_drivers(df.astype(float), outcome=out, drivers=items, weight=ctx.weight,
                       bootstrap=DRIVER_BOOTSTRAP, rng=0,
                       se_method="design" if ctx.weighted else "model")


def _names(labels: list[str], limit: int = 6) -> str:
    """``A、B、C`` or, for a long list, ``A、B、…、F等九个因素``."""
    if len(labels) <= limit:
        return "、".join(labels)
    return "、".join(labels[:limit]) + f"等{cn_number(len(labels))}个因素"


def driver_narrative(table: pd.DataFrame, phrase: str) -> str:
    """Sentences on the order of the drivers that speak of ranks only where the bootstrap
    separates them, else name the drivers that cannot be told apart.

    ``table`` holds ``label``, ``share`` and ``rank_group`` of every driver (see
    :func:`cxlab.drivers._inference.rank_groups`: group 1 is the top driver and the drivers
    not separated from it; a later group's drivers are separated from every earlier leader).
    """
    if len(table) < 2:
        return ""
    t = table.sort_values(["rank_group", "share"], ascending=[True, False], kind="stable")
    groups = [g["label"].tolist() for _, g in t.groupby("rank_group", sort=True)]
    first = groups[0]
    if len(first) > 1:
        others = first[1:]
        text = (f"按点估计,对{phrase}影响最大的因素是{first[0]},但{_names(others)}与它的差异"
                "在抽样误差内无法区分,本期样本不足以确定哪个因素最重要")
        if len(groups) == 1:
            return text + ";各因素的重要性排序均不确定。"
        return text + f";其余因素的重要性显著低于{first[0]}。"
    lead = []
    while len(lead) < min(3, len(groups)) and len(groups[len(lead)]) == 1:
        lead.append(groups[len(lead)][0])
    if len(lead) == 1:
        text = f"对{phrase}影响最大的因素是{lead[0]},其重要性显著高于其余各因素。"
    else:
        text = (f"对{phrase}影响最大的{'两' if len(lead) == 2 else cn_number(len(lead))}个因素"
                f"依次为:{'、'.join(lead)},这一先后顺序超出了抽样误差。")
    k = len(lead)
    if k < len(groups) and len(groups[k]) > 1:
        nxt = groups[k]
        text += (f"其后为{_names(nxt)},它们与其中居首的{nxt[0]}的差异在抽样误差内"
                 "无法区分。")
    return text


def drivers(ctx: ReportContext) -> Html:
    """Key drivers of the outcome (NPS, else CSAT): OLS with exact LMG relative importance,
    bootstrap CIs and the groups of drivers the sample cannot tell apart."""
    from cxlab.plots import importance_bars

    out, items, df = _driver_data(ctx)
    if out is None:
        return Html("")
    base = _base_note(len(df), "驱动因素分析")
    res = driver_result(ctx)
    if res is None:
        return base
    phrase, name = outcome_names(ctx)
    labels = _labels(ctx)
    fig, ax = plt.subplots(figsize=(7, 5))
    importance_bars(res, ax=ax, labels=labels)
    ax.set_title(f"{name}的关键驱动因素:相对重要性")
    t = res.table.sort_values("rank").copy()
    t["label"] = t["driver"].map(labels)
    t["share_pct"] = 100 * t["share"]
    t["ci"] = [f"{100 * a:.1f}~{100 * b:.1f}" for a, b in zip(t["share_ci_low"], t["share_ci_high"], strict=True)]
    alpha = 1 - res.level
    return join(
        base,
        paragraph(driver_narrative(t, phrase) + f"模型 R² = {res.r2:.2f}(n = {res.n:,})。"),
        figure(fig, alt="关键驱动因素"),
        table(t.head(10), columns={"rank": "排序", "rank_group": "分组", "label": "因素",
                                   "share_pct": "相对重要性%", "ci": "95% 区间",
                                   "std_beta": "标准化系数", "pvalue": "p 值", "vif": "VIF"},
              formats={"rank": "int", "rank_group": "int", "std_beta": 3, "pvalue": "p",
                       "vif": 2}),
        note("相对重要性采用 LMG(Shapley 值)精确分解 R²;"
             f"区间为 {DRIVER_BOOTSTRAP} 次自助抽样的百分位区间。"
             "排序为点估计的先后;分组:两两比较各因素相对重要性之差"
             f"(刀切法标准误、正态近似),按 Holm 法校正全部两两比较(总错误率 {alpha:.0%})。"
             "第 1 组为点估计最高的因素及与它差异不显著的因素,其后各组依次类推;"
             "同组因素的先后在抽样误差内无法确定。"
             + ("回归与相关按调查权重加权(加权最小二乘);系数的标准误与 p 值为基于抽样设计的"
                "线性化(三明治)估计,与 R survey 包 svyglm 的方法相同。" if ctx.weighted else "")),
    )


def ipa(ctx: ReportContext) -> Html:
    """Importance–performance map with 主要问题/次要问题 (seed 000 结果汇总表)."""
    from cxlab.ipa import analyze
    from cxlab.plots import ipa_map

    out, items, df = _driver_data(ctx)
    if out is None:
        return Html("")
    df = df.astype(float)
    if len(df) < MIN_BASE:
        return _base_note(len(df), "IPA 分析")
    res = analyze(df, items=items, outcome=out, importance="correlation", crosshair="mean",
                  weight=ctx.weight)
    labels = _labels(ctx)
    fig, ax = plt.subplots(figsize=(7, 5.2))
    ipa_map(res, ax=ax, labels=labels)
    ax.set_title("重要性–表现分析(IPA)")
    t = res.sort_values("priority").copy()
    t["label"] = t["item"].map(labels)
    main = t[t["quadrant"] == "concentrate_here"]["label"].tolist()
    quad = {"concentrate_here": "重点改进区", "keep_up": "继续保持区",
            "low_priority": "低优先区", "possible_overkill": "过度投入区"}
    t["quadrant_cn"] = t["quadrant"].map(quad)
    text = (f"主要问题(重要性高、表现低):{'、'.join(main)}。" if main
            else "本期没有落在重点改进区的项目。")
    scale = scale_text(ctx, items).split("(")[0] if len({ctx.codebook.item(i).scale for i in items}) == 1 \
        else "各项目评分"
    return join(
        _base_note(len(df), "IPA 分析"), paragraph(text), figure(fig, alt="IPA"),
        table(t, columns={"priority": "优先级", "label": "项目", "performance": "表现(均值)",
                          "importance": "重要性(相关)", "quadrant_cn": "象限", "problem": "问题分类"},
              formats={"priority": "int", "performance": 2, "importance": 3},
              classes={"problem": lambda v: "cx-flag-missed" if v == "主要问题" else None}),
        note(f"表现为{scale}均值;重要性为与{outcome_names(ctx)[0]}的相关系数;十字线取均值。"
             + (f"均值与相关系数按调查权重加权(未加权样本量 {len(df):,},加权样本量 "
                f"{df['weight'].sum():,.1f},有效样本量 "
                f"{df['weight'].sum() ** 2 / (df['weight'] ** 2).sum():,.1f})。"
                if ctx.weighted else "")),
    )


def kano(ctx: ReportContext) -> Html:
    """Kano categories of the candidate features (Berger et al. 1993), Better/Worse; weighted
    (weighted category counts and coefficients) when the report is."""
    from cxlab.kano import evaluate, from_wide
    from cxlab.plots import kano_scatter

    pairs = [p.model_dump() for p in ctx.codebook.kano]
    cols = [c for p in pairs for c in (p["functional"], p["dysfunctional"])]
    if not pairs or not set(cols) <= set(ctx.current.columns):
        return Html("")
    w = ctx.weight
    df = ctx.current[cols + ([w] if w else [])]
    n = int(df[cols].notna().all(axis=1).sum())
    if n < MIN_BASE:
        return _base_note(n, "Kano 分析")
    res = evaluate(from_wide(df, pairs=pairs, keep=[w] if w else None), weight=w)
    fig, ax = plt.subplots(figsize=(6, 5))
    kano_scatter(res, ax=ax)
    ax.set_title("Kano 分析:Better–Worse 系数" + ("(加权)" if w else ""))
    names = {"A": "魅力属性", "O": "一维属性", "M": "必备属性", "I": "无差异属性",
             "R": "反向属性", "Q": "可疑结果"}
    t = res.copy()
    t["category_cn"] = t["category"].map(names)
    t["sig"] = np.where(t["fong_significant"], "显著", "不显著")
    count = "int"
    columns = {"feature": "功能", "n": "样本量(未加权)" if w else "样本量"}
    if w:  # the weighted base and Kish effective n beside the unweighted one
        columns |= {"weighted_n": "加权样本量", "effective_n": "有效样本量"}
        count = 1
    columns |= {c: c.upper() + ("(加权)" if w else "") for c in "aomirq"}
    columns |= {"category_cn": "类别", "better": "Better", "worse": "Worse", "sig": "Fong 检验"}
    return join(
        _base_note(n, "Kano 分析"), figure(fig, alt="Kano"),
        table(t, columns=columns,
              formats={"n": "int", "weighted_n": 1, "effective_n": 1, "better": 2, "worse": 2}
              | dict.fromkeys("aomirq", count)),
        note("分类依据 Berger 等(1993)评价表,频数相同时按 M > O > A > I 取;"
             "Better = (A+O)/(A+O+M+I),Worse = −(O+M)/(A+O+M+I);"
             "Fong(1996)检验判断最高两类的差异是否显著。"
             + ("各类频数为加权频数(调查权重之和),类别、Better/Worse 均按加权频数计算;"
                "Fong 检验以有效样本量(Kish)代替样本量。" if w else "")),
    )


def provenance(ctx: ReportContext) -> Html:
    """Raw data files and hashes, warehouse digest, parameters, cxlab version, rendering time."""
    from cxlab import __version__

    src = ctx.sources.copy()
    src["sha"] = src["sha256"].astype(str).str[:16]
    digest = hashlib.sha256("".join(s for _, s in ctx.inputs).encode()).hexdigest()[:16]
    params = pd.DataFrame([{"file": str(p), "sha": hashlib.sha256(p.read_bytes()).hexdigest()[:16]}
                           for p in sorted(ctx.params_dir.glob("*.yaml"))])
    facts = (f"cxlab 版本 {__version__} · 报告期 {ctx.period} · 范围 {_scope_label(ctx)} · "
             f"读取仓库文件 {len(ctx.inputs)} 个(合并摘要 {digest})· 生成时间 {ctx.rendered_at}")
    return join(
        Html('<div class="cx-provenance">'), paragraph(facts),
        table(src, columns={"file": "原始数据文件", "table": "数据表", "rows": "本报告使用行数",
                            "sha": "SHA-256(前 16 位)"}, formats={"rows": "int"}),
        table(params, columns={"file": "参数文件", "sha": "SHA-256(前 16 位)"}),
        Html("</div>"),
    )


# Sections built on cxlab.ops, cxlab.text and cxlab.segments (they use the helpers above).
from cxlab.report._layout import body  # noqa: E402, I001
from cxlab.report._sections_items import crosstabs, item_summary  # noqa: E402, I001
from cxlab.report._sections_ops import (  # noqa: E402
    ab_tests,
    alerts,
    audits,
    journey,
    operations_kpis,
    price_channel,
    scorecard,
    service_levels,
)
from cxlab.report._sections_voice import segments, voice  # noqa: E402
