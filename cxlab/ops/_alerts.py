"""Alert rules (预警) and closed-loop tracking (闭环) — seed 001, 第三步:行动改善完整闭环."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cxlab.ops._common import (
    as_by,
    hours_between,
    need_columns,
    nps_pvalue,
    to_codes,
    two_prop_pvalue,
)
from cxlab.ops._params import AlertRules, as_model
from cxlab.ops._status import _SUMS, design_z_pvalue, has_sums, sums_kpi
from cxlab.ops._targets import compute_kpis

__all__ = ["ALERT_COLUMNS", "closure_summary", "evaluate_alerts", "track_alerts"]

ALERT_COLUMNS = ["rule", "label", "branch", "period", "metric", "value", "threshold", "severity",
                 "detail", "previous", "pvalue", "p_adjusted", "customer_id", "response_id", "ticket_id"]
_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
_SOURCE_COLUMN = {"nps": "ltr", "csat": "csat"}   # without a codebook (see _source_columns)
CLOSED = "已关闭"
NO_TICKET = "未建单"


def _frame(data, name: str) -> pd.DataFrame | None:
    if isinstance(data, Mapping):
        return data.get(name)
    return getattr(data, name, None)


def _source_columns(codebook) -> dict[str, str]:
    """The NPS and CSAT columns: the codebook's roles, else ``ltr`` and ``csat``."""
    if codebook is None:
        return dict(_SOURCE_COLUMN)
    return {"nps": codebook.nps_item or _SOURCE_COLUMN["nps"],
            "csat": codebook.csat_item or _SOURCE_COLUMN["csat"]}


def _metric_label(metric: str) -> str:
    return {"nps": "NPS", "csat": "CSAT"}.get(metric, metric)


def _group_stats(kpis: pd.DataFrame, metric: str) -> pd.DataFrame:
    return kpis[kpis["kpi"] == metric].reset_index(drop=True)


def _weighted(r) -> bool:
    """A stats row with the weighted estimate's design SE (:func:`_stats_from_sums`)."""
    return hasattr(r, "se") and not pd.isna(getattr(r, "se", np.nan))


def _pvalue(metric: str, cur, prev) -> float:
    if _weighted(cur) and _weighted(prev):
        # design-based z-test of two independent weighted estimates (linearisation SEs)
        return design_z_pvalue(cur.value, cur.se, prev.value, prev.se)
    if metric == "nps":
        return nps_pvalue((int(cur.promoters), int(cur.passives), int(cur.detractors)),
                          (int(prev.promoters), int(prev.passives), int(prev.detractors)))
    return two_prop_pvalue(int(cur.k), int(cur.n), int(prev.k), int(prev.n))


def _detractor_complaint(rule, responses, tickets, *, score: str = "ltr",
                         comment: str = "comment") -> list[dict]:
    need_columns(responses, ["period", "branch", score], what="responses")
    ltr = to_codes(responses[score])
    det = responses[ltr <= rule.max_score].copy()
    det["_ltr"] = ltr[ltr <= rule.max_score]
    if det.empty:
        return []
    if rule.keywords and comment in det.columns:
        text = det[comment].astype("string").fillna("")
        hit = pd.Series(False, index=det.index)
        for kw in rule.keywords:
            hit |= text.str.contains(kw, regex=False)
        det["_kw"] = [next((kw for kw in rule.keywords if kw in t), None) if h else None
                      for t, h in zip(text, hit, strict=True)]
    else:
        det["_kw"] = None
    det["_ticket"] = None
    if (rule.ticket_types and tickets is not None and "customer_id" in det.columns
            and {"customer_id", "period", "type", "ticket_id"} <= set(tickets.columns)):
        comp = tickets[tickets["type"].isin(rule.ticket_types)]
        if "created_at" in comp.columns:
            comp = comp.sort_values("created_at", kind="stable")
        first = comp.drop_duplicates(["customer_id", "period"])[["customer_id", "period", "ticket_id"]]
        m = det[["customer_id", "period"]].merge(first, on=["customer_id", "period"], how="left")
        det["_ticket"] = m["ticket_id"].to_numpy()
    fired = det[det["_kw"].notna() | det["_ticket"].notna()]
    rows = []
    for _, r in fired.iterrows():
        why = []
        if r["_kw"] is not None and not pd.isna(r["_kw"]):
            why.append(f"评论含“{r['_kw']}”")
        if r["_ticket"] is not None and not pd.isna(r["_ticket"]):
            why.append(f"同期有投诉工单 {r['_ticket']}")
        rows.append({
            "branch": r["branch"], "period": r["period"], "metric": "ltr", "value": float(r["_ltr"]),
            "threshold": float(rule.max_score),
            "detail": f"贬损者(推荐意愿 {r['_ltr']:g}),{'、'.join(why)}",
            "customer_id": r.get("customer_id"), "response_id": r.get("response_id"),
            "ticket_id": r["_ticket"],
        })
    return rows


