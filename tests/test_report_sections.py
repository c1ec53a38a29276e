"""Report sections of cxlab.report._sections_ops and _sections_voice on the sample warehouse.

Every section is rendered once per scope (company, GZ01 with the planted NPS drop, XM01 the
small branch) and the HTML is checked for content, scoping, small-base flags, escaping and the
absence of respondents' personal data.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlab.report import _sections_ops as ops
from cxlab.report import _sections_voice as voice_mod

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
PERIOD = "2026Q3"
SCOPES = (None, "GZ01", "XM01")

SECTIONS = {
    "operations_kpis": ops.operations_kpis, "alerts": ops.alerts, "service_levels": ops.service_levels,
    "journey": ops.journey, "audits": ops.audits, "ab_tests": ops.ab_tests,
    "price_channel": ops.price_channel, "scorecard": ops.scorecard,
    "voice": voice_mod.voice, "segments": voice_mod.segments,
}

#: Chinese headings/labels each section shows in the company report.
COMPANY_LABELS = {
    "operations_kpis": ["净推荐值(NPS)", "客户满意度(CSAT)", "解决方案满意度", "投诉响应时间", "邮件回复时间",
                        "紧急邮件回复时间", "电话接听时间", "年度客户流失率", "环比变化", "p 值"],
    "alerts": ["预警概览", "机构层面预警", "闭环跟踪", "闭环率", "超期未关闭", "级别"],
    "service_levels": ["服务响应与解决时效", "首次响应时长", "解决时长", "调研邀请回复率", "触发场景",
                       "客户体验回馈报告", "大客户", "普通客户", "参与率"],
    "journey": ["旅程阶段", "触点", "短板触点", "全公司均值"],
    "audits": ["致命错误率", "一般错误率", "神秘顾客", "质检抽查", "分支机构"],
    "ab_tests": ["话术 A", "话术 B", "95% 置信区间", "所需样本量", "最小可检测差异"],
    "price_channel": ["直估价格", "心理预期", "价格偏高", "偏好购买渠道", "电商平台", "客户类型"],
    "scorecard": ["客户体验主管考核", "客户体验调研计划完成率", "单位客户需求调研成本", "员工绩效考核达标率",
                  "合计", "得分", "满分"],
    "voice": ["评论", "主题", "负面", "高频负面问题", "客户原话"],
    "segments": ["大客户", "普通客户", "RFM", "流失率", "推荐者", "贬损者", "显著性检验"],
}

_IMG = re.compile(r'<img [^>]*>')
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _text(html: str) -> str:
    """Visible text: images dropped, tags stripped, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", " ", _IMG.sub(" ", html)))


