"""Original row/line numbers of a frame returned by the readers, and the lines they flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["bad_lines", "original_line_array", "original_rows"]

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


def original_line_array(attrs: dict | pd.DataFrame, n: int | None = None) -> np.ndarray:
    """:func:`original_rows` as an ``int64`` array (without a Python step per row when the
    reader's line numbers are already an integer array)."""
    if isinstance(attrs, pd.DataFrame):
        n, attrs = len(attrs), attrs.attrs
    if n is None:
        raise TypeError("original_line_array(attrs, n): n is required with an attrs dict")
    for name in _LINE_ATTRS:
        lines = attrs.get(name)
        if lines is not None and not isinstance(lines, str | bytes | dict):
            if isinstance(lines, range):
                arr = np.arange(lines.start, lines.stop, lines.step, dtype=np.int64)
            elif isinstance(lines, list | tuple | np.ndarray | pd.Series | pd.Index):
                try:
                    arr = np.asarray(lines)
                except (TypeError, ValueError):
                    break
            else:
                break
            if arr.ndim != 1 or arr.dtype.kind not in "iu":
                break
            if len(arr) == n:
                return arr.astype(np.int64)
    return np.asarray(original_rows(attrs, n), dtype=np.int64)


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
