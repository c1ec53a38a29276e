"""Inference in reports: multiplicity control of the league table and the alerts, targets judged
with their sampling error (issue 22 §2).

The league table's flags come from ``cxlab.report._inference.branch_status`` on the company
aggregates; on simulated aggregates where no branch changed (all null) the Benjamini–Hochberg
flags stay at the nominal level while unadjusted tests flag a branch in most runs.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from cxlab.config import Targets, load_codebook, load_org
from cxlab.metrics import nps, scores_from_counts, wilson_interval
from cxlab.ops import evaluate_alerts, kpi_interval, target_status, target_statuses
from cxlab.report._inference import branch_status

ROOT = Path(__file__).resolve().parents[1]
TARGETS = Targets(version=1, kpis=[
    {"id": "nps", "label": "NPS", "unit": "分", "op": ">=", "target": 40},
    {"id": "csat", "label": "CSAT", "unit": "%", "op": ">=", "target": 85}])


def _null_aggregates(rng, *, branches: int = 20, n: int = 200,
                     shares=(0.5, 0.3, 0.2)) -> pd.DataFrame:
    """Two periods, every branch drawn from the same distribution both times (all null)."""
    rows = []
    for period in ("2026Q1", "2026Q2"):
        for b in range(branches):
            c = rng.multinomial(n, shares)
            k = rng.binomial(n, 0.9)
            rows.append({"period": period, "branch": f"B{b:02d}", "n": n, "promoters": c[0],
                         "passives": c[1], "detractors": c[2], "csat_n": n, "csat_top2": k})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- FDR in the league
def test_league_flags_on_null_branches_stay_at_nominal_level():
    rng = np.random.default_rng(20261204)
    runs, any_raw, any_adj, flags = 100, 0, 0, 0
    for _ in range(runs):
        st = branch_status(_null_aggregates(rng), None, period="2026Q2", previous="2026Q1")
        raw = (st["change"] < 0) & (st["pvalue"] < 0.05)
        any_raw += bool(raw.any())
        any_adj += bool(st["significant_drop"].any())
        flags += int(st["needs_action"].sum())
    # unadjusted: each null branch drops "significantly" with probability ~0.025, so about
    # 1 - 0.975**20 = 40 % of the runs flag some branch; BH under the complete null keeps the
    # chance of any flag <= alpha = 5 % (P(X > 11) < 0.01 for X ~ Binomial(100, 0.05))
    assert any_raw >= 20
    assert any_adj <= 11
    assert flags <= 15  # false 需整改 flags across 2000 null branch-periods


def test_league_p_values_raw_and_adjusted_equal_statsmodels():
    agg = _null_aggregates(np.random.default_rng(7))
    # plant two real drops so that the adjusted values are not all 1
    q2 = agg["period"] == "2026Q2"
    for b in ("B03", "B11"):
        m = q2 & (agg["branch"] == b)
        agg.loc[m, ["promoters", "passives", "detractors"]] = [70, 60, 70]
    st = branch_status(agg, TARGETS, period="2026Q2", previous="2026Q1")
    p = st["pvalue"].to_numpy()
    assert np.isfinite(p).all() and (st["p_adjusted"] >= st["pvalue"] - 1e-15).all()
    np.testing.assert_allclose(st["p_adjusted"], multipletests(p, method="fdr_bh")[1], rtol=1e-12)
    assert set(st.loc[st["significant_drop"], "branch"]) == {"B03", "B11"}
    holm = branch_status(agg, TARGETS, period="2026Q2", previous="2026Q1", method="holm")
    np.testing.assert_allclose(holm["p_adjusted"], multipletests(p, method="holm")[1], rtol=1e-12)
    # the raw p-value is the NPS z-test's (cxlab.metrics.nps_test) on the two periods' counts
    from cxlab.metrics import nps_test

    a = agg[q2 & (agg["branch"] == "B03")].iloc[0]
    b = agg[~q2 & (agg["branch"] == "B03")].iloc[0]
    want = nps_test(scores_from_counts(a.promoters, a.passives, a.detractors),
                    scores_from_counts(b.promoters, b.passives, b.detractors), score="ltr").pvalue
    assert st.set_index("branch").loc["B03", "pvalue"] == pytest.approx(want, rel=1e-12)


def _context(tmp_path: Path, agg: pd.DataFrame, *, method: str | None = None):
    from cxlab.report._context import ReportContext

    params = tmp_path / "params"
    params.mkdir()
    org = "version: 1\ncompany: {code: ALL, name: 测试公司}\nunits:\n" + "".join(
        f"  - {{code: {b}, name: 机构{b}}}\n" for b in sorted(agg["branch"].unique()))
    (params / "org.yaml").write_text(org, encoding="utf-8")
    shutil.copy(ROOT / "params" / "codebook.yaml", params / "codebook.yaml")
    if method is not None:
        (params / "alerts.yaml").write_text(
            f"version: 1\nmultiple_comparisons: {method}\nrules: []\n", encoding="utf-8")
    return ReportContext(period="2026Q2", branch=None, periods=["2026Q1", "2026Q2"],
                         responses=pd.DataFrame(), aggregates=agg, tables={},
                         codebook=load_codebook(params / "codebook.yaml"),
                         org=load_org(params / "org.yaml"), targets=TARGETS,
                         warehouse=tmp_path, params_dir=params)


def _league_html(ctx) -> pd.DataFrame:
    from io import StringIO

    from cxlab.plots import set_style
    from cxlab.report import sections

    set_style()
    html = sections.league_table(ctx).html
    return html, pd.read_html(StringIO(html), match="分支机构")[0]


@pytest.mark.parametrize("method,name", [(None, "Benjamini–Hochberg"), ("holm", "Holm")])
def test_league_table_shows_raw_and_adjusted_p_and_names_the_method(tmp_path, method, name):
    agg = _null_aggregates(np.random.default_rng(3), branches=8)
    ctx = _context(tmp_path, agg, method=method)
    html, t = _league_html(ctx)
    assert {"p 值(未校正)", "p 值(校正后)", "状态"} <= set(t.columns)
    st = branch_status(agg, TARGETS, period="2026Q2", previous="2026Q1",
                       method=method or "fdr_bh").set_index("branch")
    for _, r in t.iterrows():
        code = r["分支机构"].removeprefix("机构")
        for col, key in (("p 值(未校正)", "pvalue"), ("p 值(校正后)", "p_adjusted")):
            shown, want = str(r[col]), st.loc[code, key]
            if shown.startswith("<"):
                assert want < float(shown[1:])
            else:
                assert float(shown) == pytest.approx(want, abs=0.0006)
    assert name in html and "α = 0.05" in html and "双侧" in html


# --------------------------------------------------------------------------- targets
def test_target_status_separates_significant_from_within_error():
    # 38 on n = 40 against 40: the interval is about 15-57, the target inside it
    just_below = kpi_interval("nps", n=40, promoters=20, passives=15, detractors=5)
    assert just_below[0] < 40 < just_below[2]
    assert target_status(*just_below, target=40) == "低于目标,在抽样误差内"
    # 10 on n = 400: the interval lies entirely below 40
    far_below = kpi_interval("nps", n=400, promoters=120, passives=200, detractors=80)
    assert far_below[2] < 40
    assert target_status(*far_below, target=40) == "显著低于目标"
    assert target_status(45, 30, 60, target=40) == "达标"
    assert target_status(float("nan"), float("nan"), float("nan"), target=40) == "样本不足"
    # lower-is-better KPIs (e.g. response hours <= 2): significant when the lower bound exceeds
    assert target_status(3.0, 2.5, 3.5, target=2, op="<=") == "显著高于目标"
    assert target_status(3.0, 1.0, 5.0, target=2, op="<=") == "高于目标,在抽样误差内"


def test_kpi_interval_equals_metrics_and_never_has_zero_width():
    est, lo, hi = kpi_interval("nps", n=40, promoters=20, passives=15, detractors=5)
    ref = nps(scores_from_counts(20, 15, 5), score="ltr").iloc[0]
    assert (est, lo, hi) == pytest.approx((ref["nps"], ref["ci_low"], ref["ci_high"]), rel=1e-12)
    for counts in ((40, 0, 0), (0, 0, 40), (0, 40, 0)):   # p-hat = 0 or 1
        e, lo, hi = kpi_interval("nps", n=40, promoters=counts[0], passives=counts[1],
                                 detractors=counts[2])
        assert hi - lo > 5
    for k in (0, 40):
        e, lo, hi = kpi_interval("csat", n=40, k=k)
        assert hi - lo > 5
        wlo, whi = wilson_interval(k / 40, 40)
        assert (lo, hi) == pytest.approx((100 * wlo, 100 * whi), rel=1e-12)


def test_target_statuses_suppress_small_bases_and_flag_significant_misses():
    agg = pd.DataFrame({"branch": ["S", "W", "F", "OK"], "n": [20, 45, 400, 400],
                        "promoters": [2, 20, 120, 240], "passives": [8, 17, 200, 120],
                        "detractors": [10, 8, 80, 40], "csat_n": [20, 45, 400, 400],
                        "csat_top2": [10, 37, 300, 360]})
    st = target_statuses(agg, targets=TARGETS).set_index("branch")
    assert np.isnan(st.loc["S", "nps"]) and st.loc["S", "nps_status"] == "样本不足"
    assert st.loc["W", "nps_status"] == "低于目标,在抽样误差内"           # 26.7, n = 45
    assert st.loc["W", "csat_status"] == "低于目标,在抽样误差内"          # 82.2 %, n = 45
    assert st.loc["F", "nps_status"] == "显著低于目标" and st.loc["F", "significantly_below"]
    assert st.loc["F", "csat_status"] == "显著低于目标"                   # 75 %, n = 400
    assert st.loc["OK", "nps_status"] == "达标" and not st.loc["OK", "significantly_below"]
    assert not st.loc["W", "significantly_below"]


# --------------------------------------------------------------------------- alerts
def _responses_from(agg: pd.DataFrame) -> pd.DataFrame:
    frames = []
    for r in agg.itertuples(index=False):
        ltr = [10] * r.promoters + [8] * r.passives + [0] * r.detractors
        frames.append(pd.DataFrame({"period": r.period, "branch": r.branch, "ltr": ltr,
                                    "csat": 5}))
    return pd.concat(frames, ignore_index=True)


def test_significant_drop_alert_adjusts_over_the_periods_branches():
    rng = np.random.default_rng(12)  # a seed whose null data give one raw false flag
    agg = _null_aggregates(rng, branches=20)
    resp = _responses_from(agg)
    rule = {"id": "drop", "kind": "significant_drop", "label": "NPS 环比显著下降",
            "metric": "nps", "alpha": 0.05}
    raw = evaluate_alerts({"responses": resp}, rules={"version": 1, "rules": [rule],
                                                      "multiple_comparisons": "none"})
    bh = evaluate_alerts({"responses": resp}, rules={"version": 1, "rules": [rule]})
    st = branch_status(agg, None, period="2026Q2", previous="2026Q1").set_index("branch")
    # the same tests as the league table: raw drops with p < .05 fire without adjustment only
    want_raw = set(st.index[(st["change"] < 0) & (st["pvalue"] < 0.05)])
    assert set(raw["branch"]) == want_raw
    assert set(bh["branch"]) == set(st.index[st["significant_drop"]])
    if len(bh):
        got = bh.set_index("branch")
        assert (got["p_adjusted"] >= got["pvalue"]).all()
        assert got["p_adjusted"].to_numpy() == pytest.approx(
            st.loc[got.index, "p_adjusted"].to_numpy(), rel=1e-12)
    assert len(want_raw) > len(bh)  # this seed has raw false flags that BH removes


def test_bottom_rank_only_among_significantly_low_branches():
    agg = _null_aggregates(np.random.default_rng(5), branches=6)
    resp = _responses_from(agg[agg["period"] == "2026Q2"])
    rule = {"id": "bottom", "kind": "bottom_rank", "label": "末位", "metric": "nps", "k": 2,
            "significant_only": True}
    al = evaluate_alerts({"responses": resp}, rules={"version": 1, "rules": [rule]})
    assert al.empty  # all branches alike: nobody is significantly low
    # make one branch clearly worse: it (and only it) is ranked
    m = resp["branch"] == "B02"
    resp.loc[m, "ltr"] = np.where(np.arange(m.sum()) % 2 == 0, 0, 10)
    al = evaluate_alerts({"responses": resp}, rules={"version": 1, "rules": [rule]})
    assert set(al["branch"]) == {"B02"}
    plain = evaluate_alerts({"responses": resp}, rules={"version": 1, "rules": [
        rule | {"significant_only": False}]})
    assert len(plain) == 2 and "B02" in set(plain["branch"])


# --------------------------------------------------------------------------- the index page
def test_index_flags_only_significant_shortfalls_and_drops(tmp_path):
    from cxlab.report._aggregates import AGGREGATES
    from cxlab.report._inference import index_status
    from cxlab.report._site import write_index

    rows = []
    for period in ("2026Q1", "2026Q2"):
        rows += [  # W: 38 on n = 50 (within error), F: 10 on n = 400, OK: 60, D: drop 60 -> 30
            {"branch": "W", "n": 50, "promoters": 24, "passives": 17, "detractors": 9},
            {"branch": "F", "n": 400, "promoters": 120, "passives": 200, "detractors": 80},
            {"branch": "OK", "n": 400, "promoters": 260, "passives": 120, "detractors": 20},
            {"branch": "D", "n": 400, "promoters": 260, "passives": 120, "detractors": 20}
            if period == "2026Q1" else
            {"branch": "D", "n": 400, "promoters": 200, "passives": 120, "detractors": 80}]
        for r in rows[-4:]:
            r["period"] = period
    agg = pd.DataFrame(rows)
    flags = index_status(agg, TARGETS)
    assert flags[("2026Q2", "W")] == "低于目标,在抽样误差内"
    assert flags[("2026Q2", "F")] == "显著低于目标 · 需整改"
    assert flags[("2026Q2", "OK")] == "达标"
    assert flags[("2026Q2", "D")] == "显著下滑 · 需整改" and flags[("2026Q1", "D")] == "达标"
    company = kpi_interval("nps", n=1250, promoters=604, passives=457, detractors=189)
    assert flags[("2026Q2", "ALL")] == target_status(*company, target=40).replace(
        "显著低于目标", "显著低于目标 · 需整改")
    # a region is judged like the company, on its branches' summed counts: W + OK sums to
    # NPS 56.7 (达标); W + F to 12.2 on n = 450, significantly below 40
    grouped = index_status(agg, TARGETS, groups={"R1": ["W", "OK"], "R2": ["W", "F"]})
    assert grouped[("2026Q2", "R1")] == "达标"
    both = kpi_interval("nps", n=450, promoters=144, passives=217, detractors=89)
    assert both[1] < 40  # the interval's upper end is below the target
    assert grouped[("2026Q2", "R2")] == "显著低于目标 · 需整改"
    assert {k: v for k, v in grouped.items() if k[1] not in ("R1", "R2")} == flags
    # the page: red only for 需整改
    wh = tmp_path / "wh"
    (wh / AGGREGATES).parent.mkdir(parents=True)
    agg.to_parquet(wh / AGGREGATES, index=False)
    params = _context(tmp_path, agg).params_dir
    (params / "targets.yaml").write_text(
        "version: 1\nkpis:\n  - {id: nps, label: NPS, unit: 分, op: '>=', target: 40}\n",
        encoding="utf-8")
    html = write_index(tmp_path / "out", warehouse=wh, params_dir=params).read_text("utf-8")
    q2 = html.split("<h2>2026Q2</h2>")[1].split("</table>")[0]
    assert re.search(r"机构W</td>.*?cx-muted\">低于目标，在抽样误差内<", q2)  # page typeset
    assert re.search(r"机构F</td>.*?cx-flag-missed\">显著低于目标 · 需整改<", q2)
    assert re.search(r"机构D</td>.*?cx-flag-missed\">显著下滑 · 需整改<", q2)
