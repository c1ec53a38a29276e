"""sources.yaml validation, column mapping rules and label → code conversion."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlab.config import load_codebook, load_org
from cxlab.errors import ParamsError
from cxlab.io import MappingError, canonical_columns, load_sources, resolve_columns
from cxlab.io._mapping import map_survey
from cxlab.io._sources import Sources
from cxlab.io._validate import convert_item, parse_datetime

CB = load_codebook()
ORG = load_org()
SRC = load_sources(codebook=CB)
LTR = CB.item("ltr").label
KEY = b"k" * 32
NOW = datetime(2026, 11, 23, 12, 0, 0)
MISSING = frozenset(SRC.surveys["wjx"].missing)


def conv(values, scale, **kw):
    sc = CB.scales[scale]
    vals, why = convert_item(pd.Series(values, dtype="object"), sc, scale_name=scale,
                             missing=kw.pop("missing", MISSING), **kw)
    return vals.tolist(), why.tolist()


# ---- sources.yaml ----------------------------------------------------------------------------

def test_sources_yaml_loads_and_covers_the_sample_formats():
    assert SRC.survey_for("wjx_text")[0] == "wjx"
    assert SRC.survey_for("wjx_code")[0] == "wjx"
    assert SRC.survey_for("qualtrics")[0] == "qualtrics"
    assert SRC.survey_for("csv")[0] == "generic"
    assert SRC.table_for("customers.csv") == "customers"
    assert SRC.table_for("tickets.csv") == "tickets"
    assert SRC.table_for("wjx_2026Q3.xlsx") is None
    assert SRC.ignored("truth.json") and SRC.ignored("truth_comments.csv")
    assert set(SRC.tables) == {"customers", "orders", "invitations", "tickets", "audits",
                               "scorecard_actuals"}


def _bad_sources(tmp_path, text):
    p = tmp_path / "sources.yaml"
    p.write_text(text, encoding="utf-8")
    return p


BASE = """version: 1
surveys:
  wjx:
    readers: [wjx_text]
    response_id: {column: 序号}
    items:
