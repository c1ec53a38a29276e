"""Column-proportion tests of banner tables: the pairwise tests behind the significance letters.

One definition shared by :func:`cxlab.metrics.crosstab` and the Excel tab books
(:mod:`cxlab.deliver`), so that a letter means the same thing in both:

* unweighted data: the two-sided pooled column-proportion z-test (R ``prop.test(correct =
  FALSE)``), or Fisher's exact test (R ``fisher.test``) when an expected count of the 2×2 table
  (column × in/out of the category) is below 5;
* weighted data: a design-based test of the difference of the two weighted column shares,
  the rows taken as a with-replacement sample with probabilities ∝ 1/weight (R ``survey``:
  ``svyttest(y ~ col, svydesign(ids = ~1, weights = ~w, data = <the two columns>))``), whose
  linearised variance uses the weights themselves rather than treating weighted counts as
  counts.

The tests work on sufficient statistics per column (count, sum of weights, sum of squared
weights, in the category and in total), so that tab books can test against a column known only
by its aggregated counts.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["EXACT_BELOW", "METHOD_CN", "METHOD_EN", "design_mean_test", "design_pair_tests",
           "design_rank_test", "expected_min", "pair_tests", "weighted_median"]

#: Fisher's exact test replaces the z-test when an expected count of the 2×2 table is below this.
EXACT_BELOW = 5.0
METHOD_EN = {
    "z": "pooled two-proportion z-test (prop.test, correct = FALSE)",
    "fisher": "Fisher's exact test (fisher.test, two-sided)",
    "design": "design-based t-test of weighted proportions (svyttest, linearised variance)",
    "small": "not tested: weighted data with an expected (unweighted) count below 5",
}
METHOD_CN = {
    "z": "列比例 z 检验(合并方差、无连续性校正)",
    "fisher": "Fisher 精确检验",
    "design": "基于抽样设计的加权比例 t 检验(线性化方差,同 R survey 包 svyttest)",
    "small": "加权数据的小格不做检验(未加权期望频数小于 5,精确检验不适用于加权数据)",
}


def _arr(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def expected_min(k1, n1, k2, n2) -> np.ndarray:
    """Smallest expected count of the 2×2 tables ``[[k1, n1 - k1], [k2, n2 - k2]]``.

    Under independence the expected count of a cell is row total × column total / n, so the
    smallest is the smaller column base times the smaller row total over ``n``. NaN where
    ``n1 + n2 == 0``.

    Examples
    --------
    >>> expected_min([1, 40], [20, 100], [6, 25], [21, 100]).round(2).tolist()
    [3.41, 32.5]
    """
    k1, n1, k2, n2 = (_arr(x) for x in (k1, n1, k2, n2))
    n = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.minimum(n1, n2) * np.minimum(k1 + k2, n - k1 - k2) / n


def pair_tests(k1, n1, k2, n2, *, exact: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-sided tests of equal proportions between two columns, from unweighted counts.

    Parameters
    ----------
    k1, n1, k2, n2 : array-like
        Counts in the category and column bases (integers).
    exact : bool
        Use Fisher's exact test when an expected count of the 2×2 table ``[[k1, n1 - k1],
        [k2, n2 - k2]]`` under independence is below :data:`EXACT_BELOW` (5); otherwise (and
        with ``exact=False`` always) the pooled z-test without continuity correction.

    Returns
    -------
    pvalue, diff, method : ndarray
        Two-sided p-values, differences ``k1/n1 - k2/n2`` and the test used per pair
        (``"z"`` or ``"fisher"``, see :data:`METHOD_EN`).

    Notes
    -----
    Fisher's two-sided p-value sums the probabilities of all tables with the margins of the
    observed one that are no more probable than it (:func:`scipy.stats.fisher_exact`, as R's
    ``fisher.test``). The z statistic is :math:`(\\hat p_1-\\hat p_2)/\\sqrt{\\bar p(1-\\bar p)
    (1/n_1+1/n_2)}`, whose square is R's ``prop.test(correct = FALSE)`` X-squared.

    References
    ----------
    Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., §3.5.1 (Fisher's exact test) and
    §3.1 (comparing two proportions). Wiley.
    Cochran, W. G. (1954). Some methods for strengthening the common χ² tests. *Biometrics* 10,
    417-451 (the expected-count-of-5 rule).

    Examples
    --------
    >>> p, d, m = pair_tests([1, 40], [20, 100], [6, 25], [21, 100])
    >>> m.tolist()
    ['fisher', 'z']
    """
    k1, n1, k2, n2 = (_arr(x) for x in (k1, n1, k2, n2))
    n = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = k1 / n1, k2 / n2
        pooled = (k1 + k2) / n
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = np.where(se > 0, (p1 - p2) / np.where(se > 0, se, 1), 0.0)
    pvalue = np.where(se > 0, 2 * stats.norm.sf(np.abs(z)), 1.0)
    method = np.full(k1.shape, "z", dtype=object)
    if exact:
        small = expected_min(k1, n1, k2, n2) < EXACT_BELOW
        for i in np.flatnonzero(small):
            table = [[int(round(k1[i])), int(round(n1[i] - k1[i]))],
                     [int(round(k2[i])), int(round(n2[i] - k2[i]))]]
            pvalue[i] = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
            method[i] = "fisher"
    return pvalue, p1 - p2, method


