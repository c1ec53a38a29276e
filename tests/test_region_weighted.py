"""Weighted region reports (issue 22 §1): with an enabled ``params/weighting.yaml`` the region
report's NPS/CSAT, trend, drivers and region-vs-rest test use the company-wide survey weights,
its company figures equal the company report's KPI table, and it states weighted base,
effective n and design effect beside the unweighted base — without any other branch's
respondent rows in the report."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
PERIOD = "2026Q3"
UNIT = "EAST"


@pytest.fixture(scope="module")
def warehouse(sample_warehouse, tmp_path_factory) -> Path:
    from cxlab.report import build_aggregates, sections

    sections.setup()  # the report's figure style (CJK font)

    wh = tmp_path_factory.mktemp("region_weighted") / "warehouse"
    shutil.copytree(sample_warehouse, wh)
    build_aggregates(wh, params_dir=PARAMS)
    return wh


@pytest.fixture(scope="module")
def company(warehouse):
    from cxlab.report import load_context

    return load_context(period=PERIOD, warehouse=warehouse, params_dir=PARAMS)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _cards(html: str) -> dict[str, str]:
    """Card label -> value; labels after NFKC (rendered pages typeset （） and ：)."""
    labels = [unicodedata.normalize("NFKC", t)
              for t in re.findall(r'class="cx-kpi-label">(.*?)</', html)]
    values = re.findall(r'class="cx-kpi-value[^"]*">(.*?)</', html)
    return dict(zip(labels, values, strict=True))


def _region_rows(company, rc) -> pd.DataFrame:
    """The region's rows of the period as the company report holds them (with its weights)."""
    cur = company.current
    return cur[cur["branch"].astype(str).isin(rc.branches)]


