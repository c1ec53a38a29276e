"""Live cross-checks of the crosstab letter tests against R (issue 22 §2/§3).

The pairwise column tests (:mod:`cxlab.metrics._column_tests`) and the overall crosstab test are
compared with what R prints on the same data: ``fisher.test`` (small expected counts),
``prop.test(correct = FALSE)`` (otherwise), ``svyttest`` on the two columns' design (weighted
letters) and ``svychisq`` (weighted overall test), to 1e-6 relative. Runs Rscript like
``tests/test_r_survey.py`` (skips without R on a developer's machine, fails under CI=true).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_r_survey import close, run_r

from cxlab.metrics import crosstab, crosstab_overall, crosstab_tests
from cxlab.metrics._column_tests import (
    design_mean_test,
    design_pair_tests,
    design_rank_test,
    pair_tests,
)

# 2×2 tables (k1, n1, k2, n2) whose smallest expected count is below 5
SMALL = [(1, 30, 7, 32), (0, 31, 5, 40), (1, 35, 7, 33), (2, 60, 6, 30), (30, 31, 24, 33)]


def test_fisher_for_small_expected_counts_equals_fisher_test(tmp_path):
    frame = pd.DataFrame(SMALL, columns=["k1", "n1", "k2", "n2"])
    r = run_r(tmp_path, frame, """
p <- sapply(seq_len(nrow(d)), function(i) fisher.test(matrix(c(d$k1[i], d$n1[i] - d$k1[i],
            d$k2[i], d$n2[i] - d$k2[i]), 2, byrow = TRUE))$p.value)
out("fisher", p)
e <- sapply(seq_len(nrow(d)), function(i) min(suppressWarnings(chisq.test(matrix(c(d$k1[i],
            d$n1[i] - d$k1[i], d$k2[i], d$n2[i] - d$k2[i]), 2, byrow = TRUE))$expected)))
out("emin", e)
""")
    assert (r["emin"] < 5).all()  # R agrees these tables have an expected count below 5
    p, diff, method = pair_tests(*frame.to_numpy().T)
    assert method.tolist() == ["fisher"] * len(SMALL)
    close(p, r["fisher"])  # fisher.test(matrix(...))$p.value
    # R 4.x prints fisher.test(matrix(c(1, 29, 7, 25), 2, byrow = TRUE))$p.value
    # = 0.0539743230110437 (and prop.test would say p < 0.05: the exact test matters here)
    assert abs(p[0] - 0.0539743230110437) < 1e-12
    assert pair_tests(1, 30, 7, 32, exact=False)[0][0] < 0.05
    close(diff, frame["k1"] / frame["n1"] - frame["k2"] / frame["n2"])


def test_z_for_large_expected_counts_equals_prop_test(tmp_path):
    frame = pd.DataFrame([(40, 100, 25, 100), (12, 50, 20, 60), (300, 900, 120, 400)],
                         columns=["k1", "n1", "k2", "n2"])
    r = run_r(tmp_path, frame, """
p <- sapply(seq_len(nrow(d)), function(i) prop.test(c(d$k1[i], d$k2[i]), c(d$n1[i], d$n2[i]),
            correct = FALSE)$p.value)
out("prop", p)
""")
    p, _, method = pair_tests(*frame.to_numpy().T)
    assert method.tolist() == ["z", "z", "z"]
    close(p, r["prop"])  # prop.test(c(k1, k2), c(n1, n2), correct = FALSE)$p.value


def _weighted_frame() -> pd.DataFrame:
    rng = np.random.default_rng(20261204)
    n = 420
    col = rng.choice(["a", "b", "c"], size=n, p=[0.45, 0.35, 0.2])
    shift = np.select([col == "a", col == "b"], [0.15, 0.0], -0.1)
    row = np.where(rng.random(n) < 0.35 + shift, "yes",
                   np.where(rng.random(n) < 0.5, "no", "maybe"))
    w = rng.lognormal(0.0, 0.5, n)
    return pd.DataFrame({"r": row, "c": col, "w": w})


def test_weighted_letters_equal_svyttest_on_the_two_columns(tmp_path):
    d = _weighted_frame()
    r = run_r(tmp_path, d, """
