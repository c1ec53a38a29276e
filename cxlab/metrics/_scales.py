"""CSAT (top-box share), CES (mean effort score) and summaries of verbal 5-point items."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from cxlab.metrics._common import (
    as_list,
    base_flag,
    check_columns,
    group_positions,
    kish_n_eff,
    numeric_scores,
    weights_array,
)

__all__ = ["VERBAL5", "ces", "csat", "item_summary", "wilson_interval"]

#: Codes of the verbal 5-point scale of the 客户体验调研表 (params/codebook.yaml, scale verbal5).
VERBAL5 = {5: "好", 4: "良好", 3: "一般", 2: "较差", 1: "差"}


def wilson_interval(p: float, n: float, *, level: float = 0.95) -> tuple[float, float]:
    """Wilson (1927) score interval for a proportion ``p`` observed on ``n`` trials.

    It is the interval R's ``prop.test(x, n, correct = FALSE)`` prints for one sample.

    Examples
    --------
    >>> lo, hi = wilson_interval(81 / 263, 263)
    >>> round(lo, 4), round(hi, 4)
    (0.2553, 0.3662)
    """
    if n <= 0 or np.isnan(p):
        return (np.nan, np.nan)
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z / denom * math.sqrt(max(p * (1 - p) / n + z**2 / (4 * n**2), 0.0))
    return (max(0.0, centre - half), min(1.0, centre + half))


def _prepare(data, score, weight, low, high):
    values = numeric_scores(data[score], column=score, low=low, high=high)
    keep = ~np.isnan(values)
    w = None
    if weight is not None:
        w = np.zeros(len(data))
        w[keep] = weights_array(data.loc[keep], weight)
    return values, keep, w


def _share_cell(ind: np.ndarray, w: np.ndarray | None, level: float) -> dict:
    """Share of ``ind`` (0/1) with linearisation SE and Wilson interval on the effective n."""
    n = ind.size
    out: dict = {"n": n}
    if w is not None:
        out["n_eff"] = kish_n_eff(w) if n else 0.0
    total = float(np.sum(w)) if w is not None else float(n)
    if n == 0 or total <= 0:
        return out | {"share": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    if w is None:
        p = float(np.mean(ind))
        se = math.sqrt(p * (1 - p) / n)
        n_star = float(n)
    else:
        p = float(np.sum(w * ind) / total)
        se = float(np.sqrt(np.sum(w**2 * (ind - p) ** 2)) / total)
        n_star = p * (1 - p) / se**2 if se > 0 else out["n_eff"]
    lo, hi = wilson_interval(p, n_star, level=level)
    return out | {"share": p, "se": se, "ci_low": lo, "ci_high": hi}


def csat(
    data: pd.DataFrame,
    *,
    score: str,
    scale: int = 5,
    top_box: int = 2,
    by: str | Sequence[str] | None = None,
    weight: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Customer satisfaction (CSAT): the top-box share of a 1..``scale`` satisfaction item, in %.

    Parameters
    ----------
    data : DataFrame
        One row per response.
    score : str
        Column with integer codes 1..``scale`` (higher = more satisfied). Missing values are
        dropped; anything else outside the scale raises ``ValueError``.
    scale : int
        Number of scale points.
    top_box : int
        How many top categories count as satisfied (2: codes 4 and 5 on a 5-point scale).
    by : str or list of str, optional
        Grouping column(s).
    weight : str, optional
        Column of non-negative survey weights.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        ``[by...]``, ``n`` (unweighted valid responses), ``csat`` (top-box share, %), ``se``
        (standard error, %), ``ci_low``, ``ci_high`` (Wilson score interval, %), ``n_eff``
        (Kish, only when weighted) and ``base_flag``.

    Notes
    -----
    :math:`\\mathrm{CSAT} = 100 \\cdot \\#\\{\\text{score} > \\text{scale} - \\text{top\\_box}\\}/n`.
    The interval is Wilson's score interval (better coverage than Wald near 0 or 100 %, where
    CSAT often sits); ``se`` is the Wald :math:`\\sqrt{p(1-p)/n}`. With weights the share is
    weighted, ``se`` is the linearisation SE and the Wilson interval uses the effective size
    :math:`p(1-p)/se^2` (Korn & Graubard 1998).

    Variance convention (the same for :func:`nps`, :func:`csat` and :func:`ces`): the weighted
    ``se`` is the with-replacement Taylor linearisation SE, scaled so that unit weights give
    exactly the textbook unweighted SE of the statistic: for the proportion-type NPS and CSAT
    that is the Wald :math:`\\sqrt{v/n}` (no :math:`n/(n-1)` factor, HC0), for the CES mean
    :math:`s/\\sqrt{n}` with the :math:`n-1` standard deviation (factor :math:`n/(n-1)`, HC1).
    R's ``survey::svymean`` applies :math:`n/(n-1)` to all three; multiply the NPS and CSAT
    ``se`` by :math:`\\sqrt{n/(n-1)}` to get it, or use
    :func:`cxlab.metrics.weighted_mean` / :func:`cxlab.metrics.weighted_proportion`, which
    reproduce ``svymean``/``svyciprop`` (checked live in ``tests/test_r_survey.py``).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    *JASA* 22, 209-212.
    Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of
    seven methods. *Statistics in Medicine* 17, 857-872.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"csat": [5] * 42 + [4] * 32 + [3] * 10 + [2] * 9 + [1] * 14})
    >>> res = csat(df, score="csat")
    >>> res[["n", "csat"]]
         n       csat
    0  107  69.158879
    """
    check_columns(data, [score, *as_list(by), *([weight] if weight else [])])
    if not (isinstance(scale, int) and scale >= 2):
        raise ValueError(f"scale={scale!r} must be an integer >= 2")
    if not (isinstance(top_box, int) and 1 <= top_box < scale):
        raise ValueError(f"top_box={top_box!r} must be an integer in 1..{scale - 1}")
    by_cols = as_list(by)
    values, keep, w = _prepare(data, score, weight, 1, scale)
    top = (values > scale - top_box).astype(float)
    rows = []
    for key, pos in group_positions(data, by_cols):
        pos = pos[keep[pos]]
        cell = _share_cell(top[pos], w[pos] if w is not None else None, level)
        rows.append(
            key
            | {
                "n": cell["n"],
                "csat": 100 * cell["share"],
                "se": 100 * cell["se"],
                "ci_low": 100 * cell["ci_low"],
                "ci_high": 100 * cell["ci_high"],
            }
            | ({"n_eff": cell["n_eff"]} if w is not None else {})
        )
    out = pd.DataFrame(rows)
    out["base_flag"] = [base_flag(n) for n in out["n"]]
    return out.reset_index(drop=True)


