"""Input handling shared by the driver analyses: validation, listwise deletion, weighted
covariance, correlation-matrix input and the HTML rendering of result objects."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxlab.metrics._codebook import renamed_keywords as renamed_keywords

if TYPE_CHECKING:
    from cxlab.config import Codebook

__all__ = ["CorrelationMatrix", "from_correlation"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationMatrix:
    """A published correlation (or covariance) matrix used in place of raw data.

    Create it with :func:`from_correlation` and pass it as ``data`` to
    :func:`~cxlab.drivers.relative_importance` or :func:`~cxlab.drivers.dominance`.

    Attributes
    ----------
    matrix : pandas.DataFrame
        Square, symmetric matrix with identical row and column labels.
    n : int or None
        Number of observations behind the matrix, if known (reported as ``n``).
    """

    matrix: pd.DataFrame
    n: int | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the matrix."""
        return self.matrix.copy()

    def _repr_html_(self) -> str:
        return html_table("CorrelationMatrix", {"n": self.n}, self.matrix.reset_index())


def from_correlation(corr: pd.DataFrame, *, n: int | None = None) -> CorrelationMatrix:
    """Wrap a correlation or covariance matrix so the driver analyses can use it as data.

    Every relative-importance metric in :mod:`cxlab.drivers` depends on the data only through
    the correlation matrix of the target and the drivers, so a matrix published in a paper is
    enough to reproduce its analysis. Case weights and missing-value handling do not apply.

    Parameters
    ----------
    corr : pandas.DataFrame
        Square, symmetric matrix with identical row and column labels (variable names).
        A covariance matrix works as well; it is standardised internally.
    n : int, optional
        Number of observations behind the matrix, reported as ``n`` in the results.

    Returns
    -------
    CorrelationMatrix

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame([[1.0, 0.5], [0.5, 1.0]], index=["y", "x"], columns=["y", "x"])
    >>> from_correlation(r, n=100).n
    100
    """
    if not isinstance(corr, pd.DataFrame):
        raise TypeError(f"corr must be a pandas DataFrame with labelled rows and columns, got {type(corr).__name__}")
    if corr.shape[0] != corr.shape[1] or list(corr.index) != list(corr.columns):
        raise ValueError("corr must be square with the same labels, in the same order, on rows and columns")
    values = corr.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError("corr contains missing or infinite values")
    if not np.allclose(values, values.T, rtol=0, atol=1e-8):
        raise ValueError("corr must be symmetric")
    if np.any(np.diag(values) <= 0):
        bad = [str(c) for c, v in zip(corr.columns, np.diag(values), strict=True) if v <= 0]
        raise ValueError(f"corr has non-positive variances for {bad}")
    if n is not None and (int(n) != n or n < 1):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    return CorrelationMatrix(matrix=corr.astype(float).copy(), n=None if n is None else int(n))


def resolve_roles(outcome: str | None, drivers: Sequence[str] | None,
                  codebook: Codebook | None) -> tuple[str, list[str]]:
    """``outcome`` and ``drivers``, defaulting to the codebook's outcome and attribute items."""
    if outcome is None:
        outcome = codebook.outcome_item if codebook is not None else None
        if outcome is None:
            raise ValueError("outcome= is required: name the outcome column"
                             + (" (the codebook has no outcome: roles.overall, nps or csat)"
                                if codebook is not None else " or give codebook="))
    if drivers is None:
        if codebook is None:
            raise ValueError("drivers= is required (or give codebook= to use its attribute items)")
        drivers = codebook.attribute_items
    return outcome, drivers


