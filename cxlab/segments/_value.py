"""Customer value tiers and RFM segmentation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["RFM_SEGMENTS", "rfm", "value_tiers"]


def _check(data: pd.DataFrame, cols: Sequence[str], name: str = "data") -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in {name}; columns are {list(map(str, data.columns))}")


def _quantile_score(values: pd.Series, n: int) -> pd.Series:
    """Scores 1..n by quantile of the (average) percentile rank; ties get the same score."""
    pct = values.rank(method="average", pct=True)
    return np.ceil(pct * n).clip(1, n).astype("Int64")


def value_tiers(
    customers: pd.DataFrame,
    *,
    score: str = "value_score",
    type: str | None = "customer_type",  # noqa: A002 - the CRM column is called customer_type
    id: str = "customer_id",  # noqa: A002
    labels: Sequence[str] = ("低", "中", "高"),
    cuts: Sequence[float] | None = None,
) -> pd.DataFrame:
    """Value tiers of customers: a score tier (高/中/低) and, with the CRM type, a value segment.

    Parameters
    ----------
    customers : DataFrame
        One row per customer.
    score : str, default "value_score"
        Numeric value score (0–100 in the sample CRM).
    type : str or None, default "customer_type"
        CRM customer type (大客户/普通客户); ``None`` to ignore.
    labels : sequence of str, default ("低", "中", "高")
        Tier labels from low to high; their number sets the number of tiers.
    cuts : sequence of float, optional
        Fixed inner cut points on the score (``len(labels) - 1`` values, a score equal to a cut
        goes to the upper tier). Default: equal-count quantile tiers by percentile rank
        (ties share a tier).

    Returns
    -------
    DataFrame
        ``id, [type], score, value_tier`` (ordered categorical, low → high) and, with ``type``,
        ``value_segment`` = ``"<type>·<tier>"`` (e.g. 大客户·高). Missing scores give a missing
        tier.

    Notes
    -----
    Measuring satisfaction by value segment is rare (fewer than 10 % of firms, seed 002), which
    is why reports break NPS/CSAT down by these tiers (see :func:`segment_scores`).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"customer_id": list("abcdef"), "customer_type": ["大客户"] + ["普通客户"] * 5,
    ...                   "value_score": [95, 10, 20, 50, 60, 80]})
    >>> value_tiers(c)[["customer_id", "value_tier", "value_segment"]].to_dict("list")["value_segment"]
    ['大客户·高', '普通客户·低', '普通客户·低', '普通客户·中', '普通客户·中', '普通客户·高']
    """
    cols = [id, score] + ([type] if type else [])
    _check(customers, cols, "customers")
    values = pd.to_numeric(customers[score], errors="coerce")
    k = len(labels)
    if k < 2:
        raise ValueError(f"labels needs at least two tiers, got {list(labels)}")
    if cuts is None:
        codes = _quantile_score(values, k)
    else:
        cuts = list(cuts)
        if len(cuts) != k - 1 or any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
            raise ValueError(f"cuts must be {k - 1} increasing values for labels {list(labels)}, got {cuts}")
        codes = pd.Series(np.searchsorted(cuts, values.to_numpy(), side="right") + 1,
                          index=values.index).astype("Int64").where(values.notna())
    cat = pd.CategoricalDtype(list(labels), ordered=True)
    tier = pd.Series([labels[int(c) - 1] if pd.notna(c) else None for c in codes],
                     index=customers.index, dtype=cat)
    out = customers[cols].copy()
    out["value_tier"] = tier
    if type:
        seg = customers[type].astype("string") + "·" + tier.astype("string")
        out["value_segment"] = seg.astype(object).where(seg.notna(), None)
    return out.reset_index(drop=True)


#: The eight RFM segments: (R high, F high, M high) → name. "High" R = recent purchase.
RFM_SEGMENTS = {
    (True, True, True): "重要价值客户",
    (True, False, True): "重要发展客户",
    (False, True, True): "重要保持客户",
    (False, False, True): "重要挽留客户",
    (True, True, False): "一般价值客户",
    (True, False, False): "一般发展客户",
    (False, True, False): "一般保持客户",
    (False, False, False): "一般挽留客户",
}


def rfm(
    orders: pd.DataFrame,
    *,
    customer: str = "customer_id",
    date: str = "order_date",
    amount: str = "amount",
    asof: str | pd.Timestamp | None = None,
    split: str = "mean",
) -> pd.DataFrame:
    """RFM scores (1–5 by quintiles) and the eight named RFM segments.

    Parameters
    ----------
    orders : DataFrame
        One row per order.
    asof : date-like, optional
        Reference date for recency; default the day after the last order. Orders after it are
        ignored.
    split : {"mean", "median"}, default "mean"
        How R, F and M are split into 高/低 for the segment: compared with the mean (common
        practice) or the median of the customers' scores.

    Returns
    -------
    DataFrame
        One row per customer (sorted by id): ``customer, recency_days, frequency, monetary,
        r_score, f_score, m_score`` (1–5; 5 = most recent / most frequent / highest spend),
        ``rfm_code`` (e.g. ``"545"``), ``r_high, f_high, m_high`` (score above the mean) and
        ``segment``.

    Notes
    -----
    Recency = days from the last order to ``asof``; frequency = number of orders; monetary =
    sum of amounts. Scores are quintiles of the percentile rank (``ceil(5·rank/n)``, ties share
    a score), recency reversed. The segment crosses R, F and M high/low (Hughes 1994; the
    eight-segment naming of Chinese CRM practice):

    ======  ======  ======  ============
    R       F       M       segment
    ======  ======  ======  ============
    高      高      高      重要价值客户
    高      低      高      重要发展客户
    低      高      高      重要保持客户
    低      低      高      重要挽留客户
    高      高      低      一般价值客户
    高      低      低      一般发展客户
    低      高      低      一般保持客户
    低      低      低      一般挽留客户
    ======  ======  ======  ============

    References
    ----------
    Hughes, A. M. (1994). *Strategic Database Marketing*. Probus. (RFM scoring by quintiles.)

    Examples
    --------
    >>> import pandas as pd
    >>> o = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "c"],
    ...                   "order_date": ["2026-01-05", "2026-03-01", "2026-06-20", "2025-02-01", "2026-06-01"],
    ...                   "amount": [500.0, 700.0, 900.0, 100.0, 3000.0]})
    >>> rfm(o, asof="2026-07-01")[["customer_id", "recency_days", "frequency", "monetary", "segment"]]
      customer_id  recency_days  frequency  monetary segment
    0           a            11          3    2100.0  重要价值客户
    1           b           515          1     100.0  一般挽留客户
    2           c            30          1    3000.0  重要发展客户
    """
    _check(orders, [customer, date, amount], "orders")
    if split not in ("mean", "median"):
        raise ValueError(f"split must be one of ['mean', 'median'], got {split!r}")
    when = pd.to_datetime(orders[date], errors="coerce")
    amt = pd.to_numeric(orders[amount], errors="coerce")
    bad = when.isna() | amt.isna() | orders[customer].isna()
    if bad.any():
        raise ValueError(
            f"orders has {int(bad.sum())} row(s) with a missing or invalid {customer!r}, {date!r} "
            f"or {amount!r}; clean them first"
        )
    ref = pd.Timestamp(asof) if asof is not None else when.max().normalize() + pd.Timedelta(days=1)
    keep = when <= ref
    frame = pd.DataFrame({"c": orders[customer][keep].to_numpy(), "d": when[keep].to_numpy(),
                          "a": amt[keep].to_numpy()})
    if frame.empty:
        raise ValueError(f"no orders on or before asof={ref.date()}")
    g = frame.groupby("c", sort=True)
    out = pd.DataFrame({
        customer: g.size().index,
        "recency_days": (ref - g["d"].max()).dt.days.to_numpy(),
        "frequency": g.size().to_numpy(),
        "monetary": g["a"].sum().to_numpy(),
    })
    out["r_score"] = _quantile_score(-out["recency_days"], 5)
    out["f_score"] = _quantile_score(out["frequency"], 5)
    out["m_score"] = _quantile_score(out["monetary"], 5)
    out["rfm_code"] = (out["r_score"].astype(str) + out["f_score"].astype(str)
                       + out["m_score"].astype(str))
    for letter in "rfm":
        s = out[f"{letter}_score"].astype(float)
        ref_value = s.mean() if split == "mean" else s.median()
        out[f"{letter}_high"] = s > ref_value
    out["segment"] = [RFM_SEGMENTS[(r, f, m)] for r, f, m in
                      zip(out["r_high"], out["f_high"], out["m_high"], strict=True)]
    return out