def _rows(html: str) -> list[list[str]]:
    """Cells of every table row (header and body), as visible text."""
    return [[_text(c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, flags=re.S)]
            for tr in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def warehouse(sample_warehouse, tmp_path_factory) -> Path:
    """A copy of the session warehouse with the company aggregates built.

    A copy, so that the aggregates table does not change the shared warehouse that other
    test modules inspect.
    """
    from cxlab.report import build_aggregates

    wh = tmp_path_factory.mktemp("sections") / "warehouse"
    shutil.copytree(sample_warehouse, wh)
    build_aggregates(wh, params_dir=PARAMS)
    return wh


@pytest.fixture(scope="module")
def contexts(warehouse):
    from cxlab.report import load_context

    return {b: load_context(period=PERIOD, branch=b, warehouse=warehouse, params_dir=PARAMS)
            for b in SCOPES}


@pytest.fixture(scope="module")
def rendered(contexts):
    """HTML of every section for every scope: {(branch, section): html}."""
    import matplotlib

    matplotlib.use("Agg")
    from cxlab.plots import set_style

    set_style()
    out = {}
    for b, ctx in contexts.items():
        for name, fn in SECTIONS.items():
            out[(b, name)] = fn(ctx).html
    return out


@pytest.fixture(scope="module")
def raw_pii(sample_raw) -> set[str]:
    """Phone numbers and e-mail addresses found anywhere in the raw survey files and the CRM."""
    from cxlab.io import read_export

    found: set[str] = set()
    frames = [read_export(f) for f in sorted((sample_raw / "survey").iterdir())]
    frames.append(pd.read_csv(sample_raw / "crm" / "customers.csv", dtype=str))
    for df in frames:
        for c in df.columns:
            cells = df[c].dropna()
            if cells.empty or cells.map(lambda v: not isinstance(v, str)).all():
                continue
            text = "\n".join(cells.astype(str))
            found |= set(_PHONE.findall(text)) | set(_EMAIL.findall(text))
    return found


# --------------------------------------------------------------------------- every section
@pytest.mark.parametrize("branch", SCOPES, ids=lambda b: b or "ALL")
@pytest.mark.parametrize("name", list(SECTIONS))
def test_every_section_renders_chinese_html(rendered, name, branch):
    html = rendered[(branch, name)]
    assert isinstance(html, str) and html.strip()
    assert re.search(r"[\u4e00-\u9fff]", _text(html)), (name, branch)
    assert "Traceback" not in html and "nan" not in _text(html).split()


@pytest.mark.parametrize("name", list(SECTIONS))
def test_company_sections_show_their_chinese_labels_a_finding_and_a_method_note(rendered, name):
    html = rendered[(None, name)]
    text = _text(html)
    missing = [lab for lab in COMPANY_LABELS[name] if lab not in text]
    assert not missing, (name, missing)
    assert "<p>" in html, name                      # a narrative sentence
    assert 'class="cx-note"' in html, name          # the method note
    assert "<table " in html, name


def test_figures_are_embedded_where_useful(rendered):
    for name in ("alerts", "service_levels", "journey", "scorecard", "voice", "segments"):
        assert "data:image/png;base64," in rendered[(None, name)], name


# --------------------------------------------------------------------------- alerts
def _alert_rows(html: str, label: str) -> list[list[str]]:
    return [r for r in _rows(html) if r and r[0] == label]


def test_gz01_nps_drop_alert_in_company_and_gz01_reports(rendered, sample_truth, contexts):
    from cxlab.metrics import nps

    drop = sample_truth["nps_drop"]
    assert drop["branch"] == "GZ01" and drop["period"] == PERIOD
    # the sample params weight the reports: the alert shows the weighted NPS of GZ01's rows
    # (unweighted 39.6 → 4.0, the planted drop)
    ctx = contexts["GZ01"]
    w = nps(ctx.responses, score="ltr", by="period", weight=ctx.weight).set_index("period")["nps"]
    after, before = w[ctx.period], w[ctx.previous]
    assert after == pytest.approx(drop["sample_after"], abs=2)   # near the planted values
    assert before == pytest.approx(drop["sample_before"], abs=2)
    assert f"{after:.1f}" != f"{drop['sample_after']:.1f}"         # but not the unweighted
    for scope in (None, "GZ01"):
        html = rendered[(scope, "alerts")]
        rows = [r for r in _alert_rows(html, "NPS 环比显著下降") if "广州分公司" in r and len(r) >= 8]
        assert rows, scope
        assert f"{after:.1f}" in rows[0] and f"{before:.1f}" in rows[0]
        assert "广州分公司NPS 环比显著下降" in _text(html)   # stated in the narrative too


def test_branch_alerts_show_only_the_branch(rendered, contexts):
    org = contexts[None].org
    others = [b for r in org.regions for b in r.branches if b.code != "GZ01"]
    html = rendered[("GZ01", "alerts")]
    text = _text(html)
    assert "广州分公司" in text
    for b in others:
        assert b.name not in text and b.code not in text, b.code
    # the company report does show other branches' alerts
    company = _text(rendered[(None, "alerts")])
    assert sum(b.name in company for b in others) >= 3


def test_gz01_report_never_names_another_branch(rendered, contexts):
    org = contexts[None].org
    others = [b for r in org.regions for b in r.branches if b.code != "GZ01"]
    for name in SECTIONS:
        text = _text(rendered[("GZ01", name)])
        for b in others:
            assert b.name not in text, (name, b.name)


def test_closure_table_counts_add_up(rendered):
    rows = _rows(rendered[(None, "alerts")])
    head = next(r for r in rows if r and r[0] == "分支机构" and "闭环率" in r)
    body = [dict(zip(head, r, strict=True)) for r in rows if len(r) == len(head) and r[0].endswith("分公司")]
    total = next(dict(zip(head, r, strict=True)) for r in rows if r and r[0] == "全公司合计")
    as_int = lambda v: int(v.replace(",", ""))  # noqa: E731
    for row in body + [total]:
        assert as_int(row["预警数"]) == as_int(row["已关闭"]) + as_int(row["处理中/待处理"]) + as_int(row["未建单"])
    assert as_int(total["预警数"]) == sum(as_int(r["预警数"]) for r in body)


# --------------------------------------------------------------------------- KPIs, SLAs, audits
def test_operations_kpis_flag_gz01(rendered, contexts):
    from cxlab.metrics import nps as nps_metric

    rows = {r[0]: r for r in _rows(rendered[("GZ01", "operations_kpis")])}
    nps = rows["净推荐值(NPS)"]
    # the sample params weight the reports (params/weighting.yaml): the weighted NPS (3.6;
    # 4.0 unweighted)
    ctx = contexts["GZ01"]
    want = nps_metric(ctx.current, score="ltr", weight=ctx.weight).iloc[0]["nps"]
    # the KPI table judges NPS/CSAT with their sampling error: GZ01's interval lies below
    assert nps[1] == f"{want:.1f}" and nps[3] == "显著低于目标" and nps[6] == "<0.001"
    assert rows["客户满意度(CSAT)"][3] == "显著低于目标"
    assert "显著变化" in _text(rendered[("GZ01", "operations_kpis")])


def test_operations_kpis_targets_and_status_words(rendered, contexts):
    rows = {r[0]: r for r in _rows(rendered[(None, "operations_kpis")])}
    assert rows["客户满意度(CSAT)"][2] == "≥ 85%"
    assert rows["净推荐值(NPS)"][2] == "≥ 40 分"
    assert rows["投诉响应时间"][2] == "≤ 2 小时"
    assert rows["年度客户流失率"][2] == "< 10%"
    statuses = {r[3].split("(")[0] for r in rows.values() if r[0] != "指标"}
    assert statuses <= {"达标", "未达标", "无数据", "样本不足", "—", "显著低于目标",
                        "低于目标,在抽样误差内"}
    # the company NPS is judged with its (weighted) 95 % interval against the target of 40
    from cxlab.metrics import nps
    from cxlab.ops import target_status

    n = nps(contexts[None].current, score="ltr", weight="weight").iloc[0]
    want = target_status(n["nps"], n["ci_low"], n["ci_high"], target=40)
    assert rows["净推荐值(NPS)"][3] == {"达标": "达标"}.get(want, want)
    assert want == "低于目标,在抽样误差内"  # the sample: 36.3, interval about 31-41


def test_company_service_levels_show_gz01_slowest_complaint_response(rendered):
    text = _text(rendered[(None, "service_levels")])
    assert "投诉首次响应最慢的是广州分公司" in text


def test_feedback_summary_sentence_follows_the_template(rendered, contexts):
    text = _text(rendered[(None, "service_levels")])
    inv = contexts[None].table("invitations", current=True)
    n = inv["customer_id"].nunique()
    assert f"共邀请 {n:,} 个客户参加本次体验调研" in text
    assert re.search(r"制造业行业的客户 \d+ 个\(大客户 \d+ 个,普通客户 \d+ 个\)", text)


def test_audits_flag_gz01(rendered):
    rows = {r[0]: r for r in _rows(rendered[(None, "audits")])}
    assert rows["广州分公司"][-1] == "未达标"
    assert "需整改的机构:广州分公司" in _text(rendered[(None, "audits")])


def test_ab_test_recovers_the_planted_direction(rendered, sample_truth):
    truth = sample_truth["ab_test"]
    text = _text(rendered[(None, "ab_tests")])
    assert f"话术 {truth['better']} 的解决方案满意度" in text
    assert f"{truth['sample']['B']:.1f}%" in text and f"{truth['sample']['A']:.1f}%" in text
    assert "公司层面" in _text(rendered[("GZ01", "ab_tests")])


# --------------------------------------------------------------------------- scorecard
def test_scorecard_total_is_the_sum_of_line_scores(rendered, contexts):
    from cxlab.config import load_params
    from cxlab.ops import ScorecardRules, scorecard

    rows = _rows(rendered[(None, "scorecard")])
    head = next(r for r in rows if "得分" in r and "满分" in r)
    body = [dict(zip(head, r, strict=True)) for r in rows if len(r) == len(head) and r != head]
    lines = [r for r in body if r["考核指标"] != "合计"]
    total = next(r for r in body if r["考核指标"] == "合计")
    rules = load_params(PARAMS / "scorecard.yaml", ScorecardRules)
    assert len(lines) == len(rules.kpis) == 10
    assert float(total["得分"]) == pytest.approx(sum(float(r["得分"]) for r in lines), abs=0.05)
    assert float(total["满分"]) == pytest.approx(100.0)
    sa = contexts[None].table("scorecard_actuals", current=True)
    expected = scorecard(sa[["measure", "value"]], rules=rules)
    assert float(total["得分"]) == pytest.approx(expected["score"].iloc[-1], abs=0.05)
    assert f"总分 {expected['score'].iloc[-1]:.1f} 分" in _text(rendered[(None, "scorecard")])


def test_scorecard_is_company_level(rendered):
    for b in ("GZ01", "XM01"):
        html = rendered[(b, "scorecard")]
        assert "公司层面" in _text(html) and "<table " not in html


# --------------------------------------------------------------------------- privacy and escaping
def test_no_respondent_phone_or_email_in_any_section(rendered, raw_pii):
    assert len(raw_pii) > 1000      # the raw files do carry personal data
    for key, html in rendered.items():
        visible = _IMG.sub(" ", html)
        leaked = {v for v in set(_PHONE.findall(unescape(visible))) | set(_EMAIL.findall(unescape(visible)))
                  if v in raw_pii}
        assert not leaked, (key, sorted(leaked)[:3])


def test_no_raw_markup_from_comments(rendered):
    for key, html in rendered.items():
        assert "<script" not in html.lower(), key
        assert "onerror" not in _IMG.sub(" ", html).lower() or "&lt;img" in html, key


def test_markup_and_pii_in_quoted_comments_are_escaped_and_redacted(contexts):
    ctx = contexts[None]
    resp = ctx.responses.copy()
    cur = resp.index[resp["period"] == PERIOD][:40]
    evil = "<script>alert('xss')</script>差评,质量太差,一直故障!联系我 13912345678 或 zhang.san@example.com"
    resp.loc[cur, "comment"] = evil
    html = voice_mod.voice(dataclasses.replace(ctx, responses=resp)).html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html                   # shown, as text
    assert "13912345678" not in html and "zhang.san@example.com" not in html
    assert "[电话]" in _text(html) and "[邮箱]" in _text(html)


def test_branch_quotes_come_from_the_branch_only(contexts):
    from cxlab.text import frequent_issues, load_taxonomy

    ctx = contexts["GZ01"]
    html = voice_mod.voice(ctx).html
    tbl = next(t for t in re.findall(r"<table .*?</table>", html, flags=re.S) if "客户原话 1" in t)
    rows = _rows(tbl)
    head = rows[0]
    i, j = head.index("客户原话 1"), head.index("客户原话 2")
    quotes = {c for r in rows[1:] for c in (r[i], r[j]) if c != "—"}
    assert quotes
    own = frequent_issues(ctx.current, by=None, top=5, examples=2,
                          taxonomy=load_taxonomy(PARAMS / "text.yaml"))
    allowed = set(own["example_1"].dropna()) | set(own["example_2"].dropna())
    assert quotes <= allowed
    assert set(ctx.current["branch"]) == {"GZ01"}


# --------------------------------------------------------------------------- small bases, empty data
def test_small_branch_is_flagged(rendered):
    t = {name: _text(rendered[("XM01", name)]) for name in SECTIONS}
    kpi_rows = {r[0]: r for r in _rows(rendered[("XM01", "operations_kpis")])}
    assert kpi_rows["净推荐值(NPS)"][3] == "样本不足" and kpi_rows["净推荐值(NPS)"][1] == "—"
    assert kpi_rows["客户满意度(CSAT)"][3] == "样本不足"
    for name in ("journey", "price_channel", "voice", "segments"):
        assert "不予报告" in t[name] and "<table " not in rendered[("XM01", name)], name
    assert "厦门分公司本期样本量少于 30" in _text(rendered[(None, "journey")])
    # XM01 is below min_n of the branch-level rules: no NPS/CSAT alerts for it
    assert not any(r and r[0] in ("NPS 未达标", "NPS 环比显著下降", "NPS 排名末位(需整改)")
                   for r in _rows(rendered[("XM01", "alerts")]))


def test_branch_alerts_from_the_aggregates_equal_alerts_on_the_rows(contexts):
    """The report evaluates the branch-level rules on the aggregates (weighted sums): the same
    alerts as evaluate_alerts on the company's respondent rows with their weights."""
    from cxlab.ops import evaluate_alerts
    from cxlab.report._sections_ops import _KPI_RULE_KINDS, _evaluate, load_alert_rules

    ctx = contexts[None]
    rules = load_alert_rules(ctx)
    kpi = {"version": 1, "rules": [r.model_dump() for r in rules.rules
                                   if r.kind in _KPI_RULE_KINDS]}
    resp = ctx.responses.drop(columns=["customer_id"])    # no overlap tests on either side
    agg = ctx.aggregates.drop(columns=["nps_change_pvalue", "csat_change_pvalue"],
                              errors="ignore")
    got = _evaluate(dataclasses.replace(ctx, aggregates=agg), rules)
    got = got[got["rule"].isin([r["id"] for r in kpi["rules"]])].reset_index(drop=True)
    want = evaluate_alerts({"responses": resp}, rules=kpi, targets=ctx.targets,
                           codebook=ctx.codebook, weight="weight")
    want = want[want["period"].astype(str) == ctx.period]
    assert len(got) >= 2
    key = ["rule", "branch"]
    g, w = got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True)
    assert g[key].equals(w[key])
    np.testing.assert_allclose(g["value"], w["value"], rtol=1e-9)
    np.testing.assert_allclose(g["pvalue"].fillna(-1), w["pvalue"].fillna(-1), rtol=1e-9)


