"""The Panel layer of ``cxlab dashboard``: login, widgets, URL sync, views. Thin on purpose:
every figure comes from :mod:`cxlab.dashboard._query` with the session user's scope.

The session's user is read on the server from Panel's signed ``user`` cookie (set by the login
handler after the password check); the scope is derived from it and never from anything the
browser sends. Widgets only offer values inside the scope, and every query re-applies the scope.
"""

from __future__ import annotations

import html
import os
import secrets
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.dashboard._export import VIEW_NAMES, csv_bytes, png_bytes
from cxlab.dashboard._query import (
    MEASURES,
    Filters,
    Warehouse,
    company_benchmark,
    kpis,
    league,
    nps_by,
    pivot,
    pivot_wide,
    touchpoints,
    verbatims,
)
from cxlab.dashboard._users import Scope, User, scope_for, verify_password
from cxlab.errors import CxlabError

__all__ = ["build_app", "serve"]

_GROUPS = {"全部": "", "推荐者(9-10)": "promoter", "中立者(7-8)": "passive", "贬损者(0-6)": "detractor"}
_CSS = """
.cx-kpis {display:flex; gap:16px; flex-wrap:wrap}
.cx-kpi {border:1px solid #ddd; border-radius:6px; padding:10px 16px; min-width:180px}
.cx-kpi .cx-label {color:#555; font-size:13px}
.cx-kpi .cx-value {font-size:28px; font-weight:600}
.cx-kpi .cx-met {color:#1a7f37} .cx-kpi .cx-miss {color:#c62828}
.cx-table {border-collapse:collapse; font-size:13px}
.cx-table th, .cx-table td {border-bottom:1px solid #e3e3e3; padding:4px 10px; text-align:right}
.cx-table th {background:#f3f5f8}
.cx-table td.cx-text {text-align:left}
.cx-table td:first-child, .cx-table th:first-child {text-align:left}
.cx-note {color:#777; font-size:12px}
"""


def _fmt(v, digits=1) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, float | np.floating):
        return f"{v:.{digits}f}"
    return str(v)


def _table(frame: pd.DataFrame, labels: dict[str, str]) -> str:
    """An HTML table (values escaped); blank cells are suppressed (n < 30) or empty."""
    cols = list(frame.columns)
    head = "".join(f"<th>{html.escape(labels.get(str(c), str(c)))}</th>" for c in cols)
    def td(v) -> str:
        left = ' class="cx-text"' if isinstance(v, str) else ""
        return f"<td{left}>{html.escape(_fmt(v))}</td>"

    body = "".join("<tr>" + "".join(td(r[c]) for c in cols) + "</tr>" for _, r in frame.iterrows())
    return f'<table class="cx-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _undebounced(obj, prop: str) -> None:
    """Apply a browser change of ``obj.<prop>`` at once instead of after Panel's debounce.

    Panel delays every property change from the browser by ``Syncable._debounce`` (50 ms) to
    merge bursts (typing, dragging); a choice in a select or a tab click is one event, so that
    delay was pure latency on every filter change. ``_priority_changes`` is Panel's list of
    properties "which should not be debounced" (panel/reactive.py, added for Tabulator's
    ``data``/``filters`` in holoviz/panel#3200); changes that arrive while one is being handled
    are still merged into one (``Syncable._server_change``)."""
    obj._priority_changes = [*type(obj)._priority_changes, prop]


