"""The dashboard's analysis views on the filtered slice of a user's scope: key drivers, IPA map,
verbatim themes with redacted quotes, and the alert/case status of the cases ledger.

Each function reads respondent rows only through :func:`scoped_rows` (the same scope-bound
``WHERE`` clause as every other query, :func:`cxlab.dashboard._query.where`) and calls the
analysis the reports use (:func:`cxlab.drivers.key_drivers`, :func:`cxlab.ipa.analyze`,
:func:`cxlab.text.analyse_comments`, :func:`cxlab.notify.list_cases`), with the reports'
small-base rules. The cases ledger is read for the scope's branches only.
"""

from __future__ import annotations

import pandas as pd

from cxlab.dashboard._query import TABLE, Filters, Warehouse, _q, where
from cxlab.dashboard._users import Scope
from cxlab.metrics._common import CAUTION_BASE, MIN_BASE

__all__ = ["DRIVER_BOOTSTRAP", "cases", "drivers", "ipa", "scoped_rows", "themes"]

#: Bootstrap replicates of the driver-share intervals: the reports' number (and seed 0), so a
#: slice equal to a report's scope and period gives the report's intervals.
DRIVER_BOOTSTRAP = 100


def scoped_rows(wh: Warehouse, filters: Filters, scope: Scope, columns: list[str]) -> pd.DataFrame:
    """Respondent rows of the filtered scope, only ``columns`` (known table columns), server-side
    only: never sent to the browser as rows."""
    known = set(wh.con.execute(f"DESCRIBE {TABLE}").df()["column_name"])
    cols = [c for c in dict.fromkeys(columns) if c in known]
    if not cols:
        return pd.DataFrame()
    sql_where, params = where(wh, filters, scope)
    # a fixed row order: the drivers' bootstrap resamples rows, so its intervals depend on it
    order = [c for c in ("period", "branch", "response_id") if c in known]
    return wh.con.execute(f"SELECT {', '.join(_q(c) for c in cols)} FROM {TABLE} "
                          f"WHERE {sql_where} ORDER BY {', '.join(order) or 'ALL'}", params).df()


def _driver_frame(wh: Warehouse, filters: Filters, scope: Scope):
    cb = wh.codebook
    out = cb.outcome_item
    items = [i for i in cb.attribute_items if i in wh.measures and i != out]
    if out is None or out not in wh.measures or len(items) < 2:
        return None, items, pd.DataFrame()
    cols = [out, *items] + (["weight"] if wh.weighted else [])
    df = scoped_rows(wh, filters, scope, cols)
    df = df.apply(pd.to_numeric, errors="coerce").dropna().astype(float)
    return out, items, df


def drivers(wh: Warehouse, filters: Filters, scope: Scope) -> tuple[pd.DataFrame, dict]:
    """Key drivers of the outcome on the slice: :func:`cxlab.drivers.key_drivers` (OLS with
    exact LMG shares, bootstrap intervals; weighted like the reports when the warehouse is).

    Returns ``(table, info)``: ``table`` has ``rank, driver, label, share, share_ci_low,
    share_ci_high, std_beta, pvalue, vif`` (shares in %), empty when the complete answers are
    fewer than 30 (the reports' minimum base); ``info`` has ``n``, ``r2``, ``outcome``,
    ``caution`` (n < 100) and ``reason`` when nothing is shown.
    """
    from cxlab.drivers import key_drivers

    out, items, df = _driver_frame(wh, filters, scope)
    cols = ["rank", "driver", "label", "share", "share_ci_low", "share_ci_high", "std_beta",
            "pvalue", "vif"]
    if out is None:
        return pd.DataFrame(columns=cols), {"n": 0, "reason": "码本未定义结果指标或属性评价"}
    n = len(df)
    if n < MIN_BASE:
        return pd.DataFrame(columns=cols), {"n": n, "reason": f"完整作答样本 {n} 份,少于 {MIN_BASE},不予分析"}
    res = key_drivers(df, outcome=out, drivers=items, weight="weight" if wh.weighted else None,
                      bootstrap=DRIVER_BOOTSTRAP, rng=0)
    t = res.table.sort_values("rank").copy()
    t["label"] = t["driver"].map(wh.measures)
    for c in ("share", "share_ci_low", "share_ci_high"):
        t[c] = 100 * t[c]
    info = {"n": res.n, "r2": res.r2, "outcome": wh.measures.get(out, out),
            "caution": res.n < CAUTION_BASE, "result": res}
    return t[cols].reset_index(drop=True), info


