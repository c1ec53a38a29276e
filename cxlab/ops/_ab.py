"""A/B tests of service scripts (seed 004: 通过A/B测试验证新规效果, 对比新旧话术的满意度差异)."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from cxlab.ops._common import need_columns

__all__ = ["ABResult", "ab_sample_size", "ab_test"]

_KINDS = ("proportion", "mean")


@dataclass(frozen=True, slots=True, kw_only=True)
class ABResult:
    """Treatment minus control, with a confidence interval and a two-sided p-value."""

    kind: str                  #: "proportion" or "mean"
    control: object            #: control variant label
    treatment: object          #: treatment variant label
    n_control: int
    n_treatment: int
    estimate_control: float    #: proportion (0-1) or mean of the control group
    estimate_treatment: float
    diff: float                #: estimate_treatment − estimate_control
    se: float                  #: unpooled standard error of diff (used for the CI)
    ci_low: float
    ci_high: float
    statistic: float           #: z (pooled SE) for proportions, Welch t for means
    df: float                  #: Welch–Satterthwaite df (NaN for the z-test)
    pvalue: float
    level: float
    method: str

    def to_frame(self) -> pd.DataFrame:
        """One-row DataFrame of all fields."""
        return pd.DataFrame([asdict(self)])

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def _success_mask(x: pd.Series, success) -> pd.Series:
    if success is None:
        vals = set(pd.unique(x.dropna()))
        if not vals <= {0, 1}:
            raise ValueError(
                f"a proportion metric must be 0/1 or boolean, got values such as {sorted(vals, key=str)[:5]}; "
                "pass success= (values or a function) to say what counts as a success"
            )
        return x.astype(float)
    if callable(success):
        return success(x).astype(float).where(x.notna())
    return x.isin(list(success)).astype(float).where(x.notna())


def ab_test(data: pd.DataFrame, *, variant: str, metric: str, kind: str = "proportion",
            control=None, success: Collection | Callable | None = None,
            level: float = 0.95) -> ABResult:
    """Compare a metric between two variants (A/B test).

    Parameters
    ----------
    data : DataFrame
        One row per unit (ticket, customer) with the ``variant`` and ``metric`` columns; rows
        with a missing metric are dropped.
    variant : str
        Column with exactly two variants (e.g. ``script_variant`` A/B).
    metric : str
        Outcome column: 0/1 or boolean for ``kind="proportion"`` (or any values plus
        ``success=``), numeric for ``kind="mean"``.
    kind : {"proportion", "mean"}
    control : optional
        The control variant; default the first in sort order (A).
    success : collection or callable, optional
        For proportions: the metric values that count as a success (e.g. ``{4, 5}`` for a
        top-2 rating) or a function returning a boolean Series.
    level : float
        Confidence level of the interval.

    Returns
    -------
    ABResult
        Proportions (fractions 0-1): pooled two-proportion z-test (no continuity correction)
        for the p-value, unpooled Wald interval for the difference. Means: Welch's t-test and
        its interval (unequal variances).

    References
    ----------
    Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., §2.2.3 and §3.1 (Wald interval
    and z-test for p1 − p2). Welch, B. L. (1947). Biometrika 34, 28-35.
    Both agree with statsmodels ``proportions_ztest``/``confint_proportions_2indep(method="wald")``
    and ``CompareMeans.ttest_ind(usevar="unequal")`` (see tests/test_ops.py).

    Examples
    --------
    >>> d = pd.DataFrame({"v": ["A"] * 100 + ["B"] * 100,
    ...                   "y": [1] * 60 + [0] * 40 + [1] * 75 + [0] * 25})
    >>> r = ab_test(d, variant="v", metric="y")
    >>> round(r.diff, 2), round(r.pvalue, 4)
    (0.15, 0.0235)
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    need_columns(data, [variant, metric], what="data")
    d = data[[variant, metric]].dropna()
    labels = sorted(pd.unique(d[variant]).tolist(), key=str)
    if len(labels) != 2:
        raise ValueError(f"{variant!r} must hold exactly two variants, found {labels}")
    if control is None:
        control = labels[0]
    if control not in labels:
        raise ValueError(f"control {control!r} is not a variant (variants: {labels})")
    treatment = labels[1] if labels[0] == control else labels[0]
    zq = stats.norm.ppf(0.5 + level / 2)
    if kind == "proportion":
        y = _success_mask(d[metric], success)
        x0, x1 = y[d[variant] == control].dropna(), y[d[variant] == treatment].dropna()
        n0, n1 = len(x0), len(x1)
        if min(n0, n1) == 0:
            raise ValueError("each variant needs at least one observation")
        p0, p1 = x0.mean(), x1.mean()
        diff = p1 - p0
        se = math.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
        pp = (x0.sum() + x1.sum()) / (n0 + n1)
        se0 = math.sqrt(pp * (1 - pp) * (1 / n0 + 1 / n1))
        z = diff / se0 if se0 > 0 else np.nan
        p = float(2 * stats.norm.sf(abs(z))) if se0 > 0 else np.nan
        return ABResult(kind=kind, control=control, treatment=treatment, n_control=n0,
                        n_treatment=n1, estimate_control=float(p0), estimate_treatment=float(p1),
                        diff=float(diff), se=se, ci_low=float(diff - zq * se),
                        ci_high=float(diff + zq * se),
                        statistic=float(z), df=np.nan, pvalue=p, level=level,
                        method="two-proportion z-test (pooled), Wald CI")
    y = pd.to_numeric(d[metric], errors="raise").astype(float)
    x0, x1 = y[d[variant] == control], y[d[variant] == treatment]
    n0, n1 = len(x0), len(x1)
    if min(n0, n1) < 2:
        raise ValueError("each variant needs at least two observations for a t-test")
    v0, v1 = x0.var(ddof=1) / n0, x1.var(ddof=1) / n1
    se = math.sqrt(v0 + v1)
    diff = x1.mean() - x0.mean()
    df = (v0 + v1) ** 2 / (v0**2 / (n0 - 1) + v1**2 / (n1 - 1)) if se > 0 else np.nan
    t = diff / se if se > 0 else np.nan
    p = float(2 * stats.t.sf(abs(t), df)) if se > 0 else np.nan
    tq = stats.t.ppf(0.5 + level / 2, df) if se > 0 else np.nan
    return ABResult(kind=kind, control=control, treatment=treatment, n_control=n0, n_treatment=n1,
                    estimate_control=float(x0.mean()), estimate_treatment=float(x1.mean()),
                    diff=float(diff), se=se, ci_low=float(diff - tq * se),
                    ci_high=float(diff + tq * se),
                    statistic=float(t), df=float(df), pvalue=p, level=level,
                    method="Welch t-test")


