"""Chinese typography for deliverable text: full-width punctuation beside Chinese characters."""

from __future__ import annotations

import unicodedata

__all__ = ["zh"]

_FULL = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"}


def _wide(ch: str | None) -> bool:
    return ch is not None and unicodedata.east_asian_width(ch) in "WF"


def zh(text: str) -> str:
    """Make ASCII ``, : ; ( ) ! ?`` full-width where they touch Chinese text, and drop the
    spaces around them; brackets are converted in pairs. Latin-only text is left alone.

    >>> zh("净推荐值(NPS) 36.3 分, 目标 ≥ 40 分")
    '净推荐值（NPS）36.3 分，目标 ≥ 40 分'
    >>> zh("Johnson (2000): R2 = 0.5, n = 604")
    'Johnson (2000): R2 = 0.5, n = 604'
    >>> zh("均分 3.20 (基数小)")
    '均分 3.20（基数小）'
    >>> zh("Johnson 法(将 R² 分配给各因素),n = 604。")
    'Johnson 法（将 R² 分配给各因素），n = 604。'
    """
    once = _zh(text)
    return once if once == text else _zh(once)  # punctuation next to a converted bracket


def _zh(text: str) -> str:
    chars = list(text)
    n = len(chars)

    def neighbour(i: int, step: int) -> str | None:
        j = i + step
        while 0 <= j < n and chars[j] == " ":
            j += step
        return chars[j] if 0 <= j < n else None

    convert = [False] * n
    stack: list[int] = []
    for i, ch in enumerate(chars):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            j = stack.pop()
            inner = "".join(chars[j + 1:i])
            if (_wide(neighbour(j, -1)) or _wide(neighbour(i, 1))
                    or any(_wide(c) for c in inner)):
                convert[j] = convert[i] = True
        elif ch in _FULL and ch not in "()":
            if _wide(neighbour(i, -1)) or _wide(neighbour(i, 1)):
                convert[i] = True
    out = []
    for i, ch in enumerate(chars):
        if convert[i]:
            while out and out[-1] == " ":
                out.pop()
            out.append(_FULL[ch])
        elif ch == " " and out and out[-1] in _FULL.values():
            continue
        else:
            out.append(ch)
    return "".join(out)
