"""Report presentation helpers that stand in for slower library paths: one-pass figure export
(instead of ``bbox_inches="tight"``) and table column widths (for WeasyPrint's fixed layout
instead of its automatic layout). Each is checked against the path it replaces."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from cxlab.plots import set_style  # noqa: E402
from cxlab.report.tables import PAGE_EM, column_widths, png_bytes, table  # noqa: E402


# --------------------------------------------------------------------------- figures
def _tight(fig) -> Image.Image:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return Image.open(buf).convert("RGB")


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute grey-level difference (0–255) of two pictures at the best alignment
    within 2 px (the two crops may start a pixel apart)."""
    x = np.asarray(a.convert("L"), dtype=float)
    y = np.asarray(b.convert("L"), dtype=float)
    h, w = min(x.shape[0], y.shape[0]) - 4, min(x.shape[1], y.shape[1]) - 4
    return min(np.abs(x[2 + dy:2 + dy + h, 2 + dx:2 + dx + w] - y[2:2 + h, 2:2 + w]).mean()
               for dy in range(-2, 3) for dx in range(-2, 3))


def _barh(labels: list[str]):
    set_style()
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(labels) + 1.2))
    ax.barh(labels, np.arange(1, len(labels) + 1))
    ax.set_title("推荐意愿的关键驱动因素")
    ax.set_xlabel("相对重要性(%)")
    return fig


