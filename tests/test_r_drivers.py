"""Live cross-checks of the key-driver inference against R (issue 22 §2, §3).

* BCa intervals of the LMG shares against ``boot::boot.ci(type = "bca")`` (Canty & Ripley's
  ``boot``, the implementation of Davison & Hinkley 1997): R is given cxlab's exact bootstrap
  replicates, and computes the full-sample LMG shares and their jackknife influence values
  itself (``empinf(type = "jack")``, LMG by averaging R² increments of ``lm`` fits over all
  orders of the drivers), so the estimate, the acceleration and the endpoints are R's own.
  ``empinf`` returns ``(n - 1)(t - t₋ᵢ)`` about the full-sample estimate; centred, these
  are the jackknife values of Efron & Tibshirani (1993, eq. 14.15) that cxlab uses.
* The weighted report's driver coefficients and standard errors against ``svyglm``.

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

from cxlab.drivers import key_drivers
from cxlab.drivers._common import prepare
from cxlab.drivers._keydrivers import bootstrap_lmg_shares

RSCRIPT = shutil.which("Rscript")
_IN_CI = os.environ.get("CI", "").lower() == "true"
RTOL = 1e-6
ROOT = Path(__file__).resolve().parents[1]


def _run_r(tmp_path: Path, frames: dict[str, pd.DataFrame], body: str) -> dict[str, np.ndarray]:
    """Run ``body`` with each frame read into R under its name; parse ``out(name, x)`` lines."""
    if RSCRIPT is None:
        if _IN_CI:
            pytest.fail("Rscript is not installed but CI=true: install r-base-core, r-cran-boot "
                        "and r-cran-survey (scripts/system-deps.sh)")
        pytest.skip("Rscript not found (apt-get install r-base-core r-cran-survey); R cross-checks skipped")
    reads = ""
    for name, frame in frames.items():
        csv = tmp_path / f"{name}.csv"
        frame.to_csv(csv, index=False, float_format="%.17g")
        reads += f"{name} <- read.csv('{csv.as_posix()}')\n"
    script = tmp_path / "check.R"
    script.write_text(
        "suppressPackageStartupMessages({library(boot); library(survey)})\n" + reads
        + "out <- function(name, x) cat(name, sprintf('%.15g', as.numeric(x)), '\\n')\n" + body,
        encoding="utf-8")
    proc = subprocess.run([RSCRIPT, "--vanilla", str(script)], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise AssertionError(f"R failed:\n{proc.stderr}")
    return {p[0]: np.array([float(x) for x in p[1:]])
            for p in (line.split() for line in proc.stdout.splitlines()) if p}


# LMG in R, independent of cxlab: the R² gain of each driver averaged over all orders of entry
_LMG_R = """
perms <- function(v) if (length(v) <= 1) list(v) else
  do.call(c, lapply(seq_along(v), function(i) lapply(perms(v[-i]), function(q) c(v[i], q))))
lmg <- function(d, drivers) {
  r2 <- function(vars) if (!length(vars)) 0 else
    summary(lm(reformulate(vars, "y"), data = d, weights = w))$r.squared
  cache <- new.env()
  r2of <- function(vars) { k <- paste0("k", paste(sort(vars), collapse = "+"))
    if (is.null(cache[[k]])) cache[[k]] <- r2(vars); cache[[k]] }
  gain <- setNames(numeric(length(drivers)), drivers)
  orders <- perms(drivers)
  for (o in orders) for (i in seq_along(o))
    gain[o[i]] <- gain[o[i]] + r2of(o[seq_len(i)]) - r2of(o[seq_len(i - 1)])
  gain <- gain / length(orders)
  gain / sum(gain)
}
"""


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_bca_intervals_equal_boot_ci(tmp_path, weighted):
    rng = np.random.default_rng(20261204)
    n, drivers = 70, ["x1", "x2", "x3"]
    x = rng.normal(size=(n, 3)) + 0.4 * rng.normal(size=(n, 1))
    df = pd.DataFrame(x, columns=drivers)
    df["y"] = x @ [0.6, 0.35, 0.15] + rng.normal(size=n)
    df["w"] = rng.lognormal(0.0, 0.5, n) if weighted else 1.0
    weight = "w" if weighted else None
    res = key_drivers(df, outcome="y", drivers=drivers, weight=weight, bootstrap=999, rng=5,
                      ci_method="bca", level=0.9)
    # the very replicates key_drivers drew (same rows, same generator state)
    values, w, _ = prepare(df, target="y", columns=drivers, weight=weight)
    reps = bootstrap_lmg_shares(values, w, replicates=999, rng=np.random.default_rng(5))
    r = _run_r(tmp_path, {"d": df[["y", *drivers, "w"]], "reps": pd.DataFrame(reps, columns=drivers)},
               _LMG_R + """
drv <- c("x1", "x2", "x3")
t0 <- lmg(d, drv)
b <- list(t0 = unname(t0), t = as.matrix(reps), R = nrow(reps), data = d,
          statistic = function(d, i) lmg(d[i, ], drv), sim = "ordinary", stype = "i",
          call = quote(boot(d, f, R)), strata = rep(1, nrow(d)), weights = rep(1 / nrow(d), nrow(d)))
class(b) <- "boot"
out("t0", t0)
for (j in 1:3) {
  L <- empinf(data = d, statistic = function(d, i) lmg(d[i, ], drv)[j], type = "jack", stype = "i")
  L <- L - mean(L)  # (n - 1)(t(.) - t(-i)): Efron & Tibshirani (1993) eq. 14.15, as cxlab
  ci <- boot.ci(b, conf = 0.9, type = "bca", index = j, L = L)$bca
  out(paste0("bca", j), ci[4:5])
}
""")
    t = res.table
    np.testing.assert_allclose(t["share"], r["t0"], rtol=RTOL)  # R: LMG from lm() fits
    for j in range(3):
        # R: boot.ci(type = "bca", conf = 0.9) on cxlab's replicates, R's own jackknife L
        np.testing.assert_allclose([t["share_ci_low"][j], t["share_ci_high"][j]], r[f"bca{j + 1}"],
                                   rtol=RTOL)


def test_weighted_report_driver_errors_equal_svyglm(tmp_path, sample_warehouse):
    from cxlab.report import build_aggregates, load_context, sections

    wh = tmp_path / "warehouse"
    shutil.copytree(sample_warehouse, wh)
    build_aggregates(wh, params_dir=ROOT / "params")
    ctx = load_context(period="2026Q3", warehouse=wh, params_dir=ROOT / "params")
    assert ctx.weighted
    res = sections.driver_result(ctx)
    out, items, df = sections._driver_data(ctx)
    formula = f"{out} ~ " + " + ".join(items)
    r = _run_r(tmp_path, {"d": df}, f"""
des <- svydesign(ids = ~1, weights = ~weight, data = d)
s <- summary(svyglm({formula}, des))$coefficients
out("coef", s[-1, 1]); out("se", s[-1, 2]); out("p", s[-1, 4])
""")
    assert res.se_method == "design" and res.n == len(df)
    np.testing.assert_allclose(res.table["coef"], r["coef"], rtol=RTOL)  # R: svyglm
    np.testing.assert_allclose(res.table["se"], r["se"], rtol=RTOL)  # R: svyglm
    np.testing.assert_allclose(res.table["pvalue"], r["p"], rtol=RTOL, atol=1e-14)  # R: svyglm
    sections.setup()
    html = str(sections.drivers(ctx))
    assert "svyglm" in html and "Holm" in html
