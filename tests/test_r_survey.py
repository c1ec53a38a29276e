"""Live cross-checks of cxlab's weighting and design-based inference against R's ``survey``.

Each test writes the same seeded data to a CSV, runs an R script through ``Rscript`` (Debian
``r-base-core`` and ``r-cran-survey``, installed by ``scripts/system-deps.sh``) and compares
the numbers R prints (``sprintf("%.15g")``) with cxlab's, to 1e-6 relative. R's survey package
(Lumley) is the canonical implementation these definitions follow.

Without ``Rscript`` the tests skip on a developer's machine; under ``CI=true`` they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxlab.metrics import (
    adjust_pvalues,
    design_ols,
    nps,
    rao_scott_test,
    two_proportion_test,
    weighted_mean,
    weighted_proportion,
)
from cxlab.weighting import poststratify, rake, trim

RSCRIPT = shutil.which("Rscript")
_IN_CI = os.environ.get("CI", "").lower() == "true"
RTOL = 1e-6


def _require_r() -> str:
    if RSCRIPT is None:
        if _IN_CI:
            pytest.fail("Rscript is not installed but CI=true: install r-base-core and "
                        "r-cran-survey (scripts/system-deps.sh)")
        pytest.skip("Rscript not found (apt-get install r-base-core r-cran-survey); R cross-checks skipped")
    return RSCRIPT


def run_r(tmp_path: Path, frame: pd.DataFrame, body: str) -> dict[str, np.ndarray]:
    """Run ``body`` in R with ``d`` = the frame (read from CSV) and parse ``out(name, values)`` lines."""
    rscript = _require_r()
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    script = tmp_path / "check.R"
    script.write_text(
        "suppressPackageStartupMessages(library(survey))\n"
        "options(survey.lonely.psu = 'fail')\n"
        f"d <- read.csv('{csv.as_posix()}', stringsAsFactors = FALSE)\n"
        "out <- function(name, x) cat(name, sprintf('%.15g', as.numeric(x)), '\\n')\n"
        + body,
        encoding="utf-8",
    )
    proc = subprocess.run([rscript, "--vanilla", str(script)], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"R failed:\n{proc.stderr}")
    values: dict[str, np.ndarray] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts:
            values[parts[0]] = np.array([float(x) for x in parts[1:]])
    return values


def close(actual, expected, rtol=RTOL, atol=1e-12):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=rtol, atol=atol)


@pytest.fixture
def survey_data() -> pd.DataFrame:
    rng = np.random.default_rng(20261204)
    n = 600
    branch = rng.choice(["A", "B", "C", "D"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    tier = rng.choice(["hi", "mid", "lo"], size=n, p=[0.2, 0.3, 0.5])
    channel = rng.choice(["app", "web", "store"], size=n, p=[0.5, 0.3, 0.2])
    shift = np.select([tier == "hi", tier == "mid"], [1.5, 0.5], 0.0)
    ltr = np.clip(np.round(rng.normal(7 + shift, 2.2)), 0, 10)
    csat = np.clip(np.round(rng.normal(3.6 + 0.3 * shift, 1.0)), 1, 5)
    csat[rng.random(n) < 0.05] = np.nan
    x1, x2, x3 = (np.clip(np.round(rng.normal(3.5, 1.0, n)), 1, 5) for _ in range(3))
    overall = 0.8 + 0.5 * x1 + 0.3 * x2 + 0.1 * x3 + rng.normal(0, 0.7, n)
    base = rng.lognormal(0.0, 0.4, n)
    return pd.DataFrame({
        "branch": branch, "tier": tier, "channel": channel, "ltr": ltr, "csat": csat,
        "x1": x1, "x2": x2, "x3": x3, "overall": overall, "bw": base,
        "npsc": np.where(ltr >= 9, 1.0, np.where(ltr >= 7, 0.0, -1.0)),
        "top2": np.where(np.isnan(csat), np.nan, (csat >= 4).astype(float)),
    })


def test_svymean_weighted_mean_se_deff_and_domains(tmp_path, survey_data):
    r = run_r(tmp_path, survey_data, """