def _below_target(rule, stats: pd.DataFrame, targets) -> list[dict]:
    threshold = rule.threshold
    if threshold is None:
        if targets is None:
            raise ValueError(f"rule {rule.id!r} has no threshold: set one in alerts.yaml or pass targets=")
        threshold = targets.kpi(rule.metric).target
    s = stats[(stats["n"] >= rule.min_n) & (stats["value"] < threshold)]
    name = _metric_label(rule.metric)
    rows = []
    for r in s.itertuples(index=False):
        row = {"branch": r.branch, "period": r.period, "metric": rule.metric,
               "value": float(r.value), "threshold": float(threshold),
               "detail": f"{name} {r.value:.1f} 低于目标 {threshold:g}(n={int(r.n)})"}
        if rule.sampling_error:
            # one-sided test at alpha: the upper bound of the (1 - 2 alpha) interval
            _, _, hi = _interval(rule.metric, r, level=1 - 2 * rule.alpha)
            if not hi < threshold:
                continue  # below target, but within sampling error
            row["detail"] += (f",显著低于目标(单侧检验 α = {rule.alpha:g},"
                              f"{100 * (1 - rule.alpha):g}% 置信上限 {hi:.1f})")
        rows.append(row)
    return rows


def _interval(metric: str, r, *, level: float) -> tuple[float, float, float]:
    from cxlab.ops._status import kpi_interval

    if _weighted(r):
        w = sums_kpi(metric, r, level=level)
        return (w["value"], w["low"], w["high"])
    if metric == "nps":
        return kpi_interval("nps", n=r.n, promoters=r.promoters, passives=r.passives,
                            detractors=r.detractors, level=level)
    return kpi_interval(metric, n=r.n, k=r.k, level=level)


def _adjust(pvalues, method: str) -> np.ndarray:
    """Adjusted p-values over one family of tests (``none``: unchanged)."""
    p = np.asarray(pvalues, dtype=float)
    if method == "none" or p.size == 0:
        return p
    from cxlab.metrics import adjust_pvalues

    return np.asarray(adjust_pvalues(p, method=method), dtype=float)


def _paired_pvalue(rule, responses, groups, period, prev_period, branch, *, score, codebook,
                   weight=None):
    """p-value of the overlap-adjusted change test (customers in both periods; weighted with
    ``weight``), or None."""
    if responses is None or groups is None:
        return None
    from cxlab.ops._repeat import change_test

    a, b = groups.get((str(period), str(branch))), groups.get((str(prev_period), str(branch)))
    if a is None or b is None:
        return None
    res = change_test(responses.iloc[a], responses.iloc[b], metric=rule.metric, score=score,
                      codebook=codebook, weight=weight)
    return None if res is None else res.pvalue


def _given_pvalues(frame, metric: str) -> dict:
    """(period, branch, previous period) → p-value from a ``change_pvalues`` frame."""
    col = f"{metric}_change_pvalue"
    if frame is None or not len(frame) or col not in frame.columns:
        return {}
    f = frame.dropna(subset=[col])
    return {(str(r.period), str(r.branch), str(r.change_from)): float(getattr(r, col))
            for r in f.itertuples(index=False)}


