"""Which sections a report shows, in which order, under which titles: ``params/report.yaml``.

A report's body is one call, :func:`body`, which renders in ``report.yaml`` order every enabled
section whose data exist, as a numbered heading (一、二、… counted over the sections actually
shown), an intro paragraph and the section's content. A section whose data are missing (no NPS
item, no Kano pairs, no CRM, no ticket log, …) is left out with its heading; nothing empty is
shown. Without ``params/report.yaml`` the built-in layout applies (:data:`DEFAULT_LAYOUT`).

``params/report.yaml``::

    version: 1
    company:                      # the company report; omitted = the built-in order
      sections:
        - summary                 # an id alone: built-in title and intro
        - {id: kpis, title: 核心指标, intro: "本期核心指标……"}
        - {id: trend, enabled: false}   # switched off
    branch:
      sections: [summary, kpis, league, voice, provenance]

``enabled`` is true, false or left out (automatic: the item summary and the crosstabs show
when the questionnaire has no recommend question, every other section whenever its data exist).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Literal

from cxlab.report._base import (
    ces_col,
    cn_number,
    csat_col,
    nps_col,
    outcome_names,
    top_labels,
)
from cxlab.report._context import ReportContext
from cxlab.report._report_config import (
    DEFAULT_LAYOUT,
    BranchLayout,
    CompanyLayout,
    Kind,
    ReportsConfig,
    SectionSpec,
    load_report_config,
)
from cxlab.report._typography import cn_punct, typeset
from cxlab.report.tables import Html, join

__all__ = ["DEFAULT_LAYOUT", "SECTIONS", "BranchLayout", "CompanyLayout", "ReportsConfig",
           "SectionSpec", "body", "layout_for", "load_report_config", "shown_sections"]


# --------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Section:
    """A report section: its default title and intro per report kind, the section functions
    that make its content, whether its data exist, and whether it shows by default."""

    id: str
    title: Callable[[ReportContext], str]
    parts: Callable[[ReportContext], list[Callable[[ReportContext], Html]]]
    available: Callable[[ReportContext], bool] = lambda ctx: True
    intro: Callable[[ReportContext], str | None] = lambda ctx: None
    numbered: bool = True
    kinds: tuple[str, ...] = ("company", "branch")
    auto: Callable[[ReportContext], bool] = lambda ctx: True  # shown when ``enabled`` is left out


def _s():
    from cxlab.report import sections

    return sections


def _has_table(ctx: ReportContext, name: str, *cols: str) -> bool:
    df = ctx.table(name)
    return len(df) > 0 and set(cols) <= set(df.columns)


def _agg_has(ctx: ReportContext, col: str) -> bool:
    return col in ctx.aggregates.columns


def _attributes(ctx: ReportContext) -> list[str]:
    return [i for i in ctx.codebook.attribute_items if i in ctx.responses.columns]


def _has_drivers(ctx: ReportContext) -> bool:
    out = ctx.codebook.outcome_item
    return (out is not None and out in ctx.responses.columns
            and len([i for i in _attributes(ctx) if i != out]) >= 2)


def _alert_rules(ctx: ReportContext) -> bool:
    return (ctx.params_dir / "alerts.yaml").is_file()


def _summary_intro(ctx: ReportContext) -> str:
    if not ctx.is_company:
        return "本报告仅包含本机构的客户反馈;与全公司及其他机构的对比均基于各机构的汇总数据。"
    text = "本报告依据本期客户体验调研数据,按照《客户体验调研管理制度》的要求汇总客户反馈"
    if _has_drivers(ctx):
        text += ",判断主要问题与次要问题"
    if ctx.targets.kpis:
        text += ",并对照公司运营目标评估各项指标的达成情况"
    return text + "。"


def _kpis_title(ctx: ReportContext) -> str:
    return "核心指标与目标达成" if ctx.targets.kpis else "核心指标"


def _kpis_intro(ctx: ReportContext) -> str | None:
    parts = []
    if nps_col(ctx):
        parts.append("净推荐值(NPS)是客户体验的北极星指标:推荐者(9–10 分)占比减去贬损者(0–6 分)占比。")
    cs = csat_col(ctx)
    if cs:
        parts.append(f"客户满意度(CSAT)取{top_labels(ctx, cs)}的占比。")
    ce = ces_col(ctx)
    if ce:
        parts.append(f"客户费力度(CES)取{top_labels(ctx, ce)}的占比。")
    if ctx.targets.kpis:
        ops = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
        goals = ",".join(f"{k.label} {ops[k.op]} {k.target:g}{'' if k.unit == '%' else ' '}{k.unit}"
                         for k in ctx.targets.kpis)
        parts.append(f"目标值来自公司运营目标({goals})。")
    return "".join(parts) or None


def _has_kpis(ctx: ReportContext) -> bool:
    return bool(nps_col(ctx) or csat_col(ctx) or ces_col(ctx)
                or (ctx.targets.kpis and (_has_table(ctx, "tickets", "created_at")
                                          or _has_table(ctx, "customers", "churned"))))


def _kpi_parts(ctx: ReportContext):
    return [_s().kpi_dashboard, _s().operations_kpis]


def _league_title(ctx: ReportContext) -> str:
    return "分支机构排名" if ctx.is_company else "与全公司及其他机构的对比"


def _league_intro(ctx: ReportContext) -> str:
    if ctx.is_company:
        return "管理层需要了解公司整体及各分支机构的体验水平,识别需要重点整改的分支。"
    nps, attrs = _agg_has(ctx, "promoters"), bool(_attributes(ctx))
    if nps and attrs:
        return "下表按 NPS 排列各机构(▶ 标出本机构),其后为本机构各评价项目与全公司均值的差距。"
    if nps:
        return "下表按 NPS 排列各机构(▶ 标出本机构)。"
    return "下表列出本机构各评价项目与全公司均值的差距。"


def _league_parts(ctx: ReportContext):
    return [_s().league_table] if ctx.is_company else [_s().league_table, _s().branch_comparison]


def _has_league(ctx: ReportContext) -> bool:
    if ctx.is_company:
        return _agg_has(ctx, "promoters")
    return _agg_has(ctx, "promoters") or bool(_attributes(ctx))


def _alerts_title(ctx: ReportContext) -> str:
    return "预警与闭环管理" if _has_table(ctx, "tickets", "created_at") else "预警"


def _alerts_intro(ctx: ReportContext) -> str:
    if _has_table(ctx, "tickets", "created_at"):
        return "满足预警规则的反馈自动生成待办并指派责任人,跟踪直至闭环;下表统计本期预警及其处理进度。"
    return "下表列出本期满足预警规则的机构与反馈。"


def _has_alerts(ctx: ReportContext) -> bool:
    return _alert_rules(ctx) and bool(nps_col(ctx) or csat_col(ctx)
                                      or _has_table(ctx, "tickets", "created_at"))


def _drivers_title(ctx: ReportContext) -> str:
    cb = ctx.codebook
    if cb.outcome_item == cb.nps_item:
        return "NPS 关键驱动因素"
    if cb.outcome_item == cb.csat_item:
        return "满意度关键驱动因素"
    return "关键驱动因素"


def _drivers_intro(ctx: ReportContext) -> str:
    n = len([i for i in _attributes(ctx) if i != ctx.codebook.outcome_item])
    return (f"在{cn_number(n)}个评价项目中,哪些因素最能解释客户的{outcome_names(ctx)[0]}?"
            "相对重要性把模型解释的方差精确分配给各因素,不受因素进入模型顺序的影响。")


def _journey_intro(ctx: ReportContext) -> str:
    stages = [j for j in ctx.codebook.journey if j != "整体"]
    where = f"按{'、'.join(stages)}等旅程阶段及其触点" if stages else "按旅程阶段及其触点"
    return where + "汇总评价,找出最薄弱的环节。"


def _has_journey(ctx: ReportContext) -> bool:
    from cxlab.report._sections_ops import _journey_items

    return any(i in ctx.responses.columns for i in _journey_items(ctx))


def _voice_intro(ctx: ReportContext) -> str:
    label = ctx.codebook.item(ctx.codebook.comment_item).label
    return (f"对“{label}”做主题归类与情感判断,列出高频问题;"
            "引用的原话已去除电话、邮箱、姓名等个人信息。")


def _has_voice(ctx: ReportContext) -> bool:
    col = ctx.codebook.comment_item
    return (col is not None and col in ctx.responses.columns
            and (ctx.params_dir / "text.yaml").is_file())


def _has_kano(ctx: ReportContext) -> bool:
    cols = ctx.codebook.kano_items
    return bool(cols) and set(cols) <= set(ctx.responses.columns)


def _no_nps(ctx: ReportContext) -> bool:
    return ctx.codebook.nps_item is None


def _has_items(ctx: ReportContext) -> bool:
    from cxlab.report._sections_items import _summary_items

    return bool(_summary_items(ctx))


def _has_choices(ctx: ReportContext) -> bool:
    from cxlab.report._sections_items import choice_items

    return bool(choice_items(ctx, kinds=("category", "multi")))


def _choice_word(ctx: ReportContext) -> str:
    """单选题, or 选择题 when multi-select questions are summarised too."""
    from cxlab.report._sections_items import choice_items

    return "选择题" if choice_items(ctx, kinds=("multi",)) else "单选题"


def _summary_parts(ctx: ReportContext):
    """The executive page: key findings, KPIs vs targets, significant changes, top three
    issues, open alerts (each only with its data)."""
    from cxlab.report import _sections_exec as ex

    return [_s().summary, ex.executive_kpis, ex.executive_changes, ex.executive_issues,
            ex.executive_alerts]


def _glossary_parts(ctx: ReportContext):
    from cxlab.report._glossary import glossary

    return [glossary]


def _const(text: str | None):
    return lambda ctx: text


def _parts(*names: str):
    return lambda ctx: [getattr(_s(), n) for n in names]


def _cases_parts(ctx: ReportContext):
    from cxlab.report._sections_cases import cases

    return [cases]


def _has_cases(ctx: ReportContext) -> bool:
    from cxlab.report._sections_cases import has_ledger

    return has_ledger(ctx.warehouse)


def _items_parts(ctx: ReportContext):
    from cxlab.report._sections_items import item_summary

    return [item_summary]


def _crosstab_parts(ctx: ReportContext):
    from cxlab.report._sections_items import crosstabs

    return [crosstabs]


SECTIONS: dict[str, Section] = {s.id: s for s in [
    Section("summary", _const("摘要"), _summary_parts, intro=_summary_intro, numbered=False),
    Section("kpis", _kpis_title, _kpi_parts, _has_kpis, _kpis_intro),
    Section("items", _const("评价项目汇总"), _items_parts, _has_items,
            _const("各评价项目的均值与好评率(最好的几档答案的占比)及其 95% 置信区间,按问卷顺序排列。"),
            auto=_no_nps),
    Section("crosstabs", lambda ctx: (_choice_word(ctx) + ("交叉分析" if ctx.is_company
                                                           and len(ctx.org.branches) > 1
                                                           else "回答分布")),
            _crosstab_parts, _has_choices,
            lambda ctx: (f"{_choice_word(ctx)}各选项的回答比例,并按分支机构比较。"
                         if ctx.is_company and len(ctx.org.branches) > 1
                         else f"{_choice_word(ctx)}各选项的回答比例。"),
            auto=_no_nps),
    Section("trend", _const("趋势与环比"), _parts("trend"), lambda ctx: nps_col(ctx) is not None,
            lambda ctx: ("下图给出各期 NPS 及其 95% 置信区间;环比是否显著以检验结果为准。"
                         if ctx.is_company else None)),
    Section("league", _league_title, _league_parts, _has_league, _league_intro),
    Section("alerts", _alerts_title, _parts("alerts"), _has_alerts, _alerts_intro),
    Section("cases", _const("闭环工单台账"), _cases_parts, _has_cases,
            _const("每条预警在工单台账中立案并指派责任人,逾期未关闭的工单升级至上级负责人;"
                   "下表按机构、责任人与原因统计本期工单的关闭与超期情况。")),
    Section("drivers", _drivers_title, _parts("drivers"), _has_drivers, _drivers_intro),
    Section("ipa", _const("重要性–表现分析(IPA)与主要问题"), _parts("ipa"), _has_drivers,
            _const("结合各项目的表现和重要性,把项目分到四个象限:重要性高而表现低的项目是需要优先解决的"
                   "**主要问题**,重要性和表现都低的项目为**次要问题**。")),
    Section("journey", _const("客户旅程与触点"), _parts("journey"), _has_journey, _journey_intro),
    Section("voice", _const("客户之声:开放题反馈"), _parts("voice"), _has_voice, _voice_intro),
    Section("segments", _const("客户分群"), _parts("segments"),
            lambda ctx: nps_col(ctx) is not None and _has_table(ctx, "customers", "customer_id"),
            _const("按客户价值(大客户/普通客户、价值分层)和 RFM 分群比较体验指标,"
                   "并检验推荐者是否真的流失更少、消费更多。")),
    Section("service_levels", _const("服务水平与调研参与"), _parts("service_levels"),
            lambda ctx: (_has_table(ctx, "tickets", "created_at")
                         or _has_table(ctx, "invitations", "responded")),
            _const("首次响应与解决时长对照服务承诺;问卷邀请的回收率按渠道和触发场景统计;"
                   "回馈报告按行业与客户类型汇总参与情况。")),
    Section("audits", _const("服务质量检查"), _parts("audits"),
            lambda ctx: _has_table(ctx, "audits", "items_checked") and _alert_rules(ctx),
            _const("神秘顾客与质检抽查的得分,以及致命错误率、一般错误率与控制线的对比。")),
    Section("kano", _const("候选功能的 Kano 分析"), _parts("kano"), _has_kano,
            _const("通过正向、反向两个问题判断客户对候选功能的需求类型,为产品规划排序。")),
    Section("price_channel", _const("产品价格与购买渠道"), _parts("price_channel"),
            lambda ctx: {"price_direct", "price_expected"} <= set(ctx.responses.columns),
            _const("比较客户的直估价格与心理预期价值,并统计客户偏好的购买渠道。")),
    Section("ab_tests", _const("服务话术 A/B 测试"), _parts("ab_tests"),
            lambda ctx: _has_table(ctx, "tickets", "script_variant", "solution_satisfaction"),
            _const("对比新旧服务话术下的解决方案满意度,并给出检测指定差异所需的样本量。"),
            kinds=("company",)),
    Section("scorecard", _const("客户体验主管考核"), _parts("scorecard"),
            lambda ctx: (_has_table(ctx, "scorecard_actuals", "measure", "value")
                         and (ctx.params_dir / "scorecard.yaml").is_file()),
            _const("依据《客户体验主管考核量表》的十项加权指标计算本期得分。"), kinds=("company",)),
    Section("glossary", _const("附录:术语表"), _glossary_parts, numbered=False,
            intro=_const("报告中出现的英文缩写与统计术语的中文说明。")),
    Section("provenance", _const("附录:数据来源与可追溯性"), _parts("provenance"), numbered=False),
]}


def layout_for(kind: Kind, config: ReportsConfig | None) -> list[SectionSpec]:
    """The section list of a report kind: from ``config``, else the built-in one."""
    layout = getattr(config, kind) if config is not None else None
    if layout is None:
        return [SectionSpec(id=i) for i in DEFAULT_LAYOUT[kind]]
    return list(layout.sections)


# --------------------------------------------------------------------------- rendering
@lru_cache(maxsize=1)
def _markdown():
    import mistune

    return mistune.create_markdown(escape=True)


def _heading(text: str) -> Html:
    # the markup nbconvert gives a Markdown heading: its anchor id is the text with spaces as
    # "-", URL-encoded (nbconvert.filters.strings.add_anchor), so links into reports still work
    from urllib.parse import quote

    anchor = escape(quote(text.replace(" ", "-"), safe="?/:@!$&'()*+,;="), quote=True)
    return Html(f'<h2 id="{anchor}">{escape(text)}'
                f'<a class="anchor-link" href="#{anchor}">¶</a></h2>\n')


def shown_sections(ctx: ReportContext, config: ReportsConfig | None = None
                   ) -> list[tuple[SectionSpec, Section]]:
    """The sections a report shows before rendering: enabled and with their data present."""
    kind = "company" if ctx.is_company else "branch"
    out: list[tuple[SectionSpec, Section]] = []
    for spec in layout_for(kind, config):
        sec = SECTIONS[spec.id]
        enabled = spec.enabled if spec.enabled is not None else sec.auto(ctx)
        if enabled and kind in sec.kinds and sec.available(ctx):
            out.append((spec, sec))
    return out


def body(ctx: ReportContext, *, config: ReportsConfig | None | Literal["load"] = "load") -> Html:
    """The report body: every section of ``params/report.yaml`` (or the built-in layout) that is
    enabled and has data, as heading + intro + content; headings numbered 一、二、… over the
    sections shown. A section whose content comes out empty is left out with its heading."""
    if config == "load":
        config = load_report_config(ctx.params_dir)
    blocks = []
    number = 0
    for spec, sec in shown_sections(ctx, config):
        content = join(*(part(ctx) for part in sec.parts(ctx)))
        if not content.html.strip():
            continue
        title = spec.title if spec.title is not None else sec.title(ctx)
        if sec.numbered:
            number += 1
            title = f"{cn_number(number)}、{title}"
        title = cn_punct(title)  # before the anchor id is made from it
        intro = spec.intro if spec.intro is not None else sec.intro(ctx)
        blocks.append(_heading(title))
        if intro:
            blocks.append(Html(_markdown()(intro)))
        blocks.append(content)
    return Html(typeset(join(*blocks).html))
