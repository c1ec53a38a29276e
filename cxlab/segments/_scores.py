"""Satisfaction by segment and the link between NPS category and later churn and spend."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from cxlab.segments._retention import _by

if TYPE_CHECKING:
    from cxlab.config import Codebook, Scale
from cxlab.segments._value import _check

__all__ = ["CATEGORIES", "NpsLinkResult", "nps_category", "nps_link", "segment_scores"]

#: NPS categories in report order (Reichheld 2003): 9–10 promoter, 7–8 passive, 0–6 detractor.
CATEGORIES = ("promoter", "passive", "detractor")


def nps_category(scores: pd.Series) -> pd.Series:
    """promoter (9–10) / passive (7–8) / detractor (0–6); missing stays missing."""
    s = pd.to_numeric(scores, errors="coerce")
    out = pd.Series(pd.NA, index=s.index, dtype="object")
    out[s >= 9] = "promoter"
    out[(s >= 7) & (s < 9)] = "passive"
    out[s < 7] = "detractor"
    return out.astype(pd.CategoricalDtype(list(CATEGORIES)))


def segment_scores(
    fused: pd.DataFrame,
    *,
    by: str | Sequence[str],
    score: str | None = None,
    metric: str = "nps",
    scale: Scale | int | None = None,
    top_box: int | None = None,
    alpha: float = 0.05,
    codebook: Codebook | None = None,
    weight: str | None = None,
    adjust: str = "fdr_bh",
    min_base: int | None = None,
) -> pd.DataFrame:
    """NPS or CSAT per customer segment, each segment tested against the rest.

    Parameters
    ----------
    fused : DataFrame
        Responses with segment columns (e.g. from :func:`fuse` and :func:`value_tiers`).
    by : str or sequence of str
        Segment column(s).
    score : str, optional
        The score column; default the codebook's item of the metric (``nps_item`` or
        ``csat_item``), else ``ltr`` for NPS and ``csat`` for CSAT.
    metric : {"nps", "csat"}
        ``nps`` uses :func:`cxlab.metrics.nps` and :func:`cxlab.metrics.nps_test`; ``csat``
        uses :func:`cxlab.metrics.csat` (top-box share of the score) and
        :func:`cxlab.metrics.two_proportion_test`.
    scale : cxlab.config.Scale or int, optional
        CSAT only: the score's scale, as in :func:`cxlab.metrics.csat` (a codebook Scale or an
        int number of points 1..k); default the codebook's scale of ``score``, else 5.
    top_box : int, optional
        CSAT only: number of top codes counted; default the Scale's ``top_box``, else 2.
    codebook : cxlab.config.Codebook, optional
        Supplies ``score``, ``scale`` and ``top_box``.
    alpha : float
        Significance level applied to the adjusted p-values.
    weight : str, optional
        Survey weights: the metric is weighted (``weight=`` of :func:`cxlab.metrics.nps` /
        :func:`cxlab.metrics.csat`) and each segment is tested against the rest by the
        design-based test of weighted means
        (:func:`cxlab.metrics._column_tests.design_mean_test`, R ``svyttest``) of +1/0/−1
        (NPS) or the 0/1 top box (CSAT).
    adjust : {"fdr_bh", "holm", "none"}
        Multiple-comparison control over the segments: Benjamini–Hochberg (default, false
        discovery rate), Holm (family-wise error) or none (``multiple_comparisons`` of
        ``params/alerts.yaml`` in the reports).
    min_base : int, optional
        A segment with fewer (unweighted) respondents is not tested: ``pvalue`` NaN, not
        counted in the adjustment, never ``significant``. Default: every segment is tested
        (the reports pass ``MIN_BASE`` = 30).

    Returns
    -------
    DataFrame
        The metric table of :mod:`cxlab.metrics` (``[by…], n, nps`` (points) or ``csat`` (%),
        ``se, ci_low, ci_high`` …) plus ``rest_n``, ``diff_vs_rest`` (points), ``pvalue`` (raw:
        segment vs all other respondents), ``p_adjusted`` (by ``adjust`` over the segments),
        ``adjust`` (the method), ``p_holm`` (Holm-adjusted, kept for existing readers),
        ``significant`` (``p_adjusted < alpha``) and ``base`` (``suppress`` n < 30,
        ``caution`` n < 100, ``ok``; unweighted counts).

    Notes
    -----
    Fewer than 10 % of firms measure satisfaction by value segment (seed 002); this is the
    table that does it. Each segment is compared with the rest of the sample (independent
    samples); Benjamini & Hochberg (1995) control the false discovery rate over the segments
    (Holm (1979) the family-wise error with ``adjust="holm"``).

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review* 81(12).
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57,
    289-300.
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics* 6, 65–70.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"tier": ["高"] * 40 + ["低"] * 40, "ltr": [10, 9, 9, 8] * 10 + [3, 6, 8, 9] * 10})
    >>> r = segment_scores(d, by="tier")
    >>> r[["tier", "n", "nps", "significant", "base"]]
      tier   n   nps  significant     base
    0    低  40 -25.0         True  caution
    1    高  40  75.0         True  caution
    """
    from cxlab import metrics  # lazy: metrics is developed alongside
    from cxlab.metrics._codebook import codebook_scale, resolve_scale, to_codes

    keys = _by(by)
    if not keys:
        raise ValueError("by must name at least one segment column")
    if metric not in ("nps", "csat"):
        raise ValueError(f"metric must be one of ['nps', 'csat'], got {metric!r}")
    if adjust not in ("fdr_bh", "holm", "none"):
        raise ValueError(f"adjust must be one of ['fdr_bh', 'holm', 'none'], got {adjust!r}")
    if score is None:
        score = getattr(codebook, f"{metric}_item", None) if codebook is not None else None
        score = score or {"nps": "ltr", "csat": "csat"}[metric]
    _check(fused, [*keys, score, *([weight] if weight else [])], "fused")
    data = fused[[*keys, score, *([weight] if weight else [])]].copy()
    if metric == "csat":
        if scale is None:
            scale = codebook_scale(codebook, score) or 5
        spec = resolve_scale(scale, top_box=top_box)
        data[score] = to_codes(data[score], spec, column=score)
    else:
        data[score] = pd.to_numeric(data[score], errors="coerce")
    data = data[data[score].notna()]
    if metric == "nps":
        table = metrics.nps(data, score=score, by=keys, weight=weight)
    else:
        table = metrics.csat(data, score=score, scale=scale, top_box=top_box, by=keys,
                             weight=weight)
    rest_n, diffs, pvals = [], [], []
    for _, row in table.iterrows():
        mask = np.all([(data[k] == row[k]).to_numpy() for k in keys], axis=0)
        a, b = data[mask], data[~mask]
        rest_n.append(len(b))
        if len(a) == 0 or len(b) == 0 or (min_base is not None and len(a) < min_base):
            diffs.append(np.nan)
            pvals.append(np.nan)
            continue
        if weight is not None:
            from cxlab.metrics._column_tests import design_mean_test

            if metric == "nps":
                ya, yb = (np.where(x[score] >= 9, 1.0, np.where(x[score] >= 7, 0.0, -1.0))
                          for x in (a, b))
            else:
                top = np.asarray(spec.top, dtype=float)
                ya, yb = (np.isin(x[score], top).astype(float) for x in (a, b))
            diff, p = design_mean_test(ya, a[weight], yb, b[weight])
            diffs.append(100.0 * diff)
            pvals.append(p)
            continue
        if metric == "nps":
            res = metrics.nps_test(a, b, score=score)
        else:
            top = np.asarray(spec.top, dtype=float)
            res = metrics.two_proportion_test(float(np.isin(a[score], top).sum()), len(a),
                                              float(np.isin(b[score], top).sum()), len(b))
        diff = res.diff if metric == "nps" else 100.0 * res.diff
        diffs.append(diff)
        pvals.append(res.pvalue)
    out = table.copy()
    out["rest_n"] = rest_n
    out["diff_vs_rest"] = diffs
    out["pvalue"] = pvals
    p = np.asarray(pvals, dtype=float)
    out["p_adjusted"] = p if adjust == "none" else metrics.adjust_pvalues(p, method=adjust)
    out["adjust"] = adjust
    out["p_holm"] = metrics.adjust_pvalues(p, method="holm")
    out["significant"] = out["p_adjusted"] < alpha
    out["base"] = [metrics.base_flag(n) for n in out["n"]]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class NpsLinkResult:
    """Does the NPS category predict later churn and spend?

    Attributes
    ----------
    table : DataFrame
        ``category, n, churned, churn_rate`` (%), ``mean_spend``, ``median_spend``
        (元 in the window after the survey) per promoter/passive/detractor.
    tests : DataFrame
        ``outcome, comparison, test, statistic, pvalue`` — chi-square of churn × category
        (3×2), two-proportion z-test detractor vs promoter churn, Welch t and Mann–Whitney U of
        spend detractor vs promoter; weighted (``nps_link(weight=)``): Rao–Scott F, and the
        design t statistics (detractor − promoter) of the churn share, mean spend and spend
        rank score. The table then has ``weighted_n`` after ``n``.
    n_customers : int
        Customers analysed (one row each: their last survey).
    window_days : int or None
        Spend window after the survey (None: all orders after it).
    """

    table: pd.DataFrame
    tests: pd.DataFrame
    n_customers: int
    window_days: int | None

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(f'NPS category vs churn and spend, n = {self.n_customers}')}</p>"
                + self.table.to_html(index=False) + self.tests.to_html(index=False))


def _add_spend(last: pd.DataFrame, orders: pd.DataFrame, *, customer: str, order_date: str,
               amount: str, window_days: int | None) -> None:
    """``last["_spend"]``: each customer's order amounts in the window after the survey."""
    _check(orders, [customer, order_date, amount], "orders")
    o = pd.DataFrame({customer: orders[customer].to_numpy(),
                      "_d": pd.to_datetime(orders[order_date], errors="coerce").to_numpy(),
                      "_a": pd.to_numeric(orders[amount], errors="coerce").to_numpy()})
    o = o.merge(last[[customer, *(["_t"] if "_t" in last.columns else [])]], on=customer,
                how="inner")
    if "_t" in o.columns:
        after = o["_d"] > o["_t"]
        if window_days is not None:
            after &= o["_d"] <= o["_t"] + pd.Timedelta(days=window_days)
        o = o[after]
    spend = o.groupby(customer)["_a"].sum()
    last["_spend"] = last[customer].map(spend).fillna(0.0).astype(float)


