"""The dashboard's numbers equal the reports' for the same period and scope.

The sample warehouse (seed 0) with the sample params: ``params/weighting.yaml`` is enabled, so the
company and branch reports are weighted (raking to the CRM's branch × customer type). Each figure
is compared with the function the report itself prints it from:

- KPI NPS and CSAT (value, 95 % interval, unweighted base): :func:`cxlab.report._sections_exec.
  kpi_status_rows` (the report's 核心指标与目标 table) on :func:`cxlab.report.load_context`;
- the branch league (NPS, interval, CSAT, n): the report's league table (``sections._league``,
  weighted sums of the branch aggregates) and, for a region, the region report's
  ``region_league`` (weighted likewise);
- the region KPI: the region report's figures (``region_league``, weighted from the summed
  sums; the unweighted ones from the counts), and the weighted one against
  :func:`cxlab.metrics.nps` with the company report's weights on the region's rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.config import load_codebook, load_org, load_targets
from cxlab.dashboard import (
    Filters,
    User,
    company_benchmark,
    kpis,
    league,
    nps_by,
    open_warehouse,
    pivot,
    scope_for,
)

PERIOD = "2026Q3"


@pytest.fixture(scope="module", params=[None, True], ids=["auto", "cube"])
def built(sample_warehouse, request):
    """The sample warehouse opened as ``cxlab dashboard`` opens it (``cube=None``: at 3,200
    responses its cells are too many for the cube) and with the cube forced, so every equality
    below holds for the respondent-level queries and for the cube's sums."""
    from cxlab.report import build_aggregates

    build_aggregates(sample_warehouse, params_dir="params")
    org = load_org("params/org.yaml")
    wh = open_warehouse(sample_warehouse, codebook=load_codebook("params/codebook.yaml"), org=org,
                        params_dir="params", cube=request.param)
    assert (wh.cube is not None) == bool(request.param)
    yield sample_warehouse, wh, org
    wh.close()


def _scope(org, unit):
    return scope_for(User(name="u", password_hash="x", unit=unit), org)


def _period(p=PERIOD):
    return Filters(period_from=p, period_to=p)


def test_weighting_follows_the_project_params(built):
    warehouse, wh, org = built
    assert wh.weighted
    plain = open_warehouse(warehouse, codebook=wh.codebook, org=org)   # no params: unweighted
    try:
        assert not plain.weighted
    finally:
        plain.close()


@pytest.mark.parametrize("branch", [None, "SH01", "GZ01"])
def test_kpis_equal_the_report_kpi_table(built, branch):
    from cxlab.report import load_context
    from cxlab.report._sections_exec import kpi_status_rows

    warehouse, wh, org = built
    ctx = load_context(period=PERIOD, branch=branch, warehouse=warehouse, params_dir="params")
    assert ctx.weighted
    want = kpi_status_rows(ctx).set_index("id")
    got = kpis(wh, _period(), _scope(org, branch or "ALL"),
               load_targets("params/targets.yaml")).set_index("kpi")
    assert set(want.index) == {"nps", "csat"}
    for k in ("nps", "csat"):
        assert got.loc[k, "n"] == want.loc[k, "n"]
        assert got.loc[k, "value"] == pytest.approx(want.loc[k, "value"], rel=1e-9)
        lo, hi = (float(x) for x in want.loc[k, "ci"].split("~"))
        assert round(got.loc[k, "ci_low"], 1) == lo and round(got.loc[k, "ci_high"], 1) == hi
    # the weighted figure differs from the unweighted one (so the check above can fail)
    assert got.loc["nps", "value"] != pytest.approx(got.loc["nps", "value_unweighted"], abs=1e-6)
    # weighted base and Kish n_eff as the report's cards print them
    from cxlab.weighting import kish_n_eff

    w = ctx.current.loc[ctx.current[ctx.codebook.nps_item].notna(), "weight"].to_numpy(float)
    assert got.loc["nps", "w_sum"] == pytest.approx(w.sum(), rel=1e-9)
    assert got.loc["nps", "n_eff"] == pytest.approx(kish_n_eff(w), rel=1e-9)


def test_trend_equals_the_report_trend(built):
    from cxlab.metrics import nps
    from cxlab.report import load_context

    warehouse, wh, org = built
    ctx = load_context(period=PERIOD, branch="SH01", warehouse=warehouse, params_dir="params")
    want = nps(ctx.responses, score=ctx.codebook.nps_item, by="period", weight=ctx.weight)
    got = nps_by(wh, Filters(period_to=PERIOD), _scope(org, "SH01"), by=["period"])
    assert list(got["period"]) == list(want["period"])
    for c in ("n", "nps", "se", "ci_low", "ci_high", "pct_promoters"):
        assert got[c].to_numpy(float) == pytest.approx(want[c].to_numpy(float), rel=1e-9)


