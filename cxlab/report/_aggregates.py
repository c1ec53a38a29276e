"""Company aggregates per period × branch, computed with DuckDB over the warehouse parquet.

Branch reports compare a branch with the company and the other branches through this table
only: counts and means, never respondent-level rows of another branch.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cxlab.errors import CxlabError

__all__ = ["AGGREGATES", "build_aggregates", "compute_aggregates", "load_aggregates", "rating_items"]

AGGREGATES = Path("aggregates") / "branch_kpis.parquet"


def _q(name: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def _sql(glob: str, *, nps: str | None, csat: tuple[str, float] | None,
         ces: tuple[str, float] | None, items: dict[str, float | None]) -> str:
    """Counts per period × branch for the roles the codebook has (see :func:`compute_aggregates`)."""
    cols = []
    if nps is not None:
        c = _q(nps)
        cols += [f"count({c}) AS n",
                 f"sum(CASE WHEN {c} >= 9 THEN 1 ELSE 0 END) AS promoters",
                 f"sum(CASE WHEN {c} BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives",
                 f"sum(CASE WHEN {c} <= 6 THEN 1 ELSE 0 END) AS detractors"]
    else:
        cols.append("count(*) AS n")
    if csat is not None:
        c = _q(csat[0])
        cols += [f"count({c}) AS csat_n", f"sum(CASE WHEN {c} >= {csat[1]:g} THEN 1 ELSE 0 END) AS csat_top2"]
    if ces is not None:
        c = _q(ces[0])
        cols += [f"count({c}) AS ces_n", f"avg({c}) AS ces_mean",
                 f"sum(CASE WHEN {c} >= {ces[1]:g} THEN 1 ELSE 0 END) AS ces_easy"]
    for item, top in items.items():
        c = _q(item)
        cols += [f"avg({c}) AS {_q(item + '__mean')}", f"count({c}) AS {_q(item + '__n')}"]
        if top is not None:
            cols.append(f"sum(CASE WHEN {c} >= {top:g} THEN 1 ELSE 0 END) AS {_q(item + '__top2')}")
    body = ",\n  ".join(cols)
    return f"""
SELECT period, branch,
  {body}
FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true)
GROUP BY period, branch
ORDER BY period, branch
"""


def rating_items(codebook) -> list[str]:
    """Rating items summarised per branch and in the item summary, in codebook order: the
    attribute ratings plus the CSAT, CES and overall (drivers/IPA outcome) items when they are
    not the NPS item and their scale has a top box."""
    keep = set(codebook.attribute_items)
    keep |= {i for i in (codebook.csat_item, codebook.ces_item, codebook.outcome_item)
             if i is not None and i != codebook.nps_item}
    return [i.id for i in codebook.items if i.id in keep and codebook.scale_of(i.id).top_codes]


def compute_aggregates(warehouse: str | Path, *, items: list[str] | None = None,
                       codebook=None) -> pd.DataFrame:
    """Counts and means per period × branch straight from the parquet files (DuckDB SQL).

    Columns: ``period, branch, n`` (answers to the NPS item, or responses when the codebook has
    none) and, for the roles the codebook has: ``promoters, passives, detractors`` (NPS item),
    ``csat_n, csat_top2`` (CSAT item, top box of its scale), ``ces_n, ces_mean, ces_easy`` (CES
    item, top box of its scale = easy), and ``<item>__mean, <item>__n, <item>__top2`` for every
    rating item (``__top2``: answers in the top box of the item's scale). Without a codebook the
    sample's columns ``ltr``, ``csat``, ``ces`` and ``items`` on 1–5 scales are assumed.
    """
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
        if codebook is None:
            nps, csat, ces = "ltr", ("csat", 4.0), ("ces", 5.0)
            tops = {c: 4.0 for c in (items or [])}
        else:
            nps = codebook.nps_item
            csat = ces = None
            if codebook.csat_item is not None:
                csat = (codebook.csat_item, codebook.scale_of(codebook.csat_item).top_threshold)
            if codebook.ces_item is not None:
                ces = (codebook.ces_item, codebook.scale_of(codebook.ces_item).top_threshold)
            wanted = rating_items(codebook) if items is None else items
            tops = {c: codebook.scale_of(c).top_threshold for c in wanted}
        nps = nps if nps in cols else None
        csat = csat if csat is not None and csat[0] in cols and csat[1] is not None else None
        ces = ces if ces is not None and ces[0] in cols and ces[1] is not None else None
        present = {c: t for c, t in tops.items() if c in cols}
        df = con.execute(_sql(glob, nps=nps, csat=csat, ces=ces, items=present)).df()
    df["period"] = df["period"].astype(str)
    df["branch"] = df["branch"].astype(str)
    return df


def build_aggregates(warehouse: str | Path, *, params_dir: str | Path = "params") -> Path:
    """(Re)write ``<warehouse>/aggregates/branch_kpis.parquet``; untouched when unchanged."""
    import io

    from cxlab.config import load_codebook
    from cxlab.report._export import atomic_write

    codebook = load_codebook(Path(params_dir) / "codebook.yaml")
    df = compute_aggregates(warehouse, codebook=codebook)
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
