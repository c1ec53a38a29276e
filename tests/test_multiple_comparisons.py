"""cxlab.metrics.adjust_pvalues: false-discovery control when many branches are tested at once.

The adjusted values equal R's p.adjust (checked live in tests/test_r_survey.py); here a
simulation of many report runs shows that the share of false "significant" flags stays at the
nominal level with Benjamini-Hochberg (and the family-wise rate with Holm), while raw p-values
flag far more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cxlab.metrics import adjust_pvalues, two_proportion_test

ALPHA = 0.05


def _simulate(rng, *, reps, n_null, n_real, n=300, p0=0.70, drop=0.12):
    """P-values of period-over-period CSAT tests for many branches in many report runs."""
    m = n_null + n_real
    prev = rng.binomial(n, p0, size=(reps, m))
    p_now = np.r_[np.full(n_null, p0), np.full(n_real, p0 - drop)]
    cur = rng.binomial(n, p_now, size=(reps, m))
    # The pooled z-test of cxlab.metrics.two_proportion_test, vectorised over runs and branches
    # (checked against the function on the first run below).
    p1, p2 = cur / n, prev / n
    pooled = (cur + prev) / (2 * n)
    se = np.sqrt(pooled * (1 - pooled) * (2 / n))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (p1 - p2) / se, 0.0)
    pvals = 2 * stats.norm.sf(np.abs(z))
    first = [two_proportion_test(cur[0, j], n, prev[0, j], n).pvalue for j in range(m)]
    np.testing.assert_allclose(pvals[0], first, rtol=1e-12)
    is_null = np.r_[np.ones(n_null, bool), np.zeros(n_real, bool)]
    return pvals, is_null


def _rates(pvals, is_null, adjust):
    flags = np.array([(adjust_pvalues(p, method=adjust) if adjust else p) < ALPHA for p in pvals])
    false = (flags & is_null).sum(axis=1)
    found = flags.sum(axis=1)
    fdr = np.mean(np.where(found > 0, false / np.maximum(found, 1), 0.0))
    fwer = np.mean(false > 0)
    power = (flags & ~is_null).sum() / max(1, (~is_null).sum() * len(pvals))
    return fdr, fwer, power


def test_bh_keeps_false_discovery_rate_at_nominal_level():
    rng = np.random.default_rng(2026)
    pvals, is_null = _simulate(rng, reps=4000, n_null=16, n_real=4)
    fdr_bh, _, power_bh = _rates(pvals, is_null, "fdr_bh")
    fdr_raw, fwer_raw, _ = _rates(pvals, is_null, None)
    # BH: FDR <= alpha * m0 / m = 0.04 (Benjamini & Hochberg 1995, independent tests); the
    # Monte Carlo SE of the mean over 4,000 runs is about 0.003.
    assert fdr_bh <= ALPHA * 16 / 20 + 0.01
    assert fdr_bh > 0.01  # the control is at the level, not trivially zero
    assert power_bh > 0.5  # real drops of 12 points are still found
    assert fdr_raw > 0.10 and fwer_raw > 0.4  # unadjusted flags: the problem BH solves


def test_complete_null_share_of_runs_with_any_false_flag():
    rng = np.random.default_rng(7)
    pvals, is_null = _simulate(rng, reps=4000, n_null=20, n_real=0)
    share_false_flags = np.mean([(p < ALPHA).mean() for p in pvals])
    assert share_false_flags == pytest.approx(ALPHA, abs=0.005)  # each raw test is at level
    _, fwer_raw, _ = _rates(pvals, is_null, None)
    _, fwer_bh, _ = _rates(pvals, is_null, "fdr_bh")
    _, fwer_holm, _ = _rates(pvals, is_null, "holm")
    assert fwer_raw > 0.5  # 1 - 0.95**20 = 0.64 of reports would flag some branch
    # with all hypotheses null, FDR = FWER; both procedures keep it at alpha (+ 3 MC SE)
    assert fwer_bh <= ALPHA + 0.01
    assert fwer_holm <= ALPHA + 0.01


def test_adjust_pvalues_properties_and_errors():
    p = np.array([0.001, 0.02, np.nan, 0.03, 0.5])
    bh = adjust_pvalues(p)
    assert np.isnan(bh[2])
    finite = ~np.isnan(p)
    assert (bh[finite] >= p[finite]).all() and (bh[finite] <= 1).all()
    # BH by hand on the four tests (m = 4): min over j >= i of p_(j) * m / j
    assert bh[finite] == pytest.approx([0.004, 0.04, 0.04, 0.5], rel=1e-12)
    holm = adjust_pvalues(p, method="holm")
    assert holm[finite] == pytest.approx([0.004, 0.06, 0.06, 0.5], rel=1e-12)
    s = pd.Series([0.01, 0.04], index=["SH", "BJ"], name="pvalue")
    out = adjust_pvalues(s)
    assert list(out.index) == ["SH", "BJ"] and out.name == "pvalue"
    with pytest.raises(ValueError, match="'fdr_bh', 'holm'"):
        adjust_pvalues(p, method="bonferroni")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_pvalues([0.2, 1.5])


def test_crosstab_letters_with_adjustment_are_a_subset_and_match_manual_bh():
    from cxlab.metrics import crosstab

    rng = np.random.default_rng(5)
    df = pd.DataFrame({"r": rng.choice(list("abc"), 4000), "c": rng.choice(list("pqrstuvw"), 4000)})
    df.loc[(df["c"] == "p") & (df["r"] == "a"), "r"] = "b"  # one real difference
    raw = crosstab(df, row="r", col="c")
    bh = crosstab(df, row="r", col="c", adjust="fdr_bh")
    holm = crosstab(df, row="r", col="c", adjust="holm")
    for adj in (bh, holm):
        assert all(set(a) <= set(b) for a, b in zip(adj["sig"], raw["sig"], strict=True))
    assert (bh["sig"] != "").sum() > 0  # the planted difference survives
    # manual BH over every (row, column pair) test of the table
    tests = []
    for r, grp in raw.groupby("row"):
        g = grp.set_index("col")
        cols = list(g.index)
        for i, c in enumerate(cols):
            for o in cols[i + 1:]:
                res = two_proportion_test(g.loc[c, "pct"] / 100 * g.loc[c, "base"], g.loc[c, "base"],
                                          g.loc[o, "pct"] / 100 * g.loc[o, "base"], g.loc[o, "base"])
                tests.append((r, c, o, res.pvalue, res.diff))
    adj = adjust_pvalues([t[3] for t in tests])
    expected = {(r, c if d > 0 else o): set() for r, c, o, _, d in tests}
    for (r, c, o, _, d), p in zip(tests, adj, strict=True):
        if p < ALPHA:
            expected[(r, c if d > 0 else o)].add(o if d > 0 else c)
    got = {(r, c): set(s) for r, c, s in zip(bh["row"], bh["col"], bh["sig"], strict=True) if s}
    letter = dict(zip(bh["col"], bh["letter"], strict=False))
    want = {k: {letter[x] for x in v} for k, v in expected.items() if v}
    assert got == want
    with pytest.raises(ValueError, match="adjust="):
        crosstab(df, row="r", col="c", adjust="bonferroni")
