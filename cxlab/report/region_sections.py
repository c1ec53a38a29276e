"""Region reports (区域报告): one report per grouping unit of the organisation (a region, or any
unit with sub-units) — its branches' league table, trend against the company, alerts and cases,
key drivers over its own respondents.

Self-contained beside the company/branch machinery: a :class:`RegionContext` holds the unit's
branches' responses (what the region's owner may read) and the company aggregates (counts per
branch, as branch reports use them). Rendered by the report runner (``cxlab reports``, one
incremental job per grouping unit and period) into ``reports/<period>/<unit code>.html|.pdf``,
so ``cxlab publish`` and ``cxlab notify`` pick them up like any report;
:func:`render_region_reports` (``cxlab region-reports``, deprecated) always re-renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

import pandas as pd

from cxlab.errors import CxlabError
from cxlab.report._base import CAUTION_BASE, MIN_BASE
from cxlab.report.tables import Html, cards, figure, join, note, paragraph, table

__all__ = ["RegionContext", "load_region_context", "render_region_reports"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionContext:
    """What a region report reads: its branches' responses and the company aggregates."""

    period: str
    unit: str
    name: str
    branches: list[str]             # the branch codes below the unit
    periods: list[str]              # every period up to and including ``period``
    responses: pd.DataFrame         # the branches' responses, all periods up to ``period``
    aggregates: pd.DataFrame        # counts per period × branch, company wide
    org: object
    targets: object
    codebook: object
    warehouse: Path
    params_dir: Path

    @property
    def current(self) -> pd.DataFrame:
        return self.responses[self.responses["period"].astype(str) == self.period]


def load_region_context(*, period: str, unit: str, warehouse: str | Path = "data/warehouse",
                        params_dir: str | Path = "params") -> RegionContext:
    """Load a grouping unit's data for its report (its branches' partitions only)."""
    from cxlab.config import load_codebook, load_org, load_targets
    from cxlab.io import load_responses
    from cxlab.report._aggregates import load_aggregates

    params_dir, warehouse = Path(params_dir), Path(warehouse)
    org = load_org(params_dir / "org.yaml")
    try:
        u = org.unit(unit)
    except KeyError:
        raise CxlabError(f"unknown unit {unit!r}") from None
    if u.is_branch:
        raise CxlabError(f"{unit} is a branch: region reports are for units with sub-units")
    branches = [c for c in org.scope(unit) if c in set(org.branch_codes)]
    agg = load_aggregates(warehouse)
    agg = agg.assign(period=agg["period"].astype(str), branch=agg["branch"].astype(str))
    periods = sorted(p for p in agg["period"].unique() if p <= period)
    if period not in periods:
        raise CxlabError(f"no data for period {period!r}")
    resp = load_responses(warehouse, period=periods, branch=branches)
    targets = (load_targets(params_dir / "targets.yaml")
               if (params_dir / "targets.yaml").is_file() else None)
    return RegionContext(period=period, unit=unit, name=u.name, branches=branches,
                         periods=periods, responses=resp, aggregates=agg, org=org,
                         targets=targets,
                         codebook=load_codebook(params_dir / "codebook.yaml"),
                         warehouse=warehouse, params_dir=params_dir)


def _fmt(v, suppressed=False, decimals=1) -> str:
    if suppressed or v is None or pd.isna(v):
        return "—"
    return f"{v:.{decimals}f}"


def _target(rc: RegionContext, kpi: str):
    """The KPI target of ``params/targets.yaml``, None without the file or the KPI."""
    if rc.targets is None:
        return None
    try:
        return rc.targets.kpi(kpi)
    except KeyError:
        return None


def _met(target, value) -> bool | None:
    return None if target is None or value is None or pd.isna(value) else target.met(value)


def title(rc: RegionContext) -> Html:
    """Heading with the unit, its branches and the base, and the links up and down the
    organisation."""
    n = len(rc.current)
    names = "、".join(rc.org.name_of(b) for b in rc.branches)
    from cxlab.report._nav import nav

    return join(Html(f"<h1>{escape(rc.name)} {escape(rc.period)} 区域客户体验报告</h1>"),
                note(f"报告期:{rc.period} · 有效样本 {n:,} 份 · 下属机构:{names}"),
                nav(rc.org, rc.unit))


