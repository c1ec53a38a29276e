"""Reports that fit the questionnaire: params/report.yaml (sections, order, titles, intros),
sections shown only when their data exist, and the figures they show equal cxlab.metrics on
the same slice.

Two small projects are built from scratch (tests/_minimal_project.py), ingested and rendered
with the real templates (company + one branch, HTML): a minimal questionnaire with the
recommend question, three ratings and a comment (no CRM, logs, Kano, targets or alerts), and a
drafted one without a recommend question (1-7 satisfaction with top box 3, three ratings, a
single-choice question).
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from cxlab.errors import ParamsError

# the project builder lives beside this file (loaded by path: tests/ is not a package)
_spec = importlib.util.spec_from_file_location("_minimal_project",
                                               Path(__file__).with_name("_minimal_project.py"))
mini = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mini)

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026Q3"


# --------------------------------------------------------------------------- helpers
#: The report body sets Chinese text with full-width ：，；（）; the assertions are in ASCII.
_ASCII = str.maketrans("：，；（）", ":,;()")


def _bs(html: str) -> BeautifulSoup:
    """Parsed HTML with the body's full-width punctuation folded to ASCII."""
    return BeautifulSoup(html.translate(_ASCII), "html.parser")


def _soup(path: Path) -> BeautifulSoup:
    return _bs(path.read_text(encoding="utf-8"))


def _headings(soup: BeautifulSoup) -> list[str]:
    return [h.get_text().rstrip("¶").strip() for h in soup.find_all("h2")]


def _cards(soup: BeautifulSoup) -> dict[str, str]:
    return {c.find(class_="cx-kpi-label").get_text(): c.find(class_="cx-kpi-value").get_text()
            for c in soup.find_all(class_="cx-kpi")}


def _card(soup: BeautifulSoup, prefix: str) -> str:
    hits = [v for k, v in _cards(soup).items() if k.startswith(prefix)]
    assert len(hits) == 1, (prefix, _cards(soup))
    return hits[0]


def _table(soup_or_tag, first_header: str) -> pd.DataFrame:
    """The table whose first header cell is ``first_header``, as text cells."""
    for t in soup_or_tag.find_all("table"):
        head = [th.get_text().strip() for th in t.find("thead").find_all("th")]
        if head and head[0] == first_header:
            rows = [[td.get_text(" ").strip() for td in tr.find_all("td")]
                    for tr in t.find("tbody").find_all("tr")]
            return pd.DataFrame(rows, columns=head)
    raise AssertionError(f"no table starting with {first_header!r}")


def _section(soup: BeautifulSoup, title_part: str) -> BeautifulSoup:
    """The HTML between the h2 containing ``title_part`` and the next h2."""
    h2 = [h for h in soup.find_all("h2") if title_part in h.get_text()]
    assert len(h2) == 1, (title_part, _headings(soup))
    parts = []
    for sib in h2[0].next_siblings:
        if getattr(sib, "name", None) == "h2":
            break
        parts.append(str(sib))
    return _bs("".join(parts))


