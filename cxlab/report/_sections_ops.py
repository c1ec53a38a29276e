"""Report sections on operations: KPIs vs targets, alerts and the closed loop, service levels,
journey/touchpoints, audits, A/B tests, price and channel, and the supervisor scorecard.

One function per section, ``f(ctx) -> Html``, called from a notebook cell (see
:mod:`cxlab.report.sections`). Statistics come from :mod:`cxlab.ops`; this module only selects
the scope's data, formats numbers, adds Chinese labels, flags small bases and writes the
one-sentence finding. Every string that may come from data goes through :mod:`tables`
(escaped).
"""

from __future__ import annotations

from html import escape

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cxlab.ops._status import DESIGN_TEST_CN
from cxlab.report._base import ALPHA, CAUTION_BASE, MIN_BASE, csat_col, nps_col, scope_label
from cxlab.report._base import base_note as _base_note
from cxlab.report._context import ReportContext
from cxlab.report._inference import is_weighted
from cxlab.report.tables import (
    Html,
    cards,
    figure,
    fmt_p,
    join,
    note,
    p_text,
    paragraph,
    table,
)

__all__ = [
    "ab_tests", "alerts", "audits", "journey", "operations_kpis", "price_channel", "scorecard",
    "service_levels",
]

NO_DATA = "本期无数据。"

#: Status words (analytics → report).
STATUS_CN = {"met": "达标", "missed": "未达标", "no_data": "无数据", "no_target": "—"}
SEVERITY_CN = {"high": "高", "medium": "中", "low": "低"}
METRIC_CN = {"nps": "NPS", "csat": "CSAT(%)", "ltr": "推荐意愿(0–10)",
             "first_response_hours": "首次响应时长(小时)"}
MEASURE_CN = {"first_response_hours": "首次响应时长", "resolution_hours": "解决时长",
              "answer_seconds": "电话接听时长"}

#: "Share within target" companions of the time KPIs (compute_kpis with targets=).
WITHIN = {"complaint_response_hours": ("complaint_response_within", "投诉响应达标率"),
          "email_reply_hours": ("email_reply_within", "邮件回复达标率"),
          "email_reply_hours_urgent": ("email_reply_within_urgent", "紧急邮件回复达标率"),
          "phone_answer_seconds": ("phone_answer_within", "电话接听达标率")}
#: KPIs estimated from a survey sample (small-base rules apply); the others are counts over
#: every ticket or customer (a census), reported with a caution when the base is small.
SURVEY_KPIS = {"nps", "csat", "solution_satisfaction"}

#: Minimum detectable effects (percentage points) for the A/B sample-size table.
AB_MDES = (0.03, 0.05, 0.10)


# --------------------------------------------------------------------------- helpers
def h3(text: str) -> Html:
    return Html(f"<h3>{escape(text)}</h3>")


def no_data(what: str | None = None) -> Html:
    return note(f"{what}:{NO_DATA}" if what else NO_DATA)


def upto(ctx: ReportContext, name: str) -> pd.DataFrame:
    """The scope's table restricted to the report's period and earlier ones."""
    df = ctx.table(name)
    if "period" in df.columns and len(df):
        df = df[df["period"].astype(str).isin(ctx.periods)]
    return df.reset_index(drop=True)


def period_end(period: str) -> pd.Timestamp:
    try:
        return pd.Period(period, freq="Q").end_time.floor("s")
    except (ValueError, TypeError):
        return pd.Timestamp.max


def branch_names(ctx: ReportContext, codes) -> list[str]:
    return [ctx.branch_name(str(c)) for c in codes]


def status_class(v) -> str | None:
    text = str(v)
    if text.startswith(("未达标", "显著低于目标", "显著高于目标")) or "超期" in text:
        return "cx-flag-missed"
    if text.startswith("达标"):
        return "cx-flag-met"
    if text.startswith("样本不足") or text in ("无数据", "—") or "抽样误差内" in text:
        return "cx-muted"
    return None


def load_alert_rules(ctx: ReportContext):
    from cxlab.config import load_params
    from cxlab.ops import AlertRules

    return load_params(ctx.params_dir / "alerts.yaml", AlertRules)


def _fmt_value(v, unit: str | None) -> str:
    if v is None or pd.isna(v):
        return "—"
    if unit == "%":
        return f"{v:.1f}%"
    if unit == "秒":
        return f"{v:.0f} 秒"
    if unit == "小时":
        return f"{v:.2f} 小时"
    if unit == "元":
        return f"{v:,.1f} 元"
    return f"{v:.1f}"


def _fmt_change(v, unit: str | None) -> str:
    if v is None or pd.isna(v):
        return "—"
    sign = "+" if v > 0 else ""
    if unit == "%":
        return f"{sign}{v:.1f} 个百分点"
    if unit == "秒":
        return f"{sign}{v:.0f} 秒"
    if unit == "小时":
        return f"{sign}{v:.2f} 小时"
    return f"{sign}{v:.1f}"


def _unit_of(ctx: ReportContext, kpi: str) -> str:
    try:
        return ctx.targets.kpi(kpi).unit
    except KeyError:
        return "%"


def pcell(v) -> str:
    """A p-value table cell (``fmt_p`` already escapes ``<0.001``)."""
    return fmt_p(v)


OP_CN = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}


def _pct(v) -> str:
    return "—" if v is None or pd.isna(v) else f"{v:.1f}%"


# --------------------------------------------------------------------------- operations_kpis
def weighted_survey_kpis(ctx: ReportContext, values: pd.DataFrame) -> pd.DataFrame:
    """``compute_kpis`` values with NPS and CSAT replaced by their weighted estimates per period
    (the counts behind the change tests stay unweighted)."""
    from cxlab.metrics import nps
    from cxlab.report._base import csat_result

    values = values.copy()
    ltr, cs = nps_col(ctx), csat_col(ctx)
    resp = ctx.responses
    if ltr is not None:
        est = nps(resp, score=ltr, by="period", weight="weight").set_index("period")["nps"]
        m = values["kpi"] == "nps"
        values.loc[m, "value"] = values.loc[m, "period"].map(est).to_numpy()
    if cs is not None and resp[cs].notna().any():
        est = csat_result(resp[resp[cs].notna()], ctx, by="period",
                          weight="weight").set_index("period")["csat"]
        m = values["kpi"] == "csat"
        values.loc[m, "value"] = values.loc[m, "period"].map(est).to_numpy()
    return values


def _paired_changes(ctx: ReportContext, status: pd.DataFrame) -> int:
    """Give the report period's NPS/CSAT rows of ``status`` the p-values of the summary's change
    tests (:func:`cxlab.report.sections._headline`) when those are overlap-adjusted for repeat
    customers, and in a weighted report always (the design-based tests of the weighted
    estimates); returns the number of repeat customers (0: the independent tests stand)."""
    from cxlab.metrics._overlap import OVERLAP_METHOD
    from cxlab.report.sections import _headline

    if ctx.previous is None:
        return 0
    h = _headline(ctx)
    used = 0
    for key in ("nps", "csat"):
        t = h.get(f"{key}_test")
        if t is None:
            continue
        overlap = t.method.startswith(OVERLAP_METHOD)
        if not (overlap or ctx.weighted):
            continue
        m = (status["period"] == ctx.period) & (status["kpi"] == key)
        status.loc[m, "pvalue"] = t.pvalue
        status.loc[m, "significant"] = t.pvalue < ALPHA
        if overlap:
            used = h["repeat"]
    return used


def _change_method_cn(repeat: int) -> str:
    """The KPI table's footnote sentence on its change tests."""
    from cxlab.ops._repeat import OVERLAP_CN

    if repeat:
        return (f"环比检验(双侧,p < {ALPHA:g} 视为显著):本期与上期有 {repeat:,} 位客户两期都作答,"
                f"NPS、CSAT 采用{OVERLAP_CN};其他比例类指标用两比例 z 检验,中位数不做检验。")
    return (f"环比检验(双侧,p < {ALPHA:g} 视为显著):NPS 用两独立样本检验,比例类指标用两比例 z 检验,"
            "中位数不做检验。")


