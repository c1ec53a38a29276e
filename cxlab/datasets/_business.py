"""CRM and operations tables of the sample data: customers, orders, invitations, tickets, audits,
scorecard actuals. Each function draws from the caller's generator and returns a DataFrame plus
the truth it planted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxlab.datasets._model import PERIOD_END, PERIOD_START, PERIODS

S_PER_DAY = 86400
INVITE_CHANNELS = ["短信", "微信", "邮件", "APP推送"]
INVITE_SHARE = np.array([0.35, 0.30, 0.20, 0.15])
INVITE_RATE = np.array([0.15, 0.30, 0.10, 0.22])          # true response rate per channel
TRIGGERS = ["购买后", "服务后", "定期回访"]
CHURN_P = {"detractor": 0.22, "passive": 0.10, "promoter": 0.04, "none": 0.09}
AB_TOP2 = {"A": 0.84, "B": 0.93}                            # P(solution satisfaction >= 4)
HORIZON = np.datetime64("2026-09-30T23:59:59", "s")


def sec(day: str) -> np.datetime64:
    return np.datetime64(day + "T00:00:00", "s")


def iso(t: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """``YYYY-MM-DD HH:MM:SS`` strings ("" where not valid)."""
    s = np.char.replace(np.datetime_as_string(t.astype("datetime64[s]"), unit="s"), "T", " ")
    if valid is not None:
        s = np.where(valid, s, "")
    return s


def uniform_times(rng: np.random.Generator, periods: np.ndarray) -> np.ndarray:
    """Uniform times (datetime64[s]) inside each row's quarter."""
    start = np.array([sec(PERIOD_START[p]) for p in PERIODS])
    end = np.array([sec(PERIOD_END[p]) for p in PERIODS])
    k = np.searchsorted(np.array(PERIODS), periods)
    span = (end[k] - start[k]).astype(np.int64)
    return start[k] + (rng.random(len(periods)) * span).astype(np.int64).astype("timedelta64[s]")


