"""Excel tab books: read the workbook back (openpyxl) and compare with crosstab() and metrics."""

from __future__ import annotations

import shutil
import unicodedata

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cxlab.config import load_codebook, load_org
from cxlab.deliver import BannerColumn, build_tables, tabbook
from cxlab.metrics import crosstab, nps
from cxlab.metrics._tests import two_proportion_test

PERIOD = "2026Q3"


@pytest.fixture(scope="module")
def company_ctx(sample_warehouse):
    from cxlab.report import build_aggregates, load_context

    build_aggregates(sample_warehouse)
    return load_context(period=PERIOD, warehouse=sample_warehouse)


@pytest.fixture(scope="module")
def company_book(company_ctx, tmp_path_factory):
    out = tmp_path_factory.mktemp("tab")
    raw = tabbook(company_ctx, out / "raw", adjust="none")
    bh = tabbook(company_ctx, out / "bh")
    return openpyxl.load_workbook(raw), openpyxl.load_workbook(bh)


def _nfkc(v):
    """Text read back after NFKC: the book writes full-width （）：， beside Chinese text."""
    return unicodedata.normalize("NFKC", v) if isinstance(v, str) else v


def _sheet(wb, item_label: str):
    for name in wb.sheetnames[1:]:
        if _nfkc(wb[name]["A1"].value).endswith(_nfkc(item_label)):
            return wb[name]
    raise AssertionError(f"no sheet for {item_label}")


def _grid(ws):
    """(group per column, label per column, letter per column, {row label: [values]}, sig rows),
    text after NFKC."""
    rows = [tuple(_nfkc(v) for v in r) for r in ws.iter_rows(values_only=True)]
    groups, labels, letters = rows[3], rows[4], rows[5]
    cur = None
    filled = []
    for g in groups[1:]:
        cur = g if g is not None else cur
        filled.append(cur)
    body, sig = {}, {}
    last = None
    for r in rows[6:]:
        if r[0] is not None and not str(r[0]).startswith(("百分比", "显著性", "样本量", "NPS =", "“全公司")):
            body[r[0]] = list(r[1:])
            last = r[0]
        elif r[0] is None and last is not None and any(v is not None for v in r[1:]):
            sig[last] = list(r[1:])
    return filled, list(labels[1:]), [x.strip("()") for x in letters[1:]], body, sig


def test_percentages_and_letters_match_crosstab(company_ctx, company_book):
    """Column % of every answer and, without multiplicity control, the letters equal crosstab()
    on the same respondents (columns with a base of at least 30)."""
    raw, _ = company_book
    cb = company_ctx.codebook
    item = "svc_resolution"
    ws = _sheet(raw, cb.item(item).label)
    groups, labels, letters, body, sig = _grid(ws)
    cur = company_ctx.current.copy()
    scale = cb.scale_of(item)
    cur["answer"] = cur[item].map(scale.codes)
    cur["branch_name"] = cur["branch"].map(company_ctx.branch_name)
    checked_pct = checked_sig = 0
    w = company_ctx.weight  # the sample reports are weighted (params/weighting.yaml)
    assert w is not None
    for group, col in (("调研渠道", "channel"), ("分支机构", "branch_name")):
        ct = crosstab(cur.dropna(subset=[item]), row="answer", col=col, weight=w)
        idx = [j for j, g in enumerate(groups) if g == group]
        assert idx, group
        big = {labels[j] for j in idx if body["基数(未加权)"][j] >= 30}
        ct_letter_to_label = dict(zip(ct["letter"], ct["col"], strict=False))
        label_to_book_letter = {labels[j]: letters[j] for j in idx}
        for rec in ct.itertuples():
            j = labels.index(rec.col, idx[0])
            assert body["基数(未加权)"][j] == rec.base
            if rec.col not in big:
                assert body[rec.row][j] == "—"
                continue
            assert body[rec.row][j] == pytest.approx(rec.pct / 100, rel=1e-9)
            checked_pct += 1
            expect = sorted(label_to_book_letter[ct_letter_to_label[x]] for x in rec.sig
                            if ct_letter_to_label[x] in big)
            got = sig.get(rec.row, [None] * len(labels))[j] or ""
            assert sorted(got) == expect, (group, rec.row, rec.col)
            checked_sig += len(expect)
    assert checked_pct > 20
    assert checked_sig > 0  # the comparison exercised some letters