class Dashboard:
    """One browser session's dashboard for one user's scope."""

    def __init__(self, wh: Warehouse, scope: Scope, targets, *, lock: threading.Lock):
        import panel as pn

        self.wh, self.scope, self.targets, self.lock = wh, scope, targets, lock
        cb = wh.codebook
        periods = wh.periods
        w = pn.widgets
        self.period_from = w.Select(name="起始期间", options=periods, value=periods[0] if periods else None)
        self.period_to = w.Select(name="截止期间", options=periods, value=periods[-1] if periods else None)
        names = {f"{wh.branch_names.get(b, b)} ({b})": b for b in scope.branches}
        self.branch = w.MultiChoice(name="机构", options=names, value=[])
        self.dim_widgets: dict[str, object] = {}
        with lock:
            for col, label in wh.dimensions.items():
                if col in ("period", "branch"):
                    continue
                vals = self._distinct(col)
                if vals:
                    self.dim_widgets[col] = w.MultiChoice(name=label, options=vals, value=[])
        journeys = list(dict.fromkeys(i.journey for i in cb.items if i.id in cb.attribute_items and i.journey))
        tps = list(dict.fromkeys(i.touchpoint for i in cb.items
                                 if i.id in cb.attribute_items and i.touchpoint))
        self.journey = w.MultiChoice(name="旅程阶段", options=journeys, value=[])
        self.touchpoint = w.MultiChoice(name="触点", options=tps, value=[])
        dims = {label: col for col, label in wh.dimensions.items()}
        self.rows = w.Select(name="行", width=180, options=dims, value="branch" if len(scope.branches) > 1 else "period")
        self.cols = w.Select(name="列", width=180, options={"(无)": "", **dims}, value="")
        measures = {label: m for m, label in MEASURES.items()
                    if m != "nps" or cb.nps_item}
        self.measure = w.Select(name="指标", width=180, options=measures, value="nps" if cb.nps_item else "count")
        items = {label: i for i, label in wh.measures.items() if i != cb.nps_item}
        self.item = w.Select(name="题目(好评率/均值)", width=260, options=items,
                             value=cb.csat_item if cb.csat_item in items.values() else
                             (next(iter(items.values()), None)))
        self.group = w.Select(name="客户类别", options=_GROUPS, value="")
        self.rejected = pn.pane.Alert("", alert_type="warning", visible=False)
        self.view_name = w.TextInput(name="视图名称", placeholder="例如:大客户·近三季度", width=280)
        self.save_btn = w.Button(name="保存视图", button_type="primary", width=130)
        self.saved = w.Select(name="我的视图", options=self._saved_names(), width=280)
        self.open_btn = w.Button(name="打开视图", width=130)
        self.view_msg = pn.pane.HTML("")
        self.save_btn.on_click(self._save_view)
        self.open_btn.on_click(self._open_view)

        self.kpi_pane = pn.pane.HTML("", stylesheets=[_CSS], sizing_mode="stretch_width")
        self.trend_pane = pn.pane.Bokeh(None)
        self.trend_table = pn.pane.HTML("", stylesheets=[_CSS])
        self.league_pane = pn.pane.HTML("", stylesheets=[_CSS])
        self.pivot_pane = pn.pane.HTML("", stylesheets=[_CSS])
        self.touch_pane = pn.pane.HTML("", stylesheets=[_CSS])
        self.verb_pane = pn.pane.HTML("", stylesheets=[_CSS])
        self.drivers_pane = pn.pane.HTML("", stylesheets=[_CSS])
        self.ipa_pane = pn.pane.HTML("", stylesheets=[_CSS])
        self.themes_pane = pn.pane.HTML("", stylesheets=[_CSS])
        self.cases_pane = pn.pane.HTML("", stylesheets=[_CSS])
        # the refresh count, the tabs up to date and the server's time: also what `make bench`
        # waits for in the browser to time a filter change end to end
        self.status_pane = pn.pane.HTML("", stylesheets=[_CSS])
        self._refreshes = 0
        #: what each view shows (its frame, and the analysis result for charts): exports read it
        self.data: dict[str, dict] = {}
        self._stale: set[str] = set()
        self.downloads = {view: self._download_row(view) for view in VIEW_NAMES}

        synced = {"period_from": self.period_from, "period_to": self.period_to,
                  "branch": self.branch, "journey": self.journey, "touchpoint": self.touchpoint,
                  "rows": self.rows, "cols": self.cols, "measure": self.measure,
                  "item": self.item, "group": self.group, **self.dim_widgets}
        self.synced = synced
        if pn.state.location is not None:
            for key, widget in synced.items():
                pn.state.location.sync(widget, {"value": key})
        self._build_tabs()
        self._sanitise()
        for widget in synced.values():
            widget.param.watch(self._changed, "value")
            _undebounced(widget, "value")
        _undebounced(self.tabs, "active")
        self.refresh()

    # -------------------------------------------------------------------------------- state
    def _distinct(self, col: str) -> list[str]:
        from cxlab.dashboard._query import TABLE, _q, where

        sql_where, params = where(self.wh, Filters(), self.scope)
        rows = self.wh.con.execute(f"SELECT DISTINCT {_q(col)} FROM {TABLE} WHERE {sql_where} "
                                   f"AND {_q(col)} IS NOT NULL", params).fetchall()
        return [str(v) for v in self.wh.sort_levels(col, [r[0] for r in rows])]

    def _sanitise(self) -> None:
        """Reset widget values (e.g. from a hand-edited URL) that are not among their options."""
        bad = []
        for key, widget in self.synced.items():
            opts = widget.options
            allowed = list(opts.values()) if isinstance(opts, dict) else list(opts)
            v = widget.value
            if isinstance(v, list):
                keep = [x for x in v if x in allowed]
                if keep != v:
                    bad.append(key)
                    widget.value = keep
            elif v not in allowed:
                bad.append(key)
                widget.value = allowed[0] if allowed else None
        self.rejected.object = ("已忽略超出权限或无效的筛选条件:" + "、".join(bad)) if bad else ""
        self.rejected.visible = bool(bad)

    def _changed(self, *_events) -> None:
        if getattr(self, "_bulk", False):      # opening a saved view: one refresh at the end
            return
        self._sanitise()
        self.refresh()

    def filters(self) -> Filters:
        return Filters(period_from=self.period_from.value, period_to=self.period_to.value,
                       branches=tuple(self.branch.value),
                       dims={c: tuple(wd.value) for c, wd in self.dim_widgets.items() if wd.value},
                       journey=tuple(self.journey.value), touchpoint=tuple(self.touchpoint.value))

    # -------------------------------------------------------------------------------- saved views
    def _saved_names(self) -> list[str]:
        from cxlab.dashboard._views import list_views

        return list_views(self.wh.root, self.scope.user) if self.wh.root else []

    def _save_view(self, _event=None) -> None:
        from cxlab.dashboard._views import save_view

        try:
            save_view(self.wh.root, self.scope.user, self.view_name.value or "",
                      {k: wd.value for k, wd in self.synced.items()})
        except CxlabError as err:
            self.view_msg.object = f"<p>{html.escape(str(err))}</p>"
            return
        self.saved.options = self._saved_names()
        self.saved.value = self.view_name.value.strip()
        self.view_msg.object = f"<p>已保存:{html.escape(self.view_name.value.strip())}</p>"

    def _open_view(self, _event=None) -> None:
        from cxlab.dashboard._views import load_view

        values = load_view(self.wh.root, self.scope.user, self.saved.value or "")
        self._bulk = True
        try:
            for key, value in values.items():
                widget = self.synced.get(key)
                if widget is not None:
                    try:
                        widget.value = value
                    except Exception:  # noqa: BLE001 - a stale view value is dropped, not fatal
                        pass
        finally:
            self._bulk = False
        self._sanitise()                       # the saved values pass the same scope check
        self.refresh()

    # -------------------------------------------------------------------------------- views
    def refresh(self) -> None:
        """Filters changed: every view is out of date; the shown tab's are brought up to date
        now, the others' when their tab is shown (a filter change answers with one tab's
        queries, not every tab's)."""
        self._stale = set(VIEW_NAMES)
        self._update_tab()

    def _update_tab(self) -> None:
        """Compute the shown tab's out-of-date views and show them, with the status line, in
        one message to the browser."""
        import panel as pn

        started = time.perf_counter()
        views = [v for v in self._tab_views[self.tabs.active] if v in self._stale]
        if not views:
            return
        with pn.io.hold():
            for view in views:
                if view in self._stale:        # the KPI cards and the trend come together
                    self._compute(view)
            self._refreshes += 1
            ms = 1000 * (time.perf_counter() - started)
            fresh = ",".join(str(i) for i, vs in enumerate(self._tab_views)
                             if not set(vs) & self._stale)
            self.status_pane.object = (
                f'<span id="cx-refresh" class="cx-note" data-n="{self._refreshes}" '
                f'data-fresh="{fresh}">已更新(第 {self._refreshes} 次,服务器用时 {ms:.0f} 毫秒)'
                '</span>')

    def _kpi_html(self, k: pd.DataFrame, bench: dict) -> str:
        cards = []
        for r in k.to_dict("records"):
            met = "" if r["met"] is None else (
                '<span class="cx-met">达标</span>' if r["met"] else '<span class="cx-miss">未达标</span>')
            value = _fmt(r["value"]) or "—"
            cards.append(
                f'<div class="cx-kpi" data-kpi="{html.escape(r["kpi"])}">'
                f'<div class="cx-label">{html.escape(r["label"])}'
                f'{"(加权)" if r["weighted"] else ""}</div>'
                f'<div class="cx-value" id="cx-{html.escape(r["kpi"])}">{value}</div>'
                + (f'<div class="cx-ci">95% 区间 {_fmt(r["ci_low"])}~{_fmt(r["ci_high"])}</div>'
                   if _fmt(r["ci_low"]) else "")
                + f'<div>目标 {html.escape(r["op"])} {r["target"]:g}{html.escape(r["unit"])} · '
                f'样本量 <span class="cx-n">{r["n"]}</span> {met}</div></div>')
        if bench:
            cards.append(f'<div class="cx-kpi" data-kpi="company_nps"><div class="cx-label">'
                         f'全公司 NPS(同期基准)</div><div class="cx-value">{_fmt(bench["nps"]) or "—"}'
                         f'</div><div>样本量 {bench["n"]}</div></div>')
        note = "<p>样本量少于 30 的结果不予报告(空白)。</p>"
        if self.wh.weighted and len(k):
            r = k.set_index("kpi").loc["nps"] if "nps" in set(k["kpi"]) else k.iloc[0]
            unw = "、".join(f"{html.escape(x['label'])} {_fmt(x['value_unweighted']) or '—'}"
                           for x in k.to_dict("records"))
            note += (f'<p class="cx-weighting">加权估计(与报告相同的调查权重:按客户名单的分支机构 × '
                     f'客户类型结构逐期加权)。未加权样本量 <span class="cx-n-unweighted">{int(r["n"]):,}'
                     f'</span>,加权样本量 <span class="cx-n-weighted">{_fmt(r["w_sum"])}</span>,'
                     f'有效样本量 {_fmt(r["n_eff"])};未加权结果:{unw}。机构排名与报告一样使用加权估计(加权 NPS 及其线性化标准误)。</p>')
        return f'<div class="cx-kpis">{"".join(cards)}</div>{note}'

    def _trend_fig(self, trend: pd.DataFrame):
        """The NPS trend chart: built once, then only its data and ranges change (a new figure
        each time would send and lay out a whole plot in the browser)."""
        t = trend.dropna(subset=["nps"])
        periods = list(trend["period"]) or ["—"]
        lo = [v for v in t["ci_low"] if not np.isnan(v)]
        hi = [v for v in t["ci_high"] if not np.isnan(v)]
        data = {"period": list(t["period"]), "nps": list(t["nps"]),
                "lo": list(t["ci_low"]), "hi": list(t["ci_high"])}
        y = (min(lo, default=-100) - 5, max(hi, default=100) + 5)
        fig = getattr(self, "_trend", None)
        if fig is not None:
            fig.x_range.factors = periods
            fig.y_range.update(start=y[0], end=y[1])
            self._trend_src.data = data
            return fig
        from bokeh.models import ColumnDataSource, Range1d, Whisker
        from bokeh.plotting import figure

        fig = figure(x_range=periods, height=320, width=860, y_range=Range1d(*y),
                     title="NPS 趋势(95% 置信区间,adjusted Wald)", tools="save",
                     toolbar_location="right")
        src = ColumnDataSource(data)
        fig.line("period", "nps", source=src, line_width=2)
        fig.scatter("period", "nps", source=src, size=8)
        fig.add_layout(Whisker(source=src, base="period", upper="hi", lower="lo"))
        fig.yaxis.axis_label = "NPS"
        self._trend, self._trend_src = fig, src
        return fig

    def _pivot_long(self, f: Filters) -> pd.DataFrame:
        return pivot(self.wh, f, self.scope, rows=self.rows.value, cols=self.cols.value or None,
                     measure=self.measure.value, item=self.item.value)

    def _pivot_html(self, long: pd.DataFrame) -> str:
        rows, cols = self.rows.value, self.cols.value or None
        if not len(long):
            return "<p>无数据。</p>"
        long = long.copy()
        if "branch" in (rows, cols):
            key = "branch"
            long[key] = long[key].map(lambda b: self.wh.branch_names.get(b, b))
        wide = pivot_wide(long, rows=rows, cols=cols).reset_index()
        wide.columns = [str(c) for c in wide.columns]
        labels = dict(self.wh.dimensions) | {"value": MEASURES[self.measure.value], "n": "样本量"}
        return _table(wide, labels) + "<p>样本量少于 30 的单元格留空。</p>"

    # -------------------------------------------------------------------------------- compute
    def _compute(self, view: str) -> None:
        """Query ``view`` for the current filters (under the lock) and show it."""
        from cxlab.dashboard import _analysis as an

        f = self.filters()
        cb = self.wh.codebook
        if view in ("kpi", "trend"):
            with self.lock:
                k = kpis(self.wh, f, self.scope, self.targets)
                bench = company_benchmark(self.wh, f) if cb.nps_item else {}
                trend = nps_by(self.wh, f, self.scope, by=["period"]) if cb.nps_item else None
            self.data.update({"kpi": {"frame": k}, "trend": {"frame": trend}})
            self.kpi_pane.object = self._kpi_html(k, bench)
            if trend is not None:
                fig = self._trend_fig(trend)
                if self.trend_pane.object is not fig:
                    self.trend_pane.object = fig
                self.trend_table.object = _table(
                    trend[["period", "n", "nps", "ci_low", "ci_high"]],
                    {"period": "期间", "n": "样本量", "nps": "NPS", "ci_low": "95%下限",
                     "ci_high": "95%上限"})
            self._stale -= {"kpi", "trend"}
            return
        with self.lock:
            if view == "league":
                lg = league(self.wh, f, self.scope) if cb.nps_item else None
                self.data[view] = {"frame": lg}
                if lg is not None:
                    self.league_pane.object = _table(
                        lg[["rank", "region", "branch_name", "n", "nps", "ci_low", "ci_high",
                            *(["csat"] if "csat" in lg else [])]],
                        {"rank": "排名", "region": "区域", "branch_name": "机构", "n": "样本量",
                         "nps": "NPS", "ci_low": "95%下限", "ci_high": "95%上限",
                         "csat": "CSAT(%)"})
            elif view == "pivot":
                pv = self._pivot_long(f)
                self.data[view] = {"frame": pv}
                self.pivot_pane.object = self._pivot_html(pv)
            elif view == "touch":
                tp = touchpoints(self.wh, f, self.scope) if cb.attribute_items else None
                self.data[view] = {"frame": tp}
                if tp is not None:
                    self.touch_pane.object = _table(
                        tp[["journey", "touchpoint", "label", "n", "mean", "top2"]],
                        {"journey": "旅程阶段", "touchpoint": "触点", "label": "题目",
                         "n": "样本量", "mean": "均值", "top2": "好评率(%)"})
            elif view == "verbatims":
                vb = (verbatims(self.wh, f, self.scope, group=self.group.value or None)
                      if cb.comment_item else None)
                self.data[view] = {"frame": vb}
                if vb is not None:
                    self.verb_pane.object = _table(
                        vb, {"period": "期间", "branch_name": "机构", "score": "推荐分",
                             "comment": "原声(已脱敏)"})
            elif view == "drivers":
                t, info = an.drivers(self.wh, f, self.scope)
                self.data[view] = {"frame": t, "result": info.get("result")}
                self.drivers_pane.object = self._drivers_html(t, info)
            elif view == "ipa":
                t, info = an.ipa(self.wh, f, self.scope)
                self.data[view] = {"frame": t, "result": info.get("result")}
                self.ipa_pane.object = self._ipa_html(t, info)
            elif view == "themes":
                t, fi, info = an.themes(self.wh, f, self.scope)
                self.data[view] = {"frame": t, "issues": fi, "summary": info.get("summary")}
                self.themes_pane.object = self._themes_html(t, fi, info)
            elif view == "cases":
                c, fig, info = an.cases(self.wh, f, self.scope)
                self.data[view] = {"frame": c, "figures": fig}
                self.cases_pane.object = self._cases_html(c, fig, info)
        self._stale.discard(view)

    def _tab_changed(self, *_events) -> None:
        self._update_tab()

    def _drivers_html(self, t: pd.DataFrame, info: dict) -> str:
        if t.empty:
            return f"<p>{html.escape(info.get('reason', '无数据'))}。</p>"
        shown = t.assign(ci=[f"{a:.1f}~{b:.1f}" for a, b in zip(t["share_ci_low"], t["share_ci_high"],
                                                                strict=True)])
        caution = f"<p>注意:样本量 {info['n']} 少于 100,结果仅供参考。</p>" if info["caution"] else ""
        weighted = "回归与相关按调查权重加权。" if self.wh.weighted else ""
        return (caution + _table(shown[["rank", "label", "share", "ci", "std_beta", "pvalue", "vif"]],
                                 {"rank": "排序", "label": "因素", "share": "相对重要性(%)",
                                  "ci": "95% 区间", "std_beta": "标准化系数", "pvalue": "p 值",
                                  "vif": "VIF"})
                + f"<p>结果指标:{html.escape(info['outcome'])};LMG 相对重要性,R² = {info['r2']:.2f},"
                  f"n = {info['n']:,};区间为 100 次自助抽样的百分位区间。{weighted}</p>")

    def _ipa_html(self, t: pd.DataFrame, info: dict) -> str:
        if t.empty:
            return f"<p>{html.escape(info.get('reason', '无数据'))}。</p>"
        return (_table(t[["priority", "label", "performance", "importance", "quadrant_cn", "problem"]],
                       {"priority": "优先级", "label": "项目", "performance": "表现(均值)",
                        "importance": "重要性(相关)", "quadrant_cn": "象限", "problem": "问题分类"})
                + f"<p>n = {info['n']:,};重要性为与结果指标的相关系数,十字线取均值(与报告相同)。"
                  "PNG 导出含象限图。</p>")

    def _themes_html(self, t: pd.DataFrame, fi: pd.DataFrame, info: dict) -> str:
        if t.empty:
            return f"<p>{html.escape(info.get('reason', '无数据'))}。</p>"
        out = _table(t, {"theme_name": "主题", "total": "提及条数", "share": "提及率(%)"})
        if len(fi):
            cols = [c for c in ("rank", "theme_name", "n", "share", "example_1", "example_2")
                    if c in fi.columns]
            out += "<h4>高频负面问题与客户原话(已脱敏)</h4>" + _table(
                fi[cols], {"rank": "排序", "theme_name": "问题主题", "n": "负面提及条数",
                           "share": "占评论(%)", "example_1": "客户原话 1", "example_2": "客户原话 2"})
        return out + f"<p>共 {info['n']:,} 条评论;原话已按项目脱敏规则处理。</p>"

    def _cases_html(self, c: pd.DataFrame, fig: pd.DataFrame, info: dict) -> str:
        if c.empty:
            return f"<p>{html.escape(info.get('reason', '无数据'))}。</p>"
        out = _table(fig.drop(columns=["unit"]),
                     {"unit_name": "机构", "opened": "预警工单", "closed": "已关闭",
                      "closed_in_time": "按时关闭", "open": "未关闭", "overdue": "已超期",
                      "closed_in_time_rate": "按时关闭率(%)"})
        shown = c[["case_id", "period", "unit_name", "label", "severity", "status", "owner",
                   "due_at", "detail"]].copy()
        shown["due_at"] = shown["due_at"].astype(str)
        return out + "<h4>工单明细</h4>" + _table(
            shown, {"case_id": "工单号", "period": "期间", "unit_name": "机构", "label": "预警",
                    "severity": "级别", "status": "状态", "owner": "负责人", "due_at": "期限",
                    "detail": "说明(已脱敏)"})

    # -------------------------------------------------------------------------------- exports
    def export_csv(self, view: str):
        """The CSV of what ``view`` shows (computed for the session's scope on the server)."""
        if view in self._stale:
            self._compute(view)
        return csv_bytes(self.data.get(view, {}).get("frame"))

    def export_png(self, view: str):
        """A PNG chart of ``view`` (matplotlib, the reports' chart functions)."""
        if view in self._stale:
            self._compute(view)
        nps_t = next((k.target for k in self.targets.kpis if k.id == "nps"), None)
        title = f"{self.scope.unit_name} · {VIEW_NAMES[view]}"
        return png_bytes(view, {**self.data.get(view, {}), "title": title},
                         labels=dict(self.wh.measures), nps_target=nps_t)

    def _download_row(self, view: str):
        import panel as pn

        w = pn.widgets
        return pn.Row(
            w.FileDownload(callback=lambda v=view: self.export_csv(v), filename=f"{view}.csv",
                           label="导出 CSV", button_type="primary", width=130),
            w.FileDownload(callback=lambda v=view: self.export_png(v), filename=f"{view}.png",
                           label="导出 PNG", button_type="default", width=130))

    def _build_tabs(self) -> None:
        import panel as pn

        cb = self.wh.codebook
        d = self.downloads
        tabs = [("kpi", "KPI 与趋势", pn.Column(d["kpi"], self.kpi_pane, *(
            (d["trend"], self.trend_pane, self.trend_table) if cb.nps_item else ())))]
        if cb.nps_item:
            tabs.append(("league", "机构排名", pn.Column(d["league"], self.league_pane)))
        tabs.append(("pivot", "透视分析", pn.Column(pn.Row(self.rows, self.cols, self.measure, self.item),
                                                   d["pivot"], self.pivot_pane)))
        if cb.attribute_items:
            tabs.append(("touch", "旅程触点", pn.Column(d["touch"], self.touch_pane)))
        if cb.outcome_item and len(cb.attribute_items) >= 2:
            tabs.append(("drivers", "驱动因素", pn.Column(d["drivers"], self.drivers_pane)))
            tabs.append(("ipa", "IPA 象限", pn.Column(d["ipa"], self.ipa_pane)))
        if cb.comment_item:
            tabs.append(("verbatims", "客户原声", pn.Column(self.group, d["verbatims"], self.verb_pane)))
            tabs.append(("themes", "原声主题", pn.Column(d["themes"], self.themes_pane)))
        tabs.append(("cases", "预警工单", pn.Column(d["cases"], self.cases_pane)))
        # the views each tab shows (the KPI tab shows the KPI cards and the trend)
        self._tab_views = [(v, "trend") if v == "kpi" else (v,) for v, _, _ in tabs]
        self.tabs = pn.Tabs(*[(label, body) for _, label, body in tabs], dynamic=False)
        self.tabs.param.watch(self._tab_changed, "active")

    # -------------------------------------------------------------------------------- layout
    def layout(self):
        import panel as pn

        side = [pn.pane.Markdown(f"**{html.escape(self.scope.user)}** · 范围:"
                                 f"{html.escape(self.scope.unit_name)}"),
                self.period_from, self.period_to]
        if len(self.scope.branches) > 1:
            side.append(self.branch)
        side += list(self.dim_widgets.values())
        side += [self.journey, self.touchpoint, self.view_name, self.save_btn, self.saved,
                 self.open_btn, self.view_msg, pn.pane.HTML('<a href="./logout">退出登录</a>')]
        main = pn.Column(self.rejected, self.tabs, self.status_pane, sizing_mode="stretch_width")
        return pn.Row(pn.Column(*side, width=300), main, sizing_mode="stretch_width")


