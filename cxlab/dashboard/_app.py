"""The Panel layer of ``cxlab dashboard``: login, widgets, URL sync, views. Thin on purpose:
every figure comes from :mod:`cxlab.dashboard._query` with the session user's scope.

The session's user is read on the server from Panel's signed ``user`` cookie (set by the login
handler after the password check); the scope is derived from it and never from anything the
browser sends. Widgets only offer values inside the scope, and every query re-applies the scope.
"""

from __future__ import annotations

import html
import io
import os
import secrets
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

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
        # the refresh count and the server's time for it; also what `make bench` waits for in
        # the browser to time a filter change end to end
        self.status_pane = pn.pane.HTML("", stylesheets=[_CSS])
        self._refreshes = 0
        self.download = w.FileDownload(callback=self._pivot_csv, filename="pivot.csv",
                                       label="导出透视表 CSV", button_type="primary")

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
        self.refresh()

    # -------------------------------------------------------------------------------- state
    def _distinct(self, col: str) -> list[str]:
        from cxlab.dashboard._query import TABLE, _q, where

        sql_where, params = where(self.wh, Filters(), self.scope)
        rows = self.wh.con.execute(f"SELECT DISTINCT {_q(col)} FROM {TABLE} WHERE {sql_where} "
                                   f"AND {_q(col)} IS NOT NULL ORDER BY 1", params).fetchall()
        return [str(r[0]) for r in rows]

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
    def _build_tabs(self) -> None:
        """The tabs and, for each, what it shows: ``(title, content, update)``; ``update(f)``
        runs the tab's queries (under the lock) and returns a function that puts the results
        into its panes."""
        import panel as pn

        cb = self.wh.codebook
        tabs = [("KPI 与趋势", pn.Column(self.kpi_pane, *((self.trend_pane, self.trend_table)
                                                        if cb.nps_item else ())), self._kpi_tab)]
        if cb.nps_item:
            tabs.append(("机构排名", self.league_pane, self._league_tab))
        tabs.append(("透视分析", pn.Column(pn.Row(self.rows, self.cols, self.measure, self.item),
                                          self.download, self.pivot_pane), self._pivot_tab))
        if cb.attribute_items:
            tabs.append(("旅程触点", self.touch_pane, self._touch_tab))
        if cb.comment_item:
            tabs.append(("客户原声", pn.Column(self.group, self.verb_pane), self._voice_tab))
        self._tab_specs = tabs
        self.tabs = pn.Tabs(*[(t, c) for t, c, _ in tabs], dynamic=False)
        self._fresh: set[int] = set()
        self.tabs.param.watch(self._tab_shown, "active")

    def refresh(self) -> None:
        """Filters changed: the shown tab is brought up to date now, the others when shown
        (a filter change answers with one tab's queries, not every tab's)."""
        self._fresh.clear()
        self._update_tab(self.tabs.active)

    def _tab_shown(self, event) -> None:
        if event.new not in self._fresh:
            self._update_tab(event.new)

    def _update_tab(self, i: int) -> None:
        import panel as pn

        started = time.perf_counter()
        f = self.filters()
        with self.lock:
            show = self._tab_specs[i][2](f)
        with pn.io.hold():    # the tab's new content and the status line in one message
            show()
            self._fresh.add(i)
            self._refreshes += 1
            ms = 1000 * (time.perf_counter() - started)
            fresh = ",".join(str(t) for t in sorted(self._fresh))
            self.status_pane.object = (
                f'<span id="cx-refresh" class="cx-note" data-n="{self._refreshes}" '
                f'data-fresh="{fresh}">已更新(第 {self._refreshes} 次,服务器用时 {ms:.0f} 毫秒)'
                '</span>')

    def _kpi_tab(self, f: Filters):
        cb = self.wh.codebook
        k = kpis(self.wh, f, self.scope, self.targets)
        bench = company_benchmark(self.wh, f) if cb.nps_item else {}
        trend = nps_by(self.wh, f, self.scope, by=["period"]) if cb.nps_item else None

        def show():
            self.kpi_pane.object = self._kpi_html(k, bench)
            if trend is not None:
                fig = self._trend_fig(trend)
                if self.trend_pane.object is not fig:
                    self.trend_pane.object = fig
                self.trend_table.object = _table(
                    trend[["period", "n", "nps", "ci_low", "ci_high"]],
                    {"period": "期间", "n": "样本量", "nps": "NPS", "ci_low": "95%下限",
                     "ci_high": "95%上限"})
        return show

    def _league_tab(self, f: Filters):
        lg = league(self.wh, f, self.scope)

        def show():
            self.league_pane.object = _table(
                lg[["rank", "region", "branch_name", "n", "nps", "ci_low", "ci_high",
                    *(["csat"] if "csat" in lg else [])]],
                {"rank": "排名", "region": "区域", "branch_name": "机构", "n": "样本量", "nps": "NPS",
                 "ci_low": "95%下限", "ci_high": "95%上限", "csat": "CSAT(%)"})
        return show

    def _pivot_tab(self, f: Filters):
        pv = self._pivot_long(f)

        def show():
            self.pivot_pane.object = self._pivot_html(pv)
        return show

    def _touch_tab(self, f: Filters):
        tp = touchpoints(self.wh, f, self.scope)

        def show():
            self.touch_pane.object = _table(
                tp[["journey", "touchpoint", "label", "n", "mean", "top2"]],
                {"journey": "旅程阶段", "touchpoint": "触点", "label": "题目", "n": "样本量",
                 "mean": "均值", "top2": "好评率(%)"})
        return show

    def _voice_tab(self, f: Filters):
        vb = verbatims(self.wh, f, self.scope, group=self.group.value or None)

        def show():
            self.verb_pane.object = _table(vb, {"period": "期间", "branch_name": "机构",
                                                "score": "推荐分", "comment": "原声(已脱敏)"})
        return show

    def _kpi_html(self, k: pd.DataFrame, bench: dict) -> str:
        cards = []
        for r in k.to_dict("records"):
            met = "" if r["met"] is None else (
                '<span class="cx-met">达标</span>' if r["met"] else '<span class="cx-miss">未达标</span>')
            value = _fmt(r["value"]) or "—"
            cards.append(
                f'<div class="cx-kpi" data-kpi="{html.escape(r["kpi"])}">'
                f'<div class="cx-label">{html.escape(r["label"])}</div>'
                f'<div class="cx-value" id="cx-{html.escape(r["kpi"])}">{value}</div>'
                f'<div>目标 {html.escape(r["op"])} {r["target"]:g}{html.escape(r["unit"])} · '
                f'样本量 <span class="cx-n">{r["n"]}</span> {met}</div></div>')
        if bench:
            cards.append(f'<div class="cx-kpi" data-kpi="company_nps"><div class="cx-label">'
                         f'全公司 NPS(同期基准)</div><div class="cx-value">{_fmt(bench["nps"]) or "—"}'
                         f'</div><div>样本量 {bench["n"]}</div></div>')
        note = "<p>样本量少于 30 的结果不予报告(空白)。</p>"
        return f'<div class="cx-kpis">{"".join(cards)}</div>{note}'

    def _trend_fig(self, trend: pd.DataFrame):
        """The NPS trend chart: built on the first refresh, then only its data and ranges change
        (a new figure each time would send and lay out a whole plot in the browser)."""
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

    def _pivot_csv(self):
        with self.lock:
            long = self._pivot_long(self.filters())
        return io.StringIO(long.to_csv(index=False))

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
        main = pn.Column(self.rejected, self.tabs, self.status_pane,
                         sizing_mode="stretch_width")
        return pn.Row(pn.Column(*side, width=300), main, sizing_mode="stretch_width")


def build_app(wh: Warehouse, users: dict[str, User], targets):
    """The Panel app function: one :class:`Dashboard` per session, for the logged-in user."""
    import panel as pn

    lock = threading.Lock()

    def app():
        name = pn.state.user
        user = users.get(name) if isinstance(name, str) else None
        if user is None:   # no valid signed login cookie, or a user removed from the file
            return pn.pane.Markdown("未登录或无权限。请[登录](./login)。")
        return Dashboard(wh, scope_for(user, wh.org), targets, lock=lock).layout()

    return app


def _auth_provider(users: dict[str, User]):
    from panel.auth import BasicAuthProvider, BasicLoginHandler

    class HashedLoginHandler(BasicLoginHandler):
        def _validate(self, username, password):
            user = users.get(username)
            if user is None:
                verify_password(password, "pbkdf2_sha256$600000$x$00")  # same cost either way
                return False
            return verify_password(password, user.password_hash)

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
    pn.serve({"/": build_app(wh, users, targets)}, port=port, address=address, show=show,
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