def test_fdr_letters_are_benjamini_hochberg_of_the_table():
    """With FDR control a letter survives exactly when BH (statsmodels) rejects its test among
    all column-pair tests of the table; BH letters are a subset of the unadjusted ones."""
    from statsmodels.stats.multitest import multipletests

    cb = load_codebook("params/codebook.yaml")
    rng = np.random.default_rng(11)
    # five groups whose answer shares drift apart: some pairs clearly differ, some borderline
    shift = {"甲": 0.0, "乙": 0.05, "丙": 0.1, "丁": 0.14, "戊": 0.3}
    parts = []
    for g, d in shift.items():
        p = np.array([0.15 + d, 0.25, 0.3 - d / 2, 0.2 - d / 4, 0.1 - d / 4])
        parts.append(pd.DataFrame({"grp": g, "svc_attitude": rng.choice([5, 4, 3, 2, 1], 160,
                                                                         p=p / p.sum())}))
    cur = pd.concat(parts, ignore_index=True)
    cols = [BannerColumn(group="组", label=g, mask=(cur["grp"] == g).to_numpy()) for g in shift]
    item = "svc_attitude"
    raw = build_tables(cur, codebook=cb, columns=cols, items=[item], adjust="none")[0]
    bh = build_tables(cur, codebook=cb, columns=cols, items=[item])[0]
    tests = []
    for label, _kind, values in _answer_rows(cb, item):
        for a in range(len(cols)):
            for b in range(a + 1, len(cols)):
                xa, xb = cur.loc[cols[a].mask, item], cur.loc[cols[b].mask, item]
                res = two_proportion_test(int(xa.isin(values).sum()), len(xa),
                                          int(xb.isin(values).sum()), len(xb))
                tests.append((label, cols[a].label, cols[b].label, res.pvalue, res.diff))
    reject = multipletests([t[3] for t in tests], alpha=0.05, method="fdr_bh")[0]
    letter = dict(zip(bh.columns["label"], bh.columns["letter"], strict=True))
    expect: dict[tuple[str, str], set[str]] = {}
    for (row, la, lb, _p, diff), rej in zip(tests, reject, strict=True):
        if rej:
            hi, lo = (la, lb) if diff > 0 else (lb, la)
            expect.setdefault((row, hi), set()).add(letter[lo])
    by_letter = bh.columns.set_index("letter")["label"]
    got = {(c.row, by_letter[c.letter]): set(c.sig) for c in bh.cells.itertuples() if c.sig}
    assert got == expect
    raw_sig = {(c.row, c.letter): set(c.sig) for c in raw.cells.itertuples()}
    for c in bh.cells.itertuples():
        assert set(c.sig) <= raw_sig[(c.row, c.letter)]
    assert sum(len(v) for v in raw_sig.values()) > sum(len(v) for v in got.values()) > 0


def _answer_rows(cb, item):
    scale = cb.scale_of(item)
    rows = [(scale.codes[c], "answer", [c]) for c in scale.shown_order()]
    top = scale.top_codes
    bottom = sorted(scale.codes)[: len(top)]
    rows.append((f"前{len(top)}项(" + "/".join(scale.codes[c] for c in sorted(top, reverse=True))
                 + ")", "net", top))
    rows.append((f"后{len(bottom)}项(" + "/".join(scale.codes[c] for c in
                 sorted(bottom, reverse=True)) + ")", "net", bottom))
    return rows


