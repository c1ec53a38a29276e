"""Multi-select answers kept as joined text → one numeric 0/1 indicator column per option."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["split_multiselect", "MULTISELECT_SEPARATORS", "option_name"]

#: separators tried, in this order, when ``sep=None`` (问卷星 joins with ``┋``)
MULTISELECT_SEPARATORS = ("┋", "|", ";", ",")
_FREE_TEXT = re.compile(r"^(.*?)〖(.*)〗$", re.S)


def _tokens(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside 〖…〗 (free text may contain the separator)."""
    out, buf, depth = [], [], 0
    for ch in text:
        if ch == "〖":
            depth += 1
        elif ch == "〗" and depth:
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return [t.strip() for t in out if t.strip()]


#: "please specify" placeholders that some platforms append to an "other" option's text
_PLACEHOLDER = re.compile(r"(?<!\s)[【\[(（](请注明|请填写|请说明|please specify)[】\])）]\s*$", re.I)


def option_name(answer: str) -> str:
    """The option an answer chose, as the codebook lists it: written-in free text 〖…〗 and a
    "please specify" placeholder removed.

    >>> option_name("其他【请注明】〖亲友赠送的〗")
    '其他'
    >>> option_name("其他〖工资代发〗"), option_name("3000元以下")
    ('其他', '3000元以下')
    """
    bare = re.sub(r"〖.*?〗", "", answer, flags=re.S).strip()
    return _PLACEHOLDER.sub("", bare).strip() or bare


def _outside_free_text(text: str) -> str:
    return re.sub(r"〖.*?〗", "", text, flags=re.S)


def _detect_sep(values: list[str]) -> str:
    for sep in MULTISELECT_SEPARATORS:
        if any(sep in _outside_free_text(v) for v in values):
            return sep
    return MULTISELECT_SEPARATORS[0]


def split_multiselect(series: pd.Series, *, sep: str | None = None,
                      options: Sequence[str] | None = None) -> pd.DataFrame:
    """One numeric indicator column (1.0 chosen, 0.0 not, NaN unanswered) per option of a
    multi-select answer kept as joined text, so that ``.mean()`` is the share choosing it.

    Parameters
    ----------
    series : pandas.Series
        Joined answers, e.g. 问卷星 ``"运动┋影视┋其他【请注明】〖钓鱼〗"``.
    sep : str, optional
        The separator. ``None`` (default) takes the first of ``┋``, ``|``, ``;``, ``,`` that
        occurs (outside 〖…〗 free text) in any answer.
    options : sequence of str, optional
        Options to return, in this order, even when nobody chose them; options found in the
        data but not listed are appended after them.

    Returns
    -------
    pandas.DataFrame
        Same index as ``series``; one ``float64`` indicator column per option (in ``options``
        order, then in order of first appearance): 1.0 chosen, 0.0 not chosen, NaN not
        answered, so ``out[option].mean()`` is the share (a fraction 0–1; ×100 for the
        percentages of :mod:`cxlab.metrics`) of the respondents who answered. An "other, please specify" answer
        ``其他【请注明】〖free text〗`` (or ``其他〖free text〗``) counts for its option
        (``其他【请注明】``) and its free text goes to a ``str`` column ``<option>__text`` placed
        right after the option column (missing where no text was given) — never to a new option.
        A missing answer (``None``/``NaN``/``NA``) gives a row of ``NaN``: "not answered" is
        not "chose nothing". An empty or blank string is an answer that chose nothing
        (all ``0.0``).

    Examples
    --------
    >>> s = pd.Series(["运动┋其他【请注明】〖钓鱼〗", "影视", None])
    >>> out = split_multiselect(s)
    >>> out
        运动  其他【请注明】 其他【请注明】__text   影视
    0  1.0      1.0            钓鱼  0.0
    1  0.0      0.0             NaN  1.0
    2  NaN      NaN             NaN  NaN
    >>> float(out["影视"].mean())   # share of those who answered
    0.5
    """
    if not isinstance(series, pd.Series):
        raise TypeError(f"series must be a pandas Series, got {type(series).__name__}")
    if sep is not None and (not isinstance(sep, str) or not sep):
        raise ValueError(f"sep must be a non-empty string or None; got {sep!r}")
    missing = series.isna().to_numpy()
    texts = ["" if m else str(v) for v, m in zip(series.tolist(), missing, strict=True)]
    present = [t for t, m in zip(texts, missing, strict=True) if not m]
    sep = sep or _detect_sep(present)

    order: list[str] = list(dict.fromkeys(options or ()))
    seen = set(order)
    has_text: set[str] = set()
    parsed: list[dict[str, str | None]] = []
    for text, miss in zip(texts, missing, strict=True):
        chosen: dict[str, str | None] = {}
        if not miss:
            for tok in _tokens(text, sep):
                m = _FREE_TEXT.match(tok)
                option, free = (m.group(1).strip(), m.group(2).strip()) if m else (tok, None)
                if not option:
                    continue
                if free:
                    has_text.add(option)
                    prev = chosen.get(option)
                    free = f"{prev}{sep}{free}" if prev else free
                chosen[option] = free if free else chosen.get(option)
                if option not in seen:
                    seen.add(option)
                    order.append(option)
        parsed.append(chosen)

    data: dict[str, object] = {}
    for option in order:
        data[option] = np.array(
            [np.nan if miss else float(option in chosen)
             for chosen, miss in zip(parsed, missing, strict=True)], dtype="float64")
        if option in has_text:
            data[f"{option}__text"] = pd.array(
                [chosen.get(option) for chosen in parsed], dtype="str")
    return pd.DataFrame(data, index=series.index)
