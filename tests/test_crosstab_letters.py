"""Crosstab letters (issue 22 §2): no letter given to or received from a column under the
minimum base, Fisher's exact test where an expected count is below 5, the method and raw and
adjusted p-values in the result; weighted letters from the design-based test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from cxlab.metrics import crosstab, crosstab_tests, two_proportion_test


def _frame(spec: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """spec: column -> (yes, no) counts."""
    rows = []
    for c, (yes, no) in spec.items():
        rows += [("yes", c)] * yes + [("no", c)] * no
    return pd.DataFrame(rows, columns=["r", "c"])


def test_small_column_neither_gives_nor_receives_letters():
    # "tiny" (n = 12) is far from the others: with it tested it would get and give letters
    df = _frame({"big1": (80, 20), "big2": (40, 60), "tiny": (0, 12)})
    loose = crosstab(df, row="r", col="c", min_base=5)
    assert "C" in loose.set_index(["row", "col"]).loc[("yes", "big1"), "sig"]  # gives at base 5
    assert loose.set_index(["row", "col"]).loc[("no", "tiny"), "sig"] != ""   # receives
    t = crosstab(df, row="r", col="c")  # default minimum base 30
    by = t.set_index(["row", "col"])
    assert not by.loc[pd.IndexSlice[:, "tiny"], "tested"].any()
    assert (by.loc[pd.IndexSlice[:, "tiny"], "sig"] == "").all()  # receives nothing
    assert not t["sig"].str.contains("C").any()                   # gives nothing
    assert by.loc[("yes", "big1"), "sig"] == "B"  # the big columns are still compared
    pairs = crosstab_tests(df, row="r", col="c")
    assert set(pairs["col_a"]) | set(pairs["col_b"]) == {"big1", "big2"}
    # weighted: the same rule on the unweighted base, whatever the weights
    w = crosstab(df.assign(w=np.where(df["c"] == "tiny", 50.0, 1.0)), row="r", col="c",
                 weight="w")
    assert not w["sig"].str.contains("C").any()
    assert (w[w["col"] == "tiny"]["sig"] == "").all()


def test_fisher_replaces_z_when_an_expected_count_is_small():
    # 1/40 vs 7/40: expected count of "yes" per column is 4 (< 5) -> Fisher
    df = _frame({"p": (1, 39), "q": (7, 33), "s": (20, 20)})
    pairs = crosstab_tests(df, row="r", col="c").set_index(["row", "col_a", "col_b"])
    pq = pairs.loc[("yes", "p", "q")]
    assert pq["method"] == "fisher"
    assert pq["pvalue"] == pytest.approx(fisher_exact([[1, 39], [7, 33]]).pvalue, rel=1e-12)
    # the z-test would have called it significant, Fisher does not (p = 0.0568)
    assert two_proportion_test(1, 40, 7, 40).pvalue < 0.05 < pq["pvalue"]
    t = crosstab(df, row="r", col="c").set_index(["row", "col"])
    assert "A" not in t.loc[("yes", "q"), "sig"]
    ps = pairs.loc[("yes", "p", "s")]  # 1/40 vs 20/40: expected 10.5 -> z
    assert ps["method"] == "z"
    assert ps["pvalue"] == pytest.approx(two_proportion_test(1, 40, 20, 40).pvalue, rel=1e-12)
    assert "A" in t.loc[("yes", "s"), "sig"]
    # exact=False keeps the z-test everywhere
    z = crosstab_tests(df, row="r", col="c", exact=False)
    assert set(z["method"]) == {"z"}


def test_raw_and_adjusted_p_and_letters_agree():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"r": rng.choice(list("abc"), 1500), "c": rng.choice(list("pqrst"), 1500)})
    df.loc[(df["c"] == "p") & (df["r"] == "a"), "r"] = "b"
    for adjust in (None, "fdr_bh", "holm"):
        pairs = crosstab_tests(df, row="r", col="c", adjust=adjust)
        assert len(pairs) == 3 * 10
        assert (pairs["p_adjusted"] >= pairs["pvalue"] - 1e-15).all()
        if adjust is None:
            assert (pairs["p_adjusted"] == pairs["pvalue"]).all()
        t = crosstab(df, row="r", col="c", adjust=adjust)
        got = {(r, c, x) for r, c, s in zip(t["row"], t["col"], t["sig"], strict=True) for x in s}
        letter = dict(zip(t["letter"], t["col"], strict=False))
        want = set()
        for rec in pairs[pairs["p_adjusted"] < 0.05].itertuples():
            hi, lo = (rec.col_a, rec.letter_b) if rec.diff > 0 else (rec.col_b, rec.letter_a)
            want.add((rec.row, hi, lo))
        assert got == want and {x for *_, x in got} <= set(letter)
    assert len(want) > 0


def test_weighted_letters_use_the_design_test_not_weighted_counts():
    """Doubling every weight changes no letter and no p-value (a naive test on weighted counts
    would double its base); equal weights give the unweighted percentages."""
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"r": rng.choice(list("xy"), 400, p=[0.6, 0.4]),
                       "c": rng.choice(list("pq"), 400), "w": rng.uniform(0.5, 2.0, 400)})
    df.loc[(df["c"] == "p") & (rng.random(400) < 0.15), "r"] = "x"
    a = crosstab_tests(df, row="r", col="c", weight="w")
    b = crosstab_tests(df.assign(w=df["w"] * 2), row="r", col="c", weight="w")
    assert set(a["method"]) == {"design"}
    np.testing.assert_allclose(a["pvalue"], b["pvalue"], rtol=1e-12)
    ones = crosstab(df.assign(w=1.0), row="r", col="c", weight="w")
    plain = crosstab(df, row="r", col="c")
    np.testing.assert_allclose(ones["pct"], plain["pct"], rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_letters_keep_the_false_discovery_rate_on_null_tables(weighted):
    """Simulated tables with no real difference between the columns (some expected counts
    below 5, so Fisher's test is in play; weighted: lognormal weights and the design test, the
    small cells untested):
    with BH over each table's pairs, the share of tables showing any letter (the FDR under the
    complete null) stays at the nominal 5 % (binomial upper bound over 300 tables)."""
    from scipy.stats import binom

    rng = np.random.default_rng(20261204)
    tables, flagged, methods = 300, 0, set()
    for _ in range(tables):
        n = 5 * 60
        df = pd.DataFrame({"r": rng.choice(["a", "b", "c"], n, p=[0.6, 0.35, 0.05]),
                           "c": np.repeat(list("pqrst"), 60),
                           "w": rng.lognormal(0, 0.5, n)})
        t = crosstab_tests(df, row="r", col="c", weight="w" if weighted else None,
                           adjust="fdr_bh")
        methods |= set(t["method"])
        flagged += bool(t["significant"].any())
    # weighted: the pairs with an unweighted expected count below 5 are not tested ("small")
    assert methods == ({"design", "small"} if weighted else {"z", "fisher"})
    assert flagged / tables <= binom.ppf(0.99, tables, 0.05) / tables