def ipa(wh: Warehouse, filters: Filters, scope: Scope) -> tuple[pd.DataFrame, dict]:
    """Importance–performance map of the attribute items on the slice, as in the reports:
    :func:`cxlab.ipa.analyze` (importance = correlation with the outcome, crosshairs at the
    means). Empty below 30 complete answers."""
    from cxlab.ipa import analyze

    out, items, df = _driver_frame(wh, filters, scope)
    if out is None or len(df) < MIN_BASE:
        n = len(df)
        return pd.DataFrame(), {"n": n, "reason": f"完整作答样本 {n} 份,少于 {MIN_BASE},不予分析"
                                if out is not None else "码本未定义结果指标或属性评价"}
    res = analyze(df.drop(columns=["weight"], errors="ignore"), items=items, outcome=out,
                  importance="correlation", crosshair="mean")
    t = res.sort_values("priority").copy()
    t["label"] = t["item"].map(wh.measures)
    quad = {"concentrate_here": "重点改进区", "keep_up": "继续保持区",
            "low_priority": "低优先区", "possible_overkill": "过度投入区"}
    t["quadrant_cn"] = t["quadrant"].map(quad)
    return t.reset_index(drop=True), {"n": len(df), "result": res,
                                      "caution": len(df) < CAUTION_BASE}


def themes(wh: Warehouse, filters: Filters, scope: Scope) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Comment themes with sentiment and the frequent negative issues with redacted quotes, on
    the slice's comments (:func:`cxlab.text.analyse_comments` with ``params/text.yaml``, the
    reports' voice section). Returns ``(themes, issues, info)``; empty below 30 comments."""
    from cxlab.report._sections_voice import theme_counts
    from cxlab.text import analyse_comments, load_taxonomy

    rows = scoped_rows(wh, filters, scope, ["comment"])
    if "comment" not in rows.columns:
        return pd.DataFrame(), pd.DataFrame(), {"n": 0, "reason": "问卷没有开放题"}
    rows = rows[rows["comment"].notna() & (rows["comment"].astype(str).str.strip() != "")]
    n = len(rows)
    if n < MIN_BASE:
        return pd.DataFrame(), pd.DataFrame(), {"n": n, "reason": f"评论 {n} 条,少于 {MIN_BASE},不予分析"}
    tax_path = (wh.params_dir / "text.yaml") if wh.params_dir is not None else None
    tax = load_taxonomy(tax_path) if tax_path is not None and tax_path.is_file() else load_taxonomy()
    comments = analyse_comments(rows.reset_index(drop=True), text="comment", taxonomy=tax)
    ts = comments.theme_summary()
    wide = theme_counts(ts, n).sort_values("total", ascending=False, kind="stable").reset_index(drop=True)
    wide.columns.name = None
    fi = comments.frequent_issues(by=None, top=5, examples=2)
    if len(fi):
        fi = fi.assign(share=100.0 * fi["share"])
    return (wide[["theme_name", "total", "share", "正面", "中性", "负面"]],
            fi.reset_index(drop=True), {"n": n, "summary": ts})


def cases(wh: Warehouse, filters: Filters, scope: Scope) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Alert cases of the scope's branches in the filtered periods, from the cases ledger
    (``<warehouse>/ledger.duckdb``, :func:`cxlab.notify.list_cases`), with the closed-loop
    figures per branch (:func:`cxlab.notify.ledger_figures`). Details are redacted.

    Returns ``(cases, figures, info)``; both empty without a ledger.
    """
    import duckdb

    from cxlab.notify import ledger_figures, list_cases
    from cxlab.notify._cases import ledger_path
    from cxlab.text import redact

    f = filters
    branches = list(scope.allowed(f.branches)) or list(scope.branches)
    if wh.root is None or not ledger_path(wh.root).is_file():
        return pd.DataFrame(), pd.DataFrame(), {"reason": "尚无闭环工单台账(由 cxlab notify 或 "
                                                          "cxlab cases list --period 建立)"}
    try:
        c = list_cases(wh.root, units=branches)
    except duckdb.Error:
        return pd.DataFrame(), pd.DataFrame(), {"reason": "工单台账正被其他程序占用,请稍后刷新"}
    c = c[c["unit"].isin(branches)]                   # the ledger query's scope, checked again
    if f.period_from:
        c = c[c["period"].astype(str) >= f.period_from]
    if f.period_to:
        c = c[c["period"].astype(str) <= f.period_to]
    if c.empty:
        return pd.DataFrame(), pd.DataFrame(), {"reason": "所选范围内没有预警工单"}
    fig = ledger_figures(c, by="unit")
    fig.insert(1, "unit_name", [wh.branch_names.get(u, u) for u in fig["unit"]])
    shown = c.drop(columns=["alert_key"]).copy()
    shown["detail"] = [redact(str(d)) if isinstance(d, str) else d for d in shown["detail"]]
    shown.insert(shown.columns.get_loc("unit") + 1, "unit_name",
                 [wh.branch_names.get(u, u) for u in shown["unit"]])
    return shown.reset_index(drop=True), fig, {"n": len(shown)}