def _count_savefig(monkeypatch) -> list[object]:
    calls: list[object] = []
    original = matplotlib.figure.Figure.savefig

    def spy(self, *args, **kwargs):
        calls.append(kwargs.get("bbox_inches"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    return calls


def test_one_pass_png_matches_tight_bbox(monkeypatch):
    """Long CJK labels stick out of the figure on the left: the one-pass export keeps them, as
    ``bbox_inches="tight"`` does, in one draw, with the same size to within 2 px and the
    same picture."""
    fig = _barh(["问题解决效果", "是否满足您对于本产品的期待", "产品的Logo", "服务人员态度"])
    want = _tight(fig)
    calls = _count_savefig(monkeypatch)
    data = png_bytes(fig)
    got = Image.open(io.BytesIO(data))
    plt.close(fig)
    assert calls and all(c != "tight" for c in calls)  # no fallback to the slow path
    assert got.mode == "RGB" and want.size[0] > 6 * 110  # the labels widen the picture
    assert abs(got.size[0] - want.size[0]) <= 2 and abs(got.size[1] - want.size[1]) <= 2
    assert _difference(want, got) < 3.0  # a figure with one label changed: ≈ 15
    assert png_bytes(_barh(["甲", "乙"])) == png_bytes(_barh(["甲", "乙"]))  # deterministic


def test_one_pass_png_falls_back_when_ink_is_far_outside(monkeypatch):
    """An artist more than the 2-inch margin outside the figure reaches the canvas edge: the
    export then takes the tight path and so loses nothing."""
    fig = _barh(["甲", "乙"])
    fig.text(-0.7, 0.5, "远在图外的说明文字", fontsize=14)  # 0.7 × 6 in = 4.2 in to the left
    want = _tight(fig)
    calls = _count_savefig(monkeypatch)
    got = Image.open(io.BytesIO(png_bytes(fig)))
    plt.close(fig)
    assert calls[-1] == "tight"
    assert got.size == want.size


def test_one_pass_png_keeps_transparency():
    fig = _barh(["甲", "乙"])
    fig.patch.set_alpha(0.0)
    got = Image.open(io.BytesIO(png_bytes(fig)))
    plt.close(fig)
    assert got.mode == "RGBA" and got.getextrema()[3][0] == 0


def test_fixed_title_position_draws_the_same_picture():
    """set_style pins axes titles at the top of the axes (``axes.titley = 1.0``) so that a draw
    does not measure the y tick labels to dodge top ticks; for a chart like the reports' (no
    ticks on top) the picture is the one matplotlib's automatic placement draws."""
    set_style()
    assert matplotlib.rcParams["axes.titley"] == 1.0

    def draw(titley):
        with matplotlib.rc_context({"axes.titley": titley}):
            fig, ax = plt.subplots(figsize=(6, 2.5))
            ax.barh(["价格", "质量稳定性"], [3, 5])
            ax.set_title("推荐意愿的关键驱动因素")
            ax.set_xlabel("相对重要性(%)")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        return np.asarray(Image.open(buf).convert("RGB"))

    assert np.array_equal(draw(1.0), draw(None))


# --------------------------------------------------------------------------- table widths
def _columns_laid_out(html: str) -> list[float]:
    """Column widths (px) WeasyPrint gives the first table of ``html`` in the PDF."""
    import weasyprint
    from weasyprint.formatting_structure import boxes

    from cxlab.report._export import _pdf_stylesheet, report_css

    page = (f"<html><head><style>{report_css()}</style></head>"
            f"<body><main class='report'>{html}</main></body></html>")
    doc = weasyprint.HTML(string=page).render(stylesheets=[_pdf_stylesheet()])
    for box in doc.pages[0]._page_box.descendants():
        if isinstance(box, boxes.TableBox):
            return list(box.column_widths)
    raise AssertionError("no table laid out")


def _without_widths(html: str) -> str:
    return re.sub(r"<colgroup>.*?</colgroup>", "", re.sub(r'<table style="[^"]*">', "<table>", html))


TABLES = {
    "narrow": (pd.DataFrame({"k": ["投诉响应时间", "邮件回复达标率"], "v": [0.51, 100.0],
                             "t": ["≤ 2 小时", "≤ 24 小时 的占比"], "s": ["达标(基数小)", "未达标"]}),
               {"k": "指标", "v": "本期", "t": "目标", "s": "状态"}),
    "long header over numbers": (
        pd.DataFrame({"seg": ["一般挽留客户", "重要价值客户"], "n": [88, 58],
                      "days": [426.0, 62.0], "spend": [4060.0, 83880.0]}),
        {"seg": "RFM 分群", "n": "客户数", "days": "距上次购买天数(中位数)",
         "spend": "平均消费额(元)"}),
    "wider than the page": (
        pd.DataFrame({"rank": [1, 2], "theme": ["质量稳定性", "使用体验"], "n": [3, 2],
                      "q1": ["偶尔有小毛病,不影响使用。师傅上门时说过会跟进,但到现在还没有消息", "差评,发热太慢"],
                      "q2": ["总的来说,偶尔有小毛病,不影响使用,希望尽快改进产品的稳定性和售后响应", "—"]}),
        {"rank": "排序", "theme": "问题主题", "n": "负面提及条数", "q1": "客户原话 1",
         "q2": "客户原话 2"}),
}


@pytest.mark.parametrize("name", list(TABLES))
def test_fixed_layout_widths_match_weasyprint_automatic_layout(name):
    """The PDF lays report tables out with ``table-layout: fixed`` and the widths estimated by
    ``column_widths``; the reference is the same table without widths under WeasyPrint's own
    automatic layout (CSS 2.1 §17.5.2.2). Each column's share of the table must agree within
    2.5 points, and a table that fits stays no more than 8 % wider than automatic layout
    makes it."""
    data, columns = TABLES[name]
    html = table(data, columns=columns).html
    fixed = _columns_laid_out(html)
    auto = _columns_laid_out(_without_widths(html))
    assert len(fixed) == len(auto) == len(columns)
    share_fixed = np.array(fixed) / sum(fixed)
    share_auto = np.array(auto) / sum(auto)
    assert np.abs(share_fixed - share_auto).max() < 0.025, (fixed, auto)
    if 'style="width:100%"' not in html:
        assert sum(auto) <= sum(fixed) <= 1.08 * sum(auto), (fixed, auto)


def test_text_em_sums_character_advances_within_two_percent_of_shaping():
    """text_em adds up cached per-character advances instead of shaping each string; checked
    against Pillow shaping the whole string in the same font."""
    from cxlab._fonts import _SIZE, _measuring_font, text_em

    font = _measuring_font()
    if font is None:
        pytest.skip("no PDF font installed (fontconfig)")
    for text in ["客户满意度(CSAT)", "≤ 24 小时 的占比", "+6.1 个百分点", "83,880.00",
                 "Wave 2026Q3 — NPS", "偶尔有小毛病,不影响使用。师傅上门时说过会跟进"]:
        shaped = font.getlength(text) / _SIZE
        assert abs(text_em(text) - shaped) <= 0.02 * shaped, text
    assert text_em("") == 0.0


def test_column_widths_rules():
    """Widest text per column when the table fits; the page, shared above each column's
    longest unbreakable word, when it does not; numbers never wrap, headers may."""
    width, cols = column_widths(["排序", "金额"], [["1", "83,880"], ["2", "4,060"]],
                                nowrap=[True, True])
    ems = [float(c.removesuffix("em")) for c in cols]
    assert width == f"{sum(ems):.1f}em" and ems[1] > ems[0]

    long_text = "这是一条很长的客户原话" * 12
    width, cols = column_widths(["编号", "原话", "数值"], [["A-001", long_text, "1,234,567.8"]],
                                nowrap=[False, False, True])
    shares = [float(c.removesuffix("%")) for c in cols]
    assert width == "100%" and abs(sum(shares) - 100) < 0.05
    # the number keeps its whole width; the long text gets the rest of the page
    number_em = shares[2] / 100 * PAGE_EM
    assert number_em >= len("1,234,567.8") * 0.5 and shares[1] > 70

    # a long header over a numeric column may wrap: it does not force the column wide
    _, narrow = column_widths(["距上次购买天数(中位数)"] + ["说明"] * 3,
                              [["426", long_text, long_text, long_text]], nowrap=[True] + [False] * 3)
    assert float(narrow[0].removesuffix("%")) < 10


# --------------------------------------------------------------------------- lean workers
def test_report_workers_do_not_import_the_analysis_stack():
    """A report worker imports the runner and the exporters only (each worker pays for its
    imports once per run): not pandas, matplotlib, seaborn or scipy, which only the kernels
    need."""
    code = ("import sys\nimport cxlab.report._runner, cxlab.report._export, cxlab.config\n"
            "from cxlab.report._export import _pdf_stylesheet\n_pdf_stylesheet()\n"
            "print(sorted(m for m in ('pandas', 'matplotlib', 'seaborn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- PDF collector
def test_pdf_render_runs_the_collector_rarely_and_restores_it(monkeypatch, tmp_path):
    """WeasyPrint's layout keeps ~300,000 objects alive; html_to_pdf raises the collector's
    generation-0 threshold while it renders (make bench measures the gain) and puts the
    caller's thresholds back afterwards, also when the render fails."""
    import gc

    import weasyprint

    from cxlab.report import _export

    seen = []

    def fake_write_pdf(self, *args, **kwargs):
        seen.append(gc.get_threshold())
        if len(seen) == 2:
            raise RuntimeError("render failed")
        return b"%PDF-1.7 fake"

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", fake_write_pdf)
    before = gc.get_threshold()
    out = _export.html_to_pdf("<p>x</p>", tmp_path / "a.pdf")
    assert out.read_bytes() == b"%PDF-1.7 fake"
    assert seen[0][0] == _export.PDF_GC_THRESHOLD and seen[0][1:] == before[1:]
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError, match="render failed"):
        _export.html_to_pdf("<p>x</p>", tmp_path / "b.pdf")
    assert gc.get_threshold() == before and not (tmp_path / "b.pdf").exists()
