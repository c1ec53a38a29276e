"""Difference of two period means when some customers answered in both periods.

The two periods are not independent samples when customers repeat: a customer who was happy
last quarter tends to be happy this quarter, so the two period means covary and the variance of
their difference is smaller than the sum of their variances. :func:`overlap_test` treats the
customer as the cluster (primary sampling unit) of a single design over both periods and
estimates the difference of the two domain means with a cluster-robust (linearised) variance,
exactly what R's ``survey`` package gives with ``svydesign(ids = ~customer, ...)``,
``svyby(~y, ~period, design, svymean, covmat = TRUE)`` and ``svycontrast``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from cxlab.metrics._common import check_columns, check_level
from cxlab.metrics._design import _values, _weights
from cxlab.metrics._results import TestResult

__all__ = ["OVERLAP_METHOD", "overlap_count", "overlap_test"]

#: ``method`` of an overlap-adjusted test (the report footnote names it in Chinese).
OVERLAP_METHOD = ("overlap-adjusted z-test: difference of period means, customers as clusters "
                  "(design-based, as R survey svyby + svycontrast)")


def _ids(frame: pd.DataFrame, id: str) -> pd.Series:  # noqa: A002
    return frame[id].astype("string")


def overlap_count(a: pd.DataFrame, b: pd.DataFrame, *, id: str) -> int:  # noqa: A002
    """Number of distinct ids (customers) present in both ``a`` and ``b`` (missing ids never
    match).

    Examples
    --------
    >>> import pandas as pd
    >>> overlap_count(pd.DataFrame({"c": ["x", "y", None]}), pd.DataFrame({"c": ["y", None]}),
    ...               id="c")
    1
    """
    check_columns(a, [id])
    check_columns(b, [id])
    left = set(_ids(a, id).dropna())
    return len(left.intersection(_ids(b, id).dropna()))


def overlap_test(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    column: str,
    id: str,  # noqa: A002
    weight: str | None = None,
    level: float = 0.95,
    scale: float = 1.0,
) -> TestResult:
    """Two-sided z-test of mean(``a``) − mean(``b``) with customers answering in both samples.

    Parameters
    ----------
    a, b : DataFrame
        The two periods (``a`` the current one), one row per response.
    column : str
        Numeric variable whose means are compared: the −1/0/+1 NPS category, a 0/1 top-box
        indicator or a score. Rows where it is missing are dropped.
    id : str
        Customer id column (pseudonymised, stable across periods). Rows with the same id form
        one cluster, whichever period they fall in and however often the customer answered;
        a row without an id is a cluster of its own.
    weight : str, optional
        Survey weights (default 1).
    level : float
        Confidence level of the interval of the difference.
    scale : float
        Multiplier applied to ``diff``, ``se`` and the interval (100 for NPS points or
        percentage points).

    Returns
    -------
    TestResult
        ``diff`` (weighted mean of ``a`` minus that of ``b``, times ``scale``), ``se``,
        ``statistic`` (z), ``pvalue`` (two-sided, standard normal), ``ci_low``/``ci_high``
        (``diff ± z·se``), ``level`` and ``method`` (:data:`OVERLAP_METHOD` plus the number of
        customers in both samples).

    Notes
    -----
    Stack the two samples; with :math:`\\hat\\mu_g = \\sum_{i \\in g} w_i y_i / W_g` the
    influence value of a row of ``a`` is :math:`u_i = w_i (y_i - \\hat\\mu_a)/W_a`, of a row of
    ``b`` :math:`u_i = -w_i (y_i - \\hat\\mu_b)/W_b`. With :math:`U_c` the sum of the
    :math:`u_i` of customer :math:`c` and :math:`C` the number of customers,

    .. math:: \\widehat{V}(\\hat\\mu_a - \\hat\\mu_b) = \\frac{C}{C-1} \\sum_c (U_c - \\bar U)^2,

    the with-replacement variance of a one-stage cluster sample (Woodruff 1971; Lumley 2010,
    §2.2 and §2.4). Expanding the square shows what it adjusts:
    :math:`\\sum_c U_c^2 = \\sum_c (U^a_c)^2 + \\sum_c (U^b_c)^2 - 2 \\sum_c U^a_c U^b_c`, the
    last sum running over the customers in both periods only, i.e. the variance of the
    difference of partially overlapping samples minus twice the covariance of the matched
    customers' scores (Derrick et al. 2017). Without any customer in both samples the
    covariance term vanishes. This is ``svycontrast(svyby(~y, ~period, svydesign(ids = ~id,
    weights = ~w, data = d), svymean, covmat = TRUE), c(1, -1))`` (checked live in
    ``tests/test_r_survey.py``).

    References
    ----------
    Woodruff, R. S. (1971). A simple method for approximating the variance of a complicated
    estimate. *JASA* 66, 411-414.
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
    Derrick, B., Dobson-McKittrick, A., Toher, D. & White, P. (2015/2017). Test statistics for
    comparing two proportions with partially overlapping samples; Derrick, B., Russ, B., Toher,
    D. & White, P. (2017). Test statistics for the comparison of means for two samples that
    include both paired and independent observations. *JMASM* 16(1), 137-157.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"cid": ["p", "q", "r", "s"], "y": [1.0, 1.0, 0.0, 1.0]})
    >>> b = pd.DataFrame({"cid": ["p", "q", "r", "t"], "y": [1.0, 0.0, 0.0, 0.0]})
    >>> res = overlap_test(a, b, column="y", id="cid")
    >>> round(res.diff, 2), round(res.se, 4)
    (0.5, 0.2615)
    """
    check_level(level)
    for name, frame in (("a", a), ("b", b)):
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name} must be a DataFrame with the {id!r} column, "
                            f"got {type(frame).__name__}")
        check_columns(frame, [column, id, *([weight] if weight else [])])
    parts = []
    for sign, frame in ((1.0, a), (-1.0, b)):
        y = _values(frame, column)
        keep = ~np.isnan(y)
        w = _weights(frame, weight)[keep]
        y = y[keep]
        total = float(w.sum())
        if y.size == 0 or total <= 0:
            raise ValueError(f"overlap_test needs at least one valid {column!r} value in each sample")
        mu = float(np.dot(w, y) / total)
        parts.append((mu, sign * w * (y - mu) / total, _ids(frame, id)[keep]))
    (mu_a, u_a, id_a), (mu_b, u_b, id_b) = parts
    ids = pd.concat([id_a, id_b], ignore_index=True)
    missing = ids.isna().to_numpy()
    codes = np.empty(len(ids), dtype=np.int64)
    codes[~missing], uniques = pd.factorize(ids[~missing])
    codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    n_clusters = len(uniques) + int(missing.sum())
    totals = np.bincount(codes, weights=np.concatenate([u_a, u_b]), minlength=n_clusters)
    if n_clusters < 2:
        se = math.nan
    else:
        d = totals - totals.mean()
        se = math.sqrt(n_clusters / (n_clusters - 1) * float(np.dot(d, d)))
    diff = mu_a - mu_b
    if se > 0:
        z = diff / se
        pvalue = float(2 * stats.norm.sf(abs(z)))
    elif se == 0:
        z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        pvalue = 1.0 if diff == 0 else 0.0
    else:
        z = pvalue = math.nan
    zc = float(stats.norm.ppf(1 - (1 - level) / 2))
    both = len(set(id_a.dropna()).intersection(id_b.dropna()))
    return TestResult(
        diff=scale * diff,
        se=scale * se,
        statistic=float(z),
        pvalue=pvalue,
        ci_low=scale * (diff - zc * se),
        ci_high=scale * (diff + zc * se),
        level=level,
        method=f"{OVERLAP_METHOD}; {both} customers in both samples",
    )
