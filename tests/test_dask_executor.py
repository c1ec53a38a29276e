"""The report fan-out on a Dask ``distributed`` cluster (``cxlab reports --executor dask``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the tiny template and warehouse live in bench/_tiny.py
    sys.path.insert(0, str(ROOT))

pytest.importorskip("distributed")
pytest.importorskip("papermill")


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as c:
        yield c


def test_render_all_on_a_dask_cluster(tmp_path, cluster, monkeypatch):
    from bench._tiny import write_templates, write_tiny_params, write_tiny_warehouse
    from cxlab.report import render_all

    # cxlab's own source is part of every fingerprint; pin it so that an edit elsewhere in a
    # shared checkout during the test cannot re-render (this test is about the executor)
    monkeypatch.setattr("cxlab.report._runner._code_hash", lambda: "pinned-for-test")

    wh = write_tiny_warehouse(tmp_path / "warehouse", rows=800)
    tpl = write_templates(tmp_path / "templates")
    params = write_tiny_params(tmp_path / "params")
    out = tmp_path / "reports"
    summary = render_all(periods=["2026Q3"], branches=["ALL", "SH01", "BJ01"], force=True,
                         formats=("html",), warehouse=wh, output_dir=out, templates_dir=tpl,
                         params_dir=params, executor="dask", scheduler=cluster.scheduler_address,
                         progress=False)
    assert summary.failed == []
    assert sorted(summary.rendered) == ["2026Q3/ALL", "2026Q3/BJ01", "2026Q3/SH01"]
    for name in ("ALL", "SH01", "BJ01"):
        html = (out / "2026Q3" / f"{name}.html").read_text(encoding="utf-8")
        assert f"TINY-REPORT 2026Q3 {name} n=" in html  # the notebook ran on a worker
        assert "print(" not in html  # code cells hidden
    assert (out / "index.html").exists()

    # nothing changed: the dask run recorded its fingerprints, so nothing is re-rendered
    again = render_all(periods=["2026Q3"], branches=["ALL", "SH01", "BJ01"], formats=("html",),
                       warehouse=wh, output_dir=out, templates_dir=tpl, params_dir=params,
                       executor="dask", scheduler=cluster.scheduler_address, progress=False)
    assert again.rendered == [] and len(again.skipped_unchanged) == 3


def test_dask_failure_is_reported_per_report(tmp_path, cluster):
    from bench._tiny import write_templates, write_tiny_params, write_tiny_warehouse
    from cxlab.report import render_all

    wh = write_tiny_warehouse(tmp_path / "warehouse", rows=800)
    tpl = write_templates(tmp_path / "templates")
    params = write_tiny_params(tmp_path / "params")
    # break only the branch template: the company report still renders
    (tpl / "branch_report.ipynb").write_text(
        (tpl / "branch_report.ipynb").read_text(encoding="utf-8").replace(
            "print(f", "raise RuntimeError('boom'); print(f"), encoding="utf-8")
    summary = render_all(periods=["2026Q3"], branches=["ALL", "SH01"], force=True,
                         formats=("html",), warehouse=wh, output_dir=tmp_path / "out",
                         templates_dir=tpl, params_dir=params, executor="dask",
                         scheduler=cluster.scheduler_address, progress=False)
    assert summary.rendered == ["2026Q3/ALL"]
    assert [k for k, _ in summary.failed] == ["2026Q3/SH01"]
    assert "boom" in summary.failed[0][1]
