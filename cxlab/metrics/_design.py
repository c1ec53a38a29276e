"""Design-based inference for weighted survey data, defined as R's ``survey`` package does.

Every function treats the rows as a single-stage sample drawn with replacement with
probability proportional to 1/weight (``svydesign(ids = ~1, weights = ~w)``); variances are
Taylor linearisation (influence-function) variances with the ``n/(n-1)`` factor, intervals use
Student t with ``n - 1`` degrees of freedom (``degf`` of that design).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cxlab.metrics._common import as_list, check_choice, check_columns, check_level, group_positions

__all__ = ["ChiSquareResult", "adjust_pvalues", "design_ols", "rao_scott_test", "weighted_mean",
           "weighted_proportion"]


def _weights(data: pd.DataFrame, weight: str | None) -> np.ndarray:
    if weight is None:
        return np.ones(len(data))
    w = pd.to_numeric(data[weight], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"column {weight!r}: weights must be finite and non-negative, without missing values")
    return w


def _values(data: pd.DataFrame, column: str) -> np.ndarray:
    s = data[column]
    if s.dtype == bool:
        return s.to_numpy(dtype=float)
    v = pd.to_numeric(s.astype(object) if isinstance(s.dtype, pd.CategoricalDtype) else s, errors="coerce")
    bad = v.isna() & s.notna()
    if bad.any():
        raise ValueError(f"column {column!r}: value {s[bad].iloc[0]!r} is not a number")
    return v.to_numpy(dtype=float)


def _poststrata_correct(u: np.ndarray, codes: np.ndarray, w: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """Residualise influence values within post-strata (``survey:::svyrecvar``, Lumley 2010 §7.2)."""
    k = int(codes.max()) + 1
    safe = np.where((w == 0) & (w0 == 0), 1.0, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        num = np.bincount(codes, weights=u * w0 / safe, minlength=k)
        den = np.bincount(codes, weights=w0, minlength=k)
        means = np.where(den > 0, num / den, 0.0)
    return u - means[codes] * safe


def _wr_var(u: np.ndarray) -> float:
    """With-replacement variance of a total of influence values: n/(n-1) Σ (u - ū)²."""
    n = u.size
    if n < 2:
        return float("nan")
    d = u - u.mean()
    return float(n / (n - 1) * np.dot(d, d))


def weighted_mean(
    data: pd.DataFrame,
    *,
    column: str,
    weight: str | None = None,
    by: str | Sequence[str] | None = None,
    poststrata: str | Sequence[str] | None = None,
    base_weight: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Design-based weighted mean with its linearisation standard error (R ``svymean``).

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    column : str
        Numeric (or boolean) variable; rows where it is missing are dropped.
    weight : str, optional
        Survey weights (default 1).
    by : str or list of str, optional
        Domains: one estimate per group, with the variance of domain estimation (rows outside
        the group, or missing ``column``, contribute zero influence but still count in ``n``),
        as ``svyby(~x, ~g, design, svymean)`` and ``svymean(..., na.rm = TRUE)``.
    poststrata : str or list of str, optional
        Columns of the post-strata the weights were calibrated to (``weight`` being the
        post-stratified weights and ``base_weight`` the weights before); the variance then
        subtracts the post-stratum means of the influence values, as ``svymean`` on a
        ``postStratify``-ed design.
    base_weight : str, optional
        Weights before post-stratification (default 1); only with ``poststrata``.
    level : float
        Confidence level.

    Returns
    -------
    DataFrame
        ``[by...]``, ``n`` (rows), ``weighted_n`` (sum of weights), ``mean``, ``se``,
        ``ci_low``, ``ci_high`` (``mean ± t·se`` with ``len(data) - 1`` degrees of freedom, as
        ``confint(svymean(...), df = degf(design))``), ``deff`` (design effect against simple random sampling with replacement,
        ``svymean(..., deff = "replace")``) and ``n_eff`` (Kish).

    Notes
    -----
    With :math:`\\hat\\mu = \\sum w_i y_i/\\sum w_i` and influence values
    :math:`u_i = w_i (y_i - \\hat\\mu)/\\sum w` the variance is
    :math:`\\frac{n}{n-1}\\sum (u_i - \\bar u)^2` over all ``n = len(data)`` rows (Woodruff 1971; Lumley 2010, §2.3). The design
    effect divides it by :math:`s^2_w/n` with the weighted variance
    :math:`s^2_w = \\frac{n}{n-1}\\sum w_i (y_i-\\hat\\mu)^2/\\sum w_i` (``svyvar``).

    References
    ----------
    Woodruff, R. S. (1971). A simple method for approximating the variance of a complicated
    estimate. *JASA* 66, 411-414.
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "w": [1.0, 1.0, 2.0, 2.0]})
    >>> r = weighted_mean(df, column="x", weight="w").iloc[0]
    >>> round(float(r["mean"]), 4), round(float(r["se"]), 4)
    (2.8333, 0.5966)
    """
    by_cols = as_list(by)
    ps_cols = as_list(poststrata)
    if base_weight is not None and not ps_cols:
        raise ValueError("base_weight is only used with poststrata=")
    check_columns(data, [column, *by_cols, *ps_cols, *([weight] if weight else []),
                         *([base_weight] if base_weight else [])])
    check_level(level)
    y_all = _values(data, column)
    w_all = _weights(data, weight)
    w0_all = _weights(data, base_weight)
    ps_all = None
    if ps_cols:
        if data[ps_cols].isna().any().any():
            raise ValueError(f"poststrata columns {ps_cols} have missing values")
        ps_all = data.groupby(ps_cols, sort=True, observed=True).ngroup().to_numpy()
    big_n = len(data)
    t = float(stats.t.ppf(1 - (1 - level) / 2, df=big_n - 1)) if big_n > 1 else np.nan
    rows = []
    for key, pos in group_positions(data, by_cols):
        pos = pos[~np.isnan(y_all[pos])]
        y, w = y_all[pos], w_all[pos]
        n = y.size
        total = float(w.sum())
        rec = key | {"n": n, "weighted_n": total}
        if n == 0 or total <= 0:
            rows.append(rec | dict.fromkeys(["mean", "se", "ci_low", "ci_high", "deff", "n_eff"], np.nan))
            continue
        mu = float(np.dot(w, y) / total)
        u = np.zeros(big_n)
        u[pos] = w * (y - mu) / total
        if ps_all is not None:
            u = _poststrata_correct(u, ps_all, w_all, w0_all)
        var = _wr_var(u)
        se = math.sqrt(var) if np.isfinite(var) else np.nan
        if n > 1:
            s2 = n / (n - 1) * float(np.dot(w, (y - mu) ** 2)) / total
            deff = var / (s2 / n) if s2 > 0 else np.nan
        else:
            deff = np.nan
        n_eff = total**2 / float(np.dot(w, w))
        rows.append(rec | {"mean": mu, "se": se, "ci_low": mu - t * se, "ci_high": mu + t * se,
                           "deff": deff, "n_eff": n_eff})
    cols = [*by_cols, "n", "weighted_n", "mean", "se", "ci_low", "ci_high", "deff", "n_eff"]
    return pd.DataFrame(rows, columns=cols)


