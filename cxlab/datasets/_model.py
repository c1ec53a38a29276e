"""The latent model behind the sample survey responses, with its planted truth.

Every respondent gets 17 item latents ``z = m_cell + sqrt(rho) g + sqrt(1 - rho) e`` (one common
factor, equicorrelation ``rho``), verbal codes 1..5 by cutting ``z + perf_item``, and
``ltr* = a_cell + w'z + sqrt(1 - R2) eps`` so that within a period x branch cell ``ltr*`` is
N(mu_cell, 1) and ``w`` are the true standardised driver weights. ``mu_cell`` is solved from the
target population NPS of the cell, so the population NPS is known exactly.
"""

from __future__ import annotations

import math

import numpy as np

PERIODS = ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
PERIOD_START = {"2025Q4": "2025-10-01", "2026Q1": "2026-01-01", "2026Q2": "2026-04-01",
                "2026Q3": "2026-07-01"}
PERIOD_END = {"2025Q4": "2026-01-01", "2026Q1": "2026-04-01", "2026Q2": "2026-07-01",
              "2026Q3": "2026-10-01"}

# Responses per quarter at the default size (800 a quarter, 3,200 in all).
BRANCH_SIZE = {"SH01": 120, "GZ01": 150, "BJ01": 100, "SZ01": 90, "HZ01": 90, "NJ01": 80,
               "SU01": 60, "TJ01": 50, "JN01": 40, "XM01": 20}
DEFAULT_RESPONSES = 3200

# Target population NPS per branch and period (design, not drawn: identical for every seed).
NPS_TARGET = {
    "SH01": [45, 46, 47, 48], "HZ01": [41, 42, 43, 42], "NJ01": [31, 34, 37, 40],
    "SU01": [52, 51, 52, 53], "GZ01": [44, 46, 48, 16], "SZ01": [35, 34, 33, 33],
    "XM01": [30, 31, 30, 32], "BJ01": [40, 41, 42, 43], "TJ01": [37, 35, 34, 32],
    "JN01": [53, 54, 55, 55],
}
DROP = {"branch": "GZ01", "period": "2026Q3", "previous_period": "2026Q2",
        # item latent mean shifts that explain the drop (standardised units)
        "shift": {"svc_response": -0.9, "svc_resolution": -0.8, "svc_attitude": -0.5}}

# Raw (unscaled) driver weights; scaled so that R2 of ltr* on the item latents is R2_TARGET.
RAW_WEIGHTS = {
    "use_stability": 0.34, "svc_resolution": 0.26, "fit_expectation": 0.19, "svc_response": 0.13,
    "svc_attitude": 0.07, "use_comfort": 0.05, "func_1": 0.04, "svc_delivery": 0.03,
    "use_heat": 0.02, "func_3": 0.02, "look_package": 0.01, "use_switch": 0.01,
    "svc_presale": 0.01, "func_2": 0.0, "look_shape": 0.0, "look_color": 0.0, "look_logo": 0.0,
}
RHO = 0.30
R2_TARGET = 0.60
# Item performance offsets (latent units) so that IPA has quadrants.
PERF = {"look_shape": 0.45, "look_color": 0.50, "look_logo": 0.55, "look_package": 0.20,
        "use_comfort": 0.25, "use_stability": 0.05, "use_switch": 0.35, "use_heat": 0.10,
        "func_1": 0.15, "func_2": 0.30, "func_3": -0.05, "fit_expectation": -0.10,
        "svc_presale": 0.30, "svc_delivery": 0.20, "svc_attitude": 0.25, "svc_response": -0.30,
        "svc_resolution": -0.25}
ITEM_CUTS = np.array([-1.9, -1.1, -0.2, 0.75])          # codes 1..5
LTR_CUTS = np.array([-2.4, -2.15, -1.9, -1.65, -1.35, -1.0, -0.6, -0.1, 0.45, 1.15])  # 0..10
CSAT_CUTS = np.array([-2.3, -1.6, -0.65, 0.95])         # codes 1..5
CES_CUTS = np.array([-2.1, -1.5, -0.9, -0.2, 0.5, 1.35])  # codes 1..7

KANO_TRUE = {"App远程控制": "A", "语音控制": "I", "过热断电保护": "M", "三年延保": "O",
             "多种外壳颜色": "I"}