def design_pair_tests(w_hit1, w1, q_hit1, q1, n1, w_hit2, w2, q_hit2, q2, n2, *,
                      k1=None, k2=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Design-based two-sided tests of equal weighted proportions between two columns.

    Parameters
    ----------
    w_hit1, w1 : array-like
        Sum of weights in the category and in the first column.
    q_hit1, q1 : array-like
        Sum of squared weights in the category and in the first column.
    n1 : array-like
        Unweighted base of the first column.
    w_hit2, w2, q_hit2, q2, n2 : array-like
        The same for the second column.
    k1, k2 : array-like, optional
        Unweighted counts in the category of the two columns. When given, a pair whose 2×2
        table of unweighted counts has an expected count below :data:`EXACT_BELOW` (5) is not
        tested: its p-value is NaN and its method ``"small"``. Fisher's exact test, which the
        unweighted tests use there, has no counterpart for weighted data, and the design-based
        t-test rests on a normal approximation that fails for such cells.

    Returns
    -------
    pvalue, diff, method : ndarray
        Two-sided p-values (Student t on ``n1 + n2 - 2`` degrees of freedom), differences of
        the weighted shares ``w_hit1/w1 - w_hit2/w2`` and ``"design"`` (or ``"small"``, see
        ``k1, k2``) per pair.

    Notes
    -----
    With :math:`\\hat p_c = \\sum_{i\\in c} w_i y_i / \\sum_{i \\in c} w_i` and the influence
    values :math:`u_i = w_i (y_i - \\hat p_c)/W_c`, the variance of the difference in the design
    made of the two columns' :math:`n = n_1 + n_2` rows is :math:`\\frac{n}{n-1}\\sum_i u_i^2`,
    where per column :math:`\\sum u_i^2 = [Q_{hit}(1-\\hat p)^2 + (Q - Q_{hit})\\hat p^2]/W^2`.
    This is the coefficient test of ``svyglm(y ~ col)`` on that design (what ``svyttest``
    prints), with ``df.residual = n - 2``. If both columns have no within-column variation the
    variance is 0: p = 1 for equal shares, 0 otherwise.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, §2.3 (domain means) and
    §5.2 (``svyttest``). Wiley.

    Examples
    --------
    >>> p, d, m = design_pair_tests(30, 60, 20, 70, 50, 10, 50, 3, 52, 50)
    >>> bool(p[0] < 0.05), round(float(d[0]), 2), m.tolist()
    (True, 0.3, ['design'])
    """
    w_hit1, w1, q_hit1, q1, n1, w_hit2, w2, q_hit2, q2, n2 = (
        _arr(x) for x in (w_hit1, w1, q_hit1, q1, n1, w_hit2, w2, q_hit2, q2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = w_hit1 / w1, w_hit2 / w2
        s1 = (q_hit1 * (1 - p1) ** 2 + (q1 - q_hit1) * p1**2) / w1**2
        s2 = (q_hit2 * (1 - p2) ** 2 + (q2 - q_hit2) * p2**2) / w2**2
        n = n1 + n2
        var = n / (n - 1) * (np.clip(s1, 0, None) + np.clip(s2, 0, None))
        se = np.sqrt(var)
        diff = p1 - p2
        t = np.where(se > 0, diff / np.where(se > 0, se, 1), 0.0)
    df = np.maximum(n - 2, 1)
    pvalue = np.where(se > 0, 2 * stats.t.sf(np.abs(t), df), np.where(diff == 0, 1.0, 0.0))
    method = np.full(p1.shape, "design", dtype=object)
    if k1 is not None and k2 is not None:
        small = expected_min(k1, n1, k2, n2) < EXACT_BELOW
        pvalue = np.where(small, np.nan, pvalue)
        method[small] = "small"
    return pvalue, diff, method


def design_mean_test(y1, w1, y2, w2) -> tuple[float, float]:
    """Design-based two-sided test of equal weighted means of two independent groups.

    The rows of both groups form one with-replacement design with probabilities ∝ 1/weight;
    the difference of the weighted means has the linearised variance
    :math:`\\frac{n}{n-1}\\sum_i u_i^2`, :math:`u_i = w_i (y_i - \\bar y_g)/W_g`, and is referred
    to Student t on ``n - 2`` degrees of freedom (R ``svyttest(y ~ group)``). An NPS is the
    weighted mean of +1/0/−1 (:func:`cxlab.metrics.nps`), a top-box share that of 0/1.

    Parameters
    ----------
    y1, w1 : array-like
        Values and weights of the first group (no missing values).
    y2, w2 : array-like
        The same for the second group.

    Returns
    -------
    diff, pvalue : float
        ``mean1 - mean2`` and the two-sided p-value (NaN if a group is empty).

    Examples
    --------
    >>> d, p = design_mean_test([1, 1, 0, 1], [1, 2, 1, 1], [0, 0, 1, 0], [1, 1, 1, 2])
    >>> round(d, 2)
    0.6
    """
    y1, w1, y2, w2 = (np.asarray(x, dtype=float) for x in (y1, w1, y2, w2))
    if y1.size == 0 or y2.size == 0 or w1.sum() <= 0 or w2.sum() <= 0:
        return float("nan"), float("nan")
    m1, m2 = np.dot(w1, y1) / w1.sum(), np.dot(w2, y2) / w2.sum()
    s = (np.sum((w1 * (y1 - m1)) ** 2) / w1.sum() ** 2
         + np.sum((w2 * (y2 - m2)) ** 2) / w2.sum() ** 2)
    n = y1.size + y2.size
    se = float(np.sqrt(n / (n - 1) * s))
    diff = float(m1 - m2)
    if se == 0:
        return diff, 1.0 if diff == 0 else 0.0
    return diff, float(2 * stats.t.sf(abs(diff) / se, max(n - 2, 1)))


def design_rank_test(y1, w1, y2, w2) -> tuple[float, float]:
    """Design-based Wilcoxon rank test of two independent groups (R ``svyranktest``).

    The rows of both groups form one with-replacement design with probabilities ∝ 1/weight.
    Each value gets its estimated population mid-rank ``r_i = Σ_{y_j < y_i} w_j + W_i / 2``,
    ``W_i`` the sum of the weights of the values equal to ``y_i``, divided by ``N = Σ w``
    (Lumley & Scott's ``N (F̂(y) + F̂(y−)) / 2``); the weighted least-squares difference of the
    mean rank scores (second group minus first) is referred to Student t on ``n - 2`` degrees
    of freedom with the linearised standard error of the regression coefficient.

    Without ties, or with ties of equal weights, this is R's ``svyranktest``. R averages the
    running mid-ranks of tied values in row order, which for tied values of unequal weights
    depends on the order of the rows; the mid-rank above does not.

    Parameters
    ----------
    y1, w1 : array-like
        Values and weights of the first group (no missing values).
    y2, w2 : array-like
        The same for the second group.

    Returns
    -------
    diff, pvalue : float
        The difference in mean rank score (group 2 − group 1, as ``svyranktest(y ~ g)`` with
        the first group the first factor level) and the two-sided p-value (NaN if a group is
        empty or the standard error is 0).

    References
    ----------
    Lumley, T. & Scott, A. J. (2013). Two-sample rank tests under complex sampling.
    *Biometrika* 100(4), 831-842.

    Examples
    --------
    >>> d, p = design_rank_test([1, 2, 3, 4], [1, 1, 2, 1], [3.5, 5, 6, 7], [1, 2, 1, 1])
    >>> round(d, 3), round(p, 4)  # R svyranktest(y ~ g): 0.46, p = 0.0071360
    (0.46, 0.0071)
    """
    y1, w1, y2, w2 = (np.asarray(x, dtype=float) for x in (y1, w1, y2, w2))
    if y1.size == 0 or y2.size == 0 or w1.sum() <= 0 or w2.sum() <= 0:
        return float("nan"), float("nan")
    y = np.concatenate([y1, y2])
    w = np.concatenate([w1, w2])
    g = np.concatenate([np.zeros(y1.size), np.ones(y2.size)])
    values, inverse = np.unique(y, return_inverse=True)
    tie_w = np.bincount(inverse, weights=w, minlength=values.size)
    below = np.cumsum(tie_w) - tie_w  # weight of the values strictly smaller
    score = (below + tie_w / 2)[inverse] / w.sum()
    m1 = np.dot(w1, score[g == 0]) / w1.sum()
    m2 = np.dot(w2, score[g == 1]) / w2.sum()
    diff = float(m2 - m1)
    # influence of the coefficient: rows of (X' W X)^{-1} x_i · residual_i, X = [1, g]
    x = np.column_stack([np.ones_like(g), g])
    resid = score - np.where(g == 1, m2, m1)
    infl = (x * resid[:, None]) @ np.linalg.inv(x.T @ (w[:, None] * x))
    z = w * infl[:, 1]
    n = y.size
    se = float(np.sqrt(n / (n - 1) * np.sum((z - z.mean()) ** 2)))
    if se == 0:
        return diff, float("nan")
    return diff, float(2 * stats.t.sf(abs(diff) / se, max(n - 2, 1)))


def weighted_median(y, w) -> float:
    """The smallest value whose weighted empirical distribution function reaches 1/2 (R
    ``svyquantile(~y, design, 0.5, qrule = "math")``); NaN when there is no positive weight.

    Examples
    --------
    >>> weighted_median([1, 2, 3, 10], [1, 1, 1, 3])
    3.0
    """
    y, w = np.asarray(y, dtype=float), np.asarray(w, dtype=float)
    if y.size == 0 or w.sum() <= 0:
        return float("nan")
    order = np.argsort(y, kind="stable")
    cdf = np.cumsum(w[order]) / w.sum()
    return float(y[order][np.searchsorted(cdf, 0.5 - 1e-12)])
