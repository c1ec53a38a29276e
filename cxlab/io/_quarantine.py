"""Quarantine: rows that failed validation, with where and why, kept for a human to fix.

Each ingest run writes ``<quarantine_dir>/quarantine-<run_id>.csv`` (when it quarantined
anything) and appends the same rows, with ``run_id`` and ``time``, to
``<quarantine_dir>/quarantine_log.csv``. Columns: ``file, row, column, value, reason`` — ``row``
is the 1-based row (spreadsheet) or line (text file) in the ORIGINAL file, so the header lines
count; ``column`` is the export's own column name. One record per quarantined row: when a row
has several problems, ``column``/``value`` show the first and ``reason`` lists all of them.
Files are UTF-8 with BOM so that Excel shows the Chinese text, and every text cell that a
spreadsheet would run as a formula is neutralised (:func:`neutralise_formulas`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cxlab.io._validate import Issues

__all__ = ["QUARANTINE_COLUMNS", "neutralise_formulas", "quarantine_records", "write_quarantine"]

QUARANTINE_COLUMNS = ["file", "row", "column", "value", "reason"]
_MAX_VALUE = 200
#: First characters that make Excel/LibreOffice/WPS evaluate a cell (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    A cell that starts with ``= + - @``, a tab or a carriage return (or their full-width forms)
    gets a leading apostrophe, which spreadsheets show as text and do not evaluate. Use it on
    every table written for humans to open in Excel (quarantine files, exports).

    Examples
    --------
    >>> import pandas as pd
    >>> safe = neutralise_formulas(pd.DataFrame({"v": ['=HYPERLINK("http://x")', "好", 5]}))
    >>> print(safe["v"][0], safe["v"][1], safe["v"][2])
    '=HYPERLINK("http://x") 好 5
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return out


def quarantine_records(issues: Issues, *, file: str, rows: dict[object, int | None]) -> pd.DataFrame:
    """One record per quarantined row (``rows`` maps the frame index to the original row)."""
    by_row: dict[object, list[tuple[str, str, str]]] = {}
    for idx, column, value, reason in issues.rows:
        by_row.setdefault(idx, []).append((column, value, reason))
    recs = []
    for idx, probs in by_row.items():
        column, value, _ = probs[0]
        reasons = list(dict.fromkeys(p[2] if not p[0] or p[0] in p[2] else f"{p[0]}: {p[2]}"
                                     for p in probs))
        recs.append({"file": file, "row": rows.get(idx), "column": column,
                     "value": value[:_MAX_VALUE], "reason": "; ".join(reasons)})
    df = pd.DataFrame(recs, columns=QUARANTINE_COLUMNS)
    df["row"] = df["row"].astype("Int64")
    return df.sort_values("row", kind="stable", na_position="last").reset_index(drop=True)


def write_quarantine(quarantine_dir: str | Path, records: pd.DataFrame, *, run_id: str,
                     time: str) -> Path | None:
    """Write this run's quarantine file and append to the cumulative log; returns the run file."""
    if records.empty:
        return None
    qdir = Path(quarantine_dir)
    qdir.mkdir(parents=True, exist_ok=True)
    run_file = qdir / f"quarantine-{run_id}.csv"
    tmp = run_file.with_name("." + run_file.name + ".tmp")
    records = neutralise_formulas(records)
    records.to_csv(tmp, index=False, encoding="utf-8-sig")
    os.replace(tmp, run_file)
    log = qdir / "quarantine_log.csv"
    out = records.assign(run_id=run_id, time=time)
    new = not log.exists()
    with open(log, "a", encoding="utf-8-sig" if new else "utf-8", newline="") as fh:
        out.to_csv(fh, index=False, header=new)
        fh.flush()
        os.fsync(fh.fileno())
    return run_file
