"""The closed-loop case ledger in the reports: cases opened from the alerts, closed in time,
overdue, by unit, owner and cause (``cxlab notify`` / ``cxlab cases`` keep the ledger)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cxlab.report._context import ReportContext
from cxlab.report.tables import Html, join, paragraph, table

__all__ = ["cases", "has_ledger", "ledger_block", "ledger_digest"]

_COLUMNS = {"opened": "预警工单", "closed": "已关闭", "closed_in_time": "按时关闭", "open": "未关闭",
            "overdue": "已超期", "closed_in_time_rate": "按时关闭率(%)"}


def has_ledger(warehouse: str | Path) -> bool:
    from cxlab.notify._cases import ledger_path

    return ledger_path(warehouse).is_file()


def ledger_digest(warehouse: str | Path, units: str | Sequence[str] | None) -> str:
    """A hash of the ledger's cases of ``units`` (None = all): a report that shows them is
    re-rendered when a case of its scope opens, changes or closes, and only then (deliveries
    written to the same file by ``cxlab notify`` do not count). "" without a ledger."""
    import hashlib

    import duckdb

    from cxlab.notify._cases import ledger_path

    path = ledger_path(warehouse)
    if not path.is_file():
        return ""
    wanted = None if units is None else [units] if isinstance(units, str) else list(units)
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            sql = "SELECT * FROM cases" + ("" if wanted is None else
                                           " WHERE list_contains(?, unit)") + " ORDER BY case_id"
            rows = con.execute(sql, [] if wanted is None else [wanted]).fetchall()
    except duckdb.Error:  # no cases table yet, or a writer holds the file: nothing to show
        return ""
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def ledger_block(*, org, warehouse: str | Path, period: str, units: list[str] | None,
                 scope_name: str) -> Html:
    """The ledger's figures for ``units`` (None = every unit) in ``period``: by unit (when
    there are several), by owner, and the causes of the closed cases."""
    from cxlab.notify import ledger_figures, list_cases

    c = list_cases(warehouse, period=period, units=units)
    if c.empty:
        return paragraph(f"{scope_name}本期没有预警工单。")
    out = []
    if c["unit"].nunique() > 1:
        by_unit = ledger_figures(c, by="unit")
        by_unit["unit"] = [org.name_of(u) for u in by_unit["unit"]]
        out.append(table(by_unit, columns={"unit": "机构", **_COLUMNS},
                         formats={"closed_in_time_rate": 1}, caption="按机构"))
    out.append(table(ledger_figures(c, by="owner"), columns={"owner": "责任人", **_COLUMNS},
                     formats={"closed_in_time_rate": 1}, caption="按责任人"))
    closed = c[c["status"] == "已关闭"]
    if len(closed):
        out.append(table(ledger_figures(closed, by="cause")[["cause", "opened", "closed_in_time"]],
                         columns={"cause": "原因", "opened": "工单数", "closed_in_time": "按时关闭"},
                         caption="已关闭工单的原因"))
    return join(*out)


def cases(ctx: ReportContext) -> Html:
    """The case ledger's figures for the report's scope and period (company: every unit)."""
    if not has_ledger(ctx.warehouse):
        return Html("")
    units = None if ctx.is_company else [ctx.branch]
    return ledger_block(org=ctx.org, warehouse=ctx.warehouse, period=ctx.period, units=units,
                        scope_name=ctx.scope_name)
