"""Region reports (区域报告): one report per grouping unit of the organisation (a region, or any
unit with sub-units) — its branches' league table, trend against the company, alerts and cases,
key drivers over its own respondents.

Self-contained beside the company/branch machinery: a :class:`RegionContext` holds the unit's
branches' responses (what the region's owner may read) and the company aggregates (counts per
branch, as branch reports use them). With an enabled ``params/weighting.yaml`` the report is
weighted like the company and branch reports: the region's rows carry the company-wide survey
weights, the summary's NPS/CSAT (with 95 % intervals and the weighted base, Kish effective n
and design effect beside the unweighted base), the trend, the drivers and the region-vs-rest
test are weighted, and the company figures equal the company report's (computed from a
company-level DuckDB query, :func:`_company_scores`). The league table of sub-units stays on
the aggregates' counts, unweighted, like the company report's branch league table. Rendered by the report runner (``cxlab reports``, one
incremental job per grouping unit and period) into ``reports/<period>/<unit code>.html|.pdf``,
so ``cxlab publish`` and ``cxlab notify`` pick them up like any report;
:func:`render_region_reports` (``cxlab region-reports``, deprecated) always re-renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from pathlib import Path

import pandas as pd

from cxlab.errors import CxlabError
from cxlab.report._base import CAUTION_BASE, MIN_BASE
from cxlab.report._inference import is_weighted
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
    #: Survey weights as in :class:`cxlab.report.ReportContext`: with an enabled
    #: ``params/weighting.yaml`` ``responses`` has a ``weight`` column (the company-wide weights
    #: of :func:`cxlab.report.build_weights`, the same as the company report's for these rows)
    #: and ``weighting`` the diagnostics per period.
    weighted: bool = False
    weighting: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def current(self) -> pd.DataFrame:
        return self.responses[self.responses["period"].astype(str) == self.period]

    @property
    def weight(self) -> str | None:
        """``"weight"`` when the report is weighted (pass as ``weight=``), else None."""
        return "weight" if self.weighted else None


def load_region_context(*, period: str, unit: str, warehouse: str | Path = "data/warehouse",
                        params_dir: str | Path = "params") -> RegionContext:
    """Load a grouping unit's data for its report (its branches' partitions only)."""
    from cxlab.config import load_codebook, load_org, load_targets
    from cxlab.io import load_responses
    from cxlab.report._aggregates import load_aggregates, matching_aggregates
    from cxlab.report._context import _attach_weights, unit_branches

    params_dir, warehouse = Path(params_dir), Path(warehouse)
    org = load_org(params_dir / "org.yaml")
    branches = list(unit_branches(org, unit))
    u = org.unit(unit)
    agg = load_aggregates(warehouse)
    agg = agg.assign(period=agg["period"].astype(str), branch=agg["branch"].astype(str))
    periods = sorted(p for p in agg["period"].unique() if p <= period)
    if period not in periods:
        raise CxlabError(f"no data for period {period!r}")
    resp = load_responses(warehouse, period=periods, branch=branches, org=org)
    resp = resp.assign(period=resp["period"].astype(str), branch=resp["branch"].astype(str))
    targets = (load_targets(params_dir / "targets.yaml")
               if (params_dir / "targets.yaml").is_file() else None)
    # the company report's weights for these rows (read from the company-wide weights table,
    # rebuilt there when it lacks some of them); only the region's rows are kept
    resp, weighting = _attach_weights(resp, warehouse, params_dir, None)
    agg = matching_aggregates(warehouse, params_dir=params_dir, weighted=weighting is not None)
    agg = agg.assign(period=agg["period"].astype(str), branch=agg["branch"].astype(str))
    return RegionContext(period=period, unit=unit, name=u.name, branches=branches,
                         periods=periods, responses=resp, aggregates=agg, org=org,
                         targets=targets,
                         codebook=load_codebook(params_dir / "codebook.yaml"),
                         warehouse=warehouse, params_dir=params_dir,
                         weighted=weighting is not None,
                         weighting=weighting if weighting is not None else pd.DataFrame())


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


def _company_scores(rc: RegionContext) -> pd.DataFrame:
    """Company-wide NPS and CSAT answers of every period of the report, as the distribution the
    company report's estimates depend on, without any respondent row.

    One DuckDB query over the warehouse's responses joined to the weights table returns, per
    ``period`` × ``in_scope`` (the respondent's branch is one of the region's) × NPS answer ×
    CSAT answer × weight, the number of respondents ``k`` — company-level counts, no response
    id, customer, branch, text or date. They are expanded here to one row per respondent of
    those four columns only, so that the company and the rest-of-company figures are computed
    by the very functions the company report uses (:func:`cxlab.metrics.nps` and
    :func:`cxlab.report._base.csat_result` with ``weight=``: same estimator, same linearised
    variance and interval convention, whatever that convention becomes), not by a second copy
    of their formulas. Adding weighted sums to the aggregates table instead would need every
    sum the variance needs (Σw, Σw·y, Σw², Σw²·y, Σw²·y² per item) and a re-implementation of
    each interval; survey weights are constant within raking cells, so the distribution is
    small. The frame stays in memory: sections show only the company aggregate and the
    rest-of-company test.

    Returns
    -------
    DataFrame
        ``period, in_scope`` and the NPS and CSAT item columns (those the codebook has and the
        warehouse holds, NaN where unanswered), plus ``weight`` when the report is weighted.
    """
    import duckdb

    from cxlab.report._aggregates import WEIGHTS, _q, build_weights

    cb = rc.codebook
    glob = str(rc.warehouse / "responses" / "**" / "*.parquet")
    src = f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"
    with duckdb.connect() as con:
        have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
        items = [c for c in dict.fromkeys((cb.nps_item, cb.csat_item))
                 if c is not None and c in have]
        cols = ", ".join(f"r.{_q(c)} AS {_q(c)}" for c in items)
        cols = cols + ", " if cols else ""
        scope = ", ".join("?" for _ in rc.branches) or "NULL"
        period_in = ", ".join("?" for _ in rc.periods)
        args = [*rc.branches, *rc.periods]
        for attempt in range(2):
            if rc.weighted:
                wpath = str(rc.warehouse / WEIGHTS)
                sql = (f"SELECT CAST(r.period AS VARCHAR) AS period, "
                       f"CAST(r.branch AS VARCHAR) IN ({scope}) AS in_scope, {cols}"
                       f"w.weight AS weight, count(*) AS k FROM {src} r "
                       f"LEFT JOIN read_parquet('{wpath}') w "
                       "ON CAST(r.period AS VARCHAR) = w.period "
                       "AND CAST(r.response_id AS VARCHAR) = w.response_id "
                       f"WHERE CAST(r.period AS VARCHAR) IN ({period_in}) GROUP BY ALL")
            else:
                sql = (f"SELECT CAST(r.period AS VARCHAR) AS period, "
                       f"CAST(r.branch AS VARCHAR) IN ({scope}) AS in_scope, {cols}"
                       f"count(*) AS k FROM {src} r "
                       f"WHERE CAST(r.period AS VARCHAR) IN ({period_in}) GROUP BY ALL")
            got = con.execute(sql, args).df()
            if not rc.weighted or not got["weight"].isna().any():
                break
            if attempt == 0:  # a warehouse changed since the weights were built
                build_weights(rc.warehouse, params_dir=rc.params_dir)
        else:
            raise CxlabError(f"{rc.warehouse}: survey weights missing for some responses after "
                             "rebuilding them (params/weighting.yaml)")
    k = got.pop("k").to_numpy(dtype="int64")
    out = got.loc[got.index.repeat(k)].reset_index(drop=True)
    for c in items:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    out["in_scope"] = out["in_scope"].astype(bool)
    return out


def _kpis(rc: RegionContext, data: pd.DataFrame) -> dict:
    """NPS and CSAT rows (:func:`cxlab.metrics.nps`, :func:`cxlab.report._base.csat_result`,
    weighted when the report is) of ``data``; a key is absent when the codebook lacks the item
    or nobody answered it."""
    from cxlab.metrics import nps
    from cxlab.report._base import csat_result

    out: dict = {}
    ltr, cs = rc.codebook.nps_item, rc.codebook.csat_item
    if ltr is not None and ltr in data.columns and data[ltr].notna().any():
        out["nps"] = nps(data, score=ltr, weight=rc.weight).iloc[0]
    if cs is not None and cs in data.columns and cs in rc.responses.columns \
            and rc.codebook.scale_of(cs).top_codes and data[cs].notna().any():
        out["csat"] = csat_result(data, rc, weight=rc.weight).iloc[0]
    return out


def headline(rc: RegionContext) -> dict:
    """The summary's figures: ``region`` and ``company`` (:func:`_kpis` of the period: NPS and
    CSAT weighted when the report is, with their 95 % intervals), ``n`` (unweighted base:
    answers to the NPS item, else responses), ``w_sum``/``n_eff``/``deff`` (weighted base,
    Kish's effective n and design effect of the region's responses, weighted reports only) and
    ``test``: the region's NPS against the rest of the company.

    The test is design-consistent: with weights, a two-sided z-test of the difference of the
    two weighted estimates of disjoint respondent sets with their linearised SEs
    (``sections._design_test``, as the branch report's change tests); unweighted, the counts'
    test of :func:`cxlab.report._units.region_league`. None when a side has no NPS."""
    from cxlab.report._units import region_league
    from cxlab.report.sections import _design_test

    cur = rc.current
    comp = _company_scores(rc)
    comp_cur = comp[comp["period"] == rc.period]
    ltr = rc.codebook.nps_item
    base_col = ltr if ltr is not None and ltr in cur.columns else None
    out: dict = {"n": int(cur[base_col].notna().sum()) if base_col else len(cur),
                 "region": _kpis(rc, cur), "company": _kpis(rc, comp_cur), "test": None}
    if rc.weighted and len(cur):
        from cxlab.weighting import design_effect, kish_n_eff

        w = cur["weight"].to_numpy(dtype=float)
        out |= {"w_sum": float(w.sum()), "n_eff": float(kish_n_eff(w)),
                "deff": float(design_effect(w))}
    me = out["region"].get("nps")
    if me is None:
        return out
    if rc.weighted:
        rest = _kpis(rc, comp_cur[~comp_cur["in_scope"]]).get("nps")
        if rest is not None and rest["n"] > 0:
            t = _design_test(me, rest, "nps")
            out["test"] = {"pvalue": t.pvalue, "rest": float(rest["nps"]),
                           "method": "加权估计的双侧 z 检验(线性化标准误)"}
    else:
        lg = region_league(rc.aggregates, rc.org, unit=rc.unit, period=rc.period,
                           min_base=MIN_BASE)
        p = lg.attrs["pvalue_vs_rest"]
        if not pd.isna(p):
            out["test"] = {"pvalue": float(p), "rest": float("nan"),
                           "method": "两独立样本 NPS 检验(汇总计数)"}
    return out


def summary(rc: RegionContext) -> Html:
    """NPS and CSAT of the region (weighted when the report is, with 95 % intervals) against
    the company, the bases, and the test against the rest of the company."""
    from cxlab.ops import target_status

    h = headline(rc)
    me, co = h["region"], h["company"]
    nps_t, csat_t = _target(rc, "nps"), _target(rc, "csat")
    sup = h["n"] < MIN_BASE
    wtag = "(加权)" if rc.weighted else ""

    def flag(v, kpi):
        ok = None if sup else _met(kpi, v)
        return None if ok is None else ("cx-flag-met" if ok else "cx-flag-missed")

    items, rows = [], []
    for key, label, unit, kpi in (("nps", "NPS", "", nps_t), ("csat", "CSAT(%)", "%", csat_t)):
        if key not in me and key not in co:
            continue
        m, c = me.get(key), co.get(key)
        mv = None if m is None else float(m[key])
        cv = None if c is None else float(c[key])
        items += [(f"区域 {label}{wtag}", _fmt(mv, sup), flag(mv, kpi)),
                  (f"全公司 {label}{wtag}", _fmt(cv), None)]
        status = "—"
        if kpi is not None and m is not None and not sup:
            status = target_status(mv, float(m["ci_low"]), float(m["ci_high"]),
                                   target=kpi.target, op=kpi.op)
        rows.append({
            "kpi": "净推荐值(NPS)" if key == "nps" else "客户满意度(CSAT,%)",
            "region": _fmt(mv, sup),
            "region_ci": ("—" if sup or m is None else
                          f"{m['ci_low']:.1f}~{m['ci_high']:.1f}"),
            "company": _fmt(cv),
            "company_ci": "—" if c is None else f"{c['ci_low']:.1f}~{c['ci_high']:.1f}",
            "target": "—" if kpi is None else f"{'≥' if kpi.op == '>=' else kpi.op} "
                                               f"{kpi.target:g}{unit}",
            "status": status})
    if rc.weighted:
        items += [("样本量(未加权)", f"{h['n']:,}", None)]
        if "w_sum" in h:
            items += [("加权样本量", f"{h['w_sum']:,.1f}", None),
                      ("有效样本量 n_eff", f"{h['n_eff']:,.1f}", None),
                      ("设计效应 deff", f"{h['deff']:.3f}", None)]
    else:
        items.append(("样本量", f"{h['n']:,}", None))
    out = cards(items)
    if sup:
        return join(out, note(f"本区域本期样本量不足 {MIN_BASE},结果不予报告。"))
    tbl = (table(pd.DataFrame(rows), columns={
        "kpi": "指标", "region": "本区域", "region_ci": "95% 置信区间", "company": "全公司",
        "company_ci": "全公司 95% 置信区间", "target": "目标", "status": "目标状态"},
        classes={"status": lambda v: "cx-flag-missed" if str(v).startswith("显著")
                 else ("cx-flag-met" if v == "达标" else None)}) if rows else None)
    wnote = _weighting_note(rc, h)
    if "nps" not in me:
        return join(out, tbl, note("问卷无推荐意愿(NPS)题,不做 NPS 对比。"), wnote)
    mv, cv = float(me["nps"]["nps"]), float(co["nps"]["nps"])
    diff = mv - cv
    t = h["test"]
    if t is None:
        sig = "无法检验"
    else:
        sig = (("差异显著" if t["pvalue"] < 0.05 else "差异不显著")
               + f"(p={t['pvalue']:.3f},{t['method']})")
    text = (f"{rc.name}本期 NPS{wtag}为 {mv:.1f},较全公司{'高' if diff >= 0 else '低'} "
            f"{abs(diff):.1f} 分;与公司其他区域合并相比{sig}。")
    if h["n"] < CAUTION_BASE:
        text += f"样本量不足 {CAUTION_BASE},结论仅供参考。"
    return join(out, tbl, paragraph(text), wnote)


def _weighting_note(rc: RegionContext, h: dict) -> Html | None:
    """What the weighted region report states beside its base (as the branch report does)."""
    if not rc.weighted or "w_sum" not in h:
        return None
    return note(
        "加权估计:按客户名单(CRM)的分支机构 × 客户类型结构对样本加权(逐期迭代比例拟合,"
        "即 raking,全公司统一计算,与公司报告、分支机构报告的权重相同)。"
        f"本区域本期未加权样本量 {h['n']:,},加权样本量 {h['w_sum']:,.1f},"
        f"有效样本量 {h['n_eff']:,.1f},设计效应 {h['deff']:.3f}。"
        "区域与全公司的 NPS、CSAT、置信区间、趋势和驱动因素分析均为加权结果,"
        "全公司数值与公司报告一致;"
        + ("下属机构排名基于各机构的加权汇总数据,同样为加权估计。" if is_weighted(rc.aggregates)
           else "下属机构排名基于各机构汇总计数,未加权。"))


def league(rc: RegionContext) -> Html:
    """The region's units ranked by NPS, against the region and the company."""
    from cxlab.report._units import region_league

    lg = region_league(rc.aggregates, rc.org, unit=rc.unit, period=rc.period, min_base=MIN_BASE)
    weighted = is_weighted(rc.aggregates)
    nps_t, csat_t = _target(rc, "nps"), _target(rc, "csat")
    kids = lg[lg["role"] == "child"].sort_values(["rank", "unit"], na_position="last")
    rows = pd.concat([kids, lg[lg["role"] != "child"]], ignore_index=True)

    # target status with sampling error (cxlab.ops.target_statuses, weighted when the
    # aggregates are): 需整改 only when significantly below target
    from cxlab.ops import target_statuses
    from cxlab.ops._status import MET, SIG_MISS

    st = target_statuses(rows, targets=rc.targets, min_base=MIN_BASE)
    kinds = [c for c, t in (("nps_status", nps_t), ("csat_status", csat_t))
             if t is not None and c in st.columns]

    def status(i: int, r) -> str:
        if r["suppressed"]:
            return "样本不足"
        got = [st.loc[i, c] for c in kinds if isinstance(st.loc[i, c], str)]
        if not got:
            return "—"
        if any(g.startswith("显著") for g in got):
            return f"{SIG_MISS} · 需整改"
        return next((g for g in got if g != MET), MET)

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
        "status": [status(i, r) for i, r in enumerate(rows.to_dict("records"))],
    })
    return join(table(shown, columns={"rank": "排名", "name": "机构",
                                      "n": "样本量(未加权)" if weighted else "样本量",
                                      "nps": "NPS", "csat": "CSAT(%)", "vs_unit": "较区域",
                                      "vs_company": "较全公司", "status": "状态"},
                      classes={"status": lambda v: "cx-flag-missed" if "需整改" in str(v)
                               else None}),
                note(f"样本量不足 {MIN_BASE} 的机构不排名、不显示指标;排名、指标与对比均基于各机构"
                     + ("的加权汇总数据:NPS、CSAT 为加权估计(由各机构的加权和汇总,与公司报告的"
                        "分支机构排名及本报告摘要一致),样本量为未加权人数" if weighted else
                        "汇总计数" + ("(未加权,与公司报告的分支机构排名相同;本报告摘要、趋势与"
                                     "驱动因素为加权估计)" if rc.weighted else "")) + "。"
                     "“需整改”:NPS 或 CSAT 显著低于目标(95% 置信区间上限低于目标值);"
                     "“低于目标,在抽样误差内”:低于目标,但置信区间包含目标值。"))


