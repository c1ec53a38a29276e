"""Qualtrics CSV/TSV exports.

Layout (Qualtrics "Understanding your dataset"; ropensci/qualtRics test files): three header
rows — variable names (``Q1``, ``Q2_1``, ``Q1_NPS_GROUP``, ``Q8_5_TEXT``), question text (matrix
rows as "Question - Row"), then ``{"ImportId":"QID1"}`` JSON per column. CSV usually carries a
UTF-8 BOM; TSV is UTF-16. ``Status``: 0 "IP Address", 1 "Survey Preview", 2 "Survey Test",
4 "Imported", 8 "Spam", 16 "Offline" (numeric export), or those words (choice-text export).

Legacy layout (exports made before 2017; ropensci/qualtRics tests/testthat/files/
sample_legacy.csv): two header rows — ``V1 … V10`` then the question ids (``Q1``, ``Q2_1``)
and ``LocationLatitude…``, and below them ``ResponseID, ResponseSet, Name,
ExternalDataReference, EmailAddress, IPAddress, Status, StartDate, EndDate, Finished`` then the
question texts; no ImportId row. The ``V`` columns take the names of row 2, in the current
export's spelling where one exists (``ResponseID`` → ``ResponseId``, ``ExternalDataReference``
→ ``ExternalReference``, ``EmailAddress`` → ``RecipientEmail``), so that one sources.yaml
mapping reads both layouts.
"""

from __future__ import annotations

import json
import re

import pandas as pd

from cxlab.io._frame import build_frame, clean_header, unique_names
from cxlab.io._text import Grid

__all__ = ["is_qualtrics", "parse_qualtrics", "DROPPED_STATUS", "FLAGGED_STATUS"]

#: Status values whose rows are not responses and are dropped (listed in attrs["dropped"])
DROPPED_STATUS = {"1": "Survey Preview", "survey preview": "Survey Preview",
                  "2": "Survey Test", "survey test": "Survey Test"}
#: Status values whose rows are read but flagged for quarantine (listed in attrs["bad_lines"])
FLAGGED_STATUS = {"8": "Spam", "spam": "Spam"}


#: legacy metadata names (row 2 under V1…Vn) → the current export's names
LEGACY_NAMES = {"ResponseID": "ResponseId", "ExternalDataReference": "ExternalReference",
                "EmailAddress": "RecipientEmail"}


def _is_legacy(rows: list[list]) -> bool:
    """Row 1 starts ``V1, V2, V3`` and row 2 names ``ResponseID`` and ``ResponseSet``."""
    if len(rows) < 2:
        return False
    first = [clean_header(c) for c in rows[0][:3]]
    second = {clean_header(c) for c in rows[1]}
    return first == ["V1", "V2", "V3"] and {"ResponseID", "ResponseSet"} <= second


def _import_id_row(row: list) -> bool:
    return any(isinstance(c, str) and c.lstrip().startswith('{"ImportId"') for c in row)


def is_qualtrics(rows: list[list]) -> bool:
    """Row 3 holds ``{"ImportId": …}`` cells, or (older exports without that row) the names
    row has ``StartDate``, ``Status`` and ``ResponseId``/``ResponseID``."""
    if len(rows) >= 3 and _import_id_row(rows[2]):
        return True
    if _is_legacy(rows):
        return True
    header = {clean_header(c) for c in rows[0]} if rows else set()
    return {"StartDate", "Status"} <= header and bool({"ResponseId", "ResponseID"} & header)


def _status_key(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip().lower()


def parse_qualtrics(grid: Grid) -> tuple[pd.DataFrame, dict]:
    """Frame and attrs of a Qualtrics export grid.

    - ``labels`` from header row 2; ``import_ids`` (column → ImportId) from row 3.
    - Preview (Status 1 / "Survey Preview") and test (2 / "Survey Test") rows are dropped and
      listed in ``attrs["dropped"]`` as ``(line, reason)``: they are not responses.
    - Spam (8 / "Spam") rows are kept but listed in ``attrs["bad_lines"]`` so that the ingest
      quarantines them for review: the spam flag can be wrong, so they are neither silently
      accepted nor silently dropped.
    - ``_NPS_GROUP``, ``_TEXT`` and embedded-data columns are kept as exported.
    """
    rows = grid.rows
    header_rows = 3 if len(rows) >= 3 and _import_id_row(rows[2]) else 2
    legacy = header_rows == 2 and _is_legacy(rows)
    raw_names = [clean_header(c) for c in rows[0]]
    text_row = rows[1] if len(rows) > 1 else []
    legacy_names: dict[str, str] = {}
    if legacy:   # V1…Vn take the metadata names of row 2
        for j, n in enumerate(raw_names):
            below = clean_header(text_row[j]) if j < len(text_row) else ""
            if re.fullmatch(r"V[0-9]+", n) and below:
                new = LEGACY_NAMES.get(below, below)
                legacy_names[new] = n
                raw_names[j] = new
    names = unique_names(raw_names)
    labels = {n: clean_header(text_row[j]) for j, n in enumerate(names)
              if j < len(text_row) and clean_header(text_row[j])
              and not (legacy and n in legacy_names)}
    import_ids: dict[str, str] = {}
    if header_rows == 3:
        for j, n in enumerate(names):
            if j < len(rows[2]):
                raw = clean_header(rows[2][j])
                try:
                    import_ids[n] = json.loads(raw).get("ImportId", raw)
                except (ValueError, AttributeError):
                    import_ids[n] = raw
    status_j = names.index("Status") if "Status" in names else None
    kept_rows, kept_lines, dropped, flagged = [], [], [], []
    for row, line in zip(rows[header_rows:], grid.lines[header_rows:], strict=True):
        if status_j is not None and status_j < len(row):
            key = _status_key(row[status_j])
            if key in DROPPED_STATUS:
                dropped.append((line, f"Qualtrics Status={row[status_j]} ({DROPPED_STATUS[key]})"))
                continue
            if key in FLAGGED_STATUS:
                flagged.append((line, f"Qualtrics Status={row[status_j]} ({FLAGGED_STATUS[key]})"))
        kept_rows.append(row)
        kept_lines.append(line)
    frame, bad, _ = build_frame(names, kept_rows, kept_lines)
    attrs = {
        "source": "qualtrics",
        "header_rows": header_rows,
        "labels": labels,
        "import_ids": import_ids,
        "dropped": dropped,
        "bad_lines": sorted(bad + flagged),
        "kept_lines": kept_lines,
    }
    if legacy:
        attrs["layout"] = "legacy"
        attrs["legacy_names"] = legacy_names
    return frame, attrs
