"""Tests for cxlab.drivers against published relative-importance and dominance analyses.

Sources (the value's source sits in a comment beside it):
- [G2006] Grömping, U. (2006), "Relative importance for linear regression in R: A vignette for
  relaimpo" (relaimpo 1.1-1, inst/doc/relaimpo_vignette.pdf, github cran/relaimpo commit
  a0d5efe), the companion of Grömping (2006), J. Stat. Software 17(1); example data: swiss.
  It prints lmg, last, first, betasq and pratt (p. 6), hier.part's R² of all submodels and
  the rela = TRUE lmg percentages (pp. 11-12), and summary(lm(swiss)) (p. 2).
  No published output for relaimpo's ``car`` and ``genizi`` metrics was found (they were added
  to relaimpo after the vignette): genizi is checked against rwa's printed Johnson weights
  (relaimpo's genizicalc.R computes exactly Johnson's weights), car against its definition.
- [domir] README of github jluchman/domir (commit 009734c): domin(mpg ~ am + vs + cyl, lm, ...)
  and relaimpo::calc.relimp(mpg ~ am + vs + cyl, data = mtcars, type = "lmg").
- [rwa] rwa package vignettes (github martinctc/rwa, articles/introduction-to-rwa.md and
  articles/weighted-missing-data.md).
- [AB2003] Azen, R. & Budescu, D. V. (2003), Psychological Methods 8(2), 129-148: the
  four-predictor correlation matrix and its conditional dominance table, as transcribed in
  dominanceanalysis' tests/testthat/test-daAzenBudescu2003.R (github clbustos/dominanceAnalysis).
- [DA] dominanceanalysis README (github clbustos/dominanceAnalysis commit 5e3635f): attitude data,
  print(da.attitude), averageContribution() and summary(); submodel R² in
  tests/reference/drivers_attitude_submodels.json.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlab.drivers import (
    MAX_EXACT_DRIVERS,
    METHODS,
    DominanceResult,
    ImportanceResult,
    KeyDriverResult,
    dominance,
    from_correlation,
    key_drivers,
    relative_importance,
)
from cxlab.drivers._subsets import subset_r2

REFERENCE = Path(__file__).parent / "reference"
SWISS_DRIVERS = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]
ATTITUDE_DRIVERS = ["complaints", "privileges", "learning", "raises", "critical", "advance"]


@pytest.fixture(scope="module")
def swiss(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "swiss.csv")


@pytest.fixture(scope="module")
def mtcars(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "mtcars.csv")


@pytest.fixture(scope="module")
def attitude(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "attitude.csv")


def _importance(result: ImportanceResult) -> dict[str, float]:
    return dict(zip(result.table["driver"], result.table["importance"], strict=True))


# ─── relaimpo on swiss [G2006] ───────────────────────────────────────────────────────────────

# calc.relimp(swiss, type = c("lmg", "pmvd", "last", "first", "betasq", "pratt")), rela = FALSE,
# [G2006] p. 6; columns Agriculture, Examination, Education, Catholic, Infant.Mortality
SWISS_PUBLISHED = {
    "lmg": [0.05709122, 0.17117303, 0.26013468, 0.10557015, 0.11276592],  # [G2006] p. 6
    "last": [0.042869607, 0.007387419, 0.161962693, 0.062372626, 0.056945259],  # [G2006] p. 6
    "first": [0.1246649, 0.4171645, 0.4406156, 0.2150035, 0.1735189],  # [G2006] p. 6
    "betasq": [0.09791973, 0.02715186, 0.44943721, 0.12082578, 0.06306928],  # [G2006] p. 6
    "pratt": [-0.1104860, 0.1064274, 0.4450046, 0.1611768, 0.1046122],  # [G2006] p. 6
}


@pytest.mark.parametrize("method", sorted(SWISS_PUBLISHED))
def test_swiss_metrics_match_relaimpo(swiss, method):
    result = relative_importance(swiss, outcome="Fertility", drivers=SWISS_DRIVERS, method=method)
    np.testing.assert_allclose(
        result.table["importance"], SWISS_PUBLISHED[method], rtol=0, atol=1e-7
    )
    assert result.r2 == pytest.approx(0.7067, abs=5e-5)  # "Proportion of variance explained by model: 70.67%" [G2006] p. 6
    assert result.n == 47  # "Analysis based on 47 observations" [G2006] p. 6
    assert result.method == method


def test_swiss_lmg_rela_true_and_ranks(swiss):
    result = relative_importance(swiss, outcome="Fertility", drivers=SWISS_DRIVERS)
    # interim <- calc.relimp(linmod, rela = T, type = "lmg"); 100 * interim$lmg, [G2006] p. 12
    published_pct = [8.078165, 24.220256, 36.807952, 14.937728, 15.955899]
    np.testing.assert_allclose(100 * result.table["share"], published_pct, rtol=0, atol=1e-6)
    # ranks implied by the published lmg values, [G2006] p. 6: Education > Examination > ...
    assert result.table["rank"].tolist() == [5, 2, 1, 4, 3]


def test_swiss_subset_r2_match_hier_part_gfs(swiss):
    ref = json.loads((REFERENCE / "drivers_swiss_hierpart.json").read_text(encoding="utf-8"))
    cols = ["Fertility", *ref["drivers"]]
    r2 = subset_r2(np.cov(swiss[cols].to_numpy().T), [[j + 1] for j in range(5)])
    order = [
        sum(1 << j for j in combo)
        for size in range(6)
        for combo in itertools.combinations(range(5), size)
    ]
    np.testing.assert_allclose(r2[order], ref["gfs"], rtol=0, atol=1e-7)  # [G2006] p. 11, $gfs


def test_swiss_key_drivers_match_lm_summary(swiss):
    result = key_drivers(swiss, outcome="Fertility", drivers=SWISS_DRIVERS, bootstrap=0)
    t = result.table
    # summary(linmod <- lm(swiss)), [G2006] p. 2: Estimate, Std. Error, Pr(>|t|)
    np.testing.assert_allclose(t["coef"], [-0.17211, -0.25801, -0.87094, 0.10412, 1.07705], rtol=0, atol=5e-6)
    np.testing.assert_allclose(t["se"], [0.07030, 0.25388, 0.18303, 0.03526, 0.38172], rtol=0, atol=5e-6)
    np.testing.assert_allclose(t["pvalue"], [0.01873, 0.31546, 2.43e-05, 0.00519, 0.00734], rtol=5e-3, atol=0)
    assert result.intercept == pytest.approx(66.91518, abs=5e-6)  # (Intercept) [G2006] p. 2
    assert result.r2 == pytest.approx(0.7067, abs=5e-5)  # Multiple R-Squared: 0.7067 [G2006] p. 2
    assert result.adj_r2 == pytest.approx(0.671, abs=5e-4)  # Adjusted R-squared: 0.671 [G2006] p. 2
    # betasq is the squared standardised coefficient [G2006] p. 6
    np.testing.assert_allclose(t["std_beta"] ** 2, SWISS_PUBLISHED["betasq"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(t["importance"], SWISS_PUBLISHED["lmg"], rtol=0, atol=1e-7)
    assert t["share_ci_low"].isna().all() and t["share_ci_high"].isna().all()


def test_vif_matches_statsmodels(swiss):
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    result = key_drivers(swiss, outcome="Fertility", drivers=SWISS_DRIVERS, bootstrap=0)
    design = np.column_stack([np.ones(len(swiss)), swiss[SWISS_DRIVERS].to_numpy()])
    expected = [variance_inflation_factor(design, j) for j in range(1, 6)]
    np.testing.assert_allclose(result.table["vif"], expected, rtol=1e-9, atol=0)


# ─── domir / relaimpo / dominanceanalysis on mtcars [domir] ───────────────────────────────────


def test_mtcars_dominance_matches_domir(mtcars):
    result = dominance(mtcars, outcome="mpg", drivers=["am", "vs", "cyl"])
    assert isinstance(result, DominanceResult)
    assert result.r2 == pytest.approx(0.7619773, abs=1e-7)  # Overall Fit Statistic [domir]
    np.testing.assert_allclose(
        result.general["importance"], [0.1774892, 0.2027032, 0.3817849], rtol=0, atol=1e-7
    )  # General Dominance [domir]; also relaimpo lmg in the same README
    np.testing.assert_allclose(
        result.general["share"], [0.2329324, 0.2660226, 0.5010450], rtol=0, atol=1e-7
    )  # Standardized [domir]
    assert result.general["rank"].tolist() == [3, 2, 1]  # Ranks [domir]
    expected_conditional = [  # Conditional Dominance Statistics, IVs: 1, 2, 3 [domir]
        [0.3597989, 0.1389842, 0.033684441],  # am
        [0.4409477, 0.1641982, 0.002963748],  # vs
        [0.7261800, 0.3432799, 0.075894823],  # cyl
    ]
    np.testing.assert_allclose(result.conditional.to_numpy(), expected_conditional, rtol=0, atol=1e-7)
    assert list(result.conditional.columns) == [0, 1, 2]
    np.testing.assert_allclose(
        result.conditional.mean(axis=1), result.general["importance"], rtol=0, atol=1e-12
    )
    c = result.complete  # Complete Dominance Designations [domir]: cyl dominates am and vs
    assert c.loc["cyl", "am"] is True and c.loc["cyl", "vs"] is True
    assert c.loc["am", "cyl"] is False and c.loc["vs", "cyl"] is False
    assert pd.isna(c.loc["am", "vs"]) and pd.isna(c.loc["vs", "am"])  # NA in [domir]
    assert all(pd.isna(c.loc[d, d]) for d in ["am", "vs", "cyl"])


# ─── rwa (Johnson's relative weights) on mtcars [rwa] ────────────────────────────────────────


def test_mtcars_johnson_matches_rwa(mtcars):
    result = relative_importance(
        mtcars, outcome="mpg", drivers=["cyl", "disp", "hp", "gear"], method="johnson"
    )
    # rwa(mtcars, "mpg", c("cyl", "disp", "hp", "gear"), sort = FALSE)$result [rwa] introduction
    np.testing.assert_allclose(
        result.table["importance"], [0.2284797, 0.2221469, 0.2321744, 0.0963886], rtol=0, atol=1e-7
    )  # Raw.RelWeight
    np.testing.assert_allclose(
        100 * result.table["share"], [29.32274, 28.50999, 29.79691, 12.37037], rtol=0, atol=1e-5
    )  # Rescaled.RelWeight
    assert result.r2 == pytest.approx(0.7791896, abs=1e-7)  # result_basic$rsquare [rwa]
    assert result.n == 32  # result_basic$n [rwa]


def test_mtcars_johnson_five_predictors_matches_rwa(mtcars):
    result = relative_importance(
        mtcars, outcome="mpg", drivers=["cyl", "disp", "hp", "gear", "wt"], method="johnson"
    )
    got = _importance(result)
    # rwa_result$result for c("cyl", "disp", "hp", "gear", "wt") [rwa] introduction, Visualization
    expected = {"wt": 0.23642417, "cyl": 0.18833374, "hp": 0.18809142, "disp": 0.16479802, "gear": 0.07345304}
    for driver, value in expected.items():
        assert got[driver] == pytest.approx(value, abs=1e-8)


def test_mtcars_weighted_johnson_matches_rwa(mtcars):
    data = mtcars.assign(respondent_weight=np.tile([0.8, 1.2, 1.5, 0.6], 8))
    result = relative_importance(
        data, outcome="mpg", drivers=["cyl", "disp", "hp"], method="johnson", weight="respondent_weight"
    )
    # weighted_result$result, weights rep(c(0.8, 1.2, 1.5, 0.6), 8) [rwa] introduction
    np.testing.assert_allclose(
        result.table["importance"], [0.2907136, 0.2889098, 0.2088641], rtol=0, atol=1e-7
    )
    np.testing.assert_allclose(
        100 * result.table["share"], [36.86978, 36.64101, 26.48921], rtol=0, atol=1e-5
    )


def test_mtcars_weighted_johnson_second_example_matches_rwa(mtcars):
    data = mtcars.assign(observation_weight=np.tile([1, 2, 5, 3], 8))
    result = relative_importance(
        data, outcome="mpg", drivers=["hp", "wt", "disp"], method="johnson", weight="observation_weight"
    )
    # fit$result, weights rep(c(1, 2, 5, 3), 8) [rwa] weighted-missing-data
    np.testing.assert_allclose(
        result.table["importance"], [0.2322933, 0.3546032, 0.2844148], rtol=0, atol=1e-7
    )
    assert result.r2 == pytest.approx(0.8713113, abs=1e-7)  # rwa = weighted_lm [rwa]
    # the same R² as statsmodels WLS, which rwa checks against summary(lm(..., weights))$r.squared
    kd = key_drivers(data, outcome="mpg", drivers=["hp", "wt", "disp"], weight="observation_weight", bootstrap=0)
    assert kd.r2 == pytest.approx(0.8713113, abs=1e-7)  # [rwa] weighted_lm


def test_missing_values_listwise_matches_rwa_count(mtcars):
    data = mtcars.assign(observation_weight=np.tile([1.0, 2, 5, 3], 8))
    data.loc[0, "mpg"] = np.nan
    data.loc[1, "observation_weight"] = np.nan
    data.loc[2, "hp"] = np.nan
    result = relative_importance(
        data, outcome="mpg", drivers=["hp", "wt", "disp"], method="johnson", weight="observation_weight"
    )
    assert result.n == 29  # missing_fit$n, [rwa] weighted-missing-data
    kept = data.dropna(subset=["mpg", "hp", "wt", "disp", "observation_weight"])
    assert kept["observation_weight"].sum() == 80  # n_weighted [rwa]
    direct = relative_importance(
        kept, outcome="mpg", drivers=["hp", "wt", "disp"], method="johnson", weight="observation_weight"
    )
    pd.testing.assert_frame_equal(result.table, direct.table)


# ─── Azen & Budescu (2003) from a published correlation matrix [AB2003] ─────────────────────

AB_NAMES = ["y", "x1", "x2", "x3", "x4"]
AB_CORR = pd.DataFrame(
    [  # [AB2003] correlation matrix (y, x1, x2, x3, x4)
        [1.0, 0.6, 0.3, 0.4, 0.5],
        [0.6, 1.0, 0.8, 0.1, 0.3],
        [0.3, 0.8, 1.0, 0.1, 0.1],
        [0.4, 0.1, 0.1, 1.0, 0.5],
        [0.5, 0.3, 0.1, 0.5, 1.0],
    ],
    index=AB_NAMES,
    columns=AB_NAMES,
)


def test_azen_budescu_conditional_and_general_dominance():
    result = dominance(from_correlation(AB_CORR), outcome="y", drivers=["x1", "x2", "x3", "x4"])
    expected = np.array(  # [AB2003] conditional dominance table, rows = subset size 0..3
        [
            [0.360, 0.090, 0.160, 0.250],
            [0.300, 0.074, 0.095, 0.152],
            [0.263, 0.069, 0.063, 0.073],
            [0.246, 0.071, 0.061, 0.010],
        ]
    )
    np.testing.assert_allclose(result.conditional.to_numpy().T, expected, rtol=0, atol=5e-4 + 1e-9)
    assert result.n is None
    # general dominance = mean of conditional; the importances sum to R²
    assert result.general["importance"].sum() == pytest.approx(result.r2, abs=1e-12)
    # [AB2003]: x1 completely dominates x2, x3, x4; no complete dominance among x2, x3, x4
    c = result.complete
    assert all(c.loc["x1", x] is True for x in ["x2", "x3", "x4"])
    assert all(pd.isna(c.loc[a, b]) for a, b in itertools.permutations(["x2", "x3", "x4"], 2))
    # general dominance order x1 > x4 > x3 > x2 (dominanceanalysis test of [AB2003])
    assert result.general.sort_values("rank")["driver"].tolist() == ["x1", "x4", "x3", "x2"]


def test_correlation_input_equals_raw_data(swiss):
    corr = swiss[["Fertility", *SWISS_DRIVERS]].corr()
    from_matrix = relative_importance(from_correlation(corr, n=47), outcome="Fertility", drivers=SWISS_DRIVERS)
    from_data = relative_importance(swiss, outcome="Fertility", drivers=SWISS_DRIVERS)
    pd.testing.assert_frame_equal(from_matrix.table, from_data.table, rtol=1e-12, atol=1e-12)
    assert from_matrix.n == 47
    with pytest.raises(ValueError, match="weight"):
        relative_importance(from_correlation(corr), outcome="Fertility", drivers=SWISS_DRIVERS, weight="w")


# ─── dominanceanalysis on attitude [DA] ──────────────────────────────────────────────────────


def test_attitude_complete_dominance_matches_dominanceanalysis(attitude):
    result = dominance(attitude, outcome="rating", drivers=ATTITUDE_DRIVERS)
    c = result.complete
    # print(da.attitude), "complete" column [DA]: who completely dominates whom
    dominated_by = {
        "complaints": {"privileges", "learning", "raises", "critical", "advance"},
        "privileges": {"critical"},
        "learning": {"privileges", "raises", "critical", "advance"},
        "raises": {"critical"},
        "critical": set(),
        "advance": set(),
    }
    for i, j in itertools.permutations(ATTITUDE_DRIVERS, 2):
        if j in dominated_by[i]:
            assert c.loc[i, j] is True and c.loc[j, i] is False, (i, j)
        elif i not in dominated_by[j]:
            assert pd.isna(c.loc[i, j]), (i, j)
    # averageContribution(da.attitude) [DA], printed to 3 decimals
    np.testing.assert_allclose(
        result.general["importance"], [0.371, 0.051, 0.156, 0.12, 0.007, 0.028], rtol=0, atol=5e-4 + 1e-9
    )


def test_attitude_submodel_r2_match_dominanceanalysis(attitude):
    ref = json.loads((REFERENCE / "drivers_attitude_submodels.json").read_text(encoding="utf-8"))
    r2 = subset_r2(np.cov(attitude[["rating", *ATTITUDE_DRIVERS]].to_numpy().T), [[j + 1] for j in range(6)])
    for model, fit in ref["fits"].items():  # summary(da.attitude) [DA]
        mask = sum(1 << ATTITUDE_DRIVERS.index(v) for v in model.split("+"))
        assert r2[mask] == pytest.approx(fit, abs=5e-4 + 1e-9), model


# ─── independent brute-force checks (refitting with numpy least squares) ─────────────────────


def _lstsq_r2(y: np.ndarray, x: np.ndarray, w: np.ndarray | None = None) -> float:
    w = np.ones(len(y)) if w is None else w
    design = np.column_stack([np.ones(len(y)), x])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)[0]
    resid = y - design @ coef
    ybar = np.average(y, weights=w)
    return 1 - np.sum(w * resid**2) / np.sum(w * (y - ybar) ** 2)


def _brute_shapley(y, cols: list[np.ndarray], base: np.ndarray | None = None, w=None) -> np.ndarray:
    """LMG by averaging sequential R² over all orderings, refitting every model."""
    p = len(cols)
    base_cols = [] if base is None else [base]

    def fit(players):
        blocks = base_cols + [cols[j] for j in sorted(players)]
        return _lstsq_r2(y, np.column_stack(blocks), w) if blocks else 0.0

    total = np.zeros(p)
    for order in itertools.permutations(range(p)):
        seen: list[int] = []
        prev = fit(seen)
        for j in order:
            seen.append(j)
            cur = fit(seen)
            total[j] += cur - prev
            prev = cur
    return total / math.factorial(p)


def test_lmg_equals_brute_force_refits(rng):
    x = rng.normal(size=(120, 4)) + rng.normal(size=(120, 1))
    y = x @ np.array([0.5, 0.2, 0.0, 0.3]) + rng.normal(size=120)
    w = rng.uniform(0.2, 3.0, size=120)
    df = pd.DataFrame(x, columns=list("abcd")).assign(y=y, w=w)
    result = relative_importance(df, outcome="y", drivers=list("abcd"), weight="w")
    expected = _brute_shapley(y, [x[:, j] for j in range(4)], w=w)
    np.testing.assert_allclose(result.table["importance"], expected, rtol=0, atol=1e-10)
    assert result.r2 == pytest.approx(_lstsq_r2(y, x, w), abs=1e-12)


def test_groups_and_always_equal_brute_force(rng):
    x = rng.normal(size=(150, 5)) + 0.5 * rng.normal(size=(150, 1))
    y = x @ np.array([0.4, 0.3, 0.2, 0.1, 0.5]) + rng.normal(size=150)
    df = pd.DataFrame(x, columns=["a", "b", "c", "d", "age"]).assign(y=y)
    result = relative_importance(
        df, outcome="y", drivers=["a", "b", "c", "d"], groups={"service": ["b", "c"]}, always="age"
    )
    assert result.table["driver"].tolist() == ["a", "service", "d"]
    expected = _brute_shapley(y, [x[:, [0]], x[:, [1, 2]], x[:, [3]]], base=x[:, [4]])
    np.testing.assert_allclose(result.table["importance"], expected, rtol=0, atol=1e-10)
    r2_always = _lstsq_r2(y, x[:, [4]])
    assert result.r2_always == pytest.approx(r2_always, abs=1e-12)
    assert result.r2 == pytest.approx(_lstsq_r2(y, x), abs=1e-12)
    assert result.table["importance"].sum() == pytest.approx(result.r2 - r2_always, abs=1e-12)
    first = relative_importance(df, outcome="y", drivers=["a", "b", "c", "d"], method="first", always="age")
    assert first.table["importance"].iloc[0] == pytest.approx(
        _lstsq_r2(y, x[:, [0, 4]]) - r2_always, abs=1e-12
    )  # relaimpo: "first" after adjusting out always, in units of var(y)
    last = relative_importance(df, outcome="y", drivers=["a", "b", "c", "d"], method="last", groups={"service": ["b", "c"]})
    assert last.table["importance"].iloc[1] == pytest.approx(
        _lstsq_r2(y, x[:, :4]) - _lstsq_r2(y, x[:, [0, 3]]), abs=1e-12
    )


def test_collinear_drivers_share_equally(rng):
    x = rng.normal(size=(100, 2))
    df = pd.DataFrame({"a": x[:, 0], "a_copy": x[:, 0], "b": x[:, 1]})
    df["y"] = df.a + 0.5 * df.b + rng.normal(size=100)
    result = relative_importance(df, outcome="y", drivers=["a", "a_copy", "b"])
    imp = _importance(result)
    assert imp["a"] == pytest.approx(imp["a_copy"], abs=1e-10)
    assert sum(imp.values()) == pytest.approx(_lstsq_r2(df.y.to_numpy(), x), abs=1e-10)
    with pytest.raises(ValueError, match="singular"):
        relative_importance(df, outcome="y", drivers=["a", "a_copy", "b"], method="johnson")


def test_subset_engine_paths_equal_least_squares(rng, monkeypatch):
    """Stacked and split enumeration of the subsets: same numbers, and R² of every refit."""
    import cxlab.drivers._subsets as subsets

    p = 7
    x = rng.normal(size=(300, p)) + rng.normal(size=(300, 1))
    x[:, 4] = x[:, 1] - x[:, 2]  # redundant once x1 and x2 are in the model
    y = x @ rng.normal(size=p) + rng.normal(size=300)
    cov = np.cov(np.column_stack([y, x]).T)
    players = [[j + 1] for j in range(p)]
    monkeypatch.setattr(subsets, "_SPLIT_COLUMNS", 1 << 40)  # stack every level but the last two
    stacked = subset_r2(cov, players)
    monkeypatch.setattr(subsets, "_SPLIT_COLUMNS", 1)  # never stack
    split = subset_r2(cov, players)
    np.testing.assert_array_equal(split, stacked)  # the same operations, element by element
    batch = subset_r2(np.stack([cov, 2.0 * cov]), players)
    np.testing.assert_allclose(batch, np.column_stack([split, split]), rtol=0, atol=1e-13)
    for mask in range(1 << p):
        cols = [j for j in range(p) if mask >> j & 1]
        expected = _lstsq_r2(y, x[:, cols]) if cols else 0.0
        assert split[mask] == pytest.approx(expected, abs=1e-10), cols


def test_batched_shapley_equals_one_matrix_at_a_time(rng):
    from cxlab.drivers._subsets import shapley_values

    p = 9
    covs = []
    for _ in range(5):
        x = rng.normal(size=(80, p + 1)) + rng.normal(size=(80, 1))
        covs.append(np.cov(x.T))
    r2 = subset_r2(np.stack(covs), [[j + 1] for j in range(p)])  # (2**p, 5)
    batch = shapley_values(r2, p)
    for b in range(5):
        np.testing.assert_allclose(batch[:, b], shapley_values(r2[:, b], p), rtol=0, atol=1e-13)
    np.testing.assert_allclose(batch.sum(axis=0), r2[-1], rtol=0, atol=1e-13)


# ─── properties ──────────────────────────────────────────────────────────────────────────────


@st.composite
def regression_data(draw):
    p = draw(st.integers(min_value=1, max_value=6))
    n = draw(st.integers(min_value=p + 5, max_value=60))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    gen = np.random.default_rng(seed)
    x = gen.normal(size=(n, p)) + gen.normal(size=(n, 1)) * draw(st.floats(0, 2))
    y = x @ gen.normal(size=p) + gen.normal(size=n)
    df = pd.DataFrame(x, columns=[f"x{j}" for j in range(p)]).assign(y=y)
    return df, [f"x{j}" for j in range(p)], gen


@settings(max_examples=30, deadline=None)
@given(regression_data())
def test_lmg_sums_to_r2_and_shares_to_one(case):
    df, drivers, _ = case
    result = relative_importance(df, outcome="y", drivers=drivers)
    assert result.table["importance"].sum() == pytest.approx(result.r2, abs=1e-10)
    assert result.table["share"].sum() == pytest.approx(1.0, abs=1e-10)
    assert (result.table["importance"] >= -1e-12).all()
    assert result.r2 == pytest.approx(_lstsq_r2(df.y.to_numpy(), df[drivers].to_numpy()), abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(regression_data(), st.sampled_from(["lmg", "johnson", "pratt", "car", "first", "last", "betasq"]))
def test_permuting_drivers_permutes_results(case, method):
    df, drivers, gen = case
    perm = list(gen.permutation(drivers))
    a = relative_importance(df, outcome="y", drivers=drivers, method=method)
    b = relative_importance(df, outcome="y", drivers=perm, method=method)
    merged = a.table.merge(b.table, on="driver")
    np.testing.assert_allclose(merged["importance_x"], merged["importance_y"], rtol=0, atol=1e-10)
    if method in ("johnson", "pratt", "car"):  # they decompose R² too
        assert a.table["importance"].sum() == pytest.approx(a.r2, abs=1e-10)


@settings(max_examples=20, deadline=None)
@given(regression_data())
def test_unit_weights_equal_unweighted_and_integer_weights_equal_repeated_rows(case):
    df, drivers, gen = case
    ones = relative_importance(df.assign(w=1.0), outcome="y", drivers=drivers, weight="w")
    plain = relative_importance(df, outcome="y", drivers=drivers)
    pd.testing.assert_frame_equal(ones.table, plain.table, rtol=1e-9, atol=1e-12)
    reps = gen.integers(1, 4, size=len(df))
    weighted = relative_importance(df.assign(w=reps), outcome="y", drivers=drivers, weight="w")
    repeated = relative_importance(df.loc[df.index.repeat(reps)], outcome="y", drivers=drivers)
    pd.testing.assert_frame_equal(weighted.table, repeated.table, rtol=1e-8, atol=1e-10)


def test_single_driver_lmg_is_squared_correlation(swiss):
    for driver in SWISS_DRIVERS:
        result = relative_importance(swiss, outcome="Fertility", drivers=[driver])
        r = swiss["Fertility"].corr(swiss[driver])
        assert result.table["importance"].iloc[0] == pytest.approx(r**2, abs=1e-12)
        assert result.table["share"].iloc[0] == 1.0


def test_car_and_johnson_equal_squared_correlations_for_orthogonal_drivers(rng):
    q, _ = np.linalg.qr(rng.normal(size=(80, 3)) - rng.normal(size=(80, 3)).mean(axis=0))
    x = q - q.mean(axis=0)
    x, _ = np.linalg.qr(x)
    df = pd.DataFrame(x, columns=list("abc")).assign(y=x @ [1.0, 0.5, 0.2] + rng.normal(size=80) * 0.1)
    r2_single = [df["y"].corr(df[c]) ** 2 for c in "abc"]
    for method in ("car", "johnson", "lmg", "pratt", "first", "last", "betasq"):
        result = relative_importance(df, outcome="y", drivers=list("abc"), method=method)
        np.testing.assert_allclose(result.table["importance"], r2_single, rtol=1e-6, atol=1e-8)


def test_genizi_matches_rwa_published_weights(mtcars):
    """relaimpo's genizi is Johnson's relative weights: R/genizicalc.R (github cran/relaimpo;
    rdrr.io/cran/relaimpo/src/R/genizicalc.R) takes the symmetric root L of the predictors'
    correlation matrix and returns rowSums((L * t(solve(L, r_xy)))^2), which is Johnson's (2000)
    sum_k lambda_jk^2 beta_k^2. So the genizi method must reproduce rwa's printed relative weights
    for mtcars — numbers computed outside cxlab, unlike a comparison of cxlab's genizi with
    cxlab's johnson (which would share any mistake)."""
    result = relative_importance(
        mtcars, outcome="mpg", drivers=["cyl", "disp", "hp", "gear"], method="genizi"
    )
    # rwa(mtcars, "mpg", c("cyl", "disp", "hp", "gear"), sort = FALSE)$result [rwa] introduction
    np.testing.assert_allclose(
        result.table["importance"], [0.2284797, 0.2221469, 0.2321744, 0.0963886], rtol=0, atol=1e-7
    )  # Raw.RelWeight
    assert result.table["importance"].sum() == pytest.approx(0.7791896, abs=1e-7)  # rsquare [rwa]


