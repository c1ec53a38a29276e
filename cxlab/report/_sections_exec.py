"""The executive page (issue 20 §3): what a branch head reads in a minute, first in the report.

The ``summary`` section's key findings are followed by four short blocks: the headline KPIs
against their targets (with the sampling-error status of :func:`cxlab.ops.target_status`),
what changed significantly, the top three issues (the IPA's 主要问题, else the weakest rated
items) and the alerts still open. Each block is left out when its data are missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab.report._base import ALPHA, MIN_BASE, csat_col, nps_col, scope_label
from cxlab.report._context import ReportContext
from cxlab.report.tables import Html, bullets, join, note, p_text, table

__all__ = ["executive_alerts", "executive_changes", "executive_issues", "executive_kpis",
           "kpi_status_rows"]


def _h3(text: str) -> Html:
    from cxlab.report._sections_ops import h3

    return h3(text)


def kpi_status_rows(ctx: ReportContext) -> pd.DataFrame:
    """NPS and CSAT of the scope (weighted when the report is), their 95 % intervals, target,
    target status with sampling error and the change against the previous period."""
    from cxlab.ops import target_status
    from cxlab.report import sections
    from cxlab.report._base import target

    h = sections._headline(ctx)
    rows = []
    for key, label, unit in (("nps", "净推荐值(NPS)", ""), ("csat", "客户满意度(CSAT)", "%")):
        r = h.get(key)
        if r is None or (key == "nps" and nps_col(ctx) is None) \
                or (key == "csat" and csat_col(ctx) is None):
            continue
        n = int(r["n"])
        kpi = target(ctx, key)
        if n < MIN_BASE:
            value, lo, hi = np.nan, np.nan, np.nan
        else:
            value, lo, hi = float(r[key]), float(r["ci_low"]), float(r["ci_high"])
        status = (target_status(value, lo, hi, target=kpi.target, op=kpi.op)
                  if kpi is not None else "—")
        test = h.get(f"{key}_test")
        rows.append({
            "id": key, "kpi": label, "value": np.nan if np.isnan(value) else value, "unit": unit,
            "ci": "—" if np.isnan(value) else f"{lo:.1f}~{hi:.1f}",
            "target": "—" if kpi is None else f"{'≥' if kpi.op == '>=' else kpi.op} "
                                                f"{kpi.target:g}{unit}",
            "status": status, "n": n,
            "change": np.nan if test is None else float(r[key] - h[f"{key}_prev"][key]),
            "pvalue": np.nan if test is None else float(test.pvalue),
        })
    return pd.DataFrame(rows)


def executive_kpis(ctx: ReportContext) -> Html:
    """The headline KPIs against their targets, with the sampling-error status."""
    rows = kpi_status_rows(ctx)
    if rows.empty or rows["value"].isna().all():
        return Html("")

    def value(r) -> str:
        return "样本不足" if pd.isna(r["value"]) else f"{r['value']:.1f}{r['unit']}"

    shown = rows.assign(value_text=[value(r) for _, r in rows.iterrows()])
    tbl = table(shown, columns={"kpi": "指标", "value_text": "本期", "ci": "95% 置信区间",
                                "target": "目标", "status": "目标状态", "change": "环比",
                                "pvalue": "p 值", "n": "样本量"},
                formats={"change": 1, "pvalue": "p", "n": "int"},
                classes={"status": lambda v: "cx-flag-missed" if str(v).startswith("显著")
                         else ("cx-flag-met" if v == "达标" else None)})
    weighted = "指标为加权估计;" if ctx.weighted else ""
    from cxlab.report import sections

    return join(_h3("核心指标与目标"), tbl, note(
        f"{weighted}“显著低于目标”:95% 置信区间上限低于目标值;“低于目标,在抽样误差内”:"
        "低于目标,但置信区间包含目标值。" + sections.change_note(sections._headline(ctx))))


def executive_changes(ctx: ReportContext) -> Html:
    """What changed significantly against the previous period (scope and branches)."""
    if ctx.previous is None:
        return Html("")
    rows = kpi_status_rows(ctx)
    items = []
    for _, r in rows.iterrows():
        if pd.notna(r["pvalue"]) and r["pvalue"] < ALPHA:
            way = "上升" if r["change"] > 0 else "下降"
            unit = " 个百分点" if r["unit"] == "%" else " 分"
            items.append(f"{r['kpi']}较上期{way} {abs(r['change']):.1f}{unit}({p_text(r['pvalue'])})。")
    # the company page names the branches whose NPS dropped (tests adjusted across branches); a
    # branch page has its own change in the KPI lines above, from the report's (weighted) figures
    if ctx.is_company and "promoters" in ctx.aggregates.columns:
        from cxlab.report.sections import _league

        lt = _league(ctx)
        drops = lt[lt["significant_drop"]]
        for _, r in drops.iterrows():
            items.append(f"{r['branch_name']} NPS 较上期显著下降 {abs(r['change']):.1f} 分"
                         f"(校正后 {p_text(r['p_adjusted'])})。")
    if not items:
        items = [f"{scope_label(ctx)}与上期相比,核心指标没有统计显著的变化。"]
    return join(_h3("显著变化"), bullets(items))


def executive_issues(ctx: ReportContext) -> Html:
    """The top three issues: the IPA's 主要问题 by priority, else the weakest rated items."""
    from cxlab.report import sections

    out, items, df = sections._driver_data(ctx)
    labels = ctx.codebook.labels()
    if out is not None and len(df) >= MIN_BASE:
        from cxlab.ipa import analyze

        res = analyze(df.astype(float), items=items, outcome=out, importance="correlation",
                      crosshair="mean", weight=ctx.weight)
        res = res.sort_values("priority")
        main = res[res["quadrant"] == "concentrate_here"].head(3)
        if len(main):
            lines = [f"{labels.get(r['item'], r['item'])}(表现 {r['performance']:.2f},"
                     f"重要性 {r['importance']:.2f})" for _, r in main.iterrows()]
            return join(_h3("三大问题"), bullets(lines),
                        note("重要性高而表现低的项目(重要性–表现分析的主要问题),按优先级排列。"))
    from cxlab.report._sections_items import item_table

    t = item_table(ctx, ctx.current, weight=ctx.weight)
    t = t[t["n"] >= MIN_BASE] if len(t) else t
    if t.empty:
        return Html("")
    worst = t.sort_values("top", kind="stable").head(3)
    lines = [f"{r['label']}(好评率 {r['top']:.1f}%)" for _, r in worst.iterrows()]
    return join(_h3("三大问题"), bullets(lines), note("好评率最低的三个评价项目。"))


