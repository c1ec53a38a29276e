"""The dashboard's query layer: DuckDB over the warehouse, every query bound to a user's scope.

Security rule: every function here takes the user's :class:`~cxlab.dashboard.Scope` and builds
its ``WHERE`` clause with :func:`where`, which always adds ``branch IN (<scope>)``. Filter values
travel as DuckDB parameters (``?``), never as SQL text; column names come only from the fixed
whitelist of :class:`Warehouse.dimensions`. A filter value outside the scope is dropped
(:func:`clean_filters`), so a hand-edited URL or a direct server call can narrow the scope but
never widen it. The only figures computed outside the scope are the company-wide totals of
:func:`company_benchmark` (全公司 NPS/CSAT, one number each, no branch breakdown), the
benchmark the reports print too. The per-cell cube the NPS/CSAT figures read (``dash_cube``,
see :func:`open_warehouse`) keeps the ``branch`` column and goes through the same :func:`where`,
so it is bound to the scope exactly as the respondent table is; its cells' counts are summed
before the n < 30 suppression, as the respondents are counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.config import Codebook, Org
from cxlab.dashboard._users import Scope
from cxlab.errors import CxlabError
from cxlab.metrics._common import MIN_BASE

__all__ = ["MEASURES", "Filters", "Warehouse", "clean_filters", "company_benchmark", "kpis",
           "league", "nps_by", "nps_from_counts", "open_warehouse", "pivot", "pivot_wide",
           "touchpoints", "verbatims", "where"]

TABLE = "dash"
#: the per-cell sums of :func:`_build_cube` (one row per period × branch × dimension values ×
#: NPS score × CSAT score): what the NPS/CSAT figures read when it is much smaller than ``dash``
CUBE = "dash_cube"
#: the cube is kept when it has at most this share of the respondent table's rows
CUBE_MAX_SHARE = 0.25
#: Pivot measures (name -> label).
MEASURES = {"nps": "NPS", "top2": "好评率(top-2 %)", "mean": "均值", "count": "样本量"}
_PERIOD = re.compile(r"^[0-9]{4}Q[1-4]$")
_FIXED_DIMS = {"period": "期间", "region": "区域", "branch": "机构"}
_CUSTOMER_DIMS = {"customer_type": "客户类型", "industry": "行业", "value_tier": "价值层级"}
#: the value tiers of the customers' value score (tertiles), high to low
VALUE_TIERS = ("高价值", "中价值", "低价值")


@dataclass(frozen=True, slots=True, kw_only=True)
class Filters:
    """What the user asked for (all optional; empty means "everything in scope").

    ``dims`` maps a dimension column (see :attr:`Warehouse.dimensions`) to the values kept.
    ``journey`` and ``touchpoint`` narrow the attribute items (codebook), not the respondents.
    """

    period_from: str | None = None
    period_to: str | None = None
    branches: tuple[str, ...] = ()
    dims: dict[str, tuple[str, ...]] = field(default_factory=dict)
    journey: tuple[str, ...] = ()
    touchpoint: tuple[str, ...] = ()


@dataclass(slots=True, kw_only=True)
class Warehouse:
    """An in-memory DuckDB table of the responses the dashboard reads, plus its vocabulary."""

    con: object
    codebook: Codebook
    org: Org
    dimensions: dict[str, str]        # column -> label (filterable, pivotable)
    measures: dict[str, str]          # rating item -> label (pivot items)
    periods: list[str]
    branch_names: dict[str, str]
    region_of: dict[str, str]
    root: Path | None = None          # the warehouse folder (saved views live below it)
    #: True when the table has the reports' survey weights (column ``weight``): scope KPIs,
    #: trend, pivot, touchpoints and the league are then weighted like the reports.
    weighted: bool = False
    params_dir: Path | None = None    # the project's params (alerts, text taxonomy, weighting)
    #: the table of per-cell counts and weight sums (:data:`CUBE`) that :func:`nps_by` (and so
    #: the KPIs, trend, benchmark, league and NPS pivot) aggregates instead of the respondents,
    #: or None (every query reads ``dash``)
    cube: str | None = None
    #: company-wide benchmarks by period range (:func:`company_benchmark`): the table is loaded
    #: once and never changes while the dashboard runs, and the benchmark ignores every other
    #: filter, so most filter changes reuse it
    benchmarks: dict = field(default_factory=dict, repr=False)

    def close(self) -> None:
        self.con.close()

    def levels(self, dim: str) -> list[str]:
        """The natural order of a dimension's values, where one is known: the value tiers
        高价值 → 低价值, a codebook item's options in questionnaire order, the org's regions and
        branches; empty otherwise (values then sort as text)."""
        if dim == "value_tier":
            return list(VALUE_TIERS)
        if dim == "region":
            return list(dict.fromkeys(self.region_of.get(b) for b in self.branch_names))
        if dim == "branch":
            return list(self.branch_names)
        if dim in {i.id for i in self.codebook.items}:
            scale = self.codebook.scales.get(self.codebook.item(dim).scale)
            return list(scale.options or []) if scale is not None else []
        return []

    def sort_levels(self, dim: str, values) -> list:
        """``values`` in the dimension's natural order (:meth:`levels`); values outside it
        follow, as text, and missing values last."""
        rank = {v: k for k, v in enumerate(self.levels(dim))}
        return sorted(values, key=lambda v: (pd.isna(v), rank.get(v, len(rank)), str(v)))


def _q(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def open_warehouse(warehouse: str | Path, *, codebook: Codebook, org: Org,
                   params_dir: str | Path | None = None,
                   weighted: bool | None = None, cube: bool | None = None) -> Warehouse:
    """Load the responses (and the customers' type/industry/value tier) into an in-memory DuckDB
    table ``dash`` with ``region`` and ``branch_name`` columns from the org.

    Only the columns the dashboard uses are copied: period, branch, channel, the codebook's
    dimension items, the rating items, the comment, ``submitted_at``. Personal-data items
    (role ``pii``) are never read.

    Weights: ``weighted=None`` follows ``params_dir/weighting.yaml`` (weighted when enabled, as
    the reports are). A weighted dashboard reads the reports' survey weights
    (``<warehouse>/aggregates/weights.parquet``, :func:`cxlab.report.build_weights`, company-wide
    per period) into a ``weight`` column; they are (re)built once with ``params_dir`` when
    missing or incomplete, as :func:`cxlab.report.load_context` does.

    Cube: the NPS and CSAT figures (:func:`nps_by`, hence KPIs, trend, benchmark, league and
    the NPS pivot) need, per group, only the respondents' count, Σw and Σw² per NPS score and
    CSAT score, which add up over any slice of period × branch × dimension values. So the table
    ``dash_cube`` holds those sums per such cell, and those queries aggregate its few
    thousand rows instead of the respondents, with the same scope clause (:func:`where`).
    ``cube=None`` keeps it when it has at most :data:`CUBE_MAX_SHARE` of the rows (``True``
    always, ``False`` never). Queries that need respondents (other items, drivers, verbatims,
    cases) read ``dash``.
    """
    from cxlab.io import connect
    from cxlab.report._aggregates import WEIGHTS, _weighting_plan, build_weights

    if weighted is None:
        weighted = params_dir is not None and _weighting_plan(params_dir) is not None

    con = connect(warehouse)
    views = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "responses" not in views:
        raise CxlabError(f"{warehouse}: the warehouse has no responses (run `cxlab ingest`)")
    cols = [r[0] for r in con.execute("DESCRIBE responses").fetchall()]
    pii = set(codebook.pii_items)
    dims: dict[str, str] = {}
    if "channel" in cols:
        dims["channel"] = "渠道"
    for item in codebook.items:
        if item.role == "dimension" and item.id in cols and item.id not in pii \
                and codebook.scales[item.scale].kind == "category":
            dims[item.id] = item.label
    rating = [i for i in (codebook.nps_item, codebook.csat_item, codebook.ces_item,
                          *codebook.attribute_items) if i]
    rating = list(dict.fromkeys(i for i in rating if i in cols))
    comment = codebook.comment_item if codebook.comment_item in cols else None
    select = ["r.period", "r.branch"] + [f"r.{_q(c)}" for c in [*dims, *rating]]
    if "response_id" in cols:          # a pseudonymous survey id: row order, weights
        select.append("r.response_id")
    if comment:
        select.append(f"r.{_q(comment)} AS comment")
    if "submitted_at" in cols:
        select.append("r.submitted_at")
    join = ""
    if "customers" in views and "customer_id" in cols:
        ccols = {r[0] for r in con.execute("DESCRIBE customers").fetchall()}
        pick = []
        if "customer_type" in ccols:
            pick.append("any_value(customer_type) AS customer_type")
        if "industry" in ccols:
            pick.append("any_value(industry) AS industry")
        if "value_score" in ccols:
            # value tiers by the value score's tertiles over all customers (高/中/低价值)
            pick.append("any_value(value_score) AS value_score")
        if pick:
            join = (f"LEFT JOIN (SELECT customer_id, {', '.join(pick)} FROM customers "
                    "GROUP BY customer_id) c ON c.customer_id = r.customer_id")
            for name in ("customer_type", "industry"):
                if name in ccols:
                    select.append(f"c.{name}")
                    dims[name] = _CUSTOMER_DIMS[name]
            if "value_score" in ccols:
                select.append("CASE WHEN c.value_score IS NULL THEN NULL "
                              f"WHEN c.value_score >= q.hi THEN '{VALUE_TIERS[0]}' "
                              f"WHEN c.value_score >= q.lo THEN '{VALUE_TIERS[1]}' "
                              f"ELSE '{VALUE_TIERS[2]}' END AS value_tier")
                join += (" CROSS JOIN (SELECT quantile_cont(value_score, 2/3) AS hi, "
                         "quantile_cont(value_score, 1/3) AS lo FROM customers) q")
                dims["value_tier"] = _CUSTOMER_DIMS["value_tier"]
    units = pd.DataFrame({
        "branch": org.branch_codes,
        "branch_name": [b.name for b in org.branches],
        "region": [org.region_name(b.code) for b in org.branches],
    })
    con.register("_org_units", units)
    con.execute(f"CREATE TABLE {TABLE} AS SELECT {', '.join(select)}, u.branch_name, u.region "
                f"FROM responses r {join} LEFT JOIN _org_units u ON u.branch = r.branch "
                # sorted so that DuckDB's row-group min/max skip other branches and periods
                "ORDER BY r.branch, r.period")
    con.unregister("_org_units")
    if weighted:
        _attach_weights(con, Path(warehouse), WEIGHTS, params_dir, build_weights)
    periods = [r[0] for r in con.execute(
        f"SELECT DISTINCT period FROM {TABLE} WHERE period IS NOT NULL ORDER BY period").fetchall()]
    dimensions = {**_FIXED_DIMS, **dims}
    cube_table = None
    if cube is not False and codebook.nps_item in rating:
        cube_table = _build_cube(con, [*dimensions, "branch_name"],
                                 [i for i in (codebook.nps_item, codebook.csat_item) if i in rating],
                                 weighted=bool(weighted), always=cube is True)
    return Warehouse(con=con, codebook=codebook, org=org,
                     dimensions=dimensions, cube=cube_table,
                     measures={i: codebook.item(i).label for i in rating},
                     periods=periods,
                     branch_names=dict(zip(units["branch"], units["branch_name"], strict=True)),
                     region_of=dict(zip(units["branch"], units["region"], strict=True)),
                     root=Path(warehouse), weighted=bool(weighted),
                     params_dir=Path(params_dir) if params_dir is not None else None)


def _build_cube(con, keys: list[str], items: list[str], *, weighted: bool,
                always: bool) -> str | None:
    """Create :data:`CUBE`: per distinct (``keys``, ``items`` scores) the respondents
    (``_cnt``), Σ weight (``_sw``) and Σ weight² (``_sw2``); None (and no table) when it is
    larger than :data:`CUBE_MAX_SHARE` of the respondents unless ``always``."""
    cols = ", ".join(_q(c) for c in dict.fromkeys([*keys, *items]))
    w = "weight" if weighted else "1.0"
    con.execute(f"CREATE TABLE {CUBE} AS SELECT {cols}, CAST(count(*) AS BIGINT) AS _cnt, "
                f"sum({w}) AS _sw, sum({w} * {w}) AS _sw2 FROM {TABLE} GROUP BY ALL "
                "ORDER BY branch, period")
    (cells,), (rows,) = (con.execute(f"SELECT count(*) FROM {t}").fetchone() for t in (CUBE, TABLE))
    if always or cells <= CUBE_MAX_SHARE * rows:
        return CUBE
    con.execute(f"DROP TABLE {CUBE}")
    return None


def _sums(wh: Warehouse) -> tuple[str, str, str, str]:
    """``(table, respondents, Σw, Σw²)``: the table the NPS/CSAT figures read and the SQL
    aggregates of its rows: ``dash`` (``count(*)``, ``sum(weight)``…) or the cube's sums of
    its cells (same values, summed in another order)."""
    if wh.cube:
        return wh.cube, "sum(_cnt)", "sum(_sw)", "sum(_sw2)"
    return TABLE, "count(*)", "sum(weight)", "sum(weight * weight)"


def _attach_weights(con, warehouse: Path, weights_file: Path, params_dir, build) -> None:
    """Add the reports' ``weight`` of every response to the table (keyed by period and
    response id); rebuild the weights once when some are missing, else refuse."""
    cols = [r[0] for r in con.execute(f"DESCRIBE {TABLE}").fetchall()]
    if "response_id" not in cols:
        raise CxlabError(f"{warehouse}: responses without response_id cannot be weighted")
    for attempt in range(2):
        path = warehouse / weights_file
        if path.is_file():
            con.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS weight DOUBLE")
            con.execute(f"UPDATE {TABLE} SET weight = w.weight FROM read_parquet(?) w "
                        f"WHERE CAST(w.period AS VARCHAR) = CAST({TABLE}.period AS VARCHAR) "
                        f"AND CAST(w.response_id AS VARCHAR) = CAST({TABLE}.response_id AS VARCHAR)",
                        [str(path)])
            missing = con.execute(f"SELECT count(*) FROM {TABLE} WHERE weight IS NULL").fetchone()[0]
            if missing == 0:
                return
        if attempt == 0 and params_dir is not None:
            build(warehouse, params_dir=params_dir)
        else:
            break
    raise CxlabError(f"{warehouse / weights_file}: survey weights missing for some responses "
                     "(params/weighting.yaml is enabled; run `cxlab reports` or check the customers table)")


def clean_filters(wh: Warehouse, filters: Filters, scope: Scope) -> Filters:
    """The filters with everything unknown or outside the scope dropped.

    Branches outside the scope, unknown dimension columns, malformed periods and the
    ``branch``/``region``/``period`` columns as free dimensions are removed.
    """
    pf = filters.period_from if isinstance(filters.period_from, str) and _PERIOD.match(filters.period_from) else None
    pt = filters.period_to if isinstance(filters.period_to, str) and _PERIOD.match(filters.period_to) else None
    dims = {}
    for col, values in (filters.dims or {}).items():
        if col in wh.dimensions and col not in ("branch", "period") and values:
            dims[col] = tuple(str(v) for v in values if isinstance(v, str | int))
    return replace(filters, period_from=pf, period_to=pt,
                   branches=tuple(scope.allowed(filters.branches)), dims=dims,
                   journey=tuple(str(v) for v in filters.journey),
                   touchpoint=tuple(str(v) for v in filters.touchpoint))


def where(wh: Warehouse, filters: Filters, scope: Scope | None) -> tuple[str, list]:
    """``(sql, params)`` of the WHERE clause: the scope, then the filters (all parameterised).

    ``scope=None`` is only used by :func:`company_benchmark` (the company-wide total).
    """
    f = clean_filters(wh, filters, scope) if scope is not None else filters
    parts, params = [], []
    if scope is not None:
        branches = list(f.branches) or list(scope.branches)
        if not branches:
            return "FALSE", []
        parts.append(f"branch IN ({', '.join('?' * len(branches))})")
        params += branches
    if f.period_from:
        parts.append("period >= ?")
        params.append(f.period_from)
    if f.period_to:
        parts.append("period <= ?")
        params.append(f.period_to)
    for col, values in f.dims.items():
        if col not in wh.dimensions:
            continue
        if values:
            parts.append(f"{_q(col)} IN ({', '.join('?' * len(values))})")
            params += list(values)
    return (" AND ".join(parts) or "TRUE"), params


def _top_threshold(wh: Warehouse, item: str) -> float:
    t = wh.codebook.scale_of(item).top_threshold
    if t is None:
        raise CxlabError(f"item {item!r} has no top box (not a rating scale)")
    return float(t)


def nps_from_counts(promoters: int, passives: int, detractors: int) -> dict:
    """NPS statistics from the three counts DuckDB returns: :func:`cxlab.metrics.nps_from_counts`
    (the same code as :func:`cxlab.metrics.nps`, adjusted-Wald 95 % interval, without expanding
    the counts into a frame of respondents)."""
    from cxlab.metrics import nps_from_counts as _from_counts

    return _from_counts(promoters, passives, detractors)


def _nps_rows(counts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """NPS, SE and adjusted-Wald CI per row of promoter/passive/detractor counts
    (:func:`nps_from_counts`, equal to :func:`cxlab.metrics.nps` on the same respondents)."""
    rows = []
    for rec in counts.to_dict("records"):
        p, pa, d = (int(rec[k] or 0) for k in ("promoters", "passives", "detractors"))
        if p + pa + d == 0:
            continue
        rows.append({**{k: rec[k] for k in keys}, **nps_from_counts(p, pa, d)})
    cols = [*keys, "n", "promoters", "passives", "detractors", "pct_promoters", "pct_passives",
            "pct_detractors", "nps", "se", "ci_low", "ci_high"]
    out = pd.DataFrame(rows, columns=cols)
    return _suppress(out, ["pct_promoters", "pct_passives", "pct_detractors", "nps", "se",
                           "ci_low", "ci_high"])


def _suppress(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Blank the statistics of rows with n < MIN_BASE (the reports' small-base rule)."""
    frame = frame.copy()
    small = (frame["n"] < MIN_BASE).to_numpy()
    for c in cols:
        frame[c] = np.where(small, np.nan, frame[c].astype(float).to_numpy())
    return frame


