"""Readers against layouts taken from REAL platform exports published in public repositories
(issue 23 §5/§6), not against cxlab's own export writer: a wrong idea of a platform's layout
fails here. Only the header lines are reproduced (with our questionnaire's questions where the
real file asked other ones); the data rows are small and synthetic."""

from __future__ import annotations

import io

import pandas as pd
from ingest_helpers import ingest_into, own_pseudonym_key  # noqa: F401 - autouse fixture

from cxlab.config import load_codebook
from cxlab.io import load_responses, read_export

CB = load_codebook()
LTR, CSAT, CES = (CB.item(i).label for i in ("ltr", "csat", "ces"))


run = ingest_into


def _no_secret(frame: pd.DataFrame, secrets) -> None:
    for secret in secrets:
        for col in frame.columns:
            assert not frame[col].astype("string").str.contains(secret, regex=False).any(), \
                f"{secret!r} reached the warehouse in column {col}"


# ---- Qualtrics legacy layout (exports made before 2017) -------------------------------------
# Modelled on ropensci/qualtRics tests/testthat/files/sample_legacy.csv (a real legacy export):
#   V1,V2,V3,V4,V5,V6,V7,V8,V9,V10,Q1,Q2,LocationLatitude,LocationLongitude,LocationAccuracy,
#   ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,StartDate,
#   EndDate,Finished,<question texts>,LocationLatitude,LocationLongitude,LocationAccuracy,
# (two header rows, no ImportId row, a trailing comma on every line). Our questions Q1–Q3 and an
# embedded-data field `branch` stand in for the real file's two questions.

QUALTRICS_LEGACY = (
    "V1,V2,V3,V4,V5,V6,V7,V8,V9,V10,branch,Q1,Q2,Q3,LocationLatitude,LocationLongitude,"
    "LocationAccuracy,\n"
    "ResponseID,ResponseSet,Name,ExternalDataReference,EmailAddress,IPAddress,Status,StartDate,"
    f"EndDate,Finished,branch,{LTR},{CSAT},{CES},LocationLatitude,LocationLongitude,"
    "LocationAccuracy,\n"
    "R_2YPOQ602ER1jkf1,Default Response Set,王小明,C000101,wxm@example.com,130.92.34.66,0,"
    "2016-07-18 08:28:09,2016-07-18 08:28:48,1,SH01,9,5,6,47.115097045898,7.2315979003906,-1,\n"
    "R_3aBcDeFgHiJkLmN,Default Response Set,李四,C000102,,130.92.34.67,1,"
    "2016-07-18 09:00:00,2016-07-18 09:01:00,1,SH01,10,5,7,,,-1,\n"
    "R_1ZyXwVuTsRqPoNm,Default Response Set,Anonymous,C000103,,130.92.34.68,0,"
    "2016-08-02 10:00:00,2016-08-02 10:03:10,1,HZ01,3,2,2,,,-1,\n"
)


def test_qualtrics_legacy_layout_is_read_as_qualtrics(tmp_path):
    f = tmp_path / "qualtrics_legacy.csv"
    f.write_text(QUALTRICS_LEGACY, encoding="utf-8")
    df = read_export(f)
    assert df.attrs["source"] == "qualtrics" and df.attrs["layout"] == "legacy"
    assert df.attrs["header_rows"] == 2
    # V1…V10 take row 2's names, in the current export's spelling where it has one
    assert list(df.columns[:10]) == ["ResponseId", "ResponseSet", "Name", "ExternalReference",
                                     "RecipientEmail", "IPAddress", "Status", "StartDate",
                                     "EndDate", "Finished"]
    assert df.attrs["legacy_names"]["ResponseId"] == "V1"
    assert df.attrs["labels"]["Q1"] == LTR and "ResponseId" not in df.attrs["labels"]
    # the preview row (Status 1) is not a response
    assert df["ResponseId"].tolist() == ["R_2YPOQ602ER1jkf1", "R_1ZyXwVuTsRqPoNm"]
    assert [reason for _, reason in df.attrs["dropped"]] == ["Qualtrics Status=1 (Survey Preview)"]