def trend_data(rc: RegionContext) -> pd.DataFrame:
    """NPS per period of the company, the region and each of its sub-units
    (:func:`cxlab.metrics.nps`, weighted when the report is): ``period, unit, n, nps,
    suppressed``. The sub-units' figures come from the region's own respondents (every sub-unit
    lies inside the region), the company's from :func:`_company_scores`."""
    from cxlab.metrics import nps

    ltr = rc.codebook.nps_item
    if ltr is None or ltr not in rc.responses.columns:
        return pd.DataFrame(columns=["period", "unit", "n", "nps", "suppressed"])
    codes = set(rc.org.branch_codes)
    scopes = [(rc.org.company.code, _company_scores(rc)), (rc.unit, rc.responses)]
    for u in rc.org.unit(rc.unit).units:
        below = set(rc.org.scope(u.code)) & codes
        scopes.append((u.code, rc.responses[rc.responses["branch"].isin(below)]))
    frames = []
    for code, data in scopes:
        data = data[data[ltr].notna()]
        if data.empty:
            continue
        r = nps(data, score=ltr, by="period", weight=rc.weight)
        frames.append(r[["period", "n", "nps"]].assign(unit=code))
    k = pd.concat(frames, ignore_index=True)
    k["period"] = k["period"].astype(str)
    k = k[k["period"].isin(rc.periods)]
    k["suppressed"] = k["n"] < MIN_BASE
    return k[["period", "unit", "n", "nps", "suppressed"]].reset_index(drop=True)