des <- svydesign(ids = ~1, weights = ~bw, data = d)
m <- svymean(~overall, des, deff = "replace")
out("mean", coef(m)); out("se", SE(m)); out("deff", deff(m))
out("ci", confint(m, df = degf(des)))
mc <- svymean(~csat, des, na.rm = TRUE, deff = "replace")
out("csat", c(coef(mc), SE(mc), deff(mc)))
b <- svyby(~overall, ~branch, des, svymean, deff = "replace")
out("by_mean", coef(b)); out("by_se", SE(b)); out("by_deff", b[, ncol(b)])
bc <- svyby(~csat, ~tier, des, svymean, na.rm = TRUE, deff = "replace")
out("byc", c(coef(bc), SE(bc), bc[, ncol(bc)]))
""")
    res = weighted_mean(survey_data, column="overall", weight="bw").iloc[0]
    close(res["mean"], r["mean"])  # svymean(~overall, des)
    close(res["se"], r["se"])
    close(res["deff"], r["deff"])  # svymean(..., deff = "replace")
    close([res["ci_low"], res["ci_high"]], r["ci"])  # confint(m, df = degf(des))
    c = weighted_mean(survey_data, column="csat", weight="bw").iloc[0]
    close([c["mean"], c["se"], c["deff"]], r["csat"])  # svymean(~csat, des, na.rm = TRUE)
    by = weighted_mean(survey_data, column="overall", weight="bw", by="branch")
    close(by["mean"], r["by_mean"])  # svyby(~overall, ~branch, des, svymean), sorted A..D
    close(by["se"], r["by_se"])
    close(by["deff"], r["by_deff"])
    bc = weighted_mean(survey_data, column="csat", weight="bw", by="tier")  # hi, lo, mid
    close(np.r_[bc["mean"], bc["se"], bc["deff"]], r["byc"])  # svyby(..., na.rm = TRUE)


def test_svyciprop_logit_and_mean(tmp_path, survey_data):
    r = run_r(tmp_path, survey_data, """
des <- svydesign(ids = ~1, weights = ~bw, data = d)
p <- svyciprop(~I(top2 == 1), des, method = "logit", na.rm = TRUE)
out("logit", c(coef(p), SE(p), attr(p, "ci")))
q <- svyciprop(~I(top2 == 1), des, method = "mean", na.rm = TRUE)
out("mean", c(coef(q), SE(q), attr(q, "ci")))
""")
    lg = weighted_proportion(survey_data, column="top2", weight="bw", ci="logit").iloc[0]
    close(lg[["proportion", "se", "ci_low", "ci_high"]], r["logit"])
    mn = weighted_proportion(survey_data, column="top2", weight="bw", ci="mean").iloc[0]
    close(mn[["proportion", "se", "ci_low", "ci_high"]], r["mean"])


def test_nps_is_svymean_of_minus_one_zero_one(tmp_path, survey_data):
    r = run_r(tmp_path, survey_data, """
d$npsc <- ifelse(d$ltr >= 9, 1, ifelse(d$ltr >= 7, 0, -1))
des <- svydesign(ids = ~1, weights = ~bw, data = d)
m <- svymean(~npsc, des)
out("nps", c(coef(m), SE(m)))
""")
    res = nps(survey_data, score="ltr", weight="bw", ci="wald").iloc[0]
    close(res["nps"] / 100, r["nps"][0])
    close(res["se"] / 100, r["nps"][1])  # one convention (n/(n-1)): svymean's SE directly
    wm = weighted_mean(survey_data, column="npsc", weight="bw").iloc[0]
    close([wm["mean"], wm["se"]], r["nps"])


def _margins_r() -> str:
    return """
pop.branch <- data.frame(branch = c("A", "B", "C", "D"), Freq = c(3000, 3000, 2500, 1500))
pop.tier <- data.frame(tier = c("hi", "mid", "lo"), Freq = c(2000, 3000, 5000))
pop.channel <- data.frame(channel = c("app", "web", "store"), Freq = c(4000, 4000, 2000))
"""


MARGINS = {
    "branch": {"A": 3000, "B": 3000, "C": 2500, "D": 1500},
    "tier": {"hi": 2000, "mid": 3000, "lo": 5000},
    "channel": {"app": 4000, "web": 4000, "store": 2000},
}


@pytest.mark.parametrize("base", [None, "bw"])
def test_rake_weights_equal_survey_rake(tmp_path, survey_data, base):
    weights = "~bw" if base else "~1"
    design = f"svydesign(ids = ~1, weights = {weights}, data = d)" if base else \
        "svydesign(ids = ~1, probs = rep(1, nrow(d)), data = d)"
    r = run_r(tmp_path, survey_data, _margins_r() + f"""
