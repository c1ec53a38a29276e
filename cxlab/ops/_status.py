"""Targets with sampling error: is a unit *significantly* short of its target?

A branch whose NPS is 38 against a target of 40 on 45 answers is below target, but its
95 % interval (about 20 to 55) holds the target: the shortfall is within sampling error. Reports,
the index's 需整改 flag and the ``below_target`` alert use :func:`target_status` to tell the two
apart, with the interval of :func:`kpi_interval` (adjusted Wald for NPS, Wilson for shares: never
of zero width at p̂ = 0 or 1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["MET", "NO_ESTIMATE", "SIG_MISS", "WITHIN_ERROR", "kpi_interval", "target_status",
           "target_statuses"]

MET = "达标"
SIG_MISS = "显著低于目标"
WITHIN_ERROR = "低于目标,在抽样误差内"
NO_ESTIMATE = "样本不足"
#: The same two statuses for a lower-is-better KPI (``op`` ``<=``/``<``).
_SIG_MISS_HI = "显著高于目标"
_WITHIN_ERROR_HI = "高于目标,在抽样误差内"


def kpi_interval(metric: str, *, n: float, k: float | None = None,
                 promoters: float | None = None, passives: float | None = None,
                 detractors: float | None = None, level: float = 0.95) -> tuple[float, float, float]:
    """(estimate, lower, upper) of an NPS (points) or a share (%) from counts.

    Parameters
    ----------
    metric : ``"nps"`` (needs ``promoters, passives, detractors``) or a share such as
        ``"csat"`` (needs ``k`` of ``n``).
    level : two-sided confidence level; the upper bound of ``level = 1 - 2α`` is the one-sided
        (1 − α) upper bound.

    Notes
    -----
    NPS: :func:`cxlab.metrics.nps` with its default adjusted-Wald interval (Rocks 2016), which
    adds pseudo-observations and so has positive width even when every answer is a promoter.
    Shares: :func:`cxlab.metrics.wilson_interval` (Wilson 1927), positive width at 0 and 1.
    """
    from cxlab.metrics import nps, scores_from_counts, wilson_interval

    if not n or pd.isna(n) or n <= 0:
        return (math.nan, math.nan, math.nan)
    if metric == "nps":
        s = scores_from_counts(int(promoters), int(passives), int(detractors))
        r = nps(s, score="ltr", level=level).iloc[0]
        return (float(r["nps"]), float(r["ci_low"]), float(r["ci_high"]))
    p = float(k) / float(n)
    lo, hi = wilson_interval(p, float(n), level=level)
    return (100 * p, 100 * lo, 100 * hi)


def target_status(value: float, ci_low: float, ci_high: float, *, target: float,
                  op: str = ">=") -> str:
    """达标 / 显著低于目标 / 低于目标,在抽样误差内 / 样本不足.

    ``value`` misses the target (``value op target`` is false) *significantly* when the whole
    interval lies on the wrong side of the target: for ``>=``/``>`` the upper bound is below it,
    for ``<=``/``<`` the lower bound above it. With a two-sided 95 % interval this is a
    one-sided test at α = 0.025; pass the bounds of a ``1 − 2α`` interval for a one-sided test
    at α. A missing value (suppressed base) gives 样本不足.

    Examples
    --------
    >>> target_status(38.0, 21.0, 54.0, target=40)
    '低于目标,在抽样误差内'
    >>> target_status(25.0, 12.0, 37.0, target=40)
    '显著低于目标'
    """
    if value is None or pd.isna(value):
        return NO_ESTIMATE
    higher_is_better = op in (">=", ">")
    met = value >= target if op == ">=" else value > target if op == ">" else \
        value <= target if op == "<=" else value < target
    if met:
        return MET
    if higher_is_better:
        return SIG_MISS if not pd.isna(ci_high) and ci_high < target else WITHIN_ERROR
    return _SIG_MISS_HI if not pd.isna(ci_low) and ci_low > target else _WITHIN_ERROR_HI


def _nps_intervals(counts: pd.DataFrame, *, level: float) -> np.ndarray:
    """(nps, low, high) per row of counts: one :func:`cxlab.metrics.nps` call over all rows."""
    from cxlab.metrics import nps, scores_from_counts

    frames = [scores_from_counts(int(r.promoters), int(r.passives), int(r.detractors))
              .assign(_row=i) for i, r in enumerate(counts.itertuples(index=False))]
    res = nps(pd.concat(frames, ignore_index=True), score="ltr", by="_row", level=level)
    res = res.set_index("_row").reindex(range(len(counts)))
    return res[["nps", "ci_low", "ci_high"]].to_numpy(dtype=float)


def target_statuses(counts: pd.DataFrame, *, targets, min_base: int = 30,
                    level: float = 0.95) -> pd.DataFrame:
    """NPS and CSAT with intervals and target status for every row of aggregated counts.

    Parameters
    ----------
    counts : DataFrame
        One row per unit (e.g. ``period, branch``) with ``n, promoters, passives, detractors``
        and/or ``csat_n, csat_top2`` (the company aggregates table, ``branch_kpis.parquet``).
    targets : cxlab.config.Targets or None
        The ``nps`` and ``csat`` targets; a KPI without a target gets status NaN.
    min_base : units under this base get no estimate (样本不足), as in the reports.

    Returns
    -------
    DataFrame
        ``counts`` plus, per metric present, ``<m>``, ``<m>_low``, ``<m>_high``, ``<m>_status``
        and ``significantly_below`` (any metric 显著低于目标). This is what the index's and the
        league table's 需整改 flag use.
    """
    out = counts.reset_index(drop=True)
    sig = pd.Series(False, index=out.index)
    for metric, need, base in (("nps", "promoters", "n"), ("csat", "csat_n", "csat_n")):
        if need not in out.columns:
            continue
        nn = out[base].astype(float)
        arr = np.full((len(out), 3), np.nan)
        ok = np.flatnonzero((nn >= min_base).to_numpy())
        if metric == "nps" and ok.size:
            arr[ok] = _nps_intervals(out.iloc[ok], level=level)
        elif ok.size:
            arr[ok] = [kpi_interval("csat", n=out["csat_n"].iloc[i], k=out["csat_top2"].iloc[i],
                                    level=level) for i in ok]
        out[metric], out[f"{metric}_low"], out[f"{metric}_high"] = arr[:, 0], arr[:, 1], arr[:, 2]
        kpi = None
        if targets is not None:
            try:
                kpi = targets.kpi(metric)
            except KeyError:
                kpi = None
        if kpi is None:
            out[f"{metric}_status"] = np.nan
            continue
        out[f"{metric}_status"] = [target_status(v, lo, hi, target=kpi.target, op=kpi.op)
                                   for v, lo, hi in arr]
        sig |= out[f"{metric}_status"].isin([SIG_MISS, _SIG_MISS_HI])
    out["significantly_below"] = sig
    return out
