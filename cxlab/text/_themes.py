"""Theme tagging (keyword rules of ``params/text.yaml``), theme summaries, quotes, frequent issues.

Every function here starts from one analysis of each comment (sentiment, themes, aspect
sentiment: :func:`analyse_comments`); a report section that needs several views of the same
comments analyses them once and asks the :class:`CommentAnalysis` for each view.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxlab.text._frame import id_frame, text_column
from cxlab.text._redact import redact
from cxlab.text._sentiment import LABELS, analyse, label_of, sentiment_frame
from cxlab.text._taxonomy import Taxonomy, resolve_taxonomy
from cxlab.text._tokenize import is_blank

__all__ = [
    "CommentAnalysis", "analyse_comments", "frequent_issues", "quotes", "tag_themes",
    "theme_summary",
]

_TAG_COLUMNS = ["theme", "theme_name", "matched", "sentiment", "score"]


@dataclass(frozen=True, slots=True)
class _Row:
    label: str | None
    raw: float
    themes: dict[str, tuple[list[str], float, str]]  # theme -> (matched, raw, label)


def _analyse_row(value: object, taxonomy: Taxonomy) -> _Row:
    if is_blank(value):
        return _Row(None, math.nan, {})
    total, clauses = analyse(str(value))
    overall = label_of(total)
    found: dict[str, tuple[list[str], bool, float, int]] = {}
    for theme in taxonomy.themes:
        matched: list[str] = []
        strong_any = False
        raw, hits = 0.0, 0
        for cl in clauses:
            strong, weak = theme.match(cl.text)
            if strong or weak:
                strong_any = strong_any or bool(strong)
                matched.extend(k for k in [*strong, *weak] if k not in matched)
                raw += cl.score
                hits += cl.hits
        if matched:
            found[theme.id] = (matched, strong_any, raw, hits)
    any_strong = {t for t, v in found.items() if v[1]}
    themes: dict[str, tuple[list[str], float, str]] = {}
    for tid, (matched, strong_any, raw, hits) in found.items():
        # weak keywords (等了, 好用, 专业 …) count only when no other theme is clearly present
        if not strong_any and any_strong - {tid}:
            continue
        # a theme clause without any sentiment word ("三天才到货") takes the comment's tone
        label = label_of(raw) if hits else overall
        themes[tid] = (matched, raw if hits else total, label)
    return _Row(overall, total, themes)


def _analyse_values(values, taxonomy: Taxonomy) -> tuple[_Row, ...]:
    """One :class:`_Row` per value; a text repeated in the column is analysed once."""
    seen: dict[str, _Row] = {}
    out = []
    for v in values:
        if type(v) is str:
            row = seen.get(v)
            if row is None:
                row = seen[v] = _analyse_row(v, taxonomy)
        else:
            row = _analyse_row(v, taxonomy)
        out.append(row)
    return tuple(out)


def _long(data: pd.DataFrame, tax: Taxonomy, rows: Sequence[_Row]) -> pd.DataFrame:
    ids = id_frame(data)
    name = ids.columns[0]
    recs = []
    for pos, row in enumerate(rows):
        for theme in tax.ids:
            if theme in row.themes:
                matched, raw, label = row.themes[theme]
                recs.append((pos, theme, tax.names[theme], "、".join(matched), label,
                             math.tanh(raw / 2.0)))
    out = pd.DataFrame.from_records(recs, columns=["_pos", *_TAG_COLUMNS])
    out.insert(0, name, ids[name].to_numpy()[out["_pos"].to_numpy(dtype=int)] if recs else [])
    return out.drop(columns="_pos").reset_index(drop=True)


def _by_list(by: str | Sequence[str] | None, data: pd.DataFrame) -> list[str]:
    if by is None:
        keys: list[str] = []
    elif isinstance(by, str):
        keys = [by]
    else:
        keys = list(by)
    missing = [k for k in keys if k not in data.columns]
    if missing:
        raise ValueError(f"by column(s) {missing} not in data; columns are {list(map(str, data.columns))}")
    return keys


def _check_quotes(sentiment: str | None, n: int) -> None:
    if sentiment is not None and sentiment not in LABELS:
        raise ValueError(f"sentiment must be one of {list(LABELS)} or None, got {sentiment!r}")
    if not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")


def _check_issues(top: int, examples: int) -> None:
    if not isinstance(top, int | np.integer) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    if not isinstance(examples, int | np.integer) or examples < 0:
        raise ValueError(f"examples must be a non-negative integer, got {examples!r}")


def _clip(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    open_ = cut.rfind("[")
    if open_ > cut.rfind("]"):
        cut = cut[:open_]
    return cut.rstrip() + "…"


def _quote(value: object, max_chars: int) -> str:
    return _clip(" ".join(str(redact(str(value))).split()), max_chars)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommentAnalysis:
    """The comments of a frame, each analysed once: sentiment, themes and aspect sentiment.

    Made by :func:`analyse_comments`. Its methods give the views that :func:`sentiment`,
    :func:`tag_themes`, :func:`theme_summary`, :func:`frequent_issues` and :func:`quotes`
    give for the same frame, without segmenting the comments again.

    Attributes
    ----------
    data : pandas.DataFrame
        The analysed frame (not copied; group columns for ``by=`` and the ``response_id``
        identifiers are read from it).
    text : str
        The column with the free text.
    taxonomy : Taxonomy
        The theme rules used.
    rows : tuple
        One internal record per row of ``data``: overall label and raw score, and each tagged
        theme with its matched keywords, raw score and aspect label.
    """

    data: pd.DataFrame
    text: str
    taxonomy: Taxonomy
    rows: tuple[_Row, ...]

    def sentiment(self) -> pd.DataFrame:
        """The same table as :func:`cxlab.text.sentiment` of ``data``."""
        return sentiment_frame(self.data, [r.label for r in self.rows],
                               [math.tanh(r.raw / 2.0) for r in self.rows])

    def tag_themes(self) -> pd.DataFrame:
        """The same table as :func:`tag_themes` of ``data``."""
        return _long(self.data, self.taxonomy, self.rows)

    def theme_summary(self, *, by: str | Sequence[str] | None = None) -> pd.DataFrame:
        """The same table as :func:`theme_summary` of ``data``."""
        data, tax, rows = self.data, self.taxonomy, self.rows
        keys = _by_list(by, data)
        pos = np.arange(len(data))
        nonblank = pd.Series([r.label is not None for r in rows], index=pos)
        if keys:
            groups = data[keys].reset_index(drop=True)
            grouped = nonblank.groupby([groups[k] for k in keys], dropna=False)
            denom = grouped.sum()
            gkeys = list(denom.index) if len(keys) > 1 else [(k,) for k in denom.index]
            denoms = denom.to_numpy()
            code = grouped.ngroup().to_numpy()  # position of each row's group in gkeys
        else:
            gkeys = [()]
            denoms = np.array([int(nonblank.sum())])
            code = np.zeros(len(data), dtype=int)
        counts: dict[tuple[int, str, str], int] = {}
        for p, row in enumerate(rows):
            for theme, (_, _, label) in row.themes.items():
                k = (int(code[p]), theme, label)
                counts[k] = counts.get(k, 0) + 1
        recs = []
        for gi, g in enumerate(gkeys):
            d = int(denoms[gi])
            for theme in tax.ids:
                for label in LABELS:
                    n = counts.get((gi, theme, label), 0)
                    recs.append((*g, theme, tax.names[theme], label, n, d, n / d if d else math.nan))
        return pd.DataFrame.from_records(
            recs, columns=[*keys, "theme", "theme_name", "sentiment", "n", "n_comments", "share"]
        )

    def quotes(self, *, theme: str | None = None, sentiment: str | None = None, n: int = 5,
               max_chars: int = 120) -> pd.DataFrame:
        """The same table as :func:`quotes` of ``data`` (redacted quotes)."""
        _check_quotes(sentiment, n)
        tax, rows = self.taxonomy, self.rows
        if theme is not None and theme not in tax.ids:
            raise ValueError(f"theme must be one of {tax.ids} or None, got {theme!r}")
        ids = id_frame(self.data)
        col = text_column(self.data, self.text).to_numpy()
        cands = []
        for p, row in enumerate(rows):
            if row.label is None:
                continue
            if theme is not None:
                if theme not in row.themes:
                    continue
                _, raw, label = row.themes[theme]
            else:
                raw, label = row.raw, row.label
            if sentiment is not None and label != sentiment:
                continue
            cands.append((p, label, raw))
        if sentiment == "负面":
            cands.sort(key=lambda c: c[2])
        elif sentiment == "正面":
            cands.sort(key=lambda c: -c[2])
        cands = cands[:n]
        name = ids.columns[0]
        return pd.DataFrame({
            name: [ids[name].iloc[p] for p, _, _ in cands],
            "sentiment": [lab for _, lab, _ in cands],
            "score": [math.tanh(raw / 2.0) for _, _, raw in cands],
            "quote": [_quote(col[p], max_chars) for p, _, _ in cands],
        })

    def frequent_issues(self, *, by: str | Sequence[str] | None = ("period", "branch"),
                        top: int = 5, examples: int = 2, max_chars: int = 120) -> pd.DataFrame:
        """The same table as :func:`frequent_issues` of ``data`` (redacted examples)."""
        data, tax, rows = self.data, self.taxonomy, self.rows
        keys = _by_list(by, data)
        _check_issues(top, examples)
        col = text_column(data, self.text).to_numpy()
        order = {t: i for i, t in enumerate(tax.ids)}
        groups: dict[tuple, list[int]] = {}
        if keys:
            gframe = data[keys].reset_index(drop=True)
            for p, g in enumerate(gframe.itertuples(index=False, name=None)):
                groups.setdefault(tuple(g), []).append(p)
            try:
                gorder = sorted(groups)
            except TypeError:
                gorder = list(groups)
        else:
            groups[()] = list(range(len(data)))
            gorder = [()]
        ex_cols = [f"example_{i + 1}" for i in range(examples)]
        recs = []
        for g in gorder:
            members = groups[g]
            n_comments = sum(rows[p].label is not None for p in members)
            hits: dict[str, list[tuple[float, int]]] = {}
            for p in members:
                for theme, (_, raw, label) in rows[p].themes.items():
                    if label == "负面":
                        hits.setdefault(theme, []).append((raw, p))
            ranked = sorted(hits, key=lambda t: (-len(hits[t]), order[t]))[:top]
            for rank, theme in enumerate(ranked, start=1):
                picks = sorted(hits[theme])[:examples]
                quotes_ = [_quote(col[p], max_chars) for _, p in picks]
                quotes_ += [None] * (examples - len(quotes_))
                n = len(hits[theme])
                recs.append((*g, rank, theme, tax.names[theme], n, n_comments,
                             n / n_comments if n_comments else math.nan, *quotes_))
        return pd.DataFrame.from_records(
            recs, columns=[*keys, "rank", "theme", "theme_name", "n", "n_comments", "share", *ex_cols]
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per input row: identifier, ``sentiment``, ``score`` and ``themes``.

        ``themes`` holds the ids of the tagged themes in taxonomy order, joined by ``|``
        (empty when none).
        """
        out = self.sentiment()
        ids = self.taxonomy.ids
        out["themes"] = ["|".join(t for t in ids if t in r.themes) for r in self.rows]
        return out

    def _repr_html_(self) -> str:
        n = sum(r.label is not None for r in self.rows)
        return (f"<p><b>CommentAnalysis</b>: {len(self.rows)} rows, {n} non-blank comments</p>"
                + self.to_frame().to_html(index=False, max_rows=20))


