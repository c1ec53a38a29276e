"""Exact all-subsets R² from a covariance matrix, and the Shapley/dominance summaries of it.

The engine never refits a regression. It works on the (weighted) correlation matrix of the
target and the regressors (covariances are standardised first) and enumerates the 2^p subsets of the *players* (single regressors
or groups of regressors) with the sweep operator (Goodnight 1979), vectorised over subsets:

* the state for a subset ``T`` of the first ``k`` players is the residual covariance matrix of
  the remaining regressors and the target after regressing them on ``T``;
* player ``k`` either stays out (drop its rows/columns) or enters (sweep its columns:
  ``M' = M22 - M21 M11^-1 M12``); both branches are kept, so the number of states doubles
  while the matrices shrink by one player;
* after the last player every state is the 1 x 1 residual variance of the target, and
  ``R²(S) = 1 - residual(S)`` on the correlation scale.

Subset ``S`` is stored at index ``sum(2**j for j in S)`` (a bitmask), so the result for p
players is one float64 array of length 2^p (8 MB for p = 20). The work is about
``12 * 2^p`` multiply-adds; states are split into chunks so that no intermediate array
exceeds :data:`_CHUNK_ELEMENTS` values. While the states are few, both branches of a player
are stacked into one array (one numpy call per operation for all of them); once they number
:data:`_SPLIT_COLUMNS`, the branches go on separately and write straight into the result, so
the largest levels are not copied (:func:`_expand_into`). An optional leading batch axis
evaluates many covariance matrices at once (bootstrap).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from math import comb

import numpy as np

__all__ = [
    "MAX_EXACT_DRIVERS",
    "complete_dominance",
    "conditional_contributions",
    "popcount",
    "shapley_values",
    "subset_r2",
]

#: Largest number of players (drivers or groups) for which exact LMG / dominance is computed.
#: 2^24 subsets need a 128 MB R² array and take seconds; beyond that the cost doubles per driver.
MAX_EXACT_DRIVERS = 24

# Largest intermediate array, in float64 values (32 MB); bigger states are split in chunks.
_CHUNK_ELEMENTS = 4_000_000

# Once the states number this many (times the batch), the remaining single players are
# enumerated by :func:`_expand_into`, without stacking the branches: the deepest levels hold
# most of the data, and a few thousand states per array already amortise numpy's per-call
# cost. (p = 17, batches of 4: 1.5-2 ms per matrix, against 3-4 ms stacking every level.)
_SPLIT_COLUMNS = 8192

# A regressor whose residual variance, given the regressors already in the model, falls below
# this fraction of its own variance is treated as redundant (it adds nothing), as a
# generalised inverse would do.
_PIVOT_TOL = 1e-10


def _inv_root(pivot: np.ndarray) -> np.ndarray:
    """``sqrt(1 / pivot)``, and 0 where the pivot fails the tolerance (redundant regressor)."""
    ok = pivot > _PIVOT_TOL
    if ok.all():  # the usual case: skip the masking (same values)
        return np.sqrt(1.0 / pivot)
    return np.sqrt(np.where(ok, 1.0 / np.where(ok, pivot, 1.0), 0.0))


def _explained(cross: np.ndarray, pivot: np.ndarray) -> np.ndarray:
    """``cross**2 / pivot`` (variance explained by one more regressor), 0 for a failed pivot."""
    ok = pivot > _PIVOT_TOL
    if ok.all():
        out = np.square(cross)
        out /= pivot
        return out
    return np.where(ok, cross**2 / np.where(ok, pivot, 1.0), 0.0)


def _sweep_into(state: np.ndarray, m: int, out: np.ndarray) -> None:
    """Sweep the first variable out of packed states; write the packed rest into ``out``.

    ``state`` has shape (m(m+1)/2, N): the upper triangles, row by row, of N symmetric m x m
    matrices (subset axis last, so every operation runs along long contiguous rows). Row 0 of
    each matrix occupies the first m entries, and the remaining (m-1) x (m-1) triangle follows
    in the same packed order, so the "variable left out" branch is the slice ``state[m:]``.
    """
    u = state[1:m] * _inv_root(state[0])
    rest = state[m:]
    pos = 0
    for i in range(m - 1):
        size = m - 1 - i
        block = out[pos : pos + size]
        np.multiply(u[i], u[i:], out=block)
        np.subtract(rest[pos : pos + size], block, out=block)
        pos += size


def _last_two(state: np.ndarray, out: np.ndarray) -> None:
    """The four subsets of the last two single players, from packed 3 x 3 states (6, N).

    The same floating-point operations as sweeping the first of them (:func:`_sweep_into`)
    and then taking the single-player step of :func:`_expand` on both branches, without
    building the intermediate states. Row ``bit1 * 2 + bit0`` of ``out`` (4, N) receives the
    residual variance of the target.
    """
    s11, s12, s1y, s22, s2y, syy = state
    out[0] = syy
    np.subtract(syy, _explained(s2y, s22), out=out[2])
    root = _inv_root(s11)
    u2, uy = s12 * root, s1y * root
    t22 = s22 - u2 * u2
    u2 *= uy
    t2y = np.subtract(s2y, u2, out=u2)
    uy *= uy
    np.subtract(syy, uy, out=out[1])
    np.subtract(out[1], _explained(t2y, t22), out=out[3])


def _expand_into(state: np.ndarray, m: int, players: int, out: np.ndarray) -> None:
    """:func:`_expand` for the last few single players, writing into ``out`` (2**players, N).

    At the deepest levels the states are many and the data large, so the two branches of a
    player are not stacked into one array (that copies the "left out" states): the left-out
    branch is a view of ``state`` and each branch writes its own rows of ``out`` (those with
    the player's bit 0 or 1: index = higher bits * 2 + bit).
    """
    if players == 2:
        _last_two(state, out)
        return
    swept = np.empty(((m - 1) * m // 2, state.shape[1]))
    _sweep_into(state, m, swept)
    _expand_into(state[m:], m - 1, players - 1, out[0::2])
    _expand_into(swept, m - 1, players - 1, out[1::2])


def _expand(state: np.ndarray, m: int, sizes: Sequence[int]) -> np.ndarray:
    """Enumerate all subsets of the players in ``sizes`` for every packed state.

    Parameters
    ----------
    state : ndarray, shape (m(m+1)/2, N)
        Packed residual covariance matrices (see :func:`_sweep_into`); the leading variables
        belong to the players in ``sizes`` (in order), the last one is the target.
    m : int
        Number of variables in each state.
    sizes : sequence of int
        Number of columns of each remaining player.

    Returns
    -------
    ndarray, shape (2**len(sizes), N)
        Residual variance of the target; axis 0 is the bitmask of the remaining players.
    """
    n = state.shape[1]
    if not sizes:
        return state
    g = sizes[0]
    singles = all(size == 1 for size in sizes)
    if singles and len(sizes) >= 2 and (len(sizes) == 2 or n >= _SPLIT_COLUMNS):
        out = np.empty((1 << len(sizes), n))
        _expand_into(state, m, len(sizes), out)
        return out
    if len(sizes) == 1 and g == 1:  # last single player: [s_kk, s_ky, s_yy] -> (2, N)
        s_kk, s_ky, s_yy = state
        out = np.empty((2, n))
        out[0] = s_yy
        np.subtract(s_yy, _explained(s_ky, s_kk), out=out[1])
        return out
    m_next = m - g
    k_next = m_next * (m_next + 1) // 2
    if 2 * n * k_next > _CHUNK_ELEMENTS and n > 1:
        half = n // 2
        left = _expand(state[:, :half], m, sizes)
        right = _expand(state[:, half:], m, sizes)
        return np.concatenate([left, right], axis=1)
    nxt = np.empty((k_next, 2 * n))
    skip = sum(m - t for t in range(g))  # packed entries of the player's rows
    nxt[:, :n] = state[skip:]
    inside, mm = state, m
    for t in range(g):
        target = nxt[:, n:] if t == g - 1 else np.empty(((mm - 1) * mm // 2, n))
        _sweep_into(inside, mm, target)
        inside, mm = target, mm - 1
    out = _expand(nxt, m_next, sizes[1:])  # (H, 2N): [higher bits, bit * N + t]
    h = out.shape[0]
    return out.reshape(h, 2, n).reshape(2 * h, n)


def _standardize(cov: np.ndarray) -> np.ndarray:
    """Correlation matrices from covariance matrices (..., m, m).

    A variable with zero variance gets an all-zero row and column, so that it adds nothing
    to any model (its pivot fails the tolerance); callers reject a constant target.
    """
    sd = np.sqrt(np.clip(np.diagonal(cov, axis1=-2, axis2=-1), 0.0, None))
    sd = np.where(sd > 0, sd, np.inf)
    return cov / sd[..., :, None] / sd[..., None, :]


def subset_r2(cov: np.ndarray, players: Sequence[Sequence[int]]) -> np.ndarray:
    """R² of every subset of ``players`` from covariance matrices of (target, regressors).

    Parameters
    ----------
    cov : ndarray, shape (m, m) or (B, m, m)
        Covariance (or correlation) matrix with the target in row/column 0 and the
        regressors after it. A leading batch axis evaluates several matrices at once.
    players : sequence of sequences of int
        For each player, the column positions (1-based, within ``cov``) of its regressors.

    Returns
    -------
    ndarray, shape (2**p,) or (2**p, B)
        ``R²`` of the model with the players in the bitmask (subset axis first), as a share
        of the target's variance in ``cov``; index 0 (the empty model) is 0.
    """
    cov = np.asarray(cov, dtype=float)
    single = cov.ndim == 2
    if single:
        cov = cov[None]
    order = [c for pl in players for c in pl] + [0]
    mat = _standardize(cov[:, order][:, :, order])
    m = len(order)
    iu = np.triu_indices(m)
    packed = np.ascontiguousarray(mat[:, iu[0], iu[1]].T)  # (K, B)
    resid = _expand(packed, m, [len(pl) for pl in players])  # (2**p, B)
    r2 = 1.0 - resid
    r2[0] = 0.0
    return r2[:, 0] if single else r2


def popcount(p: int) -> np.ndarray:
    """Number of players in each subset, indexed by bitmask (uint8 array of length 2**p)."""
    pc = np.zeros(1, dtype=np.uint8)
    for _ in range(p):
        pc = np.concatenate([pc, pc + 1])
    return pc


def _split(r2: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Views of ``r2`` (2**p, ...) over subsets without and with player ``j``."""
    lo = 1 << j
    v = r2.reshape(-1, 2, lo, *r2.shape[1:])
    return v[:, 0], v[:, 1]


def _shapley_weights(p: int) -> np.ndarray:
    """``w(s) = s! (p - s - 1)! / p! = 1 / (p C(p-1, s))`` for s = 0..p-1."""
    return np.array([1.0 / (p * comb(p - 1, s)) for s in range(p)])


@lru_cache(maxsize=2)
def _shapley_coefficients(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Per subset S (by bitmask): ``w(|S|-1) + w(|S|)`` and ``w(|S|)`` (w = 0 out of range)."""
    pc = popcount(p)
    w = np.concatenate([[0.0], _shapley_weights(p), [0.0]])  # w[s + 1] = w(s)
    return w[pc] + w[pc + 1], w[pc + 1]


def _bit_sums(c: np.ndarray, p: int) -> np.ndarray:
    """``T_j = sum of c(S) over the subsets S that contain player j``: (B, 2**p) -> (p, B).

    Halving from the highest bit down: the subsets with bit j set are the upper half of each
    row over bits 0..j; adding the two halves then removes bit j. About 3 * 2**p additions
    per row instead of p * 2**p.
    """
    out = np.empty((p, c.shape[0]))
    for j in range(p - 1, -1, -1):
        half = 1 << j
        upper = c[:, half:]
        out[j] = upper.sum(axis=1)
        if j:
            c = c[:, :half] + upper
    return out


def shapley_values(r2: np.ndarray, p: int) -> np.ndarray:
    """Shapley value (LMG) of each player from subset R² (2**p, ...) -> (p, ...).

    ``LMG_j = sum_{S not containing j} w(|S|) [R²(S + j) - R²(S)]`` with
    ``w(s) = s! (p - s - 1)! / p!``.
    """
    if r2.ndim == 2:
        # batches (bootstrap): LMG_j = sum_{S with j} (w(|S|-1) + w(|S|)) R²(S)
        #                               - sum_{all S} w(|S|) R²(S)
        both, without = _shapley_coefficients(p)
        rows = np.ascontiguousarray(r2.T)  # one row of 2**p subsets per matrix
        # einsum's own loop rather than BLAS: a multi-threaded BLAS call stalls badly when
        # the machine's cores are already busy
        return _bit_sums(rows * both, p) - np.einsum("bs,s->b", rows, without)
    pc = popcount(p)
    w = np.concatenate([[0.0], _shapley_weights(p), [0.0]])  # w[s + 1] = w(s)
    shape = (-1,) + (1,) * (r2.ndim - 1)
    with_j = w[pc].reshape(shape) * r2  # coefficient when j is in S: w(|S| - 1)
    without_j = w[pc + 1].reshape(shape) * r2  # when j is not in S: w(|S|)
    out = np.empty((p, *r2.shape[1:]))
    for j in range(p):
        a_in = _split(with_j, j)[1]
        b_out = _split(without_j, j)[0]
        out[j] = a_in.sum(axis=(0, 1)) - b_out.sum(axis=(0, 1))
    return out


def conditional_contributions(r2: np.ndarray, p: int) -> np.ndarray:
    """Average increase in R² from adding each player to subsets of each size, (p, p).

    Row ``j``, column ``s``: mean of ``R²(S + j) - R²(S)`` over the ``C(p-1, s)`` subsets ``S``
    of the other players with ``|S| = s`` (Azen & Budescu 2003, conditional dominance).
    """
    pc = popcount(p)
    counts = np.array([comb(p - 1, s) for s in range(p)], dtype=float)
    out = np.empty((p, p))
    for j in range(p):
        r_out, r_in = _split(r2, j)
        sizes = _split(pc, j)[0].ravel()
        sums = np.bincount(sizes, weights=(r_in - r_out).ravel(), minlength=p)[:p]
        out[j] = sums / counts
    return out


def complete_dominance(r2: np.ndarray, p: int, *, tol: float = 1e-12) -> np.ndarray:
    """Complete dominance designations (Azen & Budescu 2003) as a (p, p) float array.

    Entry ``[i, j]`` is 1.0 if player ``i`` adds more R² than player ``j`` to *every* subset
    of the other players (including the empty one), 0.0 if ``j`` does so over ``i``, and NaN
    when neither holds (or on the diagonal). Differences within ``tol`` count as ties.
    """
    out = np.full((p, p), np.nan)
    for i in range(p):
        for j in range(i + 1, p):
            lo, hi = 1 << i, 1 << j
            v = r2.reshape(-1, 2, hi // (lo * 2), 2, lo)  # [.., bit j, .., bit i, ..]
            d = v[:, 0, :, 1, :] - v[:, 1, :, 0, :]  # R²(S + i) - R²(S + j)
            if np.all(d > tol):
                out[i, j], out[j, i] = 1.0, 0.0
            elif np.all(d < -tol):
                out[i, j], out[j, i] = 0.0, 1.0
    return out