def _f(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def _same(shown: float, value: float, decimals: int) -> bool:
    """``shown`` is ``value`` rounded to ``decimals`` (half a unit, plus float noise: 3.675 may
    print as 3.67 or 3.68 depending on its last bit)."""
    return abs(shown - value) <= 0.5 * 10 ** -decimals + 1e-9


def _render(tmp_path_factory, kind: str, *, report_yaml: str | None = None):
    from cxlab.report import render_all

    base = tmp_path_factory.mktemp(f"mini_{kind}")
    params, wh, answers = mini.build(base, kind, report_yaml=report_yaml)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        summary = render_all(periods=[PERIOD], branches=["ALL", "B1"], warehouse=wh,
                             output_dir=base / "reports", params_dir=params, formats=("html",),
                             progress=False)
    finally:
        os.chdir(cwd)
    assert not summary.failed, summary.summary()
    return {"params": params, "warehouse": wh, "answers": answers, "out": base / "reports",
            "current": answers[answers["response_id"].str.startswith(PERIOD)].assign(
                branch=lambda d: d["branch"].map({v: k for k, v in mini.NAMES.items()}))}


@pytest.fixture(scope="module")
def nps_project(tmp_path_factory):
    return _render(tmp_path_factory, "nps")


@pytest.fixture(scope="module")
def no_nps_project(tmp_path_factory):
    return _render(tmp_path_factory, "no_nps")


def _no_empty_sections(soup: BeautifulSoup) -> None:
    for title in _headings(soup):
        body = _section(soup, title)
        assert body.get_text().strip(), f"empty section {title!r}"


def _numbered(headings: list[str]) -> list[str]:
    return [h.split("、", 1)[0] for h in headings if "、" in h]


# --------------------------------------------------------------------------- minimal, with NPS
def test_minimal_company_report_has_only_the_sections_its_data_support(nps_project):
    soup = _soup(nps_project["out"] / PERIOD / "ALL.html")
    assert _headings(soup) == [
        "摘要", "一、核心指标", "二、趋势与环比", "三、分支机构排名", "四、NPS 关键驱动因素",
        "五、重要性–表现分析(IPA)与主要问题", "六、客户之声:开放题反馈", "附录:术语表",
        "附录:数据来源与可追溯性"]
    _no_empty_sections(soup)
    text = soup.get_text()
    for absent in ("Kano", "客户分群", "预警", "服务水平", "考核", "A/B", "五级评价", "CSAT", "区域"):
        assert absent not in text, absent


def test_minimal_company_figures_equal_metrics(nps_project):
    from cxlab.metrics import nps

    cur = nps_project["current"]
    soup = _soup(nps_project["out"] / PERIOD / "ALL.html")
    whole = nps(cur, score="recommend").iloc[0]
    assert _same(_f(_card(soup, "NPS")), whole["nps"], 1)
    assert _card(soup, "有效样本") == f"{len(cur):,}"
    m = re.search(r"净推荐值\(NPS\)为 (-?[\d.]+)\(95% 置信区间 (-?[\d.]+)~(-?[\d.]+)\)", soup.get_text())
    assert m and all(_same(float(x), whole[k], 1)
                     for x, k in zip(m.groups(), ("nps", "ci_low", "ci_high"), strict=True))

    league = _table(_section(soup, "分支机构排名"), "分支机构").set_index("分支机构")
    assert "区域" not in league.columns and "CSAT%" not in league.columns
    by_branch = nps(cur, score="recommend", by="branch").set_index("branch")
    for code in ("B1", "B2"):
        assert _same(_f(league.loc[mini.NAMES[code], "NPS"]), by_branch.loc[code, "nps"], 1)
        assert int(league.loc[mini.NAMES[code], "样本量"]) == mini.SIZES[code]
    assert league.loc["三号店", "NPS"] == "—" and league.loc["三号店", "状态"] == "样本不足"

    trend = _table(_section(soup, "趋势与环比"), "期间").set_index("期间")
    per = nps(nps_project["answers"].assign(period=lambda d: d["response_id"].str[:6]),
              score="recommend", by="period").set_index("period")
    for p in mini.PERIODS:
        assert _same(_f(trend.loc[p, "NPS"]), per.loc[p, "nps"], 1)

    # drivers: R² of the OLS of the recommend score on the three ratings
    x = cur[["staff", "speed", "clean"]].to_numpy(float)
    y = cur["recommend"].to_numpy(float)
    design = np.column_stack([np.ones(len(y)), x])
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    r2 = 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))
    m = re.search(r"模型 R² = ([\d.]+)", _section(soup, "关键驱动因素").get_text())
    assert m and _same(float(m.group(1)), r2, 2)


