"""Figures for cxlab results (seaborn/matplotlib, Chinese labels).

Every plotting function is axes-level: ``f(result, *, ax=None, **kwargs) -> Axes``. Call
:func:`set_style` once (notebooks do it in their first cell) so Chinese renders with a CJK font.
"""

from cxlab.plots._drivers import importance_bars
from cxlab.plots._ipa import ipa_map
from cxlab.plots._kano import kano_scatter
from cxlab.plots._metrics import nps_bars, trend
from cxlab.plots._ops import closure_bars, journey_heatmap, scorecard_bars, sla_bars
from cxlab.plots._style import CJK_FAMILIES, cjk_font, set_style
from cxlab.plots._text import segment_bars, theme_bars

__all__ = [
    "CJK_FAMILIES", "cjk_font", "closure_bars", "importance_bars", "ipa_map", "journey_heatmap", "kano_scatter",
    "nps_bars", "scorecard_bars", "segment_bars", "set_style", "sla_bars", "theme_bars", "trend",
]
