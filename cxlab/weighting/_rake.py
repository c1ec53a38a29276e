"""Raking (iterative proportional fitting), post-stratification and weight trimming."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cxlab.errors import CxlabError
from cxlab.weighting._result import WeightingResult

__all__ = ["poststratify", "rake", "trim"]

#: Relative tolerance for "the shares sum to 1" and "the margins give the same total".
_SUM_TOL = 1e-6


def _base(data: pd.DataFrame, base_weight: str | Sequence[float] | None) -> np.ndarray:
    n = len(data)
    if base_weight is None:
        return np.ones(n)
    if isinstance(base_weight, str):
        if base_weight not in data.columns:
            raise CxlabError(f"base_weight column {base_weight!r} not found in the data")
        w = pd.to_numeric(data[base_weight], errors="coerce").to_numpy(dtype=float)
        name = f"base_weight column {base_weight!r}"
    else:
        w = np.asarray(base_weight, dtype=float)
        name = "base_weight"
        if w.shape != (n,):
            raise CxlabError(f"base_weight has {w.size} values for {n} rows")
    bad = ~np.isfinite(w)
    if bad.any():
        raise CxlabError(f"{name}: row {int(np.flatnonzero(bad)[0])} is missing or not finite")
    if (w < 0).any():
        raise CxlabError(f"{name}: row {int(np.flatnonzero(w < 0)[0])} has a negative weight {w[w < 0][0]:g}")
    if not (w > 0).any():
        raise CxlabError(f"{name}: all weights are zero")
    return w


def _codes(data: pd.DataFrame, columns: list[str], levels: list, label: str) -> np.ndarray:
    """Integer code per row of the margin level (``levels`` order); errors for unknown levels."""
    for c in columns:
        if c not in data.columns:
            raise CxlabError(f"{label}: column {c!r} not found in the data")
    if len(columns) == 1:
        col = data[columns[0]]
        keys = [lv[0] if isinstance(lv, tuple) and len(lv) == 1 else lv for lv in levels]
        # hash the distinct values once (fast for strings and categoricals), then map them
        row_codes, uniques = pd.factorize(col, use_na_sentinel=True)
        lookup = pd.Index(keys, dtype=object).get_indexer(pd.Index(np.asarray(uniques, dtype=object)))
        missing = row_codes < 0
        codes = np.where(missing, -1, lookup[np.maximum(row_codes, 0)] if lookup.size else -1)
        codes = codes.astype(np.int64)
        values = col
    else:
        index = pd.MultiIndex.from_tuples([tuple(lv) for lv in levels], names=columns)
        frame = data[columns]
        codes = index.get_indexer(pd.MultiIndex.from_frame(frame.astype(object))).astype(np.int64)
        missing = frame.isna().any(axis=1).to_numpy()
        values = pd.Series(list(frame.itertuples(index=False, name=None)), index=data.index)
    if missing.any():
        row = data.index[int(np.flatnonzero(missing)[0])]
        raise CxlabError(f"{label}: row {row!r} has no value in {' × '.join(columns)}; "
                         "weighting variables must be complete")
    unknown = codes < 0
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise CxlabError(
            f"{label}: data level {values.iloc[i]!r} (row {data.index[i]!r}) is not in the margin; "
            f"margin levels: {list(levels)}"
        )
    return codes


def _targets(spec: Mapping, label: str) -> tuple[list, np.ndarray]:
    if not isinstance(spec, Mapping) or not spec:
        raise CxlabError(f"{label}: expected a non-empty mapping {{level: share or total}}")
    levels = list(spec)
    t = np.array([float(spec[k]) for k in levels])
    if not np.isfinite(t).all() or (t < 0).any():
        k = levels[int(np.flatnonzero(~(np.isfinite(t) & (t >= 0)))[0])]
        raise CxlabError(f"{label}: level {k!r} has an invalid target {spec[k]!r} (need a number >= 0)")
    if t.sum() <= 0:
        raise CxlabError(f"{label}: the targets sum to zero")
    return levels, t


def _is_shares(t: np.ndarray) -> bool:
    return bool(t.max() <= 1 + _SUM_TOL)


def _scale_targets(parsed: list[tuple[str, list, np.ndarray]], base_total: float) -> tuple[list[np.ndarray], float]:
    """Turn shares into totals; check shares sum to 1 and totals agree across margins."""
    totals = [(name, t.sum()) for name, _, t in parsed if not _is_shares(t)]
    for name, _, t in parsed:
        if _is_shares(t) and abs(t.sum() - 1) > _SUM_TOL:
            raise CxlabError(f"margin {name!r}: the shares sum to {t.sum():.6g}, not 1")
    if totals:
        ref_name, ref = totals[0]
        for name, tot in totals[1:]:
            if abs(tot - ref) > _SUM_TOL * ref:
                raise CxlabError(
                    f"margins do not agree: {ref_name!r} totals {ref:.10g} but {name!r} totals {tot:.10g}"
                )
        population = float(ref)
    else:
        population = base_total
    out = [t if not _is_shares(t) else t * population for _, _, t in parsed]
    return out, population


def _check_cells(codes: np.ndarray, target: np.ndarray, levels: list, label: str) -> np.ndarray:
    counts = np.bincount(codes, minlength=target.size)
    empty = (counts == 0) & (target > 0)
    if empty.any():
        raise CxlabError(
            f"{label}: level {levels[int(np.flatnonzero(empty)[0])]!r} has a target but no respondents "
            "(empty cell); merge it with a neighbouring level"
        )
    return counts


def _margin_table(parsed, codes_list, counts_list, w, population) -> pd.DataFrame:
    rows = []
    total = float(w.sum())
    for (name, levels, t), codes, counts in zip(parsed, codes_list, counts_list, strict=True):
        achieved = np.bincount(codes, weights=w, minlength=t.size)
        shares = t / t.sum()
        n = counts.sum()
        for k, lv in enumerate(levels):
            rows.append({"variable": name, "level": lv, "target": float(shares[k]),
                         "sample": float(counts[k] / n), "weighted": float(achieved[k] / total),
                         "n": int(counts[k])})
    return pd.DataFrame(rows, columns=["variable", "level", "target", "sample", "weighted", "n"])


def _bounds(trim_spec, mean: float) -> tuple[float, float] | None:
    if trim_spec is None:
        return None
    if not (isinstance(trim_spec, Sequence) and len(trim_spec) == 2):
        raise ValueError(f"trim={trim_spec!r} must be a pair (lower, upper) of multiples of the mean weight")
    lo, hi = (float(x) if x is not None else math.nan for x in trim_spec)
    lo = 0.0 if math.isnan(lo) else lo
    hi = math.inf if math.isnan(hi) else hi
    if not (0 <= lo <= 1 <= hi):
        raise ValueError(f"trim={trim_spec!r}: need 0 <= lower <= 1 <= upper (multiples of the mean weight)")
    return lo * mean, hi * mean


def rake(
    data: pd.DataFrame,
    margins: Mapping[str, Mapping[object, float]],
    *,
    base_weight: str | Sequence[float] | None = None,
    trim: tuple[float | None, float | None] | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> WeightingResult:
    """Rake weights to population margins by iterative proportional fitting.

    Parameters
    ----------
    data : DataFrame
        One row per respondent, with a column per raking variable.
    margins : mapping
        ``{column: {level: target}}``. A margin's targets are shares (each ≤ 1, summing to 1)
        or population totals; totals must agree across margins, shares are scaled to the total
        of the total-margins or, when every margin is given in shares, to the sum of the base
        weights (so without ``base_weight`` the weights average 1).
    base_weight : str or array, optional
        Column (or array) of design weights to start from; default 1 for every row.
    trim : (lower, upper), optional
        Bounds as multiples of the mean weight (e.g. ``(0.2, 5)``); after each sweep weights
        are clipped to them, so the margins are met as closely as the bounds allow
        ("raking with trimming"; ``converged`` is false when the bounds make them unattainable).
    max_iter : int
        Maximum number of sweeps over all margins.
    tol : float
        Convergence when, within one sweep, no level's adjustment factor differs from 1 by more
        than ``tol`` (and, with ``trim``, every margin is met to ``tol`` relative).

    Returns
    -------
    WeightingResult
        Weights aligned to ``data.index`` and diagnostics (iterations, convergence, Kish design
        effect and effective n, weighting efficiency, min/max weight, margin check table).

    Raises
    ------
    CxlabError
        A column missing; a missing value in a raking variable; a data level absent from its
        margin; a margin level with a target but no respondents (empty cell); shares not summing
        to 1; totals that disagree across margins; negative or non-finite targets or base weights.

    Notes
    -----
    Starting from the base weights :math:`w^{(0)}`, each sweep adjusts the weights margin by
    margin: :math:`w_i \\leftarrow w_i\\,T_{m,k}/\\sum_{j \\in k} w_j` for the level :math:`k` of
    row :math:`i` on margin :math:`m` (Deming & Stephan 1940). This is the fixed point that R's
    ``survey::rake`` reaches (Lumley 2010, section 7.3), which the tests check live. Each margin
    is one ``bincount`` and one gather over integer codes, so a sweep is linear in the rows.

    References
    ----------
    Deming, W. E. & Stephan, F. F. (1940). On a least squares adjustment of a sampled frequency
    table when the expected marginal totals are known. *Ann. Math. Statist.* 11(4), 427-444.
    Kish, L. (1965). *Survey Sampling*. Wiley.
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": ["m", "m", "f", "f", "f"], "age": ["y", "o", "y", "o", "o"]})
    >>> res = rake(df, {"sex": {"m": 0.5, "f": 0.5}, "age": {"y": 0.5, "o": 0.5}})
    >>> bool(res.converged), round(float(res.weights.groupby(df["sex"]).sum()["m"]), 6)
    (True, 2.5)
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if not isinstance(margins, Mapping) or not margins:
        raise CxlabError("margins must be a non-empty mapping {column: {level: share or total}}")
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise ValueError(f"max_iter={max_iter!r} must be a positive integer")
    if len(data) == 0:
        raise CxlabError("cannot weight an empty data set")
    w = _base(data, base_weight).copy()
    parsed = []
    for col, spec in margins.items():
        levels, t = _targets(spec, f"margin {col!r}")
        parsed.append((col, levels, t))
    targets, population = _scale_targets(parsed, float(w.sum()))
    codes_list, counts_list = [], []
    for (col, levels, _), t in zip(parsed, targets, strict=True):
        codes = _codes(data, [col], levels, f"margin {col!r}")
        counts_list.append(_check_cells(codes, t, levels, f"margin {col!r}"))
        codes_list.append(codes)
    for (col, levels, _), codes, t in zip(parsed, codes_list, targets, strict=True):
        sums = np.bincount(codes, weights=w, minlength=t.size)
        dead = (sums == 0) & (t > 0)
        if dead.any():
            raise CxlabError(f"margin {col!r}: level {levels[int(np.flatnonzero(dead)[0])]!r} has "
                             "respondents but all their base weights are zero")
    bounds = _bounds(trim, population / len(w))
    converged = False
    it = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        while it < max_iter:
            it += 1
            worst = 0.0
            for codes, t in zip(codes_list, targets, strict=True):
                sums = np.bincount(codes, weights=w, minlength=t.size)
                factor = np.where(sums > 0, t / sums, 0.0)
                live = sums > 0
                if live.any():
                    worst = max(worst, float(np.max(np.abs(factor[live] - 1))))
                w *= factor[codes]
            if bounds is not None:
                np.clip(w, bounds[0], bounds[1], out=w)
                worst = max(
                    worst,
                    max(float(np.max(np.abs(np.bincount(c, weights=w, minlength=t.size) - t) / np.where(t > 0, t, 1)))
                        for c, t in zip(codes_list, targets, strict=True)),
                )
            if worst <= tol:
                converged = True
                break
    weights = pd.Series(w, index=data.index, name="weight")
    table = _margin_table(parsed, codes_list, counts_list, w, population)
    method = "raking" + (", trimmed" if bounds is not None else "")
    return WeightingResult.build(weights, method=method, margins=table, iterations=it, converged=converged)


