"""PowerPoint decks: structure checked with python-pptx, then rendered by LibreOffice (headless)
to PDF and pictures: every slide has content and no text leaves its box or the slide."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from pptx import Presentation
from pptx.oxml.ns import qn
from pptx.util import Emu

from cxlab.deliver import deck
from cxlab.deliver._deck import EA_FONT, fit_size, text_width_em

PERIOD = "2026Q3"
EMU_PER_PT = 12700


@pytest.fixture(scope="module")
def decks(sample_warehouse, tmp_path_factory):
    from cxlab.report import build_aggregates, load_context

    build_aggregates(sample_warehouse)
    out = tmp_path_factory.mktemp("decks")
    company = deck(load_context(period=PERIOD, warehouse=sample_warehouse), out)
    branch = deck(load_context(period=PERIOD, branch="SH01", warehouse=sample_warehouse), out)
    region = deck(load_context(period=PERIOD, unit="EAST", warehouse=sample_warehouse), out)
    return company, branch, region


def _titles(prs) -> list[str]:
    out = []
    for s in prs.slides:
        texts = [sh.text_frame.text for sh in s.shapes if sh.has_text_frame and sh.text_frame.text]
        out.append(texts[0] if texts else "")
    return out


def test_deck_structure(decks):
    company, branch, region = decks
    assert company.name == "ALL-deck.pptx" and branch.name == "SH01-deck.pptx"
    assert region.name == "EAST-deck.pptx"
    prs = Presentation(company)
    titles = _titles(prs)
    for expected in ("一页摘要", "核心指标与目标", "NPS趋势", "分支机构排名", "关键驱动因素",
                     "重要性–表现分析（IPA）", "客户反馈中的高频问题", "行动建议"):
        assert any(t.startswith(expected) for t in titles), (expected, titles)
    shapes = [sh for s in prs.slides for sh in s.shapes]
    assert sum(sh.has_chart for sh in shapes) >= 2          # native charts (trend, drivers)
    assert sum(sh.has_table for sh in shapes) >= 1          # native league table
    # every run names the East-Asian typeface (a:ea), also in tables and charts
    runs = 0
    for s in prs.slides:
        for el in s.shapes._spTree.iter(qn("a:r")):
            rpr = el.find(qn("a:rPr"))
            assert rpr is not None and rpr.find(qn("a:ea")).get("typeface") == EA_FONT
            assert rpr.get("lang") == "zh-CN"
            runs += 1
    assert runs > 50
    for sh in shapes:
        if sh.has_chart:
            assert sh.chart.font._rPr.find(qn("a:ea")).get("typeface") == EA_FONT


def test_branch_deck_names_no_other_branch(decks):
    from cxlab.config import load_org

    _, branch, _ = decks
    prs = Presentation(branch)
    text = " ".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    text += " ".join(c.text for s in prs.slides for sh in s.shapes if sh.has_table
                     for row in sh.table.rows for c in row.cells)
    for s in prs.slides:
        for sh in s.shapes:
            if sh.has_chart:
                text += " ".join(str(x) for pl in sh.chart.plots for x in pl.categories)
                text += " ".join(se.name for pl in sh.chart.plots for se in pl.series)
    assert "上海分公司" in text
    for b in load_org("params/org.yaml").branches:
        if b.code != "SH01":
            assert b.name not in text
    assert not any(t.startswith("分支机构排名") for t in _titles(prs))


def test_slides_follow_the_codebook(sample_warehouse, tmp_path):
    """A questionnaire without a recommend question gives a deck without NPS slides."""
    from cxlab.report import build_aggregates, load_context

    params = tmp_path / "params"
    shutil.copytree("params", params)
    cb = yaml.safe_load((params / "codebook.yaml").read_text(encoding="utf-8"))
    cb["items"] = [i for i in cb["items"] if i["id"] != "ltr"]
    cb["roles"]["nps"] = None
    cb["roles"]["overall"] = "csat"
    (params / "codebook.yaml").write_text(yaml.safe_dump(cb, allow_unicode=True), encoding="utf-8")
    build_aggregates(sample_warehouse)
    ctx = load_context(period=PERIOD, warehouse=sample_warehouse, params_dir=params)
    assert ctx.codebook.nps_item is None
    prs = Presentation(deck(ctx, tmp_path / "out"))
    titles = _titles(prs)
    assert not any("NPS" in t or "推荐" in t for t in titles), titles
    assert any(t.startswith("核心指标与目标") for t in titles)
    body = " ".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    assert "净推荐值" not in body and "客户满意度" in body


def test_fit_size_shrinks_long_text():
    short = fit_size(["客户满意度"], width_in=4, height_in=1, max_pt=24)
    long = fit_size(["客户满意度" * 30], width_in=4, height_in=1, max_pt=24)
    assert short == 24 and 10 <= long < 24
    assert text_width_em("满意NPS") == pytest.approx(2 + 3 * 0.55)


def _render(pptx: Path, out: Path) -> tuple[Path, list[Path]]:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice is missing: run scripts/system-deps.sh (libreoffice-impress)"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run([soffice, f"-env:UserInstallation=file://{out / 'lo-profile'}", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out), str(pptx)],
                   check=True, capture_output=True, timeout=240)
    pdf = out / (pptx.stem + ".pdf")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(out / "slide")], check=True,
                   timeout=120)
    pngs = sorted(out.glob("slide-*.png"), key=lambda p: int(p.stem.split("-")[-1]))
    return pdf, pngs


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout
    pages = []
    for page in re.findall(r"<page[^>]*>(.*?)</page>", html, flags=re.S):
        pages.append([(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            page)])
    return pages


def _problems(pptx: Path, tmp: Path) -> list[str]:
    """Geometry, blank slides and text outside its box, from python-pptx and the rendered PDF."""
    prs = Presentation(pptx)
    sw, sh_ = prs.slide_width, prs.slide_height
    problems = []
    for i, s in enumerate(prs.slides, start=1):  # geometry: every shape inside the slide
        for shp in s.shapes:
            if shp.left < 0 or shp.top < 0 or shp.left + shp.width > sw or shp.top + shp.height > sh_:
                problems.append(f"slide {i}: shape {shp.name} leaves the slide")
    pdf, pngs = _render(pptx, tmp)
    if len(pngs) != len(prs.slides):
        return [*problems, f"{len(pngs)} pages for {len(prs.slides)} slides"]
    for i, png in enumerate(pngs, start=1):  # ink in the body (below the title, above the footer)
        img = np.asarray(Image.open(png).convert("L"), dtype=float)
        h = img.shape[0]
        ink = (img[int(h * 1.3 / 7.5): int(h * 6.9 / 7.5)] < 200).mean()
        if ink <= 0.01:
            problems.append(f"slide {i} looks blank ({ink:.2%} ink)")
    page_w, page_h = Emu(sw).pt, Emu(sh_).pt
    tol = 2.0
    for i, (s, words) in enumerate(zip(prs.slides, _words(pdf), strict=True), start=1):
        boxes = [(Emu(x.left).pt, Emu(x.top).pt, Emu(x.left + x.width).pt,
                  Emu(x.top + x.height).pt) for x in s.shapes]
        for x0, y0, x1, y1, w in words:  # each rendered word on the page and inside a shape
            if not (0 <= x0 and x1 <= page_w and 0 <= y0 and y1 <= page_h):
                problems.append(f"slide {i}: word {w!r} off the page")
            elif not any(bx0 - tol <= x0 and x1 <= bx1 + tol and by0 - tol <= y0 and y1 <= by1 + tol
                         for bx0, by0, bx1, by1 in boxes):
                problems.append(f"slide {i}: word {w!r} at {(x0, y0, x1, y1)} outside every shape")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("which", [0, 1, 2], ids=["company", "branch", "region"])
def test_rendered_slides_have_content_and_no_overflow(decks, tmp_path, which):
    assert _problems(decks[which], tmp_path) == []
    assert sum(len(p) for p in _words(tmp_path / (decks[which].stem + ".pdf"))) > 100


@pytest.mark.slow
def test_render_check_catches_overflow_and_blank_slides(tmp_path):
    """The checker above is not vacuous: an overflowing text box and a blank slide are found."""
    from pptx.enum.text import MSO_AUTO_SIZE
    from pptx.util import Inches, Pt

    prs = Presentation()
    s = prs.slides.add_slide(prs.slide_layouts[6])
    box = s.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(0.6))
    box.text_frame.word_wrap = True
    box.text_frame.auto_size = MSO_AUTO_SIZE.NONE
    box.text_frame.text = "客户满意度持续下降 " * 20
    box.text_frame.paragraphs[0].runs[0].font.size = Pt(24)
    prs.slides.add_slide(prs.slide_layouts[6])
    path = tmp_path / "bad.pptx"
    prs.save(path)
    problems = _problems(path, tmp_path / "r")
    assert any("outside every shape" in p for p in problems), problems
    assert any(p.startswith("slide 2 looks blank") for p in problems), problems


def test_cli_deck(sample_warehouse, tmp_path, capsys):
    from cxlab.cli import main

    rc = main(["deck", "--period", PERIOD, "--branch", "HZ01", "--warehouse",
               str(sample_warehouse), "--out", str(tmp_path)])
    assert rc == 0 and (tmp_path / PERIOD / "HZ01-deck.pptx").is_file()
    assert "HZ01-deck.pptx" in capsys.readouterr().out


def test_small_branch_deck_suppresses_kpis(sample_warehouse, tmp_path):
    """A branch with fewer than 30 respondents gets no NPS/CSAT figure, only 样本不足."""
    from cxlab.metrics import nps
    from cxlab.report import build_aggregates, load_context

    build_aggregates(sample_warehouse)
    counts = load_context(period=PERIOD, warehouse=sample_warehouse).current["branch"].value_counts()
    small = counts[counts < 30].index[0]
    ctx = load_context(period=PERIOD, branch=small, warehouse=sample_warehouse)
    prs = Presentation(deck(ctx, tmp_path))
    text = " ".join(sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame)
    text += " ".join(c.text for s in prs.slides for sh in s.shapes if sh.has_table
                     for row in sh.table.rows for c in row.cells)
    value = nps(ctx.current.dropna(subset=["ltr"]), score="ltr")["nps"].iloc[0]
    assert "样本不足" in text and "不予报告" in text
    assert f"{value:.1f}" not in text


def test_deck_kpis_are_weighted_like_the_html_report(sample_warehouse):
    """The sample params weight the reports (params/weighting.yaml): the deck's NPS and CSAT are
    the weighted estimates the HTML report's cards show, not the unweighted ones."""
    from cxlab.deliver._deck import _kpis
    from cxlab.metrics import nps
    from cxlab.report import build_aggregates, load_context
    from cxlab.report._base import csat_result

    build_aggregates(sample_warehouse)
    ctx = load_context(period=PERIOD, warehouse=sample_warehouse)
    assert ctx.weighted
    k = _kpis(ctx)
    cur = ctx.current
    weighted = nps(cur, score="ltr", weight="weight")["nps"].iloc[0]
    plain = nps(cur, score="ltr")["nps"].iloc[0]
    assert k.loc["nps", "value"] == pytest.approx(weighted, rel=1e-12)
    assert abs(weighted - plain) > 1e-6  # the check can tell the two apart
    csat_w = csat_result(cur[cur["csat"].notna()], ctx, weight="weight")["csat"].iloc[0]
    assert k.loc["csat", "value"] == pytest.approx(csat_w, rel=1e-12)