def test_region_weights_and_summary_equal_metrics_and_company_kpis(warehouse, company):
    from cxlab.metrics import nps
    from cxlab.report import region_sections as rs
    from cxlab.report._base import csat_result
    from cxlab.report._sections_exec import kpi_status_rows
    from cxlab.weighting import design_effect, kish_n_eff

    rc = rs.load_region_context(period=PERIOD, unit=UNIT, warehouse=warehouse,
                                params_dir=PARAMS)
    assert rc.weighted and rc.weight == "weight"
    assert set(rc.responses["branch"]) == set(rc.branches)       # only the region's rows
    # the same weights as the company report for the same rows
    mine = _region_rows(company, rc)
    m = rc.current.merge(mine[["response_id", "weight"]], on="response_id",
                         suffixes=("", "_c"), validate="1:1")
    assert len(m) == len(mine) == len(rc.current)
    assert (m["weight"] == m["weight_c"]).all()

    h = rs.headline(rc)
    want = nps(mine, score="ltr", weight="weight").iloc[0]
    assert h["region"]["nps"]["nps"] == pytest.approx(want["nps"], rel=1e-12)
    assert h["region"]["nps"]["ci_low"] == pytest.approx(want["ci_low"], rel=1e-12)
    unweighted = nps(mine, score="ltr").iloc[0]["nps"]
    assert abs(want["nps"] - unweighted) > 1e-3                  # the weights matter here
    cs = csat_result(mine, company, weight="weight").iloc[0]
    assert h["region"]["csat"]["csat"] == pytest.approx(cs["csat"], rel=1e-12)

    # the company figures are the company report's KPI table
    k = kpi_status_rows(company).set_index("id")
    for key in ("nps", "csat"):
        assert h["company"][key][key] == pytest.approx(k.loc[key, "value"], rel=1e-12)
        lo, hi = h["company"][key]["ci_low"], h["company"][key]["ci_high"]
        assert f"{lo:.1f}~{hi:.1f}" == k.loc[key, "ci"]

    # bases: unweighted, weighted, Kish n_eff, deff
    w = mine["weight"].to_numpy(dtype=float)
    assert h["n"] == int(mine["ltr"].notna().sum())
    assert h["w_sum"] == pytest.approx(w.sum(), rel=1e-12)
    assert h["n_eff"] == pytest.approx(kish_n_eff(w), rel=1e-12)
    assert h["n_eff"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum(), rel=1e-12)
    assert h["deff"] == pytest.approx(len(w) * (w ** 2).sum() / w.sum() ** 2, rel=1e-12)
    assert h["deff"] == pytest.approx(design_effect(w), rel=1e-12)

    # region vs the rest of the company: z-test of two weighted estimates, linearised SEs
    rest = company.current[~company.current["branch"].astype(str).isin(rc.branches)]
    r = nps(rest, score="ltr", weight="weight").iloc[0]
    z = (want["nps"] - r["nps"]) / np.hypot(want["se"], r["se"])
    assert h["test"]["pvalue"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert h["test"]["rest"] == pytest.approx(r["nps"], rel=1e-12)

    # what the reader sees
    html = rs.summary(rc).html
    cards = _cards(html)
    assert cards["区域 NPS(加权)"] == f"{want['nps']:.1f}"
    assert cards["全公司 NPS(加权)"] == f"{k.loc['nps', 'value']:.1f}"
    assert cards["区域 CSAT(%)(加权)"] == f"{cs['csat']:.1f}"
    assert cards["全公司 CSAT(%)(加权)"] == f"{k.loc['csat', 'value']:.1f}"
    assert cards["样本量(未加权)"] == f"{len(mine):,}"
    assert cards["加权样本量"] == f"{w.sum():,.1f}"
    assert cards["有效样本量 n_eff"] == f"{kish_n_eff(w):,.1f}"
    assert cards["设计效应 deff"] == f"{design_effect(w):.3f}"
    text = _text(html)
    assert f"{want['ci_low']:.1f}~{want['ci_high']:.1f}" in text
    assert k.loc["nps", "ci"] in text and k.loc["csat", "ci"] in text
    assert "加权估计" in text and "未加权样本量" in text and "设计效应" in text
    assert f"p={h['test']['pvalue']:.3f}" in text and "线性化标准误" in text


def test_trend_and_drivers_are_weighted(warehouse, company):
    from cxlab.drivers import key_drivers
    from cxlab.metrics import nps
    from cxlab.report import region_sections as rs
    from cxlab.report.sections import DRIVER_BOOTSTRAP, _driver_data

    rc = rs.load_region_context(period=PERIOD, unit=UNIT, warehouse=warehouse,
                                params_dir=PARAMS)
    k = rs.trend_data(rc).set_index(["unit", "period"])
    comp_by = nps(company.responses, score="ltr", by="period", weight="weight")
    for _, r in comp_by.iterrows():
        assert k.loc[("ALL", str(r["period"])), "nps"] == pytest.approx(r["nps"], rel=1e-12)
    allrows = company.responses[company.responses["branch"].astype(str).isin(rc.branches)]
    reg_by = nps(allrows, score="ltr", by="period", weight="weight")
    for _, r in reg_by.iterrows():
        assert k.loc[(UNIT, str(r["period"])), "nps"] == pytest.approx(r["nps"], rel=1e-12)
    child = rc.org.unit(UNIT).units[0].code
    sub = allrows[allrows["branch"].astype(str).isin(rc.org.scope(child))]
    ch = nps(sub, score="ltr", by="period", weight="weight").set_index("period")["nps"]
    for p, v in ch.items():
        assert k.loc[(child, str(p)), "nps"] == pytest.approx(v, rel=1e-12)
    html = rs.trend(rc).html
    assert "加权估计" in _text(html)

    # drivers: the branch report's weighted key drivers, over the region's rows
    out, items, _ = _driver_data(company)
    df = _region_rows(company, rc)[[out, *items, "weight"]].apply(
        pd.to_numeric, errors="coerce").dropna()
    ref = key_drivers(df.astype(float), outcome=out, drivers=items, weight="weight",
                      bootstrap=DRIVER_BOOTSTRAP, rng=0).table.sort_values("rank")
    unw = key_drivers(df.drop(columns="weight").astype(float), outcome=out, drivers=items,
                      bootstrap=0).table.sort_values("rank")
    assert not np.allclose(ref.set_index("driver")["share"],
                           unw.set_index("driver").loc[ref["driver"], "share"], atol=1e-6)
    shown = pd.read_html(__import__("io").StringIO(rs.drivers(rc).html))[0]
    assert list(shown["相对重要性(%)"].head(3)) == [round(100 * v, 1)
                                                  for v in ref["share"].head(3)]
    assert "按调查权重加权" in _text(rs.drivers(rc).html)


def test_region_figures_follow_the_weights(warehouse, tmp_path):
    """Changing the weights of one region branch's promoters moves the region's and the
    company's figures to the new weighted estimates (the weights table is what they read)."""
    from cxlab.metrics import nps
    from cxlab.report import load_context
    from cxlab.report import region_sections as rs
    from cxlab.report._aggregates import WEIGHTS

    wh = tmp_path / "warehouse"
    shutil.copytree(warehouse, wh)
    before = rs.headline(rs.load_region_context(period=PERIOD, unit=UNIT, warehouse=wh,
                                                params_dir=PARAMS))
    comp = load_context(period=PERIOD, warehouse=wh, params_dir=PARAMS)
    promoters = set(comp.current.loc[(comp.current["ltr"] >= 9)
                                     & (comp.current["branch"].astype(str) == "SH01"),
                                     "response_id"].astype(str))
    w = pd.read_parquet(wh / WEIGHTS)
    hit = (w["period"].astype(str) == PERIOD) & w["response_id"].astype(str).isin(promoters)
    assert hit.sum() == len(promoters) > 0
    w.loc[hit, "weight"] *= 3.0
    w.to_parquet(wh / WEIGHTS, index=False)

    rc = rs.load_region_context(period=PERIOD, unit=UNIT, warehouse=wh, params_dir=PARAMS)
    after = rs.headline(rc)
    comp = load_context(period=PERIOD, warehouse=wh, params_dir=PARAMS)
    mine = _region_rows(comp, rc)
    assert after["region"]["nps"]["nps"] == pytest.approx(
        nps(mine, score="ltr", weight="weight").iloc[0]["nps"], rel=1e-12)
    assert after["company"]["nps"]["nps"] == pytest.approx(
        nps(comp.current, score="ltr", weight="weight").iloc[0]["nps"], rel=1e-12)
    assert after["region"]["nps"]["nps"] > before["region"]["nps"]["nps"] + 2
    assert after["company"]["nps"]["nps"] > before["company"]["nps"]["nps"] + 0.5
    assert after["w_sum"] > before["w_sum"]


@pytest.mark.parametrize("weighting", [None, "version: 1\nenabled: false\nvariables: [branch]\n"])
def test_without_weighting_the_region_report_is_unweighted(warehouse, tmp_path, weighting):
    from cxlab.report import region_sections as rs
    from cxlab.report._units import region_league

    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    if weighting is None:
        (params / "weighting.yaml").unlink()
    else:
        (params / "weighting.yaml").write_text(weighting, encoding="utf-8")
    rc = rs.load_region_context(period=PERIOD, unit=UNIT, warehouse=warehouse, params_dir=params)
    assert not rc.weighted and "weight" not in rc.responses.columns
    h = rs.headline(rc)
    lg = region_league(rc.aggregates, rc.org, unit=UNIT, period=PERIOD).set_index("role")
    for key in ("nps", "csat"):  # the counts of the aggregates table
        assert h["region"][key][key] == pytest.approx(lg.loc["scope", key], rel=1e-12)
        assert h["company"][key][key] == pytest.approx(lg.loc["company", key], rel=1e-12)
    assert h["test"]["pvalue"] == pytest.approx(lg.attrs["pvalue_vs_rest"], rel=1e-12)
    for html in (rs.summary(rc).html, rs.trend(rc).html, rs.league(rc).html,
                 rs.drivers(rc).html):
        assert "加权" not in _text(html)
    assert _cards(rs.summary(rc).html)["样本量"] == f"{h['n']:,}"


@pytest.mark.slow
def test_rendered_region_report_is_weighted_and_holds_no_other_branch_rows(warehouse, company,
                                                                            tmp_path):
    """The region report as a user renders it (``cxlab reports --branch EAST``)."""
    from cxlab.cli import main
    from cxlab.io import load_responses
    from cxlab.report import region_sections as rs

    out = tmp_path / "reports"
    assert main(["reports", "--period", PERIOD, "--branch", UNIT, "--force", "--format", "html",
                 "--warehouse", str(warehouse), "--out", str(out)]) == 0
    html = (out / PERIOD / f"{UNIT}.html").read_text(encoding="utf-8")
    text = unicodedata.normalize("NFKC", _text(html))   # the page is typeset (，（）)
    rc = rs.load_region_context(period=PERIOD, unit=UNIT, warehouse=warehouse,
                                params_dir=PARAMS)
    h = rs.headline(rc)
    cards = _cards(html)
    assert cards["区域 NPS(加权)"] == f"{h['region']['nps']['nps']:.1f}"
    assert cards["全公司 NPS(加权)"] == f"{h['company']['nps']['nps']:.1f}"
    assert "Traceback" not in html and "Error" not in text
    assert "加权样本量" in text and "有效样本量" in text and "设计效应" in text
    # the league table is weighted too (issue 22) and says so
    assert "NPS、CSAT 为加权估计(由各机构的加权和汇总,与公司报告的分支机构排名及本报告摘要一致)" in text
    lg = rs.league(rc).html
    from cxlab.report._units import region_league

    kids = region_league(rc.aggregates, rc.org, unit=UNIT, period=PERIOD)
    kids = kids[(kids["role"] == "child") & ~kids["suppressed"]]
    assert len(kids) and all(f"{v:.1f}" in lg for v in kids["nps"])
    # no respondent row of any branch: ids, customer ids, verbatims (other branches' above all)
    resp = load_responses(warehouse, period=PERIOD)
    for col in ("response_id", "customer_id"):
        vals = resp[col].dropna().astype(str)
        assert not [v for v in vals if v in html], col
    other = resp[~resp["branch"].astype(str).isin(rc.branches)]
    texts = [c for c in other.columns if pd.api.types.is_string_dtype(other[c])
             and c not in ("response_id", "customer_id", "period", "branch", "channel",
                           "source_file")]
    verbatims = {str(v) for c in texts for v in other[c].dropna() if len(str(v)) >= 8}
    assert verbatims  # the sample has open answers in other branches
    assert not [v for v in verbatims if v in html]
    for b in set(rc.org.branch_codes) - set(rc.branches):
        assert rc.org.name_of(b) not in text, b


def test_region_vs_rest_test_is_svyby_contrast_in_r(warehouse, company, tmp_path):
    """The region-vs-rest NPS difference and its SE are R survey's domain contrast
    (``svyby(~y, ~region, svymean, covmat = TRUE)`` then ``svycontrast``) on the company's
    respondents with the report's weights: same difference; R's with-replacement variance
    carries the factor n/(n−1) of all respondents where cxlab's NPS SE carries each group's
    n_g/(n_g−1) (see :func:`cxlab.metrics.nps`, variance convention): with the factors
    exchanged the SEs are equal."""
    from test_r_survey import close, run_r

    from cxlab.metrics import nps
    from cxlab.report import region_sections as rs

    rc = rs.load_region_context(period=PERIOD, unit=UNIT, warehouse=warehouse,
                                params_dir=PARAMS)
    h = rs.headline(rc)
    cur = company.current[company.current["ltr"].notna()]
    y = np.select([cur["ltr"] >= 9, cur["ltr"] <= 6], [1, -1], 0)
    frame = pd.DataFrame({"y": y, "w": cur["weight"].to_numpy(dtype=float),
                          "reg": np.where(cur["branch"].astype(str).isin(rc.branches),
                                          "in", "out")})
    r = run_r(tmp_path, frame, """
des <- svydesign(ids = ~1, weights = ~w, data = d)
b <- svyby(~y, ~reg, des, svymean, covmat = TRUE)
ct <- svycontrast(b, c("in" = 1, "out" = -1))
out("diff", c(coef(ct), SE(ct)))
""")
    n = len(frame)
    me = nps(cur[cur["branch"].astype(str).isin(rc.branches)], score="ltr",
             weight="weight").iloc[0]
    rest = nps(cur[~cur["branch"].astype(str).isin(rc.branches)], score="ltr",
               weight="weight").iloc[0]
    # cxlab's SEs carry n_g/(n_g−1) per group (the variance convention of cxlab.metrics.nps);
    # R's one design carries n/(n−1) of all respondents: take the factors off, put R's on
    se0 = np.hypot(me["se"] * np.sqrt((me["n"] - 1) / me["n"]),
                   rest["se"] * np.sqrt((rest["n"] - 1) / rest["n"])) / 100
    close([(h["region"]["nps"]["nps"] - h["test"]["rest"]) / 100, se0 * np.sqrt(n / (n - 1))],
          r["diff"])
    se = np.hypot(me["se"], rest["se"]) / 100
    z = (h["region"]["nps"]["nps"] - h["test"]["rest"]) / 100 / se
    assert h["test"]["pvalue"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