def _churn_test(valid: pd.DataFrame, *, weight: str | None) -> tuple:
    """The category × churn test row: Pearson's chi-square (its p-value simulated from random
    tables with the observed margins when Cochran's rule fails), or with ``weight`` the
    Rao–Scott F (``svychisq``), not done (NaN) when the table is that sparse."""
    from cxlab.metrics._crosstab import SIMULATED_TABLES, crosstab_overall

    res = crosstab_overall(valid.assign(_c=valid["_churn"].astype(int)), row="category",
                           col="_c", weight=weight,
                           simulate=None if weight else SIMULATED_TABLES, rng=0)
    if weight is not None and res.sparse:
        return ("churn", "category × churn", "not tested (sparse table)", np.nan, np.nan)
    name = ("Rao-Scott F (svychisq)" if weight is not None else
            "chi-square (Pearson, simulated p)" if res.sparse else "chi-square (Pearson)")
    return ("churn", "category × churn", name, float(res.statistic), float(res.pvalue))


def _nps_link_weighted(last: pd.DataFrame, orders: pd.DataFrame | None, *, customer: str,
                       order_date: str, amount: str, window_days: int | None) -> NpsLinkResult:
    """:func:`nps_link` with survey weights (``last["_w"]``): weighted estimates, design tests."""
    from cxlab.metrics._column_tests import design_mean_test, design_rank_test, weighted_median
    spend_available = orders is not None
    if spend_available:
        _add_spend(last, orders, customer=customer, order_date=order_date, amount=amount,
                   window_days=window_days)
    rows = []
    for cat in CATEGORIES:
        g = last[last["category"] == cat]
        ch = g[g["_churn"].notna()]
        w = ch["_w"].to_numpy()
        rows.append({
            "category": cat, "n": len(g), "weighted_n": float(g["_w"].sum()),
            "churned": int(ch["_churn"].sum()),
            "churn_rate": 100.0 * float(np.dot(w, ch["_churn"])) / w.sum() if w.sum() > 0
            else np.nan,
            "mean_spend": float(np.dot(g["_w"], g["_spend"]) / g["_w"].sum())
            if spend_available and g["_w"].sum() > 0 else np.nan,
            "median_spend": weighted_median(g["_spend"], g["_w"]) if spend_available
            else np.nan,
        })
    table = pd.DataFrame(rows)
    tests = []
    valid = last[last["_churn"].notna() & last["category"].notna()]
    if valid["category"].nunique() >= 2 and valid["_churn"].nunique() == 2:
        tests.append(_churn_test(valid, weight="_w"))
    def t_of(diff: float, p: float, n: int) -> float:
        """The t statistic behind a two-sided p on n - 2 df, with the sign of ``diff``."""
        return float(np.sign(diff) * stats.t.isf(p / 2, max(n - 2, 1))) if p == p else np.nan

    det = valid[valid["category"] == "detractor"]
    pro = valid[valid["category"] == "promoter"]
    if len(det) and len(pro):
        diff, p = design_mean_test(det["_churn"], det["_w"], pro["_churn"], pro["_w"])
        tests.append(("churn", "detractor vs promoter", "design t (svyttest)",
                      t_of(diff, p, len(det) + len(pro)), p))
    if spend_available:
        a = last[last["category"] == "detractor"]
        b = last[last["category"] == "promoter"]
        if len(a) > 1 and len(b) > 1:
            diff, p = design_mean_test(a["_spend"], a["_w"], b["_spend"], b["_w"])
            tests.append(("spend", "detractor vs promoter", "design t (svyttest)",
                          t_of(diff, p, len(a) + len(b)), p))
            # rank difference promoter − detractor: negative t when detractors spend more
            diff, p = design_rank_test(a["_spend"], a["_w"], b["_spend"], b["_w"])
            tests.append(("spend", "detractor vs promoter", "design Wilcoxon (svyranktest)",
                          t_of(-diff, p, len(a) + len(b)), p))
    table = table[["category", "n", "weighted_n", "churned", "churn_rate", "mean_spend",
                   "median_spend"]]
    return NpsLinkResult(
        table=table,
        tests=pd.DataFrame(tests, columns=["outcome", "comparison", "test", "statistic", "pvalue"]),
        n_customers=len(last),
        window_days=window_days if spend_available else None,
    )


