"""Targets with sampling error: is a unit *significantly* short of its target?

A branch whose NPS is 38 against a target of 40 on 45 answers is below target, but its
95 % interval (about 20 to 55) holds the target: the shortfall is within sampling error. Reports,
the index's 需整改 flag and the ``below_target`` alert use :func:`target_status` to tell the two
apart, with the interval of :func:`kpi_interval` (adjusted Wald for NPS, Wilson for shares: never
of zero width at p̂ = 0 or 1). Units whose counts carry weighted sums (a weighted warehouse's
aggregates) are judged on their weighted estimate and its interval (:func:`sums_kpi`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["DESIGN_TEST_CN", "MET", "NO_ESTIMATE", "SIG_MISS", "WITHIN_ERROR", "design_z_pvalue",
           "design_z_test", "has_sums", "kpi_interval", "sums_kpi", "target_status",
           "target_statuses"]

#: Weighted sums per unit (the aggregates' columns, :mod:`cxlab.report._aggregates`): per NPS
#: class and for the CSAT item, the sums of weights and of squared weights.
_SUMS = {"nps": ("w_promoters", "w_passives", "w_detractors", "w2_promoters", "w2_passives",
                 "w2_detractors"),
         "csat": ("w_csat_n", "w2_csat_n", "w_csat_top2", "w2_csat_top2")}
#: The name of the weighted change test in the reports' footnotes.
DESIGN_TEST_CN = "按设计的加权 z 检验(线性化标准误,两期独立)"

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


def has_sums(frame, metric: str) -> bool:
    """True when ``frame`` (a DataFrame or its columns) carries the weighted sums of ``metric``
    (``nps`` or ``csat``), so its estimates are weighted."""
    cols = frame.columns if hasattr(frame, "columns") else frame
    return set(_SUMS[metric]) <= set(cols)


def sums_kpi(metric: str, row, *, level: float = 0.95) -> dict:
    """The weighted NPS or CSAT of one unit from its row of weighted sums (a Series, dict or
    namedtuple with the aggregates' columns): ``value, se, low, high, w_sum, n_eff`` (points /
    %), by :func:`cxlab.metrics.nps_from_sums` (adjusted-Wald interval on the effective n) or
    :func:`cxlab.metrics.share_from_sums` (Wilson); ``se`` is the linearisation SE with the
    n/(n−1) factor (R's ``svymean``)."""
    from cxlab.metrics import nps_from_sums, share_from_sums

    def get(c):
        v = row[c] if isinstance(row, dict | pd.Series) else getattr(row, c)
        return 0.0 if v is None or pd.isna(v) else float(v)

    if metric == "nps":
        names = ("promoters", "passives", "detractors")
        r = nps_from_sums([get(f"w_{c}") for c in names], [get(f"w2_{c}") for c in names],
                          [get(c) for c in names], level=level)
        return {"value": r["nps"], "se": r["se"], "low": r["ci_low"], "high": r["ci_high"],
                "w_sum": r["w_sum"], "n_eff": r["n_eff"]}
    r = share_from_sums(get("w_csat_top2"), get("w_csat_n"), w2_top=get("w2_csat_top2"),
                        w2_all=get("w2_csat_n"), k=get("csat_top2"), n=get("csat_n"),
                        level=level)
    return {"value": r["share"], "se": r["se"], "low": r["ci_low"], "high": r["ci_high"],
            "w_sum": r["w_sum"], "n_eff": r["n_eff"]}


def design_z_test(value: float, se: float, other: float, other_se: float, *,
                  level: float = 0.95):
    """Design-based two-sided Wald z-test of two independent weighted estimates with their
    linearisation SEs: z = (value − other) / sqrt(se² + other_se²) (two periods' independent
    samples, or a unit against the rest of the company). A :class:`cxlab.metrics.TestResult`."""
    from scipy import stats

    from cxlab.metrics import TestResult

    diff = float(value) - float(other)
    se_d = float(np.hypot(float(se), float(other_se)))
    z = diff / se_d if se_d > 0 else 0.0
    q = float(stats.norm.ppf(1 - (1 - level) / 2))
    return TestResult(diff=diff, se=se_d, statistic=z, pvalue=float(2 * stats.norm.sf(abs(z))),
                      ci_low=diff - q * se_d, ci_high=diff + q * se_d, level=level,
                      method="z-test of two weighted estimates, linearised SEs")


def design_z_pvalue(value: float, se: float, other: float, other_se: float) -> float:
    """The p-value of :func:`design_z_test`; NaN when an input is missing."""
    if any(x is None or pd.isna(x) for x in (value, se, other, other_se)):
        return math.nan
    return design_z_test(value, se, other, other_se).pvalue


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
                    level: float = 0.95, weighted: bool | None = None) -> pd.DataFrame:
    """NPS and CSAT with intervals and target status for every row of aggregated counts.

    Parameters
    ----------
    counts : DataFrame
        One row per unit (e.g. ``period, branch``) with ``n, promoters, passives, detractors``
        and/or ``csat_n, csat_top2`` (the company aggregates table, ``branch_kpis.parquet``).
    targets : cxlab.config.Targets or None
        The ``nps`` and ``csat`` targets; a KPI without a target gets status NaN.
    min_base : units under this base get no estimate (样本不足), as in the reports.
    weighted : use the weighted sums of ``counts`` (``w_promoters, w2_promoters, …``,
        ``w_csat_n, w2_csat_n, w_csat_top2, w2_csat_top2``: the aggregates of a weighted
        warehouse) for the estimates and intervals (:func:`sums_kpi`); default: when present.
        The base (``min_base``) stays the unweighted n.

    Returns
    -------
    DataFrame
        ``counts`` plus, per metric present, ``<m>``, ``<m>_low``, ``<m>_high``, ``<m>_status``
        and ``significantly_below`` (any metric 显著低于目标). This is what the index's and the
        league table's 需整改 flag use. Weighted, also ``<m>_se`` (linearisation SE),
        ``<m>_w_sum`` (weighted base) and ``<m>_n_eff`` (Kish's effective n), and
        ``weighted`` True.
    """
    out = counts.reset_index(drop=True)
    sig = pd.Series(False, index=out.index)
    for metric, need, base in (("nps", "promoters", "n"), ("csat", "csat_n", "csat_n")):
        if need not in out.columns:
            continue
        nn = out[base].astype(float)
        arr = np.full((len(out), 3), np.nan)
        ok = np.flatnonzero((nn >= min_base).to_numpy())
        use_sums = has_sums(out, metric) if weighted is None else (weighted and has_sums(out, metric))
        if use_sums:
            extra = np.full((len(out), 3), np.nan)
            for i in ok:
                r = sums_kpi(metric, out.iloc[i], level=level)
                extra[i] = (r["se"], r["w_sum"], r["n_eff"])
                arr[i] = (r["value"], r["low"], r["high"])
            out[f"{metric}_se"], out[f"{metric}_w_sum"], out[f"{metric}_n_eff"] = extra.T
        elif metric == "nps" and ok.size:
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
    out["weighted"] = any(has_sums(out, m) for m in _SUMS) if weighted is None else \
        bool(weighted and any(has_sums(out, m) for m in _SUMS))
    return out
