"""Net Promoter Score: point estimate, standard error, five interval methods, test, sample size."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from cxlab.metrics._common import (
    as_list,
    base_flag,
    check_choice,
    check_columns,
    check_level,
    group_positions,
    kish_n_eff,
    numeric_scores,
    rng_from,
    weights_array,
)
from cxlab.metrics._results import TestResult

if TYPE_CHECKING:
    from cxlab.config import Codebook

__all__ = ["CI_METHODS", "nps", "nps_from_counts", "nps_from_sums", "nps_sample_size",
           "nps_test", "scores_from_counts"]

#: Interval methods accepted by :func:`nps` (``ci=``).
CI_METHODS = ("wald", "adjusted_wald", "trinomial", "bootstrap", "bayes")

#: Pseudo-observations of the adjusted Wald interval: 3/4 detractor, 3/2 passive, 3/4 promoter,
#: i.e. 3 added to n (MeasuringU 2021; the default of Rocks's R package NPS, ``nps_test``).
_PSEUDO_PROMOTERS = 0.75
_PSEUDO_DETRACTORS = 0.75
_PSEUDO_N = 3.0


def _categorise(scores: np.ndarray) -> np.ndarray:
    """Map 0..10 scores to +1 (promoter, 9-10), 0 (passive, 7-8), -1 (detractor, 0-6)."""
    return np.where(scores >= 9, 1.0, np.where(scores >= 7, 0.0, -1.0))


def _z(level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - level) / 2))


def _bootstrap(y, w, *, level, rng, n_resamples):
    n = y.size
    if w is None or np.all(w == w[0]):
        # Unweighted: resampling rows is resampling trinomial counts.
        probs = np.array([np.mean(y == 1), np.mean(y == 0), np.mean(y == -1)])
        counts = rng.multinomial(n, probs / probs.sum(), size=n_resamples)
        est = (counts[:, 0] - counts[:, 2]) / n
    else:
        est = np.empty(n_resamples)
        chunk = max(1, min(n_resamples, 2_000_000 // max(n, 1)))
        for start in range(0, n_resamples, chunk):
            stop = min(start + chunk, n_resamples)
            idx = rng.integers(0, n, size=(stop - start, n))
            ww = w[idx]
            est[start:stop] = np.sum(ww * y[idx], axis=1) / np.sum(ww, axis=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(est, [a, 1 - a])
    return float(lo), float(hi)


def _bayes(p, pas, d, n_star, *, level, rng, n_resamples):
    alpha = np.array([p, pas, d]) * n_star + 1.0  # uniform Dirichlet(1, 1, 1) prior
    draws = rng.dirichlet(alpha, size=n_resamples)
    est = draws[:, 0] - draws[:, 2]
    a = (1 - level) / 2
    lo, hi = np.quantile(est, [a, 1 - a])
    return float(lo), float(hi)


def _nps_cell(y, w, *, ci, level, rng, n_resamples):
    """Statistics of one group; ``y`` in {-1, 0, 1} without missing values; NPS on the -1..1 scale."""
    n = y.size
    out = {
        "n": n,
        "promoters": int(np.sum(y == 1)),
        "passives": int(np.sum(y == 0)),
        "detractors": int(np.sum(y == -1)),
    }
    weighted = w is not None
    if weighted:
        out["n_eff"] = kish_n_eff(w) if n else 0.0
    total = float(np.sum(w)) if weighted else float(n)
    if n == 0 or total <= 0:
        out |= dict.fromkeys(
            ["pct_promoters", "pct_passives", "pct_detractors", "nps", "se", "ci_low", "ci_high"], np.nan
        )
        return out
    ww = w if weighted else np.ones(n)
    p = float(np.sum(ww * (y == 1)) / total)
    d = float(np.sum(ww * (y == -1)) / total)
    est = p - d
    var_unit = max(p + d - est**2, 0.0)  # per-respondent variance of the -1/0/+1 score
    if weighted:
        # Taylor linearisation of the ratio sum(w y) / sum(w) (Woodruff 1971), with-replacement
        # form before the n/(n-1) factor: unit weights give the unweighted sqrt(v/n) here.
        se0 = float(np.sqrt(np.sum(ww**2 * (y - est) ** 2)) / total)
        n_star = var_unit / se0**2 if se0 > 0 else out["n_eff"]
    else:
        se0 = math.sqrt(var_unit / n)
        n_star = float(n)

    def draws():
        if ci == "bootstrap":
            return _bootstrap(y, w, level=level, rng=rng, n_resamples=n_resamples)
        return _bayes(p, max(0.0, 1.0 - p - d), d, n_star, level=level, rng=rng,
                      n_resamples=n_resamples)

    return out | _nps_stats(p, d, se0, n, n_star, ci=ci, level=level, draws=draws)


def _nps_stats(p: float, d: float, se0: float, n: int, n_star: float, *, ci: str,
               level: float, draws=None) -> dict:
    """The statistics of one group from its (weighted) shares ``p`` of promoters and ``d`` of
    detractors, the SE ``se0`` before the n/(n-1) factor and the effective size ``n_star``
    (``n`` unweighted): the one computation behind :func:`nps` and :func:`nps_from_sums`.
    ``draws()`` gives the (low, high) of ``bootstrap``/``bayes``, which need rows."""
    pas = max(0.0, 1.0 - p - d)
    est = p - d
    # The variance convention (see nps()): n/(n-1), as R's svymean; undefined for one answer.
    se = se0 * math.sqrt(n / (n - 1)) if n > 1 else math.nan
    z = _z(level)
    if ci == "wald":
        lo, hi = est - z * se, est + z * se
    elif ci == "adjusted_wald":
        n_adj = n_star + _PSEUDO_N
        pa = (n_star * p + _PSEUDO_PROMOTERS) / n_adj
        da = (n_star * d + _PSEUDO_DETRACTORS) / n_adj
        se_adj = math.sqrt((pa + da - (pa - da) ** 2) / n_adj)
        lo, hi = (pa - da) - z * se_adj, (pa - da) + z * se_adj
    elif ci == "trinomial":
        if n_star > 1:
            t = float(stats.t.ppf(1 - (1 - level) / 2, df=n_star - 1))
            se_t = se0 * math.sqrt(n_star / (n_star - 1))
            lo, hi = est - t * se_t, est + t * se_t
        else:
            lo = hi = np.nan
    else:  # bootstrap, bayes
        lo, hi = draws()
    return {
        "pct_promoters": 100 * p,
        "pct_passives": 100 * pas,
        "pct_detractors": 100 * d,
        "nps": 100 * est,
        "se": 100 * se,
        "ci_low": 100 * max(-1.0, lo) if not np.isnan(lo) else np.nan,
        "ci_high": 100 * min(1.0, hi) if not np.isnan(hi) else np.nan,
    }


def nps(
    data: pd.DataFrame,
    *,
    score: str | None = None,
    by: str | Sequence[str] | None = None,
    weight: str | None = None,
    ci: str = "adjusted_wald",
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
    n_resamples: int = 2000,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Net Promoter Score with standard error and confidence interval, per group.

    Respondents scoring 9-10 on the 0-10 likelihood-to-recommend question are promoters, 7-8
    passives and 0-6 detractors; the NPS is the percentage of promoters minus the percentage of
    detractors (Reichheld 2003).

    Parameters
    ----------
    data : DataFrame
        One row per response.
    score : str, optional
        Column with the 0-10 likelihood-to-recommend answer. Missing values are dropped and
        counted nowhere; any other value outside the integers 0..10 raises ``ValueError``.
        Default: the codebook's NPS item (``codebook.nps_item``), else ``"ltr"``.
    by : str or list of str, optional
        Grouping column(s); one output row per group (sorted).
    weight : str, optional
        Column of non-negative survey weights.
    ci : {"wald", "adjusted_wald", "trinomial", "bootstrap", "bayes"}
        Interval method (see Notes).
    level : float
        Confidence level.
    rng : numpy Generator, int or None
        Randomness for ``bootstrap`` and ``bayes``; a seed makes them reproducible.
    n_resamples : int
        Bootstrap resamples or posterior draws.
    codebook : cxlab.config.Codebook, optional
        Supplies the default of ``score`` (its ``nps`` role).

    Returns
    -------
    DataFrame
        ``[by...]`` group keys, then ``n`` (unweighted valid responses), ``promoters``,
        ``passives``, ``detractors`` (unweighted counts, summing to ``n``), ``pct_promoters``,
        ``pct_passives``, ``pct_detractors`` (weighted when ``weight`` is given, in %), ``nps``
        (points, -100..100), ``se`` (standard error of ``nps`` in points), ``ci_low``,
        ``ci_high`` (points, clipped to -100..100), ``n_eff`` (Kish effective n; only when
        weighted) and ``base_flag`` (``suppress`` if n < 30, ``caution`` if n < 100, else ``ok``).

    Notes
    -----
    With proportions :math:`p` of promoters and :math:`d` of detractors, the per-respondent
    variance of the -1/0/+1 score is :math:`v = p + d - (p - d)^2` (Rocks 2016, eq. 2) and the
    standard error is :math:`se = \\sqrt{v/(n-1)}` (see the variance convention below).
    Intervals:

    - ``wald``: :math:`(p-d) \\pm z\\,se`.
    - ``adjusted_wald``: add 3/4 promoter, 3/2 passive and 3/4 detractor pseudo-observations
      (``n + 3``), recompute :math:`p, d, v`, and centre the Wald interval
      :math:`\\pm z\\sqrt{v_{adj}/(n+3)}` on the adjusted NPS, exactly as published (Rocks 2016;
      Sauro & Lewis, MeasuringU 2021). ``nps`` and ``se`` stay unadjusted. Its pseudo-observations
      keep it of positive width when every answer is a promoter (or a detractor).
    - ``trinomial``: the "trinomial means" interval of MeasuringU (2021): the -1/0/+1 scores
      treated as a sample mean, standard deviation with ``n - 1`` and a Student t quantile with
      ``n - 1`` degrees of freedom (undefined, hence NaN, when ``n < 2``).
    - ``bootstrap``: percentile interval of ``n_resamples`` resamples of respondents.
    - ``bayes``: equal-tailed credible interval from the Dirichlet(1, 1, 1) posterior of the
      trinomial proportions.

    With weights, :math:`p` and :math:`d` are weighted shares and ``se`` is the Taylor
    linearisation SE of the ratio :math:`\\sum w y / \\sum w` (Woodruff 1971),
    :math:`se = \\sqrt{n/(n-1) \\sum w_i^2 (y_i - \\widehat{NPS})^2}/\\sum w_i`. The intervals
    then use the effective size :math:`n^* = \\frac{n}{n-1}\\, v/se^2` (Korn & Graubard's 1998
    :math:`v/se^2`, taken before the :math:`n/(n-1)` factor) in place of ``n``, so a weighted
    analysis with all weights equal to 1 reproduces the unweighted one.

    Variance convention, one for :func:`nps`, :func:`csat`, :func:`ces` and the change tests:
    ``se`` is the standard error of a mean of scores with the unbiased sample variance, the
    factor :math:`n/(n-1)` included: here :math:`\\sqrt{v/(n-1)}` unweighted, with weights the
    linearisation SE with that factor. It equals R's ``survey::svymean`` of the -1/0/+1 score
    (checked live in ``tests/test_r_survey.py``); with one answer it is undefined (NaN). The
    Wald test of :func:`nps_test` and :func:`cxlab.metrics.overlap_test` use it too; intervals
    and tests published under their own definition (adjusted Wald, Wilson, ``prop.test``) keep
    that definition.

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review* 81(12), 46-54.
    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". *The American Statistician*
    70(4), 365-372. arXiv:1601.07235.
    Sauro, J. & Lewis, J. R. (2021). Confidence intervals for Net Promoter Scores. MeasuringU,
    https://measuringu.com/nps-confidence-intervals/.
    Kish, L. (1965). *Survey Sampling*. Wiley.
    Korn, E. L. & Graubard, B. I. (1998). Confidence intervals for proportions with small expected
    number of positive counts estimated from survey data. *Survey Methodology* 24, 193-201.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ltr": [10, 9, 9, 8, 7, 6, 3, 10, None, 9]})
    >>> res = nps(df, ci="wald")
    >>> res[["n", "promoters", "passives", "detractors", "nps"]]
       n  promoters  passives  detractors        nps
    0  9          5         2           2  33.333333
    >>> round(float(res["se"].iloc[0]), 2)
    28.87
    """
    score = nps_score(score, codebook)
    check_columns(data, [score, *as_list(by), *([weight] if weight else [])])
    check_choice("ci", ci, CI_METHODS)
    check_level(level)
    by_cols = as_list(by)
    gen = rng_from(rng) if ci in ("bootstrap", "bayes") else None
    scores = numeric_scores(data[score], column=score, low=0, high=10)
    keep = ~np.isnan(scores)
    y_full = _categorise(np.nan_to_num(scores))
    w_full = None
    if weight is not None:
        w_full = np.zeros(len(data))
        w_full[keep] = weights_array(data.loc[keep], weight)
    rows = []
    for key, pos in group_positions(data, by_cols):
        pos = pos[keep[pos]]
        cell = _nps_cell(
            y_full[pos],
            w_full[pos] if w_full is not None else None,
            ci=ci,
            level=level,
            rng=gen,
            n_resamples=n_resamples,
        )
        rows.append(key | cell)
    out = pd.DataFrame(rows)
    out["base_flag"] = [base_flag(n) for n in out["n"]]
    cols = [
        *by_cols,
        "n",
        "promoters",
        "passives",
        "detractors",
        "pct_promoters",
        "pct_passives",
        "pct_detractors",
        "nps",
        "se",
        "ci_low",
        "ci_high",
        *(["n_eff"] if weight else []),
        "base_flag",
    ]
    return out[cols].reset_index(drop=True)