def test_sections_do_not_crash_on_empty_tables(contexts):
    ctx = contexts[None]
    empty = dataclasses.replace(
        ctx, responses=ctx.responses.iloc[0:0], aggregates=ctx.aggregates.iloc[0:0],
        tables={k: pd.DataFrame() for k in ctx.tables})
    for name, fn in SECTIONS.items():
        html = fn(empty).html
        text = _text(html)
        if name in ("service_levels", "operations_kpis"):  # nothing at all without their tables
            assert text.strip() in ("", "本期无数据。"), (name, text[:200])
        else:
            assert "本期无数据" in text or "未触发任何预警" in text, (name, text[:200])
    branch = dataclasses.replace(contexts["GZ01"], responses=ctx.responses.iloc[0:0],
                                 tables={k: pd.DataFrame() for k in ctx.tables})
    for name, fn in SECTIONS.items():
        assert fn(branch).html or name == "service_levels", name


@pytest.mark.parametrize("branch", [None, "GZ01"])
def test_every_section_renders_for_the_first_period(warehouse, branch):
    """The first period has no previous one: 环比, trends and alerts must cope (this once broke
    every 2025Q4 report in `make reports`)."""
    from cxlab.plots import set_style
    from cxlab.report import load_context, sections

    set_style()
    first = sorted(pd.read_parquet(warehouse / "aggregates" / "branch_kpis.parquet")["period"])[0]
    ctx = load_context(period=first, branch=branch, warehouse=warehouse, params_dir=PARAMS)
    assert ctx.previous is None
    for name in sections.__all__:
        if name not in ("setup", "body") and not (name == "branch_comparison" and branch is None):
            html = getattr(sections, name)(ctx).html
            assert html.strip(), name


