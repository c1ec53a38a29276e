"""Chinese typography of report text: full-width punctuation beside Chinese characters.

Report sentences are written in code with ASCII punctuation in many places ("目标值:40",
"NPS(目标 ≥ 40)"). :func:`cn_punct` turns the colon, comma, semicolon and parentheses that
touch Chinese text into their full-width forms (：，；（）) and leaves them alone between Latin
letters and digits (``1,234``, ``16:50``, ``f(x)``, ``(95%)`` after a number). :func:`typeset`
applies it to the text nodes of an HTML fragment, never to tags, attributes or ids.
"""

from __future__ import annotations

import re

__all__ = ["CJK", "cn_punct", "typeset"]

#: Chinese ideographs, CJK punctuation, full-width forms and the Chinese quotation marks.
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u201c\u201d"
_CJK = re.compile(f"[{CJK}]")
_PAREN = re.compile(r"\(([^()]*)\)")
_FULL = {",": "，", ":": "：", ";": "；"}
# an ASCII mark after a Chinese character, or before one (spaces around it dropped)
_AFTER = re.compile(rf"(?<=[{CJK}])[ \t]*([,:;])[ \t]*")
_BEFORE = re.compile(rf"[ \t]*([,:;])[ \t]*(?=[{CJK}])")


def _paren(m: re.Match) -> str:
    s, a, b = m.string, m.start(), m.end()
    inner = m.group(1)
    before = s[:a].rstrip()[-1:]
    after = s[b:].lstrip()[:1]
    if _CJK.search(inner) or _CJK.match(before or " ") or _CJK.match(after or " "):
        return f"（{inner.strip()}）"
    return m.group(0)


def cn_punct(text: str) -> str:
    """Full-width ``:,;()`` where they touch Chinese text.

    Examples
    --------
    >>> cn_punct("本期 NPS 为 36.3(95% 置信区间 31.0~41.3),较上期下降 2.4 分。")
    '本期 NPS 为 36.3（95% 置信区间 31.0~41.3），较上期下降 2.4 分。'
    >>> cn_punct("n = 1,234; 16:50; f(x)")
    'n = 1,234; 16:50; f(x)'
    """
    for _ in range(4):  # nested parentheses, innermost first
        new = _PAREN.sub(_paren, text)
        if new == text:
            break
        text = new
    text = _AFTER.sub(lambda m: _FULL[m.group(1)], text)
    return _BEFORE.sub(lambda m: _FULL[m.group(1)], text)


_TEXT = re.compile(r"(>)([^<>]+)(<)")
_SKIP = re.compile(r"<(style|script)\b.*?</\1>", re.S | re.I)
_ENTITY = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def _text_node(text: str) -> str:
    """:func:`cn_punct` on escaped text: character references (``&lt;``, ``&#39;``) are held
    aside, so the ``;`` that ends one is never taken for punctuation beside Chinese."""
    refs: list[str] = []

    def hold(m: re.Match) -> str:
        refs.append(m.group(0))
        return f"\x01{len(refs) - 1}\x01"

    out = cn_punct(_ENTITY.sub(hold, text))
    return re.sub(r"\x01(\d+)\x01", lambda m: refs[int(m.group(1))], out)


def typeset(html: str) -> str:
    """:func:`cn_punct` on every text node of ``html`` (tags, attributes, ids, character
    references and the content of ``<style>``/``<script>`` untouched).

    >>> typeset('<p title="a:b">&lt;说明&gt; 目标:40(分)</p>')
    '<p title="a:b">&lt;说明&gt; 目标：40（分）</p>'
    """
    keep: list[str] = []

    def hold(m: re.Match) -> str:
        keep.append(m.group(0))
        return f"\x00{len(keep) - 1}\x00"

    body = _SKIP.sub(hold, html)
    body = _TEXT.sub(lambda m: m.group(1) + _text_node(m.group(2)) + m.group(3), body)
    return re.sub(r"\x00(\d+)\x00", lambda m: keep[int(m.group(1))], body)
