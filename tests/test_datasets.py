"""Tests of the sample-data generator (docs/sample-data.md is the contract)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlab.datasets import SampleSummary, make_sample_data, mu_for_nps, nps_of_mu

PERIODS = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
SPEC_COLUMNS = {
    "crm/customers.csv": "customer_id, name, company, phone, email, industry, customer_type, "
                         "branch, value_score, first_order_date, churned, churn_date",
    "crm/orders.csv": "order_id, customer_id, order_date, amount",
    "ops/invitations.csv": "invitation_id, customer_id, branch, period, channel, trigger, sent_at, "
                           "responded, response_ref",
    "ops/tickets.csv": "ticket_id, customer_id, branch, period, channel, type, priority, "
                       "created_at, first_response_at, resolved_at, closed_at, owner, status, "
                       "answer_seconds, solution_satisfaction, script_variant",
    "ops/audits.csv": "audit_id, branch, period, audit_type, audit_date, score, items_checked, "
                      "fatal_errors, general_errors",
    "ops/scorecard_actuals.csv": "period, measure, value",
    "truth_comments.csv": "response_ref, theme, sentiment, pii",
}
QUALTRICS_META = ["StartDate", "EndDate", "Status", "IPAddress", "Progress",
                  "Duration (in seconds)", "Finished", "RecordedDate", "ResponseId",
                  "RecipientLastName", "RecipientFirstName", "RecipientEmail",
                  "ExternalReference", "LocationLatitude", "LocationLongitude",
                  "DistributionChannel", "UserLanguage"]
VERBAL = {"好": 5, "良好": 4, "一般": 3, "较差": 2, "差": 1}
LTR_HEAD = "您有多大可能向朋友或同事推荐我们的产品和服务?"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small")
    make_sample_data(out, seed=7, responses=600)
    return out


def _read_wjx(path: Path) -> pd.DataFrame:
    return pd.read_excel(path, engine="calamine")


def _read_qualtrics(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, skiprows=[1, 2], dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")


def _ltr_col(df: pd.DataFrame) -> str:
    return next(c for c in df.columns if c.strip().endswith(LTR_HEAD))


def _valid_rows(root: Path) -> pd.DataFrame:
    """Valid responses straight from the raw files with plain pandas, applying the spec's rules
    (drop previews; quarantine out-of-range codes, invalid labels, every later repeat of an id)."""
    frames = []
    for p in PERIODS:
        w = _read_wjx(root / f"survey/wjx_{p}.xlsx")
        heads = list(w.columns)
        verbal_cols = heads[6 + 8:6 + 8 + 17]
        ok = w[verbal_cols].isin(list(VERBAL) + ["(跳过)"]).all(axis=1)
        ok &= ~w["序号"].duplicated(keep="first")
        branch = w[heads[7]]
        frames.append(pd.DataFrame({"period": p, "branch_name": branch[ok],
                                    "ltr": w.loc[ok, _ltr_col(w)].astype(int)}))
        q = _read_qualtrics(root / f"survey/qualtrics_{p}.csv")
        q = q[q["Status"] == "0"]
        codes = q[[f"Q4_{j}" for j in range(1, 18)]]
        ok = codes.isin(["", "1", "2", "3", "4", "5"]).all(axis=1)
        ok &= q["Q1"].astype(int).between(0, 10)
        ok &= ~q["ResponseId"].duplicated(keep="first")
        frames.append(pd.DataFrame({"period": p, "branch": q.loc[ok, "branch"],
                                    "ltr": q.loc[ok, "Q1"].astype(int)}))
    out = pd.concat(frames, ignore_index=True)
    names = {"上海分公司": "SH01", "杭州分公司": "HZ01", "南京分公司": "NJ01", "苏州分公司": "SU01",
             "广州分公司": "GZ01", "深圳分公司": "SZ01", "厦门分公司": "XM01", "北京分公司": "BJ01",
             "天津分公司": "TJ01", "济南分公司": "JN01"}
    out["branch"] = out["branch"].fillna(out["branch_name"].map(names))
    return out.drop(columns="branch_name")


def _nps(x: pd.Series) -> float:
    return 100.0 * ((x >= 9).mean() - (x <= 6).mean())


def test_same_seed_same_bytes_other_seed_differs(small, tmp_path):
    again = tmp_path / "again"
    summary = make_sample_data(again, seed=7, responses=600)
    assert isinstance(summary, SampleSummary)
    a, b = _files(small), _files(again)
    assert sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []
    other = tmp_path / "other"
    make_sample_data(other, seed=8, responses=600)
    c = _files(other)
    assert all(a[k] != c[k] for k in a if k.startswith("survey/"))
    assert "600" not in str(summary) or "valid responses" in str(summary)
    assert f"{summary.bad_rows} bad rows" in str(summary)


def test_every_spec_file_with_spec_columns(small):
    truth = json.loads((small / "truth.json").read_text(encoding="utf-8"))
    for p in PERIODS:
        assert (small / f"survey/wjx_{p}.xlsx").is_file()
        assert (small / f"survey/qualtrics_{p}.csv").is_file()
    for name, cols in SPEC_COLUMNS.items():
        df = pd.read_csv(small / name, dtype=str, keep_default_na=False)
        assert list(df.columns) == [c.strip() for c in cols.split(",")], name
        assert len(df) > 0
    assert sorted(truth["files"]) == sorted(_files(small))
    sc = pd.read_csv(small / "ops/scorecard_actuals.csv")
    assert set(sc["period"]) == set(PERIODS) and sc.groupby("period").size().eq(13).all()


def test_wjx_layout_follows_real_exports(small, real_exports):
    real = pd.read_excel(real_exports / "wjx/wjx_800_800_0.xls", engine="calamine")
    w = _read_wjx(small / "survey/wjx_2026Q1.xlsx")
    assert list(w.columns[:6]) == list(real.columns[:6])
    heads = list(w.columns[6:])
    assert all(h.startswith(f"{i}、") for i, h in enumerate(heads, start=1))
    assert heads[0] == "1、您的客户编号" and heads[1] == "2、您办理业务的分公司"
    assert any(h.endswith(" ") for h in heads)
    assert w["提交答卷时间"].str.match(r"^2026/\d{1,2}/\d{1,2} \d\d:\d\d:\d\d$").all()
    assert w["所用时间"].str.match(r"^\d+秒$").all()
    assert w["来自IP"].str.match(r"^\d+\.\d+\.\d+\.\d+\(.+-.+\)$").all()
    ch = w[next(h for h in heads if "渠道?" in h)]
    assert ch.str.contains("┋").any()
    # 序号 is 1..n apart from the planted duplicates
    assert w["序号"].drop_duplicates().tolist() == list(range(1, w["序号"].nunique() + 1))


def test_qualtrics_three_header_rows(small):
    raw = pd.read_csv(small / "survey/qualtrics_2026Q2.csv", header=None, dtype=str,
                      keep_default_na=False, encoding="utf-8-sig")
    assert (small / "survey/qualtrics_2026Q2.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    names = raw.iloc[0].tolist()
    assert names[:17] == QUALTRICS_META
    assert {"Q1", "Q1_NPS_GROUP", "Q4_17", "Q5_10", "Q8_5_TEXT", "Q9", "branch"} <= set(names)
    imports = [json.loads(v)["ImportId"] for v in raw.iloc[2]]
    assert imports[names.index("Q4_3")] == "QID4_3"
    assert raw.iloc[1, names.index("Q4_1")].startswith("请评价以下方面 - ")
    q = _read_qualtrics(small / "survey/qualtrics_2026Q2.csv")
    assert (q["Status"] == "1").sum() == 2


def test_truth_keys_and_bad_rows_counted_from_files(small):
    truth = json.loads((small / "truth.json").read_text(encoding="utf-8"))
    for key in ["seed", "periods", "branches", "n_responses", "nps_population", "nps_sample",
                "driver_weights", "driver_order", "kano", "nps_drop", "bad_rows", "themes",
                "sentiment", "ab_test", "churn", "invitations"]:
        assert key in truth, key
    bad = truth["bad_rows"]
    assert 8 <= bad["total"] <= 15
    assert bad["total"] == bad["out_of_range"] + bad["invalid_label"] + bad["duplicate_id"]
    # count independently from the files
    invalid = dup = oor = rows = 0
    for p in PERIODS:
        w = _read_wjx(small / f"survey/wjx_{p}.xlsx")
        verbal_cols = list(w.columns[6 + 8:6 + 8 + 17])
        invalid += int((~w[verbal_cols].isin(list(VERBAL) + ["(跳过)"])).any(axis=1).sum())
        dup += int(w["序号"].duplicated(keep="first").sum())
        q = _read_qualtrics(small / f"survey/qualtrics_{p}.csv")
        q = q[q["Status"] == "0"]
        codes = q[[f"Q4_{j}" for j in range(1, 18)]]
        oor += int(((~codes.isin(["", "1", "2", "3", "4", "5"])).any(axis=1)
                    | ~q["Q1"].astype(int).between(0, 10)).sum())
        dup += int(q["ResponseId"].duplicated(keep="first").sum())
        rows += len(w) + len(q)
    assert (invalid, oor, dup) == (bad["invalid_label"], bad["out_of_range"], bad["duplicate_id"])
    assert rows == truth["n_rows"] == truth["n_responses"] + bad["total"]
    assert len(bad["rows"]) == bad["total"]


def test_nps_sample_recomputed_from_raw_files(small):
    truth = json.loads((small / "truth.json").read_text(encoding="utf-8"))
    valid = _valid_rows(small)
    assert len(valid) == truth["n_responses"]
    got = valid.groupby(["period", "branch"])["ltr"].apply(_nps)
    for (p, b), v in got.items():
        assert math.isclose(v, truth["nps_sample"][p][b], abs_tol=1e-3), (p, b)


def test_pii_present_in_raw_files(small):
    w = _read_wjx(small / "survey/wjx_2025Q4.xlsx")
    contact = w[[c for c in w.columns if "联系方式" in c][0]].astype(str)
    assert contact.str.fullmatch(r"1[3-9]\d{9}").mean() > 0.5
    assert w[[c for c in w.columns if "客户姓名" in c][0]].str.fullmatch(r"[\u4e00-\u9fff]{2,3}").all()
    comments = pd.concat([w[[c for c in w.columns if "整体评价" in c][0]].dropna()])
    tc = pd.read_csv(small / "truth_comments.csv", dtype=str)
    assert tc["pii"].astype(int).mean() == pytest.approx(0.05, abs=0.03)
    cust = pd.read_csv(small / "crm/customers.csv", dtype=str)
    assert cust["phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert cust["email"].str.contains("@").all()
    allc = "".join(pd.concat([comments] + [
        _read_qualtrics(small / f"survey/qualtrics_{p}.csv")["Q9"] for p in PERIODS]))
    assert "<script>" in allc or "=HYPERLINK(" in allc


def test_planted_truth_in_default_sample(sample_raw, sample_truth):
    """The default data (seed 0, ~3,200 responses): planted NPS drop, targets, Kano, churn."""
    t = sample_truth
    assert 3100 <= t["n_responses"] <= 3200
    d = t["nps_drop"]
    assert (d["branch"], d["period"], d["previous_period"]) == ("GZ01", "2026Q3", "2026Q2")
    assert d["nps_before"] - d["nps_after"] >= 25
    assert d["sample_after"] < d["sample_before"] - 15 and d["pvalue_sample"] < 0.05
    pop = t["nps_population"]["2026Q3"]
    assert any(v < 40 for v in pop.values()) and any(v >= 40 for v in pop.values())
    assert max(t["n_by_cell"][p]["XM01"] for p in PERIODS) < 30
    assert t["driver_order"][:4] == ["use_stability", "svc_resolution", "fit_expectation",
                                     "svc_response"]
    assert t["kano"] == {"App远程控制": "A", "语音控制": "I", "过热断电保护": "M", "三年延保": "O",
                         "多种外壳颜色": "I"}
    assert 8 <= t["churn"]["churn_rate_sample"] <= 12
    by = t["churn"]["churn_rate_sample_by_nps"]
    assert by["detractor"] > by["passive"] > by["promoter"]
    assert t["ab_test"]["sample"]["B"] > t["ab_test"]["sample"]["A"]
    # Kano categories recovered from the wjx answers with the Berger et al. (1993) table
    table = ["Q", "A", "A", "A", "O", "R", "I", "I", "I", "M", "R", "I", "I", "I", "M",
             "R", "I", "I", "I", "M", "R", "R", "R", "R", "Q"]
    lab = {"喜欢": 1, "理应如此": 2, "无所谓": 3, "能忍受": 4, "不喜欢": 5}
    w = pd.concat([_read_wjx(sample_raw / f"survey/wjx_{p}.xlsx") for p in PERIODS])
    kano_cols = list(w.columns[-10:])
    for j, feat in enumerate(["App远程控制", "语音控制", "过热断电保护", "三年延保", "多种外壳颜色"]):
        f = w[kano_cols[2 * j]].map(lab)
        dd = w[kano_cols[2 * j + 1]].map(lab)
        ok = f.notna() & dd.notna()
        cats = pd.Series(np.array(table)[((f[ok] - 1) * 5 + dd[ok] - 1).astype(int)])
        assert cats.value_counts().idxmax() == t["kano"][feat], feat
    # ops: SLAs mostly met with some breaches
    tk = pd.read_csv(sample_raw / "ops/tickets.csv", dtype=str, keep_default_na=False)
    ans = tk.loc[tk["answer_seconds"] != "", "answer_seconds"].astype(int)
    assert 0.02 < (ans > 30).mean() < 0.25
    assert {"已关闭", "处理中", "待处理"} == set(tk["status"])


def test_population_nps_solver_roundtrip():
    for target in (-20.0, 0.0, 16.0, 40.0, 55.0):
        assert nps_of_mu(mu_for_nps(target)) == pytest.approx(target, abs=1e-6)


def test_rejects_tiny_sizes(tmp_path):
    with pytest.raises(ValueError, match="at least"):
        make_sample_data(tmp_path, responses=10)
