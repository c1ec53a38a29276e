"""The closed-loop case ledger (闭环工单台账): every alert becomes a case with an owner and a due
time; cases are closed with a cause and an action, by hand or from a ticket-system export.

The ledger is a DuckDB database in the warehouse (``<warehouse>/ledger.duckdb``, table
``cases``); deliveries of ``cxlab notify`` live in the same file (table ``deliveries``).
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from cxlab.errors import CxlabError

__all__ = ["CASE_COLUMNS", "STATUSES", "close_case", "connect_ledger", "import_cases",
           "list_cases", "overdue_cases", "sync_cases"]

LEDGER = "ledger.duckdb"
NEW, IN_PROGRESS, CLOSED = "新建", "处理中", "已关闭"
STATUSES = (NEW, IN_PROGRESS, CLOSED)
CASE_COLUMNS = ["case_id", "rule", "label", "severity", "unit", "period", "detail", "owner",
                "opened_at", "due_at", "status", "cause", "action", "closed_at", "escalated_to",
                "escalated_at", "alert_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    case_id      VARCHAR PRIMARY KEY,
    rule         VARCHAR NOT NULL,
    label        VARCHAR,
    severity     VARCHAR,
    unit         VARCHAR NOT NULL,
    period       VARCHAR NOT NULL,
    detail       VARCHAR,
    owner        VARCHAR,
    opened_at    TIMESTAMP NOT NULL,
    due_at       TIMESTAMP NOT NULL,
    status       VARCHAR NOT NULL,
    cause        VARCHAR,
    action       VARCHAR,
    closed_at    TIMESTAMP,
    escalated_to VARCHAR,
    escalated_at TIMESTAMP,
    alert_key    VARCHAR NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS deliveries (
    recipient    VARCHAR NOT NULL,
    unit         VARCHAR NOT NULL,
    item         VARCHAR NOT NULL,
    channel      VARCHAR NOT NULL,
    period       VARCHAR,
    sent_at      TIMESTAMP NOT NULL,
    result       VARCHAR NOT NULL,
    error        VARCHAR
);
"""


def ledger_path(warehouse: str | Path) -> Path:
    """``<warehouse>/ledger.duckdb``, or ``warehouse`` itself when it names a ``.duckdb`` file
    (``cxlab notify --dry-run`` works on a temporary copy)."""
    p = Path(warehouse)
    return p if p.suffix == ".duckdb" else p / LEDGER


@contextmanager
def connect_ledger(warehouse: str | Path, *, read_only: bool = False):
    """A DuckDB connection to ``<warehouse>/ledger.duckdb`` with both tables created."""
    import duckdb

    path = ledger_path(warehouse)
    if not path.parent.is_dir():
        raise CxlabError(f"{path.parent}: warehouse not found (run `cxlab ingest` first)")
    if read_only and not path.exists():
        read_only = False
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        if not read_only:
            con.execute(_SCHEMA)
        yield con
    finally:
        con.close()


def _alert_key(r) -> str:
    ref = r.get("response_id") if pd.notna(r.get("response_id")) else r.get("ticket_id")
    ref = "" if ref is None or pd.isna(ref) else str(ref)
    return f"{r['rule']}|{r['period']}|{r['branch']}|{ref}"


def _case_id(key: str) -> str:
    return "C" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10].upper()


