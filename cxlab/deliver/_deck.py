"""PowerPoint decks (汇报): the report's message in slides a manager can restyle.

Native PowerPoint tables and charts (python-pptx) wherever python-pptx has them — the NPS trend
(line chart), the drivers (bar chart), the league table and the KPI comparison (tables) — and a
picture for the IPA map. Every text run names a Latin and an East-Asian typeface. Slides follow
the codebook: no NPS item, no NPS slides; no attribute ratings, no drivers or IPA; no open text
question, no quotes.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.deliver._zh import zh
from cxlab.errors import CxlabError
from cxlab.metrics._common import CAUTION_BASE, MIN_BASE
from cxlab.report._typography import CJK

__all__ = ["deck", "write_decks"]

#: East-Asian typeface named on every run (Office falls back to the Latin face otherwise, and
#: LibreOffice substitutes Noto Sans CJK SC, installed by scripts/system-deps.sh).
EA_FONT = "Microsoft YaHei"
LATIN_FONT = "Arial"
SLIDE_W_IN, SLIDE_H_IN = 13.333, 7.5
NAVY, GREEN, RED, GREY, LIGHT = "1F4E79", "2E7D32", "C62828", "6B6B6B", "EEF3F8"
OP_CN = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


# --------------------------------------------------------------------------- text helpers
def _set_font(font, *, size: float | None = None, bold: bool | None = None,
              color: str | None = None) -> None:
    """Latin and East-Asian typeface (``a:latin`` + ``a:ea``), size, weight and colour."""
    from pptx.dml.color import RGBColor
    from pptx.oxml.ns import qn
    from pptx.util import Pt

    font.name = LATIN_FONT
    rpr = font._rPr
    rpr.set("lang", "zh-CN")  # Chinese (not Japanese) glyph forms for the shared ideographs
    rpr.set("altLang", "en-US")
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = rpr.makeelement(qn("a:ea"), {})
        rpr.find(qn("a:latin")).addnext(ea)
    ea.set("typeface", EA_FONT)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if color is not None:
        font.color.rgb = RGBColor.from_string(color)
    # a:latin/a:ea must follow the fill in the schema: re-append them after any a:solidFill
    for tag in ("a:latin", "a:ea"):
        el = rpr.find(qn(tag))
        rpr.remove(el)
        rpr.append(el)


_CJK_SIDE = f"[{CJK}]"
_LATIN_SIDE = r"[A-Za-z0-9%²³+−]"
_GAP = re.compile(rf"(?<={_CJK_SIDE}) +(?={_LATIN_SIDE})|(?<={_LATIN_SIDE}) +(?={_CJK_SIDE})")


def slide_text(text: str) -> str:
    """Deck text: full-width punctuation beside Chinese (:func:`cxlab.deliver._zh.zh`) and no
    ASCII space between a Chinese character and a Latin letter or digit.

    Renderers that space East-Asian and Latin text themselves (LibreOffice's "spacing between
    Asian and non-Asian text", on by default) add their quarter-em gap on top of a typed space,
    which shows as holes around every figure and Latin word. PowerPoint sets the text solid.
    Spaces between Latin words and around symbols (``n = 604``, ``≥ 40``) stay.

    >>> slide_text("本期工单未关闭 13 件, NPS 为 36.3 分")
    '本期工单未关闭13件，NPS为36.3分'
    >>> slide_text("Johnson 相对权重法, R² = 0.50")
    'Johnson相对权重法，R² = 0.50'
    """
    return _GAP.sub("", zh(text))


def text_width_em(text: str) -> float:
    """Estimated width of ``text`` in ems: wide (CJK, full-width) characters 1, others 0.55."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in text)


def fit_size(paragraphs: list[str], *, width_in: float, height_in: float, max_pt: float,
             min_pt: float = 10, spacing: float = 1.25) -> float:
    """The largest font size (pt, steps of 1) at which the wrapped ``paragraphs`` fit the box."""
    size = max_pt
    usable_w = max(width_in - 0.2, 0.1) * 72   # text frame insets 0.1 in each side
    usable_h = max(height_in - 0.1, 0.1) * 72
    while size > min_pt:
        lines = sum(max(1, math.ceil(text_width_em(p) * size / usable_w)) for p in paragraphs)
        if lines * size * spacing <= usable_h:
            return size
        size -= 1
    return min_pt


def _clip(text: str, max_em: float) -> str:
    out, w = "", 0.0
    for ch in text:
        w += text_width_em(ch)
        if w > max_em:
            return out.rstrip() + "…"
        out += ch
    return out


# --------------------------------------------------------------------------- slide builder
@dataclass
class _Deck:
    prs: object
    footer: str

    def slide(self, title: str | None = None):
        from pptx.util import Inches

        s = self.prs.slides.add_slide(self.prs.slide_layouts[6])  # blank
        if title:
            bar = s.shapes.add_shape(1, 0, 0, self.prs.slide_width, Inches(0.12))
            bar.fill.solid()
            bar.fill.fore_color.rgb = _rgb(NAVY)
            bar.line.fill.background()
            self.text(s, [title], 0.5, 0.3, 12.3, 0.8, max_pt=26, bold=True, color=NAVY)
        self.text(s, [self.footer], 0.5, 7.0, 10.5, 0.35, max_pt=10, color=GREY)
        self.text(s, [str(len(self.prs.slides))], 12.2, 7.0, 0.6, 0.35, max_pt=10, color=GREY,
                  align="right")
        return s

    def text(self, slide, paragraphs: list[str], x: float, y: float, w: float, h: float, *,
             max_pt: float = 18, min_pt: float = 10, bold: bool = False, color: str = "222222",
             align: str = "left", bullets: bool = False, fill: str | None = None):
        """A text box whose font size is chosen so the wrapped text fits inside it."""
        from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
        from pptx.util import Inches, Pt

        shown = [("• " if bullets else "") + slide_text(p) for p in paragraphs]
        size = fit_size(shown, width_in=w, height_in=h, max_pt=max_pt, min_pt=min_pt)
        # still too long at the smallest size: cut each paragraph to what fits
        per_line = max((w - 0.2) * 72 / size, 1)
        lines_avail = max(int((h - 0.1) * 72 / (size * 1.25)), 1)
        if sum(max(1, math.ceil(text_width_em(p) / per_line)) for p in shown) > lines_avail:
            budget = max(lines_avail // max(len(shown), 1), 1)
            shown = [_clip(p, per_line * budget - 1) for p in shown][:lines_avail]
        box = slide.shapes.add_textbox(Inches(x), Inches(y), Inches(w), Inches(h))
        tf = box.text_frame
        tf.word_wrap = True
        tf.auto_size = MSO_AUTO_SIZE.NONE
        tf.vertical_anchor = MSO_ANCHOR.TOP
        tf.margin_left = tf.margin_right = Inches(0.1)
        tf.margin_top = tf.margin_bottom = Inches(0.05)
        if fill:
            box.fill.solid()
            box.fill.fore_color.rgb = _rgb(fill)
        for i, p in enumerate(shown):
            para = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            para.alignment = {"left": PP_ALIGN.LEFT, "right": PP_ALIGN.RIGHT,
                              "center": PP_ALIGN.CENTER}[align]
            para.line_spacing = 1.1
            para.space_after = Pt(size * 0.15)
            run = para.add_run()
            run.text = p
            _set_font(run.font, size=size, bold=bold, color=color)
        return box

    def table(self, slide, frame: pd.DataFrame, x: float, y: float, w: float, *,
              row_h: float = 0.38, max_pt: float = 14, col_w: list[float] | None = None,
              highlight: dict[int, str] | None = None):
        """A native PowerPoint table (header row navy) with cell text sized to fit."""
        from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
        from pptx.util import Inches

        rows, cols = len(frame) + 1, len(frame.columns)
        shape = slide.shapes.add_table(rows, cols, Inches(x), Inches(y), Inches(w),
                                       Inches(row_h * rows))
        tbl = shape.table
        widths = col_w or [w / cols] * cols
        for j, cw in enumerate(widths):
            tbl.columns[j].width = Inches(cw)
        for i in range(rows):
            tbl.rows[i].height = Inches(row_h)
        cells = [list(map(str, frame.columns))] + [[_cell(v) for v in r]
                                                    for r in frame.itertuples(index=False)]
        for i, line in enumerate(cells):
            for j, v in enumerate(line):
                cell = tbl.cell(i, j)
                cell.vertical_anchor = MSO_ANCHOR.MIDDLE
                cell.margin_left = cell.margin_right = Inches(0.06)
                cell.margin_top = cell.margin_bottom = Inches(0.02)
                size = fit_size([v], width_in=widths[j] - 0.02, height_in=row_h, max_pt=max_pt,
                                min_pt=9, spacing=1.3)
                v = _clip(slide_text(v), (widths[j] - 0.15) * 72 / size)
                cell.text = v
                para = cell.text_frame.paragraphs[0]
                para.alignment = PP_ALIGN.LEFT if j == 0 else PP_ALIGN.CENTER
                color = "FFFFFF" if i == 0 else (highlight or {}).get(i - 1, "222222")
                for run in para.runs:
                    _set_font(run.font, size=size, bold=i == 0, color=color)
                if i == 0:
                    cell.fill.solid()
                    cell.fill.fore_color.rgb = _rgb(NAVY)
                else:
                    cell.fill.solid()
                    cell.fill.fore_color.rgb = _rgb(LIGHT if i % 2 else "FFFFFF")
        return shape

    def chart_fonts(self, chart, size: float = 12) -> None:
        _set_font(chart.font, size=size)


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return str(v)


def _rgb(hex_: str):
    from pptx.dml.color import RGBColor

    return RGBColor.from_string(hex_)


# --------------------------------------------------------------------------- content
def _kpis(ctx) -> pd.DataFrame:
    """NPS / CSAT of the scope with targets and the change from the previous period."""
    from cxlab.ops import compute_kpis, kpi_status

    cb = ctx.codebook
    resp = ctx.responses
    if cb.nps_item is None and cb.csat_item is None:
        return pd.DataFrame()
    frame = resp.copy()
    score = cb.nps_item or "_no_nps"
    csat = cb.csat_item or "_no_csat"
    if score not in frame:
        frame[score] = pd.array([pd.NA] * len(frame), dtype="Int64")
    if csat not in frame:
        frame[csat] = pd.array([pd.NA] * len(frame), dtype="Int64")
    values = compute_kpis(frame, None, None, by=("period",), targets=ctx.targets,
                          codebook=cb, score=score, csat=csat)
    if ctx.weighted:  # the same weighted NPS/CSAT as the HTML report's KPI cards
        from cxlab.report._sections_ops import weighted_survey_kpis

        values = weighted_survey_kpis(ctx, values)
    keep = [k for k, item in (("nps", cb.nps_item), ("csat", cb.csat_item)) if item]
    values = values[values["kpi"].isin(keep)]
    if values.empty:
        return pd.DataFrame()
    status = kpi_status(values, targets=ctx.targets)
    return status[status["period"] == ctx.period].set_index("kpi")


def _small(row) -> bool:
    """A KPI on fewer than MIN_BASE respondents is not reported (DESIGN.md: n < 30)."""
    n = row.get("n", np.nan)
    return bool(pd.isna(row["value"]) or pd.isna(n) or n < MIN_BASE)


def _nps_trend(ctx) -> pd.DataFrame:
    """NPS per period of the scope (and the company for a branch) from the aggregates."""
    agg = ctx.aggregates
    agg = agg[agg["period"].isin(ctx.periods)]
    comp = agg.groupby("period")[["n", "promoters", "detractors"]].sum()
    out = pd.DataFrame({"全公司": 100 * (comp["promoters"] - comp["detractors"]) / comp["n"],
                        "全公司_n": comp["n"]})
    if not ctx.is_company:
        mine = _own_branches(ctx)
        own = agg[agg["branch"].isin(mine)].groupby("period")[
            ["n", "promoters", "detractors"]].sum()
        out[ctx.scope_name] = 100 * (own["promoters"] - own["detractors"]) / own["n"]
        out[ctx.scope_name + "_n"] = own["n"]
    return out.reindex(ctx.periods)


def _own_branches(ctx) -> list[str]:
    """The branch codes of the scope (a region's branches, the branch, or every branch)."""
    if getattr(ctx, "is_region", False):
        return list(ctx.branches)
    return [ctx.branch] if ctx.branch is not None else list(ctx.org.branch_codes)


def _league(ctx) -> pd.DataFrame:
    """Branches of the period ranked by NPS (a region: its own branches only), weighted as the
    report's league table when the aggregates are."""
    agg = ctx.aggregates
    cur = agg[agg["period"] == ctx.period].copy()
    if getattr(ctx, "is_region", False):
        cur = cur[cur["branch"].isin(ctx.branches)]
    # the report league's estimates (weighted from the aggregates' weighted sums when the
    # warehouse is weighted), :func:`cxlab.ops.target_statuses`
    from cxlab.ops import target_statuses

    st = target_statuses(cur, targets=None, min_base=1)
    cur["nps"] = st["nps"].to_numpy()
    cur["csat"] = (st["csat"].to_numpy() if "csat" in st.columns
                   else 100 * cur["csat_top2"] / cur["csat_n"])
    cur["name"] = cur["branch"].map(ctx.branch_name)
    cur["region"] = cur["branch"].map(lambda b: ctx.org.region_name(b)
                                      if b in ctx.org.branch_codes else "—")
    cur["_small"] = cur["n"] < MIN_BASE   # suppressed branches go last, unranked
    return cur.sort_values(["_small", "nps"], ascending=[True, False])


def _issues(ctx, n: int = 3) -> pd.DataFrame:
    """Top negative themes of the open text with one redacted quote each."""
    cb = ctx.codebook
    item = cb.comment_item
    cur = ctx.current
    if item is None or item not in cur.columns or cur[item].dropna().empty:
        return pd.DataFrame()
    from cxlab.text import frequent_issues, redact

    fi = frequent_issues(cur, by=None, top=n, text=item, examples=1, max_chars=60)
    if "example_1" in fi:
        fi["example_1"] = fi["example_1"].map(redact)  # already redacted; idempotent guard
    return fi


def _ipa(ctx) -> pd.DataFrame:
    cb = ctx.codebook
    items = [i for i in cb.attribute_items if i in ctx.current.columns]
    outcome = cb.outcome_item
    if len(items) < 3 or outcome is None or outcome not in ctx.current.columns:
        return pd.DataFrame()
    d = ctx.current.dropna(subset=[outcome])
    if len(d) < CAUTION_BASE:
        return pd.DataFrame()
    from cxlab.ipa import analyze

    return analyze(d, items=items, outcome=outcome, labels=cb.labels(), weight=ctx.weight)


def _drivers(ctx):
    cb = ctx.codebook
    items = [i for i in cb.attribute_items if i in ctx.current.columns]
    outcome = cb.outcome_item
    if len(items) < 2 or outcome is None or outcome not in ctx.current.columns:
        return None
    d = ctx.current.dropna(subset=[*items, outcome])
    if len(d) < CAUTION_BASE:
        return None
    from cxlab.drivers import relative_importance

    # weighted like the HTML report's drivers when the report is weighted
    return relative_importance(d, outcome=outcome, drivers=items, method="johnson",
                               weight=ctx.weight)


def _png(fig) -> io.BytesIO:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150)
    buf.seek(0)
    return buf


# --------------------------------------------------------------------------- the deck
def deck(ctx, out_dir: str | Path) -> Path:
    """Write the PowerPoint deck of a report scope (:func:`cxlab.report.load_context`) to
    ``<out_dir>/<ALL|region|branch>-deck.pptx`` and return its path."""
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
    from pptx.util import Inches, Pt

    cb = ctx.codebook
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(SLIDE_W_IN), Inches(SLIDE_H_IN)
    scope = "全公司" if ctx.is_company else ctx.scope_name
    d = _Deck(prs, footer=f"{ctx.org.company.name} · {scope} · {ctx.period} 客户体验汇报 · "
                          f"数据:{cb.survey}")
    cur = ctx.current
    kpis = _kpis(ctx)
    issues = _issues(ctx)
    ipa = _ipa(ctx)
    tickets = ctx.table("tickets", current=True)
    open_cases = int((tickets["status"] != "已关闭").sum()) if "status" in tickets else None

    # 1 title
    s = d.slide()
    band = s.shapes.add_shape(1, 0, Inches(2.3), prs.slide_width, Inches(2.6))
    band.fill.solid()
    band.fill.fore_color.rgb = _rgb(NAVY)
    band.line.fill.background()
    d.text(s, [f"{ctx.scope_name} 客户体验报告"], 0.8, 2.6, 11.7, 1.2, max_pt=40, bold=True,
           color="FFFFFF")
    d.text(s, [f"{ctx.period} · {cb.survey} · 有效样本 {len(cur):,} 份"], 0.8, 3.8, 11.7, 0.7,
           max_pt=22, color="FFFFFF")
    d.text(s, [f"{ctx.org.company.name} 客户体验部 · 生成于 {ctx.rendered_at[:10]}"],
           0.8, 5.4, 11.7, 0.5, max_pt=16, color=GREY)

    # 2 one-page summary
    s = d.slide("一页摘要")
    lines = []
    for kid, row in kpis.iterrows():
        if pd.isna(row["value"]):
            continue
        if _small(row):
            lines.append(f"{row['label']}:样本量 {int(row['n'] or 0)}(少于 {MIN_BASE}),不予报告。")
            continue
        unit = "分" if kid == "nps" else "%"
        state = {"met": "达标", "missed": "未达标"}.get(row["status"], "")
        change = ""
        if not pd.isna(row.get("change", np.nan)):
            sig = "显著" if bool(row.get("significant", False)) else "无显著变化"
            change = f",较上期 {row['change']:+.1f}{unit}({sig})"
        lines.append(f"{row['label']} {row['value']:.1f}{unit},目标 "
                     f"{OP_CN.get(row['op'], row['op'])}{row['target']:g}{unit},{state}{change}。")
    if not ipa.empty:
        top = ipa[ipa["quadrant"] == "concentrate_here"].sort_values("priority").head(3)
        if len(top):
            lines.append("重点改进(重要性高、表现低):" + "、".join(top["label"]) + "。")
    if not issues.empty:
        lines.append("客户原话中的高频问题:" + "、".join(
            f"{r.theme_name}({r.share:.1%})" for r in issues.itertuples()) + "。")
    if open_cases is not None:
        lines.append(f"本期工单未关闭 {open_cases} 件。")
    if len(cur) < CAUTION_BASE:
        lines.append(f"注意:本期样本量 {len(cur)}(少于 {CAUTION_BASE}),结论仅供参考。")
    d.text(s, lines or ["本期无可报告的数据。"], 0.7, 1.4, 11.9, 5.4, max_pt=22, bullets=True)

    # 3 KPI cards against targets
    if not kpis.empty:
        s = d.slide("核心指标与目标")
        shown = [(k, r) for k, r in kpis.iterrows()]
        cw = min(5.6, 11.9 / max(len(shown), 1) - 0.3)
        for i, (kid, row) in enumerate(shown):
            x = 0.7 + i * (cw + 0.3)
            n = int(row["n"]) if not pd.isna(row["n"]) else 0
            unit = "分" if kid == "nps" else "%"
            met = row["status"] == "met"
            small = _small(row)
            tone = GREY if small else GREEN if met else RED
            card = s.shapes.add_shape(5, Inches(x), Inches(1.6), Inches(cw), Inches(4.6))
            card.fill.solid()
            card.fill.fore_color.rgb = _rgb(LIGHT)
            card.line.color.rgb = _rgb(tone)
            card.line.width = Pt(3)
            d.text(s, [row["label"]], x + 0.2, 1.8, cw - 0.4, 0.7, max_pt=22, bold=True,
                   color=NAVY)
            value = "样本不足" if small else f"{row['value']:.1f}{unit}"
            d.text(s, [value], x + 0.2, 2.6, cw - 0.4, 1.4, max_pt=54, bold=True, color=tone)
            prev = ("" if small or pd.isna(row.get("previous", np.nan))
                    else f"上期 {row['previous']:.1f}{unit}")
            verdict = "不予判断" if small else "达标" if met else "未达标"
            info = [f"目标 {OP_CN.get(row['op'], row['op'])} {row['target']:g}{unit} · "
                    f"{verdict}", prev, f"样本量 n = {n:,}"
                    + ("(基数小,仅供参考)" if MIN_BASE <= n < CAUTION_BASE else "")]
            d.text(s, [t for t in info if t], x + 0.2, 4.2, cw - 0.4, 1.8, max_pt=18)

    # 4 NPS trend (native line chart)
    if cb.nps_item is not None and len(ctx.periods) > 1:
        s = d.slide("NPS 趋势")
        tr = _nps_trend(ctx)
        data = CategoryChartData()
        data.categories = list(tr.index)
        series = ["全公司"] if ctx.is_company else [ctx.scope_name, "全公司"]
        for name in series:
            vals = [None if (pd.isna(v) or pd.isna(n) or n < MIN_BASE) else round(float(v), 1)
                    for v, n in zip(tr[name], tr[name + "_n"], strict=True)]
            data.add_series(slide_text(name), vals)
        try:
            target = ctx.targets.kpi("nps").target
            data.add_series(slide_text(f"目标({target:g})"), [target] * len(tr))
        except KeyError:
            pass
        gf = s.shapes.add_chart(XL_CHART_TYPE.LINE_MARKERS, Inches(0.7), Inches(1.4),
                                Inches(11.9), Inches(5.4), data)
        ch = gf.chart
        d.chart_fonts(ch, 14)
        ch.has_legend = True
        ch.legend.position = XL_LEGEND_POSITION.BOTTOM
        ch.legend.include_in_layout = False
        ch.value_axis.has_major_gridlines = True
        ch.value_axis.tick_labels.number_format = "0"
        ch.value_axis.tick_labels.number_format_is_linked = False
        plot = ch.plots[0]
        from pptx.enum.chart import XL_LABEL_POSITION

        # values labelled on the scope's own line only (labels of two close lines collide)
        own = plot.series[0]
        own.data_labels.number_format = "0.0"
        own.data_labels.number_format_is_linked = False
        own.data_labels.show_value = True
        own.data_labels.position = XL_LABEL_POSITION.ABOVE
        own.format.line.width = Pt(3)
        own.format.line.color.rgb = _rgb(NAVY)
        if len(series) > 1:
            plot.series[1].format.line.color.rgb = _rgb("9E9E9E")
        if len(plot.series) > len(series):  # the target line: dashed, no markers or labels
            from pptx.enum.chart import XL_MARKER_STYLE
            from pptx.enum.dml import MSO_LINE_DASH_STYLE

            tgt = plot.series[len(series)]
            tgt.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
            tgt.format.line.color.rgb = _rgb(GREY)
            tgt.marker.style = XL_MARKER_STYLE.NONE

    # 5 league table (company, region: its branches) and the scope against the company
    region = getattr(ctx, "is_region", False)
    if (ctx.is_company or region) and cb.nps_item is not None:
        lg = _league(ctx)
        page = 12
        for k in range(0, len(lg), page):
            chunk = lg.iloc[k:k + page]
            s = d.slide(("区域内分支机构排名" if region else "分支机构排名")
                        + (f"(续 {k // page + 1})" if k else ""))
            t = pd.DataFrame({
                "排名": ["—" if small else str(i) for i, small in
                       enumerate(chunk["_small"], start=k + 1)],
                "分支机构": chunk["name"],
                **({} if region else {"区域": chunk["region"]}),
                "样本量": chunk["n"].map(lambda v: f"{int(v):,}"),
                "NPS": [("样本不足" if n < MIN_BASE else f"{v:.1f}")
                        for v, n in zip(chunk["nps"], chunk["n"], strict=True)],
                "CSAT": [("样本不足" if n < MIN_BASE else f"{v:.1f}%")
                         for v, n in zip(chunk["csat"], chunk["csat_n"], strict=True)],
            })
            try:
                tgt = ctx.targets.kpi("nps")
                t["NPS 达标"] = ["—" if n < MIN_BASE else ("是" if tgt.met(v) else "否")
                               for v, n in zip(chunk["nps"], chunk["n"], strict=True)]
            except KeyError:
                pass
            red = {i: RED for i, v in enumerate(t.get("NPS 达标", [])) if v == "否"}
            d.table(s, t, 0.7, 1.4, 11.9, row_h=min(0.42, 5.3 / (len(t) + 1)), highlight=red)
    if not ctx.is_company and not kpis.empty:
        s = d.slide("本区域与全公司对比" if region else "本机构与全公司对比")
        agg = ctx.aggregates[ctx.aggregates["period"] == ctx.period]
        comp_nps = 100 * (agg["promoters"].sum() - agg["detractors"].sum()) / agg["n"].sum()
        comp_csat = 100 * agg["csat_top2"].sum() / agg["csat_n"].sum()
        rows = []
        for kid, row in kpis.iterrows():
            comp = comp_nps if kid == "nps" else comp_csat
            unit = "" if kid == "nps" else "%"
            small = _small(row)
            rows.append({"指标": row["label"],
                         ctx.scope_name: "样本不足" if small else f"{row['value']:.1f}{unit}",
                         "全公司": f"{comp:.1f}{unit}",
                         "差值": "—" if small else f"{row['value'] - comp:+.1f}",
                         "目标": f"{OP_CN.get(row['op'], row['op'])}{row['target']:g}{unit}"})
        d.table(s, pd.DataFrame(rows), 0.7, 1.6, 11.9, row_h=0.6, max_pt=18,
                col_w=[3.5, 2.1, 2.1, 2.1, 2.1])
        d.text(s, [f"全公司数值来自全公司汇总计数;本{'区域' if region else '机构'}报告不含"
                   f"{'区域外' if region else '其他'}机构的受访者数据。"],
               0.7, 6.2, 11.9, 0.5, max_pt=14, color=GREY)

    # 6 drivers (native bar chart)
    drv = _drivers(ctx)
    if drv is not None:
        s = d.slide(f"关键驱动因素(对“{_clip(cb.item(cb.outcome_item).label, 14)}”的相对重要性)")
        tb = drv.table.sort_values("share", ascending=False).head(10)
        data = CategoryChartData()
        data.categories = [slide_text(cb.item(x).label) for x in tb["driver"]]
        data.add_series(slide_text("相对重要性占比"), [round(float(v), 4) for v in tb["share"]])
        gf = s.shapes.add_chart(XL_CHART_TYPE.BAR_CLUSTERED, Inches(0.7), Inches(1.4),
                                Inches(11.9), Inches(5.0), data)
        ch = gf.chart
        d.chart_fonts(ch, 13)
        ch.has_legend = False
        ch.has_title = False
        ch.category_axis.reverse_order = True
        ch.value_axis.tick_labels.number_format = "0%"
        ch.value_axis.tick_labels.number_format_is_linked = False
        plot = ch.plots[0]
        plot.has_data_labels = True
        plot.data_labels.number_format = "0.0%"
        plot.data_labels.number_format_is_linked = False
        plot.series[0].format.fill.solid()
        plot.series[0].format.fill.fore_color.rgb = _rgb(NAVY)
        d.text(s, [f"Johnson 相对权重法(将 R² = {drv.r2:.2f} 分配给各因素),n = {drv.n:,}"
                   + (",按调查权重加权。" if ctx.weighted else "。")],
               0.7, 6.45, 11.9, 0.45, max_pt=13, color=GREY)

    # 7 IPA (picture: the map needs labelled points)
    if not ipa.empty:
        import matplotlib.pyplot as plt

        from cxlab.plots import ipa_map, set_style

        set_style()
        s = d.slide("重要性–表现分析(IPA)")
        fig, ax = plt.subplots(figsize=(8.2, 5.4))
        ipa_map(ipa, ax=ax)
        fig.tight_layout()
        s.shapes.add_picture(_png(fig), Inches(0.5), Inches(1.3), height=Inches(5.5))
        plt.close(fig)
        top = ipa[ipa["quadrant"] == "concentrate_here"].sort_values("priority")
        lines = ["重点改进区:重要性高于平均、表现低于平均的项目。"]
        lines += [f"{r.label}(均分 {r.performance:.2f})" for r in top.head(6).itertuples()]
        d.text(s, lines, 8.9, 1.5, 4.0, 5.2, max_pt=16, bullets=False)

    # 8 top issues with redacted quotes
    if not issues.empty:
        s = d.slide("客户反馈中的高频问题")
        for i, r in enumerate(issues.itertuples()):
            y = 1.4 + i * 1.8
            d.text(s, [f"{r.rank}. {r.theme_name}"], 0.7, y, 3.4, 0.6, max_pt=22, bold=True,
                   color=NAVY)
            few = "(评论少,仅供参考)" if r.n_comments < MIN_BASE else ""
            d.text(s, [f"{r.n} 条负面提及,占评论 {r.share:.1%}{few}"], 0.7, y + 0.65, 3.4,
                   0.8, max_pt=15, color=GREY)
            quote = r.example_1 if isinstance(r.example_1, str) else "(无可引用的原话)"
            d.text(s, [f"“{quote}”"], 4.3, y, 8.3, 1.55, max_pt=18, fill=LIGHT)
        d.text(s, ["原话已去除姓名、电话、邮箱等个人信息。"], 0.7, 6.55, 11.9, 0.4, max_pt=12,
               color=GREY)

    # 9 actions
    actions = []
    if not ipa.empty:
        for r in ipa[ipa["quadrant"] == "concentrate_here"].sort_values("priority").head(3).itertuples():
            actions.append(f"提升“{r.label}”:重要性高而表现偏低,制定整改计划并在下期复测。")
    for r in issues.itertuples() if not issues.empty else []:
        actions.append(f"针对“{r.theme_name}”类投诉做根因分析,明确责任人与完成时限。")
    if open_cases:
        actions.append(f"跟进本期未关闭的 {open_cases} 件工单,逐件闭环回访。")
    if actions:
        s = d.slide("行动建议")
        d.text(s, actions[:6], 0.7, 1.4, 11.9, 5.4, max_pt=22, bullets=True)

    stem = "ALL" if ctx.is_company else ctx.code
    out = Path(out_dir) / f"{stem}-deck.pptx"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    prs.save(str(tmp))
    tmp.replace(out)
    return out


def write_decks(*, period: str | None, branch: str | None = None,
                warehouse: str | Path = "data/warehouse", params_dir: str | Path = "params",
                output_dir: str | Path = "reports", all_branches: bool = False) -> list[Path]:
    """Decks of ``period`` (default: the latest): the company deck, one branch's, or all."""
    from cxlab.deliver._tabbook import latest_period
    from cxlab.report import build_aggregates, load_context

    warehouse = Path(warehouse)
    if not (warehouse / "responses").exists():
        raise CxlabError(f"{warehouse}: no warehouse here (run `make ingest` first)")
    build_aggregates(warehouse, params_dir=params_dir)
    period = period or latest_period(warehouse)
    scopes: list[str | None] = [branch] if branch not in (None, "", "ALL") else [None]
    if scopes == [None] and all_branches:
        from cxlab.config import load_org

        scopes += load_org(Path(params_dir) / "org.yaml").branch_codes
    out = []
    for b in scopes:
        ctx = load_context(period=period, branch=b, warehouse=warehouse, params_dir=params_dir)
        out.append(deck(ctx, Path(output_dir) / period))
    return out
