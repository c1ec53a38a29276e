"""Importance–performance map."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from cxlab.plots._labels import label_points
from cxlab.plots._style import cjk_font

__all__ = ["IPA_QUADRANT_LABELS", "ipa_map"]

#: Chinese names of the IPA quadrants (Martilla & James 1977).
IPA_QUADRANT_LABELS: dict[str, str] = {
    "concentrate_here": "重点改进区",
    "keep_up": "继续保持区",
    "low_priority": "低优先区",
    "possible_overkill": "过度投入区",
}

_COLOURS = {
    "concentrate_here": "C3",
    "keep_up": "C2",
    "low_priority": "C7",
    "possible_overkill": "C0",
}


def ipa_map(
    result: pd.DataFrame,
    *,
    ax: Axes | None = None,
    labels: Mapping[str, str] | pd.Series | None = None,
) -> Axes:
    """Draw the importance–performance map of :func:`cxlab.ipa.analyze`.

    Performance on the x axis, importance on the y axis, crosshairs where ``analyze`` put them
    (``result.attrs["crosshair"]``; the means of the two columns when the attrs were lost),
    one labelled point per item coloured by quadrant, and the quadrant names 重点改进区 (top
    left), 继续保持区 (top right), 低优先区 (bottom left) and 过度投入区 (bottom right).

    Parameters
    ----------
    result : DataFrame
        Output of :func:`cxlab.ipa.analyze` (columns ``item, performance, importance,
        quadrant``; ``label`` is used for the point labels when present).
    ax : Axes, optional
        Where to draw; default the current axes.
    labels : mapping or Series, optional
        Item → point label, overriding ``result["label"]``.

    Returns
    -------
    Axes

    References
    ----------
    Martilla, J. A., & James, J. C. (1977). Importance–performance analysis. *Journal of
    Marketing*, 41(1), 77–79.

    Examples
    --------
    >>> import pandas as pd
    >>> from cxlab.ipa import analyze
    >>> from cxlab.plots._ipa import ipa_map
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [4, 4, 5, 5], "y": [1, 2, 4, 4]})
    >>> ax = ipa_map(analyze(df, items=["a", "b"], outcome="y"))
    >>> sorted(t.get_text() for t in ax.texts if t.get_text() in ("a", "b"))
    ['a', 'b']
    """
    missing = [c for c in ("item", "performance", "importance", "quadrant")
               if c not in result.columns]
    if missing:
        raise ValueError(f"result lacks columns {missing}; pass the output of cxlab.ipa.analyze")
    if ax is None:
        ax = plt.gca()
    font = {"fontfamily": cjk_font()} if cjk_font() else {}

    x = result["performance"].to_numpy(dtype=float)
    y = result["importance"].to_numpy(dtype=float)
    cross = result.attrs.get("crosshair") or {}
    cx = float(cross.get("performance", np.nanmean(x)))
    cy = float(cross.get("importance", np.nanmean(y)))

    quadrants = result["quadrant"].astype(str).to_numpy()
    for quad, colour in _COLOURS.items():
        sel = quadrants == quad
        if sel.any():
            ax.scatter(x[sel], y[sel], s=45, color=colour, zorder=3,
                       label=IPA_QUADRANT_LABELS[quad])
    names = dict(labels.items()) if labels is not None else {}
    default = result["label"] if "label" in result.columns else result["item"]
    point_labels = [str(names.get(item, text)) for item, text in
                    zip(result["item"], default, strict=True)]

    ax.axvline(cx, color="0.5", lw=1, ls="--")
    ax.axhline(cy, color="0.5", lw=1, ls="--")
    # pad the limits so that the crosshair sits inside and the corner labels have room
    xs, ys = np.append(x, cx), np.append(y, cy)
    xpad = 0.15 * (np.nanmax(xs) - np.nanmin(xs) or 1.0)
    ypad = 0.15 * (np.nanmax(ys) - np.nanmin(ys) or 1.0)
    ax.set_xlim(np.nanmin(xs) - xpad, np.nanmax(xs) + xpad)
    ax.set_ylim(np.nanmin(ys) - ypad, np.nanmax(ys) + ypad)
    corners = {
        "concentrate_here": (0.02, 0.98, "left", "top"),
        "keep_up": (0.98, 0.98, "right", "top"),
        "low_priority": (0.02, 0.02, "left", "bottom"),
        "possible_overkill": (0.98, 0.02, "right", "bottom"),
    }
    quadrant_names = [ax.text(tx, ty, IPA_QUADRANT_LABELS[quad], transform=ax.transAxes,
                              ha=ha, va=va, fontsize=12, color="0.45", **font)
                      for quad, (tx, ty, ha, va) in corners.items()]
    ax.set_xlabel("表现 (performance)", **font)
    ax.set_ylabel("重要性 (importance)", **font)
    # point labels last, once the limits are final, moved apart where they would overlap
    label_points(ax, x, y, point_labels, avoid=quadrant_names, **font)
    return ax
