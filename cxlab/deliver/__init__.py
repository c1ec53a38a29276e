"""Deliverables management reads: Excel tab books (banner tables) and PowerPoint decks.

- :func:`build_tables` — one banner table per codebook question from responses (column
  percentages, bases, nets, significance letters with Benjamini–Hochberg control);
- :func:`write_tabbook` — the tables as an ``.xlsx`` tab book (目录 sheet, one sheet per question);
- :func:`tabbook` — the tab book of one report scope (company or branch) from the warehouse;
- :func:`deck` — the PowerPoint deck of one report scope;
- :func:`write_deliverables` — both, for every period and scope, incrementally (``make reports``).
"""

from importlib import import_module

_WHERE = {
    "Banner": "cxlab.deliver._tabbook", "BannerColumn": "cxlab.deliver._tabbook",
    "Table": "cxlab.deliver._tabbook", "build_tables": "cxlab.deliver._tabbook",
    "write_tabbook": "cxlab.deliver._tabbook", "tabbook": "cxlab.deliver._tabbook",
    "write_tables": "cxlab.deliver._tabbook",
    "deck": "cxlab.deliver._deck", "write_decks": "cxlab.deliver._deck",
    "DeliverSummary": "cxlab.deliver._run", "write_deliverables": "cxlab.deliver._run",
}

__all__ = sorted(_WHERE, key=str.lower)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'cxlab.deliver' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
