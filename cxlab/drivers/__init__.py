"""cxlab.drivers: key-driver regression, relative importance (LMG/Shapley, Johnson, ...),
dominance analysis and bootstrap intervals.

Everything is computed from the (weighted) correlation matrix of the complete rows; exact
LMG and dominance enumerate all 2^p driver subsets (p <= ``MAX_EXACT_DRIVERS``).
"""

from cxlab.drivers._common import CorrelationMatrix, from_correlation
from cxlab.drivers._dominance import DominanceResult, dominance
from cxlab.drivers._importance import METHODS, ImportanceResult, relative_importance
from cxlab.drivers._keydrivers import DEFAULT_SEED, KeyDriverResult, key_drivers
from cxlab.drivers._subsets import MAX_EXACT_DRIVERS

__all__ = [
    "DEFAULT_SEED",
    "MAX_EXACT_DRIVERS",
    "METHODS",
    "CorrelationMatrix",
    "DominanceResult",
    "ImportanceResult",
    "KeyDriverResult",
    "dominance",
    "from_correlation",
    "key_drivers",
    "relative_importance",
]
