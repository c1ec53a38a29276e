"""Regenerate the bad-input corpus (tests/data/bad/) and its expectations (EXPECTED.yaml).

    .venv/bin/python tests/data/bad/make_corpus.py [OUT_DIR]

Deterministic: no clock, no unseeded randomness, fixed xlsx metadata (xlsxwriter ``created``),
so running it twice gives byte-identical files (``tests/test_bad_inputs.py`` checks that the
committed corpus equals a fresh regeneration).

Every file is ingested on its own by ``cxlab ingest FILE --warehouse W --quarantine Q
--period 2026Q3 --branch SH01`` (``args`` in EXPECTED.yaml replaces ``--period/--branch`` where a
case needs it). Expectations:

- ``expect: reject`` — the whole file is rejected: exit status 1, ``message`` is a fragment of
  the one-line reason, the warehouse data files are unchanged.
- ``expect: accept`` — exit 0, ``accepted`` rows loaded, nothing quarantined.
- ``expect: quarantine`` — exit 0, ``accepted`` rows loaded and the rows at file lines ``rows``
  (1-based, header lines included: the line where the record starts, or the sheet row) are
  quarantined with ``reason`` in their reason.
- ``expect: usage`` — exit 2 (bad command line), nothing written.
- optional on loaded files: ``values`` (column → the loaded values of this file's rows, in file
  order), ``missing`` (column → which of them are missing), ``absent`` (strings that must not
  reach the warehouse).
- ``expect: reject_or_quarantine`` — a malformed record (``lines``) in a file of ``records`` data
  records: either the file is rejected with a message naming the line, or all ``records`` are
  read and that line is quarantined; never may records vanish silently.

The layouts are those of ``params/sources.yaml``: the canonical plain CSV (``generic``: columns
named by codebook item id), 问卷星 (``wjx``: ``序号, 提交答卷时间, …, N、<label>``) and Qualtrics
(three header rows, ``Q1`` = ltr, ``Q4_k`` = verbal matrix rows).
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import random
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXED_TIME = dt.datetime(2026, 1, 1, 0, 0, 0)

# ----------------------------------------------------------------------------------------------
# canonical plain CSV (sources.yaml: generic)

HEADER = ["response_id", "customer_id", "submitted_at", "channel", "ltr", "csat", "look_shape",
          "svc_attitude", "comment"]
GOOD = [
    ["R001", "C000001", "2026-07-03 14:05:09", "微信", "9", "非常满意", "好", "良好", "很好用"],
    ["R002", "C000002", "2026-07-04 09:12:44", "短信", "6", "一般", "一般", "较差", "客服回复太慢"],
    ["R003", "C000003", "2026-08-15 20:01:00", "邮件", "10", "满意", "良好", "好", ""],
    ["R004", "C000004", "2026-09-01 08:00:00", "APP推送", "0", "非常不满意", "差", "差", "退货"],
]


def _csv(rows: list[list[str]], *, header: list[str] = HEADER, nl: str = "\n") -> str:
    def cell(v: object) -> str:
        v = str(v)
        if any(ch in v for ch in ',"\r\n'):
            return '"' + v.replace('"', '""') + '"'
        return v
    return "".join(",".join(cell(v) for v in r) + nl for r in [header, *rows])


def _row(rid: str, **over: str) -> list[str]:
    base = dict(zip(HEADER, GOOD[0], strict=True))
    base["response_id"] = rid
    base["customer_id"] = "C" + rid[1:].rjust(6, "0")
    base.update(over)
    return [base[c] for c in HEADER]


# ----------------------------------------------------------------------------------------------
# 问卷星 layout (sources.yaml: wjx). Labels are the codebook labels; "3、" etc. as the generator.

WJX_META = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
WJX_Q = ["1、您的客户编号", "2、您办理业务的分公司", "3、客户姓名 ", "4、产品形状和大小",
         "5、服务人员态度", "6、您有多大可能向朋友或同事推荐我们的产品和服务?", "7、整体评价及建议"]
WJX_HEADER = WJX_META + WJX_Q


def _wjx_row(n: int, *, ltr: object = 9, shape: str = "好", attitude: str = "良好",
             comment: str = "不错", branch: str = "上海分公司") -> list[object]:
    return [n, f"2026/7/{n % 28 + 1} 14:05:09", f"{100 + n}秒", "手机提交", "直接访问",
            f"116.228.10.{n}(上海-上海)", f"C{n:06d}", branch, f"张{n}", shape, attitude, ltr,
            comment]


# 问卷星 "按选项序号": every question cell a number; -2 skipped by logic, -3 not shown
WJX_CODE_HEADER = WJX_META + ["1、产品形状和大小", "2、服务人员态度",
                              "3、您有多大可能向朋友或同事推荐我们的产品和服务?"]

# ----------------------------------------------------------------------------------------------
# Qualtrics layout (sources.yaml: qualtrics)

Q_NAMES = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
           "Finished", "RecordedDate", "ResponseId", "ExternalReference", "DistributionChannel",
           "UserLanguage", "Q1", "Q1_NPS_GROUP", "Q4_1", "Q4_2", "Q9", "branch"]
Q_TEXT = ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
          "Duration (in seconds)", "Finished", "Recorded Date", "Response ID",
          "External Data Reference", "Distribution Channel", "User Language",
          "您有多大可能向朋友或同事推荐我们的产品和服务?",
          "您有多大可能向朋友或同事推荐我们的产品和服务? - Group",
          "请评价以下方面 - 产品形状和大小", "请评价以下方面 - 产品的色彩", "整体评价及建议", "branch"]
Q_IDS = ['{"ImportId":"startDate","timeZone":"Asia/Shanghai"}',
         '{"ImportId":"endDate","timeZone":"Asia/Shanghai"}', '{"ImportId":"status"}',
         '{"ImportId":"ipAddress"}', '{"ImportId":"progress"}', '{"ImportId":"duration"}',
         '{"ImportId":"finished"}', '{"ImportId":"recordedDate","timeZone":"Asia/Shanghai"}',
         '{"ImportId":"_recordId"}', '{"ImportId":"externalDataReference"}',
         '{"ImportId":"distributionChannel"}', '{"ImportId":"userLanguage"}',
         '{"ImportId":"QID1"}', '{"ImportId":"QID1_NPS_GROUP"}', '{"ImportId":"QID4_1"}',
         '{"ImportId":"QID4_2"}', '{"ImportId":"QID9_TEXT"}', '{"ImportId":"branch"}']


def _q_row(i: int, *, status: str = "0", q1: str = "9", q4_1: str = "5", q4_2: str = "4",
           comment: str = "很好", rid: str | None = None) -> list[str]:
    preview = status == "1"
    group = "" if not q1.isdigit() or int(q1) > 10 else ("3" if int(q1) >= 9 else "2" if int(q1) >= 7 else "1")
    return ["2026-07-03 10:00:00", "2026-07-03 10:05:00", status, "" if preview else f"10.0.0.{i}",
            "100", "300", "1", "2026-07-03 10:05:01", rid or f"R_q{i:04d}",
            "" if preview else f"C{i:06d}", "preview" if preview else "email", "ZH-S",
            q1, group, q4_1, q4_2, "测试预览" if preview else comment, "SH01"]


def _qualtrics(rows: list[list[str]]) -> bytes:
    return codecs.BOM_UTF8 + _csv([Q_TEXT, Q_IDS, *rows], header=Q_NAMES, nl="\r\n").encode("utf-8")


# ----------------------------------------------------------------------------------------------
# binary containers

def _xlsx(rows: list[list[object]]) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False,
                                   "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": "cxlab bad-input corpus", "author": "cxlab", "created": FIXED_TIME})
    ws = wb.add_worksheet("Sheet1")
    for r, row in enumerate(rows):
        ws.write_row(r, 0, [None if v == "" else v for v in row])
    wb.close()
    return buf.getvalue()


def _xls(rows: list[list[object]]) -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if v != "":
                ws.write(r, c, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _zip_not_xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("hello.txt", date_time=(1980, 1, 1, 0, 0, 0))
        zf.writestr(info, "not a workbook")
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# the corpus: name -> (bytes, expectation)

def corpus() -> dict[str, tuple[bytes, dict]]:
    rnd = random.Random(20261123)
    out: dict[str, tuple[bytes, dict]] = {}

    def add(name: str, data: bytes | str, expect: str, what: str, **exp: object) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        assert name not in out, name
        out[name] = (data, {"expect": expect, "what": what, **exp})

    good = _csv(GOOD)
    wjx_rows = [WJX_HEADER] + [_wjx_row(n) for n in range(1, 5)]
    wjx_xlsx = _xlsx(wjx_rows)

    # -- whole-file rejections -----------------------------------------------------------------
    add("empty.csv", b"", "reject", "0-byte file", message="empty")
    add("blank_lines_only.csv", "\n \n\t\n\n", "reject", "only blank lines: no header row",
        message="no header")
    add("binary_garbage.csv", bytes(rnd.randrange(256) for _ in range(4096)), "reject",
        "4 KiB of random bytes", message="binary")
    add("png_named.csv", b"\x89PNG\r\n\x1a\n" + bytes(rnd.randrange(256) for _ in range(2048)),
        "reject", "a PNG image named .csv", message="binary")
    add("truncated.xlsx", wjx_xlsx[: len(wjx_xlsx) // 2], "reject",
        "问卷星 xlsx cut in half", message="Excel")
    xls = _xls(wjx_rows)
    add("truncated.xls", xls[: len(xls) // 2], "reject", "问卷星 xls cut in half",
        message="Excel")
    add("zip_not_xlsx.xlsx", _zip_not_xlsx(), "reject", "a zip archive that is no workbook",
        message="Excel")
    add("missing_ltr.csv", _csv([r[:4] + r[5:] for r in GOOD],
                                header=HEADER[:4] + HEADER[5:]), "reject",
        "no column for the required item ltr", message="ltr")
    add("missing_response_id.csv", _csv([r[1:] for r in GOOD], header=HEADER[1:]), "reject",
        "no response id column", message="response id")
    add("header_only_wrong_layout.csv", "a;b;c\n", "reject",
        "a header that maps to nothing (no response id, no ltr)", message="response id")

    # -- files that load completely --------------------------------------------------------------
    add("header_only.csv", _csv([]), "accept", "canonical header, no data rows", accepted=0)
    add("good_lf.csv", good, "accept", "canonical CSV, LF line ends (the control case)",
        accepted=4)
    add("good_crlf.csv", _csv(GOOD, nl="\r\n"), "accept", "same rows, CRLF line ends",
        accepted=4)
    add("good_cr_only.csv", _csv(GOOD, nl="\r"), "accept", "same rows, old-Mac CR line ends",
        accepted=4)
    add("bom_utf8.csv", codecs.BOM_UTF8 + good.encode("utf-8"), "accept", "UTF-8 with BOM",
        accepted=4)
    add("bom_utf16le.csv", codecs.BOM_UTF16_LE + good.encode("utf-16-le"), "accept",
        "UTF-16 LE with BOM", accepted=4)
    add("bom_utf16be.csv", codecs.BOM_UTF16_BE + good.encode("utf-16-be"), "accept",
        "UTF-16 BE with BOM", accepted=4)
    add("gbk.csv", good.encode("gb18030"), "accept", "Office 另存为 CSV: GBK, no BOM",
        accepted=4)
    add("semicolon.csv", good.replace(",", ";"), "accept", "';' delimiter", accepted=4)
    add("tab.tsv", good.replace(",", "\t"), "accept", "tab delimiter", accepted=4)
    add("csv_named.xlsx", good, "accept", "a CSV file named .xlsx (content decides)",
        accepted=4)
    add("xlsx_named.csv", _xlsx([HEADER] + GOOD), "accept",
        "an xlsx workbook named .csv (content decides)", accepted=4)
    add("wjx_text.xls", xls, "accept", "问卷星 text export, legacy .xls", accepted=4)
    add("header_padded.csv", _csv(GOOD, header=[f" {h}\u3000" for h in HEADER]), "accept",
        "header cells with spaces and full-width spaces", accepted=4)
    add("label_headers.csv",
        _csv(GOOD, header=HEADER[:4] + ["您有多大可能向朋友或同事推荐我们的产品和服务？"] + HEADER[5:]),
        "accept", "ltr headed by its codebook label with a full-width ？ (NFKC)", accepted=4)
    add("fullwidth_digits.csv", _csv([_row("R001", ltr="９"), _row("R002", ltr="１０")]),
        "accept", "full-width digits ９ and １０ in ltr (NFKC: 9, 10)", accepted=2,
        values={"ltr": [9, 10]})
    add("leading_zero_ids.csv", _csv([_row("R001", response_id="007"),
                                      _row("R002", response_id="0123")]),
        "accept", "response ids with leading zeros stay text", accepted=2,
        values={"response_id": ["007", "0123"]})
    add("formula_comments.csv",
        _csv([_row("R001", comment='=HYPERLINK("http://x","点我")'), _row("R002", comment="+cmd"),
              _row("R003", comment="-1+1"), _row("R004", comment="@SUM(A1:A9)")]),
        "accept", "formula-injection text in the comment: valid data, stored verbatim",
        accepted=4, values={"comment": ['=HYPERLINK("http://x","点我")', "+cmd", "-1+1",
                                        "@SUM(A1:A9)"]})
    add("script_comment.csv",
        _csv([_row("R001", comment="<script>alert('xss')</script>"),
              _row("R002", comment='<img src=x onerror="alert(1)">')]),
        "accept", "markup in the comment: valid data, stored verbatim", accepted=2,
        values={"comment": ["<script>alert('xss')</script>", '<img src=x onerror="alert(1)">']})
    add("embedded_newlines.csv",
        _csv([_row("R001", comment="第一行\n第二行\r\n第三行"), _row("R002")]),
        "accept", "a quoted comment spanning three lines", accepted=2,
        values={"comment": ["第一行\n第二行\r\n第三行", "很好用"]})
    add("trailing_empty_columns.csv",
        "".join(line + ",,,\n" for line in good.splitlines()), "accept",
        "three empty trailing columns (header and rows)", accepted=4)
    add("pii_columns.csv",
        _csv([r + ["王小明", "13812345678", "wxm@example.com"] for r in GOOD],
             header=HEADER + ["name", "phone", "email"]),
        "accept", "personal data columns: rows load, the PII columns never do", accepted=4,
        absent=["王小明", "13812345678", "wxm@example.com"])
    add("skips_wjx_text.xlsx",
        _xlsx([WJX_HEADER] + [_wjx_row(1, shape="(跳过)"), _wjx_row(2, attitude="（跳过）"),
                              _wjx_row(3)]),
        "accept", "问卷星 text export with (跳过) skips", accepted=3)
    add("wjx_code_skips.csv",
        _csv([[1, "2026/7/3 14:05:09", "185秒", "手机提交", "直接访问", "1.2.3.4(上海-上海)", -2, 3, 9],
              [2, "2026/7/3 15:11:40", "92秒", "微信", "N/A", "1.2.3.5(北京-北京)", 4, -3, 7],
              [3, "2026/7/4 09:02:03", "1203秒", "链接", "直接访问", "1.2.3.6(广东-广州)", -3, -2, 10]],
             header=WJX_CODE_HEADER),
        "accept", "问卷星 code export: -2 (skipped) / -3 (not shown) are missing, not bad",
        accepted=3, missing={"look_shape": [True, False, True],
                             "svc_attitude": [False, True, True]})
    add("qualtrics_preview_only.csv", _qualtrics([_q_row(1, status="1"), _q_row(2, status="1")]),
        "accept", "Qualtrics file whose only rows are preview rows: 0 responses, not bad rows",
        accepted=0)
    add("qualtrics_good.csv",
        _qualtrics([_q_row(1, status="1"), _q_row(2), _q_row(3, q1="3")]),
        "accept", "Qualtrics export: a preview row (dropped) and 2 responses", accepted=2)

    # -- files with rows to quarantine -------------------------------------------------------------
    def q(name: str, rows: list[list[str]], bad: list[int], reason: str, what: str, *,
          nl: str = "\n", **kw: object) -> None:
        add(name, _csv(rows, nl=nl), "quarantine", what, accepted=len(rows) - len(bad), rows=bad,
            reason=reason, **kw)

    # data row k (1-based) of a plain CSV without embedded newlines is on line k + 1
    q("ragged_too_many.csv", [_row("R001"), _row("R002") + ["extra", "fields"], _row("R003")],
      [3], "too many fields", "a row with two extra fields")
    q("ragged_too_few.csv", [_row("R001"), _row("R002")[:5], _row("R003")], [3],
      "too few fields", "a row cut after ltr")
    q("ltr_out_of_range.csv", [_row("R001", ltr="11"), _row("R002"), _row("R003", ltr="-1")],
      [2, 4], "out of range", "ltr 11 and -1 (scale 0-10)")
    q("verbal_out_of_range.csv", [_row("R001"), _row("R002", look_shape="6"),
                                  _row("R003", svc_attitude="0")],
      [3, 4], "out of range", "verbal codes 6 and 0 (scale 1-5)")
    q("ltr_fractional.csv", [_row("R001", ltr="7.5"), _row("R002")], [2], "whole number",
      "ltr 7.5 on the 0-10 integer scale")
    q("text_in_numeric.csv", [_row("R001", ltr="很好"), _row("R002", ltr="abc"), _row("R003"),
                              _row("R004", ltr="nan"), _row("R005", ltr="inf")],
      [2, 3, 5, 6], "not a number", "text, nan and inf in the numeric ltr column")
    q("unknown_label.csv", [_row("R001", look_shape="很好"), _row("R002"),
                            _row("R003", csat="满意度高")],
      [2, 4], "unknown answer", "verbal/csat texts that are not scale labels")
    q("duplicate_ids.csv", [_row("R001"), _row("R002"), _row("R001", ltr="3"), _row("R003"),
                            _row("R002", ltr="4")],
      [4, 6], "duplicate", "R001 and R002 repeated later with other answers")
    q("future_date.csv", [_row("R001"), _row("R002", submitted_at="2099-01-01 00:00:00")],
      [3], "future", "a submission time in 2099")
    q("unparseable_date.csv", [_row("R001", submitted_at="昨天下午"),
                               _row("R002", submitted_at="2026-13-45 25:61:00"), _row("R003")],
      [2, 3], "unparseable date", "dates that are not dates")
    q("missing_ltr_value.csv", [_row("R001", ltr=""), _row("R002"), _row("R003", ltr="-2")],
      [2, 4], "missing required", "an empty ltr and a -2 (skipped) ltr: ltr is required")
    q("missing_response_id_value.csv", [_row("R001"), _row("", ), _row("R003")], [3],
      "missing response id", "an empty response id")
    q("formula_in_ltr.csv", [_row("R001", ltr="=1+1"), _row("R002", ltr="@SUM(A1)"),
                             _row("R003")],
      [2, 3], "not a number", "formulas in a numeric column are quarantined, value kept")
    q("crlf_bad_row.csv", [_row("R001"), _row("R002", ltr="12"), _row("R003")], [3],
      "out of range", "CRLF file: the bad row's line number is the same as with LF", nl="\r\n")
    add("embedded_newlines_bad_row.csv",
        _csv([_row("R001", comment="多行\n评论\n第三行"), _row("R002", ltr="99"),
              _row("R003", comment="a\r\nb"), _row("R004", ltr="x")]),
        "quarantine", "bad rows after multi-line quoted fields: row = line where the record "
        "starts (R002 on line 5, R004 on line 8)", accepted=2, rows=[5, 8], reason="ltr")
    nul = _csv([_row("R001"), _row("R002", ltr="9\x00"), _row("R003")])
    add("nul_byte.csv", nul, "quarantine", "a NUL byte inside the ltr cell", accepted=2,
        rows=[3], reason="not a number")
    add("unknown_branch.csv",
        _csv([r + [b] for r, b in zip(GOOD, ["上海分公司", "火星分公司", "SH01", "XX99"],
                                      strict=True)],
             header=HEADER + ["branch"]),
        "quarantine", "branch column with names/codes not in org.yaml (run without --branch)",
        accepted=2, rows=[3, 5], reason="unknown branch", args=["--period", "2026Q3"])
    add("unknown_branch_option.csv", good, "usage", "--branch XX99 is not in org.yaml",
        message="unknown branch", args=["--period", "2026Q3", "--branch", "XX99"])
    add("bad_period_option.csv", good, "usage", "--period 2026Q5 is malformed",
        message="--period", args=["--period", "2026Q5", "--branch", "SH01"])
    gbk_mixed = ((_csv([_row("R001", look_shape="良好"), _row("R002", look_shape="一般")])
                  ).encode("gb18030")
                 + ",".join(_row("R003", look_shape="良好")).encode("utf-8") + b"\n"
                 + ",".join(_row("R004", look_shape="差")).encode("gb18030") + b"\n")
    add("gbk_with_utf8_line.csv", gbk_mixed, "quarantine",
        "GBK file with one UTF-8 line: that line is quarantined as mixed encodings, the "
        "others load as GB18030", accepted=3, rows=[4], reason="mixed encodings")
    add("wjx_invalid_labels.xlsx",
        _xlsx([WJX_HEADER] + [_wjx_row(1), _wjx_row(2, shape="很好"), _wjx_row(3, attitude="满意"),
                              _wjx_row(4)]),
        "quarantine", "问卷星 verbal answers 很好/满意 are not scale labels", accepted=2,
        rows=[3, 4], reason="unknown answer")
    add("wjx_duplicate_seq.xlsx",
        _xlsx([WJX_HEADER] + [_wjx_row(1), _wjx_row(2), _wjx_row(2, ltr=3), _wjx_row(3)]),
        "quarantine", "问卷星 序号 2 repeated (directly after its original)", accepted=3,
        rows=[4], reason="duplicate")
    add("wjx_code_required_skip.csv",
        _csv([[1, "2026/7/3 14:05:09", "185秒", "手机提交", "直接访问", "1.2.3.4", 5, 3, -2],
              [2, "2026/7/3 15:11:40", "92秒", "微信", "N/A", "1.2.3.5", 4, 4, 7]],
             header=WJX_CODE_HEADER),
        "quarantine", "问卷星 code export: ltr -2 (skipped) but ltr is required", accepted=1,
        rows=[2], reason="missing required")
    add("qualtrics_out_of_range.csv",
        _qualtrics([_q_row(1, status="1"), _q_row(2, status="1"), _q_row(3, q1="11"), _q_row(4),
                    _q_row(5, q4_1="6"), _q_row(6, rid="R_q0004")]),
        "quarantine", "Qualtrics: Q1 11, Q4_1 6, a ResponseId repeated at the end (line 6 = "
        "first data line after 3 header rows + 2 preview rows)", accepted=1, rows=[6, 8, 9],
        reason="")
    add("qualtrics_spam.csv",
        _qualtrics([_q_row(1), _q_row(2, status="8"), _q_row(3)]),
        "quarantine", "Qualtrics Status 8 (spam) is read and quarantined for review",
        accepted=2, rows=[5], reason="Spam")
    lines = good.splitlines(keepends=True)  # header, R001 … R004
    eof = lines[:2] + [lines[2].replace("客服回复太慢", '"客服回复太慢')] + lines[3:]
    add("unbalanced_quote_eof.csv", "".join(eof), "reject_or_quarantine",
        "R002's comment opens a quote that is never closed: R003 and R004 must not vanish "
        "into that comment", lines=[3], records=4)
    mid = eof[:4] + [lines[4].replace("退货", '退"货')]
    add("unbalanced_quote_mid.csv", "".join(mid), "reject_or_quarantine",
        "a stray quote in R002 pairs with a quote two lines later: R003 must not vanish into "
        "R002's comment", lines=[3], records=4)
    add("duplicate_ltr_column.csv",
        _csv([r[:5] + [v] + r[5:] for r, v in zip(GOOD, ["9", "1", "10", "0"], strict=True)],
             header=HEADER[:5] + ["ltr"] + HEADER[5:]),
        "reject", "two columns named ltr: which one is the answer is ambiguous",
        message="ltr")
    return out


def write(out: Path = HERE) -> list[Path]:
    """Write every corpus file and EXPECTED.yaml into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    items = corpus()
    for name, (data, _) in items.items():
        (out / name).write_bytes(data)
        written.append(out / name)
    lines = ["# Expectations for the bad-input corpus: generated by make_corpus.py (do not edit).",
             "# Run: cxlab ingest FILE --warehouse W --quarantine Q --period 2026Q3 --branch SH01",
             "# (args: replaces --period/--branch). See make_corpus.py for the meaning of keys.",
             ""]
    for name, (_, exp) in items.items():
        lines.append(f"{name}:")
        for k, v in exp.items():
            lines.append(f"  {k}: {_yaml(v)}")
    (out / "EXPECTED.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(out / "EXPECTED.yaml")
    return written


def _yaml(v: object) -> str:
    import json

    # JSON is valid YAML (flow style); keep CJK readable
    return json.dumps(v, ensure_ascii=False)


if __name__ == "__main__":
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    paths = write(dest)
    print(f"wrote {len(paths) - 1} corpus files + EXPECTED.yaml to {dest}")
