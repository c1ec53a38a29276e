"""Operating KPIs (seed 004 targets) computed from frames, and their status against targets."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from cxlab.ops._common import (
    as_by,
    hours_between,
    need_columns,
    nps_pvalue,
    scale_for,
    to_codes,
    two_prop_pvalue,
)

__all__ = ["compute_kpis", "kpi_status"]

#: Columns of a KPI value frame that are statistics, not group keys.
_STAT_COLS = ("kpi", "value", "n", "k", "promoters", "passives", "detractors", "label", "unit",
              "target", "op")

#: The "share within target" companions of the time KPIs: id -> (time KPI whose target applies, label).
WITHIN_KPIS = {
    "complaint_response_within": ("complaint_response_hours", "投诉响应达标率"),
    "email_reply_within": ("email_reply_hours", "邮件回复达标率"),
    "email_reply_within_urgent": ("email_reply_hours_urgent", "紧急邮件回复达标率"),
    "phone_answer_within": ("phone_answer_seconds", "电话接听达标率"),
}

COMPLAINT = "投诉"
EMAIL = "邮件"
PHONE = "电话"
URGENT = "紧急"
NORMAL = "普通"


def _per_group(data: pd.DataFrame, by: list[str], fn: Callable[[pd.DataFrame], list[dict]]) -> list[dict]:
    rows: list[dict] = []
    if not by:
        for r in fn(data):
            rows.append(r)
        return rows
    for key, sub in data.groupby(by, sort=True, observed=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        for r in fn(sub):
            rows.append(dict(zip(by, key, strict=True)) | r)
    return rows


def _response_rows(frame: pd.DataFrame, by: list[str], csat_top: float = 4) -> list[dict]:
    """The ``nps`` and ``csat`` rows of every group (columns ``_ltr``, ``_csat`` of codes).

    One grouped sum of indicator columns instead of a Python function per group; the rows
    and their order are those :func:`_per_group` gives (sorted groups, missing keys last).
    """
    flags = {}
    if "_ltr" in frame:
        x = frame["_ltr"]
        flags |= {"n": x.notna(), "p": x >= 9, "d": x <= 6}
    if "_csat" in frame:
        x = frame["_csat"]
        flags |= {"cn": x.notna(), "ck": (x >= csat_top) & x.notna()}
    if not flags:
        return []
    ind = pd.DataFrame(flags, index=frame.index).astype(np.int64)
    if by:
        sums = ind.groupby([frame[k] for k in by], sort=True, observed=True, dropna=False).sum()
        keys = [k if isinstance(k, tuple) else (k,) for k in sums.index]
    else:
        sums, keys = ind.sum().to_frame().T, [()]
    rows: list[dict] = []
    for key, r in zip(keys, sums.to_dict("records"), strict=True):
        group = dict(zip(by, key, strict=True))
        if "n" in r:
            n, p, d = int(r["n"]), int(r["p"]), int(r["d"])
            rows.append(group | {"kpi": "nps", "value": 100.0 * (p - d) / n if n else np.nan,
                                 "n": n, "promoters": p, "passives": n - p - d, "detractors": d})
        if "cn" in r:
            n, k = int(r["cn"]), int(r["ck"])
            rows.append(group | {"kpi": "csat", "value": 100.0 * k / n if n else np.nan,
                                 "n": n, "k": k})
    return rows


def _median_row(kpi: str, x: pd.Series) -> dict:
    x = x.dropna()
    return {"kpi": kpi, "value": float(x.median()) if len(x) else np.nan, "n": len(x)}


def _share_row(kpi: str, ok: pd.Series, base: pd.Series) -> dict:
    n = int(base.sum())
    k = int((ok & base).sum())
    return {"kpi": kpi, "value": 100.0 * k / n if n else np.nan, "n": n, "k": k}


def compute_kpis(responses: pd.DataFrame | None, tickets: pd.DataFrame | None,
                 customers: pd.DataFrame | None, *, by=("period", "branch"), targets=None,
                 codebook=None, score: str | None = None,
                 csat: str | None = None) -> pd.DataFrame:
    """Compute the operating KPIs of ``params/targets.yaml`` from survey, ticket and CRM frames.

    Parameters
    ----------
    responses : DataFrame or None
        Canonical responses (``period, branch, ltr, csat`` …; ``customer_id`` for churn by
        period). ``csat`` may hold codes 1-5 or labels (then pass ``codebook``).
    tickets : DataFrame or None
        The ticket log (``ops/tickets.csv``): ``channel, type, priority, created_at,
        first_response_at, answer_seconds, solution_satisfaction`` plus the ``by`` columns.
    customers : DataFrame or None
        CRM customers: ``customer_id, branch, churned``.
    by : str or sequence of str
        Grouping columns. A KPI is computed from a frame only if the frame has every ``by``
        column; for churn, ``period`` is taken from each customer's last survey response.
    targets : Targets, optional
        When given, the "share within target" KPIs are added (their threshold is the target
        of the matching time KPI, e.g. 2 hours for complaints).
    codebook : Codebook, optional
        Maps answer labels to codes when ``csat`` holds labels; its roles give the default
        ``score`` (``nps_item``) and ``csat`` (``csat_item``) columns and its CSAT scale the
        top box (``Scale.top_codes``).
    score, csat : str, optional
        The NPS and CSAT columns; default the codebook's roles, else ``ltr`` and ``csat``.

    Returns
    -------
    DataFrame
        Long: ``[by…], kpi, value, n, k, promoters, passives, detractors``:

        - ``nps`` — % promoters (9-10) − % detractors (0-6), points; counts in
          ``promoters, passives, detractors``.
        - ``csat`` — % of answers in the top box of the CSAT scale (4-5 on 1-5; the
          codebook's ``top_box`` when given) (``k`` of ``n``).
        - ``solution_satisfaction`` — % of surveyed tickets rated 4-5.
        - ``complaint_response_hours`` — **median** hours from ``created_at`` to
          ``first_response_at`` over 投诉 tickets; ``complaint_response_within`` — % of them
          answered within the target (both are reported: the median says what is typical, the
          share says how many customers waited too long).
        - ``email_reply_hours`` / ``email_reply_hours_urgent`` — median first-response hours of
          邮件 tickets, priority 普通 / 紧急, with ``email_reply_within[_urgent]``.
        - ``phone_answer_seconds`` — median ``answer_seconds`` of 电话 tickets, with
          ``phone_answer_within``.
        - ``annual_churn`` — % of customers with ``churned == 1``.

    Notes
    -----
    Medians rather than means for times: ticket times are right-skewed and a few tickets left
    open over a weekend should not move the typical figure; the "within" shares carry the tail.
    """
    by = as_by(by)
    rows: list[dict] = []
    within = {}
    if targets is not None:
        for kid, (time_kpi, _) in WITHIN_KPIS.items():
            try:
                within[kid] = targets.kpi(time_kpi).target
            except KeyError:
                pass

    score = score or (codebook.nps_item if codebook is not None else None) or "ltr"
    csat = csat or (codebook.csat_item if codebook is not None else None) or "csat"
    csat_scale = scale_for(codebook, csat)
    csat_top = csat_scale.top_threshold if csat_scale is not None else None
    csat_top = 4 if csat_top is None else csat_top
    if responses is not None and all(c in responses.columns for c in by):
        ltr_codes = to_codes(responses[score]) if score in responses.columns else None
        csat_codes = (to_codes(responses[csat], scale_for(codebook, csat))
                      if csat in responses.columns else None)
        frame = responses[by].copy()
        if ltr_codes is not None:
            frame["_ltr"] = ltr_codes.to_numpy()
        if csat_codes is not None:
            frame["_csat"] = csat_codes.to_numpy()

        rows += _response_rows(frame, by, csat_top)

    if tickets is not None and all(c in tickets.columns for c in by):
        need_columns(tickets, ["channel", "type", "priority", "created_at", "first_response_at"],
                     what="tickets")
        t = tickets.copy()
        t["_first_h"] = hours_between(t["created_at"], t["first_response_at"])

        def ticket_rows(sub: pd.DataFrame) -> list[dict]:
            out = []
            if "solution_satisfaction" in sub:
                x = pd.to_numeric(sub["solution_satisfaction"], errors="coerce")
                out.append(_share_row("solution_satisfaction", x >= 4, x.notna()))
            comp = sub["type"] == COMPLAINT
            out.append(_median_row("complaint_response_hours", sub.loc[comp, "_first_h"]))
            if "complaint_response_within" in within:
                out.append(_share_row("complaint_response_within",
                                      sub["_first_h"] <= within["complaint_response_within"],
                                      comp & sub["_first_h"].notna()))
            for kid, wid, prio in (("email_reply_hours", "email_reply_within", NORMAL),
                                   ("email_reply_hours_urgent", "email_reply_within_urgent", URGENT)):
                m = (sub["channel"] == EMAIL) & (sub["priority"] == prio)
                out.append(_median_row(kid, sub.loc[m, "_first_h"]))
                if wid in within:
                    out.append(_share_row(wid, sub["_first_h"] <= within[wid],
                                          m & sub["_first_h"].notna()))
            if "answer_seconds" in sub:
                phone = sub["channel"] == PHONE
                secs = pd.to_numeric(sub["answer_seconds"], errors="coerce")
                out.append(_median_row("phone_answer_seconds", secs[phone]))
                if "phone_answer_within" in within:
                    out.append(_share_row("phone_answer_within", secs <= within["phone_answer_within"],
                                          phone & secs.notna()))
            return out

        rows += _per_group(t, by, ticket_rows)

    if customers is not None:
        need_columns(customers, ["customer_id", "churned"], what="customers")
        c = customers.copy()
        if ("period" in by and "period" not in c.columns and responses is not None
                and {"customer_id", "period"} <= set(responses.columns)):
            last = (responses[["customer_id", "period"]].dropna()
                    .sort_values("period").drop_duplicates("customer_id", keep="last"))
            c = c.merge(last, on="customer_id", how="inner")
        if all(col in c.columns for col in by):
            c["_churn"] = pd.to_numeric(c["churned"], errors="coerce")
            rows += _per_group(c, by, lambda s: [_share_row("annual_churn", s["_churn"] == 1,
                                                            s["_churn"].notna())])

    cols = by + ["kpi", "value", "n", "k", "promoters", "passives", "detractors"]
    out = pd.DataFrame(rows, columns=cols)
    for col in ("n", "k", "promoters", "passives", "detractors"):
        out[col] = out[col].astype("Int64")
    out["value"] = out["value"].astype(float)
    return out


def _label_of(kpi: str, targets) -> tuple[str, float, str | None]:
    try:
        k = targets.kpi(kpi)
        return k.label, float(k.target), k.op
    except KeyError:
        pass
    if kpi in WITHIN_KPIS:
        return WITHIN_KPIS[kpi][1], np.nan, None
    return kpi, np.nan, None


def kpi_status(values: pd.DataFrame | Mapping[str, float], *, targets, period_col: str = "period",
               alpha: float = 0.05) -> pd.DataFrame:
    """Compare KPI values with their targets and with the previous period (环比).

    Parameters
    ----------
    values : DataFrame or mapping
        Long frame ``[keys…], kpi, value`` (e.g. from :func:`compute_kpis`, with the count
        columns ``n, k, promoters, passives, detractors`` used for significance) or
        ``{kpi: value}``.
    targets : Targets
        ``params/targets.yaml`` (:func:`cxlab.config.load_targets`).
    period_col : str
        The period column; periods sort chronologically as text (``2025Q4 < 2026Q1``).
    alpha : float
        Significance level for ``significant`` (p < alpha).

    Returns
    -------
    DataFrame
        ``[keys…], kpi, label, value, target, op, status, previous, change, pvalue,
        significant, n``. ``status`` ∈ ``met, missed, no_data`` (value missing) and
        ``no_target`` (a KPI with no target in ``targets``). ``previous`` is the value of the
        same KPI and keys in the preceding period present in ``values``; ``change = value −
        previous``. ``pvalue``: NPS by ``cxlab.metrics.nps_test`` on the category counts;
        shares (CSAT, solution satisfaction, "within" SLA shares, churn) by the two-proportion
        z-test; medians have no test (NaN).

    Examples
    --------
    >>> from cxlab.config import load_targets
    >>> kpi_status({"nps": 42.0, "csat": 80.0}, targets=load_targets())[["kpi", "status"]]
        kpi status
    0   nps    met
    1  csat missed
    """
    if isinstance(values, Mapping):
        values = pd.DataFrame({"kpi": list(values), "value": [float(v) for v in values.values()]})
    need_columns(values, ["kpi", "value"], what="values")
    v = values.copy()
    for col in ("n", "k", "promoters", "passives", "detractors"):
        if col not in v.columns:
            v[col] = pd.NA
    keys = [c for c in v.columns if c not in _STAT_COLS]
    others = [c for c in keys if c != period_col]

    meta = {kid: _label_of(kid, targets) for kid in v["kpi"].unique()}
    v["label"] = v["kpi"].map(lambda x: meta[x][0])
    v["target"] = v["kpi"].map(lambda x: meta[x][1]).astype(float)
    v["op"] = v["kpi"].map(lambda x: meta[x][2])

    def status(row) -> str:
        if pd.isna(row["value"]):
            return "no_data"
        if row["op"] is None or pd.isna(row["target"]):
            return "no_target"
        return "met" if targets.kpi(row["kpi"]).met(float(row["value"])) else "missed"

    v["status"] = v.apply(status, axis=1) if len(v) else pd.Series(dtype=object)

    prev_cols = ["value", "n", "k", "promoters", "passives", "detractors"]
    if period_col in v.columns:
        order = sorted(v[period_col].dropna().unique().tolist())
        prev_of = dict(zip(order[1:], order[:-1], strict=True))
        # object dtype even when no row has a previous period (a single period maps to all-NaN,
        # which pandas would type float and then refuse to merge with the text periods)
        v["_prev_period"] = v[period_col].map(prev_of).astype(object)
        p = v[others + ["kpi", period_col] + prev_cols].astype({period_col: object}).rename(
            columns={period_col: "_prev_period"} | {c: f"_p_{c}" for c in prev_cols})
        v = v.merge(p, on=others + ["kpi", "_prev_period"], how="left", sort=False)
    else:
        for c in prev_cols:
            v[f"_p_{c}"] = np.nan
    v["previous"] = v["_p_value"].astype(float)
    v["change"] = v["value"] - v["previous"]

    def pvalue(row) -> float:
        if pd.isna(row["value"]) or pd.isna(row["previous"]):
            return np.nan
        if row["kpi"] == "nps" and not pd.isna(row["promoters"]) and not pd.isna(row["_p_promoters"]):
            return nps_pvalue((int(row["promoters"]), int(row["passives"]), int(row["detractors"])),
                              (int(row["_p_promoters"]), int(row["_p_passives"]),
                               int(row["_p_detractors"])))
        if not pd.isna(row["k"]) and not pd.isna(row["_p_k"]):
            return two_prop_pvalue(int(row["k"]), int(row["n"]), int(row["_p_k"]), int(row["_p_n"]))
        return np.nan

    v["pvalue"] = v.apply(pvalue, axis=1).astype(float) if len(v) else pd.Series(dtype=float)
    v["significant"] = v["pvalue"] < alpha
    cols = keys + ["kpi", "label", "value", "target", "op", "status", "previous", "change",
                   "pvalue", "significant", "n"]
    return v[cols].reset_index(drop=True)
