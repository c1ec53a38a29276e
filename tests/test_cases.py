"""The closed-loop case ledger: alerts become cases once, cases close with cause and action, a
ticket-system export updates them, and every user error names file, row and column."""

from __future__ import annotations

import pandas as pd
import pytest

from cxlab.cli import main
from cxlab.config import load_org
from cxlab.errors import CxlabError
from cxlab.notify import close_case, fired_alerts, import_cases, list_cases, sync_cases

NOW = pd.Timestamp("2026-10-08 09:00:00")


@pytest.fixture
def warehouse(sample_warehouse, tmp_path):
    """The session's sample warehouse, with a ledger of its own for this test."""
    import shutil

    wh = tmp_path / "warehouse"
    shutil.copytree(sample_warehouse, wh)
    return wh


def test_alerts_become_cases_once_with_owner_and_due_time(warehouse):
    org = load_org("params/org.yaml")
    alerts = fired_alerts(warehouse, period="2026Q3")
    assert len(alerts) > 0 and set(alerts["period"]) == {"2026Q3"}
    n = sync_cases(warehouse, period="2026Q3", org=org, now=NOW)
    assert n == len(alerts)
    assert sync_cases(warehouse, period="2026Q3", org=org, now=NOW + pd.Timedelta(days=1)) == 0
    cases = list_cases(warehouse)
    assert len(cases) == n and set(cases["status"]) == {"新建"}
    assert (cases["due_at"] - cases["opened_at"] == pd.Timedelta(hours=72)).all()  # alerts.yaml
    for r in cases.itertuples():
        assert r.owner == org.contacts(r.unit)[0].name
    assert list_cases(warehouse, overdue_at=NOW + pd.Timedelta(hours=71)).empty
    assert len(list_cases(warehouse, overdue_at=NOW + pd.Timedelta(hours=73))) == n
    east = list_cases(warehouse, units=org.scope("EAST"))
    assert set(east["unit"]) <= {"SH01", "HZ01", "NJ01", "SU01"} and len(east) < n


def test_close_needs_cause_and_action(warehouse):
    org = load_org("params/org.yaml")
    sync_cases(warehouse, period="2026Q3", org=org, now=NOW)
    cid = list_cases(warehouse).iloc[0]["case_id"]
    with pytest.raises(CxlabError, match="needs a cause and an action"):
        close_case(warehouse, cid, cause="  ", action="回访")
    with pytest.raises(CxlabError, match="unknown case 'CNOPE'"):
        close_case(warehouse, "CNOPE", cause="x", action="y")
    close_case(warehouse, cid, cause="配送延误", action="更换承运商", closed_at=NOW)
    row = list_cases(warehouse).set_index("case_id").loc[cid]
    assert (row["status"], row["cause"], row["action"]) == ("已关闭", "配送延误", "更换承运商")
    assert row["closed_at"] == NOW
    assert list_cases(warehouse, overdue_at=NOW + pd.Timedelta(days=9))["case_id"].ne(cid).all()


def test_import_from_a_ticket_system_export(warehouse, tmp_path):
    org = load_org("params/org.yaml")
    sync_cases(warehouse, period="2026Q3", org=org, now=NOW)
    ids = list_cases(warehouse)["case_id"].tolist()
    export = pd.DataFrame({"工单编号": ids[:2], "处理状态": ["已关闭", "处理中"],
                           "问题原因": ["安装师傅迟到", None], "处理措施": ["上门致歉并补偿", None],
                           "关闭时间": ["2026-10-09 10:30", None], "备注": ["x", "y"]})
    xlsx = tmp_path / "工单导出.xlsx"
    export.to_excel(xlsx, index=False)
    assert import_cases(warehouse, xlsx) == 2
    got = list_cases(warehouse).set_index("case_id")
    assert got.loc[ids[0], "status"] == "已关闭"
    assert got.loc[ids[0], "closed_at"] == pd.Timestamp("2026-10-09 10:30")
    assert got.loc[ids[1], "status"] == "处理中" and pd.isna(got.loc[ids[1], "closed_at"])

    bad = export.assign(处理状态=["已关闭", "done"])
    csv = tmp_path / "bad.csv"
    bad.to_csv(csv, index=False)
    with pytest.raises(CxlabError, match=r"bad.csv: row 3, column '处理状态': status 'done'"):
        import_cases(warehouse, csv)
    bad = export.assign(处理措施=[None, None])
    bad.to_csv(csv, index=False)
    with pytest.raises(CxlabError, match=r"bad.csv: row 2, column '处理措施': a closed case "
                                         r"needs an action"):
        import_cases(warehouse, csv)
    bad = export.assign(工单编号=[ids[2], "C-UNKNOWN"], 处理状态=["处理中", "处理中"])
    bad.to_csv(csv, index=False)
    with pytest.raises(CxlabError, match=r"bad.csv: row 3, column '工单编号': unknown case"):
        import_cases(warehouse, csv)
    # all or nothing: the valid first row of the failed file was not applied
    assert list_cases(warehouse).set_index("case_id").loc[ids[2], "status"] == "新建"
    export.drop(columns="工单编号").to_csv(csv, index=False)
    with pytest.raises(CxlabError, match="no column 'case_id'"):
        import_cases(warehouse, csv)


