"""Banner tables: column percentages with column-proportion significance letters."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxlab.metrics._codebook import category_order, codebook_scale
from cxlab.metrics._common import check_choice, check_columns, kish_n_eff, weights_array
from cxlab.metrics._design import adjust_pvalues
from cxlab.metrics._tests import two_proportion_test

if TYPE_CHECKING:
    from cxlab.config import Codebook

__all__ = ["crosstab"]


def _letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, ..."""
    letters = string.ascii_uppercase
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = letters[r] + out
    return out


def crosstab(
    data: pd.DataFrame,
    *,
    row: str,
    col: str,
    weight: str | None = None,
    alpha: float = 0.05,
    row_order: Sequence[object] | None = None,
    col_order: Sequence[object] | None = None,
    codebook: Codebook | None = None,
    adjust: str | None = None,
) -> pd.DataFrame:
    """Banner table of ``row`` by ``col``: column percentages (0–100) with significance letters.

    Each banner column gets a letter (A, B, C, … in banner order, see ``col_order``). A cell carries the
    letter of every other column whose percentage it exceeds significantly, by a two-sided
    column-proportion z-test (pooled, no continuity correction) at ``alpha``, as in
    market-research banner tables. With ``adjust=None`` no correction for multiple comparisons
    is applied; ``adjust="fdr_bh"`` (Benjamini-Hochberg) or ``"holm"`` adjusts the p-values of
    all column pairs of all rows of the table together (each pair tested once) with
    :func:`cxlab.metrics.adjust_pvalues` before comparing them with ``alpha``.

    Parameters
    ----------
    data : DataFrame
        One row per response.
    row : str
        Column whose categories form the table rows (e.g. an answer).
    col : str
        Banner column (e.g. branch or channel).
    weight : str, optional
        Column of non-negative weights. Percentages are then weighted and the tests use the
        weighted percentages with Kish's effective column bases.
    alpha : float
        Significance level of the letter tests.
    row_order, col_order : sequence, optional
        Order of the row and banner categories. Default: the codebook's order when ``row``
        (``col``) is a codebook item — ordinal answers by code (a label counts as its code, so
        price bands run 300元以下 … 1,000元以上), category answers in ``options`` order —
        else sorted. Values not covered by the order come last, sorted.
    codebook : cxlab.config.Codebook, optional
        Supplies the category orders.
    adjust : {None, "fdr_bh", "holm"}
        Multiple-comparison adjustment over the table's pairwise tests.

    Returns
    -------
    DataFrame
        One row per (row category, column category): ``row``, ``col``, ``letter`` (the column's
        letter), ``count`` (unweighted), ``weighted_count``, ``base`` (unweighted column base),
        ``weighted_base``, ``effective_base`` (Kish; equals ``base`` unweighted), ``pct``
        (column %, weighted if weights are given) and ``sig`` (letters of the columns this cell
        is significantly higher than, e.g. ``"AC"``; empty if none). Rows with a missing ``row``
        or ``col`` value are left out. Table rows run in row order, then banner order.

    References
    ----------
    IBM Corp. *IBM SPSS Statistics Custom Tables*: "Compare column proportions" (z-tests, APA-style
    subscript letters).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"sat": ["yes"] * 80 + ["no"] * 20 + ["yes"] * 50 + ["no"] * 50,
    ...                    "branch": ["SH"] * 100 + ["BJ"] * 100})
    >>> t = crosstab(df, row="sat", col="branch")
    >>> t[["row", "col", "letter", "count", "pct", "sig"]]
       row col letter  count   pct sig
    0   no  BJ      A     50  50.0   B
    1   no  SH      B     20  20.0
    2  yes  BJ      A     50  50.0
    3  yes  SH      B     80  80.0   A
    >>> crosstab(df, row="sat", col="branch", row_order=["yes", "no"],
    ...          col_order=["SH", "BJ"])[["row", "col", "letter", "pct", "sig"]]
       row col letter   pct sig
    0  yes  SH      A  80.0   B
    1  yes  BJ      B  50.0
    2   no  SH      A  20.0
    3   no  BJ      B  50.0   A
    """
    check_columns(data, [row, col, *([weight] if weight else [])])
    if not (isinstance(alpha, float) and 0 < alpha < 1):
        raise ValueError(f"alpha={alpha!r} must be a number strictly between 0 and 1")
    frame = data[[row, col]].copy()
    frame["_w"] = weights_array(data, weight) if weight else 1.0
    frame = frame.dropna(subset=[row, col])
    cols = category_order(frame[col].unique(), order=col_order,
                          scale=codebook_scale(codebook, col))
    rows = category_order(frame[row].unique(), order=row_order,
                          scale=codebook_scale(codebook, row))
    letters = {c: _letter(i) for i, c in enumerate(cols)}
    base = frame.groupby(col, observed=True).size()
    wbase = frame.groupby(col, observed=True)["_w"].sum()
    ebase = frame.groupby(col, observed=True)["_w"].apply(lambda w: kish_n_eff(w.to_numpy()))
    count = frame.groupby([row, col], observed=True).size()
    wcount = frame.groupby([row, col], observed=True)["_w"].sum()
    if adjust is not None:
        check_choice("adjust", adjust, ("fdr_bh", "holm"))
    pct_of: dict = {}
    for r in rows:
        for c in cols:
            wc = float(wcount.get((r, c), 0.0))
            pct_of[r, c] = wc / float(wbase[c]) if wbase[c] > 0 else np.nan
    tests: dict = {}  # (row, first column, second column) -> (p-value, first minus second)
    for r in rows:
        for i, c in enumerate(cols):
            for other in cols[i + 1:]:
                p1, p2 = pct_of[r, c], pct_of[r, other]
                n1, n2 = float(ebase[c]), float(ebase[other])
                if np.isnan(p1) or np.isnan(p2) or n1 <= 0 or n2 <= 0:
                    continue
                res = two_proportion_test(p1 * n1, n1, p2 * n2, n2)
                tests[r, c, other] = (res.pvalue, res.diff)
    keys = list(tests)
    pv = np.array([tests[k][0] for k in keys], dtype=float)
    if adjust is not None and pv.size:
        pv = adjust_pvalues(pv, method=adjust)
    higher: dict = {}
    for k, p in zip(keys, pv, strict=True):
        r, c, other = k
        if p < alpha and tests[k][1] != 0:
            hi, lo = (c, other) if tests[k][1] > 0 else (other, c)
            higher.setdefault((r, hi), set()).add(lo)
    records = []
    for r in rows:
        for c in cols:
            sig = "".join(letters[o] for o in cols if o in higher.get((r, c), ()))
            records.append(
                {
                    "row": r,
                    "col": c,
                    "letter": letters[c],
                    "count": int(count.get((r, c), 0)),
                    "weighted_count": float(wcount.get((r, c), 0.0)),
                    "base": int(base[c]),
                    "weighted_base": float(wbase[c]),
                    "effective_base": float(ebase[c]),
                    "pct": 100 * pct_of[r, c],
                    "sig": sig,
                }
            )
    return pd.DataFrame(records)
