"""Validated parameter files (``params/*.yaml``).

Every loader takes the path explicitly (paths live in ``params/`` and the Makefile, not in library
code); the defaults are relative to the working directory, which is the project root for make,
the CLI and the report runner.

Examples
--------
>>> from cxlab.config import params_from_dict, Targets
>>> t = params_from_dict({"version": 1, "kpis": [{"id": "nps", "label": "NPS", "unit": "分",
...                       "op": ">=", "target": 40}]}, Targets)
>>> t.kpi("nps").met(42.0)
True
"""

from __future__ import annotations

from pathlib import Path

from cxlab.config._base import Strict, load_params, params_from_dict
from cxlab.config._models import (
    Branch,
    Codebook,
    Item,
    KanoPair,
    Kpi,
    Org,
    Region,
    Scale,
    Targets,
)

__all__ = [
    "Branch", "Codebook", "Item", "KanoPair", "Kpi", "Org", "Region", "Scale", "Strict",
    "Targets", "load_codebook", "load_org", "load_params", "load_targets", "params_from_dict",
]


def load_codebook(path: str | Path = "params/codebook.yaml") -> Codebook:
    """Load and validate the codebook."""
    return load_params(path, Codebook)


def load_org(path: str | Path = "params/org.yaml") -> Org:
    """Load and validate the organisation (regions and branches)."""
    return load_params(path, Org)


def load_targets(path: str | Path = "params/targets.yaml") -> Targets:
    """Load and validate the KPI targets."""
    return load_params(path, Targets)
