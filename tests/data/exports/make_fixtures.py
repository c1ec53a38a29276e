"""Regenerate the synthetic export fixtures in this folder, byte for byte.

    .venv/bin/python tests/data/exports/make_fixtures.py

Every file follows its platform's documented layout, checked against real exports quoted in
public repositories (see each writer's comment). The data are invented. Output is
deterministic: no clocks (xlsx zip entries and core properties, the .sav header date are fixed),
no randomness. The real 问卷星 files used by the tests live in ``shared/real-exports/wjx/``.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXED = dt.datetime(2026, 1, 1, 0, 0, 0)


def _csv_line(cells, sep=",", quote_all=False) -> str:
    out = []
    for c in cells:
        c = "" if c is None else str(c)
        if quote_all or any(ch in c for ch in (sep, '"', "\n", "\r")):
            c = '"' + c.replace('"', '""') + '"'
        out.append(c)
    return sep.join(out)


def _write_text(name: str, rows, *, encoding: str, sep: str = ",", newline: str = "\r\n",
                quote_all: bool = False, bom: bytes = b"") -> None:
    text = newline.join(_csv_line(r, sep, quote_all) for r in rows) + newline
    (HERE / name).write_bytes(bom + text.encode(encoding))


def _normalise_zip(path: Path) -> None:
    """Rewrite a zip (xlsx) with fixed entry timestamps and order: byte-identical reruns."""
    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" on save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            dst.writestr(zi, data)
    path.write_bytes(buf.getvalue())


def _write_xlsx(name: str, rows) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for r in rows:
        ws.append(list(r))
    wb.properties.creator = "cxlab fixtures"
    wb.properties.created = FIXED
    wb.properties.modified = FIXED
    path = HERE / name
    wb.save(path)
    _normalise_zip(path)


# --- Qualtrics --------------------------------------------------------------------------------
# Layout: Qualtrics "Understanding your dataset" and ropensci/qualtRics
# tests/testthat/files/sample.csv — names row, question-text row, {"ImportId":…} row.
Q_META = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
          "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
          "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
          "DistributionChannel", "UserLanguage"]
Q_META_TEXT = ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
               "Duration (in seconds)", "Finished", "Recorded Date", "Response ID",
               "Recipient Last Name", "Recipient First Name", "Recipient Email",
               "External Data Reference", "Location Latitude", "Location Longitude",
               "Distribution Channel", "User Language"]
Q_META_IDS = ['{"ImportId":"startDate","timeZone":"Asia/Shanghai"}',
              '{"ImportId":"endDate","timeZone":"Asia/Shanghai"}', '{"ImportId":"status"}',
              '{"ImportId":"ipAddress"}', '{"ImportId":"progress"}', '{"ImportId":"duration"}',
              '{"ImportId":"finished"}', '{"ImportId":"recordedDate","timeZone":"Asia/Shanghai"}',
              '{"ImportId":"_recordId"}', '{"ImportId":"recipientLastName"}',
              '{"ImportId":"recipientFirstName"}', '{"ImportId":"recipientEmail"}',
              '{"ImportId":"externalDataReference"}', '{"ImportId":"locationLatitude"}',
              '{"ImportId":"locationLongitude"}', '{"ImportId":"distributionChannel"}',
              '{"ImportId":"userLanguage"}']
Q_ITEMS = ["Q1", "Q1_NPS_GROUP", "Q2", "Q4_1", "Q4_2", "Q4_3", "Q8", "Q8_5_TEXT", "Q9", "branch"]
Q_ITEMS_TEXT = ["您向朋友或同事推荐我们的可能性有多大？", "您向朋友或同事推荐我们的可能性有多大？ - Group",
                "总体而言，您对本次服务满意吗？", "请评价以下方面 - 产品外观", "请评价以下方面 - 服务态度",
                "请评价以下方面 - 办理速度", "您通过哪些渠道购买？ - Selected Choice",
                "您通过哪些渠道购买？ - 其他 - Text", "还有什么想对我们说的？", "branch"]
Q_ITEMS_IDS = ['{"ImportId":"QID1"}', '{"ImportId":"QID1_NPS_GROUP"}', '{"ImportId":"QID2"}',
               '{"ImportId":"QID4_1"}', '{"ImportId":"QID4_2"}', '{"ImportId":"QID4_3"}',
               '{"ImportId":"QID8"}', '{"ImportId":"QID8_5_TEXT"}', '{"ImportId":"QID9_TEXT"}',
               '{"ImportId":"branch"}']


def _q_meta(i: int, status, lang="ZH-S"):
    start = dt.datetime(2026, 7, 3, 9, 0, 0) + dt.timedelta(minutes=37 * i)
    end = start + dt.timedelta(seconds=140 + 13 * i)
    return [start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"), status,
            f"116.228.{10 + i}.{5 + i}", "100", str(140 + 13 * i), "1",
            end.strftime("%Y-%m-%d %H:%M:%S"), f"R_3kZ{i:02d}qA8bWx{i}Pm", "", "", "",
            f"C{1200 + i:06d}", "31.2222", "121.4581", "email", lang]


def qualtrics_numeric() -> None:
    """UTF-8 BOM CSV, numeric values; row 5 (line 5) is a preview, row 9 is spam; a comment
    spans two lines inside quotes."""
    answers = [  # Q1, group, Q2, Q4_1..3, Q8, Q8_5_TEXT, Q9, branch
        ["9", "3", "5", "5", "4", "5", "1,2", "", "服务很专业", "SH01"],
        ["10", "3", "5", "5", "5", "4", "1", "", "", "SH01"],
        ["6", "1", "2", "3", "2", "1", "2,5", "朋友介绍", "等待时间太长，\n希望多开窗口", "BJ01"],
        ["8", "2", "4", "4", "4", "4", "3", "", "", "GZ01"],
        ["3", "1", "1", "2", "1", "2", "5", "电视广告", "很不满意", "BJ01"],
        ["", "", "3", "3", "", "3", "", "", "", "GZ01"],
        ["7", "2", "4", "5", "3", "4", "1,3", "", "Good, but slow", "SH01"],
    ]
    statuses = ["0", "0", "1", "0", "0", "0", "8"]
    rows = [Q_META + Q_ITEMS, Q_META_TEXT + Q_ITEMS_TEXT, Q_META_IDS + Q_ITEMS_IDS]
    for i, (ans, st) in enumerate(zip(answers, statuses, strict=True)):
        rows.append(_q_meta(i, st) + ans)
    _write_text("qualtrics_numeric.csv", rows, encoding="utf-8", bom=codecs.BOM_UTF8)


def qualtrics_choice_tsv() -> None:
    """UTF-16 (BOM) TSV with choice text; one "Survey Test" row."""
    answers = [
        ["9", "Promoter", "非常满意", "好", "良好", "好", "线上商城,门店", "", "", "SH01"],
        ["4", "Detractor", "不满意", "一般", "差", "较差", "其他", "短视频直播", "态度差", "BJ01"],
        ["8", "Passive", "满意", "良好", "良好", "一般", "门店", "", "", "GZ01"],
        ["10", "Promoter", "非常满意", "好", "好", "好", "线上商城", "", "谢谢", "SH01"],
    ]
    statuses = ["IP Address", "IP Address", "Survey Test", "IP Address"]
    rows = [Q_META + Q_ITEMS, Q_META_TEXT + Q_ITEMS_TEXT, Q_META_IDS + Q_ITEMS_IDS]
    for i, (ans, st) in enumerate(zip(answers, statuses, strict=True)):
        meta = _q_meta(i, st)
        meta[6] = "True"
        rows.append(meta + ans)
    # Excel-style TSV: tab separated, UTF-16 little endian with BOM
    _write_text("qualtrics_choice.tsv", rows, encoding="utf-16-le", sep="\t",
                bom=codecs.BOM_UTF16_LE)


# --- SurveyMonkey -----------------------------------------------------------------------------
# Layout: SurveyMonkey "Understanding exports"; real export headers quoted in public repositories
# (question text once over blank cells; row 2 Response / Open-Ended Response / row labels).
SM_TOP = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
          "First Name", "Last Name", "Custom Data 1",
          "How likely is it that you would recommend us to a friend or colleague?",
          "Overall, how satisfied are you with our service?",
          "Please rate the following:", "", "",
          "Which channels did you use? (select all that apply)", "", "", "",
          "What should we improve?"]
SM_SUB = ["", "", "", "", "", "", "", "", "", "Response", "Response",
          "Product quality", "Delivery speed", "Customer support",
          "Website", "Store", "Hotline", "Other (please specify)", "Open-Ended Response"]


def _sm_rows():
    data = [
        ["114523189045", "431877201", "11/20/2025 9:14:02 AM", "11/20/2025 9:17:45 AM",
         "203.0.113.7", "", "", "", "SH01", "9", "Very satisfied", "Excellent", "Good", "Excellent",
         "Website", "", "", "", "Nothing, keep it up"],
        ["114523190112", "431877201", "11/20/2025 10:02:11 AM", "11/20/2025 10:05:09 AM",
         "203.0.113.8", "", "", "", "BJ01", "5", "Neutral", "Fair", "Poor", "Good",
         "Website", "Store", "", "WeChat mini-program", "Faster delivery, please"],
        ["114523191870", "431877202", "11/21/2025 3:44:50 PM", "11/21/2025 3:46:02 PM",
         "198.51.100.23", "", "", "", "GZ01", "10", "Very satisfied", "Excellent", "Excellent",
         "Excellent", "", "", "Hotline", "", ""],
        ["114523192233", "431877202", "11/22/2025 8:01:37 AM", "11/22/2025 8:03:15 AM",
         "198.51.100.40", "", "", "", "SH01", "", "Dissatisfied", "Poor", "", "Fair",
         "", "Store", "", "", "Staff at the store were \"rude\""],
    ]
    return [SM_TOP, SM_SUB, *data]


def surveymonkey_csv() -> None:
    _write_text("surveymonkey.csv", _sm_rows(), encoding="utf-8", newline="\r\n")


def surveymonkey_xlsx() -> None:
    rows = []
    for r in _sm_rows():
        rows.append([c if c != "" else None for c in r])
    _write_xlsx("surveymonkey.xlsx", rows)


# --- LimeSurvey -------------------------------------------------------------------------------
# Layout: LimeSurvey export_helper.php; exports quoted in public repositories
# (b'\xef\xbb\xbf"id";"submitdate";"lastpage";"startlanguage";"seed";…', CRLF, all quoted).
def limesurvey_csv() -> None:
    header = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp",
              "NPS", "SAT[SQ001]", "SAT[SQ002]", "SAT[SQ003]", "CH[SQ001]", "CH[SQ002]",
              "CH[other]", "COMMENT"]
    data = [
        ["1", "2025-11-03 10:12:44", "3", "zh-Hans", "1734052281", "2025-11-03 10:09:01",
         "2025-11-03 10:12:44", "9", "A1", "A2", "A1", "Y", "", "", "非常好"],
        ["2", "2025-11-03 11:40:02", "3", "zh-Hans", "402958117", "2025-11-03 11:36:40",
         "2025-11-03 11:40:02", "6", "A3", "N/A", "A4", "", "Y", "抖音", "客服电话打不通; 等了很久"],
        ["3", "", "1", "zh-Hans", "88213904", "2025-11-04 08:00:12", "2025-11-04 08:01:30",
         "N/A", "N/A", "N/A", "N/A", "", "", "", ""],
        ["4", "2025-11-05 19:22:17", "3", "en", "1299340021", "2025-11-05 19:19:55",
         "2025-11-05 19:22:17", "10", "A1", "A1", "A1", "Y", "Y", "", "Great \"service\""],
    ]
    _write_text("limesurvey.csv", [header, *data], encoding="utf-8", sep=";", quote_all=True,
                bom=codecs.BOM_UTF8)


# --- SPSS -------------------------------------------------------------------------------------
def spss_sav() -> None:
    """pyreadstat.write_sav with variable labels, value labels and user-missing values; the
    header's creation date/time (bytes 92–108) is fixed for a deterministic file."""
    import pandas as pd
    import pyreadstat

    df = pd.DataFrame({
        "id": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "branch": ["SH01", "BJ01", "GZ01", "SH01", "BJ01", "GZ01"],
        "ltr": [9.0, 10.0, 99.0, 4.0, 7.0, float("nan")],
        "sat": [5.0, 4.0, 8.0, 2.0, 9.0, 3.0],
        "channel": [1.0, 2.0, 3.0, 1.0, 1.0, 2.0],
        "comment": ["服务很好", "", "等待时间长", "", "价格偏高", ""],
    })
    path = HERE / "spss.sav"
    pyreadstat.write_sav(
        df, str(path),
        column_labels={"id": "答卷编号", "branch": "分公司", "ltr": "推荐意愿（0-10）",
                       "sat": "总体满意度", "channel": "购买渠道", "comment": "意见与建议"},
        variable_value_labels={
            "ltr": {0.0: "完全不可能", 10.0: "非常可能", 99.0: "不知道"},
            "sat": {1.0: "非常不满意", 2.0: "不满意", 3.0: "一般", 4.0: "满意", 5.0: "非常满意",
                    8.0: "不适用", 9.0: "拒答"},
            "channel": {1.0: "线上商城", 2.0: "门店", 3.0: "电话"},
        },
        missing_ranges={"ltr": [99.0], "sat": [{"lo": 8.0, "hi": 9.0}]},
    )
    raw = bytearray(path.read_bytes())
    # SAV header: rec_type(4) prod_name(60) layout(4) case_size(4) compression(4) weight(4)
    # ncases(4) bias(8) → creation_date (9 bytes) at 92, creation_time (8 bytes) at 101
    raw[92:101] = b"01 Jan 26"
    raw[101:109] = b"00:00:00"
    path.write_bytes(bytes(raw))


