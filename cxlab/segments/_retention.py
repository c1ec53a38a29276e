"""Customer retention (CRR) and churn by segment."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cxlab.segments._value import _check

__all__ = ["retention"]


def _by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def retention(
    customers: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    churned: str = "churned",
    churn_date: str = "churn_date",
    first_date: str = "first_order_date",
) -> pd.DataFrame:
    """Customer retention rate (CRR) and churn rate, optionally by segment.

    Parameters
    ----------
    customers : DataFrame
        One row per customer with a churn flag (0/1), the churn date and the date of the first
        order (the CRM table of the sample data).
    by : str or sequence of str, optional
        Segment columns (e.g. ``customer_type``, ``value_tier``, ``branch``).
    start, end : date-like, optional
        The period ``[start, end)``. Without them the CRM's own churn flag is used
        (in the sample CRM: churned within 12 months after the customer's last survey).

    Returns
    -------
    DataFrame
        ``[by…], n_start, n_new, n_end, n_lost, crr, churn_rate`` — S customers active at the
        start, N acquired during the period, E active at the end, customers of S lost during
        the period; ``crr`` and ``churn_rate`` in % (``churn_rate`` = lost / S).

    Notes
    -----
    CRR = (E − N) / S × 100 (customer retention rate as defined in e.g. Farris, Bendle,
    Pfeifer & Reibstein 2010, ch. 5, "retention rate"; the (E − N)/S form is the standard
    arithmetic). A customer is active at time t when first ordered before t and not churned
    before t. Without ``start``/``end`` every customer is in S, N = 0, E = S − churned, so CRR =
    100 − churn rate. With a period, customers acquired and lost inside it lower E, so CRR and
    100 − churn_rate can differ slightly.

    References
    ----------
    Farris, P. W., Bendle, N. T., Pfeifer, P. E. & Reibstein, D. J. (2010). *Marketing Metrics*
    (2nd ed.). Pearson/Wharton School Publishing.

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"customer_type": ["大客户", "大客户", "普通客户", "普通客户"],
    ...                   "churned": [0, 1, 0, 0], "churn_date": ["", "2026-03-01", "", ""],
    ...                   "first_order_date": ["2024-01-01", "2024-05-01", "2025-01-01", "2026-02-01"]})
    >>> retention(c, start="2026-01-01", end="2026-07-01")[["n_start", "n_new", "n_end", "crr"]]
       n_start  n_new  n_end   crr
    0        3      1      3  66.666667
    """
    keys = _by(by)
    _check(customers, [churned, *keys], "customers")
    flag = pd.to_numeric(customers[churned], errors="coerce").fillna(0).astype(bool)
    if (start is None) != (end is None):
        raise ValueError("give both start and end, or neither")
    if start is None:
        s = pd.Series(True, index=customers.index)
        new = pd.Series(False, index=customers.index)
        active_end = ~flag
        lost = flag
    else:
        _check(customers, [churn_date, first_date], "customers")
        t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
        if t1 <= t0:
            raise ValueError(f"end must be after start, got start={t0.date()}, end={t1.date()}")
        first = pd.to_datetime(customers[first_date], errors="coerce")
        cd = pd.to_datetime(customers[churn_date].replace("", None), errors="coerce")
        gone_before = lambda t: flag & cd.notna() & (cd < t)  # noqa: E731
        s = (first < t0) & ~gone_before(t0)
        new = (first >= t0) & (first < t1)
        active_end = (first < t1) & ~gone_before(t1)
        lost = s & gone_before(t1)
    frame = pd.DataFrame({"s": s, "n": new, "e": active_end, "l": lost})
    if keys:
        for k in keys:
            frame[k] = customers[k].to_numpy()
        agg = frame.groupby(keys, dropna=False, sort=True)[["s", "n", "e", "l"]].sum().reset_index()
    else:
        agg = frame[["s", "n", "e", "l"]].sum().to_frame().T
    agg = agg.rename(columns={"s": "n_start", "n": "n_new", "e": "n_end", "l": "n_lost"})
    for c in ("n_start", "n_new", "n_end", "n_lost"):
        agg[c] = agg[c].astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        sv = agg["n_start"].to_numpy(dtype=float)
        agg["crr"] = np.where(sv > 0, 100.0 * (agg["n_end"] - agg["n_new"]) / sv, np.nan)
        agg["churn_rate"] = np.where(sv > 0, 100.0 * agg["n_lost"] / sv, np.nan)
    return agg.reset_index(drop=True)