for (lev in c("maybe", "no", "yes")) {
  for (pair in list(c("a", "b"), c("a", "c"), c("b", "c"))) {
    s <- d[d$c %in% pair, ]
    s$y <- as.numeric(s$r == lev)
    s$g <- factor(s$c, levels = rev(pair))
    des <- svydesign(ids = ~1, weights = ~w, data = s)
    t <- svyttest(y ~ g, des)
    out(paste0("t_", lev, "_", pair[1], pair[2]), c(t$estimate, t$statistic, t$parameter, t$p.value))
  }
}
""")
    tests = crosstab_tests(d, row="r", col="c", weight="w")
    assert set(tests["method"]) == {"design"}
    for rec in tests.itertuples():
        est, stat, df, p = r[f"t_{rec.row}_{rec.col_a}{rec.col_b}"]
        close(rec.diff / 100, est)  # svyttest estimate: share(a) - share(b)
        close(rec.pvalue, p)        # svyttest(y ~ g, svydesign(ids = ~1, weights = ~w))$p.value
        assert df == rec.base_a + rec.base_b - 2
    # the letters are those of the adjusted p-values of these tests
    ct = crosstab(d, row="r", col="c", weight="w", adjust="fdr_bh")
    bh = crosstab_tests(d, row="r", col="c", weight="w", adjust="fdr_bh")
    assert (bh["p_adjusted"] >= bh["pvalue"] - 1e-15).all()
    for rec in bh[bh["significant"]].itertuples():
        hi, lo = (rec.col_a, rec.letter_b) if rec.diff > 0 else (rec.col_b, rec.letter_a)
        sig = ct[(ct["row"] == rec.row) & (ct["col"] == hi)]["sig"].iloc[0]
        assert lo in sig


def test_weighted_overall_test_is_svychisq(tmp_path):
    d = _weighted_frame()
    r = run_r(tmp_path, d, """
des <- svydesign(ids = ~1, weights = ~w, data = d)
t <- svychisq(~r + c, des)
out("chisq", c(t$statistic, t$parameter, t$p.value))
u <- chisq.test(table(d$r, d$c), correct = FALSE)
out("pearson", c(u$statistic, u$parameter, u$p.value))
""")
    res = crosstab_overall(d, row="r", col="c", weight="w")
    close([res.statistic, res.df_num, res.df_den, res.pvalue], r["chisq"])  # svychisq(~r + c)
    plain = crosstab_overall(d, row="r", col="c")
    close([plain.statistic, plain.df_num, plain.pvalue], r["pearson"])  # chisq.test(correct = F)


def test_design_test_from_sums_equals_row_level_linearisation():
    """The sums formula equals the influence-function variance computed row by row."""
    d = _weighted_frame()
    s = d[d["c"].isin(["a", "b"])]
    y = (s["r"] == "yes").to_numpy(float)
    w = s["w"].to_numpy()
    g = (s["c"] == "a").to_numpy()
    pa, pb = np.average(y[g], weights=w[g]), np.average(y[~g], weights=w[~g])
    u = np.where(g, w * (y - pa) / w[g].sum(), -w * (y - pb) / w[~g].sum())
    n = len(s)
    se = np.sqrt(n / (n - 1) * ((u - u.mean()) ** 2).sum())
    from scipy import stats

    want = 2 * stats.t.sf(abs(pa - pb) / se, n - 2)
    got, diff, _ = design_pair_tests(w[g & (y == 1)].sum(), w[g].sum(), (w[g & (y == 1)] ** 2).sum(),
                                     (w[g] ** 2).sum(), g.sum(),
                                     w[~g & (y == 1)].sum(), w[~g].sum(),
                                     (w[~g & (y == 1)] ** 2).sum(), (w[~g] ** 2).sum(), (~g).sum())
    close(got, want)
    close(diff, pa - pb)


def test_design_mean_test_equals_svyttest_for_nps(tmp_path):
    """A segment against the rest, weighted: NPS as the weighted mean of +1/0/−1."""
    rng = np.random.default_rng(11)
    n = 500
    ltr = rng.integers(0, 11, n)
    d = pd.DataFrame({"seg": rng.choice(["in", "out"], n, p=[0.3, 0.7]),
                      "npsc": np.where(ltr >= 9, 1.0, np.where(ltr >= 7, 0.0, -1.0)),
                      "w": rng.lognormal(0, 0.6, n)})
    r = run_r(tmp_path, d, """