def ab_sample_size(baseline: float, mde: float, *, alpha: float = 0.05, power: float = 0.8,
                   ratio: float = 1.0, method: str = "pooled", sd: float | None = None,
                   exact: bool = False) -> float:
    """Sample size per group for a two-sided A/B test.

    Parameters
    ----------
    baseline : float
        Control proportion (0-1), e.g. 0.80 for an 80 % top-2 satisfaction.
    mde : float
        Minimum detectable effect, absolute (0.05 = five percentage points; the sign is ignored).
        With ``sd`` it is a difference in means.
    alpha, power : float
        Two-sided significance level and power.
    ratio : float
        n_treatment / n_control.
    method : {"pooled", "arcsine"}
        ``pooled``: the normal approximation with the pooled variance under H0 and the unpooled
        one under H1 (Fleiss, Levin & Paik 2003, eq. 4.14; R ``power.prop.test``). ``arcsine``:
        Cohen's effect size h = 2 asin√p1 − 2 asin√p0 (Cohen 1988, ch. 6; statsmodels
        ``NormalIndPower`` with ``proportion_effectsize``).
    sd : float, optional
        For a difference in means: the common standard deviation; then
        n = (z₁₋α/₂ + z₁₋β)² σ² (1 + 1/ratio) / mde².
    exact : bool
        Return the unrounded n instead of rounding up to whole units.

    Returns
    -------
    float
        n of the control group (the treatment group needs ``ratio`` times as many), rounded up
        unless ``exact``.

    Examples
    --------
    R: ``power.prop.test(p1 = .50, p2 = .75, power = .90)`` gives n = 76.7 (R documentation,
    ``?power.prop.test``):

    >>> round(ab_sample_size(0.50, 0.25, power=0.90, exact=True), 1)
    76.7
    >>> ab_sample_size(0.50, 0.25, power=0.90)
    77
    """
    if method not in ("pooled", "arcsine"):
        raise ValueError(f"method must be one of 'pooled', 'arcsine', got {method!r}")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must be in (0, 1)")
    if ratio <= 0:
        raise ValueError(f"ratio must be > 0, got {ratio!r}")
    if mde == 0:
        raise ValueError("mde must be non-zero")
    za = stats.norm.ppf(1 - alpha / 2)
    zb = stats.norm.ppf(power)
    if sd is not None:
        if sd <= 0:
            raise ValueError(f"sd must be > 0, got {sd!r}")
        n = (za + zb) ** 2 * sd**2 * (1 + 1 / ratio) / mde**2
    else:
        p0, p1 = baseline, baseline + mde
        if not (0 < p0 < 1 and 0 < p1 < 1):
            raise ValueError(f"baseline and baseline + mde must lie in (0, 1), got {p0!r}, {p1!r}")
        if method == "arcsine":
            h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0))
            n = ((za + zb) / h) ** 2 * (1 + 1 / ratio)
        else:
            pbar = (p0 + ratio * p1) / (1 + ratio)
            a = za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / ratio))
            b = zb * math.sqrt(p0 * (1 - p0) + p1 * (1 - p1) / ratio)
            n = (a + b) ** 2 / (p1 - p0) ** 2
    return float(n) if exact else int(math.ceil(n - 1e-9))
