"""Company aggregates per period × branch, computed with DuckDB over the warehouse parquet.

Branch reports compare a branch with the company and the other branches through this table
only: counts and means, never respondent-level rows of another branch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.errors import CxlabError

__all__ = ["AGGREGATES", "CSAT_SUMS", "NPS_SUMS", "WEIGHTING", "WEIGHTS", "build_aggregates",
           "build_weights", "compute_aggregates", "load_aggregates", "load_weights",
           "matching_aggregates", "pooled_items", "rating_items"]

AGGREGATES = Path("aggregates") / "branch_kpis.parquet"
#: Survey weights per response (``response_id, period, branch, weight``) and their diagnostics
#: per period, written beside the aggregates when ``params/weighting.yaml`` is enabled.
WEIGHTS = Path("aggregates") / "weights.parquet"
WEIGHTING = Path("aggregates") / "weighting.parquet"


def _q(name: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


#: The weighted sums per period × branch (when the warehouse has weights): per NPS class and
#: for the CSAT item, the sum of weights ``w_*`` and of squared weights ``w2_*``; with the
#: counts they are all a weighted NPS/CSAT and its linearisation SE need
#: (:func:`cxlab.metrics.nps_from_sums`, :func:`cxlab.metrics.share_from_sums`), and they add up
#: over branches (regions, the company).
NPS_SUMS = ("w_promoters", "w_passives", "w_detractors", "w2_promoters", "w2_passives",
            "w2_detractors")
CSAT_SUMS = ("w_csat_n", "w2_csat_n", "w_csat_top2", "w2_csat_top2")


def _sql(glob: str, *, nps: str | None, csat: tuple[str, float] | None,
         ces: tuple[str, float] | None, items: dict[str, float | None],
         weights: str | None = None) -> str:
    """Counts per period × branch for the roles the codebook has (see :func:`compute_aggregates`);
    with ``weights`` (a parquet file) also the weighted sums, joined on period and response id."""
    cols = []
    ws = []
    if nps is not None:
        c = _q(nps)
        cols += [f"count({c}) AS n",
                 f"sum(CASE WHEN {c} >= 9 THEN 1 ELSE 0 END) AS promoters",
                 f"sum(CASE WHEN {c} BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives",
                 f"sum(CASE WHEN {c} <= 6 THEN 1 ELSE 0 END) AS detractors"]
        for name, cond in (("promoters", f"{c} >= 9"), ("passives", f"{c} BETWEEN 7 AND 8"),
                           ("detractors", f"{c} <= 6")):
            ws += [f"coalesce(sum(w.weight) FILTER (WHERE {cond}), 0) AS w_{name}",
                   f"coalesce(sum(w.weight * w.weight) FILTER (WHERE {cond}), 0) AS w2_{name}"]
    else:
        cols.append("count(*) AS n")
    if csat is not None:
        c = _q(csat[0])
        cols += [f"count({c}) AS csat_n", f"sum(CASE WHEN {c} >= {csat[1]:g} THEN 1 ELSE 0 END) AS csat_top2"]
        for name, cond in (("csat_n", f"{c} IS NOT NULL"), ("csat_top2", f"{c} >= {csat[1]:g}")):
            ws += [f"coalesce(sum(w.weight) FILTER (WHERE {cond}), 0) AS w_{name}",
                   f"coalesce(sum(w.weight * w.weight) FILTER (WHERE {cond}), 0) AS w2_{name}"]
    if ces is not None:
        c = _q(ces[0])
        cols += [f"count({c}) AS ces_n", f"avg({c}) AS ces_mean",
                 f"sum(CASE WHEN {c} >= {ces[1]:g} THEN 1 ELSE 0 END) AS ces_easy"]
    for item, top in items.items():
        c = _q(item)
        cols += [f"avg({c}) AS {_q(item + '__mean')}", f"count({c}) AS {_q(item + '__n')}"]
        if top is not None:
            cols.append(f"sum(CASE WHEN {c} >= {top:g} THEN 1 ELSE 0 END) AS {_q(item + '__top2')}")
        ws += [f"sum(w.weight * {c}) / nullif(sum(w.weight) FILTER (WHERE {c} IS NOT NULL), 0)"
               f" AS {_q(item + '__wmean')}",
               f"coalesce(sum(w.weight) FILTER (WHERE {c} IS NOT NULL), 0) AS {_q(item + '__wsum')}"]
        if top is not None:
            ws.append(f"coalesce(sum(w.weight) FILTER (WHERE {c} >= {top:g}), 0)"
                      f" AS {_q(item + '__wtop2')}")
    src = f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"
    if weights is None:
        body = ",\n  ".join(cols)
        return f"""