d$g <- factor(d$seg, levels = c("out", "in"))
t <- svyttest(npsc ~ g, svydesign(ids = ~1, weights = ~w, data = d))
out("t", c(t$estimate, t$p.value))
""")
    m = (d["seg"] == "in").to_numpy()
    diff, p = design_mean_test(d["npsc"][m], d["w"][m], d["npsc"][~m], d["w"][~m])
    close([diff, p], r["t"])  # svyttest(npsc ~ g, svydesign(ids = ~1, weights = ~w))


def _small_cell_frame(reps: int) -> pd.DataFrame:
    """Columns p (0 of 40 say yes), q (8 of 40), s (20 of 40), each row repeated ``reps``
    times; weights 1 and 2 alternating within each answer of each column."""
    rows = []
    for c, yes in (("p", 0), ("q", 8), ("s", 20)):
        rows += [("yes", c)] * yes + [("no", c)] * (40 - yes)
    d = pd.DataFrame(rows * reps, columns=["r", "c"])
    d["w"] = np.where(d.groupby(["r", "c"]).cumcount() % 2 == 0, 1.0, 2.0)
    return d


def test_weighted_small_cells_get_no_letter_large_bases_the_svyttest_letter(tmp_path):
    """Weighted data: a pair whose unweighted 2×2 table has an expected count below 5 is not
    tested (p vs q: 0/40 vs 8/40, expected yes count 40 · 8 / 80 = 4), although the design
    t-test would call it significant; the same table with every row ten times (expected 40)
    is tested, and its p-value is R's svyttest on the two columns."""
    small = _small_cell_frame(1)
    t = crosstab_tests(small, row="r", col="c", weight="w").set_index(["row", "col_a", "col_b"])
    pq = t.loc[("yes", "p", "q")]
    assert pq["method"] == "small" and np.isnan(pq["pvalue"]) and not pq["significant"]
    assert t.loc[("no", "p", "q"), "method"] == "small"  # the same 2×2 table
    # the t-test it replaces would give a letter (p = 0.0038 from these sums: W = 60, Q = 100)
    forced, _, _ = design_pair_tests(0, 60, 0, 100, 40, 12, 60, 20, 100, 40)
    assert forced[0] < 0.05
    # p vs s (expected 40 · 20 / 80 = 10) is tested as usual
    assert t.loc[("yes", "p", "s"), "method"] == "design"
    ct = crosstab(small, row="r", col="c", weight="w").set_index(["row", "col"])
    assert "A" not in ct.loc[("yes", "q"), "sig"] and ct.loc[("yes", "q"), "tested"]
    assert "A" in ct.loc[("yes", "s"), "sig"]
    # a column under the minimum base is not tested whatever its expected counts
    assert crosstab(small, row="r", col="c", weight="w", min_base=41)["sig"].eq("").all()

    big = _small_cell_frame(10)
    r = run_r(tmp_path, big, """
s <- d[d$c %in% c("p", "q"), ]
s$y <- as.numeric(s$r == "yes")
s$g <- factor(s$c, levels = c("q", "p"))
t <- svyttest(y ~ g, svydesign(ids = ~1, weights = ~w, data = s))
out("pq", c(t$estimate, t$p.value))
""")
    tb = crosstab_tests(big, row="r", col="c", weight="w").set_index(["row", "col_a", "col_b"])
    rec = tb.loc[("yes", "p", "q")]
    assert rec["method"] == "design" and rec["significant"]
    close([rec["diff"] / 100, rec["pvalue"]], r["pq"])  # svyttest(y ~ g)$estimate, $p.value
    cb = crosstab(big, row="r", col="c", weight="w").set_index(["row", "col"])
    assert "A" in cb.loc[("yes", "q"), "sig"]


def test_design_pair_tests_withhold_only_small_expected_counts():
    """``k1, k2`` given: NaN and ``small`` exactly where the unweighted expected count < 5
    (the same rule as Fisher's in pair_tests), the design p-value elsewhere."""
    k1, n1, k2, n2 = (np.array(x, float) for x in zip(*SMALL, (40, 100, 25, 100), strict=True))
    plain, _, _ = design_pair_tests(k1, n1, k1, n1, n1, k2, n2, k2, n2, n2)
    p, _, m = design_pair_tests(k1, n1, k1, n1, n1, k2, n2, k2, n2, n2, k1=k1, k2=k2)
    _, _, fisher = pair_tests(k1, n1, k2, n2)
    assert m.tolist() == ["small"] * len(SMALL) + ["design"]
    assert (m == "small").tolist() == (fisher == "fisher").tolist()
    assert np.isnan(p[:-1]).all() and p[-1] == plain[-1]


