"""Kano Better–Worse diagram."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from cxlab.plots._labels import label_points
from cxlab.plots._style import cjk_font

__all__ = ["KANO_QUADRANT_LABELS", "kano_scatter"]

#: Quadrant labels of the Better–|Worse| diagram, keyed by Kano category.
KANO_QUADRANT_LABELS: dict[str, str] = {"A": "魅力", "O": "一维", "M": "必备", "I": "无差异"}


def kano_scatter(result: pd.DataFrame, *, ax: Axes | None = None, threshold: float = 0.5) -> Axes:
    """Draw the Better–Worse diagram of a Kano evaluation.

    Each feature is a point at (|Worse|, Better); lines at ``threshold`` split the square into
    the quadrants 魅力 (attractive: high Better, low |Worse|), 一维 (one-dimensional: both high),
    必备 (must-be: low Better, high |Worse|) and 无差异 (indifferent: both low).

    Parameters
    ----------
    result : DataFrame
        Output of :func:`cxlab.kano.evaluate` (columns ``feature, better, worse``; any ``by``
        columns are added to the point labels).
    ax : Axes, optional
        Where to draw; default the current axes.
    threshold : float
        Position of the quadrant lines on both axes (0.5 by convention).

    Returns
    -------
    Axes

    References
    ----------
    Berger, C., Blauth, R., Boger, D., et al. (1993). Kano's methods for understanding
    customer-defined quality. *Center for Quality of Management Journal*, 2(4), 3–36.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxlab.plots._kano import kano_scatter
    >>> res = pd.DataFrame({"feature": ["App", "保修"], "better": [0.7, 0.3], "worse": [-0.2, -0.8]})
    >>> ax = kano_scatter(res)
    >>> len(ax.collections[0].get_offsets())
    2
    """
    missing = [c for c in ("feature", "better", "worse") if c not in result.columns]
    if missing:
        raise ValueError(f"result lacks columns {missing}; pass the output of cxlab.kano.evaluate")
    if ax is None:
        ax = plt.gca()
    font = {"fontfamily": cjk_font()} if cjk_font() else {}

    x = np.abs(result["worse"].to_numpy(dtype=float))
    y = result["better"].to_numpy(dtype=float)
    ax.scatter(x, y, s=40, color="C0", zorder=3)
    extra = [c for c in result.columns if c not in _KANO_COLUMNS]
    point_labels = []
    for k in range(len(result)):
        row = result.iloc[k]
        text = str(row["feature"])
        if extra:
            text += " (" + ", ".join(str(row[c]) for c in extra) + ")"
        point_labels.append(text)

    ax.axvline(threshold, color="0.5", lw=1, ls="--")
    ax.axhline(threshold, color="0.5", lw=1, ls="--")
    ax.set_xlim(-0.02, 1.02)  # a little room for points on the edges (Better = 0, Worse = 0)
    ax.set_ylim(-0.02, 1.02)
    lo, hi = threshold / 2, (1 + threshold) / 2
    corners = {"A": (lo, hi), "O": (hi, hi), "M": (hi, lo), "I": (lo, lo)}
    names = [ax.text(cx, cy, KANO_QUADRANT_LABELS[cat], ha="center", va="center", fontsize=14,
                     color="0.6", alpha=0.8, zorder=1, **font)
             for cat, (cx, cy) in corners.items()]
    ax.set_xlabel("不满意影响 |Worse|", **font)
    ax.set_ylabel("满意影响 Better", **font)
    # feature labels last (limits final), moved apart where they would overlap
    label_points(ax, x, y, point_labels, avoid=names, **font)
    return ax


_KANO_COLUMNS = frozenset({
    "feature", "n", "a", "o", "m", "i", "r", "q", "category", "better", "worse",
    "category_strength", "total_strength", "fong_significant", "functional_mean",
    "dysfunctional_mean",
})
