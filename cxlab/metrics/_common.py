"""Shared helpers: argument checks, grouping, weights, small-base flags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

__all__ = ["CAUTION_BASE", "MIN_BASE", "base_flag"]

#: Below this unweighted base a result is suppressed (DESIGN.md: n < 30 suppressed).
MIN_BASE = 30
#: Below this unweighted base a result is shown with a caution flag (n < 100).
CAUTION_BASE = 100


def base_flag(n: int | float) -> str:
    """Classify an unweighted base: ``"suppress"`` (n < 30), ``"caution"`` (n < 100) or ``"ok"``.

    Examples
    --------
    >>> [base_flag(n) for n in (12, 30, 99, 100)]
    ['suppress', 'caution', 'caution', 'ok']
    """
    if n < MIN_BASE:
        return "suppress"
    if n < CAUTION_BASE:
        return "caution"
    return "ok"


def check_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; expected one of {', '.join(map(repr, allowed))}")


def check_level(level: float) -> None:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise ValueError(f"level={level!r} must be a number strictly between 0 and 1")


def as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def check_columns(data: pd.DataFrame, columns: Iterable[str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not found; available columns: {list(data.columns)}")


def numeric_scores(series: pd.Series, *, column: str, low: int, high: int) -> np.ndarray:
    """Float array of scores (NaN for missing); raise ValueError naming the column for bad values."""
    s = series
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    values = pd.to_numeric(s, errors="coerce")
    bad = values.isna() & s.notna()
    if bad.any():
        raise ValueError(f"column {column!r}: value {s[bad].iloc[0]!r} is not a number (expected {low}..{high})")
    arr = values.to_numpy(dtype=float)
    finite = ~np.isnan(arr)
    out_of_range = finite & ((arr < low) | (arr > high) | (arr != np.round(arr)))
    if out_of_range.any():
        raise ValueError(
            f"column {column!r}: value {arr[out_of_range][0]:g} is outside the scale (expected integers {low}..{high})"
        )
    return arr


def weights_array(data: pd.DataFrame, weight: str | None) -> np.ndarray | None:
    if weight is None:
        return None
    w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
    if np.isnan(w).any() or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"column {weight!r}: weights must be finite and non-negative, without missing values")
    return w


def groups(data: pd.DataFrame, by: list[str]):
    """Yield ``(key_dict, frame)`` per group (all data when ``by`` is empty), keys in sorted order."""
    if not by:
        yield {}, data
        return
    for key, frame in data.groupby(by, sort=True, observed=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, key, strict=True)), frame


def kish_n_eff(w: np.ndarray) -> float:
    """Kish (1965) effective sample size ``(sum w)^2 / sum w^2``."""
    s2 = float(np.sum(w**2))
    return float(np.sum(w)) ** 2 / s2 if s2 > 0 else 0.0


def rng_from(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")


def group_positions(data: pd.DataFrame, by: list[str]):
    """Yield ``(key_dict, positions)`` per group in sorted key order (all rows when ``by`` is empty).

    Groups are formed on all rows, so a group whose scores are all missing still appears.
    """
    if not by:
        yield {}, np.arange(len(data))
        return
    indices = data.groupby(by, sort=True, observed=True, dropna=False).indices
    for key, pos in indices.items():
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, key, strict=True)), np.asarray(pos)
