"""Render-side faults: a render killed mid-write, a kernel that dies, a concurrent run.

reports/ must always hold either the previous report or the new one, never a partial file;
a failure is reported per report in one line and retried on the next run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cxlab.errors import CxlabError
from cxlab.report import render_all
from cxlab.report._runner import MAX_ATTEMPTS, _exclusive

ROOT = Path(__file__).resolve().parents[1]
PARAMS = "period = '2026Q3'\nbranch = None\nwarehouse = 'data/warehouse'\nparams_dir = 'params'"


def _templates(folder: Path, branch_code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in (("company_report.ipynb", 'print("公司", period)'),
                       ("branch_report.ipynb", branch_code)):
        p = new_code_cell(PARAMS)
        p.metadata["tags"] = ["parameters"]
        nb = new_notebook(cells=[p, new_code_cell(body)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, folder / name)
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


def test_render_killed_mid_write_keeps_previous_report(sample_warehouse, tmp_path):
    tpl = _templates(tmp_path / "tpl", 'print("版本", 1)')
    out = tmp_path / "reports"
    kw = dict(periods=["2026Q3"], branches=["SH01"], warehouse=sample_warehouse,
              output_dir=out, templates_dir=tpl, formats=("html",), jobs=1, progress=False)
    assert render_all(**kw).rendered == ["2026Q3/SH01"]
    before = (out / "2026Q3" / "SH01.html").read_bytes()

    # A second render with a new template is killed (os._exit, like SIGKILL) right after the
    # new HTML reached its temp file and before the rename.
    _templates(tpl, 'print("版本", 2)')
    child = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        import cxlab.report._export as export
        export.os.replace = lambda *a, **k: os._exit(9)
        from cxlab.report import render_all
        render_all(periods=["2026Q3"], branches=["SH01"], warehouse={str(sample_warehouse)!r},
                   output_dir={str(out)!r}, templates_dir={str(tpl)!r}, formats=("html",),
                   jobs=1, progress=False)
    """)
    proc = subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 9, proc.stderr[-2000:]
    assert (out / "2026Q3" / "SH01.html").read_bytes() == before  # previous report intact
    assert list(out.rglob(".*.tmp")), "the kill should have left a temp file behind"

    # the next run cleans up and renders the new version
    again = render_all(**kw)
    assert again.rendered == ["2026Q3/SH01"] and not again.failed
    assert "版本 2" in (out / "2026Q3" / "SH01.html").read_text(encoding="utf-8")
    assert not list(out.rglob(".*.tmp"))


def test_dying_kernel_is_retried_then_reported(sample_warehouse, tmp_path):
    counter = tmp_path / "attempts.txt"
    body = (f'import os\nif branch == "HZ01":\n    open({str(counter)!r}, "a").write("x")\n'
            '    os._exit(1)\nprint("分支", branch)')
    tpl = _templates(tmp_path / "tpl", body)
    out = tmp_path / "reports"
    summary = render_all(periods=["2026Q3"], branches=["SH01", "HZ01"],
                         warehouse=sample_warehouse, output_dir=out, templates_dir=tpl,
                         formats=("html",), jobs=2, progress=False)
    assert summary.rendered == ["2026Q3/SH01"]
    [(key, why)] = summary.failed
    assert key == "2026Q3/HZ01" and "\n" not in why and "died" in why.lower(), why
    assert counter.read_text() == "x" * MAX_ATTEMPTS  # retried, then reported
    assert not (out / "2026Q3" / "HZ01.html").exists()
    assert "Nothing changed" not in summary.summary() and "FAILED 2026Q3/HZ01" in summary.summary()


def test_concurrent_run_on_the_same_folder_is_refused(tmp_path):
    with _exclusive(tmp_path), pytest.raises(CxlabError, match="another `cxlab reports`"):
        with _exclusive(tmp_path):
            pass
    with _exclusive(tmp_path):  # released after the first run
        pass


def test_cli_reports_exit_status_and_one_line_errors(sample_warehouse, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "cxlab", "reports", "--period", "1999Q1",
         "--warehouse", str(sample_warehouse), "--out", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "no data for period" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "cxlab", "reports", "--branch", "XX99",
         "--warehouse", str(sample_warehouse), "--out", str(tmp_path / "r")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "unknown branch 'XX99'" in proc.stderr
    assert "Traceback" not in proc.stderr
