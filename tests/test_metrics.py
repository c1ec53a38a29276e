"""Tests of cxlab.metrics against published values, canonical implementations and invariants.

Published values and their provenance: tests/reference/metrics_published.md.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from cxlab.metrics import (
    CAUTION_BASE,
    CI_METHODS,
    MIN_BASE,
    TestResult,
    base_flag,
    ces,
    change,
    crosstab,
    csat,
    item_summary,
    nps,
    nps_sample_size,
    nps_test,
    two_proportion_test,
    wilson_interval,
)


def ltr_frame(promoters: int, passives: int, detractors: int, **extra) -> pd.DataFrame:
    scores = [10] * (promoters // 2) + [9] * (promoters - promoters // 2)
    scores += [8] * (passives // 2) + [7] * (passives - passives // 2)
    scores += [int(s) for s in np.resize(np.arange(7), detractors)]
    return pd.DataFrame({"ltr": scores, **extra})


# ---------------------------------------------------------------------------------------------
# Published values
# ---------------------------------------------------------------------------------------------


def test_two_proportion_test_matches_r_prop_test_without_correction():
    # InfluentialPoints, "Two-sample test for independent proportions - using R" (notes/n9rmf3):
    # prop.test(tab1, correct = FALSE) printed X-squared = 6.1026, df = 1, p-value = 0.01350,
    # 95 percent CI 0.03074072 0.23838896, prop 1 = 0.4392523, prop 2 = 0.3046875
    # (counts 94/214 and 39/128 reconstructed from the printed proportions; see reference file).
    res = two_proportion_test(94, 214, 39, 128)
    assert res.statistic**2 == pytest.approx(6.1026, abs=5e-5)
    assert res.pvalue == pytest.approx(0.01350, abs=5e-6)
    assert res.ci_low == pytest.approx(0.03074072, abs=5e-9)
    assert res.ci_high == pytest.approx(0.23838896, abs=5e-9)
    assert res.diff == pytest.approx(0.4392523 - 0.3046875, abs=1e-7)


@pytest.mark.parametrize(
    ("k", "n", "lower", "upper"),
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe (1998) Stat Med 17:857, worked example, method 3 (Wilson)
        (15, 148, 0.0624, 0.1605),  # Newcombe (1998), same table
        (0, 20, 0.0000, 0.1611),  # Newcombe (1998), same table
        (1, 29, 0.0061, 0.1718),  # Newcombe (1998), same table
    ],
)
def test_wilson_interval_matches_newcombe_1998(k, n, lower, upper):
    lo, hi = wilson_interval(k / n, n)
    assert lo == pytest.approx(lower, abs=5e-5)
    assert hi == pytest.approx(upper, abs=5e-5)


def test_csat_top2_matches_delighted_example():
    # Delighted help centre, "How is CSAT calculated?": 42×5, 32×4, 10×3, 9×2, 14×1 -> 74/107 -> 69.16
    df = pd.DataFrame({"csat": [5] * 42 + [4] * 32 + [3] * 10 + [2] * 9 + [1] * 14})
    res = csat(df, score="csat")
    assert res["n"].iloc[0] == 107  # Delighted: "107 overall responses"
    assert res["csat"].iloc[0] == pytest.approx(69.16, abs=5e-3)  # Delighted: 69.16


def test_csat_top2_matches_intercom_example():
    # Intercom VOC Metrics help: 10×5, 20×4, 10×3, 5×2, 5×1 -> (10 + 20) / 50 * 100 = 60 %
    df = pd.DataFrame({"csat": [5] * 10 + [4] * 20 + [3] * 10 + [2] * 5 + [1] * 5})
    assert csat(df, score="csat")["csat"].iloc[0] == pytest.approx(60.0, abs=1e-12)  # Intercom: 60%


def test_nps_of_whuber_population():
    # Cross Validated, "How can I calculate margin of error in a NPS result?" (whuber):
    # p(+1) = 1/2, p(0) = 1/3, p(-1) = 1/6 -> NPS = 1/3
    res = nps(ltr_frame(300, 200, 100), ci="wald")
    assert res["nps"].iloc[0] == pytest.approx(100 / 3, rel=1e-12)  # whuber: NPS = 1/3


def test_nps_wald_width_matches_engelhardt_rule_of_thumb():
    # Engelhardt (2016), CYBAEA "NPS Confidence Intervals 2": p = d = 1/3 -> 95 % CI ≈ 320/sqrt(n) wide
    n = 900
    res = nps(ltr_frame(300, 300, 300), ci="wald")
    width = res["ci_high"].iloc[0] - res["ci_low"].iloc[0]
    assert width == pytest.approx(320 / np.sqrt(n), rel=2e-3)  # Engelhardt: CI ≈ 320/√n


def test_nps_sample_size_matches_engelhardt():
    # Engelhardt (2016): p = d = 1/3, interval width 10 (margin 5) -> n ≈ 1024
    assert nps_sample_size(5, p_promoters=1 / 3, p_detractors=1 / 3) == pytest.approx(1024, abs=1)


def test_nps_definition_reichheld():
    # Reichheld (2003): 9-10 promoters, 7-8 passives, 0-6 detractors
    df = pd.DataFrame({"ltr": list(range(11))})
    res = nps(df)
    assert res[["promoters", "passives", "detractors"]].iloc[0].tolist() == [2, 2, 7]
    assert res["nps"].iloc[0] == pytest.approx(100 * (2 - 7) / 11, rel=1e-12)


def test_adjusted_wald_follows_measuringu_recipe():
    # MeasuringU (2021): add 3 to n, 3/4 to promoters and 3/4 to detractors; SE from the variance of
    # the difference of the two (adjusted) proportions; interval centred on the adjusted NPS.
    # Rocks' R package NPS: pseudo_observations = c(0.75, 1.50, 0.75) (detractors, passives, promoters).
    pro, pas, det = 13, 5, 2
    res = nps(ltr_frame(pro, pas, det), ci="adjusted_wald").iloc[0]
    n_adj = pro + pas + det + 3
    p, d = (pro + 0.75) / n_adj, (det + 0.75) / n_adj
    half = stats.norm.ppf(0.975) * np.sqrt((p + d - (p - d) ** 2) / n_adj)
    assert res["ci_low"] == pytest.approx(100 * (p - d - half), rel=1e-12)
    assert res["ci_high"] == pytest.approx(min(100.0, 100 * (p - d + half)), rel=1e-12)
    # the reported NPS and SE stay the unadjusted ones
    assert res["nps"] == pytest.approx(100 * (pro - det) / 20, rel=1e-12)


def test_nps_test_adjusted_wald_follows_measuringu_and_rocks_recipe():
    # Lewis & Sauro, MeasuringU (2021-02-16), "Evaluating NPS Significance Tests with Real-World
    # Data" (https://measuringu.com/nps-three-significance-tests/), printed recipe: for each set of
    # NPS data add 3 to n, 3/4 to the detractors and 3/4 to the promoters, then compute the
    # standard error. Rocks' R package NPS (brendan-r/NPS, nps_test_, test = "adjusted.wald",
    # two-sample branch): both samples get pseudo_observations = c(0.75, 1.50, 0.75); the difference
    # is taken between the adjusted scores; se = sqrt(var_x / n_x + var_y / n_y) on adjusted counts.
    # Recipe only: no printed numbers from either source were reachable (see reference file).
    counts_a, counts_b = (60, 25, 15), (40, 30, 30)  # promoters, passives, detractors
    a, b = ltr_frame(*counts_a), ltr_frame(*counts_b)
    res = nps_test(a, b, level=0.9)

    def adjusted(pro, pas, det):
        n = pro + pas + det + 3
        p, d = (pro + 0.75) / n, (det + 0.75) / n
        return p - d, (p + d - (p - d) ** 2) / n

    (ea, va), (eb, vb) = adjusted(*counts_a), adjusted(*counts_b)
    se = np.sqrt(va + vb)
    # diff is the observed difference (as nps() and change() report it, issue 22); the test
    # statistic and the interval follow the adjusted recipe.
    assert res.diff == pytest.approx(100 * ((60 - 15) - (40 - 30)) / 100, rel=1e-12)
    assert res.se == pytest.approx(100 * se, rel=1e-12)
    assert res.statistic == pytest.approx((ea - eb) / se, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.norm.sf(abs(ea - eb) / se), rel=1e-10)
    half = stats.norm.ppf(0.95) * se
    assert res.ci_low == pytest.approx(100 * (ea - eb - half), rel=1e-12)
    assert res.ci_high == pytest.approx(100 * (ea - eb + half), rel=1e-12)
    # the adjustment matters: the plain Wald test on the same data differs
    assert nps_test(a, b, method="wald").se != pytest.approx(res.se, rel=1e-6)


# ---------------------------------------------------------------------------------------------
# Canonical implementations (scipy, statsmodels)
# ---------------------------------------------------------------------------------------------


def test_trinomial_interval_is_t_interval_of_scores():
    df = ltr_frame(40, 25, 35)
    y = np.where(df["ltr"] >= 9, 1, np.where(df["ltr"] >= 7, 0, -1))
    lo, hi = stats.t.interval(0.9, len(y) - 1, loc=y.mean(), scale=stats.sem(y))
    res = nps(df, ci="trinomial", level=0.9).iloc[0]
    assert res["ci_low"] == pytest.approx(100 * lo, rel=1e-10)
    assert res["ci_high"] == pytest.approx(100 * hi, rel=1e-10)


def test_weighted_nps_se_is_linearisation_hc1(rng):
    # One variance convention (issue 22): the n/(n-1) factor, i.e. statsmodels' HC1 for the
    # intercept-only WLS, which is R's svymean (checked live in tests/test_r_survey.py).
    n = 200
    df = pd.DataFrame({"ltr": rng.integers(0, 11, n), "w": rng.uniform(0.2, 3.0, n)})
    y = np.where(df["ltr"] >= 9, 1.0, np.where(df["ltr"] >= 7, 0.0, -1.0))
    fit = sm.WLS(y, np.ones((n, 1)), weights=df["w"]).fit(cov_type="HC1")
    res = nps(df, weight="w", ci="wald").iloc[0]
    assert res["nps"] == pytest.approx(100 * fit.params[0], rel=1e-10)
    assert res["se"] == pytest.approx(100 * fit.bse[0], rel=1e-10)
    z = stats.norm.ppf(0.975)
    assert res["ci_low"] == pytest.approx(100 * (fit.params[0] - z * fit.bse[0]), rel=1e-10)
    assert res["n_eff"] == pytest.approx(df["w"].sum() ** 2 / (df["w"] ** 2).sum(), rel=1e-12)


def test_ces_matches_scipy_and_weighted_hc1(rng):
    n = 150
    df = pd.DataFrame({"ces": rng.integers(1, 8, n), "w": rng.uniform(0.5, 2.0, n)})
    res = ces(df, score="ces", level=0.9).iloc[0]
    lo, hi = stats.t.interval(0.9, n - 1, loc=df["ces"].mean(), scale=stats.sem(df["ces"]))
    assert res["mean"] == pytest.approx(df["ces"].mean(), rel=1e-12)
    assert res["ci_low"] == pytest.approx(lo, rel=1e-10)
    assert res["ci_high"] == pytest.approx(hi, rel=1e-10)
    assert res["pct_easy"] == pytest.approx(100 * (df["ces"] >= 5).mean(), rel=1e-12)
    fit = sm.WLS(df["ces"].to_numpy(float), np.ones((n, 1)), weights=df["w"]).fit(cov_type="HC1")
    wres = ces(df, score="ces", weight="w").iloc[0]
    assert wres["mean"] == pytest.approx(fit.params[0], rel=1e-10)
    assert wres["se"] == pytest.approx(fit.bse[0], rel=1e-10)


def test_csat_wilson_matches_statsmodels(rng):
    df = pd.DataFrame({"s": rng.integers(1, 6, 87)})
    k = int((df["s"] >= 4).sum())
    lo, hi = proportion_confint(k, 87, alpha=0.1, method="wilson")
    res = csat(df, score="s", level=0.9).iloc[0]
    assert res["ci_low"] == pytest.approx(100 * lo, rel=1e-10)
    assert res["ci_high"] == pytest.approx(100 * hi, rel=1e-10)
    # se with the n/(n-1) convention of nps/csat/ces (issue 22): sqrt(p(1-p)/(n-1))
    assert res["se"] == pytest.approx(100 * np.sqrt(k / 87 * (1 - k / 87) / 86), rel=1e-12)


def test_two_proportion_test_matches_statsmodels_ztest():
    z, p = proportions_ztest([30, 45], [120, 130])
    res = two_proportion_test(30, 120, 45, 130)
    assert res.statistic == pytest.approx(z, rel=1e-10)
    assert res.pvalue == pytest.approx(p, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# nps(): behaviour, errors, flags
# ---------------------------------------------------------------------------------------------


def test_missing_scores_are_excluded_and_counted_nowhere():
    df = pd.DataFrame({"ltr": [10, None, 3, np.nan, 8]})
    res = nps(df).iloc[0]
    assert res["n"] == 3
    assert res["promoters"] + res["passives"] + res["detractors"] == 3


@pytest.mark.parametrize("bad", [11, -1, 7.5, "abc"])
def test_out_of_range_raises_naming_column_and_value(bad):
    df = pd.DataFrame({"q1": [10, 9, bad]})
    with pytest.raises(ValueError, match=r"'q1'.*" + str(bad).replace(".", r"\.")):
        nps(df, score="q1")


def test_bad_ci_and_level_are_rejected_with_allowed_values():
    df = ltr_frame(5, 5, 5)
    with pytest.raises(ValueError, match="adjusted_wald"):
        nps(df, ci="exact")
    with pytest.raises(ValueError, match="level"):
        nps(df, level=95)
    with pytest.raises(ValueError, match="not found"):
        nps(df, score="nope")


def test_base_flags_and_constants():
    assert (MIN_BASE, CAUTION_BASE) == (30, 100)
    assert [base_flag(n) for n in (0, 29, 30, 99, 100)] == ["suppress", "suppress", "caution", "caution", "ok"]
    df = pd.concat([ltr_frame(10, 10, 9, b="x"), ltr_frame(40, 30, 29, b="y"), ltr_frame(50, 30, 20, b="z")])
    assert nps(df, by="b")["base_flag"].tolist() == ["suppress", "caution", "ok"]


def test_group_with_only_missing_scores_is_kept_with_n_zero():
    df = pd.DataFrame({"ltr": [10, 3, None], "b": ["x", "x", "y"]})
    res = nps(df, by="b")
    assert res["n"].tolist() == [2, 0]
    assert np.isnan(res["nps"].iloc[1])
    assert res["base_flag"].iloc[1] == "suppress"


def test_all_promoters_gives_degenerate_but_valid_intervals():
    df = ltr_frame(50, 0, 0)
    for ci in CI_METHODS:
        res = nps(df, ci=ci, rng=1).iloc[0]
        assert res["nps"] == 100
        assert res["ci_high"] <= 100
        assert res["ci_low"] <= 100


@pytest.mark.parametrize("ci", ["bootstrap", "bayes"])
def test_random_intervals_are_seeded_and_close_to_wald(ci):
    df = ltr_frame(400, 300, 300)
    a = nps(df, ci=ci, rng=7)
    b = nps(df, ci=ci, rng=np.random.default_rng(7))
    pd.testing.assert_frame_equal(a, b)
    wald = nps(df, ci="wald").iloc[0]
    assert a["ci_low"].iloc[0] == pytest.approx(wald["ci_low"], abs=1.0)
    assert a["ci_high"].iloc[0] == pytest.approx(wald["ci_high"], abs=1.0)


def test_weighted_bootstrap_runs_and_is_deterministic(rng):
    df = pd.DataFrame({"ltr": rng.integers(0, 11, 120), "w": rng.uniform(0.5, 2, 120)})
    a = nps(df, weight="w", ci="bootstrap", rng=3, n_resamples=500)
    b = nps(df, weight="w", ci="bootstrap", rng=3, n_resamples=500)
    pd.testing.assert_frame_equal(a, b)
    assert a["ci_low"].iloc[0] < a["nps"].iloc[0] < a["ci_high"].iloc[0]


def test_nps_does_not_mutate_input():
    df = pd.DataFrame({"ltr": [10, 3, None, 8], "b": list("xyxy")})
    before = df.copy()
    nps(df, by="b")
    pd.testing.assert_frame_equal(df, before)


def test_categorical_ltr_is_accepted():
    df = pd.DataFrame({"ltr": pd.Categorical([10, 9, 3, 7])})
    assert nps(df)["nps"].iloc[0] == pytest.approx(25.0)


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------

scores_st = st.lists(st.one_of(st.integers(0, 10), st.none()), min_size=1, max_size=60)


@settings(max_examples=50, deadline=None)
@given(scores=scores_st, ci=st.sampled_from(CI_METHODS))
def test_property_nps_bounds_and_counts(scores, ci):
    res = nps(pd.DataFrame({"ltr": pd.array(scores, dtype="Int64")}), ci=ci, rng=0, n_resamples=200).iloc[0]
    valid = sum(s is not None for s in scores)
    assert res["n"] == valid
    assert res["promoters"] + res["passives"] + res["detractors"] == valid
    if valid:
        assert -100 <= res["nps"] <= 100
        # the t interval, and the Wald interval with the n/(n-1) SE, need n >= 2: documented NaN
        if ci in ("trinomial", "wald") and valid < 2:
            assert np.isnan(res["ci_low"]) and np.isnan(res["ci_high"])
        else:
            assert -100 <= res["ci_low"] <= res["ci_high"] <= 100
        assert res["pct_promoters"] + res["pct_passives"] + res["pct_detractors"] == pytest.approx(100)


@settings(max_examples=20, deadline=None)
@given(scores=st.lists(st.integers(0, 10), min_size=2, max_size=60), seed=st.integers(0, 2**16))
def test_property_invariant_to_row_order(scores, seed):
    df = pd.DataFrame({"ltr": scores})
    shuffled = df.sample(frac=1, random_state=seed)
    for ci in ("adjusted_wald", "trinomial", "bayes"):
        pd.testing.assert_frame_equal(nps(df, ci=ci, rng=1), nps(shuffled, ci=ci, rng=1))


@settings(max_examples=20, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 10), st.sampled_from(["a", "b", "c"]), st.sampled_from([1, 2])),
                  min_size=1, max_size=80)
)
def test_property_by_equals_manual_groupby(rows):
    df = pd.DataFrame(rows, columns=["ltr", "branch", "wave"])
    res = nps(df, by=["branch", "wave"])
    manual = []
    for (branch, wave), grp in df.groupby(["branch", "wave"], sort=True):
        manual.append(nps(grp).assign(branch=branch, wave=wave))
    manual = pd.concat(manual, ignore_index=True)[res.columns]
    pd.testing.assert_frame_equal(res, manual, check_dtype=False)


@settings(max_examples=30, deadline=None)
@given(scores=st.lists(st.integers(0, 10), min_size=2, max_size=60), ci=st.sampled_from(CI_METHODS))
def test_property_unit_weights_equal_unweighted(scores, ci):
    df = pd.DataFrame({"ltr": scores, "w": 1.0})
    weighted = nps(df, weight="w", ci=ci, rng=5, n_resamples=200)
    assert (weighted["n_eff"] == len(scores)).all()
    pd.testing.assert_frame_equal(
        weighted.drop(columns="n_eff"), nps(df, ci=ci, rng=5, n_resamples=200), check_exact=False, rtol=1e-9
    )


@settings(max_examples=30, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 10), st.integers(1, 4)), min_size=1, max_size=40))
def test_property_integer_weights_equal_replicated_rows_point_estimates(rows):
    df = pd.DataFrame(rows, columns=["ltr", "w"])
    replicated = df.loc[df.index.repeat(df["w"])]
    a = nps(df, weight="w").iloc[0]
    b = nps(replicated).iloc[0]
    for col in ("nps", "pct_promoters", "pct_passives", "pct_detractors"):
        assert a[col] == pytest.approx(b[col], abs=1e-9)


# ---------------------------------------------------------------------------------------------
# nps_test and nps_sample_size
# ---------------------------------------------------------------------------------------------


def test_nps_test_identical_samples_and_antisymmetry():
    a = ltr_frame(50, 30, 20)
    b = ltr_frame(35, 30, 35)
    same = nps_test(a, a)
    assert same.diff == 0 and same.pvalue == pytest.approx(1.0)
    ab, ba = nps_test(a, b), nps_test(b, a)
    assert ab.diff == pytest.approx(-ba.diff) and ab.pvalue == pytest.approx(ba.pvalue)
    # Series input equals DataFrame input
    s = nps_test(a["ltr"], b["ltr"])
    assert s == ab


def test_nps_test_wald_uses_rocks_variance():
    # Rocks (2016) / R package NPS nps_test: se = sqrt(var_x/n_x + var_y/n_y), var = p + d - (p - d)^2
    a, b = ltr_frame(60, 25, 15), ltr_frame(40, 30, 30)
    res = nps_test(a, b, method="wald")
    va, vb = 0.6 + 0.15 - 0.45**2, 0.4 + 0.3 - 0.1**2
    se = np.sqrt(va / 100 + vb / 100)
    # cxlab's Wald test applies the n/(n-1) convention of nps() (issue 22) to Rocks's variance:
    se *= np.sqrt(100 / 99)
    assert res.diff == pytest.approx(35.0)
    assert res.se == pytest.approx(100 * se, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.norm.sf(0.35 / se), rel=1e-10)


def test_nps_test_rejects_empty_sample():
    with pytest.raises(ValueError, match="at least one"):
        nps_test(pd.Series([None, None], dtype=float), pd.Series([10, 3]))


def test_nps_sample_size_reaches_margin():
    n = nps_sample_size(4, p_promoters=0.45, p_detractors=0.2, level=0.9)
    half = lambda m: stats.norm.ppf(0.95) * np.sqrt((0.65 - 0.25**2) / m) * 100  # noqa: E731
    assert half(n) <= 4 < half(n - 1)
    assert nps_sample_size(5, method="adjusted_wald") == nps_sample_size(5) - 3
    with pytest.raises(ValueError, match="sum to at most 1"):
        nps_sample_size(5, p_promoters=0.7, p_detractors=0.6)


def test_test_result_is_frozen_with_frame_and_html():
    res = two_proportion_test(10, 50, 20, 50)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.diff = 0  # type: ignore[misc]
    frame = res.to_frame()
    assert list(frame.columns)[:4] == ["diff", "se", "statistic", "pvalue"]
    assert "<table" in res._repr_html_()
    assert isinstance(res, TestResult)


def test_two_proportion_test_validates():
    with pytest.raises(ValueError, match="cannot exceed"):
        two_proportion_test(5, 4, 1, 10)


# ---------------------------------------------------------------------------------------------
# csat, ces, item_summary
# ---------------------------------------------------------------------------------------------


def test_csat_by_and_weights_and_scale_errors():
    df = pd.DataFrame({"s": [5, 4, 3, 2, 1, 5], "b": list("xxxyyy"), "w": 1.0})
    res = csat(df, score="s", by="b")
    assert res["csat"].tolist() == pytest.approx([200 / 3, 100 / 3])
    w = csat(df, score="s", by="b", weight="w")
    pd.testing.assert_frame_equal(w.drop(columns="n_eff"), res)
    assert csat(df, score="s", top_box=1)["csat"].iloc[0] == pytest.approx(100 / 3)
    with pytest.raises(ValueError, match="'s'.*6"):
        csat(pd.DataFrame({"s": [6]}), score="s")


def test_ces_easy_definition_and_range_error():
    df = pd.DataFrame({"e": [1, 2, 3, 4, 5, 6, 7]})
    res = ces(df, score="e").iloc[0]
    assert res["pct_easy"] == pytest.approx(300 / 7)  # 5, 6, 7 are easy
    assert res["mean"] == pytest.approx(4.0)
    with pytest.raises(ValueError, match="'e'.*0"):
        ces(pd.DataFrame({"e": [0, 3]}), score="e")


def test_item_summary_labels_codes_and_shares():
    df = pd.DataFrame({"a": ["好", "良好", "一般 ", "较差", "差", None], "b": [5, 4, 3, 2, 1, 1]})
    res = item_summary(df, items=["a", "b"], labels={"a": "产品的色彩"})
    pct_cols = [f"pct_{c}" for c in range(5, 0, -1)]
    assert list(res["item"]) == ["a", "b"]
    assert list(res["label"]) == ["产品的色彩", "b"]
    assert res[pct_cols].sum(axis=1).tolist() == pytest.approx([100, 100])
    a = res.iloc[0]
    assert a["n"] == 5 and a["mean"] == pytest.approx(3.0)
    assert a["top2"] == pytest.approx(40.0) and a["bottom2"] == pytest.approx(40.0)
    with pytest.raises(ValueError, match="'c'"):
        item_summary(pd.DataFrame({"c": ["很好"]}), items=["c"])


# ---------------------------------------------------------------------------------------------
# crosstab
# ---------------------------------------------------------------------------------------------


def test_crosstab_letters_percentages_and_bases():
    df = pd.DataFrame(
        {
            "sat": ["yes"] * 80 + ["no"] * 20 + ["yes"] * 50 + ["no"] * 50 + ["yes"] * 52 + ["no"] * 48,
            "branch": ["SH"] * 100 + ["BJ"] * 100 + ["GZ"] * 100,
        }
    )
    t = crosstab(df, row="sat", col="branch")
    assert dict(zip(t["col"], t["letter"], strict=False)) == {"BJ": "A", "GZ": "B", "SH": "C"}
    yes = t[t["row"] == "yes"].set_index("col")
    assert yes.loc["SH", "sig"] == "AB"  # 80 % vs 50 % and 52 %
    assert yes.loc["BJ", "sig"] == "" and yes.loc["GZ", "sig"] == ""
    assert t.groupby("col")["pct"].sum().tolist() == pytest.approx([100, 100, 100])
    assert (t["base"] == 100).all()
    # the letters agree with the two-proportion test
    assert two_proportion_test(80, 100, 52, 100).pvalue < 0.05
    assert two_proportion_test(52, 100, 50, 100).pvalue > 0.05


def test_crosstab_weighted_unit_weights_equals_unweighted():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"r": rng.choice(list("xyz"), 200), "c": rng.choice(list("pq"), 200), "w": 1.0})
    pd.testing.assert_frame_equal(crosstab(df, row="r", col="c", weight="w"), crosstab(df, row="r", col="c"))
    w2 = df.assign(w=2.0)
    t = crosstab(w2, row="r", col="c", weight="w")
    assert (t["weighted_base"] == 2 * t["base"]).all()


# ---------------------------------------------------------------------------------------------
# change
# ---------------------------------------------------------------------------------------------


def _two_periods():
    q1 = ltr_frame(50, 30, 20, period="2026Q1", branch="SH")
    q2 = ltr_frame(30, 30, 40, period="2026Q2", branch="SH")
    q1b = ltr_frame(40, 40, 20, period="2026Q1", branch="BJ")
    q2b = ltr_frame(41, 40, 19, period="2026Q2", branch="BJ")
    df = pd.concat([q1, q2, q1b, q2b], ignore_index=True)
    df["csat"] = np.resize([5, 4, 3, 2, 1, 4], len(df))
    df["ces"] = np.resize([7, 6, 5, 4, 3, 2, 1], len(df))
    return df


def test_change_nps_by_branch_matches_nps_test():
    df = _two_periods()
    res = change(df, metric="nps", by="branch")
    sh = res[(res["branch"] == "SH") & (res["period"] == "2026Q2")].iloc[0]
    expected = nps_test(
        df[(df.branch == "SH") & (df.period == "2026Q2")], df[(df.branch == "SH") & (df.period == "2026Q1")]
    )
    assert sh["previous_period"] == "2026Q1"
    assert sh["change"] == pytest.approx(-40.0)
    assert sh["pvalue"] == pytest.approx(expected.pvalue, rel=1e-12)
    # one definition of the change (issue 22): change() and nps_test() report the same difference
    assert sh["change"] == pytest.approx(expected.diff, rel=1e-12)
    assert [sh["ci_low"], sh["ci_high"]] == pytest.approx([expected.ci_low, expected.ci_high], rel=1e-12)
    assert sh["method"] == expected.method and "adjusted Wald" in sh["method"]
    assert bool(sh["significant"])
    bj = res[(res["branch"] == "BJ") & (res["period"] == "2026Q2")].iloc[0]
    assert not bool(bj["significant"])
    assert res["previous_period"].isna().sum() == 2  # first period of each branch


def test_change_csat_and_ces():
    df = _two_periods()
    c = change(df, metric="csat", by="branch")
    row = c[(c["branch"] == "SH") & (c["period"] == "2026Q2")].iloc[0]
    cur = df[(df.branch == "SH") & (df.period == "2026Q2")]
    prev = df[(df.branch == "SH") & (df.period == "2026Q1")]
    expected = two_proportion_test((cur.csat >= 4).sum(), len(cur), (prev.csat >= 4).sum(), len(prev))
    assert row["pvalue"] == pytest.approx(expected.pvalue, rel=1e-12)
    e = change(df, metric="ces", by="branch")
    row = e[(e["branch"] == "SH") & (e["period"] == "2026Q2")].iloc[0]
    welch = stats.ttest_ind(cur.ces, prev.ces, equal_var=False)
    assert row["pvalue"] == pytest.approx(welch.pvalue, rel=1e-8)
    with pytest.raises(ValueError, match="nps"):
        change(df, metric="ltr")


def test_change_orders_periods_by_ordered_categorical():
    df = _two_periods()
    df["period"] = pd.Categorical(df["period"], categories=["2026Q2", "2026Q1"], ordered=True)
    res = change(df, metric="nps")
    assert res["period"].tolist() == ["2026Q2", "2026Q1"]


# ---------------------------------------------------------------- repeat respondents (issue 22)
def _panel(rng, *, overlap: bool, repeat_within: int = 0) -> pd.DataFrame:
    n = 300
    taste = rng.normal(0, 1.8, n)
    ltr1 = np.clip(np.round(7 + taste + rng.normal(0, 0.5, n)), 0, 10)
    ltr2 = np.clip(np.round(6.5 + taste + rng.normal(0, 0.5, n)), 0, 10)
    ids1 = [f"c{i}" for i in range(n)]
    ids2 = ids1 if overlap else [f"d{i}" for i in range(n)]
    ids2 = ids2 + ids2[:repeat_within]
    ltr2 = np.r_[ltr2, ltr2[:repeat_within]]
    att = np.r_[taste, taste, taste[:repeat_within]]
    ltr = np.r_[ltr1, ltr2]
    return pd.DataFrame({
        "customer_id": ids1 + ids2, "period": ["2026Q1"] * n + ["2026Q2"] * (n + repeat_within),
        "ltr": ltr, "csat": np.clip(np.round(3.5 + 0.6 * att), 1, 5),
        "ces": np.clip(np.round(5 + 0.8 * att), 1, 7),
    })


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_change_with_correlated_repeat_customers_has_smaller_se(rng, metric):
    d = _panel(rng, overlap=True, repeat_within=15)
    ind = change(d, metric=metric).iloc[1]
    adj = change(d, metric=metric, paired_on="customer_id").iloc[1]
    assert adj["change"] == pytest.approx(ind["change"], rel=1e-12)  # one definition of the change
    assert adj["se"] < 0.6 * ind["se"]  # strongly correlated pairs: far smaller variance
    assert adj["method"].startswith("overlap-adjusted") and "300 customers in both" in adj["method"]
    assert ind["method"] != adj["method"]


@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_change_without_overlap_is_the_independent_test(rng, metric):
    d = _panel(rng, overlap=False, repeat_within=5)
    pd.testing.assert_frame_equal(change(d, metric=metric, paired_on="customer_id"),
                                  change(d, metric=metric))
    a, b = d[d["period"] == "2026Q2"], d[d["period"] == "2026Q1"]
    assert nps_test(a, b, paired_on="customer_id") == nps_test(a, b)


def test_overlap_test_reduces_to_cluster_sum_and_handles_missing_ids():
    from cxlab.metrics import overlap_test

    # Hand computation: a = (1, 1, 0, 1) for p, q, r, s; b = (1, 0, 0, 0) for p, q, r, t.
    # mu_a = 0.75, mu_b = 0.25; u = (y - mu)/4 in a, -(y - mu)/4 in b; customer totals
    # U = p: 1/16 - 3/16, q: 1/16 + 1/16, r: -3/16 + 1/16, s: 1/16, t: 1/16;
    # V = 5/4 * sum U^2 = 5/4 * (4 + 4 + 4 + 1 + 1)/256 = 70/1024.
    a = pd.DataFrame({"cid": ["p", "q", "r", "s"], "y": [1.0, 1.0, 0.0, 1.0]})
    b = pd.DataFrame({"cid": ["p", "q", "r", "t"], "y": [1.0, 0.0, 0.0, 0.0]})
    res = overlap_test(a, b, column="y", id="cid")
    assert res.diff == pytest.approx(0.5)
    assert res.se == pytest.approx(np.sqrt(70 / 1024), rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.norm.sf(0.5 / np.sqrt(70 / 1024)), rel=1e-12)
    # a missing id is a customer of its own (never matched): same as a fresh id
    a2 = a.assign(cid=["p", "q", "r", None])
    b2 = b.assign(cid=["p", "q", "r", None])
    res2 = overlap_test(a2, b2, column="y", id="cid")
    assert res2.se == pytest.approx(res.se, rel=1e-12)
    with pytest.raises(ValueError, match="not found"):
        overlap_test(a, b, column="y", id="customer")
    with pytest.raises(TypeError, match="DataFrame"):
        nps_test(pd.Series([10, 9]), pd.Series([3, 4]), paired_on="cid")