# --- Office CSV (China), UTF-8 BOM CSV, parquet -----------------------------------------------
def office_gbk_csv() -> None:
    """Excel "另存为 CSV" on Chinese Windows: GB18030/GBK, CRLF, trailing spaces in headers,
    full-width digits and brackets left as typed."""
    rows = [
        ["客户编号 ", "分公司", "满意度（1-5） ", "推荐意愿", "备注"],
        ["C000123", "上海分公司", "5", "9", "服务很好"],
        ["C000124", "北京分公司", "４", "8", "（无）"],
        ["C000125", "广州分公司", "2", "3", "营业厅排队太久，希望增加窗口"],
        ["C000126", "深圳分公司", "3", "7", ""],
    ]
    _write_text("office_gbk.csv", rows, encoding="gb18030")


def utf8_bom_csv() -> None:
    """A hand-made UTF-8-with-BOM CSV: leading-zero ids stay text; a ragged row (line 4 has an
    extra field) and a short row (line 6)."""
    text = ("\ufeffstore_id,visit_date,score,amount\r\n"
            "007,2026-07-01,9,128.5\r\n"
            "012,2026-07-02,7,86\r\n"
            "015,2026-07-02,10,240.0,extra\r\n"
            "\r\n"
            "021,2026-07-03\r\n"
            "030,2026-07-04,8,99.9\r\n")
    (HERE / "utf8_bom.csv").write_bytes(text.encode("utf-8"))


