"""The dashboard's analysis views and exports on the (weighted) sample warehouse: key drivers and
IPA equal the reports' analyses of the same slice, themes and quotes stay in the scope and are
redacted, the cases ledger is read for the scope's branches only, and every view exports as CSV
(the figures shown) and PNG."""

from __future__ import annotations

import io
import shutil
import threading

import numpy as np
import pandas as pd
import pytest

from cxlab.config import load_codebook, load_org, load_targets
from cxlab.dashboard import Filters, User, open_warehouse, scope_for
from cxlab.dashboard import _analysis as an

PERIOD = "2026Q3"
ORG = load_org("params/org.yaml")


@pytest.fixture(scope="module")
def wh(sample_warehouse, tmp_path_factory):
    """A copy of the sample warehouse (this module writes a cases ledger into it)."""
    from cxlab.notify import sync_cases
    from cxlab.report import build_aggregates

    root = tmp_path_factory.mktemp("views") / "warehouse"
    shutil.copytree(sample_warehouse, root)
    build_aggregates(root, params_dir="params")
    assert sync_cases(root, period=PERIOD, org=ORG, params_dir="params") > 0
    w = open_warehouse(root, codebook=load_codebook("params/codebook.yaml"), org=ORG,
                       params_dir="params")
    yield w
    w.close()


def _scope(unit):
    return scope_for(User(name="u", password_hash="x", unit=unit), ORG)


def _period():
    return Filters(period_from=PERIOD, period_to=PERIOD)


def test_drivers_and_ipa_equal_the_reports_analysis(wh):
    """The branch report's drivers/IPA sections run key_drivers/analyze on the branch's complete
    cases of the period (weighted): the dashboard's slice for the branch user is the same."""
    from cxlab.drivers import key_drivers
    from cxlab.ipa import analyze
    from cxlab.report import load_context
    from cxlab.report.sections import DRIVER_BOOTSTRAP, _driver_data

    ctx = load_context(period=PERIOD, branch="SH01", warehouse=wh.root, params_dir="params")
    out, items, df = _driver_data(ctx)
    want = key_drivers(df.astype(float), outcome=out, drivers=items, weight=ctx.weight,
                       bootstrap=DRIVER_BOOTSTRAP, rng=0).table.set_index("driver")
    got, info = an.drivers(wh, _period(), _scope("SH01"))
    got = got.set_index("driver")
    assert info["n"] == len(df) and sorted(got.index) == sorted(want.index)
    assert got["share"].to_numpy() == pytest.approx(100 * want.loc[got.index, "share"].to_numpy(),
                                                    rel=1e-9)
    assert list(got["rank"]) == list(want.loc[got.index, "rank"])
    # the bootstrap intervals resample rows, so they depend on the row order: the report's rows
    # in the dashboard's fixed order (period, branch, response id) give the same intervals
    cur = ctx.current.sort_values(["period", "branch", "response_id"], key=lambda s: s.astype(str))
    ordered = cur[[out, *items, "weight"]].apply(pd.to_numeric, errors="coerce").dropna()
    want_ci = key_drivers(ordered.astype(float), outcome=out, drivers=items, weight="weight",
                          bootstrap=DRIVER_BOOTSTRAP, rng=0).table.set_index("driver")
    for c in ("share_ci_low", "share_ci_high"):
        assert got[c].to_numpy() == pytest.approx(100 * want_ci.loc[got.index, c].to_numpy(),
                                                  rel=1e-9)
    ipa_want = analyze(df.drop(columns=["weight"]).astype(float), items=items, outcome=out,
                       importance="correlation", crosshair="mean").set_index("item")
    ipa_got, _ = an.ipa(wh, _period(), _scope("SH01"))
    ipa_got = ipa_got.set_index("item")
    for c in ("performance", "importance"):
        assert ipa_got[c].to_numpy() == pytest.approx(ipa_want.loc[ipa_got.index, c].to_numpy(),
                                                      rel=1e-9)
    assert list(ipa_got["quadrant"]) == list(ipa_want.loc[ipa_got.index, "quadrant"])


