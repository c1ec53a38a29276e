"""Sample data with planted ground truth (``cxlab sample-data``).

``make_sample_data(out, seed=0)`` writes the raw survey exports (问卷星 xlsx, Qualtrics CSV), CRM
and operations tables and ``truth.json`` described in ``docs/sample-data.md``. The same seed and
arguments give byte-identical files. ``write_platform_exports(text, out)`` writes the responses of
a 问卷星 text export again as a 问卷星 code export, a SurveyMonkey and a LimeSurvey export.
"""

from __future__ import annotations

from cxlab.datasets._comments import ITEM_THEME, SENTIMENTS, THEMES
from cxlab.datasets._exports import EXPORT_FORMATS, platform_exports, write_platform_exports
from cxlab.datasets._make import XLSX_MAX_RESPONSES, SampleSummary, make_sample_data
from cxlab.datasets._model import PERIODS, mu_for_nps, nps_of_mu

__all__ = [
    "EXPORT_FORMATS", "ITEM_THEME", "PERIODS", "SENTIMENTS", "THEMES", "XLSX_MAX_RESPONSES",
    "SampleSummary", "make_sample_data", "mu_for_nps", "nps_of_mu", "platform_exports",
    "write_platform_exports",
]