def _nps_link_frame():
    """400 customers (one survey each): NPS answer, churn that depends on it, weights and
    one or more orders after the survey whose amounts depend on it (continuous amounts, so no
    tied spend: R's svyranktest averages tied mid-ranks in row order, see design_rank_test)."""
    rng = np.random.default_rng(2212)
    n = 400
    ltr = rng.integers(0, 11, n)
    churn = (rng.random(n) < np.where(ltr <= 6, 0.35, np.where(ltr >= 9, 0.15, 0.25))) * 1
    f = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "ltr": ltr, "churned": churn,
                      "submitted_at": pd.Timestamp("2026-01-01"),
                      "w": rng.choice([0.5, 1.0, 2.5], n)})
    k = 1 + rng.poisson(np.where(ltr >= 9, 2.0, 1.0))
    orders = pd.DataFrame({"customer_id": np.repeat(f["customer_id"], k),
                           "order_date": pd.Timestamp("2026-03-01"),
                           "amount": rng.lognormal(5.5, 0.6, k.sum()).round(2)})
    return f, orders


def test_weighted_nps_link_equals_svychisq_svyttest_svyranktest(tmp_path):
    from cxlab.segments import nps_link

    f, orders = _nps_link_frame()
    res = nps_link(f, orders, weight="w")
    spend = orders.groupby("customer_id")["amount"].sum()
    d = f.assign(spend=f["customer_id"].map(spend).fillna(0.0),
                 cat=np.where(f["ltr"] >= 9, "promoter", np.where(f["ltr"] >= 7, "passive",
                                                                   "detractor")))
    r = run_r(tmp_path, d, """
des <- svydesign(ids = ~1, weights = ~w, data = d)
out("chisq", c(svychisq(~cat + churned, des)$statistic, svychisq(~cat + churned, des)$p.value))
for (c in c("promoter", "passive", "detractor")) {
  s <- subset(des, cat == c)
  out(paste0("m_", c), c(coef(svymean(~churned, s)), coef(svymean(~spend, s)),
      coef(svyquantile(~spend, s, 0.5))[1]))
}
dp <- d[d$cat != "passive", ]
dp$g <- factor(dp$cat, levels = c("promoter", "detractor"))
dd <- svydesign(ids = ~1, weights = ~w, data = dp)
out("t_churn", c(svyttest(churned ~ g, dd)$statistic, svyttest(churned ~ g, dd)$p.value))
out("t_spend", c(svyttest(spend ~ g, dd)$statistic, svyttest(spend ~ g, dd)$p.value))
dp$g2 <- factor(dp$cat, levels = c("detractor", "promoter"))
dd2 <- svydesign(ids = ~1, weights = ~w, data = dp)
rk <- svyranktest(spend ~ g2, dd2)
out("rank", c(rk$estimate, rk$statistic, rk$p.value))
""")
    t = res.tests.set_index(["outcome", "test"])
    close(t.loc[("churn", "Rao-Scott F (svychisq)"), ["statistic", "pvalue"]], r["chisq"])
    # svyttest(y ~ g) with promoter the base level: the detractor − promoter t and p
    close(t.loc[("churn", "design t (svyttest)"), ["statistic", "pvalue"]], r["t_churn"])
    close(t.loc[("spend", "design t (svyttest)"), ["statistic", "pvalue"]], r["t_spend"])
    # svyranktest(spend ~ g2), detractor the base level: t of promoter − detractor, so negated
    rk = t.loc[("spend", "design Wilcoxon (svyranktest)")]
    close([-rk["statistic"], rk["pvalue"]], r["rank"][1:])
    m = d["cat"] == "detractor"
    pr = d["cat"] == "promoter"
    assert d["spend"].nunique() == len(d)  # no ties
    close(design_rank_test(d.loc[m, "spend"], d.loc[m, "w"], d.loc[pr, "spend"],
                           d.loc[pr, "w"]), r["rank"][[0, 2]])  # svyranktest $estimate, $p.value
    tab = res.table.set_index("category")
    for c in ("promoter", "passive", "detractor"):
        churn, mean_spend, median = r[f"m_{c}"]
        close(tab.loc[c, "churn_rate"] / 100, churn)  # svymean(~churned, subset)
        close(tab.loc[c, "mean_spend"], mean_spend)   # svymean(~spend, subset)
        close(tab.loc[c, "median_spend"], median)     # svyquantile(~spend, subset, 0.5)
        assert tab.loc[c, "n"] == (d["cat"] == c).sum()
        close(tab.loc[c, "weighted_n"], d.loc[d["cat"] == c, "w"].sum())