def test_car_is_the_squared_correlation_with_the_decorrelated_drivers(swiss):
    """No printed CAR-score output for a data set at hand was found (relaimpo's vignette predates
    `car`; care's examples print no values), so this checks the DEFINITION instead of published
    numbers: Zuber & Strimmer (2011, SAGMB 10:34) define CAR scores as the correlations between
    the response and the Mahalanobis-decorrelated predictors Z = X_std R_xx^(-1/2); relaimpo's
    car is their square (R/carcalc.R: (R_xx^(-1/2) R_xy)^2). Here Z is built from the data (an
    eigendecomposition, then np.corrcoef on the n rows) — a different route from the method's
    correlation-matrix algebra; what this does not prove is agreement with care's or relaimpo's
    own printed output."""
    x = swiss[SWISS_DRIVERS].to_numpy(float)
    y = swiss["Fertility"].to_numpy(float)
    xs = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    vals, vecs = np.linalg.eigh(np.corrcoef(xs, rowvar=False))
    z = xs @ (vecs @ np.diag(vals ** -0.5) @ vecs.T)
    car = np.array([np.corrcoef(z[:, j], y)[0, 1] for j in range(z.shape[1])]) ** 2
    result = relative_importance(swiss, outcome="Fertility", drivers=SWISS_DRIVERS, method="car")
    np.testing.assert_allclose(result.table["importance"], car, rtol=0, atol=1e-10)
    # decomposes R², which [G2006] prints for swiss: Multiple R-squared 0.7067 (p. 2)
    assert result.table["importance"].sum() == pytest.approx(0.7067, abs=5e-5)


