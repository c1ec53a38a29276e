"""Small-base rules and labels shared by every report section module."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxlab.metrics._common import CAUTION_BASE, MIN_BASE
from cxlab.report.tables import Html, note

if TYPE_CHECKING:
    from cxlab.report._context import ReportContext

__all__ = ["ALPHA", "CAUTION_BASE", "MIN_BASE", "base_note", "weighting_note", "ces_col", "cn_number", "csat_col", "csat_result",
           "nps_col", "outcome_names", "scale_text", "scope_label", "target", "top_labels",
           "top_names"]

#: Significance level of the report's tests.
ALPHA = 0.05


def base_note(n: int, what: str) -> Html | None:
    """The suppression or caution note for a result on ``n`` respondents, or None."""
    if n < MIN_BASE:
        return note(f"{what}样本量为 {n}(少于 {MIN_BASE}),结果不予报告。")
    if n < CAUTION_BASE:
        return note(f"注意:{what}样本量为 {n}(少于 {CAUTION_BASE}),结果仅供参考。")
    return None


def weighting_note(ctx: ReportContext, data=None) -> Html | None:
    """What a weighted report states next to its base: weighted base, Kish effective n and
    design effect of the scope's responses of the period, beside the unweighted base; None for
    an unweighted report."""
    if not ctx.weighted:
        return None
    from cxlab.report._inference import is_weighted
    from cxlab.weighting import design_effect, kish_n_eff

    d = ctx.current if data is None else data
    w = d["weight"].to_numpy(dtype=float)
    if w.size == 0:
        return None
    return note(f"加权估计:按客户名单(CRM)的分支机构 × 客户类型结构对样本加权(逐期迭代比例拟合,"
                f"即 raking)。未加权样本量 {w.size:,},加权样本量 {w.sum():,.1f},"
                f"有效样本量 {kish_n_eff(w):,.1f},设计效应 {design_effect(w):.3f}。"
                "NPS、CSAT、CES、趋势、运营指标表、评价项目、选择题交叉表、驱动因素、IPA、客户旅程、"
                "开放题情感、客户分群、Kano 分析与价格认知及购买渠道均为加权结果;"
                + ("分支机构排名、与其他机构的对比和机构层面预警基于各机构的加权汇总数据"
                   "(加权 NPS、CSAT 及其线性化标准误),同样为加权结果。"
                   if is_weighted(ctx.aggregates) else
                   "分支机构排名、与其他机构的对比和机构层面预警基于各机构汇总计数,未加权。"))


def scope_label(ctx: ReportContext) -> str:
    """全公司 for the company report, else the branch's name."""
    return "全公司" if ctx.is_company else ctx.scope_name


# --------------------------------------------------------------------------- codebook roles
def nps_col(ctx: ReportContext) -> str | None:
    """The NPS item's column, when the codebook has one and the responses hold it."""
    col = ctx.codebook.nps_item
    return col if col is not None and col in ctx.responses.columns else None


def csat_col(ctx: ReportContext) -> str | None:
    """The CSAT item's column, when the codebook has one and the responses hold it."""
    col = ctx.codebook.csat_item
    if col is None or col not in ctx.responses.columns:
        return None
    return col if ctx.codebook.scale_of(col).top_codes else None


def ces_col(ctx: ReportContext) -> str | None:
    col = ctx.codebook.ces_item
    if col is None or col not in ctx.responses.columns:
        return None
    return col if ctx.codebook.scale_of(col).top_codes else None


def target(ctx: ReportContext, kpi: str):
    """The target of ``kpi`` from params/targets.yaml, or None when it has none."""
    if ctx.targets is None:
        return None
    try:
        return ctx.targets.kpi(kpi)
    except KeyError:
        return None


def csat_result(data, ctx: ReportContext, *, by=None, weight: str | None = None):
    """:func:`cxlab.metrics.csat` of the CSAT item: top box of its scale (codes shifted to 1…k);
    ``weight``: the survey-weight column (``ctx.weight``) or None."""
    import pandas as pd

    from cxlab.metrics import csat

    col = csat_col(ctx)
    sc = ctx.codebook.scale_of(col)
    lo, hi = float(sc.lo), float(sc.hi)
    x = pd.to_numeric(data[col], errors="coerce")
    frame = data.assign(_csat=x - lo + 1) if lo != 1 else data.assign(_csat=x)
    return csat(frame, score="_csat", scale=int(hi - lo + 1), top_box=len(sc.top_codes), by=by,
                weight=weight)


def top_names(ctx: ReportContext, item: str) -> list[str]:
    """The top-box answers of an item's scale, lowest first: ``["满意", "非常满意"]``; for an
    unlabelled numeric scale one range, ``["9–10 分"]``."""
    sc = ctx.codebook.scale_of(item)
    codes = sorted(sc.top_codes)
    if sc.codes:
        return [sc.codes[int(c)] for c in codes if int(c) in sc.codes]
    return [f"{codes[0]:g}–{codes[-1]:g} 分"] if codes else []


def top_labels(ctx: ReportContext, item: str) -> str:
    """The top-box answers quoted for narrative text: ``“满意”和“非常满意”``."""
    names = [f"“{n}”" for n in top_names(ctx, item)]
    return "和".join(names) if len(names) <= 2 else "、".join(names)


_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """A Chinese numeral for 1–99 (headings 一、二、…; 十七); other numbers as digits."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def scale_text(ctx: ReportContext, items) -> str:
    """How the items are scored, from their scales' labels: ``五级评价(好=5 … 差=1)``."""
    parts = []
    for name in dict.fromkeys(ctx.codebook.item(i).scale for i in items):
        sc = ctx.codebook.scales[name]
        if sc.codes:
            hi, lo = max(sc.codes), min(sc.codes)
            parts.append(f"{sc.label}({sc.codes[hi]}={hi} … {sc.codes[lo]}={lo})")
        elif sc.lo is not None:
            parts.append(f"{sc.label}({sc.lo:g}–{sc.hi:g} 分)")
        else:
            parts.append(sc.label)
    return "、".join(parts)


def outcome_names(ctx: ReportContext) -> tuple[str, str]:
    """(phrase, title) of the drivers/IPA outcome: ("推荐意愿", "推荐意愿(NPS)") for NPS."""
    cb = ctx.codebook
    out = cb.outcome_item
    if out is not None and out == cb.nps_item:
        return "推荐意愿", "推荐意愿(NPS)"
    if out is not None and out == cb.csat_item:
        return "总体满意度", "总体满意度(CSAT)"
    label = cb.item(out).label if out is not None else ""
    return label, label