def test_nps_nets_and_mean_match_metrics(company_ctx, company_book):
    _, bh = company_book
    cb = company_ctx.codebook
    ws = _sheet(bh, cb.item(cb.nps_item).label)
    groups, labels, letters, body, _ = _grid(ws)
    cur = company_ctx.current
    cur = cur.assign(branch_name=cur["branch"].map(company_ctx.branch_name))
    w = company_ctx.weight  # the sample reports are weighted (params/weighting.yaml)
    ref = nps(cur.dropna(subset=["ltr"]), score="ltr", by="branch_name",
              weight=w).set_index("branch_name")
    idx = [j for j, g in enumerate(groups) if g == "分支机构"]
    assert len(idx) == len(load_org("params/org.yaml").branches)
    checked = 0
    for j in idx:
        r = ref.loc[labels[j]]
        assert body["基数(未加权)"][j] == r["n"]
        if r["n"] < 30:
            assert body["NPS(净推荐值)"][j] == "—"
            continue
        checked += 1
        assert body["NPS(净推荐值)"][j] == pytest.approx(r["nps"], abs=1e-9)
        assert body["推荐者(9–10)"][j] == pytest.approx(r["pct_promoters"] / 100, abs=1e-12)
        assert body["贬损者(0–6)"][j] == pytest.approx(r["pct_detractors"] / 100, abs=1e-12)
    assert checked >= 5
    total = nps(cur.dropna(subset=["ltr"]), score="ltr", weight=w).iloc[0]
    assert labels[0] == "全公司" and body["NPS(净推荐值)"][0] == pytest.approx(total["nps"])
    answered = cur.dropna(subset=["ltr"])
    assert body["均值"][0] == pytest.approx(np.average(answered["ltr"].astype(float),
                                                     weights=answered[w]))
    # top-2 box of a verbal item from Scale.top_codes, and the period banner over all periods
    ws = _sheet(bh, cb.item("svc_response").label)
    groups, labels, _, body, _ = _grid(ws)
    resp = company_ctx.responses
    for j, g in enumerate(groups):
        if g == "期间":
            x = resp[resp["period"] == labels[j]].dropna(subset=["svc_response"])
            assert body["前2项(好/良好)"][j] == pytest.approx(
                np.average(x["svc_response"].isin([5, 4]), weights=x[w]))


def test_multi_choice_counts_respondents(company_ctx, company_book):
    from cxlab.io import split_multiselect

    _, bh = company_book
    cb = company_ctx.codebook
    ws = _sheet(bh, cb.item("purchase_channel").label)
    _, labels, _, body, _ = _grid(ws)
    cur = company_ctx.current.dropna(subset=["purchase_channel"])
    answers = cur["purchase_channel"]
    split = split_multiselect(answers, options=cb.scale_of("purchase_channel").options)
    assert body["基数(未加权)"][0] == len(answers)
    for opt in cb.scale_of("purchase_channel").options:  # weighted shares, as the report
        assert body[opt][0] == pytest.approx(
            np.average(split[opt].fillna(0).astype(float), weights=cur[company_ctx.weight]))
    shares = [body[o][0] for o in cb.scale_of("purchase_channel").options]
    assert sum(shares) > 1  # several choices per respondent


def test_workbook_structure(company_book):
    _, wb = company_book
    toc = wb["目录"]
    assert wb.sheetnames[0] == "目录"
    links = [c.hyperlink.location for c in toc["B"] if c.hyperlink is not None]
    assert len(links) == len(wb.sheetnames) - 1
    for loc in links:
        assert loc.split("!")[0].strip("'") in wb.sheetnames
    ws = wb[wb.sheetnames[5]]
    assert ws.freeze_panes is not None and ws.freeze_panes.startswith("B")
    fmts = {c.number_format for row in ws.iter_rows(min_row=8) for c in row
            if isinstance(c.value, float)}
    assert "0.0%" in fmts
    notes = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "Benjamini–Hochberg" in notes and "少于 30" in notes