# ─── key_drivers bootstrap ───────────────────────────────────────────────────────────────────


def test_key_drivers_bootstrap_is_seeded_and_brackets_the_estimate(attitude):
    kwargs = dict(outcome="rating", drivers=ATTITUDE_DRIVERS, bootstrap=200)
    a = key_drivers(attitude, rng=7, **kwargs)
    b = key_drivers(attitude, rng=np.random.default_rng(7), **kwargs)
    c = key_drivers(attitude, rng=8, **kwargs)
    d = key_drivers(attitude, **kwargs)
    e = key_drivers(attitude, **kwargs)
    assert isinstance(a, KeyDriverResult)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(d.table, e.table)  # rng=None is reproducible too
    assert not np.allclose(a.table["share_ci_low"], c.table["share_ci_low"])
    t = a.table
    assert list(t.columns) == [
        "driver", "coef", "se", "std_beta", "pvalue", "vif", "importance", "share",
        "share_ci_low", "share_ci_high", "rank", "rank_group",
    ]
    assert (t["share_ci_low"] <= t["share"]).all() and (t["share"] <= t["share_ci_high"]).all()
    assert ((t["share_ci_low"] >= 0) & (t["share_ci_high"] <= 1)).all()
    assert a.bootstrap == 200 and a.n == 30 and a.level == 0.95


