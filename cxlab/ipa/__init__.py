"""Importance–performance analysis: stated or derived importance, crosshairs, quadrants,
priorities and the 主要问题/次要问题 classification.

>>> from cxlab.ipa import analyze
"""

from cxlab.ipa._analyze import CROSSHAIRS, IMPORTANCE_METHODS, PROBLEMS, QUADRANTS, analyze

__all__ = ["CROSSHAIRS", "IMPORTANCE_METHODS", "PROBLEMS", "QUADRANTS", "analyze"]