def nps_score(score: str | None, codebook: Codebook | None) -> str:
    """``score``, else the codebook's NPS item, else ``"ltr"``."""
    if score is not None:
        return score
    if codebook is None:
        return "ltr"
    if codebook.nps_item is None:
        raise ValueError("score= is required: the codebook has no NPS item (roles.nps)")
    return codebook.nps_item


def _as_scores(x: pd.DataFrame | pd.Series, score: str) -> np.ndarray:
    if isinstance(x, pd.DataFrame):
        check_columns(x, [score])
        s, name = x[score], score
    elif isinstance(x, pd.Series):
        s, name = x, (x.name if x.name is not None else score)
    else:
        s, name = pd.Series(x), score
    arr = numeric_scores(s, column=str(name), low=0, high=10)
    return _categorise(arr[~np.isnan(arr)])


def nps_test(
    a: pd.DataFrame | pd.Series,
    b: pd.DataFrame | pd.Series,
    *,
    score: str | None = None,
    method: str = "adjusted_wald",
    level: float = 0.95,
    codebook: Codebook | None = None,
    paired_on: str | None = None,
) -> TestResult:
    """Two-sample z-test for the difference between two Net Promoter Scores.

    Parameters
    ----------
    a, b : DataFrame or Series
        The two independent samples: DataFrames with a ``score`` column, or Series of 0-10
        scores. Missing values are dropped.
    score : str, optional
        Score column when ``a``/``b`` are DataFrames; default ``codebook.nps_item``, else
        ``"ltr"``.
    method : {"adjusted_wald", "wald"}
        ``adjusted_wald`` adds 3/4 promoter and 3/4 detractor pseudo-observations and 3 to each
        ``n`` before computing both NPS and their variances (MeasuringU 2021); ``wald`` does not.
    level : float
        Confidence level of the interval of the difference.
    codebook : cxlab.config.Codebook, optional
        Supplies the default of ``score``.
    paired_on : str, optional
        Customer id column (e.g. ``"customer_id"``) of two periods in which some customers
        answered both times. When at least one id is in both samples the test is the
        overlap-adjusted one of :func:`cxlab.metrics.overlap_test` on the −1/0/+1 scores
        (customers as clusters; ``method`` is ignored); when no id matches it is exactly the
        independent test of ``method``.

    Returns
    -------
    TestResult
        ``diff`` (observed NPS of ``a`` minus observed NPS of ``b``, in points: the same
        difference :func:`nps` values and :func:`change` report, whatever the method), ``se``
        (points), ``statistic`` (z), ``pvalue`` (two-sided), ``ci_low``/``ci_high``, ``level``
        and ``method`` (naming the test and the point estimate). With ``adjusted_wald``,
        ``se``, ``statistic`` and the interval come from the adjusted proportions, so z is the
        adjusted difference over ``se`` and the interval is centred on the adjusted difference,
        exactly as :func:`nps` keeps the observed NPS but adjusts its interval.

    Notes
    -----
    :math:`z = (NPS_a - NPS_b) / \\sqrt{v_a/n_a + v_b/n_b}` with
    :math:`v = p + d - (p - d)^2` (Rocks 2016, section 4; Lewis & Sauro, MeasuringU 2021): two
    independent samples. ``adjusted_wald`` is the published recipe (:math:`n + 3`, adjusted
    :math:`p, d`); ``wald`` follows the variance convention of :func:`nps`, with
    :math:`n - 1` in place of :math:`n`. With ``paired_on`` and customers in both samples, the variance of the
    difference subtracts twice the covariance of the matched customers' scores (see
    :func:`cxlab.metrics.overlap_test`).

    References
    ----------
    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". *The American Statistician*
    70(4), 365-372.
    Lewis, J. R. & Sauro, J. (2021). How to statistically compare two Net Promoter Scores.
    MeasuringU, https://measuringu.com/nps-significance-test/.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.Series([10] * 60 + [8] * 25 + [3] * 15)
    >>> b = pd.Series([10] * 40 + [8] * 30 + [3] * 30)
    >>> res = nps_test(a, b)
    >>> round(res.diff, 1), round(res.pvalue, 4)
    (35.0, 0.0019)
    """
    check_choice("method", method, ("adjusted_wald", "wald"))
    check_level(level)
    score = nps_score(score, codebook)
    if paired_on is not None:
        paired = _paired_nps_test(a, b, score=score, id=paired_on, level=level)
        if paired is not None:
            return paired
    ya, yb = _as_scores(a, score), _as_scores(b, score)
    if ya.size == 0 or yb.size == 0:
        raise ValueError("nps_test needs at least one valid score in each sample")
    extra = (_PSEUDO_PROMOTERS, _PSEUDO_DETRACTORS, _PSEUDO_N) if method == "adjusted_wald" else (0, 0, 0)

    def parts(y):
        n = y.size + extra[2]
        p = (np.sum(y == 1) + extra[0]) / n
        d = (np.sum(y == -1) + extra[1]) / n
        # adjusted Wald as published (v/(n+3)); Wald with the n/(n-1) convention of nps()
        denom = n if method == "adjusted_wald" else (n - 1 if n > 1 else math.nan)
        return p - d, (p + d - (p - d) ** 2) / denom

    ea, va = parts(ya)
    eb, vb = parts(yb)
    diff = float(ea - eb)  # the adjusted difference when method="adjusted_wald"
    observed = float(np.mean(ya) - np.mean(yb))
    se = float(math.sqrt(va + vb))
    stat = diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    pvalue = float(2 * stats.norm.sf(abs(stat)))
    z = _z(level)
    label = ("adjusted Wald (Rocks 2016): z and interval on adjusted proportions"
             if method == "adjusted_wald" else "Wald")
    return TestResult(
        diff=100 * observed,
        se=100 * se,
        statistic=float(stat),
        pvalue=pvalue,
        ci_low=100 * (diff - z * se),
        ci_high=100 * (diff + z * se),
        level=level,
        method=f"two-sample NPS z-test, {label}; diff = observed NPS difference",
    )


