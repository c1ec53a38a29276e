"""ingest(): bad inputs give a clear message or quarantine, nothing is lost, PII never loads."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cxlab.cli import main
from cxlab.config import load_codebook
from cxlab.io import ingest, load_ingest_log, load_metadata, load_responses, load_table
from cxlab.io._pseudonym import load_pseudonym_key, pseudonymise

LTR = load_codebook().item("ltr").label
WJX_HEAD = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "1、您的客户编号",
            "2、您办理业务的分公司", "3、客户姓名", "4、联系方式", "5、产品形状和大小 ", f"6、{LTR}",
            "7、整体评价及建议"]


def wjx_row(n, *, branch="上海分公司", look="好", ltr="9", when="2026/7/3 14:05:09",
            cust=None, name="张三", phone="13800000000"):
    return [n, when, "185秒", "微信", "", "116.228.10.5(上海-上海)", cust or f"C{n:06d}", branch,
            name, phone, look, ltr, "还不错"]


def write_csv(path: Path, rows, head=WJX_HEAD, encoding="utf-8") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture(autouse=True)
def _key(tmp_path, monkeypatch):
    monkeypatch.setenv("CXLAB_PSEUDONYM_KEY_FILE", str(tmp_path / "keys" / "pseudonym.key"))


def run(tmp_path, paths, **kw):
    rep = ingest(paths, warehouse=tmp_path / "wh", quarantine_dir=tmp_path / "q", **kw)
    assert rep.rows_read == rep.accepted + rep.quarantined
    assert len(rep.quarantine) == rep.quarantined
    return rep


# ---- the happy path ------------------------------------------------------------------------------

def test_small_wjx_file_loads_with_pseudonyms_and_no_pii(tmp_path):
    f = write_csv(tmp_path / "raw" / "wjx_2026Q3.csv", [wjx_row(i) for i in range(1, 6)])
    rep = run(tmp_path, [f])
    assert (rep.rows_read, rep.accepted, rep.quarantined, rep.rejected_files) == (5, 5, 0, [])
    df = load_responses(tmp_path / "wh")
    assert df["response_id"].tolist() == [f"wjx-2026Q3-{i}" for i in range(1, 6)]
    assert set(df["branch"]) == {"SH01"} and set(df["period"]) == {"2026Q3"}
    assert df["customer_id"].str.match(r"^p_[0-9a-f]{16}$").all()
    blob = b"".join(p.read_bytes() for p in (tmp_path / "wh").rglob("*") if p.is_file())
    for secret in ("张三", "13800000000", "116.228.10.5", "C000001"):
        assert secret.encode() not in blob
    assert "read 5 = accepted 5 + quarantined 0" in rep.summary()


def test_comment_column_is_marked_free_text(tmp_path):
    run(tmp_path, [write_csv(tmp_path / "w.csv", [wjx_row(1)])])
    meta = load_metadata(tmp_path / "wh")
    assert meta["responses"]["columns"]["comment"]["kind"] == "free_text"
    assert meta["responses"]["columns"]["ltr"]["dtype"] == "Int64"
    assert meta["responses"]["columns"]["purchase_channel"]["kind"] == "multi_select"
    field = pq.read_schema(next((tmp_path / "wh" / "responses").rglob("*.parquet"))).field("comment")
    assert field.metadata[b"cxlab.kind"] == b"free_text"


# ---- bad rows are quarantined with their ORIGINAL line ----------------------------------------------

def test_bad_values_and_duplicates_are_quarantined_with_file_lines(tmp_path):
    rows = [wjx_row(1), wjx_row(2, look="非常好"), wjx_row(3, ltr="11"), wjx_row(4, ltr="abc"),
            wjx_row(2), wjx_row(5, branch="火星分公司"), wjx_row(6, when="2099/1/1 00:00:00"),
            wjx_row(7, when="not a date"), wjx_row(8, ltr="(跳过)"), wjx_row(9)]
    rep = run(tmp_path, [write_csv(tmp_path / "wjx_2026Q3.csv", rows)])
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (10, 2, 8)
    q = rep.quarantine.set_index("row")
    # header is line 1: data row k is line k + 1
    assert list(q.index) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "unknown answer '非常好'" in q.loc[3, "reason"] and q.loc[3, "column"] == "5、产品形状和大小"
    assert "11 is out of range 0–10" in q.loc[4, "reason"] and q.loc[4, "value"] == "11"
    assert "not a number: 'abc'" in q.loc[5, "reason"]
    assert "duplicate response id wjx-2026Q3-2" in q.loc[6, "reason"]
    assert "unknown branch '火星分公司'" in q.loc[7, "reason"]
    assert "in the future" in q.loc[8, "reason"]
    assert "unparseable date 'not a date'" in q.loc[9, "reason"]
    assert "ltr: missing required value" in q.loc[10, "reason"]
    assert set(rep.quarantine["file"]) == {"wjx_2026Q3.csv"}
    # the run's quarantine file and the cumulative log
    saved = pd.read_csv(rep.quarantine_file, encoding="utf-8-sig")
    assert list(saved.columns) == ["file", "row", "column", "value", "reason"]
    assert len(saved) == 8
    log = pd.read_csv(tmp_path / "q" / "quarantine_log.csv", encoding="utf-8-sig")
    assert len(log) == 8 and set(log["run_id"]) == {rep.run_id}


def test_quarantine_file_neutralises_spreadsheet_formulas(tmp_path):
    rows = [wjx_row(1), wjx_row(2, ltr='=HYPERLINK("http://x","点我")'), wjx_row(3, ltr="@SUM(A1)")]
    rep = run(tmp_path, [write_csv(tmp_path / "wjx_2026Q3.csv", rows)])
    assert rep.quarantined == 2
    assert rep.quarantine["value"].tolist() == ['=HYPERLINK("http://x","点我")', "@SUM(A1)"]  # raw in memory
    for path in (rep.quarantine_file, tmp_path / "q" / "quarantine_log.csv"):
        saved = pd.read_csv(path, encoding="utf-8-sig")
        assert saved["value"].tolist() == ['\'=HYPERLINK("http://x","点我")', "'@SUM(A1)"]


def test_ragged_rows_are_quarantined_not_lost(tmp_path):
    f = tmp_path / "wjx_2026Q3.csv"
    write_csv(f, [wjx_row(1), wjx_row(2), wjx_row(3)])
    lines = f.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2] + ",extra,fields"          # line 3: too many fields
    lines[3] = ",".join(lines[3].split(",")[:5])   # line 4: too few fields
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rep = run(tmp_path, [f])
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (3, 1, 2)
    q = rep.quarantine.set_index("row")
    assert "too many fields" in q.loc[3, "reason"] and "too few fields" in q.loc[4, "reason"]


def test_bad_lines_without_a_row_still_count(tmp_path, monkeypatch):
    """A reader-flagged line that is not in the frame is read and quarantined."""
    import cxlab.io._readers as readers

    real = readers.read_export

    def fake(path, *, source="auto"):
        df = real(path, source=source)
        df.attrs["bad_lines"] = [(99, "unreadable record")]
        return df

    monkeypatch.setattr(readers, "read_export", fake)
    rep = run(tmp_path, [write_csv(tmp_path / "w.csv", [wjx_row(1), wjx_row(2)])])
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (3, 2, 1)
    assert rep.quarantine.loc[0, "row"] == 99


# ---- bad files are rejected with one clear line; the others load -----------------------------------

def _good(tmp_path):
    return write_csv(tmp_path / "raw" / "good_2026Q3.csv", [wjx_row(1), wjx_row(2)])


@pytest.mark.parametrize(("name", "content", "why"), [
    ("empty.csv", b"", "empty file"),
    ("garbage.xlsx", bytes(range(256)) * 8, "not a readable"),
    ("truncated.xlsx", None, "not a readable Excel file"),
    ("wrong.sav", b"$FL2" + b"\x00" * 50, "not a readable SPSS file"),
])
def test_unreadable_file_is_rejected_and_others_load(tmp_path, name, content, why):
    good = _good(tmp_path)
    bad = tmp_path / "raw" / name
    if content is None:   # a real xlsx cut in half
        full = tmp_path / "full.xlsx"
        pd.DataFrame({"a": range(200), "b": ["x" * 20] * 200}).to_excel(full, index=False)
        content = full.read_bytes()[: full.stat().st_size // 2]
    bad.write_bytes(content)
    rep = run(tmp_path, [tmp_path / "raw"])
    assert rep.accepted == 2
    assert len(rep.rejected_files) == 1
    line = rep.rejected_files[0]
    assert line.startswith(f"{name}: ") and why in line and "\n" not in line
    assert good.name in {f.file for f in rep.files if not f.rejected}


def test_header_only_file_reads_zero_rows(tmp_path):
    rep = run(tmp_path, [write_csv(tmp_path / "w.csv", [])])
    assert (rep.rows_read, rep.accepted, rep.quarantined, rep.rejected_files) == (0, 0, 0, [])


def test_csv_named_xlsx_is_read_by_content(tmp_path):
    f = write_csv(tmp_path / "wjx_2026Q3.xlsx", [wjx_row(1), wjx_row(2)])
    rep = run(tmp_path, [f])
    assert rep.accepted == 2 and not rep.rejected_files


def test_gb18030_csv_is_decoded(tmp_path):
    f = write_csv(tmp_path / "wjx_2026Q3.csv", [wjx_row(1), wjx_row(2, look="较差")],
                  encoding="gb18030")
    rep = run(tmp_path, [f])
    assert rep.accepted == 2
    assert load_responses(tmp_path / "wh")["look_shape"].tolist() == [5, 2]


def test_unmapped_required_item_rejects_file_naming_item_and_file(tmp_path):
    head = [h for h in WJX_HEAD if not h.startswith("6、")]
    rows = [[c for c, h in zip(wjx_row(1), WJX_HEAD, strict=True) if not h.startswith("6、")]]
    bad = write_csv(tmp_path / "raw" / "no_ltr.csv", rows, head=head)
    _good(tmp_path)
    rep = run(tmp_path, [tmp_path / "raw"])
    assert rep.accepted == 2
    assert rep.rejected_files == [f"no_ltr.csv: required item 'ltr' ({LTR}) has no column — "
                                  "map it in params/sources.yaml (surveys.wjx) or run "
                                  "`cxlab draft no_ltr.csv`"]
    assert bad.exists()


def test_unmapped_columns_are_reported_not_loaded(tmp_path):
    head = WJX_HEAD + ["8、您的爱好"]
    rep = run(tmp_path, [write_csv(tmp_path / "w.csv", [wjx_row(1) + ["跑步"]], head=head)])
    assert any("8、您的爱好" in n for f in rep.files for n in f.notes)
    assert "8、您的爱好" in rep.summary()
    assert "跑步".encode() not in b"".join(p.read_bytes() for p in (tmp_path / "wh").rglob("*.parquet"))


def test_period_and_branch_arguments(tmp_path):
    rep = run(tmp_path, [write_csv(tmp_path / "export.csv", [wjx_row(1)])], period="2026Q1",
              branch="北京分公司")
    assert rep.accepted == 1
    df = load_responses(tmp_path / "wh")
    assert (df["period"].tolist(), df["branch"].tolist()) == (["2026Q1"], ["BJ01"])
    assert df["response_id"].tolist() == ["wjx-2026Q1-1"]
    with pytest.raises(ValueError, match="--period '26Q1': expected YYYYQn"):
        run(tmp_path, [tmp_path / "export.csv"], period="26Q1")
    with pytest.raises(ValueError, match="--branch 'XX': unknown branch"):
        run(tmp_path, [tmp_path / "export.csv"], branch="XX")


def test_crm_table_validated_and_pseudonymised(tmp_path):
    head = ["customer_id", "name", "company", "phone", "email", "industry", "customer_type",
            "branch", "value_score", "first_order_date", "churned", "churn_date"]
    rows = [["C000001", "王五", "华信公司", "13900000000", "w@x.cn", "制造业", "大客户", "SH01", 80,
             "2024-01-02", 0, ""],
            ["C000002", "赵六", "某某公司", "13900000001", "z@x.cn", "零售业", "普通客户", "上海分公司",
             150, "2024-01-03", 1, "2026-01-01"],
            ["C000001", "王五", "华信公司", "13900000000", "w@x.cn", "制造业", "大客户", "SH01", 80,
             "2024-01-02", 0, ""]]
    write_csv(tmp_path / "raw" / "crm" / "customers.csv", rows, head=head)
    write_csv(tmp_path / "raw" / "survey" / "wjx_2026Q3.csv", [wjx_row(1, cust="C000001")])
    (tmp_path / "raw" / "truth.json").write_text("{}", encoding="utf-8")
    rep = run(tmp_path, [tmp_path / "raw"])
    assert [f.file for f in rep.files] == ["crm/customers.csv", "survey/wjx_2026Q3.csv"]
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (4, 2, 2)
    q = rep.quarantine.set_index("row")
    assert "value_score: 150 is out of range 0–100" in q.loc[3, "reason"]
    assert "duplicate customer_id C000001" in q.loc[4, "reason"]
    cust = load_table(tmp_path / "wh", "customers")
    assert {"name", "company", "phone", "email"}.isdisjoint(cust.columns)
    resp = load_responses(tmp_path / "wh")
    # the same customer gets the same pseudonym in the survey and in the CRM
    assert resp["customer_id"].iloc[0] == cust["customer_id"].iloc[0]


# ---- pseudonymisation ------------------------------------------------------------------------------

def test_key_created_outside_repo_with_mode_0600(tmp_path):
    key_file = tmp_path / "keys" / "pseudonym.key"
    key = load_pseudonym_key()
    assert key_file.exists() and len(key) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_pseudonym_key() == key   # stable across runs


def test_pseudonyms_stable_with_same_key_and_different_with_another(tmp_path):
    f = write_csv(tmp_path / "w.csv", [wjx_row(1), wjx_row(2)])
    run(tmp_path, [f])
    first = load_responses(tmp_path / "wh")["customer_id"].tolist()
    ingest([f], warehouse=tmp_path / "wh2", quarantine_dir=tmp_path / "q")
    assert load_responses(tmp_path / "wh2")["customer_id"].tolist() == first
    other = tmp_path / "other.key"
    ingest([f], warehouse=tmp_path / "wh3", quarantine_dir=tmp_path / "q",
           pseudonym_key_file=other)
    third = load_responses(tmp_path / "wh3")["customer_id"].tolist()
    assert third != first and len(set(third)) == 2
    s = pd.Series(["C1", "C2"])
    assert (pseudonymise(s, key=b"a" * 32) != pseudonymise(s, key=b"b" * 32)).all()


# ---- command line ---------------------------------------------------------------------------------

def test_cli_exit_codes(tmp_path, capsys):
    good = _good(tmp_path)
    wh, q = str(tmp_path / "wh"), str(tmp_path / "q")
    assert main(["ingest", str(good), "--warehouse", wh, "--quarantine", q]) == 0
    assert "read 2 = accepted 2 + quarantined 0" in capsys.readouterr().out
    (tmp_path / "raw" / "broken.xlsx").write_bytes(b"PK\x03\x04broken")
    assert main(["ingest", str(tmp_path / "raw"), "--warehouse", wh, "--quarantine", q]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cxlab: rejected broken.xlsx: ") and "Traceback" not in err
    assert main(["ingest", str(tmp_path / "nope"), "--warehouse", wh]) == 2
    assert main(["ingest", str(good), "--warehouse", wh, "--period", "Q3"]) == 2
    assert main(["ingest", str(good), "--warehouse", wh, "--branch", "XX99"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["ingest"])
    assert exc.value.code == 2


def test_ingest_log_records_each_file(tmp_path):
    _good(tmp_path)
    (tmp_path / "raw" / "empty.csv").write_bytes(b"")
    rep = run(tmp_path, [tmp_path / "raw"])
    log = load_ingest_log(tmp_path / "wh")
    assert len(log) == 2 and set(log["run_id"]) == {rep.run_id}
    row = log.set_index("file").loc["good_2026Q3.csv"]
    assert (row["rows_read"], row["accepted"], row["quarantined"]) == (2, 2, 0)
    assert len(row["sha256"]) == 64 and row["source"] == "wjx_text"
    assert log.set_index("file").loc["empty.csv", "rejected"].startswith("empty file")


# ---- the sample data ------------------------------------------------------------------------------

def test_sample_quarantine_is_exactly_the_planted_bad_rows(sample_warehouse, sample_truth):
    """The ingest of the sample data (conftest's ``sample_warehouse``) quarantined exactly the
    planted rows: its quarantine file, next to the warehouse, is checked row by row."""
    planted = sample_truth["bad_rows"]
    runs = sorted((sample_warehouse.parent / "quarantine").glob("quarantine-*.csv"))
    assert len(runs) == 1
    q = pd.read_csv(runs[0], encoding="utf-8-sig", dtype={"value": str})
    assert len(q) == planted["total"] > 0
    # truth rows count data records; the quarantine counts file lines (header rows included)
    header = {"wjx": 1, "qualtrics": 3}
    # the quarantine names files as the ingest log does: relative to the ingested folder
    want = {(r["file"], r["row"] + header[Path(r["file"]).name.split("_")[0]],
             r["column"].strip(), str(r["value"])) for r in planted["rows"]}
    got = set(zip(q["file"], q["row"].astype(int), q["column"], q["value"], strict=True))
    assert got == want
    log = load_ingest_log(sample_warehouse)
    assert log["rejected"].isna().all()
    assert log["quarantined"].sum() == planted["total"]
    assert (log["rows_read"] == log["accepted"] + log["quarantined"]).all()
    survey = log[log["table"] == "responses"]
    assert survey["accepted"].sum() == sample_truth["n_responses"]
    assert survey["rows_read"].sum() == sample_truth["n_rows"]   # preview rows are not rows read


def _pii_values(raw: Path) -> set[str]:
    vals: set[str] = set()
    cust = pd.read_csv(raw / "crm" / "customers.csv", dtype=str)
    for c in ("name", "company", "phone", "email"):
        vals |= set(cust[c].dropna())
    vals |= set(cust["customer_id"].dropna())
    for f in (raw / "survey").iterdir():
        from cxlab.io import read_export

        df = read_export(f)
        for c in df.columns:
            if any(k in c for k in ("客户姓名", "客户单位", "联系方式", "来自IP", "Recipient",
                                    "IPAddress", "ExternalReference", "您的客户编号")):
                vals |= {str(v) for v in df[c].dropna()}
    return {v for v in vals if len(v) >= 2}


def test_no_pii_reaches_the_warehouse(sample_raw, sample_warehouse):
    pii = _pii_values(sample_raw)
    assert len(pii) > 1000
    meta = load_metadata(sample_warehouse)
    forbidden_cols = {"name", "company", "phone", "email", "respondent_name", "respondent_company",
                      "respondent_contact", "IPAddress", "RecipientEmail", "来自IP"}
    files = list(sample_warehouse.rglob("*.parquet"))
    assert len(files) > 50
    for f in files:   # every parquet file's columns
        assert forbidden_cols.isdisjoint(pq.read_schema(f).names), f
    token = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d{7,}|\d+\.\d+\.\d+\.\d+")
    tables = sorted({f.relative_to(sample_warehouse).parts[0] for f in files})
    assert {"responses", "customers", "orders", "invitations", "tickets"} <= set(tables)
    for table in tables:   # every value of every file, one dataset read per table
        df = pq.read_table(sample_warehouse / table).to_pandas()
        # derived tables (aggregates/ written by `cxlab reports`) have no ingest metadata
        columns_meta = meta.get(table, {}).get("columns", {})
        free = {c for c, m in columns_meta.items() if m.get("kind") == "free_text"}
        for c in df.columns:
            cells = set(df[c].dropna().astype(str))
            assert not cells & pii, (table, c)
            if c in free:   # open text is kept (redacted later by cxlab.text): only exact cells
                continue
            # phones, e-mails and IPs inside any other value
            assert not set(token.findall("\n".join(cells))) & pii, (table, c)
    for extra in ("_manifest.json", "_metadata.json", "_ingest_log.jsonl"):
        text = (sample_warehouse / extra).read_text(encoding="utf-8")
        assert not set(token.findall(text)) & pii


def test_sample_warehouse_is_complete(sample_warehouse, sample_truth):
    df = load_responses(sample_warehouse)
    assert len(df) == sample_truth["n_responses"]
    assert df["response_id"].is_unique
    assert set(df["period"]) == set(sample_truth["periods"])
    assert set(df["branch"]) == set(sample_truth["branches"])
    counts = df.groupby(["period", "branch"]).size()
    for p, by_b in sample_truth["n_by_cell"].items():
        for b, n in by_b.items():
            assert counts.get((p, b), 0) == n, (p, b)
    assert df["ltr"].between(0, 10).all()
    # every measured item asked in both exports is loaded from every survey file (a PII rule once
    # matched 手机 in "手机App远程控制" and silently dropped that Kano question from 问卷星 files)
    from cxlab.config import load_codebook

    measures = load_codebook().ids(role="measure")
    answered = df.groupby("source_file")[measures].count()
    empty = [(f, item) for f in answered.index for item in measures if answered.loc[f, item] == 0]
    assert not empty, empty
    # one channel vocabulary across platforms (sources.yaml `values:` recodes)
    assert set(df["channel"].dropna()) <= {"微信", "短信", "邮件", "链接", "手机网页", "社交媒体", "二维码"}
    assert df.groupby("source_file")["channel"].count().min() > 0
    log = load_ingest_log(sample_warehouse)
    assert (log["rows_read"] == log["accepted"] + log["quarantined"]).all()
    tables = {t: load_table(sample_warehouse, t) for t in
              ("customers", "orders", "invitations", "tickets", "audits", "scorecard_actuals")}
    assert all(len(t) for t in tables.values())
    # invitations' response_ref points at loaded responses
    refs = set(tables["invitations"]["response_ref"].dropna())
    assert refs and len(refs & set(df["response_id"])) / len(refs) > 0.99
    json.dumps(load_metadata(sample_warehouse))  # metadata is plain JSON
    assert os.path.isfile(sample_warehouse / "_manifest.json")


def test_pseudonym_is_the_documented_keyed_hash():
    """``p_`` + the first 16 hex digits of HMAC-SHA256(key, NFKC-normalised id): the contract
    that lets other tools join on it (checked against the standard library's HMAC)."""
    import hashlib
    import hmac

    key = b"0123456789abcdef0123456789abcdef"
    out = pseudonymise(pd.Series(["C000123", "Ｃ000123 ", None], dtype="str"), key=key)
    expected = "p_" + hmac.new(key, b"C000123", hashlib.sha256).hexdigest()[:16]
    assert out[0] == out[1] == expected and pd.isna(out[2])


def test_ingest_runs_on_jemalloc_and_restores_the_callers_arrow_pool(tmp_path, monkeypatch):
    """Ingest switches Arrow's default pool to jemalloc while it runs (bench/README.md: fewer
    fresh pages zeroed) and hands the caller's pool back, also after a failure; a pool chosen
    with ARROW_DEFAULT_MEMORY_POOL is left alone."""
    import pyarrow as pa

    from cxlab.io import _frame

    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("pyarrow built without jemalloc")
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    before = pa.default_memory_pool().backend_name
    seen = []
    from cxlab.io import _ingest

    real = _ingest.map_survey

    def spy(*args, **kwargs):
        seen.append(pa.default_memory_pool().backend_name)
        return real(*args, **kwargs)

    monkeypatch.setattr(_ingest, "map_survey", spy)
    f = write_csv(tmp_path / "wjx_2026Q3.csv", [wjx_row(1), wjx_row(2)])
    rep = ingest([f], warehouse=tmp_path / "wh", pseudonym_key_file=tmp_path / "k")
    assert rep.accepted == 2 and seen == ["jemalloc"]
    assert pa.default_memory_pool().backend_name == before
    with pytest.raises(RuntimeError), _frame.bulk_memory_pool():
        raise RuntimeError("boom")
    assert pa.default_memory_pool().backend_name == before
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    with _frame.bulk_memory_pool():
        assert pa.default_memory_pool().backend_name == before
