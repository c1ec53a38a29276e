"""Chinese tokenisation with a CX domain dictionary (jieba) and stop words."""

from __future__ import annotations

import re

import pandas as pd

from cxlab.text._resources import normalize, tokenizer, word_set

__all__ = ["clauses", "is_blank", "tokenize"]

#: Clause boundaries: Chinese and ASCII sentence punctuation, commas, line breaks, ellipses.
CLAUSE_SPLIT = re.compile(r"[,，。.!！?？;；:：\n\r\t~～…、]+|\s{2,}")
_KEEP = re.compile(r"[\u4e00-\u9fff]|[a-z0-9]", re.IGNORECASE)


def is_blank(text: object) -> bool:
    """True for ``None``, NaN/NA and strings that are empty after stripping whitespace."""
    if text is None:
        return True
    try:
        if pd.isna(text):
            return True
    except (TypeError, ValueError):
        pass
    return not str(text).strip()


def clauses(text: object) -> list[str]:
    """Split a comment into clauses at punctuation (normalised, lower case); blank → ``[]``."""
    if is_blank(text):
        return []
    return [c.strip() for c in CLAUSE_SPLIT.split(normalize(str(text))) if c.strip()]


def tokenize(text: object, *, stopwords: bool = True) -> list[str]:
    """Split Chinese (and mixed Chinese/English) text into words.

    jieba with the cxlab CX dictionary (``cxlab/text/data/user_dict.txt``), after full-width to
    half-width normalisation and lower-casing. Punctuation, whitespace, emoji and (unless
    ``stopwords=False``) the stop words of ``cxlab/text/data/stopwords.txt`` are dropped.

    Parameters
    ----------
    text : str or None
        The comment; ``None``, NaN and blank strings give ``[]``.
    stopwords : bool, default True
        Drop stop words (function words and words too generic for themes, e.g. 产品, 服务).

    Returns
    -------
    list of str

    Examples
    --------
    >>> tokenize("客服态度很好,性价比也不错👍")
    ['客服', '态度', '很好', '性价比', '不错']
    >>> tokenize(None)
    []
    """
    if is_blank(text):
        return []
    stop = word_set("stopwords.txt") if stopwords else frozenset()
    out = []
    for tok in tokenizer().cut(normalize(str(text))):
        tok = tok.strip()
        if not tok or not _KEEP.search(tok) or tok in stop:
            continue
        out.append(tok)
    return out
