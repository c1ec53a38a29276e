"""``params/weighting.yaml``: which population margins the responses are weighted to, per period."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cxlab.config import Strict, load_params
from cxlab.errors import CxlabError
from cxlab.weighting._rake import poststratify, rake

__all__ = ["WeightingPlan", "load_weighting", "weights_by_period"]


class WeightingPlan(Strict):
    """The weighting model of a project (``params/weighting.yaml``).

    Attributes
    ----------
    enabled : bool
        Whether reports use the weights (false: every weight is 1 and reports say unweighted).
    method : {"rake", "poststratify"}
        Rake to each variable's margin, or post-stratify to the joint cells of all variables.
    variables : list of str
        Weighting variables, e.g. ``[branch, customer_type]`` (branch × value tier). Each must
        be a column of the population table; responses get it from their own column or, when
        absent, from the population table through ``id_column``.
    population : str
        Warehouse table holding the population, one row per customer (the CRM base).
    id_column : str
        Key joining responses to the population table.
    exclude_churned : bool
        Leave customers with ``churned == 1`` out of the population margins.
    trim : (lower, upper), optional
        Bounds of the weights as multiples of the mean weight (raking only).
    max_iter, tol
        Raking controls (see :func:`cxlab.weighting.rake`).
    """

    version: int = 1
    enabled: bool = False
    method: Literal["rake", "poststratify"] = "rake"
    variables: list[str] = Field(min_length=1)
    population: str = "customers"
    id_column: str = "customer_id"
    exclude_churned: bool = True
    trim: tuple[float, float] | None = None
    max_iter: int = Field(default=100, ge=1)
    tol: float = Field(default=1e-10, gt=0)

    @model_validator(mode="after")
    def _distinct(self) -> WeightingPlan:
        if len(set(self.variables)) != len(self.variables):
            raise ValueError(f"variables {self.variables} repeat a column")
        if self.trim is not None and not (0 <= self.trim[0] <= 1 <= self.trim[1]):
            raise ValueError(f"trim {list(self.trim)} must satisfy 0 <= lower <= 1 <= upper")
        return self


def load_weighting(path: str | Path = "params/weighting.yaml") -> WeightingPlan:
    """Load and validate ``params/weighting.yaml``."""
    return load_params(path, WeightingPlan)


def _attach(responses: pd.DataFrame, population: pd.DataFrame, plan: WeightingPlan) -> pd.DataFrame:
    missing = [v for v in plan.variables if v not in responses.columns]
    if not missing:
        return responses
    if plan.id_column not in responses.columns or plan.id_column not in population.columns:
        raise CxlabError(f"weighting: responses lack {missing} and cannot be joined to the "
                         f"{plan.population!r} table on {plan.id_column!r}")
    lookup = population.drop_duplicates(plan.id_column).set_index(plan.id_column)[missing]
    joined = lookup.reindex(responses[plan.id_column].to_numpy())
    unmatched = joined.isna().any(axis=1).to_numpy()
    if unmatched.any():
        raise CxlabError(
            f"weighting: {int(unmatched.sum())} responses have no {missing} in the {plan.population!r} "
            f"table (first {plan.id_column} {responses[plan.id_column].iloc[int(np.flatnonzero(unmatched)[0])]!r})"
        )
    return responses.assign(**{c: joined[c].to_numpy() for c in missing})


def weights_by_period(
    responses: pd.DataFrame,
    population: pd.DataFrame,
    plan: WeightingPlan,
    *,
    period_col: str = "period",
) -> tuple[pd.Series, pd.DataFrame]:
    """Weights for every response, computed period by period to the population margins.

    Parameters
    ----------
    responses : DataFrame
        The responses (all periods), with ``period_col`` and either the weighting variables or
        ``plan.id_column``.
    population : DataFrame
        The population table named by ``plan.population`` (e.g. the CRM customers).
    plan : WeightingPlan
        The weighting model.
    period_col : str
        Period column of ``responses``.

    Returns
    -------
    weights : Series
        One weight per response, aligned to ``responses.index``; within each period they
        average 1 (population shares scaled to the period's respondents), all 1 when the plan
        is disabled.
    diagnostics : DataFrame
        One row per period: ``period``, ``method``, ``n``, ``iterations``, ``converged``,
        ``design_effect``, ``n_eff``, ``efficiency``, ``min_weight``, ``max_weight`` — what a
        report states beside the weighted base.

    Raises
    ------
    CxlabError
        A variable missing from the population; responses that cannot be joined; a level of a
        period's sample absent from the population or a population level with no respondents
        in a period (the message names the period).
    """
    if period_col not in responses.columns:
        raise CxlabError(f"weighting: responses have no {period_col!r} column")
    if not plan.enabled:
        w = pd.Series(1.0, index=responses.index, name="weight")
        diag = responses.groupby(period_col, sort=True).size().rename("n").reset_index()
        diag = diag.rename(columns={period_col: "period"}).assign(method="unweighted")
        return w, diag
    absent = [v for v in plan.variables if v not in population.columns]
    if absent:
        raise CxlabError(f"weighting: the {plan.population!r} table has no column(s) {absent}")
    pop = population
    if plan.exclude_churned and "churned" in pop.columns:
        pop = pop[pd.to_numeric(pop["churned"], errors="coerce").fillna(0) != 1]
    if pop[plan.variables].isna().any().any():
        pop = pop.dropna(subset=plan.variables)
    data = _attach(responses, population, plan)
    if plan.method == "rake":
        margins = {v: pop[v].value_counts(normalize=True).to_dict() for v in plan.variables}
    else:
        cells = pop.groupby(plan.variables, observed=True).size()
        shares = (cells / cells.sum()).to_dict()
    weights = pd.Series(np.nan, index=responses.index, name="weight")
    rows = []
    for period, part in data.groupby(period_col, sort=True, observed=True):
        try:
            if plan.method == "rake":
                res = rake(part, margins, trim=plan.trim, max_iter=plan.max_iter, tol=plan.tol)
            else:
                res = poststratify(part, shares, by=plan.variables)
        except CxlabError as err:
            raise CxlabError(f"weighting period {period}: {err}") from None
        weights.loc[part.index] = res.weights.to_numpy()
        rows.append({"period": period} | res.summary().iloc[0].to_dict())
    return weights, pd.DataFrame(rows)
