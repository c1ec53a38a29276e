"""Ingest cannot lose data quietly (issue 23 §5): response ids are unique per survey, a file
mostly quarantined for one reason raises an alert (exit 1), every raw file's hash reaches the
report's provenance table also after a folder ingest."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
from ingest_helpers import ingest_into, own_pseudonym_key  # noqa: F401 - autouse fixture

from cxlab.cli import main
from cxlab.config import load_codebook
from cxlab.io import load_ingest_log, load_responses
from cxlab.io._survey import SurveyKey, row_fingerprints, survey_key
from cxlab.report._context import _sources

LTR = load_codebook().item("ltr").label
HEAD = ["序号", "提交答卷时间", "来源", "1、您的客户编号", "2、您办理业务的分公司", f"3、{LTR}",
        "4、产品形状和大小"]


def write_wjx(path: Path, ids, *, branch="上海分公司", ltr=lambda i: i % 11,
              look="好") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEAD)
    for i in ids:
        w.writerow([i, f"2026/7/{1 + i % 27} 10:{i % 60:02d}:00", "微信", f"C{branch[:1]}{i:05d}",
                    branch, ltr(i), look])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


run = ingest_into


# ---- survey identity ---------------------------------------------------------------------------

def test_two_branches_projects_numbered_from_one_both_load(tmp_path):
    sh = write_wjx(tmp_path / "raw" / "wjx_sh_2026Q3.csv", range(1, 41), branch="上海分公司")
    hz = write_wjx(tmp_path / "raw" / "wjx_hz_2026Q3.csv", range(1, 31), branch="杭州分公司",
                   ltr=lambda i: (i * 7) % 11)
    rep = run(tmp_path, tmp_path / "raw")
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (70, 70, 0)
    assert rep.alerts == []
    df = load_responses(tmp_path / "wh")
    assert len(df) == 70 and df["response_id"].is_unique
    by_file = {f: g for f, g in df.groupby("source_file")}
    # the first file (sorted walk) keeps the contract's ids; the second survey's all carry its
    # tag (also ids 31–40 that no other file uses: one id form per file)
    assert sorted(by_file[hz.name]["response_id"]) == sorted(
        f"wjx-2026Q3-{i}" for i in range(1, 31))
    tags = by_file[sh.name]["response_id"].str.extract(r"^wjx-2026Q3-([0-9]+)@(SH01-h\w+)$")
    assert tags[0].astype(int).sort_values().tolist() == list(range(1, 41))
    assert tags[1].nunique() == 1
    files = {f.file: f for f in rep.files}
    assert files[sh.name].survey.endswith("/SH01") and files[hz.name].survey.endswith("/HZ01")
    assert any("also used by another survey" in n for n in files[sh.name].notes)
    # re-ingesting both is idempotent: the same ids again, nothing quarantined
    rep2 = run(tmp_path, tmp_path / "raw")
    assert (rep2.accepted, rep2.quarantined) == (70, 0)
    assert sorted(load_responses(tmp_path / "wh")["response_id"]) == sorted(df["response_id"])
    # a later export of the tagged survey (45 rows, another name): only its 5 new rows load,
    # under the same tag
    later = write_wjx(tmp_path / "later" / "wjx_sh_2026Q3_v2.csv", range(1, 46))
    rep3 = run(tmp_path, later)
    assert (rep3.accepted, rep3.quarantined, rep3.alerts) == (5, 40, [])
    new = load_responses(tmp_path / "wh").query("source_file == @later.name")["response_id"]
    assert sorted(new) == sorted(f"wjx-2026Q3-{i}@{tags[1].iloc[0]}" for i in range(41, 46))


def test_same_file_under_another_name_is_a_duplicate_without_alert(tmp_path, capsys):
    f = write_wjx(tmp_path / "a" / "wjx_2026Q3.csv", range(1, 21))
    run(tmp_path, f)
    copy = tmp_path / "b" / "wjx_2026Q3_again.csv"
    copy.parent.mkdir()
    copy.write_bytes(f.read_bytes())
    rep = run(tmp_path, copy)
    assert (rep.accepted, rep.quarantined) == (0, 20)
    assert rep.quarantine["reason"].str.contains(
        "the same response is already loaded from wjx_2026Q3.csv").all()
    assert rep.alerts == []        # nothing is lost: every row is in the warehouse
    assert any("already loaded" in n for n in rep.files[0].notes)
    assert main(["ingest", str(copy), "--warehouse", str(tmp_path / "wh"),
                 "--quarantine", str(tmp_path / "q")]) == 0
    assert len(load_responses(tmp_path / "wh")) == 20


def test_later_export_with_more_rows_loads_only_the_new_rows(tmp_path):
    run(tmp_path, write_wjx(tmp_path / "wjx_2026Q3.csv", range(1, 101)))
    later = write_wjx(tmp_path / "wjx_2026Q3_download2.csv", range(1, 121))
    rep = run(tmp_path, later)
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (120, 20, 100)
    assert rep.quarantine["reason"].str.startswith("序号: duplicate response id").all()
    assert rep.alerts == []
    df = load_responses(tmp_path / "wh")
    assert len(df) == 120 and df["response_id"].is_unique
    assert sorted(df.loc[df["source_file"] == later.name, "response_id"]) == sorted(
        f"wjx-2026Q3-{i}" for i in range(101, 121))


def test_same_survey_with_other_answers_is_a_loud_duplicate(tmp_path, capsys):
    run(tmp_path, write_wjx(tmp_path / "wjx_2026Q3.csv", range(1, 11)))
    edited = write_wjx(tmp_path / "wjx_2026Q3_edited.csv", range(1, 11), ltr=lambda i: 10)
    rep = run(tmp_path, edited)
    # ids 10 has ltr 10 in both files (10 % 11): the same response; the other nine differ
    assert (rep.accepted, rep.quarantined) == (0, 10)
    other = rep.quarantine[rep.quarantine["reason"].str.contains("with other answers")]
    assert len(other) == 9
    assert other["reason"].str.contains("already loaded from wjx_2026Q3.csv, the same survey "
                                        "wjx:h").all()
    [alert] = rep.alerts
    assert alert.startswith("wjx_2026Q3_edited.csv: 90 % of 10 rows quarantined for one reason, "
                            "no row loaded: 序号: duplicate response id wjx-2026Q3-1 with other answers")
    assert "survey_from_filename" in alert and "--branch" in alert
    code = main(["ingest", str(edited), "--warehouse", str(tmp_path / "wh"),
                 "--quarantine", str(tmp_path / "q")])
    err = capsys.readouterr().err
    assert code == 1
    assert "cxlab: wjx_2026Q3_edited.csv: 90 % of 10 rows quarantined" in err
    assert len(load_responses(tmp_path / "wh")) == 10


def test_warehouse_without_survey_keys_still_reads_and_is_conservative(tmp_path):
    """A manifest written before survey keys existed: it reads, and another file's overlapping
    ids with other answers are quarantined (not guessed to be another survey), saying why."""
    first = write_wjx(tmp_path / "wjx_hz_2026Q3.csv", range(1, 6), branch="杭州分公司")
    run(tmp_path, first)
    mpath = tmp_path / "wh" / "_manifest.json"
    manifest = json.loads(mpath.read_text(encoding="utf-8"))
    for entry in manifest["tables"]["responses"].values():
        assert entry.pop("survey").startswith("wjx:h")
    mpath.write_text(json.dumps(manifest), encoding="utf-8")
    assert len(load_responses(tmp_path / "wh")) == 5
    rep = run(tmp_path, write_wjx(tmp_path / "wjx_sh_2026Q3.csv", range(1, 6),
                                  ltr=lambda i: 10 - i))
    assert rep.quarantined == 5
    assert rep.quarantine["reason"].str.contains("re-ingest it first").all()
    assert len(rep.alerts) == 1
    # re-ingesting the old file records its survey; then the other branch's file loads
    run(tmp_path, first)
    rep = run(tmp_path, tmp_path / "wjx_sh_2026Q3.csv")
    assert (rep.accepted, rep.quarantined) == (5, 0)


def test_survey_key_from_file_name_header_and_branch():
    cols = ["ltr", "csat", "response_id:"]
    lime = r"results-survey(?P<survey>[0-9]+)"
    a = survey_key("limesurvey", "results-survey111.csv", cols, survey_from_filename=lime)
    b = survey_key("limesurvey", "results-survey222.csv", cols, survey_from_filename=lime)
    assert (str(a), str(b)) == ("limesurvey:p111", "limesurvey:p222")
    assert a.tag == "p111"
    # no id in the name: the question set, whatever the order of its headers' whitespace
    h1 = survey_key("wjx", "x.csv", ["ltr", "csat"])
    assert h1 == survey_key("wjx", "y.csv", ["ltr", "csat "])
    assert h1 != survey_key("wjx", "x.csv", ["ltr", "ces"])
    one = survey_key("wjx", "x.csv", ["ltr"], branches=pd.Series(["SH01", "SH01", None]))
    mixed = survey_key("wjx", "x.csv", ["ltr"], branches=pd.Series(["SH01", "HZ01"]))
    assert one.branch == "SH01" and mixed.branch is None
    assert one.tag.startswith("SH01-h") and isinstance(one, SurveyKey)


def test_fingerprints_survive_the_warehouse_round_trip(tmp_path):
    f = write_wjx(tmp_path / "wjx_2026Q3.csv", range(1, 8))
    run(tmp_path, f)
    back = load_responses(tmp_path / "wh").sort_values("response_id").reset_index(drop=True)
    again = back.copy()
    again["submitted_at"] = again["submitted_at"].astype("datetime64[ns]")
    assert row_fingerprints(back).tolist() == row_fingerprints(again).tolist()
    changed = back.copy()
    changed.loc[3, "ltr"] = 10 if changed.loc[3, "ltr"] != 10 else 9
    diff = row_fingerprints(back) != row_fingerprints(changed)
    assert diff.tolist() == [i == 3 for i in range(7)]


# ---- alerts ------------------------------------------------------------------------------------

def test_file_mostly_quarantined_for_one_reason_alerts_and_exits_1(tmp_path, capsys):
    f = write_wjx(tmp_path / "wjx_2026Q3.csv", range(1, 9), branch="火星分公司")
    code = main(["ingest", str(f), "--warehouse", str(tmp_path / "wh"),
                 "--quarantine", str(tmp_path / "q")])
    out, err = capsys.readouterr()
    assert code == 1
    line = [ln for ln in err.splitlines() if ln.startswith("cxlab: wjx_2026Q3.csv:")]
    assert line == ["cxlab: wjx_2026Q3.csv: 100 % of 8 rows quarantined for one reason, no row "
                    "loaded: 2、您办理业务的分公司: unknown branch '火星分公司' (not in org.yaml) — "
                    "add the branch (name or code) to params/org.yaml, map the branch question "
                    "in params/sources.yaml, or give --branch"]
    assert "ALERT wjx_2026Q3.csv: 100 %" in out
    log = load_ingest_log(tmp_path / "wh")
    assert log.iloc[-1]["alert"].startswith("wjx_2026Q3.csv: 100 %")


def test_alert_share_is_configurable_and_minor_problems_do_not_alert(tmp_path, capsys):
    # 3 of 8 rows have an unknown answer: below the default 50 %, above a 30 % share
    rows = write_wjx(tmp_path / "wjx_2026Q3.csv", range(1, 9))
    text = rows.read_text(encoding="utf-8").splitlines()
    text[1:4] = [ln.rsplit(",", 1)[0] + ",很好吧" for ln in text[1:4]]
    rows.write_text("\n".join(text) + "\n", encoding="utf-8")
    rep = run(tmp_path, rows)
    assert (rep.accepted, rep.quarantined, rep.alerts) == (5, 3, [])
    rep = run(tmp_path, rows, alert_share=0.3)
    [alert] = rep.alerts
    assert alert.startswith("wjx_2026Q3.csv: 38 % of 8 rows quarantined for one reason: ")
    assert "unknown answer '很好吧'" in alert and "params/codebook.yaml" in alert
    args = ["ingest", str(rows), "--warehouse", str(tmp_path / "wh"),
            "--quarantine", str(tmp_path / "q")]
    assert main(args) == 0
    assert main([*args, "--alert-share", "0.3"]) == 1
    capsys.readouterr()


# ---- provenance --------------------------------------------------------------------------------

def test_folder_ingest_keeps_every_source_hash_for_the_report(tmp_path):
    raw = tmp_path / "raw"
    write_wjx(raw / "survey" / "wjx_2026Q3.csv", range(1, 6))
    write_wjx(raw / "survey" / "more" / "wjx_hz_2026Q3.csv", range(1, 4), branch="杭州分公司")
    run(tmp_path, raw)
    df = load_responses(tmp_path / "wh")
    assert set(df["source_file"]) == {"survey/wjx_2026Q3.csv", "survey/more/wjx_hz_2026Q3.csv"}
    src = _sources(tmp_path / "wh", [df])
    assert len(src) == 2 and src["rows"].sum() == 8
    import hashlib
    for _, r in src.iterrows():
        assert r["sha256"] == hashlib.sha256((raw / r["file"]).read_bytes()).hexdigest()


def test_folder_ingest_after_file_ingest_replaces_the_files_rows(tmp_path):
    """Warehouses keyed by the bare file name (earlier versions, or the file given alone) are
    taken over by the folder ingest of the same file: no duplicates, one set of rows."""
    raw = tmp_path / "raw"
    f = write_wjx(raw / "survey" / "wjx_2026Q3.csv", range(1, 6))
    run(tmp_path, f)
    assert set(load_responses(tmp_path / "wh")["source_file"]) == {"wjx_2026Q3.csv"}
    rep = run(tmp_path, raw)
    assert (rep.accepted, rep.quarantined) == (5, 0)
    df = load_responses(tmp_path / "wh")
    assert len(df) == 5 and set(df["source_file"]) == {"survey/wjx_2026Q3.csv"}


def test_report_sources_match_rows_of_old_warehouses_by_file_name(tmp_path):
    f = write_wjx(tmp_path / "raw" / "survey" / "wjx_2026Q3.csv", range(1, 4))
    run(tmp_path, tmp_path / "raw")
    df = load_responses(tmp_path / "wh")
    df["source_file"] = "wjx_2026Q3.csv"     # rows as an earlier version wrote them
    src = _sources(tmp_path / "wh", [df])
    import hashlib
    assert src["sha256"].tolist() == [hashlib.sha256(f.read_bytes()).hexdigest()]


def test_earlier_and_later_export_in_one_folder_run(tmp_path):
    """Both downloads of one survey in the same run: the later one's first 100 rows are the
    responses the earlier file (this run) loads; only its 20 new rows load, without an alert."""
    write_wjx(tmp_path / "raw" / "wjx_2026Q3_a.csv", range(1, 101))
    write_wjx(tmp_path / "raw" / "wjx_2026Q3_b.csv", range(1, 121))
    rep = run(tmp_path, tmp_path / "raw")
    assert (rep.rows_read, rep.accepted, rep.quarantined, rep.alerts) == (220, 120, 100, [])
    assert rep.quarantine["reason"].str.contains(
        "the same response is already loaded from wjx_2026Q3_a.csv").all()
