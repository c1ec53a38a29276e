"""SurveyMonkey CSV/XLSX exports ("All responses data", expanded or condensed).

Layout (SurveyMonkey help; real exports quoted in public repositories): two header rows. Row 1
holds the metadata names (``Respondent ID, Collector ID, Start Date, End Date, IP Address,
Email Address, First Name, Last Name, Custom Data 1``) and each question's text, written once and
left blank over the further columns of a matrix, multi-select or contact-form question. Row 2 is
blank under the metadata and holds ``Response``, ``Open-Ended Response``, or the matrix row /
choice / field label under a question.
"""

from __future__ import annotations

import pandas as pd

from cxlab.io._frame import build_frame, clean_header, unique_names
from cxlab.io._text import Grid

__all__ = ["is_surveymonkey", "parse_surveymonkey", "PLAIN_SUBHEADERS"]

#: row-2 words that mean "the single answer of the question above"
PLAIN_SUBHEADERS = ("Response", "Open-Ended Response")


def is_surveymonkey(rows: list[list]) -> bool:
    """``Respondent ID`` in row 1 and a second header row: blank under ``Respondent ID`` (a data
    row always has the id) or holding ``Response`` / ``Open-Ended Response``."""
    if len(rows) < 2:
        return False
    header = [clean_header(c) for c in rows[0]]
    if "Respondent ID" not in header:
        return False
    sub = [clean_header(c) for c in rows[1]]
    j = header.index("Respondent ID")
    return (j < len(sub) and sub[j] == "") or any(s in PLAIN_SUBHEADERS for s in sub)


def parse_surveymonkey(grid: Grid) -> tuple[pd.DataFrame, dict]:
    """Frame and attrs of a SurveyMonkey export grid.

    Column names: the question text (row 1, carried right over blank cells) when row 2 is
    blank, ``Response`` or ``Open-Ended Response``; otherwise ``"<question> - <row 2>"``
    (matrix row, choice, or contact field), e.g. ``"How satisfied are you with - Price"``.
    Repeats get ``.1``, ``.2``. ``labels`` maps each question column to its question text;
    ``sub_labels`` maps it to its row-2 text when that is a row/choice label.
    """
    rows = grid.rows
    top = [clean_header(c) for c in rows[0]]
    sub = [clean_header(c) for c in rows[1]] + [""] * max(0, len(top) - len(rows[1]))
    names: list[str] = []
    labels: dict[int, str] = {}
    sub_labels: dict[int, str] = {}
    question = ""
    for j, head in enumerate(top):
        below = sub[j]
        if head:
            question = head
        elif not below:
            question = ""  # a blank column with a blank row 2 ends the span
        if not question:
            names.append("")
            continue
        if not below or below in PLAIN_SUBHEADERS:
            names.append(question)
        else:
            names.append(f"{question} - {below}")
            sub_labels[j] = below
        if below:
            labels[j] = question
    names = unique_names(names)
    frame, bad, _ = build_frame(names, rows[2:], grid.lines[2:])
    attrs = {
        "source": "surveymonkey",
        "header_rows": 2,
        "labels": {names[j]: q for j, q in labels.items()},
        "sub_labels": {names[j]: s for j, s in sub_labels.items()},
        "bad_lines": bad,
        "kept_lines": list(grid.lines[2:]),
    }
    return frame, attrs