def test_qualtrics_legacy_export_ingests_without_personal_data(tmp_path):
    f = tmp_path / "qualtrics_legacy.csv"
    f.write_text(QUALTRICS_LEGACY, encoding="utf-8")
    rep = run(tmp_path, f)
    assert (rep.rows_read, rep.accepted, rep.quarantined, rep.alerts) == (2, 2, 0, [])
    assert rep.files[0].source == "qualtrics"
    df = load_responses(tmp_path / "wh").sort_values("response_id").reset_index(drop=True)
    assert df["response_id"].tolist() == ["R_1ZyXwVuTsRqPoNm", "R_2YPOQ602ER1jkf1"]
    assert df["ltr"].tolist() == [3, 9] and df["branch"].tolist() == ["HZ01", "SH01"]
    assert df["submitted_at"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2016-08-02 10:03", "2016-07-18 08:28"]           # EndDate (no RecordedDate in legacy)
    assert df["period"].tolist() == ["2016Q3", "2016Q3"]
    assert df["customer_id"].notna().all() and not df["customer_id"].str.startswith("C0").any()
    _no_secret(df, ["王小明", "wxm@example.com", "130.92.34", "47.1150", "Default Response Set"])


# ---- SurveyMonkey ----------------------------------------------------------------------------
# The two header rows of a real SurveyMonkey "All responses data" CSV, quoted in
# ajturner/dc-elections src/utils/response.ts ("For responses files that are direct export from
# SurveyMonkey", Row 1 / Row 2):
#   Row 1: Respondent ID,Collector ID,Start Date,End Date,IP Address,Email Address,First Name,
#          Last Name,Custom Data 1,Contact information,,,,<question>,<question>,…
#   Row 2: ,,,,,,,,,Name,Email,<field>,<field>,Response,Response,Open-Ended Response,…
# i.e. nine metadata columns blank in row 2; a multi-field question (contact form) written once
# over its columns with the field names in row 2; "Response" / "Open-Ended Response" under a
# single question; a ranking/matrix question written once with its rows in row 2. Our questions
# replace the real ones; the contact block keeps the real field names.

def _sm_csv() -> str:
    look, color = CB.item("look_shape").label, CB.item("look_color").label
    comment = CB.item("comment").label
    top = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
           "Email Address", "First Name", "Last Name", "Custom Data 1", "Contact information",
           "", "", "", "您办理业务的分公司", LTR, "请评价以下方面", "", comment]
    sub = ["", "", "", "", "", "", "", "", "", "Name", "Email",
           "Campaign-related social media accounts", "Fundraising link, if applicable",
           "Response", "Response", look, color, "Open-Ended Response"]
    rows = [
        ["114523189101", "431877201", "07/03/2026 9:05:09 AM", "07/03/2026 9:09:40 AM",
         "116.228.10.5", "zs@example.com", "三", "张", "C000201", "张三", "zs@example.com",
         "@zhangsan", "N/A", "上海分公司", "9", "好", "一般", "送货很快"],
        ["114523189102", "431877202", "07/04/2026 2:15:00 PM", "07/04/2026 2:20:13 PM",
         "116.228.10.6", "", "", "", "C000202", "", "", "", "", "杭州分公司", "6", "差", "好", ""],
    ]
    buf = io.StringIO()
    import csv

    csv.writer(buf, lineterminator="\r\n").writerows([top, sub, *rows])
    return buf.getvalue()