def analyse_comments(
    data: pd.DataFrame, *, text: str = "comment", taxonomy: Taxonomy | str | Path | None = None
) -> CommentAnalysis:
    """Analyse every comment once: overall sentiment, themes and their aspect sentiment.

    Segments each comment with jieba, scores it (see :func:`cxlab.text.sentiment`) and matches
    the theme rules clause by clause (see :func:`tag_themes`). A text that occurs in several
    rows is analysed once.

    Parameters
    ----------
    data : DataFrame
        One row per response; ``response_id`` is used as identifier when present.
    text : str, default "comment"
        Column with the free text.
    taxonomy : Taxonomy, path or None
        The theme rules; ``None`` loads ``params/text.yaml`` from the working directory.

    Returns
    -------
    CommentAnalysis
        With ``sentiment()``, ``tag_themes()``, ``theme_summary(by=…)``,
        ``frequent_issues(by=…, top=…, examples=…)`` and ``quotes(…)``: the tables of the
        functions of the same names, from this one analysis.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"response_id": ["a", "b"],
    ...                    "comment": ["外观很漂亮,但是客服回复太慢了", "很满意"]})
    >>> a = analyse_comments(df)
    >>> a.sentiment()["sentiment"].tolist(), a.tag_themes()["theme"].tolist()
    (['负面', '正面'], ['appearance', 'response_speed'])
    """
    tax = resolve_taxonomy(taxonomy)
    col = text_column(data, text)
    return CommentAnalysis(data=data, text=text, taxonomy=tax, rows=_analyse_values(col, tax))