def customers_and_orders(rng, *, cust: dict, org, resp_cat_last: np.ndarray,
                         last_seen: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """customers.csv and orders.csv; churn and spend depend on the last NPS category.

    ``resp_cat_last``: per customer -1/0/1 for the last survey's NPS category, -9 if never
    surveyed; ``last_seen``: per customer time of the last survey (or last invitation).
    """
    n = len(resp_cat_last)
    big = rng.random(n) < 0.20
    cat_name = np.select([resp_cat_last == -1, resp_cat_last == 0, resp_cat_last == 1],
                         ["detractor", "passive", "promoter"], "none")
    p_churn = np.vectorize(CHURN_P.get)(cat_name)
    churned = rng.random(n) < p_churn
    churn_date = last_seen + (rng.integers(15, 366, n) * S_PER_DAY).astype("timedelta64[s]")
    churn_day = churn_date.astype("datetime64[D]")

    first = sec("2021-01-01") + (rng.random(n) * (sec("2025-09-30") - sec("2021-01-01"))
                                 .astype(np.int64)).astype(np.int64).astype("timedelta64[s]")
    first_day = first.astype("datetime64[D]")
    spend = np.select([cat_name == "promoter", cat_name == "detractor"], [1.3, 0.8], 1.0)
    lam = np.where(big, 7.0, 2.5) * spend
    n_orders = 1 + rng.poisson(lam)
    owner = np.repeat(np.arange(n), n_orders)
    end = np.where(churned, np.minimum(churn_date, HORIZON), HORIZON)
    span = (end - first).astype(np.int64)
    span = np.maximum(span, S_PER_DAY)
    when = first[owner] + (rng.random(len(owner)) * span[owner]).astype(np.int64).astype(
        "timedelta64[s]")
    median = np.where(big, 12000.0, 1500.0) * np.select(
        [cat_name == "promoter", cat_name == "detractor"], [1.25, 0.85], 1.0)
    amount = np.round(median[owner] * np.exp(0.6 * rng.standard_normal(len(owner))), 2)
    order = np.lexsort((owner, when))
    orders = pd.DataFrame({
        "order_id": [f"O{i:08d}" for i in range(1, len(owner) + 1)],
        "customer_id": cust["id"][owner[order]],
        "order_date": np.datetime_as_string(when[order].astype("datetime64[D]")),
        "amount": amount[order],
    })
    total = np.bincount(owner, weights=amount, minlength=n)
    rank = pd.Series(total).rank(pct=True).to_numpy()
    value = np.clip(np.rint(15 + 60 * rank + np.where(big, 20, 0) + rng.normal(0, 4, n)), 0, 100)
    customers = pd.DataFrame({
        "customer_id": cust["id"], "name": cust["name"], "company": cust["company"],
        "phone": cust["phone"], "email": cust["email"], "industry": cust["industry"],
        "customer_type": np.where(big, "大客户", "普通客户"), "branch": cust["branch"],
        "value_score": value.astype(int), "first_order_date": np.datetime_as_string(first_day),
        "churned": churned.astype(int),
        "churn_date": np.where(churned, np.datetime_as_string(churn_day), ""),
    })
    truth = {"annual_churn_population": {k: v for k, v in CHURN_P.items()}}
    sample = {}
    for k in ["detractor", "passive", "promoter", "none"]:
        mask = cat_name == k
        sample[k] = round(100.0 * churned[mask].mean(), 4) if mask.any() else None
    truth["churn_rate_sample_by_nps"] = sample
    truth["churn_rate_sample"] = round(100.0 * churned.mean(), 4)
    truth["spend_multiplier_by_nps"] = {"promoter": 1.3 * 1.25, "passive": 1.0,
                                        "detractor": 0.8 * 0.85}
    return customers, orders, truth


def invitations(rng, *, resp_period, resp_branch, resp_time, resp_ref, resp_cust,
                cust_pool: dict[str, np.ndarray], periods: list[str], branches: list[str]):
    """Every invitation sent; responded ones carry the export's response id."""
    n = len(resp_period)
    p_resp = INVITE_SHARE * INVITE_RATE / (INVITE_SHARE * INVITE_RATE).sum()
    p_none = INVITE_SHARE * (1 - INVITE_RATE) / (INVITE_SHARE * (1 - INVITE_RATE)).sum()
    r_bar = float((INVITE_SHARE * INVITE_RATE).sum())
    ch_r = rng.choice(4, size=n, p=p_resp)
    sent_r = resp_time - (rng.integers(600, 72 * 3600, n)).astype("timedelta64[s]")
    p_start = np.array([sec(PERIOD_START[p]) for p in PERIODS])[
        np.searchsorted(np.array(PERIODS), resp_period)]
    sent_r = np.where(sent_r < p_start, p_start + (resp_time - p_start) // 2, sent_r)
    # non-responders per cell
    nr_period, nr_branch = [], []
    for p in periods:
        for b in branches:
            k = int(np.sum((resp_period == p) & (resp_branch == b)))
            extra = int(round(k / r_bar)) - k
            nr_period.append(np.full(extra, p))
            nr_branch.append(np.full(extra, b))
    nr_period = np.concatenate(nr_period)
    nr_branch = np.concatenate(nr_branch)
    m = len(nr_period)
    ch_n = rng.choice(4, size=m, p=p_none)
    sent_n = uniform_times(rng, nr_period)
    nr_cust = np.empty(m, dtype=object)
    u = rng.random(m)
    for b in branches:
        mask = nr_branch == b
        pool = cust_pool[b]
        nr_cust[mask] = pool[(u[mask] * len(pool)).astype(int)]
    trig = rng.choice(3, size=n + m, p=[0.40, 0.35, 0.25])
    df = pd.DataFrame({
        "customer_id": np.concatenate([resp_cust, nr_cust]).astype(str),
        "branch": np.concatenate([resp_branch, nr_branch]),
        "period": np.concatenate([resp_period, nr_period]),
        "channel": np.array(INVITE_CHANNELS)[np.concatenate([ch_r, ch_n])],
        "trigger": np.array(TRIGGERS)[trig],
        "_t": np.concatenate([sent_r, sent_n]),
        "responded": np.concatenate([np.ones(n, int), np.zeros(m, int)]),
        "response_ref": np.concatenate([resp_ref, np.full(m, "")]),
    })
    df = df.sort_values(["period", "_t", "response_ref"], kind="stable").reset_index(drop=True)
    df.insert(0, "invitation_id", [f"INV{i:07d}" for i in range(1, len(df) + 1)])
    df.insert(6, "sent_at", iso(df.pop("_t").to_numpy()))
    rates = df.groupby("channel")["responded"].mean()
    truth = {
        "response_rate_population": dict(zip(INVITE_CHANNELS, (100 * INVITE_RATE).tolist(), strict=False)),
        "response_rate_sample": {c: round(100.0 * float(rates[c]), 4) for c in INVITE_CHANNELS},
        "n_invitations": int(len(df)),
    }
    dist = np.array(["sms", "anonymous", "email", "anonymous"])[ch_r]
    return df, truth, dist


def tickets(rng, *, sizes: dict, cust_pool: dict[str, np.ndarray], drop: dict):
    """Service tickets with SLA-relevant times, owners, statuses and the script A/B test."""
    rows_p, rows_b = [], []
    for (p, b), k in sizes.items():
        t = max(3, int(round(0.45 * k)))
        rows_p.append(np.full(t, p))
        rows_b.append(np.full(t, b))
    period = np.concatenate(rows_p)
    branch = np.concatenate(rows_b)
    n = len(period)
    u = rng.random(n)
    cust = np.empty(n, dtype=object)
    for b in np.unique(branch):
        mask = branch == b
        pool = cust_pool[str(b)]
        cust[mask] = pool[(u[mask] * len(pool)).astype(int)]
    channel = np.array(["电话", "邮件", "在线客服", "门店"])[rng.choice(4, n, p=[.45, .2, .25, .1])]
    ttype = np.array(["投诉", "咨询", "报修"])[rng.choice(3, n, p=[.25, .45, .30])]
    urgent = rng.random(n) < np.where(ttype == "投诉", 0.30, 0.10)
    created = uniform_times(rng, period)
    # first response delay in seconds, by channel
    ans = np.rint(np.exp(np.log(14) + 0.55 * rng.standard_normal(n))).astype(int)  # phone
    hours = np.select(
        [channel == "邮件", channel == "在线客服", channel == "门店"],
        [np.where(urgent, np.exp(np.log(1.6) + 0.6 * rng.standard_normal(n)),
                  np.exp(np.log(7.0) + 0.8 * rng.standard_normal(n))),
         np.exp(np.log(0.05) + 0.8 * rng.standard_normal(n)),
         np.exp(np.log(0.15) + 0.7 * rng.standard_normal(n))],
        ans / 3600.0)
    complaint = (ttype == "投诉") & (channel != "电话")
    hours = np.where(complaint, np.exp(np.log(0.7) + 0.75 * rng.standard_normal(n)), hours)
    is_gz_drop = (branch == drop["branch"]) & (period == drop["period"])
    hours = np.where(is_gz_drop & (channel != "电话"), hours * 1.8, hours)
    first = created + np.rint(hours * 3600).astype(np.int64).astype("timedelta64[s]")
    resolve_h = np.exp(np.log(np.where(ttype == "咨询", 2.0, 26.0)) + 0.9 * rng.standard_normal(n))
    resolved = first + np.rint(resolve_h * 3600).astype(np.int64).astype("timedelta64[s]")
    closed = resolved + (rng.integers(600, 2 * S_PER_DAY, n)).astype("timedelta64[s]")
    # open tickets: recent ones, plus a few overdue older ones
    recent = (HORIZON - created).astype(np.int64) < 14 * S_PER_DAY
    v = rng.random(n)
    status = np.where(recent & (v < 0.5), "处理中", np.where(recent & (v < 0.7), "待处理", "已关闭"))
    overdue = (~recent) & (rng.random(n) < 0.015)
    status = np.where(overdue, np.where(v < 0.5, "待处理", "处理中"), status)
    status = np.where((status == "已关闭") & (closed > HORIZON), "处理中", status)
    has_first = (status != "待处理") & (first <= HORIZON)
    status = np.where((status != "已关闭") & ~has_first, "待处理", status)
    is_closed = status == "已关闭"
    staff = {b: 3 + int(k) % 6 for b, k in zip(*np.unique(branch, return_counts=True), strict=False)}
    owner_no = rng.integers(0, 100, n)
    owner = np.array([f"{b}-坐席{1 + o % staff[b]:02d}" for b, o in zip(branch.tolist(),
                                                                      owner_no.tolist(), strict=False)])
    variant = np.where(rng.random(n) < 0.5, "A", "B")
    surveyed = is_closed & (rng.random(n) < 0.8)
    p_top = np.where(variant == "B", AB_TOP2["B"], AB_TOP2["A"])
    top = rng.random(n) < p_top
    sat = np.where(top, np.where(rng.random(n) < 0.6, 5, 4), rng.choice([1, 2, 3], n, p=[.2, .3, .5]))
    df = pd.DataFrame({
        "customer_id": cust.astype(str), "branch": branch, "period": period,
        "channel": channel, "type": ttype, "priority": np.where(urgent, "紧急", "普通"),
        "_t": created,
        "created_at": iso(created), "first_response_at": iso(first, has_first),
        "resolved_at": iso(resolved, is_closed), "closed_at": iso(closed, is_closed),
        "owner": owner, "status": status,
        "answer_seconds": np.where((channel == "电话") & has_first, ans.astype(str), ""),
        "solution_satisfaction": np.where(surveyed, sat.astype(str), ""),
        "script_variant": variant,
    })
    df = df.sort_values(["period", "_t"], kind="stable").drop(columns="_t").reset_index(drop=True)
    df.insert(0, "ticket_id", [f"T{i:07d}" for i in range(1, len(df) + 1)])
    s = df[df["solution_satisfaction"] != ""]
    top2 = s.groupby("script_variant")["solution_satisfaction"].apply(
        lambda x: 100.0 * (x.astype(int) >= 4).mean())
    ab = {"metric": "solution_satisfaction top-2 box (4-5), %", "population": {
        k: 100 * v for k, v in AB_TOP2.items()},
        "effect_population": round(100 * (AB_TOP2["B"] - AB_TOP2["A"]), 4),
        "sample": {k: round(float(top2[k]), 4) for k in ["A", "B"]},
        "n": {k: int((s["script_variant"] == k).sum()) for k in ["A", "B"]}, "better": "B"}
    phone = df[(df["channel"] == "电话") & (df["answer_seconds"] != "")]
    sla = {"phone_answer_over_30s_pct": round(
        100.0 * float((phone["answer_seconds"].astype(int) > 30).mean()), 4)}
    return df, {"ab_test": ab, "sla": sla, "n_tickets": int(len(df))}


def audits(rng, *, periods: list[str], branches: list[str], drop: dict) -> pd.DataFrame:
    rows = []
    for p in periods:
        for b in branches:
            for kind, k in (("神秘顾客", 2), ("质检抽查", 3)):
                rows += [(p, b, kind)] * k
    df = pd.DataFrame(rows, columns=["period", "branch", "audit_type"])
    n = len(df)
    items = np.where(df["audit_type"] == "神秘顾客", rng.integers(20, 31, n), rng.integers(40, 81, n))
    bad = ((df["branch"] == drop["branch"]) & (df["period"] == drop["period"])).to_numpy()
    fatal = rng.poisson(np.where(bad, 1.2, 0.25))
    general = rng.poisson(items * np.where(bad, 0.09, 0.04))
    score = np.clip(np.rint(100 - 15 * fatal - 100 * general / items * 0.8
                            + rng.normal(0, 2, n)), 0, 100).astype(int)
    date = uniform_times(rng, df["period"].to_numpy()).astype("datetime64[D]")
    df["audit_date"] = np.datetime_as_string(date)
    df["score"] = score
    df["items_checked"] = items
    df["fatal_errors"] = fatal
    df["general_errors"] = general
    df = df.sort_values(["period", "audit_date", "branch"], kind="stable").reset_index(drop=True)
    df.insert(0, "audit_id", [f"A{i:05d}" for i in range(1, n + 1)])
    return df[["audit_id", "branch", "period", "audit_type", "audit_date", "score",
               "items_checked", "fatal_errors", "general_errors"]]


def scorecard_actuals(rng, *, periods: list[str], csat_by_period: dict[str, float],
                      response_rate_by_period: dict[str, float]) -> pd.DataFrame:
    rows = []
    for p in periods:
        due = int(rng.integers(10, 15))
        total = int(rng.integers(14, 19))
        budget_total = 20
        vals = {
            "plan_due": due, "plan_done": due - int(rng.integers(0, 3)),
            "plans_total": total, "plans_executed": total - int(rng.integers(0, 4)),
            "improvement_rate": round(float(rng.uniform(72, 96)), 1),
            "satisfaction_rate": round(csat_by_period[p], 1),
            "credit_survey_rate": round(float(rng.uniform(80, 100)), 1),
            "feedback_rate": round(response_rate_by_period[p], 1),
            "budgeted_items": budget_total - int(rng.integers(0, 3)),
            "budget_items_total": budget_total,
            "unit_cost": round(float(rng.uniform(38, 62)), 1),
            "training_rate": round(float(rng.uniform(80, 100)), 1),
            "staff_pass_rate": round(float(rng.uniform(85, 98)), 1),
        }
        rows += [(p, k, v) for k, v in vals.items()]
    return pd.DataFrame(rows, columns=["period", "measure", "value"], dtype=object)
