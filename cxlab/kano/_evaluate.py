"""Kano evaluation: answer coding, the Berger et al. (1993) evaluation table, Better/Worse,
category and total strength, Fong's (1996) test and DuMouchel's continuous scores."""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cxlab.metrics._common import weights_array

__all__ = ["ANSWER_CODES", "CATEGORIES", "EVALUATION_TABLE", "classify", "evaluate", "from_wide"]

#: The five Kano answers, coded 1..5 as in the codebook's ``kano5`` scale.
ANSWER_CODES: dict[int, str] = {1: "like", 2: "must-be", 3: "neutral", 4: "live_with", 5: "dislike"}

#: Kano categories in the order of the output columns ``a, o, m, i, r, q``.
CATEGORIES: tuple[str, ...] = ("A", "O", "M", "I", "R", "Q")

#: Berger et al. (1993) evaluation table: rows = functional answer 1..5, columns = dysfunctional
#: answer 1..5 (1 like, 2 must-be, 3 neutral, 4 live with, 5 dislike).
EVALUATION_TABLE: tuple[tuple[str, ...], ...] = (
    ("Q", "A", "A", "A", "O"),
    ("R", "I", "I", "I", "M"),
    ("R", "I", "I", "I", "M"),
    ("R", "I", "I", "I", "M"),
    ("R", "R", "R", "R", "Q"),
)

# Tie-break priority for the modal category: M > O > A > I, then R > Q.
_PRIORITY: tuple[str, ...] = ("M", "O", "A", "I", "R", "Q")

# DuMouchel's scores (Berger et al. 1993, section IVb): functional and dysfunctional answers.
_FUNCTIONAL_SCORE = {1: 4.0, 2: 2.0, 3: 0.0, 4: -1.0, 5: -2.0}
_DYSFUNCTIONAL_SCORE = {1: -2.0, 2: -1.0, 3: 0.0, 4: 2.0, 5: 4.0}

_OUTPUT_COLUMNS = (
    "feature", "n", "a", "o", "m", "i", "r", "q", "category", "better", "worse",
    "category_strength", "total_strength", "fong_significant", "functional_mean",
    "dysfunctional_mean",
)

# Fong (1996): one-sided 5 % normal quantile used in the published test.
_FONG_Z = 1.65

_LABELS: dict[str, int] = {
    # English (codebook kano5 aliases) and the long questionnaire wordings
    "like": 1, "i like it": 1, "i like it that way": 1,
    "expect": 2, "must-be": 2, "must be": 2, "mustbe": 2, "i expect it": 2,
    "i expect it that way": 2, "it must be that way": 2,
    "neutral": 3, "i am neutral": 3, "i'm neutral": 3,
    "live_with": 4, "live with": 4, "live-with": 4, "tolerate": 4, "i can live with it": 4,
    "i can tolerate it": 4, "i can live with it that way": 4,
    "dislike": 5, "i dislike it": 5, "i dislike it that way": 5,
    # Chinese (codebook kano5 codes)
    "喜欢": 1, "理应如此": 2, "无所谓": 3, "能忍受": 4, "不喜欢": 5,
}

_ALLOWED = "codes 1-5, " + ", ".join(repr(k) for k in (
    "like", "expect", "must-be", "neutral", "live_with", "tolerate", "dislike",
    "喜欢", "理应如此", "无所谓", "能忍受", "不喜欢",
))


