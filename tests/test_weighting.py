"""cxlab.weighting: raking, post-stratification, trimming and their diagnostics.

The weights themselves are checked live against R's survey package in tests/test_r_survey.py;
here: invariants, the classic worked example and every user error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.errors import CxlabError
from cxlab.weighting import WeightingResult, design_effect, kish_n_eff, poststratify, rake, trim


@pytest.fixture
def sample() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 2000
    return pd.DataFrame({
        "branch": rng.choice(list("ABCD"), size=n, p=[0.5, 0.25, 0.15, 0.1]),
        "tier": rng.choice(["hi", "mid", "lo"], size=n, p=[0.5, 0.3, 0.2]),
        "channel": rng.choice(["app", "web"], size=n, p=[0.7, 0.3]),
    }, index=pd.RangeIndex(100, 100 + n))


MARGINS = {
    "branch": {"A": 0.25, "B": 0.25, "C": 0.25, "D": 0.25},
    "tier": {"hi": 0.2, "mid": 0.3, "lo": 0.5},
    "channel": {"app": 0.5, "web": 0.5},
}


def test_rake_meets_every_margin_and_reports_diagnostics(sample):
    res = rake(sample, MARGINS)
    assert isinstance(res, WeightingResult)
    assert res.converged and 1 < res.iterations < 100
    assert res.weights.index.equals(sample.index)
    w = res.weights
    for col, spec in MARGINS.items():
        got = w.groupby(sample[col]).sum() / w.sum()
        for level, share in spec.items():
            assert got[level] == pytest.approx(share, abs=1e-9)
    assert w.mean() == pytest.approx(1.0, rel=1e-12)  # shares: weights average 1
    assert res.design_effect == pytest.approx(len(w) * (w**2).sum() / w.sum() ** 2, rel=1e-12)
    assert res.n_eff == pytest.approx(len(w) / res.design_effect, rel=1e-12)
    assert res.efficiency == pytest.approx(100 / res.design_effect, rel=1e-12)
    assert res.min_weight == pytest.approx(w.min(), rel=1e-12)
    assert res.max_weight == pytest.approx(w.max(), rel=1e-12)
    table = res.to_frame()
    assert list(table.columns) == ["variable", "level", "target", "sample", "weighted", "n"]
    assert np.allclose(table["weighted"], table["target"], atol=1e-9)
    assert table.groupby("variable")["n"].sum().eq(len(sample)).all()
    html = res._repr_html_()
    assert "design_effect" in html and "<table" in html
    with pytest.raises(AttributeError):
        res.n = 3  # frozen


def test_rake_is_invariant_to_row_order(sample):
    perm = sample.sample(frac=1.0, random_state=3)
    a = rake(sample, MARGINS).weights
    b = rake(perm, MARGINS).weights
    pd.testing.assert_series_equal(a, b.loc[a.index], check_exact=False, rtol=1e-10)


def test_rake_of_a_balanced_sample_is_unit_weights():
    df = pd.DataFrame({"a": ["x", "x", "y", "y"], "b": ["p", "q", "p", "q"]})
    res = rake(df, {"a": {"x": 0.5, "y": 0.5}, "b": {"p": 0.5, "q": 0.5}})
    assert res.weights.tolist() == pytest.approx([1, 1, 1, 1], rel=1e-15)
    assert res.iterations == 1 and res.design_effect == pytest.approx(1.0)


def test_rake_deming_stephan_two_way_table():
    # A 2x2 sample table raked to margins: the IPF fixed point keeps the sample cross-product
    # (odds) ratio (Deming & Stephan 1940; Bishop, Fienberg & Holland 1975, ch. 3).
    counts = {("m", "y"): 30, ("m", "o"): 20, ("f", "y"): 10, ("f", "o"): 40}
    rows = [k for k, c in counts.items() for _ in range(c)]
    df = pd.DataFrame(rows, columns=["sex", "age"])
    res = rake(df, {"sex": {"m": 480, "f": 520}, "age": {"y": 450, "o": 550}}, tol=1e-14)
    cell = res.weights.groupby([df["sex"], df["age"]]).sum()
    assert cell["m"].sum() == pytest.approx(480) and cell[:, "y"].sum() == pytest.approx(450)
    odds = cell["m", "y"] * cell["f", "o"] / (cell["m", "o"] * cell["f", "y"])
    assert odds == pytest.approx(30 * 40 / (20 * 10), rel=1e-10)


def test_rake_with_base_weights_and_totals(sample):
    bw = np.random.default_rng(1).lognormal(0, 0.5, len(sample))
    totals = {k: {lv: s * 5000 for lv, s in m.items()} for k, m in MARGINS.items()}
    res = rake(sample.assign(bw=bw), totals, base_weight="bw")
    assert res.total == pytest.approx(5000, rel=1e-9)
    same = rake(sample, totals, base_weight=bw)
    np.testing.assert_allclose(res.weights, same.weights, rtol=1e-12)


def test_rake_trim_bounds_weights(sample):
    free = rake(sample, MARGINS)
    assert free.max_weight > 6 and free.min_weight < 0.2
    bounded = rake(sample, MARGINS, trim=(0.2, 6), max_iter=500)
    assert bounded.converged
    assert bounded.max_weight <= 6 + 1e-9 and bounded.min_weight >= 0.2 - 1e-9
    assert np.allclose(bounded.to_frame()["weighted"], bounded.to_frame()["target"], atol=1e-9)
    assert bounded.design_effect < free.design_effect
    assert "trimmed" in bounded.method
    impossible = rake(sample, MARGINS, trim=(0.9, 1.1), max_iter=50)
    assert not impossible.converged and impossible.iterations == 50


def test_categorical_columns_are_accepted(sample):
    cat = sample.astype({"branch": "category"})
    np.testing.assert_allclose(rake(cat, MARGINS).weights, rake(sample, MARGINS).weights, rtol=1e-12)


def test_poststratify_cells(sample):
    cells = {(b, t): 1 / 12 for b in "ABCD" for t in ("hi", "mid", "lo")}
    res = poststratify(sample, cells, by=["branch", "tier"])
    got = res.weights.groupby([sample["branch"], sample["tier"]]).sum() / res.weights.sum()
    assert np.allclose(got.to_numpy(), 1 / 12, atol=1e-12)
    one = poststratify(sample, {"app": 700, "web": 300}, by="channel")
    assert one.weights.groupby(sample["channel"]).sum().to_dict() == pytest.approx({"app": 700, "web": 300})
    assert one.iterations == 1 and one.converged


def test_trim_keeps_total_and_bounds():
    w = pd.Series([0.1, 1.0, 1.0, 1.0, 6.0], index=list("abcde"))
    out = trim(w, lower=0.5, upper=3.0)
    assert out.sum() == pytest.approx(w.sum(), rel=1e-12)
    assert out.max() <= 3.0 + 1e-12 and out.min() >= 0.5 - 1e-12
    assert list(out.index) == list("abcde")
    rel = trim(w, upper=1.5, relative=True)
    assert rel.max() <= 1.5 * w.mean() + 1e-12
    with pytest.raises(CxlabError, match="cannot hold"):
        trim(w, upper=0.5)


def test_kish_helpers():
    w = np.array([1.0, 2.0, 3.0])
    assert kish_n_eff(w) == pytest.approx(36 / 14)
    assert design_effect(w) == pytest.approx(3 * 14 / 36)


@pytest.mark.parametrize(
    ("margins", "message"),
    [
        ({"branch": {"A": 0.5, "B": 0.5, "C": 0.2, "D": 0.1}}, "sum to 1.3"),
        ({"branch": {"A": 0.5, "B": 0.3, "C": 0.2}}, r"data level 'D' .* is not in the margin"),
        ({"branch": {"A": 0.4, "B": 0.2, "C": 0.2, "D": 0.1, "E": 0.1}}, r"level 'E' has a target but no respondents"),
        ({"branch": {"A": 10, "B": 10, "C": 10, "D": 10}, "tier": {"hi": 10, "mid": 10, "lo": 30}},
         "margins do not agree"),
        ({"branch": {"A": -0.25, "B": 0.75, "C": 0.25, "D": 0.25}}, "invalid target"),
        ({"region": {"x": 1.0}}, "column 'region' not found"),
        ({}, "non-empty mapping"),
    ],
)
def test_rake_errors_are_one_line(sample, margins, message):
    with pytest.raises(CxlabError, match=message) as err:
        rake(sample, margins)
    assert "\n" not in str(err.value)


def test_rake_rejects_bad_base_weights_and_missing_values(sample):
    bad = sample.assign(bw=1.0)
    bad.loc[bad.index[3], "bw"] = -2.0
    with pytest.raises(CxlabError, match="negative weight"):
        rake(bad, MARGINS, base_weight="bw")
    nan = sample.copy()
    nan.loc[nan.index[5], "tier"] = None
    with pytest.raises(CxlabError, match="has no value in tier"):
        rake(nan, MARGINS)
    with pytest.raises(CxlabError, match="empty data"):
        rake(sample.iloc[:0], MARGINS)
    with pytest.raises(ValueError, match="trim="):
        rake(sample, MARGINS, trim=(2, 5))


def test_poststratify_errors(sample):
    with pytest.raises(CxlabError, match="no respondents"):
        poststratify(sample, {"app": 0.5, "web": 0.3, "kiosk": 0.2}, by="channel")
    with pytest.raises(CxlabError, match="not in the margin"):
        poststratify(sample, {"app": 1.0}, by="channel")
    with pytest.raises(CxlabError, match="tuple of 2 levels"):
        poststratify(sample, {"A": 1.0}, by=["branch", "tier"])


# ---------------------------------------------------------------------------------------------
# params/weighting.yaml and per-period weights on the sample warehouse


def test_sample_weighting_plan_weights_every_period(sample_warehouse):
    from cxlab.io import load_responses, load_table
    from cxlab.weighting import load_weighting, weights_by_period

    plan = load_weighting("params/weighting.yaml")
    assert plan.enabled and plan.variables == ["branch", "customer_type"]
    responses = load_responses(sample_warehouse)
    customers = load_table(sample_warehouse, "customers")
    w, diag = weights_by_period(responses, customers, plan)
    assert w.index.equals(responses.index) and w.notna().all() and (w > 0).all()
    assert list(diag["period"]) == sorted(responses["period"].astype(str).unique())
    assert diag["converged"].all()
    assert (diag["design_effect"] >= 1).all() and (diag["efficiency"] <= 100).all()
    # every period reproduces the population's branch and value-tier shares
    base = customers[customers["churned"].astype(int) != 1]
    tier = responses["customer_id"].map(customers.set_index("customer_id")["customer_type"])
    for period, idx in responses.groupby("period", observed=True).groups.items():
        ww = w.loc[idx]
        assert ww.mean() == pytest.approx(1.0, rel=1e-9)
        for col, values in (("branch", responses.loc[idx, "branch"]), ("customer_type", tier.loc[idx])):
            got = ww.groupby(values.to_numpy()).sum() / ww.sum()
            want = base[col].value_counts(normalize=True)
            assert got.sort_index().to_numpy() == pytest.approx(want.sort_index().to_numpy(), abs=1e-8), period


def test_disabled_plan_gives_unit_weights_and_bad_plans_fail():
    from cxlab.config import params_from_dict
    from cxlab.errors import ParamsError
    from cxlab.weighting import WeightingPlan, weights_by_period

    plan = params_from_dict({"variables": ["tier"]}, WeightingPlan)
    df = pd.DataFrame({"period": ["a", "a", "b"], "tier": ["x", "y", "x"]})
    w, diag = weights_by_period(df, df, plan)
    assert w.tolist() == [1.0, 1.0, 1.0] and diag["method"].eq("unweighted").all()
    with pytest.raises(ParamsError, match="trim"):
        params_from_dict({"variables": ["tier"], "trim": [2, 5]}, WeightingPlan, source="weighting.yaml")
    with pytest.raises(ParamsError, match="unknown key"):
        params_from_dict({"variables": ["tier"], "margin": "x"}, WeightingPlan)
    on = params_from_dict({"variables": ["tier"], "enabled": True}, WeightingPlan)
    pop = pd.DataFrame({"tier": ["x", "x", "y", "z"]})
    with pytest.raises(CxlabError, match=r"weighting period a: .*level 'z' has a target but no respondents"):
        weights_by_period(df, pop, on)