def poststratify(
    data: pd.DataFrame,
    cells: Mapping[object, float],
    *,
    by: str | Sequence[str],
    base_weight: str | Sequence[float] | None = None,
) -> WeightingResult:
    """Post-stratify: scale the weights in each cell so that the cell totals match the population.

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    cells : mapping
        ``{level: target}`` for one ``by`` column, ``{(level1, level2, ...): target}`` for
        several; targets are shares summing to 1 (scaled to the sum of the base weights) or
        population totals.
    by : str or list of str
        Column(s) defining the cells (e.g. ``["branch", "tier"]``).
    base_weight : str or array, optional
        Design weights to start from; default 1.

    Returns
    -------
    WeightingResult
        Weights aligned to ``data.index`` and diagnostics; ``iterations`` is 1.

    Raises
    ------
    CxlabError
        A data cell absent from ``cells``; a cell with a target but no respondents; shares not
        summing to 1; negative targets or base weights; missing values in ``by``.

    Notes
    -----
    :math:`w_i \\leftarrow w_i\\,N_c/\\sum_{j\\in c} w_j` for the cell :math:`c` of row
    :math:`i` (Holt & Smith 1979); the same weights as ``survey::postStratify``.

    References
    ----------
    Holt, D. & Smith, T. M. F. (1979). Post stratification. *JRSS A* 142(1), 33-46.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"tier": ["a", "a", "a", "b"]})
    >>> poststratify(df, {"a": 0.5, "b": 0.5}, by="tier").weights.round(4).tolist()
    [0.6667, 0.6667, 0.6667, 2.0]
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if len(data) == 0:
        raise CxlabError("cannot weight an empty data set")
    by_cols = [by] if isinstance(by, str) else list(by)
    label = f"cells {' × '.join(by_cols)}"
    w = _base(data, base_weight).copy()
    levels, t = _targets(cells, label)
    if len(by_cols) > 1:
        for lv in levels:
            if not (isinstance(lv, tuple) and len(lv) == len(by_cols)):
                raise CxlabError(f"{label}: cell key {lv!r} must be a tuple of {len(by_cols)} levels")
    (t,), population = _scale_targets([(label, levels, t)], float(w.sum()))
    codes = _codes(data, by_cols, levels, label)
    counts = _check_cells(codes, t, levels, label)
    sums = np.bincount(codes, weights=w, minlength=t.size)
    dead = (sums == 0) & (t > 0)
    if dead.any():
        raise CxlabError(f"{label}: cell {levels[int(np.flatnonzero(dead)[0])]!r} has respondents but "
                         "all their base weights are zero")
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sums > 0, t / sums, 0.0)
    w *= factor[codes]
    weights = pd.Series(w, index=data.index, name="weight")
    table = _margin_table([(label, levels, t)], [codes], [counts], w, population)
    return WeightingResult.build(weights, method="post-stratification", margins=table,
                                 iterations=1, converged=True)


def trim(
    weights: pd.Series | Sequence[float],
    *,
    lower: float | None = None,
    upper: float | None = None,
    relative: bool = False,
    strict: bool = True,
) -> pd.Series:
    """Trim weights to ``[lower, upper]`` and spread the trimmed amount over the other weights.

    Parameters
    ----------
    weights : Series or array
        Non-negative weights.
    lower, upper : float, optional
        Bounds; absolute weights, or multiples of the mean weight when ``relative``.
    relative : bool
        Interpret the bounds as multiples of the mean weight.
    strict : bool
        Repeat until no weight lies outside the bounds (the redistribution can push weights
        over a bound again); ``False`` makes a single pass.

    Returns
    -------
    Series
        Trimmed weights with the same total (index kept for a Series input).

    Notes
    -----
    One pass, as ``survey::trimWeights``: weights above ``upper`` are set to ``upper``, those
    below ``lower`` to ``lower``, and the net excess is added in equal parts to the weights that
    were inside the bounds, so the total is unchanged (Lumley 2010, section 7.5).

    Examples
    --------
    >>> trim([1.0, 1.0, 1.0, 5.0], upper=3).round(4).tolist()
    [1.6667, 1.6667, 1.6667, 3.0]
    """
    s = weights.astype(float) if isinstance(weights, pd.Series) else pd.Series(np.asarray(weights, dtype=float))
    w = s.to_numpy(dtype=float, copy=True)
    if not np.isfinite(w).all() or (w < 0).any():
        raise CxlabError("weights must be finite and non-negative")
    lo = -math.inf if lower is None else float(lower)
    hi = math.inf if upper is None else float(upper)
    if relative:
        mean = float(w.mean())
        lo, hi = lo * mean, hi * mean
    if lo > hi:
        raise ValueError(f"lower={lower!r} exceeds upper={upper!r}")
    if lo * w.size > w.sum() or hi * w.size < w.sum():
        raise CxlabError(f"bounds [{lo:g}, {hi:g}] cannot hold weights averaging {w.mean():g}")
    for _ in range(10_000):
        outside = (w < lo) | (w > hi)
        if not outside.any():
            break
        excess = float(np.sum(w[w > hi] - hi)) - float(np.sum(lo - w[w < lo]))
        np.clip(w, lo, hi, out=w)
        inside = ~outside
        if inside.any():
            w[inside] += excess / inside.sum()
        if not strict:
            break
    return pd.Series(w, index=s.index, name=s.name)