def _significant_drop(rule, stats: pd.DataFrame, method: str = "fdr_bh", *, responses=None,
                      score: str | None = None, codebook=None, given=None,
                      weight: str | None = None) -> list[dict]:
    """Falls against the previous period; the p-values of one period's branches (every branch
    tested, whichever way it moved) are adjusted together with ``method``. With ``responses``
    holding ``customer_id``, a branch whose two periods share customers is tested with the
    overlap-adjusted test (:func:`cxlab.ops._repeat.change_test`); ``given`` supplies such
    p-values precomputed (:func:`_given_pvalues`)."""
    from cxlab.ops._repeat import CUSTOMER_ID

    groups = None
    if responses is not None and score is not None and CUSTOMER_ID in responses.columns:
        keys = [responses["period"].astype(str), responses["branch"].astype(str)]
        groups = {k: v for k, v in responses.groupby(keys, sort=False).indices.items()}
    order = sorted(stats["period"].dropna().unique().tolist())
    prev_of = dict(zip(order[1:], order[:-1], strict=True))
    idx = {(r.period, r.branch): r for r in stats.itertuples(index=False)}
    tests: dict[str, list] = {}
    for (period, branch), cur in sorted(idx.items()):
        prev = idx.get((prev_of.get(period), branch))
        if prev is None or cur.n < rule.min_n or prev.n < rule.min_n:
            continue
        pp = _paired_pvalue(rule, responses, groups, period, prev.period, branch, score=score,
                            codebook=codebook, weight=weight)
        if pp is None and given:
            pp = given.get((str(period), str(branch), str(prev.period)))
        p = _pvalue(rule.metric, cur, prev) if pp is None else pp
        tests.setdefault(period, []).append((branch, cur, prev, p, pp is not None))
    rows = []
    name = _metric_label(rule.metric)
    for period, family in tests.items():
        adj = _adjust([t[3] for t in family], method)
        for (branch, cur, prev, p, paired), pa in zip(family, adj, strict=True):
            change = cur.value - prev.value
            if not (change < -rule.min_drop and pa < rule.alpha):
                continue
            how = "" if method == "none" else f",校正后 p={pa:.4f}"
            how += ",已考虑两期都作答的客户" if paired else ""
            rows.append({"branch": branch, "period": period, "metric": rule.metric,
                         "value": float(cur.value), "threshold": float(prev.value),
                         "previous": float(prev.value), "pvalue": p, "p_adjusted": float(pa),
                         "detail": f"{name} 由 {prev.value:.1f}({prev.period})降至 {cur.value:.1f},"
                                   f"下降 {-change:.1f},p={p:.4f}{how}"})
    return rows


def _low_vs_rest(rule, sub: pd.DataFrame, method: str) -> pd.Series:
    """Branches significantly below the rest of the company (two-sided test of each branch
    against all other branches of the period, p-values adjusted over the branches)."""
    cols = ["promoters", "passives", "detractors"] if rule.metric == "nps" else ["k", "n"]
    weighted = "se" in sub.columns and sub["se"].notna().all()
    if weighted:  # (the share's counts also under the aggregates' names, for sums_kpi)
        cols = [*cols, *(["csat_n", "csat_top2"] if rule.metric != "nps" else []),
                *_SUMS[rule.metric]]
    tot = sub[cols].sum()
    pvals, lower = [], []
    for _, r in sub.iterrows():
        rest = tot - r[cols]
        if weighted:  # the rest of the company from its summed sums; design-based z-test
            other = sums_kpi(rule.metric, rest)
            p = design_z_pvalue(r["value"], r["se"], other["value"], other["se"])
            rv = other["value"]
        elif rule.metric == "nps":
            p = nps_pvalue(tuple(int(r[c]) for c in cols), tuple(int(rest[c]) for c in cols))
            rv = 100 * (rest["promoters"] - rest["detractors"]) / max(rest.sum(), 1)
        else:
            p = two_prop_pvalue(int(r["k"]), int(r["n"]), int(rest["k"]), int(rest["n"]))
            rv = 100 * rest["k"] / rest["n"] if rest["n"] else np.nan
        pvals.append(p)
        lower.append(r["value"] < rv)
    adj = _adjust(pvals, method)
    return pd.Series((adj < rule.alpha) & np.asarray(lower, dtype=bool), index=sub.index)


def _bottom_rank(rule, stats: pd.DataFrame, method: str = "fdr_bh") -> list[dict]:
    rows = []
    name = _metric_label(rule.metric)
    for period, sub in stats[stats["n"] >= rule.min_n].groupby("period", sort=True):
        sub = sub.sort_values(["value", "branch"])
        if len(sub) <= rule.k:   # ranking needs more branches than the bottom group
            continue
        ranks = sub["value"].rank(method="min", ascending=False)
        pool = sub
        if rule.significant_only:
            pool = sub[_low_vs_rest(rule, sub, method)]
            if pool.empty:
                continue
        cutoff = float(pool["value"].iloc[min(rule.k, len(pool)) - 1])
        for r, rank in zip(pool.itertuples(index=False), ranks[pool.index], strict=True):
            if r.value <= cutoff:
                why = ",显著低于其他机构" if rule.significant_only else ""
                rows.append({"branch": r.branch, "period": period, "metric": rule.metric,
                             "value": float(r.value), "threshold": cutoff,
                             "detail": f"{name} {r.value:.1f},排名 {int(rank)}/{len(sub)}"
                                       f"(末 {rule.k} 名{why})"})
    return rows


