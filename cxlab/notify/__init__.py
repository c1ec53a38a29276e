"""Delivery to the organisation's owners: the closed-loop case ledger and ``cxlab notify``."""

from cxlab.notify._cases import (
    CASE_COLUMNS,
    STATUSES,
    close_case,
    connect_ledger,
    fired_alerts,
    import_cases,
    ledger_figures,
    list_cases,
    overdue_cases,
    sync_cases,
)
from cxlab.notify._notify import NotifySummary, notify
from cxlab.notify._params import EmailSettings, NotifySettings

__all__ = ["EmailSettings", "NotifySettings", "NotifySummary", "notify", "CASE_COLUMNS", "STATUSES", "close_case", "connect_ledger", "fired_alerts",
           "import_cases", "ledger_figures", "list_cases", "overdue_cases", "sync_cases"]