def operations_kpis(ctx: ReportContext) -> Html:
    """All seed-004 KPIs of the scope against ``params/targets.yaml``, with 环比 and p-values."""
    from cxlab.ops import compute_kpis, kpi_status

    resp = ctx.responses
    tickets = upto(ctx, "tickets")
    customers = ctx.table("customers")
    ltr, cs = nps_col(ctx), csat_col(ctx)
    resp_in = resp if len(resp) and (ltr or cs) else None
    tick_in = tickets if len(tickets) and "created_at" in tickets.columns else None
    cust_in = customers if len(customers) and "churned" in customers.columns else None
    if resp_in is None and tick_in is None and cust_in is None:
        return no_data()
    if not ctx.targets.kpis:
        return Html("")
    if resp_in is not None and cs is not None:
        sc = ctx.codebook.scale_of(cs)
        if sorted(sc.top_codes) != [4, 5] or (sc.lo, sc.hi) != (1, 5):
            # compute_kpis counts 4-5 of a 1-5 item as satisfied: hand it the item's own top box
            x = pd.to_numeric(resp_in[cs], errors="coerce")
            resp_in = resp_in.assign(_csat_top=np.where(x.isna(), np.nan,
                                                        np.where(x >= sc.top_threshold, 5.0, 1.0)))
            cs = "_csat_top"
    values = compute_kpis(resp_in, tick_in, cust_in, by=("period",), targets=ctx.targets,
                          codebook=ctx.codebook, score=ltr or "ltr", csat=cs or "csat")
    if ctx.weighted:
        values = weighted_survey_kpis(ctx, values)
    status = kpi_status(values, targets=ctx.targets)
    paired = _paired_changes(ctx, status)
    cur = status[status["period"] == ctx.period].set_index("kpi")

    # a KPI whose source the project lacks (no such question, no ticket log, no CRM) is left out
    lacking = {"nps"} if ltr is None else set()
    lacking |= {"csat"} if csat_col(ctx) is None else set()
    if tick_in is None:
        lacking |= {"solution_satisfaction", "complaint_response_hours", "email_reply_hours",
                    "email_reply_hours_urgent", "phone_answer_seconds"}
    if cust_in is None:
        lacking.add("annual_churn")
    from cxlab.report._sections_exec import kpi_status_rows

    est = kpi_status_rows(ctx)
    sampled = dict(zip(est["id"], est["status"], strict=True)) if len(est) else {}
    rows = []
    for k in ctx.targets.kpis:
        if k.id in lacking:
            continue
        ids = [k.id] + ([WITHIN[k.id][0]] if k.id in WITHIN else [])
        for kid in ids:
            is_within = kid != k.id
            unit = "%" if is_within else k.unit
            label = WITHIN[k.id][1] if is_within else k.label
            target = (f"≤ {k.target:g} {k.unit} 的占比" if is_within
                      else f"{OP_CN.get(k.op, k.op)} {k.target:g}{'' if k.unit == '%' else ' '}{k.unit}")
            if kid not in cur.index or pd.isna(cur.loc[kid, "value"]):
                rows.append({"kpi": label, "value": "—", "target": target, "status": "无数据",
                             "previous": "—", "change": "—", "pvalue": np.nan, "n": np.nan,
                             "_id": kid, "_status": "no_data"})
                continue
            r = cur.loc[kid]
            n = int(r["n"]) if not pd.isna(r["n"]) else 0
            st = "—" if is_within else STATUS_CN.get(r["status"], r["status"])
            if kid in sampled and r["status"] == "missed":  # judged with its sampling error
                st = sampled[kid]
            suppressed = kid in SURVEY_KPIS and n < MIN_BASE
            if suppressed:
                rows.append({"kpi": label, "value": "—", "target": target, "status": "样本不足",
                             "previous": "—", "change": "—", "pvalue": np.nan, "n": n,
                             "_id": kid, "_status": "suppressed"})
                continue
            if n < MIN_BASE or (kid in SURVEY_KPIS and n < CAUTION_BASE):
                st += "(基数小)"
            rows.append({"kpi": label, "value": _fmt_value(r["value"], unit), "target": target,
                         "status": st, "previous": _fmt_value(r["previous"], unit),
                         "change": _fmt_change(r["change"], unit), "pvalue": r["pvalue"], "n": n,
                         "_id": kid, "_status": r["status"], "_sig": bool(r["significant"]),
                         "_change": r["change"], "_label": label})
    df = pd.DataFrame(rows)
    if df.empty or (df["_status"] == "no_data").all():
        return Html("")

    main = df[~df["_id"].isin([w for w, _ in WITHIN.values()])]
    met = main[main["_status"] == "met"]["kpi"].tolist()
    missed = main[main["_status"] == "missed"]["kpi"].tolist()
    judged = len(met) + len(missed)
    text = f"{scope_label(ctx)}本期 {judged} 项有数据的运营指标中 {len(met)} 项达标"
    text += (f";未达标:{'、'.join(missed)}。" if missed else ",全部达标。")
    small = df[df["_status"] == "suppressed"]["kpi"].tolist()
    if small:
        text += f"{'、'.join(small)}样本量不足 {MIN_BASE},不予报告。"
    if "_sig" in df.columns:
        sig = df[df["_sig"].fillna(False).astype(bool)]
        if len(sig):
            parts = [f"{r['kpi']}({'上升' if r['_change'] > 0 else '下降'},{p_text(r['pvalue'])})"
                     for _, r in sig.iterrows()]
            text += "与上期相比显著变化的指标:" + "、".join(parts) + "。"
        else:
            text += "与上期相比,没有指标出现统计显著的变化。"

    def card(kid: str, name: str):
        hit = df[df["_id"] == kid]
        if hit.empty:
            return (name, "—", None)
        r = hit.iloc[0]
        css = {"met": "cx-good", "missed": "cx-bad"}.get(r["_status"])
        return (name, r["value"], css)

    tbl = table(df, columns={"kpi": "指标", "value": "本期", "target": "目标", "status": "状态",
                             "previous": "上期", "change": "环比变化", "pvalue": "p 值",
                             "n": "基数"},
                formats={"pvalue": pcell, "n": "int"}, classes={"status": status_class})
    # NPS and CSAT have their cards in sections.kpi_dashboard, just above; the others only
    # when their data exist
    shown = [c for c in (card("solution_satisfaction", "解决方案满意度"),
                         card("complaint_response_hours", "投诉响应(中位数)"),
                         card("annual_churn", "年度流失率")) if c[1] != "—"]
    return join(
        paragraph(text),
        cards(shown) if shown else None,
        tbl,
        note("指标与目标值取自公司《客户体验品牌规程》。时长类指标取中位数,"
             "并给出在目标时限内完成的占比(“达标率”)。年度流失率按客户最近一次调研所在期归属。"
             + _change_method_cn(paired) +
             f"调研类指标(NPS、CSAT、解决方案满意度)基数少于 {MIN_BASE} 不予报告、少于 {CAUTION_BASE} 标注“基数小”;"
             f"工单与客户类指标为全量统计,基数少于 {MIN_BASE} 时标注“基数小”,仅供参考。"
             + (("NPS 与 CSAT 为加权估计(调查权重),基数为未加权人数;其环比检验按加权数据"
                 + ("(两期都作答的客户按以客户为群的加权检验)。" if paired else
                    f"({DESIGN_TEST_CN})。")
                 + "其“显著低于目标”按加权估计的 95% 置信区间判断。")
                if ctx.weighted else "")
             + "NPS、CSAT 未达标时区分“显著低于目标”(95% 置信区间上限低于目标)与"
               "“低于目标,在抽样误差内”(区间包含目标)。"),
    )


# --------------------------------------------------------------------------- alerts
_KPI_RULE_KINDS = ("below_target", "significant_drop", "bottom_rank")


