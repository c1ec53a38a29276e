"""Two-proportion z-test (R ``prop.test(correct = FALSE)``) and the two-mean Welch test."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from cxlab.metrics._results import TestResult

__all__ = ["two_proportion_test", "welch_test"]


def two_proportion_test(k1: float, n1: float, k2: float, n2: float, *, level: float = 0.95) -> TestResult:
    """Two-sample z-test of equal proportions, without continuity correction.

    Parameters
    ----------
    k1, n1 : float
        Successes and trials of the first sample (weighted counts and effective sizes are
        accepted, e.g. for banner tables).
    k2, n2 : float
        Successes and trials of the second sample.
    level : float
        Confidence level of the interval of the difference.

    Returns
    -------
    TestResult
        ``diff`` = k1/n1 - k2/n2, ``se`` the pooled standard error under H0, ``statistic`` the
        z statistic (its square is R's ``X-squared``), ``pvalue`` two-sided, ``ci_low``/``ci_high``
        the unpooled Wald interval of the difference (as printed by R).

    Notes
    -----
    :math:`\\bar p = (k_1 + k_2)/(n_1 + n_2)`,
    :math:`z = (\\hat p_1 - \\hat p_2)/\\sqrt{\\bar p (1 - \\bar p)(1/n_1 + 1/n_2)}`; the interval is
    :math:`\\hat p_1 - \\hat p_2 \\pm z_{1-\\alpha/2}\\sqrt{\\hat p_1\\hat q_1/n_1 + \\hat p_2\\hat q_2/n_2}`.
    Identical to ``prop.test(c(k1, k2), c(n1, n2), correct = FALSE)`` in R, whose chi-square
    statistic is :math:`z^2`.

    References
    ----------
    R Core Team. ``prop.test`` {stats}: Test of equal or given proportions.
    Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., section 3.1. Wiley.

    Examples
    --------
    >>> res = two_proportion_test(94, 214, 39, 128)
    >>> round(res.statistic ** 2, 4), round(res.pvalue, 4)
    (6.1026, 0.0135)
    """
    for name, v in (("k1", k1), ("n1", n1), ("k2", k2), ("n2", n2)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name}={v!r} must be a finite non-negative number")
    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"n1={n1!r} and n2={n2!r} must be positive")
    if k1 > n1 or k2 > n2:
        raise ValueError(f"successes cannot exceed trials (k1={k1}, n1={n1}, k2={k2}, n2={n2})")
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    diff = p1 - p2
    if se > 0:
        z = diff / se
        pvalue = float(2 * stats.norm.sf(abs(z)))
    else:
        z, pvalue = 0.0, 1.0
    zc = float(stats.norm.ppf(1 - (1 - level) / 2))
    se_u = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return TestResult(
        diff=float(diff),
        se=float(se),
        statistic=float(z),
        pvalue=pvalue,
        ci_low=float(diff - zc * se_u),
        ci_high=float(diff + zc * se_u),
        level=level,
        method="two-sample z-test of proportions, no continuity correction",
    )


def welch_test(mean1, se1, n1, mean2, se2, n2, *, level: float = 0.95) -> TestResult:
    """Welch's unequal-variance t-test from two means and their standard errors.

    Examples
    --------
    >>> res = welch_test(5.0, 0.1, 100, 4.7, 0.1, 100)
    >>> round(res.statistic, 3)
    2.121
    """
    se = math.sqrt(se1**2 + se2**2)
    diff = mean1 - mean2
    v1, v2 = se1**2, se2**2
    dof = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1)) if n1 > 1 and n2 > 1 and se > 0 else np.nan
    t = diff / se if se > 0 else np.nan
    pvalue = float(2 * stats.t.sf(abs(t), dof)) if np.isfinite(t) and np.isfinite(dof) else np.nan
    tc = float(stats.t.ppf(1 - (1 - level) / 2, dof)) if np.isfinite(dof) else np.nan
    return TestResult(
        diff=float(diff),
        se=float(se),
        statistic=float(t),
        pvalue=pvalue,
        ci_low=float(diff - tc * se),
        ci_high=float(diff + tc * se),
        level=level,
        method="Welch two-sample t-test",
    )
