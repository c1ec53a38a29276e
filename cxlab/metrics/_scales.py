"""CSAT (top-box share), CES (mean effort score) and summaries of verbal 5-point items."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

if TYPE_CHECKING:
    from cxlab.config import Codebook, Scale

from cxlab.metrics._codebook import (
    ScaleSpec,
    codebook_scale,
    resolve_scale,
    to_codes,
)
from cxlab.metrics._common import (
    as_list,
    base_flag,
    check_columns,
    group_positions,
    kish_n_eff,
    weights_array,
)

__all__ = ["VERBAL5", "ces", "csat", "item_summary", "share_from_sums", "wilson_interval"]

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


def _role_item(item: str | None, codebook, role: str, what: str) -> str:
    """``item``, else the codebook's item of ``role``; a clear error when neither is given."""
    if item is not None:
        return item
    found = getattr(codebook, role, None) if codebook is not None else None
    if found is None:
        raise ValueError(f"score= is required: give the {what} column"
                         + (f" (the codebook has no {role})" if codebook is not None else
                            " or codebook= with that role"))
    return found


def _scale_for(scale, codebook, item: str, default: int):
    if scale is not None:
        return scale
    sc = codebook_scale(codebook, item)
    return sc if sc is not None else default


def _prepare(data, score, weight, spec: ScaleSpec):
    values = to_codes(data[score], spec, column=score)
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
        se0 = math.sqrt(p * (1 - p) / n)
        n_star = float(n)
    else:
        p = float(np.sum(w * ind) / total)
        se0 = float(np.sqrt(np.sum(w**2 * (ind - p) ** 2)) / total)
        n_star = p * (1 - p) / se0**2 if se0 > 0 else out["n_eff"]
    return out | _share_stats(p, se0, n, n_star, level)


def _share_stats(p: float, se0: float, n: int, n_star: float, level: float) -> dict:
    """Share, SE and Wilson interval (fractions) from the share ``p``, its SE ``se0`` before the
    n/(n-1) factor and the effective size ``n_star``: behind :func:`csat` and
    :func:`share_from_sums`."""
    # the n/(n-1) convention of cxlab.metrics.nps (R's svymean); the Wilson interval as published
    se = se0 * math.sqrt(n / (n - 1)) if n > 1 else math.nan
    lo, hi = wilson_interval(p, n_star, level=level)
    return {"share": p, "se": se, "ci_low": lo, "ci_high": hi}


def share_from_sums(w_top: float, w_all: float, *, w2_top: float, w2_all: float, k: float,
                    n: float, level: float = 0.95) -> dict:
    """The statistics :func:`csat` with ``weight=`` gives one group, from its sums: ``w_top``,
    ``w2_top``, ``k``: the sum of weights, of squared weights and the number of respondents in
    the top box; ``w_all``, ``w2_all``, ``n``: the same over all who answered.

    The 0/1 indicator takes two values, so the linearisation variance needs only these sums
    (:math:`\\sum w_i^2 (y_i - p)^2 = W^{(2)}_{top} (1 - p)^2 + (W^{(2)}_{all} -
    W^{(2)}_{top}) p^2`); sums of groups add up to the sums of their union. Unit weights
    (``w = w2 = counts``) give the unweighted statistics.

    Returns
    -------
    dict
        ``n, k, share, se, ci_low, ci_high`` (share, its SE and Wilson interval in %, as
        :func:`csat`), ``w_sum`` and ``n_eff`` (Kish); NaN statistics when nobody answered.

    Examples
    --------
    >>> r = share_from_sums(3.0, 4.0, w2_top=5.0, w2_all=6.0, k=2, n=3)
    >>> r["share"], round(r["n_eff"], 3)
    (75.0, 2.667)
    """
    n, k = int(round(n)), int(round(k))
    total, s2 = float(w_all), float(w2_all)
    out = {"n": n, "k": k, "w_sum": total, "n_eff": total**2 / s2 if s2 > 0 else 0.0}
    if n == 0 or total <= 0:
        return out | dict.fromkeys(["share", "se", "ci_low", "ci_high"], np.nan)
    p = float(w_top) / total
    se0 = math.sqrt(max(float(w2_top) * (1 - p) ** 2 + (s2 - float(w2_top)) * p**2, 0.0)) / total
    n_star = p * (1 - p) / se0**2 if se0 > 0 else out["n_eff"]
    return out | {key: 100 * v for key, v in _share_stats(p, se0, n, n_star, level).items()}