SELECT period, branch,
  {body}
FROM {src}
GROUP BY period, branch
ORDER BY period, branch
"""
    body = ",\n  ".join([*cols, *ws, "count(*) FILTER (WHERE w.weight IS NULL) AS _unweighted"])
    return f"""
SELECT r.period AS period, r.branch AS branch,
  {body}
FROM (SELECT * FROM {src}) r
LEFT JOIN read_parquet('{weights}') w
  ON CAST(w.period AS VARCHAR) = CAST(r.period AS VARCHAR)
 AND CAST(w.response_id AS VARCHAR) = CAST(r.response_id AS VARCHAR)
GROUP BY r.period, r.branch
ORDER BY r.period, r.branch
"""


def pooled_items(aggregates: pd.DataFrame, items: Sequence[str], *,
                 weighted: bool) -> pd.DataFrame:
    """The rating items' means and top-box shares over all rows of ``aggregates`` (e.g. one
    period's branches: the company), pooled exactly from the per-branch means and counts.

    With ``weighted`` and aggregates that carry the weighted columns (``<item>__wmean``,
    ``__wsum``, ``__wtop2``), every answer counts its respondent's weight, so the pooled values
    equal the weighted mean and top-box share over the company's respondents; otherwise (or for
    aggregates built before the weighted top-box sums) they are unweighted.

    Returns one row per item found in the aggregates: ``item, x_sum, x_base, top_sum, top_base,
    mean, top, weighted`` (``top`` in %; the sums let a caller pool several items, e.g. a
    touchpoint's).

    >>> agg = pd.DataFrame({"q1__mean": [4.0, 3.0], "q1__n": [10, 30], "q1__top2": [8, 9]})
    >>> pooled_items(agg, ["q1"], weighted=False)[["item", "mean", "top"]]
      item  mean   top
    0   q1  3.25  42.5
    """
    cols = set(aggregates.columns)
    rows = []
    for item in items:
        m, n, t = f"{item}__mean", f"{item}__n", f"{item}__top2"
        if not {m, n} <= cols:
            continue
        top_base = n
        wcols = {f"{item}__wmean", f"{item}__wsum"} | ({f"{item}__wtop2"} if t in cols else set())
        w = weighted and wcols <= cols
        if w:
            m, n, t, top_base = f"{item}__wmean", f"{item}__wsum", f"{item}__wtop2", f"{item}__wsum"
        base = float(aggregates[n].sum())
        x_sum = float((aggregates[m].fillna(0) * aggregates[n]).sum())
        top_sum = float(aggregates[t].sum()) if t in cols else np.nan
        rows.append({"item": item, "x_sum": x_sum, "x_base": base, "top_sum": top_sum,
                     "top_base": float(aggregates[top_base].sum()) if t in cols else np.nan,
                     "weighted": w})
    out = pd.DataFrame(rows, columns=["item", "x_sum", "x_base", "top_sum", "top_base",
                                      "weighted"])
    out["mean"] = out["x_sum"] / out["x_base"].where(out["x_base"] > 0)
    out["top"] = 100 * out["top_sum"] / out["top_base"].where(out["top_base"] > 0)
    return out[["item", "x_sum", "x_base", "top_sum", "top_base", "mean", "top", "weighted"]]


def rating_items(codebook) -> list[str]:
    """Rating items summarised per branch and in the item summary, in codebook order: the
    attribute ratings plus the CSAT, CES and overall (drivers/IPA outcome) items when they are
    not the NPS item and their scale has a top box."""
    keep = set(codebook.attribute_items)
    keep |= {i for i in (codebook.csat_item, codebook.ces_item, codebook.outcome_item)
             if i is not None and i != codebook.nps_item}
    return [i.id for i in codebook.items if i.id in keep and codebook.scale_of(i.id).top_codes]


def compute_aggregates(warehouse: str | Path, *, items: list[str] | None = None,
                       codebook=None, weights: str | Path | None = None) -> pd.DataFrame:
    """Counts and means per period × branch straight from the parquet files (DuckDB SQL).

    Columns: ``period, branch, n`` (answers to the NPS item, or responses when the codebook has
    none) and, for the roles the codebook has: ``promoters, passives, detractors`` (NPS item),
    ``csat_n, csat_top2`` (CSAT item, top box of its scale), ``ces_n, ces_mean, ces_easy`` (CES
    item, top box of its scale = easy), and ``<item>__mean, <item>__n, <item>__top2`` for every
    rating item (``__top2``: answers in the top box of the item's scale). Without a codebook the
    sample's columns ``ltr``, ``csat``, ``ces`` and ``items`` on 1–5 scales are assumed.

    With a ``customer_id`` column, also ``change_from, repeat_customers, nps_change_pvalue,
    csat_change_pvalue``: the overlap-adjusted tests of the change from the previous period for
    branches where customers answered in both (:func:`cxlab.ops._repeat.paired_changes`;
    NaN where none did, so the independent test on the counts stands); weighted (design-based,
    customers as clusters) when the aggregates are.

    With ``weights`` (the survey weights file, ``<warehouse>/``:data:`WEIGHTS`, as
    :func:`build_aggregates` passes it when weighting is enabled) also, per NPS class and for the CSAT item, the sum of the respondents' weights and
    of their squared weights (:data:`NPS_SUMS`, :data:`CSAT_SUMS`) and the weighted mean
    ``<item>__wmean``, weight sum ``<item>__wsum`` and top-box weight sum ``<item>__wtop2`` of
    every rating item, joined in DuckDB on period and response id. A
    response without a weight raises :class:`~cxlab.errors.CxlabError` (stale weights file).
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
        if weights is not None and "response_id" not in cols:
            raise CxlabError(f"{warehouse}: responses without response_id cannot be weighted")
        wsql = None if weights is None else str(weights).replace("'", "''")
        if wsql is not None:
            # floating-point sums in a fixed order: parallel threads would add the weights in a
            # varying order, and the file (the reports' incremental key) would change each build
            con.execute("SET threads TO 1")
        df = con.execute(_sql(glob, nps=nps, csat=csat, ces=ces, items=present,
                              weights=wsql)).df()
        if wsql is not None:
            missing = int(df.pop("_unweighted").sum())
            if missing:
                raise CxlabError(f"{weights}: survey weights missing for {missing} responses "
                                 "(rebuild them: `cxlab reports` rewrites the weights)")
        paired = None
        if "customer_id" in cols and (nps is not None or csat is not None):
            sel = ", ".join("r." + _q(c) for c in dict.fromkeys(
                ["period", "branch", "customer_id", *([nps] if nps else []),
                 *([csat[0]] if csat else [])]))
            src = f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"
            if wsql is None:
                rows = con.execute(f"SELECT {sel} FROM {src} r").df()
            else:  # the weighted overlap tests need each row's weight
                rows = con.execute(
                    f"SELECT {sel}, w.weight AS _weight FROM {src} r "
                    f"JOIN read_parquet('{wsql}') w ON CAST(w.period AS VARCHAR) = "
                    "CAST(r.period AS VARCHAR) AND CAST(w.response_id AS VARCHAR) = "
                    "CAST(r.response_id AS VARCHAR) ORDER BY r.period, r.branch, "
                    "r.response_id").df()
            from cxlab.ops._repeat import paired_changes

            paired = paired_changes(rows, score=nps, csat=csat[0] if csat else None,
                                    csat_top=csat[1] if csat else None,
                                    weight=None if wsql is None else "_weight")
    df["period"] = df["period"].astype(str)
    df["branch"] = df["branch"].astype(str)
    if paired is not None:
        df = df.merge(paired.astype({"period": str, "branch": str}), on=["period", "branch"],
                      how="left", sort=False)
    return df


def build_aggregates(warehouse: str | Path, *, params_dir: str | Path = "params") -> Path:
    """(Re)write ``<warehouse>/aggregates/branch_kpis.parquet``; untouched when unchanged.

    With an enabled ``params/weighting.yaml`` the survey weights are (re)written beside it
    (:func:`build_weights`)."""
    from cxlab.config import load_codebook

    codebook = load_codebook(Path(params_dir) / "codebook.yaml")
    # the weights first: the aggregates carry their weighted sums (none when weighting is off)
    weights = build_weights(warehouse, params_dir=params_dir)
    df = compute_aggregates(warehouse, codebook=codebook, weights=weights)
    target = Path(warehouse) / AGGREGATES
    _write_if_changed(target, df)
    return target


def _write_if_changed(target: Path, df: pd.DataFrame) -> None:
    import io

    from cxlab.report._export import atomic_write

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    data = buf.getvalue()
    if not target.exists() or target.read_bytes() != data:
        atomic_write(target, data)


def _weighting_plan(params_dir: str | Path):
    """The enabled plan of ``params/weighting.yaml``, or None (no file, or ``enabled: false``)."""
    path = Path(params_dir) / "weighting.yaml"
    if not path.is_file():
        return None
    from cxlab.weighting import load_weighting

    plan = load_weighting(path)
    return plan if plan.enabled else None


def build_weights(warehouse: str | Path, *, params_dir: str | Path = "params") -> Path | None:
    """(Re)write the survey weights of every response, company-wide and period by period.

    Weights are computed here, over the whole company's responses, and not in a report: a
    branch report sees only its own rows, and raking to branch × value-tier margins makes a
    response's weight depend on every branch's sample. The branch report reads its rows'
    weights from this table, so they equal the company report's weights for the same rows.

    Returns the weights file, or None (and removes stale files) when ``params/weighting.yaml``
    is absent or disabled.
    """
    from cxlab.io import load_responses, load_table
    from cxlab.weighting import weights_by_period

    warehouse = Path(warehouse)
    plan = _weighting_plan(params_dir)
    if plan is None:
        for f in (WEIGHTS, WEIGHTING):
            (warehouse / f).unlink(missing_ok=True)
        return None
    responses = load_responses(warehouse)
    population = load_table(warehouse, plan.population)
    if population.empty:
        raise CxlabError(f"params/weighting.yaml: the population table {plan.population!r} is "
                         "empty or missing in the warehouse")
    w, diag = weights_by_period(responses, population, plan)
    out = pd.DataFrame({"response_id": responses["response_id"].astype(str).to_numpy(),
                        "period": responses["period"].astype(str).to_numpy(),
                        "branch": responses["branch"].astype(str).to_numpy(),
                        "weight": w.to_numpy(dtype=float)})
    out = out.sort_values(["period", "branch", "response_id"], kind="stable").reset_index(drop=True)
    diag = diag.assign(period=diag["period"].astype(str))
    _write_if_changed(warehouse / WEIGHTS, out)
    _write_if_changed(warehouse / WEIGHTING, diag)
    return warehouse / WEIGHTS


def load_weights(warehouse: str | Path, *, branch: str | Sequence[str] | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(weights of the scope's responses, diagnostics per period), or None when the warehouse
    holds no weights. A branch (or a list of branches: a region) reads only its own rows
    (parquet filter)."""
    warehouse = Path(warehouse)
    if not (warehouse / WEIGHTS).is_file():
        return None
    if branch is None:
        filters = None
    elif isinstance(branch, str):
        filters = [("branch", "==", str(branch))]
    else:
        filters = [("branch", "in", [str(b) for b in branch])]
    w = pd.read_parquet(warehouse / WEIGHTS, filters=filters)
    return w, pd.read_parquet(warehouse / WEIGHTING)


def matching_aggregates(warehouse: str | Path, *, params_dir: str | Path,
                        weighted: bool) -> pd.DataFrame:
    """The aggregates, rebuilt first (:func:`build_aggregates`) when they disagree with the
    report's weighting: weighted sums missing from a weighted report's aggregates, or present
    in an unweighted one's (``params/weighting.yaml`` switched since they were built)."""
    agg = load_aggregates(warehouse)
    if all(c in agg.columns for c in NPS_SUMS) != bool(weighted) and "promoters" in agg.columns:
        build_aggregates(warehouse, params_dir=params_dir)
        agg = load_aggregates(warehouse)
    return agg


def load_aggregates(warehouse: str | Path) -> pd.DataFrame:
    """Read the aggregates table (build it first with :func:`build_aggregates`)."""
    path = Path(warehouse) / AGGREGATES
    if not path.exists():
        raise CxlabError(f"{path}: company aggregates missing (they are built by `cxlab reports`)")
    return pd.read_parquet(path)
