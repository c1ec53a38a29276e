"""The data a report sees, scoped to the company, a region or one branch.

A branch report loads only its own partitions (``branch=<code>``) and the company aggregates
table; it never holds another branch's respondent-level rows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from cxlab.config import Codebook, Org, Targets, load_codebook, load_org, load_targets
from cxlab.errors import CxlabError

__all__ = ["ReportContext", "load_context"]

#: Warehouse tables besides responses that reports use (missing ones load as empty frames).
TABLES = ("tickets", "invitations", "audits", "customers", "orders", "scorecard_actuals")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportContext:
    """Everything a report template needs, loaded once in its first cell."""

    period: str
    branch: str | None
    periods: list[str]                 # every period up to and including ``period``
    responses: pd.DataFrame            # scope's responses, all periods up to ``period``
    aggregates: pd.DataFrame           # company aggregates per period × branch (counts/means)
    tables: dict[str, pd.DataFrame]    # scope's operational tables
    codebook: Codebook
    org: Org
    targets: Targets
    warehouse: Path
    params_dir: Path
    inputs: list[tuple[str, str]] = field(default_factory=list)  # (file, sha256) read
    sources: pd.DataFrame = field(default_factory=pd.DataFrame)    # raw files behind the scope
    rendered_at: str = ""
    #: Survey weights: with an enabled ``params/weighting.yaml`` ``responses`` has a ``weight``
    #: column (computed company-wide per period, :func:`cxlab.report.build_weights`) and
    #: ``weighting`` the diagnostics per period (``n, design_effect, n_eff, efficiency`` …).
    weighted: bool = False
    weighting: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: A region scope (``load_context(unit=...)``): the grouping unit's code and the branch codes
    #: below it; ``branch`` is then None and ``responses``/``tables`` hold only those branches.
    unit: str | None = None
    branches: tuple[str, ...] = ()

    @property
    def is_company(self) -> bool:
        return self.branch is None and self.unit is None

    @property
    def is_region(self) -> bool:
        return self.unit is not None

    @property
    def code(self) -> str:
        """The scope's code: the company's, the region's or the branch's."""
        return self.unit or self.branch or self.org.company.code

    @property
    def previous(self) -> str | None:
        i = self.periods.index(self.period)
        return self.periods[i - 1] if i > 0 else None

    @property
    def scope_name(self) -> str:
        if self.unit is not None:
            return self.org.name_of(self.unit)
        return self.org.company.name if self.branch is None else self.org.branch(self.branch).name

    @property
    def weight(self) -> str | None:
        """``"weight"`` when the report is weighted (pass as ``weight=``), else None."""
        return "weight" if self.weighted else None

    @property
    def current(self) -> pd.DataFrame:
        """Responses of the report's period (and scope)."""
        return self.responses[self.responses["period"] == self.period]

    def table(self, name: str, *, current: bool = False) -> pd.DataFrame:
        df = self.tables.get(name, pd.DataFrame())
        if current and "period" in df.columns:
            df = df[df["period"] == self.period]
        return df

    def branch_name(self, code: str) -> str:
        try:
            return self.org.branch(code).name
        except KeyError:
            return code


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _scoped_files(warehouse: Path, table: str, branch: str | list[str] | None) -> list[Path]:
    from cxlab.report._runner import data_inputs

    base = warehouse / table
    return sorted(data_inputs(base, branch)) if base.exists() else []


