"""Warehouse: atomic writes, idempotent re-ingest, partition pruning, DuckDB views."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from ingest_helpers import ingest_into, own_pseudonym_key  # noqa: F401 - autouse fixture

import cxlab.io._warehouse as whmod
from cxlab.config import load_codebook
from cxlab.io import connect, load_responses, load_table, query
from cxlab.io._warehouse import TableWrite, commit, recover

LTR = load_codebook().item("ltr").label
HEAD = ["序号", "提交答卷时间", "来源", "1、您的客户编号", "2、您办理业务的分公司", f"3、{LTR}",
        "4、产品形状和大小"]
BRANCHES = ["上海分公司", "杭州分公司", "北京分公司"]


def write_wjx(path: Path, n: int, *, month: int = 7, start: int = 1, ltr=None) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEAD)
    for i in range(start, start + n):
        w.writerow([i, f"2026/{month}/{1 + i % 27} 10:00:00", "微信", f"C{i:06d}",
                    BRANCHES[i % 3], ltr if ltr is not None else i % 11, "好"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


_ingest = ingest_into


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "_ingest_log.jsonl"}


# ---- layout ------------------------------------------------------------------------------------

def test_hive_layout_and_part_names(tmp_path):
    _ingest(tmp_path, write_wjx(tmp_path / "wjx_2026Q3.csv", 9))
    parts = sorted(p.relative_to(tmp_path / "wh").as_posix()
                   for p in (tmp_path / "wh").rglob("*.parquet"))
    assert [p.rsplit("/", 1)[0] for p in parts] == [
        "responses/period=2026Q3/branch=BJ01", "responses/period=2026Q3/branch=HZ01",
        "responses/period=2026Q3/branch=SH01"]
    assert all(p.rsplit("/", 1)[1].startswith("part-") for p in parts)
    assert len({p.rsplit("/", 1)[1] for p in parts}) == 1   # one name per source file
    assert not list((tmp_path / "wh").glob(".staging-*"))
    assert not (tmp_path / "wh" / "_journal.json").exists()


def test_canonical_columns_and_types(tmp_path):
    _ingest(tmp_path, write_wjx(tmp_path / "wjx_2026Q3.csv", 6))
    df = load_responses(tmp_path / "wh")
    assert list(df.columns[:7]) == ["response_id", "customer_id", "period", "branch", "channel",
                                    "submitted_at", "source_file"]
    cb = load_codebook()
    assert list(df.columns[7:]) == [i.id for i in cb.items if i.role != "pii"]
    assert str(df["ltr"].dtype) == "Int64" and str(df["look_shape"].dtype) == "Int64"
    assert str(df["submitted_at"].dtype).startswith("datetime64")
    assert str(df["comment"].dtype) == "string" and df["comment"].isna().all()
    assert set(df["source_file"]) == {"wjx_2026Q3.csv"}


# ---- idempotency --------------------------------------------------------------------------------

def test_reingesting_the_same_file_is_idempotent(tmp_path):
    f = write_wjx(tmp_path / "wjx_2026Q3.csv", 12)
    _ingest(tmp_path, f)
    before = snapshot(tmp_path / "wh")
    df1 = load_responses(tmp_path / "wh")
    rep = _ingest(tmp_path, f)
    assert rep.accepted == 12 and rep.quarantined == 0
    assert load_responses(tmp_path / "wh").equals(df1)
    assert snapshot(tmp_path / "wh").keys() == before.keys()


def test_changed_file_replaces_its_previous_rows(tmp_path):
    f = write_wjx(tmp_path / "wjx_2026Q3.csv", 12)
    other = write_wjx(tmp_path / "wjx_2026Q2.csv", 5, month=5, start=100)
    _ingest(tmp_path, f, other)
    assert len(load_responses(tmp_path / "wh")) == 17
    write_wjx(f, 2, ltr=10)   # corrected export: 2 rows, all ltr 10, only branches HZ01/BJ01
    _ingest(tmp_path, f)
    df = load_responses(tmp_path / "wh")
    assert len(df) == 7
    assert df.loc[df["source_file"] == "wjx_2026Q3.csv", "ltr"].tolist() == [10, 10]
    # the emptied SH01 partition of that file is gone; the other file is untouched
    assert not (tmp_path / "wh/responses/period=2026Q3/branch=SH01").exists()
    assert (df["source_file"] == "wjx_2026Q2.csv").sum() == 5


def test_same_content_under_another_name_is_quarantined_as_duplicates(tmp_path):
    f = write_wjx(tmp_path / "a" / "wjx_2026Q3.csv", 4)
    _ingest(tmp_path, f)
    copy = tmp_path / "b" / "wjx_2026Q3_copy.csv"
    copy.parent.mkdir()
    copy.write_bytes(f.read_bytes())
    rep = _ingest(tmp_path, copy)
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (4, 0, 4)
    assert rep.quarantine["reason"].str.contains("already loaded from wjx_2026Q3.csv").all()
    assert len(load_responses(tmp_path / "wh")) == 4


# ---- atomicity ------------------------------------------------------------------------------------

def test_crash_during_write_leaves_previous_state(tmp_path, monkeypatch):
    f = write_wjx(tmp_path / "wjx_2026Q3.csv", 12)
    _ingest(tmp_path, f)
    before = snapshot(tmp_path / "wh")
    df_before = load_responses(tmp_path / "wh")

    real = whmod._write_parquet
    calls = {"n": 0}

    def crash(table, path):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full (simulated crash)")
        real(table, path)

    monkeypatch.setattr(whmod, "_write_parquet", crash)
    write_wjx(f, 20, ltr=0)
    with pytest.raises(OSError, match="simulated crash"):
        _ingest(tmp_path, f)
    assert calls["n"] >= 2
    assert snapshot(tmp_path / "wh") == before
    assert not list((tmp_path / "wh").glob(".staging-*"))
    assert load_responses(tmp_path / "wh").equals(df_before)


def test_crash_after_commit_point_is_rolled_forward(tmp_path, monkeypatch):
    f = write_wjx(tmp_path / "wjx_2026Q3.csv", 6)
    _ingest(tmp_path, f)
    real_apply = whmod._apply

    def crash(root, journal):
        raise KeyboardInterrupt("power cut after the journal was written")

    monkeypatch.setattr(whmod, "_apply", crash)
    write_wjx(f, 3, ltr=10)
    with pytest.raises(KeyboardInterrupt):
        _ingest(tmp_path, f)
    assert (tmp_path / "wh" / "_journal.json").exists()
    monkeypatch.setattr(whmod, "_apply", real_apply)
    df = load_responses(tmp_path / "wh")   # the next reader (or writer) finishes the commit
    assert not (tmp_path / "wh" / "_journal.json").exists()
    assert df["ltr"].tolist() == [10, 10, 10]
    assert not list((tmp_path / "wh").glob(".staging-*"))
    recover(tmp_path / "wh")               # idempotent
    assert load_responses(tmp_path / "wh").equals(df)


def test_commit_of_frames_directly(tmp_path):
    frame = pd.DataFrame({"period": ["2026Q1", "2026Q2"], "branch": ["SH01", "SH01"],
                          "x": pd.array([1, None], dtype="Int64")})
    parts = commit(tmp_path / "wh", [TableWrite(table="t", source_file="s.csv", sha256="0" * 64,
                                                frame=frame, partition_by=("period", "branch"))])
    assert len(parts) == 2
    out = load_table(tmp_path / "wh", "t", period="2026Q2")
    assert out["x"].isna().all() and out["period"].tolist() == ["2026Q2"]


# ---- reading ----------------------------------------------------------------------------------------

def _two_periods(tmp_path):
    _ingest(tmp_path, write_wjx(tmp_path / "wjx_2026Q3.csv", 9),
            write_wjx(tmp_path / "wjx_2026Q2.csv", 6, month=5, start=50))
    return tmp_path / "wh"


def test_load_responses_reads_only_the_partitions_asked_for(tmp_path):
    wh = _two_periods(tmp_path)
    # corrupt every file outside period=2026Q3/branch=SH01: reading them would fail
    keep = wh / "responses/period=2026Q3/branch=SH01"
    for p in (wh / "responses").rglob("*.parquet"):
        if p.parent != keep:
            p.write_bytes(b"not parquet")
    df = load_responses(wh, period="2026Q3", branch="SH01")
    assert len(df) == 3 and set(df["branch"]) == {"SH01"} and set(df["period"]) == {"2026Q3"}
    with pytest.raises(Exception):  # noqa: B017 - the corrupt partitions are read here
        load_responses(wh)


def test_load_responses_filters_and_columns(tmp_path):
    wh = _two_periods(tmp_path)
    assert len(load_responses(wh)) == 15
    assert len(load_responses(wh, period="2026Q2")) == 6
    assert len(load_responses(wh, branch=["SH01", "HZ01"])) == 10
    df = load_responses(wh, period="2026Q3", columns=["response_id", "ltr", "branch"])
    assert list(df.columns) == ["response_id", "ltr", "branch"] and len(df) == 9
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        load_table(wh, "nope")


def test_load_responses_unknown_period_or_branch_is_an_error_listing_what_exists(tmp_path):
    from cxlab.errors import CxlabError

    wh = _two_periods(tmp_path)
    with pytest.raises(CxlabError, match=r"unknown period '2030Q1': the warehouse's responses "
                                         r"have periods 2026Q2, 2026Q3$"):
        load_responses(wh, period="2030Q1")
    # one unknown value in a list is enough; the known ones are not listed as unknown
    with pytest.raises(CxlabError, match=r"unknown branch 'SH99'.* branches BJ01, HZ01, SH01 "
                                         r"\(give org= to accept branch names\)"):
        load_responses(wh, branch=["SH01", "SH99"])
    # a branch name needs the organisation
    with pytest.raises(CxlabError, match=r"unknown branch '上海分公司'"):
        load_responses(wh, branch="上海分公司")
    with pytest.raises(CxlabError, match=r"unknown branch 'XX01'.*organisation also has .*GZ01"):
        load_responses(wh, branch="XX01", org="params/org.yaml")


def test_load_responses_any_letter_case_names_and_empty_org_branches(tmp_path):
    from cxlab.config import load_org

    wh = _two_periods(tmp_path)
    want = load_responses(wh, period="2026Q3", branch="SH01")
    assert len(want) == 3
    pd.testing.assert_frame_equal(load_responses(wh, period="2026q3", branch="sh01"), want)
    pd.testing.assert_frame_equal(load_responses(wh, period="2026Q3", branch="Sh01"), want)
    org = load_org("params/org.yaml")
    pd.testing.assert_frame_equal(
        load_responses(wh, period="2026Q3", branch="上海分公司", org=org), want)
    pd.testing.assert_frame_equal(
        load_responses(wh, period="2026Q3", branch="上海分公司", org="params/org.yaml"), want)
    both = load_responses(wh, branch=["杭州分公司", "sh01"], org=org)
    assert set(both["branch"]) == {"SH01", "HZ01"} and len(both) == 10
    # a branch of the organisation without responses yet is legitimately empty
    assert "GZ01" in org.branch_codes
    empty = load_responses(wh, period="2026Q3", branch="GZ01", org=org)
    assert empty.empty and list(empty.columns) == list(want.columns)
    # None still means every period and every branch
    assert len(load_responses(wh, period=None, branch=None, org=org)) == 15


def test_duckdb_views_over_the_parquet(tmp_path):
    wh = _two_periods(tmp_path)
    df = load_responses(wh)
    got = query(wh, "SELECT period, branch, count(*) AS n, avg(ltr) AS mean_ltr FROM responses "
                    "GROUP BY ALL ORDER BY period, branch")
    want = (df.groupby(["period", "branch"]).agg(n=("ltr", "size"), mean_ltr=("ltr", "mean"))
            .reset_index())
    assert got["n"].tolist() == want["n"].tolist()
    assert got["mean_ltr"].tolist() == pytest.approx(want["mean_ltr"].astype(float).tolist(),
                                                      rel=1e-12)
    con = connect(wh)
    try:
        sql = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'responses'").fetchone()[0]
        assert "read_parquet" in sql and "hive_partitioning" in sql
    finally:
        con.close()
