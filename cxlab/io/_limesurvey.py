"""LimeSurvey response exports (CSV, "question code" headings, "answer codes").

Layout (LimeSurvey export_helper; exports quoted in public repositories): UTF-8 with BOM,
``;`` or ``,`` between fields, every field quoted, CRLF; metadata ``id, submitdate, lastpage,
startlanguage, seed, startdate, datestamp``; question codes as headers (``SAT[SQ001]``,
``CH[other]``); answers as codes (``A1``, ``Y``) and ``N/A`` for a NULL (question not shown or
not answered) when the export writes NULL as ``N/A``.
"""

from __future__ import annotations

import pandas as pd

from cxlab.io._frame import build_frame, clean_header, unique_names
from cxlab.io._text import Grid

__all__ = ["is_limesurvey", "parse_limesurvey", "NULL_TOKENS"]

NULL_TOKENS = ("N/A",)


def is_limesurvey(header: list[str]) -> bool:
    """``id`` and ``submitdate`` with ``lastpage`` or ``startlanguage`` in the header."""
    names = set(header)
    return {"id", "submitdate"} <= names and bool({"lastpage", "startlanguage"} & names)


def parse_limesurvey(grid: Grid) -> tuple[pd.DataFrame, dict]:
    """Frame and attrs of a LimeSurvey export grid. ``N/A`` cells become missing and are
    counted in ``attrs["skip_codes"]``; ``labels`` is empty (code headings carry no text)."""
    names = unique_names([clean_header(c) for c in grid.rows[0]])
    frame, bad, counts = build_frame(names, grid.rows[1:], grid.lines[1:], na_tokens=NULL_TOKENS)
    attrs = {
        "source": "limesurvey",
        "header_rows": 1,
        "labels": {},
        "skip_codes": counts,
        "bad_lines": bad,
        "kept_lines": list(grid.lines[1:]),
    }
    return frame, attrs