def summary(rc: RegionContext) -> Html:
    """NPS and CSAT of the region against the company, with the test against the rest."""
    from cxlab.report._units import region_league

    lg = region_league(rc.aggregates, rc.org, unit=rc.unit, period=rc.period, min_base=MIN_BASE)
    me = lg[lg["role"] == "scope"].iloc[0]
    co = lg[lg["role"] == "company"].iloc[0]
    nps_t, csat_t = _target(rc, "nps"), _target(rc, "csat")
    sup = bool(me["suppressed"])

    def flag(v, kpi):
        ok = None if sup else _met(kpi, v)
        return None if ok is None else ("cx-flag-met" if ok else "cx-flag-missed")

    p = lg.attrs["pvalue_vs_rest"]
    has_nps, has_csat = lg["nps"].notna().any(), lg["csat"].notna().any()
    items = []
    if has_nps:
        items += [("区域 NPS", _fmt(me["nps"], sup), flag(me["nps"], nps_t)),
                  ("全公司 NPS", _fmt(co["nps"]), None)]
    if has_csat:
        items += [("区域 CSAT(%)", _fmt(me["csat"], sup), flag(me["csat"], csat_t)),
                  ("全公司 CSAT(%)", _fmt(co["csat"]), None)]
    out = cards([*items, ("样本量", f"{int(me['n']):,}", None)])
    if sup:
        return join(out, note(f"本区域本期样本量不足 {MIN_BASE},结果不予报告。"))
    if not has_nps:
        return join(out, note("问卷无推荐意愿(NPS)题,不做 NPS 对比。"))
    diff = me["nps"] - co["nps"]
    sig = ("差异显著" if p < 0.05 else "差异不显著") if not pd.isna(p) else "无法检验"
    text = (f"{rc.name}本期 NPS 为 {me['nps']:.1f},较全公司{'高' if diff >= 0 else '低'} "
            f"{abs(diff):.1f} 分;与公司其他区域合并相比{sig}(p={p:.3f})。")
    if me["n"] < CAUTION_BASE:
        text += f"样本量不足 {CAUTION_BASE},结论仅供参考。"
    return join(out, paragraph(text))


def league(rc: RegionContext) -> Html:
    """The region's units ranked by NPS, against the region and the company."""
    from cxlab.report._units import region_league

    lg = region_league(rc.aggregates, rc.org, unit=rc.unit, period=rc.period, min_base=MIN_BASE)
    nps_t, csat_t = _target(rc, "nps"), _target(rc, "csat")
    kids = lg[lg["role"] == "child"].sort_values(["rank", "unit"], na_position="last")
    rows = pd.concat([kids, lg[lg["role"] != "child"]], ignore_index=True)

    def status(r) -> str:
        if r["suppressed"]:
            return "样本不足"
        checks = [m for m in (_met(nps_t, r["nps"]), _met(csat_t, r["csat"])) if m is not None]
        if not checks:
            return "—"
        return "达标" if all(checks) else "未达标 · 需整改"

    shown = pd.DataFrame({
        "rank": [("" if pd.isna(v) else str(int(v))) for v in rows["rank"]],
        "name": [n + ("(区域合计)" if r == "scope" else "(全公司)" if r == "company" else "")
                 for n, r in zip(rows["name"], rows["role"], strict=True)],
        "n": rows["n"].astype(int),
        "nps": [_fmt(v, s) for v, s in zip(rows["nps"], rows["suppressed"], strict=True)],
        "csat": [_fmt(v, s) for v, s in zip(rows["csat"], rows["suppressed"], strict=True)],
        "vs_unit": [_fmt(v, s or r != "child") for v, s, r in
                    zip(rows["vs_unit"], rows["suppressed"], rows["role"], strict=True)],
        "vs_company": [_fmt(v, s or r == "company") for v, s, r in
                       zip(rows["vs_company"], rows["suppressed"], rows["role"], strict=True)],
        "status": [status(r) for r in rows.to_dict("records")],
    })
    return join(table(shown, columns={"rank": "排名", "name": "机构", "n": "样本量",
                                      "nps": "NPS", "csat": "CSAT(%)", "vs_unit": "较区域",
                                      "vs_company": "较全公司", "status": "状态"},
                      classes={"status": lambda v: "cx-flag-missed" if "未达标" in str(v)
                               else None}),
                note(f"样本量不足 {MIN_BASE} 的机构不排名、不显示指标;对比均基于各机构汇总数据。"))


def trend(rc: RegionContext) -> Html:
    """NPS by period: the region against the company, and each of its units."""
    import matplotlib.pyplot as plt

    from cxlab.report._units import unit_kpis

    k = unit_kpis(rc.aggregates, rc.org, min_base=MIN_BASE)
    k = k[k["period"].isin(rc.periods)]
    children = [u.code for u in rc.org.unit(rc.unit).units]
    show = k[k["unit"].isin([rc.org.company.code, rc.unit, *children]) & ~k["suppressed"]]
    if k["nps"].isna().all():
        return note("问卷无推荐意愿(NPS)题,不做 NPS 趋势。")
    if show.empty:
        return note("各期样本量均不足,趋势不予报告。")
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for code, sub in show.groupby("unit", sort=False):
        main = code in (rc.unit, rc.org.company.code)
        label = rc.org.name_of(code) + ("(全公司)" if code == rc.org.company.code else "")
        ax.plot(sub["period"], sub["nps"], marker="o", linewidth=2.4 if main else 1.0,
                linestyle="-" if main else "--", label=label)
    if (nps_t := _target(rc, "nps")) is not None:
        ax.axhline(nps_t.target, color="grey", linewidth=0.8, linestyle=":")
    ax.set_ylabel("NPS")
    ax.set_title(f"{rc.name} NPS 趋势(虚线为下属机构,点线为目标)")
    ax.legend(fontsize=8, ncol=2, frameon=False)
    wide = show.pivot_table(index="unit", columns="period", values="nps", sort=False)
    wide.index = [rc.org.name_of(c) for c in wide.index]
    wide = wide.reset_index(names="机构")
    return join(figure(fig, alt=f"{rc.name} NPS 趋势"),
                table(wide, formats={c: 1 for c in wide.columns if c != "机构"}))