def test_minimal_branch_report_figures_equal_metrics(nps_project):
    from cxlab.metrics import nps

    cur = nps_project["current"]
    own = cur[cur["branch"] == "B1"]
    soup = _soup(nps_project["out"] / PERIOD / "B1.html")
    assert _headings(soup) == [
        "摘要", "一、核心指标", "二、趋势与环比", "三、与全公司及其他机构的对比", "四、NPS 关键驱动因素",
        "五、重要性–表现分析(IPA)与主要问题", "六、客户之声:开放题反馈", "附录:术语表",
        "附录:数据来源与可追溯性"]
    _no_empty_sections(soup)
    assert _same(_f(_card(soup, "NPS")), nps(own, score="recommend").iloc[0]["nps"], 1)
    comp = _table(_section(soup, "对比"), "评价项目").set_index("评价项目")
    labels = {"staff": "店员专业", "speed": "结账快捷", "clean": "环境整洁"}
    for item, label in labels.items():
        assert _same(_f(comp.loc[label, "本机构均值"]), own[item].mean(), 2)
        assert _same(_f(comp.loc[label, "全公司均值"]), cur[item].mean(), 2)
    note = _section(soup, "对比").get_text()
    assert "同意程度(非常同意=5 … 非常不同意=1)" in note and "五级评价" not in note
    # the branch report never names another branch's respondents: only aggregates
    assert "二号店" in _table(_section(soup, "对比"), "分支机构")["分支机构"].tolist()


def test_minimal_index_shows_only_nps(nps_project):
    soup = _soup(nps_project["out"] / "index.html")
    head = [th.get_text() for th in soup.find("table").find("thead").find_all("th")]
    assert head == ["机构", "样本量", "NPS", "报告"]
    row = [td.get_text() for td in soup.find("table").find("tbody").find_all("tr")[0].find_all("td")]
    from cxlab.metrics import nps

    assert _same(_f(row[2]), nps(nps_project["current"], score="recommend").iloc[0]["nps"], 1)


# --------------------------------------------------------------------------- drafted, no NPS
def test_questionnaire_without_nps_gets_item_summary_and_crosstabs(no_nps_project):
    soup = _soup(no_nps_project["out"] / PERIOD / "ALL.html")
    assert _headings(soup) == [
        "摘要", "一、核心指标", "二、评价项目汇总", "三、单选题交叉分析", "四、满意度关键驱动因素",
        "五、重要性–表现分析(IPA)与主要问题", "附录:术语表", "附录:数据来源与可追溯性"]
    _no_empty_sections(soup)
    text = soup.get_text()
    assert "NPS" not in text and "推荐" not in text and "五级评价" not in text
    branch = _soup(no_nps_project["out"] / PERIOD / "B1.html")
    assert _headings(branch) == [
        "摘要", "一、核心指标", "二、评价项目汇总", "三、单选题回答分布", "四、与全公司及其他机构的对比",
        "五、满意度关键驱动因素", "六、重要性–表现分析(IPA)与主要问题", "附录:术语表",
        "附录:数据来源与可追溯性"]
    _no_empty_sections(branch)
    assert "NPS" not in branch.get_text()


def test_no_nps_figures_equal_metrics(no_nps_project):
    from cxlab.metrics import crosstab, csat, item_summary, wilson_interval

    cur = no_nps_project["current"]
    soup = _soup(no_nps_project["out"] / PERIOD / "ALL.html")
    # CSAT = top-3 box of the 1-7 item (its scale's top_box), not a hard-coded 4-5 of 5
    c = csat(cur, score="sat", scale=7, top_box=3).iloc[0]
    assert _same(_f(_card(soup, "CSAT")), c["csat"], 1)
    assert f"为 {c['csat']:.1f}%" in _section(soup, "摘要").get_text()
    assert "比较满意、满意及非常满意" in _section(soup, "摘要").get_text()

    items = _table(_section(soup, "评价项目汇总"), "评价项目").set_index("评价项目")
    labels = {"sat": "总体而言您对本店是否满意?", "staff": "店员专业", "speed": "结账快捷", "clean": "环境整洁"}
    assert items.index.tolist() == list(labels.values())  # codebook order
    agree = item_summary(cur, items=["staff", "speed", "clean"], scale=5).set_index("item")
    sat = item_summary(cur, items=["sat"], scale=7).set_index("item")
    for item, label in labels.items():
        ref = sat.loc[item] if item == "sat" else agree.loc[item]
        top = 100 * (cur[item] >= 5).mean() if item == "sat" else ref["top2"]
        assert int(items.loc[label, "回答数"]) == ref["n"]
        assert _same(_f(items.loc[label, "均值"]), ref["mean"], 2)
        assert _same(_f(items.loc[label, "好评率%"]), top, 1)
        lo, hi = wilson_interval(top / 100, ref["n"])
        assert items.loc[label, "好评率 95% 区间"] == f"{100 * lo:.1f}~{100 * hi:.1f}"

    ct = _table(_section(soup, "单选题交叉分析"), "选项").set_index("选项")
    assert ct.index.tolist() == ["日常采购", "促销活动", "退换货", "其他"]  # codebook option order
    # letters control the FDR over the table's pairwise tests (Benjamini–Hochberg by default)
    ref = crosstab(cur[cur["branch"].isin(["B1", "B2"])], row="visit", col="branch",
                   adjust="fdr_bh")
    assert "Benjamini–Hochberg" in _section(soup, "单选题交叉分析").get_text()
    for _, r in ref.iterrows():
        cell = ct.loc[r["row"], f"{mini.NAMES[r['col']]} ({r['letter']}) %"]
        assert _same(_f(cell.split()[0]), r["pct"], 1)
        assert cell.split()[1:] == ([r["sig"]] if r["sig"] else [])
    total = cur["visit"].value_counts(normalize=True)
    for answer in ct.index:
        assert _same(_f(ct.loc[answer, "合计%"]), 100 * total[answer], 1)
    assert "三号店样本量少于 30" in _section(soup, "单选题交叉分析").get_text()


