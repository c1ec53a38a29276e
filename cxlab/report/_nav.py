"""The navigation line under a report's title: links up and down the organisation.

Every report lives at ``reports/<period>/<code>.html`` (the company report at ``ALL.html``), so
the links are plain relative paths within the period's folder: the company report links to its
top-level units' reports, a region report to the reports above it (company, parent units) and
to its sub-units' reports, a branch report to its region(s) and the company. ``../index.html``
is the index of every report (``cxlab publish`` writes one per audience at the same place).
"""

from __future__ import annotations

import re
from html import escape

from cxlab.report.tables import Html

__all__ = ["COMPANY_FILE", "nav", "nav_targets", "restrict_nav"]

#: file stem of the company report (``BRANCH=ALL``)
COMPANY_FILE = "ALL"


def nav_targets(org, code: str | None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """``(up, down)``: the ``(file stem, label)`` pairs a report's navigation links to.

    Parameters
    ----------
    org : Org
    code : the report's unit code; None or the company code for the company report.

    Examples
    --------
    >>> from cxlab.config import Org
    >>> org = Org.model_validate({"version": 1, "company": {"code": "ALL", "name": "公司"},
    ...     "units": [{"code": "R", "name": "区", "units": [{"code": "A", "name": "甲"}]},
    ...               {"code": "B", "name": "乙"}]})
    >>> nav_targets(org, None)
    ([], [('R', '区'), ('B', '乙')])
    >>> nav_targets(org, "R")
    ([('ALL', '公司(全公司)'), ('R', '区')], [('A', '甲')])
    >>> nav_targets(org, "A")
    ([('ALL', '公司(全公司)'), ('R', '区')], [])
    """
    company = (COMPANY_FILE, f"{org.company.name}(全公司)")
    if code is None or code in (org.company.code, COMPANY_FILE):
        return [], [(u.code, u.name) for u in org.tree]
    unit = org.unit(code)
    up = [company, *((p.code, p.name) for p in org.parents_of(code))]
    if not unit.is_branch:  # the region itself, for its breadcrumb
        up.append((unit.code, unit.name))
    return up, [(u.code, u.name) for u in unit.units]


def nav(org, code: str | None) -> Html:
    """A ``<nav>`` line: 上级报告 (breadcrumb, company first) · 下级报告 · 报告索引."""
    up, down = nav_targets(org, code)
    me = code if code not in (None, org.company.code) else COMPANY_FILE

    def link(stem: str, label: str) -> str:
        if stem == me:
            return f"<strong>{escape(label)}</strong>"
        return f'<a class="cx-nav-link" href="{escape(stem)}.html">{escape(label)}</a>'

    parts = []
    if up:
        parts.append("上级报告:" + " › ".join(link(s, n) for s, n in up))
    if down:
        parts.append("下级报告:" + "、".join(link(s, n) for s, n in down))
    parts.append('<a class="cx-nav-link" href="../index.html">全部报告索引</a>')
    return Html('<nav class="cx-nav cx-note">' + " · ".join(parts) + "</nav>")


_LINK = re.compile(r'<a class="cx-nav-link" href="([^"/]+)\.html">(.*?)</a>')


def restrict_nav(html: str, readable: set[str]) -> str:
    """``html`` with the navigation links to reports outside ``readable`` (file stems) turned
    into plain text: what ``cxlab publish`` copies into an audience's folder, where the reports
    above the audience's unit are not published."""
    return _LINK.sub(lambda m: m.group(0) if m.group(1) in readable
                     else f'<span class="cx-nav-off">{m.group(2)}</span>', html)
