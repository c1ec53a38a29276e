"""Service levels, survey participation, the 回馈报告 counts and service-quality audits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab.ops._common import as_by, hours_between, need_columns, wilson
from cxlab.ops._params import AlertRules, AuditLimits, as_model
from cxlab.ops._targets import COMPLAINT, EMAIL, NORMAL, PHONE, URGENT, _per_group

__all__ = ["audit_summary", "feedback_summary", "response_rates", "sla_summary"]

ALL = "全部"


def _dist_row(x: pd.Series, target: float | None) -> dict:
    x = pd.to_numeric(x, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    x = x[~np.isnan(x)]  # numpy from here: this runs for every cell of the SLA tables
    n = len(x)
    row = {"n": n, "median": float(np.median(x)) if n else np.nan,
           "p90": float(np.quantile(x, 0.9)) if n else np.nan,
           "target": np.nan if target is None else float(target)}
    if target is None or n == 0:
        row |= {"n_within": pd.NA if target is None else 0, "pct_within": np.nan,
                "status": "no_target" if target is None else "no_data"}
    else:
        k = int((x <= target).sum())
        row |= {"n_within": k, "pct_within": 100.0 * k / n,
                "status": "met" if row["median"] <= target else "missed"}
    return row


def _target(targets, kpi: str) -> float | None:
    if targets is None:
        return None
    try:
        return float(targets.kpi(kpi).target)
    except KeyError:
        return None


def sla_summary(tickets: pd.DataFrame, *, targets, resolution_hours: float | None = 24.0,
                by=None) -> pd.DataFrame:
    """First-response and resolution times by channel against the service levels.

    Parameters
    ----------
    tickets : DataFrame
        The ticket log: ``channel, type, priority, created_at, first_response_at, resolved_at``
        and ``answer_seconds`` (phone).
    targets : Targets
        ``params/targets.yaml``: ``email_reply_hours`` (邮件·普通), ``email_reply_hours_urgent``
        (邮件·紧急), ``phone_answer_seconds`` (电话 answer time), ``complaint_response_hours``
        (投诉, any channel).
    resolution_hours : float or None
        Resolution service level (seed 004: 给出解决方案不超过 24 小时; alerts.yaml
        ``service_levels.resolution_hours``); None = no target.
    by : str or sequence, optional
        Extra grouping, e.g. ``"branch"``.

    Returns
    -------
    DataFrame
        ``[by…], channel, segment, measure, kpi, unit, n, median, p90, target, n_within,
        pct_within, status``. Rows: per channel × priority ``first_response_hours``
        (created → first response); per channel ``resolution_hours`` (created → resolved);
        电话 ``answer_seconds``; and ``channel = 全部, segment = 投诉`` for complaints.
        ``pct_within`` = % of tickets at or under the target; ``p90`` is the linearly
        interpolated 90th percentile; ``status`` compares the **median** with the target
        (``met``/``missed``/``no_target``/``no_data``).
    """
    need_columns(tickets, ["channel", "type", "priority", "created_at", "first_response_at"],
                 what="tickets")
    by = as_by(by)
    t = tickets.copy()
    t["_first"] = hours_between(t["created_at"], t["first_response_at"])
    t["_resolve"] = (hours_between(t["created_at"], t["resolved_at"])
                     if "resolved_at" in t.columns else np.nan)
    email_t = {NORMAL: _target(targets, "email_reply_hours"),
               URGENT: _target(targets, "email_reply_hours_urgent")}

    def rows(sub: pd.DataFrame) -> list[dict]:
        out = []
        for ch in sorted(sub["channel"].dropna().unique()):
            c = sub[sub["channel"] == ch]
            for prio in sorted(c["priority"].dropna().unique()):
                tgt = email_t.get(prio) if ch == EMAIL else None
                kpi = ({NORMAL: "email_reply_hours", URGENT: "email_reply_hours_urgent"}.get(prio)
                       if ch == EMAIL else None)
                out.append({"channel": ch, "segment": prio, "measure": "first_response_hours",
                            "kpi": kpi, "unit": "小时"}
                           | _dist_row(c.loc[c["priority"] == prio, "_first"], tgt))
            if ch == PHONE and "answer_seconds" in c.columns:
                out.append({"channel": ch, "segment": ALL, "measure": "answer_seconds",
                            "kpi": "phone_answer_seconds", "unit": "秒"}
                           | _dist_row(c["answer_seconds"], _target(targets, "phone_answer_seconds")))
            out.append({"channel": ch, "segment": ALL, "measure": "resolution_hours", "kpi": None,
                        "unit": "小时"} | _dist_row(c["_resolve"], resolution_hours))
        comp = sub[sub["type"] == COMPLAINT]
        out.append({"channel": ALL, "segment": COMPLAINT, "measure": "first_response_hours",
                    "kpi": "complaint_response_hours", "unit": "小时"}
                   | _dist_row(comp["_first"], _target(targets, "complaint_response_hours")))
        return out

    cols = by + ["channel", "segment", "measure", "kpi", "unit", "n", "median", "p90", "target",
                 "n_within", "pct_within", "status"]
    out = pd.DataFrame(_per_group(t, by, rows), columns=cols)
    out["n_within"] = out["n_within"].astype("Int64")
    return out


def response_rates(invitations: pd.DataFrame, *, by=("channel", "trigger"),
                   level: float = 0.95) -> pd.DataFrame:
    """Survey invitation response rates with Wilson confidence intervals.

    Parameters
    ----------
    invitations : DataFrame
        ``ops/invitations.csv``: one row per invitation sent, ``responded`` 0/1, plus ``by``.
    by : str or sequence of str
        Grouping, default channel (短信/微信/邮件/APP推送) × trigger (购买后/服务后/定期回访).
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        ``[by…], sent, responded, rate, ci_low, ci_high`` — rate and interval in %.

    References
    ----------
    Wilson, E. B. (1927). JASA 22, 209-212.

    Examples
    --------
    >>> inv = pd.DataFrame({"channel": ["短信"] * 4 + ["微信"] * 2, "responded": [1, 0, 0, 0, 1, 1]})
    >>> response_rates(inv, by="channel")[["channel", "sent", "responded", "rate"]]
      channel  sent  responded   rate
    0      微信     2          2  100.0
    1      短信     4          1   25.0
    """
    by = as_by(by)
    need_columns(invitations, by + ["responded"], what="invitations")
    resp = pd.to_numeric(invitations["responded"], errors="coerce").fillna(0).astype(int)
    g = invitations.assign(_r=resp).groupby(by, sort=True, observed=True) if by else \
        invitations.assign(_r=resp).groupby(lambda _: 0)
    out = pd.DataFrame({"sent": g.size(), "responded": g["_r"].sum()})
    out["rate"] = 100.0 * out["responded"] / out["sent"]
    lo, hi = wilson(out["responded"], out["sent"], level=level)
    out["ci_low"], out["ci_high"] = 100.0 * lo, 100.0 * hi
    out = out.reset_index(drop=not by)
    return out[by + ["sent", "responded", "rate", "ci_low", "ci_high"]]


def feedback_summary(invitations: pd.DataFrame, customers: pd.DataFrame, *, by=None,
                     industries=None, customer_types=None) -> pd.DataFrame:
    """The counts of the 客户体验回馈报告 (seed 000 §05.2): invited and participating customers.

    "共邀请 __ 个客户参加本次体验调研,其中 __ 行业的客户 __ 个(大客户 __ 个,普通客户 __ 个)…"

    Parameters
    ----------
    invitations : DataFrame
        ``customer_id, responded`` (+ ``by``).
    customers : DataFrame
        CRM: ``customer_id, industry, customer_type``.
    by : str or sequence, optional
        Extra grouping, e.g. ``"period"`` or ``"branch"``.
    industries, customer_types : sequence, optional
        Output order (``org.industries``, ``org.customer_types``); default sorted.

    Returns
    -------
    DataFrame
        ``[by…], industry, customer_type, invited, participated, participation_rate``: counts of
        distinct customers (a customer invited twice counts once; participated = responded at
        least once); rate in %. ``customer_type = 全部`` rows give each industry's total and
        ``industry = 全部`` rows the grand total. Customers missing from the CRM count under 未知.
    """
    by = as_by(by)
    need_columns(invitations, by + ["customer_id", "responded"], what="invitations")
    need_columns(customers, ["customer_id", "industry", "customer_type"], what="customers")
    inv = invitations.assign(_r=pd.to_numeric(invitations["responded"], errors="coerce").fillna(0))
    per = inv.groupby(by + ["customer_id"], sort=False, observed=True)["_r"].max().reset_index()
    crm = customers[["customer_id", "industry", "customer_type"]].drop_duplicates("customer_id")
    per = per.merge(crm, on="customer_id", how="left")
    per[["industry", "customer_type"]] = per[["industry", "customer_type"]].astype(object).fillna("未知")
    ind_order = list(industries) if industries is not None else sorted(per["industry"].unique())
    ind_order += [i for i in sorted(per["industry"].unique()) if i not in ind_order]
    typ_order = list(customer_types) if customer_types is not None else sorted(per["customer_type"].unique())
    typ_order += [t for t in sorted(per["customer_type"].unique()) if t not in typ_order]

    def rows(sub: pd.DataFrame) -> list[dict]:
        out = []
        for ind in ind_order + [ALL]:
            s_i = sub if ind == ALL else sub[sub["industry"] == ind]
            for typ in typ_order + [ALL]:
                s = s_i if typ == ALL else s_i[s_i["customer_type"] == typ]
                n, k = len(s), int((s["_r"] > 0).sum())
                out.append({"industry": ind, "customer_type": typ, "invited": n, "participated": k,
                            "participation_rate": 100.0 * k / n if n else np.nan})
        return out

    cols = by + ["industry", "customer_type", "invited", "participated", "participation_rate"]
    return pd.DataFrame(_per_group(per, by, rows), columns=cols)


def audit_summary(audits: pd.DataFrame, *, limits, by=("branch", "period")) -> pd.DataFrame:
    """Service-quality audits (神秘顾客 / 质检抽查, seeds 002 and 004) against limits.

    Parameters
    ----------
    audits : DataFrame
        ``ops/audits.csv``: ``score, items_checked, fatal_errors, general_errors`` plus ``by``.
    limits : AuditLimits, AlertRules or mapping
        ``audit_limits`` of ``params/alerts.yaml``: ``fatal_error_rate`` and
        ``general_error_rate`` (maximum %, errors per item checked) and optional ``min_score``.
    by : str or sequence of str
        Grouping, default branch × period.

    Returns
    -------
    DataFrame
        ``[by…], audits, items_checked, mean_score, fatal_errors, general_errors, fatal_rate,
        general_rate, fatal_limit, general_limit, min_score, status``. Rates are
        ``100 × errors / items_checked`` (致命错误率, 一般错误率; seed 002). ``status`` is ``met``
        when both rates are within their limits (≤) and the mean score reaches ``min_score``
        (if set), else ``missed``; ``no_data`` when no items were checked.

    Examples
    --------
    >>> a = pd.DataFrame({"branch": ["SH01", "SH01"], "score": [90, 80], "items_checked": [50, 50],
    ...                   "fatal_errors": [0, 1], "general_errors": [1, 2]})
    >>> audit_summary(a, limits={"fatal_error_rate": 0.5}, by="branch")[
    ...     ["branch", "fatal_rate", "general_rate", "status"]]
      branch  fatal_rate  general_rate  status
    0   SH01         1.0           3.0  missed
    """
    if isinstance(limits, AlertRules):
        limits = limits.audit_limits
    limits = as_model(limits, AuditLimits, what="audit limits")
    by = as_by(by)
    need_columns(audits, by + ["score", "items_checked", "fatal_errors", "general_errors"],
                 what="audits")
    a = audits.copy()
    for c in ("score", "items_checked", "fatal_errors", "general_errors"):
        a[c] = pd.to_numeric(a[c], errors="coerce")
    g = a.groupby(by, sort=True, observed=True) if by else a.groupby(lambda _: 0)
    out = pd.DataFrame({
        "audits": g.size(), "items_checked": g["items_checked"].sum(),
        "mean_score": g["score"].mean(), "fatal_errors": g["fatal_errors"].sum(),
        "general_errors": g["general_errors"].sum(),
    }).reset_index(drop=not by)
    items = out["items_checked"].where(out["items_checked"] > 0)
    out["fatal_rate"] = 100.0 * out["fatal_errors"] / items
    out["general_rate"] = 100.0 * out["general_errors"] / items
    out["fatal_limit"] = limits.fatal_error_rate
    out["general_limit"] = limits.general_error_rate
    out["min_score"] = np.nan if limits.min_score is None else limits.min_score
    tol = 1e-9
    ok = (out["fatal_rate"] <= limits.fatal_error_rate + tol) & \
         (out["general_rate"] <= limits.general_error_rate + tol)
    if limits.min_score is not None:
        ok &= out["mean_score"] >= limits.min_score
    out["status"] = np.where(items.isna(), "no_data", np.where(ok, "met", "missed"))
    return out