def test_surveymonkey_real_two_row_header(tmp_path):
    f = tmp_path / "Sheet_1.csv"
    f.write_text(_sm_csv(), encoding="utf-8")
    df = read_export(f)
    assert df.attrs["source"] == "surveymonkey" and df.attrs["header_rows"] == 2
    look = CB.item("look_shape").label
    assert f"请评价以下方面 - {look}" in df.columns
    assert "Contact information - Name" in df.columns and "Contact information - Email" in df.columns
    assert LTR in df.columns                      # "Response" under a single question
    rep = run(tmp_path, f)
    assert (rep.accepted, rep.quarantined) == (2, 0)
    out = load_responses(tmp_path / "wh").sort_values("response_id").reset_index(drop=True)
    assert out["response_id"].tolist() == ["114523189101", "114523189102"]
    assert out["ltr"].tolist() == [9, 6] and out["branch"].tolist() == ["SH01", "HZ01"]
    assert out["look_shape"].tolist() == [5, 1] and out["look_color"].tolist() == [3, 5]
    assert out["comment"].tolist()[0] == "送货很快"
    assert out["submitted_at"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2026-07-03 09:09", "2026-07-04 14:20"]
    # the contact form (name, e-mail, social accounts) never loads
    _no_secret(out, ["张三", "zs@example.com", "@zhangsan", "116.228"])


# ---- LimeSurvey ------------------------------------------------------------------------------
# Real LimeSurvey response exports ("question code" headings) as listed in
# softwaresaved/international-survey-2022 clean_scripts/survey_column_mapping.csv (the column
# names of their LimeSurvey export): id, seed, datestamp, ipaddr, refurl, interviewtime,
# groupTime<group id>, <code>Time per question, <code>[SQ001]… for subquestions and
# <code>[other] for "other" text. Metadata order id, submitdate, lastpage, startlanguage, seed,
# startdate, datestamp (LimeSurvey's own order, also cxlab/io/_limesurvey.py). File name
# results-survey<survey id>.csv: LimeSurvey's Writer::init ('results-survey'.$oSurvey->id).

def _ls_csv(ids, *, ltr, branch="SH01") -> str:
    head = ["id", "token", "submitdate", "lastpage", "startlanguage", "seed", "startdate",
            "datestamp", "ipaddr", "refurl", "Q1", "Q2", "Q4[SQ001]", "Q4[SQ002]", "branch",
            "interviewtime", "groupTime1563", "Q1Time", "Q2Time", "Q4Time"]
    lines = [",".join(f'"{h}"' for h in head)]
    for i in ids:
        row = [str(i), f"T{i:04d}", f"2026-07-0{1 + i % 8} 10:00:00", "3", "zh-Hans",
               str(1000003 * i), f"2026-07-0{1 + i % 8} 09:55:00", f"2026-07-0{1 + i % 8} 10:00:00",
               "10.1.1.1", "https://example.com/?uid=42", str(ltr(i)), "A1", "A2", "N/A", branch,
               "301.5", "120.2", "12.0", "8.1", "40.3"]
        lines.append(",".join(f'"{c}"' for c in row))
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


def test_limesurvey_real_columns_load_and_timings_are_not_loaded(tmp_path):
    f = tmp_path / "results-survey123456.csv"
    f.write_text(_ls_csv(range(1, 4), ltr=lambda i: 7 + i), encoding="utf-8")
    df = read_export(f)
    assert df.attrs["source"] == "limesurvey"
    rep = run(tmp_path, f)
    assert (rep.accepted, rep.quarantined) == (3, 0)
    note = " ".join(rep.files[0].notes)
    for timing in ("interviewtime", "groupTime1563", "Q1Time"):
        assert timing in note                # listed as not loaded
    out = load_responses(tmp_path / "wh").sort_values("response_id")
    assert out["ltr"].tolist() == [8, 9, 10]
    assert out["look_shape"].tolist() == [4, 4, 4]      # A2 = second option shown (5, 4, …)
    assert out["look_color"].isna().all()               # N/A: not shown
    assert rep.files[0].survey == "limesurvey:p123456/SH01"   # id from the name, one branch
    _no_secret(out, ["10.1.1.1", "uid=42"])


def test_two_limesurvey_surveys_with_ids_from_one_both_load(tmp_path):
    a = tmp_path / "raw" / "results-survey111111.csv"
    b = tmp_path / "raw" / "results-survey222222.csv"
    a.parent.mkdir()
    a.write_text(_ls_csv(range(1, 6), ltr=lambda i: i), encoding="utf-8")
    b.write_text(_ls_csv(range(1, 4), ltr=lambda i: 10 - i, branch="HZ01"), encoding="utf-8")
    rep = run(tmp_path, tmp_path / "raw")
    assert (rep.accepted, rep.quarantined, rep.alerts) == (8, 0, [])
    out = load_responses(tmp_path / "wh")
    assert out["response_id"].is_unique
    assert sorted(out.loc[out["source_file"] == b.name, "response_id"]) == [
        "1@p222222", "2@p222222", "3@p222222"]