def fired_alerts(warehouse: str | Path, *, period: str, params_dir: str | Path = "params"
                 ) -> pd.DataFrame:
    """The alerts of ``period`` evaluated over the warehouse (responses of every period, for the
    period-over-period rules, and the ticket log), as :func:`cxlab.ops.evaluate_alerts`;
    with ``params/weighting.yaml`` enabled the branch-level rules are weighted with the
    reports' survey weights, as in the reports."""
    from cxlab.config import load_codebook, load_params, load_targets
    from cxlab.io import load_responses, load_table
    from cxlab.ops import AlertRules, evaluate_alerts

    params_dir = Path(params_dir)
    rules = load_params(params_dir / "alerts.yaml", AlertRules)
    targets = load_targets(params_dir / "targets.yaml")
    codebook = load_codebook(params_dir / "codebook.yaml")
    wanted = ["response_id", "customer_id", "period", "branch", "ltr", "csat", "comment"]
    # the period and the one before it (period-over-period rules) are all the rules need
    known = sorted(d.name.split("=", 1)[1] for d in (Path(warehouse) / "responses")
                   .glob("period=*") if d.is_dir())
    if period not in known:
        raise CxlabError(f"{warehouse}: no responses for period {period!r} "
                         f"(periods: {', '.join(known) or 'none'})")
    upto = known[:known.index(period) + 1][-2:]
    responses = load_responses(warehouse, period=upto)
    responses = responses[[c for c in wanted if c in responses.columns]]
    try:
        tickets = load_table(warehouse, "tickets")
    except (ValueError, OSError, CxlabError):
        tickets = None
    if tickets is not None and tickets.empty:
        tickets = None
    # weighted like the reports when params/weighting.yaml is enabled: the reports' survey
    # weights (company-wide, per period) on these rows
    weight = None
    from cxlab.report._aggregates import _weighting_plan, build_weights, load_weights

    if _weighting_plan(params_dir) is not None and "response_id" in responses.columns:
        got = load_weights(warehouse)
        if got is None:
            build_weights(warehouse, params_dir=params_dir)
            got = load_weights(warehouse)
        w = got[0].assign(period=got[0]["period"].astype(str),
                          response_id=got[0]["response_id"].astype(str))
        responses = responses.assign(_p=responses["period"].astype(str),
                                     _r=responses["response_id"].astype(str))
        responses = responses.merge(w[["period", "response_id", "weight"]].rename(
            columns={"period": "_p", "response_id": "_r"}), on=["_p", "_r"], how="left",
            sort=False).drop(columns=["_p", "_r"])
        if responses["weight"].isna().any():
            raise CxlabError(f"{warehouse}: survey weights missing for some responses "
                             "(params/weighting.yaml is enabled; run `cxlab reports`)")
        weight = "weight"
    alerts = evaluate_alerts({"responses": responses, "tickets": tickets}, rules=rules,
                             targets=targets, codebook=codebook, weight=weight)
    return alerts[alerts["period"].astype(str) == period].reset_index(drop=True)


def sync_cases(warehouse: str | Path, *, period: str, org, params_dir: str | Path = "params",
               now: pd.Timestamp | None = None, alerts: pd.DataFrame | None = None,
               ledger: str | Path | None = None) -> int:
    """Open a case for every alert of ``period`` not yet in the ledger; returns how many.

    ``owner`` is the first owner of the alert's unit; ``due_at`` = ``opened_at`` +
    ``service_levels.closure_hours`` of ``params/alerts.yaml``. Re-running opens nothing twice
    (an alert's key: rule, period, unit and its response or ticket id).
    """
    from cxlab.config import load_params
    from cxlab.ops import AlertRules

    rules = load_params(Path(params_dir) / "alerts.yaml", AlertRules)
    hours = rules.service_levels.closure_hours
    if alerts is None:
        alerts = fired_alerts(warehouse, period=period, params_dir=params_dir)
    now = pd.Timestamp.now().floor("s") if now is None else pd.Timestamp(now)
    rows = []
    for r in alerts.to_dict("records"):
        key = _alert_key(r)
        unit = str(r["branch"])
        try:
            contacts = org.contacts(unit)
        except KeyError:
            contacts = []
        rows.append({"case_id": _case_id(key), "rule": r["rule"], "label": r["label"],
                     "severity": r["severity"], "unit": unit, "period": str(r["period"]),
                     "detail": r["detail"], "owner": contacts[0].name if contacts else None,
                     "opened_at": now, "due_at": now + pd.Timedelta(hours=hours),
                     "status": NEW, "alert_key": key})
    if not rows:
        return 0
    new = pd.DataFrame(rows).drop_duplicates("alert_key")
    with connect_ledger(ledger or warehouse) as con:
        before = con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
        con.register("new_cases", new)
        con.execute("""INSERT INTO cases (case_id, rule, label, severity, unit, period, detail,
                       owner, opened_at, due_at, status, alert_key)
                       SELECT case_id, rule, label, severity, unit, period, detail, owner,
                              opened_at, due_at, status, alert_key FROM new_cases
                       ON CONFLICT DO NOTHING""")
        return con.execute("SELECT count(*) FROM cases").fetchall()[0][0] - before


