"""Figures for :mod:`cxlab.drivers` results: relative-importance bars."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["importance_bars"]

XLABEL = "相对重要性(%)"
YLABEL = "驱动因素"


def _table(result) -> pd.DataFrame:
    """The ``driver, share[, share_ci_low, share_ci_high]`` table of any drivers result."""
    if isinstance(result, pd.DataFrame):
        table = result
    elif hasattr(result, "table"):
        table = result.table
    elif hasattr(result, "general"):
        table = result.general
    else:
        raise TypeError(
            "result must be an ImportanceResult, KeyDriverResult, DominanceResult or a DataFrame "
            f"with 'driver' and 'share' columns, got {type(result).__name__}"
        )
    missing = {"driver", "share"} - set(table.columns)
    if missing:
        raise ValueError(f"result table lacks columns {sorted(missing)}")
    return table


def importance_bars(
    result,
    *,
    ax=None,
    ci: bool = True,
    labels: Mapping[str, str] | None = None,
    color: str | None = None,
    annotate: bool = True,
):
    """Horizontal bars of each driver's share of explained variance, largest on top.

    Parameters
    ----------
    result : ImportanceResult, KeyDriverResult, DominanceResult or pandas.DataFrame
        Output of :func:`cxlab.drivers.relative_importance`, :func:`~cxlab.drivers.key_drivers`
        or :func:`~cxlab.drivers.dominance` (its ``general`` table), or any DataFrame with
        ``driver`` and ``share`` columns (shares in 0..1).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when omitted.
    ci : bool, default True
        Draw the bootstrap interval (``share_ci_low``/``share_ci_high``) as whiskers when the
        table has them and they are not all missing.
    labels : mapping of str to str, optional
        Display names for drivers (e.g. codebook item id -> Chinese item label); drivers not
        in the mapping keep their own name.
    color : str, optional
        Bar colour; the first colour of the current palette by default.
    annotate : bool, default True
        Write each share, in percent with one decimal, at the end of its bar.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with x label 相对重要性(%) and y label 驱动因素.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"driver": ["price", "staff"], "share": [0.3, 0.7]})
    >>> ax = importance_bars(table, labels={"staff": "服务人员"})
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['服务人员', 'price']
    """
    import matplotlib.pyplot as plt

    table = _table(result).sort_values("share", ascending=False, kind="stable")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 0.45 * len(table) + 1.2))
    names = [str((labels or {}).get(d, d)) for d in table["driver"]]
    share = 100 * table["share"].to_numpy(dtype=float)
    ypos = np.arange(len(table))
    if color is None:
        color = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])[0]
    ax.barh(ypos, share, color=color, height=0.65)
    has_ci = (
        ci
        and {"share_ci_low", "share_ci_high"} <= set(table.columns)
        and table[["share_ci_low", "share_ci_high"]].notna().any().any()
    )
    right = share
    if has_ci:
        low = 100 * table["share_ci_low"].to_numpy(dtype=float)
        high = 100 * table["share_ci_high"].to_numpy(dtype=float)
        err = np.vstack([np.clip(share - low, 0, None), np.clip(high - share, 0, None)])
        ax.errorbar(share, ypos, xerr=err, fmt="none", ecolor="0.25", elinewidth=1, capsize=3)
        right = np.fmax(share, np.nan_to_num(high, nan=0.0))
    if annotate:
        offset = 0.01 * max(float(np.nanmax(right)) if len(right) else 1.0, 1.0)
        for y, x, s in zip(ypos, right, share, strict=True):
            ax.text(x + offset, y, f"{s:.1f}", va="center", ha="left", fontsize="small")
    ax.set_yticks(ypos, names)
    ax.invert_yaxis()
    ax.set_xlabel(XLABEL)
    ax.set_ylabel(YLABEL)
    upper = float(np.nanmax(right)) if len(right) else 1.0
    lower = min(0.0, float(np.nanmin(share)) * 1.15) if len(share) else 0.0  # pratt can be < 0
    ax.set_xlim(lower, max(upper * 1.15, 1.0))
    return ax