def test_branch_book_holds_no_other_branch(sample_warehouse, tmp_path):
    """A branch book shows the branch and the company total only: no other branch's name or
    code anywhere; the company column equals the company's (weighted) counts."""
    from cxlab.io import load_responses
    from cxlab.report import build_aggregates, load_context

    build_aggregates(sample_warehouse)
    ctx = load_context(period=PERIOD, branch="SH01", warehouse=sample_warehouse)
    path = tabbook(ctx, tmp_path)
    assert path.name == "SH01-tables.xlsx"
    wb = openpyxl.load_workbook(path)
    org = ctx.org
    others = [b for b in org.branches if b.code != "SH01"]
    text = " ".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
                    if c.value is not None)
    for b in others:
        assert b.name not in text and b.code not in text
    assert "上海分公司" in text
    # company column: counts aggregated over every branch of the period
    from cxlab.report._aggregates import load_weights

    everyone = load_responses(sample_warehouse, period=PERIOD)
    ws = _sheet(wb, ctx.codebook.item("csat").label)
    groups, labels, _, body, sig = _grid(ws)
    j = labels.index("全公司")
    csat = everyone["csat"].dropna()
    assert body["基数(未加权)"][j] == len(csat)
    # weighted by the report's survey weights, like the branch's own column
    assert ctx.weighted
    w = load_weights(sample_warehouse)[0]
    w = w[w["period"].astype(str) == PERIOD].set_index("response_id")["weight"]
    wt = w.reindex(everyone.loc[csat.index, "response_id"].astype(str)).to_numpy(float)
    assert body["基数(加权)"][j] == pytest.approx(wt.sum())
    assert body["前2项(非常满意/满意)"][j] == pytest.approx(
        np.average(csat.isin([5, 4]), weights=wt))
    assert body["前2项(非常满意/满意)"][j] != pytest.approx(csat.isin([5, 4]).mean())
    own = ctx.current["csat"].dropna()
    assert body["基数(未加权)"][0] == len(own) < len(csat)


def test_weighted_bases_and_suppression():
    """Weighted percentages and Kish bases; a column under 30 is not reported and not tested."""
    cb = load_codebook("params/codebook.yaml")
    rng = np.random.default_rng(5)
    n = 300
    df = pd.DataFrame({"csat": rng.integers(1, 6, n), "grp": ["a"] * 150 + ["b"] * 130 + ["c"] * 20,
                       "wt": rng.uniform(0.5, 2.0, n)})
    cols = [BannerColumn(group="总体", label="总体", mask=np.ones(n, bool))]
    cols += [BannerColumn(group="组", label=g, mask=(df["grp"] == g).to_numpy()) for g in "abc"]
    t = build_tables(df, codebook=cb, columns=cols, items=["csat"], weight="wt")[0]
    ct = crosstab(df, row="csat", col="grp", weight="wt")
    info = t.columns.set_index("label")
    for g in "ab":
        sub = ct[ct["col"] == g]
        assert info.loc[g, "weighted_base"] == pytest.approx(sub["weighted_base"].iloc[0])
        assert info.loc[g, "effective_base"] == pytest.approx(sub["effective_base"].iloc[0])
        for rec in sub.itertuples():
            cell = t.cells[(t.cells["row"] == cb.scale_of("csat").codes[rec.row])
                           & (t.cells["letter"] == info.loc[g, "letter"])]
            assert cell["value"].iloc[0] == pytest.approx(rec.pct)
    assert info.loc["c", "flag"] == "suppress"
    c_cells = t.cells[t.cells["letter"] == info.loc["c", "letter"]]
    assert c_cells["value"].isna().all() and (c_cells["sig"] == "").all()
    assert not t.cells["sig"].str.contains(info.loc["c", "letter"]).any()


