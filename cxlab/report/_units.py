"""Headline figures for every level of the organisation (company, regions, branches, deeper),
summed from the branch aggregates: what a region report's league table and trend are made of.

Region figures come from the aggregates table only (counts per period × branch), never from
respondent rows, so a region report needs no data beyond what branch reports already read.
"""

from __future__ import annotations

import pandas as pd

from cxlab.ops._status import _SUMS, design_z_pvalue, has_sums, sums_kpi

__all__ = ["region_league", "unit_kpis"]

_COUNTS = ["n", "promoters", "passives", "detractors", "csat_n", "csat_top2"]


def unit_kpis(aggregates: pd.DataFrame, org, *, min_base: int = 30,
              caution_base: int = 100) -> pd.DataFrame:
    """NPS and CSAT per period for the company and every unit of ``org`` (sums of its branches).

    Parameters
    ----------
    aggregates : DataFrame
        ``period, branch, n, promoters, passives, detractors, csat_n, csat_top2`` per period ×
        branch (``cxlab.report.load_aggregates``).
    org : Org
    min_base, caution_base : int
        n below ``min_base`` is suppressed, below ``caution_base`` flagged (DESIGN: 30 / 100).

    Returns
    -------
    DataFrame
        ``period, unit, name, depth, parent, is_branch, n, promoters, passives, detractors,
        csat_n, csat_top2, nps, csat, suppressed, caution``: one row per period × unit; the
        company has depth 0 and parent ``None``. ``nps`` in points, ``csat`` in % (top-2 box).
        When the aggregates carry weighted sums (a weighted warehouse), ``nps`` and ``csat`` are
        the weighted estimates from the summed sums (:func:`cxlab.ops._status.sums_kpi`), with
        ``nps_se``, ``csat_se``, ``w_sum``, ``n_eff`` and the summed sums; ``n`` stays
        unweighted.

    Examples
    --------
    >>> from cxlab.config import Org
    >>> org = Org.model_validate({"version": 1, "company": {"code": "ALL", "name": "公司"},
    ...     "units": [{"code": "R", "name": "区", "units": [{"code": "A", "name": "甲"},
    ...                                                   {"code": "B", "name": "乙"}]}]})
    >>> agg = pd.DataFrame({"period": ["P", "P"], "branch": ["A", "B"], "n": [60, 40],
    ...     "promoters": [30, 10], "passives": [20, 20], "detractors": [10, 10],
    ...     "csat_n": [60, 40], "csat_top2": [54, 30]})
    >>> unit_kpis(agg, org)[["unit", "n", "nps", "csat"]].round(1)
      unit    n   nps  csat
    0  ALL  100  20.0  84.0
    1    R  100  20.0  84.0
    2    A   60  33.3  90.0
    3    B   40   0.0  75.0
    """
    company = org.company.code
    units = [(company, org.company.name, 0, None, False)] + [
        (u.code, u.name, len(p) + 1, p[-1].code if p else company, u.is_branch)
        for u, p in org.walk()]
    agg = aggregates.assign(branch=aggregates["branch"].astype(str),
                            period=aggregates["period"].astype(str))
    # a questionnaire without the NPS or CSAT question has no such counts: NaN, not zero
    agg = agg.reindex(columns=[*agg.columns, *(c for c in _COUNTS if c not in agg.columns)])
    sums = [c for m in ("nps", "csat") if has_sums(agg, m) for c in _SUMS[m]]
    frames = []
    for code, name, depth, parent, is_branch in units:
        below = set(org.scope(code)) & set(org.branch_codes)
        sub = agg[agg["branch"].isin(below)]
        g = sub.groupby("period", as_index=False)[[*_COUNTS, *sums]].sum(min_count=1)
        g = g.assign(unit=code, name=name, depth=depth, parent=parent, is_branch=is_branch)
        frames.append(g)
    df = pd.concat(frames, ignore_index=True)
    n = df["n"].where(df["n"] > 0)
    df["nps"] = 100 * (df["promoters"] - df["detractors"]) / n
    df["csat"] = 100 * df["csat_top2"] / df["csat_n"].where(df["csat_n"] > 0)
    # weighted: the estimates from the summed weighted sums (exact for the union of branches)
    for metric, base in (("nps", "n"), ("csat", "csat_n")):
        if has_sums(df, metric):
            st = [sums_kpi(metric, r) if r[base] > 0 else {} for _, r in df.iterrows()]
            df[metric] = [s.get("value", float("nan")) for s in st]
            df[f"{metric}_se"] = [s.get("se", float("nan")) for s in st]
            if metric == "nps":
                df["w_sum"] = [s.get("w_sum", float("nan")) for s in st]
                df["n_eff"] = [s.get("n_eff", float("nan")) for s in st]
    df["suppressed"] = df["n"] < min_base
    df["caution"] = ~df["suppressed"] & (df["n"] < caution_base)
    cols = ["period", "unit", "name", "depth", "parent", "is_branch", *_COUNTS, "nps", "csat",
            "suppressed", "caution",
            *(c for c in ("nps_se", "csat_se", "w_sum", "n_eff", *sums) if c in df.columns)]
    return df[cols].sort_values(["period"], kind="stable").reset_index(drop=True)


