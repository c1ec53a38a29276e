"""The 术语表 appendix: English abbreviations and statistical terms of the report, in Chinese.

Only the terms of the sections the report shows are listed (a report without Kano does not
explain Better/Worse).
"""

from __future__ import annotations

import pandas as pd

from cxlab.report._context import ReportContext
from cxlab.report.tables import Html, table

__all__ = ["TERMS", "glossary"]

#: (term, explanation, section ids that use it; empty = always).
TERMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("NPS(净推荐值)", "推荐者(0–10 分中打 9–10 分)占比减去贬损者(0–6 分)占比,取值 −100 到 100。",
     ("summary", "kpis", "trend", "league")),
    ("CSAT(客户满意度)", "对满意度题选择最好的几档答案(如“满意”“非常满意”)的客户占比。",
     ("summary", "kpis", "league")),
    ("CES(客户费力度)", "认为办理业务“容易”的客户占比。", ("kpis",)),
    ("95% 置信区间", "在抽样误差范围内总体真实值的可能区间;样本越小,区间越宽。", ()),
    ("p 值", "假设真实情况没有差异时,观察到当前或更大差异的概率;p 值越小,差异越不像偶然。"
     "报告以 p < 0.05 为“显著”。", ()),
    ("显著低于目标", "95% 置信区间的上限也低于目标值,差距不能用抽样误差解释(相当于单侧检验)。",
     ("summary", "kpis", "league")),
    ("在抽样误差内", "估计值低于目标,但置信区间包含目标值,差距可能只是抽样波动。",
     ("summary", "kpis", "league")),
    ("多重比较校正", "同时检验许多机构时,单看未校正的 p 值会产生较多“假显著”。"
     "校正后的 p 值控制这类误报的比例。", ("league", "alerts")),
    ("BH 校正(Benjamini–Hochberg)", "控制错误发现率的校正方法:被判为显著的结果中,误报的比例期望不超过 α。",
     ("league", "alerts", "segments")),
    ("Holm 校正", "控制族错误率的校正方法:所有检验中出现任何一个误报的概率不超过 α,比 BH 更保守。",
     ("league", "alerts", "segments")),
    ("单侧检验 / 双侧检验", "单侧检验只关心一个方向(如是否低于目标);双侧检验关心两个方向的差异(如上升或下降)。",
     ("alerts", "league")),
    ("α(显著性水平)", "判定“显著”的 p 值界限,本报告一般取 0.05。", ()),
    ("LMG(相对重要性)", "把回归模型解释的方差(R²)按所有进入顺序平均分配给各因素(Shapley 值),"
     "结果与因素顺序无关。", ("drivers",)),
    ("R²(决定系数)", "模型能解释的结果变量差异的比例,0 到 1。", ("drivers",)),
    ("VIF(方差膨胀因子)", "衡量因素之间相关程度的指标;大于 5 到 10 时,因素之间高度相关,单个系数不稳定。",
     ("drivers",)),
    ("自助抽样(bootstrap)", "从样本中有放回地重复抽样,估计结果的波动范围。", ("drivers",)),
    ("IPA(重要性–表现分析)", "按重要性和表现把项目分到四个象限,找出重要性高而表现低的主要问题。",
     ("ipa",)),
    ("Kano 模型", "按正向、反向两个问题把功能分为魅力、一维、必备、无差异等类型。", ("kano",)),
    ("Better / Worse 系数", "Better:提供该功能时满意度提升的程度;Worse:不提供时满意度下降的程度。",
     ("kano",)),
    ("Fong 检验", "判断 Kano 分类中最多的两类之间的差异是否显著的检验(Fong 1996)。", ("kano",)),
    ("Mann–Whitney U 检验", "比较两组评分分布高低的非参数检验,不要求数据服从正态分布。",
     ("segments", "price_channel")),
    ("RFM", "按最近一次消费(R)、消费频率(F)和消费金额(M)对客户分群。", ("segments",)),
    ("A/B 测试", "把客户随机分为两组,分别使用新旧方案,比较结果差异。", ("ab_tests",)),
    ("SLA(服务水平)", "对响应、解决时长等作出的服务承诺。", ("service_levels", "alerts")),
]
WEIGHT_TERMS = [
    ("加权 / raking", "按客户名单中分支机构和客户类型的结构调整样本,使回答较多的群体不被高估;"
     "raking(迭代比例拟合)逐个变量反复调整权重直至与总体结构一致。"),
    ("有效样本量(n_eff)", "加权后样本所含信息相当于多少份未加权样本(Kish 公式),不大于实际样本量。"),
    ("设计效应(deff)", "加权使方差放大的倍数,等于样本量除以有效样本量;越接近 1,加权的代价越小。"),
    ("基于抽样设计的检验(Rao–Scott、svyttest)", "加权数据的检验:方差由权重计算,而不是把加权后的"
     "人数当作实际人数;Rao–Scott 校正卡方用于整张交叉表,加权 t 检验用于两组比较。"),
]


def glossary(ctx: ReportContext) -> Html:
    """The terms of the sections this report shows, with their Chinese explanations."""
    from cxlab.report._base import ces_col, csat_col, nps_col
    from cxlab.report._layout import load_report_config, shown_sections

    shown = {spec.id for spec, _ in shown_sections(ctx, load_report_config(ctx.params_dir))}
    # a metric's term only when the questionnaire has the metric
    lacking = {t for t, col in (("NPS", nps_col), ("CSAT", csat_col), ("CES", ces_col))
               if col(ctx) is None}
    if not (ctx.targets.kpis and (nps_col(ctx) or csat_col(ctx))):
        lacking |= {"显著低于目标", "在抽样误差内"}  # no survey KPI judged against a target
    rows = [(t, e, bool(ids)) for t, e, ids in TERMS if (not ids or shown & set(ids))
            and not any(t.startswith(m) for m in lacking)]
    if not any(specific for *_, specific in rows) and not ctx.weighted:
        return Html("")  # no English term or test to explain: no glossary
    rows = [(t, e) for t, e, _ in rows] + (WEIGHT_TERMS if ctx.weighted else [])
    return table(pd.DataFrame(rows, columns=["term", "text"]),
                 columns={"term": "术语", "text": "说明"})