def weighted_proportion(
    data: pd.DataFrame,
    *,
    column: str,
    weight: str | None = None,
    by: str | Sequence[str] | None = None,
    ci: str = "logit",
    level: float = 0.95,
) -> pd.DataFrame:
    """Weighted proportion of a 0/1 variable with design-based SE and interval (R ``svyciprop``).

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    column : str
        0/1 or boolean indicator; missing rows dropped; other values raise ``ValueError``.
    weight, by, level
        As in :func:`weighted_mean`.
    ci : {"logit", "mean"}
        ``logit``: the Wald interval on the logit scale of ``svyciprop(method = "logit")``,
        :math:`\\mathrm{expit}(\\mathrm{logit}\\,\\hat p \\pm t_{n-1}\\,se/(\\hat p(1-\\hat p)))`
        (never of zero width inside (0, 1), never outside it); ``mean``: :math:`\\hat p \\pm
        t_{n-1} se` (``method = "mean"``).

    Returns
    -------
    DataFrame
        ``[by...]``, ``n``, ``weighted_n``, ``proportion``, ``se``, ``ci_low``, ``ci_high``,
        ``deff``, ``n_eff``.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys*, §2.3.1; R documentation of ``survey::svyciprop``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"top": [1, 0, 1, 1], "w": [1.0, 2.0, 1.0, 1.0]})
    >>> round(float(weighted_proportion(df, column="top", weight="w")["proportion"].iloc[0]), 2)
    0.6
    """
    check_choice("ci", ci, ("logit", "mean"))
    check_columns(data, [column])
    v = _values(data, column)
    ok = np.isnan(v) | (v == 0) | (v == 1)
    if not ok.all():
        raise ValueError(f"column {column!r}: value {v[~ok][0]:g} is not 0/1")
    out = weighted_mean(data, column=column, weight=weight, by=by, level=level)
    out = out.rename(columns={"mean": "proportion"})
    if ci == "logit":
        p, se = out["proportion"].to_numpy(), out["se"].to_numpy()
        t = stats.t.ppf(1 - (1 - level) / 2, df=max(len(data) - 1, 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = np.log(p / (1 - p))
            half = t * se / (p * (1 - p))
            lo = 1 / (1 + np.exp(-(eta - half)))
            hi = 1 / (1 + np.exp(-(eta + half)))
        out["ci_low"] = np.where(p == 0, 0.0, lo)
        out["ci_high"] = np.where(p == 1, 1.0, hi)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class ChiSquareResult:
    """Rao-Scott design-adjusted chi-square test of independence in a weighted two-way table.

    Attributes
    ----------
    statistic : float
        The F statistic: Pearson :math:`X^2` of the weighted table scaled to n, divided by the
        trace of the generalised design-effect matrix :math:`\\Delta`.
    df_num, df_den : float
        Degrees of freedom of the F reference distribution, :math:`d_0` and :math:`d_0 (n-1)`.
    pvalue : float
        Upper-tail probability.
    chisq : float
        Unadjusted Pearson :math:`X^2` of the weighted table scaled to total n.
    mean_deff : float
        Mean generalised design effect :math:`\\mathrm{tr}\\,\\Delta/((r-1)(c-1))`.
    method : str
        Description of the test.
    small_expected, min_expected : float
        Share of the cells whose expected count (from the *unweighted* counts' margins) is
        below 5, and the smallest expected count; NaN when not computed. Cochran's rule
        (:attr:`sparse`) uses them.
    """

    statistic: float
    df_num: float
    df_den: float
    pvalue: float
    chisq: float
    mean_deff: float
    method: str
    small_expected: float = float("nan")
    min_expected: float = float("nan")

    @property
    def sparse(self) -> bool:
        """Cochran's rule fails: more than 20 % of the expected counts are below 5 or one is
        below 1, so the chi-square (and F) reference distribution is not to be trusted."""
        return bool(self.small_expected > 0.2 or self.min_expected < 1)

    def to_frame(self) -> pd.DataFrame:
        """The result as a one-row DataFrame."""
        return pd.DataFrame([asdict(self)])

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                       for k, v in asdict(self).items())
        return f"<table class='cxlab-testresult'><caption>ChiSquareResult</caption>{rows}</table>"


def rao_scott_test(data: pd.DataFrame, *, row: str, col: str, weight: str | None = None) -> ChiSquareResult:
    """Rao-Scott second-order corrected chi-square test for a weighted crosstab (R ``svychisq``).

    Parameters
    ----------
    data : DataFrame
        One row per respondent; rows missing ``row`` or ``col`` are dropped.
    row, col : str
        The two categorical variables.
    weight : str, optional
        Survey weights (default 1).

    Returns
    -------
    ChiSquareResult
        F statistic, degrees of freedom, p-value, the unadjusted Pearson statistic and the mean
        generalised design effect.

    Notes
    -----
    With :math:`\\hat\\pi` the weighted cell shares, :math:`V` their linearisation covariance
    (as :func:`weighted_mean`), :math:`D=\\mathrm{diag}(\\hat\\pi)`, and :math:`C` a basis of
    the interaction contrasts orthogonal to the main effects, the generalised design effects
    are the eigenvalues of :math:`\\Delta = (C^T D^{-1} C/n)^{-1} C^T D^{-1} V D^{-1} C`.
    The statistic is :math:`F = X^2/\\mathrm{tr}\\,\\Delta` on :math:`d_0 =
    (\\mathrm{tr}\\Delta)^2/\\mathrm{tr}\\Delta^2` and :math:`d_0(n-1)` degrees of freedom
    (Rao & Scott 1984; Thomas & Rao 1987), the default ``statistic = "F"`` of ``svychisq``.
    With equal weights it is close to, but not equal to, Pearson's test.

    References
    ----------
    Rao, J. N. K. & Scott, A. J. (1984). On chi-squared tests for multiway contingency tables
    with cell proportions estimated from survey data. *Ann. Statist.* 12(1), 46-60.
    Thomas, D. R. & Rao, J. N. K. (1987). Small-sample comparisons of level and power for
    simple goodness-of-fit statistics under cluster sampling. *JASA* 82, 630-636.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"a": list("xxyyxxyy") * 5, "b": list("ppqqqppq") * 5})
    >>> res = rao_scott_test(df, row="a", col="b")
    >>> res.df_num > 0 and 0 <= res.pvalue <= 1
    True
    """
    check_columns(data, [row, col, *([weight] if weight else [])])
    keep = data[row].notna() & data[col].notna()
    d = data.loc[keep]
    w = _weights(d, weight)
    r_codes, r_levels = pd.factorize(d[row], sort=True)
    c_codes, c_levels = pd.factorize(d[col], sort=True)
    nr, nc = len(r_levels), len(c_levels)
    if nr < 2 or nc < 2:
        raise ValueError(f"rao_scott_test needs at least two levels in {row!r} and {col!r}")
    n = len(d)
    cell = r_codes + nr * c_codes  # rows vary fastest, as interaction(row, col) in R
    k = nr * nc
    total = float(w.sum())
    pi = np.bincount(cell, weights=w, minlength=k) / total
    # Influence values of the cell shares: u_ij = w_i (1[cell_i = j] - pi_j) / sum w.
    ind = np.zeros((n, k))
    ind[np.arange(n), cell] = 1.0
    u = (ind - pi) * (w / total)[:, None]
    uc = u - u.mean(axis=0)
    V = n / (n - 1) * (uc.T @ uc)
    rows_f, cols_f = np.arange(k) % nr, np.arange(k) // nr
    X1 = np.column_stack([np.ones(k)]
                         + [(rows_f == i).astype(float) for i in range(1, nr)]
                         + [(cols_f == j).astype(float) for j in range(1, nc)])
    X12 = np.column_stack([((rows_f == i) & (cols_f == j)).astype(float)
                           for j in range(1, nc) for i in range(1, nr)])
    Cmat = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
    inv_pi = np.where(pi == 0, 0.0, 1 / np.where(pi == 0, 1, pi))
    iD = np.diag(inv_pi)
    denom = Cmat.T @ (iD / n) @ Cmat
    numr = Cmat.T @ iD @ V @ iD @ Cmat
    delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(delta))
    d0 = tr**2 / float(np.trace(delta @ delta))
    table = (pi * n).reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chisq = float(np.nansum(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)))
    f = chisq / tr
    pvalue = float(stats.f.sf(f, d0, d0 * (n - 1)))
    return ChiSquareResult(statistic=f, df_num=d0, df_den=d0 * (n - 1), pvalue=pvalue, chisq=chisq,
                           mean_deff=tr / ((nr - 1) * (nc - 1)),
                           method="Pearson's X^2 with Rao-Scott second-order (F) adjustment")


