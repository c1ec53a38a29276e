"""Presentation helpers: formatted, escaped HTML tables, figures as embedded PNG, KPI cards.

Statistics functions return raw numbers; rounding, Chinese headers and flags happen here.
Every cell and string that may come from respondents is HTML-escaped.
"""

from __future__ import annotations

import base64
import io
import math
import re
from collections.abc import Mapping, Sequence
from html import escape, unescape

import pandas as pd

__all__ = ["Html", "cards", "column_widths", "figure", "fmt_num", "fmt_p", "fmt_pct", "note",
           "p_text", "paragraph", "png_bytes", "table"]


class Html:
    """A block of report HTML that renders in notebooks and nbconvert output."""

    __slots__ = ("html",)

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __add__(self, other: Html) -> Html:
        return Html(self.html + other.html)

    def __str__(self) -> str:
        return self.html


def join(*blocks: Html | None) -> Html:
    return Html("".join(b.html for b in blocks if b is not None))


def fmt_num(value: object, decimals: int = 1) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return "—"
    if isinstance(value, int | float):
        return f"{value:,.{decimals}f}"
    return escape(str(value))


def fmt_pct(value: object, decimals: int = 1) -> str:
    text = fmt_num(value, decimals)
    return text if text == "—" else text + "%"


def fmt_p(value: object) -> str:
    if value is None or pd.isna(value):
        return "—"
    return "&lt;0.001" if value < 0.001 else f"{value:.3f}"