def test_no_nps_branch_item_summary_against_company(no_nps_project):
    cur = no_nps_project["current"]
    own = cur[cur["branch"] == "B1"]
    soup = _soup(no_nps_project["out"] / PERIOD / "B1.html")
    items = _table(_section(soup, "评价项目汇总"), "评价项目").set_index("评价项目")
    assert _same(_f(items.loc["店员专业", "均值"]), own["staff"].mean(), 2)
    assert _same(_f(items.loc["店员专业", "全公司均值"]), cur["staff"].mean(), 2)
    assert _same(_f(items.loc["总体而言您对本店是否满意?", "全公司好评率%"]), 100 * (cur["sat"] >= 5).mean(), 1)
    dist = _table(_section(soup, "单选题回答分布"), "选项").set_index("选项")
    counts = own["visit"].value_counts()
    assert {k: int(v) for k, v in dist["人数"].items()} == {k: int(counts[k]) for k in dist.index}


def test_no_nps_index_shows_csat_only(no_nps_project):
    soup = _soup(no_nps_project["out"] / "index.html")
    head = [th.get_text() for th in soup.find("table").find("thead").find_all("th")]
    assert head == ["机构", "样本量", "CSAT(%)", "报告"]


# --------------------------------------------------------------------------- params/report.yaml
def _ctx(project, branch=None):
    from cxlab.report import load_context

    return load_context(period=PERIOD, branch=branch, warehouse=project["warehouse"],
                        params_dir=project["params"])


def _cfg(text: str, tmp_path: Path):
    from cxlab.report._layout import load_report_config

    (tmp_path / "report.yaml").write_text(text, encoding="utf-8")
    return load_report_config(tmp_path)


def test_report_yaml_orders_renames_and_switches_sections_off(nps_project, tmp_path):
    from cxlab.plots import set_style
    from cxlab.report._layout import body

    set_style()
    cfg = _cfg("""version: 1
company:
  sections:
    - summary
    - {id: voice, title: 顾客原声, intro: ""}
    - {id: kano, title: 功能需求}            # no Kano pairs: left out whatever the file says
    - {id: trend, enabled: false}
    - {id: items, enabled: true, intro: "各题**得分**。"}
    - kpis
    - provenance
""", tmp_path)
    soup = _bs(body(_ctx(nps_project), config=cfg).html)
    assert _headings(soup) == ["摘要", "一、顾客原声", "二、评价项目汇总", "三、核心指标",
                               "附录:数据来源与可追溯性"]
    voice = _section(soup, "顾客原声").get_text()
    assert "本期共收到" in voice and "做主题归类" not in voice  # the built-in intro switched off
    assert "做主题归类" in _bs(body(_ctx(nps_project), config=None).html).get_text()
    assert "<strong>得分</strong>" in str(_section(soup, "评价项目汇总"))
    items = _table(_section(soup, "评价项目汇总"), "评价项目").set_index("评价项目")
    cur = nps_project["current"]
    assert _same(_f(items.loc["店员专业", "均值"]), cur["staff"].mean(), 2)


