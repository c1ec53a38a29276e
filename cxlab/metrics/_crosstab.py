"""Banner tables: column percentages with column-proportion significance letters."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxlab.metrics._codebook import category_order, codebook_scale
from cxlab.metrics._column_tests import design_pair_tests, pair_tests
from cxlab.metrics._common import MIN_BASE, check_choice, check_columns, weights_array
from cxlab.metrics._design import ChiSquareResult, adjust_pvalues, rao_scott_test

if TYPE_CHECKING:
    from cxlab.config import Codebook

__all__ = ["SIMULATED_TABLES", "crosstab", "crosstab_overall", "crosstab_tests"]

#: Random tables behind a simulated overall p-value (:func:`crosstab_overall` with
#: ``simulate=``) where reports need one: R ``chisq.test(simulate.p.value = TRUE)``'s default B.
SIMULATED_TABLES = 2000

TEST_COLUMNS = ["row", "col_a", "col_b", "letter_a", "letter_b", "base_a", "base_b", "pct_a",
                "pct_b", "diff", "method", "pvalue", "p_adjusted", "significant", "higher"]


def _letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, ..."""
    letters = string.ascii_uppercase
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = letters[r] + out
    return out


def _check(alpha: float, adjust: str | None, min_base: int) -> None:
    if not (isinstance(alpha, float) and 0 < alpha < 1):
        raise ValueError(f"alpha={alpha!r} must be a number strictly between 0 and 1")
    if adjust is not None:
        check_choice("adjust", adjust, ("fdr_bh", "holm"))
    if not (isinstance(min_base, int | np.integer) and min_base >= 1):
        raise ValueError(f"min_base={min_base!r} must be a positive integer")


def _cells(data, row, col, weight, row_order, col_order, codebook):
    """Rows, banner columns and per-cell sums (count, weights, squared weights)."""
    check_columns(data, [row, col, *([weight] if weight else [])])
    frame = data[[row, col]].copy()
    frame["_w"] = weights_array(data, weight) if weight else 1.0
    frame = frame.dropna(subset=[row, col])
    frame["_w2"] = frame["_w"] ** 2
    cols = category_order(frame[col].unique(), order=col_order,
                          scale=codebook_scale(codebook, col))
    rows = category_order(frame[row].unique(), order=row_order,
                          scale=codebook_scale(codebook, row))
    by_col = frame.groupby(col, observed=True)
    by_cell = frame.groupby([row, col], observed=True)
    sums = {
        "base": by_col.size(), "wbase": by_col["_w"].sum(), "qbase": by_col["_w2"].sum(),
        "count": by_cell.size(), "wcount": by_cell["_w"].sum(), "qcount": by_cell["_w2"].sum(),
    }
    return rows, cols, sums


def _pairs(rows, cols, sums, *, weighted: bool, min_base: int, exact: bool, alpha: float,
           adjust: str | None) -> pd.DataFrame:
    letters = {c: _letter(i) for i, c in enumerate(cols)}
    base, wbase = sums["base"], sums["wbase"]
    testable = [c for c in cols if int(base[c]) >= min_base and float(wbase[c]) > 0]
    recs = []
    for r in rows:
        for i, a in enumerate(testable):
            for b in testable[i + 1:]:
                recs.append({"row": r, "col_a": a, "col_b": b})
    if not recs:
        return pd.DataFrame(columns=TEST_COLUMNS)
    t = pd.DataFrame(recs)

    def cell(name, key_col):
        s = sums[name]
        return np.array([float(s.get((r, c), 0.0)) for r, c in zip(t["row"], t[key_col],
                                                                      strict=True)])

    def col_sum(name, key_col):
        return np.array([float(sums[name][c]) for c in t[key_col]])

    if weighted:
        p, diff, method = design_pair_tests(
            cell("wcount", "col_a"), col_sum("wbase", "col_a"), cell("qcount", "col_a"),
            col_sum("qbase", "col_a"), col_sum("base", "col_a"),
            cell("wcount", "col_b"), col_sum("wbase", "col_b"), cell("qcount", "col_b"),
            col_sum("qbase", "col_b"), col_sum("base", "col_b"),
            k1=cell("count", "col_a"), k2=cell("count", "col_b"))
    else:
        p, diff, method = pair_tests(cell("count", "col_a"), col_sum("base", "col_a"),
                                     cell("count", "col_b"), col_sum("base", "col_b"),
                                     exact=exact)
    t["letter_a"] = t["col_a"].map(letters)
    t["letter_b"] = t["col_b"].map(letters)
    t["base_a"] = [int(base[c]) for c in t["col_a"]]
    t["base_b"] = [int(base[c]) for c in t["col_b"]]
    t["pct_a"] = 100 * cell("wcount", "col_a") / col_sum("wbase", "col_a")
    t["pct_b"] = 100 * cell("wcount", "col_b") / col_sum("wbase", "col_b")
    t["diff"] = 100 * diff
    t["method"] = method
    t["pvalue"] = p
    t["p_adjusted"] = p if adjust is None else adjust_pvalues(p, method=adjust)
    t["significant"] = (t["p_adjusted"] < alpha) & (t["diff"] != 0)
    t["higher"] = np.where(~t["significant"], "",
                           np.where(t["diff"] > 0, t["letter_a"], t["letter_b"]))
    return t[TEST_COLUMNS]


