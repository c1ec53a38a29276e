"""Exact relative importance: LMG (Shapley) over all 2^p − 1 driver subsets.

Baseline: what one would write by hand — refit a statsmodels OLS on every subset of drivers
and average the R² increments. Refitting 32,767 models takes minutes, so a random sample of
subsets is timed and the per-subset cost is extrapolated to 2^p − 1 (printed as such).
cxlab: ``cxlab.drivers.relative_importance(..., method="lmg")`` (all subset R² from one
correlation matrix). Also timed: 20 drivers (target < 5 s) and ``dominance`` for p drivers,
whose general dominance must equal LMG (same subset pass).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from bench._common import Check, interleaved, median

NAME = "lmg"


def make_data(n: int, p: int, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """``n`` respondents, ``p`` correlated 1–5 ratings and a 0–10 likelihood to recommend."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 1))
    x = 0.6 * latent + 0.8 * rng.normal(size=(n, p))
    ratings = np.clip(np.round(3 + x), 1, 5)
    w = rng.uniform(0.05, 0.5, size=p)
    y = np.clip(np.round(5 + ratings @ w - (3 * w.sum()) + rng.normal(scale=1.5, size=n)), 0, 10)
    drivers = [f"d{j + 1:02d}" for j in range(p)]
    df = pd.DataFrame(ratings, columns=drivers)
    df["ltr"] = y
    return df, drivers


def _naive_r2(y: np.ndarray, x: np.ndarray, subsets: list[tuple[int, ...]]) -> list[float]:
    import statsmodels.api as sm

    out = []
    for cols in subsets:
        design = sm.add_constant(x[:, list(cols)], has_constant="add")
        out.append(sm.OLS(y, design).fit().rsquared)
    return out


def run(quick: bool = False) -> list[Check]:
    from cxlab.drivers import dominance, relative_importance

    p, n, sample, repeats = (6, 200, 20, 3) if quick else (15, 2000, 300, 5)
    p_big = 8 if quick else 20
    df, drivers = make_data(n, p)
    y, x = df["ltr"].to_numpy(float), df[drivers].to_numpy(float)
    rng = np.random.default_rng(1)
    n_subsets = 2 ** p - 1
    codes = rng.choice(np.arange(1, n_subsets + 1), size=min(sample, n_subsets), replace=False)
    subsets = [tuple(j for j in range(p) if c >> j & 1) for c in codes]

    _naive_r2(y, x, subsets[:2])  # warm up: statsmodels' import is not part of the fit
    relative_importance(df, outcome="ltr", drivers=drivers, method="lmg")
    times = interleaved({
        "baseline": lambda: _naive_r2(y, x, subsets),
        "fast": lambda: relative_importance(df, outcome="ltr", drivers=drivers, method="lmg"),
    }, repeats)
    per_subset = [t / len(subsets) for t in times["baseline"]]
    base_full = [s * n_subsets for s in per_subset]
    fast = median(times["fast"])
    base = median(base_full)

    # correctness: the subsets timed give the same R² as cxlab's subset pass
    from cxlab.drivers._subsets import subset_r2

    cov = np.cov(np.column_stack([y, x]), rowvar=False)  # target first
    try:
        r2_all = subset_r2(cov, [[j + 1] for j in range(p)])
        ours = np.array([r2_all[c] for c in codes])
        theirs = np.array(_naive_r2(y, x, subsets[:20]))
        agree = f"max |ΔR²| vs statsmodels on 20 subsets = {np.max(np.abs(ours[:20] - theirs)):.1e}"
    except Exception as err:  # noqa: BLE001 - internal layout may change; report, don't fail
        agree = f"not checked ({type(err).__name__}: {err})"

    checks = [Check(
        bench=NAME, name=f"LMG, {p} drivers × {n:,} respondents",
        target="≥ 100×",
        baseline_label=(f"statsmodels OLS on every subset ({len(subsets)} random subsets timed, "
                        f"{median(per_subset) * 1e3:.2f} ms each × {n_subsets:,})"),
        baseline_s=base,
        fast_label="relative_importance(method='lmg')",
        fast_s=fast, ratio=base / fast, met=base / fast >= 100,
        runs={"baseline": base_full, "fast": times["fast"]},
        extra={"subset R² agreement": agree},
    )]

    # dominance: conditional/general/complete from the same subset R²; general == LMG
    dom_t = []
    for _ in range(max(1, repeats // 2)):
        t0 = time.perf_counter()
        dom = dominance(df, outcome="ltr", drivers=drivers)
        dom_t.append(time.perf_counter() - t0)
    lmg = relative_importance(df, outcome="ltr", drivers=drivers, method="lmg").table
    gen = dom.general
    try:
        gen_vals = (gen.set_index("driver")["importance"] if "driver" in getattr(gen, "columns", [])
                    else pd.Series(gen))
        diff = float(np.max(np.abs(gen_vals.reindex(drivers).to_numpy(float)
                                   - lmg.set_index("driver")["importance"].reindex(drivers).to_numpy(float))))
        same = f"max |general dominance − LMG| = {diff:.1e}"
    except Exception as err:  # noqa: BLE001
        same = f"not compared ({type(err).__name__})"
    dom_s = median(dom_t)
    checks.append(Check(
        bench=NAME, name=f"dominance, {p} drivers × {n:,} respondents",
        target="≥ 100× (vs the same naive subset refits)",
        baseline_label="statsmodels OLS on every subset (extrapolated, as above)",
        baseline_s=base, fast_label="dominance() — conditional, general, complete",
        fast_s=dom_s, ratio=base / dom_s, met=base / dom_s >= 100,
        runs={"fast": dom_t}, extra={"general dominance vs LMG": same},
    ))

    df20, drivers20 = make_data(n, p_big, seed=2)
    big_t = []
    for _ in range(3):
        t0 = time.perf_counter()
        relative_importance(df20, outcome="ltr", drivers=drivers20, method="lmg")
        big_t.append(time.perf_counter() - t0)
    big = median(big_t)
    checks.append(Check(
        bench=NAME, name=f"LMG, {p_big} drivers × {n:,} respondents ({2 ** p_big - 1:,} subsets)",
        target="< 5 s", fast_label="relative_importance(method='lmg')", fast_s=big,
        met=big < 5, runs={"fast": big_t},
    ))
    return checks
