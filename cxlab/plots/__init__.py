"""Figures for cxlab results (seaborn/matplotlib, Chinese labels).

Every plotting function is axes-level: ``f(result, *, ax=None, **kwargs) -> Axes``. Call
:func:`set_style` once (notebooks do it in their first cell) so Chinese renders with a CJK font.
"""

from cxlab.plots._style import CJK_FAMILIES, cjk_font, set_style

__all__ = ["CJK_FAMILIES", "cjk_font", "set_style"]
