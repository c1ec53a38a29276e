"""Precision, recall and F1 per class, macro and micro averages (single- or multi-label)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

__all__ = ["classification_report"]


def _as_set(value: object) -> frozenset:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset([value])
    if isinstance(value, Iterable):
        return frozenset(value)
    try:
        if pd.isna(value):
            return frozenset()
    except (TypeError, ValueError):
        pass
    return frozenset([value])


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def classification_report(
    gold: Sequence, predicted: Sequence, *, labels: Sequence | None = None
) -> pd.DataFrame:
    """Precision, recall and F1 per label, with macro and micro averages.

    Each element of ``gold``/``predicted`` is one label (single-label classification, e.g.
    sentiment) or a collection of labels (multi-label, e.g. themes; an empty collection means
    "no label"). Missing values count as no label.

    Returns
    -------
    DataFrame
        ``label, precision, recall, f1, support, tp, fp, fn``: one row per label, then ``macro``
        (unweighted mean of the per-label values) and ``micro`` (from pooled counts; equals
        accuracy for single-label data with every label listed). ``support`` = gold count.

    Notes
    -----
    precision = tp/(tp+fp), recall = tp/(tp+fn), F1 = 2PR/(P+R); 0 when undefined.

    Examples
    --------
    >>> r = classification_report(["正面", "负面", "负面"], ["正面", "负面", "正面"])
    >>> r.set_index("label").loc[["正面", "macro"], ["precision", "recall", "f1"]]
           precision  recall        f1
    label
    正面           0.5     1.0  0.666667
    macro          0.75     0.75  0.666667
    """
    if len(gold) != len(predicted):
        raise ValueError(f"gold and predicted differ in length ({len(gold)} vs {len(predicted)})")
    g_sets = [_as_set(v) for v in gold]
    p_sets = [_as_set(v) for v in predicted]
    if labels is None:
        seen = set().union(*g_sets, *p_sets) if g_sets else set()
        labels = sorted(seen, key=str)
    recs = []
    tot = [0, 0, 0]
    for lab in labels:
        tp = sum(lab in g and lab in p for g, p in zip(g_sets, p_sets, strict=True))
        fp = sum(lab not in g and lab in p for g, p in zip(g_sets, p_sets, strict=True))
        fn = sum(lab in g and lab not in p for g, p in zip(g_sets, p_sets, strict=True))
        tot = [tot[0] + tp, tot[1] + fp, tot[2] + fn]
        recs.append((lab, *_prf(tp, fp, fn), tp + fn, tp, fp, fn))
    out = pd.DataFrame.from_records(
        recs, columns=["label", "precision", "recall", "f1", "support", "tp", "fp", "fn"]
    )
    macro = ("macro", out["precision"].mean(), out["recall"].mean(), out["f1"].mean(),
             int(out["support"].sum()), *tot)
    micro = ("micro", *_prf(*tot), int(out["support"].sum()), *tot)
    return pd.concat([out, pd.DataFrame([macro, micro], columns=out.columns)], ignore_index=True)
