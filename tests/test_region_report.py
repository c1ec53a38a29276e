"""A region report rendered from the sample: its branches, the company aggregate, nothing of
the other regions' branches; published to the region's audience folder."""

from __future__ import annotations

import pytest

from cxlab.cli import main
from cxlab.config import load_org


@pytest.mark.slow
def test_region_report_renders_and_stays_in_its_region(sample_warehouse, tmp_path, capsys,
                                                      monkeypatch):
    from bs4 import BeautifulSoup
    from pypdf import PdfReader

    from cxlab.io import load_responses
    from cxlab.report import publish

    out = tmp_path / "reports"
    assert main(["region-reports", "--period", "2026Q3", "--unit", "SOUTH", "--warehouse",
                 str(sample_warehouse), "--out", str(out)]) == 0
    assert "Rendered 2 region report file(s)" in capsys.readouterr().out
    html = (out / "2026Q3" / "SOUTH.html").read_text(encoding="utf-8")
    assert PdfReader(out / "2026Q3" / "SOUTH.pdf").pages
    text = BeautifulSoup(html, "html.parser").get_text(" ")
    org = load_org("params/org.yaml")
    assert "华南区 2026Q3 区域客户体验报告" in text
    for b in ("GZ01", "SZ01", "XM01"):
        assert org.name_of(b) in text
    for b in set(org.branch_codes) - {"GZ01", "SZ01", "XM01"}:
        assert org.name_of(b) not in text, b            # no other region's branch
    assert "华东区" not in text and "华北区" not in text
    assert "Traceback" not in html and "Error" not in text
    # no respondent id of any branch (the region's own are aggregated too)
    ids = load_responses(sample_warehouse, period="2026Q3")["response_id"].astype(str)
    assert not [i for i in ids if i in html]
    # published: the region's folder has it, its branches' folders do not
    monkeypatch.setenv("CXLAB_PDF_PASSWORD_ALL", "pw")
    publish(out, tmp_path / "site", org=org, audiences=["SOUTH", "GZ01", "ALL"])
    assert (tmp_path / "site" / "SOUTH" / "2026Q3" / "SOUTH.html").is_file()
    assert (tmp_path / "site" / "ALL" / "2026Q3" / "SOUTH.pdf").is_file()
    assert not (tmp_path / "site" / "GZ01" / "2026Q3" / "SOUTH.html").exists()
    assert main(["region-reports", "--unit", "GZ01", "--warehouse", str(sample_warehouse),
                 "--out", str(out)]) == 1
    assert "no region report for 'GZ01'" in capsys.readouterr().err
