"""Company aggregates per period × branch, computed with DuckDB over the warehouse parquet.

Branch reports compare a branch with the company and the other branches through this table
only: counts and means, never respondent-level rows of another branch.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cxlab.errors import CxlabError

__all__ = ["AGGREGATES", "build_aggregates", "load_aggregates"]

AGGREGATES = Path("aggregates") / "branch_kpis.parquet"


def _sql(glob: str, items: list[str]) -> str:
    item_cols = ",\n".join(
        f"  avg({c}) AS {c}__mean, count({c}) AS {c}__n, sum(CASE WHEN {c} >= 4 THEN 1 ELSE 0 END) AS {c}__top2"
        for c in items
    )
    return f"""
SELECT period, branch,
  count(ltr) AS n,
  sum(CASE WHEN ltr >= 9 THEN 1 ELSE 0 END) AS promoters,
  sum(CASE WHEN ltr BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
  sum(CASE WHEN ltr <= 6 THEN 1 ELSE 0 END) AS detractors,
  count(csat) AS csat_n,
  sum(CASE WHEN csat >= 4 THEN 1 ELSE 0 END) AS csat_top2,
  count(ces) AS ces_n,
  avg(ces) AS ces_mean,
  sum(CASE WHEN ces >= 5 THEN 1 ELSE 0 END) AS ces_easy{"," if item_cols else ""}
{item_cols}
FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true)
GROUP BY period, branch
ORDER BY period, branch
"""


def compute_aggregates(warehouse: str | Path, *, items: list[str]) -> pd.DataFrame:
    """Counts and means per period × branch straight from the parquet files (DuckDB SQL)."""
    import duckdb

    warehouse = Path(warehouse)
    files = list((warehouse / "responses").rglob("*.parquet"))
    if not files:
        raise CxlabError(f"{warehouse / 'responses'}: no ingested responses")
    glob = str(warehouse / "responses" / "**" / "*.parquet")
    with duckdb.connect() as con:
        cols = {r[0] for r in con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"
        ).fetchall()}
        present = [c for c in items if c in cols]
        df = con.execute(_sql(glob, present)).df()
    df["period"] = df["period"].astype(str)
    df["branch"] = df["branch"].astype(str)
    return df


def build_aggregates(warehouse: str | Path, *, params_dir: str | Path = "params") -> Path:
    """(Re)write ``<warehouse>/aggregates/branch_kpis.parquet``; untouched when unchanged."""
    import io

    from cxlab.config import load_codebook
    from cxlab.report._export import atomic_write

    codebook = load_codebook(Path(params_dir) / "codebook.yaml")
    df = compute_aggregates(warehouse, items=codebook.attribute_items)
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    target = Path(warehouse) / AGGREGATES
    data = buf.getvalue()
    if not target.exists() or target.read_bytes() != data:
        atomic_write(target, data)
    return target


def load_aggregates(warehouse: str | Path) -> pd.DataFrame:
    """Read the aggregates table (build it first with :func:`build_aggregates`)."""
    path = Path(warehouse) / AGGREGATES
    if not path.exists():
        raise CxlabError(f"{path}: company aggregates missing (they are built by `cxlab reports`)")
    return pd.read_parquet(path)