def _sums_from_rows(responses: pd.DataFrame, *, score: str, csat: str, weight: str,
                    codebook=None) -> pd.DataFrame:
    """The aggregates' counts and weighted sums per period × branch from weighted response rows
    (``period, branch, n, promoters, …, w_promoters, w2_promoters, …, csat_n, csat_top2,
    w_csat_n, …``), so that weighted rows and the warehouse aggregates go the same way."""
    from cxlab.ops._common import scale_for

    keys = [responses["period"].astype(str), responses["branch"].astype(str)]
    w = pd.to_numeric(responses[weight], errors="coerce").astype(float)
    parts = {}
    if score in responses.columns:
        x = to_codes(responses[score]).astype(float)
        ok = x.notna()
        parts["n"] = ok.astype(float)
        for name, m in (("promoters", x >= 9), ("passives", (x >= 7) & (x < 9)),
                        ("detractors", x < 7)):
            m = m & ok
            parts[name], parts[f"w_{name}"], parts[f"w2_{name}"] = (
                m.astype(float), w.where(m, 0.0), (w * w).where(m, 0.0))
    if csat in responses.columns:
        sc = scale_for(codebook, csat)
        top = sc.top_threshold if sc is not None and sc.top_threshold is not None else 4
        x = to_codes(responses[csat], sc).astype(float)
        for name, m in (("csat_n", x.notna()), ("csat_top2", x >= top)):
            parts[name], parts[f"w_{name}"], parts[f"w2_{name}"] = (
                m.astype(float), w.where(m, 0.0), (w * w).where(m, 0.0))
    frame = pd.DataFrame(parts, index=responses.index)
    out = frame.groupby(keys, sort=True).sum()
    out.index.names = ["period", "branch"]
    return out.reset_index()