def test_report_yaml_branch_layout_is_separate(nps_project, tmp_path):
    from cxlab.report._layout import shown_sections

    cfg = _cfg("version: 1\nbranch:\n  sections: [league, summary]\n", tmp_path)
    ids = [s.id for s, _ in shown_sections(_ctx(nps_project, "B1"), cfg)]
    assert ids == ["league", "summary"]
    company = [s.id for s, _ in shown_sections(_ctx(nps_project), cfg)]  # built-in for company
    assert company == ["summary", "kpis", "trend", "league", "drivers", "ipa", "voice", "glossary",
                       "provenance"]


@pytest.mark.parametrize(("text", "message"), [
    ("version: 1\ncompany:\n  sections: [summary, nps_trend]\n",
     r"report\.yaml: company\.sections\.1\.id: Input should be 'summary', 'kpis', 'items', .*"
     r"'provenance' \(got 'nps_trend'\)$"),
    ("version: 1\nbranch:\n  sections: [summary, scorecard]\n",   # company-level only
     r"report\.yaml: branch\.sections\.1\.id: Input should be .*'price_channel', 'glossary' or "
     r"'provenance' "
     r"\(got 'scorecard'\)$"),
    ("version: 1\ncompany:\n  sections: [summary, kpis, summary]\n",
     r"report\.yaml: company\.sections: .*section 'summary' listed twice$"),
    ("version: 1\ncompany:\n  sections:\n    - {id: kpis, titel: 指标}\n",
     r"report\.yaml: company\.sections\.0\.titel: unknown key$"),
    ("version: 2\n", r"report\.yaml: version: Input should be 1 \(got 2\)$"),
])
def test_report_yaml_errors_are_one_line_naming_the_key(text, message, tmp_path):
    with pytest.raises(ParamsError, match=message) as info:
        _cfg(text, tmp_path)
    assert "\n" not in str(info.value)


def test_missing_report_yaml_gives_the_built_in_layout(tmp_path):
    from cxlab.report._layout import DEFAULT_LAYOUT, layout_for, load_report_config

    assert load_report_config(tmp_path) is None
    assert [s.id for s in layout_for("company", None)] == DEFAULT_LAYOUT["company"]
    assert "ab_tests" not in DEFAULT_LAYOUT["branch"] and "scorecard" not in DEFAULT_LAYOUT["branch"]


def test_sample_report_yaml_is_valid_and_lists_the_built_in_order():
    from cxlab.report._layout import DEFAULT_LAYOUT, layout_for, load_report_config

    cfg = load_report_config(ROOT / "params")
    for kind in ("company", "branch"):
        assert [s.id for s in layout_for(kind, cfg)] == DEFAULT_LAYOUT[kind]


def test_chinese_numerals():
    from cxlab.report._base import cn_number

    assert [cn_number(n) for n in (1, 9, 10, 11, 17, 20, 21, 99)] == [
        "一", "九", "十", "十一", "十七", "二十", "二十一", "九十九"]


# --------------------------------------------------------------------------- aggregates and index
def test_aggregates_follow_the_codebook_roles(no_nps_project, nps_project):
    from cxlab.report import load_aggregates

    agg = load_aggregates(no_nps_project["warehouse"])
    assert not {"promoters", "passives", "detractors", "ces_n"} & set(agg.columns)
    cur = no_nps_project["current"]
    got = agg[agg["period"] == PERIOD].set_index("branch")
    for code, own in cur.groupby("branch"):
        assert got.loc[code, "n"] == len(own)                           # responses, no NPS item
        assert got.loc[code, "csat_top2"] == (own["sat"] >= 5).sum()   # top 3 of 7
        assert got.loc[code, "staff__top2"] == (own["staff"] >= 4).sum()
        assert got.loc[code, "staff__mean"] == pytest.approx(own["staff"].mean(), rel=1e-12)
    agg = load_aggregates(nps_project["warehouse"])
    assert "csat_n" not in agg.columns
    got = agg[agg["period"] == PERIOD].set_index("branch")
    cur = nps_project["current"]
    for code, own in cur.groupby("branch"):
        assert got.loc[code, "promoters"] == (own["recommend"] >= 9).sum()
        assert got.loc[code, "detractors"] == (own["recommend"] <= 6).sum()