def tag_themes(
    data: pd.DataFrame, *, text: str = "comment", taxonomy: Taxonomy | str | Path | None = None
) -> pd.DataFrame:
    """Tag each comment with the themes of the taxonomy whose keyword rules it matches.

    Parameters
    ----------
    data : DataFrame
        One row per response; ``response_id`` is used as identifier when present.
    text : str, default "comment"
        Column with the free text.
    taxonomy : Taxonomy, path or None
        The theme rules; ``None`` loads ``params/text.yaml`` from the working directory.

    Returns
    -------
    DataFrame
        Long format, one row per (response, theme) match, in input then taxonomy order:
        ``response_id`` (or ``index``), ``theme`` (id), ``theme_name`` (Chinese), ``matched``
        (the keywords found, joined by 、), ``sentiment`` (正面/负面/中性 of the clauses that
        mention the theme — aspect-level; a clause without any sentiment word takes the whole
        comment's label), ``score`` (tanh(raw/2) of those clauses). Comments without a theme
        (and blank ones) have no row.

    Notes
    -----
    Rules work per clause (split at ,。!?; and line breaks) on normalised, lower-case text
    (full-width letters and digits made ASCII): a clause containing one of ``unless`` is
    skipped; ``exclude`` phrases are masked; then ``keywords`` (substrings), ``patterns``
    (regular expressions) and ``weak`` keywords are looked for. A theme found only through
    weak keywords is kept only when no other theme has a (strong) keyword in the comment.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"response_id": ["a", "b"],
    ...                    "comment": ["外观很漂亮,但是客服回复太慢了", "很满意"]})
    >>> tag_themes(df)[["response_id", "theme", "theme_name", "sentiment"]]
      response_id           theme theme_name sentiment
    0           a      appearance       产品外观        正面
    1           a  response_speed       响应速度        负面
    """
    return analyse_comments(data, text=text, taxonomy=taxonomy).tag_themes()