def _paired_nps_test(a, b, *, score: str, id: str, level: float) -> TestResult | None:  # noqa: A002
    """The overlap-adjusted NPS test, or None when no customer is in both samples."""
    from cxlab.metrics._overlap import overlap_count, overlap_test

    if not (isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame)):
        raise TypeError("paired_on= needs a and b as DataFrames with the id column")
    check_columns(a, [score, id])
    check_columns(b, [score, id])
    if overlap_count(a, b, id=id) == 0:
        return None
    frames = []
    for x in (a, b):
        arr = numeric_scores(x[score], column=score, low=0, high=10)
        cat = np.where(np.isnan(arr), np.nan, _categorise(np.nan_to_num(arr)))
        frames.append(pd.DataFrame({"_y": cat, "_id": x[id].to_numpy()}))
    res = overlap_test(frames[0], frames[1], column="_y", id="_id", level=level, scale=100.0)
    return res


def nps_sample_size(
    margin: float,
    *,
    p_promoters: float = 0.5,
    p_detractors: float = 0.5,
    level: float = 0.95,
    method: str = "wald",
) -> int:
    """Number of respondents needed for an NPS margin of error (half-width) of ``margin`` points.

    Parameters
    ----------
    margin : float
        Desired half-width of the confidence interval, in NPS points (e.g. 5 for ±5).
    p_promoters, p_detractors : float
        Planning values of the promoter and detractor shares (0..1). The default 0.5/0.5 is the
        worst case (variance 1); use last period's shares when known.
    level : float
        Confidence level.
    method : {"wald", "adjusted_wald"}
        ``adjusted_wald`` subtracts the 3 pseudo-observations the adjusted interval adds.

    Returns
    -------
    int
        Smallest whole sample size reaching the margin.

    Notes
    -----
    :math:`n = z^2 \\,[p + d - (p - d)^2] / (m/100)^2` (minus 3 for ``adjusted_wald``).
    With :math:`p = d = 1/3` the 95 % interval is about :math:`320/\\sqrt{n}` points wide, so a
    width of 10 (margin 5) needs about 1,024 respondents (Engelhardt 2016).

    References
    ----------
    Engelhardt, A. (2016). Net Promoter Score confidence intervals 2: maths and stats. CYBAEA.
    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". *The American Statistician*
    70(4), 365-372.

    Examples
    --------
    >>> nps_sample_size(5, p_promoters=1/3, p_detractors=1/3)
    1025
    >>> nps_sample_size(5)
    1537
    """
    if not (isinstance(margin, (int, float)) and margin > 0):
        raise ValueError(f"margin={margin!r} must be a positive number of NPS points")
    check_level(level)
    check_choice("method", method, ("wald", "adjusted_wald"))
    p, d = float(p_promoters), float(p_detractors)
    if not (0 <= p <= 1 and 0 <= d <= 1 and p + d <= 1):
        raise ValueError(
            f"p_promoters={p!r} and p_detractors={d!r} must lie in 0..1 and sum to at most 1"
        )
    var = p + d - (p - d) ** 2
    n = _z(level) ** 2 * var / (margin / 100) ** 2
    if method == "adjusted_wald":
        n -= _PSEUDO_N
    return max(1, math.ceil(n - 1e-9))


