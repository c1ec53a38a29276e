"""Region reports as jobs of the report runner: planned per grouping unit × period, incremental
on their branches' partitions, selectable with ``--branch``; the index groups company → region →
branches; every report links up and down the organisation."""

from __future__ import annotations

import os
import shutil
import unicodedata
from pathlib import Path

import nbformat
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cxlab.config import Org, load_org
from cxlab.errors import CxlabError
from cxlab.report import region_scopes, render_all
from cxlab.report._runner import ReportJob, data_inputs, fingerprint, plan_jobs

ROOT = Path(__file__).resolve().parents[1]
DEEP = {"version": 1, "company": {"code": "ALL", "name": "公司"}, "units": [
    {"code": "N", "name": "北方", "units": [
        {"code": "N1", "name": "北一区", "units": [{"code": "A", "name": "甲"},
                                                  {"code": "B", "name": "乙"}]},
        {"code": "C", "name": "丙"}]},
    {"code": "D", "name": "丁"}]}
FLAT = {"version": 1, "company": {"code": "ALL", "name": "公司"},
        "units": [{"code": "A", "name": "甲"}, {"code": "B", "name": "乙"}]}


def test_region_scopes_cover_every_grouping_unit_at_any_depth():
    org = Org.model_validate(DEEP)
    assert region_scopes(org) == {"N": ("A", "B", "C"), "N1": ("A", "B")}
    assert region_scopes(Org.model_validate(FLAT)) == {}


def test_plan_has_one_region_job_per_grouping_unit_and_period(tmp_path):
    org = load_org(ROOT / "params" / "org.yaml")
    periods = ["2026Q1", "2026Q2", "2026Q3"]
    jobs = plan_jobs(periods=periods, branches=org.branch_codes, warehouse=tmp_path / "wh",
                     output_dir=tmp_path / "r", regions=region_scopes(org))
    regions = [j for j in jobs if j.unit is not None]
    assert len(regions) == 3 * len(periods)          # EAST, SOUTH, NORTH × 3 periods
    assert len(jobs) == len(periods) * (1 + 3 + len(org.branch_codes))
    east = next(j for j in regions if j.key == "2026Q3/EAST")
    assert east.template.name == "region_report.ipynb" and east.template.is_file()
    assert east.parameters["unit"] == "EAST" and "branch" not in east.parameters
    assert east.path("html") == tmp_path / "r" / "2026Q3" / "EAST.html"
    assert east.data_scope == ("SH01", "HZ01", "NJ01", "SU01")
    # an organisation without regions (flat units:) plans no region report
    flat = Org.model_validate(FLAT)
    jobs = plan_jobs(periods=periods, branches=flat.branch_codes, warehouse=tmp_path / "wh",
                     output_dir=tmp_path / "r", regions=region_scopes(flat))
    assert [j for j in jobs if j.unit is not None] == []
    assert len(jobs) == len(periods) * 3


def _fake_warehouse(root: Path) -> Path:
    for period in ("2026Q2", "2026Q3"):
        for branch in ("SH01", "HZ01", "GZ01"):
            d = root / "responses" / f"period={period}" / f"branch={branch}"
            d.mkdir(parents=True)
            (d / "part-0.parquet").write_bytes(f"{period}{branch}".encode())
    (root / "aggregates").mkdir()
    (root / "aggregates" / "branch_kpis.parquet").write_bytes(b"agg")
    return root


def test_region_fingerprint_tracks_its_branches_partitions_only(tmp_path):
    wh = _fake_warehouse(tmp_path / "wh")
    tpl = tmp_path / "t.ipynb"
    tpl.write_text("{}")
    east = ReportJob(period="2026Q3", branch=None, unit="EAST", scope=("SH01", "HZ01"),
                     template=tpl, output_dir=tmp_path / "r", warehouse=wh,
                     params_dir=ROOT / "params")
    files = {str(p.relative_to(wh)) for p in data_inputs(wh, east.data_scope)}
    assert "aggregates/branch_kpis.parquet" in files
    assert {f for f in files if "branch=" in f} == {
        f"responses/period={p}/branch={b}/part-0.parquet"
        for p in ("2026Q2", "2026Q3") for b in ("SH01", "HZ01")}
    base = fingerprint(east, code_hash="c")
    (wh / "responses/period=2026Q3/branch=GZ01/part-0.parquet").write_bytes(b"other region")
    assert fingerprint(east, code_hash="c") == base
    (wh / "responses/period=2026Q3/branch=HZ01/part-0.parquet").write_bytes(b"mine")
    assert fingerprint(east, code_hash="c") != base


