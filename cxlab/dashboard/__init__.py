"""An interactive dashboard over the warehouse, scoped to each user (``cxlab dashboard``).

The logic (users, scopes, scoped DuckDB queries) lives in pure functions tested without a
browser; :mod:`cxlab.dashboard._app` is the thin Panel layer.
"""

from cxlab.dashboard._query import (
    MEASURES,
    Filters,
    Warehouse,
    clean_filters,
    company_benchmark,
    kpis,
    league,
    nps_by,
    nps_from_counts,
    open_warehouse,
    pivot,
    pivot_wide,
    touchpoints,
    verbatims,
    where,
)
from cxlab.dashboard._users import (
    ENV_USERS,
    Scope,
    User,
    hash_password,
    load_users,
    scope_branches,
    scope_for,
    verify_password,
)

__all__ = [
    "ENV_USERS", "MEASURES", "Filters", "Scope", "User", "Warehouse", "clean_filters",
    "company_benchmark", "hash_password", "kpis", "league", "load_users", "nps_by", "nps_from_counts",
    "open_warehouse", "pivot", "pivot_wide", "scope_branches", "scope_for", "touchpoints",
    "verbatims", "verify_password", "where",
]