def parquet_file() -> None:
    import pandas as pd

    df = pd.DataFrame({"response_id": ["wjx-2026Q3-1", "wjx-2026Q3-2", "wjx-2026Q3-3"],
                       "ltr": pd.array([9, None, 3], dtype="Int64"),
                       "branch": ["SH01", "BJ01", "SH01"]})
    df.to_parquet(HERE / "responses.parquet", index=False, compression="zstd")


# --- 问卷星 -----------------------------------------------------------------------------------
# Layout: the real exports in shared/real-exports/wjx/ (gasongjian/reportgen example data).
WJX_META = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]


def wjx_text_xlsx() -> None:
    header = WJX_META + ["1、您的客户编号", "2、您办理业务的分公司 ", "3、总体满意度 ",
                         "4、您向朋友推荐我们的可能性有多大？", "5、您通过哪些渠道购买？ ",
                         "6、还有什么建议？"]
    data = [
        [1, "2026/7/3 14:05:09", "185秒", "手机提交", "直接访问", "116.228.10.5(上海-上海)",
         "C000123", "上海分公司", "好", "9", "线上商城┋门店", "服务很好"],
        [2, "2026/7/3 15:11:40", "92秒", "微信", "N/A", "123.120.8.77(北京-北京)",
         "C000124", "北京分公司", "一般", "6", "门店┋其他〖朋友介绍，顺路〗", "(跳过)"],
        [3, "2026/7/4 09:02:03", "1203秒", "链接", "直接访问", "113.108.2.9(广东-广州)",
         "C000125", "广州分公司", "(跳过)", "(跳过)", "(跳过)", "(空)"],
        [4, "2026/7/4 10:30:00", "47秒", "手机提交", "直接访问", "116.228.10.9(上海-上海)",
         "C000126", "上海分公司", "较差", "3", "线上商城", "排队时间太长"],
    ]
    _write_xlsx("wjx_text.xlsx", [header, *data])