def warm_up(wh: Warehouse, targets, *, lock: threading.Lock) -> None:
    """One company-wide dashboard built and rendered into a throwaway Bokeh document, its
    KPI, league and pivot tabs computed and one filter changed, before the first login:
    DuckDB's first queries, the lazy imports and Bokeh's first serialisation are then paid at
    server start, not by the first user's page and first filter change. Nothing of it reaches
    a browser."""
    from bokeh.document import Document

    user = User(name="(warm-up)", password_hash="-", unit=wh.org.company.code)
    d = Dashboard(wh, scope_for(user, wh.org), targets, lock=lock)
    d.layout().get_root(Document())
    for i, views in enumerate(d._tab_views):
        if set(views) & {"league", "pivot"}:
            d.tabs.active = i
    d.tabs.active = 0
    d.period_from.value = d.period_from.options[-1] if d.period_from.options else None


def build_app(wh: Warehouse, users: dict[str, User], targets, *, warm: bool = False):
    """The Panel app function: one :class:`Dashboard` per session, for the logged-in user
    (``warm``: :func:`warm_up` first)."""
    import panel as pn

    lock = threading.Lock()
    if warm:
        warm_up(wh, targets, lock=lock)

    def app():
        name = pn.state.user
        user = users.get(name) if isinstance(name, str) else None
        if user is None:   # no valid signed login cookie, or a user removed from the file
            return pn.pane.Markdown("未登录或无权限。请[登录](./login)。")
        return Dashboard(wh, scope_for(user, wh.org), targets, lock=lock).layout()

    return app


