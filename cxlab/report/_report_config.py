"""``params/report.yaml``: its model and the built-in layout (light: the runner validates the
file before any report runs, without the analysis stack). Rendering is in
:mod:`cxlab.report._layout`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator

from cxlab.config._base import Strict, load_params

__all__ = ["DEFAULT_LAYOUT", "BranchLayout", "CompanyLayout", "Kind", "ReportsConfig",
           "SectionSpec", "load_report_config"]

Kind = Literal["company", "branch"]

#: The built-in layout (no params/report.yaml): the order of the sample's reports, with the
#: sections for questionnaires without NPS after the headline figures.
DEFAULT_LAYOUT: dict[str, list[str]] = {
    "company": ["summary", "kpis", "items", "crosstabs", "trend", "league", "alerts", "cases",
                "drivers", "ipa", "journey", "voice", "segments", "service_levels", "audits", "kano",
                "price_channel", "ab_tests", "scorecard", "glossary",
                "provenance"],
    "branch": ["summary", "kpis", "items", "crosstabs", "trend", "league", "alerts", "cases",
               "drivers", "ipa", "journey", "voice", "segments", "service_levels", "audits", "kano",
               "price_channel", "glossary", "provenance"],
}


# --------------------------------------------------------------------------- params/report.yaml
class SectionSpec(Strict):
    """One entry of a report's section list."""

    id: str
    title: str | None = None        # heading without its number; default: the built-in title
    intro: str | None = None        # Markdown paragraph under the heading; "" = none
    enabled: bool | None = None     # None = automatic (see cxlab.report._layout)


# an unknown id is reported with the allowed ones: "Input should be 'summary', 'kpis', … (got …)"
class CompanySection(SectionSpec):
    id: Literal[tuple(DEFAULT_LAYOUT["company"])]  # type: ignore[valid-type]


class BranchSection(SectionSpec):
    id: Literal[tuple(DEFAULT_LAYOUT["branch"])]  # type: ignore[valid-type]


def _ids_alone(v):
    """``- summary`` is short for ``- {id: summary}``."""
    if isinstance(v, list):
        return [{"id": x} if isinstance(x, str) else x for x in v]
    return v


def _no_repeats(v: list[SectionSpec]) -> list[SectionSpec]:
    ids = [s.id for s in v]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise ValueError(f"section {dup[0]!r} listed twice")
    return v


class CompanyLayout(Strict):
    """The sections of the company report, in order."""

    sections: list[CompanySection]
    _pre = field_validator("sections", mode="before")(_ids_alone)
    _post = field_validator("sections")(_no_repeats)


class BranchLayout(Strict):
    """The sections of a branch report, in order (no company-level sections)."""

    sections: list[BranchSection]
    _pre = field_validator("sections", mode="before")(_ids_alone)
    _post = field_validator("sections")(_no_repeats)


ReportLayout = CompanyLayout | BranchLayout


class ReportsConfig(Strict):
    """``params/report.yaml``: the section layout of the company and the branch reports."""

    version: Literal[1]
    company: CompanyLayout | None = None
    branch: BranchLayout | None = None


def load_report_config(params_dir: str | Path = "params") -> ReportsConfig | None:
    """``params/report.yaml`` validated, or None when the file does not exist."""
    path = Path(params_dir) / "report.yaml"
    if not path.is_file():
        return None
    return load_params(path, ReportsConfig)