def nps_from_counts(promoters: int, passives: int, detractors: int, *,
                    ci: str = "adjusted_wald", level: float = 0.95) -> dict:
    """The statistics :func:`nps` gives one group, from its three counts (aggregated tables,
    DuckDB query results) without a frame of respondents.

    The same computation as :func:`nps` on unweighted scores (it runs the same code on a
    compact -1/0/+1 array), so counts and rows can never disagree. ``ci`` is one of ``wald``,
    ``adjusted_wald``, ``trinomial`` (the draws of ``bootstrap`` and ``bayes`` need rows).

    Returns
    -------
    dict
        ``n, promoters, passives, detractors, pct_promoters, pct_passives, pct_detractors, nps,
        se, ci_low, ci_high`` as in :func:`nps` (NaN statistics when all counts are 0).

    Examples
    --------
    SE by hand (n/(n − 1) convention of :func:`nps`): 100 √((0.5 + 0.2 − 0.3²) / 9) = 26.03.

    >>> r = nps_from_counts(5, 3, 2)
    >>> r["n"], r["nps"], round(r["se"], 2)
    (10, 30.0, 26.03)
    """
    if ci not in ("wald", "adjusted_wald", "trinomial"):
        raise ValueError(f"ci={ci!r} needs respondent rows; from counts: wald, adjusted_wald, "
                         "trinomial")
    counts = [int(promoters), int(passives), int(detractors)]
    if min(counts) < 0:
        raise ValueError(f"counts must be non-negative, got {counts}")
    y = np.repeat(np.array([1, 0, -1], dtype=np.int8), counts)
    return _nps_cell(y, None, ci=ci, level=level, rng=None, n_resamples=0)


