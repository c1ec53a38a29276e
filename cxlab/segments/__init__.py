"""Customer segments: CRM fusion, value tiers, RFM, retention/churn, scores by segment.

- :func:`fuse` — responses + CRM attributes by pseudonymised customer id (unmatched counted);
- :func:`value_tiers` — 大客户/普通客户 × value-score tier 高/中/低;
- :func:`rfm` — R/F/M quintile scores and the eight named RFM segments;
- :func:`retention` — CRR = (E − N)/S and churn rate by segment;
- :func:`segment_scores` — NPS/CSAT by segment with significance against the rest;
- :func:`nps_link` — churn and later spend by promoter/passive/detractor, with tests.
"""

from cxlab.segments._fuse import CRM_PII, FusionResult, fuse
from cxlab.segments._retention import retention
from cxlab.segments._scores import CATEGORIES, NpsLinkResult, nps_category, nps_link, segment_scores
from cxlab.segments._value import RFM_SEGMENTS, rfm, value_tiers

__all__ = [
    "CATEGORIES", "CRM_PII", "FusionResult", "NpsLinkResult", "RFM_SEGMENTS", "fuse",
    "nps_category", "nps_link", "retention", "rfm", "segment_scores", "value_tiers",
]
