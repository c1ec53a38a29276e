"""Original row/line numbers of a frame returned by the readers, and the lines they flagged."""

from __future__ import annotations

import pandas as pd

__all__ = ["bad_lines", "original_rows"]

# attrs names used by the readers for "1-based line of each kept row in the original file"
_LINE_ATTRS = ("kept_lines", "row_lines", "lines", "source_lines", "rows")


def original_rows(attrs: dict | pd.DataFrame, n: int | None = None) -> list[int]:
    """1-based row (spreadsheet) or line (text) number in the original file of each row of ``df``.

    ``attrs`` is the frame's ``attrs`` (or the frame itself) and ``n`` its length. Uses the
    reader's ``row_lines``; without them (a frame built in memory), assumes ``header_rows``
    (default 1) header lines: row ``i`` of the frame is line ``i + 1 + header_rows``.
    """
    if isinstance(attrs, pd.DataFrame):
        n, attrs = len(attrs), attrs.attrs
    if n is None:
        raise TypeError("original_rows(attrs, n): n is required with an attrs dict")
    for name in _LINE_ATTRS:
        lines = attrs.get(name)
        if lines is not None and not isinstance(lines, str | bytes | dict):
            lines = list(lines)
            if len(lines) == n:
                return [int(x) for x in lines]
    header = attrs.get("header_rows", 1)
    header = 1 if header is None else int(header)
    return [i + 1 + header for i in range(n)]


def bad_lines(attrs: dict | pd.DataFrame) -> list[tuple[int | None, str]]:
    """The reader's ``bad_lines`` as ``[(line, reason)]`` (line ``None`` when unknown)."""
    out: list[tuple[int | None, str]] = []
    if isinstance(attrs, pd.DataFrame):
        attrs = attrs.attrs
    for entry in attrs.get("bad_lines") or []:
        if isinstance(entry, dict):
            line = entry.get("line", entry.get("row"))
            reason = entry.get("reason", entry.get("error", "malformed row"))
        elif isinstance(entry, tuple | list) and len(entry) >= 2:
            line, reason = entry[0], entry[1]
        else:
            line, reason = entry, "malformed row"
        try:
            line = int(line) if line is not None else None
        except (TypeError, ValueError):
            line = None
        out.append((line, str(reason)))
    return out