def test_bootstrap_ci_narrows_with_lower_level(attitude):
    wide = key_drivers(attitude, outcome="rating", drivers=ATTITUDE_DRIVERS, bootstrap=300, rng=1, level=0.95)
    narrow = key_drivers(attitude, outcome="rating", drivers=ATTITUDE_DRIVERS, bootstrap=300, rng=1, level=0.5)
    assert ((narrow.table.share_ci_high - narrow.table.share_ci_low) <= (wide.table.share_ci_high - wide.table.share_ci_low)).all()


def test_bootstrap_percentiles_match_a_direct_resampling_loop(attitude):
    from cxlab.drivers._keydrivers import bootstrap_lmg_shares

    values = attitude[["rating", *ATTITUDE_DRIVERS]].to_numpy(dtype=float)
    shares = bootstrap_lmg_shares(values, None, replicates=5, rng=np.random.default_rng(3))
    draws = np.random.default_rng(3).integers(0, len(values), size=(5, len(values)))
    for k in range(5):
        rows = draws[k]
        sample = pd.DataFrame(values[rows], columns=["rating", *ATTITUDE_DRIVERS])
        direct = relative_importance(sample, outcome="rating", drivers=ATTITUDE_DRIVERS)
        np.testing.assert_allclose(shares[k], direct.table["share"], rtol=0, atol=1e-10)


