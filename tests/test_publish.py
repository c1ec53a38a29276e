"""`cxlab publish`: every audience folder holds its scope and nothing of any other unit.

The rendered tree is built here with a unique marker per unit planted in each file (a verbatim,
a respondent id and a figure payload), in HTML and in real PDFs (WeasyPrint); the test then
reads every file of every audience folder back and proves which units' markers it holds.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest

from cxlab.cli import main
from cxlab.config import Org, params_from_dict
from cxlab.errors import CxlabError
from cxlab.report import publish

ORG = {
    "version": 1,
    "company": {"code": "ALL", "name": "测试集团", "owners": [{"name": "总监甲"}],
                "pdf_password_env": "TEST_PDF_PASSWORD_ALL"},
    "units": [
        {"code": "EAST", "name": "东部大区", "owners": [{"name": "区总乙"}], "units": [
            {"code": "SHC", "name": "申城片区", "units": [
                {"code": "SH01", "name": "申城一店"}, {"code": "SH02", "name": "申城二店"}]},
            {"code": "HZ01", "name": "杭城分部", "pdf_password_env": "TEST_PDF_PASSWORD_HZ01"}]},
        {"code": "SOUTH", "name": "南部大区", "units": [
            {"code": "GZ01", "name": "穗城分部"}, {"code": "SZ01", "name": "鹏城分部"}]},
        {"code": "XM01", "name": "鹭岛直营"},     # a top-level branch without a region
    ],
}
PERIODS = ("2026Q2", "2026Q3")
PDF_UNITS = {"ALL", "EAST", "SH01", "HZ01", "GZ01"}
#: units with a tab book and a deck (last period), holding the markers of the units listed:
#: a region's book and deck carry its branches' data, a branch's only its own
BOOK_UNITS = {"ALL": ["ALL", "EAST", "SHC", "SH01", "SH02", "HZ01", "SOUTH", "GZ01", "SZ01",
                      "XM01"],
              "EAST": ["EAST", "SHC", "SH01", "SH02", "HZ01"], "SHC": ["SHC", "SH01", "SH02"],
              "GZ01": ["GZ01"]}
PASSWORDS = {"TEST_PDF_PASSWORD_ALL": "pw-all-" + secrets.token_hex(4),
             "TEST_PDF_PASSWORD_HZ01": "pw-hz-" + secrets.token_hex(4)}


@pytest.fixture(scope="module")
def org() -> Org:
    return params_from_dict(ORG, Org, source="test org")


def _marker(code: str, period: str) -> str:
    return f"MARK{code}X{period}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, org) -> Path:
    """A rendered tree: every unit (and the company) has an HTML report per period with its
    own verbatim, respondent id and figure; some have a PDF, an Excel book and a CSV."""
    from weasyprint import HTML

    root = tmp_path_factory.mktemp("reports")
    for period in PERIODS:
        (root / period).mkdir()
        for code in org.scope("ALL"):
            m = _marker(code, period)
            html = (f'<html lang="zh-CN"><body><h1>{org.name_of(code)}</h1>'
                    f"<p>原话:“{m} 服务太慢”</p><p>response_id R{m}</p>"
                    f'<img src="data:image/png;base64,FIG{m}"></body></html>')
            (root / period / f"{code}.html").write_text(html, encoding="utf-8")
            if code in PDF_UNITS and period == PERIODS[-1]:
                HTML(string=f"<p>{m} 原话</p>").write_pdf(root / period / f"{code}.pdf")
        (root / period / "SH02-tables.csv").write_text(f"id\n{_marker('SH02', period)}\n",
                                                       encoding="utf-8")
        (root / period / "stray.html").write_text("no unit", encoding="utf-8")
    for code, holds in BOOK_UNITS.items():
        _book(root / PERIODS[-1] / f"{code}-tables.xlsx", org, holds, PERIODS[-1])
        _deck(root / PERIODS[-1] / f"{code}-deck.pptx", org, holds, PERIODS[-1])
    (root / "index.html").write_text("company index listing every unit", encoding="utf-8")
    return root


def _book(path: Path, org, holds: list[str], period: str) -> None:
    """A tab book: a banner of the units' names, a verbatim cell per unit (real .xlsx)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "目录"
    ws.append([org.name_of(c) for c in holds])
    ws.append([f"原话:“{_marker(c, period)} 服务太慢”" for c in holds])
    wb.create_sheet("Q01 总体满意度").append([f"R{_marker(c, period)}" for c in holds])
    wb.save(path)