def _evaluate(ctx: ReportContext, rules) -> pd.DataFrame:
    """Fired alerts of the report's period and scope."""
    from cxlab.ops import ALERT_COLUMNS, evaluate_alerts

    has = {"nps": "promoters" in ctx.aggregates.columns, "csat": "csat_n" in ctx.aggregates.columns}
    from cxlab.report._base import target

    # rules on a metric the questionnaire lacks, or on a target params/targets.yaml lacks, are left out
    dumped = [r.model_dump() for r in rules.rules
              if r.kind not in _KPI_RULE_KINDS or (
                  has.get(r.metric or "nps", True)
                  and not (r.kind == "below_target" and r.threshold is None
                           and target(ctx, r.metric) is None))]
    kpi_rules = {"version": 1, "rules": [r for r in dumped if r["kind"] in _KPI_RULE_KINDS]}
    case_rules = {"version": 1, "rules": [r for r in dumped if r["kind"] not in _KPI_RULE_KINDS]}
    frames = []
    # branch-level rules on the aggregates of every branch (weighted NPS/CSAT and design SEs
    # when the aggregates carry the weighted sums); no respondent rows of other branches
    agg = ctx.aggregates[ctx.aggregates["period"].astype(str).isin(ctx.periods)]
    if kpi_rules["rules"] and len(agg):
        given = agg if "change_from" in agg.columns else None
        frames.append(evaluate_alerts({"aggregates": agg, "change_pvalues": given},
                                      rules=kpi_rules, targets=ctx.targets))
    ltr = nps_col(ctx)
    # evaluate_alerts reads the recommend, CSAT and comment items from the codebook's roles
    resp = ctx.responses if len(ctx.responses) and ltr is not None else None
    tickets = upto(ctx, "tickets")
    tickets = tickets if len(tickets) and "created_at" in tickets.columns else None
    if case_rules["rules"] and (resp is not None or tickets is not None):
        frames.append(evaluate_alerts({"responses": resp, "tickets": tickets}, rules=case_rules,
                                      targets=ctx.targets, codebook=ctx.codebook))
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out = out[out["period"].astype(str) == ctx.period]
    if not ctx.is_company:
        out = out[out["branch"].astype(str) == ctx.branch]
    order = {"high": 0, "medium": 1, "low": 2}
    out = out.assign(_s=out["severity"].map(order)).sort_values(["_s", "rule", "branch"], kind="stable")
    return out.drop(columns="_s").reset_index(drop=True)


_TICKET_COLS = ["ticket_id", "customer_id", "period", "type", "created_at", "closed_at", "owner",
                "status"]


def alerts(ctx: ReportContext) -> Html:
    """Fired alerts of the period and their closed-loop tracking (seed 001)."""
    from cxlab.ops import closure_summary, track_alerts
    from cxlab.plots import closure_bars

    rules = load_alert_rules(ctx)
    fired = _evaluate(ctx, rules)
    if fired.empty:
        return join(paragraph(f"{scope_label(ctx)}本期未触发任何预警。"), _alerts_note(rules, ctx=ctx))

    tickets = upto(ctx, "tickets")
    has_tickets = not tickets.empty and set(_TICKET_COLS) <= set(tickets.columns)
    if not has_tickets:
        tickets = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c.endswith("_at") else object)
                                for c in _TICKET_COLS})
    tracked = track_alerts(fired, tickets)
    # the data cut-off: the latest event in the ticket log (status is as of then)
    stamps = [pd.to_datetime(tickets[c], errors="coerce").max()
              for c in ("created_at", "first_response_at", "resolved_at", "closed_at")
              if c in tickets.columns]
    # overdue is judged at the end of the period, or later if the log already holds later events
    stamps = [s for s in stamps if not pd.isna(s)] + [period_end(ctx.period)]
    now = max(stamps)
    limit = rules.service_levels.closure_hours
    tracked["age_hours"] = (now - pd.to_datetime(tracked["opened_at"])).dt.total_seconds() / 3600.0
    summary = closure_summary(tracked, by="branch", now=now, overdue_hours=limit)
    summary["branch_name"] = branch_names(ctx, summary["branch"])
    if ctx.is_company and len(summary) > 1:
        total = closure_summary(tracked, by=None, now=now, overdue_hours=limit)
        total["branch"], total["branch_name"] = "ALL", "全公司合计"
        summary_shown = pd.concat([summary, total], ignore_index=True)
    else:
        summary_shown = summary

    fired_shown = tracked.copy()
    fired_shown["label_cn"] = fired_shown["label"]
    fired_shown["branch_name"] = branch_names(ctx, fired_shown["branch"])
    fired_shown["severity_cn"] = fired_shown["severity"].map(SEVERITY_CN)
    fired_shown["metric_cn"] = fired_shown["metric"].map(lambda m: METRIC_CN.get(m, m))

    # overview by rule
    ov = (fired_shown.groupby(["rule", "label_cn", "severity"], sort=False)
          .agg(count=("branch", "size"), branches=("branch_name", lambda s: "、".join(dict.fromkeys(s))))
          .reset_index())
    ov["severity_cn"] = ov["severity"].map(SEVERITY_CN)

    kpi_level = fired_shown[fired_shown["rule"].isin(
        [r.id for r in rules.rules if r.kind in _KPI_RULE_KINDS])]
    cases = fired_shown[~fired_shown.index.isin(kpi_level.index)]

    # narrative
    n_high = int((fired["severity"] == "high").sum())
    sentences = [f"{scope_label(ctx)}本期共触发 {len(fired)} 条预警,其中高级别 {n_high} 条。"]
    drops = kpi_level[kpi_level["rule"].isin([r.id for r in rules.rules if r.kind == "significant_drop"])]
    for _, r in drops.iterrows():
        adj = "" if pd.isna(r.get("p_adjusted")) else f",校正后 {p_text(r['p_adjusted'])}"
        sentences.append(f"{r['branch_name']}{r['label_cn']}:由上期 {r['previous']:.1f} 降至 "
                         f"{r['value']:.1f}({p_text(r['pvalue'])}{adj}),需重点整改。")
    tot = summary[["alerts", "closed", "overdue"]].sum()
    rate = 100.0 * tot["closed"] / tot["alerts"] if tot["alerts"] else np.nan
    if has_tickets:
        sentences.append(f"闭环情况:已关闭 {int(tot['closed'])} 条,闭环率 {_pct(rate)},"
                         f"超期(超过 {limit:g} 小时)未关闭 {int(tot['overdue'])} 条。")

    blocks = [paragraph("".join(sentences)), h3("预警概览")]
    blocks.append(table(ov, columns={"label_cn": "预警规则", "severity_cn": "级别", "count": "条数",
                                     "branches": "涉及机构"},
                        formats={"count": "int"},
                        classes={"severity_cn": lambda v: "cx-flag-missed" if v == "高" else None}))
    if len(kpi_level):
        blocks.append(h3("机构层面预警(指标未达标、显著下滑、排名末位)"))
        blocks.append(table(kpi_level, columns={
            "label_cn": "预警规则", "branch_name": "分支机构", "metric_cn": "指标", "value": "本期值",
            "threshold": "阈值/上期值", "pvalue": "p 值(未校正)", "p_adjusted": "p 值(校正后)",
            "severity_cn": "级别", "detail": "说明"},
            formats={"value": 1, "threshold": 1, "pvalue": pcell, "p_adjusted": pcell},
            classes={"severity_cn": lambda v: "cx-flag-missed" if v == "高" else None}))
    if len(cases):
        max_rows = 20
        blocks.append(h3("个案预警(贬损者投诉、工单超时)"))
        blocks.append(table(cases, columns={
            "label_cn": "预警规则", "branch_name": "分支机构", "metric_cn": "指标", "value": "值",
            "threshold": "阈值", "severity_cn": "级别", "ticket_id": "工单号", "status": "处理状态",
            "owner": "责任人", "hours_to_close": "关闭用时(小时)"},
            formats={"value": 1, "threshold": 1, "hours_to_close": 1}, max_rows=max_rows))
        if len(cases) > max_rows:
            blocks.append(note(f"共 {len(cases)} 条个案预警,按级别列出前 {max_rows} 条。"))
    if not has_tickets:  # no ticket log: nothing to track the alerts' closure with
        blocks.append(_alerts_note(rules, tickets=False, ctx=ctx))
        return join(*blocks)
    blocks.append(h3("闭环跟踪"))
    fig, ax = plt.subplots(figsize=(max(4.5, 0.7 * len(summary) + 2), 3.4))
    plot_df = summary.assign(branch=summary["branch_name"])
    closure_bars(plot_df, by="branch", ax=ax)
    if len(summary) > 3:
        plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
    blocks.append(figure(fig, alt="预警闭环处理情况"))
    blocks.append(table(summary_shown, columns={
        "branch_name": "分支机构", "alerts": "预警数", "with_ticket": "已建单", "closed": "已关闭",
        "open": "处理中/待处理", "no_ticket": "未建单", "closure_rate": "闭环率",
        "median_hours_to_close": "关闭用时中位数(小时)", "overdue": "超期未关闭"},
        formats={"alerts": "int", "with_ticket": "int", "closed": "int", "open": "int",
                 "no_ticket": "int", "closure_rate": "pct", "median_hours_to_close": 1,
                 "overdue": "int"},
        classes={"overdue": lambda v: "cx-flag-missed" if v and v > 0 else None}))
    overdue = tracked[(tracked["status"] != "未建单") & ~tracked["closed"].astype(bool)
                      & (tracked["age_hours"] > limit)].copy()
    if len(overdue):
        overdue["branch_name"] = branch_names(ctx, overdue["branch"])
        blocks.append(h3("超期未关闭事项"))
        blocks.append(table(overdue, columns={
            "label": "预警规则", "branch_name": "分支机构", "ticket_id": "工单号", "owner": "责任人",
            "status": "处理状态", "opened_at": "建单时间", "age_hours": "已开启(小时)"},
            formats={"age_hours": 1, "opened_at": lambda v: "—" if pd.isna(v) else
                     escape(pd.Timestamp(v).strftime("%Y-%m-%d %H:%M"))}))
    blocks.append(_alerts_note(rules, now=now, ctx=ctx))
    return join(*blocks)


