"""Our questionnaire exported by 问卷星 (text and code), SurveyMonkey and LimeSurvey loads to the
same warehouse values; answers by option position and multi-selects spread over columns
(``positions`` and ``spread`` in params/sources.yaml, cxlab/io/_layout.py).

Fixtures: tests/data/exports/ours_* (tests/data/exports/make_fixtures.py: the same 62 responses
in four layouts) and the real 问卷星 pair in shared/real-exports/wjx/ (same 800 respondents,
"按选项文本" and "按选项序号").
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from cxlab.config import Codebook, load_codebook, load_org, params_from_dict
from cxlab.errors import CxlabError, ParamsError
from cxlab.io import ingest, load_responses, load_sources, read_export
from cxlab.io._mapping import map_survey
from cxlab.io._sources import Sources

EXPORTS = Path(__file__).resolve().parent / "data" / "exports"
TEXT, CODE = EXPORTS / "ours_wjx_text.xlsx", EXPORTS / "ours_wjx_code.xlsx"
SM, SMX = EXPORTS / "ours_surveymonkey.csv", EXPORTS / "ours_surveymonkey.xlsx"
LS = EXPORTS / "ours_limesurvey.csv"
N = 62                                   # responses in each ours_* fixture
CB = load_codebook()
ORG = load_org()
SRC = load_sources(codebook=CB)
KEY = b"k" * 32
FREE_TEXT = r"〖[^〗]*〗"


def _load(tmp_path: Path, path: Path, name: str) -> pd.DataFrame:
    rep = ingest([path], warehouse=tmp_path / name / "wh", quarantine_dir=tmp_path / name / "q")
    assert rep.rejected_files == [], rep.rejected_files
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (N, N, 0), rep.summary()
    df = load_responses(tmp_path / name / "wh")
    return df.sort_values("submitted_at", kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict[str, pd.DataFrame]:
    base = tmp_path_factory.mktemp("layouts")
    return {name: _load(base, path, name)
            for name, path in [("text", TEXT), ("code", CODE), ("sm", SM), ("smx", SMX),
                               ("ls", LS)]}


# ---- the acceptance tests: same responses, same warehouse values --------------------------------

def test_wjx_code_export_loads_exactly_like_the_text_export(loaded):
    text, code = loaded["text"], loaded["code"]
    assert code["source_file"].eq("ours_wjx_code.xlsx").all()
    # The code export carries no "other, please specify" text (real 问卷星 code export:
    # shared/real-exports/wjx/wjx_800_800_2.xls has 0/1 only where the text export has
    # 其他【请注明】〖…〗): 其他 loads without its 〖text〗, and nothing else differs.
    has_text = text["purchase_channel"].str.contains("〖", na=False)
    assert has_text.sum() >= 3
    expected = text.drop(columns="source_file")
    expected["purchase_channel"] = expected["purchase_channel"].str.replace(FREE_TEXT, "",
                                                                            regex=True)
    assert_frame_equal(code.drop(columns="source_file"), expected)


@pytest.mark.parametrize("name", ["sm", "smx", "ls"])
def test_surveymonkey_and_limesurvey_exports_load_like_the_wjx_text_export(loaded, name):
    # Same answers, customer pseudonyms, branches, periods and submission times; response ids
    # are the platform's own, and neither export has a survey-channel column.
    other = loaded[name]
    assert other["channel"].isna().all()
    drop = ["response_id", "source_file", "channel"]
    assert_frame_equal(other.drop(columns=drop), loaded["text"].drop(columns=drop))
    assert other["purchase_channel"].str.contains("〖", na=False).sum() >= 3


def test_the_fixtures_cover_skips_other_text_and_every_branch(loaded):
    text = loaded["text"]
    assert set(text["branch"]) == set(ORG.branch_codes)
    assert text["purchase_channel"].str.contains("┋").sum() > 20
    assert text[CB.attribute_items].isna().sum().sum() >= 10     # (跳过) in the text export
    assert text[["csat", "price_direct", "kano_voice_f"]].isna().any().all()
    assert text["comment"].isna().any() and text["comment"].notna().any()
    assert set(text["product_model"]) <= set(CB.scale_of("product_model").options or [])


def test_skipped_and_empty_multiselect_in_the_code_export_are_missing(tmp_path):
    opts = [f"第32题({o})" for o in ["官方网站", "实体店", "电商平台", "网红带货", "其他"]]
    edits = {(0, c): -2 for c in opts} | {(1, c): 0 for c in opts}
    rep = ingest([_code_csv(tmp_path, edits)], warehouse=tmp_path / "wh",
                 quarantine_dir=tmp_path / "q")
    assert (rep.accepted, rep.quarantined) == (N, 0)
    got = load_responses(tmp_path / "wh").sort_values("submitted_at").reset_index(drop=True)
    assert got["purchase_channel"].isna().tolist()[:3] == [True, True, False]


# ---- the position rule, anchored to the questionnaire (not to the codebook) --------------------

def test_code_export_cells_are_positions_in_the_questionnaire_order():
    text = read_export(TEXT)
    code = read_export(CODE)
    assert code.attrs["source"] == "wjx_code" and text.attrs["source"] == "wjx_text"
    # seed 000 §04 lists 好 □良好 □一般 □较差 □差: position 1 is 好
    verbal = {"好": 1, "良好": 2, "一般": 3, "较差": 4, "差": 5}
    col = "9、产品形状和大小"
    pairs = pd.DataFrame({"t": text[col], "c": code[col]}).dropna()
    assert (pairs["c"] == pairs["t"].map(verbal)).all() and len(pairs) > 50
    ltr = "26、您有多大可能向朋友或同事推荐我们的产品和服务?"
    assert (code[ltr] == text[ltr] + 1).all()                    # 0 → 1 … 10 → 11
    branches = ["上海分公司", "杭州分公司", "南京分公司", "苏州分公司", "广州分公司", "深圳分公司",
                "厦门分公司", "北京分公司", "天津分公司", "济南分公司"]       # org.yaml order
    b = "2、您办理业务的分公司"
    assert (code[b] == text[b].map({n: k for k, n in enumerate(branches, 1)})).all()
    # the multi-select: one 0/1 column per option, -2 (skipped) read as missing
    opts = [c for c in code.columns if c.startswith("第32题(")]
    assert opts == [f"第32题({o})" for o in ["官方网站", "实体店", "电商平台", "网红带货", "其他"]]


def test_codebook_states_the_order_options_are_shown():
    assert CB.scales["verbal5"].shown_order() == [5, 4, 3, 2, 1]
    assert CB.scales["ltr11"].shown_order() == list(range(11))
    assert CB.scale_of("experience_channel").shown_order()[0] == "门店体验"
    assert CB.scales["text"].shown_order() is None


# ---- the real 问卷星 pair: positions and 0/1 columns decode to the text export ---------------------

REAL_OPTIONS = {  # options in the order the questionnaire shows them (ascending; other last)
    "手机部数": ["1部", "2部", "3部", "4部及以上"],
    "手机价格": ["0-799元", "800-999元", "1000-1499元", "1500-1999元", "2000-2499元",
                 "2500-2999元", "3000-3499元", "3500元及以上", "免费赠送的", "其他【请注明】"],
    "性别": ["男", "女"],
    "月收入": ["3000元以下", "3001-5000元", "5001-8000元", "8001-10000元", "10001-15000元",
               "15000元以上", "无收入", "不知道/拒绝回答"],
    "爱好投入占收入比重": ["没有投入", "10%左右", "20%左右", "30%左右", "40%左右", "50%左右",
                           "超过50%"],
}
REAL_MULTI = {
    "兴趣爱好": ["运动", "阅读", "影视", "美食", "旅游", "IT数码", "艺术", "音乐", "游戏动漫",
                 "手工艺", "摄影", "购物", "健康", "其他【请注明】"],
    "关注资讯": ["不关注", "娱乐八卦", "财经", "汽车类", "时尚", "电子科技类", "体育类",
                 "政治/军事", "ACG文化(动漫、游戏等)", "其他【请注明】"],
}


def _real_codebook() -> Codebook:
    scales, items = {}, []
    for k, (label, opts) in enumerate({**REAL_OPTIONS, **REAL_MULTI}.items()):
        kind = "multi" if label in REAL_MULTI else "category"
        scales[f"s{k}"] = {"kind": kind, "label": label, "options": opts}
        items.append({"id": f"q{k}", "label": label, "section": "x", "scale": f"s{k}",
                      "role": "dimension"})
    return params_from_dict({"version": 1, "survey": "real", "scales": scales,
                             "journey": ["x"], "items": items}, Codebook)


def test_real_wjx_code_export_decodes_to_the_real_text_export(real_exports):
    cb = _real_codebook()
    spec = SRC.surveys["wjx"]
    frames = {}
    for name in ("wjx_800_800_0.xls", "wjx_800_800_2.xls"):
        df = read_export(real_exports / "wjx" / name)
        frames[name], issues, cm = map_survey(df, spec, cb, ORG, key=KEY, file=name,
                                              period="2026Q3", branch="SH01")
        assert len(issues) == 0 and len(cm.items) == 7
    text, code = frames["wjx_800_800_0.xls"], frames["wjx_800_800_2.xls"]
    assert code["source_file"].eq("wjx_800_800_2.xls").all()
    items = [f"q{k}" for k in range(7)]
    expected = text[items].apply(lambda s: s.str.replace(FREE_TEXT, "", regex=True))
    assert_frame_equal(code[items], expected)
    assert text["q1"].str.contains("〖").sum() == 2           # 其他【请注明】〖我妈买的。〗 …
    assert code["q5"].str.contains("┋").sum() > 600


# ---- bad positions and option cells: quarantined with file, row, column, value -----------------

def _code_csv(tmp_path: Path, edits: dict[tuple[int, str], object]) -> Path:
    df = pd.read_excel(CODE, dtype=object, engine="openpyxl")
    for (row, col), v in edits.items():
        df.at[row, col] = v
    buf = io.StringIO()
    df.to_csv(buf, index=False, lineterminator="\n")
    path = tmp_path / "raw" / "code_bad.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
    return path


def test_positions_outside_the_options_are_quarantined_naming_file_row_column_value(tmp_path):
    ltr = "26、您有多大可能向朋友或同事推荐我们的产品和服务?"
    path = _code_csv(tmp_path, {(0, "9、产品形状和大小"): 6, (1, ltr): 12,
                                (2, "2、您办理业务的分公司"): 11, (3, "34、如果产品不支持手机App远程控制,您觉得如何?"): 0,
                                (4, "第32题(实体店)"): 2})
    rep = ingest([path], warehouse=tmp_path / "wh", quarantine_dir=tmp_path / "q")
    assert rep.rows_read == rep.accepted + rep.quarantined == N
    assert (rep.accepted, rep.quarantined) == (N - 5, 5)
    q = rep.quarantine.set_index("row")
    assert list(q.index) == [2, 3, 4, 5, 6]                      # CSV line = data row + 1
    assert set(q["file"]) == {"code_bad.csv"}
    assert q.loc[2, "column"] == "9、产品形状和大小" and q.loc[2, "value"] == "6"
    assert q.loc[2, "reason"] == ("9、产品形状和大小: answer position 6 is outside the 5 options of "
                                  "look_shape (产品形状和大小) (1 = 好 … 5 = 差)")
    assert q.loc[3, "column"] == ltr and q.loc[3, "value"] == "12"
    assert "position 12 is outside the 11 options" in q.loc[3, "reason"]
    assert "missing required" not in q.loc[3, "reason"]          # one reason, not two
    assert q.loc[4, "column"] == "2、您办理业务的分公司" and q.loc[4, "value"] == "11"
    assert "the branch question" in q.loc[4, "reason"] and "missing branch" not in q.loc[4, "reason"]
    assert q.loc[5, "value"] == "0" and "position 0 is outside" in q.loc[5, "reason"]
    assert q.loc[6, "column"] == "第32题(实体店)" and q.loc[6, "value"] == "2"
    assert "unexpected value '2'" in q.loc[6, "reason"]
    good = load_responses(tmp_path / "wh")
    assert len(good) == N - 5 and good["ltr"].between(0, 10).all()


def test_position_override_per_item_in_sources(tmp_path):
    # a questionnaire that listed the verbal options from 差 up: override one item
    data = SRC.model_dump()
    data["surveys"]["wjx"]["positions"]["items"] = {"look_shape": ["差", "较差", "一般", "良好", "好"]}
    src = Sources.model_validate(data)
    df = read_export(CODE)
    frame, issues, _ = map_survey(df, src.surveys["wjx"], CB, ORG, key=KEY, file="c.xlsx")
    base, _, _ = map_survey(read_export(CODE), SRC.surveys["wjx"], CB, ORG, key=KEY,
                            file="c.xlsx")
    assert len(issues) == 0
    assert (frame["look_shape"] == 6 - base["look_shape"]).all()
    assert frame["look_color"].equals(base["look_color"])


# ---- whole-file errors stay one clear line -------------------------------------------------------

def _without_columns(src: Path, dst: Path, drop: set[str], *, sep: str, bom: bool) -> Path:
    text = src.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    keep = [j for j, h in enumerate(rows[0]) if h not in drop]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, quoting=csv.QUOTE_ALL if sep == ";" else csv.QUOTE_MINIMAL,
                   lineterminator="\r\n")
    w.writerows([[r[j] for j in keep] for r in rows])
    dst.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))
    return dst


def test_unmapped_required_item_is_one_line_naming_it(tmp_path):
    path = _without_columns(LS, tmp_path / "ls_no_q1.csv", {"Q1"}, sep=";", bom=True)
    rep = ingest([path], warehouse=tmp_path / "wh", quarantine_dir=tmp_path / "q")
    assert rep.rows_read == 0 and len(rep.rejected_files) == 1
    msg = rep.rejected_files[0]
    assert "\n" not in msg
    assert re.match(r"^ls_no_q1\.csv: .*required item 'ltr' \(您有多大可能", msg), msg
    assert "limesurvey" in msg


def test_spread_item_that_does_not_fit_rejects_the_file(tmp_path):
    head = ["id", "submitdate", "lastpage", "startlanguage", "Q1", "Q8[SQ001]", "Q8[SQ009]"]
    body = ["1", "2026-07-03 10:00:00", "5", "zh-Hans", "9", "Y", ""]
    path = tmp_path / "ls_bad.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join(
        ";".join(f'"{c}"' for c in r) for r in (head, body)) + "\r\n").encode())
    rep = ingest([path], warehouse=tmp_path / "wh", quarantine_dir=tmp_path / "q", branch="SH01")
    assert len(rep.rejected_files) == 1 and "\n" not in rep.rejected_files[0]
    assert "'Q8[SQ009]' names no option of 'purchase_channel'" in rep.rejected_files[0]


@pytest.mark.parametrize(("yaml_part", "match"), [
    ("    positions: {pattern: '^A[0-9]+$'}\n", r"positions\.pattern.*\(\?P<pos>"),
    ("    spread:\n      - {pattern: '^Q8_(.*)$'}\n", r"spread\.0\.pattern.*\(\?P<question>"),
    ("    positions: {items: {no_such: [1, 2]}}\n", r"positions\.items\.no_such: unknown codebook item"),
    ("    positions: {items: {comment: [a]}}\n", r"'comment' is not a single-choice item"),
    ("    positions: {items: {look_shape: [好, 很好]}}\n", r"'很好' is not an answer of scale verbal5"),
    ("    spread:\n      - {pattern: '^(?P<question>Q8)_(?P<option>.*)$', item: ltr}\n",
     r"spread\.0\.item: 'ltr' is not a multi-select item"),
])
def test_bad_layout_rules_in_sources_yaml_are_one_line_errors(tmp_path, yaml_part, match):
    p = tmp_path / "sources.yaml"
    p.write_text("version: 1\nsurveys:\n  wjx:\n    readers: [wjx_text]\n"
                 "    response_id: {column: 序号}\n" + yaml_part, encoding="utf-8")
    with pytest.raises(ParamsError, match=match) as err:
        load_sources(p, codebook=CB)
    assert "\n" not in str(err.value) and "sources.yaml" in str(err.value)


# ---- the generator path is deterministic ---------------------------------------------------------

def test_platform_exports_are_deterministic(tmp_path):
    from cxlab.datasets import write_platform_exports

    text = pd.read_excel(TEXT, dtype=object, engine="openpyxl")
    text = text.astype(object).where(text.notna(), "")
    a = write_platform_exports(text, tmp_path / "a")
    b = write_platform_exports(text, tmp_path / "b")
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
        assert pa.read_bytes() == (EXPORTS / pa.name).read_bytes()   # fixtures are current
    ls = (tmp_path / "a" / "ours_limesurvey.csv").read_bytes()
    assert ls.startswith(b'\xef\xbb\xbf"id";"token";"submitdate";') and b"\r\n" in ls


def test_code_export_without_multiselect_columns_can_be_named_wjx_code(tmp_path):
    """A 按选项序号 export with no 第N题(选项) columns but free text in an open question reads as
    a text export under ``source="auto"``; ``source="wjx_code"`` says what it is, and its
    answers then decode exactly as in the full code export."""
    df = pd.read_excel(CODE, dtype=object, engine="openpyxl")
    df = df[[c for c in df.columns if not str(c).startswith("第")]]
    path = tmp_path / "raw" / "code_no_multi.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    assert read_export(path).attrs["source"] == "wjx_text"
    assert read_export(path, source="wjx_code").attrs["source"] == "wjx_code"
    with pytest.raises(CxlabError, match="问卷星"):
        read_export(SM, source="wjx_code")
    rep = ingest([path], warehouse=tmp_path / "wh", quarantine_dir=tmp_path / "q",
                 source="wjx_code")
    assert (rep.rows_read, rep.accepted, rep.quarantined) == (N, N, 0), rep.summary()
    got = load_responses(tmp_path / "wh").sort_values("submitted_at", kind="stable")
    full = _load(tmp_path, CODE, "full")
    items = ["ltr", "look_shape", "svc_attitude", "csat", "kano_app_f", "branch"]
    assert_frame_equal(got[items].reset_index(drop=True), full[items].reset_index(drop=True))