# ─── speed, limits and errors ────────────────────────────────────────────────────────────────


def test_exact_lmg_is_practical_for_many_drivers(rng):
    p = 16
    x = rng.normal(size=(2000, p)) + rng.normal(size=(2000, 1))
    df = pd.DataFrame(x, columns=[f"q{j}" for j in range(p)]).assign(y=x.sum(axis=1) + rng.normal(size=2000))
    start = time.perf_counter()
    result = relative_importance(df, outcome="y", drivers=[f"q{j}" for j in range(p)])
    assert time.perf_counter() - start < 5.0  # about 0.05 s on 2 idle cores
    assert result.table["importance"].sum() == pytest.approx(result.r2, abs=1e-10)


def test_refuses_beyond_max_exact_drivers(rng):
    p = MAX_EXACT_DRIVERS + 1
    df = pd.DataFrame(rng.normal(size=(200, p + 1)), columns=[f"q{j}" for j in range(p)] + ["y"])
    drivers = [f"q{j}" for j in range(p)]
    with pytest.raises(ValueError, match=f"MAX_EXACT_DRIVERS = {MAX_EXACT_DRIVERS}"):
        relative_importance(df, outcome="y", drivers=drivers)
    with pytest.raises(ValueError, match="MAX_EXACT_DRIVERS"):
        dominance(df, outcome="y", drivers=drivers)
    # the single-model metrics have no such limit
    assert len(relative_importance(df, outcome="y", drivers=drivers, method="johnson").table) == p


