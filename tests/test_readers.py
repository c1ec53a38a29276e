"""Readers of cxlab.io: read_export on every export format, split_multiselect.

Fixtures: tests/data/exports/ (regenerate with tests/data/exports/make_fixtures.py) and the real
问卷星 exports in shared/real-exports/wjx/ (same 800 respondents, text and code export).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlab.errors import CxlabError
from cxlab.io._errors import ExportError
from cxlab.io._multiselect import split_multiselect
from cxlab.io._readers import SOURCE_OPTIONS, SOURCES, read_export

EXPORTS = Path(__file__).resolve().parent / "data" / "exports"
WJX_TEXT = "wjx/wjx_800_800_0.xls"
WJX_CODE = "wjx/wjx_800_800_2.xls"


def _file_lines(path: Path, encoding: str) -> list[str]:
    return path.read_bytes().decode(encoding).splitlines()


@pytest.fixture(scope="module")
def real_text(real_exports):
    return read_export(real_exports / WJX_TEXT)


@pytest.fixture(scope="module")
def real_code(real_exports):
    return read_export(real_exports / WJX_CODE)


# --- the real 问卷星 exports -----------------------------------------------------------------
def test_real_wjx_text_export(real_text, real_exports):
    df = real_text
    assert df.attrs["source"] == "wjx_text"
    assert df.attrs["container"] == "xls"  # legacy OLE2 workbook, read by python-calamine
    assert len(df) == 800
    # headers "3、性别 " and "4、年龄 " carry trailing spaces in the file
    assert "3、性别" in df.columns and "4、年龄" in df.columns
    assert all(c == c.strip() for c in df.columns)
    assert df.attrs["labels"]["3、性别"] == "性别"
    assert df.attrs["labels"]["8、关注资讯"] == "关注资讯"
    assert df.attrs["question_numbers"]["7、爱好投入占收入比重"] == 7
    assert df["序号"].tolist() == list(range(1, 801))
    assert df.attrs["header_rows"] == 1 and df.attrs["first_data_line"] == 2
    assert list(df.attrs["row_lines"]) == list(range(2, 802))
    assert df["3、性别"].value_counts().to_dict() == {"男": 427, "女": 373}
    assert df.attrs["path"] == str(real_exports / WJX_TEXT)


def test_real_wjx_code_export(real_code):
    df = real_code
    assert df.attrs["source"] == "wjx_code"
    assert len(df) == 800
    # 36 exported columns + the parsed 所用时间_秒
    assert df.shape[1] == 37 and "所用时间_秒" in df.columns
    nested = "第8题(ACG文化(动漫、游戏等))"
    assert nested in df.columns
    assert df.attrs["question_numbers"][nested] == 8
    assert df.attrs["labels"][nested] == "ACG文化(动漫、游戏等)"
    assert str(df["3、性别"].dtype) == "Int64"
    assert int(df[nested].sum()) == 131
    assert df.attrs["skip_codes"] == {}  # these exports have no -2/-3


def test_real_exports_have_the_same_respondents_in_order(real_text, real_code):
    assert real_text["序号"].tolist() == real_code["序号"].tolist()
    # each single-choice answer text maps to exactly one code and back
    for col in ["1、手机部数", "2、手机价格", "3、性别", "4、年龄", "5、月收入", "7、爱好投入占收入比重"]:
        pairs = pd.DataFrame({"text": real_text[col], "code": real_code[col]})
        # "其他【请注明】〖…〗" carries free text, so compare the option part only
        pairs["text"] = pairs["text"].str.replace(r"〖.*〗$", "", regex=True)
        assert pairs.groupby("text")["code"].nunique().max() == 1, col
        assert pairs.groupby("code")["text"].nunique().max() == 1, col


@pytest.mark.parametrize(("text_col", "qnum", "n_other"), [("6、兴趣爱好", 6, 2), ("8、关注资讯", 8, 5)])
def test_split_multiselect_matches_code_export(real_text, real_code, text_col, qnum, n_other):
    split = split_multiselect(real_text[text_col])
    prefix = f"第{qnum}题("
    code_cols = [c for c in real_code.columns if c.startswith(prefix)]
    options = [c[len(prefix):-1] for c in code_cols]
    assert sorted(c for c in split.columns if not c.endswith("__text")) == sorted(options)
    for col, option in zip(code_cols, options, strict=True):
        expected = real_code[col].astype(bool).tolist()
        assert split[option].astype(bool).tolist() == expected, option
    other = "其他【请注明】"
    assert int(split[other].sum()) == n_other
    texts = split[f"{other}__text"].dropna()
    assert len(texts) == n_other  # free text kept beside its option, never a new option
    assert not any("〖" in c for c in split.columns)


# --- 问卷星 fixtures ----------------------------------------------------------------------------
def test_wjx_text_xlsx_skip_markers_and_duration():
    df = read_export(EXPORTS / "wjx_text.xlsx")
    assert df.attrs["source"] == "wjx_text" and df.attrs["container"] == "xlsx"
    assert "2、您办理业务的分公司" in df.columns  # trailing space stripped
    assert df["所用时间"].tolist() == ["185秒", "92秒", "1203秒", "47秒"]
    assert df["所用时间_秒"].tolist() == [185, 92, 1203, 47]
    assert list(df.columns).index("所用时间_秒") == list(df.columns).index("所用时间") + 1
    # (跳过)/(空) are missing and counted
    assert df["3、总体满意度"].isna().tolist() == [False, False, True, False]
    assert df.attrs["skip_codes"]["6、还有什么建议？"] == {"(跳过)": 1, "(空)": 1}
    # a 0-10 item answered as text becomes numeric once (跳过) is removed
    assert str(df["4、您向朋友推荐我们的可能性有多大？"].dtype) == "Int64"
    assert df["1、您的客户编号"].tolist() == ["C000123", "C000124", "C000125", "C000126"]
    channels = split_multiselect(df["5、您通过哪些渠道购买？"])
    assert channels.columns.tolist() == ["线上商城", "门店", "其他", "其他__text"]
    assert channels["其他__text"].tolist()[1] == "朋友介绍，顺路"
    assert channels.iloc[2].isna().all()  # skipped → not answered


def test_wjx_code_csv_minus2_minus3_are_missing_and_counted():
    df = read_export(EXPORTS / "wjx_code.csv")
    assert df.attrs["source"] == "wjx_code" and df.attrs["encoding"] == "utf-8-sig"
    assert "第4题(ACG文化(动漫、游戏等))" in df.columns
    assert df["3、推荐意愿"].isna().tolist() == [False, True, True]
    assert df.attrs["skip_codes"]["3、推荐意愿"] == {-2: 2}
    assert df.attrs["skip_codes"]["5(产品外观)"] == {-3: 1}
    assert df.attrs["labels"]["5(服务态度)"] == "服务态度"
    assert (df.drop(columns=["序号", "所用时间_秒"]).select_dtypes("number") < 0).sum().sum() == 0
    assert df["序号"].tolist() == [1, 2, 3]  # metadata is never masked


# --- Qualtrics ----------------------------------------------------------------------------------
def test_qualtrics_numeric_csv():
    path = EXPORTS / "qualtrics_numeric.csv"
    df = read_export(path)
    assert df.attrs["source"] == "qualtrics" and df.attrs["encoding"] == "utf-8-sig"
    assert df.columns[0] == "StartDate"  # no BOM in the name
    assert df.attrs["header_rows"] == 3
    assert len(df) == 6  # 7 records, 1 preview dropped
    assert df.attrs["dropped"] == [(6, "Qualtrics Status=1 (Survey Preview)")]
    assert df.attrs["bad_lines"] == [(11, "Qualtrics Status=8 (Spam)")]
    assert 1 not in df["Status"].tolist()
    # the preview's comment spans lines 6-7, so the next record starts on line 8
    assert tuple(df.attrs["row_lines"]) == (4, 5, 8, 9, 10, 11)
    lines = _file_lines(path, "utf-8-sig")
    for start, response_id in zip(df.attrs["row_lines"], df["ResponseId"], strict=True):
        assert response_id in lines[start - 1]
    assert df.attrs["labels"]["Q4_1"] == "请评价以下方面 - 产品外观"
    assert df.attrs["import_ids"]["Q1"] == "QID1"
    assert df.attrs["import_ids"]["StartDate"] == "startDate"
    assert "Q1_NPS_GROUP" in df.columns and str(df["Q1_NPS_GROUP"].dtype) == "Int64"
    assert df["Q1"].tolist()[:4] == [9, 10, 8, 3]
    assert df["Q8"].tolist()[0] == "1,2"
    assert split_multiselect(df["Q8"])["1"].tolist()[:2] == [True, True]


def test_qualtrics_choice_text_tsv_utf16():
    path = EXPORTS / "qualtrics_choice.tsv"
    assert path.read_bytes()[:2] == b"\xff\xfe"
    df = read_export(path)
    assert df.attrs["source"] == "qualtrics"
    assert df.attrs["encoding"] == "utf-16" and df.attrs["delimiter"] == "\t"
    assert len(df) == 3 and df.attrs["dropped"][0][1].endswith("(Survey Test)")
    assert df["Q2"].tolist() == ["非常满意", "不满意", "非常满意"]
    assert df["Q1_NPS_GROUP"].tolist() == ["Promoter", "Detractor", "Promoter"]
    assert df.attrs["labels"]["Q1"] == "您向朋友或同事推荐我们的可能性有多大？"
    assert tuple(df.attrs["row_lines"]) == (4, 5, 7)


# --- SurveyMonkey -------------------------------------------------------------------------------
def test_surveymonkey_csv_names_and_labels():
    df = read_export(EXPORTS / "surveymonkey.csv")
    assert df.attrs["source"] == "surveymonkey" and df.attrs["header_rows"] == 2
    assert df.attrs["first_data_line"] == 3
    nps = "How likely is it that you would recommend us to a friend or colleague?"
    row = "Please rate the following: - Delivery speed"
    other = "Which channels did you use? (select all that apply) - Other (please specify)"
    assert {nps, row, other, "What should we improve?", "Respondent ID"} <= set(df.columns)
    assert df.attrs["labels"][row] == "Please rate the following:"
    assert df.attrs["sub_labels"][row] == "Delivery speed"
    assert df[other].tolist()[1] == "WeChat mini-program"
    assert df["Respondent ID"].tolist()[0] == 114523189045
    assert df[nps].isna().tolist() == [False, False, False, True]
    assert df["What should we improve?"].tolist()[3] == 'Staff at the store were "rude"'


def test_surveymonkey_xlsx_equals_csv():
    x = read_export(EXPORTS / "surveymonkey.xlsx")
    c = read_export(EXPORTS / "surveymonkey.csv")
    assert x.attrs["source"] == "surveymonkey" and x.attrs["container"] == "xlsx"
    pd.testing.assert_frame_equal(x, c)
    assert x.attrs["labels"] == c.attrs["labels"]
    assert list(x.attrs["row_lines"]) == [3, 4, 5, 6]


# --- LimeSurvey ---------------------------------------------------------------------------------
def test_limesurvey_semicolon_csv():
    df = read_export(EXPORTS / "limesurvey.csv")
    assert df.attrs["source"] == "limesurvey" and df.attrs["delimiter"] == ";"
    assert df.columns[0] == "id"
    assert df["SAT[SQ001]"].tolist()[:2] == ["A1", "A3"]
    assert df["SAT[SQ002]"].isna().tolist() == [False, True, True, False]
    assert df.attrs["skip_codes"]["SAT[SQ002]"] == {"N/A": 2}
    assert df["COMMENT"].tolist()[1] == "客服电话打不通; 等了很久"  # ; inside quotes
    assert df["COMMENT"].tolist()[3] == 'Great "service"'
    assert df["CH[other]"].tolist()[1] == "抖音"
    assert str(df["id"].dtype) == "Int64"


# --- SPSS ---------------------------------------------------------------------------------------
def test_spss_labels_value_labels_user_missing():
    df = read_export(EXPORTS / "spss.sav")
    assert df.attrs["source"] == "spss" and df.attrs["container"] == "sav"
    assert df.attrs["labels"]["sat"] == "总体满意度"
    assert df.attrs["value_labels"]["channel"] == {1: "线上商城", 2: "门店", 3: "电话"}
    # user-missing 99 (ltr) and the range 8–9 (sat) are masked and counted
    assert df["ltr"].tolist()[:5] == [9, 10, pd.NA, 4, 7]
    assert df["sat"].isna().tolist() == [False, False, True, False, True, False]
    assert df.attrs["skip_codes"] == {"ltr": {99: 1}, "sat": {8: 1, 9: 1}}
    assert str(df["channel"].dtype) == "Int64"
    assert df["comment"].isna().tolist() == [False, True, False, True, False, True]
    assert list(df.attrs["row_lines"]) == [1, 2, 3, 4, 5, 6]


def test_spss_falls_back_to_gb18030_when_the_declared_encoding_fails(monkeypatch):
    import pyreadstat

    real = pyreadstat.read_sav
    calls = []

    def fake(path, **kw):
        calls.append(kw.get("encoding"))
        if kw.get("encoding") is None:  # what an undeclared-GBK file does with the default
            raise pyreadstat.ReadstatError("Unable to convert string to the requested encoding")
        kw.pop("encoding")  # the fixture is UTF-8: stand in for a successful GB18030 decode
        return real(path, **kw)

    monkeypatch.setattr(pyreadstat, "read_sav", fake)
    df = read_export(EXPORTS / "spss.sav")
    assert calls == [None, "GB18030"]
    assert df.attrs["encoding"] == "GB18030"
    assert df.attrs["labels"]["branch"] == "分公司"


# --- plain CSV, Excel, parquet ------------------------------------------------------------------
def test_gbk_office_csv():
    df = read_export(EXPORTS / "office_gbk.csv")
    assert df.attrs["source"] == "csv" and df.attrs["encoding"] == "gb18030"
    assert df.columns.tolist() == ["客户编号", "分公司", "满意度（1-5）", "推荐意愿", "备注"]
    # values are left as typed: the full-width ４ is not turned into a number
    assert df["满意度（1-5）"].tolist() == ["5", "４", "2", "3"]
    assert df["推荐意愿"].tolist() == [9, 8, 3, 7]
    assert df["备注"].tolist()[2] == "营业厅排队太久，希望增加窗口"


def test_utf8_bom_csv_ragged_rows_are_flagged_not_dropped():
    path = EXPORTS / "utf8_bom.csv"
    df = read_export(path)
    assert df.columns.tolist() == ["store_id", "visit_date", "score", "amount"]
    assert df["store_id"].tolist() == ["007", "012", "015", "021", "030"]  # ids stay text
    assert len(df) == 5  # every non-blank data line is a row
    assert df.attrs["bad_lines"] == [(4, "too many fields: expected 4, found 5"),
                                     (6, "too few fields: expected 4, found 2")]
    assert df.attrs["empty_lines"] == 1
    assert tuple(df.attrs["row_lines"]) == (2, 3, 4, 6, 7)
    lines = _file_lines(path, "utf-8-sig")
    for line, store in zip(df.attrs["row_lines"], df["store_id"], strict=True):
        assert lines[line - 1].startswith(store)
    assert df["amount"].dtype == "float64" and pd.isna(df["amount"].iloc[3])


def test_parquet():
    df = read_export(EXPORTS / "responses.parquet")
    assert df.attrs["source"] == "parquet"
    assert df["ltr"].tolist() == [9, pd.NA, 3]
    assert list(df.attrs["row_lines"]) == [1, 2, 3]


def test_generic_excel_first_sheet(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([" 客户编号 ", "得分"])
    ws.append(["C1", 9])
    ws.append([None, None])
    ws.append(["C2", 7.5])
    wb.create_sheet("other").append(["x"])
    wb.save(tmp_path / "plain.xlsx")
    df = read_export(tmp_path / "plain.xlsx")
    assert df.attrs["source"] == "excel" and df.attrs["sheet"] == "Sheet"
    assert df.columns.tolist() == ["客户编号", "得分"]
    assert df["得分"].tolist() == [9.0, 7.5]
    assert tuple(df.attrs["row_lines"]) == (2, 4) and df.attrs["empty_lines"] == 1


# --- detection from content ---------------------------------------------------------------------
@pytest.mark.parametrize(("fixture", "new_name", "source"), [
    ("utf8_bom.csv", "looks_like.xlsx", "csv"),
    ("qualtrics_numeric.csv", "export.txt", "qualtrics"),
    ("surveymonkey.xlsx", "export.csv", "surveymonkey"),
    ("spss.sav", "data.csv", "spss"),
    ("responses.parquet", "responses.xlsx", "parquet"),
    ("limesurvey.csv", "results", "limesurvey"),
])
def test_format_is_detected_from_content_not_name(tmp_path, fixture, new_name, source):
    target = tmp_path / new_name
    target.write_bytes((EXPORTS / fixture).read_bytes())
    assert read_export(target).attrs["source"] == source


def test_forced_source():
    df = read_export(EXPORTS / "qualtrics_numeric.csv", source="csv")
    assert df.attrs["source"] == "csv" and df.attrs["header_rows"] == 1
    assert len(df) == 9  # the two other header rows and every record, nothing dropped
    assert read_export(EXPORTS / "wjx_text.xlsx", source="wjx").attrs["source"] == "wjx_text"
    assert read_export(EXPORTS / "wjx_text.xlsx", source="excel").attrs["source"] == "excel"


def test_header_only_file_is_valid_with_no_rows(tmp_path):
    (tmp_path / "h.csv").write_text("序号,提交答卷时间,所用时间,1、性别\n", encoding="utf-8")
    df = read_export(tmp_path / "h.csv")
    assert len(df) == 0 and df.attrs["source"] == "wjx_text"
    assert "1、性别" in df.columns and df.attrs["first_data_line"] is None


# --- errors ---------------------------------------------------------------------------------------
def _broken_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    files = {
        "empty": (b"", "empty file"),
        "blank": (b"\xef\xbb\xbf\r\n\r\n", "no header row"),
        "truncated_xlsx": ((EXPORTS / "surveymonkey.xlsx").read_bytes()[:1500],
                           "not a readable Excel file (truncated or corrupt zip"),
        "corrupt_xls": (bytes.fromhex("d0cf11e0a1b11ae1") + bytes(600), "not a readable Excel file"),
        "garbage": (bytes(range(256)) * 16, "not a readable export"),
        "fake_sav": (b"$FL2" + bytes(60), "not a readable SPSS file"),
        "fake_parquet": (b"PAR1" + bytes(60), "not a readable parquet file"),
    }
    out = {}
    for name, (data, reason) in files.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(data)
        out[name] = (path, reason)
    return out


@pytest.mark.parametrize("case", ["empty", "blank", "truncated_xlsx", "corrupt_xls", "garbage",
                                  "fake_sav", "fake_parquet"])
def test_unreadable_files_raise_one_line_export_error(tmp_path, case):
    path, reason = _broken_files(tmp_path)[case]
    with pytest.raises(ExportError) as info:
        read_export(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and reason in msg
    assert "\n" not in msg and "Traceback" not in msg
    assert isinstance(info.value, CxlabError) and isinstance(info.value, ValueError)
    # no chained library traceback
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_missing_file_wrong_source_and_bad_argument(tmp_path):
    with pytest.raises(ExportError, match=r"nope\.csv: file not found"):
        read_export(tmp_path / "nope.csv")
    with pytest.raises(ExportError, match=r"^.*office_gbk\.csv: expected a Qualtrics export"):
        read_export(EXPORTS / "office_gbk.csv", source="qualtrics")
    with pytest.raises(ExportError, match="expects SPSS, but the content is delimited text"):
        read_export(EXPORTS / "office_gbk.csv", source="spss")
    with pytest.raises(ValueError, match="auto, wjx, wjx_text, wjx_code, qualtrics"):
        read_export(EXPORTS / "office_gbk.csv", source="sav")


def test_public_constants():
    assert SOURCES == ("wjx_text", "wjx_code", "qualtrics", "surveymonkey", "limesurvey", "spss",
                       "csv", "excel", "parquet")
    assert SOURCE_OPTIONS[0] == "auto"


# --- property: any well-formed CSV round-trips and row_lines point at the record ----------------
_cell = st.text(alphabet=st.sampled_from(list("ab,\"\n 中文７;") + ["x"]), max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_cell, min_size=3, max_size=3), min_size=1, max_size=8))
def test_csv_round_trip_and_line_mapping(tmp_path, body):
    rows = [["id", "text_a", "text_b", "text_c"]]
    rows += [[f"r{i}", *cells] for i, cells in enumerate(body)]
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path = tmp_path / "prop.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    df = read_export(path, source="csv")
    assert df["id"].tolist() == [f"r{i}" for i in range(len(body))]
    for j, name in enumerate(["text_a", "text_b", "text_c"]):
        expected = [None if not c.strip() else c for c in (r[j] for r in body)]
        got = [None if pd.isna(v) else v for v in df[name]]
        assert got == expected
    physical = re.split(r"\r\n|\r|\n", buf.getvalue())  # lines as editors count them
    for line, rid in zip(df.attrs["row_lines"], df["id"], strict=True):
        assert physical[line - 1].startswith(rid + ",")
    assert df.attrs["bad_lines"] == []


# --- split_multiselect ----------------------------------------------------------------------------
def test_split_multiselect_missing_vs_nothing_chosen():
    s = pd.Series(["A┋B", None, "", float("nan"), "B"], index=[10, 11, 12, 13, 14])
    out = split_multiselect(s)
    assert out.index.tolist() == [10, 11, 12, 13, 14]
    assert out.columns.tolist() == ["A", "B"]
    assert str(out["A"].dtype) == "float64" and str(out["B"].dtype) == "float64"
    assert out.loc[11].isna().all() and out.loc[13].isna().all()
    assert out.loc[12].tolist() == [0.0, 0.0]
    assert out["B"].tolist()[4] == 1.0
    # indicator means are the shares among those who answered (3 answered; B chosen twice)
    assert out["A"].mean() == pytest.approx(1 / 3, rel=1e-12)
    assert out["B"].mean() == pytest.approx(2 / 3, rel=1e-12)


@pytest.mark.parametrize(("values", "expected_cols"), [
    (["a|b", "c"], ["a", "b", "c"]),
    (["1,2", "3"], ["1", "2", "3"]),
    (["x; y", "y"], ["x", "y"]),
    (["甲┋乙,丙", "丁"], ["甲", "乙,丙", "丁"]),  # ┋ wins: commas inside an option stay
])
def test_split_multiselect_detects_separator(values, expected_cols):
    assert split_multiselect(pd.Series(values)).columns.tolist() == expected_cols


def test_split_multiselect_other_text_and_options():
    s = pd.Series(["门店┋其他〖朋友┋同事介绍〗", "其他【请注明】〖抖音〗", "线上商城"])
    out = split_multiselect(s, options=["线上商城", "门店", "电话"])
    assert out.columns.tolist() == ["线上商城", "门店", "电话", "其他", "其他__text",
                                    "其他【请注明】", "其他【请注明】__text"]
    assert out["电话"].tolist() == [False, False, False]
    assert out["其他__text"].tolist()[0] == "朋友┋同事介绍"  # separator inside 〖〗 is text
    assert out["其他【请注明】"].tolist() == [False, True, False]
    assert out["其他【请注明】__text"].isna().tolist() == [True, False, True]


def test_split_multiselect_explicit_sep_and_bad_arguments():
    out = split_multiselect(pd.Series(["a/b", "b"]), sep="/")
    assert out.columns.tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="sep"):
        split_multiselect(pd.Series(["a"]), sep="")
    with pytest.raises(TypeError, match="Series"):
        split_multiselect(["a┋b"])


_option = st.sampled_from(["运动", "影视", "IT数码", "政治/军事", "ACG文化(动漫、游戏等)", "其他【请注明】"])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(_option, unique=True, min_size=1)), min_size=1,
                max_size=20))
def test_split_multiselect_recovers_chosen_sets(answers):
    s = pd.Series(["┋".join(a) if a is not None else None for a in answers])
    out = split_multiselect(s)
    for i, chosen in enumerate(answers):
        row = out.iloc[i]
        if chosen is None:
            assert row.isna().all()
        else:
            assert {c for c in out.columns if row[c]} == set(chosen)
    # count of True per option = how many answers chose it
    for option in out.columns:
        assert int(out[option].sum()) == sum(1 for a in answers if a and option in a)


def test_fully_quoted_csv_takes_the_fast_path_and_matches_the_careful_one(tmp_path, monkeypatch):
    """pyarrow and Excel quote every header cell; the stray-quote check once sent such files
    (first byte a quote) down the slow line-by-line path."""
    import csv

    from cxlab.io._text import fast_delimited

    path = tmp_path / "quoted.csv"
    frame = pd.DataFrame({"response_id": ["R1", "R2", "R3"], "ltr": ["9", "", "3"],
                          "comment": ["很好, 满意", "a,b", "007"]})
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    assert path.read_bytes().startswith(b'"response_id"')
    assert fast_delimited(path.read_bytes()) is not None
    fast = read_export(path)
    monkeypatch.setenv("CXLAB_CAREFUL_CSV", "1")
    careful = read_export(path)
    pd.testing.assert_frame_equal(fast, careful, check_exact=True)
    assert {k: str(v) for k, v in fast.attrs.items()} == {k: str(v) for k, v in careful.attrs.items()}