def as_list(value: str | Sequence[str] | None, *, name: str) -> list[str]:
    """Normalise a column name or list of names to a list, rejecting duplicates."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    seen: set[str] = set()
    dupes = [c for c in items if c in seen or seen.add(c)]  # type: ignore[func-returns-value]
    if dupes:
        raise ValueError(f"{name} lists {dupes} more than once")
    return items


def resolve_players(
    drivers: Sequence[str], groups: Mapping[str, Sequence[str]] | None
) -> tuple[list[str], list[list[str]], list[str]]:
    """Players (single drivers or named groups) in order of first appearance.

    Returns the player names, the columns of each player, and all regressor columns.
    """
    if not drivers and not groups:
        raise ValueError("drivers must name at least one column")
    if groups is None:
        return list(drivers), [[d] for d in drivers], list(drivers)
    if not isinstance(groups, Mapping):
        raise TypeError("groups must be a dict mapping a group name to a list of columns")
    owner: dict[str, str] = {}
    for gname, cols in groups.items():
        cols = as_list(cols, name=f"groups[{gname!r}]")
        if not cols:
            raise ValueError(f"group {gname!r} has no columns")
        for c in cols:
            if c in owner:
                raise ValueError(f"column {c!r} is in groups {owner[c]!r} and {gname!r}")
            owner[c] = gname
    names: list[str] = []
    members: list[list[str]] = []
    for d in drivers:
        if d in owner:
            gname = owner[d]
            if gname not in names:
                names.append(gname)
                members.append(as_list(groups[gname], name="group"))
        else:
            names.append(d)
            members.append([d])
    for gname, cols in groups.items():
        if gname not in names:
            names.append(gname)
            members.append(as_list(cols, name="group"))
    singles = {n for n, m in zip(names, members, strict=True) if m == [n]}
    clash = [g for g in groups if g in singles and list(groups[g]) != [g]]
    if clash or len(set(names)) != len(names):
        raise ValueError(f"group names must differ from the driver names, found {clash or names}")
    columns = [c for m in members for c in m]
    return names, members, columns


def weighted_cov(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Covariance matrix of the columns of ``values`` with case weights (divisor: sum of weights).

    Relative-importance metrics depend only on correlations, so the divisor does not matter.
    """
    if weights is None:
        centred = values - values.mean(axis=0)
        return centred.T @ centred / len(values)
    w = weights / weights.sum()
    centred = values - w @ values
    return (centred * w[:, None]).T @ centred


def prepare(
    data: pd.DataFrame, *, target: str, columns: Sequence[str], weight: str | None
) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Listwise-deleted values (target first, then ``columns``), weights and n.

    Rows missing the target, any column or the weight are dropped, as are rows of zero weight.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame (or from_correlation(...)), got {type(data).__name__}")
    if not isinstance(target, str):
        raise TypeError(f"target must be one column name, got {target!r}")
    if target in columns:
        raise ValueError(f"target {target!r} is also listed as a driver")
    needed = [target, *columns] + ([weight] if weight is not None else [])
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ValueError(f"columns {missing} not found in data; available: {list(data.columns)}")
    frame = data[needed]
    not_numeric = [
        c for c in needed
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    if not_numeric:
        raise TypeError(f"columns {not_numeric} must be numeric (code answers as numbers first)")
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    keep = np.isfinite(values).all(axis=1)
    w = None
    if weight is not None:
        raw_w = values[:, -1]
        if np.any(raw_w[np.isfinite(raw_w)] < 0):
            raise ValueError(f"weight column {weight!r} has negative values")
        keep &= raw_w > 0
        w = raw_w[keep]
        values = values[:, :-1]
    values = values[keep]
    n = len(values)
    if n <= len(columns) + 1:
        raise ValueError(
            f"only {n} complete rows for {len(columns)} drivers (listwise deletion on "
            f"{target!r}, the drivers{' and the weight' if weight else ''}); need more than {len(columns) + 1}"
        )
    spread = values.max(axis=0) - values.min(axis=0)
    constant = [c for c, s in zip([target, *columns], spread, strict=True) if s == 0]
    if constant:
        raise ValueError(f"columns {constant} are constant in the {n} complete rows")
    return values, w, n


def matrix_from(
    data: pd.DataFrame | CorrelationMatrix,
    *,
    target: str,
    columns: Sequence[str],
    weight: str | None,
) -> tuple[np.ndarray, int | None]:
    """Covariance matrix (target first, then ``columns``) and n from data or a matrix."""
    if isinstance(data, CorrelationMatrix):
        if weight is not None:
            raise ValueError("weight cannot be used with a correlation matrix (weight the data instead)")
        labels = [target, *columns]
        missing = [c for c in labels if c not in data.matrix.columns]
        if missing:
            raise ValueError(f"variables {missing} not in the correlation matrix; available: {list(data.matrix.columns)}")
        if target in columns:
            raise ValueError(f"target {target!r} is also listed as a driver")
        return data.matrix.loc[labels, labels].to_numpy(dtype=float), data.n
    values, w, n = prepare(data, target=target, columns=columns, weight=weight)
    return weighted_cov(values, w), n


def html_table(title: str, facts: Mapping[str, object], frame: pd.DataFrame) -> str:
    """HTML for a result: a caption with its scalar facts, then its main table."""
    facts_text = ", ".join(f"{html.escape(k)} = {html.escape(_fmt(v))}" for k, v in facts.items())
    caption = f"{html.escape(title)}: {facts_text}" if facts_text else html.escape(title)
    body = frame.to_html(index=False, float_format=lambda x: f"{x:.4f}")
    return f"<div class='cxlab-drivers'><p><b>{caption}</b></p>{body}</div>"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