def crosstab_tests(
    data: pd.DataFrame,
    *,
    row: str,
    col: str,
    weight: str | None = None,
    alpha: float = 0.05,
    adjust: str | None = None,
    min_base: int = MIN_BASE,
    exact: bool = True,
    row_order: Sequence[object] | None = None,
    col_order: Sequence[object] | None = None,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """The pairwise column tests behind :func:`crosstab`'s letters, with raw and adjusted p.

    Parameters are those of :func:`crosstab`.

    Returns
    -------
    DataFrame
        One row per (table row, pair of banner columns whose unweighted bases are both at least
        ``min_base``), in row order then banner order: ``row, col_a, col_b, letter_a,
        letter_b, base_a, base_b`` (unweighted), ``pct_a, pct_b`` (column %, weighted if
        weights are given), ``diff`` (``pct_a - pct_b``, points), ``method`` (``z``,
        ``fisher``, ``design`` or ``small``, see :data:`cxlab.metrics._column_tests.METHOD_EN`),
        ``pvalue`` (raw, two-sided; NaN for ``small``: a weighted pair whose unweighted 2×2
        table has an expected count below 5 is not tested), ``p_adjusted`` (over all tested
        pairs of all rows; equal to ``pvalue`` with ``adjust=None``), ``significant`` (``p_adjusted < alpha``) and
        ``higher`` (letter of the significantly higher column, else empty).
    """
    _check(alpha, adjust, min_base)
    rows, cols, sums = _cells(data, row, col, weight, row_order, col_order, codebook)
    return _pairs(rows, cols, sums, weighted=weight is not None, min_base=min_base,
                  exact=exact, alpha=alpha, adjust=adjust)


def crosstab_overall(data: pd.DataFrame, *, row: str, col: str, weight: str | None = None,
                     simulate: int | None = None, rng=None) -> ChiSquareResult:
    """Overall test of independence of ``row`` and ``col``.

    Weighted: the Rao–Scott second-order corrected F test (:func:`cxlab.metrics.rao_scott_test`,
    R ``svychisq``), never Pearson's test on weighted counts; unweighted: Pearson's
    :math:`X^2` (:func:`scipy.stats.chi2_contingency` without continuity correction, R
    ``chisq.test(correct = FALSE)``), reported with ``df_den = inf`` and ``mean_deff = 1``.

    The result carries the share of cells with an expected count below 5 and the smallest
    expected count, both from the unweighted counts (``small_expected``, ``min_expected``);
    ``result.sparse`` says when Cochran's rule fails. Then, with ``simulate = B`` and
    unweighted data, the p-value is a Monte Carlo one: the share of ``B`` random tables with
    the observed margins (:data:`scipy.stats.random_table`) whose :math:`X^2` is at least the
    observed one, :math:`(1 + \\#) / (B + 1)`, as R's ``chisq.test(simulate.p.value = TRUE,
    B = B)`` computes it. Weighted sparse tables have no such test: the caller withholds it.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sat": ["yes"] * 80 + ["no"] * 20 + ["yes"] * 50 + ["no"] * 50,
    ...                    "branch": ["SH"] * 100 + ["BJ"] * 100})
    >>> res = crosstab_overall(df, row="sat", col="branch")
    >>> round(res.statistic, 3), res.sparse
    (19.78, False)
    """
    import dataclasses

    from scipy.stats import chi2_contingency

    check_columns(data, [row, col])
    counts = pd.crosstab(data[row], data[col]).to_numpy()
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        raise ValueError(f"crosstab_overall needs at least two levels in {row!r} and {col!r}")
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / counts.sum()
    small = {"small_expected": float((expected < 5).mean()),
             "min_expected": float(expected.min())}
    if weight is not None:
        return dataclasses.replace(rao_scott_test(data, row=row, col=col, weight=weight), **small)
    res = chi2_contingency(counts, correction=False)
    out = ChiSquareResult(statistic=float(res.statistic), df_num=float(res.dof),
                          df_den=float("inf"), pvalue=float(res.pvalue),
                          chisq=float(res.statistic), mean_deff=1.0,
                          method="Pearson's X^2 (chisq.test, correct = FALSE)", **small)
    if simulate is None or not out.sparse:
        return out
    if int(simulate) < 1:
        raise ValueError(f"simulate must be a positive number of tables, not {simulate!r}")
    from scipy.stats import random_table

    tables = random_table(counts.sum(axis=1), counts.sum(axis=0), seed=rng).rvs(
        size=int(simulate))
    x2 = ((tables - expected) ** 2 / expected).sum(axis=(1, 2))
    # R's tolerance: ties up to rounding count as at least as extreme
    hits = int((x2 >= out.statistic * (1 - 64 * np.finfo(float).eps)).sum())
    return dataclasses.replace(
        out, pvalue=(1 + hits) / (int(simulate) + 1),
        method=f"Pearson's X^2 with simulated p-value (B = {int(simulate)}, "
               "chisq.test(simulate.p.value = TRUE))")


def crosstab(
    data: pd.DataFrame,
    *,
    row: str,
    col: str,
    weight: str | None = None,
    alpha: float = 0.05,
    row_order: Sequence[object] | None = None,
    col_order: Sequence[object] | None = None,
    codebook: Codebook | None = None,
    adjust: str | None = None,
    min_base: int = MIN_BASE,
    exact: bool = True,
) -> pd.DataFrame:
    """Banner table of ``row`` by ``col``: column percentages (0–100) with significance letters.

    Each banner column gets a letter (A, B, C, … in banner order, see ``col_order``). A cell carries the
    letter of every other column whose percentage it exceeds significantly at ``alpha``, as in
    market-research banner tables, by a two-sided column test (:func:`crosstab_tests` lists
    every pair with its method and raw and adjusted p):

    * unweighted: the pooled column-proportion z-test (no continuity correction), or Fisher's
      exact test when an expected count of the pair's 2×2 table is below 5 (``exact=True``);
    * weighted: a design-based t-test of the two weighted shares (linearised variance from the
      weights, R ``svyttest``), not a test that takes weighted counts for counts. Where an
      expected count of the pair's 2×2 table of *unweighted* counts is below 5 the pair is
      not tested (no letter; ``method = "small"`` in :func:`crosstab_tests`): Fisher's exact
      test does not apply to weighted data and the t-test's normal approximation fails there.

    A column whose unweighted base is below ``min_base`` neither gives nor receives a letter
    (``tested`` is False). With ``adjust=None`` no correction for multiple comparisons is
    applied; ``adjust="fdr_bh"`` (Benjamini-Hochberg) or ``"holm"`` adjusts the p-values of
    all column pairs of all rows of the table together (each pair tested once) with
    :func:`cxlab.metrics.adjust_pvalues` before comparing them with ``alpha``.

    Parameters
    ----------
    data : DataFrame
        One row per response.
    row : str
        Column whose categories form the table rows (e.g. an answer).
    col : str
        Banner column (e.g. branch or channel).
    weight : str, optional
        Column of non-negative survey weights. Percentages are then weighted and the letters use
        the design-based test.
    alpha : float
        Significance level of the letter tests.
    row_order, col_order : sequence, optional
        Order of the row and banner categories. Default: the codebook's order when ``row``
        (``col``) is a codebook item — ordinal answers by code (a label counts as its code, so
        price bands run 300元以下 … 1,000元以上), category answers in ``options`` order —
        else sorted. Values not covered by the order come last, sorted.
    codebook : cxlab.config.Codebook, optional
        Supplies the category orders.
    adjust : {None, "fdr_bh", "holm"}
        Multiple-comparison adjustment over the table's pairwise tests.
    min_base : int
        Smallest unweighted column base that is tested (default ``MIN_BASE`` = 30).
    exact : bool
        Fisher's exact test for small expected counts (unweighted data only; weighted small
        cells are never tested).

    Returns
    -------
    DataFrame
        One row per (row category, column category): ``row``, ``col``, ``letter`` (the column's
        letter), ``count`` (unweighted), ``weighted_count``, ``base`` (unweighted column base),
        ``weighted_base``, ``effective_base`` (Kish; equals ``base`` unweighted), ``pct``
        (column %, weighted if weights are given), ``tested`` (the column's base reaches
        ``min_base``) and ``sig`` (letters of the columns this cell is significantly higher
        than, e.g. ``"AC"``; empty if none). Rows with a missing ``row`` or ``col`` value are
        left out. Table rows run in row order, then banner order.

    References
    ----------
    IBM Corp. *IBM SPSS Statistics Custom Tables*: "Compare column proportions" (z-tests, APA-style
    subscript letters).
    Lumley, T. (2010). *Complex Surveys*, §2.3 and §5.2. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sat": ["yes"] * 80 + ["no"] * 20 + ["yes"] * 50 + ["no"] * 50,
    ...                    "branch": ["SH"] * 100 + ["BJ"] * 100})
    >>> t = crosstab(df, row="sat", col="branch")
    >>> t[["row", "col", "letter", "count", "pct", "sig"]]
       row col letter  count   pct sig
    0   no  BJ      A     50  50.0   B
    1   no  SH      B     20  20.0
    2  yes  BJ      A     50  50.0
    3  yes  SH      B     80  80.0   A
    >>> crosstab(df, row="sat", col="branch", row_order=["yes", "no"],
    ...          col_order=["SH", "BJ"])[["row", "col", "letter", "pct", "sig"]]
       row col letter   pct sig
    0  yes  SH      A  80.0   B
    1  yes  BJ      B  50.0
    2   no  SH      A  20.0
    3   no  BJ      B  50.0   A
    """
    _check(alpha, adjust, min_base)
    rows, cols, sums = _cells(data, row, col, weight, row_order, col_order, codebook)
    tests = _pairs(rows, cols, sums, weighted=weight is not None, min_base=min_base,
                   exact=exact, alpha=alpha, adjust=adjust)
    letters = {c: _letter(i) for i, c in enumerate(cols)}
    higher: dict = {}
    for r, a, b, hi in zip(tests["row"], tests["col_a"], tests["col_b"], tests["higher"],
                           strict=True):
        if hi:
            win, lose = (a, b) if hi == letters[a] else (b, a)
            higher.setdefault((r, win), set()).add(lose)
    base, wbase, qbase = sums["base"], sums["wbase"], sums["qbase"]
    records = []
    for r in rows:
        for c in cols:
            wb = float(wbase[c])
            wc = float(sums["wcount"].get((r, c), 0.0))
            sig = "".join(letters[o] for o in cols if o in higher.get((r, c), ()))
            records.append(
                {
                    "row": r,
                    "col": c,
                    "letter": letters[c],
                    "count": int(sums["count"].get((r, c), 0)),
                    "weighted_count": wc,
                    "base": int(base[c]),
                    "weighted_base": wb,
                    "effective_base": wb**2 / float(qbase[c]) if qbase[c] > 0 else 0.0,
                    "pct": 100 * wc / wb if wb > 0 else np.nan,
                    "tested": bool(int(base[c]) >= min_base and wb > 0),
                    "sig": sig,
                }
            )
    return pd.DataFrame(records)
