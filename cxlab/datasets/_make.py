"""``make_sample_data``: write the sample raw exports, CRM and ops tables and the planted truth."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.config import load_codebook, load_org
from cxlab.datasets import _business as biz
from cxlab.datasets import _pii
from cxlab.datasets._comments import SENTIMENTS, THEMES, plant_comments
from cxlab.datasets._model import (
    DEFAULT_RESPONSES,
    DROP,
    KANO_MIX,
    KANO_TRUE,
    PERIODS,
    cell_sizes,
    simulate,
)
from cxlab.errors import CxlabError

__all__ = ["SampleSummary", "make_sample_data", "XLSX_MAX_RESPONSES", "WJX_SHARE"]

WJX_SHARE = 0.70
XLSX_MAX_RESPONSES = 50_000           # above this total, wjx exports are written as CSV
PREVIEW_PER_FILE = 2
FIXED_TIME = datetime(2026, 10, 8, 9, 0, 0)   # xlsx document properties (no wall clock)
SKIP = "(跳过)"
COORD = {"SH01": (31.23, 121.47), "HZ01": (30.27, 120.15), "NJ01": (32.06, 118.80),
         "SU01": (31.30, 120.59), "GZ01": (23.13, 113.26), "SZ01": (22.54, 114.06),
         "XM01": (24.48, 118.09), "BJ01": (39.90, 116.41), "TJ01": (39.08, 117.20),
         "JN01": (36.65, 117.12)}
# Planted bad rows: (file kind, period, reason); see docs/sample-data.md.
BAD_PLAN = [
    ("wjx", "2025Q4", "invalid_label"), ("wjx", "2026Q1", "invalid_label"),
    ("wjx", "2026Q2", "invalid_label"), ("wjx", "2026Q1", "duplicate_id"),
    ("wjx", "2026Q3", "duplicate_id"), ("qualtrics", "2025Q4", "out_of_range"),
    ("qualtrics", "2026Q2", "out_of_range"), ("qualtrics", "2026Q3", "out_of_range"),
    ("qualtrics", "2026Q1", "out_of_range"), ("qualtrics", "2025Q4", "duplicate_id"),
    ("qualtrics", "2026Q3", "duplicate_id"),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SampleSummary:
    """What ``make_sample_data`` wrote."""

    out: Path                 # output folder
    files: tuple[str, ...]    # written files, relative to ``out``
    responses: int            # valid survey responses (what ingest should accept)
    rows: int                 # survey data rows written (valid + bad, without preview rows)
    bad_rows: int             # planted rows that ingest must quarantine
    preview_rows: int         # Qualtrics preview rows (dropped on read, not bad rows)
    seed: int

    def __str__(self) -> str:
        return (f"sample data (seed {self.seed}) -> {self.out}: {len(self.files)} files, "
                f"{self.responses} valid responses + {self.bad_rows} bad rows to quarantine "
                f"({self.rows} survey rows, {self.preview_rows} Qualtrics preview rows)")

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"file": list(self.files)})

    def _repr_html_(self) -> str:
        return f"<p>{self}</p>"


def _check_sample_params(cb, og, *, codebook, org) -> None:
    """The generator simulates cxlab's sample questionnaire and organisation: another codebook
    (e.g. the starter of `cxlab init`) is a one-line error, not a KeyError deep inside."""
    from cxlab.datasets._model import RAW_WEIGHTS

    missing = [i for i in ("ltr", "csat", "ces", "comment", *RAW_WEIGHTS) if i not in cb.by_id]
    if missing:
        raise CxlabError(
            f"{codebook}: the sample data is simulated for cxlab's sample questionnaire "
            f"(docs/sample-data.md), and this codebook lacks its items {', '.join(missing[:4])}"
            f"{'…' if len(missing) > 4 else ''}; give the sample's --codebook and --org")
    if DROP["branch"] not in og.branch_codes:
        raise CxlabError(f"{org}: the sample data is simulated for cxlab's sample organisation "
                         f"(branch {DROP['branch']} is missing); give the sample's --org")


def _nps(scores: np.ndarray) -> float:
    if len(scores) == 0:
        return float("nan")
    return 100.0 * (np.mean(scores >= 9) - np.mean(scores <= 6))


def _r(x: float, nd: int = 4) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), nd)


def _wjx_time(t: np.ndarray) -> np.ndarray:
    """``2026/7/3 14:05:09`` (no zero padding of month and day, as 问卷星 writes it)."""
    s = np.datetime_as_string(t.astype("datetime64[s]"), unit="s")
    y = np.char.add(np.char.ljust(s, 4).astype("<U4"), "/")
    d = pd.Series(s)
    month = d.str.slice(5, 7).astype(int).astype(str).to_numpy()
    day = d.str.slice(8, 10).astype(int).astype(str).to_numpy()
    hms = d.str.slice(11, 19).to_numpy().astype(str)
    return np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(y, month), "/"), day),
                                   " "), hms)


def _codes_str(a: np.ndarray) -> np.ndarray:
    return np.where(a == 0, "", a.astype(str))


def _response_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    alphabet = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))
    while True:
        chars = alphabet[rng.integers(0, len(alphabet), (n, 15))]
        ids = np.char.add("R_", chars.view("<U15").ravel() if chars.size else np.array([], str))
        if len(np.unique(ids)) == n:
            return ids


def make_sample_data(out: str | Path, *, seed: int = 0, responses: int | None = None,
                     codebook: str | Path = "params/codebook.yaml",
                     org: str | Path = "params/org.yaml") -> SampleSummary:
    """Write the sample raw exports, CRM and ops tables and ``truth.json`` into ``out``.

    Parameters
    ----------
    out : folder to write (created); existing files of the same names are overwritten.
    seed : seed of ``numpy.random.default_rng``; same seed and arguments give identical bytes.
    responses : total survey responses over the four periods (default 3,200). Above
        ``XLSX_MAX_RESPONSES`` the 问卷星 exports are written as ``wjx_<period>.csv``.
    codebook, org : parameter files (``cxlab.config``).

    Returns
    -------
    SampleSummary
        Files written, valid responses, bad rows; ``str()`` is a one-line summary.

    Notes
    -----
    The files, their columns and the planted truth are specified in ``docs/sample-data.md``.
    """
    n_total = DEFAULT_RESPONSES if responses is None else int(responses)
    if n_total < 400:
        raise CxlabError(f"responses must be at least 400 (got {n_total})")
    cb = load_codebook(codebook)
    og = load_org(org)
    _check_sample_params(cb, og, codebook=codebook, org=org)
    out = Path(out)
    branches = og.branch_codes
    branch_name = {b.code: b.name for b in og.branches}
    verbal = cb.attribute_items
    features = [k.feature for k in cb.kano]
    rng = np.random.default_rng(seed)

    sizes = cell_sizes(n_total, branches)
    sim = simulate(rng, sizes=sizes, items=verbal, kano_features=features)
    n = sim["n"]
    period, branch = sim["period"], sim["branch"]
    ltr = sim["ltr"]
    nps_cat = np.where(ltr >= 9, 1, np.where(ltr <= 6, -1, 0))

    # ---- customers: a pool per branch; a customer answers at most once a period --------------
    pools: dict[str, np.ndarray] = {}
    cust_branch, start = [], 1
    resp_cust = np.empty(n, dtype=object)
    for b in branches:
        size = 3 * max(sizes[(p, b)] for p in PERIODS) + 5
        ids = np.array([f"C{i:06d}" for i in range(start, start + size)])
        pools[b] = ids
        cust_branch.append(np.full(size, b))
        start += size
        for p in PERIODS:
            mask = np.flatnonzero((period == p) & (branch == b))
            resp_cust[mask] = ids[rng.choice(size, size=len(mask), replace=False)]
    cust_ids = np.concatenate(list(pools.values()))
    cust_branch = np.concatenate(cust_branch)
    m = len(cust_ids)
    sur, given = _pii.names(rng, m)
    industry = np.array(og.industries)[rng.integers(0, len(og.industries), m)]
    city = np.array([_pii.city_of(str(b)) for b in cust_branch])
    cust = {"id": cust_ids, "branch": cust_branch, "surname": sur, "given": given,
            "name": np.char.add(sur, given), "company": _pii.companies(rng, city, industry),
            "phone": _pii.mobiles(rng, m), "email": _pii.emails(rng, m), "industry": industry}
    cidx = np.searchsorted(cust_ids, resp_cust.astype(str))

    # ---- survey metadata ------------------------------------------------------------------
    t_end = biz.uniform_times(rng, period)
    duration = np.clip(np.rint(np.exp(np.log(240) + 0.5 * rng.standard_normal(n))), 45, 3600
                       ).astype(np.int64)
    source = np.where(rng.random(n) < WJX_SHARE, "wjx", "qualtrics")
    ip, place = _pii.ips(rng, branch)
    wjx_src = np.array(["手机提交", "微信", "链接"])[rng.choice(3, n, p=[0.45, 0.4, 0.15])]
    contact = np.where(rng.random(n) < 0.8, cust["phone"][cidx], cust["email"][cidx])
    price_gap = sim["price_direct"] - sim["price_expected"]
    price_gap = np.where(sim["price_direct"] == 0, 0, price_gap)
    items_codes = {v: sim["codes"][:, j] for j, v in enumerate(verbal)}
    com = plant_comments(rng, items_codes, nps_cat, price_gap, cust["name"][rng.integers(0, m, n)],
                         _pii.mobiles(rng, n), _pii.emails(rng, n))

    # file order (time order within each file) and response ids
    order = np.lexsort((np.arange(n), t_end, source, period))
    seq = np.zeros(n, dtype=np.int64)
    ref = np.empty(n, dtype=object)
    rid = _response_ids(rng, n)
    for p in PERIODS:
        for s in ("wjx", "qualtrics"):
            rows = order[(period[order] == p) & (source[order] == s)]
            seq[rows] = np.arange(1, len(rows) + 1)
    ref = np.where(source == "wjx", np.char.add(np.char.add(np.char.add("wjx-", period), "-"),
                                                seq.astype(str)), rid)

    inv, inv_truth, dist = biz.invitations(
        rng, resp_period=period, resp_branch=branch, resp_time=t_end - duration.astype(
            "timedelta64[s]"), resp_ref=ref.astype(str), resp_cust=resp_cust.astype(str),
        cust_pool=pools, periods=PERIODS, branches=branches)

    # ---- build the export frames -------------------------------------------------------------
    verbal_scale = cb.scales[cb.item(verbal[0]).scale]
    vlab = np.array([SKIP] + [verbal_scale.codes[c] for c in range(1, 6)], dtype=object)
    csat_lab = np.array([SKIP] + [cb.scale_of("csat").codes[c] for c in range(1, 6)], dtype=object)
    ces_lab = np.array([SKIP] + [cb.scale_of("ces").codes[c] for c in range(1, 8)], dtype=object)
    kano_lab = np.array([SKIP] + [cb.scale_of(cb.kano[0].functional).codes[c] for c in range(1, 6)],
                        dtype=object)
    price_lab = np.array([SKIP] + [cb.scale_of("price_direct").codes[c] for c in range(1, 6)],
                         dtype=object)
    options = cb.scale_of("purchase_channel").options
    chan = sim["channel"]
    wjx_chan = np.full(n, "", dtype=object)
    q_chan = np.full(n, "", dtype=object)
    for j, opt in enumerate(options):
        lab = np.where(chan[:, j], opt if opt != "其他" else "其他〖" + sim["other_text"] + "〗", "")
        sep = np.where((wjx_chan != "") & chan[:, j], "┋", "")
        wjx_chan = wjx_chan + sep + lab
        qsep = np.where((q_chan != "") & chan[:, j], ",", "")
        q_chan = q_chan + qsep + np.where(chan[:, j], str(j + 1), "")
    q_other = np.where(chan[:, -1], sim["other_text"], "")

    labels = cb.labels()
    questions: list[tuple[str, np.ndarray]] = [
        ("您的客户编号", resp_cust.astype(object)),
        ("您办理业务的分公司", np.array([branch_name[str(b)] for b in branch], dtype=object)),
    ]
    kano_cols = {}
    for j, k in enumerate(cb.kano):
        kano_cols[k.functional] = sim["kano_f"][:, j]
        kano_cols[k.dysfunctional] = sim["kano_d"][:, j]
    for it in cb.items:
        i = it.id
        if i == "respondent_name":
            col = cust["name"][cidx].astype(object)
        elif i == "respondent_company":
            col = cust["company"][cidx].astype(object)
        elif i == "respondent_contact":
            col = contact.astype(object)
        elif i in ("product", "product_model", "experience_channel"):
            col = sim[i].astype(object)
        elif i in items_codes:
            col = vlab[items_codes[i]]
        elif i == "ltr":
            col = ltr.astype(object)
        elif i == "csat":
            col = csat_lab[sim["csat"]]
        elif i == "ces":
            col = ces_lab[sim["ces"]]
        elif i == "comment":
            col = com["comment"]
        elif i in ("price_direct", "price_expected"):
            col = price_lab[sim[i]]
        elif i == "purchase_channel":
            col = np.where(chan.any(axis=1), wjx_chan, SKIP).astype(object)
        elif i in kano_cols:
            col = kano_lab[kano_cols[i]]
        else:
            continue
        questions.append((labels[i], col))
    wjx_head = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
    for q, (lab, _) in enumerate(questions, start=1):
        wjx_head.append(f"{q}、{lab}" + (" " if q % 5 == 3 else ""))
    wjx_all = pd.DataFrame(dict(zip(wjx_head, [
        seq, _wjx_time(t_end), np.char.add(duration.astype(str), "秒"), wjx_src,
        np.where(wjx_src == "链接", "直接访问", np.where(wjx_src == "微信", "微信", "N/A")),
        np.char.add(np.char.add(np.char.add(ip, "("), place), ")"),
    ] + [c for _, c in questions], strict=False)))

    q_meta = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
              "Finished", "RecordedDate", "ResponseId", "RecipientLastName",
              "RecipientFirstName", "RecipientEmail", "ExternalReference", "LocationLatitude",
              "LocationLongitude", "DistributionChannel", "UserLanguage"]
    q_text = ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
              "Duration (in seconds)", "Finished", "Recorded Date", "Response ID",
              "Recipient Last Name", "Recipient First Name", "Recipient Email",
              "External Data Reference", "Location Latitude", "Location Longitude",
              "Distribution Channel", "User Language"]
    q_imp = ['{"ImportId":"startDate","timeZone":"Asia/Shanghai"}',
             '{"ImportId":"endDate","timeZone":"Asia/Shanghai"}', '{"ImportId":"status"}',
             '{"ImportId":"ipAddress"}', '{"ImportId":"progress"}', '{"ImportId":"duration"}',
             '{"ImportId":"finished"}', '{"ImportId":"recordedDate","timeZone":"Asia/Shanghai"}',
             '{"ImportId":"_recordId"}', '{"ImportId":"recipientLastName"}',
             '{"ImportId":"recipientFirstName"}', '{"ImportId":"recipientEmail"}',
             '{"ImportId":"externalDataReference"}', '{"ImportId":"locationLatitude"}',
             '{"ImportId":"locationLongitude"}', '{"ImportId":"distributionChannel"}',
             '{"ImportId":"userLanguage"}']
    lat = np.array([COORD.get(str(b), (31.2, 121.5))[0] for b in branch])
    lon = np.array([COORD.get(str(b), (31.2, 121.5))[1] for b in branch])
    start_t = t_end - duration.astype("timedelta64[s]")
    qcols: dict[str, np.ndarray] = {
        "StartDate": biz.iso(start_t), "EndDate": biz.iso(t_end), "Status": np.full(n, "0"),
        "IPAddress": ip, "Progress": np.full(n, "100"),
        "Duration (in seconds)": duration.astype(str), "Finished": np.full(n, "1"),
        "RecordedDate": biz.iso(t_end), "ResponseId": rid,
        "RecipientLastName": cust["surname"][cidx], "RecipientFirstName": cust["given"][cidx],
        "RecipientEmail": cust["email"][cidx], "ExternalReference": resp_cust.astype(str),
        "LocationLatitude": np.char.mod("%.4f", lat + rng.normal(0, 0.05, n)),
        "LocationLongitude": np.char.mod("%.4f", lon + rng.normal(0, 0.05, n)),
        "DistributionChannel": dist, "UserLanguage": np.full(n, "ZH-S"),
    }
    q_names, q_texts, q_imps = list(q_meta), list(q_text), list(q_imp)

    def add(name: str, text: str, qid: str, values: np.ndarray) -> None:
        q_names.append(name)
        q_texts.append(text)
        q_imps.append(f'{{"ImportId":"{qid}"}}')
        qcols[name] = values

    add("Q1", labels["ltr"], "QID1", ltr.astype(str))
    add("Q1_NPS_GROUP", labels["ltr"] + " - Group", "QID1_NPS_GROUP", (nps_cat + 2).astype(str))
    add("Q2", labels["csat"], "QID2", _codes_str(sim["csat"]))
    add("Q3", labels["ces"], "QID3", _codes_str(sim["ces"]))
    for j, v in enumerate(verbal, start=1):
        add(f"Q4_{j}", f"请评价以下方面 - {labels[v]}", f"QID4_{j}", _codes_str(items_codes[v]))
    kano_items = [c for k in cb.kano for c in (k.functional, k.dysfunctional)]
    for j, v in enumerate(kano_items, start=1):
        add(f"Q5_{j}", labels[v], f"QID5_{j}", _codes_str(kano_cols[v]))
    add("Q6", labels["price_direct"], "QID6", _codes_str(sim["price_direct"]))
    add("Q7", labels["price_expected"], "QID7", _codes_str(sim["price_expected"]))
    add("Q8", labels["purchase_channel"] + " - Selected Choice", "QID8", q_chan)
    add("Q8_5_TEXT", labels["purchase_channel"] + " - 其他 - Text", "QID8_5_TEXT", q_other)
    add("Q9", labels["comment"], "QID9", com["comment"].astype(str))
    q_names.append("branch")
    q_texts.append("branch")
    q_imps.append('{"ImportId":"branch"}')
    qcols["branch"] = branch.astype(str)
    q_all = pd.DataFrame({k: qcols[k] for k in q_names})

    # ---- plant bad rows, write the survey files -----------------------------------------------
    valid = np.ones(n, dtype=bool)
    bad_list: list[dict] = []
    files: list[str] = []
    big = n_total > XLSX_MAX_RESPONSES
    (out / "survey").mkdir(parents=True, exist_ok=True)
    n_rows = 0
    n_preview = 0
    alt = np.array(["很好", "非常好", "满意"], dtype=object)
    for p in PERIODS:
        for s in ("wjx", "qualtrics"):
            rows = order[(period[order] == p) & (source[order] == s)]
            frame = (wjx_all if s == "wjx" else q_all).iloc[rows].reset_index(drop=True)
            frame = frame.astype(object) if s == "wjx" else frame
            plan = [r for k, pp, r in BAD_PLAN if k == s and pp == p]
            fname = (f"survey/wjx_{p}.{'csv' if big else 'xlsx'}" if s == "wjx"
                     else f"survey/qualtrics_{p}.csv")
            chosen = rng.choice(len(rows), size=min(len(plan), len(rows)), replace=False)
            dups: list[tuple[int, pd.Series]] = []
            for reason, pos in zip(plan, chosen.tolist(), strict=False):
                g = rows[pos]
                entry = {"file": fname, "reason": reason, "row": None, "id": None}
                if reason == "invalid_label":
                    col = wjx_head[6 + 8 + int(rng.integers(0, len(verbal)))]
                    frame.at[pos, col] = alt[int(rng.integers(0, len(alt)))]
                    entry.update(id=str(frame.at[pos, "序号"]), column=col,
                                 value=frame.at[pos, col])
                    valid[g] = False
                elif reason == "out_of_range" and s == "qualtrics":
                    if len([e for e in bad_list if e["reason"] == "out_of_range"]) == 3:
                        col = f"Q4_{int(rng.integers(1, len(verbal) + 1))}"
                        frame.at[pos, col] = "6"
                    else:
                        col = "Q1"
                        frame.at[pos, "Q1"] = str(int(rng.integers(11, 13)))
                        frame.at[pos, "Q1_NPS_GROUP"] = ""
                    entry.update(id=str(frame.at[pos, "ResponseId"]), column=col,
                                 value=frame.at[pos, col])
                    valid[g] = False
                elif reason == "duplicate_id":
                    dup = frame.iloc[pos].copy()
                    new_ltr = (int(ltr[g]) + 4) % 11
                    extra = int(rng.integers(40, 900))
                    if s == "wjx":
                        dup[wjx_head[6 + 8 + len(verbal)]] = new_ltr
                        dup["提交答卷时间"] = _wjx_time(np.array([t_end[g] + np.timedelta64(
                            extra, "s")]))[0]
                        entry["id"] = str(frame.at[pos, "序号"])
                    else:
                        dup["Q1"] = str(new_ltr)
                        dup["Q1_NPS_GROUP"] = str(1 if new_ltr <= 6 else 2 if new_ltr <= 8 else 3)
                        dup["EndDate"] = dup["RecordedDate"] = biz.iso(np.array(
                            [t_end[g] + np.timedelta64(extra, "s")]))[0]
                        entry["id"] = str(frame.at[pos, "ResponseId"])
                    entry.update(column="序号" if s == "wjx" else "ResponseId",
                                 value=entry["id"])
                    dups.append((pos, dup))
                bad_list.append(entry)
            # a duplicate goes right after its original (wjx) or at the end (Qualtrics)
            parts, last = [], 0
            insert_at = {pos: d for pos, d in dups} if s == "wjx" else {}
            for pos in sorted(insert_at):
                parts.append(frame.iloc[last:pos + 1])
                parts.append(insert_at[pos].to_frame().T)
                last = pos + 1
            parts.append(frame.iloc[last:])
            if s == "qualtrics":
                parts += [d.to_frame().T for _, d in dups]
            frame = pd.concat(parts, ignore_index=True)
            for e in bad_list:
                if e["file"] == fname and e["row"] is None:
                    key = "序号" if s == "wjx" else "ResponseId"
                    hits = np.flatnonzero(frame[key].astype(str).to_numpy() == e["id"])
                    e["row"] = int(hits[-1] if e["reason"] == "duplicate_id" else hits[0]) + 1
            n_rows += len(frame)
            if s == "qualtrics":
                prev = q_all.iloc[rows[:PREVIEW_PER_FILE]].copy()
                prev["Status"] = "1"
                prev["IPAddress"] = ""
                prev["ResponseId"] = _response_ids(rng, PREVIEW_PER_FILE + 1)[1:]
                for c in ("RecipientLastName", "RecipientFirstName", "RecipientEmail",
                          "ExternalReference", "LocationLatitude", "LocationLongitude"):
                    prev[c] = ""
                prev["DistributionChannel"] = "preview"
                prev["Q9"] = "测试预览"
                prev["StartDate"] = biz.iso(np.array([biz.sec(biz_start(p))] * len(prev)))
                prev["EndDate"] = prev["RecordedDate"] = prev["StartDate"]
                n_preview += len(prev)
                head = pd.DataFrame([q_texts, q_imps], columns=q_names)
                for e in bad_list:
                    if e["file"] == fname:
                        e["row"] += len(prev)
                frame = pd.concat([head, prev, frame], ignore_index=True)
                frame.to_csv(out / fname, index=False, encoding="utf-8-sig", lineterminator="\n")
            elif big:
                frame.to_csv(out / fname, index=False, encoding="utf-8-sig", lineterminator="\n")
            else:
                _write_xlsx(out / fname, frame)
            files.append(fname)

    # ---- comments truth ---------------------------------------------------------------------
    has = com["comment"] != ""
    tc = pd.DataFrame({"response_ref": ref[order][has[order]].astype(str),
                       "theme": com["theme"][order][has[order]],
                       "sentiment": com["sentiment"][order][has[order]],
                       "pii": com["pii"][order][has[order]].astype(int)})
    tc.to_csv(out / "truth_comments.csv", index=False, lineterminator="\n")

    # ---- CRM -------------------------------------------------------------------------------
    last_cat = np.full(m, -9)
    last_seen = np.full(m, biz.HORIZON)
    by_time = np.argsort(t_end, kind="stable")
    last_cat[cidx[by_time]] = nps_cat[by_time]          # later assignments win
    last_seen[cidx[by_time]] = t_end[by_time]
    customers, orders, crm_truth = biz.customers_and_orders(
        rng, cust=cust, org=og, resp_cat_last=last_cat, last_seen=last_seen)
    (out / "crm").mkdir(parents=True, exist_ok=True)
    customers.to_csv(out / "crm/customers.csv", index=False, lineterminator="\n")
    orders.to_csv(out / "crm/orders.csv", index=False, lineterminator="\n")
    files += ["crm/customers.csv", "crm/orders.csv"]

    # ---- ops ---------------------------------------------------------------------------------
    (out / "ops").mkdir(parents=True, exist_ok=True)
    inv.to_csv(out / "ops/invitations.csv", index=False, lineterminator="\n")
    tk, tk_truth = biz.tickets(rng, sizes=sizes, cust_pool=pools, drop=DROP)
    tk.to_csv(out / "ops/tickets.csv", index=False, lineterminator="\n")
    au = biz.audits(rng, periods=PERIODS, branches=branches, drop=DROP)
    au.to_csv(out / "ops/audits.csv", index=False, lineterminator="\n")
    csat_valid = (sim["csat"] > 0) & valid
    csat_p = {p: 100.0 * float(np.mean(sim["csat"][csat_valid & (period == p)] >= 4))
              for p in PERIODS}
    rr_p = inv.groupby("period")["responded"].mean().mul(100).to_dict()
    sc = biz.scorecard_actuals(rng, periods=PERIODS, csat_by_period=csat_p,
                               response_rate_by_period=rr_p)
    sc.to_csv(out / "ops/scorecard_actuals.csv", index=False, lineterminator="\n")
    files += ["ops/invitations.csv", "ops/tickets.csv", "ops/audits.csv",
              "ops/scorecard_actuals.csv"]

    # ---- truth ----------------------------------------------------------------------------------
    nps_sample = {p: {b: _r(_nps(ltr[valid & (period == p) & (branch == b)])) for b in branches}
                  for p in PERIODS}
    n_sample = {p: {b: int(np.sum(valid & (period == p) & (branch == b))) for b in branches}
                for p in PERIODS}
    w = sim["truth"]["weights"]
    d_b, d_p, d_q = DROP["branch"], DROP["period"], DROP["previous_period"]
    x1 = ltr[valid & (period == d_q) & (branch == d_b)]
    x2 = ltr[valid & (period == d_p) & (branch == d_b)]
    pval = _nps_pvalue(x1, x2)
    written = com["theme"] != ""
    reasons = [e["reason"] for e in bad_list]
    bad_rows = {"total": len(bad_list), "out_of_range": reasons.count("out_of_range"),
                "invalid_label": reasons.count("invalid_label"),
                "duplicate_id": reasons.count("duplicate_id"),
                "rows": sorted(bad_list, key=lambda e: (e["file"], e["row"]))}
    truth = {
        "seed": seed, "periods": PERIODS, "branches": branches,
        "n_responses": int(valid.sum()), "n_rows": n_rows, "preview_rows": n_preview,
        "n_by_cell": n_sample,
        "nps_population": sim["truth"]["nps_population"], "nps_sample": nps_sample,
        "csat_sample": {p: _r(v) for p, v in csat_p.items()},
        "driver_weights": {k: _r(v, 6) for k, v in w.items()},
        "driver_order": sorted(w, key=lambda k: (-w[k], k)),
        "driver_r2_latent": _r(sim["truth"]["r2"], 6),
        "kano": {f: KANO_TRUE[f] for f in features},
        "kano_mix": {f: KANO_MIX[f] for f in features},
        "nps_drop": {"branch": d_b, "period": d_p, "previous_period": d_q,
                     "nps_before": sim["truth"]["nps_population"][d_q][d_b],
                     "nps_after": sim["truth"]["nps_population"][d_p][d_b],
                     "sample_before": _r(_nps(x1)), "sample_after": _r(_nps(x2)),
                     "n_before": int(len(x1)), "n_after": int(len(x2)),
                     "pvalue_sample": _r(pval, 8),
                     "item_shift": DROP["shift"]},
        "bad_rows": bad_rows,
        "themes": {t: _r(float(np.mean(com["theme"][written] == t))) for t in THEMES},
        "sentiment": {s: _r(float(np.mean(com["sentiment"][written] == s))) for s in SENTIMENTS},
        "comments": {"written": int(written.sum()), "empty": int((~written).sum()),
                     "pii": int(com["pii"].sum()), "markup": int(com["markup"].sum())},
        "price": {"mean_direct": _r(sim["price_direct"][sim["price_direct"] > 0].mean()),
                  "mean_expected": _r(sim["price_expected"][sim["price_expected"] > 0].mean()),
                  "share_direct_above_expected": _r(float(np.mean(
                      price_gap[sim["price_direct"] > 0] > 0)))},
        "invitations": inv_truth, "churn": crm_truth, **tk_truth,
        "files": sorted(files + ["truth.json", "truth_comments.csv"]),
    }
    (out / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    files += ["truth.json", "truth_comments.csv"]
    return SampleSummary(out=out, files=tuple(sorted(files)), responses=int(valid.sum()),
                         rows=n_rows, bad_rows=len(bad_list), preview_rows=n_preview, seed=seed)


def biz_start(p: str) -> str:
    from cxlab.datasets._model import PERIOD_START

    return PERIOD_START[p]


def _nps_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p-value of the NPS difference of two independent samples (Wald)."""
    def mv(x):
        pr, de = np.mean(x >= 9), np.mean(x <= 6)
        return pr - de, (pr + de - (pr - de) ** 2) / len(x)
    n1, v1 = mv(a)
    n2, v2 = mv(b)
    z = (n2 - n1) / math.sqrt(v1 + v2)
    return math.erfc(abs(z) / math.sqrt(2))


def _write_xlsx(path: Path, frame: pd.DataFrame, *, title: str = "问卷星数据导出",
                author: str = "问卷星") -> None:
    import xlsxwriter

    opts = {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    opts["in_memory"] = True
    wb = xlsxwriter.Workbook(str(path), opts)
    wb.set_properties({"title": title, "author": author, "created": FIXED_TIME})
    ws = wb.add_worksheet("Sheet1")
    ws.write_row(0, 0, list(frame.columns))
    for r, row in enumerate(frame.itertuples(index=False, name=None), start=1):
        ws.write_row(r, 0, [None if v == "" else (int(v) if isinstance(v, np.integer) else v)
                            for v in row])
    wb.close()
