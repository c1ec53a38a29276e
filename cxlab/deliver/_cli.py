"""``cxlab tables`` and ``cxlab deck``: the subcommands, kept apart from cxlab/cli.py."""

from __future__ import annotations

import argparse
from pathlib import Path

from cxlab.errors import CxlabError

__all__ = ["add_parsers", "scope_code"]


def scope_code(org, given: str, option: str = "--branch") -> str:
    """The code of a branch or region given by code or name (any letter case)."""
    from cxlab.report._runner import region_scopes

    given = given.strip()
    code = org.name_to_code().get(given)
    if code is not None:
        return code
    regions = region_scopes(org)
    for r in regions:
        if given.upper() == r.upper() or given == org.name_of(r):
            return r
    raise CxlabError(f"{option} {given!r}: unknown branch or region "
                     f"(known: ALL, {', '.join([*regions, *org.branch_codes])})")


def _scope(args: argparse.Namespace) -> tuple[str | None, bool]:
    branch = None if args.branch in (None, "", "ALL") else args.branch.strip()
    if branch is not None:
        from cxlab.config import load_org

        branch = scope_code(load_org(Path(args.params) / "org.yaml"), branch)
    return branch, bool(args.all)


def _run(args: argparse.Namespace, kind: str) -> int:
    from cxlab.deliver._run import write_deliverables

    branch, every = _scope(args)
    if branch is not None:
        branches = [branch]
    elif every:
        branches = None  # the company, every region and every branch
    else:
        branches = ["ALL"]
    summary = write_deliverables(
        periods=[args.period] if args.period else None, branches=branches,
        warehouse=args.warehouse, params_dir=args.params, output_dir=args.out, kinds=(kind,),
        force=args.force, jobs=args.jobs, adjust=getattr(args, "adjust", "fdr_bh"))
    suffix = "tables.xlsx" if kind == "tables" else "deck.pptx"
    for key in summary.written:
        period, stem, _ = key.split("/")
        print(f"wrote {args.out / period / f'{stem}-{suffix}'}")
    print(summary.summary())
    return 1 if summary.failed else 0


def _cmd_tables(args: argparse.Namespace) -> int:
    return _run(args, "tables")


def _cmd_deck(args: argparse.Namespace) -> int:
    return _run(args, "deck")


def _common(s: argparse.ArgumentParser) -> None:
    s.add_argument("--period", default=None,
                   help="reporting period, e.g. 2026Q3 (default: every period)")
    s.add_argument("--branch", default=None,
                   help="branch or region code or name, e.g. SH01 or EAST "
                        "(default or ALL: the company)")
    s.add_argument("--all", action="store_true",
                   help="the company, every region and every branch")
    s.add_argument("--warehouse", type=Path, default=Path("data/warehouse"))
    s.add_argument("--params", type=Path, default=Path("params"))
    s.add_argument("--out", type=Path, default=Path("reports"),
                   help="output root; files go to OUT/<period>/")
    s.add_argument("--force", action="store_true",
                   help="rebuild even if nothing changed (default: only changed scopes)")
    s.add_argument("--jobs", type=int, default=None, help="parallel scopes (default: cores)")


def add_parsers(sub) -> None:
    """Add ``tables`` and ``deck`` to the ``cxlab`` subcommands."""
    s = sub.add_parser("tables", help="write the Excel tab book(s) of a period (banner tables)")
    _common(s)
    s.add_argument("--adjust", choices=("fdr_bh", "holm", "none"), default="fdr_bh",
                   help="multiplicity control of the significance letters (default fdr_bh)")
    s.set_defaults(func=_cmd_tables)
    s = sub.add_parser("deck", help="write the PowerPoint deck(s) of a period")
    _common(s)
    s.set_defaults(func=_cmd_deck)
