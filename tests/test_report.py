"""Report pipeline: export, escaping, fingerprints, branch isolation, failures, incremental runs,
and the real templates rendered on the sample warehouse."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from cxlab.report import RunSummary, atomic_write, notebook_to_html, render, render_all
from cxlab.report._runner import ReportJob, data_inputs, fingerprint

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "cxlab" / "notebooks" / "templates"


def _notebook(*cells, params="x = 1") -> nbformat.NotebookNode:
    p = new_code_cell(params)
    p.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[p, *cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


# --------------------------------------------------------------------------- export
def test_html_is_self_contained_chinese_and_without_code():
    nb = _notebook(
        new_markdown_cell("# 报告标题"),
        new_code_cell("secret_code_line = 42", outputs=[new_output("stream", text="输出\n")]),
    )
    html = notebook_to_html(nb, title="测试报告")
    assert '<html lang="zh-CN">' in html
    assert "Noto Sans CJK SC" in html
    assert "<script" not in html.lower()          # no scripts, no CDN
    assert "cdnjs" not in html and "http" not in html.split("<body>")[1].split("</main>")[0]
    assert "secret_code_line" not in html         # code cells are hidden
    assert "报告标题" in html and "输出" in html


def test_html_export_is_nbconvert_page_without_its_reserialisation():
    """The report exporter skips nbconvert's final BeautifulSoup pass (alt placeholders, lab
    tabindex, re-serialisation); the page must be the document nbconvert's own HTMLExporter
    makes with the same settings, once both are serialised the same way."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from cxlab.report import _export
    from cxlab.report.tables import figure, table

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["推荐者", "贬损者"], [60, 15])
    parts = table(pd.DataFrame({"指标": ["NPS", "CSAT"], "本期": [36.7, "90.0%"]})).html
    parts += figure(fig, alt="净推荐值构成").html
    nb = _notebook(
        new_markdown_cell("# 报告标题\n\n- 要点 & <说明>\n- 第二点"),
        new_code_cell("x", outputs=[new_output("display_data", data={"text/html": parts,
                                                                     "text/plain": "表"})]),
        new_code_cell("print(1)", outputs=[new_output("stream", text="输出 <1>\n")]),
        new_code_cell("y", outputs=[new_output("execute_result", data={"text/plain": "'值'"},
                                               execution_count=3)]),
    )
    resources = {"report_title": "测试", "cxlab_css": _export.report_css(), "cxlab_version": "0"}
    ours = notebook_to_html(nb, title="测试", version="0")
    stock, _ = _export._configured(HTMLExporter).from_notebook_node(nb, resources=dict(resources))
    assert "净推荐值构成" in ours and "<table" in ours and "要点" in ours
    assert ">报告标题<" in ours  # headings readable, not &#25253;&#21578;…
    assert "&lt;说明&gt;" in ours and "输出 &lt;1&gt;" in ours  # markup stays escaped
    assert str(BeautifulSoup(ours, features="html.parser")) == stock


def test_only_references_to_non_ascii_characters_are_decoded():
    from cxlab.report._export import _NON_ASCII_REF, _decode_ref

    def dec(text):
        return _NON_ASCII_REF.sub(_decode_ref, text)

    assert dec("&#25253;&#x544A;&#182;") == "报告¶"
    assert dec("&#60;b&#62; &#38; &#34;") == "&#60;b&#62; &#38; &#34;"  # markup stays escaped
    assert dec("&amp;#25253;") == "&amp;#25253;"                        # escaped text stays text
    assert dec("&#55296; &#1114112;") == "&#55296; &#1114112;"          # no surrogates, no overflow