def _auth_provider(users: dict[str, User], throttle_user=None, throttle_ip=None):
    """Panel's basic login with the users file's hashes and a failed-login back-off per user
    name and per client address (:class:`cxlab.dashboard._throttle.LoginThrottle`)."""
    import tornado.escape
    from panel.auth import BasicAuthProvider, BasicLoginHandler

    from cxlab.dashboard._throttle import LoginThrottle

    by_user = throttle_user or LoginThrottle(free=5)
    by_ip = throttle_ip or LoginThrottle(free=20)   # several users may share one address (NAT)

    class HashedLoginHandler(BasicLoginHandler):
        def _validate(self, username, password):
            user = users.get(username)
            if user is None:
                verify_password(password, "pbkdf2_sha256$600000$x$00")  # same cost either way
                return False
            return verify_password(password, user.password_hash)

        def post(self):
            username = self.get_argument("username", "")
            ip = self.request.remote_ip or ""
            keys = (f"user:{username}", f"ip:{ip}")
            wait = max(by_user.wait(keys[0]), by_ip.wait(keys[1]))
            if wait > 0:
                secs = int(wait + 0.999)
                self.set_status(429)                      # Too Many Requests (RFC 6585)
                self.set_header("Retry-After", str(secs))
                self.write(self._login_template.render(
                    login_endpoint=self._login_endpoint, PANEL_CDN="",
                    errormessage=f"登录失败次数过多,请 {secs} 秒后再试。"))
                return
            password = self.get_argument("password", "")
            if self._validate(username, password):
                by_user.succeeded(keys[0])
                self.set_current_user(username)
                from panel.auth import _validate_next_url
                from panel.io.state import state

                self.redirect(_validate_next_url(self.get_cookie("next_url", state.base_url)))
                return
            by_user.failed(keys[0])
            by_ip.failed(keys[1])
            self.redirect(self.request.uri.split("?")[0] + "?error="
                          + tornado.escape.url_escape("用户名或密码错误。"))

    class HashedAuthProvider(BasicAuthProvider):
        @property
        def login_handler(self):
            HashedLoginHandler._login_endpoint = self._login_endpoint
            HashedLoginHandler._login_template = self._login_template
            return HashedLoginHandler

    return HashedAuthProvider(login_template=str(Path(__file__).parent / "templates" / "login.html"))


def serve(wh: Warehouse, users: dict[str, User], targets, *, port: int = 5006,
          address: str = "127.0.0.1", show: bool = False) -> None:
    """Serve the dashboard (blocking) with the password login of ``users``."""
    import panel as pn

    if "guest" in users:
        raise CxlabError("dashboard users: the user name 'guest' is reserved")
    secret = os.environ.get("CXLAB_DASHBOARD_COOKIE_SECRET") or secrets.token_hex(32)
    origins = [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    pn.serve({"/": build_app(wh, users, targets, warm=True)}, port=port, address=address, show=show,
             title="cxlab 看板", auth_provider=_auth_provider(users), cookie_secret=secret,
             websocket_origin=origins, start=True)


def users_outside_repo(path: Path, root: Path) -> None:
    """Refuse a users file inside the project folder (it must never be committed)."""
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return
    raise CxlabError(f"{path}: the dashboard users file must live outside the project folder "
                     f"{root} (it holds password hashes)")