def executive_alerts(ctx: ReportContext) -> Html:
    """Alerts of the period not yet closed, by severity."""
    if not (ctx.params_dir / "alerts.yaml").is_file():
        return Html("")
    from cxlab.ops import track_alerts
    from cxlab.report._sections_ops import (
        _TICKET_COLS,
        SEVERITY_CN,
        _evaluate,
        load_alert_rules,
        upto,
    )

    fired = _evaluate(ctx, load_alert_rules(ctx))
    if fired.empty:
        return join(_h3("未关闭预警"), bullets([f"{scope_label(ctx)}本期未触发预警。"]))
    tickets = upto(ctx, "tickets")
    if tickets.empty or not set(_TICKET_COLS) <= set(tickets.columns):
        tickets = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c.endswith("_at")
                                             else object) for c in _TICKET_COLS})
    tracked = track_alerts(fired, tickets)
    open_ = tracked[~tracked["closed"].astype(bool)]
    counts = open_["severity"].value_counts()
    text = (f"本期预警 {len(tracked)} 条,未关闭 {len(open_)} 条"
            + (("(" + "、".join(f"{SEVERITY_CN[s]}级别 {int(counts[s])} 条"
                               for s in ("high", "medium", "low") if s in counts) + ")")
               if len(open_) else "") + "。")
    lines = [text]
    top = open_[open_["severity"] == "high"].head(3)
    for _, r in top.iterrows():
        lines.append(f"{r['label']}:{ctx.branch_name(str(r['branch']))},{r['detail']}")
    return join(_h3("未关闭预警"), bullets(lines))
