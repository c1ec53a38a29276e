"""Importance–performance analysis (Martilla & James 1977)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cxlab.metrics._codebook import codebook_scale, renamed_keywords, resolve_scale

if TYPE_CHECKING:
    from cxlab.config import Codebook, Scale

__all__ = ["CROSSHAIRS", "IMPORTANCE_METHODS", "PROBLEMS", "QUADRANTS", "analyze"]

#: Allowed values of ``importance=``.
IMPORTANCE_METHODS: tuple[str, ...] = ("correlation", "stated", "johnson", "lmg")
#: Allowed values of ``crosshair=``.
CROSSHAIRS: tuple[str, ...] = ("mean", "median", "scale")
#: Quadrant names (Martilla & James 1977) and their Chinese map labels.
QUADRANTS: dict[str, str] = {
    "concentrate_here": "重点改进区",
    "keep_up": "继续保持区",
    "low_priority": "低优先区",
    "possible_overkill": "过度投入区",
}
#: The 客户体验结果汇总表 classification (seed 000): main and secondary problems.
PROBLEMS: dict[str, str] = {
    "concentrate_here": "主要问题",
    "low_priority": "次要问题",
    "keep_up": "无",
    "possible_overkill": "无",
}

# Values this close to a crosshair count as on it (and so as "high"); keeps quadrants stable
# under floating-point noise, e.g. after adding a constant to every performance.
_RTOL = 1e-9
_ATOL = 1e-12


def _at_or_above(values: np.ndarray, cross: float) -> np.ndarray:
    close = np.abs(values - cross) <= _ATOL + _RTOL * np.maximum(np.abs(values), abs(cross))
    return (values > cross) | close


def _standardise(values: np.ndarray, cross: float) -> np.ndarray:
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    # a spread of floating-point noise (equal values computed differently) is no spread
    if not np.isfinite(sd) or sd <= _ATOL + _RTOL * float(np.max(np.abs(values), initial=0.0)):
        return np.zeros_like(values)
    return (values - cross) / sd


@renamed_keywords(overall="outcome")
def analyze(
    data: pd.DataFrame,
    *,
    items: Sequence[str] | None = None,
    outcome: str | None = None,
    importance: str = "correlation",
    stated: Mapping[str, float] | pd.Series | None = None,
    crosshair: str = "mean",
    scale: Scale | int | tuple[float, float] | None = None,
    labels: Mapping[str, str] | pd.Series | None = None,
    codebook: Codebook | None = None,
    weight: str | None = None,
) -> pd.DataFrame:
    """Importance–performance analysis: place each item in one of four action quadrants.

    Parameters
    ----------
    data : DataFrame
        One row per respondent (or unit), one numeric column per item.
    items : list of str, optional
        The attribute columns; performance is each column's mean (missing values skipped).
        Default: ``codebook.attribute_items``.
    outcome : str, optional
        The outcome column (satisfaction, likelihood to recommend …); needed for the derived
        importances ``correlation``, ``johnson`` and ``lmg``. Default (with a codebook):
        ``codebook.outcome_item``. Formerly ``overall=``, still accepted with a
        DeprecationWarning.
    importance : {"correlation", "stated", "johnson", "lmg"}
        How importance is obtained: ``correlation`` – Pearson r of the item with ``outcome``
        (pairwise complete rows); ``stated`` – given in ``stated``; ``johnson`` / ``lmg`` – the
        ``share`` of ``cxlab.drivers.relative_importance(data, outcome=outcome, drivers=items,
        method=importance)`` (Johnson's relative weights / LMG, shares as fractions summing
        to 1, as in :mod:`cxlab.drivers`).
    stated : mapping or Series, optional
        Item → stated importance (e.g. mean rated importance); only with ``importance="stated"``.
    crosshair : {"mean", "median", "scale"}
        Where the quadrant lines cross: the mean or median of the item performances and of the
        item importances, or (``scale``) the midpoint ``(lo + hi) / 2`` of the rating scale for
        performance — and for stated importance, which is rated on the same scale — with the
        mean importance for derived importances (correlations and shares have no scale midpoint).
    scale : cxlab.config.Scale, int or (lo, hi), optional
        The rating scale, needed by ``crosshair="scale"``: a codebook
        :class:`~cxlab.config.Scale` (its lowest and highest code), an int *k* (codes 1..k) or
        the end points ``(lo, hi)``. Default (with a codebook): the scale of the first item.
    labels : mapping or Series, optional
        Item → display label; default the codebook's labels, else the item name.
    codebook : cxlab.config.Codebook, optional
        Supplies ``items``, ``outcome``, ``scale`` and ``labels`` from its roles.
    weight : str, optional
        Column of survey weights (non-negative): performance is each item's weighted mean,
        the ``correlation`` importance the weighted Pearson correlation (pairwise complete
        rows; R ``cov.wt(cor = TRUE)``), ``johnson``/``lmg`` pass the weights to
        :func:`cxlab.drivers.relative_importance`.

    Returns
    -------
    DataFrame
        One row per item, in the order of ``items``:

        - ``item`` – the column name;
        - ``label`` – display label;
        - ``performance`` – mean of the item;
        - ``importance`` – importance as chosen by ``importance=``;
        - ``quadrant`` – ``concentrate_here`` (high importance, low performance),
          ``keep_up`` (high, high), ``low_priority`` (low, low) or ``possible_overkill``
          (low importance, high performance);
        - ``priority`` – action order 1..k (1 = act first);
        - ``problem`` – ``主要问题`` (concentrate_here), ``次要问题`` (low_priority) or ``无``,
          the classification asked for by the 客户体验结果汇总表;
        - ``gap`` – standardised importance minus standardised performance (see Notes).

        ``attrs["crosshair"]`` holds ``{"performance": x, "importance": y, "method": crosshair}``.

    Raises
    ------
    ValueError
        For an unknown ``importance`` or ``crosshair`` (the message lists the allowed values),
        missing columns or arguments, or an item whose performance or importance is undefined
        (no data, or no variance for a correlation).

    Notes
    -----
    An item is *high* on an axis when its value is at or above the crosshair (values within
    floating-point tolerance of the crosshair count as on it). The quadrants follow Martilla &
    James (1977): concentrate here, keep up the good work, low priority, possible overkill.

    Priority: items in ``concentrate_here`` come first, then all other items; within each of
    the two groups items are ordered by decreasing ``gap``, where
    ``gap = (importance − y) / sd(importance) − (performance − x) / sd(performance)``, the
    standard deviations taken across items (an axis without spread contributes 0) and
    ``(x, y)`` the crosshair. A large gap means importance well above what performance
    delivers; ties (gaps equal to 9 decimals) keep the order of ``items``.

    References
    ----------
    Martilla, J. A., & James, J. C. (1977). Importance–performance analysis. *Journal of
    Marketing*, 41(1), 77–79.

    Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
    variables in multiple regression. *Multivariate Behavioral Research*, 35(1), 1–19.

    Lindeman, R. H., Merenda, P. F., & Gold, R. Z. (1980). *Introduction to Bivariate and
    Multivariate Analysis*. Scott, Foresman.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxlab.ipa import analyze
    >>> df = pd.DataFrame({
    ...     "speed":    [2, 3, 2, 4, 1, 3],
    ...     "staff":    [5, 4, 5, 4, 5, 4],
    ...     "price":    [3, 3, 4, 3, 2, 4],
    ...     "overall":  [2, 3, 3, 4, 1, 4],
    ... })
    >>> res = analyze(df, items=["speed", "staff", "price"], outcome="overall")
    >>> res[["item", "quadrant", "priority", "problem"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'item': 'speed', 'quadrant': 'concentrate_here', 'priority': 1, 'problem': '主要问题'},
     {'item': 'staff', 'quadrant': 'possible_overkill', 'priority': 3, 'problem': '无'},
     {'item': 'price', 'quadrant': 'concentrate_here', 'priority': 2, 'problem': '主要问题'}]
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if codebook is not None:
        if items is None:
            items = codebook.attribute_items
        if outcome is None and importance != "stated":
            outcome = codebook.outcome_item
        if labels is None:
            labels = codebook.labels()
        if scale is None and list(items):
            scale = codebook_scale(codebook, list(items)[0])
    if items is None:
        raise ValueError("items= is required (or give codebook= to use its attribute items)")
    if isinstance(items, str):
        raise TypeError(f"items must be a list of column names, not the string {items!r}")
    items = list(items)
    if not items:
        raise ValueError("items is empty: give at least one item column")
    dup = sorted({str(x) for x in items if items.count(x) > 1})
    if dup:
        raise ValueError(f"duplicate items: {dup}")
    if importance not in IMPORTANCE_METHODS:
        raise ValueError(
            f"importance={importance!r} is not supported (allowed: {list(IMPORTANCE_METHODS)})"
        )
    if crosshair not in CROSSHAIRS:
        raise ValueError(f"crosshair={crosshair!r} is not supported (allowed: {list(CROSSHAIRS)})")
    needed = list(items) + ([outcome] if outcome is not None else [])
    missing = [c for c in needed + ([weight] if weight else []) if c not in data.columns]
    if missing:
        raise ValueError(f"columns not found: {missing} (available: {list(data.columns)})")
    if outcome is not None and outcome in items:
        raise ValueError(f"outcome={outcome!r} must not be one of the items")
    non_numeric = [c for c in needed if not pd.api.types.is_numeric_dtype(data[c])]
    if non_numeric:
        raise TypeError(f"columns must be numeric (code verbal scales first): {non_numeric}")
    if importance != "stated" and stated is not None:
        raise ValueError("stated= is only used with importance='stated'")
    if importance in ("correlation", "johnson", "lmg") and outcome is None:
        raise ValueError(f"importance={importance!r} needs outcome= (the outcome column)")
    lo_hi: tuple[float, float] | None = None
    if crosshair == "scale":
        lo_hi = _scale_ends(scale)

    if weight is None:
        performance = data[items].mean(axis=0).to_numpy(dtype=float)
    else:
        w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError(f"column {weight!r}: weights must be finite and non-negative")
        performance = np.array([_wmean(data[it].to_numpy(dtype=float), w) for it in items])
    imp = _importance(data, items=items, outcome=outcome, method=importance, stated=stated,
                      weight=weight)

    bad = [it for it, p, v in zip(items, performance, imp, strict=True)
           if not (np.isfinite(p) and np.isfinite(v))]
    if bad:
        raise ValueError(
            f"performance or importance undefined for items {bad} (no data, or no variance)"
        )

    if crosshair == "mean":
        x, y = float(np.mean(performance)), float(np.mean(imp))
    elif crosshair == "median":
        x, y = float(np.median(performance)), float(np.median(imp))
    else:  # "scale": lo_hi was validated above
        x = (lo_hi[0] + lo_hi[1]) / 2  # type: ignore[index]
        y = x if importance == "stated" else float(np.mean(imp))

    high_imp = _at_or_above(imp, y)
    high_perf = _at_or_above(performance, x)
    quadrant = np.where(
        high_imp,
        np.where(high_perf, "keep_up", "concentrate_here"),
        np.where(high_perf, "possible_overkill", "low_priority"),
    )
    gap = _standardise(imp, y) - _standardise(performance, x)
    first = quadrant == "concentrate_here"
    # gaps equal up to floating-point noise are ties (kept in the order of ``items``)
    order = np.lexsort((np.arange(len(items)), -np.round(gap, 9), ~first))
    priority = np.empty(len(items), dtype=np.int64)
    priority[order] = np.arange(1, len(items) + 1)

    label_map = dict(labels.items()) if labels is not None else {}
    out = pd.DataFrame({
        "item": pd.array(items, dtype="string"),
        "label": pd.array([str(label_map.get(it, it)) for it in items], dtype="string"),
        "performance": performance,
        "importance": imp,
        "quadrant": pd.array(quadrant, dtype="string"),
        "priority": priority,
        "problem": pd.array([PROBLEMS[q] for q in quadrant], dtype="string"),
        "gap": gap,
    })
    out.attrs["crosshair"] = {"performance": x, "importance": y, "method": crosshair}
    out.attrs["importance"] = importance
    return out