des <- {design}
rk <- rake(des, list(~branch, ~tier, ~channel), list(pop.branch, pop.tier, pop.channel),
           control = list(maxit = 1000, epsilon = 1e-13, verbose = FALSE))
out("w", weights(rk))
m <- svymean(~overall, rk, deff = "replace")
out("mean", coef(m))
""")
    res = rake(survey_data, MARGINS, base_weight=base, tol=1e-14, max_iter=1000)
    assert res.converged
    close(res.weights.to_numpy(), r["w"], rtol=1e-9)  # survey::rake
    close(res.total, 10000, rtol=1e-12)
    est = weighted_mean(survey_data.assign(w=res.weights), column="overall", weight="w").iloc[0]
    close(est["mean"], r["mean"])


def test_rake_shares_equal_totals_scaled(survey_data):
    shares = {k: {lv: v / 10000 for lv, v in m.items()} for k, m in MARGINS.items()}
    a = rake(survey_data, shares, tol=1e-14, max_iter=1000)
    b = rake(survey_data, MARGINS, tol=1e-14, max_iter=1000)
    close(a.weights * 10000 / len(survey_data), b.weights, rtol=1e-10)
    close(a.weights.mean(), 1.0, rtol=1e-12)


def test_poststratify_weights_and_se_equal_survey(tmp_path, survey_data):
    cells_r = []
    cells = {}
    rng = np.random.default_rng(7)
    for b in "ABCD":
        for t in ("hi", "mid", "lo"):
            cells[(b, t)] = float(rng.integers(300, 1500))
            cells_r.append(f'data.frame(branch="{b}", tier="{t}", Freq={cells[(b, t)]:.0f})')
    r = run_r(tmp_path, survey_data, f"""
pop <- do.call(rbind, list({", ".join(cells_r)}))
des <- svydesign(ids = ~1, weights = ~bw, data = d)
ps <- postStratify(des, ~branch + tier, pop)
out("w", weights(ps))
m <- svymean(~overall, ps)
out("mean", c(coef(m), SE(m)))
mc <- svymean(~csat, ps, na.rm = TRUE)
out("csat", c(coef(mc), SE(mc)))
b <- svyby(~overall, ~channel, ps, svymean)
out("by", c(coef(b), SE(b)))
""")
    res = poststratify(survey_data, cells, by=["branch", "tier"], base_weight="bw")
    close(res.weights.to_numpy(), r["w"], rtol=1e-9)  # postStratify(des, ~branch + tier, pop)
    d = survey_data.assign(w=res.weights)
    kw = dict(weight="w", poststrata=["branch", "tier"], base_weight="bw")
    m = weighted_mean(d, column="overall", **kw).iloc[0]
    close([m["mean"], m["se"]], r["mean"])  # svymean on the post-stratified design
    c = weighted_mean(d, column="csat", **kw).iloc[0]
    close([c["mean"], c["se"]], r["csat"])
    by = weighted_mean(d, column="overall", by="channel", **kw)
    close(np.r_[by["mean"], by["se"]], r["by"])  # svyby(~overall, ~channel, ps, svymean), sorted


def test_trim_equals_survey_trimweights(tmp_path, survey_data):
    r = run_r(tmp_path, survey_data, """
des <- svydesign(ids = ~1, weights = ~bw, data = d)
out("w", weights(trimWeights(des, upper = 2.2, lower = 0.5, strict = TRUE)))
out("w1", weights(trimWeights(des, upper = 2.2, lower = 0.5, strict = FALSE)))
""")
    close(trim(survey_data["bw"], lower=0.5, upper=2.2).to_numpy(), r["w"], rtol=1e-9)
    close(trim(survey_data["bw"], lower=0.5, upper=2.2, strict=False).to_numpy(), r["w1"], rtol=1e-9)


@pytest.mark.parametrize("cols", [("branch", "tier"), ("tier", "channel")])
def test_rao_scott_equals_svychisq(tmp_path, survey_data, cols):
    row, col = cols
    r = run_r(tmp_path, survey_data, f"""
