"""Raking: weights for 1M respondents to three population margins (branch × value tier × channel).

The data set is synthetic (numpy): 10 branches of uneven size, three value tiers and four
channels, over-represented the way CX samples are (big branches and high tiers answer more);
the margins are population shares.

- baseline: a plain pandas IPF loop — each sweep, per margin,
  ``w *= df[col].map(target) / w.groupby(df[col]).transform("sum")`` — stopping with the same
  rule as cxlab (largest adjustment factor within 1e-10 of 1);
- also shown (when installed): the ``ipfn`` package (``ipfn.ipfn`` on the DataFrame, weight
  column ``w``; convergence_rate 1e-10);
- cxlab: ``cxlab.weighting.rake`` (integer codes per margin, one ``bincount`` and one gather per
  margin and sweep), conversion of the text columns to codes included.
The weights of all three are compared (largest relative difference; target ≤ 1e-9).
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings

import numpy as np
import pandas as pd

from bench._common import Check, interleaved, median

NAME = "raking"
BRANCHES = ("SH01", "HZ01", "NJ01", "SU01", "GZ01", "SZ01", "XM01", "BJ01", "TJ01", "JN01")
TIERS = ("高价值", "中价值", "普通")
CHANNELS = ("微信", "短信", "邮件", "APP推送")
TOL = 1e-10


def make_data(rows: int, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    sample_branch = np.linspace(2.0, 0.2, len(BRANCHES))
    df = pd.DataFrame({
        "branch": np.array(BRANCHES)[rng.choice(len(BRANCHES), rows, p=sample_branch / sample_branch.sum())],
        "tier": np.array(TIERS)[rng.choice(3, rows, p=[0.35, 0.40, 0.25])],
        "channel": np.array(CHANNELS)[rng.choice(4, rows, p=[0.5, 0.2, 0.1, 0.2])],
    })
    pop_branch = np.linspace(1.0, 0.6, len(BRANCHES))
    margins = {
        "branch": dict(zip(BRANCHES, pop_branch / pop_branch.sum(), strict=True)),
        "tier": dict(zip(TIERS, (0.15, 0.35, 0.50), strict=True)),
        "channel": dict(zip(CHANNELS, (0.4, 0.3, 0.15, 0.15), strict=True)),
    }
    return df, margins


def pandas_ipf(df: pd.DataFrame, margins: dict, tol: float = TOL, max_iter: int = 100) -> np.ndarray:
    """The loop an analyst writes: groupby/transform per margin and sweep."""
    n = len(df)
    w = pd.Series(np.ones(n), index=df.index)
    for _ in range(max_iter):
        worst = 0.0
        for col, spec in margins.items():
            target = df[col].map({k: v * n for k, v in spec.items()})
            factor = target / w.groupby(df[col]).transform("sum")
            worst = max(worst, float((factor - 1).abs().max()))
            w = w * factor
        if worst <= tol:
            break
    return w.to_numpy()


def _ipfn_module():
    """The optional ``ipfn`` package (dev extra), or None: the benchmark runs without it."""
    if importlib.util.find_spec("ipfn") is None:
        return None
    return importlib.import_module("ipfn.ipfn")


def ipfn_weights(df: pd.DataFrame, margins: dict) -> np.ndarray:
    ipfn = _ipfn_module()

    n = len(df)
    frame = df.assign(w=1.0)
    aggregates = [pd.Series({k: v * n for k, v in spec.items()}).rename_axis(col)
                  for col, spec in margins.items()]
    dims = [[col] for col in margins]
    with warnings.catch_warnings():  # ipfn 1.4 uses pandas' deprecated inplace= keywords
        warnings.simplefilter("ignore")
        out = ipfn.ipfn(frame, aggregates, dims, weight_col="w", convergence_rate=TOL,
                        max_iteration=100, rate_tolerance=0.0).iteration()
    return out["w"].to_numpy()


def cxlab_weights(df: pd.DataFrame, margins: dict) -> np.ndarray:
    from cxlab.weighting import rake

    return rake(df, margins, tol=TOL).weights.to_numpy()


def _maxrel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


def run(quick: bool = False) -> list[Check]:
    rows = 20_000 if quick else 1_000_000
    repeats = 1 if quick else 3
    df, margins = make_data(rows)
    fast = cxlab_weights(df, margins)
    base = pandas_ipf(df, margins)
    funcs = {"baseline": lambda: pandas_ipf(df, margins), "fast": lambda: cxlab_weights(df, margins)}
    have_ipfn = _ipfn_module() is not None
    extra: dict[str, object] = {
        "rows × margins": f"{rows:,} × 3 (10 branches, 3 tiers, 4 channels)",
        "max relative difference vs pandas loop": f"{_maxrel(fast, base):.2e}",
        "weights identical to 1e-9 (pandas loop)": _maxrel(fast, base) <= 1e-9,
    }
    if have_ipfn:
        ref = ipfn_weights(df, margins)
        extra["max relative difference vs ipfn"] = f"{_maxrel(fast, ref):.2e}"
        extra["weights identical to 1e-9 (ipfn)"] = _maxrel(fast, ref) <= 1e-9
        funcs["ipfn"] = lambda: ipfn_weights(df, margins)
    else:
        extra["ipfn"] = "not installed (pip install ipfn)"
    times = interleaved(funcs, repeats)
    b, f = median(times["baseline"]), median(times["fast"])
    identical = all(v for k, v in extra.items() if k.startswith("weights identical"))
    checks = [Check(
        bench=NAME, name=f"rake {rows:,} rows to three margins vs a pandas IPF loop",
        target="≥ 5× faster, weights identical to 1e-9",
        baseline_label="pandas groupby/transform loop", baseline_s=b,
        fast_label="cxlab.weighting.rake", fast_s=f, ratio=b / f,
        met=(b / f >= 5) and identical,
        runs={"baseline": times["baseline"], "fast": times["fast"]}, extra=extra,
    )]
    if have_ipfn:
        i = median(times["ipfn"])
        checks.append(Check(
            bench=NAME, name=f"rake {rows:,} rows to three margins vs the ipfn package",
            target="≥ 5× faster, weights identical to 1e-9",
            baseline_label="ipfn.ipfn (DataFrame)", baseline_s=i,
            fast_label="cxlab.weighting.rake", fast_s=f, ratio=i / f,
            met=(i / f >= 5) and identical,
            runs={"baseline": times["ipfn"], "fast": times["fast"]},
        ))
    return checks