def nps_from_sums(w: Sequence[float], w2: Sequence[float], counts: Sequence[float], *,
                  ci: str = "adjusted_wald", level: float = 0.95) -> dict:
    """The statistics :func:`nps` with ``weight=`` gives one group, from its class sums.

    ``w``, ``w2`` and ``counts`` hold, for promoters, passives and detractors in that order,
    the sum of the respondents' weights, of their squared weights and the number of
    respondents. That is all the weighted NPS and its linearisation SE need: the score takes
    three values, so :math:`\\sum_i w_i^2 (y_i - \\widehat{NPS})^2 = \\sum_c W^{(2)}_c (y_c -
    \\widehat{NPS})^2` over the classes. Sums of several groups add up to the sums of their
    union, so a region or the company is estimated exactly from its branches' sums. Unit
    weights (``w = w2 = counts``) give the unweighted statistics.

    ``ci``: ``wald``, ``adjusted_wald`` or ``trinomial`` (as :func:`nps`).

    Returns
    -------
    dict
        The keys of :func:`nps_from_counts` plus ``w_sum`` (weighted base) and ``n_eff``
        (Kish's effective n, (Σw)²/Σw²); NaN statistics when the group is empty.

    Examples
    --------
    Two promoters of weight 2, one detractor of weight 1: NPS = 100 (4 − 1)/5 = 60.

    >>> r = nps_from_sums([4, 0, 1], [8, 0, 1], [2, 0, 1])
    >>> r["nps"], round(r["n_eff"], 3)
    (60.0, 2.778)
    """
    if ci not in ("wald", "adjusted_wald", "trinomial"):
        raise ValueError(f"ci={ci!r} needs respondent rows; from sums: wald, adjusted_wald, "
                         "trinomial")
    check_level(level)
    w, w2, k = (np.asarray(v, dtype=float) for v in (w, w2, counts))
    if w.shape != (3,) or w2.shape != (3,) or k.shape != (3,):
        raise ValueError("w, w2 and counts need three values: promoters, passives, detractors")
    n = int(round(k.sum()))
    total, s2 = float(w.sum()), float(w2.sum())
    out = {"n": n, "promoters": int(round(k[0])), "passives": int(round(k[1])),
           "detractors": int(round(k[2]))}
    extra = {"w_sum": total, "n_eff": total**2 / s2 if s2 > 0 else 0.0}
    if n == 0 or total <= 0:
        return out | dict.fromkeys(["pct_promoters", "pct_passives", "pct_detractors", "nps",
                                    "se", "ci_low", "ci_high"], np.nan) | extra
    p, d = float(w[0] / total), float(w[2] / total)
    est = p - d
    se0 = float(np.sqrt(np.sum(w2 * (np.array([1.0, 0.0, -1.0]) - est) ** 2)) / total)
    n_star = max(p + d - est**2, 0.0) / se0**2 if se0 > 0 else extra["n_eff"]
    return out | _nps_stats(p, d, se0, n, n_star, ci=ci, level=level) | extra


def scores_from_counts(promoters: int, passives: int, detractors: int, *,
                       score: str = "ltr") -> pd.DataFrame:
    """A frame of 0-10 scores (10, 8, 0) with the given promoter/passive/detractor counts.

    NPS, its intervals (all but ``bootstrap``/``bayes`` draws) and :func:`nps_test` depend only on
    the three counts, so aggregated counts (e.g. a company table per branch) can be analysed
    exactly without respondent-level rows.

    Examples
    --------
    >>> nps(scores_from_counts(5, 3, 2))[["n", "nps"]].to_dict("records")
    [{'n': 10, 'nps': 30.0}]
    """
    values = [10.0] * int(promoters) + [8.0] * int(passives) + [0.0] * int(detractors)
    return pd.DataFrame({score: np.asarray(values, dtype=float)})
