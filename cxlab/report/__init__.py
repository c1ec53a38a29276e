"""Reports: papermill fan-out, HTML/PDF export, the index page, and the sections templates call.

>>> from cxlab.report import RunSummary
>>> print(RunSummary(rendered=["2026Q3/ALL"], seconds=1.0).summary())
Rendered 1, unchanged 0, failed 0 of 1 reports in 1.0 s.

Names are imported on first use: report workers need the runner and the exporters, not the
analysis stack (pandas, matplotlib, seaborn, scipy) that ``sections`` brings in.
"""

from importlib import import_module

_WHERE = {
    "sections": "cxlab.report.sections", "tables": "cxlab.report.tables",
    "build_aggregates": "cxlab.report._aggregates", "load_aggregates": "cxlab.report._aggregates",
    "ReportContext": "cxlab.report._context", "load_context": "cxlab.report._context",
    "atomic_write": "cxlab.report._export", "html_to_pdf": "cxlab.report._export",
    "notebook_to_html": "cxlab.report._export",
    "COMPANY": "cxlab.report._runner", "ReportJob": "cxlab.report._runner",
    "RunSummary": "cxlab.report._runner", "plan_jobs": "cxlab.report._runner",
    "render": "cxlab.report._runner", "region_scopes": "cxlab.report._runner", "render_all": "cxlab.report._runner",
    "headline_kpis": "cxlab.report._site", "write_index": "cxlab.report._site",
    "region_sections": "cxlab.report.region_sections",
    "render_region_reports": "cxlab.report.region_sections",
    "publish": "cxlab.report._publish", "PublishSummary": "cxlab.report._publish",
}

__all__ = sorted(_WHERE, key=str.lower)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'cxlab.report' has no attribute {name!r}")
    module = import_module(_WHERE[name])
    value = module if _WHERE[name].endswith("." + name) else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
