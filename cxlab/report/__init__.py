"""Reports: papermill fan-out, HTML/PDF export, the index page, and the sections templates call.

>>> from cxlab.report import RunSummary
>>> print(RunSummary(rendered=["2026Q3/ALL"], seconds=1.0).summary())
Rendered 1, unchanged 0, failed 0 of 1 reports in 1.0 s.
"""

from cxlab.report import sections, tables
from cxlab.report._aggregates import build_aggregates, load_aggregates
from cxlab.report._context import ReportContext, load_context
from cxlab.report._export import atomic_write, html_to_pdf, notebook_to_html
from cxlab.report._runner import COMPANY, ReportJob, RunSummary, plan_jobs, render, render_all
from cxlab.report._site import headline_kpis, write_index

__all__ = [
    "COMPANY", "ReportContext", "ReportJob", "RunSummary", "atomic_write", "build_aggregates",
    "headline_kpis", "html_to_pdf", "load_aggregates", "load_context", "notebook_to_html",
    "plan_jobs", "render", "render_all", "sections", "tables", "write_index",
]