def list_cases(warehouse: str | Path, *, period: str | None = None,
               units: list[str] | None = None, status: str | None = None,
               overdue_at: pd.Timestamp | None = None) -> pd.DataFrame:
    """Cases of the ledger (``CASE_COLUMNS``), filtered; ``overdue_at`` keeps the open cases
    whose ``due_at`` is before that time."""
    if status is not None and status not in STATUSES:
        raise CxlabError(f"status {status!r}: expected one of {', '.join(STATUSES)}")
    where, args = [], []
    if period:
        where.append("period = ?")
        args.append(period)
    if units is not None:
        where.append("list_contains(?, unit)")
        args.append(list(units))
    if status:
        where.append("status = ?")
        args.append(status)
    if overdue_at is not None:
        where.append("status <> ? AND due_at < ?")
        args += [CLOSED, pd.Timestamp(overdue_at).to_pydatetime()]
    sql = f"SELECT {', '.join(CASE_COLUMNS)} FROM cases"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY period, unit, opened_at, case_id"
    with connect_ledger(warehouse) as con:
        return con.execute(sql, args).df()


def overdue_cases(warehouse: str | Path, *, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Open cases past their due time at ``now``."""
    now = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    return list_cases(warehouse, overdue_at=now)


def _update(con, case_id: str, *, status: str, cause=None, action=None, closed_at=None,
            owner=None, where: str) -> None:
    if status not in STATUSES:
        raise CxlabError(f"{where}: status {status!r}: expected one of {', '.join(STATUSES)}")
    found = con.execute("SELECT status FROM cases WHERE case_id = ?", [case_id]).fetchall()
    if not found:
        raise CxlabError(f"{where}: unknown case {case_id!r} (see `cxlab cases list`)")
    if status == CLOSED and (not cause or not action):
        raise CxlabError(f"{where}: closing case {case_id} needs a cause and an action")
    con.execute("""UPDATE cases SET status = ?, cause = coalesce(?, cause),
                   action = coalesce(?, action), closed_at = ?, owner = coalesce(?, owner)
                   WHERE case_id = ?""",
                [status, cause, action, closed_at if status == CLOSED else None, owner, case_id])


def close_case(warehouse: str | Path, case_id: str, *, cause: str, action: str,
               closed_at: pd.Timestamp | None = None) -> None:
    """Close a case with the cause found and the action taken (both required)."""
    closed_at = pd.Timestamp.now().floor("s") if closed_at is None else pd.Timestamp(closed_at)
    with connect_ledger(warehouse) as con:
        _update(con, case_id.strip(), status=CLOSED, cause=(cause or "").strip() or None,
                action=(action or "").strip() or None, closed_at=closed_at.to_pydatetime(),
                where=f"case {case_id}")


#: accepted column names of a ticket-system export (matched after stripping, case-insensitive)
IMPORT_COLUMNS = {
    "case_id": ("case_id", "案例编号", "工单编号", "工单号", "预警编号", "编号"),
    "status": ("status", "状态", "处理状态"),
    "cause": ("cause", "原因", "问题原因", "根因"),
    "action": ("action", "措施", "处理措施", "改进措施"),
    "closed_at": ("closed_at", "关闭时间", "完成时间"),
    "owner": ("owner", "负责人", "处理人"),
}


def import_cases(warehouse: str | Path, path: str | Path) -> int:
    """Update cases from a ticket-system export (CSV or Excel); returns the rows applied.

    Columns are matched by name (:data:`IMPORT_COLUMNS`: ``case_id``/工单编号, ``status``/状态,
    ``cause``/原因, ``action``/措施, ``closed_at``/关闭时间, ``owner``/负责人); ``case_id`` and
    ``status`` are required. All rows are checked before any is applied: an error names the
    file, the row (as the spreadsheet numbers it, header = 1) and the column.
    """
    path = Path(path)
    if not path.is_file():
        raise CxlabError(f"{path}: file not found")
    if path.suffix.lower() in (".xlsx", ".xls", ".xlsm"):
        df = pd.read_excel(path, dtype=str, engine="calamine")
    elif path.suffix.lower() == ".csv":
        df = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    else:
        raise CxlabError(f"{path}: expected a .csv or .xlsx export of the ticket system")
    names = {str(c).strip().lower(): c for c in df.columns}
    cols = {}
    for key, aliases in IMPORT_COLUMNS.items():
        hit = next((names[a.lower()] for a in aliases if a.lower() in names), None)
        if hit is not None:
            cols[key] = hit
    for need in ("case_id", "status"):
        if need not in cols:
            raise CxlabError(f"{path}: no column {need!r} (accepted names: "
                             f"{', '.join(IMPORT_COLUMNS[need])})")
    updates = []
    for i, row in enumerate(df.to_dict("records"), start=2):
        def val(key, row=row):
            v = row.get(cols[key]) if key in cols else None
            return None if v is None or pd.isna(v) or not str(v).strip() else str(v).strip()
        where = f"{path}: row {i}"
        status = val("status")
        if status not in STATUSES:
            raise CxlabError(f"{where}, column {cols['status']!r}: status {status!r}: expected "
                             f"one of {', '.join(STATUSES)}")
        closed = None
        if val("closed_at") is not None:
            closed = pd.to_datetime(val("closed_at"), errors="coerce")
            if pd.isna(closed):
                raise CxlabError(f"{where}, column {cols['closed_at']!r}: "
                                 f"{val('closed_at')!r} is not a date-time")
        if status == CLOSED:
            for need in ("cause", "action"):
                if val(need) is None:
                    col = cols.get(need, IMPORT_COLUMNS[need][0])
                    what = "a cause" if need == "cause" else "an action"
                    raise CxlabError(f"{where}, column {col!r}: a closed case needs {what}")
            closed = pd.Timestamp.now().floor("s") if closed is None else closed
        if val("case_id") is None:
            raise CxlabError(f"{where}, column {cols['case_id']!r}: empty case id")
        updates.append((val("case_id"), dict(status=status, cause=val("cause"),
                                             action=val("action"), owner=val("owner"),
                                             closed_at=None if closed is None
                                             else closed.to_pydatetime()),
                        f"{where}, column {cols['case_id']!r}"))
    with connect_ledger(warehouse) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            for case_id, fields, where in updates:
                _update(con, case_id, where=where, **fields)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    return len(updates)


def ledger_figures(cases: pd.DataFrame, *, by: str | list[str] = "unit",
                   now: pd.Timestamp | None = None) -> pd.DataFrame:
    """The ledger's closed-loop figures per group (owner, unit, cause…), for the reports.

    Parameters
    ----------
    cases : DataFrame
        :func:`list_cases` output (already scoped to the report's units and periods).
    by : str or list of str
        Grouping columns, e.g. ``"unit"``, ``"owner"`` or ``"cause"`` (closed cases only have a
        cause: group by cause over ``cases[cases.status == "已关闭"]``).
    now : timestamp, optional
        The cut-off for "overdue" (default: now).

    Returns
    -------
    DataFrame
        ``[by…], opened, closed, closed_in_time, open, overdue, closed_in_time_rate``:
        ``closed_in_time`` = closed at or before ``due_at``; ``overdue`` = still open after
        ``due_at``; ``closed_in_time_rate`` = closed_in_time / opened in %.

    Examples
    --------
    >>> t = pd.Timestamp("2026-10-01")
    >>> cases = pd.DataFrame({"unit": ["A", "A", "B"], "status": ["已关闭", "新建", "处理中"],
    ...     "due_at": [t, t, t + pd.Timedelta(days=9)],
    ...     "closed_at": [t - pd.Timedelta(hours=1), pd.NaT, pd.NaT]})
    >>> ledger_figures(cases, now=t + pd.Timedelta(days=1))
      unit  opened  closed  closed_in_time  open  overdue  closed_in_time_rate
    0    A       2       1               1     1        1                 50.0
    1    B       1       0               0     1        0                  0.0
    """
    by = [by] if isinstance(by, str) else list(by)
    now = pd.Timestamp.now() if now is None else pd.Timestamp(now)
    t = cases.copy()
    closed = t["status"] == CLOSED
    due = pd.to_datetime(t["due_at"])
    t["_closed"] = closed
    t["_in_time"] = closed & (pd.to_datetime(t["closed_at"]) <= due)
    t["_open"] = ~closed
    t["_overdue"] = ~closed & (due < now)
    g = t.groupby(by, sort=True, dropna=False)
    out = pd.DataFrame({"opened": g.size(), "closed": g["_closed"].sum(),
                        "closed_in_time": g["_in_time"].sum(), "open": g["_open"].sum(),
                        "overdue": g["_overdue"].sum()}).reset_index()
    for c in ("opened", "closed", "closed_in_time", "open", "overdue"):
        out[c] = out[c].astype(int)
    out["closed_in_time_rate"] = 100.0 * out["closed_in_time"] / out["opened"]
    return out
