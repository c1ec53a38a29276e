"""``reports/index.html``: every report by period and unit (company → region → its branches,
indented), with headline KPIs and flags."""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

import pandas as pd

from cxlab.report._aggregates import load_aggregates

__all__ = ["headline_kpis", "write_index"]

COMPANY = "ALL"
_OP = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def headline_kpis(aggregates: pd.DataFrame, *, min_base: int = 30) -> pd.DataFrame:
    """NPS, CSAT (top-box %) and n per period × branch, plus a company row (``branch="ALL"``).

    ``items_top`` is the top-box share of all rating-item answers pooled (the index's headline
    when a questionnaire has neither NPS nor CSAT); weighted when the aggregates carry the
    items' weighted sums (``<item>__wtop2``, ``<item>__wsum``).

    ``nps`` and ``csat`` are NaN when the aggregates have no such counts (a questionnaire
    without the recommend or the satisfaction question), and weighted when the aggregates
    carry the weighted sums (a weighted warehouse).
    """
    from cxlab.ops._status import _SUMS, has_sums, sums_kpi

    cols = [c for c in ("n", "promoters", "passives", "detractors", "csat_n", "csat_top2",
                        *_SUMS["nps"], *_SUMS["csat"]) if c in aggregates.columns]
    company = aggregates.groupby("period", as_index=False)[cols].sum()
    company["branch"] = COMPANY
    df = pd.concat([company, aggregates[["period", "branch", *cols]]], ignore_index=True)
    n = df["n"].where(df["n"] > 0)
    df["nps"] = (100 * (df["promoters"] - df["detractors"]) / n if "promoters" in df.columns
                 else float("nan"))
    df["csat"] = (100 * df["csat_top2"] / df["csat_n"].where(df["csat_n"] > 0)
                  if "csat_n" in df.columns else float("nan"))
    # weighted aggregates: the weighted estimates from the (summed) weighted sums, as the
    # reports and the index's status flags
    for metric, base in (("nps", "n"), ("csat", "csat_n")):
        if has_sums(df, metric):
            df[metric] = [sums_kpi(metric, r)["value"] if r[base] > 0 else float("nan")
                          for _, r in df.iterrows()]
    tops = [c for c in aggregates.columns if c.endswith("__top2")]
    if tops:  # pooled top-box share of the rating items: the headline without NPS and CSAT
        bases = [c[: -len("__top2")] + "__n" for c in tops]
        wtops = [c[: -len("__top2")] + "__wtop2" for c in tops]
        wbases = [c[: -len("__top2")] + "__wsum" for c in tops]
        if set(wtops + wbases) <= set(aggregates.columns):  # weighted, like nps and csat
            tops, bases = wtops, wbases
        sums = aggregates.assign(_t=aggregates[tops].sum(axis=1), _b=aggregates[bases].sum(axis=1))
        comp = sums.groupby("period")[["_t", "_b"]].sum()
        top = pd.concat([comp.assign(branch=COMPANY).reset_index(),
                         sums[["period", "branch", "_t", "_b"]]], ignore_index=True)
        df["items_top"] = 100 * top["_t"] / top["_b"].where(top["_b"] > 0)
    else:
        df["items_top"] = float("nan")
    df["suppressed"] = df["n"] < min_base
    return df[["period", "branch", "n", "nps", "csat", "items_top", "suppressed"]]


def _target(targets, kpi: str):
    if targets is None:
        return None
    try:
        return targets.kpi(kpi)
    except KeyError:
        return None


def _fmt(value: float, suppressed: bool) -> str:
    if suppressed or pd.isna(value):
        return '<span class="cx-muted">样本不足</span>'
    return f"{value:.1f}"


