"""Survey weights: raking (iterative proportional fitting), post-stratification and trimming.

Each weighting function takes the DataFrame first and returns a frozen
:class:`WeightingResult` carrying the weights (aligned to the data) and the diagnostics a
report states beside a weighted figure: Kish design effect, effective n, weighting efficiency,
iterations, convergence and the margin check table.
"""

from cxlab.weighting._plan import WeightingPlan, load_weighting, weights_by_period
from cxlab.weighting._rake import poststratify, rake, trim
from cxlab.weighting._result import WeightingResult, design_effect, kish_n_eff

__all__ = [
    "WeightingPlan", "WeightingResult", "design_effect", "kish_n_eff", "load_weighting", "poststratify",
    "rake", "trim", "weights_by_period",
]
