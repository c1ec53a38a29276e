"""The CX supervisor scorecard (客户体验主管考核量表, seed 000 §07)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from cxlab.ops._params import ScorecardRules, as_model, eval_formula

__all__ = ["score_kpi", "scorecard"]

# Relative tolerance for "a full step" and for the zero line: 0.3 / 0.1 is 2.9999999999999996
# in binary floating point, but three full steps on paper.
_REL = 1e-9


def _full_steps(shortfall: float, step: float) -> int:
    ratio = shortfall / step
    return int(math.floor(ratio + _REL * max(1.0, abs(ratio))))


def score_kpi(value: float, *, weight: float, target: float, step: float, points: float,
              zero_below: float | None = None, lower_is_better: bool = False) -> float:
    """Score one line of the supervisor scorecard.

    Parameters
    ----------
    value : float
        The achieved value (a rate in %, or 元 for unit cost).
    weight : float
        The line's weight as a fraction (0.2 for 20 %); full marks are ``weight * 100``.
    target : float
        目标值. Meeting or beating it scores full marks.
    step, points : float
        For every *full* ``step`` that ``value`` falls short of ``target``, deduct ``points``
        (score units, i.e. out of ``weight * 100``).
    zero_below : float, optional
        不得分线: strictly below it (strictly above it with ``lower_is_better``) the line scores 0.
    lower_is_better : bool
        For costs ("不高于 target 元,每高 step 元扣 points 分,高于 zero_below 元不得分"): the
        shortfall is ``value - target``.

    Returns
    -------
    float
        ``max(0, weight*100 - points * floor(shortfall / step))``, 0 past ``zero_below``; NaN if
        ``value`` is NaN.

    Notes
    -----
    A partial step deducts nothing ("每减少 1 %" counts whole percents). Exact multiples of
    ``step`` are recognised despite binary floating point (0.3 / 0.1 counts as 3 steps).

    Examples
    --------
    >>> score_kpi(97, weight=0.2, target=100, step=1, points=2)
    14.0
    >>> score_kpi(97.5, weight=0.2, target=100, step=1, points=2)   # 2.5 short: 2 full steps
    16.0
    >>> score_kpi(89, weight=0.2, target=100, step=1, points=2, zero_below=90)
    0.0
    >>> score_kpi(65, weight=0.1, target=50, step=5, points=2, lower_is_better=True)
    4.0
    """
    for name, v in (("weight", weight), ("step", step), ("points", points)):
        if not isinstance(v, int | float | np.number) or isinstance(v, bool):
            raise TypeError(f"{name} must be a number, got {type(v).__name__}")
    if not weight > 0:
        raise ValueError(f"weight must be > 0 (a fraction such as 0.2), got {weight!r}")
    if not step > 0:
        raise ValueError(f"step must be > 0, got {step!r}")
    if points < 0:
        raise ValueError(f"points must be >= 0, got {points!r}")
    value = float(value)
    if math.isnan(value):
        return float("nan")
    full = float(weight) * 100.0
    if zero_below is not None:
        tol = _REL * max(1.0, abs(zero_below))
        if (value > zero_below + tol) if lower_is_better else (value < zero_below - tol):
            return 0.0
    shortfall = (value - target) if lower_is_better else (target - value)
    if shortfall <= 0:
        return full
    return max(0.0, full - points * _full_steps(shortfall, step))


def _actuals_mapping(actuals) -> dict[str, float]:
    if isinstance(actuals, Mapping):
        return {str(k): float(v) for k, v in actuals.items()}
    if not isinstance(actuals, pd.DataFrame):
        raise TypeError(f"actuals must be a DataFrame (measure, value) or a mapping, got {type(actuals).__name__}")
    missing = [c for c in ("measure", "value") if c not in actuals.columns]
    if missing:
        raise ValueError(f"actuals lacks column(s) {missing} (expected: measure, value[, period])")
    if "period" in actuals.columns and actuals["period"].nunique() > 1:
        raise ValueError(
            f"actuals holds several periods ({sorted(actuals['period'].unique().tolist())}); "
            "filter one period first"
        )
    dup = actuals["measure"][actuals["measure"].duplicated()].unique().tolist()
    if dup:
        raise ValueError(f"actuals has duplicated measures: {dup}")
    return {str(m): float(v) for m, v in zip(actuals["measure"], pd.to_numeric(actuals["value"]), strict=True)}


def scorecard(actuals: pd.DataFrame | Mapping[str, float], *, rules) -> pd.DataFrame:
    """Score the supervisor scorecard of one period.

    Parameters
    ----------
    actuals : DataFrame or mapping
        ``measure, value`` rows (``ops/scorecard_actuals.csv`` filtered to one period; a
        ``period`` column with a single value is allowed) or ``{measure: value}``.
    rules : ScorecardRules or mapping
        ``params/scorecard.yaml``: per KPI the weight, the formula over the measures (e.g.
        ``plan_done / plan_due * 100``), target, step, points, zero_below, lower_is_better.

    Returns
    -------
    DataFrame
        One row per KPI in the order of the rules, then a total row (``kpi = "total"``,
        ``label = "合计"``): ``kpi, label, weight, value, unit, target, score, max_score``.
        ``value`` is the formula's result, ``max_score = weight * 100``; the total's
        ``max_score`` is 100 when the weights sum to 1.

    Raises
    ------
    ValueError
        When a measure a formula needs is missing from ``actuals`` (all missing names listed).

    Examples
    --------
    >>> rules = {"version": 1, "kpis": [
    ...     {"id": "plan", "label": "调研计划完成率", "weight": 0.6, "formula": "done / due * 100",
    ...      "target": 100, "step": 1, "points": 2, "zero_below": 90},
    ...     {"id": "cost", "label": "单位成本", "weight": 0.4, "formula": "unit_cost", "unit": "元",
    ...      "target": 50, "step": 5, "points": 4, "zero_below": 80, "lower_is_better": True}]}
    >>> t = scorecard({"done": 19, "due": 20, "unit_cost": 61}, rules=rules)
    >>> t[["kpi", "value", "score", "max_score"]]
        kpi  value  score  max_score
    0  plan   95.0   50.0       60.0
    1  cost   61.0   32.0       40.0
    2 total    NaN   82.0      100.0
    """
    rules = as_model(rules, ScorecardRules, what="scorecard rules")
    values = _actuals_mapping(actuals)
    needed = [m for k in rules.kpis for m in k.measures]
    missing = sorted({m for m in needed if m not in values})
    if missing:
        raise ValueError(f"actuals lack measure(s) {missing} needed by the scorecard formulas")
    rows = []
    for k in rules.kpis:
        v = eval_formula(k.formula, values)
        rows.append({
            "kpi": k.id, "label": k.label, "weight": k.weight, "value": v, "unit": k.unit,
            "target": k.target,
            "score": score_kpi(v, weight=k.weight, target=k.target, step=k.step, points=k.points,
                               zero_below=k.zero_below, lower_is_better=k.lower_is_better),
            "max_score": k.weight * 100.0,
        })
    out = pd.DataFrame(rows)
    total = {"kpi": "total", "label": "合计", "weight": out["weight"].sum(), "value": np.nan,
             "unit": "分", "target": np.nan, "score": out["score"].sum(min_count=1),
             "max_score": out["max_score"].sum()}
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)
