"""Aggregation: NPS by period × branch over the warehouse's hive-partitioned parquet.

The data set is synthetic (numpy/pyarrow), written in the warehouse layout
``responses/period=…/branch=…/part-0.parquet`` with the canonical dtypes of the responses table
(text as string, measures as int64 with missing values, submitted_at as timestamp[us]).

- baseline: ``pd.read_parquet(<warehouse>/responses)`` (the whole table, as an analyst loads it),
  ``groupby(["period", "branch"])`` and NPS = % promoters (9–10) − % detractors (0–6);
- also shown: the same with ``columns=["period", "branch", "ltr"]`` (a careful pandas user);
- cxlab: one SQL statement through ``cxlab.io.query`` (DuckDB over ``read_parquet(…,
  hive_partitioning = true)``), connection set-up included.
The three results are compared cell by cell.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bench._common import Check, interleaved, median

NAME = "aggregate"
PERIODS = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")
#: the branch codes of params/org.yaml
BRANCHES = ("SH01", "HZ01", "NJ01", "SU01", "GZ01", "SZ01", "XM01", "BJ01", "TJ01", "JN01")
VERBAL = [f"item_{k:02d}" for k in range(1, 18)]

SQL = """
SELECT period, branch,
       count(ltr) AS n,
       100.0 * (count_if(ltr >= 9) - count_if(ltr <= 6)) / count(ltr) AS nps
FROM responses
WHERE ltr IS NOT NULL
GROUP BY period, branch
ORDER BY period, branch
"""


def write_warehouse(root: Path, rows: int, seed: int = 0, branches=BRANCHES) -> Path:
    """Write ``rows`` synthetic responses spread over 4 periods × 10 branches (uneven sizes)."""
    rng = np.random.default_rng(seed)
    weights = np.linspace(2.0, 0.2, len(branches))
    weights /= weights.sum()
    counter = 0
    for pi, period in enumerate(PERIODS):
        per_branch = rng.multinomial(rows // len(PERIODS) + (pi < rows % len(PERIODS)), weights)
        for bi, (branch, n) in enumerate(zip(branches, per_branch, strict=True)):
            ids = np.arange(counter, counter + n)
            counter += n
            mu = 7.0 + 0.15 * pi - 0.1 * bi
            ltr = np.clip(np.round(rng.normal(mu, 2.2, n)), 0, 10).astype("int64")
            cols: dict[str, pa.Array] = {
                "response_id": pa.array(ids).cast(pa.string()),
                "customer_id": pa.array(rng.integers(0, 10**9, n)).cast(pa.string()),
                "channel": pa.array(np.array(["微信", "短信", "邮件", "APP推送"])[rng.integers(0, 4, n)]),
                "submitted_at": pa.array((np.datetime64("2025-10-01") + rng.integers(0, 365 * 86400, n)
                                          .astype("timedelta64[s]")).astype("datetime64[us]")),
                "source_file": pa.array(np.full(n, f"bench_{period}.csv")),
                "ltr": pa.array(ltr, mask=rng.random(n) < 0.02),
                "csat": pa.array(rng.integers(1, 6, n), mask=rng.random(n) < 0.03),
                "ces": pa.array(rng.integers(1, 8, n), mask=rng.random(n) < 0.03),
            }
            for item in VERBAL:
                cols[item] = pa.array(rng.integers(1, 6, n), mask=rng.random(n) < 0.05)
            d = root / "responses" / f"period={period}" / f"branch={branch}"
            d.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table(cols), d / "part-0.parquet")
    return root


def _nps_pandas(df: pd.DataFrame) -> pd.DataFrame:
    df = df[df["ltr"].notna()]
    g = df.assign(pro=df["ltr"] >= 9, det=df["ltr"] <= 6).groupby(
        ["period", "branch"], observed=True)
    out = g.agg(n=("ltr", "size"), pro=("pro", "sum"), det=("det", "sum")).reset_index()
    out["nps"] = 100.0 * (out["pro"] - out["det"]) / out["n"]
    return out[["period", "branch", "n", "nps"]]


def naive_full(wh: Path) -> pd.DataFrame:
    return _nps_pandas(pd.read_parquet(wh / "responses"))


def naive_pruned(wh: Path) -> pd.DataFrame:
    return _nps_pandas(pd.read_parquet(wh / "responses", columns=["period", "branch", "ltr"]))


def duck(wh: Path) -> pd.DataFrame:
    from cxlab.io import query

    return query(wh, SQL)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    key = ["period", "branch"]
    a = a.assign(period=a["period"].astype(str), branch=a["branch"].astype(str)).sort_values(key)
    b = b.assign(period=b["period"].astype(str), branch=b["branch"].astype(str)).sort_values(key)
    return (a[key].to_numpy().tolist() == b[key].to_numpy().tolist()
            and np.array_equal(a["n"].to_numpy(int), b["n"].to_numpy(int))
            and np.allclose(a["nps"].to_numpy(float), b["nps"].to_numpy(float)))


def run(quick: bool = False) -> list[Check]:
    rows, repeats = (40_000, 3) if quick else (10_000_000, 5)
    with tempfile.TemporaryDirectory(prefix="cxlab-bench-agg-") as tmp:
        wh = write_warehouse(Path(tmp) / "warehouse", rows)
        size = sum(f.stat().st_size for f in wh.rglob("*.parquet"))
        # correctness first (also warms the file cache and imports for all three)
        r_full, r_pruned, r_duck = naive_full(wh), naive_pruned(wh), duck(wh)
        agree = _same(r_full, r_duck) and _same(r_pruned, r_duck)
        times = interleaved({"baseline": lambda: naive_full(wh),
                             "pruned": lambda: naive_pruned(wh),
                             "fast": lambda: duck(wh)}, repeats)
    base, pruned, fast = (median(times[k]) for k in ("baseline", "pruned", "fast"))
    return [Check(
        bench=NAME, name=f"NPS by period × branch, {rows:,} rows ({size / 2**20:,.0f} MiB parquet, "
                         f"{len(PERIODS) * len(BRANCHES)} partitions)",
        target="≥ 10×",
        baseline_label="pd.read_parquet(responses/) + groupby + NPS",
        baseline_s=base, fast_label="DuckDB SQL via cxlab.io.query", fast_s=fast,
        ratio=base / fast, met=base / fast >= 10,
        runs={"baseline": times["baseline"], "fast": times["fast"]},
        extra={"pandas with columns=[period, branch, ltr]":
               f"{pruned:.3g} s (ratio {pruned / fast:.3g}×; runs "
               f"{', '.join(f'{t:.3g}' for t in times['pruned'])})",
               "results identical (n and NPS of every cell)": agree},
    )]
