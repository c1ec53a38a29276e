"""Branch flags with sampling error and multiplicity control, from the company aggregates.

:func:`branch_status` is the one place that decides which branches 需整改 (need action): a branch
is flagged when its NPS or CSAT is *significantly* below target (the 95 % interval lies below
the target) or its NPS fell significantly against the previous period, with the p-values of the
period's branches adjusted for multiple comparisons (Benjamini–Hochberg by default, Holm when
``params/alerts.yaml`` says ``multiple_comparisons: holm``). The league table, the executive
summary and the index page (``_site.py``) call it, so they agree.

With a weighted warehouse (the aggregates carry per-class sums of weights and squared weights,
:func:`is_weighted`) every figure here is the weighted, design-based one: the estimates and
intervals from the sums (:func:`cxlab.metrics.nps_from_sums`, :func:`cxlab.metrics.
share_from_sums`), regions and the company from the summed sums (exact for the
linearisation), the change test z = Δ / sqrt(se₁² + se₀²) with linearisation SEs, and the
weighted overlap-adjusted test where customers answered in both periods.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.metrics import MIN_BASE

__all__ = ["ALPHA", "METHOD_CN", "branch_status", "comparison_method", "method_note"]

#: Significance level of the report's change tests.
ALPHA = 0.05
METHOD_CN = {
    "fdr_bh": "Benjamini–Hochberg 法(BH)校正,控制错误发现率",
    "holm": "Holm 法校正,控制族错误率",
    "none": "未做多重比较校正",
}


def comparison_method(params_dir: str | Path) -> str:
    """``multiple_comparisons`` of ``params/alerts.yaml`` (``fdr_bh`` when the file or the key
    is absent)."""
    path = Path(params_dir) / "alerts.yaml"
    if not path.is_file():
        return "fdr_bh"
    from cxlab.config import load_params
    from cxlab.ops import AlertRules

    return load_params(path, AlertRules).multiple_comparisons


def method_note(method: str) -> str:
    """The footnote phrase naming the adjustment: ``p 值经 Benjamini–Hochberg 法……``."""
    if method == "none":
        return "p 值未做多重比较校正"
    return f"同期各机构的 p 值经{METHOD_CN[method]}"


def _nps_p(cur, prev) -> float:
    from cxlab.ops._common import nps_pvalue

    return nps_pvalue((int(cur["promoters"]), int(cur["passives"]), int(cur["detractors"])),
                      (int(prev["promoters"]), int(prev["passives"]), int(prev["detractors"])))


def _paired_p(cur: pd.DataFrame, branch, previous: str) -> float | None:
    """The aggregates' overlap-adjusted NPS change p-value of ``branch`` against ``previous``
    (customers who answered in both periods), or None when there is none."""
    if not {"nps_change_pvalue", "change_from"} <= set(cur.columns):
        return None
    hit = cur[(cur["branch"] == branch) & (cur["change_from"].astype(str) == str(previous))]
    if hit.empty or pd.isna(hit["nps_change_pvalue"].iloc[0]):
        return None
    return float(hit["nps_change_pvalue"].iloc[0])


def _nps_change_p(r, p, *, weighted: bool) -> float:
    """The independent two-sided test of a unit's NPS change: the design-based z-test of the
    weighted NPS (linearisation SEs) when weighted, else :func:`cxlab.metrics.nps_test` on the
    counts."""
    if weighted:
        from cxlab.ops._status import design_z_pvalue, sums_kpi

        prev = sums_kpi("nps", p)
        return design_z_pvalue(r["nps"], r["nps_se"], prev["value"], prev["se"])
    return _nps_p(r, p)


def is_weighted(aggregates: pd.DataFrame) -> bool:
    """True when the aggregates carry the weighted NPS sums (a weighted warehouse): the league
    table, the index's flags and the KPI alerts are then weighted."""
    from cxlab.ops._status import has_sums

    return has_sums(aggregates, "nps")