def p_text(p: object) -> str:
    """A p-value for narrative sentences, plain text (escaped later): ``p < 0.001``, ``p = 0.012``."""
    if p is None or pd.isna(p):
        return "p 值不可用"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def table(data: pd.DataFrame, *, columns: Mapping[str, str] | None = None,
          formats: Mapping[str, object] | None = None, caption: str | None = None,
          classes: Mapping[str, object] | None = None, max_rows: int | None = None) -> Html:
    """Render ``data`` as an escaped HTML table.

    Parameters
    ----------
    columns : source column → Chinese header, in display order (others are dropped).
    formats : column → format: an int (decimals), ``"pct"``, ``"p"``, ``"int"`` or a callable
        returning trusted HTML.
    classes : column → callable(value) → CSS class for that cell (e.g. flags in red).
    """
    columns = dict(columns or {c: c for c in data.columns})
    formats = dict(formats or {})
    classes = dict(classes or {})
    df = data.head(max_rows) if max_rows else data
    head = "".join(f"<th>{escape(h)}</th>" for h in columns.values())
    numeric = {c for c in columns if c in df.columns and pd.api.types.is_numeric_dtype(df[c])
               and not pd.api.types.is_bool_dtype(df[c])}
    rows, texts = [], []
    for _, r in df.iterrows():
        cells, shown = [], []
        for col in columns:
            v = r.get(col)
            f = formats.get(col)
            if callable(f):
                text = f(v)
            elif f == "pct":
                text = fmt_pct(v)
            elif f == "p":
                text = fmt_p(v)
            elif f == "int":
                text = "—" if v is None or pd.isna(v) else f"{int(v):,}"
            elif isinstance(f, int):
                text = fmt_num(v, f)
            elif isinstance(v, float):
                text = fmt_num(v, 1)
            else:
                text = "—" if v is None or (not isinstance(v, str) and pd.isna(v)) else escape(str(v))
            shown.append(text)
            cls = classes.get(col)
            klass = " ".join(k for k in (cls(v) if callable(cls) else None,
                                         "num" if col in numeric else None) if k)
            cells.append(f'<td class="{klass}">{text}</td>' if klass else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
        texts.append(shown)
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    width, cols = column_widths([escape(h) for h in columns.values()], texts,
                                nowrap=[c in numeric for c in columns])
    colgroup = "<colgroup>" + "".join(f'<col style="width:{w}">' for w in cols) + "</colgroup>"
    return Html(f'<table style="width:{width}">{cap}{colgroup}<thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>")


#: Width of the printed text block (A4 less 2 × 14 mm) in em of table text (0.92 × 14 px).
PAGE_EM = 53.0
#: Cell padding (2 × 8 px) and border, in em of table text.
_CELL_PAD_EM = 1.35
_TAG = re.compile(r"<[^>]*>")
#: CJK ideographs, symbols and punctuation, full-width forms: a line may break beside any.
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")
_BREAK = re.compile(r"\s+|" + _CJK.pattern)


def _text_em(html: str) -> tuple[float, float]:
    """(max-content, min-content) width in em of a cell's text in the PDF font.

    A line may break at spaces and beside CJK characters, so min-content is the widest run of
    other characters (or one CJK character).
    """
    from cxlab._fonts import text_em

    text = unescape(_TAG.sub("", html))
    least = max((text_em(r) for r in _BREAK.split(text) if r), default=0.0)
    if _CJK.search(text):
        least = max(least, 1.0)  # a CJK character is 1 em wide
    return text_em(text), least


def column_widths(head: Sequence[str], body: Sequence[Sequence[str]], *,
                  nowrap: Sequence[bool] = (), page_em: float = PAGE_EM) -> tuple[str, list[str]]:
    """CSS widths of a table and of its columns, estimated from the cells' text.

    ``head`` holds the header cells and ``body`` the rows, as HTML; ``nowrap`` marks columns
    whose body cells never wrap (numbers). A table whose columns fit on the printed page at
    their widest gets each column's widest text, in em. A wider one fills the page: each column
    gets at least its longest unbreakable word, and the room left is shared in proportion to
    how much more each needs. That is what CSS automatic table layout works out; computing it
    here from the text lets the PDF use fixed layout, which lays a table out once instead of
    first laying out every cell's text twice to measure it.
    """
    n = len(head)
    most, least = [0.0] * n, [0.0] * n
    for r, row in enumerate([head, *body]):
        for i, cell in enumerate(row[:n]):
            wide, narrow = _text_em(cell)
            if r and i < len(nowrap) and nowrap[i]:
                narrow = wide
            most[i], least[i] = max(most[i], wide), max(least[i], narrow)
    # 5 % for what the estimate leaves out: bold header glyphs, kerning, Pango's rounding
    most = [1.05 * w + _CELL_PAD_EM for w in most]
    least = [1.05 * w + _CELL_PAD_EM for w in least]
    if sum(most) <= page_em:
        return f"{sum(most):.1f}em", [f"{w:.1f}em" for w in most]
    spare = page_em - sum(least)
    give = [m - lo for m, lo in zip(most, least, strict=True)]
    widths = ([lo + spare * g / sum(give) for lo, g in zip(least, give, strict=True)]
              if spare > 0 else least)
    total = sum(widths)
    return "100%", [f"{100 * w / total:.2f}%" for w in widths]


def figure(fig, *, width: int | None = None, alt: str = "") -> Html:
    """Embed a matplotlib figure as a PNG data URI (deterministic bytes) and close it."""
    import matplotlib.pyplot as plt

    data = base64.b64encode(png_bytes(fig)).decode("ascii")
    plt.close(fig)
    style = f' style="max-width:{width}px"' if width else ""
    return Html(f'<p class="output_png"><img src="data:image/png;base64,{data}" '
                f'alt="{escape(alt)}"{style}></p>')


#: Resolution of report figures.
FIGURE_DPI = 110
#: Blank border kept around a figure's ink: matplotlib's default ``savefig.pad_inches``.
_PAD_INCHES = 0.1
#: Room drawn around the figure so labels that stick out of it are not cut off.
_MARGIN_INCHES = 2.0
#: zlib level of the report PNGs: level 3 writes report charts ~40 % faster than Pillow's
#: default (6) and ~7 % smaller (measured on a branch report's charts).
_PNG_LEVEL = 3


def png_bytes(fig, *, dpi: int = FIGURE_DPI) -> bytes:
    """``fig`` as a PNG cropped as ``savefig(bbox_inches="tight")`` crops, in one draw.

    The tight path lays the figure out three times (a draw to settle it, a pass to measure the
    tight box, the draw that paints); on report figures, with many CJK labels, that was half
    the time a report spends on charts. Here the figure is painted once on a canvas with a
    2-inch margin all round; at the end of that draw the tight box is measured with the same
    renderer (its text metrics are cached by then) and the picture is cropped to it, plus
    matplotlib's 0.1-inch padding. Only when the box does not fit on the canvas (something
    more than 2 in outside the figure) is the tight path taken instead. An opaque figure is
    written as RGB. No metadata is written, so the bytes are deterministic.
    """
    import numpy as np
    from matplotlib.transforms import Bbox
    from PIL import Image

    # a canvas of whole pixels, so that its size in pixels is known exactly
    (w, h), m = fig.get_size_inches(), _MARGIN_INCHES
    cols, rows = math.ceil((w + 2 * m) * dpi), math.ceil((h + 2 * m) * dpi)
    mx, my = (cols / dpi - w) / 2, (rows / dpi - h) / 2
    measured: list = []
    cid = fig.canvas.mpl_connect(
        "draw_event", lambda event: measured.append(fig.get_tightbbox(event.renderer)))
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="rgba", dpi=dpi, bbox_inches=Bbox([[-mx, -my], [w + mx, h + my]]))
    finally:
        fig.canvas.mpl_disconnect(cid)
    raw = buf.getbuffer()
    crop = None
    if len(measured) == 1 and len(raw) == rows * cols * 4:
        box = measured[0].padded(_PAD_INCHES)  # inches from the canvas's lower left corner
        x0, x1 = math.floor(box.x0 * dpi), math.ceil(box.x1 * dpi)
        y0, y1 = rows - math.ceil(box.y1 * dpi), rows - math.floor(box.y0 * dpi)
        if 0 <= x0 < x1 <= cols and 0 <= y0 < y1 <= rows:
            crop = np.frombuffer(raw, np.uint8).reshape(rows, cols, 4)[y0:y1, x0:x1]
    if crop is None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        return buf.getvalue()
    if (crop[..., 3] == 255).all():
        crop = crop[..., :3]
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(crop)).save(out, format="PNG", compress_level=_PNG_LEVEL)
    return out.getvalue()


def paragraph(text: str, *, css: str | None = None) -> Html:
    klass = f' class="{css}"' if css else ""
    return Html(f"<p{klass}>{escape(text)}</p>")


def note(text: str) -> Html:
    return paragraph(text, css="cx-note")


def bullets(items: Sequence[str]) -> Html:
    return Html("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")


def cards(items: Sequence[tuple[str, str, str | None]]) -> Html:
    """KPI cards: (label, value text, css class of the value or None)."""
    out = []
    for label, value, css in items:
        klass = f" {css}" if css else ""
        out.append(f'<div class="cx-kpi"><div class="cx-kpi-label">{escape(label)}</div>'
                   f'<div class="cx-kpi-value{klass}">{escape(value)}</div></div>')
    return Html('<div class="cx-kpis">' + "".join(out) + "</div>")