def _code_one(value: Any, column: str) -> float:
    """Map one answer to its code 1..5 (``nan`` for a missing answer)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"column {column!r}: unknown Kano answer {value!r} (allowed: {_ALLOWED})")
    if isinstance(value, (int, np.integer, float, np.floating)):
        if float(value) in (1.0, 2.0, 3.0, 4.0, 5.0):
            return float(value)
        raise ValueError(f"column {column!r}: unknown Kano answer {value!r} (allowed: {_ALLOWED})")
    if isinstance(value, str):
        text = re.sub(r"\s+", " ", value.strip().lower())
        if text in ("1", "2", "3", "4", "5"):
            return float(text)
        if text in _LABELS:
            return float(_LABELS[text])
        if text == "":
            return math.nan
    raise ValueError(f"column {column!r}: unknown Kano answer {value!r} (allowed: {_ALLOWED})")


def _codes(series: pd.Series, column: str) -> np.ndarray:
    """Answer codes 1..5 as floats, ``nan`` where missing; raises on an unknown answer."""
    values = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
    cache: dict[tuple[type, Any], float] = {}  # keyed by type too: True == 1 but is no answer
    out = np.empty(len(values), dtype=float)
    for k, v in enumerate(values.to_numpy(dtype=object)):
        if _is_missing(v):
            out[k] = math.nan
            continue
        key = (type(v), v)
        if key not in cache:
            cache[key] = _code_one(v, column)
        out[k] = cache[key]
    return out


def _is_missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _check_columns(data: pd.DataFrame, columns: Iterable[str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ValueError(f"columns not found: {missing} (available: {list(data.columns)})")


def _as_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def classify(
    data: pd.DataFrame,
    *,
    functional: str = "functional",
    dysfunctional: str = "dysfunctional",
) -> pd.Series:
    """Classify each functional/dysfunctional answer pair with the Kano evaluation table.

    Parameters
    ----------
    data : DataFrame
        One row per answer pair.
    functional, dysfunctional : str
        Columns holding the answers to the functional ("if the product has …") and
        dysfunctional ("if the product does not have …") questions: codes 1–5 (1 like,
        2 must-be/expect, 3 neutral, 4 live with/tolerate, 5 dislike), the English labels
        ``like, expect|must-be, neutral, live_with|tolerate, dislike`` (case-insensitive) or the
        Chinese labels ``喜欢, 理应如此, 无所谓, 能忍受, 不喜欢``.

    Returns
    -------
    Series
        Named ``category``, aligned with ``data``: one of ``A`` (attractive), ``O``
        (one-dimensional), ``M`` (must-be), ``I`` (indifferent), ``R`` (reverse), ``Q``
        (questionable), or ``<NA>`` where either answer is missing.

    Raises
    ------
    ValueError
        If an answer is not a known code or label (the message names the value and column).

    Notes
    -----
    The evaluation table (rows functional, columns dysfunctional)::

                  like  must-be  neutral  live-with  dislike
        like        Q      A        A        A          O
        must-be     R      I        I        I          M
        neutral     R      I        I        I          M
        live-with   R      I        I        I          M
        dislike     R      R        R        R          Q

    References
    ----------
    Berger, C., Blauth, R., Boger, D., et al. (1993). Kano's methods for understanding
    customer-defined quality. *Center for Quality of Management Journal*, 2(4), 3–36.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxlab.kano import classify
    >>> df = pd.DataFrame({"functional": ["like", "expect", 1], "dysfunctional": ["dislike", "dislike", 1]})
    >>> classify(df).tolist()
    ['O', 'M', 'Q']
    """
    _check_columns(data, [functional, dysfunctional])
    f = _codes(data[functional], functional)
    d = _codes(data[dysfunctional], dysfunctional)
    table = np.array(EVALUATION_TABLE, dtype=object)
    ok = ~(np.isnan(f) | np.isnan(d))
    out = np.full(len(data), None, dtype=object)
    out[ok] = table[f[ok].astype(int) - 1, d[ok].astype(int) - 1]
    return pd.Series(out, index=data.index, name="category", dtype="string")


def evaluate(
    data: pd.DataFrame,
    *,
    feature: str = "feature",
    functional: str = "functional",
    dysfunctional: str = "dysfunctional",
    by: str | Sequence[str] | None = None,
    weight: str | None = None,
) -> pd.DataFrame:
    """Evaluate a Kano survey: category counts, modal category, Better/Worse, strength and tests.

    Parameters
    ----------
    data : DataFrame
        Long form, one row per respondent × feature (see :func:`from_wide` to build it).
    feature : str
        Column naming the feature.
    functional, dysfunctional : str
        Answer columns, as in :func:`classify`. A row where either answer is missing is not
        counted; an unknown answer raises ``ValueError``.
    by : str or list of str, optional
        Segment columns; one result row per segment × feature.
    weight : str, optional
        Column of non-negative survey weights (carry it into the long form with
        ``from_wide(keep=...)``). The category counts are then sums of weights and every
        share, coefficient, strength and mean is computed from them, so a weight of 2 counts
        as the row twice; Fong's test uses the Kish effective sample size (see Notes). Three
        columns are added after ``n``: ``weighted_n`` (sum of the weights of the complete
        pairs), ``effective_n`` (Kish) and ``deff`` (``n / effective_n``).

    Returns
    -------
    DataFrame
        One row per (``by`` …, feature), features in order of first appearance, columns:

        - ``[by…]`` – segment keys, when ``by`` is given;
        - ``feature`` – the feature;
        - ``n`` – complete answer pairs (unweighted);
        - ``weighted_n``, ``effective_n``, ``deff`` – only with ``weight``;
        - ``a, o, m, i, r, q`` – counts of attractive, one-dimensional, must-be, indifferent,
          reverse and questionable answers (they sum to ``n``); with ``weight`` the weighted
          counts (floats summing to ``weighted_n``);
        - ``category`` – the modal category (``A, O, M, I, R, Q``; ``<NA>`` when ``n == 0``);
        - ``better`` – satisfaction coefficient ``(A + O) / (A + O + M + I)``;
        - ``worse`` – dissatisfaction coefficient ``-(O + M) / (A + O + M + I)``;
        - ``category_strength`` – share of the modal category minus share of the second;
        - ``total_strength`` – ``(A + O + M) / n``;
        - ``fong_significant`` – whether the two most frequent categories differ by Fong's test;
        - ``functional_mean``, ``dysfunctional_mean`` – mean DuMouchel scores.

        Coefficients whose denominator is zero are ``nan``.

    Notes
    -----
    *Category.* The most frequent of the six categories. Ties are broken M > O > A > I (Berger
    et al. 1993: when in doubt, the category with the bigger effect on product quality), and
    after them R > Q: a reverse or questionable answer is counted like any other, it wins only
    when strictly more frequent than every one of A, O, M and I, and a tie between R and Q goes
    to R.

    *Better/Worse* (Timko, in Berger et al. 1993): ``better = (A+O)/(A+O+M+I)``,
    ``worse = -(O+M)/(A+O+M+I)``; R and Q answers are left out.

    *Strength* (Lee & Newcomb 1997): shares are of ``n``; ``category_strength = p_1 - p_2``
    for the two largest shares, ``total_strength = (A+O+M)/n``.

    *Fong's test* (Fong 1996, as given by Sauerwein et al. 1996): with ``a ≥ b`` the counts of
    the two most frequent categories and ``n`` the number of answers, the difference is not
    significant (α = 0.10) when ``|a − b| < 1.65 · sqrt((a + b)(2n − a − b) / (2n))``.
    Weighted, the counts are the shares of the two categories times the Kish effective sample
    size ``n_eff = (Σw)² / Σw²`` and ``n = n_eff``: the test keeps the precision of the
    weighted shares instead of treating weighted counts as counts (with equal weights it is
    the unweighted test).

    *Continuous analysis* (DuMouchel, in Berger et al. 1993): functional answers score
    like 4, must-be 2, neutral 0, live-with −1, dislike −2; dysfunctional answers score
    like −2, must-be −1, neutral 0, live-with 2, dislike 4. ``functional_mean`` and
    ``dysfunctional_mean`` average them over the complete pairs.

    References
    ----------
    Berger, C., Blauth, R., Boger, D., et al. (1993). Kano's methods for understanding
    customer-defined quality. *Center for Quality of Management Journal*, 2(4), 3–36.

    Fong, D. (1996). Using the self-stated importance questionnaire to interpret Kano
    questionnaire results. *Center for Quality of Management Journal*, 5(3), 21–24.

    Sauerwein, E., Bailom, F., Matzler, K., & Hinterhuber, H. H. (1996). The Kano model: how to
    delight your customers. *Preprints of the IX International Working Seminar on Production
    Economics*, Innsbruck, 1, 313–327.

    Lee, M. C., & Newcomb, J. F. (1997). Applying the Kano methodology to meet customer
    requirements: NASA's microgravity science program. *Quality Management Journal*, 4(3),
    95–106.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxlab.kano import evaluate
    >>> df = pd.DataFrame({
    ...     "feature": ["heated seats"] * 6,
    ...     "functional": ["like", "neutral", "dislike", "like", "dislike", "like"],
    ...     "dysfunctional": ["expect", "neutral", "tolerate", "neutral", "like", "tolerate"],
    ... })
    >>> res = evaluate(df)
    >>> res[["feature", "n", "a", "i", "r", "category"]].to_dict("records")
    [{'feature': 'heated seats', 'n': 6, 'a': 3, 'i': 1, 'r': 2, 'category': 'A'}]
    >>> float(res.loc[0, "better"]), bool(res.loc[0, "fong_significant"])
    (0.75, False)
    """
    keys = _as_list(by)
    _check_columns(data, [feature, functional, dysfunctional, *keys])
    if feature in keys:
        raise ValueError(f"by must not contain the feature column {feature!r}")
    if weight is not None:
        _check_columns(data, [weight])
    clash = sorted(set(keys) & set(_OUTPUT_COLUMNS))
    if clash:
        raise ValueError(f"by columns {clash} clash with output columns {list(_OUTPUT_COLUMNS)}")
    if data[feature].isna().any():
        rows = list(data.index[data[feature].isna()][:5])
        raise ValueError(f"column {feature!r}: missing feature name in rows {rows}")

    f = _codes(data[functional], functional)
    d = _codes(data[dysfunctional], dysfunctional)
    cats = classify(data, functional=functional, dysfunctional=dysfunctional).to_numpy(
        dtype=object, na_value=None
    )
    ok = ~(np.isnan(f) | np.isnan(d))

    work = pd.DataFrame({k: data[k].to_numpy() for k in keys}, index=pd.RangeIndex(len(data)))
    work["feature"] = data[feature].to_numpy()
    work["n"] = ok.astype(np.int64)
    w = weights_array(data, weight) if weight is not None else np.ones(len(data))
    w_ok = np.where(ok, w, 0.0)
    work["_wn"] = w_ok
    work["_w2"] = w_ok**2
    for c in CATEGORIES:
        work[c.lower()] = np.where(cats == c, w, 0.0)
    work["_fsum"] = w_ok * np.where(ok, pd.Series(f).map(_FUNCTIONAL_SCORE).to_numpy(dtype=float), 0.0)
    work["_dsum"] = w_ok * np.where(ok, pd.Series(d).map(_DYSFUNCTIONAL_SCORE).to_numpy(dtype=float), 0.0)

    group_keys = [*keys, "feature"]
    summed = work.groupby(group_keys, sort=False, dropna=False).sum()
    summed = summed.reset_index()
    if keys:
        # segments sorted; features in order of first appearance within each segment
        order = {v: i for i, v in enumerate(pd.unique(work["feature"]))}
        summed["_forder"] = summed["feature"].map(order)
        summed = summed.sort_values([*keys, "_forder"], kind="stable").drop(columns="_forder")
        summed = summed.reset_index(drop=True)

    counts = summed[[c.lower() for c in CATEGORIES]].to_numpy(dtype=float)
    n = summed["_wn"].to_numpy(dtype=float)  # the (weighted) total of the counts
    w2 = summed["_w2"].to_numpy(dtype=float)
    a, o, m, i, r, q = counts.T

    # modal category with the tie-break priority M > O > A > I > R > Q
    prio_idx = [CATEGORIES.index(c) for c in _PRIORITY]
    by_priority = counts[:, prio_idx]
    top = np.argmax(by_priority, axis=1)
    category = np.array([_PRIORITY[t] for t in top], dtype=object)
    category[n == 0] = None

    with np.errstate(invalid="ignore", divide="ignore"):
        aomi = a + o + m + i
        better = np.where(aomi > 0, (a + o) / aomi, np.nan)
        worse = np.where(aomi > 0, -(o + m) / aomi + 0.0, np.nan)  # + 0.0: no -0.0
        ranked = -np.sort(-counts, axis=1)
        first, second = ranked[:, 0], ranked[:, 1]
        category_strength = np.where(n > 0, (first - second) / n, np.nan)
        total_strength = np.where(n > 0, (a + o + m) / n, np.nan)
        # Fong on the effective sample size (= n and the counts themselves when unweighted)
        n_eff = np.where(w2 > 0, n**2 / w2, 0.0)
        f1, f2 = first / n * n_eff, second / n * n_eff
        threshold = _FONG_Z * np.sqrt((f1 + f2) * (2 * n_eff - f1 - f2) / (2 * n_eff))
        fong = np.abs(f1 - f2) >= threshold
        functional_mean = np.where(n > 0, summed["_fsum"].to_numpy() / n, np.nan)
        dysfunctional_mean = np.where(n > 0, summed["_dsum"].to_numpy() / n, np.nan)

    out = summed[group_keys].copy()  # the output column is always ``feature`` (API contract)
    out["n"] = summed["n"].astype(np.int64)
    if weight is not None:
        out["weighted_n"] = n
        out["effective_n"] = n_eff
        with np.errstate(invalid="ignore", divide="ignore"):
            out["deff"] = np.where(n_eff > 0, out["n"] / n_eff, np.nan)
    for c in CATEGORIES:
        out[c.lower()] = summed[c.lower()] if weight is not None else \
            summed[c.lower()].round().astype(np.int64)
    out["category"] = pd.array(category, dtype="string")
    out["better"] = better
    out["worse"] = worse
    out["category_strength"] = category_strength
    out["total_strength"] = total_strength
    out["fong_significant"] = pd.array(
        [pd.NA if k == 0 else bool(s) for k, s in zip(n, fong, strict=True)], dtype="boolean"
    )
    out["functional_mean"] = functional_mean
    out["dysfunctional_mean"] = dysfunctional_mean
    return out.reset_index(drop=True)


def _pair_fields(pair: Any) -> tuple[Hashable, str, str]:
    if isinstance(pair, Mapping):
        try:
            return pair["feature"], pair["functional"], pair["dysfunctional"]
        except KeyError as err:
            raise ValueError(
                f"a pair given as a mapping needs the keys 'feature', 'functional', "
                f"'dysfunctional'; got {sorted(pair)}"
            ) from err
    if all(hasattr(pair, k) for k in ("feature", "functional", "dysfunctional")):
        return pair.feature, pair.functional, pair.dysfunctional
    if isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 3:
        return pair[0], pair[1], pair[2]
    raise ValueError(
        "each pair must be (feature, functional_column, dysfunctional_column), a mapping with "
        f"keys 'feature', 'functional', 'dysfunctional', or a codebook KanoPair; got {pair!r}"
    )


def from_wide(
    data: pd.DataFrame,
    *,
    pairs: Iterable[Any],
    keep: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Reshape one functional/dysfunctional column pair per feature into the long form.

    Parameters
    ----------
    data : DataFrame
        One row per respondent, one column per Kano question.
    pairs : iterable
        One entry per feature: a tuple ``(feature, functional_column, dysfunctional_column)``,
        a mapping with keys ``feature, functional, dysfunctional`` (the codebook's ``kano:``
        list) or an object with those attributes (``cxlab.config.KanoPair``).
    keep : str or list of str, optional
        Columns carried into every long row (segments such as ``branch`` for ``evaluate(by=)``).

    Returns
    -------
    DataFrame
        Columns ``[keep…], respondent, feature, functional, dysfunctional``; ``respondent`` is
        the row label of ``data``. Rows are feature-major (all respondents of the first
        feature, then the second …). Answers are copied unchanged.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxlab.kano import from_wide, evaluate
    >>> wide = pd.DataFrame({"app_f": [1, 1, 2], "app_d": [5, 4, 5]})
    >>> long = from_wide(wide, pairs=[{"feature": "app", "functional": "app_f",
    ...                                "dysfunctional": "app_d"}])
    >>> long.columns.tolist()
    ['respondent', 'feature', 'functional', 'dysfunctional']
    >>> evaluate(long)[["feature", "n", "a", "o", "m", "category"]].to_dict("records")
    [{'feature': 'app', 'n': 3, 'a': 1, 'o': 1, 'm': 1, 'category': 'M'}]
    """
    keep_cols = _as_list(keep)
    parsed = [_pair_fields(p) for p in pairs]
    if not parsed:
        raise ValueError("pairs is empty: give at least one (feature, functional, dysfunctional)")
    names = [p[0] for p in parsed]
    dup = sorted({str(x) for x in names if names.count(x) > 1})
    if dup:
        raise ValueError(f"duplicate features in pairs: {dup}")
    _check_columns(data, [*keep_cols, *(c for p in parsed for c in p[1:])])
    reserved = {"respondent", "feature", "functional", "dysfunctional"} & set(keep_cols)
    if reserved:
        raise ValueError(f"keep must not name the output columns {sorted(reserved)}")
    pieces = []
    for name, fcol, dcol in parsed:
        piece = pd.DataFrame({k: data[k].to_numpy() for k in keep_cols})
        piece["respondent"] = data.index.to_numpy()
        piece["feature"] = name
        piece["functional"] = data[fcol].to_numpy()
        piece["dysfunctional"] = data[dcol].to_numpy()
        pieces.append(piece)
    return pd.concat(pieces, ignore_index=True)