def _alerts_note(rules, now=None, *, tickets: bool = True, ctx: ReportContext | None = None) -> Html:
    cut = f"统计截至 {pd.Timestamp(now):%Y-%m-%d %H:%M}(期末或工单日志最新记录)。" if now is not None else ""
    tests = _alerts_tests_text(rules, ctx)
    basis = "按全公司各机构汇总计数评估"
    if ctx is not None and is_weighted(ctx.aggregates):
        basis = ("按全公司各机构的加权汇总数据评估(加权 NPS、CSAT;检验用线性化标准误,"
                 f"环比为{DESIGN_TEST_CN},排名末位为与其他机构合并的加权估计比较)")
    if not tickets:
        return note("机构层面预警规则(未达标、环比显著下降、排名末位)"
                    f"{basis},样本量少于 30 的机构不参与。" + tests
                    + "本项目没有工单记录,不做闭环跟踪。")
    return note("机构层面预警规则(NPS/CSAT 未达标、环比显著下降、排名末位)"
                f"{basis},样本量少于 30 的机构不参与;个案规则对贬损者投诉和超时工单逐条预警。"
                + tests +
                "闭环跟踪按工单号或同期投诉工单关联;机构层面预警不对应服务工单,记为“未建单”,不计入已关闭。"
                f"超期:已建单但未关闭且超过 {rules.service_levels.closure_hours:g} 小时。" + cut)


def _has_paired(ctx: ReportContext, metric: str | None) -> bool:
    """Whether the aggregates hold overlap-adjusted change p-values of ``metric`` this period."""
    col = f"{metric or 'nps'}_change_pvalue"
    agg = ctx.aggregates
    if col not in agg.columns:
        return False
    return bool(agg.loc[agg["period"].astype(str) == str(ctx.period), col].notna().any())


def _alerts_tests_text(rules, ctx: ReportContext | None = None) -> str:
    """The alerts' tests for the footnote: sidedness, α and the multiplicity adjustment (of the
    rules whose metric the questionnaire has)."""
    from cxlab.report._inference import METHOD_CN

    parts = []
    has = ({"nps": "promoters" in ctx.aggregates.columns, "csat": "csat_n" in ctx.aggregates.columns}
           if ctx is not None else {})
    on = [r for r in rules.rules if r.enabled and has.get(r.metric or "", True)]
    for r in on:
        if r.kind == "significant_drop":
            adj = ("" if rules.multiple_comparisons == "none"
                   else f",同期各机构的 p 值经{METHOD_CN[rules.multiple_comparisons]}")
            if ctx is not None and _has_paired(ctx, r.metric):
                adj += ";两期都作答的客户使两期样本不独立,有这类客户的机构按以客户为群的检验扣除其协方差"
            parts.append(f"“{r.label}”为双侧检验(α = {r.alpha:g}{adj},以校正后 p 值判断)")
        elif r.kind == "below_target" and r.sampling_error:
            parts.append(f"“{r.label}”为单侧检验(α = {r.alpha:g}):只在显著低于目标时预警,"
                         "差距在抽样误差内的不预警")
        elif r.kind == "below_target":
            parts.append(f"“{r.label}”按点估计判断,不考虑抽样误差")
        elif r.kind == "bottom_rank" and r.significant_only:
            parts.append(f"“{r.label}”只在显著低于其他机构的机构中排名(双侧检验,α = {r.alpha:g},"
                         f"{METHOD_CN[rules.multiple_comparisons] if rules.multiple_comparisons != 'none' else '未校正'})")
    return ("检验方法:" + ";".join(parts) + "。") if parts else ""


# --------------------------------------------------------------------------- service levels
def service_levels(ctx: ReportContext) -> Html:
    """SLAs by channel, invitation response rates by channel and trigger, and the 回馈报告 counts."""
    t = ctx.table("tickets")
    inv = ctx.table("invitations")
    has_t, has_i = "created_at" in t.columns and len(t) > 0, "responded" in inv.columns and len(inv) > 0
    if not (has_t or has_i):
        return Html("")
    blocks = []
    if has_t:  # a project without a ticket log has no SLA block
        blocks += [h3("服务响应与解决时效"), _sla_block(ctx)]
    if has_i:
        blocks += [h3("调研邀请回复率"), _response_rate_block(ctx)]
        blocks += [h3("客户体验回馈报告:邀请与参与客户"), _feedback_block(ctx)]
    return join(*blocks)