# --------------------------------------------------------------------------- runs, tiny templates
def _nb(params: str, body: str) -> nbformat.NotebookNode:
    p = new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[p, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("templates")
    common = "period = '2026Q3'\nwarehouse = 'data/warehouse'\nparams_dir = 'params'\n"
    nbformat.write(_nb(common + "branch = None", 'print("公司报告", period)'),
                   d / "company_report.ipynb")
    nbformat.write(_nb(common + "branch = None", 'print("分支报告", branch)'),
                   d / "branch_report.ipynb")
    nbformat.write(_nb(common + "unit = 'EAST'", 'print("区域报告", unit)'),
                   d / "region_report.ipynb")
    return d


def _edit_comment(partition: Path) -> None:
    """Correct one verbatim comment in a branch's partition: the branch's data changes, the
    company aggregates (counts of ratings) do not."""
    path = next(p for p in sorted(partition.glob("*.parquet"))
                if any(pq.ParquetFile(p).read(columns=["comment"]).column(0).to_pylist()))
    table = pq.ParquetFile(path).read()
    comments = table.column("comment").to_pylist()
    i = next(k for k, c in enumerate(comments) if c)
    comments[i] = comments[i] + "(已更正)"
    idx = table.schema.get_field_index("comment")
    table = table.set_column(idx, table.schema.field(idx), pa.array(comments, table.column(
        "comment").type))
    pq.write_table(table, path)


@pytest.mark.slow
def test_region_reports_render_incrementally_with_the_others(sample_warehouse, tiny, tmp_path):
    wh = tmp_path / "warehouse"
    shutil.copytree(sample_warehouse, wh)
    out = tmp_path / "reports"
    org = load_org(ROOT / "params" / "org.yaml")
    kw = dict(periods=["2026Q3"], warehouse=wh, output_dir=out, templates_dir=tiny,
              formats=("html",), jobs=2, progress=False, params_dir=ROOT / "params")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        first = render_all(**kw)
        assert not first.failed, first.summary()
        expected = {f"2026Q3/{c}" for c in ["ALL", "EAST", "SOUTH", "NORTH", *org.branch_codes]}
        assert set(first.rendered) == expected
        assert f"Rendered {len(expected)}, unchanged 0" in first.summary()
        assert "区域报告 SOUTH" in (out / "2026Q3" / "SOUTH.html").read_text(encoding="utf-8")

        second = render_all(**kw)                       # nothing changed: nothing rendered
        assert second.rendered == [] and set(second.skipped_unchanged) == expected

        _edit_comment(wh / "responses" / "period=2026Q3" / "branch=SH01")
        third = render_all(**kw)                        # the branch, its region, the company
        assert sorted(third.rendered) == ["2026Q3/ALL", "2026Q3/EAST", "2026Q3/SH01"]
        assert len(third.skipped_unchanged) == len(expected) - 3

        only = render_all(**{**kw, "branches": ["EAST"], "force": True})  # --branch EAST
        assert only.rendered == ["2026Q3/EAST"] and only.skipped_unchanged == []
        with pytest.raises(CxlabError, match=r"unknown branch 'WEST' \(known: ALL, EAST, SOUTH"):
            render_all(**{**kw, "branches": ["WEST"]})
    finally:
        os.chdir(cwd)


# --------------------------------------------------------------------------- the real sample run
def _local_links(page: Path) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    return [a["href"] for a in soup.find_all("a", href=True)
            if not a["href"].startswith(("#", "http:", "https:", "mailto:", "data:"))]


def _nav_links(page: Path) -> set[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    (nav,) = soup.find_all("nav", class_="cx-nav")
    return {a["href"] for a in nav.find_all("a", href=True)}


def test_every_link_resolves_and_goes_up_and_down(rendered_reports):
    period = rendered_reports / "2026Q3"
    pages = [rendered_reports / "index.html", *sorted(period.glob("*.html"))]
    assert len(pages) == 1 + 1 + 3 + 10
    for page in pages:
        links = _local_links(page)
        assert links, page.name
        for href in links:
            assert (page.parent / href).resolve().is_file(), (page.name, href)
    assert _nav_links(period / "ALL.html") == {"EAST.html", "SOUTH.html", "NORTH.html",
                                               "../index.html"}
    assert _nav_links(period / "EAST.html") == {"ALL.html", "SH01.html", "HZ01.html",
                                                "NJ01.html", "SU01.html", "../index.html"}
    assert _nav_links(period / "SH01.html") == {"ALL.html", "EAST.html", "../index.html"}


def test_index_groups_company_region_branches(rendered_reports):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((rendered_reports / "index.html").read_text(encoding="utf-8"),
                         "html.parser")
    rows = soup.find("table").find("tbody").find_all("tr")
    org = load_org(ROOT / "params" / "org.yaml")
    order = ["ALL", "EAST", "SH01", "HZ01", "NJ01", "SU01", "SOUTH", "GZ01", "SZ01", "XM01",
             "NORTH", "BJ01", "TJ01", "JN01"]
    hrefs = [r.find_all("td")[-1].find("a")["href"] for r in rows]
    assert hrefs == [f"2026Q3/{c}.html" for c in order]
    depth = [r["class"][0] for r in rows]
    assert depth == ["cx-depth-0", *(["cx-depth-1"] + ["cx-depth-2"] * 4),
                     *(["cx-depth-1"] + ["cx-depth-2"] * 3), *(["cx-depth-1"] + ["cx-depth-2"] * 3)]
    # a region's sample size is the sum of its branches'
    n = {c: int(r.find_all("td")[1].get_text()) for c, r in zip(order, rows, strict=True)}
    for region in ("EAST", "SOUTH", "NORTH"):
        assert n[region] == sum(n[b] for b in region_scopes(org)[region])
    assert n["ALL"] == sum(n[r] for r in ("EAST", "SOUTH", "NORTH"))


def test_region_report_does_not_rank_a_small_branch(rendered_reports):
    """XM01 has fewer than 30 answers in the sample: listed in SOUTH's league, not ranked."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((rendered_reports / "2026Q3" / "SOUTH.html").read_text(encoding="utf-8"),
                         "html.parser")
    table = next(t for t in soup.find_all("table")
                 if [th.get_text() for th in t.find_all("th")][:2] == ["排名", "机构"])
    rows = {r.find_all("td")[1].get_text(): [td.get_text() for td in r.find_all("td")]
            for r in table.find("tbody").find_all("tr")}
    small = rows["厦门分公司"]
    assert int(small[2]) < 30 and small[0] == "" and small[3] == "—" and small[-1] == "样本不足"
    assert sorted(rows[b][0] for b in ("广州分公司", "深圳分公司")) == ["1", "2"]


def test_publish_carries_region_reports_and_no_dead_link(rendered_reports, tmp_path,
                                                         monkeypatch):
    """``cxlab publish`` files region reports under the region's audience (and the company's),
    never under a branch's; in each audience's folder every link resolves: the links up to
    reports the audience does not receive become plain text."""
    from cxlab.report import publish

    monkeypatch.setenv("CXLAB_PDF_PASSWORD_ALL", "pw")
    org = load_org(ROOT / "params" / "org.yaml")
    site = tmp_path / "site"
    publish(rendered_reports, site, org=org, audiences=["ALL", "EAST", "SH01"])
    stems = {a: {p.stem for p in (site / a / "2026Q3").glob("*.html")}
             for a in ("ALL", "EAST", "SH01")}
    assert stems["EAST"] == {"EAST", "SH01", "HZ01", "NJ01", "SU01"}
    assert {"EAST", "SOUTH", "NORTH"} <= stems["ALL"] and len(stems["ALL"]) == 14
    assert stems["SH01"] == {"SH01"}
    assert (site / "EAST" / "2026Q3" / "EAST.pdf").is_file()
    for audience in stems:
        for page in (site / audience).rglob("*.html"):
            for href in _local_links(page):
                assert (page.parent / href).resolve().is_file(), (audience, page.name, href)
    assert _nav_links(site / "EAST" / "2026Q3" / "EAST.html") == {
        "SH01.html", "HZ01.html", "NJ01.html", "SU01.html", "../index.html"}
    assert _nav_links(site / "EAST" / "2026Q3" / "SH01.html") == {"EAST.html", "../index.html"}
    assert _nav_links(site / "SH01" / "2026Q3" / "SH01.html") == {"../index.html"}
    assert "华东区" in (site / "SH01" / "2026Q3" / "SH01.html").read_text(encoding="utf-8")


REGIONAL = """version: 1
company: {code: ALL, name: 示例零售公司}
units:
  - {code: R, name: 一区, units: [{code: B1, name: 一号店}, {code: B2, name: 二号店}]}
  - {code: B3, name: 三号店}
"""


@pytest.mark.slow
def test_region_report_without_nps_question_or_targets(tmp_path):
    """A questionnaire with only a 7-point satisfaction question and no params/targets.yaml:
    the region report renders (CSAT, no NPS figures, no target flags) instead of failing the
    run; the index shows the region's CSAT. CSAT = share in the scale's top-3 box (5–7, the
    codebook's ``top_box: 3``), counted by hand."""
    import sys

    from bs4 import BeautifulSoup

    sys.path.insert(0, str(Path(__file__).parent))
    import _minimal_project as mp

    params, wh, df = mp.build(tmp_path, "no_nps")
    (params / "org.yaml").write_text(REGIONAL, encoding="utf-8")
    assert not (params / "targets.yaml").exists()
    out = tmp_path / "reports"
    s = render_all(periods=["2026Q3"], branches=["R"], warehouse=wh, output_dir=out,
                   params_dir=params, formats=("html",), progress=False)
    assert s.rendered == ["2026Q3/R"] and not s.failed, s.summary()
    cur = df[df["response_id"].str.startswith("2026Q3") & df["branch"].isin(["一号店", "二号店"])]
    csat = 100 * (cur["sat"] >= 5).mean()
    text = BeautifulSoup((out / "2026Q3" / "R.html").read_text(encoding="utf-8"),
                         "html.parser").get_text(" ")
    text = unicodedata.normalize("NFKC", text)  # the page has full-width （）：beside Chinese
    assert f"区域 CSAT(%) {csat:.1f}" in " ".join(text.split())
    assert "问卷无推荐意愿(NPS)题" in text and "区域 NPS" not in text
    assert "未达标" not in text and "Traceback" not in text
    index = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    row = next(r for r in index.find("tbody").find_all("tr") if "一区" in r.get_text())
    assert [td.get_text() for td in row.find_all("td")][1:3] == [str(len(cur)), f"{csat:.1f}"]