def branch_status(aggregates: pd.DataFrame, targets, *, period: str, previous: str | None = None,
                  method: str = "fdr_bh", alpha: float = ALPHA,
                  min_base: int = MIN_BASE) -> pd.DataFrame:
    """NPS/CSAT, intervals, target status and the period-over-period NPS test per branch.

    Parameters
    ----------
    aggregates : the company aggregates (``period, branch, n, promoters, passives, detractors``
        and optionally ``csat_n, csat_top2``).
    targets : cxlab.config.Targets or None.
    period, previous : the report's period and the one it is compared with (None: no test).
    method : ``fdr_bh``, ``holm`` or ``none``: adjustment of the change tests over the branches
        tested in the period.
    alpha : significance level of the adjusted change tests.
    min_base : a branch under this base (either period) gets no estimate and no test.

    Returns
    -------
    DataFrame
        One row per branch of ``period``: ``branch, n, nps, nps_low, nps_high, nps_status``
        (and the ``csat`` columns when the counts exist; see
        :func:`cxlab.ops.target_statuses`), ``nps_prev, change, pvalue`` (two-sided NPS z-test,
        :func:`cxlab.metrics.nps_test`; where the aggregates carry ``nps_change_pvalue`` for
        customers who answered in both periods, that overlap-adjusted p-value), ``paired``
        (True where it did), ``p_adjusted``, ``significant_drop`` (change < 0 and
        ``p_adjusted < alpha``), ``significantly_below`` (a KPI significantly below target),
        ``needs_action`` (either) and ``flag`` (the status text of the league table).

        When the aggregates carry the weighted sums (:func:`is_weighted`), NPS, CSAT, their
        intervals and target statuses are the weighted estimates (:func:`cxlab.ops.
        target_statuses`, with ``nps_se``, ``nps_w_sum``, ``nps_n_eff``), ``nps_prev`` is
        weighted and the independent change test is the design-based z-test
        z = Δ / sqrt(se₁² + se₀²) with linearisation SEs (:func:`cxlab.ops._status.
        design_z_pvalue`); the overlap-adjusted p-values of repeat customers stay unweighted.
    """
    from cxlab.metrics import adjust_pvalues
    from cxlab.ops import target_statuses
    from cxlab.ops._status import NO_ESTIMATE, SIG_MISS, WITHIN_ERROR

    cur = aggregates[aggregates["period"].astype(str) == period].reset_index(drop=True)
    res = target_statuses(cur, targets=targets, min_base=min_base)
    weighted = is_weighted(aggregates)
    res["nps_prev"], res["pvalue"], res["paired"] = np.nan, np.nan, False
    if previous is not None and "promoters" in cur.columns:
        prev = aggregates[aggregates["period"].astype(str) == previous].set_index("branch")
        for i, r in res.iterrows():
            if r["branch"] in prev.index:
                p = prev.loc[r["branch"]]
                if int(p["n"]) >= min_base:
                    if weighted:
                        from cxlab.ops._status import sums_kpi

                        res.loc[i, "nps_prev"] = sums_kpi("nps", p)["value"]
                    else:
                        res.loc[i, "nps_prev"] = 100 * (p["promoters"] - p["detractors"]) / p["n"]
                    if r["n"] >= min_base:
                        res.loc[i, "pvalue"] = _nps_change_p(r, p, weighted=weighted)
                        paired = _paired_p(cur, r["branch"], previous)
                        if paired is not None:
                            res.loc[i, "pvalue"] = paired
                            res.loc[i, "paired"] = True
    res["change"] = res["nps"] - res["nps_prev"] if "nps" in res.columns else np.nan
    res["p_adjusted"] = (res["pvalue"] if method == "none"
                         else adjust_pvalues(res["pvalue"].astype(float), method=method))
    res["significant_drop"] = (res["change"] < 0) & (res["p_adjusted"] < alpha)
    res["needs_action"] = res["significant_drop"] | res["significantly_below"]
    statuses = [c for c in ("nps_status", "csat_status") if c in res.columns
                and res[c].notna().any()]

    def flag(r) -> str:
        if r["n"] < min_base:
            return NO_ESTIMATE
        if r["significant_drop"]:
            return "显著下滑 · 需整改"
        st = [r[c] for c in statuses]
        if SIG_MISS in st or "显著高于目标" in st:
            return "显著低于目标 · 需整改"
        if any(s not in (None, "达标") and not pd.isna(s) for s in st):
            return WITHIN_ERROR
        return "达标" if statuses else "—"

    res["flag"] = [flag(r) for _, r in res.iterrows()]
    return res


def _pooled_status(cur: pd.DataFrame, targets, *, min_base: int) -> str:
    """Status of a group of branches (the company, a region) on their summed counts, against
    the targets only (its sampling error included)."""
    from cxlab.ops import target_statuses
    from cxlab.ops._status import _SUMS

    # counts and weighted sums add up over branches: the pooled estimate is exact
    cols = [c for c in ("n", "promoters", "passives", "detractors", "csat_n", "csat_top2",
                        *_SUMS["nps"], *_SUMS["csat"]) if c in cur.columns]
    comp = target_statuses(cur[cols].sum().to_frame().T, targets=targets,
                           min_base=min_base).iloc[0]
    statuses = [comp[c] for c in ("nps_status", "csat_status") if c in comp.index
                and isinstance(comp[c], str)]
    if comp["n"] < min_base:
        return "样本不足"
    if comp["significantly_below"]:
        return "显著低于目标 · 需整改"
    if any(s != "达标" for s in statuses):
        return next(s for s in statuses if s != "达标")
    return "达标" if statuses else "—"


def index_status(aggregates: pd.DataFrame, targets, *, method: str = "fdr_bh",
                 alpha: float = ALPHA, min_base: int = MIN_BASE,
                 groups: dict[str, list[str]] | None = None) -> dict[tuple[str, str], str]:
    """The index page's status per (period, branch), company row ``"ALL"`` included.

    ``需整改`` exactly as the league table (:func:`branch_status`: significantly below target or
    a significant adjusted NPS drop), ``低于目标,在抽样误差内``, ``达标`` or ``样本不足``; the
    company row, and each of ``groups`` (region code → its branch codes), is judged on its
    summed counts against the targets only. Without targets only the drops are judged (``—``
    otherwise).
    """
    periods = sorted(aggregates["period"].astype(str).unique())
    out: dict[tuple[str, str], str] = {}
    for i, period in enumerate(periods):
        st = branch_status(aggregates, targets, period=period,
                           previous=periods[i - 1] if i else None, method=method, alpha=alpha,
                           min_base=min_base)
        for _, r in st.iterrows():
            out[(period, str(r["branch"]))] = r["flag"]
        cur = aggregates[aggregates["period"].astype(str) == period]
        out[(period, "ALL")] = _pooled_status(cur, targets, min_base=min_base)
        for code, branches in (groups or {}).items():
            part = cur[cur["branch"].astype(str).isin(branches)]
            if len(part):
                out[(period, code)] = _pooled_status(part, targets, min_base=min_base)
    return out