def test_index_headline_without_nps_and_csat_is_the_pooled_item_top_box():
    from cxlab.report import headline_kpis

    agg = pd.DataFrame({"period": ["2026Q3"] * 2, "branch": ["B1", "B2"], "n": [40, 50],
                        "a__n": [40, 50], "a__top2": [10, 30], "b__n": [40, 48], "b__top2": [20, 24],
                        "a__mean": [3.0, 3.5], "b__mean": [3.2, 3.1]})
    k = headline_kpis(agg).set_index("branch")
    assert k["nps"].isna().all() and k["csat"].isna().all()
    assert k.loc["B1", "items_top"] == pytest.approx(100 * 30 / 80)
    assert k.loc["ALL", "items_top"] == pytest.approx(100 * 84 / 178)
    assert k.loc["ALL", "n"] == 90
    # weighted aggregates: the pooled share of the weighted top-box sums over the weight sums
    wagg = agg.assign(**{"a__wtop2": [12.0, 27.0], "a__wsum": [44.0, 46.0],
                         "b__wtop2": [18.0, 20.0], "b__wsum": [41.0, 45.0],
                         "a__wmean": [3.1, 3.4], "b__wmean": [3.2, 3.0]})
    k = headline_kpis(wagg).set_index("branch")
    assert k.loc["B1", "items_top"] == pytest.approx(100 * 30 / 85)
    assert k.loc["ALL", "items_top"] == pytest.approx(100 * 77 / 176)


def test_a_bad_report_yaml_stops_the_run_before_any_report(nps_project, tmp_path):
    import shutil

    from cxlab.report import render_all

    params = tmp_path / "params"
    shutil.copytree(nps_project["params"], params)
    (params / "report.yaml").write_text("version: 1\ncompany:\n  sections: [summary, nps_trend]\n",
                                        encoding="utf-8")
    with pytest.raises(ParamsError, match=r"report\.yaml: company\.sections\.1\.id: .*'nps_trend'"):
        render_all(periods=[PERIOD], warehouse=nps_project["warehouse"], output_dir=tmp_path / "out",
                   params_dir=params, formats=("html",), progress=False)
    assert not (tmp_path / "out" / PERIOD).exists()


# --------------------------------------------------------------------------- the real 问卷星 export
def test_real_wjx_export_gets_choice_tables_and_no_nps(tmp_path):
    """shared/real-exports/wjx (no recommend or rating question): the company report shows the
    answers to every choice question in questionnaire order, counted as in the raw file."""
    from cxlab.report import render_all

    if not mini.WJX_FILE.exists():
        pytest.fail(f"{mini.WJX_FILE} missing (the shared real exports)")
    params, wh = mini.build_wjx(tmp_path)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        summary = render_all(periods=[PERIOD], branches=["ALL"], warehouse=wh,
                             output_dir=tmp_path / "reports", params_dir=params,
                             formats=("html",), progress=False)
    finally:
        os.chdir(cwd)
    assert not summary.failed, summary.summary()
    soup = _soup(tmp_path / "reports" / PERIOD / "ALL.html")
    assert _headings(soup) == ["一、选择题回答分布", "附录:数据来源与可追溯性"]
    assert "NPS" not in soup.get_text() and "CSAT" not in soup.get_text()
    raw = pd.read_excel(mini.WJX_FILE)
    tables = {t.find("caption").get_text(): t for t in soup.find_all("table") if t.find("caption")}
    gender = _table(_bs(str(tables["性别(n = 800)"])), "选项").set_index("选项")
    counts = raw["3、性别 "].value_counts()
    assert gender.index.tolist() == ["男", "女"]
    assert {k: int(v) for k, v in gender["人数"].items()} == {k: int(counts[k]) for k in gender.index}
    age = _table(_bs(str(tables["年龄(n = 800)"])), "选项")
    assert age["选项"].tolist() == ["16~19岁", "20~24岁", "25~29岁", "30~34岁", "35~39岁", "40~49岁",
                                  "50~59岁", "60岁以上"]  # codebook order, not by frequency
    hobbies = _table(_bs(str(tables["兴趣爱好(多选,n = 800)"])), "选项").set_index("选项")
    chosen = raw["6、兴趣爱好"].str.split("┋")
    for option in ("运动", "美食", "手工艺"):
        k = int(chosen.map(lambda xs, o=option: o in xs).sum())
        assert int(hobbies.loc[option, "选择人数"]) == k
        assert _same(_f(hobbies.loc[option, "选择比例%"]), 100 * k / 800, 1)
    assert int(hobbies.loc["其他", "选择人数"]) == int(chosen.map(
        lambda xs: any(x.startswith("其他") for x in xs)).sum())