def design_ols(
    data: pd.DataFrame,
    *,
    outcome: str,
    predictors: Sequence[str],
    weight: str | None = None,
) -> pd.DataFrame:
    """Weighted least squares with design-based (linearised) standard errors (R ``svyglm``).

    Parameters
    ----------
    data : DataFrame
        One row per respondent; rows missing the outcome, a predictor or the weight are dropped.
    outcome : str
        Numeric outcome (e.g. the overall rating).
    predictors : list of str
        Numeric predictors (e.g. attribute ratings); an intercept is added.
    weight : str, optional
        Survey weights (default 1).

    Returns
    -------
    DataFrame
        One row per term (``(Intercept)`` first): ``term``, ``coef``, ``se``, ``t``, ``pvalue``
        (Student t on ``df``), ``df`` (residual degrees of freedom ``n - p``, as ``svyglm``).

    Notes
    -----
    :math:`\\hat\\beta = (X^T W X)^{-1} X^T W y`; with score contributions
    :math:`s_i = w_i e_i x_i` and :math:`A = X^T W X`, the covariance is the sandwich
    :math:`A^{-1}\\,[\\frac{n}{n-1}\\sum (s_i-\\bar s)(s_i-\\bar s)^T]\\,A^{-1}` (Binder 1983),
    what ``svyglm(family = gaussian())`` reports for ``svydesign(ids = ~1, weights = ~w)``.

    References
    ----------
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
    surveys. *International Statistical Review* 51, 279-292.
    Lumley, T. (2010). *Complex Surveys*, chapter 5.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 2.5, 4.0, 5.5], "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    >>> design_ols(df, outcome="y", predictors=["x"])["coef"].round(2).tolist()
    [-0.3, 1.1]
    """
    predictors = list(predictors)
    check_columns(data, [outcome, *predictors, *([weight] if weight else [])])
    cols = [outcome, *predictors, *([weight] if weight else [])]
    d = data[cols].apply(pd.to_numeric, errors="coerce").dropna()
    n, p = len(d), len(predictors) + 1
    if n <= p:
        raise ValueError(f"design_ols needs more than {p} complete rows, got {n}")
    w = _weights(d, weight)
    X = np.column_stack([np.ones(n), d[predictors].to_numpy(dtype=float)])
    y = d[outcome].to_numpy(dtype=float)
    A = X.T @ (X * w[:, None])
    beta = np.linalg.solve(A, X.T @ (w * y))
    s = X * (w * (y - X @ beta))[:, None]
    sc = s - s.mean(axis=0)
    Ainv = np.linalg.inv(A)
    cov = Ainv @ (n / (n - 1) * (sc.T @ sc)) @ Ainv
    se = np.sqrt(np.diag(cov))
    t = beta / se
    df = n - p
    return pd.DataFrame({"term": ["(Intercept)", *predictors], "coef": beta, "se": se, "t": t,
                         "pvalue": 2 * stats.t.sf(np.abs(t), df), "df": df})