def _sla_block(ctx: ReportContext) -> Html:
    from cxlab.ops import sla_summary
    from cxlab.plots import sla_bars

    t = ctx.table("tickets", current=True)
    if t.empty or "created_at" not in t.columns:
        return no_data("工单")
    rules = load_alert_rules(ctx)
    sla = sla_summary(t, targets=ctx.targets, resolution_hours=rules.service_levels.resolution_hours)
    sla = sla[sla["n"] > 0].reset_index(drop=True)
    sla["measure_cn"] = sla["measure"].map(lambda m: MEASURE_CN.get(m, m))
    sla["status_cn"] = sla["status"].map(STATUS_CN)
    sla.loc[(sla["n"] < MIN_BASE) & sla["status"].isin(["met", "missed"]), "status_cn"] += "(基数小)"
    sla["target_txt"] = [("—" if pd.isna(tg) else f"≤ {tg:g} {u}") for tg, u in zip(sla["target"], sla["unit"], strict=True)]
    missed = sla[sla["status"] == "missed"]
    comp = sla[(sla["channel"] == "全部") & (sla["segment"] == "投诉")]
    text = ""
    if len(comp):
        c = comp.iloc[0]
        text += (f"本期投诉工单 {int(c['n'])} 张,首次响应时长中位数 {c['median']:.2f} 小时,"
                 f"{_pct(c['pct_within'])} 在 {c['target']:g} 小时内响应。")
    text += ("各渠道时效中位数均达到服务标准。" if missed.empty else
             "未达标:" + "、".join(f"{r.channel}·{r.segment}·{r.measure_cn}" for r in missed.itertuples()) + "。")
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(int(sla["pct_within"].notna().sum()), 3) + 1.2))
    sla_bars(sla, ax=ax)
    blocks = [paragraph(text), figure(fig, alt="服务水平达标情况"),
              table(sla, columns={"channel": "渠道", "segment": "优先级/类型", "measure_cn": "环节",
                                  "unit": "单位", "n": "工单数", "median": "中位数", "p90": "90% 分位",
                                  "target_txt": "服务标准", "pct_within": "达标率", "status_cn": "状态"},
                    formats={"n": "int", "median": 2, "p90": 2, "pct_within": "pct"},
                    classes={"status_cn": status_class})]
    if ctx.is_company and "branch" in t.columns:
        by_b = sla_summary(t, targets=ctx.targets, resolution_hours=rules.service_levels.resolution_hours,
                           by="branch")
        by_b = by_b[(by_b["channel"] == "全部") & (by_b["segment"] == "投诉") & (by_b["n"] > 0)].copy()
        if len(by_b):
            by_b["branch_name"] = branch_names(ctx, by_b["branch"])
            by_b["status_cn"] = by_b["status"].map(STATUS_CN)
            by_b.loc[by_b["n"] < MIN_BASE, "status_cn"] += "(基数小)"
            slow = by_b.sort_values("median", ascending=False).iloc[0]
            blocks += [paragraph(f"分机构看,投诉首次响应最慢的是{slow['branch_name']}"
                                 f"(中位数 {slow['median']:.2f} 小时,达标率 {_pct(slow['pct_within'])})。"),
                       table(by_b.sort_values("median", ascending=False),
                             columns={"branch_name": "分支机构", "n": "投诉工单数", "median": "首次响应中位数(小时)",
                                      "p90": "90% 分位(小时)", "pct_within": "2 小时内响应占比",
                                      "status_cn": "状态"},
                             formats={"n": "int", "median": 2, "p90": 2, "pct_within": "pct"},
                             classes={"status_cn": status_class})]
    blocks.append(note("时长为工单创建到首次响应/解决的小时数(电话为接听秒数),取中位数和 90% 分位;"
                       "“状态”以中位数对照服务标准(公司《客户体验品牌规程》的时限;解决时效按预警规则的服务水平),"
                       "达标率为在标准内完成的工单占比。工单为全量统计,基数少于 30 时标注“基数小”。"))
    return join(*blocks)


def _response_rate_block(ctx: ReportContext) -> Html:
    from cxlab.ops import response_rates

    inv = ctx.table("invitations", current=True)
    if inv.empty or "responded" not in inv.columns:
        return no_data("邀请记录")
    cols = {"sent": "邀请数", "responded": "回复数", "rate": "回复率", "ci_low": "95% 下限",
            "ci_high": "95% 上限"}
    fmts = {"sent": "int", "responded": "int", "rate": "pct", "ci_low": "pct", "ci_high": "pct"}
    blocks = []
    texts = []
    for key, name in (("channel", "渠道"), ("trigger", "触发场景")):
        if key not in inv.columns:
            continue
        rr = response_rates(inv, by=key).sort_values("rate", ascending=False)
        best, worst = rr.iloc[0], rr.iloc[-1]
        texts.append(f"按{name},{best[key]}回复率最高({best['rate']:.1f}%),{worst[key]}最低({worst['rate']:.1f}%)")
        blocks.append(table(rr, columns={key: name} | cols, formats=fmts, caption=f"按{name}"))
    if {"channel", "trigger"} <= set(inv.columns):
        both = response_rates(inv, by=("channel", "trigger"))
        grid = both.pivot(index="channel", columns="trigger", values="rate").reset_index()
        trig = [c for c in grid.columns if c != "channel"]
        blocks.append(table(grid, columns={"channel": "渠道"} | {t: f"{t}回复率" for t in trig},
                            formats={t: "pct" for t in trig}, caption="渠道 × 触发场景回复率"))
    total = inv["responded"].astype(float)
    head = paragraph(f"本期共发出调研邀请 {len(inv):,} 次,回复 {int(total.sum()):,} 次,"
                     f"总体回复率 {100 * total.mean():.1f}%。" + ";".join(texts) + "。")
    return join(head, *blocks,
                note("回复率 = 回复数 / 邀请数;区间为 Wilson 95% 置信区间。据此调整各渠道的投放和提醒策略。"))


def _feedback_block(ctx: ReportContext) -> Html:
    from cxlab.ops import feedback_summary

    inv = ctx.table("invitations", current=True)
    customers = ctx.table("customers")
    if inv.empty or customers.empty or not {"industry", "customer_type"} <= set(customers.columns):
        return no_data("邀请或客户档案")
    fs = feedback_summary(inv, customers, industries=ctx.org.industries,
                          customer_types=ctx.org.customer_types)
    types = [t for t in fs["customer_type"].unique() if t != "全部"]
    inv_w = fs.pivot(index="industry", columns="customer_type", values="invited")
    par_w = fs.pivot(index="industry", columns="customer_type", values="participated")
    order = list(dict.fromkeys(fs["industry"]))
    wide = pd.DataFrame({"industry": order})
    cols = {"industry": "行业"}
    fmts = {}
    wide["invited"] = inv_w.loc[order, "全部"].to_numpy()
    cols["invited"] = "邀请客户数"
    for t in types:
        wide[f"inv_{t}"] = inv_w.loc[order, t].to_numpy()
        cols[f"inv_{t}"] = f"其中{t}"
    wide["participated"] = par_w.loc[order, "全部"].to_numpy()
    cols["participated"] = "参与客户数"
    for t in types:
        wide[f"par_{t}"] = par_w.loc[order, t].to_numpy()
        cols[f"par_{t}"] = f"参与{t}"
    rate = fs[fs["customer_type"] == "全部"].set_index("industry")["participation_rate"]
    wide["rate"] = rate.loc[order].to_numpy()
    cols["rate"] = "参与率"
    for c in cols:
        if c not in ("industry", "rate"):
            fmts[c] = "int"
    fmts["rate"] = "pct"
    wide["industry"] = wide["industry"].replace({"全部": "合计"})

    parts = []
    for ind in order:
        if ind == "全部":
            continue
        r = fs[fs["industry"] == ind].set_index("customer_type")
        detail = ",".join(f"{t} {int(r.loc[t, 'invited'])} 个" for t in types)
        parts.append(f"{ind}行业的客户 {int(r.loc['全部', 'invited'])} 个({detail})")
    tot = fs[(fs["industry"] == "全部") & (fs["customer_type"] == "全部")].iloc[0]
    text = (f"在本次体验工作中,共邀请 {int(tot['invited']):,} 个客户参加本次体验调研,其中"
            + ";".join(parts) + f"。实际参与 {int(tot['participated']):,} 个,参与率 {tot['participation_rate']:.1f}%。")
    return join(paragraph(text), table(wide, columns=cols, formats=fmts),
                note("按客户去重计数(同一客户多次邀请只计一次;至少回复一次即为参与);行业与客户类型取自 CRM 客户档案。"
                     "格式对应《客户体验回馈报告》5.2 客户体验工作结果概述。"))


# --------------------------------------------------------------------------- journey
def _journey_items(ctx: ReportContext) -> list[str]:
    """The items the journey section scores (those :func:`cxlab.ops.journey_scores` takes)."""
    from cxlab.ops._journey import _five_point_items

    return _five_point_items(ctx.codebook)


