"""问卷星 (wjx.cn) exports: "按选项文本" (wjx_text) and "按选项序号" (wjx_code).

Layout (checked on the real exports in ``shared/real-exports/wjx/``): one header row —
``序号, 提交答卷时间, 所用时间, 来源, 来源详情, 来自IP`` then one column per question headed
``N、题目`` (some with trailing spaces). The code export spreads a multi-select into 0/1 columns
``第N题(选项)`` (option texts may hold parentheses: ``第8题(ACG文化(动漫、游戏等))``); matrix rows
are ``N(行标题)``.
"""

from __future__ import annotations

import re

import pandas as pd

from cxlab.io._frame import build_frame, clean_header, is_number_text, unique_names
from cxlab.io._text import Grid

__all__ = ["is_wjx", "parse_wjx", "WJX_META", "TEXT_SKIP_TOKENS", "CODE_SKIP_CODES"]

WJX_META = ("序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP")
#: text-export markers of an unanswered item: skipped by logic, left empty
TEXT_SKIP_TOKENS = ("(跳过)", "(空)", "（跳过）", "（空）")
#: code-export codes: -2 skipped by logic (跳过), -3 not shown (未显示)
CODE_SKIP_CODES = (-2, -3)

_Q_NUMBERED = re.compile(r"^(\d+)[、.．]\s*(.*)$", re.S)
_Q_OPTION = re.compile(r"^第(\d+)题[(（](.*)[)）]$", re.S)
_Q_MATRIX = re.compile(r"^(\d+)[(（](.*)[)）]$", re.S)
_DURATION = re.compile(r"^\s*(?:(\d+)\s*小时)?\s*(?:(\d+)\s*分(?:钟)?)?\s*(?:(\d+)\s*秒)?\s*$")


def question_parts(name: str) -> tuple[int, str, str] | None:
    """``(question number, kind, text)`` of a wjx question header, kind ∈ ``question``
    (``N、题目``), ``option`` (``第N题(选项)``), ``row`` (``N(行标题)``); ``None`` otherwise.

    >>> question_parts("第8题(ACG文化(动漫、游戏等))")
    (8, 'option', 'ACG文化(动漫、游戏等)')
    >>> question_parts("3、性别")
    (3, 'question', '性别')
    """
    m = _Q_OPTION.match(name)
    if m:
        return int(m.group(1)), "option", m.group(2).strip()
    m = _Q_NUMBERED.match(name)
    if m:
        return int(m.group(1)), "question", m.group(2).strip()
    m = _Q_MATRIX.match(name)
    if m:
        return int(m.group(1)), "row", m.group(2).strip()
    return None


def is_wjx(header: list[str]) -> bool:
    """问卷星 signature: ``序号`` with ``提交答卷时间`` or ``所用时间``, or ≥ 2 ``N、`` headers
    with ``序号``."""
    names = set(header)
    if "序号" not in names:
        return False
    if "提交答卷时间" in names or "所用时间" in names:
        return True
    return sum(1 for h in header if question_parts(h)) >= 2


def parse_duration(value: object) -> int | None:
    """Seconds from a 所用时间 cell (``"123秒"``, ``"2分3秒"``, or a bare number).

    >>> parse_duration("123秒"), parse_duration("2分3秒"), parse_duration(None)
    (123, 123, None)
    """
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    m = _DURATION.match(text)
    if not m or not any(m.groups()):
        return None
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def _is_code_export(names: list[str], rows: list[list]) -> bool:
    parts = [question_parts(n) for n in names]
    if any(p and p[1] == "option" for p in parts):
        return True
    qcols = [j for j, p in enumerate(parts) if p]
    saw_text = saw_value = False
    for row in rows[:200]:
        for j in qcols:
            if j >= len(row):
                continue
            cell = row[j]
            if isinstance(cell, str) and cell.strip():
                s = cell.strip()
                saw_value = True
                if "┋" in s or "〖" in s or s in TEXT_SKIP_TOKENS:
                    return False  # joined multi-select, "other" text or (跳过): text export
                if not is_number_text(s):
                    saw_text = True
            elif isinstance(cell, (int, float)) and not isinstance(cell, bool):
                saw_value = True
    # no answers at all (header-only file): the common text export
    return saw_value and not saw_text


def parse_wjx(grid: Grid, *, kind: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Frame and attrs of a 问卷星 export grid (header in the first row).

    - ``source`` is ``kind`` when given (``wjx_text`` or ``wjx_code``); otherwise ``wjx_code``
      when there are ``第N题(…)`` columns or every question cell is numeric, else ``wjx_text``.
    - Text export: ``(跳过)`` / ``(空)`` cells become missing. Code export: ``-2`` (skipped by
      logic) and ``-3`` (not shown) in question columns become missing. Either way
      ``attrs["skip_codes"]`` counts them: ``{column: {token_or_code: count}}``.
    - ``所用时间`` is kept as exported and ``所用时间_秒`` (``Int64`` seconds) is inserted after it.
    - ``labels``: ``N、题目`` → ``题目``; ``第N题(选项)`` → ``选项``; ``N(行标题)`` → ``行标题``.
    - ``question_numbers``: column → N for every question column.
    """
    names = unique_names([clean_header(c) for c in grid.rows[0]])
    data_rows = grid.rows[1:]
    data_lines = grid.lines[1:]
    code = kind == "wjx_code" if kind in ("wjx_text", "wjx_code") else _is_code_export(names, data_rows)
    tokens = () if code else TEXT_SKIP_TOKENS
    frame, bad, skip_counts = build_frame(names, data_rows, data_lines, na_tokens=tokens)

    labels: dict[str, str] = {}
    qnums: dict[str, int] = {}
    for name in names:
        parts = question_parts(name)
        if parts:
            qnums[name] = parts[0]
            labels[name] = parts[2]
    if code:
        for name in qnums:
            col = frame[name]
            if not pd.api.types.is_numeric_dtype(col):
                continue
            for c in CODE_SKIP_CODES:
                hit = col == c
                n = int(hit.sum()) if len(col) else 0
                if n:
                    skip_counts.setdefault(name, {})[c] = n
                    col = col.mask(hit.fillna(False))
            frame[name] = col
    if "所用时间" in frame.columns and "所用时间_秒" not in frame.columns:
        secs = pd.array([parse_duration(v) for v in frame["所用时间"]], dtype="Int64")
        frame.insert(frame.columns.get_loc("所用时间") + 1, "所用时间_秒", secs)
    attrs = {
        "source": "wjx_code" if code else "wjx_text",
        "header_rows": 1,
        "labels": labels,
        "question_numbers": qnums,
        "skip_codes": skip_counts,
        "bad_lines": bad,
        "kept_lines": list(data_lines),
    }
    return frame, attrs