def nps_link(
    fused: pd.DataFrame,
    orders: pd.DataFrame | None = None,
    *,
    score: str = "ltr",
    customer: str = "customer_id",
    date: str = "submitted_at",
    churned: str = "churned",
    order_date: str = "order_date",
    amount: str = "amount",
    window_days: int | None = 365,
    weight: str | None = None,
) -> NpsLinkResult:
    """Churn rate and later spend by NPS category (promoter / passive / detractor), with tests.

    Parameters
    ----------
    fused : DataFrame
        Responses fused with the CRM (:func:`fuse`): ``customer``, ``score``, ``churned`` and,
        for spend, the survey time ``date``. Each customer counts once, with the last survey.
    orders : DataFrame, optional
        Orders (``customer, order_date, amount``); spend = sum of amounts in the
        ``window_days`` after the survey (0 if none). Without orders only churn is analysed.
    weight : str, optional
        Column of survey weights of ``fused``; each customer carries the weight of the survey
        that counts (the last). ``churn_rate``, ``mean_spend`` and ``median_spend`` are then
        weighted (``n`` and ``churned`` stay unweighted counts, ``weighted_n`` is added) and the
        tests are design-based on the customers' rows taken as a with-replacement sample with
        probabilities ∝ 1/weight: the Rao–Scott F test (R ``svychisq``) for category × churn,
        the design t-test of the churn shares and of mean spend (``svyttest``) and the
        design-based Wilcoxon rank test of spend (``svyranktest``) for detractors vs
        promoters; the median is ``svyquantile(qrule = "math")``.

    Returns
    -------
    NpsLinkResult

    Notes
    -----
    Churn: Pearson chi-square test of independence on the 3×2 table (no continuity
    correction; when more than 20 % of the expected counts are below 5, or one is below 1,
    its p-value is simulated from 2,000 random tables with the observed margins, test name
    ``chi-square (Pearson, simulated p)``, and a weighted table that sparse is not tested) and
    a two-proportion z-test detractors vs promoters. Spend: Welch's t-test and
    the Mann–Whitney U test (two-sided) detractors vs promoters; spend is skewed, so the rank
    test is the safer of the two.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"customer_id": list("abcdefgh"), "ltr": [10, 9, 9, 8, 3, 2, 5, 6],
    ...                   "churned": [0, 0, 0, 0, 1, 1, 0, 1]})
    >>> nps_link(f).table[["category", "n", "churn_rate"]]
        category  n  churn_rate
    0   promoter  3         0.0
    1    passive  1         0.0
    2  detractor  4        75.0
    """
    need = [customer, score, churned, *([weight] if weight else [])]
    _check(fused, need, "fused")
    data = fused.copy()
    if date in data.columns:
        data["_t"] = pd.to_datetime(data[date], errors="coerce")
        data = data.sort_values("_t", kind="stable")
    data = data[data[customer].notna() & pd.to_numeric(data[score], errors="coerce").notna()]
    last = data.groupby(customer, sort=True).tail(1).copy()
    last["category"] = nps_category(last[score])
    last["_churn"] = pd.to_numeric(last[churned], errors="coerce")
    if weight:
        from cxlab.metrics._common import weights_array

        last["_w"] = weights_array(last, weight)
        return _nps_link_weighted(last, orders, customer=customer, order_date=order_date,
                                  amount=amount, window_days=window_days)
    spend_available = orders is not None
    if spend_available:
        _add_spend(last, orders, customer=customer, order_date=order_date, amount=amount,
                   window_days=window_days)
    rows = []
    for cat in CATEGORIES:
        g = last[last["category"] == cat]
        ch = g["_churn"].dropna()
        rows.append({
            "category": cat, "n": len(g), "churned": int(ch.sum()),
            "churn_rate": 100.0 * ch.mean() if len(ch) else np.nan,
            "mean_spend": g["_spend"].mean() if spend_available and len(g) else np.nan,
            "median_spend": g["_spend"].median() if spend_available and len(g) else np.nan,
        })
    table = pd.DataFrame(rows)
    tests = []
    valid = last[last["_churn"].notna() & last["category"].notna()]
    if valid["category"].nunique() >= 2 and valid["_churn"].nunique() == 2:
        tests.append(_churn_test(valid, weight=None))
    d, pr = table.set_index("category").loc["detractor"], table.set_index("category").loc["promoter"]
    if d["n"] and pr["n"]:
        from cxlab import metrics

        res = metrics.two_proportion_test(float(d["churned"]), float(d["n"]), float(pr["churned"]),
                                          float(pr["n"]))
        tests.append(("churn", "detractor vs promoter", "two-proportion z", res.statistic,
                      res.pvalue))
    if spend_available:
        a = last.loc[last["category"] == "detractor", "_spend"].to_numpy()
        b = last.loc[last["category"] == "promoter", "_spend"].to_numpy()
        if len(a) > 1 and len(b) > 1:
            t = stats.ttest_ind(a, b, equal_var=False)
            tests.append(("spend", "detractor vs promoter", "Welch t", float(t.statistic),
                          float(t.pvalue)))
            u = stats.mannwhitneyu(a, b, alternative="two-sided")
            tests.append(("spend", "detractor vs promoter", "Mann-Whitney U", float(u.statistic),
                          float(u.pvalue)))
    return NpsLinkResult(
        table=table,
        tests=pd.DataFrame(tests, columns=["outcome", "comparison", "test", "statistic", "pvalue"]),
        n_customers=len(last),
        window_days=window_days if spend_available else None,
    )