def _scale_ends(scale: object) -> tuple[float, float]:
    """(lo, hi) of a Scale, an int number of points (1..k) or a (lo, hi) pair."""
    if isinstance(scale, (tuple, list)):
        if len(scale) != 2 or not float(scale[0]) < float(scale[1]):
            raise ValueError(f"crosshair='scale' needs scale=(lo, hi) with lo < hi; got {scale!r}")
        return float(scale[0]), float(scale[1])
    if scale is None:
        raise ValueError("crosshair='scale' needs scale=(lo, hi), an int number of points or a "
                         "codebook Scale; got None")
    spec = resolve_scale(scale, top_box=1)
    return float(spec.lo), float(spec.hi)


def _importance(
    data: pd.DataFrame,
    *,
    items: list[str],
    outcome: str | None,
    method: str,
    stated: Any,
    weight: str | None = None,
) -> np.ndarray:
    if method == "stated":
        if stated is None:
            raise ValueError("importance='stated' needs stated= (a mapping item -> importance)")
        given = dict(stated.items())
        absent = [it for it in items if it not in given]
        if absent:
            raise ValueError(f"stated importance missing for items {absent}")
        return np.array([float(given[it]) for it in items], dtype=float)
    if method == "correlation":
        target = data[outcome]
        if weight is None:
            return np.array([data[it].corr(target) for it in items], dtype=float)
        w = data[weight].to_numpy(dtype=float)
        y = target.to_numpy(dtype=float)
        return np.array([_wcorr(data[it].to_numpy(dtype=float), y, w) for it in items])
    # johnson / lmg: delegate to cxlab.drivers (imported lazily: drivers is optional here)
    from cxlab.drivers import relative_importance

    result = relative_importance(data, outcome=outcome, drivers=items, method=method,
                                 weight=weight)
    shares = result.table.set_index("driver")["share"]
    absent = [it for it in items if it not in shares.index]
    if absent:
        raise ValueError(f"relative_importance returned no share for items {absent}")
    return shares.reindex(items).to_numpy(dtype=float)


def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    ok = ~np.isnan(x)
    return float(np.average(x[ok], weights=w[ok])) if w[ok].sum() > 0 else np.nan


def _wcorr(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted Pearson correlation over the rows where both are present (R ``cov.wt``)."""
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y, w = x[ok], y[ok], w[ok]
    if w.sum() <= 0:
        return np.nan
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    sxy = np.sum(w * (x - mx) * (y - my))
    sxx, syy = np.sum(w * (x - mx) ** 2), np.sum(w * (y - my) ** 2)
    return float(sxy / np.sqrt(sxx * syy)) if sxx > 0 and syy > 0 else np.nan