def cases(rc: RegionContext) -> Html:
    """Alerts of the region's branches as cases of the ledger: opened, closed in time, overdue,
    by unit, owner and cause."""
    from cxlab.report._sections_cases import has_ledger, ledger_block

    if not has_ledger(rc.warehouse):
        return note("尚无闭环工单台账(由 cxlab notify 或 cxlab cases list --period 建立)。")
    return ledger_block(org=rc.org, warehouse=rc.warehouse, period=rc.period,
                        units=list(rc.branches), scope_name=rc.name)


def drivers(rc: RegionContext) -> Html:
    """Relative importance (LMG) of the attribute ratings for the outcome, over the region's
    own respondents of the period, with bootstrap intervals and the groups of drivers the
    sample cannot tell apart (as the branch and company reports)."""
    from cxlab.drivers import key_drivers
    from cxlab.report._base import outcome_names
    from cxlab.report.sections import DRIVER_BOOTSTRAP, driver_narrative

    target = rc.codebook.outcome_item
    items = [i for i in rc.codebook.attribute_items if i in rc.current.columns and i != target]
    if target is None or not items or target not in rc.current.columns:
        return note("码本未定义结果指标或属性评价,不做驱动因素分析。")
    data = rc.current[[target, *items]].apply(pd.to_numeric, errors="coerce").dropna()
    if len(data) < CAUTION_BASE:
        return note(f"完整作答样本 {len(data)} 份,不足 {CAUTION_BASE},不做驱动因素分析。")
    res = key_drivers(data, outcome=target, drivers=items, bootstrap=DRIVER_BOOTSTRAP, rng=0)
    labels = rc.codebook.labels()
    t = res.table.sort_values("rank").copy()
    t["label"] = [labels.get(d, d) for d in t["driver"]]
    t["share_pct"] = 100 * t["share"]
    t["ci"] = [f"{100 * a:.1f}~{100 * b:.1f}" for a, b in zip(t["share_ci_low"], t["share_ci_high"],
                                                                strict=True)]
    return join(paragraph(driver_narrative(t, outcome_names(rc)[0])),
                table(t.head(8), columns={"rank": "排序", "rank_group": "分组", "label": "属性",
                                          "share_pct": "相对重要性(%)", "ci": "95% 区间"},
                      formats={"rank": "int", "rank_group": "int", "share_pct": 1}),
                note(f"LMG 相对重要性,R² = {res.r2:.2f},n = {res.n};仅基于本区域受访者。"
                     f"区间为 {DRIVER_BOOTSTRAP} 次自助抽样的百分位区间;排序为点估计的先后,"
                     "分组按两两比较(刀切法标准误,Holm 法校正全部两两比较,总错误率 5%):"
                     "第 1 组为点估计最高的因素及与它差异不显著的因素,同组因素的先后在抽样误差内无法确定。"))


def provenance(rc: RegionContext) -> Html:
    from cxlab import __version__

    return note(f"数据:客户体验数据仓库(本区域 {len(rc.branches)} 个机构的分区及公司汇总表);"
                f"cxlab {__version__};生成时间 {datetime.now():%Y-%m-%d %H:%M}。")


def render_region_reports(*, periods: list[str], units: list[str] | None = None,
                          warehouse: str | Path = "data/warehouse",
                          output_dir: str | Path = "reports",
                          templates_dir: str | Path | None = None,
                          params_dir: str | Path = "params",
                          formats: tuple[str, ...] = ("html", "pdf")) -> list[Path]:
    """Render the region report of every grouping unit (or ``units``) for ``periods`` into
    ``output_dir/<period>/<unit>.html|.pdf``; returns the files written."""
    from cxlab.config import load_org
    from cxlab.report._aggregates import build_aggregates
    from cxlab.report._runner import render

    org = load_org(Path(params_dir) / "org.yaml")
    grouping = [u.code for u, _ in org.walk() if not u.is_branch]
    units = grouping if units is None else units
    bad = [u for u in units if u not in grouping]
    if bad:
        raise CxlabError(f"no region report for {bad[0]!r} (units with sub-units: "
                         f"{', '.join(grouping)})")
    from cxlab.project import report_template

    template = (report_template("region_report.ipynb") if templates_dir is None
                else Path(templates_dir) / "region_report.ipynb")
    build_aggregates(warehouse, params_dir=params_dir)
    written = []
    for period in periods:
        for unit in units:
            written += render(template,
                              parameters={"period": period, "unit": unit,
                                          "warehouse": str(warehouse),
                                          "params_dir": str(params_dir)},
                              output_dir=Path(output_dir) / period, formats=formats, name=unit,
                              title=f"{org.name_of(unit)} {period} 区域客户体验报告")
    return written