def test_drivers_need_the_minimum_base(wh):
    chans = wh.con.execute("SELECT channel, count(*) AS n FROM dash WHERE branch = 'SH01' AND "
                           "period = ? GROUP BY ALL ORDER BY n", [PERIOD]).df()
    small = chans[chans["n"] < 30]
    if small.empty:
        pytest.skip("no channel below 30 answers")
    f = Filters(period_from=PERIOD, period_to=PERIOD, dims={"channel": (small["channel"].iloc[0],)})
    t, info = an.drivers(wh, f, _scope("SH01"))
    assert t.empty and "少于 30" in info["reason"]
    t, info = an.ipa(wh, f, _scope("SH01"))
    assert t.empty and "少于 30" in info["reason"]


def test_themes_stay_in_scope_and_are_redacted(wh):
    from cxlab.text import analyse_comments, load_taxonomy

    themes, issues, info = an.themes(wh, Filters(), _scope("SH01"))
    rows = wh.con.execute("SELECT branch, comment FROM dash WHERE comment IS NOT NULL AND "
                          "trim(comment) <> ''").df()
    own = rows[rows["branch"] == "SH01"].reset_index(drop=True)
    assert info["n"] == len(own)
    want = analyse_comments(own, text="comment", taxonomy=load_taxonomy("params/text.yaml"))
    wt = want.theme_summary().groupby("theme_name")["n"].sum()
    assert themes.set_index("theme_name")["total"].to_dict() == wt[wt.index.isin(themes["theme_name"])].to_dict()
    quotes = [q for c in ("example_1", "example_2") if c in issues for q in issues[c].dropna()]
    assert quotes, "the sample has frequent negative issues"
    from cxlab.text import redact

    own_red = {redact(t) for t in own["comment"]}
    assert all(any(q.rstrip("…") in r for r in own_red) for q in quotes)   # only own comments
    import re

    assert not [q for q in quotes if re.search(r"1[3-9][0-9]{9}", q)]    # no mobile numbers


def test_cases_are_the_scopes_only(wh):
    allc, figs, _ = an.cases(wh, Filters(), _scope("ALL"))
    sh, sh_figs, _ = an.cases(wh, Filters(branches=("GZ01",)), _scope("SH01"))   # forged branch
    assert set(sh["unit"]) == {"SH01"} and len(sh) == int((allc["unit"] == "SH01").sum())
    assert list(sh_figs["unit"]) == ["SH01"]
    east, _, _ = an.cases(wh, Filters(), _scope("EAST"))
    assert set(east["unit"]) <= {"SH01", "HZ01", "NJ01", "SU01"}
    assert len(east) == int(allc["unit"].isin(["SH01", "HZ01", "NJ01", "SU01"]).sum())
    assert "alert_key" not in allc.columns                    # holds response ids
    assert int(figs["opened"].sum()) == len(allc)
    none, _, info = an.cases(wh, Filters(period_from="2026Q1", period_to="2026Q2"), _scope("ALL"))
    assert none.empty and "没有预警工单" in info["reason"]


def test_every_view_exports_csv_and_png(wh):
    import matplotlib.image as mpimg

    from cxlab.dashboard._app import Dashboard
    from cxlab.dashboard._export import VIEW_NAMES

    d = Dashboard(wh, _scope("SH01"), load_targets("params/targets.yaml"), lock=threading.Lock())
    others = [b.name for b in ORG.branches if b.code != "SH01"]
    for view in VIEW_NAMES:
        raw = d.export_csv(view).getvalue()
        text = raw.decode("utf-8-sig")
        got = pd.read_csv(io.StringIO(text))
        shown = d.data[view]["frame"]
        assert len(got) == len(shown) and list(got.columns) == [str(c) for c in shown.columns], view
        assert not [n for n in others if n in text], view
        png = d.export_png(view).getvalue()
        assert png[:8] == b"\x89PNG\r\n\x1a\n", view
        img = mpimg.imread(io.BytesIO(png), format="png")
        assert img.shape[0] > 100 and img.shape[1] > 100 and img.std() > 0, view
    # the CSV carries the figures the view shows (KPI: the weighted, report-equal values)
    k = pd.read_csv(io.BytesIO(d.export_csv("kpi").getvalue()), encoding="utf-8-sig").set_index("kpi")
    assert k.loc["nps", "value"] == pytest.approx(d.data["kpi"]["frame"].set_index("kpi").loc["nps", "value"])
    lg = pd.read_csv(io.BytesIO(d.export_csv("league").getvalue()), encoding="utf-8-sig")
    assert list(lg["branch"]) == ["SH01"]
    assert not np.isnan(lg["nps"].iloc[0])
