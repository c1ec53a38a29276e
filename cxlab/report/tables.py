"""Presentation helpers: formatted, escaped HTML tables, figures as embedded PNG, KPI cards.

Statistics functions return raw numbers; rounding, Chinese headers and flags happen here.
Every cell and string that may come from respondents is HTML-escaped.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from html import escape

import pandas as pd

__all__ = ["Html", "cards", "figure", "fmt_num", "fmt_p", "fmt_pct", "note", "p_text", "paragraph",
           "table"]


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
    rows = []
    for _, r in df.iterrows():
        cells = []
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
            cls = classes.get(col)
            klass = " ".join(k for k in (cls(v) if callable(cls) else None,
                                         "num" if col in numeric else None) if k)
            cells.append(f'<td class="{klass}">{text}</td>' if klass else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return Html(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def figure(fig, *, width: int | None = None, alt: str = "") -> Html:
    """Embed a matplotlib figure as a PNG data URI (deterministic bytes) and close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    style = f' style="max-width:{width}px"' if width else ""
    return Html(f'<p class="output_png"><img src="data:image/png;base64,{data}" '
                f'alt="{escape(alt)}"{style}></p>')


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