def theme_summary(
    data: pd.DataFrame,
    *,
    text: str = "comment",
    by: str | Sequence[str] | None = None,
    taxonomy: Taxonomy | str | Path | None = None,
) -> pd.DataFrame:
    """Theme × sentiment counts (aspect level), optionally per group.

    Returns
    -------
    DataFrame
        ``[by…], theme, theme_name, sentiment, n, n_comments, share``: ``n`` responses mentioning
        the theme with that sentiment, ``n_comments`` non-blank comments in the group, ``share``
        = n / n_comments (0–1). Every theme × sentiment combination is present (zeros included).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"comment": ["价格太贵了", "性价比很高,很划算", "物流很快"]})
    >>> s = theme_summary(df)
    >>> s.loc[s.theme == "price", ["sentiment", "n"]].to_dict("list")
    {'sentiment': ['正面', '负面', '中性'], 'n': [1, 1, 0]}
    """
    _by_list(by, data)
    return analyse_comments(data, text=text, taxonomy=taxonomy).theme_summary(by=by)


def quotes(
    data: pd.DataFrame,
    *,
    text: str = "comment",
    theme: str | None = None,
    sentiment: str | None = None,
    n: int = 5,
    max_chars: int = 120,
    taxonomy: Taxonomy | str | Path | None = None,
) -> pd.DataFrame:
    """Representative verbatim quotes, with personal data redacted.

    Quotes go through :func:`cxlab.text.redact` (phones, e-mails, ID numbers, names) and are
    cut to ``max_chars`` characters. They are plain text — the report layer HTML-escapes them.

    Parameters
    ----------
    theme : str, optional
        Only comments tagged with this theme id (aspect sentiment is then the theme's).
    sentiment : {"正面", "负面", "中性"}, optional
        Only comments (or theme mentions) with this sentiment; the strongest come first.
    n : int
        Maximum number of quotes.

    Returns
    -------
    DataFrame
        ``response_id`` (or ``index``), ``sentiment``, ``score``, ``quote``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"comment": ["客服张经理态度很差,电话13812345678一直没人接", "很好"]})
    >>> quotes(df, sentiment="负面")["quote"].tolist()
    ['客服[姓名]经理态度很差,电话[电话]一直没人接']
    """
    _check_quotes(sentiment, n)
    return analyse_comments(data, text=text, taxonomy=taxonomy).quotes(
        theme=theme, sentiment=sentiment, n=n, max_chars=max_chars)