def write_index(output_dir: str | Path, *, warehouse: str | Path,
                params_dir: str | Path = "params") -> Path:
    """Write the index page linking every rendered report; returns its path."""
    from cxlab.config import load_org, load_targets
    from cxlab.report._export import atomic_write, report_css

    output_dir = Path(output_dir)
    params_dir = Path(params_dir)
    org = load_org(params_dir / "org.yaml")
    targets = (load_targets(params_dir / "targets.yaml")
               if (params_dir / "targets.yaml").is_file() else None)
    aggregates = load_aggregates(warehouse)
    from cxlab.report._runner import region_scopes

    scopes = region_scopes(org)
    kpis = headline_kpis(aggregates)
    if scopes:  # a row per region: the sums of its branches' counts
        agg = aggregates.assign(branch=aggregates["branch"].astype(str))
        summed = pd.concat([agg[agg["branch"].isin(b)].assign(branch=u)
                            for u, b in scopes.items()], ignore_index=True)
        counts = [c for c in summed.columns if c not in ("period", "branch")
                  and not c.endswith("__mean") and c != "ces_mean"]
        summed = summed.groupby(["period", "branch"], as_index=False)[counts].sum()
        if not summed.empty:
            units = headline_kpis(summed)
            kpis = pd.concat([kpis, units[units["branch"] != COMPANY]], ignore_index=True)
    # a column only for the headline metrics the questionnaire has
    shown = [(k, h) for k, h, src in (("nps", "NPS", "promoters"), ("csat", "CSAT(%)", "csat_n"))
             if src in aggregates.columns]
    if not shown and kpis["items_top"].notna().any():
        shown = [("items_top", "评价项目好评率(%)")]
    tgt = {k: _target(targets, k) for k, _ in shown}
    judged = {k: t for k, t in tgt.items() if t is not None}
    names = {COMPANY: f"{org.company.name}(全公司)"} | {u.code: u.name for u, _ in org.walk()}
    depth = {COMPANY: 0} | {u.code: len(p) + 1 for u, p in org.walk()}
    # grouped: company, then each region followed by its units, indented by depth
    order = [COMPANY, *(u.code for u, _ in org.walk())]

    rule = ",".join(f"{h.split('(')[0]} {_OP.get(t.op, t.op)} {t.target:g}{'%' if k == 'csat' else ''}"
                    for k, h in shown if (t := judged.get(k)) is not None)
    from cxlab.ops._status import DESIGN_TEST_CN
    from cxlab.report._inference import comparison_method, index_status, is_weighted

    flags = (index_status(aggregates, targets, method=comparison_method(params_dir),
                          groups={u: list(b) for u, b in scopes.items()})
             if "promoters" in aggregates.columns else {})
    intro = ("每期一份公司报告、" + ("每个区域一份区域报告、" if scopes else "")
             + "每个分支机构一份报告。"
             + (f"标红表示显著低于目标({rule};95% 置信区间上限低于目标)或 NPS 较上期显著下降,"
                "需整改;" if rule else "")
             + "样本量不足 30 的结果不予显示。"
             + (f"NPS、CSAT 与状态为加权估计(调查权重,由各机构的加权汇总数据计算,区域与全公司"
                f"为其下机构之和;环比检验为{DESIGN_TEST_CN}),样本量为未加权人数。"
                if is_weighted(aggregates) else ""))
    parts = [f"<h1>{escape(org.company.name)} 客户体验调研报告</h1>",
             f'<p class="cx-note">{escape(intro)}</p>']
    for period in sorted(kpis["period"].unique(), reverse=True):
        rows = kpis[kpis["period"] == period]
        rows = rows.set_index("branch").reindex([b for b in order if b in set(rows["branch"])])
        parts.append(f"<h2>{escape(period)}</h2>")
        head = "".join(f"<th>{escape(h)}</th>" for _, h in shown)
        status_head = "<th>状态</th>" if judged else ""
        parts.append(f"<table><thead><tr><th>机构</th><th>样本量</th>"
                     f"{head}{status_head}<th>报告</th></tr></thead><tbody>")
        for code, r in rows.iterrows():
            sup = bool(r["suppressed"])
            cells = "".join(f"<td>{_fmt(r[k], sup)}</td>" for k, _ in shown)
            status = ""
            if judged:
                missed = (not sup) and any(not t.met(r[k]) for k, t in judged.items()
                                           if not pd.isna(r[k]))
                flag = flags.get((str(period), str(code)))
                if flag is not None:  # significance-aware (cxlab.report._inference)
                    missed = "需整改" in flag
                status = (f'<span class="cx-flag-missed">{escape(flag or "未达标 · 需整改")}</span>'
                          if missed else
                          '<span class="cx-muted">—</span>' if sup else
                          f'<span class="cx-muted">{escape(flag)}</span>'
                          if flag not in (None, "达标", "—") else
                          '<span class="cx-flag-met">达标</span>')
                status = f"<td>{status}</td>"
            links = []
            for fmt, label in (("html", "网页"), ("pdf", "PDF")):
                if (output_dir / period / f"{code}.{fmt}").exists():
                    links.append(f'<a href="{escape(period)}/{escape(code)}.{fmt}">{label}</a>')
            label = escape(names.get(code, code))
            if code in scopes or code == COMPANY:
                label = f"<strong>{label}</strong>"
            indent = depth.get(code, 1)
            style = f' style="padding-left: {0.5 + 1.5 * indent:g}em"' if indent else ""
            parts.append(
                f'<tr class="cx-depth-{indent}"><td{style}>{label}</td>'
                f"<td>{int(r['n'])}</td>{cells}{status}"
                f"<td>{' · '.join(links) or '<span class=cx-muted>未生成</span>'}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append(f'<p class="cx-provenance">生成时间 {datetime.now():%Y-%m-%d %H:%M}</p>')
    html = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f"<title>{escape(org.company.name)} 客户体验报告索引</title>"
            f"<style>{report_css()}</style></head><body><main class=\"report\">"
            + "\n".join(parts) + "</main></body></html>")
    from cxlab.report._typography import typeset

    return atomic_write(output_dir / "index.html", typeset(html))
