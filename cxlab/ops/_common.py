"""Small private helpers shared by the cxlab.ops modules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

__all__: list[str] = []


def as_by(by) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def need_columns(data: pd.DataFrame, cols: Sequence[str], *, what: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing} (has: {list(data.columns)})")


def hours_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Elapsed hours between two timestamp columns (strings are parsed; NaT gives NaN)."""
    s = pd.to_datetime(start, errors="coerce")
    e = pd.to_datetime(end, errors="coerce")
    return (e - s).dt.total_seconds() / 3600.0


def wilson(k, n, *, level: float = 0.95):
    """Wilson score interval for k successes out of n (arrays; fractions, NaN where n = 0).

    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. JASA 22, 209-212.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


def two_prop_pvalue(k1, n1, k2, n2) -> float:
    """Two-sided p-value of ``cxlab.metrics.two_proportion_test`` (pooled z, no correction)."""
    if any(pd.isna(x) for x in (k1, n1, k2, n2)) or min(n1, n2) <= 0:
        return float("nan")
    from cxlab.metrics import two_proportion_test

    return float(two_proportion_test(k1, n1, k2, n2).pvalue)


def nps_pvalue(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """Two-sided p-value of ``cxlab.metrics.nps_test`` (its default method) for NPS(a) vs NPS(b),
    from (promoters, passives, detractors) counts."""
    if sum(a) == 0 or sum(b) == 0:
        return float("nan")
    from cxlab.metrics import nps_test, scores_from_counts

    return float(nps_test(scores_from_counts(*a), scores_from_counts(*b), score="ltr").pvalue)


def to_codes(series: pd.Series, scale=None) -> pd.Series:
    """Numeric codes of an answer column: numbers stay, labels are mapped with ``scale``.

    ``scale`` is a :class:`cxlab.config.Scale` (its labels and aliases); without one, a column
    of labels is an error.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    num = pd.to_numeric(series, errors="coerce")
    text = series.notna() & num.isna()
    if not text.any():
        return num.astype(float)
    if scale is None:
        bad = series[text].iloc[0]
        raise ValueError(
            f"column {series.name!r} holds labels such as {bad!r}; pass codebook= so they can be "
            "mapped to codes"
        )
    lut = scale.label_to_code()
    mapped = series[text].astype(str).str.strip().map(lambda s: lut.get(s, lut.get(s.lower())))
    out = num.astype(float).copy()
    out[text] = pd.to_numeric(mapped, errors="coerce")
    return out


def scale_for(codebook, item: str):
    if codebook is None:
        return None
    try:
        return codebook.scale_of(item)
    except KeyError:
        return None
