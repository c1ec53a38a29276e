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
    Owner,
    Region,
    Robot,
    Roles,
    Scale,
    Targets,
    Unit,
)

__all__ = [
    "Branch", "Codebook", "Item", "KanoPair", "Kpi", "Org", "Owner", "Region", "Robot", "Roles", "Scale", "Strict",
    "Targets", "Unit", "load_codebook", "load_org", "load_params", "load_targets", "params_from_dict",
    "project_root", "use_project_root",
]


def project_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) that holds
    ``params/codebook.yaml``: the project root that relative paths such as ``data/warehouse``
    refer to.

    Raises
    ------
    ParamsError
        When no such folder exists above ``start``.
    """
    from cxlab.errors import ParamsError

    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params" / "codebook.yaml").is_file():
            return folder
    raise ParamsError(f"{here}: no params/codebook.yaml here or above; start from a cxlab project")


def use_project_root(start: str | Path | None = None) -> Path:
    """Change the working directory to :func:`project_root` and return it.

    JupyterLab starts a notebook's kernel in the notebook's own folder; notebooks call this
    first so that ``data/…`` and ``params/…`` resolve as they do for make and the CLI.
    """
    import os

    root = project_root(start)
    os.chdir(root)
    return root


def load_codebook(path: str | Path = "params/codebook.yaml") -> Codebook:
    """Load and validate the codebook."""
    return load_params(path, Codebook)


def load_org(path: str | Path = "params/org.yaml") -> Org:
    """Load and validate the organisation (regions and branches)."""
    return load_params(path, Org)


def load_targets(path: str | Path = "params/targets.yaml") -> Targets:
    """Load and validate the KPI targets."""
    return load_params(path, Targets)
