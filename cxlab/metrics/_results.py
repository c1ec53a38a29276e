"""Result objects shared by the significance tests of :mod:`cxlab.metrics`."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass

import pandas as pd

__all__ = ["TestResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResult:
    """Outcome of a two-sample test (two proportions, two Net Promoter Scores, two means).

    Attributes
    ----------
    diff : float
        Estimated difference, first sample minus second, in the unit of the statistic
        (proportion for :func:`two_proportion_test`, NPS points for :func:`nps_test`).
    se : float
        Standard error used for ``statistic``.
    statistic : float
        Test statistic (``diff / se`` for the z-tests; Welch t for means).
    pvalue : float
        Two-sided p-value.
    ci_low, ci_high : float
        Confidence interval of the difference at ``level``.
    level : float
        Confidence level of the interval.
    method : str
        Short description of the test.
    """

    __test__ = False  # not a pytest test class despite the name

    diff: float
    se: float
    statistic: float
    pvalue: float
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    level: float = 0.95
    method: str = ""

    def to_frame(self) -> pd.DataFrame:
        """Return the result as a one-row DataFrame with one column per field."""
        return pd.DataFrame([asdict(self)])

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
            for k, v in asdict(self).items()
        )
        return f"<table class='cxlab-testresult'><caption>TestResult</caption>{rows}</table>"
