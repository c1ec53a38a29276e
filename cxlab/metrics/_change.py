"""Period-over-period change (环比) of NPS, CSAT or CES with significance tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxlab.metrics._common import as_list, check_choice, check_columns, check_level
from cxlab.metrics._nps import nps, nps_test
from cxlab.metrics._scales import ces, csat
from cxlab.metrics._tests import two_proportion_test, welch_test

if TYPE_CHECKING:
    from cxlab.config import Codebook

__all__ = ["change"]

_DEFAULT_SCORE = {"nps": "ltr", "csat": "csat", "ces": "ces"}
_VALUE = {"nps": "nps", "csat": "csat", "ces": "mean"}


def _periods(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype) and series.cat.ordered:
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    return sorted(series.dropna().unique())


def change(
    data: pd.DataFrame,
    *,
    metric: str,
    period_col: str = "period",
    by: str | Sequence[str] | None = None,
    score: str | None = None,
    level: float = 0.95,
    codebook: Codebook | None = None,
    paired_on: str | None = None,
) -> pd.DataFrame:
    """Change of a metric from each period to the next (环比), with a two-sided test per step.

    Parameters
    ----------
    data : DataFrame
        One row per response, with a period column.
    metric : {"nps", "csat", "ces"}
        The metric to compare.
    period_col : str
        Period column; periods are ordered by sorting (``2025Q4`` < ``2026Q1``) or by the
        categories of an ordered categorical.
    by : str or list of str, optional
        Grouping column(s), e.g. ``"branch"``; each group is compared with its own previous period.
    score : str, optional
        Score column; default the codebook's item of the metric's role (``nps_item``,
        ``csat_item``, ``ces_item``), else ``ltr`` for NPS, ``csat`` for CSAT, ``ces`` for CES.
    level : float
        Confidence level of the interval of the change.
    codebook : cxlab.config.Codebook, optional
        Supplies the default ``score`` and, for CSAT and CES, the item's scale.
    paired_on : str, optional
        Customer id column (e.g. ``"customer_id"``, pseudonymised and stable across periods).
        A step where at least one customer answered in both periods is tested with the
        overlap-adjusted test of :func:`cxlab.metrics.overlap_test` (customers as clusters);
        a step without any such customer keeps the independent test below.

    Returns
    -------
    DataFrame
        One row per group and period: ``[by...]``, ``period``, ``previous_period`` (missing for
        the first period of a group), ``n``, ``previous_n``, ``value``, ``previous_value``,
        ``change`` (value − previous value), ``se``, ``ci_low``, ``ci_high`` (of the change),
        ``pvalue``, ``significant`` (``pvalue < 1 - level``), ``method`` (the test, as named by
        its :class:`TestResult`) and ``base_flag`` of the period. ``value`` is the NPS in
        points, the CSAT in % or the CES mean; ``change`` is always the observed difference,
        the same number :func:`nps_test` reports as ``diff`` for the two periods.

    Notes
    -----
    Tests: NPS with :func:`nps_test` (adjusted Wald, Rocks 2016: its z and interval use the
    adjusted proportions, its ``diff`` is the observed change); CSAT with
    :func:`two_proportion_test` on the top-2-box counts (pooled z, no continuity correction;
    ``change``, ``se`` and interval in percentage points); CES with Welch's t-test on the means.
    These treat the two periods as independent samples (different respondents). With
    ``paired_on`` and customers who answered in both periods, the step is instead the
    design-based difference of the two period means (the −1/0/+1 NPS category, the 0/1 top-box
    indicator or the CES score) with customers as clusters, whose variance subtracts twice the
    covariance of the repeat customers' answers (:func:`cxlab.metrics.overlap_test`, equal to R
    ``survey``'s ``svycontrast`` of ``svyby`` means on ``svydesign(ids = ~customer_id)``); a
    customer answering twice within a period is one cluster, not two independent answers.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"period": ["2026Q1"] * 100 + ["2026Q2"] * 100,
    ...                    "ltr": [10] * 50 + [8] * 30 + [3] * 20 + [10] * 30 + [8] * 30 + [3] * 40})
    >>> res = change(df, metric="nps")
    >>> res[["period", "previous_period", "value", "change"]]
       period previous_period  value  change
    0  2026Q1             NaN   30.0     NaN
    1  2026Q2          2026Q1  -10.0   -40.0
    >>> bool(res["significant"].iloc[1])
    True
    """
    check_choice("metric", metric, tuple(_DEFAULT_SCORE))
    check_level(level)
    if score is None and codebook is not None:
        score = getattr(codebook, f"{metric}_item")
        if score is None:
            raise ValueError(f"score= is required: the codebook has no {metric} item "
                             f"(roles.{metric})")
    score = score or _DEFAULT_SCORE[metric]
    by_cols = as_list(by)
    check_columns(data, [score, period_col, *by_cols, *([paired_on] if paired_on else [])])
    ys = _row_values(data, metric, score, codebook) if paired_on else None
    periods = _periods(data[period_col])
    if metric == "nps":
        table = nps(data, score=score, by=[*by_cols, period_col], ci="adjusted_wald", level=level)
    elif metric == "csat":
        table = csat(data, score=score, by=[*by_cols, period_col], level=level,
                     codebook=codebook)
    else:
        table = ces(data, score=score, by=[*by_cols, period_col], level=level,
                    codebook=codebook)
    value_col = _VALUE[metric]
    order = {p: i for i, p in enumerate(periods)}
    records = []
    key_groups = table.groupby(by_cols, sort=True, dropna=False) if by_cols else [((), table)]
    for key, grp in key_groups:
        key = key if isinstance(key, tuple) else (key,)
        keyd = dict(zip(by_cols, key, strict=True))
        grp = grp.assign(_o=grp[period_col].map(order)).sort_values("_o")
        prev = None
        for rec in grp.to_dict("records"):
            out = keyd | {
                "period": rec[period_col],
                "previous_period": np.nan,
                "n": rec["n"],
                "previous_n": np.nan,
                "value": rec[value_col],
                "previous_value": np.nan,
                "change": np.nan,
                "se": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "pvalue": np.nan,
                "significant": False,
                "method": None,
                "base_flag": rec["base_flag"],
            }
            if prev is not None and rec["n"] > 0 and prev["n"] > 0:
                res = None
                if paired_on is not None:
                    res = _paired(data, ys, paired_on, metric, by_cols, keyd, period_col, prev,
                                  rec, level)
                if res is None:
                    res = _test(metric, data, score, by_cols, keyd, period_col, prev, rec, level)
                out |= {
                    "previous_period": prev[period_col],
                    "previous_n": prev["n"],
                    "previous_value": prev[value_col],
                    "change": rec[value_col] - prev[value_col],
                    "se": res.se,
                    "ci_low": res.ci_low,
                    "ci_high": res.ci_high,
                    "pvalue": res.pvalue,
                    "significant": bool(res.pvalue < 1 - level),
                    "method": res.method,
                }
            elif prev is not None:
                out |= {"previous_period": prev[period_col], "previous_n": prev["n"], "previous_value": prev[value_col]}
            prev = rec
            records.append(out)
    return pd.DataFrame(records)


def _mask(data, keyd, period_col, period) -> np.ndarray:
    mask = data[period_col] == period
    for k, v in keyd.items():
        mask &= data[k].isna() if pd.isna(v) else data[k] == v
    return mask.to_numpy(dtype=bool)


def _subset(data, by_cols, keyd, period_col, period):
    return data.loc[_mask(data, keyd, period_col, period)]


def _row_values(data, metric, score, codebook) -> np.ndarray:
    """Per-row value whose mean is the metric: −1/0/+1 NPS category, 0/1 top box or score."""
    from cxlab.metrics._codebook import resolve_scale, to_codes
    from cxlab.metrics._common import numeric_scores
    from cxlab.metrics._nps import _categorise
    from cxlab.metrics._scales import _scale_for

    if metric == "nps":
        arr = numeric_scores(data[score], column=score, low=0, high=10)
        return np.where(np.isnan(arr), np.nan, _categorise(np.nan_to_num(arr)))
    if metric == "csat":
        spec = resolve_scale(_scale_for(None, codebook, score, 5))
        v = to_codes(data[score], spec, column=score)
        return np.where(np.isnan(v), np.nan, np.isin(v, np.asarray(spec.top, dtype=float)))
    spec = resolve_scale(_scale_for(None, codebook, score, 7), top_box=1)
    return to_codes(data[score], spec, column=score)


def _paired(data, ys, id_col, metric, by_cols, keyd, period_col, prev, cur, level):
    from cxlab.metrics._overlap import overlap_count, overlap_test

    frame = pd.DataFrame({"_y": ys, "_id": data[id_col].to_numpy()})
    a = frame[_mask(data, keyd, period_col, cur[period_col])]
    b = frame[_mask(data, keyd, period_col, prev[period_col])]
    if overlap_count(a, b, id="_id") == 0:
        return None
    return overlap_test(a, b, column="_y", id="_id", level=level,
                        scale=1.0 if metric == "ces" else 100.0)


def _test(metric, data, score, by_cols, keyd, period_col, prev, cur, level):
    if metric == "nps":
        a = _subset(data, by_cols, keyd, period_col, cur[period_col])
        b = _subset(data, by_cols, keyd, period_col, prev[period_col])
        return nps_test(a, b, score=score, level=level)
    if metric == "csat":
        k1, n1 = cur["csat"] / 100 * cur["n"], cur["n"]
        k2, n2 = prev["csat"] / 100 * prev["n"], prev["n"]
        res = two_proportion_test(round(k1), n1, round(k2), n2, level=level)
        return type(res)(
            diff=100 * res.diff,
            se=100 * res.se,
            statistic=res.statistic,
            pvalue=res.pvalue,
            ci_low=100 * res.ci_low,
            ci_high=100 * res.ci_high,
            level=level,
            method=res.method,
        )
    return welch_test(cur["mean"], cur["se"], cur["n"], prev["mean"], prev["se"], prev["n"], level=level)
