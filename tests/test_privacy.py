"""Privacy and branch isolation of the rendered reports, and render determinism.

Every HTML and PDF (text extracted with pdftotext) of the last sample period is scanned for the
personal data in the raw files: respondent names, companies, phones, e-mails and IP addresses.
A branch report must not quote another branch's respondents.
"""

from __future__ import annotations

import html as html_lib
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from cxlab.io import load_responses, read_export

PERIOD = "2026Q3"


@pytest.fixture(scope="module")
def raw_personal_data(sample_raw: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"name": set(), "company": set(), "phone": set(),
                                  "email": set(), "ip": set()}
    cols = {"客户姓名": "name", "客户单位": "company", "RecipientFirstName": None,
            "RecipientLastName": None, "RecipientEmail": "email", "IPAddress": "ip", "来自IP": "ip"}
    for f in sorted((sample_raw / "survey").iterdir()):
        df = read_export(f)
        labels = df.attrs.get("labels", {})
        for col in df.columns:
            key = next((v for k, v in cols.items() if k == col or labels.get(col) == k), "?")
            values = df[col].dropna().astype(str)
            if key == "ip":
                found["ip"] |= {v.split("(")[0] for v in values}
            elif key in ("name", "company", "email"):
                found[key] |= set(values)
            elif labels.get(col) == "联系方式" or col == "联系方式":
                for v in values:
                    (found["email"] if "@" in v else found["phone"]).add(v)
        if "RecipientLastName" in df.columns:
            full = (df["RecipientLastName"].fillna("") + df["RecipientFirstName"].fillna(""))
            found["name"] |= {n for n in full if n}
    crm = pd.read_csv(sample_raw / "crm" / "customers.csv", dtype=str)
    found["name"] |= set(crm["name"].dropna())
    found["company"] |= set(crm["company"].dropna())
    found["phone"] |= set(crm["phone"].dropna())
    found["email"] |= set(crm["email"].dropna())
    found = {k: {v.strip() for v in vals if len(v.strip()) >= 2} for k, vals in found.items()}
    assert all(len(v) > 50 for v in found.values()), {k: len(v) for k, v in found.items()}
    return found


def _texts(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*.html")):
        out[str(p.relative_to(folder))] = html_lib.unescape(p.read_text(encoding="utf-8"))
    for p in sorted(folder.rglob("*.pdf")):
        text = subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True,
                              check=True).stdout
        out[str(p.relative_to(folder))] = text
    return out


def test_no_personal_data_in_any_report(rendered_reports, raw_personal_data):
    texts = _texts(rendered_reports)
    assert len(texts) == 2 * 14 + 1  # 14 reports (company, 3 regions, 10 branches) × (HTML,
    #                                  PDF) + index.html
    for kind, values in raw_personal_data.items():
        # names are matched whole: a 2-character name inside a longer Chinese word is not a leak
        pattern = (re.compile("|".join(map(re.escape, sorted(values, key=len, reverse=True)))))
        for name, text in texts.items():
            hits = set(pattern.findall(text))
            if kind == "name":
                hits = {h for h in hits if re.search(rf"(?<![\u4e00-\u9fff]){re.escape(h)}"
                                                     rf"(?![\u4e00-\u9fff])", text)}
            assert not hits, f"{kind} from the raw files in {name}: {sorted(hits)[:5]}"


def test_no_respondent_or_customer_ids_in_reports(rendered_reports, sample_warehouse):
    df = load_responses(sample_warehouse, period=PERIOD)
    ids = set(df["response_id"]) | set(df["customer_id"].dropna())
    for name, text in _texts(rendered_reports).items():
        leaked = [i for i in ids if i in text]
        assert not leaked, f"{name} shows respondent-level ids: {leaked[:3]}"


def test_branch_report_quotes_only_its_own_customers(rendered_reports, sample_warehouse):
    from cxlab.text import redact

    df = load_responses(sample_warehouse, period=PERIOD, columns=["branch", "comment"])
    df = df.dropna(subset=["comment"])
    df["quoted"] = df["comment"].map(lambda c: redact(str(c)).strip())
    by_branch = {b: set(g) for b, g in df.groupby("branch")["quoted"]}
    for branch, own in by_branch.items():
        text = html_lib.unescape((rendered_reports / PERIOD / f"{branch}.html").read_text(
            encoding="utf-8"))
        others = set().union(*(q for b, q in by_branch.items() if b != branch)) - own
        own_text = "\n".join(own)
        # quotes may be a clause of a longer comment, and sample comments repeat across branches:
        # a leak is text from another branch that is not part of any of this branch's comments
        leaked = [q for q in others if len(q) >= 12 and q in text and q not in own_text]
        assert not leaked, f"{branch} quotes other branches' respondents: {leaked[:2]}"


def test_two_renders_give_identical_tables_and_figures(sample_warehouse, tmp_path, monkeypatch):
    """Same inputs, same report: only the provenance's rendering time may differ — also when
    the second render runs in a warm kernel that has just rendered another branch's report
    (cxlab.report._kernels resets it to a fresh kernel's state)."""
    from cxlab.report import render_all

    pages = []
    for run, warm, branches in (("a", "0", ["GZ01"]), ("b", "1", ["SH01", "GZ01"])):
        monkeypatch.setenv("CXLAB_WARM_KERNELS", warm)
        summary = render_all(periods=[PERIOD], branches=branches, warehouse=sample_warehouse,
                             output_dir=tmp_path / run, formats=("html",), force=True, jobs=1,
                             progress=False)
        assert summary.rendered == [f"{PERIOD}/{b}" for b in branches], summary.summary()
        page = (tmp_path / run / PERIOD / "GZ01.html").read_text(encoding="utf-8")
        pages.append(re.sub(r"生成时间 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "生成时间 <t>", page))
    assert pages[0].count("data:image/png;base64,") >= 5
    assert pages[0] == pages[1]
