"""A cxlab project folder: create one (``cxlab init``), find it, find its report templates.

Everything a new project starts from ships inside the package and is read with
:mod:`importlib.resources`, so ``cxlab init`` works from an installed wheel, without the
source tree:

- ``cxlab/project_template/``: the starter ``params/*.yaml``, the Makefile, the README and the
  ``.gitignore`` of a new project;
- ``cxlab/notebooks/templates/``: the report templates (``company_report.ipynb``,
  ``branch_report.ipynb``), the one canonical copy. The report runner uses a project's own
  ``notebooks/templates/<name>`` when it exists, else this one;
- ``cxlab/notebooks/exploratory/``: the exploratory notebooks a project gets a copy of.

Examples
--------
>>> from cxlab.project import package_dir
>>> sorted(p.name for p in package_dir("notebooks/templates").glob("*.ipynb"))
['branch_report.ipynb', 'company_report.ipynb', 'region_report.ipynb']
"""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from cxlab.errors import CxlabError

__all__ = [
    "InitResult", "PROJECT_MARKER", "REPORT_TEMPLATES", "add_project_option", "enter_project",
    "find_project", "init_project", "is_starter_file", "package_dir", "report_template",
]

#: the file whose presence makes a folder a cxlab project
PROJECT_MARKER = Path("params") / "codebook.yaml"
#: the report templates every project renders (company report, branch report)
REPORT_TEMPLATES = ("company_report.ipynb", "branch_report.ipynb")
#: package folder of the project skeleton (params, Makefile, README, gitignore)
SKELETON = "project_template"
#: files of the skeleton renamed on copy (a leading dot would hide them from package data)
_RENAMED = {"gitignore": ".gitignore"}


def package_dir(relative: str) -> Path:
    """A folder shipped inside the cxlab package (e.g. ``"notebooks/templates"``), as a path.

    Found with :func:`importlib.resources.files`, so it is the installed package's copy.

    Raises
    ------
    CxlabError
        When the installed package lacks the folder (a broken installation).
    """
    res = files("cxlab").joinpath(*relative.split("/"))
    if not isinstance(res, Path):  # pragma: no cover - zip imports are not supported
        raise CxlabError(f"cxlab is installed as a zip archive; {relative} cannot be read as "
                         "files (install cxlab as a regular package)")
    if not res.is_dir():
        raise CxlabError(f"{res}: missing from the installed cxlab package "
                         "(reinstall cxlab: pip install --force-reinstall cxlab)")
    return res


def report_template(name: str, project: str | Path | None = None) -> Path:
    """The report template ``name`` a project renders: its own ``notebooks/templates/<name>``
    when present, else the package's copy.

    Parameters
    ----------
    name : file name, e.g. ``"company_report.ipynb"``.
    project : the project root (default: the working directory).
    """
    own = Path(project or ".") / "notebooks" / "templates" / name
    if own.is_file():
        return own
    shipped = package_dir("notebooks/templates") / name
    if not shipped.is_file():
        raise CxlabError(f"report template {name!r} not found in {own.parent} nor in the cxlab "
                         "package")
    return shipped


