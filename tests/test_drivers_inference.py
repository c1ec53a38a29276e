"""Inference on key-driver shares (issue 22 §2): BCa intervals beside percentile, groups of
drivers the bootstrap cannot tell apart, design-based standard errors for weighted data.

The BCa numbers are checked live against R's ``boot`` package in tests/test_r_drivers.py;
here the parts are checked against direct computations and simulated data of known order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cxlab.drivers import key_drivers, relative_importance
from cxlab.drivers._common import prepare
from cxlab.drivers._inference import bca_limits, jackknife_lmg_shares, rank_groups
from cxlab.metrics import design_ols


def _simulated(n: int, coefs, seed: int, noise: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = [f"d{j}" for j in range(len(coefs))]
    x = rng.normal(size=(n, len(coefs)))
    df = pd.DataFrame(x, columns=names)
    df["y"] = x @ np.asarray(coefs) + rng.normal(scale=noise, size=n)
    df["w"] = rng.lognormal(0.0, 0.5, n)
    return df


def test_jackknife_equals_leave_one_out_refits():
    df = _simulated(40, [0.8, 0.4, 0.2], seed=3)
    drivers = ["d0", "d1", "d2"]
    for weight in (None, "w"):
        values, w, _ = prepare(df, target="y", columns=drivers, weight=weight)
        jack = jackknife_lmg_shares(values, w, chunk=7)  # chunks that do not divide n
        for i in (0, 17, 39):
            rest = df.drop(index=i)
            direct = relative_importance(rest, outcome="y", drivers=drivers, weight=weight)
            np.testing.assert_allclose(jack[i], direct.table["share"], rtol=0, atol=1e-10)


def test_bca_with_no_bias_and_no_skew_interpolates_at_the_plain_levels():
    # half of R = 1000 replicates strictly below t0 (w = 0), a symmetric jackknife (a = 0):
    # the levels stay 0.025 / 0.975; (R + 1) 0.025 = 25.025 lies between the 25th and 26th
    # order statistics, interpolated on the normal scale (Davison & Hinkley 1997, eq. 5.8)
    from scipy.stats import norm

    t = np.concatenate([-np.arange(1.0, 501.0), np.arange(1.0, 501.0)])
    jack = np.array([-1.0, 1.0, -2.0, 2.0])[:, None]
    low, high = bca_limits(np.array([0.0]), t[:, None], jack, 0.95)
    ts = np.sort(t)
    frac = (norm.ppf(0.025) - norm.ppf(25 / 1001)) / (norm.ppf(26 / 1001) - norm.ppf(25 / 1001))
    assert low[0] == pytest.approx(ts[24] + frac * (ts[25] - ts[24]), rel=1e-12)
    assert high[0] == pytest.approx(-low[0], rel=1e-12)  # symmetric
    assert ts[24] < low[0] < ts[25]


def test_bca_is_missing_when_the_bias_correction_is_infinite():
    t = np.arange(1.0, 101.0)[:, None]  # every replicate above the estimate
    low, high = bca_limits(np.array([0.0]), t, np.array([[0.1], [0.3], [0.2]]), 0.95)
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_key_drivers_bca_brackets_the_estimate_and_differs_from_percentile():
    df = _simulated(200, [0.7, 0.35, 0.1, 0.0], seed=5)
    kw = dict(outcome="y", drivers=["d0", "d1", "d2", "d3"], bootstrap=400, rng=2)
    per = key_drivers(df, **kw)
    bca = key_drivers(df, ci_method="bca", **kw)
    assert per.ci_method == "percentile" and bca.ci_method == "bca"
    # the same replicates: point estimates and groups agree, the intervals do not
    pd.testing.assert_series_equal(per.table["share"], bca.table["share"])
    pd.testing.assert_series_equal(per.table["rank_group"], bca.table["rank_group"])
    t = bca.table
    assert (t["share_ci_low"] <= t["share"]).all() and (t["share"] <= t["share_ci_high"]).all()
    assert not np.allclose(t["share_ci_low"], per.table["share_ci_low"])
    with pytest.raises(ValueError, match="ci_method"):
        key_drivers(df, ci_method="normal", **kw)


def test_clearly_separated_drivers_get_their_own_groups():
    # shares about 0.64 / 0.25 / 0.09 / 0.02 with n = 2000: every order is far beyond noise
    df = _simulated(2000, [0.8, 0.5, 0.3, 0.15], seed=11)
    res = key_drivers(df, outcome="y", drivers=["d0", "d1", "d2", "d3"], bootstrap=200, rng=0)
    assert res.table["rank_group"].tolist() == [1, 2, 3, 4]
    assert res.pairs["separated"].all() and len(res.pairs) == 6


def test_clearly_tied_drivers_share_a_group():
    # d0, d1, d2 have the same true effect (exchangeable), d3 and d4 none
    df = _simulated(1500, [0.5, 0.5, 0.5, 0.0, 0.0], seed=12)
    res = key_drivers(df, outcome="y", drivers=[f"d{j}" for j in range(5)], bootstrap=200, rng=0)
    g = res.table.set_index("driver")["rank_group"]
    assert g["d0"] == g["d1"] == g["d2"] == 1
    assert g["d3"] > 1 and g["d4"] > 1
    p = res.pairs.set_index(["driver", "other"])
    tied = p[p.index.map(lambda ab: set(ab) <= {"d0", "d1", "d2"})]
    assert len(tied) == 3 and not tied["separated"].any()


def test_rank_groups_follow_the_leader_rule_and_holm():
    names = ["a", "b", "c", "d"]
    share = np.array([0.40, 0.30, 0.20, 0.10])
    # jackknife values: only a and b vary, in opposite directions, so that the jackknife
    # standard error of a - b is 0.1 (z = 1); the other pairs have se 0.05 (z >= 2)
    g = 100
    u = np.tile([1.0, -1.0], g // 2)
    u *= 0.05 / np.sqrt((g - 1) / g * np.sum(u**2))  # se of a alone: 0.05
    jack = share + np.column_stack([u, -u, np.zeros(g), np.zeros(g)])
    groups, pairs = rank_groups(names, share, jack, 0.95)
    p = pairs.set_index(["driver", "other"])
    assert p.loc[("a", "b"), "se"] == pytest.approx(0.1, rel=1e-12)
    assert p.loc[("a", "b"), "pvalue"] == pytest.approx(0.31731050786, rel=1e-9)  # 2 Φ(-1)
    assert p.loc[("c", "d"), "pvalue"] == 0.0  # se 0, different shares
    # a ~ b (z = 1); c, d below a (z = 4, 6): a leads group 1 = {a, b}; b ~ c (z = 2, Holm
    # 0.0455 * 2 > 0.05) does not matter: c is separated from the leader a, so it leads group 2
    assert groups.tolist() == [1, 1, 2, 3]
    # Holm over the 6 pairs (R: p.adjust(p, "holm")), recomputed here from the raw p-values
    q = np.sort(pairs["pvalue"].to_numpy())
    holm = np.minimum(1, np.maximum.accumulate((6 - np.arange(6)) * q))
    np.testing.assert_allclose(np.sort(pairs["p_adjusted"].to_numpy()), holm)
    # bootstrap=0 leaves the groups missing
    df = _simulated(100, [0.8, 0.1], seed=1)
    res = key_drivers(df, outcome="y", drivers=["d0", "d1"], bootstrap=0)
    assert res.table["rank_group"].isna().all() and res.pairs is None


def test_grouped_jackknife_equals_leaving_out_each_group():
    df = _simulated(60, [0.5, 0.3, 0.1], seed=8)
    drivers = ["d0", "d1", "d2"]
    values, w, _ = prepare(df, target="y", columns=drivers, weight="w")
    blocks = np.arange(60) % 7
    jack = jackknife_lmg_shares(values, w, groups=blocks)
    assert jack.shape == (7, 3)
    for k in (0, 6):
        direct = relative_importance(df[blocks != k], outcome="y", drivers=drivers, weight="w")
        np.testing.assert_allclose(jack[k], direct.table["share"], rtol=0, atol=1e-10)


def test_false_claims_of_order_stay_near_the_nominal_rate():
    # 300 data sets of four equally important drivers (n = 300): the share with any claim of
    # order is the family-wise error rate. Measured: 6.3% for a nominal 5% (Holm); without
    # the multiplicity adjustment (raw p < 0.05) the same data sets give about 20%.
    rng = np.random.default_rng(11)
    cols = ["d0", "d1", "d2", "d3"]
    holm = raw = 0
    for r in range(300):
        x = rng.normal(size=(300, 4))
        df = pd.DataFrame(x, columns=cols).assign(y=x @ np.full(4, 0.3) + rng.normal(size=300))
        res = key_drivers(df, outcome="y", drivers=cols, bootstrap=1, rng=r)
        holm += bool(res.pairs["separated"].any())
        raw += bool((res.pairs["pvalue"] < 0.05).any())
    assert holm / 300 <= 0.09
    assert raw / 300 >= 0.15


def test_weighted_key_drivers_use_design_based_standard_errors():
    df = _simulated(300, [0.6, 0.3, 0.1], seed=4)
    drivers = ["d0", "d1", "d2"]
    res = key_drivers(df, outcome="y", drivers=drivers, weight="w", bootstrap=0)
    ref = design_ols(df, outcome="y", predictors=drivers, weight="w")  # = svyglm (test_r_survey)
    assert res.se_method == "design"
    np.testing.assert_allclose(res.table["coef"], ref["coef"].iloc[1:], rtol=1e-10)
    np.testing.assert_allclose(res.table["se"], ref["se"].iloc[1:], rtol=1e-10)
    np.testing.assert_allclose(res.table["pvalue"], ref["pvalue"].iloc[1:], rtol=1e-10)
    # the WLS model-based errors stay available, and differ
    model = key_drivers(df, outcome="y", drivers=drivers, weight="w", bootstrap=0, se_method="model")
    assert model.se_method == "model" and not np.allclose(model.table["se"], res.table["se"])
    # unweighted: classical OLS errors as before
    assert key_drivers(df, outcome="y", drivers=drivers, bootstrap=0).se_method == "model"
    with pytest.raises(ValueError, match="se_method"):
        key_drivers(df, outcome="y", drivers=drivers, bootstrap=0, se_method="robust")


def _narrative(groups: list[int]) -> str:
    from cxlab.report.sections import driver_narrative

    labels = list("ABCDEFGHIJ")[: len(groups)]
    share = np.linspace(0.4, 0.05, len(groups))
    t = pd.DataFrame({"label": labels, "share": share, "rank_group": groups})
    return driver_narrative(t.sample(frac=1, random_state=0), "推荐意愿")  # any row order


def test_report_narrative_speaks_of_ranks_only_where_separated():
    # A alone in group 1: named first; B, C, D tied behind it
    assert _narrative([1, 2, 2, 2]) == ("对推荐意愿影响最大的因素是A,其重要性显著高于其余各因素。"
                                        "其后为B、C、D,它们与其中居首的B的差异在抽样误差内无法区分。")
    # two separated leaders, then a group
    text = _narrative([1, 2, 3, 3])
    assert text.startswith("对推荐意愿影响最大的两个因素依次为:A、B,这一先后顺序超出了抽样误差。")
    assert "其后为C、D" in text
    # A not separated from B and C: no "最大的因素是", the group is named
    text = _narrative([1, 1, 1, 2, 2])
    assert "最大的因素是A,但B、C与它的差异在抽样误差内无法区分" in text
    assert "不足以确定哪个因素最重要" in text and text.endswith("其余因素的重要性显著低于A。")
    assert "依次" not in text
    # nothing separated: no order claimed at all
    text = _narrative([1] * 8)
    assert "B、C、D、E、F、G等七个因素与它的差异" in text and text.endswith("各因素的重要性排序均不确定。")


def test_large_samples_use_the_grouped_jackknife(monkeypatch):
    import cxlab.drivers._keydrivers as kd

    df = _simulated(400, [0.7, 0.3, 0.1], seed=9)
    kw = dict(outcome="y", drivers=["d0", "d1", "d2"], bootstrap=20, rng=4)
    full = key_drivers(df, **kw)
    monkeypatch.setattr(kd, "JACKKNIFE_GROUPS", 50)  # 400 rows > 50: 50 groups of 8 rows
    grouped = key_drivers(df, **kw)
    # the same estimates and intervals; standard errors of the same size but not equal
    pd.testing.assert_frame_equal(full.table.drop(columns="rank_group"),
                                  grouped.table.drop(columns="rank_group"))
    ratio = grouped.pairs["se"] / full.pairs["se"]
    assert not np.allclose(ratio, 1) and ratio.between(0.6, 1.5).all()
    pd.testing.assert_series_equal(key_drivers(df, **kw).pairs["se"], grouped.pairs["se"])  # seeded