# Share of respondents whose individual answer pattern falls in each category, per feature.
KANO_MIX = {
    "App远程控制": {"A": 0.50, "O": 0.13, "M": 0.07, "I": 0.25, "R": 0.03, "Q": 0.02},
    "语音控制": {"A": 0.22, "O": 0.06, "M": 0.05, "I": 0.60, "R": 0.05, "Q": 0.02},
    "过热断电保护": {"A": 0.06, "O": 0.22, "M": 0.56, "I": 0.13, "R": 0.02, "Q": 0.01},
    "三年延保": {"A": 0.17, "O": 0.46, "M": 0.20, "I": 0.14, "R": 0.02, "Q": 0.01},
    "多种外壳颜色": {"A": 0.27, "O": 0.05, "M": 0.03, "I": 0.58, "R": 0.05, "Q": 0.02},
}
# (functional, dysfunctional) answer codes (1 喜欢 .. 5 不喜欢) and their weights per category,
# following the Kano evaluation table (Berger et al. 1993).
KANO_PATTERNS = {
    "A": [((1, 3), 0.5), ((1, 4), 0.3), ((1, 2), 0.2)],
    "O": [((1, 5), 1.0)],
    "M": [((2, 5), 0.45), ((3, 5), 0.35), ((4, 5), 0.20)],
    "I": [((3, 3), 0.45), ((3, 4), 0.2), ((2, 3), 0.1), ((4, 4), 0.1), ((2, 2), 0.05),
          ((3, 2), 0.05), ((4, 3), 0.05)],
    "R": [((5, 1), 0.5), ((4, 1), 0.2), ((5, 3), 0.3)],
    "Q": [((1, 1), 0.6), ((5, 5), 0.4)],
}
PRODUCTS = {"智能电暖器": ["HX-H200", "HX-H300", "HX-H500"], "智能热水器": ["HX-W60", "HX-W80"],
            "空气净化器": ["HX-A10", "HX-A20"]}
EXPERIENCE_CHANNELS = ["门店体验", "上门试用", "线上申领", "展会体验"]
CHANNEL_PROBS = [0.42, 0.35, 0.58, 0.14, 0.06]           # 官方网站, 实体店, 电商平台, 网红带货, 其他
OTHER_CHANNEL_TEXT = ["朋友推荐", "公司集采", "经销商", "单位团购", "直播间", "以旧换新活动"]


