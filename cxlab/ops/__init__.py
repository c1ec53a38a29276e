"""Operations: KPI targets, the supervisor scorecard, alerts and the closed loop, service levels.

- Targets (seed 004): :func:`compute_kpis`, :func:`kpi_status` (环比 with significance),
  :func:`target_status` / :func:`target_statuses` (significantly below target or within
  sampling error), :func:`kpi_interval`.
- Scorecard (seed 000 §07 客户体验主管考核量表): :func:`score_kpi`, :func:`scorecard`, rules
  in ``params/scorecard.yaml`` (:class:`ScorecardRules`).
- Alerts and closed loop (seed 001): :func:`evaluate_alerts`, :func:`track_alerts`,
  :func:`closure_summary`, rules in ``params/alerts.yaml`` (:class:`AlertRules`).
- Service levels and participation: :func:`sla_summary`, :func:`response_rates`,
  :func:`feedback_summary` (回馈报告, seed 000 §05), :func:`audit_summary` (seeds 002, 004).
- Journey and touchpoints: :func:`journey_scores`, :func:`weakest_touchpoints`.
- Price and channel (seed 000 §04.6): :func:`price_gap`, :func:`channel_preference`.
- A/B tests (seed 004): :func:`ab_test`, :func:`ab_sample_size`.

Load the parameter files with :func:`cxlab.config.load_params`::

    from cxlab.config import load_params
    from cxlab.ops import ScorecardRules, scorecard
    rules = load_params("params/scorecard.yaml", ScorecardRules)

Every function takes DataFrames and returns DataFrames or frozen dataclasses; nothing here
reads files, prints, plots or rounds.
"""

from cxlab.ops._ab import ABResult, ab_sample_size, ab_test
from cxlab.ops._alerts import ALERT_COLUMNS, closure_summary, evaluate_alerts, track_alerts
from cxlab.ops._journey import (
    PriceGapResult,
    channel_preference,
    journey_scores,
    price_gap,
    weakest_touchpoints,
)
from cxlab.ops._params import (
    AlertRule,
    AlertRules,
    AuditLimits,
    ScorecardKpi,
    ScorecardRules,
    ServiceLevels,
)
from cxlab.ops._scorecard import score_kpi, scorecard
from cxlab.ops._service import audit_summary, feedback_summary, response_rates, sla_summary
from cxlab.ops._status import kpi_interval, target_status, target_statuses
from cxlab.ops._targets import compute_kpis, kpi_status

__all__ = [
    "ABResult", "ALERT_COLUMNS", "AlertRule", "AlertRules", "AuditLimits", "PriceGapResult",
    "ScorecardKpi", "ScorecardRules", "ServiceLevels",
    "ab_sample_size", "ab_test", "audit_summary", "channel_preference", "closure_summary",
    "compute_kpis", "evaluate_alerts", "feedback_summary", "journey_scores", "kpi_interval",
    "kpi_status", "price_gap", "response_rates", "score_kpi", "scorecard", "sla_summary", "target_status",
    "target_statuses", "track_alerts", "weakest_touchpoints",
]