def _deck(path: Path, org, holds: list[str], period: str) -> None:
    """A deck: a league table of the units and a quote per unit (real .pptx)."""
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    s = prs.slides.add_slide(prs.slide_layouts[6])
    tbl = s.shapes.add_table(len(holds), 2, 0, 0, Inches(6), Inches(3)).table
    for i, c in enumerate(holds):
        tbl.cell(i, 0).text = org.name_of(c)
        tbl.cell(i, 1).text = f"“{_marker(c, period)} 服务太慢”"
    prs.save(path)


def office_text(path: Path) -> str:
    """Every text cell of an .xlsx, every text box and table cell and chart label of a .pptx."""
    if path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path)
        return "\n".join([*wb.sheetnames, *(str(c.value) for ws in wb.worksheets
                                             for row in ws.iter_rows() for c in row
                                             if c.value is not None)])
    from pptx import Presentation

    out = []
    for s in Presentation(path).slides:
        for sh in s.shapes:
            if sh.has_text_frame:
                out.append(sh.text_frame.text)
            if sh.has_table:
                out += [c.text for row in sh.table.rows for c in row.cells]
            if sh.has_chart:
                out += [str(x) for pl in sh.chart.plots for x in pl.categories]
                out += [se.name for pl in sh.chart.plots for se in pl.series]
    return "\n".join(out)


def _text(path: Path, password: str | None) -> str:
    if path.suffix in (".xlsx", ".pptx"):
        return office_text(path)
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(path)
        if reader.is_encrypted:
            assert password is not None, f"{path} is encrypted but the audience has no password"
            assert reader.decrypt(password), f"{path}: the audience's password does not open it"
        return "".join(page.extract_text() for page in reader.pages)
    return path.read_text(encoding="utf-8")


def test_every_audience_holds_exactly_its_scope(tmp_path, org, rendered, monkeypatch):
    for k, v in PASSWORDS.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "site"
    summary = publish(rendered, out, org=org)
    every = org.scope("ALL")
    assert sorted(p.name for p in out.iterdir()) == sorted(every)
    assert summary.unassigned == [f"{p}/stray.html" for p in PERIODS]
    names = {c: org.name_of(c) for c in every}
    for code in every:
        folder = out / code
        scope = set(org.scope(code))
        password = PASSWORDS.get(org.audience(code).pdf_password_env or "")
        found: set[str] = set()
        files = [p for p in folder.rglob("*") if p.is_file() and p.name != ".cxlab-publish"]
        for f in files:
            if f.name == "index.html" and f.parent == folder:
                continue
            stem = f.name.split(".")[0]
            owner_unit = stem.split("-")[0]
            assert owner_unit in scope, f"{code}: {f.relative_to(out)} is outside its scope"
            text = _text(f, password)
            marks = set(re.findall(r"MARK([A-Z0-9]+?)X(20[0-9]{2}Q[1-4])", text))
            assert marks, f"{f}: no marker read back"
            for unit, _period in marks:
                assert unit in scope, f"{code}: {f.name} holds data of {unit}"
            found |= {u for u, _ in marks}
        # every unit of the scope is there (its HTML for both periods, PDF when rendered)
        assert found == scope
        expected = {f"{p}/{u}.html" for p in PERIODS for u in scope}
        expected |= {f"{PERIODS[-1]}/{u}.pdf" for u in scope & PDF_UNITS}
        if "SH02" in scope:
            expected |= {f"{p}/SH02-tables.csv" for p in PERIODS}
        expected |= {f"{PERIODS[-1]}/{u}-{k}" for u in scope & set(BOOK_UNITS)
                     for k in ("tables.xlsx", "deck.pptx")}
        # the books and decks of the scope are there, holding only units of the scope
        for u in scope & set(BOOK_UNITS):
            for k in ("tables.xlsx", "deck.pptx"):
                text = office_text(folder / PERIODS[-1] / f"{u}-{k}")
                assert _marker(u, PERIODS[-1]) in text
                for other in set(every) - scope:
                    assert _marker(other, PERIODS[-1]) not in text, (code, u, other)
                    assert names[other] not in text, (code, u, other)
        got = {str(f.relative_to(folder)) for f in files if f.name != "index.html"
               or f.parent != folder}
        assert got == expected
        # the index names the scope and nothing else
        index = (folder / "index.html").read_text(encoding="utf-8")
        for other in set(every) - scope:
            assert other not in index and names[other] not in index, (code, other)
        for unit in scope:
            assert names[unit] in index
            assert f'href="{PERIODS[-1]}/{unit}.html"' in index
        hrefs = re.findall(r'href="([^"]+)"', index)
        assert all((folder / h).is_file() for h in hrefs), hrefs
    # nothing of the company-wide index is copied anywhere
    assert not any("company index" in p.read_text(errors="ignore")
                   for p in out.rglob("*.html"))
    assert summary.encrypted == {"ALL": len(PDF_UNITS), "HZ01": 1}