def _stats_from_sums(agg: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The alert rules' per period × branch statistics of ``metric`` from aggregated counts
    (the warehouse aggregates, or :func:`_sums_from_rows`): ``period, branch, kpi, value, n, k,
    promoters, passives, detractors`` as :func:`cxlab.ops.compute_kpis`, and with weighted sums
    the weighted ``value`` (:func:`cxlab.ops._status.sums_kpi`), its design ``se`` and the
    sums."""
    base, top = ("n", None) if metric == "nps" else ("csat_n", "csat_top2")
    need = ["promoters", "passives", "detractors"] if metric == "nps" else [base, top]
    cols = ["period", "branch", "kpi", "value", "n", "k", "promoters", "passives", "detractors",
            "se"]
    if not set(need) <= set(agg.columns):
        return pd.DataFrame(columns=cols)
    a = agg[pd.to_numeric(agg[base], errors="coerce").fillna(0) > 0].reset_index(drop=True)
    out = pd.DataFrame({"period": a["period"].astype(str), "branch": a["branch"].astype(str),
                        "kpi": metric, "n": a[base].astype(int)})
    if metric == "nps":
        for c in ("promoters", "passives", "detractors"):
            out[c] = a[c].astype(int)
        out["k"] = pd.NA
        out["value"] = 100.0 * (a["promoters"] - a["detractors"]) / a["n"]
    else:
        out["k"] = a[top].astype(int)
        out["promoters"] = out["passives"] = out["detractors"] = pd.NA
        out["value"] = 100.0 * a[top] / a[base]
    out["se"] = np.nan
    if has_sums(a, metric):
        got = [sums_kpi(metric, r) for _, r in a.iterrows()]
        out["value"] = [g["value"] for g in got]
        out["se"] = [g["se"] for g in got]
        for c in _SUMS[metric]:
            out[c] = a[c].astype(float)
        if metric != "nps":
            out["csat_n"], out["csat_top2"] = out["n"], out["k"]
    out["value"] = out["value"].astype(float)
    return out[[*cols, *(c for c in out.columns if c not in cols)]]


def _sla_breach(rule, tickets: pd.DataFrame) -> list[dict]:
    need_columns(tickets, ["ticket_id", "branch", "period", "created_at", "first_response_at"],
                 what="tickets")
    t = tickets
    mask = pd.Series(True, index=t.index)
    if rule.ticket_types:
        mask &= t["type"].isin(rule.ticket_types)
    if rule.priorities:
        mask &= t["priority"].isin(rule.priorities)
    if rule.channels:
        mask &= t["channel"].isin(rule.channels)
    t = t[mask]
    hours = hours_between(t["created_at"], t["first_response_at"])
    late = t[hours > rule.limit_hours]
    return [{"branch": r["branch"], "period": r["period"], "metric": "first_response_hours",
             "value": float(h), "threshold": float(rule.limit_hours),
             "detail": f"工单 {r['ticket_id']}({r.get('type', '')}/{r.get('channel', '')})"
                       f"首次响应 {h:.1f} 小时,超过 {rule.limit_hours:g} 小时",
             "customer_id": r.get("customer_id"), "ticket_id": r["ticket_id"]}
            for (_, r), h in zip(late.iterrows(), hours[hours > rule.limit_hours], strict=True)]


def evaluate_alerts(data, *, rules, targets=None, codebook=None,
                    weight: str | None = None) -> pd.DataFrame:
    """Evaluate the alert rules of ``params/alerts.yaml`` over survey responses and tickets.

    Parameters
    ----------
    data : mapping or namespace of DataFrames
        ``data["responses"]`` (or ``data.responses``): canonical responses with ``period, branch,
        ltr`` and, as rules need them, ``csat, comment, customer_id, response_id``;
        ``data["tickets"]`` (optional): the ticket log (``ops/tickets.csv`` columns). A rule
        whose frame is absent is skipped. ``data["change_pvalues"]`` (optional): precomputed
        overlap-adjusted p-values of the change from the previous period, ``period, branch,
        change_from, nps_change_pvalue, csat_change_pvalue`` (the warehouse aggregates'
        columns), used by ``significant_drop`` where the responses carry no customer ids.
        ``data["aggregates"]`` (optional): the warehouse aggregates per period × branch
        (``n, promoters, passives, detractors, csat_n, csat_top2`` and, weighted, the sums
        ``w_promoters, w2_promoters, …``; :func:`cxlab.report.compute_aggregates`): the
        branch-level rules (``below_target``, ``significant_drop``, ``bottom_rank``) then run on
        these statistics instead of respondent rows (the reports do so).
    rules : AlertRules or mapping
        ``params/alerts.yaml``. Kinds: ``detractor_complaint`` (one alert per detractor whose
        comment contains a complaint keyword or who has a complaint ticket the same period),
        ``below_target`` (NPS/CSAT of a branch-period below target, n ≥ min_n; with
        ``sampling_error`` only when significantly below, one-sided at alpha),
        ``significant_drop`` (fall against the previous period with adjusted p < alpha: NPS by
        ``nps_test``, CSAT by the two-proportion z-test, both two-sided; where ``customer_id``
        shows customers who answered in both periods of a branch, the two-sided
        overlap-adjusted test of :func:`cxlab.metrics.overlap_test` instead; the p-values of a
        period's branches adjusted by ``rules.multiple_comparisons``, default
        Benjamini–Hochberg), ``bottom_rank`` (the bottom k branches of a period; with
        ``significant_only`` among those significantly below the rest of the company) and ``sla_breach`` (one alert per ticket whose first response took longer
        than ``limit_hours``).
    targets : Targets, optional
        Supplies the threshold of ``below_target`` rules that leave ``threshold`` empty.
    codebook : Codebook, optional
        Needed only when ``csat`` holds labels instead of codes.
    weight : str, optional
        Column of survey weights in the responses: the branch-level rules then use the weighted
        NPS and CSAT (as weighted aggregates do): the weighted estimate, its one-sided bound on
        the effective n for ``below_target``, the design-based z-test (linearisation SEs,
        z = Δ / sqrt(se₁² + se₀²)) for ``significant_drop`` and ``bottom_rank``, the weighted
        overlap test for repeat customers. Weighted aggregates do the same without it.

    Returns
    -------
    DataFrame
        Fired alerts, ``rule, label, branch, period, metric, value, threshold, severity,
        detail, previous, pvalue, p_adjusted, customer_id, response_id, ticket_id``; sorted by period,
        severity (high first), rule, branch. ``threshold`` is the limit crossed: the target,
        the bottom-group cut-off, the SLA hours, the detractor cut-off (6) or, for a drop, the
        previous period's value (also in ``previous``, with the test's raw ``pvalue`` and the
        multiplicity-adjusted ``p_adjusted``).
    """
    rules = as_model(rules, AlertRules, what="alert rules")
    responses = _frame(data, "responses")
    tickets = _frame(data, "tickets")
    aggregates = _frame(data, "aggregates")
    if responses is None and tickets is None and aggregates is None:
        raise ValueError("data must provide 'responses', 'aggregates' and/or 'tickets' DataFrames")
    stats: dict[str, pd.DataFrame] = {}
    source = _source_columns(codebook)
    if weight is not None and responses is not None:
        need_columns(responses, [weight], what="responses")
        aggregates = _sums_from_rows(responses, score=source["nps"], csat=source["csat"],
                                     weight=weight, codebook=codebook)
    kpis = None  # NPS and CSAT per period x branch, computed once for all rules
    rows: list[dict] = []
    for rule in rules.rules:
        if not rule.enabled:
            continue
        if rule.kind == "sla_breach":
            if tickets is None:
                continue
            fired = _sla_breach(rule, tickets)
        elif rule.kind == "detractor_complaint":
            if responses is None:
                continue
            fired = _detractor_complaint(rule, responses, tickets, score=source["nps"],
                                         comment=(codebook.comment_item if codebook is not None
                                                  else None) or "comment")
        else:
            if aggregates is not None:
                if rule.metric not in stats:
                    stats[rule.metric] = _stats_from_sums(aggregates, rule.metric)
                if stats[rule.metric].empty:
                    continue
            elif responses is None or source[rule.metric] not in responses.columns:
                continue
            if rule.metric not in stats:
                if kpis is None:
                    kpis = compute_kpis(responses, None, None, by=("period", "branch"),
                                        codebook=codebook, score=source["nps"],
                                        csat=source["csat"])
                stats[rule.metric] = _group_stats(kpis, rule.metric)
            s = stats[rule.metric]
            if rule.kind == "below_target":
                fired = _below_target(rule, s, targets)
            elif rule.kind == "significant_drop":
                fired = _significant_drop(rule, s, rules.multiple_comparisons,
                                          responses=responses, score=source[rule.metric],
                                          codebook=codebook, weight=weight,
                                          given=_given_pvalues(_frame(data, "change_pvalues"),
                                                               rule.metric))
            else:
                fired = _bottom_rank(rule, s, rules.multiple_comparisons)
        for r in fired:
            rows.append({"rule": rule.id, "label": rule.label, "severity": rule.severity} | r)
    out = pd.DataFrame(rows, columns=ALERT_COLUMNS)
    for col in ("value", "threshold", "previous", "pvalue", "p_adjusted"):
        out[col] = out[col].astype(float)
    if len(out):
        out = (out.assign(_s=out["severity"].map(_SEVERITY_ORDER))
               .sort_values(["period", "_s", "rule", "branch"], kind="stable")
               .drop(columns="_s").reset_index(drop=True))
    return out


def track_alerts(alerts: pd.DataFrame, tickets: pd.DataFrame, *,
                 ticket_types=("投诉",)) -> pd.DataFrame:
    """Join fired alerts to the ticket log (closed-loop tracking).

    An alert is matched to a ticket by its ``ticket_id`` when it has one (SLA breaches, detractors
    with a complaint ticket); otherwise by ``customer_id`` and ``period`` to that customer's
    earliest ticket of ``ticket_types`` in the period. Branch-level alerts (below target, drops,
    bottom rank) have no ticket in a service-ticket log and are reported as ``未建单``.

    Returns
    -------
    DataFrame
        The alerts plus ``owner, status, opened_at, closed_at, hours_to_close, closed``:
        ``status`` is the ticket's status (已关闭/处理中/待处理) or ``未建单``;
        ``opened_at``/``closed_at`` are the ticket's ``created_at``/``closed_at``;
        ``hours_to_close`` = closed_at − opened_at in hours; ``closed`` is True when the ticket
        has a ``closed_at`` or status 已关闭.
    """
    need_columns(alerts, ["ticket_id"], what="alerts")
    need_columns(tickets, ["ticket_id", "created_at", "closed_at", "owner", "status"], what="tickets")
    log = tickets[["ticket_id", "customer_id", "period", "type", "created_at", "closed_at", "owner",
                   "status"]].copy() if {"customer_id", "period", "type"} <= set(tickets.columns) else \
        tickets[["ticket_id", "created_at", "closed_at", "owner", "status"]].copy()
    a = alerts.reset_index(drop=True).copy()
    key = a["ticket_id"].astype(object)
    if "customer_id" in a.columns and {"customer_id", "period", "type"} <= set(log.columns):
        cand = log[log["type"].isin(list(ticket_types))].sort_values("created_at", kind="stable")
        first = cand.drop_duplicates(["customer_id", "period"])[["customer_id", "period", "ticket_id"]]
        m = a[["customer_id", "period"]].merge(first.rename(columns={"ticket_id": "_t"}),
                                               on=["customer_id", "period"], how="left")
        key = key.where(key.notna(), m["_t"].astype(object))
    a["_key"] = key.to_numpy()
    info = log[["ticket_id", "owner", "status", "created_at", "closed_at"]].rename(
        columns={"ticket_id": "_key", "created_at": "opened_at"})
    out = a.merge(info.drop_duplicates("_key"), on="_key", how="left", sort=False)
    out["ticket_id"] = out["_key"]
    out = out.drop(columns="_key")
    out["opened_at"] = pd.to_datetime(out["opened_at"], errors="coerce")
    out["closed_at"] = pd.to_datetime(out["closed_at"], errors="coerce")
    out["hours_to_close"] = hours_between(out["opened_at"], out["closed_at"])
    has = out["ticket_id"].notna() & out["status"].notna()
    out["status"] = out["status"].astype(object).where(has, NO_TICKET)
    out["closed"] = has & (out["closed_at"].notna() | (out["status"] == CLOSED))
    return out


def closure_summary(tracked: pd.DataFrame, *, by="branch", now=None,
                    overdue_hours: float = 72.0) -> pd.DataFrame:
    """Closed-loop figures per branch (or any ``by``): open/closed, time to close, overdue.

    Parameters
    ----------
    tracked : DataFrame
        Output of :func:`track_alerts`.
    by : str or sequence of str
        Grouping (default ``branch``).
    now : timestamp-like, optional
        The reference time for overdue items. Default: the latest ``opened_at``/``closed_at`` in
        ``tracked`` (deterministic; pass the report's cut-off time explicitly in production).
    overdue_hours : float
        An open item older than this is overdue (``service_levels.closure_hours`` in alerts.yaml).

    Returns
    -------
    DataFrame
        ``[by…], alerts, with_ticket, closed, open, no_ticket, closure_rate,
        median_hours_to_close, overdue``: ``open`` counts alerts with a ticket not yet closed;
        ``closure_rate`` = closed / alerts in % (an alert without a ticket is not closed);
        ``overdue`` = open items with ``now − opened_at > overdue_hours``.
    """
    by = as_by(by)
    need_columns(tracked, by + ["closed", "opened_at", "hours_to_close", "status"], what="tracked")
    t = tracked.copy()
    if now is None:
        stamps = pd.concat([t["opened_at"], t["closed_at"]]) if "closed_at" in t else t["opened_at"]
        now = stamps.max()
    now = pd.Timestamp(now)
    t["_with"] = t["status"] != NO_TICKET
    t["_open"] = t["_with"] & ~t["closed"].astype(bool)
    age = (now - pd.to_datetime(t["opened_at"])).dt.total_seconds() / 3600.0
    t["_overdue"] = t["_open"] & (age > overdue_hours)
    g = t.groupby(by, sort=True, observed=True, dropna=False) if by else t.groupby(lambda _: 0)
    out = pd.DataFrame({
        "alerts": g.size(),
        "with_ticket": g["_with"].sum(),
        "closed": g["closed"].sum(),
        "open": g["_open"].sum(),
        "no_ticket": g["_with"].apply(lambda s: int((~s).sum())),
        "median_hours_to_close": g["hours_to_close"].median(),
        "overdue": g["_overdue"].sum(),
    })
    out["closure_rate"] = 100.0 * out["closed"] / out["alerts"]
    out = out.reset_index(drop=not by)
    cols = by + ["alerts", "with_ticket", "closed", "open", "no_ticket", "closure_rate",
                 "median_hours_to_close", "overdue"]
    for c in ("alerts", "with_ticket", "closed", "open", "no_ticket", "overdue"):
        out[c] = out[c].astype(int)
    return out[cols]