def test_cli_tables(sample_warehouse, tmp_path, capsys):
    from cxlab.cli import main

    rc = main(["tables", "--period", PERIOD, "--branch", "杭州分公司", "--warehouse",
               str(sample_warehouse), "--out", str(tmp_path)])
    assert rc == 0
    assert (tmp_path / PERIOD / "HZ01-tables.xlsx").is_file()
    assert "HZ01-tables.xlsx" in capsys.readouterr().out
    rc = main(["tables", "--period", PERIOD, "--branch", "XX", "--warehouse",
               str(sample_warehouse), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and "unknown branch" in err and "Traceback" not in err


@pytest.mark.slow
def test_write_deliverables_is_incremental(sample_warehouse, tmp_path):
    """Second run writes nothing; a changed parameter file rebuilds; failures are reported."""
    from cxlab.deliver import write_deliverables

    params = tmp_path / "params"
    shutil.copytree("params", params)
    out = tmp_path / "reports"
    kw = {"periods": [PERIOD], "branches": ["ALL", "SU01"], "warehouse": sample_warehouse,
          "params_dir": params, "output_dir": out}
    first = write_deliverables(**kw)
    assert sorted(first.written) == sorted(f"{PERIOD}/{s}/{k}" for s in ("ALL", "SU01")
                                           for k in ("tables", "deck"))
    assert not first.failed and not first.skipped_unchanged
    files = sorted((out / PERIOD).glob("*"))
    assert [f.name for f in files] == ["ALL-deck.pptx", "ALL-tables.xlsx", "SU01-deck.pptx",
                                       "SU01-tables.xlsx"]
    stamps = {f: f.stat().st_mtime_ns for f in files}
    second = write_deliverables(**kw)
    assert second.written == [] and len(second.skipped_unchanged) == 4
    assert {f: f.stat().st_mtime_ns for f in files} == stamps
    targets = params / "targets.yaml"
    targets.write_text(targets.read_text(encoding="utf-8").replace("target: 40", "target: 45"),
                       encoding="utf-8")
    third = write_deliverables(**kw)
    assert len(third.written) == 4
    (out / PERIOD / "SU01-deck.pptx").unlink()  # a missing output is rebuilt
    assert write_deliverables(**kw).written == [f"{PERIOD}/SU01/deck"]
    bad = write_deliverables(**{**kw, "branches": ["ZZ99"]})
    assert bad.failed and "ZZ99" in bad.failed[0][1] and "FAILED" in bad.summary()


def test_branch_against_company_tests_the_rest_of_the_company(sample_warehouse):
    """In a branch book the branch column is tested against the company without the branch:
    the letters equal two_proportion_test on (branch) vs (all branches − branch) counts, or
    scipy's Fisher exact test where an expected count of that 2×2 table is below 5."""
    from scipy.stats import fisher_exact

    from cxlab.deliver._tabbook import _with_tiers, scope_banner
    from cxlab.io import load_responses
    from cxlab.report import build_aggregates, load_context

    build_aggregates(sample_warehouse)
    ctx = load_context(period=PERIOD, branch="GZ01", warehouse=sample_warehouse)
    frame = _with_tiers(ctx, ctx.responses.reset_index(drop=True))
    banner = scope_banner(ctx, frame, weight=None)
    assert [c.label for c in banner[:2]] == ["广州分公司", "全公司"]
    items = ctx.codebook.attribute_items[:8] + ["csat"]
    tables = build_tables(frame, codebook=ctx.codebook, columns=banner, items=items,
                          adjust="none")
    everyone = load_responses(sample_warehouse, period=PERIOD)
    rest = everyone[everyone["branch"] != "GZ01"]
    own = ctx.current
    letters = exact = 0
    for t in tables:
        scale = ctx.codebook.scale_of(t.item)
        label_to_codes = {scale.codes[c]: [c] for c in scale.codes}
        label_to_codes.update({r: v for r, _, v in _answer_rows(ctx.codebook, t.item)})
        for row, codes in label_to_codes.items():
            a, b = own[t.item].dropna(), rest[t.item].dropna()
            ka, kb = int(a.isin(codes).sum()), int(b.isin(codes).sum())
            res = two_proportion_test(ka, len(a), kb, len(b))
            table = np.array([[ka, len(a) - ka], [kb, len(b) - kb]])
            expected = np.outer(table.sum(1), table.sum(0)) / table.sum()
            p = fisher_exact(table).pvalue if expected.min() < 5 else res.pvalue
            exact += expected.min() < 5
            cells = t.cells[t.cells["row"] == row].set_index("letter")
            expect_a = "B" if p < 0.05 and res.diff > 0 else ""
            expect_b = "A" if p < 0.05 and res.diff < 0 else ""
            assert ("B" in cells.loc["A", "sig"]) == bool(expect_a), (t.item, row)
            assert ("A" in cells.loc["B", "sig"]) == bool(expect_b), (t.item, row)
            letters += len(expect_a) + len(expect_b)
    assert letters > 0


def test_tests_sheet_lists_raw_and_adjusted_p_behind_the_letters(company_ctx, company_book):
    """The last sheet lists every letter test with its method and raw and BH-adjusted p; a
    significant test is exactly a letter in the table's sheet."""
    from statsmodels.stats.multitest import multipletests

    from cxlab.deliver._zh import zh
    from cxlab.metrics._column_tests import METHOD_CN

    _, bh = company_book
    ws = bh[bh.sheetnames[-1]]
    assert bh.sheetnames[-1] == "显著性检验明细"
    rows = [r for r in ws.iter_rows(min_row=5, values_only=True) if r[0]]
    head = next(ws.iter_rows(min_row=4, max_row=4, values_only=True))
    t = pd.DataFrame(rows, columns=head).rename(columns={zh(c): c for c in (
        "p 值(校正后)", "p 值(未校正)", "差值(百分点)")})
    assert len(t) > 100
    # the sample reports are weighted: the design test, or no test for a small cell ("—")
    assert set(t["检验方法"]) <= {zh(METHOD_CN["design"]), zh(METHOD_CN["small"])}
    untested = t["检验方法"] == zh(METHOD_CN["small"])
    assert (t.loc[untested, "p 值(未校正)"] == "—").all() and not t.loc[untested, "显著"].any()
    t = t[~untested].astype({"p 值(未校正)": float, "p 值(校正后)": float})
    assert (t["p 值(校正后)"] >= t["p 值(未校正)"] - 1e-12).all()
    label = company_ctx.codebook.item("svc_resolution").label
    one = t[t["题目"].str.endswith(label[:10])]
    assert len(one)
    sheet = bh[one["题目"].iloc[0]]
    np.testing.assert_allclose(one["p 值(校正后)"],
                               multipletests(one["p 值(未校正)"], method="fdr_bh")[1], rtol=1e-9)
    _, _, letters, _, sig = _grid(sheet)
    for rec in one.itertuples():
        hi, lo = (rec[3], rec[4]) if rec[7] > 0 else (rec[4], rec[3])
        got = sig.get(_nfkc(rec[2]), [None] * len(letters))[letters.index(hi)] or ""
        assert (lo in got) == (rec[11] == "是"), (rec[2], hi, lo)


def test_weighted_branch_book_company_column_uses_the_survey_weights(sample_warehouse, tmp_path):
    """In a weighted branch book the company column is weighted like the branch column: its
    weighted base is the sum of the period's company weights of the item's answers."""
    from cxlab.deliver._tabbook import _with_tiers, scope_banner
    from cxlab.report import build_aggregates, load_context

    build_aggregates(sample_warehouse)
    ctx = load_context(period=PERIOD, branch="GZ01", warehouse=sample_warehouse)
    comp = load_context(period=PERIOD, warehouse=sample_warehouse)
    assert ctx.weighted
    frame = _with_tiers(ctx, ctx.responses.reset_index(drop=True))
    banner = scope_banner(ctx, frame, weight="weight")
    t = build_tables(frame, codebook=ctx.codebook, columns=banner, items=["csat"],
                     weight="weight")[0]
    cur = comp.current[comp.current["csat"].notna()]
    info = t.columns.set_index("label")
    assert info.loc["全公司", "base"] == len(cur)
    assert info.loc["全公司", "weighted_base"] == pytest.approx(cur["weight"].sum(), rel=1e-9)
    assert info.loc["全公司", "effective_base"] == pytest.approx(
        cur["weight"].sum() ** 2 / (cur["weight"] ** 2).sum(), rel=1e-9)