def _count(rows: str, cond: str) -> str:
    """The respondents meeting ``cond`` (``rows``: ``count(*)`` or the cube's ``sum(_cnt)``)."""
    return f"CAST(coalesce({rows} FILTER (WHERE {cond}), 0) AS BIGINT)"


def _counts_sql(item: str, rows: str = "count(*)") -> str:
    c = _q(item)
    return (f"{_count(rows, f'{c} IS NOT NULL')} AS n, {_count(rows, f'{c} >= 9')} AS promoters, "
            f"{_count(rows, f'{c} >= 7 AND {c} < 9')} AS passives, "
            f"{_count(rows, f'{c} < 7')} AS detractors")


def _weighted_cells(wh: Warehouse, sql_where: str, params: list, keys: list[str], value: str,
                    extra: list) -> dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per group of ``keys``: for each distinct value of ``value`` (an SQL expression with few
    values: a score class or a 0/1 indicator; NULL = not answered) the sum of the respondents'
    weights and the sum of their squared weights, from one DuckDB aggregate. That is all the
    weighted estimate and its linearisation variance need when the value takes few values:
    sum w (y - est)^2 over respondents = sum over values of (sum w) (y - est)^2, and likewise
    with w^2; the rows per group are as few as the values, whatever the weights are. Also the
    respondents per value (the n of the n/(n-1) variance factor)."""
    kq = ", ".join(_q(k) for k in keys)
    table, rows, sw, sw2 = _sums(wh)
    sql = (f"SELECT {kq + ', ' if kq else ''}{value} AS _v, {sw} AS _w, "
           f"{sw2} AS _w2, {rows} AS _k "
           f"FROM {table} WHERE {sql_where} AND ({value}) IS NOT NULL GROUP BY ALL")
    got = wh.con.execute(sql, [*extra, *params, *extra]).df()
    out: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    if got.empty:
        return out
    groups = got.groupby(keys, sort=False, dropna=False) if keys else [((), got)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        out[key] = (g["_v"].to_numpy(dtype=float), g["_w"].to_numpy(dtype=float),
                    g["_w2"].to_numpy(dtype=float), g["_k"].to_numpy(dtype=float))
    return out


def _class_sums(y: np.ndarray, arr: np.ndarray, values) -> list[float]:
    """The sums of ``arr`` over the rows of each value of ``y`` (0 where absent)."""
    return [float(arr[y == v].sum()) for v in values]


def _weighted_nps(cells, keys: list[str]) -> pd.DataFrame:
    """Weighted NPS per group from the per-class weight sums: :func:`cxlab.metrics.nps_from_sums`
    (the statistics of :func:`cxlab.metrics.nps` with ``weight=``, without one row per
    respondent: a 1M-row slice would take ~0.1 s per call); ``tests/test_dashboard_reports.py``
    checks equality with :func:`cxlab.metrics.nps` and the report to 1e-9."""
    from cxlab.metrics import nps_from_sums

    rows = []
    for key, (y, sw, sw2, k) in cells.items():
        r = nps_from_sums(*(_class_sums(y, a, (1, 0, -1)) for a in (sw, sw2, k)))
        rows.append(dict(zip(keys, key, strict=True)) | {
            "w_sum": r["w_sum"], "n_eff": r["n_eff"],
            **{f"{c}_w": r[c] for c in ("nps", "se", "ci_low", "ci_high", "pct_promoters",
                                        "pct_passives", "pct_detractors")}})
    return pd.DataFrame(rows, columns=[*keys, "w_sum", "n_eff", "nps_w", "se_w", "ci_low_w",
                                       "ci_high_w", "pct_promoters_w", "pct_passives_w",
                                       "pct_detractors_w"])


def _weighted_share(cells, keys: list[str], prefix: str) -> pd.DataFrame:
    """Weighted top-box share per group from the per-indicator weight sums:
    :func:`cxlab.metrics.share_from_sums` (the statistics of :func:`cxlab.metrics.csat` with
    ``weight=``), in %."""
    from cxlab.metrics import share_from_sums

    rows = []
    for key, (ind, sw, sw2, k) in cells.items():
        top = ind == 1
        r = share_from_sums(float(sw[top].sum()), float(sw.sum()), w2_top=float(sw2[top].sum()),
                            w2_all=float(sw2.sum()), k=float(k[top].sum()), n=float(k.sum()))
        rows.append(dict(zip(keys, key, strict=True)) | {
            f"{prefix}_w": r["share"], f"{prefix}_ci_low_w": r["ci_low"],
            f"{prefix}_ci_high_w": r["ci_high"], f"{prefix}_w_sum": r["w_sum"],
            f"{prefix}_n_eff": r["n_eff"]})
    return pd.DataFrame(rows, columns=[*keys, f"{prefix}_w", f"{prefix}_ci_low_w",
                                       f"{prefix}_ci_high_w", f"{prefix}_w_sum",
                                       f"{prefix}_n_eff"])


def _merge(out: pd.DataFrame, extra: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if not keys:
        return pd.concat([out.reset_index(drop=True), extra.reset_index(drop=True)], axis=1) \
            if len(out) else out.assign(**{c: [] for c in extra.columns})
    return out.merge(extra, on=keys, how="left")


def nps_by(wh: Warehouse, filters: Filters, scope: Scope | None, *,
           by: list[str] | None = None, with_csat: bool = False,
           weighted: bool | None = None) -> pd.DataFrame:
    """NPS (``cxlab.metrics.nps`` columns) per group of ``by`` (period, branch, region or a
    dimension) within the scope; statistics blank where n < 30.

    ``weighted`` (default: the warehouse's :attr:`Warehouse.weighted`): ``nps``, ``se``,
    ``ci_low``, ``ci_high`` and the ``pct_*`` shares are the reports' weighted estimates
    (:func:`cxlab.metrics.nps` with ``weight=``); ``nps_unweighted`` keeps the unweighted NPS,
    ``n`` and the three counts stay unweighted, ``w_sum`` is the weighted base and ``n_eff``
    Kish's effective n. ``with_csat`` adds ``csat_n`` and ``csat`` (top-box % of the CSAT item,
    weighted likewise, with ``csat_unweighted``; blank where ``csat_n`` < 30). ``scope=None``
    is only used by :func:`company_benchmark`.
    """
    item = wh.codebook.nps_item
    if item is None:
        raise CxlabError("the codebook has no NPS item (roles.nps)")
    weighted = wh.weighted if weighted is None else (weighted and wh.weighted)
    by = [b for b in (by or []) if b in wh.dimensions]
    if "branch" in by:
        by = [*by, "branch_name"]
    sql_where, params = where(wh, filters, scope)
    keys = ", ".join(_q(b) for b in by)
    table, rows, _, _ = _sums(wh)
    aggs, extra = _counts_sql(item, rows), []
    csat = wh.codebook.csat_item if with_csat else None
    if csat:
        c = _q(csat)
        aggs += (f", {_count(rows, f'{c} IS NOT NULL')} AS csat_n, "
                 f"{_count(rows, f'{c} >= ?')} AS csat_top")
        extra.append(_top_threshold(wh, csat))
    sql = (f"SELECT {keys + ', ' if keys else ''}{aggs} FROM {table} WHERE {sql_where}"
           + (f" GROUP BY {keys} ORDER BY {keys}" if keys else ""))
    counts = wh.con.execute(sql, [*extra, *params]).df()
    out = _nps_rows(counts, by + (["csat_n", "csat_top"] if csat else []))
    if csat:
        out["csat"] = np.where(out["csat_n"] >= MIN_BASE,
                               100.0 * out["csat_top"] / out["csat_n"].where(out["csat_n"] > 0),
                               np.nan)
        out = out.drop(columns=["csat_top"])
    if not weighted:
        return out
    c = _q(item)
    y = f"CASE WHEN {c} >= 9 THEN 1 WHEN {c} >= 7 THEN 0 WHEN {c} IS NOT NULL THEN -1 END"
    w = _weighted_nps(_weighted_cells(wh, sql_where, params, by, y, []), by)
    out = _merge(out, w, by)
    small = out["n"] < MIN_BASE
    out["nps_unweighted"] = out["nps"]
    for col in ("nps", "se", "ci_low", "ci_high", "pct_promoters", "pct_passives",
                "pct_detractors"):
        out[col] = out[f"{col}_w"].where(~small)
    out = out.drop(columns=[c for c in out.columns if c.endswith("_w")])
    if csat:
        cs = _q(csat)
        ind = f"CASE WHEN {cs} >= ? THEN 1.0 WHEN {cs} IS NOT NULL THEN 0.0 END"
        sw = _weighted_share(_weighted_cells(wh, sql_where, params, by, ind,
                                             [_top_threshold(wh, csat)]), by, "csat")
        out = _merge(out, sw, by)
        out["csat_unweighted"] = out["csat"]
        ok = out["csat_n"] >= MIN_BASE
        out["csat"] = out["csat_w"].where(ok)
        out["csat_ci_low"] = out["csat_ci_low_w"].where(ok)
        out["csat_ci_high"] = out["csat_ci_high_w"].where(ok)
        out = out.drop(columns=["csat_w", "csat_ci_low_w", "csat_ci_high_w"])
    return out


def _top2_mean(wh: Warehouse, item: str, filters: Filters, scope: Scope | None) -> dict:
    sql_where, params = where(wh, filters, scope)
    c = _q(item)
    n, top, mean = wh.con.execute(
        f"SELECT count({c}), count(*) FILTER (WHERE {c} >= ?), avg({c}) FROM {TABLE} "
        f"WHERE {sql_where}", [_top_threshold(wh, item), *params]).fetchone()
    ok = n >= MIN_BASE
    return {"n": int(n), "top2": (100.0 * top / n) if ok else np.nan,
            "mean": float(mean) if ok else np.nan}


def _csat_only(wh: Warehouse, filters: Filters, scope: Scope) -> pd.Series:
    """CSAT statistics of a codebook without an NPS item (weighted like :func:`nps_by`)."""
    item = wh.codebook.csat_item
    s = _top2_mean(wh, item, filters, scope)
    r = {"csat": s["top2"], "csat_unweighted": s["top2"], "csat_n": s["n"],
         "csat_ci_low": np.nan, "csat_ci_high": np.nan, "csat_w_sum": np.nan,
         "csat_n_eff": np.nan}
    if wh.weighted and s["n"]:
        sql_where, params = where(wh, filters, scope)
        c = _q(item)
        ind = f"CASE WHEN {c} >= ? THEN 1.0 WHEN {c} IS NOT NULL THEN 0.0 END"
        sw = _weighted_share(_weighted_cells(wh, sql_where, params, [], ind,
                                             [_top_threshold(wh, item)]), [], "csat").iloc[0]
        ok = s["n"] >= MIN_BASE
        r |= {"csat": sw["csat_w"] if ok else np.nan,
              "csat_ci_low": sw["csat_ci_low_w"] if ok else np.nan,
              "csat_ci_high": sw["csat_ci_high_w"] if ok else np.nan,
              "csat_w_sum": sw["csat_w_sum"], "csat_n_eff": sw["csat_n_eff"]}
    return pd.Series(r)


KPI_COLUMNS = ["kpi", "label", "value", "ci_low", "ci_high", "value_unweighted", "n", "w_sum",
               "n_eff", "weighted", "unit", "target", "op", "met"]


def kpis(wh: Warehouse, filters: Filters, scope: Scope, targets) -> pd.DataFrame:
    """The survey KPIs of ``targets`` that the codebook measures (``nps``, ``csat``) for the
    filtered scope: ``kpi, label, value, ci_low, ci_high, value_unweighted, n, w_sum, n_eff,
    weighted, unit, target, op, met`` (value blank when n < 30, as in the reports).

    With a weighted warehouse ``value`` and its 95 % interval are the reports' weighted
    estimates (the report KPI table's :func:`cxlab.metrics.nps` / ``csat`` with
    ``weight=``), ``value_unweighted`` the plain one; ``n`` is the unweighted base, ``w_sum``
    the weighted base and ``n_eff`` Kish's effective n (blank when unweighted). CSAT is the
    top-box share (%) of the CSAT item, as in :func:`cxlab.metrics.csat`.
    """
    cb = wh.codebook
    r = None
    if cb.nps_item:
        r = nps_by(wh, filters, scope, with_csat=bool(cb.csat_item))
        r = r.iloc[0] if len(r) else None
    elif cb.csat_item:
        r = _csat_only(wh, filters, scope)
    rows = []
    for k in targets.kpis:
        if k.id == "nps" and cb.nps_item:
            if r is None:
                vals = (np.nan, np.nan, np.nan, np.nan, 0, np.nan, np.nan)
            else:
                vals = (float(r["nps"]), float(r["ci_low"]), float(r["ci_high"]),
                        float(r.get("nps_unweighted", r["nps"])), int(r["n"]),
                        float(r.get("w_sum", np.nan)), float(r.get("n_eff", np.nan)))
        elif k.id == "csat" and cb.csat_item:
            if r is None:
                vals = (np.nan, np.nan, np.nan, np.nan, 0, np.nan, np.nan)
            else:
                vals = (float(r["csat"]), float(r.get("csat_ci_low", np.nan)),
                        float(r.get("csat_ci_high", np.nan)),
                        float(r.get("csat_unweighted", r["csat"])), int(r["csat_n"]),
                        float(r.get("csat_w_sum", np.nan)), float(r.get("csat_n_eff", np.nan)))
        else:
            continue
        value, lo, hi, unw, n, wsum, neff = vals
        rows.append({"kpi": k.id, "label": k.label, "value": value, "ci_low": lo, "ci_high": hi,
                     "value_unweighted": unw, "n": n, "w_sum": wsum, "n_eff": neff,
                     "weighted": wh.weighted, "unit": k.unit, "target": k.target, "op": k.op,
                     "met": (bool(k.met(value)) if not np.isnan(value) else None)})
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def company_benchmark(wh: Warehouse, filters: Filters) -> dict:
    """The company-wide NPS for the same periods (全公司; no dimension or branch filter),
    weighted like the company report when the warehouse is.

    Shown to every user as the reports' benchmark: one aggregate over all branches, never
    a breakdown, so no other branch's figure can be read from it.
    """
    f = Filters(period_from=filters.period_from, period_to=filters.period_to)
    if wh.codebook.nps_item is None:
        return {}
    key = (f.period_from, f.period_to)
    if key not in wh.benchmarks:
        r = nps_by(wh, f, None)
        wh.benchmarks[key] = ({"n": int(r["n"].iloc[0]), "nps": float(r["nps"].iloc[0])}
                              if len(r) else {})
    return dict(wh.benchmarks[key])


def league(wh: Warehouse, filters: Filters, scope: Scope) -> pd.DataFrame:
    """One row per branch in the scope (and filters): NPS with CI, CSAT top-box %, n; ranked by
    NPS, branches with n < 30 listed last with blank figures.

    Weighted with a weighted warehouse, like the reports' league table (the weighted sums of the
    branch aggregates, :func:`cxlab.report._inference.branch_status`; both through
    :func:`cxlab.metrics.nps_from_sums` and :func:`cxlab.metrics.share_from_sums`): ``nps``,
    its interval and ``csat`` weighted, with ``w_sum`` and ``n_eff`` beside the unweighted
    ``n``."""
    out = nps_by(wh, filters, scope, by=["region", "branch"], with_csat=True)
    out = out.sort_values("nps", ascending=False, na_position="last").reset_index(drop=True)
    rank = pd.array(np.arange(1, len(out) + 1), dtype="Int64")
    rank[out["nps"].isna().to_numpy()] = pd.NA
    out.insert(0, "rank", rank)
    return out


def pivot(wh: Warehouse, filters: Filters, scope: Scope, *, rows: str, cols: str | None,
          measure: str, item: str | None = None) -> pd.DataFrame:
    """A long pivot ``rows, [cols], n, value`` of ``measure`` over the filtered scope.

    ``measure`` ∈ :data:`MEASURES`: ``nps`` (of the NPS item), ``top2`` (% top-box of ``item``),
    ``mean`` (of ``item``), ``count`` (responses). Cells with n < 30 have a blank value (not
    for ``count``). With a weighted warehouse NPS, top-2 % and mean are weighted (as the
    reports' crosstabs); ``n`` and ``count`` stay unweighted.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    for d in (rows, cols):
        if d is not None and d not in wh.dimensions:
            raise ValueError(f"unknown dimension {d!r} (known: {', '.join(wh.dimensions)})")
    keys = [rows] + ([cols] if cols and cols != rows else [])
    if measure == "nps":
        out = nps_by(wh, filters, scope, by=keys)
        out = out.drop(columns=[c for c in ("branch_name",) if c not in keys], errors="ignore")
        return _level_sorted(wh, out[[*keys, "n", "nps"]].rename(columns={"nps": "value"}), keys)
    sql_where, params = where(wh, filters, scope)
    kq = ", ".join(_q(k) for k in keys)
    if measure == "count":
        agg, extra = "count(*) AS n, count(*) AS value", []
    else:
        item = item or wh.codebook.csat_item
        if item not in wh.measures:
            raise ValueError(f"unknown item {item!r} (known: {', '.join(wh.measures)})")
        c = _q(item)
        w = "weight" if wh.weighted else "1.0"
        if measure == "mean":
            agg = (f"count({c}) AS n, sum({w} * {c}) / nullif(sum({w}) FILTER "
                   f"(WHERE {c} IS NOT NULL), 0) AS value")
            extra = []
        else:
            agg = (f"count({c}) AS n, 100.0 * coalesce(sum({w}) FILTER (WHERE {c} >= ?), 0) / "
                   f"nullif(sum({w}) FILTER (WHERE {c} IS NOT NULL), 0) AS value")
            extra = [_top_threshold(wh, item)]
    out = wh.con.execute(f"SELECT {kq}, {agg} FROM {TABLE} WHERE {sql_where} "
                         f"GROUP BY {kq} ORDER BY {kq}", [*extra, *params]).df()
    if measure != "count":
        out["value"] = out["value"].astype(float)
        out.loc[out["n"] < MIN_BASE, "value"] = np.nan
    return _level_sorted(wh, out, keys)


def _level_sorted(wh: Warehouse, long: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``long`` with its rows in the keys' natural order (:meth:`Warehouse.levels`)."""
    if long.empty:
        return long.reset_index(drop=True)
    ranks = {k: {v: r for r, v in enumerate(wh.sort_levels(k, long[k].dropna().unique()))}
             for k in keys}
    order = np.lexsort([long[k].map(ranks[k]).fillna(len(ranks[k])).to_numpy()
                        for k in reversed(keys)])
    return long.iloc[order].reset_index(drop=True)


def pivot_wide(long: pd.DataFrame, *, rows: str, cols: str | None) -> pd.DataFrame:
    """The long pivot as a rows × cols table of values (blank = suppressed or empty); rows and
    columns keep the order in which their values first appear in ``long`` (:func:`pivot`
    returns them in their natural order)."""
    if cols is None or cols == rows or cols not in long.columns:
        return long.set_index(rows)[["value", "n"]]
    wide = long.pivot(index=rows, columns=cols, values="value")
    return wide.loc[[v for v in pd.unique(long[rows]) if v in wide.index],
                    [v for v in pd.unique(long[cols]) if v in wide.columns]]


def touchpoints(wh: Warehouse, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Mean and top-box % of every attribute item (narrowed by journey/touchpoint filters):
    ``item, label, journey, touchpoint, n, mean, top2`` (blank where n < 30; weighted with a
    weighted warehouse, ``n`` unweighted), in one scan."""
    f = clean_filters(wh, filters, scope)
    items = []
    for item in wh.codebook.attribute_items:
        meta = wh.codebook.item(item)
        if item not in wh.measures or (f.journey and meta.journey not in f.journey) \
                or (f.touchpoint and meta.touchpoint not in f.touchpoint):
            continue
        items.append(item)
    cols = ["item", "label", "journey", "touchpoint", "n", "mean", "top2"]
    if not items:
        return pd.DataFrame(columns=cols)
    sql_where, params = where(wh, f, scope)
    aggs, extra = [], []
    for k, item in enumerate(items):
        c = _q(item)
        w = "weight" if wh.weighted else "1.0"
        aggs.append(f"count({c}) AS n{k}, coalesce(sum({w}) FILTER (WHERE {c} >= ?), 0) / "
                    f"nullif(sum({w}) FILTER (WHERE {c} IS NOT NULL), 0) AS t{k}, "
                    f"sum({w} * {c}) / nullif(sum({w}) FILTER (WHERE {c} IS NOT NULL), 0) AS m{k}")
        extra.append(_top_threshold(wh, item))
    got = wh.con.execute(f"SELECT {', '.join(aggs)} FROM {TABLE} WHERE {sql_where}",
                         [*extra, *params]).fetchone()
    rows = []
    for k, item in enumerate(items):
        n, top, mean = got[3 * k: 3 * k + 3]
        ok = n >= MIN_BASE
        meta = wh.codebook.item(item)
        rows.append({"item": item, "label": meta.label, "journey": meta.journey,
                     "touchpoint": meta.touchpoint, "n": int(n),
                     "mean": float(mean) if ok else np.nan,
                     "top2": 100.0 * top if ok else np.nan})
    return pd.DataFrame(rows, columns=cols)


@lru_cache(maxsize=50_000)
def _redacted(text: str) -> str:
    from cxlab.text import redact

    return redact(text)


def verbatims(wh: Warehouse, filters: Filters, scope: Scope, *, group: str | None = None,
              limit: int = 50) -> pd.DataFrame:
    """The newest comments in the scope, redacted (:func:`cxlab.text.redact`):
    ``period, branch_name, score, comment``. ``group`` ∈ ``promoter, passive, detractor``."""
    if "comment" not in wh.con.execute(f"DESCRIBE {TABLE}").df()["column_name"].tolist():
        return pd.DataFrame(columns=["period", "branch_name", "score", "comment"])
    sql_where, params = where(wh, filters, scope)
    item = wh.codebook.nps_item
    score = _q(item) if item else "NULL"
    cond = {"promoter": f"{score} >= 9", "passive": f"{score} >= 7 AND {score} < 9",
            "detractor": f"{score} < 7"}.get(group or "", "TRUE")
    order = "submitted_at DESC NULLS LAST, " if "submitted_at" in wh.con.execute(
        f"DESCRIBE {TABLE}").df()["column_name"].tolist() else ""
    out = wh.con.execute(
        f"SELECT period, branch_name, {score} AS score, comment FROM {TABLE} "
        f"WHERE {sql_where} AND {cond} AND comment IS NOT NULL AND trim(comment) <> '' "
        f"ORDER BY {order}period DESC LIMIT ?", [*params, int(limit)]).df()
    out["comment"] = [_redacted(t) for t in out["comment"]]
    return out