# --------------------------------------------------------------------------- figures = metrics
def _shown(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def _same(shown: float, value: float, decimals: int) -> bool:
    """``shown`` is ``value`` rounded to ``decimals`` (half a unit plus float noise)."""
    return abs(shown - value) <= 0.5 * 10 ** -decimals + 1e-9


def _cards(html: str) -> dict[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    return {c.find(class_="cx-kpi-label").get_text(): c.find(class_="cx-kpi-value").get_text()
            for c in soup.find_all(class_="cx-kpi")}


def _html_table(html: str, first_header: str) -> pd.DataFrame:
    from bs4 import BeautifulSoup

    for t in BeautifulSoup(html, "html.parser").find_all("table"):
        head = [th.get_text().strip() for th in t.find("thead").find_all("th")]
        if head and head[0] == first_header:
            return pd.DataFrame([[td.get_text(" ").strip() for td in tr.find_all("td")]
                                 for tr in t.find("tbody").find_all("tr")], columns=head)
    raise AssertionError(first_header)


@pytest.mark.parametrize("branch", [None, "GZ01"], ids=lambda b: b or "ALL")
def test_sample_headline_figures_equal_metrics(contexts, branch):
    """NPS, CSAT (top-2 of the 1-5 item) and CES (5-7 of 7) in the cards and the summary are
    cxlab.metrics on the scope's current responses, weighted."""
    from cxlab.metrics import csat, nps
    from cxlab.report import sections

    ctx = contexts[branch]
    cur = ctx.current
    assert ctx.weighted  # the sample params weight the reports (params/weighting.yaml)
    n = nps(cur, score="ltr", weight="weight").iloc[0]
    c = csat(cur, score="csat", scale=5, top_box=2, weight="weight").iloc[0]
    cards = _cards(sections.kpi_dashboard(ctx).html)
    assert _same(_shown(cards["NPS(目标 ≥ 40)"]), n["nps"], 1)
    assert _same(_shown(cards["CSAT(目标 ≥ 85%)"]), c["csat"], 1)
    ces = cur[cur["ces"].notna()]
    easy = 100 * np.average(ces["ces"] >= 5, weights=ces["weight"])  # weighted share of 5-7
    assert _same(_shown(cards["CES 容易占比(5–7 分)(加权)"]), easy, 1)
    assert cards["样本量(未加权)"] == f"{int(cur['ltr'].notna().sum()):,}"
    text = _text(sections.summary(ctx).html)
    m = re.search(r"NPS\)为 (-?[\d.]+)\(95% 置信区间 (-?[\d.]+)~(-?[\d.]+)\)", text)
    assert m and all(_same(float(v), n[k], 1) for v, k in zip(m.groups(), ("nps", "ci_low", "ci_high"),
                                                              strict=True))
    m = re.search(r"满意及非常满意占比\)为 ([\d.]+)%", text)
    assert m and _same(float(m.group(1)), c["csat"], 1)


def test_sample_league_table_equals_metrics_by_branch(contexts):
    from cxlab.metrics import csat, nps
    from cxlab.plots import set_style
    from cxlab.report import sections

    set_style()  # the league chart's Chinese labels

    ctx = contexts[None]
    cur = ctx.current
    assert ctx.weighted  # the sample params weight the reports: so is the league (issue 22)
    html = sections.league_table(ctx).html
    lt = _html_table(html, "分支机构").set_index("分支机构")
    by_n = nps(cur, score="ltr", by="branch", weight="weight").set_index("branch")
    by_c = csat(cur, score="csat", scale=5, top_box=2, by="branch",
                weight="weight").set_index("branch")
    unweighted = nps(cur, score="ltr", by="branch").set_index("branch")
    checked = differs = 0
    for code in ctx.org.branch_codes:
        row = lt.loc[ctx.branch_name(code)]
        assert int(row["样本量(未加权)"]) == by_n.loc[code, "n"]
        if by_n.loc[code, "n"] < 30:
            assert row["NPS"] == "—" and row["状态"] == "样本不足"
            continue
        assert _same(_shown(row["NPS"]), by_n.loc[code, "nps"], 1)
        assert _same(_shown(row["下限"]), by_n.loc[code, "ci_low"], 1)
        assert _same(_shown(row["CSAT%"]), by_c.loc[code, "csat"], 1)
        w = cur.loc[(cur["branch"] == code) & cur["ltr"].notna(), "weight"]
        assert _same(_shown(row["加权样本量"]), w.sum(), 1)
        assert _same(_shown(row["有效样本量"]), by_n.loc[code, "n_eff"], 1)
        differs += f"{unweighted.loc[code, 'nps']:.1f}" != row["NPS"]
        checked += 1
    assert checked >= 8 and differs >= 4
    assert "加权估计" in _text(html) and "线性化标准误" in _text(html)


def test_sample_branch_comparison_means_equal_item_means(contexts):
    from cxlab.report import sections

    ctx, company = contexts["GZ01"], contexts[None]
    html = sections.branch_comparison(ctx).html
    t = _html_table(html, "评价项目").set_index("评价项目")
    labels = ctx.codebook.labels()
    assert len(t) == len(ctx.codebook.attribute_items) == 17
    def wmean(frame, item):  # weighted like the report (the sample params weight it)
        ok = frame[item].notna()
        return np.average(frame.loc[ok, item], weights=frame.loc[ok, "weight"])

    for item in ctx.codebook.attribute_items:
        assert _same(_shown(t.loc[labels[item], "本机构均值"]), wmean(ctx.current, item), 2)
        assert _same(_shown(t.loc[labels[item], "全公司均值"]), wmean(company.current, item), 2)
    assert "加权" in _text(html)
    assert "五级评价(好=5 … 差=1)" in _text(html)  # derived from the verbal5 scale's labels
