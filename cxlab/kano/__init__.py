"""Kano analysis: evaluation table, classification, Better/Worse, strength, Fong test,
continuous (DuMouchel) scores.

>>> from cxlab.kano import evaluate, from_wide
"""

from cxlab.kano._evaluate import (
    ANSWER_CODES,
    CATEGORIES,
    EVALUATION_TABLE,
    classify,
    evaluate,
    from_wide,
)

__all__ = ["ANSWER_CODES", "CATEGORIES", "EVALUATION_TABLE", "classify", "evaluate", "from_wide"]