def _company_touchpoints(ctx: ReportContext) -> pd.DataFrame:
    """Company touchpoint means and top-2 shares pooled from the aggregates over the
    touchpoint's items (answers × item means), as :func:`cxlab.ops.journey_scores` pools them.

    In a weighted report whose aggregates carry the weighted item sums (``<item>__wmean``,
    ``__wsum``, ``__wtop2``), every answer counts its respondent's weight, as
    :func:`cxlab.ops.journey_scores` with ``weight=`` does for the branch
    (:func:`cxlab.report._aggregates.pooled_items`)."""
    from cxlab.report._aggregates import pooled_items

    agg = ctx.aggregates[ctx.aggregates["period"].astype(str) == ctx.period]
    items = _journey_items(ctx)
    p = pooled_items(agg, items, weighted=ctx.weighted)
    meta = {i: ctx.codebook.item(i) for i in items}
    p["journey"] = [meta[i].journey for i in p["item"]]
    p["touchpoint"] = [meta[i].touchpoint for i in p["item"]]
    g = p.groupby(["journey", "touchpoint"], sort=False).agg(
        x_sum=("x_sum", "sum"), x_base=("x_base", "sum"), top_sum=("top_sum", "sum"),
        top_base=("top_base", "sum"), weighted=("weighted", "all")).reset_index()
    g["company_mean"] = g["x_sum"] / g["x_base"].where(g["x_base"] > 0)
    g["company_top2"] = 100 * g["top_sum"] / g["top_base"].where(g["top_base"] > 0)
    return g[["journey", "touchpoint", "company_mean", "company_top2", "weighted"]]


def journey(ctx: ReportContext) -> Html:
    """Scores by journey stage and touchpoint; the weakest touchpoints per branch."""
    from cxlab.ops import journey_scores, weakest_touchpoints
    from cxlab.plots import journey_heatmap

    cur = ctx.current
    n = len(cur)
    if n == 0:
        return no_data()
    if n < MIN_BASE:
        return _base_note(n, "本期")
    w = ctx.weight
    js = journey_scores(cur, codebook=ctx.codebook, weight=w)
    low = js.sort_values("mean").iloc[0]
    high = js.sort_values("mean").iloc[-1]
    blocks = [_base_note(n, "本期"),
              paragraph(f"{scope_label(ctx)}各旅程触点中,得分最低的是“{low['journey']} · {low['touchpoint']}”"
                        f"(均值 {low['mean']:.2f},好评率 {low['top2']:.1f}%),"
                        f"最高的是“{high['journey']} · {high['touchpoint']}”(均值 {high['mean']:.2f})。")]
    if ctx.is_company and "branch" in cur.columns:
        sizes = cur.groupby("branch").size()
        ok = sizes[sizes >= MIN_BASE].index
        by_b = journey_scores(cur[cur["branch"].isin(ok)], codebook=ctx.codebook, by="branch",
                              weight=w)
        by_b["branch"] = branch_names(ctx, by_b["branch"])
        fig, ax = plt.subplots(figsize=(max(6, 0.75 * len(ok) + 3), 4.6))
        journey_heatmap(by_b, columns="branch", ax=ax)
        blocks.append(figure(fig, alt="客户旅程触点得分"))
        if len(sizes) > len(ok):
            small = "、".join(branch_names(ctx, sizes[sizes < MIN_BASE].index))
            blocks.append(note(f"{small}本期样本量少于 {MIN_BASE},未列入热力图与短板排名。"))
    else:
        fig, ax = plt.subplots(figsize=(4.5, 4.6))
        journey_heatmap(js, ax=ax)
        ax.collections[0].colorbar.ax.set_ylabel("均值(1-5)")
        ax.set_xticklabels([scope_label(ctx)])
        blocks.append(figure(fig, alt="客户旅程触点得分"))
    js_cols = {"journey": "旅程阶段", "touchpoint": "触点", "n_items": "题目数",
               "n": "回答数(未加权)" if w else "回答数"}
    if w:  # the weighted base beside the unweighted one
        js_cols["weighted_n"] = "加权回答数"
    js_cols |= {"mean": "均值(1-5)", "top2": "好评率%"}
    blocks.append(table(js, columns=js_cols,
                        formats={"n_items": "int", "n": "int", "weighted_n": 1, "mean": 2}))
    blocks.append(h3("短板触点"))
    if ctx.is_company:
        sizes = cur.groupby("branch").size()
        ok = sizes[sizes >= MIN_BASE].index
        w = weakest_touchpoints(cur[cur["branch"].isin(ok)], codebook=ctx.codebook, by="branch", k=3,
                                min_n=MIN_BASE, weight=ctx.weight)
        w["branch_name"] = branch_names(ctx, w["branch"])
        worst = w.sort_values("gap").iloc[0] if len(w) else None
        if worst is not None:
            blocks.append(paragraph(f"与全公司相比差距最大的短板是{worst['branch_name']}的“{worst['touchpoint']}”"
                                    f"(均值 {worst['mean']:.2f},低于全公司 {-worst['gap']:.2f})。"))
        blocks.append(table(w, columns={"branch_name": "分支机构", "rank": "排序", "journey": "旅程阶段",
                                        "touchpoint": "触点",
                                        "n": "回答数(未加权)" if ctx.weighted else "回答数",
                                        "mean": "均值",
                                        "top2": "好评率%", "company_mean": "全公司均值", "gap": "差距"},
                            formats={"rank": "int", "n": "int", "mean": 2, "company_mean": 2, "gap": 2},
                            classes={"gap": lambda v: "cx-bad" if v < -0.1 else None}))
    else:
        comp = _company_touchpoints(ctx)
        comp_w = bool(len(comp)) and bool(comp["weighted"].all())
        own = js[js["n"] >= MIN_BASE].merge(comp.drop(columns="weighted"),
                                            on=["journey", "touchpoint"], how="left")
        own["gap"] = own["mean"] - own["company_mean"]
        w = own.sort_values(["mean", "touchpoint"]).head(3).copy()
        w["rank"] = np.arange(1, len(w) + 1)
        if len(w):
            r = w.iloc[0]
            gap = "" if pd.isna(r["gap"]) else f",与全公司差距 {r['gap']:+.2f}"
            blocks.append(paragraph(f"本机构最弱的触点是“{r['touchpoint']}”(均值 {r['mean']:.2f}{gap})。"))
        blocks.append(table(w, columns={"rank": "排序", "journey": "旅程阶段", "touchpoint": "触点",
                                        "n": "回答数(未加权)" if ctx.weighted else "回答数",
                                        "mean": "均值", "top2": "好评率%",
                                        "company_mean": "全公司均值", "gap": "差距"},
                            formats={"rank": "int", "n": "int", "mean": 2, "company_mean": 2, "gap": 2},
                            classes={"gap": lambda v: "cx-bad" if not pd.isna(v) and v < -0.1 else None}))
    from cxlab.report._base import scale_text, top_names

    items = [i for i in _journey_items(ctx) if i in cur.columns]
    tops = "/".join(dict.fromkeys(n for i in items for n in reversed(top_names(ctx, i))))
    blocks.append(note(f"触点得分汇总该触点下所有{scale_text(ctx, items)}题目的回答;好评率为“{tops}”占比。"
                       "短板为各机构均值最低的三个触点(回答数不少于 30),差距为负表示低于全公司。"
                       + ("均值与好评率按调查权重加权(每个回答计其受访者的权重),回答数为未加权人次"
                          + ("。" if ctx.is_company else
                              ";全公司均值来自各机构的加权汇总数据(按权重和合并各机构的加权均值)。"
                              if comp_w else
                              ";全公司数值来自各机构汇总数据(未加权)。")
                          if ctx.weighted else "")))
    return join(*blocks)


