"""Dominance analysis (Budescu 1993; Azen & Budescu 2003) from one all-subsets R² pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxlab.drivers._common import (
    CorrelationMatrix,
    as_list,
    html_table,
    matrix_from,
    renamed_keywords,
    resolve_roles,
)
from cxlab.drivers._importance import importance_table
from cxlab.drivers._subsets import (
    MAX_EXACT_DRIVERS,
    complete_dominance,
    conditional_contributions,
    shapley_values,
    subset_r2,
)

if TYPE_CHECKING:
    from cxlab.config import Codebook

__all__ = ["DominanceResult", "dominance"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DominanceResult:
    """Conditional, general and complete dominance of each driver.

    Attributes
    ----------
    conditional : pandas.DataFrame
        Index ``driver``; one column per subset size ``0 .. p-1`` (integer labels): the
        average increase in R² when the driver is added to models with that many other
        drivers. Column 0 is the driver's own R² (squared correlation).
    general : pandas.DataFrame
        ``driver, importance, share, rank``: the mean of each conditional row, which equals
        the LMG / Shapley value (the same table as ``relative_importance(method="lmg")``).
    complete : pandas.DataFrame
        Driver x driver (object dtype): ``complete.loc[i, j]`` is True if ``i`` completely
        dominates ``j`` (adds more R² to every subset of the other drivers), False if ``j``
        completely dominates ``i``, NaN if undetermined and on the diagonal.
    r2 : float
        R² of the full model.
    n : int or None
        Number of complete observations used.
    """

    conditional: pd.DataFrame
    general: pd.DataFrame
    complete: pd.DataFrame
    r2: float
    n: int | None

    def to_frame(self) -> pd.DataFrame:
        """One row per driver: the general table plus ``conditional_<size>`` columns."""
        cond = self.conditional.copy()
        cond.columns = [f"conditional_{c}" for c in cond.columns]
        return self.general.merge(cond, left_on="driver", right_index=True)

    def _repr_html_(self) -> str:
        return html_table("DominanceResult", {"R²": self.r2, "n": self.n}, self.to_frame())


@renamed_keywords(target="outcome")
def dominance(
    data: pd.DataFrame | CorrelationMatrix,
    *,
    outcome: str | None = None,
    drivers: Sequence[str] | None = None,
    weight: str | None = None,
    codebook: Codebook | None = None,
) -> DominanceResult:
    """Dominance analysis of the drivers of an outcome in a linear regression.

    Parameters
    ----------
    data : pandas.DataFrame or CorrelationMatrix
        One row per respondent, or a published matrix wrapped by :func:`from_correlation`.
    outcome : str, optional
        Column of the outcome.
        Default: ``codebook.outcome_item`` (roles.overall, else the NPS item, else CSAT).
        Formerly ``target=``, still accepted with a DeprecationWarning.
    drivers : sequence of str, optional
        Default: ``codebook.attribute_items``. Columns of the drivers (at most :data:`MAX_EXACT_DRIVERS`).
    weight : str, optional
        Column of case weights; the covariance matrix is weighted.

    codebook : cxlab.config.Codebook, optional
        Supplies the defaults of ``outcome`` and ``drivers`` from its roles.

    Returns
    -------
    DominanceResult
        ``conditional`` (driver x subset size), ``general`` (``driver, importance, share,
        rank``), ``complete`` (driver x driver, True/False/NaN), ``r2`` and ``n``.

    Notes
    -----
    With ``D_j(S) = R²(S + j) - R²(S)`` for subsets ``S`` of the other drivers, the
    conditional dominance statistic of size ``s`` is the mean of ``D_j(S)`` over the
    ``C(p-1, s)`` subsets with ``|S| = s``; the general dominance statistic is the mean of
    those p values (= LMG). Driver ``i`` completely dominates ``j`` when
    ``R²(S + i) > R²(S + j)`` for every subset ``S`` of the remaining p - 2 drivers.
    All R² values come from one exact pass over the 2^p subsets of the correlation matrix.

    References
    ----------
    Budescu, D. V. (1993). Dominance analysis: a new approach to the problem of relative
    importance of predictors in multiple regression. *Psychological Bulletin*, 114(3), 542-551.
    Azen, R. & Budescu, D. V. (2003). The dominance analysis approach for comparing predictors
    in multiple regression. *Psychological Methods*, 8(2), 129-148.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame(rng.normal(size=(400, 3)), columns=["wait", "staff", "price"])
    >>> df["csat"] = 0.8 * df.staff + 0.4 * df.wait + rng.normal(size=400)
    >>> res = dominance(df, outcome="csat", drivers=["wait", "staff", "price"])
    >>> res.conditional.round(3)
    subset_size      0      1      2
    driver
    wait         0.039  0.042  0.044
    staff        0.376  0.379  0.381
    price        0.000  0.000  0.000
    >>> bool(res.complete.loc["staff", "wait"])
    True
    """
    outcome, drivers = resolve_roles(outcome, drivers, codebook)
    drivers = as_list(drivers, name="drivers")
    if not drivers:
        raise ValueError("drivers must name at least one column")
    p = len(drivers)
    if p > MAX_EXACT_DRIVERS:
        raise ValueError(
            f"exact dominance analysis is limited to MAX_EXACT_DRIVERS = {MAX_EXACT_DRIVERS} "
            f"drivers (2^p subsets), got {p}"
        )
    cov, n = matrix_from(data, target=outcome, columns=drivers, weight=weight)
    r2 = subset_r2(cov, [[i + 1] for i in range(p)])
    cond = pd.DataFrame(
        conditional_contributions(r2, p),
        index=pd.Index(drivers, name="driver"),
        columns=pd.Index(range(p), name="subset_size"),
    )
    general = importance_table(drivers, shapley_values(r2, p))
    codes = complete_dominance(r2, p)
    labels = np.full((p, p), np.nan, dtype=object)
    labels[codes == 1.0] = True
    labels[codes == 0.0] = False
    complete = pd.DataFrame(labels, index=pd.Index(drivers, name="driver"), columns=list(drivers))
    return DominanceResult(
        conditional=cond, general=general, complete=complete, r2=float(r2[-1]), n=n
    )
