"""``reports/index.html``: every report by period and branch, with headline KPIs and flags."""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

import pandas as pd

from cxlab.report._aggregates import load_aggregates

__all__ = ["headline_kpis", "write_index"]

COMPANY = "ALL"


def headline_kpis(aggregates: pd.DataFrame, *, min_base: int = 30) -> pd.DataFrame:
    """NPS, CSAT (top-2 %) and n per period × branch, plus a company row (``branch="ALL"``)."""
    cols = ["n", "promoters", "detractors", "csat_n", "csat_top2"]
    company = aggregates.groupby("period", as_index=False)[cols].sum()
    company["branch"] = COMPANY
    df = pd.concat([company, aggregates[["period", "branch", *cols]]], ignore_index=True)
    n = df["n"].where(df["n"] > 0)
    df["nps"] = 100 * (df["promoters"] - df["detractors"]) / n
    df["csat"] = 100 * df["csat_top2"] / df["csat_n"].where(df["csat_n"] > 0)
    df["suppressed"] = df["n"] < min_base
    return df[["period", "branch", "n", "nps", "csat", "suppressed"]]


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
    org = load_org(Path(params_dir) / "org.yaml")
    targets = load_targets(Path(params_dir) / "targets.yaml")
    nps_t, csat_t = targets.kpi("nps"), targets.kpi("csat")
    kpis = headline_kpis(load_aggregates(warehouse))
    names = {COMPANY: f"{org.company.name}(全公司)"} | {b.code: b.name for b in org.branches}
    regions = {b.code: org.region_name(b.code) for b in org.branches} | {COMPANY: "—"}

    parts = [f"<h1>{escape(org.company.name)} 客户体验调研报告</h1>",
             '<p class="cx-note">每期一份公司报告和每个分支机构一份报告。'
             f"标红表示未达目标(NPS ≥ {nps_t.target:g},CSAT ≥ {csat_t.target:g}%),"
             "需整改;样本量不足 30 的结果不予显示。</p>"]
    for period in sorted(kpis["period"].unique(), reverse=True):
        rows = kpis[kpis["period"] == period]
        order = [COMPANY, *org.branch_codes]
        rows = rows.set_index("branch").reindex([b for b in order if b in set(rows["branch"])])
        parts.append(f"<h2>{escape(period)}</h2>")
        parts.append("<table><thead><tr><th>机构</th><th>区域</th><th>样本量</th><th>NPS</th>"
                     "<th>CSAT(%)</th><th>状态</th><th>报告</th></tr></thead><tbody>")
        for code, r in rows.iterrows():
            sup = bool(r["suppressed"])
            missed = (not sup) and (not nps_t.met(r["nps"]) or not csat_t.met(r["csat"]))
            status = ('<span class="cx-flag-missed">未达标 · 需整改</span>' if missed else
                      '<span class="cx-muted">—</span>' if sup else
                      '<span class="cx-flag-met">达标</span>')
            links = []
            for fmt, label in (("html", "网页"), ("pdf", "PDF")):
                if (output_dir / period / f"{code}.{fmt}").exists():
                    links.append(f'<a href="{escape(period)}/{escape(code)}.{fmt}">{label}</a>')
            parts.append(
                f"<tr><td>{escape(names.get(code, code))}</td><td>{escape(regions.get(code, ''))}</td>"
                f"<td>{int(r['n'])}</td><td>{_fmt(r['nps'], sup)}</td><td>{_fmt(r['csat'], sup)}</td>"
                f"<td>{status}</td><td>{' · '.join(links) or '<span class=cx-muted>未生成</span>'}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append(f'<p class="cx-provenance">生成时间 {datetime.now():%Y-%m-%d %H:%M}</p>')
    html = ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1.0">'
            f"<title>{escape(org.company.name)} 客户体验报告索引</title>"
            f"<style>{report_css()}</style></head><body><main class=\"report\">"
            + "\n".join(parts) + "</main></body></html>")
    return atomic_write(output_dir / "index.html", html)