def ces(
    data: pd.DataFrame,
    *,
    score: str,
    scale: int = 7,
    by: str | Sequence[str] | None = None,
    weight: str | None = None,
    easy_from: int | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Customer effort score (CES): mean of a 1..``scale`` ease item and the share answering "easy".

    Parameters
    ----------
    data : DataFrame
        One row per response.
    score : str
        Column with integer codes 1..``scale``; higher = easier (codebook scale ``ces7``:
        7 非常容易 … 1 非常困难).
    scale : int
        Number of scale points.
    by : str or list of str, optional
        Grouping column(s).
    weight : str, optional
        Column of non-negative survey weights.
    easy_from : int, optional
        Lowest code counted as easy; default ``scale - 2`` (the top three boxes, 5-7 on 1-7:
        比较容易, 容易, 非常容易).
    level : float
        Confidence level of the interval of the mean.

    Returns
    -------
    DataFrame
        ``[by...]``, ``n``, ``mean`` (mean score), ``pct_easy`` (% with score >= ``easy_from``),
        ``se`` (standard error of the mean), ``ci_low``, ``ci_high`` (Student t interval of the
        mean), ``n_eff`` (only when weighted) and ``base_flag``.

    Notes
    -----
    :math:`se = s/\\sqrt{n}` with the ``n - 1`` standard deviation; interval
    :math:`\\bar x \\pm t_{n-1} se`. With weights the mean is weighted and ``se`` is the
    linearisation SE :math:`\\sqrt{n/(n-1) \\sum w_i^2 (x_i - \\bar x)^2}/\\sum w_i`, which equals
    :math:`s/\\sqrt{n}` for unit weights; the t quantile uses Kish's ``n_eff - 1`` degrees of freedom.

    Variance convention (the same for :func:`nps`, :func:`csat` and :func:`ces`): the weighted
    ``se`` is the with-replacement Taylor linearisation SE, scaled so that unit weights give
    exactly the textbook unweighted SE of the statistic: for the proportion-type NPS and CSAT
    that is the Wald :math:`\\sqrt{v/n}` (no :math:`n/(n-1)` factor, HC0), for the CES mean
    :math:`s/\\sqrt{n}` with the :math:`n-1` standard deviation (factor :math:`n/(n-1)`, HC1).
    R's ``survey::svymean`` applies :math:`n/(n-1)` to all three; multiply the NPS and CSAT
    ``se`` by :math:`\\sqrt{n/(n-1)}` to get it, or use
    :func:`cxlab.metrics.weighted_mean` / :func:`cxlab.metrics.weighted_proportion`, which
    reproduce ``svymean``/``svyciprop`` (checked live in ``tests/test_r_survey.py``).

    References
    ----------
    Dixon, M., Freeman, K. & Toman, N. (2010). Stop trying to delight your customers.
    *Harvard Business Review* 88(7/8), 116-122.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"ces": [7, 6, 5, 5, 4, 3, 7, 6]})
    >>> ces(df, score="ces")[["n", "mean", "pct_easy"]]
       n    mean  pct_easy
    0  8  5.375      75.0
    """
    check_columns(data, [score, *as_list(by), *([weight] if weight else [])])
    if not (isinstance(scale, int) and scale >= 2):
        raise ValueError(f"scale={scale!r} must be an integer >= 2")
    easy_from = scale - 2 if easy_from is None else easy_from
    if not (isinstance(easy_from, int) and 1 <= easy_from <= scale):
        raise ValueError(f"easy_from={easy_from!r} must be an integer in 1..{scale}")
    by_cols = as_list(by)
    values, keep, w_full = _prepare(data, score, weight, 1, scale)
    rows = []
    for key, pos in group_positions(data, by_cols):
        pos = pos[keep[pos]]
        x = values[pos]
        n = x.size
        w = w_full[pos] if w_full is not None else np.ones(n)
        total = float(np.sum(w))
        row = key | {"n": n}
        if n == 0 or total <= 0:
            row |= dict.fromkeys(["mean", "pct_easy", "se", "ci_low", "ci_high"], np.nan)
        else:
            mean = float(np.sum(w * x) / total)
            easy = float(np.sum(w * (x >= easy_from)) / total)
            if n > 1:
                se = float(np.sqrt(n / (n - 1) * np.sum(w**2 * (x - mean) ** 2)) / total)
                df = (kish_n_eff(w) if w_full is not None else n) - 1
                t = float(stats.t.ppf(1 - (1 - level) / 2, df=df)) if df > 0 else np.nan
                lo, hi = mean - t * se, mean + t * se
            else:
                se = lo = hi = np.nan
            row |= {"mean": mean, "pct_easy": 100 * easy, "se": se, "ci_low": lo, "ci_high": hi}
        if w_full is not None:
            row["n_eff"] = kish_n_eff(w) if n else 0.0
        rows.append(row)
    out = pd.DataFrame(rows)
    out["base_flag"] = [base_flag(n) for n in out["n"]]
    return out.reset_index(drop=True)


def _verbal_codes(series: pd.Series, *, column: str, scale: int) -> np.ndarray:
    """Codes from numbers or verbal labels (好/良好/一般/较差/差); NaN for missing."""
    s = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
    if scale == 5 and not pd.api.types.is_numeric_dtype(s):
        reverse = {v: k for k, v in VERBAL5.items()}
        s = s.astype(object).map(lambda v: reverse.get(v.strip(), v) if isinstance(v, str) else v)
    return numeric_scores(pd.Series(s, index=series.index), column=column, low=1, high=scale)


def item_summary(
    data: pd.DataFrame,
    *,
    items: Sequence[str],
    scale: int = 5,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Distribution, mean and top-/bottom-2-box shares of rating items (verbal 5-point by default).

    Parameters
    ----------
    data : DataFrame
        One row per response.
    items : list of str
        Item columns: codes 1..``scale`` (5 = 好 … 1 = 差) or, for ``scale=5``, the verbal
        labels 好/良好/一般/较差/差. Missing answers are dropped per item.
    scale : int
        Number of scale points.
    labels : mapping, optional
        Item id → display label (e.g. the codebook's Chinese labels); default the item id.

    Returns
    -------
    DataFrame
        One row per item, in the order given: ``item``, ``label``, ``n``, ``pct_<code>`` for
        each code from ``scale`` down to 1 (% of valid answers), ``mean``, ``top2`` (% in the two
        highest codes), ``bottom2`` (% in the two lowest codes), ``base_flag``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"look_color": ["好", "良好", "良好", "一般", "差", None],
    ...                    "look_logo": [5, 5, 4, 3, 2, 1]})
    >>> res = item_summary(df, items=["look_color", "look_logo"], labels={"look_color": "产品的色彩"})
    >>> res[["item", "label", "n", "mean", "top2", "bottom2"]]
             item      label  n  mean       top2    bottom2
    0  look_color      产品的色彩  5   3.4  60.000000  20.000000
    1   look_logo  look_logo  6   3.333333  50.000000  33.333333
    """
    check_columns(data, items)
    if not (isinstance(scale, int) and scale >= 2):
        raise ValueError(f"scale={scale!r} must be an integer >= 2")
    labels = dict(labels or {})
    rows = []
    for item in items:
        x = _verbal_codes(data[item], column=item, scale=scale)
        x = x[~np.isnan(x)]
        n = x.size
        row = {"item": item, "label": labels.get(item, item), "n": n}
        for code in range(scale, 0, -1):
            row[f"pct_{code}"] = 100 * float(np.mean(x == code)) if n else np.nan
        row["mean"] = float(np.mean(x)) if n else np.nan
        row["top2"] = 100 * float(np.mean(x >= scale - 1)) if n else np.nan
        row["bottom2"] = 100 * float(np.mean(x <= 2)) if n else np.nan
        row["base_flag"] = base_flag(n)
        rows.append(row)
    return pd.DataFrame(rows)