def csat(
    data: pd.DataFrame,
    *,
    score: str | None = None,
    scale: Scale | int | None = None,
    top_box: int | None = None,
    by: str | Sequence[str] | None = None,
    weight: str | None = None,
    level: float = 0.95,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Customer satisfaction (CSAT): the top-box share of a satisfaction item, in % (0–100).

    Parameters
    ----------
    data : DataFrame
        One row per response.
    score : str, optional
        Column with the item's codes (higher = more satisfied) or, with a codebook scale, its
        labels. Missing values are dropped; anything else outside the scale raises
        ``ValueError``. Default: the codebook's CSAT item (``codebook.csat_item``).
    scale : cxlab.config.Scale or int, optional
        The item's scale: a codebook :class:`~cxlab.config.Scale` or an int *k*, the number of
        points of a scale coded 1..k. Default: the codebook's scale of ``score``, else 5.
    top_box : int, optional
        How many top categories count as satisfied. Default: the Scale's ``top_box``, else 2
        (codes 4 and 5 on a 5-point scale).
    by : str or list of str, optional
        Grouping column(s).
    weight : str, optional
        Column of non-negative survey weights.
    level : float
        Confidence level.
    codebook : cxlab.config.Codebook, optional
        Supplies the defaults of ``score``, ``scale`` and ``top_box`` from its roles and scales.

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
    CSAT often sits, and never of zero width there); ``se`` is :math:`\\sqrt{p(1-p)/(n-1)}`.
    With weights the share is weighted, ``se`` is the linearisation SE and the Wilson interval
    uses the effective size :math:`\\frac{n}{n-1}\\, p(1-p)/se^2` (Korn & Graubard 1998; the
    size before the :math:`n/(n-1)` factor, so unit weights reproduce the unweighted interval).

    Variance convention: the one stated in :func:`cxlab.metrics.nps` for :func:`nps`,
    :func:`csat` and :func:`ces`: ``se`` includes the factor :math:`n/(n-1)` (the SE of the mean
    of the 0/1 top-box indicator with the unbiased sample variance), equal to R's ``svymean``.

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
    score = _role_item(score, codebook, "csat_item", "csat")
    check_columns(data, [score, *as_list(by), *([weight] if weight else [])])
    spec = resolve_scale(_scale_for(scale, codebook, score, 5), top_box=top_box)
    by_cols = as_list(by)
    values, keep, w = _prepare(data, score, weight, spec)
    top = np.isin(values, np.asarray(spec.top, dtype=float)).astype(float)
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
    score: str | None = None,
    scale: Scale | int | None = None,
    by: str | Sequence[str] | None = None,
    weight: str | None = None,
    easy_from: int | None = None,
    level: float = 0.95,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Customer effort score (CES): mean of an ease item and the share answering "easy" (%).

    Parameters
    ----------
    data : DataFrame
        One row per response.
    score : str, optional
        Column with the codes (or, with a codebook scale, labels); higher = easier (codebook
        scale ``ces7``: 7 非常容易 … 1 非常困难). Default: ``codebook.ces_item``.
    scale : cxlab.config.Scale or int, optional
        A codebook :class:`~cxlab.config.Scale` or an int *k* (codes 1..k). Default: the
        codebook's scale of ``score``, else 7.
    by : str or list of str, optional
        Grouping column(s).
    weight : str, optional
        Column of non-negative survey weights.
    easy_from : int, optional
        Lowest code counted as easy; default the lowest of the Scale's top-box codes when it
        sets ``top_box``, else the top three boxes (5-7 on 1-7: 比较容易, 容易, 非常容易).
    level : float
        Confidence level of the interval of the mean.
    codebook : cxlab.config.Codebook, optional
        Supplies the defaults of ``score`` and ``scale``.

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

    Variance convention: the one stated in :func:`cxlab.metrics.nps` for :func:`nps`,
    :func:`csat` and :func:`ces`: ``se`` includes the factor :math:`n/(n-1)` (the unbiased
    sample variance), equal to R's ``svymean``.

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
    score = _role_item(score, codebook, "ces_item", "CES")
    check_columns(data, [score, *as_list(by), *([weight] if weight else [])])
    scale = _scale_for(scale, codebook, score, 7)
    spec = resolve_scale(scale, top_box=1)
    if easy_from is None:
        easy_from = _ces_easy_from(scale, spec)
    if not (isinstance(easy_from, int) and spec.lo <= easy_from <= spec.hi):
        raise ValueError(f"easy_from={easy_from!r} must be an integer in "
                         f"{spec.lo:g}..{spec.hi:g}")
    by_cols = as_list(by)
    values, keep, w_full = _prepare(data, score, weight, spec)
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


def _ces_easy_from(scale, spec: ScaleSpec) -> int | float:
    """``scale - 2`` for an int scale (the top three boxes); for a Scale the lowest of its
    ``top_box`` codes when it sets one, else the third-highest code."""
    if isinstance(scale, (int, np.integer)):
        return int(scale) - 2
    k = scale.top_box or 3
    desc = sorted(spec.codes, reverse=True)
    return desc[min(k, len(desc)) - 1]