def test_respondent_text_is_escaped():
    import pandas as pd

    from cxlab.report.tables import paragraph, table

    evil = '<script>alert("x")</script>=HYPERLINK("http://x")'
    html = table(pd.DataFrame({"comment": [evil]})).html + paragraph(evil).html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_atomic_write_leaves_previous_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "r.html"
    atomic_write(target, "old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("cxlab.report._export.os.replace", boom)
    with pytest.raises(OSError):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temp file left behind


def test_render_writes_html_and_pdf_with_embedded_cjk_font(tmp_path):
    tpl = tmp_path / "t.ipynb"
    nbformat.write(_notebook(new_markdown_cell("# 客户体验报告"), new_code_cell('print("满意度", x)')), tpl)
    out = render(tpl, parameters={"x": 7}, output_dir=tmp_path / "out", name="r")
    assert sorted(p.name for p in out) == ["r.html", "r.pdf"]
    html = (tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert "满意度 7" in html
    pdf = tmp_path / "out" / "r.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if re.search(r"CJK|WenQuanYi|Hei", line)]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "客户体验报告" in text and "满意度 7" in text


def test_failing_notebook_reports_exception_in_one_line(tmp_path):
    tpl = tmp_path / "bad.ipynb"
    nbformat.write(_notebook(new_code_cell('raise ValueError("数据缺失")')), tpl)
    with pytest.raises(Exception) as info:
        render(tpl, parameters={}, output_dir=tmp_path / "out", formats=("html",))
    from cxlab.report._runner import _one_line

    assert _one_line(info.value).startswith("ValueError")
    assert not (tmp_path / "out" / "bad.html").exists()


def test_load_exporters_prepares_the_first_export(monkeypatch):
    from functools import lru_cache

    from cxlab.report import _export

    # fresh caches: what a new pool worker starts with
    exporter = lru_cache(maxsize=1)(_export._exporter.__wrapped__)
    stylesheet = lru_cache(maxsize=1)(_export._pdf_stylesheet.__wrapped__)
    monkeypatch.setattr(_export, "_exporter", exporter)
    monkeypatch.setattr(_export, "_pdf_stylesheet", stylesheet)
    _export.load_exporters()
    assert exporter.cache_info().currsize == 1 and stylesheet.cache_info().currsize == 1


def test_load_exporters_leaves_a_failure_to_the_export(monkeypatch):
    from cxlab.report import _export

    def broken():
        raise OSError("libpango-1.0.so.0: cannot open shared object file")

    monkeypatch.setattr(_export, "_exporter", broken)
    _export.load_exporters()  # no exception: the export that needs it reports it
    with pytest.raises(OSError, match="libpango"):
        notebook_to_html(_notebook(), title="t")


def test_pool_worker_loads_exporters_once_while_its_kernel_starts(tmp_path, monkeypatch):
    from cxlab.report import _runner

    monkeypatch.setattr(_runner, "_WORKER_KERNEL", None)
    monkeypatch.setattr(_runner, "_EXPORTERS", None)
    tpl = tmp_path / "branch_report.ipynb"
    nbformat.write(_notebook(new_code_cell('print("网点", branch)'),
                             params="period = branch = warehouse = params_dir = None"), tpl)
    jobs = [ReportJob(period="2026Q3", branch=b, template=tpl, output_dir=tmp_path / "out",
                      warehouse=tmp_path, params_dir=tmp_path, formats=("html",))
            for b in ("SH01", "HZ01")]
    try:
        assert _runner._run_job_warm(jobs[0], str(tmp_path))[1] is None
        loader = _runner._EXPORTERS
        assert loader is not None and not loader.is_alive()  # joined before the HTML export
        assert _runner._run_job_warm(jobs[1], str(tmp_path))[1] is None
        assert _runner._EXPORTERS is loader  # started once per worker
    finally:
        if _runner._WORKER_KERNEL is not None:
            _runner._WORKER_KERNEL.discard()
    assert "网点 HZ01" in (tmp_path / "out" / "2026Q3" / "HZ01.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- fingerprints
def _fake_warehouse(root: Path) -> Path:
    for period in ("2026Q2", "2026Q3"):
        for branch in ("SH01", "HZ01"):
            d = root / "responses" / f"period={period}" / f"branch={branch}"
            d.mkdir(parents=True)
            (d / "part-0.parquet").write_bytes(f"{period}{branch}".encode())
    (root / "aggregates").mkdir()
    (root / "aggregates" / "branch_kpis.parquet").write_bytes(b"agg")
    (root / "_ingest_log.jsonl").write_text("{}")
    return root


def test_branch_inputs_exclude_other_branches(tmp_path):
    wh = _fake_warehouse(tmp_path / "wh")
    files = {str(p.relative_to(wh)) for p in data_inputs(wh, "SH01")}
    assert all("branch=HZ01" not in f for f in files)
    assert any("branch=SH01" in f for f in files)
    assert "aggregates/branch_kpis.parquet" in files
    assert len(data_inputs(wh, None)) == 5  # company: all four partitions + aggregates


def test_fingerprint_tracks_own_partition_template_and_params(tmp_path):
    wh = _fake_warehouse(tmp_path / "wh")
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    tpl = tmp_path / "t.ipynb"
    tpl.write_text("{}")
    job = ReportJob(period="2026Q3", branch="SH01", template=tpl, output_dir=tmp_path / "r",
                    warehouse=wh, params_dir=params)
    base = fingerprint(job, code_hash="c")
    assert fingerprint(job, code_hash="c") == base
    # another branch's data changes: this branch's report is unaffected
    (wh / "responses/period=2026Q3/branch=HZ01/part-0.parquet").write_bytes(b"changed")
    assert fingerprint(job, code_hash="c") == base
    # the ingest log is bookkeeping, not data
    (wh / "_ingest_log.jsonl").write_text('{"again": 1}')
    assert fingerprint(job, code_hash="c") == base
    # its own partition, the template, params or code change it
    (wh / "responses/period=2026Q3/branch=SH01/part-0.parquet").write_bytes(b"changed")
    changed_data = fingerprint(job, code_hash="c")
    assert changed_data != base
    tpl.write_text('{"v": 2}')
    assert fingerprint(job, code_hash="c") != changed_data
    assert fingerprint(job, code_hash="other") != fingerprint(job, code_hash="c")
    before = fingerprint(job, code_hash="c")
    (params / "targets.yaml").write_text((params / "targets.yaml").read_text() + "\n# edit\n")
    assert fingerprint(job, code_hash="c") != before


def test_run_summary_text():
    s = RunSummary(rendered=["2026Q3/ALL"], failed=[("2026Q3/SH01", "ValueError: boom")], seconds=2)
    text = s.summary()
    assert "Rendered 1" in text and "failed 1" in text and "FAILED 2026Q3/SH01: ValueError: boom" in text
    assert "Nothing changed" in RunSummary(skipped_unchanged=["a", "b"]).summary()


# --------------------------------------------------------------------------- runs on sample data
@pytest.fixture(scope="module")
def tiny_templates(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("templates")
    params = "period = '2026Q3'\nbranch = None\nwarehouse = 'data/warehouse'\nparams_dir = 'params'"
    ok = _notebook(new_code_cell('print("公司报告", period, branch)'), params=params)
    nbformat.write(ok, d / "company_report.ipynb")
    bad = _notebook(
        new_code_cell('if branch == "HZ01":\n    raise RuntimeError("模拟失败")\nprint("分支报告", branch)'),
        params=params)
    nbformat.write(bad, d / "branch_report.ipynb")
    return d


def test_failure_is_isolated_and_incremental_rerun_skips(sample_warehouse, tiny_templates, tmp_path):
    out = tmp_path / "reports"
    kw = dict(periods=["2026Q3"], branches=["ALL", "SH01", "HZ01"], warehouse=sample_warehouse,
              output_dir=out, templates_dir=tiny_templates, formats=("html",), jobs=2,
              progress=False)
    first = render_all(**kw)
    assert sorted(first.rendered) == ["2026Q3/ALL", "2026Q3/SH01"]
    assert [k for k, _ in first.failed] == ["2026Q3/HZ01"]
    assert "RuntimeError" in first.failed[0][1] and "模拟失败" in first.failed[0][1]
    assert "分支报告 SH01" in (out / "2026Q3" / "SH01.html").read_text(encoding="utf-8")
    assert not (out / "2026Q3" / "HZ01.html").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "2026Q3/SH01.html" in index and "2026Q3/HZ01.html" not in index

    second = render_all(**kw)  # nothing changed: the good ones are skipped, the failed retried
    assert sorted(second.skipped_unchanged) == ["2026Q3/ALL", "2026Q3/SH01"]
    assert second.rendered == [] and [k for k, _ in second.failed] == ["2026Q3/HZ01"]

    forced = render_all(**{**kw, "branches": ["SH01"], "force": True})
    assert forced.rendered == ["2026Q3/SH01"]


def test_unknown_period_and_branch_are_clear_errors(sample_warehouse, tmp_path):
    from cxlab.errors import CxlabError

    with pytest.raises(CxlabError, match="no data for period"):
        render_all(periods=["1999Q1"], warehouse=sample_warehouse, output_dir=tmp_path)
    with pytest.raises(CxlabError, match="unknown branch 'XX99'"):
        render_all(periods=["2026Q3"], branches=["XX99"], warehouse=sample_warehouse,
                   output_dir=tmp_path)


# --------------------------------------------------------------------------- the real templates
@pytest.mark.parametrize("name", ["company_report.ipynb", "branch_report.ipynb"])
def test_templates_have_one_parameters_cell_and_no_logic(name):
    nb = nbformat.read(TEMPLATES / name, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and nb.cells.index(tagged[0]) == 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            src = cell.source
            assert not re.search(r"^\s*(def|class)\s", src, re.M), src
            assert ".groupby(" not in src and ".merge(" not in src and "lambda" not in src, src
            assert not cell.outputs and cell.execution_count is None


@pytest.fixture(scope="module")
def rendered_sample(rendered_reports) -> Path:
    return rendered_reports


def test_company_report_content(rendered_sample, sample_truth):
    html = (rendered_sample / "2026Q3" / "ALL.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and "<script" not in html.lower()
    for heading in ["核心指标与目标达成", "分支机构排名", "关键驱动因素", "主要问题", "Kano", "数据来源"]:
        assert heading in html, heading
    assert html.count("data:image/png;base64,") >= 5      # figures embedded
    assert "sections." not in html and "load_context" not in html  # no code
    # the planted drop is flagged for rectification in the league table
    drop = sample_truth["nps_drop"]["branch"]
    name = {"GZ01": "广州分公司"}.get(drop, drop)
    row = re.search(rf"<tr><td>{name}</td>.*?</tr>", html)
    assert row and "需整改" in row.group(0)


#: The sample's sections, as the per-section templates showed them before params/report.yaml.
SAMPLE_COMPANY_HEADINGS = [
    "摘要", "一、核心指标与目标达成", "二、趋势与环比", "三、分支机构排名", "四、预警与闭环管理",
    "五、NPS 关键驱动因素", "六、重要性–表现分析(IPA)与主要问题", "七、客户旅程与触点",
    "八、客户之声:开放题反馈", "九、客户分群", "十、服务水平与调研参与", "十一、服务质量检查",
    "十二、候选功能的 Kano 分析", "十三、产品价格与购买渠道", "十四、服务话术 A/B 测试",
    "十五、客户体验主管考核", "附录:术语表", "附录:数据来源与可追溯性"]
SAMPLE_BRANCH_HEADINGS = [
    *SAMPLE_COMPANY_HEADINGS[:3], "三、与全公司及其他机构的对比", *SAMPLE_COMPANY_HEADINGS[4:14],
    *SAMPLE_COMPANY_HEADINGS[-2:]]
#: The report body sets Chinese text with full-width ：，；（）; the lists above are in ASCII.
_ASCII = str.maketrans("：，；（）", ":,;()")


@pytest.mark.parametrize(("name", "expected"), [("ALL", SAMPLE_COMPANY_HEADINGS),
                                                ("GZ01", SAMPLE_BRANCH_HEADINGS)])
def test_sample_reports_keep_their_sections_and_anchors(rendered_sample, name, expected):
    from urllib.parse import quote

    from bs4 import BeautifulSoup

    soup = BeautifulSoup((rendered_sample / "2026Q3" / f"{name}.html").read_text(encoding="utf-8"),
                         "html.parser")
    heads = soup.find_all("h2")
    assert [h.get_text().rstrip("¶").translate(_ASCII) for h in heads] == expected
    for h in heads:  # nbconvert's heading anchors, as the Markdown headings had them
        text = h.get_text().rstrip("¶")
        assert h["id"] == quote(text.replace(" ", "-"), safe="?/:@!$&'()*+,;=")
        assert h.find("a", class_="anchor-link")["href"] == "#" + h["id"]
    assert "<h3></h3>" not in str(soup) and not [h for h in heads if not h.get_text().strip()]


def test_every_report_image_has_alt_text(rendered_sample):
    """Report figures carry alt text; nbconvert's placeholder pass is skipped (see
    test_html_export_is_nbconvert_page_without_its_reserialisation)."""
    pages = sorted((rendered_sample / "2026Q3").glob("*.html"))
    assert len(pages) >= 2
    for page in pages:
        images = re.findall(r"<img\b[^>]*>", page.read_text(encoding="utf-8"))
        assert images and all(re.search(r"\balt=", tag) for tag in images), page.name


def test_small_branch_is_suppressed(rendered_sample):
    html = (rendered_sample / "2026Q3" / "XM01.html").read_text(encoding="utf-8")
    assert "不予报告" in html  # n < 30 is never reported as a fact


def test_pdf_has_pages_and_cjk_font(rendered_sample):
    pdf = rendered_sample / "2026Q3" / "GZ01.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 3
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"(CJK|WenQuanYi|Hei).*yes", fonts), fonts
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "广州分公司" in text and "净推荐值" in text


def test_state_file_records_rendered_reports(rendered_sample):
    state = json.loads((rendered_sample / ".cxlab-state.json").read_text())
    from cxlab.config import load_org
    from cxlab.report import region_scopes

    org = load_org()
    assert set(state) == {f"2026Q3/{b}" for b in ["ALL", *region_scopes(org), *org.branch_codes]}