def find_project(start: str | Path | None = None) -> Path:
    """The project root at or above ``start`` (default: the working directory).

    Raises
    ------
    CxlabError
        One line naming the folder: not a cxlab project, and how to create one.
    """
    from cxlab.config import project_root
    from cxlab.errors import ParamsError

    where = Path(start) if start is not None else Path.cwd()
    if start is not None and not where.is_dir():
        raise CxlabError(f"{where}: no such folder (create a project with `cxlab init {where}`)")
    try:
        return project_root(where)
    except ParamsError:
        raise CxlabError(f"{where}: not a cxlab project (no {PROJECT_MARKER.as_posix()}); "
                         f"create one with `cxlab init {where if start is not None else 'DIR'}`"
                         ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class InitResult:
    """What :func:`init_project` wrote."""

    root: Path                  # the project folder
    files: tuple[str, ...]      # files written, relative to ``root``

    def summary(self) -> str:
        return (f"created cxlab project {self.root} ({len(self.files)} files)\n"
                f"next: cd {self.root} && cxlab draft EXPORT.xlsx && cxlab ingest EXPORT.xlsx "
                "&& cxlab reports   (see README.md)")

    def __str__(self) -> str:
        return self.summary()


def _copy_tree(src: Path, dest: Path, root: Path, written: list[str], *, force: bool) -> None:
    for path in sorted(src.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        rel = path.relative_to(src)
        rel = rel.with_name(_RENAMED.get(rel.name, rel.name))
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and not force:  # pragma: no cover - init checks emptiness first
            raise CxlabError(f"{target}: exists (use --force to overwrite)")
        shutil.copyfile(path, target)
        written.append(target.relative_to(root).as_posix())


def init_project(dest: str | Path, *, force: bool = False) -> InitResult:
    """Create a cxlab project folder for a CX team at ``dest``.

    Writes ``params/`` (a commented starter set that validates), ``data/raw/`` (empty),
    ``notebooks/templates/`` and ``notebooks/exploratory/`` (copies the team may edit), a
    Makefile, a README (Chinese and English) and a ``.gitignore``. Writes no data.

    Parameters
    ----------
    dest : the folder to create; it may exist if it is empty.
    force : write into a non-empty folder, overwriting the files of the same name (other files
        are left alone).

    Raises
    ------
    CxlabError
        ``dest`` is a file, or a non-empty folder without ``force``.
    """
    root = Path(dest)
    if root.exists() and not root.is_dir():
        raise CxlabError(f"{root}: exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise CxlabError(f"{root}: folder is not empty (use --force to write the project "
                         "files into it anyway)")
    root.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    _copy_tree(package_dir(SKELETON), root, root, written, force=force)
    for sub in ("templates", "exploratory"):
        _copy_tree(package_dir(f"notebooks/{sub}"), root / "notebooks" / sub, root, written,
                   force=force)
    (root / "data" / "raw").mkdir(parents=True, exist_ok=True)  # the exports go here
    return InitResult(root=root, files=tuple(written))


def is_starter_file(path: str | Path) -> bool:
    """Whether ``path`` (e.g. ``params/codebook.yaml``) is still the starter file ``cxlab init``
    wrote: byte for byte the package's copy. A command that drafts parameter files may replace
    such a file without ``--force``; an edited one is the team's work.
    """
    path = Path(path)
    shipped = package_dir(SKELETON) / path.parent.name / path.name
    try:
        return (path.parent.name == "params" and shipped.is_file()
                and path.read_bytes() == shipped.read_bytes())
    except OSError:
        return False


# --------------------------------------------------------------------------- the command line
def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse has no public accessor for its subcommands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def add_project_option(parser: argparse.ArgumentParser) -> None:
    """Accept ``--project DIR`` after every subcommand too (``cxlab ingest --project DIR …``),
    unless the subcommand defines its own. Given there, it overrides the global option."""
    for sub in _subparsers(parser).values():
        if (sub.get_default("project_mode") != "none"
                and "--project" not in sub._option_string_actions):
            sub.add_argument("--project", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                             help="the cxlab project to work in (default: the one the working "
                                  "directory is in)")


def enter_project(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Path | None:
    """Find the project a command works in and make it the working directory.

    The project is ``args.project`` (``--project DIR``) or the one the working directory is in
    (looking upward for ``params/codebook.yaml``). Paths the user gave on the command line are
    made absolute first, so they keep meaning what they meant where the command was typed;
    defaults such as ``data/warehouse`` then refer to the project. ``args.project`` is set to
    the project root.

    A subcommand's ``project_mode`` default says whether it needs a project: ``"required"``
    (the default: a missing project is a one-line error), ``"optional"`` (used when found) or
    ``"none"`` (``cxlab init``).

    Returns
    -------
    Path or None
        The project root, or None when the command runs without one.
    """
    mode = getattr(args, "project_mode", "required")
    if mode == "none":
        return None
    sub = _subparsers(parser).get(getattr(args, "command", None) or "")
    given = getattr(args, "project", None)
    if sub is not None and given is not None and given == sub.get_default("project"):
        given = None  # a subcommand's own --project left at its default (e.g. ".")
    try:
        root = find_project(given)
    except CxlabError:
        if mode == "optional" and given is None:
            return None
        raise
    here = Path.cwd()
    if root != here.resolve():
        for dest, value in vars(args).items():
            if dest == "project":
                continue
            default = sub.get_default(dest) if sub is not None else None
            if isinstance(value, Path) and value != default and not value.is_absolute():
                setattr(args, dest, here / value)
            elif (isinstance(value, list) and value and all(isinstance(v, Path) for v in value)
                  and value != default):
                setattr(args, dest, [v if v.is_absolute() else here / v for v in value])
        os.chdir(root)
    args.project = root
    return root