"""


@pytest.mark.parametrize(("items", "match"), [
    ("      - {item: ltr, column: Q1, colour: red}", r"surveys\.wjx\.items\.0\.colour: unknown key"),
    ("      - {item: ltr, column: Q1, label: x}", r"exactly one of column, label, pattern"),
    ("      - {item: ltr, pattern: '(unclosed'}", r"invalid regular expression"),
    ("      - {label_pattern: 'no group'}", r"\(\?P<label>…\) group"),
    ("      - {item: no_such_item, column: Q1}", r"items\.0\.item: unknown codebook item 'no_such_item'"),
])
def test_bad_sources_yaml_names_file_and_key(tmp_path, items, match):
    p = _bad_sources(tmp_path, BASE + items + "\n")
    with pytest.raises(ParamsError, match=match) as err:
        load_sources(p, codebook=CB)
    assert "sources.yaml" in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_template_and_duplicate_reader(tmp_path):
    p = _bad_sources(tmp_path, BASE.replace("{column: 序号}", "{column: 序号, template: 'x-{id}'}")
                     + "      []\n")
    with pytest.raises(ParamsError, match=r"template 'x-\{id\}'"):
        load_sources(p)
    text = BASE + "      []\n  other:\n    readers: [wjx_text]\n    response_id: {column: id}\n"
    with pytest.raises(ParamsError, match="claimed by both 'wjx' and 'other'"):
        load_sources(_bad_sources(tmp_path, text))


# ---- label -> code conversion ------------------------------------------------------------------

def test_verbal_labels_become_codes():
    vals, why = conv(["好", "良好", "一般", "较差", "差", " 好 ", "Excellent", "poor", "5", 4, 3.0,
                      "５", None, "(跳过)", ""], "verbal5")
    assert vals == [5, 4, 3, 2, 1, 5, 5, 2, 5, 4, 3, 5, pd.NA, pd.NA, pd.NA]
    assert all(w is pd.NA for w in why)


def test_unknown_label_and_out_of_range_code_are_reasons_not_nan():
    vals, why = conv(["非常好", "6", 0, "2.5", "好"], "verbal5")
    assert vals == [pd.NA, pd.NA, pd.NA, pd.NA, 5]
    assert "unknown answer '非常好' for scale verbal5" in why[0]
    assert "allowed: 好/良好/一般/较差/差 or codes 1–5" in why[0]
    assert why[1].startswith("6 is out of range") and why[2].startswith("0 is out of range")
    assert why[3].startswith("2.5 is out of range")
    assert why[4] is pd.NA


def test_kano_csat_ces_labels_and_aliases():
    vals, _ = conv(["喜欢", "理应如此", "无所谓", "能忍受", "不喜欢", "like", "Must-be", "tolerate",
                    "dislike"], "kano5")
    assert vals == [1, 2, 3, 4, 5, 1, 2, 4, 5]
    vals, _ = conv(["非常满意", "满意", "一般", "不满意", "非常不满意"], "csat5")
    assert vals == [5, 4, 3, 2, 1]
    vals, _ = conv(["非常容易", "非常困难", "very easy", "7"], "ces7")
    assert vals == [7, 1, 7, 7]
    vals, _ = conv(["300元以下", "700~1,000元", "1,000元以上", "3"], "price_band")
    assert vals == [1, 4, 5, 3]


def test_ltr_numeric_range_and_types():
    vals, why = conv(["0", 10, "7", "11", -1, "abc", "7.5", "１０"], "ltr11")
    assert vals[:3] == [0, 10, 7] and vals[7] == 10
    assert why[3].startswith("11 is out of range 0–10")
    assert why[4].startswith("-1 is out of range")
    assert why[5].startswith("not a number: 'abc'")
    assert "not a whole number" in why[6]


def test_multiselect_kept_as_joined_text_from_labels_or_codes():
    vals, why = conv(["实体店┋网红带货", "其他〖朋友推荐〗", "其他【请注明】〖展会〗┋官方网站",
                      "淘宝直播"], "purchase_channel")
    assert vals[:3] == ["实体店┋网红带货", "其他〖朋友推荐〗", "其他【请注明】〖展会〗┋官方网站"]
    assert "unknown option '淘宝直播'" in why[3]
    # Qualtrics: comma-joined codes, "other" text in a separate column
    vals, why = conv(["1,3", "5", "2", 4], "purchase_channel", multi_sep=",",
                     other_text=pd.Series([None, "朋友推荐", None, None]))
    assert vals == ["官方网站┋电商平台", "其他〖朋友推荐〗", "实体店", "网红带货"]
    assert all(w is pd.NA for w in why)


def test_open_text_stays_text():
    vals, why = conv(["  服务很好 ", "", None, 123], "text")
    assert vals == ["服务很好", pd.NA, pd.NA, "123"]


def test_dates_unparseable_and_future_are_reasons():
    ts, why = parse_datetime(pd.Series(["2026/7/3 14:05:09", "2026-07-03 14:05:09", "yesterday",
                                        "2026-13-45", "2027-01-01", "", None]),
                             missing=MISSING, now=NOW)
    assert ts.iloc[0] == ts.iloc[1] == pd.Timestamp("2026-07-03 14:05:09")
    assert why.iloc[2].startswith("unparseable date 'yesterday'")
    assert why.iloc[3].startswith("unparseable date")
    assert "in the future" in why.iloc[4]
    assert ts.iloc[2:].isna().all() and why.iloc[5:].isna().all()


# ---- column resolution -------------------------------------------------------------------------

def wjx_frame(rows=None) -> pd.DataFrame:
    cols = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "1、您的客户编号",
            "2、您办理业务的分公司", "3、客户姓名", "4、联系方式", "5、产品形状和大小", f"6、{LTR}",
            "7、整体评价及建议", "8、如购买,您会选择哪种渠道?", "9、您的爱好"]
    rows = rows or [
        [1, "2026/7/3 14:05:09", "185秒", "微信", "", "1.2.3.4(上海-上海)", "C000001", "上海分公司",
         "张三", "13800000000", "好", 9, "很好", "实体店┋其他〖朋友〗", "跑步"],
        [2, "2026/8/4 10:00:00", "100秒", "链接", "", "1.2.3.5", "C000002", "杭州分公司", "李四",
         "", "差", 3, None, None, None],
    ]
    df = pd.DataFrame(rows, columns=cols)
    df.attrs["source"] = "wjx_text"
    return df


def test_wjx_columns_resolve_by_label_and_pii_is_never_mapped():
    cm = resolve_columns(wjx_frame(), SRC.surveys["wjx"], CB)
    assert cm.meta == {"response_id": "序号", "customer_id": "1、您的客户编号",
                       "branch": "2、您办理业务的分公司", "channel": "来源"}
    assert cm.submitted_at == ["提交答卷时间"]
    assert cm.items["look_shape"] == "5、产品形状和大小"
    assert cm.items["ltr"] == f"6、{LTR}"
    assert cm.items["comment"] == "7、整体评价及建议"
    assert cm.items["purchase_channel"] == "8、如购买,您会选择哪种渠道?"
    assert set(cm.pii) >= {"来自IP", "3、客户姓名", "4、联系方式"}
    assert "respondent_name" not in cm.items
    assert cm.unmapped == ["9、您的爱好"]


def test_full_width_punctuation_and_trailing_space_in_labels_match():
    df = wjx_frame()
    df = df.rename(columns={f"6、{LTR}": "6、" + LTR.replace("?", "？").replace(",", "，") + " "})
    cm = resolve_columns(df, SRC.surveys["wjx"], CB)
    assert "ltr" in cm.items


def test_qualtrics_matrix_rows_map_by_label_pattern():
    df = pd.DataFrame({"ResponseId": ["R_1"], "Q1": [9], "Q4_1": [5], "Q4_2": [4], "Q8": ["1,5"],
                       "Q8_5_TEXT": ["朋友"], "Q1_NPS_GROUP": [3], "RecipientEmail": ["a@b.c"],
                       "branch": ["SH01"], "RecordedDate": ["2026-07-01 10:00:00"]})
    labels = {"Q4_1": "请评价以下方面 - 产品形状和大小", "Q4_2": "请评价以下方面 - 产品的色彩"}
    cm = resolve_columns(df, SRC.surveys["qualtrics"], CB, labels=labels)
    assert cm.items["look_shape"] == "Q4_1" and cm.items["look_color"] == "Q4_2"
    assert cm.items["purchase_channel"] == "Q8" and cm.other_text["purchase_channel"] == "Q8_5_TEXT"
    assert "RecipientEmail" in cm.pii and "Q1_NPS_GROUP" in cm.ignored
    assert cm.unmapped == []
    frame, issues, _ = map_survey(df, SRC.surveys["qualtrics"], CB, ORG, key=KEY, file="q.csv",
                                  labels=labels, now=NOW)
    assert len(issues) == 0
    assert frame.loc[0, "purchase_channel"] == "官方网站┋其他〖朋友〗"
    assert frame.loc[0, "period"] == "2026Q3" and frame.loc[0, "branch"] == "SH01"


# ---- map_survey ----------------------------------------------------------------------------------

def test_map_survey_canonical_frame():
    frame, issues, _ = map_survey(wjx_frame(), SRC.surveys["wjx"], CB, ORG, key=KEY,
                                  file="wjx.csv", source_name="wjx", now=NOW)
    assert len(issues) == 0
    assert list(frame.columns) == canonical_columns(CB)
    assert not set(CB.pii_items) & set(frame.columns)
    assert frame["response_id"].tolist() == ["wjx-2026Q3-1", "wjx-2026Q3-2"]
    assert frame["period"].tolist() == ["2026Q3", "2026Q3"]
    assert frame["branch"].tolist() == ["SH01", "HZ01"]
    assert frame["look_shape"].tolist() == [5, 1] and str(frame["ltr"].dtype) == "Int64"
    assert frame["purchase_channel"].tolist()[0] == "实体店┋其他〖朋友〗"
    assert frame["customer_id"].str.startswith("p_").all()
    assert "C000001" not in frame.to_string()


def test_period_and_branch_overrides_and_file_period():
    frame, _, _ = map_survey(wjx_frame(), SRC.surveys["wjx"], CB, ORG, key=KEY, file="w.csv",
                             period="2026Q1", branch="BJ01", now=NOW)
    assert set(frame["period"]) == {"2026Q1"} and set(frame["branch"]) == {"BJ01"}
    assert frame["response_id"].tolist()[0] == "wjx-2026Q1-1"
    frame, _, _ = map_survey(wjx_frame(), SRC.surveys["wjx"], CB, ORG, key=KEY, file="w.csv",
                             file_period="2026Q2", now=NOW)
    assert set(frame["period"]) == {"2026Q2"}


def test_row_problems_are_collected_per_row():
    df = wjx_frame()
    extra = df.iloc[[0, 1, 0, 0]].copy()
    extra.iloc[0, df.columns.get_loc("2、您办理业务的分公司")] = "火星分公司"
    extra.iloc[1, df.columns.get_loc("提交答卷时间")] = "2030/1/1 00:00:00"
    extra.iloc[2, df.columns.get_loc(f"6、{LTR}")] = None
    extra.iloc[3, df.columns.get_loc("序号")] = 7
    extra.iloc[0:3, df.columns.get_loc("序号")] = [3, 4, 5]
    df = pd.concat([df, extra, df.iloc[[0]]], ignore_index=True)   # last row: duplicate of row 0
    frame, issues, _ = map_survey(df, SRC.surveys["wjx"], CB, ORG, key=KEY, file="w.csv", now=NOW)
    reasons = {i: r for i, _, _, r in issues.rows}
    assert issues.bad_index() == {2, 3, 4, 6}
    assert "unknown branch '火星分公司'" in reasons[2]
    assert "in the future" in reasons[3]
    assert "ltr: missing required value" in reasons[4]
    assert "duplicate response id wjx-2026Q3-1" in reasons[6]


def test_missing_required_item_is_a_clear_file_error():
    df = wjx_frame().drop(columns=[f"6、{LTR}"])
    with pytest.raises(MappingError, match=r"^export\.xlsx: required item 'ltr' \(您有多大可能"):
        map_survey(df, SRC.surveys["wjx"], CB, ORG, key=KEY, file="export.xlsx", now=NOW)
    df = wjx_frame().drop(columns=["序号"])
    with pytest.raises(MappingError, match="no response id column"):
        map_survey(df, SRC.surveys["wjx"], CB, ORG, key=KEY, file="export.xlsx", now=NOW)


def test_sources_model_round_trip():
    assert Sources.model_validate(SRC.model_dump()) == SRC


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["好", "差", "非常好", "6", None, "(跳过)", "一般", "x"]),
                min_size=1, max_size=30),
       st.lists(st.sampled_from(["9", "10", "11", None, "abc", "0"]), min_size=30, max_size=30),
       st.lists(st.integers(1, 8), min_size=30, max_size=30))
def test_every_row_is_either_clean_or_has_a_reason(shape, ltr, ids):
    """Property: bad rows are exactly the rows with an invalid cell; nothing is lost."""
    n = len(shape)
    base = wjx_frame().iloc[[0] * n].reset_index(drop=True)
    base["5、产品形状和大小"] = shape
    base[f"6、{LTR}"] = ltr[:n]
    base["序号"] = ids[:n]
    frame, issues, _ = map_survey(base, SRC.surveys["wjx"], CB, ORG, key=KEY, file="w.csv", now=NOW)
    assert len(frame) == n
    bad = issues.bad_index()
    expect = set()
    seen: set[int] = set()
    for i in range(n):
        if shape[i] in ("非常好", "6", "x") or ltr[i] in ("11", None, "abc") or ids[i] in seen:
            expect.add(i)
        seen.add(ids[i])
    assert bad == expect
    good = frame.drop(index=list(bad))
    assert good["ltr"].notna().all() and good["response_id"].is_unique


def test_repeated_header_of_a_mapped_column_is_ambiguous():
    df = wjx_frame()
    df[f"6、{LTR}.1"] = [1, 2]          # the reader's name for a second identical header
    with pytest.raises(MappingError, match=r"appears twice .* which one holds 'ltr' is ambiguous"):
        resolve_columns(df, SRC.surveys["wjx"], CB, file="x.csv")
    df = wjx_frame()
    df["3、客户姓名.1"] = ["王五", "赵六"]  # a repeated PII column is PII too
    cm = resolve_columns(df, SRC.surveys["wjx"], CB)
    assert "3、客户姓名.1" in cm.pii and "3、客户姓名.1" not in cm.unmapped