def test_company_league_equals_the_report_league(built):
    from cxlab.report import load_context
    from cxlab.report.sections import _league

    warehouse, wh, org = built
    ctx = load_context(period=PERIOD, warehouse=warehouse, params_dir="params")
    want = _league(ctx).set_index("branch")
    got = league(wh, _period(), _scope(org, "ALL")).set_index("branch")
    assert sorted(got.index) == sorted(want.index)
    for b in want.index:
        assert got.loc[b, "n"] == want.loc[b, "n"]
        for c in ("nps", "ci_low", "ci_high", "csat"):
            g, w = got.loc[b, c], want.loc[b, c]
            assert (np.isnan(g) and np.isnan(w)) or g == pytest.approx(w, rel=1e-9), (b, c)
        if not np.isnan(want.loc[b, "nps"]):  # the weighted base and effective n
            assert got.loc[b, "w_sum"] == pytest.approx(want.loc[b, "nps_w_sum"], rel=1e-9)
            assert got.loc[b, "n_eff"] == pytest.approx(want.loc[b, "nps_n_eff"], rel=1e-9)
    # both weighted (issue 22): the league differs from the unweighted NPS
    ok = got["nps"].notna()
    assert not np.allclose(got.loc[ok, "nps"], got.loc[ok, "nps_unweighted"], atol=1e-3)
    # the same order: best NPS first, small bases last
    ranked = want.dropna(subset=["nps"]).index.tolist()
    assert got.dropna(subset=["nps"]).index.tolist() == ranked


def test_region_figures_equal_the_region_report(built):
    from cxlab.metrics import nps
    from cxlab.report import load_context
    from cxlab.report._aggregates import load_aggregates
    from cxlab.report._units import region_league

    warehouse, wh, org = built
    agg = load_aggregates(warehouse)
    agg = agg.assign(period=agg["period"].astype(str), branch=agg["branch"].astype(str))
    rl = region_league(agg, org, unit="EAST", period=PERIOD).set_index("unit")
    east = _scope(org, "EAST")
    k = kpis(wh, _period(), east, load_targets("params/targets.yaml")).set_index("kpi")
    # the region's figures equal the region league's (weighted, from the summed weighted sums
    # of its branches), the unweighted ones its branch counts
    assert k.loc["nps", "n"] == rl.loc["EAST", "n"]
    assert k.loc["nps", "value"] == pytest.approx(rl.loc["EAST", "nps"], rel=1e-9)
    assert k.loc["csat", "value"] == pytest.approx(rl.loc["EAST", "csat"], rel=1e-9)
    e = rl.loc["EAST"]
    assert k.loc["nps", "value_unweighted"] == pytest.approx(
        100 * (e["promoters"] - e["detractors"]) / e["n"], rel=1e-9)
    assert k.loc["csat", "value_unweighted"] == pytest.approx(
        100 * e["csat_top2"] / e["csat_n"], rel=1e-9)
    # the weighted figures equal the region report's summary (weighted like the dashboard)
    from cxlab.report import region_sections as rs

    h = rs.headline(rs.load_region_context(period=PERIOD, unit="EAST", warehouse=warehouse,
                                           params_dir="params"))
    for kpi in ("nps", "csat"):
        want_r = h["region"][kpi]
        assert k.loc[kpi, "value"] == pytest.approx(want_r[kpi], rel=1e-9)
        assert k.loc[kpi, "ci_low"] == pytest.approx(want_r["ci_low"], rel=1e-9)
        assert k.loc[kpi, "ci_high"] == pytest.approx(want_r["ci_high"], rel=1e-9)
    # the weighted figure: the company report's weights on the region's respondents
    ctx = load_context(period=PERIOD, warehouse=warehouse, params_dir="params")
    cur = ctx.current[ctx.current["branch"].isin(east.branches)]
    want = nps(cur, score=ctx.codebook.nps_item, weight="weight").iloc[0]
    assert k.loc["nps", "value"] == pytest.approx(want["nps"], rel=1e-9)
    assert k.loc["nps", "ci_low"] == pytest.approx(want["ci_low"], rel=1e-9)
    # the region's league rows equal the region report's children
    lg = league(wh, _period(), east).set_index("branch")
    kids = rl[rl["role"] == "child"]
    assert sorted(lg.index) == sorted(kids.index)
    for b in kids.index:
        assert lg.loc[b, "n"] == kids.loc[b, "n"]
        if kids.loc[b, "suppressed"]:
            assert np.isnan(lg.loc[b, "nps"])
        else:
            assert lg.loc[b, "nps"] == pytest.approx(kids.loc[b, "nps"], rel=1e-9)
            assert lg.loc[b, "csat"] == pytest.approx(kids.loc[b, "csat"], rel=1e-9)
            assert lg.loc[b, "rank"] == kids.loc[b, "rank"]


def test_small_bases_are_suppressed_like_the_report(built):
    warehouse, wh, org = built
    # a slice below 30 answers: the value is blank, the base is shown
    resp = pd.DataFrame(wh.con.execute(
        "SELECT branch, channel, count(ltr) AS n FROM dash WHERE period = ? "
        "GROUP BY ALL ORDER BY n", [PERIOD]).df())
    small = resp[(resp["n"] > 0) & (resp["n"] < 30)]
    if small.empty:
        pytest.skip("no slice below 30 answers in the sample")
    r = small.iloc[0]
    k = kpis(wh, Filters(period_from=PERIOD, period_to=PERIOD, branches=(r["branch"],),
                         dims={"channel": (r["channel"],)}),
             _scope(org, "ALL"), load_targets("params/targets.yaml")).set_index("kpi")
    assert k.loc["nps", "n"] == r["n"] and np.isnan(k.loc["nps", "value"])
    assert k.loc["nps", "met"] is None


