"""Point labels that do not overlap: adjustText moves them apart, with leader lines."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Text

__all__ = ["label_points", "legend_outside", "overlaps"]


def overlaps(texts: Sequence[Text], *, renderer=None, pad: float = 0.0) -> list[tuple[int, int]]:
    """Index pairs of ``texts`` whose rendered bounding boxes (display units) intersect."""
    if not texts:
        return []
    fig = texts[0].figure
    renderer = renderer or fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer).expanded(1 + pad, 1 + pad) for t in texts]
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if boxes[i].overlaps(boxes[j])]


def label_points(ax: Axes, x: Sequence[float], y: Sequence[float], labels: Sequence[str], *,
                 avoid: Sequence[Text] = (), fontsize: float = 9, **font) -> list[Text]:
    """Label each point (x, y) with its text, moved apart with adjustText where they would
    overlap each other, the points or the ``avoid`` texts (quadrant names, …).

    Call after the axes limits are final. Labels that moved get a thin grey leader line.
    If adjustText leaves any pair overlapping, it is run again with stronger repulsion and then
    with a smaller font, so crowded charts still come out readable.
    """
    from adjustText import adjust_text

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    texts = [ax.text(xi, yi, str(s), fontsize=fontsize, zorder=4, ha="center", va="center",
                     bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                           "alpha": 0.7}, **font)
             for xi, yi, s, ok in zip(x, y, labels, keep, strict=True) if ok]
    if len(texts) < 2 and not avoid:
        return texts
    ax.figure.canvas.draw()  # adjustText needs the final layout
    renderer = ax.figure.canvas.get_renderer()
    objects = [t.get_window_extent(renderer) for t in avoid]
    size = fontsize
    for attempt in range(4):
        # first the library's defaults (they stop once nothing overlaps), then stronger pushes
        # an iteration limit, not adjustText's default 1 s time limit: the same chart whatever
        # the machine's load (reports are byte-identical across renders)
        strength = {"iter_lim": 1000} if attempt == 0 else {
            "force_text": (0.3 * attempt, 0.5 * attempt),
            "expand": (1.1 + 0.1 * attempt, 1.3 + 0.2 * attempt), "iter_lim": 500 * attempt}
        adjust_text(texts, x=x[keep], y=y[keep], objects=objects or None, ax=ax, **strength)
        if not overlaps(list(texts) + list(avoid), renderer=renderer):
            break
        size = max(size - 1, 6)
        for t in texts:
            t.set_fontsize(size)
        ax.figure.canvas.draw()
    # leader lines from each point to its label when the label moved away from it
    to_px = ax.transData.transform
    for t, xi, yi in zip(texts, x[keep], y[keep], strict=True):
        tx, ty = t.get_position()
        if np.hypot(*(to_px((tx, ty)) - to_px((xi, yi)))) > 8:
            ax.plot([xi, tx], [yi, ty], color="0.6", lw=0.6, zorder=3.5)
    return texts


def legend_outside(ax: Axes, **kwargs):
    """The legend to the right of the axes, where it cannot cover data (reports crop tight)."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                     borderaxespad=0.0, **kwargs)