des <- svydesign(ids = ~1, weights = ~bw, data = d)
x <- svychisq(~{row} + {col}, des)
out("f", c(x$statistic, x$parameter, x$p.value))
""")
    res = rao_scott_test(survey_data, row=row, col=col, weight="bw")
    close([res.statistic, res.df_num, res.df_den, res.pvalue], r["f"])  # svychisq(statistic = "F")


def test_design_ols_equals_svyglm(tmp_path, survey_data):
    r = run_r(tmp_path, survey_data, """
des <- svydesign(ids = ~1, weights = ~bw, data = d)
g <- svyglm(overall ~ x1 + x2 + x3, des)
s <- summary(g)$coefficients
out("coef", s[, 1]); out("se", s[, 2]); out("p", s[, 4])
""")
    res = design_ols(survey_data, outcome="overall", predictors=["x1", "x2", "x3"], weight="bw")
    close(res["coef"], r["coef"])
    close(res["se"], r["se"])
    close(res["pvalue"], r["p"])


def test_two_proportion_test_equals_prop_test(tmp_path, survey_data):
    r = run_r(tmp_path, survey_data, """
x <- prop.test(c(94, 39), c(214, 128), correct = FALSE)
out("pt", c(x$statistic, x$p.value, x$conf.int))
y <- prop.test(c(412, 371), c(700, 690), correct = FALSE, conf.level = 0.9)
out("pt2", c(y$statistic, y$p.value, y$conf.int))
""")
    a = two_proportion_test(94, 214, 39, 128)
    close([a.statistic**2, a.pvalue, a.ci_low, a.ci_high], r["pt"])
    b = two_proportion_test(412, 700, 371, 690, level=0.9)
    close([b.statistic**2, b.pvalue, b.ci_low, b.ci_high], r["pt2"])


def test_adjust_pvalues_equals_p_adjust(tmp_path, survey_data):
    p = np.random.default_rng(3).uniform(0, 0.2, 25) ** 2
    frame = pd.DataFrame({"p": p})
    r = run_r(tmp_path, frame, """
out("bh", p.adjust(d$p, "BH")); out("holm", p.adjust(d$p, "holm"))
""")
    close(adjust_pvalues(p), r["bh"])
    close(adjust_pvalues(p, method="holm"), r["holm"])


@pytest.mark.parametrize("weighted", [True, False])
def test_nps_csat_ces_variance_convention_is_svymean(tmp_path, survey_data, weighted):
    # The one convention stated in the nps/csat/ces docstrings (issue 22): n/(n-1) everywhere,
    # so every SE is svymean's, weighted or not (equal weights: svydesign(weights = ~1)).
    d = survey_data.dropna(subset=["csat"]).reset_index(drop=True).assign(one=1.0)
    wt = "bw" if weighted else "one"
    r = run_r(tmp_path, d, f"""