def test_cube_equals_the_respondents(built):
    """The cube's per-cell sums give the respondent-level figures (to rounding: the same sums
    added in another order) for every scope and filter, and keep the scope: a branch user's
    rows are that branch's only."""
    warehouse, wh, org = built
    plain = open_warehouse(warehouse, codebook=wh.codebook, org=org, params_dir="params",
                           cube=False)
    cube = open_warehouse(warehouse, codebook=wh.codebook, org=org, params_dir="params",
                          cube=True)
    targets = load_targets("params/targets.yaml")
    try:
        assert plain.cube is None and cube.cube == "dash_cube"
        n_cells = cube.con.execute("SELECT count(*) FROM dash_cube").fetchone()[0]
        assert n_cells < cube.con.execute("SELECT count(*) FROM dash").fetchone()[0]
        channels = [r[0] for r in plain.con.execute(
            "SELECT DISTINCT channel FROM dash WHERE channel IS NOT NULL ORDER BY 1").fetchall()]
        cases = [("ALL", Filters()), ("ALL", _period()),
                 ("EAST", Filters(period_from="2026Q2", dims={"channel": tuple(channels[:2])})),
                 ("SH01", Filters(period_to=PERIOD)),
                 ("ALL", Filters(branches=("SH01", "GZ01"), dims={"channel": (channels[0],)}))]
        for unit, f in cases:
            sc = _scope(org, unit)
            pairs = [(kpis(a, f, sc, targets), kpis(b, f, sc, targets)) for a, b in [(plain, cube)]]
            for by in ([], ["period"], ["region", "branch"], ["channel", "period"]):
                pairs.append((nps_by(plain, f, sc, by=by, with_csat=True),
                              nps_by(cube, f, sc, by=by, with_csat=True)))
            pairs.append((league(plain, f, sc), league(cube, f, sc)))
            pairs.append((pivot(plain, f, sc, rows="branch", cols="channel", measure="nps"),
                          pivot(cube, f, sc, rows="branch", cols="channel", measure="nps")))
            bench = company_benchmark(plain, f), company_benchmark(cube, f)
            assert bench[0]["n"] == bench[1]["n"]
            assert bench[0]["nps"] == pytest.approx(bench[1]["nps"], rel=1e-12)
            for want, got in pairs:
                assert list(got.columns) == list(want.columns) and len(got) == len(want)
                assert len(got) > 0, (unit, f)
                for c in want.columns:
                    if pd.api.types.is_numeric_dtype(want[c]) and want[c].dtype != bool:
                        assert got[c].to_numpy(float) == pytest.approx(
                            want[c].to_numpy(float), rel=1e-12, abs=1e-12, nan_ok=True), (unit, c)
                    else:
                        assert got[c].tolist() == want[c].tolist(), (unit, c)
            # the scope holds on the cube too
            by_branch = nps_by(cube, f, sc, by=["branch"])
            assert set(by_branch["branch"]) <= set(sc.branches)
        sh = nps_by(cube, Filters(branches=("GZ01",)), _scope(org, "SH01"), by=["branch"])
        assert set(sh["branch"]) == {"SH01"}      # a branch outside the scope is dropped
    finally:
        plain.close()
        cube.close()


def test_pivot_levels_in_their_natural_order(built):
    """Pivot rows/columns and filter options follow the dimension's natural order (value tiers
    high → low, a codebook item's options in questionnaire order, the org's branch order), and
    the values stay with their own cells."""
    from cxlab.dashboard import pivot_wide

    _, wh, org = built
    boss = _scope(org, "ALL")
    f = _period()
    long = pivot(wh, f, boss, rows="branch", cols="value_tier", measure="count")
    wide = pivot_wide(long, rows="branch", cols="value_tier")
    assert list(wide.columns) == [t for t in ("高价值", "中价值", "低价值") if t in set(long["value_tier"])]
    assert len(wide.columns) == 3
    assert list(wide.index) == [b for b in org.branch_codes if b in set(long["branch"])]
    for _, r in long.iterrows():
        assert wide.loc[r["branch"], r["value_tier"]] == r["value"]
    product = next(i for i in wh.codebook.items if i.id == "product")
    options = wh.codebook.scales[product.scale].options
    by_product = pivot(wh, f, boss, rows="product", cols=None, measure="nps")
    got = [p for p in by_product["product"] if pd.notna(p)]
    assert got == [o for o in options if o in set(got)] and len(got) >= 2
    assert wh.sort_levels("value_tier", ["低价值", None, "高价值", "中价值", "其他"]) == \
        ["高价值", "中价值", "低价值", "其他", None]