def test_alerts_without_a_ticket_log_have_no_closure_block(nps_project, tmp_path):
    """With alert rules and targets but no ticket log: the fired branch-level alerts, no
    closed-loop tracking, and no rule on CSAT (the questionnaire has none)."""
    import shutil

    from cxlab.plots import set_style
    from cxlab.report import load_context, sections
    from cxlab.report._layout import shown_sections

    set_style()
    params = tmp_path / "params"
    shutil.copytree(nps_project["params"], params)
    for name in ("alerts.yaml", "targets.yaml"):
        shutil.copy(ROOT / "params" / name, params / name)
    ctx = load_context(period=PERIOD, warehouse=nps_project["warehouse"], params_dir=params)
    titles = {s.id: sec.title(ctx) for s, sec in shown_sections(ctx)}
    assert titles["alerts"] == "预警" and titles["kpis"] == "核心指标与目标达成"
    assert "service_levels" not in titles and "audits" not in titles
    part = _section(_bs(sections.body(ctx).html), "预警")
    text = part.get_text()
    # detractor comments with complaint keywords are case alerts (the recommend item is read
    # through the codebook's role, not as ``ltr``); no closure block without a ticket log
    assert [h.get_text() for h in part.find_all("h3")] == [
        "预警概览", "机构层面预警(指标未达标、显著下滑、排名末位)", "个案预警(贬损者投诉、工单超时)"]
    assert "闭环率" not in text and "不做闭环跟踪" in text and "CSAT" not in text
    # B2's NPS is significantly below the target of 40 in the company's aggregates (the
    # sample alerts.yaml judges the target with its sampling error): its alert is listed
    from cxlab.metrics import nps

    cur = nps_project["current"]
    b2 = nps(cur[cur["branch"] == "B2"], score="recommend", level=0.95).iloc[0]
    assert b2["ci_high"] < 40
    assert "NPS 未达标" in text and "二号店" in text


def test_kpi_table_csat_is_the_top_box_of_the_items_own_scale(no_nps_project, tmp_path):
    """With targets, the KPI table's CSAT of a 1-7 item is its top-3 share (5-7), as in the card."""
    import shutil

    from cxlab.metrics import csat
    from cxlab.report import load_context, sections

    params = tmp_path / "params"
    shutil.copytree(no_nps_project["params"], params)
    shutil.copy(ROOT / "params" / "targets.yaml", params / "targets.yaml")
    ctx = load_context(period=PERIOD, warehouse=no_nps_project["warehouse"], params_dir=params)
    t = _table(_bs(sections.operations_kpis(ctx).html), "指标").set_index("指标")
    want = csat(no_nps_project["current"], score="sat", scale=7, top_box=3).iloc[0]["csat"]
    assert _same(_f(t.loc["客户满意度(CSAT)", "本期"]), want, 1)
    # no recommend question, no ticket log, no CRM: only the CSAT row
    assert t.index.tolist() == ["客户满意度(CSAT)"]
    cards = _cards(_bs(sections.kpi_dashboard(ctx).html))
    assert _same(_f(cards["CSAT(目标 ≥ 85%)"]), want, 1)
