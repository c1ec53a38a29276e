"""The result of a weighting run: weights plus the diagnostics a survey report states."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["WeightingResult", "design_effect", "kish_n_eff"]


def kish_n_eff(weights: np.ndarray) -> float:
    """Kish (1965) effective sample size :math:`(\\sum w)^2 / \\sum w^2`."""
    w = np.asarray(weights, dtype=float)
    s2 = float(np.dot(w, w))
    return float(w.sum()) ** 2 / s2 if s2 > 0 else 0.0


def design_effect(weights: np.ndarray) -> float:
    """Kish (1965) design effect of unequal weighting :math:`n \\sum w^2 / (\\sum w)^2`."""
    w = np.asarray(weights, dtype=float)
    total = float(w.sum())
    return w.size * float(np.dot(w, w)) / total**2 if total > 0 else float("nan")


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightingResult:
    """Weights from :func:`~cxlab.weighting.rake` or :func:`~cxlab.weighting.poststratify`.

    Attributes
    ----------
    weights : Series
        One non-negative weight per row of the input data, aligned to its index.
    method : str
        ``"raking"`` or ``"post-stratification"`` (with ``", trimmed"`` when bounds applied).
    margins : DataFrame
        One row per margin level (``variable``, ``level``, ``target`` share, ``sample``
        unweighted share, ``weighted`` share after weighting, ``n`` rows); for
        post-stratification ``variable`` names the cell columns joined by ``×``.
    iterations : int
        Full raking sweeps over all margins (1 for post-stratification).
    converged : bool
        Whether every margin was met within ``tol`` (always true for post-stratification).
    n : int
        Rows weighted.
    total : float
        Sum of the weights (the population total, or the base total when margins are shares).
    design_effect : float
        Kish's design effect of unequal weighting, :math:`n\\sum w^2/(\\sum w)^2`.
    n_eff : float
        Kish's effective sample size, :math:`(\\sum w)^2/\\sum w^2 = n/\\text{deff}`.
    efficiency : float
        Weighting efficiency in %, :math:`100\\,n_{eff}/n`.
    min_weight, max_weight : float
        Smallest and largest weight, each divided by the mean weight (1 = average).
    """

    weights: pd.Series
    method: str
    margins: pd.DataFrame
    iterations: int
    converged: bool
    n: int
    total: float
    design_effect: float
    n_eff: float
    efficiency: float
    min_weight: float
    max_weight: float

    @classmethod
    def build(cls, weights: pd.Series, *, method: str, margins: pd.DataFrame,
              iterations: int, converged: bool) -> WeightingResult:
        w = weights.to_numpy(dtype=float)
        n = int(w.size)
        mean = float(w.mean()) if n else float("nan")
        n_eff = kish_n_eff(w)
        return cls(
            weights=weights,
            method=method,
            margins=margins,
            iterations=int(iterations),
            converged=bool(converged),
            n=n,
            total=float(w.sum()),
            design_effect=design_effect(w),
            n_eff=n_eff,
            efficiency=100 * n_eff / n if n else float("nan"),
            min_weight=float(w.min()) / mean if n else float("nan"),
            max_weight=float(w.max()) / mean if n else float("nan"),
        )

    def summary(self) -> pd.DataFrame:
        """One-row DataFrame of the diagnostics (every attribute but ``weights`` and ``margins``)."""
        return pd.DataFrame([{
            "method": self.method,
            "n": self.n,
            "total": self.total,
            "iterations": self.iterations,
            "converged": self.converged,
            "design_effect": self.design_effect,
            "n_eff": self.n_eff,
            "efficiency": self.efficiency,
            "min_weight": self.min_weight,
            "max_weight": self.max_weight,
        }])

    def to_frame(self) -> pd.DataFrame:
        """The margin check table: target, sample and weighted share per margin level."""
        return self.margins.copy()

    def _repr_html_(self) -> str:
        s = self.summary().iloc[0]
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
            for k, v in s.items()
        )
        return (
            "<div class='cxlab-weighting'><table><caption>WeightingResult</caption>"
            f"{rows}</table>{self.margins.to_html(index=False)}</div>"
        )


def _fmt(v: object) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4g}"
    return str(v)