def _sources(warehouse: Path, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Raw files whose rows this scope uses, with their hash from the ingest log."""
    from cxlab.io import load_ingest_log

    used: dict[str, int] = {}
    for df in frames:
        if "source_file" in df.columns:
            for name, k in df["source_file"].value_counts().items():
                used[str(name)] = used.get(str(name), 0) + int(k)
    log = load_ingest_log(warehouse)
    if log.empty:
        return pd.DataFrame(columns=["file", "table", "rows", "sha256"])
    log = log[log["rejected"].isna()] if "rejected" in log.columns else log
    log = log.drop_duplicates("file", keep="last").set_index("file")
    # rows of warehouses written before source files were keyed by their path relative to the
    # ingested folder carry the bare file name: matched to the one logged path with that name
    base: dict[str, list[str]] = {}
    for f in log.index:
        base.setdefault(str(f).rsplit("/", 1)[-1], []).append(f)

    def entry(f: str) -> str | None:
        if f in log.index:
            return f
        same = base.get(f, [])
        return same[0] if len(same) == 1 else None

    rows = []
    for f, k in sorted(used.items()):
        e = entry(f)
        rows.append({"file": f, "table": log.loc[e, "table"] if e is not None else "",
                     "rows": k, "sha256": log.loc[e, "sha256"] if e is not None else ""})
    return pd.DataFrame(rows)


def load_context(*, period: str, branch: str | None = None,
                 warehouse: str | Path = "data/warehouse",
                 params_dir: str | Path = "params", unit: str | None = None) -> ReportContext:
    """Load the scope's data for one report.

    Parameters
    ----------
    period : reporting period, e.g. ``"2026Q3"``.
    branch : branch code, or ``None``/``"ALL"`` for the company report.
    warehouse, params_dir : where the warehouse and the parameter files are.
    unit : a grouping unit's code (a region): the context holds the partitions of the branches
        below it only (``branch`` must then be None).
    """
    from cxlab.io import load_responses, load_table
    from cxlab.report._aggregates import AGGREGATES, load_aggregates, matching_aggregates

    warehouse, params_dir = Path(warehouse), Path(params_dir)
    if branch in ("", "ALL"):
        branch = None
    codebook = load_codebook(params_dir / "codebook.yaml")
    org = load_org(params_dir / "org.yaml")
    # targets are optional: without params/targets.yaml nothing is judged against a target
    targets = (load_targets(params_dir / "targets.yaml") if (params_dir / "targets.yaml").is_file()
               else Targets(version=1, kpis=[]))
    if branch is not None:
        org.branch(branch)  # KeyError naming known branches
    scope: str | list[str] | None = branch
    branches: tuple[str, ...] = ()
    if unit is not None:
        if branch is not None:
            raise ValueError("load_context: give a branch or a unit, not both")
        branches = unit_branches(org, unit)
        scope = list(branches)

    aggregates = load_aggregates(warehouse)
    all_periods = sorted(aggregates["period"].astype(str).unique())
    if period not in all_periods:
        raise CxlabError(f"no data for period {period!r} (available: {', '.join(all_periods)})")
    periods = [p for p in all_periods if p <= period]

    responses = load_responses(warehouse, period=periods, branch=scope, org=org)
    inputs = [(str(p.relative_to(warehouse)), _sha(p))
              for p in _scoped_files(warehouse, "responses", scope)
              if any(f"period={q}" in p.parts for q in periods)]
    tables = {}
    for name in TABLES:
        if not (warehouse / name).exists():
            tables[name] = pd.DataFrame()
            continue
        if scope is None:
            df = load_table(warehouse, name)
        elif name == "scorecard_actuals":  # the supervisor scorecard is company-level
            df = pd.DataFrame()
        elif name == "orders":  # orders carry no branch: keep those of the branch's customers
            own = set(tables["customers"].get("customer_id", pd.Series(dtype=str)))
            df = load_table(warehouse, name)
            df = df[df["customer_id"].isin(own)]
        else:
            df = load_table(warehouse, name, branch=scope)
        tables[name] = df.reset_index(drop=True)
        if name != "scorecard_actuals" or scope is None:
            inputs += [(str(p.relative_to(warehouse)), _sha(p))
                       for p in _scoped_files(warehouse, name, scope)]
    responses, weighting = _attach_weights(responses, warehouse, params_dir, scope)
    # weighted reports compare branches on the aggregates' weighted sums, unweighted ones not
    aggregates = matching_aggregates(warehouse, params_dir=params_dir,
                                     weighted=weighting is not None)
    agg_path = warehouse / AGGREGATES
    inputs.append((str(AGGREGATES), _sha(agg_path)))
    if weighting is not None:
        from cxlab.report._aggregates import WEIGHTS

        inputs.append((str(WEIGHTS), _sha(warehouse / WEIGHTS)))
    sources = _sources(warehouse, [responses, *tables.values()])
    return ReportContext(
        period=period, branch=branch, periods=periods, responses=responses,
        aggregates=aggregates, tables=tables, codebook=codebook, org=org, targets=targets,
        warehouse=warehouse, params_dir=params_dir, inputs=sorted(set(inputs)), sources=sources,
        rendered_at=datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        weighted=weighting is not None,
        weighting=weighting if weighting is not None else pd.DataFrame(),
        unit=unit, branches=branches,
    )


def unit_branches(org, unit: str) -> tuple[str, ...]:
    """The branch codes below a grouping unit (a region, or any unit with sub-units); a clear
    error for an unknown code, a branch, or a unit without branches."""
    try:
        u = org.unit(unit)
    except KeyError:
        raise CxlabError(f"unknown unit {unit!r}") from None
    if u.is_branch:
        raise CxlabError(f"{unit} is a branch, not a unit with sub-units")
    branches = tuple(c for c in org.scope(unit) if c in set(org.branch_codes))
    if not branches:
        raise CxlabError(f"unit {unit!r} has no branches below it")
    return branches


def _attach_weights(responses: pd.DataFrame, warehouse: Path, params_dir: Path,
                    branch: str | list[str] | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The responses with their ``weight`` column and the diagnostics, or (responses, None)
    without an enabled ``params/weighting.yaml``.

    The weights are read from the table :func:`cxlab.report.build_weights` writes (company-wide
    per period); it is (re)built once when missing or when it lacks some of the scope's
    responses (a warehouse changed since the last build).
    """
    from cxlab.report._aggregates import _weighting_plan, build_weights, load_weights

    if _weighting_plan(params_dir) is None or responses.empty:
        return responses, None
    key = ["period", "response_id"]
    for attempt in range(2):
        loaded = load_weights(warehouse, branch=branch)
        if loaded is not None:
            w, diag = loaded
            w = w.assign(period=w["period"].astype(str), response_id=w["response_id"].astype(str))
            ids = responses[key].astype(str)
            got = ids.merge(w[[*key, "weight"]], on=key, how="left")["weight"].to_numpy()
            if not pd.isna(got).any():
                out = responses.assign(weight=got)
                return out, diag[diag["period"].isin(responses["period"].astype(str))
                                 ].reset_index(drop=True)
        if attempt == 0:
            build_weights(warehouse, params_dir=params_dir)
    raise CxlabError(f"{warehouse}: survey weights missing for some responses after rebuilding "
                     "them (params/weighting.yaml)")
