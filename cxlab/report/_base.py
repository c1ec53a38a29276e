"""Small-base rules and labels shared by every report section module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxlab.metrics._common import CAUTION_BASE, MIN_BASE
from cxlab.report.tables import Html, note

if TYPE_CHECKING:
    from cxlab.report._context import ReportContext

__all__ = ["ALPHA", "CAUTION_BASE", "MIN_BASE", "base_note", "scope_label"]

#: Significance level of the report's tests.
ALPHA = 0.05


def base_note(n: int, what: str) -> Html | None:
    """The suppression or caution note for a result on ``n`` respondents, or None."""
    if n < MIN_BASE:
        return note(f"{what}样本量为 {n}(少于 {MIN_BASE}),结果不予报告。")
    if n < CAUTION_BASE:
        return note(f"注意:{what}样本量为 {n}(少于 {CAUTION_BASE}),结果仅供参考。")
    return None


def scope_label(ctx: ReportContext) -> str:
    """全公司 for the company report, else the branch's name."""
    return "全公司" if ctx.is_company else ctx.scope_name
