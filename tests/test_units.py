"""Figures for every level of the organisation (company, regions, branches) from the branch
aggregates, checked against NPS/CSAT computed from the respondent rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.config import load_org
from cxlab.io import load_responses
from cxlab.metrics import nps, nps_test
from cxlab.report._aggregates import compute_aggregates
from cxlab.report._units import region_league, unit_kpis


@pytest.fixture(scope="module")
def data(sample_warehouse):
    return compute_aggregates(sample_warehouse, items=[]), load_responses(sample_warehouse)


def test_every_level_matches_the_respondent_rows(data):
    agg, resp = data
    org = load_org("params/org.yaml")
    k = unit_kpis(agg, org).set_index(["period", "unit"])
    resp = resp.assign(region=resp["branch"].astype(str).map(
        lambda b: org.region_of(b).code), company="ALL")
    for level in ("region", "branch", "company"):
        want = nps(resp, score="ltr", by=["period", level])
        for r in want.itertuples(index=False):
            got = k.loc[(str(r.period), str(getattr(r, level)))]
            assert got["n"] == r.n
            assert got["nps"] == pytest.approx(r.nps, rel=1e-12)
    csat = resp.dropna(subset=["csat"]).groupby(["period", "region"], observed=True)["csat"]
    top2 = csat.apply(lambda s: 100 * (s >= 4).mean())
    for (period, region), v in top2.items():
        assert k.loc[(str(period), region), "csat"] == pytest.approx(v, rel=1e-12)
    # a region's counts are the sum of its branches'
    east = k.xs("EAST", level="unit")["n"]
    branches = sum(k.xs(b, level="unit")["n"] for b in ("SH01", "HZ01", "NJ01", "SU01"))
    assert (east == branches).all()


def test_region_league_ranks_its_branches_and_tests_against_the_rest(data):
    agg, resp = data
    org = load_org("params/org.yaml")
    league = region_league(agg, org, unit="SOUTH", period="2026Q3")
    assert list(league["role"]) == ["company", "scope", "child", "child", "child"]
    kids = league[league["role"] == "child"]
    assert set(kids["unit"]) == {"GZ01", "SZ01", "XM01"}
    ranked = kids[~kids["suppressed"]].sort_values("rank")
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert list(ranked["nps"]) == sorted(ranked["nps"], reverse=True)
    assert kids[kids["suppressed"]]["rank"].isna().all() and (kids["n"] < 30).sum() == \
        kids["suppressed"].sum()
    scope = league[league["role"] == "scope"].iloc[0]
    assert np.allclose(kids["vs_unit"], kids["nps"] - scope["nps"])
    # the p-value equals nps_test on the respondent rows: SOUTH vs the rest of the company
    cur = resp[resp["period"].astype(str) == "2026Q3"]
    south = cur["branch"].astype(str).isin(["GZ01", "SZ01", "XM01"])
    want = nps_test(cur[south], cur[~south], score="ltr").pvalue
    assert league.attrs["pvalue_vs_rest"] == pytest.approx(want, rel=1e-9)


def test_small_bases_are_suppressed_and_unranked():
    from cxlab.config import Org

    org = Org.model_validate({"version": 1, "company": {"code": "ALL", "name": "公司"},
                              "units": [{"code": "R", "name": "区", "units": [
                                  {"code": "A", "name": "甲"}, {"code": "B", "name": "乙"}]}]})
    agg = pd.DataFrame({"period": ["P", "P"], "branch": ["A", "B"], "n": [120, 12],
                        "promoters": [60, 12], "passives": [40, 0], "detractors": [20, 0],
                        "csat_n": [120, 12], "csat_top2": [100, 12]})
    league = region_league(agg, org, unit="R", period="P").set_index("unit")
    assert bool(league.loc["B", "suppressed"]) and pd.isna(league.loc["B", "rank"])
    assert league.loc["A", "rank"] == 1
    k = unit_kpis(agg, org).set_index("unit")
    assert bool(k.loc["R", "caution"]) is False and bool(k.loc["A", "caution"]) is False
