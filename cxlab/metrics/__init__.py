"""Customer-experience metrics: NPS, CSAT, CES, item summaries, tests, banner tables, change.

Every function takes a DataFrame first and keyword-only arguments after it, and returns a tidy
DataFrame (one row per group) or a frozen :class:`TestResult`. Nothing here reads files, prints,
plots or rounds.
"""

from cxlab.metrics._change import change
from cxlab.metrics._common import CAUTION_BASE, MIN_BASE, base_flag
from cxlab.metrics._crosstab import crosstab, crosstab_overall, crosstab_tests
from cxlab.metrics._design import (
    ChiSquareResult,
    adjust_pvalues,
    design_ols,
    rao_scott_test,
    weighted_mean,
    weighted_proportion,
)
from cxlab.metrics._nps import (
    CI_METHODS,
    nps,
    nps_from_counts,
    nps_from_sums,
    nps_sample_size,
    nps_test,
    scores_from_counts,
)
from cxlab.metrics._overlap import overlap_test
from cxlab.metrics._results import TestResult
from cxlab.metrics._scales import (
    VERBAL5,
    ces,
    csat,
    item_summary,
    share_from_sums,
    wilson_interval,
)
from cxlab.metrics._tests import two_proportion_test, welch_test

__all__ = [
    "CAUTION_BASE",
    "ChiSquareResult",
    "CI_METHODS",
    "MIN_BASE",
    "VERBAL5",
    "TestResult",
    "adjust_pvalues",
    "base_flag",
    "ces",
    "change",
    "crosstab",
    "crosstab_overall",
    "crosstab_tests",
    "csat",
    "design_ols",
    "item_summary",
    "nps",
    "nps_sample_size",
    "nps_test",
    "overlap_test",
    "rao_scott_test",
    "nps_from_counts", "nps_from_sums", "scores_from_counts",
    "share_from_sums",
    "two_proportion_test",
    "weighted_mean",
    "weighted_proportion",
    "welch_test",
    "wilson_interval",
]
