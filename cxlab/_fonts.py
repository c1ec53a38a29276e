"""Fonts of the printed reports: which family the PDF uses and how wide a text is in it.

Kept free of matplotlib and WeasyPrint so that report workers and kernels import it cheaply.
"""

from __future__ import annotations

import subprocess
from functools import lru_cache
from unicodedata import east_asian_width

__all__ = ["PDF_FONTS", "installed_families", "pdf_families", "text_em"]

#: Print font: a TrueType (glyf) CJK font subsets an order of magnitude faster than the CFF-based
#: Noto Sans CJK in WeasyPrint/fontTools (measured ~10x on a 12-page report). Both are Chinese
#: designs; Noto stays first for screens.
PDF_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "DejaVu Sans", "Noto Sans CJK SC")


def installed_families() -> set[str]:
    """Font family names fontconfig knows (empty if fc-list is unavailable)."""
    try:
        out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {name.strip() for line in out.splitlines() for name in line.split(",") if name.strip()}


@lru_cache(maxsize=1)
def pdf_families() -> tuple[str, ...]:
    """The :data:`PDF_FONTS` installed here, in order of preference."""
    have = installed_families()
    return tuple(f for f in PDF_FONTS if f in have)


_SIZE = 100  # px: the measuring font's em


@lru_cache(maxsize=1)
def _measuring_font():
    """Pillow font for the first installed PDF family, or None (no fontconfig, no font)."""
    families = pdf_families()
    if not families:
        return None
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}\t%{index}", families[0]],
                               capture_output=True, text=True, timeout=10, check=False).stdout
        path, _, index = found.partition("\t")
        from PIL import ImageFont

        return ImageFont.truetype(path, _SIZE, index=int(index or 0))
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def text_em(text: str) -> float:
    """Advance width of ``text`` in em in the PDF's font (set on one line, no wrapping).

    The sum of each character's advance: shaping a whole string costs ~100 µs, a report has
    thousands of table cells, and what shaping adds (kerning) moves a cell's width by < 2 %.
    Without the font, wide (CJK) characters count 1 em and others 0.62 em, the widest
    common Latin advance in the PDF fonts apart from ``%`` and ``m``/``w``.
    """
    return sum(map(_char_em, text))


@lru_cache(maxsize=8192)
def _char_em(ch: str) -> float:
    font = _measuring_font()
    if font is not None:
        return font.getlength(ch) / _SIZE
    return 1.0 if east_asian_width(ch) in "WFA" else 0.62
