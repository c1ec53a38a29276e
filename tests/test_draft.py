"""``cxlab draft``: params drafted from a team's own exports load those exports unchanged.

The exports are built here (three questionnaires unlike the sample project's: a bank's 问卷星
survey as text and code export, an English Qualtrics store survey, an SPSS file with value
labels) plus the real 问卷星 files in ``shared/real-exports/wjx``. Every test drafts, then checks
what a person would check by hand: the kinds, scales, answer order and roles; that ``cxlab
ingest`` with the drafted params loads every row; that personal data never reaches the
warehouse; and that the NPS of the warehouse equals the NPS counted from the raw file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from cxlab.cli import main
from cxlab.config import load_codebook, load_org
from cxlab.io import draft_params, ingest, load_responses, load_sources
from cxlab.metrics import nps as nps_metric

# ---- a bank's 问卷星 survey -------------------------------------------------------------------

BRANCHES = ["北京朝阳支行", "北京海淀支行", "上海浦东支行", "上海徐汇支行", "广州天河支行"]
SAT = ["非常满意", "满意", "一般", "不满意", "非常不满意"]          # questionnaire order
EASE = ["非常容易", "容易", "比较容易", "一般", "比较困难", "困难", "非常困难"]
GOOD = ["好", "良好", "一般", "较差", "差"]
KANO = ["喜欢", "理应如此", "无所谓", "能忍受", "不喜欢"]
REASONS = ["离家近", "服务好", "利率优惠", "其他【请注明】"]
META = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
Q_BRANCH = "1、您办理业务的网点"
Q_SAT = ["2、您对网点环境是否满意", "3、您对柜员服务态度是否满意", "4、您对业务办理速度是否满意",
         "5、总体而言，您对本次服务是否满意？"]
Q_EASE = "6、本次办理业务对您来说容易吗？"
Q_NPS = "7、您向亲友推荐我行的可能性有多大？"
Q_REASONS = "8、您选择我行的原因"
Q_KANO = ["9、如果网点提供免费停车，您觉得如何？", "10、如果网点不提供免费停车，您觉得如何？"]
Q_PHONE = "11、您的手机号码"
Q_NAME = "12、您的姓名"
Q_COMPANY = "16、您的工作单位"
COMPANIES = ["华北电力设计院", "北京市第一中学", "中信证券", "个体经营"]
Q_MATRIX = ["13(排队等候时间)", "13(大堂环境卫生)"]
Q_DATE = "14、您办理业务的日期"
Q_COMMENT = "15、您对我们还有什么意见或建议？"
COMMENTS = ["排队时间太长", "柜员很耐心", "希望增加自助设备", "停车不方便", "理财经理很专业",
            "空调太冷", "叫号系统经常出错", "服务很好，继续保持", "手续太繁琐", "网点环境整洁"]
SURNAMES = ["张", "王", "李", "赵", "刘", "陈"]


def _bank_rows(seed: int, n: int, branches: list[str]) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        r = {"id": i + 1, "branch": BRANCHES.index(branches[int(rng.integers(len(branches)))]),
             "sat": [int(rng.integers(4)) if k < 3 else int(rng.integers(3)) for k in range(4)],
             "ease": int(rng.integers(7)), "nps": None if rng.random() < 0.08 else int(rng.integers(11)),
             "reasons": sorted({int(x) for x in rng.integers(4, size=int(rng.integers(1, 4)))}),
             "kano": [int(rng.integers(3)), int(rng.integers(2, 5))],
             "phone": f"139{seed:02d}{i:06d}", "name": SURNAMES[i % 6] + "先生",
             "matrix": [int(rng.integers(5)), int(rng.integers(4))],
             "day": 1 + i % 28, "comment": None if i % 4 == 3 else f"{COMMENTS[i % 10]}({i})"}
        rows.append(r)
    return rows


def _meta(r: dict, seed: int) -> list:
    day = r["day"]
    return [r["id"], f"2026/{7 + seed % 2}/{day} {9 + r['id'] % 8}:{r['id'] % 60:02d}:07",
            f"{60 + r['id']}秒", ["手机提交", "微信", "链接"][r["id"] % 3], "直接访问",
            f"116.228.{r['id'] % 250}.{seed}(北京-北京)"]


def _write_xlsx(path: Path, rows: list[list]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def bank_text(path: Path, rows: list[dict], seed: int = 1) -> Path:
    header = [*META, Q_BRANCH, *Q_SAT, Q_EASE, Q_NPS, Q_REASONS, *Q_KANO, Q_PHONE, Q_NAME,
              *Q_MATRIX, Q_DATE, Q_COMMENT, Q_COMPANY]
    out = [header]
    for r in rows:
        reasons = [REASONS[k] + ("〖停车方便〗" if k == 3 else "") for k in r["reasons"]]
        out.append([*_meta(r, seed), BRANCHES[r["branch"]], *[SAT[k] for k in r["sat"]],
                    EASE[r["ease"]], "(跳过)" if r["nps"] is None else r["nps"],
                    "┋".join(reasons), *[KANO[k] for k in r["kano"]], r["phone"], r["name"],
                    *[GOOD[k] for k in r["matrix"]], f"2026-07-{r['day']:02d}",
                    r["comment"] or "(空)", COMPANIES[r["id"] % 4]])
    return _write_xlsx(path, out)


def bank_code(path: Path, rows: list[dict], seed: int = 1) -> Path:
    """The same answers as a 按选项序号 export: positions, 0/1 columns, -2 for skipped."""
    header = [*META, Q_BRANCH, *Q_SAT, Q_EASE, Q_NPS,
              *[f"第8题({o})" for o in REASONS], *Q_KANO, Q_PHONE, Q_NAME, *Q_MATRIX, Q_DATE,
              Q_COMMENT, Q_COMPANY]
    out = [header]
    for r in rows:
        out.append([*_meta(r, seed), r["branch"] + 1, *[k + 1 for k in r["sat"]], r["ease"] + 1,
                    -2 if r["nps"] is None else r["nps"] + 1,
                    *[int(k in r["reasons"]) for k in range(4)], *[k + 1 for k in r["kano"]],
                    r["phone"], r["name"], *[k + 1 for k in r["matrix"]],
                    f"2026-07-{r['day']:02d}", r["comment"] or "", COMPANIES[r["id"] % 4]])
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(out)
    return path


def _hand_nps(scores: list[int]) -> float:
    """Reichheld (2003): % promoters (9–10) minus % detractors (0–6) of those who answered."""
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


def _ingest(project: Path, files: list[Path], tmp: Path, **kw):
    params = project / "params"
    wh = tmp / f"wh-{files[0].stem}"
    report = ingest(files, warehouse=wh, codebook=params / "codebook.yaml",
                    sources=params / "sources.yaml", org=params / "org.yaml",
                    quarantine_dir=tmp / f"q-{files[0].stem}", **kw)
    return report, wh


def _scan_pii(wh: Path, needles: list[str], columns: list[str]) -> None:
    files = list((wh / "responses").rglob("*.parquet"))
    assert files
    for f in files:
        table = pq.read_table(f)
        for col in columns:
            assert col not in table.column_names, f"{f}: personal-data column {col}"
        for name in table.column_names:
            vals = [str(v) for v in table.column(name).to_pylist() if v is not None]
            for needle in needles:
                assert not any(needle in v for v in vals), f"{f}: {needle!r} found in {name}"


@pytest.fixture
def bank(tmp_path):
    rows = _bank_rows(1, 80, BRANCHES)
    text = bank_text(tmp_path / "网点满意度_文本.xlsx", rows)
    code = bank_code(tmp_path / "网点满意度_序号.csv", rows)
    return rows, text, code


def test_bank_wjx_text_and_code_drafted_and_loaded(tmp_path, bank):
    rows, text, code = bank
    project = tmp_path / "proj"
    res = draft_params([text, code], project=project)
    params = project / "params"
    cb = load_codebook(params / "codebook.yaml")
    src = load_sources(params / "sources.yaml", codebook=cb)
    org = load_org(params / "org.yaml")
    assert res.codebook == cb and res.org == org
    table = res.to_frame()
    assert list(table.columns) == ["level", "text"] and len(table) == len(res.review)

    by_label = {i.label: i for i in cb.items}
    # NPS: 0–10 numeric scale and the nps role
    ltr = by_label["您向亲友推荐我行的可能性有多大?"]
    assert ltr.id == cb.roles.nps == "ltr"
    assert (cb.scale_of("ltr").kind, cb.scale_of("ltr").min, cb.scale_of("ltr").max) == (
        "numeric", 0, 10)
    # satisfaction ratings: 5 = 非常满意 (higher = better), shown best first
    sat = cb.scale_of(by_label["您对网点环境是否满意"].id)
    assert sat.codes == {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
    assert sat.shown == [5, 4, 3, 2, 1]
    assert cb.roles.csat == by_label["总体而言,您对本次服务是否满意?"].id
    # CES: 7-point ease, 7 = 非常容易, top 3 boxes
    ces = cb.scale_of(cb.roles.ces)
    assert cb.item(cb.roles.ces).label == "本次办理业务对您来说容易吗?"
    assert ces.codes[7] == "非常容易" and ces.codes[1] == "非常困难" and ces.top_codes == [7, 6, 5]
    # matrix rows 13(…) on the 好…差 family
    queue = by_label["排队等候时间"]
    assert cb.scale_of(queue.id).codes == {5: "好", 4: "良好", 3: "一般", 2: "较差", 1: "差"}
    assert queue.section == "第13题"
    assert set(cb.roles.attributes) == {by_label[x].id for x in (
        "您对网点环境是否满意", "您对柜员服务态度是否满意", "您对业务办理速度是否满意",
        "排队等候时间", "大堂环境卫生")}
    assert cb.roles.overall == "ltr"
    # reasons: multi-select in questionnaire order (from the 0/1 columns), other last
    reasons = cb.scale_of(by_label["您选择我行的原因"].id)
    assert (reasons.kind, reasons.options) == ("multi", ["离家近", "服务好", "利率优惠", "其他"])
    # Kano pair by wording
    assert len(cb.kano) == 1
    pair = cb.kano[0]
    assert cb.item(pair.functional).label == "如果网点提供免费停车,您觉得如何?"
    assert cb.item(pair.dysfunctional).label == "如果网点不提供免费停车,您觉得如何?"
    assert cb.scale_of(pair.functional).codes[1] == "喜欢"
    # open text and the comment role; the date question
    assert cb.item(cb.roles.comment).label == "您对我们还有什么意见或建议?"
    assert cb.scale_of(by_label["您办理业务的日期"].id).kind == "text"
    # personal data: never items, dropped by pii rules
    assert not any(x in by_label for x in ("您的手机号码", "您的姓名"))
    pii = {r.label or r.column for r in src.surveys["wjx"].pii}
    assert {"您的手机号码", "您的姓名", "您的工作单位", "来自IP"} <= pii
    # branches: the units of the org, in questionnaire order, codes B01…
    assert [(b.code, b.name) for b in org.branches] == [
        (f"B{k:02d}", n) for k, n in enumerate(BRANCHES, 1)]
    assert src.surveys["wjx"].branch.label == "您办理业务的网点"
    assert src.surveys["wjx"].positions.branch == BRANCHES
    review = (params / "DRAFT-REVIEW.md").read_text(encoding="utf-8")
    assert "您办理业务的网点" in review and "regions" in review

    # both exports load with the drafted params, every row, into separate warehouses
    loaded = {}
    for f in (text, code):
        report, wh = _ingest(project, [f], tmp_path)
        assert report.rejected_files == []
        assert report.rows_read == report.accepted == len(rows) and report.quarantined == 0
        _scan_pii(wh, [r["phone"] for r in rows] + [r["name"] for r in rows] + COMPANIES
                  + ["116.228."], ["来自IP", Q_PHONE, Q_NAME, Q_COMPANY])
        df = load_responses(wh).sort_values("response_id").reset_index(drop=True)
        loaded[f.suffix] = df
        # NPS of the warehouse = NPS counted from the raw rows
        got = nps_metric(df, score="ltr", ci="wald")["nps"].iloc[0]
        want = _hand_nps([r["nps"] for r in rows if r["nps"] is not None])
        assert got == pytest.approx(want, abs=1e-9)
        assert set(df["period"]) == {"2026Q3"}
        assert set(df["branch"]) <= {b.code for b in org.branches}
    # text and code export decode to the same answers (free "other" text aside)
    a, b = loaded[".xlsx"], loaded[".csv"]
    for item in cb.items:
        if item.role == "pii":
            continue
        x, y = a[item.id].astype("string"), b[item.id].astype("string")
        if cb.scale_of(item.id).kind == "multi":
            x = x.str.replace("〖停车方便〗", "", regex=False).str.replace("【请注明】", "", regex=False)
        assert x.fillna("<NA>").tolist() == y.fillna("<NA>").tolist(), item.id
    # the branch of each row is the one answered
    want_branch = [f"B{r['branch'] + 1:02d}" for r in rows]
    assert a.sort_values("response_id", key=lambda s: s.str.split("-").str[-1].astype(int))[
        "branch"].tolist() == want_branch


def test_second_run_unchanged_refused_and_forced(tmp_path, bank, capsys):
    _, text, code = bank
    project = tmp_path / "proj"
    draft_params([text, code], project=project)
    before = {p.name: p.read_bytes() for p in (project / "params").iterdir()}
    # the same exports again: nothing written, "unchanged", exit 0
    assert main(["draft", str(text), str(code), "--project", str(project)]) == 0
    out = capsys.readouterr().out
    assert [ln.split()[0] for ln in out.splitlines() if ln.startswith(("unchanged ", "wrote "))] \
        == ["unchanged"] * 4
    assert {p.name: p.read_bytes() for p in (project / "params").iterdir()} == before
    # another draft (text export only: other option order) is refused without --force
    org = project / "params" / "org.yaml"
    org.write_text(org.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")
    assert main(["draft", str(text), "--project", str(project)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--force" in err
    assert str(project / "params") in err and err.split(": ")[2].endswith(".yaml")
    assert org.read_text(encoding="utf-8").endswith("# my edit\n")
    assert main(["draft", str(text), str(code), "--project", str(project), "--force"]) == 0
    assert {p.name: p.read_bytes() for p in (project / "params").iterdir()} == before


def test_new_wave_with_fewer_branches_changes_nothing(tmp_path, bank):
    _, text, code = bank
    project = tmp_path / "proj"
    draft_params([text, code], project=project)
    yaml_files = ("codebook.yaml", "sources.yaml", "org.yaml")
    before = {n: (project / "params" / n).read_bytes() for n in yaml_files}
    wave = _bank_rows(7, 50, BRANCHES[:3] + BRANCHES[4:])      # 上海徐汇支行 absent
    t2 = bank_text(tmp_path / "wave2_文本.xlsx", wave, seed=7)
    c2 = bank_code(tmp_path / "wave2_序号.csv", wave, seed=7)
    res = draft_params([t2, c2], project=project, force=True)
    assert {n: (project / "params" / n).read_bytes() for n in yaml_files} == before
    assert [p.name for p in res.unchanged] == list(yaml_files)
    for f in (t2, c2):
        report, _ = _ingest(project, [f], tmp_path)
        assert report.rows_read == report.accepted == len(wave) and report.quarantined == 0
    # without an earlier draft the new wave alone still drafts the same questions and scales
    alone = draft_params([t2, c2], project=tmp_path / "alone")
    assert [i.model_dump() for i in alone.codebook.items] == [
        i.model_dump() for i in res.codebook.items]
    assert alone.codebook.scales == res.codebook.scales


def test_text_export_alone_lists_the_option_order_question(tmp_path, bank):
    rows, text, _ = bank
    res = draft_params([text], project=tmp_path / "p")
    review = res.texts["DRAFT-REVIEW.md"]
    # the branch order cannot be known from a text export: the draft says so
    assert "positions.branch" in review and "shown" in review
    assert res.sources.surveys["wjx"].positions.branch is None
    report, _ = _ingest(tmp_path / "p", [text], tmp_path)
    assert report.rows_read == report.accepted == len(rows) and report.quarantined == 0


# ---- Qualtrics (English) --------------------------------------------------------------------------

Q_META = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
          "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
          "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
          "DistributionChannel", "UserLanguage"]
Q_COLS = ["Q1", "Q1_NPS_GROUP", "Q2", "Q3_1", "Q3_2", "Q3_3", "Q4", "Q5", "Q6", "Q7", "Q7_4_TEXT",
          "store"]
#: the legacy layout: a multi-select spread over one column per choice (1 = chosen)
Q_LEGACY = {"Q7": ["Q9_1", "Q9_2", "Q9_3"], "Q7_4_TEXT": ["Q9_3_TEXT"]}
Q_TEXT = ["How likely are you to recommend Acme Stores to a friend or colleague?",
          "How likely are you to recommend Acme Stores to a friend or colleague? - Group",
          "Overall, how satisfied are you with your visit today?",
          "How much do you agree with the following? - Staff were friendly",
          "How much do you agree with the following? - Shelves were well stocked",
          "How much do you agree with the following? - Checkout was quick",
          "How easy was it to find what you needed?", "What is your email address?",
          "What could we do better?", "Which departments did you visit? - Selected Choice",
          "Which departments did you visit? - Other - Text", "store"]
Q_LEGACY_TEXT = {"Q9_1": "Which services did you use? - Click and collect",
                 "Q9_2": "Which services did you use? - Home delivery",
                 "Q9_3": "Which services did you use? - Other",
                 "Q9_3_TEXT": "Which services did you use? - Other - Text"}
AGREE = ["Strongly agree", "Somewhat agree", "Neither agree nor disagree", "Somewhat disagree",
         "Strongly disagree"]
QSAT = ["Extremely satisfied", "Somewhat satisfied", "Neither satisfied nor dissatisfied",
        "Somewhat dissatisfied", "Extremely dissatisfied"]
QEASE = ["Extremely easy", "Moderately easy", "Slightly easy", "Neither easy nor difficult",
         "Slightly difficult", "Moderately difficult", "Extremely difficult"]
STORES = ["Downtown", "Airport", "Harbour Mall"]
DEPTS = ["Grocery", "Bakery", "Pharmacy", "Other"]


def qualtrics_csv(path: Path, n: int = 60, *, legacy: bool = False) -> tuple[Path, list[dict]]:
    """Choice-text export; ``legacy``: the multi-select as Q9_1…Q9_3 (1 = chosen) + Q9_3_TEXT."""
    rng = np.random.default_rng(11)
    cols, texts = list(Q_COLS), list(Q_TEXT)
    if legacy:
        at = cols.index("Q7")
        cols[at:at + 2] = [*Q_LEGACY["Q7"], *Q_LEGACY["Q7_4_TEXT"]]
        texts[at:at + 2] = [Q_LEGACY_TEXT[c] for c in cols[at:at + 4]]
    ids = [json.dumps({"ImportId": c}) for c in Q_META] + [
        json.dumps({"ImportId": "QID" + c[1:]}) for c in cols]
    out = [Q_META + cols, Q_META + texts, ids]
    rows = []
    for i in range(n):
        start = dt.datetime(2026, 8, 3, 9) + dt.timedelta(hours=5 * i)
        stamp = (start + dt.timedelta(minutes=4)).strftime("%Y-%m-%d %H:%M:%S")
        status = "Survey Preview" if i == 5 else "IP Address"
        score = None if i % 13 == 4 else int(rng.integers(11))
        depts = sorted({int(x) for x in rng.integers(4, size=int(rng.integers(1, 3)))})
        r = {"status": status, "nps": score, "email": f"shopper{i}@example.com",
             "ip": f"203.0.113.{i}"}
        rows.append(r)
        group = "" if score is None else ("Promoter" if score >= 9 else "Passive" if score >= 7
                                          else "Detractor")
        out.append([start.strftime("%Y-%m-%d %H:%M:%S"), stamp, status, r["ip"], "100", "240",
                    "True", stamp, f"R_{i:04d}abcXYZ", "Doe", "Jane", f"jane{i}@example.org",
                    f"CUST{i:05d}", "31.2", "121.4", "anonymous", "EN",
                    "" if score is None else str(score), group, QSAT[int(rng.integers(3))],
                    *[AGREE[int(rng.integers(5))] for _ in range(3)], QEASE[int(rng.integers(7))],
                    r["email"], f"More cashiers at lane {i}" if i % 3 else "",
                    *([("1" if 0 in depts else ""), ("1" if 1 in depts else ""),
                       ("1" if 3 in depts else ""), ("gift wrap" if 3 in depts else "")] if legacy
                      else [",".join(DEPTS[k] for k in depts), "flowers" if 3 in depts else ""]),
                    STORES[i % 3]])
        r["depts"] = depts
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("\ufeff")
        csv.writer(fh).writerows(out)
    return path, rows


def test_qualtrics_english_export(tmp_path):
    path, rows = qualtrics_csv(tmp_path / "acme_stores.csv")
    project = tmp_path / "proj"
    res = draft_params([path], project=project)
    cb, src, org = res.codebook, res.sources, res.org
    assert cb.roles.nps == "ltr" and cb.scale_of("ltr").max == 10
    q = src.surveys["qualtrics"]
    cols = {r.item: r.column for r in q.items}
    assert cols["ltr"] == "Q1"
    # Strongly agree … Strongly disagree matrix rows: 5 = strongly agree, English aliases kept
    friendly = next(i for i in cb.items if i.label == "Staff were friendly")
    assert cols[friendly.id] == "Q3_1"
    assert friendly.section == "How much do you agree with the following?"
    agree = cb.scale_of(friendly.id)
    assert agree.label_to_code()["strongly agree"] == 5
    assert agree.label_to_code()["strongly disagree"] == 1
    assert cb.item(cb.roles.csat).label.startswith("Overall, how satisfied")
    assert cb.scale_of(cb.roles.csat).label_to_code()["extremely satisfied"] == 5
    assert cb.scale_of(cb.roles.ces).label_to_code()["extremely easy"] == 7
    depts = next(i for i in cb.items if i.label == "Which departments did you visit?")
    assert cb.scale_of(depts.id).options[-1] == "Other"
    assert next(r for r in q.items if r.item == depts.id).other_text == "Q7_4_TEXT"
    # the store column: branches; the e-mail question: personal data, not an item
    assert q.branch.column == "store"
    assert sorted(b.name for b in org.branches) == sorted(STORES)
    assert {"Q5", "RecipientEmail", "IPAddress"} <= {r.column for r in q.pii}
    assert not any("email" in i.label.lower() for i in cb.items)

    report, wh = _ingest(project, [path], tmp_path)
    kept = [r for r in rows if r["status"] != "Survey Preview"]
    assert report.rows_read == report.accepted == len(kept) and report.quarantined == 0
    _scan_pii(wh, [r["email"] for r in rows] + ["@example.org", "203.0.113."],
              ["Q5", "RecipientEmail", "IPAddress"])
    df = load_responses(wh)
    want = _hand_nps([r["nps"] for r in kept if r["nps"] is not None])
    assert nps_metric(df, score="ltr")["nps"].iloc[0] == pytest.approx(want, abs=1e-9)
    assert set(df["period"]) == {"2026Q3"}
    assert df[depts.id].str.contains("Other〖flowers〗", regex=False).any()


def test_qualtrics_legacy_multiselect_columns(tmp_path):
    """A multi-select spread over Q9_1…Q9_3 (1 = chosen), the "other" text in Q9_3_TEXT."""
    path, rows = qualtrics_csv(tmp_path / "acme_legacy.csv", legacy=True)
    project = tmp_path / "proj"
    res = draft_params([path], project=project)
    cb = res.codebook
    services = next(i for i in cb.items if i.label == "Which services did you use?")
    assert cb.scale_of(services.id).options == ["Click and collect", "Home delivery", "Other"]
    assert not any(i.label.startswith(("Click and collect", "Home delivery")) for i in cb.items)
    assert res.sources.surveys["qualtrics"].multi_sep == "┋"
    report, wh = _ingest(project, [path], tmp_path)
    kept = [r for r in rows if r["status"] != "Survey Preview"]
    assert report.rows_read == report.accepted == len(kept) and report.quarantined == 0
    got = load_responses(wh).set_index("response_id")[services.id]
    names = {0: "Click and collect", 1: "Home delivery"}
    for i, r in enumerate(rows):
        if r["status"] == "Survey Preview":
            continue
        want = [names[k] for k in r["depts"] if k in names]
        want += ["Other〖gift wrap〗"] if 3 in r["depts"] else []
        value = got[f"R_{i:04d}abcXYZ"]
        assert (value if not pd.isna(value) else "") == "┋".join(want)


# ---- SPSS ---------------------------------------------------------------------------------------

def spss_file(path: Path, n: int = 70) -> tuple[Path, pd.DataFrame]:
    import pyreadstat

    rng = np.random.default_rng(5)
    df = pd.DataFrame({
        "resp_no": np.arange(1, n + 1, dtype=float),
        "region": rng.integers(1, 5, size=n).astype(float),
        "q_nps": [float("nan") if i % 17 == 3 else float(rng.integers(11)) for i in range(n)],
        "q_ces": rng.integers(1, 8, size=n).astype(float),
        "q_sat": rng.integers(1, 6, size=n).astype(float),
        "gender": rng.integers(1, 3, size=n).astype(float),
        "q_value": rng.integers(1, 11, size=n).astype(float),
        "q_staff": rng.integers(1, 6, size=n).astype(float),
        "mobile": [f"1370000{i:04d}" for i in range(n)],
        "idno": [f"11010519800101{i:04d}" for i in range(n)],
        "remark": [f"希望延长营业时间{i}" if i % 2 else "" for i in range(n)],
        "submit_time": [dt.datetime(2026, 4, 1, 10) + dt.timedelta(hours=7 * i) for i in range(n)],
    })
    pyreadstat.write_sav(
        df, str(path),
        column_labels={"resp_no": "答卷编号", "region": "所属分行", "q_nps": "您向朋友推荐我行的可能性",
                       "q_ces": "办理业务的难易程度", "q_sat": "总体满意度", "gender": "性别",
                       "mobile": "手机", "remark": "其他意见", "submit_time": "提交时间",
                       "q_value": "性价比评分(1-10)", "q_staff": "员工服务", "idno": "备注号"},
        variable_value_labels={
            "region": {1.0: "北京分行", 2.0: "上海分行", 3.0: "广州分行", 4.0: "深圳分行"},
            "q_nps": {0.0: "完全不可能", 10.0: "非常可能"},
            "q_ces": {1.0: "非常困难", 2.0: "困难", 3.0: "比较困难", 4.0: "一般", 5.0: "比较容易",
                      6.0: "容易", 7.0: "非常容易"},
            "q_sat": {1.0: "非常不满意", 2.0: "不满意", 3.0: "一般", 4.0: "满意", 5.0: "非常满意"},
            "gender": {1.0: "男", 2.0: "女"},
            # coded best first: 1 = 非常满意 (cxlab wants a higher code = a better answer)
            "q_staff": {1.0: "非常满意", 2.0: "满意", 3.0: "一般", 4.0: "不满意", 5.0: "非常不满意"},
        })
    return path, df


def test_spss_value_labels(tmp_path):
    path, raw = spss_file(tmp_path / "bank_2026Q2.sav")
    project = tmp_path / "proj"
    res = draft_params([path], project=project)
    cb, org = res.codebook, res.org
    src = res.sources.surveys["spss"]
    cols = {r.item: r.column for r in src.items}
    assert cols[cb.roles.nps] == "q_nps"
    assert cols[cb.roles.ces] == "q_ces" and cols[cb.roles.csat] == "q_sat"
    ces = cb.scale_of(cb.roles.ces)
    assert ces.codes == {7: "非常容易", 6: "容易", 5: "比较容易", 4: "一般", 3: "比较困难",
                         2: "困难", 1: "非常困难"} and ces.top_box == 3
    gender = next(i for i in cb.items if cols[i.id] == "gender")
    assert gender.role == "dimension" and cb.scale_of(gender.id).codes == {1: "男", 2: "女"}
    assert [b.name for b in org.branches] == ["北京分行", "上海分行", "广州分行", "深圳分行"]
    assert src.branch.column == "region" and src.branch.values["1"] == "北京分行"
    assert src.response_id.column == "resp_no"
    assert [r.column for r in src.submitted_at] == ["submit_time"]
    assert {"mobile", "idno"} <= {r.column for r in src.pii}   # idno: by its values (ID numbers)
    assert "mobile" not in cols.values() and "submit_time" not in cols.values()
    value = next(i for i in cb.items if cols[i.id] == "q_value")
    assert (cb.scale_of(value.id).kind, cb.scale_of(value.id).min, cb.scale_of(value.id).max) == (
        "numeric", 1, 10)
    assert value.id in cb.roles.attributes
    review = res.texts["DRAFT-REVIEW.md"]
    must = review.split("## 请核对")[0]
    assert "「员工服务」" in must and "RECODE" in must   # reversed codes: must be fixed first
    assert "答卷编号" not in review          # the id column is metadata, nothing to check
    assert "性别" in review and "1=男" in review   # coded answers kept as codes: listed

    report, wh = _ingest(project, [path], tmp_path)
    assert report.rows_read == report.accepted == len(raw) and report.quarantined == 0
    _scan_pii(wh, raw["mobile"].tolist() + raw["idno"].tolist(), ["mobile", "idno"])
    df = load_responses(wh)
    want = _hand_nps([int(v) for v in raw["q_nps"].dropna()])
    assert nps_metric(df, score=cb.roles.nps)["nps"].iloc[0] == pytest.approx(want, abs=1e-9)
    code_of = {b.name: b.code for b in org.branches}
    names = {1: "北京分行", 2: "上海分行", 3: "广州分行", 4: "深圳分行"}
    got = df.sort_values("response_id", key=lambda s: s.str.split("-").str[-1].astype(int))
    assert got["branch"].tolist() == [code_of[names[int(v)]] for v in raw["region"]]
    assert set(df["period"]) == {"2026Q2"}


# ---- the real 问卷星 files -------------------------------------------------------------------------

def test_real_wjx_exports(tmp_path, real_exports):
    text = real_exports / "wjx" / "wjx_800_800_0.xls"
    code = real_exports / "wjx" / "wjx_800_800_2.xls"
    project = tmp_path / "proj"
    res = draft_params([text, code], project=project)
    cb = res.codebook
    assert cb.roles.nps is None and cb.nps_item is None
    age = next(i for i in cb.items if i.label == "年龄")
    # option order learnt from the pairs of text and code answers (position 1 never chosen)
    assert cb.scale_of(age.id).options[1:4] == ["16~19岁", "20~24岁", "25~29岁"]
    interests = next(i for i in cb.items if i.label == "兴趣爱好")
    assert cb.scale_of(interests.id).options[0] == "运动"
    assert cb.scale_of(interests.id).options[-1] == "其他"
    review = res.texts["DRAFT-REVIEW.md"]
    assert "--period" in review and "--branch MAIN" in review and "年龄" in review
    frames = []
    for f in (text, code):
        report, wh = _ingest(project, [f], tmp_path, period="2025Q4", branch="MAIN")
        assert report.rows_read == report.accepted == 800 and report.quarantined == 0
        frames.append(load_responses(wh).sort_values("response_id").reset_index(drop=True))
    for item in cb.items:
        x = frames[0][item.id].astype("string").str.replace(r"【请注明】〖[^〗]*〗", "", regex=True)
        assert x.fillna("").tolist() == frames[1][item.id].astype("string").fillna("").tolist()


# ---- command line -----------------------------------------------------------------------------

def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["draft", "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no export given" in err
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    assert main(["draft", str(bad), "--project", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "broken.xlsx" in err
    assert main(["draft", str(tmp_path / "nope.xlsx"), "--project", str(tmp_path)]) == 2
    assert "nope.xlsx" in capsys.readouterr().err
    assert not (tmp_path / "params").exists()


def test_cli_drafts_into_the_project_and_ingest_loads(tmp_path, bank, capsys, monkeypatch):
    rows, text, _ = bank
    project = tmp_path / "team"
    assert main(["draft", str(text), "--project", str(project)]) == 0
    out = capsys.readouterr().out
    assert "待核对清单" in out and "wrote" in out
    assert sorted(p.name for p in (project / "params").iterdir()) == [
        "DRAFT-REVIEW.md", "codebook.yaml", "org.yaml", "sources.yaml"]
    monkeypatch.chdir(project)
    assert main(["ingest", str(text), "--warehouse", "data/warehouse",
                 "--quarantine", "data/quarantine"]) == 0
    out = capsys.readouterr().out
    assert f"read {len(rows)} = accepted {len(rows)} + quarantined 0" in out


def test_code_export_alone(tmp_path):
    """Byte-order marks and full-width punctuation do not leak into the drafted labels."""
    rows = _bank_rows(3, 12, BRANCHES)
    code = bank_code(tmp_path / "c.csv", rows)
    raw = code.read_bytes()
    assert raw.startswith(codecs.BOM_UTF8)
    res = draft_params([code], project=tmp_path / "p")
    assert all(not i.label.startswith("\ufeff") for i in res.codebook.items)
    # code export alone: the branch names are unknown and the review says so
    review = res.texts["DRAFT-REVIEW.md"]
    assert "网点名称未知" in review
    cb = res.codebook
    by_label = {i.label: i for i in cb.items}
    # fill-in answers stay text; ratings guessed from the wording are listed for checking
    assert cb.item(cb.roles.comment).label == "您对我们还有什么意见或建议?"
    assert cb.scale_of(by_label["您办理业务的日期"].id).kind == "text"
    assert cb.scale_of(by_label["您对网点环境是否满意"].id).codes[5] == "非常满意"
    assert "「您对网点环境是否满意」: 只有按选项序号导出" in review
    assert [i.id for i in cb.items if cb.scale_of(i.id).kind == "ordinal"
            and i.label.startswith("如果")] == [p for k in cb.kano for p in (k.functional,
                                                                          k.dysfunctional)]
    assert {"您的手机号码", "您的姓名"} <= {r.label for r in res.sources.surveys["wjx"].pii}
    report, _ = _ingest(tmp_path / "p", [code], tmp_path)
    assert report.rows_read == report.accepted == len(rows) and report.quarantined == 0


def test_one_questionnaire_on_three_platforms_gives_one_codebook(tmp_path):
    """The sample questionnaire's responses as 问卷星 text, 问卷星 code and SurveyMonkey exports
    (tests/data/exports/ours_*): one drafted codebook loads all three to the same answers."""
    here = Path(__file__).parent / "data" / "exports"
    files = [here / "ours_wjx_text.xlsx", here / "ours_wjx_code.xlsx",
             here / "ours_surveymonkey.csv"]
    project = tmp_path / "proj"
    res = draft_params(files, project=project)
    cb = res.codebook
    assert cb.roles.nps == "ltr" and len(cb.kano) == 5
    assert set(res.sources.surveys) == {"wjx", "surveymonkey"}
    frames = []
    for f in files:
        report, wh = _ingest(project, [f], tmp_path)
        assert report.rows_read == report.accepted == 62 and report.quarantined == 0
        df = load_responses(wh)
        # wjx-2026Q3-7 and SurveyMonkey's 114523189007 are respondent 7
        df.index = df["response_id"].str.extract(r"([0-9]+)$")[0].astype("int64") % 1000
        frames.append(df.sort_index())
    ids = [i.id for i in cb.items]
    for other in frames[1:]:
        assert list(other.index) == list(frames[0].index)
        for c in ids:
            a = frames[0][c].astype("string").str.replace(r"〖[^〗]*〗", "", regex=True)
            b = other[c].astype("string").str.replace(r"〖[^〗]*〗", "", regex=True)
            assert a.fillna("<NA>").tolist() == b.fillna("<NA>").tolist(), c
    assert frames[0]["branch"].tolist() == frames[2]["branch"].tolist()


def test_plain_csv_wording_decides(tmp_path):
    """A plain CSV: the recommend question wins over another 0–10 "likely" question; a rating
    that names the company is not personal data; a phone column is found by its values."""
    rng = np.random.default_rng(3)
    n = 40
    sat = ["Very satisfied", "Satisfied", "Neither satisfied nor dissatisfied", "Dissatisfied",
           "Very dissatisfied"]
    rows = [["respondent_id", "submitted", "shop", "How likely are you to return? (0-10)",
             "How likely are you to recommend us? (0-10)",
             "Overall, how satisfied are you with our company?", "Contact number"]]
    recommend = []
    for i in range(n):
        score = int(rng.integers(11))
        recommend.append(score)
        rows.append([f"{1000 + i}", f"2026-05-{1 + i % 28:02d} 10:{i:02d}:00",
                     ["Main St", "Airport"][i % 2], str(int(rng.integers(11))), str(score),
                     sat[int(rng.integers(5))], f"+86 138 {i:04d} 8000"])
    path = tmp_path / "shops.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    project = tmp_path / "proj"
    res = draft_params([path], project=project)
    cb, src = res.codebook, res.sources.surveys["csv"]
    cols = {r.item: r.column for r in src.items}
    assert cols[cb.roles.nps] == "How likely are you to recommend us? (0-10)"
    assert cb.item(cb.roles.csat).label == "Overall, how satisfied are you with our company?"
    assert "Contact number" in {r.column for r in src.pii}
    assert src.response_id.column == "respondent_id" and src.branch.column == "shop"
    assert "题目像个人信息" in res.texts["DRAFT-REVIEW.md"]
    report, wh = _ingest(project, [path], tmp_path)
    assert report.rows_read == report.accepted == n and report.quarantined == 0
    _scan_pii(wh, ["8000", "+86"], ["Contact number"])
    df = load_responses(wh)
    assert nps_metric(df, score=cb.roles.nps)["nps"].iloc[0] == pytest.approx(
        _hand_nps(recommend), abs=1e-9)
    assert set(df["period"]) == {"2026Q2"}


def test_force_over_the_sample_project_keeps_nothing_of_it(tmp_path, bank):
    """--force over params that no draft wrote (the sample project's) starts afresh: the sample's
    branches are not merged into the bank's organisation."""
    import shutil

    _, text, code = bank
    project = tmp_path / "proj"
    shutil.copytree(Path(__file__).parents[1] / "params", project / "params")
    assert main(["draft", str(text), "--project", str(project)]) == 1   # refused: files differ
    res = draft_params([text, code], project=project, force=True)
    assert sorted(b.name for b in res.org.branches) == sorted(BRANCHES)
    assert load_org(project / "params" / "org.yaml") == res.org
    assert (project / "params" / "targets.yaml").exists()          # other params left alone


def test_exports_of_different_surveys_are_flagged(tmp_path, bank):
    _, text, _ = bank
    qualtrics, _ = qualtrics_csv(tmp_path / "acme.csv")
    res = draft_params([text, qualtrics], project=tmp_path / "p", write=False)
    assert "像是不同的问卷" in res.texts["DRAFT-REVIEW.md"]
    assert not (tmp_path / "p").exists()                           # write=False writes nothing
    # one NPS role; the other survey's recommend question is listed
    assert res.codebook.roles.nps == "ltr"
    assert "第二个推荐题" in res.texts["DRAFT-REVIEW.md"]


def test_seven_point_scale_kept_for_a_wave_without_its_middle_answers(tmp_path):
    sat7 = ["非常满意", "满意", "比较满意", "一般", "比较不满意", "不满意", "非常不满意"]

    def wave(name: str, answers: list[str]) -> Path:
        path = tmp_path / name
        with open(path, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([*META, "1、您对本次服务满意吗？", "2、您办理业务的网点"])
            for i, a in enumerate(answers, 1):
                w.writerow([i, f"2026/7/{i} 10:00:00", "60秒", "微信", "直接访问",
                            f"1.2.3.{i}(北京-北京)", a, BRANCHES[i % 2]])
        return path

    first = wave("w1.csv", sat7 * 3)
    second = wave("w2.csv", ["非常满意", "满意", "一般", "不满意", "非常不满意"] * 3)
    project = tmp_path / "proj"
    res1 = draft_params([first], project=project)
    assert res1.codebook.scale_of(res1.codebook.roles.csat or "q1").codes[7] == "非常满意"
    res2 = draft_params([second], project=project, force=True)
    assert [p.name for p in res2.unchanged][:3] == ["codebook.yaml", "sources.yaml", "org.yaml"]
    # alone, the second wave looks like a 5-point scale: the earlier draft decided
    alone = draft_params([second], project=tmp_path / "alone", write=False)
    assert max(alone.codebook.scale_of(alone.codebook.items[0].id).codes) == 5
    report, _ = _ingest(project, [second], tmp_path)
    assert report.rows_read == report.accepted == 15 and report.quarantined == 0


def test_an_export_without_answers_is_refused(tmp_path, capsys):
    """A file with a header and no answers (or plain text named .xlsx) drafts nothing: one line,
    exit 1, no params written."""
    from cxlab.cli import main

    empty = tmp_path / "empty.xlsx"
    empty.write_text("garbage\n", encoding="utf-8")
    (tmp_path / "proj").mkdir()
    assert main(["draft", str(empty), "--project", str(tmp_path / "proj")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "empty.xlsx: no answers (0 rows)" in err[0]
    assert not (tmp_path / "proj" / "params").exists()
