"""Pydantic models of ``params/scorecard.yaml`` and ``params/alerts.yaml``.

Load them with :func:`cxlab.config.load_params`::

    from cxlab.config import load_params
    from cxlab.ops import AlertRules, ScorecardRules
    rules = load_params("params/scorecard.yaml", ScorecardRules)

The analytics functions of :mod:`cxlab.ops` also accept the same content as a plain mapping
(validated with :func:`cxlab.config.params_from_dict`), which is handy in tests and notebooks.
"""

from __future__ import annotations

import ast
from typing import Literal

from pydantic import Field, model_validator

from cxlab.config import Strict, params_from_dict

__all__ = [
    "AlertRule", "AlertRules", "AuditLimits", "ScorecardKpi", "ScorecardRules", "ServiceLevels",
    "formula_names",
]

_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div,
                  ast.USub, ast.UAdd, ast.Name, ast.Load, ast.Constant)


def _parse_formula(text: str) -> ast.Expression:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ValueError(f"formula {text!r} is not an arithmetic expression") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(
                f"formula {text!r}: only measure names, numbers, + - * / and parentheses are allowed"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"formula {text!r}: only numeric constants are allowed")
    return tree


def formula_names(text: str) -> list[str]:
    """The measure names a scorecard formula uses, in order of first appearance."""
    seen: list[str] = []
    for node in ast.walk(_parse_formula(text)):
        if isinstance(node, ast.Name) and node.id not in seen:
            seen.append(node.id)
    return seen


def eval_formula(text: str, values: dict[str, float]) -> float:
    """Evaluate an arithmetic formula over measure values (no ``eval``; division by 0 gives NaN)."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return float(values[node.id])
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            return a / b if b != 0 else float("nan")
        raise ValueError(f"unsupported formula element {ast.dump(node)}")  # pragma: no cover

    return ev(_parse_formula(text))


# ---------------------------------------------------------------------------------------------
# scorecard.yaml
# ---------------------------------------------------------------------------------------------
class ScorecardKpi(Strict):
    """One line of the 客户体验主管考核量表 (seed 000 §07)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    section: str | None = None
    weight: float = Field(gt=0, le=1)
    formula: str
    unit: str = "%"
    target: float
    step: float = Field(gt=0)
    points: float = Field(ge=0)
    zero_below: float | None = None
    lower_is_better: bool = False

    @model_validator(mode="after")
    def _check(self) -> ScorecardKpi:
        _parse_formula(self.formula)
        if self.zero_below is not None:
            if not self.lower_is_better and self.zero_below > self.target:
                raise ValueError(f"{self.id}: zero_below ({self.zero_below}) is above target ({self.target})")
            if self.lower_is_better and self.zero_below < self.target:
                raise ValueError(
                    f"{self.id}: with lower_is_better, zero_below ({self.zero_below}) must be >= target ({self.target})"
                )
        return self

    @property
    def measures(self) -> list[str]:
        return formula_names(self.formula)


class ScorecardRules(Strict):
    """The whole scorecard; weights must sum to 1 (100 %)."""

    version: Literal[1]
    kpis: list[ScorecardKpi]

    @model_validator(mode="after")
    def _check(self) -> ScorecardRules:
        ids = [k.id for k in self.kpis]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate scorecard KPI ids: {dup}")
        total = sum(k.weight for k in self.kpis)
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"scorecard weights sum to {total:g}, expected 1 (100 %)")
        return self


# ---------------------------------------------------------------------------------------------
# alerts.yaml
# ---------------------------------------------------------------------------------------------
RuleKind = Literal["detractor_complaint", "below_target", "significant_drop", "bottom_rank",
                   "sla_breach"]
Severity = Literal["high", "medium", "low"]
_RULE_KINDS = ("detractor_complaint", "below_target", "significant_drop", "bottom_rank", "sla_breach")