def item_summary(
    data: pd.DataFrame,
    *,
    items: Sequence[str] | None = None,
    scale: Scale | int | None = None,
    labels: Mapping[str, str] | None = None,
    by: str | Sequence[str] | None = None,
    top_box: int | None = None,
    codebook: Codebook | None = None,
) -> pd.DataFrame:
    """Distribution, mean and top-/bottom-box shares (%) of rating items, overall or by group.

    Parameters
    ----------
    data : DataFrame
        One row per response.
    items : list of str, optional
        Item columns holding the scale's codes or its labels (e.g. 好/良好/一般/较差/差).
        Missing answers are dropped per item. Default: ``codebook.attribute_items``.
    scale : cxlab.config.Scale or int, optional
        The scale of every item: a codebook :class:`~cxlab.config.Scale` or an int *k* (codes
        1..k; with ``k = 5`` the verbal labels of :data:`VERBAL5` are accepted too).
        Default: each item's scale in ``codebook``, else 5.
    labels : mapping, optional
        Item id → display label; default the codebook's labels, else the item id.
    by : str or list of str, optional
        Grouping column(s): one row per group and item, group keys as the first columns
        (groups in sorted order, items in the order given within each group).
    top_box : int, optional
        Number of top codes counted by ``top_box``; default each Scale's ``top_box``, else 2.
    codebook : cxlab.config.Codebook, optional
        Supplies ``items``, ``labels`` and each item's scale.

    Returns
    -------
    DataFrame
        One row per item (per group with ``by``): ``[by…]``, ``item``, ``label``, ``n``,
        ``pct_<code>`` for every code of the items' scales from the highest down to the lowest
        (% of the item's valid answers, 0–100; NaN for a code outside that item's scale),
        ``mean`` (mean code), ``top2`` (% in the two highest codes), ``bottom2`` (% in the two
        lowest codes), ``top_box`` (% in the scale's top-box codes, equal to ``top2`` for the
        default ``top_box`` of 2) and ``base_flag``. Every share is a percentage (0–100).

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
    >>> df["branch"] = ["SH01", "SH01", "BJ01", "BJ01", "BJ01", "BJ01"]
    >>> item_summary(df, items=["look_logo"], by="branch")[["branch", "item", "n", "mean", "top2"]]
      branch       item  n  mean  top2
    0   BJ01  look_logo  4  2.50  25.0
    1   SH01  look_logo  2  5.00 100.0
    """
    if items is None:
        if codebook is None:
            raise ValueError("items= is required (or give codebook= to use its attribute items)")
        items = codebook.attribute_items
    if isinstance(items, str):
        raise TypeError(f"items must be a list of column names, not the string {items!r}")
    items = list(items)
    by_cols = as_list(by)
    check_columns(data, [*items, *by_cols])
    labels = dict(labels) if labels is not None else (codebook.labels() if codebook else {})
    specs = {item: _item_spec(_scale_for(scale, codebook, item, 5), top_box, item)
             for item in items}
    all_codes = sorted({c for sp in specs.values() for c in sp.codes}, reverse=True)
    codes = {item: to_codes(data[item], specs[item], column=item) for item in items}
    rows = []
    for key, pos in group_positions(data, by_cols):
        for item in items:
            sp = specs[item]
            x = codes[item][pos]
            x = x[~np.isnan(x)]
            n = x.size
            row = key | {"item": item, "label": labels.get(item, item), "n": n}
            for code in all_codes:
                row[f"pct_{code}"] = (100 * float(np.mean(x == code))
                                      if n and code in sp.codes else np.nan)
            row["mean"] = float(np.mean(x)) if n else np.nan
            row["top2"] = 100 * float(np.mean(np.isin(x, sp.codes[-2:]))) if n else np.nan
            row["bottom2"] = 100 * float(np.mean(np.isin(x, sp.codes[:2]))) if n else np.nan
            row["top_box"] = 100 * float(np.mean(np.isin(x, sp.top))) if n else np.nan
            row["base_flag"] = base_flag(n)
            rows.append(row)
    return pd.DataFrame(rows)


def _item_spec(scale, top_box: int | None, item: str) -> ScaleSpec:
    spec = resolve_scale(scale, top_box=top_box, name=f"scale of {item!r}")
    if isinstance(scale, (int, np.integer)) and scale == 5:   # the verbal 5-point scale
        spec = ScaleSpec(codes=spec.codes, top=spec.top,
                         labels={v: k for k, v in VERBAL5.items()}, names=dict(VERBAL5))
    return spec