def test_design_rank_test_equals_svyranktest_with_ties_of_equal_weight(tmp_path):
    """Ties (spend 0 and repeated amounts) whose rows share one weight within each tie:
    R's running mid-ranks averaged over the tie equal the mid-rank of the tie's total weight."""
    rng = np.random.default_rng(5)
    n = 300
    y = rng.choice([0.0, 100.0, 250.0, 400.0, 900.0], n)
    g = rng.choice(["a", "b"], n)
    w = {0.0: 0.5, 100.0: 1.0, 250.0: 2.0, 400.0: 1.0, 900.0: 3.0}
    d = pd.DataFrame({"y": y, "g": g})
    d.loc[(d["g"] == "b") & (rng.random(n) < 0.3), "y"] = 900.0
    d["w"] = d["y"].map(w)
    r = run_r(tmp_path, d, """
t <- svyranktest(y ~ factor(g), svydesign(ids = ~1, weights = ~w, data = d))
out("rank", c(t$estimate, t$p.value))
""")
    a, b = d[d["g"] == "a"], d[d["g"] == "b"]
    close(design_rank_test(a["y"], a["w"], b["y"], b["w"]), r["rank"])  # svyranktest(y ~ g)


def _exact_conditional_p(table: np.ndarray) -> float:
    """Exact p of Pearson's X^2 given both margins of a 2×c table: the hypergeometric
    probability of every table with those margins whose X^2 is at least the observed one."""
    from itertools import product
    from math import comb

    cols, r1, n = table.sum(axis=0), int(table[0].sum()), int(table.sum())
    expected = np.outer(table.sum(axis=1), cols) / n

    def x2(top):
        t = np.vstack([top, cols - top])
        return float(((t - expected) ** 2 / expected).sum())

    observed = x2(table[0]) * (1 - 64 * np.finfo(float).eps)
    p = 0.0
    for top in product(*(range(int(c) + 1) for c in cols)):
        if sum(top) == r1 and x2(np.array(top)) >= observed:
            p += np.prod([comb(int(c), k) for c, k in zip(cols, top, strict=True)]) / comb(n, r1)
    return p


def test_sparse_overall_test_is_simulated_like_chisq_test(tmp_path):
    """Cochran's rule fails on a sparse table: the unweighted overall test then takes its
    p-value from random tables with the observed margins, as R's ``chisq.test(simulate.p.value
    = TRUE)``; both agree with the exact conditional p within Monte Carlo error, while the
    asymptotic p is off. The sparsity measures equal R's ``chisq.test()$expected``."""
    table = np.array([[3, 1, 0, 2], [5, 4, 6, 1]])
    d = pd.DataFrame([{"r": f"r{i}", "c": f"c{j}"} for i in range(2) for j in range(4)
                      for _ in range(table[i, j])])
    r = run_r(tmp_path, d, """
e <- suppressWarnings(chisq.test(table(d$r, d$c))$expected)
out("sparse", c(mean(e < 5), min(e)))
set.seed(1)
out("sim", chisq.test(table(d$r, d$c), simulate.p.value = TRUE, B = 20000)$p.value)
""")
    exact = _exact_conditional_p(table)
    b = 20000
    se = np.sqrt(exact * (1 - exact) / b)
    res = crosstab_overall(d, row="r", col="c", simulate=b, rng=0)
    close([res.small_expected, res.min_expected], r["sparse"])  # chisq.test()$expected
    assert res.sparse and "simulated" in res.method
    assert abs(res.pvalue - exact) < 4 * se
    assert abs(float(r["sim"][0]) - exact) < 4 * se  # R's own simulation, same target
    asymptotic = crosstab_overall(d, row="r", col="c")
    assert asymptotic.sparse and "simulated" not in asymptotic.method
    assert abs(asymptotic.pvalue - exact) > 10 * se
    # a table that passes Cochran's rule keeps the asymptotic test
    dense = crosstab_overall(_weighted_frame(), row="r", col="c", simulate=b, rng=0)
    assert not dense.sparse and "simulated" not in dense.method
    # weighted: the sparsity comes from the unweighted counts; no simulated test
    wd = d.assign(w=np.linspace(0.5, 2.0, len(d)))
    wres = crosstab_overall(wd, row="r", col="c", weight="w", simulate=b)
    assert wres.sparse and wres.small_expected == res.small_expected
    assert "simulated" not in wres.method