# --------------------------------------------------------------------------- audits
def audits(ctx: ReportContext) -> Html:
    """Mystery-shopper and QA-check scores, fatal/general error rates against limits."""
    from cxlab.ops import audit_summary

    a = ctx.table("audits", current=True)
    if a.empty or "items_checked" not in a.columns:
        return no_data()
    rules = load_alert_rules(ctx)
    lim = rules.audit_limits
    type_col = "audit_type" if "audit_type" in a.columns else None
    if ctx.is_company:
        s = audit_summary(a, limits=lim, by="branch")
        s["name"] = branch_names(ctx, s["branch"])
        first_col = {"name": "分支机构"}
    else:
        s = audit_summary(a, limits=lim, by=type_col) if type_col else audit_summary(a, limits=lim, by=None)
        s["name"] = s[type_col] if type_col else ctx.scope_name
        first_col = {"name": "检查类型"}
    total = audit_summary(a, limits=lim, by=None)
    total["name"] = "全公司合计" if ctx.is_company else "合计"
    shown = pd.concat([s, total], ignore_index=True)
    shown["status_cn"] = shown["status"].map(STATUS_CN)
    bad = s[s["status"] == "missed"]
    tt = total.iloc[0]
    text = (f"本期共进行服务质量检查 {int(tt['audits'])} 次(检查项 {int(tt['items_checked']):,} 个),"
            f"平均得分 {tt['mean_score']:.1f},致命错误率 {tt['fatal_rate']:.2f}%(上限 {lim.fatal_error_rate:g}%),"
            f"一般错误率 {tt['general_rate']:.2f}%(上限 {lim.general_error_rate:g}%)。")
    if ctx.is_company:
        text += ("超出限值、需整改的机构:" + "、".join(bad["name"]) + "。") if len(bad) else "各机构均在限值以内。"
    blocks = [paragraph(text),
              table(shown, columns=first_col | {
                  "audits": "检查次数", "items_checked": "检查项数", "mean_score": "平均得分",
                  "fatal_errors": "致命错误", "general_errors": "一般错误", "fatal_rate": "致命错误率%",
                  "general_rate": "一般错误率%", "status_cn": "状态"},
                  formats={"audits": "int", "items_checked": "int", "mean_score": 1, "fatal_errors": "int",
                           "general_errors": "int", "fatal_rate": 2, "general_rate": 2},
                  classes={"status_cn": status_class,
                           "fatal_rate": lambda v: "cx-bad" if not pd.isna(v) and v > lim.fatal_error_rate else None,
                           "general_rate": lambda v: "cx-bad" if not pd.isna(v) and v > lim.general_error_rate else None})]
    if type_col and ctx.is_company:
        by_t = audit_summary(a, limits=lim, by=type_col)
        by_t["status_cn"] = by_t["status"].map(STATUS_CN)
        blocks.append(table(by_t, columns={type_col: "检查类型", "audits": "检查次数",
                                           "items_checked": "检查项数", "mean_score": "平均得分",
                                           "fatal_rate": "致命错误率%", "general_rate": "一般错误率%",
                                           "status_cn": "状态"},
                            formats={"audits": "int", "items_checked": "int", "mean_score": 1,
                                     "fatal_rate": 2, "general_rate": 2},
                            classes={"status_cn": status_class}, caption="按检查类型(神秘顾客 / 质检抽查)"))
    min_score = f",平均得分不低于 {lim.min_score:g}" if lim.min_score is not None else ""
    blocks.append(note("错误率 = 错误数 / 检查项数 × 100%(致命错误率、一般错误率)。达标:两项错误率均不超过上限"
                       f"(致命 {lim.fatal_error_rate:g}%、一般 {lim.general_error_rate:g}%{min_score};"
                       "上限取自预警规则的质检控制线)。每机构每期检查次数少,结果宜结合多期观察。"))
    return join(*blocks)


# --------------------------------------------------------------------------- A/B tests
def ab_tests(ctx: ReportContext) -> Html:
    """Service-script A/B test: difference in solution satisfaction (top-2 box) with CI and p."""
    from cxlab.ops import ab_sample_size, ab_test

    if not ctx.is_company:
        return note("服务话术 A/B 测试在公司层面评估,结果见公司报告。")
    t = upto(ctx, "tickets")
    need = {"script_variant", "solution_satisfaction"}
    if t.empty or not need <= set(t.columns):
        return no_data()
    d = t[["period", "script_variant", "solution_satisfaction"]].copy()
    d["solution_satisfaction"] = pd.to_numeric(d["solution_satisfaction"], errors="coerce")
    d = d.dropna()
    if d["script_variant"].nunique() != 2:
        return no_data("A/B 测试(需要两个话术版本)")
    res = ab_test(d, variant="script_variant", metric="solution_satisfaction", success={4, 5})
    rows = [{"scope": f"累计({ctx.periods[0]}–{ctx.period})", "r": res}]
    for p in ctx.periods:
        sub = d[d["period"] == p]
        if sub["script_variant"].nunique() == 2:
            rows.append({"scope": p, "r": ab_test(sub, variant="script_variant",
                                                  metric="solution_satisfaction", success={4, 5})})
    tab = pd.DataFrame([{
        "scope": x["scope"], "n_c": x["r"].n_control, "p_c": 100 * x["r"].estimate_control,
        "n_t": x["r"].n_treatment, "p_t": 100 * x["r"].estimate_treatment,
        "diff": 100 * x["r"].diff, "ci": f"{100 * x['r'].ci_low:+.1f} ~ {100 * x['r'].ci_high:+.1f}",
        "pvalue": x["r"].pvalue,
        "flag": "样本不足" if min(x["r"].n_control, x["r"].n_treatment) < MIN_BASE else
                ("显著" if x["r"].pvalue < ALPHA else "不显著")} for x in rows])
    c, tr = res.control, res.treatment
    sig = res.pvalue < ALPHA
    text = (f"话术 {tr} 的解决方案满意度(4–5 分占比)为 {100 * res.estimate_treatment:.1f}%,"
            f"话术 {c} 为 {100 * res.estimate_control:.1f}%,差异 {100 * res.diff:+.1f} 个百分点"
            f"(95% 置信区间 {100 * res.ci_low:+.1f} ~ {100 * res.ci_high:+.1f},{p_text(res.pvalue)}),"
            + (f"差异显著,建议推广话术 {tr if res.diff > 0 else c}。" if sig else "差异不显著,暂不足以下结论。"))
    base = res.estimate_control
    ss = []
    for mde in AB_MDES:
        if 0 < base + mde < 1:
            ss.append({"mde": f"{100 * mde:.0f} 个百分点", "n": ab_sample_size(base, mde),
                       "have": min(res.n_control, res.n_treatment)})
    if res.diff > 0 and 0 < base + res.diff < 1:
        ss.append({"mde": f"{100 * res.diff:.1f} 个百分点(本次观测差异)", "n": ab_sample_size(base, res.diff),
                   "have": min(res.n_control, res.n_treatment)})
    ss = pd.DataFrame(ss)
    if len(ss):
        ss["enough"] = np.where(ss["have"] >= ss["n"], "已满足", "不足")
    return join(
        paragraph(text),
        table(tab, columns={"scope": "期间", "n_c": f"话术 {c} 样本", "p_c": f"话术 {c} 满意度%",
                            "n_t": f"话术 {tr} 样本", "p_t": f"话术 {tr} 满意度%",
                            "diff": "差异(百分点)", "ci": "95% 置信区间", "pvalue": "p 值", "flag": "结论"},
              formats={"n_c": "int", "n_t": "int", "p_c": 1, "p_t": 1, "diff": 1, "pvalue": pcell},
              classes={"flag": lambda v: "cx-flag-met" if v == "显著" else ("cx-muted" if v == "样本不足" else None)}),
        h3("所需样本量"),
        table(ss, columns={"mde": "最小可检测差异", "n": "每组所需样本", "have": "当前每组样本(较少组)",
                           "enough": "是否满足"}, formats={"n": "int", "have": "int"})
        if len(ss) else Html(""),
        note(f"对象为已回访满意度的工单,按话术版本随机分组;指标为解决方案满意度 4–5 分占比。"
             f"p 值为两比例 z 检验(合并方差),区间为差值的 Wald 95% 区间。"
             f"样本量按双侧 α = 0.05、检验效能 80%,以话术 {c} 的满意度 {100 * base:.1f}% 为基线计算(Fleiss 等 2003)。"),
    )