def trend(rc: RegionContext) -> Html:
    """NPS by period (weighted when the report is): the region against the company, and each of
    its units."""
    import matplotlib.pyplot as plt

    k = trend_data(rc)
    if k.empty or k["nps"].isna().all():
        return note("问卷无推荐意愿(NPS)题,不做 NPS 趋势。")
    show = k[~k["suppressed"]]
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
    wtag = "(加权)" if rc.weighted else ""
    ax.set_title(f"{rc.name} NPS 趋势{wtag}(虚线为下属机构,点线为目标)")
    ax.legend(fontsize=8, ncol=2, frameon=False)
    wide = show.pivot_table(index="unit", columns="period", values="nps", sort=False)
    wide.index = [rc.org.name_of(c) for c in wide.index]
    wide = wide.reset_index(names="机构")
    text = (f"各期 NPS 为加权估计(每期按客户名单结构加权,全公司与公司报告一致),"
            f"含下属机构;样本量不足 {MIN_BASE} 的期间不显示。" if rc.weighted else
            f"样本量不足 {MIN_BASE} 的期间不显示。")
    return join(figure(fig, alt=f"{rc.name} NPS 趋势"),
                table(wide, formats={c: 1 for c in wide.columns if c != "机构"}), note(text))



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
    own respondents of the period, weighted when the report is (as the branch report's drivers:
    :func:`cxlab.drivers.key_drivers` with ``weight=``), with bootstrap intervals and the groups
    of drivers the sample cannot tell apart (as the branch and company reports)."""
    from cxlab.drivers import key_drivers
    from cxlab.report._base import outcome_names
    from cxlab.report.sections import DRIVER_BOOTSTRAP, driver_narrative

    target = rc.codebook.outcome_item
    items = [i for i in rc.codebook.attribute_items if i in rc.current.columns and i != target]
    if target is None or len(items) < 2 or target not in rc.current.columns:
        return note("码本未定义结果指标或属性评价,不做驱动因素分析。")
    cols = [target, *items] + (["weight"] if rc.weighted else [])
    data = rc.current[cols].apply(pd.to_numeric, errors="coerce").dropna()
    if len(data) < CAUTION_BASE:
        return note(f"完整作答样本 {len(data)} 份,不足 {CAUTION_BASE},不做驱动因素分析。")
    res = key_drivers(data.astype(float), outcome=target, drivers=items, weight=rc.weight,
                      bootstrap=DRIVER_BOOTSTRAP, rng=0)
    labels = rc.codebook.labels()
    t = res.table.sort_values("rank").copy()
    t["label"] = [labels.get(d, d) for d in t["driver"]]
    t["share_pct"] = 100 * t["share"]
    t["ci"] = [f"{100 * a:.1f}~{100 * b:.1f}" for a, b in zip(t["share_ci_low"], t["share_ci_high"],
                                                                strict=True)]
    weighted = ("回归与相关按调查权重加权,系数标准误为基于抽样设计的线性化标准误(同 R survey 包 svyglm);"
                if rc.weighted else "")
    return join(paragraph(driver_narrative(t, outcome_names(rc)[0])),
                table(t.head(8), columns={"rank": "排序", "rank_group": "分组", "label": "属性",
                                          "share_pct": "相对重要性(%)", "ci": "95% 区间"},
                      formats={"rank": "int", "rank_group": "int", "share_pct": 1}),
                note(f"LMG 相对重要性,R² = {res.r2:.2f},n = {res.n}"
                     f"{'(未加权人数)' if rc.weighted else ''};仅基于本区域受访者。{weighted}"
                     f"区间为 {DRIVER_BOOTSTRAP} 次自助抽样的百分位区间;排序为点估计的先后,"
                     "分组按两两比较(刀切法标准误,Holm 法校正全部两两比较,总错误率 5%):"
                     "第 1 组为点估计最高的因素及与它差异不显著的因素,同组因素的先后在抽样误差内无法确定。"))


def provenance(rc: RegionContext) -> Html:
    from cxlab import __version__

    weights = "、调查权重表" if rc.weighted else ""
    return note(f"数据:客户体验数据仓库(本区域 {len(rc.branches)} 个机构的分区、公司汇总表{weights}"
                "及全公司汇总查询);"
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