def test_cli_cases(warehouse, tmp_path, capsys):
    assert main(["cases", "--warehouse", str(warehouse), "list", "--period", "2026Q3",
                 "--unit", "SOUTH"]) == 0
    out = capsys.readouterr().out
    assert "new case(s) opened" in out and "SH01" not in out and "新建" in out
    cid = list_cases(warehouse, units=["GZ01"]).iloc[0]["case_id"]
    assert main(["cases", "--warehouse", str(warehouse), "close", cid, "--cause", "备件缺货",
                 "--action", "调拨备件"]) == 0
    assert main(["cases", "--warehouse", str(warehouse), "list", "--status", "已关闭"]) == 0
    out = capsys.readouterr().out
    assert cid in out and "备件缺货" in out and "1 case(s): 已关闭 1" in out
    assert main(["cases", "--warehouse", str(warehouse), "close", "CX", "--cause", "a",
                 "--action", "b"]) == 1
    assert capsys.readouterr().err.startswith("cxlab: error: case CX: unknown case 'CX'")


def test_ledger_figures_by_owner_and_cause(warehouse):
    from cxlab.notify import ledger_figures

    org = load_org("params/org.yaml")
    sync_cases(warehouse, period="2026Q3", org=org, now=NOW)
    cases = list_cases(warehouse, units=["SH01", "GZ01"])
    sh = cases[cases["unit"] == "SH01"]["case_id"].tolist()
    close_case(warehouse, sh[0], cause="配送延误", action="更换承运商",
               closed_at=NOW + pd.Timedelta(hours=10))             # in time (due + 72 h)
    close_case(warehouse, sh[1], cause="配送延误", action="回访致歉",
               closed_at=NOW + pd.Timedelta(hours=100))            # late
    cases = list_cases(warehouse, units=["SH01", "GZ01"])
    fig = ledger_figures(cases, by="unit", now=NOW + pd.Timedelta(hours=200)).set_index("unit")
    n_sh = len(sh)
    assert fig.loc["SH01"].to_dict() == {
        "opened": n_sh, "closed": 2, "closed_in_time": 1, "open": n_sh - 2,
        "overdue": n_sh - 2, "closed_in_time_rate": pytest.approx(100 / n_sh)}
    by_cause = ledger_figures(cases[cases["status"] == "已关闭"], by="cause")
    assert by_cause.to_dict("records") == [{"cause": "配送延误", "opened": 2, "closed": 2,
                                            "closed_in_time": 1, "open": 0, "overdue": 0,
                                            "closed_in_time_rate": 50.0}]
    by_owner = ledger_figures(cases, by="owner", now=NOW)
    assert set(by_owner["owner"]) == {"陈思远(分公司负责人)", "黄志强(分公司负责人)"}
    assert by_owner["overdue"].sum() == 0


def test_reports_show_the_ledger_of_their_scope(warehouse):
    """The company and branch reports' 闭环工单台账 section: its figures are ledger_figures() of
    the scope's cases; a branch report shows its own cases only; closing a case re-renders the
    reports of its scope (the runner's fingerprint follows the ledger) and no other."""
    from bs4 import BeautifulSoup

    from cxlab.notify import ledger_figures
    from cxlab.report import build_aggregates, load_context
    from cxlab.report._layout import shown_sections
    from cxlab.report._runner import ReportJob, fingerprint
    from cxlab.report._sections_cases import cases

    build_aggregates(warehouse)
    org = load_org("params/org.yaml")
    before = load_context(period="2026Q3", warehouse=warehouse)
    assert "cases" not in [s.id for s, _ in shown_sections(before)]  # no ledger yet: no section
    sync_cases(warehouse, period="2026Q3", org=org, now=NOW)
    every = list_cases(warehouse, period="2026Q3")
    owned = every["unit"].value_counts()
    branch = owned.index[0]                      # the branch with the most cases
    other = next(b for b in org.branch_codes if b != branch and b in owned.index)

    def rows(ctx, caption):
        soup = BeautifulSoup(cases(ctx).html, "html.parser")
        t = next(t for t in soup.select("table") if caption in t.get_text())
        head = [c.get_text(strip=True) for c in t.select("tr")[0].find_all(["th", "td"])]
        return [dict(zip(head, (c.get_text(strip=True) for c in tr.find_all(["th", "td"])),
                         strict=True)) for tr in t.select("tr")[1:]]

    company = load_context(period="2026Q3", warehouse=warehouse)
    assert "cases" in [s.id for s, _ in shown_sections(company)]
    shown = {r["责任人"]: r for r in rows(company, "按责任人")}
    for r in ledger_figures(every, by="owner").itertuples():
        assert int(shown[r.owner]["预警工单"]) == r.opened
        assert int(shown[r.owner]["已关闭"]) == r.closed
    own = load_context(period="2026Q3", branch=branch, warehouse=warehouse)
    html = cases(own).html
    assert org.name_of(other) not in html
    (mine,) = rows(own, "按责任人")
    assert int(mine["预警工单"]) == int(owned[branch])

    def fp(scope):
        from pathlib import Path

        job = ReportJob(period="2026Q3", branch=scope, output_dir=Path("reports"),
                        template=Path("cxlab/notebooks/templates/branch_report.ipynb"),
                        warehouse=warehouse)
        return fingerprint(job)

    prints = {s: fp(s) for s in (None, branch, other)}
    cid = every[every["unit"] == branch].iloc[0]["case_id"]
    close_case(warehouse, cid, cause="配送延误", action="更换承运商", closed_at=NOW)
    assert fp(None) != prints[None] and fp(branch) != prints[branch]
    assert fp(other) == prints[other]