class AlertRule(Strict):
    """One alert rule. Which fields matter depends on ``kind``:

    - ``detractor_complaint``: ``max_score`` (ltr ≤ this is a detractor), ``keywords`` (a comment
      containing one is a complaint), ``ticket_types`` (or the customer has such a ticket in the
      same period).
    - ``below_target``: ``metric`` (nps | csat), ``threshold`` (``None`` = the target in
      ``params/targets.yaml``), ``min_n``; ``sampling_error: true`` fires only when the unit is
      *significantly* below the threshold (one-sided test at ``alpha``: the upper bound of the
      ``1 − 2·alpha`` interval is below it), not when the shortfall is within sampling error.
    - ``significant_drop``: ``metric``, ``alpha``, ``min_drop`` (points), ``min_n``; the
      p-values of one period's branches are adjusted together (``multiple_comparisons``).
    - ``bottom_rank``: ``metric``, ``k`` (the bottom k branches of each period), ``min_n``;
      ``significant_only: true`` ranks only the branches significantly below the rest of the
      company (two-sided test, adjusted over the period's branches, at ``alpha``).
    - ``sla_breach``: ``ticket_types``, ``priorities``, ``channels`` (empty = all),
      ``limit_hours`` on the
      first response (created_at → first_response_at).
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: RuleKind
    label: str
    severity: Severity = "medium"
    enabled: bool = True
    metric: Literal["nps", "csat"] | None = None
    threshold: float | None = None
    min_n: int = Field(default=30, ge=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)
    min_drop: float = Field(default=0.0, ge=0)
    k: int = Field(default=2, ge=1)
    max_score: int = Field(default=6, ge=0, le=10)
    keywords: list[str] = Field(default_factory=list)
    ticket_types: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    limit_hours: float | None = Field(default=None, gt=0)
    sampling_error: bool = False
    significant_only: bool = False

    @model_validator(mode="after")
    def _check(self) -> AlertRule:
        if self.kind in ("below_target", "significant_drop", "bottom_rank") and self.metric is None:
            raise ValueError(f"rule {self.id!r} ({self.kind}) needs metric: nps or csat")
        if self.kind == "sla_breach" and self.limit_hours is None:
            raise ValueError(f"rule {self.id!r} (sla_breach) needs limit_hours")
        if self.kind == "detractor_complaint" and not (self.keywords or self.ticket_types):
            raise ValueError(f"rule {self.id!r} (detractor_complaint) needs keywords or ticket_types")
        return self


class AuditLimits(Strict):
    """Limits of the service-quality audits (seeds 002, 004): rates in %, score 0-100."""

    fatal_error_rate: float = Field(default=0.5, ge=0)
    general_error_rate: float = Field(default=3.0, ge=0)
    min_score: float | None = Field(default=None, ge=0, le=100)


class ServiceLevels(Strict):
    """Service levels not in targets.yaml: resolution time, closing an alert, overdue cut-off."""

    resolution_hours: float = Field(default=24, gt=0)
    closure_hours: float = Field(default=72, gt=0)


class AlertRules(Strict):
    """``params/alerts.yaml``: alert rules plus the service levels and audit limits they use.

    ``multiple_comparisons`` is how rules that test many branches at once (``significant_drop``,
    ``bottom_rank`` with ``significant_only``) adjust their p-values over one period's branches:
    ``fdr_bh`` (Benjamini–Hochberg, false discovery rate; the default), ``holm`` (family-wise
    error rate) or ``none``. Reports use the same setting for the league table's flags.
    """

    version: Literal[1]
    rules: list[AlertRule]
    multiple_comparisons: Literal["fdr_bh", "holm", "none"] = "fdr_bh"
    service_levels: ServiceLevels = Field(default_factory=ServiceLevels)
    audit_limits: AuditLimits = Field(default_factory=AuditLimits)

    @model_validator(mode="after")
    def _check(self) -> AlertRules:
        ids = [r.id for r in self.rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate alert rule ids: {dup}")
        return self

    def rule(self, rule_id: str) -> AlertRule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"unknown alert rule {rule_id!r} (known: {', '.join(r.id for r in self.rules)})")


def as_model(obj, model, *, what: str):
    """Accept a model instance or a mapping (validated); anything else is a TypeError."""
    if isinstance(obj, model):
        return obj
    if isinstance(obj, dict):
        return params_from_dict(obj, model, source=f"<{what}>")
    raise TypeError(f"{what} must be a {model.__name__} or a mapping, got {type(obj).__name__}")
