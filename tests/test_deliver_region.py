"""Region tab books and decks: a region's (a unit with sub-units) book and deck show the region,
its branches and the company total (aggregated counts), nothing of any other branch; written
incrementally by ``cxlab tables|deck|reports``; and the Chinese typography of every rendered
deliverable (full-width punctuation beside Chinese, no typed gaps around Latin text)."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from pptx import Presentation

from cxlab.deliver import deck, tabbook
from cxlab.metrics import crosstab

PERIOD = "2026Q3"
REGION = "EAST"
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u201c\u201d"
#: an ASCII , : ; ( ) touching a Chinese character (spaces between allowed)
HALF_WIDTH = re.compile(rf"[{CJK}] *[,:;()]|[,:;()] *[{CJK}]")
#: an ASCII space between a Chinese character and a Latin letter or digit
TYPED_GAP = re.compile(rf"[{CJK}] +[A-Za-z0-9]|[A-Za-z0-9] +[{CJK}]")


@pytest.fixture(scope="module")
def region_ctx(sample_warehouse):
    from cxlab.report import build_aggregates, load_context

    build_aggregates(sample_warehouse)
    return load_context(period=PERIOD, unit=REGION, warehouse=sample_warehouse)


@pytest.fixture(scope="module")
def region_files(region_ctx, tmp_path_factory):
    out = tmp_path_factory.mktemp("region")
    return tabbook(region_ctx, out), deck(region_ctx, out)


def _nfkc(v):
    return unicodedata.normalize("NFKC", v) if isinstance(v, str) else v


def xlsx_texts(path: Path) -> list[str]:
    """Every text cell of every sheet, and the sheet names."""
    wb = openpyxl.load_workbook(path)
    out = list(wb.sheetnames)
    out += [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str)]
    return out


def pptx_texts(path: Path) -> list[str]:
    """Every paragraph of every text box and table cell, chart categories and series names."""
    prs = Presentation(path)
    out = []
    for s in prs.slides:
        for sh in s.shapes:
            if sh.has_text_frame:
                out += [p.text for p in sh.text_frame.paragraphs]
            if sh.has_table:
                out += [c.text for row in sh.table.rows for c in row.cells]
            if sh.has_chart:
                out += [str(x) for pl in sh.chart.plots for x in pl.categories]
                out += [se.name for pl in sh.chart.plots for se in pl.series]
    return out


def test_region_context_holds_only_its_branches(region_ctx, sample_warehouse):
    from cxlab.io import load_responses

    assert region_ctx.is_region and not region_ctx.is_company and region_ctx.branch is None
    assert region_ctx.code == REGION and region_ctx.scope_name == "华东区"
    assert region_ctx.branches == ("SH01", "HZ01", "NJ01", "SU01")
    assert set(region_ctx.responses["branch"].astype(str)) == set(region_ctx.branches)
    everyone = load_responses(sample_warehouse, period=PERIOD)
    assert len(region_ctx.current) == everyone["branch"].isin(region_ctx.branches).sum()
    for name, df in region_ctx.tables.items():
        if "branch" in df.columns and len(df):
            assert set(df["branch"].astype(str)) <= set(region_ctx.branches), name
    # weighted like the company report: the region's rows carry the company-wide weights
    assert region_ctx.weighted and region_ctx.responses["weight"].notna().all()


def test_region_book_banner_and_percentages(region_ctx, region_files):
    """Banner: the region against the company, then its branches (and channel, tier, period);
    the branch columns' column % equal crosstab() on the region's own respondents."""
    book, _ = region_files
    assert book.name == "EAST-tables.xlsx"
    wb = openpyxl.load_workbook(book)
    cb = region_ctx.codebook
    item = "svc_resolution"
    ws = next(wb[n] for n in wb.sheetnames[1:]
              if _nfkc(wb[n]["A1"].value).endswith(_nfkc(cb.item(item).label)))
    rows = [tuple(_nfkc(v) for v in r) for r in ws.iter_rows(values_only=True)]
    groups, labels = [], list(rows[4][1:])
    cur = None
    for g in rows[3][1:]:
        cur = g if g is not None else cur
        groups.append(cur)
    assert labels[:2] == ["华东区", "全公司"] and groups[:2] == ["与全公司比较"] * 2
    names = {b: region_ctx.branch_name(b) for b in region_ctx.branches}
    branch_cols = [j for j, g in enumerate(groups) if g == "分支机构"]
    assert [labels[j] for j in branch_cols] == list(names.values())
    body = {r[0]: list(r[1:]) for r in rows[6:] if r[0] is not None}
    data = region_ctx.current.assign(name=region_ctx.current["branch"].map(names))
    ct = crosstab(data.dropna(subset=[item]), row=item, col="name", weight="weight")
    scale = cb.scale_of(item)
    checked = 0
    for rec in ct.itertuples():
        j = labels.index(rec.col)
        got = body[scale.codes[rec.row]][j]
        if rec.base < 30:
            assert got == "—"
            continue
        assert got == pytest.approx(rec.pct / 100)
        checked += 1
    assert checked >= 10
    answered = region_ctx.current[item].notna()
    assert body["基数(未加权)"][0] == answered.sum()
    assert body["基数(加权)"][0] == pytest.approx(region_ctx.current.loc[answered, "weight"].sum())


def test_region_deliverables_name_no_other_branch_and_quote_no_other_verbatim(
        region_ctx, region_files, sample_warehouse):
    from cxlab.io import load_responses

    book, dk = region_files
    texts = xlsx_texts(book) + pptx_texts(dk)
    blob = " ".join(texts)
    own = set(region_ctx.branches)
    for b in region_ctx.org.branches:
        if b.code in own:
            assert b.name in blob, b.name
        else:
            assert b.name not in blob and b.code not in blob, b.name
    for r in region_ctx.org.tree:          # no other region either
        if not r.is_branch and r.code != REGION:
            assert r.name not in blob, r.name
    everyone = load_responses(sample_warehouse)
    others = everyone[~everyone["branch"].isin(own)]
    mine = set(everyone.loc[everyone["branch"].isin(own), "comment"].dropna())
    foreign = {c for c in others["comment"].dropna() if c not in mine and len(c) >= 8}
    quotes = [t.strip("“”") for t in texts if t.startswith("“")]
    assert quotes, "the deck quotes no verbatim at all"
    assert not [q for q in quotes if q in foreign]
    assert not [i for i in others["response_id"].astype(str) if i in blob][:1]
    # the deck: the region's league holds exactly its branches, its trend is the region's
    prs = Presentation(dk)
    slide = next(s for s in prs.slides if any(
        sh.has_text_frame and sh.text_frame.text.startswith("区域内分支机构排名") for sh in s.shapes))
    table = next(sh.table for sh in slide.shapes if sh.has_table)
    listed = [table.cell(i, 1).text for i in range(1, len(table.rows))]
    assert sorted(listed) == sorted(region_ctx.branch_name(b) for b in own)
    agg = region_ctx.aggregates
    sub = agg[agg["branch"].isin(own)].groupby("period")[["n", "promoters", "detractors"]].sum()
    expect = (100 * (sub["promoters"] - sub["detractors"]) / sub["n"]).round(1)
    chart = next(sh.chart for s in prs.slides for sh in s.shapes if sh.has_chart
                 and any(se.name == "华东区" for se in sh.chart.plots[0].series))
    series = next(se for se in chart.plots[0].series if se.name == "华东区")
    cats = list(chart.plots[0].categories)
    assert list(series.values) == pytest.approx([expect[p] for p in cats])


def test_rendered_deliverables_use_full_width_punctuation(region_files, region_ctx, tmp_path):
    """No ASCII , : ; ( ) beside Chinese in any cell of a book (company, region, branch) or any
    text of a deck; and no typed space between Chinese and Latin text in a deck."""
    from cxlab.report import load_context

    book, dk = region_files
    company = load_context(period=PERIOD, warehouse=region_ctx.warehouse)
    branch = load_context(period=PERIOD, branch="SH01", warehouse=region_ctx.warehouse)
    books = [book, tabbook(company, tmp_path), tabbook(branch, tmp_path)]
    decks = [dk, deck(company, tmp_path), deck(branch, tmp_path)]
    seen = 0
    for path in books + decks:
        texts = xlsx_texts(path) if path.suffix == ".xlsx" else pptx_texts(path)
        bad = [t for t in texts if HALF_WIDTH.search(t)]
        assert bad == [], (path.name, bad[:5])
        seen += sum(bool(re.search("[（）：，]", t)) for t in texts)
        if path.suffix == ".pptx":
            gaps = [t for t in texts if TYPED_GAP.search(t)]
            assert gaps == [], (path.name, gaps[:5])
    assert seen > 50   # the books and decks do have Chinese punctuation to check


def test_scanners_catch_half_width_punctuation():
    assert HALF_WIDTH.search("净推荐值(NPS)") and HALF_WIDTH.search("目标 : 40")
    assert not HALF_WIDTH.search("净推荐值（NPS）") and not HALF_WIDTH.search("n = 1,234; f(x)")
    assert TYPED_GAP.search("未关闭 13 件") and not TYPED_GAP.search("未关闭13件，n = 5")


@pytest.mark.slow
def test_write_deliverables_regions_and_incremental_by_scope(sample_warehouse, tmp_path):
    """The default scopes include every region; a changed partition of another region rebuilds
    the company and that region but not EAST."""
    import pyarrow.parquet as pq

    from cxlab.deliver import write_deliverables

    wh = tmp_path / "wh"
    shutil.copytree(sample_warehouse, wh)
    out = tmp_path / "reports"
    kw = {"periods": [PERIOD], "warehouse": wh, "output_dir": out, "kinds": ("tables",),
          "branches": ["ALL", "EAST", "SOUTH", "SH01"], "jobs": 1}
    first = write_deliverables(**kw)
    assert not first.failed
    assert sorted(first.written) == sorted(f"{PERIOD}/{s}/tables"
                                           for s in ("ALL", "EAST", "SOUTH", "SH01"))
    assert write_deliverables(**kw).written == []
    # same rows, new bytes: a partition of GZ01 (SOUTH) rewritten with another compression
    part = next(p for p in (wh / "responses").rglob("*.parquet")
                if "branch=GZ01" in str(p) and f"period={PERIOD}" in str(p))
    pq.write_table(pq.read_table(part), part, compression="gzip")
    again = write_deliverables(**kw)
    assert sorted(again.written) == [f"{PERIOD}/ALL/tables", f"{PERIOD}/SOUTH/tables"]
    assert sorted(again.skipped_unchanged) == [f"{PERIOD}/EAST/tables", f"{PERIOD}/SH01/tables"]


def test_cli_region_tables_deck_and_reports_formats(sample_warehouse, tmp_path, capsys):
    from cxlab.cli import main

    rc = main(["tables", "--period", PERIOD, "--branch", "华东区", "--warehouse",
               str(sample_warehouse), "--out", str(tmp_path / "a")])
    assert rc == 0 and (tmp_path / "a" / PERIOD / "EAST-tables.xlsx").is_file()
    rc = main(["reports", "--period", PERIOD, "--branch", "south", "--format", "xlsx,pptx",
               "--warehouse", str(sample_warehouse), "--out", str(tmp_path / "b")])
    assert rc == 0
    assert sorted(p.name for p in (tmp_path / "b" / PERIOD).iterdir()) == [
        "SOUTH-deck.pptx", "SOUTH-tables.xlsx"]
    capsys.readouterr()
    rc = main(["deck", "--period", PERIOD, "--branch", "WEST", "--warehouse",
               str(sample_warehouse), "--out", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert rc == 1 and "unknown branch or region" in err and "EAST" in err
    assert "Traceback" not in err


def test_region_weights_are_read_for_its_branches_only(sample_warehouse):
    from cxlab.report._aggregates import load_weights

    w, _ = load_weights(sample_warehouse, branch=["SH01", "HZ01"])
    assert set(w["branch"].astype(str)) == {"SH01", "HZ01"}
    every, _ = load_weights(sample_warehouse)
    assert len(w) == every["branch"].isin(["SH01", "HZ01"]).sum() > 0
    assert np.isfinite(w["weight"].to_numpy(float)).all()


def test_load_context_unit_errors(sample_warehouse):
    from cxlab.errors import CxlabError
    from cxlab.report import load_context

    with pytest.raises(CxlabError, match="unknown unit"):
        load_context(period=PERIOD, unit="WEST", warehouse=sample_warehouse)
    with pytest.raises(CxlabError, match="is a branch"):
        load_context(period=PERIOD, unit="SH01", warehouse=sample_warehouse)


@pytest.mark.slow
def test_libreoffice_render_has_no_double_gaps_beside_latin(tmp_path):
    """LibreOffice spaces Chinese against Latin text itself (a quarter em); a typed space on top
    of it showed as a hole around every figure. Rendered: the deck's text has gaps of at most
    0.3 em there, the same sentence typed with spaces (the control) has gaps over 0.4 em."""
    import sys

    from pptx.util import Inches, Pt

    from cxlab.deliver._deck import SLIDE_H_IN, SLIDE_W_IN, _Deck, _set_font

    sys.path.insert(0, str(Path(__file__).parent))
    from test_deliver_deck import _render, _words

    sentence = "本期工单未关闭 13 件, 净推荐值 (NPS) 43.5 分"
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    d = _Deck(prs, footer="页脚")
    s = d.slide("测试")
    d.text(s, [sentence], 0.7, 1.5, 11.9, 1.0, max_pt=28, min_pt=28)
    box = s.shapes.add_textbox(Inches(0.7), Inches(4.0), Inches(11.9), Inches(1.0))
    run = box.text_frame.paragraphs[0].add_run()
    run.text = sentence.replace(",", "，").replace("(", "（").replace(")", "）")
    _set_font(run.font, size=28)
    run.font.size = Pt(28)
    path = tmp_path / "gaps.pptx"
    prs.save(path)
    pdf, _ = _render(path, tmp_path / "r")
    words = _words(pdf)[0]
    latin = re.compile(r"^[A-Za-z0-9.%]+$")

    def gaps(y0: float, y1: float) -> list[float]:
        line = sorted((w for w in words if y0 <= w[1] <= y1), key=lambda w: w[0])
        assert len(line) >= 3, line
        return [b[0] - a[2] for a, b in zip(line, line[1:], strict=False)
                if bool(latin.match(a[4])) != bool(latin.match(b[4]))]

    em = 28.0
    deck_gaps = gaps(1.4 * 72, 2.5 * 72)
    typed_gaps = gaps(3.9 * 72, 5.0 * 72)
    assert deck_gaps and max(deck_gaps) <= 0.3 * em, deck_gaps
    assert max(typed_gaps) > 0.4 * em, typed_gaps


@pytest.mark.slow
def test_rendered_report_pages_use_full_width_punctuation(rendered_reports):
    """Every text node of the company, a region and a branch report and of the index — the
    <title>, the title line, notes, tables and sections — has full-width punctuation beside
    Chinese."""
    from bs4 import BeautifulSoup

    pages = [rendered_reports / PERIOD / f"{u}.html" for u in ("ALL", REGION, "SH01")]
    pages.append(rendered_reports / "index.html")
    for page in pages:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag in soup(["style", "script"]):
            tag.decompose()
        texts = [str(s) for s in soup.find_all(string=True)]
        bad = [t.strip()[:80] for t in texts if HALF_WIDTH.search(t)]
        assert bad == [], (page.name, bad[:5])
        assert sum(bool(re.search("[（）：，]", t)) for t in texts) > 5, page.name


def test_report_paragraphs_have_no_justified_gaps_around_latin_words(tmp_path):
    """A report paragraph of Chinese with Latin words, through the report stylesheet and the
    PDF export: the spaces around the Latin words stay ordinary spaces (justified lines used to
    stretch them to 3–4 times their width, the only stretchable places in Chinese text)."""
    import subprocess

    from cxlab.report._export import html_to_pdf, report_css

    text = ("本期 NPS 为 36.3（95% 置信区间 31.0~41.3），较上期下降 2.4 分；采用 Johnson 相对权重法与 "
            "Mann–Whitney U 检验，重点改进区为服务响应速度与问题解决效果，建议各分支机构在下期复测。") * 3
    html = (f'<html lang="zh-CN"><head><style>{report_css()}</style></head><body>'
            f'<main class="report"><p>{text}</p></main></body></html>')
    pdf = html_to_pdf(html, tmp_path / "p.pdf")
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    words = [(float(a), float(b), float(c)) for a, b, c in re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)"', out)]
    gaps = [b[0] - a[2] for a, b in zip(words, words[1:], strict=False) if abs(a[1] - b[1]) < 1]
    assert len(gaps) > 20
    assert max(gaps) < 1.6 * min(g for g in gaps if g > 0.5), sorted(gaps)