def test_branch_of_a_deep_tree_sees_only_itself(tmp_path, org, rendered, monkeypatch):
    for k, v in PASSWORDS.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "site"
    publish(rendered, out, org=org, audiences=["SH01", "SHC"])
    assert sorted(p.name for p in out.iterdir()) == ["SH01", "SHC"]
    assert sorted(p.name for p in (out / "SH01" / PERIODS[-1]).iterdir()) == [
        "SH01.html", "SH01.pdf"]
    assert sorted(p.name for p in (out / "SHC" / PERIODS[-1]).iterdir()) == [
        "SH01.html", "SH01.pdf", "SH02-tables.csv", "SH02.html", "SHC-deck.pptx",
        "SHC-tables.xlsx", "SHC.html"]


def test_encrypted_pdf_needs_the_password(tmp_path, org, rendered, monkeypatch):
    from pypdf import PdfReader

    for k, v in PASSWORDS.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "site"
    publish(rendered, out, org=org, audiences=["HZ01", "EAST"])
    locked = PdfReader(out / "HZ01" / PERIODS[-1] / "HZ01.pdf")
    assert locked.is_encrypted
    assert not locked.decrypt("wrong")
    assert PdfReader(out / "HZ01" / PERIODS[-1] / "HZ01.pdf").decrypt(
        PASSWORDS["TEST_PDF_PASSWORD_HZ01"])
    # EAST has no password: its copy of the same report is the original bytes
    assert not PdfReader(out / "EAST" / PERIODS[-1] / "HZ01.pdf").is_encrypted
    assert (out / "EAST" / PERIODS[-1] / "HZ01.pdf").read_bytes() == \
        (rendered / PERIODS[-1] / "HZ01.pdf").read_bytes()


def test_missing_password_variable_stops_before_writing(tmp_path, org, rendered, monkeypatch):
    monkeypatch.delenv("TEST_PDF_PASSWORD_ALL", raising=False)
    monkeypatch.setenv("TEST_PDF_PASSWORD_HZ01", "x")
    with pytest.raises(CxlabError, match="ALL: pdf_password_env TEST_PDF_PASSWORD_ALL \\(org.yaml\\) is not set"):
        publish(rendered, tmp_path / "site", org=org)
    assert not (tmp_path / "site").exists()


def test_republish_drops_files_that_left_the_scope_and_spares_foreign_folders(
        tmp_path, org, rendered, monkeypatch):
    for k, v in PASSWORDS.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "site"
    publish(rendered, out, org=org, audiences=["GZ01"])
    planted = out / "GZ01" / PERIODS[0] / "SZ01.html"
    planted.write_text("left over", encoding="utf-8")
    publish(rendered, out, org=org, audiences=["GZ01"])
    assert not planted.exists()
    (out / "SZ01").mkdir()
    (out / "SZ01" / "mine.txt").write_text("user file", encoding="utf-8")
    with pytest.raises(CxlabError, match="was not written by `cxlab publish`"):
        publish(rendered, out, org=org, audiences=["SZ01"])
    assert (out / "SZ01" / "mine.txt").is_file()


def test_params_never_hold_a_secret():
    bad = {**ORG, "company": {"code": "ALL", "name": "x", "owners": [
        {"name": "甲", "dingtalk": {"url_env": "https://oapi.dingtalk.com/robot/send?access_token=abc"}}]}}
    with pytest.raises(CxlabError, match="url_env must name an environment variable"):
        params_from_dict(bad, Org, source="org.yaml")
    bad["company"]["owners"][0]["dingtalk"] = {"url_env": "DT_URL", "secret_env": "SECabc123def"}
    with pytest.raises(CxlabError, match="secret_env must name an environment variable"):
        params_from_dict(bad, Org, source="org.yaml")
    bad["company"]["owners"][0] = {"name": "甲", "email": "not-an-address"}
    with pytest.raises(CxlabError, match="email"):
        params_from_dict(bad, Org, source="org.yaml")


def test_sample_org_owners_and_legacy_owner_string():
    from cxlab.config import load_org

    org = load_org("params/org.yaml")
    for region in org.tree:
        assert region.contacts and region.contacts[0].email.endswith("@example.com")
        for b in region.units:
            assert b.owner is not None                     # the legacy plain name is kept
            assert b.contacts[0].email.endswith("@example.com")
    assert org.superior_of("SH01") == "EAST" and org.superior_of("EAST") == "ALL"
    assert org.superior_of("ALL") is None
    legacy = params_from_dict({"version": 1, "company": {"code": "ALL", "name": "x"},
                               "units": [{"code": "A1", "name": "甲", "owner": "张三"}]}, Org)
    assert [c.name for c in legacy.contacts("A1")] == ["张三"]
    assert legacy.contacts("A1")[0].channels == []


