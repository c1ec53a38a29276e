"""Period-over-period tests that account for customers who answered in both periods.

Customer ids are pseudonymised at ingest but stable across periods, so the same customer can be
recognised in two periods. Where at least one customer answered in both, the change of NPS or
CSAT is tested with :func:`cxlab.metrics.overlap_test` (customers as clusters); otherwise with
the independent-samples test the rest of cxlab uses. The reports, the KPI table and the alerts
all call :func:`change_test`, so one change has one p-value everywhere.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab.ops._common import scale_for, to_codes

__all__ = ["CUSTOMER_ID", "OVERLAP_CN", "change_test", "metric_values", "paired_changes",
           "repeat_customers"]

#: The canonical frame's pseudonymised customer id column.
CUSTOMER_ID = "customer_id"
#: The footnote's name of the overlap-adjusted test.
OVERLAP_CN = ("以客户为群(cluster)的设计基础 z 检验:两期都作答的客户,其两期评分的协方差从差值的方差中扣除"
              "(与 R survey 包 svydesign(ids = ~customer_id) 下两期均值之差的 svycontrast 相同)")


def repeat_customers(cur: pd.DataFrame, prev: pd.DataFrame, *, id: str = CUSTOMER_ID) -> int:  # noqa: A002
    """Distinct customers with a response in both frames (0 when either lacks the id column)."""
    if id not in cur.columns or id not in prev.columns:
        return 0
    from cxlab.metrics._overlap import overlap_count

    return overlap_count(cur, prev, id=id)


def metric_values(responses: pd.DataFrame, metric: str, *, score: str, codebook=None,
                  top: float | None = None) -> np.ndarray:
    """Per-response value whose mean is the metric: the −1/0/+1 NPS category, or for ``csat``
    the 0/1 top-box indicator (codes ≥ ``top``, default the scale's top threshold, else 4);
    NaN where unanswered."""
    x = to_codes(responses[score], scale_for(codebook, score)).to_numpy(dtype=float)
    if metric == "nps":
        cat = np.where(x >= 9, 1.0, np.where(x >= 7, 0.0, -1.0))
    else:
        if top is None:
            sc = scale_for(codebook, score)
            top = sc.top_threshold if sc is not None and sc.top_threshold is not None else 4
        cat = (x >= top).astype(float)
    return np.where(np.isnan(x), np.nan, cat)


def change_test(cur: pd.DataFrame, prev: pd.DataFrame, *, metric: str, score: str,
                codebook=None, weight: str | None = None, top: float | None = None,
                level: float = 0.95, id: str = CUSTOMER_ID):  # noqa: A002
    """The overlap-adjusted test of the change of ``metric`` (``nps`` or ``csat``) from ``prev``
    to ``cur``, or None when no customer answered in both (the caller keeps its independent test).

    ``diff``, ``se`` and the interval are in NPS points or percentage points; ``weight`` names
    survey weights of the rows.
    """
    if repeat_customers(cur, prev, id=id) == 0:
        return None
    from cxlab.metrics import overlap_test

    frames = []
    for x in (cur, prev):
        f = pd.DataFrame({"_y": metric_values(x, metric, score=score, codebook=codebook, top=top),
                          "_id": x[id].to_numpy()})
        if weight is not None:
            f["_w"] = x[weight].to_numpy(dtype=float)
        frames.append(f)
    return overlap_test(frames[0], frames[1], column="_y", id="_id",
                        weight="_w" if weight is not None else None, level=level, scale=100.0)


def paired_changes(responses: pd.DataFrame, *, score: str | None, csat: str | None,
                   codebook=None, csat_top: float | None = None, by: str = "branch",
                   id: str = CUSTOMER_ID, weight: str | None = None) -> pd.DataFrame:  # noqa: A002
    """Overlap-adjusted change tests of every ``by`` group from each period to the previous one.

    Parameters
    ----------
    responses : DataFrame
        ``period``, ``by``, ``id`` and the NPS (``score``) and CSAT (``csat``) columns.
    score, csat : str or None
        The NPS and CSAT columns (None: that metric is skipped).
    codebook, csat_top
        As in :func:`metric_values`.
    weight : str or None
        Column of survey weights: the tests are then the weighted (design-based, linearised)
        overlap tests of :func:`cxlab.metrics.overlap_test` with ``weight=``.

    Returns
    -------
    DataFrame
        One row per group and period after the first: ``period``, ``by``, ``change_from`` (the
        previous period, in sorted order), ``repeat_customers`` (customers of the group who
        answered in both), ``nps_change_pvalue`` and ``csat_change_pvalue`` (two-sided
        p-values of :func:`change_test`; NaN without repeat customers, when the metric has no
        answer in either period, or without the column).
    """
    cols = ["period", by, "change_from", "repeat_customers", "nps_change_pvalue",
            "csat_change_pvalue"]
    if id not in responses.columns or not len(responses):
        return pd.DataFrame(columns=cols)
    from cxlab.metrics import overlap_test

    period = responses["period"].astype(str).to_numpy()
    group = responses[by].astype(str).to_numpy()
    ids = responses[id].astype("string")
    ids_arr = ids.to_numpy(dtype=object, na_value=None)
    values = {m: metric_values(responses, m, score=col, codebook=codebook,
                               top=csat_top if m == "csat" else None)
              for m, col in (("nps", score), ("csat", csat))
              if col is not None and col in responses.columns}
    w = responses[weight].to_numpy(dtype=float) if weight is not None else None
    periods = sorted(set(period))
    groups = pd.DataFrame({"p": period, "g": group}).groupby(["p", "g"], sort=True).indices
    rows = []
    for prev_p, cur_p in zip(periods, periods[1:], strict=False):
        for g in sorted({k[1] for k in groups if k[0] == cur_p}):
            a, b = groups.get((cur_p, g)), groups.get((prev_p, g))
            if b is None:
                continue
            ia, ib = ids.iloc[a].dropna(), ids.iloc[b].dropna()
            both = len(set(ia).intersection(ib))
            rec = {"period": cur_p, by: g, "change_from": prev_p, "repeat_customers": both,
                   "nps_change_pvalue": np.nan, "csat_change_pvalue": np.nan}
            for metric, y in values.items():
                if both == 0 or np.isnan(y[a]).all() or np.isnan(y[b]).all():
                    continue
                fa = pd.DataFrame({"_y": y[a], "_id": ids_arr[a]})
                fb = pd.DataFrame({"_y": y[b], "_id": ids_arr[b]})
                if w is not None:
                    fa["_w"], fb["_w"] = w[a], w[b]
                res = overlap_test(fa, fb, column="_y", id="_id", scale=100.0,
                                   weight="_w" if w is not None else None)
                rec[f"{metric}_change_pvalue"] = res.pvalue
            rows.append(rec)
    return pd.DataFrame(rows, columns=cols)