def _phi(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def nps_of_mu(mu: float) -> float:
    """Population NPS (points) when ltr* ~ N(mu, 1) is cut at LTR_CUTS."""
    promoters = 1.0 - _phi(LTR_CUTS[8] - mu)    # ltr >= 9
    detractors = _phi(LTR_CUTS[6] - mu)         # ltr <= 6
    return 100.0 * (promoters - detractors)


def mu_for_nps(target: float) -> float:
    lo, hi = -4.0, 4.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if nps_of_mu(mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def driver_weights(items: list[str]) -> tuple[np.ndarray, float]:
    """True standardised weights in codebook item order, and the R2 they imply."""
    raw = np.array([RAW_WEIGHTS[i] for i in items])
    var = float(raw @ raw + RHO * (raw.sum() ** 2 - raw @ raw))
    w = raw * math.sqrt(R2_TARGET / var)
    return w, R2_TARGET


def cell_sizes(total: int, branches: list[str]) -> dict[tuple[str, str], int]:
    """Responses per (period, branch) summing exactly to ``total`` (largest remainder)."""
    base = np.array([BRANCH_SIZE.get(b, 60) for b in branches], dtype=float)
    keys = [(p, b) for p in PERIODS for b in branches]
    share = np.tile(base / base.sum(), len(PERIODS)) / len(PERIODS)
    exact = share * total
    n = np.floor(exact).astype(int)
    rest = total - n.sum()
    order = np.lexsort((np.arange(len(keys)), -(exact - n)))
    n[order[:rest]] += 1
    return dict(zip(keys, n.tolist(), strict=False))


def _cut(x: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    return np.searchsorted(cuts, x, side="right")


def simulate(rng: np.random.Generator, *, sizes: dict[tuple[str, str], int],
             items: list[str], kano_features: list[str]) -> dict:
    """Draw every response of the latent model; returns column arrays plus the truth parts."""
    keys = list(sizes)
    counts = np.array([sizes[k] for k in keys])
    n = int(counts.sum())
    cell = np.repeat(np.arange(len(keys)), counts)
    period = np.array([k[0] for k in keys])[cell]
    branch = np.array([k[1] for k in keys])[cell]

    w, r2 = driver_weights(items)
    p = len(items)
    m = np.zeros((len(keys), p))
    mu = np.zeros(len(keys))
    nps_pop: dict[str, dict[str, float]] = {pp: {} for pp in PERIODS}
    for c, (pp, b) in enumerate(keys):
        target = float(NPS_TARGET.get(b, [40] * 4)[PERIODS.index(pp)])
        mu[c] = mu_for_nps(target)
        nps_pop[pp][b] = target
        if (b, pp) == (DROP["branch"], DROP["period"]):
            for item, s in DROP["shift"].items():
                m[c, items.index(item)] = s
    a = mu - m @ w                                 # so that E[ltr*] = mu within the cell

    g = rng.standard_normal(n)
    z = m[cell] + math.sqrt(RHO) * g[:, None] + math.sqrt(1 - RHO) * rng.standard_normal((n, p))
    ltr_star = a[cell] + z @ w + math.sqrt(1 - r2) * rng.standard_normal(n)
    perf = np.array([PERF[i] for i in items])
    codes = 1 + _cut(z + perf, ITEM_CUTS)          # verbal codes 1..5
    ltr = _cut(ltr_star, LTR_CUTS)                 # 0..10
    csat = 1 + _cut(0.75 * ltr_star + math.sqrt(1 - 0.75 ** 2) * rng.standard_normal(n) + 0.0,
                    CSAT_CUTS)
    ces = 1 + _cut(0.6 * ltr_star + 0.8 * rng.standard_normal(n), CES_CUTS)

    # Kano answers: category per respondent and feature, then an answer pattern.
    kano_f = np.zeros((n, len(kano_features)), dtype=int)
    kano_d = np.zeros((n, len(kano_features)), dtype=int)
    for j, feat in enumerate(kano_features):
        mix = KANO_MIX.get(feat, {"I": 1.0})
        cats = list(mix)
        cat = rng.choice(len(cats), size=n, p=np.array(list(mix.values())) / sum(mix.values()))
        u = rng.random(n)
        for ci, cname in enumerate(cats):
            rows = np.flatnonzero(cat == ci)
            pats = KANO_PATTERNS[cname]
            pw = np.cumsum([wt for _, wt in pats])
            k = np.minimum(np.searchsorted(pw / pw[-1], u[rows], side="right"), len(pats) - 1)
            arr = np.array([pt for pt, _ in pats])
            kano_f[rows, j] = arr[k, 0]
            kano_d[rows, j] = arr[k, 1]

    # Price bands: direct estimate around 500~700元; expected value lower (a planted gap).
    fit = z[:, items.index("fit_expectation")]
    price_direct = np.clip(np.rint(3.0 + 0.35 * fit + 0.9 * rng.standard_normal(n)), 1, 5)
    gap = rng.choice(np.array([-1, 0, 1, 2]), size=n, p=[0.10, 0.45, 0.35, 0.10])
    price_expected = np.clip(price_direct - gap, 1, 5)

    # Purchase channel (multi-select, at least one option).
    chan = rng.random((n, 5)) < np.array(CHANNEL_PROBS)
    none = ~chan.any(axis=1)
    chan[none, 2] = True
    other_text = np.array(OTHER_CHANNEL_TEXT)[rng.integers(0, len(OTHER_CHANNEL_TEXT), n)]

    prod_names = list(PRODUCTS)
    prod = rng.choice(len(prod_names), size=n, p=[0.5, 0.3, 0.2])
    k = rng.integers(0, 6, n)
    product = np.array(prod_names)[prod]
    model = np.array([PRODUCTS[prod_names[i]][j % len(PRODUCTS[prod_names[i]])]
                      for i, j in zip(prod.tolist(), k.tolist(), strict=False)])
    exp_channel = np.array(EXPERIENCE_CHANNELS)[rng.choice(4, size=n, p=[0.4, 0.25, 0.25, 0.1])]

    # Skipped items (never ltr): 0 marks a skip.
    skip = rng.random((n, p)) < 0.015
    codes = np.where(skip, 0, codes)
    csat = np.where(rng.random(n) < 0.01, 0, csat)
    ces = np.where(rng.random(n) < 0.01, 0, ces)
    kskip = rng.random((n, len(kano_features))) < 0.01
    kano_f = np.where(kskip, 0, kano_f)
    kano_d = np.where(kskip, 0, kano_d)
    price_direct = np.where(rng.random(n) < 0.01, 0, price_direct).astype(int)
    price_expected = np.where(price_direct == 0, 0, price_expected).astype(int)

    return {
        "n": n, "period": period, "branch": branch, "codes": codes, "ltr": ltr,
        "ltr_star": ltr_star, "csat": csat, "ces": ces, "kano_f": kano_f, "kano_d": kano_d,
        "price_direct": price_direct, "price_expected": price_expected, "channel": chan,
        "other_text": other_text, "product": product, "product_model": model,
        "experience_channel": exp_channel,
        "truth": {"nps_population": nps_pop, "weights": dict(zip(items, w.tolist(), strict=False)), "r2": r2},
    }