def test_cli_publish(tmp_path, rendered, monkeypatch, capsys):
    for k, v in PASSWORDS.items():
        monkeypatch.setenv(k, v)
    assert main(["publish", "--reports", str(rendered), "--out", str(tmp_path / "site"),
                 "--org", str(tmp_path / "org.yaml")]) == 1
    assert "org.yaml: parameter file not found" in capsys.readouterr().err
    import yaml

    (tmp_path / "org.yaml").write_text(yaml.safe_dump(ORG, allow_unicode=True), encoding="utf-8")
    assert main(["publish", "--reports", str(rendered), "--out", str(tmp_path / "site"),
                 "--org", str(tmp_path / "org.yaml")]) == 0
    out = capsys.readouterr().out
    assert "Published 10 audience sites" in out
    assert "  SH01: 3 files\n" in out and "  HZ01: 3 files (1 PDF with password)\n" in out
    assert (tmp_path / "site" / "XM01" / "index.html").is_file()


@pytest.mark.slow
def test_real_reports_published_per_audience_hold_no_other_units_verbatims(
        rendered_reports, sample_warehouse, tmp_path, monkeypatch):
    """On the sample's rendered reports: every verbatim shown in an audience's files was
    written in a branch of that audience's scope, and no response id of another branch is
    there (a branch report's league table of branch aggregates is allowed, by design)."""
    import shutil

    from bs4 import BeautifulSoup

    from cxlab.config import load_org
    from cxlab.deliver import write_deliverables
    from cxlab.io import load_responses

    monkeypatch.setenv("CXLAB_PDF_PASSWORD_ALL", "pw")
    org = load_org("params/org.yaml")
    out = tmp_path / "site"
    # the tab books and decks of the company, two regions and some of their branches beside
    # the reports, as `cxlab reports --format html,pdf,xlsx,pptx` writes them
    tree = tmp_path / "reports"
    shutil.copytree(rendered_reports, tree)
    books = ["ALL", "EAST", "SOUTH", "SH01", "GZ01", "SZ01", "XM01", "BJ01"]
    made = write_deliverables(periods=["2026Q3"], branches=books, warehouse=sample_warehouse,
                              output_dir=tree, jobs=2)
    assert not made.failed and len(made.written) == 2 * len(books), made.summary()
    publish(tree, out, org=org, warehouse=sample_warehouse)
    resp = load_responses(sample_warehouse)
    writers: dict[str, set[str]] = {}
    ids: dict[str, set[str]] = {}
    for comment, branch, rid in zip(resp["comment"], resp["branch"].astype(str),
                                    resp["response_id"].astype(str), strict=True):
        if isinstance(comment, str):
            writers.setdefault(comment, set()).add(branch)
        ids.setdefault(branch, set()).add(rid)
    shown_any = 0
    for code in org.scope("SOUTH") + ["EAST", "SH01", "BJ01"]:
        scope_branches = set(org.scope(code)) & set(org.branch_codes)
        files = sorted((out / code).rglob("*.html"))
        assert {f.stem for f in files if f.name != "index.html"} <= set(org.scope(code))
        for f in files:
            html = f.read_text(encoding="utf-8")
            texts = {t.strip().strip("“”\"") for t in BeautifulSoup(html, "html.parser")
                     .stripped_strings}
            shown = [t for t in texts if t in writers]
            shown_any += len(shown)
            foreign = [t for t in shown if not writers[t] & scope_branches]
            assert foreign == [], (code, f.name, foreign[:3])
            for other in set(org.branch_codes) - scope_branches:
                leaked = [i for i in ids[other] if i in html]
                assert leaked == [], (code, f.name, other, leaked[:3])
        # the audience's tab books and decks: its own, those below it, nothing else; no other
        # branch's name, verbatim or response id in any cell, text box, table or chart
        office = sorted([*(out / code).rglob("*.xlsx"), *(out / code).rglob("*.pptx")])
        owners = {f.name.split("-")[0] for f in office}
        assert owners == set(books) & set(org.scope(code)), (code, owners)
        for f in office:
            text = office_text(f)
            lines = {t.strip().strip("“”\"") for t in text.splitlines()}
            shown = [t for t in lines if t in writers]
            shown_any += len(shown)
            foreign = [t for t in shown if not writers[t] & scope_branches]
            assert foreign == [], (code, f.name, foreign[:3])
            for other in set(org.branch_codes) - scope_branches:
                assert org.name_of(other) not in text, (code, f.name, other)
                leaked = [i for i in ids[other] if i in text]
                assert leaked == [], (code, f.name, other, leaked[:3])
    assert shown_any > 0       # the check saw verbatims at all