des <- svydesign(ids = ~1, weights = ~{wt}, data = d)
t2 <- svymean(~I(as.numeric(csat >= 4)), des); out("top2", c(coef(t2), SE(t2)))
m <- svymean(~csat, des); out("mean", c(coef(m), SE(m)))
p <- svymean(~npsc, des); out("nps", c(coef(p), SE(p)))
""")
    from cxlab.metrics import ces, csat

    w = "bw" if weighted else None
    c = csat(d, score="csat", weight=w).iloc[0]
    close([c["csat"] / 100, c["se"] / 100], r["top2"])
    e = ces(d, score="csat", scale=5, weight=w).iloc[0]
    close([e["mean"], e["se"]], r["mean"])
    p = nps(d, score="ltr", weight=w).iloc[0]
    close([p["nps"] / 100, p["se"] / 100], r["nps"])


def test_missing_r_fails_under_ci_and_skips_elsewhere(monkeypatch):
    import sys

    mod = sys.modules[__name__]

    monkeypatch.setattr(mod, "RSCRIPT", None)
    monkeypatch.setattr(mod, "_IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        mod._require_r()
    monkeypatch.setattr(mod, "_IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="Rscript not found"):
        mod._require_r()


def _repeat_panel(seed: int = 22) -> pd.DataFrame:
    """Two periods; 240 of 400 customers answer again in the second one with nearly the same
    scores (strong positive correlation), 12 of them twice in that period; 160 new customers."""
    rng = np.random.default_rng(seed)
    n1, rep, new = 400, 240, 160
    cid1 = np.array([f"c{i:04d}" for i in range(n1)])
    taste = rng.normal(0, 1.6, n1)  # the customer's lasting attitude
    ltr1 = np.clip(np.round(7.2 + taste + rng.normal(0, 0.6, n1)), 0, 10)
    again = rng.choice(n1, size=rep, replace=False)
    twice = again[:12]
    cid2 = np.r_[cid1[again], cid1[twice], [f"n{i:04d}" for i in range(new)]]
    base2 = np.r_[taste[again], taste[twice], rng.normal(0, 1.6, new)]
    ltr2 = np.clip(np.round(6.8 + base2 + rng.normal(0, 0.6, base2.size)), 0, 10)
    ltr = np.r_[ltr1, ltr2]
    att = np.r_[taste, base2]
    csat = np.clip(np.round(3.6 + 0.55 * att + rng.normal(0, 0.4, ltr.size)), 1, 5)
    ces = np.clip(np.round(5.0 + 0.7 * att + rng.normal(0, 0.5, ltr.size)), 1, 7)
    ltr[rng.random(ltr.size) < 0.03] = np.nan  # a few unanswered items
    return pd.DataFrame({
        "customer_id": np.r_[cid1, cid2], "period": ["2026Q1"] * n1 + ["2026Q2"] * cid2.size,
        "ltr": ltr, "csat": csat, "ces": ces, "one": 1.0,
        "w": rng.lognormal(0.0, 0.3, ltr.size),
    })


_OVERLAP_R = """
d$npsc <- ifelse(d$ltr >= 9, 1, ifelse(d$ltr >= 7, 0, -1))
d$top <- as.numeric(d$csat >= 4)
for (wt in c("one", "w")) {
  for (v in c("npsc", "top", "ces")) {
    dd <- d[!is.na(d[[v]]), ]
    des <- svydesign(ids = ~customer_id, weights = as.formula(paste0("~", wt)), data = dd)
    b <- svyby(as.formula(paste0("~", v)), ~period, des, svymean, covmat = TRUE)
    ct <- svycontrast(b, c(-1, 1))
    out(paste0(wt, "_", v), c(coef(ct), SE(ct)))
  }
}
"""


def test_overlap_adjusted_change_equals_svycontrast_with_customers_as_clusters(tmp_path):
    from cxlab.metrics import change, nps_test, overlap_test

    d = _repeat_panel()
    r = run_r(tmp_path, d, _OVERLAP_R)
    # change(paired_on=) = svycontrast(svyby(~y, ~period, svydesign(ids = ~customer_id), svymean,
    # covmat = TRUE), c(-1, 1)) for the -1/0/+1 NPS category, the top-2 box and the CES mean.
    for metric, v, scale in (("nps", "npsc", 100), ("csat", "top", 100), ("ces", "ces", 1)):
        row = change(d, metric=metric, paired_on="customer_id").iloc[1]
        close([row["change"] / scale, row["se"] / scale], r[f"one_{v}"])
        assert row["method"].startswith("overlap-adjusted")
    a, b = (d[d["period"] == p] for p in ("2026Q2", "2026Q1"))
    t = nps_test(a, b, paired_on="customer_id")
    close([t.diff / 100, t.se / 100], r["one_npsc"])
    # weighted: svydesign(ids = ~customer_id, weights = ~w)
    dd = d.assign(npsc=np.where(d["ltr"] >= 9, 1.0, np.where(d["ltr"] >= 7, 0.0, -1.0)))
    dd.loc[d["ltr"].isna(), "npsc"] = np.nan
    dd["top"] = (d["csat"] >= 4).astype(float)
    for v in ("npsc", "top", "ces"):
        a, b = (dd[dd["period"] == p] for p in ("2026Q2", "2026Q1"))
        res = overlap_test(a, b, column=v, id="customer_id", weight="w")
        close([res.diff, res.se], r[f"w_{v}"])