def wjx_code_csv() -> None:
    """按选项序号 as CSV (UTF-8 BOM): 第N题(选项) 0/1 columns, a matrix N(行标题), -2/-3."""
    header = WJX_META + ["1、您办理业务的分公司", "2、总体满意度 ", "3、推荐意愿",
                         "第4题(线上商城)", "第4题(门店)", "第4题(ACG文化(动漫、游戏等))",
                         "第4题(其他)", "5(产品外观)", "5(服务态度)"]
    data = [
        ["1", "2026/7/3 14:05:09", "185秒", "手机提交", "直接访问", "116.228.10.5(上海-上海)",
         "1", "1", "9", "1", "1", "0", "0", "5", "4"],
        ["2", "2026/7/3 15:11:40", "92秒", "微信", "N/A", "123.120.8.77(北京-北京)",
         "2", "3", "-2", "0", "1", "0", "1", "-3", "-3"],
        ["3", "2026/7/4 09:02:03", "1203秒", "链接", "直接访问", "113.108.2.9(广东-广州)",
         "3", "-2", "-2", "-2", "-2", "-2", "-2", "3", "2"],
    ]
    _write_text("wjx_code.csv", [header, *data], encoding="utf-8", bom=codecs.BOM_UTF8)


# --- our questionnaire in four layouts, the same responses -----------------------------------
def ours_exports() -> None:
    """The sample data's 问卷星 text export of 2026Q3 (seed 0, 400 responses; the planted
    duplicate row left out) as ``ours_wjx_text.xlsx``, and the same responses as a 问卷星 code
    export, a SurveyMonkey CSV and a LimeSurvey CSV (``cxlab.datasets.write_platform_exports``;
    layouts in that module's docstring and docs/sample-data.md)."""
    import tempfile

    import pandas as pd

    from cxlab.datasets import make_sample_data, write_platform_exports
    from cxlab.datasets._make import _write_xlsx

    root = HERE.parents[2]
    params = {"codebook": root / "params" / "codebook.yaml", "org": root / "params" / "org.yaml"}
    with tempfile.TemporaryDirectory() as tmp:
        make_sample_data(tmp, seed=0, responses=400, **params)
        text = pd.read_excel(Path(tmp) / "survey" / "wjx_2026Q3.xlsx", dtype=object,
                             engine="openpyxl")
    text = text.drop_duplicates("序号", keep="first").reset_index(drop=True)
    text = text.astype(object).where(text.notna(), "")
    _write_xlsx(HERE / "ours_wjx_text.xlsx", text)
    write_platform_exports(text, HERE, stem="ours", **params)


WRITERS = [qualtrics_numeric, qualtrics_choice_tsv, surveymonkey_csv, surveymonkey_xlsx,
           limesurvey_csv, spss_sav, office_gbk_csv, utf8_bom_csv, parquet_file, wjx_text_xlsx,
           wjx_code_csv, ours_exports]


def main() -> None:
    for write in WRITERS:
        write()
    for path in sorted(HERE.iterdir()):
        if path.suffix != ".py" and path.is_file():
            size = path.stat().st_size
            if size >= 50_000:
                raise SystemExit(f"{path.name}: {size} bytes, fixtures must stay under 50 KB")
            print(f"{path.name:28s} {size:6d} bytes")


if __name__ == "__main__":
    main()