def test_errors_are_clear(swiss):
    kw = dict(outcome="Fertility", drivers=SWISS_DRIVERS)
    with pytest.raises(ValueError, match="lmg.*johnson"):
        relative_importance(swiss, method="shapley", **kw)
    with pytest.raises(ValueError, match="not found"):
        relative_importance(swiss, outcome="Fertility", drivers=["Agriculture", "Nope"])
    with pytest.raises(ValueError, match="constant"):
        relative_importance(swiss.assign(k=1.0), outcome="Fertility", drivers=["Agriculture", "k"])
    with pytest.raises(ValueError, match="groups work with methods"):
        relative_importance(swiss, method="betasq", groups={"school": ["Examination", "Education"]}, **kw)
    with pytest.raises(ValueError, match="negative"):
        relative_importance(swiss.assign(w=-1.0), weight="w", **kw)
    with pytest.raises(ValueError, match="both drivers and always"):
        relative_importance(swiss, always="Catholic", **kw)
    with pytest.raises(TypeError, match="numeric"):
        relative_importance(swiss.assign(t="a"), outcome="Fertility", drivers=["t"])
    with pytest.raises(ValueError, match="bootstrap"):
        key_drivers(swiss, bootstrap=-1, **kw)
    assert set(METHODS) >= {"lmg", "johnson", "first", "last", "betasq", "pratt", "car"}


def test_results_are_frozen_and_render(swiss):
    result = relative_importance(swiss, outcome="Fertility", drivers=SWISS_DRIVERS)
    with pytest.raises(AttributeError):
        result.r2 = 0.0  # type: ignore[misc]
    assert list(result.table.columns) == ["driver", "importance", "share", "rank"]
    assert {"method", "r2"} <= set(result.to_frame().columns)
    assert "Education" in result._repr_html_()
    dom = dominance(swiss, outcome="Fertility", drivers=SWISS_DRIVERS)
    assert "conditional_4" in dom.to_frame().columns and "<table" in dom._repr_html_()
    kd = key_drivers(swiss, outcome="Fertility", drivers=SWISS_DRIVERS, bootstrap=0)
    assert "<table" in kd._repr_html_() and kd.to_frame().shape == (5, 12)
