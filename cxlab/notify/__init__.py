"""Delivery to the organisation's owners: the closed-loop case ledger and ``cxlab notify``."""

from cxlab.notify._cases import (
    CASE_COLUMNS,
    STATUSES,
    close_case,
    connect_ledger,
    fired_alerts,
    import_cases,
    list_cases,
    overdue_cases,
    sync_cases,
)

__all__ = ["CASE_COLUMNS", "STATUSES", "close_case", "connect_ledger", "fired_alerts",
           "import_cases", "list_cases", "overdue_cases", "sync_cases"]
