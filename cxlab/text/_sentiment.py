"""Lexicon-based sentiment (正面/负面/中性) with negation, intensifiers and contrast."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from cxlab.text._frame import id_frame, text_column
from cxlab.text._resources import data_lines, lexicon, normalize, tokenizer, word_set
from cxlab.text._tokenize import CLAUSE_SPLIT, is_blank

__all__ = ["LABELS", "sentiment", "sentiment_frame", "sentiment_of"]

#: The three sentiment labels, in report order.
LABELS = ("正面", "负面", "中性")

#: |raw score| at or above which a text is 正面/负面.
THRESHOLD = 0.5
_WINDOW = 3  # a negator or intensifier acts on a sentiment word at most this many tokens later
_NEG_OF_POS = 0.8  # "不满意": a negated positive word becomes negative, a little weaker
_NEG_OF_NEG = 0.5  # "没有问题", "不差": a negated negative word becomes mildly positive
_AFTER_CONTRAST = 1.5  # "外观好看,但是质量太差": what follows 但是/不过 weighs more
_BEFORE_CONTRAST = 0.7
_HYPOTHETICAL = 0.2  # "希望价格再便宜一点": wishes and suggestions carry little sentiment
_EXCLAIM = 1.2
#: Tokens that end the scope of a negator (用了没几天就坏了: 没 does not reach 坏).
_BREAKERS = frozenset({"就", "才", "却", "又", "便", "结果"})
_FINAL_PARTICLES = frozenset({"了", "的", "啊", "呀", "吧", "哦", "呢", "哈", "啦", "嘛", "评"})


@dataclass(frozen=True, slots=True)
class _Lex:
    words: dict[str, float]
    emoji: dict[str, float]
    negations: frozenset[str]
    intensifiers: dict[str, float]
    adversatives: frozenset[str]
    hypotheticals: frozenset[str]
    emoji_re: re.Pattern | None
    cues: tuple[tuple[re.Pattern, float], ...]
    prefixes: tuple[str, ...]


@lru_cache(maxsize=1)
def _lex() -> _Lex:
    emoji = lexicon("emoji.txt")
    keys = sorted(emoji, key=len, reverse=True)
    emoji_re = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
    words = lexicon("sentiment.txt")
    return _Lex(
        words=words,
        emoji=emoji,
        negations=word_set("negations.txt"),
        intensifiers=lexicon("intensifiers.txt"),
        adversatives=word_set("adversatives.txt"),
        hypotheticals=word_set("hypotheticals.txt"),
        emoji_re=emoji_re,
        cues=tuple((re.compile(p), w) for p, w in _cue_lines()),
        prefixes=tuple(sorted((w for w in words if len(w) >= 2 and not w.isascii()), key=len,
                              reverse=True)),
    )


def _cue_lines() -> list[tuple[str, float]]:
    out = []
    for ln in data_lines("cues.txt"):
        pattern, _, weight = ln.rpartition("\t")
        out.append((pattern, float(weight)))
    return out


def _split_modifier(tok: str, lex: _Lex) -> list[str]:
    """Split a jieba token such as 很差, 不好用, 太慢 into modifier(s) + lexicon word."""
    if tok in lex.words or tok in lex.negations or tok in lex.intensifiers:
        return [tok]
    for size in (3, 2, 1):
        head, rest = tok[:size], tok[size:]
        if rest and (head in lex.negations or head in lex.intensifiers):
            tail = _split_modifier(rest, lex)
            if tail[-1] in lex.words or len(tail) > 1:
                return [head, *tail]
    if len(tok) >= 3 and not tok.isascii():
        for word in lex.prefixes:  # 谢谢你们 -> 谢谢 + 你们
            if tok.startswith(word):
                return [word, tok[len(word):]]
            if tok.endswith(word):
                return [tok[: -len(word)], word]
    return [tok]


def _clause_score(tokens: list[str], lex: _Lex) -> tuple[float, bool, int]:
    """Score one clause; return (score, starts_with_contrast, number of sentiment words)."""
    score = 0.0
    hits = 0
    negs = 0
    mult = 1.0
    since = _WINDOW + 1  # tokens since the last modifier
    contrast = False
    hypothetical = False
    for i, tok in enumerate(tokens):
        if i < 2 and tok in lex.adversatives:
            contrast = True
            continue
        if tok in lex.hypotheticals:
            hypothetical = True
            continue
        if tok in lex.negations:
            negs += 1
            since = 0
            continue
        if tok in lex.intensifiers and tok not in lex.words:
            mult *= lex.intensifiers[tok]
            since = 0
            continue
        if tok in _BREAKERS:
            negs, mult, since = 0, 1.0, _WINDOW + 1
            continue
        value = lex.words.get(tok)
        if tok == "好":  # 好 is a word only at the end (挺好的); before a word it intensifies
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt not in _FINAL_PARTICLES:
                if nxt in lex.words:
                    mult *= 1.2
                    since = 0
                continue
        if value is None:
            since += 1
            if since > _WINDOW:
                negs, mult = 0, 1.0
            continue
        hits += 1
        if negs % 2 == 1:
            value = -value * (_NEG_OF_POS if value > 0 else _NEG_OF_NEG)
        score += value * mult
        negs, mult, since = 0, 1.0, _WINDOW + 1
    if hypothetical:
        score *= _HYPOTHETICAL
    return score, contrast, hits


@dataclass(frozen=True, slots=True)
class Clause:
    """One scored clause: normalised text, weighted score, number of sentiment words."""

    text: str
    score: float
    hits: int


def analyse(text: str) -> tuple[float, list[Clause]]:
    """Raw sentiment score of a text and its scored clauses (normalised, emoji removed)."""
    lex = _lex()
    norm = normalize(text)
    total = 0.0
    if lex.emoji_re is not None:
        for m in lex.emoji_re.finditer(norm):
            total += lex.emoji[m.group(0)]
        norm = lex.emoji_re.sub(" ", norm)
    tok = tokenizer()
    parts: list[tuple[str, float, bool, int]] = []
    pieces = CLAUSE_SPLIT.split(norm)
    marks = CLAUSE_SPLIT.findall(norm) + [""]
    for piece, mark in zip(pieces, marks, strict=False):
        piece = piece.strip()
        if not piece:
            continue
        tokens: list[str] = []
        for t in tok.cut(piece):
            t = t.strip()
            if t:
                tokens.extend(_split_modifier(t, lex))
        s, contrast, hits = _clause_score(tokens, lex)
        for pattern, weight in lex.cues:
            if pattern.search(piece):
                s += weight
                hits += 1
        if "!" in mark:
            s *= _EXCLAIM
        parts.append((piece, s, contrast, hits))
    # contrast: clauses before the last 但是/不过 weigh less, the ones after it more
    last = max((i for i, p in enumerate(parts) if p[2]), default=None)
    out: list[Clause] = []
    for i, (piece, s, _, hits) in enumerate(parts):
        if last is not None:
            s *= _AFTER_CONTRAST if i >= last else _BEFORE_CONTRAST
        total += s
        out.append(Clause(piece, s, hits))
    return total, out


def label_of(raw: float) -> str:
    """正面/负面/中性 for a raw score."""
    return "正面" if raw >= THRESHOLD else "负面" if raw <= -THRESHOLD else "中性"


def _raw_score(text: str) -> float:
    return analyse(text)[0]


def sentiment_of(text: object) -> tuple[str | None, float]:
    """Sentiment label and score of one text.

    Returns ``(label, score)``: label ∈ 正面/负面/中性 (``None`` for blank text), score in
    [−1, 1] = tanh(raw / 2), where raw is the lexicon sum (see :func:`sentiment`).

    Examples
    --------
    >>> sentiment_of("不太满意")[0], sentiment_of("没有问题,挺好的")[0], sentiment_of("已收到")[0]
    ('负面', '正面', '中性')
    """
    if is_blank(text):
        return None, math.nan
    raw = _raw_score(str(text))
    return label_of(raw), math.tanh(raw / 2.0)


def sentiment(data: pd.DataFrame, *, text: str = "comment") -> pd.DataFrame:
    """Classify each comment as 正面 (positive), 负面 (negative) or 中性 (neutral).

    A lexicon method for Chinese CX feedback: each clause is segmented with jieba (CX
    dictionary), sentiment words from ``cxlab/text/data/sentiment.txt`` (and emoji from
    ``emoji.txt``) add their weight, modified by preceding negators (不, 没有, 并不…: the sign
    flips — 不满意 is negative, 没有问题 mildly positive) and intensifiers/diminishers (非常 ×1.6,
    有点 ×0.8) within three tokens. After a contrast word (但是, 不过, 可是) the clause weighs
    ×1.5 and the clauses before it ×0.7; clauses introduced by wishes and suggestions (希望, 建议,
    如果) weigh ×0.2; an exclamation mark ×1.2.

    Parameters
    ----------
    data : DataFrame
        One row per response; ``response_id`` is used as the identifier when present.
    text : str, default "comment"
        Column with the free text.

    Returns
    -------
    DataFrame
        One row per input row, in input order: ``response_id`` (or ``index``: the input index
        label), ``sentiment`` (正面/负面/中性; missing for blank text), ``score`` (tanh(raw/2), in
        [−1, 1]; NaN for blank text).

    Notes
    -----
    ``raw = Σ_clauses w_clause · Σ_words m · v``, label 正面 if raw ≥ 0.5, 负面 if raw ≤ −0.5.
    The approach follows the usual lexicon-and-rules design for Chinese (e.g. the HowNet
    sentiment lexicon with negation and degree words; Dong & Dong 2006) with a lexicon written
    for customer-experience feedback. Sarcasm is only caught through cue words (呵呵, 服了).

    References
    ----------
    Dong, Z. & Dong, Q. (2006). *HowNet and the Computation of Meaning*. World Scientific.
    Liu, B. (2012). *Sentiment Analysis and Opinion Mining*. Morgan & Claypool, ch. 5.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"response_id": ["r1", "r2", "r3"],
    ...                    "comment": ["安装师傅很专业👍", "不太满意,回复太慢了", None]})
    >>> sentiment(df)[["response_id", "sentiment"]]
      response_id sentiment
    0          r1        正面
    1          r2        负面
    2          r3       NaN
    """
    texts = text_column(data, text)
    seen: dict[str, tuple[str | None, float]] = {}  # a repeated text is scored once
    labels, scores = [], []
    for value in texts:
        if type(value) is str:
            if value not in seen:
                seen[value] = sentiment_of(value)
            lab, sc = seen[value]
        else:
            lab, sc = sentiment_of(value)
        labels.append(lab)
        scores.append(sc)
    return sentiment_frame(data, labels, scores)


def sentiment_frame(data: pd.DataFrame, labels: list, scores: list) -> pd.DataFrame:
    """The table of :func:`sentiment` from one label and score per row of ``data``."""
    out = id_frame(data)
    out["sentiment"] = pd.Series(labels, index=out.index)
    out["score"] = np.asarray(scores, dtype=float)
    return out