def frequent_issues(
    data: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = ("period", "branch"),
    top: int = 5,
    text: str = "comment",
    examples: int = 2,
    max_chars: int = 120,
    taxonomy: Taxonomy | str | Path | None = None,
) -> pd.DataFrame:
    """High-frequency issues: the most often mentioned negative themes per group.

    A response counts for a theme when the theme is mentioned with negative (aspect) sentiment
    (see :func:`tag_themes`). Example quotes are redacted with :func:`cxlab.text.redact`
    inside this function, so no personal data leaves it; they are plain text and are
    HTML-escaped by the report layer when rendered.

    Parameters
    ----------
    by : str, sequence of str or None, default ("period", "branch")
        Grouping columns; ``None`` or ``()`` for one overall ranking.
    top : int, default 5
        Themes kept per group (fewer if fewer themes have negative mentions).
    examples : int, default 2
        Example quotes per theme (the most negative first, ties in input order).

    Returns
    -------
    DataFrame
        ``[by…], rank, theme, theme_name, n, n_comments, share, example_1 … example_<examples>``:
        ``n`` responses with a negative mention of the theme, ``n_comments`` non-blank comments
        in the group, ``share`` = n / n_comments (0–1), examples redacted (``None`` if fewer).
        Ordered by group, then rank (ties by taxonomy order).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"branch": ["SH01"] * 3,
    ...                    "comment": ["物流太慢,联系王先生13912345678", "客服态度很差", "物流慢,等了一周"]})
    >>> r = frequent_issues(df, by="branch", top=2)
    >>> r[["branch", "rank", "theme", "n", "example_1"]]
      branch  rank             theme  n           example_1
    0   SH01     1          delivery  2  物流太慢,联系[姓名]先生[电话]
    1   SH01     2  service_attitude  1             客服态度很差
    """
    _by_list(by, data)
    _check_issues(top, examples)
    return analyse_comments(data, text=text, taxonomy=taxonomy).frequent_issues(
        by=by, top=top, examples=examples, max_chars=max_chars)