def adjust_pvalues(pvalues: Sequence[float] | np.ndarray | pd.Series, *, method: str = "fdr_bh") -> np.ndarray | pd.Series:
    """Adjust p-values for testing many hypotheses at once (many branches, segments, cells).

    Parameters
    ----------
    pvalues : array-like or Series
        Raw p-values; missing values stay missing and are not counted as tests.
    method : {"fdr_bh", "holm"}
        ``fdr_bh``: Benjamini-Hochberg step-up, controls the false discovery rate (the default
        for league tables and flags); ``holm``: Holm's step-down, controls the family-wise error
        rate.

    Returns
    -------
    ndarray or Series
        Adjusted p-values in the input order (a Series keeps its index); compare them with
        alpha. Equal to R's ``p.adjust(p, "BH")`` / ``p.adjust(p, "holm")``.

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57,
    289-300.
    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J.
    Statist.* 6, 65-70.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.20]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.2]
    """
    from statsmodels.stats.multitest import multipletests

    check_choice("method", method, ("fdr_bh", "holm"))
    is_series = isinstance(pvalues, pd.Series)
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1:
        raise ValueError("pvalues must be one-dimensional")
    finite = ~np.isnan(p)
    if ((p[finite] < 0) | (p[finite] > 1)).any():
        raise ValueError("p-values must lie in [0, 1]")
    out = np.full(p.shape, np.nan)
    if finite.any() and method == "fdr_bh":
        out[finite] = multipletests(p[finite], method="fdr_bh")[1]
    elif finite.any():
        # Holm's step-down adjustment, min(1, cummax((m - i) p_(i))). Not statsmodels'
        # multipletests(method="holm"), which runs gc.collect() on every call (~0.1 s in a
        # large process, too slow for a report adjusting hundreds of tables).
        q = p[finite]
        order = np.argsort(q, kind="stable")
        m = q.size
        adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * q[order]))
        res = np.empty(m)
        res[order] = adj
        out[finite] = res
    return pd.Series(out, index=pvalues.index, name=pvalues.name) if is_series else out