# --------------------------------------------------------------------------- price & channel
def price_channel(ctx: ReportContext) -> Html:
    """直估价格 vs 心理预期价值 and preferred purchase channels, by customer type; shares and
    means weighted when the report is (counts unweighted, weighted bases beside them)."""
    from cxlab.ops import channel_preference, price_gap

    cur = ctx.current
    need = {"price_direct", "price_expected"}
    if cur.empty or not need <= set(cur.columns):
        return no_data()
    n = int(cur[list(need)].notna().all(axis=1).sum())
    if n < MIN_BASE:
        return _base_note(n, "价格认知")
    w = ctx.weight
    data = cur
    customers = ctx.table("customers")
    has_type = False
    if len(customers) and {"customer_id", "customer_type"} <= set(customers.columns) and "customer_id" in cur.columns:
        from cxlab.segments import fuse

        data = fuse(cur, customers.drop_duplicates("customer_id"), columns=["customer_type"]).data
        data["customer_type"] = data["customer_type"].astype(object).where(data["customer_type"].notna(), "未匹配")
        has_type = True
    pg = price_gap(data, codebook=ctx.codebook, weight=w)
    s = pg.summary.iloc[0]
    base = (f"在同时回答两题的 {int(s['n']):,} 位客户中(加权 {s['weighted_n']:,.1f},"
            f"有效样本量 {s['effective_n']:,.1f};以下比例与均值为加权估计)" if w
            else f"在同时回答两题的 {int(s['n']):,} 位客户中")
    blocks = [_base_note(n, "价格认知"),
              paragraph(f"{base},{s['pct_below']:.1f}% 认为直估价格高于其心理预期价值"
                        f"(价格偏高),{s['pct_equal']:.1f}% 认为两者相当,{s['pct_above']:.1f}% 认为物超所值;"
                        f"平均差距 {s['mean_gap']:+.2f} 档。")]
    unw, pct = ("(未加权)", "%(加权)") if w else ("", "%")
    blocks.append(table(pg.bands, columns={"band": "价格区间", "direct_n": "直估价格人数" + unw,
                                           "direct_pct": "直估价格" + pct,
                                           "expected_n": "心理预期人数" + unw,
                                           "expected_pct": "心理预期" + pct},
                        formats={"direct_n": "int", "expected_n": "int", "direct_pct": 1, "expected_pct": 1},
                        caption="价格区间分布"))
    if has_type:
        by = price_gap(data, codebook=ctx.codebook, by="customer_type", weight=w).summary
        by["base"] = [("样本不足" if v < MIN_BASE else "基数小" if v < CAUTION_BASE else "") for v in by["n"]]
        for c in ("mean_gap", "pct_above", "pct_equal", "pct_below"):
            by.loc[by["n"] < MIN_BASE, c] = np.nan
        cols = {"customer_type": "客户类型", "n": "人数" + unw}
        if w:  # the weighted base and Kish effective n beside the unweighted one
            cols |= {"weighted_n": "加权人数", "effective_n": "有效样本量"}
        cols |= {"mean_gap": "平均差距(档)", "pct_below": "价格偏高" + pct, "pct_equal": "相当" + pct,
                 "pct_above": "物超所值" + pct, "base": "提示"}
        blocks.append(table(by, columns=cols,
                            formats={"n": "int", "weighted_n": 1, "effective_n": 1, "mean_gap": 2},
                            caption="按客户类型"))
    if "purchase_channel" in cur.columns:
        ch = channel_preference(data, codebook=ctx.codebook, weight=w)
        if len(ch) and ch["n_respondents"].iloc[0] >= MIN_BASE:
            top = ch.sort_values("pct", ascending=False).iloc[0]
            blocks.append(h3("偏好购买渠道"))
            nr = int(ch["n_respondents"].iloc[0])
            blocks.append(paragraph(f"如购买,客户最常选择的渠道是{top['channel']}({top['pct']:.1f}%"
                                    + (f",加权;回答人数 {nr:,},加权 {ch['weighted_n'].iloc[0]:,.1f}"
                                       if w else "") + ")。"))
            cols = {"channel": "渠道", "n_selected": "选择人数" + unw, "pct": "选择比例" + pct}
            fmts = {"n_selected": "int", "pct": 1}
            wide = ch[["channel", "n_selected", "pct"]].copy()
            if has_type:
                byc = channel_preference(data, by="customer_type", codebook=ctx.codebook, weight=w)
                for t, sub in byc.groupby("customer_type", sort=True):
                    nt = int(sub["n_respondents"].iloc[0])
                    vals = sub.set_index("channel")["pct"]
                    wide[f"pct_{t}"] = wide["channel"].map(vals) if nt >= MIN_BASE else np.nan
                    cols[f"pct_{t}"] = (f"{t}{pct}(n={nt}" + (f",加权 {sub['weighted_n'].iloc[0]:,.1f}"
                                                              if w else "") + ")")
                    fmts[f"pct_{t}"] = 1
            blocks.append(table(wide, columns=cols, formats=fmts))
    blocks.append(note("价格分五档(300元以下 … 1,000元以上);差距 = 心理预期档位 − 直估价格档位,负值表示价格偏高。"
                       "购买渠道为多选,比例之和可超过 100%。客户类型取自 CRM(大客户/普通客户),"
                       f"某类客户少于 {MIN_BASE} 人时不报告其比例。"
                       + ("比例与平均差距按调查权重加权,人数为未加权人数,并列出加权人数与有效样本量(Kish)。"
                          if w else "")))
    return join(*blocks)


# --------------------------------------------------------------------------- scorecard
def scorecard(ctx: ReportContext) -> Html:
    """The 客户体验主管考核量表: ten weighted KPIs, value, target, score, max and total."""
    from cxlab.config import load_params
    from cxlab.ops import ScorecardRules
    from cxlab.ops import scorecard as score
    from cxlab.plots import scorecard_bars

    if not ctx.is_company:
        return note("客户体验主管考核量表为公司层面考核,见公司报告。")
    sa = ctx.table("scorecard_actuals", current=True)
    if sa.empty or not {"measure", "value"} <= set(sa.columns):
        return no_data()
    rules = load_params(ctx.params_dir / "scorecard.yaml", ScorecardRules)
    try:
        t = score(sa[["measure", "value"]], rules=rules)
    except ValueError as exc:  # a measure is missing for this period
        return note(f"考核数据不完整,无法评分:{exc}")
    sections_of = {k.id: k.section or "" for k in rules.kpis}
    t["section"] = t["kpi"].map(sections_of).fillna("")
    t["weight_pct"] = 100.0 * t["weight"]
    t["value_txt"] = [_fmt_value(v, u) if k != "total" else "—" for k, v, u in zip(t["kpi"], t["value"], t["unit"], strict=True)]
    tgt = {k.id: (f"≤ {k.target:g} 元" if k.lower_is_better else f"≥ {k.target:g}{k.unit}") for k in rules.kpis}
    t["target_txt"] = t["kpi"].map(tgt).fillna("—")
    t["lost"] = t["max_score"] - t["score"]
    body = t[t["kpi"] != "total"]
    total = t[t["kpi"] == "total"].iloc[0]
    lost = body[body["lost"] > 1e-9].sort_values("lost", ascending=False)
    text = f"本期客户体验主管考核总分 {total['score']:.1f} 分(满分 {total['max_score']:.0f} 分)。"
    if len(lost):
        text += "失分项目:" + "、".join(f"{r.label}(扣 {r.lost:.1f} 分)" for r in lost.itertuples()) + "。"
    else:
        text += "各项均得满分。"
    fig, ax = plt.subplots(figsize=(7, 4.2))
    scorecard_bars(t, ax=ax)
    return join(
        paragraph(text), figure(fig, alt="客户体验主管考核得分"),
        table(t, columns={"section": "考核维度", "label": "考核指标", "weight_pct": "权重%",
                          "value_txt": "实际值", "target_txt": "目标值", "score": "得分", "max_score": "满分"},
              formats={"weight_pct": 0, "score": 1, "max_score": 1},
              classes={"score": lambda v: None}),
        note("评分规则(《客户体验主管考核量表》):达到目标得满分(权重 × 100);每比目标少一个完整步长扣相应分数,"
             "低于不得分线得 0 分;单位成本越低越好。合计为各项得分之和。目标、步长与扣分为公司默认值,"
             "可按考核制度调整。"),
    )
