"""Inference on LMG shares: jackknife shares, BCa intervals from bootstrap replicates, and the
groups of drivers whose importance the sample cannot tell apart."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from cxlab.drivers._subsets import shapley_values, subset_r2

__all__ = ["bca_limits", "jackknife_lmg_shares", "lmg_shares", "rank_groups"]

# Covariance matrices sent through the all-subsets engine at once (see _keydrivers).
_SUBSET_VALUES = 1 << 19


def lmg_shares(cov: np.ndarray, p: int) -> np.ndarray:
    """LMG shares of R² from covariance matrices (B, p + 1, p + 1), target first -> (B, p).

    A matrix whose target variance is not positive gives NaN shares.
    """
    players = [[j + 1] for j in range(p)]
    step = max(1, _SUBSET_VALUES >> p)
    lmg = np.empty((p, len(cov)))
    for b0 in range(0, len(cov), step):  # a few matrices at a time: their states stay in cache
        lmg[:, b0 : b0 + step] = shapley_values(subset_r2(cov[b0 : b0 + step], players), p)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = lmg / lmg.sum(axis=0)
    shares[:, np.diagonal(cov, axis1=1, axis2=2)[:, 0] <= 0] = np.nan
    return shares.T


def jackknife_lmg_shares(values: np.ndarray, weights: np.ndarray | None, *,
                         groups: np.ndarray | None = None, chunk: int = 64) -> np.ndarray:
    """LMG shares with each row (or each group of rows) left out in turn, shape (n or G, p).

    A left-out matrix is the (weighted) covariance of the other rows, obtained by removing
    the rows' contribution from the sums of weights, values and cross products (no refit of
    the data), so the cost is that of n (or G) bootstrap replicates. ``groups`` gives each
    row's group number 0 … G-1 (the delete-a-group jackknife).
    """
    n, m = values.shape
    w = np.ones(n) if weights is None else weights / weights.mean()
    centred = values - (w @ values) / w.sum()
    if groups is None:
        gw, gm = w, centred * w[:, None]
        gc = None
    else:
        k = int(groups.max()) + 1
        onehot = np.zeros((k, n))
        onehot[groups, np.arange(n)] = w
        gw, gm = onehot.sum(axis=1), onehot @ centred
        gc = np.einsum("gn,nj,nk->gjk", onehot, centred, centred)
    total_w = gw.sum()
    total_m = gm.sum(axis=0)
    total_c = (centred * w[:, None]).T @ centred
    out = np.empty((len(gw), m - 1))
    for r0 in range(0, len(gw), chunk):
        s = total_w - gw[r0 : r0 + chunk]
        mean = (total_m[None, :] - gm[r0 : r0 + chunk]) / s[:, None]
        if gc is None:
            z = centred[r0 : r0 + chunk]
            part = w[r0 : r0 + chunk, None, None] * z[:, :, None] * z[:, None, :]
        else:
            part = gc[r0 : r0 + chunk]
        cov = (total_c[None] - part) / s[:, None, None] - mean[:, :, None] * mean[:, None, :]
        out[r0 : r0 + chunk] = lmg_shares(cov, m - 1)
    return out


def _normal_scale_quantile(t: np.ndarray, alpha: float) -> float:
    """Quantile of sorted replicates ``t`` by interpolation on the normal scale.

    Davison & Hinkley (1997), eq. 5.8: with R replicates the (R + 1)·alpha-th order statistic,
    interpolated between its neighbours k and k + 1 on the scale of Φ⁻¹(k / (R + 1)); the
    extreme replicates beyond the first and last order statistic (the convention of R's
    ``boot::norm.inter``).
    """
    r = t.size
    rk = (r + 1) * alpha
    k = int(np.trunc(rk))
    if k <= 0:
        return float(t[0])
    if k >= r:
        return float(t[-1])
    if k == rk:
        return float(t[k - 1])
    lo, hi = stats.norm.ppf(k / (r + 1)), stats.norm.ppf((k + 1) / (r + 1))
    frac = (stats.norm.ppf(alpha) - lo) / (hi - lo)
    return float(t[k - 1] + frac * (t[k] - t[k - 1]))


def bca_limits(estimate: np.ndarray, replicates: np.ndarray, jackknife: np.ndarray,
               level: float) -> tuple[np.ndarray, np.ndarray]:
    """BCa (bias-corrected and accelerated) interval of each column.

    Parameters
    ----------
    estimate : ndarray, shape (p,)
        The statistics on the full sample.
    replicates : ndarray, shape (B, p)
        Bootstrap replicates; non-finite values are left out, column by column.
    jackknife : ndarray, shape (n, p)
        The statistics with each observation left out in turn.
    level : float
        Confidence level.

    Returns
    -------
    (low, high) : tuple of ndarray
        NaN for a column whose bias correction is infinite (no replicate, or every replicate,
        below the estimate) or whose acceleration is undefined (constant jackknife).

    Notes
    -----
    Efron (1987); the definitions of Davison & Hinkley (1997, §5.3.2) as R's
    ``boot.ci(type = "bca")`` computes them: bias correction
    ``w = Φ⁻¹(#{t* < t̂} / B)``, acceleration ``a = Σ L³ / (6 (Σ L²)^{3/2})`` with the
    jackknife influence values ``L_i = (n - 1)(t̄₍.₎ - t₍ᵢ₎)``, adjusted levels
    ``Φ(w + (w + z_α) / (1 - a (w + z_α)))`` and endpoints by
    :func:`_normal_scale_quantile`.
    """
    estimate = np.asarray(estimate, dtype=float)
    replicates = np.asarray(replicates, dtype=float)
    jackknife = np.asarray(jackknife, dtype=float)
    n = jackknife.shape[0]
    z = stats.norm.ppf([(1 - level) / 2, (1 + level) / 2])
    low = np.full(estimate.shape, np.nan)
    high = np.full(estimate.shape, np.nan)
    for j, t0 in enumerate(estimate):
        t = np.sort(replicates[:, j][np.isfinite(replicates[:, j])])
        jack = jackknife[:, j]
        if t.size == 0 or not np.isfinite(t0) or not np.isfinite(jack).all():
            continue
        below = np.count_nonzero(t < t0) / t.size
        infl = (n - 1) * (jack.mean() - jack)
        ss = np.sum(infl**2)
        if not 0 < below < 1 or ss == 0:
            continue
        w = stats.norm.ppf(below)
        a = np.sum(infl**3) / (6 * ss**1.5)
        adj = stats.norm.cdf(w + (w + z) / (1 - a * (w + z)))
        low[j], high[j] = (_normal_scale_quantile(t, float(q)) for q in adj)
    return low, high


def rank_groups(names: Sequence[str], share: np.ndarray, jackknife: np.ndarray,
                level: float) -> tuple[np.ndarray, pd.DataFrame]:
    """Groups of drivers whose order of importance the sample separates.

    Parameters
    ----------
    names : sequence of str
        The drivers, in the order of ``share``.
    share : ndarray, shape (p,)
        Estimated LMG shares.
    jackknife : ndarray, shape (G, p)
        The shares with each row (or each of G groups of rows) left out
        (:func:`jackknife_lmg_shares`).
    level : float
        ``1 - level`` is the family-wise error rate of all the pairwise claims.

    Returns
    -------
    groups : ndarray of int, shape (p,)
        1 for the group of the most important driver, 2 for the next group, ...
    pairs : DataFrame
        One row per pair, the higher estimated share first: ``driver``, ``other``, ``diff``
        (share difference), ``se`` (its jackknife standard error), ``pvalue`` (two-sided,
        normal approximation), ``p_adjusted`` (Holm, over all pairs) and ``separated``
        (``p_adjusted < 1 - level``).

    Notes
    -----
    Each pair is tested with ``z = d̂ / se(d̂)``, ``p = 2 Φ(-|z|)``, where ``se`` is the
    jackknife standard error of the share difference,
    ``se² = (G - 1)/G Σ (d₍g₎ - d̄)²`` (Efron & Tibshirani 1993, eq. 11.5). Holm's step-down
    adjustment over all ``p(p - 1)/2`` pairs holds the chance of *any* false claim of order
    among all pairs at ``1 - level`` (asymptotically), so claims built from any of them
    after looking at the estimates remain covered.

    Why the jackknife: in simulations with four equally important drivers (200-300 data sets
    each), the share of data sets with any false claim at a nominal 5% was, for
    n = 80 / 150 / 300 / 600: 11% / 6.3% / 6.3% / 6.5% with the jackknife standard error,
    but 18% / 9% / 8% / 8% with the standard deviation of 100 bootstrap replicates, which
    understates the spread of LMG share differences in samples of this size. The test is
    asymptotic: below about 150 respondents it claims an order too often.

    Groups, by comparison with the leader: the driver of highest estimated share leads group
    1, which holds it and every driver not separated from it (the drivers that the sample
    cannot tell apart from the most important one). The highest driver not yet grouped leads
    group 2, which holds the remaining drivers not separated from it, and so on. A driver
    alone in group 1 is significantly more important than every other driver; every driver
    of a later group is significantly less important than the leaders of all earlier groups.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993). *An Introduction to the Bootstrap*, ch. 11.
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J.
    Statist.* 6, 65-70.
    Hsu, J. C. (1996). *Multiple Comparisons: Theory and Methods*, ch. 4 (comparisons with
    the best). Chapman & Hall.
    """
    from cxlab.metrics import adjust_pvalues

    share = np.asarray(share, dtype=float)
    p = share.size
    jack = np.asarray(jackknife, dtype=float)
    g = len(jack)
    order = np.lexsort((np.arange(p), -share))
    rows = []
    for a_pos in range(p):
        for b_pos in range(a_pos + 1, p):
            i, j = order[a_pos], order[b_pos]
            diff = share[i] - share[j]
            d = jack[:, i] - jack[:, j]
            se = float(np.sqrt((g - 1) / g * np.sum((d - d.mean()) ** 2))) if g > 1 else np.nan
            if not np.isfinite(se) or (se == 0 and diff == 0):
                pval = np.nan  # no test: never separated
            elif se == 0:
                pval = 0.0
            else:
                pval = float(2 * stats.norm.sf(abs(diff) / se))
            rows.append({"driver": names[i], "other": names[j], "diff": diff, "se": se,
                         "pvalue": pval, "_i": i, "_j": j})
    pairs = pd.DataFrame(rows, columns=["driver", "other", "diff", "se", "pvalue", "_i", "_j"])
    pairs["p_adjusted"] = adjust_pvalues(pairs["pvalue"].to_numpy(dtype=float), method="holm")
    pairs["separated"] = (pairs["p_adjusted"] < 1 - level) & (pairs["diff"] > 0)
    sep = np.zeros((p, p), dtype=bool)
    sep[pairs["_i"].to_numpy(dtype=int), pairs["_j"].to_numpy(dtype=int)] = pairs["separated"]
    groups = np.zeros(p, dtype=int)
    current = 0
    for pos, leader in enumerate(order):
        if groups[leader]:
            continue
        current += 1
        groups[leader] = current
        for j in order[pos + 1 :]:
            if not groups[j] and not sep[leader, j]:
                groups[j] = current
    return groups, pairs.drop(columns=["_i", "_j"])