def region_league(aggregates: pd.DataFrame, org, *, unit: str, period: str,
                  min_base: int = 30) -> pd.DataFrame:
    """The league table of a grouping unit's children for one period, with the unit itself and
    the company, and the unit's NPS tested against the rest of the company.

    Returns
    -------
    DataFrame
        ``unit, name, role, n, nps, csat, rank, vs_unit, vs_company, suppressed`` with
        ``role`` ∈ ``company, scope, child``: children ranked by NPS (1 = best; suppressed
        children unranked), ``vs_unit``/``vs_company`` = NPS difference in points; then the
        counts and, weighted, the SEs, bases and sums of :func:`unit_kpis` (NPS and CSAT are
        then weighted, and the test is the design-based z-test of the weighted NPS against the
        rest's summed sums, ``df.attrs["test"] == "design_z"``).
        ``df.attrs["pvalue_vs_rest"]``: p-value of the unit's NPS against the rest of the
        company (``cxlab.metrics.nps_test`` on the counts: two independent samples), NaN when
        either side is empty.
    """
    from cxlab.ops._common import nps_pvalue

    k = unit_kpis(aggregates, org, min_base=min_base)
    k = k[k["period"] == period].set_index("unit")
    company = org.company.code
    children = [u.code for u in org.unit(unit).units] if unit != company else \
        [u.code for u in org.tree]
    rows = k.loc[[c for c in [company, unit, *children] if c in k.index]].copy()
    rows["role"] = ["company" if c == company else "scope" if c == unit else "child"
                    for c in rows.index]
    ranked = rows[(rows["role"] == "child") & ~rows["suppressed"]]
    rows["rank"] = ranked["nps"].rank(ascending=False, method="min").astype("Int64")
    rows["vs_unit"] = rows["nps"] - rows.loc[unit, "nps"] if unit in rows.index else float("nan")
    rows["vs_company"] = rows["nps"] - rows.loc[company, "nps"]
    # then the counts and (weighted) sums, for target statuses with sampling error (not
    # those of a question the questionnaire lacks)
    extra = [c for c in (*_COUNTS[1:], "nps_se", "csat_se", "w_sum", "n_eff", *_SUMS["nps"],
                         *_SUMS["csat"]) if c in rows.columns and rows[c].notna().any()]
    out = rows.reset_index()[["unit", "name", "role", "n", "nps", "csat", "rank", "vs_unit",
                              "vs_company", "suppressed", *extra]]
    counts = ["promoters", "passives", "detractors"]
    if unit in k.index and unit != company and k.loc[[unit, company], counts].notna().to_numpy().all():
        if has_sums(k, "nps"):
            # weighted: the design z-test against the rest's summed sums (independent samples)
            cols = [*counts, *_SUMS["nps"]]
            rest = k.loc[company, cols].astype(float) - k.loc[unit, cols].astype(float)
            other = sums_kpi("nps", rest) if rest["promoters"] + rest["passives"] + \
                rest["detractors"] > 0 else {"value": float("nan"), "se": float("nan")}
            out.attrs["pvalue_vs_rest"] = design_z_pvalue(
                k.loc[unit, "nps"], k.loc[unit, "nps_se"], other["value"], other["se"])
            out.attrs["test"] = "design_z"
            return out
        mine = k.loc[unit, counts].astype(int)
        rest = (k.loc[company, counts].astype(int) - mine)
        out.attrs["pvalue_vs_rest"] = nps_pvalue(tuple(mine), tuple(rest))
    else:
        out.attrs["pvalue_vs_rest"] = float("nan")
    return out
