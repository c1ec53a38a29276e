"""Weighted reports (issue 22 §1): with an enabled ``params/weighting.yaml`` the sample reports'
headline NPS/CSAT, trend, KPI table and drivers use the survey weights, computed company-wide
per period, and state weighted base, effective n and design effect beside the unweighted base.
Without the file (or with ``enabled: false``) reports are unweighted exactly as before."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
PERIOD = "2026Q3"


@pytest.fixture(scope="module")
def warehouse(sample_warehouse, tmp_path_factory) -> Path:
    from cxlab.report import build_aggregates

    wh = tmp_path_factory.mktemp("weighted") / "warehouse"
    shutil.copytree(sample_warehouse, wh)
    build_aggregates(wh, params_dir=PARAMS)
    return wh


def _params(tmp_path: Path, weighting: str | None) -> Path:
    p = tmp_path / "params"
    shutil.copytree(PARAMS, p)
    if weighting is None:
        (p / "weighting.yaml").unlink()
    else:
        (p / "weighting.yaml").write_text(weighting, encoding="utf-8")
    return p


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _cards(html: str) -> dict[str, str]:
    labels = re.findall(r'class="cx-kpi-label">(.*?)</', html)
    values = re.findall(r'class="cx-kpi-value[^"]*">(.*?)</', html)
    return dict(zip(labels, values, strict=True))


def test_weights_are_the_company_weights_per_period(warehouse):
    from cxlab.io import load_responses, load_table
    from cxlab.report import load_context
    from cxlab.weighting import load_weighting, weights_by_period

    comp = load_context(period=PERIOD, warehouse=warehouse, params_dir=PARAMS)
    assert comp.weighted and "weight" in comp.responses.columns
    resp = load_responses(warehouse)
    w, diag = weights_by_period(resp, load_table(warehouse, "customers"),
                                load_weighting(PARAMS / "weighting.yaml"))
    ref = resp.assign(w=w.to_numpy())[["period", "response_id", "w"]]
    got = comp.responses.merge(ref, on=["period", "response_id"], validate="1:1")
    assert len(got) == len(comp.responses)
    np.testing.assert_allclose(got["weight"], got["w"], rtol=0, atol=1e-12)
    # a branch report reads only its own rows, with the company run's weights
    code = comp.org.branch_codes[0]
    br = load_context(period=PERIOD, branch=code, warehouse=warehouse, params_dir=PARAMS)
    assert set(br.responses["branch"].astype(str)) == {code}
    m = br.responses.merge(comp.responses[["period", "response_id", "weight"]],
                           on=["period", "response_id"], suffixes=("", "_c"))
    assert len(m) == len(br.responses)
    assert (m["weight"] == m["weight_c"]).all()
    assert comp.weighting.set_index("period").loc[PERIOD, "n_eff"] == pytest.approx(
        diag.set_index("period").loc[PERIOD, "n_eff"], rel=1e-12)


def test_weighted_headline_equals_metrics_and_states_deff(warehouse):
    from cxlab.metrics import nps
    from cxlab.report import load_context, sections
    from cxlab.report._base import csat_result

    for branch in (None, "GZ01"):
        ctx = load_context(period=PERIOD, branch=branch, warehouse=warehouse, params_dir=PARAMS)
        html = sections.kpi_dashboard(ctx).html
        cards = _cards(html)
        cur = ctx.current
        want = nps(cur, score="ltr", weight="weight").iloc[0]
        unweighted = nps(cur, score="ltr").iloc[0]
        nps_card = next(v for k, v in cards.items() if k.startswith("NPS"))
        assert nps_card == f"{want['nps']:.1f}"
        # the sample's weights are close to 1 (efficiency > 99 %): the shown value is checked
        # unrounded through the headline the sections share
        h = sections._headline(ctx)
        assert h["nps"]["nps"] == pytest.approx(want["nps"], rel=1e-12)
        assert abs(want["nps"] - unweighted["nps"]) > 1e-3  # the weights matter
        cs = csat_result(cur, ctx, weight="weight").iloc[0]
        csat_card = next(v for k, v in cards.items() if k.startswith("CSAT"))
        assert csat_card == f"{cs['csat']:.1f}%"
        assert h["csat"]["csat"] == pytest.approx(cs["csat"], rel=1e-12)
        w = cur["weight"].to_numpy()
        assert float(cards["有效样本量 n_eff"].replace(",", "")) == pytest.approx(
            w.sum() ** 2 / (w**2).sum(), abs=0.05)
        assert float(cards["设计效应 deff"]) == pytest.approx(len(w) * (w**2).sum() / w.sum() ** 2,
                                                            abs=5e-4)
        assert float(cards["加权样本量"].replace(",", "")) == pytest.approx(w.sum(), abs=0.05)
        assert int(cards["样本量(未加权)"].replace(",", "")) == int(cur["ltr"].notna().sum())
        text = _text(html)
        assert "未加权样本量" in text and "设计效应" in text
        if branch is None:  # the company figures are the weighting run's diagnostics
            d = ctx.weighting.set_index("period").loc[PERIOD]
            assert f"{d['n_eff']:,.1f}" in text and f"{d['design_effect']:.3f}" in text
        summary = _text(sections.summary(ctx).html)
        assert f"为 {want['nps']:.1f}(" in summary
        trend = _html_trend(sections.trend(ctx).html)
        by = nps(ctx.responses, score="ltr", by="period", weight="weight").set_index("period")
        for period, value in trend.items():
            assert value == pytest.approx(by.loc[period, "nps"], abs=0.05)


def _html_trend(html: str) -> dict[str, float]:
    from io import StringIO

    t = pd.read_html(StringIO(html), match="期间")[0]
    return dict(zip(t["期间"].astype(str), t["NPS"].astype(float), strict=True))


@pytest.mark.parametrize("weighting", [None, "version: 1\nenabled: false\nvariables: [branch]\n"])
def test_without_weighting_the_report_is_unweighted(warehouse, tmp_path, weighting):
    from cxlab.metrics import nps
    from cxlab.report import load_context, sections

    params = _params(tmp_path, weighting)
    ctx = load_context(period=PERIOD, warehouse=warehouse, params_dir=params)
    assert not ctx.weighted and "weight" not in ctx.responses.columns
    html = sections.kpi_dashboard(ctx).html
    cards = _cards(html)
    want = nps(ctx.current, score="ltr").iloc[0]
    assert float(next(v for k, v in cards.items() if k.startswith("NPS"))) == pytest.approx(
        want["nps"], abs=0.05)
    assert "加权" not in _text(html) and "有效样本" in cards
    assert "加权" not in _text(sections.trend(ctx).html)


# --------------------------------------------------------------------------- the sample body
@pytest.fixture(scope="module")
def company_body(warehouse) -> tuple[object, str]:
    from cxlab.report import load_context, sections

    sections.setup()
    ctx = load_context(period=PERIOD, warehouse=warehouse, params_dir=PARAMS)
    return ctx, sections.body(ctx).html


def _sections_text(html: str) -> dict[str, str]:
    """Visible text of each section (heading → text), images dropped."""
    import html as h

    parts = re.split(r"<h2[^>]*>", html)
    out = {}
    for part in parts[1:]:
        title, _, rest = part.partition("</h2>")
        title = h.unescape(re.sub(r"<[^>]+>", "", title)).rstrip("¶")
        out[title] = h.unescape(re.sub(r"<[^>]+>", "\n", re.sub(r"<img[^>]*>", "", rest)))
    return out


CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u201c\u201d"


def test_body_uses_full_width_punctuation_beside_chinese(company_body):
    _, html = company_body
    texts = _sections_text(html)
    assert len(texts) >= 10
    for title, text in [("", " ".join(texts))] + list(texts.items()):
        bad = re.findall(rf"[{CJK}][ \t]*[:,;()]|[(][^()\n]*[{CJK}]", title + "\n" + text)
        assert not bad, (title[:20], bad[:5])
    # full-width forms are there, and numbers keep their ASCII separators
    joined = " ".join(texts.values())
    assert "：" in joined and "（" in joined and "，" in joined
    assert re.search(r"\d,\d{3}", joined)  # 1,234-style thousands stay ASCII


def test_footnotes_name_no_internal_file_paths(company_body):
    _, html = company_body
    texts = _sections_text(html)
    for title, text in texts.items():
        if "数据来源与可追溯性" in title:  # the lineage appendix lists the files on purpose
            continue
        for word in ("params/", ".yaml", "data/"):
            assert word not in text, (title, word)


def test_glossary_explains_the_english_terms(company_body):
    _, html = company_body
    texts = _sections_text(html)
    titles = list(texts)
    gloss = [t for t in titles if "术语表" in t]
    assert len(gloss) == 1 and titles.index(gloss[0]) == len(titles) - 2  # before provenance
    g = texts[gloss[0]]
    for term in ("NPS", "VIF", "LMG", "Holm", "Benjamini–Hochberg", "Fong", "Better / Worse",
                 "Mann–Whitney U", "设计效应", "有效样本量"):
        assert term in g, term


def test_executive_page_is_first_with_kpis_changes_issues_alerts(company_body):
    from cxlab.metrics import nps
    from cxlab.ops import target_status

    ctx, html = company_body
    texts = _sections_text(html)
    first_title, first = next(iter(texts.items()))
    assert first_title == "摘要"
    for block in ("核心指标与目标", "显著变化", "三大问题", "未关闭预警"):
        assert block in first, block
    n = nps(ctx.current, score="ltr", weight="weight").iloc[0]
    want = target_status(n["nps"], n["ci_low"], n["ci_high"], target=40)
    assert want in {"达标", "显著低于目标", "低于目标，在抽样误差内",
                    "低于目标,在抽样误差内"}
    from cxlab.report._typography import cn_punct

    assert cn_punct(want) in first
    # the branch whose NPS the league table flags as a significant (adjusted) drop is named
    from cxlab.report.sections import _league

    lt = _league(ctx)
    assert lt["significant_drop"].any()  # the sample plants a drop (GZ01)
    for name in lt.loc[lt["significant_drop"], "branch_name"]:
        assert f"{name} NPS 较上期显著下降" in first


def test_alerts_table_has_raw_and_adjusted_p_and_states_the_tests(company_body):
    from io import StringIO

    from cxlab.report import sections

    ctx, _ = company_body
    html = sections.alerts(ctx).html
    t = pd.read_html(StringIO(html), match="阈值/上期值")[0]
    drops = t[t["预警规则"].str.contains("显著下降")]
    assert len(drops)  # the sample's planted drop (GZ01)
    for _, r in drops.iterrows():
        raw, adj = (float(str(v).lstrip("<")) for v in (r["p 值(未校正)"], r["p 值(校正后)"]))
        assert adj >= raw
    text = _text(html)
    assert "双侧检验(α = 0.05" in text and "Benjamini–Hochberg" in text
    assert "单侧检验(α = 0.025)" in text
